//! What the analysis refuses to analyse, beyond what [`super::topology`] records while
//! reading: NetworkPolicies the API server would reject in ways that change their meaning (the
//! inputs np-guard netpol-analyzer stops on), and pods of one owner whose labels differ where a
//! policy looks. Both become [`Problem`]s: errors for `matrix`, `explain`, `diff` and `verify`,
//! findings for `check`.

use super::admin::PodsOf;
use super::topology::{Origin, Policy, Problem, ProblemKind, Topology, Workload};
use crate::k8s::selector::{self, Labels};
use crate::k8s::validate;
use crate::model::policy as semantics;
use k8s_openapi::api::networking::v1::NetworkPolicySpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The problems of `topology`'s NetworkPolicies and workloads.
pub fn problems(topology: &Topology) -> Vec<Problem> {
    let mut out = Vec::new();
    for p in &topology.policies {
        if let Some(message) = network_policy(&p.spec) {
            out.push(Problem {
                subject: format!("NetworkPolicy {}", p.id()),
                origin: p.origin.clone(),
                kind: ProblemKind::InvalidNetworkPolicy,
                message,
            });
        }
    }
    for w in topology.workloads.iter().filter(|w| !w.other_labels.is_empty()) {
        if let Some(problem) = owner_labels(topology, w) {
            out.push(problem);
        }
    }
    out
}

/// The first thing in a NetworkPolicy spec that makes it meaningless to analyse: a selector,
/// CIDR, peer or port range the API server rejects (the subset of [`validate`]'s issues np-guard
/// stops on; a bad protocol, an `except` outside its CIDR or an `endPort` without a port are
/// left to `check`).
pub fn network_policy(spec: &NetworkPolicySpec) -> Option<String> {
    if let Some(sel) = &spec.pod_selector {
        if let Some(issue) = validate::label_selector_issues(sel).into_iter().next() {
            return Some(issue.under("spec.podSelector"));
        }
    }
    let ingress = spec.ingress.iter().flatten().enumerate().map(|(i, r)| {
        (
            format!("spec.ingress[{i}]"),
            "from",
            r.from.as_deref().unwrap_or_default(),
            r.ports.as_deref().unwrap_or_default(),
        )
    });
    let egress = spec.egress.iter().flatten().enumerate().map(|(i, r)| {
        (format!("spec.egress[{i}]"), "to", r.to.as_deref().unwrap_or_default(), r.ports.as_deref().unwrap_or_default())
    });
    for (at, field, peers, ports) in ingress.chain(egress) {
        for (j, peer) in peers.iter().enumerate() {
            let fatal = |issue: &validate::Issue| match issue.path.strip_prefix(".ipBlock.except[") {
                // An exception outside its CIDR only makes the block smaller than it reads.
                Some(_) => !issue.message.contains("inside"),
                None => true,
            };
            if let Some(issue) = validate::peer_and_selector_issues(peer).into_iter().find(fatal) {
                return Some(issue.under(&format!("{at}.{field}[{j}]")));
            }
        }
        for (j, port) in ports.iter().enumerate() {
            let numbered = matches!(port.port, Some(IntOrString::Int(_)));
            let fatal = |issue: &validate::Issue| match issue.path.as_str() {
                ".port" => numbered,
                ".endPort" => port.port.is_some(),
                _ => false,
            };
            if let Some(issue) = validate::port_issues(port).into_iter().find(fatal) {
                return Some(issue.under(&format!("{at}.ports[{j}]")));
            }
        }
    }
    None
}

/// Pods of one owner with different labels are one workload to the analysis; that is only
/// sound when no selector of any policy tells them apart.
fn owner_labels(topology: &Topology, w: &Workload) -> Option<Problem> {
    let ns_labels = topology.namespace_labels(&w.namespace);
    let variants: Vec<(&Origin, &Labels)> =
        std::iter::once((&w.origin, &w.labels)).chain(w.other_labels.iter().map(|(o, l)| (o, l))).collect();
    let differs = |sel: &LabelSelector| {
        let first = selector::matches(sel, variants[0].1);
        variants[1..].iter().find(|(_, l)| selector::matches(sel, l) != first).copied()
    };
    let mut report = |policy: String, path: String, sel: &LabelSelector| -> Option<Problem> {
        let (other, other_labels) = differs(sel)?;
        Some(Problem {
            subject: w.id(),
            origin: w.origin.clone(),
            kind: ProblemKind::OwnerLabels,
            message: format!(
                "its pods have different labels ({}: {}; {}: {}) and {policy} `{path}` selects some of them only; \
                 the analysis names pods by their owner and cannot tell them apart",
                w.origin.doc,
                labels_text(variants[0].1),
                other.doc,
                labels_text(other_labels),
            ),
        })
    };
    for p in &topology.policies {
        if let Some(found) = network_policy_selectors(p, &w.namespace, &ns_labels, &mut report) {
            return Some(found);
        }
    }
    for a in topology.admin_policies.iter().chain(&topology.baseline) {
        let subject = std::iter::once(("spec.subject".to_string(), &a.subject));
        let peers = a.ingress.iter().enumerate().flat_map(|(i, r)| {
            r.peers.iter().enumerate().filter_map(move |(j, peer)| match peer {
                super::admin::AdminPeer::Pods(of) => Some((format!("spec.ingress[{i}].from[{j}]"), of)),
                _ => None,
            })
        });
        let egress = a.egress.iter().enumerate().flat_map(|(i, r)| {
            r.peers.iter().enumerate().filter_map(move |(j, peer)| match peer {
                super::admin::AdminPeer::Pods(of) => Some((format!("spec.egress[{i}].to[{j}]"), of)),
                _ => None,
            })
        });
        for (path, of) in subject.chain(peers).chain(egress) {
            if let PodsOf::Pods { namespace, pod } = of {
                if selector::matches(namespace, &ns_labels) {
                    if let Some(found) = report(a.to_string(), format!("{path}.pods.podSelector"), pod) {
                        return Some(found);
                    }
                }
            }
        }
    }
    None
}

/// Runs `report` on every pod selector of `p` that applies to pods of namespace `ns`.
fn network_policy_selectors(
    p: &Policy,
    ns: &str,
    ns_labels: &Labels,
    report: &mut impl FnMut(String, String, &LabelSelector) -> Option<Problem>,
) -> Option<Problem> {
    let name = format!("NetworkPolicy {}", p.id());
    if p.namespace == ns {
        if let Some(sel) = &p.spec.pod_selector {
            if let Some(found) = report(name.clone(), "spec.podSelector".into(), sel) {
                return Some(found);
            }
        }
    }
    let (ingress, egress) = semantics::effective_types(&p.spec);
    let rules = p
        .spec
        .ingress
        .iter()
        .flatten()
        .filter(|_| ingress)
        .enumerate()
        .map(|(i, r)| (format!("spec.ingress[{i}].from"), r.from.as_deref().unwrap_or_default()))
        .chain(
            p.spec
                .egress
                .iter()
                .flatten()
                .filter(|_| egress)
                .enumerate()
                .map(|(i, r)| (format!("spec.egress[{i}].to"), r.to.as_deref().unwrap_or_default())),
        );
    for (at, peers) in rules {
        for (j, peer) in peers.iter().enumerate() {
            let ns_ok = match &peer.namespace_selector {
                None => p.namespace == ns,
                Some(sel) => selector::matches(sel, ns_labels),
            };
            if let (true, Some(sel)) = (ns_ok && peer.ip_block.is_none(), &peer.pod_selector) {
                if let Some(found) = report(name.clone(), format!("{at}[{j}].podSelector"), sel) {
                    return Some(found);
                }
            }
        }
    }
    None
}

fn labels_text(labels: &Labels) -> String {
    if labels.is_empty() {
        return "no labels".into();
    }
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topology(yaml: &str) -> Topology {
        Topology::from_bytes(yaml.as_bytes(), "default").unwrap()
    }

    const PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ns, labels: {app: x, tier: web}, ownerReferences: [{kind: ReplicaSet, name: rs, controller: true}]}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: ns, labels: {app: x, tier: db}, ownerReferences: [{kind: ReplicaSet, name: rs, controller: true}]}
spec: {containers: [{name: c}]}
"#;

    #[test]
    fn owner_labels_matter_only_where_a_policy_looks() {
        let same = format!(
            "{PODS}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: ns}}\nspec: {{podSelector: {{matchLabels: {{app: x}}}}}}\n"
        );
        assert!(topology(&same).analysable().is_ok());
        let apart = same.replace("{app: x}}}", "{tier: web}}}");
        let e = topology(&apart).analysable().unwrap_err().to_string();
        assert!(e.contains("ns/rs[ReplicaSet]: its pods have different labels"), "{e}");
        assert!(e.contains("NetworkPolicy ns/p `spec.podSelector` selects some of them only"), "{e}");
    }

    #[test]
    fn np_guard_fatal_inputs_are_errors() {
        let policy = |spec: &str| {
            format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: ns}}\nspec: {spec}\n")
        };
        for (spec, want) in [
            (
                "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0/8}}]}]}",
                "spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR",
            ),
            ("{podSelector: {}, ingress: [{from: [{}]}]}", "a peer needs"),
            ("{podSelector: {matchLabels: {'a b': c}}}", "invalid label key"),
            ("{podSelector: {matchLabels: {a: 'b c'}}}", "invalid label value"),
            ("{podSelector: {}, egress: [{ports: [{port: 90, endPort: 80}]}]}", "endPort 80 must be between"),
            ("{podSelector: {}, egress: [{ports: [{port: http, endPort: 80}]}]}", "endPort needs a numeric port"),
            (
                "{podSelector: {}, egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]}",
                "cannot be combined",
            ),
        ] {
            let e = topology(&policy(spec)).analysable().unwrap_err().to_string();
            assert!(e.contains(want), "{spec}: {e}");
            assert!(e.starts_with("document 1 (NetworkPolicy/p) at line 1: NetworkPolicy ns/p: spec."), "{e}");
        }
        let twice = format!("{}---\n{}", policy("{podSelector: {}}"), policy("{podSelector: {}}"));
        assert!(topology(&twice).analysable().unwrap_err().to_string().contains("already in namespace ns"));
    }
}
