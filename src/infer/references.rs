//! Service references: a Service's address in a container's `env` (values, and the ConfigMap
//! and Secret keys `valueFrom` and `envFrom` read), `args` or `command`, or in a configuration
//! file it mounts from a ConfigMap or Secret ([`super::mounts`], [`super::files`]), means the
//! workload connects to the Service's backing pods, on the port written (or every Service port).

use super::address::{host_ports, service_names, HostPort};
use super::index::{Index, Service};
use super::mounts::{self, MountedFile};
use super::{files, Connection, Party, Rule};
use k8s_openapi::api::networking::v1::NetworkPolicyPort;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;
use std::collections::HashMap;
use std::rc::Rc;

/// The connections the workloads' containers name; `mounted_files`: also those their mounted
/// configuration files name.
pub fn infer(ix: &Index, domain: &str, mounted_files: bool, out: &mut Vec<Connection>) {
    // One file mounted by many workloads is scanned once; only the addresses that name a
    // Service of its namespace are kept (the work per workload is then the references alone).
    let mut scanned: HashMap<MountedFile, Rc<Vec<Address>>> = HashMap::new();
    for (i, w) in ix.model.workloads.iter().enumerate() {
        if w.host_network || w.pod_labels.is_empty() {
            continue;
        }
        let Some(spec) = ix.pod_spec(i) else { continue };
        let mut found: Vec<(String, Rc<Vec<Address>>)> = Vec::new();
        for list in ["initContainers", "containers"] {
            for c in spec.get(list).and_then(Value::as_array).into_iter().flatten() {
                for (what, text) in container_texts(ix, &w.namespace, c) {
                    let hosts = host_ports(&text).into_iter().map(|host| Address { host, members: false });
                    found.push((what, Rc::new(hosts.collect())));
                }
                if !mounted_files {
                    continue;
                }
                for (file, at) in mounts::files(ix, &w.namespace, spec, c) {
                    let what = format!("{}/{} key {} mounted at {at}", file.kind, file.name, file.key);
                    let hosts = scanned.entry(file).or_insert_with_key(|file| {
                        let text = ix.data.get(&(file.kind, file.namespace.clone(), file.name.clone()));
                        let text = text.and_then(|d| d.get(&file.key)).map_or("", String::as_str);
                        let hosts = files::addresses(text).into_iter().map(|(host, members)| Address { host, members });
                        Rc::new(hosts.filter(|a| lookup(ix, &a.host, &file.namespace, domain).is_some()).collect())
                    });
                    found.push((what, Rc::clone(hosts)));
                }
            }
        }
        let of = format!("{}/{}", w.kind.to_lowercase(), w.name);
        for (what, hosts) in found {
            for Address { host: hp, members } in hosts.iter() {
                let Some((service, pod)) = lookup(ix, hp, &w.namespace, domain) else { continue };
                let Some(to) = destination(ix, service, pod.as_deref()) else { continue };
                // A workload naming a Service that selects its own pods declares no connection
                // (an advertised address, a TLS name, `KAFKA_FULLNAME=kafka`: pods of one
                // workload reaching each other is what `peers` reads), unless the Service
                // also selects other workloads and the address is one to connect to: a URL, a
                // port written, or a cluster member to join (`join_members`, `peers`, `seeds`:
                // a memberlist/gossip ring, whose members all reach each other).
                let me = super::workload_id(w);
                let connects = hp.url || hp.port.is_some() || *members;
                if to.names.contains(&me) && (to.names.len() == 1 || !connects) {
                    continue;
                }
                let ports = ports(ix, service, pod.is_some(), hp);
                let port = match (hp.port, &hp.port_name) {
                    (Some(p), _) => format!(":{p}"),
                    (None, Some(name)) => format!(" port {name}"),
                    (None, None) => String::new(),
                };
                let shown = match service.namespace == w.namespace {
                    true => format!("{}{port}", service.name),
                    false => format!("{}.{}{port}", service.name, service.namespace),
                };
                let named = match &pod {
                    Some(pod) => format!("pod {pod} of service {shown}"),
                    None => format!("service {shown}"),
                };
                out.push(Connection {
                    from: Party::workload(ix, i),
                    to: to.clone(),
                    ports,
                    rule: Rule::ServiceReference,
                    evidence: format!("{what} of {of} names {named}"),
                });
            }
        }
    }
}

/// A host a workload names, and whether it names it as a cluster member to join.
struct Address {
    host: HostPort,
    members: bool,
}

/// The texts of one container with what they are (`env DB_URL`, `args`, `configmap app key
/// url (envFrom)`).
fn container_texts(ix: &Index, namespace: &str, c: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let data = |kind: &'static str, name: &str| ix.data.get(&(kind, namespace.to_string(), name.to_string()));
    for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
        let name = e.get("name").and_then(Value::as_str).unwrap_or_default();
        if let Some(v) = e.get("value").and_then(Value::as_str) {
            out.push((format!("env {name}"), v.to_string()));
        }
        for (field, kind) in [("configMapKeyRef", "configmap"), ("secretKeyRef", "secret")] {
            let Some(r) = e.get("valueFrom").and_then(|v| v.get(field)) else { continue };
            let (Some(obj), Some(key)) = (r.get("name").and_then(Value::as_str), r.get("key").and_then(Value::as_str))
            else {
                continue;
            };
            if let Some(text) = data(kind, obj).and_then(|d| d.get(key)) {
                out.push((format!("env {name} ({kind} {obj} key {key})"), text.clone()));
            }
        }
    }
    for e in c.get("envFrom").and_then(Value::as_array).into_iter().flatten() {
        for (field, kind) in [("configMapRef", "configmap"), ("secretRef", "secret")] {
            let Some(obj) = e.get(field).and_then(|r| r.get("name")).and_then(Value::as_str) else { continue };
            for (key, text) in data(kind, obj).into_iter().flatten() {
                out.push((format!("envFrom {kind} {obj} key {key}"), text.clone()));
            }
        }
    }
    for field in ["command", "args"] {
        for arg in c.get(field).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            out.push((field.to_string(), arg.to_string()));
        }
    }
    out
}

/// The Service (and pod) a host names, in the render, as seen from `namespace`.
pub(crate) fn lookup<'i>(
    ix: &'i Index,
    hp: &HostPort,
    namespace: &str,
    domain: &str,
) -> Option<(&'i Service, Option<String>)> {
    for reading in service_names(&hp.host, domain) {
        let ns = reading.namespace.unwrap_or(namespace);
        if let Some(s) = ix.service(ns, reading.service).filter(|s| !s.backends.is_empty()) {
            // A pod name is only meaningful in front of a headless Service.
            match reading.pod {
                None => return Some((s, None)),
                Some(pod) if s.headless => return Some((s, Some(pod.to_string()))),
                Some(_) => {}
            }
        }
    }
    None
}

/// The pods a reference reaches: the Service's backends, or the StatefulSet a pod name
/// (`<statefulset>-<ordinal>`) belongs to.
pub(crate) fn destination(ix: &Index, service: &Service, pod: Option<&str>) -> Option<Party> {
    if let Some(pod) = pod {
        let owner = pod.rsplit_once('-').filter(|(_, n)| n.parse::<u32>().is_ok()).map(|(o, _)| o);
        if let Some(&i) = service.backends.iter().find(|&&i| {
            let w = &ix.model.workloads[i];
            w.kind == "StatefulSet" && Some(w.name.as_str()) == owner
        }) {
            return Some(Party::workload(ix, i));
        }
    }
    Party::service(ix.model, service)
}

/// The target ports of a reference: the Service port written (or, for a pod address or a port
/// no Service port has, the port itself when a backend listens on it), or named (a DNS SRV
/// name), else every Service port.
pub(crate) fn ports(ix: &Index, service: &Service, pod: bool, hp: &HostPort) -> Vec<NetworkPolicyPort> {
    let all = || service.ports.iter().map(|p| ix.target(service, p)).collect::<Vec<_>>();
    if let Some(sp) =
        hp.port_name.as_ref().and_then(|name| ix.service_port(service, &IntOrString::String(name.clone())))
    {
        return vec![ix.target(service, sp)];
    }
    let Some(port) = hp.port else { return all() };
    if !pod {
        if let Some(sp) = ix.service_port(service, &IntOrString::Int(port)) {
            return vec![ix.target(service, sp)];
        }
    }
    let listening = service.backends.iter().flat_map(|&i| &ix.model.workloads[i].ports).find(|c| c.port == port);
    match listening {
        Some(c) => vec![NetworkPolicyPort {
            protocol: Some(c.protocol.clone()),
            port: Some(IntOrString::Int(port)),
            end_port: None,
        }],
        None => all(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::infer::{infer, output};
    use crate::transform::testing::{config, model};

    /// The connections of `yaml` as `src dst proto/port evidence` lines.
    pub(crate) fn lines(yaml: &str, cfg: &str) -> Vec<String> {
        let m = model(yaml);
        output::rows(&infer(&m, &config(cfg)))
            .into_iter()
            .map(|r| format!("{} {} {}/{} {}: {}", r.src, r.dst, r.protocol, r.port, r.rule, r.evidence))
            .collect()
    }

    const SERVERS: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: shop}\nspec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, ports: [{name: pg, containerPort: 5432}]}]}}}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: shop}\nspec: {selector: {app: db}, ports: [{name: pg, port: 5432, targetPort: pg}, {name: metrics, port: 9187}]}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata: {name: db-hl, namespace: shop}\nspec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}\n---\n\
        apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cache, namespace: other}\nspec: {template: {metadata: {labels: {app: cache}}, spec: {containers: [{name: c}]}}}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata: {name: cache, namespace: other}\nspec: {selector: {app: cache}, ports: [{port: 6379}]}\n---\n\
        apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\ndata: {url: 'jdbc:postgresql://db-0.db-hl:5432/app'}\n---\n\
        apiVersion: v1\nkind: Secret\nmetadata: {name: sec, namespace: shop}\nstringData: {REDIS: 'redis://:pw@cache.other.svc.cluster.local:6379/0'}\n";

    fn client(containers: &str) -> String {
        format!(
            "{SERVERS}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: shop}}\nspec: {{template: {{metadata: {{labels: {{app: api}}}}, spec: {{containers: [{containers}]}}}}}}\n"
        )
    }

    #[test]
    fn each_source_of_text() {
        let got = lines(
            &client(
                "{name: c, env: [{name: DB, value: 'db:5432'}, {name: URL, valueFrom: {configMapKeyRef: {name: cfg, key: url}}}], envFrom: [{secretRef: {name: sec}}], args: ['--metrics=db.shop.svc:9187']}",
            ),
            "infer: {peers: false}",
        );
        assert_eq!(
            got,
            [
                "shop/Deployment/api other/Deployment/cache TCP/6379 service-reference: envFrom secret sec key REDIS of deployment/api names service cache.other:6379",
                "shop/Deployment/api shop/StatefulSet/db TCP/5432 service-reference: env DB of deployment/api names service db:5432",
                "shop/Deployment/api shop/StatefulSet/db TCP/9187 service-reference: args of deployment/api names service db:9187",
            ],
            "one row per connection and port, with the first evidence found"
        );
        let jdbc = lines(
            &client("{name: c, env: [{name: URL, valueFrom: {configMapKeyRef: {name: cfg, key: url}}}]}"),
            "infer: {peers: false}",
        );
        assert_eq!(
            jdbc,
            ["shop/Deployment/api shop/StatefulSet/db TCP/5432 service-reference: env URL (configmap cfg key url) of deployment/api names pod db-0 of service db-hl:5432"]
        );
    }

    #[test]
    fn all_service_ports_when_none_is_written_and_named_ports_resolved() {
        let got = lines(&client("{name: c, command: [app, --db, db]}"), "infer: {peers: false}");
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].contains("TCP/5432") && got[1].contains("TCP/9187"), "{got:?}");
        // Words that only look like names (a path segment) are not references.
        assert!(lines(&client("{name: c, command: [/opt/db/run.sh]}"), "infer: {peers: false}").is_empty());
        // Off: nothing.
        assert!(lines(&client("{name: c, command: [app, db]}"), "infer: {serviceReferences: false, peers: false}")
            .is_empty());
        assert!(lines(&client("{name: c, command: [app, db]}"), "infer: {enabled: false}").is_empty());
    }

    /// A tempo-like render: a gossip ring Service over three workloads, a config file naming it
    /// and other Services, mounted (or not) in several ways.
    fn ring(volumes: &str, mounts: &str) -> String {
        let member = |kind: &str, name: &str| {
            format!(
                "apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: t}}\nspec: {{template: {{metadata: {{labels: {{app: {name}, part-of: memberlist}}}}, spec: {{volumes: {volumes}, containers: [{{name: c, volumeMounts: {mounts}, ports: [{{name: gossip, containerPort: 7946}}, {{name: grpc, containerPort: 9095}}]}}]}}}}}}\n---\n"
            )
        };
        let svc = |name: &str, sel: &str, ports: &str, headless: bool| {
            let ip = if headless { ", clusterIP: None" } else { "" };
            format!("apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: t}}\nspec: {{selector: {{{sel}}}, ports: [{ports}]{ip}}}\n---\n")
        };
        format!(
            "{}{}{}{}{}{}apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg, namespace: t}}\ndata:\n  tempo.yaml: |\n    memberlist:\n      join_members:\n      - dns+ring:7946\n    cache:\n      host: memcached\n      service: memcached-client\n  other.yaml: |\n    ingester_addr: ingester:9095\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: sec, namespace: t}}\ndata:\n  gw.conf: {}\n",
            member("Deployment", "distributor"),
            member("StatefulSet", "ingester"),
            member("Deployment", "querier"),
            svc("ring", "part-of: memberlist", "{port: 7946, targetPort: gossip}", true),
            svc("ingester", "app: ingester", "{port: 9095, targetPort: grpc}", false),
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: memcached, namespace: t}\nspec: {template: {metadata: {labels: {app: memcached}}, spec: {containers: [{name: c}]}}}\n---\n".to_string()
                + &svc("memcached", "app: memcached", "{name: client, port: 11211}, {name: metrics, port: 9150}", false),
            // `server ingester:9095;` in an nginx file, base64 in the Secret's `data`.
            "c2VydmVyIGluZ2VzdGVyOjkwOTU7Cg==",
        )
    }

    #[test]
    fn mounted_config_files() {
        let cm = "[{name: config, configMap: {name: cfg, items: [{key: tempo.yaml, path: tempo.yaml}]}}]";
        let got = lines(&ring(cm, "[{name: config, mountPath: /conf}]"), "infer: {peers: false}");
        let of = |from: &str| {
            got.iter().filter(|l| l.starts_with(&format!("t/{from} "))).map(String::as_str).collect::<Vec<_>>()
        };
        // Every ring member reaches the ring (all members, itself included) on the gossip port,
        // and memcached on every port (no port written).
        let distributor = "configmap/cfg key tempo.yaml mounted at /conf of deployment/distributor names service";
        assert_eq!(
            of("Deployment/distributor"),
            [
                format!("t/Deployment/distributor t/Deployment/distributor TCP/7946 service-reference: {distributor} ring:7946"),
                format!("t/Deployment/distributor t/Deployment/querier TCP/7946 service-reference: {distributor} ring:7946"),
                format!("t/Deployment/distributor t/StatefulSet/ingester TCP/7946 service-reference: {distributor} ring:7946"),
                format!("t/Deployment/distributor t/StatefulSet/memcached TCP/11211 service-reference: {distributor} memcached"),
                format!("t/Deployment/distributor t/StatefulSet/memcached TCP/9150 service-reference: {distributor} memcached"),
            ],
            "{got:#?}"
        );
        assert_eq!(of("StatefulSet/ingester").len(), 5, "{got:#?}");
        assert_eq!(of("Deployment/querier").len(), 5, "{got:#?}");
        assert_eq!(got.len(), 15, "{got:#?}");
        // `items` selects tempo.yaml only: other.yaml's ingester:9095 is not mounted.
        assert!(!got.iter().any(|l| l.contains("9095")), "{got:#?}");
        // The whole ConfigMap (no items) mounts other.yaml too.
        let all = lines(
            &ring("[{name: config, configMap: {name: cfg}}]", "[{name: config, mountPath: /conf}]"),
            "infer: {peers: false}",
        );
        assert!(
            all.iter().any(|l| l.contains("t/Deployment/querier t/StatefulSet/ingester TCP/9095")
                && l.contains("key other.yaml mounted at /conf")),
            "{all:#?}"
        );
        // A subPath mounts one file of the volume.
        let sub = lines(
            &ring(
                "[{name: config, configMap: {name: cfg}}]",
                "[{name: config, mountPath: /etc/x.yaml, subPath: other.yaml}]",
            ),
            "infer: {peers: false}",
        );
        assert!(sub.iter().all(|l| l.contains("key other.yaml")) && !sub.is_empty(), "{sub:#?}");
        // A volume no container mounts, or the switch off: nothing.
        assert!(lines(&ring(cm, "[]"), "infer: {peers: false}").is_empty());
        assert!(lines(&ring(cm, "[{name: config, mountPath: /conf}]"), "infer: {peers: false, mountedFiles: false}")
            .is_empty());
        assert!(lines(
            &ring(cm, "[{name: config, mountPath: /conf}]"),
            "infer: {peers: false, serviceReferences: false}"
        )
        .is_empty());
    }

    #[test]
    fn a_service_over_the_workload_and_others_counts_when_it_is_an_address_to_connect_to() {
        let w = |name: &str, env: &str| {
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: t}}\nspec: {{template: {{metadata: {{labels: {{app: {name}, ring: 'yes'}}}}, spec: {{containers: [{{name: c, env: [{env}]}}]}}}}}}\n---\n")
        };
        let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: ring, namespace: t}\nspec: {clusterIP: None, selector: {ring: 'yes'}, ports: [{port: 7946}]}\n";
        // A bare name (a release's own name) and an announce domain: not connections.
        let quiet = format!(
            "{}{}{svc}",
            w("a", "{name: FULLNAME, value: ring}"),
            w("b", "{name: DOMAIN, value: ring.t.svc.cluster.local}")
        );
        assert!(lines(&quiet, "infer: {peers: false}").is_empty());
        // A URL and a port written: every member reaches the ring, itself included.
        let loud = format!(
            "{}{}{svc}",
            w("a", "{name: URL, value: 'http://ring/x'}"),
            w("b", "{name: JOIN, value: 'ring:7946'}")
        );
        let got = lines(&loud, "infer: {peers: false}");
        let pairs: Vec<&str> = got.iter().map(|l| l.split(" service-reference").next().unwrap()).collect();
        assert_eq!(
            pairs,
            [
                "t/Deployment/a t/Deployment/a TCP/7946",
                "t/Deployment/a t/Deployment/b TCP/7946",
                "t/Deployment/b t/Deployment/a TCP/7946",
                "t/Deployment/b t/Deployment/b TCP/7946"
            ]
        );
    }

    #[test]
    fn mounted_secrets_and_projected_volumes() {
        let secret = "[{name: gw, secret: {secretName: sec}}]";
        let got = lines(&ring(secret, "[{name: gw, mountPath: /etc/nginx}]"), "infer: {peers: false}");
        assert!(
            got.contains(&"t/Deployment/distributor t/StatefulSet/ingester TCP/9095 service-reference: secret/sec key gw.conf mounted at /etc/nginx of deployment/distributor names service ingester:9095".to_string()),
            "{got:#?}"
        );
        let projected = "[{name: all, projected: {sources: [{secret: {name: sec}}, {configMap: {name: cfg, items: [{key: tempo.yaml, path: t.yaml}]}}]}}]";
        let got = lines(&ring(projected, "[{name: all, mountPath: /p}]"), "infer: {peers: false}");
        assert!(got.iter().any(|l| l.contains("secret/sec key gw.conf mounted at /p")), "{got:#?}");
        assert!(got.iter().any(|l| l.contains("configmap/cfg key tempo.yaml mounted at /p")), "{got:#?}");
        assert!(!got.iter().any(|l| l.contains("other.yaml")), "{got:#?}");
    }
}
