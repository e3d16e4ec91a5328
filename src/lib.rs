//! netfence adds the network isolation every chart forgets, where rendered manifests flow:
//! as a Helm post-renderer, a kustomize/kpt KRM function, or inside an Argo CD plugin.
//!
//! Layers, in the order to read them (each uses only the ones listed before it):
//! - [`error`]: the error type and exit codes;
//! - [`k8s`]: Kubernetes well-knowns (labels, DNS deployments, private ranges, API server
//!   ports), label selectors parsed once, and the API server's NetworkPolicy rules;
//! - [`stream`]: split a manifest stream into documents, keep their bytes, write them back
//!   (changed documents patched as text where possible);
//! - [`krm`]: the KRM `ResourceList` wire format;
//! - [`model`]: the typed view transforms and analysis share (objects, namespaces, workloads,
//!   policies), read once;
//! - [`config`]: the `networkPolicy` values block and function configs, strictly validated,
//!   and the namespace precedence;
//! - [`infer`]: the connections a release needs (declared by its manifests, admitted by its
//!   policies), as allowances the transforms keep open;
//! - [`transform`]: one pure `plan` per transform, and the passes over the combined plan;
//! - [`core`]: model + config -> outcome (JSON Patches of changed documents, new objects,
//!   findings) and the change report;
//! - [`analysis`]: connectivity analysis of the same model (matrix, explain, diff, verify, check);
//! - [`run`]: the I/O shapes around the core (plain stream, ResourceList) and `--check`;
//! - [`argocd`]: the Argo CD plugin's commands (checked settings, Helm/kustomize, then render);
//! - [`cli`]: every clap type, command-line parsing and exit codes (`main.rs` only calls it).

pub mod analysis;
pub mod argocd;
pub mod cli;
pub mod config;
pub mod core;
pub mod error;
pub mod infer;
pub mod k8s;
pub mod krm;
pub mod model;
pub mod run;
pub mod stream;
pub mod transform;

pub use error::{Error, Result};
