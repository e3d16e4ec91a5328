//! NF009 invalid-rule: a peer or port the API server rejects (the shared validator's
//! [`validate::peer_issues`] and [`validate::port_issues`]).

use super::{nf008, Context, Finding, Rule, Severity};
use crate::analysis::engine::topology::ProblemKind;
use crate::k8s::validate;
use std::collections::HashSet;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF009",
    name: "invalid-rule",
    severity: Severity::Error,
    summary: "a peer or port the API server rejects (ipBlock with selectors, empty peer, bad CIDR, except outside \
              the CIDR, bad protocol, endPort errors)",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    for p in &cx.topology.policies {
        let ingress = p.spec.ingress.iter().flatten().enumerate().map(|(i, r)| {
            (
                format!("spec.ingress[{i}]"),
                "from",
                r.from.as_deref().unwrap_or_default(),
                r.ports.as_deref().unwrap_or_default(),
            )
        });
        let egress = p.spec.egress.iter().flatten().enumerate().map(|(i, r)| {
            (
                format!("spec.egress[{i}]"),
                "to",
                r.to.as_deref().unwrap_or_default(),
                r.ports.as_deref().unwrap_or_default(),
            )
        });
        // Rule by rule: its peers, then its ports.
        for (at, field, peers, ports) in ingress.chain(egress) {
            for (j, peer) in peers.iter().enumerate() {
                for issue in validate::peer_issues(peer) {
                    out.push(Finding::policy(&RULE, p, Severity::Error, issue.under(&format!("{at}.{field}[{j}]"))));
                }
            }
            for (j, port) in ports.iter().enumerate() {
                for issue in validate::port_issues(port) {
                    out.push(Finding::policy(&RULE, p, Severity::Error, issue.under(&format!("{at}.ports[{j}]"))));
                }
            }
        }
    }
}

/// The NetworkPolicies the analysis refuses for reasons the checks of NF008 and NF009 above did
/// not report (runs after both): as NF008 when about a selector, else as NF009.
pub(super) fn unreported(cx: &Context, out: &mut Vec<Finding>) {
    let reported: HashSet<String> = out
        .iter()
        .filter(|f| f.rule.id == nf008::RULE.id || f.rule.id == RULE.id)
        .map(|f| format!("NetworkPolicy {}", f.subject))
        .collect();
    for p in &cx.topology.problems {
        if p.kind != ProblemKind::InvalidNetworkPolicy || reported.contains(&p.subject) {
            continue;
        }
        let rule = if p.message.contains("Selector") { &nf008::RULE } else { &RULE };
        out.push(Finding {
            rule,
            severity: Severity::Error,
            subject: p.subject.strip_prefix("NetworkPolicy ").unwrap_or(&p.subject).to_string(),
            origin: p.origin.clone(),
            message: p.message.clone(),
        });
    }
}
