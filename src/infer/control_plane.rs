//! The control plane's calls: the API server (not a pod, so "anywhere") calls the Services that
//! `Validating`/`MutatingWebhookConfiguration`s, `APIService`s and CRD conversion webhooks name.

use super::index::Index;
use super::{Connection, Party, Rule};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

/// Ingress from anywhere to each Service the API server calls, on its target port.
pub fn infer(ix: &Index, out: &mut Vec<Connection>) {
    for m in &ix.model.manifests {
        let o = &ix.model.objects[m.object];
        let group = o.api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let services: Vec<&Value> = match (group, o.kind.as_str()) {
            ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration") => m
                .value
                .get("webhooks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|w| w.pointer("/clientConfig/service"))
                .collect(),
            ("apiregistration.k8s.io", "APIService") => m.value.pointer("/spec/service").into_iter().collect(),
            ("apiextensions.k8s.io", "CustomResourceDefinition") => m
                .value
                .pointer("/spec/conversion/webhook/clientConfig/service")
                .or_else(|| m.value.pointer("/spec/conversion/webhookClientConfig/service"))
                .into_iter()
                .collect(),
            _ => continue,
        };
        for svc in services {
            let (Some(ns), Some(name)) =
                (svc.get("namespace").and_then(Value::as_str), svc.get("name").and_then(Value::as_str))
            else {
                continue;
            };
            let port = svc.get("port").and_then(Value::as_i64).unwrap_or(443) as i32;
            let Some(s) = ix.service(ns, name) else { continue };
            let Some(to) = Party::service(ix.model, s).filter(|p| !p.names.is_empty()) else { continue };
            let Some(sp) = ix.service_port(s, &IntOrString::Int(port)) else { continue };
            let evidence = format!("{} {} calls service {name}.{ns}:{port}", o.kind.to_lowercase(), o.name);
            out.push(Connection {
                from: Party::anywhere(),
                to,
                ports: vec![ix.target(s, sp)],
                rule: Rule::ControlPlane,
                evidence,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::infer::references::tests::lines;

    #[test]
    fn webhooks_api_services_and_conversion() {
        let base = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: hook, namespace: s}\nspec: {template: {metadata: {labels: {app: hook}}, spec: {containers: [{name: c, ports: [{name: https, containerPort: 10250}]}]}}}\n---\n\
            apiVersion: v1\nkind: Service\nmetadata: {name: hook, namespace: s}\nspec: {selector: {app: hook}, ports: [{port: 443, targetPort: https}]}\n";
        let objects = [
            ("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: v}\nwebhooks: [{name: a.b.c, clientConfig: {service: {name: hook, namespace: s}}}]", "validatingwebhookconfiguration v"),
            ("apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {name: m}\nwebhooks: [{name: a.b.c, clientConfig: {service: {name: hook, namespace: s, port: 443}}}]", "mutatingwebhookconfiguration m"),
            ("apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.x.io}\nspec: {service: {name: hook, namespace: s}}", "apiservice v1.x.io"),
            ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: ws.x.io}\nspec: {conversion: {strategy: Webhook, webhook: {clientConfig: {service: {name: hook, namespace: s}}}}}", "customresourcedefinition ws.x.io"),
        ];
        for (object, who) in objects {
            let yaml = format!("{base}---\n{object}\n");
            assert_eq!(
                lines(&yaml, ""),
                [format!("0.0.0.0/0 s/Deployment/hook TCP/10250 control-plane: {who} calls service hook.s:443")]
            );
            assert!(lines(&yaml, "infer: {controlPlane: false}").is_empty());
        }
    }
}
