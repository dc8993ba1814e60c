//! The `maverick` binary as scripts drive it: output, exit codes, and the
//! embedded and standalone mock.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Output, Stdio};

use serde_json::{json, Value};

mod common;
use common::{maverick, text};

fn run(args: &[&str]) -> Output {
    maverick().args(args).output().expect("the binary runs")
}

/// A file in a folder unique to this test process.
fn temp_file(name: &str, content: &Value) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("maverick-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content.to_string()).unwrap();
    path
}

#[test]
fn chat_with_the_embedded_mock_streams_text_and_exits_0() {
    let out = run(&["chat", "--mock", "Hello"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("You said: Hello."), "{stdout}");
    assert!(stdout.ends_with(".\n"), "{stdout:?}");

    let once = run(&["chat", "--mock", "--no-stream", "Hello"]);
    assert_eq!(once.status.code(), Some(0));
    assert!(text(&once.stdout).starts_with("You said: Hello."));
}

#[test]
fn the_prompt_can_come_from_stdin() {
    let mut child = maverick()
        .args(["chat", "--mock", "--max-tokens", "5"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"piped words here\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "You said: piped words here.\n");
}

#[test]
fn json_output_is_the_whole_response_streamed_or_not() {
    for extra in [&[][..], &["--no-stream"][..]] {
        let mut args = vec![
            "chat",
            "--mock",
            "--json",
            "--max-tokens",
            "3",
            "--seed",
            "4",
            "--temperature",
            "0.5",
            "--top-p",
            "0.9",
        ];
        args.extend_from_slice(extra);
        args.push("Hi there");
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {}", text(&out.stderr));
        let v: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{extra:?}: {e}: {}", text(&out.stdout)));
        assert_eq!(v["choices"][0]["message"]["content"], "You said: Hi", "{extra:?}: {v}");
        assert_eq!(v["choices"][0]["finish_reason"], "length");
        assert_eq!(v["object"], "chat.completion");
    }
}

#[test]
fn stop_sequences_are_sent() {
    let out = run(&[
        "chat",
        "--mock",
        "--stop",
        "brown",
        "--stop",
        "zzz",
        "The quick brown fox",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "You said: The quick \n");
}

#[test]
fn no_key_and_no_mock_is_a_usage_error_naming_the_fixes() {
    let out = run(&["chat", "Hello"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    for needle in ["AIML_API_KEY", "AIMLAPI_API_KEY", "--mock"] {
        assert!(stderr.contains(needle), "{needle} missing from {stderr}");
    }
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_flags_and_files_are_usage_errors() {
    let out = run(&["chat", "--mock", "--tool-choice", "nothing", "Hi"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--tool-choice nothing"),
        "{}",
        text(&out.stderr)
    );

    let out = run(&["chat", "--mock", "--tool", "/nonexistent/tool.json", "Hi"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/tool.json"));

    let out = run(&["chat", "--mock", "--base-url", "http://127.0.0.1:1/v1", "Hi"]);
    assert_eq!(out.status.code(), Some(2), "--mock and --base-url conflict");

    let out = run(&["chat", "--mock", "--temperature", "9", "Hi"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the library's bounds are usage errors: {}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("temperature"));

    let out = run(&["chat", "--mock", "--image", "/nonexistent.png", "Hi"]);
    assert_eq!(out.status.code(), Some(2));

    let out = run(&["mock", "--api-key", " "]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing listens, so nothing says it does");
    assert!(text(&out.stderr).contains("API key is empty"));
}

#[test]
fn forced_tools_print_calls_whose_arguments_validate() {
    let params = json!({"type": "object", "properties": {"city": {"type": "string", "minLength": 3}, "days": {"type": "integer", "minimum": 1}}, "required": ["city", "days"], "additionalProperties": false});
    let tool = temp_file(
        "weather.json",
        &json!({"name": "get_weather", "description": "Weather", "parameters": params}),
    );
    for extra in [&[][..], &["--no-stream"][..]] {
        let mut args = vec![
            "chat",
            "--mock",
            "--json",
            "--tool",
            tool.to_str().unwrap(),
            "--tool-choice",
            "get_weather",
        ];
        args.extend_from_slice(extra);
        args.push("Weather in Oslo?");
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let call = &v["choices"][0]["message"]["tool_calls"][0];
        assert_eq!(call["function"]["name"], "get_weather", "{extra:?}: {v}");
        let args: Value = serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
        assert!(jsonschema::is_valid(&params, &args), "{args}");
    }
    let out = run(&[
        "chat",
        "--mock",
        "--tool",
        tool.to_str().unwrap(),
        "--tool-choice",
        "required",
        "Weather?",
    ]);
    assert!(text(&out.stdout).contains("tool call call_"), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("get_weather"));
}

#[test]
fn a_schema_file_makes_the_answer_json_that_matches_it() {
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 18}}, "required": ["name", "age"]});
    let file = temp_file("person.json", &schema);
    let out = run(&["chat", "--mock", "--schema", file.to_str().unwrap(), "Invent a person"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let answer: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert!(jsonschema::is_valid(&schema, &answer), "{answer}");
}

#[test]
fn mock_prints_its_address_first_and_serves_it() {
    let (_mock, first) = common::start_line(&["mock"]);
    let addr = first
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .trim();
    let out = maverick()
        .args([
            "chat",
            "--no-stream",
            "--base-url",
            &format!("http://{addr}/v1"),
            "Over the wire",
        ])
        .env("AIML_API_KEY", "any-key")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("You said: Over the wire."));
}

#[test]
fn a_401_from_the_server_exits_1_with_the_status_and_without_the_key() {
    let (_mock, first) = common::start_line(&["mock", "--api-key", "expected-key"]);
    let addr = first.trim().strip_prefix("listening on http://").unwrap().to_string();
    for mode in ["--no-stream", "--json"] {
        let out = maverick()
            .args(["chat", mode, "--base-url", &format!("http://{addr}/v1"), "Hello"])
            .env("AIMLAPI_API_KEY", "sk-wrong-secret")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{mode}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("401"), "{mode}: {stderr}");
        assert!(
            stderr.contains("not the key this mock was started with"),
            "{mode}: {stderr}"
        );
        assert!(
            !stderr.contains("sk-wrong-secret") && !text(&out.stdout).contains("sk-wrong-secret"),
            "the key is never printed"
        );
    }
}

#[test]
fn network_failures_exit_1() {
    // Port 1 on loopback refuses connections.
    let out = maverick()
        .args(["chat", "--no-stream", "--base-url", "http://127.0.0.1:1/v1", "Hi"])
        .env("AIML_API_KEY", "k")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // The cause, not "error sending request"; refused connections are retried.
    assert!(
        stderr.starts_with("maverick: connection to 127.0.0.1:1 refused") && stderr.contains("3 attempts)"),
        "{stderr}"
    );
}
