//! The relaxed port-forward allowance (seed 2's PoC policy): ingress to every pod of chosen
//! namespaces from node/host CIDRs and, optionally, from kube-system. Off by default; the
//! generated policies carry the label `netfence.dev/relaxed: "true"` so they are easy to find.

use super::plan::{NewPolicy, Plan};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::k8s::selector::namespace_selector;
use crate::k8s::KUBE_SYSTEM;
use crate::model::Model;
use k8s_openapi::api::networking::v1::{IPBlock, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicySpec};

/// Base name of the generated policies.
pub const PORT_FORWARD: &str = "netfence-port-forward";

/// One ingress policy per chosen namespace.
pub fn plan(model: &Model, config: &Config) -> Result<Plan> {
    let pf = &config.port_forward;
    if !pf.enabled {
        return Ok(Plan::default());
    }
    let mut from: Vec<NetworkPolicyPeer> = pf
        .cidrs
        .iter()
        .map(|c| NetworkPolicyPeer { ip_block: Some(IPBlock { cidr: c.clone(), except: None }), ..Default::default() })
        .collect();
    if pf.from_kube_system {
        from.push(NetworkPolicyPeer {
            namespace_selector: Some(namespace_selector(KUBE_SYSTEM)),
            ..Default::default()
        });
    }
    let mut namespaces = Vec::new();
    for (i, ns) in pf.namespaces.iter().enumerate() {
        if ns == "*" {
            namespaces.extend(super::sides::managed_namespaces(model, config));
        } else if model.namespaces.contains_key(ns) {
            namespaces.push(ns.clone());
        } else {
            return Err(Error::config(
                format!("netfence.portForward.namespaces[{i}]"),
                format!("unknown namespace {ns:?}"),
            ));
        }
    }
    namespaces.sort();
    namespaces.dedup();
    let policies = namespaces
        .into_iter()
        .map(|ns| {
            let spec = NetworkPolicySpec {
                pod_selector: Some(Default::default()),
                policy_types: Some(vec!["Ingress".into()]),
                ingress: Some(vec![NetworkPolicyIngressRule { from: Some(from.clone()), ports: None }]),
                egress: None,
            };
            let reason = "portForward: kubectl port-forward and host-network traffic may reach every pod (relaxed)";
            let mut p = NewPolicy::new(&ns, PORT_FORWARD, spec, reason.into());
            p.labels.push(("netfence.dev/relaxed".into(), "true".into()));
            p.annotations.push((
                "netfence.dev/note".into(),
                "relaxed: allows kubectl port-forward and host-network traffic (netfence.portForward)".into(),
            ));
            p
        })
        .collect();
    Ok(Plan::of_policies(policies))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::testing::{config, model};

    #[test]
    fn one_relaxed_policy_per_namespace() {
        let m = model("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: kube-system}\n");
        let p = plan(&m, &config("portForward: {enabled: true, cidrs: [10.0.0.0/24]}")).unwrap();
        assert_eq!(p.policies.len(), 1, "kube-system is not managed");
        assert_eq!(p.policies[0].labels, [("netfence.dev/relaxed".to_string(), "true".to_string())]);
        let from = p.policies[0].spec.ingress.as_ref().unwrap()[0].from.clone().unwrap();
        assert_eq!(from.len(), 2);
        let bad = config("portForward: {enabled: true, namespaces: [nope]}");
        assert!(plan(&m, &bad).unwrap_err().to_string().contains("unknown namespace"));
    }
}
