//! One module per output format: the views' data and the lint's findings as text.
//!
//! - [`table`]: aligned plain text (the matrix);
//! - [`markdown`]: Markdown tables (the matrix);
//! - [`json`]: JSON (matrix, np-guard's connlist and exposure, diff, findings);
//! - [`dot`], [`mermaid`]: graphs (the matrix);
//! - [`connlist`]: np-guard netpol-analyzer's txt notation, with its exposure section;
//! - [`sarif`]: SARIF 2.1.0 for code scanning (findings);
//! - [`text`]: plain-text reports (explanation, diff, intent check, findings).

pub mod connlist;
pub mod dot;
pub mod json;
pub mod markdown;
pub mod mermaid;
pub mod sarif;
pub mod table;
pub mod text;

use super::engine::connectivity::{Engine, Options};
use super::engine::topology::Topology;
use super::views::connlist as listing;
use super::views::focus::Focus;
use super::views::matrix::{self, Cell, Level, NamespaceMatrix};

/// The formats of `netfence matrix`.
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

/// The matrix of `topology` at `level` in `format` (the focus options apply at workload level;
/// `connlist` is always at workload level).
pub fn render(topology: &Topology, level: Level, format: Format, focus: &Focus) -> String {
    if format == Format::Connlist {
        return connlist::listing(&listing::listing(topology, focus, false));
    }
    if level == Level::Namespace {
        let m = NamespaceMatrix::build(topology);
        return match format {
            Format::Table => table::namespace(&m),
            Format::Markdown => markdown::namespace(&m),
            Format::Json => json::pretty(&json::namespace(&m)),
            Format::Dot => dot::namespace(&m),
            Format::Mermaid | Format::Connlist => mermaid::namespace(&m),
        };
    }
    focus.warn_unused();
    let engine = Engine::new(topology, &Options::default());
    let rows = matrix::workload_rows(&engine, focus);
    match format {
        Format::Table => table::workload(&rows),
        Format::Markdown => markdown::workload(&rows),
        Format::Json => json::pretty(&json::workload(&rows)),
        Format::Dot => dot::workload(topology, &rows),
        Format::Mermaid | Format::Connlist => mermaid::workload(topology, &rows),
    }
}

/// A cell of the namespace matrix: `TCP 8080`, `all`, `-`, with `(k/n)` when only k of its n
/// pairs are connected.
pub fn cell(cell: &Cell) -> String {
    if cell.allowed == 0 {
        return "-".into();
    }
    let mut t = cell.conns.short();
    if cell.allowed < cell.pairs {
        t.push_str(&format!(" ({}/{})", cell.allowed, cell.pairs));
    }
    t
}

/// The text of cell (`r`, `c`): its connections, `-` when it has pairs but none connected,
/// empty when it has no pair.
pub fn namespace_cell(m: &NamespaceMatrix, r: usize, c: usize) -> String {
    match m.cells.get(&(r, c)) {
        Some(c) => cell(c),
        None if m.pairs(r, c) > 0 => "-".into(),
        None => String::new(),
    }
}

/// Row `r` of the namespace grid (row 0 is the header), computed when asked for, so that a
/// format holds one row at a time rather than namespaces² strings.
fn grid_row(m: &NamespaceMatrix, r: usize) -> Vec<String> {
    if r == 0 {
        let mut header = vec!["FROM \\ TO".to_string()];
        header.extend(m.columns.iter().cloned());
        header.push("DNS".into());
        return header;
    }
    let r = r - 1;
    let mut row = vec![m.rows[r].clone()];
    row.extend((0..m.columns.len()).map(|c| namespace_cell(m, r, c)));
    row.push(m.dns.get(&r).map_or_else(String::new, cell));
    row
}

/// Edges (from, to, label) of the graph formats; a DNS node collects the DNS column.
fn edges(m: &NamespaceMatrix) -> Vec<(String, String, String)> {
    let mut edges: Vec<(String, String, String)> = m
        .cells
        .iter()
        .filter(|(_, c)| c.allowed > 0)
        .map(|((r, c), x)| (m.rows[*r].clone(), m.columns[*c].clone(), cell(x)))
        .collect();
    for (r, x) in m.dns.iter().filter(|(_, c)| c.allowed > 0) {
        edges.push((m.rows[*r].clone(), "DNS".into(), cell(x)));
    }
    edges
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
        let at = |r: usize, c: usize| namespace_cell(&m, r, c);
        assert_eq!(at(1, 1), "TCP 8080 (1/2)");
        assert_eq!(at(1, 0), "-", "DNS is not shown in the kube-system cell");
        assert_eq!(at(0, 1), "-");
        assert_eq!(at(0, 2), "all");
        assert_eq!(at(2, 0), "all", "DNS ports are only set apart for the namespaces' own traffic");
        assert!(!m.dns.contains_key(&0), "the DNS server itself has no DNS cell");
        assert_eq!(cell(&m.dns[&1]), "TCP 53,UDP 53");
        let table = table::namespace(&m);
        assert!(table.starts_with("FROM \\ TO    kube-system  shop"), "{table}");
        let mermaid = mermaid::namespace(&m);
        assert!(mermaid.contains("-->|\"TCP 8080 (1/2)\"|"), "{mermaid}");
        assert!(dot::namespace(&m).contains("\"shop\" -> \"DNS\" [label=\"TCP 53,UDP 53\"];"));
    }

    #[test]
    fn dns_is_assumed_when_the_input_has_no_server() {
        let input = INPUT.split("---").skip(1).collect::<Vec<_>>().join("---");
        let t = Topology::from_bytes(input.as_bytes(), "default").unwrap();
        let m = NamespaceMatrix::build(&t);
        assert_eq!(m.rows, ["shop", "external"]);
        assert_eq!(cell(&m.dns[&0]), "TCP 53,UDP 53");
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
