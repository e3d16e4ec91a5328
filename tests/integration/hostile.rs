//! Hostile input (issue 14), each case through the real binary: what Go's YAML readers see is
//! what netfence sees, output is never corrupted, resources stay bounded by the input, and every
//! failure is one line on stderr with nothing on stdout and a non-zero exit.

use crate::util::{self, netfence, run, scratch_dir, text, tool};
use std::process::{Command, Output};

const POLICY_HEAD: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n";

/// Asserts a clean failure: `code`, empty stdout, one stderr line containing every word.
#[track_caller]
fn fails(out: &Output, code: i32, words: &[&str]) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "exit code; stderr: {stderr}");
    assert!(out.stdout.is_empty(), "stdout must be empty on error, got {:?}", text(&out.stdout));
    assert_eq!(stderr.lines().count(), 1, "one stderr line: {stderr:?}");
    for w in words {
        assert!(stderr.contains(w), "stderr {stderr:?} should contain {w:?}");
    }
    stderr
}

/// Renders `input`; asserts success and that a second run changes nothing. The output.
#[track_caller]
fn render_idempotent(input: &[u8]) -> Vec<u8> {
    let first = netfence(&[], input);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let second = netfence(&[], &first.stdout);
    assert!(second.status.success(), "second run: {}", text(&second.stderr));
    assert_eq!(text(&second.stdout), text(&first.stdout), "a second run must change nothing");
    first.stdout
}

// ---- 1. line breaks: one notion for splitter, probe, splice and errors ----

#[test]
fn a_lone_cr_in_a_comment_does_not_corrupt_a_reserialised_policy() {
    // A flow-style policy is re-serialised below its comments; the comment block holds lone CRs.
    let input = format!(
        "---\n# a\r# b\r# c\n{POLICY_HEAD}metadata: {{name: p, namespace: a}}\nspec: {{podSelector: {{}}, policyTypes: [Egress], egress: [{{to: [{{podSelector: {{}}}}]}}]}}\n"
    );
    let out = text(&render_idempotent(input.as_bytes()));
    assert!(
        out.starts_with("---\n# a\r# b\r# c\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"),
        "{out:?}"
    );
    assert_eq!(out.matches("kind: NetworkPolicy").count(), 3, "no duplicated content lines: {out}");
}

#[test]
fn error_lines_count_lone_crs_as_the_parser_does() {
    // Line 3 to the parser (the CR ends line 1), line 2 counting only \n.
    let input = b"apiVersion: v1\rkind: ConfigMap\nmetadata: {name: [x\n";
    fails(&netfence(&[], input), 2, &["document 1", "line 3"]);
}

#[test]
fn unicode_line_breaks_are_line_breaks_as_go_reads_them() {
    // go-yaml (kubectl, Helm) ends the comment at U+2028: `- {}` is an allow-all egress rule.
    for brk in ["\u{2028}", "\u{2029}", "\u{85}"] {
        let input = format!(
            "{POLICY_HEAD}metadata: {{name: p, namespace: a}}\nspec:\n  podSelector: {{}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{{podSelector: {{matchLabels: {{app: db}}}}}}]  # db{brk}  - {{}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: w, namespace: a}}\nspec: {{containers: [{{name: c, image: x}}]}}\n"
        );
        let out = netfence(&["explain", "a/w", "8.8.8.8"], input.as_bytes());
        let stdout = text(&out.stdout);
        assert!(stdout.starts_with("a/w[Pod] => 8.8.8.8: allowed"), "{brk:?}: {stdout}{}", text(&out.stderr));
        // The policy already allows DNS (egress to everything): render leaves the stream as it is.
        let rendered = render_idempotent(input.as_bytes());
        assert!(rendered.starts_with(input.as_bytes()), "untouched documents pass through byte for byte");
    }
}

#[test]
fn a_bom_at_the_start_of_a_later_document_is_read_as_kubectl_reads_it() {
    let input = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n---\n\u{feff}apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d, namespace: b}\n";
    let out = render_idempotent(input.as_bytes());
    assert!(out.starts_with(input.as_bytes()));
    assert!(text(&out).contains("namespace: b"), "the second document's namespace is read");
    // A BOM inside a document's content stays an error.
    let inside = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  \u{feff}name: c\n";
    fails(&netfence(&[], inside.as_bytes()), 2, &["document 1", "BOM"]);
}

// ---- 3. one policy for duplicate keys; names that collide ----

#[test]
fn duplicate_keys_are_refused_in_every_document() {
    // Two `metadata:` blocks: Go's non-strict reader keeps the last, kubectl refuses.
    let two = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\nmetadata: {name: c, namespace: b}\n";
    fails(&netfence(&[], two.as_bytes()), 2, &["document 1", "line 4", "duplicate key \"metadata\""]);
    // In a document netfence never parses fully, deep down, and in JSON.
    let deep = "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\ndata:\n  k: YQ==\n  k: Yg==\n";
    fails(&netfence(&[], deep.as_bytes()), 2, &["line 6", "duplicate key \"k\""]);
    let json = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "name": "d"}}"#;
    fails(&netfence(&[], json.as_bytes()), 2, &["duplicate key \"name\""]);
    // The analysis reads the same way.
    fails(&netfence(&["matrix"], two.as_bytes()), 2, &["duplicate key"]);
    // Keys equal only after a merge (`<<`) are YAML's override, not duplicates.
    let merge =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\nx: &d {a: 1}\ny:\n  <<: *d\n  a: 2\n";
    render_idempotent(merge.as_bytes());
}

#[test]
fn two_policies_with_one_name_in_a_namespace_are_refused() {
    let one = format!("{POLICY_HEAD}metadata: {{name: p, namespace: a}}\nspec: {{podSelector: {{}}}}\n");
    let input = format!("{one}---\n{one}");
    fails(&netfence(&[], input.as_bytes()), 2, &["document 2", "a/p", "same name"]);
    fails(&netfence(&["matrix"], input.as_bytes()), 2, &["p"]);
    // The same name in two namespaces is fine.
    render_idempotent(format!("{one}---\n{}", one.replace("namespace: a", "namespace: b")).as_bytes());
}

#[test]
fn policies_the_api_server_rejects_fail_the_render() {
    for (rule, words) in [
        (
            "ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]",
            &["spec.ingress[0].from[0].ipBlock.cidr", "10.0.0.0/33"][..],
        ),
        ("ingress: [{ports: [{port: 70000}]}]", &["spec.ingress[0].ports[0].port", "70000"][..]),
        ("egress: [{ports: [{port: 90, endPort: 80}]}]", &["spec.egress[0].ports[0]"][..]),
        ("podSelector: {matchLabels: {'a b': c}}", &["spec.podSelector"][..]),
    ] {
        let input = format!("{POLICY_HEAD}metadata: {{name: p, namespace: a}}\nspec: {{podSelector: {{}}, {rule}}}\n")
            .replace("spec: {podSelector: {}, podSelector", "spec: {podSelector");
        let mut all = vec!["document 1 (NetworkPolicy/p)", "the API server rejects it"];
        all.extend(words);
        fails(&netfence(&[], input.as_bytes()), 2, &all);
    }
}

// ---- 4. KRM: untouched items go back exactly as read ----

const KRM_ITEM: &str = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: flags\n    namespace: shop\n    annotations:\n      config.kubernetes.io/path: 'cm.yaml'\n  data:\n    a: y\n    b: on\n    c: no\n    mode: 0644  # a comment\n  binaryData:\n    blob: !!binary aGVsbG8=\n";

#[test]
fn krm_items_netfence_does_not_change_are_written_as_read() {
    let list = format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{KRM_ITEM}functionConfig: {{apiVersion: v1, kind: ConfigMap, metadata: {{name: x}}}}\n");
    let out = netfence(&[], list.as_bytes());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with(&format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{KRM_ITEM}- apiVersion: networking.k8s.io/v1\n")), "{stdout}");
    assert!(stdout.contains("changed 0"), "{stdout}");
    // An indented items sequence keeps its indentation, changed policies are serialised in it.
    let policy = "  - apiVersion: networking.k8s.io/v1\n    kind: NetworkPolicy\n    metadata: {name: p, namespace: shop}\n    spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{podSelector: {}}]}]}\n";
    let indented =
        format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{}{policy}", util_indent(KRM_ITEM));
    let out = netfence(&[], indented.as_bytes());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(&util_indent(KRM_ITEM)), "{stdout}");
    assert!(stdout.contains("changed 1 (shop/p)") || stdout.contains("changed 1"), "{stdout}");
    assert!(
        stdout
            .contains("  - apiVersion: networking.k8s.io/v1\n    kind: NetworkPolicy\n    metadata:\n      name: p\n"),
        "{stdout}"
    );
}

fn util_indent(block: &str) -> String {
    block.lines().map(|l| format!("  {l}\n")).collect()
}

#[test]
fn kpt_keeps_untouched_files_byte_for_byte() {
    let Some(kpt) = tool("kpt") else { return };
    let pkg = scratch_dir("hostile-kpt").join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\n  namespace: shop\ndata:\n  a: y\n  b: on\n  c: no\n  mode: 0644\nbinaryData:\n  blob: !!binary aGVsbG8=\n";
    std::fs::write(pkg.join("cm.yaml"), cm).unwrap();
    let out = run(Command::new(&kpt).arg("fn").arg("eval").arg(&pkg).arg("--exec").arg(util::netfence_bin()), b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("changed 0"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(pkg.join("cm.yaml")).unwrap(), cm);
    assert!(pkg.join("netfence/shop/netfence-default-deny.yaml").is_file());
}

// ---- 6. amplification ----

#[test]
fn alias_bombs_fail_fast_and_small() {
    let mut doc = format!("{POLICY_HEAD}metadata: {{name: p, namespace: a}}\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        doc += &format!("x{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 10].join(", "));
    }
    doc += "spec: {podSelector: {}}\n";
    fails(&netfence(&[], doc.as_bytes()), 2, &["document 1", "alias bomb"]);
    // Under the old budgets and the alias/anchor ratio: 1 MB of text that expands to 100 MB
    // (100 scalars of 10 kB, 100 lists of 10 of them, 10 lists of those), which netfence
    // re-serialised whole into its output.
    let mut amp = format!("{POLICY_HEAD}metadata: {{name: q, namespace: a}}\n");
    for i in 0..100 {
        amp += &format!("x{i}: &x{i} {}\n", "v".repeat(10_000));
    }
    for j in 0..100 {
        amp += &format!(
            "y{j}: &y{j} [{}]\n",
            (0..10).map(|t| format!("*x{}", (j + t) % 100)).collect::<Vec<_>>().join(", ")
        );
    }
    for k in 0..10 {
        amp += &format!("w{k}: &w{k} [{}]\n", (0..100).map(|j| format!("*y{j}")).collect::<Vec<_>>().join(", "));
    }
    amp += "spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{podSelector: {}}]}]}\n";
    fails(&netfence(&[], amp.as_bytes()), 2, &["document 1 (NetworkPolicy/q)", "alias bomb"]);
    // A few merges of defaults are fine.
    let ok = format!("{POLICY_HEAD}metadata: {{name: r, namespace: a}}\nd: &d {{podSelector: {{}}}}\nspec:\n  <<: *d\n  policyTypes: [Ingress]\n");
    render_idempotent(ok.as_bytes());
}

#[test]
fn a_million_empty_documents_pass_through() {
    let input = "---\n".repeat(1_000_000);
    let out = netfence(&[], input.as_bytes());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout.len(), input.len(), "output is the input");
}

// ---- 7. smaller ones ----

#[test]
fn a_closed_or_full_stdout_is_an_error() {
    let cm = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n";
    let sh = |script: &str| {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script).arg("sh").arg(util::netfence_bin());
        run(&mut cmd, cm)
    };
    // Closed: the runtime puts /dev/null (read-write) in its place; the shell's `> /dev/null`
    // (write-only) is a choice, not an error.
    assert_eq!(sh("\"$1\" >&-").status.code(), Some(3));
    assert_eq!(sh("\"$1\" --version >&-").status.code(), Some(3));
    assert_eq!(sh("\"$1\" > /dev/null").status.code(), Some(0));
    for args in ["", "--help", "--version", "schema"] {
        let out = sh(&format!("\"$1\" {args} > /dev/full"));
        assert_eq!(out.status.code(), Some(3), "{args}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("writing the output"), "{args}: {}", text(&out.stderr));
    }
}

#[test]
fn every_file_read_is_bounded() {
    if !std::path::Path::new("/dev/zero").exists() {
        return;
    }
    let start = std::time::Instant::now();
    fails(&netfence(&["-f", "/dev/zero"], b""), 3, &["values file /dev/zero", "larger than"]);
    fails(&netfence(&["--config", "/dev/zero"], b""), 3, &["config file /dev/zero", "larger than"]);
    fails(&netfence(&["matrix", "/dev/zero"], b""), 3, &["/dev/zero", "larger than"]);
    let intent = scratch_dir("hostile-bounded").join("in.yaml");
    std::fs::write(&intent, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n").unwrap();
    fails(
        &netfence(&["verify", "--expect", "/dev/zero", intent.to_str().unwrap()], b""),
        3,
        &["/dev/zero", "larger than"],
    );
    util::note(&format!("4 reads of /dev/zero refused in {:?}", start.elapsed()));
}

#[test]
fn values_from_stdin_are_refused_clearly() {
    fails(&netfence(&["-f", "-"], b"networkPolicy: {}\n"), 2, &["-f -", "stdin carries the manifests"]);
}

#[test]
fn a_flow_style_document_is_yaml() {
    let input = b"{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: a}}\n";
    let out = render_idempotent(input);
    assert!(out.starts_with(input));
    assert!(text(&out).contains("netfence-default-deny"));
    // Broken JSON still gets the JSON error.
    fails(&netfence(&[], b"{\"apiVersion\": \"v1\"\n"), 2, &["invalid JSON"]);
}
