//! Fault injection: the client inside a service must end every call in a
//! success or a typed error, quickly, whatever the server does. Every loop
//! here is bounded in count and time, and only loopback is used.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use maverick::{ApiErrorKind, CallOptions, ChatRequest, Error, TimeoutKind};
use support::{client_for, Body, Loopback, Reply};

fn completion(text: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    })
}

fn ask() -> ChatRequest {
    ChatRequest::user_prompt("hi")
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_after_the_retries() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = maverick::Client::builder()
        .api_key("k")
        .base_url(format!("http://127.0.0.1:{port}"))
        .max_retries(1)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.chat(ask()).await.unwrap_err();
    match &err {
        Error::Transport { attempts, .. } => assert_eq!(*attempts, 2),
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(err.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn reset_mid_body_is_a_typed_error() {
    let mut reply = Reply::json(200, &completion(&"x".repeat(2000)));
    reply.cut_after = Some(100);
    let server = Loopback::always(reply).await;
    let err = client_for(&server)
        .max_retries(0)
        .build()
        .unwrap()
        .chat(ask())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. } | Error::Decode { .. }), "{err:?}");
}

#[tokio::test]
async fn storm_of_503_gives_up_after_max_retries_in_bounded_time() {
    let server = Loopback::always(Reply::json(
        503,
        &serde_json::json!({"message": "overloaded", "statusCode": 503}),
    ))
    .await;
    let client = client_for(&server).max_retries(2).build().unwrap();
    let started = Instant::now();
    let err = client.chat(ask()).await.unwrap_err();
    let api = err.api().expect("an API error");
    assert_eq!((api.status, api.kind, api.attempts), (503, ApiErrorKind::Server, 3));
    assert_eq!(api.message, "overloaded");
    assert_eq!(server.requests().len(), 3);
    // Backoff 0.5 s then 1 s, each shortened by up to a quarter.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1100) && took < Duration::from_secs(4),
        "{took:?}"
    );
}

#[tokio::test]
async fn retry_after_past_the_cap_fails_fast_with_the_wait_on_the_error() {
    let server =
        Loopback::always(Reply::json(429, &serde_json::json!({"message": "slow down"})).header("retry-after", "3600"))
            .await;
    let client = client_for(&server)
        .max_retry_wait(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.chat(ask()).await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(
        (api.kind, api.retry_after),
        (ApiErrorKind::RateLimited, Some(Duration::from_secs(3600)))
    );
    assert_eq!(server.requests().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn truncated_json_is_a_decode_error_with_a_snippet() {
    let server = Loopback::always(Reply::bytes(
        200,
        "application/json",
        r#"{"id":"c","object":"chat.completion","choi"#,
    ))
    .await;
    let err = client_for(&server).build().unwrap().chat(ask()).await.unwrap_err();
    match err {
        Error::Decode { status, snippet, .. } => {
            assert_eq!(status, 200);
            assert!(snippet.starts_with(r#"{"id":"c""#), "{snippet}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn html_502_page_from_a_proxy_is_an_api_error_with_a_snippet() {
    let page = format!(
        "<html><head><title>502 Bad Gateway</title></head><body>{}</body></html>",
        "nginx ".repeat(200)
    );
    let server = Loopback::always(Reply::bytes(502, "text/html", page)).await;
    let err = client_for(&server)
        .max_retries(0)
        .build()
        .unwrap()
        .chat(ask())
        .await
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!((api.status, api.kind), (502, ApiErrorKind::Server));
    assert!(
        api.message.starts_with("<html><head><title>502 Bad Gateway") && api.message.chars().count() <= 201,
        "{}",
        api.message
    );
    assert!(api.body.len() > 1000, "the raw body is kept whole");
}

#[tokio::test]
async fn invalid_utf8_body_is_a_decode_error_not_a_panic() {
    let server = Loopback::always(Reply::bytes(200, "application/json", vec![b'{', 0xff, 0xfe, b'}'])).await;
    let err = client_for(&server).build().unwrap().chat(ask()).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let server = Loopback::always(Reply::json(200, &completion(&"y".repeat(64 * 1024)))).await;
    let err = client_for(&server)
        .max_body_bytes(16 * 1024)
        .build()
        .unwrap()
        .chat(ask())
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains("byte limit") && shown.contains("max_body_bytes"),
        "{shown}"
    );
    // Without a Content-Length (chunked), the limit still holds.
    let mut reply = Reply::json(200, &completion(&"y".repeat(64 * 1024)));
    if let Body::Full(bytes) = reply.body.clone() {
        reply.body = Body::Pieces(bytes.chunks(4096).map(|c| (c.to_vec(), Duration::ZERO)).collect());
    }
    let server = Loopback::always(reply).await;
    let err = client_for(&server)
        .max_body_bytes(16 * 1024)
        .build()
        .unwrap()
        .chat(ask())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("byte limit"), "{err}");
}

/// `request_timeout` bounds the whole call: attempts, the waits between
/// them and the body, not each attempt afresh.
#[tokio::test]
async fn request_timeout_covers_retries_and_their_waits() {
    // Every attempt stalls 400 ms before a 503 asking for a 1 s wait: with
    // a per-attempt timeout of 1.5 s the call would take over 3 s.
    let server = Loopback::always(
        Reply {
            delay: Duration::from_millis(400),
            ..Reply::json(503, &serde_json::json!({"message": "busy"}))
        }
        .header("retry-after", "1"),
    )
    .await;
    let client = client_for(&server)
        .request_timeout(Duration::from_millis(1500))
        .max_retries(5)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.chat(ask()).await.unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(err, Error::Timeout { kind: TimeoutKind::Request, after, .. } if after == Duration::from_millis(1500)),
        "{err:?}"
    );
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    // Two attempts fit in the budget (0 s and ~1.4 s), no third.
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn request_timeout_says_which_timeout_fired() {
    let mut reply = Reply::json(200, &completion("late"));
    reply.delay = Duration::from_secs(3);
    let server = Loopback::always(reply).await;
    let client = client_for(&server)
        .request_timeout(Duration::from_millis(300))
        .max_retries(0)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.chat(ask()).await.unwrap_err();
    match &err {
        Error::Timeout { kind, after, .. } => {
            assert_eq!((*kind, *after), (TimeoutKind::Request, Duration::from_millis(300)))
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(err.to_string().contains("request_timeout"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // A per-call timeout overrides the client's.
    let err = client
        .chat_with(ask(), CallOptions::default().timeout(Duration::from_millis(100)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(100)),
        "{err:?}"
    );
}

#[tokio::test]
async fn redirects_to_another_host_never_carry_the_key() {
    let other = Loopback::always(Reply::json(200, &completion("stolen"))).await;
    let target = format!("{}/v1/chat/completions", other.base_url);
    let server = Loopback::always(Reply::bytes(307, "text/plain", "moved").header("location", &target)).await;
    let err = client_for(&server)
        .max_retries(0)
        .build()
        .unwrap()
        .chat(ask())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(307), "{err:?}");
    assert!(
        other.requests().is_empty(),
        "the other host was contacted: {:?}",
        other.requests()
    );
}

#[tokio::test]
async fn concurrent_load_against_a_flaky_server_ends_every_call_cleanly() {
    let n = Arc::new(AtomicUsize::new(0));
    let counter = n.clone();
    let server = Loopback::start(move |_, i| {
        counter.fetch_add(1, Ordering::Relaxed);
        match i % 7 {
            0 => Reply::json(503, &serde_json::json!({"message": "busy"})),
            1 => Reply::json(429, &serde_json::json!({"message": "slow"})).header("retry-after-ms", "10"),
            2 => {
                let mut r = Reply::json(200, &completion("cut"));
                r.cut_after = Some(20);
                r
            }
            3 => Reply::bytes(200, "application/json", "{not json"),
            _ => Reply::json(200, &completion("ok")),
        }
    })
    .await;
    let client = client_for(&server)
        .max_retries(2)
        .request_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let outcomes = tokio::time::timeout(Duration::from_secs(60), async {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(32));
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let (client, permit) = (client.clone(), semaphore.clone().acquire_owned().await.unwrap());
            tasks.push(tokio::spawn(async move {
                let _permit = permit;
                client.chat(ChatRequest::user_prompt("load")).await
            }));
        }
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.expect("no call panics"));
        }
        results
    })
    .await
    .expect("200 calls finish within 60 s");
    let ok = outcomes.iter().filter(|r| r.is_ok()).count();
    let typed = outcomes
        .iter()
        .filter(|r| matches!(r, Err(Error::Api(_) | Error::Decode { .. } | Error::Transport { .. })))
        .count();
    println!(
        "load: 200 calls at concurrency 32: {ok} ok, {typed} typed errors, {} server hits, {:?}",
        n.load(Ordering::Relaxed),
        started.elapsed()
    );
    assert_eq!(ok + typed, 200);
    // 3 of 7 answers succeed and retries rescue some of the 2 of 7 retryable
    // ones: about 118 of 200 expected; the bound only guards against collapse.
    assert!(ok > 60, "retries should rescue many calls: {ok}");
}

#[tokio::test]
async fn reset_mid_stream_keeps_the_text_received_so_far() {
    let chunk = |text: &str| {
        format!(
            "data: {}\n\n",
            serde_json::json!({"id": "s", "object": "chat.completion.chunk", "created": 1, "model": "m",
                "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
        )
        .into_bytes()
    };
    let mut reply = Reply::sse_pieces(vec![
        chunk("Hello"),
        chunk(", wor"),
        chunk("ld!"),
        b"data: [DONE]\n\n".to_vec(),
    ]);
    let first_two = chunk("Hello").len() + chunk(", wor").len();
    reply.cut_after = Some(first_two + 10);
    let server = Loopback::always(reply).await;
    let client = client_for(&server).build().unwrap();
    let err = client
        .chat_stream(ask())
        .await
        .unwrap()
        .into_response()
        .await
        .unwrap_err();
    match &err {
        Error::Interrupted { partial, source } => {
            assert_eq!(partial.text(), Some("Hello, wor"));
            assert!(
                matches!(**source, Error::Stream { .. } | Error::Transport { .. }),
                "{source:?}"
            );
        }
        other => panic!("expected an interrupted stream, got {other:?}"),
    }
    assert!(err.to_string().contains("10 characters"), "{err}");
    assert_eq!(server.requests().len(), 1, "a started stream is never resent");
}
