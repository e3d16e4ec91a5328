//! Aligned plain text: columns separated by two spaces, trailing spaces trimmed.

use super::grid_row;
use crate::analysis::views::connlist::Row;
use crate::analysis::views::matrix::NamespaceMatrix;

/// The namespace matrix, with a note on the DNS column. Rows are produced one at a time (the
/// widths in a first pass), so memory is the output's, not a grid of strings.
pub fn namespace(m: &NamespaceMatrix) -> String {
    let rows = m.rows.len() + 1;
    let mut widths = vec![0usize; m.columns.len() + 2];
    for r in 0..rows {
        for (c, cell) in grid_row(m, r).iter().enumerate() {
            widths[c] = widths[c].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for r in 0..rows {
        out.push_str(&aligned_line(&grid_row(m, r), &widths));
    }
    out.push_str(&format!("\n{}\n", m.dns_note));
    out
}

/// The workload list: `FROM  TO  CONNECTIONS`.
pub fn workload(rows: &[Row]) -> String {
    let mut grid = vec![vec!["FROM".to_string(), "TO".to_string(), "CONNECTIONS".to_string()]];
    grid.extend(rows.iter().map(|(s, d, c)| vec![s.clone(), d.clone(), c.to_string()]));
    align(&grid)
}

/// Left-aligned columns separated by two spaces, trailing spaces trimmed.
fn align(grid: &[Vec<String>]) -> String {
    let cols = grid.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| grid.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    grid.iter().map(|row| aligned_line(row, &widths)).collect()
}

/// One line: cells padded to `widths` and two spaces, trailing spaces trimmed.
fn aligned_line(row: &[String], widths: &[usize]) -> String {
    let mut line = String::new();
    for (c, cell) in row.iter().enumerate() {
        line.push_str(cell);
        if c + 1 < row.len() {
            line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
        }
    }
    let mut line = line.trim_end().to_string();
    line.push('\n');
    line
}
