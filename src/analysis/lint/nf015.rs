//! NF015 service-unreachable: a Service whose backing pods admit no traffic from inside the
//! cluster on one of its ports. The pods' ingress is isolated, and no ingress rule of the
//! policies isolating them admits any pod (a rule without `from`, or a peer that selects pods)
//! on the port the Service forwards to: every in-cluster client of the Service is cut off,
//! usually by a default-deny nobody completed.

use super::{Context, Finding, Rule, Severity};
use crate::analysis::engine::connectivity::Direction;
use crate::analysis::engine::topology::Service;
use crate::model::policy::port_matches;
use crate::model::workload::ContainerPort;
use k8s_openapi::api::networking::v1::{NetworkPolicyIngressRule, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF015",
    name: "service-unreachable",
    severity: Severity::Warning,
    summary: "a Service whose backing pods admit no in-cluster traffic on one of its ports (their ingress is \
              isolated and no rule admits any pod there)",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let (t, engine) = (cx.topology, &cx.engine);
    for s in &t.services {
        let Some(sel) = s.spec.selector.as_ref().filter(|l| !l.is_empty()) else { continue };
        let backends = cx.workloads_in.get(s.namespace.as_str()).into_iter().flatten().filter(|&&w| {
            let wl = &t.workloads[w];
            !wl.host_network && sel.iter().all(|(k, v)| wl.labels.get(k) == Some(v))
        });
        for &w in backends {
            let (wl, g) = (&t.workloads[w], engine.group_of(w));
            // Admin tiers decide otherwise; NF013/NF014 and `explain` are about those.
            if !engine.is_isolated(g, Direction::Ingress)
                || engine.admin_policies_selecting(g, Direction::Ingress).next().is_some()
                || engine.baseline_selects(g, Direction::Ingress)
            {
                continue;
            }
            let rules: Vec<&NetworkPolicyIngressRule> = engine
                .isolating_policies(g, Direction::Ingress)
                .flat_map(|p| t.policies[p].spec.ingress.iter().flatten())
                .collect();
            let mut closed = Vec::new();
            for (protocol, port, target) in service_ports(s, &wl.ports) {
                let admitted =
                    rules.iter().any(|r| admits_pods(r) && covers(r.ports.as_deref(), &protocol, target, &wl.ports));
                if !admitted {
                    closed.push(if port == target {
                        format!("{protocol} {port}")
                    } else {
                        format!("{protocol} {port} (target {target})")
                    });
                }
            }
            if closed.is_empty() {
                continue;
            }
            let policies: Vec<String> =
                engine.isolating_policies(g, Direction::Ingress).map(|p| t.policies[p].id()).collect();
            out.push(Finding {
                rule: &RULE,
                severity: Severity::Warning,
                subject: format!("{}/{}[Service]", s.namespace, s.name),
                origin: s.origin.clone(),
                message: format!(
                    "its pods ({}) admit no in-cluster traffic on {}: the ingress policies selecting them ({}) admit no pod there",
                    wl.id(),
                    closed.join(", "),
                    policies.join(", ")
                ),
            });
        }
    }
}

/// Whether an ingress rule admits some pod: no `from` (everyone), or a peer with a selector.
fn admits_pods(rule: &NetworkPolicyIngressRule) -> bool {
    let peers = rule.from.as_deref().unwrap_or_default();
    peers.is_empty()
        || peers.iter().any(|p| p.ip_block.is_none() && (p.pod_selector.is_some() || p.namespace_selector.is_some()))
}

/// The Service's ports as (protocol, port, target port number on the backend); named target
/// ports the backend does not declare are left out (the Service forwards nothing there).
fn service_ports(s: &Service, backend: &[ContainerPort]) -> Vec<(String, i32, i32)> {
    s.spec
        .ports
        .iter()
        .flatten()
        .filter_map(|p| {
            let protocol = p.protocol.clone().unwrap_or_else(|| "TCP".into());
            let target = match &p.target_port {
                None => p.port,
                Some(IntOrString::Int(n)) => *n,
                Some(IntOrString::String(name)) => {
                    backend.iter().find(|c| &c.name == name && c.protocol == protocol)?.port
                }
            };
            Some((protocol, p.port, target))
        })
        .collect()
}

/// Whether a rule's ports admit `protocol`/`port` on a pod with `ports` (named ports by name).
fn covers(entries: Option<&[NetworkPolicyPort]>, protocol: &str, port: i32, ports: &[ContainerPort]) -> bool {
    let Some(entries) = entries.filter(|e| !e.is_empty()) else { return true };
    entries.iter().any(|e| match &e.port {
        Some(IntOrString::String(name)) => {
            e.protocol.as_deref().unwrap_or("TCP") == protocol
                && ports.iter().any(|c| &c.name == name && c.port == port && c.protocol == protocol)
        }
        _ => port_matches(e, protocol, port),
    })
}

#[cfg(test)]
mod tests {
    use crate::analysis::engine::topology::Topology;
    use crate::analysis::lint::check;

    const APP: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: shop}\n\
        spec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, ports: [{name: sql, containerPort: 5432}, {containerPort: 9187}]}]}}}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: shop}\n\
        spec: {selector: {app: db}, ports: [{port: 5432, targetPort: sql}, {port: 80, targetPort: 9187}]}\n---\n";

    fn nf015(policies: &str) -> Vec<String> {
        let t = Topology::from_bytes(format!("{APP}{policies}").as_bytes(), "default").unwrap();
        check(&t)
            .into_iter()
            .filter(|f| f.rule.id == "NF015")
            .map(|f| format!("{}: {}", f.subject, f.message))
            .collect()
    }

    #[test]
    fn fires_when_a_default_deny_leaves_the_service_no_client() {
        let deny = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n";
        assert_eq!(
            nf015(deny),
            ["shop/db[Service]: its pods (shop/db[StatefulSet]) admit no in-cluster traffic on TCP 5432, TCP 80 (target 9187): the ingress policies selecting them (shop/deny) admit no pod there"]
        );
        // An ipBlock admits no pod; a rule for the named port opens 5432 only.
        let ip_and_named = format!(
            "{deny}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: db, namespace: shop}}\n\
             spec: {{podSelector: {{matchLabels: {{app: db}}}}, ingress: [{{from: [{{ipBlock: {{cidr: 10.0.0.0/8}}}}]}}, {{from: [{{podSelector: {{}}}}], ports: [{{port: sql}}]}}]}}\n"
        );
        let got = nf015(&ip_and_named);
        assert_eq!(got.len(), 1);
        assert!(got[0].contains("admit no in-cluster traffic on TCP 80 (target 9187):"), "{got:?}");
    }

    #[test]
    fn quiet_when_open_or_admitted() {
        assert!(nf015("").is_empty(), "not isolated");
        let admitted = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db, namespace: shop}\n\
            spec: {podSelector: {matchLabels: {app: db}}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: a}}}], ports: [{port: 5432}, {port: 9187}]}]}\n";
        assert!(nf015(admitted).is_empty());
        let everyone = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db, namespace: shop}\nspec: {podSelector: {}, ingress: [{}]}\n";
        assert!(nf015(everyone).is_empty());
    }
}
