//! Connectivity analysis without a cluster: who can reach whom under the policies of a render
//! (NetworkPolicies, AdminNetworkPolicies, the BaselineAdminNetworkPolicy), why, what a change
//! does, whether it matches a written intent, what is exposed beyond the input, and what looks
//! risky.
//!
//! Four layers, each using only the ones above it:
//! - [`engine`]: the inputs (topology), the policy tiers and the connectivity engine, sets of
//!   connections and addresses;
//! - [`views`]: what the commands compute from the engine (namespace matrix, workload list with
//!   focus and exposure, explanation, diff, intent check), as data;
//! - [`lint`]: the `check` rules, one module per rule;
//! - [`format`]: one module per output format, turning views and findings into text.

pub mod engine;
pub mod format;
pub mod lint;
pub mod views;

// The paths the rest of the crate and the tests use.
pub use engine::{admin, connectivity, ingress, ipset, ports, topology, validate};
pub use views::{connlist, diff, explain, exposure, focus, matrix, verify};
