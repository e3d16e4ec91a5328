//! Exposure analysis, with np-guard netpol-analyzer's meaning (`list --exposure`): to which
//! pods *not in the input* each workload may connect, or be connected from, given its policies.
//!
//! For each workload and direction:
//! - no policy of any tier selects it for that direction: it is *not protected*, exposed to
//!   the entire cluster and every address on all connections;
//! - otherwise, what its rules admitting every pod allow is its exposure to the
//!   `entire-cluster`; and for each selector of a rule that no workload of the input stands for
//!   (a *representative* peer such as `[namespace with {team=a}]/[all pods]`), what it may
//!   exchange with such pods, when that differs from the entire-cluster exposure.
//!
//! Connections with external addresses are listed again in the exposure section, per workload.

use super::focus::Focus;
use crate::analysis::engine::connectivity::{Direction, End, Engine, GroupKind, Peer};
use crate::analysis::engine::ports::ConnSet;
use crate::analysis::engine::topology::NAMESPACE_NAME_LABEL;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// How np-guard names the whole cluster.
pub const ENTIRE_CLUSTER: &str = "entire-cluster";

/// One line of a workload's exposure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposed {
    /// The other end: `entire-cluster`, a representative peer, or an external range.
    pub other: String,
    /// What may be exchanged.
    pub conns: ConnSet,
}

/// A workload's exposure in one direction.
#[derive(Debug, Clone, Default)]
pub struct XgressExposure {
    /// Whether some policy selects it for the direction.
    pub protected: bool,
    /// Its exposure lines (entire cluster and representative peers; external ranges are added
    /// by the formatters from the connection list).
    pub items: Vec<Exposed>,
}

/// A workload with some exposure.
#[derive(Debug, Clone)]
pub struct ExposedWorkload {
    /// Index into the topology's workloads.
    pub workload: usize,
    /// `namespace/name[Kind]`.
    pub name: String,
    /// Ingress exposure (`None`: protected, nothing beyond the input).
    pub ingress: Option<XgressExposure>,
    /// Egress exposure.
    pub egress: Option<XgressExposure>,
}

/// Computes the exposure of every (focus) workload; the engine must have been built with
/// [`crate::analysis::engine::connectivity::Options::exposure`].
pub fn exposure(engine: &Engine, focus: &Focus) -> Vec<ExposedWorkload> {
    let topology = engine.topology;
    let focus_conn = focus.conn_set();
    let mut out = Vec::new();
    for (w, wl) in topology.workloads.iter().enumerate() {
        if !Focus::names(engine, &focus.workloads, Peer::Workload(w)) {
            continue;
        }
        let g = engine.group_of(w);
        let mut entry = ExposedWorkload { workload: w, name: wl.id(), ingress: None, egress: None };
        for direction in Direction::BOTH {
            if focus.direction.is_some_and(|d| d != direction) {
                continue;
            }
            let slot = match direction {
                Direction::Ingress => &mut entry.ingress,
                Direction::Egress => &mut entry.egress,
            };
            if !engine.is_protected(g, direction) {
                *slot = Some(XgressExposure { protected: false, items: Vec::new() });
                continue;
            }
            let mut items = Vec::new();
            let real_ec = engine.entire_cluster_conns(g, direction);
            // With a focus connection only that connection matters.
            let ec = match &focus_conn {
                Some(f) if f.is_subset(&real_ec) => f.clone(),
                Some(_) => ConnSet::none(),
                None => real_ec.clone(),
            };
            if !ec.is_empty() {
                items.push(Exposed { other: ENTIRE_CLUSTER.into(), conns: ec.clone() });
            }
            let general = match &focus_conn {
                Some(f) if f.is_subset(&real_ec) => f.clone(),
                _ => real_ec.clone(),
            };
            for &r in engine.representatives() {
                if matches!(engine.group_kind(r), GroupKind::EntireCluster) {
                    continue;
                }
                let conns = match direction {
                    Direction::Egress => engine.conns(End::Group(g), End::Group(r)),
                    Direction::Ingress => engine.conns(End::Group(r), End::Group(g)),
                };
                let conns = match &focus_conn {
                    Some(f) if f.is_subset(&conns) => f.clone(),
                    Some(_) => continue,
                    None => conns,
                };
                if conns == general || (real_ec.is_empty() && conns.is_empty()) {
                    continue;
                }
                items.push(Exposed { other: representative_name(engine.group_kind(r)), conns });
            }
            if !items.is_empty() {
                *slot = Some(XgressExposure { protected: true, items });
            }
        }
        if entry.ingress.is_some() || entry.egress.is_some() {
            out.push(entry);
        }
    }
    out
}

/// np-guard's text for a representative peer: `namespace/[pod with {…}]`,
/// `[namespace with {…}]/[all pods]`, `[all namespaces]/[pod with {…}]`.
pub fn representative_name(kind: &GroupKind) -> String {
    match kind {
        GroupKind::Representative { namespaces, pods, .. } => {
            let ns = match namespaces.match_labels.as_ref().filter(|m| m.len() == 1) {
                Some(m) if namespaces.match_expressions.as_ref().is_none_or(Vec::is_empty) => {
                    match m.get(NAMESPACE_NAME_LABEL) {
                        Some(name) => name.clone(),
                        None => format!("[namespace with {{{}}}]", selector_text(namespaces)),
                    }
                }
                _ if crate::k8s::selector::is_empty(namespaces) => "[all namespaces]".into(),
                _ => format!("[namespace with {{{}}}]", selector_text(namespaces)),
            };
            let pod = match pods.as_ref().filter(|p| !crate::k8s::selector::is_empty(p)) {
                None => "[all pods]".to_string(),
                Some(p) => format!("[pod with {{{}}}]", selector_text(p)),
            };
            format!("{ns}/{pod}")
        }
        GroupKind::EntireCluster => ENTIRE_CLUSTER.into(),
        _ => String::new(),
    }
}

/// A selector as np-guard prints it: `k=v,k2=v2` (sorted), then each expression as
/// `{Key:k,Operator:In,Values:[a b],}`, sorted.
fn selector_text(sel: &LabelSelector) -> String {
    let mut parts: Vec<String> = Vec::new();
    let labels: Vec<String> = sel.match_labels.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
    if !labels.is_empty() {
        parts.push(labels.join(","));
    }
    let mut exprs: Vec<String> = sel
        .match_expressions
        .iter()
        .flatten()
        .map(|e| {
            format!(
                "{{Key:{},Operator:{},Values:[{}],}}",
                e.key,
                e.operator,
                e.values.as_deref().unwrap_or_default().join(" ")
            )
        })
        .collect();
    exprs.sort();
    if !exprs.is_empty() {
        parts.push(exprs.join(","));
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::selector::from_labels;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    #[test]
    fn names_of_representatives() {
        let rep = |ns: LabelSelector, pods: Option<LabelSelector>| {
            representative_name(&GroupKind::Representative { namespace: None, namespaces: ns, pods })
        };
        assert_eq!(rep(from_labels([(NAMESPACE_NAME_LABEL, "backend")]), None), "backend/[all pods]");
        assert_eq!(
            rep(LabelSelector::default(), Some(from_labels([("app", "x")]))),
            "[all namespaces]/[pod with {app=x}]"
        );
        let expr = LabelSelector {
            match_labels: Some([("foo".to_string(), "managed".to_string())].into()),
            match_expressions: Some(vec![
                LabelSelectorRequirement { key: "env".into(), operator: "Exists".into(), values: None },
                LabelSelectorRequirement { key: "app".into(), operator: "DoesNotExist".into(), values: Some(vec![]) },
            ]),
        };
        assert_eq!(
            rep(expr, Some(LabelSelector::default())),
            "[namespace with {foo=managed,{Key:app,Operator:DoesNotExist,Values:[],},{Key:env,Operator:Exists,Values:[],}}]/[all pods]"
        );
    }
}
