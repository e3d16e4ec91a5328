//! NF006 peer-matches-nothing: a rule peer confined to namespaces of the input that matches
//! none of their workloads.

use super::{Context, Finding, Rule, Severity};
use crate::k8s::NAMESPACE_NAME_LABEL;
use crate::model::policy::{self as semantics, Target};

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF006",
    name: "peer-matches-nothing",
    severity: Severity::Warning,
    summary: "a rule peer confined to namespaces of the input that matches none of their workloads",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let t = cx.topology;
    for (p, at, peer, _) in cx.peers() {
        if peer.ip_block.is_some() || (peer.pod_selector.is_none() && peer.namespace_selector.is_none()) {
            continue;
        }
        // Only a peer confined to named namespaces can be judged: others may match pods
        // outside the input.
        let namespaces: Vec<&str> = match &peer.namespace_selector {
            None => vec![p.namespace.as_str()],
            Some(sel) => sel
                .match_labels
                .iter()
                .flatten()
                .filter(|(k, _)| *k == NAMESPACE_NAME_LABEL)
                .map(|(_, v)| v.as_str())
                .collect(),
        };
        if namespaces.is_empty() || !namespaces.iter().all(|ns| cx.workloads_in.contains_key(ns)) {
            continue;
        }
        let matched = namespaces.iter().flat_map(|ns| &cx.workloads_in[ns]).any(|&w| {
            let wl = &t.workloads[w];
            let target = Target::Pod {
                namespace: &wl.namespace,
                namespace_labels: &t.namespace_labels(&wl.namespace),
                labels: &wl.labels,
            };
            semantics::peer_matches(peer, &p.namespace, &target)
        });
        if !matched {
            let msg = format!("{at} matches no workload of namespace {} in the input", namespaces.join(", "));
            out.push(Finding::policy(&RULE, p, Severity::Warning, msg));
        }
    }
}
