//! What users install, built and run for real:
//! - the images of `scripts/build-image.sh` (built once per run from the binary under test,
//!   which `scripts/test.sh` builds static), run by `kpt fn eval --image` and `kpt fn render`
//!   (podman), by `kubectl kustomize --enable-alpha-plugins` through podman's Docker API
//!   service, and as the Argo CD sidecar (`netfence argocd generate` inside the image, with
//!   Argo CD's environment);
//! - the Helm 4 plugin archive of `scripts/package-helm-plugin.sh`, signed with a throwaway
//!   GnuPG key, installed with verification, then used with no netfence on `PATH`;
//! - `--version`, and the GitHub Actions workflows (actionlint).
//!
//! podman, the docker CLI and GnuPG come from `scripts/setup-tools.sh` (Debian packages); a
//! missing one skips the test with a visible line, and fails it under `CI=true`.

use crate::util::{self, copy_dir, netfence_bin, note, ok, read, repo_root, run, scratch_dir, text, tool};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const KRM_IMAGE: &str = "localhost/netfence:dev";
const CMP_IMAGE: &str = "localhost/netfence-argocd-cmp:dev";

/// A program installed system-wide (Debian packages): `NETFENCE_<NAME>`, else `PATH`. Missing:
/// a failure under CI, else a visible skip.
fn system_tool(name: &str) -> Option<PathBuf> {
    let var = format!("NETFENCE_{}", name.to_uppercase());
    let found = std::env::var_os(&var).map(PathBuf::from).filter(|p| p.is_file()).or_else(|| {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(!util::in_ci(), "{name} not installed (CI=true): run scripts/setup-tools.sh");
        note(&format!("SKIP: {name} not installed, run scripts/setup-tools.sh"));
    }
    found
}

/// The podman configuration setup-tools writes (runc, cgroupfs: what works in this sandbox).
fn containers_conf() -> Option<PathBuf> {
    std::env::var_os("CONTAINERS_CONF")
        .map(PathBuf::from)
        .or_else(|| Some(repo_root().join(".tools/containers.conf")))
        .filter(|p| p.is_file())
}

/// A podman command with the project's configuration.
fn podman_cmd(podman: &Path) -> Command {
    let mut cmd = Command::new(podman);
    if let Some(conf) = containers_conf() {
        cmd.env("CONTAINERS_CONF", conf);
    }
    cmd
}

/// Whether the binary is linked statically (what an empty image needs).
fn is_static(bin: &Path) -> bool {
    let out = Command::new("ldd").arg(bin).output();
    out.is_ok_and(|o| !text(&o.stdout).contains("=>"))
}

/// Builds both images once per test run with scripts/build-image.sh, from the binary under
/// test. Returns podman, or None (after a visible skip) when the images cannot be built here.
fn images() -> Option<PathBuf> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let podman = system_tool("podman")?;
            let helm = tool("helm4")?;
            let kubectl = tool("kubectl")?;
            let bin = netfence_bin();
            if !is_static(&bin) {
                assert!(
                    !util::in_ci(),
                    "{} is dynamically linked (CI=true): scripts/test.sh builds it static (scripts/static-env.sh)",
                    bin.display()
                );
                note("SKIP: the netfence under test is not static; run `source scripts/static-env.sh` first");
                return None;
            }
            let start = Instant::now();
            let mut cmd = Command::new("bash");
            cmd.arg(repo_root().join("scripts/build-image.sh"))
                .arg("--binary")
                .arg(&bin)
                .arg("--helm")
                .arg(&helm)
                .arg("--kubectl")
                .arg(&kubectl)
                .env("CONTAINER_ENGINE", "podman");
            if let Some(conf) = containers_conf() {
                cmd.env("CONTAINERS_CONF", conf);
            }
            let out = run(&mut cmd, b"");
            assert!(out.status.success(), "scripts/build-image.sh failed:\n{}", text(&out.stderr));
            for line in text(&out.stderr).lines() {
                note(line);
            }
            note(&format!("build-image: both images in {:.1} s", start.elapsed().as_secs_f64()));
            Some(podman)
        })
        .clone()
}

/// `podman image inspect` of one image, as JSON.
fn inspect(podman: &Path, image: &str) -> Value {
    let out = run(podman_cmd(podman).args(["image", "inspect", image]), b"");
    let list: Value = serde_json::from_str(&ok(&out, "podman image inspect")).unwrap();
    list[0].clone()
}

/// Copies a file out of an image (it has no shell to `cat` with).
fn file_in_image(podman: &Path, image: &str, path: &str) -> String {
    let out = run(podman_cmd(podman).args(["create", image]), b"");
    let id = ok(&out, "podman create").trim().to_string();
    let dest = scratch_dir("image-file").join("file");
    let out = run(podman_cmd(podman).arg("cp").arg(format!("{id}:{path}")).arg(&dest), b"");
    let _ = run(podman_cmd(podman).args(["rm", &id]), b"");
    ok(&out, "podman cp");
    std::fs::read_to_string(dest).unwrap()
}

fn version_line() -> String {
    ok(&run(Command::new(netfence_bin()).arg("--version"), b""), "netfence --version")
}

#[test]
fn version_names_the_version_and_the_commit() {
    let line = version_line();
    let want = format!("netfence {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&want), "{line}");
    let head = Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).current_dir(repo_root()).output();
    if let Some(head) = head.ok().filter(|h| h.status.success()) {
        assert_eq!(line.trim_end(), format!("{want}{})", text(&head.stdout).trim()));
    }
}

#[test]
fn images_carry_labels_users_and_the_binary_under_test() {
    let Some(podman) = images() else { return };
    let commit = Command::new("git").args(["rev-parse", "HEAD"]).current_dir(repo_root()).output().unwrap();
    for (image, user) in [(KRM_IMAGE, "65534:65534"), (CMP_IMAGE, "999:999")] {
        let meta = inspect(&podman, image);
        let labels = &meta["Config"]["Labels"];
        assert_eq!(labels["org.opencontainers.image.version"], env!("CARGO_PKG_VERSION"), "{image}");
        assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0", "{image}");
        assert!(labels["org.opencontainers.image.source"].as_str().unwrap().starts_with("https://"), "{image}");
        assert_eq!(labels["org.opencontainers.image.revision"], text(&commit.stdout).trim(), "{image}");
        assert_eq!(meta["Config"]["User"], user, "{image}");
        let size = meta["Size"].as_u64().unwrap();
        note(&format!("image {image}: {size} bytes ({} MB)", size / 1_000_000));
        let passwd = file_in_image(&podman, image, "/etc/passwd");
        assert!(passwd.lines().any(|l| l.starts_with("nobody:x:65534:65534:")), "{image}: {passwd}");
    }
    // The KRM image: the entrypoint is the binary under test, and `--user nobody` resolves.
    let out = run(
        podman_cmd(&podman).args(["run", "--rm", "--network", "none", "--user", "nobody", KRM_IMAGE, "--version"]),
        b"",
    );
    assert_eq!(ok(&out, "netfence --version in the image"), version_line());
    // The sidecar: the same netfence, Helm 4 from the npm layer, the plugin.yaml of this repo.
    let out =
        run(podman_cmd(&podman).args(["run", "--rm", "--network", "none", CMP_IMAGE, "netfence", "--version"]), b"");
    assert_eq!(ok(&out, "netfence in the sidecar"), version_line());
    let out = run(
        podman_cmd(&podman).args(["run", "--rm", "--network", "none", CMP_IMAGE, "helm", "version", "--short"]),
        b"",
    );
    assert!(ok(&out, "helm in the sidecar").starts_with("v4."));
    assert_eq!(
        file_in_image(&podman, CMP_IMAGE, "/home/argocd/cmp-server/config/plugin.yaml"),
        read("functions/argocd/plugin.yaml")
    );
}

/// kpt with the podman runtime, with podman and its configuration reachable.
fn kpt_podman(kpt: &Path, podman: &Path) -> Command {
    let mut cmd = Command::new(kpt);
    let path = format!("{}:{}", podman.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    cmd.env("KPT_FN_RUNTIME", "podman").env("PATH", path);
    if let Some(conf) = containers_conf() {
        cmd.env("CONTAINERS_CONF", conf);
    }
    cmd
}

#[test]
fn kpt_fn_eval_runs_the_image_like_the_binary() {
    let Some(kpt) = tool("kpt") else { return };
    let Some(podman) = images() else { return };
    let pkg = scratch_dir("kpt-eval-image").join("shop");
    copy_dir(&repo_root().join("examples/kpt/shop"), &pkg);
    let start = Instant::now();
    let image = run(
        kpt_podman(&kpt, &podman).arg("fn").arg("eval").arg(&pkg).args([
            "--image",
            KRM_IMAGE,
            "--image-pull-policy",
            "never",
            "-o",
            "unwrap",
            "--",
            "namespace=shop",
            "dnsProfile=node-local",
        ]),
        b"",
    );
    note(&format!("kpt fn eval --image {KRM_IMAGE}: {:.2} s", start.elapsed().as_secs_f64()));
    let image_out = ok(&image, "kpt fn eval --image");
    let exec = run(
        Command::new(&kpt).arg("fn").arg("eval").arg(&pkg).arg("--exec").arg(netfence_bin()).args([
            "-o",
            "unwrap",
            "--",
            "namespace=shop",
            "dnsProfile=node-local",
        ]),
        b"",
    );
    assert_eq!(image_out, ok(&exec, "kpt fn eval --exec"), "the image and the binary disagree");
    assert!(image_out.contains("name: netfence-default-deny") && image_out.contains("169.254.20.10/32"));
    assert!(text(&image.stderr).contains("[info]: netfence: added 2 NetworkPolicies"), "{}", text(&image.stderr));

    // An invalid config fails inside the container too, with the error result shown by kpt.
    let bad = run(
        kpt_podman(&kpt, &podman).arg("fn").arg("eval").arg(&pkg).args([
            "--image",
            KRM_IMAGE,
            "--image-pull-policy",
            "never",
            "--",
            "dnsProfile=bogus",
        ]),
        b"",
    );
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("data.dnsProfile: invalid function config"), "{}", text(&bad.stderr));
}

#[test]
fn kpt_fn_render_runs_a_kptfile_pipeline_naming_the_image() {
    let Some(kpt) = tool("kpt") else { return };
    let Some(podman) = images() else { return };
    let pkg = scratch_dir("kpt-render-image").join("shop");
    copy_dir(&repo_root().join("examples/kpt/shop"), &pkg);
    let kptfile = read("examples/kpt/shop/Kptfile");
    assert!(kptfile.contains("    - exec: netfence\n"), "{kptfile}");
    std::fs::write(
        pkg.join("Kptfile"),
        kptfile.replace("    - exec: netfence\n", &format!("    - image: {KRM_IMAGE}\n")),
    )
    .unwrap();
    let start = Instant::now();
    let out = run(
        kpt_podman(&kpt, &podman)
            .args(["fn", "render", ".", "--image-pull-policy", "never", "-o", "unwrap"])
            .current_dir(&pkg),
        b"",
    );
    note(&format!("kpt fn render (Kptfile image pipeline): {:.2} s", start.elapsed().as_secs_f64()));
    // The same package as the exec pipeline gives (examples/kpt/expected.yaml), but its Kptfile.
    let expected =
        read("examples/kpt/expected.yaml").replace("    - exec: netfence\n", &format!("    - image: {KRM_IMAGE}\n"));
    assert_eq!(ok(&out, "kpt fn render"), expected);
    // In place, and again: the second render changes nothing.
    for _ in 0..2 {
        let out = run(
            kpt_podman(&kpt, &podman).args(["fn", "render", ".", "--image-pull-policy", "never"]).current_dir(&pkg),
            b"",
        );
        ok(&out, "kpt fn render in place");
    }
    assert!(pkg.join("netfence/shop/netfence-default-deny.yaml").is_file());
}

/// `podman system service` on a socket of its own, stopped (by its pid) when dropped.
struct PodmanService {
    child: Child,
    socket: PathBuf,
}

impl PodmanService {
    fn start(podman: &Path) -> Self {
        // Under /tmp: a unix socket's path must stay under 108 bytes, wherever the checkout is.
        let dir = std::env::temp_dir().join(format!("nf-podman-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("podman.sock");
        let _ = std::fs::remove_file(&socket);
        let child = podman_cmd(podman)
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start podman system service");
        let service = PodmanService { child, socket };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !service.socket.exists() {
            assert!(Instant::now() < deadline, "podman system service did not create {}", service.socket.display());
            std::thread::sleep(Duration::from_millis(50));
        }
        service
    }
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = self.socket.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn kubectl_kustomize_runs_the_container_transformer_through_podman() {
    let Some(docker) = system_tool("docker") else { return };
    let Some(podman) = images() else { return };
    let Some(kubectl) = tool("kubectl") else { return };
    let example = read("examples/kustomize/container/netfence.yaml");
    assert!(example.contains(&format!("image: {KRM_IMAGE}\n")), "the example names the image the script builds");
    let service = PodmanService::start(&podman);
    let mut kubectls = vec![kubectl];
    if Path::new("/usr/bin/kubectl").is_file() {
        kubectls.push(PathBuf::from("/usr/bin/kubectl"));
    }
    for kubectl in kubectls {
        let start = Instant::now();
        let path = format!("{}:{}", docker.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
        let out = run(
            Command::new(&kubectl)
                .args(["kustomize", "--enable-alpha-plugins"])
                .arg(repo_root().join("examples/kustomize/container"))
                .env("DOCKER_HOST", format!("unix://{}", service.socket.display()))
                .env("PATH", path),
            b"",
        );
        note(&format!(
            "{} kustomize --enable-alpha-plugins (container function via podman service): {:.2} s",
            kubectl.display(),
            start.elapsed().as_secs_f64()
        ));
        assert_eq!(ok(&out, "kubectl kustomize"), read("examples/kustomize/expected.yaml"), "{}", kubectl.display());
    }
}

/// Argo CD's environment for the example app (as the e2e_argocd tests set it on the host).
fn argocd_env(app_name: &str) -> Vec<(String, String)> {
    [
        ("ARGOCD_APP_NAME", app_name),
        ("ARGOCD_APP_NAMESPACE", "shop"),
        ("ARGOCD_APP_PROJECT_NAME", "default"),
        ("ARGOCD_APP_REVISION", "0123456789abcdef0123456789abcdef01234567"),
        ("ARGOCD_APP_SOURCE_PATH", "examples/argocd/shop"),
        ("ARGOCD_APP_SOURCE_REPO_URL", "https://git.example.com/shop.git"),
        ("ARGOCD_APP_SOURCE_TARGET_REVISION", "HEAD"),
        ("KUBE_VERSION", "1.31.2"),
        ("KUBE_API_VERSIONS", "v1,apps/v1,networking.k8s.io/v1,monitoring.coreos.com/v1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Runs plugin.yaml's command `at` inside the sidecar image, as argocd-cmp-server would: user
/// 999, in the app directory (mounted read-only), no network, read-only root file system with
/// an own /tmp, with Argo CD's environment plus `env`.
fn run_in_sidecar(podman: &Path, at: &[&str], app: &Path, env: &[(String, String)]) -> Output {
    let plugin: Value = serde_saphyr::from_str(&read("functions/argocd/plugin.yaml")).unwrap();
    let mut spec = plugin["spec"].clone();
    for key in at {
        spec = spec[*key].clone();
    }
    let words = |v: &Value| -> Vec<String> {
        v.as_array().into_iter().flatten().map(|s| s.as_str().unwrap().to_string()).collect()
    };
    let mut cmd = podman_cmd(podman);
    cmd.args(["run", "--rm", "--network", "none", "--user", "999", "--read-only", "--tmpfs", "/tmp:mode=1777"])
        .arg("-v")
        .arg(format!("{}:/home/argocd/app:ro", app.display()))
        .args(["-w", "/home/argocd/app"]);
    for (k, v) in env {
        cmd.arg("-e").arg(format!("{k}={v}"));
    }
    cmd.arg(CMP_IMAGE).args(words(&spec["command"])).args(words(&spec["args"]));
    run(&mut cmd, b"")
}

#[test]
fn argocd_sidecar_image_generates_the_example_app() {
    let Some(podman) = images() else { return };
    let app = scratch_dir("sidecar-app").join("shop");
    copy_dir(&repo_root().join("examples/argocd/shop"), &app);
    let application: Value = serde_saphyr::from_str(&read("examples/argocd/application.yaml")).unwrap();
    let mut env = argocd_env("argocd_shop");
    for e in application["spec"]["source"]["plugin"]["env"].as_array().unwrap() {
        env.push((format!("ARGOCD_ENV_{}", e["name"].as_str().unwrap()), e["value"].as_str().unwrap().into()));
    }
    let start = Instant::now();
    let out = run_in_sidecar(&podman, &["init"], &app, &env);
    ok(&out, "init in the sidecar");
    let out = run_in_sidecar(&podman, &["generate"], &app, &env);
    note(&format!("argocd generate in {CMP_IMAGE} (Helm 4): {:.2} s", start.elapsed().as_secs_f64()));
    assert_eq!(ok(&out, "generate in the sidecar"), read("examples/argocd/expected.yaml"));

    // Discovery: only with the opt-in.
    let out = run_in_sidecar(&podman, &["discover", "find"], &app, &env);
    assert!(ok(&out, "discover").trim().is_empty());
    env.push(("ARGOCD_ENV_NETFENCE".into(), "true".into()));
    let out = run_in_sidecar(&podman, &["discover", "find"], &app, &env);
    assert_eq!(ok(&out, "discover").trim(), "Chart.yaml");

    // Hostile settings are refused inside the image as on the host (the e2e_argocd tests).
    for (var, value) in [
        ("ARGOCD_ENV_HELM_ARGS", "--post-renderer=/bin/sh"),
        ("ARGOCD_ENV_HELM_ARGS", "--set-file=t=/var/run/secrets/kubernetes.io/serviceaccount/token"),
        ("ARGOCD_ENV_VALUE_FILES", "/etc/passwd"),
        ("ARGOCD_ENV_VALUE_FILES", "../x"),
        ("ARGOCD_ENV_VALUE_FILES", "https://169.254.169.254/latest/meta-data/"),
    ] {
        let mut hostile = env.clone();
        hostile.push((var.into(), value.into()));
        let out = run_in_sidecar(&podman, &["generate"], &app, &hostile);
        assert!(!out.status.success(), "{var}={value} accepted in the sidecar");
        assert!(out.stdout.is_empty(), "{var}={value}");
        assert!(
            text(&out.stderr).contains("refused") || text(&out.stderr).contains("not allowed"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn argocd_sidecar_image_builds_a_kustomize_app() {
    let Some(podman) = images() else { return };
    let app = scratch_dir("sidecar-kustomize").join("base");
    copy_dir(&repo_root().join("examples/kustomize/base"), &app);
    let out = run_in_sidecar(&podman, &["generate"], &app, &argocd_env("shop"));
    assert_eq!(ok(&out, "generate (kustomize) in the sidecar"), read("examples/argocd/expected-kustomize.yaml"));
}

/// A GnuPG home whose agent (started by key generation) is stopped and which is removed when
/// dropped. Under /tmp: the agent's socket path must stay short.
struct GnupgHome(PathBuf);

impl Drop for GnupgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").arg("--homedir").arg(&self.0).args(["--kill", "gpg-agent"]).output();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A throwaway GnuPG key; returns (secret keyring, public keyring) in Helm's legacy format.
fn throwaway_key(gpg: &Path, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let home = GnupgHome(std::env::temp_dir().join(format!("nf-gpg-{}-{name}", std::process::id())));
    let home = &home.0;
    let _ = std::fs::remove_dir_all(home);
    std::fs::create_dir_all(home).unwrap();
    std::fs::set_permissions(home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let gpg_cmd = |args: &[&str]| {
        let out = run(Command::new(gpg).arg("--homedir").arg(home).arg("--batch").args(args), b"");
        assert!(out.status.success(), "gpg {args:?}: {}", text(&out.stderr));
        out.stdout
    };
    let uid = format!("{name} <{name}@netfence.invalid>");
    gpg_cmd(&["--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", &uid, "ed25519", "sign", "1d"]);
    let (secring, pubring) = (dir.join(format!("{name}-secring.gpg")), dir.join(format!("{name}-pubring.gpg")));
    std::fs::write(&secring, gpg_cmd(&["--export-secret-keys"])).unwrap();
    std::fs::write(&pubring, gpg_cmd(&["--export"])).unwrap();
    (secring, pubring)
}

/// A Helm 4 command with scratch homes and only system directories on PATH (no netfence).
fn helm4(helm: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(helm);
    cmd.current_dir(repo_root())
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home)
        .env("HELM_DATA_HOME", home.join("data"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("KUBECONFIG", home.join("no-kubeconfig"));
    cmd
}

#[test]
fn signed_helm_plugin_archive_installs_verified_and_renders_without_netfence_on_path() {
    let Some(helm) = tool("helm4") else { return };
    let Some(gpg) = system_tool("gpg") else { return };
    assert!(
        !std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).any(|d| {
            ["/usr/local/bin", "/usr/bin", "/bin"].contains(&d.to_str().unwrap_or_default())
                && d.join("netfence").exists()
        }),
        "a netfence in a system directory would make this test pointless"
    );
    let dir = scratch_dir("helm-plugin-archive");
    let (secring, pubring) = throwaway_key(&gpg, &dir, "release");
    let (_, other_pubring) = throwaway_key(&gpg, &dir, "stranger");
    let dist = dir.join("dist");
    let start = Instant::now();
    let out = run(
        Command::new("bash")
            .arg(repo_root().join("scripts/package-helm-plugin.sh"))
            .arg("--binary")
            .arg(format!("linux/amd64={}", netfence_bin().display()))
            .args(["--key", "release"])
            .arg("--keyring")
            .arg(&secring)
            .arg("--dest")
            .arg(&dist)
            .arg("--helm")
            .arg(&helm),
        b"",
    );
    let archive = PathBuf::from(ok(&out, "package-helm-plugin.sh").trim());
    note(&format!(
        "package-helm-plugin.sh: {} ({} bytes, signed) in {:.2} s",
        archive.display(),
        std::fs::metadata(&archive).unwrap().len(),
        start.elapsed().as_secs_f64()
    ));
    assert_eq!(archive, dist.join(format!("netfence-{}.tgz", env!("CARGO_PKG_VERSION"))));
    assert!(dist.join(format!("netfence-{}.tgz.prov", env!("CARGO_PKG_VERSION"))).is_file());

    // Verification: another key, and a tampered archive, are refused.
    let home = dir.join("helm");
    let out =
        run(helm4(&helm, &home).args(["plugin", "install"]).arg(&archive).arg("--keyring").arg(&other_pubring), b"");
    assert!(!out.status.success(), "installed with a stranger's keyring");
    let tampered = dir.join("tampered");
    std::fs::create_dir_all(&tampered).unwrap();
    let mut bytes = std::fs::read(&archive).unwrap();
    bytes.extend_from_slice(b"\0tampered");
    std::fs::write(tampered.join(archive.file_name().unwrap()), bytes).unwrap();
    std::fs::copy(
        archive.with_extension("tgz.prov"),
        tampered.join(format!("{}.prov", archive.file_name().unwrap().to_str().unwrap())),
    )
    .unwrap();
    let out = run(
        helm4(&helm, &home)
            .args(["plugin", "install"])
            .arg(tampered.join(archive.file_name().unwrap()))
            .arg("--keyring")
            .arg(&pubring),
        b"",
    );
    assert!(!out.status.success(), "installed a tampered archive");

    // The real install: verified against the release key.
    let out = run(helm4(&helm, &home).args(["plugin", "install"]).arg(&archive).arg("--keyring").arg(&pubring), b"");
    let installed = ok(&out, "helm plugin install");
    assert!(
        installed.contains("Plugin Hash Verified") && installed.contains("Installed plugin: netfence"),
        "{installed}"
    );
    let list = ok(&run(helm4(&helm, &home).args(["plugin", "list"]), b""), "helm plugin list");
    let line = list.lines().find(|l| l.starts_with("netfence")).unwrap_or_else(|| panic!("{list}"));
    assert!(line.contains("postrenderer/v1") && line.contains("signed"), "{line}");

    // A post-render through the installed plugin, with no netfence on PATH.
    let out = run(
        helm4(&helm, &home)
            .args([
                "template",
                "matih",
                util::matih_ai::CHART,
                "-n",
                util::matih_ai::NAMESPACE,
                "--post-renderer",
                "netfence",
            ])
            .args(["--post-renderer-args=-n", &format!("--post-renderer-args={}", util::matih_ai::NAMESPACE)])
            .arg("--post-renderer-args=-f")
            .arg(format!("--post-renderer-args={}", util::matih_ai::VALUES)),
        b"",
    );
    let rendered = ok(&out, "helm template through the installed plugin");
    util::matih_ai::check_output(&util::matih_ai::parse_stream(rendered.as_bytes()));

    // The archive's completions and man page are installed with it, and work.
    let plugin_dir = home.join("data/plugins/netfence");
    let bash = run(
        Command::new("bash").arg("-c").arg(format!(
            "source '{}' && complete -p netfence",
            plugin_dir.join("completions/netfence.bash").display()
        )),
        b"",
    );
    assert!(ok(&bash, "bash completion").contains("netfence"), "{}", text(&bash.stdout));
    assert!(
        plugin_dir.join("completions/_netfence").is_file() && plugin_dir.join("completions/netfence.fish").is_file()
    );
    let man = std::fs::read_to_string(plugin_dir.join("man/man1/netfence.1")).unwrap();
    assert!(man.contains(".TH netfence 1") && man.contains("NETFENCE RENDER"), "{}", &man[..200.min(man.len())]);
}

#[test]
fn github_workflows_pass_actionlint() {
    let Some(actionlint) = system_tool("actionlint").or_else(|| {
        // setup-tools installs it into a venv of .tools, not on PATH.
        Some(repo_root().join(".tools/actionlint/bin/actionlint")).filter(|p| p.is_file())
    }) else {
        return;
    };
    let workflows: Vec<PathBuf> = std::fs::read_dir(repo_root().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    assert!(workflows.len() >= 2, "a CI and a release workflow: {workflows:?}");
    // With shellcheck on PATH, actionlint also checks every `run:` script.
    let out = run(Command::new(&actionlint).args(&workflows).current_dir(repo_root()), b"");
    assert!(out.status.success(), "actionlint:\n{}{}", text(&out.stdout), text(&out.stderr));
    let ci = read(".github/workflows/ci.yml");
    assert!(ci.contains("run: bash .ci/run") && ci.contains("CI: \"true\""), "CI runs the project's entry point");
    let release = read(".github/workflows/release.yml");
    for needed in [
        "scripts/build-static.sh",
        "scripts/build-image.sh --stage-only",
        "functions/kustomize/Containerfile",
        "functions/argocd/Containerfile",
        "platforms: linux/amd64,linux/arm64",
        "scripts/package-helm-plugin.sh",
        "aarch64-unknown-linux-gnu",
        "aarch64-apple-darwin",
        "x86_64-apple-darwin",
        "SHA256SUMS",
    ] {
        assert!(release.contains(needed), "the release workflow lacks {needed}");
    }
    // The linter does find mistakes, so its pass means something.
    let broken = scratch_dir("actionlint").join("broken.yml");
    std::fs::write(
        &broken,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n",
    )
    .unwrap();
    let out = run(Command::new(&actionlint).arg(&broken), b"");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("property \"nope\" is not defined"), "{}", text(&out.stdout));
}

#[test]
fn shell_scripts_pass_shellcheck() {
    let Some(shellcheck) = system_tool("shellcheck") else { return };
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(repo_root().join("scripts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    scripts.push(repo_root().join(".ci/run"));
    scripts.push(repo_root().join("functions/kustomize/plugin/netfence.dev/v1alpha1/netfence/NetFence"));
    let out = run(Command::new(shellcheck).arg("-x").args(&scripts).current_dir(repo_root()), b"");
    assert!(out.status.success(), "shellcheck:\n{}", text(&out.stdout));
}
