//! The KRM function on arbitrary bytes (seeded with ResourceLists): never a panic; an unreadable
//! ResourceList writes nothing; an answer is a ResourceList that, fed back, comes out with the
//! same items (idempotence), and its size stays proportional to the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netfence::krm::ResourceList;
use netfence::run::function::{run, Processor};

fuzz_target!(|input: &[u8]| {
    let processor = Processor::default();
    let mut out = Vec::new();
    let result = run(input, &processor, &mut out);
    if ResourceList::parse(input).is_err() {
        assert!(result.is_err() && out.is_empty(), "an unreadable ResourceList writes nothing");
        return;
    }
    assert!(out.len() <= 64 * input.len() + (16 << 10), "output {} bytes for {} of input", out.len(), input.len());
    let first = ResourceList::parse(&out).unwrap_or_else(|e| panic!("the answer is not a ResourceList: {e}"));
    if result.is_err() {
        return;
    }
    let mut again = Vec::new();
    let second = run(&out, &processor, &mut again);
    assert!(second.is_ok(), "the answer does not process: {:?}", second.err());
    let second = ResourceList::parse(&again).expect("a ResourceList");
    assert_eq!(second.items, first.items, "a second run changes the items");
});
