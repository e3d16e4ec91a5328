//! Per-namespace baseline: a default-deny policy and an allow-DNS policy, so that every pod is
//! isolated and still resolves names.
//!
//! Names are `netfence-default-deny` and `netfence-allow-dns`; when a different policy already
//! uses the name in that namespace, `-2`, `-3`… is appended. A namespace that already has an
//! equivalent policy gets no second one.

use super::dns::{self, DnsRule};
use super::{generated, Generated};
use crate::config::{Config, PolicyType};
use crate::model::{policy, Model};
use k8s_openapi::api::networking::v1::NetworkPolicySpec;
use serde_json::json;

/// Base name of the generated default-deny policy.
pub const DEFAULT_DENY: &str = "netfence-default-deny";
/// Base name of the generated allow-DNS policy.
pub const ALLOW_DNS: &str = "netfence-allow-dns";

/// Whether `spec` denies everything in direction `t` for the whole namespace: it selects every
/// pod, isolates that direction and has no rule for it.
fn denies_all(spec: &NetworkPolicySpec, t: PolicyType) -> bool {
    let (ingress, egress) = policy::effective_types(spec);
    policy::selects_whole_namespace(spec)
        && match t {
            PolicyType::Ingress => ingress && spec.ingress.as_ref().is_none_or(|r| r.is_empty()),
            PolicyType::Egress => egress && spec.egress.as_ref().is_none_or(|r| r.is_empty()),
        }
}

/// Generates the missing baseline policies of every managed namespace, in namespace order.
pub fn generate(model: &Model, config: &Config, dns_rule: Option<&DnsRule>) -> Vec<Generated> {
    let cfg = &config.default_deny;
    if !cfg.enabled {
        return Vec::new();
    }
    let mut out: Vec<Generated> = Vec::new();
    let namespaces: Vec<String> = model
        .namespace_names()
        .filter(|ns| !cfg.exclude_namespaces.iter().any(|e| e == ns))
        .map(str::to_string)
        .collect();
    for ns in namespaces {
        let in_ns: Vec<&NetworkPolicySpec> =
            model.policies.iter().filter(|p| p.namespace == ns).map(|p| &p.spec).collect();
        let mut types: Vec<PolicyType> = cfg.policy_types.clone();
        types.sort();
        types.dedup();
        // Directions some namespace-wide deny-all policy already covers need no new policy.
        types.retain(|t| !in_ns.iter().any(|spec| denies_all(spec, *t)));
        let taken: Vec<(String, String)> = out.iter().map(|g| (g.namespace.clone(), g.name.clone())).collect();
        if !types.is_empty() {
            let spec = json!({
                "podSelector": {},
                "policyTypes": types.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            });
            out.push(generated(model, &taken, &ns, DEFAULT_DENY, spec));
        }
        if let Some(rule) = dns_rule {
            if cfg.policy_types.contains(&PolicyType::Egress) && !dns::has_baseline(model, &out, rule, &ns) {
                let taken: Vec<(String, String)> = out.iter().map(|g| (g.namespace.clone(), g.name.clone())).collect();
                let spec = json!({
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [rule.to_value()],
                });
                out.push(generated(model, &taken, &ns, ALLOW_DNS, spec));
            }
        }
    }
    out
}
