//! examples/matih-ai: the checked-in chart output and netfence's output for it stay in step with
//! the chart and the binary (see examples/matih-ai/README.md to regenerate them).

use crate::util::{self, matih_ai};

fn example_file(name: &str) -> Vec<u8> {
    std::fs::read(util::repo_root().join("examples/matih-ai").join(name)).unwrap()
}

/// `netfence -n matih-ai -f charts/matih-ai/values.yaml` on `input`, run from the repo root.
fn netfence(input: &[u8]) -> Vec<u8> {
    let out = util::netfence(&["-n", matih_ai::NAMESPACE, "-f", matih_ai::VALUES], input);
    assert!(out.status.success(), "netfence failed: {}", util::text(&out.stderr));
    out.stdout
}

#[test]
fn netfence_reproduces_expected_yaml() {
    let got = netfence(&example_file("rendered.yaml"));
    let expected = example_file("expected.yaml");
    if got != expected {
        let dir = util::scratch_dir("examples-matih-ai");
        std::fs::write(dir.join("got.yaml"), &got).unwrap();
        panic!(
            "netfence output differs from examples/matih-ai/expected.yaml; got {}:\n{}",
            dir.join("got.yaml").display(),
            util::text(&got)
        );
    }
}

#[test]
fn expected_yaml_has_the_seed_policies() {
    matih_ai::check_output(&matih_ai::parse_stream(&example_file("expected.yaml")));
}

#[test]
fn netfence_is_idempotent_on_its_output() {
    let expected = example_file("expected.yaml");
    assert!(netfence(&expected) == expected, "a second run changed examples/matih-ai/expected.yaml");
}

#[test]
fn rendered_yaml_is_what_the_chart_renders() {
    for helm in ["helm3", "helm4"] {
        let Some(bin) = util::tool(helm) else { continue };
        let home = util::scratch_dir(&format!("examples-{helm}"));
        let out = util::run(
            util::helm(&bin, &home).args(["template", "matih", matih_ai::CHART, "-n", matih_ai::NAMESPACE]),
            b"",
        );
        assert!(out.status.success(), "{helm} template: {}", util::text(&out.stderr));
        assert!(
            out.stdout == example_file("rendered.yaml"),
            "{helm}: examples/matih-ai/rendered.yaml is stale, regenerate it (examples/matih-ai/README.md)"
        );
    }
}

// Guards for the guard: check_output must reject output that lacks what netfence adds.
#[test]
#[should_panic(expected = "4 chart documents + 2 generated policies")]
fn the_checks_reject_the_chart_without_netfence() {
    matih_ai::check_output(&matih_ai::parse_stream(&example_file("rendered.yaml")));
}

#[test]
#[should_panic(expected = "ai-service egress must be DNS followed by networkPolicy.egress")]
fn the_checks_reject_a_policy_without_dns() {
    let mut docs = matih_ai::parse_stream(&example_file("expected.yaml"));
    let policy =
        docs.iter_mut().find(|d| d["kind"] == "NetworkPolicy" && d["metadata"]["name"] == "ai-service").unwrap();
    policy["spec"]["egress"].as_array_mut().unwrap().remove(0);
    matih_ai::check_output(&docs);
}
