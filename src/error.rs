//! The one public error type.
//!
//! Every variant's `Display` says what happened and what to do about it. No
//! variant can hold the API key: requests are described by id and URL only.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// Everything that can go wrong in a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-success status.
    #[error("{0}")]
    Api(Box<ApiError>),

    /// The request never got an answer: DNS, connect, TLS, proxy, reset.
    /// `cause` names the step that failed and why (the message says what
    /// to do about it); `source` keeps the HTTP client's whole error chain.
    #[error("{cause} (POST {url}, request id {request_id}, {attempts} {noun})", noun = if *attempts == 1 { "attempt" } else { "attempts" })]
    Transport {
        /// The endpoint the request was sent to (never includes the key).
        url: String,
        /// The `X-Client-Request-Id` this client sent, to find the call in logs.
        request_id: String,
        /// How many attempts were made before giving up, retries included.
        attempts: u32,
        /// Which step failed (DNS, connect, TLS, proxy, HTTP/2) and why.
        cause: crate::TransportCause,
        /// The underlying HTTP client error from the last attempt.
        #[source]
        source: reqwest::Error,
    },

    /// A middleware given with `ClientBuilder::middleware_client` (feature
    /// `middleware`) failed the request. Not retried: the middleware
    /// decided, and another attempt would meet it again.
    #[error("a middleware failed the request (request id {request_id}, attempt {attempts}): {source}")]
    Middleware {
        /// The `X-Client-Request-Id` this client sent, to find the call in logs.
        request_id: String,
        /// How many attempts were made, this one included.
        attempts: u32,
        /// The middleware's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A timeout fired; `kind` says which one.
    #[error("{kind} timeout of {after:?} fired (request id {request_id}); raise it with Client::builder().{setter}(..) if the model needs longer", setter = kind.setter())]
    Timeout {
        /// Which of the configured timeouts fired, and so which setter raises it.
        kind: TimeoutKind,
        /// The configured limit that elapsed (for [`TimeoutKind::StreamRate`],
        /// the measuring window).
        after: Duration,
        /// The `X-Client-Request-Id` this client sent, to find the call in logs.
        request_id: String,
    },

    /// The body was not what the server claimed (HTML from a proxy,
    /// truncated JSON, a shape no schema allows).
    #[error("could not decode the {what} (HTTP {status}, request id {request_id}): {message}; body starts with: {snippet:?}")]
    Decode {
        /// Which body failed to decode: `"completion"`, `"stream chunk"` or
        /// `"assembled stream response"`.
        what: &'static str,
        /// The HTTP status that came with the body (200 for an assembled stream).
        status: u16,
        /// The `X-Client-Request-Id` this client sent (empty when the
        /// failure was found after the stream ended).
        request_id: String,
        /// The decoder's complaint, e.g. which field or byte it stopped at.
        message: String,
        /// The first characters of the body, to tell an HTML error page or a
        /// truncated answer at a glance.
        snippet: String,
    },

    /// A request field breaks a bound or rule of the API; nothing was sent.
    #[error("invalid request: `{field}` is {value}, but {expected}")]
    InvalidRequest {
        /// The request field that broke the rule, as the API names it.
        field: String,
        /// The offending value, as it was set.
        value: String,
        /// The bound or rule the value must meet.
        expected: String,
    },

    /// The client cannot be built as configured.
    #[error("configuration error: {0}")]
    Config(String),

    /// The model's output (tool arguments, structured answer) is not the
    /// JSON the caller's type expects.
    #[error("the model's {what} do not match the expected type at `{path}`: {message}; raw text: {raw:?}")]
    ModelOutput {
        /// What was being decoded: the arguments of a tool call (with its id
        /// and name), or `"structured answer"`.
        what: String,
        /// Where in the JSON decoding failed (`.` for the top level).
        path: String,
        /// Why it failed there (or the model's refusal, if it refused).
        message: String,
        /// The model's text as received, to log or show.
        raw: String,
    },

    /// A stream broke after some of the answer had arrived; `partial` holds
    /// it (text, tool calls so far), so nothing received is lost.
    #[error("the stream broke after {} characters of text arrived (kept in `partial`): {source}", partial.text().map_or(0, |t| t.chars().count()))]
    Interrupted {
        /// What arrived before the failure, folded as `collect` would.
        partial: Box<crate::ChatResponse>,
        /// The failure itself.
        #[source]
        source: Box<Error>,
    },

    /// The event stream broke after it started.
    #[error("stream error (request id {request_id}): {message}")]
    Stream {
        /// The `X-Client-Request-Id` this client sent, to find the call in logs.
        request_id: String,
        /// What broke: an error event from the server, a malformed or
        /// oversized event, the `max_stream_bytes` cap, or an early end of
        /// the stream.
        message: String,
    },
}

/// Which timeout fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Establishing the TCP/TLS connection.
    Connect,
    /// The whole of a non-streaming request.
    Request,
    /// No bytes arrived on a stream for this long.
    StreamIdle,
    /// The stream's total budget ran out (`stream_timeout`).
    StreamTotal,
    /// Fewer bytes than the floor arrived in one window (`stream_min_rate`);
    /// `after` is the window.
    StreamRate,
}

impl TimeoutKind {
    fn setter(self) -> &'static str {
        match self {
            TimeoutKind::Connect => "connect_timeout",
            TimeoutKind::Request => "request_timeout",
            TimeoutKind::StreamIdle => "stream_idle_timeout",
            TimeoutKind::StreamTotal => "stream_timeout",
            TimeoutKind::StreamRate => "stream_min_rate",
        }
    }
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "connect",
            TimeoutKind::Request => "request",
            TimeoutKind::StreamIdle => "stream idle",
            TimeoutKind::StreamTotal => "stream total",
            TimeoutKind::StreamRate => "stream minimum rate",
        })
    }
}

impl Error {
    pub(crate) fn config(msg: impl Into<String>) -> Self {
        Error::Config(msg.into())
    }

    pub(crate) fn invalid(field: impl Into<String>, value: impl fmt::Display, expected: impl Into<String>) -> Self {
        Error::InvalidRequest {
            field: field.into(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    /// The API error, when the server answered with an error status.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// HTTP status of the answer this error came from, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Decode { status, .. } => Some(*status),
            Error::Interrupted { source, .. } => source.status(),
            _ => None,
        }
    }

    /// Why the request never got an answer, for a transport failure (also
    /// when a stream broke on one): match on it to tell a certificate the
    /// client does not trust from a dead proxy or a host name that does not
    /// exist.
    pub fn transport_cause(&self) -> Option<&crate::TransportCause> {
        match self {
            Error::Transport { cause, .. } => Some(cause),
            Error::Interrupted { source, .. } => source.transport_cause(),
            _ => None,
        }
    }

    /// Whether sending the same request again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => e.is_retryable(),
            Error::Transport { cause, .. } => cause.is_retryable(),
            Error::Timeout { .. } | Error::Stream { .. } => true,
            Error::Interrupted { source, .. } => source.is_retryable(),
            _ => false,
        }
    }
}

/// What the server said when it refused a request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// Classification of the status, for `match`.
    pub kind: ApiErrorKind,
    /// The server's message (all of them, joined, for validation errors).
    pub message: String,
    /// The raw body, as received (lossy UTF-8), for anything not parsed.
    pub body: String,
    /// The `X-Client-Request-Id` this client sent.
    pub request_id: String,
    /// The provider's own request id (`requestId` in the body), if given.
    pub provider_request_id: Option<String>,
    /// The `x-inference-id` response header, if given.
    pub inference_id: Option<String>,
    /// OpenAI-style `error.type` / `error.code`, from other hosts.
    pub error_type: Option<String>,
    /// OpenAI-style `error.code`.
    pub code: Option<String>,
    /// How long the server asked us to wait (`Retry-After`), if it did.
    pub retry_after: Option<Duration>,
    /// The server's own verdict on retrying (`x-should-retry: true|false`),
    /// if it gave one; it overrides the status rule in
    /// [`is_retryable`](Self::is_retryable).
    pub should_retry: Option<bool>,
    /// How many attempts were made, retries included.
    pub attempts: u32,
}

/// HTTP statuses grouped by what the caller should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 400 / 422: fix the request; `message` lists the violations.
    BadRequest,
    /// 401: the key is missing, wrong or revoked.
    Authentication,
    /// 403: the key may not use this model, or the account is out of credits.
    PermissionDenied,
    /// 404: wrong base URL or model.
    NotFound,
    /// 408 / 409: transient; retried.
    Conflict,
    /// 429: slow down; see `retry_after`.
    RateLimited,
    /// 5xx: the server failed; retried.
    Server,
    /// Anything else.
    Other,
}

impl ApiErrorKind {
    pub(crate) fn from_status(status: u16) -> Self {
        match status {
            400 | 422 => ApiErrorKind::BadRequest,
            401 => ApiErrorKind::Authentication,
            403 => ApiErrorKind::PermissionDenied,
            404 => ApiErrorKind::NotFound,
            408 | 409 => ApiErrorKind::Conflict,
            429 => ApiErrorKind::RateLimited,
            500..=599 => ApiErrorKind::Server,
            _ => ApiErrorKind::Other,
        }
    }

    fn advice(self) -> &'static str {
        match self {
            ApiErrorKind::BadRequest => "fix the request fields named in the message",
            ApiErrorKind::Authentication => "check the API key (AIML_API_KEY or Client::builder().api_key(..))",
            ApiErrorKind::PermissionDenied => "check that the key may use this model and that the account has credits",
            ApiErrorKind::NotFound => "check the base URL and the model name",
            ApiErrorKind::Conflict => "retry the request",
            ApiErrorKind::RateLimited => "slow down or wait before retrying",
            ApiErrorKind::Server => "the server failed; retry later",
            ApiErrorKind::Other => "see the message",
        }
    }
}

impl ApiError {
    /// Whether the status is one that retrying can cure.
    pub fn is_retryable(&self) -> bool {
        self.should_retry
            .unwrap_or_else(|| crate::retry::status_is_retryable(self.status))
    }

    /// Builds the error from a response body in either known shape: the
    /// AI/ML API's `{message, path, requestId, statusCode, timestamp}` or
    /// OpenAI's `{error: {message, type, code}}`.
    pub(crate) fn from_body(status: u16, body: &[u8], request_id: String, inference_id: Option<String>) -> Self {
        let text = String::from_utf8_lossy(body).into_owned();
        let mut err = ApiError {
            status,
            kind: ApiErrorKind::from_status(status),
            message: String::new(),
            body: text,
            request_id,
            provider_request_id: None,
            inference_id,
            error_type: None,
            code: None,
            retry_after: None,
            should_retry: None,
            attempts: 1,
        };
        if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
            if let Some(inner) = parsed.error {
                match inner {
                    InnerError::Object { message, r#type, code } => {
                        err.message = message.map(flatten_message).unwrap_or_default();
                        err.error_type = r#type;
                        err.code = code.map(scalar_to_string);
                    }
                    InnerError::Text(m) => err.message = m,
                }
            }
            if err.message.is_empty() {
                if let Some(m) = parsed.message {
                    err.message = flatten_message(m);
                }
            }
            err.provider_request_id = parsed.request_id;
        }
        if err.message.is_empty() {
            err.message = snippet(&err.body, 200);
        }
        err
    }
}

impl ApiError {
    /// An error object sent with a success status (some gateways do this),
    /// recognised by its shape: `error`, or `statusCode` + `message`, and no
    /// `choices`.
    pub(crate) fn from_success_body(status: u16, body: &[u8], request_id: String) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        let obj = v.as_object()?;
        if obj.contains_key("choices") {
            return None;
        }
        let provider_shape = obj.contains_key("statusCode") && obj.contains_key("message");
        if !(obj.contains_key("error") || provider_shape) {
            return None;
        }
        let claimed = obj
            .get("statusCode")
            .and_then(|c| c.as_u64().or_else(|| c.as_str().and_then(|s| s.parse().ok())))
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| *c >= 400);
        let mut err = ApiError::from_body(claimed.unwrap_or(status), body, request_id, None);
        if claimed.is_none() {
            err.kind = ApiErrorKind::Other;
        }
        Some(err)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "API error {}: {}",
            self.status,
            if self.message.is_empty() {
                "(no message)"
            } else {
                &self.message
            }
        )?;
        write!(f, " (request id {}", self.request_id)?;
        if let Some(id) = &self.inference_id {
            write!(f, ", inference id {id}")?;
        }
        if self.attempts > 1 {
            write!(f, ", after {} attempts", self.attempts)?;
        }
        write!(f, "); {}", self.kind.advice())
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<serde_json::Value>,
    #[serde(default, rename = "requestId")]
    request_id: Option<String>,
    #[serde(default)]
    error: Option<InnerError>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum InnerError {
    Object {
        #[serde(default)]
        message: Option<serde_json::Value>,
        #[serde(default)]
        r#type: Option<String>,
        #[serde(default)]
        code: Option<serde_json::Value>,
    },
    Text(String),
}

/// Validation errors arrive as a string or a list of strings.
fn flatten_message(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        serde_json::Value::Array(items) => items.into_iter().map(flatten_message).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}

fn scalar_to_string(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// The first `max` characters of a body, for error messages.
pub(crate) fn snippet(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        // `i` is a char boundary (from char_indices), so `get` always succeeds.
        Some((i, _)) => format!("{}…", text.get(..i).unwrap_or(text)),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_error_shape_with_string_status() {
        let body = br#"{"message":["temperature must not be greater than 2","max_tokens must be a number"],"path":"/v1/chat/completions","requestId":"r-1","statusCode":"400","timestamp":"2026-01-01T00:00:00Z"}"#;
        let e = ApiError::from_body(400, body, "c-1".into(), Some("inf-9".into()));
        assert_eq!(e.kind, ApiErrorKind::BadRequest);
        assert_eq!(
            e.message,
            "temperature must not be greater than 2; max_tokens must be a number"
        );
        assert_eq!(e.provider_request_id.as_deref(), Some("r-1"));
        let shown = e.to_string();
        assert!(
            shown.contains("API error 400") && shown.contains("inf-9") && shown.contains("fix the request"),
            "{shown}"
        );
    }

    #[test]
    fn openai_error_shape_and_garbage() {
        let body = br#"{"error":{"message":"Invalid API key","type":"invalid_request_error","code":401}}"#;
        let e = ApiError::from_body(401, body, "c".into(), None);
        assert_eq!(
            (e.message.as_str(), e.code.as_deref(), e.kind),
            ("Invalid API key", Some("401"), ApiErrorKind::Authentication)
        );
        let e = ApiError::from_body(502, b"<html>Bad Gateway</html>", "c".into(), None);
        assert_eq!(e.message, "<html>Bad Gateway</html>");
        assert!(e.is_retryable());
    }
}
