//! The connectivity engine: which connections the NetworkPolicies allow between every pair of
//! workloads, and between workloads and addresses outside the cluster, following the
//! Kubernetes NetworkPolicy v1 semantics:
//!
//! - a pod is isolated for a direction only if some policy selecting it has that direction in
//!   its (defaulted) `policyTypes`; then the union of those policies' rules is what it may do;
//! - a connection is allowed when the source's egress and the destination's ingress both
//!   allow it; named ports are resolved against the destination pod's container ports;
//! - `ipBlock` peers match addresses outside the cluster only, never pods;
//! - pods with `hostNetwork: true` are not subject to policies, and their traffic carries the
//!   node's address, so only rules admitting every peer match them.
//!
//! Workloads are grouped by (namespace, labels, container ports, network mode) first: policies
//! are matched once per group, and every pair of groups is evaluated once, however many
//! documents (pods, replicas, copies) share the group.

use super::ingress;
use super::ipset::{self, Family, IpRange, IpSet};
use super::ports::ConnSet;
use super::topology::{Topology, NAMESPACE_NAME_LABEL};
use crate::k8s::selector::Labels;
use crate::model::policy::{self as semantics, Target};
use crate::model::workload::ContainerPort;
use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use std::collections::BTreeMap;
use std::fmt;

/// A direction of traffic relative to a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Traffic into the pod.
    Ingress,
    /// Traffic out of the pod.
    Egress,
}

impl Direction {
    fn index(self) -> usize {
        self as usize
    }

    /// `ingress` or `egress`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

/// A pod the analysis should consider although no workload of the input creates it (the DNS
/// server a render relies on, an ingress controller). Probes are never reported as peers.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Its namespace (labels from the input if the namespace is known, else the automatic one).
    pub namespace: String,
    /// Its labels.
    pub labels: Labels,
    /// Its container ports.
    pub ports: Vec<ContainerPort>,
}

/// Options of [`Engine::new`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Extra pods to evaluate (see [`Engine::probe`]).
    pub probes: Vec<Probe>,
    /// Address blocks to split the external sources by, on top of those of the ingress rules
    /// (so that two inputs compared by `diff` share the same external peers).
    pub extra_source_blocks: Vec<IpSet>,
    /// Address blocks to split the external destinations by, on top of those of the egress
    /// rules.
    pub extra_destination_blocks: Vec<IpSet>,
    /// Leave out the ingress controller reached through Routes and Ingresses.
    pub no_ingress_controller: bool,
    /// Treat pods with `hostNetwork: true` like any other pod, as np-guard netpol-analyzer does
    /// (Kubernetes leaves policies for them to the network plugin, and most plugins cannot tell
    /// their traffic from the node's; by default the engine exempts them).
    pub host_network_like_pods: bool,
    /// Ignore IPv6 `ipBlock`s (np-guard netpol-analyzer does not support them); the external
    /// peers are then IPv4 ranges only.
    pub ipv4_only: bool,
}

/// One end of a connection as the engine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// A group of identical pods.
    Group(usize),
    /// A range of external addresses (from [`Engine::sources`] / [`Engine::destinations`], or
    /// a single address).
    Ip(IpRange),
}

/// A peer of the workload-level result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Peer {
    /// A workload (index into [`Topology::workloads`]).
    Workload(usize),
    /// A range of addresses outside the cluster.
    External(IpRange),
    /// The ingress controller serving the input's Routes and Ingresses.
    IngressController,
}

/// Pods policies cannot tell apart.
#[derive(Debug, Clone)]
struct Group {
    namespace: String,
    namespace_labels: Labels,
    labels: Labels,
    ports: Vec<ContainerPort>,
    host_network: bool,
}

/// A set of group indices.
#[derive(Debug, Clone, Default)]
struct Bits(Vec<u64>);

impl Bits {
    fn set(&mut self, i: usize) {
        if self.0.len() <= i / 64 {
            self.0.resize(i / 64 + 1, 0);
        }
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

/// One ingress or egress rule, matched against every group up front.
#[derive(Debug, Clone)]
struct Rule {
    /// Index into [`Topology::policies`].
    policy: usize,
    /// Position in the policy's `ingress` or `egress` list.
    index: usize,
    direction: Direction,
    /// `from`/`to` absent or empty: every peer.
    all_peers: bool,
    /// Groups some pod peer of the rule matches.
    groups: Bits,
    /// The rule's `ipBlock`s.
    blocks: Vec<IpSet>,
    /// What the rule's `ports` allow (named ports unresolved).
    ports: ConnSet,
}

/// A rule that admits the other end of a connection, for explanations.
#[derive(Debug, Clone)]
pub struct RuleHit {
    /// Position of the rule in the policy's `ingress` or `egress` list.
    pub index: usize,
    /// What it allows (named ports resolved for the destination).
    pub conns: ConnSet,
}

/// A policy that isolates a pod for a direction, and which of its rules admit the other end.
#[derive(Debug, Clone)]
pub struct PolicyHit {
    /// Index into [`Topology::policies`].
    pub policy: usize,
    /// Rules admitting the other end (none: the policy allows it nothing).
    pub rules: Vec<RuleHit>,
}

/// How one side (the source's egress or the destination's ingress) treats a connection.
#[derive(Debug, Clone)]
pub struct Side {
    /// The direction.
    pub direction: Direction,
    /// Whether the pod uses the node's network (no policy applies).
    pub host_network: bool,
    /// Policies isolating the pod for this direction; empty when it is not isolated.
    pub policies: Vec<PolicyHit>,
    /// What this side allows.
    pub allowed: ConnSet,
}

/// The policies isolating a group for one direction: (policy, indices of its rules of that
/// direction in [`Engine::rules`]).
type Isolating = Vec<(usize, Vec<usize>)>;

/// A rule's peers (`from` or `to`) and what its `ports` allow.
type RuleSource<'a> = (Option<&'a Vec<NetworkPolicyPeer>>, ConnSet);

/// The evaluated input: groups, compiled rules and the external peers.
#[derive(Debug)]
pub struct Engine<'t> {
    /// The input.
    pub topology: &'t Topology,
    groups: Vec<Group>,
    /// Group of each workload.
    workload_group: Vec<usize>,
    /// Workloads of each group.
    members: Vec<Vec<usize>>,
    /// Group of each probe (then the ingress controller's, if any).
    probe_groups: Vec<usize>,
    rules: Vec<Rule>,
    /// Per group and direction: (policy, its rules of that direction) isolating it.
    isolating: Vec<[Isolating; 2]>,
    sources: Vec<IpRange>,
    destinations: Vec<IpRange>,
    ingress_targets: BTreeMap<usize, ConnSet>,
    ingress_controller: Option<usize>,
}

impl<'t> Engine<'t> {
    /// Compiles the policies of `topology` against its workloads and the `options`' probes.
    pub fn new(topology: &'t Topology, options: &Options) -> Engine<'t> {
        let mut engine = Engine {
            topology,
            groups: Vec::new(),
            workload_group: Vec::new(),
            members: Vec::new(),
            probe_groups: Vec::new(),
            rules: Vec::new(),
            isolating: Vec::new(),
            sources: Vec::new(),
            destinations: Vec::new(),
            ingress_targets: BTreeMap::new(),
            ingress_controller: None,
        };
        let mut index: BTreeMap<(String, Labels, bool, Vec<ContainerPort>), usize> = BTreeMap::new();
        let mut group_of = |g: Group, groups: &mut Vec<Group>| {
            let key = (g.namespace.clone(), g.labels.clone(), g.host_network, g.ports.clone());
            *index.entry(key).or_insert_with(|| {
                groups.push(g);
                groups.len() - 1
            })
        };
        for w in &topology.workloads {
            let g = Group {
                namespace: w.namespace.clone(),
                namespace_labels: topology.namespace_labels(&w.namespace),
                labels: w.labels.clone(),
                ports: w.ports.clone(),
                host_network: w.host_network && !options.host_network_like_pods,
            };
            let id = group_of(g, &mut engine.groups);
            engine.workload_group.push(id);
        }
        engine.members = vec![Vec::new(); engine.groups.len()];
        for (w, g) in engine.workload_group.iter().enumerate() {
            engine.members[*g].push(w);
        }
        let mut probes: Vec<Probe> = options.probes.clone();
        if !options.no_ingress_controller && !topology.workloads.is_empty() {
            engine.ingress_targets = ingress::targets(topology);
            if !engine.ingress_targets.is_empty() {
                probes.push(Probe {
                    namespace: ingress::CONTROLLER_NAMESPACE.into(),
                    labels: Labels::new(),
                    ports: Vec::new(),
                });
            }
        }
        for p in &probes {
            // Probes get groups of their own: they must never be reported as workloads.
            engine.groups.push(Group {
                namespace: p.namespace.clone(),
                namespace_labels: topology.namespace_labels(&p.namespace),
                labels: p.labels.clone(),
                ports: p.ports.clone(),
                host_network: false,
            });
            engine.members.push(Vec::new());
            engine.probe_groups.push(engine.groups.len() - 1);
        }
        if !engine.ingress_targets.is_empty() {
            engine.ingress_controller = engine.probe_groups.pop();
        }
        engine.compile(options.ipv4_only);
        engine.split_external(&options.extra_source_blocks, &options.extra_destination_blocks);
        tracing::debug!(
            workloads = topology.workloads.len(),
            groups = engine.groups.len(),
            rules = engine.rules.len(),
            sources = engine.sources.len(),
            destinations = engine.destinations.len(),
            "connectivity engine ready"
        );
        engine
    }

    fn compile(&mut self, ipv4_only: bool) {
        self.isolating = vec![[Vec::new(), Vec::new()]; self.groups.len()];
        for (pi, policy) in self.topology.policies.iter().enumerate() {
            let (ingress, egress) = semantics::effective_types(&policy.spec);
            let lists: [(Direction, bool, Vec<RuleSource>); 2] = [
                (
                    Direction::Ingress,
                    ingress,
                    policy
                        .spec
                        .ingress
                        .iter()
                        .flatten()
                        .map(|r| (r.from.as_ref(), ConnSet::from_rule_ports(r.ports.as_deref())))
                        .collect(),
                ),
                (
                    Direction::Egress,
                    egress,
                    policy
                        .spec
                        .egress
                        .iter()
                        .flatten()
                        .map(|r| (r.to.as_ref(), ConnSet::from_rule_ports(r.ports.as_deref())))
                        .collect(),
                ),
            ];
            let selected: Vec<usize> = (0..self.groups.len())
                .filter(|&g| {
                    let group = &self.groups[g];
                    !group.host_network
                        && semantics::selects_pod(&policy.spec, &policy.namespace, &group.namespace, &group.labels)
                })
                .collect();
            for (direction, applies, rules) in lists {
                let mut ids = Vec::new();
                for (index, (peers, ports)) in rules.into_iter().enumerate() {
                    let peers: &[NetworkPolicyPeer] = peers.map_or(&[], Vec::as_slice);
                    let mut rule = Rule {
                        policy: pi,
                        index,
                        direction,
                        all_peers: peers.is_empty(),
                        groups: Bits::default(),
                        blocks: Vec::new(),
                        ports,
                    };
                    for peer in peers {
                        if let Some(b) = &peer.ip_block {
                            match IpSet::block(&b.cidr, b.except.as_deref().unwrap_or_default()) {
                                Ok(set) if ipv4_only && set.has_family(Family::V6) => {
                                    tracing::warn!("{}: IPv6 ipBlock {} ignored (np-guard mode)", policy.origin, b.cidr)
                                }
                                Ok(set) => rule.blocks.push(set),
                                Err(e) => tracing::warn!("{}: ipBlock ignored: {e}", policy.origin),
                            }
                            continue;
                        }
                        for (g, group) in self.groups.iter().enumerate() {
                            if !rule.groups.get(g) && self.peer_matches_group(peer, &policy.namespace, group) {
                                rule.groups.set(g);
                            }
                        }
                    }
                    ids.push(self.rules.len());
                    self.rules.push(rule);
                }
                if applies {
                    for &g in &selected {
                        self.isolating[g][direction.index()].push((pi, ids.clone()));
                    }
                }
            }
        }
    }

    fn peer_matches_group(&self, peer: &NetworkPolicyPeer, policy_ns: &str, group: &Group) -> bool {
        !group.host_network
            && semantics::peer_matches(
                peer,
                policy_ns,
                &Target::Pod {
                    namespace: &group.namespace,
                    namespace_labels: &group.namespace_labels,
                    labels: &group.labels,
                },
            )
    }

    /// Splits the address space into the external peers of each direction: sources by the
    /// blocks of ingress rules, destinations by those of egress rules (np-guard's choice). The
    /// IPv6 space is added when some block of the input is IPv6.
    fn split_external(&mut self, extra_sources: &[IpSet], extra_destinations: &[IpSet]) {
        let mut ingress = self.blocks(Direction::Ingress);
        ingress.extend(extra_sources.iter().cloned());
        let mut egress = self.blocks(Direction::Egress);
        egress.extend(extra_destinations.iter().cloned());
        let v6 = ingress.iter().chain(&egress).any(|b| b.has_family(Family::V6));
        let universe = IpSet::universe(if v6 { &[Family::V4, Family::V6] } else { &[Family::V4] });
        self.sources = ipset::partition(&universe, &ingress);
        self.destinations = ipset::partition(&universe, &egress);
    }

    /// The external peers traffic can come from.
    pub fn sources(&self) -> &[IpRange] {
        &self.sources
    }

    /// The external peers traffic can go to.
    pub fn destinations(&self) -> &[IpRange] {
        &self.destinations
    }

    /// Every address block the `direction` rules of the policies mention.
    pub fn blocks(&self, direction: Direction) -> Vec<IpSet> {
        self.rules.iter().filter(|r| r.direction == direction).flat_map(|r| r.blocks.iter().cloned()).collect()
    }

    /// The group of workload `w`.
    pub fn group_of(&self, w: usize) -> usize {
        self.workload_group[w]
    }

    /// The group of probe `i` of [`Options::probes`].
    pub fn probe(&self, i: usize) -> usize {
        self.probe_groups[i]
    }

    /// The namespace of group `g`.
    pub fn group_namespace(&self, g: usize) -> &str {
        &self.groups[g].namespace
    }

    /// Whether pods of group `g` are isolated for `direction`.
    pub fn is_isolated(&self, g: usize, direction: Direction) -> bool {
        !self.isolating[g][direction.index()].is_empty()
    }

    /// Policies isolating group `g` for `direction`.
    pub fn isolating_policies(&self, g: usize, direction: Direction) -> impl Iterator<Item = usize> + '_ {
        self.isolating[g][direction.index()].iter().map(|(p, _)| *p)
    }

    /// Whether any pod peer of rule `index` of policy `policy` (direction `direction`) matches
    /// a group; `None` when the rule has no pod peer.
    pub fn rule_matches_any_group(&self, policy: usize, direction: Direction, index: usize) -> Option<bool> {
        let rule = self.rules.iter().find(|r| r.policy == policy && r.direction == direction && r.index == index)?;
        Some(rule.all_peers || (0..self.groups.len()).any(|g| rule.groups.get(g)))
    }

    fn admits(rule: &Rule, other: End) -> bool {
        rule.all_peers
            || match other {
                End::Group(g) => rule.groups.get(g),
                End::Ip(range) => rule.blocks.iter().any(|b| b.contains_start(&range)),
            }
    }

    /// What `subject`'s `direction` side allows towards `other`, named ports unresolved.
    fn side_conns(&self, direction: Direction, subject: usize, other: End) -> ConnSet {
        let policies = &self.isolating[subject][direction.index()];
        if policies.is_empty() {
            return ConnSet::all();
        }
        let mut out = ConnSet::none();
        for (_, rules) in policies {
            for &r in rules {
                let rule = &self.rules[r];
                if Engine::admits(rule, other) {
                    out.union_with(&rule.ports);
                    if out.is_all() {
                        return out;
                    }
                }
            }
        }
        out
    }

    /// The connections allowed from `src` to `dst` (at least one of them a group).
    pub fn conns(&self, src: End, dst: End) -> ConnSet {
        match (src, dst) {
            (End::Group(s), End::Group(d)) => {
                let egress = self.side_conns(Direction::Egress, s, dst);
                if egress.is_empty() {
                    return egress;
                }
                let ingress = self.side_conns(Direction::Ingress, d, src);
                let ports = &self.groups[d].ports;
                egress.resolve(ports).intersection(&ingress.resolve(ports))
            }
            (End::Group(s), End::Ip(_)) => self.side_conns(Direction::Egress, s, dst).numbered(),
            (End::Ip(_), End::Group(d)) => self.side_conns(Direction::Ingress, d, src).resolve(&self.groups[d].ports),
            (End::Ip(_), End::Ip(_)) => ConnSet::none(),
        }
    }

    /// How `subject`'s `direction` side treats `other`, policy by policy and rule by rule.
    /// `resolve_for` is the destination group whose container ports name the ports.
    pub fn side(&self, direction: Direction, subject: End, other: End, resolve_for: Option<usize>) -> Side {
        let resolve = |c: &ConnSet| match resolve_for {
            Some(g) => c.resolve(&self.groups[g].ports),
            None => c.numbered(),
        };
        let End::Group(g) = subject else {
            return Side { direction, host_network: false, policies: Vec::new(), allowed: ConnSet::all() };
        };
        let mut side = Side {
            direction,
            host_network: self.groups[g].host_network,
            policies: Vec::new(),
            allowed: resolve(&self.side_conns(direction, g, other)),
        };
        for (policy, rules) in &self.isolating[g][direction.index()] {
            let rules = rules
                .iter()
                .map(|&r| &self.rules[r])
                .filter(|r| Engine::admits(r, other))
                .map(|r| RuleHit { index: r.index, conns: resolve(&r.ports) })
                .collect();
            side.policies.push(PolicyHit { policy: *policy, rules });
        }
        side
    }

    /// The group's container ports.
    pub fn group_ports(&self, g: usize) -> &[ContainerPort] {
        &self.groups[g].ports
    }

    /// Calls `visit` for every allowed connection between distinct peers of the input: workload
    /// to workload, workload to and from external ranges, and the ingress controller to the
    /// workloads Routes and Ingresses expose. Nothing is visited when the input has no workload.
    pub fn for_each_connection(&self, mut visit: impl FnMut(Peer, Peer, &ConnSet)) {
        let real: Vec<usize> = (0..self.groups.len()).filter(|g| !self.members[*g].is_empty()).collect();
        for &s in &real {
            for &d in &real {
                let c = self.conns(End::Group(s), End::Group(d));
                if c.is_empty() {
                    continue;
                }
                for &a in &self.members[s] {
                    for &b in &self.members[d] {
                        if a != b {
                            visit(Peer::Workload(a), Peer::Workload(b), &c);
                        }
                    }
                }
            }
            for r in &self.destinations {
                let c = self.conns(End::Group(s), End::Ip(*r));
                if !c.is_empty() {
                    for &a in &self.members[s] {
                        visit(Peer::Workload(a), Peer::External(*r), &c);
                    }
                }
            }
        }
        for r in &self.sources {
            for &d in &real {
                let c = self.conns(End::Ip(*r), End::Group(d));
                if !c.is_empty() {
                    for &b in &self.members[d] {
                        visit(Peer::External(*r), Peer::Workload(b), &c);
                    }
                }
            }
        }
        if let Some(ic) = self.ingress_controller {
            for (w, ports) in &self.ingress_targets {
                let c = self.conns(End::Group(ic), End::Group(self.workload_group[*w])).intersection(ports);
                if !c.is_empty() {
                    visit(Peer::IngressController, Peer::Workload(*w), &c);
                }
            }
        }
    }

    /// Every allowed connection, as [`Engine::for_each_connection`] visits them.
    pub fn connections(&self) -> Vec<Connection> {
        let mut out = Vec::new();
        self.for_each_connection(|src, dst, conns| out.push(Connection { src, dst, conns: conns.clone() }));
        out
    }

    /// How `peer` is printed: `ns/name[Kind]`, `first-last` for external ranges, or
    /// `{ingress-controller}`.
    pub fn peer_name(&self, peer: Peer) -> String {
        match peer {
            Peer::Workload(w) => self.topology.workloads[w].id(),
            Peer::External(r) => r.to_string(),
            Peer::IngressController => ingress::CONTROLLER.to_string(),
        }
    }

    /// The namespace of `peer`, if it has one.
    pub fn peer_namespace(&self, peer: Peer) -> Option<&str> {
        match peer {
            Peer::Workload(w) => Some(&self.topology.workloads[w].namespace),
            _ => None,
        }
    }
}

/// An allowed connection between two peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Where it starts.
    pub src: Peer,
    /// Where it ends.
    pub dst: Peer,
    /// What is allowed.
    pub conns: ConnSet,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The namespace labels a probe namespace gets when the input does not know it.
pub fn automatic_namespace_labels(name: &str) -> Labels {
    Labels::from([(NAMESPACE_NAME_LABEL.to_string(), name.to_string())])
}
