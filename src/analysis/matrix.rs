//! `netfence matrix`: the connectivity as a namespace-level from/to table (ports in the cells,
//! DNS in a column of its own) or as the workload-level list, in table, markdown, json, dot,
//! mermaid or np-guard connlist form.

use super::connectivity::{Engine, Options, Peer, Probe};
use super::connlist;
use super::focus::Focus;
use super::ports::{ConnSet, PortSet, Protocol};
use super::topology::Topology;
use crate::k8s::dns;
use crate::k8s::selector::Labels;
use crate::model::workload::ContainerPort;
use serde_json::json;
use std::collections::BTreeMap;

/// How fine the matrix is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// One row and column per namespace (plus external addresses and DNS).
    Namespace,
    /// One line per pair of workloads.
    Workload,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned plain text.
    Table,
    /// A Markdown table.
    Markdown,
    /// JSON.
    Json,
    /// Graphviz.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// np-guard netpol-analyzer's txt notation (workload level).
    Connlist,
}

/// The row and column name of addresses outside the cluster at namespace level.
pub const EXTERNAL: &str = "external";

/// The DNS servers the namespace matrix shows in its DNS column: the input's pods labelled as
/// DNS servers, or else a `kube-system` pod labelled `k8s-app: kube-dns` standing in for the
/// cluster's (the render rarely contains it).
#[derive(Debug, Clone)]
pub struct DnsTargets {
    /// Workloads of the input that serve DNS.
    pub workloads: Vec<usize>,
    /// The stand-in, when the input has none.
    pub assumed: Option<Probe>,
}

impl DnsTargets {
    /// Finds the DNS servers of `topology`.
    pub fn find(topology: &Topology) -> DnsTargets {
        let workloads: Vec<usize> = topology
            .workloads
            .iter()
            .enumerate()
            .filter(|(_, w)| {
                dns::DEPLOYMENTS.iter().any(|d| w.labels.get(d.pod_label.0).map(String::as_str) == Some(d.pod_label.1))
            })
            .map(|(i, _)| i)
            .collect();
        let assumed = workloads.is_empty().then(|| Probe {
            namespace: dns::KUBE_DNS.namespace.into(),
            labels: Labels::from([(dns::KUBE_DNS.pod_label.0.to_string(), dns::KUBE_DNS.pod_label.1.to_string())]),
            ports: vec![
                ContainerPort { name: "dns".into(), port: dns::KUBE_DNS.port, protocol: "UDP".into() },
                ContainerPort { name: "dns-tcp".into(), port: dns::KUBE_DNS.port, protocol: "TCP".into() },
            ],
        });
        DnsTargets { workloads, assumed }
    }

    /// Engine options evaluating the stand-in (if any) as probe 0.
    pub fn options(&self) -> Options {
        Options { probes: self.assumed.iter().cloned().collect(), ..Options::default() }
    }

    /// DNS ports of the known deployments (53, and 5353 for OpenShift), UDP and TCP.
    pub fn ports() -> ConnSet {
        let mut c = ConnSet::none();
        for p in [Protocol::Udp, Protocol::Tcp] {
            for port in dns::ports() {
                c.union_with(&ConnSet::of(p, PortSet::range(port as u16, port as u16)));
            }
        }
        c
    }
}

/// One cell of the namespace matrix.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    /// Union of the connections of its pairs.
    pub conns: ConnSet,
    /// Pairs with some connection.
    pub allowed: usize,
    /// All pairs.
    pub pairs: usize,
}

impl Cell {
    /// `TCP 8080`, `all`, `-`, with `(k/n)` when only k of the n pairs are connected.
    pub fn text(&self) -> String {
        if self.allowed == 0 {
            return "-".into();
        }
        let mut t = self.conns.short();
        if self.allowed < self.pairs {
            t.push_str(&format!(" ({}/{})", self.allowed, self.pairs));
        }
        t
    }
}

/// The namespace-level matrix. Only connected cells are stored (memory grows with the input
/// and the connections, not with namespaces²); the others are derived from the workload counts.
#[derive(Debug, Clone, Default)]
pub struct NamespaceMatrix {
    /// Row names (sources): namespaces, then `external`, then the ingress controller if any.
    pub rows: Vec<String>,
    /// Column names (destinations): namespaces, then `external`.
    pub columns: Vec<String>,
    /// The connected cells by (row, column).
    pub cells: BTreeMap<(usize, usize), Cell>,
    /// The DNS column, by row (namespace rows only).
    pub dns: BTreeMap<usize, Cell>,
    /// What the DNS column measures.
    pub dns_note: String,
    /// Workloads per namespace (the first rows and columns).
    counts: Vec<usize>,
    /// External ranges traffic can come from, and go to.
    sources: usize,
    destinations: usize,
    /// The ingress controller's row, if any.
    controller_row: Option<usize>,
}

impl NamespaceMatrix {
    /// Aggregates the workload-level connectivity by namespace.
    pub fn build(topology: &Topology) -> NamespaceMatrix {
        let dns = DnsTargets::find(topology);
        let engine = Engine::new(topology, &dns.options());
        let mut m = NamespaceMatrix::default();
        let mut per_namespace: BTreeMap<&str, usize> = BTreeMap::new();
        for w in &topology.workloads {
            *per_namespace.entry(w.namespace.as_str()).or_default() += 1;
        }
        let index: BTreeMap<&str, usize> = per_namespace.keys().enumerate().map(|(i, n)| (*n, i)).collect();
        m.counts = per_namespace.values().copied().collect();
        m.rows = per_namespace.keys().map(|n| n.to_string()).collect();
        m.columns = m.rows.clone();
        let ext_row = m.rows.len();
        let ext_col = m.columns.len();
        m.rows.push(EXTERNAL.into());
        m.columns.push(EXTERNAL.into());
        (m.sources, m.destinations) = (engine.sources().len(), engine.destinations().len());
        let dns_ports = DnsTargets::ports();
        let mut is_dns = vec![false; topology.workloads.len()];
        for w in &dns.workloads {
            is_dns[*w] = true;
        }
        let namespace_of = |w: usize| index[topology.workloads[w].namespace.as_str()];
        engine.for_each_connection(|src, dst, conns| {
            let r = match src {
                Peer::Workload(w) => namespace_of(w),
                Peer::External(_) => ext_row,
                Peer::IngressController => *m.controller_row.get_or_insert(ext_row + 1),
            };
            let (c, conns) = match dst {
                Peer::Workload(w) if is_dns[w] && matches!(src, Peer::Workload(_)) => {
                    (namespace_of(w), conns.difference(&dns_ports))
                }
                Peer::Workload(w) => (namespace_of(w), conns.clone()),
                _ => (ext_col, conns.clone()),
            };
            if conns.is_empty() {
                return;
            }
            let cell = m.cells.entry((r, c)).or_default();
            cell.allowed += 1;
            cell.conns.union_with(&conns);
        });
        if m.controller_row.is_some() {
            m.rows.push(super::ingress::CONTROLLER.into());
        }
        let keys: Vec<(usize, usize)> = m.cells.keys().copied().collect();
        for (r, c) in keys {
            let pairs = m.pairs(r, c);
            m.cells.get_mut(&(r, c)).expect("just listed").pairs = pairs;
        }
        // The DNS column: each workload's connections to any DNS server, on DNS ports.
        let targets: Vec<usize> = match &dns.assumed {
            Some(_) => vec![engine.probe(0)],
            None => dns.workloads.iter().map(|w| engine.group_of(*w)).collect(),
        };
        for (w, workload) in topology.workloads.iter().enumerate().filter(|(w, _)| !is_dns[*w]) {
            let r = index[workload.namespace.as_str()];
            let g = engine.group_of(w);
            let mut reach = ConnSet::none();
            for &t in &targets {
                let c = engine.conns(super::connectivity::End::Group(g), super::connectivity::End::Group(t));
                reach.union_with(&c.intersection(&dns_ports));
            }
            let cell = m.dns.entry(r).or_default();
            cell.pairs += 1;
            if !reach.is_empty() {
                cell.allowed += 1;
                cell.conns.union_with(&reach);
            }
        }
        m.dns_note = match &dns.assumed {
            Some(_) => "DNS: to kube-system pods labelled k8s-app=kube-dns (assumed: none in the input), \
                        ports 53 and 5353; (k/n): k of the n workloads"
                .into(),
            None => {
                let names: Vec<String> = dns.workloads.iter().map(|w| topology.workloads[*w].id()).collect();
                format!("DNS: to {} on ports 53 and 5353; (k/n): k of the n workloads", names.join(", "))
            }
        };
        m
    }

    /// The pairs of peers a cell stands for (0: no cell, the row or column is empty).
    pub fn pairs(&self, r: usize, c: usize) -> usize {
        let n = self.counts.len();
        let count = |i: usize| self.counts.get(i).copied().unwrap_or(0);
        match (r, c) {
            (r, c) if r < n && c < n && r == c => count(r) * count(r).saturating_sub(1),
            (r, c) if r < n && c < n => count(r) * count(c),
            (r, c) if r < n && c == n => count(r) * self.destinations,
            (r, c) if r == n && c < n => count(c) * self.sources,
            (r, c) if Some(r) == self.controller_row && c < n => count(c),
            _ => 0,
        }
    }

    /// The text of a cell: its connections, `-` when it has pairs but none connected, empty
    /// when it has no pair.
    pub fn cell_text(&self, r: usize, c: usize) -> String {
        match self.cells.get(&(r, c)) {
            Some(cell) => cell.text(),
            None if self.pairs(r, c) > 0 => "-".into(),
            None => String::new(),
        }
    }

    /// Row `r` of the grid (row 0 is the header), computed when asked for.
    fn grid_row(&self, r: usize) -> Vec<String> {
        if r == 0 {
            let mut header = vec!["FROM \\ TO".to_string()];
            header.extend(self.columns.iter().cloned());
            header.push("DNS".into());
            return header;
        }
        let r = r - 1;
        let mut row = vec![self.rows[r].clone()];
        row.extend((0..self.columns.len()).map(|c| self.cell_text(r, c)));
        row.push(self.dns.get(&r).map_or_else(String::new, Cell::text));
        row
    }

    /// Aligned plain text, with a note on the DNS column. Rows are produced one at a time
    /// (the widths in a first pass), so memory is the output's, not a grid of strings.
    pub fn table(&self) -> String {
        let rows = self.rows.len() + 1;
        let mut widths = vec![0usize; self.columns.len() + 2];
        for r in 0..rows {
            for (c, cell) in self.grid_row(r).iter().enumerate() {
                widths[c] = widths[c].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for r in 0..rows {
            out.push_str(&aligned_line(&self.grid_row(r), &widths));
        }
        out.push_str(&format!("\n{}\n", self.dns_note));
        out
    }

    /// A Markdown table.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        for r in 0..=self.rows.len() {
            let row = self.grid_row(r);
            let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
            if r == 0 {
                out.push_str(&format!("|{}\n", "---|".repeat(row.len())));
            }
        }
        out.push_str(&format!("\n{}\n", self.dns_note));
        out
    }

    /// JSON: rows, columns, the connected cells and the DNS column.
    pub fn json(&self) -> serde_json::Value {
        let cells: Vec<serde_json::Value> = self
            .cells
            .iter()
            .filter(|(_, c)| c.allowed > 0)
            .map(|((r, c), cell)| {
                json!({"from": self.rows[*r], "to": self.columns[*c], "connections": cell.conns.to_string(),
                       "allowed_pairs": cell.allowed, "pairs": cell.pairs})
            })
            .collect();
        let dns: Vec<serde_json::Value> = self
            .dns
            .iter()
            .map(|(r, cell)| {
                json!({"from": self.rows[*r], "connections": cell.conns.to_string(),
                       "allowed_workloads": cell.allowed, "workloads": cell.pairs})
            })
            .collect();
        json!({"level": "namespace", "rows": self.rows, "columns": self.columns, "cells": cells, "dns": dns, "dns_note": self.dns_note})
    }

    /// Edges (from, to, label) of the graph views; a DNS node collects the DNS column.
    fn edges(&self) -> Vec<(String, String, String)> {
        let mut edges: Vec<(String, String, String)> = self
            .cells
            .iter()
            .filter(|(_, c)| c.allowed > 0)
            .map(|((r, c), cell)| (self.rows[*r].clone(), self.columns[*c].clone(), cell.text()))
            .collect();
        for (r, cell) in self.dns.iter().filter(|(_, c)| c.allowed > 0) {
            edges.push((self.rows[*r].clone(), "DNS".into(), cell.text()));
        }
        edges
    }

    /// Graphviz.
    pub fn dot(&self) -> String {
        let mut out = String::from("digraph netfence {\n  rankdir=LR;\n  node [shape=box];\n");
        let edges = self.edges();
        let mut nodes: Vec<&str> = self.rows.iter().chain(&self.columns).map(String::as_str).collect();
        if edges.iter().any(|e| e.1 == "DNS") {
            nodes.push("DNS");
        }
        nodes.sort();
        nodes.dedup();
        for n in nodes {
            let shape =
                if n == EXTERNAL || n == "DNS" || n == super::ingress::CONTROLLER { " shape=ellipse" } else { "" };
            out.push_str(&format!("  {} [label={}{shape}];\n", dot_id(n), dot_id(n)));
        }
        for (a, b, label) in edges {
            out.push_str(&format!("  {} -> {} [label={}];\n", dot_id(&a), dot_id(&b), dot_id(&label)));
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart.
    pub fn mermaid(&self) -> String {
        let mut ids: BTreeMap<String, String> = BTreeMap::new();
        let mut out = String::from("flowchart LR\n");
        let edges = self.edges();
        let mut id = |name: &str, out: &mut String| -> String {
            if let Some(i) = ids.get(name) {
                return i.clone();
            }
            let i = format!("n{}", ids.len());
            out.push_str(&format!("  {i}[\"{}\"]\n", mermaid_text(name)));
            ids.insert(name.to_string(), i.clone());
            i
        };
        for n in self.rows.iter().chain(&self.columns) {
            id(n, &mut out);
        }
        for (a, b, label) in edges {
            let (a, b) = (id(&a, &mut out), id(&b, &mut out));
            out.push_str(&format!("  {a} -->|\"{}\"| {b}\n", mermaid_text(&label)));
        }
        out
    }
}

/// The workload-level list: (source, destination, connections), sorted like connlist, narrowed
/// by `focus`.
pub fn workload_rows(engine: &Engine, focus: &Focus) -> Vec<(String, String, ConnSet)> {
    let mut rows = Vec::new();
    if !focus.check_names(engine) {
        return rows;
    }
    engine.for_each_connection(|s, d, c| {
        if focus.keeps(engine, s, d) {
            if let Some(shown) = focus.shown(c) {
                rows.push((engine.peer_name(s), engine.peer_name(d), shown));
            }
        }
    });
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    rows
}

/// Renders the matrix of `topology` at `level` in `format` (focus options apply at workload
/// level).
pub fn render(topology: &Topology, level: Level, format: Format, focus: &Focus) -> String {
    if level == Level::Namespace && format != Format::Connlist {
        let m = NamespaceMatrix::build(topology);
        return match format {
            Format::Table => m.table(),
            Format::Markdown => m.markdown(),
            Format::Json => format!("{}\n", serde_json::to_string_pretty(&m.json()).unwrap_or_default()),
            Format::Dot => m.dot(),
            Format::Mermaid | Format::Connlist => m.mermaid(),
        };
    }
    if format == Format::Connlist {
        return connlist::listing(topology, focus, false).text();
    }
    focus.warn_unused();
    let engine = Engine::new(topology, &Options::default());
    let rows = workload_rows(&engine, focus);
    match format {
        Format::Table => {
            let mut grid = vec![vec!["FROM".to_string(), "TO".to_string(), "CONNECTIONS".to_string()]];
            grid.extend(rows.iter().map(|(s, d, c)| vec![s.clone(), d.clone(), c.to_string()]));
            align(&grid)
        }
        Format::Markdown => {
            let mut out = String::from("| From | To | Connections |\n|---|---|---|\n");
            for (s, d, c) in &rows {
                out.push_str(&format!("| {s} | {d} | {c} |\n"));
            }
            out
        }
        Format::Json => {
            let list: Vec<serde_json::Value> =
                rows.iter().map(|(s, d, c)| json!({"src": s, "dst": d, "conn": c.to_string()})).collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&json!({"level": "workload", "connections": list})).unwrap_or_default()
            )
        }
        Format::Dot => workload_dot(&engine, &rows),
        _ => workload_mermaid(&engine, &rows),
    }
}

/// Graphviz at workload level: one cluster per namespace.
fn workload_dot(engine: &Engine, rows: &[(String, String, ConnSet)]) -> String {
    let mut out = String::from("digraph netfence {\n  rankdir=LR;\n  node [shape=box];\n");
    let mut by_ns: BTreeMap<&str, Vec<&super::topology::Workload>> = BTreeMap::new();
    for w in &engine.topology.workloads {
        by_ns.entry(&w.namespace).or_default().push(w);
    }
    for (ns, ws) in by_ns {
        out.push_str(&format!("  subgraph {} {{\n    label={};\n", dot_id(&format!("cluster_{ns}")), dot_id(ns)));
        for w in ws {
            out.push_str(&format!("    {} [label={}];\n", dot_id(&w.id()), dot_id(&format!("{}[{}]", w.name, w.kind))));
        }
        out.push_str("  }\n");
    }
    let mut others: Vec<&str> =
        rows.iter().flat_map(|(s, d, _)| [s.as_str(), d.as_str()]).filter(|n| !n.contains('/')).collect();
    others.sort();
    others.dedup();
    for n in others {
        out.push_str(&format!("  {} [shape=ellipse];\n", dot_id(n)));
    }
    for (s, d, c) in rows {
        out.push_str(&format!("  {} -> {} [label={}];\n", dot_id(s), dot_id(d), dot_id(&c.short())));
    }
    out.push_str("}\n");
    out
}

/// Mermaid at workload level: one subgraph per namespace.
fn workload_mermaid(engine: &Engine, rows: &[(String, String, ConnSet)]) -> String {
    let mut out = String::from("flowchart LR\n");
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut by_ns: BTreeMap<&str, Vec<&super::topology::Workload>> = BTreeMap::new();
    for w in &engine.topology.workloads {
        by_ns.entry(&w.namespace).or_default().push(w);
    }
    for (i, (ns, ws)) in by_ns.into_iter().enumerate() {
        out.push_str(&format!("  subgraph ns{i}[\"{}\"]\n", mermaid_text(ns)));
        for w in ws {
            let id = format!("n{}", ids.len());
            out.push_str(&format!("    {id}[\"{}\"]\n", mermaid_text(&format!("{}[{}]", w.name, w.kind))));
            ids.insert(w.id(), id);
        }
        out.push_str("  end\n");
    }
    for (s, d, c) in rows {
        for n in [s, d] {
            if !ids.contains_key(n) {
                let id = format!("n{}", ids.len());
                out.push_str(&format!("  {id}([\"{}\"])\n", mermaid_text(n)));
                ids.insert(n.clone(), id);
            }
        }
        out.push_str(&format!("  {} -->|\"{}\"| {}\n", ids[s], mermaid_text(&c.short()), ids[d]));
    }
    out
}

/// Left-aligned columns separated by two spaces, trailing spaces trimmed.
fn align(grid: &[Vec<String>]) -> String {
    let cols = grid.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| grid.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    grid.iter().map(|row| aligned_line(row, &widths)).collect()
}

/// One line of [`align`]: cells padded to `widths` and two spaces, trailing spaces trimmed.
fn aligned_line(row: &[String], widths: &[usize]) -> String {
    let mut line = String::new();
    for (c, cell) in row.iter().enumerate() {
        line.push_str(cell);
        if c + 1 < row.len() {
            line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
        }
    }
    let mut line = line.trim_end().to_string();
    line.push('\n');
    line
}

/// A quoted Graphviz ID.
fn dot_id(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Text safe inside a quoted Mermaid label.
fn mermaid_text(s: &str) -> String {
    s.replace('"', "#quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec: {template: {metadata: {labels: {k8s-app: kube-dns}}, spec: {containers: [{name: c, ports: [{containerPort: 53, protocol: UDP}, {containerPort: 53}]}]}}}
---
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
metadata: {name: allow-dns, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: frontend-to-backend, namespace: shop}
spec:
  podSelector: {matchLabels: {app: frontend}}
  egress: [{to: [{podSelector: {matchLabels: {app: backend}}}], ports: [{port: 8080}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: backend-from-frontend, namespace: shop}
spec:
  podSelector: {matchLabels: {app: backend}}
  ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}], ports: [{port: 8080}]}]
"#;

    #[test]
    fn namespace_matrix_separates_dns() {
        let t = Topology::from_bytes(INPUT.as_bytes(), "default").unwrap();
        let m = NamespaceMatrix::build(&t);
        assert_eq!(m.rows, ["kube-system", "shop", "external"]);
        let cell = |r: usize, c: usize| m.cell_text(r, c);
        assert_eq!(cell(1, 1), "TCP 8080 (1/2)");
        assert_eq!(cell(1, 0), "-", "DNS is not shown in the kube-system cell");
        assert_eq!(cell(0, 1), "-");
        assert_eq!(cell(0, 2), "all");
        assert_eq!(cell(2, 0), "all", "DNS ports are only set apart for the namespaces' own traffic");
        assert!(!m.dns.contains_key(&0), "the DNS server itself has no DNS cell");
        assert_eq!(m.dns[&1].text(), "TCP 53,UDP 53");
        let table = m.table();
        assert!(table.starts_with("FROM \\ TO    kube-system  shop"), "{table}");
        let mermaid = m.mermaid();
        assert!(mermaid.contains("-->|\"TCP 8080 (1/2)\"|"), "{mermaid}");
        assert!(m.dot().contains("\"shop\" -> \"DNS\" [label=\"TCP 53,UDP 53\"];"));
    }

    #[test]
    fn dns_is_assumed_when_the_input_has_no_server() {
        let input = INPUT.split("---").skip(1).collect::<Vec<_>>().join("---");
        let t = Topology::from_bytes(input.as_bytes(), "default").unwrap();
        let m = NamespaceMatrix::build(&t);
        assert_eq!(m.rows, ["shop", "external"]);
        assert_eq!(m.dns[&0].text(), "TCP 53,UDP 53");
        assert!(m.dns_note.contains("assumed"));
    }

    #[test]
    fn workload_formats() {
        let t = Topology::from_bytes(INPUT.as_bytes(), "default").unwrap();
        let table = render(&t, Level::Workload, Format::Table, &Focus::default());
        assert!(
            table.lines().any(|l| l.starts_with("shop/frontend[Deployment]") && l.ends_with("TCP 8080")),
            "{table}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render(&t, Level::Workload, Format::Json, &Focus::default())).unwrap();
        assert_eq!(json["level"], "workload");
        assert!(render(&t, Level::Workload, Format::Mermaid, &Focus::default())
            .starts_with("flowchart LR\n  subgraph ns0[\"kube-system\"]"));
        assert!(render(&t, Level::Workload, Format::Dot, &Focus::default()).contains("subgraph \"cluster_shop\""));
    }
}
