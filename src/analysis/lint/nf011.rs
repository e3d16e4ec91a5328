//! NF011 policy-conflict: objects the cluster would not keep side by side
//! ([`ProblemKind::Conflict`]).

use super::{problems, Context, Finding, Rule, Severity};
use crate::analysis::engine::topology::ProblemKind;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF011",
    name: "policy-conflict",
    severity: Severity::Error,
    summary: "two policies (or namespaces) with the same name, two AdminNetworkPolicies with the same priority, or \
              a second BaselineAdminNetworkPolicy: the cluster keeps one, or the order is undefined",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    problems::findings(cx.topology, ProblemKind::Conflict, &RULE, out);
}
