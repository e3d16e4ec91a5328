//! netfence as a KRM function (kustomize `transformers:`, kpt `fn eval` / `fn render`).
//!
//! The shape follows kyaml's fn/framework: a `ResourceList` is read ([`resource_list`]), a
//! processor transforms it ([`processor`]: the same [`crate::model`] and [`crate::transform`] as
//! `render`), and the `ResourceList` is written back. The I/O shape lives here and in
//! [`resource_list`]; the transformation knows nothing of bytes.
//!
//! Failure: an unreadable ResourceList is an error with nothing on stdout. Once the list is read,
//! the answer is always written, so that kpt can show its `results`: on an invalid function
//! config or item, the items unchanged plus an `error` result; the error then goes to stderr and
//! the exit code is non-zero (kustomize ignores `results` and reports only the exit status).

pub mod processor;
pub mod resource_list;
pub mod results;

use crate::error::{Error, Result};
pub use processor::Processor;
pub use resource_list::{is_resource_list, KrmResult, ResourceList, Severity};
use std::io::Write;

/// Reads a ResourceList from `input`, processes it and writes the answer to `out` (YAML, or JSON
/// when the input was JSON). Returns the exit code: 0, or 1 when a check reported an `error`.
pub fn run(input: &[u8], processor: &Processor, out: &mut impl Write) -> Result<u8> {
    let mut list = ResourceList::parse(input)?;
    let outcome = processor.process(&mut list);
    // `functionConfig` is input only: the answer carries items and results.
    list.function_config = None;
    let (items, results, has_errors) = (list.items.len(), list.results.len(), list.has_errors());
    out.write_all(list.into_text(resource_list::is_json(input)).as_bytes())
        .and_then(|()| out.flush())
        .map_err(|source| Error::Io { what: "writing the output".into(), source })?;
    outcome?;
    tracing::info!(items, results, "KRM function done");
    Ok(if has_errors { 1 } else { 0 })
}
