//! The KRM function wire format (kustomize `transformers:`, kpt `fn eval` / `fn render`): a
//! `ResourceList` in, a `ResourceList` out, and its `results`. Like [`crate::stream`] for plain
//! streams, this is I/O only; the function itself is [`crate::run::function`], which runs the
//! same core as `render`.

pub mod raw;
pub mod resource_list;

pub use resource_list::{is_resource_list, KrmResult, ResourceList, Severity};
