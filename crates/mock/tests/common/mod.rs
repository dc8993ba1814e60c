//! Raw HTTP helpers, so the mock's own tests do not depend on the client
//! they are meant to check.
#![allow(dead_code)]

use maverick_mock::MockServer;
use serde_json::{json, Value};

pub const KEY: &str = "test-key";

pub fn http() -> reqwest::Client {
    // reqwest is built without a TLS provider in this workspace; plain HTTP still needs one installed.
    maverick::install_tls_provider();
    reqwest::Client::new()
}

pub fn url(mock: &MockServer) -> String {
    format!("{}/chat/completions", mock.base_url())
}

pub fn hello() -> Value {
    json!({"model": "meta-llama/llama-4-maverick", "messages": [{"role": "user", "content": "Hello mock world"}]})
}

/// POSTs `body` with the test key; returns status, headers and body text.
pub async fn post(mock: &MockServer, body: &Value) -> (u16, reqwest::header::HeaderMap, String) {
    post_with(mock, body, &[("authorization", &format!("Bearer {KEY}"))]).await
}

pub async fn post_with(
    mock: &MockServer,
    body: &Value,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = http()
        .post(url(mock))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("the mock answers");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.expect("the body arrives whole");
    (status, headers, text)
}

/// The JSON payloads of an event stream, without `[DONE]`, and whether
/// `[DONE]` ended it.
pub fn events(text: &str) -> (Vec<Value>, bool) {
    let mut out = Vec::new();
    let mut done = false;
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let data = block
            .strip_prefix("data: ")
            .unwrap_or_else(|| panic!("not an SSE data line: {block:?}"));
        if data == "[DONE]" {
            done = true;
        } else {
            assert!(!done, "event after [DONE]");
            out.push(serde_json::from_str(data).unwrap_or_else(|e| panic!("bad chunk {data:?}: {e}")));
        }
    }
    (out, done)
}
