//! The I/O shapes around the [`crate::core`]: each reads its input into a [`crate::model::Model`],
//! asks the core for the [`crate::core::Outcome`] and writes it back, and nothing more.
//!
//! - [`render`]: a plain manifest stream in and out (Helm 3/4 post-renderer, Argo CD plugin,
//!   legacy kustomize plugin, `netfence render`);
//! - [`function`]: a KRM `ResourceList` in and out (kustomize, kpt), with [`results`];
//! - [`check`]: `--check`, the lint of the output, shared by both;
//! - [`context`]: what both tell the core about their input (Helm 4's filename annotation);
//! - [`admissible`]: the input policies the API server would take, checked before the core runs.
//!
//! This layer sits above [`crate::analysis`] because `--check` lints the output.

pub mod check;
pub mod function;
pub mod render;
pub mod results;

pub use render::{render, RenderOptions, Rendered};

use crate::config::namespace::DefaultNamespace;
use crate::core::Context;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::stream::header::helm4_generated_annotation;
use std::collections::HashMap;

/// What the I/O shape tells the core: new objects get Helm 4's filename annotation when the
/// input carries it, no namespace where the input's objects had none and nothing named one,
/// and names per release: `release` (given explicitly, see [`crate::config::release::resolve`]),
/// else the one the input's labels name (the one place that decides all three).
pub fn context(model: &Model, namespace: &DefaultNamespace, release: Option<&str>) -> Result<Context> {
    let unplaced =
        (namespace.is_fallback() && model.default_namespace_is_implicit()).then(|| model.default_namespace.clone());
    if unplaced.is_some() {
        let count = model.objects.iter().filter(|o| o.defaulted).count();
        tracing::warn!(
            "{count} object(s) have no metadata.namespace and no namespace was given (-n, $HELM_NAMESPACE, \
             Argo CD, spec.namespace): the policies for them carry none either, so Helm or kubectl place them \
             in the release (current) namespace"
        );
    }
    let release = match release {
        Some(r) => Some(r.to_string()),
        None => model.release_from_labels()?,
    };
    Ok(Context {
        annotations: helm4_generated_annotation(model.helm4_chart.as_deref()).into_iter().collect(),
        unplaced_namespace: unplaced,
        release,
    })
}

/// Refuses input NetworkPolicies the cluster would not keep as written, before anything is
/// decided from them: one the API server rejects (a bad CIDR, port, port range, selector or
/// peer: the checks the analysis stops on, see
/// [`crate::analysis::engine::validate::network_policy`]), and a second policy with the name of
/// an earlier one in the same namespace (the cluster keeps one of them, depending on the order
/// of apply; the analysis refuses the same). Helm users would otherwise see the release fail at
/// install time, or not fail and run with other rules than the ones netfence reasoned about.
pub fn admissible(model: &Model) -> Result<()> {
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    for p in &model.policies {
        let object = &model.objects[p.object];
        if let Some(message) = crate::analysis::engine::validate::network_policy(&p.spec) {
            return Err(Error::Input {
                doc: object.doc_ref.clone(),
                message: format!("invalid NetworkPolicy (the API server rejects it): {message}"),
            });
        }
        if let Some(first) = seen.insert((p.namespace.as_str(), p.name.as_str()), p.object) {
            let first = &model.objects[first].doc_ref;
            return Err(Error::Input {
                doc: object.doc_ref.clone(),
                message: format!(
                    "a second NetworkPolicy {}/{} ({first} has the same name): the cluster keeps only one of them",
                    p.namespace, p.name
                ),
            });
        }
    }
    Ok(())
}
