//! Service references: a Service's address in a container's `env` (values, and the ConfigMap
//! and Secret keys `valueFrom` and `envFrom` read), `args` or `command` means the workload
//! connects to the Service's backing pods, on the port written (or every Service port).

use super::address::{host_ports, service_names, HostPort};
use super::index::{Index, Service};
use super::{Connection, Party, Rule};
use k8s_openapi::api::networking::v1::NetworkPolicyPort;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

/// The connections the workloads' containers name.
pub fn infer(ix: &Index, domain: &str, out: &mut Vec<Connection>) {
    for (i, w) in ix.model.workloads.iter().enumerate() {
        if w.host_network || w.pod_labels.is_empty() {
            continue;
        }
        let Some(spec) = ix.pod_spec(i) else { continue };
        let mut texts: Vec<(String, String)> = Vec::new();
        for list in ["initContainers", "containers"] {
            for c in spec.get(list).and_then(Value::as_array).into_iter().flatten() {
                texts.extend(container_texts(ix, &w.namespace, c));
            }
        }
        let of = format!("{}/{}", w.kind.to_lowercase(), w.name);
        for (what, text) in texts {
            for hp in host_ports(&text) {
                let Some((service, pod)) = lookup(ix, &hp, &w.namespace, domain) else { continue };
                let Some(to) = destination(ix, service, pod.as_deref()) else { continue };
                // A workload naming itself (its own Service in an advertised address or a TLS
                // name) declares no connection: pods of one workload reaching each other is
                // what `peers` reads.
                if to.names.contains(&super::workload_id(w)) {
                    continue;
                }
                let ports = ports(ix, service, pod.is_some(), hp.port);
                let shown = match (service.namespace == w.namespace, hp.port) {
                    (true, Some(p)) => format!("{}:{p}", service.name),
                    (true, None) => service.name.clone(),
                    (false, Some(p)) => format!("{}.{}:{p}", service.name, service.namespace),
                    (false, None) => format!("{}.{}", service.name, service.namespace),
                };
                let named = match &pod {
                    Some(pod) => format!("pod {pod} of service {shown}"),
                    None => format!("service {shown}"),
                };
                out.push(Connection {
                    from: Party::workload(ix, i),
                    to: to.clone(),
                    ports,
                    rule: Rule::ServiceReference,
                    evidence: format!("{what} of {of} names {named}"),
                });
            }
        }
    }
}

/// The texts of one container with what they are (`env DB_URL`, `args`, `configmap app key
/// url (envFrom)`).
fn container_texts(ix: &Index, namespace: &str, c: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let data = |kind: &'static str, name: &str| ix.data.get(&(kind, namespace.to_string(), name.to_string()));
    for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
        let name = e.get("name").and_then(Value::as_str).unwrap_or_default();
        if let Some(v) = e.get("value").and_then(Value::as_str) {
            out.push((format!("env {name}"), v.to_string()));
        }
        for (field, kind) in [("configMapKeyRef", "configmap"), ("secretKeyRef", "secret")] {
            let Some(r) = e.get("valueFrom").and_then(|v| v.get(field)) else { continue };
            let (Some(obj), Some(key)) = (r.get("name").and_then(Value::as_str), r.get("key").and_then(Value::as_str))
            else {
                continue;
            };
            if let Some(text) = data(kind, obj).and_then(|d| d.get(key)) {
                out.push((format!("env {name} ({kind} {obj} key {key})"), text.clone()));
            }
        }
    }
    for e in c.get("envFrom").and_then(Value::as_array).into_iter().flatten() {
        for (field, kind) in [("configMapRef", "configmap"), ("secretRef", "secret")] {
            let Some(obj) = e.get(field).and_then(|r| r.get("name")).and_then(Value::as_str) else { continue };
            for (key, text) in data(kind, obj).into_iter().flatten() {
                out.push((format!("envFrom {kind} {obj} key {key}"), text.clone()));
            }
        }
    }
    for field in ["command", "args"] {
        for arg in c.get(field).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            out.push((field.to_string(), arg.to_string()));
        }
    }
    out
}

/// The Service (and pod) a host names, in the render, as seen from `namespace`.
pub(crate) fn lookup<'i>(
    ix: &'i Index,
    hp: &HostPort,
    namespace: &str,
    domain: &str,
) -> Option<(&'i Service, Option<String>)> {
    for reading in service_names(&hp.host, domain) {
        let ns = reading.namespace.unwrap_or(namespace);
        if let Some(s) = ix.service(ns, reading.service).filter(|s| !s.backends.is_empty()) {
            // A pod name is only meaningful in front of a headless Service.
            match reading.pod {
                None => return Some((s, None)),
                Some(pod) if s.headless => return Some((s, Some(pod.to_string()))),
                Some(_) => {}
            }
        }
    }
    None
}

/// The pods a reference reaches: the Service's backends, or the StatefulSet a pod name
/// (`<statefulset>-<ordinal>`) belongs to.
pub(crate) fn destination(ix: &Index, service: &Service, pod: Option<&str>) -> Option<Party> {
    if let Some(pod) = pod {
        let owner = pod.rsplit_once('-').filter(|(_, n)| n.parse::<u32>().is_ok()).map(|(o, _)| o);
        if let Some(&i) = service.backends.iter().find(|&&i| {
            let w = &ix.model.workloads[i];
            w.kind == "StatefulSet" && Some(w.name.as_str()) == owner
        }) {
            return Some(Party::workload(ix, i));
        }
    }
    Party::service(ix.model, service)
}

/// The target ports of a reference: the Service port written (or, for a pod address or a port
/// no Service port has, the port itself when a backend listens on it), else every Service port.
pub(crate) fn ports(ix: &Index, service: &Service, pod: bool, port: Option<i32>) -> Vec<NetworkPolicyPort> {
    let all = || service.ports.iter().map(|p| ix.target(service, p)).collect::<Vec<_>>();
    let Some(port) = port else { return all() };
    if !pod {
        if let Some(sp) = ix.service_port(service, &IntOrString::Int(port)) {
            return vec![ix.target(service, sp)];
        }
    }
    let listening = service.backends.iter().flat_map(|&i| &ix.model.workloads[i].ports).find(|c| c.port == port);
    match listening {
        Some(c) => vec![NetworkPolicyPort {
            protocol: Some(c.protocol.clone()),
            port: Some(IntOrString::Int(port)),
            end_port: None,
        }],
        None => all(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::infer::{infer, output};
    use crate::transform::testing::{config, model};

    /// The connections of `yaml` as `src dst proto/port evidence` lines.
    pub(crate) fn lines(yaml: &str, cfg: &str) -> Vec<String> {
        let m = model(yaml);
        output::rows(&infer(&m, &config(cfg)))
            .into_iter()
            .map(|r| format!("{} {} {}/{} {}: {}", r.src, r.dst, r.protocol, r.port, r.rule, r.evidence))
            .collect()
    }

    const SERVERS: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: shop}\nspec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, ports: [{name: pg, containerPort: 5432}]}]}}}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: shop}\nspec: {selector: {app: db}, ports: [{name: pg, port: 5432, targetPort: pg}, {name: metrics, port: 9187}]}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata: {name: db-hl, namespace: shop}\nspec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}\n---\n\
        apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cache, namespace: other}\nspec: {template: {metadata: {labels: {app: cache}}, spec: {containers: [{name: c}]}}}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata: {name: cache, namespace: other}\nspec: {selector: {app: cache}, ports: [{port: 6379}]}\n---\n\
        apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\ndata: {url: 'jdbc:postgresql://db-0.db-hl:5432/app'}\n---\n\
        apiVersion: v1\nkind: Secret\nmetadata: {name: sec, namespace: shop}\nstringData: {REDIS: 'redis://:pw@cache.other.svc.cluster.local:6379/0'}\n";

    fn client(containers: &str) -> String {
        format!(
            "{SERVERS}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: shop}}\nspec: {{template: {{metadata: {{labels: {{app: api}}}}, spec: {{containers: [{containers}]}}}}}}\n"
        )
    }

    #[test]
    fn each_source_of_text() {
        let got = lines(
            &client(
                "{name: c, env: [{name: DB, value: 'db:5432'}, {name: URL, valueFrom: {configMapKeyRef: {name: cfg, key: url}}}], envFrom: [{secretRef: {name: sec}}], args: ['--metrics=db.shop.svc:9187']}",
            ),
            "infer: {peers: false}",
        );
        assert_eq!(
            got,
            [
                "shop/Deployment/api other/Deployment/cache TCP/6379 service-reference: envFrom secret sec key REDIS of deployment/api names service cache.other:6379",
                "shop/Deployment/api shop/StatefulSet/db TCP/5432 service-reference: env DB of deployment/api names service db:5432",
                "shop/Deployment/api shop/StatefulSet/db TCP/9187 service-reference: args of deployment/api names service db:9187",
            ],
            "one row per connection and port, with the first evidence found"
        );
        let jdbc = lines(
            &client("{name: c, env: [{name: URL, valueFrom: {configMapKeyRef: {name: cfg, key: url}}}]}"),
            "infer: {peers: false}",
        );
        assert_eq!(
            jdbc,
            ["shop/Deployment/api shop/StatefulSet/db TCP/5432 service-reference: env URL (configmap cfg key url) of deployment/api names pod db-0 of service db-hl:5432"]
        );
    }

    #[test]
    fn all_service_ports_when_none_is_written_and_named_ports_resolved() {
        let got = lines(&client("{name: c, command: [app, --db, db]}"), "infer: {peers: false}");
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].contains("TCP/5432") && got[1].contains("TCP/9187"), "{got:?}");
        // Words that only look like names (a path segment) are not references.
        assert!(lines(&client("{name: c, command: [/opt/db/run.sh]}"), "infer: {peers: false}").is_empty());
        // Off: nothing.
        assert!(lines(&client("{name: c, command: [app, db]}"), "infer: {serviceReferences: false, peers: false}")
            .is_empty());
        assert!(lines(&client("{name: c, command: [app, db]}"), "infer: {enabled: false}").is_empty());
    }
}
