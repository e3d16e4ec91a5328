//! NF017 dns-only-egress: a workload whose egress allows DNS at most, while its containers name
//! other Services (env, args, command, the ConfigMaps and Secrets they read; see
//! [`crate::infer`]): it resolves their names and can reach none of them.

use super::{Context, Finding, Rule, Severity};
use crate::analysis::engine::connectivity::Direction;
use crate::analysis::engine::dns::DnsTargets;
use crate::analysis::engine::ports::ConnSet;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF017",
    name: "dns-only-egress",
    severity: Severity::Warning,
    summary: "a workload whose egress allows DNS at most while its containers name other Services",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let t = cx.topology;
    for (w, wl) in t.workloads.iter().enumerate() {
        let id = wl.id();
        let named: Vec<&str> = t.references.iter().filter(|r| r.from == id).map(|r| r.evidence.as_str()).collect();
        if named.is_empty() || !dns_only(cx, w) {
            continue;
        }
        let more = if named.len() > 1 { format!(" and {} more", named.len() - 1) } else { String::new() };
        out.push(Finding::workload(
            &RULE,
            cx,
            w,
            Severity::Warning,
            format!("its egress allows DNS at most, but its containers name other Services: {}{more}", named[0]),
        ));
    }
}

/// Whether workload `w`'s egress is isolated by NetworkPolicies (no admin tier) whose every
/// egress rule is limited to the DNS ports.
pub(super) fn dns_only(cx: &Context, w: usize) -> bool {
    let (t, engine) = (cx.topology, &cx.engine);
    let g = engine.group_of(w);
    if t.workloads[w].host_network
        || !engine.is_isolated(g, Direction::Egress)
        || engine.admin_policies_selecting(g, Direction::Egress).next().is_some()
        || engine.baseline_selects(g, Direction::Egress)
    {
        return false;
    }
    let dns = DnsTargets::ports();
    engine
        .isolating_policies(g, Direction::Egress)
        .flat_map(|p| t.policies[p].spec.egress.iter().flatten())
        .all(|r| ConnSet::from_rule_ports(r.ports.as_deref()).resolve(&[]).is_subset(&dns))
}

#[cfg(test)]
pub(super) mod tests {
    use crate::analysis::engine::topology::Topology;
    use crate::analysis::lint::check;

    pub(crate) const APP: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\n\
        spec: {template: {metadata: {labels: {app: api}}, spec: {containers: [{name: c, env: [{name: DB_URL, value: 'postgres://db:5432/shop'}]}]}}}\n---\n\
        apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: shop}\n\
        spec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, ports: [{containerPort: 5432}]}]}}}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: shop}\nspec: {selector: {app: db}, ports: [{port: 5432}]}\n---\n";

    pub(crate) const DNS_ONLY: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\n\
        spec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n  egress:\n  - to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]\n";

    pub(crate) fn findings(rule: &str, policies: &str) -> Vec<String> {
        let t = Topology::from_bytes(format!("{APP}{policies}").as_bytes(), "default").unwrap();
        check(&t).into_iter().filter(|f| f.rule.id == rule).map(|f| format!("{}: {}", f.subject, f.message)).collect()
    }

    #[test]
    fn fires_on_dns_only_egress_with_references() {
        assert_eq!(
            findings("NF017", DNS_ONLY),
            ["shop/api[Deployment]: its egress allows DNS at most, but its containers name other Services: env DB_URL of deployment/api names service db:5432"]
        );
    }

    #[test]
    fn quiet_when_egress_is_open_or_allows_more() {
        assert!(findings("NF017", "").is_empty(), "not isolated");
        let more = format!("{DNS_ONLY}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: api, namespace: shop}}\n\
            spec: {{podSelector: {{matchLabels: {{app: api}}}}, policyTypes: [Egress], egress: [{{to: [{{podSelector: {{matchLabels: {{app: db}}}}}}], ports: [{{port: 5432}}]}}]}}\n");
        assert!(findings("NF017", &more).is_empty());
    }
}
