//! Per-namespace baseline: a default-deny policy and an allow-DNS policy, so that every pod is
//! isolated and still resolves names.
//!
//! Names are `netfence-default-deny` and `netfence-allow-dns` (made unique by
//! [`super::naming`]). A namespace that already has an equivalent policy gets no second one.
//! Helm hooks neither satisfy nor receive the baseline: a hook policy is no baseline, and a
//! namespace holding only hooks gets none, so Helm 3 (which does not pass hooks to a
//! post-renderer) and Helm 4 (which does) get the same baseline.

use super::dns::{self, DnsRule};
use super::plan::{NewPolicy, Plan};
use crate::config::{BaselineForm, Config, PolicyType};
use crate::model::{policy, Model};
use k8s_openapi::api::networking::v1::NetworkPolicySpec;

/// Base name of the generated default-deny policy.
pub const DEFAULT_DENY: &str = "netfence-default-deny";
/// Base name of the generated allow-DNS policy.
pub const ALLOW_DNS: &str = "netfence-allow-dns";

/// Whether `spec` denies everything in direction `t` for the whole namespace: it selects every
/// pod, isolates that direction and has no rule for it.
fn denies_all(spec: &NetworkPolicySpec, t: PolicyType) -> bool {
    let (ingress, egress) = policy::effective_types(spec);
    policy::selects_whole_namespace(spec)
        && match t {
            PolicyType::Ingress => ingress && spec.ingress.as_ref().is_none_or(|r| r.is_empty()),
            PolicyType::Egress => egress && spec.egress.as_ref().is_none_or(|r| r.is_empty()),
        }
}

/// The missing baseline policies of every managed namespace, in namespace order.
pub fn plan(model: &Model, config: &Config, dns_rule: Option<&DnsRule>) -> Plan {
    let cfg = &config.default_deny;
    if !cfg.enabled || cfg.as_ != BaselineForm::NetworkPolicies {
        // (The other form is one cluster-scoped object: super::baseline_admin.)
        return Plan::default();
    }
    let mut types: Vec<PolicyType> = cfg.policy_types.clone();
    types.sort();
    types.dedup();
    let mut out = Vec::new();
    let managed =
        |ns: &&str| !cfg.exclude_namespaces.iter().any(|e| e == ns) && !model.hook_only_namespaces.contains(*ns);
    for ns in model.namespace_names().filter(managed) {
        // Directions some namespace-wide deny-all policy already covers need no new policy.
        // netfence's own policies of an earlier run do not count: they are regenerated (else a
        // changed configuration would flip them back and forth between runs). Nor do Helm
        // hooks: they exist only while the hook runs, and only Helm 4 shows them to netfence.
        let theirs = || model.policies_in(ns).filter(|p| !p.managed && !p.hook);
        let missing: Vec<PolicyType> =
            types.iter().copied().filter(|t| !theirs().any(|p| denies_all(&p.spec, *t))).collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|t| t.as_str()).collect();
            let spec = NetworkPolicySpec {
                pod_selector: Some(Default::default()),
                policy_types: Some(names.iter().map(|t| t.to_string()).collect()),
                ..Default::default()
            };
            let reason = format!("namespace {ns} had no default-deny for {}", names.join(" and "));
            out.push(NewPolicy::new(ns, DEFAULT_DENY, spec, reason));
        }
        if let Some(rule) = dns_rule {
            if cfg.policy_types.contains(&PolicyType::Egress)
                && !dns::is_baseline_among(theirs().map(|p| &p.spec), rule, ns)
            {
                let spec = NetworkPolicySpec {
                    pod_selector: Some(Default::default()),
                    policy_types: Some(vec!["Egress".into()]),
                    egress: Some(vec![rule.rule.clone()]),
                    ..Default::default()
                };
                let reason = format!("namespace {ns} denies egress: every pod still needs DNS ({})", rule.describe());
                out.push(NewPolicy::new(ns, ALLOW_DNS, spec, reason));
            }
        }
    }
    Plan::of_policies(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Dns;
    use crate::transform::testing::{config, model};

    #[test]
    fn a_baseline_per_namespace_unless_present() {
        let m = model(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: b}\n\
             spec: {podSelector: {}, policyTypes: [Ingress]}\n---\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: kube-system}\n",
        );
        let dns = DnsRule::new(&Dns::default());
        let p = plan(&m, &Config::default(), Some(&dns));
        let got: Vec<(&str, &str, Option<Vec<String>>)> = p
            .policies
            .iter()
            .map(|p| (p.namespace.as_str(), p.base_name.as_str(), p.spec.policy_types.clone()))
            .collect();
        let types = |t: &[&str]| Some(t.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            got,
            [
                ("a", DEFAULT_DENY, types(&["Ingress", "Egress"])),
                ("a", ALLOW_DNS, types(&["Egress"])),
                ("b", DEFAULT_DENY, types(&["Egress"])),
                ("b", ALLOW_DNS, types(&["Egress"])),
            ]
        );
        assert!(plan(&m, &config("defaultDeny: {enabled: false}"), Some(&dns)).policies.is_empty());
        let ingress_only = plan(&m, &config("defaultDeny: {policyTypes: [Ingress]}"), Some(&dns));
        assert_eq!(ingress_only.policies.len(), 1, "a has one; b has its own and needs no allow-DNS");
    }

    #[test]
    fn hooks_neither_satisfy_nor_receive_the_baseline() {
        let hook = "annotations: {helm.sh/hook: pre-upgrade, helm.sh/hook-delete-policy: hook-succeeded}";
        let m = model(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: a}}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: deny, namespace: a, {hook}}}\n\
             spec: {{podSelector: {{}}, policyTypes: [Ingress, Egress]}}\n---\n\
             apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j, namespace: h, {hook}}}\n"
        ));
        assert_eq!(m.hook_only_namespaces.iter().collect::<Vec<_>>(), ["h"]);
        let dns = DnsRule::new(&Dns::default());
        let p = plan(&m, &Config::default(), Some(&dns));
        let got: Vec<(&str, &str)> = p.policies.iter().map(|p| (p.namespace.as_str(), p.base_name.as_str())).collect();
        assert_eq!(got, [("a", DEFAULT_DENY), ("a", ALLOW_DNS)]);
    }
}
