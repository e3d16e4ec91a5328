//! Workloads: the objects that create pods, with what the policies need of their pods.

use super::{labels_at, Object};
use crate::k8s::selector::Labels;
use serde_json::Value;

/// A container port of a workload's pods.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ContainerPort {
    /// `name`, empty when unnamed.
    pub name: String,
    /// `containerPort`.
    pub port: i32,
    /// `protocol`, default TCP.
    pub protocol: String,
}

/// A pod-creating object.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Index into [`super::Model::objects`].
    pub object: usize,
    /// Kind (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, Pod).
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace after defaulting.
    pub namespace: String,
    /// Labels of the pods it creates.
    pub pod_labels: Labels,
    /// Container ports of its pods (init containers included).
    pub ports: Vec<ContainerPort>,
    /// Whether the pods use the node's network (then NetworkPolicies do not apply to them).
    pub host_network: bool,
    /// For a Pod: its controller (the `ownerReferences` entry with `controller: true`, unless
    /// it is a Node, as for static pods), which names the workload the pod belongs to.
    pub owner: Option<Owner>,
}

/// The controller of a Pod, from its `ownerReferences`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// `kind`, empty when the reference does not say.
    pub kind: String,
    /// `name`.
    pub name: String,
}

/// The controller named by a Pod's `metadata.ownerReferences` (the first entry with
/// `controller: true`), unless it is a Node (static pods are their own workload).
pub fn controller_of(value: &Value) -> Option<Owner> {
    let refs = value.pointer("/metadata/ownerReferences")?.as_array()?;
    let r = refs.iter().find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))?;
    let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let owner = Owner { kind: field("kind"), name: field("name") };
    (owner.kind != "Node" && !owner.name.is_empty()).then_some(owner)
}

/// Kinds that create pods.
pub fn is_workload_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" | "Job" | "CronJob" | "Pod"
    )
}

/// The pod template of a workload object (the object itself for a Pod).
pub fn pod_template<'a>(kind: &str, value: &'a Value) -> Option<&'a Value> {
    match kind {
        "Pod" => Some(value),
        "CronJob" => value.pointer("/spec/jobTemplate/spec/template"),
        _ => value.pointer("/spec/template"),
    }
}

/// Reads a workload from its object.
pub fn from_object(index: usize, object: &Object, value: &Value) -> Option<Workload> {
    let template = pod_template(&object.kind, value)?;
    let spec = template.get("spec");
    let mut ports = Vec::new();
    for list in ["containers", "initContainers"] {
        for c in spec.and_then(|s| s.get(list)).and_then(Value::as_array).into_iter().flatten() {
            for p in c.get("ports").and_then(Value::as_array).into_iter().flatten() {
                let Some(port) = p.get("containerPort").and_then(Value::as_i64) else { continue };
                ports.push(ContainerPort {
                    name: p.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
                    port: port as i32,
                    protocol: p.get("protocol").and_then(Value::as_str).unwrap_or("TCP").to_string(),
                });
            }
        }
    }
    ports.sort();
    ports.dedup();
    Some(Workload {
        object: index,
        kind: object.kind.to_string(),
        name: object.name.to_string(),
        namespace: object.namespace.as_deref().unwrap_or_default().to_string(),
        pod_labels: labels_at(template, &["metadata", "labels"]),
        ports,
        host_network: spec.and_then(|s| s.get("hostNetwork")).and_then(Value::as_bool).unwrap_or(false),
        owner: if object.kind == "Pod" { controller_of(value) } else { None },
    })
}
