//! netfence adds the network isolation every chart forgets, where rendered manifests flow:
//! as a Helm post-renderer, a kustomize/kpt KRM function, or inside an Argo CD plugin.
//!
//! Layers, top to bottom (data never flows back up):
//! - [`k8s`]: Kubernetes well-knowns (labels, DNS deployments, private ranges, API server
//!   ports), label selectors parsed once, and the API server's NetworkPolicy rules;
//! - [`stream`]: split a manifest stream into documents, keep their bytes, write them back;
//! - [`model`]: the typed view transforms and analysis share (objects, namespaces, policies);
//! - [`config`]: the `networkPolicy` values block and function configs, strictly validated,
//!   and the namespace precedence;
//! - [`transform`]: the policy transforms (`dns`, `egress_merge`, `default_deny`);
//! - [`render`]: the post-renderer pipeline tying them together;
//! - [`analysis`]: connectivity analysis of the same model (matrix, explain, diff, verify, check);
//! - [`krm`]: the KRM function (a `ResourceList` in and out) over the same model and transforms;
//! - [`cli`]: every clap type, command-line parsing and exit codes (`main.rs` only calls it);
//! - [`argocd`]: the Argo CD plugin's commands (checked settings, Helm/kustomize, then render).

pub mod analysis;
pub mod argocd;
pub mod cli;
pub mod config;
pub mod error;
pub mod k8s;
pub mod krm;
pub mod model;
pub mod render;
pub mod stream;
pub mod transform;

pub use error::{Error, Result};
