//! Both seed documents end to end: examples/dashi (seed 2, the namespace policy matrix) and
//! examples/matih (seed 1, per-service egress), rendered by the real chart, transformed by
//! netfence, and checked against IBM network-config-analyzer as an independent oracle.

use crate::util;
use std::path::{Path, PathBuf};

const EXAMPLES: &[&str] = &["dashi", "matih"];

fn example(name: &str) -> PathBuf {
    util::repo_root().join("examples").join(name)
}

fn render_example(name: &str) -> Vec<u8> {
    let dir = example(name);
    let input = std::fs::read(dir.join("rendered.yaml")).unwrap();
    let out = util::netfence(&["-f", dir.join("values.yaml").to_str().unwrap()], &input);
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
        let again = util::netfence(&["-f", dir.join("values.yaml").to_str().unwrap()], &out);
        assert!(again.stdout == out, "{name}: a second run changed the output");
    }
}

#[test]
fn rendered_inputs_are_what_the_chart_renders() {
    let Some(helm) = util::tool("helm4") else { return };
    for name in EXAMPLES {
        let dir = example(name);
        let home = util::scratch_dir(&format!("seeds-helm-{name}"));
        let out = util::run(
            util::helm(&helm, &home)
                .args(["template", name, "charts/platform-demo", "-f"])
                .arg(dir.join("values.yaml")),
            b"",
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let rendered = std::fs::read(dir.join("rendered.yaml")).unwrap();
        assert!(out.stdout == rendered, "{name}: rendered.yaml is stale; re-run helm template");
    }
}

/// The lines of an NCA connectivity listing that involve one of the example's namespaces.
fn nca_connectivity(nca: &Path, manifests: &[u8], prefix: &str) -> Vec<String> {
    let dir = util::scratch_dir(&format!("seeds-nca-{prefix}"));
    std::fs::write(dir.join("netfence-output.yaml"), manifests).unwrap();
    std::fs::copy(util::kube_system_fixture(), dir.join("kube-system.yaml")).unwrap();
    let text = util::nca_connectivity(nca, &dir);
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
    let Some(nca) = util::tool("nca") else { return };
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
    let Some(nca) = util::tool("nca") else { return };
    let input = std::fs::read(example("dashi").join("rendered.yaml")).unwrap();
    let got = nca_connectivity(nca.as_path(), &input, "dashi-");
    assert!(got.iter().any(|l| l.contains("All connections") && l.starts_with("dashi-catalog/")), "{got:#?}");
}

#[test]
fn dashi_output_verifies_against_the_written_intent() {
    let dir = example("dashi");
    let fixture = std::fs::read(util::kube_system_fixture()).unwrap();
    let intent = dir.join("intent.yaml");
    let verify = |manifests: Vec<u8>| {
        let input = [manifests, fixture.clone()].concat();
        util::netfence(&["verify", "--expect", intent.to_str().unwrap()], &input)
    };
    let ok = verify(std::fs::read(dir.join("expected.yaml")).unwrap());
    assert_eq!(ok.status.code(), Some(0), "{}", util::text(&ok.stdout));
    // The chart alone (no netfence) is wide open: verify must fail and say why.
    let open = verify(std::fs::read(dir.join("rendered.yaml")).unwrap());
    assert_eq!(open.status.code(), Some(1));
    assert!(util::text(&open.stdout).contains("unexpected: "), "{}", util::text(&open.stdout));
}
