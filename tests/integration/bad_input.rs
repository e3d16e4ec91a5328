//! Bad input through the real binary, one test per error class: the exit code, nothing at all on
//! stdout, and exactly one line on stderr that names what is wrong and where.

use crate::util::{self, netfence};
use std::process::Output;

/// Writes `content` as `values.yaml` in a fresh scratch directory named after the test; its path.
fn values_file(test: &str, content: &str) -> String {
    let path = util::scratch_dir(&format!("bad-input-{test}")).join("values.yaml");
    std::fs::write(&path, content).expect("write scratch file");
    path.to_string_lossy().into_owned()
}

/// Asserts a clean failure: `code`, empty stdout, one stderr line containing every word of `words`.
#[track_caller]
fn assert_fails(out: &Output, code: i32, words: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "exit code; stderr: {stderr}");
    assert!(out.stdout.is_empty(), "stdout must be empty on error, got {} bytes", out.stdout.len());
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one stderr line expected, got: {stderr:?}");
    for w in words {
        assert!(lines[0].contains(w), "stderr {:?} should contain {w:?}", lines[0]);
    }
    lines[0].to_string()
}

const GOOD_DOC: &str =
    "---\n# Source: app/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n";

#[test]
fn bad_yaml_in_an_untouched_document() {
    // Document 2 is a ConfigMap (never edited by netfence) with a broken indentation on line 14.
    let input = format!(
        "{GOOD_DOC}---\n# Source: app/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  a: 1\n b: 2\n"
    );
    let line = assert_fails(&netfence(&[], input.as_bytes()), 2, &["document 2", "line 17", "YAML"]);
    assert!(line.contains("ConfigMap/settings"), "kind/name known before the error should be named: {line}");
}

#[test]
fn bad_yaml_before_the_kind_is_known() {
    let input = format!("{GOOD_DOC}---\nmetadata: {{name: [unclosed\n");
    assert_fails(&netfence(&[], input.as_bytes()), 2, &["document 2", "line 9", "YAML"]);
}

#[test]
fn a_scalar_document_is_not_an_object() {
    let input = format!("{GOOD_DOC}---\njust some text\n");
    assert_fails(&netfence(&[], input.as_bytes()), 2, &["document 2", "line 9", "not a Kubernetes object"]);
}

#[test]
fn a_sequence_document_is_not_an_object() {
    let input = format!("{GOOD_DOC}---\n# a list where an object belongs\n- a\n- b\n");
    assert_fails(&netfence(&[], input.as_bytes()), 2, &["document 2", "line 10", "not a Kubernetes object"]);
}

#[test]
fn invalid_utf8() {
    let mut input = GOOD_DOC.as_bytes().to_vec();
    input.extend_from_slice(b"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: \xff\xfe\n");
    assert_fails(&netfence(&[], &input), 2, &["document 2", "line 14", "UTF-8"]);
}

#[test]
fn network_policy_with_an_invalid_spec() {
    let input = format!(
        "{GOOD_DOC}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  podSelector: {{}}\n  egress:\n    - ports:\n        - port: {{bad: 1}}\n"
    );
    assert_fails(
        &netfence(&[], input.as_bytes()),
        2,
        &["document 2", "NetworkPolicy/api", "invalid NetworkPolicy", "spec.egress[0].ports[0].port"],
    );
}

#[test]
fn unknown_key_under_network_policy() {
    let values = values_file("unknown-key", "networkPolicy:\n  defaultDeny:\n    exludeNamespaces: [kube-system]\n");
    assert_fails(
        &netfence(&["-f", &values], GOOD_DOC.as_bytes()),
        2,
        &["networkPolicy.defaultDeny", "exludeNamespaces", "unknown field"],
    );
}

#[test]
fn bad_cidr_in_an_egress_rule() {
    let values =
        values_file("cidr", "networkPolicy:\n  egress:\n    - to:\n        - ipBlock:\n            cidr: 10.0.0/8\n");
    assert_fails(
        &netfence(&["-f", &values], GOOD_DOC.as_bytes()),
        2,
        &["networkPolicy.egress[0].to[0].ipBlock.cidr", "invalid CIDR"],
    );
}

#[test]
fn port_out_of_range() {
    let values = values_file("port", "networkPolicy:\n  egress:\n    - ports:\n        - port: 70000\n");
    assert_fails(
        &netfence(&["-f", &values], GOOD_DOC.as_bytes()),
        2,
        &["networkPolicy.egress[0].ports[0].port", "70000"],
    );
}

#[test]
fn unknown_protocol() {
    let values =
        values_file("protocol", "netfence:\n  egress:\n    - ports:\n        - protocol: ICMP\n          port: 1\n");
    assert_fails(
        &netfence(&["-f", &values], GOOD_DOC.as_bytes()),
        2,
        &["netfence.egress[0].ports[0].protocol", "ICMP"],
    );
}

#[test]
fn missing_values_file() {
    let missing = util::scratch_dir("bad-input-missing").join("does-not-exist.yaml");
    let missing = missing.to_string_lossy();
    assert_fails(&netfence(&["render", "-f", &missing], GOOD_DOC.as_bytes()), 3, &["does-not-exist.yaml"]);
}

#[test]
fn values_file_that_is_not_a_mapping() {
    let values = values_file("not-mapping", "- networkPolicy\n- enabled\n");
    assert_fails(&netfence(&["-f", &values], GOOD_DOC.as_bytes()), 2, &["values.yaml", "mapping"]);
}

#[test]
fn values_file_with_bad_yaml() {
    let values = values_file("bad-yaml", "networkPolicy:\n  enabled: true\n egress: []\n");
    assert_fails(&netfence(&["-f", &values], GOOD_DOC.as_bytes()), 2, &["values.yaml"]);
}

/// Every 97th-byte prefix of a real chart: a clean success or a clean input error, never a panic.
#[test]
fn truncated_chart_never_panics() {
    let chart = util::shared_dir().join("corpus/charts/kafka-strictnp.yaml");
    let input = std::fs::read(&chart).unwrap_or_else(|e| panic!("{}: {e}", chart.display()));
    let mut failures = Vec::new();
    for end in (0..=input.len()).step_by(97) {
        let out = netfence(&["-n", "trunc"], &input[..end]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let ok = match out.status.code() {
            // Warnings are fine (the chart's strict policy cuts a connection its manifests
            // declare, broker -> controller:9093); anything else on stderr is not.
            Some(0) => {
                stderr.lines().all(|l| l.starts_with(" WARN a chart policy restricts "))
                    && (!out.stdout.is_empty() || input[..end].iter().all(u8::is_ascii_whitespace))
            }
            Some(2) => out.stdout.is_empty() && stderr.lines().count() == 1,
            _ => false,
        };
        if !ok {
            failures.push(format!("prefix {end}: exit {:?}, stderr {stderr:?}", out.status.code()));
        }
    }
    assert!(failures.is_empty(), "{} bad prefixes:\n{}", failures.len(), failures.join("\n"));
}

/// `namespace: no` is the boolean `false` to kubectl's and Helm's YAML 1.1 reader, which then
/// leave the namespace unset: netfence reads it the same way (the release namespace) and warns.
#[test]
fn namespace_that_yaml_reads_as_a_boolean_is_unset_with_a_warning() {
    let input = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: web\n  namespace: no\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n";
    let out = netfence(&["-n", "rel"], input.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with(input), "the policy passes through verbatim:\n{stdout}");
    let generated = &stdout[input.len()..];
    assert_eq!(generated.matches("  namespace: rel\n").count(), 2, "default-deny and allow-DNS in rel:\n{generated}");
    assert!(!generated.contains("\"no\"") && !generated.contains("false"), "{generated}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one warning: {stderr:?}");
    for w in ["WARN", "document 1 (NetworkPolicy/web)", "`metadata.namespace: no`", "quote"] {
        assert!(lines[0].contains(w), "{:?} should contain {w:?}", lines[0]);
    }
}
