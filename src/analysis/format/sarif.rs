//! SARIF 2.1.0 for code scanning: every rule described, one result per finding.

use crate::analysis::lint::{Finding, Severity, RULES};
use serde_json::{json, Value};

/// SARIF's level of a severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The findings of `check`.
pub fn findings(findings: &[Finding]) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({"id": r.id, "name": r.name, "shortDescription": {"text": r.summary},
                   "defaultConfiguration": {"level": level(r.severity)}})
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule.id,
                "ruleIndex": RULES.iter().position(|r| r.id == f.rule.id),
                "level": level(f.severity),
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
