//! Extra egress rules from `networkPolicy.egress` (and Bitnami's `extraEgress`), appended once to
//! every policy that restricts egress of specific pods.
//!
//! Policies that select a whole namespace (a default-deny, an allow-DNS baseline) are left alone:
//! appending a service's dependencies there would open them to every pod of the namespace.

use super::plan::{Change, Edit, Finding, Plan, Severity};
use crate::config::Config;
use crate::model::{policy, Model};

/// Edits appending each configured rule to each target policy that does not already hold an
/// equal rule; a warning when no policy is a target.
pub fn plan(model: &Model, config: &Config) -> Plan {
    let rules: Vec<_> = config.extra_rules().collect();
    if rules.is_empty() {
        return Plan::default();
    }
    let mut out = Plan::default();
    let mut targets = 0;
    for (i, p) in model.policies.iter().enumerate() {
        if p.managed || !policy::restricts_egress(&p.spec) || policy::selects_whole_namespace(&p.spec) {
            continue;
        }
        targets += 1;
        let missing: Vec<_> = rules
            .iter()
            .filter(|r| !p.spec.egress.iter().flatten().any(|existing| existing == **r))
            .map(|r| (*r).clone())
            .collect();
        if !missing.is_empty() {
            let reason = format!("egress restricted: added {} extra egress rule(s) from the values", missing.len());
            out.edits.push(Edit { policy: i, change: Change::AppendEgress(missing), reason });
        }
    }
    if targets == 0 {
        out.findings.push(Finding {
            severity: Severity::Warning,
            field: Some("egress".into()),
            message: "no policy restricts egress of specific pods, so the extra egress rules were not used".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::testing::{config, model};

    const POLICIES: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: a}\nspec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{ports: [{port: 8080}]}]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: a}\nspec: {podSelector: {}, policyTypes: [Egress]}\n";

    #[test]
    fn appends_missing_rules_to_pod_specific_policies_only() {
        let m = model(POLICIES);
        let p = plan(&m, &config("egress: [{ports: [{port: 8080}]}, {ports: [{port: 9090}]}]"));
        assert_eq!(p.edits.len(), 1);
        assert_eq!(p.edits[0].policy, 0);
        let Change::AppendEgress(rules) = &p.edits[0].change else { panic!("{:?}", p.edits[0]) };
        assert_eq!(rules.len(), 1, "the 8080 rule is already there");
        assert!(p.findings.is_empty());
        let none = plan(&model(&POLICIES[POLICIES.find("---").unwrap()..]), &config("egress: [{ports: [{port: 1}]}]"));
        assert_eq!(none.findings.len(), 1);
    }
}
