//! `netfence explain SRC DST [--port P/PROTO]`: whether a connection is allowed, and which
//! policies and rules decide it on each side, tier by tier (AdminNetworkPolicies,
//! NetworkPolicies, the BaselineAdminNetworkPolicy), in plain words.

use crate::analysis::engine::connectivity::{Direction, End, Engine, Options, Side};
use crate::analysis::engine::ingress;
use crate::analysis::engine::ipset::{Family, IpRange};
use crate::analysis::engine::ports::{ConnSet, Protocol};
use crate::analysis::engine::topology::Topology;
use std::net::IpAddr;

/// One end named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// A workload (index into [`Topology::workloads`]).
    Workload(usize),
    /// An address outside the cluster.
    Address(IpAddr),
    /// The ingress controller serving the input's Routes and Ingresses.
    IngressController,
}

/// Finds the endpoint `text` names: `namespace/name[Kind]`, `namespace/name`, a workload name
/// unique across namespaces, an IP address, or `{ingress-controller}`.
pub fn endpoint(topology: &Topology, text: &str) -> Result<Endpoint, String> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Endpoint::Address(ip));
    }
    if text == ingress::CONTROLLER {
        if ingress::targets(topology).is_empty() {
            return Err(format!("{text}: no Route or Ingress of the input exposes a workload"));
        }
        return Ok(Endpoint::IngressController);
    }
    let ws = &topology.workloads;
    let exact: Vec<usize> = (0..ws.len()).filter(|&i| ws[i].id() == text).collect();
    let by_name: Vec<usize> = if exact.is_empty() {
        match text.split_once('/') {
            Some((ns, name)) => (0..ws.len()).filter(|&i| ws[i].namespace == ns && ws[i].name == name).collect(),
            None => (0..ws.len()).filter(|&i| ws[i].name == text).collect(),
        }
    } else {
        exact
    };
    match by_name.as_slice() {
        [one] => Ok(Endpoint::Workload(*one)),
        [] => {
            let known: Vec<String> = ws.iter().take(12).map(|w| w.id()).collect();
            let more = if ws.len() > known.len() { ", …" } else { "" };
            Err(format!("no workload {text:?} in the input (workloads: {}{more})", known.join(", ")))
        }
        many => {
            let ids: Vec<String> = many.iter().map(|i| ws[*i].id()).collect();
            Err(format!("{text:?} is ambiguous: {}", ids.join(", ")))
        }
    }
}

/// The explanation of one connection.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// What `src` names.
    pub src: String,
    /// What `dst` names.
    pub dst: String,
    /// The source's egress.
    pub egress: Side,
    /// The destination's ingress.
    pub ingress: Side,
    /// What is allowed end to end.
    pub allowed: ConnSet,
    /// The port asked about.
    pub port: Option<(Protocol, u16)>,
    /// For the ingress controller: the ports Routes and Ingresses expose on the destination.
    pub exposed: Option<ConnSet>,
    /// Names of the NetworkPolicies (with where they are), by index.
    pub policy_names: Vec<String>,
    /// Names of the AdminNetworkPolicies (with priority and place), by index.
    pub admin_names: Vec<String>,
    /// Name of the BaselineAdminNetworkPolicy (with its place), if any.
    pub baseline_name: String,
    /// Names of the admin rules: `[policy][direction][index]`, the baseline last.
    pub rule_names: RuleNames,
    /// Whether the source is an address outside the cluster.
    pub src_is_address: bool,
    /// Whether the destination is an address outside the cluster.
    pub dst_is_address: bool,
}

/// Names of admin rules: `[policy][direction][index]`, the baseline last.
pub type RuleNames = Vec<[Vec<String>; 2]>;

/// Parses `8080`, `8080/TCP`, `TCP/8080`, `udp/53` or np-guard's `udp-53`.
pub fn parse_port(text: &str) -> Result<(Protocol, u16), String> {
    let (a, b) = text.split_once(['/', '-']).unwrap_or((text, "TCP"));
    let (proto, port) = if Protocol::parse(a).is_some() { (b, a) } else { (a, b) };
    let protocol = Protocol::parse(port).ok_or_else(|| format!("unknown protocol in {text:?} (TCP, UDP or SCTP)"))?;
    let number = proto.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("invalid port in {text:?}"))?;
    Ok((protocol, number))
}

/// Explains the connection from `src` to `dst` (not both addresses).
pub fn explain(
    topology: &Topology,
    src: Endpoint,
    dst: Endpoint,
    port: Option<(Protocol, u16)>,
) -> Result<Explanation, String> {
    let engine = Engine::new(topology, &Options::default());
    let end = |e: Endpoint| -> Result<End, String> {
        Ok(match e {
            Endpoint::Workload(w) => End::Group(engine.group_of(w)),
            Endpoint::IngressController => {
                End::Group(engine.ingress_controller().ok_or("no Route or Ingress of the input exposes a workload")?)
            }
            Endpoint::Address(ip) => {
                let (family, v) = match ip {
                    IpAddr::V4(a) => (Family::V4, u128::from(u32::from(a))),
                    IpAddr::V6(a) => (Family::V6, u128::from(a)),
                };
                End::Ip(IpRange { family, start: v, end: v })
            }
        })
    };
    let name = |e: Endpoint| match e {
        Endpoint::Workload(w) => topology.workloads[w].id(),
        Endpoint::Address(ip) => ip.to_string(),
        Endpoint::IngressController => ingress::CONTROLLER.to_string(),
    };
    let (s, d) = (end(src)?, end(dst)?);
    if matches!((s, d), (End::Ip(_), End::Ip(_))) {
        return Err("one end must be a workload: traffic between two outside addresses is not the cluster's".into());
    }
    if dst == Endpoint::IngressController {
        return Err("the ingress controller only receives what the cluster's Routes and Ingresses send it: \
                    explain traffic from it instead"
            .into());
    }
    let egress = engine.side(Direction::Egress, s, d);
    let ingress = engine.side(Direction::Ingress, d, s);
    let mut allowed = egress.allowed.intersection(&ingress.allowed);
    let exposed = match (src, dst) {
        (Endpoint::IngressController, Endpoint::Workload(w)) => {
            let ports = engine.ingress_targets().get(&w).cloned().unwrap_or_default();
            allowed = allowed.intersection(&ports);
            Some(ports)
        }
        _ => None,
    };
    let mut rule_names: RuleNames = Vec::new();
    for a in topology.admin_policies.iter().chain(&topology.baseline) {
        let names = |rules: &[crate::analysis::engine::admin::AdminRule]| {
            rules.iter().map(|r| r.name.clone()).collect::<Vec<_>>()
        };
        rule_names.push([names(&a.ingress), names(&a.egress)]);
    }
    Ok(Explanation {
        src: name(src),
        dst: name(dst),
        allowed,
        egress,
        ingress,
        port,
        exposed,
        policy_names: topology.policies.iter().map(|p| format!("{} ({})", p.id(), p.origin)).collect(),
        admin_names: topology
            .admin_policies
            .iter()
            .map(|a| format!("{} (priority {}, {})", a.id(), a.priority, a.origin))
            .collect(),
        baseline_name: topology.baseline.as_ref().map(|b| format!("{} ({})", b.id(), b.origin)).unwrap_or_default(),
        rule_names,
        src_is_address: matches!(src, Endpoint::Address(_)),
        dst_is_address: matches!(dst, Endpoint::Address(_)),
    })
}

impl Explanation {
    /// Whether the connection (or the port asked about) is allowed.
    pub fn is_allowed(&self) -> bool {
        match self.port {
            Some((p, n)) => self.allowed.contains(p, n),
            None => !self.allowed.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: shop}
spec: {template: {metadata: {labels: {app: frontend}}, spec: {containers: [{name: c}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend, namespace: shop}
spec: {template: {metadata: {labels: {app: backend}}, spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: backend, namespace: shop}
spec:
  podSelector: {matchLabels: {app: backend}}
  ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}], ports: [{port: http}]}]
"#;

    #[test]
    fn names_and_ports() {
        let t = Topology::from_bytes(INPUT.as_bytes(), "default").unwrap();
        assert_eq!(endpoint(&t, "shop/backend[Deployment]"), Ok(Endpoint::Workload(0)));
        assert_eq!(endpoint(&t, "shop/backend"), Ok(Endpoint::Workload(0)));
        assert_eq!(endpoint(&t, "frontend"), Ok(Endpoint::Workload(1)));
        assert!(endpoint(&t, "shop/nope").unwrap_err().contains("shop/backend[Deployment]"));
        assert_eq!(endpoint(&t, "10.1.2.3"), Ok(Endpoint::Address("10.1.2.3".parse().unwrap())));
        assert_eq!(parse_port("8080"), Ok((Protocol::Tcp, 8080)));
        assert_eq!(parse_port("udp/53"), Ok((Protocol::Udp, 53)));
        assert_eq!(parse_port("53/UDP"), Ok((Protocol::Udp, 53)));
        assert!(parse_port("0").is_err() && parse_port("ICMP/1").is_err());
    }

    #[test]
    fn both_sides_are_explained() {
        let t = Topology::from_bytes(INPUT.as_bytes(), "default").unwrap();
        let (f, b) = (Endpoint::Workload(1), Endpoint::Workload(0));
        let e = explain(&t, f, b, Some((Protocol::Tcp, 8080))).unwrap();
        assert!(!e.is_allowed(), "the frontend's egress is denied by default-deny");
        let text = crate::analysis::format::text::explanation(&e);
        assert!(
            text.starts_with("shop/frontend[Deployment] => shop/backend[Deployment]: TCP/8080 is denied\n"),
            "{text}"
        );
        assert!(
            text.contains("Egress of shop/frontend[Deployment]: isolated by 1 policy; together they allow nothing"),
            "{text}"
        );
        assert!(text.contains("  - shop/backend (document 4 (NetworkPolicy/backend) at line 17): ingress[0] allows TCP 8080 (covers TCP/8080)"), "{text}");
        assert!(text.contains("TCP/8080 is blocked by the egress of shop/frontend[Deployment]."), "{text}");
        let from_outside = explain(&t, Endpoint::Address("8.8.8.8".parse().unwrap()), b, None).unwrap();
        assert!(!from_outside.is_allowed());
        assert!(crate::analysis::format::text::explanation(&from_outside)
            .contains("Egress of 8.8.8.8: an address outside the cluster"));
        assert!(explain(
            &t,
            Endpoint::Address("1.1.1.1".parse().unwrap()),
            Endpoint::Address("8.8.8.8".parse().unwrap()),
            None
        )
        .is_err());
    }
}
