//! Extra egress rules from `networkPolicy.egress` (and Bitnami's `extraEgress`), appended once to
//! every policy that restricts egress of specific pods.
//!
//! Policies that select a whole namespace (a default-deny, an allow-DNS baseline) are left alone:
//! appending a service's dependencies there would open them to every pod of the namespace.

use crate::config::Config;
use crate::model::{policy, Model};
use serde_json::Value;

/// Appends each configured rule to each target policy that does not already hold an equal rule.
pub fn apply(model: &mut Model, config: &Config) {
    let rules: Vec<_> = config.extra_rules().collect();
    if rules.is_empty() {
        return;
    }
    let mut targets = 0;
    for p in &mut model.policies {
        if p.managed || !policy::restricts_egress(&p.spec) || policy::selects_whole_namespace(&p.spec) {
            continue;
        }
        targets += 1;
        let missing: Vec<Value> = rules
            .iter()
            .filter(|r| !p.spec.egress.iter().flatten().any(|existing| existing == **r))
            .map(|r| super::tidy(serde_json::to_value(r).unwrap_or_default()))
            .collect();
        if missing.is_empty() {
            continue;
        }
        tracing::debug!(namespace = %p.namespace, policy = %p.name, rules = missing.len(), "merging extra egress rules");
        let spec = p.spec_mut();
        let egress = spec.entry("egress").or_insert_with(|| Value::Array(vec![]));
        if !egress.is_array() {
            *egress = Value::Array(vec![]);
        }
        egress.as_array_mut().expect("just made an array").extend(missing);
        p.refresh();
    }
    if targets == 0 {
        tracing::warn!(
            "networkPolicy.egress: no policy restricts egress of specific pods, so the extra rules were not used"
        );
    }
}
