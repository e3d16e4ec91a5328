//! NF007 policy-types-default: a NetworkPolicy relying on the policyTypes defaults.

use super::{Context, Finding, Rule, Severity};
use crate::model::policy as semantics;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF007",
    name: "policy-types-default",
    severity: Severity::Info,
    summary: "a policy without policyTypes, relying on the defaults (a warning when `egress: []` therefore does \
              not isolate egress)",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    for p in &cx.topology.policies {
        let spec = &p.spec;
        if !spec.policy_types.as_ref().is_none_or(Vec::is_empty) {
            continue;
        }
        if spec.egress.as_ref().is_some_and(Vec::is_empty) {
            let msg = "`egress: []` without policyTypes does not isolate egress (Egress is only implied by egress \
                       rules); add policyTypes: [Ingress, Egress]";
            out.push(Finding::policy(&RULE, p, Severity::Warning, msg.into()));
        } else {
            let (i, e) = semantics::effective_types(spec);
            let types: Vec<&str> =
                [(i, "Ingress"), (e, "Egress")].into_iter().filter(|(on, _)| *on).map(|(_, t)| t).collect();
            out.push(Finding::policy(
                &RULE,
                p,
                Severity::Info,
                format!("no policyTypes: defaults to [{}]", types.join(", ")),
            ));
        }
    }
}
