//! np-guard netpol-analyzer's txt connlist notation, line for line: `src => dst : conn`,
//! workloads as `namespace/name[Kind]`, external ranges as `first-last[External]`, the ingress
//! controller as `{ingress-controller}`, connections as `All Connections` or
//! `TCP 8080,9090,UDP 53`; sorted by source then destination (byte order), one line per
//! allowed connection, no line for a workload to itself. With a focus connection
//! (`--focus-conn`) the list is headed `Permitted connections on UDP 52:` and names the pairs
//! only. With `--exposure`, np-guard's exposure section follows (see [`super::exposure`]), in
//! text or in np-guard's JSON.

use super::connectivity::{Engine, Options, Peer};
use super::exposure::{self, ExposedWorkload, ENTIRE_CLUSTER};
use super::focus::Focus;
use super::ports::ConnSet;
use super::topology::Topology;
use serde_json::json;
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

/// The connlist lines, sorted, without line ends (use an engine built with [`options`] to
/// reproduce np-guard).
pub fn lines(engine: &Engine) -> Vec<String> {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    engine.for_each_connection(|src, dst, conns| rows.push((peer(engine, src), peer(engine, dst), conns.to_string())));
    rows.sort();
    rows.into_iter().map(|(s, d, c)| format!("{s} => {d} : {c}")).collect()
}

/// The whole connlist text (each line ends with `\n`; empty when nothing is allowed).
pub fn render(engine: &Engine) -> String {
    lines(engine).into_iter().map(|l| l + "\n").collect()
}

/// One exposure line: (workload, other end, connections), by direction.
struct ExposureLines {
    egress: Vec<(String, String, ConnSet)>,
    ingress: Vec<(String, String, ConnSet)>,
    unprotected: Vec<String>,
    width: usize,
}

impl Listing {
    fn exposure_lines(&self) -> Option<ExposureLines> {
        let exposed = self.exposure.as_ref()?;
        // Connections with external ranges appear again under each exposed workload.
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
        let mut out = ExposureLines { egress: Vec::new(), ingress: Vec::new(), unprotected: Vec::new(), width: 0 };
        for e in exposed {
            out.width = out.width.max(e.name.len());
            for (xgress, list, ips, word) in
                [(&e.egress, &mut out.egress, &to_ips, "Egress"), (&e.ingress, &mut out.ingress, &from_ips, "Ingress")]
            {
                match xgress {
                    Some(x) if !x.protected => {
                        list.push((e.name.clone(), ENTIRE_CLUSTER.into(), ConnSet::all()));
                        out.unprotected.push(format!("{} is not protected on {word}", e.name));
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

    /// np-guard's txt output.
    pub fn text(&self) -> String {
        let mut out = String::new();
        match &self.focus_conn {
            Some(f) => {
                out.push_str(&format!("Permitted connections on {f}:\n"));
                for (s, d, _) in &self.rows {
                    out.push_str(&format!("{s} => {d}\n"));
                }
            }
            None => {
                for (s, d, c) in &self.rows {
                    out.push_str(&format!("{s} => {d} : {c}\n"));
                }
            }
        }
        let Some(lines) = self.exposure_lines() else { return out };
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str("Exposure Analysis Result:\n");
        let line = |peer: &str, arrow: &str, other: &str, conns: &ConnSet| match &self.focus_conn {
            Some(_) => format!("{peer:<w$} \t{arrow} \t{other}\n", w = lines.width),
            None => format!("{peer:<w$} \t{arrow} \t{other} : {conns}\n", w = lines.width),
        };
        if !lines.egress.is_empty() {
            out.push_str("Egress Exposure:\n");
            for (p, o, c) in &lines.egress {
                out.push_str(&line(p, "=>", o, c));
            }
        }
        if !lines.ingress.is_empty() {
            if !lines.egress.is_empty() {
                out.push('\n');
            }
            out.push_str("Ingress Exposure:\n");
            for (p, o, c) in &lines.ingress {
                out.push_str(&line(p, "<=", o, c));
            }
        }
        if !lines.unprotected.is_empty() {
            out.push_str("\nWorkloads not protected by network policies:\n");
            for l in &lines.unprotected {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    /// np-guard's JSON output: a list of `{src, dst, conn}` (no `conn` with a focus
    /// connection), or with exposure `{connlist_results, exposure_results: {egress_exposure,
    /// ingress_exposure}}`.
    pub fn json(&self) -> serde_json::Value {
        let item = |s: &str, d: &str, c: &ConnSet| match &self.focus_conn {
            Some(_) => json!({"src": s, "dst": d}),
            None => json!({"src": s, "dst": d, "conn": c.to_string()}),
        };
        let rows: Vec<serde_json::Value> = self.rows.iter().map(|(s, d, c)| item(s, d, c)).collect();
        let Some(lines) = self.exposure_lines() else { return serde_json::Value::Array(rows) };
        let egress: Vec<serde_json::Value> = lines.egress.iter().map(|(p, o, c)| item(p, o, c)).collect();
        let ingress: Vec<serde_json::Value> = lines.ingress.iter().map(|(p, o, c)| item(o, p, c)).collect();
        json!({"connlist_results": rows, "exposure_results": {"egress_exposure": egress, "ingress_exposure": ingress}})
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
        let engine = Engine::new(&t, &Options::default());
        assert_eq!(
            lines(&engine),
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
        assert_eq!(render(&Engine::new(&t, &Options::default())), "");
    }
}
