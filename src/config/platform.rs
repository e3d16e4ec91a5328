//! Platform-level intent: namespace-to-namespace edges (`allow`), external HTTPS egress,
//! Kubernetes API egress, port-forward allowances and per-workload policies.

use crate::error::{Error, Result};
use crate::k8s::validate;
use ipnet::IpNet;
use k8s_openapi::api::networking::v1::NetworkPolicyPort;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// One side of an edge, or the pods an allowance is for.
///
/// `namespace` (all pods there, or those matching `podSelector`), `namespaces` (several), the
/// namespace `"*"` (every namespace netfence manages in this render), or `workload` (a workload
/// of the render, resolved to its pod-template labels; `namespace` disambiguates).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Side {
    /// A namespace, or `"*"` for every managed namespace.
    pub namespace: Option<String>,
    /// Several namespaces.
    pub namespaces: Option<Vec<String>>,
    /// Pods within the namespace(s); absent means all pods.
    #[serde(default, deserialize_with = "de_opt_selector")]
    #[schemars(with = "Option<LabelSelector>")]
    pub pod_selector: Option<LabelSelector>,
    /// A Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod of the render, by name.
    pub workload: Option<String>,
}

impl Side {
    /// Checks the side's shape (what it selects is checked against the render by the
    /// transforms). `require_selector`: the side must not select whole namespaces.
    pub fn validate(&self, path: &str, require_selector: bool) -> Result<()> {
        let err = |field: &str, msg: &str| Err(Error::config(format!("{path}{field}"), msg));
        if self.workload.is_some() {
            if self.namespaces.is_some() || self.pod_selector.is_some() {
                return err("", "a workload side takes only `namespace` besides `workload`");
            }
            return Ok(());
        }
        if require_selector && self.pod_selector.as_ref().is_none_or(crate::k8s::selector::is_empty) {
            return err("", "needs a non-empty `podSelector` or a `workload`");
        }
        match (&self.namespace, &self.namespaces) {
            (Some(_), Some(_)) => err("", "set `namespace` or `namespaces`, not both"),
            (None, Some(list)) if list.is_empty() => err(".namespaces", "is empty"),
            (None, None) if !require_selector => err("", "needs `namespace`, `namespaces` or `workload`"),
            _ => Ok(()),
        }
    }
}

/// An edge of the policy matrix: `from` may open connections to `to`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Allow {
    /// The clients.
    pub from: Side,
    /// The servers.
    pub to: Side,
    /// Ports on the servers; omitted: the `to` workload's container ports, or all ports.
    #[serde(default, deserialize_with = "de_opt_ports")]
    #[schemars(with = "Option<Vec<NetworkPolicyPort>>")]
    pub ports: Option<Vec<NetworkPolicyPort>>,
}

/// Egress to the internet: any address except private and link-local ranges.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalEgress {
    /// Namespace of the pods (default: the render's default namespace).
    pub namespace: Option<String>,
    /// Which pods (required unless `workload` is given).
    #[serde(default, deserialize_with = "de_opt_selector")]
    #[schemars(with = "Option<LabelSelector>")]
    pub pod_selector: Option<LabelSelector>,
    /// A workload of the render, by name.
    pub workload: Option<String>,
    /// TCP ports (default 443) or NetworkPolicyPort objects.
    #[serde(default = "https", deserialize_with = "de_port_list")]
    #[schemars(with = "Option<Vec<Value>>")]
    pub ports: Vec<NetworkPolicyPort>,
    /// IPv4 (and, with `ipv6`, IPv6) ranges that stay closed.
    #[serde(default = "private_ranges", deserialize_with = "de_cidrs")]
    pub except: Vec<String>,
    /// Also allow `::/0` minus `fc00::/7` and `fe80::/10`.
    #[serde(default)]
    pub ipv6: bool,
}

impl ExternalEgress {
    /// The `except` ranges split by family, checked: IPv6 ones only with `ipv6`, no range
    /// inside another. IPv6 defaults to [`crate::k8s::ranges::PRIVATE_V6`] when none is listed.
    pub fn except_ranges(&self, path: &str) -> Result<(Vec<IpNet>, Vec<IpNet>)> {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for (j, text) in self.except.iter().enumerate() {
            let net: IpNet = text.parse().map_err(|_| Error::config(format!("{path}.except[{j}]"), "invalid CIDR"))?;
            match net {
                IpNet::V4(_) => v4.push(net),
                IpNet::V6(_) if self.ipv6 => v6.push(net),
                IpNet::V6(_) => {
                    return Err(Error::config(
                        format!("{path}.except[{j}]"),
                        format!("{text} is IPv6 but `ipv6` is not enabled"),
                    ))
                }
            }
        }
        if self.ipv6 && v6.is_empty() {
            v6 = crate::k8s::ranges::PRIVATE_V6.iter().filter_map(|c| c.parse().ok()).collect();
        }
        for nets in [&v4, &v6] {
            for (a, x) in nets.iter().enumerate() {
                if let Some(y) = nets.iter().enumerate().find(|(b, y)| *b != a && y.contains(x)).map(|(_, y)| y) {
                    return Err(Error::config(
                        format!("{path}.except"),
                        format!("{x} overlaps {y}; list each range once"),
                    ));
                }
            }
        }
        Ok((v4, v6))
    }

    pub(super) fn validate(&self, path: &str) -> Result<()> {
        self.except_ranges(path)?;
        self.side().validate(path, true)
    }

    /// The pods this allowance is for, as a [`Side`].
    pub fn side(&self) -> Side {
        Side {
            namespace: self.namespace.clone(),
            namespaces: None,
            pod_selector: self.pod_selector.clone(),
            workload: self.workload.clone(),
        }
    }
}

/// Egress to the Kubernetes API server, which selectors cannot match (it is not a pod).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct KubeApi {
    /// API server addresses as CIDRs (`kubectl get endpoints kubernetes -n default`).
    #[serde(deserialize_with = "de_cidrs")]
    pub cidrs: Vec<String>,
    /// TCP ports (default 443 and 6443).
    #[serde(deserialize_with = "de_port_list")]
    #[schemars(with = "Option<Vec<Value>>")]
    pub ports: Vec<NetworkPolicyPort>,
    /// The pods that may reach it.
    pub from: Vec<Side>,
}

/// Ingress for `kubectl port-forward` and host-network probes: relaxed, off by default.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct PortForward {
    /// Off by default: this opens pods to every process on the nodes.
    pub enabled: bool,
    /// Node / host CIDRs the traffic comes from.
    #[serde(deserialize_with = "de_cidrs")]
    pub cidrs: Vec<String>,
    /// Also allow ingress from every pod of kube-system.
    pub from_kube_system: bool,
    /// Namespaces that get the allowance (`"*"`: every managed namespace).
    pub namespaces: Vec<String>,
}

impl KubeApi {
    pub(super) fn validate(&self, path: &str) -> Result<()> {
        if !self.from.is_empty() && self.cidrs.is_empty() {
            return Err(Error::config(
                format!("{path}.cidrs"),
                "required when kubeApi.from is set (the API server's addresses)",
            ));
        }
        for (i, side) in self.from.iter().enumerate() {
            side.validate(&format!("{path}.from[{i}]"), true)?;
        }
        Ok(())
    }
}

impl PortForward {
    pub(super) fn validate(&self, path: &str) -> Result<()> {
        if self.enabled && self.cidrs.is_empty() && !self.from_kube_system {
            return Err(Error::config(path, "enabled but allows nothing: set `cidrs` or `fromKubeSystem`"));
        }
        Ok(())
    }
}

impl Default for KubeApi {
    fn default() -> Self {
        KubeApi { cidrs: vec![], ports: crate::k8s::API_SERVER_PORTS.map(tcp).to_vec(), from: vec![] }
    }
}

impl Default for PortForward {
    fn default() -> Self {
        PortForward { enabled: false, cidrs: vec![], from_kube_system: true, namespaces: vec!["*".into()] }
    }
}

/// A policy of its own for every workload that no policy selects.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct WorkloadPolicies {
    /// Off by default.
    pub enabled: bool,
}

fn https() -> Vec<NetworkPolicyPort> {
    vec![tcp(443)]
}

/// A TCP port.
pub fn tcp(port: i32) -> NetworkPolicyPort {
    NetworkPolicyPort {
        protocol: Some("TCP".into()),
        port: Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(port)),
        end_port: None,
    }
}

/// The default `except` list: the IPv4 private and link-local ranges ([`crate::k8s::ranges`]).
pub fn private_ranges() -> Vec<String> {
    crate::k8s::ranges::PRIVATE_V4.map(String::from).to_vec()
}

fn de_opt_selector<'de, D: Deserializer<'de>>(d: D) -> Result<Option<LabelSelector>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(v) => validate::label_selector(&v).map(Some).map_err(|e| serde::de::Error::custom(e.under(""))),
    }
}

fn de_opt_ports<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<NetworkPolicyPort>>, D::Error> {
    match Option::<Vec<Value>>::deserialize(d)? {
        None => Ok(None),
        Some(raw) => port_list(&raw).map(Some).map_err(serde::de::Error::custom),
    }
}

/// A list whose items are port numbers (TCP) or NetworkPolicyPort objects.
fn de_port_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NetworkPolicyPort>, D::Error> {
    let raw = Option::<Vec<Value>>::deserialize(d)?.unwrap_or_default();
    port_list(&raw).map_err(serde::de::Error::custom)
}

fn port_list(raw: &[Value]) -> Result<Vec<NetworkPolicyPort>, String> {
    raw.iter()
        .enumerate()
        .map(|(i, v)| {
            let v = if v.is_number() { serde_json::json!({"protocol": "TCP", "port": v}) } else { v.clone() };
            validate::port(&v).map_err(|e| e.at_index(i))
        })
        .collect()
}

fn de_cidrs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let raw = Option::<Vec<String>>::deserialize(d)?.unwrap_or_default();
    for (i, c) in raw.iter().enumerate() {
        validate::cidr(c).map_err(|e| serde::de::Error::custom(e.at_index(i)))?;
    }
    Ok(raw)
}
