//! Internet egress for chosen pods: `0.0.0.0/0` (and `::/0` when asked) minus the private and
//! link-local ranges ([`crate::k8s::ranges`]), on HTTPS by default — seed 1's "External Access
//! Control".

use super::groups::Groups;
use super::plan::Plan;
use super::sides::resolve;
use crate::config::Config;
use crate::error::Result;
use crate::k8s::ranges::{ANY_V4, ANY_V6};
use crate::model::Model;
use k8s_openapi::api::networking::v1::{IPBlock, NetworkPolicyEgressRule, NetworkPolicyPeer};

/// Name prefix of the generated policies.
pub const PREFIX: &str = "netfence-external-egress";

/// An egress rule per `externalEgress` entry, one policy per pod set.
pub fn plan(model: &Model, config: &Config) -> Result<Plan> {
    let mut groups = Groups::default();
    for (i, entry) in config.external_egress.iter().enumerate() {
        let path = format!("netfence.externalEgress[{i}]");
        let (v4, v6) = entry.except_ranges(&path)?;
        let block = |cidr: &str, except: &[ipnet::IpNet]| NetworkPolicyPeer {
            ip_block: Some(IPBlock { cidr: cidr.into(), except: Some(except.iter().map(|n| n.to_string()).collect()) }),
            ..Default::default()
        };
        let mut to = vec![block(ANY_V4, &v4)];
        if entry.ipv6 {
            to.push(block(ANY_V6, &v6));
        }
        let rule = NetworkPolicyEgressRule { to: Some(to), ports: Some(entry.ports.clone()) };
        for pods in resolve(&entry.side(), model, config, &path, true)? {
            let reason =
                format!("externalEgress[{i}]: {} may reach addresses outside the private ranges", pods.describe());
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
    fn internet_minus_private_ranges() {
        let m = model("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n");
        let c = config("externalEgress: [{namespace: shop, podSelector: {matchLabels: {app: web}}, ipv6: true}]");
        let p = plan(&m, &c).unwrap();
        assert_eq!(p.policies.len(), 1);
        assert_eq!(p.policies[0].base_name, "netfence-external-egress-web");
        let to = p.policies[0].spec.egress.as_ref().unwrap()[0].to.clone().unwrap();
        let v4 = to[0].ip_block.as_ref().unwrap();
        assert_eq!((v4.cidr.as_str(), v4.except.as_ref().unwrap().len()), ("0.0.0.0/0", 4));
        assert_eq!(to[1].ip_block.as_ref().unwrap().except, Some(vec!["fc00::/7".into(), "fe80::/10".into()]));
    }
}
