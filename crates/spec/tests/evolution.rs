//! The synthetic next releases (`maverick_spec::mutate`) against the real
//! documents: our spec always, the newest published version when
//! `../shared` is present (CI has it; without it that half prints why it
//! skipped). What `.ci/spec-evolution` checks with cargo, checked here in
//! process for the diff and the build guard.

mod common;

use common::{upstream_dir, NEWEST};
use std::path::PathBuf;

use maverick_spec::diff::{diff, Semver};
use maverick_spec::mutate::{cases, combined, CaseClass};
use maverick_spec::{normalize, requirements};
use serde_json::Value;

fn read(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn check_base(label: &str, base: &Value) {
    let all = cases(base);
    assert!(all.len() >= 70, "{label}: only {} cases", all.len());
    for case in &all {
        let d = diff(label, base, &case.name, &case.doc);
        let guard = normalize(case.doc.clone())
            .map_err(|e| e.to_string())
            .and_then(|n| requirements::check(&n).map_err(|m| m.join("; ")));
        match case.class {
            CaseClass::Additive => {
                assert_eq!(d.summary.breaking, 0, "{label} {}:\n{}", case.name, d.render_text());
                assert!(d.semver.impact <= Semver::Minor, "{label} {}", case.name);
                assert!(
                    guard.is_ok(),
                    "{label} {}: the guard refuses an additive release: {guard:?}",
                    case.name
                );
            }
            CaseClass::Breaking => {
                assert!(d.has_breaking(), "{label} {}:\n{}", case.name, d.render_text());
                assert_eq!(d.semver.impact, Semver::Major, "{label} {}", case.name);
                let first = d
                    .changes
                    .iter()
                    .find(|c| c.class == maverick_spec::diff::Class::Breaking)
                    .unwrap();
                assert!(!first.reason.is_empty() && !first.location.is_empty());
            }
        }
    }
    // The guard explains the breaking cases that take away what the wrapper needs.
    for (name, needle) in [
        ("remove-property.request.seed", "a `seed` request field"),
        ("path-moved", "no chat completions operation"),
    ] {
        let case = all.iter().find(|c| c.name == name).unwrap();
        let why = match normalize(case.doc.clone()) {
            Err(e) => e.to_string(),
            Ok(n) => requirements::check(&n).err().unwrap_or_default().join("; "),
        };
        assert!(why.contains(needle), "{label} {name}: {why}");
    }
    let all_additive = combined(base);
    let d = diff(label, base, "combined", &all_additive);
    assert_eq!(d.summary.breaking, 0, "{label} combined:\n{}", d.render_text());
    assert_eq!(d.semver.impact, Semver::Minor);
    let n = normalize(all_additive).unwrap();
    requirements::check(&n).unwrap();
}

#[test]
fn our_spec_evolves() {
    let ours = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec/llama-4-maverick.json");
    check_base("spec/llama-4-maverick.json", &read(&ours));
}

#[test]
fn the_newest_published_version_evolves() {
    let Some(dir) = upstream_dir("evolution of the newest published version") else {
        return;
    };
    check_base(NEWEST, &read(&dir.join(NEWEST)));
}
