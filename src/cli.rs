//! Command-line interface: parses flags, picks the I/O shape, runs, maps errors to exit codes.
//!
//! Exit codes: 0 success; 1 a verdict (reserved for analysis commands: differences, findings);
//! 2 bad input, configuration or usage; 3 an I/O error.

use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::render::{self, RenderOptions};
use clap::{Args, Parser, Subcommand};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// netfence: default-deny, DNS and egress policies for rendered Kubernetes manifests.
#[derive(Debug, Parser)]
#[command(name = "netfence", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
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
    /// Read manifests on stdin, write them with network policies added on stdout (default).
    Render(RenderArgs),
    /// Print the JSON Schema of the `networkPolicy` configuration block.
    Schema,
}

/// Options of `render`.
#[derive(Debug, Args, Clone, Default)]
pub struct RenderArgs {
    /// Helm values file whose `networkPolicy` key configures netfence (repeatable; later wins).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Namespace of documents without metadata.namespace [default: $HELM_NAMESPACE, else
    /// $ARGOCD_APP_NAMESPACE, else "default"].
    #[arg(short, long)]
    pub namespace: Option<String>,
}

impl RenderArgs {
    fn options(&self) -> Result<RenderOptions> {
        let config = if self.values.is_empty() { Config::default() } else { config::values::load(&self.values)? };
        Ok(RenderOptions { namespace: default_namespace(self.namespace.clone()), config })
    }
}

/// The namespace for documents without one: the flag, else `$HELM_NAMESPACE`, else
/// `$ARGOCD_APP_NAMESPACE`, else `default`. (Neither Helm 3 nor Helm 4 tells a post-renderer
/// the release namespace, so under Helm pass `-n`.)
pub fn default_namespace(flag: Option<String>) -> String {
    flag.filter(|n| !n.is_empty())
        .or_else(|| std::env::var("HELM_NAMESPACE").ok().filter(|n| !n.is_empty()))
        .or_else(|| std::env::var("ARGOCD_APP_NAMESPACE").ok().filter(|n| !n.is_empty()))
        .unwrap_or_else(|| "default".to_string())
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_logging(cli.verbose);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("netfence: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Logs go to stderr only: stdout carries the manifests.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        None => run_render(&cli.render),
        Some(Command::Render(args)) => run_render(&args),
        Some(Command::Schema) => {
            let text = serde_json::to_string_pretty(&config::json_schema()).unwrap_or_default();
            write_stdout(format!("{text}\n").as_bytes())?;
            Ok(0)
        }
    }
}

fn run_render(args: &RenderArgs) -> Result<u8> {
    let options = args.options()?;
    let input = read_stdin()?;
    let rendered = render::render(&input, &options)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    rendered.write(&mut out)?;
    out.flush().map_err(|source| Error::Io { what: "writing the output".into(), source })?;
    Ok(0)
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut input)
        .map_err(|source| Error::Io { what: "reading stdin".into(), source })?;
    Ok(input)
}

fn write_stdout(bytes: &[u8]) -> Result<()> {
    std::io::stdout().lock().write_all(bytes).map_err(|source| Error::Io { what: "writing the output".into(), source })
}
