//! netfence in real pipelines with the shapes of real charts (issue 11), under the real Helm 3
//! and Helm 4: charts' own `networkPolicy` values, the `netfence:` block, Helm hooks, charts
//! without `metadata.namespace`, the log file Helm 4 needs, and `render FILE` / `validate`.
//! The charts are in tests/charts (see its README for which real chart each one imitates).

use crate::util;
use serde_json::Value;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The Helm binaries present: (name, binary, runs netfence as a plugin).
fn helms() -> Vec<(&'static str, PathBuf, bool)> {
    [("helm3", false), ("helm4", true)].iter().filter_map(|(n, p)| util::tool(n).map(|b| (*n, b, *p))).collect()
}

/// `helm template <release> <chart> [-n ns] [-f values…] --post-renderer netfence <args…>`; Helm 4
/// runs the plugin of functions/helm, Helm 3 the binary.
fn template(
    helm: &(&str, PathBuf, bool),
    release: &str,
    chart: &str,
    namespace: Option<&str>,
    values: &[&Path],
    netfence_args: &[&str],
) -> Output {
    let (name, bin, plugin) = helm;
    let home = util::scratch_dir(&format!("pipe-{name}-{release}-{}", chart.replace('/', "-")));
    let mut cmd = util::helm(bin, &home);
    if *plugin {
        cmd.env("HELM_PLUGINS", util::repo_root().join("functions/helm"));
    }
    cmd.args(["template", release, chart]);
    if let Some(ns) = namespace {
        cmd.args(["-n", ns]);
    }
    for v in values {
        cmd.arg("-f").arg(v);
    }
    let mut post = OsString::from("--post-renderer=");
    post.push(if *plugin { OsString::from("netfence") } else { util::netfence_bin().into_os_string() });
    cmd.arg(post);
    for a in netfence_args {
        cmd.arg(format!("--post-renderer-args={a}"));
    }
    util::run(&mut cmd, b"")
}

fn docs(text: &str) -> Vec<Value> {
    crate::util::matih_ai::parse_stream(text.as_bytes())
}

/// netfence's policies of a render: (namespace or "", name, spec).
fn generated(docs: &[Value]) -> Vec<(String, String, Value)> {
    let mut out: Vec<_> = docs
        .iter()
        .filter(|d| util::is_generated(d))
        .map(|d| {
            let ns = d["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
            (ns, d["metadata"]["name"].as_str().unwrap_or_default().to_string(), d["spec"].clone())
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn bitnami_values_given_to_netfence_too_neither_fail_nor_switch_it_off() {
    let dir = util::scratch_dir("pipe-bitnami-values");
    // The chart's policy off (`enabled: false`) and Bitnami's knobs, plus netfence's own block.
    let values = write(
        &dir,
        "values.yaml",
        "networkPolicy:\n  enabled: false\n  allowExternal: false\n  allowExternalEgress: false\n  extraEgress:\n    - ports: [{port: 9999}]\n\
         netfence:\n  egress:\n    - to: [{ipBlock: {cidr: 10.20.0.0/16}}]\n      ports: [{protocol: TCP, port: 5432}]\n",
    );
    for helm in helms() {
        let v = values.to_str().unwrap();
        let out = template(&helm, "pg", "tests/charts/bitnami-shape", Some("db"), &[&values], &["-n", "db", "-f", v]);
        let text = util::ok(&out, &format!("{} template", helm.0));
        let d = docs(&text);
        let names: Vec<String> = generated(&d).into_iter().map(|(ns, n, _)| format!("{ns}/{n}")).collect();
        assert_eq!(names, ["db/netfence-pg-allow-dns", "db/netfence-pg-default-deny"], "{}: {text}", helm.0);
        assert!(!text.contains("9999"), "{}: the chart's extraEgress is the chart's business", helm.0);
    }
    // With the chart's policy on, netfence.egress is merged into it; extraEgress only as the chart renders it.
    let on = write(
        &dir,
        "on.yaml",
        "networkPolicy:\n  enabled: true\n  allowExternalEgress: false\n  extraEgress:\n    - ports: [{port: 9999}]\n",
    );
    for helm in helms() {
        let out = template(
            &helm,
            "pg",
            "tests/charts/bitnami-shape",
            Some("db"),
            &[&on],
            &["-n", "db", "-f", on.to_str().unwrap(), "-f", values.to_str().unwrap()],
        );
        let text = util::ok(&out, &format!("{} template", helm.0));
        let d = docs(&text);
        let policy = util::policy(&d, "db", "pg-db");
        let egress = policy["spec"]["egress"].as_array().unwrap();
        let ports: Vec<String> = egress.iter().map(|r| r["ports"][0]["port"].to_string()).collect();
        assert_eq!(
            ports,
            ["53", "9999", "5432"],
            "{}: the chart's DNS rule (enough: no netfence DNS rule), its extraEgress, then netfence.egress",
            helm.0
        );
    }
}

#[test]
fn chart_egress_rendered_into_one_policy_is_not_spread() {
    let values = util::repo_root().join("tests/charts/cert-manager-shape/values.yaml");
    for helm in helms() {
        let out = template(
            &helm,
            "cm",
            "tests/charts/cert-manager-shape",
            Some("cm"),
            &[],
            &["-n", "cm", "-f", values.to_str().unwrap()],
        );
        let text = util::ok(&out, &format!("{} template", helm.0));
        let d = docs(&text);
        let controller = util::policy(&d, "cm", "cm-egress")["spec"]["egress"].as_array().unwrap().clone();
        let webhook = util::policy(&d, "cm", "cm-webhook-egress")["spec"]["egress"].as_array().unwrap().clone();
        let wide = |rules: &[Value]| rules.iter().filter(|r| r["to"][0]["ipBlock"]["cidr"] == "0.0.0.0/0").count();
        assert_eq!(wide(&controller), 1, "{}: the controller keeps its rule once", helm.0);
        assert_eq!(wide(&webhook), 0, "{}: the webhook does not get the controller's rule", helm.0);
    }
}

#[test]
fn hooks_give_the_same_baseline_under_helm_3_and_4() {
    let helms = helms();
    let mut baselines = Vec::new();
    for helm in &helms {
        let out = template(helm, "pg", "tests/charts/bitnami-shape", Some("db"), &[], &["-n", "db"]);
        let text = util::ok(&out, &format!("{} template", helm.0));
        let d = docs(&text);
        // Helm 4 hands the hooks to netfence; they get DNS like any policy but are no baseline.
        let hook_in_input = d.iter().any(|x| x["metadata"]["name"] == "pg-hook-deny");
        assert!(hook_in_input, "{}: helm template prints the hooks", helm.0);
        baselines.push((helm.0, generated(&d)));
    }
    for (name, b) in &baselines {
        let names: Vec<&str> = b.iter().map(|(_, n, _)| n.as_str()).collect();
        assert_eq!(names, ["netfence-pg-allow-dns", "netfence-pg-default-deny"], "{name}");
    }
    if let [(_, a), (_, b)] = baselines.as_slice() {
        assert_eq!(a, b, "Helm 3 and Helm 4 give the same baseline");
    }
}

#[test]
fn without_a_namespace_the_policies_carry_none_and_say_so() {
    let Some(helm3) = helms().into_iter().find(|h| !h.2) else { return };
    // Helm 3 tells a post-renderer nothing: no -n, no HELM_NAMESPACE.
    let out = template(&helm3, "jh", "tests/charts/z2jh-shape", Some("jupyter"), &[], &[]);
    let text = util::ok(&out, "helm3 template");
    let d = docs(&text);
    let g = generated(&d);
    assert_eq!(g.len(), 2, "{text}");
    assert!(g.iter().all(|(ns, _, _)| ns.is_empty()), "no metadata.namespace on {g:?}");
    // The same stream through netfence directly: one notice line on stderr.
    let home = util::scratch_dir("pipe-z2jh-plain");
    let plain = util::run(util::helm(&helm3.1, &home).args(["template", "jh", "tests/charts/z2jh-shape"]), b"");
    let input = util::ok(&plain, "helm3 template");
    let out = util::netfence(&[], input.as_bytes());
    assert!(out.status.success());
    let stderr = util::text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no metadata.namespace") && stderr.contains("release"), "{stderr}");
    // The analysis reads it (objects without a namespace are in `default` for it, together).
    let file = write(&home, "out.yaml", &util::text(&out.stdout));
    let matrix = util::netfence(&["matrix", "--level", "workload", file.to_str().unwrap()], b"");
    assert!(matrix.status.success(), "{}", util::text(&matrix.stderr));
    // A named namespace (-n) still places them.
    let named = util::netfence(&["-n", "jupyter"], input.as_bytes());
    assert!(util::text(&named.stdout).matches("namespace: jupyter").count() >= 2);
    assert!(named.stderr.is_empty(), "{}", util::text(&named.stderr));
}

#[test]
fn helm4_errors_and_findings_reach_the_log_file() {
    let Some(helm4) = helms().into_iter().find(|h| h.2) else { return };
    let dir = util::scratch_dir("pipe-log-file");
    let log = dir.join("netfence.log");
    let bad = write(&dir, "bad.yaml", "netfence:\n  egres: []\n");
    let (name, bin, _) = &helm4;
    let home = util::scratch_dir(&format!("pipe-{name}-log"));
    let mut cmd = util::helm(bin, &home);
    cmd.env("HELM_PLUGINS", util::repo_root().join("functions/helm")).env("NETFENCE_LOG_FILE", &log);
    cmd.args(["template", "pg", "tests/charts/bitnami-shape", "-n", "db", "--post-renderer=netfence"]);
    cmd.arg(format!("--post-renderer-args=-f={}", bad.display()));
    let out = util::run(&mut cmd, b"");
    assert!(!out.status.success());
    let logged = util::read(&log);
    assert!(logged.contains("netfence.egres: unknown field"), "{logged}");
    // --check findings too, with --log-file given as an argument.
    let dns_off = write(&dir, "dns-off.yaml", "netfence:\n  dns: {enabled: false}\n");
    let mut cmd = util::helm(bin, &home);
    cmd.env("HELM_PLUGINS", util::repo_root().join("functions/helm"));
    cmd.args(["template", "pg", "tests/charts/bitnami-shape", "-n", "db", "--post-renderer=netfence"]);
    for a in
        ["--check", &format!("--log-file={}", dir.join("check.log").display()), &format!("-f={}", dns_off.display())]
    {
        cmd.arg(format!("--post-renderer-args={a}"));
    }
    let _ = util::run(&mut cmd, b"");
    let logged = util::read(dir.join("check.log"));
    assert!(logged.contains("DNS is off but egress is restricted in namespace(s) db"), "{logged}");
    assert!(logged.contains("netfence: check: "), "the --check summary: {logged}");
}

#[test]
fn render_reads_files_and_validate_checks_a_config_alone() {
    let dir = util::scratch_dir("pipe-files");
    let a = write(&dir, "a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}");
    let b = write(&dir, "b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: y}\n");
    let files = util::netfence(&["render", a.to_str().unwrap(), b.to_str().unwrap()], b"");
    let stdin = util::netfence(&["render"], format!("{}\n---\n{}", util::read(&a), util::read(&b)).as_bytes());
    assert!(files.status.success(), "{}", util::text(&files.stderr));
    assert_eq!(util::text(&files.stdout), util::text(&stdin.stdout));
    assert_eq!(generated(&docs(&util::text(&files.stdout))).len(), 4);
    // validate: the effective block on stdout, exit 0; an error names the field, exit 2.
    let good = write(
        &dir,
        "good.yaml",
        "networkPolicy:\n  enabled: false\n  egress: [{ports: [{port: 1}]}]\nnetfence:\n  dns: {profile: openshift}\n",
    );
    let out = util::netfence(&["validate", "-f", good.to_str().unwrap()], b"");
    assert!(out.status.success(), "{}", util::text(&out.stderr));
    let shown: Value = serde_saphyr::from_str(&util::text(&out.stdout)).unwrap();
    assert_eq!(shown["netfence"]["enabled"], true, "networkPolicy.enabled is the chart's");
    assert_eq!(shown["netfence"]["dns"]["profile"], "openshift");
    let bad = write(&dir, "bad.yaml", "netfence:\n  defaultDeny: {policyType: [Ingress]}\n");
    let out = util::netfence(&["validate", "-f", bad.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(util::text(&out.stderr).contains("netfence.defaultDeny.policyType"), "{}", util::text(&out.stderr));
}

#[test]
fn the_report_file_carries_warnings_and_check_findings() {
    let dir = util::scratch_dir("pipe-report-findings");
    let values = write(&dir, "dns-off.yaml", "netfence:\n  dns: {enabled: false}\n");
    let input = write(
        &dir,
        "in.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: api, namespace: shop}\n\
         spec: {podSelector: {matchLabels: {app: api}}, policyTypes: [Egress], egress: [{ports: [{port: 5432}]}]}\n",
    );
    let report = dir.join("report.json");
    let args = [
        "render",
        "--check",
        "-f",
        values.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        input.to_str().unwrap(),
    ];
    let out = util::netfence(&args, b"");
    let json: Value = serde_json::from_str(&util::read(&report)).unwrap();
    let findings = json["findings"].as_array().unwrap_or_else(|| panic!("no findings in {json}"));
    assert!(findings.iter().any(|f| f["source"] == "netfence" && f["field"] == "netfence.dns.enabled"), "{json}");
    let lint: Vec<&Value> = findings.iter().filter(|f| f["source"] == "check").collect();
    assert!(!lint.is_empty(), "{json}");
    // The exit code follows the lint: an error finding means exit 1 and nothing on stdout.
    let errors = lint.iter().any(|f| f["severity"] == "error");
    assert_eq!(out.status.code(), Some(if errors { 1 } else { 0 }), "{}", util::text(&out.stderr));
}

#[test]
fn netfence_keys_under_network_policy_keep_working_with_one_notice() {
    let dir = util::scratch_dir("pipe-legacy");
    let legacy = write(&dir, "legacy.yaml", "networkPolicy:\n  defaultDeny: {policyTypes: [Ingress]}\n");
    let input = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n";
    let out = util::netfence(&["-f", legacy.to_str().unwrap()], input);
    assert!(out.status.success());
    let stderr = util::text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("`netfence:` block"), "{stderr}");
    let g = generated(&docs(&util::text(&out.stdout)));
    assert_eq!(g.len(), 1, "Ingress only: no allow-DNS");
}

/// (kind, namespace, name) of every object of a render.
fn identities(docs: &[Value]) -> Vec<(String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    docs.iter().map(|d| (s(&d["kind"]), s(&d["metadata"]["namespace"]), s(&d["metadata"]["name"]))).collect()
}

#[test]
fn two_releases_in_one_namespace_render_no_shared_object_and_one_baseline_between_them() {
    let dir = util::scratch_dir("pipe-two-releases");
    for helm in helms() {
        // Helm passes no release name to a post-renderer: the chart's instance labels name it.
        let mut outputs = Vec::new();
        for release in ["a", "b"] {
            let out = template(&helm, release, "tests/charts/bitnami-shape", Some("db"), &[], &["-n", "db"]);
            outputs.push(util::ok(&out, &format!("{} template {release}", helm.0)));
        }
        let (a, b) = (docs(&outputs[0]), docs(&outputs[1]));
        let names = |d: &[Value]| -> Vec<String> { generated(d).into_iter().map(|(_, n, _)| n).collect() };
        assert_eq!(names(&a), ["netfence-a-allow-dns", "netfence-a-default-deny"], "{}", helm.0);
        assert_eq!(names(&b), ["netfence-b-allow-dns", "netfence-b-default-deny"], "{}", helm.0);
        // Helm's ownership check: no object of one release is an object of the other.
        let ids_b = identities(&b);
        let shared: Vec<_> = identities(&a).into_iter().filter(|i| ids_b.contains(i)).collect();
        assert!(shared.is_empty(), "{}: both releases render {shared:?}", helm.0);

        // Both releases installed: their baselines together are one baseline. The reference is
        // the same objects rendered at once with release-less names (two instance labels).
        let union = write(&dir, &format!("{}-union.yaml", helm.0), &format!("{}\n---\n{}", outputs[0], outputs[1]));
        let mut plain = Vec::new();
        for release in ["a", "b"] {
            let (_, bin, _) = &helm;
            let home = util::scratch_dir(&format!("pipe-two-releases-{}-{release}", helm.0));
            let out = util::run(
                util::helm(bin, &home).args(["template", release, "tests/charts/bitnami-shape", "-n", "db"]),
                b"",
            );
            plain.push(util::ok(&out, "helm template without netfence"));
        }
        let together = format!("{}\n---\n{}", plain[0], plain[1]);
        let reference = util::netfence(&["render", "-n", "db"], together.as_bytes());
        let reference_text = util::ok(&reference, "netfence on both releases at once");
        let reference_names = names(&docs(&reference_text));
        assert_eq!(reference_names, ["netfence-allow-dns", "netfence-default-deny"], "{reference_text}");
        let reference = write(&dir, &format!("{}-reference.yaml", helm.0), &reference_text);
        // `diff` exits 1 when a connection differs, 0 when none does.
        let diff = util::netfence(&["diff", reference.to_str().unwrap(), union.to_str().unwrap()], b"");
        let said = format!("{}{}", String::from_utf8_lossy(&diff.stdout), String::from_utf8_lossy(&diff.stderr));
        assert_eq!(diff.status.code(), Some(0), "{}: {said}", helm.0);
    }
}
