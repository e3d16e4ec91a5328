//! Collects generated rules per pod set (namespace + selector), so that everything about the same
//! pods ends up in one policy rather than one policy per edge.

use super::sides::Pods;
use super::{generated, tidy, Generated};
use crate::model::Model;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Rules for one pod set.
#[derive(Debug, Clone)]
pub struct Group {
    /// The pods the policy selects.
    pub pods: Pods,
    /// Ingress rules (NetworkPolicyIngressRule values).
    pub ingress: Vec<Value>,
    /// Egress rules (NetworkPolicyEgressRule values).
    pub egress: Vec<Value>,
}

/// Groups keyed by pod set, in a deterministic order.
#[derive(Debug, Default)]
pub struct Groups {
    map: BTreeMap<(String, String), Group>,
}

impl Groups {
    fn group(&mut self, pods: &Pods) -> &mut Group {
        self.map.entry(pods.key()).or_insert_with(|| Group { pods: pods.clone(), ingress: vec![], egress: vec![] })
    }

    /// Adds an egress rule for `pods` (once).
    pub fn egress(&mut self, pods: &Pods, rule: Value) {
        let rules = &mut self.group(pods).egress;
        let rule = tidy(rule);
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }

    /// Adds an ingress rule for `pods` (once).
    pub fn ingress(&mut self, pods: &Pods, rule: Value) {
        let rules = &mut self.group(pods).ingress;
        let rule = tidy(rule);
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }

    /// Removes and returns the group of these pods.
    pub fn take(&mut self, pods: &Pods) -> Option<Group> {
        self.map.remove(&pods.key())
    }

    /// Turns each group into a policy named `<prefix>` (whole namespace) or `<prefix>-<slug>`.
    pub fn into_policies(self, model: &Model, taken: &mut Vec<(String, String)>, prefix: &str) -> Vec<Generated> {
        self.map.into_values().map(|g| group_policy(model, taken, prefix, g, None)).collect()
    }
}

/// One policy for a group; `extra` overrides the annotations and labels to add.
pub fn group_policy(
    model: &Model,
    taken: &mut Vec<(String, String)>,
    prefix: &str,
    g: Group,
    extra_labels: Option<(&str, &str)>,
) -> Generated {
    let slug = g.pods.slug();
    let base = if slug.is_empty() { prefix.to_string() } else { format!("{prefix}-{slug}") };
    let mut types = Vec::new();
    let mut spec = json!({ "podSelector": g.pods.pod_selector_value() });
    if !g.ingress.is_empty() {
        types.push("Ingress");
        spec["ingress"] = Value::Array(g.ingress);
    }
    if !g.egress.is_empty() {
        types.push("Egress");
        spec["egress"] = Value::Array(g.egress);
    }
    spec["policyTypes"] = json!(types);
    let mut policy = generated(model, taken, &g.pods.namespace, &base, tidy(spec));
    if let Some((k, v)) = extra_labels {
        policy.value["metadata"]["labels"][k] = json!(v);
    }
    taken.push((policy.namespace.clone(), policy.name.clone()));
    policy
}
