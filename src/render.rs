//! `netfence render`: the post-renderer. Manifests in, the same manifests plus network isolation
//! out. This is the one function the Helm post-renderer, the legacy kustomize exec plugin and the
//! Argo CD plugin all call; the KRM function calls the same transforms on a ResourceList.

use crate::config::namespace::DefaultNamespace;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::{Model, Needs};
use crate::stream::Stream;
use crate::transform;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

/// What a render needs besides the input.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Namespace of namespaced objects that do not set `metadata.namespace`.
    pub namespace: DefaultNamespace,
    /// The `networkPolicy` configuration.
    pub config: Config,
}

/// The outcome of a render, ready to be written.
#[derive(Debug)]
pub struct Rendered<'a> {
    /// The split input.
    pub stream: Stream<'a>,
    /// Changed documents by position in the stream.
    pub replaced: BTreeMap<usize, Value>,
    /// New documents, in output order.
    pub appended: Vec<Value>,
}

impl Rendered<'_> {
    /// Writes the output stream.
    pub fn write(&self, out: &mut impl Write) -> Result<()> {
        self.stream
            .write(&self.replaced, &self.appended, out)
            .map_err(|source| Error::Io { what: "writing the output".into(), source })
    }

    /// The output stream as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.stream.input.len() + 4096);
        // Writing to a Vec cannot fail.
        let _ = self.write(&mut out);
        out
    }
}

/// Applies every enabled transform to `input`. Nothing is written: on error the caller has
/// produced no output at all.
pub fn render<'a>(input: &'a [u8], options: &RenderOptions) -> Result<Rendered<'a>> {
    let stream = Stream::parse(input)?;
    if !options.config.enabled {
        return Ok(Rendered { stream, replaced: BTreeMap::new(), appended: Vec::new() });
    }
    let needs = Needs { workloads: options.config.needs_workloads() };
    let mut model = Model::build(&stream, &options.namespace.name, needs)?;
    // Parsed Lists are kept only to rewrite those holding a policy: free the others before the
    // transforms run (peak memory on List-heavy streams).
    let with_policy: BTreeSet<usize> = model.policies.iter().map(|p| model.objects[p.object].doc).collect();
    model.lists.retain(|doc, _| with_policy.contains(doc));
    let appended = transform::apply(&mut model, &options.config)?;
    let replaced = changed_documents(&mut model);
    tracing::info!(changed = replaced.len(), added = appended.len(), "render done");
    Ok(Rendered { stream, replaced, appended })
}

/// The new content of every document holding a changed policy (a List is rewritten whole).
/// The values are moved out of the model, which is not used afterwards (no copies at the peak).
fn changed_documents(model: &mut Model) -> BTreeMap<usize, Value> {
    let mut replaced = BTreeMap::new();
    let mut lists = Vec::new();
    for p in model.policies.iter_mut().filter(|p| p.changed) {
        let object = &model.objects[p.object];
        let value = std::mem::take(&mut p.value);
        match object.item {
            None => {
                replaced.insert(object.doc, value);
            }
            Some(i) => {
                if let Some(list) = model.lists.get_mut(&object.doc) {
                    list["items"][i] = value;
                    lists.push(object.doc);
                }
            }
        }
    }
    for doc in lists {
        if let Some(list) = model.lists.remove(&doc) {
            replaced.insert(doc, list);
        }
    }
    replaced
}
