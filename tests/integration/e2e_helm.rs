//! netfence under the real Helm binaries (installed by scripts/setup-tools.sh): Helm 3's exec
//! post-renderer, Helm 4's `postrenderer/v1` plugin (functions/helm), failure propagation.
//! Each test uses its own scratch HELM_{DATA,CONFIG,CACHE}_HOME and no cluster.

use crate::util;
use crate::util::matih_ai::{self, CHART, NAMESPACE, VALUES};
use serde_json::Value;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where Helm 4 puts the generated documents (netfence names them after the chart).
const GENERATED_SOURCE: &str = "matih-ai/templates/netfence-generated.yaml";

/// `--post-renderer-args` for `netfence -n matih-ai -f <values>`: each value is one argv item.
fn post_renderer_args(values: &str) -> Vec<String> {
    ["-n", NAMESPACE, "-f", values].iter().map(|a| format!("--post-renderer-args={a}")).collect()
}

/// `helm template matih charts/matih-ai -n matih-ai --post-renderer <renderer> <args>`.
fn template(cmd: &mut Command, renderer: impl Into<OsString>, values: &str) -> Output {
    let mut post_renderer = OsString::from("--post-renderer=");
    post_renderer.push(renderer.into());
    util::run(
        cmd.args(["template", "matih", CHART, "-n", NAMESPACE]).arg(post_renderer).args(post_renderer_args(values)),
        b"",
    )
}

/// Splits a `helm template` stream into (`# Source:` path or "", parsed document).
fn documents_with_source(text: &str) -> Vec<(String, Value)> {
    let mut chunks = vec![String::new()];
    for line in text.lines() {
        if line == "---" {
            chunks.push(String::new());
        } else {
            let chunk = chunks.last_mut().unwrap();
            chunk.push_str(line);
            chunk.push('\n');
        }
    }
    chunks
        .iter()
        .filter(|chunk| chunk.lines().any(|l| !l.trim().is_empty() && !l.starts_with('#')))
        .map(|chunk| {
            let doc: Value = serde_saphyr::from_str(chunk).unwrap_or_else(|e| panic!("bad YAML ({e}):\n{chunk}"));
            let source = chunk.lines().find_map(|l| l.strip_prefix("# Source: ")).unwrap_or_default();
            (source.to_string(), doc)
        })
        .collect()
}

/// The chart's documents keep their template as `# Source:`; what netfence generated has `generated`.
fn check_sources(text: &str, generated: &str) {
    let docs = documents_with_source(text);
    assert_eq!(docs.len(), 6, "{text}");
    for (source, doc) in &docs {
        let name = format!("{} {}", doc["kind"], doc["metadata"]["name"]);
        if util::is_generated(doc) {
            assert_eq!(source, generated, "# Source: of generated {name}");
        } else {
            assert!(source.starts_with("matih-ai/templates/") && source != GENERATED_SOURCE, "{name}: {source}");
        }
    }
}

fn write_bad_values(dir: &Path) -> PathBuf {
    let bad = dir.join("typo-values.yaml");
    // `egres`: a typo netfence must refuse rather than silently render without the egress rules.
    std::fs::write(&bad, "netfence:\n  egres: []\n").unwrap();
    bad
}

/// A failed render must not leave anything on stdout that could be applied as manifests.
fn assert_failed_without_manifests(out: &Output, what: &str) {
    let stdout = util::text(&out.stdout);
    assert!(!out.status.success(), "{what} succeeded with a bad values file:\n{stdout}");
    assert!(!stdout.contains("apiVersion") && !stdout.contains("kind:"), "{what} printed manifests:\n{stdout}");
}

#[test]
fn helm3_post_renderer_adds_the_policies() {
    let Some(helm3) = util::tool("helm3") else { return };
    let home = util::scratch_dir("helm3-template");
    let out = template(&mut util::helm(&helm3, &home), util::netfence_bin(), VALUES);
    let text = util::ok(&out, "helm3 template");
    matih_ai::check_output(&matih_ai::parse_stream(text.as_bytes()));
    // Helm 3 prints the post-renderer's output verbatim: added documents have no `# Source:`.
    check_sources(&text, "");
}

#[test]
fn helm4_plugin_via_helm_plugins_adds_the_policies() {
    let Some(helm4) = util::tool("helm4") else { return };
    let home = util::scratch_dir("helm4-template");
    let out = template(
        util::helm(&helm4, &home).env("HELM_PLUGINS", util::repo_root().join("functions/helm")),
        "netfence",
        VALUES,
    );
    let text = util::ok(&out, "helm4 template");
    // functions/helm holds only the Helm plugin: no other plugin.yaml for Helm 4 to warn about.
    let stderr = util::text(&out.stderr);
    assert!(!stderr.contains("failed to load plugin"), "HELM_PLUGINS=functions/helm: {stderr}");
    matih_ai::check_output(&matih_ai::parse_stream(text.as_bytes()));
    // Helm 4 regroups the output by netfence's filename annotation, then strips it.
    check_sources(&text, GENERATED_SOURCE);
    assert!(!text.contains("generated-by-postrender"), "a document lacked the filename annotation:\n{text}");
    assert!(!text.contains("postrenderer.helm.sh/"), "Helm should have stripped the annotation:\n{text}");
}

#[test]
fn helm4_plugin_install_then_render() {
    let Some(helm4) = util::tool("helm4") else { return };
    let home = util::scratch_dir("helm4-plugin-install");
    let plugin_dir = util::repo_root().join("functions/helm/netfence");
    let out = util::run(util::helm(&helm4, &home).args(["plugin", "install"]).arg(&plugin_dir), b"");
    util::ok(&out, "helm4 plugin install functions/helm/netfence");

    let out = util::run(util::helm(&helm4, &home).args(["plugin", "list"]), b"");
    let list = util::ok(&out, "helm4 plugin list");
    let stderr = util::text(&out.stderr);
    assert!(!stderr.contains("failed to load plugin"), "plugin.yaml rejected by Helm 4: {stderr}");
    let line = list.lines().find(|l| l.split_whitespace().next() == Some("netfence"));
    let line = line.unwrap_or_else(|| panic!("netfence missing from helm plugin list:\n{list}"));
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert!(cols.contains(&"postrenderer/v1") && cols.contains(&"0.1.0"), "unexpected plugin list line: {line}");

    // Installed plugins are found without HELM_PLUGINS.
    let out = template(&mut util::helm(&helm4, &home), "netfence", VALUES);
    let text = util::ok(&out, "helm4 template with the installed plugin");
    matih_ai::check_output(&matih_ai::parse_stream(text.as_bytes()));
    check_sources(&text, GENERATED_SOURCE);
}

#[test]
fn helm4_install_dry_run_client_needs_no_cluster() {
    // Helm 3's `install --dry-run=client` still contacts the cluster, so only Helm 4 is tested.
    let Some(helm4) = util::tool("helm4") else { return };
    let home = util::scratch_dir("helm4-install-dry-run");
    let out = util::run(
        util::helm(&helm4, &home)
            .env("HELM_PLUGINS", util::repo_root().join("functions/helm"))
            .args(["install", "matih", CHART, "-n", NAMESPACE, "--dry-run=client", "--post-renderer", "netfence"])
            .args(post_renderer_args(VALUES)),
        b"",
    );
    let text = util::ok(&out, "helm4 install --dry-run=client");
    let manifest = text.split_once("\nMANIFEST:\n").map(|(_, m)| m).unwrap_or_else(|| panic!("no MANIFEST:\n{text}"));
    matih_ai::check_output(&matih_ai::parse_stream(manifest.as_bytes()));
}

#[test]
fn netfence_rejects_a_typo_in_values() {
    // The CLI contract Helm relies on: non-zero exit, one line on stderr, nothing on stdout.
    let dir = util::scratch_dir("typo-netfence");
    let bad = write_bad_values(&dir);
    let rendered = std::fs::read(util::repo_root().join("examples/matih-ai/rendered.yaml")).unwrap();
    let out = util::run(Command::new(util::netfence_bin()).arg("-f").arg(&bad), &rendered);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "stdout: {}", util::text(&out.stdout));
    let stderr = util::text(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line on stderr, got:\n{stderr}");
    assert!(stderr.contains("egres"), "the message should name the bad key: {stderr}");
}

#[test]
fn helm3_fails_when_netfence_fails() {
    let Some(helm3) = util::tool("helm3") else { return };
    let home = util::scratch_dir("helm3-typo");
    let bad = write_bad_values(&home);
    let out = template(&mut util::helm(&helm3, &home), util::netfence_bin(), bad.to_str().unwrap());
    assert_failed_without_manifests(&out, "helm3 template");
    // Helm 3 passes the post-renderer's stderr on in its error message.
    let stderr = util::text(&out.stderr);
    assert!(stderr.contains("post render") && stderr.contains("egres"), "helm3 stderr: {stderr}");
}

#[test]
fn helm4_fails_when_netfence_fails() {
    let Some(helm4) = util::tool("helm4") else { return };
    let home = util::scratch_dir("helm4-typo");
    let bad = write_bad_values(&home);
    let mut cmd = util::helm(&helm4, &home);
    let out =
        template(cmd.env("HELM_PLUGINS", util::repo_root().join("functions/helm")), "netfence", bad.to_str().unwrap());
    assert_failed_without_manifests(&out, "helm4 template");
    // Helm 4 swallows a plugin's stderr; it only says the post-renderer failed.
    let stderr = util::text(&out.stderr);
    assert!(stderr.contains("post render") && stderr.contains("netfence"), "helm4 stderr: {stderr}");
}

/// `helm template` with `netfence --check` and the chart's values, plus `extra` values files.
fn template_checked(cmd: &mut Command, renderer: impl Into<OsString>, extra: &[&Path]) -> Output {
    let mut post_renderer = OsString::from("--post-renderer=");
    post_renderer.push(renderer.into());
    cmd.args(["template", "matih", CHART, "-n", NAMESPACE]).arg(post_renderer).arg("--post-renderer-args=--check");
    cmd.args(post_renderer_args(VALUES));
    for file in extra {
        cmd.arg("--post-renderer-args=-f").arg(format!("--post-renderer-args={}", file.display()));
    }
    util::run(cmd, b"")
}

/// Values that leave DNS out: the chart's egress policies then block DNS (an NF002 error).
fn write_no_dns_values(dir: &Path) -> PathBuf {
    let file = dir.join("no-dns-values.yaml");
    std::fs::write(&file, "netfence:\n  dns: {enabled: false}\n").unwrap();
    file
}

#[test]
fn helm_fails_when_check_finds_an_error() {
    let helms: Vec<(PathBuf, bool)> =
        [("helm3", false), ("helm4", true)].iter().filter_map(|(n, p)| util::tool(n).map(|b| (b, *p))).collect();
    for (bin, plugin) in helms {
        let home = util::scratch_dir(&format!("check-{}", bin.file_name().unwrap().to_string_lossy()));
        let renderer: OsString = if plugin { "netfence".into() } else { util::netfence_bin().into() };
        let mut cmd = util::helm(&bin, &home);
        if plugin {
            cmd.env("HELM_PLUGINS", util::repo_root().join("functions/helm"));
        }
        // The chart's values: isolated, DNS allowed, nothing to report; Helm gets the manifests.
        let out = template_checked(&mut cmd, renderer.clone(), &[]);
        matih_ai::check_output(&matih_ai::parse_stream(util::ok(&out, "helm template with --check").as_bytes()));
        // DNS left out: an error finding, so Helm gets nothing to apply.
        let mut cmd = util::helm(&bin, &home);
        if plugin {
            cmd.env("HELM_PLUGINS", util::repo_root().join("functions/helm"));
        }
        let out = template_checked(&mut cmd, renderer, &[&write_no_dns_values(&home)]);
        assert_failed_without_manifests(&out, "helm template with --check and DNS off");
        if !plugin {
            // Helm 3 passes netfence's stderr on (Helm 4 hides it).
            let stderr = util::text(&out.stderr);
            assert!(stderr.contains("error NF002 dns-blocked: matih-ai/ai-service[Deployment]"), "{stderr}");
        }
    }
}
