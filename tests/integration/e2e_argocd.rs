//! The Argo CD Config Management Plugin (functions/argocd/plugin.yaml): its commands are run
//! exactly as written there, the way argocd-cmp-server runs them (command + args, in the app
//! directory, with the environment Argo CD sets), with the real Helm 4 and Helm 3 on PATH.

use crate::util::{bin_dir, copy_dir, netfence_bin, read, repo_root, run, scratch_dir, text, tool};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn plugin() -> Value {
    serde_saphyr::from_str(&read("functions/argocd/plugin.yaml")).expect("plugin.yaml is YAML")
}

/// `spec.<at>` of plugin.yaml as (command, args).
fn command_of(at: &[&str]) -> Vec<String> {
    let mut v = plugin()["spec"].clone();
    for key in at {
        v = v[*key].clone();
    }
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().into_iter().flatten().map(|s| s.as_str().expect("a string").to_string()).collect()
    };
    let mut cmd = strings(&v["command"]);
    assert!(!cmd.is_empty(), "spec.{} has no command", at.join("."));
    cmd.extend(strings(&v["args"]));
    cmd
}

/// The PATH of the sidecar: `helm` (the given binary), `netfence`, `kubectl`, then the system.
fn sidecar_path(helm: &Path) -> String {
    let mut links = vec![("helm", helm.to_path_buf()), ("netfence", netfence_bin())];
    if let Some(kubectl) = tool("kubectl") {
        links.push(("kubectl", kubectl));
    }
    let links: Vec<(&str, &Path)> = links.iter().map(|(n, p)| (*n, p.as_path())).collect();
    format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir("sidecar-bin", &links).display())
}

/// Runs a plugin command in `app_dir` with the environment argocd-cmp-server gives it:
/// its own (PATH, HOME, Helm's directories) plus the app's build environment and `env`.
fn run_plugin(at: &[&str], app_dir: &Path, helm: &Path, env: &[(&str, &str)]) -> Output {
    let cmd = command_of(at);
    let home = scratch_dir("argocd-home");
    let mut c = Command::new(&cmd[0]);
    c.args(&cmd[1..])
        .current_dir(app_dir)
        .env_clear()
        .env("PATH", sidecar_path(helm))
        .env("HOME", &home)
        .env("HELM_CACHE_HOME", home.join("helm/cache"))
        .env("HELM_CONFIG_HOME", home.join("helm/config"))
        .env("HELM_DATA_HOME", home.join("helm/data"))
        .env("ARGOCD_APP_NAME", "argocd_shop")
        .env("ARGOCD_APP_NAMESPACE", "shop")
        .env("ARGOCD_APP_PROJECT_NAME", "default")
        .env("ARGOCD_APP_REVISION", "0123456789abcdef0123456789abcdef01234567")
        .env("ARGOCD_APP_REVISION_SHORT", "0123456")
        .env("ARGOCD_APP_SOURCE_PATH", "examples/argocd/shop")
        .env("ARGOCD_APP_SOURCE_REPO_URL", "https://git.example.com/shop.git")
        .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "HEAD")
        .env("KUBE_VERSION", "1.31.2")
        .env("KUBE_API_VERSIONS", "v1,apps/v1,networking.k8s.io/v1,monitoring.coreos.com/v1");
    for (k, v) in env {
        c.env(k, v);
    }
    run(&mut c, b"")
}

/// The example app's plugin environment: `spec.source.plugin.env` of
/// examples/argocd/application.yaml, prefixed with `ARGOCD_ENV_` as Argo CD does.
fn example_env() -> Vec<(String, String)> {
    let app: Value = serde_saphyr::from_str(&read("examples/argocd/application.yaml")).expect("YAML");
    let plugin_spec = &plugin();
    let plugin_name = format!(
        "{}-{}",
        plugin_spec["metadata"]["name"].as_str().unwrap(),
        plugin_spec["spec"]["version"].as_str().unwrap()
    );
    assert_eq!(app["spec"]["source"]["plugin"]["name"], plugin_name.as_str(), "the example names the plugin");
    assert_eq!(app["spec"]["destination"]["namespace"], "shop");
    app["spec"]["source"]["plugin"]["env"]
        .as_array()
        .expect("plugin env")
        .iter()
        .map(|e| (format!("ARGOCD_ENV_{}", e["name"].as_str().unwrap()), e["value"].as_str().unwrap().to_string()))
        .collect()
}

fn env_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn helms() -> Vec<(&'static str, PathBuf)> {
    ["helm4", "helm3"].into_iter().filter_map(|h| Some((h, tool(h)?))).collect()
}

#[test]
fn generate_renders_the_chart_through_netfence_with_helm_4_and_3() {
    let app = repo_root().join("examples/argocd/shop");
    let env = example_env();
    for (name, helm) in helms() {
        let out = run_plugin(&["generate"], &app, &helm, &env_refs(&env));
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        if std::env::var_os("UPDATE_GOLDEN").is_some() && name == "helm4" {
            // As golden.rs: rewrite the example's expected output (review it before committing).
            std::fs::write(repo_root().join("examples/argocd/expected.yaml"), &out.stdout).unwrap();
        }
        assert_eq!(text(&out.stdout), read("examples/argocd/expected.yaml"), "{name}");
    }
}

#[test]
fn generate_fails_with_no_output_when_netfence_fails() {
    let app = scratch_dir("argocd-bad-values").join("shop");
    copy_dir(&repo_root().join("examples/argocd/shop"), &app);
    // Valid for Helm, invalid for netfence: the sync must fail, not deploy an unfenced app.
    std::fs::write(app.join("values-bad.yaml"), "networkPolicy:\n  defaultDeny:\n    policyType: [Ingress]\n").unwrap();
    for (name, helm) in helms() {
        let out = run_plugin(&["generate"], &app, &helm, &[("ARGOCD_ENV_VALUE_FILES", "values-bad.yaml")]);
        assert!(!out.status.success(), "{name}");
        assert!(out.stdout.is_empty(), "{name}: {}", text(&out.stdout));
        assert!(text(&out.stderr).contains("networkPolicy.defaultDeny.policyType"), "{name}: {}", text(&out.stderr));
    }
}

#[test]
fn generate_fails_with_no_output_when_helm_fails() {
    let app = scratch_dir("argocd-bad-chart").join("shop");
    copy_dir(&repo_root().join("examples/argocd/shop"), &app);
    std::fs::write(app.join("templates/broken.yaml"), "{{ .Values.missing.field }}\n").unwrap();
    let Some((name, helm)) = helms().into_iter().next() else { return };
    let out = run_plugin(&["generate"], &app, &helm, &env_refs(&example_env()));
    assert!(!out.status.success(), "{name}");
    assert!(out.stdout.is_empty(), "{name}: {}", text(&out.stdout));
    // Without a destination namespace there is nothing to fence: fail too.
    let out =
        run_plugin(&["generate"], &repo_root().join("examples/argocd/shop"), &helm, &[("ARGOCD_APP_NAMESPACE", "")]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("ARGOCD_APP_NAMESPACE"), "{}", text(&out.stderr));
}

#[test]
fn generate_builds_a_kustomize_directory() {
    let Some(_kubectl) = tool("kubectl") else { return };
    let Some((_, helm)) = helms().into_iter().next() else { return };
    let out = run_plugin(&["generate"], &repo_root().join("examples/kustomize/base"), &helm, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), read("examples/argocd/expected-kustomize.yaml"));
}

#[test]
fn init_is_a_no_op_for_charts_without_dependencies() {
    let Some((_, helm)) = helms().into_iter().next() else { return };
    let out = run_plugin(&["init"], &repo_root().join("examples/argocd/shop"), &helm, &env_refs(&example_env()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn discover_picks_only_apps_that_opt_in() {
    let Some((_, helm)) = helms().into_iter().next() else { return };
    let chart = scratch_dir("argocd-discover").join("shop");
    copy_dir(&repo_root().join("examples/argocd/shop"), &chart);
    let discover = |dir: &Path, env: &[(&str, &str)]| {
        let out = run_plugin(&["discover", "find"], dir, &helm, env);
        assert!(out.status.success(), "{}", text(&out.stderr));
        !text(&out.stdout).trim().is_empty()
    };
    assert!(!discover(&chart, &[]), "an ordinary Helm app must stay Argo CD's");
    assert!(discover(&chart, &[("ARGOCD_ENV_NETFENCE", "true")]));
    let kustomize = repo_root().join("examples/kustomize/base");
    assert!(discover(&kustomize, &[("ARGOCD_ENV_NETFENCE", "true")]));
    std::fs::write(chart.join(".netfence"), "").unwrap();
    assert!(discover(&chart, &[]));
    let empty = scratch_dir("argocd-discover-empty");
    std::fs::write(empty.join(".netfence"), "").unwrap();
    assert!(!discover(&empty, &[("ARGOCD_ENV_NETFENCE", "true")]), "neither a chart nor a kustomization");
}

#[test]
fn sidecar_component_patches_the_repo_server() {
    let Some(kubectl) = tool("kubectl") else { return };
    // An Argo CD installation reduced to the repo-server, with the component.
    let root = scratch_dir("argocd-install");
    let component = repo_root().join("functions/argocd");
    let rel = pathdiff(&component, &root);
    std::fs::write(
        root.join("kustomization.yaml"),
        format!("resources: [repo-server.yaml]\ncomponents: [{}]\n", rel.display()),
    )
    .unwrap();
    std::fs::write(
        root.join("repo-server.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: argocd-repo-server}\nspec:\n  template:\n    spec:\n      containers: [{name: argocd-repo-server, image: quay.io/argoproj/argocd:v3.1.0}]\n      volumes: [{name: var-files, emptyDir: {}}, {name: plugins, emptyDir: {}}]\n",
    )
    .unwrap();
    let out = run(Command::new(&kubectl).arg("kustomize").arg(&root), b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let docs: Vec<Value> = text(&out.stdout).split("\n---\n").map(|d| serde_saphyr::from_str(d).unwrap()).collect();
    let cm = docs.iter().find(|d| d["kind"] == "ConfigMap").expect("the plugin ConfigMap");
    assert_eq!(cm["metadata"]["name"], "netfence-cmp-plugin");
    assert_eq!(cm["data"]["plugin.yaml"].as_str().unwrap(), read("functions/argocd/plugin.yaml"));
    let deploy = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let pod = &deploy["spec"]["template"]["spec"];
    let sidecar = pod["containers"].as_array().unwrap().iter().find(|c| c["name"] == "netfence").expect("the sidecar");
    assert_eq!(sidecar["command"][0], "/var/run/argocd/argocd-cmp-server");
    assert_eq!(sidecar["securityContext"]["runAsUser"], 999);
    let mounts: Vec<(&str, &str)> = sidecar["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["mountPath"].as_str().unwrap()))
        .collect();
    for want in [
        ("var-files", "/var/run/argocd"),
        ("plugins", "/home/argocd/cmp-server/plugins"),
        ("netfence-cmp-plugin", "/home/argocd/cmp-server/config/plugin.yaml"),
        ("netfence-tmp", "/tmp"),
    ] {
        assert!(mounts.contains(&want), "{want:?} not in {mounts:?}");
    }
    let env: Vec<(&str, &str)> = sidecar["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    for (k, v) in env {
        assert!(v.starts_with("/tmp"), "{k}={v} is not on the writable /tmp");
    }
    assert_eq!(pod["containers"].as_array().unwrap().len(), 2, "the repo-server container is kept");
}

/// `to` relative to `from` (kustomize refuses absolute component paths).
fn pathdiff(to: &Path, from: &Path) -> PathBuf {
    let (to, from) = (to.canonicalize().unwrap(), from.canonicalize().unwrap());
    let common = to.components().zip(from.components()).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in from.components().skip(common) {
        rel.push("..");
    }
    for c in to.components().skip(common) {
        rel.push(c);
    }
    rel
}

/// An app directory with traps beside it: a secret outside the app, symlinks to it and to
/// /etc/passwd, and a "post-renderer" that leaves a marker file if anything ever runs it.
struct HostileApp {
    app: PathBuf,
    evil: PathBuf,
    marker: PathBuf,
}

fn hostile_app() -> HostileApp {
    let root = scratch_dir("argocd-hostile");
    let app = root.join("shop");
    copy_dir(&repo_root().join("examples/argocd/shop"), &app);
    std::fs::write(root.join("secret.yaml"), "token: not-for-this-app\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", app.join("passwd.yaml")).unwrap();
    std::os::unix::fs::symlink("../secret.yaml", app.join("escape.yaml")).unwrap();
    let marker = root.join("pwned");
    let evil = root.join("evil.sh");
    std::fs::write(&evil, format!("#!/bin/sh\ntouch '{}'\ncat\n", marker.display())).unwrap();
    std::fs::set_permissions(&evil, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    HostileApp { app, evil, marker }
}

#[test]
fn hostile_settings_are_refused_before_helm_runs() {
    let hostile = hostile_app();
    let evil = hostile.evil.display().to_string();
    let cases: Vec<(&str, String, &str)> = vec![
        ("ARGOCD_ENV_HELM_ARGS", "--post-renderer=/bin/sh".into(), "is not allowed"),
        ("ARGOCD_ENV_HELM_ARGS", format!("--set a=1 --post-renderer {evil}"), "is not allowed"),
        ("ARGOCD_ENV_HELM_ARGS", format!("--set --post-renderer={evil}"), "needs a value"),
        (
            "ARGOCD_ENV_HELM_ARGS",
            "--set-file=t=/var/run/secrets/kubernetes.io/serviceaccount/token".into(),
            "is not allowed",
        ),
        ("ARGOCD_ENV_HELM_ARGS", "-f /etc/passwd".into(), "absolute paths are not allowed"),
        ("ARGOCD_ENV_HELM_ARGS", "--values=https://169.254.169.254/latest/meta-data/".into(), "URLs"),
        ("ARGOCD_ENV_HELM_ARGS", "--repo https://charts.example.com".into(), "is not allowed"),
        ("ARGOCD_ENV_HELM_ARGS", "--output-dir /tmp/x".into(), "is not allowed"),
        ("ARGOCD_ENV_HELM_ARGS", "other-release ./chart".into(), "is not a flag"),
        ("ARGOCD_ENV_VALUE_FILES", "/etc/passwd".into(), "absolute paths are not allowed"),
        ("ARGOCD_ENV_VALUE_FILES", "values-prod.yaml,../x".into(), "`..` is not allowed"),
        ("ARGOCD_ENV_VALUE_FILES", "https://169.254.169.254/latest/meta-data/".into(), "URLs are not allowed"),
        ("ARGOCD_ENV_VALUE_FILES", "passwd.yaml".into(), "outside the app directory"),
        ("ARGOCD_ENV_VALUE_FILES", "-".into(), "stdin"),
        ("ARGOCD_ENV_NETFENCE_VALUE_FILES", "escape.yaml".into(), "outside the app directory"),
        ("ARGOCD_ENV_CHART_PATH", "/".into(), "absolute paths are not allowed"),
        ("ARGOCD_ENV_CHART_PATH", "..".into(), "`..` is not allowed"),
        ("ARGOCD_ENV_RELEASE_NAME", "--post-renderer=/bin/sh".into(), "not a valid name"),
        ("ARGOCD_APP_NAMESPACE", "--post-renderer=/bin/sh".into(), "not a valid name"),
    ];
    for (name, helm) in helms() {
        for (var, value, why) in &cases {
            let out = run_plugin(&["generate"], &hostile.app, &helm, &[(var, value.as_str())]);
            let stderr = text(&out.stderr);
            assert!(!out.status.success(), "{name} {var}={value}: accepted");
            assert!(out.stdout.is_empty(), "{name} {var}={value}: printed {}", text(&out.stdout));
            let setting = var.trim_start_matches("ARGOCD_ENV_");
            assert!(stderr.contains(setting) && stderr.contains(why), "{name} {var}={value}: {stderr}");
            assert_eq!(stderr.trim_end().lines().count(), 1, "{name} {var}={value}: one line: {stderr}");
            assert!(!hostile.marker.exists(), "{name} {var}={value}: the post-renderer ran");
        }
    }
}

#[test]
fn the_refused_post_renderer_would_have_run_under_helm_3() {
    // The control for the test above: handed to Helm 3 directly, the same flag runs the program.
    let Some(helm3) = tool("helm3") else { return };
    let hostile = hostile_app();
    let home = scratch_dir("argocd-helm3-control");
    let out = run(
        Command::new(&helm3)
            .args(["template", "shop", "."])
            .arg(format!("--post-renderer={}", hostile.evil.display()))
            .current_dir(&hostile.app)
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data")),
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(hostile.marker.exists(), "Helm 3 ran the post-renderer");
}

#[test]
fn allowed_helm_args_and_netfence_only_values_reach_their_tool() {
    let hostile = hostile_app();
    // netfence-only values: Helm would not know what to do with them, netfence adds the rule.
    std::fs::write(
        hostile.app.join("netfence.yaml"),
        "networkPolicy:\n  egress:\n    - to: [{ipBlock: {cidr: 10.99.0.0/16}}]\n      ports: [{protocol: TCP, port: 6379}]\n",
    )
    .unwrap();
    std::fs::create_dir_all(hostile.app.join("env")).unwrap();
    std::fs::write(hostile.app.join("env/big.yaml"), "replicaCount: 5\n").unwrap();
    for (name, helm) in helms() {
        let out = run_plugin(
            &["generate"],
            &hostile.app,
            &helm,
            &[
                ("ARGOCD_ENV_VALUE_FILES", "values-prod.yaml"),
                ("ARGOCD_ENV_NETFENCE_VALUE_FILES", "netfence.yaml"),
                ("ARGOCD_ENV_HELM_ARGS", "--set-string 'image.tag=1.27.1' -f ./env/big.yaml --include-crds"),
                ("ARGOCD_ENV_RELEASE_NAME", "shop-blue"),
            ],
        );
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(stdout.contains("image: \"nginx:1.27.1\""), "{name}: --set-string reached Helm:\n{stdout}");
        assert!(stdout.contains("replicas: 5"), "{name}: -f env/big.yaml reached Helm (after VALUE_FILES)");
        assert!(stdout.contains("name: shop-blue-web"), "{name}: RELEASE_NAME");
        // NETFENCE_VALUE_FILES come after VALUE_FILES, merged as Helm merges: the later list wins.
        assert!(stdout.contains("cidr: 10.99.0.0/16") && !stdout.contains("cidr: 10.20.0.0/16"), "{name}: {stdout}");
    }
}
