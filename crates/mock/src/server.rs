//! The HTTP side: routing, auth, validation, and writing the planned answer
//! as JSON or as an event stream, with any fault applied on the way out.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::contract::{Contract, Violation};
use crate::fault::{Cut, Fault};
use crate::record::RecordedRequest;
use crate::replay::{Replay, ReplaySource};
use crate::{plan, problem, wire};

/// Request bodies up to this size are read; base64 images make them large.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Requests kept for [`MockServer::requests`](crate::MockServer::requests):
/// the most recent ones, at most this many...
const MAX_RECORDED: usize = 10_000;
/// ...and bodies of at most this many bytes in all (the newest is always kept).
const MAX_RECORDED_BYTES: usize = 64 * 1024 * 1024;
/// How long a cut waits so the bytes before it reach the client.
const FLUSH_BEFORE_CUT: Duration = Duration::from_millis(50);
/// What one credit costs in USD in the billing headers.
const USD_PER_CREDIT: f64 = 0.000_000_5;

/// How the mock behaves; shared by [`MockServer`](crate::MockServer) and [`serve`](crate::serve).
#[derive(Clone, Default)]
pub struct MockConfig {
    pub(crate) api_key: Option<String>,
    pub(crate) seed: u64,
    pub(crate) replay: Option<ReplaySource>,
}

impl std::fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockConfig")
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("seed", &self.seed)
            .field("replay", &self.replay)
            .finish()
    }
}

impl MockConfig {
    /// Only this bearer key is accepted; without it any non-empty key is.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Mixed into every answer, so two mocks can give different but each
    /// reproducible replies to the same request.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Answers from the cassettes in `dir` (written by `maverick proxy
    /// --record` or [`ProxyBuilder::record`](crate::ProxyBuilder::record))
    /// instead of generating answers; see [`MockBuilder::replay`](crate::MockBuilder::replay).
    pub fn replay(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.replay = Some(ReplaySource::new(dir.into()));
        self
    }

    /// Replay pace: 1 as recorded, 2 twice as fast, 0 without waiting.
    /// Only meaningful with [`MockConfig::replay`].
    pub fn replay_speed(mut self, speed: f64) -> Result<Self, crate::MockError> {
        let permille = crate::replay::speed_permille(speed).map_err(crate::MockError::Replay)?;
        if let Some(source) = &mut self.replay {
            source.speed_permille = permille;
        }
        Ok(self)
    }

    /// Top-level request fields ignored when matching a request to a
    /// cassette; replaces the default list ([`DEFAULT_VOLATILE`](crate::cassette::DEFAULT_VOLATILE)).
    pub fn replay_volatile<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        if let Some(source) = &mut self.replay {
            source.volatile = fields.into_iter().map(Into::into).collect();
        }
        self
    }

    /// Rejects settings the mock cannot honour, before anything is bound.
    pub fn check(&self) -> Result<(), crate::MockError> {
        match &self.api_key {
            Some(k) if k.trim().is_empty() => Err(crate::MockError::EmptyKey),
            _ => Ok(()),
        }
    }
}

/// State every request handler sees.
pub(crate) struct Shared {
    config: MockConfig,
    contract: &'static Contract,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) script: Mutex<VecDeque<Fault>>,
    counter: AtomicU64,
    /// Tokens of `x-mock-fault: FAULT;once=TOKEN` faults already served.
    once_seen: Mutex<std::collections::HashSet<String>>,
    replay: Option<Replay>,
}

impl Shared {
    pub(crate) fn new(config: MockConfig) -> Result<Arc<Shared>, crate::MockError> {
        let replay = match &config.replay {
            Some(source) => Some(Replay::load(source).map_err(crate::MockError::Replay)?),
            None => None,
        };
        Ok(Arc::new(Shared {
            replay,
            config,
            contract: Contract::bundled(),
            once_seen: Mutex::default(),
            requests: Mutex::new(Vec::new()),
            script: Mutex::new(VecDeque::new()),
            counter: AtomicU64::new(0),
        }))
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(handle))
        .route("/chat/completions", post(handle))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

async fn not_found(uri: Uri) -> Response {
    let message = format!(
        "no route for {}; the mock serves POST /v1/chat/completions and POST /chat/completions",
        uri.path()
    );
    problem::response(StatusCode::NOT_FOUND, json!(message), uri.path(), "mock-404")
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let path = uri.path().to_string();
    let request_id = format!(
        "mock-{:08}",
        shared.counter.fetch_add(1, Ordering::Relaxed).saturating_add(1)
    );
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return problem::refused_body(&rejection, &path, &request_id),
    };
    {
        let mut requests = lock(&shared.requests);
        requests.push(RecordedRequest::new(
            method,
            path.clone(),
            headers.clone(),
            body.clone(),
        ));
        // A long-running mock keeps only recent history, so that a client
        // sending request after request cannot grow it without bound.
        let mut bytes: usize = requests.iter().map(|r| r.body.len()).sum();
        let mut drop_first = 0;
        while requests.len().saturating_sub(drop_first) > MAX_RECORDED
            || (bytes > MAX_RECORDED_BYTES && requests.len().saturating_sub(drop_first) > 1)
        {
            bytes = bytes.saturating_sub(requests.get(drop_first).map_or(0, |r| r.body.len()));
            drop_first = drop_first.saturating_add(1);
        }
        requests.drain(..drop_first);
    }

    let scripted = lock(&shared.script).pop_front();
    let fault = match scripted {
        Some(f) => f,
        None => match headers.get("x-mock-fault").map(|v| v.to_str().unwrap_or("<not text>")) {
            Some(value) => match once(&shared, value) {
                None => Fault::default(),
                Some(value) => match Fault::from_header(value) {
                    Ok(f) => f,
                    Err(message) => {
                        return problem::response(StatusCode::BAD_REQUEST, json!(message), &path, &request_id)
                    }
                },
            },
            None => Fault::default(),
        },
    };
    if !fault.delay.is_zero() {
        tokio::time::sleep(fault.delay).await;
    }
    if let Some(status) = fault.status {
        return scripted_error(status, &fault, &path, &request_id);
    }
    // Recorded traffic answers as the recorded host did, key checks included.
    if let Some(replay) = &shared.replay {
        return replay.answer(&body, &path, &request_id);
    }

    if let Err(message) = authorize(&shared.config, &headers) {
        return problem::response(StatusCode::UNAUTHORIZED, json!(message), &path, &request_id);
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let message = format!("the body is not JSON ({e}); send a chat completion request object");
            return problem::response(StatusCode::BAD_REQUEST, json!(message), &path, &request_id);
        }
    };
    let violations = shared.contract.check_request(&parsed);
    if !violations.is_empty() {
        return invalid(&violations, &path, &request_id);
    }
    let plan = match plan::plan(&body, &parsed, shared.config.seed) {
        Ok(p) => p,
        Err(violations) => return invalid(&violations, &path, &request_id),
    };

    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let (content_type, frames) = if plan.stream {
        let mut frames: Vec<Bytes> = wire::chunks(&plan, created)
            .iter()
            .map(|c| Bytes::from(format!("data: {c}\n\n")))
            .collect();
        frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
        ("text/event-stream", frames)
    } else {
        // Derived `Serialize` on structs with string keys and no maps keyed
        // by non-strings cannot fail; an empty body would still be answered.
        let completion = serde_json::to_vec(&wire::completion(&plan, created)).unwrap_or_default();
        ("application/json", vec![Bytes::from(completion)])
    };

    let mut res = Response::new(frames_body(frames, fault.pause, fault.cut));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if plan.stream {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    let credits = plan.credits();
    insert(h, "x-inference-id", &plan.inference_id);
    insert(h, "x-aimlapi-credits-used", &credits.to_string());
    insert(
        h,
        "x-aimlapi-usd-spent",
        &format!("{:.9}", credits as f64 * USD_PER_CREDIT),
    );
    if let Some(id) = headers.get("x-client-request-id") {
        h.insert(HeaderName::from_static("x-client-request-id"), id.clone());
    }
    for (name, value) in fault.headers {
        h.insert(name, value);
    }
    res
}

fn scripted_error(status: StatusCode, fault: &Fault, path: &str, request_id: &str) -> Response {
    let body = match &fault.body {
        Some(b) => b.clone(),
        None => {
            let message = format!(
                "{} (fault injected by maverick-mock)",
                status.canonical_reason().unwrap_or("error")
            );
            Bytes::from(problem::body(status, json!(message), path, request_id).to_string())
        }
    };
    let mut res = (status, frames_body(vec![body], fault.pause, fault.cut)).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in &fault.headers {
        res.headers_mut().insert(name.clone(), value.clone());
    }
    res
}

fn invalid(violations: &[Violation], path: &str, request_id: &str) -> Response {
    let messages: Vec<String> = violations.iter().map(ToString::to_string).collect();
    problem::response(StatusCode::BAD_REQUEST, json!(messages), path, request_id)
}

fn authorize(config: &MockConfig, headers: &HeaderMap) -> Result<(), &'static str> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err("missing Authorization header; send `Authorization: Bearer <api key>`");
    };
    let value = value.to_str().map_err(|_| "the Authorization header is not text")?;
    let key = match value.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => key.trim(),
        _ => return Err("the Authorization header must be `Bearer <api key>`"),
    };
    match &config.api_key {
        _ if key.is_empty() => Err("the bearer key is empty; send the API key"),
        Some(expected) if expected != key => Err("invalid API key: it is not the key this mock was started with"),
        _ => Ok(()),
    }
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

/// The body as frames, with a pause before each and the connection
/// dropped where `cut` says: the error ends the response without its
/// terminating chunk, which is what clients see when a server dies.
fn frames_body(frames: Vec<Bytes>, pause: Duration, cut: Option<Cut>) -> Body {
    if pause.is_zero() && cut.is_none() {
        return Body::from(frames.concat());
    }
    let mut items: Vec<Result<Bytes, std::io::Error>> = Vec::new();
    let mut sent = 0;
    let dropped = || {
        std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "maverick-mock: connection cut on request",
        )
    };
    for (i, frame) in frames.into_iter().enumerate() {
        match cut {
            Some(Cut::AfterChunks(n)) if i == n => {
                items.push(Err(dropped()));
                break;
            }
            Some(Cut::AfterBytes(n)) if sent + frame.len() > n => {
                if n > sent {
                    items.push(Ok(frame.slice(..n - sent)));
                }
                items.push(Err(dropped()));
                break;
            }
            _ => {}
        }
        sent += frame.len();
        items.push(Ok(frame));
    }
    let stream = futures_util::stream::iter(items).then(move |item| async move {
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        if item.is_err() {
            // Give the server time to flush what was sent: hyper drops its
            // write buffer with the connection, and a cut is meant to come
            // after those bytes, not instead of them.
            tokio::time::sleep(FLUSH_BEFORE_CUT).await;
        }
        item
    });
    Body::from_stream(stream)
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking test thread must not take the mock down with it.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// `FAULT;once=TOKEN` applies FAULT only to the first request carrying
/// TOKEN, so an out-of-process client's retry (which resends the same
/// headers) gets through: how the openai SDK check proves it retries.
/// Returns the fault to apply, or None when this token was already used.
fn once<'a>(shared: &Shared, value: &'a str) -> Option<&'a str> {
    match value.split_once(";once=") {
        Some((fault, token)) => lock(&shared.once_seen)
            .insert(token.trim().to_string())
            .then_some(fault.trim()),
        None => Some(value),
    }
}
