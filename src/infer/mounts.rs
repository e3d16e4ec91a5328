//! The files a container mounts from ConfigMaps and Secrets: `volumes[].configMap`,
//! `volumes[].secret`, `volumes[].projected.sources[].{configMap,secret}`, each with its `items`
//! key selection, and only the volumes the container's `volumeMounts` name (a `subPath` narrows
//! the mount to one file or directory of the volume).

use super::index::Index;
use serde_json::Value;

/// A key of a ConfigMap or Secret of the render, seen as a file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MountedFile {
    /// `configmap` or `secret` (the keys of [`Index::data`]).
    pub kind: &'static str,
    /// The namespace (the pod's: volumes name objects of their own namespace).
    pub namespace: String,
    /// The ConfigMap's or Secret's name.
    pub name: String,
    /// The key.
    pub key: String,
}

/// The files container `c` of the pod `spec` (in `namespace`) mounts from ConfigMaps and Secrets
/// of the render, each with the `mountPath` it is mounted under, in `volumeMounts` order.
pub fn files(ix: &Index, namespace: &str, spec: &Value, c: &Value) -> Vec<(MountedFile, String)> {
    let volumes = spec.get("volumes").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut out = Vec::new();
    for m in c.get("volumeMounts").and_then(Value::as_array).into_iter().flatten() {
        let (Some(name), Some(at)) =
            (m.get("name").and_then(Value::as_str), m.get("mountPath").and_then(Value::as_str))
        else {
            continue;
        };
        let Some(volume) = volumes.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(name)) else {
            continue;
        };
        let sub_path = m.get("subPath").and_then(Value::as_str).filter(|p| !p.is_empty());
        for (kind, source, name_field) in sources(volume) {
            let Some(object) = source.get(name_field).and_then(Value::as_str) else { continue };
            let Some(data) = ix.data.get(&(kind, namespace.to_string(), object.to_string())) else { continue };
            // `items` projects the keys it lists (to the paths it gives); without it, every key
            // is a file of its own name.
            let projected: Vec<(&str, &str)> = match source.get("items").and_then(Value::as_array) {
                Some(items) => items
                    .iter()
                    .filter_map(|i| Some((i.get("key")?.as_str()?, i.get("path")?.as_str()?)))
                    .filter(|(key, _)| data.contains_key(*key))
                    .collect(),
                None => data.keys().map(|k| (k.as_str(), k.as_str())).collect(),
            };
            for (key, path) in projected {
                let path = path.trim_start_matches("./");
                let mounted = sub_path.is_none_or(|sub| {
                    let sub = sub.trim_end_matches('/');
                    path == sub || path.strip_prefix(sub).is_some_and(|rest| rest.starts_with('/'))
                });
                if mounted {
                    let file = MountedFile {
                        kind,
                        namespace: namespace.to_string(),
                        name: object.to_string(),
                        key: key.to_string(),
                    };
                    out.push((file, at.to_string()));
                }
            }
        }
    }
    out
}

/// The ConfigMap and Secret sources of one volume, each with the field naming its object: the
/// volume itself (`configMap.name`, `secret.secretName`) or a `projected` volume's sources
/// (`configMap.name`, `secret.name`).
fn sources(volume: &Value) -> Vec<(&'static str, &Value, &'static str)> {
    let mut out = Vec::new();
    for (field, kind, name) in [("configMap", "configmap", "name"), ("secret", "secret", "secretName")] {
        if let Some(source) = volume.get(field).filter(|s| s.is_object()) {
            out.push((kind, source, name));
        }
    }
    let projected = volume.get("projected").and_then(|p| p.get("sources")).and_then(Value::as_array);
    for s in projected.into_iter().flatten() {
        for (field, kind) in [("configMap", "configmap"), ("secret", "secret")] {
            if let Some(source) = s.get(field).filter(|s| s.is_object()) {
                out.push((kind, source, "name"));
            }
        }
    }
    out
}
