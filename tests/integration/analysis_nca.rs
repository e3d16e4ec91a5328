//! Cross-check with IBM network-config-analyzer (NCA 2.1.0, installed by scripts/setup-tools.sh):
//! netfence's workload-level connectivity must equal `nca --connectivity -r DIR -o
//! txt_no_fw_rules` on the same manifests, after normalising the two notations (connection
//! spelling; external address ranges compared as maps from addresses to connections, since NCA
//! merges adjacent ranges that netfence keeps apart). NCA must never report `Found missing
//! elements`: its "livesim" would then have invented pods and hidden broken rules.

use crate::util::{self, nca_conns};
use netfence::analysis::ports::ConnSet;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// Addresses `first..=last` (IPv4) and the connections they have.
type Run = (u32, u32, String);

/// Connectivity in a comparable form: workload pairs, and per (workload, towards-outside?) the
/// external ranges as maximal runs of equal connections.
#[derive(Debug, Default, PartialEq)]
struct Normal {
    pairs: BTreeMap<(String, String), String>,
    external: BTreeMap<(String, bool), Vec<Run>>,
}

/// Per (peer, is-source): the IPv4 ranges NCA printed, with their connections.
type RangesByPeer = BTreeMap<(String, bool), Vec<(u32, u32, ConnSet)>>;
fn ip_range(text: &str) -> Option<(u32, u32)> {
    let text = text.trim_end_matches("[External]");
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    Some((u32::from(a.parse::<Ipv4Addr>().ok()?), u32::from(b.parse::<Ipv4Addr>().ok()?)))
}

/// Reads connection lines; NCA may split one pair's connections over several lines, so lines
/// of the same pair (or overlapping ranges) are united.
fn normalise(lines: &[String], parse_conns: impl Fn(&str) -> ConnSet) -> Normal {
    let mut pairs: BTreeMap<(String, String), ConnSet> = BTreeMap::new();
    let mut ranges: RangesByPeer = BTreeMap::new();
    for line in lines {
        let (peers, conn) = line.split_once(" : ").unwrap_or_else(|| panic!("not a connection line: {line:?}"));
        let (src, dst) = peers.split_once(" => ").unwrap();
        let conns = parse_conns(conn);
        match (ip_range(src), ip_range(dst)) {
            (None, None) => pairs.entry((src.to_string(), dst.to_string())).or_default().union_with(&conns),
            (Some((a, b)), None) => ranges.entry((dst.to_string(), false)).or_default().push((a, b, conns)),
            (None, Some((a, b))) => ranges.entry((src.to_string(), true)).or_default().push((a, b, conns)),
            (Some(_), Some(_)) => panic!("address to address: {line}"),
        }
    }
    let mut n = Normal { pairs: pairs.into_iter().map(|(k, v)| (k, v.to_string())).collect(), ..Normal::default() };
    for (key, list) in ranges {
        // Cut at every range boundary, unite what covers each piece, merge equal neighbours.
        let mut cuts: Vec<u64> = list.iter().flat_map(|(a, b, _)| [u64::from(*a), u64::from(*b) + 1]).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut runs: Vec<Run> = Vec::new();
        for w in cuts.windows(2) {
            let (a, b) = (w[0] as u32, (w[1] - 1) as u32);
            let mut c = ConnSet::none();
            for (x, y, conns) in &list {
                if *x <= a && b <= *y {
                    c.union_with(conns);
                }
            }
            if c.is_empty() {
                continue;
            }
            let c = c.to_string();
            match runs.last_mut() {
                Some(last) if last.2 == c && u64::from(last.1) + 1 == u64::from(a) => last.1 = b,
                _ => runs.push((a, b, c)),
            }
        }
        n.external.insert(key, runs);
    }
    n
}

/// NCA's connection lines; `None` when NCA cannot read the input (it skips YAML using tags
/// PyYAML does not know, such as the `=` value key of some CRDs).
fn nca_lines(nca: &Path, dir: &Path) -> Option<Vec<String>> {
    let text = util::nca_connectivity(nca, dir);
    if text.contains("Skipping templated yaml file") {
        return None;
    }
    Some(text.lines().filter(|l| l.contains(" => ") && !l.starts_with("Warning")).map(str::to_string).collect())
}

fn netfence_lines(dir: &Path) -> Vec<String> {
    let out = util::netfence(&["matrix", "--level", "workload", "-o", "connlist", dir.to_str().unwrap()], b"");
    assert!(out.status.success(), "netfence: {}", util::text(&out.stderr));
    // NCA has no ingress-controller peer.
    util::text(&out.stdout).lines().filter(|l| !l.starts_with('{')).map(str::to_string).collect()
}

/// The differences between netfence's and NCA's connectivity of `input` (a file or directory).
fn differences(nca: &Path, input: &Path, ignored: &[&str]) -> Vec<String> {
    let Some(mut lines) = nca_lines(nca, input) else { return vec!["NCA cannot read the input".into()] };
    lines.retain(|l| !ignored.iter().any(|peer| l.contains(peer)));
    let theirs = normalise(&lines, nca_conns);
    let mut our_lines = netfence_lines(input);
    our_lines.retain(|l| !ignored.iter().any(|peer| l.contains(peer)));
    let ours = normalise(&our_lines, |c| ConnSet::parse(c).unwrap());
    let mut out = Vec::new();
    if ours.pairs.is_empty() && ours.external.is_empty() {
        out.push("netfence found no connection at all".into());
    }
    for (k, v) in &ours.pairs {
        if theirs.pairs.get(k) != Some(v) {
            out.push(format!("{} => {}: netfence {v}, NCA {:?}", k.0, k.1, theirs.pairs.get(k)));
        }
    }
    for (k, v) in theirs.pairs.iter().filter(|(k, _)| !ours.pairs.contains_key(*k)) {
        out.push(format!("{} => {}: NCA {v}, netfence nothing", k.0, k.1));
    }
    let keys: std::collections::BTreeSet<_> = ours.external.keys().chain(theirs.external.keys()).collect();
    for k in keys {
        if ours.external.get(k) != theirs.external.get(k) {
            out.push(format!(
                "{} {} outside: netfence {:?}, NCA {:?}",
                k.0,
                if k.1 { "to" } else { "from" },
                ours.external.get(k),
                theirs.external.get(k)
            ));
        }
    }
    out
}

fn compare(nca: &Path, input: &Path) {
    let d = differences(nca, input, &[]);
    assert!(d.is_empty(), "{}: netfence and NCA differ:\n{}", input.display(), d.join("\n"));
}

#[test]
fn normalisation_reads_both_notations() {
    assert_eq!(nca_conns("{protocols:TCP, UDP,dst_ports:53}").to_string(), "TCP 53,UDP 53");
    assert_eq!(nca_conns("{protocols:TCP,dst_ports:443,6443}").to_string(), "TCP 443,6443");
    assert_eq!(
        nca_conns("{protocols:TCP,dst_ports:80},{protocols:UDP,dst_ports:53-54}").to_string(),
        "TCP 80,UDP 53-54"
    );
    assert!(nca_conns("All connections").is_all());
    let a = normalise(
        &[
            "a => 0.0.0.0-9.255.255.255 : All connections".into(),
            "a => 10.0.0.0-255.255.255.255 : All connections".into(),
        ],
        nca_conns,
    );
    let b =
        normalise(&["a => 0.0.0.0-255.255.255.255[External] : All Connections".into()], |c| ConnSet::parse(c).unwrap());
    assert_eq!(a, b);
    let c = normalise(&["a => 172.18.0.2 : {protocols:TCP,dst_ports:443}".into()], nca_conns);
    assert_eq!(c.external[&("a".to_string(), true)], [(0xAC12_0002, 0xAC12_0002, "TCP 443".to_string())]);
}

#[test]
fn nca_agrees_on_the_shop_fixture() {
    let Some(nca) = util::tool("nca") else { return };
    compare(&nca, &util::analysis_fixture("shop"));
}

/// Known, intended differences: (chart file prefix, peer, why). Lines with the peer are left
/// out of the comparison for those charts.
const KNOWN: &[(&str, &str, &str)] = &[(
    "jupyterhub",
    "default/user-placeholder[StatefulSet]",
    "replicas: 0 - NCA creates no pod for it; netfence (like np-guard) analyses the workload, which an \
     autoscaler may scale up",
)];

/// Every rendered chart of the corpus NCA can read (with and without their own policies),
/// beside the cluster's DNS so that NCA need not invent it.
#[test]
fn nca_agrees_on_corpus_charts() {
    let Some(nca) = util::tool("nca") else { return };
    let charts = util::shared_dir().join("corpus/charts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&charts).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let (mut report, mut compared) = (Vec::new(), 0);
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "yaml")) {
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        let dir = util::scratch_dir(&format!("analysis-nca-chart-{name}"));
        // Not "chart.yaml": NCA takes that for a Helm chart and skips it.
        std::fs::copy(f, dir.join("manifests.yaml")).unwrap();
        std::fs::copy(util::kube_system_fixture(), dir.join("kube-system.yaml")).unwrap();
        if nca_lines(&nca, &dir).is_none() {
            eprintln!("{name}: NCA cannot read it, not compared");
            continue;
        }
        compared += 1;
        let ignored: Vec<&str> = KNOWN.iter().filter(|k| name.starts_with(k.0)).map(|k| k.1).collect();
        let d = differences(&nca, &dir, &ignored);
        if !d.is_empty() {
            report.push(format!("{name}:\n  {}", d.join("\n  ")));
        }
    }
    assert!(compared >= 30, "only {compared} charts compared");
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// Charts of different namespaces in one input, so that policies of one chart meet the pods of
/// the others (namespace selectors, cross-namespace peers, ipBlocks of several charts), as on a
/// real cluster.
#[test]
fn nca_agrees_on_charts_analysed_together() {
    let Some(nca) = util::tool("nca") else { return };
    let charts = util::shared_dir().join("corpus/charts");
    let dir = util::scratch_dir("analysis-nca-charts-together");
    let together = [
        "argo-cd-ha-np",
        "cert-manager-np-crds",
        "grafana-np",
        "ingress-nginx-np",
        "kafka-strictnp",
        "mongodb-replicaset",
        "tempo-distributed-kafka",
        "vault-ha-np",
    ];
    for name in together {
        std::fs::copy(charts.join(format!("{name}.yaml")), dir.join(format!("{name}-manifests.yaml"))).unwrap();
    }
    std::fs::copy(util::kube_system_fixture(), dir.join("kube-system.yaml")).unwrap();
    let d = differences(&nca, &dir, &[]);
    assert!(d.is_empty(), "netfence and NCA differ on {together:?} together:\n{}", d.join("\n"));
}

/// The seed examples as netfence renders them, with the cluster's DNS beside them.
#[test]
fn nca_agrees_on_the_rendered_examples() {
    let Some(nca) = util::tool("nca") else { return };
    let mut compared = 0;
    for name in ["dashi", "matih"] {
        let example = util::repo_root().join("examples").join(name);
        let (Ok(input), true) = (std::fs::read(example.join("rendered.yaml")), example.join("values.yaml").is_file())
        else {
            continue;
        };
        let values = example.join("values.yaml");
        let out = util::netfence(&["-f", values.to_str().unwrap()], &input);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let dir = util::scratch_dir(&format!("analysis-nca-{name}"));
        std::fs::write(dir.join("rendered.yaml"), &out.stdout).unwrap();
        std::fs::copy(util::kube_system_fixture(), dir.join("kube-system.yaml")).unwrap();
        compare(&nca, &dir);
        compared += 1;
    }
    assert!(compared > 0 || !util::in_ci(), "no example to compare");
}
