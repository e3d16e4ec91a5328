//! NF012 owner-labels-differ: pods of one owner that the policies tell apart
//! ([`ProblemKind::OwnerLabels`]).

use super::{problems, Context, Finding, Rule, Severity};
use crate::analysis::engine::topology::ProblemKind;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF012",
    name: "owner-labels-differ",
    severity: Severity::Error,
    summary: "pods of one owner whose labels differ where a policy selects: they are not one workload to the \
              policies, and the analysis cannot name them apart",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    problems::findings(cx.topology, ProblemKind::OwnerLabels, &RULE, out);
}
