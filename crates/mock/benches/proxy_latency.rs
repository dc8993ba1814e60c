//! Latency the validating proxy adds to each stream event.
//!
//! An upstream on loopback writes one SSE event, then waits until the
//! reader has it before writing the next, so every event's time is a true
//! one-way-plus-notify latency, not throughput. The same stream is read
//! directly and through `Proxy` (validation against both documents and
//! recording on); the difference of the medians is what the proxy adds.
//!
//! Run with `cargo bench -p maverick-mock --bench proxy_latency`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use maverick_mock::Proxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;

const EVENTS: usize = 2_000;
const ROUNDS: usize = 5;

fn chunk(i: usize) -> String {
    format!(
        "data: {{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1795693450,\"model\":\"meta-llama/llama-4-maverick\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"tok{i} \"}},\"finish_reason\":null}}]}}\n\n"
    )
}

/// An upstream that writes an event, then waits for `received` before the
/// next; one connection per request.
async fn upstream(received: Arc<Notify>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            socket.set_nodelay(true).unwrap();
            let received = received.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                // Read the head and a body of the advertised length.
                loop {
                    let n = socket.read(&mut buf).await.unwrap();
                    head.extend_from_slice(&buf[..n]);
                    if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                        let text = String::from_utf8_lossy(&head[..end]).to_lowercase();
                        let len: usize = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map(|v| v.trim().parse().unwrap())
                            .unwrap_or(0);
                        if head.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
                    .await
                    .unwrap();
                for i in 0..EVENTS {
                    socket.write_all(chunk(i).as_bytes()).await.unwrap();
                    received.notified().await;
                }
                socket.write_all(b"data: [DONE]\n\n").await.unwrap();
            });
        }
    });
    format!("http://{addr}")
}

/// Per-event latencies of one stream read from `base`.
async fn read_stream(client: &reqwest::Client, base: &str, received: &Notify) -> Vec<Duration> {
    let body =
        r#"{"model":"meta-llama/llama-4-maverick","messages":[{"role":"user","content":"bench"}],"stream":true}"#;
    let res = client
        .post(format!("{base}/v1/chat/completions"))
        .header("content-type", "application/json")
        .header("authorization", "Bearer bench")
        .body(body)
        .send()
        .await
        .unwrap();
    let mut stream = res.bytes_stream();
    let mut pending = Vec::new();
    let mut times = Vec::with_capacity(EVENTS);
    let mut last = Instant::now();
    while let Some(piece) = stream.next().await {
        pending.extend_from_slice(&piece.unwrap());
        while let Some(end) = pending.windows(2).position(|w| w == b"\n\n") {
            let event: Vec<u8> = pending.drain(..end + 2).collect();
            if event.starts_with(b"data: [DONE]") {
                return times;
            }
            let now = Instant::now();
            times.push(now - last);
            last = now;
            received.notify_one();
        }
    }
    times
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    maverick::install_tls_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let received = Arc::new(Notify::new());
        let direct = upstream(received.clone()).await;
        let record = std::env::temp_dir().join(format!("maverick-proxy-bench-{}", std::process::id()));
        let proxy = Proxy::builder()
            .upstream(&direct)
            .record(&record)
            .start()
            .await
            .unwrap();
        let via = format!("http://{}", proxy.addr());
        let client = reqwest::Client::new();
        // Warm up both paths (connections, the validators' one-time compile).
        read_stream(&client, &direct, &received).await;
        read_stream(&client, &via, &received).await;
        let (mut plain, mut proxied) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            plain.extend(read_stream(&client, &direct, &received).await);
            proxied.extend(read_stream(&client, &via, &received).await);
        }
        let (d, p) = (median(plain), median(proxied));
        println!("events per round: {EVENTS}, rounds: {ROUNDS}");
        println!("direct   median per-event latency: {d:?}");
        println!("proxied  median per-event latency: {p:?} (validated against both documents, recorded)");
        println!("added by the proxy: {:?} per event", p.saturating_sub(d));
        let report = proxy.shutdown().await;
        println!(
            "report: {} exchanges, verdict {:?}",
            report.exchanges(),
            report.verdict()
        );
        let _ = std::fs::remove_dir_all(&record);
    });
}
