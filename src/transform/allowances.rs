//! Keeps the connections a release needs: for every workload of the render, the
//! [`Allowance`]s naming it become rules of one policy of its own (the workload policy, see
//! [`super::workload_policies`]):
//! - an egress rule for each allowance whose `from` selects it, when netfence restricts the
//!   workload's egress (a default-deny of its namespace, a workload policy) and no policy of the
//!   chart does;
//! - an ingress rule for each allowance whose `to` selects it, likewise for ingress.
//!
//! Where a chart policy restricts a side and does not allow the connection, the chart decides:
//! the pass adds nothing there and returns a finding instead. Rules to the same peer are merged
//! (their ports united); rules and ports are in a fixed order, so the output is deterministic.

use super::groups::group_policy;
use super::groups::Group;
use super::plan::{Finding, NewPolicy, Plan, Severity};
use super::sides::Pods;
use super::workload_policies::PREFIX;
use crate::config::{Config, PolicyType};
use crate::infer::{Allowance, Endpoint, Matcher};
use crate::k8s::selector::{self, Labels};
use crate::k8s::validate;
use crate::model::policy::{self, Source, Target};
use crate::model::workload::ContainerPort;
use crate::model::{Model, Workload};
use k8s_openapi::api::networking::v1::{
    NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::{BTreeMap, HashMap};

/// The annotation carrying a short summary of why a generated policy exists.
pub const REASON_ANNOTATION: &str = "netfence.dev/reason";

/// Who restricts one direction of a workload's traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restriction {
    /// Nobody: the direction is open, nothing to add.
    Open,
    /// netfence (its default-deny or workload policy) and no chart policy: netfence adds rules.
    Netfence,
    /// A policy of the chart: it decides.
    Chart,
}

/// Who restricts `direction` of workload `w`'s pods under `config`.
pub fn restriction(model: &Model, config: &Config, w: &Workload, direction: PolicyType) -> Restriction {
    let chart = model.policies_in(&w.namespace).any(|p| {
        let (ingress, egress) = policy::effective_types(&p.spec);
        let isolates = match direction {
            PolicyType::Ingress => ingress,
            PolicyType::Egress => egress,
        };
        !p.managed && isolates && p.pod_selector.matches(&w.pod_labels)
    });
    if chart {
        return Restriction::Chart;
    }
    let deny = &config.default_deny;
    let by_deny = deny.enabled
        && deny.policy_types.contains(&direction)
        && !deny.exclude_namespaces.iter().any(|e| e == &w.namespace);
    if by_deny || config.workload_policies.enabled && super::workload_policies::is_candidate(model, w) {
        Restriction::Netfence
    } else {
        Restriction::Open
    }
}

/// Whether the pass considers `w` at all: pods that NetworkPolicies apply to, selectable by
/// labels the API server accepts.
fn eligible(w: &Workload) -> bool {
    !w.host_network
        && !w.pod_labels.is_empty()
        && w.pod_labels.iter().all(|(k, v)| validate::label_key(k).is_ok() && validate::label_value(v).is_ok())
}

/// Whether an endpoint's selectors are ones the API server accepts.
fn valid_endpoint(e: &Endpoint) -> bool {
    match e {
        Endpoint::Pods { selector, .. } => validate::label_selector_issues(selector).is_empty(),
        Endpoint::Selected { namespaces, selector } => {
            validate::label_selector_issues(namespaces).is_empty()
                && validate::label_selector_issues(selector).is_empty()
        }
        Endpoint::Anywhere | Endpoint::IpBlock(_) => true,
    }
}

/// The rules of one workload, keyed by peer so that rules to the same peer merge.
#[derive(Default)]
struct Rules {
    /// Peer key → (peer, ports; `None`: all ports).
    egress: BTreeMap<String, (Option<NetworkPolicyPeer>, Option<Vec<NetworkPolicyPort>>)>,
    ingress: BTreeMap<String, (Option<NetworkPolicyPeer>, Option<Vec<NetworkPolicyPort>>)>,
    egress_rules: Vec<String>,
    ingress_rules: Vec<String>,
    reasons: Vec<String>,
}

/// Adds `ports` to the rule for `peer` (all ports wins over a list).
fn add(
    map: &mut BTreeMap<String, (Option<NetworkPolicyPeer>, Option<Vec<NetworkPolicyPort>>)>,
    peer: Option<NetworkPolicyPeer>,
    ports: &[NetworkPolicyPort],
) {
    let key = serde_json::to_string(&peer).unwrap_or_default();
    let entry = map.entry(key).or_insert_with(|| (peer, Some(vec![])));
    match (&mut entry.1, ports.is_empty()) {
        (_, true) => entry.1 = None,
        (Some(list), false) => {
            for p in ports {
                if !list.contains(p) {
                    list.push(p.clone());
                }
            }
        }
        (None, false) => {}
    }
}

/// Sort key of a port: protocol, then number or name.
fn port_key(p: &NetworkPolicyPort) -> (String, i32, String) {
    let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
    match &p.port {
        Some(IntOrString::Int(n)) => (proto, *n, String::new()),
        Some(IntOrString::String(s)) => (proto, i32::MAX, s.clone()),
        None => (proto, -1, String::new()),
    }
}

fn sorted(ports: Option<Vec<NetworkPolicyPort>>) -> Option<Vec<NetworkPolicyPort>> {
    ports.map(|mut ps| {
        ps.sort_by_key(port_key);
        ps
    })
}

fn note(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|r| r == item) {
        list.push(item.to_string());
    }
}

/// One policy per workload holding the egress and ingress rules of the allowances naming it (on
/// the sides netfence restricts and the chart does not), in (namespace, workload) order, named
/// `netfence-workload-<name>`; findings where a chart policy restricts a side and does not
/// allow the connection.
pub fn plan(model: &Model, config: &Config, allowances: &[Allowance]) -> Plan {
    // A selector with a label the API server rejects (a workload whose own labels are invalid,
    // which the API server would refuse too) would make the generated policy invalid: such
    // allowances are left out rather than written into a policy nobody can apply.
    let allowances: Vec<&Allowance> =
        allowances.iter().filter(|a| valid_endpoint(&a.from) && valid_endpoint(&a.to)).collect();
    if allowances.is_empty() {
        return Plan::default();
    }
    let matchers: Vec<(Matcher, Matcher)> = allowances.iter().map(|a| (a.from.matcher(), a.to.matcher())).collect();
    // Allowances by the namespace their pod sides are confined to; the others (pods of
    // selected namespaces) are looked at for every workload.
    let mut by_from: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_to: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut anywhere: Vec<usize> = Vec::new();
    for (i, a) in allowances.iter().enumerate() {
        for (endpoint, bucket) in [(&a.from, &mut by_from), (&a.to, &mut by_to)] {
            match endpoint {
                Endpoint::Pods { namespace, .. } => bucket.entry(namespace.as_str()).or_default().push(i),
                Endpoint::Selected { .. } => anywhere.push(i),
                Endpoint::Anywhere | Endpoint::IpBlock(_) => {}
            }
        }
    }
    let empty = Labels::new();
    let mut endpoints = Endpoints::new(model);
    let mut workloads: Vec<&Workload> = model.workloads.iter().filter(|w| eligible(w)).collect();
    workloads.sort_by(|a, b| (&a.namespace, &a.name, &a.kind).cmp(&(&b.namespace, &b.name, &b.kind)));
    let mut plan = Plan::default();
    for w in workloads {
        let ns_labels = model.namespaces.get(&w.namespace).unwrap_or(&empty);
        let egress = restriction(model, config, w, PolicyType::Egress);
        let ingress = restriction(model, config, w, PolicyType::Ingress);
        let mut rules = Rules::default();
        // Only the allowances that may name this workload's namespace (near-linear on big renders).
        let mut candidates: Vec<usize> = Vec::new();
        for bucket in [&by_from, &by_to] {
            candidates.extend(bucket.get(w.namespace.as_str()).into_iter().flatten());
        }
        candidates.extend(&anywhere);
        candidates.sort_unstable();
        candidates.dedup();
        for (i, a, (from, to)) in candidates.iter().map(|&i| (i, &allowances[i], &matchers[i])) {
            if egress != Restriction::Open && from.selects(&w.namespace, ns_labels, &w.pod_labels) {
                if egress == Restriction::Netfence {
                    add(&mut rules.egress, a.to.peer(), &a.ports);
                    note(&mut rules.egress_rules, &a.rule);
                    note(&mut rules.reasons, &format!("{}: {} (egress of {})", a.rule, a.evidence, describe(w)));
                } else if !chart_allows_egress(model, w, a, endpoints.get(i, &a.to, Side::To)) {
                    plan.findings.push(blocked(w, "egress", a));
                }
            }
            if ingress != Restriction::Open && to.selects(&w.namespace, ns_labels, &w.pod_labels) {
                if ingress == Restriction::Netfence {
                    add(&mut rules.ingress, a.from.peer(), &a.ports);
                    note(&mut rules.ingress_rules, &a.rule);
                    note(&mut rules.reasons, &format!("{}: {} (ingress of {})", a.rule, a.evidence, describe(w)));
                } else if !chart_allows_ingress(model, w, a, endpoints.get(i, &a.from, Side::From)) {
                    plan.findings.push(blocked(w, "ingress", a));
                }
            }
        }
        if rules.egress.is_empty() && rules.ingress.is_empty() {
            continue;
        }
        let mut group = Group::new(pods_of(w));
        group.egress = rules
            .egress
            .into_values()
            .map(|(peer, ports)| NetworkPolicyEgressRule { to: peer.map(|p| vec![p]), ports: sorted(ports) })
            .collect();
        group.ingress = rules
            .ingress
            .into_values()
            .map(|(peer, ports)| NetworkPolicyIngressRule { from: peer.map(|p| vec![p]), ports: sorted(ports) })
            .collect();
        group.reasons = rules.reasons;
        let mut policy = group_policy(group, PREFIX);
        policy.annotations.push((REASON_ANNOTATION.into(), summary(&rules.egress_rules, &rules.ingress_rules)));
        plan.policies.push(policy);
    }
    plan
}

/// `deployment shop/api`.
fn describe(w: &Workload) -> String {
    format!("{} {}/{}", w.kind.to_lowercase(), w.namespace, w.name)
}

/// The workload's pods as a pod set (the key workload policies use too).
pub fn pods_of(w: &Workload) -> Pods {
    Pods {
        namespace: w.namespace.clone(),
        selector: selector::from_labels(w.pod_labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        workload: Some(w.name.clone()),
        ports: vec![],
    }
}

/// The annotation's text: which rules opened which direction.
fn summary(egress: &[String], ingress: &[String]) -> String {
    let mut parts = Vec::new();
    let mut list = |dir: &str, rules: &[String]| {
        if !rules.is_empty() {
            let mut rules = rules.to_vec();
            rules.sort();
            parts.push(format!("{dir} ({})", rules.join(", ")));
        }
    };
    list("egress", egress);
    list("ingress", ingress);
    format!("keeps the connections the release needs: {}; see `netfence render --report`", parts.join(", "))
}

fn blocked(w: &Workload, side: &str, a: &Allowance) -> Finding {
    Finding {
        severity: Severity::Warning,
        field: None,
        message: format!(
            "a chart policy restricts {side} of {} and does not allow a connection the release needs ({}: {}); netfence leaves the chart's policy as it is",
            describe(w),
            a.rule,
            a.evidence
        ),
    }
}

/// Which side of an allowance an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Side {
    From,
    To,
}

/// What judging a chart's rules needs of an allowance's endpoint: the concrete pods it stands
/// for and their container ports.
#[derive(Default)]
struct EndpointPods {
    /// (namespace, namespace labels, pod labels) of each pod set.
    pods: Vec<(String, Labels, Labels)>,
    /// The container ports of the render's workloads the endpoint selects.
    ports: Vec<ContainerPort>,
}

/// [`EndpointPods`] of the allowances, computed once each and only when a chart policy is to be
/// judged: every workload of a big render may be judged against the same allowance (monitoring,
/// entry points), and scanning every workload each time made render quadratic.
struct Endpoints<'m> {
    model: &'m Model,
    /// The render's workloads by namespace, each with whether the pass considers it.
    by_namespace: HashMap<&'m str, Vec<(&'m Workload, bool)>>,
    cache: HashMap<(usize, Side), EndpointPods>,
}

impl<'m> Endpoints<'m> {
    fn new(model: &'m Model) -> Self {
        let mut by_namespace: HashMap<&str, Vec<(&Workload, bool)>> = HashMap::new();
        for w in &model.workloads {
            by_namespace.entry(w.namespace.as_str()).or_default().push((w, eligible(w)));
        }
        Endpoints { model, by_namespace, cache: HashMap::new() }
    }

    /// The pods and ports of `endpoint`, side `side` of allowance `index`.
    fn get(&mut self, index: usize, endpoint: &Endpoint, side: Side) -> &EndpointPods {
        let (model, by_namespace) = (self.model, &self.by_namespace);
        self.cache.entry((index, side)).or_insert_with(|| endpoint_pods(model, by_namespace, endpoint))
    }
}

/// Concrete pods an endpoint stands for when judging a chart's rules: the render's workloads
/// it selects, or (none in the render) a pod carrying the selector's `matchLabels`; and the
/// container ports of the workloads it selects.
fn endpoint_pods(
    model: &Model,
    by_namespace: &HashMap<&str, Vec<(&Workload, bool)>>,
    endpoint: &Endpoint,
) -> EndpointPods {
    let empty = Labels::new();
    let matcher = endpoint.matcher();
    // A pod endpoint is confined to its namespace: only that namespace's workloads can match.
    let candidates: Vec<&(&Workload, bool)> = match endpoint {
        Endpoint::Pods { namespace, .. } => by_namespace.get(namespace.as_str()).into_iter().flatten().collect(),
        Endpoint::Selected { .. } => by_namespace.values().flatten().collect(),
        Endpoint::Anywhere | Endpoint::IpBlock(_) => vec![],
    };
    let selected: Vec<&(&Workload, bool)> = candidates
        .into_iter()
        .filter(|(w, _)| {
            matcher.selects(&w.namespace, model.namespaces.get(&w.namespace).unwrap_or(&empty), &w.pod_labels)
        })
        .collect();
    let ports = selected.iter().flat_map(|(w, _)| w.ports.iter().cloned()).collect();
    let mut pods: Vec<(String, Labels, Labels)> = selected
        .iter()
        .filter(|(_, eligible)| *eligible)
        .map(|(w, _)| {
            let ns = model.namespaces.get(&w.namespace).cloned().unwrap_or_default();
            (w.namespace.clone(), ns, w.pod_labels.clone())
        })
        .collect();
    // (by_namespace's order is a hash map's: the judgement does not depend on it, but keep it fixed.)
    pods.sort();
    if pods.is_empty() {
        let labels_of = |s: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector| -> Labels {
            s.match_labels.clone().unwrap_or_default()
        };
        match endpoint {
            Endpoint::Pods { namespace, selector } => {
                let ns = selector::namespace_labels(namespace, model.namespaces.get(namespace));
                pods.push((namespace.clone(), ns, labels_of(selector)));
            }
            Endpoint::Selected { namespaces, selector } => {
                let ns = labels_of(namespaces);
                let name = ns.get(crate::k8s::NAMESPACE_NAME_LABEL).cloned().unwrap_or_default();
                pods.push((name, ns, labels_of(selector)));
            }
            _ => {}
        }
    }
    EndpointPods { pods, ports }
}

/// Whether a `ports` list of a rule covers the wanted port. Named ports (in the rule or
/// wanted) are resolved against `dest`, the container ports of the destination pods.
fn covers(entries: Option<&Vec<NetworkPolicyPort>>, wanted: &NetworkPolicyPort, dest: &[ContainerPort]) -> bool {
    let Some(entries) = entries.filter(|e| !e.is_empty()) else { return true };
    let proto = wanted.protocol.as_deref().unwrap_or("TCP");
    let number = |name: &str| dest.iter().find(|c| c.name == name && c.protocol == proto).map(|c| c.port);
    let wanted_number = match &wanted.port {
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => number(name),
        None => None,
    };
    entries.iter().any(|e| {
        if e.protocol.as_deref().unwrap_or("TCP") != proto {
            return false;
        }
        match (&e.port, &wanted.port) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(IntOrString::String(a)), Some(IntOrString::String(b))) if a == b => true,
            (Some(IntOrString::String(name)), _) => number(name).is_some_and(|n| Some(n) == wanted_number),
            (Some(IntOrString::Int(_)), _) => wanted_number.is_some_and(|n| policy::port_matches(e, proto, n)),
        }
    })
}

/// The ports an allowance needs, each checked on its own (all ports: one entry without a port).
fn wanted_ports(a: &Allowance) -> Vec<NetworkPolicyPort> {
    if a.ports.is_empty() {
        vec![NetworkPolicyPort { protocol: Some("TCP".into()), port: None, end_port: None }]
    } else {
        a.ports.clone()
    }
}

/// Whether the chart's policies selecting `w` let it reach `a.to` on every port of `a`.
fn chart_allows_egress(model: &Model, w: &Workload, a: &Allowance, to: &EndpointPods) -> bool {
    let policies: Vec<_> = model
        .policies_in(&w.namespace)
        .filter(|p| !p.managed && policy::restricts_egress(&p.spec) && p.pod_selector.matches(&w.pod_labels))
        .collect();
    let ips: Vec<std::net::IpAddr> = match &a.to {
        Endpoint::IpBlock(b) => b.cidr.parse::<ipnet::IpNet>().map(|n| vec![n.network()]).unwrap_or_default(),
        _ => vec![],
    };
    let (pods, dest) = (&to.pods, &to.ports);
    let mut targets: Vec<Target> = ips.iter().map(|ip| Target::Ip(*ip)).collect();
    targets.extend(pods.iter().map(|(ns, ns_labels, labels)| Target::Pod {
        namespace: ns,
        namespace_labels: ns_labels,
        labels,
    }));
    // The API server's address unknown (`0.0.0.0/0` stands for it): any ipBlock rule on the
    // ports may be the one reaching it.
    let anywhere = match &a.to {
        Endpoint::Anywhere => true,
        Endpoint::IpBlock(b) => b.cidr == "0.0.0.0/0" || b.cidr == "::/0",
        _ => false,
    };
    wanted_ports(a).iter().all(|port| {
        let rule_ok = |r: &NetworkPolicyEgressRule, target: Option<&Target>, ns: &str| {
            covers(r.ports.as_ref(), port, dest)
                && (r.to.as_ref().is_none_or(|t| t.is_empty())
                    || target.is_some_and(|t| r.to.iter().flatten().any(|peer| policy::peer_matches(peer, ns, t))))
        };
        if anywhere {
            return policies.iter().any(|p| {
                p.spec.egress.iter().flatten().any(|r| {
                    rule_ok(r, None, &p.namespace)
                        || covers(r.ports.as_ref(), port, dest)
                            && r.to.iter().flatten().any(|peer| peer.ip_block.is_some())
                })
            });
        }
        !targets.is_empty()
            && targets.iter().all(|t| {
                policies.iter().any(|p| p.spec.egress.iter().flatten().any(|r| rule_ok(r, Some(t), &p.namespace)))
            })
    })
}

/// Whether the chart's policies selecting `w` admit `a.from` on every port of `a`.
fn chart_allows_ingress(model: &Model, w: &Workload, a: &Allowance, from: &EndpointPods) -> bool {
    let policies: Vec<_> = model
        .policies_in(&w.namespace)
        .filter(|p| !p.managed && policy::effective_types(&p.spec).0 && p.pod_selector.matches(&w.pod_labels))
        .collect();
    let pods = &from.pods;
    let mut sources: Vec<Source> = pods
        .iter()
        .map(|(ns, ns_labels, labels)| Source::Pod(Target::Pod { namespace: ns, namespace_labels: ns_labels, labels }))
        .collect();
    match &a.from {
        Endpoint::Anywhere => sources = vec![Source::Anywhere],
        Endpoint::IpBlock(b) => {
            sources = b.cidr.parse::<ipnet::IpNet>().map(|n| vec![Source::Ip(n.network())]).unwrap_or_default()
        }
        _ => {}
    }
    wanted_ports(a).iter().all(|port| {
        !sources.is_empty()
            && sources.iter().all(|s| {
                policies.iter().any(|p| {
                    p.spec.ingress.iter().flatten().any(|r| {
                        covers(r.ports.as_ref(), port, &w.ports)
                            && r.from.as_ref().is_none_or(|f| {
                                f.is_empty() || f.iter().any(|peer| policy::source_matches(peer, &p.namespace, s))
                            })
                    })
                })
            })
    })
}

/// The pass merging the allowance policies into the workload policies of the same workloads
/// (one policy per workload: DNS, extra egress, `allow` edges and the allowances), in
/// (namespace, workload) order.
pub fn merge(workload: Vec<NewPolicy>, allowed: Vec<NewPolicy>) -> Vec<NewPolicy> {
    if allowed.is_empty() {
        return workload;
    }
    let mut by_key: BTreeMap<(String, String), NewPolicy> = BTreeMap::new();
    let key =
        |p: &NewPolicy| (p.namespace.clone(), p.pods.as_ref().and_then(|x| x.workload.clone()).unwrap_or_default());
    let mut order: Vec<(String, String)> = Vec::new();
    for p in workload {
        let k = key(&p);
        order.push(k.clone());
        by_key.insert(k, p);
    }
    for a in allowed {
        let k = key(&a);
        match by_key.get_mut(&k) {
            Some(w) if w.pods.as_ref().map(Pods::key) == a.pods.as_ref().map(Pods::key) => {
                let egress = w.spec.egress.get_or_insert_with(Vec::new);
                for r in a.spec.egress.into_iter().flatten() {
                    if !egress.contains(&r) {
                        egress.push(r);
                    }
                }
                let ingress = w.spec.ingress.get_or_insert_with(Vec::new);
                for r in a.spec.ingress.into_iter().flatten() {
                    if !ingress.contains(&r) {
                        ingress.push(r);
                    }
                }
                if w.spec.ingress.as_ref().is_some_and(Vec::is_empty) {
                    w.spec.ingress = None;
                }
                w.annotations.extend(a.annotations);
                w.reasons.extend(a.reasons);
            }
            _ => {
                order.push(k.clone());
                by_key.insert(k, a);
            }
        }
    }
    order.sort();
    order.dedup();
    order.into_iter().filter_map(|k| by_key.remove(&k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::testing::{config, model};
    use k8s_openapi::api::networking::v1::IPBlock;

    const INPUT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec: {template: {metadata: {labels: {app: api}}, spec: {containers: [{name: c}]}}}\n---\n\
        apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: shop}\nspec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, ports: [{containerPort: 5432}]}]}}}\n---\n\
        apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}}\n";

    fn tcp(n: i32) -> NetworkPolicyPort {
        crate::config::platform::tcp(n)
    }

    fn pods(app: &str) -> Endpoint {
        Endpoint::Pods { namespace: "shop".into(), selector: selector::from_labels([("app", app)]) }
    }

    fn allowance(from: Endpoint, to: Endpoint, ports: Vec<NetworkPolicyPort>, evidence: &str) -> Allowance {
        Allowance { from, to, ports, rule: "service-reference".into(), evidence: evidence.into() }
    }

    #[test]
    fn both_sides_in_one_policy_per_workload() {
        let m = model(INPUT);
        let a = vec![
            allowance(pods("api"), pods("db"), vec![tcp(5432)], "env DB of deployment/api names service db:5432"),
            allowance(Endpoint::Anywhere, pods("api"), vec![tcp(8080), tcp(80)], "service api is a LoadBalancer"),
            allowance(pods("api"), pods("db"), vec![tcp(5433)], "args of deployment/api name db:5433"),
        ];
        let p = plan(&m, &Config::default(), &a);
        assert!(p.findings.is_empty());
        let names: Vec<&str> = p.policies.iter().map(|p| p.base_name.as_str()).collect();
        assert_eq!(names, ["netfence-workload-api", "netfence-workload-db"], "web gets nothing");
        let api = &p.policies[0].spec;
        assert_eq!(api.policy_types, Some(vec!["Ingress".into(), "Egress".into()]));
        let egress = api.egress.as_ref().unwrap();
        assert_eq!(egress.len(), 1, "two ports to the same peer share a rule");
        assert_eq!(egress[0].ports, Some(vec![tcp(5432), tcp(5433)]));
        assert_eq!(egress[0].to.as_ref().unwrap()[0], pods("db").peer().unwrap());
        let ingress = api.ingress.as_ref().unwrap();
        assert_eq!((ingress[0].from.clone(), ingress[0].ports.clone()), (None, Some(vec![tcp(80), tcp(8080)])));
        let db = &p.policies[1];
        assert_eq!(db.spec.policy_types, Some(vec!["Ingress".into()]));
        assert_eq!(db.spec.ingress.as_ref().unwrap()[0].from, Some(vec![pods("api").peer().unwrap()]));
        assert_eq!(
            db.reasons[0],
            "service-reference: env DB of deployment/api names service db:5432 (ingress of statefulset shop/db)"
        );
        assert_eq!(
            db.annotations,
            [(
                REASON_ANNOTATION.to_string(),
                "keeps the connections the release needs: ingress (service-reference); see `netfence render --report`"
                    .to_string()
            )]
        );
        // Nothing restricted (no default-deny), nothing to add.
        assert!(plan(&m, &config("defaultDeny: {enabled: false}"), &a).policies.is_empty());
        // Deterministic.
        assert_eq!(plan(&m, &Config::default(), &a), p);
    }

    #[test]
    fn the_chart_decides_the_sides_it_restricts() {
        // The chart restricts db's ingress (admitting web only) and api's egress (to db:5432).
        let input = format!(
            "{INPUT}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: db, namespace: shop}}\n\
             spec: {{podSelector: {{matchLabels: {{app: db}}}}, ingress: [{{from: [{{podSelector: {{matchLabels: {{app: web}}}}}}]}}]}}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: api, namespace: shop}}\n\
             spec: {{podSelector: {{matchLabels: {{app: api}}}}, policyTypes: [Egress], egress: [{{to: [{{podSelector: {{matchLabels: {{app: db}}}}}}], ports: [{{port: 5432}}]}}]}}\n"
        );
        let m = model(&input);
        let a = vec![
            allowance(pods("api"), pods("db"), vec![tcp(5432)], "api names db:5432"),
            allowance(pods("web"), pods("db"), vec![tcp(5432)], "web names db:5432"),
            allowance(
                pods("api"),
                Endpoint::IpBlock(IPBlock { cidr: "10.0.0.1/32".into(), except: None }),
                vec![tcp(443)],
                "kube",
            ),
        ];
        let p = plan(&m, &Config::default(), &a);
        // api: egress is the chart's (db allowed, the API server not: a finding); ingress is netfence's but nothing targets api.
        // db: ingress is the chart's and admits web but not api (a finding); egress is netfence's, nothing from db.
        // web: egress is netfence's: the rule to db.
        let names: Vec<&str> = p.policies.iter().map(|p| p.base_name.as_str()).collect();
        assert_eq!(names, ["netfence-workload-web"]);
        let messages: Vec<&str> = p.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("egress of deployment shop/api") && messages[0].contains("kube"), "{messages:?}");
        assert!(messages[1].contains("ingress of statefulset shop/db") && messages[1].contains("api names db:5432"));
    }

    #[test]
    fn merged_into_the_workload_policy() {
        let m = model(INPUT);
        let c = config("workloadPolicies: {enabled: true}");
        let dns = crate::transform::dns::DnsRule::new(&c.dns);
        let workload = crate::transform::workload_policies::plan(&m, &c, Some(&dns)).policies;
        let a = vec![allowance(pods("api"), pods("db"), vec![tcp(5432)], "api names db:5432")];
        let allowed = plan(&m, &c, &a).policies;
        let merged = merge(workload, allowed);
        let names: Vec<&str> = merged.iter().map(|p| p.base_name.as_str()).collect();
        assert_eq!(names, ["netfence-workload-api", "netfence-workload-db", "netfence-workload-web"]);
        let api = &merged[0];
        assert_eq!(api.spec.egress.as_ref().map(Vec::len), Some(2), "DNS, then db");
        assert_eq!(api.spec.policy_types, Some(vec!["Ingress".into(), "Egress".into()]));
        assert_eq!(api.reasons.len(), 2);
        assert_eq!(merged[1].spec.ingress.as_ref().map(Vec::len), Some(1));
    }
}
