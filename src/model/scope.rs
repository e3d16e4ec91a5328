//! Which kinds are cluster-scoped, so that defaulting never puts a ClusterRole in a namespace.
//!
//! Without a cluster to ask, netfence knows the built-in cluster-scoped kinds, those of common
//! add-ons, and the scope of every CustomResourceDefinition in the same stream.

use crate::stream::header::Header;
use std::collections::BTreeMap;

/// Kind → cluster-scoped, from the CRDs of the stream.
pub type CrdScopes = BTreeMap<String, bool>;

/// Built-in and well-known add-on kinds that are cluster-scoped, as `(group, kind)`.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("policy", "PodSecurityPolicy"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("resource.k8s.io", "DeviceClass"),
    ("resource.k8s.io", "ResourceSlice"),
    ("cert-manager.io", "ClusterIssuer"),
    ("cilium.io", "CiliumClusterwideNetworkPolicy"),
    ("crd.projectcalico.org", "GlobalNetworkPolicy"),
    ("projectcalico.org", "GlobalNetworkPolicy"),
    ("kyverno.io", "ClusterPolicy"),
    ("gateway.networking.k8s.io", "GatewayClass"),
    ("policy.networking.k8s.io", "AdminNetworkPolicy"),
    ("policy.networking.k8s.io", "BaselineAdminNetworkPolicy"),
];

/// Scopes declared by the CRDs among `headers`.
pub fn crd_scopes<'a>(headers: impl Iterator<Item = &'a Header>) -> CrdScopes {
    headers.filter_map(|h| h.crd.clone()).collect()
}

/// Whether objects of this apiVersion/kind live outside namespaces.
pub fn is_cluster_scoped(api_version: &str, kind: &str, crds: &CrdScopes) -> bool {
    if let Some(cluster) = crds.get(kind) {
        return *cluster;
    }
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    CLUSTER_SCOPED.iter().any(|(g, k)| *k == kind && *g == group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_and_crd_scopes() {
        let none = CrdScopes::new();
        assert!(is_cluster_scoped("rbac.authorization.k8s.io/v1", "ClusterRole", &none));
        assert!(is_cluster_scoped("v1", "Namespace", &none));
        assert!(!is_cluster_scoped("v1", "Service", &none));
        assert!(!is_cluster_scoped("example.com/v1", "Namespace", &none));
        let crds = CrdScopes::from([("Widget".to_string(), true)]);
        assert!(is_cluster_scoped("example.com/v1", "Widget", &crds));
    }
}
