//! The transformation of a ResourceList: the same model and transforms as `render`, applied to
//! `items` instead of a manifest stream (kyaml's `ResourceListProcessor`).
//!
//! Items marked `config.kubernetes.io/local-config` (the function config file kpt lists among
//! the items, the Kptfile) are not resources: they are not modelled or transformed, and are
//! handed back unchanged, because kpt deletes the file of every item a function does not return.
//! The `functionConfig` is never added to the items.

use super::resource_list::{self, KrmResult, ResourceList, Severity};
use super::results;
use crate::config::Config;
use crate::config::{function_config, namespace};
use crate::error::{Error, Result};
use crate::model::{Model, Needs};
use crate::transform;
use serde_json::Value;

/// What the processor needs besides the ResourceList.
#[derive(Debug, Default)]
pub struct Processor {
    /// Namespace of items without one, before the function config's `spec.namespace` (`-n`);
    /// see [`namespace::resolve`].
    pub namespace: Option<String>,
    /// Lint the output (`--check`) even when the function config does not ask for it.
    pub check: bool,
}

/// Where a new item's file goes under kpt: `netfence/<namespace>/<name>.yaml`.
pub fn new_item_path(namespace: &str, name: &str) -> String {
    format!("netfence/{namespace}/{name}.yaml")
}

impl Processor {
    /// Transforms `list` in place and fills its `results`. On error the items are left as they
    /// were, an `error` result describes the problem, and the error is returned.
    pub fn process(&self, list: &mut ResourceList) -> Result<()> {
        let fc = match function_config::parse(list.function_config.as_ref()) {
            Ok(fc) => fc,
            Err(e) => return Err(fail(list, config_failure(list.function_config.as_ref(), e))),
        };
        let resolved = namespace::resolve(self.namespace.as_deref(), fc.namespace.as_deref());
        let (configured, namespace) = (resolved.is_configured(), resolved.name);
        // Resources move out of the list and come back, changed or not, in their places.
        let mut slots: Vec<Option<Value>> = std::mem::take(&mut list.items).into_iter().map(Some).collect();
        let positions: Vec<usize> = (0..slots.len())
            .filter(|&i| slots[i].as_ref().is_some_and(|item| !resource_list::is_local_config(item)))
            .collect();
        let mut resources: Vec<Value> = positions.iter().filter_map(|&i| slots[i].take()).collect();
        let mut found = Vec::new();
        let outcome = transform_items(&mut resources, &positions, &fc.config, &namespace, configured, &mut found);
        for (pos, item) in positions.into_iter().zip(resources) {
            slots[pos] = Some(item);
        }
        list.items = slots.into_iter().flatten().collect();
        let added = outcome.map_err(|mut failure| {
            // A configuration error found by a transform is about the function config object.
            if let (Some(_), None, Some(fc)) =
                (&failure.result.field, &failure.result.resource_ref, &list.function_config)
            {
                failure.result = failure.result.clone().about(fc);
            }
            fail(list, failure)
        })?;
        list.results.extend(found);
        // Under kpt (items carry their file), new items get a file of their own.
        let kpt_paths = list.items.iter().any(|i| resource_list::FileRef::of(i).is_some());
        for mut item in added {
            if kpt_paths {
                let path = new_item_path(
                    item["metadata"]["namespace"].as_str().unwrap_or_default(),
                    item["metadata"]["name"].as_str().unwrap_or_default(),
                );
                item["metadata"]["annotations"][resource_list::PATH] = Value::String(path);
            }
            list.items.push(item);
        }
        if self.check || fc.check {
            // Lint findings are about the output, the resources as the function hands them on.
            let resources: Vec<Value> =
                list.items.iter().filter(|i| !resource_list::is_local_config(i)).cloned().collect();
            let findings = results::lint(&resources, &namespace).map_err(|e| {
                let failure = Failure { result: KrmResult::new(Severity::Error, e.to_string()), error: e };
                fail(list, Box::new(failure))
            })?;
            list.results.extend(findings);
        }
        Ok(())
    }
}

/// Records a failure as an `error` result and returns the error for stderr.
fn fail(list: &mut ResourceList, failure: Box<Failure>) -> Error {
    list.results.push(failure.result);
    failure.error
}

/// An error, as a result for the ResourceList and as an error for stderr and the exit code.
#[derive(Debug)]
struct Failure {
    result: KrmResult,
    error: Error,
}

/// Runs the model and the transforms over the resources (`positions` are their indices among
/// the items, for messages). Changed resources are replaced in place; returns the new objects.
fn transform_items(
    resources: &mut [Value],
    positions: &[usize],
    config: &Config,
    namespace: &str,
    namespace_configured: bool,
    found: &mut Vec<KrmResult>,
) -> Result<Vec<Value>, Box<Failure>> {
    if !config.enabled {
        found.push(KrmResult::new(Severity::Info, "netfence is disabled (enabled: false): items unchanged"));
        return Ok(Vec::new());
    }
    // Workloads are always modelled: the warnings need them.
    let mut model = Model::from_items(resources, namespace, Needs { workloads: true })
        .map_err(|e| model_failure(resources, positions, e))?;
    let added = transform::apply(&mut model, config).map_err(|e| model_failure(resources, positions, e))?;
    let mut changed = Vec::new();
    for p in model.policies.iter().filter(|p| p.changed) {
        let object = &model.objects[p.object];
        match object.item {
            None => resources[object.doc] = p.value.clone(),
            // A policy inside a List item is replaced inside it.
            Some(i) => resources[object.doc]["items"][i] = p.value.clone(),
        }
        changed.push(format!("{}/{}", p.namespace, p.name));
    }
    found.push(results::summary(&added, &changed));
    found.extend(results::warnings(&model, resources, config, namespace_configured));
    Ok(added)
}

/// The result and error of an invalid function config.
fn config_failure(function_config: Option<&Value>, e: Error) -> Box<Failure> {
    let (path, message) = match &e {
        Error::Config { path, message } => (path.clone(), message.clone()),
        other => (String::new(), other.to_string()),
    };
    // The path goes in `field` (kpt prints it before the message).
    let mut result = KrmResult::new(Severity::Error, format!("invalid function config: {message}"));
    if let Some(fc) = function_config.filter(|v| v.is_object()) {
        result = result.about(fc);
    }
    if !path.is_empty() {
        result = result.at(path.clone());
    }
    Box::new(Failure { result, error: Error::config(format!("functionConfig.{path}"), message) })
}

/// Model and transform failures, with the item they are about.
fn model_failure(resources: &[Value], positions: &[usize], e: Error) -> Box<Failure> {
    Box::new(match e {
        Error::Input { doc, message } => {
            let i = doc.index.saturating_sub(1);
            let what = doc.id.clone().map(|id| format!(" ({id})")).unwrap_or_default();
            let mut result = KrmResult::new(Severity::Error, message.clone());
            if let Some(item) = resources.get(i) {
                result = result.about(item);
            }
            let at = positions.get(i).copied().unwrap_or(i);
            // Named by the item's place in the list (a stream's document and line mean nothing here).
            Failure { result, error: Error::config(format!("items[{at}]{what}"), message) }
        }
        Error::Config { path, message } => {
            // The transforms name configuration fields by their place in the values' block.
            let path = match path.strip_prefix(crate::config::values::KEY) {
                Some(rest) => format!("spec{rest}"),
                None => path,
            };
            let result =
                KrmResult::new(Severity::Error, format!("invalid function config: {message}")).at(path.clone());
            Failure { result, error: Error::config(format!("functionConfig.{path}"), message) }
        }
        other => Failure { result: KrmResult::new(Severity::Error, other.to_string()), error: other },
    })
}
