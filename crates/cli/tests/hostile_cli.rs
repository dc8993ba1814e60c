//! The `maverick` binary under hostile input: arguments and stdin that are
//! not UTF-8, a prompt or tool file without end, files that are not JSON,
//! and a server whose `Retry-After` used to panic the process. Each ends in
//! a one-line message and its documented exit code, never a backtrace.

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};

fn maverick() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maverick"));
    for var in ["AIML_API_KEY", "AIMLAPI_API_KEY", "AIML_API_BASE", "AIMLAPI_API_BASE"] {
        cmd.env_remove(var);
    }
    cmd.env("RUST_BACKTRACE", "1");
    cmd
}

fn assert_clean_failure(out: &Output, code: i32, mentions: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "a panic: {stderr}"
    );
    assert!(stderr.contains(mentions), "{stderr}");
}

fn with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = maverick()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // The binary may stop reading early (a limit): a broken pipe is fine.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

#[cfg(unix)]
#[test]
fn arguments_that_are_not_utf8_are_a_usage_error() {
    use std::os::unix::ffi::OsStrExt;
    let out = maverick()
        .args(["chat", "--mock"])
        .arg(std::ffi::OsStr::from_bytes(b"hi \xff\xfe"))
        .output()
        .unwrap();
    assert_clean_failure(&out, 2, "UTF-8");
}

#[test]
fn stdin_that_is_not_utf8_is_a_usage_error() {
    let out = with_stdin(&["chat", "--mock"], b"hello \xff\xfe world");
    assert_clean_failure(&out, 2, "not UTF-8");
}

#[test]
fn a_prompt_past_the_limit_on_stdin_is_a_usage_error() {
    let out = with_stdin(&["chat", "--mock"], &vec![b'a'; 33 * 1024 * 1024]);
    assert_clean_failure(&out, 2, "larger than");
}

#[test]
fn a_tool_file_that_is_not_json_is_a_usage_error() {
    let dir = std::env::temp_dir().join(format!("maverick-hostile-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, content) in [
        ("garbage.json", &b"{\"name\": \"f\", \"parameters\": "[..]),
        ("binary.json", b"\xff\xfe\x00\x01"),
        ("deep.json", &b"[".repeat(100_000)),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        let out = maverick()
            .args(["chat", "--mock", "--tool"])
            .arg(&path)
            .arg("Hi")
            .output()
            .unwrap();
        assert_clean_failure(&out, 2, "--tool");
    }
}

#[cfg(unix)]
#[test]
fn an_endless_tool_file_is_a_usage_error() {
    let out = maverick()
        .args(["chat", "--mock", "--tool", "/dev/zero", "Hi"])
        .output()
        .unwrap();
    assert_clean_failure(&out, 2, "larger than");
}

/// Answers every connection with `reply`, then closes it.
fn server(reply: &'static [u8]) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut buf = [0u8; 65536];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(reply);
        }
    });
    format!("http://{addr}/v1")
}

#[test]
fn a_huge_retry_after_is_an_api_error_not_a_panic() {
    for reply in [
        &b"HTTP/1.1 429 X\r\nretry-after: 1e20\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"[..],
        b"HTTP/1.1 429 X\r\nretry-after-ms: 1e30\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
        b"HTTP/1.1 503 X\r\nretry-after: NaN\r\nretry-after-ms: -1\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
    ] {
        let base = server(reply);
        for mode in ["--no-stream", "--json"] {
            let out = maverick()
                .args(["chat", mode, "--base-url", &base, "Hello"])
                .env("AIML_API_KEY", "sk-test")
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{mode}: {stderr}");
            assert!(!stderr.contains("panicked"), "{mode}: {stderr}");
        }
    }
}
