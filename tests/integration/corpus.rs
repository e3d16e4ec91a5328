//! Properties of `netfence render` over every real Helm render in `../shared/corpus/charts/`,
//! plus a proptest over generated small streams.
//!
//! For every file and two configurations (the defaults, and seed 1's `networkPolicy.egress`
//! values with the node-local DNS profile):
//! - it renders without error, and the output parses as a multi-document YAML stream;
//! - the output starts with the input's documents, chunk by chunk: untouched documents are
//!   byte-identical, changed ones are NetworkPolicies (or Lists holding one) whose only change is
//!   rules appended to `spec.egress`; everything after them is a generated NetworkPolicy;
//! - rendering is idempotent (render(render(x)) == render(x)) and deterministic;
//! - every policy of the output that restricts egress allows DNS, or its namespace has an
//!   allow-DNS baseline (checked with an oracle written here, independent of `src/`).

use crate::util::{self, selector_matches};
use netfence::config::{values, Config};
use netfence::run::RenderOptions;
use netfence::stream::split::{split_json, split_yaml, Chunk};
use netfence::stream::{Format, Stream};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Namespace for documents without one (jupyterhub's renders have many).
const DEFAULT_NS: &str = "netfence-corpus";

fn corpus_files() -> Vec<PathBuf> {
    let dir = util::shared_dir().join("corpus/charts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (the shared corpus is expected next to the repository)", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "expected the whole chart corpus in {}, found {} files", dir.display(), files.len());
    files
}

fn seed_config() -> Config {
    let dir = util::scratch_dir("corpus-seed-values");
    let file = dir.join("values.yaml");
    std::fs::write(
        &file,
        "networkPolicy:\n  enabled: true\n  dns:\n    profile: node-local\n  egress:\n    - to:\n        - podSelector:\n            matchLabels:\n              app: custom-dependency\n      ports:\n        - port: 8080\n",
    )
    .expect("write values");
    let config = values::load(&[&file]).expect("seed values load");
    let _ = std::fs::remove_dir_all(&dir);
    config
}

/// Parses one chunk (or a whole stream) into its documents; empty documents are dropped.
fn parse_docs(bytes: &[u8]) -> Result<Vec<Value>, String> {
    let mut options = netfence::stream::yaml_options();
    if let Some(budget) = options.budget.as_mut() {
        budget.max_documents = 1 << 20;
    }
    let docs: Vec<Value> = serde_saphyr::from_slice_multiple_with_options(bytes, options).map_err(|e| e.to_string())?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

fn parse_one(bytes: &[u8]) -> Result<Value, String> {
    let mut docs = parse_docs(bytes)?;
    match docs.len() {
        1 => Ok(docs.remove(0)),
        n => Err(format!("expected one document, found {n}")),
    }
}

fn is_policy(v: &Value) -> bool {
    v["kind"] == "NetworkPolicy" && v["apiVersion"].as_str().is_some_and(|a| a.starts_with("networking.k8s.io/"))
}

fn egress_of(v: &Value) -> Vec<Value> {
    v["spec"]["egress"].as_array().cloned().unwrap_or_default()
}

/// Checks that `new` is `old` with rules appended to `spec.egress`, and nothing else changed.
fn check_policy_edit(old: &Value, new: &Value) -> Result<(), String> {
    if !is_policy(old) {
        return Err(format!("a {} was changed", old["kind"]));
    }
    let (old_rules, new_rules) = (egress_of(old), egress_of(new));
    if new_rules.len() <= old_rules.len() || new_rules[..old_rules.len()] != old_rules[..] {
        return Err(format!("{}: egress rules were not only appended", old["metadata"]["name"]));
    }
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("egress");
        }
        // netfence's record of what it appended (and the annotations map it may have created).
        if let Some(metadata) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            let annotations = metadata.get_mut("annotations").and_then(Value::as_object_mut);
            if annotations.is_some_and(|a| a.remove("netfence.dev/added-egress").is_some() && a.is_empty()) {
                metadata.remove("annotations");
            }
        }
        v
    };
    if strip(old) != strip(new) {
        return Err(format!("{}: fields other than spec.egress changed", old["metadata"]["name"]));
    }
    Ok(())
}

/// The chunk-by-chunk relation between input and output (see the module docs).
fn check_partition(input: &[u8], output: &[u8]) -> Result<(), String> {
    let stream = Stream::parse(input).map_err(|e| format!("the input does not split: {e}"))?;
    // Every chunk, empty ones included (the stream keeps only the documents).
    let (ins, outs): (Vec<Chunk>, Vec<Chunk>) = match stream.format {
        Format::Yaml => (split_yaml(input), split_yaml(output)),
        Format::Json => (
            split_json(input).map_err(|(i, e)| format!("input JSON value {i}: {e}"))?,
            split_json(output).map_err(|(i, e)| format!("output JSON value {i}: {e}"))?,
        ),
    };
    if outs.len() < ins.len() {
        return Err(format!("output has {} chunks, input {}", outs.len(), ins.len()));
    }
    for (i, (ic, oc)) in ins.iter().zip(&outs).enumerate() {
        let (a, b) = (&input[ic.start..ic.end], &output[oc.start..oc.end]);
        if a == b {
            continue;
        }
        // The last input chunk may get a line break so that appended documents start on a line
        // (in a JSON stream, its trailing white space moves to the next value instead).
        let last = i + 1 == ins.len();
        let trailing_space_only = |long: &[u8], short: &[u8]| {
            long.starts_with(short) && long[short.len()..].iter().all(u8::is_ascii_whitespace)
        };
        if last && (trailing_space_only(a, b) || trailing_space_only(b, a)) {
            continue;
        }
        let (old, new) = (parse_one(a), parse_one(b));
        let (old, new) = match (old, new) {
            (Ok(o), Ok(n)) => (o, n),
            (o, n) => return Err(format!("changed chunk {i} does not parse: {:?} / {:?}", o.err(), n.err())),
        };
        let edit = if old["kind"] == "List" && old["apiVersion"] == "v1" {
            let (oi, ni) = (old["items"].as_array().cloned().unwrap_or_default(), new["items"].as_array().cloned());
            let ni = ni.unwrap_or_default();
            let mut rest = (old.clone(), new.clone());
            rest.0["items"] = Value::Null;
            rest.1["items"] = Value::Null;
            if oi.len() != ni.len() || rest.0 != rest.1 {
                Err("a List changed beyond its policies".to_string())
            } else {
                oi.iter().zip(&ni).filter(|(o, n)| o != n).try_for_each(|(o, n)| check_policy_edit(o, n))
            }
        } else {
            check_policy_edit(&old, &new)
        };
        edit.map_err(|e| format!("chunk {i} (line {}): {e}", ic.line))?;
    }
    for (i, oc) in outs.iter().enumerate().skip(ins.len()) {
        let v = parse_one(&output[oc.start..oc.end]).map_err(|e| format!("appended chunk {i}: {e}"))?;
        if !is_policy(&v) || v["metadata"]["labels"]["app.kubernetes.io/managed-by"] != "netfence" {
            return Err(format!("appended chunk {i} is not a netfence NetworkPolicy"));
        }
    }
    Ok(())
}

// ---- DNS oracle: what the API server's semantics say, written independently of src/ ----

fn restricts_egress(p: &Value) -> bool {
    match p["spec"]["policyTypes"].as_array() {
        Some(types) if !types.is_empty() => types.iter().any(|t| t == "Egress"),
        _ => !egress_of(p).is_empty(),
    }
}

/// Whether policy `p` in namespace `ns` lets its pods reach kube-dns pods on `proto`/53.
fn allows_dns_on(p: &Value, ns: &str, proto: &str) -> bool {
    let dns_ns = BTreeMap::from([("kubernetes.io/metadata.name", "kube-system")]);
    let dns_pod = BTreeMap::from([("k8s-app", "kube-dns")]);
    egress_of(p).iter().any(|rule| {
        let ports = rule["ports"].as_array().filter(|p| !p.is_empty());
        let ports_ok = ports.is_none_or(|ports| {
            ports.iter().any(|port| {
                let proto_ok = port["protocol"].as_str().unwrap_or("TCP") == proto;
                let port_ok = match (&port["port"], port["endPort"].as_i64()) {
                    (Value::Null, _) => true,
                    (Value::Number(n), None) => n.as_i64() == Some(53),
                    (Value::Number(n), Some(end)) => n.as_i64().is_some_and(|n| n <= 53 && 53 <= end),
                    _ => false,
                };
                proto_ok && port_ok
            })
        });
        let peers = rule["to"].as_array().filter(|t| !t.is_empty());
        let peers_ok = peers.is_none_or(|peers| {
            peers.iter().any(|peer| {
                let ns_ok = match &peer["namespaceSelector"] {
                    Value::Null => ns == "kube-system",
                    sel => selector_matches(sel, &dns_ns),
                };
                peer["ipBlock"].is_null() && ns_ok && selector_matches(&peer["podSelector"], &dns_pod)
            })
        });
        ports_ok && peers_ok
    })
}

fn allows_dns(p: &Value, ns: &str) -> bool {
    allows_dns_on(p, ns, "UDP") && allows_dns_on(p, ns, "TCP")
}

/// Every egress-restricting policy of `docs` allows DNS or is covered by its namespace's baseline.
fn check_dns(docs: &[Value], default_ns: &str) -> Result<(), String> {
    let mut policies = Vec::new();
    for d in docs {
        if d["kind"] == "List" {
            policies.extend(d["items"].as_array().into_iter().flatten().filter(|v| is_policy(v)));
        } else if is_policy(d) {
            policies.push(d);
        }
    }
    let ns_of =
        |p: &Value| p["metadata"]["namespace"].as_str().filter(|n| !n.is_empty()).unwrap_or(default_ns).to_string();
    let whole_ns = |p: &Value| {
        let sel = &p["spec"]["podSelector"];
        let empty = |v: &Value| {
            v.is_null() || v.as_object().is_some_and(|m| m.is_empty()) || v.as_array().is_some_and(|a| a.is_empty())
        };
        sel.is_null() || (empty(&sel["matchLabels"]) && empty(&sel["matchExpressions"]))
    };
    for p in &policies {
        if !restricts_egress(p) {
            continue;
        }
        let ns = ns_of(p);
        let baseline =
            policies.iter().any(|b| ns_of(b) == ns && whole_ns(b) && restricts_egress(b) && allows_dns(b, &ns));
        if !allows_dns(p, &ns) && !baseline {
            return Err(format!("policy {ns}/{} restricts egress but DNS is not allowed", p["metadata"]["name"]));
        }
    }
    Ok(())
}

/// All properties for one input and configuration.
fn check_file(name: &str, input: &[u8], options: &RenderOptions) -> Result<(), String> {
    let out = util::render_bytes(input, options).map_err(|e| format!("render failed: {e}"))?;
    let docs = parse_docs(&out).map_err(|e| format!("output does not parse: {e}"))?;
    check_partition(input, &out)?;
    let again = util::render_bytes(input, options).map_err(|e| format!("second render failed: {e}"))?;
    if again != out {
        return Err("not deterministic: two renders differ".into());
    }
    let twice = util::render_bytes(&out, options).map_err(|e| format!("rendering the output failed: {e}"))?;
    if twice != out {
        return Err("not idempotent: render(render(x)) != render(x)".into());
    }
    check_dns(&docs, &options.namespace.name)?;
    // Nothing netfence does hides a document: the output has at least as many objects.
    let in_docs = parse_docs(input).map_err(|e| format!("input does not parse: {e}"))?;
    if docs.len() < in_docs.len() {
        return Err(format!("{name}: {} documents in, {} out", in_docs.len(), docs.len()));
    }
    Ok(())
}

fn check_corpus(config: Config, label: &str) {
    let options = RenderOptions { namespace: DEFAULT_NS.into(), config, release: None };
    let files = corpus_files();
    // Two halves on two threads: the corpus is 15 MB.
    let (a, b) = files.split_at(files.len() / 2);
    let run = |part: &[PathBuf]| -> Vec<String> {
        part.iter()
            .filter_map(|f| {
                let name = f.file_name().unwrap().to_string_lossy().into_owned();
                let input = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                check_file(&name, &input, &options).err().map(|e| format!("{label} {name}: {e}"))
            })
            .collect()
    };
    let failures: Vec<String> = std::thread::scope(|s| {
        let h = s.spawn(|| run(a));
        let mut f = run(b);
        f.extend(h.join().expect("corpus thread"));
        f
    });
    assert!(failures.is_empty(), "{} corpus failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn corpus_with_default_config() {
    check_corpus(Config::default(), "[defaults]");
}

#[test]
fn corpus_with_seed_values() {
    check_corpus(seed_config(), "[seed values]");
}

/// The oracle itself: the shapes the issue names.
#[test]
fn dns_oracle_sanity() {
    let p = |egress: Value| json!({"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1", "spec": {"policyTypes": ["Egress"], "egress": egress}});
    let seed = json!([{"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]);
    assert!(allows_dns(&p(seed), "x"));
    assert!(allows_dns(&p(json!([{}])), "x"));
    assert!(allows_dns(&p(json!([{"ports": [{"protocol": "UDP", "port": 53}, {"port": 53}]}])), "x"));
    assert!(!allows_dns(&p(json!([{"ports": [{"protocol": "UDP", "port": 53}]}])), "x"));
    let by_name = json!([{"to": [{"namespaceSelector": {"matchLabels": {"name": "kube-system"}}}]}]);
    assert!(!allows_dns(&p(by_name), "x"));
    assert!(!allows_dns(&p(json!([])), "x"));
}

// ---- generated streams ----

/// One generated document (without its `---` line).
fn doc_strategy() -> impl Strategy<Value = String> {
    let name = "[a-z][a-z0-9]{0,5}";
    let ns = prop_oneof![
        Just(None),
        Just(Some("shop".to_string())),
        Just(Some("kube-system".to_string())),
        // Not strings to a YAML 1.1 reader: the namespace is unset.
        prop_oneof![Just("no"), Just("On"), Just("~"), Just("0644"), Just("1e3")].prop_map(|n| Some(n.to_string())),
        "[a-z]{1,4}".prop_map(Some)
    ];
    let ns_line = |ns: &Option<String>| ns.as_ref().map(|n| format!("  namespace: {n}\n")).unwrap_or_default();
    prop_oneof![
        (name, ns.clone()).prop_map(move |(n, ns)| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\n{}data:\n  mode: 0644   # octal\n  flag: on\n", ns_line(&ns))),
        (name, ns.clone(), any::<bool>(), any::<bool>()).prop_map(move |(n, ns, types, dns)| {
            let types = if types { "  policyTypes: [Ingress, Egress]\n" } else { "" };
            let dns = if dns { "    - ports:\n        - {port: 53, protocol: UDP}\n        - {port: 53, protocol: TCP}\n" } else { "" };
            format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {n}\n{}spec:\n  podSelector:\n    matchLabels: {{app: {n}}}\n{types}  egress:\n{dns}    # to the pods of {n}\n    - to:\n        - podSelector: {{}}  # any\n  # end of spec\n", ns_line(&ns))
        }),
        (name, ns.clone()).prop_map(|(n, ns)| {
            let ns = ns.map(|ns| format!(", namespace: {ns}")).unwrap_or_default();
            format!("kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {{name: {n}{ns}}}\nspec: {{podSelector: {{}}, policyTypes: [Egress]}}\n")
        }),
        (name, ns.clone()).prop_map(move |(n, ns)| format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {n}\n{}spec:\n  podSelector: {{}}\n  ingress:\n    - {{}}\n", ns_line(&ns))),
        name.prop_map(|n| format!("apiVersion: v1\nkind: List\nitems:\n  - apiVersion: networking.k8s.io/v1\n    kind: NetworkPolicy\n    metadata: {{name: {n}, namespace: shop}}\n    spec:\n      podSelector: {{matchLabels: {{a: b}}}}\n      policyTypes: [Egress]\n  - {{apiVersion: v1, kind: Service, metadata: {{name: {n}}}}}\n")),
        name.prop_map(|n| format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {n}\n")),
        name.prop_map(|n| format!("{{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {{\"name\": \"{n}\"}}}}\n")),
        (name, ns.clone()).prop_map(move |(n, ns)| format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {n}\n{}  annotations:\n    postrenderer.helm.sh/postrender-filename: chart/templates/{n}.yaml\n",
            ns_line(&ns)
        )),
        name.prop_map(|n| format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {n}\n  labels: {{team: {n}}}\n")),
        Just("# only a comment\n".to_string()),
        Just(String::new()),
        Just("a: [1, 2\n".to_string()),
        Just("- just\n- a list\n".to_string()),
        Just("text: |\n  ---\n  # kept\n".to_string()),
        "[ -~\n]{0,30}",
    ]
}

/// A stream: documents joined by markers with random comments, optional CRLF and final newline.
fn stream_strategy() -> impl Strategy<Value = Vec<u8>> {
    let part = (
        doc_strategy(),
        prop_oneof![
            Just("---\n"),
            Just("--- \n"),
            Just("---\n# Source: c/t.yaml\n"),
            Just("...\n---\n"),
            Just("...\n%YAML 1.1\n---\n")
        ],
        proptest::option::of("# [ -~]{0,10}\n"),
    );
    (proptest::collection::vec(part, 0..6), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(parts, first_marker, crlf, final_nl)| {
            let mut text = String::new();
            for (i, (doc, marker, comment)) in parts.iter().enumerate() {
                if i > 0 || first_marker {
                    text.push_str(marker);
                }
                if let Some(c) = comment {
                    text.push_str(c);
                }
                text.push_str(doc);
            }
            if !final_nl {
                while text.ends_with('\n') {
                    text.pop();
                }
            }
            if crlf {
                text = text.replace('\n', "\r\n");
            }
            text.into_bytes()
        },
    )
}

proptest! {
    // 512 cases by default; `PROPTEST_CASES=20000` for a longer hunt.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_streams_partition_and_are_idempotent(input in stream_strategy()) {
        let options = RenderOptions { namespace: "gen".into(), config: Config::default(), release: None };
        // A panic fails the test by itself; errors are fine for broken inputs.
        if let Ok(out) = util::render_bytes(&input, &options) {
            if let Err(e) = check_partition(&input, &out) {
                prop_assert!(false, "{}\ninput: {:?}\noutput: {:?}", e, String::from_utf8_lossy(&input), String::from_utf8_lossy(&out));
            }
            // (Documents a JSON tree cannot hold, such as `{null: null}`, pass through verbatim.)
            if Stream::parse(&input).is_ok_and(|s| s.format == Format::Yaml) && parse_docs(&input).is_ok() {
                match parse_docs(&out) {
                    Ok(docs) => {
                        if let Err(e) = check_dns(&docs, &options.namespace.name) {
                            prop_assert!(false, "{}\ninput: {:?}", e, String::from_utf8_lossy(&input));
                        }
                    }
                    Err(e) => prop_assert!(false, "output does not parse: {}\ninput: {:?}\noutput: {:?}", e, String::from_utf8_lossy(&input), String::from_utf8_lossy(&out)),
                }
            }
            // Changed policies keep their text: no comment of the input is lost (anchors, aliases
            // and tags, which random text can put on a policy, make netfence re-serialise it).
            let (input_text, out_text) = (String::from_utf8_lossy(&input), String::from_utf8_lossy(&out));
            let splice_applies = !input_text.contains(['&', '*', '!']);
            for line in input_text.lines().filter(|l| splice_applies && l.trim_start().starts_with('#')) {
                prop_assert!(out_text.contains(line), "comment {:?} lost; input: {:?}\noutput: {:?}", line, input_text, out_text);
            }
            let again = util::render_bytes(&out, &options);
            prop_assert_eq!(again.as_deref(), Ok(&out[..]), "not idempotent for {:?}", String::from_utf8_lossy(&input));
        }
    }
}
