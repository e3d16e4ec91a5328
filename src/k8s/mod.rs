//! What netfence knows about Kubernetes itself, independent of netfence's own logic: well-known
//! labels, DNS deployments, private and metadata address ranges, API server defaults, label
//! selectors parsed once ([`selector`]) and the API server's rules for NetworkPolicy pieces
//! ([`validate`]). Config, transforms, analysis and lint all take these from here.

pub mod dns;
pub mod ranges;
pub mod selector;
pub mod validate;

/// The label the API server sets on every namespace (since Kubernetes 1.21) to its name: the
/// only portable way to select a namespace by name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The recommended label naming the tool that manages an object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";

/// The value of [`MANAGED_BY_LABEL`] on every object netfence generates.
pub const MANAGED_BY_NETFENCE: &str = "netfence";

/// The namespace of the cluster's own components (DNS, the API server's endpoints' neighbours).
pub const KUBE_SYSTEM: &str = "kube-system";

/// Namespaces every cluster has that hold no application pods: netfence leaves them alone by
/// default.
pub const SYSTEM_NAMESPACES: [&str; 3] = [KUBE_SYSTEM, "kube-public", "kube-node-lease"];

/// Ports the API server listens on: 443 (the `kubernetes` Service and most managed clusters)
/// and 6443 (kubeadm's default `--secure-port`, what pods reach after the Service's DNAT).
pub const API_SERVER_PORTS: [i32; 2] = [443, 6443];

/// The protocols a NetworkPolicy port may name.
pub const PROTOCOLS: [&str; 3] = ["TCP", "UDP", "SCTP"];
