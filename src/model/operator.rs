//! Pods that an operator creates at runtime: the prometheus-operator turns a `Prometheus`,
//! `Alertmanager` or `ThanosRuler` custom resource (`monitoring.coreos.com/v1`) into a
//! StatefulSet, so those pods are not in the render. Policies still apply to them, and a
//! namespace default-deny cuts them like any pod: netfence models each such resource as a
//! [`Workload`] of the render, with the pod labels, container ports and ServiceAccount the
//! operator gives its pods, so that every inference source, the allowance pass and the
//! per-workload policies see them as they see a StatefulSet of the chart.
//!
//! What the operator puts on the pods (prometheus-operator's `statefulset.go`, in the releases that set `app.kubernetes.io/*` labels):
//! - labels `app.kubernetes.io/name` (`prometheus`, `alertmanager`, `thanos-ruler`),
//!   `app.kubernetes.io/managed-by: prometheus-operator`, `app.kubernetes.io/instance: <name>`,
//!   `<prometheus|alertmanager|thanos-ruler>: <name>`, and for Prometheus
//!   `operator.prometheus.io/name: <name>`; on top of `spec.podMetadata.labels` (the operator's
//!   own win). Labels that change with versions or shards (`app.kubernetes.io/version`,
//!   `operator.prometheus.io/shard`) are left out: the workload stands for every shard.
//! - ports: Prometheus `spec.portName` (default `web`) 9090, Alertmanager `spec.portName` 9093
//!   and the cluster mesh 9094 TCP and UDP, ThanosRuler `spec.portName` 10902 and `grpc` 10901
//!   (no web port with `spec.listenLocal`); the config reloader's `reloader-web` 8080; a Thanos sidecar
//!   (`spec.thanos`) `http` 10902 and `grpc` 10901; and the ports of `spec.containers` /
//!   `spec.initContainers` (containers the user adds or patches).
//! - the pod spec fields inference reads (`serviceAccountName`, `automountServiceAccountToken`,
//!   `containers`, `hostNetwork`) sit directly under the resource's `spec`.
//!
//! The resource is user data: label keys and values the API server would refuse are dropped
//! (as the allowance pass drops them), `podMetadata.labels` is read up to [`MAX_POD_LABELS`]
//! entries, and a resource whose name cannot be a label value creates no pods (the operator
//! could not label them), so it is no workload.

use super::{labels_at, workload::ContainerPort, Object, Workload};
use crate::k8s::selector::Labels;
use crate::k8s::validate;
use serde_json::Value;

/// The API group of the prometheus-operator's resources (any version).
pub const GROUP: &str = "monitoring.coreos.com/";

/// The kinds whose resources the prometheus-operator turns into pods.
pub const KINDS: &[&str] = &["Prometheus", "Alertmanager", "ThanosRuler"];

/// At most this many `spec.podMetadata.labels` are read (the rest is ignored).
pub const MAX_POD_LABELS: usize = 64;

/// Whether objects of `kind` in `api_version` are resources the operator makes pods for.
pub fn is_operator_kind(api_version: &str, kind: &str) -> bool {
    api_version.starts_with(GROUP) && KINDS.contains(&kind)
}

/// Whether workload `w` stands for an operator's pods (its kind is one of [`KINDS`]).
pub fn is_operator_workload(w: &Workload) -> bool {
    KINDS.contains(&w.kind.as_str())
}

/// The part of the resource that plays the pod spec (`serviceAccountName`, `containers`, …).
pub fn pod_spec(value: &Value) -> Option<&Value> {
    value.get("spec")
}

/// The pod annotations the operator sets from `spec.podMetadata.annotations`.
pub fn pod_annotations(value: &Value) -> Labels {
    labels_at(value, &["spec", "podMetadata", "annotations"])
}

/// `spec.replicas` (the operator's default: 1).
pub fn replicas(value: &Value) -> i64 {
    value.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)
}

/// The workload standing for the pods of operator resource `object` (index `index`), `None`
/// for other objects and for a resource the operator could not label.
pub fn workload(index: usize, object: &Object, value: &Value) -> Option<Workload> {
    if !is_operator_kind(&object.api_version, &object.kind) {
        return None;
    }
    let name = object.name.as_str();
    if name.is_empty() || validate::label_value(name).is_err() {
        return None;
    }
    let spec = value.get("spec");
    let valid = |k: &str, v: &str| validate::label_key(k).is_ok() && validate::label_value(v).is_ok();
    let mut labels: Labels = labels_at(value, &["spec", "podMetadata", "labels"])
        .into_iter()
        .filter(|(k, v)| valid(k, v))
        .take(MAX_POD_LABELS)
        .collect();
    let (app, own) = match object.kind.as_str() {
        "Prometheus" => ("prometheus", "prometheus"),
        "Alertmanager" => ("alertmanager", "alertmanager"),
        _ => ("thanos-ruler", "thanos-ruler"),
    };
    for (k, v) in [
        ("app.kubernetes.io/name", app),
        ("app.kubernetes.io/managed-by", "prometheus-operator"),
        ("app.kubernetes.io/instance", name),
        (own, name),
    ] {
        labels.insert(k.to_string(), v.to_string());
    }
    if object.kind == "Prometheus" {
        labels.insert("operator.prometheus.io/name".into(), name.to_string());
    }
    let str_at = |k: &str| spec.and_then(|s| s.get(k)).and_then(Value::as_str).filter(|s| !s.is_empty());
    let listen_local = spec.and_then(|s| s.get("listenLocal")).and_then(Value::as_bool).unwrap_or(false);
    let port = |name: &str, port: i32, protocol: &str| ContainerPort {
        name: name.to_string(),
        port,
        protocol: protocol.to_string(),
    };
    let web = str_at("portName").filter(|n| validate::is_port_name(n)).unwrap_or("web");
    let mut ports = vec![port("reloader-web", 8080, "TCP")];
    match object.kind.as_str() {
        "Prometheus" => {
            if !listen_local {
                ports.push(port(web, 9090, "TCP"));
            }
            if spec.and_then(|s| s.get("thanos")).is_some_and(Value::is_object) {
                ports.extend([port("http", 10902, "TCP"), port("grpc", 10901, "TCP")]);
            }
        }
        "Alertmanager" => {
            if !listen_local {
                ports.push(port(web, 9093, "TCP"));
            }
            ports.extend([port("mesh-tcp", 9094, "TCP"), port("mesh-udp", 9094, "UDP")]);
        }
        _ => {
            if !listen_local {
                ports.push(port(web, 10902, "TCP"));
            }
            ports.push(port("grpc", 10901, "TCP"));
        }
    }
    // Containers the resource adds or patches (merged by name with the operator's).
    for list in ["containers", "initContainers"] {
        for c in spec.and_then(|s| s.get(list)).and_then(Value::as_array).into_iter().flatten() {
            for p in c.get("ports").and_then(Value::as_array).into_iter().flatten() {
                let Some(number) = p.get("containerPort").and_then(Value::as_i64).filter(|n| (1..=65535).contains(n))
                else {
                    continue;
                };
                let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
                let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                ports.push(port(name, number as i32, protocol));
            }
        }
    }
    ports.sort();
    ports.dedup();
    Some(Workload {
        object: index,
        kind: object.kind.to_string(),
        name: name.to_string(),
        namespace: object.namespace.as_deref().unwrap_or_default().to_string(),
        pod_labels: labels,
        ports,
        host_network: spec.and_then(|s| s.get("hostNetwork")).and_then(Value::as_bool).unwrap_or(false),
        owner: None,
    })
}

#[cfg(test)]
mod tests {
    use crate::model::{Model, Needs};
    use crate::stream::Stream;

    fn workloads(yaml: &str) -> Vec<crate::model::Workload> {
        let stream = Stream::parse(yaml.as_bytes()).unwrap();
        Model::build(&stream, "default", Needs { workloads: true, manifests: false }).unwrap().workloads
    }

    #[test]
    fn prometheus_and_alertmanager_pods() {
        let yaml = "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {name: k8s, namespace: mon}\n\
            spec: {podMetadata: {labels: {team: a, app.kubernetes.io/name: mine, 'bad key!': x}}, portName: http-web}\n---\n\
            apiVersion: monitoring.coreos.com/v1\nkind: Alertmanager\nmetadata: {name: main, namespace: mon}\nspec: {listenLocal: true}\n---\n\
            apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: m, namespace: mon}\n---\n\
            apiVersion: example.com/v1\nkind: Prometheus\nmetadata: {name: other, namespace: mon}\n";
        let ws = workloads(yaml);
        assert_eq!(ws.len(), 2, "only the operator's kinds of its group");
        let p = &ws[0];
        assert_eq!((p.kind.as_str(), p.name.as_str(), p.namespace.as_str()), ("Prometheus", "k8s", "mon"));
        let labels: Vec<String> = p.pod_labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            labels,
            [
                "app.kubernetes.io/instance=k8s",
                "app.kubernetes.io/managed-by=prometheus-operator",
                "app.kubernetes.io/name=prometheus",
                "operator.prometheus.io/name=k8s",
                "prometheus=k8s",
                "team=a",
            ],
            "the operator's labels win over podMetadata's; invalid keys are dropped"
        );
        let ports: Vec<String> = p.ports.iter().map(|c| format!("{}/{}/{}", c.name, c.port, c.protocol)).collect();
        assert_eq!(ports, ["http-web/9090/TCP", "reloader-web/8080/TCP"]);
        let ports: Vec<String> = ws[1].ports.iter().map(|c| format!("{}/{}/{}", c.name, c.port, c.protocol)).collect();
        assert_eq!(
            ports,
            ["mesh-tcp/9094/TCP", "mesh-udp/9094/UDP", "reloader-web/8080/TCP"],
            "listenLocal: no web port"
        );
        assert_eq!(ws[1].pod_labels.get("alertmanager").map(String::as_str), Some("main"));
    }

    #[test]
    fn a_name_that_cannot_be_a_label_value_makes_no_pods() {
        let long = "x".repeat(64);
        let yaml = format!(
            "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {{name: {long}, namespace: mon}}\n"
        );
        assert!(workloads(&yaml).is_empty());
    }
}
