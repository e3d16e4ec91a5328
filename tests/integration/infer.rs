//! Inference end to end (issue 10): `netfence infer` and render on a chart without policies,
//! examples/redis-replication (Bitnami redis, master and replicas, rendered by Helm; see its
//! README), with expected output checked in.

use crate::util;

const NS: &str = "dashi-data";

fn example(name: &str) -> Vec<u8> {
    std::fs::read(util::repo_root().join("examples/redis-replication").join(name)).unwrap()
}

/// Fails with the path of what was produced when it differs from the expected file.
fn same(got: &[u8], expected_file: &str) {
    if got != example(expected_file).as_slice() {
        let dir = util::scratch_dir("examples-redis-replication");
        let path = dir.join(expected_file);
        std::fs::write(&path, got).unwrap();
        panic!("output differs from examples/redis-replication/{expected_file}; got {}", path.display());
    }
}

fn netfence(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let out = util::netfence(args, stdin);
    assert!(out.status.success(), "netfence {args:?} failed: {}", util::text(&out.stderr));
    assert!(out.stderr.is_empty(), "stderr: {}", util::text(&out.stderr));
    out.stdout
}

#[test]
fn render_reproduces_expected_yaml_and_is_idempotent() {
    let got = netfence(&["-n", NS], &example("rendered.yaml"));
    same(&got, "expected.yaml");
    assert!(netfence(&["-n", NS], &got) == got, "a second run changed the output");
}

#[test]
fn infer_lists_the_declared_connections() {
    let text = netfence(&["infer", "-n", NS, "examples/redis-replication/rendered.yaml"], b"");
    same(&text, "infer.txt");
    let json = netfence(&["infer", "-n", NS, "-o", "json", "-"], &example("rendered.yaml"));
    same(&json, "infer.json");
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let rows = v["connections"].as_array().unwrap();
    let has = |src: &str, dst: &str, rule: &str| {
        rows.iter().any(|r| r["src"] == src && r["dst"] == dst && r["port"] == "6379" && r["rule"] == rule)
    };
    let (master, replicas) =
        ("dashi-data/StatefulSet/dashi-cache-redis-master", "dashi-data/StatefulSet/dashi-cache-redis-replicas");
    assert!(has(replicas, master, "service-reference"), "REDIS_MASTER_HOST names master-0: {rows:?}");
    assert!(has(master, replicas, "peers") && has(replicas, master, "peers"));
}

/// What the analysis finds allowed after netfence is exactly the inferred connections between
/// the two workloads (before, everything was open; with inference off, nothing but DNS).
#[test]
fn the_output_allows_what_is_inferred_and_nothing_else() {
    let after = util::netfence(
        &["matrix", "--level", "workload", "-o", "connlist", "examples/redis-replication/expected.yaml"],
        b"",
    );
    assert!(after.status.success(), "{}", util::text(&after.stderr));
    assert_eq!(
        util::text(&after.stdout),
        "dashi-data/dashi-cache-redis-master[StatefulSet] => dashi-data/dashi-cache-redis-replicas[StatefulSet] : TCP 6379\n\
         dashi-data/dashi-cache-redis-replicas[StatefulSet] => dashi-data/dashi-cache-redis-master[StatefulSet] : TCP 6379\n"
    );
    let dir = util::scratch_dir("infer-off");
    let values = dir.join("values.yaml");
    std::fs::write(&values, "netfence:\n  infer:\n    enabled: false\n").unwrap();
    let off = netfence(&["-n", NS, "-f", values.to_str().unwrap()], &example("rendered.yaml"));
    let off_file = dir.join("off.yaml");
    std::fs::write(&off_file, &off).unwrap();
    let cut = util::netfence(&["matrix", "--level", "workload", "-o", "connlist", off_file.to_str().unwrap()], b"");
    assert_eq!(util::text(&cut.stdout), "", "inference off: the release is cut off (issue 10)");
}

#[test]
fn bad_infer_config_is_a_one_line_error() {
    let dir = util::scratch_dir("infer-bad");
    let values = dir.join("values.yaml");
    std::fs::write(&values, "netfence:\n  infer:\n    clusterDomain: 'Bad Domain'\n").unwrap();
    let out = util::netfence(&["infer", "-f", values.to_str().unwrap(), "-"], &example("rendered.yaml"));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = util::text(&out.stderr);
    assert!(err.contains("netfence.infer.clusterDomain") && err.lines().count() == 1, "{err}");
}

/// The prometheus-operator's resources are user data: fields of the wrong type, label keys and
/// values the API server refuses, ports out of range and names that cannot label a pod are
/// left out; the render succeeds, writes only valid selectors and is idempotent.
#[test]
fn operator_resources_are_user_data() {
    let long = "a".repeat(70);
    let input = format!(
        "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {{name: p, namespace: mon}}\n\
         spec:\n  podMetadata: {{labels: {{'bad key!': x, ok: 'not a value!', team: a}}}}\n  portName: 'Not A Port Name'\n\
         \x20 alerting: {{alertmanagers: 'am'}}\n  remoteWrite: [{{url: 7}}, 'x', {{url: '::::'}}]\n\
         \x20 serviceMonitorSelector: [1, 2]\n  containers: [{{name: c, ports: [{{containerPort: 99999}}, {{containerPort: -1}}, {{containerPort: 9999, name: extra}}]}}]\n---\n\
         apiVersion: monitoring.coreos.com/v1\nkind: Alertmanager\nmetadata: {{name: {long}, namespace: mon}}\nspec: {{replicas: three}}\n---\n\
         apiVersion: monitoring.coreos.com/v1\nkind: Alertmanager\nmetadata: {{name: am, namespace: mon}}\nspec: {{replicas: 2, podMetadata: [x]}}\n"
    );
    let out = util::netfence(&["-n", "mon"], input.as_bytes());
    let text = util::ok(&out, "netfence -n mon (hostile operator resources)");
    let again = util::netfence(&["-n", "mon"], text.as_bytes());
    assert_eq!(util::ok(&again, "second run"), text, "a second run changed the output");
    let added = text.strip_prefix(input.as_str()).expect("the input passes through byte for byte");
    assert!(added.contains("name: netfence-workload-am\n"), "the Alertmanager pods get their policy:\n{added}");
    assert!(!added.contains("bad key") && !added.contains("not a value"), "invalid labels left out:\n{added}");
    assert!(!added.contains(&long), "a name that cannot label a pod makes no pods:\n{added}");
    let check = util::netfence(&["check", "-n", "mon", "-"], text.as_bytes());
    assert!(!util::text(&check.stdout).contains("error NF008"), "selectors the API server accepts");
    let infer = util::netfence(&["infer", "-n", "mon", "-"], input.as_bytes());
    let listed = util::ok(&infer, "netfence infer");
    assert!(
        listed.contains("mon/am[Alertmanager] => mon/am[Alertmanager] : UDP 9094"),
        "the mesh of 2 replicas:\n{listed}"
    );
}
