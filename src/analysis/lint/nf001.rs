//! NF001 non-isolated-workload: a workload no policy of any tier restricts in a direction.

use super::{Context, Finding, Rule, Severity};
use crate::analysis::engine::connectivity::Direction;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF001",
    name: "non-isolated-workload",
    severity: Severity::Warning,
    summary: "a workload no NetworkPolicy (or admin policy) isolates for ingress or egress: it accepts or opens any \
              connection",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let t = cx.topology;
    let tiers = !t.admin_policies.is_empty() || t.baseline.is_some();
    let policies =
        if tiers { "NetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy" } else { "NetworkPolicy" };
    for (w, wl) in t.workloads.iter().enumerate() {
        // Pods on the node's network: isolating them is up to the network plugin, which
        // usually cannot tell their traffic from the node's; the finding would only be noise.
        if wl.host_network {
            continue;
        }
        let g = cx.engine.group_of(w);
        let open: Vec<&str> =
            Direction::BOTH.into_iter().filter(|d| !cx.engine.is_protected(g, *d)).map(Direction::as_str).collect();
        if !open.is_empty() {
            let msg =
                format!("not isolated for {}: no {policies} selecting it restricts that traffic", open.join(" and "));
            out.push(Finding::workload(&RULE, cx, w, Severity::Warning, msg));
        }
    }
}
