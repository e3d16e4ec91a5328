//! The analysis commands' flags (`matrix`, `explain`, `diff`, `verify`, `check`) and their thin
//! entry points: read the inputs (rendered first when values files are given), call
//! [`crate::analysis`], print the report. Each returns the process exit code: 0 success, 1 a
//! verdict (differences, unmet intent, lint errors); errors map to 2 (input, usage) and 3 (I/O).

use super::write_stdout;
use crate::analysis::matrix::{self, Format, Level};
use crate::analysis::topology::{Input, Topology};
use crate::analysis::{diff, explain, lint, verify};
use crate::config::{self, namespace};
use crate::error::{Error, Result};
use crate::run::{self, RenderOptions};
use clap::Args;
use std::path::PathBuf;

/// Inputs shared by the analysis commands.
#[derive(Debug, Args, Clone, Default)]
pub struct InputArgs {
    /// Manifest files or directories (every .yaml/.yml/.json below); none or `-` reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Namespace of documents without metadata.namespace [default: $HELM_NAMESPACE, else
    /// $ARGOCD_APP_NAMESPACE, else "default"].
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Analyse the inputs as `netfence render` with these Helm values files would write them
    /// (repeatable; later wins).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
}

impl InputArgs {
    /// Reads `files` (or stdin), rendered first when values files were given.
    pub fn load(&self, files: &[PathBuf]) -> Result<Topology> {
        let namespace = namespace::resolve(self.namespace.as_deref(), None);
        let mut inputs = Input::read_all(files)?;
        if !self.values.is_empty() {
            let options = RenderOptions { namespace: namespace.clone(), config: config::values::load(&self.values)? };
            inputs = inputs
                .iter()
                .map(|i| i.transformed(|bytes| Ok(run::render(bytes, &options)?.to_bytes())))
                .collect::<Result<_>>()?;
        }
        Topology::load(&inputs, &namespace.name)
    }
}

/// `--level` of `matrix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LevelArg {
    /// One row and column per namespace (plus external addresses and DNS).
    Namespace,
    /// One line per pair of workloads.
    Workload,
}

impl From<LevelArg> for Level {
    fn from(level: LevelArg) -> Level {
        match level {
            LevelArg::Namespace => Level::Namespace,
            LevelArg::Workload => Level::Workload,
        }
    }
}

/// `--output` of `matrix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Aligned plain text.
    Table,
    /// A Markdown table.
    Markdown,
    /// JSON.
    Json,
    /// Graphviz.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// np-guard netpol-analyzer's txt notation (workload level).
    Connlist,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Format {
        match format {
            FormatArg::Table => Format::Table,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Json => Format::Json,
            FormatArg::Dot => Format::Dot,
            FormatArg::Mermaid => Format::Mermaid,
            FormatArg::Connlist => Format::Connlist,
        }
    }
}

/// Options of `matrix`.
#[derive(Debug, Args, Clone)]
pub struct MatrixArgs {
    /// One row per namespace, or one line per pair of workloads [default: namespace; workload
    /// for connlist].
    #[arg(long, value_enum)]
    pub level: Option<LevelArg>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = FormatArg::Table)]
    pub output: FormatArg,
    /// The inputs.
    #[command(flatten)]
    pub input: InputArgs,
}

/// `netfence matrix`.
pub fn matrix(args: &MatrixArgs) -> Result<u8> {
    let format = Format::from(args.output);
    let level = match (args.level.map(Level::from), format) {
        (Some(Level::Namespace), Format::Connlist) => {
            return Err(Error::config(
                "--output",
                "connlist is np-guard's workload-level notation; use --level workload",
            ))
        }
        (Some(level), _) => level,
        (None, Format::Connlist) => Level::Workload,
        (None, _) => Level::Namespace,
    };
    let topology = args.input.load(&args.input.files)?;
    write_stdout(matrix::render(&topology, level, format).as_bytes())?;
    Ok(0)
}

/// Options of `explain`.
#[derive(Debug, Args, Clone)]
pub struct ExplainArgs {
    /// Source: `namespace/name[Kind]`, `namespace/name`, a workload name, or an IP address.
    pub src: String,
    /// Destination, same forms.
    pub dst: String,
    /// Only this port: `8080`, `TCP/8080`, `UDP/53`.
    #[arg(short, long, value_name = "PORT/PROTO")]
    pub port: Option<String>,
    /// The inputs.
    #[command(flatten)]
    pub input: InputArgs,
}

/// `netfence explain`.
pub fn explain(args: &ExplainArgs) -> Result<u8> {
    let port = args.port.as_deref().map(explain::parse_port).transpose().map_err(|m| Error::config("--port", m))?;
    let topology = args.input.load(&args.input.files)?;
    let src = explain::endpoint(&topology, &args.src).map_err(|m| Error::config("SRC", m))?;
    let dst = explain::endpoint(&topology, &args.dst).map_err(|m| Error::config("DST", m))?;
    let e = explain::explain(&topology, src, dst, port).map_err(|m| Error::config("SRC/DST", m))?;
    write_stdout(e.text().as_bytes())?;
    Ok(0)
}

/// Report formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// `+`, `-` and `~` lines, then a summary.
    Text,
    /// JSON.
    Json,
}

/// Options of `diff`.
#[derive(Debug, Args, Clone)]
pub struct DiffArgs {
    /// The manifests before (a file, a directory, or `-` for stdin).
    pub before: PathBuf,
    /// The manifests after; without it, BEFORE as `netfence render -f VALUES` writes it.
    pub after: Option<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = DiffFormat::Text)]
    pub output: DiffFormat,
    /// Namespace of documents without metadata.namespace [default: $HELM_NAMESPACE, else
    /// $ARGOCD_APP_NAMESPACE, else "default"].
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Values files for rendering BEFORE when AFTER is not given (repeatable; later wins).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
}

/// `netfence diff`: exit 1 when the connectivity differs.
pub fn diff(args: &DiffArgs) -> Result<u8> {
    let plain = InputArgs { namespace: args.namespace.clone(), ..InputArgs::default() };
    let (before, after) = match &args.after {
        Some(after) => {
            if !args.values.is_empty() {
                return Err(Error::config("--values", "give either AFTER or values files to render BEFORE with"));
            }
            (plain.load(std::slice::from_ref(&args.before))?, plain.load(std::slice::from_ref(after))?)
        }
        None if args.values.is_empty() => {
            return Err(Error::config(
                "AFTER",
                "missing: give AFTER, or values files (-f) to compare BEFORE with its render",
            ))
        }
        None => {
            let rendered = InputArgs { values: args.values.clone(), ..plain.clone() };
            (plain.load(std::slice::from_ref(&args.before))?, rendered.load(std::slice::from_ref(&args.before))?)
        }
    };
    let changes = diff::diff(&before, &after);
    let report = match args.output {
        DiffFormat::Text => diff::text(&changes),
        DiffFormat::Json => format!("{}\n", serde_json::to_string_pretty(&diff::json(&changes)).unwrap_or_default()),
    };
    write_stdout(report.as_bytes())?;
    Ok(u8::from(!changes.is_empty()))
}

/// Options of `verify`.
#[derive(Debug, Args, Clone)]
pub struct VerifyArgs {
    /// The intent file (see the README's "verify without a cluster").
    #[arg(long, value_name = "FILE")]
    pub expect: PathBuf,
    /// The inputs.
    #[command(flatten)]
    pub input: InputArgs,
}

/// `netfence verify`: exit 1 when the connectivity does not match the intent.
pub fn verify(args: &VerifyArgs) -> Result<u8> {
    let intent = verify::load(&args.expect)?;
    let topology = args.input.load(&args.input.files)?;
    let report = verify::verify(&topology, &intent);
    write_stdout(report.text().as_bytes())?;
    Ok(u8::from(!report.ok()))
}

/// Report formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// One line per finding, then a summary.
    Text,
    /// JSON.
    Json,
    /// SARIF 2.1.0 (code scanning).
    Sarif,
}

/// Options of `check`.
#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = CheckFormat::Text)]
    pub output: CheckFormat,
    /// The inputs.
    #[command(flatten)]
    pub input: InputArgs,
}

/// `netfence check`: exit 1 when a finding is an error.
pub fn check(args: &CheckArgs) -> Result<u8> {
    let topology = args.input.load(&args.input.files)?;
    let findings = lint::check(&topology);
    let report = match args.output {
        CheckFormat::Text => lint::text(&findings),
        CheckFormat::Json => format!("{}\n", serde_json::to_string_pretty(&lint::json(&findings)).unwrap_or_default()),
        CheckFormat::Sarif => {
            format!("{}\n", serde_json::to_string_pretty(&lint::sarif(&findings)).unwrap_or_default())
        }
    };
    write_stdout(report.as_bytes())?;
    Ok(u8::from(lint::has_errors(&findings)))
}
