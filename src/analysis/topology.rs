//! What the analysis reasons about, read from one or more manifest streams with the same
//! [`Model`] the transforms use: namespaces with their labels, workloads named by their owner,
//! NetworkPolicies, and the Services, Routes and Ingresses that let an ingress controller in.

use crate::error::{DocRef, Error, Result};
use crate::k8s::selector::Labels;
use crate::model::workload::ContainerPort;
use crate::model::{Model, Needs, Object};
use crate::stream::Stream;
use k8s_openapi::api::core::v1::ServiceSpec;
use k8s_openapi::api::networking::v1::{IngressSpec, NetworkPolicySpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

/// Where an object came from, for messages and SARIF locations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The file, `None` for stdin.
    pub file: Option<String>,
    /// The document in that file.
    pub doc: DocRef,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{file}: {}", self.doc),
            None => write!(f, "{}", self.doc),
        }
    }
}

/// A workload: the pods of one owner (Deployment, StatefulSet, DaemonSet, ReplicaSet,
/// ReplicationController, Job, CronJob), or a bare Pod.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Namespace.
    pub namespace: String,
    /// Owner name (the Pod's own name for a bare Pod).
    pub name: String,
    /// Owner kind (`Pod` for a bare Pod).
    pub kind: String,
    /// Labels of its pods.
    pub labels: Labels,
    /// Container ports of its pods (for named ports).
    pub ports: Vec<ContainerPort>,
    /// Whether its pods use the node's network.
    pub host_network: bool,
    /// The first object that contributed it.
    pub origin: Origin,
}

impl Workload {
    /// `namespace/name[Kind]`, np-guard's spelling.
    pub fn id(&self) -> String {
        format!("{}/{}[{}]", self.namespace, self.name, self.kind)
    }
}

/// A NetworkPolicy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Namespace after defaulting.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The typed spec.
    pub spec: NetworkPolicySpec,
    /// Where it is.
    pub origin: Origin,
}

impl Policy {
    /// `namespace/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// A Service (only what ingress analysis needs).
#[derive(Debug, Clone)]
pub struct Service {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The typed spec.
    pub spec: ServiceSpec,
}

/// Where an OpenShift Route or a Kubernetes Ingress sends traffic: Services of its namespace.
#[derive(Debug, Clone)]
pub struct IngressRoute {
    /// `Route` or `Ingress`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// (Service name, service port by name or number; `None` for every port of the Service).
    pub backends: Vec<(String, Option<IntOrString>)>,
}

/// One input stream: its bytes and what to call it.
#[derive(Debug, Clone)]
pub struct Input {
    /// The file name, `None` for stdin.
    pub name: Option<String>,
    /// The content.
    pub bytes: Vec<u8>,
    /// Found by walking a directory: a file that is not a manifest stream is skipped with a
    /// warning instead of failing the run (as np-guard and NCA do with directories).
    pub lenient: bool,
}

impl Input {
    /// Reads the inputs named on the command line: files, directories (every `.yaml`, `.yml`
    /// and `.json` file below them, in path order) or `-` for stdin; no path means stdin.
    pub fn read_all(paths: &[PathBuf]) -> Result<Vec<Input>> {
        if paths.is_empty() {
            return Ok(vec![Input::stdin()?]);
        }
        let mut inputs = Vec::new();
        for path in paths {
            if path.as_os_str() == "-" {
                inputs.push(Input::stdin()?);
            } else if path.is_dir() {
                let mut files = Vec::new();
                walk(path, &mut files)?;
                files.sort();
                for file in files {
                    inputs.push(Input { lenient: true, ..Input::file(&file)? });
                }
            } else {
                inputs.push(Input::file(path)?);
            }
        }
        Ok(inputs)
    }

    /// Reads standard input.
    pub fn stdin() -> Result<Input> {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|source| Error::Io { what: "reading stdin".into(), source })?;
        Ok(Input { name: None, bytes, lenient: false })
    }

    /// Reads one file.
    pub fn file(path: &Path) -> Result<Input> {
        let bytes =
            std::fs::read(path).map_err(|source| Error::Io { what: format!("reading {}", path.display()), source })?;
        Ok(Input { name: Some(path.display().to_string()), bytes, lenient: false })
    }

    /// The input with its bytes replaced by `f(bytes)` (e.g. as netfence's render writes them);
    /// an error about the content names the file.
    pub fn transformed(&self, f: impl FnOnce(&[u8]) -> Result<Vec<u8>>) -> Result<Input> {
        let bytes = f(&self.bytes).map_err(|e| self.wrap(e))?;
        Ok(Input { bytes, ..self.clone() })
    }

    /// Names the file in an error about its content (stdin errors are left as they are).
    fn wrap(&self, e: Error) -> Error {
        match (&self.name, e) {
            (Some(file), Error::Input { doc, message }) => {
                Error::Config { path: file.clone(), message: format!("{doc}: {message}") }
            }
            (_, e) => e,
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let io = |source| Error::Io { what: format!("reading directory {}", dir.display()), source };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json")) {
            out.push(path);
        }
    }
    Ok(())
}

pub use crate::k8s::NAMESPACE_NAME_LABEL;

/// Everything the analysis knows about the inputs.
#[derive(Debug, Default)]
pub struct Topology {
    /// Every namespace with its labels (declared ones with their `Namespace` labels, inferred
    /// ones with the automatic name label only).
    pub namespaces: BTreeMap<String, Labels>,
    /// Namespaces that have a `Namespace` object in the input.
    pub declared_namespaces: BTreeSet<String>,
    /// Workloads, sorted by [`Workload::id`].
    pub workloads: Vec<Workload>,
    /// NetworkPolicies (`networking.k8s.io`), in input order.
    pub policies: Vec<Policy>,
    /// Services.
    pub services: Vec<Service>,
    /// Routes and Ingresses.
    pub routes: Vec<IngressRoute>,
}

impl Topology {
    /// Reads every input; objects without a namespace go to `default_namespace`.
    pub fn load(inputs: &[Input], default_namespace: &str) -> Result<Topology> {
        let mut topology = Topology::default();
        let mut index: HashMap<(String, String, String), usize> = HashMap::new();
        for input in inputs {
            if let Err(e) = topology.add(input, default_namespace, &mut index) {
                if !input.lenient {
                    return Err(input.wrap(e));
                }
                tracing::warn!("skipping {}: {e}", input.name.as_deref().unwrap_or("stdin"));
            }
        }
        topology.workloads.sort_by_cached_key(Workload::id);
        Ok(topology)
    }

    /// Reads one manifest stream (for tests and library use).
    pub fn from_bytes(bytes: &[u8], default_namespace: &str) -> Result<Topology> {
        Topology::load(&[Input { name: None, bytes: bytes.to_vec(), lenient: false }], default_namespace)
    }

    /// Reads the items of a KRM `ResourceList` (item `i` is "document" `i + 1` of the origins).
    pub fn from_items(items: &[Value], default_namespace: &str) -> Result<Topology> {
        let mut topology = Topology::default();
        let model = Model::from_items(items, default_namespace, Needs { workloads: true })?;
        let mut index = HashMap::new();
        topology.absorb(&model, None, &mut index, |i| Ok(model.value_in(items, i).cloned().unwrap_or_default()))?;
        topology.workloads.sort_by_cached_key(Workload::id);
        Ok(topology)
    }

    /// The topology of an already built model, e.g. the output of a render (no writing and
    /// reading it again); `value_of(i)` is object `i`'s whole value (asked only for Services,
    /// Routes and Ingresses). Origins are the model's document references.
    pub fn from_model(model: &Model, value_of: impl Fn(usize) -> Result<Value>) -> Result<Topology> {
        let mut topology = Topology::default();
        topology.absorb(model, None, &mut HashMap::new(), value_of)?;
        topology.workloads.sort_by_cached_key(Workload::id);
        Ok(topology)
    }

    fn add(
        &mut self,
        input: &Input,
        default_namespace: &str,
        index: &mut HashMap<(String, String, String), usize>,
    ) -> Result<()> {
        let stream = Stream::parse(&input.bytes)?;
        let model = Model::build(&stream, default_namespace, Needs { workloads: true })?;
        self.absorb(&model, input.name.as_deref(), index, |i| object_value(&stream, &model, i))
    }

    /// Adds what `model` holds; `value_of(i)` is the whole object `i` of the model (read again
    /// only for the few kinds the model does not keep: Services, Routes, Ingresses).
    fn absorb(
        &mut self,
        model: &Model,
        file: Option<&str>,
        index: &mut HashMap<(String, String, String), usize>,
        value_of: impl Fn(usize) -> Result<Value>,
    ) -> Result<()> {
        let origin = |o: &Object| Origin { file: file.map(str::to_string), doc: o.doc_ref.clone() };
        for (name, labels) in &model.namespaces {
            self.namespaces.entry(name.clone()).or_default().extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        for o in model.objects.iter().filter(|o| o.kind == "Namespace" && o.api_version == "v1") {
            self.declared_namespaces.insert(o.name.to_string());
        }
        for p in &model.policies {
            self.policies.push(Policy {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                spec: p.spec.clone(),
                origin: origin(&model.objects[p.object]),
            });
        }
        for w in &model.workloads {
            let (kind, name) = match &w.owner {
                Some(owner) if owner.kind.is_empty() => ("Pod".to_string(), owner.name.clone()),
                Some(owner) => (owner.kind.clone(), owner.name.clone()),
                None => (w.kind.clone(), w.name.clone()),
            };
            let key = (w.namespace.clone(), kind.clone(), name.clone());
            if let Some(&i) = index.get(&key) {
                if self.workloads[i].labels != w.pod_labels {
                    tracing::warn!(
                        "{}: pods of one owner with different labels; the analysis uses those of {}",
                        self.workloads[i].id(),
                        self.workloads[i].origin
                    );
                }
                continue;
            }
            index.insert(key, self.workloads.len());
            self.workloads.push(Workload {
                namespace: w.namespace.clone(),
                name,
                kind,
                labels: w.pod_labels.clone(),
                ports: w.ports.clone(),
                host_network: w.host_network,
                origin: origin(&model.objects[w.object]),
            });
        }
        // Other policy kinds (Cilium, Calico, admin policies): one warning per kind, not per object.
        let mut unanalysed: BTreeMap<&str, (usize, &Object)> = BTreeMap::new();
        for (i, o) in model.objects.iter().enumerate() {
            let kubernetes_policy = o.kind == "NetworkPolicy" && o.api_version.starts_with("networking.k8s.io/");
            if o.kind.ends_with("NetworkPolicy") && !kubernetes_policy {
                unanalysed.entry(o.kind.as_str()).or_insert((0, o)).0 += 1;
            }
            let wanted = match o.kind.as_str() {
                "Service" => o.api_version == "v1",
                "Route" => o.api_version.starts_with("route.openshift.io/"),
                "Ingress" => {
                    o.api_version.starts_with("networking.k8s.io/") || o.api_version.starts_with("extensions/")
                }
                _ => false,
            };
            if !wanted {
                continue;
            }
            let value = value_of(i)?;
            let namespace = o.namespace.as_deref().unwrap_or_default().to_string();
            let spec = value.get("spec").cloned().unwrap_or(Value::Null);
            match o.kind.as_str() {
                "Service" => match serde_json::from_value::<ServiceSpec>(spec) {
                    Ok(spec) => self.services.push(Service { namespace, name: o.name.to_string(), spec }),
                    Err(e) => tracing::warn!("{}: ignoring the Service: {e}", origin(o)),
                },
                "Route" => self.routes.push(route_backends(namespace, &o.name, &spec)),
                _ => match serde_json::from_value::<IngressSpec>(spec) {
                    Ok(spec) => self.routes.push(ingress_backends(namespace, &o.name, &spec)),
                    Err(e) => tracing::warn!("{}: ignoring the Ingress: {e}", origin(o)),
                },
            }
        }
        for (kind, (count, first)) in unanalysed {
            let (objects, are) = if count == 1 { ("object", "is") } else { ("objects", "are") };
            tracing::warn!(
                "{count} {kind} {objects} {are} not analysed (only networking.k8s.io NetworkPolicies are); the first: {}",
                origin(first)
            );
        }
        Ok(())
    }

    /// The labels of namespace `name` (the automatic name label when it is unknown).
    pub fn namespace_labels(&self, name: &str) -> Labels {
        self.namespaces
            .get(name)
            .cloned()
            .unwrap_or_else(|| Labels::from([(NAMESPACE_NAME_LABEL.to_string(), name.to_string())]))
    }
}

/// The full value of object `i` of `model` (a List item is taken from its List).
fn object_value(stream: &Stream, model: &Model, i: usize) -> Result<Value> {
    let o = &model.objects[i];
    match o.item {
        Some(item) => {
            Ok(model.lists.get(&o.doc).and_then(|l| l.pointer(&format!("/items/{item}"))).cloned().unwrap_or_default())
        }
        None => stream.docs[o.doc].value(stream.format),
    }
}

/// An OpenShift Route's services: `spec.to` and `spec.alternateBackends` of kind Service,
/// all with `spec.port.targetPort`.
fn route_backends(namespace: String, name: &str, spec: &Value) -> IngressRoute {
    let port = spec.pointer("/port/targetPort").and_then(|p| match p {
        Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()).map(IntOrString::Int),
        Value::String(s) => Some(IntOrString::String(s.clone())),
        _ => None,
    });
    let mut backends = Vec::new();
    let targets =
        spec.get("to").into_iter().chain(spec.get("alternateBackends").and_then(Value::as_array).into_iter().flatten());
    for t in targets {
        let kind = t.get("kind").and_then(Value::as_str).unwrap_or("");
        match t.get("name").and_then(Value::as_str) {
            Some(service) if kind.is_empty() || kind == "Service" => backends.push((service.to_string(), port.clone())),
            _ => tracing::warn!("Route {namespace}/{name}: ignoring a target that is not a Service"),
        }
    }
    IngressRoute { kind: "Route".into(), namespace, name: name.to_string(), backends }
}

/// A Kubernetes Ingress's services: the default backend and every path's backend.
fn ingress_backends(namespace: String, name: &str, spec: &IngressSpec) -> IngressRoute {
    let mut backends = Vec::new();
    let paths = spec.rules.iter().flatten().filter_map(|r| r.http.as_ref()).flat_map(|h| h.paths.iter());
    let all = spec.default_backend.iter().chain(paths.map(|p| &p.backend));
    for backend in all {
        match &backend.service {
            Some(s) => {
                let port = s.port.as_ref().and_then(|p| match (&p.name, p.number) {
                    (Some(n), _) if !n.is_empty() => Some(IntOrString::String(n.clone())),
                    (_, Some(n)) => Some(IntOrString::Int(n)),
                    _ => None,
                });
                backends.push((s.name.clone(), port));
            }
            None => tracing::warn!("Ingress {namespace}/{name}: ignoring a backend without a Service"),
        }
    }
    IngressRoute { kind: "Ingress".into(), namespace, name: name.to_string(), backends }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUT: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: a}}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: shop
  labels: {app: web}
  ownerReferences: [{kind: ReplicaSet, name: web-7d9, controller: true}]
spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-2
  namespace: shop
  labels: {app: web}
  ownerReferences: [{kind: ReplicaSet, name: web-7d9, controller: true}]
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: etcd
  namespace: kube-system
  ownerReferences: [{kind: Node, name: node-1, controller: true}]
spec: {hostNetwork: true, containers: [{name: etcd}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec: {template: {metadata: {labels: {app: api}}, spec: {containers: [{name: c}]}}}
"#;

    #[test]
    fn workloads_are_named_by_their_owner() {
        let t = Topology::from_bytes(INPUT.as_bytes(), "default").unwrap();
        let ids: Vec<String> = t.workloads.iter().map(Workload::id).collect();
        assert_eq!(ids, ["default/api[Deployment]", "kube-system/etcd[Pod]", "shop/web-7d9[ReplicaSet]"]);
        assert!(t.workloads[1].host_network);
        assert_eq!(t.workloads[2].ports.len(), 1, "the first pod of the owner is used");
        assert_eq!(t.namespaces["shop"]["team"], "a");
        assert_eq!(t.namespaces["default"][NAMESPACE_NAME_LABEL], "default");
        assert!(t.declared_namespaces.contains("shop") && !t.declared_namespaces.contains("default"));
    }

    #[test]
    fn bad_files_name_the_file_and_directories_skip_them() {
        let bad = Input { name: Some("bad.yaml".into()), bytes: b"a: [".to_vec(), lenient: false };
        let e = Topology::load(std::slice::from_ref(&bad), "default").unwrap_err().to_string();
        assert!(e.starts_with("bad.yaml: document 1"), "{e}");
        assert!(!e.contains('\n'));
        let lenient = Input { lenient: true, ..bad };
        assert!(Topology::load(&[lenient], "default").unwrap().workloads.is_empty());
    }

    #[test]
    fn routes_and_ingresses_name_their_services() {
        let input = r#"
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: r, namespace: ns}
spec: {to: {kind: Service, name: web}, port: {targetPort: http}, alternateBackends: [{kind: Other, name: x}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i, namespace: ns}
spec:
  defaultBackend: {service: {name: d, port: {number: 80}}}
  rules: [{host: a.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}]}}, {host: b.example}]
"#;
        let t = Topology::from_bytes(input.as_bytes(), "default").unwrap();
        assert_eq!(t.routes[0].backends, [("web".to_string(), Some(IntOrString::String("http".into())))]);
        assert_eq!(
            t.routes[1].backends,
            [
                ("d".to_string(), Some(IntOrString::Int(80))),
                ("web".to_string(), Some(IntOrString::String("http".into())))
            ]
        );
    }
}
