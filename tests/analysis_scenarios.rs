//! np-guard netpol-analyzer's scenarios as an independent oracle: for every scenario directory
//! under `../shared/corpus/netpol-analyzer/tests/` (found by listing it, so new scenarios are
//! checked the same way), `netfence matrix --level workload -o connlist DIR` must print
//! `expected/<scenario>_connlist_output.txt` exactly, line for line.
//!
//! `NETFENCE_SCENARIOS=DIR[:DIR…]` adds more corpora of the same layout (`DIR/tests/<scenario>/`,
//! `DIR/expected/`), e.g. further np-guard scenarios that may not be committed here.

use std::path::PathBuf;
use std::process::Command;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/netpol-analyzer")
}

/// Every scenario directory of a corpus, sorted.
fn scenarios(corpus: &std::path::Path) -> Vec<PathBuf> {
    let tests = corpus.join("tests");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&tests)
        .unwrap_or_else(|e| panic!("{}: {e}", tests.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn connlist(dir: &std::path::Path) -> Result<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_netfence"))
        .args(["matrix", "--level", "workload", "-o", "connlist"])
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run netfence: {e}"))?;
    if !out.status.success() {
        return Err(format!("exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr)));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// The first differing line, with context, for the failure message.
fn first_difference(got: &[&str], want: &[&str]) -> String {
    let i = got.iter().zip(want).position(|(g, w)| g != w).unwrap_or(got.len().min(want.len()));
    format!(
        "line {}: got {:?}, want {:?} ({} lines vs {} expected)",
        i + 1,
        got.get(i).copied().unwrap_or("<end>"),
        want.get(i).copied().unwrap_or("<end>"),
        got.len(),
        want.len()
    )
}

#[test]
fn every_np_guard_scenario_matches_line_for_line() {
    let shared = scenarios(&corpus());
    assert!(shared.len() >= 22, "expected the 22 scenarios, found {}", shared.len());
    let mut all: Vec<(PathBuf, PathBuf)> = shared.into_iter().map(|d| (corpus(), d)).collect();
    for extra in std::env::var("NETFENCE_SCENARIOS").unwrap_or_default().split(':').filter(|d| !d.is_empty()) {
        let root = PathBuf::from(extra);
        all.extend(scenarios(&root).into_iter().map(|d| (root.clone(), d)));
    }
    let mut failures = Vec::new();
    for (root, dir) in &all {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let expected_file = root.join("expected").join(format!("{name}_connlist_output.txt"));
        let want =
            std::fs::read_to_string(&expected_file).unwrap_or_else(|e| panic!("{}: {e}", expected_file.display()));
        match connlist(dir) {
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(got) => {
                let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
                if g != w {
                    failures.push(format!("{name}: {}", first_difference(&g, &w)));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} scenarios differ:\n{}", failures.len(), all.len(), failures.join("\n"));
}
