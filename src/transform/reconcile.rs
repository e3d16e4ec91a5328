//! The reconcile pass: matches new policies with netfence's own policies of an earlier run
//! (same namespace and name, label `app.kubernetes.io/managed-by: netfence`). An identical one
//! stays as it is; a different one gets netfence's `spec`, labels and annotations in place
//! (action `updated` in the report), keeping what others added to it (kpt's file annotations,
//! say); only policies new to the input are added. This is what makes a second run a no-op.

use super::naming::Named;
use super::plan::{Change, Edit};
use crate::model::Model;
use serde_json::Value;
use std::collections::HashMap;

/// Splits `named` into the policies to add and the replacements of earlier runs' policies.
pub fn reconcile(model: &Model, named: Vec<Named>) -> (Vec<Named>, Vec<Edit>) {
    let mut own: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, p) in model.policies.iter().enumerate().filter(|(_, p)| p.managed) {
        own.entry((p.namespace.as_str(), p.name.as_str())).or_insert(i);
    }
    let (mut fresh, mut updates) = (Vec::new(), Vec::new());
    for n in named {
        match own.get(&(n.namespace.as_str(), n.name.as_str())) {
            Some(&i) => {
                let existing = &model.policies[i].value;
                let merged = regenerated(existing, &n.value);
                if &merged != existing {
                    tracing::debug!(namespace = %n.namespace, policy = %n.name, "updating a policy of an earlier run");
                    let reason = format!("regenerated (netfence's policy of an earlier run): {}", n.reasons.join("; "));
                    updates.push(Edit { policy: i, change: Change::Replace(merged), reason });
                }
            }
            None => fresh.push(n),
        }
    }
    (fresh, updates)
}

/// `existing` with what netfence owns taken from `new`: the `spec`, and the labels and
/// annotations netfence sets.
pub fn regenerated(existing: &Value, new: &Value) -> Value {
    let mut out = existing.clone();
    if !out.is_object() {
        return new.clone();
    }
    out["spec"] = new["spec"].clone();
    for key in ["labels", "annotations"] {
        for (k, v) in new["metadata"][key].as_object().into_iter().flatten() {
            if !out["metadata"].is_object() {
                out["metadata"] = Value::Object(Default::default());
            }
            if !out["metadata"][key].is_object() {
                out["metadata"][key] = Value::Object(Default::default());
            }
            out["metadata"][key][k] = v.clone();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::testing::model;
    use serde_json::json;

    #[test]
    fn identical_stays_different_is_replaced_new_is_added() {
        let m = model(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: same, namespace: a, labels: {app.kubernetes.io/managed-by: netfence}}\nspec: {podSelector: {}}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: old, namespace: a, labels: {app.kubernetes.io/managed-by: netfence}}\nspec: {podSelector: {}}\n",
        );
        let named = |name: &str, value: serde_json::Value| Named {
            namespace: "a".into(),
            name: name.into(),
            value,
            reasons: vec!["why".into()],
        };
        let same = m.policies[0].value.clone();
        let mut changed = m.policies[1].value.clone();
        changed["spec"]["policyTypes"] = json!(["Ingress"]);
        let mut annotated = same.clone();
        annotated["metadata"]["annotations"] = json!({"internal.config.kubernetes.io/path": "x.yaml"});
        let (fresh, updates) =
            reconcile(&m, vec![named("same", same), named("old", changed.clone()), named("new", json!({}))]);
        assert_eq!(fresh.len(), 1);
        // Annotations others added (kpt's file) do not make a policy different, and stay.
        assert_eq!(regenerated(&annotated, &m.policies[0].value), annotated);
        assert_eq!(fresh[0].name, "new");
        assert_eq!(
            updates,
            [Edit {
                policy: 1,
                change: Change::Replace(changed),
                reason: "regenerated (netfence's policy of an earlier run): why".into()
            }]
        );
    }
}
