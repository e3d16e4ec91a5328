//! Golden tests, one directory per transform: `tests/golden/<transform>/<case>/` holds
//! `input.yaml`, optionally `values.yaml` and `args` (`-n NS`), and `expected.yaml`, the exact
//! bytes `netfence render` must write. `UPDATE_GOLDEN=1 cargo test --profile ci --test integration golden::`
//! rewrites the expected files (review each one before committing it).
//!
//! Every case is also rendered a second time from its expected output, which must not change:
//! each golden file doubles as an idempotence check. A case with `report.json` also checks the
//! change report (`render --report`) byte for byte.

use crate::util;
use netfence::config::{values, Config};
use netfence::run::RenderOptions;
use std::path::{Path, PathBuf};

fn golden_root() -> PathBuf {
    util::repo_root().join("tests/golden")
}

/// The options of a case: `values.yaml` through the real values loader, `-n`/`--namespace` from `args`.
fn options(case: &Path) -> RenderOptions {
    let values_file = case.join("values.yaml");
    let config = if values_file.exists() {
        values::load(&[&values_file]).unwrap_or_else(|e| panic!("{}: {e}", values_file.display()))
    } else {
        Config::default()
    };
    let mut namespace = "default".to_string();
    if let Ok(args) = std::fs::read_to_string(case.join("args")) {
        let words: Vec<&str> = args.split_whitespace().collect();
        let mut i = 0;
        while i < words.len() {
            match words[i] {
                "-n" | "--namespace" if i + 1 < words.len() => {
                    namespace = words[i + 1].to_string();
                    i += 2;
                }
                other => panic!("{}: unsupported argument {other:?} in args", case.display()),
            }
        }
    }
    RenderOptions { namespace: namespace.into(), config, release: None }
}

/// Runs every case of one transform directory; returns the number of cases.
fn run_transform(transform: &str) -> usize {
    let dir = golden_root().join(transform);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no golden cases in {}", dir.display());
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v != "0");
    let mut failures = Vec::new();
    for case in &cases {
        let name = format!("{transform}/{}", case.file_name().unwrap().to_string_lossy());
        let input = std::fs::read(case.join("input.yaml")).unwrap_or_else(|e| panic!("{name}/input.yaml: {e}"));
        let options = options(case);
        let actual = match util::render_bytes(&input, &options) {
            Ok(out) => out,
            Err(e) => {
                failures.push(format!("{name}: render failed: {e}"));
                continue;
            }
        };
        let expected_file = case.join("expected.yaml");
        if update {
            std::fs::write(&expected_file, &actual).unwrap_or_else(|e| panic!("{name}/expected.yaml: {e}"));
        }
        let Ok(expected) = std::fs::read(&expected_file) else {
            failures.push(format!("{name}: no expected.yaml (create it with UPDATE_GOLDEN=1, then review it)"));
            continue;
        };
        if actual != expected {
            failures.push(format!(
                "{name}: output differs from expected.yaml; {}",
                util::first_difference(&expected, &actual)
            ));
            continue;
        }
        let report_file = case.join("report.json");
        if report_file.exists() {
            let extras = netfence::run::render::Extras { report: true, check: false };
            let report = netfence::run::render::render_with(&input, &options, extras)
                .map(|r| r.report.map(|r| r.to_json()).unwrap_or_default())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            if update {
                std::fs::write(&report_file, &report).unwrap_or_else(|e| panic!("{name}/report.json: {e}"));
            }
            let expected_report = std::fs::read_to_string(&report_file).unwrap_or_default();
            if report != expected_report {
                failures.push(format!(
                    "{name}: report differs from report.json; {}",
                    util::first_difference(expected_report.as_bytes(), report.as_bytes())
                ));
            }
        }
        match util::render_bytes(&expected, &options) {
            Ok(again) if again == expected => {}
            Ok(again) => {
                failures.push(format!("{name}: not idempotent; {}", util::first_difference(&expected, &again)))
            }
            Err(e) => failures.push(format!("{name}: rendering the expected output failed: {e}")),
        }
    }
    assert!(failures.is_empty(), "{} of {} golden cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    cases.len()
}

#[test]
fn golden_dns() {
    run_transform("dns");
}

#[test]
fn golden_egress_merge() {
    run_transform("egress_merge");
}

#[test]
fn golden_default_deny() {
    run_transform("default_deny");
}

#[test]
fn golden_stream() {
    run_transform("stream");
}

/// The transforms without a test of their own above (added by other transforms' authors): every
/// directory under `tests/golden/` is run, so a new one is never silently skipped.
#[test]
fn golden_other_transforms() {
    const OWN: &[&str] = &["default_deny", "dns", "egress_merge", "stream"];
    let mut dirs: Vec<String> = std::fs::read_dir(golden_root())
        .expect("tests/golden")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|d| !OWN.contains(&d.as_str()))
        .collect();
    dirs.sort();
    for dir in dirs {
        run_transform(&dir);
    }
}
