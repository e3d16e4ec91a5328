//! Graphviz: namespaces (or workloads, clustered by namespace) as boxes, external addresses,
//! DNS and the ingress controller as ellipses, connections as labelled edges.

use super::edges;
use crate::analysis::engine::ingress::CONTROLLER;
use crate::analysis::engine::topology::{Topology, Workload};
use crate::analysis::views::connlist::Row;
use crate::analysis::views::matrix::{NamespaceMatrix, EXTERNAL};
use std::collections::BTreeMap;

/// The namespace matrix.
pub fn namespace(m: &NamespaceMatrix) -> String {
    let mut out = String::from("digraph netfence {\n  rankdir=LR;\n  node [shape=box];\n");
    let edges = edges(m);
    let mut nodes: Vec<&str> = m.rows.iter().chain(&m.columns).map(String::as_str).collect();
    if edges.iter().any(|e| e.1 == "DNS") {
        nodes.push("DNS");
    }
    nodes.sort();
    nodes.dedup();
    for n in nodes {
        let shape = if n == EXTERNAL || n == "DNS" || n == CONTROLLER { " shape=ellipse" } else { "" };
        out.push_str(&format!("  {} [label={}{shape}];\n", id(n), id(n)));
    }
    for (a, b, label) in edges {
        out.push_str(&format!("  {} -> {} [label={}];\n", id(&a), id(&b), id(&label)));
    }
    out.push_str("}\n");
    out
}

/// The workload list: one cluster per namespace.
pub fn workload(topology: &Topology, rows: &[Row]) -> String {
    let mut out = String::from("digraph netfence {\n  rankdir=LR;\n  node [shape=box];\n");
    let mut by_ns: BTreeMap<&str, Vec<&Workload>> = BTreeMap::new();
    for w in &topology.workloads {
        by_ns.entry(&w.namespace).or_default().push(w);
    }
    for (ns, ws) in by_ns {
        out.push_str(&format!("  subgraph {} {{\n    label={};\n", id(&format!("cluster_{ns}")), id(ns)));
        for w in ws {
            out.push_str(&format!("    {} [label={}];\n", id(&w.id()), id(&format!("{}[{}]", w.name, w.kind))));
        }
        out.push_str("  }\n");
    }
    let mut others: Vec<&str> =
        rows.iter().flat_map(|(s, d, _)| [s.as_str(), d.as_str()]).filter(|n| !n.contains('/')).collect();
    others.sort();
    others.dedup();
    for n in others {
        out.push_str(&format!("  {} [shape=ellipse];\n", id(n)));
    }
    for (s, d, c) in rows {
        out.push_str(&format!("  {} -> {} [label={}];\n", id(s), id(d), id(&c.short())));
    }
    out.push_str("}\n");
    out
}

/// A quoted Graphviz ID.
fn id(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
