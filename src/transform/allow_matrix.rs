//! The namespace policy matrix: each `allow` edge becomes an egress rule on the clients' side and
//! an ingress rule on the servers' side, so it works with default-deny in both namespaces.

use super::groups::Groups;
use super::plan::Plan;
use super::sides::{resolve, Pods};
use crate::config::Config;
use crate::error::Result;
use crate::model::Model;
use k8s_openapi::api::networking::v1::{NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPort};

/// Name prefix of the generated policies (`netfence-allow-<pods>`).
pub const PREFIX: &str = "netfence-allow";

/// Both halves of every edge, one policy per pod set.
pub fn plan(model: &Model, config: &Config) -> Result<Plan> {
    let mut groups = Groups::default();
    for (i, edge) in config.allow.iter().enumerate() {
        let path = format!("netfence.allow[{i}]");
        let from = resolve(&edge.from, model, config, &format!("{path}.from"), false)?;
        let to = resolve(&edge.to, model, config, &format!("{path}.to"), false)?;
        for server in &to {
            let ports = ports_for(edge.ports.as_ref(), server);
            for client in &from {
                let reason = format!("allow[{i}]: {} may connect to {}", client.describe(), server.describe());
                groups.egress(
                    client,
                    NetworkPolicyEgressRule { to: Some(vec![server.peer()]), ports: ports.clone() },
                    &reason,
                );
                groups.ingress(
                    server,
                    NetworkPolicyIngressRule { from: Some(vec![client.peer()]), ports: ports.clone() },
                    &reason,
                );
            }
        }
    }
    Ok(Plan::of_policies(groups.into_policies(PREFIX)))
}

/// The edge's ports: as configured, else the server workload's container ports, else all.
fn ports_for(configured: Option<&Vec<NetworkPolicyPort>>, server: &Pods) -> Option<Vec<NetworkPolicyPort>> {
    match configured {
        Some(p) if !p.is_empty() => Some(p.clone()),
        Some(_) => None,
        None => (!server.ports.is_empty()).then(|| server.ports.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::testing::{config, model};

    #[test]
    fn an_edge_opens_both_sides() {
        let m = model("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n");
        let c = config("allow: [{from: {namespace: a}, to: {namespace: b, podSelector: {matchLabels: {app: db}}}, ports: [{port: 5432}]}]");
        let p = plan(&m, &c).unwrap();
        let names: Vec<(&str, &str)> =
            p.policies.iter().map(|p| (p.namespace.as_str(), p.base_name.as_str())).collect();
        assert_eq!(names, [("a", "netfence-allow"), ("b", "netfence-allow-db")]);
        assert!(p.policies[0].spec.egress.is_some() && p.policies[0].spec.ingress.is_none());
        assert!(p.policies[1].spec.ingress.is_some() && p.policies[1].spec.egress.is_none());
        assert_eq!(p.policies[0].reasons, ["allow[0]: namespace a may connect to pods app=db in b"]);
        // An unknown namespace is a configuration error naming the field.
        let bad = config("allow: [{from: {namespace: a}, to: {namespace: nope}}]");
        assert_eq!(plan(&m, &bad).unwrap_err().to_string().split(':').next(), Some("netfence.allow[0].to.namespace"));
    }
}
