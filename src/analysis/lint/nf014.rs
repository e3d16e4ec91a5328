//! NF014 admin-subject-selects-nothing: an admin policy whose subject matches no workload.

use super::{Context, Finding, Rule, Severity};

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF014",
    name: "admin-subject-selects-nothing",
    severity: Severity::Warning,
    summary: "an AdminNetworkPolicy or BaselineAdminNetworkPolicy whose subject matches no workload of the input",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let t = cx.topology;
    let policies = t.admin_policies.iter().enumerate().map(|(i, a)| (Some(i), a));
    for (index, a) in policies.chain(t.baseline.iter().map(|b| (None, b))) {
        if cx.engine.admin_selects_any_workload(index) {
            continue;
        }
        let message = if a.ingress.is_empty() && a.egress.is_empty() {
            "it has no ingress or egress rule, so it selects nothing for either direction"
        } else {
            "its subject matches no workload of the input"
        };
        out.push(Finding {
            rule: &RULE,
            severity: Severity::Warning,
            subject: a.id(),
            origin: a.origin.clone(),
            message: message.to_string(),
        });
    }
}
