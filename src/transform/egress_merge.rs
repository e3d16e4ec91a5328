//! Extra egress rules, from `netfence.egress` and the chart's `networkPolicy.egress`, appended
//! once to every policy that restricts egress of specific pods.
//!
//! Policies that select a whole namespace (a default-deny, an allow-DNS baseline) are left alone:
//! appending a service's dependencies there would open them to every pod of the namespace.
//!
//! A rule of the chart's `networkPolicy.egress` that one of the chart's policies already holds was
//! rendered by the chart into the policy it belongs to (cert-manager writes it into the
//! controller's policy only): it is not spread to the chart's other policies.

use super::plan::{Change, Edit, Finding, Plan, Severity};
use crate::config::Config;
use crate::model::{policy, Model};
use k8s_openapi::api::networking::v1::NetworkPolicyEgressRule;

/// The rules to merge: `netfence.egress`, then the chart's `networkPolicy.egress` rules that
/// none of the chart's policies holds yet.
pub fn rules<'a>(model: &Model, config: &'a Config) -> Vec<&'a NetworkPolicyEgressRule> {
    let rendered_by_chart = |rule: &&NetworkPolicyEgressRule| {
        model.policies.iter().any(|p| !p.managed && p.spec.egress.iter().flatten().any(|r| r == *rule))
    };
    config.egress.iter().chain(config.chart_egress.iter().filter(|r| !rendered_by_chart(r))).collect()
}

/// Edits appending each configured rule to each target policy that does not already hold an
/// equal rule; a warning when no policy is a target.
pub fn plan(model: &Model, config: &Config) -> Plan {
    if config.egress.is_empty() && config.chart_egress.is_empty() {
        return Plan::default();
    }
    let rules = rules(model, config);
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

    #[test]
    fn chart_rules_the_chart_rendered_stay_where_it_put_them() {
        let two = format!("{POLICIES}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: hook, namespace: a}}\nspec: {{podSelector: {{matchLabels: {{app: hook}}}}, policyTypes: [Egress]}}\n");
        let m = model(&two);
        let mut c = config("egress: [{ports: [{port: 9090}]}]");
        c.chart_egress = config("egress: [{ports: [{port: 8080}]}, {ports: [{port: 7070}]}]").egress;
        let p = plan(&m, &c);
        let appended: Vec<(usize, Vec<i32>)> = p
            .edits
            .iter()
            .map(|e| {
                let Change::AppendEgress(rules) = &e.change else { panic!() };
                let ports = rules.iter().map(|r| match r.ports.as_ref().unwrap()[0].port {
                    Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n)) => n,
                    _ => 0,
                });
                (e.policy, ports.collect())
            })
            .collect();
        // 8080 is in `web` already (the chart rendered it): not spread to `hook`.
        assert_eq!(appended, [(0, vec![9090, 7070]), (2, vec![9090, 7070])]);
    }
}
