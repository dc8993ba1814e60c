//! The code progenitor generates from the normalised spec at build time.
//!
//! Nothing else lives in this file, and nothing handwritten edits what it
//! includes: behaviour changes go through `ClientHooks` in `transport.rs`,
//! spec fixes through the normaliser in `crates/spec`.
#![allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    unused_imports,
    unused_qualifications,
    dead_code,
    rustdoc::all
)]

include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
include!(concat!(env!("OUT_DIR"), "/facts.rs"));
