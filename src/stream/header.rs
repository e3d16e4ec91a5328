//! A fast look at one document: validates its YAML syntax and reads the few fields netfence
//! needs from every document (kind, name, namespace, the Helm 4 filename annotation, a CRD's
//! scope) without building a tree.
//!
//! Most documents in a render are never changed, so building a full value for each would be
//! wasted work: walking parser events is about twice as fast as deserialising, and keeps the
//! memory footprint at the size of the input.

use compact_str::CompactString;
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};
use std::collections::HashSet;

/// Annotation Helm 4 puts on every document it hands to a post-renderer.
pub const HELM4_FILENAME: &str = "postrenderer.helm.sh/postrender-filename";

/// The annotation that makes an object a Helm hook.
pub const HELM_HOOK: &str = "helm.sh/hook";

/// The file name Helm 4 is told to list generated objects under (`<chart>/templates/<this>`).
pub const HELM4_GENERATED_FILE: &str = "netfence-generated.yaml";

/// The annotation new objects need when the input came from Helm 4 (`chart` is read off the
/// input's own filename annotations, see [`crate::model::Model::helm4_chart`]): Helm 4 strips
/// it and prints a clean `# Source: <chart>/templates/netfence-generated.yaml`. `None` when the
/// input did not use it: netfence never adds it on its own.
pub fn helm4_generated_annotation(chart: Option<&str>) -> Option<(String, String)> {
    chart.map(|c| (HELM4_FILENAME.to_string(), format!("{c}/templates/{HELM4_GENERATED_FILE}")))
}

/// The label charts set to the Helm release name.
pub const INSTANCE_LABEL: &str = crate::config::release::LABELS[0];
/// The legacy label some charts set to the Helm release name instead.
pub const RELEASE_LABEL: &str = crate::config::release::LABELS[1];

/// The fields of a document's top level that every transform may need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// `apiVersion`, empty when absent.
    pub api_version: CompactString,
    /// `kind`, empty when absent.
    pub kind: CompactString,
    /// `metadata.name`, empty when absent.
    pub name: CompactString,
    /// `metadata.namespace`, if set.
    pub namespace: Option<CompactString>,
    /// The Helm 4 `postrenderer.helm.sh/postrender-filename` annotation, if set.
    pub helm4_filename: Option<String>,
    /// The `helm.sh/hook` annotation is set: a Helm hook (Helm 4 hands hooks to post-renderers,
    /// Helm 3 does not).
    pub helm_hook: bool,
    /// The `app.kubernetes.io/instance` and legacy `release` labels, if set (the Helm release
    /// name in most charts, see [`crate::config::release`]).
    pub release_labels: [Option<CompactString>; 2],
    /// For a CustomResourceDefinition: `spec.names.kind` and whether `spec.scope` is `Cluster`.
    pub crd: Option<(String, bool)>,
    /// 1-based line (within the chunk) where the document's content starts.
    pub line: usize,
    /// The walk met an alias, merge key or tag where a captured field lives, so the captured
    /// values may be incomplete: the caller must parse the document fully.
    pub needs_full_parse: bool,
    /// The first captured field whose unquoted value is not a string to a YAML 1.1 reader
    /// (`namespace: no` is `false`, `name: 0644` a number), as `metadata.namespace: no`. Such a
    /// field is left unset, as Kubernetes clients do; the caller warns.
    pub not_a_string: Option<String>,
}

/// What a chunk holds.
// A probe lives only until its chunk is classified (the header moves into the document), so
// boxing the large variant would cost an allocation per document for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Probe {
    /// Only comments, white space or an empty document.
    Empty,
    /// A mapping at the top level.
    Object(Header),
    /// A scalar or sequence at the top level (not a Kubernetes object).
    NotAnObject {
        /// 1-based line within the chunk.
        line: usize,
    },
}

/// A syntax error inside a chunk.
#[derive(Debug)]
pub struct SyntaxError {
    /// 1-based line within the chunk.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The parser's description.
    pub message: String,
    /// `Kind/name` when both were read before the error.
    pub id: Option<String>,
}

enum Top {
    Null,
    Map,
    Other(usize),
}

enum Frame {
    /// A mapping: the key whose value comes next, and the scalar keys seen so far.
    Map {
        key: Option<String>,
        seen: HashSet<Box<str>>,
    },
    Seq,
}

impl Frame {
    fn map() -> Frame {
        Frame::Map { key: None, seen: HashSet::new() }
    }
}

/// Why a document with a duplicate key is refused (the full parse refuses it too, see
/// [`super::parse_value`]): Go's readers disagree on it. sigs.k8s.io/yaml's `Unmarshal` (go-yaml
/// v2, used by Helm to sort and by kustomize's older readers) keeps the last value, while
/// kubectl's strict field validation (the default since 1.27), the API server's strict decoding
/// and go-yaml v3 reject it. Which `metadata:` block or which `egress:` rules the cluster ends up
/// with depends on the tool, so netfence refuses to guess.
pub const DUPLICATE_KEY: &str = "duplicate key";

/// Walks the events of one chunk, validating it and capturing its [`Header`].
pub fn probe(text: &str) -> Result<Probe, SyntaxError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    // Keys of the enclosing mappings, outermost first (sequences push "").
    let mut path: Vec<String> = Vec::new();
    // For each collection below the top: whether it is a (complex) mapping key.
    let mut is_key: Vec<bool> = Vec::new();
    let mut header = Header::default();
    // What the top-level node is: `None` before it is seen.
    let mut top: Option<Top> = None;
    let mut docs = 0;
    let (mut crd_kind, mut crd_cluster) = (None, false);

    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| SyntaxError {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info().to_string(),
            id: (!header.kind.is_empty() && !header.name.is_empty())
                .then(|| format!("{}/{}", header.kind, header.name)),
        })?;
        // A scalar or collection start in key position is a key, not a value.
        let in_key_position = matches!(stack.last(), Some(Frame::Map { key: None, .. }));
        match event {
            Event::DocumentStart(..) => {
                docs += 1;
                if docs > 1 {
                    return Err(SyntaxError {
                        line: span.start.line(),
                        column: 1,
                        message: "a second document starts without a '---' marker".into(),
                        id: None,
                    });
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                if stack.is_empty() {
                    // Top-level scalar: `null`/empty is an empty document, anything else is not an object.
                    let empty = style == ScalarStyle::Plain && matches!(&*value, "" | "~" | "null" | "Null" | "NULL");
                    top = Some(if empty { Top::Null } else { Top::Other(span.start.line()) });
                    continue;
                }
                if in_key_position {
                    if value == "<<" {
                        header.needs_full_parse = true;
                    } else if let Some(Frame::Map { seen, .. }) = stack.last_mut() {
                        if seen.contains(&*value) {
                            return Err(SyntaxError {
                                line: span.start.line(),
                                column: span.start.col() + 1,
                                message: format!(
                                    "{DUPLICATE_KEY} {value:?}: Go's YAML readers disagree on which value counts (kubectl refuses it, Helm keeps the last), so netfence refuses it too"
                                ),
                                id: (!header.kind.is_empty() && !header.name.is_empty())
                                    .then(|| format!("{}/{}", header.kind, header.name)),
                            });
                        }
                        seen.insert(value.as_ref().into());
                    }
                    // Only keys of the first three levels can lead to a captured field.
                    let key = if stack.len() <= 3 { value.into_owned() } else { String::new() };
                    set_key(&mut stack, key);
                    continue;
                }
                if anchor != 0 || tag.is_some() {
                    header.needs_full_parse |= path.len() <= 3;
                }
                let key = current_key(&stack);
                let field = Field { path: &path, key, value: &value, plain: style == ScalarStyle::Plain };
                capture(field, &mut header, &mut crd_kind, &mut crd_cluster);
                clear_key(&mut stack);
            }
            Event::Alias(_) => {
                if path.len() <= 3 {
                    header.needs_full_parse = true;
                }
                if in_key_position {
                    set_key(&mut stack, String::new());
                } else {
                    clear_key(&mut stack);
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if stack.is_empty() {
                    // The top-level node; a sequence is walked too, to validate its syntax.
                    if matches!(event, Event::MappingStart(..)) {
                        header.line = span.start.line();
                        top = Some(Top::Map);
                        stack.push(Frame::map());
                    } else {
                        top = Some(Top::Other(span.start.line()));
                        stack.push(Frame::Seq);
                    }
                    continue;
                }
                if in_key_position {
                    // A complex key: never one of ours.
                    header.needs_full_parse |= path.len() <= 2;
                }
                // The parent's key moves to the path; it is cleared when this collection ends anyway.
                path.push(take_key(&mut stack));
                is_key.push(in_key_position);
                stack.push(if matches!(event, Event::MappingStart(..)) { Frame::map() } else { Frame::Seq });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                if !stack.is_empty() {
                    path.pop();
                    if is_key.pop() == Some(true) {
                        // A complex key ended: its value comes next.
                        set_key(&mut stack, String::new());
                    } else {
                        clear_key(&mut stack);
                    }
                }
            }
            _ => {}
        }
    }
    if let (Some(kind), true) = (crd_kind, header.kind == "CustomResourceDefinition") {
        header.crd = Some((kind, crd_cluster));
    }
    Ok(match top {
        None | Some(Top::Null) => Probe::Empty,
        Some(Top::Other(line)) => Probe::NotAnObject { line },
        Some(Top::Map) => Probe::Object(header),
    })
}

fn set_key(stack: &mut [Frame], key: String) {
    if let Some(Frame::Map { key: k, .. }) = stack.last_mut() {
        *k = Some(key);
    }
}

fn take_key(stack: &mut [Frame]) -> String {
    match stack.last_mut() {
        Some(Frame::Map { key, .. }) => key.take().unwrap_or_default(),
        _ => String::new(),
    }
}

fn clear_key(stack: &mut [Frame]) {
    if let Some(Frame::Map { key, .. }) = stack.last_mut() {
        *key = None;
    }
}

fn current_key(stack: &[Frame]) -> Option<&str> {
    match stack.last() {
        Some(Frame::Map { key: Some(k), .. }) => Some(k),
        _ => None,
    }
}

/// A scalar value and where it sits.
struct Field<'a> {
    path: &'a [String],
    key: Option<&'a str>,
    value: &'a str,
    plain: bool,
}

/// Stores a scalar value if it sits at one of the paths netfence reads.
fn capture(field: Field, header: &mut Header, crd_kind: &mut Option<String>, crd_cluster: &mut bool) {
    let Field { path, key: Some(key), value, plain } = field else { return };
    if path.len() > 2 {
        return;
    }
    let parents = [path.first().map_or("", String::as_str), path.get(1).map_or("", String::as_str)];
    let parents = &parents[..path.len()];
    let captured = matches!(
        (parents, key),
        ([], "apiVersion" | "kind")
            | (["metadata"], "name" | "namespace")
            | (["metadata", "annotations"], HELM4_FILENAME | HELM_HOOK)
            | (["metadata", "labels"], INSTANCE_LABEL | RELEASE_LABEL)
            | (["spec"], "scope")
            | (["spec", "names"], "kind")
    );
    if !captured {
        return;
    }
    // What a full parse makes of the value: only a string counts, null means "unset".
    let text = match if plain { plain_scalar(value) } else { Plain::Str } {
        Plain::Str => Some(CompactString::from(value)),
        Plain::Null => None,
        Plain::Other => {
            if header.not_a_string.is_none() {
                let dotted: Vec<&str> = parents.iter().copied().chain([key]).collect();
                header.not_a_string = Some(format!("{}: {value}", dotted.join(".")));
            }
            None
        }
    };
    match (parents, key) {
        ([], "apiVersion") => header.api_version = text.unwrap_or_default(),
        ([], "kind") => header.kind = text.unwrap_or_default(),
        (["metadata"], "name") => header.name = text.unwrap_or_default(),
        (["metadata"], "namespace") => header.namespace = text,
        (["spec"], "scope") => *crd_cluster = text.as_deref() == Some("Cluster"),
        (["spec", "names"], "kind") => *crd_kind = text.map(String::from),
        (_, INSTANCE_LABEL) => header.release_labels[0] = text,
        (_, RELEASE_LABEL) => header.release_labels[1] = text,
        (_, HELM_HOOK) => header.helm_hook = text.is_some_and(|t| !t.is_empty()),
        _ => header.helm4_filename = text.map(String::from),
    }
}

/// How a YAML 1.1 reader (go-yaml v2 under kubectl and Helm; serde-saphyr's full parse here)
/// resolves a plain scalar.
#[derive(Debug, PartialEq, Eq)]
enum Plain {
    Str,
    Null,
    /// A boolean or a number.
    Other,
}

fn plain_scalar(value: &str) -> Plain {
    const BOOLS: [&str; 8] = ["y", "n", "yes", "no", "on", "off", "true", "false"];
    if matches!(value, "" | "~" | "null" | "Null" | "NULL") {
        return Plain::Null;
    }
    if BOOLS.iter().any(|b| value.eq_ignore_ascii_case(b)) {
        return Plain::Other;
    }
    // Only number-like text can be a number; the full parser decides which ones are (`0644`,
    // `1_000`, `0x1F`, `.inf`, `1e3`), so the probe agrees with it exactly.
    let number_like = value.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.'))
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_'));
    // (`-`, `---` and `...` alone would read as a sequence or markers, not as the scalar.)
    if !number_like || value == "-" || value.starts_with("---") || value.starts_with("...") {
        return Plain::Str;
    }
    match serde_saphyr::from_str_with_options::<serde_json::Value>(value, super::yaml_options()) {
        Ok(v) if v.is_string() => Plain::Str,
        // A number, or a float the full parse rejects (`.inf`, `.nan`).
        _ => Plain::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> Header {
        match probe(text).unwrap() {
            Probe::Object(h) => h,
            other => panic!("expected object, got {other:?}"),
        }
    }

    #[test]
    fn reads_identity_fields() {
        let h = object(
            "---\n# Source: x\nkind: Service\nmetadata:\n  name: web\n  labels: {name: nope}\n  namespace: \"shop\"\n  annotations:\n    postrenderer.helm.sh/postrender-filename: 'c/templates/s.yaml'\napiVersion: v1\nspec:\n  ports: [{name: x}]\n",
        );
        assert_eq!((h.kind.as_str(), h.name.as_str(), h.api_version.as_str()), ("Service", "web", "v1"));
        assert_eq!(h.namespace.as_deref(), Some("shop"));
        assert_eq!(h.helm4_filename.as_deref(), Some("c/templates/s.yaml"));
        assert_eq!(h.line, 3);
        assert!(!h.needs_full_parse);
    }

    #[test]
    fn nested_keys_with_the_same_name_are_not_captured() {
        let h = object("kind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    metadata:\n      name: inner\n      namespace: other\n");
        assert_eq!(h.name, "a");
        assert_eq!(h.namespace, None);
    }

    #[test]
    fn reads_json_and_crd_scope() {
        let h = object(
            r#"{"kind":"CustomResourceDefinition","metadata":{"name":"x"},"spec":{"scope":"Cluster","names":{"kind":"Foo"}}}"#,
        );
        assert_eq!(h.crd, Some(("Foo".into(), true)));
    }

    #[test]
    fn classifies_empty_and_non_objects() {
        assert!(matches!(probe("# only a comment\n").unwrap(), Probe::Empty));
        assert!(matches!(probe("---\n").unwrap(), Probe::Empty));
        assert!(matches!(probe("--- null\n").unwrap(), Probe::Empty));
        assert!(matches!(probe("- a\n- b\n").unwrap(), Probe::NotAnObject { line: 1 }));
        assert!(matches!(probe("just text\n").unwrap(), Probe::NotAnObject { .. }));
    }

    #[test]
    fn reports_syntax_errors_with_lines() {
        let err = probe("a: 1\nb:\n  c: 1\n d: 2\n").unwrap_err();
        assert_eq!(err.line, 4);
        assert_eq!(err.id, None);
        assert!(probe("a: [1, 2\n").is_err());
        let err = probe("kind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: 1\n b: 2\n").unwrap_err();
        assert_eq!(err.id.as_deref(), Some("ConfigMap/x"));
    }

    #[test]
    fn complex_keys_do_not_shift_keys_and_values() {
        let h = object("? [a, b]\n: x\nkind: Service\nmetadata:\n  ? {deep: [1]}\n  : y\n  name: web\n");
        assert_eq!((h.kind.as_str(), h.name.as_str()), ("Service", "web"));
    }

    #[test]
    fn plain_scalars_are_resolved_as_the_full_parse_resolves_them() {
        let ns = |v: &str| {
            let text = format!("kind: A\nmetadata: {{name: a, namespace: {v}}}\n");
            let h = object(&text);
            // The full parse (used for changed documents) must agree with the probe.
            if let Ok(full) = super::super::parse_value(text.as_bytes(), super::super::Format::Yaml) {
                assert_eq!(h.namespace.as_deref(), full["metadata"]["namespace"].as_str(), "{v:?}");
            }
            h
        };
        for null in ["~", "null", "NULL", ""] {
            let h = ns(null);
            assert_eq!((h.namespace, h.not_a_string), (None, None), "{null:?}");
        }
        for other in ["y", "No", "ON", "false", "123", "0644", "0x1F", "1_000", "1e3", "-1", ".5", ".inf"] {
            let h = ns(other);
            assert_eq!(h.namespace, None, "{other:?}");
            assert_eq!(h.not_a_string, Some(format!("metadata.namespace: {other}")));
        }
        for string in ["'y'", "\"123\"", "a1", "1a", "1.2.3", "---x", "yess", "nope"] {
            let h = ns(string);
            assert_eq!(h.namespace.as_deref(), Some(string.trim_matches(['\'', '"'])), "{string:?}");
            assert_eq!(h.not_a_string, None);
        }
        let h = object("kind: true\nmetadata:\n  name: 5\n");
        assert_eq!((h.kind.as_str(), h.name.as_str()), ("", ""));
        assert_eq!(h.not_a_string.as_deref(), Some("kind: true"));
    }

    #[test]
    fn aliases_near_the_top_ask_for_a_full_parse() {
        assert!(object("kind: A\nmetadata: &m {name: a}\nother: *m\n").needs_full_parse);
    }
}
