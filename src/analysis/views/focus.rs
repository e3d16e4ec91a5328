//! Focus options of the workload-level views, with np-guard netpol-analyzer's meaning
//! (`--focusworkload`, `--focusworkload-peer`, `--focus-direction`, `--focus-conn`):
//!
//! - only connections with a focus workload at one end are kept, and when focus peers are
//!   given, only those whose other end is one of them;
//! - a focus direction keeps the focus workloads' ingress (they are the destination) or egress
//!   (they are the source) only;
//! - a focus connection keeps the pairs that allow it, and shows just that connection.
//!
//! A workload is named `name`, `namespace/name` or `namespace/name[Kind]`; the ingress
//! controller `ingress-controller` or `{ingress-controller}`.

use crate::analysis::engine::connectivity::{Direction, Engine, Peer};
use crate::analysis::engine::ingress;
use crate::analysis::engine::ports::{ConnSet, Protocol};

/// The focus options; the default keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Focus {
    /// Focus workloads (empty: every workload).
    pub workloads: Vec<String>,
    /// Peers the focus workloads' connections must have at the other end (empty: any).
    pub peers: Vec<String>,
    /// Only the focus workloads' ingress or egress.
    pub direction: Option<Direction>,
    /// Only pairs allowing this connection, shown as that connection.
    pub conn: Option<(Protocol, u16)>,
}

impl Focus {
    /// Whether no option narrows anything.
    pub fn is_empty(&self) -> bool {
        self == &Focus::default()
    }

    /// Warns (once, on stderr) about options that have no effect, as np-guard does: a direction
    /// or focus peers without focus workloads.
    pub fn warn_unused(&self) {
        if self.workloads.is_empty() && self.direction.is_some() {
            tracing::warn!("--focus-direction is ignored without --focus-workload");
        }
        if self.workloads.is_empty() && !self.peers.is_empty() {
            tracing::warn!("--focus-workload-peer is ignored without --focus-workload");
        }
    }

    /// The focus connection as a set.
    pub fn conn_set(&self) -> Option<ConnSet> {
        self.conn.map(|(p, n)| ConnSet::port(p, n))
    }

    /// Whether `peer` is named by one of `names` (an empty list names every peer).
    pub fn names(engine: &Engine, names: &[String], peer: Peer) -> bool {
        if names.is_empty() {
            return true;
        }
        match peer {
            Peer::Workload(w) => {
                let wl = &engine.topology.workloads[w];
                names.iter().any(|n| {
                    n == &wl.name
                        || n.split_once('/').is_some_and(|(ns, rest)| {
                            ns == wl.namespace && (rest == wl.name || rest == format!("{}[{}]", wl.name, wl.kind))
                        })
                })
            }
            Peer::IngressController => names.iter().any(|n| n == ingress::CONTROLLER || n == ingress::CONTROLLER_NAME),
            Peer::External(_) => false,
        }
    }

    /// Whether the pair `src` → `dst` is kept (np-guard's rule; the focus connection is checked
    /// against the pair's connections separately).
    pub fn keeps(&self, engine: &Engine, src: Peer, dst: Peer) -> bool {
        if self.workloads.is_empty() {
            return true;
        }
        let focus = |p| Focus::names(engine, &self.workloads, p);
        let peer = |p| Focus::names(engine, &self.peers, p);
        match self.direction {
            Some(Direction::Ingress) if !focus(dst) => return false,
            Some(Direction::Egress) if !focus(src) => return false,
            _ => {}
        }
        (focus(src) && peer(dst)) || (focus(dst) && peer(src))
    }

    /// The connections shown for a pair allowing `conns`: the focus connection when it is
    /// allowed, `None` when the pair is dropped; `conns` itself without a focus connection.
    pub fn shown(&self, conns: &ConnSet) -> Option<ConnSet> {
        match self.conn_set() {
            None => Some(conns.clone()),
            Some(f) if f.is_subset(conns) => Some(f),
            Some(_) => None,
        }
    }

    /// Warns about focus workloads (and peers) the input does not have; `false` when none of
    /// the focus workloads (or, with focus workloads, none of the focus peers) exists, so the
    /// result is empty (np-guard's behaviour).
    pub fn check_names(&self, engine: &Engine) -> bool {
        let exists = |name: &String| {
            let list = std::slice::from_ref(name);
            (0..engine.topology.workloads.len()).any(|w| Focus::names(engine, list, Peer::Workload(w)))
                || (engine.ingress_controller().is_some() && Focus::names(engine, list, Peer::IngressController))
        };
        let check = |names: &[String], what: &str| {
            let missing: Vec<&String> = names.iter().filter(|n| !exists(n)).collect();
            for n in &missing {
                tracing::warn!("{what} {n} does not exist in the input");
            }
            missing.len() < names.len() || names.is_empty()
        };
        check(&self.workloads, "focus workload") && (self.workloads.is_empty() || check(&self.peers, "focus peer"))
    }
}

/// Parses np-guard's `--focus-conn` form `proto-port` (`udp-52`, `TCP-8080`).
pub fn parse_conn(text: &str) -> Result<(Protocol, u16), String> {
    let (proto, port) =
        text.split_once('-').ok_or_else(|| format!("{text:?}: expected <protocol-port>, e.g. tcp-8080"))?;
    let protocol =
        Protocol::parse(proto).ok_or_else(|| format!("{text:?}: unknown protocol {proto:?} (TCP, UDP or SCTP)"))?;
    let number =
        port.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("{text:?}: invalid port number {port:?}"))?;
    Ok((protocol, number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focus_conn_syntax() {
        assert_eq!(parse_conn("udp-52"), Ok((Protocol::Udp, 52)));
        assert_eq!(parse_conn("TCP-8080"), Ok((Protocol::Tcp, 8080)));
        assert!(parse_conn("tcp8080").is_err());
        assert!(parse_conn("icmp-1").is_err());
        assert!(parse_conn("tcp-0").is_err());
        assert!(parse_conn("tcp-70000").is_err());
    }
}
