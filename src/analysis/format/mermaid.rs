//! Mermaid flowcharts.

use super::edges;
use crate::analysis::engine::topology::{Topology, Workload};
use crate::analysis::views::connlist::Row;
use crate::analysis::views::matrix::NamespaceMatrix;
use std::collections::BTreeMap;

/// The namespace matrix.
pub fn namespace(m: &NamespaceMatrix) -> String {
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut out = String::from("flowchart LR\n");
    let edges = edges(m);
    let mut id = |name: &str, out: &mut String| -> String {
        if let Some(i) = ids.get(name) {
            return i.clone();
        }
        let i = format!("n{}", ids.len());
        out.push_str(&format!("  {i}[\"{}\"]\n", text(name)));
        ids.insert(name.to_string(), i.clone());
        i
    };
    for n in m.rows.iter().chain(&m.columns) {
        id(n, &mut out);
    }
    for (a, b, label) in edges {
        let (a, b) = (id(&a, &mut out), id(&b, &mut out));
        out.push_str(&format!("  {a} -->|\"{}\"| {b}\n", text(&label)));
    }
    out
}

/// The workload list: one subgraph per namespace.
pub fn workload(topology: &Topology, rows: &[Row]) -> String {
    let mut out = String::from("flowchart LR\n");
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut by_ns: BTreeMap<&str, Vec<&Workload>> = BTreeMap::new();
    for w in &topology.workloads {
        by_ns.entry(&w.namespace).or_default().push(w);
    }
    for (i, (ns, ws)) in by_ns.into_iter().enumerate() {
        out.push_str(&format!("  subgraph ns{i}[\"{}\"]\n", text(ns)));
        for w in ws {
            let id = format!("n{}", ids.len());
            out.push_str(&format!("    {id}[\"{}\"]\n", text(&format!("{}[{}]", w.name, w.kind))));
            ids.insert(w.id(), id);
        }
        out.push_str("  end\n");
    }
    for (s, d, c) in rows {
        for n in [s, d] {
            if !ids.contains_key(n) {
                let id = format!("n{}", ids.len());
                out.push_str(&format!("  {id}([\"{}\"])\n", text(n)));
                ids.insert(n.clone(), id);
            }
        }
        out.push_str(&format!("  {} -->|\"{}\"| {}\n", ids[s], text(&c.short()), ids[d]));
    }
    out
}

/// Text safe inside a quoted Mermaid label.
fn text(s: &str) -> String {
    s.replace('"', "#quot;")
}
