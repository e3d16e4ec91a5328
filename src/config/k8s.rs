//! Strict validation of Kubernetes-shaped configuration (egress rules, peers, ports, selectors).
//!
//! k8s-openapi's types silently drop unknown fields and default missing ones, so a rule is first
//! checked here key by key, with the API server's value rules, and only then converted to the
//! k8s-openapi type the transforms use.

use ipnet::IpNet;
use k8s_openapi::api::networking::v1::{
    NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::{Map, Value};
use std::fmt;

/// A problem at a path below the value being validated (`.to[0].ipBlock.cidr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Path below the validated value, starting with `.` or `[`, or empty for the value itself.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl Issue {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Issue { path: path.into(), message: message.into() }
    }

    fn prefixed(mut self, prefix: &str) -> Self {
        self.path = format!("{prefix}{}", self.path);
        self
    }

    /// As an error of element `i` of a list: `"[i].path: message"`.
    pub fn at_index(self, i: usize) -> String {
        self.prefixed(&format!("[{i}]")).to_string()
    }

    /// As an error of a field, `"path: message"` (just the message when the path is empty).
    pub fn under(self, prefix: &str) -> String {
        self.prefixed(prefix).to_string()
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

type Checked<T> = Result<T, Issue>;

/// Checks that `v` is an object whose keys are all in `allowed`.
fn object<'a>(v: &'a Value, allowed: &[&str]) -> Checked<&'a Map<String, Value>> {
    let map = v.as_object().ok_or_else(|| Issue::new("", format!("expected an object, found {}", type_name(v))))?;
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            let expected = allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            return Err(Issue::new(format!(".{key}"), format!("unknown field `{key}`, expected one of {expected}")));
        }
    }
    Ok(map)
}

fn list<'a>(map: &'a Map<String, Value>, key: &str) -> Checked<&'a [Value]> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(Issue::new(format!(".{key}"), format!("expected a list, found {}", type_name(other)))),
    }
}

fn each<T>(map: &Map<String, Value>, key: &str, f: impl Fn(&Value) -> Checked<T>) -> Checked<()> {
    for (i, item) in list(map, key)?.iter().enumerate() {
        f(item).map_err(|e| e.prefixed(&format!(".{key}[{i}]")))?;
    }
    Ok(())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn convert<T: serde::de::DeserializeOwned>(v: &Value) -> Checked<T> {
    serde_json::from_value(v.clone()).map_err(|e| Issue::new("", e.to_string()))
}

/// Validates a NetworkPolicyEgressRule.
pub fn egress_rule(v: &Value) -> Checked<NetworkPolicyEgressRule> {
    let map = object(v, &["to", "ports"])?;
    each(map, "to", peer)?;
    each(map, "ports", port)?;
    convert(v)
}

/// Validates a NetworkPolicyIngressRule.
pub fn ingress_rule(v: &Value) -> Checked<NetworkPolicyIngressRule> {
    let map = object(v, &["from", "ports"])?;
    each(map, "from", peer)?;
    each(map, "ports", port)?;
    convert(v)
}

/// Validates a NetworkPolicyPeer: at least one field, and `ipBlock` alone.
pub fn peer(v: &Value) -> Checked<NetworkPolicyPeer> {
    let map = object(v, &["podSelector", "namespaceSelector", "ipBlock"])?;
    if map.is_empty() {
        return Err(Issue::new("", "a peer needs podSelector, namespaceSelector or ipBlock"));
    }
    if map.contains_key("ipBlock") && map.len() > 1 {
        return Err(Issue::new(".ipBlock", "ipBlock cannot be combined with podSelector or namespaceSelector"));
    }
    for key in ["podSelector", "namespaceSelector"] {
        if let Some(sel) = map.get(key) {
            label_selector(sel).map_err(|e| e.prefixed(&format!(".{key}")))?;
        }
    }
    if let Some(block) = map.get("ipBlock") {
        ip_block(block).map_err(|e| e.prefixed(".ipBlock"))?;
    }
    convert(v)
}

/// Validates an IPBlock: a CIDR, and exceptions inside it.
pub fn ip_block(v: &Value) -> Checked<()> {
    let map = object(v, &["cidr", "except"])?;
    let cidr_text =
        map.get("cidr").and_then(Value::as_str).ok_or_else(|| Issue::new(".cidr", "required (a CIDR string)"))?;
    let net = cidr(cidr_text).map_err(|e| e.prefixed(".cidr"))?;
    for (i, e) in list(map, "except")?.iter().enumerate() {
        let path = format!(".except[{i}]");
        let text = e.as_str().ok_or_else(|| Issue::new(&path, "expected a CIDR string"))?;
        let ex = cidr(text).map_err(|e| e.prefixed(&path))?;
        if !net.contains(&ex) || ex == net {
            return Err(Issue::new(path, format!("{text} is not strictly inside cidr {cidr_text}")));
        }
    }
    Ok(())
}

/// Parses a CIDR (`10.0.0.0/8`, `fc00::/7`).
pub fn cidr(text: &str) -> Checked<IpNet> {
    text.parse::<IpNet>().map_err(|_| Issue::new("", format!("invalid CIDR {text:?}")))
}

/// Validates a NetworkPolicyPort: protocol, a port number or IANA name, an endPort range.
pub fn port(v: &Value) -> Checked<NetworkPolicyPort> {
    let map = object(v, &["protocol", "port", "endPort"])?;
    if let Some(p) = map.get("protocol") {
        match p.as_str() {
            Some("TCP" | "UDP" | "SCTP") => {}
            _ => return Err(Issue::new(".protocol", format!("unknown protocol {p}, expected TCP, UDP or SCTP"))),
        }
    }
    let number = match map.get("port") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => {
            let n = n
                .as_i64()
                .filter(|n| (1..=65535).contains(n))
                .ok_or_else(|| Issue::new(".port", format!("port {n} is out of range 1-65535")))?;
            Some(n)
        }
        Some(Value::String(name)) => {
            let valid = (1..=15).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && name.chars().any(|c| c.is_ascii_lowercase())
                && !name.starts_with('-')
                && !name.ends_with('-')
                && !name.contains("--");
            if !valid {
                return Err(Issue::new(".port", format!("{name:?} is neither a port number nor a valid port name")));
            }
            None
        }
        Some(other) => {
            return Err(Issue::new(".port", format!("expected a number or a port name, found {}", type_name(other))))
        }
    };
    if let Some(end) = map.get("endPort") {
        let end = end.as_i64().ok_or_else(|| Issue::new(".endPort", "expected a number"))?;
        match number {
            None => return Err(Issue::new(".endPort", "endPort needs a numeric port")),
            Some(start) if end < start || end > 65535 => {
                return Err(Issue::new(".endPort", format!("endPort {end} must be between port {start} and 65535")))
            }
            _ => {}
        }
    }
    convert(v)
}

/// Validates a LabelSelector.
pub fn label_selector(v: &Value) -> Checked<LabelSelector> {
    let map = object(v, &["matchLabels", "matchExpressions"])?;
    if let Some(labels) = map.get("matchLabels").filter(|l| !l.is_null()) {
        let labels = labels.as_object().ok_or_else(|| Issue::new(".matchLabels", "expected an object of strings"))?;
        for (k, val) in labels {
            if !val.is_string() {
                return Err(Issue::new(
                    format!(".matchLabels.{k}"),
                    format!("label values are strings, found {} (quote it)", type_name(val)),
                ));
            }
        }
    }
    each(map, "matchExpressions", |req| {
        let r = object(req, &["key", "operator", "values"])?;
        if !r.get("key").is_some_and(Value::is_string) {
            return Err(Issue::new(".key", "required (a string)"));
        }
        let values = list(r, "values")?;
        if values.iter().any(|v| !v.is_string()) {
            return Err(Issue::new(".values", "values are strings"));
        }
        match r.get("operator").and_then(Value::as_str) {
            Some("In" | "NotIn") if values.is_empty() => {
                Err(Issue::new(".values", "In and NotIn need at least one value"))
            }
            Some("Exists" | "DoesNotExist") if !values.is_empty() => {
                Err(Issue::new(".values", "Exists and DoesNotExist take no values"))
            }
            Some("In" | "NotIn" | "Exists" | "DoesNotExist") => Ok(()),
            _ => Err(Issue::new(".operator", "expected In, NotIn, Exists or DoesNotExist")),
        }
    })?;
    convert(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> String {
        egress_rule(&v).unwrap_err().to_string()
    }

    #[test]
    fn accepts_the_seed_rule() {
        let r = egress_rule(
            &json!({"to": [{"podSelector": {"matchLabels": {"app": "custom-dependency"}}}], "ports": [{"port": 8080}]}),
        )
        .unwrap();
        assert_eq!(
            r.ports.unwrap()[0].port,
            Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(8080))
        );
    }

    #[test]
    fn names_the_offending_field() {
        assert_eq!(
            err(json!({"to": [{"ipBlock": {"cidr": "10.0.0/8"}}]})),
            ".to[0].ipBlock.cidr: invalid CIDR \"10.0.0/8\""
        );
        assert_eq!(err(json!({"ports": [{"port": 70000}]})), ".ports[0].port: port 70000 is out of range 1-65535");
        assert!(err(json!({"ports": [{"protocol": "ICMP"}]})).starts_with(".ports[0].protocol: unknown protocol"));
        assert!(err(json!({"too": []})).starts_with(".too: unknown field `too`"));
        assert!(err(json!({"to": [{"podselector": {}}]})).starts_with(".to[0].podselector: unknown field"));
        assert!(err(json!({"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/8"]}}]}))
            .contains("not strictly inside"));
        assert!(err(json!({"ports": [{"port": 80, "endPort": 70}]})).starts_with(".ports[0].endPort"));
        assert!(err(json!({"to": [{"podSelector": {"matchLabels": {"v": 1}}}]})).contains("label values are strings"));
    }
}
