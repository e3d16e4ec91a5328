//! Connectivity analysis without a cluster: who can reach whom under the NetworkPolicies of a
//! render, why, what a change does, whether it matches a written intent, and what looks risky.
//!
//! Modules, bottom to top:
//! - [`ports`], [`ipset`]: sets of connections (protocol and port ranges, named ports) and of
//!   external addresses (IPv4 and IPv6 ranges);
//! - [`topology`]: the inputs read through [`crate::model`]: namespaces, workloads named by
//!   their owner, policies, Services, Routes and Ingresses;
//! - [`ingress`]: what an ingress controller reaches through Routes and Ingresses;
//! - [`connectivity`]: the engine (Kubernetes NetworkPolicy v1 semantics);
//! - [`connlist`]: np-guard netpol-analyzer's txt notation;
//! - [`matrix`]: namespace- and workload-level views (table, markdown, json, dot, mermaid);
//! - [`explain`], [`diff`], [`verify`], [`lint`]: the `explain`, `diff`, `verify` and `check`
//!   commands.

pub mod admin;
pub mod connectivity;
pub mod connlist;
pub mod diff;
pub mod explain;
pub mod exposure;
pub mod focus;
pub mod ingress;
pub mod ipset;
pub mod lint;
pub mod matrix;
pub mod ports;
pub mod selector_index;
pub mod topology;
pub mod validate;
pub mod verify;
