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

pub mod address;
pub mod control_plane;
pub mod entry;
pub mod files;
pub mod index;
pub mod kube_api;
pub mod monitoring;
pub mod mounts;
pub mod operator;
pub mod output;
pub mod peers;
pub mod references;

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
            // Every pod of the cluster (the default ingress controller) is not a declaration
            // about the render's own pods: none of them gets an egress rule for it.
            Endpoint::Selected { namespaces, selector }
                if selector::is_empty(namespaces) && selector::is_empty(selector) =>
            {
                Matcher::None
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
    /// `kube-api`, `monitoring`, `operator`, or `chart-policy` (what a chart's own policy admits).
    pub rule: String,
    /// Why, short and deterministic: `env DATABASE_URL of deployment/api names service db:5432`.
    pub evidence: String,
}

/// Which rule found a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A Service address in a workload's env, args, command, ConfigMap or Secret.
    ServiceReference,
    /// Pods behind one headless Service reach each other.
    Peers,
    /// LoadBalancer/NodePort Services, Ingress, Gateway API routes, OpenShift Routes.
    EntryPoint,
    /// Webhooks, APIServices and conversion webhooks the API server calls.
    ControlPlane,
    /// A workload whose ServiceAccount a binding of the render binds reaches the API server.
    KubeApi,
    /// Monitoring scrapes a metrics port.
    Monitoring,
    /// What a prometheus-operator resource of the render declares for its pods (alerting,
    /// remote write, Alertmanager's cluster).
    Operator,
}

impl Rule {
    /// The rule's name in output (`service-reference`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::ServiceReference => "service-reference",
            Rule::Peers => "peers",
            Rule::EntryPoint => "entry-point",
            Rule::ControlPlane => "control-plane",
            Rule::KubeApi => "kube-api",
            Rule::Monitoring => "monitoring",
            Rule::Operator => "operator",
        }
    }
}

/// One side of an inferred connection: the endpoint its rules name, and how listings name it
/// (`ns/Kind/name` for each workload of the render it stands for, `0.0.0.0/0`, a CIDR,
/// `{ingress-controller}`, `{monitoring}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Party {
    /// The pods or addresses.
    pub endpoint: Endpoint,
    /// Names for listings, sorted.
    pub names: Vec<String>,
}

impl Party {
    /// Workload `i` of the render (index into [`crate::model::Model::workloads`]), selected by
    /// its stable pod labels ([`index::Index::selectors`]).
    pub fn workload(ix: &index::Index, i: usize) -> Party {
        let w = &ix.model.workloads[i];
        Party { endpoint: Endpoint::workload(&w.namespace, &ix.selectors[i]), names: vec![workload_id(w)] }
    }

    /// The pods a Service selects, named by its backing workloads; `None` without a selector.
    pub fn service(model: &crate::model::Model, s: &index::Service) -> Option<Party> {
        let sel = s.selector.as_ref().filter(|l| !l.is_empty())?;
        let mut names: Vec<String> = s.backends.iter().map(|&i| workload_id(&model.workloads[i])).collect();
        names.sort();
        names.dedup();
        Some(Party {
            endpoint: Endpoint::Pods {
                namespace: s.namespace.clone(),
                selector: selector::from_labels(sel.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            },
            names,
        })
    }

    /// Anywhere (`0.0.0.0/0`).
    pub fn anywhere() -> Party {
        Party { endpoint: Endpoint::Anywhere, names: vec![ANYWHERE.into()] }
    }
}

/// How listings name [`Endpoint::Anywhere`].
pub const ANYWHERE: &str = "0.0.0.0/0";

/// A workload's name in listings: `ns/Kind/name` (a Pod of a controller by its controller).
pub fn workload_id(w: &crate::model::Workload) -> String {
    match &w.owner {
        Some(o) if !o.kind.is_empty() => format!("{}/{}/{}", w.namespace, o.kind, o.name),
        _ => format!("{}/{}/{}", w.namespace, w.kind, w.name),
    }
}

/// A connection the release's manifests declare.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    /// The client side.
    pub from: Party,
    /// The server side.
    pub to: Party,
    /// Ports on the servers' pods; empty: all.
    pub ports: Vec<NetworkPolicyPort>,
    /// The rule that found it.
    pub rule: Rule,
    /// Why, short and deterministic.
    pub evidence: String,
}

impl Connection {
    /// The allowance that keeps it open.
    pub fn allowance(&self) -> Allowance {
        Allowance {
            from: self.from.endpoint.clone(),
            to: self.to.endpoint.clone(),
            ports: self.ports.clone(),
            rule: self.rule.as_str().to_string(),
            evidence: self.evidence.clone(),
        }
    }
}

/// Every connection the manifests of `model` declare under `config.infer`, in a fixed order
/// (by source, destination, rule, evidence), each once. `model` must have been built with
/// [`crate::model::Needs::manifests`].
pub fn infer(model: &crate::model::Model, config: &crate::config::Config) -> Vec<Connection> {
    let cfg = &config.infer;
    if !cfg.enabled {
        return vec![];
    }
    let ix = index::Index::new(model);
    let mut out = Vec::new();
    if cfg.service_references {
        references::infer(&ix, &cfg.cluster_domain, cfg.mounted_files, &mut out);
    }
    if cfg.peers {
        peers::infer(&ix, &mut out);
    }
    if cfg.entry_points {
        entry::infer(&ix, cfg, &mut out);
    }
    if cfg.control_plane {
        control_plane::infer(&ix, &mut out);
    }
    if cfg.kube_api {
        kube_api::infer(&ix, config, &mut out);
    }
    if cfg.monitoring {
        monitoring::infer(&ix, cfg, &mut out);
    }
    if cfg.operator {
        operator::infer(&ix, &cfg.cluster_domain, &mut out);
    }
    out.sort_by(|a, b| {
        (&a.from.names, &a.to.names, a.rule, &a.evidence).cmp(&(&b.from.names, &b.to.names, b.rule, &b.evidence))
    });
    // The same connection found twice (one address in two env vars): the first evidence stays.
    out.dedup_by(|b, a| a.from == b.from && a.to == b.to && a.ports == b.ports && a.rule == b.rule);
    out
}

/// Every allowance the render needs under `config`: the sources feed in here.
pub fn allowances(model: &crate::model::Model, config: &crate::config::Config) -> Vec<Allowance> {
    infer(model, config).iter().map(Connection::allowance).collect()
}
