//! What a transform proposes, without doing it: new policies, edits of input policies and
//! findings, each with the human reason a report shows. Plans are plain data; the passes
//! ([`super::dns::complete`], [`super::naming`], [`super::reconcile`]) and then
//! [`crate::core`] turn the combined plan into output.

use super::sides::Pods;
use k8s_openapi::api::networking::v1::{NetworkPolicyEgressRule, NetworkPolicySpec};
use serde_json::Value;

/// A NetworkPolicy a transform wants to add, before it has a name.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPolicy {
    /// Its namespace.
    pub namespace: String,
    /// The name it gets unless another policy has it ([`super::naming`] appends `-2`, `-3`…).
    pub base_name: String,
    /// The spec.
    pub spec: NetworkPolicySpec,
    /// Labels besides `app.kubernetes.io/managed-by: netfence`.
    pub labels: Vec<(String, String)>,
    /// Annotations.
    pub annotations: Vec<(String, String)>,
    /// The pods it is about, when a pass may merge it with another plan's policy for the same
    /// pods (workload policies absorb the workload's own `allow` edges).
    pub pods: Option<Pods>,
    /// Why it is added, one sentence each.
    pub reasons: Vec<String>,
}

impl NewPolicy {
    /// A policy with no extra metadata.
    pub fn new(namespace: &str, base_name: &str, spec: NetworkPolicySpec, reason: String) -> NewPolicy {
        NewPolicy {
            namespace: namespace.to_string(),
            base_name: base_name.to_string(),
            spec,
            labels: vec![],
            annotations: vec![],
            pods: None,
            reasons: vec![reason],
        }
    }
}

/// An edit of a policy of the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// Index into [`crate::model::Model::policies`].
    pub policy: usize,
    /// What changes.
    pub change: Change,
    /// Why, one sentence.
    pub reason: String,
}

/// The kinds of edit. Each becomes RFC 6902 operations on the policy's document.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Append these egress rules (those already present are skipped when the plan is applied).
    AppendEgress(Vec<NetworkPolicyEgressRule>),
    /// Replace the whole object: a policy netfence generated in an earlier run, regenerated.
    Replace(Value),
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth a look: netfence did something other than the configuration suggests.
    Warning,
    /// For information.
    Info,
}

/// Something a transform noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// The configuration field it is about, below the block (`egress`), if any.
    pub field: Option<String>,
    /// One line.
    pub message: String,
}

/// What one transform (or all of them) proposes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// New policies, in output order.
    pub policies: Vec<NewPolicy>,
    /// Edits of input policies, in the order they apply.
    pub edits: Vec<Edit>,
    /// Findings.
    pub findings: Vec<Finding>,
}

impl Plan {
    /// A plan of new policies only.
    pub fn of_policies(policies: Vec<NewPolicy>) -> Plan {
        Plan { policies, ..Plan::default() }
    }

    /// Appends `other` after `self`.
    pub fn extend(&mut self, other: Plan) {
        self.policies.extend(other.policies);
        self.edits.extend(other.edits);
        self.findings.extend(other.findings);
    }
}
