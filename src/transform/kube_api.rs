//! Egress to the Kubernetes API server for chosen pods.
//!
//! The API server is not a pod (host network or outside the cluster), so no selector can match
//! it: the rule names its addresses as CIDRs (`kubectl get endpoints kubernetes -n default`).

use super::groups::Groups;
use super::sides::resolve;
use crate::config::platform::tcp;
use crate::config::Config;
use crate::error::Result;
use crate::k8s::API_SERVER_PORTS;
use crate::model::Model;
use serde_json::json;

/// Adds the API egress rule for every `kubeApi.from` entry to `groups`.
pub fn collect(model: &Model, config: &Config, groups: &mut Groups) -> Result<()> {
    let api = &config.kube_api;
    if api.from.is_empty() {
        return Ok(());
    }
    // (Config validation guarantees `cidrs` when `from` is set.)
    let ports = if api.ports.is_empty() { API_SERVER_PORTS.map(tcp).to_vec() } else { api.ports.clone() };
    let to: Vec<_> = api.cidrs.iter().map(|c| json!({"ipBlock": {"cidr": c}})).collect();
    let rule = json!({"to": to, "ports": ports});
    for (i, side) in api.from.iter().enumerate() {
        for pods in resolve(side, model, config, &format!("networkPolicy.kubeApi.from[{i}]"), true)? {
            groups.egress(&pods, rule.clone());
        }
    }
    Ok(())
}
