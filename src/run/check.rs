//! `--check` (or `check: true` in a function config): lints what netfence is about to hand on,
//! with `netfence check`'s rules, on the output model — the input's model with the outcome
//! applied — rather than by writing the output and reading it again.

use crate::analysis::lint::{self, Finding};
use crate::analysis::topology::Topology;
use crate::core::Outcome;
use crate::error::{DocRef, Result};
use crate::model::Model;
use serde_json::Value;

/// The lint findings of the output. `documents` is the number of input documents (new objects
/// are numbered after them); `value_of(i)` is input object `i`'s whole value.
pub fn lint_output(
    model: &Model,
    outcome: &Outcome,
    documents: usize,
    value_of: impl Fn(usize) -> Result<Value>,
) -> Result<Vec<Finding>> {
    let output = output_model(model, outcome, documents)?;
    let inputs = model.objects.len();
    // Objects the model does not keep (Services, admin policies…) are read as they are in the
    // output: an added object's value, a changed document's new value, else the input's.
    let changed: std::collections::HashMap<usize, &Value> = outcome.changed.iter().map(|c| (c.doc, &c.value)).collect();
    let topology = Topology::from_model(&output, |i| {
        if i >= inputs {
            return Ok(outcome.added.get(i - inputs).map(|a| a.value.clone()).unwrap_or(Value::Null));
        }
        let o = &model.objects[i];
        match (changed.get(&o.doc), o.item) {
            (Some(v), None) => Ok((*v).clone()),
            (Some(v), Some(n)) => Ok(v.pointer(&format!("/items/{n}")).cloned().unwrap_or(Value::Null)),
            (None, _) => value_of(i),
        }
    })?;
    Ok(lint::check(&topology))
}

/// The model of the output: changed policies replaced, new objects added (numbered after the
/// `documents` input documents).
fn output_model(model: &Model, outcome: &Outcome, documents: usize) -> Result<Model> {
    let mut output = Model {
        default_namespace: model.default_namespace.clone(),
        objects: model.objects.clone(),
        policies: model.policies.clone(),
        policies_by_namespace: model.policies_by_namespace.clone(),
        workloads: model.workloads.clone(),
        namespaces: model.namespaces.clone(),
        manifests: vec![],
        lists: Default::default(),
        admin_baselines: model.admin_baselines.clone(),
        helm4_chart: model.helm4_chart.clone(),
        hook_only_namespaces: model.hook_only_namespaces.clone(),
        generated_only_namespaces: model.generated_only_namespaces.clone(),
        ownership_warnings: vec![],
    };
    // Policies read without netfence's earlier additions are, in the output, what they are.
    for (i, p) in model.policies.iter().enumerate().filter(|(_, p)| p.original.is_some()) {
        output.replace_policy(i, p.value.clone())?;
    }
    let removed = |doc: usize, item: Option<usize>| outcome.removed.iter().any(|r| r.doc == doc && r.item == item);
    for c in &outcome.changed {
        if let Some(i) = model.policy_of_document(c.doc) {
            output.replace_policy(i, c.value.clone())?;
            continue;
        }
        // A List: its policies are its items (after the items removed before them).
        for i in 0..model.policies.len() {
            let o = &model.objects[model.policies[i].object];
            if let (true, Some(item)) = (o.doc == c.doc, o.item) {
                let gone_before = outcome.removed.iter().filter(|r| r.doc == c.doc && r.item < Some(item)).count();
                match c.value.pointer(&format!("/items/{}", item - gone_before)) {
                    Some(v) if !removed(o.doc, o.item) => output.replace_policy(i, v.clone())?,
                    _ => {}
                }
            }
        }
    }
    // Objects netfence removes are not in the output: no kind, no policy.
    if !outcome.removed.is_empty() {
        for o in output.objects.iter_mut().filter(|o| removed(o.doc, o.item)) {
            o.kind = Default::default();
        }
        let objects = &output.objects;
        output.policies.retain(|p| !objects[p.object].kind.is_empty());
        output.policies_by_namespace.clear();
        for (i, p) in output.policies.iter().enumerate() {
            output.policies_by_namespace.entry(p.namespace.clone()).or_default().push(i);
        }
    }
    for (k, a) in outcome.added.iter().enumerate() {
        let id = format!(
            "{}/{}",
            a.value["kind"].as_str().unwrap_or_default(),
            a.value["metadata"]["name"].as_str().unwrap_or_default()
        );
        let doc_ref = DocRef { index: documents + k + 1, line: 0, id: Some(id) };
        output.add_object(usize::MAX, doc_ref, &a.value)?;
    }
    Ok(output)
}
