//! The I/O layer for plain manifest streams: split the input into documents, look at each one
//! just enough to classify it, and write the result back with untouched documents byte for byte.

pub mod emit;
pub mod go_compat;
pub mod header;
pub mod splice;
pub mod split;

use crate::error::{DocRef, Error, Result};
use header::{Header, Probe};
use split::Chunk;
use std::collections::BTreeMap;
use std::io::Write;

/// Whether the stream is YAML (documents separated by `---`) or concatenated JSON values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A YAML stream (JSON documents separated by `---` are YAML too).
    Yaml,
    /// Concatenated JSON values, as `kubectl get -o json` pipelines produce.
    Json,
}

/// One document of the input stream.
#[derive(Debug)]
pub struct Document<'a> {
    /// 1-based position among the stream's non-empty documents (0 for empty chunks).
    pub index: usize,
    /// The document's exact bytes, leading `---` and comments included.
    pub bytes: &'a [u8],
    /// Where the chunk is in the input.
    pub chunk: Chunk,
    /// Identity fields, or `None` for a comment-only or empty chunk.
    pub header: Option<Header>,
    /// The text to read instead of [`Document::bytes`] when the document uses a layout Go's
    /// YAML reader accepts and the scanner does not (see [`go_compat`]).
    pub repaired: Option<String>,
}

impl Document<'_> {
    /// A reference to this document for error messages.
    pub fn doc_ref(&self) -> DocRef {
        let line = self.chunk.line + self.header.as_ref().map_or(0, |h| h.line.saturating_sub(1));
        let id = self.header.as_ref().filter(|h| !h.kind.is_empty()).map(|h| format!("{}/{}", h.kind, h.name));
        DocRef { index: self.index, line, id }
    }

    /// Parses the whole document into a JSON value (YAML 1.1-compatible reading, see [`parse_value`]).
    pub fn value(&self, format: Format) -> Result<serde_json::Value> {
        let bytes = self.repaired.as_ref().map_or(self.bytes, |r| r.as_bytes());
        parse_value(bytes, format).map_err(|(line, message)| {
            let mut doc = self.doc_ref();
            if let Some(l) = line {
                doc.line = self.chunk.line + l - 1;
            }
            Error::Input { doc, message }
        })
    }
}

/// How a changed document is written: the operations that change it (tried as a text splice)
/// and the value they produce (re-serialised when the splice does not apply).
#[derive(Debug, Clone, Copy)]
pub struct Replacement<'a> {
    /// RFC 6902 operations on the document as parsed.
    pub patch: &'a [json_patch::PatchOperation],
    /// The document after them.
    pub value: &'a serde_json::Value,
}

/// A split and classified input stream.
#[derive(Debug)]
pub struct Stream<'a> {
    /// The whole input.
    pub input: &'a [u8],
    /// YAML or JSON.
    pub format: Format,
    /// Every chunk of the input, in order (their bytes concatenate to the input).
    pub docs: Vec<Document<'a>>,
}

impl<'a> Stream<'a> {
    /// Splits and validates `input`. Every document's syntax is checked, so a broken document
    /// fails the whole run before anything is written.
    pub fn parse(input: &'a [u8]) -> Result<Self> {
        Stream::parse_with(input, false)
    }

    /// Like [`Stream::parse`], but a document that is not a mapping (a bare list or scalar,
    /// such as an analyser's JSON output next to the manifests) is skipped with a warning
    /// instead of failing the run (as np-guard reads directories; the analysis uses this).
    pub fn parse_lenient(input: &'a [u8]) -> Result<Self> {
        Stream::parse_with(input, true)
    }

    fn parse_with(input: &'a [u8], skip_non_objects: bool) -> Result<Self> {
        let first = input.iter().find(|b| !b.is_ascii_whitespace());
        let (format, chunks) = if matches!(first, Some(b'{')) && looks_like_json_stream(input) {
            let chunks = split::split_json(input).map_err(|(n, e)| Error::Input {
                doc: DocRef { index: n + 1, line: e.line(), id: None },
                message: format!("invalid JSON: {e}"),
            })?;
            (Format::Json, chunks)
        } else {
            (Format::Yaml, split::split_yaml(input))
        };
        let probes = probe_all(input, &chunks);
        let mut docs = Vec::with_capacity(chunks.len());
        let mut index = 0;
        for (chunk, probe) in chunks.into_iter().zip(probes) {
            let bytes = &input[chunk.start..chunk.end];
            let err_ref = |line: usize| DocRef { index: index + 1, line: chunk.line + line.max(1) - 1, id: None };
            let (header, repaired) = match probe {
                Err((line, message, id)) => return Err(Error::Input { doc: DocRef { id, ..err_ref(line) }, message }),
                Ok((Probe::Empty, _)) => (None, None),
                Ok((Probe::NotAnObject { line }, _)) if skip_non_objects => {
                    tracing::warn!(
                        "{}: skipped: not a Kubernetes object (the document is not a mapping)",
                        DocRef { index: index + 1, ..err_ref(line) }
                    );
                    (None, None)
                }
                Ok((Probe::NotAnObject { line }, _)) => {
                    return Err(Error::Input {
                        doc: err_ref(line),
                        message: "not a Kubernetes object (the document is not a mapping)".into(),
                    })
                }
                Ok((Probe::Object(h), repaired)) => (Some(h), repaired),
            };
            if header.is_some() {
                index += 1;
            }
            let doc = Document { index: if header.is_some() { index } else { 0 }, bytes, chunk, header, repaired };
            if let Some(field) = doc.header.as_ref().and_then(|h| h.not_a_string.as_deref()) {
                // kubectl and Helm read it the same way, so this is a surprise, not an error.
                tracing::warn!(
                    "{}: `{field}` is not a string to Kubernetes' YAML 1.1 reader, so the field is treated as unset; quote the value to mean the string",
                    doc.doc_ref()
                );
            }
            docs.push(doc);
        }
        Ok(Stream { input, format, docs })
    }

    /// Writes the stream: every document verbatim except those in `replaced` (their patch
    /// spliced into the text, see [`splice`], or else the patched value re-serialised keeping the
    /// document's leading `---` and comments), then the `appended` documents.
    pub fn write(
        &self,
        replaced: &BTreeMap<usize, Replacement>,
        appended: &[&serde_json::Value],
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        let mut last_byte = None;
        for (i, doc) in self.docs.iter().enumerate() {
            let bytes: std::borrow::Cow<[u8]> = match replaced.get(&i) {
                None => doc.bytes.into(),
                Some(r) => self.rewrite(doc, r).into_bytes().into(),
            };
            out.write_all(&bytes)?;
            last_byte = bytes.last().copied().or(last_byte);
        }
        let nl = if self.uses_crlf() { "\r\n" } else { "\n" };
        for value in appended {
            if last_byte.is_some_and(|b| b != b'\n') {
                out.write_all(nl.as_bytes())?;
            }
            let text = match self.format {
                Format::Yaml => format!("---{nl}{}", emit::yaml(value, nl == "\r\n")),
                Format::Json => format!("{}{nl}", emit::json(value)),
            };
            out.write_all(text.as_bytes())?;
            last_byte = Some(b'\n');
        }
        Ok(())
    }

    /// Whether most of the input's line ends are CRLF.
    fn uses_crlf(&self) -> bool {
        let lf = memchr::memchr_iter(b'\n', self.input).count();
        let crlf = memchr::memmem::find_iter(self.input, b"\r\n").count();
        lf > 0 && crlf * 2 > lf
    }

    fn rewrite(&self, doc: &Document, replacement: &Replacement) -> String {
        let Replacement { patch, value } = *replacement;
        match self.format {
            Format::Json => {
                let lead: String =
                    String::from_utf8_lossy(doc.bytes).chars().take_while(|c| c.is_whitespace()).collect();
                format!("{lead}{}", emit::json(value))
            }
            Format::Yaml => {
                let text = String::from_utf8_lossy(doc.bytes);
                // Rules appended to a block-style policy: edit the text, keeping its comments.
                let parse = |t: &str| parse_value(t.as_bytes(), Format::Yaml).ok();
                if let Some(spliced) = splice::apply(&text, patch, value, parse) {
                    tracing::debug!("{}: rules spliced into the text (comments kept)", doc.doc_ref());
                    return spliced;
                }
                tracing::debug!("{}: re-serialised (comments inside it are not kept)", doc.doc_ref());
                let crlf = text.contains("\r\n");
                let content_line = doc.header.as_ref().map_or(1, |h| h.line);
                // Keep the marker and the comments above the content (Helm's `# Source:`).
                let mut prefix: String = text.split_inclusive('\n').take(content_line - 1).collect();
                if prefix.is_empty() && text.starts_with("---") {
                    prefix = if crlf { "---\r\n".into() } else { "---\n".into() };
                }
                // Keep an explicit `...` end and what follows it (comments, directives of the next document).
                format!("{prefix}{}{}", emit::yaml(value, crlf), document_end_trailer(&text))
            }
        }
    }
}

/// The part of a YAML chunk from its last `...` document-end line on (empty when there is none).
/// A `...` at the start of a line is always a document end (YAML forbids it inside scalars).
fn document_end_trailer(text: &str) -> &str {
    let mut found = None;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("...") && matches!(line.as_bytes().get(3), None | Some(b' ' | b'\t' | b'\r' | b'\n')) {
            found = Some(pos);
        }
        pos += line.len();
    }
    found.map_or("", |p| &text[p..])
}

/// A stream starting with `{` is a JSON stream unless it is a YAML stream with `---` markers
/// (a flow mapping as the first YAML document).
fn looks_like_json_stream(input: &[u8]) -> bool {
    split::split_yaml(input).len() <= 1 || !input.windows(4).any(|w| w == b"\n---")
}

/// A probe failure: 1-based line within the chunk, message, `Kind/name` if known.
type ProbeError = (usize, String, Option<String>);

/// Repairs of Go-accepted layouts (see [`go_compat`]) one document may need at most.
const MAX_REPAIRS: usize = 128;

/// A probe and, when the document needed one, its repaired text.
type Probed = (Probe, Option<String>);

/// Probes one chunk, repairing the layouts Go's reader accepts (see [`go_compat`]); the error
/// is the one of the text as written.
fn probe_text(text: &str) -> Result<Probed, ProbeError> {
    let first = match header::probe(text) {
        Ok(p) => return Ok((p, None)),
        Err(e) => e,
    };
    let mut current = text.to_string();
    let mut error = (first.line, first.message.clone());
    let mut attempts: BTreeMap<usize, usize> = BTreeMap::new();
    for _ in 0..MAX_REPAIRS {
        let tries = attempts.entry(error.0).or_default();
        let Some(next) = go_compat::repair(&current, error.0, &error.1, *tries) else { break };
        *tries += 1;
        match header::probe(&next) {
            Ok(p) => {
                tracing::debug!("line {}: read as Go's YAML reader does ({})", first.line, first.message);
                return Ok((p, Some(next)));
            }
            Err(e) => {
                error = (e.line, e.message);
                current = next;
            }
        }
    }
    Err((first.line, format!("invalid YAML: {} (column {})", first.message, first.column), first.id))
}

/// Probes every chunk, on all cores for large inputs (the probe is the hot loop of a render).
fn probe_all(input: &[u8], chunks: &[Chunk]) -> Vec<Result<Probed, ProbeError>> {
    let probe_one = |c: &Chunk| -> Result<Probed, ProbeError> {
        let text = std::str::from_utf8(&input[c.start..c.end]).map_err(|e| {
            let line = 1 + memchr::memchr_iter(b'\n', &input[c.start..c.start + e.valid_up_to()]).count();
            (line, "not valid UTF-8".to_string(), None)
        })?;
        probe_text(text)
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if threads < 2 || input.len() < 1 << 20 {
        return chunks.iter().map(probe_one).collect();
    }
    // Split the chunk list into slices of roughly equal bytes.
    let per_thread = input.len() / threads + 1;
    let mut slices = Vec::new();
    let (mut from, mut bytes) = (0, 0);
    for (i, c) in chunks.iter().enumerate() {
        bytes += c.end - c.start;
        if bytes >= per_thread {
            slices.push(&chunks[from..=i]);
            from = i + 1;
            bytes = 0;
        }
    }
    slices.push(&chunks[from..]);
    std::thread::scope(|s| {
        let handles: Vec<_> =
            slices.iter().map(|part| s.spawn(|| part.iter().map(probe_one).collect::<Vec<_>>())).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// Options for reading documents the way Kubernetes' YAML 1.1 reader does where it matters:
/// `0644` is octal. Budgets are per document, and raised for `ResourceList`-sized inputs.
pub fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.legacy_octal_numbers = true;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = 5_000_000;
    budget.max_events = 20_000_000;
    budget.max_total_scalar_bytes = 1 << 30;
    budget.max_reader_input_bytes = Some(1 << 30);
    options.budget = Some(budget);
    options
}

/// Parses one document's bytes into a JSON value. Returns the error's 1-based line within the
/// bytes when the parser gives one.
pub fn parse_value(bytes: &[u8], format: Format) -> Result<serde_json::Value, (Option<usize>, String)> {
    match format {
        Format::Json => serde_json::from_slice(bytes).map_err(|e| (Some(e.line()), e.to_string())),
        Format::Yaml => serde_saphyr::from_slice_with_options(bytes, yaml_options()).map_err(|e| {
            let line = e.location().map(|l| l.line() as usize);
            (line, first_line(&e.to_string()))
        }),
    }
}

/// The first line of a multi-line message (serde-saphyr appends a source snippet).
pub fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().trim().to_string()
}

#[cfg(test)]
mod go_layout_tests {
    use super::*;

    /// np-guard's nad_test_12 writes a CNI config this way; Go's reader (kubectl, Helm) takes it.
    const CNI: &str = "apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: net\nspec:\n  config: '{\n    \"cniVersion\": \"0.3.1\",\n    \"type\": \"macvlan\"\n  }'\n";

    #[test]
    fn layouts_go_accepts_are_read_as_go_reads_them() {
        let stream = Stream::parse(CNI.as_bytes()).unwrap();
        let value = stream.docs[0].value(stream.format).unwrap();
        assert_eq!(value["spec"]["config"], r#"{ "cniVersion": "0.3.1", "type": "macvlan" }"#);
        let tab =
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [\n\t{name: c,\n\t image: x}]\n";
        let stream = Stream::parse(tab.as_bytes()).unwrap();
        assert_eq!(stream.docs[0].value(stream.format).unwrap()["spec"]["containers"][0]["image"], "x");
        // What netfence writes is still the input, byte for byte.
        let mut out = Vec::new();
        stream.write(&BTreeMap::new(), &[], &mut out).unwrap();
        assert_eq!(out, tab.as_bytes());
        // Other errors stay errors, reported where the text has them.
        let e = Stream::parse(b"a: [\n\tb\nc: {").unwrap_err().to_string();
        assert!(e.starts_with("document 1 at line "), "{e}");
    }

    #[test]
    fn the_analysis_skips_what_is_not_an_object() {
        let input = b"[{\"src\": \"a\"}]\n";
        assert!(Stream::parse(input).is_err(), "render stays strict");
        let stream = Stream::parse_lenient(input).unwrap();
        assert!(stream.docs.iter().all(|d| d.header.is_none()));
    }
}
