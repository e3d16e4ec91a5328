//! Helpers shared by the integration tests (`mod common;` in each test file).
//!
//! External tools (Helm 3/4, kubectl, kpt, IBM NCA) are installed by `scripts/setup-tools.sh`
//! into `.tools/`, which also writes `.tools/env.sh` with their `NETFENCE_*` paths. A test that
//! needs a missing tool is skipped with a visible line on stderr, except under `CI=true`, where a
//! missing tool is a failure: CI must never pass by running nothing.

// Each test crate uses only some of these helpers.
#![allow(dead_code)]

pub mod matih_ai;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The `netfence` binary Cargo built for this test run.
pub fn netfence_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_netfence"))
}

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `<repo>/../shared`: the project's shared documents and seeds (present beside the repo in CI).
pub fn shared_dir() -> PathBuf {
    repo_root().join("..").join("shared")
}

/// Whether we run under CI (`CI=true`), where skipping is not allowed.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The path of an external tool: `helm3`, `helm4`, `kubectl`, `kpt` or `nca`.
///
/// Looks at `NETFENCE_<NAME>` (set by `.tools/env.sh`), then at the default install location in
/// `.tools/`. When the tool is not there: panics under `CI=true`, otherwise prints
/// `SKIP: <tool> not installed, run scripts/setup-tools.sh` and returns `None`, so a test can
/// `let Some(helm) = common::tool("helm4") else { return };`.
pub fn tool(name: &str) -> Option<PathBuf> {
    let var = format!("NETFENCE_{}", name.to_uppercase());
    let fallback = match name {
        "nca" => repo_root().join(".tools/nca/bin/nca"),
        _ => repo_root().join(".tools/bin").join(name),
    };
    let found = std::env::var_os(&var).map(PathBuf::from).into_iter().chain([fallback]).find(|p| p.is_file());
    if found.is_none() {
        assert!(!in_ci(), "{name} not installed (CI=true): run scripts/setup-tools.sh (or set {var})");
        // Straight to the process's stderr: libtest captures eprintln! of passing tests.
        let line = format!("SKIP: {name} not installed, run scripts/setup-tools.sh\n");
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
    found
}

/// Runs `cmd` with `stdin` as its standard input and returns its output (stdout and stderr
/// captured). Panics only if the program cannot be started.
pub fn run(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd.get_program()));
    // Feed stdin from a thread: a child that writes a lot before reading would otherwise deadlock.
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // A child that exits without reading everything closes the pipe: not our error.
        let _ = pipe.write_all(&input);
    });
    let output = child.wait_with_output().expect("wait for child");
    writer.join().expect("stdin writer thread");
    output
}

/// A fresh, empty directory for one test under Cargo's per-target temp dir (`target/tmp`).
/// The name is made unique per process and call, so tests running in parallel never share one.
pub fn scratch_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// Output as text, for assertion messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory of symlinks `name -> target`, to put first on `PATH` for tools that find
/// programs by name (kpt's and kustomize's exec functions, the kustomize plugin, Argo CD's
/// plugin commands). Returns the directory.
pub fn bin_dir(name: &str, links: &[(&str, &Path)]) -> PathBuf {
    let dir = scratch_dir(name);
    for (link, target) in links {
        std::os::unix::fs::symlink(target, dir.join(link))
            .unwrap_or_else(|e| panic!("symlink {link} -> {}: {e}", target.display()));
    }
    dir
}
