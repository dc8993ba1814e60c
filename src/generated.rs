//! The code progenitor generates from the normalised spec at build time.
//!
//! Nothing else lives in this file, and nothing handwritten edits what it
//! includes: behaviour changes go through `ClientHooks` in `transport.rs`,
//! spec fixes through the normaliser in `crates/spec`.
// `clippy::unwrap_used`: progenitor's `Client::new` unwraps a builder; the
// library never calls it (`.ci/lint-panics` checks that), so no server
// input reaches it.
#![allow(
    clippy::all,
    clippy::unwrap_used,
    clippy::pedantic,
    missing_docs,
    unused_imports,
    unused_qualifications,
    dead_code,
    rustdoc::all
)]

include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
include!(concat!(env!("OUT_DIR"), "/facts.rs"));
