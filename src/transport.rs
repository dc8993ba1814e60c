//! What every attempt carries (key, default and per-call headers, request
//! id, timeout) and the per-call state read back for errors. The library
//! sends through `Client::http_request` for chat and streams alike; the
//! `ClientHooks` below exist because the generated client must have them
//! (`HooksMode::Expected`) and route its method the same way, but nothing
//! calls that method.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};

use crate::generated;
use crate::retry::RetryPolicy;

/// Header carrying the caller's id for one logical request, reused across
/// its retries so the provider can deduplicate and support can trace.
pub(crate) const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-client-request-id");

/// Settings shared by every call of one client.
#[derive(Debug)]
pub(crate) struct CallSettings {
    /// `Bearer <key>` (marked sensitive), built once: every request's
    /// header shares it. `None` for keyless local hosts.
    pub authorization: Option<HeaderValue>,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    pub max_retries: u32,
    pub max_body_bytes: usize,
    /// `ClientBuilder::default_header`s, parsed once.
    pub default_headers: HeaderMap,
}

/// The generated client's inner value: shared settings plus the context of
/// the one call it was built for.
#[derive(Debug, Clone)]
pub struct Transport {
    pub(crate) shared: Arc<CallSettings>,
    pub(crate) call: Arc<CallContext>,
}

/// Per-call state the hooks read and write.
#[derive(Debug)]
pub(crate) struct CallContext {
    /// `X-Client-Request-Id` as sent, built once per call: every attempt's
    /// header shares it (a reference count, not a copy).
    pub request_id: HeaderValue,
    /// `CallOptions::header`s, parsed before anything is sent.
    pub headers: Option<Box<HeaderMap>>,
    pub timeout: Option<Duration>,
    pub max_retries: u32,
    /// Attempts made so far, read back for errors and metadata.
    pub attempts: AtomicU32,
}

impl CallContext {
    /// The request id as text, for errors and metadata. Always visible
    /// ASCII: generated, or checked by `Client::call_context`.
    pub fn request_id(&self) -> &str {
        self.request_id.to_str().unwrap_or_default()
    }

    pub fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::Relaxed).max(1)
    }
}

/// Stamps what every attempt carries: default headers, key, request id,
/// per-call headers, timeout.
pub(crate) fn prepare(
    shared: &CallSettings,
    call: &CallContext,
    request: &mut reqwest::Request,
    timeout: Option<Duration>,
) {
    let headers = request.headers_mut();
    for (name, value) in &shared.default_headers {
        headers.append(name, value.clone());
    }
    if let Some(value) = &shared.authorization {
        headers.insert(AUTHORIZATION, value.clone());
    }
    headers.insert(REQUEST_ID_HEADER, call.request_id.clone());
    if let Some(call_headers) = &call.headers {
        for name in call_headers.keys() {
            headers.remove(name);
        }
        for (name, value) in call_headers.iter() {
            headers.append(name, value.clone());
        }
    }
    // Only when there is one: reqwest keeps it in the request's extensions,
    // a map allocated on first use.
    if timeout.is_some() {
        *request.timeout_mut() = timeout;
    }
}

impl ClientHooks<Transport> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let t = &self.inner;
        // progenitor adds `api-version: <info.version>`; the API has no such
        // header and some proxies reject unknown ones.
        request.headers_mut().remove("api-version");
        prepare(
            &t.shared,
            &t.call,
            request,
            Some(t.call.timeout.unwrap_or(t.shared.request_timeout)),
        );
        Ok(())
    }

    /// Never reached: the library sends through `Client::http_request` and
    /// `retry::execute`. Kept as a plain send so that the generated method,
    /// were it ever called, would still carry the key and request id.
    async fn exec(&self, request: reqwest::Request, _info: &OperationInfo) -> reqwest::Result<reqwest::Response> {
        self.client.execute(request).await
    }
}

/// Parses user-given headers; the error names the offending header and why.
pub(crate) fn header_map(pairs: &[(String, String)]) -> Result<HeaderMap, (String, String)> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let parsed_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            (
                name.clone(),
                "not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)".to_string(),
            )
        })?;
        let parsed_value = HeaderValue::from_str(value).map_err(|_| {
            (
                name.clone(),
                "the value is not a valid header value (visible ASCII, spaces and tabs; no line breaks)".to_string(),
            )
        })?;
        map.append(parsed_name, parsed_value);
    }
    Ok(map)
}
