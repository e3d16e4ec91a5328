//! What the KRM function reports besides the items: an `info` summary of what it added and
//! changed, `warning`s for things worth a look, and in check mode the lint findings.

use crate::analysis::lint;
use crate::config::namespace::DefaultNamespace;
use crate::core::report::Report;
use crate::core::Action;
use crate::k8s::selector;
use crate::krm::resource_list::{KrmResult, Severity};
use crate::model::{Model, Workload};
use crate::transform::{Finding, Severity as FindingSeverity};
use serde_json::Value;
use std::collections::BTreeMap;

/// How many names a message lists before "and N more".
const LISTED: usize = 5;

/// The `info` summary: the policies added and changed.
pub fn summary(report: &Report) -> KrmResult {
    let names = |pick: &dyn Fn(Action) -> bool| -> Vec<String> {
        report
            .changes
            .iter()
            .filter(|e| pick(e.action))
            // A cluster-scoped object (the BaselineAdminNetworkPolicy baseline) by kind/name.
            .map(|e| format!("{}/{}", e.namespace.as_deref().unwrap_or(&e.kind), e.name))
            .collect()
    };
    let added = names(&|a| a == Action::Added);
    let changed = names(&|a| a != Action::Added && a != Action::Removed);
    let removed = names(&|a| a == Action::Removed);
    let message = match (added.is_empty(), changed.is_empty(), removed.is_empty()) {
        (true, true, true) => "netfence: nothing to add or change, the items are already isolated".to_string(),
        _ => format!(
            "netfence: added {} {}{}; changed {}{}{}",
            added.len(),
            if report.changes.iter().all(|e| e.action != Action::Added || e.kind == "NetworkPolicy") {
                "NetworkPolicies"
            } else {
                "objects"
            },
            listed(&added),
            changed.len(),
            listed(&changed),
            if removed.is_empty() { String::new() } else { format!("; removed {}{}", removed.len(), listed(&removed)) }
        ),
    };
    KrmResult::new(Severity::Info, message)
}

/// One `info` result per report entry (`--report`), about the output item, with the action in
/// the `action` tag.
pub fn changes(report: &Report, items: &[Value]) -> Vec<KrmResult> {
    report
        .changes
        .iter()
        .map(|e| {
            let action = serde_json::to_value(e.action).ok().and_then(|v| v.as_str().map(str::to_string));
            let ns = e.namespace.as_deref().map(|n| format!("{n}/")).unwrap_or_default();
            let mut result = KrmResult::new(
                Severity::Info,
                format!("netfence: {} {} {ns}{}: {}", action.clone().unwrap_or_default(), e.kind, e.name, e.reason),
            );
            let about = items.iter().find(|i| {
                i["kind"] == e.kind.as_str()
                    && i["metadata"]["name"] == e.name.as_str()
                    && e.namespace.as_deref().is_none_or(|n| i["metadata"]["namespace"].as_str().is_none_or(|m| m == n))
            });
            if let Some(item) = about {
                result = result.about(item);
            }
            result.tags.extend(action.map(|a| ("action".to_string(), a)));
            result
        })
        .collect()
}

/// The lint findings of the output, each about the item it names (`resources` are the output
/// items, item `i` being "document" `i + 1` of the origins), with its rule ID in the `rule` tag:
/// `netfence check -o json` in `results` shape.
pub fn lint(findings: &[lint::Finding], resources: &[&Value]) -> Vec<KrmResult> {
    let summary = KrmResult::new(Severity::Info, format!("netfence {}", lint::summary(findings)));
    findings
        .iter()
        .map(|f| {
            let severity = match f.severity {
                lint::Severity::Error => Severity::Error,
                lint::Severity::Warning => Severity::Warning,
                lint::Severity::Info => Severity::Info,
            };
            let mut result =
                KrmResult::new(severity, format!("{} {}: {}: {}", f.rule.id, f.rule.name, f.subject, f.message));
            if let Some(item) = f.origin.doc.index.checked_sub(1).and_then(|i| resources.get(i)) {
                result = result.about(item);
            }
            result.tags.insert("rule".into(), f.rule.id.into());
            result
        })
        .chain(std::iter::once(summary))
        .collect()
}

/// The transforms' findings, as warnings about the function config's field.
pub fn findings(findings: &[Finding]) -> Vec<KrmResult> {
    findings
        .iter()
        .map(|f| {
            let severity = match f.severity {
                FindingSeverity::Warning => Severity::Warning,
                FindingSeverity::Info => Severity::Info,
            };
            let message = match &f.field {
                Some(field) => format!("{field}: {}", f.message),
                None => f.message.clone(),
            };
            let result = KrmResult::new(severity, message);
            match &f.field {
                Some(field) => result.at(format!("spec.{field}")),
                None => result,
            }
        })
        .collect()
}

/// Warnings about the input: policies that select no pod of the items' workloads, items placed
/// in a namespace nobody named.
pub fn warnings(model: &Model, resources: &[Value], namespace: &DefaultNamespace) -> Vec<KrmResult> {
    let mut out = Vec::new();
    let mut by_namespace: BTreeMap<&str, Vec<&Workload>> = BTreeMap::new();
    for w in &model.workloads {
        by_namespace.entry(w.namespace.as_str()).or_default().push(w);
    }
    for p in &model.policies {
        let Some(sel) = p.spec.pod_selector.as_ref().filter(|s| !selector::is_empty(s)) else { continue };
        // Only a namespace with workloads among the items can show that nothing matches.
        let Some(in_ns) = by_namespace.get(p.namespace.as_str()) else { continue };
        if in_ns.iter().any(|w| selector::matches(sel, &w.pod_labels)) {
            continue;
        }
        let item = model.value_in(resources, p.object).unwrap_or(&resources[model.objects[p.object].doc]);
        out.push(
            KrmResult::new(
                Severity::Warning,
                format!(
                    "NetworkPolicy {}/{} selects no pod: no workload of namespace {} among the items has labels \
                     matching its podSelector",
                    p.namespace, p.name, p.namespace
                ),
            )
            .about(item)
            .at("spec.podSelector"),
        );
    }
    if !namespace.is_configured() {
        let defaulted: Vec<String> = model
            .objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.namespace.is_some())
            .filter(|&(i, _)| {
                let item = model.value_in(resources, i);
                item.and_then(|v| v.pointer("/metadata/namespace")).and_then(Value::as_str).is_none_or(str::is_empty)
            })
            .map(|(_, o)| format!("{}/{}", o.kind, o.name))
            .collect();
        if !defaulted.is_empty() {
            let placed = if namespace.is_fallback() && model.default_namespace_is_implicit() {
                "netfence's policies for them carry no namespace either".to_string()
            } else {
                format!("netfence placed them in namespace {:?}", model.default_namespace)
            };
            out.push(KrmResult::new(
                Severity::Warning,
                format!(
                    "{} namespaced items have no metadata.namespace{}; {placed} (set spec.namespace, or \
                     data.namespace in a ConfigMap)",
                    defaulted.len(),
                    listed(&defaulted),
                ),
            ));
        }
    }
    out
}

/// ` (a, b, c and 2 more)`, or nothing for an empty list.
fn listed(names: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let shown = names.iter().take(LISTED).cloned().collect::<Vec<_>>().join(", ");
    match names.len().saturating_sub(LISTED) {
        0 => format!(" ({shown})"),
        more => format!(" ({shown} and {more} more)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Needs;
    use serde_json::json;

    fn items() -> Vec<Value> {
        vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}}}}),
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "typo", "namespace": "shop"},
                "spec": {"podSelector": {"matchLabels": {"app": "wbe"}}}}),
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "ok", "namespace": "shop"},
                "spec": {"podSelector": {"matchLabels": {"app": "web"}}}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "loose"}}),
        ]
    }

    #[test]
    fn warns_about_a_policy_selecting_nothing_and_defaulted_namespaces() {
        let items = items();
        let model = Model::from_items(&items, "default", Needs { workloads: true, manifests: false }).unwrap();
        let fallback = crate::config::namespace::resolve(None, None);
        let found = if fallback.is_fallback() { warnings(&model, &items, &fallback) } else { return };
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].message.contains("shop/typo"));
        assert_eq!(found[0].resource_ref.as_ref().unwrap().name, "typo");
        assert_eq!(found[0].field.as_ref().unwrap().path, "spec.podSelector");
        assert!(found[1].message.contains("ConfigMap/loose"), "{}", found[1].message);
        assert!(found[1].message.contains("carry no namespace either"), "{}", found[1].message);
        // A configured namespace is a decision, not something to warn about.
        assert_eq!(warnings(&model, &items, &"default".into()).len(), 1);
    }

    #[test]
    fn summary_lists_names() {
        use crate::core::report::Entry;
        let entry = |action, name: &str| Entry {
            action,
            kind: "NetworkPolicy".into(),
            api_version: "networking.k8s.io/v1".into(),
            namespace: Some("n".into()),
            name: name.into(),
            reason: "r".into(),
            document: None,
            patch: None,
        };
        let report = Report { changes: vec![entry(Action::Changed, "b"), entry(Action::Added, "a")] };
        let s = summary(&report);
        assert_eq!(s.message, "netfence: added 1 NetworkPolicies (n/a); changed 1 (n/b)");
        assert_eq!(s.severity, Severity::Info);
        let names: Vec<String> = (0..7).map(|i| i.to_string()).collect();
        assert_eq!(listed(&names), " (0, 1, 2, 3, 4 and 2 more)");
        let changes = changes(&report, &[]);
        assert_eq!(changes[1].message, "netfence: added NetworkPolicy n/a: r");
        assert_eq!(changes[1].tags["action"], "added");
    }
}
