//! Both seed documents end to end: examples/dashi (seed 2, the namespace policy matrix) and
//! examples/matih (seed 1, per-service egress), rendered by the real chart, transformed by
//! netfence, and checked against IBM network-config-analyzer as an independent oracle.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const EXAMPLES: &[&str] = &["dashi", "matih"];

fn example(name: &str) -> PathBuf {
    common::repo_root().join("examples").join(name)
}

fn netfence(args: &[&str], stdin: &[u8]) -> std::process::Output {
    common::run(Command::new(common::netfence_bin()).args(args), stdin)
}

fn render_example(name: &str) -> Vec<u8> {
    let dir = example(name);
    let input = std::fs::read(dir.join("rendered.yaml")).unwrap();
    let out = netfence(&["-f", dir.join("values.yaml").to_str().unwrap()], &input);
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn examples_match_their_expected_output_and_are_idempotent() {
    for name in EXAMPLES {
        let dir = example(name);
        let out = render_example(name);
        let expected = std::fs::read(dir.join("expected.yaml")).unwrap();
        assert!(out == expected, "{name}: netfence output differs from examples/{name}/expected.yaml");
        let again = netfence(&["-f", dir.join("values.yaml").to_str().unwrap()], &out);
        assert!(again.stdout == out, "{name}: a second run changed the output");
    }
}

#[test]
fn rendered_inputs_are_what_the_chart_renders() {
    let Some(helm) = common::tool("helm4") else { return };
    for name in EXAMPLES {
        let dir = example(name);
        let home = common::scratch_dir(&format!("seeds-helm-{name}"));
        let out = common::run(
            Command::new(&helm)
                .args(["template", name, "charts/platform-demo", "-f"])
                .arg(dir.join("values.yaml"))
                .current_dir(common::repo_root())
                .env("HELM_DATA_HOME", home.join("data"))
                .env("HELM_CONFIG_HOME", home.join("config"))
                .env("HELM_CACHE_HOME", home.join("cache")),
            b"",
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let rendered = std::fs::read(dir.join("rendered.yaml")).unwrap();
        assert!(out.stdout == rendered, "{name}: rendered.yaml is stale; re-run helm template");
    }
}

/// The lines of an NCA connectivity listing that involve one of the example's namespaces.
fn nca_connectivity(nca: &Path, manifests: &[u8], prefix: &str) -> Vec<String> {
    let dir = common::scratch_dir(&format!("seeds-nca-{prefix}"));
    std::fs::write(dir.join("netfence-output.yaml"), manifests).unwrap();
    std::fs::copy(common::repo_root().join("tests/fixtures/kube-system.yaml"), dir.join("kube-system.yaml")).unwrap();
    let out = Command::new(nca)
        .args(["--connectivity", "-r"])
        .arg(&dir)
        .args(["-o", "txt_no_fw_rules"])
        .stdin(Stdio::null())
        .output()
        .expect("run nca");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    // NCA's "livesim" would invent a kube-dns pod and hide a DNS rule that selects nothing.
    assert!(!text.contains("Found missing elements"), "NCA had to invent missing elements:\n{text}");
    assert!(text.contains("global: cluster has"), "NCA did not analyse the input:\n{text}");
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.contains(" => ") && l.contains(prefix) && !l.contains("Warning"))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn nca_sees_exactly_the_intended_connectivity() {
    let Some(nca) = common::tool("nca") else { return };
    for name in EXAMPLES {
        let out = render_example(name);
        let got = nca_connectivity(nca.as_path(), &out, &format!("{name}-"));
        let intent = std::fs::read_to_string(example(name).join("connectivity.txt")).unwrap();
        let mut want: Vec<String> =
            intent.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).map(str::to_string).collect();
        want.sort();
        let missing: Vec<_> = want.iter().filter(|l| !got.contains(l)).collect();
        let extra: Vec<_> = got.iter().filter(|l| !want.contains(l)).collect();
        assert!(missing.is_empty() && extra.is_empty(), "{name}: missing {missing:#?}\nunexpected {extra:#?}");
    }
}

#[test]
fn without_netfence_everything_is_open() {
    // The oracle can tell the difference: the chart alone allows far more than the intent.
    let Some(nca) = common::tool("nca") else { return };
    let input = std::fs::read(example("dashi").join("rendered.yaml")).unwrap();
    let got = nca_connectivity(nca.as_path(), &input, "dashi-");
    assert!(got.iter().any(|l| l.contains("All connections") && l.starts_with("dashi-catalog/")), "{got:#?}");
}

#[test]
fn dashi_output_verifies_against_the_written_intent() {
    let dir = example("dashi");
    let fixture = std::fs::read(common::repo_root().join("tests/fixtures/kube-system.yaml")).unwrap();
    let intent = dir.join("intent.yaml");
    let verify = |manifests: Vec<u8>| {
        let input = [manifests, fixture.clone()].concat();
        netfence(&["verify", "--expect", intent.to_str().unwrap()], &input)
    };
    let ok = verify(std::fs::read(dir.join("expected.yaml")).unwrap());
    assert_eq!(ok.status.code(), Some(0), "{}", common::text(&ok.stdout));
    // The chart alone (no netfence) is wide open: verify must fail and say why.
    let open = verify(std::fs::read(dir.join("rendered.yaml")).unwrap());
    assert_eq!(open.status.code(), Some(1));
    assert!(common::text(&open.stdout).contains("unexpected: "), "{}", common::text(&open.stdout));
}
