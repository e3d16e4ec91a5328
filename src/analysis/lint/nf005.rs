//! NF005 policy-selects-nothing: a NetworkPolicy whose podSelector matches no workload.

use super::{Context, Finding, Rule, Severity};
use crate::k8s::selector;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF005",
    name: "policy-selects-nothing",
    severity: Severity::Warning,
    summary: "a policy whose podSelector matches no workload of the input",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let t = cx.topology;
    for p in &t.policies {
        let Some(sel) = p.spec.pod_selector.as_ref().filter(|s| !selector::is_empty(s)) else { continue };
        let in_ns = cx.workloads_in.get(p.namespace.as_str()).map_or(&[][..], Vec::as_slice);
        if in_ns.iter().any(|w| selector::matches(sel, &t.workloads[*w].labels)) {
            continue;
        }
        let (severity, msg) = if in_ns.is_empty() {
            (
                Severity::Info,
                format!(
                    "the input has no workload in namespace {}, so the podSelector selects nothing here",
                    p.namespace
                ),
            )
        } else {
            (
                Severity::Warning,
                format!("its podSelector matches none of the {} workloads of namespace {}", in_ns.len(), p.namespace),
            )
        };
        out.push(Finding::policy(&RULE, p, severity, msg));
    }
}
