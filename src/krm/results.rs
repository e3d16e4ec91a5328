//! What the KRM function reports besides the items: an `info` summary of what it added and
//! changed, `warning`s for things worth a look, and in check mode the lint findings.

use super::resource_list::{KrmResult, Severity};
use crate::analysis::lint;
use crate::analysis::topology::Topology;
use crate::config::Config;
use crate::error::Result;
use crate::k8s::selector;
use crate::model::{policy, Model, Workload};
use serde_json::Value;
use std::collections::BTreeMap;

/// How many names a message lists before "and N more".
const LISTED: usize = 5;

/// The `info` summary: the policies added and changed.
pub fn summary(added: &[Value], changed: &[String]) -> KrmResult {
    let added_names: Vec<String> = added
        .iter()
        .map(|v| {
            let meta = &v["metadata"];
            format!("{}/{}", meta["namespace"].as_str().unwrap_or_default(), meta["name"].as_str().unwrap_or_default())
        })
        .collect();
    let message = match (added_names.is_empty(), changed.is_empty()) {
        (true, true) => "netfence: nothing to add or change, the items are already isolated".to_string(),
        _ => format!(
            "netfence: added {} NetworkPolicies{}; changed {}{}",
            added_names.len(),
            listed(&added_names),
            changed.len(),
            listed(changed)
        ),
    };
    KrmResult::new(Severity::Info, message)
}

/// The findings of `netfence check` on `resources` (the output items), each about the item it
/// names, with its rule ID in the `rule` tag: `netfence check -o json` in `results` shape.
pub fn lint(resources: &[Value], namespace: &str) -> Result<Vec<KrmResult>> {
    let topology = Topology::from_items(resources, namespace)?;
    let findings = lint::check(&topology);
    let summary = KrmResult::new(Severity::Info, format!("netfence {}", lint::summary(&findings)));
    Ok(findings
        .iter()
        .map(|f| {
            let severity = match f.severity {
                lint::Severity::Error => Severity::Error,
                lint::Severity::Warning => Severity::Warning,
                lint::Severity::Info => Severity::Info,
            };
            let mut result =
                KrmResult::new(severity, format!("{} {}: {}: {}", f.rule.id, f.rule.name, f.subject, f.message));
            // Origins of items are "document" index + 1.
            if let Some(item) = f.origin.doc.index.checked_sub(1).and_then(|i| resources.get(i)) {
                result = result.about(item);
            }
            result.tags.insert("rule".into(), f.rule.id.into());
            result
        })
        .chain(std::iter::once(summary))
        .collect())
}

/// Warnings about the input: policies that select no pod of the items' workloads, extra egress
/// rules no policy takes, items placed in a namespace nobody named.
pub fn warnings(model: &Model, resources: &[Value], config: &Config, namespace_configured: bool) -> Vec<KrmResult> {
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
    let egress_targets =
        model.policies.iter().any(|p| policy::restricts_egress(&p.spec) && !policy::selects_whole_namespace(&p.spec));
    if config.extra_rules().next().is_some() && !egress_targets {
        out.push(
            KrmResult::new(
                Severity::Warning,
                "egress: no policy restricts egress of specific pods, so the extra egress rules were not used",
            )
            .at("spec.egress"),
        );
    }
    if !namespace_configured {
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
            out.push(KrmResult::new(
                Severity::Warning,
                format!(
                    "{} namespaced items have no metadata.namespace{}; netfence placed them in namespace {:?} \
                     (set spec.namespace, or data.namespace in a ConfigMap)",
                    defaulted.len(),
                    listed(&defaulted),
                    model.default_namespace
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
        let model = Model::from_items(&items, "default", Needs { workloads: true }).unwrap();
        let found = warnings(&model, &items, &Config::default(), false);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].message.contains("shop/typo"));
        assert_eq!(found[0].resource_ref.as_ref().unwrap().name, "typo");
        assert_eq!(found[0].field.as_ref().unwrap().path, "spec.podSelector");
        assert!(found[1].message.contains("ConfigMap/loose"), "{}", found[1].message);
        // A configured namespace is a decision, not something to warn about.
        assert_eq!(warnings(&model, &items, &Config::default(), true).len(), 1);
    }

    #[test]
    fn summary_lists_names() {
        let added = vec![json!({"metadata": {"name": "a", "namespace": "n"}})];
        let s = summary(&added, &["n/b".into()]);
        assert_eq!(s.message, "netfence: added 1 NetworkPolicies (n/a); changed 1 (n/b)");
        assert_eq!(s.severity, Severity::Info);
        let names: Vec<String> = (0..7).map(|i| i.to_string()).collect();
        assert_eq!(listed(&names), " (0, 1, 2, 3, 4 and 2 more)");
    }
}
