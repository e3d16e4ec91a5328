//! The plain-stream adapter: manifests in, the same manifests plus network isolation out. This
//! is what the Helm post-renderer, the legacy kustomize exec plugin and the Argo CD plugin run;
//! the KRM function ([`super::function`]) runs the same core on a ResourceList.

use crate::analysis::lint;
use crate::config::namespace::DefaultNamespace;
use crate::config::Config;
use crate::core::report::Report;
use crate::core::{self, Outcome};
use crate::error::{Error, Result};
use crate::model::{Model, Needs};
use crate::stream::{Appended, Replacement, Stream};
use crate::transform::Finding;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

/// What a render needs besides the input.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Namespace of namespaced objects that do not set `metadata.namespace`.
    pub namespace: DefaultNamespace,
    /// The `netfence` configuration.
    pub config: Config,
    /// The release generated objects are named for, when given explicitly (normalised, see
    /// [`crate::config::release::resolve`]); `None`: the input's labels decide.
    pub release: Option<String>,
}

/// What to produce besides the output stream.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras {
    /// The change report.
    pub report: bool,
    /// The lint findings of the output (`--check`).
    pub check: bool,
}

/// The outcome of a render, ready to be written.
#[derive(Debug)]
pub struct Rendered<'a> {
    /// The split input.
    pub stream: Stream<'a>,
    /// What the core decided.
    pub outcome: Outcome,
    /// The change report, when asked for.
    pub report: Option<Report>,
    /// The lint findings of the output, when asked for.
    pub lint: Option<Vec<lint::Finding>>,
}

impl Rendered<'_> {
    /// Writes the output stream: unchanged documents byte for byte, changed ones patched,
    /// new ones appended.
    pub fn write(&self, out: &mut impl Write) -> Result<()> {
        let mut replaced: BTreeMap<usize, Replacement> = self
            .outcome
            .changed
            .iter()
            .map(|c| (c.doc, Replacement { patch: &c.patch, value: &c.value, remove: false }))
            .collect();
        for r in self.outcome.removed.iter().filter(|r| r.item.is_none()) {
            replaced.insert(r.doc, Replacement { patch: &[], value: &r.value, remove: true });
        }
        let appended: Vec<Appended> =
            self.outcome.added.iter().map(|a| Appended { value: &a.value, before: a.before }).collect();
        self.stream
            .write(&replaced, &appended, out)
            .map_err(|source| Error::Io { what: "writing the output".into(), source })
    }

    /// The output stream as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.stream.input.len() + 4096);
        // Writing to a Vec cannot fail.
        let _ = self.write(&mut out);
        out
    }

    /// What the transforms noticed (warnings such as unused extra egress rules).
    pub fn findings(&self) -> &[Finding] {
        &self.outcome.findings
    }
}

/// Renders `input`. Nothing is written: on error the caller has produced no output at all.
pub fn render<'a>(input: &'a [u8], options: &RenderOptions) -> Result<Rendered<'a>> {
    render_with(input, options, Extras::default())
}

/// [`render`], with the report and the lint of the output when asked for.
pub fn render_with<'a>(input: &'a [u8], options: &RenderOptions, extras: Extras) -> Result<Rendered<'a>> {
    let stream = Stream::parse(input)?;
    if !options.config.enabled {
        let report = extras.report.then(Report::default);
        let lint = if extras.check { Some(lint_input(&stream, &options.namespace.name)?) } else { None };
        return Ok(Rendered { stream, outcome: Outcome::default(), report, lint });
    }
    let needs =
        Needs { workloads: options.config.needs_workloads() || extras.check, manifests: options.config.infer.enabled };
    let mut model = Model::build(&stream, &options.namespace.name, needs)?;
    model.disown_additions()?;
    // Parsed Lists are kept only to rewrite those holding a policy: free the others before the
    // transforms run (peak memory on List-heavy streams).
    let with_policy: BTreeSet<usize> = model.policies.iter().map(|p| model.objects[p.object].doc).collect();
    model.lists.retain(|doc, _| with_policy.contains(doc));
    super::admissible(&model)?;
    let outcome =
        core::core(&model, &options.config, &super::context(&model, &options.namespace, options.release.as_deref())?)?;
    tracing::info!(changed = outcome.changed.len(), added = outcome.added.len(), "render done");
    let report = extras.report.then(|| Report::new(&model, &outcome));
    let lint = if extras.check {
        let documents = stream.docs.iter().filter(|d| d.header.is_some()).count();
        Some(super::check::lint_output(&model, &outcome, documents, |i| object_value(&stream, &model, i))?)
    } else {
        None
    };
    Ok(Rendered { stream, outcome, report, lint })
}

/// The lint of an input netfence leaves alone (`enabled: false`): the output is the input.
fn lint_input(stream: &Stream, namespace: &str) -> Result<Vec<lint::Finding>> {
    let model = Model::build(stream, namespace, Needs { workloads: true, manifests: false })?;
    let documents = stream.docs.iter().filter(|d| d.header.is_some()).count();
    super::check::lint_output(&model, &Outcome::default(), documents, |i| object_value(stream, &model, i))
}

/// The whole value of input object `i` (a List item is taken from its List).
fn object_value(stream: &Stream, model: &Model, i: usize) -> Result<Value> {
    let o = &model.objects[i];
    let doc = stream.docs[o.doc].value(stream.format)?;
    Ok(match o.item {
        Some(item) => doc.pointer(&format!("/items/{item}")).cloned().unwrap_or_default(),
        None => doc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Action;
    use crate::stream::Format;
    use std::path::Path;

    /// The documents of a stream as parsed values, in order (comment-only chunks left out).
    fn documents(bytes: &[u8]) -> Vec<Value> {
        let stream = Stream::parse(bytes).expect("a valid stream");
        stream.docs.iter().filter(|d| d.header.is_some()).map(|d| d.value(stream.format).expect("parses")).collect()
    }

    fn config(yaml: &str) -> Config {
        let value = crate::stream::parse_value(yaml.as_bytes(), Format::Yaml).expect("valid YAML");
        Config::from_value(value, "netfence").expect("a valid config")
    }

    /// Renders `input` with a report and checks it against the output: every patch turns the
    /// input document (as parsed) into the output document exactly, every removed document is
    /// gone, and every added document is reported. Returns the output and the number of
    /// (changed, updated or removed; added) entries.
    fn check_report(name: &str, input: &[u8], config: &Config) -> (Vec<u8>, usize, usize) {
        check_report_for(name, input, config, None)
    }

    /// [`check_report`] with a release name.
    fn check_report_for(name: &str, input: &[u8], config: &Config, release: Option<&str>) -> (Vec<u8>, usize, usize) {
        let options = RenderOptions {
            namespace: "netfence-corpus".into(),
            config: config.clone(),
            release: release.map(str::to_string),
        };
        let rendered = render_with(input, &options, Extras { report: true, check: false })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let output = rendered.to_bytes();
        let report = rendered.report.expect("asked for");
        let (before, mut after) = (documents(input), documents(&output));
        // The input documents as the report says they become (None: removed).
        let mut expected: Vec<Option<Value>> = before.iter().cloned().map(Some).collect();
        let mut changed = 0;
        for e in report.changes.iter().filter(|e| e.action != Action::Added) {
            let i = e.document.expect("a changed document has its index") - 1;
            assert!(!e.reason.is_empty(), "{name}: document {} changed without a reason", i + 1);
            let ops = e.patch.as_ref().expect("a patch");
            if e.action == Action::Removed {
                assert_eq!(ops, &crate::core::patch::remove_whole(), "{name}: document {}", i + 1);
                let managed = before[i].pointer("/metadata/labels/app.kubernetes.io~1managed-by");
                assert_eq!(managed, Some(&serde_json::json!("netfence")), "{name}: only netfence's objects go");
                expected[i] = None;
            } else {
                expected[i] = Some(crate::core::patch::apply(&before[i], ops).expect("applies"));
            }
            changed += 1;
        }
        // Added documents, wherever they were placed, are the reported ones.
        let mut added = 0;
        for e in report.changes.iter().filter(|e| e.action == Action::Added) {
            let is_it = |d: &Value| {
                d["kind"] == e.kind.as_str()
                    && d["metadata"]["name"] == e.name.as_str()
                    && d["metadata"]["namespace"].as_str() == e.namespace.as_deref()
            };
            let at =
                after.iter().rposition(is_it).unwrap_or_else(|| panic!("{name}: added {} not in the output", e.name));
            after.remove(at);
            added += 1;
        }
        let expected: Vec<Value> = expected.into_iter().flatten().collect();
        assert_eq!(after.len(), expected.len(), "{name}: every added and removed document is reported");
        for (i, (want, got)) in expected.iter().zip(&after).enumerate() {
            assert!(want == got, "{name}: output document {} is not what the report says", i + 1);
        }
        (output, changed, added)
    }

    #[test]
    fn report_patches_reproduce_the_output_on_the_corpus() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/charts");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e} (the shared corpus is expected next to the repository)", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        assert!(files.len() >= 30, "expected the chart corpus in {}", dir.display());
        let extra = config("egress: [{to: [{ipBlock: {cidr: 10.20.0.0/16}}], ports: [{port: 5432}]}]");
        let narrower =
            config("egress: [{to: [{ipBlock: {cidr: 10.30.0.0/16}}]}]\ndefaultDeny: {policyTypes: [Egress]}");
        let other_rules = config("egress: [{to: [{ipBlock: {cidr: 10.30.0.0/16}}]}]\ndns: {profile: node-local}");
        // Fewer generated objects: no baseline, no workload policies.
        let fewer = config("defaultDeny: {enabled: false}\ninfer: {enabled: false}");
        let (mut changed, mut added, mut updated) = (0, 0, 0);
        for file in &files {
            let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
            let input = std::fs::read(file).unwrap_or_else(|e| panic!("{name}: {e}"));
            let (output, c_changed, c_added) = check_report(&name, &input, &Config::default());
            // A second run with another configuration regenerates netfence's own policies:
            // `updated` entries, whose patches must reproduce the output too.
            let (_, again, _) = check_report(&name, &output, &narrower);
            let (extended, e_changed, e_added) = check_report(&name, &input, &extra);
            // netfence owns what it added: another configuration replaces it exactly (the same
            // documents; a policy whose additions were removed is re-serialised, so not the
            // same bytes where the chart's text had comments or another layout).
            let (replaced, ..) = check_report(&name, &extended, &other_rules);
            let direct = check_report(&name, &input, &other_rules).0;
            assert!(documents(&replaced) == documents(&direct), "{name}: render(B, render(A, x)) != render(B, x)");
            // Generated objects the configuration no longer wants are removed.
            let (replaced, ..) = check_report(&name, &extended, &fewer);
            let direct = check_report(&name, &input, &fewer).0;
            assert!(documents(&replaced) == documents(&direct), "{name}: render(B, render(A, x)) != render(B, x)");
            (changed, added, updated) = (changed + c_changed + e_changed, added + c_added + e_added, updated + again);
        }
        assert!(changed > 50 && added > 100 && updated > 30, "changed {changed}, added {added}, updated {updated}");
    }

    /// Chart policies of every shape netfence appends to: an `egress` list, no `egress` key,
    /// annotations of their own, an item of a List.
    const CHART: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: web\n  namespace: a\nspec:\n  podSelector:\n    matchLabels:\n      app: web\n  policyTypes:\n  - Egress\n  egress:\n  - to:\n    - podSelector:\n        matchLabels:\n          app: db\n---\n\
        apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: api\n  namespace: a\n  annotations:\n    team: x\nspec:\n  podSelector:\n    matchLabels:\n      app: api\n  policyTypes:\n  - Egress\n---\n\
        apiVersion: v1\nkind: List\nitems:\n- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata:\n    name: job\n    namespace: b\n  spec:\n    podSelector:\n      matchLabels:\n        app: job\n    policyTypes:\n    - Ingress\n    - Egress\n    egress:\n    - ports:\n      - port: 443\n";

    /// Two workloads beside [`CHART`]'s policies, so that workload policies, matrix edges and
    /// what keeps the chart's traffic have something to select.
    const WORKLOADS: &str = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: a\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: web\n        ports:\n        - containerPort: 8080\n---\n\
        apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\n  namespace: a\nspec:\n  selector:\n    matchLabels:\n      app: worker\n  template:\n    metadata:\n      labels:\n        app: worker\n    spec:\n      containers:\n      - name: worker\n        image: worker\n        env:\n        - name: WEB\n          value: http://web-svc:8080\n";

    /// A configuration that adds and removes generated objects: extra egress rules to some of
    /// four CIDRs, a DNS profile, DNS on or off, the default-deny on or off and its policy
    /// types, workload policies on or off, a matrix edge or not; and a release name or none.
    fn random_config() -> impl proptest::strategy::Strategy<Value = (String, Option<&'static str>)> {
        use proptest::prelude::*;
        let rules = (proptest::collection::vec(0..4u8, 0..3), 0..3usize, any::<bool>());
        let generated = (any::<bool>(), 0..3usize, any::<bool>(), any::<bool>(), 0..3usize);
        (rules, generated).prop_map(|((cidrs, profile, dns), (deny, types, workload, edge, release))| {
            let egress: Vec<String> =
                cidrs.iter().map(|c| format!("{{to: [{{ipBlock: {{cidr: 10.{}.0.0/16}}}}]}}", 20 + 10 * c)).collect();
            let profile = ["kube-dns", "node-local", "openshift"][profile];
            let types = ["[Ingress, Egress]", "[Egress]", "[Ingress]"][types];
            let allow = if edge { "[{from: {workload: worker}, to: {workload: web}}]" } else { "[]" };
            let yaml = format!(
                "egress: [{}]\ndns: {{enabled: {dns}, profile: {profile}}}\ndefaultDeny: {{enabled: {deny}, policyTypes: {types}}}\n\
                 workloadPolicies: {{enabled: {workload}}}\nallow: {allow}",
                egress.join(", ")
            );
            (yaml, [None, Some("a"), Some("b")][release])
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// netfence owns what it added and what it generated: re-rendering with configuration B
        /// gives, byte for byte, what rendering with B gives (generated objects B does not want
        /// are removed, new ones placed as a fresh render places them), and re-rendering with
        /// the same configuration changes nothing.
        #[test]
        fn re_rendering_replaces_exactly_netfence_s_additions((a, ra) in random_config(), (b, rb) in random_config()) {
            let (a, b) = (config(&a), config(&b));
            let input = format!("{CHART}{WORKLOADS}");
            let x = input.as_bytes();
            let (with_a, ..) = check_report_for("x", x, &a, ra);
            let (with_b, ..) = check_report_for("x", x, &b, rb);
            let (a_then_b, ..) = check_report_for("render(A, x)", &with_a, &b, rb);
            proptest::prop_assert_eq!(String::from_utf8_lossy(&a_then_b), String::from_utf8_lossy(&with_b));
            let (a_twice, ..) = check_report_for("render(A, x)", &with_a, &a, ra);
            proptest::prop_assert_eq!(String::from_utf8_lossy(&a_twice), String::from_utf8_lossy(&with_a));
        }
    }

    #[test]
    fn a_cidr_and_a_dns_profile_change_leave_only_the_new_rules() {
        let a = config("egress: [{to: [{ipBlock: {cidr: 10.20.0.0/16}}]}]");
        let b = config("egress: [{to: [{ipBlock: {cidr: 10.30.0.0/16}}]}]\ndns: {profile: node-local}");
        let (with_a, ..) = check_report("x", CHART.as_bytes(), &a);
        let text = String::from_utf8_lossy(&with_a).into_owned();
        assert!(text.contains("netfence.dev/added-egress: 2:") && text.contains("10.20.0.0/16"), "{text}");
        let (a_then_b, ..) = check_report("render(A, x)", &with_a, &b);
        let text = String::from_utf8_lossy(&a_then_b).into_owned();
        assert!(!text.contains("10.20.0.0/16") && text.contains("10.30.0.0/16") && text.contains("169.254.20.10/32"));
        // The input's own rules and annotations stay; netfence's annotation goes when it adds nothing.
        let none = config("dns: {enabled: false}");
        let (cleared, ..) = check_report("render(A, x)", &with_a, &none);
        let text = String::from_utf8_lossy(&cleared).into_owned();
        assert!(!text.contains("netfence.dev") && text.contains("team: x") && text.contains("port: 443"), "{text}");
    }

    #[test]
    fn edited_additions_are_kept_with_a_warning() {
        let a = config("egress: [{to: [{ipBlock: {cidr: 10.20.0.0/16}}]}]");
        let (with_a, ..) = check_report("x", CHART.as_bytes(), &a);
        let edited = String::from_utf8_lossy(&with_a).replacen("10.20.0.0/16", "10.21.0.0/16", 1);
        let options = RenderOptions { namespace: "default".into(), config: a, release: None };
        let rendered = render(edited.as_bytes(), &options).expect("renders");
        assert!(rendered.findings().iter().any(|f| f.message.contains("NetworkPolicy a/web: its annotation")));
        let text = String::from_utf8_lossy(&rendered.to_bytes()).into_owned();
        assert!(text.contains("10.21.0.0/16") && text.contains("10.20.0.0/16"), "{text}");
    }
}
