//! The function's configuration, in the three shapes KRM runners hand over:
//!
//! - typed: `apiVersion: netfence.dev/v1alpha1`, `kind: NetFence`, with `spec` holding the fields
//!   of the values' `netfence` block plus `namespace` (the namespace of items without one);
//! - a `ConfigMap` whose `data` holds the flat keys of [`CONFIGMAP_KEYS`] (what
//!   `kpt fn eval --exec netfence -- key=value` and a Kptfile's `configMap:` produce);
//! - none (absent, `null` or `{}`): the defaults.
//!
//! Validation is as strict as for values files; errors name the offending field of the function
//! config (`spec.egress[0].ports[0].port`, `data.dnsProfile`).

use crate::config::Config;
use crate::error::{Error, Result};
use schemars::JsonSchema;
use serde_json::{Map, Value};

/// `apiVersion` of the typed function config.
pub const API_VERSION: &str = "netfence.dev/v1alpha1";
/// `kind` of the typed function config.
pub const KIND: &str = "NetFence";

/// What a function config says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionConfig {
    /// The `netfence` block.
    pub config: Config,
    /// The namespace of namespaced items without `metadata.namespace`, when set.
    pub namespace: Option<String>,
    /// The release generated objects are named for, as written (checked by
    /// [`crate::config::release::resolve`]).
    pub release: Option<String>,
    /// Lint the output too (`netfence check`'s rules): the findings join `results`, and an
    /// error finding fails the function.
    pub check: bool,
}

/// The typed function config (also what the legacy exec plugin and `render --config` read).
/// Only used to generate the JSON Schema: parsing goes through [`parse`], which validates
/// `spec` with [`Config::from_value`].
#[derive(Debug, Clone, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "NetFence", description = "netfence function configuration (KRM function, kustomize plugin)")]
pub struct NetFence {
    /// `netfence.dev/v1alpha1`.
    #[schemars(with = "ApiVersion")]
    pub api_version: String,
    /// `NetFence`.
    #[schemars(with = "Kind")]
    pub kind: String,
    /// Object metadata (name, annotations such as `config.kubernetes.io/function`).
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// What to add.
    #[serde(default)]
    pub spec: Option<NetFenceSpec>,
}

/// `spec` of [`NetFence`]: the `netfence` block plus `namespace`.
#[derive(Debug, Clone, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(
    title = "NetFence spec",
    description = "The fields of the `netfence` block of Helm values, plus `namespace`"
)]
pub struct NetFenceSpec {
    /// Namespace of namespaced items without `metadata.namespace` (default: `-n`, else
    /// `$HELM_NAMESPACE`, else `$ARGOCD_APP_NAMESPACE`, else `default`).
    pub namespace: Option<String>,
    /// Release generated objects are named for (`netfence-<release>-default-deny`; default:
    /// `--release`, else `$NETFENCE_RELEASE`, else `$ARGOCD_APP_NAME`, else the input's one
    /// `app.kubernetes.io/instance` label value).
    pub release: Option<String>,
    /// Lint the output with `netfence check`'s rules and report the findings as `results`; an
    /// error finding fails the function (default false).
    pub check: Option<bool>,
    /// The `netfence` block.
    #[serde(flatten)]
    pub config: Config,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
enum ApiVersion {
    #[serde(rename = "netfence.dev/v1alpha1")]
    V1alpha1,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
enum Kind {
    NetFence,
}

/// The JSON Schema of [`NetFence`] (`netfence schema --kind NetFence`).
pub fn json_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(NetFence)).unwrap_or_default()
}

/// A flat `data` key of a ConfigMap function config.
#[derive(Debug, Clone, Copy)]
pub struct FlatKey {
    /// The key under `data`.
    pub key: &'static str,
    /// Where it goes in `spec` (dotted).
    pub target: &'static str,
    /// How its string value is read.
    pub kind: FlatKind,
    /// What it sets, for the docs and error messages.
    pub help: &'static str,
}

/// How a flat value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlatKind {
    /// Taken as it is.
    String,
    /// `true` or `false`.
    Bool,
    /// Comma-separated, blanks trimmed, empty entries dropped.
    List,
    /// YAML or JSON text of a list (rules in Kubernetes shape).
    Yaml,
}

/// The ConfigMap keys, in the order the docs list them.
pub const CONFIGMAP_KEYS: &[FlatKey] = &[
    FlatKey { key: "namespace", target: "namespace", kind: FlatKind::String, help: "namespace of items without one" },
    FlatKey {
        key: "release",
        target: "release",
        kind: FlatKind::String,
        help: "release generated objects are named for (netfence-<release>-default-deny)",
    },
    FlatKey { key: "enabled", target: "enabled", kind: FlatKind::Bool, help: "false: change nothing" },
    FlatKey {
        key: "check",
        target: "check",
        kind: FlatKind::Bool,
        help: "true: lint the output, findings as results (errors fail the function)",
    },
    FlatKey {
        key: "dns",
        target: "dns.enabled",
        kind: FlatKind::Bool,
        help: "false: no DNS rules or allow-DNS policies",
    },
    FlatKey {
        key: "dnsProfile",
        target: "dns.profile",
        kind: FlatKind::String,
        help: "kube-dns, node-local or openshift",
    },
    FlatKey {
        key: "nodeLocalAddress",
        target: "dns.nodeLocalAddress",
        kind: FlatKind::String,
        help: "NodeLocal DNSCache address",
    },
    FlatKey {
        key: "defaultDeny",
        target: "defaultDeny.enabled",
        kind: FlatKind::Bool,
        help: "false: no default-deny or allow-DNS policies",
    },
    FlatKey {
        key: "policyTypes",
        target: "defaultDeny.policyTypes",
        kind: FlatKind::List,
        help: "directions the default-deny isolates, e.g. Ingress,Egress",
    },
    FlatKey {
        key: "excludeNamespaces",
        target: "defaultDeny.excludeNamespaces",
        kind: FlatKind::List,
        help: "namespaces without default-deny, e.g. kube-system,monitoring",
    },
    FlatKey {
        key: "workloadPolicies",
        target: "workloadPolicies.enabled",
        kind: FlatKind::Bool,
        help: "true: a policy for every workload no policy selects",
    },
    FlatKey { key: "egress", target: "egress", kind: FlatKind::Yaml, help: "extra egress rules, as YAML or JSON text" },
];

/// Reads a function config. The error's path is the offending field of the function config.
pub fn parse(function_config: Option<&Value>) -> Result<FunctionConfig> {
    let Some(value) = function_config.filter(|v| !v.is_null() && v.as_object().is_none_or(|m| !m.is_empty())) else {
        return Ok(FunctionConfig::default());
    };
    let map = value.as_object().ok_or_else(|| Error::config("functionConfig", "expected an object"))?;
    let api_version = map.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
    match (api_version, kind) {
        (API_VERSION, KIND) => from_netfence(map),
        ("v1", "ConfigMap") => from_configmap(map),
        (_, KIND) if api_version.starts_with("netfence.dev/") => {
            Err(Error::config("apiVersion", format!("unsupported version {api_version:?}, want {API_VERSION:?}")))
        }
        _ => Err(Error::config(
            "kind",
            format!("unsupported function config {api_version}/{kind}: want {API_VERSION} {KIND} or a v1 ConfigMap"),
        )),
    }
}

/// Reads a typed [`NetFence`] object.
pub fn from_netfence(map: &Map<String, Value>) -> Result<FunctionConfig> {
    for key in map.keys() {
        if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata" | "spec") {
            return Err(Error::config(
                key.clone(),
                "unknown field, expected one of `apiVersion`, `kind`, `metadata`, `spec`",
            ));
        }
    }
    let mut spec = match map.get("spec") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(spec)) => spec.clone(),
        Some(_) => return Err(Error::config("spec", "expected an object")),
    };
    let namespace = match spec.remove("namespace") {
        None | Some(Value::Null) => None,
        Some(Value::String(ns)) => Some(namespace_name(&ns, "spec.namespace")?),
        Some(_) => return Err(Error::config("spec.namespace", "expected a string")),
    };
    let release = match spec.remove("release") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) => Some(release_name(&r, "spec.release")?),
        Some(_) => return Err(Error::config("spec.release", "expected a string")),
    };
    let check = match spec.remove("check") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(check)) => check,
        Some(_) => return Err(Error::config("spec.check", "expected true or false")),
    };
    let config = Config::from_value(Value::Object(spec), "spec")?;
    Ok(FunctionConfig { config, namespace, release, check })
}

/// Checks a release name where the function config sets it (the error names that field).
fn release_name(value: &str, path: &str) -> Result<String> {
    if value.is_empty() {
        return Ok(String::new());
    }
    crate::config::release::normalise(value, path).map(|_| value.to_string())
}

/// Reads a ConfigMap's flat `data` keys.
fn from_configmap(map: &Map<String, Value>) -> Result<FunctionConfig> {
    let data = match map.get("data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(data)) => data.clone(),
        Some(_) => return Err(Error::config("data", "expected an object")),
    };
    let mut spec = Value::Object(Map::new());
    for (key, raw) in &data {
        let path = format!("data.{key}");
        let flat = CONFIGMAP_KEYS.iter().find(|k| k.key == key).ok_or_else(|| {
            let known = CONFIGMAP_KEYS.iter().map(|k| k.key).collect::<Vec<_>>().join(", ");
            Error::config(&path, format!("unknown key, expected one of {known} (or use a {KIND} object)"))
        })?;
        let text = match raw {
            Value::String(s) => s.clone(),
            Value::Bool(_) | Value::Number(_) => raw.to_string(),
            _ => return Err(Error::config(&path, "expected a string")),
        };
        let value = match flat.kind {
            FlatKind::String => Value::String(text.trim().to_string()),
            FlatKind::Bool => match text.trim() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                other => return Err(Error::config(&path, format!("expected true or false, found {other:?}"))),
            },
            FlatKind::List => Value::Array(
                text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.into())).collect(),
            ),
            FlatKind::Yaml => crate::stream::parse_value(text.as_bytes(), crate::stream::Format::Yaml)
                .map_err(|(_, message)| Error::config(&path, format!("invalid YAML: {message}")))?,
        };
        set(&mut spec, flat.target, value);
    }
    let mut spec = match spec {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let namespace = match spec.remove("namespace") {
        Some(Value::String(ns)) if !ns.is_empty() => Some(namespace_name(&ns, "data.namespace")?),
        _ => None,
    };
    let release = match spec.remove("release") {
        Some(Value::String(r)) if !r.is_empty() => Some(release_name(&r, "data.release")?),
        _ => None,
    };
    let check = spec.remove("check").is_some_and(|v| v == Value::Bool(true));
    let config = Config::from_value(Value::Object(spec), "spec").map_err(|e| match e {
        Error::Config { path, message } => {
            // Map `spec.dns.profile…` back to the `data` key that set it.
            let key = CONFIGMAP_KEYS.iter().find(|k| {
                let target = format!("spec.{}", k.target);
                path == target || path.starts_with(&format!("{target}.")) || path.starts_with(&format!("{target}["))
            });
            match key {
                Some(k) => {
                    let rest = &path[format!("spec.{}", k.target).len()..];
                    let message =
                        if rest.is_empty() { message } else { format!("{}: {message}", rest.trim_start_matches('.')) };
                    Error::config(format!("data.{}", k.key), message)
                }
                None => Error::config("data", format!("{path}: {message}")),
            }
        }
        other => other,
    })?;
    Ok(FunctionConfig { config, namespace, release, check })
}

/// Sets `value` at a dotted path of `root`, creating objects on the way.
fn set(root: &mut Value, dotted: &str, value: Value) {
    let mut v = root;
    let parts: Vec<&str> = dotted.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        if !v.get(*part).is_some_and(Value::is_object) {
            v[*part] = Value::Object(Map::new());
        }
        v = &mut v[*part];
    }
    v[parts[parts.len() - 1]] = value;
}

/// Checks a namespace name (an RFC 1123 label, as the API server does).
fn namespace_name(ns: &str, path: &str) -> Result<String> {
    let ok = !ns.is_empty()
        && ns.len() <= 63
        && ns.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !ns.starts_with('-')
        && !ns.ends_with('-');
    if ok {
        Ok(ns.to_string())
    } else {
        Err(Error::config(path, format!("{ns:?} is not a valid namespace name (lowercase RFC 1123 label)")))
    }
}

/// Reads a [`NetFence`] object from a file (`render --config`, the legacy kustomize plugin).
pub fn load_file(path: &std::path::Path) -> Result<FunctionConfig> {
    let text = crate::stream::read::read_file(path, &format!("config file {}", path.display()))?;
    let at = |p: String| format!("{}: {p}", path.display());
    let value = crate::stream::parse_value(&text, crate::stream::Format::Yaml).map_err(|(line, message)| {
        Error::config(format!("{}{}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default()), message)
    })?;
    let mut map = value
        .as_object()
        .ok_or_else(|| Error::config(path.display().to_string(), "expected a NetFence object"))?
        .clone();
    // kustomize's own legacy-plugin fields: it turns them into the plugin's arguments, which
    // the plugin script checks (only `--check` is accepted); they are not netfence settings.
    map.remove("argsOneLiner");
    map.remove("argsFromFile");
    let (api_version, kind) = (map.get("apiVersion").and_then(Value::as_str), map.get("kind").and_then(Value::as_str));
    if (api_version, kind) != (Some(API_VERSION), Some(KIND)) {
        return Err(Error::config(at("kind".into()), format!("expected apiVersion {API_VERSION}, kind {KIND}")));
    }
    from_netfence(&map).map_err(|e| match e {
        Error::Config { path, message } => Error::config(at(path), message),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DnsProfile;
    use serde_json::json;

    fn err_path(v: Value) -> String {
        match parse(Some(&v)).unwrap_err() {
            Error::Config { path, .. } => path,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn none_means_defaults() {
        assert_eq!(parse(None).unwrap(), FunctionConfig::default());
        assert_eq!(parse(Some(&Value::Null)).unwrap(), FunctionConfig::default());
        assert_eq!(parse(Some(&json!({}))).unwrap(), FunctionConfig::default());
    }

    #[test]
    fn typed_config() {
        let fc = parse(Some(&json!({"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "x"},
            "spec": {"namespace": "shop", "dns": {"profile": "node-local"}, "defaultDeny": {"policyTypes": ["Ingress"]}}})))
        .unwrap();
        assert_eq!(fc.namespace.as_deref(), Some("shop"));
        assert_eq!(fc.config.dns.profile, DnsProfile::NodeLocal);
        assert_eq!(fc.config.default_deny.policy_types.len(), 1);
        assert!(!fc.check);
        let fc = parse(Some(&json!({"apiVersion": API_VERSION, "kind": KIND, "spec": {"check": true}}))).unwrap();
        assert!(fc.check);
        assert_eq!(err_path(json!({"apiVersion": API_VERSION, "kind": KIND, "spec": {"check": "yes"}})), "spec.check");
    }

    #[test]
    fn typed_errors_name_the_spec_field() {
        let bad_port = json!({"apiVersion": API_VERSION, "kind": KIND,
            "spec": {"egress": [{"ports": [{"port": 70000}]}]}});
        assert!(err_path(bad_port).starts_with("spec.egress[0].ports[0]"));
        assert_eq!(err_path(json!({"apiVersion": API_VERSION, "kind": KIND, "spec": {"dsn": {}}})), "spec.dsn");
        assert_eq!(err_path(json!({"apiVersion": API_VERSION, "kind": KIND, "sepc": {}})), "sepc");
        assert_eq!(
            err_path(json!({"apiVersion": API_VERSION, "kind": KIND, "spec": {"namespace": "A_B"}})),
            "spec.namespace"
        );
        assert_eq!(
            err_path(json!({"apiVersion": API_VERSION, "kind": KIND, "spec": {"release": "a b"}})),
            "spec.release"
        );
        let fc = parse(Some(&json!({"apiVersion": API_VERSION, "kind": KIND, "spec": {"release": "shop"}}))).unwrap();
        assert_eq!(fc.release.as_deref(), Some("shop"));
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"release": "shop"}});
        assert_eq!(parse(Some(&cm)).unwrap().release.as_deref(), Some("shop"));
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"release": "-x"}});
        assert_eq!(err_path(cm), "data.release");
        assert_eq!(err_path(json!({"apiVersion": "netfence.dev/v2", "kind": KIND})), "apiVersion");
        assert_eq!(err_path(json!({"apiVersion": "v1", "kind": "Secret"})), "kind");
    }

    #[test]
    fn configmap_keys() {
        let fc = parse(Some(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "function-input"},
            "data": {"namespace": "shop", "dnsProfile": "openshift", "policyTypes": "Ingress, Egress",
                     "excludeNamespaces": "a,b", "dns": "true", "defaultDeny": true,
                     "egress": "[{to: [{ipBlock: {cidr: 10.0.0.0/8}}], ports: [{port: 5432}]}]"}})))
        .unwrap();
        assert_eq!(fc.namespace.as_deref(), Some("shop"));
        assert_eq!(fc.config.dns.profile, DnsProfile::Openshift);
        assert_eq!(fc.config.default_deny.exclude_namespaces, ["a", "b"]);
        assert_eq!(fc.config.egress.len(), 1);
        assert!(!fc.check);
        let fc = parse(Some(&json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"check": "true"}}))).unwrap();
        assert!(fc.check);
    }

    #[test]
    fn configmap_errors_name_the_data_key() {
        let cm = |data: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "data": data});
        assert_eq!(err_path(cm(json!({"dnsProfil": "x"}))), "data.dnsProfil");
        assert_eq!(err_path(cm(json!({"dnsProfile": "bogus"}))), "data.dnsProfile");
        assert_eq!(err_path(cm(json!({"dns": "yes"}))), "data.dns");
        assert_eq!(err_path(cm(json!({"egress": "[{ports: [{port: 0}]}]"}))), "data.egress");
        assert_eq!(err_path(cm(json!({"policyTypes": "Ingres"}))), "data.policyTypes");
    }

    #[test]
    fn every_configmap_key_reaches_a_config_field() {
        // A key whose target the Config does not know would fail here, not in a user's pipeline.
        for k in CONFIGMAP_KEYS {
            let sample = match k.kind {
                FlatKind::Bool => "true",
                FlatKind::List => "",
                FlatKind::Yaml => "[]",
                FlatKind::String => match k.key {
                    "dnsProfile" => "kube-dns",
                    "nodeLocalAddress" => "169.254.20.10",
                    _ => "shop",
                },
            };
            let v = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {k.key: sample}});
            parse(Some(&v)).unwrap_or_else(|e| panic!("{}: {e}", k.key));
        }
    }

    #[test]
    fn schema_has_the_spec_fields_and_namespace() {
        let schema = json_schema();
        let text = schema.to_string();
        for field in ["namespace", "egress", "defaultDeny", "dns", "netfence.dev/v1alpha1", "NetFence"] {
            assert!(text.contains(field), "{field} missing");
        }
    }
}
