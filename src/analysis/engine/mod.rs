//! The connectivity engine and what it reads.
//!
//! - [`topology`]: the inputs read through [`crate::model`] (namespaces, workloads named by
//!   their owner, NetworkPolicies, admin policies, Services, Routes and Ingresses) and what makes
//!   them unanalysable ([`validate`]);
//! - [`admin`]: AdminNetworkPolicy and BaselineAdminNetworkPolicy, typed and validated;
//! - [`ports`], [`ipset`]: sets of connections (protocols, port ranges, named ports) and of
//!   external addresses (IPv4 and IPv6 ranges);
//! - [`index`]: label selectors evaluated through an index of labels;
//! - [`ingress`]: what an ingress controller reaches through Routes and Ingresses;
//! - [`dns`]: the DNS servers of the input, or a stand-in for the cluster's;
//! - [`connectivity`]: the engine itself (the three policy tiers, pairs of groups of pods).

pub mod admin;
pub mod connectivity;
pub mod dns;
pub mod index;
pub mod ingress;
pub mod ipset;
pub mod ports;
pub mod topology;
pub mod validate;
