//! NF016 reference-unreachable: a workload names a Service in its containers (env, args,
//! command, the ConfigMaps and Secrets they read; see [`crate::infer`]) but the policies do not
//! let it reach the Service's pods on the ports it names. Workloads left with DNS-only egress
//! are NF017's.

use super::{nf017, Context, Finding, Rule, Severity};
use crate::analysis::engine::connectivity::End;
use crate::analysis::engine::ports::ConnSet;
use std::collections::HashMap;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF016",
    name: "reference-unreachable",
    severity: Severity::Warning,
    summary: "a workload names a Service in its containers but cannot reach the Service's pods on the ports it names",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let (t, engine) = (cx.topology, &cx.engine);
    if t.references.is_empty() {
        return;
    }
    let index: HashMap<String, usize> = t.workloads.iter().enumerate().map(|(i, w)| (w.id(), i)).collect();
    for r in &t.references {
        let Some(&from) = index.get(&r.from) else { continue };
        if t.workloads[from].host_network || nf017::dns_only(cx, from) {
            continue;
        }
        for to in r.to.iter().filter_map(|id| index.get(id)) {
            let backend = &t.workloads[*to];
            if backend.host_network || *to == from {
                continue;
            }
            let wanted = ConnSet::from_rule_ports(Some(&r.ports)).resolve(&backend.ports);
            let got = engine.conns(End::Group(engine.group_of(from)), End::Group(engine.group_of(*to)));
            let lost = wanted.difference(&got);
            if lost.is_empty() {
                continue;
            }
            out.push(Finding::workload(
                &RULE,
                cx,
                from,
                Severity::Warning,
                format!("cannot reach {} on {lost}, which it names ({})", backend.id(), r.evidence),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::lint::nf017::tests::{findings, DNS_ONLY};

    const DB_ONLY_FROM_WEB: &str =
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db, namespace: shop}\n\
        spec: {podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]}\n";

    #[test]
    fn fires_when_the_named_service_is_closed() {
        assert_eq!(
            findings("NF016", DB_ONLY_FROM_WEB),
            ["shop/api[Deployment]: cannot reach shop/db[StatefulSet] on TCP 5432, which it names (env DB_URL of deployment/api names service db:5432)"]
        );
    }

    #[test]
    fn quiet_when_reachable_or_dns_only() {
        assert!(findings("NF016", "").is_empty(), "nothing isolated");
        assert!(findings("NF016", DNS_ONLY).is_empty(), "NF017 reports it");
    }
}
