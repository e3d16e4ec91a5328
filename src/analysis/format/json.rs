//! JSON: the namespace matrix, the workload list, np-guard's connlist and exposure JSON, the
//! diff and the lint's findings.

use crate::analysis::engine::ports::ConnSet;
use crate::analysis::lint::Finding;
use crate::analysis::views::connlist::{Listing, Row};
use crate::analysis::views::diff::Change;
use crate::analysis::views::matrix::NamespaceMatrix;
use serde_json::{json, Value};

/// Pretty-printed, with a final line end.
pub fn pretty(value: &Value) -> String {
    format!("{}\n", serde_json::to_string_pretty(value).unwrap_or_default())
}

/// The namespace matrix: rows, columns, the connected cells and the DNS column.
pub fn namespace(m: &NamespaceMatrix) -> Value {
    let cells: Vec<Value> = m
        .cells
        .iter()
        .filter(|(_, c)| c.allowed > 0)
        .map(|((r, c), cell)| {
            json!({"from": m.rows[*r], "to": m.columns[*c], "connections": cell.conns.to_string(),
                   "allowed_pairs": cell.allowed, "pairs": cell.pairs})
        })
        .collect();
    let dns: Vec<Value> = m
        .dns
        .iter()
        .map(|(r, cell)| {
            json!({"from": m.rows[*r], "connections": cell.conns.to_string(),
                   "allowed_workloads": cell.allowed, "workloads": cell.pairs})
        })
        .collect();
    json!({"level": "namespace", "rows": m.rows, "columns": m.columns, "cells": cells, "dns": dns, "dns_note": m.dns_note})
}

/// The workload list: `{"level": "workload", "connections": [{src, dst, conn}]}`.
pub fn workload(rows: &[Row]) -> Value {
    let list: Vec<Value> = rows.iter().map(|(s, d, c)| json!({"src": s, "dst": d, "conn": c.to_string()})).collect();
    json!({"level": "workload", "connections": list})
}

/// np-guard's JSON: a list of `{src, dst, conn}` (no `conn` with a focus connection), or with
/// exposure `{connlist_results, exposure_results: {egress_exposure, ingress_exposure}}`.
pub fn listing(listing: &Listing) -> Value {
    let item = |s: &str, d: &str, c: &ConnSet| match &listing.focus_conn {
        Some(_) => json!({"src": s, "dst": d}),
        None => json!({"src": s, "dst": d, "conn": c.to_string()}),
    };
    let rows: Vec<Value> = listing.rows.iter().map(|(s, d, c)| item(s, d, c)).collect();
    let Some(exposure) = listing.exposure_rows() else { return Value::Array(rows) };
    let egress: Vec<Value> = exposure.egress.iter().map(|(p, o, c)| item(p, o, c)).collect();
    let ingress: Vec<Value> = exposure.ingress.iter().map(|(p, o, c)| item(o, p, c)).collect();
    json!({"connlist_results": rows, "exposure_results": {"egress_exposure": egress, "ingress_exposure": ingress}})
}

/// The changes of `diff`.
pub fn diff(changes: &[Change]) -> Value {
    let list: Vec<Value> = changes
        .iter()
        .map(|c| {
            json!({"change": c.kind().as_str(), "src": c.src, "dst": c.dst,
                   "before": c.before.to_string(), "after": c.after.to_string()})
        })
        .collect();
    json!({ "changes": list })
}

/// The findings of `check`.
pub fn findings(findings: &[Finding]) -> Value {
    let list: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule.id, "name": f.rule.name, "severity": f.severity.as_str(), "subject": f.subject,
                "message": f.message, "file": f.origin.file, "document": f.origin.doc.index, "line": f.origin.doc.line,
            })
        })
        .collect();
    json!({ "findings": list })
}
