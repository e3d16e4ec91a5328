//! The API server's rules for NetworkPolicy pieces (selectors, peers, ipBlocks, ports): the one
//! validator behind config validation and lint rules NF008/NF009.
//!
//! Two entry points per piece:
//! - `*_issues` take the k8s-openapi type and return every problem the API server would reject
//!   (lint reports them all);
//! - the plain functions ([`egress_rule`], [`peer`], [`port`], [`label_selector`]) read
//!   Kubernetes-shaped configuration from JSON strictly: k8s-openapi's types silently drop unknown
//!   fields and default missing ones, so the JSON is checked key by key first, then converted, then
//!   held to the same rules; the first problem is the error.

use super::PROTOCOLS;
use ipnet::IpNet;
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
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
    /// An issue at `path` (empty: the value itself).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Issue { path: path.into(), message: message.into() }
    }

    /// The same issue seen from `prefix` levels up (`.ports[0]` + `.port`).
    pub fn prefixed(mut self, prefix: &str) -> Self {
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

/// The first issue of a list, as a result.
fn first(issues: Vec<Issue>) -> Checked<()> {
    issues.into_iter().next().map_or(Ok(()), Err)
}

/// Every problem of a label selector: label keys and values, operators and their values.
pub fn label_selector_issues(selector: &LabelSelector) -> Vec<Issue> {
    let mut out = Vec::new();
    for (k, v) in selector.match_labels.iter().flatten() {
        if let Err(m) = label_key(k) {
            out.push(Issue::new(".matchLabels", m));
        }
        if let Err(m) = label_value(v) {
            out.push(Issue::new(format!(".matchLabels.{k}"), m));
        }
    }
    for (i, e) in selector.match_expressions.iter().flatten().enumerate() {
        if let Err(m) = label_key(&e.key) {
            out.push(Issue::new(format!(".matchExpressions[{i}].key"), m));
        }
        let values = e.values.as_ref().map_or(0, Vec::len);
        let problem = match e.operator.as_str() {
            "In" | "NotIn" if values == 0 => Some((".values", format!("operator {} needs values", e.operator))),
            "Exists" | "DoesNotExist" if values > 0 => {
                Some((".values", format!("operator {} takes no values", e.operator)))
            }
            "In" | "NotIn" | "Exists" | "DoesNotExist" => None,
            other => {
                Some((".operator", format!("unknown operator {other:?}, expected In, NotIn, Exists or DoesNotExist")))
            }
        };
        if let Some((field, message)) = problem {
            out.push(Issue::new(format!(".matchExpressions[{i}]{field}"), message));
        }
        for v in e.values.iter().flatten() {
            if let Err(m) = label_value(v) {
                out.push(Issue::new(format!(".matchExpressions[{i}].values"), m));
            }
        }
    }
    out
}

/// Checks a label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63
/// alphanumerics, `-`, `_` and `.`, starting and ending with an alphanumeric.
pub fn label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let subdomain = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|part| {
                !part.is_empty()
                    && part.len() <= 63
                    && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            });
        if !subdomain {
            return Err(format!("invalid label key {key:?}: the prefix must be a DNS subdomain"));
        }
    }
    if !qualified_name(name) {
        return Err(format!(
            "invalid label key {key:?}: the name must be 1-63 alphanumerics, '-', '_' or '.', starting and ending \
             with an alphanumeric"
        ));
    }
    Ok(())
}

/// Checks a label value: empty, or at most 63 alphanumerics, `-`, `_` and `.`, starting and
/// ending with an alphanumeric.
pub fn label_value(value: &str) -> Result<(), String> {
    if value.is_empty() || qualified_name(value) {
        return Ok(());
    }
    Err(format!(
        "invalid label value {value:?}: at most 63 alphanumerics, '-', '_' or '.', starting and ending with an \
         alphanumeric"
    ))
}

fn qualified_name(s: &str) -> bool {
    let b = s.as_bytes();
    !s.is_empty()
        && s.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Every problem of a peer itself: empty, ipBlock next to selectors, bad CIDRs (its selectors
/// are checked by [`label_selector_issues`], see [`peer_and_selector_issues`]).
pub fn peer_issues(peer: &NetworkPolicyPeer) -> Vec<Issue> {
    let selectors = peer.pod_selector.is_some() || peer.namespace_selector.is_some();
    let mut out = Vec::new();
    match &peer.ip_block {
        Some(block) => {
            if selectors {
                out.push(Issue::new(".ipBlock", "ipBlock cannot be combined with podSelector or namespaceSelector"));
            }
            out.extend(ip_block_issues(block).into_iter().map(|e| e.prefixed(".ipBlock")));
        }
        None if !selectors => out.push(Issue::new("", "a peer needs podSelector, namespaceSelector or ipBlock")),
        None => {}
    }
    out
}

/// Every problem of a peer and of its selectors.
pub fn peer_and_selector_issues(peer: &NetworkPolicyPeer) -> Vec<Issue> {
    let mut out = peer_issues(peer);
    for (key, sel) in [("podSelector", &peer.pod_selector), ("namespaceSelector", &peer.namespace_selector)] {
        if let Some(sel) = sel {
            out.extend(label_selector_issues(sel).into_iter().map(|e| e.prefixed(&format!(".{key}"))));
        }
    }
    out
}

/// Every problem of an ipBlock: its CIDR, and exceptions strictly inside it.
pub fn ip_block_issues(block: &IPBlock) -> Vec<Issue> {
    let mut out = Vec::new();
    let net = cidr(&block.cidr).map_err(|e| out.push(e.prefixed(".cidr"))).ok();
    for (i, text) in block.except.iter().flatten().enumerate() {
        let path = format!(".except[{i}]");
        match (cidr(text), net) {
            (Err(e), _) => out.push(e.prefixed(&path)),
            (Ok(ex), Some(net)) if !net.contains(&ex) || ex == net => {
                out.push(Issue::new(path, format!("{text} is not strictly inside cidr {}", block.cidr)))
            }
            _ => {}
        }
    }
    out
}

/// Parses a CIDR (`10.0.0.0/8`, `fc00::/7`).
pub fn cidr(text: &str) -> Checked<IpNet> {
    text.parse::<IpNet>().map_err(|_| Issue::new("", format!("invalid CIDR {text:?}")))
}

/// Whether `name` is a valid port name (IANA_SVC_NAME: 1-15 lowercase letters, digits and
/// inner single dashes, at least one letter).
pub fn is_port_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.chars().any(|c| c.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// Every problem of a port: protocol, number range or name, endPort.
pub fn port_issues(port: &NetworkPolicyPort) -> Vec<Issue> {
    let mut out = Vec::new();
    if let Some(p) = port.protocol.as_deref().filter(|p| !PROTOCOLS.contains(p)) {
        out.push(Issue::new(".protocol", format!("unknown protocol {p:?}, expected TCP, UDP or SCTP")));
    }
    match (&port.port, port.end_port) {
        (Some(IntOrString::Int(n)), end) => {
            if !(1..=65535).contains(n) {
                out.push(Issue::new(".port", format!("port {n} is out of range 1-65535")));
            }
            if let Some(end) = end.filter(|e| e < n || *e > 65535) {
                out.push(Issue::new(".endPort", format!("endPort {end} must be between port {n} and 65535")));
            }
        }
        (Some(IntOrString::String(name)), end) => {
            if !is_port_name(name) {
                out.push(Issue::new(".port", format!("{name:?} is neither a port number nor a valid port name")));
            }
            if end.is_some() {
                out.push(Issue::new(".endPort", "endPort needs a numeric port"));
            }
        }
        (None, Some(_)) => out.push(Issue::new(".endPort", "endPort needs a numeric port")),
        (None, None) => {}
    }
    out
}

/// Every problem of a rule's peers and ports (`field` is `to` or `from`).
fn rule_issues(field: &str, peers: Option<&[NetworkPolicyPeer]>, ports: Option<&[NetworkPolicyPort]>) -> Vec<Issue> {
    let mut out = Vec::new();
    for (i, p) in peers.unwrap_or_default().iter().enumerate() {
        out.extend(peer_and_selector_issues(p).into_iter().map(|e| e.prefixed(&format!(".{field}[{i}]"))));
    }
    for (i, p) in ports.unwrap_or_default().iter().enumerate() {
        out.extend(port_issues(p).into_iter().map(|e| e.prefixed(&format!(".ports[{i}]"))));
    }
    out
}

/// Every problem of an egress rule.
pub fn egress_rule_issues(rule: &NetworkPolicyEgressRule) -> Vec<Issue> {
    rule_issues("to", rule.to.as_deref(), rule.ports.as_deref())
}

/// Every problem of an ingress rule.
pub fn ingress_rule_issues(rule: &NetworkPolicyIngressRule) -> Vec<Issue> {
    rule_issues("from", rule.from.as_deref(), rule.ports.as_deref())
}

/// Reads a NetworkPolicyEgressRule strictly.
pub fn egress_rule(v: &Value) -> Checked<NetworkPolicyEgressRule> {
    let map = object(v, &["to", "ports"])?;
    each(map, "to", peer)?;
    each(map, "ports", port)?;
    convert(v)
}

/// Reads a NetworkPolicyIngressRule strictly.
pub fn ingress_rule(v: &Value) -> Checked<NetworkPolicyIngressRule> {
    let map = object(v, &["from", "ports"])?;
    each(map, "from", peer)?;
    each(map, "ports", port)?;
    convert(v)
}

/// Reads a NetworkPolicyPeer strictly: at least one field, and `ipBlock` alone.
pub fn peer(v: &Value) -> Checked<NetworkPolicyPeer> {
    let map = object(v, &["podSelector", "namespaceSelector", "ipBlock"])?;
    for key in ["podSelector", "namespaceSelector"] {
        if let Some(sel) = map.get(key) {
            label_selector(sel).map_err(|e| e.prefixed(&format!(".{key}")))?;
        }
    }
    if let Some(block) = map.get("ipBlock") {
        let block = object(block, &["cidr", "except"]).map_err(|e| e.prefixed(".ipBlock"))?;
        if !block.get("cidr").is_some_and(Value::is_string) {
            return Err(Issue::new(".ipBlock.cidr", "required (a CIDR string)"));
        }
        if list(block, "except").map_err(|e| e.prefixed(".ipBlock"))?.iter().any(|e| !e.is_string()) {
            return Err(Issue::new(".ipBlock.except", "expected CIDR strings"));
        }
    }
    let typed: NetworkPolicyPeer = convert(v)?;
    first(peer_and_selector_issues(&typed))?;
    Ok(typed)
}

/// Reads a NetworkPolicyPort strictly: protocol, a port number or IANA name, an endPort range.
pub fn port(v: &Value) -> Checked<NetworkPolicyPort> {
    let map = object(v, &["protocol", "port", "endPort"])?;
    if let Some(p) = map.get("protocol").filter(|p| !p.is_string()) {
        return Err(Issue::new(".protocol", format!("unknown protocol {p}, expected TCP, UDP or SCTP")));
    }
    match map.get("port") {
        None | Some(Value::Null | Value::String(_)) => {}
        Some(Value::Number(n)) if n.as_i64().is_none_or(|n| !(1..=65535).contains(&n)) => {
            return Err(Issue::new(".port", format!("port {n} is out of range 1-65535")))
        }
        Some(Value::Number(_)) => {}
        Some(other) => {
            return Err(Issue::new(".port", format!("expected a number or a port name, found {}", type_name(other))))
        }
    }
    if map.get("endPort").is_some_and(|e| e.as_i64().is_none()) {
        return Err(Issue::new(".endPort", "expected a number"));
    }
    let typed: NetworkPolicyPort = convert(v)?;
    first(port_issues(&typed))?;
    Ok(typed)
}

/// Reads a LabelSelector strictly.
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
        if !r.get("operator").is_some_and(Value::is_string) {
            return Err(Issue::new(".operator", "expected In, NotIn, Exists or DoesNotExist"));
        }
        if list(r, "values")?.iter().any(|v| !v.is_string()) {
            return Err(Issue::new(".values", "values are strings"));
        }
        Ok(())
    })?;
    let typed: LabelSelector = convert(v)?;
    first(label_selector_issues(&typed))?;
    Ok(typed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> String {
        egress_rule(&v).unwrap_err().to_string()
    }

    #[test]
    fn typed_checks_report_every_problem() {
        let rule: NetworkPolicyEgressRule = serde_json::from_value(json!({
            "to": [
                {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16", "10.0.0.0/8"]}, "podSelector": {}},
                {},
                {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Bogus"}, {"key": "b", "operator": "In"}]}}
            ],
            "ports": [{"port": 90, "endPort": 80}, {"protocol": "ICMP"}, {"port": "Not_A_Name"}, {"endPort": 5}]
        }))
        .unwrap();
        let issues: Vec<String> = egress_rule_issues(&rule).iter().map(Issue::to_string).collect();
        assert_eq!(
            issues,
            [
                ".to[0].ipBlock: ipBlock cannot be combined with podSelector or namespaceSelector",
                ".to[0].ipBlock.except[0]: 192.168.0.0/16 is not strictly inside cidr 10.0.0.0/8",
                ".to[0].ipBlock.except[1]: 10.0.0.0/8 is not strictly inside cidr 10.0.0.0/8",
                ".to[1]: a peer needs podSelector, namespaceSelector or ipBlock",
                ".to[2].podSelector.matchExpressions[0].operator: unknown operator \"Bogus\", expected In, NotIn, Exists or DoesNotExist",
                ".to[2].podSelector.matchExpressions[1].values: operator In needs values",
                ".ports[0].endPort: endPort 80 must be between port 90 and 65535",
                ".ports[1].protocol: unknown protocol \"ICMP\", expected TCP, UDP or SCTP",
                ".ports[2].port: \"Not_A_Name\" is neither a port number nor a valid port name",
                ".ports[3].endPort: endPort needs a numeric port",
            ]
        );
        // The strict reader stops at the first, with the same words.
        assert_eq!(
            egress_rule(&json!({"to": [{}]})).unwrap_err().to_string(),
            ".to[0]: a peer needs podSelector, namespaceSelector or ipBlock"
        );
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
