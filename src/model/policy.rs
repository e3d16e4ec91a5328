//! NetworkPolicy v1 semantics that both the transforms and the analysis rely on.

use crate::k8s::selector::{self, Labels};
use ipnet::IpNet;
use k8s_openapi::api::networking::v1::{
    NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::net::IpAddr;

/// The directions a policy isolates, after the API server's defaulting of `policyTypes`:
/// Ingress always, Egress when the policy has egress rules.
pub fn effective_types(spec: &NetworkPolicySpec) -> (bool, bool) {
    match &spec.policy_types {
        Some(types) if !types.is_empty() => (types.iter().any(|t| t == "Ingress"), types.iter().any(|t| t == "Egress")),
        _ => (true, spec.egress.as_ref().is_some_and(|e| !e.is_empty())),
    }
}

/// Whether the policy restricts egress of the pods it selects.
pub fn restricts_egress(spec: &NetworkPolicySpec) -> bool {
    effective_types(spec).1
}

/// Whether the policy selects every pod of its namespace.
pub fn selects_whole_namespace(spec: &NetworkPolicySpec) -> bool {
    spec.pod_selector.as_ref().is_none_or(selector::is_empty)
}

/// A destination of egress traffic, as far as one rule can tell.
#[derive(Debug, Clone)]
pub enum Target<'a> {
    /// A pod with these labels in a namespace with this name and labels.
    Pod {
        /// Namespace name.
        namespace: &'a str,
        /// Namespace labels (including `kubernetes.io/metadata.name`).
        namespace_labels: &'a Labels,
        /// Pod labels.
        labels: &'a Labels,
    },
    /// An address outside the cluster's pods.
    Ip(IpAddr),
}

/// Whether `peer` (in a policy of namespace `policy_ns`) matches `target`.
///
/// ipBlock peers are treated as matching addresses only, never pods: Kubernetes leaves it to the
/// implementation whether pod IPs fall under ipBlock, so relying on it would be unportable.
pub fn peer_matches(peer: &NetworkPolicyPeer, policy_ns: &str, target: &Target) -> bool {
    match target {
        Target::Ip(ip) => peer.ip_block.as_ref().is_some_and(|b| {
            let inside = |cidr: &str| cidr.parse::<IpNet>().is_ok_and(|n| n.contains(ip));
            inside(&b.cidr) && !b.except.iter().flatten().any(|e| inside(e))
        }),
        Target::Pod { namespace, namespace_labels, labels } => {
            if peer.ip_block.is_some() {
                return false;
            }
            let ns_ok = match &peer.namespace_selector {
                Some(sel) => selector::matches(sel, namespace_labels),
                None => *namespace == policy_ns,
            };
            let pod_ok = peer.pod_selector.as_ref().is_none_or(|sel| selector::matches(sel, labels));
            ns_ok && pod_ok
        }
    }
}

/// Whether a `ports` entry covers `protocol`/`port`. Named ports never match here (they need
/// the destination pod's container ports, which only the analysis resolves).
pub fn port_matches(entry: &NetworkPolicyPort, protocol: &str, port: i32) -> bool {
    let proto_ok = entry.protocol.as_deref().unwrap_or("TCP") == protocol;
    let port_ok = match &entry.port {
        None => true,
        Some(IntOrString::Int(p)) => match entry.end_port {
            Some(end) => (*p..=end).contains(&port),
            None => *p == port,
        },
        Some(IntOrString::String(_)) => false,
    };
    proto_ok && port_ok
}

/// Whether one egress rule allows traffic to `target` on `protocol`/`port`.
pub fn egress_rule_allows(
    rule: &NetworkPolicyEgressRule,
    policy_ns: &str,
    target: &Target,
    protocol: &str,
    port: i32,
) -> bool {
    let ports_ok =
        rule.ports.as_ref().is_none_or(|ps| ps.is_empty() || ps.iter().any(|p| port_matches(p, protocol, port)));
    let peers_ok =
        rule.to.as_ref().is_none_or(|ts| ts.is_empty() || ts.iter().any(|t| peer_matches(t, policy_ns, target)));
    ports_ok && peers_ok
}

/// Whether the policy's egress rules (taken together) allow traffic to `target`.
pub fn egress_allows(spec: &NetworkPolicySpec, policy_ns: &str, target: &Target, protocol: &str, port: i32) -> bool {
    spec.egress.iter().flatten().any(|r| egress_rule_allows(r, policy_ns, target, protocol, port))
}

/// A source of ingress traffic, as far as one rule can tell.
#[derive(Debug, Clone)]
pub enum Source<'a> {
    /// A pod (see [`Target::Pod`]).
    Pod(Target<'a>),
    /// An address outside the cluster's pods.
    Ip(IpAddr),
    /// Any address at all (a load balancer's clients, the API server): only a rule without
    /// peers, or an ipBlock of the whole address family, admits it.
    Anywhere,
}

/// Whether `peer` (in a policy of namespace `policy_ns`) matches `source`.
pub fn source_matches(peer: &NetworkPolicyPeer, policy_ns: &str, source: &Source) -> bool {
    match source {
        Source::Pod(target) => peer_matches(peer, policy_ns, target),
        Source::Ip(ip) => peer_matches(peer, policy_ns, &Target::Ip(*ip)),
        Source::Anywhere => peer.ip_block.as_ref().is_some_and(|b| {
            b.except.as_ref().is_none_or(|e| e.is_empty()) && b.cidr.parse::<IpNet>().is_ok_and(|n| n.prefix_len() == 0)
        }),
    }
}

/// Whether one ingress rule (of a policy in `policy_ns`) admits `source` on `protocol`/`port`.
pub fn ingress_rule_allows(
    rule: &NetworkPolicyIngressRule,
    policy_ns: &str,
    source: &Source,
    protocol: &str,
    port: i32,
) -> bool {
    let ports_ok =
        rule.ports.as_ref().is_none_or(|ps| ps.is_empty() || ps.iter().any(|p| port_matches(p, protocol, port)));
    let peers = rule.from.as_deref().unwrap_or_default();
    let peers_ok = peers.is_empty() || peers.iter().any(|peer| source_matches(peer, policy_ns, source));
    ports_ok && peers_ok
}

/// Whether a policy of namespace `policy_ns` selects a pod with `labels` in namespace `pod_ns`
/// (its `podSelector`, absent or empty selecting every pod of the namespace). Whether it then
/// isolates the pod for a direction is [`effective_types`]'s answer.
pub fn selects_pod(spec: &NetworkPolicySpec, policy_ns: &str, pod_ns: &str, labels: &Labels) -> bool {
    policy_ns == pod_ns && spec.pod_selector.as_ref().is_none_or(|sel| selector::matches(sel, labels))
}
