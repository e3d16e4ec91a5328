//! Command-line interface: parses flags, picks the I/O shape, runs, maps errors to exit codes.
//! Every clap type lives here ([`analysis`] holds the analysis commands', [`argocd`] the Argo CD
//! plugin's, [`docs`] completions, the man page and `--version`).
//!
//! Exit codes: 0 success; 1 a verdict (reserved for analysis commands: differences, findings);
//! 2 bad input, configuration or usage; 3 an I/O error.

pub mod analysis;
pub mod argocd;
pub mod docs;
pub mod infer;
pub mod log;

use crate::analysis::lint;
use crate::config::{self, function_config, namespace, release, Config};
use crate::core::report::Report;
use crate::error::{Error, Result};
use crate::krm;
use crate::run::function::Processor;
use crate::run::render::Extras;
use crate::run::{self, RenderOptions};
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// netfence: default-deny, DNS and egress policies for rendered Kubernetes manifests.
#[derive(Debug, Parser)]
#[command(name = "netfence", version = docs::LONG_VERSION, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Also append errors, warnings and `--check` findings to FILE (Helm 4 hides a
    /// post-renderer's stderr).
    #[arg(long, global = true, value_name = "FILE", env = log::ENV)]
    pub log_file: Option<PathBuf>,
    /// What to do; without a command netfence renders (as Helm 3 calls it).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Render options when no command is given.
    #[command(flatten)]
    pub render: RenderArgs,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read manifests (FILEs, else stdin), write them with network policies added on stdout
    /// (the default command).
    Render(RenderArgs),
    /// Check a configuration without manifests: values files (`-f`) or a `NetFence` file
    /// (`--config`); prints the effective `netfence` block as YAML (exit 2 when invalid).
    Validate(ValidateArgs),
    /// Print the JSON Schema of the `netfence` configuration block (or of `NetFence`).
    Schema(SchemaArgs),
    /// Show who can reach whom: a namespace table, or the workload list (np-guard connlist too).
    Matrix(analysis::MatrixArgs),
    /// Explain whether SRC may connect to DST, and which policies and rules decide it.
    Explain(analysis::ExplainArgs),
    /// List the connections BEFORE and AFTER differ in (exit 1 when they differ).
    Diff(analysis::DiffArgs),
    /// Check the connectivity against an intent file (exit 1 when it does not match).
    Verify(analysis::VerifyArgs),
    /// Lint the policies (exit 1 on errors).
    Check(analysis::CheckArgs),
    /// List the connections the manifests declare (Service references, entry points, …) with
    /// their evidence: what netfence keeps open.
    Infer(infer::InferArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(docs::CompletionsArgs),
    /// Print the man page netfence(1) (roff).
    Man,
    /// The Argo CD config management plugin's commands (functions/argocd/plugin.yaml).
    #[command(subcommand)]
    Argocd(argocd::ArgocdCommand),
}

/// Options of `schema`.
#[derive(Debug, Args, Clone, Default)]
pub struct SchemaArgs {
    /// Which schema: the values' `netfence` block, or the `NetFence` function config.
    #[arg(long, value_enum, default_value_t = SchemaKind::Values)]
    pub kind: SchemaKind,
}

/// The schemas `netfence schema` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    /// The `netfence` block of Helm values (`networkPolicy`, its name before 0.2, also works).
    #[default]
    #[value(name = "netfence", alias = "networkPolicy")]
    Values,
    /// The `netfence.dev/v1alpha1` `NetFence` function config.
    #[value(name = "NetFence")]
    NetFence,
}

/// Options of `validate`.
#[derive(Debug, Args, Clone, Default)]
pub struct ValidateArgs {
    /// Helm values file (repeatable; later wins), read as `render -f` reads it.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// A `NetFence` object (netfence.dev/v1alpha1), read as `render --config` reads it.
    #[arg(long, value_name = "FILE", conflicts_with = "values")]
    pub config: Option<PathBuf>,
}

/// Options of `render`.
#[derive(Debug, Args, Clone, Default)]
pub struct RenderArgs {
    /// Manifest files to read, in order, instead of stdin (`-` is stdin). Only with the
    /// `render` command: without a command netfence reads stdin, as Helm 3 runs it.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Helm values file whose `netfence` block configures netfence, and whose `networkPolicy.egress`
    /// (the chart's) is merged into policies (repeatable; later wins).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Namespace of documents without metadata.namespace [default: $HELM_NAMESPACE, else
    /// $ARGOCD_APP_NAMESPACE, else "default"].
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Release the generated objects are named for: `netfence-<release>-default-deny`, so that
    /// two releases in one namespace never render the same object [default: $NETFENCE_RELEASE,
    /// else $ARGOCD_APP_NAME, else the one `app.kubernetes.io/instance` (or `release`) label
    /// value of the input's objects, else release-less names].
    #[arg(long, value_name = "NAME")]
    pub release: Option<String>,
    /// A `NetFence` object (netfence.dev/v1alpha1) configuring netfence instead of values files:
    /// its `spec`, and `spec.namespace` for documents without one (the legacy kustomize plugin).
    #[arg(long, value_name = "FILE", conflicts_with = "values")]
    pub config: Option<PathBuf>,
    /// Read a KRM `ResourceList` and answer with one (automatic when stdin holds a ResourceList).
    #[arg(long)]
    pub krm: bool,
    /// Also lint the output with `netfence check`'s rules. As a KRM function the findings join
    /// `results`; otherwise they go to stderr. An error finding exits 1 (with nothing on stdout
    /// outside KRM). Same as `check: true` in a function config.
    #[arg(long)]
    pub check: bool,
    /// Write a JSON report of every document netfence changed or added (action, reason, and
    /// the RFC 6902 patch of each changed document) to FILE. As a KRM function each entry is
    /// also an `info` result.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

impl RenderArgs {
    /// The render options, and whether to lint the output (`--check`, or the `NetFence`
    /// object's `spec.check`).
    fn options(&self) -> Result<(RenderOptions, bool)> {
        if let Some(file) = &self.config {
            let fc = function_config::load_file(file)?;
            let namespace = namespace::resolve(self.namespace.as_deref(), fc.namespace.as_deref());
            let release = release::resolve(self.release.as_deref(), fc.release.as_deref())?;
            return Ok((RenderOptions { namespace, config: fc.config, release }, self.check || fc.check));
        }
        let config = if self.values.is_empty() { Config::default() } else { config::values::load(&self.values)? };
        let release = release::resolve(self.release.as_deref(), None)?;
        Ok((
            RenderOptions { namespace: namespace::resolve(self.namespace.as_deref(), None), config, release },
            self.check,
        ))
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    if stdout_closed() {
        eprintln!("netfence: writing the output: stdout is closed");
        return ExitCode::from(3);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `--help` and `--version` go to stdout: a failed write (`> /dev/full`) is an error.
            if let Err(source) = e.print() {
                eprintln!("netfence: {}", Error::Io { what: "writing the output".into(), source });
                return ExitCode::from(3);
            }
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if let Some(file) = cli.log_file.as_deref().filter(|f| !f.as_os_str().is_empty()) {
        if let Err(message) = log::open(file) {
            eprintln!("{message}");
        }
    }
    init_logging(cli.verbose, cli.log_file.is_some());
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            log::line(&format!("netfence: {e}"));
            ExitCode::from(e.exit_code())
        }
    }
}

/// Whether the caller closed stdout (`netfence >&-`). Rust's runtime then puts /dev/null,
/// opened read-write, in its place, so every write would vanish and the run "succeed". A
/// redirection to /dev/null by the shell opens it write-only, so the two are told apart.
#[cfg(unix)]
fn stdout_closed() -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: fcntl(F_GETFL) and fstat only read the state of descriptor 1 into `stat`, a plain
    // C struct for which all zeroes is a valid value.
    let (flags, stat) = unsafe {
        let mut stat: libc::stat = std::mem::zeroed();
        (libc::fcntl(1, libc::F_GETFL), (libc::fstat(1, &mut stat) == 0).then_some(stat))
    };
    if flags < 0 {
        return true;
    }
    let (Some(stat), Ok(null)) = (stat, std::fs::metadata("/dev/null")) else { return false };
    flags & libc::O_ACCMODE == libc::O_RDWR
        && stat.st_mode & libc::S_IFMT == libc::S_IFCHR
        && stat.st_rdev == null.rdev()
}

/// Elsewhere stdout cannot be closed in a way the runtime hides.
#[cfg(not(unix))]
fn stdout_closed() -> bool {
    false
}

/// Logs go to stderr only: stdout carries the manifests.
fn init_logging(verbose: u8, log_file: bool) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Helm, kpt and Argo CD show or log stderr as text: no colour codes unless a person is
    // watching, and no timestamps (a run takes milliseconds; the caller's log has the time).
    let colour =
        !log_file && std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(log::Tee)
        .with_target(false)
        .with_ansi(colour)
        .without_time()
        .try_init();
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        None => run_render(&cli.render, cli.verbose),
        Some(Command::Render(args)) => run_render(&args, cli.verbose),
        Some(Command::Validate(args)) => validate(&args),
        Some(Command::Matrix(args)) => analysis::matrix(&args),
        Some(Command::Explain(args)) => analysis::explain(&args),
        Some(Command::Diff(args)) => analysis::diff(&args),
        Some(Command::Verify(args)) => analysis::verify(&args),
        Some(Command::Check(args)) => analysis::check(&args),
        Some(Command::Infer(args)) => infer::run(&args),
        Some(Command::Completions(args)) => write_stdout(&docs::completions(args.shell)).map(|()| 0),
        Some(Command::Man) => write_stdout(&docs::man_page()).map(|()| 0),
        Some(Command::Argocd(command)) => argocd::run(&command),
        Some(Command::Schema(args)) => {
            let schema = match args.kind {
                SchemaKind::Values => config::json_schema(),
                SchemaKind::NetFence => function_config::json_schema(),
            };
            let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
            write_stdout(format!("{text}\n").as_bytes())?;
            Ok(0)
        }
    }
}

fn run_render(args: &RenderArgs, verbose: u8) -> Result<u8> {
    let input = if args.files.is_empty() { crate::stream::read::read_stdin()? } else { read_files(&args.files)? };
    if args.krm || krm::is_resource_list(&input) {
        return run_krm(args, &input, verbose);
    }
    let (options, check) = args.options()?;
    let extras = Extras { report: args.report.is_some() || verbose > 0, check };
    let rendered = run::render::render_with(&input, &options, extras)?;
    for f in rendered.findings() {
        let field = f.field.as_deref().map(|p| format!("{}.{p}: ", config::values::KEY)).unwrap_or_default();
        tracing::warn!("{field}{}", f.message);
    }
    if let Some(report) = &rendered.report {
        let extra = report_findings(rendered.findings(), rendered.lint.as_deref());
        finish_report(report, args.report.as_deref(), verbose, extra)?;
    }
    if let Some(findings) = &rendered.lint {
        // `--check` outside KRM: findings to stderr; an error finding means nothing on stdout.
        for line in lint::text(findings).lines() {
            log::line(&format!("netfence: {line}"));
        }
        if lint::has_errors(findings) {
            log::line("netfence: --check found errors in the output; nothing written");
            return Ok(1);
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    rendered.write(&mut out)?;
    out.flush().map_err(|source| Error::Io { what: "writing the output".into(), source })?;
    Ok(0)
}

/// Writes the change report to `file` (when given) and its summary to stderr under `-v`.
fn finish_report(
    report: &Report,
    file: Option<&std::path::Path>,
    verbose: u8,
    findings: Option<serde_json::Value>,
) -> Result<()> {
    if let Some(file) = file {
        let text = match findings {
            Some(findings) => {
                let mut value = serde_json::to_value(report).unwrap_or_default();
                value["findings"] = findings;
                format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default())
            }
            None => report.to_json(),
        };
        std::fs::write(file, text)
            .map_err(|source| Error::Io { what: format!("writing the report {}", file.display()), source })?;
    }
    if verbose > 0 {
        eprint!("{}", report.markdown());
    }
    Ok(())
}

/// The findings a plain render adds to its `--report` file, so that a Helm user (whose
/// post-renderer stderr Helm 4 hides) can read them there: the transforms' warnings
/// (`source: netfence`) and, under `--check`, the lint findings of the output. `None` when there
/// are none.
fn report_findings(
    transform: &[crate::transform::Finding],
    lint: Option<&[lint::Finding]>,
) -> Option<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = transform
        .iter()
        .map(|f| {
            let field = f.field.as_deref().map(|p| format!("{}.{p}", config::values::KEY));
            let severity = match f.severity {
                crate::transform::Severity::Warning => "warning",
                crate::transform::Severity::Info => "info",
            };
            serde_json::json!({"source": "netfence", "severity": severity, "field": field, "message": f.message})
        })
        .collect();
    out.extend(lint.into_iter().flatten().map(|f| {
        serde_json::json!({"source": "check", "rule": f.rule.id, "severity": f.severity.as_str(), "subject": f.subject, "message": f.message})
    }));
    (!out.is_empty()).then_some(serde_json::Value::Array(out))
}

/// The KRM function: a ResourceList in, a ResourceList out (with lint findings among the
/// `results` under `--check`).
pub fn run_krm(args: &RenderArgs, input: &[u8], verbose: u8) -> Result<u8> {
    if !args.values.is_empty() || args.config.is_some() {
        return Err(Error::config("-f/--config", "a ResourceList is configured by its functionConfig, not by files"));
    }
    if !krm::is_resource_list(input) {
        return Err(Error::config("--krm", "stdin is not a ResourceList (apiVersion config.kubernetes.io/v1)"));
    }
    let processor = Processor {
        namespace: args.namespace.clone(),
        check: args.check,
        report: args.report.is_some(),
        release: args.release.clone(),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let (code, produced) = run::function::run(input, &processor, &mut out)?;
    finish_report(&produced.report, args.report.as_deref(), verbose, None)?;
    Ok(code)
}

/// `validate`: the effective configuration on stdout, or the error (exit 2).
fn validate(args: &ValidateArgs) -> Result<u8> {
    let render = RenderArgs { values: args.values.clone(), config: args.config.clone(), ..RenderArgs::default() };
    let (options, _) = render.options()?;
    let mut block = serde_json::to_value(&options.config).unwrap_or_default();
    if !options.config.chart_egress.is_empty() {
        // Shown under the key it came from, to say what is merged.
        block["chartEgress (networkPolicy.egress)"] = transform_json(&options.config.chart_egress);
    }
    let text = crate::stream::emit::yaml(&serde_json::json!({ config::PREFIX: block }), false);
    write_stdout(text.as_bytes())?;
    Ok(0)
}

fn transform_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    crate::transform::to_json(value)
}

/// The files of `render FILE…`, one stream: each file's documents in order, a `---` between
/// files (`-` is stdin, read once).
fn read_files(files: &[PathBuf]) -> Result<Vec<u8>> {
    let mut input = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let bytes = if file.as_os_str() == "-" {
            crate::stream::read::read_stdin()?
        } else {
            crate::stream::read::read_file(file, &file.display().to_string())?
        };
        if i > 0 && !input.is_empty() {
            if !input.ends_with(b"\n") {
                input.push(b'\n');
            }
            if !bytes.starts_with(b"---") {
                input.extend_from_slice(b"---\n");
            }
        }
        input.extend_from_slice(&bytes);
    }
    Ok(input)
}

/// Writes a report to stdout.
fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|_| out.flush())
        .map_err(|source| Error::Io { what: "writing the output".into(), source })
}
