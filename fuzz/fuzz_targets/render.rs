//! `render` on arbitrary bytes: never a panic; an error is one line; otherwise the output renders
//! to itself (idempotence), every document netfence did not change is in it byte for byte, and
//! it stays proportional to the input. Time and memory are bounded by libFuzzer's `-timeout`
//! and `-rss_limit_mb` (scripts/fuzz.sh).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netfence::config::Config;
use netfence::run::{render, RenderOptions};

fuzz_target!(|input: &[u8]| {
    let options = RenderOptions { namespace: "fuzz".into(), config: Config::default(), release: None };
    let rendered = match render(input, &options) {
        Ok(r) => r,
        Err(e) => {
            assert!(!e.to_string().contains('\n'), "an error is one line: {e}");
            return;
        }
    };
    let out = rendered.to_bytes();
    // Generated policies: two per namespace at most, about 1 kB each.
    assert!(out.len() <= 64 * input.len() + (16 << 10), "output {} bytes for {} of input", out.len(), input.len());
    let changed: std::collections::BTreeSet<usize> = rendered.outcome.changed.iter().map(|c| c.doc).collect();
    for (i, doc) in rendered.stream.docs.iter().enumerate() {
        if !changed.contains(&i) {
            assert!(out.windows(doc.bytes.len()).any(|w| w == doc.bytes), "document {} not passed through", doc.index);
        }
    }
    let again = render(&out, &options).unwrap_or_else(|e| panic!("the output does not render: {e}"));
    assert!(again.outcome.changed.is_empty() && again.outcome.added.is_empty(), "a second run changes the output");
    assert_eq!(again.to_bytes(), out, "a second run changes the output");
});
