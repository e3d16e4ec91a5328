//! `netfence matrix`: the connectivity aggregated by namespace (ports per pair of namespaces,
//! DNS in a column of its own), or listed per pair of workloads. Data only: the formats are
//! [`crate::analysis::format`]'s.

use super::focus::Focus;
use crate::analysis::engine::connectivity::{End, Engine, Peer};
use crate::analysis::engine::dns::DnsTargets;
use crate::analysis::engine::ingress::CONTROLLER;
use crate::analysis::engine::ports::ConnSet;
use crate::analysis::engine::topology::Topology;
use std::collections::BTreeMap;

/// How fine the matrix is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// One row and column per namespace (plus external addresses and DNS).
    Namespace,
    /// One line per pair of workloads.
    Workload,
}

/// The row and column name of addresses outside the cluster at namespace level.
pub const EXTERNAL: &str = "external";

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
            m.rows.push(CONTROLLER.into());
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
                let c = engine.conns(End::Group(g), End::Group(t));
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

    /// The row of the ingress controller, if it reaches something.
    pub fn controller_row(&self) -> Option<usize> {
        self.controller_row
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
