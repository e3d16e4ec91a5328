//! NF010 invalid-admin-policy: an AdminNetworkPolicy or BaselineAdminNetworkPolicy the API
//! server rejects (found while reading the input, [`ProblemKind::InvalidAdminPolicy`]).

use super::{problems, Context, Finding, Rule, Severity};
use crate::analysis::engine::topology::ProblemKind;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF010",
    name: "invalid-admin-policy",
    severity: Severity::Error,
    summary: "an AdminNetworkPolicy or BaselineAdminNetworkPolicy the API server rejects (priority out of 0-1000, \
              subject or peer with not exactly one field, rule without peers, unknown action, Pass in the baseline, \
              a baseline not named default, bad port or CIDR)",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    problems::findings(cx.topology, ProblemKind::InvalidAdminPolicy, &RULE, out);
}
