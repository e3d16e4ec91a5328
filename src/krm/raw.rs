//! The text of each `items` entry of a YAML ResourceList, so that an item the function does not
//! change goes back exactly as it came in, as kyaml's functions do (they round-trip the node).
//!
//! Reading an item into a value and writing it again is not neutral: a YAML 1.1 read turns `y`,
//! `on` and `no` into booleans (kpt's reader, go-yaml v3, keeps them strings), decodes
//! `!!binary`, rewrites `0644` as `420` and drops comments; kpt then writes those changes into the
//! package's files. So the writer copies an untouched item's lines verbatim and serialises only
//! the items netfence changed or added (see [`super::resource_list::ResourceList::into_text`],
//! which also checks that the result reads back as the intended list).

use crate::stream::lines;
use serde_saphyr::granit_parser::{Event, Parser, StructureStyle};

/// The lines of every item of a block-style `items` sequence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawItems {
    /// The column of the sequence's `-` indicators.
    pub indent: usize,
    /// Per item, its lines (from its `-` line to the line before the next item's `-`, comments
    /// included); `None` once the item changed.
    pub items: Vec<Option<String>>,
}

impl RawItems {
    /// Finds the items of `text`, a ResourceList document; `None` when its layout is not the
    /// plain one (`items` a block sequence of items each starting on a line of its own), and
    /// then the whole list is serialised.
    pub fn find(text: &str) -> Option<RawItems> {
        let (starts, end) = item_starts(text)?;
        let mut bounds = Vec::with_capacity(starts.len() + 1);
        let mut indent = None;
        let mut floor = 0;
        for &start in &starts {
            let (line, column) = dash_line(text, start, floor)?;
            if *indent.get_or_insert(column) != column {
                return None;
            }
            bounds.push(line);
            floor = start;
        }
        bounds.push(end.map_or(text.len(), |e| lines::line_start(text, e)));
        let items = bounds.windows(2).map(|w| Some(text.get(w[0]..w[1])?.to_string())).collect::<Option<Vec<_>>>()?;
        // A document marker inside would end the list early when written back.
        if items.iter().any(|t| lines::split_inclusive(t).any(|l| l.starts_with("---") || l.starts_with("..."))) {
            return None;
        }
        Some(RawItems { indent: indent.unwrap_or(0), items: items.into_iter().map(Some).collect() })
    }
}

/// The byte offsets where each item's first event starts, and where the next top-level key
/// after `items` starts (if any).
fn item_starts(text: &str) -> Option<(Vec<usize>, Option<usize>)> {
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    // At depth 1: whether a key comes next, and the key whose value comes next.
    let (mut key_next, mut key) = (true, String::new());
    let (mut in_items, mut items_done) = (false, false);
    let mut starts = Vec::new();
    let mut end = None;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.ok()?;
        let offset = byte_offset(text, &span.start)?;
        match event {
            Event::MappingStart(style, ..) | Event::SequenceStart(style, ..) => {
                let is_seq = matches!(event, Event::SequenceStart(..));
                match depth {
                    0 if is_seq || style == StructureStyle::Flow => return None,
                    1 if key_next => return None,
                    1 if key == "items" => {
                        if !is_seq || style == StructureStyle::Flow {
                            return None;
                        }
                        in_items = true;
                    }
                    2 if in_items => starts.push(offset),
                    _ => {}
                }
                depth += 1;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                depth = depth.checked_sub(1)?;
                if depth == 1 {
                    if in_items {
                        in_items = false;
                        items_done = true;
                    }
                    key_next = true;
                }
            }
            Event::Scalar(value, ..) => match depth {
                1 if key_next => {
                    if items_done && end.is_none() {
                        end = Some(offset);
                    }
                    key = value.into_owned();
                    key_next = false;
                }
                1 => key_next = true,
                2 if in_items => starts.push(offset),
                _ => {}
            },
            Event::Alias(_) if depth <= 2 => return None,
            _ => {}
        }
    }
    items_done.then_some((starts, end))
}

/// The start of the line holding the `-` of the item starting at `start` and that `-`'s column:
/// the nearest line at or before the item's line (not before `floor`) whose first non-blank is a
/// `-` indicator.
fn dash_line(text: &str, start: usize, floor: usize) -> Option<(usize, usize)> {
    let mut line = lines::line_start(text, start);
    loop {
        let rest = &text[line..];
        let column = rest.len() - rest.trim_start_matches(' ').len();
        let after = &rest.as_bytes()[column..];
        if after.first() == Some(&b'-') && matches!(after.get(1), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            return Some((line, column));
        }
        if line <= floor || line == 0 {
            return None;
        }
        line = lines::line_start(text, line - 1);
    }
}

/// A marker's byte offset in `text` (the parser counts characters; it may also give bytes).
fn byte_offset(text: &str, marker: &serde_saphyr::granit_parser::Marker) -> Option<usize> {
    match marker.byte_offset() {
        Some(b) => Some(b),
        None => text.char_indices().map(|(i, _)| i).chain([text.len()]).nth(marker.index()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_items_lines() {
        let text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- # head\n  kind: A\n  data: {a: y}\n# between\n- kind: B\n  b: !!binary aGVsbG8=\nfunctionConfig: {}\n";
        let raw = RawItems::find(text).unwrap();
        assert_eq!(raw.indent, 0);
        assert_eq!(
            raw.items,
            vec![
                Some("- # head\n  kind: A\n  data: {a: y}\n# between\n".to_string()),
                Some("- kind: B\n  b: !!binary aGVsbG8=\n".to_string())
            ]
        );
        let indented = "kind: ResourceList\nitems:\n  - kind: A\n  - kind: B\n";
        let raw = RawItems::find(indented).unwrap();
        assert_eq!((raw.indent, raw.items.len()), (2, 2));
        assert_eq!(raw.items[1].as_deref(), Some("  - kind: B\n"));
    }

    #[test]
    fn other_layouts_are_serialised() {
        assert_eq!(RawItems::find("kind: ResourceList\nitems: [{kind: A}]\n"), None);
        assert_eq!(RawItems::find("{kind: ResourceList, items: []}\n"), None);
        assert_eq!(RawItems::find("kind: ResourceList\nitems:\n- {kind: A}\n- *x\n"), None);
        assert_eq!(RawItems::find("kind: ResourceList\n"), None);
    }
}
