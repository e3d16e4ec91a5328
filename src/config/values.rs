//! Helm-style values files: read, merged with Helm's rules, and netfence's settings taken.
//!
//! netfence's own settings live in the top-level `netfence:` block ([`KEY`]). Of the chart's
//! `networkPolicy:` block ([`CHART_KEY`]) netfence reads only `egress`, the rules to merge into
//! the chart's egress-restricting policies (seed 1's convention, cert-manager's key); every other
//! key there (`enabled`, Bitnami's `allowExternal`, `allowExternalEgress`, `extraEgress`,
//! `extraIngress`, …) belongs to the chart and is never read, so passing the chart's values file
//! to netfence too is safe. Values files written for netfence before the `netfence:` block
//! existed, with netfence's keys ([`LEGACY_KEYS`]) under `networkPolicy:`, keep working: those
//! keys are read as if they were in `netfence:` (which wins where both set one), with one notice.

use super::Config;
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::path::Path;

/// Key of netfence's block in a values file.
pub const KEY: &str = super::PREFIX;

/// Key of the chart's own NetworkPolicy settings; netfence reads only its `egress`.
pub const CHART_KEY: &str = "networkPolicy";

/// netfence's keys that older values files put under `networkPolicy:`; read from there with a
/// notice. (`enabled` and `egress` are not among them: under `networkPolicy:` they are the
/// chart's.)
pub const LEGACY_KEYS: &[&str] =
    &["dns", "defaultDeny", "allow", "externalEgress", "kubeApi", "portForward", "workloadPolicies", "infer"];

/// Loads the configuration from values files, merged in order (later wins).
pub fn load(files: &[impl AsRef<Path>]) -> Result<Config> {
    let mut merged = Value::Object(Map::new());
    for file in files {
        let file = file.as_ref();
        let text = std::fs::read(file)
            .map_err(|source| Error::Io { what: format!("values file {}", file.display()), source })?;
        let value = crate::stream::parse_value(&text, crate::stream::Format::Yaml).map_err(|(line, message)| {
            let at = line.map(|l| format!(":{l}")).unwrap_or_default();
            Error::config(format!("{}{at}", file.display()), message)
        })?;
        match value {
            Value::Null => {}
            Value::Object(_) => merge(&mut merged, value),
            _ => return Err(Error::config(file.display().to_string(), "a values file must be a mapping")),
        }
    }
    from_values(&merged)
}

/// The configuration in merged values (see the module docs for what is read from where).
pub fn from_values(values: &Value) -> Result<Config> {
    let own = match values.get(KEY) {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Err(Error::config(KEY, "must be a mapping")),
    };
    let chart = values.get(CHART_KEY).and_then(Value::as_object);
    let legacy: Map<String, Value> = chart
        .into_iter()
        .flatten()
        .filter(|(k, _)| LEGACY_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut block = Value::Object(Map::new());
    if !legacy.is_empty() {
        // Checked on their own first, so that an error names the key where it was written (and
        // comes alone, without the notice).
        Config::from_value(Value::Object(legacy.clone()), CHART_KEY)?;
        let keys: Vec<&str> = legacy.keys().map(String::as_str).collect();
        tracing::warn!(
            "{CHART_KEY}.{{{}}}: netfence's settings belong in the `{KEY}:` block of the values (read from \
             `{CHART_KEY}:` for now; the chart's `{CHART_KEY}` keys are never read, except `egress`)",
            keys.join(", ")
        );
        block = Value::Object(legacy);
    }
    merge(&mut block, own);
    let mut config = Config::from_value(block, KEY)?;
    if let Some(rules) = chart.and_then(|c| c.get("egress")) {
        let only_egress = serde_json::json!({ "egress": rules });
        config.chart_egress = Config::from_value(only_egress, CHART_KEY)?.egress;
    }
    Ok(config)
}

/// Merges `overlay` into `base` as Helm merges values files: mappings are merged key by key,
/// anything else (lists included) is replaced, and `null` deletes the key.
pub fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                if value.is_null() {
                    base.remove(&key);
                } else if let Some(existing) = base.get_mut(&key).filter(|e| e.is_object() && value.is_object()) {
                    merge(existing, value);
                } else {
                    base.insert(key, value);
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(yaml: &str) -> Result<Config> {
        from_values(&crate::stream::parse_value(yaml.as_bytes(), crate::stream::Format::Yaml).unwrap())
    }

    #[test]
    fn the_netfence_block_and_only_the_charts_egress() {
        // Bitnami's block: `enabled: false` and its own keys do not concern netfence.
        let c = config(
            "networkPolicy:\n  enabled: false\n  allowExternal: true\n  allowExternalEgress: true\n  \
             extraEgress: [{ports: [{port: 1}]}]\n  egress: [{ports: [{port: 5432}]}]\n\
             netfence:\n  dns: {profile: openshift}\n",
        )
        .unwrap();
        assert!(c.enabled);
        assert_eq!((c.egress.len(), c.chart_egress.len()), (0, 1));
        assert_eq!(c.dns.profile, crate::config::DnsProfile::Openshift);
        // The netfence block is strict, and names itself.
        let e = config("netfence:\n  egres: []\n").unwrap_err().to_string();
        assert!(e.starts_with("netfence.egres: unknown field `egres`"), "{e}");
        assert!(!config("netfence: {enabled: false}\n").unwrap().enabled);
        // netfence's keys under networkPolicy keep working; the netfence block wins.
        let c = config(
            "networkPolicy:\n  dns: {profile: openshift}\n  defaultDeny: {enabled: false}\n\
             netfence:\n  dns: {enabled: false}\n",
        )
        .unwrap();
        assert_eq!(
            (c.dns.profile, c.dns.enabled, c.default_deny.enabled),
            (crate::config::DnsProfile::Openshift, false, false)
        );
        let e = config("networkPolicy:\n  dns: {profil: x}\n").unwrap_err().to_string();
        assert!(e.starts_with("networkPolicy.dns.profil: unknown field"), "{e}");
        let e = config("networkPolicy:\n  egress: [{ports: [{port: 0}]}]\n").unwrap_err().to_string();
        assert!(e.starts_with("networkPolicy.egress[0].ports[0].port"), "{e}");
    }

    #[test]
    fn helm_merge_rules() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2]}, "d": 1, "e": 2});
        merge(&mut base, json!({"a": {"c": [3], "x": true}, "d": null, "e": {"f": 1}}));
        assert_eq!(base, json!({"a": {"b": 1, "c": [3], "x": true}, "e": {"f": 1}}));
    }
}
