//! `netfence diff BEFORE AFTER`: the connections one input allows and the other does not, at
//! workload level. Both inputs are split into the same external ranges (the address blocks of
//! both), so a range only shows up when what it may do changed.

use super::connectivity::{Direction, Engine, Options};
use super::ipset::IpSet;
use super::ports::ConnSet;
use super::topology::Topology;
use serde_json::json;
use std::collections::BTreeMap;

/// How a connection changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Allowed only after.
    Added,
    /// Allowed only before.
    Removed,
    /// Allowed in both, with different ports.
    Changed,
}

impl Kind {
    /// `added`, `removed` or `changed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Removed => "removed",
            Kind::Changed => "changed",
        }
    }
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Source peer.
    pub src: String,
    /// Destination peer.
    pub dst: String,
    /// What was allowed before (empty if nothing).
    pub before: ConnSet,
    /// What is allowed after.
    pub after: ConnSet,
}

impl Change {
    /// Added, removed or changed.
    pub fn kind(&self) -> Kind {
        match (self.before.is_empty(), self.after.is_empty()) {
            (true, _) => Kind::Added,
            (_, true) => Kind::Removed,
            _ => Kind::Changed,
        }
    }
}

fn connections(topology: &Topology, blocks: &[Vec<IpSet>; 2]) -> BTreeMap<(String, String), ConnSet> {
    let options = Options {
        extra_source_blocks: blocks[0].clone(),
        extra_destination_blocks: blocks[1].clone(),
        ..Options::default()
    };
    let engine = Engine::new(topology, &options);
    let mut out = BTreeMap::new();
    engine.for_each_connection(|s, d, c| {
        out.insert((engine.peer_name(s), engine.peer_name(d)), c.clone());
    });
    out
}

/// The differences between the connectivity of `before` and `after`, sorted by peers.
pub fn diff(before: &Topology, after: &Topology) -> Vec<Change> {
    let (x, y) = (Engine::new(before, &Options::default()), Engine::new(after, &Options::default()));
    let blocks = [Direction::Ingress, Direction::Egress].map(|d| {
        let mut b = x.blocks(d);
        b.extend(y.blocks(d));
        b
    });
    let (a, b) = (connections(before, &blocks), connections(after, &blocks));
    let mut keys: Vec<&(String, String)> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let none = ConnSet::none();
    keys.into_iter()
        .filter_map(|k| {
            let (x, y) = (a.get(k).unwrap_or(&none), b.get(k).unwrap_or(&none));
            (x != y).then(|| Change { src: k.0.clone(), dst: k.1.clone(), before: x.clone(), after: y.clone() })
        })
        .collect()
}

/// The changes as text: one line each, then a summary.
pub fn text(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "No connectivity change.\n".into();
    }
    let mut out = String::new();
    let mut counts = [0usize; 3];
    for c in changes {
        let kind = c.kind();
        counts[kind as usize] += 1;
        let line = match kind {
            Kind::Added => format!("+ {} => {} : {}", c.src, c.dst, c.after),
            Kind::Removed => format!("- {} => {} : {}", c.src, c.dst, c.before),
            Kind::Changed => format!("~ {} => {} : {} -> {}", c.src, c.dst, c.before, c.after),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&format!("{} added, {} removed, {} changed\n", counts[0], counts[1], counts[2]));
    out
}

/// The changes as JSON.
pub fn json(changes: &[Change]) -> serde_json::Value {
    let list: Vec<serde_json::Value> = changes
        .iter()
        .map(|c| {
            json!({"change": c.kind().as_str(), "src": c.src, "dst": c.dst,
                   "before": c.before.to_string(), "after": c.after.to_string()})
        })
        .collect();
    json!({ "changes": list })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: a, namespace: ns}
spec: {template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b, namespace: ns}
spec: {template: {metadata: {labels: {app: b}}, spec: {containers: [{name: c}]}}}
"#;

    const POLICY: &str = r#"
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b, namespace: ns}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress: [{from: [{podSelector: {matchLabels: {app: a}}}], ports: [{port: 80}]}]
  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]}]
"#;

    #[test]
    fn added_removed_changed() {
        let before = Topology::from_bytes(BASE.as_bytes(), "default").unwrap();
        let after = Topology::from_bytes(format!("{BASE}{POLICY}").as_bytes(), "default").unwrap();
        let changes = diff(&before, &after);
        let t = text(&changes);
        assert!(t.contains("~ ns/a[Deployment] => ns/b[Deployment] : All Connections -> TCP 80\n"), "{t}");
        assert!(t.contains("- 0.0.0.0-255.255.255.255 => ns/b[Deployment] : All Connections\n"), "{t}");
        assert!(t.contains("- ns/b[Deployment] => ns/a[Deployment] : All Connections\n"), "{t}");
        assert!(t.contains("- ns/b[Deployment] => 10.0.0.0-10.255.255.255 : All Connections\n"), "{t}");
        assert!(!t.contains("=> 0.0.0.0-9.255.255.255"), "an unchanged range is not listed: {t}");
        assert!(t.ends_with("0 added, 3 removed, 1 changed\n"), "{t}");
        assert!(diff(&after, &after).is_empty());
        assert_eq!(text(&[]), "No connectivity change.\n");
        assert_eq!(json(&changes)["changes"][0]["change"], "removed");
    }
}
