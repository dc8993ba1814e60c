//! When and how long to retry. One policy serves non-streaming calls and
//! streams (before the first event), whatever [`Sender`] carries them.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

pub(crate) const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(60);

use reqwest::header::HeaderMap;

use crate::sender::{SendFailure, Sender};

/// Backoff parameters; the defaults follow openai-python's documented ones.
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    pub initial: Duration,
    pub cap: Duration,
    /// Longest server-requested wait honoured.
    pub max_wait: Duration,
    /// Limits put on every stream body by [`execute_stream`]. They ride here
    /// because this policy is what the stream call site hands over.
    pub stream: crate::body::StreamLimits,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            max_wait: DEFAULT_MAX_RETRY_WAIT,
            stream: crate::body::StreamLimits::default(),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with jitter: 0.5 s, 1 s, 2 s … capped, each
    /// shortened by up to a quarter so that clients spread out.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.initial.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let full = u64::try_from(exp.min(self.cap).as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(full.saturating_sub(fastrand::u64(0..=full / 4)))
    }
}

/// Statuses worth another attempt, unless `x-should-retry` says otherwise.
pub(crate) fn status_is_retryable(status: u16) -> bool {
    matches!(status, 408 | 409 | 429 | 500 | 502 | 503 | 504)
}

const SHOULD_RETRY: reqwest::header::HeaderName = reqwest::header::HeaderName::from_static("x-should-retry");

/// The server's explicit verdict overrides the status rule.
pub(crate) fn should_retry(status: u16, headers: &HeaderMap) -> bool {
    retry_verdict(headers).unwrap_or_else(|| status_is_retryable(status))
}

/// `x-should-retry: true|false`, if the server sent one.
pub(crate) fn retry_verdict(headers: &HeaderMap) -> Option<bool> {
    match headers.get(&SHOULD_RETRY).and_then(|v| v.to_str().ok()) {
        Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Longest wait [`retry_after`] reports: anything longer is clamped to it,
/// so no server value can overflow a `Duration` or an `Instant`. A year is
/// far past any sane `max_retry_wait`, so a clamped value still fails fast.
pub(crate) const RETRY_AFTER_CEILING: Duration = Duration::from_secs(365 * 24 * 3600);

/// `retry-after-ms`, then `Retry-After` as seconds or an HTTP date. Values
/// come from the network: negative, NaN, non-ASCII or unparsable ones are
/// ignored, and huge ones are clamped to [`RETRY_AFTER_CEILING`] (the caller
/// then gives up at once, since that is past any `max_retry_wait`). When a
/// header is repeated, the first value counts.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = text("retry-after-ms").and_then(parse_seconds_text) {
        return Some(seconds_to_duration(ms / 1000.0));
    }
    let value = text("retry-after")?;
    if let Some(secs) = parse_seconds_text(value) {
        return Some(seconds_to_duration(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(RETRY_AFTER_CEILING),
    )
}

/// A finite, non-negative number (seconds or milliseconds), or `None`.
fn parse_seconds_text(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0)
}

/// Seconds to a `Duration` without `Duration::from_secs_f64`, which panics
/// past `u64::MAX` seconds: clamps to [`RETRY_AFTER_CEILING`].
fn seconds_to_duration(secs: f64) -> Duration {
    if secs.is_nan() || secs <= 0.0 {
        return Duration::ZERO;
    }
    if secs >= RETRY_AFTER_CEILING.as_secs_f64() {
        return RETRY_AFTER_CEILING;
    }
    Duration::try_from_secs_f64(secs).unwrap_or(RETRY_AFTER_CEILING)
}

/// Whether a transport failure may go away on its own: not a certificate
/// the client does not trust, a host name that does not exist, a proxy that
/// refuses or wants credentials (see
/// [`TransportCause::is_retryable`](crate::TransportCause::is_retryable)).
fn transport_is_retryable(e: &reqwest::Error) -> bool {
    if e.is_builder() || e.is_redirect() || e.is_decode() {
        return false;
    }
    let Some(url) = e.url() else { return true };
    crate::transport_cause::classify(e, &crate::transport_cause::Target::of(url, None)).is_retryable()
}

/// Sends the request `build` makes, retrying up to `max_retries` times.
/// Returns the last response (even an error status: the caller turns it
/// into a typed error) or the last failure. `attempts` ends holding the
/// attempt count.
pub(crate) async fn execute(
    sender: &Sender,
    build: impl Fn() -> reqwest::Request,
    policy: &RetryPolicy,
    max_retries: u32,
    attempts: &AtomicU32,
) -> Result<reqwest::Response, SendFailure> {
    let retryable = |e: &SendFailure| match e {
        SendFailure::Http(e) => transport_is_retryable(e),
        SendFailure::Middleware(_) => false,
    };
    execute_with(build, policy, max_retries, attempts, |r| sender.send(r), retryable).await
}

/// Why a stream's request got no answer headers.
#[derive(Debug)]
pub(crate) enum SendError {
    Failed(SendFailure),
    /// No response headers within the allowed time.
    NoHeaders,
}

/// [`execute`] for streams: each attempt must see response headers within
/// `wait`, since streams carry no request timeout that would end a server
/// that accepts the connection and never answers. The body of the answer,
/// success or error, is then read under `wait` as an idle timeout and the
/// policy's [`StreamLimits`](crate::body::StreamLimits), so that neither a
/// stream nor an error body read from it can run forever.
pub(crate) async fn execute_stream(
    sender: &Sender,
    build: impl Fn() -> reqwest::Request,
    policy: &RetryPolicy,
    max_retries: u32,
    attempts: &AtomicU32,
    wait: Duration,
) -> Result<reqwest::Response, SendError> {
    let send = |r| async move {
        match tokio::time::timeout(wait, sender.send(r)).await {
            Ok(result) => result.map_err(SendError::Failed),
            Err(_) => Err(SendError::NoHeaders),
        }
    };
    let retryable = |e: &SendError| match e {
        SendError::Failed(SendFailure::Http(e)) => transport_is_retryable(e),
        SendError::Failed(SendFailure::Middleware(_)) => false,
        SendError::NoHeaders => true,
    };
    let started = tokio::time::Instant::now();
    let response = execute_with(build, policy, max_retries, attempts, send, retryable).await?;
    Ok(crate::body::guard(response, started, wait, &policy.stream))
}

/// The loop both share. `build` makes each attempt's request (from the
/// encoded body, a cheap shared buffer): cheaper than cloning every request
/// up front for a retry that rarely comes, and the request is handed
/// straight to `send` instead of waiting in this future's state, which
/// stays small (see [`Sender::send`]).
async fn execute_with<E, F, Fut>(
    build: impl Fn() -> reqwest::Request,
    policy: &RetryPolicy,
    max_retries: u32,
    attempts: &AtomicU32,
    send: F,
    retryable: impl Fn(&E) -> bool,
) -> Result<reqwest::Response, E>
where
    F: Fn(reqwest::Request) -> Fut,
    Fut: std::future::Future<Output = Result<reqwest::Response, E>>,
{
    let mut attempt: u32 = 0;
    loop {
        attempt = attempt.saturating_add(1);
        attempts.store(attempt, Ordering::Relaxed);
        let sent = std::time::Instant::now();
        let result = send(build()).await;
        tracing::debug!(
            attempt,
            status = result.as_ref().ok().map(|r| r.status().as_u16()),
            latency_ms = u64::try_from(sent.elapsed().as_millis()).unwrap_or(u64::MAX),
            "attempt finished"
        );
        if attempt > max_retries {
            return result;
        }
        let wait = match &result {
            // A success is final whatever `x-should-retry` says (as in
            // openai-python, which reads it only on failures).
            Ok(resp) if resp.status().is_success() => return result,
            Ok(resp) if !should_retry(resp.status().as_u16(), resp.headers()) => return result,
            Ok(resp) => match retry_after(resp.headers()) {
                // Past the cap, waiting would stall the caller: hand back the
                // response so the error carries the requested wait.
                Some(wait) if wait > policy.max_wait || wait >= RETRY_AFTER_CEILING => return result,
                Some(wait) => wait,
                None => policy.backoff(attempt),
            },
            Err(e) if retryable(e) => policy.backoff(attempt),
            Err(_) => return result,
        };
        tracing::debug!(
            attempt,
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            "retrying"
        );
        drop(result);
        // Boxed: a timer is larger than the rest of this loop's state and
        // is needed only on the rare retry.
        Box::pin(tokio::time::sleep(wait)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = HeaderMap::new();
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        h.insert("retry-after", HeaderValue::from_str(&later).unwrap());
        let got = retry_after(&h).unwrap();
        assert!(
            got > Duration::from_secs(27) && got <= Duration::from_secs(30),
            "{got:?}"
        );
    }

    fn after(pairs: &[(&str, &[u8])]) -> Option<Duration> {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        retry_after(&h)
    }

    #[test]
    fn hostile_retry_after_values_never_panic_and_clamp() {
        let ceiling = Some(RETRY_AFTER_CEILING);
        for name in ["retry-after", "retry-after-ms"] {
            for value in [
                &b"1e20"[..],
                b"1e30",
                b"1e308",
                b"18446744073709551616",
                b"99999999999999999999999999999999",
                b"1.7976931348623157e308",
            ] {
                assert_eq!(after(&[(name, value)]), ceiling, "{name}: {value:?}");
            }
            for value in [
                &b"-1"[..],
                b"NaN",
                b"nan",
                b"inf",
                b"-inf",
                b"infinity",
                b"",
                b"   ",
                b"\xff\xfe",
                "\u{0663}".as_bytes(),
                b"1_000",
                b"0x10",
                b"--1",
            ] {
                assert_eq!(after(&[(name, value)]), None, "{name}: {value:?}");
            }
        }
        assert_eq!(after(&[("retry-after-ms", b"-0")]), Some(Duration::ZERO));
        assert_eq!(after(&[("retry-after", b"1e-300")]), Some(Duration::ZERO));
        // A bad `retry-after-ms` falls back to `Retry-After`.
        assert_eq!(
            after(&[("retry-after-ms", b"NaN"), ("retry-after", b"3")]),
            Some(Duration::from_secs(3))
        );
        // Repeated: the first value counts, whatever follows.
        assert_eq!(
            after(&[("retry-after", b"2"), ("retry-after", b"1e30")]),
            Some(Duration::from_secs(2))
        );
        // A date far in the future is clamped too; one in the past is now.
        assert_eq!(after(&[("retry-after", b"Fri, 31 Dec 9999 23:59:59 GMT")]), ceiling);
        assert_eq!(
            after(&[("retry-after", b"Thu, 01 Jan 1970 00:00:00 GMT")]),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn status_rules_and_override() {
        let h = HeaderMap::new();
        for s in [408, 409, 429, 500, 502, 503, 504] {
            assert!(should_retry(s, &h), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!should_retry(s, &h), "{s}");
        }
        let mut h = HeaderMap::new();
        h.insert("x-should-retry", HeaderValue::from_static("false"));
        assert!(!should_retry(503, &h));
        h.insert("x-should-retry", HeaderValue::from_static("true"));
        assert!(should_retry(400, &h));
    }

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let p = RetryPolicy::default();
        for (attempt, full) in [(1, 500), (2, 1000), (3, 2000), (4, 4000), (5, 8000), (9, 8000)] {
            let d = p.backoff(attempt).as_millis() as u64;
            assert!(d <= full && d >= full * 3 / 4, "attempt {attempt}: {d}");
        }
    }
}
