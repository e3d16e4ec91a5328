//! The inputs fuzzing found interesting (fuzz/regressions/<target>/, see scripts/fuzz.sh),
//! replayed with the fuzz targets' properties: render is idempotent and passes untouched
//! documents through, the KRM function answers with a ResourceList that is a fixed point, the
//! analysis is deterministic, and errors are one line. (The fuzz targets run on nightly with
//! libFuzzer; these replays run in every test run.)

use crate::util::repo_root;
use netfence::analysis::focus::Focus;
use netfence::analysis::format::{self, Format};
use netfence::analysis::matrix::Level;
use netfence::analysis::topology::Topology;
use netfence::config::Config;
use netfence::krm::ResourceList;
use netfence::run::function::{self, Processor};
use netfence::run::{render, RenderOptions};

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = repo_root().join("fuzz/regressions").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no regression inputs in {}", dir.display());
    files
        .into_iter()
        .map(|f| (f.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&f).unwrap()))
        .collect()
}

#[test]
fn render_regressions() {
    let options = RenderOptions { namespace: "fuzz".into(), config: Config::default(), release: None };
    for (name, input) in inputs("render") {
        let rendered = match render(&input, &options) {
            Ok(r) => r,
            Err(e) => {
                assert!(!e.to_string().contains('\n'), "{name}: an error is one line: {e}");
                continue;
            }
        };
        let out = rendered.to_bytes();
        let changed: Vec<usize> = rendered.outcome.changed.iter().map(|c| c.doc).collect();
        for (i, doc) in rendered.stream.docs.iter().enumerate().filter(|(i, _)| !changed.contains(i)) {
            assert!(out.windows(doc.bytes.len()).any(|w| w == doc.bytes), "{name}: document {i} not passed through");
        }
        let again = render(&out, &options).unwrap_or_else(|e| panic!("{name}: the output does not render: {e}"));
        assert_eq!(again.to_bytes(), out, "{name}: a second run changes the output");
    }
}

#[test]
fn krm_regressions() {
    let processor = Processor::default();
    for (name, input) in inputs("krm") {
        let mut out = Vec::new();
        let result = function::run(&input, &processor, &mut out);
        let Ok(_) = ResourceList::parse(&input) else {
            assert!(result.is_err() && out.is_empty(), "{name}: an unreadable ResourceList writes nothing");
            continue;
        };
        let first =
            ResourceList::parse(&out).unwrap_or_else(|e| panic!("{name}: the answer is not a ResourceList: {e}"));
        if result.is_err() {
            continue;
        }
        let mut again = Vec::new();
        function::run(&out, &processor, &mut again)
            .unwrap_or_else(|e| panic!("{name}: the answer does not process: {e}"));
        assert_eq!(ResourceList::parse(&again).unwrap().items, first.items, "{name}: a second run changes the items");
    }
}

#[test]
fn analysis_regressions() {
    for (name, input) in inputs("analysis") {
        let topology = match Topology::from_bytes(&input, "fuzz").and_then(|t| t.analysable().map(|()| t)) {
            Ok(t) => t,
            Err(e) => {
                assert!(!e.to_string().contains('\n'), "{name}: an error is one line: {e}");
                continue;
            }
        };
        let focus = Focus::default();
        for (level, fmt) in [(Level::Namespace, Format::Table), (Level::Workload, Format::Connlist)] {
            assert_eq!(
                format::render(&topology, level, fmt, &focus),
                format::render(&topology, level, fmt, &focus),
                "{name}: not deterministic"
            );
        }
    }
}
