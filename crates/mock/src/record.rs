//! What the mock received, for tests that check what their client sent.

use axum::http::{HeaderMap, Method};
use bytes::Bytes;
use serde_json::Value;

/// One request as it arrived, before any fault or validation.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl RecordedRequest {
    pub(crate) fn new(method: Method, path: String, headers: HeaderMap, body: Bytes) -> Self {
        RecordedRequest {
            method,
            path,
            headers,
            body,
        }
    }

    /// A header as text, if present and printable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}
