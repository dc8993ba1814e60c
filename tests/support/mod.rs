//! A loopback HTTP/1.1 server for tests: records every request and answers
//! with scripted bytes, so tests control framing, chunk boundaries, delays
//! and disconnects exactly. Bounded: it only serves while the test holds it.
#![allow(dead_code)]

pub mod trace;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// How the body of a reply is sent.
#[derive(Debug, Clone)]
pub enum Body {
    /// With Content-Length.
    Full(Vec<u8>),
    /// Chunked transfer encoding, one HTTP chunk per piece, each after its delay.
    Pieces(Vec<(Vec<u8>, Duration)>),
}

/// A scripted reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// Close the connection after writing this many body bytes (a cut).
    pub cut_after: Option<usize>,
    /// Wait before writing the status line.
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::bytes(status, "application/json", serde_json::to_vec(value).unwrap())
    }
    pub fn bytes(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: Body::Full(body.into()),
            cut_after: None,
            delay: Duration::ZERO,
        }
    }
    /// An event stream sent in the given pieces (split anywhere).
    pub fn sse_pieces(pieces: Vec<Vec<u8>>) -> Self {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            body: Body::Pieces(pieces.into_iter().map(|p| (p, Duration::ZERO)).collect()),
            cut_after: None,
            delay: Duration::ZERO,
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = Arc<dyn Fn(&Recorded, usize) -> Reply + Send + Sync>;

/// A running server; stops when dropped.
pub struct Loopback {
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
    /// Connections accepted so far (closed or not).
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Loopback {
    /// Starts on an ephemeral port; `handler(request, index)` scripts replies.
    pub async fn start(handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_with(handler, true).await
    }

    /// Like [`start`](Self::start) but keeps no requests: for benchmarks,
    /// where a record of millions of calls would grow the server (and its
    /// reallocations and page faults would land on whichever row runs).
    pub async fn start_unrecorded(handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_with(handler, false).await
    }

    async fn start_with(handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static, record: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (reqs, conns) = (requests.clone(), connections.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                conns.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                // Replies are written in several writes; without NODELAY,
                // Nagle plus delayed ACKs add ~40 ms to every exchange.
                let _ = socket.set_nodelay(true);
                let (reqs, handler) = (reqs.clone(), handler.clone());
                tokio::spawn(async move {
                    let _ = serve(socket, reqs, handler, record).await;
                });
            }
        });
        Loopback {
            base_url: format!("http://{addr}"),
            requests,
            task,
            connections,
        }
    }

    /// Always the same reply.
    pub async fn always(reply: Reply) -> Self {
        Self::start(move |_, _| reply.clone()).await
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve(
    mut socket: TcpStream,
    reqs: Arc<Mutex<Vec<Recorded>>>,
    handler: Handler,
    record: bool,
) -> std::io::Result<()> {
    let mut served = 0usize;
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i;
            }
            let mut chunk = [0u8; 8192];
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_string();
        let path = first.next().unwrap_or("").to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| {
                l.split_once(':')
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            })
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        buf.drain(..head_end + 4);
        while buf.len() < len {
            let mut chunk = [0u8; 8192];
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body: Vec<u8> = buf.drain(..len).collect();
        let recorded = Recorded {
            method,
            path,
            headers,
            body,
        };
        let index = if record {
            let mut all = reqs.lock().unwrap();
            all.push(recorded.clone());
            all.len() - 1
        } else {
            served += 1;
            served - 1
        };
        let reply = handler(&recorded, index);
        pause(reply.delay).await;
        if !write_reply(&mut socket, &reply).await? {
            return Ok(());
        }
    }
}

/// Writes a reply; returns false when the connection must close.
async fn write_reply(socket: &mut TcpStream, reply: &Reply) -> std::io::Result<bool> {
    let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let mut budget = reply.cut_after.unwrap_or(usize::MAX);
    match &reply.body {
        Body::Full(bytes) => {
            head.push_str(&format!("content-length: {}\r\n\r\n", bytes.len()));
            socket.write_all(head.as_bytes()).await?;
            let n = bytes.len().min(budget);
            socket.write_all(&bytes[..n]).await?;
            socket.flush().await?;
            Ok(reply.cut_after.is_none())
        }
        Body::Pieces(pieces) => {
            head.push_str("transfer-encoding: chunked\r\n\r\n");
            socket.write_all(head.as_bytes()).await?;
            socket.flush().await?;
            for (piece, delay) in pieces {
                pause(*delay).await;
                if piece.is_empty() {
                    continue;
                }
                let n = piece.len().min(budget);
                socket.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                socket.write_all(&piece[..n]).await?;
                socket.write_all(b"\r\n").await?;
                socket.flush().await?;
                budget -= n;
                if budget == 0 {
                    return Ok(false);
                }
            }
            socket.write_all(b"0\r\n\r\n").await?;
            socket.flush().await?;
            Ok(true)
        }
    }
}

/// Sleeps only for a real delay: tokio's timer has millisecond ticks, so
/// even `sleep(ZERO)` can park a reply until the next one (it held every
/// benchmark call at ~1.4 ms).
async fn pause(delay: Duration) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Where shared fixtures live, or `None` (with the reason printed) when this
/// clone has no `../shared` beside it. Tests that need it skip, loudly.
pub fn shared_dir(what: &str) -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "SKIPPED {what}: {} is absent (a clone without ../shared); CI has it",
            dir.display()
        );
        None
    }
}

/// A client pointed at the loopback server with a fixed test key.
pub fn client_for(server: &Loopback) -> maverick::ClientBuilder {
    maverick::Client::builder()
        .api_key("sk-test-SECRET-0123456789")
        .base_url(server.base_url.clone())
}
