//! A validating, recording proxy in front of a real host: it forwards chat
//! completions as they arrive (stream events the moment they are whole),
//! checks both directions against the normalised and the published
//! document, keeps a [`DriftReport`], and with [`ProxyBuilder::record`]
//! writes each exchange as a cassette that
//! [`MockBuilder::replay`](crate::MockBuilder::replay) serves offline.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Once, against the real host: record.
//! let proxy = maverick_mock::Proxy::builder()
//!     .upstream("https://api.aimlapi.com")
//!     .record("tests/cassettes")
//!     .start()
//!     .await?;
//! let client = maverick::Client::builder().base_url(proxy.base_url()).api_key("…").build()?;
//! client.chat(maverick::ChatRequest::new().user("Hello")).await?;
//! println!("{}", proxy.report().to_text());
//!
//! // Every run after, offline: replay.
//! let mock = maverick_mock::MockServer::builder().replay("tests/cassettes").start().await?;
//! # Ok(()) }
//! ```

pub mod check;
mod forward;
mod recorder;
pub mod report;
pub mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::guard::{GuardedListener, MAX_CONNECTIONS};
use crate::server::lock;
use recorder::Recorder;
use report::DriftReport;

/// Request bodies up to this size are forwarded (base64 images are large).
const MAX_REQUEST_BYTES: usize = 32 * 1024 * 1024;
/// How long a client connection may sit without a byte either way. Longer
/// than the mock's: a real model may think for minutes before answering.
const CLIENT_IDLE: Duration = Duration::from_secs(600);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest silence between two reads from the upstream.
const UPSTREAM_READ_TIMEOUT: Duration = Duration::from_secs(600);

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    #[error("no upstream: give the host to forward to, e.g. .upstream(\"https://api.aimlapi.com\") or --upstream URL")]
    NoUpstream,
    #[error("the upstream {url:?} is not an http(s) URL: {reason}")]
    BadUpstream { url: String, reason: String },
    #[error("could not build the HTTP client for the upstream: {0}")]
    Client(String),
    #[error("could not listen on {addr}: {source}; choose another address or port")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot record into {dir}: {reason}")]
    RecordDir { dir: PathBuf, reason: String },
}

/// Options for [`Proxy`]; see [`Proxy::builder`].
#[derive(Debug, Clone)]
pub struct ProxyBuilder {
    upstream: Option<String>,
    addr: SocketAddr,
    record: Option<PathBuf>,
    redact: Vec<String>,
    http: Option<reqwest::Client>,
}

impl ProxyBuilder {
    /// The host to forward to. `https://host`, `https://host/` and
    /// `https://host/v1` are the same: the client's path (`/v1/chat/completions`
    /// or `/chat/completions`) is appended to it without its `/v1`.
    pub fn upstream(mut self, url: impl Into<String>) -> Self {
        self.upstream = Some(url.into());
        self
    }

    /// Where to listen (default `127.0.0.1:0`, an ephemeral loopback port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Writes each exchange as a cassette in `dir` (created if missing).
    pub fn record(mut self, dir: impl Into<PathBuf>) -> Self {
        self.record = Some(dir.into());
        self
    }

    /// A header never written to a cassette, besides `Authorization` and
    /// the other credential headers that never are.
    pub fn redact(mut self, header: impl Into<String>) -> Self {
        self.redact.push(header.into());
        self
    }

    /// The HTTP client used to reach the upstream (proxies, certificates).
    /// It should not follow redirects: a POST redirected becomes a GET.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Binds and starts forwarding in the background.
    pub async fn start(self) -> Result<Proxy, ProxyError> {
        let upstream = upstream_base(self.upstream.as_deref().ok_or(ProxyError::NoUpstream)?)?;
        let http = match self.http {
            Some(c) => c,
            None => default_client()?,
        };
        let recorder = match self.record {
            Some(dir) => {
                std::fs::create_dir_all(&dir).map_err(|e| ProxyError::RecordDir {
                    dir: dir.clone(),
                    reason: e.to_string(),
                })?;
                Some(Recorder::new(dir, self.redact))
            }
            None => None,
        };
        // Both contracts compile once per process (a second or so in a
        // debug build): before the first exchange, not during it.
        let _ = tokio::task::spawn_blocking(|| {
            crate::Contract::bundled();
            crate::Contract::published();
        })
        .await;
        let listener = TcpListener::bind(self.addr).await.map_err(|source| ProxyError::Bind {
            addr: self.addr,
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| ProxyError::Bind {
            addr: self.addr,
            source,
        })?;
        let state = Arc::new(ProxyState {
            upstream,
            http,
            recorder,
            report: Mutex::default(),
            record_errors: Mutex::default(),
            counter: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(forward::handle))
            .route("/chat/completions", post(forward::handle))
            .route("/_proxy/report", get(forward::report))
            .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
            .with_state(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(
                GuardedListener::with_limits(listener, MAX_CONNECTIONS, CLIENT_IDLE),
                app,
            )
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
        });
        Ok(Proxy {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// State every forwarded exchange sees.
pub(crate) struct ProxyState {
    /// The upstream base, without a trailing `/` or `/v1`.
    upstream: String,
    http: reqwest::Client,
    recorder: Option<Recorder>,
    report: Mutex<DriftReport>,
    record_errors: Mutex<Vec<String>>,
    counter: AtomicU64,
}

/// A running proxy, stopped when dropped.
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<ProxyState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("addr", &self.addr)
            .field("upstream", &self.state.upstream)
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// Options: upstream (required), address, recording, redacted headers.
    pub fn builder() -> ProxyBuilder {
        ProxyBuilder {
            upstream: None,
            addr: crate::server::loopback(),
            record: None,
            redact: Vec::new(),
            http: None,
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

    /// The drift report so far (streams count once they have ended).
    pub fn report(&self) -> DriftReport {
        lock(&self.state.report).clone()
    }

    /// Cassettes that could not be written (disk full, permissions), so a
    /// recording run can fail loudly instead of leaving gaps.
    pub fn record_errors(&self) -> Vec<String> {
        lock(&self.state.record_errors).clone()
    }

    /// Stops accepting connections, waits for open exchanges to finish
    /// and returns the final report.
    pub async fn shutdown(mut self) -> DriftReport {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.report()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// `https://host`, `https://host/` and `https://host/v1` → `https://host`.
fn upstream_base(url: &str) -> Result<String, ProxyError> {
    let bad = |reason: &str| ProxyError::BadUpstream {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = url.trim();
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| bad("it must start with http:// or https://"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad("it names no host"));
    }
    if trimmed.contains(['?', '#', ' ']) {
        return Err(bad("give the base URL only, without a query, fragment or spaces"));
    }
    let base = trimmed.trim_end_matches('/');
    Ok(base.strip_suffix("/v1").unwrap_or(base).to_string())
}

fn default_client() -> Result<reqwest::Client, ProxyError> {
    // reqwest is built without a default TLS provider here; https upstreams
    // need the one the library's TLS feature chose (a no-op when installed).
    maverick::install_tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(UPSTREAM_READ_TIMEOUT)
        .build()
        .map_err(|e| ProxyError::Client(maverick::error_chain(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_forms_meet() {
        for url in [
            "https://h.example",
            "https://h.example/",
            "https://h.example/v1",
            "https://h.example/v1/",
        ] {
            assert_eq!(upstream_base(url).unwrap(), "https://h.example");
        }
        assert_eq!(
            upstream_base("http://127.0.0.1:9/openai/v1").unwrap(),
            "http://127.0.0.1:9/openai"
        );
        assert!(upstream_base("ftp://h").is_err());
        assert!(upstream_base("https://").is_err());
        assert!(upstream_base("https://h/?x=1").is_err());
    }
}
