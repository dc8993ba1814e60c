//! The mock under hostile clients: oversized and malformed bodies, bytes
//! that are not HTTP, and many idle connections at once. Every refusal is a
//! 4xx in the provider's error shape, and the mock keeps serving.

use std::time::Duration;

use maverick_mock::MockServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends raw bytes, returns what came back before the mock closed or 5 s passed.
async fn exchange(mock: &MockServer, request: &[u8]) -> Vec<u8> {
    let mut socket = TcpStream::connect(mock.addr()).await.unwrap();
    let _ = socket.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut out)).await;
    out
}

fn post(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sk-any\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// Status and parsed body of a raw response.
fn parse(raw: &[u8]) -> (u16, serde_json::Value) {
    let text = String::from_utf8_lossy(raw);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
}

fn assert_provider_shape(status: u16, body: &serde_json::Value) {
    assert!((400..500).contains(&status), "{status} {body}");
    assert_eq!(body["statusCode"], status, "{body}");
    assert!(body["message"].is_string() || body["message"].is_array(), "{body}");
    assert!(body["requestId"].is_string() && body["path"].is_string(), "{body}");
}

#[tokio::test]
async fn an_oversized_body_is_a_413_in_the_provider_shape() {
    let mock = MockServer::start().await.unwrap();
    let raw = exchange(&mock, &post(&vec![b' '; 33 * 1024 * 1024])).await;
    let (status, body) = parse(&raw);
    assert_eq!(status, 413, "{body}");
    assert_provider_shape(status, &body);
}

#[tokio::test]
async fn malformed_bodies_are_4xx_in_the_provider_shape() {
    let mock = MockServer::start().await.unwrap();
    let deep = "[".repeat(100_000);
    let bodies: [&[u8]; 6] = [
        b"{",
        b"\xff\xfe",
        b"\0\0\0",
        b"null",
        b"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":1e400}",
        deep.as_bytes(),
    ];
    for b in bodies {
        let (status, body) = parse(&exchange(&mock, &post(b)).await);
        assert_provider_shape(status, &body);
    }
    // Still serving.
    let ok = post(br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
    assert_eq!(parse(&exchange(&mock, &ok).await).0, 200);
}

#[tokio::test]
async fn garbage_and_many_idle_connections_leave_it_serving() {
    let mock = MockServer::start().await.unwrap();
    let _ = exchange(&mock, b"\x16\x03\x01\x02\x00garbage\r\n\r\n").await;
    let _ = exchange(
        &mock,
        b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: -1\r\n\r\n",
    )
    .await;
    let mut idle = Vec::new();
    for _ in 0..300 {
        let mut s = TcpStream::connect(mock.addr()).await.unwrap();
        let _ = s.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n").await;
        idle.push(s);
    }
    let ok = post(br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
    assert_eq!(parse(&exchange(&mock, &ok).await).0, 200);
}

#[tokio::test]
async fn the_recorded_history_stays_bounded() {
    let mock = MockServer::start().await.unwrap();
    // Not JSON, so refused at once; recorded all the same.
    let big = "a".repeat(20 * 1024 * 1024);
    for _ in 0..5 {
        let _ = exchange(&mock, &post(big.as_bytes())).await;
    }
    let kept = mock.requests();
    let bytes: usize = kept.iter().map(|r| r.body.len()).sum();
    assert!(
        !kept.is_empty() && bytes <= 64 * 1024 * 1024,
        "{} requests, {bytes} bytes",
        kept.len()
    );
}
