//! Every published version of the provider's document goes through the
//! normaliser and progenitor: no panic, and either a generated client or an
//! error naming a JSON pointer. Needs `../shared` (CI has it); without it
//! these tests print why they skipped.

mod common;

use common::{upstream_dir, NEWEST};
use std::panic;
use std::path::PathBuf;

use serde_json::Value;

fn read(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs progenitor (default settings), turning panics into errors.
fn generate(doc: &Value) -> Result<(), String> {
    let spec: openapiv3::OpenAPI =
        serde_json::from_value(doc.clone()).map_err(|e| format!("not valid OpenAPI 3.0: {e}"))?;
    // The default panic hook stays: tests run in parallel, and a silenced
    // hook would hide other tests' messages too.
    let result = panic::catch_unwind(|| {
        progenitor::Generator::new(&progenitor::GenerationSettings::default())
            .generate_tokens(&spec)
            .map(|_| ())
    });
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("progenitor error: {e}")),
        Err(payload) => Err(format!(
            "progenitor panicked: {}",
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
    }
}

#[test]
fn every_published_version_normalises_and_generates_or_fails_with_a_pointer() {
    let Some(dir) = upstream_dir("published versions") else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        15,
        "expected the 15 published versions in {}",
        dir.display()
    );

    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let raw = read(path);
        let normalized = match panic::catch_unwind(|| maverick_spec::normalize(raw)) {
            Err(_) => {
                failures.push(format!("{name}: the normaliser panicked"));
                continue;
            }
            Ok(r) => r,
        };
        let normalized = match normalized {
            Ok(n) => n,
            Err(e) => {
                let shown = e.to_string();
                println!("{name}: refused: {shown}");
                if !shown.contains(&format!("`{}`", e.pointer)) || !e.pointer.starts_with('/') {
                    failures.push(format!("{name}: error names no JSON pointer: {shown}"));
                }
                if name.starts_with("2025-09-17") {
                    if !shown.contains("no chat completions operation: paths are /openai/deployments/{model}") {
                        failures.push(format!("{name}: unexpected error: {shown}"));
                    }
                } else {
                    failures.push(format!("{name}: expected to normalise, got: {shown}"));
                }
                continue;
            }
        };
        if name.starts_with("2025-09-17") {
            failures.push(format!("{name}: expected the no-operation error, but it normalised"));
        }
        let generated = generate(&normalized.document);
        println!(
            "{name}: path {}, status {:?}, response schema {}, chunk schema {}, generation {}",
            normalized.source_path,
            normalized.source_status,
            normalized.has_response_schema(),
            normalized.has_chunk_schema(),
            match &generated {
                Ok(()) => "ok".to_string(),
                Err(e) => e.clone(),
            }
        );
        if let Err(e) = generated {
            failures.push(format!("{name}: {e}"));
        }
        // The document's one operation and success response are canonical.
        let op = &normalized.document["paths"][normalized.source_path]["post"];
        if op["operationId"] != maverick_spec::OPERATION_ID || op["responses"].get("2XX").is_none() {
            failures.push(format!("{name}: operation is not canonical: {op}"));
        }
        let recent = name.as_str() >= "2025-11-13";
        if recent && !(normalized.has_response_schema() && normalized.has_chunk_schema()) {
            failures.push(format!("{name}: expected response and chunk schemas"));
        }
        if recent {
            if let Err(missing) = maverick_spec::requirements::check(&normalized) {
                failures.push(format!("{name}: lacks what the wrapper needs: {missing:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
}

#[test]
fn older_versions_have_no_response_body_but_the_newest_three_do() {
    let Some(dir) = upstream_dir("response schemas by version") else {
        return;
    };
    let old = maverick_spec::normalize(read(&dir.join("2025-04-10_94e33dea.json"))).unwrap();
    assert!(!old.has_response_schema(), "2025-04-10 described no JSON response body");
    assert!(old
        .document
        .pointer("/paths/~1v1~1chat~1completions/post/responses/2XX/content")
        .is_none());
    let new = maverick_spec::normalize(read(&dir.join(NEWEST))).unwrap();
    assert!(new.has_response_schema() && new.has_chunk_schema());
    assert_eq!(new.source_path, "/v1/chat/completions");
}

fn strip_descriptions(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("description");
            m.values_mut().for_each(strip_descriptions);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_descriptions),
        _ => {}
    }
}

#[test]
fn our_spec_has_the_same_facts_as_the_newest_published_version() {
    let Some(dir) = upstream_dir("our spec vs the newest published version") else {
        return;
    };
    let ours = read(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec/llama-4-maverick.json"));
    let theirs = read(&dir.join(NEWEST));
    let mut a = maverick_spec::normalize(ours).expect("our spec normalises").document["components"]["schemas"].take();
    let mut b = maverick_spec::normalize(theirs)
        .expect("the newest version normalises")
        .document["components"]["schemas"]
        .take();
    strip_descriptions(&mut a);
    strip_descriptions(&mut b);
    let (am, bm) = (a.as_object().unwrap(), b.as_object().unwrap());
    let names = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(am), names(bm), "component names differ");
    let differing: Vec<String> = am
        .iter()
        .filter(|(k, v)| bm.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}:\n  ours:   {v}\n  theirs: {}", bm[k]))
        .collect();
    assert!(differing.is_empty(), "components differ:\n{}", differing.join("\n"));
}
