//! The KRM function adapter: the same core as `render`, applied to a ResourceList's `items`
//! instead of a manifest stream (kyaml's `ResourceListProcessor`).
//!
//! Items marked `config.kubernetes.io/local-config` (the function config file kpt lists among
//! the items, the Kptfile) are not resources: they are not modelled or transformed, and are
//! handed back unchanged, because kpt deletes the file of every item a function does not return.
//! The `functionConfig` is never added to the items.

use super::results;
use crate::analysis::lint;
use crate::config::{function_config, namespace, release, Config};
use crate::core::report::Report;
use crate::core::{self, Outcome};
use crate::error::{Error, Result};
use crate::krm::resource_list::{self, KrmResult, ResourceList, Severity};
use crate::model::{Model, Needs};
use serde_json::Value;
use std::io::Write;

/// What the processor needs besides the ResourceList.
#[derive(Debug, Default)]
pub struct Processor {
    /// Namespace of items without one, before the function config's `spec.namespace` (`-n`);
    /// see [`namespace::resolve`].
    pub namespace: Option<String>,
    /// Lint the output (`--check`) even when the function config does not ask for it.
    pub check: bool,
    /// Report every change as an `info` result too (`--report`).
    pub report: bool,
    /// The release generated objects are named for (`--release`), before the function
    /// config's `spec.release`; see [`crate::config::release::resolve`].
    pub release: Option<String>,
}

/// What a run produced besides the ResourceList: the change report.
#[derive(Debug, Default)]
pub struct Produced {
    /// The change report (empty when netfence is disabled or failed).
    pub report: Report,
}

/// Where a new item's file goes under kpt: `netfence/<namespace>/<name>.yaml`, or
/// `netfence/<name>.yaml` for one without a namespace.
pub fn new_item_path(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        format!("netfence/{name}.yaml")
    } else {
        format!("netfence/{namespace}/{name}.yaml")
    }
}

/// Reads a ResourceList from `input`, processes it and writes the answer to `out` (YAML, or JSON
/// when the input was JSON). Returns the exit code (0, or 1 when a check reported an `error`)
/// and the change report.
///
/// Failure: an unreadable ResourceList is an error with nothing on stdout. Once the list is read,
/// the answer is always written, so that kpt can show its `results`: on an invalid function
/// config or item, the items unchanged plus an `error` result; the error then goes to stderr and
/// the exit code is non-zero (kustomize ignores `results` and reports only the exit status).
pub fn run(input: &[u8], processor: &Processor, out: &mut impl Write) -> Result<(u8, Produced)> {
    let mut list = ResourceList::parse(input)?;
    let outcome = processor.process(&mut list);
    // `functionConfig` is input only: the answer carries items and results.
    list.function_config = None;
    let (items, results, has_errors) = (list.items.len(), list.results.len(), list.has_errors());
    out.write_all(list.into_text(resource_list::is_json(input)).as_bytes())
        .and_then(|()| out.flush())
        .map_err(|source| Error::Io { what: "writing the output".into(), source })?;
    let produced = outcome?;
    tracing::info!(items, results, "KRM function done");
    Ok((if has_errors { 1 } else { 0 }, produced))
}

impl Processor {
    /// Transforms `list` in place and fills its `results`. On error the items are left as they
    /// were, an `error` result describes the problem, and the error is returned.
    pub fn process(&self, list: &mut ResourceList) -> Result<Produced> {
        let fc = match function_config::parse(list.function_config.as_ref()) {
            Ok(fc) => fc,
            Err(e) => return Err(fail(list, config_failure(list.function_config.as_ref(), e))),
        };
        let resolved = namespace::resolve(self.namespace.as_deref(), fc.namespace.as_deref());
        let release = match release::resolve(self.release.as_deref(), fc.release.as_deref()) {
            Ok(r) => r,
            Err(e) => return Err(fail(list, config_failure(list.function_config.as_ref(), e))),
        };
        let check = self.check || fc.check;
        // Resources move out of the list and come back, changed or not, in their places.
        let mut slots: Vec<Option<Value>> = std::mem::take(&mut list.items).into_iter().map(Some).collect();
        let positions: Vec<usize> = (0..slots.len())
            .filter(|&i| slots[i].as_ref().is_some_and(|item| !resource_list::is_local_config(item)))
            .collect();
        let mut resources: Vec<Value> = positions.iter().filter_map(|&i| slots[i].take()).collect();
        let mut found = Vec::new();
        let run = Run { config: &fc.config, namespace: &resolved, release, check };
        let outcome = run.transform(&mut resources, &positions, &mut found);
        for (pos, item) in positions.iter().copied().zip(resources) {
            slots[pos] = Some(item);
        }
        list.items = slots.into_iter().flatten().collect();
        let done = outcome.map_err(|mut failure| {
            // A configuration error found by a transform is about the function config object.
            if let (Some(_), None, Some(fc)) =
                (&failure.result.field, &failure.result.resource_ref, &list.function_config)
            {
                failure.result = failure.result.clone().about(fc);
            }
            fail(list, failure)
        })?;
        list.results.extend(found);
        // The items the core changed are written anew; the others go back as they came.
        for c in &done.outcome.changed {
            list.changed(positions[c.doc]);
        }
        // Under kpt (items carry their file), new items get a file of their own.
        let kpt_paths = list.items.iter().any(|i| resource_list::FileRef::of(i).is_some());
        let mut new_items: Vec<(Option<usize>, Value)> = Vec::new();
        for added in done.outcome.added {
            let mut item = added.value;
            if kpt_paths {
                let path = new_item_path(
                    item["metadata"]["namespace"].as_str().unwrap_or_default(),
                    item["metadata"]["name"].as_str().unwrap_or_default(),
                );
                item["metadata"]["annotations"][resource_list::PATH] = Value::String(path);
            }
            new_items.push((added.before.map(|d| positions[d]), item));
        }
        // netfence's items of an earlier run that this run does not generate go (kpt then
        // deletes their files); new items go where a fresh run puts them.
        let removed: Vec<usize> =
            done.outcome.removed.iter().filter(|r| r.item.is_none()).map(|r| positions[r.doc]).collect();
        list.rearrange(&removed, new_items);
        if self.report {
            list.results.extend(results::changes(&done.report, &list.items));
        }
        if let Some(findings) = done.lint {
            // Lint findings are about the output, the resources as the function hands them on.
            let resources: Vec<&Value> = list.items.iter().filter(|i| !resource_list::is_local_config(i)).collect();
            list.results.extend(results::lint(&findings, &resources));
        }
        Ok(Produced { report: done.report })
    }
}

/// One transformation of the resources.
struct Run<'a> {
    config: &'a Config,
    namespace: &'a namespace::DefaultNamespace,
    release: Option<String>,
    check: bool,
}

/// What [`Run::transform`] produced.
struct Done {
    outcome: Outcome,
    report: Report,
    lint: Option<Vec<lint::Finding>>,
}

impl Run<'_> {
    /// Runs the core over the resources (`positions` are their indices among the items, for
    /// messages). Changed resources are replaced in place.
    fn transform(
        &self,
        resources: &mut [Value],
        positions: &[usize],
        found: &mut Vec<KrmResult>,
    ) -> Result<Done, Box<Failure>> {
        if !self.config.enabled && !self.check {
            found.push(KrmResult::new(Severity::Info, "netfence is disabled (enabled: false): items unchanged"));
            return Ok(Done { outcome: Outcome::default(), report: Report::default(), lint: None });
        }
        // Workloads are always modelled: the warnings need them.
        let needs = Needs { workloads: true, manifests: self.config.infer.enabled };
        let mut model = Model::from_items(resources, &self.namespace.name, needs)
            .map_err(|e| model_failure(resources, positions, e))?;
        model.disown_additions().map_err(|e| model_failure(resources, positions, e))?;
        super::admissible(&model).map_err(|e| model_failure(resources, positions, e))?;
        let outcome = if self.config.enabled {
            super::context(&model, self.namespace, self.release.as_deref())
                .and_then(|context| core::core(&model, self.config, &context))
                .map_err(|e| model_failure(resources, positions, e))?
        } else {
            found.push(KrmResult::new(Severity::Info, "netfence is disabled (enabled: false): items unchanged"));
            Outcome::default()
        };
        let lint = if self.check {
            let value_of = |i: usize| Ok(model.value_in(resources, i).cloned().unwrap_or_default());
            let findings = super::check::lint_output(&model, &outcome, resources.len(), value_of)
                .map_err(|e| Box::new(Failure { result: KrmResult::new(Severity::Error, e.to_string()), error: e }))?;
            Some(findings)
        } else {
            None
        };
        let report = Report::new(&model, &outcome);
        if self.config.enabled {
            found.push(results::summary(&report));
            found.extend(results::findings(&outcome.findings));
            found.extend(results::warnings(&model, resources, self.namespace));
        }
        for c in &outcome.changed {
            resources[c.doc] = c.value.clone();
        }
        Ok(Done { outcome, report, lint })
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
