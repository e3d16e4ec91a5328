//! The typed view of a render that transforms and analysis share: which objects exist, in which
//! namespaces, the workloads, and the NetworkPolicies (their JSON as read, a typed spec and a
//! parsed pod selector, indexed by namespace). Built once per run from a [`Stream`] or a
//! ResourceList's items, and never edited by the transforms.

pub mod operator;
pub mod ownership;
pub mod policy;
pub mod scope;
pub mod workload;

use crate::error::{DocRef, Error, Result};
use crate::k8s::selector::{self, Labels, Selector};
use crate::stream::header::{Header, HELM4_FILENAME, HELM_HOOK};
use crate::stream::Stream;
use compact_str::CompactString;
use k8s_openapi::api::networking::v1::NetworkPolicySpec;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
pub use workload::Workload;

/// One Kubernetes object of the input: a top-level document or an item of a `kind: List`.
#[derive(Debug, Clone)]
pub struct Object {
    /// Position of its document in [`Stream::docs`].
    pub doc: usize,
    /// Index in the `items` of a List document, `None` for a top-level document.
    pub item: Option<usize>,
    /// `apiVersion`.
    pub api_version: CompactString,
    /// `kind`.
    pub kind: CompactString,
    /// `metadata.name`.
    pub name: CompactString,
    /// The namespace it lives in after defaulting; `None` for cluster-scoped kinds.
    pub namespace: Option<CompactString>,
    /// Where it is, for messages.
    pub doc_ref: DocRef,
    /// A Helm hook (annotation `helm.sh/hook`): Helm 4 hands hooks to post-renderers, Helm 3
    /// does not, so hooks never decide or receive a namespace's baseline.
    pub hook: bool,
    /// It is namespaced and did not set `metadata.namespace`: [`Object::namespace`] is the
    /// default namespace.
    pub defaulted: bool,
    /// A policy netfence generated in an earlier run (see [`Policy::managed`]): it does not make
    /// its namespace one of the release's, so a second run sees the namespaces the first saw.
    pub generated: bool,
    /// Its `app.kubernetes.io/instance` and `release` labels (see [`Model::release_from_labels`]).
    pub release_labels: [Option<CompactString>; 2],
}

/// A NetworkPolicy of the input, read once. Nothing here is edited: transforms describe their
/// edits, and the output is the input plus those edits (see [`crate::core`]).
#[derive(Debug, Clone)]
pub struct Policy {
    /// Index into [`Model::objects`].
    pub object: usize,
    /// Namespace after defaulting.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// The whole object as read (key order and unknown fields kept).
    pub value: Value,
    /// Typed view of `spec` (read strictly when the model is built: an unreadable spec is an
    /// input error, never an empty spec).
    pub spec: NetworkPolicySpec,
    /// `spec.podSelector`, parsed once (absent: every pod of the namespace).
    pub pod_selector: Selector,
    /// Whether netfence generated it (label `app.kubernetes.io/managed-by: netfence`), in an
    /// earlier run: such policies are regenerated, not edited.
    pub managed: bool,
    /// A Helm hook ([`Object::hook`]): it gets DNS and extra egress rules like any policy, but
    /// never counts as a namespace's baseline (it exists only while the hook runs, and only
    /// Helm 4 shows it to netfence).
    pub hook: bool,
    /// The policy before netfence's additions of an earlier run (see [`ownership`]), set by
    /// [`Model::disown_additions`] when the policy records some; [`Policy::spec`] is then its
    /// spec, while [`Policy::value`] stays the document as read (what edits apply to).
    pub original: Option<Value>,
}

impl Policy {
    /// The policy as the transforms see it: without netfence's additions of an earlier run.
    pub fn original_value(&self) -> &Value {
        self.original.as_ref().unwrap_or(&self.value)
    }
}

/// What to parse beyond what every render needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    /// Parse workloads (pod-template labels, container ports).
    pub workloads: bool,
    /// Keep the objects inference reads ([`MANIFEST_KINDS`], workloads included) as parsed.
    pub manifests: bool,
}

/// Kinds whose objects inference reads besides workloads: Services and what names them or
/// points at them.
pub const MANIFEST_KINDS: &[&str] = &[
    "Service",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "RoleBinding",
    "ClusterRoleBinding",
    "Ingress",
    "HTTPRoute",
    "GRPCRoute",
    "TLSRoute",
    "Route",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "CustomResourceDefinition",
    "ServiceMonitor",
    "PodMonitor",
    "Prometheus",
    "Alertmanager",
    "ThanosRuler",
];

/// An object inference reads, as parsed.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Index into [`Model::objects`].
    pub object: usize,
    /// The whole object.
    pub value: Value,
}

impl Needs {
    /// Whether objects of `kind` are parsed in full (the others are known by their header).
    fn wants(self, kind: &str) -> bool {
        is_policy_kind(kind)
            || kind == "Namespace"
            || kind == crate::transform::baseline_admin::KIND
            || ((self.workloads || self.manifests)
                && (workload::is_workload_kind(kind) || operator::KINDS.contains(&kind)))
            || (self.manifests && MANIFEST_KINDS.contains(&kind))
    }
}

/// Everything the transforms and analysis know about a render.
#[derive(Debug, Default)]
pub struct Model {
    /// The namespace of namespaced objects that do not set one.
    pub default_namespace: String,
    /// Every object, in stream order (List items in place of their List).
    pub objects: Vec<Object>,
    /// Every NetworkPolicy (`networking.k8s.io/v1`).
    pub policies: Vec<Policy>,
    /// Indices into [`Model::policies`] by namespace (transforms look policies up per
    /// namespace; scanning all of them per namespace would be quadratic).
    pub policies_by_namespace: HashMap<String, Vec<usize>>,
    /// Workloads (filled only when [`Needs::workloads`] was asked for), the pods the
    /// prometheus-operator creates for resources of the render included ([`operator`]).
    pub workloads: Vec<Workload>,
    /// Objects inference reads, in stream order (filled only when [`Needs::manifests`] was
    /// asked for): workloads and [`MANIFEST_KINDS`].
    pub manifests: Vec<Manifest>,
    /// Every namespace the render places objects in or declares, with its labels.
    pub namespaces: BTreeMap<String, Labels>,
    /// Parsed `kind: List` documents by document position (their items may be edited).
    pub lists: BTreeMap<usize, Value>,
    /// `BaselineAdminNetworkPolicy` objects of the input (index into [`Model::objects`], value
    /// as read): the baseline netfence writes with `defaultDeny.as: baselineAdminNetworkPolicy`
    /// is a singleton, so an earlier run's is updated and a foreign one refused.
    pub admin_baselines: Vec<(usize, Value)>,
    /// The chart name from Helm 4's filename annotation, when the input carries it.
    pub helm4_chart: Option<String>,
    /// Namespaces the render places only Helm hooks in (and does not declare): they get no
    /// baseline, as under Helm 3, which does not show hooks to a post-renderer.
    pub hook_only_namespaces: BTreeSet<String>,
    /// Namespaces that hold nothing but netfence's generated policies of an earlier run (and are
    /// not declared): no namespace of the release, so transforms leave them out
    /// ([`Model::namespace_names`]); analysis still sees them.
    pub generated_only_namespaces: BTreeSet<String>,
    /// Policies whose record of netfence's additions no longer matches them, one line each
    /// (set by [`Model::disown_additions`]).
    pub ownership_warnings: Vec<String>,
}

impl Model {
    /// Builds the model of `stream`, placing objects without a namespace in `default_namespace`.
    pub fn build(stream: &Stream, default_namespace: &str, needs: Needs) -> Result<Model> {
        let mut model = Model { default_namespace: default_namespace.to_string(), ..Default::default() };
        let crd_scopes = scope::crd_scopes(stream.docs.iter().filter_map(|d| d.header.as_ref()));
        let mut declared_ns: BTreeMap<String, Labels> = BTreeMap::new();
        // One object per document in the common case: size the list once (it is the largest
        // structure besides the input on big streams).
        model.objects.reserve_exact(stream.docs.len());
        // Inference reads a ConfigMap or Secret only when a workload names it, and a CRD only
        // for its conversion webhook: parsing the others in full (dashboards, CRD schemas) would
        // dominate the run.
        let (referenced, mut parsed) =
            if needs.manifests { referenced_data(stream, default_namespace) } else { Default::default() };
        for (pos, doc) in stream.docs.iter().enumerate() {
            let Some(header) = &doc.header else { continue };
            let is_list = is_list(header, needs);
            let skip_manifest = needs.manifests
                && !header.needs_full_parse
                && match header.kind.as_str() {
                    "ConfigMap" | "Secret" => {
                        let ns = header.namespace.as_deref().filter(|n| !n.is_empty()).unwrap_or(default_namespace);
                        !referenced.contains(&(ns.to_string(), header.name.to_string()))
                    }
                    "CustomResourceDefinition" => memchr::memmem::find(doc.bytes, b"clientConfig").is_none(),
                    _ => false,
                };
            if skip_manifest || !(header.needs_full_parse || is_list || needs.wants(&header.kind)) {
                model.push_object(pos, None, header, doc.doc_ref(), &crd_scopes);
                continue;
            }
            let value = match parsed.remove(&pos) {
                Some(value) => value,
                None => doc.value(stream.format)?,
            };
            match value.get("items").and_then(Value::as_array).filter(|_| is_list) {
                Some(items) => {
                    // Room for the items and the documents still to come, exactly: letting
                    // `push` double the list here would be the largest allocation of the run.
                    let needed = model.objects.len() + items.len() + (stream.docs.len() - pos - 1);
                    model.objects.reserve_exact(needed.saturating_sub(model.objects.len()));
                    let list = ListDoc { pos, header, doc_ref: doc.doc_ref(), items };
                    model.push_list_items(list, needs, &crd_scopes, &mut declared_ns)?;
                    model.lists.insert(pos, value);
                }
                None => {
                    let h = if header.needs_full_parse { header_of(&value) } else { header.clone() };
                    let obj = model.push_object(pos, None, &h, doc.doc_ref(), &crd_scopes);
                    model.add_details(obj, &value, needs, &mut declared_ns)?;
                }
            }
        }
        model.finish(&declared_ns, stream.docs.iter().filter_map(|d| d.header.as_ref()?.helm4_filename.as_deref()));
        Ok(model)
    }

    /// Builds the model of already parsed objects (a KRM `ResourceList`'s `items`): item `i` is
    /// "document" `i` (see [`Object::doc`]). Same defaulting and details as [`Model::build`].
    pub fn from_items(items: &[Value], default_namespace: &str, needs: Needs) -> Result<Model> {
        let mut model = Model { default_namespace: default_namespace.to_string(), ..Default::default() };
        let headers: Vec<Header> = items.iter().map(header_with_crd).collect();
        let crd_scopes = scope::crd_scopes(headers.iter());
        let mut declared_ns: BTreeMap<String, Labels> = BTreeMap::new();
        for (pos, (item, header)) in items.iter().zip(&headers).enumerate() {
            let id = (!header.kind.is_empty()).then(|| format!("{}/{}", header.kind, header.name));
            let doc_ref = DocRef { index: pos + 1, line: 1, id };
            if !item.is_object() {
                return Err(Error::Input { doc: doc_ref, message: "not a Kubernetes object (not a mapping)".into() });
            }
            // A List item holds objects, as a List document of a stream does.
            match item.get("items").and_then(Value::as_array).filter(|_| is_list(header, needs)) {
                Some(list_items) => {
                    let list = ListDoc { pos, header, doc_ref, items: list_items };
                    model.push_list_items(list, needs, &crd_scopes, &mut declared_ns)?;
                    // Kept like a stream's List documents: a policy item is edited inside it.
                    model.lists.insert(pos, item.clone());
                }
                None => {
                    let obj = model.push_object(pos, None, header, doc_ref, &crd_scopes);
                    model.add_details(obj, item, needs, &mut declared_ns)?;
                }
            }
        }
        model.finish(&declared_ns, headers.iter().filter_map(|h| h.helm4_filename.as_deref()));
        Ok(model)
    }

    /// Adds the items of a List (document or ResourceList item) as objects of their own.
    fn push_list_items(
        &mut self,
        list: ListDoc,
        needs: Needs,
        crd_scopes: &scope::CrdScopes,
        declared_ns: &mut BTreeMap<String, Labels>,
    ) -> Result<()> {
        for (i, item) in list.items.iter().enumerate() {
            let h = list_item_header(list.header, item);
            let item_ref = DocRef { id: Some(format!("{}/{} in items[{i}]", h.kind, h.name)), ..list.doc_ref.clone() };
            if !item.is_object() {
                return Err(Error::Input { doc: item_ref, message: format!("items[{i}] is not an object") });
            }
            let obj = self.push_object(list.pos, Some(i), &h, item_ref, crd_scopes);
            self.add_details(obj, item, needs, declared_ns)?;
        }
        Ok(())
    }

    /// The value of object `i` among `docs`, the parsed documents (or ResourceList items) the
    /// model was built from: a List's item is looked up inside its List.
    pub fn value_in<'a>(&self, docs: &'a [Value], i: usize) -> Option<&'a Value> {
        let o = &self.objects[i];
        let doc = docs.get(o.doc)?;
        match o.item {
            Some(item) => doc.get("items")?.get(item),
            None => Some(doc),
        }
    }

    /// Records the namespaces (those objects are placed in, and declared ones) and the Helm 4 chart.
    fn finish<'a>(&mut self, declared_ns: &BTreeMap<String, Labels>, helm4_files: impl Iterator<Item = &'a str>) {
        // A namespace is known from the objects placed in it and from Namespace objects.
        // netfence's generated policies of an earlier run do not count (a re-render must see the
        // namespaces the first render saw), except for analysis, which sees every namespace.
        let used: BTreeSet<String> =
            self.objects.iter().filter_map(|o| o.namespace.as_deref().map(str::to_string)).collect();
        let theirs: BTreeSet<&str> =
            self.objects.iter().filter(|o| !o.generated).filter_map(|o| o.namespace.as_deref()).collect();
        let not_hooks: BTreeSet<&str> =
            self.objects.iter().filter(|o| !o.hook && !o.generated).filter_map(|o| o.namespace.as_deref()).collect();
        let undeclared = |ns: &&String| !declared_ns.contains_key(*ns);
        self.generated_only_namespaces =
            used.iter().filter(undeclared).filter(|ns| !theirs.contains(ns.as_str())).cloned().collect();
        self.hook_only_namespaces = used
            .iter()
            .filter(undeclared)
            .filter(|ns| theirs.contains(ns.as_str()) && !not_hooks.contains(ns.as_str()))
            .cloned()
            .collect();
        for ns in used.into_iter().chain(declared_ns.keys().cloned()) {
            let labels = selector::namespace_labels(&ns, declared_ns.get(&ns));
            self.namespaces.insert(ns, labels);
        }
        self.helm4_chart =
            helm4_files.into_iter().find_map(|f| f.split('/').next().filter(|c| !c.is_empty()).map(str::to_string));
    }

    fn push_object(
        &mut self,
        doc: usize,
        item: Option<usize>,
        h: &Header,
        doc_ref: DocRef,
        crd_scopes: &scope::CrdScopes,
    ) -> usize {
        let set = h.namespace.clone().filter(|n| !n.is_empty());
        let cluster_scoped = scope::is_cluster_scoped(&h.api_version, &h.kind, crd_scopes);
        let defaulted = !cluster_scoped && set.is_none();
        let namespace =
            if cluster_scoped { None } else { Some(set.unwrap_or_else(|| self.default_namespace.as_str().into())) };
        self.objects.push(Object {
            doc,
            item,
            api_version: h.api_version.clone(),
            kind: h.kind.clone(),
            name: h.name.clone(),
            namespace,
            doc_ref,
            hook: h.helm_hook,
            defaulted,
            generated: false,
            release_labels: h.release_labels.clone(),
        });
        self.objects.len() - 1
    }

    /// Records what a fully parsed object contributes: a policy, a namespace's labels, a workload.
    fn add_details(
        &mut self,
        obj: usize,
        value: &Value,
        needs: Needs,
        declared_ns: &mut BTreeMap<String, Labels>,
    ) -> Result<()> {
        let o = &self.objects[obj];
        if is_policy_kind(&o.kind) && o.api_version.starts_with("networking.k8s.io/") {
            // The API server refuses a policy without a name, and netfence could not record
            // what it appends to one (its ownership annotation lives in `metadata`): a re-render
            // would take the additions for the chart's.
            if value.pointer("/metadata/name").and_then(Value::as_str).is_none_or(str::is_empty) {
                return Err(Error::Input {
                    doc: o.doc_ref.clone(),
                    message: "a NetworkPolicy needs a metadata.name (the API server refuses one without)".into(),
                });
            }
            let spec = read_spec(value, &o.doc_ref)?;
            let managed = value
                .pointer("/metadata/labels")
                .and_then(|l| l.get(crate::k8s::MANAGED_BY_LABEL))
                .and_then(Value::as_str)
                == Some(crate::k8s::MANAGED_BY_NETFENCE);
            let namespace = o.namespace.as_deref().unwrap_or_default().to_string();
            self.policies_by_namespace.entry(namespace.clone()).or_default().push(self.policies.len());
            self.policies.push(Policy {
                object: obj,
                namespace,
                name: o.name.to_string(),
                value: value.clone(),
                pod_selector: spec.pod_selector.as_ref().map(Selector::parse).unwrap_or_default(),
                spec,
                hook: o.hook,
                original: None,
                managed,
            });
            self.objects[obj].generated = managed;
        } else if o.kind == crate::transform::baseline_admin::KIND
            && o.api_version.starts_with("policy.networking.k8s.io/")
        {
            self.admin_baselines.push((obj, value.clone()));
        } else if o.kind == "Namespace" && o.api_version == "v1" && !o.name.is_empty() {
            // (A Namespace without a name, or with `name: no`, declares nothing.)
            let labels = labels_at(value, &["metadata", "labels"]);
            declared_ns.insert(o.name.to_string(), labels);
        } else if (needs.workloads || needs.manifests) && workload::is_workload_kind(&o.kind) {
            if let Some(w) = workload::from_object(obj, o, value) {
                self.workloads.push(w);
            }
        } else if (needs.workloads || needs.manifests) && operator::is_operator_kind(&o.api_version, &o.kind) {
            // Pods the prometheus-operator creates for it at runtime (see `operator`).
            if let Some(w) = operator::workload(obj, o, value) {
                self.workloads.push(w);
            }
        }
        let o = &self.objects[obj];
        if needs.manifests && (workload::is_workload_kind(&o.kind) || MANIFEST_KINDS.contains(&o.kind.as_str())) {
            self.manifests.push(Manifest { object: obj, value: value.clone() });
        }
        Ok(())
    }

    /// Takes netfence's own additions of an earlier run out of the input policies (see
    /// [`ownership`]), so that the transforms see, and a re-render edits, the policies as the
    /// chart wrote them. Only rendering does this: analysis reads the policies as they are.
    pub fn disown_additions(&mut self) -> Result<()> {
        for p in self.policies.iter_mut().filter(|p| !p.managed) {
            let original = match ownership::original(&p.value) {
                ownership::Original::Untouched => continue,
                ownership::Original::Restored(v) => v,
                ownership::Original::Mismatch(v, why) => {
                    self.ownership_warnings.push(format!("NetworkPolicy {}/{}: {why}", p.namespace, p.name));
                    v
                }
            };
            p.spec = read_spec(&original, &self.objects[p.object].doc_ref)?;
            p.original = Some(original);
        }
        Ok(())
    }

    /// The release's namespaces: those that hold objects (other than netfence's generated
    /// policies) or are declared, in name order.
    pub fn namespace_names(&self) -> impl Iterator<Item = &str> {
        self.namespaces.keys().map(String::as_str).filter(|ns| !self.generated_only_namespaces.contains(*ns))
    }

    /// The release the input's labels name (see [`crate::config::release`]): the one
    /// `app.kubernetes.io/instance` value its objects share, else the one `release` value; `None`
    /// when no object carries either, or when they name several releases (with a warning).
    pub fn release_from_labels(&self) -> Result<Option<String>> {
        for (i, label) in crate::config::release::LABELS.iter().enumerate() {
            // Distinct values in order of appearance (a set keeps this linear in the input).
            let (mut seen, mut values) = (HashSet::new(), Vec::new());
            for o in &self.objects {
                let Some(v) = o.release_labels[i].as_deref() else { continue };
                if seen.insert(v) {
                    values.push((v.to_string(), o.doc_ref.to_string()));
                }
            }
            if !values.is_empty() {
                return crate::config::release::from_labels(label, &values);
            }
        }
        Ok(None)
    }

    /// Whether the default namespace holds only objects that did not name it (so it stands for
    /// "wherever Helm or kubectl will put them", not for a namespace the input named).
    pub fn default_namespace_is_implicit(&self) -> bool {
        let mut any = false;
        let placed_here = |o: &&Object| o.namespace.as_deref() == Some(self.default_namespace.as_str());
        for o in self.objects.iter().filter(|o| !o.generated).filter(placed_here) {
            if !o.defaulted {
                return false;
            }
            any = true;
        }
        any
    }

    /// The policy that is document `doc` itself (not a List item), if any.
    pub fn policy_of_document(&self, doc: usize) -> Option<usize> {
        // Objects are in document order: find the document's first object, then its policy.
        let first = self.objects.partition_point(|o| o.doc < doc);
        self.objects.get(first).filter(|o| o.doc == doc && o.item.is_none())?;
        self.policies.binary_search_by_key(&first, |p| p.object).ok()
    }

    /// Replaces the value of policy `index` (the output of a change), reading its spec again.
    pub fn replace_policy(&mut self, index: usize, value: Value) -> Result<()> {
        let object = self.policies[index].object;
        let spec = read_spec(&value, &self.objects[object].doc_ref)?;
        let p = &mut self.policies[index];
        p.pod_selector = spec.pod_selector.as_ref().map(Selector::parse).unwrap_or_default();
        p.spec = spec;
        p.value = value;
        p.original = None;
        Ok(())
    }

    /// Adds a new object (an output object netfence generated) as document `doc`, referred to as
    /// `doc_ref` in messages.
    pub fn add_object(&mut self, doc: usize, doc_ref: DocRef, value: &Value) -> Result<()> {
        let crd_scopes = scope::CrdScopes::new();
        let obj = self.push_object(doc, None, &header_of(value), doc_ref, &crd_scopes);
        let mut declared = BTreeMap::new();
        self.add_details(obj, value, Needs { workloads: true, manifests: false }, &mut declared)
    }

    /// The 1-based index of document `doc` in the input (as error messages give it).
    pub fn document_index(&self, doc: usize) -> Option<usize> {
        let first = self.objects.partition_point(|o| o.doc < doc);
        self.objects.get(first).filter(|o| o.doc == doc).map(|o| o.doc_ref.index)
    }

    /// The policies of `namespace`, in input order.
    pub fn policies_in<'a>(&'a self, namespace: &str) -> impl Iterator<Item = &'a Policy> + 'a {
        self.policies_by_namespace.get(namespace).into_iter().flatten().map(|&i| &self.policies[i])
    }
}

/// The typed `spec` of a NetworkPolicy object; an unreadable one is an input error naming the
/// field (an absent or `null` spec is the empty spec, as the API server reads it).
fn read_spec(value: &Value, doc: &DocRef) -> Result<NetworkPolicySpec> {
    match value.get("spec") {
        None | Some(Value::Null) => Ok(NetworkPolicySpec::default()),
        Some(spec) => serde_path_to_error::deserialize(spec).map_err(|e| Error::Input {
            doc: doc.clone(),
            message: format!("invalid NetworkPolicy: spec.{}: {}", e.path(), e.inner()),
        }),
    }
}

/// Whether `kind` is a NetworkPolicy (any API group; callers check the group).
fn is_policy_kind(kind: &str) -> bool {
    kind == "NetworkPolicy"
}

/// The identity fields of a parsed object.
pub fn header_of(value: &Value) -> Header {
    let s = |v: Option<&Value>| CompactString::from(v.and_then(Value::as_str).unwrap_or_default());
    let meta = value.get("metadata");
    Header {
        api_version: s(value.get("apiVersion")),
        kind: s(value.get("kind")),
        name: s(meta.and_then(|m| m.get("name"))),
        namespace: meta.and_then(|m| m.get("namespace")).and_then(Value::as_str).map(CompactString::from),
        helm4_filename: meta
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(HELM4_FILENAME))
            .and_then(Value::as_str)
            .map(str::to_string),
        helm_hook: meta
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(HELM_HOOK))
            .and_then(Value::as_str)
            .is_some_and(|h| !h.is_empty()),
        release_labels: crate::config::release::LABELS.map(|key| {
            meta.and_then(|m| m.get("labels")).and_then(|l| l.get(key)).and_then(Value::as_str).map(CompactString::from)
        }),
        crd: None,
        line: 1,
        needs_full_parse: false,
        not_a_string: None,
    }
}

/// [`header_of`] plus, for a CustomResourceDefinition, its kind and scope (as the probe reads them).
fn header_with_crd(value: &Value) -> Header {
    let mut h = header_of(value);
    if h.kind == "CustomResourceDefinition" {
        let spec = value.get("spec");
        let kind = spec.and_then(|s| s.get("names")).and_then(|n| n.get("kind")).and_then(Value::as_str);
        let cluster = spec.and_then(|s| s.get("scope")).and_then(Value::as_str) == Some("Cluster");
        h.crd = kind.map(|k| (k.to_string(), cluster));
    }
    h
}

/// A List whose items become objects: its position, header, place and items.
struct ListDoc<'a> {
    pos: usize,
    header: &'a Header,
    doc_ref: DocRef,
    items: &'a [Value],
}

/// Whether a document is a List whose items netfence reads: `v1` `List`, or a typed list
/// (`NetworkPolicyList`, `PodList`) of a kind it [`Needs::wants`].
fn is_list(header: &Header, needs: Needs) -> bool {
    header.kind.ends_with("List") && (header.api_version == "v1" || needs.wants(header.kind.trim_end_matches("List")))
}

/// The identity of an item of a List. Items of a typed list (`PodList`, `NetworkPolicyList`, as
/// the API server returns them) may omit `kind` and `apiVersion`: they are the list's.
fn list_item_header(list: &Header, item: &Value) -> Header {
    let mut h = header_of(item);
    let typed = list.kind.strip_suffix("List").filter(|k| !k.is_empty());
    if let (true, Some(kind)) = (h.kind.is_empty(), typed) {
        h.kind = kind.into();
        if h.api_version.is_empty() {
            h.api_version.clone_from(&list.api_version);
        }
    }
    h
}

/// `(namespace, name)` of every ConfigMap and Secret a workload of `stream` (an operator's
/// resource included) names (env `valueFrom`, `envFrom`, volumes), read from the workload
/// documents alone; and those documents,
/// parsed, by position (the model reads them next).
fn referenced_data(stream: &Stream, default_namespace: &str) -> (HashSet<(String, String)>, HashMap<usize, Value>) {
    let mut out = HashSet::new();
    let mut parsed = HashMap::new();
    for (pos, doc) in stream.docs.iter().enumerate() {
        let Some(header) = &doc.header else { continue };
        let operator = operator::is_operator_kind(&header.api_version, &header.kind);
        if !workload::is_workload_kind(&header.kind) && !operator {
            continue;
        }
        // Only names matter here: a document the model cannot read fails later, with its error.
        let Ok(value) = doc.value(stream.format) else { continue };
        let ns = header.namespace.as_deref().filter(|n| !n.is_empty()).unwrap_or(default_namespace);
        let spec = match operator {
            true => operator::pod_spec(&value),
            false => workload::pod_template(&header.kind, &value).and_then(|t| t.get("spec")),
        };
        let Some(spec) = spec else { continue };
        for list in ["containers", "initContainers"] {
            for c in spec.get(list).and_then(Value::as_array).into_iter().flatten() {
                let env = c.get("env").and_then(Value::as_array).into_iter().flatten();
                let refs = env
                    .filter_map(|e| e.get("valueFrom"))
                    .flat_map(|v| [v.get("configMapKeyRef"), v.get("secretKeyRef")]);
                let from = c.get("envFrom").and_then(Value::as_array).into_iter().flatten();
                let refs = refs.chain(from.flat_map(|e| [e.get("configMapRef"), e.get("secretRef")]));
                for r in refs.flatten() {
                    if let Some(name) = r.get("name").and_then(Value::as_str) {
                        out.insert((ns.to_string(), name.to_string()));
                    }
                }
            }
        }
        // Volumes (read by inference's mounted files): `configMap.name`, `secret.secretName`,
        // and the sources of `projected` volumes.
        for v in spec.get("volumes").and_then(Value::as_array).into_iter().flatten() {
            let projected = v.get("projected").and_then(|p| p.get("sources")).and_then(Value::as_array);
            let names =
                [v.get("configMap").and_then(|c| c.get("name")), v.get("secret").and_then(|s| s.get("secretName"))]
                    .into_iter()
                    .chain(projected.into_iter().flatten().flat_map(|s| {
                        [s.get("configMap").and_then(|c| c.get("name")), s.get("secret").and_then(|c| c.get("name"))]
                    }));
            for name in names.flatten().filter_map(Value::as_str) {
                out.insert((ns.to_string(), name.to_string()));
            }
        }
        parsed.insert(pos, value);
    }
    (out, parsed)
}

/// A string map at `path` (labels, annotations), ignoring non-string values.
pub fn labels_at(value: &Value, path: &[&str]) -> Labels {
    let mut v = value;
    for key in path {
        match v.get(key) {
            Some(next) => v = next,
            None => return Labels::new(),
        }
    }
    v.as_object()
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}
