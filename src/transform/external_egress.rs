//! Internet egress for chosen pods: `0.0.0.0/0` (and `::/0` when asked) minus private and
//! link-local ranges, on HTTPS by default — seed 1's "External Access Control".

use super::groups::Groups;
use super::sides::resolve;
use crate::config::Config;
use crate::error::Result;
use crate::k8s::ranges::{ANY_V4, ANY_V6};
use crate::model::Model;
use serde_json::json;

/// Adds an egress rule per `externalEgress` entry to `groups`.
pub fn collect(model: &Model, config: &Config, groups: &mut Groups) -> Result<()> {
    for (i, entry) in config.external_egress.iter().enumerate() {
        let path = format!("networkPolicy.externalEgress[{i}]");
        let (v4, v6) = entry.except_ranges(&path)?;
        let mut to =
            vec![json!({"ipBlock": {"cidr": ANY_V4, "except": v4.iter().map(|n| n.to_string()).collect::<Vec<_>>()}})];
        if entry.ipv6 {
            to.push(
                json!({"ipBlock": {"cidr": ANY_V6, "except": v6.iter().map(|n| n.to_string()).collect::<Vec<_>>()}}),
            );
        }
        let rule = json!({"to": to, "ports": entry.ports});
        for pods in resolve(&entry.side(), model, config, &path, true)? {
            groups.egress(&pods, rule.clone());
        }
    }
    Ok(())
}
