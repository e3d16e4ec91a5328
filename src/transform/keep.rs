//! Keeps what the chart's own policies admit (issue 10 item 1). A chart that isolates only one
//! side of its traffic (most charts write ingress rules only) relies on the other side being
//! open; netfence's default-deny closes it. For every workload whose side netfence restricts
//! and no chart policy does, this transform turns the chart's rules into [`Allowance`]s, which
//! [`super::allowances`] writes into the workload's own policy:
//! - an **ingress rule** of a chart policy that admits a sender workload (rules without `from`,
//!   from anywhere, included) becomes an allowance from the pods of the sender's namespace that
//!   the admitting peer selects (its `podSelector`; all of them for a rule without `from`) to
//!   the policy's `podSelector`, on the rule's ports: the sender's egress counterpart;
//! - an **egress rule** of a chart policy whose peer selects a receiver workload by pod and/or
//!   namespace selector becomes an allowance from the policy's `podSelector` to the receiver's
//!   pods, on the rule's ports: the receiver's ingress counterpart. Egress rules to anywhere
//!   (no `to`) and ipBlock peers keep nothing: a chart that lets a pod talk to the world does not
//!   ask every receiver to accept it, and that is what default-deny is for.
//!
//! Ports are copied as written: a named port means the same on both sides (the receiving pod's
//! container port). Pure and deterministic: chart policies in input order, rules in their order,
//! workloads by (namespace, name, kind).

use super::allowances::{restriction, Restriction};
use crate::config::{Config, PolicyType};
use crate::infer::{Allowance, Endpoint};
use crate::k8s::selector::Labels;
use crate::model::policy::{self, Target};
use crate::model::{Model, Policy, Workload};
use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeSet;

/// The [`Allowance::rule`] of what a chart policy admits.
pub const RULE: &str = "chart-policy";

/// The allowances that keep every connection a chart policy of `model` admits, for the
/// workloads whose other side netfence restricts and no chart policy does (see the module docs).
pub fn plan(model: &Model, config: &Config) -> Vec<Allowance> {
    let empty = Labels::new();
    let mut workloads: Vec<&Workload> =
        model.workloads.iter().filter(|w| !w.host_network && !w.pod_labels.is_empty()).collect();
    workloads.sort_by(|a, b| (&a.namespace, &a.name, &a.kind).cmp(&(&b.namespace, &b.name, &b.kind)));
    // Who netfence restricts and the chart does not, per direction (the only ones to act for).
    let netfence_only = |direction| -> Vec<&Workload> {
        workloads
            .iter()
            .copied()
            .filter(|w| restriction(model, config, w, direction) == Restriction::Netfence)
            .collect()
    };
    let (open_egress, open_ingress) = (netfence_only(PolicyType::Egress), netfence_only(PolicyType::Ingress));
    if open_egress.is_empty() && open_ingress.is_empty() {
        return vec![];
    }
    let selects_workload =
        |p: &Policy| workloads.iter().any(|w| w.namespace == p.namespace && p.pod_selector.matches(&w.pod_labels));
    let matched = |peers: &[NetworkPolicyPeer], p: &Policy, w: &Workload| {
        let target = Target::Pod {
            namespace: &w.namespace,
            namespace_labels: model.namespaces.get(&w.namespace).unwrap_or(&empty),
            labels: &w.pod_labels,
        };
        peers.is_empty() || peers.iter().any(|peer| policy::peer_matches(peer, &p.namespace, &target))
    };

    let mut out = Vec::new();
    for p in model.policies.iter().filter(|p| !p.managed && selects_workload(p)) {
        let (ingress, egress) = policy::effective_types(&p.spec);
        let own_pods = Endpoint::Pods {
            namespace: p.namespace.clone(),
            selector: p.spec.pod_selector.clone().unwrap_or_default(),
        };
        if ingress {
            for (i, rule) in p.spec.ingress.iter().flatten().enumerate() {
                let peers = rule.from.as_deref().unwrap_or_default();
                let evidence = format!("ingress rule {} of networkpolicy {}/{} admits it", i + 1, p.namespace, p.name);
                // One allowance per sender namespace and admitting peer, not per sender: the
                // allowance pass gives it to every restricted sender it selects, and a rule
                // admitting everyone would otherwise make an allowance for every workload of
                // the render (quadratic on big renders).
                let mut made: BTreeSet<String> = BTreeSet::new();
                for sender in open_egress.iter().filter(|w| matched(peers, p, w)) {
                    let target = Target::Pod {
                        namespace: &sender.namespace,
                        namespace_labels: model.namespaces.get(&sender.namespace).unwrap_or(&empty),
                        labels: &sender.pod_labels,
                    };
                    let selectors: Vec<LabelSelector> = if peers.is_empty() {
                        vec![LabelSelector::default()]
                    } else {
                        peers
                            .iter()
                            .filter(|peer| policy::peer_matches(peer, &p.namespace, &target))
                            .map(|peer| peer.pod_selector.clone().unwrap_or_default())
                            .collect()
                    };
                    for selector in selectors {
                        let key =
                            format!("{}\n{}", sender.namespace, serde_json::to_string(&selector).unwrap_or_default());
                        if made.insert(key) {
                            out.push(Allowance {
                                from: Endpoint::Pods { namespace: sender.namespace.clone(), selector },
                                to: own_pods.clone(),
                                ports: rule.ports.clone().unwrap_or_default(),
                                rule: RULE.into(),
                                evidence: evidence.clone(),
                            });
                        }
                    }
                }
            }
        }
        if egress {
            for (i, rule) in p.spec.egress.iter().flatten().enumerate() {
                // Only peers that select pods: no `to` (anywhere) and ipBlocks keep nothing.
                let peers: Vec<NetworkPolicyPeer> =
                    rule.to.iter().flatten().filter(|peer| peer.ip_block.is_none()).cloned().collect();
                if peers.is_empty() {
                    continue;
                }
                for receiver in open_ingress.iter().filter(|w| matched(&peers, p, w)) {
                    out.push(Allowance {
                        from: own_pods.clone(),
                        to: Endpoint::workload(&receiver.namespace, &receiver.pod_labels),
                        ports: rule.ports.clone().unwrap_or_default(),
                        rule: RULE.into(),
                        evidence: format!(
                            "egress rule {} of networkpolicy {}/{} allows it",
                            i + 1,
                            p.namespace,
                            p.name
                        ),
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::selector;
    use crate::transform::testing::{config, model};
    use k8s_openapi::api::networking::v1::NetworkPolicyPort;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    const WORKLOADS: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: server, namespace: cd}\nspec: {template: {metadata: {labels: {app: server}}, spec: {containers: [{name: c}]}}}\n---\n\
        apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: repo, namespace: cd}\nspec: {template: {metadata: {labels: {app: repo}}, spec: {containers: [{name: c}]}}}\n---\n\
        apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: controller, namespace: cd}\nspec: {template: {metadata: {labels: {app: controller}}, spec: {containers: [{name: c}]}}}\n---\n\
        apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: probe, namespace: other}\nspec: {template: {metadata: {labels: {app: probe}}, spec: {hostNetwork: true, containers: [{name: c}]}}}\n";

    fn pods(ns: &str, app: &str) -> Endpoint {
        Endpoint::Pods { namespace: ns.into(), selector: selector::from_labels([("app", app)]) }
    }

    fn all_pods(ns: &str) -> Endpoint {
        Endpoint::Pods { namespace: ns.into(), selector: LabelSelector::default() }
    }

    fn port(p: IntOrString) -> NetworkPolicyPort {
        NetworkPolicyPort { port: Some(p), ..Default::default() }
    }

    fn render(policies: &str) -> Vec<Allowance> {
        plan(&model(&format!("{WORKLOADS}{policies}")), &crate::config::Config::default())
    }

    /// argo-cd's shape: the repo server admits the server and the controller on 8081; the
    /// controller's policy isolates its egress itself.
    #[test]
    fn ingress_rules_keep_the_senders_egress() {
        let a = render(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: repo, namespace: cd}\n\
             spec: {podSelector: {matchLabels: {app: repo}}, ingress: [{from: [{podSelector: {matchLabels: {app: server}}}, {podSelector: {matchLabels: {app: controller}}}], ports: [{port: 8081}]}, {ports: [{port: metrics}]}]}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: controller, namespace: cd}\n\
             spec: {podSelector: {matchLabels: {app: controller}}, policyTypes: [Egress], egress: [{}]}\n",
        );
        let got: Vec<(&Endpoint, &Endpoint, &[NetworkPolicyPort], &str)> =
            a.iter().map(|a| (&a.from, &a.to, a.ports.as_slice(), a.evidence.as_str())).collect();
        let (p8081, metrics) = ([port(IntOrString::Int(8081))], [port(IntOrString::String("metrics".into()))]);
        assert_eq!(
            got,
            [
                // The controller isolates its own egress (the chart decides): nothing for it.
                (
                    &pods("cd", "server"),
                    &pods("cd", "repo"),
                    &p8081[..],
                    "ingress rule 1 of networkpolicy cd/repo admits it"
                ),
                // From anywhere: every sender netfence restricts (the receiver itself included),
                // as the pods of their namespace.
                (
                    &all_pods("cd"),
                    &pods("cd", "repo"),
                    &metrics[..],
                    "ingress rule 2 of networkpolicy cd/repo admits it"
                ),
            ]
        );
        assert!(a.iter().all(|a| a.rule == RULE));
        // Deterministic, and nothing when netfence restricts no egress.
        assert_eq!(render("").len(), 0);
        let m = model(&format!("{WORKLOADS}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: repo, namespace: cd}}\nspec: {{podSelector: {{matchLabels: {{app: repo}}}}, ingress: [{{}}]}}\n"));
        assert_eq!(plan(&m, &Config::default()), plan(&m, &Config::default()));
        assert!(plan(&m, &config("defaultDeny: {policyTypes: [Ingress]}")).is_empty());
    }

    #[test]
    fn egress_rules_keep_the_receivers_ingress_by_selector_only() {
        let a = render(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: server, namespace: cd}\n\
             spec:\n  podSelector: {matchLabels: {app: server}}\n  policyTypes: [Egress]\n  egress:\n\
             \x20 - {}\n\
             \x20 - to: [{ipBlock: {cidr: 0.0.0.0/0}}]\n\
             \x20 - to: [{ipBlock: {cidr: 10.0.0.0/8}}, {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: cd}}, podSelector: {matchLabels: {app: repo}}}]\n\
             \x20   ports: [{port: 8081}]\n",
        );
        assert_eq!(a.len(), 1, "{a:#?}");
        assert_eq!((&a[0].from, &a[0].to), (&pods("cd", "server"), &pods("cd", "repo")));
        assert_eq!(a[0].ports, [port(IntOrString::Int(8081))]);
        assert_eq!(a[0].evidence, "egress rule 3 of networkpolicy cd/server allows it");
    }

    #[test]
    fn policies_selecting_no_workload_and_host_network_pods_keep_nothing() {
        let a = render(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ghost, namespace: cd}\n\
             spec: {podSelector: {matchLabels: {app: ghost}}, ingress: [{}]}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: all, namespace: other}\n\
             spec: {podSelector: {}, ingress: [{}]}\n",
        );
        assert!(a.is_empty(), "{a:#?}");
    }
}
