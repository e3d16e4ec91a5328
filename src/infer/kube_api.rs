//! Kubernetes API access: a workload whose ServiceAccount a `RoleBinding` or
//! `ClusterRoleBinding` of the render binds (by name, or through the `system:serviceaccounts`
//! groups) talks to the API server, unless its token is not mounted
//! (`automountServiceAccountToken: false` on the pod, else on the ServiceAccount).
//!
//! The API server is not a pod: the destination is `kubeApi.cidrs` when set, else any address
//! (`0.0.0.0/0`) on the API ports. That is a rule on the client's egress only: it opens no
//! pod's ingress, so no pod-to-pod connection between the release's workloads opens with it.

use super::index::Index;
use super::{Connection, Endpoint, Party, Rule, ANYWHERE};
use crate::config::Config;
use k8s_openapi::api::networking::v1::IPBlock;
use serde_json::Value;
use std::collections::BTreeMap;

/// Egress to the API server for every workload a binding of the render gives rights.
pub fn infer(ix: &Index, config: &Config, out: &mut Vec<Connection>) {
    // (namespace, service account) or (namespace, "*") for a namespace's group → the binding.
    let mut bound: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut all: Option<String> = None;
    for m in &ix.model.manifests {
        let o = &ix.model.objects[m.object];
        if !o.api_version.starts_with("rbac.authorization.k8s.io/")
            || !matches!(o.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
        {
            continue;
        }
        let binding = format!("{} {}", o.kind.to_lowercase(), o.name);
        let own_ns = o.namespace.as_deref().unwrap_or_default();
        for s in m.value.get("subjects").and_then(Value::as_array).into_iter().flatten() {
            let field = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or_default();
            match field("kind") {
                "ServiceAccount" => {
                    let ns = if field("namespace").is_empty() { own_ns } else { field("namespace") };
                    bound.entry((ns.to_string(), field("name").to_string())).or_insert_with(|| binding.clone());
                }
                "Group" if field("name") == "system:serviceaccounts" => {
                    all.get_or_insert_with(|| binding.clone());
                }
                "Group" => {
                    if let Some(ns) = field("name").strip_prefix("system:serviceaccounts:") {
                        bound.entry((ns.to_string(), "*".into())).or_insert_with(|| binding.clone());
                    }
                }
                _ => {}
            }
        }
    }
    if bound.is_empty() && all.is_none() {
        return;
    }
    let cidrs: Vec<String> =
        if config.kube_api.cidrs.is_empty() { vec![ANYWHERE.to_string()] } else { config.kube_api.cidrs.clone() };
    let ports = if config.kube_api.ports.is_empty() {
        crate::k8s::API_SERVER_PORTS.map(crate::config::platform::tcp).to_vec()
    } else {
        config.kube_api.ports.clone()
    };
    for (i, w) in ix.model.workloads.iter().enumerate() {
        if w.host_network || w.pod_labels.is_empty() {
            continue;
        }
        let Some(spec) = ix.pod_spec(i) else { continue };
        let sa = spec
            .get("serviceAccountName")
            .or_else(|| spec.get("serviceAccount"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("default");
        let key = (w.namespace.clone(), sa.to_string());
        let automount = spec
            .get("automountServiceAccountToken")
            .and_then(Value::as_bool)
            .or_else(|| ix.automount.get(&key).copied())
            .unwrap_or(true);
        if !automount {
            continue;
        }
        let Some(binding) = bound.get(&key).or_else(|| bound.get(&(w.namespace.clone(), "*".into()))).or(all.as_ref())
        else {
            continue;
        };
        let evidence = format!("serviceaccount {sa} of {}/{} is bound by {binding}", w.kind.to_lowercase(), w.name);
        for cidr in &cidrs {
            out.push(Connection {
                from: Party::workload(ix, i),
                to: Party {
                    endpoint: Endpoint::IpBlock(IPBlock { cidr: cidr.clone(), except: None }),
                    names: vec![cidr.clone()],
                },
                ports: ports.clone(),
                rule: Rule::KubeApi,
                evidence: evidence.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::infer::references::tests::lines;

    const OP: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: op, namespace: s}\nspec: {template: {metadata: {labels: {app: op}}, spec: {serviceAccountName: op, containers: [{name: c}]}}}\n---\n\
        apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: s}\nspec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}}\n---\n\
        apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: op}\nsubjects: [{kind: ServiceAccount, name: op, namespace: s}]\nroleRef: {kind: ClusterRole, name: op, apiGroup: rbac.authorization.k8s.io}\n";

    #[test]
    fn bound_service_accounts_reach_the_api_server() {
        assert_eq!(
            lines(OP, ""),
            [
                "s/Deployment/op 0.0.0.0/0 TCP/443 kube-api: serviceaccount op of deployment/op is bound by clusterrolebinding op",
                "s/Deployment/op 0.0.0.0/0 TCP/6443 kube-api: serviceaccount op of deployment/op is bound by clusterrolebinding op",
            ]
        );
        let got = lines(OP, "kubeApi: {cidrs: [10.0.0.1/32], ports: [443]}");
        assert_eq!(got, ["s/Deployment/op 10.0.0.1/32 TCP/443 kube-api: serviceaccount op of deployment/op is bound by clusterrolebinding op"]);
        // Token not mounted: no API access.
        let off = OP.replace("serviceAccountName: op,", "serviceAccountName: op, automountServiceAccountToken: false,");
        assert!(lines(&off, "").is_empty());
        let sa_off = format!("{OP}---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: op, namespace: s}}\nautomountServiceAccountToken: false\n");
        assert!(lines(&sa_off, "").is_empty());
        assert!(lines(OP, "infer: {kubeApi: false}").is_empty());
        // A namespace's group binds every account of the namespace.
        let group = OP.replace(
            "{kind: ServiceAccount, name: op, namespace: s}",
            "{kind: Group, name: 'system:serviceaccounts:s'}",
        );
        assert_eq!(lines(&group, "").len(), 4);
    }
}
