//! np-guard netpol-analyzer's txt connlist notation, line for line: `src => dst : conn`,
//! workloads as `namespace/name[Kind]`, external ranges as `first-last[External]`, the ingress
//! controller as `{ingress-controller}`, connections as `All Connections` or
//! `TCP 8080,9090,UDP 53`; sorted by source then destination (byte order), one line per
//! allowed connection, no line for a workload to itself.

use super::connectivity::{Engine, Options, Peer};

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
