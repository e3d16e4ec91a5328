//! `netfence check`: lint findings with stable rule IDs, judged on what the policies do
//! together: a workload's DNS is checked against the union of every policy selecting it, so a
//! namespace default-deny next to an allow-DNS policy is not reported (the mistake that makes
//! linters looking at one policy at a time flag a correct pair).
//!
//! One module per rule, each with its `RULE` (re-exported here as `NF001`…) and a `check` over
//! the shared [`Context`]; the formats are [`crate::analysis::format`]'s.

mod nf001;
mod nf002;
mod nf003;
mod nf004;
mod nf005;
mod nf006;
mod nf007;
mod nf008;
mod nf009;
mod nf010;
mod nf011;
mod nf012;
mod nf013;
mod nf014;
mod nf015;
mod nf016;
mod nf017;
mod problems;

use crate::analysis::engine::connectivity::Engine;
use crate::analysis::engine::dns::DnsTargets;
use crate::analysis::engine::topology::{Origin, Policy, Topology};
use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub use nf001::RULE as NF001;
pub use nf002::RULE as NF002;
pub use nf003::RULE as NF003;
pub use nf004::RULE as NF004;
pub use nf005::RULE as NF005;
pub use nf006::RULE as NF006;
pub use nf007::RULE as NF007;
pub use nf008::RULE as NF008;
pub use nf009::RULE as NF009;
pub use nf010::RULE as NF010;
pub use nf011::RULE as NF011;
pub use nf012::RULE as NF012;
pub use nf013::RULE as NF013;
pub use nf014::RULE as NF014;
pub use nf015::RULE as NF015;
pub use nf016::RULE as NF016;
pub use nf017::RULE as NF017;

// The text format, for the callers outside the analysis that print findings (render's
// `--check`, the KRM function's results).
pub use crate::analysis::format::text::{findings as text, findings_summary as summary};

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
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lint rule. IDs never change meaning.
#[derive(Debug, PartialEq, Eq)]
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
pub const RULES: [&Rule; 15] = [
    &NF001, &NF002, &NF003, &NF004, &NF005, &NF006, &NF007, &NF008, &NF009, &NF010, &NF011, &NF012, &NF013, &NF014,
    &NF015,
];

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

impl Finding {
    /// A finding of `rule` about NetworkPolicy `p`.
    fn policy(rule: &'static Rule, p: &Policy, severity: Severity, message: String) -> Finding {
        Finding { rule, severity, subject: p.id(), origin: p.origin.clone(), message }
    }

    /// A finding of `rule` about workload `w`.
    fn workload(rule: &'static Rule, cx: &Context, w: usize, severity: Severity, message: String) -> Finding {
        let wl = &cx.topology.workloads[w];
        Finding { rule, severity, subject: wl.id(), origin: wl.origin.clone(), message }
    }
}

/// What every rule may look at, computed once.
pub struct Context<'t> {
    /// The input.
    pub topology: &'t Topology,
    /// The engine, with the DNS stand-in as probe 0 when the input has no DNS server.
    pub engine: Engine<'t>,
    /// The DNS servers.
    pub dns: DnsTargets,
    /// Workloads by namespace.
    pub workloads_in: BTreeMap<&'t str, Vec<usize>>,
    /// Values of a `name` label on the input's namespaces.
    pub namespace_name_values: BTreeSet<&'t str>,
}

impl<'t> Context<'t> {
    fn new(topology: &'t Topology) -> Context<'t> {
        let dns = DnsTargets::find(topology);
        let engine = Engine::new(topology, &dns.options());
        let mut workloads_in: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, w) in topology.workloads.iter().enumerate() {
            workloads_in.entry(&w.namespace).or_default().push(i);
        }
        let namespace_name_values =
            topology.namespaces.values().filter_map(|l| l.get("name")).map(String::as_str).collect();
        Context { topology, engine, dns, workloads_in, namespace_name_values }
    }

    /// Every peer of every rule of every NetworkPolicy: (policy, path such as
    /// `spec.egress[0].to[1]`, peer, whether it is an egress rule's).
    fn peers(&self) -> impl Iterator<Item = (&'t Policy, String, &'t NetworkPolicyPeer, bool)> + 't {
        self.topology.policies.iter().flat_map(peers_of)
    }
}

/// The peers of the rules of `p`: (policy, path such as `spec.egress[0].to[1]`, peer, whether it
/// is an egress rule's).
fn peers_of(p: &Policy) -> impl Iterator<Item = (&Policy, String, &NetworkPolicyPeer, bool)> {
    let ingress = p.spec.ingress.iter().flatten().enumerate().flat_map(move |(i, r)| {
        r.from
            .iter()
            .flatten()
            .enumerate()
            .map(move |(j, peer)| (p, format!("spec.ingress[{i}].from[{j}]"), peer, false))
    });
    let egress = p.spec.egress.iter().flatten().enumerate().flat_map(move |(i, r)| {
        r.to.iter().flatten().enumerate().map(move |(j, peer)| (p, format!("spec.egress[{i}].to[{j}]"), peer, true))
    });
    ingress.chain(egress)
}

/// Runs every rule on `topology`; findings sorted by rule, then subject.
pub fn check(topology: &Topology) -> Vec<Finding> {
    let cx = Context::new(topology);
    let mut out = Vec::new();
    let rules: [fn(&Context, &mut Vec<Finding>); 18] = [
        nf001::check,
        nf002::check,
        nf003::check,
        nf004::check,
        nf005::check,
        nf006::check,
        nf007::check,
        nf008::check,
        nf009::check,
        nf009::unreported,
        nf010::check,
        nf011::check,
        nf012::check,
        nf013::check,
        nf014::check,
        nf015::check,
        nf016::check,
        nf017::check,
    ];
    for rule in rules {
        rule(&cx, &mut out);
    }
    out.sort_by(|a, b| (a.rule.id, &a.subject).cmp(&(b.rule.id, &b.subject)));
    out
}

/// Whether some finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
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
        assert!(
            findings.iter().all(|f| f.rule.id != "NF002"),
            "{}",
            crate::analysis::format::text::findings(&findings)
        );
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
        assert!(
            ids(&findings).contains(&("NF002", Severity::Error)),
            "{}",
            crate::analysis::format::text::findings(&findings)
        );
        assert!(
            ids(&findings).contains(&("NF004", Severity::Warning)),
            "{}",
            crate::analysis::format::text::findings(&findings)
        );
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
            assert!(got.contains(&want), "{want:?} missing in\n{}", crate::analysis::format::text::findings(&findings));
        }
        let nf003 = findings.iter().find(|f| f.rule.id == "NF003").unwrap();
        assert!(
            nf003.message.ends_with("does not except 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16"),
            "{}",
            nf003.message
        );
        assert_eq!(
            findings.iter().filter(|f| f.rule.id == "NF009").count(),
            4,
            "{}",
            crate::analysis::format::text::findings(&findings)
        );
        let sarif = crate::analysis::format::sarif::findings(&findings);
        assert_eq!(sarif["version"], "2.1.0");
        assert_eq!(sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(), RULES.len());
    }
}
