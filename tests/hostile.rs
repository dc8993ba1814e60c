//! Hostile-server suite: nothing a server sends may panic, hang or exhaust
//! a service using the client. A raw TCP loopback server (bytes written
//! exactly as generated, so framing is ours to break) answers with random
//! and mutated responses built from the real transcripts in
//! `../shared/fixtures/transcripts/` and from spec-shaped bodies: any status,
//! hostile values in every header the client reads, broken framing, bodies
//! cut anywhere, hostile SSE, deep JSON, overflowing numbers.
//!
//! Each case must end in `Ok` or a typed `Error` within [`BOUND`], with the
//! heap growing by less than [`HEAP_BOUND`] (a counting allocator measures
//! it; the tests take a lock so that measurements do not mix). A panic, a
//! hang or a blown bound fails the case, and proptest prints it.
//!
//! Case counts are fixed (see each test); `HOSTILE_SCALE=10` multiplies them.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use maverick::{CallOptions, ChatRequest, Client, Error};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// ---------------------------------------------------------------- bounds

/// Longest any case may take, retries and timeouts included.
const BOUND: Duration = Duration::from_secs(5);
/// Most the heap may grow while a case runs (the case's own bytes are
/// allocated before the baseline). The client's limits below are far
/// smaller; this catches a buffer that grows with what the server sends.
const HEAP_BOUND: usize = 24 * 1024 * 1024;

const REQUEST_TIMEOUT: Duration = Duration::from_millis(300);
const STREAM_IDLE: Duration = Duration::from_millis(200);
const STREAM_TOTAL: Duration = Duration::from_millis(600);
const MAX_BODY: usize = 256 * 1024;
const MAX_EVENT: usize = 64 * 1024;
const MAX_STREAM: u64 = 1024 * 1024;

// ------------------------------------------------------- heap accounting

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// One test at a time, so that heap measurements do not mix.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

fn scale() -> u32 {
    std::env::var("HOSTILE_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

// ------------------------------------------------------------------ seeds

/// Bodies the cases are built from.
struct Seeds {
    /// Non-streaming completions (and error objects sent with 200).
    json: Vec<Vec<u8>>,
    /// Whole event streams.
    sse: Vec<Vec<u8>>,
    /// One chunk's JSON each.
    chunks: Vec<Vec<u8>>,
    /// Error bodies in both known shapes.
    errors: Vec<Vec<u8>>,
    from_transcripts: usize,
}

const COMPLETION: &str = r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":"hi","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#;
const CHUNKS: [&str; 4] = [
    r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}"#,
    r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]},"finish_reason":null}]}"#,
    r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]},"finish_reason":"tool_calls"}]}"#,
    r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#,
];
const ERRORS: [&str; 4] = [
    r#"{"message":["temperature must not be greater than 2"],"path":"/v1/chat/completions","requestId":"r","statusCode":400,"timestamp":"2026-01-01T00:00:00Z"}"#,
    r#"{"error":{"message":"Invalid API key","type":"invalid_request_error","code":401}}"#,
    r#"{"statusCode":"429","message":"slow down"}"#,
    r#"{"error":"overloaded"}"#,
];

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut s = Seeds {
            json: vec![COMPLETION.as_bytes().to_vec()],
            sse: Vec::new(),
            chunks: CHUNKS.iter().map(|c| c.as_bytes().to_vec()).collect(),
            errors: ERRORS.iter().map(|c| c.as_bytes().to_vec()).collect(),
            from_transcripts: 0,
        };
        s.json.extend(s.errors.iter().cloned());
        let mut spec_sse = Vec::new();
        for c in CHUNKS {
            spec_sse.extend_from_slice(format!("data: {c}\n\n").as_bytes());
        }
        spec_sse.extend_from_slice(b"data: [DONE]\n\n");
        s.sse.push(spec_sse);
        for (name, body) in transcripts() {
            s.from_transcripts += 1;
            if body.starts_with(b"data:") {
                for line in body.split(|b| *b == b'\n') {
                    if let Some(json) = line.strip_prefix(b"data: ") {
                        if json.starts_with(b"{") {
                            s.chunks.push(json.to_vec());
                        }
                    }
                }
                s.sse.push(body);
            } else {
                assert!(body.starts_with(b"{"), "{name} is neither JSON nor SSE");
                s.json.push(body);
            }
        }
        s
    })
}

/// `(name, body)` of every transcript, or none (with the reason printed).
fn transcripts() -> Vec<(String, Vec<u8>)> {
    let Some(dir) = support::shared_dir("transcript seeds for the hostile suite (spec-shaped seeds only)") else {
        return Vec::new();
    };
    let dir = dir.join("fixtures/transcripts");
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let raw = std::fs::read(dir.join(&name)).unwrap();
        if name.ends_with(".body") {
            out.push((name, raw));
        } else if name.ends_with(".http") {
            let end = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
            let end = end.or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2));
            out.push((name, raw[end.unwrap()..].to_vec()));
        }
    }
    out
}

// ------------------------------------------------------------ the server

/// What the server writes on every connection of one case.
#[derive(Clone)]
struct Wire {
    bytes: Vec<u8>,
    /// Sizes of the writes (cycled), each flushed, so that the client sees
    /// arbitrary read boundaries.
    writes: Vec<usize>,
    /// Keep the connection open after writing, until the case ends.
    linger: bool,
}

/// A loopback server that answers every request with the current case's
/// `wire`; [`Server::end_case`] drops every connection of the case.
struct Server {
    url: String,
    wire: Arc<Mutex<Arc<Wire>>>,
    conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
        self.end_case();
    }
}

impl Server {
    async fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let wire = Arc::new(Mutex::new(Arc::new(Wire {
            bytes: Vec::new(),
            writes: Vec::new(),
            linger: false,
        })));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let (w, c) = (wire.clone(), conns.clone());
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let _ = socket.set_nodelay(true);
                let wire = w.lock().unwrap().clone();
                let handle = tokio::spawn(answer(socket, wire));
                c.lock().unwrap().push(handle.abort_handle());
            }
        });
        Server { url, wire, conns, task }
    }

    fn set(&self, wire: Wire) {
        *self.wire.lock().unwrap() = Arc::new(wire);
    }

    fn end_case(&self) {
        for conn in self.conns.lock().unwrap().drain(..) {
            conn.abort();
        }
    }
}

async fn answer(mut socket: TcpStream, wire: Arc<Wire>) {
    if read_request(&mut socket).await.is_none() {
        return;
    }
    let mut at = 0;
    let mut sizes = wire.writes.iter().cycle();
    // At most ~300 writes, however small the sizes.
    let floor = wire.bytes.len() / 300;
    while at < wire.bytes.len() {
        let n = sizes.next().copied().unwrap_or(usize::MAX).max(floor).max(1);
        let end = at.saturating_add(n).min(wire.bytes.len());
        if socket.write_all(&wire.bytes[at..end]).await.is_err() || socket.flush().await.is_err() {
            return;
        }
        at = end;
    }
    if wire.linger {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    let _ = socket.shutdown().await;
}

/// Reads one request (head and `Content-Length` body), bounded.
async fn read_request(socket: &mut TcpStream) -> Option<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 1 << 20 {
            return None;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len.min(1 << 20) {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(())
}

// ------------------------------------------------------------- the cases

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Chat,
    /// `chat_stream` then `collect`.
    Collect,
    /// `chat_stream` then every item, errors included.
    Items,
}

#[derive(Clone, Debug)]
enum Framing {
    /// `Content-Length` off by `delta` from the body's length.
    Length(i16),
    /// Chunked; `bad` breaks the framing.
    Chunked { sizes: Vec<usize>, bad: Option<u8> },
    /// Both `Content-Length` and chunked.
    Both(i16),
    /// Neither: the body ends when the connection closes.
    Close,
    /// Two different `Content-Length` headers.
    TwoLengths,
}

#[derive(Clone)]
struct Case {
    api: Api,
    status_line: Vec<u8>,
    headers: Vec<(String, Vec<u8>)>,
    framing: Framing,
    body: Vec<u8>,
    /// Close after this many bytes of the framed body.
    cut: Option<usize>,
    linger: bool,
    retries: u32,
    writes: Vec<usize>,
}

fn show(bytes: &[u8], max: usize) -> String {
    let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).into_owned();
    if bytes.len() > max {
        format!("{shown:?}… ({} bytes)", bytes.len())
    } else {
        format!("{shown:?}")
    }
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Case")
            .field("api", &self.api)
            .field("status_line", &show(&self.status_line, 80))
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", show(v, 60)))
                    .collect::<Vec<_>>(),
            )
            .field("framing", &self.framing)
            .field("body", &show(&self.body, 400))
            .field("cut", &self.cut)
            .field("linger", &self.linger)
            .field("retries", &self.retries)
            .field("writes", &self.writes)
            .finish()
    }
}

impl Case {
    fn wire(&self) -> Wire {
        let mut out = self.status_line.clone();
        for (k, v) in &self.headers {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        let len = self.body.len() as i64;
        let body = match &self.framing {
            Framing::Length(delta) => {
                out.extend_from_slice(format!("content-length: {}\r\n", (len + i64::from(*delta)).max(0)).as_bytes());
                self.body.clone()
            }
            Framing::Both(delta) => {
                out.extend_from_slice(format!("content-length: {}\r\n", (len + i64::from(*delta)).max(0)).as_bytes());
                out.extend_from_slice(b"transfer-encoding: chunked\r\n");
                chunked(&self.body, &[4096], None)
            }
            Framing::Chunked { sizes, bad } => {
                out.extend_from_slice(b"transfer-encoding: chunked\r\n");
                chunked(&self.body, sizes, *bad)
            }
            Framing::Close => self.body.clone(),
            Framing::TwoLengths => {
                out.extend_from_slice(format!("content-length: {len}\r\ncontent-length: {}\r\n", len + 1).as_bytes());
                self.body.clone()
            }
        };
        out.extend_from_slice(b"\r\n");
        let keep = self.cut.map_or(body.len(), |c| c.min(body.len()));
        out.extend_from_slice(&body[..keep]);
        Wire {
            bytes: out,
            writes: self.writes.clone(),
            linger: self.linger,
        }
    }
}

/// Chunked transfer coding, optionally broken.
fn chunked(body: &[u8], sizes: &[usize], bad: Option<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    let mut sizes = sizes.iter().cycle();
    let mut first = true;
    while !rest.is_empty() {
        let n = sizes.next().copied().unwrap_or(rest.len()).clamp(1, rest.len());
        let size = match (bad, first) {
            (Some(0), true) => "fffffffffffffffffffffff".to_string(),
            (Some(1), true) => "zz".to_string(),
            (Some(2), true) => format!("-{n:x}"),
            (Some(3), _) => format!("{n:x};ext=\"v\";x"),
            (Some(4), true) => format!("{:x}", n + 10),
            (Some(5), true) => format!("{:x}", n.saturating_sub(1)),
            _ => format!("{n:x}"),
        };
        out.extend_from_slice(size.as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&rest[..n]);
        if bad == Some(6) && first {
            out.extend_from_slice(b"\n");
        } else {
            out.extend_from_slice(b"\r\n");
        }
        rest = &rest[n..];
        first = false;
    }
    match bad {
        // No last chunk: the body never ends properly.
        Some(7) => {}
        Some(8) => out.extend_from_slice(b"0\r\nx-trailer: 1\r\nretry-after: 1e30\r\n\r\n"),
        _ => out.extend_from_slice(b"0\r\n\r\n"),
    }
    out
}

const HOSTILE_VALUES: &[&[u8]] = &[
    b"",
    b" ",
    b"0",
    b"-1",
    b"-0",
    b"1",
    b"0.001",
    b"NaN",
    b"nan",
    b"inf",
    b"-inf",
    b"Infinity",
    b"1e20",
    b"1e30",
    b"1e308",
    b"1e309",
    b"-1e309",
    b"18446744073709551615",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"99999999999999999999999999999999999999999",
    b"0x10",
    b"1_000",
    b"\xc3\xa9\xc3\xa9",
    b"\xff\xfe\xfd",
    b"\xd9\xa3",
    b"true",
    b"false",
    b"TRUE",
    b"Fri, 31 Dec 9999 23:59:59 GMT",
    b"Thu, 01 Jan 1970 00:00:00 GMT",
    b"Sun, 06 Nov 1994 08:49:37 GMT",
    b"Mon, 99 Foo 2026 99:99:99 GMT",
    b"text/event-stream",
    b"application/json",
    b"application/json; charset=utf-16",
    b"text/html",
    b"text/event-stream; charset=latin1",
    b"multipart/form-data; boundary=x",
    b"gzip",
    b"br",
    b"deflate",
    b"zstd",
    b"chunked",
    b"gzip, chunked",
    b"identity",
    b"close",
    b"keep-alive",
    b"upgrade",
    b"/v1/chat/completions",
    b"http://127.0.0.1:1/v1/chat/completions",
    b"https://evil.example/steal",
    b"//evil.example/",
    b"\\\\evil",
    b"\x01\x02",
];

const HEADER_NAMES: &[&str] = &[
    "retry-after",
    "retry-after-ms",
    "x-should-retry",
    "x-inference-id",
    "x-aimlapi-credits-used",
    "x-aimlapi-usd-spent",
    "content-type",
    "content-encoding",
    "content-length",
    "transfer-encoding",
    "location",
    "connection",
    "x-client-request-id",
    "x-ratelimit-remaining-requests",
];

fn header_value() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        6 => proptest::sample::select(HOSTILE_VALUES).prop_map(|v| v.to_vec()),
        // Huge: past hyper's head limit at the top of the range.
        1 => (1usize..600_000).prop_map(|n| vec![b'9'; n]),
        1 => proptest::collection::vec(any::<u8>(), 0..40),
        1 => any::<f64>().prop_map(|f| f.to_string().into_bytes()),
        1 => any::<i128>().prop_map(|i| i.to_string().into_bytes()),
    ]
    .boxed()
}

fn headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let one = (
        prop_oneof![
            8 => proptest::sample::select(HEADER_NAMES).prop_map(str::to_string),
            1 => "[a-z-]{1,12}",
        ],
        header_value(),
    );
    prop_oneof![
        3 => proptest::collection::vec(one.clone(), 0..6),
        // Many headers, and repeated ones.
        1 => (one, 2usize..150).prop_map(|(h, n)| vec![h; n]),
    ]
}

fn status_line() -> impl Strategy<Value = Vec<u8>> {
    let code = prop_oneof![
        4 => proptest::sample::select(vec![
            100u16, 101, 102, 103, 199, 200, 201, 204, 206, 299, 300, 301, 302, 303, 304, 307, 308, 400, 401, 403,
            404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 599, 600, 999,
        ]),
        1 => 0u16..=1000,
    ];
    prop_oneof![
        10 => code.prop_map(|c| format!("HTTP/1.1 {c:03} X\r\n").into_bytes()),
        1 => proptest::sample::select(vec![
            &b"HTTP/1.0 200 OK\r\n"[..],
            b"HTTP/2 200\r\n",
            b"HTTP/1.1 2000 OK\r\n",
            b"HTTP/1.1 abc OK\r\n",
            b"HTTP/1.1 200\n",
            b"ICY 200 OK\r\n",
            b"\r\n",
            b"",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n",
            b"HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\nHTTP/1.1 429 X\r\nretry-after: 1e30\r\n",
            b"HTTP/1.1 200 \xff\xfe\r\n",
        ])
        .prop_map(|s| s.to_vec()),
    ]
}

fn framing() -> impl Strategy<Value = Framing> {
    prop_oneof![
        6 => Just(Framing::Length(0)),
        2 => (-64i16..64).prop_map(Framing::Length),
        4 => (
            proptest::collection::vec(1usize..300, 1..5),
            proptest::option::weighted(0.3, 0u8..9)
        )
            .prop_map(|(sizes, bad)| Framing::Chunked { sizes, bad }),
        1 => (-8i16..8).prop_map(Framing::Both),
        2 => Just(Framing::Close),
        1 => Just(Framing::TwoLengths),
    ]
}

/// Edits to a seed body.
#[derive(Debug, Clone)]
enum Mutation {
    /// Keep this fraction (in 1/65535ths) of the body.
    Cut(u16),
    Insert(u16, Vec<u8>),
    Flip(u16, u8),
    /// Every JSON number becomes this one.
    Numbers(&'static str),
    /// Wraps the body in this many arrays or objects.
    Nest(u32, bool),
    /// Repeats a slice many times.
    Repeat(u16, u16, u16),
}

const NUMBERS: &[&str] = &[
    "1e400",
    "-1e400",
    "18446744073709551616",
    "-9223372036854775809",
    "340282366920938463463374607431768211456",
    "4294967296",
    "65536",
    "-1",
    "1.5",
    "1e-400",
    "-0",
    "0.0000000000000000000000000000000000000000001",
    "123456789012345678901234567890123456789012345678901234567890",
];

const INSERTS: &[&[u8]] = &[
    b"\0",
    b"\0\0\0\0",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\r",
    b"\n",
    b"\n\n",
    b"\r\n\r\n",
    b"data: [DONE]\n\n",
    b"data: [DONE]",
    b"[DONE]",
    b": keep-alive\n\n",
    b"event: error\n",
    b"event: error\ndata: {\"error\":{\"message\":\"boom\"}}\n\n",
    b"data: {\"statusCode\":500,\"message\":\"x\"}\n\n",
    b"retry: 99999999999999999999\n",
    b"id: \0\n",
    b"data:",
    b"\"",
    b"}",
    b"{",
    b"]",
    b",",
    b"\\u0000",
    b"\\ud800",
    b"\\uDFFF\\uD800",
    b"null",
    b"\"index\":4294967296,",
    b"\"choices\":[],",
    b"\"choices\":null,",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => any::<u16>().prop_map(Mutation::Cut),
        3 => (
            any::<u16>(),
            prop_oneof![
                4 => proptest::sample::select(INSERTS).prop_map(|b| b.to_vec()),
                1 => proptest::collection::vec(any::<u8>(), 1..16)
            ]
        )
            .prop_map(|(at, b)| Mutation::Insert(at, b)),
        2 => (any::<u16>(), 1u8..=255).prop_map(|(at, x)| Mutation::Flip(at, x)),
        2 => proptest::sample::select(NUMBERS).prop_map(Mutation::Numbers),
        1 => (prop_oneof![1u32..200, 200u32..100_000], any::<bool>()).prop_map(|(d, o)| Mutation::Nest(d, o)),
        1 => (any::<u16>(), any::<u16>(), 2u16..2000).prop_map(|(a, b, n)| Mutation::Repeat(a, b, n)),
    ]
}

fn at(frac: u16, len: usize) -> usize {
    len * usize::from(frac) / usize::from(u16::MAX)
}

fn apply(body: &mut Vec<u8>, m: &Mutation) {
    match m {
        Mutation::Cut(f) => body.truncate(at(*f, body.len())),
        Mutation::Insert(f, bytes) => {
            let i = at(*f, body.len());
            body.splice(i..i, bytes.iter().copied());
        }
        Mutation::Flip(f, x) => {
            if !body.is_empty() {
                let i = at(*f, body.len() - 1);
                body[i] ^= x;
            }
        }
        Mutation::Numbers(n) => *body = replace_numbers(body, n.as_bytes()),
        Mutation::Nest(depth, object) => {
            let d = *depth as usize;
            let (open, close): (&[u8], &[u8]) = if *object { (b"{\"a\":", b"}") } else { (b"[", b"]") };
            let mut out = Vec::with_capacity(body.len() + d * (open.len() + 1));
            for _ in 0..d {
                out.extend_from_slice(open);
            }
            out.extend_from_slice(if body.is_empty() { b"1" } else { body });
            for _ in 0..d {
                out.extend_from_slice(close);
            }
            *body = out;
        }
        Mutation::Repeat(a, b, n) => {
            let (i, j) = (at(*a, body.len()), at(*b, body.len()));
            let (i, j) = (i.min(j), i.max(j).min(i + 256));
            let piece = body[i..j].to_vec();
            let repeated: Vec<u8> = piece
                .iter()
                .copied()
                .cycle()
                .take(piece.len() * usize::from(*n))
                .collect();
            body.splice(j..j, repeated);
        }
    }
}

/// Replaces every JSON number after a `:` or in an array with `n`.
fn replace_numbers(body: &[u8], n: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    let mut in_string = false;
    while i < body.len() {
        let b = body[i];
        if in_string {
            out.push(b);
            if b == b'\\' && i + 1 < body.len() {
                out.push(body[i + 1]);
                i += 1;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
        }
        if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < body.len() && matches!(body[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                i += 1;
            }
            if i > start {
                out.extend_from_slice(n);
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// One piece of a generated event stream.
#[derive(Debug, Clone)]
enum Sse {
    /// A seed chunk, maybe mutated.
    Event(usize, Vec<Mutation>),
    Done,
    Comments(u16),
    /// A `data:` line of this many bytes (past `max_event_bytes` above 64 KiB).
    Giant(u32),
    /// Many data lines in one event.
    ManyLines(u16),
    /// A data line with no blank line after it.
    NoBlank(usize),
    Raw(Vec<u8>),
    ErrorEvent(usize),
    /// Events with no data, ids, retries.
    Noise,
    LoneCrs,
}

fn sse_piece() -> impl Strategy<Value = Sse> {
    prop_oneof![
        10 => (any::<usize>(), proptest::collection::vec(mutation(), 0..2)).prop_map(|(i, m)| Sse::Event(i, m)),
        2 => Just(Sse::Done),
        2 => any::<u16>().prop_map(|n| Sse::Comments(n % 5000)),
        1 => prop_oneof![1u32..70_000, 60_000u32..300_000].prop_map(Sse::Giant),
        1 => (1u16..3000).prop_map(Sse::ManyLines),
        2 => any::<usize>().prop_map(Sse::NoBlank),
        2 => proptest::collection::vec(
            prop_oneof![
                3 => proptest::sample::select(INSERTS).prop_map(|b| b.to_vec()),
                1 => proptest::collection::vec(any::<u8>(), 1..32)
            ],
            1..4
        )
        .prop_map(|v| Sse::Raw(v.concat())),
        1 => any::<usize>().prop_map(Sse::ErrorEvent),
        1 => Just(Sse::Noise),
        1 => Just(Sse::LoneCrs),
    ]
}

fn render_sse(pieces: &[Sse]) -> Vec<u8> {
    let s = seeds();
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Sse::Event(i, ms) => {
                let mut chunk = s.chunks[i % s.chunks.len()].clone();
                for m in ms {
                    apply(&mut chunk, m);
                }
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(&chunk);
                out.extend_from_slice(b"\n\n");
            }
            Sse::Done => out.extend_from_slice(b"data: [DONE]\n\n"),
            Sse::Comments(n) => {
                for _ in 0..*n {
                    out.extend_from_slice(b": keep-alive\n");
                }
            }
            Sse::Giant(n) => {
                out.extend_from_slice(b"data: ");
                out.resize(out.len() + *n as usize, b'x');
                out.extend_from_slice(b"\n\n");
            }
            Sse::ManyLines(n) => {
                for _ in 0..*n {
                    out.extend_from_slice(b"data: {\"a\":1}\n");
                }
                out.push(b'\n');
            }
            Sse::NoBlank(i) => {
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(&s.chunks[i % s.chunks.len()]);
                out.push(b'\n');
            }
            Sse::Raw(bytes) => out.extend_from_slice(bytes),
            Sse::ErrorEvent(i) => {
                out.extend_from_slice(b"event: error\ndata: ");
                out.extend_from_slice(&s.errors[i % s.errors.len()]);
                out.extend_from_slice(b"\n\n");
            }
            Sse::Noise => out.extend_from_slice(b"event: ping\n\nid: 1\nretry: -5\nretry: 1e30\n\n:\n\nfoo\n\n"),
            Sse::LoneCrs => out.extend_from_slice(b"\r\r\r\rdata: \r\r"),
        }
    }
    out
}

/// A body for `api`: mutated seeds, generated event streams, raw bytes.
fn body(api: Api) -> BoxedStrategy<Vec<u8>> {
    let s = seeds();
    let json = (
        proptest::sample::select(s.json.clone()),
        prop_oneof![1 => Just(Vec::new()), 2 => proptest::collection::vec(mutation(), 1..4)],
    )
        .prop_map(|(mut b, ms)| {
            for m in &ms {
                apply(&mut b, m);
            }
            b
        });
    let whole_sse = (
        proptest::sample::select(s.sse.clone()),
        prop_oneof![1 => Just(Vec::new()), 2 => proptest::collection::vec(mutation(), 1..3)],
    )
        .prop_map(|(mut b, ms)| {
            for m in &ms {
                apply(&mut b, m);
            }
            b
        });
    let built_sse = proptest::collection::vec(sse_piece(), 0..12).prop_map(|p| render_sse(&p));
    let raw = proptest::collection::vec(any::<u8>(), 0..512);
    match api {
        Api::Chat => prop_oneof![6 => json, 1 => whole_sse, 1 => raw].boxed(),
        Api::Collect | Api::Items => prop_oneof![3 => whole_sse, 5 => built_sse, 1 => json, 1 => raw].boxed(),
    }
}

/// Half the cases keep HTTP itself sane (a plain status, correct framing,
/// hostile values only in the headers the client reads), so that the body
/// reaches the JSON and SSE decoders; the rest break HTTP too.
fn case(api: Api) -> BoxedStrategy<Case> {
    let polite = (
        prop_oneof![
            6 => Just(200u16),
            1 => proptest::sample::select(vec![201u16, 204, 299, 400, 401, 404, 422, 429, 500, 503]),
        ]
        .prop_map(|c| format!("HTTP/1.1 {c} OK\r\n").into_bytes()),
        proptest::collection::vec(
            (
                proptest::sample::select(&HEADER_NAMES[..8]).prop_map(str::to_string),
                header_value(),
            ),
            0..3,
        ),
        prop_oneof![
            2 => Just(Framing::Length(0)),
            2 => proptest::collection::vec(1usize..300, 1..5).prop_map(|sizes| Framing::Chunked { sizes, bad: None }),
            1 => Just(Framing::Close),
        ],
        body(api),
        Just(None),
        Just(false),
    );
    let hostile = (
        status_line(),
        headers(),
        framing(),
        body(api),
        proptest::option::weighted(0.1, any::<u16>()),
        proptest::bool::weighted(0.04),
    );
    let content_type = move |status: &[u8]| -> Vec<u8> {
        let sse = api != Api::Chat && status.starts_with(b"HTTP/1.1 200");
        if sse {
            b"text/event-stream".to_vec()
        } else {
            b"application/json".to_vec()
        }
    };
    (
        prop_oneof![3 => polite, 2 => hostile],
        prop_oneof![19 => Just(0u32), 1 => Just(1u32)],
        proptest::collection::vec(prop_oneof![1 => 1usize..8, 3 => 8usize..20_000], 1..4),
    )
        .prop_map(
            move |((status_line, mut headers, framing, body, cut, linger), retries, writes)| {
                if !headers.iter().any(|(k, _)| k == "content-type") {
                    headers.insert(0, ("content-type".to_string(), content_type(&status_line)));
                }
                Case {
                    api,
                    status_line,
                    headers,
                    cut: cut.map(|f| at(f, body.len() + 16)),
                    framing,
                    body,
                    linger,
                    retries,
                    writes,
                }
            },
        )
        .boxed()
}

// --------------------------------------------------------------- running

fn client(url: &str) -> Client {
    Client::builder()
        .api_key("sk-test-hostile")
        .base_url(url)
        .max_retry_wait(Duration::from_millis(100))
        .connect_timeout(Duration::from_secs(1))
        .request_timeout(REQUEST_TIMEOUT)
        .stream_idle_timeout(STREAM_IDLE)
        .stream_timeout(STREAM_TOTAL)
        .max_body_bytes(MAX_BODY)
        .max_event_bytes(MAX_EVENT)
        .max_stream_bytes(MAX_STREAM)
        .build()
        .unwrap()
}

/// How a call ended, for the tally.
fn outcome_name(result: &Result<usize, Error>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(Error::Api(e)) => format!("api {}", e.status / 100 * 100),
        Err(Error::Timeout { kind, .. }) => format!("timeout {kind}"),
        Err(Error::Interrupted { source, .. }) => format!("interrupted: {}", outcome_name(&Err(clone_kind(source)))),
        Err(e) => variant(e).to_string(),
    }
}

fn variant(e: &Error) -> &'static str {
    match e {
        Error::Api(_) => "api",
        Error::Transport { .. } => "transport",
        Error::Timeout { .. } => "timeout",
        Error::Decode { .. } => "decode",
        Error::InvalidRequest { .. } => "invalid request",
        Error::Config(_) => "config",
        Error::ModelOutput { .. } => "model output",
        Error::Interrupted { .. } => "interrupted",
        Error::Stream { .. } => "stream",
        _ => "other",
    }
}

/// Stand-in for the tally only (Error is not Clone).
fn clone_kind(e: &Error) -> Error {
    match e {
        Error::Api(a) => Error::Api(a.clone()),
        Error::Timeout { kind, after, .. } => Error::Timeout {
            kind: *kind,
            after: *after,
            request_id: String::new(),
        },
        other => Error::Stream {
            request_id: String::new(),
            message: variant(other).into(),
        },
    }
}

type Tally = Mutex<BTreeMap<String, usize>>;

/// The server and client one suite shares: building a client per case
/// would cost more than the case itself.
struct Rig {
    server: Server,
    client: Client,
}

/// Runs one case; `Err` describes a broken property.
fn run(rig: &Rig, case: &Case, tally: &Tally) -> Result<(), String> {
    rig.server.set(case.wire());
    let api = case.api;
    let options = CallOptions::default().max_retries(case.retries);
    let client = rig.client.clone();
    let result = runtime().block_on(async move {
        let baseline = CURRENT.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        let started = Instant::now();
        let call = tokio::spawn(async move {
            let request = ChatRequest::user_prompt("hi");
            match api {
                Api::Chat => client.chat_with(request, options).await.map(|_| 1),
                Api::Collect => client
                    .chat_stream_with(request, options)
                    .await?
                    .into_response()
                    .await
                    .map(|_| 1),
                Api::Items => {
                    let mut stream = client.chat_stream_with(request, options).await?;
                    let mut n = 0;
                    while let Some(item) = stream.next().await {
                        item?;
                        n += 1;
                    }
                    // A stream that ended stays ended.
                    assert!(stream.next().await.is_none(), "an ended stream yielded again");
                    Ok(n)
                }
            }
        });
        let abort = call.abort_handle();
        let joined = tokio::time::timeout(BOUND, call).await;
        let result = match joined {
            Err(_) => {
                abort.abort();
                return Err(format!("hang: no outcome within {BOUND:?}"));
            }
            Ok(Err(join)) => {
                let panic = join.into_panic();
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                return Err(format!("panic: {msg}"));
            }
            Ok(Ok(result)) => result,
        };
        let took = started.elapsed();
        let grew = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
        if grew > HEAP_BOUND {
            return Err(format!("the heap grew by {grew} bytes (bound {HEAP_BOUND})"));
        }
        if let Err(e) = &result {
            // Errors a server can cause are about the exchange, never about
            // the caller's request or configuration.
            if matches!(e, Error::Config(_) | Error::InvalidRequest { .. }) {
                return Err(format!("a server caused a caller-side error: {e}"));
            }
            // Every message renders (Display walks nested errors).
            let _ = e.to_string();
        }
        let mut t = tally.lock().unwrap();
        *t.entry(outcome_name(&result)).or_default() += 1;
        *t.entry("~ total ms".into()).or_default() += took.as_millis() as usize;
        Ok(())
    });
    rig.server.end_case();
    result
}

fn run_suite(name: &str, api: Api, cases: u32) {
    let _serial = serial();
    let cases = cases * scale();
    let tally: Tally = Mutex::new(BTreeMap::new());
    let started = Instant::now();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 256,
        max_shrink_time: 60_000,
        ..Config::default()
    });
    let rig = runtime().block_on(async {
        let server = Server::start().await;
        let client = client(&server.url);
        Rig { server, client }
    });
    let result = runner.run(&case(api), |case| run(&rig, &case, &tally).map_err(TestCaseError::fail));
    let tally = tally.into_inner().unwrap();
    println!(
        "{name}: {cases} cases in {:.1} s (seeds: {} from transcripts); outcomes: {tally:?}",
        started.elapsed().as_secs_f64(),
        seeds().from_transcripts
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

#[test]
fn hostile_servers_chat() {
    run_suite("chat", Api::Chat, 1000);
}

#[test]
fn hostile_servers_stream_collect() {
    run_suite("chat_stream + collect", Api::Collect, 800);
}

#[test]
fn hostile_servers_stream_items() {
    run_suite("chat_stream items", Api::Items, 800);
}
