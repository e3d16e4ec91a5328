//! One notion of a line break for every part of netfence that counts lines or cuts text into
//! lines: the splitter's line numbers, the probe, the splice, re-serialisation and error messages.
//!
//! It is the notion of Go's YAML reader (go-yaml's `is_break`, behind kubectl, Helm and
//! kustomize): `\n`, `\r\n`, a lone `\r`, and the Unicode breaks U+0085 (NEL), U+2028 (LS) and
//! U+2029 (PS). YAML 1.2 (and so the scanner netfence uses) reads the three Unicode characters
//! as ordinary text, so a comment ending in U+2028 followed by `- {}` hides an allow-all rule
//! from a YAML 1.2 reader that the cluster sees. netfence therefore reads a YAML document with
//! those characters replaced by `\n` ([`normalize_unicode_breaks`]); the bytes it writes for an
//! untouched document stay the input's.

use std::borrow::Cow;

/// The length in bytes of the line break starting at `bytes[i]`, or 0 when there is none there.
pub fn break_len(bytes: &[u8], i: usize) -> usize {
    match bytes[i..] {
        [b'\r', b'\n', ..] => 2,
        [b'\n' | b'\r', ..] => 1,
        [0xC2, 0x85, ..] => 2,
        [0xE2, 0x80, 0xA8 | 0xA9, ..] => 3,
        _ => 0,
    }
}

/// Whether the text holds a break YAML 1.2 does not know (U+0085, U+2028, U+2029).
pub fn has_unicode_breaks(bytes: &[u8]) -> bool {
    memchr::memchr2_iter(0xC2, 0xE2, bytes).any(|i| matches!(break_len(bytes, i), 2 | 3) && bytes[i] != b'\r')
}

/// The text with U+0085, U+2028 and U+2029 replaced by `\n`: what Go's YAML reader reads as
/// the document's structure (borrowed when there is nothing to replace).
pub fn normalize_unicode_breaks(text: &str) -> Cow<'_, str> {
    if !has_unicode_breaks(text.as_bytes()) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace(['\u{85}', '\u{2028}', '\u{2029}'], "\n"))
}

/// The number of line breaks in `bytes` (`\r\n` counts once).
pub fn count(bytes: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    // `\n`, `\r` and the lead bytes of the Unicode breaks are the only places a break starts.
    while let Some(at) = next_candidate(bytes, i) {
        let len = break_len(bytes, at);
        n += usize::from(len > 0);
        i = at + len.max(1);
    }
    n
}

fn next_candidate(bytes: &[u8], from: usize) -> Option<usize> {
    let rest = bytes.get(from..)?;
    let ascii = memchr::memchr2(b'\n', b'\r', rest);
    let unicode = memchr::memchr2(0xC2, 0xE2, &rest[..ascii.unwrap_or(rest.len())]);
    unicode.or(ascii).map(|i| from + i)
}

/// The lines of `text`, each with its break (the last one may have none); their concatenation
/// is `text`.
pub fn split_inclusive(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let bytes = rest.as_bytes();
        let mut end = rest.len();
        let mut i = 0;
        while let Some(at) = next_candidate(bytes, i) {
            let len = break_len(bytes, at);
            if len > 0 {
                end = at + len;
                break;
            }
            i = at + 1;
        }
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

/// The byte offset where the line holding `offset` starts.
pub fn line_start(text: &str, offset: usize) -> usize {
    split_inclusive(&text[..offset]).filter(|l| ends_with_break(l)).map(str::len).sum()
}

/// The byte offset of the start of the line after the one holding `offset` (`offset` itself
/// when it is already a line start, the text's end when there is no next line).
pub fn next_line_start(text: &str, offset: usize) -> usize {
    if offset == 0 || ends_with_break(&text[..offset]) {
        return offset;
    }
    split_inclusive(&text[offset..]).next().map_or(text.len(), |l| offset + l.len())
}

/// Whether `text` ends with a line break.
pub fn ends_with_break(text: &str) -> bool {
    break_len_at_end(text) > 0
}

fn break_len_at_end(text: &str) -> usize {
    let b = text.as_bytes();
    (1..=3.min(b.len())).rev().find(|&n| break_len(b, b.len() - n) == n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_go_break_counts() {
        let text = "a\nb\r\nc\rd\u{85}e\u{2028}f\u{2029}g";
        assert_eq!(count(text.as_bytes()), 6);
        let lines: Vec<&str> = split_inclusive(text).collect();
        assert_eq!(lines, vec!["a\n", "b\r\n", "c\r", "d\u{85}", "e\u{2028}", "f\u{2029}", "g"]);
        assert_eq!(lines.concat(), text);
        assert_eq!(count(b"no break"), 0);
        assert_eq!(count("caf\u{e9} \u{20ac}".as_bytes()), 0, "other multi-byte characters are not breaks");
    }

    #[test]
    fn normalisation_only_touches_unicode_breaks() {
        assert!(matches!(normalize_unicode_breaks("a\r\nb\rc"), Cow::Borrowed(_)));
        assert_eq!(normalize_unicode_breaks("# c\u{2028}- {}\u{85}x\u{2029}"), "# c\n- {}\nx\n");
        assert!(!has_unicode_breaks("\u{e9}\u{20ac}\r".as_bytes()));
    }

    #[test]
    fn line_starts() {
        let text = "ab\rcd\nef";
        assert_eq!(line_start(text, 4), 3);
        assert_eq!(line_start(text, 3), 3);
        assert_eq!(line_start(text, 7), 6);
        assert_eq!(line_start(text, 1), 0);
        assert_eq!(next_line_start(text, 1), 3);
        assert_eq!(next_line_start(text, 3), 3);
        assert_eq!(next_line_start(text, 7), text.len());
    }
}
