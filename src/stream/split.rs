//! Byte-level splitting of a YAML stream into per-document chunks.
//!
//! The chunks partition the input exactly (their concatenation is the input), which is what lets
//! netfence pass untouched documents through byte for byte. A chunk starts at every line that begins
//! with `---` followed by white space or the end of the line: YAML forbids such a line inside block
//! and multi-line flow scalars (the `c-forbidden` production), and top-level block scalars must be
//! indented, so for valid YAML this marks a document boundary.

use memchr::memchr;

/// One document's bytes inside the input, with the 1-based line it starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Byte offset of the chunk's first byte.
    pub start: usize,
    /// Byte offset one past the chunk's last byte.
    pub end: usize,
    /// 1-based line number of the chunk's first line in the whole input.
    pub line: usize,
}

/// Splits a YAML stream at its `---` document markers.
///
/// The first chunk always starts at offset 0 (it may hold only comments, or be empty when the
/// input starts with `---`; empty chunks are dropped).
pub fn split_yaml(input: &[u8]) -> Vec<Chunk> {
    yaml_chunks(input).collect()
}

/// [`split_yaml`] as an iterator: the chunks are found as they are asked for, so a stream of a
/// million tiny documents needs no list of them.
pub fn yaml_chunks(input: &[u8]) -> YamlChunks<'_> {
    YamlChunks { input, start: 0, start_line: 1, pos: 0, line: 1, directives_only: false, after_end: false }
}

/// The iterator of [`yaml_chunks`].
#[derive(Debug, Clone)]
pub struct YamlChunks<'a> {
    input: &'a [u8],
    start: usize,
    start_line: usize,
    pos: usize,
    line: usize,
    // The current chunk holds only directives (`%YAML`, `%TAG`), comments and blank lines so far,
    // at least one directive: the `---` that follows belongs to it.
    directives_only: bool,
    // The last line that was not blank or a comment was a `...` document end.
    after_end: bool,
}

impl Iterator for YamlChunks<'_> {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        let input = self.input;
        while self.pos < input.len() {
            let (pos, line) = (self.pos, self.line);
            let rest = &input[pos..];
            let line_len = memchr(b'\n', rest).map_or(rest.len(), |nl| nl + 1);
            self.pos += line_len;
            // A lone `\r` or a Unicode break inside the line is a line break to the parser too.
            self.line += super::lines::count(&rest[..line_len]).max(1);
            let mut cut = false;
            if is_marker(rest) {
                cut = pos != self.start && !self.directives_only;
                self.directives_only = false;
                self.after_end = false;
            } else if rest[0] == b'%' && (pos == 0 || self.after_end) {
                // Directives can only start a stream or follow a `...`: they open the next document.
                cut = pos != self.start && !self.directives_only;
                self.directives_only = true;
            } else if rest[0] == b'.'
                && rest.starts_with(b"...")
                && matches!(rest.get(3), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
            {
                self.after_end = true;
                self.directives_only = false;
            } else if (self.after_end || self.directives_only) && !is_blank_or_comment(&rest[..line_len]) {
                self.after_end = false;
                self.directives_only = false;
            }
            if cut {
                let chunk = Chunk { start: self.start, end: pos, line: self.start_line };
                self.start = pos;
                self.start_line = line;
                return Some(chunk);
            }
        }
        if self.start < input.len() {
            let chunk = Chunk { start: self.start, end: input.len(), line: self.start_line };
            self.start = input.len();
            return Some(chunk);
        }
        None
    }
}

fn is_blank_or_comment(line: &[u8]) -> bool {
    match line.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
        None => true,
        Some(b) => *b == b'#',
    }
}

/// Whether a line (given as the rest of the input from its first byte) is a `---` marker.
fn is_marker(rest: &[u8]) -> bool {
    rest.starts_with(b"---") && matches!(rest.get(3), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
}

/// Splits a stream of concatenated JSON values (`{...}\n{...}`) into chunks.
///
/// Each chunk runs from the end of the previous value to the end of this one, so leading white
/// space stays with the value that follows it and the chunks still partition the input.
pub fn split_json(input: &[u8]) -> Result<Vec<Chunk>, (usize, serde_json::Error)> {
    let mut chunks = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(input).into_iter::<serde::de::IgnoredAny>();
    let mut start = 0;
    let mut line = 1;
    while let Some(item) = stream.next() {
        if let Err(e) = item {
            return Err((chunks.len(), e));
        }
        let end = stream.byte_offset();
        chunks.push(Chunk { start, end, line });
        line += memchr::memchr_iter(b'\n', &input[start..end]).count();
        start = end;
    }
    if start < input.len() {
        // Trailing white space belongs to the last chunk so that nothing is lost.
        match chunks.last_mut() {
            Some(last) => last.end = input.len(),
            None => chunks.push(Chunk { start, end: input.len(), line }),
        }
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(input: &str) -> Vec<&str> {
        split_yaml(input.as_bytes()).iter().map(|c| &input[c.start..c.end]).collect()
    }

    #[test]
    fn splits_at_markers_and_partitions_the_input() {
        let input = "# lead\na: 1\n---\n# Source: x\nb: 2\n--- {c: 3}\n---\r\nd: |\n  ---\n  x\n";
        let p = pieces(input);
        assert_eq!(p, vec!["# lead\na: 1\n", "---\n# Source: x\nb: 2\n", "--- {c: 3}\n", "---\r\nd: |\n  ---\n  x\n"]);
        assert_eq!(p.concat(), input);
        let lines: Vec<usize> = split_yaml(input.as_bytes()).iter().map(|c| c.line).collect();
        assert_eq!(lines, vec![1, 3, 6, 7]);
    }

    #[test]
    fn directives_stay_with_their_document() {
        let input = "%YAML 1.1\n# c\n---\na: 1\n...\n%TAG ! tag:x,2000:\n---\nb: 2\n---\n%not: a directive\n";
        assert_eq!(
            pieces(input),
            vec!["%YAML 1.1\n# c\n---\na: 1\n...\n", "%TAG ! tag:x,2000:\n---\nb: 2\n", "---\n%not: a directive\n"]
        );
        assert_eq!(split_yaml(input.as_bytes())[1].line, 6);
    }

    #[test]
    fn dashes_that_are_not_markers_stay_inside() {
        assert_eq!(pieces("a: ---\n----\nb: 1\n"), vec!["a: ---\n----\nb: 1\n"]);
        assert_eq!(pieces("---"), vec!["---"]);
        assert!(pieces("").is_empty());
    }

    #[test]
    fn json_values_are_split_with_their_leading_space() {
        let input = "{\"a\":1}\n {\"b\":\n2}\n";
        let chunks = split_json(input.as_bytes()).unwrap();
        let p: Vec<&str> = chunks.iter().map(|c| &input[c.start..c.end]).collect();
        assert_eq!(p, vec!["{\"a\":1}", "\n {\"b\":\n2}\n"]);
        assert_eq!(chunks[1].line, 1);
    }
}
