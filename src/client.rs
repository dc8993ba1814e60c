//! The client users hold: configuration resolved once, one method per way of
//! calling the API.

use std::future::Future;
use std::sync::atomic::AtomicU32;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::config::ClientBuilder;
use crate::error::{ApiError, Error};
use crate::generated::OPERATION_PATH;
use crate::request::ChatRequest;
use crate::response::{ChatResponse, ResponseMeta};
use crate::retry::RetryPolicy;
use crate::transport::{CallContext, CallSettings};

/// A client for Llama-4-Maverick chat completions. Cheap to clone; share one
/// per process so connections are pooled.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: crate::sender::Sender,
    /// The endpoint and what error messages need; shared with streams.
    origin: Arc<crate::wire_error::Origin>,
    /// Base URL as users think of it (ends in `/v1`), for messages.
    base_url: String,
    model: String,
    shared: Arc<CallSettings>,
    stream_idle_timeout: Duration,
    max_event_bytes: usize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("model", &self.inner.model)
            .field("api_key", &self.inner.shared.authorization.as_ref().map(|_| "***"))
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
    /// Headers for this call only, written last (see [`header`](Self::header)).
    pub headers: Vec<(String, String)>,
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
    /// Adds a header to this call only, written after the client's (so it
    /// can replace one). An invalid name or value fails the call with
    /// [`Error::InvalidRequest`] before anything is sent.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

impl ClientBuilder {
    /// Resolves key, base URL and model, and builds the HTTP client.
    pub fn build(self) -> Result<Client, Error> {
        let key = self.resolve_key()?;
        let root = self.resolve_base_url()?;
        let default_headers = crate::transport::header_map(&self.default_headers)
            .map_err(|(name, why)| Error::config(format!("default_header({name:?}): {why}")))?;
        let model = match &self.model {
            Some(m) if m.trim().is_empty() => {
                return Err(Error::config(
                    "the model name is empty; omit .model(..) to use the default",
                ))
            }
            Some(m) => m.clone(),
            None => crate::config::DEFAULT_MODEL.to_string(),
        };
        let given = self.sender();
        let injected = given.is_some();
        let http = match given {
            Some(_) if self.network.is_set() => {
                return Err(Error::config(
                    "add_root_certificate, tls_built_in_root_certs, identity and proxy configure the HTTP client this builder makes, and http_client(..) / middleware_client(..) replace it; set them on your reqwest::Client instead",
                ))
            }
            Some(sender) => sender,
            None => crate::sender::Sender::Reqwest(build_http(&self)?),
        };
        // The generated path may or may not start with /v1; the root never ends in it.
        let generated_base = if OPERATION_PATH.starts_with("/v1/") {
            root.clone()
        } else {
            format!("{root}/v1")
        };
        // Parsed once here; every call clones it.
        let endpoint = reqwest::Url::parse(&format!("{generated_base}{OPERATION_PATH}"))
            .map_err(|e| Error::config(format!("bad endpoint URL {generated_base}{OPERATION_PATH}: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                origin: Arc::new(crate::wire_error::Origin {
                    // An injected client's proxies are its own: messages cannot name one.
                    proxy: match injected {
                        true => None,
                        false => self.network.proxy_for(&endpoint),
                    },
                    endpoint,
                    connect_timeout: self.connect_timeout,
                }),
                base_url: format!("{root}/v1"),
                model,
                shared: Arc::new(CallSettings {
                    authorization: key.as_ref().map(|k| k.bearer_header()),
                    request_timeout: self.request_timeout,
                    retry: RetryPolicy {
                        max_wait: self.max_retry_wait,
                        stream: self.stream_limits.clone(),
                        ..RetryPolicy::default()
                    },
                    max_retries: self.max_retries,
                    max_body_bytes: self.max_body_bytes,
                    default_headers,
                }),
                stream_idle_timeout: self.stream_idle_timeout,
                max_event_bytes: self.max_event_bytes,
            }),
        })
    }
}

fn build_http(b: &ClientBuilder) -> Result<reqwest::Client, Error> {
    crate::network::install_tls_provider();
    let http = reqwest::Client::builder()
        .user_agent(concat!("maverick-rs/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(b.connect_timeout)
        // No client-wide total timeout: streams may run for minutes. The
        // non-streaming timeout is set per request by the transport hooks.
        .redirect(same_host_redirects_only());
    b.network.apply(http)?.build().map_err(|e| {
        Error::config(format!(
            "cannot build the HTTP client: {}{}",
            crate::transport_cause::error_chain(&e),
            b.network.build_hint()
        ))
    })
}

/// Redirects are followed only to the same host: reqwest strips
/// `Authorization` on cross-host redirects, and refusing them outright keeps
/// the body (a POST) from being replayed somewhere unexpected.
fn same_host_redirects_only() -> reqwest::redirect::Policy {
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

    pub(crate) fn shared(&self) -> &CallSettings {
        &self.inner.shared
    }

    pub(crate) fn sender(&self) -> &crate::sender::Sender {
        &self.inner.http
    }

    pub(crate) fn stream_idle_timeout(&self) -> Duration {
        self.inner.stream_idle_timeout
    }

    pub(crate) fn max_event_bytes(&self) -> usize {
        self.inner.max_event_bytes
    }

    pub(crate) fn endpoint(&self) -> &reqwest::Url {
        &self.inner.origin.endpoint
    }

    pub(crate) fn origin(&self) -> &Arc<crate::wire_error::Origin> {
        &self.inner.origin
    }

    pub(crate) fn call_context(&self, options: &CallOptions) -> Result<CallContext, Error> {
        let request_id = match &options.request_id {
            Some(id) => validate_request_id(id)?,
            None => request_id_header("mvk-"),
        };
        let headers = match options.headers.is_empty() {
            true => None,
            // Boxed: rare, and a header map would triple the call's context.
            false => Some(Box::new(crate::transport::header_map(&options.headers).map_err(
                |(name, why)| Error::invalid(format!("CallOptions::header({name:?})"), "given", why),
            )?)),
        };
        Ok(CallContext {
            request_id,
            headers,
            timeout: options.timeout,
            max_retries: options.max_retries.unwrap_or(self.inner.shared.max_retries),
            attempts: AtomicU32::new(0),
        })
    }

    /// Sends a request and waits for the whole completion.
    pub fn chat(&self, request: ChatRequest) -> impl Future<Output = Result<ChatResponse, Error>> + Send + '_ {
        self.chat_with(request, CallOptions::default())
    }

    /// [`chat`](Self::chat) with per-call options.
    ///
    /// The request is checked and encoded when this is called (the future
    /// reports the outcome, an invalid request included), so the future
    /// holds only the bytes and the call's context, not the request and
    /// options they came from; and its state lives in one allocation, so
    /// moving it moves a pointer. Every byte of a future is copied when it
    /// moves and touched when it runs: with many calls in flight, the
    /// smaller the state, the more of it stays in the CPU's cache (measured
    /// in the README's Benchmarks section).
    pub fn chat_with(
        &self,
        request: ChatRequest,
        options: CallOptions,
    ) -> impl Future<Output = Result<ChatResponse, Error>> + Send + '_ {
        let prepared = self.prepare(request, &options, false);
        let timeout = options.timeout.unwrap_or(self.inner.shared.request_timeout);
        Box::pin(async move {
            // Borrowed where it lies rather than moved into new locals,
            // which would hold it twice in this future.
            let (body, call, bytes) = match prepared {
                Ok((ref body, ref call, ref bytes)) => (body, call, bytes),
                Err(e) => return Err(e),
            };
            let span = tracing::debug_span!("maverick.chat", method = "POST", url = %self.endpoint(), request_id = %call.request_id());
            if span.is_disabled() {
                // No subscriber wants it: skip the span's enter and exit on every poll.
                return self.complete(bytes, call, timeout).await;
            }
            let started = std::time::Instant::now();
            tracing::trace!(parent: &span, request = ?body, "request body");
            let result = tracing::Instrument::instrument(self.complete(bytes, call, timeout), span.clone()).await;
            let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            match &result {
                Ok(r) => {
                    tracing::debug!(parent: &span, status = r.meta.status, attempts = r.meta.attempts, latency_ms, inference_id = ?r.meta.inference_id, "chat completed");
                    tracing::trace!(parent: &span, response = ?r.completion, "response body");
                }
                Err(err) => {
                    tracing::debug!(parent: &span, status = ?err.status(), attempts = call.attempts(), latency_ms, error = %err, "chat failed");
                }
            }
            result
        })
    }

    /// What `chat` and `chat_stream` do before anything is sent: the wire
    /// body (checked against the spec's bounds), the call's context and the
    /// encoded bytes every attempt shares.
    pub(crate) fn prepare(
        &self,
        request: ChatRequest,
        options: &CallOptions,
        stream: bool,
    ) -> Result<(crate::request::WireBody, CallContext, bytes::Bytes), Error> {
        let body = request.into_wire(&self.inner.model, stream)?;
        let call = self.call_context(options)?;
        let bytes = Self::encode(&body)?;
        Ok((body, call, bytes))
    }

    /// Serialises the body once; every attempt shares the bytes.
    pub(crate) fn encode(body: &crate::request::WireBody) -> Result<bytes::Bytes, Error> {
        body.to_vec()
            .map(bytes::Bytes::from)
            .map_err(|e| Error::config(format!("cannot serialise the request: {e}")))
    }

    /// The request both `chat` and `chat_stream` send, built afresh for
    /// each attempt: the body, the content headers, then what every attempt
    /// carries (key, request id, timeout).
    pub(crate) fn http_request(
        &self,
        body: &bytes::Bytes,
        stream: bool,
        call: &CallContext,
        timeout: Option<Duration>,
    ) -> reqwest::Request {
        use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
        let mut req = reqwest::Request::new(reqwest::Method::POST, self.endpoint().clone());
        let accept = match stream {
            true => HeaderValue::from_static("text/event-stream"),
            false => HeaderValue::from_static("application/json"),
        };
        let headers = req.headers_mut();
        // The default size holds the five headers every request carries
        // (these two, key, request id, reqwest's user agent); room is made
        // only for the user's own. An oversized map is a larger allocation
        // to fill on every call.
        let extra = self.inner.shared.default_headers.len() + call.headers.as_ref().map_or(0, |h| h.len());
        if extra > 0 {
            *headers = HeaderMap::with_capacity(5 + extra);
        }
        headers.insert(ACCEPT, accept);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        *req.body_mut() = Some(body.clone().into());
        crate::transport::prepare(&self.inner.shared, call, &mut req, timeout);
        req
    }

    /// Sends a non-streaming request (with retries) and decodes the answer,
    /// all within `timeout`: the whole call, retries and their waits
    /// included, as `request_timeout` promises. One timer in this future
    /// rather than reqwest's per request, which allocates a map, a boxed
    /// timer and its entry on every attempt.
    async fn complete(
        &self,
        body: &bytes::Bytes,
        call: &CallContext,
        timeout: Duration,
    ) -> Result<ChatResponse, Error> {
        match tokio::time::timeout(timeout, self.complete_within(body, call, timeout)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                kind: crate::error::TimeoutKind::Request,
                after: timeout,
                request_id: call.request_id().to_string(),
            }),
        }
    }

    /// [`complete`](Self::complete) without the deadline: attempts, then
    /// the body decoded straight from its bytes, which the response keeps
    /// for [`ChatResponse::raw`].
    async fn complete_within(
        &self,
        body: &bytes::Bytes,
        call: &CallContext,
        timeout: Duration,
    ) -> Result<ChatResponse, Error> {
        let shared = &self.inner.shared;
        let limit = shared.max_body_bytes;
        let build = || self.http_request(body, false, call, None);
        let resp = crate::retry::execute(self.sender(), build, &shared.retry, call.max_retries, &call.attempts)
            .await
            .map_err(|e| crate::wire_error::send_failure(e, &self.inner.origin, call, timeout))?;
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            // Boxed: reading an error body is the rare path, and its state
            // would otherwise enlarge every call's future.
            return Err(Box::pin(crate::wire_error::api_error(resp, call, limit)).await);
        }
        let meta = ResponseMeta::from_headers(status, resp.headers(), call.request_id().to_string(), call.attempts());
        let body = match crate::body::read_limited(resp, limit).await {
            Ok(body) => body,
            Err(crate::body::BodyError::TooLarge(seen)) => {
                return Err(Error::Decode {
                    what: "completion",
                    status,
                    request_id: call.request_id().to_string(),
                    message: format!(
                        "the body exceeds the {limit} byte limit (at least {seen} bytes); raise it with Client::builder().max_body_bytes(..)"
                    ),
                    snippet: String::new(),
                })
            }
            Err(crate::body::BodyError::Transport(e)) => {
                return Err(crate::wire_error::transport(e, &self.inner.origin, call, timeout))
            }
        };
        match serde_json::from_slice(&body) {
            Ok(completion) => Ok(ChatResponse::received(completion, meta, body)),
            // Some gateways answer 200 with an error object.
            Err(e) => Err(
                match ApiError::from_success_body(status, &body, call.request_id().to_string()) {
                    Some(api) => Error::Api(Box::new(api)),
                    None => crate::wire_error::decode("completion", status, call.request_id(), &body, &e.to_string()),
                },
            ),
        }
    }
}

/// 32 random lowercase hex digits, written by hand: `format!` costs more
/// than the rest of building the request's headers.
fn random_hex() -> impl Iterator<Item = u8> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [fastrand::u64(..), fastrand::u64(..)].into_iter().flat_map(|word| {
        (0..16)
            .rev()
            .map(move |shift| HEX.get(((word >> (shift * 4)) & 0xf) as usize).copied().unwrap_or(b'0'))
    })
}

/// A new request id as text: `prefix` and the digits. `mvk-` for calls,
/// `mvkb-` for batch lines (which name theirs before the call), so a log
/// tells them apart.
pub(crate) fn new_request_id(prefix: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 32);
    id.push_str(prefix);
    id.extend(random_hex().map(char::from));
    id
}

/// A new request id as the header value every attempt shares: one
/// allocation (the id itself), and a clone per attempt costs a reference
/// count.
fn request_id_header(prefix: &str) -> HeaderValue {
    /// Room for the longest prefix used here and the digits.
    struct Id([u8; 40], usize);
    impl AsRef<[u8]> for Id {
        fn as_ref(&self) -> &[u8] {
            self.0.get(..self.1).unwrap_or_default()
        }
    }
    let mut id = Id([0; 40], 0);
    for (slot, byte) in id.0.iter_mut().zip(prefix.bytes().chain(random_hex())) {
        *slot = byte;
        id.1 = id.1.saturating_add(1);
    }
    // Visible ASCII by construction; the fallback is never taken.
    HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(id)).unwrap_or(HeaderValue::from_static("mvk"))
}

fn validate_request_id(id: &str) -> Result<HeaderValue, Error> {
    let ok_len = (1..=128).contains(&id.len());
    let ok_chars = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    let value = HeaderValue::from_str(id).ok().filter(|_| ok_len && ok_chars);
    if let Some(value) = value {
        Ok(value)
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
        let id = new_request_id("mvk-");
        assert!(validate_request_id(&id).is_ok() && id.len() == 36, "{id}");
        assert!(
            id[4..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "{id}"
        );
        assert_ne!(new_request_id("mvk-"), id);
        assert!(new_request_id("mvkb-").starts_with("mvkb-"));
        let header = request_id_header("mvk-");
        let text = header.to_str().unwrap();
        assert!(
            validate_request_id(text).is_ok() && text.len() == 36 && text.starts_with("mvk-"),
            "{text}"
        );
        assert_ne!(request_id_header("mvk-"), header);
    }
}
