//! The cluster's DNS servers as the analysis sees them: the input's pods labelled as one of the
//! DNS deployments [`crate::k8s::dns`] knows, or a stand-in for the cluster's.

use super::connectivity::{Options, Probe};
use super::ports::{ConnSet, PortSet, Protocol};
use super::topology::Topology;
use crate::k8s::dns;
use crate::k8s::selector::Labels;
use crate::model::workload::ContainerPort;

/// The DNS servers (the namespace matrix's DNS column, the lint's DNS rules): the input's pods labelled as
/// DNS servers, or else a `kube-system` pod labelled `k8s-app: kube-dns` standing in for the
/// cluster's (the render rarely contains it).
#[derive(Debug, Clone)]
pub struct DnsTargets {
    /// Workloads of the input that serve DNS.
    pub workloads: Vec<usize>,
    /// The stand-in, when the input has none.
    pub assumed: Option<Probe>,
}

impl DnsTargets {
    /// Finds the DNS servers of `topology`.
    pub fn find(topology: &Topology) -> DnsTargets {
        let workloads: Vec<usize> = topology
            .workloads
            .iter()
            .enumerate()
            .filter(|(_, w)| {
                dns::DEPLOYMENTS.iter().any(|d| w.labels.get(d.pod_label.0).map(String::as_str) == Some(d.pod_label.1))
            })
            .map(|(i, _)| i)
            .collect();
        let assumed = workloads.is_empty().then(|| Probe {
            namespace: dns::KUBE_DNS.namespace.into(),
            labels: Labels::from([(dns::KUBE_DNS.pod_label.0.to_string(), dns::KUBE_DNS.pod_label.1.to_string())]),
            ports: vec![
                ContainerPort { name: "dns".into(), port: dns::KUBE_DNS.port, protocol: "UDP".into() },
                ContainerPort { name: "dns-tcp".into(), port: dns::KUBE_DNS.port, protocol: "TCP".into() },
            ],
        });
        DnsTargets { workloads, assumed }
    }

    /// Engine options evaluating the stand-in (if any) as probe 0.
    pub fn options(&self) -> Options {
        Options { probes: self.assumed.iter().cloned().collect(), ..Options::default() }
    }

    /// DNS ports of the known deployments (53, and 5353 for OpenShift), UDP and TCP.
    pub fn ports() -> ConnSet {
        let mut c = ConnSet::none();
        for p in [Protocol::Udp, Protocol::Tcp] {
            for port in dns::ports() {
                c.union_with(&ConnSet::of(p, PortSet::range(port as u16, port as u16)));
            }
        }
        c
    }
}
