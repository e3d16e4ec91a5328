//! The analysis on arbitrary bytes: never a panic; an error is one line; the namespace matrix,
//! the workload connlist and the lint are deterministic (the same input gives the same output).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netfence::analysis::focus::Focus;
use netfence::analysis::format::{self, Format};
use netfence::analysis::lint;
use netfence::analysis::matrix::Level;
use netfence::analysis::topology::Topology;

fuzz_target!(|input: &[u8]| {
    let topology = match Topology::from_bytes(input, "fuzz").and_then(|t| t.analysable().map(|()| t)) {
        Ok(t) => t,
        Err(e) => {
            assert!(!e.to_string().contains('\n'), "an error is one line: {e}");
            return;
        }
    };
    let focus = Focus::default();
    for (level, fmt) in [(Level::Namespace, Format::Table), (Level::Workload, Format::Connlist)] {
        let once = format::render(&topology, level, fmt, &focus);
        let twice = format::render(&topology, level, fmt, &focus);
        assert_eq!(once, twice, "the analysis is not deterministic");
    }
    let _ = lint::text(&lint::check(&topology));
});
