//! The one processor behind every I/O shape: [`core`] takes the model of the input objects, the
//! configuration and what the I/O shape asks for ([`Context`]), and returns the [`Outcome`]:
//! each changed document with the RFC 6902 JSON Patch that turns it into its output and why,
//! the new objects and why, and the findings. The plain stream (post-renderer, Argo CD) and the
//! KRM `ResourceList` adapters in [`crate::run`] only read their input into a model and write
//! the outcome back, as kyaml's fn/framework keeps one processor behind the ResourceList I/O.

pub mod patch;
pub mod report;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::{ownership, Model};
use crate::transform::{self, Change, Finding};
use json_patch::PatchOperation;
use serde_json::Value;
use std::collections::BTreeMap;

/// What the I/O shape asks of the core besides the model and the configuration.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Annotations every new object gets (Helm 4's filename annotation, see
    /// [`crate::stream::header::helm4_generated_annotation`]).
    pub annotations: Vec<(String, String)>,
    /// The model's default namespace when it stands for "no namespace": nothing named one
    /// (no `-n`, `$HELM_NAMESPACE`, Argo CD or function-config namespace) and every object in it
    /// left `metadata.namespace` unset. New objects for it carry no `metadata.namespace`, so
    /// that Helm and kubectl place them where they place the chart's objects (the release
    /// namespace), instead of in `default`.
    pub unplaced_namespace: Option<String>,
    /// The release generated objects are named for (normalised, see
    /// [`crate::config::release`]); `None`: release-less names.
    pub release: Option<String>,
}

/// What happened to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// A new document.
    Added,
    /// An input document netfence edited (rules appended to a policy).
    Changed,
    /// netfence's own policy of an earlier run, regenerated because the configuration or the
    /// input changed (or a List that held one this run removes).
    Updated,
    /// netfence's own object of an earlier run that this run does not generate: the document
    /// is left out of the output.
    Removed,
}

/// A changed input document.
#[derive(Debug, Clone, PartialEq)]
pub struct Changed {
    /// Position of the document among the model's documents ([`crate::model::Object::doc`]).
    pub doc: usize,
    /// The operations turning the input document into the output one.
    pub patch: Vec<PatchOperation>,
    /// The output document (the input with `patch` applied).
    pub value: Value,
    /// [`Action::Changed`] or [`Action::Updated`].
    pub action: Action,
    /// Why, one sentence each.
    pub reasons: Vec<String>,
}

/// A new object.
#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    /// The object.
    pub value: Value,
    /// Why, one sentence each.
    pub reasons: Vec<String>,
    /// The input document (position, as [`Changed::doc`]) to write it before: netfence's own
    /// document of an earlier run that follows it in this run's order (so a re-render keeps a
    /// fresh render's order); `None`: at the end.
    pub before: Option<usize>,
}

/// netfence's own object of an earlier run that this run does not generate (label
/// `app.kubernetes.io/managed-by: netfence`; nothing else is ever removed).
#[derive(Debug, Clone, PartialEq)]
pub struct Removed {
    /// Position of its document (as [`Changed::doc`]).
    pub doc: usize,
    /// Its index among a List's items (the List document is then in [`Outcome::changed`], with
    /// a `remove` operation); `None`: the whole document goes.
    pub item: Option<usize>,
    /// The object as read.
    pub value: Value,
    /// Why, one sentence.
    pub reason: String,
}

/// The result of [`core`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Changed documents, in document order.
    pub changed: Vec<Changed>,
    /// New objects, in output order.
    pub added: Vec<Added>,
    /// netfence's objects of an earlier run left out, in document order.
    pub removed: Vec<Removed>,
    /// What the transforms noticed.
    pub findings: Vec<Finding>,
}

/// Plans every transform over `model` and turns the plan into patches and new objects.
pub fn core(model: &Model, config: &Config, context: &Context) -> Result<Outcome> {
    let planned = transform::plan(model, config, context)?;
    // Edits per policy, in plan order.
    let mut by_policy: BTreeMap<usize, Vec<&transform::Edit>> = BTreeMap::new();
    // A policy holding netfence's additions of an earlier run is rewritten even with no edit:
    // those additions go.
    for (i, _) in model.policies.iter().enumerate().filter(|(_, p)| p.original.is_some()) {
        by_policy.insert(i, Vec::new());
    }
    for e in &planned.edits {
        by_policy.entry(e.policy).or_default().push(e);
    }
    // Operations per document (a List document collects those of its items).
    let mut by_doc: BTreeMap<usize, (Vec<PatchOperation>, Action, Vec<String>)> = BTreeMap::new();
    for (i, edits) in by_policy {
        let policy = &model.policies[i];
        let Some((ops, action, reasons)) = policy_ops(policy, &edits) else { continue };
        let object = &model.objects[policy.object];
        let item = object.item.map(|n| n.to_string());
        let prefix: Vec<&str> = item.iter().flat_map(|n| ["items", n.as_str()]).collect();
        let entry = by_doc.entry(object.doc).or_insert_with(|| (Vec::new(), action, Vec::new()));
        entry.0.extend(patch::under(&prefix, ops));
        if action == Action::Updated {
            entry.1 = Action::Updated;
        }
        entry.2.extend(reasons);
    }
    let removing_admin = planned.admin_baseline.is_none();
    let admin_added = match planned.admin_baseline {
        Some(baseline) => admin_baseline(model, baseline, &mut by_doc)?,
        None => None,
    };
    let removed = removed(model, &planned.removed, removing_admin, &mut by_doc);
    let mut changed = Vec::with_capacity(by_doc.len());
    for (doc, (ops, action, reasons)) in by_doc {
        let input = document_value(model, doc)
            .ok_or_else(|| Error::config("internal", format!("document {doc} was edited but not kept")))?;
        let value = patch::apply(input, &ops).map_err(|m| Error::config("internal", m))?;
        changed.push(Changed { doc, patch: ops, value, action, reasons });
    }
    // A new object goes before the earlier run's object that follows it in this run's order
    // (top-level documents only; List items and the rest go at the end).
    let top_doc = |policy: usize| {
        let o = &model.objects[model.policies[policy].object];
        o.item.is_none().then_some(o.doc)
    };
    // The cluster-wide baseline comes first, where the per-namespace baselines would be: before
    // the first of netfence's objects that stays.
    let first_kept = model
        .policies
        .iter()
        .enumerate()
        .filter(|(i, p)| p.managed && !planned.removed.contains(i))
        .filter_map(|(i, _)| top_doc(i))
        .min();
    let added = admin_added
        .into_iter()
        .map(|a| Added { before: first_kept, ..a })
        .chain(planned.added.into_iter().map(|p| Added {
            value: p.named.value,
            reasons: p.named.reasons,
            before: p.before.and_then(top_doc),
        }))
        .collect();
    if !removed.is_empty() {
        let names: Vec<String> = removed.iter().map(|r| id(&r.value)).collect();
        tracing::warn!(
            "removed {} object(s) netfence generated in an earlier run that this run does not generate: {}",
            removed.len(),
            names.join(", ")
        );
    }
    Ok(Outcome { changed, added, removed, findings: planned.findings })
}

/// `kind namespace/name` of an object, for messages.
fn id(value: &Value) -> String {
    let s = |p: &str| value.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
    match s("/metadata/namespace") {
        ns if ns.is_empty() => format!("{} {}", s("/kind"), s("/metadata/name")),
        ns => format!("{} {ns}/{}", s("/kind"), s("/metadata/name")),
    }
}

/// netfence's objects of an earlier run that go: the policies `policies` (indices into
/// [`Model::policies`]) and, when `admin` (this run writes no BaselineAdminNetworkPolicy), an
/// earlier run's baseline. Items of a List get a `remove` operation in `by_doc` (after every
/// other operation of the List, last item first, so the indices stay those of the input).
fn removed(
    model: &Model,
    policies: &[usize],
    admin: bool,
    by_doc: &mut BTreeMap<usize, (Vec<PatchOperation>, Action, Vec<String>)>,
) -> Vec<Removed> {
    let reason =
        "netfence generated it in an earlier run and this run does not (another configuration, input or release name)";
    let mut out: Vec<Removed> = policies
        .iter()
        .map(|&i| {
            let p = &model.policies[i];
            let o = &model.objects[p.object];
            Removed { doc: o.doc, item: o.item, value: p.value.clone(), reason: reason.to_string() }
        })
        .collect();
    if admin {
        for (obj, value) in &model.admin_baselines {
            let managed = value.pointer("/metadata/labels").and_then(|l| l.get(crate::k8s::MANAGED_BY_LABEL))
                == Some(&Value::String(crate::k8s::MANAGED_BY_NETFENCE.into()));
            if managed {
                let o = &model.objects[*obj];
                out.push(Removed { doc: o.doc, item: o.item, value: value.clone(), reason: reason.to_string() });
            }
        }
    }
    out.sort_by_key(|r| (r.doc, std::cmp::Reverse(r.item)));
    for r in out.iter().filter(|r| r.item.is_some()) {
        let item = r.item.map(|n| n.to_string()).unwrap_or_default();
        let entry = by_doc.entry(r.doc).or_insert_with(|| (Vec::new(), Action::Updated, Vec::new()));
        entry.0.extend(patch::under(&["items", item.as_str()], patch::remove_whole()));
        entry.1 = Action::Updated;
        entry.2.push(format!("{} removed: {reason}", id(&r.value)));
    }
    out
}

/// Places the `BaselineAdminNetworkPolicy` baseline: new (returned), or an earlier run's
/// regenerated in place (its operations go into `by_doc`, action updated). A baseline of the
/// input that netfence did not write is refused: the object is a singleton, and replacing a
/// platform team's baseline silently would change what it allows.
fn admin_baseline(
    model: &Model,
    baseline: transform::baseline_admin::AdminBaseline,
    by_doc: &mut BTreeMap<usize, (Vec<PatchOperation>, Action, Vec<String>)>,
) -> Result<Option<Added>> {
    let existing =
        model.admin_baselines.iter().find(|(obj, _)| model.objects[*obj].name == transform::baseline_admin::NAME);
    let Some((obj, value)) = existing else {
        return Ok(Some(Added { value: baseline.value, reasons: baseline.reasons, before: None }));
    };
    let object = &model.objects[*obj];
    let managed = value.pointer("/metadata/labels").and_then(|l| l.get(crate::k8s::MANAGED_BY_LABEL))
        == Some(&Value::String(crate::k8s::MANAGED_BY_NETFENCE.into()));
    if !managed {
        return Err(Error::Input {
            doc: object.doc_ref.clone(),
            message: "the input already has a BaselineAdminNetworkPolicy that netfence did not write; \
                      defaultDeny.as: baselineAdminNetworkPolicy would replace it (remove it, or use \
                      defaultDeny.as: networkPolicies)"
                .into(),
        });
    }
    let ops = patch::diff(value, &transform::reconcile::regenerated(value, &baseline.value));
    if ops.is_empty() {
        return Ok(None);
    }
    let item = object.item.map(|n| n.to_string());
    let prefix: Vec<&str> = item.iter().flat_map(|n| ["items", n.as_str()]).collect();
    let reason = format!("regenerated (netfence's baseline of an earlier run): {}", baseline.reasons.join("; "));
    let entry = by_doc.entry(object.doc).or_insert_with(|| (Vec::new(), Action::Updated, Vec::new()));
    entry.0.extend(patch::under(&prefix, ops));
    entry.1 = Action::Updated;
    entry.2.push(reason);
    Ok(None)
}

/// The operations of one policy's edits, relative to the policy object; `None` when they
/// change nothing (every rule to append is already there).
fn policy_ops(
    policy: &crate::model::Policy,
    edits: &[&transform::Edit],
) -> Option<(Vec<PatchOperation>, Action, Vec<String>)> {
    if let Some(e) = edits.iter().rev().find(|e| matches!(e.change, Change::Replace(_))) {
        let Change::Replace(new) = &e.change else { return None };
        let ops = patch::diff(&policy.value, new);
        return (!ops.is_empty()).then(|| (ops, Action::Updated, vec![e.reason.clone()]));
    }
    // Rules are appended in edit order, each once: one already in the policy, or appended by an
    // earlier edit, is skipped (and an edit left with nothing gives no reason).
    let mut present: Vec<&k8s_openapi::api::networking::v1::NetworkPolicyEgressRule> =
        policy.spec.egress.iter().flatten().collect();
    let (mut rules, mut reasons) = (Vec::new(), Vec::new());
    for e in edits {
        let Change::AppendEgress(append) = &e.change else { continue };
        let fresh: Vec<_> = append.iter().filter(|r| !present.contains(r)).collect();
        if fresh.is_empty() {
            continue;
        }
        for r in fresh {
            present.push(r);
            rules.push(transform::to_json(r));
        }
        reasons.push(e.reason.clone());
    }
    tracing::debug!(namespace = %policy.namespace, policy = %policy.name, rules = rules.len(), "appending egress rules");
    // The output: the policy without netfence's earlier additions, this run's appended and
    // recorded (see `model::ownership`); the patch goes from the document as read to it.
    let original = policy.original_value();
    let mut output = original.clone();
    if !rules.is_empty() {
        output = patch::apply(original, &patch::append_egress(original, rules.clone())).ok()?;
        ownership::annotate(&mut output, original, &rules);
    }
    let ops = patch::diff(&policy.value, &output);
    if policy.original.is_some() && reasons.is_empty() && !ops.is_empty() {
        reasons.push("netfence's egress rules of an earlier run removed (no longer configured)".to_string());
    }
    (!ops.is_empty()).then_some((ops, Action::Changed, reasons))
}

/// The parsed input document `doc`: a List document, or the policy that is the document.
fn document_value(model: &Model, doc: usize) -> Option<&Value> {
    if let Some(list) = model.lists.get(&doc) {
        return Some(list);
    }
    if let Some(index) = model.policy_of_document(doc) {
        return Some(&model.policies[index].value);
    }
    let (_, value) = model.admin_baselines.iter().find(|(obj, _)| {
        let o = &model.objects[*obj];
        o.doc == doc && o.item.is_none()
    })?;
    Some(value)
}
