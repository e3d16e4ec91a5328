//! The policy transforms. Each is a function over the [`Model`] and the [`Config`]: it edits
//! policies in place (marking them changed) or returns new objects. Each is idempotent on its
//! own, so running netfence on its own output changes nothing.

pub mod default_deny;
pub mod dns;
pub mod egress_merge;

use crate::config::Config;
use crate::model::Model;
use crate::stream::header::HELM4_FILENAME;
use serde_json::{json, Value};

/// Label put on every object netfence generates.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "netfence");

/// The file name Helm 4 is told to list generated objects under (`<chart>/templates/<this>`).
pub const HELM4_GENERATED_FILE: &str = "netfence-generated.yaml";

/// Runs every enabled transform; returns the new objects to append, in output order.
pub fn apply(model: &mut Model, config: &Config) -> Vec<Value> {
    if !config.enabled {
        return Vec::new();
    }
    let dns_rule = config.dns.enabled.then(|| dns::DnsRule::new(&config.dns));
    let generated = default_deny::generate(model, config, dns_rule.as_ref());
    if let Some(rule) = &dns_rule {
        dns::inject(model, rule, &generated);
    }
    egress_merge::apply(model, config);
    let mut out: Vec<Value> = generated.into_iter().map(|g| g.value).collect();
    if let Some(chart) = &model.helm4_chart {
        for value in &mut out {
            value["metadata"]["annotations"] =
                json!({ HELM4_FILENAME: format!("{chart}/templates/{HELM4_GENERATED_FILE}") });
        }
    }
    out
}

/// A new NetworkPolicy object with netfence's label.
pub fn new_policy(namespace: &str, name: &str, spec: Value) -> Value {
    tidy(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": { MANAGED_BY.0: MANAGED_BY.1 },
        },
        "spec": spec,
    }))
}

/// Picks `base`, or `base-2`, `base-3`… so that no policy in `namespace` already has the name.
pub fn unique_name(model: &Model, extra: &[(String, String)], namespace: &str, base: &str) -> String {
    let taken = |name: &str| {
        model.policies.iter().any(|p| p.namespace == namespace && p.name == name)
            || extra.iter().any(|(ns, n)| ns == namespace && n == name)
    };
    if !taken(base) {
        return base.to_string();
    }
    (2..).map(|i| format!("{base}-{i}")).find(|n| !taken(n)).expect("an unused name exists")
}

/// Key order for the YAML netfence writes: the order people write NetworkPolicies in
/// (k8s-openapi serialises fields alphabetically, which puts `ports` before `to`).
const KEY_ORDER: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "labels",
    "annotations",
    "spec",
    "namespaceSelector",
    "podSelector",
    "ipBlock",
    "cidr",
    "except",
    "policyTypes",
    "ingress",
    "egress",
    "from",
    "to",
    "protocol",
    "port",
    "endPort",
    "ports",
    "matchLabels",
    "matchExpressions",
    "key",
    "operator",
    "values",
];

/// Reorders the keys of generated content by [`KEY_ORDER`] (unknown keys keep their order, last).
pub fn tidy(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().map(|(k, v)| (k, tidy(v))).collect();
            entries.sort_by_key(|(k, _)| KEY_ORDER.iter().position(|o| o == k).unwrap_or(KEY_ORDER.len()));
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(tidy).collect()),
        other => other,
    }
}
