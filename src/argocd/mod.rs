//! The Argo CD Config Management Plugin (`functions/argocd/plugin.yaml`): `netfence argocd
//! init|generate|discover`, run by argocd-cmp-server in the app directory with Argo CD's
//! environment.
//!
//! `generate` renders the app with `helm template` (a `Chart.yaml`) or `kustomize build` /
//! `kubectl kustomize` (a kustomization), pipes the result through `netfence render` and prints
//! it only when every step succeeded. It lives here rather than in a shell script because the
//! sidecar image has no shell (it is built `FROM scratch`), and because every string an
//! Application controls must be checked before Helm sees it: settings are parsed against
//! allow-lists ([`helm_args`]), paths confined to the app directory ([`paths`]), and every
//! argument reaches Helm as one argv item (no shell, no word splitting, `--` before the
//! release and chart).
//!
//! Settings (`spec.source.plugin.env`, seen as `ARGOCD_ENV_<name>`): `VALUE_FILES` (Helm and
//! netfence), `NETFENCE_VALUE_FILES` (netfence only), `HELM_ARGS`, `RELEASE_NAME`,
//! `CHART_PATH`, `NETFENCE` (discovery opt-in). Argo CD's own: `ARGOCD_APP_NAME`,
//! `ARGOCD_APP_NAMESPACE`, `KUBE_VERSION`, `KUBE_API_VERSIONS`. The release (`RELEASE_NAME`,
//! else the app name) is also what netfence names its objects for (`--release`).

pub mod helm_args;
pub mod paths;

use crate::error::{Error, Result};
use paths::{confine, Expect};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Files that make a directory a kustomization, in kustomize's order.
const KUSTOMIZATIONS: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The app directory argocd-cmp-server runs the commands in (the current one), canonical.
pub fn app_dir() -> Result<PathBuf> {
    std::env::current_dir()
        .and_then(|d| d.canonicalize())
        .map_err(|source| Error::Io { what: "the app directory".into(), source })
}

/// An `ARGOCD_ENV_<name>` setting, trimmed; empty counts as unset.
fn setting(name: &str) -> Option<String> {
    std::env::var(format!("ARGOCD_ENV_{name}")).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// The chart or kustomization directory: `CHART_PATH` confined to the app directory.
fn source_dir(app_dir: &Path) -> Result<PathBuf> {
    let raw = setting("CHART_PATH").unwrap_or_else(|| ".".into());
    confine(app_dir, &raw, "CHART_PATH", Expect::Dir)
}

/// A comma-separated list of values files, each confined to the app directory.
fn value_files(app_dir: &Path, name: &str) -> Result<Vec<PathBuf>> {
    let Some(raw) = setting(name) else { return Ok(Vec::new()) };
    raw.split(',').map(str::trim).filter(|f| !f.is_empty()).map(|f| confine(app_dir, f, name, Expect::File)).collect()
}

fn is_kustomization(dir: &Path) -> bool {
    KUSTOMIZATIONS.iter().any(|f| dir.join(f).is_file())
}

/// `discover.find`: the file that makes the app netfence's (`Chart.yaml` or the
/// kustomization), if it opted in with `NETFENCE=true` or a `.netfence` file; else `None`.
pub fn discover(app_dir: &Path) -> Option<&'static str> {
    let opted_in = setting("NETFENCE").is_some_and(|v| v == "true") || app_dir.join(".netfence").exists();
    if !opted_in {
        return None;
    }
    std::iter::once("Chart.yaml").chain(KUSTOMIZATIONS.iter().copied()).find(|f| app_dir.join(f).is_file())
}

/// `init`: `helm dependency build` when Chart.yaml declares dependencies that are not vendored
/// under `charts/`. Helm's output goes to stderr (Argo CD ignores init's stdout).
pub fn init(app_dir: &Path) -> Result<()> {
    let dir = source_dir(app_dir)?;
    let chart = dir.join("Chart.yaml");
    let Ok(text) = std::fs::read_to_string(&chart) else { return Ok(()) };
    let declared: serde_json::Value =
        serde_saphyr::from_str(&text).map_err(|e| Error::config("Chart.yaml", format!("invalid YAML: {e}")))?;
    let has_dependencies = declared["dependencies"].as_array().is_some_and(|d| !d.is_empty());
    let vendored = std::fs::read_dir(dir.join("charts")).is_ok_and(|mut entries| entries.next().is_some());
    if !has_dependencies || vendored {
        return Ok(());
    }
    let mut helm = Command::new("helm");
    helm.arg("dependency").arg("build").arg("--").arg(&dir);
    let out = run_tool(&mut helm, "helm dependency build", None)?;
    let _ = std::io::stderr().write_all(&out);
    Ok(())
}

/// `generate`: the rendered app with netfence's policies, as bytes for stdout.
pub fn generate(app_dir: &Path) -> Result<Vec<u8>> {
    let namespace = std::env::var("ARGOCD_APP_NAMESPACE").unwrap_or_default();
    if namespace.is_empty() {
        return Err(Error::config(
            "ARGOCD_APP_NAMESPACE",
            "is not set: give the Application a destination namespace (it places the objects and the policies)",
        ));
    }
    check_dns_label(&namespace, "ARGOCD_APP_NAMESPACE", 63)?;
    let dir = source_dir(app_dir)?;
    // The Helm release, and the release netfence names its objects for (so that two apps in
    // one namespace never render the same object).
    let release = release_name()?;
    let helm_release =
        || release.clone().ok_or_else(|| Error::config("ARGOCD_APP_NAME", "is not set: no release name"));
    let values = value_files(app_dir, "VALUE_FILES")?;
    let netfence_values = value_files(app_dir, "NETFENCE_VALUE_FILES")?;

    let rendered = if is_kustomization(&dir) {
        // kustomize takes nothing from the Application but the directory.
        let mut cmd = if find_on_path("kustomize") {
            let mut c = Command::new("kustomize");
            c.arg("build");
            c
        } else {
            let mut c = Command::new("kubectl");
            c.arg("kustomize");
            c
        };
        cmd.arg(&dir);
        run_tool(&mut cmd, "kustomize build", None)?
    } else if dir.join("Chart.yaml").is_file() {
        let helm_args = helm_args::parse(&setting("HELM_ARGS").unwrap_or_default(), app_dir)?;
        let mut cmd = Command::new("helm");
        cmd.args(helm_template_args(&namespace, &values, &helm_args)?).arg("--").arg(helm_release()?).arg(&dir);
        run_tool(&mut cmd, "helm template", None)?
    } else {
        return Err(Error::config(
            "CHART_PATH",
            format!("{} has neither a Chart.yaml nor a kustomization", dir.display()),
        ));
    };

    let netfence = std::env::current_exe().map_err(|source| Error::Io { what: "finding netfence".into(), source })?;
    let mut cmd = Command::new(netfence);
    cmd.arg("render").arg(format!("--namespace={namespace}"));
    if let Some(release) = &release {
        cmd.arg(format!("--release={release}"));
    }
    for file in values.iter().chain(&netfence_values) {
        cmd.arg("--values").arg(file);
    }
    run_tool(&mut cmd, "netfence render", Some(rendered))
}

/// `helm template` flags before `--`: namespace, Argo CD's cluster facts, values files, then
/// the Application's allowed flags (which may override the cluster facts).
fn helm_template_args(namespace: &str, values: &[PathBuf], extra: &[String]) -> Result<Vec<String>> {
    let mut args = vec!["template".to_string(), format!("--namespace={namespace}")];
    if let Some(v) = std::env::var("KUBE_VERSION").ok().filter(|v| !v.is_empty()) {
        args.push(format!("--kube-version={v}"));
    }
    if let Some(v) = std::env::var("KUBE_API_VERSIONS").ok().filter(|v| !v.is_empty()) {
        args.push(format!("--api-versions={v}"));
    }
    args.extend(values.iter().map(|f| format!("--values={}", f.display())));
    args.extend(extra.iter().cloned());
    Ok(args)
}

/// The Helm release: `RELEASE_NAME`, else the app name without the `<namespace>_` prefix Argo
/// CD gives apps outside its own namespace; `None` when neither is set. Checked as Helm checks
/// release names.
fn release_name() -> Result<Option<String>> {
    let (name, from) = match setting("RELEASE_NAME") {
        Some(name) => (name, "RELEASE_NAME"),
        None => {
            let app = std::env::var("ARGOCD_APP_NAME").unwrap_or_default();
            (app.rsplit('_').next().unwrap_or_default().to_string(), "ARGOCD_APP_NAME")
        }
    };
    if name.is_empty() {
        return Ok(None);
    }
    check_dns_label(&name, from, 53)?;
    Ok(Some(name))
}

/// A DNS-1123 subdomain-style name (lower-case alphanumerics, `-`, `.`), at most `max` long:
/// the rule Kubernetes has for namespaces and Helm for release names. Anything else is refused
/// before it reaches Helm (a name starting with `-` would be a flag).
fn check_dns_label(name: &str, what: &str, max: usize) -> Result<()> {
    let valid = name.len() <= max
        && name.split('.').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        });
    if valid {
        Ok(())
    } else {
        Err(Error::config(
            what,
            format!("{name:?} is not a valid name (lower-case letters, digits, '-', '.', at most {max} characters)"),
        ))
    }
}

fn find_on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Runs a tool, feeding `stdin`, and returns its stdout; its stderr goes to ours (Argo CD
/// shows it when the command fails). A failure is an error naming the tool.
fn run_tool(cmd: &mut Command, what: &str, stdin: Option<Vec<u8>>) -> Result<Vec<u8>> {
    let io = |source| Error::Io { what: format!("running {what}"), source };
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().map_err(io)?;
    // Feed stdin from a thread, so a child writing much before reading cannot deadlock us.
    let writer = match (stdin, child.stdin.take()) {
        (Some(input), Some(mut pipe)) => Some(std::thread::spawn(move || {
            // The child may exit without reading everything; its exit status says why.
            let _ = pipe.write_all(&input);
        })),
        _ => None,
    };
    let output = child.wait_with_output().map_err(io)?;
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    if !output.status.success() {
        return Err(Error::config(what, format!("failed ({}); its message is above", output.status)));
    }
    Ok(output.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_like_kubernetes_and_helm_do() {
        for ok in ["shop", "my-app", "a.b-c", "x1"] {
            check_dns_label(ok, "n", 53).unwrap();
        }
        for bad in ["", "-x", "--post-renderer=/bin/sh", "Shop", "a_b", "a..b", "x-", &"a".repeat(54), "a b"] {
            assert!(check_dns_label(bad, "n", 53).is_err(), "{bad:?}");
        }
    }
}
