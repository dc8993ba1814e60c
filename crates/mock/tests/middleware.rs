//! The `middleware` feature end to end: a user's reqwest-middleware stack
//! sees every attempt the library's retry policy makes (already carrying the
//! key and request id), can add headers and answer from a cache, and a
//! middleware's own failure ends the call at once, unretried.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use maverick::{ChatRequest, Client, Error};
use maverick_mock::{Fault, MockServer};
use reqwest_middleware::{ClientBuilder as StackBuilder, ClientWithMiddleware, Middleware, Next};

/// Counts attempts and stamps a header the server can see.
#[derive(Default)]
struct Tracer {
    seen: AtomicUsize,
    /// (Authorization present, request id) per attempt.
    attempts: Mutex<Vec<(bool, String)>>,
}

#[async_trait::async_trait]
impl Middleware for Tracer {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        ext: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        let id = req
            .headers()
            .get("x-client-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let auth = req.headers().contains_key("authorization");
        self.attempts.lock().unwrap().push((auth, id));
        req.headers_mut()
            .insert("traceparent", format!("00-{n:032x}-{n:016x}-01").parse().unwrap());
        next.run(req, ext).await
    }
}

/// Answers a request body it has seen before from memory.
#[derive(Default)]
struct Cache {
    bodies: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
    hits: AtomicUsize,
}

#[async_trait::async_trait]
impl Middleware for Cache {
    async fn handle(
        &self,
        req: reqwest::Request,
        ext: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let key = req.body().and_then(|b| b.as_bytes()).unwrap_or_default().to_vec();
        if let Some(body) = self.bodies.lock().unwrap().get(&key).cloned() {
            self.hits.fetch_add(1, Ordering::SeqCst);
            let resp = http::Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(body)
                .unwrap();
            return Ok(reqwest::Response::from(resp));
        }
        let resp = next.run(req, ext).await?;
        if !resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?.to_vec();
        self.bodies.lock().unwrap().insert(key, body.clone());
        let mut rebuilt = http::Response::builder().status(status);
        for (name, value) in &headers {
            rebuilt = rebuilt.header(name, value);
        }
        Ok(reqwest::Response::from(rebuilt.body(body).unwrap()))
    }
}

/// Refuses every request, as a policy middleware would.
struct Refuse;

#[derive(Debug, thiserror::Error)]
#[error("blocked by policy: model not on the allow list")]
struct Blocked;

#[async_trait::async_trait]
impl Middleware for Refuse {
    async fn handle(
        &self,
        _req: reqwest::Request,
        _ext: &mut http::Extensions,
        _next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        Err(reqwest_middleware::Error::middleware(Blocked))
    }
}

fn client(mock: &MockServer, stack: ClientWithMiddleware) -> Client {
    Client::builder()
        .api_key("mw-key")
        .base_url(mock.base_url())
        .max_retries(2)
        .middleware_client(stack)
        .build()
        .unwrap()
}

fn stack(layers: impl FnOnce(StackBuilder) -> StackBuilder) -> ClientWithMiddleware {
    maverick::install_tls_provider();
    layers(StackBuilder::new(reqwest::Client::new())).build()
}

#[tokio::test]
async fn every_retry_passes_through_the_stack_with_key_and_one_request_id() {
    let mock = MockServer::start().await.unwrap();
    mock.script(Fault::status(StatusCode::SERVICE_UNAVAILABLE));
    let tracer = Arc::new(Tracer::default());
    let client = client(&mock, stack(|b| b.with_arc(tracer.clone())));

    let reply = client.chat(ChatRequest::user_prompt("hello")).await.unwrap();
    assert!(reply.text().is_some_and(|t| !t.is_empty()));
    assert_eq!(reply.meta.attempts, 2, "the 503 was retried by the library");
    assert_eq!(tracer.seen.load(Ordering::SeqCst), 2, "the stack saw both attempts");

    let attempts = tracer.attempts.lock().unwrap().clone();
    assert!(attempts.iter().all(|(auth, _)| *auth), "key set before the stack runs");
    assert_eq!(attempts[0].1, attempts[1].1, "one request id across retries");
    assert_eq!(attempts[0].1, reply.meta.request_id);

    let got = mock.requests();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].header("traceparent"),
        Some(&*format!("00-{:032x}-{:016x}-01", 1, 1))
    );
    assert_eq!(
        got[1].header("traceparent"),
        Some(&*format!("00-{:032x}-{:016x}-01", 2, 2))
    );
    assert_eq!(got[1].header("authorization"), Some("Bearer mw-key"));
}

#[tokio::test]
async fn streams_go_through_the_same_stack() {
    let mock = MockServer::start().await.unwrap();
    let tracer = Arc::new(Tracer::default());
    let client = client(&mock, stack(|b| b.with_arc(tracer.clone())));
    let stream = client.chat_stream(ChatRequest::user_prompt("hello")).await.unwrap();
    let reply = stream.into_response().await.unwrap();
    assert!(reply.text().is_some_and(|t| !t.is_empty()));
    assert_eq!(tracer.seen.load(Ordering::SeqCst), 1);
    assert!(mock.requests()[0].header("traceparent").is_some());
}

#[tokio::test]
async fn a_caching_middleware_answers_a_repeated_request() {
    let mock = MockServer::start().await.unwrap();
    let cache = Arc::new(Cache::default());
    let client = client(&mock, stack(|b| b.with_arc(cache.clone())));
    let request = || ChatRequest::user_prompt("same question").seed(7);
    let first = client.chat(request()).await.unwrap();
    let second = client.chat(request()).await.unwrap();
    assert_eq!(cache.hits.load(Ordering::SeqCst), 1);
    assert_eq!(mock.requests().len(), 1, "the second answer came from the cache");
    assert_eq!(first.text(), second.text());
    assert_eq!(first.raw(), second.raw());
}

#[tokio::test]
async fn a_middleware_failure_is_typed_and_not_retried() {
    let mock = MockServer::start().await.unwrap();
    let tracer = Arc::new(Tracer::default());
    let client = client(&mock, stack(|b| b.with_arc(tracer.clone()).with(Refuse)));

    let err = client.chat(ChatRequest::user_prompt("hello")).await.unwrap_err();
    match &err {
        Error::Middleware {
            attempts, request_id, ..
        } => {
            assert_eq!(*attempts, 1);
            assert!(request_id.starts_with("mvk-"));
        }
        other => panic!("expected Error::Middleware, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("blocked by policy"), "{text}");
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(tracer.seen.load(Ordering::SeqCst), 1, "not retried");
    assert!(mock.requests().is_empty());

    let err = client.chat_stream(ChatRequest::user_prompt("hello")).await.unwrap_err();
    assert!(matches!(err, Error::Middleware { attempts: 1, .. }), "{err:?}");
}
