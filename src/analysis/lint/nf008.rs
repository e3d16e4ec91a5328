//! NF008 invalid-selector: a label selector the API server rejects (the shared validator's
//! [`validate::label_selector_issues`]).

use super::{Context, Finding, Rule, Severity};
use crate::k8s::validate;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF008",
    name: "invalid-selector",
    severity: Severity::Error,
    summary: "a label selector the API server rejects (bad label key or value, unknown operator, In/NotIn without \
              values, Exists/DoesNotExist with values)",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    for p in &cx.topology.policies {
        let mut selectors = Vec::new();
        if let Some(sel) = &p.spec.pod_selector {
            selectors.push(("spec.podSelector".to_string(), sel));
        }
        for (_, at, peer, _) in super::peers_of(p) {
            if peer.ip_block.is_some() {
                continue;
            }
            if let Some(sel) = &peer.pod_selector {
                selectors.push((format!("{at}.podSelector"), sel));
            }
            if let Some(sel) = &peer.namespace_selector {
                selectors.push((format!("{at}.namespaceSelector"), sel));
            }
        }
        for (at, sel) in selectors {
            for issue in validate::label_selector_issues(sel) {
                out.push(Finding::policy(&RULE, p, Severity::Error, issue.under(&at)));
            }
        }
    }
}
