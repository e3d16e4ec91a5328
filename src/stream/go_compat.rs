//! Two layouts Go's YAML reader (behind kubectl, Helm and kustomize) accepts and the YAML 1.2
//! scanner used here rejects, so that what the cluster accepts, netfence reads:
//!
//! - a tab starting a line inside a flow collection (`ports: [` then `⇥{port: 80}]`): Go treats
//!   it as white space, as YAML does everywhere inside flow collections;
//! - a continuation line of a multi-line quoted scalar indented no deeper than the key it
//!   belongs to (a CNI config in single quotes whose lines start at column 3 under a key at
//!   column 3).
//!
//! - a byte order mark at the start of a later document of the stream (`---` then U+FEFF):
//!   kubectl and Helm split the stream first and read each document as a stream of its own,
//!   where a leading BOM is allowed.
//!
//! The first two only change white space that YAML discards when it folds a flow line (the leading white
//! space of a continuation line), so the repaired text has exactly the value Go reads from the
//! original. The original bytes are what netfence writes back; the repair is used for reading.

/// What a scanner error says, when it is one of the two layouts.
fn repairable(message: &str) -> Option<Repair> {
    if message.starts_with("tabs disallowed within this context") {
        Some(Repair::Tabs)
    } else if message.starts_with("invalid indentation in multiline quoted scalar") {
        Some(Repair::Indent)
    } else if message.starts_with("a BOM must not appear inside a document") {
        Some(Repair::Bom)
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy)]
enum Repair {
    Tabs,
    Indent,
    Bom,
}

/// The repairs one document may need at most: every line once per kind, and a few doublings
/// of one line's indentation.
const MAX_REPAIRS_PER_LINE: usize = 8;

/// Repairs `text` after the scanner reported `message` at 1-based `line`; `None` when the error
/// is not one of the two layouts or the line cannot be repaired. `attempt` counts the repairs of
/// this line so far (the indentation doubles each time).
pub fn repair(text: &str, line: usize, message: &str, attempt: usize) -> Option<String> {
    let kind = repairable(message)?;
    if attempt >= MAX_REPAIRS_PER_LINE || line == 0 {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut found = false;
    // Only markers, comments and blank lines so far (a BOM may start the document after them).
    let mut at_start = true;
    for (i, l) in super::lines::split_inclusive(text).enumerate() {
        if i + 1 != line {
            let content = l.trim_start_matches([' ', '\t']);
            at_start &= content.trim_end().is_empty() || content.starts_with('#') || content.starts_with("---");
            out.push_str(l);
            continue;
        }
        found = true;
        if let Repair::Bom = kind {
            let rest = l.strip_prefix('\u{feff}').filter(|_| at_start)?;
            out.push_str(rest);
            continue;
        }
        let rest = l.trim_start_matches([' ', '\t']);
        let lead = &l[..l.len() - rest.len()];
        match kind {
            Repair::Tabs if lead.contains('\t') => out.push_str(&lead.replace('\t', " ")),
            Repair::Tabs => return None,
            Repair::Indent => {
                out.push_str(lead);
                out.push_str(&" ".repeat(1 << attempt));
            }
            Repair::Bom => return None,
        }
        out.push_str(rest);
    }
    found.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_leading_white_space_changes() {
        let text = "a: [\n\t1]\n";
        assert_eq!(
            repair(text, 2, "tabs disallowed within this context (block indentation)", 0).unwrap(),
            "a: [\n 1]\n"
        );
        let quoted = "k:\n  v: '{\n  x }'\n";
        assert_eq!(
            repair(quoted, 3, "invalid indentation in multiline quoted scalar", 1).unwrap(),
            "k:\n  v: '{\n    x }'\n"
        );
        assert!(repair(text, 2, "did not find expected key", 0).is_none());
        assert!(repair(text, 9, "tabs disallowed within this context", 0).is_none());
        assert!(repair(quoted, 3, "invalid indentation in multiline quoted scalar", MAX_REPAIRS_PER_LINE).is_none());
    }
}
