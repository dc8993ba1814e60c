//! The diff against the provider's real history: every fact asserted here
//! was checked by reading the published files (paths, operationIds, status
//! codes, fields). Needs `../shared` (CI has it); without it the history
//! tests print why they skipped. The golden JSON test needs nothing.

mod common;

use common::{upstream_dir, NEWEST};
use std::path::{Path, PathBuf};

use maverick_spec::diff::{diff, Change, ChangeKind, Class, Diff};
use serde_json::{json, Value};

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn between(dir: &Path, old: &str, new: &str) -> Diff {
    diff(old, &read(&dir.join(old)), new, &read(&dir.join(new)))
}

fn find<'d>(d: &'d Diff, kind: ChangeKind, location: &str) -> &'d Change {
    d.changes
        .iter()
        .find(|c| c.kind == kind && c.location == location)
        .unwrap_or_else(|| {
            panic!(
                "no {kind:?} at {location} in {} -> {}:\n{}",
                d.old,
                d.new,
                d.render_text()
            )
        })
}

const V1: &str = "/paths/~1v1~1chat~1completions/post";
const REQUEST: &str = "/components/schemas/ChatCompletionRequest/properties";

#[test]
fn every_version_against_itself_is_empty_and_consecutive_diffs_are_well_formed() {
    let Some(dir) = upstream_dir("history diffs") else {
        return;
    };
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 15, "{files:?}");
    for f in &files {
        let d = between(&dir, f, f);
        assert!(d.changes.is_empty(), "{f} against itself:\n{}", d.render_text());
    }
    for pair in files.windows(2) {
        let d = between(&dir, &pair[0], &pair[1]);
        let count = |c: Class| d.changes.iter().filter(|x| x.class == c).count();
        assert_eq!(
            (d.summary.breaking, d.summary.non_breaking, d.summary.docs_only),
            (
                count(Class::Breaking),
                count(Class::NonBreaking),
                count(Class::DocsOnly)
            )
        );
        let mut sorted = d.changes.clone();
        sorted
            .sort_by(|a, b| (a.class, &a.location, a.kind, &a.reason).cmp(&(b.class, &b.location, b.kind, &b.reason)));
        assert_eq!(
            sorted, d.changes,
            "{} -> {} is not in the documented order",
            pair[0], pair[1]
        );
        for c in &d.changes {
            assert!(c.location.starts_with('/'), "not a JSON pointer: {c:?}");
            assert!(
                !c.reason.is_empty() && !c.reason.contains('\n'),
                "reason must be one line: {c:?}"
            );
        }
    }
}

#[test]
fn the_two_2025_08_26_files_differ_only_in_a_code_sample() {
    let Some(dir) = upstream_dir("2025-08-26 pair") else {
        return;
    };
    // Not byte-identical (one JavaScript sample differs), same contract.
    let (a, b) = ("2025-08-26_a146df03.json", "2025-08-26_e73fc6bd.json");
    assert_ne!(std::fs::read(dir.join(a)).unwrap(), std::fs::read(dir.join(b)).unwrap());
    let d = between(&dir, a, b);
    let got: Vec<(ChangeKind, Class, &str)> = d
        .changes
        .iter()
        .map(|c| (c.kind, c.class, c.location.as_str()))
        .collect();
    let at = format!("{V1}/x-codeSamples");
    assert_eq!(
        got,
        vec![(ChangeKind::OperationDocsChanged, Class::DocsOnly, at.as_str())]
    );
    assert!(d.is_in_sync());
}

#[test]
fn the_wrong_azure_path_of_2025_09_17_is_an_operation_removal_reverted_next_day() {
    let Some(dir) = upstream_dir("2025-09-17 path") else {
        return;
    };
    let azure = "/paths/~1openai~1deployments~1{model}/post";
    let d = between(&dir, "2025-08-28_fad15056.json", "2025-09-17_c318f19d.json");
    let removed = find(&d, ChangeKind::OperationRemoved, V1);
    assert_eq!(removed.class, Class::Breaking);
    assert_eq!(find(&d, ChangeKind::OperationAdded, azure).class, Class::NonBreaking);
    assert_eq!(d.summary.breaking, 1, "{}", d.render_text());

    let d = between(&dir, "2025-09-17_c318f19d.json", "2025-09-18_fdc08814.json");
    assert_eq!(find(&d, ChangeKind::OperationAdded, V1).class, Class::NonBreaking);
    assert_eq!(find(&d, ChangeKind::OperationRemoved, azure).class, Class::NonBreaking);
    assert!(!d.has_breaking(), "{}", d.render_text());
}

#[test]
fn the_november_rewrite_moves_201_to_200_renames_the_operation_and_adds_bodies() {
    let Some(dir) = upstream_dir("2025-11-13 rewrite") else {
        return;
    };
    let d = between(&dir, "2025-09-18_fdc08814.json", "2025-11-13_f1733015.json");
    let status = find(&d, ChangeKind::SuccessStatusChanged, &format!("{V1}/responses"));
    assert!(
        status.reason.contains("201 -> 200") && status.class == Class::NonBreaking,
        "{status:?}"
    );
    let renamed = find(&d, ChangeKind::OperationRenamed, &format!("{V1}/operationId"));
    assert!(
        renamed
            .reason
            .contains("\"ChatCompletionsControllerV1_completeChat_v1\" -> \"_v1_chat_completions\""),
        "{renamed:?}"
    );
    assert_eq!(
        find(&d, ChangeKind::OperationAdded, "/paths/~1chat~1completions/post").class,
        Class::NonBreaking
    );
    assert_eq!(
        find(
            &d,
            ChangeKind::ResponseBodyAdded,
            "/components/schemas/ChatCompletionResponse"
        )
        .class,
        Class::NonBreaking
    );
    assert_eq!(
        find(
            &d,
            ChangeKind::ChunkSchemaAdded,
            "/components/schemas/ChatCompletionChunk"
        )
        .class,
        Class::NonBreaking
    );
    let strict = find(
        &d,
        ChangeKind::FieldRemoved,
        "/components/schemas/ToolDefinition/properties/strict",
    );
    assert_eq!(strict.class, Class::Breaking);
    let fstrict = find(
        &d,
        ChangeKind::FieldAdded,
        "/components/schemas/FunctionDefinition/properties/strict",
    );
    assert_eq!(fstrict.class, Class::NonBreaking);
}

#[test]
fn the_june_version_removes_and_adds_request_fields_and_roles() {
    let Some(dir) = upstream_dir("2025-06-12 changes") else {
        return;
    };
    let d = between(&dir, "2025-05-13_2af1d56b.json", "2025-06-12_adcf5d97.json");
    assert_eq!(
        find(&d, ChangeKind::FieldRemoved, &format!("{REQUEST}/echo")).class,
        Class::Breaking
    );
    for added in [
        "max_completion_tokens",
        "parallel_tool_calls",
        "prediction",
        "top_logprobs",
    ] {
        assert_eq!(
            find(&d, ChangeKind::FieldAdded, &format!("{REQUEST}/{added}")).class,
            Class::NonBreaking
        );
    }
    let temperature = format!("{REQUEST}/temperature");
    let bounds: Vec<&Change> = d
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::BoundTightened && c.location == temperature)
        .collect();
    assert_eq!(bounds.len(), 2, "minimum and maximum appear: {bounds:?}");
    let roles: Vec<(ChangeKind, Class)> = d
        .changes
        .iter()
        .filter(|c| c.location.starts_with("/components/schemas/ChatMessage/oneOf/"))
        .filter(|c| matches!(c.kind, ChangeKind::VariantAdded | ChangeKind::VariantRemoved))
        .map(|c| (c.kind, c.class))
        .collect();
    assert_eq!(
        roles,
        vec![
            (ChangeKind::VariantRemoved, Class::Breaking),
            (ChangeKind::VariantAdded, Class::NonBreaking)
        ]
    );
    assert!(
        d.changes.iter().any(|c| c.reason.contains("role=developer"))
            && d.changes.iter().any(|c| c.reason.contains("role=function"))
    );

    let d = between(&dir, "2025-06-12_b5e8a3b4.json", "2025-08-20_72b324c2.json");
    let min_p = format!("{REQUEST}/min_p");
    let tightened: Vec<&str> = d
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::BoundTightened && c.location == min_p)
        .map(|c| c.reason.as_str())
        .collect();
    assert!(
        tightened.iter().any(|r| r.contains("1 -> 0.999")) && tightened.iter().any(|r| r.contains("0 -> 0.001")),
        "{tightened:?}"
    );
}

/// The project's own document must state the newest published contract:
/// only its prose may differ.
#[test]
fn our_spec_matches_the_newest_published_contract() {
    let Some(dir) = upstream_dir("fidelity of spec/llama-4-maverick.json") else {
        return;
    };
    let ours = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec/llama-4-maverick.json");
    let d = diff(
        NEWEST,
        &read(&dir.join(NEWEST)),
        "spec/llama-4-maverick.json",
        &read(&ours),
    );
    assert!(d.is_in_sync(), "our spec departs from {NEWEST}:\n{}", d.render_text());
    assert!(d.changes.iter().all(|c| c.class == Class::DocsOnly));
}

/// Scripts parse this output; a change to it must be deliberate.
#[test]
fn json_output_is_stable() {
    let doc = |max: f64, extra: bool| {
        let mut props = json!({"model": {"type": "string"}, "messages": {"type": "array", "items": {"type": "string"}}, "top_p": {"type": "number", "maximum": max}});
        if extra {
            props["top_k"] = json!({"type": "integer"});
        }
        json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {"/v1/chat/completions": {"post": {
            "operationId": "chat", "summary": if extra { "New" } else { "Old" },
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": props}}}},
            "responses": {"201": {"description": "created"}}
        }}}})
    };
    let d = diff("old.json", &doc(1.0, false), "new.json", &doc(0.5, true));
    let golden = r#"{
  "old": "old.json",
  "new": "new.json",
  "summary": {
    "breaking": 1,
    "non_breaking": 1,
    "docs_only": 1
  },
  "semver": {
    "impact": "major",
    "reason": "1 breaking change(s), first: maximum of request.top_p tightened 1.0 -> 0.5: values accepted before are now refused"
  },
  "changes": [
    {
      "kind": "bound_tightened",
      "class": "breaking",
      "location": "/components/schemas/ChatCompletionRequest/properties/top_p",
      "reason": "maximum of request.top_p tightened 1.0 -> 0.5: values accepted before are now refused"
    },
    {
      "kind": "field_added",
      "class": "non-breaking",
      "location": "/components/schemas/ChatCompletionRequest/properties/top_k",
      "reason": "request.top_k added: optional"
    },
    {
      "kind": "operation_docs_changed",
      "class": "docs-only",
      "location": "/paths/~1v1~1chat~1completions/post/summary",
      "reason": "`summary` of POST /v1/chat/completions changed: documentation only"
    }
  ]
}
"#;
    assert_eq!(d.to_json(), golden);
}
