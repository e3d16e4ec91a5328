//! The analysis commands end to end through the binary: `matrix`, `explain`, `diff`, `verify`
//! and `check`, their reports on stdout, one-line errors on stderr and their exit codes
//! (0 ok, 1 verdict, 2 bad input or usage, 3 I/O).

use crate::util;
use std::process::Output;

/// The binary with `args` and an empty stdin.
fn netfence(args: &[&str]) -> Output {
    util::netfence(args, b"")
}

const SHOP: &str = "tests/fixtures/analysis/shop";

#[test]
fn matrix_formats() {
    let table = netfence(&["matrix", SHOP]);
    assert_eq!(table.status.code(), Some(0), "{}", util::text(&table.stderr));
    let text = util::text(&table.stdout);
    assert!(text.starts_with("FROM \\ TO    kube-system  other  shop"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("shop ") && l.contains("TCP 8080 (1/2)") && l.ends_with("TCP 53,UDP 53")),
        "{text}"
    );
    for format in ["markdown", "json", "dot", "mermaid"] {
        for level in ["namespace", "workload"] {
            let o = netfence(&["matrix", "--level", level, "-o", format, SHOP]);
            assert_eq!(o.status.code(), Some(0), "{level} {format}: {}", util::text(&o.stderr));
            assert!(!util::text(&o.stdout).is_empty());
        }
    }
    let json: serde_json::Value = serde_json::from_slice(&netfence(&["matrix", "-o", "json", SHOP]).stdout).unwrap();
    assert_eq!(json["level"], "namespace");
    let bad = netfence(&["matrix", "--level", "namespace", "-o", "connlist", SHOP]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(util::text(&bad.stderr).lines().count(), 1, "{}", util::text(&bad.stderr));
}

#[test]
fn connlist_reads_stdin_and_defaults_to_workload_level() {
    let input = std::fs::read(util::analysis_fixture("shop/resources.yaml")).unwrap();
    let o = util::netfence(&["matrix", "-o", "connlist"], &input);
    assert_eq!(o.status.code(), Some(0), "{}", util::text(&o.stderr));
    assert!(util::text(&o.stdout).contains("shop/frontend[Deployment] => shop/backend[Deployment] : All Connections\n"));
}

#[test]
fn explain_names_the_deciding_rules() {
    let o = netfence(&["explain", "shop/frontend", "shop/backend", "--port", "TCP/8080", SHOP]);
    assert_eq!(o.status.code(), Some(0), "{}", util::text(&o.stderr));
    let text = util::text(&o.stdout);
    assert!(text.starts_with("shop/frontend[Deployment] => shop/backend[Deployment]: TCP/8080 is allowed\n"), "{text}");
    assert!(text.contains("shop/frontend-to-backend ("), "{text}");
    assert!(text.contains("egress[0] allows TCP 8080 (covers TCP/8080)"), "{text}");
    assert!(text.contains("shop/backend-from-frontend ("), "{text}");
    let denied = netfence(&["explain", "other/client", "shop/backend", SHOP]);
    assert!(
        util::text(&denied.stdout).starts_with("other/client[Deployment] => shop/backend[Deployment]: denied"),
        "{}",
        util::text(&denied.stdout)
    );
    let unknown = netfence(&["explain", "shop/nope", "shop/backend", SHOP]);
    assert_eq!(unknown.status.code(), Some(2));
    let err = util::text(&unknown.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("netfence: SRC: no workload \"shop/nope\""), "{err}");
}

#[test]
fn diff_exits_1_on_changes_and_shows_what_render_changed() {
    let same = netfence(&["diff", SHOP, SHOP]);
    assert_eq!(same.status.code(), Some(0), "{}", util::text(&same.stderr));
    assert_eq!(util::text(&same.stdout), "No connectivity change.\n");
    let resources = "tests/fixtures/analysis/shop/resources.yaml";
    let changed = netfence(&["diff", resources, SHOP]);
    assert_eq!(changed.status.code(), Some(1), "{}", util::text(&changed.stderr));
    let text = util::text(&changed.stdout);
    assert!(
        text.contains("~ shop/frontend[Deployment] => shop/backend[Deployment] : All Connections -> TCP 8080\n"),
        "{text}"
    );
    // What render changes: `diff in.yaml out.yaml` and `diff in.yaml -f values` agree.
    let values = "tests/fixtures/analysis/values-default-deny.yaml";
    let rendered = util::netfence(&["-f", values], &std::fs::read(util::repo_root().join(resources)).unwrap());
    assert!(rendered.status.success(), "{}", util::text(&rendered.stderr));
    let out = util::scratch_dir("analysis-cli-diff").join("out.yaml");
    std::fs::write(&out, &rendered.stdout).unwrap();
    let by_files = netfence(&["diff", resources, out.to_str().unwrap()]);
    let by_values = netfence(&["diff", resources, "-f", values]);
    assert_eq!(by_files.status.code(), Some(1));
    assert_eq!(util::text(&by_files.stdout), util::text(&by_values.stdout));
    assert!(util::text(&by_files.stdout)
        .contains("- shop/backend[Deployment] => shop/frontend[Deployment] : All Connections\n"));
    let json: serde_json::Value =
        serde_json::from_slice(&netfence(&["diff", "-o", "json", resources, SHOP]).stdout).unwrap();
    assert!(json["changes"].as_array().is_some_and(|c| !c.is_empty()));
}

#[test]
fn verify_against_an_intent_file() {
    let intent = "tests/fixtures/analysis/shop-intent.yaml";
    let ok = netfence(&["verify", "--expect", intent, SHOP]);
    assert_eq!(ok.status.code(), Some(0), "{}{}", util::text(&ok.stdout), util::text(&ok.stderr));
    assert!(util::text(&ok.stdout).starts_with("verify: the "), "{}", util::text(&ok.stdout));
    // Without policies the same intent fails, with a readable list.
    let open = netfence(&["verify", "--expect", intent, "tests/fixtures/analysis/shop/resources.yaml"]);
    assert_eq!(open.status.code(), Some(1));
    let text = util::text(&open.stdout);
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
    let dir = util::scratch_dir("analysis-cli-verify");
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "allow:\n  - from: a\n    to: b\n    ports: [ICMP/1]\n").unwrap();
    let o = netfence(&["verify", "--expect", bad.to_str().unwrap(), SHOP]);
    assert_eq!(o.status.code(), Some(2));
    assert!(util::text(&o.stderr).contains("bad.yaml: allow[0].ports: unknown protocol"), "{}", util::text(&o.stderr));
    assert_eq!(util::text(&o.stderr).lines().count(), 1);
}

#[test]
fn check_is_not_fooled_by_a_default_deny_next_to_allow_dns() {
    // The shop fixture: default-deny + allow-dns select the same pods; DNS works.
    let ok = netfence(&["check", SHOP]);
    assert_eq!(ok.status.code(), Some(0), "{}", util::text(&ok.stdout));
    assert!(!util::text(&ok.stdout).contains("NF002"), "{}", util::text(&ok.stdout));
    // The default-deny alone blocks DNS: an error, exit 1.
    let broken = netfence(&["check", "tests/fixtures/analysis/dns-only-default-deny.yaml"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(util::text(&broken.stdout)
        .contains("error NF002 dns-blocked: shop/web[Deployment]: DNS over UDP and TCP is blocked"));
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
    assert_eq!(util::text(&missing.stderr).lines().count(), 1, "{}", util::text(&missing.stderr));
    let broken = util::netfence(&["check"], b"apiVersion: v1\nkind: Pod\nmetadata: {name: [\n");
    assert_eq!(broken.status.code(), Some(2));
    assert!(util::text(&broken.stderr).starts_with("netfence: document 1"), "{}", util::text(&broken.stderr));
    assert!(util::text(&broken.stdout).is_empty());
}

#[test]
fn the_lint_example_shows_every_rule() {
    // examples/lint/risky.yaml and risky-admin.yaml are the README's examples of each rule:
    // each must fire on one of them.
    let o = netfence(&["check", "examples/lint/risky.yaml"]);
    assert_eq!(o.status.code(), Some(1), "{}", util::text(&o.stderr));
    let report = util::text(&o.stdout);
    let admin = netfence(&["check", "examples/lint/risky-admin.yaml"]);
    assert_eq!(admin.status.code(), Some(1), "{}", util::text(&admin.stderr));
    let both = format!("{report}{}", util::text(&admin.stdout));
    for rule in netfence::analysis::lint::RULES {
        assert!(
            both.contains(&format!(" {} {}: ", rule.id, rule.name)),
            "{} does not fire on the examples:\n{both}",
            rule.id
        );
    }
    assert!(
        util::text(&admin.stdout).ends_with("check: 3 errors, 5 warnings, 0 infos\n"),
        "{}",
        util::text(&admin.stdout)
    );
    assert!(report.contains("error NF002 dns-blocked: shop/web[Deployment]"), "{report}");
    assert!(report.ends_with("check: 3 errors, 10 warnings, 1 infos\n"), "{report}");
    // With netfence's render in front (-f), DNS is injected: NF002 is gone.
    let values = util::scratch_dir("lint-example").join("values.yaml");
    std::fs::write(&values, "networkPolicy: {}\n").unwrap();
    let rendered = netfence(&["check", "-f", values.to_str().unwrap(), "examples/lint/risky.yaml"]);
    assert!(!util::text(&rendered.stdout).contains("NF002"), "{}", util::text(&rendered.stdout));
}

const ADMIN: &str = "tests/fixtures/analysis/admin/tests";

#[test]
fn every_command_sees_the_admin_tiers() {
    let dir = format!("{ADMIN}/anp_allow_overrides_np_isolation");
    // explain names the admin rule that decided, on each side.
    let e = netfence(&["explain", "b/client", "a/web", "--port", "8080", &dir]);
    assert_eq!(e.status.code(), Some(0), "{}", util::text(&e.stderr));
    let text = util::text(&e.stdout);
    assert!(text.starts_with("b/client[Pod] => a/web[Pod]: TCP/8080 is allowed\n"), "{text}");
    assert!(text.contains("AdminNetworkPolicies selecting it, by priority: [ANP] allow-b-8080 (priority 10"), "{text}");
    assert!(text.contains("rule \"allow-from-b\" (ingress[0]) allows TCP 8080 (covers TCP/8080)"), "{text}");
    assert!(text.contains("Ingress decision on TCP/8080: [ANP] allow-b-8080"), "{text}");
    let denied = netfence(&["explain", "b/client", "a/web", "--focus-conn", "tcp-9090", &dir]);
    assert!(
        util::text(&denied.stdout).contains("TCP/9090 is blocked by the ingress of a/web[Pod]."),
        "{}",
        util::text(&denied.stdout)
    );
    // matrix at namespace level counts it.
    let m = netfence(&["matrix", "-o", "json", &dir]);
    let json: serde_json::Value = serde_json::from_slice(&m.stdout).unwrap();
    let cell = json["cells"].as_array().unwrap().iter().find(|c| c["from"] == "b" && c["to"] == "a").cloned();
    assert_eq!(cell.unwrap()["connections"], "TCP 8080", "{json}");
    // diff sees what an admin policy changes.
    let before = format!("{ADMIN}/anp_priority_allow_first");
    let after = format!("{ADMIN}/anp_priority_deny_port_first");
    let d = netfence(&["diff", &before, &after]);
    assert_eq!(d.status.code(), Some(1), "{}", util::text(&d.stderr));
    assert!(
        util::text(&d.stdout).contains(
            "~ b/client[Pod] => a/web[Pod] : All Connections -> SCTP 1-65535,TCP 1-8079,8081-65535,UDP 1-65535"
        ),
        "{}",
        util::text(&d.stdout)
    );
    // verify holds the admin tiers to an intent.
    let intent = util::scratch_dir("admin-intent").join("intent.yaml");
    std::fs::write(&intent, "exhaustive: false\ndeny:\n- {from: b, to: a/web, ports: [TCP/8080]}\n").unwrap();
    let v = netfence(&["verify", "--expect", intent.to_str().unwrap(), &after]);
    assert_eq!(v.status.code(), Some(0), "{}{}", util::text(&v.stdout), util::text(&v.stderr));
    let v = netfence(&["verify", "--expect", intent.to_str().unwrap(), &before]);
    assert_eq!(v.status.code(), Some(1), "{}", util::text(&v.stdout));
    assert!(
        util::text(&v.stdout).contains("forbidden:  b/client[Pod] => a/web[Pod] : TCP 8080 (deny[0])"),
        "{}",
        util::text(&v.stdout)
    );
}

#[test]
fn exposure_and_focus_options() {
    let dir = "../shared/corpus/netpol-analyzer-more/tests/exposure_test_conn_to_all_pods_in_a_new_ns";
    let o = netfence(&["matrix", "--exposure", dir]);
    assert_eq!(o.status.code(), Some(0), "{}", util::text(&o.stderr));
    assert!(
        util::text(&o.stdout).contains("hello-world/workload-a[Deployment] \t<= \tbackend/[all pods] : TCP 8050\n"),
        "{}",
        util::text(&o.stdout)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&netfence(&["matrix", "--exposure", "-o", "json", dir]).stdout).unwrap();
    assert_eq!(json["exposure_results"]["ingress_exposure"][0]["src"], "backend/[all pods]", "{json}");
    for (args, message) in [
        (vec!["matrix", "--exposure", "-o", "dot", dir], "--exposure prints"),
        (vec!["matrix", "--exposure", "--level", "namespace", dir], "work at --level workload"),
        (vec!["matrix", "--focus-conn", "tcp8080", dir], "--focus-conn"),
        (vec!["matrix", "--focus-direction", "sideways", "--focus-workload", "x", dir], "sideways"),
    ] {
        let bad = netfence(&args);
        assert_eq!(bad.status.code(), Some(2), "{args:?}: {}", util::text(&bad.stdout));
        assert!(util::text(&bad.stderr).contains(message), "{args:?}: {}", util::text(&bad.stderr));
        assert!(bad.stdout.is_empty());
    }
    // A focus workload the input lacks: a warning and an empty list, as np-guard.
    let missing = netfence(&["matrix", "-o", "connlist", "--focus-workload", "nope", dir]);
    assert_eq!(missing.status.code(), Some(0));
    assert!(missing.stdout.is_empty());
    assert!(
        util::text(&missing.stderr).contains("focus workload nope does not exist"),
        "{}",
        util::text(&missing.stderr)
    );
    // Focus at workload level in other formats.
    let table = netfence(&["matrix", "-o", "table", "--focus-workload", "workload-a", dir]);
    assert!(
        util::text(&table.stdout).lines().skip(1).all(|l| l.contains("workload-a")),
        "{}",
        util::text(&table.stdout)
    );
}

#[test]
fn input_the_analysis_cannot_work_with_is_an_error() {
    let policy = |name: &str, spec: &str| {
        format!("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: ns}}\nspec: {spec}\n")
    };
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns, labels: {app: x}}\nspec: {containers: [{name: c}]}\n";
    for (input, message) in [
        (format!("{pod}{}", policy("p", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 300.0.0.0/8}}]}]}")), "invalid CIDR"),
        (format!("{pod}{}{}", policy("p", "{podSelector: {}}"), policy("p", "{podSelector: {}}")), "already in namespace ns"),
        (format!("{pod}---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {{name: a}}\nspec: {{priority: 1001, subject: {{namespaces: {{}}}}}}\n"), "out of range"),
    ] {
        for command in [vec!["matrix"], vec!["explain", "p", "p"], vec!["verify", "--expect", "tests/fixtures/analysis/shop-intent.yaml"]] {
            let o = util::netfence(&command, input.as_bytes());
            assert_eq!(o.status.code(), Some(2), "{command:?} {input}: {}", util::text(&o.stdout));
            assert!(o.stdout.is_empty());
            let err = util::text(&o.stderr);
            assert!(err.contains(message) && err.trim_end().lines().count() == 1, "{command:?}: {err}");
        }
        // check reports the same as findings instead.
        let c = util::netfence(&["check"], input.as_bytes());
        assert_eq!(c.status.code(), Some(1), "{}", util::text(&c.stderr));
        assert!(util::text(&c.stdout).contains(message), "{}", util::text(&c.stdout));
    }
}

#[test]
fn explain_from_the_ingress_controller() {
    let dir = "../shared/corpus/netpol-analyzer/tests/acs-security-demos";
    let o = netfence(&["explain", "{ingress-controller}", "frontend/webapp", dir]);
    assert_eq!(o.status.code(), Some(0), "{}", util::text(&o.stderr));
    let text = util::text(&o.stdout);
    assert!(text.starts_with("{ingress-controller} => frontend/webapp[Deployment]: allowed: TCP 8080\n"), "{text}");
    assert!(text.contains("through Routes and Ingresses on TCP 8080"), "{text}");
    let to = netfence(&["explain", "frontend/webapp", "{ingress-controller}", dir]);
    assert_eq!(to.status.code(), Some(2));
}

#[test]
fn directories_are_read_like_np_guard_reads_them() {
    let dir = util::scratch_dir("analysis-dir-reading");
    let sub = dir.join("apps");
    std::fs::create_dir_all(&sub).unwrap();
    // A layout Go's reader accepts (np-guard's nad_test_12), an analyser's earlier output
    // (a JSON list), and a link back up the tree.
    std::fs::write(
        sub.join("net.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cni\n  namespace: ns\ndata:\n  config: '{\n    \"type\": \"macvlan\"\n  }'\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\nspec:\n  containers: [\n\t{name: c}]\n",
    )
    .unwrap();
    std::fs::write(
        sub.join("connlist_output.json"),
        "[{\"src\": \"a\", \"dst\": \"b\", \"conn\": \"All Connections\"}]\n",
    )
    .unwrap();
    let link = sub.join("loop");
    let _ = std::fs::remove_file(&link);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    for command in ["matrix", "check"] {
        let o =
            netfence(&[command, "-o", if command == "matrix" { "connlist" } else { "text" }, dir.to_str().unwrap()]);
        assert!(o.status.code().is_some_and(|c| c < 2), "{command}: {}", util::text(&o.stderr));
        assert!(util::text(&o.stdout).contains("ns/p[Pod]"), "{command}: {}", util::text(&o.stdout));
        #[cfg(unix)]
        assert!(util::text(&o.stderr).contains("already read"), "{}", util::text(&o.stderr));
        assert!(util::text(&o.stderr).contains("skipped: not a Kubernetes object"), "{}", util::text(&o.stderr));
    }
    // A device is not read forever.
    #[cfg(unix)]
    {
        let zero = netfence(&["matrix", "/dev/zero"]);
        assert_eq!(zero.status.code(), Some(3));
        assert!(util::text(&zero.stderr).contains("larger than 256 MiB"), "{}", util::text(&zero.stderr));
    }
}

#[test]
fn the_readme_admin_example() {
    // examples/admin/cluster.yaml and the outputs the README's "Admin network policies" and
    // "Exposure and focus" sections show.
    let example = "examples/admin/cluster.yaml";
    let m = netfence(&["matrix", example]);
    assert_eq!(m.status.code(), Some(0), "{}", util::text(&m.stderr));
    assert_eq!(
        util::text(&m.stdout),
        "FROM \\ TO   monitoring  tenant-a        tenant-b  external  DNS\n\
         monitoring              TCP 9100,9187   TCP 9100  all       TCP 53,5353,UDP 53,5353\n\
         tenant-a    all         TCP 5432 (1/2)  -         all       TCP 53,5353,UDP 53,5353\n\
         tenant-b    all         -                         all       TCP 53,5353,UDP 53,5353\n\
         external    all         all (1/2)       all\n\n\
         DNS: to kube-system pods labelled k8s-app=kube-dns (assumed: none in the input), ports 53 and 5353; (k/n): k of the n workloads\n"
    );
    let denied = util::text(&netfence(&["explain", "tenant-b/web", "tenant-a/web", example]).stdout);
    assert!(denied.contains("rule \"deny-tenant-b\" (ingress[0]) denies All Connections"), "{denied}");
    let passed = util::text(&netfence(&["explain", "tenant-a/web", "tenant-a/db", "--port", "5432", example]).stdout);
    assert!(
        passed.lines().last().is_some_and(|l| l.starts_with("Ingress decision on TCP/5432: [ANP] tenant-a-guard")
            && l.contains(
                "rule \"db-is-tenant-business\" (ingress[1]) passes (to the NetworkPolicies); then tenant-a/db"
            )
            && l.ends_with("ingress[0] allows it.")),
        "{passed}"
    );
    // diff: the same file without its baseline, then with it.
    let text = std::fs::read_to_string(util::repo_root().join(example)).unwrap();
    let cut = text.find("# Below the NetworkPolicies").unwrap();
    let before = util::scratch_dir("admin-example").join("without-baseline.yaml");
    std::fs::write(&before, &text[..cut]).unwrap();
    let d = netfence(&["diff", before.to_str().unwrap(), example]);
    assert_eq!(d.status.code(), Some(1));
    assert_eq!(
        util::text(&d.stdout),
        "~ monitoring/prometheus[Deployment] => tenant-a/web[Deployment] : All Connections -> TCP 9100\n\
         ~ monitoring/prometheus[Deployment] => tenant-b/web[Deployment] : All Connections -> TCP 9100\n\
         - tenant-a/db[Deployment] => tenant-a/web[Deployment] : All Connections\n\
         - tenant-a/db[Deployment] => tenant-b/web[Deployment] : All Connections\n\
         - tenant-a/web[Deployment] => tenant-b/web[Deployment] : All Connections\n\
         0 added, 3 removed, 2 changed\n"
    );
    let exposure = netfence(&["matrix", "--exposure", "--focus-workload", "tenant-a/db", example]);
    assert_eq!(
        util::text(&exposure.stdout),
        "monitoring/prometheus[Deployment] => tenant-a/db[Deployment] : TCP 9187\n\
         tenant-a/db[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections\n\
         tenant-a/db[Deployment] => monitoring/prometheus[Deployment] : All Connections\n\
         tenant-a/web[Deployment] => tenant-a/db[Deployment] : TCP 5432\n\n\
         Exposure Analysis Result:\n\
         Egress Exposure:\n\
         tenant-a/db[Deployment] \t=> \t0.0.0.0-255.255.255.255[External] : All Connections\n\
         tenant-a/db[Deployment] \t=> \tentire-cluster : All Connections\n\n\
         Ingress Exposure:\n\
         tenant-a/db[Deployment] \t<= \tmonitoring/[all pods] : TCP 9187\n\n\
         Workloads not protected by network policies:\n\
         tenant-a/db[Deployment] is not protected on Egress\n"
    );
    let focus = netfence(&[
        "matrix",
        "-o",
        "connlist",
        "--focus-workload",
        "web",
        "--focus-direction",
        "ingress",
        "--focus-conn",
        "tcp-9100",
        example,
    ]);
    assert_eq!(
        util::text(&focus.stdout),
        "Permitted connections on TCP 9100:\n\
         0.0.0.0-255.255.255.255[External] => tenant-a/web[Deployment]\n\
         0.0.0.0-255.255.255.255[External] => tenant-b/web[Deployment]\n\
         monitoring/prometheus[Deployment] => tenant-a/web[Deployment]\n\
         monitoring/prometheus[Deployment] => tenant-b/web[Deployment]\n"
    );
    // A file the analysis refuses: the file first, and how many more problems check lists.
    let refused = netfence(&["matrix", "examples/lint/risky-admin.yaml"]);
    assert_eq!(refused.status.code(), Some(2));
    let err = util::text(&refused.stderr);
    assert!(
        err.starts_with("netfence: examples/lint/risky-admin.yaml: document 10 (BaselineAdminNetworkPolicy/default)")
            && err.trim_end().ends_with("(and 2 more: `netfence check` lists them)"),
        "{err}"
    );
}

/// `render --check` lints the output with the same topology checks as `check` (here: two
/// AdminNetworkPolicies of one priority, a conflict only the whole-input checks see).
#[test]
fn render_check_sees_the_conflicts_check_sees() {
    let input = util::read("tests/fixtures/analysis/admin-same-priority.yaml");
    let check = util::netfence(&["check", "tests/fixtures/analysis/admin-same-priority.yaml"], b"");
    assert!(util::text(&check.stdout).contains("NF011"), "{}", util::text(&check.stdout));
    let render = util::netfence(&["render", "--check", "-n", "a"], input.as_bytes());
    let err = util::text(&render.stderr);
    assert!(err.contains("NF011") && err.contains("AdminNetworkPolicy same"), "{err}");
    assert_ne!(render.status.code(), Some(0));
    assert!(render.stdout.is_empty(), "errors: nothing written");
}
