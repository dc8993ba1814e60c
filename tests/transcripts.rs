//! Real responses captured from llama.cpp's llama-server and the LiteLLM
//! proxy (`../shared/fixtures/transcripts/`) decode through `client.chat()`,
//! served byte for byte (status and headers included) by the loopback server.

mod support;

use maverick::{ChatRequest, FinishReason};
use support::{client_for, shared_dir, Body, Loopback, Reply};

fn transcript(name: &str) -> Option<Vec<u8>> {
    let dir = shared_dir(&format!("transcript {name}"))?;
    let path = dir.join("fixtures/transcripts").join(name);
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Splits a `.http` transcript into a reply: its status, its headers (minus
/// framing ones the loopback server writes itself) and its body.
fn reply_from_http(raw: &[u8]) -> Reply {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, 4));
    let split = split.or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let (end, sep) = split.expect("a .http transcript has a head and a body");
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let mut lines = head.lines();
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| {
            !["content-length", "transfer-encoding", "keep-alive", "connection"]
                .contains(&k.to_ascii_lowercase().as_str())
        })
        .collect();
    Reply {
        status,
        headers,
        body: Body::Full(raw[end + sep..].to_vec()),
        cut_after: None,
        delay: std::time::Duration::ZERO,
    }
}

#[tokio::test]
async fn llama_cpp_non_stream_response_decodes() {
    let Some(raw) = transcript("llama-cpp-nonstream.http") else {
        return;
    };
    let reply = reply_from_http(&raw);
    assert_eq!(reply.status, 200);
    assert!(reply
        .headers
        .iter()
        .any(|(k, v)| k == "Content-Type" && v.starts_with("application/json")));
    let server = Loopback::always(reply).await;
    let client = client_for(&server).build().unwrap();
    let got = client
        .chat(ChatRequest::user_prompt("Hello").max_tokens(8))
        .await
        .unwrap();
    assert_eq!(got.text(), Some("\n\n\n\n\n\n\n\n"));
    assert_eq!(got.finish_reason(), Some(FinishReason::Length));
    let usage = got.usage().expect("llama.cpp sends usage");
    assert_eq!(
        (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens),
        (30, 8, 38)
    );
    assert_eq!(got.completion.id, "chatcmpl-vit5Ds5vwFEEvEH6l95GrrYdr3QDAOZs");
    assert_eq!(got.completion.model, "meta-llama/llama-4-maverick");
    assert_eq!(got.meta.status, 200);
    assert!(got.tool_calls().is_empty());
}

#[tokio::test]
async fn litellm_non_stream_body_decodes() {
    let Some(body) = transcript("litellm-nonstream.body") else {
        return;
    };
    let server = Loopback::always(Reply::bytes(200, "application/json", body)).await;
    let client = client_for(&server).build().unwrap();
    let got = client.chat(ChatRequest::user_prompt("Hello")).await.unwrap();
    assert_eq!(got.text(), Some("Hello from the LiteLLM mock backend"));
    assert_eq!(got.finish_reason(), Some(FinishReason::Stop));
    let usage = got.usage().expect("LiteLLM sends usage");
    assert_eq!(
        (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens),
        (10, 20, 30)
    );
    assert_eq!(got.completion.id, "chatcmpl-edb4e113-54c2-45bb-acc0-4fe38df05796");
}
