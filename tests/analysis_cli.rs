//! The analysis commands end to end through the binary: `matrix`, `explain`, `diff`, `verify`
//! and `check`, their reports on stdout, one-line errors on stderr and their exit codes
//! (0 ok, 1 verdict, 2 bad input or usage, 3 I/O).

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    common::repo_root().join("tests/fixtures/analysis").join(name)
}

fn netfence(args: &[&str]) -> Output {
    netfence_stdin(args, b"")
}

fn netfence_stdin(args: &[&str], stdin: &[u8]) -> Output {
    common::run(Command::new(common::netfence_bin()).args(args).current_dir(common::repo_root()), stdin)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const SHOP: &str = "tests/fixtures/analysis/shop";

#[test]
fn matrix_formats() {
    let table = netfence(&["matrix", SHOP]);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(text.starts_with("FROM \\ TO    kube-system  other  shop"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("shop ") && l.contains("TCP 8080 (1/2)") && l.ends_with("TCP 53,UDP 53")),
        "{text}"
    );
    for format in ["markdown", "json", "dot", "mermaid"] {
        for level in ["namespace", "workload"] {
            let o = netfence(&["matrix", "--level", level, "-o", format, SHOP]);
            assert_eq!(o.status.code(), Some(0), "{level} {format}: {}", stderr(&o));
            assert!(!stdout(&o).is_empty());
        }
    }
    let json: serde_json::Value = serde_json::from_slice(&netfence(&["matrix", "-o", "json", SHOP]).stdout).unwrap();
    assert_eq!(json["level"], "namespace");
    let bad = netfence(&["matrix", "--level", "namespace", "-o", "connlist", SHOP]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(stderr(&bad).lines().count(), 1, "{}", stderr(&bad));
}

#[test]
fn connlist_reads_stdin_and_defaults_to_workload_level() {
    let input = std::fs::read(fixture("shop/resources.yaml")).unwrap();
    let o = netfence_stdin(&["matrix", "-o", "connlist"], &input);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("shop/frontend[Deployment] => shop/backend[Deployment] : All Connections\n"));
}

#[test]
fn explain_names_the_deciding_rules() {
    let o = netfence(&["explain", "shop/frontend", "shop/backend", "--port", "TCP/8080", SHOP]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("shop/frontend[Deployment] => shop/backend[Deployment]: TCP/8080 is allowed\n"), "{text}");
    assert!(text.contains("shop/frontend-to-backend ("), "{text}");
    assert!(text.contains("egress[0] allows TCP 8080 (covers TCP/8080)"), "{text}");
    assert!(text.contains("shop/backend-from-frontend ("), "{text}");
    let denied = netfence(&["explain", "other/client", "shop/backend", SHOP]);
    assert!(
        stdout(&denied).starts_with("other/client[Deployment] => shop/backend[Deployment]: denied"),
        "{}",
        stdout(&denied)
    );
    let unknown = netfence(&["explain", "shop/nope", "shop/backend", SHOP]);
    assert_eq!(unknown.status.code(), Some(2));
    let err = stderr(&unknown);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("netfence: SRC: no workload \"shop/nope\""), "{err}");
}

#[test]
fn diff_exits_1_on_changes_and_shows_what_render_changed() {
    let same = netfence(&["diff", SHOP, SHOP]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    assert_eq!(stdout(&same), "No connectivity change.\n");
    let resources = "tests/fixtures/analysis/shop/resources.yaml";
    let changed = netfence(&["diff", resources, SHOP]);
    assert_eq!(changed.status.code(), Some(1), "{}", stderr(&changed));
    let text = stdout(&changed);
    assert!(
        text.contains("~ shop/frontend[Deployment] => shop/backend[Deployment] : All Connections -> TCP 8080\n"),
        "{text}"
    );
    // What render changes: `diff in.yaml out.yaml` and `diff in.yaml -f values` agree.
    let values = "tests/fixtures/analysis/values-default-deny.yaml";
    let rendered = netfence_stdin(&["-f", values], &std::fs::read(common::repo_root().join(resources)).unwrap());
    assert!(rendered.status.success(), "{}", stderr(&rendered));
    let out = common::scratch_dir("analysis-cli-diff").join("out.yaml");
    std::fs::write(&out, &rendered.stdout).unwrap();
    let by_files = netfence(&["diff", resources, out.to_str().unwrap()]);
    let by_values = netfence(&["diff", resources, "-f", values]);
    assert_eq!(by_files.status.code(), Some(1));
    assert_eq!(stdout(&by_files), stdout(&by_values));
    assert!(stdout(&by_files).contains("- shop/backend[Deployment] => shop/frontend[Deployment] : All Connections\n"));
    let json: serde_json::Value =
        serde_json::from_slice(&netfence(&["diff", "-o", "json", resources, SHOP]).stdout).unwrap();
    assert!(json["changes"].as_array().is_some_and(|c| !c.is_empty()));
}

#[test]
fn verify_against_an_intent_file() {
    let intent = "tests/fixtures/analysis/shop-intent.yaml";
    let ok = netfence(&["verify", "--expect", intent, SHOP]);
    assert_eq!(ok.status.code(), Some(0), "{}{}", stdout(&ok), stderr(&ok));
    assert!(stdout(&ok).starts_with("verify: the "), "{}", stdout(&ok));
    // Without policies the same intent fails, with a readable list.
    let open = netfence(&["verify", "--expect", intent, "tests/fixtures/analysis/shop/resources.yaml"]);
    assert_eq!(open.status.code(), Some(1));
    let text = stdout(&open);
    assert!(
        text.contains("unexpected: shop/backend[Deployment] => shop/frontend[Deployment] : All Connections\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "forbidden:  shop/backend[Deployment] => 169.254.169.254-169.254.169.254 : All Connections (deny[0])\n"
        ),
        "{text}"
    );
    // A malformed intent is a usage error naming the file and field.
    let dir = common::scratch_dir("analysis-cli-verify");
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "allow:\n  - from: a\n    to: b\n    ports: [ICMP/1]\n").unwrap();
    let o = netfence(&["verify", "--expect", bad.to_str().unwrap(), SHOP]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.yaml: allow[0].ports: unknown protocol"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1);
}

#[test]
fn check_is_not_fooled_by_a_default_deny_next_to_allow_dns() {
    // The shop fixture: default-deny + allow-dns select the same pods; DNS works.
    let ok = netfence(&["check", SHOP]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(!stdout(&ok).contains("NF002"), "{}", stdout(&ok));
    // The default-deny alone blocks DNS: an error, exit 1.
    let broken = netfence(&["check", "tests/fixtures/analysis/dns-only-default-deny.yaml"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(stdout(&broken).contains("error NF002 dns-blocked: shop/web[Deployment]: DNS over UDP and TCP is blocked"));
    let sarif: serde_json::Value = serde_json::from_slice(
        &netfence(&["check", "-o", "sarif", "tests/fixtures/analysis/dns-only-default-deny.yaml"]).stdout,
    )
    .unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "NF002");
    assert_eq!(sarif["runs"][0]["results"][0]["level"], "error");
    let json: serde_json::Value = serde_json::from_slice(&netfence(&["check", "-o", "json", SHOP]).stdout).unwrap();
    assert!(json["findings"].as_array().unwrap().iter().all(|f| f["severity"] != "error"));
}

#[test]
fn errors_are_one_line_with_the_right_exit_code() {
    let missing = netfence(&["matrix", "no-such-file.yaml"]);
    assert_eq!(missing.status.code(), Some(3));
    assert_eq!(stderr(&missing).lines().count(), 1, "{}", stderr(&missing));
    let broken = netfence_stdin(&["check"], b"apiVersion: v1\nkind: Pod\nmetadata: {name: [\n");
    assert_eq!(broken.status.code(), Some(2));
    assert!(stderr(&broken).starts_with("netfence: document 1"), "{}", stderr(&broken));
    assert!(stdout(&broken).is_empty());
}

#[test]
fn the_lint_example_shows_every_rule() {
    // examples/lint/risky.yaml and risky-admin.yaml are the README's examples of each rule:
    // each must fire on one of them.
    let o = netfence(&["check", "examples/lint/risky.yaml"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report = stdout(&o);
    let admin = netfence(&["check", "examples/lint/risky-admin.yaml"]);
    assert_eq!(admin.status.code(), Some(1), "{}", stderr(&admin));
    let both = format!("{report}{}", stdout(&admin));
    for rule in netfence::analysis::lint::RULES {
        assert!(
            both.contains(&format!(" {} {}: ", rule.id, rule.name)),
            "{} does not fire on the examples:\n{both}",
            rule.id
        );
    }
    assert!(stdout(&admin).ends_with("check: 3 errors, 5 warnings, 0 infos\n"), "{}", stdout(&admin));
    assert!(report.contains("error NF002 dns-blocked: shop/web[Deployment]"), "{report}");
    assert!(report.ends_with("check: 3 errors, 7 warnings, 1 infos\n"), "{report}");
    // With netfence's render in front (-f), DNS is injected: NF002 is gone.
    let values = common::scratch_dir("lint-example").join("values.yaml");
    std::fs::write(&values, "networkPolicy: {}\n").unwrap();
    let rendered = netfence(&["check", "-f", values.to_str().unwrap(), "examples/lint/risky.yaml"]);
    assert!(!stdout(&rendered).contains("NF002"), "{}", stdout(&rendered));
}
