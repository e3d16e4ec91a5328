//! Writing a changed NetworkPolicy by editing its text instead of re-serialising it, so that its
//! comments and layout survive.
//!
//! A document's change arrives as RFC 6902 operations (see [`crate::core::patch`]). The shapes
//! netfence produces for rules it appends are spliced into block-style YAML: `add
//! /spec/egress/-` (after the last rule of the `egress` sequence) and `add /spec/egress` (a new
//! `egress:` key at the end of `spec`), indented like their neighbours. Every splice is parsed
//! again and must equal the patched value, otherwise the caller re-serialises: the splice is
//! never trusted blindly.
//!
//! Growing it: each supported operation maps to a text site found by walking the parser's
//! events ([`find`]); removing a rule netfence added in an earlier run (`remove
//! /spec/egress/N`) would map to the line span of item N, which the same walk can record.

use super::emit;
use json_patch::PatchOperation;
use serde_json::Value;
use serde_saphyr::granit_parser::{Event, Parser, StructureStyle};

/// `text` with an annotation added at the end of the block mapping `metadata` (a new
/// `annotations:` key), or at the end of its block mapping `annotations`: `path` is the `add`
/// operation's. Layouts other than `metadata:` at column 0 with block children are refused.
fn annotate(text: &str, path: &str, value: &Value) -> Option<String> {
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<(usize, &str)> = text
        .split_inclusive('\n')
        .scan(0, |at, l| {
            let start = *at;
            *at += l.len();
            Some((start, l))
        })
        .collect();
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let content = |l: &str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    // The end of the block whose header is line `at` (indented `col`): the first content line
    // after it indented `col` or less.
    let block_end = |at: usize, col: usize| {
        lines[at + 1..].iter().find(|(_, l)| content(l) && indent(l) <= col).map_or(text.len(), |(o, _)| *o)
    };
    let meta = lines.iter().position(|(_, l)| l.trim_end() == "metadata:")?;
    let child = indent(lines[meta + 1..].iter().find(|(_, l)| content(l))?.1);
    if child == 0 || indent(lines[meta].1) != 0 {
        return None;
    }
    let (offset, block, col) = match path.strip_prefix("/metadata/annotations") {
        Some("") => (block_end(meta, 0), value.clone(), child),
        Some(key) => {
            let key = key.strip_prefix('/')?.replace("~1", "/").replace("~0", "~");
            let at = lines
                .iter()
                .enumerate()
                .skip(meta + 1)
                .find(|(_, (_, l))| indent(l) == child && l.trim() == "annotations:")?
                .0;
            let entries = indent(lines[at + 1..].iter().find(|(_, l)| content(l))?.1);
            if entries <= child {
                return None;
            }
            (block_end(at, child), serde_json::json!({ key: value }), entries)
        }
        None => return None,
    };
    let body = if path == "/metadata/annotations" {
        format!("annotations:{nl}{}", indent_lines(&emit::yaml(&block, nl == "\r\n"), 2))
    } else {
        emit::yaml(&block, nl == "\r\n")
    };
    Some(insert(text, offset, col, &body))
}

/// What a patch asks of the text, when it is a shape the splice supports.
#[derive(Debug, PartialEq)]
enum Edit<'a> {
    /// Append items to the block sequence `spec.egress`.
    AppendEgress(Vec<&'a Value>),
    /// Add the key `egress` with these items at the end of the block mapping `spec`.
    AddEgress(&'a [Value]),
}

impl<'a> Edit<'a> {
    fn of(patch: &'a [PatchOperation]) -> Option<Edit<'a>> {
        match patch {
            [PatchOperation::Add(op)] if op.path.as_str() == "/spec/egress" => {
                op.value.as_array().filter(|a| !a.is_empty()).map(|a| Edit::AddEgress(a))
            }
            ops if !ops.is_empty() => ops
                .iter()
                .map(|op| match op {
                    PatchOperation::Add(op) if op.path.as_str() == "/spec/egress/-" => Some(&op.value),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(Edit::AppendEgress),
            _ => None,
        }
    }
}

/// The document `text` edited by `patch`, when the patch is a supported shape and the text's
/// layout allows a safe splice, and the result parses to exactly `expected` (the patched value).
pub fn apply(
    text: &str,
    patch: &[PatchOperation],
    expected: &Value,
    parse: impl Fn(&str) -> Option<Value>,
) -> Option<String> {
    // netfence's record of what it appends (see `model::ownership`) comes first: an annotation.
    let (text, patch) = match patch.first() {
        Some(PatchOperation::Add(op)) if op.path.as_str().starts_with("/metadata/annotations") => {
            (annotate(text, op.path.as_str(), &op.value)?, &patch[1..])
        }
        _ => (text.to_string(), patch),
    };
    let text = text.as_str();
    let edit = Edit::of(patch)?;
    let crlf = text.contains("\r\n");
    let spliced = match (find(text)?, edit) {
        (Site::AfterItems { offset, indent, compact }, Edit::AppendEgress(rules)) => {
            let rules: Vec<Value> = rules.into_iter().cloned().collect();
            insert(text, offset, indent, &rules_text(&rules, crlf, compact))
        }
        (Site::EndOfSpec { offset, indent, compact }, Edit::AddEgress(rules)) => {
            let nl = if crlf { "\r\n" } else { "\n" };
            let rules = rules_text(rules, crlf, compact);
            let block = format!("egress:{nl}{}", if compact { rules } else { indent_lines(&rules, 2) });
            insert(text, offset, indent, &block)
        }
        _ => return None,
    };
    // The edit is kept only if it means exactly the new value.
    (parse(&spliced).as_ref() == Some(expected)).then_some(spliced)
}

/// Where the new rules go: byte offset of the start of a line, the indentation to use, and
/// whether the document writes a sequence's `-` in its key's column (`compact`) or indented.
#[derive(Debug, PartialEq, Eq)]
enum Site {
    /// After the last item of a non-empty block `egress` sequence whose `-` is at column
    /// `indent`.
    AfterItems { offset: usize, indent: usize, compact: bool },
    /// At the end of a block `spec` mapping without `egress`, whose keys are at column `indent`.
    EndOfSpec { offset: usize, indent: usize, compact: bool },
}

/// Finds the splice site by walking the parser's events: the top-level mapping's `spec` value
/// must be a block mapping, and its `egress` (if any) a non-empty block sequence. Anchors,
/// aliases, tags and complex keys are left to re-serialisation.
fn find(text: &str) -> Option<Site> {
    struct Frame {
        /// For a mapping: the key whose value comes next (`None`: a key comes next).
        pending: Option<(String, usize)>,
        is_map: bool,
        flow: bool,
    }
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    // The key (or "" for a sequence item) of each open collection below the top-level one.
    let mut path: Vec<String> = Vec::new();
    let (mut spec_indent, mut has_spec, mut egress_indent) = (None, false, None);
    // Whether the first block sequence under a key in `spec` has its `-` in the key's column.
    let mut compact = None;
    let (mut egress_items, mut egress_seen) = (0, false);
    // Ends of the last scalar or flow collection inside `spec`, and inside `spec.egress`.
    let (mut spec_end, mut egress_end) = (0, 0);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.ok()?;
        let in_spec = path.first().is_some_and(|k| k == "spec");
        let in_egress = in_spec && path.get(1).is_some_and(|k| k == "egress");
        let mut note_end = |end: usize| {
            if in_spec {
                spec_end = spec_end.max(end);
            }
            if in_egress {
                egress_end = egress_end.max(end);
            }
        };
        let node = match &event {
            Event::Alias(_) => return None,
            Event::Scalar(_, _, anchor, tag)
            | Event::MappingStart(_, anchor, tag)
            | Event::SequenceStart(_, anchor, tag) => {
                if *anchor != 0 || tag.is_some() {
                    return None;
                }
                true
            }
            _ => false,
        };
        if node {
            let is_key = stack.last().is_some_and(|f| f.is_map && f.pending.is_none());
            if is_key {
                let Event::Scalar(value, ..) = &event else { return None };
                if stack.len() == 2 && in_spec && path.len() == 1 {
                    spec_indent.get_or_insert(span.start.col());
                    egress_seen |= value == "egress";
                }
                stack.last_mut()?.pending = Some((value.to_string(), span.start.col()));
                continue;
            }
            // A value (or the top-level node): the key it sits under.
            let (key, key_col) = match stack.last_mut() {
                Some(f) if f.is_map => f.pending.take().map_or((String::new(), None), |(k, c)| (k, Some(c))),
                _ => (String::new(), None),
            };
            if in_egress && path.len() == 2 {
                egress_items += 1;
            }
            match event {
                Event::Scalar(..) => note_end(byte_offset(text, &span.end)?),
                _ => {
                    let is_map = matches!(event, Event::MappingStart(..));
                    let flow = matches!(
                        event,
                        Event::MappingStart(StructureStyle::Flow, ..) | Event::SequenceStart(StructureStyle::Flow, ..)
                    );
                    if let (true, false, false, Some(col)) = (in_spec, is_map, flow, key_col) {
                        if compact.is_none() {
                            compact = Some(dash_column(text, &span.start)? == col);
                        }
                    }
                    match (stack.len(), key.as_str()) {
                        (0, _) if !is_map || flow => return None,
                        (1, "spec") if !is_map || flow => return None,
                        (1, "spec") => has_spec = true,
                        (2, "egress") if in_spec && path.len() == 1 => {
                            if is_map || flow {
                                return None;
                            }
                            egress_indent = Some(dash_column(text, &span.start)?);
                        }
                        _ => {}
                    }
                    if !stack.is_empty() {
                        path.push(key);
                    }
                    stack.push(Frame { pending: None, is_map, flow });
                }
            }
            continue;
        }
        if matches!(event, Event::MappingEnd | Event::SequenceEnd) {
            let frame = stack.pop()?;
            // A block collection ends where the next token starts (after comments): only a
            // flow collection's end is the end of its text.
            if frame.flow {
                note_end(byte_offset(text, &span.end)?);
            }
            path.pop();
        }
    }
    let line_after = |offset: usize| super::lines::next_line_start(text, offset);
    let compact = compact.unwrap_or(true);
    match (has_spec, egress_seen, egress_indent, spec_indent) {
        (true, true, Some(indent), _) if egress_items > 0 => {
            Some(Site::AfterItems { offset: line_after(egress_end), indent, compact })
        }
        (true, false, _, Some(indent)) => Some(Site::EndOfSpec { offset: line_after(spec_end), indent, compact }),
        _ => None,
    }
}

/// The column of the `-` that starts a block sequence, read off its first line (the parser's
/// span of an indentless sequence starts at the item's content, not at the `-`).
fn dash_column(text: &str, start: &serde_saphyr::granit_parser::Marker) -> Option<usize> {
    let start = byte_offset(text, start)?;
    let line = &text[super::lines::line_start(text, start)..];
    let indent = line.len() - line.trim_start_matches(' ').len();
    line[indent..].starts_with('-').then_some(indent)
}

/// A marker's byte offset in `text` (the parser counts characters; it may also give bytes).
fn byte_offset(text: &str, marker: &serde_saphyr::granit_parser::Marker) -> Option<usize> {
    match marker.byte_offset() {
        Some(b) => Some(b),
        None => text.char_indices().map(|(i, _)| i).chain([text.len()]).nth(marker.index()),
    }
}

/// The rules as a block sequence at column 0, nested sequences in the document's style.
fn rules_text(rules: &[Value], crlf: bool, compact: bool) -> String {
    emit::yaml_with(&Value::Array(rules.to_vec()), crlf, compact)
}

fn indent_lines(text: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    text.split_inclusive('\n').map(|l| if l.trim().is_empty() { l.to_string() } else { format!("{pad}{l}") }).collect()
}

/// `text` with `block` (indented by `indent`) inserted at `offset`, the start of a line; a final
/// line without a newline gets one first.
fn insert(text: &str, offset: usize, indent: usize, block: &str) -> String {
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let (head, tail) = text.split_at(offset);
    let sep = if head.is_empty() || super::lines::ends_with_break(head) { "" } else { nl };
    format!("{head}{sep}{}{tail}", indent_lines(block, indent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Option<Value> {
        serde_saphyr::from_str(text).ok()
    }

    fn dns() -> Value {
        json!({"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}], "ports": [{"protocol": "UDP", "port": 53}]})
    }

    /// The text with the DNS rule appended the way the core patches policies.
    fn splice(text: &str) -> Option<String> {
        let old = parse(text).unwrap();
        let ops = crate::core::patch::append_egress(&old, vec![dns()]);
        let new = crate::core::patch::apply(&old, &ops).unwrap();
        let out = apply(text, &ops, &new, parse)?;
        assert_eq!(parse(&out), Some(new));
        Some(out)
    }

    #[test]
    fn appends_after_the_last_rule_keeping_comments() {
        let text = "kind: NetworkPolicy\nspec:\n  podSelector: {}\n  egress:\n    # the database\n    - to:\n        - podSelector: {matchLabels: {app: db}}  # db\n  policyTypes: [Egress]  # keep\n";
        let out = splice(text).unwrap();
        assert!(out.starts_with("kind: NetworkPolicy\nspec:\n  podSelector: {}\n  egress:\n    # the database\n    - to:\n        - podSelector: {matchLabels: {app: db}}  # db\n    - to:\n"), "{out}");
        assert!(out.ends_with("  policyTypes: [Egress]  # keep\n"), "{out}");
    }

    #[test]
    fn netfence_s_record_is_spliced_into_metadata() {
        for (text, want) in [
            (
                "metadata:\n  name: a # n\nspec:\n  egress:\n  - to: []\n",
                "  name: a # n\n  annotations:\n    k/x: 1:ab\nspec:",
            ),
            (
                "metadata:\n  name: a\n  annotations:\n    # c\n    t: x\nspec:\n  egress:\n  - to: []\n",
                "    t: x\n    k/x: 1:ab\nspec:",
            ),
        ] {
            let old = parse(text).unwrap();
            let mut new = old.clone();
            let ops = crate::core::patch::append_egress(&old, vec![dns()]);
            new = crate::core::patch::apply(&new, &ops).unwrap();
            new["metadata"].as_object_mut().unwrap().entry("annotations").or_insert(json!({}))["k/x"] = json!("1:ab");
            let all = crate::core::patch::diff(&old, &new);
            let out = apply(text, &all, &new, parse).unwrap_or_else(|| panic!("{text}: {all:?}"));
            assert!(out.contains(want), "{out}");
        }
    }

    #[test]
    fn indentless_sequences_and_crlf() {
        let text = "spec:\r\n  egress:\r\n  - to: []\r\n  podSelector: {}\r\n";
        let out = splice(text).unwrap();
        assert!(out.starts_with("spec:\r\n  egress:\r\n  - to: []\r\n  - to:\r\n"), "{out:?}");
        assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
    }

    #[test]
    fn adds_an_egress_key_at_the_end_of_spec() {
        let text = "spec:\n  podSelector: {}\n  policyTypes:\n  - Egress\n# after\nstatus: {}\n";
        let out = splice(text).unwrap();
        assert!(out.starts_with("spec:\n  podSelector: {}\n  policyTypes:\n  - Egress\n  egress:\n  - to:\n"), "{out}");
        assert!(out.ends_with("# after\nstatus: {}\n"), "{out}");
        // Sequences indented under their keys: the new ones too.
        let out = splice("spec:\n  policyTypes:\n    - Egress\n").unwrap();
        assert!(out.contains("  egress:\n    - to:\n        - namespaceSelector:\n"), "{out}");
    }

    #[test]
    fn indentless_sequences() {
        let out = splice("spec:\n  egress:\n  - to: []\n  podSelector: {}\n").unwrap();
        assert!(out.starts_with("spec:\n  egress:\n  - to: []\n  - to:\n"), "{out:?}");
    }

    #[test]
    fn last_line_without_newline() {
        let out = splice("spec:\n  egress:\n    - to: []").unwrap();
        assert!(out.starts_with("spec:\n  egress:\n    - to: []\n    - to:\n"), "{out}");
    }

    #[test]
    fn flow_styles_and_other_changes_are_left_to_reserialisation() {
        assert_eq!(splice("spec: {egress: [{to: []}]}\n"), None);
        assert_eq!(splice("spec:\n  egress: [{to: []}]\n"), None);
        assert_eq!(splice("spec:\n  egress: []\n"), None);
        assert_eq!(splice("{\"spec\": {\"egress\": [{\"to\": []}]}}\n"), None);
        // A result that would not mean the expected value is refused.
        let text = "spec:\n  egress:\n  - to: []\n";
        let ops = crate::core::patch::append_egress(&parse(text).unwrap(), vec![dns()]);
        let new = json!({"spec": {"egress": [{"to": []}, dns()]}, "metadata": {"name": "x"}});
        assert_eq!(apply(text, &ops, &new, parse), None);
        // Other operations are left to re-serialisation.
        let other: Vec<PatchOperation> =
            serde_json::from_value(json!([{"op": "replace", "path": "/spec/egress/0", "value": dns()}])).unwrap();
        assert_eq!(apply(text, &other, &json!({"spec": {"egress": [dns()]}}), parse), None);
        assert_eq!(apply(text, &[], &parse(text).unwrap(), parse), None);
    }
}
