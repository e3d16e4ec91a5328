//! The analysis commands' flags (`matrix`, `explain`, `diff`, `verify`, `check`) and their thin
//! entry points: read the inputs (rendered first when values files are given), call
//! [`crate::analysis`], print the report. Each returns the process exit code: 0 success, 1 a
//! verdict (differences, unmet intent, lint errors); errors map to 2 (input, usage) and 3 (I/O).

use super::write_stdout;
use crate::analysis::connectivity::Direction;
use crate::analysis::focus::{self, Focus};
use crate::analysis::format::{self, json, text, Format};
use crate::analysis::matrix::Level;
use crate::analysis::topology::{Input, Topology};
use crate::analysis::{connlist, diff, explain, lint, verify};
use crate::config::{self, namespace};
use crate::error::{Error, Result};
use crate::run::{self, RenderOptions};
use clap::Args;
use std::path::PathBuf;

/// The manifests a command reads: files (or stdin) and the namespace of unnamespaced documents.
/// Shared by the analysis commands and `infer`.
#[derive(Debug, Args, Clone, Default)]
pub struct ManifestArgs {
    /// Manifest files or directories (every .yaml/.yml/.json below); none or `-` reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Namespace of documents without metadata.namespace [default: $HELM_NAMESPACE, else
    /// $ARGOCD_APP_NAMESPACE, else "default"].
    #[arg(short, long)]
    pub namespace: Option<String>,
}

/// Inputs shared by the analysis commands.
#[derive(Debug, Args, Clone, Default)]
pub struct InputArgs {
    /// Files and namespace.
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Analyse the inputs as `netfence render` with these Helm values files would write them
    /// (repeatable; later wins).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
}

impl InputArgs {
    /// Reads `files` (or stdin), rendered first when values files were given.
    pub fn load(&self, files: &[PathBuf]) -> Result<Topology> {
        let namespace = namespace::resolve(self.manifests.namespace.as_deref(), None);
        let mut inputs = Input::read_all(files)?;
        if !self.values.is_empty() {
            let options = RenderOptions {
                namespace: namespace.clone(),
                config: config::values::load(&self.values)?,
                release: None,
            };
            inputs = inputs
                .iter()
                .map(|i| i.transformed(|bytes| Ok(run::render(bytes, &options)?.to_bytes())))
                .collect::<Result<_>>()?;
        }
        Topology::load(&inputs, &namespace.name)
    }

    /// [`InputArgs::load`], refusing input the analysis cannot work with (see
    /// [`Topology::analysable`]).
    pub fn load_analysable(&self, files: &[PathBuf]) -> Result<Topology> {
        let topology = self.load(files)?;
        topology.analysable()?;
        Ok(topology)
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
    /// for connlist, --exposure and the focus options].
    #[arg(long, value_enum)]
    pub level: Option<LevelArg>,
    /// Output format [default: table; connlist with --exposure].
    #[arg(short, long, value_enum)]
    pub output: Option<FormatArg>,
    /// Add np-guard's exposure analysis: what each workload may exchange with pods the input
    /// does not contain (`entire-cluster`, or pods matching a rule's selectors). With `-o
    /// connlist` (np-guard's text) or `-o json`.
    #[arg(long)]
    pub exposure: bool,
    /// Only connections of these workloads (`name`, `namespace/name`; repeatable or
    /// comma-separated).
    #[arg(long = "focus-workload", alias = "focusworkload", value_name = "WORKLOAD", value_delimiter = ',')]
    pub focus_workload: Vec<String>,
    /// With --focus-workload: only connections whose other end is one of these workloads.
    #[arg(long = "focus-workload-peer", alias = "focusworkload-peer", value_name = "WORKLOAD", value_delimiter = ',')]
    pub focus_workload_peer: Vec<String>,
    /// With --focus-workload: only their ingress (they are the destination) or egress.
    #[arg(long = "focus-direction", value_enum)]
    pub focus_direction: Option<FocusDirection>,
    /// Only pairs allowing this connection, shown as just that connection: `tcp-8080`, `udp-53`.
    #[arg(long = "focus-conn", value_name = "PROTO-PORT")]
    pub focus_conn: Option<String>,
    /// The inputs.
    #[command(flatten)]
    pub input: InputArgs,
}

/// `--focus-direction` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FocusDirection {
    /// Traffic into the focus workloads.
    Ingress,
    /// Traffic out of the focus workloads.
    Egress,
}

impl MatrixArgs {
    /// The focus options, checked.
    pub fn focus(&self) -> Result<Focus> {
        let conn = self
            .focus_conn
            .as_deref()
            .map(focus::parse_conn)
            .transpose()
            .map_err(|m| Error::config("--focus-conn", m))?;
        Ok(Focus {
            workloads: self.focus_workload.iter().filter(|w| !w.is_empty()).cloned().collect(),
            peers: self.focus_workload_peer.iter().filter(|w| !w.is_empty()).cloned().collect(),
            direction: self.focus_direction.map(|d| match d {
                FocusDirection::Ingress => Direction::Ingress,
                FocusDirection::Egress => Direction::Egress,
            }),
            conn,
        })
    }
}

/// `netfence matrix`.
pub fn matrix(args: &MatrixArgs) -> Result<u8> {
    let focus = args.focus()?;
    let workload_only = args.exposure || !focus.is_empty();
    let format = args.output.map(Format::from).unwrap_or(if args.exposure { Format::Connlist } else { Format::Table });
    let level = match (args.level.map(Level::from), format) {
        (Some(Level::Namespace), _) if workload_only => {
            return Err(Error::config("--level", "--exposure and the focus options work at --level workload"))
        }
        (Some(Level::Namespace), Format::Connlist) => {
            return Err(Error::config(
                "--output",
                "connlist is np-guard's workload-level notation; use --level workload",
            ))
        }
        (Some(level), _) => level,
        (None, Format::Connlist) => Level::Workload,
        (None, _) if workload_only => Level::Workload,
        (None, _) => Level::Namespace,
    };
    if args.exposure && !matches!(format, Format::Connlist | Format::Json) {
        return Err(Error::config("--output", "--exposure prints np-guard's text (-o connlist) or JSON (-o json)"));
    }
    let topology = args.input.load_analysable(&args.input.manifests.files)?;
    let report = if args.exposure {
        let listing = connlist::listing(&topology, &focus, true);
        match format {
            Format::Json => json::pretty(&json::listing(&listing)),
            _ => format::connlist::listing(&listing),
        }
    } else {
        format::render(&topology, level, format, &focus)
    };
    write_stdout(report.as_bytes())?;
    Ok(0)
}

/// Options of `explain`.
#[derive(Debug, Args, Clone)]
pub struct ExplainArgs {
    /// Source: `namespace/name[Kind]`, `namespace/name`, a workload name, an IP address, or
    /// `{ingress-controller}`.
    pub src: String,
    /// Destination, same forms (but not the ingress controller).
    pub dst: String,
    /// Only this port: `8080`, `TCP/8080`, `UDP/53`, or np-guard's `udp-53`.
    #[arg(short, long, value_name = "PORT/PROTO", alias = "focus-conn")]
    pub port: Option<String>,
    /// The inputs.
    #[command(flatten)]
    pub input: InputArgs,
}

/// `netfence explain`.
pub fn explain(args: &ExplainArgs) -> Result<u8> {
    let port = args.port.as_deref().map(explain::parse_port).transpose().map_err(|m| Error::config("--port", m))?;
    let topology = args.input.load_analysable(&args.input.manifests.files)?;
    let src = explain::endpoint(&topology, &args.src).map_err(|m| Error::config("SRC", m))?;
    let dst = explain::endpoint(&topology, &args.dst).map_err(|m| Error::config("DST", m))?;
    let e = explain::explain(&topology, src, dst, port).map_err(|m| Error::config("SRC/DST", m))?;
    write_stdout(text::explanation(&e).as_bytes())?;
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
    let plain = InputArgs {
        manifests: ManifestArgs { namespace: args.namespace.clone(), ..ManifestArgs::default() },
        ..InputArgs::default()
    };
    let (before, after) = match &args.after {
        Some(after) => {
            if !args.values.is_empty() {
                return Err(Error::config("--values", "give either AFTER or values files to render BEFORE with"));
            }
            (
                plain.load_analysable(std::slice::from_ref(&args.before))?,
                plain.load_analysable(std::slice::from_ref(after))?,
            )
        }
        None if args.values.is_empty() => {
            return Err(Error::config(
                "AFTER",
                "missing: give AFTER, or values files (-f) to compare BEFORE with its render",
            ))
        }
        None => {
            let rendered = InputArgs { values: args.values.clone(), ..plain.clone() };
            (
                plain.load_analysable(std::slice::from_ref(&args.before))?,
                rendered.load_analysable(std::slice::from_ref(&args.before))?,
            )
        }
    };
    let changes = diff::diff(&before, &after);
    let report = match args.output {
        DiffFormat::Text => text::diff(&changes),
        DiffFormat::Json => json::pretty(&json::diff(&changes)),
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
    let topology = args.input.load_analysable(&args.input.manifests.files)?;
    let report = verify::verify(&topology, &intent);
    write_stdout(text::verify(&report).as_bytes())?;
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
    let topology = args.input.load(&args.input.manifests.files)?;
    let findings = lint::check(&topology);
    let report = match args.output {
        CheckFormat::Text => text::findings(&findings),
        CheckFormat::Json => json::pretty(&json::findings(&findings)),
        CheckFormat::Sarif => json::pretty(&format::sarif::findings(&findings)),
    };
    write_stdout(report.as_bytes())?;
    Ok(u8::from(lint::has_errors(&findings)))
}
