//! `defaultDeny.as: baselineAdminNetworkPolicy`: the namespace baseline as one cluster-scoped
//! BaselineAdminNetworkPolicy. Judged by netfence's own analysis (which evaluates the admin
//! tiers and agrees with np-guard on its ANP/BANP scenarios): against the per-namespace
//! NetworkPolicy baseline, the only connections that differ are ingress from outside the
//! cluster, which a BANP cannot deny.

use crate::util::{netfence, ok, scratch_dir, text};
use serde_json::Value;
use std::fs;
use std::path::PathBuf;

const BANP_VALUES: &str = "networkPolicy:\n  defaultDeny:\n    as: baselineAdminNetworkPolicy\n";

fn banp_values() -> PathBuf {
    let dir = scratch_dir("baseline-admin");
    let path = dir.join("banp.yaml");
    fs::write(&path, BANP_VALUES).expect("write values");
    path
}

fn render(extra: &[&str], input: &[u8]) -> String {
    let mut args = vec!["-f", "examples/dashi/values.yaml"];
    args.extend_from_slice(extra);
    ok(&netfence(&args, input), "render")
}

fn kinds(stream: &str) -> Vec<String> {
    stream.lines().filter_map(|l| l.strip_prefix("kind: ")).map(str::to_string).collect()
}

#[test]
fn the_baseline_as_one_banp_differs_only_in_ingress_from_outside_the_cluster() {
    let input = fs::read("examples/dashi/rendered.yaml").expect("the example");
    let banp_file = banp_values();
    let banp = banp_file.to_str().expect("utf-8 path");
    let policies = render(&[], &input);
    let admin = render(&["-f", banp], &input);

    let admin_kinds = kinds(&admin);
    assert_eq!(admin_kinds.iter().filter(|k| *k == "BaselineAdminNetworkPolicy").count(), 1);
    assert!(!admin.contains("name: netfence-default-deny") && !admin.contains("name: netfence-allow-dns"));
    assert!(policies.contains("name: netfence-default-deny"));
    // Everything else netfence generates (matrix edges, API egress) is the same.
    let np_count = |s: &[String]| s.iter().filter(|k| *k == "NetworkPolicy").count();
    assert_eq!(np_count(&kinds(&policies)) - np_count(&admin_kinds), 10, "5 namespaces x (deny + DNS)");

    let dir = scratch_dir("baseline-admin-diff");
    let (before, after) = (dir.join("policies.yaml"), dir.join("admin.yaml"));
    fs::write(&before, &policies).expect("write");
    fs::write(&after, &admin).expect("write");
    let out = netfence(&["diff", before.to_str().unwrap(), after.to_str().unwrap()], b"");
    let diff = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "they differ:\n{diff}");
    let changes: Vec<&str> = diff.lines().filter(|l| l.starts_with(['+', '-', '~'])).collect();
    assert!(!changes.is_empty());
    for line in &changes {
        // `+ <address range> => ns/workload : …`: only sources outside the cluster gain access.
        let source = line[2..].split(" => ").next().unwrap_or_default();
        assert!(
            line.starts_with('+') && source.chars().next().is_some_and(|c| c.is_ascii_hexdigit() || c == ':'),
            "only ingress from outside the cluster may differ: {line}\n{diff}"
        );
        assert!(source.contains('.') || source.contains(':'), "an address range, not a workload: {line}");
    }

    // Idempotent, and the lint of the output finds nothing new.
    let again = render(&["-f", banp], admin.as_bytes());
    assert_eq!(again, admin, "a second run changes nothing");
    let check = netfence(&["-f", "examples/dashi/values.yaml", "-f", banp, "--check"], &input);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}

#[test]
fn an_earlier_runs_banp_is_updated_in_place_and_a_foreign_one_refused() {
    let input = fs::read("examples/dashi/rendered.yaml").expect("the example");
    let banp_file = banp_values();
    let banp = banp_file.to_str().expect("utf-8 path");
    let admin = render(&["-f", banp], &input);

    // Ingress only now: the BANP of the earlier run loses its egress rules, in place.
    let dir = scratch_dir("baseline-admin-update");
    let ingress_only = dir.join("ingress.yaml");
    fs::write(&ingress_only, format!("{BANP_VALUES}    policyTypes: [Ingress]\n")).expect("write");
    let report = dir.join("report.json");
    let args = ["-f", "examples/dashi/values.yaml", "-f", ingress_only.to_str().unwrap()];
    let mut with_report = args.to_vec();
    with_report.extend(["--report", report.to_str().unwrap()]);
    let updated = ok(&netfence(&with_report, admin.as_bytes()), "re-render");
    assert_eq!(kinds(&updated).iter().filter(|k| *k == "BaselineAdminNetworkPolicy").count(), 1);
    let fresh = ok(&netfence(&args, &input), "render ingress-only");
    let banp_doc = |s: &str| {
        s.split("\n---\n").find(|d| d.contains("kind: BaselineAdminNetworkPolicy")).map(str::to_string).expect("a BANP")
    };
    assert_eq!(banp_doc(&updated), banp_doc(&fresh), "updated in place = rendered afresh");
    assert!(!banp_doc(&updated).contains("egress:"));
    let report: Value = serde_json::from_slice(&fs::read(&report).expect("the report")).expect("JSON");
    let entry = report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|e| e["kind"] == "BaselineAdminNetworkPolicy")
        .expect("the BANP is reported");
    assert_eq!(entry["action"], "updated");
    assert!(entry["patch"].as_array().is_some_and(|p| !p.is_empty()));

    // A baseline netfence did not write: refused, nothing on stdout.
    let foreign =
        admin.replace("app.kubernetes.io/managed-by: netfence\nspec:\n  subject", "team: platform\nspec:\n  subject");
    assert_ne!(foreign, admin, "the BANP's label was replaced");
    let out = netfence(&["-f", "examples/dashi/values.yaml", "-f", banp], foreign.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let err = text(&out.stderr);
    assert!(err.contains("BaselineAdminNetworkPolicy/default") && err.contains("did not write"), "{err}");
}

#[test]
fn a_dns_rule_a_banp_cannot_express_is_a_config_error() {
    let dir = scratch_dir("baseline-admin-except");
    let values = dir.join("values.yaml");
    fs::write(&values, "networkPolicy:\n  defaultDeny: {as: baselineAdminNetworkPolicy}\n  dns: {profile: custom, namespace: dns, ports: [{protocol: UDP}]}\n")
        .expect("write");
    let out = netfence(
        &["-n", "app", "-f", values.to_str().unwrap()],
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("defaultDeny.as"), "{}", text(&out.stderr));
}
