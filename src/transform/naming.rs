//! The naming pass: gives each new policy its final name and object. A name another policy of
//! the namespace already has gets `-2`, `-3`…; netfence's own policies of an earlier run do not
//! count (they are regenerated under the same names, see [`super::reconcile`]).

use super::plan::NewPolicy;
use crate::config::release;
use crate::k8s::{MANAGED_BY_LABEL, MANAGED_BY_NETFENCE};
use crate::model::Model;
use serde_json::{json, Map, Value};
use std::collections::HashSet;

/// A new policy with its final name, as the object to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The whole object, keys in netfence's order ([`super::tidy`]).
    pub value: Value,
    /// Why it is there.
    pub reasons: Vec<String>,
}

/// Names `policies` in order; `annotations` go on every one (what the I/O shape wants on new
/// objects, e.g. Helm 4's filename annotation). Policies of namespace `unplaced` get no
/// `metadata.namespace` (the input's objects there had none). With a `release`, names are
/// `netfence-<release>-…` (see [`crate::config::release::name`]); every name is at most 63
/// characters.
pub fn name(
    model: &Model,
    policies: Vec<NewPolicy>,
    annotations: &[(String, String)],
    unplaced: Option<&str>,
    release: Option<&str>,
) -> Vec<Named> {
    // Names in use, per (namespace, name): the input's own policies, then each name given here.
    let mut taken: HashSet<(String, String)> =
        model.policies.iter().filter(|p| !p.managed).map(|p| (p.namespace.clone(), p.name.clone())).collect();
    policies
        .into_iter()
        .map(|p| {
            let name = unique(&taken, &p.namespace, &release::name(&p.base_name, release));
            taken.insert((p.namespace.clone(), name.clone()));
            let mut value = object(&p, &name, annotations);
            if unplaced == Some(p.namespace.as_str()) {
                if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.remove("namespace");
                }
            }
            Named { namespace: p.namespace, name, value, reasons: p.reasons }
        })
        .collect()
}

/// `base`, or `base-2`, `base-3`… whichever is free in `namespace` (each cut to 63 characters,
/// see [`release::fit`]).
fn unique(taken: &HashSet<(String, String)>, namespace: &str, base: &str) -> String {
    let free = |name: &str| !taken.contains(&(namespace.to_string(), name.to_string()));
    if free(base) {
        return base.to_string();
    }
    (2..).map(|i| release::fit(&format!("{base}-{i}"))).find(|n| free(n)).unwrap_or_else(|| base.to_string())
}

/// The NetworkPolicy object: netfence's label, the plan's labels and annotations, the spec.
fn object(p: &NewPolicy, name: &str, annotations: &[(String, String)]) -> Value {
    let mut labels = Map::new();
    labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY_NETFENCE.into());
    labels.extend(p.labels.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))));
    let mut metadata = json!({"name": name, "namespace": p.namespace, "labels": labels});
    let all: Vec<&(String, String)> = p.annotations.iter().chain(annotations).collect();
    if !all.is_empty() {
        metadata["annotations"] = all.into_iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    }
    super::tidy(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": super::to_json(&p.spec),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::testing::model;

    #[test]
    fn taken_names_get_a_suffix_but_own_policies_do_not_count() {
        let m = model(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: netfence-default-deny, namespace: a}\nspec: {podSelector: {matchLabels: {x: z}}}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: netfence-allow-dns, namespace: a, labels: {app.kubernetes.io/managed-by: netfence}}\nspec: {podSelector: {}}\n",
        );
        let new = |base: &str| NewPolicy::new("a", base, Default::default(), "r".into());
        let named = name(
            &m,
            vec![new("netfence-default-deny"), new("netfence-default-deny"), new("netfence-allow-dns")],
            &[],
            None,
            None,
        );
        let names: Vec<&str> = named.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["netfence-default-deny-2", "netfence-default-deny-3", "netfence-allow-dns"]);
        assert_eq!(named[0].value["metadata"]["labels"][MANAGED_BY_LABEL], "netfence");
        assert_eq!(named[0].value["metadata"]["namespace"], "a");
        let unplaced = name(&m, vec![new("x")], &[], Some("a"), None);
        assert!(unplaced[0].value["metadata"].get("namespace").is_none(), "{:?}", unplaced[0].value);
    }

    #[test]
    fn names_per_release_and_a_taken_one_gets_a_suffix() {
        let m = model(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: netfence-shop-default-deny, namespace: a}\nspec: {podSelector: {}}\n",
        );
        let new = |base: &str| NewPolicy::new("a", base, Default::default(), "r".into());
        let named = name(&m, vec![new("netfence-default-deny"), new("netfence-allow-dns")], &[], None, Some("shop"));
        let names: Vec<&str> = named.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["netfence-shop-default-deny-2", "netfence-shop-allow-dns"]);
        let long = name(&m, vec![new(&format!("netfence-workload-{}", "w".repeat(60)))], &[], None, Some("shop"));
        assert!(long[0].name.len() <= 63 && long[0].name.starts_with("netfence-shop-workload-www"), "{}", long[0].name);
    }

    #[test]
    fn the_input_s_instance_labels_name_the_release() {
        let doc = |labels: &str| {
            format!("apiVersion: v1\nkind: Service\nmetadata: {{name: s, namespace: a, labels: {{{labels}}}}}\n---\n")
        };
        let release = |yaml: String| model(&yaml).release_from_labels().expect("valid");
        let one = format!(
            "{}{}",
            doc("app.kubernetes.io/instance: Shop, release: old"),
            doc("app.kubernetes.io/instance: Shop")
        );
        assert_eq!(release(one).as_deref(), Some("shop"), "instance first, normalised");
        assert_eq!(release(doc("release: legacy")).as_deref(), Some("legacy"));
        assert_eq!(
            release(format!("{}{}", doc("app.kubernetes.io/instance: a"), doc("app.kubernetes.io/instance: b"))),
            None
        );
        assert_eq!(release(doc("app: x")), None);
        let bad = model(&doc("app.kubernetes.io/instance: 'a b'")).release_from_labels().unwrap_err().to_string();
        assert!(
            bad.contains("label app.kubernetes.io/instance of document 1") && bad.contains("not a release name"),
            "{bad}"
        );
    }
}
