//! The client users hold: configuration resolved once, one method per way of
//! calling the API.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::config::ClientBuilder;
use crate::error::{ApiError, Error, TimeoutKind};
use crate::generated::{self, OPERATION_PATH};
use crate::request::ChatRequest;
use crate::response::{ChatResponse, ResponseMeta};
use crate::retry::RetryPolicy;
use crate::transport::{CallContext, Shared, Transport};

/// A client for Llama-4-Maverick chat completions. Cheap to clone; share one
/// per process so connections are pooled.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Base URL the generated client appends its path to.
    generated_base: String,
    /// Base URL as users think of it (ends in `/v1`), for messages.
    base_url: String,
    model: String,
    shared: Arc<Shared>,
    connect_timeout: Duration,
    stream_idle_timeout: Duration,
    max_event_bytes: usize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("model", &self.inner.model)
            .field("api_key", &self.inner.shared.key)
            .finish_non_exhaustive()
    }
}

/// Per-call options that override the client's.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// Retries for this call only.
    pub max_retries: Option<u32>,
    /// Whole-call timeout for this call only (non-streaming).
    pub timeout: Option<Duration>,
    /// Your own `X-Client-Request-Id` (1–128 of `[A-Za-z0-9._:-]`).
    pub request_id: Option<String>,
}

impl CallOptions {
    /// Sets the retry count for this call.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }
    /// Sets the timeout for this call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// Sets the request id for this call.
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }
}

impl ClientBuilder {
    /// Resolves key, base URL and model, and builds the HTTP client.
    pub fn build(self) -> Result<Client, Error> {
        let key = self.resolve_key()?;
        let root = self.resolve_base_url()?;
        let model = match &self.model {
            Some(m) if m.trim().is_empty() => {
                return Err(Error::config(
                    "the model name is empty; omit .model(..) to use the default",
                ))
            }
            Some(m) => m.clone(),
            None => crate::config::DEFAULT_MODEL.to_string(),
        };
        let http = match self.http.clone() {
            Some(http) => http,
            None => build_http(&self)?,
        };
        // The generated path may or may not start with /v1; the root never ends in it.
        let generated_base = if OPERATION_PATH.starts_with("/v1/") {
            root.clone()
        } else {
            format!("{root}/v1")
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                generated_base,
                base_url: format!("{root}/v1"),
                model,
                shared: Arc::new(Shared {
                    key,
                    request_timeout: self.request_timeout,
                    retry: RetryPolicy {
                        max_wait: self.max_retry_wait,
                        stream: self.stream_limits.clone(),
                        ..RetryPolicy::default()
                    },
                    max_retries: self.max_retries,
                    max_body_bytes: self.max_body_bytes,
                }),
                connect_timeout: self.connect_timeout,
                stream_idle_timeout: self.stream_idle_timeout,
                max_event_bytes: self.max_event_bytes,
            }),
        })
    }
}

fn build_http(b: &ClientBuilder) -> Result<reqwest::Client, Error> {
    // rustls is built without a default provider (ring is much cheaper to
    // compile than aws-lc); install ring unless the application chose one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("maverick-rs/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(b.connect_timeout)
        // No client-wide total timeout: streams may run for minutes. The
        // non-streaming timeout is set per request by the transport hooks.
        .redirect(cross_host_redirects_drop_nothing())
        .build()
        .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))
}

/// Redirects are followed only to the same host: reqwest strips
/// `Authorization` on cross-host redirects, and refusing them outright keeps
/// the body (a POST) from being replayed somewhere unexpected.
fn cross_host_redirects_drop_nothing() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_host = attempt.previous().first().is_some_and(|first| {
            first.host_str() == attempt.url().host_str()
                && first.port_or_known_default() == attempt.url().port_or_known_default()
        });
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if same_host {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

impl Client {
    /// A builder; see [`ClientBuilder`] for every setting and its default.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment alone.
    pub fn from_env() -> Result<Client, Error> {
        Self::builder().build()
    }

    /// The model used when a request names none.
    pub fn model(&self) -> &str {
        &self.inner.model
    }

    /// The base URL, ending in `/v1`.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn stream_idle_timeout(&self) -> Duration {
        self.inner.stream_idle_timeout
    }

    pub(crate) fn max_event_bytes(&self) -> usize {
        self.inner.max_event_bytes
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("{}{}", self.inner.generated_base, OPERATION_PATH)
    }

    pub(crate) fn call_context(&self, options: &CallOptions) -> Result<Arc<CallContext>, Error> {
        let request_id = match &options.request_id {
            Some(id) => validate_request_id(id)?,
            None => new_request_id(),
        };
        Ok(Arc::new(CallContext {
            request_id,
            timeout: options.timeout,
            max_retries: options.max_retries.unwrap_or(self.inner.shared.max_retries),
            attempts: AtomicU32::new(0),
            status: AtomicU32::new(0),
            oversized: AtomicU64::new(0),
        }))
    }

    pub(crate) fn transport(&self, call: Arc<CallContext>) -> Transport {
        Transport {
            shared: self.inner.shared.clone(),
            call,
        }
    }

    /// Sends a request and waits for the whole completion.
    pub async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, Error> {
        self.chat_with(request, CallOptions::default()).await
    }

    /// [`chat`](Self::chat) with per-call options.
    pub async fn chat_with(&self, request: ChatRequest, options: CallOptions) -> Result<ChatResponse, Error> {
        let wire = request.into_wire(&self.inner.model, false)?;
        let call = self.call_context(&options)?;
        let timeout = options.timeout.unwrap_or(self.inner.shared.request_timeout);
        // A generated client per call carries the call's context into the
        // hooks; it costs a String and two Arc clones.
        let generated = generated::Client::new_with_client(
            &self.inner.generated_base,
            self.inner.http.clone(),
            self.transport(call.clone()),
        );
        let span = tracing::debug_span!("maverick.chat", method = "POST", url = %self.endpoint(), request_id = %call.request_id);
        let started = std::time::Instant::now();
        tracing::trace!(parent: &span, request = ?wire, "request body");
        let result = tracing::Instrument::instrument(generated.create_chat_completion(&wire), span.clone()).await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(value) => {
                let meta = ResponseMeta::from_headers(
                    value.status().as_u16(),
                    value.headers(),
                    call.request_id.clone(),
                    call.attempts(),
                );
                tracing::debug!(parent: &span, status = meta.status, attempts = meta.attempts, latency_ms, inference_id = ?meta.inference_id, "chat completed");
                let completion = value.into_inner();
                tracing::trace!(parent: &span, response = ?completion, "response body");
                Ok(ChatResponse { completion, meta })
            }
            Err(e) => {
                let err = self.map_error(e, &call, timeout).await;
                tracing::debug!(parent: &span, status = ?err.status(), attempts = call.attempts(), latency_ms, error = %err, "chat failed");
                Err(err)
            }
        }
    }

    async fn map_error(&self, e: progenitor_client::Error<()>, call: &CallContext, timeout: Duration) -> Error {
        use progenitor_client::Error as G;
        let request_id = call.request_id.clone();
        match e {
            G::UnexpectedResponse(resp) => api_error_from_response(resp, call, self.inner.shared.max_body_bytes).await,
            G::InvalidResponsePayload(body, err) => {
                let status = u16::try_from(call.status.load(Ordering::Relaxed)).unwrap_or(0);
                let oversized = call.oversized.load(Ordering::Relaxed);
                if oversized > 0 {
                    return Error::Decode {
                        what: "completion",
                        status,
                        request_id,
                        message: format!(
                            "the body exceeds the {} byte limit (at least {oversized} bytes); raise it with Client::builder().max_body_bytes(..)",
                            self.inner.shared.max_body_bytes
                        ),
                        snippet: String::new(),
                    };
                }
                // Some gateways answer 200 with an error object.
                if let Some(api) = ApiError::from_success_body(status, &body, request_id.clone()) {
                    return Error::Api(Box::new(api));
                }
                decode_error("completion", status, &request_id, &body, &err.to_string())
            }
            G::CommunicationError(err) | G::ResponseBodyError(err) => self.transport_error(err, call, timeout),
            G::InvalidRequest(msg) | G::Custom(msg) => Error::config(msg),
            other => Error::Stream {
                request_id,
                message: other.to_string(),
            },
        }
    }

    pub(crate) fn transport_error(&self, err: reqwest::Error, call: &CallContext, timeout: Duration) -> Error {
        // A stream limit (crate::body::guard) cut the body.
        if let Some(hit) = crate::body::LimitHit::find(&err) {
            let request_id = call.request_id.clone();
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
                after: if connect { self.inner.connect_timeout } else { timeout },
                request_id: call.request_id.clone(),
            };
        }
        Error::Transport {
            url: self.endpoint(),
            request_id: call.request_id.clone(),
            attempts: call.attempts(),
            source: err.without_url(),
        }
    }
}

/// Reads an error response (up to the body limit) into a typed API error.
pub(crate) async fn api_error_from_response(resp: reqwest::Response, call: &CallContext, limit: usize) -> Error {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = crate::body::read_limited(resp, limit)
        .await
        .unwrap_or_else(|e| e.into_bytes());
    let inference_id = headers
        .get("x-inference-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut err = ApiError::from_body(status, &body, call.request_id.clone(), inference_id);
    err.retry_after = crate::retry::retry_after(&headers);
    err.attempts = call.attempts();
    Error::Api(Box::new(err))
}

pub(crate) fn decode_error(what: &'static str, status: u16, request_id: &str, body: &[u8], message: &str) -> Error {
    let text = String::from_utf8_lossy(body);
    Error::Decode {
        what,
        status,
        request_id: request_id.to_string(),
        message: message.to_string(),
        snippet: crate::error::snippet(&text, 200),
    }
}

fn new_request_id() -> String {
    format!("mvk-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

fn validate_request_id(id: &str) -> Result<String, Error> {
    let ok_len = (1..=128).contains(&id.len());
    let ok_chars = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if ok_len && ok_chars {
        Ok(id.to_string())
    } else {
        Err(Error::invalid(
            "request_id",
            format!("{id:?}"),
            "it must be 1 to 128 characters of A-Z a-z 0-9 . _ : -",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids() {
        assert!(validate_request_id("abc-1.2:3_4").is_ok());
        assert!(validate_request_id("").is_err());
        assert!(validate_request_id("a b").is_err());
        assert!(validate_request_id(&"a".repeat(129)).is_err());
        let id = new_request_id();
        assert!(validate_request_id(&id).is_ok() && id.len() == 36, "{id}");
    }
}
