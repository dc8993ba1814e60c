//! Bulk inference: many requests through one client, as fast as the limits
//! allow, each answered once.
//!
//! [`Client::batch`] takes a [`Stream`] of `(custom_id, ChatRequest)` and
//! [`Batch::run`] returns a [`BatchStream`] of `(custom_id, result)` in the
//! order calls finish. The input must own its data (`'static`, `Send`):
//! the batch holds it while calls run, as a spawned task would. The input is pulled only as calls start, so a batch
//! of any length runs in the memory of its in-flight calls.
//!
//! ```no_run
//! # async fn run() -> Result<(), maverick::Error> {
//! use futures_util::StreamExt;
//! use maverick::{ChatRequest, Client};
//!
//! let client = Client::from_env()?;
//! let prompts = ["Name a prime.", "Name a colour."];
//! let requests = futures_util::stream::iter(
//!     prompts.into_iter().enumerate().map(|(i, p)| (format!("q{i}"), ChatRequest::user_prompt(p))),
//! );
//! let mut answers = client.batch(requests).concurrency(16).rpm(600).tpm(200_000).run();
//! while let Some((id, result)) = answers.next().await {
//!     match result {
//!         Ok(reply) => println!("{id}: {}", reply.text().unwrap_or_default()),
//!         Err(e) => eprintln!("{id}: {e}"),
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! How each call is made:
//! - **Retries** follow the client's policy (`max_retries`, backoff,
//!   `Retry-After` up to `max_retry_wait`, the same one
//!   `X-Client-Request-Id` across attempts), but the batch makes them
//!   itself, so that every rate-limit answer reaches the shared
//!   pace: a `429` or `Retry-After` seen by one call pauses
//!   all of them and narrows how many run at once; successes widen it again.
//!   A call that still fails is yielded as its `Err`; the batch goes on.
//!   A host's `x-should-retry` verdict counts here as in every call
//!   ([`ApiError::should_retry`](crate::ApiError::should_retry)).
//! - **Streaming requests** (`"stream": true`, see
//!   [`ChatRequest::wants_stream`]) are sent with
//!   [`Client::chat_stream`] and collected into the same [`ChatResponse`]
//!   (usage is asked for when the request did not say). A stream that
//!   breaks midway for a reason retrying can cure (a dropped connection, a
//!   stall) is retried like any other failure: the whole request is sent
//!   again, since a batch wants the whole answer.
//! - **Token estimates** for `tpm`: a quarter of the messages' JSON length
//!   (about four bytes a token), plus `max_tokens` (or
//!   `max_completion_tokens`, else [`DEFAULT_COMPLETION_ESTIMATE`]) for
//!   each of `n` choices; corrected by the reported usage afterwards.
//! - **Stopping**: [`BatchControl::stop`] starts no new call; calls in
//!   flight finish and are yielded, then the stream ends. A call waiting
//!   for its first slot, or for a retry, when the stop comes is dropped
//!   unanswered (not yielded), so a resumed run sends it again. Dropping
//!   the stream abandons everything at once.

mod pace;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;
use futures_util::Stream;

use crate::client::{CallOptions, Client};
use crate::error::Error;
use crate::fields::List;
use crate::request::ChatRequest;
use crate::response::ChatResponse;
use pace::Pacer;

/// Completion tokens assumed for a request that sets no `max_tokens`,
/// until the host reports the real count.
pub const DEFAULT_COMPLETION_ESTIMATE: u64 = 256;

/// Calls in flight when [`Batch::concurrency`] is not set.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// What a batch yields: the caller's id and that request's outcome.
pub type BatchItem = (String, Result<ChatResponse, Error>);

type Input = Pin<Box<dyn Stream<Item = (String, ChatRequest)> + Send>>;
type Job = Pin<Box<dyn Future<Output = Option<BatchItem>> + Send>>;

impl Client {
    /// Runs many requests through this client: `requests` is a stream of
    /// `(custom_id, request)`, pulled as calls start. Set limits on the
    /// returned [`Batch`], then [`run`](Batch::run) it. See the
    /// [`batch` module](crate::batch) for retries, pacing and stopping.
    pub fn batch<S>(&self, requests: S) -> Batch
    where
        S: Stream<Item = (String, ChatRequest)> + Send + 'static,
    {
        Batch {
            client: self.clone(),
            input: Box::pin(requests),
            concurrency: DEFAULT_CONCURRENCY,
            rpm: None,
            tpm: None,
        }
    }
}

/// A batch being set up; [`run`](Self::run) starts it.
#[must_use = "a batch does nothing until it is run"]
pub struct Batch {
    client: Client,
    input: Input,
    concurrency: usize,
    rpm: Option<u32>,
    tpm: Option<u64>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("concurrency", &self.concurrency)
            .field("rpm", &self.rpm)
            .field("tpm", &self.tpm)
            .finish_non_exhaustive()
    }
}

impl Batch {
    /// Most calls in flight at once (default [`DEFAULT_CONCURRENCY`];
    /// 0 counts as 1). Rate limits from the host lower it for a while.
    pub fn concurrency(mut self, calls: usize) -> Self {
        self.concurrency = calls.max(1);
        self
    }

    /// Requests per minute, spread evenly (one start every `60 s / rpm`);
    /// 0 means no limit.
    pub fn rpm(mut self, requests_per_minute: u32) -> Self {
        self.rpm = Some(requests_per_minute).filter(|r| *r > 0);
        self
    }

    /// Tokens per minute (prompt and completion), booked from an estimate
    /// before each call and corrected by the reported usage; 0 means no
    /// limit.
    pub fn tpm(mut self, tokens_per_minute: u64) -> Self {
        self.tpm = Some(tokens_per_minute).filter(|t| *t > 0);
        self
    }

    /// Starts the batch. Calls are made as the returned stream is polled.
    pub fn run(self) -> BatchStream {
        let control = Arc::new(Shared {
            stopped: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            pacer: Pacer::new(self.concurrency, self.rpm, self.tpm, tokio::time::Instant::now()),
            sent: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        });
        BatchStream {
            client: self.client,
            input: Some(self.input),
            running: FuturesUnordered::new(),
            control: BatchControl(control),
        }
    }
}

/// State shared by the stream, its calls and every [`BatchControl`].
struct Shared {
    stopped: AtomicBool,
    /// The stream's waker, so that `stop` ends a stream waiting on input.
    waker: AtomicWaker,
    pacer: Pacer,
    sent: AtomicU64,
    retries: AtomicU64,
}

/// A handle on a running batch: stop it, or read how it is going. Cheap to
/// clone; usable from another task (a Ctrl-C handler) while the stream is
/// being read.
#[derive(Clone)]
pub struct BatchControl(Arc<Shared>);

impl std::fmt::Debug for BatchControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("BatchControl").field(&self.stats()).finish()
    }
}

/// Counters of a running batch, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchStats {
    /// HTTP attempts made, retries included.
    pub attempts: u64,
    /// Of those, retries.
    pub retries: u64,
    /// Answers that asked the batch to slow down (`429`, `Retry-After`).
    pub rate_limited: u64,
    /// Calls allowed in flight now: the configured concurrency, or less
    /// while the batch recovers from a rate limit.
    pub window: usize,
    /// Whether [`BatchControl::stop`] was called.
    pub stopped: bool,
}

impl BatchControl {
    /// Starts no new call; those in flight finish, then the stream ends.
    pub fn stop(&self) {
        self.0.stopped.store(true, Ordering::SeqCst);
        self.0.waker.wake();
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::SeqCst)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> BatchStats {
        BatchStats {
            attempts: self.0.sent.load(Ordering::Relaxed),
            retries: self.0.retries.load(Ordering::Relaxed),
            rate_limited: self.0.pacer.rate_limited_count(),
            window: self.0.pacer.window(),
            stopped: self.is_stopped(),
        }
    }
}

/// The answers of a running batch, as calls finish: a [`Stream`] of
/// [`BatchItem`]. Ends when the input is exhausted and every call is
/// answered, or after [`BatchControl::stop`] once calls in flight are done.
#[must_use = "streams do nothing unless polled"]
pub struct BatchStream {
    client: Client,
    /// `None` once the input ended (or the batch stopped).
    input: Option<Input>,
    running: FuturesUnordered<Job>,
    control: BatchControl,
}

impl std::fmt::Debug for BatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchStream")
            .field("running", &self.running.len())
            .field("control", &self.control)
            .finish_non_exhaustive()
    }
}

impl BatchStream {
    /// A handle to stop the batch or read its counters.
    pub fn control(&self) -> BatchControl {
        self.control.clone()
    }

    /// Calls started and not yet yielded.
    pub fn in_flight(&self) -> usize {
        self.running.len()
    }
}

impl Stream for BatchStream {
    type Item = BatchItem;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<BatchItem>> {
        let this = self.get_mut();
        let shared = this.control.0.clone();
        shared.waker.register(cx.waker());
        loop {
            if shared.stopped.load(Ordering::SeqCst) {
                this.input = None;
            }
            // Start calls while the window allows and the input has more.
            while this.running.len() < shared.pacer.window() {
                let Some(input) = this.input.as_mut() else { break };
                match input.as_mut().poll_next(cx) {
                    Poll::Ready(Some((id, request))) => {
                        let job = call(this.client.clone(), shared.clone(), id, request);
                        this.running.push(Box::pin(job));
                    }
                    Poll::Ready(None) => this.input = None,
                    Poll::Pending => break,
                }
            }
            match Pin::new(&mut this.running).poll_next(cx) {
                Poll::Ready(Some(Some(item))) => return Poll::Ready(Some(item)),
                // A call dropped by a stop: look again.
                Poll::Ready(Some(None)) => continue,
                Poll::Ready(None) if this.input.is_none() => return Poll::Ready(None),
                // Nothing running and the input is pending: it wakes us.
                Poll::Ready(None) | Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Tokens a request is booked at before it is sent.
fn estimate(request: &ChatRequest) -> u64 {
    let Ok(wire) = request.wire.as_ref() else { return 0 };
    let prompt = serde_json::to_vec(wire.messages.items()).map_or(0, |v| v.len()) / 4;
    let completion = wire
        .max_tokens
        .or(wire.max_completion_tokens)
        .map_or(DEFAULT_COMPLETION_ESTIMATE, |n| n.get());
    let choices = wire.n.map_or(1, |n| n.get());
    u64::try_from(prompt)
        .unwrap_or(u64::MAX)
        .saturating_add(completion.saturating_mul(choices))
}

/// Tokens the host reported for a response, if it did.
fn reported_tokens(response: &ChatResponse) -> Option<u64> {
    response
        .usage()
        .and_then(|u| crate::fields::int(&u.total_tokens))
        .and_then(|t| u64::try_from(t).ok())
}

/// One attempt, without the client's own retries (the batch makes them).
async fn attempt(client: &Client, request: ChatRequest, id: &str) -> Result<ChatResponse, Error> {
    let options = CallOptions::default().max_retries(0).request_id(id);
    if request.wants_stream() {
        let request = match request.wire.as_ref().map(|w| w.stream_options.is_none()) {
            Ok(true) => request.include_usage(true),
            _ => request,
        };
        client.chat_stream_with(request, options).await?.into_response().await
    } else {
        client.chat_with(request, options).await
    }
}

/// How often a waiting call looks whether the batch was stopped.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// Sleeps until `at`; `false` as soon as the batch is stopped.
async fn sleep_unless_stopped(shared: &Shared, at: tokio::time::Instant) -> bool {
    loop {
        if shared.stopped.load(Ordering::SeqCst) {
            return false;
        }
        let now = tokio::time::Instant::now();
        if now >= at {
            return true;
        }
        tokio::time::sleep_until(at.min(pace::later(now, STOP_CHECK))).await;
    }
}

/// Waits until a call estimated at `tokens` may start; `false` if the
/// batch stopped meanwhile. A pause that began while it waited (another
/// call hit a rate limit) sends it back for a new slot after the pause.
async fn turn(shared: &Shared, tokens: u64) -> bool {
    loop {
        let at = shared.pacer.reserve(tokens, tokio::time::Instant::now());
        if !sleep_unless_stopped(shared, at).await {
            return false;
        }
        match shared.pacer.paused_after(tokio::time::Instant::now()) {
            Some(until) => {
                if !sleep_unless_stopped(shared, until).await {
                    return false;
                }
            }
            None => return !shared.stopped.load(Ordering::SeqCst),
        }
    }
}

/// The attempt count on an error the batch gives up on (each attempt was
/// made with retries off, so the error counted one).
fn with_attempts(mut error: Error, attempts: u32) -> Error {
    match &mut error {
        Error::Api(api) => api.attempts = attempts,
        Error::Transport { attempts: a, .. } => *a = attempts,
        _ => {}
    }
    error
}

/// Runs one request to its answer: waits for its turn, sends, retries as
/// the client's policy says, and tells the pace what the host said.
/// `None` when the batch stopped before the request got an answer.
async fn call(client: Client, shared: Arc<Shared>, custom_id: String, request: ChatRequest) -> Option<BatchItem> {
    let tokens = estimate(&request);
    let id = crate::client::new_request_id("mvkb-");
    let policy = client.shared().retry.clone();
    let max_retries = client.shared().max_retries;
    let mut attempts: u32 = 0;
    loop {
        if !turn(&shared, tokens).await {
            return None;
        }
        attempts = attempts.saturating_add(1);
        shared.sent.fetch_add(1, Ordering::Relaxed);
        if attempts > 1 {
            shared.retries.fetch_add(1, Ordering::Relaxed);
        }
        let error = match attempt(&client, request.clone(), &id).await {
            Ok(mut response) => {
                shared.pacer.succeeded();
                if let Some(actual) = reported_tokens(&response) {
                    shared.pacer.correct(tokens, actual);
                }
                response.meta.attempts = attempts;
                return Some((custom_id, Ok(response)));
            }
            Err(error) => error,
        };
        let retry_after = error.api().and_then(|a| a.retry_after);
        let now = tokio::time::Instant::now();
        if error.status() == Some(429) || retry_after.is_some() {
            let wait = retry_after.unwrap_or_else(|| policy.backoff(attempts));
            shared.pacer.rate_limited(wait.min(policy.max_wait), now);
        }
        if error.api().is_some() {
            // The host answered with an error: it generated nothing.
            shared.pacer.correct(tokens, 0);
        }
        let too_long = retry_after.is_some_and(|w| w > policy.max_wait);
        if attempts > max_retries || !error.is_retryable() || too_long {
            return Some((custom_id, Err(with_attempts(error, attempts))));
        }
        let wait = retry_after.unwrap_or_else(|| policy.backoff(attempts));
        if !sleep_unless_stopped(&shared, pace::later(tokio::time::Instant::now(), wait)).await {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_count_the_prompt_and_the_completion_budget() {
        let short = ChatRequest::user_prompt("hi");
        let base = estimate(&short);
        assert!(
            base > DEFAULT_COMPLETION_ESTIMATE && base < DEFAULT_COMPLETION_ESTIMATE + 20,
            "{base}"
        );
        let long = ChatRequest::user_prompt("x".repeat(4000)).max_tokens(10).n(3);
        let e = estimate(&long);
        assert!((1000..1100).contains(&e), "{e}");
    }

    #[test]
    fn the_stats_start_at_zero_and_stop_is_seen() {
        let client = Client::builder().api_key("k").build().unwrap();
        let stream = client.batch(futures_util::stream::empty()).concurrency(3).run();
        let control = stream.control();
        assert_eq!(
            control.stats(),
            BatchStats {
                attempts: 0,
                retries: 0,
                rate_limited: 0,
                window: 3,
                stopped: false
            }
        );
        control.stop();
        assert!(control.is_stopped() && stream.control().stats().stopped);
    }
}
