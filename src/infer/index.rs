//! The render as inference reads it: Services with their ports and backing workloads,
//! ConfigMaps and Secrets by name, pod specs of workloads, ServiceAccounts.

use crate::k8s::selector::{self, Labels};
use crate::model::{labels_at, operator, workload, Model, Workload};
use base64::Engine as _;
use k8s_openapi::api::networking::v1::NetworkPolicyPort;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// A port of a Service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePort {
    /// `name`, empty when unnamed.
    pub name: String,
    /// `port`.
    pub port: i32,
    /// `targetPort` (default: `port`).
    pub target: IntOrString,
    /// `protocol` (default TCP).
    pub protocol: String,
}

/// A Service of the render.
#[derive(Debug, Clone)]
pub struct Service {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `spec.selector` (`None`: no selector, endpoints managed elsewhere).
    pub selector: Option<Labels>,
    /// `spec.type` (default ClusterIP).
    pub kind: String,
    /// `clusterIP: None`.
    pub headless: bool,
    /// Ports.
    pub ports: Vec<ServicePort>,
    /// `metadata.annotations`.
    pub annotations: Labels,
    /// `metadata.labels` (what ServiceMonitors select).
    pub labels: Labels,
    /// Indices into [`Model::workloads`] of the workloads whose pods it selects.
    pub backends: Vec<usize>,
}

/// The render, indexed for inference.
pub struct Index<'a> {
    /// The model.
    pub model: &'a Model,
    /// Services by (namespace, name).
    pub services: BTreeMap<(String, String), Service>,
    /// Values of ConfigMaps and Secrets by (kind, namespace, name): key → text.
    pub data: HashMap<(&'static str, String, String), BTreeMap<String, String>>,
    /// The whole value of each workload, by index into [`Model::workloads`].
    pub workload_values: Vec<Option<&'a Value>>,
    /// `automountServiceAccountToken` of ServiceAccounts by (namespace, name).
    pub automount: HashMap<(String, String), bool>,
    /// The labels that select each workload's pods in rules, by index into
    /// [`Model::workloads`]: the pod labels without the ones that change with every chart
    /// version ([`VOLATILE_LABELS`]), when those still tell the workload apart.
    pub selectors: Vec<Labels>,
}

/// Pod labels that change with every chart or app version: rules that name a peer leave them
/// out when the rest still selects the same workloads.
pub const VOLATILE_LABELS: &[&str] =
    &["helm.sh/chart", "app.kubernetes.io/version", "chart", "heritage", "app.kubernetes.io/managed-by", "version"];

impl<'a> Index<'a> {
    /// Indexes `model`'s manifests.
    pub fn new(model: &'a Model) -> Index<'a> {
        let by_object: HashMap<usize, &Value> = model.manifests.iter().map(|m| (m.object, &m.value)).collect();
        let mut services = BTreeMap::new();
        let mut data = HashMap::new();
        let mut automount = HashMap::new();
        for m in &model.manifests {
            let o = &model.objects[m.object];
            let ns = o.namespace.as_deref().unwrap_or_default().to_string();
            match (o.api_version.as_str(), o.kind.as_str()) {
                ("v1", "Service") => {
                    let s = service(&m.value, &ns, &o.name);
                    services.insert((ns, o.name.to_string()), s);
                }
                ("v1", "ConfigMap") => {
                    data.insert(("configmap", ns, o.name.to_string()), strings(m.value.get("data"), false));
                }
                ("v1", "Secret") => {
                    let mut values = strings(m.value.get("data"), true);
                    values.extend(strings(m.value.get("stringData"), false));
                    data.insert(("secret", ns, o.name.to_string()), values);
                }
                ("v1", "ServiceAccount") => {
                    if let Some(b) = m.value.get("automountServiceAccountToken").and_then(Value::as_bool) {
                        automount.insert((ns, o.name.to_string()), b);
                    }
                }
                _ => {}
            }
        }
        // Backing workloads: those of the Service's namespace whose pod labels its selector matches.
        let mut by_ns: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, w) in model.workloads.iter().enumerate() {
            if !w.host_network && !w.pod_labels.is_empty() && !is_owned_pod(w) {
                by_ns.entry(&w.namespace).or_default().push(i);
            }
        }
        for s in services.values_mut() {
            let Some(sel) = s.selector.as_ref().filter(|l| !l.is_empty()) else { continue };
            let sel = selector::Selector::from_labels(sel.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            s.backends = by_ns
                .get(s.namespace.as_str())
                .into_iter()
                .flatten()
                .copied()
                .filter(|&i| sel.matches(&model.workloads[i].pod_labels))
                .collect();
        }
        let workload_values = model.workloads.iter().map(|w| by_object.get(&w.object).copied()).collect();
        // Workloads by (namespace, label): the only ones a selector with that label can match.
        // (Comparing every workload with every other of its namespace made analysis of a big
        // namespace quadratic.)
        let mut by_label: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
        for (ns, list) in &by_ns {
            for &j in list {
                for (k, v) in &model.workloads[j].pod_labels {
                    by_label.entry((ns, k.as_str(), v.as_str())).or_default().push(j);
                }
            }
        }
        let selectors = model
            .workloads
            .iter()
            .map(|w| {
                let trimmed: Labels = w
                    .pod_labels
                    .iter()
                    .filter(|(k, _)| !VOLATILE_LABELS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if trimmed.is_empty() {
                    return w.pod_labels.clone();
                }
                if trimmed.len() == w.pod_labels.len() {
                    return trimmed;
                }
                // Trimmed tells the workload apart when every workload it selects, the full
                // labels select too; only workloads carrying its rarest label can be selected.
                let subset = |sel: &Labels, labels: &Labels| sel.iter().all(|(k, v)| labels.get(k) == Some(v));
                let candidates = trimmed
                    .iter()
                    .map(|(k, v)| {
                        by_label.get(&(w.namespace.as_str(), k.as_str(), v.as_str())).map_or(&[][..], Vec::as_slice)
                    })
                    .min_by_key(|list| list.len())
                    .unwrap_or_default();
                let same = candidates.iter().all(|&j| {
                    let other = &model.workloads[j].pod_labels;
                    subset(&trimmed, other) == subset(&w.pod_labels, other)
                });
                if same {
                    trimmed
                } else {
                    w.pod_labels.clone()
                }
            })
            .collect();
        Index { model, services, data, workload_values, automount, selectors }
    }

    /// The pod spec of workload `i`.
    pub fn pod_spec(&self, i: usize) -> Option<&'a Value> {
        let w = &self.model.workloads[i];
        let value = self.workload_values[i]?;
        if operator::is_operator_workload(w) {
            return operator::pod_spec(value);
        }
        workload::pod_template(&w.kind, value)?.get("spec")
    }

    /// The pod template's annotations of workload `i`.
    pub fn pod_annotations(&self, i: usize) -> Labels {
        let w = &self.model.workloads[i];
        if operator::is_operator_workload(w) {
            return self.workload_values[i].map(operator::pod_annotations).unwrap_or_default();
        }
        self.workload_values[i]
            .and_then(|v| workload::pod_template(&w.kind, v))
            .map(|t| labels_at(t, &["metadata", "annotations"]))
            .unwrap_or_default()
    }

    /// The target ports a Service port leads to on its backends: a number, or the port name
    /// when the backends' container ports give it different numbers (or none).
    pub fn target(&self, service: &Service, port: &ServicePort) -> NetworkPolicyPort {
        let port_of =
            |p: IntOrString| NetworkPolicyPort { protocol: Some(port.protocol.clone()), port: Some(p), end_port: None };
        match &port.target {
            IntOrString::Int(n) => port_of(IntOrString::Int(*n)),
            IntOrString::String(name) => {
                let mut numbers: Vec<i32> = service
                    .backends
                    .iter()
                    .filter_map(|&i| {
                        self.model.workloads[i]
                            .ports
                            .iter()
                            .find(|c| &c.name == name && c.protocol == port.protocol)
                            .map(|c| c.port)
                    })
                    .collect();
                numbers.sort();
                numbers.dedup();
                match numbers.as_slice() {
                    [n] if numbers.len() == 1 => port_of(IntOrString::Int(*n)),
                    _ => port_of(IntOrString::String(name.clone())),
                }
            }
        }
    }

    /// The Service `name` of `namespace`.
    pub fn service(&self, namespace: &str, name: &str) -> Option<&Service> {
        self.services.get(&(namespace.to_string(), name.to_string()))
    }

    /// The Service's port named or numbered `port` (a number may also be a target port).
    pub fn service_port<'s>(&self, service: &'s Service, port: &IntOrString) -> Option<&'s ServicePort> {
        match port {
            IntOrString::Int(n) => service.ports.iter().find(|p| p.port == *n),
            IntOrString::String(name) => service.ports.iter().find(|p| &p.name == name),
        }
    }
}

/// Whether `w` is a Pod created by a controller of the render's kinds (its owner is the workload).
pub fn is_owned_pod(w: &Workload) -> bool {
    w.kind == "Pod" && w.owner.is_some()
}

fn service(value: &Value, namespace: &str, name: &str) -> Service {
    let spec = value.get("spec");
    let str_at = |k: &str| spec.and_then(|s| s.get(k)).and_then(Value::as_str);
    let selector =
        spec.and_then(|s| s.get("selector")).filter(|v| v.is_object()).map(|_| labels_at(value, &["spec", "selector"]));
    let ports = spec
        .and_then(|s| s.get("ports"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let port = p.get("port").and_then(Value::as_i64)? as i32;
            let target = match p.get("targetPort") {
                Some(Value::Number(n)) => IntOrString::Int(n.as_i64().unwrap_or(port as i64) as i32),
                Some(Value::String(s)) => match s.parse::<i32>() {
                    Ok(n) => IntOrString::Int(n),
                    Err(_) => IntOrString::String(s.clone()),
                },
                _ => IntOrString::Int(port),
            };
            Some(ServicePort {
                name: p.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
                port,
                target,
                protocol: p.get("protocol").and_then(Value::as_str).unwrap_or("TCP").to_string(),
            })
        })
        .collect();
    Service {
        namespace: namespace.to_string(),
        name: name.to_string(),
        selector,
        kind: str_at("type").unwrap_or("ClusterIP").to_string(),
        headless: str_at("clusterIP") == Some("None"),
        ports,
        annotations: labels_at(value, &["metadata", "annotations"]),
        labels: labels_at(value, &["metadata", "labels"]),
        backends: vec![],
    }
}

/// String values of a `data`/`stringData` map; `base64`: decode them (Secret `data`), keeping
/// those that are UTF-8 text.
fn strings(map: Option<&Value>, base64: bool) -> BTreeMap<String, String> {
    let Some(map) = map.and_then(Value::as_object) else { return BTreeMap::new() };
    map.iter()
        .filter_map(|(k, v)| {
            let text = v.as_str()?;
            let text = if base64 {
                let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()?;
                String::from_utf8(bytes).ok()?
            } else {
                text.to_string()
            };
            Some((k.clone(), text))
        })
        .collect()
}
