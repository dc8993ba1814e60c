//! The validating, recording proxy end to end: real transcripts served byte
//! for byte behind it, the contract mock with faults behind it, recording
//! then replaying to the same `maverick` client, and no secret in any
//! cassette.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use maverick::{ChatRequest, Client, StreamAccumulator};
use maverick_mock::{Fault, Level, MockServer, Part, Proxy, Verdict};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const SECRET: &str = "sk-live-THIS-MUST-NEVER-BE-RECORDED-42";

fn transcripts() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/transcripts");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "SKIPPED: {} is absent (real transcripts live in ../shared)",
            dir.display()
        );
        None
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("maverick-proxy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// One HTTP answer as an upstream writes it: head, then body pieces with a
/// pause before each.
#[derive(Clone)]
struct Canned {
    head: String,
    pieces: Vec<(Duration, Vec<u8>)>,
}

impl Canned {
    /// A transcript file: `.http` files carry their own status and headers
    /// (framing headers are replaced, the body is written as captured);
    /// `.body` files are a 200 of the given type.
    fn transcript(path: &Path) -> Canned {
        let raw = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".body") {
            let kind = if raw.starts_with(b"data:") {
                "text/event-stream"
            } else {
                "application/json"
            };
            return Canned::new(200, &[("content-type", kind)], raw);
        }
        let end = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, 4));
        let (end, sep) = end
            .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)))
            .unwrap();
        let head = String::from_utf8_lossy(&raw[..end]).to_string();
        let mut lines = head.lines();
        let status_line = lines.next().unwrap().to_string();
        let mut out = format!("{status_line}\r\n");
        for line in lines {
            let name = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
            if !["content-length", "transfer-encoding", "keep-alive", "connection"].contains(&name.as_str()) {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
        out.push_str("connection: close\r\n\r\n");
        Canned {
            head: out,
            pieces: vec![(Duration::ZERO, raw[end + sep..].to_vec())],
        }
    }

    fn new(status: u16, headers: &[(&str, &str)], body: Vec<u8>) -> Canned {
        let mut head = format!("HTTP/1.1 {status} X\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("connection: close\r\n\r\n");
        Canned {
            head,
            pieces: vec![(Duration::ZERO, body)],
        }
    }
}

/// Serves `canned` to every request (closing after each), reading the
/// request fully first. Returns the base URL.
async fn upstream(canned: Canned) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let canned = canned.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                let mut buf = [0u8; 8192];
                loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                    if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&got[..end]).to_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse().unwrap());
                        if got.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let _ = socket.write_all(canned.head.as_bytes()).await;
                for (pause, piece) in canned.pieces {
                    tokio::time::sleep(pause).await;
                    let _ = socket.write_all(&piece).await;
                    let _ = socket.flush().await;
                }
            });
        }
    });
    format!("http://{addr}")
}

fn client(base: String) -> Client {
    Client::builder()
        .api_key(SECRET)
        .base_url(base)
        .max_retries(0)
        .build()
        .unwrap()
}

/// POSTs the usual one-message request to `base`'s chat path.
async fn send_hello(base: &str) -> reqwest::Response {
    common::http()
        .post(format!("{base}/chat/completions"))
        .body(common::hello().to_string())
        .send()
        .await
        .unwrap()
}

async fn proxy_to(upstream: &str) -> Proxy {
    Proxy::builder().upstream(upstream).start().await.unwrap()
}

fn groups(report: &maverick_mock::DriftReport, level: Level) -> Vec<(Part, String, String, u64)> {
    report
        .groups()
        .filter(|g| g.level == level)
        .map(|g| (g.part, g.pointer.clone(), g.rule.clone(), g.count))
        .collect()
}

#[tokio::test]
async fn llama_cpp_nulls_depart_from_the_published_document_but_not_the_normalised_one() {
    let Some(dir) = transcripts() else { return };
    let up = upstream(Canned::transcript(&dir.join("llama-cpp-stream-text.http"))).await;
    let proxy = proxy_to(&up).await;
    let mut stream = client(proxy.base_url())
        .chat_stream(ChatRequest::user_prompt("Hello").max_tokens(6))
        .await
        .unwrap();
    let mut all = StreamAccumulator::new();
    while let Some(chunk) = stream.next().await {
        all.push(&chunk.unwrap());
    }
    let reply = all.finish().unwrap();
    assert!(reply.usage().is_some(), "the usage chunk came through");

    let report = proxy.report();
    println!("{}", report.to_text());
    assert_eq!(report.exchanges(), 1);
    let published = groups(&report, Level::Published);
    let normalised = groups(&report, Level::Normalised);
    assert!(normalised.is_empty(), "the client copes with llama.cpp: {normalised:?}");
    let at = |pointer: &str| {
        published
            .iter()
            .any(|(part, p, _, _)| *part == Part::Chunk && p == pointer)
    };
    assert!(
        at("/choices/0/delta/content"),
        "content: null is reported: {published:?}"
    );
    assert!(
        at("/choices/0/finish_reason"),
        "finish_reason: null is reported: {published:?}"
    );
    assert_eq!(report.verdict(), Verdict::DepartsFromPublished);
    assert_eq!(report.verdict().exit_code(), 4);

    let json = report.to_json();
    assert_eq!(json["format"], "maverick-drift-report/1");
    assert_eq!(json["verdict"], "departs_from_published");
    let first = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["pointer"] == "/choices/0/finish_reason")
        .unwrap();
    assert_eq!(first["level"], "published");
    assert_eq!(first["first"]["seen"], "null");
    assert!(first["count"].as_u64().unwrap() >= 6, "{first}");
    assert!(report.to_text().contains("/choices/0/finish_reason"));
}

#[tokio::test]
async fn no_real_transcript_would_break_the_client() {
    let Some(dir) = transcripts() else { return };
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "http" || x == "body"))
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for path in names {
        let canned = Canned::transcript(&path);
        let streamed = canned.head.to_lowercase().contains("text/event-stream");
        let up = upstream(canned).await;
        let proxy = proxy_to(&up).await;
        let mut request = ChatRequest::user_prompt("Hello").max_tokens(6);
        let c = client(proxy.base_url());
        if streamed {
            request = request.include_usage(true);
            c.chat_stream(request).await.unwrap().into_response().await.unwrap();
        } else {
            c.chat(request).await.unwrap();
        }
        let report = proxy.shutdown().await;
        assert_eq!(report.exchanges(), 1, "{}", path.display());
        assert_ne!(
            report.verdict(),
            Verdict::ClientWouldBreak,
            "{}: {}",
            path.display(),
            report.to_text()
        );
    }
}

#[tokio::test]
async fn events_are_passed_on_as_they_arrive_not_when_the_stream_ends() {
    let first = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n".to_vec();
    let rest = b"data: [DONE]\n\n".to_vec();
    let mut canned = Canned::new(200, &[("content-type", "text/event-stream")], first);
    canned.pieces.push((Duration::from_millis(1500), rest));
    let up = upstream(canned).await;
    let proxy = proxy_to(&up).await;
    let started = Instant::now();
    let res = send_hello(&proxy.base_url()).await;
    let mut body = res.bytes_stream();
    let piece = body.next().await.unwrap().unwrap();
    let first_at = started.elapsed();
    assert!(piece.starts_with(b"data: {"), "{piece:?}");
    assert!(
        first_at < Duration::from_millis(1000),
        "the first event waited for the stream: {first_at:?}"
    );
    while body.next().await.is_some() {}
    assert!(started.elapsed() >= Duration::from_millis(1500));
}

#[tokio::test]
async fn faults_of_the_mock_show_in_the_report() {
    let mock = MockServer::start().await.unwrap();
    let proxy = proxy_to(&mock.base_url()).await;
    let c = Client::builder()
        .api_key(SECRET)
        .base_url(proxy.base_url())
        .max_retries(1)
        .build()
        .unwrap();

    // A 429 passes through with its Retry-After; the client's retry succeeds.
    mock.script(Fault::rate_limited(0));
    let reply = c.chat(ChatRequest::user_prompt("Hello").max_tokens(4)).await.unwrap();
    assert_eq!(reply.meta.attempts, 2);
    // A stream cut after two events is a break the client would see.
    mock.script(Fault::cut(maverick_mock::Cut::AfterChunks(2)));
    let cut = c
        .chat_stream(ChatRequest::user_prompt("Hello").max_tokens(8))
        .await
        .unwrap()
        .into_response()
        .await;
    assert!(cut.is_err(), "the cut reached the client");

    let report = proxy.report();
    let json = report.to_json();
    assert_eq!(json["exchanges"], 3, "{json}");
    assert_eq!(json["upstream_errors"], 1, "{json}");
    let normalised = groups(&report, Level::Normalised);
    assert_eq!(
        normalised,
        vec![(Part::Framing, String::new(), "complete".to_string(), 1)],
        "only the cut breaks the client: {}",
        report.to_text()
    );
    assert_eq!(report.verdict(), Verdict::ClientWouldBreak);

    // The live report endpoint says the same, as JSON and as text.
    let live: Value = common::http()
        .get(format!("http://{}/_proxy/report", proxy.addr()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(live["verdict"], "client_would_break");
    let text = common::http()
        .get(format!("http://{}/_proxy/report?format=text", proxy.addr()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("framing / [complete] x1"), "{text}");
}

#[tokio::test]
async fn a_request_that_breaks_the_contract_is_reported_and_still_forwarded() {
    let mock = MockServer::start().await.unwrap();
    let proxy = proxy_to(&mock.base_url()).await;
    let send = |body: String| {
        common::http()
            .post(format!("{}/chat/completions", proxy.base_url()))
            .header("authorization", "Bearer k")
            .body(body)
            .send()
    };
    // The mock's own 400 comes back untouched: the proxy observes, it does not judge.
    let res = send("not json".into()).await.unwrap();
    assert_eq!(res.status(), 400);
    let res = send(json!({"model": "meta-llama/llama-4-maverick", "messages": [], "temperature": 9}).to_string())
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let report = proxy.report();
    let normalised = groups(&report, Level::Normalised);
    assert!(
        normalised.contains(&(Part::Request, String::new(), "json".into(), 1)),
        "{normalised:?}"
    );
    assert!(
        normalised
            .iter()
            .any(|(part, p, _, _)| *part == Part::Request && p == "/temperature"),
        "{normalised:?}"
    );
    assert_eq!(report.to_json()["upstream_errors"], 2);
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_provider_shaped_502() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let proxy = proxy_to(&dead).await;
    let (status, _, body) = {
        let res = send_hello(&proxy.base_url()).await;
        (res.status().as_u16(), (), res.text().await.unwrap())
    };
    assert_eq!(status, 502);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["statusCode"], 502);
    assert!(body["message"].as_str().unwrap().contains("did not answer"), "{body}");
}

/// What a client saw, in a form two runs can compare.
async fn session(c: &Client) -> Vec<Value> {
    let mut seen = Vec::new();
    let reply = c.chat(ChatRequest::user_prompt("Hello").max_tokens(6)).await.unwrap();
    seen.push(reply.raw_json().unwrap());
    let streamed = c
        .chat_stream(
            ChatRequest::user_prompt("Tell me more")
                .max_tokens(8)
                .include_usage(true),
        )
        .await
        .unwrap()
        .into_response()
        .await
        .unwrap();
    seen.push(
        json!({"text": streamed.text(), "id": streamed.completion.id, "usage": format!("{:?}", streamed.usage())}),
    );
    let tool = maverick::Tool::from_schema(
        "get_weather",
        Some("Weather for a city".into()),
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
    .unwrap();
    let called = c
        .chat(
            ChatRequest::user_prompt("Weather in Paris?")
                .tool(tool)
                .tool_choice(maverick::ToolChoice::Required),
        )
        .await
        .unwrap();
    assert_eq!(called.tool_calls().len(), 1);
    seen.push(called.raw_json().unwrap());
    seen
}

#[tokio::test]
async fn record_then_replay_gives_the_same_answers_and_keeps_no_secret() {
    let dir = scratch("record");
    // Seeded: a replaying mock (seed 0) that generated answers instead of
    // serving the cassettes would answer differently.
    let mock = MockServer::builder().seed(7).start().await.unwrap();
    let proxy = Proxy::builder()
        .upstream(mock.base_url())
        .record(&dir)
        .redact("x-team-token")
        .start()
        .await
        .unwrap();
    let recorded = session(&client(proxy.base_url())).await;
    // A request carrying a header the user asked to redact.
    let res = common::http()
        .post(format!("{}/chat/completions", proxy.base_url()))
        .header("authorization", format!("Bearer {SECRET}"))
        .header("x-team-token", "team-secret-value")
        .header("content-type", "application/json")
        .body(json!({"model": "meta-llama/llama-4-maverick", "messages": [{"role": "user", "content": "redact me"}], "user": "run-1"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let direct_redacted: Value = res.json().await.unwrap();
    let report = proxy.shutdown().await;
    assert!(report.exchanges() >= 3);

    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(
        files.len() as u64,
        report.exchanges(),
        "one cassette per exchange: {files:?}"
    );
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(!text.contains(SECRET), "{} holds the key", f.display());
        assert!(
            !text.contains("team-secret-value"),
            "{} holds a redacted header",
            f.display()
        );
        assert!(!text.to_lowercase().contains("authorization"), "{}", f.display());
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let (hash, n) = name.trim_end_matches(".json").split_once('-').unwrap();
        assert_eq!(hash.len(), 16, "{name}");
        assert_eq!(n, "1", "{name}");
        let cassette: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(cassette["format"], "maverick-cassette/1");
    }

    // Offline: the same client, the same requests, the same answers.
    let replay = MockServer::builder()
        .replay(&dir)
        .replay_speed(0.0)
        .start()
        .await
        .unwrap();
    let replayed = session(&client(replay.base_url())).await;
    assert_eq!(recorded, replayed);

    // `user` is volatile: another run id still matches.
    let res = common::http()
        .post(format!("{}/chat/completions", replay.base_url()))
        .header("content-type", "application/json")
        .body(json!({"model": "meta-llama/llama-4-maverick", "messages": [{"role": "user", "content": "redact me"}], "user": "run-2"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), direct_redacted);

    // A request nothing matches names the nearest cassette and the difference.
    let err = client(replay.base_url())
        .chat(ChatRequest::user_prompt("Hellp").max_tokens(6))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("404"), "{text}");
    assert!(
        text.contains("/messages/0/content (recorded \"Hello\", got \"Hellp\")"),
        "{text}"
    );
    assert!(text.contains(".json"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn replay_keeps_the_recorded_pace_unless_told_otherwise() {
    let dir = scratch("pace");
    std::fs::create_dir_all(&dir).unwrap();
    let cassette = json!({
        "format": "maverick-cassette/1",
        "request": {"method": "POST", "path": "/v1/chat/completions", "headers": {}, "body": common::hello()},
        "response": {"status": 200, "headers": {"content-type": "text/event-stream"}, "complete": true, "events": [
            {"at_ms": 0, "data": {"choices": [{"index": 0, "delta": {"content": "a"}}]}},
            {"at_ms": 600, "data": {"choices": [{"index": 0, "delta": {"content": "b"}}]}},
            {"at_ms": 600, "text": "[DONE]"}
        ]}
    });
    std::fs::write(dir.join("0000000000000000-1.json"), cassette.to_string()).unwrap();
    for (speed, slow) in [(1.0, true), (0.0, false)] {
        let mock = MockServer::builder()
            .replay(&dir)
            .replay_speed(speed)
            .start()
            .await
            .unwrap();
        let started = Instant::now();
        let (status, _, text) = common::post(&mock, &common::hello()).await;
        let took = started.elapsed();
        assert_eq!(status, 200);
        let (events, done) = common::events(&text);
        assert_eq!(events.len(), 2);
        assert!(done);
        assert_eq!(took >= Duration::from_millis(550), slow, "speed {speed}: {took:?}");
    }
    let bad = MockServer::builder().replay(&dir).replay_speed(-1.0).start().await;
    assert!(bad.unwrap_err().to_string().contains("replay speed"));
    let missing = MockServer::builder().replay(dir.join("nope")).start().await;
    assert!(missing
        .unwrap_err()
        .to_string()
        .contains("cannot read the cassette directory"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn replay_cuts_where_the_recording_broke_off_and_matching_is_configurable() {
    let dir = scratch("cut");
    std::fs::create_dir_all(&dir).unwrap();
    let mut body = common::hello();
    body["user"] = json!("run-1");
    let cassette = json!({
        "format": "maverick-cassette/1",
        "request": {"method": "POST", "path": "/v1/chat/completions", "headers": {}, "body": body},
        "response": {"status": 200, "headers": {"content-type": "text/event-stream"}, "complete": false, "events": [
            {"at_ms": 0, "data": {"choices": [{"index": 0, "delta": {"content": "a"}}]}}
        ]}
    });
    std::fs::write(dir.join("0000000000000000-1.json"), cassette.to_string()).unwrap();
    let mock = MockServer::builder()
        .replay(&dir)
        .replay_speed(0.0)
        .start()
        .await
        .unwrap();
    let res = send_hello(&mock.base_url()).await;
    assert_eq!(res.status(), 200, "user is volatile by default");
    assert!(res.text().await.is_err(), "the replayed stream breaks off as recorded");

    // With nothing volatile, `user` must match too.
    let strict = MockServer::builder()
        .replay(&dir)
        .replay_volatile(Vec::<String>::new())
        .start()
        .await
        .unwrap();
    let (status, _, text) = common::post(&strict, &common::hello()).await;
    assert_eq!(status, 404);
    let err: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(err["statusCode"], 404);
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("0000000000000000-1.json"), "{message}");
    assert!(message.contains("/user (recorded \"run-1\", absent now)"), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn what_passes_through_is_byte_for_byte_what_the_host_sent() {
    let Some(dir) = transcripts() else { return };
    for name in [
        "llama-cpp-stream-text.http",
        "litellm-stream-text.http",
        "llama-cpp-stream-tool-call.body",
        "llama-cpp-nonstream.http",
    ] {
        let canned = Canned::transcript(&dir.join(name));
        let sent: Vec<u8> = canned.pieces.iter().flat_map(|(_, p)| p.clone()).collect();
        let up = upstream(canned).await;
        let proxy = proxy_to(&up).await;
        let res = send_hello(&proxy.base_url()).await;
        assert_eq!(res.status(), 200, "{name}");
        let got = res.bytes().await.unwrap();
        assert_eq!(&got[..], &sent[..], "{name}");
    }
}
