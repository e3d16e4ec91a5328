//! netfence as a KRM function: ResourceLists piped to the binary, the real kpt (`fn eval --exec`,
//! `fn render --allow-exec`), kubectl's kustomize with the legacy exec plugin, and the container
//! contract through a stand-in `docker`.

use crate::util::{bin_dir, copy_dir, netfence, netfence_bin, policy, read, repo_root, run, scratch_dir, text, tool};
use netfence::krm::{ResourceList, Severity};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CONTAINER_IMAGE: &str = "localhost/netfence:dev";

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("invalid YAML: {e}\n{text}"))
}

/// Every document of a YAML stream, parsed.
fn docs(stream: &str) -> Vec<Value> {
    let s = netfence::stream::Stream::parse(stream.as_bytes()).expect("a valid stream");
    s.docs.iter().filter(|d| d.header.is_some()).map(|d| d.value(s.format).expect("a valid document")).collect()
}

fn resource_list(items: Vec<Value>, function_config: Option<Value>) -> String {
    let mut list = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items});
    if let Some(fc) = function_config {
        list["functionConfig"] = fc;
    }
    netfence::stream::emit::yaml(&list, false)
}

fn parse_list(out: &Output) -> ResourceList {
    ResourceList::parse(&out.stdout).unwrap_or_else(|e| panic!("{e}\nstdout:\n{}", text(&out.stdout)))
}

/// The base app of examples/kustomize as kustomize hands it to a function: namespaced, with
/// kustomize's annotations.
fn kustomize_items() -> Vec<Value> {
    let mut items = docs(&read("examples/kustomize/base/web.yaml"));
    items.extend(docs(&read("examples/kustomize/base/networkpolicy.yaml")));
    for (i, item) in items.iter_mut().enumerate() {
        item["metadata"]["namespace"] = json!("shop");
        item["metadata"]["annotations"] = json!({
            "config.kubernetes.io/index": i.to_string(),
            "internal.config.kubernetes.io/index": i.to_string(),
            "internal.config.kubernetes.io/id": (i + 1).to_string(),
            "config.k8s.io/id": (i + 1).to_string(),
            "kustomize.config.k8s.io/id": format!("kind: {}\nname: {}\nnamespace: shop\n", item["kind"].as_str().unwrap(), item["metadata"]["name"].as_str().unwrap()),
            "internal.config.kubernetes.io/previousKinds": item["kind"].clone(),
        });
    }
    items
}

/// The typed function config of the examples (spec of examples/kustomize/plugin/netfence.yaml).
fn netfence_config() -> Value {
    let mut fc = yaml(&read("examples/kustomize/plugin/netfence.yaml"));
    fc["metadata"]["annotations"] = json!({"config.kubernetes.io/local-config": "true"});
    fc
}

#[test]
fn resource_list_in_resource_list_out() {
    let items = kustomize_items();
    let input = resource_list(items.clone(), Some(netfence_config()));
    let out = netfence(&[], input.as_bytes());
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "stderr: {}", text(&out.stderr));
    let list = parse_list(&out);
    assert_eq!(list.api_version, "config.kubernetes.io/v1");
    assert!(list.function_config.is_none(), "the function config is input only");
    assert_eq!(list.items.len(), items.len() + 2, "{:#?}", list.items);
    // Every input item keeps its annotations exactly (an edited policy gains netfence's record
    // of what it appended), and untouched items are unchanged.
    for (before, after) in items.iter().zip(&list.items) {
        let mut annotations = after["metadata"]["annotations"].clone();
        if let Some(a) = annotations.as_object_mut() {
            a.remove("netfence.dev/added-egress");
        }
        assert_eq!(before["metadata"]["annotations"], annotations);
        if before["kind"] != "NetworkPolicy" {
            assert_eq!(before, after);
        }
    }
    // The app's policy got DNS and the configured egress rule; the baselines were added.
    let web = policy(&list.items, "shop", "web");
    let egress = web["spec"]["egress"].as_array().expect("egress rules");
    assert_eq!(egress.len(), 2, "{web:#}");
    assert_eq!(egress[0]["ports"][0], json!({"protocol": "UDP", "port": 53}));
    assert_eq!(egress[1]["to"][0]["ipBlock"]["cidr"], "10.20.0.0/16");
    assert_eq!(
        policy(&list.items, "shop", "netfence-default-deny")["spec"]["policyTypes"],
        json!(["Ingress", "Egress"])
    );
    policy(&list.items, "shop", "netfence-allow-dns");
    // No kpt path annotations in, none out.
    assert!(list
        .items
        .iter()
        .all(|i| i["metadata"]["annotations"].get("internal.config.kubernetes.io/path").is_none()));
    assert_eq!(list.results.len(), 1, "{:#?}", list.results);
    assert_eq!(list.results[0].severity, Severity::Info);
    assert_eq!(
        list.results[0].message,
        "netfence: added 2 NetworkPolicies (shop/netfence-default-deny, shop/netfence-allow-dns); changed 1 (shop/web)"
    );
}

#[test]
fn the_answer_is_idempotent() {
    let input = resource_list(kustomize_items(), Some(netfence_config()));
    let first = parse_list(&netfence(&[], input.as_bytes()));
    let again = resource_list(first.items.clone(), Some(netfence_config()));
    let second = parse_list(&netfence(&[], again.as_bytes()));
    assert_eq!(first.items, second.items);
    assert_eq!(second.results[0].message, "netfence: nothing to add or change, the items are already isolated");
}

#[test]
fn v1beta1_and_json_are_answered_in_kind() {
    let list =
        json!({"apiVersion": "config.kubernetes.io/v1beta1", "kind": "ResourceList", "items": kustomize_items()});
    let out = netfence(&[], list.to_string().as_bytes());
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).expect("a JSON answer to a JSON input");
    assert_eq!(answer["apiVersion"], "config.kubernetes.io/v1beta1");
    assert_eq!(answer["items"].as_array().unwrap().len(), 5);
}

#[test]
fn local_config_items_come_back_unchanged_and_are_not_resources() {
    let kptfile = json!({"apiVersion": "kpt.dev/v1", "kind": "Kptfile", "metadata": {"name": "pkg",
        "annotations": {"config.kubernetes.io/local-config": "true", "internal.config.kubernetes.io/path": "Kptfile"}},
        "pipeline": {"mutators": [{"exec": "netfence"}]}});
    let mut fc_item = netfence_config();
    fc_item["metadata"]["annotations"]["internal.config.kubernetes.io/path"] = json!("netfence.yaml");
    let mut items = vec![kptfile.clone(), fc_item.clone()];
    for (i, mut item) in kustomize_items().into_iter().enumerate() {
        item["metadata"]["annotations"]["internal.config.kubernetes.io/path"] = json!("app.yaml");
        item["metadata"]["annotations"]["internal.config.kubernetes.io/index"] = json!(i.to_string());
        items.push(item);
    }
    let out = netfence(&[], resource_list(items, Some(netfence_config())).as_bytes());
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let list = parse_list(&out);
    assert_eq!(list.items[0], kptfile);
    assert_eq!(list.items[1], fc_item);
    // The Kptfile and the NetFence object are no resources: nothing lands in namespace "default".
    let new: Vec<&Value> = list.items[5..].iter().collect();
    assert_eq!(new.len(), 2);
    for item in new {
        assert_eq!(item["metadata"]["namespace"], "shop");
        // Under kpt, new items get a file of their own.
        let path = format!("netfence/shop/{}.yaml", item["metadata"]["name"].as_str().unwrap());
        assert_eq!(item["metadata"]["annotations"]["internal.config.kubernetes.io/path"], json!(path));
    }
}

#[test]
fn configmap_function_config() {
    let mut items = kustomize_items();
    for item in &mut items {
        item["metadata"].as_object_mut().unwrap().remove("namespace");
    }
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "function-input"},
        "data": {"namespace": "store", "dnsProfile": "node-local", "policyTypes": "Ingress"}});
    let out = netfence(&[], resource_list(items, Some(cm)).as_bytes());
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let list = parse_list(&out);
    let web = list.items.iter().find(|i| i["kind"] == "NetworkPolicy" && i["metadata"]["name"] == "web").unwrap();
    assert_eq!(web["spec"]["egress"][0]["to"][1]["ipBlock"]["cidr"], "169.254.20.10/32", "{web:#}");
    // Ingress only: a default-deny, no allow-DNS.
    assert_eq!(policy(&list.items, "store", "netfence-default-deny")["spec"]["policyTypes"], json!(["Ingress"]));
    assert_eq!(list.items.len(), 4);
}

#[test]
fn invalid_function_config_is_an_error_result_and_a_failure() {
    let items = kustomize_items();
    let mut fc = netfence_config();
    fc["spec"]["egress"][0]["ports"][0]["port"] = json!(70000);
    let out = netfence(&[], resource_list(items.clone(), Some(fc)).as_bytes());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("netfence: functionConfig.spec.egress[0].ports[0].port: "), "{stderr}");
    // The answer is still a ResourceList, for kpt to show: items unchanged, one error result.
    let list = parse_list(&out);
    assert_eq!(list.items, items);
    assert_eq!(list.results.len(), 1);
    let r = &list.results[0];
    assert_eq!(r.severity, Severity::Error);
    assert_eq!(r.field.as_ref().unwrap().path, "spec.egress[0].ports[0].port");
    let rr = r.resource_ref.as_ref().unwrap();
    assert_eq!((rr.kind.as_str(), rr.name.as_str()), ("NetFence", "netfence"));

    // Errors the transforms find in the configuration are named in the function config's terms.
    let mut fc = netfence_config();
    fc["spec"]["kubeApi"] = json!({"from": [{"namespace": "shop"}]});
    let out = netfence(&[], resource_list(items.clone(), Some(fc)).as_bytes());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("netfence: functionConfig.spec.kubeApi.cidrs: "), "{}", text(&out.stderr));
    let r = &parse_list(&out).results[0];
    assert_eq!(r.field.as_ref().unwrap().path, "spec.kubeApi.cidrs");
    assert_eq!(r.resource_ref.as_ref().unwrap().kind, "NetFence");

    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"dnsProfil": "kube-dns"}});
    let out = netfence(&[], resource_list(items, Some(cm)).as_bytes());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(parse_list(&out).results[0].field.as_ref().unwrap().path, "data.dnsProfil");
}

#[test]
fn invalid_item_is_an_error_result_about_it() {
    let mut items = kustomize_items();
    items[2]["spec"]["policyTypes"] = json!("Egress");
    let out = netfence(&[], resource_list(items, None).as_bytes());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("netfence: items[2] (NetworkPolicy/web): invalid NetworkPolicy"));
    let list = parse_list(&out);
    assert_eq!(list.results[0].resource_ref.as_ref().unwrap().name, "web");
}

#[test]
fn warnings_point_at_their_resource() {
    let mut items = kustomize_items();
    items[2]["spec"]["podSelector"]["matchLabels"]["app"] = json!("wbe");
    let list = parse_list(&netfence(&[], resource_list(items, None).as_bytes()));
    let warning = list.results.iter().find(|r| r.severity == Severity::Warning).expect("a warning");
    assert!(warning.message.contains("shop/web selects no pod"), "{}", warning.message);
    assert_eq!(warning.resource_ref.as_ref().unwrap().kind, "NetworkPolicy");
    assert_eq!(warning.field.as_ref().unwrap().path, "spec.podSelector");
}

#[test]
fn unreadable_input_writes_nothing() {
    for (args, input) in [
        (&["--krm"][..], "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"),
        (&[][..], "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [\n"),
        (&["-f", "values.yaml"][..], "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"),
    ] {
        let out = netfence(args, input.as_bytes());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
        assert_eq!(text(&out.stderr).lines().count(), 1, "{}", text(&out.stderr));
    }
}

/// The KRM function transforms items exactly as `render` transforms the same documents.
#[test]
fn krm_items_equal_render_documents() {
    let mut cases: Vec<(String, String, Value)> = Vec::new(); // (name, stream, networkPolicy block)
    let base = format!(
        "{}---\n{}",
        read("examples/kustomize/base/web.yaml"),
        read("examples/kustomize/base/networkpolicy.yaml")
    );
    cases.push(("kustomize base".into(), base, yaml(&read("examples/kustomize/plugin/netfence.yaml"))["spec"].clone()));
    // A `kind: List` item: its policies are transformed inside it, as render does for a List document.
    let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata: {name: web}\n  spec:\n    podSelector: {matchLabels: {app: web}}\n    policyTypes: [Egress]\n    egress: [{to: [{podSelector: {matchLabels: {app: db}}}]}]\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: web}\n  spec:\n    selector: {matchLabels: {app: web}}\n    template:\n      metadata: {labels: {app: web}}\n      spec: {containers: [{name: c, image: x}]}\n";
    cases.push((
        "a List item".into(),
        list.into(),
        json!({"egress": [{"to": [{"ipBlock": {"cidr": "10.9.0.0/16"}}]}]}),
    ));
    // Every example with a rendered chart and its values.
    for entry in std::fs::read_dir(repo_root().join("examples")).unwrap().flatten() {
        let (rendered, values) = (entry.path().join("rendered.yaml"), entry.path().join("values.yaml"));
        if rendered.is_file() && values.is_file() {
            let block =
                yaml(&std::fs::read_to_string(&values).unwrap()).get("networkPolicy").cloned().unwrap_or(json!({}));
            cases.push((entry.path().display().to_string(), std::fs::read_to_string(&rendered).unwrap(), block));
        }
    }
    for (name, stream, block) in cases {
        let dir = scratch_dir("krm-vs-render");
        let values = dir.join("values.yaml");
        std::fs::write(&values, netfence::stream::emit::yaml(&json!({"networkPolicy": block}), false)).unwrap();
        let rendered = netfence(&["render", "-n", "apps", "-f", values.to_str().unwrap()], stream.as_bytes());
        assert!(rendered.status.success(), "{name}: {}", text(&rendered.stderr));

        let mut spec = block.clone();
        spec["namespace"] = json!("apps");
        let fc =
            json!({"apiVersion": "netfence.dev/v1alpha1", "kind": "NetFence", "metadata": {"name": "x"}, "spec": spec});
        let out = netfence(&[], resource_list(docs(&stream), Some(fc)).as_bytes());
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert_eq!(parse_list(&out).items, docs(&text(&rendered.stdout)), "{name}");
    }
}

/// The function config of the check tests: DNS left out, so the app's egress-denying policy
/// breaks DNS (an NF002 error).
fn no_dns_config(check: bool) -> Value {
    json!({"apiVersion": "netfence.dev/v1alpha1", "kind": "NetFence", "metadata": {"name": "netfence"},
           "spec": {"check": check, "dns": {"enabled": false}, "defaultDeny": {"enabled": false}}})
}

#[test]
fn check_mode_reports_lint_findings_as_results() {
    let input = resource_list(kustomize_items(), Some(no_dns_config(true)));
    let out = netfence(&[], input.as_bytes());
    // An error finding fails the function, and the answer still carries items and results.
    assert_eq!(out.status.code(), Some(1), "stderr: {}", text(&out.stderr));
    let list = parse_list(&out);
    assert_eq!(list.items.len(), kustomize_items().len(), "nothing added with DNS and default-deny off");
    let dns = list
        .results
        .iter()
        .find(|r| r.tags.get("rule").map(String::as_str) == Some("NF002"))
        .unwrap_or_else(|| panic!("no NF002 result in {:#?}", list.results));
    assert_eq!(dns.severity, Severity::Error);
    assert!(
        dns.message.starts_with("NF002 dns-blocked: shop/web[Deployment]: DNS over UDP and TCP is blocked"),
        "{}",
        dns.message
    );
    let about = dns.resource_ref.as_ref().expect("a resourceRef");
    assert_eq!(
        (about.kind.as_str(), about.name.as_str(), about.namespace.as_deref()),
        ("Deployment", "web", Some("shop"))
    );
    let summary = list.results.last().unwrap();
    assert_eq!(summary.severity, Severity::Info);
    assert!(summary.message.starts_with("netfence check: 1 errors"), "{}", summary.message);

    // Without check mode the same list passes with no findings; `--check` asks for them too.
    let quiet = netfence(&[], resource_list(kustomize_items(), Some(no_dns_config(false))).as_bytes());
    assert!(quiet.status.success(), "{}", text(&quiet.stderr));
    assert!(parse_list(&quiet).results.iter().all(|r| !r.tags.contains_key("rule")));
    let flagged = netfence(&["--check"], resource_list(kustomize_items(), Some(no_dns_config(false))).as_bytes());
    assert_eq!(flagged.status.code(), Some(1));
    assert!(parse_list(&flagged).results.iter().any(|r| r.tags.get("rule").map(String::as_str) == Some("NF002")));

    // With netfence's DNS rule the finding is gone: only the summary is added.
    let fixed = netfence(&["--check"], resource_list(kustomize_items(), None).as_bytes());
    assert!(fixed.status.success(), "{}", text(&fixed.stderr));
    let results = parse_list(&fixed).results;
    assert!(results.iter().all(|r| r.severity != Severity::Error), "{results:#?}");
    assert!(results.iter().any(|r| r.message.starts_with("netfence check: 0 errors")), "{results:#?}");
}

#[test]
fn render_check_outside_krm_writes_nothing_on_errors() {
    let stream = format!(
        "{}---\n{}",
        read("examples/kustomize/base/web.yaml"),
        read("examples/kustomize/base/networkpolicy.yaml")
    );
    let dir = scratch_dir("render-check");
    let values = dir.join("values.yaml");
    std::fs::write(&values, "networkPolicy:\n  dns: {enabled: false}\n  defaultDeny: {enabled: false}\n").unwrap();
    let out = netfence(&["render", "--check", "-n", "shop", "-f", values.to_str().unwrap()], stream.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing may reach Helm: {}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error NF002 dns-blocked: shop/web[Deployment]"), "{stderr}");
    assert!(stderr.contains("--check found errors"), "{stderr}");
    // A NetFence config file's `spec.check` asks for the same.
    let config = dir.join("netfence.yaml");
    let fc = no_dns_config(true);
    std::fs::write(&config, netfence::stream::emit::yaml(&fc, false)).unwrap();
    let out = netfence(&["render", "--config", config.to_str().unwrap(), "-n", "shop"], stream.as_bytes());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    // With the defaults the output is isolated and DNS works: it is written, findings or not.
    let out = netfence(&["render", "--check", "-n", "shop"], stream.as_bytes());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("netfence-default-deny"));
    assert!(text(&out.stderr).contains("check: 0 errors"), "{}", text(&out.stderr));
}

#[test]
fn schema_file_is_the_generated_one() {
    let out = netfence(&["schema", "--kind", "NetFence"], b"");
    assert!(out.status.success());
    let committed = read("functions/kustomize/netfence.schema.json");
    assert_eq!(
        text(&out.stdout),
        committed,
        "functions/kustomize/netfence.schema.json is stale: netfence schema --kind NetFence > functions/kustomize/netfence.schema.json"
    );
    // And the examples' function configs are valid against what the code reads.
    for file in ["examples/kustomize/plugin/netfence.yaml", "examples/kpt/shop/netfence.yaml"] {
        netfence::config::function_config::parse(Some(&yaml(&read(file)))).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

#[test]
fn render_reads_a_netfence_config_file() {
    let stream = format!(
        "{}---\n{}",
        read("examples/kustomize/base/web.yaml"),
        read("examples/kustomize/base/networkpolicy.yaml")
    );
    let config = repo_root().join("examples/kpt/shop/netfence.yaml");
    let out = netfence(&["render", "--config", config.to_str().unwrap()], stream.as_bytes());
    assert!(out.status.success(), "{}", text(&out.stderr));
    // spec.namespace places the documents; spec.egress is merged.
    let out_docs = docs(&text(&out.stdout));
    assert_eq!(policy(&out_docs, "shop", "netfence-default-deny")["kind"], "NetworkPolicy");
    let bad = scratch_dir("bad-config").join("netfence.yaml");
    std::fs::write(&bad, "apiVersion: netfence.dev/v1alpha1\nkind: NetFence\nspec:\n  dns: {profile: nope}\n").unwrap();
    let out = netfence(&["render", "--config", bad.to_str().unwrap()], stream.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("netfence.yaml: spec.dns.profile: unknown variant"), "{}", text(&out.stderr));
}

// ---- kpt ----

/// Every file under `dir` with its content, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                out.insert(
                    entry.path().strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read_to_string(entry.path()).unwrap(),
                );
            }
        }
    }
    out
}

fn path_with(dir: &Path) -> String {
    format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default())
}

fn netfence_on_path() -> PathBuf {
    bin_dir("netfence-bin", &[("netfence", &netfence_bin())])
}

#[test]
fn kpt_fn_render_runs_the_example_pipeline() {
    let Some(kpt) = tool("kpt") else { return };
    let pkg = scratch_dir("kpt-render").join("shop");
    copy_dir(&repo_root().join("examples/kpt/shop"), &pkg);
    let bin = netfence_on_path();
    let unwrap = run(
        Command::new(&kpt)
            .args(["fn", "render", ".", "--allow-exec", "-o", "unwrap"])
            .current_dir(&pkg)
            .env("PATH", path_with(&bin)),
        b"",
    );
    assert!(unwrap.status.success(), "{}", text(&unwrap.stderr));
    assert_eq!(text(&unwrap.stdout), read("examples/kpt/expected.yaml"));
    assert!(text(&unwrap.stderr).contains("[info]: netfence: added 2 NetworkPolicies"), "{}", text(&unwrap.stderr));

    // In place: the new policies get files of their own, the rest keeps its comments.
    let before = snapshot(&pkg);
    let out = run(
        Command::new(&kpt).args(["fn", "render", ".", "--allow-exec"]).current_dir(&pkg).env("PATH", path_with(&bin)),
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let after = snapshot(&pkg);
    let added: Vec<&PathBuf> = after.keys().filter(|p| !before.contains_key(*p)).collect();
    assert_eq!(
        added,
        [Path::new("netfence/shop/netfence-allow-dns.yaml"), Path::new("netfence/shop/netfence-default-deny.yaml")]
    );
    assert_eq!(after[Path::new("web.yaml")], before[Path::new("web.yaml")], "web.yaml must not change");
    assert_eq!(after[Path::new("netfence.yaml")], before[Path::new("netfence.yaml")]);
    assert!(after[Path::new("networkpolicy.yaml")].starts_with("# The app's own policy"));
    assert!(after[Path::new("networkpolicy.yaml")].contains("kube-dns"));
    // Rendering again changes nothing.
    let out = run(
        Command::new(&kpt).args(["fn", "render", ".", "--allow-exec"]).current_dir(&pkg).env("PATH", path_with(&bin)),
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(snapshot(&pkg), after);
}

#[test]
fn kpt_fn_eval_exec_with_key_values_and_fn_config() {
    let Some(kpt) = tool("kpt") else { return };
    let pkg = scratch_dir("kpt-eval").join("shop");
    copy_dir(&repo_root().join("examples/kpt/shop"), &pkg);
    let exec = netfence_bin();
    // `-- key=value` arrives as a ConfigMap.
    let out = run(
        Command::new(&kpt).arg("fn").arg("eval").arg(&pkg).arg("--exec").arg(&exec).args([
            "-o",
            "unwrap",
            "--",
            "namespace=web",
            "dnsProfile=node-local",
        ]),
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let items = docs(&text(&out.stdout));
    let allow_dns = policy(&items, "web", "netfence-allow-dns");
    assert_eq!(allow_dns["spec"]["egress"][0]["to"][1]["ipBlock"]["cidr"], "169.254.20.10/32");

    // An invalid key fails the run, and kpt shows the error result with its field.
    let out = run(
        Command::new(&kpt).arg("fn").arg("eval").arg(&pkg).arg("--exec").arg(&exec).args(["--", "dnsProfile=bogus"]),
        b"",
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("[error] v1/ConfigMap/function-input data.dnsProfile: invalid function config"),
        "{stderr}"
    );

    // In place with --fn-config: the config file stays, the policies are added.
    let before = snapshot(&pkg);
    let out = run(
        Command::new(&kpt)
            .arg("fn")
            .arg("eval")
            .arg(&pkg)
            .arg("--exec")
            .arg(&exec)
            .arg("--fn-config")
            .arg(pkg.join("netfence.yaml")),
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let after = snapshot(&pkg);
    assert_eq!(after[Path::new("netfence.yaml")], before[Path::new("netfence.yaml")]);
    assert_eq!(after[Path::new("Kptfile")], before[Path::new("Kptfile")]);
    assert!(after.contains_key(Path::new("netfence/shop/netfence-default-deny.yaml")), "{:?}", after.keys());
}

#[test]
fn kpt_fn_eval_check_mode_shows_findings() {
    let Some(kpt) = tool("kpt") else { return };
    let pkg = scratch_dir("kpt-check").join("shop");
    copy_dir(&repo_root().join("examples/kpt/shop"), &pkg);
    let exec = format!("{} --check", netfence_bin().display());
    // DNS off: the app's policy blocks DNS, kpt shows the error finding and fails.
    let out = run(
        Command::new(&kpt).arg("fn").arg("eval").arg(&pkg).arg("--exec").arg(&exec).args([
            "--",
            "namespace=shop",
            "dns=false",
        ]),
        b"",
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("[error] apps/v1/Deployment/web: NF002 dns-blocked: shop/web[Deployment]"), "{stderr}");
    // The ConfigMap key does the same without the flag; with DNS the run passes and says so.
    let out = run(
        Command::new(&kpt).arg("fn").arg("eval").arg(&pkg).arg("--exec").arg(netfence_bin()).args([
            "--",
            "namespace=shop",
            "check=true",
        ]),
        b"",
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("[info]: netfence check: 0 errors"), "{stderr}");
}

// ---- kustomize (kubectl's) ----

/// The kubectl binaries to run: the pinned one from .tools, and the preinstalled one if any.
fn kubectls() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = tool("kubectl").into_iter().collect();
    let system = PathBuf::from("/usr/bin/kubectl");
    if system.is_file() {
        found.push(system);
    }
    found
}

#[test]
fn kubectl_kustomize_runs_the_legacy_plugin() {
    let plugin_home = repo_root().join("functions/kustomize/plugin");
    let bin = netfence_on_path();
    for kubectl in kubectls() {
        let out = run(
            Command::new(&kubectl)
                .args(["kustomize", "--enable-alpha-plugins"])
                .arg(repo_root().join("examples/kustomize/plugin"))
                .env("KUSTOMIZE_PLUGIN_HOME", &plugin_home)
                .env("PATH", path_with(&bin)),
            b"",
        );
        assert!(out.status.success(), "{}: {}", kubectl.display(), text(&out.stderr));
        assert_eq!(text(&out.stdout), read("examples/kustomize/expected.yaml"), "{}", kubectl.display());
    }
    // The plugin fails the build when the NetFence object is invalid.
    let app = scratch_dir("kustomize-bad");
    copy_dir(&repo_root().join("examples/kustomize"), &app);
    let config = app.join("plugin/netfence.yaml");
    std::fs::write(&config, read("examples/kustomize/plugin/netfence.yaml").replace("port: 5432", "port: 0")).unwrap();
    let kubectl = kubectls().into_iter().next().expect("a kubectl");
    let out = run(
        Command::new(&kubectl)
            .args(["kustomize", "--enable-alpha-plugins"])
            .arg(app.join("plugin"))
            .env("KUSTOMIZE_PLUGIN_HOME", &plugin_home)
            .env("PATH", path_with(&bin)),
        b"",
    );
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("spec.egress[0].ports[0].port"), "{}", text(&out.stderr));
}

#[test]
fn legacy_plugin_accepts_only_check_among_its_arguments() {
    let plugin_home = repo_root().join("functions/kustomize/plugin");
    let bin = netfence_on_path();
    let kubectl = kubectls().into_iter().next().expect("a kubectl");
    let build = |args_one_liner: &str| {
        let app = scratch_dir("kustomize-plugin-args");
        copy_dir(&repo_root().join("examples/kustomize"), &app);
        let config = app.join("plugin/netfence.yaml");
        let text = format!("{}argsOneLiner: {args_one_liner}\n", read("examples/kustomize/plugin/netfence.yaml"));
        std::fs::write(&config, text).unwrap();
        run(
            Command::new(&kubectl)
                .args(["kustomize", "--enable-alpha-plugins"])
                .arg(app.join("plugin"))
                .env("KUSTOMIZE_PLUGIN_HOME", &plugin_home)
                .env("PATH", path_with(&bin)),
            b"",
        )
    };
    let out = build("--check");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), read("examples/kustomize/expected.yaml"));
    for hostile in ["-f /etc/passwd", "--values=../x", "--config /var/run/secrets/token", "--krm", "'$(touch /tmp/x)'"]
    {
        let out = build(hostile);
        assert!(!out.status.success(), "{hostile}: accepted");
        assert!(out.stdout.is_empty(), "{hostile}");
        assert!(text(&out.stderr).contains("is not allowed (only --check"), "{hostile}: {}", text(&out.stderr));
    }
}

#[test]
fn kubectl_kustomize_silently_skips_exec_functions() {
    // Why the legacy plugin exists: kubectl has no --enable-exec.
    let bin = netfence_on_path();
    for kubectl in kubectls() {
        let out = run(
            Command::new(&kubectl)
                .args(["kustomize", "--enable-alpha-plugins"])
                .arg(repo_root().join("examples/kustomize/exec"))
                .env("PATH", path_with(&bin)),
            b"",
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(!text(&out.stdout).contains("netfence-default-deny"), "kubectl ran an exec function?");
    }
}

#[test]
fn exec_and_container_examples_carry_the_plugin_example_spec() {
    let spec = |f: &str| yaml(&read(f))["spec"].clone();
    let plugin = spec("examples/kustomize/plugin/netfence.yaml");
    assert_eq!(spec("examples/kustomize/exec/netfence.yaml"), plugin);
    assert_eq!(spec("examples/kustomize/container/netfence.yaml"), plugin);
    let exec = yaml(&read("examples/kustomize/exec/netfence.yaml"));
    let function = yaml(exec["metadata"]["annotations"]["config.kubernetes.io/function"].as_str().unwrap());
    assert_eq!(function, json!({"exec": {"path": "netfence"}}));
}

#[test]
fn container_contract_through_a_stand_in_docker() {
    let dir = scratch_dir("docker-stand-in");
    let args_file = dir.join("docker-args");
    let docker = dir.join("docker");
    std::fs::write(
        &docker,
        format!(
            "#!/bin/sh\n# Records how kustomize runs the image, then runs the binary as the image would.\nprintf '%s\\n' \"$@\" > '{}'\nexec '{}'\n",
            args_file.display(),
            netfence_bin().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&docker, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    for kubectl in kubectls() {
        let _ = std::fs::remove_file(&args_file);
        let out = run(
            Command::new(&kubectl)
                .args(["kustomize", "--enable-alpha-plugins"])
                .arg(repo_root().join("examples/kustomize/container"))
                .env("PATH", path_with(&dir)),
            b"",
        );
        assert!(out.status.success(), "{}: {}", kubectl.display(), text(&out.stderr));
        assert_eq!(text(&out.stdout), read("examples/kustomize/expected.yaml"));
        let args = std::fs::read_to_string(&args_file).expect("kustomize ran docker");
        let args: Vec<&str> = args.lines().collect();
        assert_eq!(
            args,
            [
                "run",
                "--rm",
                "-i",
                "-a",
                "STDIN",
                "-a",
                "STDOUT",
                "-a",
                "STDERR",
                "--network",
                "none",
                "--user",
                "nobody",
                "--security-opt=no-new-privileges",
                "-e",
                "LOG_TO_STDERR=true",
                "-e",
                "STRUCTURED_RESULTS=true",
                CONTAINER_IMAGE,
            ],
            "{}",
            kubectl.display()
        );
    }
    // The image scripts/build-image.sh builds fits those arguments: no arguments, the `nobody`
    // user (the e2e_pack tests build and run it for real).
    let containerfile = read("functions/kustomize/Containerfile");
    assert!(containerfile.contains("\nUSER 65534:65534\n"));
    assert!(containerfile.contains("\nENTRYPOINT [\"/usr/local/bin/netfence\"]\n"));
    assert!(read("scripts/build-image.sh").contains("'nobody:x:65534:65534:"));
    assert!(read("functions/kustomize/metadata.yaml").contains("image: ghcr.io/netfence/netfence\n"));
}

/// `kpt fn render` in place over the example package with the function config `netfence.yaml`
/// changed by `edit`.
fn kpt_render_in_place(kpt: &Path, pkg: &Path, edit: impl Fn(&str) -> String) {
    let config = pkg.join("netfence.yaml");
    std::fs::write(&config, edit(&std::fs::read_to_string(&config).unwrap())).unwrap();
    let out = run(
        Command::new(kpt)
            .args(["fn", "render", ".", "--allow-exec"])
            .current_dir(pkg)
            .env("PATH", path_with(&netfence_on_path())),
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn kpt_in_place_re_render_replaces_netfence_s_own_rules() {
    let Some(kpt) = tool("kpt") else { return };
    let config_b = |c: &str| {
        c.replace("10.20.0.0/16", "10.30.0.0/16").replace("  egress:\n", "  dns:\n    profile: node-local\n  egress:\n")
    };
    // Rendered with A (the example: 10.20.0.0/16, kube-dns), then the config changed to B.
    let pkg = scratch_dir("kpt-rerender").join("shop");
    copy_dir(&repo_root().join("examples/kpt/shop"), &pkg);
    kpt_render_in_place(&kpt, &pkg, |c| c.to_string());
    let first = std::fs::read_to_string(pkg.join("networkpolicy.yaml")).unwrap();
    assert!(first.contains("10.20.0.0/16") && first.contains("netfence.dev/added-egress"), "{first}");
    kpt_render_in_place(&kpt, &pkg, config_b);
    let web = std::fs::read_to_string(pkg.join("networkpolicy.yaml")).unwrap();
    let egress = docs(&web)[0]["spec"]["egress"].as_array().cloned().unwrap_or_default();
    // Only the new rules: the node-local DNS rule and 10.30.0.0/16, nothing of A's.
    assert_eq!(egress.len(), 2, "{web}");
    assert_eq!(egress[0]["to"][1]["ipBlock"]["cidr"], "169.254.20.10/32", "{web}");
    assert_eq!(egress[1]["to"][0]["ipBlock"]["cidr"], "10.30.0.0/16", "{web}");
    assert!(!web.contains("10.20.0.0/16"), "{web}");
    // The same package rendered with B at once: the same files, byte for byte.
    let fresh = scratch_dir("kpt-rerender-fresh").join("shop");
    copy_dir(&repo_root().join("examples/kpt/shop"), &fresh);
    kpt_render_in_place(&kpt, &fresh, config_b);
    assert_eq!(snapshot(&pkg), snapshot(&fresh));
}

#[test]
fn kpt_in_place_re_render_removes_the_generated_objects_no_longer_wanted() {
    let Some(kpt) = tool("kpt") else { return };
    let deny_off = |c: &str| c.replace("  egress:\n", "  defaultDeny:\n    enabled: false\n  egress:\n");
    let pkg = scratch_dir("kpt-rerender-removal").join("shop");
    copy_dir(&repo_root().join("examples/kpt/shop"), &pkg);
    kpt_render_in_place(&kpt, &pkg, |c| c.to_string());
    let baseline =
        [Path::new("netfence/shop/netfence-allow-dns.yaml"), Path::new("netfence/shop/netfence-default-deny.yaml")];
    let before = snapshot(&pkg);
    assert!(baseline.iter().all(|f| before.contains_key(*f)), "{:?}", before.keys());
    // The default-deny switched off: the baseline's files go (kpt deletes the file of every
    // item the function no longer returns), the rest is what a fresh render with it off gives.
    kpt_render_in_place(&kpt, &pkg, deny_off);
    let after = snapshot(&pkg);
    assert!(baseline.iter().all(|f| !after.contains_key(*f)), "{:?}", after.keys());
    assert!(after.keys().all(|f| !f.starts_with("netfence/")), "{:?}", after.keys());
    let fresh = scratch_dir("kpt-rerender-removal-fresh").join("shop");
    copy_dir(&repo_root().join("examples/kpt/shop"), &fresh);
    kpt_render_in_place(&kpt, &fresh, deny_off);
    assert_eq!(after, snapshot(&fresh));
    // And back on: the baseline returns, as a fresh render gives it.
    kpt_render_in_place(&kpt, &pkg, |c| c.replace("  defaultDeny:\n    enabled: false\n", ""));
    assert_eq!(snapshot(&pkg), before);
}
