//! The connectivity engine: which connections the policies allow between every pair of
//! workloads, and between workloads and addresses outside the cluster.
//!
//! Per direction of a pod (its egress, or its ingress), three tiers decide, highest first
//! (the Kubernetes network policy API, as np-guard netpol-analyzer evaluates it):
//! 1. AdminNetworkPolicies selecting the pod, by priority, each one's rules in order: the first
//!    rule matching a connection allows, denies or passes it;
//! 2. what the admin tier did not decide (or passed) is allowed if the NetworkPolicies
//!    isolating the pod for that direction allow it (the union of their rules), or denied if
//!    some isolate it and none allows it;
//! 3. for a pod no NetworkPolicy isolates, the BaselineAdminNetworkPolicy's rules (first match)
//!    may deny it; everything else is allowed.
//!
//! A connection is allowed when the source's egress and the destination's ingress both allow
//! it. Named ports are resolved against the destination pod's container ports. `ipBlock` and
//! `networks` peers match addresses outside the cluster only, never pods.
//!
//! Workloads are grouped by (namespace, labels, container ports) first: selectors are matched
//! once per group through an index of labels, and every pair of groups is evaluated at most
//! once, however many documents (pods, replicas, copies) share the group. [`Engine::for_each_connection`]
//! evaluates only the pairs whose two sides may let something through (bit sets of the groups
//! each rule admits), so sparse connectivity costs little however many workloads there are.
//!
//! For exposure analysis ([`Options::exposure`]) the engine also holds *representative* groups:
//! one per selector of a policy rule that no workload of the input stands for, matched only by
//! rules with the same selectors (np-guard's model), and one for "the entire cluster", matched
//! only by rules that admit every pod.

use super::admin::{Action, AdminPeer, PodsOf};
use super::index::{Canonical, Index};
use super::ingress;
use super::ipset::{self, Family, IpRange, IpSet};
use super::ports::ConnSet;
use super::topology::Topology;
use crate::k8s::selector::Labels;
use crate::model::policy as semantics;
use crate::model::workload::ContainerPort;
use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::{BTreeMap, HashMap};
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

    /// Both directions.
    pub const BOTH: [Direction; 2] = [Direction::Ingress, Direction::Egress];
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
    /// Ignore IPv6 `ipBlock`s and `networks` (np-guard netpol-analyzer does not support them);
    /// the external peers are then IPv4 ranges only.
    pub ipv4_only: bool,
    /// Add the representative groups of exposure analysis (see the module documentation).
    pub exposure: bool,
}

/// One end of a connection as the engine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// A group of identical pods (or a representative group).
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

/// What a group stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupKind {
    /// Pods of workloads of the input.
    Workloads,
    /// A probe (see [`Probe`]) or the ingress controller.
    Probe,
    /// Pods no workload of the input stands for, matching these selectors (exposure analysis).
    Representative {
        /// The namespace, for a rule without `namespaceSelector` (of its policy's namespace).
        namespace: Option<String>,
        /// Their namespaces' labels (the policy's namespace by name for a rule without
        /// `namespaceSelector`).
        namespaces: LabelSelector,
        /// Their labels; `None` for every pod.
        pods: Option<LabelSelector>,
    },
    /// Every pod of the cluster, matched only by rules that admit every pod.
    EntireCluster,
}

/// Pods policies cannot tell apart.
#[derive(Debug, Clone)]
struct Group {
    kind: GroupKind,
    /// Namespace id in the index (`None` for representative groups).
    namespace: Option<usize>,
    labels: Labels,
    /// Container ports; `None` when unknown (representative groups): named ports stay names.
    ports: Option<Vec<ContainerPort>>,
}

/// A set of group indices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Bits(Vec<u64>);

impl Bits {
    /// An empty set sized for `n` groups.
    pub fn with_capacity(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }

    /// The set of `0..n`.
    pub fn all(n: usize) -> Bits {
        let mut b = Bits(vec![u64::MAX; n.div_ceil(64)]);
        if !n.is_multiple_of(64) {
            if let Some(last) = b.0.last_mut() {
                *last = (1u64 << (n % 64)) - 1;
            }
        }
        b
    }

    /// Adds `i`.
    pub fn set(&mut self, i: usize) {
        if self.0.len() <= i / 64 {
            self.0.resize(i / 64 + 1, 0);
        }
        self.0[i / 64] |= 1 << (i % 64);
    }

    /// Whether `i` is in the set.
    pub fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Adds every member of `other`.
    pub fn or(&mut self, other: &Bits) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    /// Keeps the members of `other` only.
    pub fn and(&mut self, other: &Bits) {
        for (i, a) in self.0.iter_mut().enumerate() {
            *a &= other.0.get(i).copied().unwrap_or(0);
        }
    }

    /// Removes `i`.
    pub fn clear(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w &= !(1 << (i % 64));
        }
    }

    /// Removes every member of `other`.
    pub fn and_not(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= !b;
        }
    }

    /// The number of members.
    pub fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set has no member.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// The members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let b = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(i * 64 + b)
            })
        })
    }
}

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSource {
    /// Rule `index` of NetworkPolicy `policy` (index into [`Topology::policies`]).
    Network {
        /// The policy.
        policy: usize,
        /// Position in its `ingress` or `egress` list.
        index: usize,
    },
    /// Rule `index` of AdminNetworkPolicy `policy` (index into [`Topology::admin_policies`]).
    Admin {
        /// The policy.
        policy: usize,
        /// Position in its `ingress` or `egress` list.
        index: usize,
    },
    /// Rule `index` of the BaselineAdminNetworkPolicy.
    Baseline {
        /// Position in its `ingress` or `egress` list.
        index: usize,
    },
}

/// One ingress or egress rule, matched against every group up front.
#[derive(Debug, Clone)]
struct Rule {
    source: RuleSource,
    direction: Direction,
    action: Action,
    /// Rule without peers: every pod and address.
    all_peers: bool,
    /// Groups some pod peer of the rule matches.
    groups: Bits,
    /// Address blocks (`ipBlock`, `networks`).
    blocks: Vec<IpSet>,
    /// What the rule's `ports` allow (named ports unresolved).
    ports: ConnSet,
}

/// The policies deciding one direction of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct SideSpec {
    /// Rules of the AdminNetworkPolicies selecting the group, in evaluation order.
    admin: Vec<u32>,
    /// NetworkPolicies isolating the group (`None`: not isolated) and their rules.
    network: Option<(Vec<u32>, Vec<u32>)>,
    /// Rules of the BaselineAdminNetworkPolicy when it selects the group.
    baseline: Option<Vec<u32>>,
}

/// What a policy contributes to the sides of the groups it selects.
#[derive(Debug, Clone, Copy)]
enum Item {
    /// NetworkPolicy (index into [`Topology::policies`]).
    Network(u32),
    /// AdminNetworkPolicy (index into [`Topology::admin_policies`]).
    Admin(u32),
    /// The BaselineAdminNetworkPolicy.
    Baseline,
}

/// Groups partitioned by the policies selecting them, policy by policy: a class is the list of
/// items added to its groups so far, stored as a node pointing to its parent list. A policy
/// that selects whole classes only renames them; one that splits a class moves the members it
/// selects. With few classes the selection is intersected with each class word by word, so
/// the cost is about classes × groups / 64 per policy, else the selected members are visited
/// once: never groups × policies per group, and one node per (class, policy) touched.
#[derive(Debug)]
struct Refinement {
    /// Group → live class (index into `classes`).
    class_of: Vec<u32>,
    classes: Vec<Class>,
    /// (parent node, item); node 0 is the empty list.
    nodes: Vec<(u32, Option<Item>)>,
}

/// A live class of [`Refinement`].
#[derive(Debug)]
struct Class {
    node: u32,
    members: Bits,
    size: usize,
}

impl Refinement {
    fn new(groups: usize) -> Refinement {
        Refinement {
            class_of: vec![0; groups],
            classes: vec![Class { node: 0, members: Bits::all(groups), size: groups }],
            nodes: vec![(0, None)],
        }
    }

    fn node(&mut self, parent: u32, item: Item) -> u32 {
        self.nodes.push((parent, Some(item)));
        (self.nodes.len() - 1) as u32
    }

    /// Appends `item` to the lists of the `selected` groups.
    fn add(&mut self, selected: &Bits, item: Item) {
        let groups = self.class_of.len();
        let mut selected = selected.clone();
        selected.and(&Bits::all(groups));
        let count = selected.count();
        if count == 0 {
            return;
        }
        if self.classes.len() * selected.0.len() <= count {
            // Few classes: intersect each with the selection.
            for c in 0..self.classes.len() {
                let mut inter = self.classes[c].members.clone();
                inter.and(&selected);
                let k = inter.count();
                if k == 0 {
                    continue;
                }
                let node = self.node(self.classes[c].node, item);
                if k == self.classes[c].size {
                    self.classes[c].node = node;
                    continue;
                }
                self.classes[c].members.and_not(&inter);
                self.classes[c].size -= k;
                let id = self.classes.len() as u32;
                for g in inter.iter() {
                    self.class_of[g] = id;
                }
                self.classes.push(Class { node, members: inter, size: k });
            }
            return;
        }
        // Many classes: count the selected members of each class touched.
        let mut tally: HashMap<u32, usize> = HashMap::new();
        for g in selected.iter() {
            *tally.entry(self.class_of[g]).or_default() += 1;
        }
        let mut split: HashMap<u32, u32> = HashMap::new();
        let mut touched: Vec<(u32, usize)> = tally.into_iter().collect();
        touched.sort_unstable();
        for (c, k) in touched {
            let node = self.node(self.classes[c as usize].node, item);
            if k == self.classes[c as usize].size {
                self.classes[c as usize].node = node;
            } else {
                split.insert(c, self.classes.len() as u32);
                self.classes.push(Class { node, members: Bits::with_capacity(groups), size: 0 });
            }
        }
        if split.is_empty() {
            return;
        }
        for g in selected.iter() {
            let old = self.class_of[g];
            if let Some(&new) = split.get(&old) {
                self.class_of[g] = new;
                self.classes[old as usize].members.clear(g);
                self.classes[old as usize].size -= 1;
                self.classes[new as usize].members.set(g);
                self.classes[new as usize].size += 1;
            }
        }
    }

    /// The node (list of items) of group `g`.
    fn node_of(&self, g: usize) -> u32 {
        self.classes[self.class_of[g] as usize].node
    }

    /// The items of `node`, in the order they were added.
    fn items(&self, node: u32) -> Vec<Item> {
        let mut out = Vec::new();
        let mut c = node;
        while let (parent, Some(item)) = self.nodes[c as usize] {
            out.push(item);
            c = parent;
        }
        out.reverse();
        out
    }
}

/// A rule that decided part of a connection, for explanations.
#[derive(Debug, Clone)]
pub struct RuleHit {
    /// Where the rule is.
    pub source: RuleSource,
    /// Its action (`Allow` for NetworkPolicy rules).
    pub action: Action,
    /// What it decided (named ports resolved; for admin tiers, only what earlier rules had
    /// not decided).
    pub conns: ConnSet,
}

/// A NetworkPolicy that isolates a pod for a direction, and which of its rules admit the other
/// end.
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
    /// AdminNetworkPolicies selecting the pod (indices into [`Topology::admin_policies`]), in
    /// evaluation order.
    pub admin_policies: Vec<usize>,
    /// Admin rules that matched the connection, in evaluation order.
    pub admin: Vec<RuleHit>,
    /// NetworkPolicies isolating the pod for this direction; empty when it is not isolated.
    pub policies: Vec<PolicyHit>,
    /// Whether the BaselineAdminNetworkPolicy selects the pod for this direction.
    pub baseline_selects: bool,
    /// Baseline rules that matched what the upper tiers left, in order.
    pub baseline: Vec<RuleHit>,
    /// What this side allows.
    pub allowed: ConnSet,
    /// What the admin tier allowed or denied (the rest was passed or not matched).
    pub admin_decided: ConnSet,
}

impl Side {
    /// Whether NetworkPolicies isolate the pod for this direction.
    pub fn isolated(&self) -> bool {
        !self.policies.is_empty()
    }
}

/// How named ports of a rule are turned into numbers for one destination.
#[derive(Debug, Clone, Copy)]
enum Resolve<'a> {
    /// Against a pod's container ports (a name the pod lacks matches nothing).
    Pod(&'a [ContainerPort]),
    /// Against a pod's ports, keeping names it lacks (np-guard's entire-cluster exposure).
    Lenient(&'a [ContainerPort]),
    /// An address: named ports match nothing.
    Address,
    /// Unknown pods: names stay names.
    Symbolic,
}

impl Resolve<'_> {
    fn apply(self, c: &ConnSet) -> ConnSet {
        match self {
            Resolve::Pod(p) => c.resolve(p),
            Resolve::Lenient(p) => c.resolve_lenient(p),
            Resolve::Address => c.numbered(),
            Resolve::Symbolic => c.clone(),
        }
    }
}

/// The evaluated input: groups, compiled rules and the external peers.
#[derive(Debug)]
pub struct Engine<'t> {
    /// The input.
    pub topology: &'t Topology,
    groups: Vec<Group>,
    /// Groups of workloads (the first ones), then probes, then representative groups.
    real_groups: usize,
    /// Group of each workload.
    workload_group: Vec<usize>,
    /// Workloads of each group.
    members: Vec<Vec<usize>>,
    /// Group of each probe (then the ingress controller's, if any).
    probe_groups: Vec<usize>,
    /// Representative groups (exposure analysis), the entire cluster's last.
    representatives: Vec<usize>,
    rules: Vec<Rule>,
    /// Interned side specifications.
    specs: Vec<SideSpec>,
    /// Per group and direction: its side specification.
    side_of: Vec<[u32; 2]>,
    /// Per NetworkPolicy and direction: groups it isolates (for candidate pairs).
    network_selects: Vec<[Bits; 2]>,
    /// Per AdminNetworkPolicy and direction: groups it selects.
    admin_selects: Vec<[Bits; 2]>,
    sources: Vec<IpRange>,
    destinations: Vec<IpRange>,
    ingress_targets: BTreeMap<usize, ConnSet>,
    ingress_controller: Option<usize>,
}

impl<'t> Engine<'t> {
    /// Compiles the policies of `topology` against its workloads and the `options`' probes.
    pub fn new(topology: &'t Topology, options: &Options) -> Engine<'t> {
        let mut index = Index::new(topology);
        let mut groups: Vec<Group> = Vec::new();
        let mut group_index: BTreeMap<(usize, &Labels, &[ContainerPort]), usize> = BTreeMap::new();
        let mut workload_group = Vec::with_capacity(topology.workloads.len());
        for w in &topology.workloads {
            let ns = index.namespace_id(&w.namespace);
            let id = *group_index.entry((ns, &w.labels, w.ports.as_slice())).or_insert_with(|| {
                groups.push(Group {
                    kind: GroupKind::Workloads,
                    namespace: Some(ns),
                    labels: w.labels.clone(),
                    ports: Some(w.ports.clone()),
                });
                groups.len() - 1
            });
            workload_group.push(id);
        }
        let real_groups = groups.len();
        let mut members = vec![Vec::new(); real_groups];
        for (w, g) in workload_group.iter().enumerate() {
            members[*g].push(w);
        }
        let mut probes: Vec<Probe> = options.probes.clone();
        let mut ingress_targets = BTreeMap::new();
        if !options.no_ingress_controller && !topology.workloads.is_empty() {
            ingress_targets = ingress::targets(topology);
            if !ingress_targets.is_empty() {
                probes.push(Probe {
                    namespace: ingress::CONTROLLER_NAMESPACE.into(),
                    labels: Labels::new(),
                    ports: Vec::new(),
                });
            }
        }
        let mut probe_groups = Vec::new();
        for p in &probes {
            // Probes get groups of their own: they must never be reported as workloads.
            let ns = index.namespace_id(&p.namespace);
            groups.push(Group {
                kind: GroupKind::Probe,
                namespace: Some(ns),
                labels: p.labels.clone(),
                ports: Some(p.ports.clone()),
            });
            members.push(Vec::new());
            probe_groups.push(groups.len() - 1);
        }
        let ingress_controller = if ingress_targets.is_empty() { None } else { probe_groups.pop() };
        for (g, group) in groups.iter().enumerate() {
            if let Some(ns) = group.namespace {
                index.add_pod(g, ns, &group.labels);
            }
        }
        let mut engine = Engine {
            topology,
            groups,
            real_groups,
            workload_group,
            members,
            probe_groups,
            representatives: Vec::new(),
            rules: Vec::new(),
            specs: Vec::new(),
            side_of: Vec::new(),
            network_selects: Vec::new(),
            admin_selects: Vec::new(),
            sources: Vec::new(),
            destinations: Vec::new(),
            ingress_targets,
            ingress_controller,
        };
        if options.exposure {
            engine.add_representatives(&index);
        }
        engine.compile(&index, options.ipv4_only);
        engine.split_external(&options.extra_source_blocks, &options.extra_destination_blocks);
        tracing::debug!(
            workloads = topology.workloads.len(),
            groups = engine.groups.len(),
            rules = engine.rules.len(),
            specs = engine.specs.len(),
            sources = engine.sources.len(),
            destinations = engine.destinations.len(),
            "connectivity engine ready"
        );
        engine
    }

    /// Adds a representative group for every selector of a policy rule that no workload stands
    /// for, and the entire-cluster group (np-guard's exposure analysis).
    fn add_representatives(&mut self, index: &Index) {
        let topology = self.topology;
        let mut found: Vec<(Option<String>, LabelSelector, Option<LabelSelector>)> = Vec::new();
        let mut keys: HashMap<(Canonical, Canonical), ()> = HashMap::new();
        let mut add = |namespace: Option<String>, ns: LabelSelector, pods: Option<LabelSelector>| {
            let key = (Canonical::of(&ns), Canonical::of(pods.as_ref().unwrap_or(&LabelSelector::default())));
            if keys.insert(key, ()).is_none() {
                found.push((namespace, ns, pods));
            }
        };
        for p in &topology.policies {
            let (ingress, egress) = semantics::effective_types(&p.spec);
            let ingress_rules = p.spec.ingress.iter().flatten().filter(|_| ingress).map(|r| r.from.as_deref());
            let egress_rules = p.spec.egress.iter().flatten().filter(|_| egress).map(|r| r.to.as_deref());
            for peers in ingress_rules.chain(egress_rules) {
                let peers = peers.unwrap_or_default();
                // A rule admitting the whole cluster stands for no specific pods (np-guard also
                // takes none of that rule's other peers).
                if peers.is_empty() || peers.iter().any(is_cluster_wide_peer) {
                    continue;
                }
                for peer in peers.iter().filter(|p| p.ip_block.is_none()) {
                    match &peer.namespace_selector {
                        Some(ns) => add(None, ns.clone(), peer.pod_selector.clone()),
                        None => add(Some(p.namespace.clone()), name_selector(&p.namespace), peer.pod_selector.clone()),
                    }
                }
            }
        }
        for a in topology.admin_policies.iter().chain(&topology.baseline) {
            for rule in a.ingress.iter().chain(&a.egress) {
                for peer in &rule.peers {
                    match peer {
                        AdminPeer::Pods(PodsOf::Namespaces(sel)) if !is_empty(sel) => add(None, sel.clone(), None),
                        AdminPeer::Pods(PodsOf::Pods { namespace, pod }) if !(is_empty(namespace) && is_empty(pod)) => {
                            add(None, namespace.clone(), Some(pod.clone()))
                        }
                        _ => {}
                    }
                }
            }
        }
        // A representative that a workload of the input matches exactly (plain labels on both
        // sides) is that workload: it is not reported apart.
        found.retain(|(_, ns, pods)| {
            let Some(pods) = pods else { return true };
            let plain = |s: &LabelSelector| {
                s.match_expressions.as_ref().is_none_or(Vec::is_empty)
                    && s.match_labels.as_ref().is_some_and(|m| !m.is_empty())
            };
            if !(plain(ns) && plain(pods)) {
                return true;
            }
            !index.any_pod_with_labels(ns.match_labels.as_ref().unwrap(), pods.match_labels.as_ref().unwrap())
        });
        for (namespace, namespaces, pods) in found {
            self.groups.push(Group {
                kind: GroupKind::Representative { namespace, namespaces, pods },
                namespace: None,
                labels: Labels::new(),
                ports: None,
            });
            self.members.push(Vec::new());
            self.representatives.push(self.groups.len() - 1);
        }
        self.groups.push(Group { kind: GroupKind::EntireCluster, namespace: None, labels: Labels::new(), ports: None });
        self.members.push(Vec::new());
        self.representatives.push(self.groups.len() - 1);
    }

    fn compile(&mut self, index: &Index, ipv4_only: bool) {
        let topology = self.topology;
        let n = self.groups.len();
        // Which policies decide each group's sides: refined policy by policy, so groups alike
        // share one specification (and memory grows with the distinct ones, not groups × policies).
        let mut refine = [Refinement::new(n), Refinement::new(n)];
        let mut network_rules: Vec<[Vec<u32>; 2]> = Vec::new();
        let mut admin_rules: Vec<[Vec<u32>; 2]> = Vec::new();
        let mut baseline_rules: [Vec<u32>; 2] = Default::default();
        // NetworkPolicies.
        for (pi, policy) in topology.policies.iter().enumerate() {
            let (ingress, egress) = semantics::effective_types(&policy.spec);
            let selected = match index.namespace(&policy.namespace) {
                Some(ns) => index.pods(ns, policy.spec.pod_selector.as_ref().unwrap_or(&LabelSelector::default())),
                None => Bits::default(),
            };
            let mut selects = [Bits::default(), Bits::default()];
            let mut policy_rules: [Vec<u32>; 2] = Default::default();
            for (direction, applies) in [(Direction::Ingress, ingress), (Direction::Egress, egress)] {
                let rules: Vec<(Option<&Vec<NetworkPolicyPeer>>, ConnSet)> = match direction {
                    Direction::Ingress => policy
                        .spec
                        .ingress
                        .iter()
                        .flatten()
                        .map(|r| (r.from.as_ref(), ConnSet::from_rule_ports(r.ports.as_deref())))
                        .collect(),
                    Direction::Egress => policy
                        .spec
                        .egress
                        .iter()
                        .flatten()
                        .map(|r| (r.to.as_ref(), ConnSet::from_rule_ports(r.ports.as_deref())))
                        .collect(),
                };
                // Rules of a direction the policy does not isolate still split the address space
                // (np-guard's choice), so they are compiled too.
                let mut ids = Vec::new();
                for (i, (peers, ports)) in rules.into_iter().enumerate() {
                    let peers: &[NetworkPolicyPeer] = peers.map_or(&[], Vec::as_slice);
                    let mut rule = Rule {
                        source: RuleSource::Network { policy: pi, index: i },
                        direction,
                        action: Action::Allow,
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
                        rule.groups.or(&index.peer(peer, &policy.namespace));
                        self.match_representatives(&mut rule.groups, |g| {
                            self.network_peer_matches_rep(peer, &policy.namespace, g)
                        });
                    }
                    ids.push(self.rules.len() as u32);
                    self.rules.push(rule);
                }
                if !applies {
                    continue;
                }
                refine[direction.index()].add(&selected, Item::Network(pi as u32));
                policy_rules[direction.index()] = ids;
                selects[direction.index()] = selected.clone();
            }
            network_rules.push(policy_rules);
            self.network_selects.push(selects);
        }
        // AdminNetworkPolicies (already sorted by priority), then the baseline.
        let admins = topology.admin_policies.iter().enumerate().map(|(i, a)| (Some(i), a));
        for (ai, admin) in admins.chain(topology.baseline.iter().map(|b| (None, b))) {
            let mut subject = index.admin_subject(&admin.subject);
            self.match_representatives(&mut subject, |g| self.subject_matches_rep(&admin.subject, g));
            let mut selects = [Bits::default(), Bits::default()];
            let mut policy_rules: [Vec<u32>; 2] = Default::default();
            for direction in Direction::BOTH {
                let list = match direction {
                    Direction::Ingress => &admin.ingress,
                    Direction::Egress => &admin.egress,
                };
                if list.is_empty() {
                    continue;
                }
                let mut ids = Vec::new();
                for (i, r) in list.iter().enumerate() {
                    let mut rule = Rule {
                        source: match ai {
                            Some(policy) => RuleSource::Admin { policy, index: i },
                            None => RuleSource::Baseline { index: i },
                        },
                        direction,
                        action: r.action,
                        all_peers: false,
                        groups: Bits::default(),
                        blocks: Vec::new(),
                        ports: r.conns(None),
                    };
                    for peer in &r.peers {
                        match peer {
                            AdminPeer::Pods(pods) => {
                                rule.groups.or(&index.admin_subject(pods));
                                self.match_representatives(&mut rule.groups, |g| self.subject_matches_rep(pods, g));
                            }
                            AdminPeer::Networks(nets) => {
                                for set in nets {
                                    if ipv4_only && set.has_family(Family::V6) {
                                        tracing::warn!("{}: IPv6 network {set} ignored (np-guard mode)", admin.origin);
                                    } else {
                                        rule.blocks.push(set.clone());
                                    }
                                }
                            }
                            AdminPeer::Nodes => {
                                tracing::warn!(
                                    "{}: a `nodes` peer is not analysed (it matches nothing here)",
                                    admin.origin
                                )
                            }
                        }
                    }
                    ids.push(self.rules.len() as u32);
                    self.rules.push(rule);
                }
                let item = match ai {
                    Some(a) => Item::Admin(a as u32),
                    None => Item::Baseline,
                };
                refine[direction.index()].add(&subject, item);
                policy_rules[direction.index()] = ids;
                selects[direction.index()] = subject.clone();
            }
            match ai {
                Some(_) => {
                    admin_rules.push(policy_rules);
                    self.admin_selects.push(selects);
                }
                None => baseline_rules = policy_rules,
            }
        }
        // One specification per class of groups and direction.
        let mut spec_of: [Vec<u32>; 2] = Default::default();
        for d in Direction::BOTH {
            let r = &refine[d.index()];
            spec_of[d.index()] = vec![u32::MAX; r.nodes.len()];
            for class in &r.classes {
                let class = class.node;
                if spec_of[d.index()][class as usize] != u32::MAX {
                    continue;
                }
                let mut spec = SideSpec::default();
                for item in r.items(class) {
                    match item {
                        Item::Network(p) => {
                            let (policies, rules) = spec.network.get_or_insert_with(Default::default);
                            policies.push(p);
                            rules.extend_from_slice(&network_rules[p as usize][d.index()]);
                        }
                        Item::Admin(a) => spec.admin.extend_from_slice(&admin_rules[a as usize][d.index()]),
                        Item::Baseline => spec.baseline = Some(baseline_rules[d.index()].clone()),
                    }
                }
                self.specs.push(spec);
                spec_of[d.index()][class as usize] = (self.specs.len() - 1) as u32;
            }
        }
        self.side_of = (0..n)
            .map(|g| Direction::BOTH.map(|d| spec_of[d.index()][refine[d.index()].node_of(g) as usize]))
            .collect();
    }

    /// Sets the bits of the representative groups `matches` accepts.
    fn match_representatives(&self, bits: &mut Bits, matches: impl Fn(&GroupKind) -> bool) {
        for &g in &self.representatives {
            if matches(&self.groups[g].kind) {
                bits.set(g);
            }
        }
    }

    /// Whether a NetworkPolicy peer (of a policy in `policy_ns`) matches a representative
    /// group: only when its selectors are the representative's (or empty).
    fn network_peer_matches_rep(&self, peer: &NetworkPolicyPeer, policy_ns: &str, kind: &GroupKind) -> bool {
        let (namespace, namespaces, pods) = match kind {
            GroupKind::Representative { namespace, namespaces, pods } => (namespace, namespaces, pods.as_ref()),
            GroupKind::EntireCluster => return is_cluster_wide_peer(peer),
            _ => return false,
        };
        let ns_ok = match &peer.namespace_selector {
            None => namespace.as_deref() == Some(policy_ns),
            Some(sel) => full_match(sel, namespaces),
        };
        ns_ok && peer.pod_selector.as_ref().is_none_or(|sel| full_match(sel, pods.unwrap_or(&LabelSelector::default())))
    }

    /// Whether an admin subject or peer matches a representative group (same rule as above).
    fn subject_matches_rep(&self, of: &PodsOf, kind: &GroupKind) -> bool {
        match (of, kind) {
            (PodsOf::Namespaces(sel), GroupKind::Representative { namespaces, .. }) => full_match(sel, namespaces),
            (PodsOf::Pods { namespace, pod }, GroupKind::Representative { namespaces, pods, .. }) => {
                full_match(namespace, namespaces) && full_match(pod, pods.as_ref().unwrap_or(&LabelSelector::default()))
            }
            (PodsOf::Namespaces(sel), GroupKind::EntireCluster) => is_empty(sel),
            (PodsOf::Pods { namespace, pod }, GroupKind::EntireCluster) => is_empty(namespace) && is_empty(pod),
            _ => false,
        }
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

    /// The workloads of group `g`.
    pub fn members(&self, g: usize) -> &[usize] {
        &self.members[g]
    }
}

// ---- evaluation ------------------------------------------------------------------------------

impl Engine<'_> {
    fn spec(&self, g: usize, direction: Direction) -> &SideSpec {
        &self.specs[self.side_of[g][direction.index()] as usize]
    }

    fn admits(rule: &Rule, other: End) -> bool {
        rule.all_peers
            || match other {
                End::Group(g) => rule.groups.get(g),
                End::Ip(range) => rule.blocks.iter().any(|b| b.contains_start(&range)),
            }
    }

    /// How the rules' named ports resolve when `dst` is the destination.
    fn resolve_for(&self, dst: End) -> Resolve<'_> {
        match dst {
            End::Ip(_) => Resolve::Address,
            End::Group(g) => match &self.groups[g].ports {
                Some(ports) => Resolve::Pod(ports),
                None => Resolve::Symbolic,
            },
        }
    }

    /// What `subject`'s `direction` side allows towards `other` (named ports resolved with
    /// `resolve`), rule hits appended to `trace` when given.
    fn evaluate(
        &self,
        direction: Direction,
        subject: usize,
        other: End,
        resolve: Resolve,
        mut trace: Option<&mut Side>,
    ) -> ConnSet {
        let spec = self.spec(subject, direction);
        // Fast path: NetworkPolicies only.
        if spec.admin.is_empty() && spec.baseline.is_none() && trace.is_none() {
            return match &spec.network {
                None => ConnSet::all(),
                Some((_, rules)) => {
                    let mut out = ConnSet::none();
                    for &r in rules {
                        let rule = &self.rules[r as usize];
                        if Engine::admits(rule, other) {
                            out.union_with(&resolve.apply(&rule.ports));
                            if out.is_all() {
                                break;
                            }
                        }
                    }
                    out
                }
            };
        }
        // The admin tier: first match wins.
        let mut allowed = ConnSet::none();
        let mut denied = ConnSet::none();
        let mut decided = ConnSet::none();
        for &r in &spec.admin {
            let rule = &self.rules[r as usize];
            if decided.is_all() {
                break;
            }
            if !Engine::admits(rule, other) {
                continue;
            }
            let conns = resolve.apply(&rule.ports).difference(&decided);
            if conns.is_empty() {
                continue;
            }
            match rule.action {
                Action::Allow => allowed.union_with(&conns),
                Action::Deny => denied.union_with(&conns),
                Action::Pass => {}
            }
            decided.union_with(&conns);
            if let Some(t) = trace.as_deref_mut() {
                t.admin.push(RuleHit { source: rule.source, action: rule.action, conns });
            }
        }
        let mut admin_decided = allowed.clone();
        admin_decided.union_with(&denied);
        let rest = ConnSet::all().difference(&admin_decided);
        let out = match &spec.network {
            Some((policies, rules)) => {
                let mut network = ConnSet::none();
                let mut hits: BTreeMap<usize, Vec<RuleHit>> = BTreeMap::new();
                for &r in rules {
                    let rule = &self.rules[r as usize];
                    if Engine::admits(rule, other) {
                        let conns = resolve.apply(&rule.ports);
                        network.union_with(&conns);
                        if let RuleSource::Network { policy, .. } = rule.source {
                            hits.entry(policy).or_default().push(RuleHit {
                                source: rule.source,
                                action: Action::Allow,
                                conns,
                            });
                        }
                    }
                }
                if let Some(t) = trace.as_deref_mut() {
                    t.policies = policies
                        .iter()
                        .map(|&p| PolicyHit {
                            policy: p as usize,
                            rules: hits.remove(&(p as usize)).unwrap_or_default(),
                        })
                        .collect();
                }
                let mut out = allowed.clone();
                out.union_with(&rest.intersection(&network));
                out
            }
            None => {
                let mut baseline_denied = ConnSet::none();
                if let Some(rules) = &spec.baseline {
                    let mut decided = admin_decided.clone();
                    for &r in rules {
                        let rule = &self.rules[r as usize];
                        if decided.is_all() {
                            break;
                        }
                        if !Engine::admits(rule, other) {
                            continue;
                        }
                        let conns = resolve.apply(&rule.ports).difference(&decided);
                        if conns.is_empty() {
                            continue;
                        }
                        if rule.action == Action::Deny {
                            baseline_denied.union_with(&conns);
                        }
                        decided.union_with(&conns);
                        if let Some(t) = trace.as_deref_mut() {
                            t.baseline.push(RuleHit { source: rule.source, action: rule.action, conns });
                        }
                    }
                }
                ConnSet::all().difference(&denied).difference(&baseline_denied)
            }
        };
        if let Some(t) = trace {
            t.baseline_selects = spec.baseline.is_some();
            t.admin_decided = admin_decided;
            t.allowed = out.clone();
        }
        out
    }

    /// The connections allowed from `src` to `dst` (at least one of them a group).
    pub fn conns(&self, src: End, dst: End) -> ConnSet {
        let egress = match src {
            End::Group(s) => self.evaluate(Direction::Egress, s, dst, self.resolve_for(dst), None),
            End::Ip(_) => ConnSet::all(),
        };
        if egress.is_empty() {
            return egress;
        }
        let ingress = match dst {
            End::Group(d) => self.evaluate(Direction::Ingress, d, src, self.resolve_for(dst), None),
            End::Ip(_) => ConnSet::all(),
        };
        egress.intersection(&ingress)
    }

    /// What group `g`'s `direction` side alone allows towards (or from) `other`.
    pub fn side_conns(&self, direction: Direction, g: usize, other: End) -> ConnSet {
        let resolve = match direction {
            Direction::Egress => self.resolve_for(other),
            Direction::Ingress => self.resolve_for(End::Group(g)),
        };
        self.evaluate(direction, g, other, resolve, None)
    }

    /// How `subject`'s `direction` side treats `other`, tier by tier and rule by rule. Named
    /// ports are resolved against the destination (`other` for egress, `subject` for ingress).
    pub fn side(&self, direction: Direction, subject: End, other: End) -> Side {
        let mut side = Side {
            direction,
            admin_policies: Vec::new(),
            admin: Vec::new(),
            policies: Vec::new(),
            baseline_selects: false,
            baseline: Vec::new(),
            allowed: ConnSet::all(),
            admin_decided: ConnSet::none(),
        };
        let End::Group(g) = subject else { return side };
        side.admin_policies = self.admin_policies_selecting(g, direction).collect();
        let resolve = match direction {
            Direction::Egress => self.resolve_for(other),
            Direction::Ingress => self.resolve_for(subject),
        };
        self.evaluate(direction, g, other, resolve, Some(&mut side));
        side
    }

    /// Whether pods of group `g` are isolated for `direction` by NetworkPolicies.
    pub fn is_isolated(&self, g: usize, direction: Direction) -> bool {
        self.spec(g, direction).network.is_some()
    }

    /// Whether some policy of any tier selects pods of group `g` for `direction` (np-guard's
    /// "protected").
    pub fn is_protected(&self, g: usize, direction: Direction) -> bool {
        let spec = self.spec(g, direction);
        spec.network.is_some() || !spec.admin.is_empty() || spec.baseline.is_some()
    }

    /// AdminNetworkPolicies selecting group `g` for `direction` (indices into
    /// [`Topology::admin_policies`]), by priority.
    pub fn admin_policies_selecting(&self, g: usize, direction: Direction) -> impl Iterator<Item = usize> + '_ {
        self.admin_selects.iter().enumerate().filter(move |(_, s)| s[direction.index()].get(g)).map(|(i, _)| i)
    }

    /// Whether the BaselineAdminNetworkPolicy selects group `g` for `direction`.
    pub fn baseline_selects(&self, g: usize, direction: Direction) -> bool {
        self.spec(g, direction).baseline.is_some()
    }

    /// NetworkPolicies isolating group `g` for `direction`.
    pub fn isolating_policies(&self, g: usize, direction: Direction) -> impl Iterator<Item = usize> + '_ {
        self.spec(g, direction).network.iter().flat_map(|(p, _)| p.iter().map(|p| *p as usize))
    }

    /// The group's container ports (none for representative groups).
    pub fn group_ports(&self, g: usize) -> &[ContainerPort] {
        self.groups[g].ports.as_deref().unwrap_or_default()
    }

    /// What group `g` stands for.
    pub fn group_kind(&self, g: usize) -> &GroupKind {
        &self.groups[g].kind
    }

    /// Representative groups (exposure analysis), the entire cluster's last.
    pub fn representatives(&self) -> &[usize] {
        &self.representatives
    }

    /// The groups of workloads of the input.
    pub fn workload_groups(&self) -> std::ops::Range<usize> {
        0..self.real_groups
    }

    /// What group `g`'s `direction` side allows with the whole cluster (np-guard's exposure to
    /// "entire-cluster"): only rules that admit every pod count; named ports of ingress rules
    /// are resolved against the group's own ports where it has them.
    pub fn entire_cluster_conns(&self, g: usize, direction: Direction) -> ConnSet {
        let Some(&ec) = self.representatives.last() else { return ConnSet::none() };
        let resolve = match direction {
            Direction::Egress => Resolve::Symbolic,
            Direction::Ingress => Resolve::Lenient(self.group_ports(g)),
        };
        self.evaluate(direction, g, End::Group(ec), resolve, None)
    }

    /// Groups `s`'s egress may let something through to (a superset).
    fn egress_candidates(&self, s: usize, all: &Bits) -> Bits {
        let spec = self.spec(s, Direction::Egress);
        let Some((_, rules)) = &spec.network else { return all.clone() };
        let mut out = Bits::with_capacity(self.real_groups);
        for &r in rules.iter().chain(spec.admin.iter()) {
            let rule = &self.rules[r as usize];
            if rule.action != Action::Allow {
                continue;
            }
            if rule.all_peers {
                return all.clone();
            }
            out.or(&rule.groups);
        }
        out
    }

    /// Calls `visit` for every allowed connection between distinct peers of the input: workload
    /// to workload, workload to and from external ranges, and the ingress controller to the
    /// workloads Routes and Ingresses expose. Nothing is visited when the input has no workload.
    pub fn for_each_connection(&self, mut visit: impl FnMut(Peer, Peer, &ConnSet)) {
        let real: Vec<usize> = (0..self.real_groups).collect();
        let all = Bits::all(self.real_groups);
        // Which destinations' ingress may admit a source: those no NetworkPolicy isolates, and
        // those isolated by a policy with a rule admitting it (an allow rule of an admin policy
        // selecting them too). The rules' targets are their policies' selections.
        let mut open_ingress = Bits::with_capacity(self.real_groups);
        for &d in &real {
            if self.spec(d, Direction::Ingress).network.is_none() {
                open_ingress.set(d);
            }
        }
        let mut ingress_rules: Vec<(&Rule, &Bits)> = Vec::new();
        for rule in self.rules.iter().filter(|r| r.direction == Direction::Ingress && r.action == Action::Allow) {
            let targets = match rule.source {
                RuleSource::Network { policy, .. } => &self.network_selects[policy][Direction::Ingress.index()],
                RuleSource::Admin { policy, .. } => &self.admin_selects[policy][Direction::Ingress.index()],
                RuleSource::Baseline { .. } => continue,
            };
            if targets.is_empty() {
                continue;
            }
            if rule.all_peers {
                open_ingress.or(targets);
            } else if !rule.groups.is_empty() {
                ingress_rules.push((rule, targets));
            }
        }
        // The ingress rules admitting each source, from the rules' own peer sets (no pass over
        // every rule per source).
        let mut admitting: Vec<Vec<usize>> = vec![Vec::new(); self.real_groups];
        for (i, (rule, _)) in ingress_rules.iter().enumerate() {
            for s in rule.groups.iter().filter(|s| *s < self.real_groups) {
                admitting[s].push(i);
            }
        }
        // Egress candidates depend on the side specification only: computed once per spec.
        let mut egress_candidates: HashMap<u32, Bits> = HashMap::new();
        for &s in &real {
            let spec = self.side_of[s][Direction::Egress.index()];
            let mut candidates =
                egress_candidates.entry(spec).or_insert_with(|| self.egress_candidates(s, &all)).clone();
            if !candidates.is_empty() {
                let mut reachable = open_ingress.clone();
                for &i in &admitting[s] {
                    reachable.or(ingress_rules[i].1);
                }
                candidates.and(&reachable);
            }
            for d in candidates.iter() {
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

    /// The group of the ingress controller, when Routes or Ingresses expose some workload.
    pub fn ingress_controller(&self) -> Option<usize> {
        self.ingress_controller
    }

    /// The TCP ports Routes and Ingresses expose, by workload.
    pub fn ingress_targets(&self) -> &BTreeMap<usize, ConnSet> {
        &self.ingress_targets
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

/// The namespace labels a probe namespace gets when the input does not know it.
pub fn automatic_namespace_labels(name: &str) -> Labels {
    crate::k8s::selector::namespace_labels(name, None)
}

/// Whether a selector has no requirement.
fn is_empty(sel: &LabelSelector) -> bool {
    crate::k8s::selector::is_empty(sel)
}

/// The selector of namespace `name` by its automatic label.
fn name_selector(name: &str) -> LabelSelector {
    crate::k8s::selector::from_labels([(crate::k8s::NAMESPACE_NAME_LABEL, name)])
}

/// Whether a NetworkPolicy peer admits every pod of the cluster: `namespaceSelector: {}` with
/// no or an empty `podSelector`.
fn is_cluster_wide_peer(peer: &NetworkPolicyPeer) -> bool {
    peer.ip_block.is_none()
        && peer.namespace_selector.as_ref().is_some_and(is_empty)
        && peer.pod_selector.as_ref().is_none_or(is_empty)
}

/// np-guard's match of a rule selector with a representative's: an empty rule selector matches
/// everything, otherwise the requirements must be the same.
fn full_match(rule: &LabelSelector, representative: &LabelSelector) -> bool {
    is_empty(rule) || Canonical::of(rule) == Canonical::of(representative)
}

// ---- questions the lint asks -------------------------------------------------------------------

impl Engine<'_> {
    /// Whether rule `index` of AdminNetworkPolicy `policy` (the baseline when `None`) in
    /// `direction` never decides anything: for every pod it applies to and every peer it
    /// matches, the policy's earlier rules already decide all of its connections. `None` when
    /// the rule matches no peer or the policy selects no pod of the input (nothing to judge).
    pub fn admin_rule_shadowed(&self, policy: Option<usize>, direction: Direction, index: usize) -> Option<bool> {
        let same_policy = |s: RuleSource| match (s, policy) {
            (RuleSource::Admin { policy: p, .. }, Some(q)) => p == q,
            (RuleSource::Baseline { .. }, None) => true,
            _ => false,
        };
        let rule_index = |s: RuleSource| match s {
            RuleSource::Admin { index, .. } | RuleSource::Baseline { index } | RuleSource::Network { index, .. } => {
                index
            }
        };
        let rules: Vec<&Rule> =
            self.rules.iter().filter(|r| r.direction == direction && same_policy(r.source)).collect();
        let target = rules.iter().find(|r| rule_index(r.source) == index)?;
        let earlier: Vec<&&Rule> = rules.iter().filter(|r| rule_index(r.source) < index).collect();
        let subjects: Vec<usize> = match policy {
            Some(p) => self.admin_selects.get(p)?[direction.index()].iter().filter(|g| *g < self.real_groups).collect(),
            None => (0..self.real_groups).filter(|g| self.spec(*g, direction).baseline.is_some()).collect(),
        };
        let mut others: Vec<End> = target
            .groups
            .iter()
            .filter(|g| *g < self.groups.len() && self.groups[*g].ports.is_some())
            .map(End::Group)
            .collect();
        let ranges = match direction {
            Direction::Egress => &self.destinations,
            Direction::Ingress => &self.sources,
        };
        others.extend(ranges.iter().filter(|r| target.blocks.iter().any(|b| b.contains_start(r))).map(|r| End::Ip(*r)));
        if subjects.is_empty() || others.is_empty() || subjects.len().saturating_mul(others.len()) > 200_000 {
            return None;
        }
        for &g in &subjects {
            for &o in &others {
                let resolve = match direction {
                    Direction::Egress => self.resolve_for(o),
                    Direction::Ingress => self.resolve_for(End::Group(g)),
                };
                let mut decided = ConnSet::none();
                for r in earlier.iter().filter(|r| Engine::admits(r, o)) {
                    decided.union_with(&resolve.apply(&r.ports));
                }
                if !resolve.apply(&target.ports).is_subset(&decided) {
                    return Some(false);
                }
            }
        }
        Some(true)
    }

    /// Whether the AdminNetworkPolicy `policy` (the baseline when `None`) selects a workload.
    pub fn admin_selects_any_workload(&self, policy: Option<usize>) -> bool {
        match policy {
            Some(p) => {
                self.admin_selects.get(p).is_some_and(|s| s.iter().any(|b| b.iter().any(|g| g < self.real_groups)))
            }
            None => (0..self.real_groups).any(|g| Direction::BOTH.iter().any(|d| self.spec(g, *d).baseline.is_some())),
        }
    }
}
