//! A contract mock of the Llama-4-Maverick chat completions API.
//!
//! It validates requests and builds answers from the same normalised spec
//! the `maverick` client is generated from, so tests against it fail when
//! the client and the contract disagree, not only when a server does.
//! Answers are deterministic (a function of the request bytes and the
//! configured seed; only `created` follows the clock), and faults can be
//! scripted from Rust ([`MockServer::script`]) or asked for per request with
//! the `x-mock-fault` header:
//!
//! | value | effect |
//! |---|---|
//! | `429` (`429:N`) | 429 with `Retry-After: 1` (N) and a provider-shaped body |
//! | `503` (`503:N`) | 503 with `Retry-After: 1` (N) |
//! | any other 4xx/5xx, e.g. `500` | that status, provider-shaped body |
//! | `slow-stream` (`slow-stream:MS`) | 200 ms (MS) before every body frame |
//! | `cut-stream` (`cut-stream:N`) | connection dropped after 2 (N) frames |
//! | `FAULT;once=TOKEN` | FAULT only for the first request carrying TOKEN, so a retry passes |
//!
//! Beside the mock: [`Proxy`] forwards to a real host, validates the traffic
//! against the normalised and the published document and records cassettes
//! ([`cassette`]); [`MockBuilder::replay`] serves them offline.
//!
//! With `tool_choice` `required` or a named function every answer is a tool
//! call; with `auto` (or none given) the mock calls the tools a user turn
//! names and answers a tool result in text, as models do, so tool loops end.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mock = maverick_mock::MockServer::start().await?;
//! let client = maverick::Client::builder().api_key("test").base_url(mock.base_url()).build()?;
//! let reply = client.chat(maverick::ChatRequest::new().user("Hello")).await?;
//! assert!(reply.text().unwrap_or_default().contains("Hello"));
//! assert_eq!(mock.requests().len(), 1);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod cassette;
mod contract;
mod fault;
mod guard;
mod instance;
mod openapi;
mod plan;
mod problem;
pub mod proxy;
mod record;
mod replay;
mod rng;
mod server;
pub mod sse;
mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use axum::http;
pub use contract::{check_against, excerpt, Contract, Violation, SEEN_LIMIT};
pub use fault::{Cut, Fault, CUT_STREAM_EVENTS, SLOW_STREAM_PAUSE};
/// OpenAPI 3.0 schema → JSON Schema (`nullable`, component refs), for
/// validating against documents other than the bundled one.
pub use openapi::translate as openapi_to_json_schema;
pub use proxy::report::{DriftReport, Verdict};
pub use proxy::validate::{Finding, Level, Part, StreamCheck};
pub use proxy::{Proxy, ProxyBuilder, ProxyError};
pub use record::RecordedRequest;
pub use replay::speed_permille;
pub use server::MockConfig;

use server::{lock, Shared};

/// Why the mock could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    #[error("could not listen on {addr}: {source}; choose another address or port")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the mock's API key is empty; give a non-empty key, or none to accept any key")]
    EmptyKey,
    #[error("the mock server failed: {0}")]
    Serve(#[source] std::io::Error),
    #[error("cannot replay: {0}")]
    Replay(String),
}

/// A running mock, stopped when dropped.
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Options for [`MockServer`]; see [`MockServer::builder`].
#[derive(Debug, Clone)]
pub struct MockBuilder {
    config: MockConfig,
    addr: SocketAddr,
    /// A setting refused on the way, reported by `start`.
    invalid: Option<String>,
}

impl MockBuilder {
    /// Only this bearer key is accepted (default: any non-empty key).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.config = self.config.api_key(key);
        self
    }

    /// Seed mixed into every answer.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config = self.config.seed(seed);
        self
    }

    /// Where to listen (default `127.0.0.1:0`, an ephemeral loopback port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Serves the exchanges recorded in `dir` (by [`Proxy`] or `maverick
    /// proxy --record`) instead of generated answers, so tests run offline
    /// against what a real host once sent. A request matches a cassette by
    /// its body, ignoring the top-level fields in
    /// [`cassette::DEFAULT_VOLATILE`] (change them with
    /// [`MockBuilder::replay_volatile`]); the same request again gets its
    /// next recording, then the last one. Streams keep their recorded pace
    /// ([`MockBuilder::replay_speed`]). No match is a 404 naming the nearest
    /// cassette and how the request differs. Faults still apply first.
    pub fn replay(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.config = self.config.replay(dir);
        self
    }

    /// Replay pace: 1 as recorded (the default), 2 twice as fast, 0 without
    /// waiting. A negative or non-finite speed fails [`MockBuilder::start`].
    pub fn replay_speed(mut self, speed: f64) -> Self {
        match self.config.clone().replay_speed(speed) {
            Ok(config) => self.config = config,
            Err(e) => self.invalid = Some(e.to_string()),
        }
        self
    }

    /// The top-level request fields matching ignores, replacing the default list.
    pub fn replay_volatile<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.config = self.config.replay_volatile(fields);
        self
    }

    /// Binds and starts serving in the background.
    pub async fn start(self) -> Result<MockServer, MockError> {
        if let Some(reason) = self.invalid {
            return Err(MockError::Replay(reason));
        }
        self.config.check()?;
        let listener = TcpListener::bind(self.addr).await.map_err(|source| MockError::Bind {
            addr: self.addr,
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| MockError::Bind {
            addr: self.addr,
            source,
        })?;
        let shared = Shared::new(self.config)?;
        let app = server::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(guard::GuardedListener::new(listener), app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(MockServer {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

impl MockServer {
    /// A mock on an ephemeral loopback port that accepts any non-empty key.
    pub async fn start() -> Result<MockServer, MockError> {
        MockServer::builder().start().await
    }

    /// Options: expected key, seed, address.
    pub fn builder() -> MockBuilder {
        MockBuilder {
            config: MockConfig::default(),
            addr: server::loopback(),
            invalid: None,
        }
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL for clients, ending in `/v1` as the provider's does.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The requests received so far, oldest first: the most recent 10,000,
    /// with at most 64 MiB of bodies among them, so a long run stays bounded.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Queues a fault for the next request without one already queued;
    /// faults are used once each, in order.
    pub fn script(&self, fault: Fault) {
        lock(&self.shared.script).push_back(fault);
    }

    /// Scripted faults not yet used.
    pub fn pending_faults(&self) -> usize {
        lock(&self.shared.script).len()
    }

    /// Stops accepting connections and waits for open ones to finish.
    pub async fn shutdown(mut self) -> Result<(), MockError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => match task.await {
                Ok(result) => result.map_err(MockError::Serve),
                Err(join) => Err(MockError::Serve(std::io::Error::other(join))),
            },
            None => Ok(()),
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves on an already bound listener until the task is cancelled, for
/// binaries that print the address before serving (`maverick mock`).
pub async fn serve(listener: TcpListener, config: MockConfig) -> Result<(), MockError> {
    config.check()?;
    axum::serve(
        guard::GuardedListener::new(listener),
        server::router(Shared::new(config)?),
    )
    .await
    .map_err(MockError::Serve)
}
