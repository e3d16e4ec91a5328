//! What the analysis reasons about, read from one or more manifest streams with the same
//! [`Model`] the transforms use: namespaces with their labels, workloads named by their owner,
//! NetworkPolicies, and the Services, Routes and Ingresses that let an ingress controller in.

use super::admin::{self, AdminPolicy, Tier};
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
    /// Whether its pods use the node's network (analysed like other pods, as np-guard and NCA
    /// do; most network plugins cannot tell their traffic from the node's).
    pub host_network: bool,
    /// The first object that contributed it.
    pub origin: Origin,
    /// Pods of this owner whose labels differ from the first one's: (pod, its labels).
    pub other_labels: Vec<(Origin, Labels)>,
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

/// Something in the input the analysis cannot work with: a policy the API server would reject, a
/// name used twice, two AdminNetworkPolicies of the same priority. `check` reports them as
/// findings; the other analysis commands refuse the input with the first one.
#[derive(Debug, Clone)]
pub struct Problem {
    /// What it is about: `NetworkPolicy ns/name`, `AdminNetworkPolicy name`, …
    pub subject: String,
    /// Where.
    pub origin: Origin,
    /// The lint rule it belongs to.
    pub kind: ProblemKind,
    /// What is wrong, in one line.
    pub message: String,
}

/// The kinds of [`Problem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// An AdminNetworkPolicy or BaselineAdminNetworkPolicy the API server would reject.
    InvalidAdminPolicy,
    /// Two objects of one kind with the same name (in one namespace), or two
    /// AdminNetworkPolicies with the same priority.
    Conflict,
    /// A NetworkPolicy the API server would reject (`check` reports these as NF008/NF009).
    InvalidNetworkPolicy,
    /// Pods of one owner whose labels differ where a policy looks.
    OwnerLabels,
}

impl Problem {
    /// The problem as an input error, naming the file first as errors about files' content do.
    pub fn error(&self) -> Error {
        let message = format!("{}: {}", self.subject, self.message);
        match &self.origin.file {
            Some(f) => Error::Config { path: f.clone(), message: format!("{}: {message}", self.origin.doc) },
            None => Error::Input { doc: self.origin.doc.clone(), message },
        }
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
    /// Where it is (lint findings about it point there).
    pub origin: Origin,
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

pub use crate::stream::read::MAX_INPUT_BYTES;

impl Input {
    /// Reads the inputs named on the command line: files, directories (every `.yaml`, `.yml`
    /// and `.json` file below them, in path order; a directory reached twice, through a
    /// symbolic link, is read once) or `-` for stdin; no path means stdin.
    pub fn read_all(paths: &[PathBuf]) -> Result<Vec<Input>> {
        if paths.is_empty() {
            return Ok(vec![Input::stdin()?]);
        }
        let mut inputs = Vec::new();
        let mut visited = std::collections::HashSet::new();
        for path in paths {
            if path.as_os_str() == "-" {
                inputs.push(Input::stdin()?);
            } else if path.is_dir() {
                let mut files = Vec::new();
                walk(path, &mut files, &mut visited)?;
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
        let bytes = crate::stream::read::read_stdin()?;
        Ok(Input { name: None, bytes, lenient: false })
    }

    /// Reads one file.
    pub fn file(path: &Path) -> Result<Input> {
        let what = path.display().to_string();
        let bytes = crate::stream::read::read_file(path, &what)?;
        Ok(Input { name: Some(what), bytes, lenient: false })
    }

    /// The input with its bytes transformed (e.g. rendered first); errors about the content
    /// name the file.
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

/// Collects the manifest files below `dir`; `visited` holds the directories already read (by
/// their canonical path), so a symbolic link back up the tree ends the walk instead of looping.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, visited: &mut std::collections::HashSet<PathBuf>) -> Result<()> {
    let io = |source| Error::Io { what: format!("reading directory {}", dir.display()), source };
    let canonical = std::fs::canonicalize(dir).map_err(io)?;
    if !visited.insert(canonical) {
        tracing::warn!("{}: already read (a symbolic link to a directory read before); skipped", dir.display());
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            walk(&path, out, visited)?;
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
    /// AdminNetworkPolicies, by priority (the highest-precedence first).
    pub admin_policies: Vec<AdminPolicy>,
    /// The BaselineAdminNetworkPolicy, if any.
    pub baseline: Option<AdminPolicy>,
    /// What the analysis cannot work with (see [`Problem`]).
    pub problems: Vec<Problem>,
    /// Services.
    pub services: Vec<Service>,
    /// Routes and Ingresses.
    pub routes: Vec<IngressRoute>,
    /// The Services each workload's containers name (see [`crate::infer`]), for the lint.
    pub references: Vec<Reference>,
}

/// A workload naming a Service in its containers (env, args, command, the ConfigMaps and
/// Secrets they read): it needs to reach the Service's pods.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The workload, as [`Workload::id`] spells it.
    pub from: String,
    /// The Service's backing workloads, likewise.
    pub to: Vec<String>,
    /// Ports on the backing pods (target ports); empty: all.
    pub ports: Vec<k8s_openapi::api::networking::v1::NetworkPolicyPort>,
    /// Where the name is, e.g. `env DB_URL of deployment/api names service db:5432`.
    pub evidence: String,
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
        topology.finish();
        Ok(topology)
    }

    /// Sorts what was read and records the conflicts between inputs.
    fn finish(&mut self) {
        self.workloads.sort_by_cached_key(Workload::id);
        self.admin_policies.sort_by_key(|p| p.priority);
        for pair in self.admin_policies.windows(2) {
            if pair[0].priority == pair[1].priority {
                self.problems.push(Problem {
                    subject: pair[1].to_string(),
                    origin: pair[1].origin.clone(),
                    kind: ProblemKind::Conflict,
                    message: format!(
                        "priority {} is also the priority of AdminNetworkPolicy {}: two policies of the same \
                         priority conflict (which one wins is undefined)",
                        pair[1].priority, pair[0].name
                    ),
                });
            }
        }
        let mut seen: HashMap<(&str, &str), &Policy> = HashMap::new();
        for p in &self.policies {
            if let Some(first) = seen.insert((&p.namespace, &p.name), p) {
                self.problems.push(Problem {
                    subject: format!("NetworkPolicy {}", p.id()),
                    origin: p.origin.clone(),
                    kind: ProblemKind::Conflict,
                    message: format!(
                        "a NetworkPolicy of this name is already in namespace {} ({}); the cluster keeps only one",
                        p.namespace, first.origin
                    ),
                });
            }
        }
        let found = super::validate::problems(self);
        self.problems.extend(found);
    }

    /// The first problem as an error, for the commands that cannot analyse such input.
    pub fn analysable(&self) -> Result<()> {
        let Some(p) = self.problems.first() else { return Ok(()) };
        let more = self.problems.len() - 1;
        if more == 0 {
            return Err(p.error());
        }
        let also = format!(" (and {more} more: `netfence check` lists them)");
        Err(match p.error() {
            Error::Input { doc, message } => Error::Input { doc, message: message + &also },
            Error::Config { path, message } => Error::Config { path, message: message + &also },
            e => e,
        })
    }

    /// Reads one manifest stream (for tests and library use).
    pub fn from_bytes(bytes: &[u8], default_namespace: &str) -> Result<Topology> {
        Topology::load(&[Input { name: None, bytes: bytes.to_vec(), lenient: false }], default_namespace)
    }

    /// Reads the items of a KRM `ResourceList` (item `i` is "document" `i + 1` of the origins).
    pub fn from_items(items: &[Value], default_namespace: &str) -> Result<Topology> {
        let mut topology = Topology::default();
        let model = Model::from_items(items, default_namespace, Needs { workloads: true, manifests: true })?;
        let mut index = HashMap::new();
        topology.absorb(&model, None, &mut index, |i| Ok(model.value_in(items, i).cloned().unwrap_or_default()))?;
        topology.finish();
        Ok(topology)
    }

    /// The topology of an already built model, e.g. the output of a render (no writing and
    /// reading it again); `value_of(i)` is object `i`'s whole value (asked only for Services,
    /// Routes and Ingresses). Origins are the model's document references.
    pub fn from_model(model: &Model, value_of: impl Fn(usize) -> Result<Value>) -> Result<Topology> {
        let mut topology = Topology::default();
        topology.absorb(model, None, &mut HashMap::new(), value_of)?;
        // The same ordering and conflict checks as `load`: the admin tiers are evaluated in
        // priority order, and `render --check` must see what `check` sees.
        topology.finish();
        Ok(topology)
    }

    /// Records the Service references inference finds in `model` (default inference settings).
    fn add_references(&mut self, model: &Model) {
        // Inference names workloads `ns/Kind/name`; the analysis `ns/name[Kind]`.
        let id = |name: &str| match name.splitn(3, '/').collect::<Vec<_>>().as_slice() {
            [ns, kind, n] => Some(format!("{ns}/{n}[{kind}]")),
            _ => None,
        };
        let config = crate::config::Config::default();
        for c in crate::infer::infer(model, &config) {
            if c.rule != crate::infer::Rule::ServiceReference {
                continue;
            }
            let to: Vec<String> = c.to.names.iter().filter_map(|n| id(n)).collect();
            for from in c.from.names.iter().filter_map(|n| id(n)) {
                self.references.push(Reference {
                    from,
                    to: to.clone(),
                    ports: c.ports.clone(),
                    evidence: c.evidence.clone(),
                });
            }
        }
    }

    fn add(
        &mut self,
        input: &Input,
        default_namespace: &str,
        index: &mut HashMap<(String, String, String), usize>,
    ) -> Result<()> {
        let stream = Stream::parse_lenient(&input.bytes)?;
        let model = Model::build(&stream, default_namespace, Needs { workloads: true, manifests: true })?;
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
            if !self.declared_namespaces.insert(o.name.to_string()) {
                self.problems.push(Problem {
                    subject: format!("Namespace {}", o.name),
                    origin: origin(o),
                    kind: ProblemKind::Conflict,
                    message: "a Namespace of this name is already declared; namespace names are unique".into(),
                });
            }
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
                // Pods of one owner with other labels: fine unless a policy tells them apart
                // (checked once the policies are known, by `validate`).
                let first = &mut self.workloads[i];
                if first.labels != w.pod_labels && !first.other_labels.iter().any(|(_, l)| l == &w.pod_labels) {
                    first.other_labels.push((origin(&model.objects[w.object]), w.pod_labels.clone()));
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
                other_labels: Vec::new(),
            });
        }
        if !model.manifests.is_empty() {
            self.add_references(model);
        }
        // Other policy kinds (Cilium, Calico, multi-network ones) and the multi-network objects
        // that change who can reach whom: one warning per kind, not per object.
        let mut unanalysed: BTreeMap<&str, (usize, &Object)> = BTreeMap::new();
        for (i, o) in model.objects.iter().enumerate() {
            if let Some(tier) = admin::tier_of(&o.api_version, &o.kind) {
                self.add_admin_policy(tier, o, origin(o), value_of(i)?);
                continue;
            }
            let kubernetes_policy = o.kind == "NetworkPolicy" && o.api_version.starts_with("networking.k8s.io/");
            if (o.kind.ends_with("NetworkPolicy") && !kubernetes_policy)
                || is_multi_network_kind(&o.api_version, &o.kind)
            {
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
                    Ok(spec) => {
                        self.services.push(Service { namespace, name: o.name.to_string(), spec, origin: origin(o) })
                    }
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
                "{count} {kind} {objects} {are} not analysed (the analysis knows NetworkPolicies, \
                 AdminNetworkPolicies and the BaselineAdminNetworkPolicy of the pod network); the first: {}",
                origin(first)
            );
        }
        Ok(())
    }

    /// Reads an AdminNetworkPolicy or the BaselineAdminNetworkPolicy; what cannot be read is a
    /// [`Problem`].
    fn add_admin_policy(&mut self, tier: Tier, o: &Object, origin: Origin, value: Value) {
        let subject = format!("{} {}", tier.kind(), o.name);
        let problem = |kind, message| Problem { subject: subject.clone(), origin: origin.clone(), kind, message };
        let policy = match admin::parse(tier, &o.name, &value, origin.clone()) {
            Ok(p) => p,
            Err(message) => return self.problems.push(problem(ProblemKind::InvalidAdminPolicy, message)),
        };
        match tier {
            Tier::Admin => {
                if let Some(first) = self.admin_policies.iter().find(|p| p.name == policy.name) {
                    let message = format!("an AdminNetworkPolicy of this name is already defined ({})", first.origin);
                    return self.problems.push(problem(ProblemKind::Conflict, message));
                }
                self.admin_policies.push(policy);
            }
            Tier::Baseline => match &self.baseline {
                Some(first) => {
                    let message = format!(
                        "a BaselineAdminNetworkPolicy is already defined ({}); there is one per cluster",
                        first.origin
                    );
                    self.problems.push(problem(ProblemKind::Conflict, message));
                }
                None => self.baseline = Some(policy),
            },
        }
    }

    /// The labels of namespace `name` (the automatic name label when it is unknown).
    pub fn namespace_labels(&self, name: &str) -> Labels {
        self.namespaces
            .get(name)
            .cloned()
            .unwrap_or_else(|| Labels::from([(NAMESPACE_NAME_LABEL.to_string(), name.to_string())]))
    }
}

/// Kinds that put pods on other networks or restrict them there, which the analysis does not
/// model (np-guard analyses some of them; netfence says so instead of ignoring them silently).
fn is_multi_network_kind(api_version: &str, kind: &str) -> bool {
    let group = api_version.split('/').next().unwrap_or_default();
    matches!(
        (group, kind),
        ("k8s.ovn.org", "UserDefinedNetwork" | "ClusterUserDefinedNetwork")
            | ("k8s.cni.cncf.io", "NetworkAttachmentDefinition")
            | ("kubevirt.io", "VirtualMachine" | "VirtualMachineInstance")
    )
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
