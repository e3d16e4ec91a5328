//! The namespace baseline as one cluster-scoped `BaselineAdminNetworkPolicy`
//! (`defaultDeny.as: baselineAdminNetworkPolicy`), for clusters whose CNI implements the
//! AdminNetworkPolicy API: instead of a `netfence-default-deny` and a `netfence-allow-dns`
//! NetworkPolicy per namespace, one object named `default` whose subject is the managed
//! namespaces, with the DNS rule as an `Allow` and the deny as the last rule of each direction.
//!
//! It sits below every NetworkPolicy (a pod a NetworkPolicy isolates in a direction never reaches
//! the baseline there), so the chart's and netfence's own NetworkPolicies keep deciding for the
//! pods they select, as they do beside per-namespace default-deny policies. One difference is
//! inherent to the API: BANP ingress peers are pods and namespaces only, so ingress from outside
//! the cluster is **not** denied by the baseline.

use super::dns::DnsRule;
use crate::config::{BaselineForm, Config, PolicyType};
use crate::error::{Error, Result};
use crate::k8s::{MANAGED_BY_LABEL, MANAGED_BY_NETFENCE, NAMESPACE_NAME_LABEL};
use crate::model::Model;
use k8s_openapi::api::networking::v1::{NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{json, Map, Value};

/// The API version of the object.
pub const API_VERSION: &str = "policy.networking.k8s.io/v1alpha1";
/// Its kind.
pub const KIND: &str = "BaselineAdminNetworkPolicy";
/// Its name: the API server accepts no other (the baseline is a singleton).
pub const NAME: &str = "default";

/// The baseline object netfence wants, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminBaseline {
    /// The whole object.
    pub value: Value,
    /// Why, one sentence each.
    pub reasons: Vec<String>,
}

/// The baseline for the managed namespaces, or `None` when the baseline is not wanted in this
/// form or no namespace is managed. `annotations` go on the object (Helm 4's filename one).
pub fn plan(
    model: &Model,
    config: &Config,
    dns_rule: Option<&DnsRule>,
    annotations: &[(String, String)],
) -> Result<Option<AdminBaseline>> {
    let cfg = &config.default_deny;
    if !cfg.enabled || cfg.as_ != BaselineForm::BaselineAdminNetworkPolicy {
        return Ok(None);
    }
    // Namespaces holding only Helm hooks get no baseline (see `default_deny`).
    let namespaces: Vec<&str> = model
        .namespace_names()
        .filter(|ns| !cfg.exclude_namespaces.iter().any(|e| e == ns) && !model.hook_only_namespaces.contains(*ns))
        .collect();
    if namespaces.is_empty() {
        return Ok(None);
    }
    let deny_ingress = cfg.policy_types.contains(&PolicyType::Ingress);
    let deny_egress = cfg.policy_types.contains(&PolicyType::Egress);
    let mut spec = Map::new();
    spec.insert(
        "subject".into(),
        json!({"namespaces": {"matchExpressions": [
            {"key": NAMESPACE_NAME_LABEL, "operator": "In", "values": namespaces}
        ]}}),
    );
    if deny_ingress {
        spec.insert(
            "ingress".into(),
            json!([{"name": "default-deny", "action": "Deny", "from": [{"namespaces": {}}]}]),
        );
    }
    if deny_egress {
        let mut egress = Vec::new();
        if let Some(rule) = dns_rule {
            let mut allow = json!({"name": "allow-dns", "action": "Allow", "to": admin_peers(&rule.rule.to)?});
            let ports = admin_ports(&rule.rule.ports)?;
            if !ports.is_empty() {
                allow["ports"] = Value::Array(ports);
            }
            egress.push(allow);
        }
        egress.push(json!({"name": "default-deny", "action": "Deny", "to": [
            {"namespaces": {}},
            {"networks": ["0.0.0.0/0", "::/0"]}
        ]}));
        spec.insert("egress".into(), Value::Array(egress));
    }
    let mut metadata = json!({"name": NAME, "labels": {MANAGED_BY_LABEL: MANAGED_BY_NETFENCE}});
    if !annotations.is_empty() {
        metadata["annotations"] = annotations.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    }
    let value = json!({"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": spec});
    let directions: Vec<&str> = cfg.policy_types.iter().map(|t| t.as_str()).collect();
    let mut reason = format!(
        "defaultDeny.as baselineAdminNetworkPolicy: deny {} by default in namespaces {}",
        directions.join(" and "),
        namespaces.join(", ")
    );
    if let (true, Some(rule)) = (deny_egress, dns_rule) {
        reason.push_str(&format!(", DNS allowed ({})", rule.describe()));
    }
    Ok(Some(AdminBaseline { value, reasons: vec![reason] }))
}

/// The error for a DNS destination a BANP peer cannot express.
fn unexpressible(what: &str) -> Error {
    Error::config(
        "defaultDeny.as",
        format!("the DNS rule has {what}, which a BaselineAdminNetworkPolicy cannot express; use networkPolicies"),
    )
}

/// NetworkPolicy peers as BANP egress peers: a namespace and pod selector → `pods`, a namespace
/// selector → `namespaces`, ipBlocks → one `networks` peer.
fn admin_peers(peers: &Option<Vec<NetworkPolicyPeer>>) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut networks = Vec::new();
    for peer in peers.iter().flatten() {
        match (&peer.namespace_selector, &peer.pod_selector, &peer.ip_block) {
            (Some(ns), Some(pods), None) => out.push(json!({"pods": {
                "namespaceSelector": super::to_json(ns), "podSelector": super::to_json(pods)
            }})),
            (Some(ns), None, None) => out.push(json!({"namespaces": super::to_json(ns)})),
            (None, None, Some(block)) if block.except.as_ref().is_none_or(|e| e.is_empty()) => {
                networks.push(block.cidr.clone())
            }
            (None, None, Some(_)) => return Err(unexpressible("an ipBlock with `except`")),
            _ => return Err(unexpressible("a peer in the policy's own namespace")),
        }
    }
    if !networks.is_empty() {
        out.push(json!({ "networks": networks }));
    }
    if out.is_empty() {
        return Err(unexpressible("no destination"));
    }
    Ok(out)
}

/// NetworkPolicy ports as BANP ports (`portNumber`, `portRange`, `namedPort`).
fn admin_ports(ports: &Option<Vec<NetworkPolicyPort>>) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for p in ports.iter().flatten() {
        let protocol = p.protocol.clone().unwrap_or_else(|| "TCP".into());
        out.push(match (&p.port, p.end_port) {
            (Some(IntOrString::Int(start)), Some(end)) => {
                json!({"portRange": {"protocol": protocol, "start": start, "end": end}})
            }
            (Some(IntOrString::Int(port)), None) => json!({"portNumber": {"protocol": protocol, "port": port}}),
            (Some(IntOrString::String(name)), _) => json!({ "namedPort": name }),
            (None, _) => return Err(unexpressible("a port with only a protocol")),
        });
    }
    Ok(out)
}

/// `rule`'s destinations as BANP peers (for tests of the DNS profiles).
#[cfg(test)]
fn peers_of(rule: &k8s_openapi::api::networking::v1::NetworkPolicyEgressRule) -> Result<Vec<Value>> {
    admin_peers(&rule.to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Dns;
    use crate::transform::testing::{config, model};

    const INPUT: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: b}\n---\n\
                         apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n---\n\
                         apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: kube-system}\n";

    #[test]
    fn one_object_for_the_managed_namespaces() {
        let m = model(INPUT);
        let c = config("defaultDeny: {as: baselineAdminNetworkPolicy}");
        let dns = DnsRule::new(&c.dns);
        let b = plan(&m, &c, Some(&dns), &[]).expect("plannable").expect("a baseline");
        assert_eq!(b.value["kind"], KIND);
        assert_eq!(b.value["metadata"]["name"], NAME);
        assert_eq!(b.value["spec"]["subject"]["namespaces"]["matchExpressions"][0]["values"], json!(["a", "b"]));
        assert_eq!(
            b.value["spec"]["ingress"],
            json!([{"name": "default-deny", "action": "Deny", "from": [{"namespaces": {}}]}])
        );
        let egress = b.value["spec"]["egress"].as_array().expect("egress rules");
        assert_eq!(egress.len(), 2);
        assert_eq!(egress[0]["action"], "Allow");
        assert_eq!(
            egress[0]["to"],
            json!([{"pods": {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "kube-system"}},
                             "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}}])
        );
        assert_eq!(
            egress[0]["ports"],
            json!([{"portNumber": {"protocol": "UDP", "port": 53}}, {"portNumber": {"protocol": "TCP", "port": 53}}])
        );
        assert_eq!(egress[1]["action"], "Deny");
        assert!(b.reasons[0].contains("namespaces a, b"), "{:?}", b.reasons);
    }

    #[test]
    fn only_when_asked_and_with_the_chosen_directions() {
        let m = model(INPUT);
        let dns = DnsRule::new(&Dns::default());
        assert_eq!(plan(&m, &Config::default(), Some(&dns), &[]).expect("plannable"), None);
        let ingress = config("defaultDeny: {as: baselineAdminNetworkPolicy, policyTypes: [Ingress]}");
        let b = plan(&m, &ingress, Some(&dns), &[]).expect("plannable").expect("a baseline");
        assert!(b.value["spec"].get("egress").is_none());
        let none = config("defaultDeny: {as: baselineAdminNetworkPolicy, excludeNamespaces: [a, b, kube-system]}");
        assert_eq!(plan(&m, &none, Some(&dns), &[]).expect("plannable"), None);
    }

    #[test]
    fn node_local_dns_becomes_a_networks_peer_and_except_is_refused() {
        let c = config("dns: {profile: node-local}");
        let peers = peers_of(&DnsRule::new(&c.dns).rule).expect("expressible");
        assert_eq!(peers.last(), Some(&json!({"networks": ["169.254.20.10/32"]})));
        let custom = config("dns: {profile: custom, ipBlocks: [10.0.0.10/32]}");
        assert_eq!(
            peers_of(&DnsRule::new(&custom.dns).rule).expect("expressible"),
            [json!({"networks": ["10.0.0.10/32"]})]
        );
        let except: Option<Vec<NetworkPolicyPeer>> =
            Some(vec![serde_json::from_value(json!({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}))
                .expect("a peer")]);
        assert!(admin_peers(&except).unwrap_err().to_string().contains("except"));
    }
}
