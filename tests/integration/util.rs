//! Helpers shared by the areas of the integration-test binary (`use crate::util;`).
//!
//! External tools (Helm 3/4, kubectl, kpt, IBM NCA) are installed by `scripts/setup-tools.sh`
//! into `.tools/`, which also writes `.tools/env.sh` with their `NETFENCE_*` paths. A test that
//! needs a missing tool is skipped with a visible line on stderr, except under `CI=true`, where a
//! missing tool is a failure: CI must never pass by running nothing.

use netfence::analysis::ports::{ConnSet, PortSet, Protocol};
use netfence::run::{render, RenderOptions};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The `netfence` binary Cargo built for this test run.
pub fn netfence_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_netfence"))
}

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `<repo>/../shared`: the project's shared documents and seeds (present beside the repo in CI).
pub fn shared_dir() -> PathBuf {
    repo_root().join("..").join("shared")
}

/// Whether we run under CI (`CI=true`), where skipping is not allowed.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The path of an external tool: `helm3`, `helm4`, `kubectl`, `kpt` or `nca`.
///
/// Looks at `NETFENCE_<NAME>` (set by `.tools/env.sh`), then at the default install location in
/// `.tools/`. When the tool is not there: panics under `CI=true`, otherwise prints
/// `SKIP: <tool> not installed, run scripts/setup-tools.sh` and returns `None`, so a test can
/// `let Some(helm) = util::tool("helm4") else { return };`.
pub fn tool(name: &str) -> Option<PathBuf> {
    let var = format!("NETFENCE_{}", name.to_uppercase());
    let fallback = match name {
        "nca" => repo_root().join(".tools/nca/bin/nca"),
        _ => repo_root().join(".tools/bin").join(name),
    };
    let found = std::env::var_os(&var).map(PathBuf::from).into_iter().chain([fallback]).find(|p| p.is_file());
    if found.is_none() {
        assert!(!in_ci(), "{name} not installed (CI=true): run scripts/setup-tools.sh (or set {var})");
        note(&format!("SKIP: {name} not installed, run scripts/setup-tools.sh"));
    }
    found
}

/// A line on the test process's stderr, shown even for passing tests (skips, figures for the log):
/// straight to the process's stderr, as libtest captures `eprintln!` of passing tests.
pub fn note(line: &str) {
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

/// Runs `cmd` with `stdin` as its standard input and returns its output (stdout and stderr
/// captured). Panics only if the program cannot be started.
pub fn run(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd.get_program()));
    // Feed stdin from a thread: a child that writes a lot before reading would otherwise deadlock.
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // A child that exits without reading everything closes the pipe: not our error.
        let _ = pipe.write_all(&input);
    });
    let output = child.wait_with_output().expect("wait for child");
    writer.join().expect("stdin writer thread");
    output
}

/// A fresh, empty directory for one test under Cargo's per-target temp dir (`target/tmp`).
/// The name is made unique per process and call, so tests running in parallel never share one.
pub fn scratch_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// Output as text, for assertion messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory of symlinks `name -> target`, to put first on `PATH` for tools that find
/// programs by name (kpt's and kustomize's exec functions, the kustomize plugin, Argo CD's
/// plugin commands). Returns the directory.
pub fn bin_dir(name: &str, links: &[(&str, &Path)]) -> PathBuf {
    let dir = scratch_dir(name);
    for (link, target) in links {
        std::os::unix::fs::symlink(target, dir.join(link))
            .unwrap_or_else(|e| panic!("symlink {link} -> {}: {e}", target.display()));
    }
    dir
}

/// The stdout of a command that must have succeeded; panics with `what`, stderr and stdout.
pub fn ok(out: &Output, what: &str) -> String {
    assert!(out.status.success(), "{what} failed: {}\nstdout:\n{}", text(&out.stderr), text(&out.stdout));
    text(&out.stdout)
}

/// The text of a file, by its path relative to the repository root; panics naming the file.
pub fn read(path: impl AsRef<Path>) -> String {
    let path = repo_root().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A file or directory of `tests/fixtures/analysis` (the analysis commands' inputs).
pub fn analysis_fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/analysis").join(name)
}

/// `tests/fixtures/kube-system.yaml`: the kube-dns pods, for analysers that need them (NCA,
/// `verify`) next to manifests that only select them.
pub fn kube_system_fixture() -> PathBuf {
    repo_root().join("tests/fixtures/kube-system.yaml")
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs the netfence binary with `args` and `stdin`, from the repository root (relative paths
/// work), without the environment that would change its answer or its stderr: `HELM_NAMESPACE`,
/// `ARGOCD_APP_NAMESPACE` (namespace defaults) and `RUST_LOG` (log lines).
pub fn netfence(args: &[&str], stdin: &[u8]) -> Output {
    run(
        Command::new(netfence_bin())
            .args(args)
            .current_dir(repo_root())
            .env_remove("HELM_NAMESPACE")
            .env_remove("ARGOCD_APP_NAMESPACE")
            .env_remove("RUST_LOG"),
        stdin,
    )
}

/// `netfence render` through the library, as bytes, or the error as text.
pub fn render_bytes(input: &[u8], options: &RenderOptions) -> Result<Vec<u8>, String> {
    render(input, options).map(|r| r.to_bytes()).map_err(|e| e.to_string())
}

/// A short description of the first differing line of two outputs, for failure messages.
pub fn first_difference(expected: &[u8], actual: &[u8]) -> String {
    let (e, a) = (String::from_utf8_lossy(expected), String::from_utf8_lossy(actual));
    let (el, al): (Vec<&str>, Vec<&str>) = (e.split_inclusive('\n').collect(), a.split_inclusive('\n').collect());
    let line = el.iter().zip(&al).position(|(x, y)| x != y).unwrap_or(el.len().min(al.len()));
    format!(
        "first difference at line {}:\n  expected: {:?}\n  actual:   {:?}\n(expected {} lines, {} bytes; got {} lines, {} bytes)",
        line + 1,
        el.get(line).copied().unwrap_or("<end>"),
        al.get(line).copied().unwrap_or("<end>"),
        el.len(),
        expected.len(),
        al.len(),
        actual.len()
    )
}

/// A Helm command isolated from the user's Helm setup: scratch homes under `home`, no inherited
/// plugin dir or namespace, a kubeconfig that does not exist, run from the repo root (relative
/// chart and values paths), with the netfence binary's directory first on PATH (Helm 4 finds the
/// plugin's `command: netfence` there).
pub fn helm(bin: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(bin);
    let netfence_dir = netfence_bin().parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(netfence_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    cmd.current_dir(repo_root())
        .env("HELM_DATA_HOME", home.join("data"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("KUBECONFIG", home.join("no-kubeconfig"))
        .env("PATH", path)
        .env_remove("HELM_PLUGINS")
        .env_remove("HELM_NAMESPACE")
        .env_remove("HELM_DRIVER");
    cmd
}

/// `nca --connectivity -r <input> -o txt_no_fw_rules`: NCA's whole answer (stdout, then stderr).
/// Panics if NCA did not analyse the input or reports `Found missing elements` (its "livesim"
/// would then have invented pods, e.g. a kube-dns pod, and hidden rules that select nothing).
pub fn nca_connectivity(nca: &Path, input: &Path) -> String {
    let out = Command::new(nca)
        .args(["--connectivity", "-r"])
        .arg(input)
        .args(["-o", "txt_no_fw_rules"])
        .stdin(Stdio::null())
        .output()
        .expect("run nca");
    let text = text(&out.stdout) + &text(&out.stderr);
    assert!(!text.contains("Found missing elements"), "NCA invented missing elements for {}:\n{text}", input.display());
    assert!(text.contains("global: cluster has"), "NCA did not analyse {}:\n{text}", input.display());
    text
}

/// Whether netfence generated this document (rather than passing it through).
pub fn is_generated(doc: &Value) -> bool {
    doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "netfence"
}

/// The NetworkPolicy `namespace`/`name` among `docs`; panics if there is none.
pub fn policy<'a>(docs: &'a [Value], namespace: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| {
            d["kind"] == "NetworkPolicy" && d["metadata"]["namespace"] == namespace && d["metadata"]["name"] == name
        })
        .unwrap_or_else(|| panic!("no NetworkPolicy {namespace}/{name} in {docs:#?}"))
}

/// What netfence must make of the demo chart `charts/matih-ai` (seed 1, AI service egress),
/// checked on parsed documents so the same assertions hold for the example files, Helm 3's and
/// Helm 4's output (which differ in order and in `# Source:` lines).
pub mod matih_ai {
    use super::is_generated;
    use serde_json::{json, Value};

    /// The chart, relative to the repository root (also its values file, which configures netfence).
    pub const CHART: &str = "charts/matih-ai";
    pub const VALUES: &str = "charts/matih-ai/values.yaml";
    pub const NAMESPACE: &str = "matih-ai";

    /// Parses a YAML stream into its documents (empty documents dropped).
    pub fn parse_stream(bytes: &[u8]) -> Vec<Value> {
        let text = std::str::from_utf8(bytes).expect("output is UTF-8");
        let docs: Vec<Value> =
            serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("output is not a YAML stream: {e}\n{text}"));
        docs.into_iter().filter(|d| !d.is_null()).collect()
    }

    /// The one document of `kind` named `name`; panics if there is none or more than one.
    pub fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
        let found: Vec<&Value> = docs.iter().filter(|d| d["kind"] == kind && d["metadata"]["name"] == name).collect();
        assert_eq!(found.len(), 1, "expected exactly one {kind} {name}, found {}", found.len());
        found[0]
    }

    /// The rule netfence injects so that isolated pods can still resolve names.
    pub fn dns_rule() -> Value {
        json!({
            "to": [{
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}
            }],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
        })
    }

    /// `networkPolicy.egress` of the chart's values file, as written there.
    pub fn configured_egress() -> Vec<Value> {
        let text = super::read(VALUES);
        let values: Value = serde_saphyr::from_str(&text).unwrap();
        values["networkPolicy"]["egress"].as_array().expect("values.yaml has networkPolicy.egress").clone()
    }

    /// Checks netfence's output for the chart rendered as release `matih` in namespace `matih-ai`.
    pub fn check_output(docs: &[Value]) {
        // Everything the chart renders is still there, and nothing else but two generated policies.
        for (kind, name) in [("Deployment", "ai-service"), ("Service", "ai-service"), ("ServiceAccount", "ai-service")]
        {
            let doc = find(docs, kind, name);
            assert_eq!(doc["metadata"]["labels"]["app.kubernetes.io/instance"], "matih", "{kind} {name} changed");
            assert!(!is_generated(doc), "{kind} {name} must pass through unlabelled");
        }
        assert_eq!(docs.len(), 6, "4 chart documents + 2 generated policies, got {docs:#?}");

        // The chart's own policy: ingress untouched, egress = DNS first, then every configured rule.
        let chart_policy = find(docs, "NetworkPolicy", "ai-service");
        assert_eq!(chart_policy["metadata"]["namespace"], NAMESPACE);
        assert_eq!(chart_policy["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(
            chart_policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
            "api-gateway"
        );
        let egress = chart_policy["spec"]["egress"].as_array().expect("ai-service policy has egress rules now");
        let mut want = vec![dns_rule()];
        want.extend(configured_egress());
        assert_eq!(want.len(), 8, "DNS + the 7 destinations of the seed's table");
        assert_eq!(egress, &want, "ai-service egress must be DNS followed by networkPolicy.egress, in order");
        // Spot checks on the seed's table, independent of the values file.
        let ports =
            |i: usize| egress[i]["ports"].as_array().unwrap().iter().map(|p| p["port"].clone()).collect::<Vec<_>>();
        assert_eq!(ports(1), [json!(6333), json!(6334)], "Qdrant HTTP + gRPC");
        assert_eq!(ports(6), [json!(8080), json!(9080)], "Dgraph");
        assert_eq!(egress[7]["to"][0]["ipBlock"]["cidr"], "0.0.0.0/0");
        assert_eq!(ports(7), [json!(443)], "LLM APIs over HTTPS only");

        // The namespace baseline.
        // Named for the release the chart's `app.kubernetes.io/instance` labels name.
        let release = docs
            .iter()
            .find_map(|d| d["metadata"]["labels"]["app.kubernetes.io/instance"].as_str())
            .expect("the chart labels its objects with the release");
        let deny = find(docs, "NetworkPolicy", &format!("netfence-{release}-default-deny"));
        assert_eq!(deny["metadata"]["namespace"], NAMESPACE);
        assert!(is_generated(deny));
        assert_eq!(deny["spec"], json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}));
        let dns = find(docs, "NetworkPolicy", &format!("netfence-{release}-allow-dns"));
        assert_eq!(dns["metadata"]["namespace"], NAMESPACE);
        assert!(is_generated(dns));
        assert_eq!(dns["spec"]["podSelector"], json!({}));
        assert_eq!(dns["spec"]["policyTypes"], json!(["Egress"]));
        assert_eq!(dns["spec"]["egress"], json!([dns_rule()]));
    }
}

/// NCA's `All connections` or `{protocols:TCP, UDP,dst_ports:53},{...}`.
pub fn nca_conns(text: &str) -> ConnSet {
    if text.trim() == "All connections" {
        return ConnSet::all();
    }
    let mut out = ConnSet::none();
    for group in text.trim().trim_start_matches('{').trim_end_matches('}').split("},{") {
        let (protocols, ports) = match group.split_once(",dst_ports:") {
            Some((p, ports)) => (p, Some(ports)),
            None => (group, None),
        };
        let protocols = protocols.trim_start_matches("protocols:");
        for proto in protocols.split(',').map(str::trim) {
            let proto = Protocol::parse(proto).unwrap_or_else(|| panic!("NCA protocol {proto:?} in {text:?}"));
            let mut set = PortSet::default();
            match ports {
                None => set = PortSet::full(),
                Some(list) => {
                    for item in list.split(',') {
                        let (a, b) = item.split_once('-').unwrap_or((item, item));
                        set.union_with(&PortSet::range(a.trim().parse().unwrap(), b.trim().parse().unwrap()));
                    }
                }
            }
            out.union_with(&ConnSet::of(proto, set));
        }
    }
    out
}

/// Whether a label selector (as JSON; `null` selects everything) selects `labels`, by the API
/// server's rules, written independently of `src/`.
pub fn selector_matches(sel: &Value, labels: &BTreeMap<&str, &str>) -> bool {
    if sel.is_null() {
        return true;
    }
    let ml = sel["matchLabels"].as_object().into_iter().flatten();
    let labels_ok = ml.into_iter().all(|(k, v)| v.as_str().is_some_and(|v| labels.get(k.as_str()) == Some(&v)));
    let exprs = sel["matchExpressions"].as_array().into_iter().flatten();
    labels_ok
        && exprs.into_iter().all(|e| {
            let value = e["key"].as_str().and_then(|k| labels.get(k));
            let values: Vec<&str> = e["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            match e["operator"].as_str() {
                Some("In") => value.is_some_and(|v| values.contains(v)),
                Some("NotIn") => value.is_none_or(|v| !values.contains(v)),
                Some("Exists") => value.is_some(),
                Some("DoesNotExist") => value.is_none(),
                _ => false,
            }
        })
}
