//! Slow and endless peers: every one is cut by a named limit or timeout, and
//! the error names it. The README's "which limit stops which case" table is
//! this file; each test's name is a row. The servers here never stop on
//! their own: the test's end aborts them.

use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use maverick::{ChatRequest, Client, ClientBuilder, Error, TimeoutKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A server that reads each request, then hands the socket to `peer`.
struct Peer {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn peer<F, Fut>(behaviour: F) -> Peer
where
    F: Fn(TcpStream) -> Fut + Send + Sync + Copy + 'static,
    Fut: Future<Output = std::io::Result<()>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            conns.spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // The request: head, then as many bytes as it declares.
                loop {
                    let n = socket.read(&mut chunk).await?;
                    if n == 0 {
                        return Ok(());
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                behaviour(socket).await
            });
        }
    });
    Peer { url, task }
}

fn builder(peer: &Peer) -> ClientBuilder {
    Client::builder().api_key("sk-test").base_url(&peer.url).max_retries(0)
}

const SSE_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
const CHUNK: &str = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}"#;

async fn write_chunk(socket: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    socket.write_all(format!("{:x}\r\n", bytes.len()).as_bytes()).await?;
    socket.write_all(bytes).await?;
    socket.write_all(b"\r\n").await?;
    socket.flush().await
}

/// One byte of an event every 50 ms, forever (each within the idle timeout).
async fn trickle(mut socket: TcpStream) -> std::io::Result<()> {
    socket.write_all(SSE_HEAD).await?;
    let event = format!("data: {CHUNK}\n\n");
    for b in event.bytes().cycle() {
        write_chunk(&mut socket, &[b]).await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// `: keep-alive` comments as fast as the client reads them, forever.
async fn endless_comments(mut socket: TcpStream) -> std::io::Result<()> {
    socket.write_all(SSE_HEAD).await?;
    let comments = b": keep-alive\n".repeat(300);
    loop {
        write_chunk(&mut socket, &comments).await?;
    }
}

/// One `data:` line that never ends.
async fn endless_line(mut socket: TcpStream) -> std::io::Result<()> {
    socket.write_all(SSE_HEAD).await?;
    write_chunk(&mut socket, b"data: ").await?;
    let xs = vec![b'x'; 16 * 1024];
    loop {
        write_chunk(&mut socket, &xs).await?;
    }
}

/// Valid chunks, forever, as fast as they are read.
async fn endless_chunks(mut socket: TcpStream) -> std::io::Result<()> {
    socket.write_all(SSE_HEAD).await?;
    let events = format!("data: {CHUNK}\n\n").repeat(50);
    loop {
        write_chunk(&mut socket, events.as_bytes()).await?;
    }
}

/// Headers, then nothing at all.
async fn silent_after_headers(mut socket: TcpStream) -> std::io::Result<()> {
    socket.write_all(SSE_HEAD).await?;
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(())
}

/// Accepts, reads the request, never answers.
async fn never_answers(_socket: TcpStream) -> std::io::Result<()> {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(())
}

/// The response head one byte every 50 ms, and a header that never ends.
async fn trickled_head(mut socket: TcpStream) -> std::io::Result<()> {
    socket.write_all(b"HTTP/1.1 200 OK\r\nx-slow: ").await?;
    loop {
        socket.write_all(b"a").await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A JSON completion whose body never ends: a declared length it never
/// reaches, one byte every 50 ms.
async fn trickled_json(mut socket: TcpStream) -> std::io::Result<()> {
    socket
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n{\"id\":\"")
        .await?;
    loop {
        socket.write_all(b"a").await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A chunked JSON body that never ends, as fast as it is read.
async fn endless_json(mut socket: TcpStream) -> std::io::Result<()> {
    socket
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
        .await?;
    write_chunk(&mut socket, b"{\"id\":\"").await?;
    let xs = vec![b'a'; 16 * 1024];
    loop {
        write_chunk(&mut socket, &xs).await?;
    }
}

/// An error status on a stream request, then a body trickling forever.
async fn trickled_error_body(mut socket: TcpStream) -> std::io::Result<()> {
    socket
        .write_all(b"HTTP/1.1 500 X\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
        .await?;
    loop {
        write_chunk(&mut socket, b" ").await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An error status on a stream request, then silence.
async fn silent_error_body(mut socket: TcpStream) -> std::io::Result<()> {
    socket
        .write_all(b"HTTP/1.1 503 X\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{\"mess")
        .await?;
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(())
}

/// Reads the whole stream; the error that ended it, and how long it took.
async fn stream_error(client: &Client) -> (Error, Duration) {
    let started = Instant::now();
    let run = async {
        let mut stream = client.chat_stream(ChatRequest::user_prompt("hi")).await?;
        while let Some(item) = stream.next().await {
            item?;
        }
        Ok::<(), Error>(())
    };
    let outcome = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the stream was not cut within 10 s");
    (outcome.expect_err("an endless peer cannot succeed"), started.elapsed())
}

async fn chat_error(client: &Client) -> (Error, Duration) {
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(10), client.chat(ChatRequest::user_prompt("hi")))
        .await
        .expect("the call was not cut within 10 s");
    (outcome.expect_err("an endless peer cannot succeed"), started.elapsed())
}

fn timeout_kind(e: &Error) -> Option<(TimeoutKind, Duration)> {
    match e {
        Error::Timeout { kind, after, .. } => Some((*kind, *after)),
        Error::Interrupted { source, .. } => timeout_kind(source),
        _ => None,
    }
}

fn assert_took(took: Duration, at_least: Duration) {
    assert!(
        took >= at_least && took < at_least + Duration::from_secs(2),
        "took {took:?}, expected about {at_least:?}"
    );
}

#[tokio::test]
async fn trickle_passes_the_idle_timeout_and_is_cut_by_the_stream_timeout() {
    let p = peer(trickle).await;
    let client = builder(&p)
        .stream_idle_timeout(Duration::from_millis(400))
        .stream_timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let (err, took) = stream_error(&client).await;
    assert_eq!(
        timeout_kind(&err),
        Some((TimeoutKind::StreamTotal, Duration::from_millis(800))),
        "{err}"
    );
    assert!(err.to_string().contains("stream_timeout"), "{err}");
    assert_took(took, Duration::from_millis(800));
}

#[tokio::test]
async fn trickle_is_cut_by_the_rate_floor_when_one_is_set() {
    let p = peer(trickle).await;
    let client = builder(&p)
        .stream_idle_timeout(Duration::from_millis(400))
        .stream_timeout(None)
        .stream_min_rate(100, Duration::from_millis(500))
        .build()
        .unwrap();
    let (err, took) = stream_error(&client).await;
    assert_eq!(
        timeout_kind(&err),
        Some((TimeoutKind::StreamRate, Duration::from_millis(500))),
        "{err}"
    );
    assert!(err.to_string().contains("stream_min_rate"), "{err}");
    assert_took(took, Duration::from_millis(500));
}

#[tokio::test]
async fn a_fast_stream_passes_the_rate_floor() {
    let p = peer(endless_chunks).await;
    let client = builder(&p)
        .stream_min_rate(100, Duration::from_millis(100))
        .stream_timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let (err, _) = stream_error(&client).await;
    assert_eq!(timeout_kind(&err).map(|k| k.0), Some(TimeoutKind::StreamTotal), "{err}");
}

#[tokio::test]
async fn endless_keep_alive_comments_are_cut_by_the_stream_timeout() {
    let p = peer(endless_comments).await;
    let client = builder(&p).stream_timeout(Duration::from_millis(500)).build().unwrap();
    let (err, took) = stream_error(&client).await;
    assert_eq!(
        timeout_kind(&err),
        Some((TimeoutKind::StreamTotal, Duration::from_millis(500))),
        "{err}"
    );
    assert_took(took, Duration::from_millis(500));
}

#[tokio::test]
async fn endless_keep_alive_comments_are_cut_by_the_stream_byte_cap() {
    let p = peer(endless_comments).await;
    let client = builder(&p).max_stream_bytes(1 << 20).build().unwrap();
    let (err, took) = stream_error(&client).await;
    assert!(
        matches!(&err, Error::Stream { message, .. } if message.contains("max_stream_bytes")),
        "{err}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn an_endless_data_line_is_cut_by_max_event_bytes() {
    let p = peer(endless_line).await;
    let client = builder(&p).max_event_bytes(256 * 1024).build().unwrap();
    let (err, _) = stream_error(&client).await;
    assert!(
        matches!(&err, Error::Stream { message, .. } if message.contains("262144 byte limit")),
        "{err}"
    );
}

#[tokio::test]
async fn endless_valid_chunks_are_cut_by_the_byte_cap_and_the_collected_answer_stays_bounded() {
    let p = peer(endless_chunks).await;
    let client = builder(&p).max_stream_bytes(2 << 20).build().unwrap();
    let stream = client.chat_stream(ChatRequest::user_prompt("hi")).await.unwrap();
    let err = tokio::time::timeout(Duration::from_secs(20), stream.into_response())
        .await
        .expect("cut within 20 s")
        .unwrap_err();
    match &err {
        Error::Interrupted { partial, source } => {
            assert!(
                matches!(&**source, Error::Stream { message, .. } if message.contains("max_stream_bytes")),
                "{source}"
            );
            // One character of text per ~150 bytes of stream.
            let text = partial.text().unwrap_or_default().len();
            assert!(text > 1000 && text < (2 << 20), "{text}");
        }
        other => panic!("expected an interrupted stream, got {other}"),
    }
}

#[tokio::test]
async fn silence_after_the_headers_is_cut_by_the_idle_timeout() {
    let p = peer(silent_after_headers).await;
    let client = builder(&p)
        .stream_idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let (err, took) = stream_error(&client).await;
    assert_eq!(
        timeout_kind(&err),
        Some((TimeoutKind::StreamIdle, Duration::from_millis(300))),
        "{err}"
    );
    assert_took(took, Duration::from_millis(300));
}

#[tokio::test]
async fn no_answer_at_all_is_cut_by_the_idle_timeout_on_streams_and_the_request_timeout_otherwise() {
    let p = peer(never_answers).await;
    let client = builder(&p)
        .stream_idle_timeout(Duration::from_millis(300))
        .request_timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let (err, took) = stream_error(&client).await;
    assert_eq!(timeout_kind(&err).map(|k| k.0), Some(TimeoutKind::StreamIdle), "{err}");
    assert_took(took, Duration::from_millis(300));
    let (err, took) = chat_error(&client).await;
    assert_eq!(timeout_kind(&err).map(|k| k.0), Some(TimeoutKind::Request), "{err}");
    assert_took(took, Duration::from_millis(400));
}

#[tokio::test]
async fn a_trickled_head_is_cut_by_the_idle_timeout_on_streams_and_the_request_timeout_otherwise() {
    let p = peer(trickled_head).await;
    let client = builder(&p)
        .stream_idle_timeout(Duration::from_millis(300))
        .request_timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let (err, took) = stream_error(&client).await;
    assert_eq!(timeout_kind(&err).map(|k| k.0), Some(TimeoutKind::StreamIdle), "{err}");
    assert_took(took, Duration::from_millis(300));
    let (err, took) = chat_error(&client).await;
    assert_eq!(timeout_kind(&err).map(|k| k.0), Some(TimeoutKind::Request), "{err}");
    assert_took(took, Duration::from_millis(400));
}

#[tokio::test]
async fn a_trickled_json_body_is_cut_by_the_request_timeout() {
    let p = peer(trickled_json).await;
    let client = builder(&p).request_timeout(Duration::from_millis(500)).build().unwrap();
    let (err, took) = chat_error(&client).await;
    assert_eq!(
        timeout_kind(&err),
        Some((TimeoutKind::Request, Duration::from_millis(500))),
        "{err}"
    );
    assert_took(took, Duration::from_millis(500));
}

#[tokio::test]
async fn an_endless_json_body_is_cut_by_max_body_bytes() {
    let p = peer(endless_json).await;
    let client = builder(&p).max_body_bytes(1 << 20).build().unwrap();
    let (err, took) = chat_error(&client).await;
    assert!(
        matches!(&err, Error::Decode { message, .. } if message.contains("max_body_bytes")),
        "{err}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn a_trickled_error_body_on_a_stream_is_cut_by_the_stream_timeout() {
    let p = peer(trickled_error_body).await;
    let client = builder(&p)
        .stream_idle_timeout(Duration::from_millis(400))
        .stream_timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let (err, took) = stream_error(&client).await;
    let api = err.api().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(api.status, 500);
    assert!(api.body.contains("stream_timeout"), "{}", api.body);
    assert_took(took, Duration::from_millis(800));
}

#[tokio::test]
async fn a_silent_error_body_on_a_stream_is_cut_by_the_idle_timeout() {
    let p = peer(silent_error_body).await;
    let client = builder(&p)
        .stream_idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let (err, took) = stream_error(&client).await;
    let api = err.api().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(api.status, 503);
    assert_took(took, Duration::from_millis(300));
}

#[test]
fn stream_limit_defaults_are_documented() {
    let shown = format!("{:?}", Client::builder());
    assert!(
        shown.contains("total: Some(1800s)")
            && shown.contains("min_rate: None")
            && shown.contains("max_bytes: 268435456"),
        "{shown}"
    );
}
