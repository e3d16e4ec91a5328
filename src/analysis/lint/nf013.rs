//! NF013 admin-rule-shadowed: an admin rule that never decides anything, because the earlier
//! rules of its policy decide every connection it matches.

use super::{Context, Finding, Rule, Severity};
use crate::analysis::engine::connectivity::Direction;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF013",
    name: "admin-rule-shadowed",
    severity: Severity::Warning,
    summary: "an AdminNetworkPolicy or BaselineAdminNetworkPolicy rule that never decides anything: earlier rules \
              of the same policy already decide every connection it matches",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let t = cx.topology;
    let policies = t.admin_policies.iter().enumerate().map(|(i, a)| (Some(i), a));
    for (index, a) in policies.chain(t.baseline.iter().map(|b| (None, b))) {
        // A policy selecting nothing is NF014's.
        if !cx.engine.admin_selects_any_workload(index) {
            continue;
        }
        for (direction, rules) in [(Direction::Ingress, &a.ingress), (Direction::Egress, &a.egress)] {
            for (i, r) in rules.iter().enumerate().skip(1) {
                if cx.engine.admin_rule_shadowed(index, direction, i) != Some(true) {
                    continue;
                }
                let name = if r.name.is_empty() { String::new() } else { format!(" {:?}", r.name) };
                out.push(Finding {
                    rule: &RULE,
                    severity: Severity::Warning,
                    subject: a.id(),
                    origin: a.origin.clone(),
                    message: format!(
                        "spec.{direction}[{i}]{name} ({}) never decides anything: the earlier rules of the policy \
                         already decide every connection it matches",
                        r.action.as_str()
                    ),
                });
            }
        }
    }
}
