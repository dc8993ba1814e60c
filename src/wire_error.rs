//! Turning what went wrong on the wire into an [`Error`]: one module for
//! `chat` and streams alike, so both name the same causes the same way.

use std::time::Duration;

use crate::error::{ApiError, Error, TimeoutKind};
use crate::sender::SendFailure;
use crate::transport::CallContext;

/// Where calls go, for messages: fixed when the client is built.
#[derive(Debug)]
pub(crate) struct Origin {
    /// The chat completions URL, parsed once.
    pub endpoint: reqwest::Url,
    pub connect_timeout: Duration,
    /// The proxy requests to the endpoint go through, as
    /// `scheme://host:port` (never with credentials), when the client knows.
    pub proxy: Option<String>,
}

/// A failure below HTTP (connection, TLS, reset, a stream limit) during
/// a call whose whole-call or idle timeout was `timeout`.
pub(crate) fn transport(err: reqwest::Error, origin: &Origin, call: &CallContext, timeout: Duration) -> Error {
    // A stream limit (crate::body::guard) cut the body.
    if let Some(hit) = crate::body::LimitHit::find(&err) {
        let request_id = call.request_id().to_string();
        let (kind, after) = match hit {
            crate::body::LimitHit::Idle(after) => (TimeoutKind::StreamIdle, *after),
            crate::body::LimitHit::Total(after) => (TimeoutKind::StreamTotal, *after),
            crate::body::LimitHit::Rate { window, .. } => (TimeoutKind::StreamRate, *window),
            crate::body::LimitHit::Bytes(_) => {
                return Error::Stream {
                    request_id,
                    message: format!("{hit}; raise it with Client::builder().max_stream_bytes(..)"),
                }
            }
        };
        return Error::Timeout {
            kind,
            after,
            request_id,
        };
    }
    if err.is_timeout() {
        let connect = err.is_connect();
        return Error::Timeout {
            kind: if connect {
                TimeoutKind::Connect
            } else {
                TimeoutKind::Request
            },
            after: if connect { origin.connect_timeout } else { timeout },
            request_id: call.request_id().to_string(),
        };
    }
    let target = crate::transport_cause::Target::of(&origin.endpoint, origin.proxy.as_deref());
    Error::Transport {
        url: origin.endpoint.to_string(),
        request_id: call.request_id().to_string(),
        attempts: call.attempts(),
        cause: crate::transport_cause::classify(&err, &target),
        source: err.without_url(),
    }
}

/// A failed attempt, whoever failed it: reqwest below HTTP, or a
/// middleware of the user's.
pub(crate) fn send_failure(failure: SendFailure, origin: &Origin, call: &CallContext, timeout: Duration) -> Error {
    match failure {
        SendFailure::Http(err) => transport(err, origin, call, timeout),
        SendFailure::Middleware(source) => Error::Middleware {
            request_id: call.request_id().to_string(),
            attempts: call.attempts(),
            source,
        },
    }
}

/// Reads an error response (up to the body limit) into a typed API error.
pub(crate) async fn api_error(resp: reqwest::Response, call: &CallContext, limit: usize) -> Error {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = crate::body::read_limited(resp, limit)
        .await
        .unwrap_or_else(|e| e.into_bytes());
    let inference_id = crate::response::inference_id(&headers);
    let mut err = ApiError::from_body(status, &body, call.request_id().to_string(), inference_id);
    err.retry_after = crate::retry::retry_after(&headers);
    err.should_retry = crate::retry::retry_verdict(&headers);
    err.attempts = call.attempts();
    Error::Api(Box::new(err))
}

pub(crate) fn decode(what: &'static str, status: u16, request_id: &str, body: &[u8], message: &str) -> Error {
    let text = String::from_utf8_lossy(body);
    Error::Decode {
        what,
        status,
        request_id: request_id.to_string(),
        message: message.to_string(),
        snippet: crate::error::snippet(&text, 200),
    }
}
