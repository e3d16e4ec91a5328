//! Entry points: `LoadBalancer`/`NodePort` Services (ingress from anywhere), and the backends of
//! `Ingress`, Gateway API `HTTPRoute`/`GRPCRoute`/`TLSRoute` and OpenShift `Route` (ingress
//! from the ingress controller, `infer.ingressController`).

use super::index::{Index, Service};
use super::{Connection, Endpoint, Party, Rule};
use crate::config::infer::Infer;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

/// How listings name the ingress controller.
pub const INGRESS_CONTROLLER: &str = "{ingress-controller}";

/// The entry points of the render.
pub fn infer(ix: &Index, cfg: &Infer, out: &mut Vec<Connection>) {
    for s in ix.services.values().filter(|s| matches!(s.kind.as_str(), "LoadBalancer" | "NodePort")) {
        let Some(to) = Party::service(ix.model, s).filter(|p| !p.names.is_empty()) else { continue };
        let ports = s.ports.iter().map(|p| ix.target(s, p)).collect();
        let evidence = format!("service {} is a {}", s.name, s.kind);
        out.push(Connection { from: Party::anywhere(), to, ports, rule: Rule::EntryPoint, evidence });
    }
    let controller = Party {
        endpoint: Endpoint::Selected {
            namespaces: cfg.ingress_controller.namespace_selector.clone(),
            selector: cfg.ingress_controller.pod_selector.clone(),
        },
        names: vec![INGRESS_CONTROLLER.into()],
    };
    for m in &ix.model.manifests {
        let o = &ix.model.objects[m.object];
        let ns = o.namespace.as_deref().unwrap_or_default();
        let group = o.api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let backends: Vec<(String, String, Option<IntOrString>)> = match (group, o.kind.as_str()) {
            ("networking.k8s.io" | "extensions", "Ingress") => ingress_backends(&m.value, ns),
            ("gateway.networking.k8s.io", "HTTPRoute" | "GRPCRoute" | "TLSRoute") => route_backends(&m.value, ns),
            ("route.openshift.io", "Route") => openshift_backends(&m.value, ns),
            _ => continue,
        };
        for (bns, name, port) in backends {
            let Some(s) = ix.service(&bns, &name) else { continue };
            let Some(to) = Party::service(ix.model, s).filter(|p| !p.names.is_empty()) else { continue };
            let ports = match &port {
                Some(p) => match service_port(ix, s, p, o.kind == "Route") {
                    Some(target) => vec![target],
                    None => continue,
                },
                None => s.ports.iter().map(|p| ix.target(s, p)).collect(),
            };
            let shown = port.map(|p| match p {
                IntOrString::Int(n) => format!(":{n}"),
                IntOrString::String(n) => format!(":{n}"),
            });
            let evidence =
                format!("{} {} routes to service {name}{}", o.kind.to_lowercase(), o.name, shown.unwrap_or_default());
            out.push(Connection { from: controller.clone(), to, ports, rule: Rule::EntryPoint, evidence });
        }
    }
}

/// The target port of a backend's port: a Service port by number or name, or (an OpenShift
/// Route's `targetPort`) a target port by number or name.
fn service_port(
    ix: &Index,
    s: &Service,
    port: &IntOrString,
    target: bool,
) -> Option<k8s_openapi::api::networking::v1::NetworkPolicyPort> {
    if let Some(sp) = ix.service_port(s, port) {
        return Some(ix.target(s, sp));
    }
    if target {
        return s.ports.iter().find(|p| &p.target == port).map(|p| ix.target(s, p));
    }
    None
}

fn int_or_string(v: Option<&Value>) -> Option<IntOrString> {
    match v? {
        Value::Number(n) => n.as_i64().map(|n| IntOrString::Int(n as i32)),
        Value::String(s) => Some(IntOrString::String(s.clone())),
        _ => None,
    }
}

fn str_of(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// `(namespace, service, port)` of an Ingress's default backend and path backends.
fn ingress_backends(v: &Value, ns: &str) -> Vec<(String, String, Option<IntOrString>)> {
    let spec = v.get("spec");
    let mut backends: Vec<&Value> = Vec::new();
    backends.extend(spec.and_then(|s| s.get("defaultBackend").or_else(|| s.get("backend"))));
    for rule in spec.and_then(|s| s.get("rules")).and_then(Value::as_array).into_iter().flatten() {
        for path in rule.pointer("/http/paths").and_then(Value::as_array).into_iter().flatten() {
            backends.extend(path.get("backend"));
        }
    }
    backends
        .into_iter()
        .filter_map(|b| match b.get("service") {
            Some(s) => {
                let port =
                    s.get("port").and_then(|p| int_or_string(p.get("number")).or_else(|| int_or_string(p.get("name"))));
                Some((ns.to_string(), str_of(s.get("name"))?, port))
            }
            // extensions/v1beta1 and networking.k8s.io/v1beta1.
            None => Some((ns.to_string(), str_of(b.get("serviceName"))?, int_or_string(b.get("servicePort")))),
        })
        .collect()
}

/// Service `backendRefs` of a Gateway API route's rules.
fn route_backends(v: &Value, ns: &str) -> Vec<(String, String, Option<IntOrString>)> {
    let mut out = Vec::new();
    for rule in v.pointer("/spec/rules").and_then(Value::as_array).into_iter().flatten() {
        for b in rule.get("backendRefs").and_then(Value::as_array).into_iter().flatten() {
            let group = b.get("group").and_then(Value::as_str).unwrap_or("");
            let kind = b.get("kind").and_then(Value::as_str).unwrap_or("Service");
            if !group.is_empty() || kind != "Service" {
                continue;
            }
            let Some(name) = str_of(b.get("name")) else { continue };
            let bns = str_of(b.get("namespace")).unwrap_or_else(|| ns.to_string());
            out.push((bns, name, int_or_string(b.get("port"))));
        }
    }
    out
}

/// An OpenShift Route's `to` and `alternateBackends`, with `port.targetPort`.
fn openshift_backends(v: &Value, ns: &str) -> Vec<(String, String, Option<IntOrString>)> {
    let spec = v.get("spec");
    let port = spec.and_then(|s| s.pointer("/port/targetPort")).and_then(|p| int_or_string(Some(p)));
    let mut targets: Vec<&Value> = spec.and_then(|s| s.get("to")).into_iter().collect();
    targets.extend(spec.and_then(|s| s.get("alternateBackends")).and_then(Value::as_array).into_iter().flatten());
    targets
        .into_iter()
        .filter(|t| t.get("kind").and_then(Value::as_str).unwrap_or("Service") == "Service")
        .filter_map(|t| Some((ns.to_string(), str_of(t.get("name"))?, port.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::infer::references::tests::lines;

    const WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: s}\nspec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}}}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: s}\nspec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: http}]}\n";

    #[test]
    fn every_entry_point_kind() {
        let lb = format!("{WEB}---\napiVersion: v1\nkind: Service\nmetadata: {{name: pub, namespace: s}}\nspec: {{type: LoadBalancer, selector: {{app: web}}, ports: [{{port: 443, targetPort: 8080}}]}}\n");
        assert_eq!(lines(&lb, ""), ["0.0.0.0/0 s/Deployment/web TCP/8080 entry-point: service pub is a LoadBalancer"]);
        let objects = [
            ("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i, namespace: s}\nspec: {rules: [{http: {paths: [{path: /, backend: {service: {name: web, port: {name: http}}}}]}}]}", "ingress i routes to service web:http"),
            ("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: h, namespace: s}\nspec: {rules: [{backendRefs: [{name: web, port: 80}]}]}", "httproute h routes to service web:80"),
            ("apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: g, namespace: s}\nspec: {rules: [{backendRefs: [{name: web, port: 80}]}]}", "grpcroute g routes to service web:80"),
            ("apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TLSRoute\nmetadata: {name: t, namespace: s}\nspec: {rules: [{backendRefs: [{name: web, port: 80}]}]}", "tlsroute t routes to service web:80"),
            ("apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: r, namespace: s}\nspec: {to: {kind: Service, name: web}, port: {targetPort: http}}", "route r routes to service web:http"),
        ];
        for (object, evidence) in objects {
            let got = lines(&format!("{WEB}---\n{object}\n"), "");
            assert_eq!(got, [format!("{{ingress-controller}} s/Deployment/web TCP/8080 entry-point: {evidence}")]);
            assert!(lines(&format!("{WEB}---\n{object}\n"), "infer: {entryPoints: false}").is_empty());
        }
    }
}
