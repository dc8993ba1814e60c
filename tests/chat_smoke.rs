mod support;

use maverick::ChatRequest;
use support::{client_for, Loopback, Reply};

#[tokio::test]
async fn chat_round_trip_carries_auth_request_id_and_metadata() {
    let body = serde_json::json!({
        "id": "c1", "object": "chat.completion", "created": 1, "model": "meta-llama/llama-4-maverick",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hi!"}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        "timings": {"whatever": 1}
    });
    let server = Loopback::always(
        Reply::json(200, &body)
            .header("x-inference-id", "inf-1")
            .header("x-aimlapi-credits-used", "12")
            .header("x-aimlapi-usd-spent", "0.0001"),
    )
    .await;
    let client = client_for(&server).build().unwrap();
    let reply = client
        .chat(ChatRequest::user_prompt("Hello").max_tokens(5))
        .await
        .unwrap();
    assert_eq!(reply.text(), Some("Hi!"));
    assert_eq!(reply.usage().unwrap().total_tokens, 5);
    assert_eq!(reply.meta.inference_id.as_deref(), Some("inf-1"));
    assert_eq!(reply.meta.credits_used, Some(12.0));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.header("authorization"), Some("Bearer sk-test-SECRET-0123456789"));
    assert!(r.header("api-version").is_none());
    assert_eq!(r.header("x-client-request-id"), Some(reply.meta.request_id.as_str()));
    let sent = r.json();
    assert_eq!(sent["model"], "meta-llama/llama-4-maverick");
    assert_eq!(sent["max_tokens"], 5);
}
