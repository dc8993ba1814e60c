//! An application that builds its own `reqwest::Client` (proxies, pools,
//! middleware) and hands it over: with the one documented line first, no
//! missing-crypto-provider panic, and calls go through it. Its own process
//! (an integration test file), so nothing else installed a provider before.

mod support;

use maverick::ChatRequest;
use support::{Loopback, Reply};

#[tokio::test]
async fn an_injected_client_built_first_works_after_install_tls_provider() {
    maverick::install_tls_provider();
    // Before maverick's own builder ran: this is what used to panic.
    let http = reqwest::Client::builder()
        .user_agent("my-app/1.0")
        .build()
        .expect("reqwest builds with the installed provider");
    let server = Loopback::always(Reply::json(
        200,
        &serde_json::json!({"id": "r", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}]}),
    ))
    .await;
    let client = maverick::Client::builder()
        .api_key("sk-test")
        .base_url(server.base_url.clone())
        .http_client(http)
        .build()
        .unwrap();
    let reply = client.chat(ChatRequest::user_prompt("hi")).await.unwrap();
    assert_eq!(reply.text(), Some("ok"));
    assert_eq!(server.requests()[0].header("user-agent"), Some("my-app/1.0"));
    maverick::install_tls_provider(); // idempotent
}
