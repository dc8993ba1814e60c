//! The ways past the typed surface, proven on the wire: fields the spec
//! does not have go out with the request, and the body a host sent comes
//! back as it was.

mod support;

use futures_util::StreamExt;
use maverick::{ChatRequest, Error};
use serde_json::json;
use support::{client_for, Loopback, Reply};

fn completion() -> serde_json::Value {
    json!({"id": "r1", "object": "chat.completion", "created": 1, "model": "m", "timings": {"predicted_ms": 3.5},
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}]})
}

#[tokio::test]
async fn extra_fields_reach_the_wire_after_the_typed_ones() {
    let server = Loopback::always(Reply::json(200, &completion())).await;
    let client = client_for(&server).build().unwrap();
    let request = ChatRequest::user_prompt("hi")
        .max_tokens(5)
        .extra("chat_template_kwargs", json!({"enable_thinking": false}))
        .extra("guided_json", json!({"type": "object"}))
        .extra("top_a", 0.2);
    client.chat(request).await.unwrap();
    let sent = server.requests()[0].json();
    assert_eq!(sent["chat_template_kwargs"], json!({"enable_thinking": false}));
    assert_eq!(sent["guided_json"], json!({"type": "object"}));
    assert_eq!(sent["top_a"], 0.2);
    assert_eq!(sent["max_tokens"], 5, "typed fields stay");
    assert_eq!(sent["messages"][0]["content"], "hi");

    // Streams take them too.
    let server = Loopback::always(Reply::sse_pieces(vec![b"data: [DONE]\n\n".to_vec()])).await;
    let client = client_for(&server).build().unwrap();
    let mut stream = client
        .chat_stream(ChatRequest::user_prompt("hi").extra("min_tokens", 2))
        .await
        .unwrap();
    while stream.next().await.is_some() {}
    assert_eq!(server.requests()[0].json()["min_tokens"], 2);
}

#[tokio::test]
async fn extra_refuses_a_typed_field_by_name_and_sends_nothing() {
    let server = Loopback::always(Reply::json(200, &completion())).await;
    let client = client_for(&server).build().unwrap();
    let err = client
        .chat(ChatRequest::user_prompt("hi").extra("temperature", 9))
        .await
        .unwrap_err();
    match &err {
        Error::InvalidRequest { field, expected, .. } => {
            assert!(field.contains("temperature"), "{err}");
            assert!(expected.contains("own setter"), "{err}");
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn raw_gives_the_body_as_sent() {
    let body = serde_json::to_string(&completion()).unwrap();
    let server = Loopback::always(Reply::bytes(200, "application/json", body.clone())).await;
    let client = client_for(&server).build().unwrap();
    let reply = client.chat(ChatRequest::user_prompt("hi")).await.unwrap();
    assert_eq!(reply.raw(), Some(body.as_str()));
    assert_eq!(reply.raw_json().unwrap()["timings"]["predicted_ms"], 3.5);
    assert_eq!(reply.text(), Some("ok"));
}

#[tokio::test]
async fn default_and_per_call_headers_reach_the_wire() {
    let server = Loopback::always(Reply::json(200, &completion())).await;
    let client = client_for(&server)
        .default_header("X-Tenant", "acme")
        .default_header("X-Trace", "client")
        .build()
        .unwrap();
    let options = maverick::CallOptions::default()
        .header("X-Trace", "call")
        .header("X-Only-Here", "1");
    client.chat_with(ChatRequest::user_prompt("hi"), options).await.unwrap();
    client.chat(ChatRequest::user_prompt("again")).await.unwrap();
    let seen = server.requests();
    assert_eq!(seen[0].header("x-tenant"), Some("acme"));
    assert_eq!(
        seen[0].header("x-trace"),
        Some("call"),
        "the call's header replaces the client's"
    );
    assert_eq!(seen[0].header("x-only-here"), Some("1"));
    assert!(seen[0]
        .header("authorization")
        .is_some_and(|v| v.starts_with("Bearer ")));
    assert_eq!(seen[1].header("x-trace"), Some("client"));
    assert_eq!(
        seen[1].header("x-only-here"),
        None,
        "per-call headers stay with their call"
    );

    // Streams carry them too.
    let server = Loopback::always(Reply::sse_pieces(vec![b"data: [DONE]\n\n".to_vec()])).await;
    let client = client_for(&server).default_header("X-Tenant", "acme").build().unwrap();
    let options = maverick::CallOptions::default().header("X-Only-Here", "2");
    let mut stream = client
        .chat_stream_with(ChatRequest::user_prompt("hi"), options)
        .await
        .unwrap();
    while stream.next().await.is_some() {}
    let seen = server.requests();
    assert_eq!(
        (seen[0].header("x-tenant"), seen[0].header("x-only-here")),
        (Some("acme"), Some("2"))
    );
}

#[tokio::test]
async fn invalid_headers_are_errors_not_panics() {
    let err = maverick::Client::builder()
        .api_key("sk-test")
        .default_header("bad name", "v")
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(_)) && err.to_string().contains("bad name"),
        "{err}"
    );
    let err = maverick::Client::builder()
        .api_key("sk-test")
        .default_header("X-Ok", "line\nbreak")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("X-Ok"), "{err}");

    let server = Loopback::always(Reply::json(200, &completion())).await;
    let client = client_for(&server).build().unwrap();
    let err = client
        .chat_with(
            ChatRequest::user_prompt("hi"),
            maverick::CallOptions::default().header("X-Bad", "\u{7f}"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidRequest { .. }) && err.to_string().contains("X-Bad"),
        "{err}"
    );
    assert!(server.requests().is_empty(), "nothing was sent");
}
