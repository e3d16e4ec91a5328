//! Internet egress for chosen pods: `0.0.0.0/0` (and `::/0` when asked) minus private and
//! link-local ranges, on HTTPS by default — seed 1's "External Access Control".

use super::groups::Groups;
use super::sides::resolve;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::Model;
use ipnet::IpNet;
use serde_json::json;

/// IPv6 ranges closed by default: unique-local and link-local.
const V6_PRIVATE: [&str; 2] = ["fc00::/7", "fe80::/10"];

/// Adds an egress rule per `externalEgress` entry to `groups`.
pub fn collect(model: &Model, config: &Config, groups: &mut Groups) -> Result<()> {
    for (i, entry) in config.external_egress.iter().enumerate() {
        let path = format!("networkPolicy.externalEgress[{i}]");
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for (j, text) in entry.except.iter().enumerate() {
            let net: IpNet = text.parse().map_err(|_| Error::config(format!("{path}.except[{j}]"), "invalid CIDR"))?;
            match net {
                IpNet::V4(_) => v4.push(net),
                IpNet::V6(_) if entry.ipv6 => v6.push(net),
                IpNet::V6(_) => {
                    return Err(Error::config(
                        format!("{path}.except[{j}]"),
                        format!("{text} is IPv6 but `ipv6` is not enabled"),
                    ))
                }
            }
        }
        if entry.ipv6 && v6.is_empty() {
            v6 = V6_PRIVATE.iter().map(|c| c.parse().expect("valid constant")).collect();
        }
        for nets in [&v4, &v6] {
            for (a, x) in nets.iter().enumerate() {
                if let Some(y) = nets.iter().enumerate().find(|(b, y)| *b != a && y.contains(x)).map(|(_, y)| y) {
                    return Err(Error::config(
                        format!("{path}.except"),
                        format!("{x} overlaps {y}; list each range once"),
                    ));
                }
            }
        }
        let mut to = vec![
            json!({"ipBlock": {"cidr": "0.0.0.0/0", "except": v4.iter().map(|n| n.to_string()).collect::<Vec<_>>()}}),
        ];
        if entry.ipv6 {
            to.push(
                json!({"ipBlock": {"cidr": "::/0", "except": v6.iter().map(|n| n.to_string()).collect::<Vec<_>>()}}),
            );
        }
        let rule = json!({"to": to, "ports": entry.ports});
        for pods in resolve(&entry.side(), model, config, &path, true)? {
            groups.egress(&pods, rule.clone());
        }
    }
    Ok(())
}
