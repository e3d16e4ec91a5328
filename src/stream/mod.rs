//! The I/O layer for plain manifest streams: split the input into documents, look at each one
//! just enough to classify it, and write the result back with untouched documents byte for byte.

pub mod emit;
pub mod go_compat;
pub mod header;
pub mod lines;
pub mod read;
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
    /// The document is left out altogether (`patch` and `value` are then not used).
    pub remove: bool,
}

/// A new document to write: at the end, or before input document `before`.
#[derive(Debug, Clone, Copy)]
pub struct Appended<'a> {
    /// The object.
    pub value: &'a serde_json::Value,
    /// The position (in [`Stream::docs`]) of the document to write it before; `None`: at the end.
    pub before: Option<usize>,
}

/// A split and classified input stream.
#[derive(Debug)]
pub struct Stream<'a> {
    /// The whole input.
    pub input: &'a [u8],
    /// YAML or JSON.
    pub format: Format,
    /// The documents (chunks holding an object), in order. The bytes between them (empty
    /// documents, comments, documents the analysis skipped) are written as they are.
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
        let mut format = Format::Yaml;
        let mut json_chunks = None;
        if matches!(first, Some(b'{')) && looks_like_json_stream(input) {
            match split::split_json(input) {
                Ok(chunks) => (format, json_chunks) = (Format::Json, Some(chunks)),
                // A flow mapping is YAML too (`{apiVersion: v1, kind: ConfigMap}`): read it as
                // YAML; when that fails too, the JSON error is the one to show.
                Err((n, e)) if Stream::parse_with_format(input, Format::Yaml, None, skip_non_objects).is_err() => {
                    return Err(Error::Input {
                        doc: DocRef { index: n + 1, line: e.line(), id: None },
                        message: format!("invalid JSON: {e}"),
                    })
                }
                Err(_) => {}
            }
        }
        Stream::parse_with_format(input, format, json_chunks, skip_non_objects)
    }

    fn parse_with_format(
        input: &'a [u8],
        format: Format,
        json_chunks: Option<Vec<Chunk>>,
        skip_non_objects: bool,
    ) -> Result<Self> {
        let chunks: Box<dyn Iterator<Item = Chunk> + Send> = match json_chunks {
            Some(chunks) => Box::new(chunks.into_iter()),
            None => Box::new(split::yaml_chunks(input)),
        };
        let mut docs = Vec::new();
        let mut index = 0;
        for (chunk, probe) in probe_all(input, chunks, format) {
            let bytes = &input[chunk.start..chunk.end];
            let err_ref = |line: usize| DocRef { index: index + 1, line: chunk.line + line.max(1) - 1, id: None };
            let (header, repaired) = match probe {
                Err((line, message, id)) => return Err(Error::Input { doc: DocRef { id, ..err_ref(line) }, message }),
                // (Empty chunks are not kept: their bytes are written with the document before them.)
                Ok((Probe::Empty, _)) => continue,
                Ok((Probe::NotAnObject { line }, _)) if skip_non_objects => {
                    tracing::warn!(
                        "{}: skipped: not a Kubernetes object (the document is not a mapping)",
                        DocRef { index: index + 1, ..err_ref(line) }
                    );
                    continue;
                }
                Ok((Probe::NotAnObject { line }, _)) => {
                    return Err(Error::Input {
                        doc: err_ref(line),
                        message: "not a Kubernetes object (the document is not a mapping)".into(),
                    })
                }
                Ok((Probe::Object(h), repaired)) => (Some(h), repaired),
            };
            index += 1;
            let doc = Document { index, bytes, chunk, header, repaired };
            if let Some(field) = doc.header.as_ref().and_then(|h| h.not_a_string.as_deref()) {
                // kubectl and Helm read it the same way, so this is a surprise, not an error.
                tracing::warn!(
                    "{}: `{field}` is not a string to Kubernetes' YAML 1.1 reader, so the field is treated as unset; quote the value to mean the string",
                    doc.doc_ref()
                );
            }
            docs.push(doc);
        }
        docs.shrink_to_fit();
        Ok(Stream { input, format, docs })
    }

    /// Writes the stream: every document verbatim except those in `replaced` (their patch
    /// spliced into the text, see [`splice`], or else the patched value re-serialised keeping the
    /// document's leading `---` and comments), then the `appended` documents.
    pub fn write(
        &self,
        replaced: &BTreeMap<usize, Replacement>,
        appended: &[Appended],
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        let mut last_byte = None;
        let nl = if self.uses_crlf() { "\r\n" } else { "\n" };
        let emit_new = |value: &serde_json::Value, last_byte: &mut Option<u8>, out: &mut dyn Write| {
            if last_byte.is_some_and(|b| b != b'\n') {
                out.write_all(nl.as_bytes())?;
            }
            let text = match self.format {
                Format::Yaml => format!("---{nl}{}", emit::yaml(value, nl == "\r\n")),
                Format::Json => format!("{}{nl}", emit::json(value)),
            };
            *last_byte = Some(b'\n');
            out.write_all(text.as_bytes())
        };
        // The chunks not kept as documents (empty or skipped ones) are the bytes between documents.
        let head = &self.input[..self.docs.first().map_or(self.input.len(), |d| d.chunk.start)];
        out.write_all(head)?;
        last_byte = head.last().copied().or(last_byte);
        for (i, doc) in self.docs.iter().enumerate() {
            for a in appended.iter().filter(|a| a.before == Some(i)) {
                emit_new(a.value, &mut last_byte, out)?;
            }
            let bytes: std::borrow::Cow<[u8]> = match replaced.get(&i) {
                // A removed document goes with its leading `---` and comments.
                Some(Replacement { remove: true, .. }) => (&[][..]).into(),
                None => doc.bytes.into(),
                Some(r) => self.rewrite(doc, r).into_bytes().into(),
            };
            let next = self.docs.get(i + 1).map_or(self.input.len(), |d| d.chunk.start);
            let gap = &self.input[doc.chunk.end..next];
            out.write_all(&bytes)?;
            out.write_all(gap)?;
            last_byte = gap.last().or(bytes.last()).copied().or(last_byte);
        }
        for a in appended.iter().filter(|a| a.before.is_none_or(|b| b >= self.docs.len())) {
            emit_new(a.value, &mut last_byte, out)?;
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
        let Replacement { patch, value, .. } = *replacement;
        match self.format {
            Format::Json => {
                let lead: String =
                    String::from_utf8_lossy(doc.bytes).chars().take_while(|c| c.is_whitespace()).collect();
                format!("{lead}{}", emit::json(value))
            }
            Format::Yaml => {
                // The text as read (Unicode line breaks normalised, Go layouts repaired), so
                // that its lines are the parser's lines.
                let text = doc.repaired.as_deref().map_or_else(|| String::from_utf8_lossy(doc.bytes), Into::into);
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
                let mut prefix: String = lines::split_inclusive(&text).take(content_line - 1).collect();
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
    for line in lines::split_inclusive(text) {
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
    split::yaml_chunks(input).nth(1).is_none() || memchr::memmem::find(input, b"\n---").is_none()
}

/// A probe failure: 1-based line within the chunk, message, `Kind/name` if known.
type ProbeError = (usize, String, Option<String>);

/// Repairs of Go-accepted layouts (see [`go_compat`]) one document may need at most.
const MAX_REPAIRS: usize = 128;

/// A probe and, when the document needed one, its repaired text.
type Probed = (Probe, Option<String>);

/// Probes one chunk, repairing the layouts Go's reader accepts (see [`go_compat`]); the error
/// is the one of the text as written.
///
/// A YAML document holding U+0085, U+2028 or U+2029 is read with them as line breaks, as Go
/// reads it (see [`lines`]): the repaired text is then the normalised one.
fn probe_text(text: &str, format: Format) -> Result<Probed, ProbeError> {
    if format == Format::Yaml && is_marker_and_comments(text) {
        return Ok((Probe::Empty, None));
    }
    let normalized = match format {
        Format::Yaml => lines::normalize_unicode_breaks(text),
        Format::Json => std::borrow::Cow::Borrowed(text),
    };
    let first = match header::probe(&normalized) {
        Ok(p) => return Ok((p, matches!(normalized, std::borrow::Cow::Owned(_)).then(|| normalized.into_owned()))),
        Err(e) => e,
    };
    let mut current = normalized.into_owned();
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

/// A chunk and what its probe found.
type ProbedChunk = (Chunk, Result<Probed, ProbeError>);

/// Chunks handed to a probe thread at once.
const BATCH_BYTES: usize = 256 << 10;

/// Whether a YAML chunk is only a `---` marker, blank lines and comments: an empty document,
/// known without starting a parser (a stream of a million of them stays fast). A line with a
/// lone `\r` or a Unicode line break is left to the parser (what follows the break is content).
pub fn is_marker_and_comments(text: &str) -> bool {
    let text =
        text.strip_prefix("---").filter(|r| r.is_empty() || r.starts_with([' ', '\t', '\r', '\n'])).unwrap_or(text);
    text.split('\n').all(|line| {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let content = line.trim_start_matches([' ', '\t']);
        (content.is_empty() || content.starts_with('#'))
            && !line.contains('\r')
            && !lines::has_unicode_breaks(line.as_bytes())
    })
}

/// Probes every chunk, on all cores for large inputs (the probe is the hot loop of a render),
/// in input order. Empty chunks are dropped here already, so that a stream of a million empty
/// documents costs no memory per document.
fn probe_all(input: &[u8], chunks: impl Iterator<Item = Chunk> + Send, format: Format) -> Vec<ProbedChunk> {
    let probe_one = |c: Chunk| -> Option<ProbedChunk> {
        let probe = std::str::from_utf8(&input[c.start..c.end])
            .map_err(|e| {
                (1 + lines::count(&input[c.start..c.start + e.valid_up_to()]), "not valid UTF-8".to_string(), None)
            })
            .and_then(|text| probe_text(text, format));
        (!matches!(probe, Ok((Probe::Empty, _)))).then_some((c, probe))
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if threads < 2 || input.len() < 1 << 20 {
        return chunks.filter_map(probe_one).collect();
    }
    // The splitter hands out batches of about BATCH_BYTES; each thread probes the batches it
    // takes, and the results are put back in order.
    let source = std::sync::Mutex::new(chunks.enumerate());
    let next_batch = || -> Option<(usize, Vec<Chunk>)> {
        let mut source = source.lock().ok()?;
        let mut batch = Vec::new();
        let (mut first, mut bytes) = (None, 0);
        for (i, c) in source.by_ref() {
            first.get_or_insert(i);
            bytes += c.end - c.start;
            batch.push(c);
            if bytes >= BATCH_BYTES {
                break;
            }
        }
        first.map(|f| (f, batch))
    };
    let mut done: Vec<(usize, Vec<ProbedChunk>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    while let Some((first, batch)) = next_batch() {
                        // A panic in one batch must not drop its documents silently: it becomes
                        // an error of the batch's first document.
                        let first_chunk = batch[0];
                        let probed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            batch.into_iter().filter_map(probe_one).collect::<Vec<_>>()
                        }))
                        .unwrap_or_else(|_| vec![(first_chunk, Err(internal_error()))]);
                        out.push((first, probed));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|_| vec![(0, vec![(Chunk { start: 0, end: 0, line: 1 }, Err(internal_error()))])])
            })
            .collect()
    });
    done.sort_unstable_by_key(|(first, _)| *first);
    done.into_iter().flat_map(|(_, probed)| probed).collect()
}

/// The error of a document whose probe failed inside netfence (a bug), rather than dropping it.
fn internal_error() -> ProbeError {
    (1, "internal error while reading this document (a bug in netfence; please report it)".into(), None)
}

/// Options for reading documents the way Kubernetes' YAML 1.1 reader does where it matters:
/// `0644` is octal. Budgets for any input up to [`read::MAX_INPUT_BYTES`]; [`yaml_options_for`]
/// has the budgets of one document of known size, which [`parse_value`] uses.
pub fn yaml_options() -> serde_saphyr::Options {
    let mut options = yaml_options_for(0);
    // Size unknown: budgets for a whole ResourceList-sized input.
    if let Some(budget) = options.budget.as_mut() {
        budget.max_nodes = 5_000_000;
        budget.max_events = 20_000_000;
        budget.max_total_scalar_bytes = 1 << 30;
        budget.max_recorded_anchor_bytes = 64 << 20;
    }
    options
}

/// How much larger than its text a document may become when its aliases are expanded: a
/// document with aliases may repeat a block a few times (`<<: *defaults` in each container), a
/// billion-laughs one repeats it billions of times.
pub const EXPANSION_FACTOR: usize = 16;

/// [`yaml_options`] with budgets for a document of `len` bytes: the nodes, events and scalar
/// bytes the parse may produce (aliases expanded) grow with the text, [`EXPANSION_FACTOR`] times
/// what the text itself holds at most, plus a floor for small documents. So the memory and
/// time of a parse, and the size of a re-serialised document, stay proportional to the input,
/// and an alias bomb fails fast and small.
pub fn yaml_options_for(len: usize) -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.legacy_octal_numbers = true;
    let mut budget = serde_saphyr::Budget::default();
    // A node takes at least two bytes of text (`a,`), an event one.
    budget.max_nodes = 50_000 + len / 2 * EXPANSION_FACTOR;
    budget.max_events = 100_000 + len * EXPANSION_FACTOR;
    budget.max_total_scalar_bytes = (1 << 20) + len * EXPANSION_FACTOR;
    budget.max_recorded_anchor_bytes = (1 << 20) + len * EXPANSION_FACTOR;
    budget.max_reader_input_bytes = Some(read::MAX_INPUT_BYTES as usize + 1);
    options.budget = Some(budget);
    options
}

/// Parses one document's bytes into a JSON value. Returns the error's 1-based line within the
/// bytes when the parser gives one.
pub fn parse_value(bytes: &[u8], format: Format) -> Result<serde_json::Value, (Option<usize>, String)> {
    match format {
        Format::Json => serde_json::from_slice(bytes).map_err(|e| (Some(e.line()), e.to_string())),
        Format::Yaml => serde_saphyr::from_slice_with_options(bytes, yaml_options_for(bytes.len())).map_err(|e| {
            let line = e.location().map(|l| l.line() as usize);
            if e.to_string().contains("budget breached") {
                return (
                    line,
                    format!(
                        "the document expands (through its aliases) to more than {EXPANSION_FACTOR} times its size; refused as an alias bomb"
                    ),
                );
            }
            // serde-saphyr's hint about its options means nothing to a user.
            let message = first_line(&e.to_string()).replace(", set DuplicateKeyPolicy in Options if acceptable", "");
            (line, message)
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
