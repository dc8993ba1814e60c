//! Forwards one exchange to the upstream host and back: the request as it
//! came (minus connection headers), the answer as it arrives, each stream
//! event passed on the moment its blank line is in, validated and recorded
//! on the side.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::validate::{self, Finding, Part, StreamCheck};
use super::ProxyState;
use crate::cassette::{body_fields, Cassette, RecordedAnswer, RecordedCall, RecordedEvent};
use crate::problem;
use crate::server::lock;
use crate::sse::Splitter;

/// A non-streamed answer larger than this is refused with a 502 rather than
/// held in memory.
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;
/// Events waiting for a slow client before the proxy stops reading upstream.
const EVENT_QUEUE: usize = 64;
/// Event data kept for one stream's cassette; past this the cassette is
/// marked truncated and the stream still flows through, so an endless
/// stream cannot grow the proxy's memory.
const MAX_RECORDED_STREAM_BYTES: usize = 64 * 1024 * 1024;

/// Headers that describe one hop, never forwarded either way.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
    // Asked of the upstream by the proxy itself: it must read the answer
    // to validate it, so it takes it uncompressed.
    "accept-encoding",
];

/// What the rest of the exchange needs to know about its request.
struct Exchange {
    label: String,
    cassette_name: Option<String>,
    call: Option<RecordedCall>,
    request_json: Option<Value>,
    findings: Vec<Finding>,
}

pub(crate) async fn handle(
    State(state): State<Arc<ProxyState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let path = uri.path().to_string();
    let number = state.counter.fetch_add(1, Ordering::Relaxed).saturating_add(1);
    let body = match body {
        Ok(b) => b,
        Err(rejection) => return problem::refused_body(&rejection, &path, &format!("proxy-{number}")),
    };
    let exchange = begin(&state, number, &path, &method, &headers, &body);

    let target = match uri.query() {
        Some(q) => format!("{}{path}?{q}", state.upstream),
        None => format!("{}{path}", state.upstream),
    };
    let mut request = state.http.request(method, &target).body(body);
    for (name, value) in &headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            request = request.header(name, value);
        }
    }
    let upstream = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            lock(&state.report).exchange(false, true);
            lock(&state.report).add(&exchange.label, exchange.findings);
            let message = format!(
                "maverick proxy: the upstream {} did not answer: {}",
                state.upstream,
                maverick::error_chain(&e)
            );
            return problem::response(StatusCode::BAD_GATEWAY, json!(message), &path, &exchange.label);
        }
    };
    let status = upstream.status();
    let head = upstream.headers().clone();
    let streamed = status.is_success()
        && head
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));

    let mut builder = Response::builder().status(status);
    for (name, value) in &head {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            builder = builder.header(name, value);
        }
    }
    let body = if streamed {
        let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(EVENT_QUEUE);
        tokio::spawn(pump(state.clone(), exchange, upstream, status.as_u16(), head, tx));
        Body::from_stream(tokio_stream(rx))
    } else {
        match answer(&state, exchange, upstream, status, &head).await {
            Ok(bytes) => Body::from(bytes),
            Err(message) => return problem::response(StatusCode::BAD_GATEWAY, json!(message), &path, "proxy"),
        }
    };
    builder.body(body).unwrap_or_else(|e| {
        let message = format!("maverick proxy: the upstream answer could not be passed on: {e}");
        problem::response(StatusCode::BAD_GATEWAY, json!(message), &path, "proxy")
    })
}

/// Validates the request and prepares its cassette entry.
fn begin(state: &ProxyState, number: u64, path: &str, method: &Method, headers: &HeaderMap, body: &[u8]) -> Exchange {
    let parsed = serde_json::from_slice::<Value>(body);
    let findings = match &parsed {
        Ok(v) => validate::check_request(v),
        Err(e) => validate::not_json(Part::Request, &String::from_utf8_lossy(body), e),
    };
    let request_json = parsed.ok();
    let (cassette_name, call) = match &state.recorder {
        Some(rec) => {
            let name = rec.name_for(request_json.as_ref(), body);
            let (json_body, body_text) = body_fields(body);
            let call = RecordedCall {
                method: method.to_string(),
                path: path.to_string(),
                headers: rec.headers(headers),
                body: json_body,
                body_text,
            };
            (Some(name), Some(call))
        }
        None => (None, None),
    };
    Exchange {
        label: cassette_name.clone().unwrap_or_else(|| format!("#{number}")),
        cassette_name,
        call,
        request_json,
        findings,
    }
}

/// A whole (non-stream) answer: read within the cap, validated when it is a
/// success, recorded.
async fn answer(
    state: &ProxyState,
    mut exchange: Exchange,
    upstream: reqwest::Response,
    status: StatusCode,
    head: &HeaderMap,
) -> Result<Bytes, String> {
    let mut bytes = Vec::new();
    let mut stream = upstream.bytes_stream();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|e| {
            format!(
                "maverick proxy: the upstream answer broke off: {}",
                maverick::error_chain(&e)
            )
        });
        let piece = match piece {
            Ok(p) => p,
            Err(message) => {
                finish(state, exchange, false, true, None);
                return Err(message);
            }
        };
        if bytes.len().saturating_add(piece.len()) > MAX_ANSWER_BYTES {
            finish(state, exchange, false, true, None);
            return Err(format!(
                "maverick proxy: the upstream answer is larger than {MAX_ANSWER_BYTES} bytes"
            ));
        }
        bytes.extend_from_slice(&piece);
    }
    if status.is_success() {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => exchange.findings.extend(validate::check_response(&v)),
            Err(e) => {
                exchange
                    .findings
                    .extend(validate::not_json(Part::Response, &String::from_utf8_lossy(&bytes), &e))
            }
        }
    }
    let recorded = state.recorder.as_ref().map(|rec| {
        let (body, body_text) = body_fields(&bytes);
        RecordedAnswer {
            status: status.as_u16(),
            headers: rec.headers(head),
            body,
            body_text,
            events: None,
            complete: true,
            truncated: false,
        }
    });
    finish(state, exchange, false, !status.is_success(), recorded);
    Ok(Bytes::from(bytes))
}

/// Reads the upstream stream, passes on each event as soon as it is whole,
/// checks and records it, and closes the exchange when the stream ends.
async fn pump(
    state: Arc<ProxyState>,
    mut exchange: Exchange,
    upstream: reqwest::Response,
    status: u16,
    head: HeaderMap,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let started = Instant::now();
    let mut splitter = Splitter::default();
    let mut check = StreamCheck::new(exchange.request_json.as_ref());
    let mut events = Vec::new();
    let mut recorded_bytes: usize = 0;
    let mut truncated = false;
    let mut complete = true;
    let mut client_gone = false;
    let mut stream = upstream.bytes_stream();
    while let Some(piece) = stream.next().await {
        let piece = match piece {
            Ok(p) => p,
            Err(e) => {
                complete = false;
                let reason = format!("the upstream stream broke off: {}", maverick::error_chain(&e));
                let _ = tx.send(Err(std::io::Error::other(reason))).await;
                break;
            }
        };
        let pushed = splitter.push(&piece);
        for event in pushed.events {
            if let Some(data) = &event.data {
                // Findings go to the report as they come, not held per stream.
                let found = check.data(data);
                if !found.is_empty() {
                    lock(&state.report).add(&exchange.label, found);
                }
                recorded_bytes = recorded_bytes.saturating_add(data.len());
                if state.recorder.is_some() && !truncated {
                    if recorded_bytes > MAX_RECORDED_STREAM_BYTES {
                        truncated = true;
                    } else {
                        let at_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                        events.push(RecordedEvent::new(at_ms, data));
                    }
                }
            }
            if tx.send(Ok(event.raw)).await.is_err() {
                client_gone = true;
                break;
            }
        }
        if let Some(raw) = pushed.passthrough {
            if tx.send(Ok(raw)).await.is_err() {
                client_gone = true;
            }
        }
        if client_gone {
            break;
        }
    }
    let overflowed = splitter.overflowed();
    if overflowed {
        exchange
            .findings
            .push(Finding::framing_size(crate::sse::MAX_EVENT_BYTES));
    }
    if !client_gone {
        if let Some(rest) = splitter.finish() {
            // An unfinished event is still passed on: the client decides
            // what to make of it, as it would talking to the host directly.
            complete = false;
            let _ = tx.send(Ok(rest)).await;
        }
        if !overflowed {
            exchange.findings.extend(check.finish(complete));
        }
    }
    drop(tx);
    let recorded = state.recorder.as_ref().map(|rec| RecordedAnswer {
        status,
        headers: rec.headers(&head),
        body: None,
        body_text: None,
        events: Some(events),
        complete: complete && !client_gone,
        truncated,
    });
    finish(&state, exchange, true, false, recorded);
}

/// Adds the exchange to the report and writes its cassette.
fn finish(
    state: &ProxyState,
    exchange: Exchange,
    streamed: bool,
    upstream_error: bool,
    answer: Option<RecordedAnswer>,
) {
    {
        let mut report = lock(&state.report);
        report.exchange(streamed, upstream_error);
        report.add(&exchange.label, exchange.findings);
    }
    if let (Some(rec), Some(name), Some(call), Some(answer)) =
        (&state.recorder, exchange.cassette_name, exchange.call, answer)
    {
        if let Err(message) = rec.write(&name, &Cassette::new(call, answer)) {
            lock(&state.record_errors).push(message);
        }
    }
}

/// The channel as a body stream.
fn tokio_stream(
    rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
}

/// `GET /_proxy/report`: the drift report so far, JSON by default,
/// `?format=text` for people.
pub(crate) async fn report(State(state): State<Arc<ProxyState>>, uri: Uri) -> Response {
    let report = lock(&state.report).clone();
    let text = uri.query().is_some_and(|q| q.split('&').any(|p| p == "format=text"));
    match text {
        true => {
            let mut res = report.to_text().into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            res
        }
        _ => {
            let mut res = report.to_json().to_string().into_response();
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            res
        }
    }
}
