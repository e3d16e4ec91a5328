//! np-guard netpol-analyzer's txt notation, line for line: `src => dst : conn`, connections as
//! `All Connections` or `TCP 8080,9090,UDP 53`. With a focus connection (`--focus-conn`) the
//! list is headed `Permitted connections on UDP 52:` and names the pairs only. With
//! `--exposure`, np-guard's `Exposure Analysis Result:` section follows.

use crate::analysis::engine::ports::ConnSet;
use crate::analysis::views::connlist::Listing;

/// The listing as np-guard prints it.
pub fn listing(listing: &Listing) -> String {
    let mut out = String::new();
    match &listing.focus_conn {
        Some(f) => {
            out.push_str(&format!("Permitted connections on {f}:\n"));
            for (s, d, _) in &listing.rows {
                out.push_str(&format!("{s} => {d}\n"));
            }
        }
        None => {
            for (s, d, c) in &listing.rows {
                out.push_str(&format!("{s} => {d} : {c}\n"));
            }
        }
    }
    let Some(rows) = listing.exposure_rows() else { return out };
    // np-guard pads the workload names to the longest exposed one.
    let width = listing.exposure.iter().flatten().map(|e| e.name.len()).max().unwrap_or(0);
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str("Exposure Analysis Result:\n");
    let line = |peer: &str, arrow: &str, other: &str, conns: &ConnSet| match &listing.focus_conn {
        Some(_) => format!("{peer:<width$} \t{arrow} \t{other}\n"),
        None => format!("{peer:<width$} \t{arrow} \t{other} : {conns}\n"),
    };
    if !rows.egress.is_empty() {
        out.push_str("Egress Exposure:\n");
        for (p, o, c) in &rows.egress {
            out.push_str(&line(p, "=>", o, c));
        }
    }
    if !rows.ingress.is_empty() {
        if !rows.egress.is_empty() {
            out.push('\n');
        }
        out.push_str("Ingress Exposure:\n");
        for (p, o, c) in &rows.ingress {
            out.push_str(&line(p, "<=", o, c));
        }
    }
    if !rows.unprotected.is_empty() {
        out.push_str("\nWorkloads not protected by network policies:\n");
        for (name, direction) in &rows.unprotected {
            out.push_str(&format!("{name} is not protected on {direction}\n"));
        }
    }
    out
}
