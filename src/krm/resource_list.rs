//! The KRM function wire format: a `ResourceList` in, a `ResourceList` out
//! (kustomize's `functions-spec.md`; kyaml's `framework.ResourceList`).
//!
//! Items stay untyped JSON values: the function must hand back every field and annotation it
//! does not own exactly as it received them.

use super::raw::RawItems;
use crate::error::{Error, Result};
use crate::stream::{self, header};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// `apiVersion` of the current ResourceList.
pub const API_VERSION: &str = "config.kubernetes.io/v1";
/// `apiVersion` of the older ResourceList, still accepted.
pub const API_VERSION_V1BETA1: &str = "config.kubernetes.io/v1beta1";
/// `kind` of a ResourceList.
pub const KIND: &str = "ResourceList";

/// A ResourceList: the items a function transforms, its configuration and what it reports.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceList {
    /// `config.kubernetes.io/v1` (or `v1beta1`); the answer repeats the input's.
    pub api_version: String,
    /// Always `ResourceList`.
    pub kind: String,
    /// The resources.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub items: Vec<Value>,
    /// The function's configuration (input only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_config: Option<Value>,
    /// What the function reports (output only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<KrmResult>,
    /// The input text of each item, written back for the items left untouched (see
    /// [`RawItems`]); `None` for JSON and unusual layouts.
    #[serde(skip)]
    pub raw: Option<RawItems>,
}

/// How serious a result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The function failed (or found something that must be fixed).
    Error,
    /// Worth a look.
    Warning,
    /// What the function did.
    Info,
}

/// One entry of `results`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KrmResult {
    /// Human-readable, one line.
    pub message: String,
    /// Severity.
    pub severity: Severity,
    /// The resource the result is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_ref: Option<ResourceRef>,
    /// The field of that resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
    /// The file the resource came from (kpt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRef>,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// Identifies a resource.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRef {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A field of a resource.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    /// Dotted path, e.g. `spec.egress[0].ports[0].port`.
    pub path: String,
    /// The value found there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_value: Option<Value>,
    /// The value the function proposes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed_value: Option<Value>,
}

/// A file in the package (from the `internal.config.kubernetes.io/path` and `…/index` annotations).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct FileRef {
    /// Path relative to the package.
    pub path: String,
    /// Position of the resource in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

impl KrmResult {
    /// A result with no reference.
    pub fn new(severity: Severity, message: impl Into<String>) -> Self {
        KrmResult {
            message: message.into(),
            severity,
            resource_ref: None,
            field: None,
            file: None,
            tags: BTreeMap::new(),
        }
    }

    /// The same result about `item` (its resourceRef, and its file when kpt gave one).
    pub fn about(mut self, item: &Value) -> Self {
        self.resource_ref = Some(ResourceRef::of(item));
        self.file = FileRef::of(item);
        self
    }

    /// The same result about the field at `path`.
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.field = Some(Field { path: path.into(), current_value: None, proposed_value: None });
        self
    }
}

impl ResourceRef {
    /// The reference of an item.
    pub fn of(item: &Value) -> Self {
        let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
        let meta = item.get("metadata");
        ResourceRef {
            api_version: s(item.get("apiVersion")),
            kind: s(item.get("kind")),
            name: s(meta.and_then(|m| m.get("name"))),
            namespace: meta.and_then(|m| m.get("namespace")).and_then(Value::as_str).map(str::to_string),
        }
    }
}

impl FileRef {
    /// The file of an item, from kpt's path annotations (`None` under kustomize).
    pub fn of(item: &Value) -> Option<Self> {
        let path = annotation(item, PATH).or_else(|| annotation(item, LEGACY_PATH))?;
        let index = annotation(item, INDEX).or_else(|| annotation(item, LEGACY_INDEX)).and_then(|i| i.parse().ok());
        Some(FileRef { path: path.to_string(), index })
    }
}

/// kpt's annotation naming an item's file.
pub const PATH: &str = "internal.config.kubernetes.io/path";
/// The legacy spelling of [`PATH`].
pub const LEGACY_PATH: &str = "config.kubernetes.io/path";
/// kpt's annotation giving an item's position in its file.
pub const INDEX: &str = "internal.config.kubernetes.io/index";
/// The legacy spelling of [`INDEX`].
pub const LEGACY_INDEX: &str = "config.kubernetes.io/index";
/// Marks objects that configure the tools and are never applied (function configs, Kptfiles).
pub const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";

/// The string value of annotation `key` of an item.
pub fn annotation<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    item.get("metadata")?.get("annotations")?.get(key)?.as_str()
}

/// Whether the item is local configuration, never applied to a cluster: kpt and kustomize drop
/// it from their final output, and kpt keeps its file only if the function returns it. Kptfiles
/// (`kpt.dev/*`) and netfence's own config objects (`netfence.dev/*`) count as local config even
/// without the annotation.
pub fn is_local_config(item: &Value) -> bool {
    annotation(item, LOCAL_CONFIG).is_some_and(|v| v != "false")
        || item
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with("kpt.dev/") || v.starts_with("netfence.dev/"))
}

/// Whether the input's first document is a ResourceList (`config.kubernetes.io/v1` or `v1beta1`).
/// Only that document is looked at, so a plain manifest stream costs next to nothing.
pub fn is_resource_list(input: &[u8]) -> bool {
    for chunk in stream::split::yaml_chunks(input) {
        let Ok(text) = std::str::from_utf8(&input[chunk.start..chunk.end]) else { return false };
        if stream::is_marker_and_comments(text) {
            continue;
        }
        match header::probe(text) {
            Ok(header::Probe::Empty) => continue,
            Ok(header::Probe::Object(h)) => {
                return h.kind == KIND && (h.api_version == API_VERSION || h.api_version == API_VERSION_V1BETA1)
            }
            _ => return false,
        }
    }
    false
}

/// Whether the input is JSON (then the answer is JSON too).
pub fn is_json(input: &[u8]) -> bool {
    input.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

impl ResourceList {
    /// Parses a ResourceList (YAML or JSON, one document). The items are moved out of the parsed
    /// tree, not copied: a ResourceList can hold a whole platform.
    pub fn parse(input: &[u8]) -> Result<Self> {
        let invalid = |message: String| Error::Input {
            doc: crate::error::DocRef { index: 1, line: 1, id: Some(KIND.into()) },
            message,
        };
        let source = std::str::from_utf8(input).map_err(|_| invalid("not valid UTF-8".into()))?;
        // Read with Go's line breaks (see `stream::lines`).
        let source = stream::lines::normalize_unicode_breaks(source);
        let value = parse_items_yaml(source.as_bytes()).map_err(|(line, message)| Error::Input {
            doc: crate::error::DocRef { index: 1, line: line.unwrap_or(1), id: Some(KIND.into()) },
            message,
        })?;
        let Value::Object(mut map) = value else { return Err(invalid("not a ResourceList (not a mapping)".into())) };
        let text = |v: Option<Value>| v.and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let (api_version, kind) = (text(map.remove("apiVersion")), text(map.remove("kind")));
        if kind != KIND || (api_version != API_VERSION && api_version != API_VERSION_V1BETA1) {
            return Err(invalid(format!(
                "not a ResourceList: apiVersion {api_version:?}, kind {kind:?} (want {API_VERSION} ResourceList)"
            )));
        }
        let items = match map.remove("items") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(invalid("invalid ResourceList: items: expected a list".into())),
        };
        let function_config = map.remove("functionConfig").filter(|v| !v.is_null());
        let results = match map.remove("results") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => serde_path_to_error::deserialize(v)
                .map_err(|e| invalid(format!("invalid ResourceList: results.{}: {}", e.path(), e.inner())))?,
        };
        let raw = if is_json(input) { None } else { RawItems::find(&source) }.filter(|r| r.items.len() == items.len());
        Ok(ResourceList { api_version, kind, items, function_config, results, raw })
    }

    /// Marks item `i` as changed: it is serialised instead of copied.
    pub fn changed(&mut self, i: usize) {
        if let Some(slot) = self.raw.as_mut().and_then(|r| r.items.get_mut(i)) {
            *slot = None;
        }
    }

    /// Leaves out the items at `removed` (indices into [`ResourceList::items`]) and inserts
    /// `added`, each before the item at its index (as it was before the removals), or at the end
    /// for `None`, in order. Raw item texts follow their items.
    pub fn rearrange(&mut self, removed: &[usize], added: Vec<(Option<usize>, Value)>) {
        let old_items = std::mem::take(&mut self.items);
        let mut old_raw = self.raw.as_mut().map(|r| std::mem::take(&mut r.items));
        let mut items = Vec::with_capacity(old_items.len() + added.len());
        let mut raw = Vec::with_capacity(items.capacity());
        let count = old_items.len();
        let mut added: Vec<(Option<usize>, Option<Value>)> = added.into_iter().map(|(at, v)| (at, Some(v))).collect();
        for (i, item) in old_items.into_iter().enumerate() {
            for (_, v) in added.iter_mut().filter(|(at, _)| *at == Some(i)) {
                items.extend(v.take());
                raw.push(None);
            }
            let text = old_raw.as_mut().and_then(|r| r.get_mut(i)).and_then(Option::take);
            if !removed.contains(&i) {
                items.push(item);
                raw.push(text);
            }
        }
        for (_, v) in added.iter_mut().filter(|(at, _)| at.is_none_or(|a| a >= count)) {
            items.extend(v.take());
            raw.push(None);
        }
        self.items = items;
        if let Some(r) = self.raw.as_mut() {
            r.items = raw;
        }
    }

    /// Serialises the list: YAML (block style, YAML 1.1-safe quoting) or indented JSON. In YAML,
    /// the items not marked [`ResourceList::changed`] (and not added) are their input text, when
    /// the result reads back as the same list; otherwise everything is serialised.
    pub fn into_text(mut self, json: bool) -> String {
        if let Some(text) = self.raw.take().filter(|_| !json).and_then(|raw| self.with_raw_items(raw)) {
            return text;
        }
        let mut map = serde_json::Map::new();
        map.insert("apiVersion".into(), Value::String(self.api_version));
        map.insert("kind".into(), Value::String(self.kind));
        map.insert("items".into(), Value::Array(self.items));
        if let Some(fc) = self.function_config {
            map.insert("functionConfig".into(), fc);
        }
        if !self.results.is_empty() {
            map.insert("results".into(), serde_json::to_value(&self.results).unwrap_or_default());
        }
        let value = Value::Object(map);
        if json {
            stream::emit::json(&value) + "\n"
        } else {
            stream::emit::yaml(&value, false)
        }
    }

    /// The YAML text with untouched items copied from `raw`, if it reads back as this list.
    fn with_raw_items(&self, raw: RawItems) -> Option<String> {
        let mut out = format!("apiVersion: {}\nkind: {}\nitems:\n", self.api_version, self.kind);
        if ![API_VERSION, API_VERSION_V1BETA1].contains(&self.api_version.as_str()) || self.kind != KIND {
            return None;
        }
        let pad = " ".repeat(raw.indent);
        for (i, item) in self.items.iter().enumerate() {
            match raw.items.get(i).and_then(Option::as_deref) {
                Some(text) => {
                    out.push_str(text);
                    if !stream::lines::ends_with_break(text) {
                        out.push('\n');
                    }
                }
                None => {
                    let entry = stream::emit::yaml(&Value::Array(vec![item.clone()]), false);
                    for line in entry.split_inclusive('\n') {
                        out.push_str(&pad);
                        out.push_str(line);
                    }
                }
            }
        }
        if let Some(fc) = &self.function_config {
            out.push_str(&stream::emit::yaml(&serde_json::json!({ "functionConfig": fc }), false));
        }
        if !self.results.is_empty() {
            let results = serde_json::json!({ "results": serde_json::to_value(&self.results).ok()? });
            out.push_str(&stream::emit::yaml(&results, false));
        }
        // The copy is trusted only if it means exactly the list.
        let back = ResourceList::parse(out.as_bytes()).ok()?;
        (back.items == self.items && back.results == self.results && back.function_config == self.function_config)
            .then_some(out)
    }

    /// Whether some result has severity `error`.
    pub fn has_errors(&self) -> bool {
        self.results.iter().any(|r| r.severity == Severity::Error)
    }
}

/// Parses a ResourceList as kyaml (go-yaml v3, behind kpt and kustomize) reads it: `y`, `on`
/// and `no` are strings; otherwise as [`stream::parse_value`] reads a document.
fn parse_items_yaml(bytes: &[u8]) -> Result<Value, (Option<usize>, String)> {
    let mut options = stream::yaml_options_for(bytes.len());
    options.strict_booleans = true;
    serde_saphyr::from_slice_with_options(bytes, options).map_err(|e| {
        let line = e.location().map(|l| l.line() as usize);
        let message =
            stream::first_line(&e.to_string()).replace(", set DuplicateKeyPolicy in Options if acceptable", "");
        (line, message)
    })
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<Value>, D::Error> {
    Ok(Option::<Vec<Value>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn detects_resource_lists_only() {
        assert!(is_resource_list(b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"));
        assert!(is_resource_list(b"# c\n---\nkind: ResourceList\napiVersion: config.kubernetes.io/v1beta1\n"));
        assert!(is_resource_list(br#"{"apiVersion":"config.kubernetes.io/v1","kind":"ResourceList","items":[]}"#));
        assert!(!is_resource_list(b"apiVersion: v1\nkind: List\nitems: []\n"));
        assert!(!is_resource_list(b"apiVersion: v1\nkind: ConfigMap\n---\nkind: ResourceList\n"));
        assert!(!is_resource_list(b"apiVersion: example.com/v1\nkind: ResourceList\n"));
        assert!(!is_resource_list(b""));
        assert!(!is_resource_list(b"a: [\n"));
    }

    #[test]
    fn parses_and_writes_back() {
        let text = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- # kpt keeps comments\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data: {mode: '0644', on: 'yes'}\nfunctionConfig: {apiVersion: v1, kind: ConfigMap}\n";
        let list = ResourceList::parse(text).unwrap();
        assert_eq!(list.items.len(), 1);
        assert!(list.function_config.is_some());
        let out = list.clone().into_text(false);
        let back = ResourceList::parse(out.as_bytes()).unwrap();
        assert_eq!(back, list);
        assert!(out.contains("'0644'") || out.contains("\"0644\""), "{out}");
    }

    #[test]
    fn rejects_what_is_not_a_resource_list() {
        let err = ResourceList::parse(b"apiVersion: v1\nkind: List\nitems: []\n").unwrap_err();
        assert!(err.to_string().contains("not a ResourceList"), "{err}");
        let err =
            ResourceList::parse(b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: 3\n").unwrap_err();
        assert!(err.to_string().contains("items"), "{err}");
    }

    #[test]
    fn results_serialise_in_the_spec_shape() {
        let item = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop",
            "annotations": {PATH: "app.yaml", INDEX: "1"}}});
        let r = KrmResult::new(Severity::Warning, "look").about(&item).at("spec.ports");
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"message": "look", "severity": "warning",
                "resourceRef": {"apiVersion": "v1", "kind": "Service", "name": "web", "namespace": "shop"},
                "field": {"path": "spec.ports"}, "file": {"path": "app.yaml", "index": 1}})
        );
    }

    #[test]
    fn local_config() {
        assert!(is_local_config(&json!({"metadata": {"annotations": {LOCAL_CONFIG: "true"}}})));
        assert!(!is_local_config(&json!({"metadata": {"annotations": {LOCAL_CONFIG: "false"}}})));
        assert!(is_local_config(&json!({"apiVersion": "kpt.dev/v1", "kind": "Kptfile"})));
        assert!(is_local_config(&json!({"apiVersion": "netfence.dev/v1alpha1", "kind": "NetFence"})));
        assert!(!is_local_config(&json!({"apiVersion": "v1", "kind": "Service"})));
    }
}
