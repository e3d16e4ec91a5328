//! The traffic a release needs, as connections netfence must keep open.
//!
//! [`Allowance`] is the shared currency: "allow this connection on the side(s) netfence
//! restricts and the chart does not". Inference (the connections the manifests declare) and
//! the chart's own policies (what they admit) both produce allowances;
//! [`crate::transform::allowances`] turns them into per-workload policies.
//!
//! This module depends only on [`crate::k8s`], [`crate::model`] and [`crate::config`]: render
//! (via the transforms) and the analysis may use it, never the reverse.

use k8s_openapi::api::networking::v1::{IPBlock, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::k8s::selector::{self, Labels, Selector};

/// One end of an allowed connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Endpoint {
    /// The pods of one namespace matching `selector` (a Service's selector, a workload's
    /// pod-template labels, a chart policy's podSelector); an empty selector: all its pods.
    Pods {
        /// The namespace.
        namespace: String,
        /// The pods.
        selector: LabelSelector,
    },
    /// The pods matching `selector` in every namespace whose labels match `namespaces` (a
    /// chart peer with a namespaceSelector; an ingress controller or monitoring stack that
    /// may live anywhere). Empty selectors select everything.
    Selected {
        /// The namespaces, by their labels.
        namespaces: LabelSelector,
        /// The pods within them.
        selector: LabelSelector,
    },
    /// Any source or destination: entry points (load balancers, node ports) and callers that
    /// are not pods (the API server calling a webhook).
    Anywhere,
    /// Addresses outside the pod network (the Kubernetes API server).
    IpBlock(IPBlock),
}

impl Endpoint {
    /// The pods of `namespace` that carry `labels` (a workload's pod template).
    pub fn workload(namespace: &str, labels: &Labels) -> Endpoint {
        Endpoint::Pods {
            namespace: namespace.to_string(),
            selector: selector::from_labels(labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        }
    }

    /// Whether this endpoint includes the pods with `labels` in namespace `namespace`, whose
    /// labels are `namespace_labels`. `Anywhere` and ipBlocks select no pod: an allowance from
    /// anywhere opens the server's ingress, never every pod's egress (and whether pod IPs fall
    /// under an ipBlock is left to the implementation by Kubernetes).
    pub fn selects(&self, namespace: &str, namespace_labels: &Labels, labels: &Labels) -> bool {
        match self {
            Endpoint::Pods { namespace: ns, selector } => ns == namespace && selector::matches(selector, labels),
            Endpoint::Selected { namespaces, selector } => {
                selector::matches(namespaces, namespace_labels) && selector::matches(selector, labels)
            }
            Endpoint::Anywhere | Endpoint::IpBlock(_) => false,
        }
    }

    /// The policy peer naming this endpoint, `None` for [`Endpoint::Anywhere`] (a rule without
    /// peers).
    pub fn peer(&self) -> Option<NetworkPolicyPeer> {
        let pods = |s: &LabelSelector| (!selector::is_empty(s)).then(|| s.clone());
        match self {
            Endpoint::Pods { namespace, selector } => Some(NetworkPolicyPeer {
                namespace_selector: Some(selector::namespace_selector(namespace)),
                pod_selector: pods(selector),
                ip_block: None,
            }),
            Endpoint::Selected { namespaces, selector } => Some(NetworkPolicyPeer {
                namespace_selector: Some(namespaces.clone()),
                pod_selector: pods(selector),
                ip_block: None,
            }),
            Endpoint::Anywhere => None,
            Endpoint::IpBlock(block) => Some(NetworkPolicyPeer { ip_block: Some(block.clone()), ..Default::default() }),
        }
    }

    /// The namespace this endpoint is confined to, if one.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Endpoint::Pods { namespace, .. } => Some(namespace),
            _ => None,
        }
    }

    /// A parsed form for matching many pods.
    pub(crate) fn matcher(&self) -> Matcher {
        match self {
            Endpoint::Pods { namespace, selector } => {
                Matcher::Pods { namespace: Some(namespace.clone()), ns: Selector::default(), pods: selector.into() }
            }
            Endpoint::Selected { namespaces, selector } => {
                Matcher::Pods { namespace: None, ns: namespaces.into(), pods: selector.into() }
            }
            Endpoint::Anywhere | Endpoint::IpBlock(_) => Matcher::None,
        }
    }
}

/// An [`Endpoint`] with its selectors parsed once.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    /// Pods by namespace (name or labels) and labels.
    Pods { namespace: Option<String>, ns: Selector, pods: Selector },
    /// No pod.
    None,
}

impl Matcher {
    /// Whether the pod with `labels` in `namespace` (labelled `namespace_labels`) is selected.
    pub(crate) fn selects(&self, namespace: &str, namespace_labels: &Labels, labels: &Labels) -> bool {
        match self {
            Matcher::Pods { namespace: name, ns, pods } => {
                name.as_deref().is_none_or(|n| n == namespace) && ns.matches(namespace_labels) && pods.matches(labels)
            }
            Matcher::None => false,
        }
    }
}

/// A connection netfence must keep open: `from` may reach `to` on `ports`.
#[derive(Debug, Clone, PartialEq)]
pub struct Allowance {
    /// The clients.
    pub from: Endpoint,
    /// The servers.
    pub to: Endpoint,
    /// Ports on the servers' pods (target ports, after a Service's translation); empty: all.
    pub ports: Vec<NetworkPolicyPort>,
    /// Which rule found it: `service-reference`, `peers`, `entry-point`, `control-plane`,
    /// `kube-api`, `monitoring`, or `chart-policy` (what a chart's own policy admits).
    pub rule: String,
    /// Why, short and deterministic: `env DATABASE_URL of deployment/api names service db:5432`.
    pub evidence: String,
}

/// Every allowance the render needs under `config`: the sources feed in here.
pub fn allowances(_model: &crate::model::Model, _config: &crate::config::Config) -> Vec<Allowance> {
    Vec::new()
}
