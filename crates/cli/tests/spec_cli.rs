//! `maverick spec` as a script sees it: the binary, its stdout and its exit
//! code. Needs only the repository (documents are derived from spec/).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn maverick(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maverick"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("the maverick binary runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("maverick-spec-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ours() -> Value {
    serde_json::from_slice(&std::fs::read(repo_root().join("spec/llama-4-maverick.json")).unwrap()).unwrap()
}

/// Our spec with `edit` applied to the operation on both published paths
/// (the normaliser refuses divergent duplicates).
fn edited(edit: impl Fn(&mut Value)) -> Value {
    let mut doc = ours();
    for path in ["/v1/chat/completions", "/chat/completions"] {
        edit(&mut doc["paths"][path]["post"]);
    }
    doc
}

fn write(dir: &Path, name: &str, doc: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    path.display().to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn update_check_on_a_document_the_build_guard_refuses_is_breaking_drift() {
    let dir = scratch("guard");
    let spec = write(&dir, "spec.json", &ours());
    // No stream chunk schema: the wrapper's stream decoder needs one.
    let no_chunks = write(
        &dir,
        "no-chunks.json",
        &edited(|op| {
            op["responses"]["200"]["content"]
                .as_object_mut()
                .unwrap()
                .remove("text/event-stream")
                .unwrap();
        }),
    );
    let o = maverick(&["spec", "update", "--check", "--from", &no_chunks, "--spec", &spec]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "stdout:\n{}\nstderr:\n{err}", stdout(&o));
    assert!(err.contains("stream chunks"), "the reason is printed: {err}");
    assert!(stdout(&o).contains("breaking drift"), "{}", stdout(&o));
    // Without --check it is refused and nothing is written.
    let before = std::fs::read(&spec).unwrap();
    let o = maverick(&["spec", "update", "--from", &no_chunks, "--spec", &spec]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(&spec).unwrap(), before);
    // Not JSON stays a failure to check, not drift.
    let page = dir.join("page.html");
    std::fs::write(&page, "<html>").unwrap();
    let o = maverick(&[
        "spec",
        "update",
        "--check",
        "--from",
        &page.display().to_string(),
        "--spec",
        &spec,
    ]);
    assert_eq!(o.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn diff_states_the_semver_impact_in_every_format() {
    let dir = scratch("semver");
    let old = write(&dir, "old.json", &ours());
    let added = write(
        &dir,
        "added.json",
        &edited(|op| {
            op["requestBody"]["content"]["application/json"]["schema"]["properties"]["reasoning_effort"] =
                serde_json::json!({"type": "string"});
        }),
    );
    let removed = write(
        &dir,
        "removed.json",
        &edited(|op| {
            op["requestBody"]["content"]["application/json"]["schema"]["properties"]
                .as_object_mut()
                .unwrap()
                .remove("top_k")
                .unwrap();
        }),
    );
    let docs = write(
        &dir,
        "docs.json",
        &edited(|op| op["summary"] = Value::String("Chat completions, reworded".into())),
    );

    let json = |new: &str| -> Value {
        let o = maverick(&["spec", "diff", &old, new, "--format", "json"]);
        assert_eq!(o.status.code(), Some(0));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    assert_eq!(json(&added)["semver"]["impact"], "minor");
    assert_eq!(json(&removed)["semver"]["impact"], "major");
    assert_eq!(json(&docs)["semver"]["impact"], "patch");
    assert_eq!(json(&old)["semver"]["impact"], "patch");

    let text = stdout(&maverick(&["spec", "diff", &old, &added]));
    assert!(text.contains("semver impact of regenerating: minor"), "{text}");

    let o = maverick(&["spec", "diff", &old, &removed, "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0));
    let md = stdout(&o);
    assert!(md.starts_with("## OpenAPI spec update: `"), "{md}");
    assert!(md.contains("**Semver impact of regenerating: major**"), "{md}");
    assert!(
        md.contains("### breaking (1)") && md.contains("request.top\\_k removed"),
        "{md}"
    );
    assert!(
        md.contains("at `/components/schemas/ChatCompletionRequest/properties/top_k`"),
        "{md}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn surface_classifies_snapshots() {
    let dir = scratch("surface");
    let snapshot = std::fs::read_to_string(repo_root().join("tests/data/generated_surface.txt")).unwrap();
    let old = dir.join("old.txt");
    std::fs::write(&old, &snapshot).unwrap();
    let grown = dir.join("grown.txt");
    std::fs::write(
        &grown,
        snapshot.replacen("struct Usage\n", "struct Usage\n  cost: Option<f64>\n", 1),
    )
    .unwrap();
    let shrunk = dir.join("shrunk.txt");
    std::fs::write(&shrunk, snapshot.replacen("  top_k: Option<i64>\n", "", 1)).unwrap();
    let (o, g, s) = (
        old.display().to_string(),
        grown.display().to_string(),
        shrunk.display().to_string(),
    );
    let run = |a: &str, b: &str, extra: &[&str]| {
        let mut args = vec!["spec", "surface", a, b];
        args.extend_from_slice(extra);
        maverick(&args)
    };
    assert!(stdout(&run(&o, &o, &[])).starts_with("generated surface: patch (0 added, 0 removed)"));
    let out = run(&o, &g, &["--fail-on-major"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("+ struct Usage { cost: Option<f64> }"),
        "{}",
        stdout(&out)
    );
    let out = run(&o, &s, &["--fail-on-major", "--format", "json"]);
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["impact"], "major");
    assert_eq!(v["removed"][0], "struct ChatCompletionRequest { top_k: Option<i64> }");
    std::fs::remove_dir_all(&dir).unwrap();
}
