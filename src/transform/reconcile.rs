//! The reconcile pass: matches new policies with netfence's own policies of an earlier run
//! (same namespace and name, label `app.kubernetes.io/managed-by: netfence`). An identical one
//! stays as it is; a different one gets netfence's `spec`, labels and annotations in place
//! (action `updated` in the report), keeping what others added to it (kpt's file annotations,
//! say); only policies new to the input are added. This is what makes a second run a no-op.
//! netfence's policies of an earlier run that this run does not generate again (another
//! configuration, another release name) are removed, so that `render(B, render(A, x))` is
//! `render(B, x)`. Only policies with netfence's label are ever matched or removed.

use super::naming::Named;
use super::plan::{Change, Edit};
use crate::model::Model;
use serde_json::Value;
use std::collections::HashMap;

/// What [`reconcile`] decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reconciled {
    /// Policies new to the input, in output order, each with the policy of an earlier run it
    /// goes before ([`Placed::before`]).
    pub fresh: Vec<Placed>,
    /// Replacements of earlier runs' policies that changed.
    pub updates: Vec<Edit>,
    /// Earlier runs' policies this run does not generate (indices into [`Model::policies`]).
    pub removed: Vec<usize>,
}

/// A new policy and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// The policy.
    pub named: Named,
    /// The earlier run's policy (index into [`Model::policies`]) that follows it in this run's
    /// order, if any: writing it before that one gives a fresh render's order.
    pub before: Option<usize>,
}

/// Splits `named` into the policies to add, the replacements of earlier runs' policies and the
/// earlier runs' policies no longer generated.
pub fn reconcile(model: &Model, named: Vec<Named>) -> Reconciled {
    let mut own: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, p) in model.policies.iter().enumerate().filter(|(_, p)| p.managed) {
        own.entry((p.namespace.as_str(), p.name.as_str())).or_insert(i);
    }
    let (mut fresh, mut updates) = (Vec::new(), Vec::new());
    let mut kept = vec![false; model.policies.len()];
    // Fresh policies waiting for the next kept one (their `before`).
    let mut waiting: Vec<usize> = Vec::new();
    for n in named {
        match own.get(&(n.namespace.as_str(), n.name.as_str())) {
            Some(&i) => {
                kept[i] = true;
                for w in waiting.drain(..) {
                    let p: &mut Placed = &mut fresh[w];
                    p.before = Some(i);
                }
                let existing = &model.policies[i].value;
                let merged = regenerated(existing, &n.value);
                if &merged != existing {
                    tracing::debug!(namespace = %n.namespace, policy = %n.name, "updating a policy of an earlier run");
                    let reason = format!("regenerated (netfence's policy of an earlier run): {}", n.reasons.join("; "));
                    updates.push(Edit { policy: i, change: Change::Replace(merged), reason });
                }
            }
            None => {
                waiting.push(fresh.len());
                fresh.push(Placed { named: n, before: None });
            }
        }
    }
    let removed = own.values().copied().filter(|&i| !kept[i]).collect::<std::collections::BTreeSet<_>>();
    for &i in &removed {
        let p = &model.policies[i];
        tracing::debug!(namespace = %p.namespace, policy = %p.name, "removing a policy of an earlier run");
    }
    Reconciled { fresh, updates, removed: removed.into_iter().collect() }
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
        let Reconciled { fresh, updates, removed } =
            reconcile(&m, vec![named("same", same.clone()), named("old", changed.clone()), named("new", json!({}))]);
        assert_eq!(fresh.len(), 1);
        assert_eq!(removed, Vec::<usize>::new());
        // Annotations others added (kpt's file) do not make a policy different, and stay.
        assert_eq!(regenerated(&annotated, &m.policies[0].value), annotated);
        assert_eq!((fresh[0].named.name.as_str(), fresh[0].before), ("new", None));
        assert_eq!(
            updates,
            [Edit {
                policy: 1,
                change: Change::Replace(changed),
                reason: "regenerated (netfence's policy of an earlier run): why".into()
            }]
        );
    }

    #[test]
    fn policies_no_longer_generated_are_removed_and_new_ones_placed_in_order() {
        let m = model(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: chart, namespace: a}\nspec: {podSelector: {}}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: gone, namespace: a, labels: {app.kubernetes.io/managed-by: netfence}}\nspec: {podSelector: {}}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: kept, namespace: a, labels: {app.kubernetes.io/managed-by: netfence}}\nspec: {podSelector: {}}\n",
        );
        let named = |name: &str| Named {
            namespace: "a".into(),
            name: name.into(),
            value: m.policies[2].value.clone(),
            reasons: vec![],
        };
        let r = reconcile(&m, vec![named("first"), named("kept"), named("last")]);
        // The chart's own policy is never removed, whatever its name.
        assert_eq!(r.removed, [1]);
        let placed: Vec<(&str, Option<usize>)> = r.fresh.iter().map(|p| (p.named.name.as_str(), p.before)).collect();
        assert_eq!(placed, [("first", Some(2)), ("last", None)]);
    }
}
