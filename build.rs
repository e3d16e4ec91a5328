//! Build script: records the git commit that `netfence --version` names.
//!
//! `NETFENCE_COMMIT` (set by release builds from a source archive, where there is no `.git`)
//! wins; otherwise `git rev-parse --short=12 HEAD`; otherwise `unknown`. The script reruns only
//! when the commit can have changed (HEAD, the branch it names, packed refs), not on every edit.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=NETFENCE_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    // Worktrees keep HEAD apart from the refs: ask git where each file lives.
    let branch = git(&["symbolic-ref", "-q", "HEAD"]);
    for name in ["HEAD", "packed-refs"].into_iter().map(String::from).chain(branch) {
        if let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", &name]) {
            if PathBuf::from(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    let commit = std::env::var("NETFENCE_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=NETFENCE_COMMIT={commit}");
}
