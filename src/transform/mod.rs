//! The policy transforms, each a pure function from the [`Model`] and the [`Config`] to a
//! [`Plan`] (new policies, edits of input policies, findings, each with its reason), and the
//! passes over the combined plan. [`plan`] runs them in their fixed order; [`crate::core`] turns
//! the result into output.
//!
//! Transforms: [`default_deny`] (per-namespace baseline), [`baseline_admin`] (the same as one
//! BaselineAdminNetworkPolicy), [`allow_matrix`], [`external_egress`],
//! [`kube_api`], [`port_forward`], [`workload_policies`], [`allowances`] (the connections the
//! release needs, merged into the workload policies by [`allowances::merge`]; [`keep`] feeds it
//! what the chart's own policies admit), [`dns`] (DNS for input policies),
//! [`egress_merge`] (extra egress rules). Passes: [`workload_policies::absorb_edges`],
//! [`dns::complete`] (DNS for generated policies), [`naming`], [`reconcile`]. Each transform is
//! idempotent on its own, so running netfence on its own output changes nothing.

pub mod allow_matrix;
pub mod allowances;
pub mod baseline_admin;
pub mod default_deny;
pub mod dns;
pub mod egress_merge;
pub mod external_egress;
pub mod groups;
pub mod keep;
pub mod kube_api;
pub mod naming;
pub mod plan;
pub mod port_forward;
pub mod reconcile;
pub mod sides;
pub mod workload_policies;

use crate::config::Config;
use crate::error::Result;
use crate::model::Model;
pub use naming::Named;
pub use plan::{Change, Edit, Finding, NewPolicy, Plan, Severity};
use serde::Serialize;
use serde_json::Value;

/// The combined plan, after the passes: what to add, what to edit, what was noticed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Planned {
    /// New policies, named, in output order: per-namespace baselines, matrix edges, external
    /// egress, API egress, port-forward, workload policies; each with the earlier run's policy
    /// it goes before, if any.
    pub added: Vec<reconcile::Placed>,
    /// netfence's policies of an earlier run that this run does not generate: removed
    /// (indices into [`Model::policies`]).
    pub removed: Vec<usize>,
    /// Edits of input policies: DNS, then extra egress rules, then replacements of netfence's
    /// own policies of an earlier run.
    pub edits: Vec<Edit>,
    /// Findings.
    pub findings: Vec<Finding>,
    /// The namespace baseline as one `BaselineAdminNetworkPolicy`, when configured so.
    pub admin_baseline: Option<baseline_admin::AdminBaseline>,
}

/// Runs every enabled transform and the passes. The context's annotations go on every new
/// object (what the I/O shape wants there, e.g. Helm 4's filename annotation); new objects in
/// its unplaced namespace get no `metadata.namespace`; new objects are named for its release
/// (see [`crate::core::Context`]).
pub fn plan(model: &Model, config: &Config, context: &crate::core::Context) -> Result<Planned> {
    let (annotations, unplaced) = (context.annotations.as_slice(), context.unplaced_namespace.as_deref());
    if !config.enabled {
        return Ok(Planned::default());
    }
    let dns_rule = config.dns.enabled.then(|| dns::DnsRule::new(&config.dns));
    let baseline = default_deny::plan(model, config, dns_rule.as_ref());
    let admin_baseline = baseline_admin::plan(model, config, dns_rule.as_ref(), annotations)?;
    let mut early_findings: Vec<Finding> = model
        .ownership_warnings
        .iter()
        .map(|w| Finding { severity: Severity::Warning, field: None, message: w.clone() })
        .collect();
    if let (Some(ns), Some(_)) = (unplaced, &admin_baseline) {
        // A BaselineAdminNetworkPolicy names namespaces: it cannot follow objects to wherever
        // Helm puts them, as a namespace-less NetworkPolicy does.
        early_findings.push(Finding {
            severity: Severity::Warning,
            field: Some("defaultDeny.as".into()),
            message: format!(
                "the BaselineAdminNetworkPolicy names namespaces, and objects without metadata.namespace were taken \
                 to be in {ns:?}: pass -n with the release namespace"
            ),
        });
    }
    let allow = allow_matrix::plan(model, config)?;
    let workload = workload_policies::plan(model, config, dns_rule.as_ref());
    let (workload, allow) = workload_policies::absorb_edges(workload.policies, allow.policies);
    let mut needed = crate::infer::allowances(model, config);
    needed.extend(keep::plan(model, config));
    let allowed = allowances::plan(model, config, &needed);
    let workload = allowances::merge(workload, allowed.policies);
    let mut generated = baseline.policies;
    generated.extend(allow);
    generated.extend(external_egress::plan(model, config)?.policies);
    generated.extend(kube_api::plan(model, config)?.policies);
    generated.extend(port_forward::plan(model, config)?.policies);
    generated.extend(workload);

    early_findings.extend(allowed.findings);
    let mut edits = Plan { findings: early_findings, ..Plan::default() };
    if let Some(rule) = &dns_rule {
        edits.extend(dns::plan(model, rule, &generated));
        generated = dns::complete(model, rule, generated);
    } else {
        edits.findings.extend(dns::off_with_egress_denied(model, &generated));
    }
    edits.extend(egress_merge::plan(model, config));
    let named = naming::name(model, generated, annotations, unplaced, context.release.as_deref());
    let reconciled = reconcile::reconcile(model, named);
    edits.edits.extend(reconciled.updates);
    Ok(Planned {
        added: reconciled.fresh,
        removed: reconciled.removed,
        edits: edits.edits,
        findings: edits.findings,
        admin_baseline,
    })
}

/// A k8s-openapi value as JSON in netfence's key order.
pub fn to_json<T: Serialize>(value: &T) -> Value {
    // Serialising k8s-openapi types into a `Value` cannot fail (string map keys, no fallible
    // serialisers); `Null` keeps this total without a panic path.
    tidy(serde_json::to_value(value).unwrap_or(Value::Null))
}

/// Key order for the YAML netfence writes: the order people write NetworkPolicies in
/// (k8s-openapi serialises fields alphabetically, which puts `ports` before `to`).
const KEY_ORDER: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "labels",
    "annotations",
    "spec",
    "namespaceSelector",
    "podSelector",
    "ipBlock",
    "cidr",
    "except",
    "policyTypes",
    "ingress",
    "egress",
    "from",
    "to",
    "protocol",
    "port",
    "endPort",
    "ports",
    "matchLabels",
    "matchExpressions",
    "key",
    "operator",
    "values",
];

/// Reorders the keys of generated content by [`KEY_ORDER`] (unknown keys keep their order, last).
pub fn tidy(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().map(|(k, v)| (k, tidy(v))).collect();
            entries.sort_by_key(|(k, _)| KEY_ORDER.iter().position(|o| o == k).unwrap_or(KEY_ORDER.len()));
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(tidy).collect()),
        other => other,
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the transforms' unit tests.
    use crate::config::Config;
    use crate::model::{Model, Needs};
    use crate::stream::Stream;

    /// The model of a YAML stream (workloads included), default namespace `default`.
    pub fn model(yaml: &str) -> Model {
        let stream = Stream::parse(yaml.as_bytes()).expect("a valid stream");
        Model::build(&stream, "default", Needs { workloads: true, manifests: true }).expect("a valid model")
    }

    /// The `netfence` block from YAML.
    pub fn config(yaml: &str) -> Config {
        let value = crate::stream::parse_value(yaml.as_bytes(), crate::stream::Format::Yaml).expect("valid YAML");
        Config::from_value(value, "netfence").expect("a valid config")
    }
}
