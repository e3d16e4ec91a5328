//! The change report (`netfence render --report FILE`, KRM `info` results, the `-v` summary):
//! one entry per document netfence changed or added, with the reason and, for a changed
//! document, the RFC 6902 patch that turns the input document (as parsed JSON) into the output
//! document exactly.
//!
//! The format is JSON, `{"changes": [entry, …]}`; entries may gain fields (later versions add
//! inference evidence), never lose or rename them.

use super::{Action, Outcome};
use crate::model::Model;
use json_patch::PatchOperation;
use serde::Serialize;
use serde_json::Value;

/// The report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// One entry per changed, removed or added document: changed ones in input order, then
    /// removed ones in input order, then added ones in output order.
    pub changes: Vec<Entry>,
}

/// One changed or added document.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// `added`, `changed`, `updated` (netfence's policy of an earlier run, regenerated) or
    /// `removed` (netfence's object of an earlier run that this run does not generate; its
    /// patch is one `remove` of the whole document, path `""`).
    pub action: Action,
    /// `kind` of the document (`List` for a List whose item changed).
    pub kind: String,
    /// `apiVersion`.
    pub api_version: String,
    /// The namespace (after defaulting), absent for a List.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// Why, the reasons joined with `; `.
    pub reason: String,
    /// For a changed document: its 1-based position in the input (the item's in a
    /// ResourceList).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<usize>,
    /// For a changed document: the operations that turn the input document into the output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<Vec<PatchOperation>>,
}

fn field(value: &Value, pointer: &str) -> String {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_string()
}

impl Report {
    /// The report of `outcome` over `model`.
    pub fn new(model: &Model, outcome: &Outcome) -> Report {
        let mut changes = Vec::new();
        for c in &outcome.changed {
            let namespace = match model.policy_of_document(c.doc) {
                Some(i) => Some(model.policies[i].namespace.clone()),
                None => c.value.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_string),
            };
            changes.push(Entry {
                action: c.action,
                kind: field(&c.value, "/kind"),
                api_version: field(&c.value, "/apiVersion"),
                namespace,
                name: field(&c.value, "/metadata/name"),
                reason: c.reasons.join("; "),
                document: model.document_index(c.doc),
                patch: Some(c.patch.clone()),
            });
        }
        for r in outcome.removed.iter().filter(|r| r.item.is_none()) {
            changes.push(Entry {
                action: super::Action::Removed,
                kind: field(&r.value, "/kind"),
                api_version: field(&r.value, "/apiVersion"),
                namespace: r.value.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_string),
                name: field(&r.value, "/metadata/name"),
                reason: r.reason.clone(),
                document: model.document_index(r.doc),
                // The whole document goes: one `remove` of the root.
                patch: Some(super::patch::remove_whole()),
            });
        }
        for a in &outcome.added {
            changes.push(Entry {
                action: super::Action::Added,
                kind: field(&a.value, "/kind"),
                api_version: field(&a.value, "/apiVersion"),
                namespace: a.value.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_string),
                name: field(&a.value, "/metadata/name"),
                reason: a.reasons.join("; "),
                document: None,
                patch: None,
            });
        }
        Report { changes }
    }

    /// The report as pretty JSON, ending in a newline.
    pub fn to_json(&self) -> String {
        format!("{}\n", serde_json::to_string_pretty(self).unwrap_or_default())
    }

    /// A short Markdown summary (for `-v` on stderr): a count, then a table of what changed.
    pub fn markdown(&self) -> String {
        let count = |a: Action| self.changes.iter().filter(|e| e.action == a).count();
        let mut out = format!(
            "netfence: {} added, {} changed, {} updated, {} removed\n",
            count(Action::Added),
            count(Action::Changed),
            count(Action::Updated),
            count(Action::Removed)
        );
        if self.changes.is_empty() {
            return out;
        }
        out.push_str("\n| action | object | reason |\n|---|---|---|\n");
        for e in &self.changes {
            let action =
                serde_json::to_value(e.action).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            let ns = e.namespace.as_deref().map(|n| format!("{n}/")).unwrap_or_default();
            out.push_str(&format!("| {action} | {} {ns}{} | {} |\n", e.kind, e.name, e.reason.replace('|', "\\|")));
        }
        out
    }
}
