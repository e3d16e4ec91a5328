//! `HELM_ARGS`: the few `helm template` flags an Application may add, parsed against an
//! allow-list and handed on as single `--flag=value` argv items.
//!
//! Free-form Helm flags from an Application are code execution in the sidecar
//! (`--post-renderer=/bin/sh` under Helm 3), file disclosure (`--set-file`, `--values
//! /var/run/secrets/…`, `--kubeconfig`), requests to any address (`--repo`, URL values files)
//! or writes (`--output-dir`). Only flags that change values or the rendering are allowed;
//! values files go through [`super::paths::confine`]. The words are split like a POSIX shell
//! would (quotes group, nothing is expanded), but no shell ever sees them.

use super::paths::{confine, Expect};
use crate::error::{Error, Result};
use std::path::Path;

/// Flags that take a value and are passed on as `--flag=value`.
const WITH_VALUE: &[&str] = &[
    "--set",
    "--set-string",
    "--set-json",
    "--set-literal",
    "--version",
    "--kube-version",
    "--api-versions",
    "--show-only",
];

/// Flags without a value (`--flag` or `--flag=true|false`).
const SWITCHES: &[&str] = &[
    "--include-crds",
    "--skip-crds",
    "--skip-tests",
    "--no-hooks",
    "--is-upgrade",
    "--devel",
    "--skip-schema-validation",
    "--disable-openapi-validation",
];

/// Short forms accepted as their long flag.
fn long_form(flag: &str) -> &str {
    match flag {
        "-f" => "--values",
        "-a" => "--api-versions",
        "-s" => "--show-only",
        other => other,
    }
}

/// The setting's name in error messages.
const SETTING: &str = "HELM_ARGS";

/// Parses `HELM_ARGS` into `helm template` arguments: each allowed flag as one `--flag=value`
/// item, values files confined to `app_dir` (canonical) and given as canonical paths.
pub fn parse(raw: &str, app_dir: &Path) -> Result<Vec<String>> {
    let words = shlex::split(raw).ok_or_else(|| Error::config(SETTING, "unbalanced quotes or a trailing backslash"))?;
    let allowed = || {
        let mut all: Vec<&str> = WITH_VALUE.iter().chain(SWITCHES).copied().collect();
        all.push("--values/-f");
        all.join(", ")
    };
    let mut out = Vec::new();
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        if !word.starts_with('-') || word == "-" || word == "--" {
            return Err(Error::config(
                SETTING,
                format!("{word:?} is not a flag: the chart and release come from the app, not from HELM_ARGS"),
            ));
        }
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) => (long_form(flag).to_string(), Some(value.to_string())),
            None => (long_form(&word).to_string(), None),
        };
        if SWITCHES.contains(&flag.as_str()) {
            match inline.as_deref() {
                None => out.push(flag),
                Some(v @ ("true" | "false")) => out.push(format!("{flag}={v}")),
                Some(v) => return Err(Error::config(SETTING, format!("{flag} takes no value (got {v:?})"))),
            }
            continue;
        }
        let takes_value = flag == "--values" || WITH_VALUE.contains(&flag.as_str());
        if !takes_value {
            return Err(Error::config(
                SETTING,
                format!("{word:?} is not allowed: only these helm template flags are ({})", allowed()),
            ));
        }
        let value = match inline {
            Some(value) => value,
            None => words.next().ok_or_else(|| Error::config(SETTING, format!("{flag} needs a value")))?,
        };
        if value.is_empty() || value.starts_with('-') {
            return Err(Error::config(SETTING, format!("{flag} needs a value (got {value:?})")));
        }
        if flag == "--values" {
            let file = confine(app_dir, &value, SETTING, Expect::File)?;
            out.push(format!("--values={}", file.display()));
        } else {
            out.push(format!("{flag}={value}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("netfence-helm-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("prod.yaml"), "a: 1\n").unwrap();
        dir.canonicalize().unwrap()
    }

    #[test]
    fn allowed_flags_become_single_items() {
        let d = dir();
        let args = parse(
            "--set image.tag=1.27.1 --set-string 'a=b c' --include-crds --version=1.2.3 -f prod.yaml \
             --api-versions monitoring.coreos.com/v1 --skip-tests=false",
            &d,
        )
        .unwrap();
        assert_eq!(
            args,
            [
                "--set=image.tag=1.27.1".to_string(),
                "--set-string=a=b c".into(),
                "--include-crds".into(),
                "--version=1.2.3".into(),
                format!("--values={}", d.join("prod.yaml").display()),
                "--api-versions=monitoring.coreos.com/v1".into(),
                "--skip-tests=false".into(),
            ]
        );
        assert!(parse("", &d).unwrap().is_empty());
        assert!(parse("  ", &d).unwrap().is_empty());
    }

    #[test]
    fn everything_else_is_refused() {
        let d = dir();
        for (raw, why) in [
            ("--post-renderer=/bin/sh", "not allowed"),
            ("--post-renderer /bin/sh", "not allowed"),
            ("--set-file=t=/var/run/secrets/kubernetes.io/serviceaccount/token", "not allowed"),
            ("--values /etc/passwd", "absolute"),
            ("-f=../x", "`..`"),
            ("-f https://169.254.169.254/latest/meta-data/", "URL"),
            ("--repo https://evil.example", "not allowed"),
            ("--output-dir /tmp/x", "not allowed"),
            ("--kubeconfig /etc/kubernetes/admin.conf", "not allowed"),
            ("--enable-dns", "not allowed"),
            ("--dependency-update", "not allowed"),
            ("-n kube-system", "not allowed"),
            ("--set", "needs a value"),
            ("--set --post-renderer=/bin/sh", "needs a value"),
            ("--include-crds=/bin/sh", "takes no value"),
            ("mychart", "not a flag"),
            ("-- --post-renderer=x", "not a flag"),
            ("--set 'a=b", "unbalanced"),
        ] {
            let msg = parse(raw, &d).unwrap_err().to_string();
            assert!(msg.starts_with("HELM_ARGS: ") && msg.contains(why), "{raw}: {msg}");
        }
    }
}
