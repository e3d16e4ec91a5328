//! Egress to the Kubernetes API server for chosen pods.
//!
//! The API server is not a pod (host network or outside the cluster), so no selector can match
//! it: the rule names its addresses as CIDRs (`kubectl get endpoints kubernetes -n default`).

use super::groups::Groups;
use super::plan::Plan;
use super::sides::resolve;
use crate::config::platform::tcp;
use crate::config::Config;
use crate::error::Result;
use crate::k8s::API_SERVER_PORTS;
use crate::model::Model;
use k8s_openapi::api::networking::v1::{IPBlock, NetworkPolicyEgressRule, NetworkPolicyPeer};

/// Name prefix of the generated policies.
pub const PREFIX: &str = "netfence-kube-api";

/// The API egress rule for every `kubeApi.from` entry, one policy per pod set.
pub fn plan(model: &Model, config: &Config) -> Result<Plan> {
    let api = &config.kube_api;
    let mut groups = Groups::default();
    // (Config validation guarantees `cidrs` when `from` is set.)
    let ports = if api.ports.is_empty() { API_SERVER_PORTS.map(tcp).to_vec() } else { api.ports.clone() };
    let to = api
        .cidrs
        .iter()
        .map(|c| NetworkPolicyPeer { ip_block: Some(IPBlock { cidr: c.clone(), except: None }), ..Default::default() })
        .collect();
    let rule = NetworkPolicyEgressRule { to: Some(to), ports: Some(ports) };
    for (i, side) in api.from.iter().enumerate() {
        for pods in resolve(side, model, config, &format!("netfence.kubeApi.from[{i}]"), true)? {
            let reason = format!("kubeApi.from[{i}]: {} may reach the Kubernetes API server", pods.describe());
            groups.egress(&pods, rule.clone(), &reason);
        }
    }
    Ok(Plan::of_policies(groups.into_policies(PREFIX)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::testing::{config, model};

    #[test]
    fn api_server_cidrs_on_its_ports() {
        let m = model("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ops}\n");
        let c =
            config("kubeApi: {cidrs: [10.0.0.1/32], from: [{namespace: ops, podSelector: {matchLabels: {app: op}}}]}");
        let p = plan(&m, &c).unwrap();
        let rule = &p.policies[0].spec.egress.as_ref().unwrap()[0];
        assert_eq!(rule.ports.as_ref().unwrap().len(), 2);
        assert_eq!(rule.to.as_ref().unwrap()[0].ip_block.as_ref().unwrap().cidr, "10.0.0.1/32");
        assert!(plan(&m, &Config::default()).unwrap().policies.is_empty());
    }
}
