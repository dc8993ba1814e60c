//! Everything between a typed request and the wire: the `ClientHooks` the
//! generated client calls (auth, request id, timeouts, retries), so that
//! handwritten behaviour never touches generated text.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};

use crate::generated;
use crate::retry::RetryPolicy;
use crate::secret::ApiKey;

/// Header carrying the caller's id for one logical request, reused across
/// its retries so the provider can deduplicate and support can trace.
pub(crate) const REQUEST_ID_HEADER: &str = "x-client-request-id";

/// Settings shared by every call of one client.
#[derive(Debug)]
pub(crate) struct CallSettings {
    pub key: Option<ApiKey>,
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
    pub request_id: String,
    /// `CallOptions::header`s, parsed before anything is sent.
    pub headers: Option<HeaderMap>,
    pub timeout: Option<Duration>,
    pub max_retries: u32,
    /// Attempts made so far, read back for errors and metadata.
    pub attempts: AtomicU32,
    /// Status of the last answer, for decode errors (progenitor drops it).
    pub status: AtomicU32,
    /// Non-zero when a success body broke the size limit: bytes seen.
    pub oversized: AtomicU64,
}

impl CallContext {
    pub fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::Relaxed).max(1)
    }
}

impl Transport {
    /// Stamps what every attempt carries: key, request id, timeout.
    pub(crate) fn prepare(&self, request: &mut reqwest::Request, timeout: Option<Duration>) {
        let headers = request.headers_mut();
        // progenitor adds `api-version: <info.version>`; the API has no such
        // header and some proxies reject unknown ones.
        headers.remove("api-version");
        for (name, value) in &self.shared.default_headers {
            headers.append(name, value.clone());
        }
        if let Some(key) = &self.shared.key {
            headers.insert(AUTHORIZATION, key.bearer_header());
        }
        if let Ok(v) = HeaderValue::from_str(&self.call.request_id) {
            headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
        }
        if let Some(call_headers) = &self.call.headers {
            for name in call_headers.keys() {
                headers.remove(name);
            }
            for (name, value) in call_headers {
                headers.append(name, value.clone());
            }
        }
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
        t.prepare(request, Some(t.call.timeout.unwrap_or(t.shared.request_timeout)));
        Ok(())
    }

    async fn exec(&self, request: reqwest::Request, _info: &OperationInfo) -> reqwest::Result<reqwest::Response> {
        let t = &self.inner;
        let response = crate::retry::execute(
            &self.client,
            request,
            &t.shared.retry,
            t.call.max_retries,
            &t.call.attempts,
        )
        .await?;
        t.call
            .status
            .store(response.status().as_u16().into(), Ordering::Relaxed);
        if !response.status().is_success() {
            return Ok(response);
        }
        // A declared length within the limit is all hyper will read: hand the
        // response over as it is, without a copy.
        if response
            .content_length()
            .is_some_and(|len| len <= t.shared.max_body_bytes as u64)
        {
            return Ok(response);
        }
        // progenitor reads success bodies without a limit; read it here, under
        // the limit, and hand progenitor the buffered copy.
        let mut parts = http::Response::new(());
        *parts.status_mut() = response.status();
        *parts.headers_mut() = response.headers().clone();
        let body = match crate::body::read_limited(response, t.shared.max_body_bytes).await {
            Ok(body) => body,
            Err(crate::body::BodyError::TooLarge(seen)) => {
                t.call.oversized.store(seen as u64, Ordering::Relaxed);
                bytes::Bytes::new()
            }
            Err(crate::body::BodyError::Transport(e)) => return Err(e),
        };
        let (parts, ()) = parts.into_parts();
        Ok(reqwest::Response::from(http::Response::from_parts(parts, body)))
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
