//! Collects generated rules per pod set (namespace + selector), so that everything about the same
//! pods ends up in one policy rather than one policy per edge.

use super::plan::NewPolicy;
use super::sides::Pods;
use k8s_openapi::api::networking::v1::{NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicySpec};
use std::collections::BTreeMap;

/// Rules for one pod set, and why they are there.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The pods the policy selects.
    pub pods: Pods,
    /// Ingress rules.
    pub ingress: Vec<NetworkPolicyIngressRule>,
    /// Egress rules.
    pub egress: Vec<NetworkPolicyEgressRule>,
    /// Reasons, each once.
    pub reasons: Vec<String>,
}

impl Group {
    /// An empty group for `pods`.
    pub fn new(pods: Pods) -> Group {
        Group { pods, ingress: vec![], egress: vec![], reasons: vec![] }
    }

    fn reason(&mut self, reason: &str) {
        if !self.reasons.iter().any(|r| r == reason) {
            self.reasons.push(reason.to_string());
        }
    }
}

/// Groups keyed by pod set, in a deterministic order (namespace, then selector).
#[derive(Debug, Default)]
pub struct Groups {
    map: BTreeMap<(String, String), Group>,
}

impl Groups {
    fn group(&mut self, pods: &Pods) -> &mut Group {
        self.map.entry(pods.key()).or_insert_with(|| Group::new(pods.clone()))
    }

    /// Adds an egress rule for `pods` (once).
    pub fn egress(&mut self, pods: &Pods, rule: NetworkPolicyEgressRule, reason: &str) {
        let group = self.group(pods);
        if !group.egress.contains(&rule) {
            group.egress.push(rule);
        }
        group.reason(reason);
    }

    /// Adds an ingress rule for `pods` (once).
    pub fn ingress(&mut self, pods: &Pods, rule: NetworkPolicyIngressRule, reason: &str) {
        let group = self.group(pods);
        if !group.ingress.contains(&rule) {
            group.ingress.push(rule);
        }
        group.reason(reason);
    }

    /// Turns each group into a policy named `<prefix>` (whole namespace) or `<prefix>-<slug>`.
    pub fn into_policies(self, prefix: &str) -> Vec<NewPolicy> {
        self.map.into_values().map(|g| group_policy(g, prefix)).collect()
    }
}

/// One policy for a group: its rules, `policyTypes` for the directions it has rules for.
pub fn group_policy(g: Group, prefix: &str) -> NewPolicy {
    let slug = g.pods.slug();
    let base = if slug.is_empty() { prefix.to_string() } else { format!("{prefix}-{slug}") };
    let mut types = Vec::new();
    if !g.ingress.is_empty() {
        types.push("Ingress".to_string());
    }
    if !g.egress.is_empty() {
        types.push("Egress".to_string());
    }
    let spec = NetworkPolicySpec {
        pod_selector: Some(g.pods.selector.clone()),
        ingress: (!g.ingress.is_empty()).then_some(g.ingress),
        egress: (!g.egress.is_empty()).then_some(g.egress),
        policy_types: Some(types),
    };
    NewPolicy {
        namespace: g.pods.namespace.clone(),
        base_name: base,
        spec,
        labels: vec![],
        annotations: vec![],
        pods: Some(g.pods),
        reasons: g.reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::selector::from_labels;

    #[test]
    fn rules_for_the_same_pods_share_one_policy() {
        let web = Pods::new("shop", from_labels([("app", "web")]));
        let mut groups = Groups::default();
        groups.egress(&web, NetworkPolicyEgressRule::default(), "a");
        groups.egress(&web, NetworkPolicyEgressRule::default(), "a");
        groups.ingress(&web, NetworkPolicyIngressRule::default(), "b");
        groups.ingress(&Pods::new("shop", Default::default()), NetworkPolicyIngressRule::default(), "c");
        let policies = groups.into_policies("netfence-allow");
        assert_eq!(policies.len(), 2);
        // Ordered by namespace, then the selector's JSON.
        assert_eq!(policies[0].base_name, "netfence-allow-web");
        assert_eq!(policies[1].base_name, "netfence-allow");
        assert_eq!(policies[0].spec.egress.as_ref().map(Vec::len), Some(1));
        assert_eq!(policies[0].spec.policy_types, Some(vec!["Ingress".into(), "Egress".into()]));
        assert_eq!(policies[0].reasons, ["a", "b"]);
    }
}
