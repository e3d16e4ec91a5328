//! Helm-style values files: read, merged with Helm's rules, and the `networkPolicy` key taken.

use super::Config;
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::path::Path;

/// Key of the netfence block in a values file.
pub const KEY: &str = "networkPolicy";

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
    let block = merged.get(KEY).cloned().unwrap_or(Value::Null);
    Config::from_value(block, KEY)
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

    #[test]
    fn helm_merge_rules() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2]}, "d": 1, "e": 2});
        merge(&mut base, json!({"a": {"c": [3], "x": true}, "d": null, "e": {"f": 1}}));
        assert_eq!(base, json!({"a": {"b": 1, "c": [3], "x": true}, "e": {"f": 1}}));
    }
}
