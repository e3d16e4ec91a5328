//! Serialisation of changed and new documents.
//!
//! serde-saphyr's emitter quotes every string a YAML 1.1 reader (kubectl, Helm, go-yaml v2) would
//! read as something else (`"on"`, `"yes"`, `"0644"`), which is why it is used here rather than
//! an emitter that only follows YAML 1.2.

use serde_json::Value;

/// Emits one document as block YAML (no leading `---`), ending in a newline.
pub fn yaml(value: &Value, crlf: bool) -> String {
    yaml_with(value, crlf, true)
}

/// [`yaml`], with a sequence's `-` in its key's column (`compact`, kubectl's style) or indented
/// under it (Helm charts' usual style).
pub fn yaml_with(value: &Value, crlf: bool, compact: bool) -> String {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.indent_step = 2;
    options.compact_list_indent = compact;
    let text = serde_saphyr::to_string_with_options(value, options)
        // A `serde_json::Value` always serialises; keep a readable fallback rather than panic.
        .unwrap_or_else(|_| serde_json::to_string(value).unwrap_or_default());
    let text = if text.ends_with('\n') { text } else { text + "\n" };
    if crlf {
        text.replace('\n', "\r\n")
    } else {
        text
    }
}

/// Emits one document as indented JSON (no trailing newline).
pub fn json(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_1_1_ambiguous_strings_stay_quoted() {
        let v = json!({"a": "on", "b": "yes", "c": "0644", "d": "1_000", "e": "null", "f": "plain"});
        let text = yaml(&v, false);
        for ambiguous in ["on", "yes", "0644", "1_000", "null"] {
            assert!(!text.contains(&format!(": {ambiguous}\n")), "{ambiguous} unquoted in {text}");
        }
        assert!(text.contains("f: plain\n"));
        let back: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn crlf_is_kept() {
        assert_eq!(yaml(&json!({"a": 1}), true), "a: 1\r\n");
    }
}
