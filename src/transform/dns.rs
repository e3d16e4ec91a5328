//! DNS egress: the rule every egress-restricting policy needs, and the check whether a policy
//! already allows DNS (judged by what its rules allow, not by how they are written).

use super::Generated;
use crate::config::{Dns, DnsProfile};
use crate::k8s::dns::{KUBE_DNS, OPENSHIFT_DNS};
use crate::k8s::selector::{self, Labels};
use crate::model::policy::{self, Target};
use crate::model::Model;
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::net::IpAddr;

/// (protocol, port) pairs.
type Ports = Vec<(String, i32)>;

/// The DNS rule of a profile, and the concrete destinations it must reach.
#[derive(Debug, Clone)]
pub struct DnsRule {
    /// The egress rule netfence writes.
    pub rule: NetworkPolicyEgressRule,
    /// DNS pods: namespace name, namespace labels, pod labels (none when only ipBlocks are set).
    pods: Option<(String, Labels, Labels)>,
    /// DNS addresses outside the pod network (NodeLocal DNSCache).
    ips: Vec<IpAddr>,
    /// (protocol, port) pairs that must be open.
    ports: Ports,
    /// The configured ports cannot be checked semantically (named ports, or no port number):
    /// only the rule itself counts as allowing DNS.
    exact_only: bool,
}

impl DnsRule {
    /// Builds the rule for the configured profile.
    pub fn new(dns: &Dns) -> DnsRule {
        let udp_tcp = |port: i32| vec![("UDP".to_string(), port), ("TCP".to_string(), port)];
        let (ns, pod_labels, ports, cidrs): (Option<String>, Labels, Ports, Vec<String>) = match dns.profile {
            DnsProfile::KubeDns => {
                (Some(KUBE_DNS.namespace.into()), labels(&[KUBE_DNS.pod_label]), udp_tcp(KUBE_DNS.port), vec![])
            }
            DnsProfile::NodeLocal => (
                Some(KUBE_DNS.namespace.into()),
                labels(&[KUBE_DNS.pod_label]),
                udp_tcp(KUBE_DNS.port),
                vec![format!(
                    "{}/{}",
                    dns.node_local_address,
                    if dns.node_local_address.contains(':') { 128 } else { 32 }
                )],
            ),
            DnsProfile::Openshift => (
                Some(OPENSHIFT_DNS.namespace.into()),
                labels(&[OPENSHIFT_DNS.pod_label]),
                udp_tcp(OPENSHIFT_DNS.port),
                vec![],
            ),
            DnsProfile::Custom => {
                let ports = if dns.ports.is_empty() {
                    udp_tcp(53)
                } else {
                    dns.ports
                        .iter()
                        .filter_map(|p| match p.port {
                            Some(IntOrString::Int(n)) => Some((p.protocol.clone().unwrap_or_else(|| "TCP".into()), n)),
                            _ => None,
                        })
                        .collect()
                };
                let pod_labels = dns.pod_selector.as_ref().and_then(|s| s.match_labels.clone()).unwrap_or_default();
                (dns.namespace.clone(), pod_labels, ports, dns.ip_blocks.clone())
            }
        };
        let mut to = Vec::new();
        if let Some(ns) = &ns {
            let pod_selector = match (dns.profile, &dns.pod_selector) {
                (DnsProfile::Custom, Some(sel)) => Some(sel.clone()),
                (DnsProfile::Custom, None) => None,
                _ => Some(selector::from_labels(pod_labels.iter().map(|(k, v)| (k.as_str(), v.as_str())))),
            };
            to.push(NetworkPolicyPeer {
                namespace_selector: Some(selector::namespace_selector(ns)),
                pod_selector,
                ip_block: None,
            });
        }
        for cidr in &cidrs {
            to.push(NetworkPolicyPeer {
                ip_block: Some(IPBlock { cidr: cidr.clone(), except: None }),
                ..Default::default()
            });
        }
        let rule_ports = if dns.profile == DnsProfile::Custom && !dns.ports.is_empty() {
            dns.ports.clone()
        } else {
            ports
                .iter()
                .map(|(proto, port)| NetworkPolicyPort {
                    protocol: Some(proto.clone()),
                    port: Some(IntOrString::Int(*port)),
                    end_port: None,
                })
                .collect()
        };
        DnsRule {
            rule: NetworkPolicyEgressRule { to: Some(to), ports: Some(rule_ports) },
            pods: ns.map(|ns| {
                let ns_labels = selector::namespace_labels(&ns, None);
                (ns, ns_labels, pod_labels)
            }),
            ips: cidrs.iter().filter_map(|c| c.parse::<ipnet::IpNet>().ok()).map(|n| n.network()).collect(),
            ports,
            exact_only: dns.profile == DnsProfile::Custom
                && dns.ports.iter().any(|p| !matches!(p.port, Some(IntOrString::Int(_)))),
        }
    }

    /// Whether the policy's own rules already let its pods reach DNS on every required port.
    pub fn allowed_by(&self, spec: &NetworkPolicySpec, policy_ns: &str) -> bool {
        if spec.egress.iter().flatten().any(|r| r == &self.rule) {
            return true;
        }
        if self.exact_only {
            return false;
        }
        let mut targets: Vec<Target> = self.ips.iter().map(|ip| Target::Ip(*ip)).collect();
        if let Some((ns, ns_labels, pod_labels)) = &self.pods {
            targets.push(Target::Pod { namespace: ns, namespace_labels: ns_labels, labels: pod_labels });
        }
        targets
            .iter()
            .all(|t| self.ports.iter().all(|(proto, port)| policy::egress_allows(spec, policy_ns, t, proto, *port)))
    }

    /// The rule as a JSON value, ready to append to a policy's `egress`.
    pub fn to_value(&self) -> serde_json::Value {
        super::tidy(serde_json::to_value(&self.rule).unwrap_or_default())
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Whether the namespace has a policy for all its pods that allows DNS (an allow-DNS baseline),
/// among the input's policies or the ones being generated.
pub fn has_baseline(model: &Model, generated: &[Generated], rule: &DnsRule, namespace: &str) -> bool {
    let existing = model.policies.iter().filter(|p| p.namespace == namespace).map(|p| &p.spec);
    let new = generated.iter().filter(|g| g.namespace == namespace).map(|g| &g.spec);
    existing.chain(new).any(|spec| {
        policy::selects_whole_namespace(spec) && policy::restricts_egress(spec) && rule.allowed_by(spec, namespace)
    })
}

/// Appends the DNS rule to every egress-restricting policy that does not allow DNS yet.
///
/// A namespace-wide deny-all (no egress rules) is left alone when the namespace has an allow-DNS
/// baseline: it is completed by that policy, and adding a rule would make it no longer deny-all.
pub fn inject(model: &mut Model, rule: &DnsRule, generated: &[Generated]) {
    let value = rule.to_value();
    for i in 0..model.policies.len() {
        let p = &model.policies[i];
        if p.managed || !policy::restricts_egress(&p.spec) || rule.allowed_by(&p.spec, &p.namespace) {
            continue;
        }
        let deny_all = policy::selects_whole_namespace(&p.spec) && p.spec.egress.as_ref().is_none_or(|e| e.is_empty());
        if deny_all && has_baseline(model, generated, rule, &p.namespace) {
            continue;
        }
        tracing::debug!(namespace = %p.namespace, policy = %p.name, "adding the DNS egress rule");
        let p = &mut model.policies[i];
        let spec = p.spec_mut();
        let egress = spec.entry("egress").or_insert_with(|| serde_json::Value::Array(vec![]));
        if !egress.is_array() {
            *egress = serde_json::Value::Array(vec![]);
        }
        egress.as_array_mut().expect("just made an array").push(value.clone());
        p.refresh();
    }
}

/// Gives generated egress-restricting policies the DNS rule by the same rule as [`inject`]:
/// every one that does not allow DNS, except a deny-all completed by an allow-DNS baseline.
pub fn inject_generated(model: &Model, rule: &DnsRule, generated: &mut [Generated]) {
    let needy: Vec<usize> = (0..generated.len())
        .filter(|&i| {
            let g = &generated[i];
            let deny_all =
                policy::selects_whole_namespace(&g.spec) && g.spec.egress.as_ref().is_none_or(|e| e.is_empty());
            policy::restricts_egress(&g.spec)
                && !rule.allowed_by(&g.spec, &g.namespace)
                && !(deny_all && has_baseline(model, generated, rule, &g.namespace))
        })
        .collect();
    for i in needy {
        let g = &mut generated[i];
        if let Some(egress) = g.value["spec"]["egress"].as_array_mut() {
            egress.insert(0, rule.to_value());
        } else {
            g.value["spec"]["egress"] = serde_json::json!([rule.to_value()]);
        }
        g.spec = serde_json::from_value(g.value["spec"].clone()).unwrap_or_default();
    }
}
