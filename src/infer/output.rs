//! `netfence infer`'s output: one row per source, destination and port, as np-guard's connlist
//! notation (with the evidence) or JSON.

use super::{Connection, ANYWHERE};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

/// One connection on one port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Row {
    /// `ns/Kind/name`, `0.0.0.0/0`, `{ingress-controller}`, `{monitoring}`.
    pub src: String,
    /// `ns/Kind/name`, `0.0.0.0/0` or a CIDR.
    pub dst: String,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// A number, a named port, or `1-65535` for all ports.
    pub port: String,
    /// The rule (`service-reference`, …).
    pub rule: String,
    /// Why.
    pub evidence: String,
}

/// The rows of `connections`, sorted, each once.
pub fn rows(connections: &[Connection]) -> Vec<Row> {
    let mut rows = Vec::new();
    for c in connections {
        let ports: Vec<(String, String)> = if c.ports.is_empty() {
            crate::k8s::PROTOCOLS.iter().map(|p| (p.to_string(), "1-65535".to_string())).collect()
        } else {
            c.ports
                .iter()
                .map(|p| {
                    let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
                    let port = match (&p.port, p.end_port) {
                        (Some(IntOrString::Int(n)), Some(end)) => format!("{n}-{end}"),
                        (Some(IntOrString::Int(n)), None) => n.to_string(),
                        (Some(IntOrString::String(name)), _) => name.clone(),
                        (None, _) => "1-65535".into(),
                    };
                    (proto, port)
                })
                .collect()
        };
        for src in &c.from.names {
            for dst in &c.to.names {
                for (protocol, port) in &ports {
                    rows.push(Row {
                        src: src.clone(),
                        dst: dst.clone(),
                        protocol: protocol.clone(),
                        port: port.clone(),
                        rule: c.rule.as_str().to_string(),
                        evidence: c.evidence.clone(),
                    });
                }
            }
        }
    }
    rows.sort();
    rows.dedup_by(|b, a| {
        (&a.src, &a.dst, &a.protocol, &a.port, &a.rule) == (&b.src, &b.dst, &b.protocol, &b.port, &b.rule)
    });
    rows
}

/// `{"connections": [...]}`.
pub fn json(rows: &[Row]) -> String {
    let mut text = serde_json::to_string_pretty(&serde_json::json!({ "connections": rows })).unwrap_or_default();
    text.push('\n');
    text
}

/// np-guard's notation for a name: `ns/name[Kind]` for a workload, others as they are.
fn connlist_name(name: &str) -> String {
    match name.splitn(3, '/').collect::<Vec<_>>().as_slice() {
        [ns, kind, n] if name != ANYWHERE => format!("{ns}/{n}[{kind}]"),
        _ => name.to_string(),
    }
}

/// One line per row: `src => dst : TCP 5432 (rule: evidence)`.
pub fn connlist(rows: &[Row]) -> String {
    rows.iter()
        .map(|r| {
            format!(
                "{} => {} : {} {} ({}: {})\n",
                connlist_name(&r.src),
                connlist_name(&r.dst),
                r.protocol,
                r.port,
                r.rule,
                r.evidence
            )
        })
        .collect()
}
