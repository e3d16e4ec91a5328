//! Plain-text reports: `explain`'s explanation, `diff`'s changes, `verify`'s findings and
//! `check`'s findings, one line each where they list things, with a closing summary.

use crate::analysis::engine::admin::Action;
use crate::analysis::engine::connectivity::{Direction, RuleHit, RuleSource, Side};
use crate::analysis::engine::ports::{ConnSet, Protocol};
use crate::analysis::lint::{self, Severity};
use crate::analysis::views::diff::{Change, Kind};
use crate::analysis::views::explain::Explanation;
use crate::analysis::views::verify::{Finding, Report};
use std::fmt::Write;

/// The explanation in plain words.
pub fn explanation(e: &Explanation) -> String {
    let mut out = String::new();
    let verdict = match e.port {
        Some((p, n)) if e.allowed.contains(p, n) => format!("{p}/{n} is allowed"),
        Some((p, n)) => format!("{p}/{n} is denied"),
        None if e.allowed.is_empty() => "denied: no connection is allowed".into(),
        None => format!("allowed: {}", e.allowed),
    };
    let _ = writeln!(out, "{} => {}: {verdict}", e.src, e.dst);
    if e.src == e.dst {
        let _ = writeln!(out, "(a pod always reaches itself; this is the traffic between two pods of the workload)");
    }
    if let Some(exposed) = &e.exposed {
        let _ = writeln!(
            out,
            "The ingress controller reaches {} through Routes and Ingresses on {}; its pods are in no namespace of the input, so only rules admitting every namespace admit them.",
            e.dst,
            if exposed.is_empty() { "no port the pods declare".to_string() } else { exposed.to_string() }
        );
    }
    side_text(e, &mut out, &e.egress, &e.src, &e.dst, e.src_is_address);
    side_text(e, &mut out, &e.ingress, &e.dst, &e.src, e.dst_is_address);
    if let Some((p, n)) = e.port {
        let blocker =
            [(&e.egress, &e.src), (&e.ingress, &e.dst)].into_iter().find(|(side, _)| !side.allowed.contains(p, n));
        if let Some((side, who)) = blocker {
            let _ = writeln!(out, "{p}/{n} is blocked by the {} of {who}.", side.direction);
        }
        for (side, addressed) in [(&e.egress, e.src_is_address), (&e.ingress, e.dst_is_address)] {
            if !addressed {
                let _ = writeln!(
                    out,
                    "{} decision on {p}/{n}: {}.",
                    capitalized(side.direction.as_str()),
                    decider(e, side, p, n)
                );
            }
        }
    }
    out
}

fn admin_rule_name(e: &Explanation, source: RuleSource, direction: Direction) -> String {
    let d = direction as usize;
    let (policy, index) = match source {
        RuleSource::Admin { policy, index } => (policy, index),
        RuleSource::Baseline { index } => (e.rule_names.len().saturating_sub(1), index),
        RuleSource::Network { .. } => return String::new(),
    };
    let name = e.rule_names.get(policy).and_then(|r| r[d].get(index)).filter(|n| !n.is_empty());
    match name {
        Some(n) => format!("rule {n:?} ({direction}[{index}])"),
        None => format!("{direction}[{index}]"),
    }
}

fn admin_policy_name(e: &Explanation, source: RuleSource) -> &str {
    match source {
        RuleSource::Admin { policy, .. } => &e.admin_names[policy],
        _ => &e.baseline_name,
    }
}

/// Which rule decided `protocol`/`port` on `side`.
fn decider(e: &Explanation, side: &Side, protocol: Protocol, port: u16) -> String {
    let admin = |hit: &RuleHit| {
        format!(
            "{} {} {}",
            admin_policy_name(e, hit.source),
            admin_rule_name(e, hit.source, side.direction),
            verb(hit.action)
        )
    };
    // A Pass hands the connection to the tiers below: name it, then what decided there.
    let passed = match side.admin.iter().find(|h| h.conns.contains(protocol, port)) {
        Some(hit) if hit.action != Action::Pass => return admin(hit),
        Some(hit) => format!("{}; then ", admin(hit)),
        None => String::new(),
    };
    let lower = || {
        if side.isolated() {
            for hit in &side.policies {
                if let Some(rule) = hit.rules.iter().find(|r| r.conns.contains(protocol, port)) {
                    let RuleSource::Network { index, .. } = rule.source else { continue };
                    return format!("{} {}[{index}] allows it", e.policy_names[hit.policy], side.direction);
                }
            }
            return "no rule of the NetworkPolicies isolating the pod allows it".into();
        }
        if let Some(hit) = side.baseline.iter().find(|h| h.conns.contains(protocol, port)) {
            return admin(hit);
        }
        "no policy restricts it (allowed by default)".into()
    };
    format!("{passed}{}", lower())
}

fn side_text(e: &Explanation, out: &mut String, side: &Side, subject: &str, other: &str, is_address: bool) {
    let (what, towards) = match side.direction {
        Direction::Egress => ("Egress of", "to"),
        Direction::Ingress => ("Ingress of", "from"),
    };
    if is_address {
        let _ = writeln!(out, "{what} {subject}: an address outside the cluster; no policy applies there.");
        return;
    }
    let tiers = !side.admin_policies.is_empty() || side.baseline_selects;
    if tiers {
        let summary = if side.allowed.is_empty() { "nothing".to_string() } else { side.allowed.to_string() };
        let _ = writeln!(out, "{what} {subject}: {summary} {towards} {other} is allowed, tier by tier:");
        if !side.admin_policies.is_empty() {
            let names: Vec<&str> = side.admin_policies.iter().map(|p| e.admin_names[*p].as_str()).collect();
            let _ = writeln!(out, "  AdminNetworkPolicies selecting it, by priority: {}", names.join(", "));
            if side.admin.is_empty() {
                let _ = writeln!(out, "  - no {} rule of them matches {other}", side.direction);
            }
            for hit in &side.admin {
                let _ = writeln!(
                    out,
                    "  - {} {} {} {}{}",
                    admin_policy_name(e, hit.source),
                    admin_rule_name(e, hit.source, side.direction),
                    verb(hit.action),
                    hit.conns,
                    covers(e, &hit.conns)
                );
            }
        }
    }
    if !side.isolated() {
        if tiers {
            let rest = ConnSet::all().difference(&side.admin_decided);
            if rest.is_empty() {
                return;
            }
            if side.baseline_selects {
                let _ = writeln!(
                    out,
                    "  no NetworkPolicy isolates it for {}; the BaselineAdminNetworkPolicy decides the rest ({rest}):",
                    side.direction
                );
                if side.baseline.is_empty() {
                    let _ = writeln!(
                        out,
                        "  - {}: no {} rule matches {other}; allowed by default",
                        e.baseline_name, side.direction
                    );
                }
                for hit in &side.baseline {
                    let _ = writeln!(
                        out,
                        "  - {} {} {} {}{}",
                        e.baseline_name,
                        admin_rule_name(e, hit.source, side.direction),
                        verb(hit.action),
                        hit.conns,
                        covers(e, &hit.conns)
                    );
                }
            } else {
                let _ = writeln!(
                    out,
                    "  no NetworkPolicy isolates it for {}: the rest ({rest}) is allowed.",
                    side.direction
                );
            }
            return;
        }
        let _ = writeln!(
            out,
            "{what} {subject}: not isolated (no policy selecting it has {} in its policyTypes); everything is allowed.",
            capitalized(side.direction.as_str())
        );
        return;
    }
    let n = side.policies.len();
    let network: ConnSet = {
        let mut c = ConnSet::none();
        for hit in &side.policies {
            for r in &hit.rules {
                c.union_with(&r.conns);
            }
        }
        c
    };
    let summary = if network.is_empty() { "nothing".to_string() } else { network.to_string() };
    if tiers {
        let _ = writeln!(
            out,
            "  then isolated by {n} NetworkPolic{}; together they allow {summary} {towards} {other} (of what the admin tier passed or left):",
            if n == 1 { "y" } else { "ies" }
        );
    } else {
        let _ = writeln!(
            out,
            "{what} {subject}: isolated by {n} polic{}; together they allow {summary} {towards} {other}.",
            if n == 1 { "y" } else { "ies" }
        );
    }
    for hit in &side.policies {
        let name = &e.policy_names[hit.policy];
        if hit.rules.is_empty() {
            let _ = writeln!(out, "  - {name}: no {} rule admits {other}", side.direction);
            continue;
        }
        for rule in &hit.rules {
            let RuleSource::Network { index, .. } = rule.source else { continue };
            let allows = if rule.conns.is_empty() {
                "admits it but its ports match nothing here (a named port the destination lacks?)".to_string()
            } else {
                format!("allows {}", rule.conns)
            };
            let _ = writeln!(out, "  - {name}: {}[{index}] {allows}{}", side.direction, covers(e, &rule.conns));
        }
    }
}

/// ` (covers TCP/80)` or ` (not TCP/80)` when a port was asked about.
fn covers(e: &Explanation, conns: &ConnSet) -> String {
    match e.port {
        Some((p, port)) if conns.contains(p, port) => format!(" (covers {p}/{port})"),
        Some((p, port)) => format!(" (not {p}/{port})"),
        None => String::new(),
    }
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Allow => "allows",
        Action::Deny => "denies",
        Action::Pass => "passes (to the NetworkPolicies)",
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

/// The changes as text: one line each, then a summary.
pub fn diff(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "No connectivity change.\n".into();
    }
    let mut out = String::new();
    let mut counts = [0usize; 3];
    for c in changes {
        let kind = c.kind();
        counts[kind as usize] += 1;
        let line = match kind {
            Kind::Added => format!("+ {} => {} : {}", c.src, c.dst, c.after),
            Kind::Removed => format!("- {} => {} : {}", c.src, c.dst, c.before),
            Kind::Changed => format!("~ {} => {} : {} -> {}", c.src, c.dst, c.before, c.after),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&format!("{} added, {} removed, {} changed\n", counts[0], counts[1], counts[2]));
    out
}

/// The report as text: one line per finding, then a summary.
pub fn verify(report: &Report) -> String {
    let mut out = String::new();
    let mut counts = [0usize; 4];
    for f in &report.findings {
        let line = match f {
            Finding::Unmatched { entry, text } => {
                counts[0] += 1;
                format!("unmatched:  {entry} {text:?} names nothing in the input")
            }
            Finding::Missing { src, to, conns, entry } => {
                counts[1] += 1;
                format!("missing:    {src} => {to} : {conns} ({entry})")
            }
            Finding::Forbidden { src, dst, conns, entry } => {
                counts[2] += 1;
                format!("forbidden:  {src} => {dst} : {conns} ({entry})")
            }
            Finding::Unexpected { src, dst, conns } => {
                counts[3] += 1;
                format!("unexpected: {src} => {dst} : {conns}")
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    if report.ok() {
        out.push_str(&format!("verify: the {} allowed connections match the intent\n", report.connections));
    } else {
        out.push_str(&format!(
            "verify: {} missing, {} unexpected, {} forbidden, {} unmatched\n",
            counts[1], counts[3], counts[2], counts[0]
        ));
    }
    out
}

/// The findings of `check`: `where: severity ID name: subject: message`, then the summary line.
pub fn findings(findings: &[lint::Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let _ =
            writeln!(out, "{}: {} {} {}: {}: {}", f.origin, f.severity, f.rule.id, f.rule.name, f.subject, f.message);
    }
    out.push_str(&findings_summary(findings));
    out.push('\n');
    out
}

/// The summary line of `check`: `check: 1 errors, 2 warnings, 0 infos`.
pub fn findings_summary(findings: &[lint::Finding]) -> String {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    format!(
        "check: {} errors, {} warnings, {} infos",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    )
}
