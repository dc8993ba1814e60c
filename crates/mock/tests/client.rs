//! The library client against the mock, end to end: the pairing users get.

use futures_util::StreamExt;
use maverick::{ChatRequest, Client, StreamAccumulator, Tool, ToolChoice};
use maverick_mock::{Fault, MockServer};
use serde_json::json;

fn client(mock: &MockServer, key: &str) -> Client {
    Client::builder()
        .api_key(key)
        .base_url(mock.base_url())
        .max_retries(2)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_client_gets_a_typed_answer_and_the_provider_headers() {
    let mock = MockServer::start().await.unwrap();
    let reply = client(&mock, "k")
        .chat(
            ChatRequest::new()
                .system("Be brief.")
                .user("Hello from the client")
                .max_tokens(8),
        )
        .await
        .unwrap();
    assert!(
        reply.text().unwrap().starts_with("You said: Hello from the client."),
        "{:?}",
        reply.text()
    );
    assert_eq!(reply.usage().unwrap().completion_tokens, 8);
    assert!(reply.meta.inference_id.as_deref().unwrap().starts_with("inf-"));
    assert!(reply.meta.credits_used.unwrap() > 0.0);
    assert!(reply.meta.usd_spent.unwrap() > 0.0);

    let seen = mock.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("authorization"), Some("Bearer k"));
    assert_eq!(
        seen[0].header("x-client-request-id"),
        Some(reply.meta.request_id.as_str()),
        "the client's id reached the mock"
    );
    assert_eq!(seen[0].json().unwrap()["max_tokens"], 8);
}

#[tokio::test]
async fn forced_tools_come_back_as_parseable_calls() {
    let mock = MockServer::start().await.unwrap();
    let tool = Tool::from_schema(
        "lookup",
        Some("Find a record".into()),
        json!({"type": "object", "properties": {"id": {"type": "integer", "minimum": 10}}, "required": ["id"]}),
    )
    .unwrap();
    let reply = client(&mock, "k")
        .chat(
            ChatRequest::new()
                .user("find it")
                .tool(tool)
                .tool_choice(ToolChoice::Function("lookup".into())),
        )
        .await
        .unwrap();
    let calls = reply.tool_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name, "lookup");
    let args: serde_json::Value = serde_json::from_str(&calls[0].arguments).unwrap();
    assert!(args["id"].as_i64().unwrap() >= 10, "{args}");
}

#[tokio::test]
async fn wrong_keys_surface_as_401_api_errors() {
    let mock = MockServer::builder().api_key("right").start().await.unwrap();
    let err = client(&mock, "wrong")
        .chat(ChatRequest::new().user("hi"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(
        err.to_string().contains("not the key this mock was started with"),
        "{err}"
    );
}

#[tokio::test]
async fn the_client_retries_through_a_scripted_429() {
    let mock = MockServer::start().await.unwrap();
    mock.script(Fault::rate_limited(1));
    let reply = client(&mock, "k").chat(ChatRequest::new().user("hi")).await.unwrap();
    assert_eq!(reply.meta.attempts, 2);
    assert_eq!(mock.requests().len(), 2);
}

#[tokio::test]
async fn a_streamed_answer_accumulates_to_the_non_streamed_one() {
    let mock = MockServer::start().await.unwrap();
    let c = client(&mock, "k");
    let request = || ChatRequest::new().user("stream me").max_tokens(5);
    let whole = c.chat(request()).await.unwrap();
    let mut stream = c.chat_stream(request()).await.unwrap();
    let mut acc = StreamAccumulator::new();
    while let Some(chunk) = stream.next().await {
        acc.push(&chunk.unwrap());
    }
    let streamed = acc.finish().unwrap();
    // The body differs (stream: true), so compare shape, not words.
    assert_eq!(streamed.text().unwrap().split_whitespace().count(), 5);
    assert_eq!(whole.text().unwrap().split_whitespace().count(), 5);
    assert!(streamed.text().unwrap().starts_with("You said: stream me."));
}
