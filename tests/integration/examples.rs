//! examples/matih-ai: the checked-in chart output and netfence's output for it stay in step with
//! the chart and the binary (see examples/matih-ai/README.md to regenerate them).

use crate::util::{self, matih_ai};

fn example_file(name: &str) -> Vec<u8> {
    std::fs::read(util::repo_root().join("examples/matih-ai").join(name)).unwrap()
}

/// `netfence -n matih-ai -f charts/matih-ai/values.yaml` on `input`, run from the repo root.
fn netfence(input: &[u8]) -> Vec<u8> {
    let out = util::netfence(&["-n", matih_ai::NAMESPACE, "-f", matih_ai::VALUES], input);
    assert!(out.status.success(), "netfence failed: {}", util::text(&out.stderr));
    out.stdout
}

#[test]
fn netfence_reproduces_expected_yaml() {
    let got = netfence(&example_file("rendered.yaml"));
    let expected = example_file("expected.yaml");
    if got != expected {
        let dir = util::scratch_dir("examples-matih-ai");
        std::fs::write(dir.join("got.yaml"), &got).unwrap();
        panic!(
            "netfence output differs from examples/matih-ai/expected.yaml; got {}:\n{}",
            dir.join("got.yaml").display(),
            util::text(&got)
        );
    }
}

#[test]
fn expected_yaml_has_the_seed_policies() {
    matih_ai::check_output(&matih_ai::parse_stream(&example_file("expected.yaml")));
}

#[test]
fn netfence_is_idempotent_on_its_output() {
    let expected = example_file("expected.yaml");
    assert!(netfence(&expected) == expected, "a second run changed examples/matih-ai/expected.yaml");
}

#[test]
fn rendered_yaml_is_what_the_chart_renders() {
    for helm in ["helm3", "helm4"] {
        let Some(bin) = util::tool(helm) else { continue };
        let home = util::scratch_dir(&format!("examples-{helm}"));
        let out = util::run(
            util::helm(&bin, &home).args(["template", "matih", matih_ai::CHART, "-n", matih_ai::NAMESPACE]),
            b"",
        );
        assert!(out.status.success(), "{helm} template: {}", util::text(&out.stderr));
        assert!(
            out.stdout == example_file("rendered.yaml"),
            "{helm}: examples/matih-ai/rendered.yaml is stale, regenerate it (examples/matih-ai/README.md)"
        );
    }
}

// Guards for the guard: check_output must reject output that lacks what netfence adds.
#[test]
#[should_panic(expected = "4 chart documents + 2 generated policies")]
fn the_checks_reject_the_chart_without_netfence() {
    matih_ai::check_output(&matih_ai::parse_stream(&example_file("rendered.yaml")));
}

#[test]
#[should_panic(expected = "ai-service egress must be DNS followed by networkPolicy.egress")]
fn the_checks_reject_a_policy_without_dns() {
    let mut docs = matih_ai::parse_stream(&example_file("expected.yaml"));
    let policy =
        docs.iter_mut().find(|d| d["kind"] == "NetworkPolicy" && d["metadata"]["name"] == "ai-service").unwrap();
    policy["spec"]["egress"].as_array_mut().unwrap().remove(0);
    matih_ai::check_output(&docs);
}

/// examples/ingress-only: Argo CD's ingress-only policies; netfence's default-deny closes egress
/// and keeps what the chart's ingress rules admit (see examples/ingress-only/README.md).
mod ingress_only {
    use crate::util;

    const DIR: &str = "examples/ingress-only";

    fn netfence(input: &[u8]) -> Vec<u8> {
        let out = util::netfence(&["-n", "argocd"], input);
        util::ok(&out, "netfence -n argocd");
        out.stdout
    }

    #[test]
    fn ingress_only_reproduces_expected_yaml_and_is_idempotent() {
        let input = std::fs::read(util::repo_root().join(DIR).join("rendered.yaml")).unwrap();
        let expected = std::fs::read(util::repo_root().join(DIR).join("expected.yaml")).unwrap();
        let got = netfence(&input);
        assert!(got == expected, "{DIR}/expected.yaml is stale: {}", util::first_difference(&expected, &got));
        assert!(netfence(&expected) == expected, "a second run changed {DIR}/expected.yaml");
    }

    /// NCA, not netfence, judges the output: the connections the chart admits are there (the
    /// issue's example first), and what the chart's default-deny closes stays closed.
    #[test]
    fn ingress_only_keeps_what_the_chart_admits() {
        let Some(nca) = util::tool("nca") else { return };
        let dir = util::scratch_dir("examples-ingress-only");
        std::fs::copy(util::repo_root().join(DIR).join("expected.yaml"), dir.join("output.yaml")).unwrap();
        std::fs::copy(util::kube_system_fixture(), dir.join("kube-system.yaml")).unwrap();
        let text = util::nca_connectivity(&nca, &dir);
        let conns = |src: &str, dst: &str| {
            let prefix = format!("argocd/{src} => argocd/{dst} : ");
            text.lines().find_map(|l| l.strip_prefix(prefix.as_str())).map(util::nca_conns).unwrap_or_default()
        };
        let server = "argocd-server[Deployment]";
        let repo = "argocd-repo-server[Deployment]";
        let dex = "argocd-dex-server[Deployment]";
        let controller = "argocd-application-controller[StatefulSet]";
        assert_eq!(conns(server, repo).to_string(), "TCP 8081,8084", "repo-server and metrics\n{text}");
        assert_eq!(conns(controller, repo).to_string(), "TCP 8081,8084");
        assert_eq!(conns(server, dex).to_string(), "TCP 5556-5558", "http, grpc and metrics");
        assert!(conns(repo, server).is_all(), "argocd-server admits everyone");
        assert_eq!(conns(repo, dex).to_string(), "TCP 5558", "dex admits only argocd-server on http and grpc");
    }
}

/// examples/prometheus-operator: kube-prometheus-stack's `Prometheus` and `Alertmanager`
/// resources, whose pods the operator creates at runtime (see its README.md).
mod prometheus_operator {
    use crate::util;

    const DIR: &str = "examples/prometheus-operator";

    fn file(name: &str) -> Vec<u8> {
        std::fs::read(util::repo_root().join(DIR).join(name)).unwrap()
    }

    #[test]
    fn prometheus_operator_reproduces_expected_files() {
        let out = util::netfence(&["-n", "monitoring"], &file("rendered.yaml"));
        util::ok(&out, "netfence -n monitoring");
        let expected = file("expected.yaml");
        assert!(
            out.stdout == expected,
            "{DIR}/expected.yaml is stale: {}",
            util::first_difference(&expected, &out.stdout)
        );
        let again = util::netfence(&["-n", "monitoring"], &expected);
        assert!(again.stdout == expected, "a second run changed {DIR}/expected.yaml");
        let dir = util::scratch_dir("examples-prometheus-operator");
        let report = dir.join("report.json");
        let out = util::netfence(&["-n", "monitoring", "--report", report.to_str().unwrap()], &file("rendered.yaml"));
        util::ok(&out, "netfence --report");
        let got = std::fs::read(&report).unwrap();
        assert!(
            got == file("report.json"),
            "{DIR}/report.json is stale: {}",
            util::first_difference(&file("report.json"), &got)
        );
        let infer = util::netfence(&["infer", "-n", "monitoring", &format!("{DIR}/rendered.yaml")], b"");
        util::ok(&infer, "netfence infer");
        assert!(
            infer.stdout == file("infer.txt"),
            "{DIR}/infer.txt is stale: {}",
            util::first_difference(&file("infer.txt"), &infer.stdout)
        );
    }

    /// NCA judges the output, with the StatefulSets the operator would create added: Prometheus
    /// scrapes kube-state-metrics and reaches Alertmanager, nothing else reaches Prometheus.
    #[test]
    fn prometheus_operator_pods_keep_their_traffic() {
        let Some(nca) = util::tool("nca") else { return };
        let text = String::from_utf8(file("expected.yaml")).unwrap();
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).unwrap();
        let mut stream: Vec<String> = Vec::new();
        for doc in docs.iter().filter(|d| d.is_object()) {
            let doc = crate::keep_release::operator_statefulset(doc).unwrap_or_else(|| doc.clone());
            let mut doc = doc;
            if let Some(types) = doc["spec"]["policyTypes"].as_array_mut() {
                types.sort_by_key(|t| t != "Ingress"); // NCA 2.1 wants Ingress first
            }
            stream.push(serde_json::to_string(&doc).unwrap());
        }
        let dir = util::scratch_dir("examples-prometheus-operator-nca");
        std::fs::write(dir.join("output.yaml"), stream.join("\n---\n")).unwrap();
        std::fs::copy(util::kube_system_fixture(), dir.join("kube-system.yaml")).unwrap();
        let text = util::nca_connectivity(&nca, &dir);
        let conns = |src: &str, dst: &str| {
            let prefix = format!("monitoring/{src} => monitoring/{dst} : ");
            text.lines().find_map(|l| l.strip_prefix(prefix.as_str())).map(util::nca_conns).unwrap_or_default()
        };
        let prom = "prometheus-kps-kube-prometheus-stack-prometheus[StatefulSet]";
        let am = "alertmanager-kps-kube-prometheus-stack-alertmanager[StatefulSet]";
        let ksm = "kps-kube-state-metrics[Deployment]";
        assert_eq!(conns(prom, ksm).to_string(), "TCP 8080", "scraping kube-state-metrics\n{text}");
        assert_eq!(conns(prom, am).to_string(), "TCP 8080,9093", "alerts and scraping");
        assert!(conns(ksm, prom).is_empty() && conns(am, prom).is_empty(), "nothing else reaches Prometheus");
    }
}
