//! What the published-history tests share: where `shared/` sits beside the
//! clone, and the loud skip when it does not.

use std::path::PathBuf;

/// The newest published version, the one `spec/llama-4-maverick.json` mirrors.
pub const NEWEST: &str = "2026-01-16_ef7ca0ed.json";

/// The folder of published versions, or `None` after printing why `what`
/// is skipped (a clone without ../shared; CI has it).
pub fn upstream_dir(what: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream/llama-4-maverick");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "SKIPPED {what}: {} is absent (a clone without ../shared); CI has it",
            dir.display()
        );
        None
    }
}
