//! `netfence check`: lint findings with stable rule IDs, judged on what the policies do
//! together: a workload's DNS is checked against the union of every policy selecting it, so a
//! namespace default-deny next to an allow-DNS policy is not reported (the mistake that makes
//! linters looking at one policy at a time flag a correct pair).

use super::connectivity::{Direction, End, Engine};
use super::ipset::IpSet;
use super::matrix::DnsTargets;
use super::ports::{ConnSet, Protocol};
use super::topology::{Origin, Policy, ProblemKind, Topology, NAMESPACE_NAME_LABEL};
use crate::k8s::{dns, ranges, validate};
use crate::model::policy as semantics;
use crate::model::policy::Target;
use k8s_openapi::api::networking::v1::{NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::json;
use std::fmt;

/// How bad a finding is. `check` exits 1 when there is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Traffic the policies are meant to allow is broken, or the API server would reject them.
    Error,
    /// Likely a mistake or a gap in isolation.
    Warning,
    /// Worth knowing.
    Info,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// The SARIF level.
    fn sarif(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lint rule. IDs never change meaning.
#[derive(Debug)]
pub struct Rule {
    /// Stable ID, `NF0xx`.
    pub id: &'static str,
    /// Short name.
    pub name: &'static str,
    /// Usual severity (some findings of a rule are milder).
    pub severity: Severity,
    /// What the rule reports.
    pub summary: &'static str,
}

/// Every rule, in ID order.
pub const RULES: &[Rule] = &[
    Rule {
        id: "NF001",
        name: "non-isolated-workload",
        severity: Severity::Warning,
        summary: "a workload no NetworkPolicy isolates for ingress or egress: it accepts or opens any connection",
    },
    Rule {
        id: "NF002",
        name: "dns-blocked",
        severity: Severity::Error,
        summary: "egress is restricted but the union of the policies selecting the workload does not let it reach \
                  DNS on UDP 53 (error) or TCP 53 (warning)",
    },
    Rule {
        id: "NF003",
        name: "egress-to-any-address",
        severity: Severity::Warning,
        summary: "an egress ipBlock 0.0.0.0/0 or ::/0 that does not except private ranges and the cloud metadata \
                  address",
    },
    Rule {
        id: "NF004",
        name: "namespace-name-label",
        severity: Severity::Warning,
        summary: "a namespaceSelector on a `name` label, which Kubernetes does not set (it sets \
                  kubernetes.io/metadata.name)",
    },
    Rule {
        id: "NF005",
        name: "policy-selects-nothing",
        severity: Severity::Warning,
        summary: "a policy whose podSelector matches no workload of the input",
    },
    Rule {
        id: "NF006",
        name: "peer-matches-nothing",
        severity: Severity::Warning,
        summary: "a rule peer confined to namespaces of the input that matches none of their workloads",
    },
    Rule {
        id: "NF007",
        name: "policy-types-default",
        severity: Severity::Info,
        summary: "a policy without policyTypes, relying on the defaults (a warning when `egress: []` therefore \
                  does not isolate egress)",
    },
    Rule {
        id: "NF008",
        name: "invalid-selector",
        severity: Severity::Error,
        summary: "a label selector the API server rejects (unknown operator, In/NotIn without values, \
                  Exists/DoesNotExist with values)",
    },
    Rule {
        id: "NF009",
        name: "invalid-rule",
        severity: Severity::Error,
        summary: "a peer or port the API server rejects (ipBlock with selectors, empty peer, bad CIDR, except \
                  outside the CIDR, bad protocol, endPort errors)",
    },
    Rule {
        id: "NF010",
        name: "invalid-admin-policy",
        severity: Severity::Error,
        summary: "an AdminNetworkPolicy or BaselineAdminNetworkPolicy the API server rejects (priority out of \
                  0-1000, subject or peer with not exactly one field, rule without peers, unknown action, Pass in \
                  the baseline, a baseline not named default, bad port or CIDR)",
    },
    Rule {
        id: "NF011",
        name: "policy-conflict",
        severity: Severity::Error,
        summary: "two policies (or namespaces) with the same name, two AdminNetworkPolicies with the same \
                  priority, or a second BaselineAdminNetworkPolicy: the cluster keeps one, or the order is undefined",
    },
    Rule {
        id: "NF012",
        name: "owner-labels-differ",
        severity: Severity::Error,
        summary: "pods of one owner whose labels differ where a policy selects: they are not one workload to \
                  the policies, and the analysis cannot name them apart",
    },
    Rule {
        id: "NF013",
        name: "admin-rule-shadowed",
        severity: Severity::Warning,
        summary: "an AdminNetworkPolicy or BaselineAdminNetworkPolicy rule that never decides anything: earlier \
                  rules of the same policy already decide every connection it matches",
    },
    Rule {
        id: "NF014",
        name: "admin-subject-selects-nothing",
        severity: Severity::Warning,
        summary: "an AdminNetworkPolicy or BaselineAdminNetworkPolicy whose subject matches no workload of the input",
    },
];

fn rule(id: &str) -> &'static Rule {
    RULES.iter().find(|r| r.id == id).expect("known rule")
}

/// One finding.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule.
    pub rule: &'static Rule,
    /// This finding's severity.
    pub severity: Severity,
    /// `namespace/name` of the policy, or the workload's `namespace/name[Kind]`.
    pub subject: String,
    /// Where it is: the document of the policy, or of the workload's object.
    pub origin: Origin,
    /// What is wrong, in one line.
    pub message: String,
}

/// Runs every rule on `topology`.
pub fn check(topology: &Topology) -> Vec<Finding> {
    let dns = DnsTargets::find(topology);
    let engine = Engine::new(topology, &dns.options());
    let mut out = Vec::new();
    workload_rules(topology, &engine, &dns, &mut out);
    for p in &topology.policies {
        policy_rules(topology, p, &mut out);
    }
    problem_findings(topology, &mut out);
    admin_rules(topology, &engine, &mut out);
    out.sort_by(|a, b| (a.rule.id, &a.subject).cmp(&(b.rule.id, &b.subject)));
    out
}

fn workload_finding(topology: &Topology, w: usize, id: &str, severity: Severity, message: String) -> Finding {
    let wl = &topology.workloads[w];
    Finding { rule: rule(id), severity, subject: wl.id(), origin: wl.origin.clone(), message }
}

fn policy_finding(p: &Policy, id: &str, severity: Severity, message: String) -> Finding {
    Finding { rule: rule(id), severity, subject: p.id(), origin: p.origin.clone(), message }
}

/// NF010 to NF012 (and selector or rule errors NF008/NF009 missed): what the analysis commands
/// refuse to analyse.
fn problem_findings(topology: &Topology, out: &mut Vec<Finding>) {
    for p in &topology.problems {
        let id = match p.kind {
            ProblemKind::InvalidAdminPolicy => "NF010",
            ProblemKind::Conflict => "NF011",
            ProblemKind::OwnerLabels => "NF012",
            ProblemKind::InvalidNetworkPolicy => {
                let reported = out.iter().any(|f| {
                    matches!(f.rule.id, "NF008" | "NF009") && format!("NetworkPolicy {}", f.subject) == p.subject
                });
                if reported {
                    continue;
                }
                if p.message.contains("Selector") {
                    "NF008"
                } else {
                    "NF009"
                }
            }
        };
        let subject = p.subject.strip_prefix("NetworkPolicy ").unwrap_or(&p.subject).to_string();
        out.push(Finding {
            rule: rule(id),
            severity: Severity::Error,
            subject,
            origin: p.origin.clone(),
            message: p.message.clone(),
        });
    }
}

/// NF013 and NF014: admin rules that never decide anything, subjects that select nothing.
fn admin_rules(topology: &Topology, engine: &Engine, out: &mut Vec<Finding>) {
    let policies = topology.admin_policies.iter().enumerate().map(|(i, a)| (Some(i), a));
    for (index, a) in policies.chain(topology.baseline.iter().map(|b| (None, b))) {
        let finding = |id: &str, message: String| Finding {
            rule: rule(id),
            severity: Severity::Warning,
            subject: a.id(),
            origin: a.origin.clone(),
            message,
        };
        if !engine.admin_selects_any_workload(index) {
            let has_rules = !(a.ingress.is_empty() && a.egress.is_empty());
            let msg = if has_rules {
                "its subject matches no workload of the input".to_string()
            } else {
                "it has no ingress or egress rule, so it selects nothing for either direction".to_string()
            };
            out.push(finding("NF014", msg));
            continue;
        }
        for (direction, rules) in [(Direction::Ingress, &a.ingress), (Direction::Egress, &a.egress)] {
            for (i, r) in rules.iter().enumerate().skip(1) {
                if engine.admin_rule_shadowed(index, direction, i) == Some(true) {
                    let name = if r.name.is_empty() { String::new() } else { format!(" {:?}", r.name) };
                    out.push(finding(
                        "NF013",
                        format!(
                            "spec.{direction}[{i}]{name} ({}) never decides anything: the earlier rules of the policy \
                             already decide every connection it matches",
                            r.action.as_str()
                        ),
                    ));
                }
            }
        }
    }
}

/// NF001 and NF002: per workload, on the union of the policies selecting it.
fn workload_rules(topology: &Topology, engine: &Engine, dns: &DnsTargets, out: &mut Vec<Finding>) {
    let targets: Vec<(usize, Option<usize>)> = match &dns.assumed {
        Some(_) => vec![(engine.probe(0), None)],
        None => dns.workloads.iter().map(|w| (engine.group_of(*w), Some(*w))).collect(),
    };
    let target_names = match &dns.assumed {
        Some(_) => {
            let (key, value) = dns::KUBE_DNS.pod_label;
            format!("{} pods labelled {key}={value}", dns::KUBE_DNS.namespace)
        }
        None => dns.workloads.iter().map(|w| topology.workloads[*w].id()).collect::<Vec<_>>().join(", "),
    };
    let tiers = !topology.admin_policies.is_empty() || topology.baseline.is_some();
    for (w, wl) in topology.workloads.iter().enumerate() {
        // Pods on the node's network: isolating them is up to the network plugin, which
        // usually cannot tell their traffic from the node's; these two rules would only be noise.
        if wl.host_network {
            continue;
        }
        let g = engine.group_of(w);
        let open: Vec<&str> = [Direction::Ingress, Direction::Egress]
            .into_iter()
            .filter(|d| !engine.is_protected(g, *d))
            .map(Direction::as_str)
            .collect();
        if !open.is_empty() {
            let policies =
                if tiers { "NetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy" } else { "NetworkPolicy" };
            let msg =
                format!("not isolated for {}: no {policies} selecting it restricts that traffic", open.join(" and "));
            out.push(workload_finding(topology, w, "NF001", Severity::Warning, msg));
        }
        if !engine.is_protected(g, Direction::Egress) || targets.iter().any(|(_, t)| *t == Some(w)) {
            continue;
        }
        let dns_ports = DnsTargets::ports();
        let mut reach = ConnSet::none();
        for (t, _) in &targets {
            reach.union_with(&engine.conns(End::Group(g), End::Group(*t)).intersection(&dns_ports));
        }
        let mut to_ips = ConnSet::none();
        for r in engine.destinations() {
            to_ips.union_with(&engine.conns(End::Group(g), End::Ip(*r)).intersection(&dns_ports));
        }
        let has = |c: &ConnSet, p: Protocol| c.contains(p, 53) || c.contains(p, 5353);
        let blocked: Vec<Protocol> = [Protocol::Udp, Protocol::Tcp].into_iter().filter(|p| !has(&reach, *p)).collect();
        if blocked.is_empty() {
            continue;
        }
        let mut policies: Vec<String> =
            engine.admin_policies_selecting(g, Direction::Egress).map(|a| topology.admin_policies[a].id()).collect();
        policies.extend(engine.isolating_policies(g, Direction::Egress).map(|p| topology.policies[p].id()));
        if engine.baseline_selects(g, Direction::Egress) && !engine.is_isolated(g, Direction::Egress) {
            policies.extend(topology.baseline.iter().map(|b| b.id()));
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
        out.push(workload_finding(topology, w, "NF002", severity, msg));
    }
}

/// NF003 to NF009: per policy.
fn policy_rules(topology: &Topology, p: &Policy, out: &mut Vec<Finding>) {
    let spec = &p.spec;
    // NF005: selects nothing.
    if let Some(sel) = spec.pod_selector.as_ref().filter(|s| !crate::k8s::selector::is_empty(s)) {
        let in_ns: Vec<_> = topology.workloads.iter().filter(|w| w.namespace == p.namespace).collect();
        if !in_ns.iter().any(|w| crate::k8s::selector::matches(sel, &w.labels)) {
            let (severity, msg) = if in_ns.is_empty() {
                (
                    Severity::Info,
                    format!(
                        "the input has no workload in namespace {}, so the podSelector selects nothing here",
                        p.namespace
                    ),
                )
            } else {
                (
                    Severity::Warning,
                    format!(
                        "its podSelector matches none of the {} workloads of namespace {}",
                        in_ns.len(),
                        p.namespace
                    ),
                )
            };
            out.push(policy_finding(p, "NF005", severity, msg));
        }
    }
    // NF007: policyTypes defaults.
    if spec.policy_types.as_ref().is_none_or(Vec::is_empty) {
        if spec.egress.as_ref().is_some_and(Vec::is_empty) {
            out.push(policy_finding(
                p,
                "NF007",
                Severity::Warning,
                "`egress: []` without policyTypes does not isolate egress (Egress is only implied by egress rules); \
                 add policyTypes: [Ingress, Egress]"
                    .into(),
            ));
        } else {
            let (i, e) = semantics::effective_types(spec);
            let types: Vec<&str> =
                [(i, "Ingress"), (e, "Egress")].into_iter().filter(|(on, _)| *on).map(|(_, t)| t).collect();
            out.push(policy_finding(
                p,
                "NF007",
                Severity::Info,
                format!("no policyTypes: defaults to [{}]", types.join(", ")),
            ));
        }
    }
    // NF008 on the policy's own selector.
    if let Some(sel) = &spec.pod_selector {
        selector_errors(sel, "spec.podSelector", p, out);
    }
    let rules = spec
        .ingress
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| (format!("spec.ingress[{i}]"), "from", r.from.as_deref(), r.ports.as_deref(), false))
        .chain(
            spec.egress
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, r)| (format!("spec.egress[{i}]"), "to", r.to.as_deref(), r.ports.as_deref(), true)),
        );
    for (path, field, peers, ports, egress) in rules {
        for (j, peer) in peers.unwrap_or_default().iter().enumerate() {
            peer_rules(topology, p, peer, &format!("{path}.{field}[{j}]"), egress, out);
        }
        for (j, port) in ports.unwrap_or_default().iter().enumerate() {
            port_errors(port, &format!("{path}.ports[{j}]"), p, out);
        }
    }
}

fn peer_rules(
    topology: &Topology,
    p: &Policy,
    peer: &NetworkPolicyPeer,
    at: &str,
    egress: bool,
    out: &mut Vec<Finding>,
) {
    let selectors = peer.pod_selector.is_some() || peer.namespace_selector.is_some();
    for issue in validate::peer_issues(peer) {
        out.push(policy_finding(p, "NF009", Severity::Error, issue.under(at)));
    }
    if let Some(block) = &peer.ip_block {
        let except = block.except.clone().unwrap_or_default();
        let exclusions: &[&str] = match block.cidr.trim() {
            ranges::ANY_V4 => &ranges::PRIVATE_V4,
            ranges::ANY_V6 => &ranges::PRIVATE_V6,
            _ => &[],
        };
        if egress && !exclusions.is_empty() {
            let allowed = IpSet::block(&block.cidr, &except).unwrap_or_default();
            let open: Vec<&str> = exclusions
                .iter()
                .copied()
                .filter(|x| IpSet::cidr(x).is_ok_and(|set| !set.difference(&set.difference(&allowed)).is_empty()))
                .collect();
            if !open.is_empty() {
                out.push(policy_finding(
                    p,
                    "NF003",
                    Severity::Warning,
                    format!("{at}: egress to {} does not except {}", block.cidr, open.join(", ")),
                ));
            }
        }
        return;
    }
    if !selectors {
        return;
    }
    if let Some(sel) = &peer.pod_selector {
        selector_errors(sel, &format!("{at}.podSelector"), p, out);
    }
    if let Some(sel) = &peer.namespace_selector {
        selector_errors(sel, &format!("{at}.namespaceSelector"), p, out);
        // NF004: `name: x` on namespaces.
        let mut named: Vec<String> =
            sel.match_labels.iter().flatten().filter(|(k, _)| *k == "name").map(|(_, v)| v.clone()).collect();
        for e in sel.match_expressions.iter().flatten().filter(|e| e.key == "name" && e.operator == "In") {
            named.extend(e.values.iter().flatten().cloned());
        }
        let labelled = |v: &str| topology.namespaces.values().any(|l| l.get("name").map(String::as_str) == Some(v));
        let unset: Vec<String> = named.into_iter().filter(|v| !labelled(v)).collect();
        if !unset.is_empty() {
            out.push(policy_finding(
                p,
                "NF004",
                Severity::Warning,
                format!(
                    "{at}.namespaceSelector selects `name: {}`, a label Kubernetes does not set on namespaces \
                     (no Namespace of the input has it); use {NAMESPACE_NAME_LABEL}",
                    unset.join(", ")
                ),
            ));
        }
    }
    // NF006: a peer confined to namespaces of the input that matches none of their workloads.
    let confined: Option<Vec<String>> = match &peer.namespace_selector {
        None => Some(vec![p.namespace.clone()]),
        Some(sel) => {
            let names: Vec<String> = sel
                .match_labels
                .iter()
                .flatten()
                .filter(|(k, _)| *k == NAMESPACE_NAME_LABEL)
                .map(|(_, v)| v.clone())
                .collect();
            (!names.is_empty()).then_some(names)
        }
    };
    let Some(namespaces) = confined else { return };
    let known = |ns: &String| topology.workloads.iter().any(|w| &w.namespace == ns);
    if !namespaces.iter().all(known) {
        return;
    }
    let matched = topology.workloads.iter().any(|w| {
        semantics::peer_matches(
            peer,
            &p.namespace,
            &Target::Pod {
                namespace: &w.namespace,
                namespace_labels: &topology.namespace_labels(&w.namespace),
                labels: &w.labels,
            },
        )
    });
    if !matched {
        out.push(policy_finding(
            p,
            "NF006",
            Severity::Warning,
            format!("{at} matches no workload of namespace {} in the input", namespaces.join(", ")),
        ));
    }
}

/// NF008: what the API server rejects in a selector ([`validate::label_selector_issues`]).
fn selector_errors(sel: &LabelSelector, at: &str, p: &Policy, out: &mut Vec<Finding>) {
    for issue in validate::label_selector_issues(sel) {
        out.push(policy_finding(p, "NF008", Severity::Error, issue.under(at)));
    }
}

/// NF009: what the API server rejects in a port ([`validate::port_issues`]).
fn port_errors(port: &NetworkPolicyPort, at: &str, p: &Policy, out: &mut Vec<Finding>) {
    for issue in validate::port_issues(port) {
        out.push(policy_finding(p, "NF009", Severity::Error, issue.under(at)));
    }
}

/// Whether some finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// Findings as text: `where: severity ID name: message`, then a summary line.
pub fn text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&format!(
            "{}: {} {} {}: {}: {}\n",
            f.origin, f.severity, f.rule.id, f.rule.name, f.subject, f.message
        ));
    }
    out.push_str(&summary(findings));
    out.push('\n');
    out
}

/// The summary line: `check: 1 errors, 2 warnings, 0 infos`.
pub fn summary(findings: &[Finding]) -> String {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    format!(
        "check: {} errors, {} warnings, {} infos",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    )
}

fn finding_json(f: &Finding) -> serde_json::Value {
    json!({
        "rule": f.rule.id, "name": f.rule.name, "severity": f.severity.as_str(), "subject": f.subject,
        "message": f.message, "file": f.origin.file, "document": f.origin.doc.index, "line": f.origin.doc.line,
    })
}

/// Findings as JSON.
pub fn json(findings: &[Finding]) -> serde_json::Value {
    json!({ "findings": findings.iter().map(finding_json).collect::<Vec<_>>() })
}

/// Findings as SARIF 2.1.0, with every rule described.
pub fn sarif(findings: &[Finding]) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = RULES
        .iter()
        .map(|r| {
            json!({"id": r.id, "name": r.name, "shortDescription": {"text": r.summary},
                   "defaultConfiguration": {"level": r.severity.sarif()}})
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule.id,
                "ruleIndex": RULES.iter().position(|r| r.id == f.rule.id),
                "level": f.severity.sarif(),
                "message": {"text": format!("{}: {}", f.subject, f.message)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.origin.file.clone().unwrap_or_else(|| "stdin".into())},
                    "region": {"startLine": f.origin.doc.line.max(1)}
                }}]
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "netfence", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": results
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"#;

    const ALLOW_DNS: &str = r#"
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
"#;

    fn ids(findings: &[Finding]) -> Vec<(&str, Severity)> {
        findings.iter().map(|f| (f.rule.id, f.severity)).collect()
    }

    #[test]
    fn default_deny_plus_allow_dns_is_not_dns_blocked() {
        let t = Topology::from_bytes(format!("{APP}{ALLOW_DNS}").as_bytes(), "default").unwrap();
        let findings = check(&t);
        assert!(findings.iter().all(|f| f.rule.id != "NF002"), "{}", text(&findings));
        assert!(!has_errors(&findings));
    }

    #[test]
    fn default_deny_alone_blocks_dns() {
        let t = Topology::from_bytes(APP.as_bytes(), "default").unwrap();
        let findings = check(&t);
        let f = findings.iter().find(|f| f.rule.id == "NF002").expect("dns-blocked");
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.message
                .starts_with("DNS over UDP and TCP is blocked: the egress policies selecting it (shop/default-deny)"),
            "{}",
            f.message
        );
        assert!(has_errors(&findings));
    }

    #[test]
    fn tcp_only_missing_is_a_warning_and_name_label_is_flagged() {
        let udp_only =
            ALLOW_DNS.replace(", {port: 53, protocol: TCP}", "").replace("kubernetes.io/metadata.name", "name");
        let t = Topology::from_bytes(format!("{APP}{udp_only}").as_bytes(), "default").unwrap();
        let findings = check(&t);
        // `name: kube-system` matches nothing: UDP is blocked too.
        assert!(ids(&findings).contains(&("NF002", Severity::Error)), "{}", text(&findings));
        assert!(ids(&findings).contains(&("NF004", Severity::Warning)), "{}", text(&findings));
        let udp_only = ALLOW_DNS.replace(", {port: 53, protocol: TCP}", "");
        let t = Topology::from_bytes(format!("{APP}{udp_only}").as_bytes(), "default").unwrap();
        let f = check(&t).into_iter().find(|f| f.rule.id == "NF002").unwrap();
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.message.starts_with("DNS over TCP is blocked"), "{}", f.message);
    }

    #[test]
    fn policy_rules_fire() {
        let input = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: nothing}}
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
  - to: [{podSelector: {matchLabels: {app: ghost}}}]
  - to: [{podSelector: {matchExpressions: [{key: a, operator: Bogus}]}}]
  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}, podSelector: {}}]
    ports: [{port: 90, endPort: 80}, {protocol: ICMP}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: q, namespace: shop}
spec: {podSelector: {}, egress: []}
"#;
        let t = Topology::from_bytes(input.as_bytes(), "default").unwrap();
        let findings = check(&t);
        let got = ids(&findings);
        for want in [
            ("NF003", Severity::Warning),
            ("NF005", Severity::Warning),
            ("NF006", Severity::Warning),
            ("NF007", Severity::Info),
            ("NF007", Severity::Warning),
            ("NF008", Severity::Error),
            ("NF009", Severity::Error),
        ] {
            assert!(got.contains(&want), "{want:?} missing in\n{}", text(&findings));
        }
        let nf003 = findings.iter().find(|f| f.rule.id == "NF003").unwrap();
        assert!(
            nf003.message.ends_with("does not except 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16"),
            "{}",
            nf003.message
        );
        assert_eq!(findings.iter().filter(|f| f.rule.id == "NF009").count(), 4, "{}", text(&findings));
        let sarif = sarif(&findings);
        assert_eq!(sarif["version"], "2.1.0");
        assert_eq!(sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(), RULES.len());
    }
}
