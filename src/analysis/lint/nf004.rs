//! NF004 namespace-name-label: a namespaceSelector on `name: …`, a label Kubernetes does not
//! set (it sets `kubernetes.io/metadata.name`).

use super::{Context, Finding, Rule, Severity};
use crate::k8s::NAMESPACE_NAME_LABEL;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF004",
    name: "namespace-name-label",
    severity: Severity::Warning,
    summary: "a namespaceSelector on a `name` label, which Kubernetes does not set (it sets \
              kubernetes.io/metadata.name)",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (p, at, peer, _) in cx.peers() {
        if peer.ip_block.is_some() {
            continue;
        }
        let Some(sel) = &peer.namespace_selector else { continue };
        let mut named: Vec<&String> =
            sel.match_labels.iter().flatten().filter(|(k, _)| *k == "name").map(|(_, v)| v).collect();
        for e in sel.match_expressions.iter().flatten().filter(|e| e.key == "name" && e.operator == "In") {
            named.extend(e.values.iter().flatten());
        }
        let unset: Vec<&str> =
            named.into_iter().map(String::as_str).filter(|v| !cx.namespace_name_values.contains(v)).collect();
        if !unset.is_empty() {
            let msg = format!(
                "{at}.namespaceSelector selects `name: {}`, a label Kubernetes does not set on namespaces (no \
                 Namespace of the input has it); use {NAMESPACE_NAME_LABEL}",
                unset.join(", ")
            );
            out.push(Finding::policy(&RULE, p, Severity::Warning, msg));
        }
    }
}
