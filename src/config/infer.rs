//! The `infer` block: which connections netfence reads from the release's own manifests and
//! keeps open (see [`crate::infer`]).

use crate::error::{Error, Result};
use crate::k8s::validate;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// The `infer` settings. On by default; each source can be switched off.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Infer {
    /// `false`: infer nothing (netfence behaves as before inference existed).
    pub enabled: bool,
    /// Service addresses in env, args, command and the ConfigMaps/Secrets they read.
    pub service_references: bool,
    /// Service addresses also in the files containers mount from ConfigMaps and Secrets
    /// (`volumes[].configMap`, `.secret`, `.projected`): YAML, JSON, ini, nginx and similar
    /// configuration files. Read only when `serviceReferences` is on.
    pub mounted_files: bool,
    /// Pods behind one headless Service (a StatefulSet's cluster) reach each other.
    pub peers: bool,
    /// LoadBalancer/NodePort Services, Ingress, Gateway API routes, OpenShift Routes.
    pub entry_points: bool,
    /// Webhook configurations, APIServices and CRD conversion webhooks (the API server calls them).
    pub control_plane: bool,
    /// Workloads whose ServiceAccount a (Cluster)RoleBinding of the render binds reach the API
    /// server (at `kubeApi.cidrs`, or anywhere on the API ports when those are unset).
    pub kube_api: bool,
    /// ServiceMonitor, PodMonitor and `prometheus.io/scrape` annotations.
    pub monitoring: bool,
    /// What the prometheus-operator's `Prometheus`, `Alertmanager` and `ThanosRuler` resources
    /// declare for their pods: alerting, remote write/read, Alertmanager's cluster mesh.
    pub operator: bool,
    /// The DNS domain of the cluster (`svc.ns.svc.<clusterDomain>`).
    pub cluster_domain: String,
    /// Where the ingress controller (or Gateway) pods run; default: any pod of any namespace.
    pub ingress_controller: Pods,
    /// Where the monitoring scrapers run; default: pods labelled
    /// `app.kubernetes.io/name: prometheus` in any namespace.
    pub monitoring_from: Pods,
}

impl Default for Infer {
    fn default() -> Self {
        Infer {
            enabled: true,
            service_references: true,
            mounted_files: true,
            peers: true,
            entry_points: true,
            control_plane: true,
            kube_api: true,
            monitoring: true,
            operator: true,
            cluster_domain: "cluster.local".into(),
            ingress_controller: Pods::default(),
            monitoring_from: Pods {
                namespace_selector: LabelSelector::default(),
                pod_selector: crate::k8s::selector::from_labels([("app.kubernetes.io/name", "prometheus")]),
            },
        }
    }
}

impl Infer {
    pub(super) fn validate(&self, path: &str) -> Result<()> {
        let domain = self.cluster_domain.trim_end_matches('.');
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if domain.is_empty() || !domain.split('.').all(label_ok) {
            return Err(Error::config(
                format!("{path}.clusterDomain"),
                format!("{:?} is not a DNS domain (lower-case labels separated by dots)", self.cluster_domain),
            ));
        }
        Ok(())
    }
}

/// Pods anywhere in the cluster, by namespace labels and pod labels (empty: all).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Pods {
    /// The namespaces, by their labels (`kubernetes.io/metadata.name` names one).
    #[serde(deserialize_with = "de_selector")]
    #[schemars(with = "Option<LabelSelector>")]
    pub namespace_selector: LabelSelector,
    /// The pods within them.
    #[serde(deserialize_with = "de_selector")]
    #[schemars(with = "Option<LabelSelector>")]
    pub pod_selector: LabelSelector,
}

fn de_selector<'de, D: Deserializer<'de>>(d: D) -> Result<LabelSelector, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(LabelSelector::default()),
        Some(v) => validate::label_selector(&v).map_err(|e| serde::de::Error::custom(e.under(""))),
    }
}
