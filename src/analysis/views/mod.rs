//! What the analysis commands compute, as data (the text is [`super::format`]'s job):
//!
//! - [`matrix`]: the namespace-level matrix and the workload-level list (`matrix`);
//! - [`connlist`]: the workload list with np-guard's semantics, narrowed by [`focus`] options,
//!   with the [`exposure`] analysis (`matrix -o connlist`, `--exposure`);
//! - [`explain`]: which tiers, policies and rules decide one connection (`explain`);
//! - [`diff`]: what changed between two inputs (`diff`);
//! - [`verify`]: the connectivity held against a written intent (`verify`).

pub mod connlist;
pub mod diff;
pub mod explain;
pub mod exposure;
pub mod focus;
pub mod matrix;
pub mod verify;
