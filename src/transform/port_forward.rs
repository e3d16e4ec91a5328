//! The relaxed port-forward allowance (seed 2's PoC policy): ingress to every pod of chosen
//! namespaces from node/host CIDRs and, optionally, from kube-system. Off by default; the
//! generated policies carry the label `netfence.dev/relaxed: "true"` so they are easy to find.

use super::{generated, Generated};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::k8s::selector::namespace_selector;
use crate::k8s::KUBE_SYSTEM;
use crate::model::Model;
use serde_json::json;

/// Base name of the generated policies.
pub const PORT_FORWARD: &str = "netfence-port-forward";

/// One ingress policy per chosen namespace.
pub fn generate(model: &Model, config: &Config, taken: &mut Vec<(String, String)>) -> Result<Vec<Generated>> {
    let pf = &config.port_forward;
    if !pf.enabled {
        return Ok(vec![]);
    }
    let mut from: Vec<_> = pf.cidrs.iter().map(|c| json!({"ipBlock": {"cidr": c}})).collect();
    if pf.from_kube_system {
        from.push(json!({"namespaceSelector": namespace_selector(KUBE_SYSTEM)}));
    }
    let mut namespaces = Vec::new();
    for (i, ns) in pf.namespaces.iter().enumerate() {
        if ns == "*" {
            namespaces.extend(super::sides::managed_namespaces(model, config));
        } else if model.namespaces.contains_key(ns) {
            namespaces.push(ns.clone());
        } else {
            return Err(Error::config(
                format!("networkPolicy.portForward.namespaces[{i}]"),
                format!("unknown namespace {ns:?}"),
            ));
        }
    }
    namespaces.sort();
    namespaces.dedup();
    let mut out = Vec::new();
    for ns in namespaces {
        let spec = json!({"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": from}]});
        let mut p = generated(model, taken, &ns, PORT_FORWARD, spec);
        p.value["metadata"]["labels"]["netfence.dev/relaxed"] = json!("true");
        p.value["metadata"]["annotations"] = json!({"netfence.dev/note": "relaxed: allows kubectl port-forward and host-network traffic (networkPolicy.portForward)"});
        taken.push((p.namespace.clone(), p.name.clone()));
        out.push(p);
    }
    Ok(out)
}
