//! The I/O shapes around the [`crate::core`]: each reads its input into a [`crate::model::Model`],
//! asks the core for the [`crate::core::Outcome`] and writes it back, and nothing more.
//!
//! - [`render`]: a plain manifest stream in and out (Helm 3/4 post-renderer, Argo CD plugin,
//!   legacy kustomize plugin, `netfence render`);
//! - [`function`]: a KRM `ResourceList` in and out (kustomize, kpt), with [`results`];
//! - [`check`]: `--check`, the lint of the output, shared by both;
//! - [`context`]: what both tell the core about their input (Helm 4's filename annotation).
//!
//! This layer sits above [`crate::analysis`] because `--check` lints the output.

pub mod check;
pub mod function;
pub mod render;
pub mod results;

pub use render::{render, RenderOptions, Rendered};

use crate::config::namespace::DefaultNamespace;
use crate::core::Context;
use crate::model::Model;
use crate::stream::header::helm4_generated_annotation;

/// What the I/O shape tells the core: new objects get Helm 4's filename annotation when the
/// input carries it, and no namespace where the input's objects had none and nothing named one
/// (the one place that decides both).
pub fn context(model: &Model, namespace: &DefaultNamespace) -> Context {
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
    Context {
        annotations: helm4_generated_annotation(model.helm4_chart.as_deref()).into_iter().collect(),
        unplaced_namespace: unplaced,
    }
}
