//! `netfence verify --expect intent.yaml`: checks the connectivity against a written intent.
//!
//! The intent file (YAML or JSON):
//!
//! ```yaml
//! apiVersion: netfence.dev/v1alpha1   # optional
//! kind: ConnectivityIntent            # optional
//! exhaustive: true                    # default: every allowed connection must be listed
//! allow:
//!   - from: shop/frontend             # a workload: namespace/name or namespace/name[Kind]
//!     to: shop/backend
//!     ports: [TCP/8080]               # TCP/8080, UDP/53, 8080 (TCP), TCP/8000-8100; none: all
//!   - from: shop                      # a namespace: every workload in it
//!     to: kube-system
//!     ports: [UDP/53, TCP/53]
//!   - from: external                  # any address outside the cluster (or a CIDR)
//!     to: shop/frontend
//!     ports: [TCP/8080]
//! deny:                               # connections that must not be allowed at all
//!   - from: "*"                       # anything
//!     to: 169.254.169.254/32
//! ```
//!
//! An `allow` entry is met when every source it names reaches, for each listed port, at least
//! one of the destinations it names (a namespace: some workload in it). With `exhaustive`,
//! every allowed connection must be covered by the ports of the `allow` entries matching both
//! ends; the rest is reported as unexpected. A `deny` entry fails on any allowed connection it
//! matches. Entries naming nothing in the input are reported too. `{ingress-controller}` names
//! the ingress controller of the input's Routes and Ingresses.

use crate::analysis::engine::connectivity::{Engine, Options, Peer};
use crate::analysis::engine::ingress;
use crate::analysis::engine::ipset::IpSet;
use crate::analysis::engine::ports::ConnSet;
use crate::analysis::engine::topology::Topology;
use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::HashMap;

/// The intent file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Intent {
    /// Optional, `netfence.dev/v1alpha1`.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Optional, `ConnectivityIntent`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Whether connections not listed under `allow` fail the check (default true).
    #[serde(default = "yes")]
    pub exhaustive: bool,
    /// Connections that must be allowed.
    #[serde(default)]
    pub allow: Vec<Edge>,
    /// Connections that must not be allowed.
    #[serde(default)]
    pub deny: Vec<Edge>,
}

fn yes() -> bool {
    true
}

/// One entry of `allow` or `deny`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// Source: `*`, `external`, a CIDR, `{ingress-controller}`, a namespace or a workload.
    pub from: String,
    /// Destination, same forms.
    pub to: String,
    /// Ports; none means every connection.
    #[serde(default)]
    pub ports: Vec<PortItem>,
    /// Free text, ignored.
    #[serde(default)]
    pub note: Option<String>,
}

/// A port as written: a number (TCP) or `PROTO/port[-end]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum PortItem {
    /// A TCP port.
    Number(u16),
    /// `TCP/8080`, `UDP/53`, `TCP/8000-8100`, `SCTP/9000`.
    Text(String),
}

/// What an endpoint of an entry names.
#[derive(Debug, Clone)]
enum Pattern {
    Any,
    External(Option<IpSet>),
    IngressController,
    Namespace(String),
    Workload { namespace: String, name: String, kind: Option<String> },
}

impl Pattern {
    fn parse(text: &str) -> Pattern {
        let t = text.trim();
        if t == "*" {
            return Pattern::Any;
        }
        if t == "external" {
            return Pattern::External(None);
        }
        if t == ingress::CONTROLLER || t == "ingress-controller" {
            return Pattern::IngressController;
        }
        if let Ok(set) = IpSet::cidr(t) {
            return Pattern::External(Some(set));
        }
        match t.split_once('/') {
            None => Pattern::Namespace(t.to_string()),
            Some((namespace, rest)) => {
                let (name, kind) = match rest.strip_suffix(']').and_then(|r| r.split_once('[')) {
                    Some((name, kind)) => (name.to_string(), Some(kind.to_string())),
                    None => (rest.to_string(), None),
                };
                Pattern::Workload { namespace: namespace.to_string(), name, kind }
            }
        }
    }

    fn matches(&self, engine: &Engine, peer: Peer) -> bool {
        match (self, peer) {
            (Pattern::Any, _) => true,
            (Pattern::External(None), Peer::External(_)) => true,
            (Pattern::External(Some(set)), Peer::External(r)) => set.covers(&r),
            (Pattern::IngressController, Peer::IngressController) => true,
            (Pattern::Namespace(ns), Peer::Workload(w)) => &engine.topology.workloads[w].namespace == ns,
            (Pattern::Workload { namespace, name, kind }, Peer::Workload(w)) => {
                let wl = &engine.topology.workloads[w];
                &wl.namespace == namespace && &wl.name == name && kind.as_ref().is_none_or(|k| k == &wl.kind)
            }
            _ => false,
        }
    }
}

/// Reads an intent file.
pub fn load(path: &std::path::Path) -> Result<Intent> {
    let file = path.display().to_string();
    let bytes = crate::stream::read::read_file(path, &file)?;
    let value = crate::stream::parse_value(&bytes, crate::stream::Format::Yaml)
        .map_err(|(line, message)| Error::config(file.clone(), format!("line {}: {message}", line.unwrap_or(1))))?;
    parse(&value).map_err(|(at, message)| Error::config(format!("{file}: {at}"), message))
}

/// Reads an intent from a parsed document; errors name the offending field.
pub fn parse(value: &serde_json::Value) -> Result<Intent, (String, String)> {
    let intent: Intent =
        serde_path_to_error::deserialize(value.clone()).map_err(|e| (e.path().to_string(), e.inner().to_string()))?;
    if let Some(kind) = intent.kind.as_deref().filter(|k| *k != "ConnectivityIntent") {
        return Err(("kind".into(), format!("expected ConnectivityIntent, found {kind:?}")));
    }
    for (list, edges) in [("allow", &intent.allow), ("deny", &intent.deny)] {
        for (i, e) in edges.iter().enumerate() {
            e.conns().map_err(|m| (format!("{list}[{i}].ports"), m))?;
        }
    }
    Ok(intent)
}

impl Edge {
    /// The connections the entry lists.
    pub fn conns(&self) -> Result<ConnSet, String> {
        if self.ports.is_empty() {
            return Ok(ConnSet::all());
        }
        let mut out = ConnSet::none();
        for p in &self.ports {
            let c = match p {
                PortItem::Number(n) => ConnSet::parse(&n.to_string())?,
                PortItem::Text(t) => ConnSet::parse(t)?,
            };
            out.union_with(&c);
        }
        Ok(out)
    }
}

/// One finding of the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// An `allow` entry not met: the source lacks these connections to every destination.
    Missing {
        /// Source peer.
        src: String,
        /// The entry's destination as written.
        to: String,
        /// What is missing.
        conns: ConnSet,
        /// `allow[i]`.
        entry: String,
    },
    /// An allowed connection no `allow` entry covers.
    Unexpected {
        /// Source peer.
        src: String,
        /// Destination peer.
        dst: String,
        /// What is not covered.
        conns: ConnSet,
    },
    /// An allowed connection a `deny` entry forbids.
    Forbidden {
        /// Source peer.
        src: String,
        /// Destination peer.
        dst: String,
        /// What is forbidden but allowed.
        conns: ConnSet,
        /// `deny[i]`.
        entry: String,
    },
    /// An entry end that names nothing in the input.
    Unmatched {
        /// `allow[i].from` and the like.
        entry: String,
        /// What it says.
        text: String,
    },
}

/// The result of a check.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Everything that does not match, in order: unmatched, missing, forbidden, unexpected.
    pub findings: Vec<Finding>,
    /// Allowed connections examined.
    pub connections: usize,
}

/// Where the peers a pattern names are found without scanning every peer: workloads by
/// namespace and by (namespace, name), the external ranges, whether the ingress controller
/// takes part.
struct Peers<'t> {
    in_namespace: HashMap<&'t str, Vec<usize>>,
    named: HashMap<(&'t str, &'t str), Vec<usize>>,
    workloads: usize,
}

impl<'t> Peers<'t> {
    fn new(topology: &'t Topology) -> Peers<'t> {
        let mut peers =
            Peers { in_namespace: HashMap::new(), named: HashMap::new(), workloads: topology.workloads.len() };
        for (i, w) in topology.workloads.iter().enumerate() {
            peers.in_namespace.entry(w.namespace.as_str()).or_default().push(i);
            peers.named.entry((w.namespace.as_str(), w.name.as_str())).or_default().push(i);
        }
        peers
    }

    /// The peers among `externals` (and the controller, when `controller`) `pattern` names.
    fn resolve(&self, engine: &Engine, pattern: &Pattern, externals: &[Peer], controller: bool) -> Vec<Peer> {
        let workloads = |list: Option<&Vec<usize>>| list.into_iter().flatten().map(|w| Peer::Workload(*w)).collect();
        match pattern {
            Pattern::Any => {
                let mut all: Vec<Peer> =
                    (0..self.workloads).map(Peer::Workload).chain(externals.iter().copied()).collect();
                if controller {
                    all.push(Peer::IngressController);
                }
                all
            }
            Pattern::External(_) => externals.iter().copied().filter(|p| pattern.matches(engine, *p)).collect(),
            Pattern::IngressController if controller => vec![Peer::IngressController],
            Pattern::IngressController => Vec::new(),
            Pattern::Namespace(ns) => workloads(self.in_namespace.get(ns.as_str())),
            Pattern::Workload { namespace, name, .. } => {
                let list = self.named.get(&(namespace.as_str(), name.as_str()));
                list.into_iter().flatten().map(|w| Peer::Workload(*w)).filter(|p| pattern.matches(engine, *p)).collect()
            }
        }
    }
}

/// Entries indexed by what their `from` names, so a connection meets only the entries that may
/// match its source.
#[derive(Default)]
struct BySource {
    any: Vec<usize>,
    external: Vec<usize>,
    controller: Vec<usize>,
    namespace: HashMap<String, Vec<usize>>,
    workload: HashMap<(String, String), Vec<usize>>,
}

impl BySource {
    fn new(entries: &[(Pattern, Pattern, ConnSet)]) -> BySource {
        let mut by = BySource::default();
        for (i, (from, _, _)) in entries.iter().enumerate() {
            match from {
                Pattern::Any => by.any.push(i),
                Pattern::External(_) => by.external.push(i),
                Pattern::IngressController => by.controller.push(i),
                Pattern::Namespace(ns) => by.namespace.entry(ns.clone()).or_default().push(i),
                Pattern::Workload { namespace, name, .. } => {
                    by.workload.entry((namespace.clone(), name.clone())).or_default().push(i)
                }
            }
        }
        by
    }

    /// The entries whose `from` may match `src` (in entry order).
    fn candidates(&self, engine: &Engine, src: Peer) -> Vec<usize> {
        let mut out = self.any.clone();
        match src {
            Peer::External(_) => out.extend(&self.external),
            Peer::IngressController => out.extend(&self.controller),
            Peer::Workload(w) => {
                let wl = &engine.topology.workloads[w];
                out.extend(self.namespace.get(&wl.namespace).into_iter().flatten());
                let key = (wl.namespace.clone(), wl.name.clone());
                out.extend(self.workload.get(&key).into_iter().flatten());
            }
        }
        out.sort_unstable();
        out
    }
}

/// Checks the connectivity of `topology` against `intent`. The cost grows with the input, the
/// intent and the connections, not with their products: the peers an entry names are looked
/// up, a source's connections are found through its own list, and a connection meets only the
/// entries naming its source.
pub fn verify(topology: &Topology, intent: &Intent) -> Report {
    let parse = |edges: &[Edge]| -> Vec<(Pattern, Pattern, ConnSet)> {
        edges.iter().map(|e| (Pattern::parse(&e.from), Pattern::parse(&e.to), e.conns().unwrap_or_default())).collect()
    };
    let (allow, deny) = (parse(&intent.allow), parse(&intent.deny));
    // Split the external peers at the CIDRs of the intent so each range is in or out of them.
    let cidrs: Vec<IpSet> = allow
        .iter()
        .chain(&deny)
        .flat_map(|(a, b, _)| [a, b])
        .filter_map(|p| match p {
            Pattern::External(Some(set)) => Some(set.clone()),
            _ => None,
        })
        .collect();
    let options = Options { extra_source_blocks: cidrs.clone(), extra_destination_blocks: cidrs, ..Options::default() };
    let engine = Engine::new(topology, &options);
    let connections = engine.connections();
    let mut outgoing: HashMap<Peer, Vec<(Peer, &ConnSet)>> = HashMap::new();
    for c in &connections {
        outgoing.entry(c.src).or_default().push((c.dst, &c.conns));
    }
    let controller = connections.iter().any(|c| c.src == Peer::IngressController);
    let sources: Vec<Peer> = engine.sources().iter().map(|r| Peer::External(*r)).collect();
    let destinations: Vec<Peer> = engine.destinations().iter().map(|r| Peer::External(*r)).collect();
    let peers = Peers::new(topology);
    let mut report = Report { connections: connections.len(), ..Report::default() };
    let mut missing = Vec::new();
    for (list, entries, edges) in [("allow", &allow, &intent.allow), ("deny", &deny, &intent.deny)] {
        for (i, (from, to, want)) in entries.iter().enumerate() {
            let srcs = peers.resolve(&engine, from, &sources, controller);
            let dsts = peers.resolve(&engine, to, &destinations, false);
            for (side, found, text) in [("from", &srcs, &edges[i].from), ("to", &dsts, &edges[i].to)] {
                if found.is_empty() {
                    report
                        .findings
                        .push(Finding::Unmatched { entry: format!("{list}[{i}].{side}"), text: text.clone() });
                }
            }
            if list == "deny" || dsts.is_empty() {
                continue;
            }
            for &s in &srcs {
                let mut reach = ConnSet::none();
                for (d, c) in outgoing.get(&s).into_iter().flatten() {
                    if *d != s && to.matches(&engine, *d) {
                        reach.union_with(c);
                    }
                }
                let lacking = want.difference(&reach);
                if !lacking.is_empty() {
                    missing.push(Finding::Missing {
                        src: engine.peer_name(s),
                        to: edges[i].to.clone(),
                        conns: lacking,
                        entry: format!("allow[{i}]"),
                    });
                }
            }
        }
    }
    report.findings.extend(missing);
    let (allow_by_source, deny_by_source) = (BySource::new(&allow), BySource::new(&deny));
    let mut unexpected = Vec::new();
    for c in &connections {
        for i in deny_by_source.candidates(&engine, c.src) {
            let (from, to, forbidden) = &deny[i];
            let hit = c.conns.intersection(forbidden);
            if from.matches(&engine, c.src) && to.matches(&engine, c.dst) && !hit.is_empty() {
                report.findings.push(Finding::Forbidden {
                    src: engine.peer_name(c.src),
                    dst: engine.peer_name(c.dst),
                    conns: hit,
                    entry: format!("deny[{i}]"),
                });
            }
        }
        if intent.exhaustive {
            let mut covered = ConnSet::none();
            for i in allow_by_source.candidates(&engine, c.src) {
                let (from, to, ports) = &allow[i];
                if from.matches(&engine, c.src) && to.matches(&engine, c.dst) {
                    covered.union_with(ports);
                }
            }
            let rest = c.conns.difference(&covered);
            if !rest.is_empty() {
                unexpected.push(Finding::Unexpected {
                    src: engine.peer_name(c.src),
                    dst: engine.peer_name(c.dst),
                    conns: rest,
                });
            }
        }
    }
    unexpected.sort_by_cached_key(|f| format!("{f:?}"));
    report.findings.extend(unexpected);
    report
}

impl Report {
    /// Whether the connectivity matches the intent.
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: shop}
spec: {template: {metadata: {labels: {app: frontend}}, spec: {containers: [{name: c}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend, namespace: shop}
spec: {template: {metadata: {labels: {app: backend}}, spec: {containers: [{name: c}]}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: frontend, namespace: shop}
spec:
  podSelector: {matchLabels: {app: frontend}}
  egress:
  - to: [{podSelector: {matchLabels: {app: backend}}}]
    ports: [{port: 8080}]
  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ports: [{port: 443}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: backend, namespace: shop}
spec:
  podSelector: {matchLabels: {app: backend}}
  ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}], ports: [{port: 8080}]}]
"#;

    fn intent(yaml: &str) -> Intent {
        parse(&crate::stream::parse_value(yaml.as_bytes(), crate::stream::Format::Yaml).unwrap()).unwrap()
    }

    #[test]
    fn matching_intent_passes() {
        let t = Topology::from_bytes(INPUT.as_bytes(), "default").unwrap();
        let i = intent(
            "allow:\n- {from: shop/frontend, to: shop/backend, ports: [TCP/8080]}\n- {from: 'shop/frontend[Deployment]', to: external, ports: [443]}\ndeny:\n- {from: '*', to: '169.254.169.254/32', ports: [TCP/80]}\n",
        );
        let r = verify(&t, &i);
        assert!(r.ok(), "{}", crate::analysis::format::text::verify(&r));
        assert_eq!(crate::analysis::format::text::verify(&r), "verify: the 4 allowed connections match the intent\n");
    }

    #[test]
    fn missing_unexpected_forbidden_unmatched() {
        let t = Topology::from_bytes(INPUT.as_bytes(), "default").unwrap();
        let i = intent(
            "allow:\n- {from: shop/frontend, to: shop/backend, ports: [TCP/8080, TCP/9090]}\n- {from: shop/frontnd, to: shop}\ndeny:\n- {from: shop, to: '169.254.169.254/32'}\n",
        );
        let text = crate::analysis::format::text::verify(&verify(&t, &i));
        assert!(text.contains("unmatched:  allow[1].from \"shop/frontnd\" names nothing in the input\n"), "{text}");
        assert!(
            text.contains("missing:    shop/frontend[Deployment] => shop/backend : TCP 9090 (allow[0])\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "forbidden:  shop/frontend[Deployment] => 169.254.169.254-169.254.169.254 : TCP 443 (deny[0])\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("unexpected: shop/frontend[Deployment] => 0.0.0.0-169.254.169.253 : TCP 443\n"),
            "{text}"
        );
        assert!(text.ends_with("verify: 1 missing, 3 unexpected, 1 forbidden, 1 unmatched\n"), "{text}");
    }

    #[test]
    fn bad_intents_name_the_field() {
        let v = |y: &str| crate::stream::parse_value(y.as_bytes(), crate::stream::Format::Yaml).unwrap();
        assert_eq!(parse(&v("allow: [{from: a, to: b, ports: [ICMP/1]}]")).unwrap_err().0, "allow[0].ports");
        assert_eq!(parse(&v("allow: [{from: a, too: b}]")).unwrap_err().0, "allow[0].too");
        assert_eq!(parse(&v("kind: Other")).unwrap_err().0, "kind");
    }
}
