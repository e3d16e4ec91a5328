//! netfence's configuration: the `netfence` block of Helm-style values files (see [`values`] for
//! how a chart's own `networkPolicy` block is read), the KRM `NetFence` spec and the Argo CD
//! plugin's values files all map onto [`Config`].
//!
//! The block is strict: an unknown key is an error naming its path, because a typo in a security
//! setting must never silently weaken isolation. Rules in Kubernetes shape (egress rules,
//! selectors, ports) are checked as strictly as the API server would (see [`crate::k8s::validate`]).

pub mod function_config;
pub mod infer;
pub mod namespace;
pub mod platform;
pub mod release;
pub mod values;

use crate::error::{Error, Result};
use crate::k8s::validate;
use k8s_openapi::api::networking::v1::{NetworkPolicyEgressRule, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// The name of the block in values files and in error paths (`netfence.dns.profile`).
pub const PREFIX: &str = "netfence";

/// The `netfence` block.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
#[schemars(title = "netfence", description = "netfence configuration: the `netfence` block of Helm values")]
pub struct Config {
    /// `false` passes every document through unchanged.
    pub enabled: bool,
    /// Egress rules (NetworkPolicyEgressRule) appended, once, to every policy that restricts
    /// egress of specific pods (not to namespace-wide baselines such as a default-deny).
    #[serde(deserialize_with = "de_egress_rules")]
    #[schemars(with = "Option<Vec<NetworkPolicyEgressRule>>")]
    pub egress: Vec<NetworkPolicyEgressRule>,
    /// The chart's own `networkPolicy.egress` (read by [`values::load`], never from this
    /// block): merged like `egress`, except that rules the chart already rendered into one of
    /// its policies are not spread to the others.
    #[serde(skip)]
    #[schemars(skip)]
    pub chart_egress: Vec<NetworkPolicyEgressRule>,
    /// The DNS egress rule injected into egress-restricting policies and the allow-DNS policies.
    pub dns: Dns,
    /// Per-namespace default-deny plus allow-DNS.
    pub default_deny: DefaultDeny,
    /// Edges of the namespace policy matrix.
    pub allow: Vec<platform::Allow>,
    /// Internet egress (any address but private ranges) for chosen pods.
    pub external_egress: Vec<platform::ExternalEgress>,
    /// Egress to the Kubernetes API server for chosen pods.
    pub kube_api: platform::KubeApi,
    /// Ingress for `kubectl port-forward` (relaxed; off by default).
    pub port_forward: platform::PortForward,
    /// A policy for every workload that no policy selects.
    pub workload_policies: platform::WorkloadPolicies,
    /// The connections the release's manifests declare, kept open.
    pub infer: infer::Infer,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            egress: vec![],
            chart_egress: vec![],
            dns: Dns::default(),
            default_deny: DefaultDeny::default(),
            allow: vec![],
            external_egress: vec![],
            kube_api: platform::KubeApi::default(),
            port_forward: platform::PortForward::default(),
            workload_policies: platform::WorkloadPolicies::default(),
            infer: infer::Infer::default(),
        }
    }
}

impl Config {
    /// Reads the block from a JSON value (the `netfence` key of merged values, or a KRM
    /// function config's `spec`). `prefix` names the block in error paths.
    pub fn from_value(value: Value, prefix: &str) -> Result<Config> {
        let value = if value.is_null() { Value::Object(Default::default()) } else { value };
        let config: Config = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.inner().to_string();
            // Validators report the path below the field as "<sub-path>: <message>".
            let (sub, message) = match inner.split_once(": ") {
                Some((sub, msg)) if sub.starts_with(['[', '.']) => (sub.to_string(), msg.to_string()),
                _ => (String::new(), inner),
            };
            let base = if path == "." { prefix.to_string() } else { format!("{prefix}.{path}") };
            Error::config(format!("{base}{sub}"), message)
        })?;
        config.validate(prefix)?;
        Ok(config)
    }

    /// Checks that need more than one field.
    fn validate(&self, prefix: &str) -> Result<()> {
        if self.dns.node_local_address.parse::<std::net::IpAddr>().is_err() {
            return Err(Error::config(
                format!("{prefix}.dns.nodeLocalAddress"),
                format!("{:?} is not an IP address", self.dns.node_local_address),
            ));
        }
        if self.dns.profile == DnsProfile::Custom && self.dns.namespace.is_none() && self.dns.ip_blocks.is_empty() {
            return Err(Error::config(
                format!("{prefix}.dns"),
                "profile custom needs `namespace` (with `podSelector`) or `ipBlocks`",
            ));
        }
        if self.default_deny.as_ == BaselineForm::BaselineAdminNetworkPolicy
            && self.dns.enabled
            && self.dns.profile == DnsProfile::Custom
            && self.dns.ports.iter().any(|p| p.port.is_none())
        {
            // A BANP port is a number, a range or a name; "any port of a protocol" has no form.
            return Err(Error::config(
                format!("{prefix}.defaultDeny.as"),
                "dns.ports has a port without a number, which a BaselineAdminNetworkPolicy cannot express; use networkPolicies",
            ));
        }
        for (i, edge) in self.allow.iter().enumerate() {
            edge.from.validate(&format!("{prefix}.allow[{i}].from"), false)?;
            edge.to.validate(&format!("{prefix}.allow[{i}].to"), false)?;
        }
        for (i, entry) in self.external_egress.iter().enumerate() {
            entry.validate(&format!("{prefix}.externalEgress[{i}]"))?;
        }
        self.kube_api.validate(&format!("{prefix}.kubeApi"))?;
        self.infer.validate(&format!("{prefix}.infer"))?;
        self.port_forward.validate(&format!("{prefix}.portForward"))
    }

    /// Whether the transforms need the render's workloads (pod labels, container ports).
    pub fn needs_workloads(&self) -> bool {
        !self.allow.is_empty()
            || !self.external_egress.is_empty()
            || !self.kube_api.from.is_empty()
            || self.workload_policies.enabled
            || self.infer.enabled
            // What netfence's default-deny closes is kept per workload (chart policies' rules).
            || self.default_deny.enabled
    }
}

/// Where cluster DNS lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DnsProfile {
    /// CoreDNS/kube-dns pods (`k8s-app: kube-dns`) in kube-system, UDP and TCP 53.
    #[default]
    KubeDns,
    /// kube-dns plus the NodeLocal DNSCache address (hostNetwork, so only an ipBlock reaches it).
    NodeLocal,
    /// OpenShift's DNS pods in `openshift-dns`, UDP and TCP 5353 (policies see the port after DNAT).
    Openshift,
    /// Everything from `namespace`, `podSelector`, `ports` and `ipBlocks`.
    Custom,
}

impl DnsProfile {
    /// The name the configuration uses.
    pub fn as_str(self) -> &'static str {
        match self {
            DnsProfile::KubeDns => "kube-dns",
            DnsProfile::NodeLocal => "node-local",
            DnsProfile::Openshift => "openshift",
            DnsProfile::Custom => "custom",
        }
    }
}

/// The `dns` settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Dns {
    /// `false`: inject no DNS rule and generate no allow-DNS policies.
    pub enabled: bool,
    /// Which DNS to allow.
    pub profile: DnsProfile,
    /// NodeLocal DNSCache address (profile node-local).
    pub node_local_address: String,
    /// Namespace of the DNS pods (profile custom).
    pub namespace: Option<String>,
    /// Labels of the DNS pods (profile custom).
    #[serde(deserialize_with = "de_opt_selector")]
    #[schemars(with = "Option<LabelSelector>")]
    pub pod_selector: Option<LabelSelector>,
    /// Ports (profile custom; default UDP and TCP 53).
    #[serde(deserialize_with = "de_ports")]
    #[schemars(with = "Option<Vec<NetworkPolicyPort>>")]
    pub ports: Vec<NetworkPolicyPort>,
    /// Extra DNS addresses as CIDRs (profile custom).
    #[serde(deserialize_with = "de_cidrs")]
    pub ip_blocks: Vec<String>,
}

impl Default for Dns {
    fn default() -> Self {
        Dns {
            enabled: true,
            profile: DnsProfile::KubeDns,
            node_local_address: crate::k8s::dns::NODE_LOCAL_ADDRESS.into(),
            namespace: None,
            pod_selector: None,
            ports: vec![],
            ip_blocks: vec![],
        }
    }
}

/// A NetworkPolicy direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema)]
pub enum PolicyType {
    /// Incoming traffic.
    Ingress,
    /// Outgoing traffic.
    Egress,
}

impl PolicyType {
    /// The name Kubernetes uses.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Ingress => "Ingress",
            PolicyType::Egress => "Egress",
        }
    }
}

/// The `defaultDeny` settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct DefaultDeny {
    /// `false`: generate no default-deny or allow-DNS policies.
    pub enabled: bool,
    /// Directions the default-deny policy isolates.
    pub policy_types: Vec<PolicyType>,
    /// Namespaces that get no default-deny.
    pub exclude_namespaces: Vec<String>,
    /// How the baseline is expressed: per-namespace NetworkPolicies (the default), or one
    /// cluster-scoped `BaselineAdminNetworkPolicy` for clusters whose CNI implements it.
    #[serde(rename = "as")]
    pub as_: BaselineForm,
}

/// The form of the namespace baseline (`defaultDeny.as`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum BaselineForm {
    /// `netfence-default-deny` and `netfence-allow-dns` NetworkPolicies in every namespace.
    #[default]
    NetworkPolicies,
    /// One `BaselineAdminNetworkPolicy` named `default` (policy.networking.k8s.io/v1alpha1)
    /// whose subject is the managed namespaces. It cannot deny ingress from outside the cluster
    /// (BANP ingress peers are pods and namespaces only).
    BaselineAdminNetworkPolicy,
}

impl Default for DefaultDeny {
    fn default() -> Self {
        DefaultDeny {
            enabled: true,
            policy_types: vec![PolicyType::Ingress, PolicyType::Egress],
            exclude_namespaces: crate::k8s::SYSTEM_NAMESPACES.map(String::from).to_vec(),
            as_: BaselineForm::NetworkPolicies,
        }
    }
}

/// The JSON Schema of the `netfence` block (`netfence schema`).
pub fn json_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default()
}

fn de_egress_rules<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NetworkPolicyEgressRule>, D::Error> {
    let raw = Option::<Vec<Value>>::deserialize(d)?.unwrap_or_default();
    raw.iter()
        .enumerate()
        .map(|(i, v)| validate::egress_rule(v).map_err(|e| serde::de::Error::custom(e.at_index(i))))
        .collect()
}

fn de_ports<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NetworkPolicyPort>, D::Error> {
    let raw = Option::<Vec<Value>>::deserialize(d)?.unwrap_or_default();
    raw.iter()
        .enumerate()
        .map(|(i, v)| validate::port(v).map_err(|e| serde::de::Error::custom(e.at_index(i))))
        .collect()
}

fn de_opt_selector<'de, D: Deserializer<'de>>(d: D) -> Result<Option<LabelSelector>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(v) => validate::label_selector(&v).map(Some).map_err(|e| serde::de::Error::custom(e.under(""))),
    }
}

fn de_cidrs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let raw = Option::<Vec<String>>::deserialize(d)?.unwrap_or_default();
    for (i, c) in raw.iter().enumerate() {
        validate::cidr(c).map_err(|e| serde::de::Error::custom(e.at_index(i)))?;
    }
    Ok(raw)
}
