//! `maverick chat` for daily use, run as a binary: keyless local hosts,
//! keys from other variables and profiles, pipes, closed stdout, usage and
//! cost, call summaries, scripted conversations, completions.
//!
//! Most tests talk to a small loopback server written here, which records
//! every request and refuses any `Authorization` header, as a local
//! llama.cpp that was never given a key would be right to.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

mod common;
use common::{maverick, scratch, text, Running};

/// Runs the binary with `input` on stdin.
fn run_with_stdin(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

// ---------------------------------------------------------------- the local host

#[derive(Debug, Clone)]
struct Seen {
    /// Header names in lower case, with values.
    headers: Vec<(String, String)>,
    body: Value,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn messages(&self) -> Vec<Value> {
        self.body["messages"].as_array().cloned().unwrap_or_default()
    }

    /// The text of the last message, string or parts.
    fn last_text(&self) -> String {
        content_text(&self.messages().last().cloned().unwrap_or(Value::Null)["content"])
    }
}

fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

struct LocalHost {
    base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl LocalHost {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A keyless OpenAI-compatible host on loopback. It answers "echo: " and
/// the last message; any `Authorization` header gets a 401. With `slow`,
/// a stream sends many chunks with pauses between them.
fn local_host(slow: bool) -> LocalHost {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let record = record.clone();
            std::thread::spawn(move || {
                let _ = answer(conn, &record, slow);
            });
        }
    });
    LocalHost {
        base_url: format!("http://{addr}/v1"),
        seen,
    }
}

fn answer(conn: TcpStream, record: &Mutex<Vec<Seen>>, slow: bool) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut headers = Vec::new();
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let seen = Seen {
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    record.lock().unwrap().push(seen.clone());
    let mut conn = conn;
    if seen.header("authorization").is_some() {
        let body =
            json!({"error": {"message": "this host takes no key, yet one was sent", "type": "invalid_request_error"}})
                .to_string();
        return write!(
            conn,
            "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    }
    let reply = format!("echo: {}", seen.last_text());
    let usage = json!({"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18});
    if seen.body["stream"] == json!(true) {
        write!(
            conn,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-aimlapi-credits-used: 36\r\nx-aimlapi-usd-spent: 0.000018\r\nconnection: close\r\n\r\n"
        )?;
        let chunk = |delta: Value, finish: Value| {
            json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "local",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        };
        let mut pieces: Vec<String> = reply.split_inclusive(' ').map(str::to_string).collect();
        if slow {
            pieces.extend((0..40).map(|i| format!(" more{i}")));
        }
        write!(
            conn,
            "data: {}\n\n",
            chunk(json!({"role": "assistant", "content": ""}), Value::Null)
        )?;
        for piece in pieces {
            write!(conn, "data: {}\n\n", chunk(json!({"content": piece}), Value::Null))?;
            conn.flush()?;
            if slow {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        write!(conn, "data: {}\n\n", chunk(json!({}), json!("stop")))?;
        if seen.body["stream_options"]["include_usage"] == json!(true) {
            let last = json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "local", "choices": [], "usage": usage});
            write!(conn, "data: {last}\n\n")?;
        }
        write!(conn, "data: [DONE]\n\n")?;
        conn.flush()
    } else {
        let body = json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "local",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
            "usage": usage})
        .to_string();
        write!(
            conn,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    }
}

// ---------------------------------------------------------------- the mock process

/// `maverick mock`, and its base URL.
fn start_mock(extra: &[&str]) -> (Running, String) {
    let args: Vec<&str> = std::iter::once("mock").chain(extra.iter().copied()).collect();
    let (running, url) = common::start(&args);
    (running, format!("{url}/v1"))
}

// ---------------------------------------------------------------- 1. any host

#[test]
fn a_keyless_local_host_gets_no_authorization_header() {
    let host = local_host(false);
    for mode in [&[][..], &["--no-stream"][..]] {
        let out = maverick()
            .args(["chat", "--base-url", &host.base_url])
            .args(mode)
            .arg("Hello local")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{mode:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "echo: Hello local\n", "{mode:?}");
    }
    // --no-key keeps a key that is set for the AI/ML API away from it.
    let out = maverick()
        .args(["chat", "--no-key", "--base-url", &host.base_url, "Hi"])
        .env("AIML_API_KEY", "sk-for-aiml-only")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let seen = host.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s.header("authorization").is_none()));

    // A configured key is sent: this host refuses it, and the key is not printed.
    let out = maverick()
        .args(["chat", "--api-key-env", "LOCAL_KEY", "--base-url", &host.base_url, "Hi"])
        .env("LOCAL_KEY", "sk-local-secret")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("401"), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("sk-local-secret"));
    assert_eq!(
        host.seen().last().unwrap().header("authorization"),
        Some("Bearer sk-local-secret")
    );
}

#[test]
fn the_default_host_without_a_key_names_every_way_to_give_one() {
    let out = maverick().args(["chat", "Hello"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("maverick: "), "{stderr}");
    for needle in ["AIML_API_KEY", "AIMLAPI_API_KEY", "--api-key-env", "--mock"] {
        assert!(stderr.contains(needle), "{needle} missing from {stderr}");
    }
}

#[test]
fn keys_come_from_the_variable_api_key_env_names_never_from_arguments() {
    let (_mock, base) = start_mock(&["--api-key", "expected-key"]);
    let out = maverick()
        .args([
            "chat",
            "--no-stream",
            "--base-url",
            &base,
            "--api-key-env",
            "MY_MAVERICK_KEY",
            "Hi",
        ])
        .env("MY_MAVERICK_KEY", "expected-key")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("You said: Hi."));

    let out = maverick()
        .args(["chat", "--base-url", &base, "--api-key-env", "MY_MAVERICK_KEY", "Hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("MY_MAVERICK_KEY"), "{}", text(&out.stderr));

    // There is no flag that takes a key.
    let out = maverick()
        .args(["chat", "--api-key", "expected-key", "Hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn profiles_switch_host_model_and_key_variable() {
    let (_mock, base) = start_mock(&["--api-key", "profile-key"]);
    let host = local_host(false);
    let dir = scratch("profiles");
    std::fs::create_dir_all(dir.join("maverick")).unwrap();
    std::fs::write(
        dir.join("maverick/config.toml"),
        format!(
            r#"
profile = "local"
max_tokens = 3

[profiles.mock]
base_url = "{base}"
model = "maverick-from-profile"
api_key_env = "PROFILE_KEY"

[profiles.local]
base_url = "{local}"
model = "llama-local"
"#,
            local = host.base_url
        ),
    )
    .unwrap();

    let out = maverick()
        .env("XDG_CONFIG_HOME", &dir)
        .env("PROFILE_KEY", "profile-key")
        .args(["chat", "-p", "mock", "--json", "Hello profile"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["model"], "maverick-from-profile");
    assert_eq!(
        v["choices"][0]["finish_reason"], "length",
        "top-level max_tokens applies: {v}"
    );

    // The file's default profile: the keyless local host, no key sent.
    let out = maverick()
        .env("XDG_CONFIG_HOME", &dir)
        .env("PROFILE_KEY", "profile-key")
        .args(["chat", "Hello default"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let seen = host.seen();
    assert_eq!(seen[0].body["model"], "llama-local");
    assert_eq!(seen[0].body["max_tokens"], 3);
    assert!(seen[0].header("authorization").is_none());

    // MAVERICK_PROFILE picks one too; an unknown one lists those defined.
    let out = maverick()
        .env("XDG_CONFIG_HOME", &dir)
        .env("MAVERICK_PROFILE", "nope")
        .args(["chat", "Hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("local, mock"), "{}", text(&out.stderr));
}

// ---------------------------------------------------------------- 2. pipes

#[test]
fn piped_text_follows_the_prompt_and_files_follow_both() {
    let host = local_host(false);
    let dir = scratch("pipes");
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "file line\n").unwrap();
    let system = dir.join("system.txt");
    std::fs::write(&system, "Answer in French.\n").unwrap();

    let out = run_with_stdin(
        maverick().args(["chat", "--base-url", &host.base_url, "summarise", "this"]),
        "piped line one\npiped line two\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        host.seen()[0].last_text(),
        "summarise this\n\npiped line one\npiped line two"
    );

    let notes_arg = notes.to_str().unwrap();
    let out = run_with_stdin(
        maverick().args([
            "chat",
            "--base-url",
            &host.base_url,
            "--system-file",
            system.to_str().unwrap(),
            "-f",
            notes_arg,
            "x",
        ]),
        "piped",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let seen = &host.seen()[1];
    assert_eq!(seen.messages()[0]["role"], "system");
    assert_eq!(content_text(&seen.messages()[0]["content"]).trim(), "Answer in French.");
    assert_eq!(
        seen.last_text(),
        format!("x\n\npiped\n\n--- {notes_arg} ---\nfile line\n--- end of {notes_arg} ---")
    );

    // --no-stdin leaves a pipe that never closes alone.
    let mut child = maverick()
        .args(["chat", "--no-stdin", "--base-url", &host.base_url, "just this"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let _open = child.stdin.take();
    let mut answer = String::new();
    child.stdout.take().unwrap().read_to_string(&mut answer).unwrap();
    assert_eq!(answer, "echo: just this\n");
    assert_eq!(child.wait().unwrap().code(), Some(0));

    // Only a file: no arguments needed.
    let out = maverick()
        .args(["chat", "--base-url", &host.base_url, "--file", notes_arg])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let out = maverick()
        .args([
            "chat",
            "--base-url",
            &host.base_url,
            "--file",
            "/nonexistent/notes.txt",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/notes.txt"));
}

#[test]
fn a_terminal_without_a_prompt_is_a_usage_error_not_a_silent_wait() {
    // `script` gives the command a terminal for stdin; skip where it is missing.
    let Ok(probe) = Command::new("script").arg("--version").output() else {
        eprintln!("skipped: no `script` to provide a terminal");
        return;
    };
    if !probe.status.success() {
        eprintln!("skipped: `script` is not util-linux's");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_maverick");
    let mut child = Command::new("script")
        .args(["-qec", &format!("{bin} chat --mock"), "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Keep stdin open: a silent wait would hang here, so time it out.
    let _stdin = child.stdin.take();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("maverick chat waited on a terminal with no prompt");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert_eq!(status.code(), Some(2), "{out}");
    assert!(out.contains("maverick: no prompt"), "{out}");
    assert!(out.contains("-i"), "{out}");
}

#[test]
fn a_closed_stdout_ends_the_command_quietly_with_exit_0() {
    let host = local_host(true);
    let mut child = maverick()
        .args(["chat", "--base-url", &host.base_url, "a long answer please"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut one = [0u8; 1];
    stdout.read_exact(&mut one).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "quietly: {}", text(&out.stderr));

    // The same through a shell pipe into `head -c1`.
    let script = format!(
        "'{}' chat --base-url '{}' 'long answer' | head -c1; exit ${{PIPESTATUS[0]}}",
        env!("CARGO_BIN_EXE_maverick"),
        host.base_url
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "e");
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn output_is_plain_off_a_terminal_and_with_no_color() {
    let out = maverick()
        .args(["chat", "--mock", "-u", "-v", "Hello"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b));
}

// ---------------------------------------------------------------- 4. what it cost

/// `usage: P prompt + C completion = T tokens, K credits, $U`
fn usage_line(stderr: &str) -> (u64, u64, u64, f64, f64) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("usage: "))
        .unwrap_or_else(|| panic!("no usage line in {stderr:?}"));
    let words: Vec<&str> = line.split([' ', ',', '$']).filter(|w| !w.is_empty()).collect();
    // usage: P prompt + C completion = T tokens K credits U
    (
        words[1].parse().unwrap(),
        words[4].parse().unwrap(),
        words[7].parse().unwrap(),
        words[9].parse().unwrap(),
        words[11].parse().unwrap(),
    )
}

#[test]
fn usage_prints_the_tokens_credits_and_usd_the_mock_reports() {
    for mode in [&["--no-stream"][..], &[][..]] {
        let out = maverick()
            .args(["chat", "--mock", "--json", "-u", "-n", "5"])
            .args(mode)
            .arg("How much did this cost")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{mode:?}: {}", text(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let usage = &v["usage"];
        assert!(usage.is_object(), "{mode:?}: streamed --json carries usage too: {v}");
        let (prompt, completion, total, credits, usd) = usage_line(&text(&out.stderr));
        assert_eq!(prompt, usage["prompt_tokens"].as_u64().unwrap(), "{mode:?}");
        assert_eq!(completion, usage["completion_tokens"].as_u64().unwrap());
        assert_eq!(total, usage["total_tokens"].as_u64().unwrap());
        // The mock bills 2 credits a token, at its documented USD rate.
        assert_eq!(credits, (total * 2) as f64, "{mode:?}");
        assert!(usd > 0.0 && usd < 0.01, "{usd}");
    }

    // A host that sends no billing headers still gets token counts; stream
    // usage is asked for with stream_options.include_usage.
    let host = local_host(false);
    let out = maverick()
        .args(["chat", "-u", "--base-url", &host.base_url, "Hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(host.seen()[0].body["stream_options"]["include_usage"], true);
    assert!(
        text(&out.stderr).contains("usage: 11 prompt + 7 completion = 18 tokens, 36 credits, $0.000018"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "echo: Hi\n", "usage is on stderr only");
}

// ---------------------------------------------------------------- 5. conventions

#[test]
fn verbose_and_rust_log_show_each_call() {
    let out = maverick()
        .args(["chat", "--mock", "-v", "-n", "2", "Hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    for needle in [
        "maverick: POST http://127.0.0.1:",
        "status 200",
        "request id mvk-",
        "1 attempt",
        " ms",
    ] {
        assert!(stderr.contains(needle), "{needle} missing from {stderr}");
    }

    let out = maverick()
        .args(["chat", "--mock", "--no-stream", "-n", "2", "Hi"])
        .env("RUST_LOG", "maverick=debug")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    for needle in [
        "request_id",
        "status=200",
        "attempts=1",
        "latency_ms",
        "request id mvk-",
    ] {
        assert!(stderr.contains(needle), "{needle} missing from {stderr}");
    }
}

#[test]
fn short_flags_mean_the_long_ones() {
    let out = maverick()
        .args([
            "chat",
            "--mock",
            "--json",
            "-m",
            "my-model",
            "-s",
            "Be brief.",
            "-t",
            "0.5",
            "-n",
            "2",
            "Hi",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["model"], "my-model");
    assert_eq!(v["choices"][0]["finish_reason"], "length");

    let help = maverick().args(["chat", "--help"]).output().unwrap();
    let help = text(&help.stdout);
    for needle in [
        "-m, --model",
        "-s, --system",
        "-t, --temperature",
        "-n, --max-tokens",
        "-u, --usage",
        "-i, --interactive",
    ] {
        assert!(help.contains(needle), "{needle} missing from chat --help");
    }
}

#[test]
fn completions_generate_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = maverick().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = text(&out.stdout);
        assert!(script.contains("maverick"), "{shell}");
        assert!(script.contains("max-tokens"), "{shell}: chat flags complete");
        if shell == "bash" {
            let dir = scratch("completions");
            std::fs::write(dir.join("maverick.bash"), &script).unwrap();
            let check = Command::new("bash")
                .arg("-n")
                .arg(dir.join("maverick.bash"))
                .output()
                .unwrap();
            assert!(check.status.success(), "bash -n: {}", text(&check.stderr));
        }
    }
    let out = maverick().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_lists_every_exit_code_and_errors_share_one_prefix() {
    let help = text(&maverick().arg("--help").output().unwrap().stdout);
    for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "130"] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(code)),
            "exit code {code} missing from --help:\n{help}"
        );
    }
    let out = maverick()
        .args(["spec", "diff", "/nonexistent/a.json", "/nonexistent/b.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).starts_with("maverick: "), "{}", text(&out.stderr));
    let out = maverick().args(["chat", "--mock", "-t", "9", "Hi"]).output().unwrap();
    assert!(text(&out.stderr).starts_with("maverick: "), "{}", text(&out.stderr));
}

// ---------------------------------------------------------------- 3. conversations

#[test]
fn a_scripted_conversation_keeps_history_saves_and_continues() {
    let host = local_host(false);
    let dir = scratch("repl");
    let saved = dir.join("talk.json");
    let script = format!(
        "first question\n/system Be brief.\nsecond question\n/bogus\n\nthird question\n/save {}\n/usage\n/exit\nnever sent\n",
        saved.display()
    );
    let out = run_with_stdin(
        maverick().args(["chat", "-i", "-u", "--base-url", &host.base_url]),
        &script,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "echo: first question\necho: second question\necho: third question\n"
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("unknown command /bogus"), "{stderr}");
    assert!(
        stderr.contains("session usage: 33 prompt + 21 completion = 54 tokens"),
        "{stderr}"
    );

    let seen = host.seen();
    assert_eq!(seen.len(), 3, "commands and blank lines are not turns");
    let roles = |s: &Seen| {
        s.messages()
            .iter()
            .map(|m| m["role"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(roles(&seen[0]), ["user"]);
    assert_eq!(roles(&seen[1]), ["system", "user", "assistant", "user"]);
    assert_eq!(
        roles(&seen[2]),
        ["system", "user", "assistant", "user", "assistant", "user"]
    );
    assert_eq!(content_text(&seen[2].messages()[2]["content"]), "echo: first question");

    let file: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(file["format"], "maverick-conversation/1");
    assert_eq!(file["messages"].as_array().unwrap().len(), 7);

    // --continue resumes it, one-shot; --save writes the longer conversation.
    let next = dir.join("next.json");
    let out = maverick()
        .args(["chat", "--base-url", &host.base_url, "-c", saved.to_str().unwrap()])
        .args(["--save", next.to_str().unwrap(), "fourth question"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "echo: fourth question\n");
    let last = host.seen().last().cloned().unwrap();
    assert_eq!(last.messages().len(), 8);
    assert_eq!(content_text(&last.messages()[0]["content"]), "Be brief.");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&next).unwrap()).unwrap();
    assert_eq!(file["messages"].as_array().unwrap().len(), 9);

    // ... and -i with --continue picks the session up where it was.
    let out = run_with_stdin(
        maverick().args([
            "chat",
            "-i",
            "--base-url",
            &host.base_url,
            "--continue",
            next.to_str().unwrap(),
        ]),
        "fifth question\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(host.seen().last().unwrap().messages().len(), 10);
}

#[test]
fn a_conversation_shows_tool_calls_and_survives_a_failed_turn() {
    let dir = scratch("repl-tools");
    let tool = dir.join("weather.json");
    std::fs::write(
        &tool,
        json!({"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}).to_string(),
    )
    .unwrap();
    let out = run_with_stdin(
        maverick().args([
            "chat",
            "-i",
            "--mock",
            "--tool",
            tool.to_str().unwrap(),
            "--tool-choice",
            "required",
        ]),
        "Weather in Oslo?\n/load /nonexistent/talk.json\n/model\n/exit\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("tool call call_"), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("get_weather"));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("maverick: /load /nonexistent/talk.json"), "{stderr}");
    assert!(stderr.contains("(model: meta-llama/llama-4-maverick)"), "{stderr}");

    // A turn the host refuses is reported; the session goes on, and the
    // exit code says something failed.
    let (_mock, base) = start_mock(&["--api-key", "right"]);
    let out = run_with_stdin(
        maverick()
            .args(["chat", "-i", "--base-url", &base])
            .env("AIML_API_KEY", "wrong"),
        "one\ntwo\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.matches("maverick: API error 401").count(), 2, "{stderr}");
}

/// SIGINT to a child this test started, as Ctrl-C sends it.
fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn ctrl_c_stops_the_answer_not_the_session() {
    let host = local_host(true);
    let mut child = maverick()
        .args(["chat", "-i", "--base-url", &host.base_url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin.write_all(b"first\n").unwrap();
    let mut some = [0u8; 4];
    stdout.read_exact(&mut some).unwrap();
    interrupt(&child);
    // Give the signal time to land before the next turn is offered.
    std::thread::sleep(Duration::from_millis(300));
    stdin.write_all(b"second\n/exit\n").unwrap();
    drop(stdin);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("answer stopped"), "{}", text(&out.stderr));
    assert!(rest.contains("echo: second"), "{rest}");
    let seen = host.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].messages().len(), 1, "the stopped turn is not kept");

    // One-shot: Ctrl-C ends the command with 130.
    let mut child = maverick()
        .args(["chat", "--base-url", &host.base_url, "long"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdout.read_exact(&mut some).unwrap();
    interrupt(&child);
    let _ = stdout.read_to_end(&mut Vec::new());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(text(&out.stderr).contains("maverick: interrupted"));
}
