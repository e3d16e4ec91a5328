//! The workload-level connection list with np-guard netpol-analyzer's semantics (`matrix -o
//! connlist`, `--exposure`, the focus options): workloads as `namespace/name[Kind]`, external
//! ranges as `first-last[External]`, the ingress controller as `{ingress-controller}`; sorted by
//! source then destination (byte order), one row per allowed connection, no row for a workload
//! to itself. With `--exposure`, np-guard's exposure rows (see [`super::exposure`]). The
//! notation is [`crate::analysis::format::connlist`]'s, the JSON [`crate::analysis::format::json`]'s.

use super::exposure::{self, ExposedWorkload, ENTIRE_CLUSTER};
use super::focus::Focus;
use crate::analysis::engine::connectivity::{Engine, Options, Peer};
use crate::analysis::engine::ports::ConnSet;
use crate::analysis::engine::topology::Topology;
use std::collections::BTreeMap;

/// How np-guard prints a peer.
pub fn peer(engine: &Engine, peer: Peer) -> String {
    match peer {
        Peer::External(_) => format!("{}[External]", engine.peer_name(peer)),
        _ => engine.peer_name(peer),
    }
}

/// The engine options np-guard's results correspond to: IPv6 `ipBlock`s and `networks` are
/// ignored.
pub fn options() -> Options {
    Options { ipv4_only: true, ..Options::default() }
}

/// One line of the list: source, destination (np-guard's names) and what is shown.
pub type Row = (String, String, ConnSet);

/// The connection list of the input, focused, with its exposure if asked for.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// The lines, sorted.
    pub rows: Vec<Row>,
    /// The focus connection, when the list is focused on one.
    pub focus_conn: Option<ConnSet>,
    /// The exposure of the (focus) workloads, when asked for.
    pub exposure: Option<Vec<ExposedWorkload>>,
}

/// Lists the connections of `topology` with np-guard's semantics, narrowed by `focus`, with the
/// exposure analysis when `exposure` (ignored, as by np-guard, when focus peers are given).
pub fn listing(topology: &Topology, focus: &Focus, exposure: bool) -> Listing {
    focus.warn_unused();
    let exposure = exposure && !(!focus.workloads.is_empty() && !focus.peers.is_empty());
    if !focus.workloads.is_empty() && !focus.peers.is_empty() && exposure {
        tracing::warn!("--exposure is ignored with both --focus-workload and --focus-workload-peer");
    }
    let engine = Engine::new(topology, &Options { exposure, ..options() });
    let mut listing = Listing { focus_conn: focus.conn_set(), ..Listing::default() };
    if !focus.check_names(&engine) {
        tracing::warn!("the connectivity analysis result is empty: no focus workload exists");
        if exposure {
            listing.exposure = Some(Vec::new());
        }
        return listing;
    }
    engine.for_each_connection(|src, dst, conns| {
        if !focus.keeps(&engine, src, dst) {
            return;
        }
        if let Some(shown) = focus.shown(conns) {
            listing.rows.push((peer(&engine, src), peer(&engine, dst), shown));
        }
    });
    listing.rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    if exposure {
        listing.exposure = Some(exposure::exposure(&engine, focus));
    }
    listing
}

/// A workload's exposure rows: (workload, other end, connections), by direction, and the
/// workloads no policy protects (name, `Egress` or `Ingress`).
#[derive(Debug, Clone, Default)]
pub struct ExposureRows {
    /// What the workloads may send beyond the input.
    pub egress: Vec<Row>,
    /// What may reach the workloads from beyond the input.
    pub ingress: Vec<Row>,
    /// Workloads without a policy for a direction.
    pub unprotected: Vec<(String, &'static str)>,
}

impl Listing {
    /// The exposure section's rows, sorted; `None` without `--exposure`. Connections with
    /// external ranges appear again under each exposed workload.
    pub fn exposure_rows(&self) -> Option<ExposureRows> {
        let exposed = self.exposure.as_ref()?;
        let mut to_ips: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
        let mut from_ips: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
        for row in &self.rows {
            if row.1.ends_with("[External]") {
                to_ips.entry(&row.0).or_default().push(row);
            }
            if row.0.ends_with("[External]") {
                from_ips.entry(&row.1).or_default().push(row);
            }
        }
        let mut out = ExposureRows::default();
        for e in exposed {
            for (xgress, list, ips, word) in
                [(&e.egress, &mut out.egress, &to_ips, "Egress"), (&e.ingress, &mut out.ingress, &from_ips, "Ingress")]
            {
                match xgress {
                    Some(x) if !x.protected => {
                        list.push((e.name.clone(), ENTIRE_CLUSTER.into(), ConnSet::all()));
                        out.unprotected.push((e.name.clone(), word));
                    }
                    Some(x) => list.extend(x.items.iter().map(|i| (e.name.clone(), i.other.clone(), i.conns.clone()))),
                    None => {}
                }
                for row in ips.get(e.name.as_str()).into_iter().flatten() {
                    let other = if word == "Egress" { &row.1 } else { &row.0 };
                    list.push((e.name.clone(), other.clone(), row.2.clone()));
                }
            }
        }
        out.egress.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        out.ingress.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        out.unprotected.sort();
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::topology::Topology;

    const DEMO: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: shop}
spec: {template: {metadata: {labels: {app: frontend}}, spec: {containers: [{name: c}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend, namespace: shop}
spec: {template: {metadata: {labels: {app: backend}}, spec: {containers: [{name: c, ports: [{name: api, containerPort: 9090}]}]}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: backend, namespace: shop}
spec:
  podSelector: {matchLabels: {app: backend}}
  ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}], ports: [{port: api}]}]
  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}], ports: [{port: 443}]}]
"#;

    #[test]
    fn demo_lines() {
        let t = Topology::from_bytes(DEMO.as_bytes(), "default").unwrap();
        let rows: Vec<String> =
            listing(&t, &Focus::default(), false).rows.iter().map(|(s, d, c)| format!("{s} => {d} : {c}")).collect();
        assert_eq!(
            rows,
            [
                "0.0.0.0-255.255.255.255[External] => shop/frontend[Deployment] : All Connections",
                "shop/backend[Deployment] => 0.0.0.0-9.255.255.255[External] : TCP 443",
                "shop/backend[Deployment] => 11.0.0.0-255.255.255.255[External] : TCP 443",
                "shop/frontend[Deployment] => 0.0.0.0-9.255.255.255[External] : All Connections",
                "shop/frontend[Deployment] => 10.0.0.0-10.255.255.255[External] : All Connections",
                "shop/frontend[Deployment] => 11.0.0.0-255.255.255.255[External] : All Connections",
                "shop/frontend[Deployment] => shop/backend[Deployment] : TCP 9090",
            ]
        );
    }

    #[test]
    fn nothing_without_workloads() {
        let t = Topology::from_bytes(b"apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", "default").unwrap();
        assert!(listing(&t, &Focus::default(), false).rows.is_empty());
    }
}
