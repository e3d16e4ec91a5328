//! The traffic of the pods the prometheus-operator creates ([`crate::model::operator`]), as
//! their custom resources declare it:
//! - a `Prometheus` sends alerts to the Alertmanager Services of `spec.alerting.alertmanagers`
//!   (`name`, `namespace` (default: its own), `port`, a Service port name or number);
//! - a `Prometheus` writes to and reads from `spec.remoteWrite[].url` / `spec.remoteRead[].url`,
//!   a `ThanosRuler` queries `spec.queryEndpoints` and alerts `spec.alertmanagersUrl`: each
//!   address read like a container's Service reference;
//! - the replicas of an `Alertmanager` (`spec.replicas` > 1) form a cluster on the mesh port
//!   9094, TCP and UDP.
//!
//! Scraping (the monitors a `Prometheus` selects) is the monitoring source's
//! ([`super::monitoring`]). Everything else these pods do (the API server for service
//! discovery, through their ServiceAccount's bindings) the other sources read, since the pods
//! are workloads of the model.

use super::address::host_ports;
use super::index::Index;
use super::references::{destination, lookup, ports};
use super::{Connection, Party, Rule};
use crate::model::operator;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

/// At most this many entries of each list of a resource are read (they are user data).
const MAX_ENTRIES: usize = 256;

/// The connections the operator's resources of the render declare.
pub fn infer(ix: &Index, domain: &str, out: &mut Vec<Connection>) {
    for (i, w) in ix.model.workloads.iter().enumerate() {
        if !operator::is_operator_workload(w) || w.host_network || w.pod_labels.is_empty() {
            continue;
        }
        let Some(value) = ix.workload_values[i] else { continue };
        let spec = value.get("spec");
        let list = |key: &str| spec.and_then(|s| s.get(key)).and_then(Value::as_array).into_iter().flatten();
        let of = format!("{}/{}", w.kind.to_lowercase(), w.name);
        match w.kind.as_str() {
            "Prometheus" => {
                let alerting = spec.and_then(|s| s.pointer("/alerting/alertmanagers")).and_then(Value::as_array);
                for (n, am) in alerting.into_iter().flatten().take(MAX_ENTRIES).enumerate() {
                    let field = |k: &str| am.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
                    let Some(name) = field("name") else { continue };
                    let ns = field("namespace").unwrap_or(&w.namespace);
                    let Some(service) = ix.service(ns, name) else { continue };
                    let Some(to) = Party::service(ix.model, service) else { continue };
                    let port = match am.get("port") {
                        Some(Value::String(p)) => Some(IntOrString::String(p.clone())),
                        Some(Value::Number(p)) => p.as_i64().and_then(|p| i32::try_from(p).ok()).map(IntOrString::Int),
                        _ => None,
                    };
                    let ports = match port.as_ref().map(|p| ix.service_port(service, p)) {
                        Some(Some(sp)) => vec![ix.target(service, sp)],
                        // A port the Service does not have reaches nothing.
                        Some(None) => continue,
                        None => service.ports.iter().map(|p| ix.target(service, p)).collect(),
                    };
                    let evidence = format!("spec.alerting.alertmanagers[{n}] of {of} names service {name}.{ns}");
                    push(out, Party::workload(ix, i), to, ports, evidence);
                }
                for key in ["remoteWrite", "remoteRead"] {
                    for (n, e) in list(key).take(MAX_ENTRIES).enumerate() {
                        let Some(url) = e.get("url").and_then(Value::as_str) else { continue };
                        addresses(ix, i, domain, url, &format!("spec.{key}[{n}].url of {of}"), out);
                    }
                }
            }
            "ThanosRuler" => {
                for key in ["queryEndpoints", "alertmanagersUrl"] {
                    for (n, e) in list(key).take(MAX_ENTRIES).enumerate() {
                        let Some(url) = e.as_str() else { continue };
                        addresses(ix, i, domain, url, &format!("spec.{key}[{n}] of {of}"), out);
                    }
                }
            }
            "Alertmanager" if operator::replicas(value) > 1 => {
                let me = Party::workload(ix, i);
                let mesh = vec![mesh_port("TCP"), mesh_port("UDP")];
                let evidence = format!("the {} replicas of {of} form a cluster", operator::replicas(value));
                push(out, me.clone(), me, mesh, evidence);
            }
            _ => {}
        }
    }
}

/// The Services `text` names, seen from workload `i`'s namespace, as connections from `i`.
fn addresses(ix: &Index, i: usize, domain: &str, text: &str, what: &str, out: &mut Vec<Connection>) {
    let w = &ix.model.workloads[i];
    for hp in host_ports(text) {
        let Some((service, pod)) = lookup(ix, &hp, &w.namespace, domain) else { continue };
        let Some(to) = destination(ix, service, pod.as_deref()) else { continue };
        let ports = ports(ix, service, pod.is_some(), &hp);
        push(
            out,
            Party::workload(ix, i),
            to,
            ports,
            format!("{what} names service {}.{}", service.name, service.namespace),
        );
    }
}

fn push(
    out: &mut Vec<Connection>,
    from: Party,
    to: Party,
    ports: Vec<k8s_openapi::api::networking::v1::NetworkPolicyPort>,
    evidence: String,
) {
    out.push(Connection { from, to, ports, rule: Rule::Operator, evidence });
}

/// Alertmanager's cluster port.
fn mesh_port(protocol: &str) -> k8s_openapi::api::networking::v1::NetworkPolicyPort {
    k8s_openapi::api::networking::v1::NetworkPolicyPort {
        protocol: Some(protocol.into()),
        port: Some(IntOrString::Int(9094)),
        end_port: None,
    }
}

#[cfg(test)]
mod tests {
    use crate::infer::references::tests::lines;

    const STACK: &str = "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {name: k8s, namespace: mon}\n\
        spec: {serviceAccountName: prom, serviceMonitorSelector: {matchLabels: {release: r}}, alerting: {alertmanagers: [{name: am, port: web}, {name: am, port: nope}]}, remoteWrite: [{url: 'http://sink.mon.svc:9201/write'}]}\n---\n\
        apiVersion: monitoring.coreos.com/v1\nkind: Alertmanager\nmetadata: {name: main, namespace: mon}\nspec: {replicas: 3}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata: {name: am, namespace: mon}\nspec: {selector: {app.kubernetes.io/name: alertmanager, alertmanager: main}, ports: [{name: web, port: 9093, targetPort: web}]}\n---\n\
        apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: sink, namespace: mon}\nspec: {template: {metadata: {labels: {app: sink}}, spec: {containers: [{name: c, ports: [{containerPort: 9201}]}]}}}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata: {name: sink, namespace: mon}\nspec: {selector: {app: sink}, ports: [{port: 9201}]}\n";

    #[test]
    fn alerting_remote_write_and_the_alertmanager_cluster() {
        assert_eq!(
            lines(STACK, "infer: {peers: false, monitoring: false}"),
            [
                "mon/Alertmanager/main mon/Alertmanager/main TCP/9094 operator: the 3 replicas of alertmanager/main form a cluster",
                "mon/Alertmanager/main mon/Alertmanager/main UDP/9094 operator: the 3 replicas of alertmanager/main form a cluster",
                "mon/Prometheus/k8s mon/Alertmanager/main TCP/9093 operator: spec.alerting.alertmanagers[0] of prometheus/k8s names service am.mon",
                "mon/Prometheus/k8s mon/Deployment/sink TCP/9201 operator: spec.remoteWrite[0].url of prometheus/k8s names service sink.mon",
            ],
            "a port the Service does not have reaches nothing"
        );
        assert!(lines(STACK, "infer: {peers: false, monitoring: false, operator: false}").is_empty());
        assert!(
            lines(&STACK.replace("replicas: 3", "replicas: 1"), "infer: {peers: false, monitoring: false}")
                .iter()
                .all(|l| !l.contains("cluster")),
            "one Alertmanager has no peer"
        );
    }

    #[test]
    fn containers_the_resource_adds_name_services() {
        let yaml = format!(
            "{STACK}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg, namespace: mon}}\ndata: {{sink: 'sink:9201'}}\n"
        )
        .replace(
            "serviceAccountName: prom,",
            "serviceAccountName: prom, containers: [{name: shipper, env: [{name: TO, valueFrom: {configMapKeyRef: {name: cfg, key: sink}}}]}],",
        );
        let got = lines(&yaml, "infer: {peers: false, monitoring: false, operator: false}");
        assert_eq!(
            got,
            ["mon/Prometheus/k8s mon/Deployment/sink TCP/9201 service-reference: env TO (configmap cfg key sink) of prometheus/k8s names service sink:9201"]
        );
    }

    #[test]
    fn a_prometheus_scrapes_the_monitors_it_selects() {
        let target = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: NS}\nspec: {template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, ports: [{name: metrics, containerPort: 9100}]}]}}}\n---\n\
            apiVersion: v1\nkind: Service\nmetadata: {name: app, namespace: NS, labels: {team: x}}\nspec: {selector: {app: a}, ports: [{name: metrics, port: 9100}]}\n---\n\
            apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: m, namespace: NS, labels: {release: r}}\nspec: {selector: {matchLabels: {team: x}}, endpoints: [{port: metrics}]}\n";
        let prom = "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {name: k8s, namespace: mon}\nspec: {SELECTORS}\n";
        let run = |ns: &str, selectors: &str| {
            let yaml = format!("{}---\n{}", target.replace("NS", ns), prom.replace("SELECTORS", selectors));
            lines(&yaml, "infer: {kubeApi: false}")
        };
        let by_prometheus = ["mon/Prometheus/k8s mon/Deployment/app TCP/9100 monitoring: servicemonitor m scrapes service app (selected by prometheus k8s)"];
        // (The configured scrapers, `app.kubernetes.io/name: prometheus` anywhere, name it too.)
        let by_anyone =
            ["mon/Prometheus/k8s other/Deployment/app TCP/9100 monitoring: servicemonitor m scrapes service app"];
        assert_eq!(run("mon", "serviceMonitorSelector: {matchLabels: {release: r}}"), by_prometheus);
        assert_eq!(run("mon", "serviceMonitorSelector: {}"), by_prometheus, "{{}} selects every monitor");
        // No selector: the operator selects no monitor; the configured scrapers keep it.
        let unselected: Vec<String> = run("mon", "podMonitorSelector: {}");
        assert_eq!(unselected.len(), 1);
        assert!(
            unselected[0].starts_with("mon/Prometheus/k8s mon/Deployment/app")
                && !unselected[0].contains("selected by"),
            "{unselected:?}"
        );
        assert_eq!(run("mon", "serviceMonitorSelector: {matchLabels: {release: other}}").len(), 1);
        // Another namespace: only with a namespace selector that includes it.
        assert_eq!(run("other", "serviceMonitorSelector: {}"), by_anyone);
        assert_eq!(
            run("other", "serviceMonitorSelector: {}, serviceMonitorNamespaceSelector: {}"),
            ["mon/Prometheus/k8s other/Deployment/app TCP/9100 monitoring: servicemonitor m scrapes service app (selected by prometheus k8s)"]
        );
        assert_eq!(
            run("other", "serviceMonitorSelector: {}, serviceMonitorNamespaceSelector: {matchLabels: {kubernetes.io/metadata.name: third}}"),
            by_anyone
        );
    }
}
