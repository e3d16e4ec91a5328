//! What the analysis commands refuse to analyse ([`Topology::problems`]), as findings of the
//! rule each kind belongs to.

use super::{Finding, Rule, Severity};
use crate::analysis::engine::topology::{ProblemKind, Topology};

/// The problems of `kind` as errors of `rule`, subjects without the `NetworkPolicy ` prefix.
pub(super) fn findings(t: &Topology, kind: ProblemKind, rule: &'static Rule, out: &mut Vec<Finding>) {
    for p in t.problems.iter().filter(|p| p.kind == kind) {
        out.push(Finding {
            rule,
            severity: Severity::Error,
            subject: p.subject.strip_prefix("NetworkPolicy ").unwrap_or(&p.subject).to_string(),
            origin: p.origin.clone(),
            message: p.message.clone(),
        });
    }
}
