//! What an ingress controller may reach: Routes and Ingresses point at Services, Services select
//! workloads of their namespace, and the ports they name (resolved as np-guard does) are the TCP
//! connections the controller needs. The analysis then intersects them with what the
//! workloads' policies allow from a controller pod in a namespace of its own.

use super::ports::{ConnSet, PortSet, Protocol};
use super::topology::{Topology, Workload};
use k8s_openapi::api::core::v1::ServicePort;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// How the analysis prints the ingress controller.
pub const CONTROLLER: &str = "{ingress-controller}";

/// The ingress controller's name, as np-guard's `--focusworkload` takes it.
pub const CONTROLLER_NAME: &str = "ingress-controller";

/// The namespace the analysis places the controller in (np-guard's choice): no policy selects
/// it, and only rules admitting every namespace (or every source) admit it.
pub const CONTROLLER_NAMESPACE: &str = "ingress-controller-ns";

/// The workloads a Service selects, and its ports.
type Backends<'a> = (Vec<usize>, &'a [ServicePort]);

/// For each workload some Route or Ingress reaches, the TCP ports it exposes that way.
pub fn targets(topology: &Topology) -> BTreeMap<usize, ConnSet> {
    // Services by (namespace, name): the workloads they select and their ports.
    let mut services: BTreeMap<(&str, &str), Backends> = BTreeMap::new();
    for s in &topology.services {
        let Some(selector) = &s.spec.selector else {
            tracing::debug!("Service {}/{}: no selector, ignored for ingress analysis", s.namespace, s.name);
            continue;
        };
        let selected: Vec<usize> = topology
            .workloads
            .iter()
            .enumerate()
            .filter(|(_, w)| w.namespace == s.namespace && selector.iter().all(|(k, v)| w.labels.get(k) == Some(v)))
            .map(|(i, _)| i)
            .collect();
        if !selected.is_empty() {
            services.insert((&s.namespace, &s.name), (selected, s.spec.ports.as_deref().unwrap_or_default()));
        }
    }
    let mut out: BTreeMap<usize, ConnSet> = BTreeMap::new();
    for route in &topology.routes {
        for (service, port) in &route.backends {
            let Some((selected, service_ports)) = services.get(&(route.namespace.as_str(), service.as_str())) else {
                tracing::debug!("{} {}/{}: Service {service} not found", route.kind, route.namespace, route.name);
                continue;
            };
            for &w in selected {
                let conns = workload_ports(&topology.workloads[w], service_ports, port.as_ref());
                out.entry(w).or_default().union_with(&conns);
            }
        }
    }
    out.retain(|_, c| !c.is_empty());
    out
}

/// The TCP ports of `workload` a backend reaches through a Service.
fn workload_ports(workload: &Workload, service_ports: &[ServicePort], wanted: Option<&IntOrString>) -> ConnSet {
    let mut out = ConnSet::none();
    for target in access_ports(service_ports, wanted) {
        let number = match &target {
            IntOrString::Int(n) => Some(*n),
            IntOrString::String(name) => workload
                .ports
                .iter()
                .find(|c| &c.name == name)
                .filter(|c| c.protocol == Protocol::Tcp.as_str())
                .map(|c| c.port),
        };
        // Only ports the pods declare count (np-guard's rule), whatever their protocol.
        let Some(n) = number.filter(|n| workload.ports.iter().any(|c| c.port == *n)) else { continue };
        if let Ok(p) = u16::try_from(n) {
            out.union_with(&ConnSet::of(Protocol::Tcp, PortSet::range(p, p)));
        }
    }
    out
}

/// The pod ports behind the Service ports a backend asks for: the first Service port matching
/// `wanted` by name, port or target port, or every Service port when nothing is asked for.
/// A Service port without `targetPort` targets its own number.
fn access_ports(service_ports: &[ServicePort], wanted: Option<&IntOrString>) -> Vec<IntOrString> {
    let access = |p: &ServicePort| match &p.target_port {
        Some(IntOrString::Int(n)) if *n != 0 => IntOrString::Int(*n),
        Some(IntOrString::String(s)) if !s.is_empty() => IntOrString::String(s.clone()),
        _ => IntOrString::Int(p.port),
    };
    let wanted =
        wanted.filter(|w| !matches!(w, IntOrString::Int(0)) && !matches!(w, IntOrString::String(s) if s.is_empty()));
    match wanted {
        None => service_ports.iter().map(access).collect(),
        Some(w) => service_ports
            .iter()
            .find(|p| {
                let by_name =
                    matches!(w, IntOrString::String(s) if p.name.as_deref().is_some_and(|n| !n.is_empty() && n == s));
                let by_port = matches!(w, IntOrString::Int(n) if *n == p.port);
                by_name || by_port || p.target_port.as_ref() == Some(w)
            })
            .map(access)
            .into_iter()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_reach_declared_ports_of_selected_workloads() {
        let input = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: undeclared, namespace: shop}
spec: {template: {metadata: {labels: {app: undeclared}}, spec: {containers: [{name: c}]}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: http}, {name: admin, port: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: undeclared, namespace: shop}
spec: {selector: {app: undeclared}, ports: [{port: 80}]}
---
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: web, namespace: shop}
spec: {to: {kind: Service, name: web}, port: {targetPort: http}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: other, namespace: shop}
spec: {defaultBackend: {service: {name: undeclared, port: {number: 80}}}}
"#;
        let t = Topology::from_bytes(input.as_bytes(), "default").unwrap();
        let found = targets(&t);
        let by_id: Vec<(String, String)> = found.iter().map(|(w, c)| (t.workloads[*w].id(), c.to_string())).collect();
        assert_eq!(by_id, [("shop/web[Deployment]".to_string(), "TCP 8080".to_string())]);
    }
}
