//! The policy transforms. Each is a function over the [`Model`] and the [`Config`]: it edits
//! policies in place (marking them changed) or returns new objects. Each is idempotent on its
//! own, so running netfence on its own output changes nothing.

pub mod allow_matrix;
pub mod default_deny;
pub mod dns;
pub mod egress_merge;
pub mod external_egress;
pub mod groups;
pub mod kube_api;
pub mod port_forward;
pub mod sides;
pub mod workload_policies;

use crate::config::Config;
use crate::error::Result;
use crate::k8s::{MANAGED_BY_LABEL, MANAGED_BY_NETFENCE};
use crate::model::Model;
use crate::stream::header::HELM4_FILENAME;
use k8s_openapi::api::networking::v1::NetworkPolicySpec;
use serde_json::{json, Value};

/// The file name Helm 4 is told to list generated objects under (`<chart>/templates/<this>`).
pub const HELM4_GENERATED_FILE: &str = "netfence-generated.yaml";

/// Runs every enabled transform; returns the new objects to append, in output order: per
/// namespace baselines, matrix edges, external egress, API egress, port-forward, workload policies.
pub fn apply(model: &mut Model, config: &Config) -> Result<Vec<Value>> {
    if !config.enabled {
        return Ok(Vec::new());
    }
    let dns_rule = config.dns.enabled.then(|| dns::DnsRule::new(&config.dns));
    let mut generated = default_deny::generate(model, config, dns_rule.as_ref());
    let mut taken: Vec<(String, String)> = generated.iter().map(|g| (g.namespace.clone(), g.name.clone())).collect();

    let mut edges = groups::Groups::default();
    allow_matrix::collect(model, config, &mut edges)?;
    let workload = workload_policies::generate(model, config, dns_rule.as_ref(), &mut edges, &mut taken);
    generated.extend(edges.into_policies(model, &mut taken, "netfence-allow"));
    let mut external = groups::Groups::default();
    external_egress::collect(model, config, &mut external)?;
    generated.extend(external.into_policies(model, &mut taken, "netfence-external-egress"));
    let mut api = groups::Groups::default();
    kube_api::collect(model, config, &mut api)?;
    generated.extend(api.into_policies(model, &mut taken, "netfence-kube-api"));
    generated.extend(port_forward::generate(model, config, &mut taken)?);
    generated.extend(workload);

    if let Some(rule) = &dns_rule {
        dns::inject(model, rule, &generated);
        dns::inject_generated(model, rule, &mut generated);
    }
    egress_merge::apply(model, config);
    let mut out: Vec<Value> = generated.into_iter().map(|g| g.value).collect();
    if let Some(chart) = &model.helm4_chart {
        for value in &mut out {
            value["metadata"]["annotations"][HELM4_FILENAME] =
                json!(format!("{chart}/templates/{HELM4_GENERATED_FILE}"));
        }
    }
    Ok(reconcile(model, out))
}

/// Matches generated policies with netfence's own policies of an earlier run (same namespace
/// and name): an identical one stays as it is, a different one is updated in place; only
/// policies new to the input are returned for appending. This is what makes a second run a no-op.
fn reconcile(model: &mut Model, generated: Vec<Value>) -> Vec<Value> {
    let mut fresh = Vec::new();
    for value in generated {
        let id = (value["metadata"]["namespace"].as_str(), value["metadata"]["name"].as_str());
        let existing =
            model.policies.iter_mut().find(|p| p.managed && (Some(p.namespace.as_str()), Some(p.name.as_str())) == id);
        match existing {
            Some(p) if p.value == value => {}
            Some(p) => {
                tracing::debug!(namespace = %p.namespace, policy = %p.name, "updating a policy of an earlier run");
                p.value = value;
                p.refresh();
            }
            None => fresh.push(value),
        }
    }
    fresh
}

/// A new NetworkPolicy object with netfence's label.
pub fn new_policy(namespace: &str, name: &str, spec: Value) -> Value {
    tidy(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": { MANAGED_BY_LABEL: MANAGED_BY_NETFENCE },
        },
        "spec": spec,
    }))
}

/// A policy generated for a namespace.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Typed spec, for the other transforms' checks.
    pub spec: NetworkPolicySpec,
    /// The whole object.
    pub value: Value,
}

/// A generated policy named `base` (made unique in its namespace, see [`unique_name`]).
pub fn generated(model: &Model, taken: &[(String, String)], namespace: &str, base: &str, spec: Value) -> Generated {
    let name = unique_name(model, taken, namespace, base);
    let typed = serde_json::from_value(spec.clone()).unwrap_or_default();
    Generated { namespace: namespace.to_string(), value: new_policy(namespace, &name, spec), name, spec: typed }
}

/// Picks `base`, or `base-2`, `base-3`… so that no policy in `namespace` already has the name.
pub fn unique_name(model: &Model, extra: &[(String, String)], namespace: &str, base: &str) -> String {
    // netfence's own policies from an earlier run do not count: they are regenerated under the
    // same names (see `reconcile`).
    let taken = |name: &str| {
        model.policies.iter().any(|p| !p.managed && p.namespace == namespace && p.name == name)
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
