//! The namespace policy matrix: each `allow` edge becomes an egress rule on the clients' side and
//! an ingress rule on the servers' side, so it works with default-deny in both namespaces.

use super::groups::Groups;
use super::sides::{resolve, Pods};
use crate::config::Config;
use crate::error::Result;
use crate::model::Model;
use k8s_openapi::api::networking::v1::{NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPort};
use serde_json::Value;

/// Adds both halves of every edge to `groups`.
pub fn collect(model: &Model, config: &Config, groups: &mut Groups) -> Result<()> {
    for (i, edge) in config.allow.iter().enumerate() {
        let path = format!("networkPolicy.allow[{i}]");
        let from = resolve(&edge.from, model, config, &format!("{path}.from"), false)?;
        let to = resolve(&edge.to, model, config, &format!("{path}.to"), false)?;
        for server in &to {
            let ports = ports_for(edge.ports.as_ref(), server);
            for client in &from {
                groups.egress(client, egress_rule(server, &ports));
                groups.ingress(server, ingress_rule(client, &ports));
            }
        }
    }
    Ok(())
}

/// The edge's ports: as configured, else the server workload's container ports, else all.
fn ports_for(configured: Option<&Vec<NetworkPolicyPort>>, server: &Pods) -> Option<Vec<NetworkPolicyPort>> {
    match configured {
        Some(p) if !p.is_empty() => Some(p.clone()),
        Some(_) => None,
        None => (!server.ports.is_empty()).then(|| server.ports.clone()),
    }
}

fn egress_rule(server: &Pods, ports: &Option<Vec<NetworkPolicyPort>>) -> Value {
    let rule = NetworkPolicyEgressRule { to: Some(vec![server.peer()]), ports: ports.clone() };
    serde_json::to_value(rule).unwrap_or_default()
}

fn ingress_rule(client: &Pods, ports: &Option<Vec<NetworkPolicyPort>>) -> Value {
    let rule = NetworkPolicyIngressRule { from: Some(vec![client.peer()]), ports: ports.clone() };
    serde_json::to_value(rule).unwrap_or_default()
}
