//! Seed 1's pattern, "every service policy includes DNS plus its dependencies": a policy of its
//! own for every workload that no policy of the input selects, holding DNS, the extra egress
//! rules and (by [`absorb_edges`]) the workload's own `allow` edges.

use super::dns::DnsRule;
use super::groups::{group_policy, Group};
use super::plan::{NewPolicy, Plan};
use crate::config::Config;
use crate::model::{policy, Model, Workload};

/// Base name of the generated policies (`netfence-workload-<name>`).
pub const PREFIX: &str = "netfence-workload";

/// One policy per workload that no policy of the input selects, in (namespace, name) order.
pub fn plan(model: &Model, config: &Config, dns: Option<&DnsRule>) -> Plan {
    if !config.workload_policies.enabled {
        return Plan::default();
    }
    let mut workloads: Vec<_> = model.workloads.iter().filter(|w| is_candidate(model, w)).collect();
    workloads.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let extra = super::egress_merge::rules(model, config);
    let policies = workloads
        .into_iter()
        .map(|w| {
            let mut group = Group::new(super::allowances::pods_of(w));
            group.egress.extend(dns.map(|d| d.rule.clone()));
            group.egress.extend(extra.iter().map(|r| (*r).clone()));
            group.reasons.push(format!(
                "workloadPolicies: {} {}/{} is selected by no policy: its own policy, with DNS and the extra egress rules",
                w.kind, w.namespace, w.name
            ));
            workload_policy(group)
        })
        .collect();
    Plan::of_policies(policies)
}

/// Whether `w` gets a workload policy (when they are enabled): a pod-creating kind (or an
/// operator resource standing for its pods, see [`crate::model::operator`]), pods that
/// policies apply to and can select, and no policy of the input selecting them specifically.
pub fn is_candidate(model: &Model, w: &Workload) -> bool {
    (matches!(w.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob" | "Pod")
        || crate::model::operator::is_operator_workload(w))
        && !w.host_network
        && !w.pod_labels.is_empty()
        && !model
            .policies_in(&w.namespace)
            .any(|p| !p.managed && !policy::selects_whole_namespace(&p.spec) && p.pod_selector.matches(&w.pod_labels))
}

/// The policy of a workload's group: both directions isolated even without ingress rules.
fn workload_policy(group: Group) -> NewPolicy {
    let mut p = group_policy(group, PREFIX);
    p.spec.policy_types = Some(vec!["Ingress".into(), "Egress".into()]);
    p
}

/// The pass that moves each workload's own `allow` edges (an allow-matrix policy for exactly
/// the workload's pods) into its workload policy, so one policy holds everything about them.
/// Returns the workload policies and what is left of the allow policies.
pub fn absorb_edges(workloads: Vec<NewPolicy>, allow: Vec<NewPolicy>) -> (Vec<NewPolicy>, Vec<NewPolicy>) {
    let mut allow: Vec<Option<NewPolicy>> = allow.into_iter().map(Some).collect();
    let index: std::collections::HashMap<(String, String), usize> =
        allow.iter().enumerate().filter_map(|(i, p)| Some((p.as_ref()?.pods.as_ref()?.key(), i))).collect();
    let workloads = workloads
        .into_iter()
        .map(|w| {
            let Some(pods) = w.pods.clone() else { return w };
            let Some(edges) = index.get(&pods.key()).and_then(|&i| allow[i].take()) else { return w };
            let mut group = Group::new(pods);
            group.egress = w.spec.egress.clone().unwrap_or_default();
            for rule in edges.spec.egress.into_iter().flatten() {
                if !group.egress.contains(&rule) {
                    group.egress.push(rule);
                }
            }
            group.ingress = edges.spec.ingress.unwrap_or_default();
            group.reasons = w.reasons.into_iter().chain(edges.reasons).collect();
            workload_policy(group)
        })
        .collect();
    (workloads, allow.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Dns;
    use crate::transform::{allow_matrix, testing};

    const INPUT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: db, namespace: shop}\nspec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c}]}}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db, namespace: shop}\nspec: {podSelector: {matchLabels: {app: db}}}\n";

    #[test]
    fn unselected_workloads_get_a_policy_with_their_edges() {
        let m = testing::model(INPUT);
        let c = testing::config(
            "workloadPolicies: {enabled: true}\nallow: [{from: {namespace: shop}, to: {workload: web}}]",
        );
        let dns = DnsRule::new(&Dns::default());
        let p = plan(&m, &c, Some(&dns));
        assert_eq!(p.policies.len(), 1, "db is selected by the input's policy");
        assert_eq!(p.policies[0].base_name, "netfence-workload-web");
        assert_eq!(p.policies[0].spec.egress.as_ref().unwrap()[0], dns.rule);
        let allow = allow_matrix::plan(&m, &c).unwrap().policies;
        assert_eq!(allow.len(), 2);
        let (workloads, rest) = absorb_edges(p.policies, allow);
        assert_eq!(rest.len(), 1, "the namespace's client side stays an allow policy");
        assert_eq!(workloads[0].spec.ingress.as_ref().map(Vec::len), Some(1));
        assert_eq!(workloads[0].spec.policy_types, Some(vec!["Ingress".into(), "Egress".into()]));
        assert_eq!(workloads[0].reasons.len(), 2);
    }
}
