//! Resolving the pods named in platform configuration (edge sides, allowance targets) against
//! the render: namespaces, `"*"`, pod selectors and workloads.

use crate::config::platform::Side;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::k8s::selector;
use crate::model::Model;
use k8s_openapi::api::networking::v1::{NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// A set of pods: all pods of `namespace` matching `selector`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pods {
    /// The namespace.
    pub namespace: String,
    /// The pods (empty selector: all of them).
    pub selector: LabelSelector,
    /// The workload they belong to, when the side named one.
    pub workload: Option<String>,
    /// The workload's container ports (empty when not a workload or it declares none).
    pub ports: Vec<NetworkPolicyPort>,
}

impl Pods {
    /// All pods of `namespace` matching `selector`.
    pub fn new(namespace: &str, selector: LabelSelector) -> Pods {
        Pods { namespace: namespace.to_string(), selector, workload: None, ports: vec![] }
    }

    /// How a reason names these pods: `shop/web` (a workload), `namespace shop`, or
    /// `pods app=web in shop`.
    pub fn describe(&self) -> String {
        if let Some(w) = &self.workload {
            return format!("{}/{w}", self.namespace);
        }
        if selector::is_empty(&self.selector) {
            return format!("namespace {}", self.namespace);
        }
        let mut parts: Vec<String> =
            self.selector.match_labels.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
        for e in self.selector.match_expressions.iter().flatten() {
            parts.push(format!("{} {} {:?}", e.key, e.operator, e.values.clone().unwrap_or_default()));
        }
        format!("pods {} in {}", parts.join(","), self.namespace)
    }

    /// A key that identifies the pod set: namespace plus the selector's JSON.
    pub fn key(&self) -> (String, String) {
        (self.namespace.clone(), serde_json::to_string(&self.selector).unwrap_or_default())
    }

    /// The peer that selects these pods from a policy in any namespace.
    pub fn peer(&self) -> NetworkPolicyPeer {
        NetworkPolicyPeer {
            namespace_selector: Some(selector::namespace_selector(&self.namespace)),
            pod_selector: (!selector::is_empty(&self.selector)).then(|| self.selector.clone()),
            ip_block: None,
        }
    }

    /// A short readable name for policies about these pods: the workload, the label values, or
    /// empty for a whole namespace.
    pub fn slug(&self) -> String {
        if let Some(w) = &self.workload {
            return w.clone();
        }
        let values: Vec<&str> = self.selector.match_labels.iter().flatten().map(|(_, v)| v.as_str()).collect();
        let mut slug: String =
            values.join("-").to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        if self.selector.match_expressions.as_ref().is_some_and(|e| !e.is_empty())
            || slug.is_empty() && !selector::is_empty(&self.selector)
        {
            slug = format!("{slug}-sel{:08x}", fnv(&self.key().1));
        }
        slug.trim_matches('-').chars().take(40).collect::<String>().trim_matches('-').to_string()
    }
}

/// A small stable hash for names (FNV-1a, 32 bits).
fn fnv(text: &str) -> u32 {
    text.bytes().fold(0x811c9dc5u32, |h, b| (h ^ b as u32).wrapping_mul(0x01000193))
}

/// The namespaces netfence manages: those of the render not excluded from default-deny.
pub fn managed_namespaces(model: &Model, config: &Config) -> Vec<String> {
    let excluded = &config.default_deny.exclude_namespaces;
    model.namespace_names().filter(|ns| !excluded.iter().any(|e| e == ns)).map(str::to_string).collect()
}

/// Resolves a side to pod sets. `path` names it in errors (`netfence.allow[0].from`);
/// `require_selector`: a side without namespace means the render's default namespace. The side's
/// shape was checked with the configuration ([`Side::validate`]); what is checked here needs the
/// render (unknown namespaces and workloads).
pub fn resolve(side: &Side, model: &Model, config: &Config, path: &str, require_selector: bool) -> Result<Vec<Pods>> {
    let err = |field: &str, msg: String| Error::config(format!("{path}{field}"), msg);
    if let Some(name) = &side.workload {
        let candidates: Vec<_> = model
            .workloads
            .iter()
            .filter(|w| &w.name == name && side.namespace.as_ref().is_none_or(|ns| ns == "*" || ns == &w.namespace))
            .collect();
        let w = match candidates.as_slice() {
            [] => {
                let known: Vec<String> =
                    model.workloads.iter().map(|w| format!("{}/{}", w.namespace, w.name)).collect();
                return Err(err(
                    ".workload",
                    format!("unknown workload {name:?} (workloads in this render: {})", list(&known)),
                ));
            }
            [w] => *w,
            many => {
                let places: Vec<String> = many.iter().map(|w| format!("{}/{}", w.namespace, w.name)).collect();
                return Err(err(
                    ".workload",
                    format!("{name:?} is ambiguous ({}); set `namespace`", places.join(", ")),
                ));
            }
        };
        if w.pod_labels.is_empty() {
            return Err(err(".workload", format!("workload {name:?} has no pod labels to select it by")));
        }
        let ports = w
            .ports
            .iter()
            .map(|p| NetworkPolicyPort {
                protocol: Some(p.protocol.clone()),
                port: Some(IntOrString::Int(p.port)),
                end_port: None,
            })
            .collect();
        return Ok(vec![Pods {
            namespace: w.namespace.clone(),
            selector: selector::from_labels(w.pod_labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            workload: Some(w.name.clone()),
            ports,
        }]);
    }
    let selector = side.pod_selector.clone().unwrap_or_default();
    let names: Vec<String> = match (&side.namespace, &side.namespaces) {
        (Some(ns), _) if ns == "*" => managed_namespaces(model, config),
        (Some(ns), _) => vec![ns.clone()],
        (None, Some(list)) => list.clone(),
        (None, None) if require_selector => vec![model.default_namespace.clone()],
        (None, None) => vec![],
    };
    for (i, ns) in names.iter().enumerate() {
        if !model.namespaces.contains_key(ns) {
            let field = if side.namespaces.is_some() { format!(".namespaces[{i}]") } else { ".namespace".into() };
            let known: Vec<String> = model.namespaces.keys().cloned().collect();
            return Err(err(&field, format!("unknown namespace {ns:?} (namespaces in this render: {})", list(&known))));
        }
    }
    Ok(names
        .into_iter()
        .map(|namespace| Pods { namespace, selector: selector.clone(), workload: None, ports: vec![] })
        .collect())
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::testing::{config, model};

    #[test]
    fn sides_resolve_against_the_render() {
        let m = model(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}}\n---\n\
             apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n",
        );
        let c = Config::default();
        let side =
            |yaml: &str| config(&format!("allow: [{{from: {yaml}, to: {{namespace: b}}}}]")).allow[0].from.clone();
        let web = resolve(&side("{workload: web}"), &m, &c, "p", false).unwrap();
        assert_eq!(
            (web[0].workload.as_deref(), web[0].ports.len(), web[0].describe().as_str()),
            (Some("web"), 1, "a/web")
        );
        let all = resolve(&side("{namespace: '*'}"), &m, &c, "p", false).unwrap();
        assert_eq!(all.iter().map(|p| p.namespace.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let e = resolve(&side("{workload: nope}"), &m, &c, "p", false).unwrap_err().to_string();
        assert!(e.starts_with("p.workload: unknown workload \"nope\" (workloads in this render: a/web)"), "{e}");
        // The side's shape is the configuration's business.
        let bad = crate::config::Config::from_value(
            serde_json::json!({"allow": [{"from": {"namespace": "a", "namespaces": ["b"]}, "to": {"namespace": "b"}}]}),
            "netfence",
        );
        assert_eq!(bad.unwrap_err().to_string(), "netfence.allow[0].from: set `namespace` or `namespaces`, not both");
    }
}
