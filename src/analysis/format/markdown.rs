//! Markdown tables.

use super::grid_row;
use crate::analysis::views::connlist::Row;
use crate::analysis::views::matrix::NamespaceMatrix;

/// The namespace matrix, with a note on the DNS column.
pub fn namespace(m: &NamespaceMatrix) -> String {
    let mut out = String::new();
    for r in 0..=m.rows.len() {
        let row = grid_row(m, r);
        let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
        if r == 0 {
            out.push_str(&format!("|{}\n", "---|".repeat(row.len())));
        }
    }
    out.push_str(&format!("\n{}\n", m.dns_note));
    out
}

/// The workload list.
pub fn workload(rows: &[Row]) -> String {
    let mut out = String::from("| From | To | Connections |\n|---|---|---|\n");
    for (s, d, c) in rows {
        out.push_str(&format!("| {s} | {d} | {c} |\n"));
    }
    out
}
