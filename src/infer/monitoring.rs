//! Monitoring: the targets of `ServiceMonitor`s and `PodMonitor`s of the render, and pods and
//! Services annotated `prometheus.io/scrape: "true"` (port from `prometheus.io/port`, else every
//! port), admit the scrapers (`infer.monitoringFrom`) on their metrics ports. When scrapers are
//! workloads of the render, the allowances also give them the egress.
//!
//! A monitor that a `Prometheus` resource of the render selects is scraped by that Prometheus's
//! pods (see [`crate::model::operator`]), and by them only: the connection goes from those pods
//! to the targets. The selection is the operator's: `spec.serviceMonitorSelector` /
//! `podMonitorSelector` (absent or null: no monitor; `{}`: every monitor) and the
//! `*NamespaceSelector`s (absent or null: the Prometheus's own namespace; `{}`: every
//! namespace). A monitor no Prometheus of the render selects keeps `infer.monitoringFrom`.

use super::index::{Index, Service};
use super::{workload_id, Connection, Endpoint, Party, Rule};
use crate::config::infer::Infer;
use crate::k8s::selector::{Labels, Selector};
use k8s_openapi::api::networking::v1::NetworkPolicyPort;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

/// How listings name scrapers that are not workloads of the render.
pub const MONITORING: &str = "{monitoring}";

/// The scrape connections of the render.
pub fn infer(ix: &Index, cfg: &Infer, out: &mut Vec<Connection>) {
    let endpoint = Endpoint::Selected {
        namespaces: cfg.monitoring_from.namespace_selector.clone(),
        selector: cfg.monitoring_from.pod_selector.clone(),
    };
    let matcher = endpoint.matcher();
    let empty = Labels::new();
    let mut names: Vec<String> = ix
        .model
        .workloads
        .iter()
        .filter(|w| {
            matcher.selects(&w.namespace, ix.model.namespaces.get(&w.namespace).unwrap_or(&empty), &w.pod_labels)
        })
        .map(workload_id)
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        names.push(MONITORING.into());
    }
    let scrapers = Party { endpoint, names };
    let mut push = |from: &Party, to: Party, ports: Vec<NetworkPolicyPort>, evidence: String| {
        if !to.names.is_empty() && !ports.is_empty() {
            out.push(Connection { from: from.clone(), to, ports, rule: Rule::Monitoring, evidence });
        }
    };
    let prometheuses = Prometheus::of_render(ix);
    for m in &ix.model.manifests {
        let o = &ix.model.objects[m.object];
        if !o.api_version.starts_with("monitoring.coreos.com/") {
            continue;
        }
        let ns = o.namespace.as_deref().unwrap_or_default();
        let spec = m.value.get("spec");
        let sel = spec.and_then(|s| s.get("selector")).map(selector_of).unwrap_or_default();
        let in_ns = |candidate: &str| namespace_selected(spec, ns, candidate);
        // Who scrapes it: the Prometheus resources of the render that select it, else the
        // configured scrapers.
        let monitor_labels = crate::model::labels_at(&m.value, &["metadata", "labels"]);
        let ns_labels = ix.model.namespaces.get(ns).cloned().unwrap_or_default();
        let selecting: Vec<(Party, String)> = prometheuses
            .iter()
            .filter(|p| p.selects(&o.kind, ns, &ns_labels, &monitor_labels))
            .map(|p| (Party::workload(ix, p.workload), format!(" (selected by prometheus {})", p.name)))
            .collect();
        let from: Vec<(Party, String)> =
            if selecting.is_empty() { vec![(scrapers.clone(), String::new())] } else { selecting };
        match o.kind.as_str() {
            "ServiceMonitor" => {
                let endpoints = spec.and_then(|s| s.get("endpoints")).and_then(Value::as_array);
                for s in ix.services.values().filter(|s| in_ns(&s.namespace) && sel.matches(&s.labels)) {
                    let Some(to) = Party::service(ix.model, s) else { continue };
                    for e in endpoints.into_iter().flatten() {
                        let ports = service_monitor_ports(ix, s, e);
                        for (scraper, why) in &from {
                            let evidence = format!("servicemonitor {} scrapes service {}{why}", o.name, s.name);
                            push(scraper, to.clone(), ports.clone(), evidence);
                        }
                    }
                }
            }
            "PodMonitor" => {
                let endpoints = spec.and_then(|s| s.get("podMetricsEndpoints")).and_then(Value::as_array);
                for (i, w) in ix.model.workloads.iter().enumerate() {
                    if !in_ns(&w.namespace) || w.pod_labels.is_empty() || !sel.matches(&w.pod_labels) {
                        continue;
                    }
                    for e in endpoints.into_iter().flatten() {
                        let port = e
                            .get("port")
                            .and_then(Value::as_str)
                            .and_then(|n| w.ports.iter().find(|c| c.name == n))
                            .map(|c| c.port)
                            .or_else(|| e.get("portNumber").and_then(Value::as_i64).map(|n| n as i32))
                            .or_else(|| match e.get("targetPort") {
                                Some(Value::Number(n)) => n.as_i64().map(|n| n as i32),
                                Some(Value::String(n)) => w.ports.iter().find(|c| &c.name == n).map(|c| c.port),
                                _ => None,
                            });
                        let Some(port) = port else { continue };
                        for (scraper, why) in &from {
                            let evidence =
                                format!("podmonitor {} scrapes {}/{}{why}", o.name, w.kind.to_lowercase(), w.name);
                            push(scraper, Party::workload(ix, i), vec![crate::config::platform::tcp(port)], evidence);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    // prometheus.io/scrape annotations on pod templates and Services.
    for (i, w) in ix.model.workloads.iter().enumerate() {
        let a = ix.pod_annotations(i);
        if w.pod_labels.is_empty()
            || w.host_network
            || a.get("prometheus.io/scrape").map(String::as_str) != Some("true")
        {
            continue;
        }
        let ports: Vec<NetworkPolicyPort> = match a.get("prometheus.io/port").and_then(|p| p.parse::<i32>().ok()) {
            Some(p) => vec![crate::config::platform::tcp(p)],
            None => {
                w.ports.iter().filter(|c| c.protocol == "TCP").map(|c| crate::config::platform::tcp(c.port)).collect()
            }
        };
        let evidence = format!("{}/{} is annotated prometheus.io/scrape", w.kind.to_lowercase(), w.name);
        push(&scrapers, Party::workload(ix, i), ports, evidence);
    }
    for s in ix.services.values() {
        if s.annotations.get("prometheus.io/scrape").map(String::as_str) != Some("true") {
            continue;
        }
        let Some(to) = Party::service(ix.model, s) else { continue };
        let ports = match s.annotations.get("prometheus.io/port").and_then(|p| p.parse::<i32>().ok()) {
            Some(p) => vec![crate::config::platform::tcp(p)],
            None => s.ports.iter().map(|p| ix.target(s, p)).collect(),
        };
        push(&scrapers, to, ports, format!("service {} is annotated prometheus.io/scrape", s.name));
    }
}

/// A `Prometheus` resource of the render, with the operator's selection of monitors.
struct Prometheus {
    /// Index into the model's workloads.
    workload: usize,
    name: String,
    namespace: String,
    /// `serviceMonitorSelector` and its namespace selector.
    service_monitors: (Option<Selector>, Option<Selector>),
    /// `podMonitorSelector` and its namespace selector.
    pod_monitors: (Option<Selector>, Option<Selector>),
}

impl Prometheus {
    /// The `Prometheus` workloads of the render (see [`crate::model::operator`]).
    fn of_render(ix: &Index) -> Vec<Prometheus> {
        let mut out = Vec::new();
        for (i, w) in ix.model.workloads.iter().enumerate() {
            if w.kind != "Prometheus" || w.host_network || w.pod_labels.is_empty() {
                continue;
            }
            let Some(spec) = ix.workload_values[i].and_then(|v| v.get("spec")) else { continue };
            // Absent or null: nothing (a monitor selector) or the own namespace (a namespace
            // selector); an unreadable selector selects nothing.
            let field = |k: &str| spec.get(k).filter(|v| !v.is_null()).map(selector_of);
            out.push(Prometheus {
                workload: i,
                name: w.name.clone(),
                namespace: w.namespace.clone(),
                service_monitors: (field("serviceMonitorSelector"), field("serviceMonitorNamespaceSelector")),
                pod_monitors: (field("podMonitorSelector"), field("podMonitorNamespaceSelector")),
            });
        }
        out
    }

    /// Whether it scrapes the monitor of `kind` in `namespace` (labelled `ns_labels`) that
    /// carries `labels`.
    fn selects(&self, kind: &str, namespace: &str, ns_labels: &Labels, labels: &Labels) -> bool {
        let (monitors, namespaces) = match kind {
            "ServiceMonitor" => &self.service_monitors,
            "PodMonitor" => &self.pod_monitors,
            _ => return false,
        };
        let in_ns = match namespaces {
            None => namespace == self.namespace,
            Some(sel) => sel.matches(ns_labels),
        };
        in_ns && monitors.as_ref().is_some_and(|sel| sel.matches(labels))
    }
}

/// The target ports of a ServiceMonitor endpoint: `port` (a Service port name) or `targetPort`.
fn service_monitor_ports(ix: &Index, s: &Service, e: &Value) -> Vec<NetworkPolicyPort> {
    if let Some(name) = e.get("port").and_then(Value::as_str) {
        return ix
            .service_port(s, &IntOrString::String(name.to_string()))
            .map(|p| ix.target(s, p))
            .into_iter()
            .collect();
    }
    match e.get("targetPort") {
        Some(Value::Number(n)) => n.as_i64().map(|n| crate::config::platform::tcp(n as i32)).into_iter().collect(),
        Some(Value::String(n)) => {
            s.ports.iter().filter(|p| p.target == IntOrString::String(n.clone())).map(|p| ix.target(s, p)).collect()
        }
        _ => vec![],
    }
}

/// A monitor's `selector`, parsed (an unreadable one selects nothing: `Invalid` operators).
fn selector_of(v: &Value) -> Selector {
    match serde_json::from_value::<LabelSelector>(v.clone()) {
        Ok(s) => Selector::parse(&s),
        Err(_) => Selector::parse(&LabelSelector {
            match_expressions: Some(vec![k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement {
                key: "-".into(),
                operator: "Invalid".into(),
                values: None,
            }]),
            ..Default::default()
        }),
    }
}

/// Whether a monitor's `namespaceSelector` (`any`, `matchNames`; default: its own namespace)
/// includes `candidate`.
fn namespace_selected(spec: Option<&Value>, own: &str, candidate: &str) -> bool {
    let Some(sel) = spec.and_then(|s| s.get("namespaceSelector")) else { return own == candidate };
    if sel.get("any").and_then(Value::as_bool) == Some(true) {
        return true;
    }
    match sel.get("matchNames").and_then(Value::as_array) {
        Some(names) => names.iter().any(|n| n.as_str() == Some(candidate)),
        None => own == candidate,
    }
}

#[cfg(test)]
mod tests {
    use crate::infer::references::tests::lines;

    const APP: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: s}\nspec: {template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, ports: [{name: metrics, containerPort: 9100}, {containerPort: 80}]}]}}}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata: {name: app, namespace: s, labels: {team: x}}\nspec: {selector: {app: a}, ports: [{name: metrics, port: 9100, targetPort: metrics}, {name: http, port: 80}]}\n";

    #[test]
    fn monitors_and_annotations() {
        let sm = format!("{APP}---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {{name: m, namespace: s}}\nspec: {{selector: {{matchLabels: {{team: x}}}}, endpoints: [{{port: metrics}}]}}\n");
        assert_eq!(
            lines(&sm, ""),
            ["{monitoring} s/Deployment/app TCP/9100 monitoring: servicemonitor m scrapes service app"]
        );
        let pm = format!("{APP}---\napiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata: {{name: p, namespace: s}}\nspec: {{selector: {{matchLabels: {{app: a}}}}, podMetricsEndpoints: [{{port: metrics}}]}}\n");
        assert_eq!(
            lines(&pm, ""),
            ["{monitoring} s/Deployment/app TCP/9100 monitoring: podmonitor p scrapes deployment/app"]
        );
        let annotated = APP.replace(
            "metadata: {labels: {app: a}}",
            "metadata: {labels: {app: a}, annotations: {prometheus.io/scrape: 'true', prometheus.io/port: '9100'}}",
        );
        assert_eq!(
            lines(&annotated, ""),
            ["{monitoring} s/Deployment/app TCP/9100 monitoring: deployment/app is annotated prometheus.io/scrape"]
        );
        // A scraper of the render is named, and gets the egress (see the allowances).
        let prom = format!("{sm}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: prom, namespace: mon}}\nspec: {{template: {{metadata: {{labels: {{app.kubernetes.io/name: prometheus}}}}, spec: {{containers: [{{name: c}}]}}}}}}\n");
        assert_eq!(
            lines(&prom, ""),
            ["mon/Deployment/prom s/Deployment/app TCP/9100 monitoring: servicemonitor m scrapes service app"]
        );
        assert!(lines(&sm, "infer: {monitoring: false}").is_empty());
        let elsewhere = sm.to_string().replace("namespace: s}\nspec: {selector", "namespace: t}\nspec: {selector");
        assert!(lines(&elsewhere, "").is_empty(), "a ServiceMonitor selects Services of its own namespace by default");
    }
}
