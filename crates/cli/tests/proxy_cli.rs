//! `maverick proxy`, `maverick mock --replay` and `maverick spec
//! check-traffic` as a user's CI drives them: record through the proxy,
//! stop it with Ctrl-C for the report and its exit code, replay offline,
//! and check the recorded traffic against both documents.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

mod common;
use common::{maverick, scratch, start, text, Running};

const KEY: &str = "sk-cli-SECRET-never-in-a-cassette";

fn chat(base: &str, extra: &[&str]) -> Output {
    maverick()
        .args(["chat", "--base-url", &format!("{base}/v1"), "-n", "6"])
        .args(extra)
        .arg("Hello through the proxy")
        .env("AIML_API_KEY", KEY)
        .output()
        .unwrap()
}

/// Sends Ctrl-C (SIGINT) and collects the process's exit and stderr.
fn interrupt(mut running: Running) -> (Option<i32>, String) {
    let pid = running.0.id().to_string();
    // The shell's builtin `kill`: present wherever `sh` is, unlike /bin/kill.
    let sent = Command::new("sh")
        .args(["-c", &format!("kill -INT {pid}")])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = running.0.wait().unwrap();
    let mut stderr = String::new();
    if let Some(mut e) = running.0.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut stderr).unwrap();
    }
    (status.code(), stderr)
}

#[test]
fn record_report_replay_and_check_traffic() {
    let dir = scratch("record");
    let cassettes = dir.join("cassettes");
    let report = dir.join("report.json");
    let (_mock, mock_url) = start(&["mock", "--api-key", KEY, "--seed", "5"]);
    let (proxy, proxy_url) = start(&[
        "proxy",
        "--upstream",
        &mock_url,
        "--record",
        cassettes.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--fail-on-violation",
    ]);
    let streamed = chat(&proxy_url, &["-u"]);
    assert_eq!(streamed.status.code(), Some(0), "{}", text(&streamed.stderr));
    let whole = chat(&proxy_url, &["--no-stream"]);
    assert_eq!(whole.status.code(), Some(0), "{}", text(&whole.stderr));

    // The mock's streams are shaped like real traffic, not like the
    // published chunk schema: the host departs from it, the client copes.
    let (code, stderr) = interrupt(proxy);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("drift report: 2 exchanges (1 streamed"), "{stderr}");
    assert!(
        stderr.contains("verdict: departs from the published document"),
        "{stderr}"
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["format"], "maverick-drift-report/1");
    assert_eq!(json["verdict"], "departs_from_published");

    let files: Vec<PathBuf> = std::fs::read_dir(&cassettes)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &files {
        let content = std::fs::read_to_string(f).unwrap();
        assert!(!content.contains(KEY), "{} holds the key", f.display());
    }

    // Offline: a replaying mock (another seed, no key check) answers the
    // same text to the same commands.
    let (_replay, replay_url) = start(&["mock", "--replay", cassettes.to_str().unwrap(), "--replay-speed", "0"]);
    let again = chat(&replay_url, &["-u"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), text(&streamed.stdout));
    assert_eq!(text(&again.stderr), text(&streamed.stderr), "the same usage line");
    let again = chat(&replay_url, &["--no-stream"]);
    assert_eq!(text(&again.stdout), text(&whole.stdout));

    // A question never recorded: 404 naming the nearest cassette.
    let other = maverick()
        .args([
            "chat",
            "--base-url",
            &format!("{replay_url}/v1"),
            "-n",
            "6",
            "Something else",
        ])
        .env("AIML_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(other.status.code(), Some(1));
    let stderr = text(&other.stderr);
    assert!(stderr.contains("404") && stderr.contains("no cassette"), "{stderr}");

    // Every departure in this traffic is one the normaliser absorbs.
    let checked = maverick()
        .args(["spec", "check-traffic", cassettes.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked.stderr));
    let out = text(&checked.stdout);
    assert!(out.starts_with("2 cassettes in "), "{out}");
    assert!(
        out.contains("absorbed by the normaliser; quirk table: Stream chunk"),
        "{out}"
    );
    assert!(!out.contains("NOT absorbed"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn write_cassette(dir: &Path, name: &str, response_body: Value) {
    let cassette = json!({
        "format": "maverick-cassette/1",
        "request": {"method": "POST", "path": "/v1/chat/completions", "headers": {},
                    "body": {"model": "meta-llama/llama-4-maverick", "messages": [{"role": "user", "content": "Hi"}]}},
        "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": response_body}
    });
    std::fs::write(dir.join(name), serde_json::to_string_pretty(&cassette).unwrap()).unwrap();
}

#[test]
fn check_traffic_tells_absorbed_departures_from_breaking_ones() {
    let dir = scratch("check");
    // llama.cpp-like: content null on a tool-call reply. The published
    // document wants a string; the normaliser made it nullable.
    write_cassette(
        &dir,
        "a-1.json",
        json!({"id": "x", "object": "chat.completion", "created": 1, "model": "m",
               "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null}}],
               "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}),
    );
    let ok = maverick()
        .args(["spec", "check-traffic", dir.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stdout));
    let json: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(json["format"], "maverick-check-traffic/1");
    assert_eq!(json["client_would_break"], false);
    let content = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["pointer"] == "/choices/0/message/content")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(content["level"], "published");
    assert_eq!(content["absorbed"], content["count"]);
    assert!(content["quirk"].as_str().unwrap().starts_with("Response"), "{content}");

    // `choices` as a string breaks the client: not absorbed, exit 3.
    write_cassette(
        &dir,
        "b-1.json",
        json!({"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": "none"}),
    );
    let bad = maverick()
        .args(["spec", "check-traffic", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(3));
    let out = text(&bad.stdout);
    assert!(out.contains("NOT absorbed"), "{out}");
    assert!(out.contains("response /choices [type]"), "{out}");

    let missing = maverick()
        .args(["spec", "check-traffic", dir.join("nope").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("cannot read the cassette directory"));
    let _ = std::fs::remove_dir_all(&dir);
}
