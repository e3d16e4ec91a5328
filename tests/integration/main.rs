//! The integration tests, as one test binary (as ripgrep does: one link instead of one per
//! file). Each module is one area; `util` holds the helpers they share. Run one area with
//! `cargo test --profile ci --test integration <area>::`, e.g. `e2e_helm::`.
//!
//! External tools (Helm 3/4, kubectl, kpt, IBM NCA) come from `scripts/setup-tools.sh`; see
//! `util::tool` for what happens when one is missing.

mod util;

mod analysis_cli;
mod analysis_fuzz;
mod analysis_nca;
mod analysis_scenarios;
mod bad_input;
mod baseline_admin;
mod corpus;
mod e2e_argocd;
mod e2e_helm;
mod e2e_krm;
mod e2e_pack;
mod e2e_pipe;
mod examples;
mod fuzz_regressions;
mod golden;
mod hostile;
mod infer;
mod keep_release;
mod platform;
mod seeds;
