//! Seed 1's pattern, "every service policy includes DNS plus its dependencies": a policy of its
//! own for every workload that no policy of the input selects, holding DNS, the extra egress
//! rules and the workload's own `allow` edges.

use super::dns::DnsRule;
use super::groups::{group_policy, Group, Groups};
use super::sides::Pods;
use super::Generated;
use crate::config::Config;
use crate::k8s::selector;
use crate::model::{policy, Model};
use serde_json::Value;

/// Base name of the generated policies (`netfence-workload-<name>`).
pub const PREFIX: &str = "netfence-workload";

/// One policy per unselected workload; takes the workload's own groups out of `groups`.
pub fn generate(
    model: &Model,
    config: &Config,
    dns: Option<&DnsRule>,
    groups: &mut Groups,
    taken: &mut Vec<(String, String)>,
) -> Vec<Generated> {
    if !config.workload_policies.enabled {
        return vec![];
    }
    let mut out = Vec::new();
    let mut workloads: Vec<_> = model
        .workloads
        .iter()
        .filter(|w| matches!(w.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob" | "Pod"))
        .filter(|w| !w.host_network && !w.pod_labels.is_empty())
        .filter(|w| {
            !model.policies.iter().any(|p| {
                !p.managed
                    && p.namespace == w.namespace
                    && !policy::selects_whole_namespace(&p.spec)
                    && p.spec.pod_selector.as_ref().is_some_and(|s| selector::matches(s, &w.pod_labels))
            })
        })
        .collect();
    workloads.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    for w in workloads {
        let pods = Pods {
            namespace: w.namespace.clone(),
            selector: selector::from_labels(w.pod_labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            workload: Some(w.name.clone()),
            ports: vec![],
        };
        let mut group = groups.take(&pods).unwrap_or(Group { pods: pods.clone(), ingress: vec![], egress: vec![] });
        group.pods.workload = Some(w.name.clone());
        let mut egress: Vec<Value> = Vec::new();
        if let Some(rule) = dns {
            egress.push(rule.to_value());
        }
        egress.extend(config.extra_rules().map(|r| super::tidy(serde_json::to_value(r).unwrap_or_default())));
        for r in group.egress.drain(..) {
            if !egress.contains(&r) {
                egress.push(r);
            }
        }
        group.egress = egress;
        let mut p = group_policy(model, taken, PREFIX, group, None);
        // A workload policy isolates both directions even without ingress rules.
        p.value["spec"]["policyTypes"] = serde_json::json!(["Ingress", "Egress"]);
        p.spec = serde_json::from_value(p.value["spec"].clone()).unwrap_or_default();
        out.push(p);
    }
    out
}
