//! Streaming against the loopback server: real transcripts split at every
//! byte, in-stream errors, truncation, keep-alives, timeouts, retries and
//! cancellation.

mod support;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use maverick::{ChatRequest, ChatResponse, ChatStream, Error, StreamAccumulator, TimeoutKind};
use support::{client_for, shared_dir, Body, Loopback, Reply};

const STREAM_FIXTURES: [&str; 3] = [
    "llama-cpp-stream-text.http",
    "llama-cpp-stream-tool-call.body",
    "litellm-stream-text.http",
];

/// The body of a transcript: after the header block for `.http`, all of a `.body`.
fn fixture_body(dir: &std::path::Path, name: &str) -> Vec<u8> {
    let raw = std::fs::read(dir.join("fixtures/transcripts").join(name)).unwrap();
    if !name.ends_with(".http") {
        return raw;
    }
    for sep in [&b"\r\n\r\n"[..], b"\n\n"] {
        if let Some(i) = raw.windows(sep.len()).position(|w| w == sep) {
            return raw[i + sep.len()..].to_vec();
        }
    }
    panic!("{name} has no header block");
}

fn chunk_json(choices: serde_json::Value) -> String {
    let v = serde_json::json!({"id": "c9", "object": "chat.completion.chunk", "created": 7, "model": "m", "choices": choices});
    format!("data: {v}\n\n")
}

fn text_chunk(text: &str) -> String {
    chunk_json(serde_json::json!([{"index": 0, "delta": {"content": text}}]))
}

async fn sse_server(pieces: Vec<Vec<u8>>) -> Loopback {
    Loopback::always(Reply::sse_pieces(pieces)).await
}

async fn start(server: &Loopback) -> ChatStream {
    let client = client_for(server).build().unwrap();
    client.chat_stream(ChatRequest::user_prompt("hi")).await.unwrap()
}

async fn items(stream: ChatStream) -> Vec<Result<maverick::ChatChunk, Error>> {
    StreamExt::collect::<Vec<_>>(stream).await
}

/// Serves `pieces` as one stream and collects it, headers left out.
async fn replay(pieces: Vec<Vec<u8>>) -> ChatResponse {
    let server = sse_server(pieces).await;
    let client = client_for(&server).build().unwrap();
    let stream = client.chat_stream(ChatRequest::user_prompt("hi")).await.unwrap();
    let mut r = stream.into_response().await.unwrap();
    r.meta = Default::default();
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcripts_give_the_same_response_at_every_split_point() {
    let Some(dir) = shared_dir("stream transcript replay") else {
        return;
    };
    for name in STREAM_FIXTURES {
        let body = fixture_body(&dir, name);
        // The request id names the split point, so requests can run
        // concurrently: each piece costs the server a timer tick and the
        // small writes meet delayed ACKs, which would make a serial replay
        // of thousands of splits take minutes.
        let served = body.clone();
        let server = Loopback::start(move |req, _| {
            let id = req.header("x-client-request-id").unwrap_or_default();
            match id.strip_prefix("split-").and_then(|i| i.parse::<usize>().ok()) {
                Some(i) => Reply::sse_pieces(vec![served[..i].to_vec(), served[i..].to_vec()]),
                None => Reply::sse_pieces(vec![served.clone()]),
            }
        })
        .await;
        let client = client_for(&server).build().unwrap();
        let whole = client
            .chat_stream(ChatRequest::user_prompt("hi"))
            .await
            .unwrap()
            .into_response()
            .await
            .unwrap();
        check_fixture(name, &whole);
        let mut expected = whole.clone();
        expected.meta = Default::default();
        let runs = futures_util::stream::iter(0..=body.len()).map(|i| {
            let client = client.clone();
            async move {
                let options = maverick::CallOptions::default().request_id(format!("split-{i}"));
                let stream = client
                    .chat_stream_with(ChatRequest::user_prompt("hi"), options)
                    .await
                    .unwrap();
                let mut r = stream.into_response().await.unwrap();
                r.meta = Default::default();
                (i, r)
            }
        });
        let mut results: Vec<(usize, ChatResponse)> = runs.buffer_unordered(256).collect().await;
        assert_eq!(results.len(), body.len() + 1);
        results.sort_by_key(|(i, _)| *i);
        for (i, r) in results {
            assert_eq!(r, expected, "{name} split at byte {i}");
        }
        assert_eq!(server.requests().len(), body.len() + 2);
    }
}

/// What each transcript is known to contain.
fn check_fixture(name: &str, r: &ChatResponse) {
    assert_eq!(r.meta.status, 200);
    match name {
        "llama-cpp-stream-text.http" => {
            assert_eq!(r.text(), Some("\n\n\n\n\n\n"));
            assert_eq!(r.finish_reason(), Some(maverick::FinishReason::Length));
            assert_eq!(r.usage().unwrap().total_tokens, 36);
            assert_eq!(r.completion.id, "chatcmpl-nM4VQeIG3hdoB0VM1NbJjRexfioQbv17");
        }
        "llama-cpp-stream-tool-call.body" => {
            let calls = r.tool_calls();
            assert_eq!(calls.len(), 1, "{calls:?}");
            assert_eq!(
                (calls[0].id.as_str(), calls[0].name.as_str()),
                ("GqnCj6G7L05tcYfvAf7IaPr9MkIkvhug", "get_weather")
            );
            let args: serde_json::Value = serde_json::from_str(&calls[0].arguments).unwrap();
            assert!(args.get("city").is_some(), "{args}");
            assert_eq!(r.finish_reason(), Some(maverick::FinishReason::ToolCalls));
            assert_eq!(r.text(), None);
        }
        "litellm-stream-text.http" => {
            assert!(
                r.text().unwrap().starts_with("Hello from the LiteLLM mock"),
                "{:?}",
                r.text()
            );
            assert!(r.usage().is_some());
        }
        other => panic!("unknown fixture {other}"),
    }
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 48, ..Default::default() })]
    #[test]
    fn transcripts_survive_random_splits(cuts in proptest::collection::vec(0.0f64..1.0, 0..12), which in 0usize..3) {
        let Some(dir) = shared_dir("stream transcript random splits") else { return Ok(()) };
        let body = fixture_body(&dir, STREAM_FIXTURES[which]);
        let mut points: Vec<usize> = cuts.iter().map(|c| (c * body.len() as f64) as usize).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut last = 0;
        for p in points.into_iter().chain([body.len()]) {
            pieces.push(body[last..p].to_vec());
            last = p;
        }
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (whole, split) = rt.block_on(async { (replay(vec![body.clone()]).await, replay(pieces).await) });
        proptest::prop_assert_eq!(whole, split);
    }
}

#[tokio::test]
async fn request_asks_for_an_event_stream_with_usage() {
    let server = sse_server(vec![text_chunk("a").into_bytes(), b"data: [DONE]\n\n".to_vec()]).await;
    let client = client_for(&server).build().unwrap();
    let stream = client
        .chat_stream(ChatRequest::user_prompt("hi").include_usage(true))
        .await
        .unwrap();
    let request_id = stream.meta().request_id.clone();
    assert_eq!(stream.into_response().await.unwrap().text(), Some("a"));
    let r = &server.requests()[0];
    assert_eq!(r.header("accept"), Some("text/event-stream"));
    assert_eq!(r.header("authorization"), Some("Bearer sk-test-SECRET-0123456789"));
    assert_eq!(r.header("x-client-request-id"), Some(request_id.as_str()));
    let body = r.json();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn usage_chunk_and_provider_meta_are_kept() {
    let last = serde_json::json!({"id": "c9", "object": "chat.completion.chunk", "created": 7, "model": "m", "choices": [],
        "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6},
        "meta": {"usage": {"credits_used": 42, "usd_spent": 0.000021}}});
    let server = sse_server(vec![
        text_chunk("Hi").into_bytes(),
        format!("data: {last}\n\ndata: [DONE]\n\n").into_bytes(),
    ])
    .await;
    let mut stream = start(&server).await;
    let mut seen = Vec::new();
    while let Some(c) = stream.next().await {
        seen.push(c.unwrap());
    }
    assert_eq!(seen.len(), 2, "the usage chunk is yielded too");
    assert!(seen[1].raw().contains(r#""choices":[]"#), "{}", seen[1].raw());
    assert_eq!(stream.usage().unwrap().total_tokens, 6);
    assert_eq!(stream.provider_meta().unwrap()["usage"]["credits_used"], 42);

    let mut stream = start(&server).await;
    let mut acc = StreamAccumulator::new();
    stream.collect_into(&mut acc).await.unwrap();
    assert_eq!(stream.provider_meta().unwrap()["usage"]["usd_spent"], 0.000021);
    assert_eq!(acc.provider_meta(), stream.provider_meta());
    let r = acc.finish().unwrap();
    assert_eq!((r.text(), r.usage().unwrap().prompt_tokens), (Some("Hi"), 4));
}

#[tokio::test]
async fn text_stream_yields_only_text() {
    let pieces = vec![
        chunk_json(serde_json::json!([{"index": 0, "delta": {"role": "assistant", "content": null}}])).into_bytes(),
        text_chunk("Hel").into_bytes(),
        chunk_json(serde_json::json!([{"index": 0, "delta": {}}])).into_bytes(),
        text_chunk("lo").into_bytes(),
        chunk_json(serde_json::json!([{"index": 0, "delta": {}, "finish_reason": "stop"}])).into_bytes(),
        b"data: [DONE]\n\n".to_vec(),
    ];
    let server = sse_server(pieces).await;
    let texts: Vec<String> = start(&server).await.text_stream().map(Result::unwrap).collect().await;
    assert_eq!(texts, vec!["Hel", "lo"]);
}

#[tokio::test]
async fn error_objects_inside_the_stream_become_api_errors() {
    let openai = br#"data: {"error":{"message":"model overloaded","type":"server_error","code":"overloaded"}}"#;
    let provider =
        br#"data: {"message":"Too many requests","statusCode":429,"path":"/v1/chat/completions","requestId":"r-1"}"#;
    let named = br#"event: error
data: {"error":{"message":"named event"}}"#;
    for (body, message, status) in [
        (&openai[..], "model overloaded", 200),
        (provider, "Too many requests", 429),
        (named, "named event", 200),
    ] {
        let mut event = body.to_vec();
        event.extend_from_slice(b"\n\n");
        let server = sse_server(vec![
            text_chunk("a").into_bytes(),
            event,
            text_chunk("never").into_bytes(),
        ])
        .await;
        let got = items(start(&server).await).await;
        assert_eq!(got.len(), 2, "the error ends the stream");
        assert!(got[0].is_ok());
        let err = got[1].as_ref().unwrap_err();
        let api = err.api().unwrap_or_else(|| panic!("{err}"));
        assert_eq!((api.message.as_str(), api.status), (message, status));
    }
}

#[tokio::test]
async fn garbage_payload_is_a_decode_error() {
    let server = sse_server(vec![b"data: {not json}\n\n".to_vec()]).await;
    let got = items(start(&server).await).await;
    assert!(
        matches!(
            got[0],
            Err(Error::Decode {
                what: "stream chunk",
                ..
            })
        ),
        "{got:?}"
    );
}

#[tokio::test]
async fn error_status_before_the_stream_is_the_typed_api_error() {
    let body = serde_json::json!({"error": {"message": "bad key", "type": "invalid_request_error"}});
    let server = Loopback::always(Reply::json(401, &body)).await;
    let client = client_for(&server).build().unwrap();
    let err = client.chat_stream(ChatRequest::user_prompt("hi")).await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(
        (api.status, api.message.as_str(), api.kind),
        (401, "bad key", maverick::ApiErrorKind::Authentication)
    );
    assert_eq!(server.requests().len(), 1, "401 is not retried");
}

#[tokio::test]
async fn rate_limit_before_the_first_event_is_retried() {
    let server = Loopback::start(|_, i| match i {
        0 => Reply::json(429, &serde_json::json!({"message": "slow down", "statusCode": 429}))
            .header("retry-after-ms", "10"),
        _ => Reply::sse_pieces(vec![text_chunk("ok").into_bytes(), b"data: [DONE]\n\n".to_vec()]),
    })
    .await;
    let stream = start(&server).await;
    assert_eq!(stream.meta().attempts, 2);
    assert_eq!(stream.into_response().await.unwrap().text(), Some("ok"));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].header("x-client-request-id"),
        reqs[1].header("x-client-request-id")
    );
}

#[tokio::test]
async fn a_stream_broken_after_it_started_is_not_retried() {
    let mut reply = Reply::sse_pieces(vec![text_chunk("a").into_bytes(), text_chunk("b").into_bytes()]);
    reply.cut_after = Some(text_chunk("a").len() + 10);
    let server = Loopback::always(reply).await;
    let got = items(start(&server).await).await;
    assert!(got[0].is_ok());
    assert!(got.last().unwrap().is_err(), "{got:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn eof_mid_event_is_an_error_and_eof_after_a_complete_event_is_not() {
    let server = sse_server(vec![text_chunk("a").into_bytes(), br#"data: {"id":"c9","#.to_vec()]).await;
    let got = items(start(&server).await).await;
    assert_eq!(got.len(), 2);
    let err = got[1].as_ref().unwrap_err();
    assert!(
        matches!(err, Error::Stream { .. }) && err.to_string().contains("middle of an event"),
        "{err}"
    );

    let server = sse_server(vec![text_chunk("a").into_bytes(), text_chunk("b").into_bytes()]).await;
    assert_eq!(start(&server).await.into_response().await.unwrap().text(), Some("ab"));

    let server = sse_server(vec![text_chunk("a").into_bytes(), b"data: [DONE]".to_vec()]).await;
    assert_eq!(start(&server).await.into_response().await.unwrap().text(), Some("a"));
}

#[tokio::test]
async fn keep_alive_comments_crlf_and_cr_line_ends() {
    let crlf = text_chunk("b").replace('\n', "\r\n");
    let cr = text_chunk("c").replace('\n', "\r");
    let pieces = vec![
        b": keep-alive\n\n".to_vec(),
        text_chunk("a").into_bytes(),
        b":\r\n\r\n: ping\r".to_vec(),
        b"\n\r\n".to_vec(),
        crlf.into_bytes(),
        cr.into_bytes(),
        b"data: [DONE]\r\n\r\n".to_vec(),
    ];
    let server = sse_server(pieces).await;
    assert_eq!(start(&server).await.into_response().await.unwrap().text(), Some("abc"));
}

#[tokio::test]
async fn interleaved_choices_with_n_2() {
    let pieces = vec![
        chunk_json(
            serde_json::json!([{"index": 0, "delta": {"role": "assistant", "content": ""}}, {"index": 1, "delta": {"role": "assistant", "content": ""}}]),
        ),
        chunk_json(serde_json::json!([{"index": 1, "delta": {"content": "B1"}}])),
        chunk_json(serde_json::json!([{"index": 0, "delta": {"content": "A1"}}])),
        chunk_json(serde_json::json!([{"index": 1, "delta": {"content": "B2"}, "finish_reason": "length"}])),
        chunk_json(serde_json::json!([{"index": 0, "delta": {"content": "A2"}, "finish_reason": "stop"}])),
        "data: [DONE]\n\n".to_string(),
    ];
    let server = sse_server(pieces.into_iter().map(String::into_bytes).collect()).await;
    let client = client_for(&server).build().unwrap();
    let r = client
        .chat_stream(ChatRequest::user_prompt("hi").n(2))
        .await
        .unwrap()
        .into_response()
        .await
        .unwrap();
    let got: Vec<_> = r
        .completion
        .choices
        .iter()
        .map(|c| {
            (
                c.index,
                c.message.content.clone().unwrap(),
                c.finish_reason.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(0, "A1A2".into(), "stop".into()), (1, "B1B2".into(), "length".into())]
    );
    assert_eq!(server.requests()[0].json()["n"], 2);
}

#[tokio::test]
async fn parallel_tool_calls_are_assembled() {
    let call = |c: serde_json::Value| chunk_json(serde_json::json!([{"index": 0, "delta": {"tool_calls": [c]}}]));
    let pieces = vec![
        call(
            serde_json::json!({"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}}),
        ),
        call(
            serde_json::json!({"index": 1, "id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{\"tz\""}}),
        ),
        call(serde_json::json!({"index": 0, "function": {"arguments": "{\"city\":"}})),
        call(serde_json::json!({"index": 1, "function": {"arguments": ":\"UTC\"}"}})),
        call(serde_json::json!({"index": 0, "function": {"arguments": "\"Oslo\"}"}})),
        chunk_json(serde_json::json!([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}])),
        "data: [DONE]\n\n".to_string(),
    ];
    let server = sse_server(pieces.into_iter().map(String::into_bytes).collect()).await;
    let r = start(&server).await.into_response().await.unwrap();
    let calls: Vec<_> = r
        .tool_calls()
        .into_iter()
        .map(|c| (c.id, c.name, c.arguments))
        .collect();
    assert_eq!(
        calls,
        vec![
            (
                "call_a".to_string(),
                "get_weather".to_string(),
                "{\"city\":\"Oslo\"}".to_string()
            ),
            (
                "call_b".to_string(),
                "get_time".to_string(),
                "{\"tz\":\"UTC\"}".to_string()
            ),
        ]
    );
}

#[tokio::test]
async fn idle_timeout_ends_the_stream_but_keep_alives_reset_it() {
    let slow = |first: Vec<u8>, rest: Vec<(Vec<u8>, Duration)>| {
        let mut reply = Reply::sse_pieces(vec![first]);
        if let Body::Pieces(p) = &mut reply.body {
            p.extend(rest);
        }
        reply
    };
    let server = Loopback::always(slow(
        text_chunk("a").into_bytes(),
        vec![(text_chunk("late").into_bytes(), Duration::from_secs(3))],
    ))
    .await;
    let client = client_for(&server)
        .stream_idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let began = Instant::now();
    let got = items(client.chat_stream(ChatRequest::user_prompt("hi")).await.unwrap()).await;
    assert!(began.elapsed() < Duration::from_secs(2), "{:?}", began.elapsed());
    assert_eq!(got.len(), 2);
    match &got[1] {
        Err(Error::Timeout {
            kind: TimeoutKind::StreamIdle,
            after,
            ..
        }) => assert_eq!(*after, Duration::from_millis(200)),
        other => panic!("{other:?}"),
    }

    let ping = (b": ping\n\n".to_vec(), Duration::from_millis(100));
    let mut rest = vec![ping.clone(); 6];
    rest.push((text_chunk("b").into_bytes(), Duration::from_millis(100)));
    rest.push((b"data: [DONE]\n\n".to_vec(), Duration::ZERO));
    let server = Loopback::always(slow(text_chunk("a").into_bytes(), rest)).await;
    let client = client_for(&server)
        .stream_idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let r = client
        .chat_stream(ChatRequest::user_prompt("hi"))
        .await
        .unwrap()
        .into_response()
        .await
        .unwrap();
    assert_eq!(
        r.text(),
        Some("ab"),
        "700 ms of keep-alives under a 200 ms idle timeout"
    );
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<Instant>();
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let mut seen = Vec::new();
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).await.unwrap();
            seen.extend_from_slice(&buf[..n]);
        }
        let first = text_chunk("a");
        let head = format!("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{first}\r\n", first.len());
        sock.write_all(head.as_bytes()).await.unwrap();
        // Keep-alives until a write fails: the client has gone.
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if sock.write_all(b"8\r\n: ping\n\n\r\n").await.is_err() || sock.flush().await.is_err() {
                let _ = closed_tx.send(Instant::now());
                return;
            }
        }
    });
    let client = maverick::Client::builder().api_key("k").base_url(base).build().unwrap();
    let mut stream = client.chat_stream(ChatRequest::user_prompt("hi")).await.unwrap();
    assert!(stream.next().await.unwrap().is_ok());
    let dropped = Instant::now();
    drop(stream);
    let closed = tokio::time::timeout(Duration::from_secs(3), closed_rx)
        .await
        .expect("the server saw the close")
        .unwrap();
    assert!(closed.duration_since(dropped) < Duration::from_secs(1));
    server.await.unwrap();
}

#[tokio::test]
async fn a_hundred_thousand_chunks_stream_through() {
    let chunk = text_chunk("x");
    let mut pieces = Vec::new();
    let mut piece = Vec::new();
    for _ in 0..100_000 {
        piece.extend_from_slice(chunk.as_bytes());
        if piece.len() > 64 * 1024 {
            pieces.push(std::mem::take(&mut piece));
        }
    }
    piece.extend_from_slice(b"data: [DONE]\n\n");
    pieces.push(piece);
    let server = sse_server(pieces).await;
    let mut acc = StreamAccumulator::new();
    let mut stream = start(&server).await;
    while let Some(c) = stream.next().await {
        acc.push(&c.unwrap());
    }
    assert_eq!(acc.chunk_count(), 100_000);
    assert_eq!(acc.text().map(str::len), Some(100_000));
}

#[tokio::test]
async fn an_endless_line_is_refused() {
    let mut pieces = vec![b"data: ".to_vec()];
    pieces.extend(std::iter::repeat_n(vec![b'x'; 1 << 20], 17));
    let server = sse_server(pieces).await;
    let got = items(start(&server).await).await;
    assert_eq!(got.len(), 1);
    let err = got[0].as_ref().unwrap_err();
    assert!(err.to_string().contains("byte limit"), "{err}");
}

#[tokio::test]
async fn a_server_that_never_sends_headers_times_out_and_is_retried() {
    let mut reply = Reply::sse_pieces(vec![b"data: [DONE]\n\n".to_vec()]);
    reply.delay = Duration::from_secs(5);
    let server = Loopback::always(reply).await;
    let client = client_for(&server)
        .stream_idle_timeout(Duration::from_millis(200))
        .max_retries(1)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.chat_stream(ChatRequest::user_prompt("hi")).await.unwrap_err();
    match err {
        Error::Timeout { kind, after, .. } => {
            assert_eq!((kind, after), (TimeoutKind::StreamIdle, Duration::from_millis(200)))
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 2, "the silent attempt is retried once");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn the_event_limit_is_configurable() {
    let pieces = vec![format!("data: {}\n\n", "y".repeat(4096)).into_bytes()];
    let server = sse_server(pieces).await;
    let client = client_for(&server).max_event_bytes(1024).build().unwrap();
    let mut stream = client.chat_stream(ChatRequest::user_prompt("hi")).await.unwrap();
    let err = stream.next().await.expect("an item").unwrap_err();
    assert!(err.to_string().contains("byte limit"), "{err}");
}
