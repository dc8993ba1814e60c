//! Feeds arbitrary bytes, cut at arbitrary points, to the SSE decoder (see
//! `checks/sse.rs`). Run with `cargo fuzz run sse` from `fuzz/`, or
//! `.ci/fuzz` for every target with seeds from the transcripts.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/sse.rs"]
mod checks;

fuzz_target!(|input: &[u8]| checks::check(input));
