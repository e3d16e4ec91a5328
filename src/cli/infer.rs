//! `netfence infer`: the connections the manifests declare, with their evidence, without
//! rendering (see [`crate::infer`]).

use super::analysis::ManifestArgs;
use super::write_stdout;
use crate::analysis::topology::Input;
use crate::config::{self, namespace, Config};
use crate::error::Result;
use crate::infer::{self, output};
use crate::model::{Model, Needs};
use crate::stream::Stream;
use clap::Args;
use std::path::PathBuf;

/// Options of `infer`.
#[derive(Debug, Args, Clone, Default)]
pub struct InferArgs {
    /// Files (read as one render: references between files count) and namespace.
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Helm values files whose `netfence.infer` (and `kubeApi`) configure inference
    /// (repeatable; later wins).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = InferFormat::Connlist)]
    pub output: InferFormat,
}

/// Formats of `infer`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum InferFormat {
    /// np-guard's connlist notation, one line per port, with the rule and its evidence.
    #[default]
    Connlist,
    /// `{"connections": [{"src", "dst", "protocol", "port", "rule", "evidence"}]}`.
    Json,
}

/// Runs `infer`: exit 0, also when nothing is inferred.
pub fn run(args: &InferArgs) -> Result<u8> {
    let config = if args.values.is_empty() { Config::default() } else { config::values::load(&args.values)? };
    let ns = namespace::resolve(args.manifests.namespace.as_deref(), None);
    let inputs = Input::read_all(&args.manifests.files)?;
    // The inputs are one render: references between files count.
    let mut bytes = Vec::new();
    for input in &inputs {
        if !bytes.is_empty() {
            bytes.extend_from_slice(b"\n---\n");
        }
        bytes.extend_from_slice(&input.bytes);
    }
    let stream = if inputs.iter().any(|i| i.lenient) { Stream::parse_lenient(&bytes)? } else { Stream::parse(&bytes)? };
    let model = Model::build(&stream, &ns.name, Needs { workloads: true, manifests: true })?;
    let config = Config { infer: config::infer::Infer { enabled: true, ..config.infer }, ..config };
    let rows = output::rows(&infer::infer(&model, &config));
    let text = match args.output {
        InferFormat::Connlist => output::connlist(&rows),
        InferFormat::Json => output::json(&rows),
    };
    write_stdout(text.as_bytes())?;
    Ok(0)
}
