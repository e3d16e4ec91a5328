//! NF002 dns-blocked: egress is restricted, but the union of the policies selecting the
//! workload does not reach DNS.

use super::{Context, Finding, Rule, Severity};
use crate::analysis::engine::connectivity::{Direction, End};
use crate::analysis::engine::dns::DnsTargets;
use crate::analysis::engine::ports::{ConnSet, Protocol};
use crate::k8s::dns;

/// The rule.
pub const RULE: Rule = Rule {
    id: "NF002",
    name: "dns-blocked",
    severity: Severity::Error,
    summary: "egress is restricted but the union of the policies selecting the workload does not let it reach \
              DNS on UDP 53 (error) or TCP 53 (warning)",
};

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let (t, engine) = (cx.topology, &cx.engine);
    let targets: Vec<(usize, Option<usize>)> = match &cx.dns.assumed {
        Some(_) => vec![(engine.probe(0), None)],
        None => cx.dns.workloads.iter().map(|w| (engine.group_of(*w), Some(*w))).collect(),
    };
    let target_names = match &cx.dns.assumed {
        Some(_) => {
            let (key, value) = dns::KUBE_DNS.pod_label;
            format!("{} pods labelled {key}={value}", dns::KUBE_DNS.namespace)
        }
        None => cx.dns.workloads.iter().map(|w| t.workloads[*w].id()).collect::<Vec<_>>().join(", "),
    };
    let dns_ports = DnsTargets::ports();
    for (w, wl) in t.workloads.iter().enumerate() {
        // (hostNetwork pods: see NF001.)
        if wl.host_network {
            continue;
        }
        let g = engine.group_of(w);
        if !engine.is_protected(g, Direction::Egress) || targets.iter().any(|(_, t)| *t == Some(w)) {
            continue;
        }
        let mut reach = ConnSet::none();
        for (target, _) in &targets {
            reach.union_with(&engine.conns(End::Group(g), End::Group(*target)).intersection(&dns_ports));
        }
        let mut to_ips = ConnSet::none();
        for r in engine.destinations() {
            to_ips.union_with(&engine.conns(End::Group(g), End::Ip(*r)).intersection(&dns_ports));
        }
        let has = |c: &ConnSet, p: Protocol| dns::ports().iter().any(|n| c.contains(p, *n as u16));
        let blocked: Vec<Protocol> = [Protocol::Udp, Protocol::Tcp].into_iter().filter(|p| !has(&reach, *p)).collect();
        if blocked.is_empty() {
            continue;
        }
        let mut policies: Vec<String> =
            engine.admin_policies_selecting(g, Direction::Egress).map(|a| t.admin_policies[a].id()).collect();
        policies.extend(engine.isolating_policies(g, Direction::Egress).map(|p| t.policies[p].id()));
        if engine.baseline_selects(g, Direction::Egress) && !engine.is_isolated(g, Direction::Egress) {
            policies.extend(t.baseline.iter().map(|b| b.id()));
        }
        let names: Vec<&str> = blocked.iter().map(|p| p.as_str()).collect();
        let via_ips = blocked.iter().all(|p| has(&to_ips, *p));
        let severity = if blocked.contains(&Protocol::Udp) && !via_ips { Severity::Error } else { Severity::Warning };
        let mut msg = format!(
            "DNS over {} is blocked: the egress policies selecting it ({}) do not allow port 53 to {target_names}",
            names.join(" and "),
            policies.join(", ")
        );
        if via_ips {
            msg.push_str(" (only to IP ranges, which match pod addresses only on some network plugins)");
        }
        out.push(Finding::workload(&RULE, cx, w, severity, msg));
    }
}
