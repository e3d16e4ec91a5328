//! A proptest over generated platforms (namespaces, workloads with named ports, hostNetwork
//! pods, Lists, NetworkPolicies with every kind of selector, peer and port, and
//! AdminNetworkPolicies and BaselineAdminNetworkPolicies with every kind of subject, peer,
//! action and port, valid or not):
//! - reading them never panics: an input error, or a topology;
//! - every matrix level and format, exposure analysis and the focus options, `check` in all its
//!   formats and `explain` of some pairs run without panicking, and the JSON outputs parse;
//! - the ResourceList reading (`Topology::from_items`, the KRM path) gives the same connections
//!   as the stream reading;
//! - `render` then `matrix` works on what render wrote, and the KRM function answers every
//!   ResourceList with a ResourceList.
//!
//! Correctness of the connections themselves is checked against np-guard's scenarios
//! (analysis_scenarios.rs) and network-config-analyzer (analysis_nca.rs); this test hunts for
//! panics and for the two readers disagreeing. `PROPTEST_CASES=20000` hunts longer.

use netfence::analysis::connlist;
use netfence::analysis::explain::{explain, Endpoint};
use netfence::analysis::focus::Focus;
use netfence::analysis::format::{self, json, text, Format};
use netfence::analysis::lint;
use netfence::analysis::matrix::Level;
use netfence::analysis::ports::Protocol;
use netfence::analysis::topology::Topology;
use netfence::config::Config;
use netfence::run::function::{self, Processor};
use netfence::run::{render, RenderOptions};
use proptest::prelude::*;
use serde_json::{json, Value};

const NS: &str = "fuzz";

fn namespace() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![Just(None), Just(Some("a")), Just(Some("b")), Just(Some("kube-system")), Just(Some(""))]
}

fn labels() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({})),
        Just(json!({"app": "web"})),
        Just(json!({"app": "db", "tier": "back"})),
        Just(json!({"app": "api", "tier": "front"})),
        Just(json!({"k8s-app": "kube-dns"})),
    ]
}

fn label_selector() -> impl Strategy<Value = Value> {
    let op = prop_oneof![Just("In"), Just("NotIn"), Just("Exists"), Just("DoesNotExist"), Just("Bogus")];
    let values = prop_oneof![Just(json!(["web"])), Just(json!(["db", "api"])), Just(json!([])), Just(Value::Null)];
    // (The last two are input errors: rarely, so that most platforms get analysed.)
    prop_oneof![
        10 => Just(json!({})),
        10 => labels().prop_map(|l| json!({"matchLabels": l})),
        10 => (prop_oneof![Just("app"), Just("tier"), Just("team")], op, values)
            .prop_map(|(k, op, v)| json!({"matchExpressions": [{"key": k, "operator": op, "values": v}]})),
        1 => Just(json!({"matchLabels": {"app": 5}})),
        1 => Just(json!("not a selector")),
    ]
}

fn peer() -> impl Strategy<Value = Value> {
    let cidr = prop_oneof![
        Just(json!({"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "169.254.169.254/32"]})),
        Just(json!({"cidr": "10.1.0.0/16"})),
        Just(json!({"cidr": "::/0", "except": ["fd00::/8"]})),
        Just(json!({"cidr": "10.1.2.3/8", "except": ["10.0.0.0/4"]})),
        Just(json!({"cidr": "not-an-ip"})),
        Just(json!({"cidr": "10.0.0.0/8", "except": ["fd00::/8"]})),
    ];
    prop_oneof![
        label_selector().prop_map(|s| json!({"podSelector": s})),
        label_selector().prop_map(|s| json!({"namespaceSelector": s})),
        (label_selector(), label_selector()).prop_map(|(p, n)| json!({"podSelector": p, "namespaceSelector": n})),
        Just(json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}})),
        Just(json!({"namespaceSelector": {"matchLabels": {"name": "b"}}})),
        cidr.prop_map(|c| json!({"ipBlock": c})),
        Just(json!({})),
    ]
}

fn port() -> impl Strategy<Value = Value> {
    let protocol =
        prop_oneof![Just(None), Just(Some("TCP")), Just(Some("UDP")), Just(Some("SCTP")), Just(Some("ICMP"))];
    let number = prop_oneof![
        Just(None),
        Just(Some(json!(53))),
        Just(Some(json!(8080))),
        Just(Some(json!("http"))),
        Just(Some(json!("dns"))),
        Just(Some(json!(0))),
        Just(Some(json!(70000))),
    ];
    let end = prop_oneof![Just(None), Just(Some(9000)), Just(Some(20)), Just(Some(65535))];
    (protocol, number, end).prop_map(|(protocol, number, end)| {
        let mut p = serde_json::Map::new();
        if let Some(protocol) = protocol {
            p.insert("protocol".into(), json!(protocol));
        }
        if let Some(number) = number {
            p.insert("port".into(), number);
        }
        if let Some(end) = end {
            p.insert("endPort".into(), json!(end));
        }
        Value::Object(p)
    })
}

fn rule(direction: &'static str) -> impl Strategy<Value = Value> {
    let peers = proptest::option::of(proptest::collection::vec(peer(), 0..3));
    let ports = proptest::option::of(proptest::collection::vec(port(), 0..3));
    (peers, ports).prop_map(move |(peers, ports)| {
        let mut r = serde_json::Map::new();
        if let Some(peers) = peers {
            r.insert(direction.into(), Value::Array(peers));
        }
        if let Some(ports) = ports {
            r.insert("ports".into(), Value::Array(ports));
        }
        Value::Object(r)
    })
}

fn policy() -> impl Strategy<Value = Value> {
    let types = prop_oneof![
        Just(None),
        Just(Some(json!(["Ingress"]))),
        Just(Some(json!(["Egress"]))),
        Just(Some(json!(["Ingress", "Egress"]))),
        Just(Some(json!([]))),
        Just(Some(json!(["Sideways"]))),
    ];
    let rules = |d| proptest::option::of(proptest::collection::vec(rule(d), 0..3));
    (0..4u8, namespace(), label_selector(), types, rules("from"), rules("to")).prop_map(
        |(n, ns, selector, types, ingress, egress)| {
            let mut spec = serde_json::Map::new();
            spec.insert("podSelector".into(), selector);
            if let Some(t) = types {
                spec.insert("policyTypes".into(), t);
            }
            if let Some(i) = ingress {
                spec.insert("ingress".into(), Value::Array(i));
            }
            if let Some(e) = egress {
                spec.insert("egress".into(), Value::Array(e));
            }
            object("networking.k8s.io/v1", "NetworkPolicy", &format!("np{n}"), ns, json!({}), Value::Object(spec))
        },
    )
}

fn admin_peer(egress: bool) -> impl Strategy<Value = Value> {
    let mut choices = vec![
        label_selector().prop_map(|s| json!({"namespaces": s})).boxed(),
        (label_selector(), label_selector())
            .prop_map(|(n, p)| json!({"pods": {"namespaceSelector": n, "podSelector": p}}))
            .boxed(),
        label_selector().prop_map(|p| json!({"pods": {"podSelector": p}})).boxed(),
        Just(json!({})).boxed(),
        Just(json!({"namespaces": {}, "pods": {}})).boxed(),
    ];
    if egress {
        choices.push(Just(json!({"networks": ["10.0.0.0/8", "8.8.8.8/32"]})).boxed());
        choices.push(Just(json!({"networks": ["fd00::/8"]})).boxed());
        choices.push(Just(json!({"nodes": {}})).boxed());
    }
    proptest::strategy::Union::new(choices)
}

fn admin_port() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"portNumber": {"port": 8080}})),
        Just(json!({"portNumber": {"protocol": "UDP", "port": 53}})),
        Just(json!({"namedPort": "http"})),
        Just(json!({"namedPort": "dns"})),
        Just(json!({"portRange": {"protocol": "TCP", "start": 1000, "end": 9000}})),
        Just(json!({"portRange": {"start": 9000, "end": 10}})),
        Just(json!({"portNumber": {"port": 80}, "namedPort": "http"})),
    ]
}

fn admin_rule(egress: bool) -> impl Strategy<Value = Value> {
    let action = prop_oneof![4 => Just("Allow"), 4 => Just("Deny"), 4 => Just("Pass"), 1 => Just("Drop")];
    let peers = proptest::collection::vec(admin_peer(egress), 0..3);
    let ports = proptest::option::of(proptest::collection::vec(admin_port(), 0..3));
    (action, peers, ports, 0..3u8).prop_map(move |(action, peers, ports, n)| {
        let mut r = json!({"name": format!("r{n}"), "action": action});
        r[if egress { "to" } else { "from" }] = Value::Array(peers);
        if let Some(ports) = ports {
            r["ports"] = Value::Array(ports);
        }
        r
    })
}

fn admin_policy() -> impl Strategy<Value = Value> {
    let subject = prop_oneof![
        label_selector().prop_map(|s| json!({"namespaces": s})),
        (label_selector(), label_selector())
            .prop_map(|(n, p)| json!({"pods": {"namespaceSelector": n, "podSelector": p}})),
    ];
    let rules = |egress| proptest::option::of(proptest::collection::vec(admin_rule(egress), 0..3));
    (any::<bool>(), 0..4u8, subject, rules(false), rules(true)).prop_map(|(baseline, n, subject, ingress, egress)| {
        let mut spec = json!({"subject": subject});
        if !baseline {
            spec["priority"] = json!(n * 10);
        }
        if let Some(i) = ingress {
            spec["ingress"] = Value::Array(i);
        }
        if let Some(e) = egress {
            spec["egress"] = Value::Array(e);
        }
        let (kind, name) = if baseline { ("BaselineAdminNetworkPolicy", "default".to_string()) } else { ("AdminNetworkPolicy", format!("anp{n}")) };
        json!({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec})
    })
}

fn pod_spec(host_network: bool) -> Value {
    json!({
        "hostNetwork": host_network,
        "containers": [{
            "name": "c",
            "ports": [
                {"name": "http", "containerPort": 8080},
                {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                {"containerPort": 9000, "protocol": "SCTP"}
            ]
        }]
    })
}

fn workload() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        Just(("apps/v1", "Deployment")),
        Just(("apps/v1", "StatefulSet")),
        Just(("apps/v1", "DaemonSet")),
        Just(("batch/v1", "Job")),
        Just(("batch/v1", "CronJob")),
        Just(("v1", "Pod")),
        Just(("v1", "ReplicationController")),
    ];
    (kind, 0..3u8, namespace(), labels(), any::<bool>()).prop_map(|((api, kind), n, ns, labels, host)| {
        let template = json!({"metadata": {"labels": labels}, "spec": pod_spec(host)});
        let spec = match kind {
            "Pod" => template["spec"].clone(),
            "CronJob" => json!({"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}),
            _ => json!({"selector": {"matchLabels": labels}, "template": template}),
        };
        let meta_labels = if kind == "Pod" { labels } else { json!({}) };
        object(api, kind, &format!("w{n}"), ns, meta_labels, spec)
    })
}

fn object(api: &str, kind: &str, name: &str, ns: Option<&str>, labels: Value, spec: Value) -> Value {
    let mut meta = json!({"name": name, "labels": labels});
    if let Some(ns) = ns {
        meta["namespace"] = json!(ns);
    }
    json!({"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec})
}

fn document() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => policy(),
        2 => admin_policy(),
        3 => workload(),
        1 => (prop_oneof![Just("a"), Just("b"), Just("c")], prop_oneof![Just(json!({})), Just(json!({"team": "x"})), Just(json!({"name": "b"}))])
            .prop_map(|(n, l)| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": l}})),
        1 => proptest::collection::vec(workload(), 0..3)
            .prop_map(|items| json!({"apiVersion": "v1", "kind": "List", "items": items})),
        1 => Just(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}})),
    ]
}

/// Documents as a YAML stream of JSON documents, and the parsed documents.
fn platform() -> impl Strategy<Value = (Vec<u8>, Vec<Value>)> {
    proptest::collection::vec(document(), 0..8).prop_map(|docs| {
        let text: Vec<String> = docs.iter().map(|d| format!("---\n{d}\n")).collect();
        (text.concat().into_bytes(), docs)
    })
}

const FORMATS: [Format; 6] =
    [Format::Table, Format::Markdown, Format::Json, Format::Dot, Format::Mermaid, Format::Connlist];

/// Runs every analysis output over `t`; returns the workload connlist and the namespace JSON.
fn analyse(t: &Topology) -> Result<(String, String), String> {
    for level in [Level::Namespace, Level::Workload] {
        for format in FORMATS {
            if level == Level::Namespace && format == Format::Connlist {
                continue;
            }
            let out = format::render(t, level, format, &Focus::default());
            if format == Format::Json {
                serde_json::from_str::<Value>(&out).map_err(|e| format!("{level:?} JSON does not parse: {e}"))?;
            }
        }
    }
    let findings = lint::check(t);
    let _ = (lint::text(&findings), lint::summary(&findings), format::sarif::findings(&findings).to_string());
    serde_json::to_string(&json::findings(&findings)).map_err(|e| e.to_string())?;
    let n = t.workloads.len();
    for (s, d) in [(0, 1), (1, 0), (0, 0)] {
        if s < n && d < n {
            let port = Some((Protocol::Tcp, 8080));
            text::explanation(&explain(t, Endpoint::Workload(s), Endpoint::Workload(d), port)?);
            text::explanation(&explain(t, Endpoint::Workload(s), Endpoint::Address("8.8.8.8".parse().unwrap()), None)?);
        }
    }
    // Exposure and the focus options, in np-guard's text and JSON.
    let focus = Focus {
        workloads: vec!["w0".into(), "a/w1".into()],
        peers: Vec::new(),
        direction: None,
        conn: Some((Protocol::Tcp, 8080)),
    };
    for (f, exposure) in [(Focus::default(), true), (focus, true), (Focus::default(), false)] {
        let listing = connlist::listing(t, &f, exposure);
        let _ = (format::connlist::listing(&listing), json::listing(&listing).to_string());
    }
    let empty = Focus::default();
    Ok((
        format::render(t, Level::Workload, Format::Connlist, &empty),
        format::render(t, Level::Namespace, Format::Json, &empty),
    ))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_platforms_analyse_without_panics_and_both_readers_agree((bytes, docs) in platform()) {
        let from_stream = Topology::from_bytes(&bytes, NS);
        let from_items = Topology::from_items(&docs, NS);
        prop_assert_eq!(from_stream.is_ok(), from_items.is_ok(), "stream: {:?}, items: {:?}", from_stream.as_ref().err(), from_items.as_ref().err());
        if let (Ok(a), Ok(b)) = (&from_stream, &from_items) {
            let a = analyse(a).map_err(TestCaseError::fail)?;
            let b = analyse(b).map_err(TestCaseError::fail)?;
            prop_assert_eq!(a, b, "the stream and ResourceList readers disagree");
        }

        let options = RenderOptions { namespace: NS.into(), config: Config::default(), release: None };
        if let Ok(out) = render(&bytes, &options).map(|r| r.to_bytes()) {
            let t = Topology::from_bytes(&out, NS);
            prop_assert!(t.is_ok(), "render's output does not analyse: {:?}", t.err());
            analyse(&t.unwrap()).map_err(TestCaseError::fail)?;
        }

        let list = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": docs});
        let mut answer = Vec::new();
        if function::run(list.to_string().as_bytes(), &Processor { namespace: Some(NS.into()), ..Processor::default() }, &mut answer).is_ok() {
            let answer: Value = serde_json::from_slice(&answer).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&answer["kind"], "ResourceList");
            prop_assert!(answer["items"].as_array().is_some_and(|i| i.len() >= docs.len()));
        }
    }
}
