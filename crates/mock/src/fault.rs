//! Misbehaviour on demand, so users can test their retry and stream-repair
//! code against a server that fails the way real ones do.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, StatusCode};
use bytes::Bytes;

/// How long `slow-stream` waits before each event.
pub const SLOW_STREAM_PAUSE: Duration = Duration::from_millis(200);
/// How many events `cut-stream` sends before hanging up.
pub const CUT_STREAM_EVENTS: usize = 2;

/// Where the connection drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// After this many bytes of the body.
    AfterBytes(usize),
    /// After this many body frames: stream events, or the one JSON body.
    AfterChunks(usize),
}

/// One scripted answer. Without a status the mock answers the request
/// normally and applies only the delay, pacing and cut.
#[derive(Debug, Clone, Default)]
pub struct Fault {
    pub(crate) status: Option<StatusCode>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Option<Bytes>,
    pub(crate) delay: Duration,
    pub(crate) pause: Duration,
    pub(crate) cut: Option<Cut>,
}

impl Fault {
    /// Answer with `status` and, unless [`body`](Self::body) says
    /// otherwise, an error body in the provider's shape.
    pub fn status(status: StatusCode) -> Self {
        Fault {
            status: Some(status),
            ..Fault::default()
        }
    }

    /// 429 with `Retry-After` in whole seconds, as the provider throttles.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Fault::status(StatusCode::TOO_MANY_REQUESTS)
            .header(axum::http::header::RETRY_AFTER, HeaderValue::from(retry_after_secs))
    }

    /// A normal answer that starts after `delay` (for timeout tests).
    pub fn delayed(delay: Duration) -> Self {
        Fault {
            delay,
            ..Fault::default()
        }
    }

    /// A normal answer that waits `pause` before every body frame.
    pub fn slow(pause: Duration) -> Self {
        Fault {
            pause,
            ..Fault::default()
        }
    }

    /// A normal answer whose connection drops after `cut`.
    pub fn cut(cut: Cut) -> Self {
        Fault {
            cut: Some(cut),
            ..Fault::default()
        }
    }

    /// Adds a response header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Replaces the body (sent as is, `application/json`).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Waits before the status line.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Waits before every body frame.
    pub fn with_pause(mut self, pause: Duration) -> Self {
        self.pause = pause;
        self
    }

    /// Drops the connection part way.
    pub fn with_cut(mut self, cut: Cut) -> Self {
        self.cut = Some(cut);
        self
    }

    /// Parses an `x-mock-fault` header value; the error names the values
    /// that work.
    pub fn from_header(value: &str) -> Result<Fault, String> {
        let value = value.trim();
        let (name, arg) = match value.split_once(':') {
            Some((n, a)) => (n.trim(), Some(a.trim())),
            None => (value, None),
        };
        let number = |default: u64| -> Result<u64, String> {
            match arg {
                None => Ok(default),
                Some(a) => a.parse().map_err(|_| format!("`{value}`: `{a}` is not a whole number")),
            }
        };
        match name {
            "slow-stream" => Ok(Fault::slow(Duration::from_millis(number(SLOW_STREAM_PAUSE.as_millis() as u64)?))),
            "cut-stream" => Ok(Fault::cut(Cut::AfterChunks(number(CUT_STREAM_EVENTS as u64)? as usize))),
            code => match code.parse::<u16>().ok().and_then(|c| StatusCode::from_u16(c).ok()) {
                Some(status) if status.is_client_error() || status.is_server_error() => {
                    let fault = Fault::status(status);
                    Ok(if matches!(status.as_u16(), 429 | 503) {
                        fault.header(axum::http::header::RETRY_AFTER, HeaderValue::from(number(1)?))
                    } else {
                        fault
                    })
                }
                _ => Err(format!(
                    "x-mock-fault `{value}` is not understood; use a 4xx/5xx status (`429`, `500`, `503`; `429:N` sets Retry-After), `slow-stream[:MS]` or `cut-stream[:EVENTS]`"
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_parse() {
        let f = Fault::from_header("429").unwrap();
        assert_eq!(f.status, Some(StatusCode::TOO_MANY_REQUESTS));
        assert_eq!(f.headers[0].1, HeaderValue::from_static("1"));
        assert_eq!(
            Fault::from_header("500").unwrap().status,
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        );
        assert_eq!(
            Fault::from_header("slow-stream:5").unwrap().pause,
            Duration::from_millis(5)
        );
        assert_eq!(
            Fault::from_header("cut-stream").unwrap().cut,
            Some(Cut::AfterChunks(CUT_STREAM_EVENTS))
        );
    }

    #[test]
    fn unknown_values_say_what_works() {
        let err = Fault::from_header("200").unwrap_err();
        assert!(err.contains("slow-stream") && err.contains("cut-stream"), "{err}");
        assert!(Fault::from_header("cut-stream:x").unwrap_err().contains("whole number"));
    }
}
