//! DNS egress: the rule every egress-restricting policy needs, and the check whether a policy
//! already allows DNS (judged by what its rules allow, not by how they are written).

use super::plan::{Change, Edit, NewPolicy, Plan};
use crate::config::{Dns, DnsProfile};
use crate::k8s::dns::{KUBE_DNS, OPENSHIFT_DNS};
use crate::k8s::selector::{self, Labels};
use crate::model::policy::{self, Target};
use crate::model::Model;
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::{HashMap, HashSet};
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
    /// The profile's name (`kube-dns`, `node-local`, `openshift`, `custom`).
    profile: &'static str,
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
            profile: dns.profile.as_str(),
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

    /// The profile, for reasons: `profile kube-dns`.
    pub fn describe(&self) -> String {
        format!("profile {}", self.profile)
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Whether one of `specs` (policies of `namespace`) is an allow-DNS baseline: it selects every
/// pod, restricts egress and lets them reach DNS.
pub fn is_baseline_among<'a>(
    mut specs: impl Iterator<Item = &'a NetworkPolicySpec>,
    rule: &DnsRule,
    namespace: &str,
) -> bool {
    specs.any(|spec| {
        policy::selects_whole_namespace(spec) && policy::restricts_egress(spec) && rule.allowed_by(spec, namespace)
    })
}

/// With `dns.enabled: false`: one warning naming the namespaces where a policy (the input's or a
/// new one) restricts egress, since their pods may no longer resolve names.
pub fn off_with_egress_denied(model: &Model, generated: &[NewPolicy]) -> Option<super::plan::Finding> {
    let mut namespaces: Vec<&str> = model
        .policies
        .iter()
        .filter(|p| policy::restricts_egress(&p.spec))
        .map(|p| p.namespace.as_str())
        .chain(generated.iter().filter(|g| policy::restricts_egress(&g.spec)).map(|g| g.namespace.as_str()))
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    (!namespaces.is_empty()).then(|| super::plan::Finding {
        severity: super::plan::Severity::Warning,
        field: Some("dns.enabled".into()),
        message: format!(
            "DNS is off but egress is restricted in namespace(s) {}: their pods cannot resolve names unless \
             another policy allows DNS",
            namespaces.join(", ")
        ),
    })
}

/// The namespaces that have an allow-DNS baseline among the input's policies or `generated`
/// (netfence's own policies of an earlier run count as regenerated, i.e. as in `generated`).
fn baselines(model: &Model, generated: &[NewPolicy], rule: &DnsRule) -> HashSet<String> {
    let mut by_ns: HashMap<&str, Vec<&NetworkPolicySpec>> = HashMap::new();
    for p in model.policies.iter().filter(|p| !p.managed && !p.hook) {
        by_ns.entry(&p.namespace).or_default().push(&p.spec);
    }
    for g in generated {
        by_ns.entry(&g.namespace).or_default().push(&g.spec);
    }
    by_ns
        .into_iter()
        .filter(|(ns, specs)| is_baseline_among(specs.iter().copied(), rule, ns))
        .map(|(ns, _)| ns.to_string())
        .collect()
}

/// Whether a policy needs the DNS rule: it restricts egress, does not allow DNS yet, and is not
/// a namespace-wide deny-all completed by an allow-DNS baseline (adding a rule would make it no
/// longer deny-all).
fn needs_dns(spec: &NetworkPolicySpec, namespace: &str, rule: &DnsRule, baselines: &HashSet<String>) -> bool {
    let deny_all = policy::selects_whole_namespace(spec) && spec.egress.as_ref().is_none_or(|e| e.is_empty());
    policy::restricts_egress(spec) && !rule.allowed_by(spec, namespace) && !(deny_all && baselines.contains(namespace))
}

/// Edits appending the DNS rule to every input policy that needs it (netfence's own policies of
/// an earlier run are regenerated instead). `generated` are the policies being added (their
/// allow-DNS baselines count).
pub fn plan(model: &Model, rule: &DnsRule, generated: &[NewPolicy]) -> Plan {
    let baselines = baselines(model, generated, rule);
    let edits = model
        .policies
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.managed && needs_dns(&p.spec, &p.namespace, rule, &baselines))
        .map(|(i, _)| Edit {
            policy: i,
            change: Change::AppendEgress(vec![rule.rule.clone()]),
            reason: format!("egress restricted without DNS: added the DNS rule ({})", rule.describe()),
        })
        .collect();
    Plan { edits, ..Plan::default() }
}

/// The pass giving generated policies the DNS rule by the same criteria as [`plan`], as their
/// first egress rule.
pub fn complete(model: &Model, rule: &DnsRule, mut generated: Vec<NewPolicy>) -> Vec<NewPolicy> {
    let baselines = baselines(model, &generated, rule);
    for g in &mut generated {
        if needs_dns(&g.spec, &g.namespace, rule, &baselines) {
            g.spec.egress.get_or_insert_with(Vec::new).insert(0, rule.rule.clone());
            g.reasons.push(format!("egress restricted: with the DNS rule ({})", rule.describe()));
        }
    }
    generated
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::transform::default_deny;
    use crate::transform::testing::{config, model};

    const INPUT: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: api, namespace: a}\nspec: {podSelector: {matchLabels: {app: api}}, policyTypes: [Egress], egress: [{ports: [{port: 5432}]}]}\n---\n\
        apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: open, namespace: a}\nspec: {podSelector: {matchLabels: {app: open}}, policyTypes: [Egress], egress: [{}]}\n---\n\
        apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: a}\nspec: {podSelector: {}, policyTypes: [Egress]}\n---\n\
        apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ingress, namespace: a}\nspec: {podSelector: {}}\n";

    #[test]
    fn input_policies_that_restrict_egress_without_dns_get_the_rule() {
        let m = model(INPUT);
        let rule = DnsRule::new(&Dns::default());
        // Without a baseline, the namespace-wide deny-all needs the rule too.
        let edited: Vec<usize> = plan(&m, &rule, &[]).edits.iter().map(|e| e.policy).collect();
        assert_eq!(edited, [0, 2], "api and deny; `open` allows everything, `ingress` leaves egress open");
        // With the allow-DNS baseline default-deny generates, the deny-all is left alone.
        let baseline = default_deny::plan(&m, &Config::default(), Some(&rule)).policies;
        let p = plan(&m, &rule, &baseline);
        assert_eq!(p.edits.len(), 1);
        assert_eq!(p.edits[0].change, Change::AppendEgress(vec![rule.rule.clone()]));
        assert_eq!(p.edits[0].reason, "egress restricted without DNS: added the DNS rule (profile kube-dns)");
    }

    #[test]
    fn dns_off_with_egress_denied_warns_once_naming_the_namespaces() {
        let m = model(INPUT);
        let baseline = default_deny::plan(&m, &config("dns: {enabled: false}"), None).policies;
        let f = off_with_egress_denied(&m, &baseline).expect("a warning");
        assert_eq!(f.field.as_deref(), Some("dns.enabled"));
        assert!(f.message.contains("namespace(s) a:"), "{}", f.message);
        assert!(off_with_egress_denied(&model("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"), &[]).is_none());
    }

    #[test]
    fn generated_policies_get_it_first_and_profiles_differ() {
        let m = model(INPUT);
        let rule = DnsRule::new(&config("dns: {profile: openshift}").dns);
        let spec = NetworkPolicySpec {
            pod_selector: Some(Default::default()),
            policy_types: Some(vec!["Egress".into()]),
            egress: Some(vec![Default::default()]),
            ..Default::default()
        };
        let mut restricted = spec.clone();
        restricted.pod_selector = Some(crate::k8s::selector::from_labels([("app", "x")]));
        let db = NetworkPolicyPeer {
            pod_selector: Some(crate::k8s::selector::from_labels([("app", "db")])),
            ..Default::default()
        };
        restricted.egress = Some(vec![NetworkPolicyEgressRule { ports: None, to: Some(vec![db]) }]);
        let done = complete(&m, &rule, vec![NewPolicy::new("a", "x", restricted, "r".into())]);
        let egress = done[0].spec.egress.as_ref().unwrap();
        assert_eq!((egress.len(), &egress[0]), (2, &rule.rule));
        assert_eq!(rule.describe(), "profile openshift");
        assert!(rule.allowed_by(&spec, "a"), "egress: [{{}}] allows DNS");
    }
}
