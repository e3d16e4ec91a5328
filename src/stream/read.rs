//! Every read of an input, bounded: stdin, values files, function configs, intent files and the
//! analysis' arguments go through [`read_limited`], so that `-f /dev/zero` (or a runaway pipe)
//! fails at once with a clear error instead of filling the memory.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// The most netfence reads from one input: six times the 43 MB stress corpus.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// Reads all of `reader` (`what` names it in errors), refusing more than [`MAX_INPUT_BYTES`].
/// `size_hint` (a regular file's length) sizes the buffer once: growing it by doubling would
/// briefly hold two copies, which dominates the peak memory of large inputs.
pub fn read_limited(reader: impl Read, what: &str, size_hint: usize) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(size_hint.min(MAX_INPUT_BYTES as usize) + 1);
    reader
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io { what: format!("reading {what}"), source })?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(Error::Io {
            what: format!("reading {what}"),
            source: std::io::Error::other(format!("larger than {} MiB", MAX_INPUT_BYTES >> 20)),
        });
    }
    Ok(bytes)
}

/// Reads the file at `path` (`what` names it in errors) with [`read_limited`].
pub fn read_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io { what: format!("reading {what}"), source })?;
    let hint = file.metadata().ok().filter(|m| m.is_file()).map_or(0, |m| m.len() as usize);
    read_limited(file, what, hint)
}

/// Reads standard input with [`read_limited`].
pub fn read_stdin() -> Result<Vec<u8>> {
    let hint = std::fs::metadata("/dev/stdin").ok().filter(|m| m.is_file()).map_or(0, |m| m.len() as usize);
    read_limited(std::io::stdin().lock(), "stdin", hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_inputs_are_refused() {
        let err = read_limited(std::io::repeat(0), "/dev/zero", 0).unwrap_err().to_string();
        assert_eq!(err, "reading /dev/zero: larger than 256 MiB");
        assert_eq!(read_limited(&b"abc"[..], "x", 3).unwrap(), b"abc");
    }
}
