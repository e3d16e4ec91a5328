//! What netfence must make of the demo chart `charts/matih-ai` (seed 1, AI service egress),
//! checked on parsed documents so the same assertions hold for the example files, Helm 3's and
//! Helm 4's output (which differ in order and in `# Source:` lines).

use serde_json::{json, Value};

/// The chart, relative to the repository root (also its values file, which configures netfence).
pub const CHART: &str = "charts/matih-ai";
pub const VALUES: &str = "charts/matih-ai/values.yaml";
pub const NAMESPACE: &str = "matih-ai";

/// Parses a YAML stream into its documents (empty documents dropped).
pub fn parse_stream(bytes: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).expect("output is UTF-8");
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("output is not a YAML stream: {e}\n{text}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// The one document of `kind` named `name`; panics if there is none or more than one.
pub fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> = docs.iter().filter(|d| d["kind"] == kind && d["metadata"]["name"] == name).collect();
    assert_eq!(found.len(), 1, "expected exactly one {kind} {name}, found {}", found.len());
    found[0]
}

/// The rule netfence injects so that isolated pods can still resolve names.
pub fn dns_rule() -> Value {
    json!({
        "to": [{
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}
        }],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    })
}

/// `networkPolicy.egress` of the chart's values file, as written there.
pub fn configured_egress() -> Vec<Value> {
    let text = std::fs::read_to_string(super::repo_root().join(VALUES)).unwrap();
    let values: Value = serde_saphyr::from_str(&text).unwrap();
    values["networkPolicy"]["egress"].as_array().expect("values.yaml has networkPolicy.egress").clone()
}

fn is_generated(doc: &Value) -> bool {
    doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "netfence"
}

/// Checks netfence's output for the chart rendered as release `matih` in namespace `matih-ai`.
pub fn check_output(docs: &[Value]) {
    // Everything the chart renders is still there, and nothing else but two generated policies.
    for (kind, name) in [("Deployment", "ai-service"), ("Service", "ai-service"), ("ServiceAccount", "ai-service")] {
        let doc = find(docs, kind, name);
        assert_eq!(doc["metadata"]["labels"]["app.kubernetes.io/instance"], "matih", "{kind} {name} changed");
        assert!(!is_generated(doc), "{kind} {name} must pass through unlabelled");
    }
    assert_eq!(docs.len(), 6, "4 chart documents + 2 generated policies, got {docs:#?}");

    // The chart's own policy: ingress untouched, egress = DNS first, then every configured rule.
    let chart_policy = find(docs, "NetworkPolicy", "ai-service");
    assert_eq!(chart_policy["metadata"]["namespace"], NAMESPACE);
    assert_eq!(chart_policy["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(
        chart_policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "api-gateway"
    );
    let egress = chart_policy["spec"]["egress"].as_array().expect("ai-service policy has egress rules now");
    let mut want = vec![dns_rule()];
    want.extend(configured_egress());
    assert_eq!(want.len(), 8, "DNS + the 7 destinations of the seed's table");
    assert_eq!(egress, &want, "ai-service egress must be DNS followed by networkPolicy.egress, in order");
    // Spot checks on the seed's table, independent of the values file.
    let ports = |i: usize| egress[i]["ports"].as_array().unwrap().iter().map(|p| p["port"].clone()).collect::<Vec<_>>();
    assert_eq!(ports(1), [json!(6333), json!(6334)], "Qdrant HTTP + gRPC");
    assert_eq!(ports(6), [json!(8080), json!(9080)], "Dgraph");
    assert_eq!(egress[7]["to"][0]["ipBlock"]["cidr"], "0.0.0.0/0");
    assert_eq!(ports(7), [json!(443)], "LLM APIs over HTTPS only");

    // The namespace baseline.
    let deny = find(docs, "NetworkPolicy", "netfence-default-deny");
    assert_eq!(deny["metadata"]["namespace"], NAMESPACE);
    assert!(is_generated(deny));
    assert_eq!(deny["spec"], json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}));
    let dns = find(docs, "NetworkPolicy", "netfence-allow-dns");
    assert_eq!(dns["metadata"]["namespace"], NAMESPACE);
    assert!(is_generated(dns));
    assert_eq!(dns["spec"]["podSelector"], json!({}));
    assert_eq!(dns["spec"]["policyTypes"], json!(["Egress"]));
    assert_eq!(dns["spec"]["egress"], json!([dns_rule()]));
}

/// The names of the generated documents, for callers that look at the raw text.
pub const GENERATED: [&str; 2] = ["netfence-default-deny", "netfence-allow-dns"];
