//! `netfence diff BEFORE AFTER`: the connections one input allows and the other does not, at
//! workload level. Both inputs are split into the same external ranges (the address blocks of
//! both), so a range only shows up when what it may do changed.

use crate::analysis::engine::connectivity::{Direction, Engine, Options};
use crate::analysis::engine::ipset::IpSet;
use crate::analysis::engine::ports::ConnSet;
use crate::analysis::engine::topology::Topology;
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
        let t = crate::analysis::format::text::diff(&changes);
        assert!(t.contains("~ ns/a[Deployment] => ns/b[Deployment] : All Connections -> TCP 80\n"), "{t}");
        assert!(t.contains("- 0.0.0.0-255.255.255.255 => ns/b[Deployment] : All Connections\n"), "{t}");
        assert!(t.contains("- ns/b[Deployment] => ns/a[Deployment] : All Connections\n"), "{t}");
        assert!(t.contains("- ns/b[Deployment] => 10.0.0.0-10.255.255.255 : All Connections\n"), "{t}");
        assert!(!t.contains("=> 0.0.0.0-9.255.255.255"), "an unchanged range is not listed: {t}");
        assert!(t.ends_with("0 added, 3 removed, 1 changed\n"), "{t}");
        assert!(diff(&after, &after).is_empty());
        assert_eq!(crate::analysis::format::text::diff(&[]), "No connectivity change.\n");
        assert_eq!(crate::analysis::format::json::diff(&changes)["changes"][0]["change"], "removed");
    }
}
