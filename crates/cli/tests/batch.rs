//! `maverick batch` run as a binary against the contract mock (in this
//! process, so that faults can be scripted and requests counted): invalid
//! input refused before anything is sent, 429 storms and cut streams, the
//! request pace, SIGKILL and Ctrl-C then a restart, shards and merge.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use maverick_mock::{Cut, Fault, MockServer};
use serde_json::{json, Value};

mod common;
use common::{scratch, text, ENV_VARS};

/// The contract mock on its own runtime, serving while the test thread
/// runs the binary.
struct Mock {
    server: MockServer,
    _runtime: tokio::runtime::Runtime,
}

impl Mock {
    fn start() -> Mock {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(MockServer::start()).unwrap();
        Mock {
            server,
            _runtime: runtime,
        }
    }

    fn requests(&self) -> usize {
        self.server.requests().len()
    }

    /// `maverick batch INPUT -o OUTPUT` against this mock, plus `extra`.
    fn batch(&self, input: &Path, output: &Path, extra: &[&str]) -> Command {
        let mut cmd = maverick();
        cmd.arg("batch")
            .arg(input)
            .arg("-o")
            .arg(output)
            .args(["--base-url", &self.server.base_url()])
            .args(extra);
        cmd
    }
}

fn maverick() -> Command {
    let mut cmd = common::maverick();
    // The mock takes any non-empty key.
    cmd.env("AIML_API_KEY", "batch-test");
    cmd
}

/// An input line asking the mock to echo `Question {i}`.
fn line(i: usize, stream: bool) -> String {
    let mut body = json!({"messages": [{"role": "user", "content": format!("Question {i}")}], "max_tokens": 4});
    if stream {
        body["stream"] = json!(true);
    }
    json!({"custom_id": format!("q{i}"), "method": "POST", "url": "/v1/chat/completions", "body": body}).to_string()
}

fn write_input(dir: &Path, lines: usize, stream: impl Fn(usize) -> bool) -> PathBuf {
    let path = dir.join("input.jsonl");
    let mut file = std::fs::File::create(&path).unwrap();
    for i in 0..lines {
        writeln!(file, "{}", line(i, stream(i))).unwrap();
    }
    path
}

/// The output as custom_id → line; fails on a line that is not whole JSON
/// or an id written twice.
fn answers(path: &Path) -> HashMap<String, Value> {
    let content = std::fs::read_to_string(path).unwrap();
    assert!(content.is_empty() || content.ends_with('\n'), "a partial last line");
    let mut all = HashMap::new();
    for (n, line) in content.lines().enumerate() {
        let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}: {line}", n + 1));
        let id = value["custom_id"].as_str().unwrap().to_string();
        assert!(all.insert(id.clone(), value).is_none(), "{id} answered twice");
    }
    all
}

fn content(answer: &Value) -> &str {
    answer["response"]["body"]["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_else(|| panic!("no content in {answer}"))
}

/// Every id `q0..q{n}` answered once, successfully, with its own question.
fn assert_complete(answers: &HashMap<String, Value>, n: usize) {
    assert_eq!(answers.len(), n);
    for i in 0..n {
        let answer = &answers[&format!("q{i}")];
        assert_eq!(answer["error"], Value::Null, "{answer}");
        assert_eq!(answer["response"]["status_code"], 200);
        assert!(
            content(answer).starts_with(&format!("You said: Question {i}")),
            "{answer}"
        );
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).output().unwrap()
}

fn summary(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn invalid_lines_are_all_listed_with_line_numbers_and_nothing_is_sent() {
    let mock = Mock::start();
    let dir = scratch("invalid");
    let input = dir.join("input.jsonl");
    let lines = [
        line(0, false),
        "{\"custom_id\": \"broken\", ".to_string(),
        json!({"method": "POST", "body": {"messages": [{"role": "user", "content": "x"}]}}).to_string(),
        line(0, false),
        json!({"custom_id": "hot", "body": {"messages": [{"role": "user", "content": "x"}], "temperature": 9}})
            .to_string(),
        String::new(),
        json!({"custom_id": "who", "body": {"messages": [{"role": "wizard", "content": "x"}]}}).to_string(),
        line(7, false),
    ];
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let output = dir.join("output.jsonl");

    let out = run(&mut mock.batch(&input, &output, &[]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for needle in [
        "input.jsonl:2: not JSON",
        "input.jsonl:3: no `custom_id`",
        "input.jsonl:4: custom_id \"q0\": repeats the custom_id of line 1",
        "input.jsonl:5: custom_id \"hot\": body: invalid request: `temperature` is 9",
        "input.jsonl:7: custom_id \"who\": body: invalid request: `messages[0]",
        "5 invalid lines",
        "nothing was sent",
    ] {
        assert!(stderr.contains(needle), "{needle:?} missing from:\n{stderr}");
    }
    assert_eq!(mock.requests(), 0, "nothing may be sent");
    assert!(!output.exists(), "no output file for a refused run");

    // --skip-invalid runs the rest: a repeated id leaves out every line with it.
    let out = run(&mut mock.batch(&input, &output, &["--skip-invalid"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got = answers(&output);
    assert_eq!(got.keys().collect::<Vec<_>>(), ["q7"]);
    assert_eq!(mock.requests(), 1);
}

#[test]
fn a_storm_of_429s_and_cut_streams_still_answers_every_line() {
    let mock = Mock::start();
    for _ in 0..6 {
        mock.server.script(Fault::rate_limited(1));
    }
    for _ in 0..4 {
        mock.server.script(Fault::cut(Cut::AfterChunks(2)));
    }
    let dir = scratch("storm");
    let input = write_input(&dir, 24, |_| true);
    let output = dir.join("output.jsonl");
    let summary_path = dir.join("summary.json");
    let started = Instant::now();
    let out = run(mock
        .batch(&input, &output, &["-j", "4", "--max-retries", "10", "--summary"])
        .arg(&summary_path));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_complete(&answers(&output), 24);
    assert_eq!(mock.server.pending_faults(), 0);
    assert_eq!(mock.requests(), 24 + 6 + 4, "each fault cost exactly one retry");
    let s = summary(&summary_path);
    assert_eq!(s["succeeded"], 24);
    assert_eq!(s["rate_limited"], 6);
    assert_eq!(s["retries"], 10);
    assert!(s["tokens"]["total"].as_u64().unwrap() > 0, "{s}");
    assert!(s["credits"].as_f64().unwrap() > 0.0, "{s}");
    // Retry-After: 1 paused the batch at least once.
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(stderr.contains("batch done: 24 succeeded, 0 failed of 24"), "{stderr}");
}

#[test]
fn a_request_that_keeps_failing_is_an_error_line_and_the_batch_goes_on() {
    let mock = Mock::start();
    let dir = scratch("fails");
    let input = write_input(&dir, 6, |_| false);
    let output = dir.join("output.jsonl");
    // The first request gets 500s until its retries are spent.
    for _ in 0..3 {
        mock.server
            .script(Fault::status(maverick_mock::http::StatusCode::INTERNAL_SERVER_ERROR));
    }
    let out = run(&mut mock.batch(&input, &output, &["-j", "1", "--max-retries", "2"]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let got = answers(&output);
    assert_eq!(got.len(), 6);
    let failed: Vec<&Value> = got.values().filter(|a| !a["error"].is_null()).collect();
    assert_eq!(failed.len(), 1, "{got:?}");
    assert_eq!(failed[0]["response"]["status_code"], 500);
    assert_eq!(failed[0]["error"]["code"], "server_error");
    assert!(failed[0]["error"]["message"].as_str().unwrap().contains("500"));
    // A rerun does not retry what was answered, failures included.
    let out = run(&mut mock.batch(&input, &output, &[]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(answers(&output).len(), 6);
    assert_eq!(mock.requests(), 8);
}

#[test]
fn rpm_spreads_the_requests_out() {
    let mock = Mock::start();
    let dir = scratch("rpm");
    let input = write_input(&dir, 6, |_| false);
    let output = dir.join("output.jsonl");
    let started = Instant::now();
    // 300 a minute: one every 200 ms, so six take at least a second.
    let out = run(&mut mock.batch(&input, &output, &["-j", "6", "--rpm", "300"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    assert_complete(&answers(&output), 6);
}

#[test]
fn tpm_books_each_request_before_it_is_sent() {
    let mock = Mock::start();
    let dir = scratch("tpm");
    let input = write_input(&dir, 3, |_| false);
    let output = dir.join("output.jsonl");
    let started = Instant::now();
    // Each line is booked at about 10 prompt + 4 completion tokens; 600 a
    // minute is 10 a second, so the third starts after about 2.8 s.
    let out = run(&mut mock.batch(&input, &output, &["-j", "3", "--tpm", "600"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        started.elapsed() >= Duration::from_millis(2000),
        "{:?}",
        started.elapsed()
    );
    assert_complete(&answers(&output), 3);
}

/// Starts a batch of `total` lines, each answered after `delay`, and
/// waits until `lines` are written.
fn start_slow(mock: &Mock, dir: &Path, total: usize, delay: Duration, lines: usize) -> (Child, PathBuf, PathBuf) {
    for _ in 0..total {
        mock.server.script(Fault::delayed(delay));
    }
    start(mock, dir, total, lines)
}

fn start(mock: &Mock, dir: &Path, total: usize, lines: usize) -> (Child, PathBuf, PathBuf) {
    let input = write_input(dir, total, |i| i % 2 == 0);
    let output = dir.join("output.jsonl");
    let child = mock
        .batch(&input, &output, &["-j", "4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(&output).map_or(0, |c| c.lines().count()) < lines {
        assert!(Instant::now() < deadline, "the batch never got going");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, input, output)
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn sigkill_midway_then_a_restart_answers_every_id_exactly_once() {
    let mock = Mock::start();
    let dir = scratch("sigkill");
    let (mut child, input, output) = start_slow(&mock, &dir, 60, Duration::from_millis(100), 10);
    signal(&child, "-KILL");
    let _ = child.wait();
    let before = answers(&output).len();
    assert!((10..60).contains(&before), "{before}");
    // What a kill in the middle of a write leaves: half a line.
    let mut file = std::fs::OpenOptions::new().append(true).open(&output).unwrap();
    file.write_all(b"{\"id\":\"batch_req_x\",\"custom_id\":\"q59\",\"respo")
        .unwrap();
    drop(file);
    let sent_before = mock.requests();

    let out = run(&mut mock.batch(&input, &output, &["-j", "8"]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("cut short"), "{stderr}");
    assert!(stderr.contains(&format!("{before} answered before")), "{stderr}");
    assert_complete(&answers(&output), 60);
    assert_eq!(
        mock.requests() - sent_before,
        60 - before,
        "only the unanswered were sent"
    );
}

#[test]
fn ctrl_c_finishes_the_calls_in_flight_and_leaves_whole_lines() {
    let mock = Mock::start();
    let dir = scratch("sigint");
    let (child, input, output) = start_slow(&mock, &dir, 60, Duration::from_millis(150), 8);
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("stopping"), "{stderr}");
    assert!(stderr.contains("batch interrupted"), "{stderr}");
    // Every call sent was answered and written: none is lost, none half-written.
    let written = answers(&output).len();
    assert!(written < 60, "{written}");
    assert_eq!(mock.requests(), written, "every request sent has its line");

    let out = run(&mut mock.batch(&input, &output, &[]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_complete(&answers(&output), 60);
    assert_eq!(mock.requests(), 60);
}

#[test]
fn a_second_ctrl_c_abandons_the_calls_in_flight() {
    let mock = Mock::start();
    let dir = scratch("sigint2");
    // Two quick answers, then the rest hang for a long time: two Ctrl-Cs
    // must not wait for them.
    for _ in 0..2 {
        mock.server.script(Fault::delayed(Duration::from_millis(10)));
    }
    for _ in 0..10 {
        mock.server.script(Fault::delayed(Duration::from_secs(30)));
    }
    let (child, _, output) = start(&mock, &dir, 12, 1);
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(text(&out.stderr).contains("abandoned"), "{}", text(&out.stderr));
    let written = answers(&output).len();
    assert!((1..=2).contains(&written), "{written}");
}

#[test]
fn three_shards_merged_equal_one_unsharded_run() {
    let mock = Mock::start();
    let dir = scratch("shards");
    let input = write_input(&dir, 30, |i| i % 4 == 0);
    let whole = dir.join("whole.jsonl");
    let out = run(&mut mock.batch(&input, &whole, &[]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let mut parts = Vec::new();
    for k in 1..=3 {
        let part = dir.join(format!("part{k}.jsonl"));
        let out = run(&mut mock.batch(&input, &part, &["--shard", &format!("{k}/3")]));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let got = answers(&part);
        assert!(!got.is_empty() && got.len() < 30, "shard {k}: {}", got.len());
        parts.push(part);
    }
    let merged = dir.join("merged.jsonl");
    let merge = |shards: &[&PathBuf], with_input: bool| {
        let mut cmd = maverick();
        cmd.args(["batch", "merge"]).args(shards).arg("-o").arg(&merged);
        if with_input {
            cmd.arg("--input").arg(&input);
        }
        run(&mut cmd)
    };
    let out = merge(&parts.iter().collect::<Vec<_>>(), true);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let by_id = |path: &Path| -> HashMap<String, String> {
        answers(path)
            .into_iter()
            .map(|(id, a)| (id, content(&a).to_string()))
            .collect()
    };
    assert_eq!(by_id(&merged), by_id(&whole));
    assert_complete(&answers(&merged), 30);

    // A shard given twice, or one left out, is refused and nothing written.
    std::fs::remove_file(&merged).unwrap();
    let out = merge(&[&parts[0], &parts[0], &parts[1], &parts[2]], true);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is already answered at"),
        "{}",
        text(&out.stderr)
    );
    let out = merge(&[&parts[0], &parts[1]], true);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("has no answer in any shard"),
        "{}",
        text(&out.stderr)
    );
    assert!(!merged.exists());
}

#[test]
fn off_a_terminal_progress_is_a_plain_line_every_few_seconds_then_a_summary() {
    let mock = Mock::start();
    let dir = scratch("progress");
    // Eight answers of 800 ms, one at a time: over six seconds.
    for _ in 0..8 {
        mock.server.script(Fault::delayed(Duration::from_millis(800)));
    }
    let input = write_input(&dir, 8, |_| false);
    let output = dir.join("output.jsonl");
    let out = run(&mut mock.batch(&input, &output, &["-j", "1"]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let status: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("maverick: batch ") && l.contains("/8 · "))
        .collect();
    assert!(!status.is_empty(), "no status line in:\n{stderr}");
    for line in &status {
        for part in ["error", "req/s", "tok/s", "credits", "$"] {
            assert!(line.contains(part), "{part:?} missing from {line}");
        }
        assert!(!line.contains('\r') && !line.contains('\x1b'), "{line:?}");
    }
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with("maverick: batch done: 8 succeeded, 0 failed of 8"),
        "{last}"
    );
}

#[test]
fn on_a_terminal_progress_is_a_bar_redrawn_in_place() {
    // `script` (util-linux) gives the command a terminal.
    if Command::new("script").arg("--version").output().is_err() {
        println!("SKIPPED: `script` (util-linux) is not installed, so no terminal can be given");
        return;
    }
    let mock = Mock::start();
    let dir = scratch("bar");
    for _ in 0..6 {
        mock.server.script(Fault::delayed(Duration::from_millis(300)));
    }
    let input = write_input(&dir, 6, |_| false);
    let output = dir.join("output.jsonl");
    let command = format!(
        "{} batch {} -o {} -j 1 --base-url {}",
        env!("CARGO_BIN_EXE_maverick"),
        input.display(),
        output.display(),
        mock.server.base_url()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &command, "/dev/null"]);
    for var in ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.env("AIML_API_KEY", "batch-test")
        .env("XDG_CONFIG_HOME", scratch("no-config-bar"));
    let out = run(&mut cmd);
    let screen = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{screen}");
    let frames: Vec<&str> = screen.split("\r\x1b[2K").filter(|f| f.starts_with('[')).collect();
    assert!(frames.len() >= 3, "the bar was not redrawn: {screen:?}");
    assert!(
        frames
            .iter()
            .any(|f| f.contains("/6 · 0 errors · ") && f.contains("req/s") && f.contains("ETA")),
        "{frames:?}"
    );
    assert!(
        frames.iter().any(|f| f.starts_with("[#")),
        "the bar never filled: {frames:?}"
    );
    assert!(screen.contains("maverick: batch done: 6 succeeded"), "{screen:?}");
    assert_complete(&answers(&output), 6);
}
