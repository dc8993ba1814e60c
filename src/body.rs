//! Reading bodies without trusting their size.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A stream's whole budget: far past the longest completion Maverick writes
/// at a slow provider's pace, yet a peer that trickles or sends keep-alive
/// comments forever is cut within the hour.
pub(crate) const DEFAULT_STREAM_TIMEOUT: Option<Duration> = Some(Duration::from_secs(30 * 60));
/// Bytes one stream may carry: a long completion's SSE is a few MiB.
pub(crate) const DEFAULT_MAX_STREAM_BYTES: u64 = 256 * 1024 * 1024;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

pub(crate) enum BodyError {
    /// More than the limit arrived; how many bytes were seen.
    TooLarge(usize),
    Transport(reqwest::Error),
}

impl BodyError {
    /// Best effort for error paths: what was read is lost, say why instead.
    pub fn into_bytes(self) -> Bytes {
        match self {
            BodyError::TooLarge(n) => Bytes::from(format!("(error body larger than the limit: {n} bytes)")),
            BodyError::Transport(e) => {
                // reqwest's own text ("error decoding response body") hides the
                // cause; name the limit that cut the body, or the cause.
                let cause = match LimitHit::find(&e) {
                    Some(hit) => hit.to_string(),
                    None => std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| format!("{e}: {s}")),
                };
                Bytes::from(format!("(error body could not be read: {cause})"))
            }
        }
    }
}

/// Reads the whole body, failing as soon as it passes `limit` bytes.
///
/// A function returning an `async` block rather than an `async fn`: an
/// `async fn` keeps its by-value argument and its moved copy side by side
/// in its state, and the response is the largest thing in it.
#[allow(clippy::manual_async_fn)]
pub(crate) fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> impl Future<Output = Result<Bytes, BodyError>> + Send {
    async move {
        // A declared length is only a hint: over the limit it is refused, under
        // it only sizes the first allocation, and the bytes read are counted anyway.
        let declared = response
            .content_length()
            .map(|len| usize::try_from(len).unwrap_or(usize::MAX));
        if let Some(len) = declared.filter(|len| *len > limit) {
            return Err(BodyError::TooLarge(len));
        }
        let Some(first) = response.chunk().await.map_err(BodyError::Transport)? else {
            return Ok(Bytes::new());
        };
        if first.len() > limit {
            return Err(BodyError::TooLarge(first.len()));
        }
        // The whole body in one chunk (the common case for a completion):
        // hand it on as it is, without a buffer and a copy.
        if declared == Some(first.len()) {
            return Ok(first);
        }
        let mut buf = BytesMut::with_capacity(declared.unwrap_or(8 * 1024).max(first.len()).min(limit));
        buf.extend_from_slice(&first);
        while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
            let total = buf.len().saturating_add(chunk.len());
            if total > limit {
                return Err(BodyError::TooLarge(total));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }
}

/// Limits on a streamed body beyond the idle timeout, which a peer that
/// trickles a byte now and then never trips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamLimits {
    /// Whole stream, from sending the request to the last byte.
    pub total: Option<Duration>,
    /// Fewer than `.0` bytes in any `.1`-long window fails the stream.
    pub min_rate: Option<(u64, Duration)>,
    /// Bytes the whole stream may carry.
    pub max_bytes: u64,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            total: DEFAULT_STREAM_TIMEOUT,
            min_rate: None,
            max_bytes: DEFAULT_MAX_STREAM_BYTES,
        }
    }
}

/// Which stream limit cut a body; travels inside the `reqwest::Error` the
/// body stream yields and is turned back into a typed error by
/// `wire_error::transport`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LimitHit {
    /// No bytes for this long.
    Idle(Duration),
    /// The total stream budget ran out.
    Total(Duration),
    /// Fewer than `bytes` arrived in `window`.
    Rate { bytes: u64, window: Duration, seen: u64 },
    /// More than this many bytes in all.
    Bytes(u64),
}

impl fmt::Display for LimitHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitHit::Idle(d) => write!(f, "no bytes arrived for {d:?} (stream_idle_timeout)"),
            LimitHit::Total(d) => write!(f, "the stream ran past its {d:?} budget (stream_timeout)"),
            LimitHit::Rate { bytes, window, seen } => write!(
                f,
                "only {seen} bytes arrived in {window:?}, below the floor of {bytes} (stream_min_rate)"
            ),
            LimitHit::Bytes(n) => write!(f, "the stream passed its {n} byte limit (max_stream_bytes)"),
        }
    }
}

impl std::error::Error for LimitHit {}

impl LimitHit {
    /// The limit behind `err`, if one of ours cut the body it came from.
    pub(crate) fn find<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a LimitHit> {
        let mut next = Some(err);
        while let Some(e) = next {
            if let Some(hit) = e.downcast_ref::<LimitHit>() {
                return Some(hit);
            }
            next = e.source();
        }
        None
    }

    fn into_error(self) -> BoxError {
        match self {
            // An idle cut reads as a timeout to every caller (`is_timeout`).
            LimitHit::Idle(_) => Box::new(std::io::Error::new(std::io::ErrorKind::TimedOut, self)),
            other => Box::new(other),
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// Puts `limits` (and `idle`) on the body of `response`: every byte of a
/// stream, error bodies included, passes through here. The deadlines are
/// compared with the clock on every poll, so a peer that is always ready
/// (an endless fast stream) is cut as surely as a silent one.
pub(crate) fn guard(
    response: reqwest::Response,
    started: Instant,
    idle: Duration,
    limits: &StreamLimits,
) -> reqwest::Response {
    let mut parts = http::Response::new(());
    *parts.status_mut() = response.status();
    *parts.version_mut() = response.version();
    *parts.headers_mut() = response.headers().clone();
    let now = Instant::now();
    let idle_deadline = later(now, idle);
    let body = Guarded {
        inner: Box::pin(response.bytes_stream()),
        idle,
        idle_deadline,
        idle_timer: Box::pin(tokio::time::sleep_until(idle_deadline)),
        total: limits
            .total
            .map(|d| (d, Box::pin(tokio::time::sleep_until(later(started, d))))),
        rate: limits.min_rate.map(|(bytes, window)| Rate {
            bytes,
            window,
            seen: 0,
            timer: Box::pin(tokio::time::sleep_until(later(now, window))),
        }),
        max_bytes: limits.max_bytes,
        seen: 0,
        done: false,
    };
    let (parts, ()) = parts.into_parts();
    reqwest::Response::from(http::Response::from_parts(parts, reqwest::Body::wrap_stream(body)))
}

/// `from + after`, or a century on when that overflows (`Duration::MAX`).
fn later(from: Instant, after: Duration) -> Instant {
    from.checked_add(after)
        .or_else(|| from.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(from)
}

struct Rate {
    bytes: u64,
    window: Duration,
    seen: u64,
    timer: Pin<Box<Sleep>>,
}

struct Guarded {
    inner: ByteStream,
    idle: Duration,
    /// When the stream is idle for too long: moved on by every chunk. The
    /// timer is not: it may lag behind and is re-armed only when it fires
    /// early, so a busy stream does not touch the runtime's timer wheel
    /// (a lock and a move) on every chunk.
    idle_deadline: Instant,
    idle_timer: Pin<Box<Sleep>>,
    total: Option<(Duration, Pin<Box<Sleep>>)>,
    rate: Option<Rate>,
    max_bytes: u64,
    seen: u64,
    done: bool,
}

impl Guarded {
    /// Checks the clock-based limits; `poll` also registers their wakeups.
    fn check(&mut self, cx: Option<&mut Context<'_>>) -> Option<LimitHit> {
        let now = Instant::now();
        let mut cx = cx;
        if let Some((budget, timer)) = &mut self.total {
            let fired = now >= timer.deadline() || cx.as_mut().is_some_and(|cx| timer.as_mut().poll(cx).is_ready());
            if fired {
                return Some(LimitHit::Total(*budget));
            }
        }
        if let Some(rate) = &mut self.rate {
            let due =
                now >= rate.timer.deadline() || cx.as_mut().is_some_and(|cx| rate.timer.as_mut().poll(cx).is_ready());
            if due {
                if rate.seen < rate.bytes {
                    return Some(LimitHit::Rate {
                        bytes: rate.bytes,
                        window: rate.window,
                        seen: rate.seen,
                    });
                }
                rate.seen = 0;
                rate.timer.as_mut().reset(later(now, rate.window));
                if let Some(cx) = cx.as_mut() {
                    // Registers the next window's wakeup.
                    let _ = rate.timer.as_mut().poll(cx);
                }
            }
        }
        if now >= self.idle_deadline {
            return Some(LimitHit::Idle(self.idle));
        }
        if let Some(cx) = cx {
            // Registers the wakeup; a timer that fired before the deadline
            // (chunks moved it on) is re-armed to it.
            if self.idle_timer.as_mut().poll(cx).is_ready() {
                self.idle_timer.as_mut().reset(self.idle_deadline);
                if self.idle_timer.as_mut().poll(cx).is_ready() {
                    return Some(LimitHit::Idle(self.idle));
                }
            }
        }
        None
    }

    fn fail(&mut self, hit: LimitHit) -> Poll<Option<Result<Bytes, BoxError>>> {
        self.done = true;
        // Lets go of the connection now.
        self.inner = Box::pin(futures_util::stream::empty());
        Poll::Ready(Some(Err(hit.into_error())))
    }
}

impl Stream for Guarded {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
                this.seen = this.seen.saturating_add(len);
                if this.seen > this.max_bytes {
                    return this.fail(LimitHit::Bytes(this.max_bytes));
                }
                if let Some(rate) = &mut this.rate {
                    rate.seen = rate.seen.saturating_add(len);
                }
                this.idle_deadline = later(Instant::now(), this.idle);
                match this.check(None) {
                    Some(hit) => this.fail(hit),
                    None => Poll::Ready(Some(Ok(bytes))),
                }
            }
            Poll::Ready(Some(Err(e))) => {
                this.done = true;
                Poll::Ready(Some(Err(Box::new(e))))
            }
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => match this.check(Some(cx)) {
                Some(hit) => this.fail(hit),
                None => Poll::Pending,
            },
        }
    }
}
