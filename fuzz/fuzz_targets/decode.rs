//! Feeds arbitrary bytes to the completion and chunk decoders and the
//! stream accumulator (see `checks/decode.rs`). Run with
//! `cargo fuzz run decode` from `fuzz/`, or `.ci/fuzz`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/decode.rs"]
mod checks;

fuzz_target!(|input: &[u8]| checks::check(input));
