//! AdminNetworkPolicy and BaselineAdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`): the
//! cluster-wide tiers above and below NetworkPolicies, read into a typed form and validated the
//! way the API server's schema (and np-guard netpol-analyzer) does.
//!
//! Semantics, per direction of a pod (see [`super::connectivity`] for the evaluation):
//! - AdminNetworkPolicies whose `subject` selects the pod and that have rules in that direction
//!   are evaluated from the lowest `priority` number up, each one's rules in order; the first
//!   rule matching a connection decides it: `Allow`, `Deny`, or `Pass` (hand it to the
//!   NetworkPolicies);
//! - what no AdminNetworkPolicy decided (or passed) is decided by the NetworkPolicies if some
//!   isolate the pod in that direction, else by the BaselineAdminNetworkPolicy's rules
//!   (`Allow`/`Deny`, first match wins), else it is allowed.

use super::ipset::IpSet;
use super::ports::{ConnSet, PortSet, Protocol};
use super::topology::Origin;
use crate::k8s::validate;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// Lowest and highest AdminNetworkPolicy priority (the API's range).
pub const PRIORITY_RANGE: std::ops::RangeInclusive<i32> = 0..=1000;

/// The only name a BaselineAdminNetworkPolicy may have (it is a cluster singleton).
pub const BASELINE_NAME: &str = "default";

/// Which tier a policy belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// An AdminNetworkPolicy (above NetworkPolicies).
    Admin,
    /// The BaselineAdminNetworkPolicy (below NetworkPolicies).
    Baseline,
}

impl Tier {
    /// The kind.
    pub fn kind(self) -> &'static str {
        match self {
            Tier::Admin => "AdminNetworkPolicy",
            Tier::Baseline => "BaselineAdminNetworkPolicy",
        }
    }

    /// np-guard's short tag, `ANP` or `BANP`.
    pub fn tag(self) -> &'static str {
        match self {
            Tier::Admin => "ANP",
            Tier::Baseline => "BANP",
        }
    }
}

/// What a rule does with the connections it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Allow them, whatever lower tiers say.
    Allow,
    /// Deny them, whatever lower tiers say.
    Deny,
    /// Let the NetworkPolicies (then the baseline) decide (AdminNetworkPolicy only).
    Pass,
}

impl Action {
    /// `Allow`, `Deny` or `Pass`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "Allow",
            Action::Deny => "Deny",
            Action::Pass => "Pass",
        }
    }
}

/// The pods a policy applies to, or a rule peer selecting pods.
#[derive(Debug, Clone, PartialEq)]
pub enum PodsOf {
    /// Every pod of the namespaces matching the selector (`namespaces:`).
    Namespaces(LabelSelector),
    /// The pods matching `pod` in the namespaces matching `namespace` (`pods:`; an absent
    /// selector is empty and matches everything).
    Pods {
        /// `namespaceSelector`.
        namespace: LabelSelector,
        /// `podSelector`.
        pod: LabelSelector,
    },
}

/// One peer of a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminPeer {
    /// Pods, by namespace and pod labels.
    Pods(PodsOf),
    /// Addresses (`networks:`, egress only): CIDRs.
    Networks(Vec<IpSet>),
    /// Nodes (`nodes:`, egress only): not analysed, matches nothing.
    Nodes,
}

/// One `ports` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminPort {
    /// `portNumber: {protocol, port}`.
    Number(Protocol, u16),
    /// `namedPort: name`: the destination pod's container port of that name, with its protocol.
    Named(String),
    /// `portRange: {protocol, start, end}`.
    Range(Protocol, u16, u16),
}

/// One ingress or egress rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminRule {
    /// `name` (empty when absent).
    pub name: String,
    /// `action`.
    pub action: Action,
    /// `from` or `to`.
    pub peers: Vec<AdminPeer>,
    /// `ports`; `None` matches every port.
    pub ports: Option<Vec<AdminPort>>,
}

impl AdminRule {
    /// What the rule's ports allow, named ports resolved against `container_ports` when given
    /// (a name the pod lacks matches nothing), kept by name otherwise (unknown protocol).
    pub fn conns(&self, container_ports: Option<&[crate::model::workload::ContainerPort]>) -> ConnSet {
        let Some(ports) = &self.ports else { return ConnSet::all() };
        let mut out = ConnSet::none();
        for p in ports {
            match p {
                AdminPort::Number(proto, n) => out.union_with(&ConnSet::port(*proto, *n)),
                AdminPort::Range(proto, s, e) => out.union_with(&ConnSet::of(*proto, PortSet::range(*s, *e))),
                AdminPort::Named(name) => match container_ports {
                    None => out.add_named_any(name),
                    Some(cps) => {
                        let found = cps.iter().find(|c| &c.name == name);
                        if let Some((proto, n)) = found.and_then(|c| {
                            Some((Protocol::parse(&c.protocol)?, u16::try_from(c.port).ok().filter(|n| *n > 0)?))
                        }) {
                            out.union_with(&ConnSet::port(proto, n));
                        }
                    }
                },
            }
        }
        out
    }
}

/// An AdminNetworkPolicy or the BaselineAdminNetworkPolicy.
#[derive(Debug, Clone)]
pub struct AdminPolicy {
    /// Its tier.
    pub tier: Tier,
    /// `metadata.name`.
    pub name: String,
    /// `spec.priority` (0 for the baseline).
    pub priority: i32,
    /// `spec.subject`.
    pub subject: PodsOf,
    /// `spec.ingress`.
    pub ingress: Vec<AdminRule>,
    /// `spec.egress`.
    pub egress: Vec<AdminRule>,
    /// Where it is.
    pub origin: Origin,
}

impl AdminPolicy {
    /// `[ANP] name` or `[BANP] default`.
    pub fn id(&self) -> String {
        format!("[{}] {}", self.tier.tag(), self.name)
    }
}

impl fmt::Display for AdminPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.tier.kind(), self.name)
    }
}

// ---- reading -------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawSpec {
    #[serde(default)]
    priority: Option<i64>,
    #[serde(default)]
    subject: Option<RawPodsOf>,
    #[serde(default)]
    ingress: Option<Vec<RawRule>>,
    #[serde(default)]
    egress: Option<Vec<RawRule>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawPodsOf {
    #[serde(default)]
    namespaces: Option<LabelSelector>,
    #[serde(default)]
    pods: Option<RawNamespacedPod>,
    #[serde(default)]
    nodes: Option<LabelSelector>,
    #[serde(default)]
    networks: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawNamespacedPod {
    #[serde(default)]
    namespace_selector: Option<LabelSelector>,
    #[serde(default)]
    pod_selector: Option<LabelSelector>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRule {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default, alias = "to")]
    from: Option<Vec<RawPodsOf>>,
    #[serde(default)]
    ports: Option<Vec<RawPort>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawPort {
    #[serde(default)]
    port_number: Option<RawPortNumber>,
    #[serde(default)]
    named_port: Option<String>,
    #[serde(default)]
    port_range: Option<RawPortRange>,
}

#[derive(Deserialize)]
struct RawPortNumber {
    #[serde(default)]
    protocol: Option<String>,
    port: i64,
}

#[derive(Deserialize)]
struct RawPortRange {
    #[serde(default)]
    protocol: Option<String>,
    start: i64,
    end: i64,
}

/// Whether `api_version`/`kind` is an AdminNetworkPolicy or BaselineAdminNetworkPolicy.
pub fn tier_of(api_version: &str, kind: &str) -> Option<Tier> {
    if !api_version.starts_with("policy.networking.k8s.io/") {
        return None;
    }
    match kind {
        "AdminNetworkPolicy" => Some(Tier::Admin),
        "BaselineAdminNetworkPolicy" => Some(Tier::Baseline),
        _ => None,
    }
}

/// Reads and validates a policy of `tier` from its whole object. The error names the field.
pub fn parse(tier: Tier, name: &str, value: &Value, origin: Origin) -> Result<AdminPolicy, String> {
    let spec_value = value.get("spec").cloned().unwrap_or(Value::Null);
    let spec: RawSpec = if spec_value.is_null() {
        RawSpec::default()
    } else {
        serde_path_to_error::deserialize(spec_value).map_err(|e| format!("spec.{}: {}", e.path(), e.inner()))?
    };
    let priority = match tier {
        Tier::Baseline => 0,
        Tier::Admin => {
            let p = spec.priority.ok_or("spec.priority: required")?;
            i32::try_from(p).ok().filter(|p| PRIORITY_RANGE.contains(p)).ok_or_else(|| {
                format!("spec.priority: {p} is out of range {}-{}", PRIORITY_RANGE.start(), PRIORITY_RANGE.end())
            })?
        }
    };
    if tier == Tier::Baseline && name != BASELINE_NAME {
        return Err(format!(
            "metadata.name: a BaselineAdminNetworkPolicy must be named {BASELINE_NAME:?}, found {name:?}"
        ));
    }
    let subject = match spec.subject {
        None => return Err("spec.subject: required".into()),
        Some(s) => pods_of(s, false).map_err(|m| format!("spec.subject{m}"))?,
    };
    let subject = match subject {
        AdminPeer::Pods(p) => p,
        _ => return Err("spec.subject: exactly one of namespaces or pods must be set".into()),
    };
    let rules = |list: Option<Vec<RawRule>>, field: &str, egress: bool| -> Result<Vec<AdminRule>, String> {
        let mut out = Vec::new();
        for (i, r) in list.unwrap_or_default().into_iter().enumerate() {
            out.push(rule(tier, r, egress).map_err(|m| format!("spec.{field}[{i}]{m}"))?);
        }
        Ok(out)
    };
    Ok(AdminPolicy {
        tier,
        name: name.to_string(),
        priority,
        subject,
        ingress: rules(spec.ingress, "ingress", false)?,
        egress: rules(spec.egress, "egress", true)?,
        origin,
    })
}

fn rule(tier: Tier, r: RawRule, egress: bool) -> Result<AdminRule, String> {
    let action = match (r.action.as_deref(), tier) {
        (Some("Allow"), _) => Action::Allow,
        (Some("Deny"), _) => Action::Deny,
        (Some("Pass"), Tier::Admin) => Action::Pass,
        (Some(other), _) => {
            let expected = if tier == Tier::Admin { "Allow, Deny or Pass" } else { "Allow or Deny" };
            return Err(format!(".action: unrecognized action {other:?} (expected {expected})"));
        }
        (None, _) => return Err(".action: required".into()),
    };
    let field = if egress { "to" } else { "from" };
    let raw_peers = r
        .from
        .filter(|p| !p.is_empty())
        .ok_or_else(|| format!(".{field}: {field} field must be defined and contain at least one item"))?;
    let mut peers = Vec::new();
    for (i, p) in raw_peers.into_iter().enumerate() {
        peers.push(pods_of(p, egress).map_err(|m| format!(".{field}[{i}]{m}"))?);
    }
    let ports = match r.ports {
        None => None,
        Some(list) => {
            let mut out = Vec::new();
            for (i, p) in list.into_iter().enumerate() {
                out.push(port(p).map_err(|m| format!(".ports[{i}]{m}"))?);
            }
            Some(out)
        }
    };
    Ok(AdminRule { name: r.name.unwrap_or_default(), action, peers, ports })
}

fn pods_of(p: RawPodsOf, egress: bool) -> Result<AdminPeer, String> {
    let set = [p.namespaces.is_some(), p.pods.is_some(), p.nodes.is_some(), p.networks.is_some()];
    if set.iter().filter(|s| **s).count() != 1 || (!egress && (p.nodes.is_some() || p.networks.is_some())) {
        let fields = if egress { "namespaces, pods, nodes or networks" } else { "namespaces or pods" };
        return Err(format!(": exactly one of {fields} must be set"));
    }
    if let Some(ns) = p.namespaces {
        check_selector(&ns).map_err(|m| format!(".namespaces{m}"))?;
        return Ok(AdminPeer::Pods(PodsOf::Namespaces(ns)));
    }
    if let Some(pods) = p.pods {
        let namespace = pods.namespace_selector.unwrap_or_default();
        let pod = pods.pod_selector.unwrap_or_default();
        check_selector(&namespace).map_err(|m| format!(".pods.namespaceSelector{m}"))?;
        check_selector(&pod).map_err(|m| format!(".pods.podSelector{m}"))?;
        return Ok(AdminPeer::Pods(PodsOf::Pods { namespace, pod }));
    }
    if let Some(nodes) = p.nodes {
        check_selector(&nodes).map_err(|m| format!(".nodes{m}"))?;
        return Ok(AdminPeer::Nodes);
    }
    let mut nets = Vec::new();
    for (i, cidr) in p.networks.unwrap_or_default().iter().enumerate() {
        nets.push(IpSet::cidr(cidr).map_err(|m| format!(".networks[{i}]: {m}"))?);
    }
    if nets.is_empty() {
        return Err(".networks: at least one CIDR".into());
    }
    Ok(AdminPeer::Networks(nets))
}

fn protocol(p: Option<&str>) -> Result<Protocol, String> {
    match p {
        None | Some("") => Ok(Protocol::Tcp),
        Some(s @ ("TCP" | "UDP" | "SCTP")) => Ok(Protocol::parse(s).expect("known protocol")),
        Some(other) => Err(format!(".protocol: unknown protocol {other:?}, expected TCP, UDP or SCTP")),
    }
}

fn port(p: RawPort) -> Result<AdminPort, String> {
    let set = [p.port_number.is_some(), p.named_port.is_some(), p.port_range.is_some()];
    if set.iter().filter(|s| **s).count() != 1 {
        return Err(": exactly one of portNumber, namedPort or portRange must be set".into());
    }
    let number = |n: i64| u16::try_from(n).ok().filter(|n| *n >= 1);
    if let Some(n) = p.port_number {
        let proto = protocol(n.protocol.as_deref()).map_err(|m| format!(".portNumber{m}"))?;
        let port = number(n.port).ok_or_else(|| format!(".portNumber.port: {} is out of range 1-65535", n.port))?;
        return Ok(AdminPort::Number(proto, port));
    }
    if let Some(r) = p.port_range {
        let proto = protocol(r.protocol.as_deref()).map_err(|m| format!(".portRange{m}"))?;
        return match (number(r.start), number(r.end)) {
            (Some(s), Some(e)) if s <= e => Ok(AdminPort::Range(proto, s, e)),
            _ => Err(format!(
                ".portRange: port range {}-{} is illegal: start and end must be in 1-65535 and end may not be less than start",
                r.start, r.end
            )),
        };
    }
    let name = p.named_port.unwrap_or_default();
    if name.is_empty() {
        return Err(".namedPort: empty".into());
    }
    Ok(AdminPort::Named(name))
}

/// Checks a label selector as the API server does ([`validate::label_selector_issues`]); the
/// message starts with the path below the selector.
pub fn check_selector(sel: &LabelSelector) -> Result<(), String> {
    match validate::label_selector_issues(sel).into_iter().next() {
        Some(issue) => Err(issue.under("")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn anp(spec: Value) -> Result<AdminPolicy, String> {
        parse(Tier::Admin, "p", &json!({"spec": spec}), Origin::default())
    }

    #[test]
    fn reads_every_field() {
        let p = anp(json!({
            "priority": 5,
            "subject": {"pods": {"podSelector": {"matchLabels": {"app": "a"}}}},
            "ingress": [{"name": "r", "action": "Pass", "from": [{"namespaces": {}}],
                         "ports": [{"portNumber": {"port": 80}}, {"namedPort": "http"},
                                   {"portRange": {"protocol": "UDP", "start": 1, "end": 9}}]}],
            "egress": [{"action": "Deny", "to": [{"networks": ["10.0.0.0/8"]}, {"nodes": {}}]}]
        }))
        .unwrap();
        assert_eq!(p.priority, 5);
        assert!(matches!(&p.subject, PodsOf::Pods { namespace, .. } if namespace == &LabelSelector::default()));
        assert_eq!(p.ingress[0].action, Action::Pass);
        assert_eq!(
            p.ingress[0].ports.as_deref().unwrap(),
            [
                AdminPort::Number(Protocol::Tcp, 80),
                AdminPort::Named("http".into()),
                AdminPort::Range(Protocol::Udp, 1, 9)
            ]
        );
        assert!(matches!(p.egress[0].peers[1], AdminPeer::Nodes));
        assert_eq!(p.ingress[0].conns(Some(&[])).to_string(), "TCP 80,UDP 1-9");
    }

    #[test]
    fn rejects_what_the_api_rejects() {
        let subject = json!({"namespaces": {}});
        let err = |spec: Value| anp(spec).unwrap_err();
        assert!(err(json!({"priority": 1001, "subject": subject})).starts_with("spec.priority: 1001 is out of range"));
        assert_eq!(err(json!({"priority": 1})), "spec.subject: required");
        assert!(err(json!({"priority": 1, "subject": {"namespaces": {}, "pods": {}}})).contains("exactly one"));
        assert!(err(json!({"priority": 1, "subject": subject, "ingress": [{"action": "Allow", "from": []}]}))
            .starts_with("spec.ingress[0].from: from field must be defined"));
        assert!(err(
            json!({"priority": 1, "subject": subject, "ingress": [{"action": "Drop", "from": [{"namespaces": {}}]}]})
        )
        .contains("unrecognized action"));
        assert!(err(json!({"priority": 1, "subject": subject,
            "egress": [{"action": "Allow", "to": [{"networks": ["10.0.0/8"]}]}]}))
        .starts_with("spec.egress[0].to[0].networks[0]: invalid CIDR"));
        assert!(err(json!({"priority": 1, "subject": subject,
            "egress": [{"action": "Allow", "to": [{"namespaces": {}}], "ports": [{"portRange": {"start": 9, "end": 1}}]}]}))
        .contains("illegal"));
        assert!(err(json!({"priority": 1, "subject": {"namespaces": {"matchLabels": {"a b": "c"}}}}))
            .contains("invalid label key"));
        let banp = parse(Tier::Baseline, "other", &json!({"spec": {"subject": subject}}), Origin::default());
        assert!(banp.unwrap_err().contains("must be named \"default\""));
        let pass = parse(
            Tier::Baseline,
            "default",
            &json!({"spec": {"subject": subject, "ingress": [{"action": "Pass", "from": [{"namespaces": {}}]}]}}),
            Origin::default(),
        );
        assert!(pass.unwrap_err().contains("expected Allow or Deny"));
    }

    #[test]
    fn label_syntax() {
        use validate::{label_key, label_value};
        assert!(label_key("kubernetes.io/metadata.name").is_ok());
        assert!(label_key("app").is_ok());
        assert!(label_key("-app").is_err());
        assert!(label_key("Example.com/x").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("a b").is_err());
        assert!(label_value(&"x".repeat(64)).is_err());
    }
}
