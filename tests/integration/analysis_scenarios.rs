//! np-guard netpol-analyzer's scenarios as an independent oracle. For every expected output of
//! `../shared/corpus/netpol-analyzer` and `../shared/corpus/netpol-analyzer-more` (found by
//! listing `expected/`, so new outputs are checked the same way), netfence must print exactly
//! what np-guard printed for the same scenario directory and options, line for line:
//!
//! - `<dir>_connlist_output.txt`: `netfence matrix -o connlist DIR`;
//! - `<dir>_exposure_output.txt`: `netfence matrix --exposure DIR`;
//! - `<dir>_focus_workload_<w>[_<ingress|egress>][_with_<peer>]_{connlist,exposure}_output.txt`:
//!   `--focus-workload w [--focus-direction d] [--focus-workload-peer peer]` (several workloads
//!   are joined by `_`, and `ns/name` is written `ns_name`: each name is resolved against the
//!   scenario's workloads);
//! - `<dir>_<proto>-<port>_{connlist,exposure}_output.txt`: `--focus-conn proto-port`.
//!
//! `NETFENCE_SCENARIOS=DIR[:DIR…]` adds more corpora of the same layout (`DIR/tests/<scenario>/`,
//! `DIR/expected/`), e.g. np-guard's whole published suite. The scenarios netfence's own
//! AdminNetworkPolicy tests add are in `tests/fixtures/analysis/admin/` (same layout).

use crate::util;
use netfence::analysis::topology::{Input, Topology};
use std::path::{Path, PathBuf};

fn shared(name: &str) -> PathBuf {
    util::shared_dir().join("corpus").join(name)
}

/// One expected output and the netfence arguments that should reproduce it.
#[derive(Debug)]
struct Case {
    name: String,
    expected: PathBuf,
    args: Vec<String>,
}

/// The scenario directories of a corpus, longest name first (so that `a_b` wins over `a`).
fn scenarios(corpus: &Path) -> Vec<String> {
    let tests = corpus.join("tests");
    let mut dirs: Vec<String> = std::fs::read_dir(&tests)
        .unwrap_or_else(|e| panic!("{}: {e}", tests.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    dirs.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    dirs
}

/// Workload names np-guard's file names may use: `name` and `ns_name`, mapped to the
/// `--focus-workload` argument.
fn workload_names(dir: &Path) -> Vec<(String, String)> {
    let inputs = Input::read_all(&[dir.to_path_buf()]).unwrap();
    let t = Topology::load(&inputs, "default").unwrap();
    let mut out = Vec::new();
    for w in &t.workloads {
        out.push((format!("{}_{}", w.namespace, w.name), format!("{}/{}", w.namespace, w.name)));
        out.push((w.name.clone(), w.name.clone()));
    }
    out
}

/// Splits `a_b_c` into workload arguments, preferring `ns_name` pairs.
fn resolve_workloads(text: &str, names: &[(String, String)]) -> Option<Vec<String>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    for (written, arg) in names {
        if text == written {
            return Some(vec![arg.clone()]);
        }
        if let Some(rest) = text.strip_prefix(&format!("{written}_")) {
            if let Some(mut more) = resolve_workloads(rest, names) {
                more.insert(0, arg.clone());
                return Some(more);
            }
        }
    }
    None
}

/// The case an expected output file stands for.
fn case(corpus: &Path, dirs: &[String], file: &str) -> Option<Case> {
    let (stem, exposure) = match (file.strip_suffix("_connlist_output.txt"), file.strip_suffix("_exposure_output.txt"))
    {
        (Some(s), _) => (s, false),
        (_, Some(s)) => (s, true),
        _ => return None,
    };
    let dir = dirs.iter().find(|d| stem == d.as_str() || stem.starts_with(&format!("{d}_")))?;
    let path = corpus.join("tests").join(dir);
    let options = stem[dir.len()..].trim_start_matches('_');
    let mut args: Vec<String> = vec!["matrix".into()];
    args.push(if exposure { "--exposure".into() } else { "-o".into() });
    if !exposure {
        args.push("connlist".into());
    }
    if let Some(focus) = options.strip_prefix("focus_workload_") {
        let (focus, peer) = match focus.split_once("_with_") {
            Some((f, p)) => (f, Some(p)),
            None => (focus, None),
        };
        let (focus, direction) = match (focus.strip_suffix("_ingress"), focus.strip_suffix("_egress")) {
            (Some(f), _) => (f, Some("ingress")),
            (_, Some(f)) => (f, Some("egress")),
            _ => (focus, None),
        };
        let names = workload_names(&path);
        let workloads = resolve_workloads(focus, &names)?;
        args.push("--focus-workload".into());
        args.push(workloads.join(","));
        if let Some(d) = direction {
            args.extend(["--focus-direction".into(), d.into()]);
        }
        if let Some(p) = peer {
            args.extend(["--focus-workload-peer".into(), resolve_workloads(p, &names)?.join(",")]);
        }
    } else if !options.is_empty() {
        let (proto, port) = options.split_once('-')?;
        port.parse::<u16>().ok()?;
        args.extend(["--focus-conn".into(), format!("{proto}-{port}")]);
    }
    args.push(path.display().to_string());
    Some(Case { name: file.to_string(), expected: corpus.join("expected").join(file), args })
}

fn cases(corpus: &Path) -> Vec<Case> {
    let dirs = scenarios(corpus);
    let mut files: Vec<String> = std::fs::read_dir(corpus.join("expected"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    files.sort();
    files.iter().map(|f| case(corpus, &dirs, f).unwrap_or_else(|| panic!("{f}: no scenario or options"))).collect()
}

fn run(args: &[String]) -> Result<String, String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = util::netfence(&args, b"");
    if !out.status.success() {
        return Err(format!("exit {:?}: {}", out.status.code(), util::text(&out.stderr)));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// Runs every case; returns the failures.
fn check(cases: &[Case]) -> Vec<String> {
    let mut failures = Vec::new();
    for c in cases {
        let want = std::fs::read_to_string(&c.expected).unwrap_or_else(|e| panic!("{}: {e}", c.expected.display()));
        match run(&c.args) {
            Err(e) => failures.push(format!("{}: {e}", c.name)),
            Ok(got) => {
                if !got.lines().eq(want.lines()) {
                    let difference = util::first_difference(want.as_bytes(), got.as_bytes());
                    failures.push(format!("{} ({}): {difference}", c.name, c.args.join(" ")));
                }
            }
        }
    }
    failures
}

fn extra_corpora() -> Vec<PathBuf> {
    std::env::var("NETFENCE_SCENARIOS")
        .unwrap_or_default()
        .split(':')
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .collect()
}

#[test]
fn every_np_guard_connlist_scenario_matches_line_for_line() {
    let mut all = cases(&shared("netpol-analyzer"));
    assert!(all.len() >= 22, "expected the 22 scenarios, found {}", all.len());
    for extra in extra_corpora() {
        all.extend(cases(&extra));
    }
    let failures = check(&all);
    assert!(failures.is_empty(), "{} of {} outputs differ:\n{}", failures.len(), all.len(), failures.join("\n"));
}

#[test]
fn admin_policies_exposure_and_focus_match_np_guard() {
    let all = cases(&shared("netpol-analyzer-more"));
    let count = |f: &dyn Fn(&Case) -> bool| all.iter().filter(|c| f(c)).count();
    // 14 AdminNetworkPolicy / BaselineAdminNetworkPolicy scenarios, 13 exposure and 7 focus outputs.
    assert!(count(&|c| c.name.starts_with("anp_") || c.name.starts_with("banp_") || c.name.contains("_anp_")) >= 14);
    assert!(count(&|c| c.args.contains(&"--exposure".to_string())) >= 13);
    assert!(count(&|c| c.args.iter().any(|a| a.starts_with("--focus"))) >= 7);
    let failures = check(&all);
    assert!(failures.is_empty(), "{} of {} outputs differ:\n{}", failures.len(), all.len(), failures.join("\n"));
}

#[test]
fn netfence_admin_policy_scenarios() {
    let root = util::analysis_fixture("admin");
    let all = cases(&root);
    assert!(all.len() >= 10, "found {}", all.len());
    let failures = check(&all);
    assert!(failures.is_empty(), "{} of {} outputs differ:\n{}", failures.len(), all.len(), failures.join("\n"));
}

#[test]
fn file_names_map_to_options() {
    let names = vec![
        ("backend_recommendation".to_string(), "backend/recommendation".to_string()),
        ("recommendation".to_string(), "recommendation".to_string()),
        ("myfoo".to_string(), "myfoo".to_string()),
        ("mybar".to_string(), "mybar".to_string()),
    ];
    assert_eq!(resolve_workloads("backend_recommendation", &names), Some(vec!["backend/recommendation".into()]));
    assert_eq!(resolve_workloads("myfoo_mybar", &names), Some(vec!["myfoo".into(), "mybar".into()]));
    assert_eq!(resolve_workloads("nothing", &names), None);
}
