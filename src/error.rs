//! The error type every layer returns, and how errors map to exit codes.

use std::fmt;

/// Where in the input stream a document sits, for error messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocRef {
    /// 1-based position of the document in the stream.
    pub index: usize,
    /// 1-based line where the document (or the offending token) is; 0 for a document
    /// netfence added.
    pub line: usize,
    /// `Kind/name` when known.
    pub id: Option<String>,
}

impl fmt::Display for DocRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {}", self.index)?;
        if let Some(id) = &self.id {
            // A name may hold line breaks (a quoted YAML scalar): the message stays one line.
            if id.chars().any(char::is_control) {
                let escaped: String = id.chars().flat_map(char::escape_default).collect();
                write!(f, " ({escaped})")?;
            } else {
                write!(f, " ({id})")?;
            }
        }
        // Line 0: a document netfence added (it has no line in the input).
        match self.line {
            0 => f.write_str(" (added by netfence)"),
            line => write!(f, " at line {line}"),
        }
    }
}

/// Everything that can go wrong in netfence. Each variant prints as one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A document of the input stream is not valid YAML/JSON or not a Kubernetes object.
    #[error("{doc}: {message}")]
    Input {
        /// Which document.
        doc: DocRef,
        /// What is wrong with it.
        message: String,
    },
    /// The configuration (values files, function config, flags) is invalid.
    #[error("{path}: {message}")]
    Config {
        /// Dotted path of the offending field, e.g. `networkPolicy.egress[2].ports[0].port`,
        /// prefixed by the file it came from when known.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// Reading or writing a file or stream failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being read or written.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// A configuration error at `path`.
    pub fn config(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config { path: path.into(), message: message.into() }
    }

    /// The process exit code for this error (see the README's "Exit codes").
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input { .. } | Error::Config { .. } => 2,
            Error::Io { .. } => 3,
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_named_with_line_breaks_prints_on_one_line() {
        let doc = DocRef { index: 2, line: 115, id: Some("PodDisruptionBudget/a\nb\tc".into()) };
        assert_eq!(doc.to_string(), r"document 2 (PodDisruptionBudget/a\nb\tc) at line 115");
    }
}
