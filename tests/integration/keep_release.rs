//! Issue 10's proof that netfence keeps the release working, judged by IBM NCA (never by
//! netfence's own analysis): every chart of `../shared/corpus/charts` goes through `netfence
//! render` with the default configuration, in its namespace from the corpus' MANIFEST.md, and NCA
//! computes the workload-to-workload connections before and after.
//!
//! Definitions (workloads as NCA names them, `ns/name[Kind]`; pairs of two different workloads
//! of the release; a connection is a pair with its protocols and ports):
//! - **chart-admitted (S0)**: what the chart's own policies explicitly admit. A pair's
//!   connections allowed on the input when the receiver is ingress-isolated by a chart policy,
//!   plus those allowed when the sender is egress-isolated by a chart policy, counting only
//!   egress rules whose peers select the receiver by pod/namespace selector (NCA is run on the
//!   input with every other egress peer and rule removed: a rule to anywhere or to an ipBlock
//!   does not keep every receiver's ingress open, issue 10 item 1).
//! - **inferred**: what `netfence infer -o json` lists between the release's workloads (the
//!   connections its manifests declare).
//! - **after**: the connections NCA allows on netfence's output.
//!
//! Asserted on every chart: S0 ⊆ after (nothing the chart's policies admit is cut), inferred ⊆
//! after where the input allowed it (a connection the chart's own policies block stays blocked:
//! netfence does not override a chart, it reports it), and after ⊆ S0 ∪ inferred (the default
//! configuration opens nothing else between the release's workloads; what one workload may do
//! is counted for the workloads of its namespace with the same pod labels too, since no policy
//! can tell their pods apart),
//! for the pairs of workloads a policy can select on their own (see [`Workload::selectable`]:
//! pods without labels, and pods on the node's network, which policies do not apply to).
//!
//! With `NETFENCE_KEEP_TABLE=FILE` the test also writes the per-chart table of connections cut
//! (`bench/corpus-cuts.sh` sets it), and with `NETFENCE_BEFORE_BIN=PATH` adds the columns of an
//! older netfence binary run the same way (`PATH -n NAMESPACE`, manifests on stdin).

use crate::util::{self, nca_conns, selector_matches};
use netfence::analysis::ports::ConnSet;
use netfence::config::Config;
use netfence::run::RenderOptions;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Connections by (sender, receiver).
type Conns = BTreeMap<(String, String), ConnSet>;

/// One rendered chart of the corpus.
struct Chart {
    /// File stem, e.g. `argo-cd-ha-np`.
    name: String,
    file: PathBuf,
    /// The namespace it was rendered for (`helm template --namespace`).
    namespace: String,
}

/// The charts of the corpus with their namespaces, from MANIFEST.md's summary table
/// (`| \`file.yaml\` | chart@version | namespace | …`), minus the stress file of all of them.
fn charts() -> Vec<Chart> {
    let dir = util::shared_dir().join("corpus/charts");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.md"))
        .unwrap_or_else(|e| panic!("{}: {e} (the shared corpus is expected next to the repository)", dir.display()));
    let mut charts: Vec<Chart> = manifest
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let file = cells.get(1)?.strip_prefix('`')?.strip_suffix(".yaml`")?;
            (file != "stress-concat").then(|| Chart {
                name: file.to_string(),
                file: dir.join(format!("{file}.yaml")),
                namespace: cells[3].to_string(),
            })
        })
        .collect();
    charts.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(charts.len() >= 30, "expected the chart corpus' table in MANIFEST.md, found {} charts", charts.len());
    charts
}

/// Kinds that carry pods, and how NCA names them.
const WORKLOAD_KINDS: &[&str] =
    &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "Pod"];

/// A workload of the release: NCA's name for it, its namespace and pod labels.
struct Workload {
    id: String,
    namespace: String,
    labels: BTreeMap<String, String>,
    /// Whether a policy can be about its pods alone: they have labels, and do not use the
    /// node's network (NetworkPolicies do not apply to such pods, though NCA treats them as
    /// any pod). Pairs with an end that is not are left out of the assertions (netfence cannot
    /// give such pods rules of their own; the lint reports what they lose), not of the table.
    selectable: bool,
    /// Container ports: (name, number, protocol), to read named ports of `netfence infer`.
    ports: Vec<(String, i64, String)>,
}

/// What NCA needs of a render, parsed: workloads, NetworkPolicies and Namespaces (Lists
/// flattened, the default namespace written into namespaced objects that lack one, so NCA
/// places them where Kubernetes would). Services, CRDs and the rest play no part in NCA's
/// connectivity and are left out.
fn nca_docs(bytes: &[u8], namespace: &str) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).expect("UTF-8 manifests");
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("not a YAML stream: {e}"));
    let mut out = Vec::new();
    let mut push = |doc: Value| {
        let mut doc = operator_statefulset(&doc).unwrap_or(doc);
        let kind = doc["kind"].as_str().unwrap_or_default();
        let keep = kind == "Namespace" || kind == "NetworkPolicy" || WORKLOAD_KINDS.contains(&kind);
        if !keep {
            return;
        }
        if kind != "Namespace" && doc["metadata"]["namespace"].as_str().is_none_or(str::is_empty) {
            doc["metadata"]["namespace"] = Value::from(namespace);
        }
        // NCA 2.1 rejects `policyTypes: [Egress, Ingress]` ("policyTypes has invalid value"):
        // the same types in its order.
        if let Some(types) = doc["spec"]["policyTypes"].as_array_mut() {
            types.sort_by_key(|t| t != "Ingress");
        }
        out.push(doc);
    };
    for doc in docs.into_iter().filter(|d| d.is_object()) {
        match doc["items"].as_array() {
            Some(items) if doc["kind"] == "List" => items.iter().cloned().for_each(&mut push),
            _ => push(doc),
        }
    }
    out
}

/// The StatefulSet the prometheus-operator makes of a `Prometheus` or `Alertmanager` resource
/// (the judge's own reading of the operator's `statefulset.go`, independent of netfence's): its
/// pods are the release's too, though the render holds only the resource.
pub(crate) fn operator_statefulset(doc: &Value) -> Option<Value> {
    let kind = doc["kind"].as_str()?;
    if !doc["apiVersion"].as_str()?.starts_with("monitoring.coreos.com/") {
        return None;
    }
    let name = doc["metadata"]["name"].as_str()?;
    let spec = &doc["spec"];
    let port_name = spec["portName"].as_str().unwrap_or("web");
    let (app, mut ports) = match kind {
        "Prometheus" => ("prometheus", vec![json!({"name": port_name, "containerPort": 9090})]),
        "Alertmanager" => (
            "alertmanager",
            vec![
                json!({"name": port_name, "containerPort": 9093}),
                json!({"name": "mesh-tcp", "containerPort": 9094}),
                json!({"name": "mesh-udp", "containerPort": 9094, "protocol": "UDP"}),
            ],
        ),
        _ => return None,
    };
    ports.push(json!({"name": "reloader-web", "containerPort": 8080}));
    let mut labels = spec["podMetadata"]["labels"].as_object().cloned().unwrap_or_default();
    for (k, v) in [
        ("app.kubernetes.io/name", app),
        ("app.kubernetes.io/managed-by", "prometheus-operator"),
        ("app.kubernetes.io/instance", name),
        ("app.kubernetes.io/version", spec["version"].as_str().unwrap_or("v0.0.0").trim_start_matches('v')),
        (app, name),
    ] {
        labels.insert(k.into(), v.into());
    }
    if kind == "Prometheus" {
        labels.insert("operator.prometheus.io/name".into(), name.into());
        labels.insert("operator.prometheus.io/shard".into(), "0".into());
    }
    Some(json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": format!("{app}-{name}"), "namespace": doc["metadata"]["namespace"]},
        "spec": {
            "replicas": spec["replicas"].as_i64().unwrap_or(1),
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": app, "ports": ports}]}},
        },
    }))
}

fn pod_labels(doc: &Value) -> BTreeMap<String, String> {
    let labels = match doc["kind"].as_str() {
        Some("Pod") => &doc["metadata"]["labels"],
        Some("CronJob") => &doc["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"],
        _ => &doc["spec"]["template"]["metadata"]["labels"],
    };
    labels.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().into())).collect()
}

fn workloads(docs: &[Value]) -> Vec<Workload> {
    docs.iter()
        .filter(|d| WORKLOAD_KINDS.contains(&d["kind"].as_str().unwrap_or_default()))
        .map(|d| {
            let namespace = d["metadata"]["namespace"].as_str().unwrap().to_string();
            let id =
                format!("{namespace}/{}[{}]", d["metadata"]["name"].as_str().unwrap(), d["kind"].as_str().unwrap());
            let labels = pod_labels(d);
            let spec = match d["kind"].as_str() {
                Some("Pod") => &d["spec"],
                Some("CronJob") => &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                _ => &d["spec"]["template"]["spec"],
            };
            let ports = ["containers", "initContainers"]
                .iter()
                .flat_map(|list| spec[*list].as_array().into_iter().flatten())
                .flat_map(|c| c["ports"].as_array().into_iter().flatten())
                .map(|p| {
                    let name = p["name"].as_str().unwrap_or_default().to_string();
                    (
                        name,
                        p["containerPort"].as_i64().unwrap_or(0),
                        p["protocol"].as_str().unwrap_or("TCP").to_string(),
                    )
                })
                .collect();
            let selectable = !labels.is_empty() && spec["hostNetwork"] != true;
            Workload { id, namespace, selectable, labels, ports }
        })
        .collect()
}

fn is_chart_policy(doc: &Value) -> bool {
    doc["kind"] == "NetworkPolicy" && !util::is_generated(doc)
}

/// The policy types a NetworkPolicy has, by the API server's defaulting.
fn policy_types(policy: &Value) -> (bool, bool) {
    match policy["spec"]["policyTypes"].as_array() {
        Some(types) if !types.is_empty() => (types.iter().any(|t| t == "Ingress"), types.iter().any(|t| t == "Egress")),
        _ => (true, policy["spec"].get("egress").is_some_and(|e| !e.is_null())),
    }
}

/// Which workloads the chart's own policies isolate, per direction (ids).
fn chart_isolated(docs: &[Value], workloads: &[Workload]) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut ingress, mut egress) = (BTreeSet::new(), BTreeSet::new());
    for p in docs.iter().filter(|d| is_chart_policy(d)) {
        let (ing, eg) = policy_types(p);
        for w in workloads.iter().filter(|w| p["metadata"]["namespace"] == w.namespace.as_str()) {
            let labels: BTreeMap<&str, &str> = w.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            if selector_matches(&p["spec"]["podSelector"], &labels) {
                if ing {
                    ingress.insert(w.id.clone());
                }
                if eg {
                    egress.insert(w.id.clone());
                }
            }
        }
    }
    (ingress, egress)
}

/// The input with the chart policies' egress reduced to peers that select pods by pod or
/// namespace selector: rules without `to` and ipBlock peers go (a policy left without egress
/// rules still isolates egress).
fn selector_egress_only(docs: &[Value]) -> Vec<Value> {
    docs.iter()
        .cloned()
        .map(|mut d| {
            if is_chart_policy(&d) {
                if let Some(rules) = d["spec"]["egress"].as_array_mut() {
                    for rule in rules.iter_mut() {
                        if let Some(peers) = rule["to"].as_array_mut() {
                            peers.retain(|p| p.get("ipBlock").is_none_or(Value::is_null));
                        }
                    }
                    rules.retain(|r| r["to"].as_array().is_some_and(|p| !p.is_empty()));
                }
            }
            d
        })
        .collect()
}

/// NCA's connections between the release's workloads on `docs` (beside the cluster's DNS pods,
/// so that NCA invents nothing). Panics if NCA names a pod of the release's namespaces that is
/// not one of its workloads: the test would otherwise judge nothing.
fn nca(nca: &Path, docs: &[Value], workloads: &[Workload], label: &str) -> Conns {
    let dir = util::scratch_dir(&format!("keep-release-{label}"));
    let stream: Vec<String> = docs.iter().map(|d| serde_json::to_string(d).unwrap()).collect();
    // Not "chart.yaml": NCA takes that for a Helm chart and skips it.
    std::fs::write(dir.join("manifests.yaml"), stream.join("\n---\n")).unwrap();
    std::fs::copy(util::kube_system_fixture(), dir.join("kube-system.yaml")).unwrap();
    let text = util::nca_connectivity(nca, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let ids: BTreeSet<&str> = workloads.iter().map(|w| w.id.as_str()).collect();
    let namespaces: BTreeSet<&str> = workloads.iter().map(|w| w.namespace.as_str()).collect();
    let mut conns = Conns::new();
    for line in text.lines().filter(|l| l.contains(" => ") && !l.starts_with("Warning")) {
        let (peers, conn) =
            line.split_once(" : ").unwrap_or_else(|| panic!("{label}: not a connection line: {line:?}"));
        let (src, dst) = peers.split_once(" => ").unwrap();
        for end in [src, dst] {
            let ns = end.split('/').next().unwrap();
            assert!(
                !namespaces.contains(ns) || ids.contains(end) || !end.contains('['),
                "{label}: NCA names {end}, which is no workload of the release"
            );
        }
        if src != dst && ids.contains(src) && ids.contains(dst) {
            conns.entry((src.to_string(), dst.to_string())).or_default().union_with(&nca_conns(conn));
        }
    }
    conns
}

/// The workload-to-workload connections `netfence infer -n NS -o json` finds in the chart (its
/// `ns/Kind/name` spelled as NCA's `ns/name[Kind]`, named ports read from the receiving
/// workload's containers; sources that are not workloads of the release left out).
fn inferred(input: &[u8], chart: &Chart, wls: &[Workload]) -> Conns {
    let out = util::netfence(&["infer", "-n", &chart.namespace, "-o", "json"], input);
    let text = util::ok(&out, &format!("netfence infer {}", chart.name));
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: infer -o json: {e}", chart.name));
    // The operator's pods are its StatefulSet's (see `operator_statefulset`).
    let nca_name = |name: &str| match name.splitn(3, '/').collect::<Vec<_>>().as_slice() {
        [ns, "Prometheus", n] => Some(format!("{ns}/prometheus-{n}[StatefulSet]")),
        [ns, "Alertmanager", n] => Some(format!("{ns}/alertmanager-{n}[StatefulSet]")),
        [ns, kind, n] => Some(format!("{ns}/{n}[{kind}]")),
        _ => None,
    };
    let mut conns = Conns::new();
    for row in json["connections"].as_array().unwrap_or_else(|| panic!("{}: no connections in {text}", chart.name)) {
        let field = |k: &str| row[k].as_str().unwrap_or_default();
        let (Some(src), Some(dst)) = (nca_name(field("src")), nca_name(field("dst"))) else { continue };
        let Some(receiver) = wls.iter().find(|w| w.id == dst) else { continue };
        if src == dst || !wls.iter().any(|w| w.id == src) {
            continue;
        }
        let protocol = field("protocol");
        let port = match field("port") {
            p if p.chars().all(|c| c.is_ascii_digit() || c == '-') => p.to_string(),
            name => match receiver.ports.iter().find(|(n, _, proto)| n == name && proto == protocol) {
                Some((_, number, _)) => number.to_string(),
                None => continue, // a name the receiver does not declare opens nothing
            },
        };
        let c = ConnSet::parse(&format!("{protocol} {port}")).unwrap_or_else(|e| panic!("{}: {e}: {row}", chart.name));
        conns.entry((src, dst)).or_default().union_with(&c);
    }
    conns
}

/// The judged figures of one chart.
struct Judged {
    name: String,
    workloads: usize,
    /// All connections between the release's workloads on the input.
    before: Conns,
    /// S0.
    admitted: Conns,
    /// What `netfence infer` lists between the release's workloads.
    inferred: Conns,
    after: Conns,
    /// `after` of the older binary, when asked for.
    old_after: Option<Conns>,
    /// Workloads a policy cannot be about alone (see [`Workload::selectable`]).
    unselectable: BTreeSet<String>,
    /// Each workload's twins: the workloads of its namespace with the same pod labels
    /// (itself included), which no policy can tell apart.
    twins: BTreeMap<String, Vec<String>>,
}

/// `conns` with what one workload may do given to its twins, on both ends.
fn twins(conns: &Conns, twins: &BTreeMap<String, Vec<String>>) -> Conns {
    let mut out = Conns::new();
    for ((s, d), c) in conns {
        for s2 in twins.get(s).into_iter().flatten() {
            for d2 in twins.get(d).into_iter().flatten() {
                out.entry((s2.clone(), d2.clone())).or_default().union_with(c);
            }
        }
    }
    out
}

/// The pairs of `want` whose connections `have` does not all allow, with what is missing.
fn missing(want: &Conns, have: &Conns) -> Vec<String> {
    want.iter()
        .filter_map(|(pair, c)| {
            let got = have.get(pair).cloned().unwrap_or_default();
            let lost = c.difference(&got);
            (!lost.is_empty()).then(|| format!("{} => {}: {lost}", pair.0, pair.1))
        })
        .collect()
}

fn judge(nca_bin: &Path, chart: &Chart, old_bin: Option<&Path>, want_before: bool) -> Judged {
    let input = std::fs::read(&chart.file).unwrap();
    let docs = nca_docs(&input, &chart.namespace);
    let wls = workloads(&docs);
    let (ing, eg) = chart_isolated(&docs, &wls);
    let has_policies = docs.iter().any(is_chart_policy);
    let before = if has_policies || want_before {
        nca(nca_bin, &docs, &wls, &format!("{}-before", chart.name))
    } else {
        Conns::new()
    };
    let mut admitted: Conns =
        before.iter().filter(|((_, d), _)| ing.contains(d)).map(|(k, v)| (k.clone(), v.clone())).collect();
    if !eg.is_empty() {
        let reduced = selector_egress_only(&docs);
        let via_egress =
            if reduced == docs { before.clone() } else { nca(nca_bin, &reduced, &wls, &format!("{}-sel", chart.name)) };
        for (pair, c) in via_egress.into_iter().filter(|((s, _), _)| eg.contains(s)) {
            admitted.entry(pair).or_default().union_with(&c);
        }
    }
    let inferred = inferred(&input, chart, &wls);
    let options =
        RenderOptions { namespace: chart.namespace.as_str().into(), config: Config::default(), release: None };
    let output = util::render_bytes(&input, &options).unwrap_or_else(|e| panic!("{}: render failed: {e}", chart.name));
    let after = nca(nca_bin, &nca_docs(&output, &chart.namespace), &wls, &format!("{}-after", chart.name));
    let old_after = old_bin.map(|bin| {
        let mut cmd = Command::new(bin);
        cmd.args(["-n", &chart.namespace]).env_remove("HELM_NAMESPACE").env_remove("RUST_LOG");
        let out = util::run(&mut cmd, &input);
        let stdout = util::ok(&out, &format!("{} {}", bin.display(), chart.name));
        nca(nca_bin, &nca_docs(stdout.as_bytes(), &chart.namespace), &wls, &format!("{}-old", chart.name))
    });
    let unselectable = wls.iter().filter(|w| !w.selectable).map(|w| w.id.clone()).collect();
    let twins = wls
        .iter()
        .map(|w| {
            let same = wls.iter().filter(|o| o.namespace == w.namespace && o.labels == w.labels);
            (w.id.clone(), same.map(|o| o.id.clone()).collect())
        })
        .collect();
    Judged {
        name: chart.name.clone(),
        workloads: wls.len(),
        before,
        admitted,
        inferred,
        after,
        old_after,
        unselectable,
        twins,
    }
}

/// Runs `judge` over the charts, a few NCA processes at a time (NCA is single-threaded Python).
fn judge_all(nca_bin: &Path, old_bin: Option<&Path>, want_before: bool) -> Vec<Judged> {
    let charts = charts();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(chart) = charts.get(i) else { break };
                let judged = judge(nca_bin, chart, old_bin, want_before);
                results.lock().unwrap().push(judged);
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.name.cmp(&b.name));
    results
}

/// Pairs of `before` that lose some connection in `after`.
fn cut(before: &Conns, after: &Conns) -> usize {
    missing(before, after).len()
}

/// The per-chart table of the note (markdown).
fn table(judged: &[Judged]) -> String {
    let old = judged.iter().any(|j| j.old_after.is_some());
    let mut out = String::from("| chart | workloads | pairs before | chart-admitted |");
    if old {
        out.push_str(" cut (old) | admitted cut (old) | inferred cut (old) |");
    }
    out.push_str(
        " inferred | cut (now) | admitted cut (now) | inferred cut (now) | pairs after |\n|---|---:|---:|---:|",
    );
    out.push_str(if old { "---:|---:|---:|---:|---:|---:|---:|---:|\n" } else { "---:|---:|---:|---:|---:|\n" });
    let mut totals = [0usize; 11];
    for j in judged {
        let mut cells = vec![j.workloads, j.before.len(), j.admitted.len()];
        if let Some(o) = &j.old_after {
            cells.extend([cut(&j.before, o), cut(&j.admitted, o), cut(&j.inferred, o)]);
        }
        cells.extend([
            j.inferred.len(),
            cut(&j.before, &j.after),
            cut(&j.admitted, &j.after),
            cut(&j.inferred, &j.after),
            j.after.len(),
        ]);
        let _ = write!(out, "| {} |", j.name);
        for (i, c) in cells.iter().enumerate() {
            totals[i] += c;
            let _ = write!(out, " {c} |");
        }
        out.push('\n');
    }
    let n = if old { 11 } else { 8 };
    let _ = writeln!(out, "| **total** |{}", totals[..n].iter().map(|t| format!(" **{t}** |")).collect::<String>());
    out
}

/// The proof: on every corpus chart, what the chart's policies admit survives netfence, and
/// nothing else between the release's workloads is open afterwards.
#[test]
fn render_keeps_what_chart_policies_admit() {
    let Some(nca_bin) = util::tool("nca") else { return };
    let table_file = std::env::var_os("NETFENCE_KEEP_TABLE").map(PathBuf::from);
    let old_bin = std::env::var_os("NETFENCE_BEFORE_BIN").map(PathBuf::from);
    let judged = judge_all(&nca_bin, old_bin.as_deref(), table_file.is_some());
    if let Some(file) = &table_file {
        std::fs::write(file, table(&judged)).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    let admitted: usize = judged.iter().map(|j| j.admitted.len()).sum();
    assert!(admitted > 100, "only {admitted} chart-admitted connections in the corpus: the judge sees nothing");
    let mut problems = Vec::new();
    for j in &judged {
        let selectable = |c: &Conns| -> Conns {
            let ok = |id: &String| !j.unselectable.contains(id);
            c.iter().filter(|((s, d), _)| ok(s) && ok(d)).map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        let (admitted, after) = (selectable(&j.admitted), selectable(&j.after));
        // What infer lists and the input allowed: a connection the chart's own policies block
        // stays blocked (netfence does not override the chart; the lint reports it).
        let inferred: Conns = selectable(&j.inferred)
            .into_iter()
            // (Without chart policies the input allows everything: `before` is not computed then.)
            .filter_map(|(pair, c)| match j.before.is_empty() {
                true => Some((pair, c)),
                false => Some((pair.clone(), c.intersection(j.before.get(&pair)?))),
            })
            .collect();
        for m in missing(&admitted, &after) {
            problems.push(format!("{}: cut what the chart admits: {m}", j.name));
        }
        for m in missing(&inferred, &after) {
            problems.push(format!("{}: cut what netfence infer lists: {m}", j.name));
        }
        let mut expected = admitted.clone();
        for (pair, c) in inferred {
            expected.entry(pair).or_default().union_with(&c);
        }
        for m in missing(&after, &twins(&expected, &j.twins)) {
            problems.push(format!("{}: opened what neither the chart admits nor infer lists: {m}", j.name));
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// The judge's own parts on a small input: isolation, S0 through ingress and through egress
/// selectors (not through a rule to anywhere), and what a missing connection looks like.
#[test]
fn judge_reads_chart_policies() {
    let input = br#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db}
spec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c}]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: test, annotations: {helm.sh/hook: test}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: web}
  spec:
    podSelector: {matchLabels: {app: web}}
    egress: [{}, {to: [{ipBlock: {cidr: 10.0.0.0/8}}, {podSelector: {matchLabels: {app: db}}}], ports: [{port: 5432}]}]
- {apiVersion: v1, kind: Service, metadata: {name: web}}
"#;
    let docs = nca_docs(input, "shop");
    assert_eq!(docs.len(), 4, "workloads and the policy, out of the List; not the Service");
    let wls = workloads(&docs);
    let ids: Vec<(&str, bool)> = wls.iter().map(|w| (w.id.as_str(), w.selectable)).collect();
    assert_eq!(ids, [("shop/web[Deployment]", true), ("shop/db[Deployment]", true), ("shop/test[Pod]", false)]);
    let (ing, eg) = chart_isolated(&docs, &wls);
    assert_eq!((ing.len(), eg.iter().map(String::as_str).collect::<Vec<_>>()), (1, vec!["shop/web[Deployment]"]));
    let reduced = selector_egress_only(&docs);
    assert_eq!(
        reduced[3]["spec"]["egress"],
        serde_json::json!([{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}], "ports": [{"port": 5432}]}])
    );
    let pair = ("a".to_string(), "b".to_string());
    let want = Conns::from([(pair.clone(), ConnSet::parse("TCP 80,443").unwrap())]);
    let have = Conns::from([(pair, ConnSet::parse("TCP 80").unwrap())]);
    assert_eq!(missing(&want, &have), ["a => b: TCP 443"]);
    assert!(missing(&have, &want).is_empty());
    let tw = BTreeMap::from([
        ("a".to_string(), vec!["a".to_string(), "c".to_string()]),
        ("b".to_string(), vec!["b".to_string()]),
    ]);
    let pairs: Vec<(String, String)> = twins(&want, &tw).into_keys().collect();
    assert_eq!(pairs, [("a".to_string(), "b".to_string()), ("c".to_string(), "b".to_string())]);
}

/// Tempo's components find each other through their mounted `tempo.yaml` (issue 10, mounted
/// configuration files): NCA, on netfence's output, lets every member of the memberlist ring
/// (the workloads `tempo-gossip-ring` selects) reach every other on the gossip port, and the
/// components reach the Services the file names; with `infer.mountedFiles: false` the ring of
/// Deployments is cut (what keeps it open is the file).
#[test]
fn mounted_config_files_keep_the_tempo_ring() {
    let Some(nca_bin) = util::tool("nca") else { return };
    let chart = charts().into_iter().find(|c| c.name == "tempo-distributed-kafka").expect("tempo in the corpus");
    let input = std::fs::read(&chart.file).unwrap();
    let wls = workloads(&nca_docs(&input, &chart.namespace));
    let ring: Vec<&Workload> = wls
        .iter()
        .filter(|w| w.labels.get("app.kubernetes.io/part-of").map(String::as_str) == Some("memberlist"))
        .collect();
    assert!(ring.len() >= 6, "tempo's ring members: {:?}", ring.iter().map(|w| &w.id).collect::<Vec<_>>());
    let after_with = |config: Config, label: &str| {
        let options = RenderOptions { namespace: chart.namespace.as_str().into(), config, release: None };
        let output = util::render_bytes(&input, &options).unwrap_or_else(|e| panic!("render: {e}"));
        nca(&nca_bin, &nca_docs(&output, &chart.namespace), &wls, label)
    };
    let allows = |conns: &Conns, from: &str, to: &str, what: &str| {
        let want = ConnSet::parse(what).unwrap();
        let key = (format!("tracing/{from}"), format!("tracing/{to}"));
        conns.get(&key).is_some_and(|c| want.difference(c).is_empty())
    };
    let on = after_with(Config::default(), "tempo-files-on");
    let mut missing = Vec::new();
    for a in &ring {
        for b in ring.iter().filter(|b| b.id != a.id) {
            let key = (a.id.clone(), b.id.clone());
            if !on.get(&key).is_some_and(|c| ConnSet::parse("TCP 7946").unwrap().difference(c).is_empty()) {
                missing.push(format!("{} => {}", a.id, b.id));
            }
        }
    }
    assert!(missing.is_empty(), "ring pairs cut on TCP 7946:\n{}", missing.join("\n"));
    // Addresses of tempo.yaml: the query-frontend's worker address, the backend scheduler, memcached.
    assert!(allows(&on, "tempo-querier[Deployment]", "tempo-query-frontend[Deployment]", "TCP 9095"));
    assert!(allows(&on, "tempo-backend-worker[StatefulSet]", "tempo-backend-scheduler[StatefulSet]", "TCP 9095"));
    assert!(allows(&on, "tempo-querier[Deployment]", "tempo-memcached[StatefulSet]", "TCP 11211"));
    // Nothing the file does not name: memcached does not reach the querier.
    assert!(!allows(&on, "tempo-memcached[StatefulSet]", "tempo-querier[Deployment]", "TCP 7946"));
    let mut config = Config::default();
    config.infer.mounted_files = false;
    let off = after_with(config, "tempo-files-off");
    assert!(!allows(&off, "tempo-distributor[Deployment]", "tempo-live-store[StatefulSet]", "TCP 7946"));
    assert!(!allows(&off, "tempo-querier[Deployment]", "tempo-query-frontend[Deployment]", "TCP 9095"));
}
