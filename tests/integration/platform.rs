//! The platform transforms (issue 4) through the library: validation errors name the entry, and
//! the generated policies have the promised shape.

use crate::util;
use netfence::config::Config;
use netfence::run::{render, RenderOptions};
use serde_json::Value;

const INPUT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: other}
spec:
  template:
    metadata: {labels: {app: client}}
    spec: {containers: [{name: c}]}
"#;

fn config(yaml: &str) -> netfence::Result<Config> {
    let value: Value = serde_saphyr::from_str(yaml).unwrap();
    Config::from_value(value, "netfence")
}

fn run(yaml: &str) -> netfence::Result<Vec<Value>> {
    let options = RenderOptions { namespace: "default".into(), config: config(yaml)?, release: None };
    let out = render(INPUT.as_bytes(), &options)?.to_bytes();
    Ok(serde_saphyr::from_multiple(std::str::from_utf8(&out).unwrap()).unwrap())
}

/// The egress rules of a policy, without the DNS rule netfence adds to every egress policy.
fn egress_rules(policy: &Value) -> Vec<Value> {
    let rules = policy["spec"]["egress"].as_array().cloned().unwrap_or_default();
    assert!(rules.iter().any(|r| r["ports"][0]["port"] == 53), "no DNS rule in {policy:#}");
    rules.into_iter().filter(|r| r["ports"][0]["port"] != 53).collect()
}

fn error(yaml: &str) -> String {
    run(yaml).unwrap_err().to_string()
}

#[test]
fn errors_name_the_entry() {
    let e = error("allow: [{from: {namespace: other}, to: {workload: nope}}]");
    assert!(e.starts_with("netfence.allow[0].to.workload: unknown workload \"nope\""), "{e}");
    let e = error("allow: [{from: {namespace: ghost}, to: {namespace: shop}}]");
    assert!(e.starts_with("netfence.allow[0].from.namespace: unknown namespace \"ghost\""), "{e}");
    let e = error("allow: [{from: {}, to: {namespace: shop}}]");
    assert!(e.starts_with("netfence.allow[0].from: needs"), "{e}");
    let e = error("externalEgress: [{namespace: shop}]");
    assert!(e.starts_with("netfence.externalEgress[0]: needs a non-empty `podSelector` or a `workload`"), "{e}");
    let e = error("externalEgress: [{workload: web, except: [10.0.0.0/8, 10.1.0.0/16]}]");
    assert!(e.starts_with("netfence.externalEgress[0].except: 10.1.0.0/16 overlaps 10.0.0.0/8"), "{e}");
    let e = error("externalEgress: [{workload: web, except: [fc00::/7]}]");
    assert!(e.contains("externalEgress[0].except[0]") && e.contains("ipv6"), "{e}");
    let e = error("kubeApi: {from: [{workload: web}]}");
    assert!(e.starts_with("netfence.kubeApi.cidrs: required"), "{e}");
    let e = error("allow: [{from: {namespace: shop}, to: {namespace: other}, ports: [{port: 99999}]}]");
    assert!(e.starts_with("netfence.allow[0].ports[0].port: port 99999"), "{e}");
    let e = error("portForward: {enabled: true, namespaces: [ghost]}");
    assert!(e.starts_with("netfence.portForward.namespaces[0]: unknown namespace"), "{e}");
    let e = error("allow: [{from: {namespace: shop}, too: {}}]");
    assert!(e.contains("unknown field `too`"), "{e}");
}

#[test]
fn an_edge_has_an_egress_and_an_ingress_half() {
    let docs = run("allow: [{from: {workload: client}, to: {workload: web}}]").unwrap();
    let egress = util::policy(&docs, "other", "netfence-allow-client");
    assert_eq!(egress["spec"]["policyTypes"], serde_json::json!(["Egress"]));
    let rule = &egress_rules(egress)[0];
    assert_eq!(rule["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"], "shop");
    assert_eq!(rule["to"][0]["podSelector"]["matchLabels"]["app"], "web");
    // Ports omitted: the server workload's container ports.
    assert_eq!(rule["ports"], serde_json::json!([{"protocol": "TCP", "port": 8080}]));
    let ingress = util::policy(&docs, "shop", "netfence-allow-web");
    assert_eq!(ingress["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app"], "client");
}

#[test]
fn star_means_every_managed_namespace_and_edges_merge_per_pod_set() {
    let docs = run("allow: [{from: {namespace: other}, to: {namespace: '*'}, ports: [9090]}, {from: {namespace: other}, to: {namespace: shop}, ports: [80]}]").unwrap();
    let egress = util::policy(&docs, "other", "netfence-allow");
    let rules = egress_rules(egress);
    // other -> other:9090, other -> shop:9090, other -> shop:80, all in one policy.
    assert_eq!(rules.len(), 3, "{rules:#?}");
    assert!(docs.iter().filter(|d| d["metadata"]["name"] == "netfence-allow").count() == 2);
}

#[test]
fn external_egress_excludes_private_ranges_and_supports_ipv6() {
    let docs = run("externalEgress: [{workload: web, ipv6: true}]").unwrap();
    let p = util::policy(&docs, "shop", "netfence-external-egress-web");
    let rule = &egress_rules(p)[0];
    let to = &rule["to"];
    assert_eq!(to[0]["ipBlock"]["cidr"], "0.0.0.0/0");
    assert_eq!(
        to[0]["ipBlock"]["except"],
        serde_json::json!(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"])
    );
    assert_eq!(to[1]["ipBlock"]["cidr"], "::/0");
    assert_eq!(to[1]["ipBlock"]["except"], serde_json::json!(["fc00::/7", "fe80::/10"]));
    assert_eq!(rule["ports"], serde_json::json!([{"protocol": "TCP", "port": 443}]));
}

#[test]
fn kube_api_and_port_forward() {
    let docs = run("kubeApi: {cidrs: [10.0.0.1/32], from: [{workload: web}]}\nportForward: {enabled: true, cidrs: [192.168.1.0/24], namespaces: ['*']}").unwrap();
    let api = util::policy(&docs, "shop", "netfence-kube-api-web");
    let rule = &egress_rules(api)[0];
    assert_eq!(rule["to"][0]["ipBlock"]["cidr"], "10.0.0.1/32");
    assert_eq!(rule["ports"], serde_json::json!([{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]));
    for ns in ["shop", "other"] {
        let pf = util::policy(&docs, ns, "netfence-port-forward");
        assert_eq!(pf["metadata"]["labels"]["netfence.dev/relaxed"], "true");
        assert_eq!(pf["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"], "192.168.1.0/24");
    }
}

#[test]
fn workload_policies_hold_dns_extra_egress_and_edges() {
    let docs = run("workloadPolicies: {enabled: true}\negress: [{ports: [{port: 5432}]}]\nallow: [{from: {workload: client}, to: {workload: web}}]").unwrap();
    let web = util::policy(&docs, "shop", "netfence-workload-web");
    assert_eq!(web["spec"]["policyTypes"], serde_json::json!(["Ingress", "Egress"]));
    assert_eq!(web["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app"], "client");
    let egress = web["spec"]["egress"].as_array().unwrap();
    assert_eq!(egress[0]["ports"][0]["port"], 53);
    assert_eq!(egress[1]["ports"][0]["port"], 5432);
    let client = util::policy(&docs, "other", "netfence-workload-client");
    assert_eq!(client["spec"]["egress"].as_array().unwrap().len(), 3);
    // The edge went into the workload policies, not into a separate grouped policy.
    assert!(!docs.iter().any(|d| d["metadata"]["name"]
        .as_str()
        .is_some_and(|n| n.starts_with("netfence-allow-") && n != "netfence-allow-dns")));
}

#[test]
fn generated_egress_policies_get_dns_when_there_is_no_baseline() {
    let docs = run("defaultDeny: {enabled: false}\nallow: [{from: {workload: client}, to: {workload: web}}]").unwrap();
    let egress = util::policy(&docs, "other", "netfence-allow-client");
    let rules = egress["spec"]["egress"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["ports"][0]["port"] == 53), "{rules:#?}");
}

#[test]
fn node_local_address_must_be_an_ip() {
    let e = error("dns: {profile: node-local, nodeLocalAddress: notanip}");
    assert!(e.starts_with("netfence.dns.nodeLocalAddress: \"notanip\" is not an IP address"), "{e}");
}
