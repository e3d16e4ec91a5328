//! Where cluster DNS runs, per distribution: the pods a DNS egress rule must reach.

/// A cluster DNS deployment: its pods and the port policies see (after the Service's DNAT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsDeployment {
    /// Namespace of the DNS pods.
    pub namespace: &'static str,
    /// The label that marks the DNS pods.
    pub pod_label: (&'static str, &'static str),
    /// The port the pods listen on, UDP and TCP.
    pub port: i32,
}

/// CoreDNS / kube-dns: pods labelled `k8s-app: kube-dns` in kube-system, port 53 (every
/// upstream-based distribution, kubeadm, EKS, GKE, AKS, k3s).
pub const KUBE_DNS: DnsDeployment =
    DnsDeployment { namespace: super::KUBE_SYSTEM, pod_label: ("k8s-app", "kube-dns"), port: 53 };

/// OpenShift's DNS operator: its daemonset's pods in `openshift-dns`, listening on 5353.
pub const OPENSHIFT_DNS: DnsDeployment = DnsDeployment {
    namespace: "openshift-dns",
    pod_label: ("dns.operator.openshift.io/daemonset-dns", "default"),
    port: 5353,
};

/// Every DNS deployment netfence knows, for analysis that looks for DNS servers in a render.
pub const DEPLOYMENTS: [DnsDeployment; 2] = [KUBE_DNS, OPENSHIFT_DNS];

/// The default address of NodeLocal DNSCache (a hostNetwork daemonset: only an ipBlock
/// reaches it).
pub const NODE_LOCAL_ADDRESS: &str = "169.254.20.10";

/// Every port DNS is served on by the known deployments (53, 5353), in order.
pub fn ports() -> Vec<i32> {
    let mut ports: Vec<i32> = DEPLOYMENTS.iter().map(|d| d.port).collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}
