//! NF003 egress-to-any-address: an egress ipBlock `0.0.0.0/0` or `::/0` that does not except
//! the private ranges and the cloud metadata address.

use super::{Context, Finding, Rule, Severity};
use crate::analysis::engine::ipset::IpSet;
use crate::k8s::ranges;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF003",
    name: "egress-to-any-address",
    severity: Severity::Warning,
    summary: "an egress ipBlock 0.0.0.0/0 or ::/0 that does not except private ranges and the cloud metadata \
              address",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (p, at, peer, egress) in cx.peers() {
        let Some(block) = peer.ip_block.as_ref().filter(|_| egress) else { continue };
        let exclusions: &[&str] = match block.cidr.trim() {
            ranges::ANY_V4 => &ranges::PRIVATE_V4,
            ranges::ANY_V6 => &ranges::PRIVATE_V6,
            _ => continue,
        };
        let allowed = IpSet::block(&block.cidr, block.except.as_deref().unwrap_or_default()).unwrap_or_default();
        let open: Vec<&str> = exclusions
            .iter()
            .copied()
            .filter(|x| IpSet::cidr(x).is_ok_and(|set| !set.difference(&set.difference(&allowed)).is_empty()))
            .collect();
        if !open.is_empty() {
            let msg = format!("{at}: egress to {} does not except {}", block.cidr, open.join(", "));
            out.push(Finding::policy(&RULE, p, Severity::Warning, msg));
        }
    }
}
