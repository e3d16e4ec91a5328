//! Sets of connections: per protocol (TCP, UDP, SCTP) a set of port ranges, plus named ports
//! that only a destination pod's container ports can turn into numbers.
//!
//! The text form is np-guard netpol-analyzer's: `All Connections`, `No Connections`, or
//! `PROTO ports` items sorted and comma-joined, e.g. `SCTP 9003,TCP 8080,9090,UDP 53`.

use crate::model::workload::ContainerPort;
use k8s_openapi::api::networking::v1::NetworkPolicyPort;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::fmt;

/// Lowest and highest port numbers.
pub const MIN_PORT: u16 = 1;
/// Highest port number.
pub const MAX_PORT: u16 = 65535;

/// The protocols NetworkPolicies know, in the order np-guard prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// SCTP.
    Sctp,
    /// TCP (the default of a `ports` entry).
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// All protocols, in print order.
    pub const ALL: [Protocol; 3] = [Protocol::Sctp, Protocol::Tcp, Protocol::Udp];

    /// The protocol named `s` (case-insensitive).
    pub fn parse(s: &str) -> Option<Protocol> {
        match s.to_ascii_uppercase().as_str() {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of ports: sorted, disjoint, non-adjacent inclusive ranges within 1–65535.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PortSet(Vec<(u16, u16)>);

impl PortSet {
    /// Every port.
    pub fn full() -> PortSet {
        PortSet(vec![(MIN_PORT, MAX_PORT)])
    }

    /// The ports `start..=end` (empty when `end < start`).
    pub fn range(start: u16, end: u16) -> PortSet {
        let (start, end) = (start.max(MIN_PORT), end);
        if end < start {
            PortSet::default()
        } else {
            PortSet(vec![(start, end)])
        }
    }

    /// Whether no port is in the set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every port is in the set.
    pub fn is_full(&self) -> bool {
        self.0 == [(MIN_PORT, MAX_PORT)]
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|&(s, e)| s <= port && port <= e)
    }

    /// The ranges, in order.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.0
    }

    /// Adds the ports of `other`.
    pub fn union_with(&mut self, other: &PortSet) {
        if other.0.is_empty() || self.is_full() {
            return;
        }
        if self.0.is_empty() {
            self.0.clone_from(&other.0);
            return;
        }
        let mut all: Vec<(u16, u16)> = self.0.iter().chain(&other.0).copied().collect();
        all.sort_unstable();
        let mut out: Vec<(u16, u16)> = Vec::with_capacity(all.len());
        for (s, e) in all {
            match out.last_mut() {
                Some(last) if u32::from(s) <= u32::from(last.1) + 1 => last.1 = last.1.max(e),
                _ => out.push((s, e)),
            }
        }
        self.0 = out;
    }

    /// The ports in both sets.
    pub fn intersection(&self, other: &PortSet) -> PortSet {
        if self.is_full() {
            return other.clone();
        }
        if other.is_full() {
            return self.clone();
        }
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < other.0.len() {
            let (a, b) = (self.0[i], other.0[j]);
            let (s, e) = (a.0.max(b.0), a.1.min(b.1));
            if s <= e {
                out.push((s, e));
            }
            if a.1 < b.1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        PortSet(out)
    }

    /// The ports of `self` not in `other`.
    pub fn difference(&self, other: &PortSet) -> PortSet {
        let mut out = Vec::new();
        for &(s, e) in &self.0 {
            let mut start = u32::from(s);
            let end = u32::from(e);
            for &(os, oe) in &other.0 {
                let (os, oe) = (u32::from(os), u32::from(oe));
                if oe < start || os > end {
                    continue;
                }
                if os > start {
                    out.push((start as u16, (os - 1) as u16));
                }
                start = oe + 1;
                if start > end {
                    break;
                }
            }
            if start <= end {
                out.push((start as u16, end as u16));
            }
        }
        PortSet(out)
    }

    /// Whether every port of `self` is in `other`.
    pub fn is_subset(&self, other: &PortSet) -> bool {
        self.difference(other).is_empty()
    }
}

impl fmt::Display for PortSet {
    /// `80,8080-8090`; the full set is `1-65535`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(s, e)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if s == e {
                write!(f, "{s}")?;
            } else {
                write!(f, "{s}-{e}")?;
            }
        }
        Ok(())
    }
}

/// A named port of a policy rule (`port: http`), with the rule's protocol (`None` for an
/// AdminNetworkPolicy's `namedPort`, whose protocol is the destination pod's).
pub type NamedPort = (Option<Protocol>, String);

/// A set of connections (protocol and port), possibly with named ports not yet resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ConnSet {
    ports: [PortSet; 3],
    named: Vec<NamedPort>,
}

impl ConnSet {
    /// No connection.
    pub fn none() -> ConnSet {
        ConnSet::default()
    }

    /// Every protocol and port.
    pub fn all() -> ConnSet {
        ConnSet { ports: [PortSet::full(), PortSet::full(), PortSet::full()], named: Vec::new() }
    }

    /// The given ports of one protocol.
    pub fn of(protocol: Protocol, ports: PortSet) -> ConnSet {
        let mut c = ConnSet::none();
        c.ports[protocol.index()] = ports;
        c
    }

    /// One port of one protocol.
    pub fn port(protocol: Protocol, port: u16) -> ConnSet {
        ConnSet::of(protocol, PortSet::range(port, port))
    }

    /// What a rule's `ports` list allows: everything when it is absent or empty, else the union
    /// of its entries (protocol default TCP; no `port` means every port of the protocol;
    /// `endPort` makes a range; a name stays symbolic until [`ConnSet::resolve`]). Entries with
    /// an unknown protocol or a port out of range allow nothing.
    pub fn from_rule_ports(ports: Option<&[NetworkPolicyPort]>) -> ConnSet {
        let Some(ports) = ports.filter(|p| !p.is_empty()) else { return ConnSet::all() };
        let mut out = ConnSet::none();
        for entry in ports {
            let Some(protocol) = Protocol::parse(entry.protocol.as_deref().unwrap_or("TCP")) else { continue };
            match &entry.port {
                None => out.ports[protocol.index()] = PortSet::full(),
                Some(IntOrString::Int(p)) => {
                    let end = entry.end_port.unwrap_or(*p);
                    if let (Ok(s), Ok(e)) = (u16::try_from(*p), u16::try_from(end)) {
                        out.ports[protocol.index()].union_with(&PortSet::range(s, e));
                    }
                }
                Some(IntOrString::String(name)) => out.add_named(Some(protocol), name),
            }
        }
        out
    }

    fn add_named(&mut self, protocol: Option<Protocol>, name: &str) {
        let item = (protocol, name.to_string());
        if let Err(pos) = self.named.binary_search(&item) {
            self.named.insert(pos, item);
        }
    }

    /// Adds a named port of any protocol (an AdminNetworkPolicy's `namedPort`): the destination
    /// pod's container port of that name decides the protocol.
    pub fn add_named_any(&mut self, name: &str) {
        self.add_named(None, name);
    }

    /// The ports of `protocol`.
    pub fn ports(&self, protocol: Protocol) -> &PortSet {
        &self.ports[protocol.index()]
    }

    /// Unresolved named ports.
    pub fn named(&self) -> &[NamedPort] {
        &self.named
    }

    /// Whether every protocol and port is in the set.
    pub fn is_all(&self) -> bool {
        self.ports.iter().all(PortSet::is_full)
    }

    /// Whether the set allows nothing (named ports included).
    pub fn is_empty(&self) -> bool {
        self.named.is_empty() && self.ports.iter().all(PortSet::is_empty)
    }

    /// Whether `protocol`/`port` is in the set (named ports are not considered).
    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        self.ports[protocol.index()].contains(port)
    }

    /// Adds `other` to the set.
    pub fn union_with(&mut self, other: &ConnSet) {
        for p in Protocol::ALL {
            self.ports[p.index()].union_with(&other.ports[p.index()]);
        }
        for (proto, name) in &other.named {
            self.add_named(*proto, name);
        }
    }

    /// The connections in both sets. Named ports are kept when both sides have them (resolve
    /// both sides against the same pod first for an exact answer).
    pub fn intersection(&self, other: &ConnSet) -> ConnSet {
        // Every connection includes every named port, whatever it resolves to.
        if other.is_all() && other.named.is_empty() {
            return self.clone();
        }
        if self.is_all() && self.named.is_empty() {
            return other.clone();
        }
        let ports = [0, 1, 2].map(|i| self.ports[i].intersection(&other.ports[i]));
        let named = self.named.iter().filter(|n| other.named.contains(n)).cloned().collect();
        ConnSet { ports, named }
    }

    /// The connections of `self` not in `other` (numbered ports only; named ports of `self` are
    /// kept unless `other` has the same name).
    pub fn difference(&self, other: &ConnSet) -> ConnSet {
        let ports = [0, 1, 2].map(|i| self.ports[i].difference(&other.ports[i]));
        let named = self.named.iter().filter(|n| !other.named.contains(n)).cloned().collect();
        ConnSet { ports, named }
    }

    /// Whether every connection of `self` is in `other`.
    pub fn is_subset(&self, other: &ConnSet) -> bool {
        self.difference(other).is_empty()
    }

    /// Turns named ports into numbers using a destination pod's container ports: a name
    /// matches the container port of that name if the protocols agree; otherwise it allows
    /// nothing (as Kubernetes does for a pod without such a port).
    pub fn resolve(&self, container_ports: &[ContainerPort]) -> ConnSet {
        if self.named.is_empty() {
            return self.clone();
        }
        let mut out = ConnSet { ports: self.ports.clone(), named: Vec::new() };
        for (protocol, name) in &self.named {
            let found = container_ports.iter().find(|c| &c.name == name);
            let Some(c) = found else { continue };
            let Some(actual) = Protocol::parse(&c.protocol) else { continue };
            if protocol.is_none_or(|p| p == actual) {
                if let Ok(port) = u16::try_from(c.port) {
                    out.ports[actual.index()].union_with(&PortSet::range(port, port));
                }
            }
        }
        out
    }

    /// Like [`ConnSet::resolve`], but a name the pod lacks stays a name, and a name it has
    /// becomes its number under the rule's protocol (np-guard's reading of a pod's exposure to
    /// the whole cluster).
    pub fn resolve_lenient(&self, container_ports: &[ContainerPort]) -> ConnSet {
        if self.named.is_empty() {
            return self.clone();
        }
        let mut out = ConnSet { ports: self.ports.clone(), named: Vec::new() };
        for (protocol, name) in &self.named {
            let found = container_ports.iter().find(|c| &c.name == name);
            let number = found.and_then(|c| Some((Protocol::parse(&c.protocol)?, u16::try_from(c.port).ok()?)));
            match number {
                Some((actual, port)) => {
                    let p = protocol.unwrap_or(actual);
                    out.ports[p.index()].union_with(&PortSet::range(port, port));
                }
                None => out.add_named(*protocol, name),
            }
        }
        out
    }

    /// The same set without its named ports (what reaches an address outside the cluster).
    pub fn numbered(&self) -> ConnSet {
        ConnSet { ports: self.ports.clone(), named: Vec::new() }
    }

    /// Parses the np-guard text form (`All Connections`, `No Connections`, `TCP 80,443,UDP 53`)
    /// and this crate's own short forms (`all`, `none`, `TCP/80`, `UDP/53,TCP/8000-8100`,
    /// `8080` for TCP). Returns a message on error.
    pub fn parse(text: &str) -> Result<ConnSet, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("all connections") || t.eq_ignore_ascii_case("all") || t == "*" {
            return Ok(ConnSet::all());
        }
        if t.eq_ignore_ascii_case("no connections") || t.eq_ignore_ascii_case("none") || t.is_empty() {
            return Ok(ConnSet::none());
        }
        let mut out = ConnSet::none();
        let mut protocol: Option<Protocol> = None;
        for item in t.split(',').map(str::trim) {
            let (proto, ports) = match item.split_once(['/', ' ']) {
                Some((p, rest)) => match Protocol::parse(p) {
                    Some(proto) => (proto, rest.trim()),
                    None => return Err(format!("unknown protocol {p:?} in {item:?}")),
                },
                None => match Protocol::parse(item) {
                    Some(proto) => (proto, "1-65535"),
                    None => (protocol.unwrap_or(Protocol::Tcp), item),
                },
            };
            protocol = Some(proto);
            let (s, e) = ports.split_once('-').unwrap_or((ports, ports));
            let parse = |x: &str| x.trim().parse::<u16>().ok().filter(|p| *p >= MIN_PORT);
            match (parse(s), parse(e)) {
                (Some(s), Some(e)) if s <= e => out.ports[proto.index()].union_with(&PortSet::range(s, e)),
                _ => return Err(format!("invalid port or range {ports:?} in {item:?}")),
            }
        }
        Ok(out)
    }

    /// A short form for tables: `all`, `-` for nothing, else the np-guard items.
    pub fn short(&self) -> String {
        if self.is_all() {
            "all".into()
        } else if self.is_empty() {
            "-".into()
        } else {
            self.to_string()
        }
    }
}

impl fmt::Display for ConnSet {
    /// np-guard's notation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("All Connections");
        }
        if self.is_empty() {
            return f.write_str("No Connections");
        }
        let mut items: Vec<String> = Vec::new();
        // Named ports of no known protocol print under an empty protocol name, as np-guard does.
        let any: Vec<&str> = self.named.iter().filter(|(np, _)| np.is_none()).map(|(_, n)| n.as_str()).collect();
        if !any.is_empty() {
            items.push(format!(" {}", any.join(",")));
        }
        for p in Protocol::ALL {
            let ports = &self.ports[p.index()];
            let names: Vec<&str> =
                self.named.iter().filter(|(np, _)| *np == Some(p)).map(|(_, n)| n.as_str()).collect();
            if ports.is_empty() && names.is_empty() {
                continue;
            }
            let mut list = ports.to_string();
            for n in names {
                if !list.is_empty() {
                    list.push(',');
                }
                list.push_str(n);
            }
            items.push(format!("{p} {list}"));
        }
        items.sort();
        f.write_str(&items.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(protocol: Option<&str>, port: Option<IntOrString>, end: Option<i32>) -> NetworkPolicyPort {
        NetworkPolicyPort { protocol: protocol.map(str::to_string), port, end_port: end }
    }

    #[test]
    fn port_set_algebra() {
        let mut a = PortSet::range(80, 80);
        a.union_with(&PortSet::range(81, 90));
        a.union_with(&PortSet::range(100, 200));
        assert_eq!(a.to_string(), "80-90,100-200");
        assert_eq!(a.intersection(&PortSet::range(85, 150)).to_string(), "85-90,100-150");
        assert_eq!(a.difference(&PortSet::range(85, 150)).to_string(), "80-84,151-200");
        assert_eq!(PortSet::full().difference(&PortSet::range(1, 65535)), PortSet::default());
        assert!(PortSet::range(85, 86).is_subset(&a));
        assert!(!PortSet::range(85, 95).is_subset(&a));
    }

    #[test]
    fn rule_ports_and_np_guard_text() {
        assert!(ConnSet::from_rule_ports(None).is_all());
        assert!(ConnSet::from_rule_ports(Some(&[])).is_all());
        let c = ConnSet::from_rule_ports(Some(&[
            port(None, Some(IntOrString::Int(8080)), None),
            port(Some("TCP"), Some(IntOrString::Int(9090)), None),
            port(Some("UDP"), Some(IntOrString::Int(8080)), None),
        ]));
        assert_eq!(c.to_string(), "TCP 8080,9090,UDP 8080");
        let r = ConnSet::from_rule_ports(Some(&[
            port(Some("TCP"), Some(IntOrString::Int(8081)), Some(8082)),
            port(Some("UDP"), Some(IntOrString::Int(9091)), None),
        ]));
        assert_eq!(r.to_string(), "TCP 8081-8082,UDP 9091");
        let all_tcp = ConnSet::from_rule_ports(Some(&[port(Some("TCP"), None, None)]));
        assert_eq!(all_tcp.to_string(), "TCP 1-65535");
        assert_eq!(ConnSet::none().to_string(), "No Connections");
        assert_eq!(ConnSet::all().to_string(), "All Connections");
        let mut sctp = ConnSet::port(Protocol::Sctp, 9090);
        sctp.union_with(&ConnSet::port(Protocol::Sctp, 8956));
        assert_eq!(sctp.to_string(), "SCTP 8956,9090");
    }

    #[test]
    fn named_ports_resolve_against_the_destination() {
        let c = ConnSet::from_rule_ports(Some(&[
            port(Some("UDP"), Some(IntOrString::String("newport".into())), None),
            port(Some("SCTP"), Some(IntOrString::String("sctp-port".into())), None),
            port(Some("SCTP"), Some(IntOrString::String("newport".into())), None),
            port(Some("SCTP"), Some(IntOrString::String("not-found".into())), None),
        ]));
        let cp = |name: &str, port: i32, protocol: &str| ContainerPort {
            name: name.into(),
            port,
            protocol: protocol.into(),
        };
        let pod = [cp("sctp-port", 8956, "SCTP"), cp("newport", 9090, "SCTP"), cp("", 8050, "TCP")];
        assert_eq!(c.resolve(&pod).to_string(), "SCTP 8956,9090");
        assert!(c.resolve(&[]).is_empty());
    }

    #[test]
    fn parse_round_trips() {
        for text in ["All Connections", "No Connections", "TCP 8080,9090,UDP 8080", "SCTP 1-65535,TCP 53"] {
            assert_eq!(ConnSet::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(ConnSet::parse("UDP/53, TCP/53").unwrap().to_string(), "TCP 53,UDP 53");
        assert_eq!(ConnSet::parse("8080").unwrap().to_string(), "TCP 8080");
        assert!(ConnSet::parse("TCP/0").is_err());
        assert!(ConnSet::parse("ICMP/1").is_err());
    }
}
