//! Client configuration: where the key, base URL and model come from, and the
//! defaults a long-running service wants (LLM calls take minutes, not the 15 s
//! progenitor's default client allows).

use std::time::Duration;

use crate::error::Error;
use crate::secret::ApiKey;

/// The AI/ML API, which hosts Maverick under [`DEFAULT_MODEL`].
pub const DEFAULT_BASE_URL: &str = "https://api.aimlapi.com/v1";
/// The model name the AI/ML API uses; other hosts name it differently, so
/// it is overridable per client and per request.
pub const DEFAULT_MODEL: &str = "meta-llama/llama-4-maverick";
/// Variables read for the key, first found wins.
pub const KEY_VARS: [&str; 2] = ["AIML_API_KEY", "AIMLAPI_API_KEY"];
/// Variables read for the base URL, first found wins.
pub const BASE_URL_VARS: [&str; 2] = ["AIML_API_BASE", "AIMLAPI_API_BASE"];

pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(600);
pub(crate) const DEFAULT_STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
pub(crate) const DEFAULT_MAX_RETRIES: u32 = 2;
/// Largest single SSE event accepted (a chunk is a few hundred bytes; an
/// event this large is a broken or hostile server).
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;
pub(crate) use crate::retry::DEFAULT_MAX_RETRY_WAIT;
pub(crate) const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Builds a [`Client`](crate::Client). Every setting has a default; the key
/// and base URL fall back to the environment.
pub struct ClientBuilder {
    pub(crate) api_key: Option<String>,
    pub(crate) base_url: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) stream_idle_timeout: Duration,
    pub(crate) max_retries: u32,
    pub(crate) max_retry_wait: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_event_bytes: usize,
    pub(crate) stream_limits: crate::body::StreamLimits,
    pub(crate) allow_insecure_http: bool,
    pub(crate) require_key: bool,
    pub(crate) http: Option<reqwest::Client>,
    #[cfg(feature = "middleware")]
    pub(crate) middleware: Option<reqwest_middleware::ClientWithMiddleware>,
    pub(crate) env: EnvLookup,
    /// Headers for every request, checked when the client is built.
    pub(crate) default_headers: Vec<(String, String)>,
    /// TLS and proxy settings for the HTTP client this builder makes.
    pub(crate) network: crate::network::NetworkOptions,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            api_key: None,
            base_url: None,
            model: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            stream_idle_timeout: DEFAULT_STREAM_IDLE_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            max_retry_wait: DEFAULT_MAX_RETRY_WAIT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            stream_limits: crate::body::StreamLimits::default(),
            allow_insecure_http: false,
            require_key: true,
            http: None,
            #[cfg(feature = "middleware")]
            middleware: None,
            env: Box::new(|name| std::env::var(name).ok()),
            default_headers: Vec::new(),
            network: crate::network::NetworkOptions::default(),
        }
    }
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("max_retries", &self.max_retries)
            .field("stream_limits", &self.stream_limits)
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The API key; without it, `AIML_API_KEY` then `AIMLAPI_API_KEY` are read.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sends no `Authorization` header when no key is found, for local hosts
    /// (llama.cpp, vLLM) that need none. By default a missing key is an error.
    pub fn without_api_key(mut self) -> Self {
        self.require_key = false;
        self
    }

    /// Base URL of any OpenAI-compatible host. `https://host`, `https://host/`
    /// and `https://host/v1` all mean the same. Without it,
    /// `AIML_API_BASE` then `AIMLAPI_API_BASE`, then [`DEFAULT_BASE_URL`].
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Model for requests that do not name one; default [`DEFAULT_MODEL`].
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Time allowed to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for a whole non-streaming call (default 600 s: long
    /// completions take minutes). Streams use the idle timeout instead.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Longest silence tolerated on a stream before it fails (default 120 s).
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.stream_idle_timeout = timeout;
        self
    }

    /// Longest a stream may run in all, from sending the request to its last
    /// byte, retries before the first event included (default 30 min;
    /// `None` for no limit). The idle timeout alone never stops a peer that
    /// sends a byte or a keep-alive comment now and then; this does.
    pub fn stream_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.stream_limits.total = timeout.into();
        self
    }

    /// Slowest stream tolerated: fewer than `bytes` arriving in any `window`
    /// fails it with a [`StreamRate`](crate::TimeoutKind::StreamRate)
    /// timeout. Off by default: a model may think for a while between
    /// tokens, and only the caller knows how long is too long. A zero
    /// `window` turns it off.
    pub fn stream_min_rate(mut self, bytes: u64, window: Duration) -> Self {
        self.stream_limits.min_rate = (!window.is_zero() && bytes > 0).then_some((bytes, window));
        self
    }

    /// Most bytes one stream may carry in all (default 256 MiB), so an
    /// endless stream of valid chunks cannot grow a collected answer
    /// without bound.
    pub fn max_stream_bytes(mut self, bytes: u64) -> Self {
        self.stream_limits.max_bytes = bytes;
        self
    }

    /// Retries after the first attempt for transient failures (default 2; 0 disables).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Longest `Retry-After` the client will wait out (default 60 s); a
    /// longer one fails at once with the wait on the error.
    pub fn max_retry_wait(mut self, wait: Duration) -> Self {
        self.max_retry_wait = wait;
        self
    }

    /// Largest non-streaming body accepted (default 32 MiB).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Largest server-sent event (or line) accepted on a stream (default
    /// 16 MiB): a server that never ends a line cannot exhaust memory.
    pub fn max_event_bytes(mut self, bytes: usize) -> Self {
        self.max_event_bytes = bytes;
        self
    }

    /// Allows `http://` base URLs on non-loopback hosts. The key would
    /// travel in clear text, so this is off by default.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Uses this `reqwest::Client` (custom connection settings, shared
    /// pools). Its own timeouts then apply on top of the ones set here, and
    /// its own TLS and proxy settings replace this builder's: combined with
    /// [`add_root_certificate`](Self::add_root_certificate),
    /// [`tls_built_in_root_certs`](Self::tls_built_in_root_certs),
    /// [`identity`](Self::identity) or [`proxy`](Self::proxy),
    /// [`build`](Self::build) fails rather than drop them. Under the default
    /// `rustls-ring` feature, call [`install_tls_provider`](crate::install_tls_provider)
    /// before building it.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Sends through this `reqwest_middleware` stack (OpenTelemetry
    /// tracing, caching, a gateway's own auth) instead of a plain reqwest
    /// client; replaces [`http_client`](Self::http_client). The pipeline
    /// stays the library's: every attempt passes through the stack with the
    /// key, request id and headers already set, and retries stay the
    /// client's policy, so do not add a retry middleware as well (each of
    /// its attempts would be multiplied by ours). A middleware's own error
    /// ends the call at once as [`Error::Middleware`](crate::Error::Middleware).
    /// The stack's inner reqwest client is used as built: its TLS, proxy and
    /// connect timeout apply, not [`connect_timeout`](Self::connect_timeout);
    /// call [`install_tls_provider`](crate::install_tls_provider) before
    /// building it.
    #[cfg(feature = "middleware")]
    pub fn middleware_client(mut self, client: reqwest_middleware::ClientWithMiddleware) -> Self {
        self.middleware = Some(client);
        self
    }

    /// The sender the caller gave, if any: a middleware stack wins over a
    /// plain client.
    pub(crate) fn sender(&self) -> Option<crate::sender::Sender> {
        #[cfg(feature = "middleware")]
        if let Some(stack) = &self.middleware {
            return Some(crate::sender::Sender::Middleware(stack.clone()));
        }
        self.http.clone().map(crate::sender::Sender::Reqwest)
    }

    /// Adds a header to every request (a gateway's tenant id, an
    /// `OpenAI-Organization`, tracing baggage). Repeat for more; a name
    /// given twice keeps both values. An invalid name or value is an
    /// [`Error::Config`](crate::Error::Config) from [`build`](Self::build),
    /// never a panic. The client's own headers (`Authorization` when a key
    /// is set, `X-Client-Request-Id`) are written after these; per-call
    /// headers ([`CallOptions::header`](crate::CallOptions::header)) after
    /// both.
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.default_headers.push((name.into(), value.into()));
        self
    }

    /// Trusts the CA certificate(s) in this PEM text (one or a bundle) in
    /// addition to the system's: for a private CA in front of vLLM or a
    /// TLS-inspecting corporate proxy. Repeat for more. The same as
    /// pointing `SSL_CERT_FILE` at it, but for this client only. A PEM with
    /// no certificate in it is an [`Error::Config`] from
    /// [`build`](Self::build), never a panic.
    pub fn add_root_certificate(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.network.root_certificates.push(pem.as_ref().to_vec());
        self
    }

    /// Whether the system's trusted roots (and `SSL_CERT_FILE` /
    /// `SSL_CERT_DIR`) count, default `true`. `false` trusts only the
    /// certificates given to [`add_root_certificate`](Self::add_root_certificate):
    /// pinning a gateway to its private CA, so that no public CA can stand
    /// in for it.
    pub fn tls_built_in_root_certs(mut self, enabled: bool) -> Self {
        self.network.built_in_roots = enabled;
        self
    }

    /// The client certificate for gateways that require mutual TLS: PEM
    /// text holding the certificate (chain, leaf first) and its private key
    /// (PKCS#8; with rustls also PKCS#1 RSA or SEC1 EC). A PEM without both
    /// is an [`Error::Config`] from [`build`](Self::build).
    pub fn identity(mut self, cert_and_key_pem: impl AsRef<[u8]>) -> Self {
        self.network.identity = Some(zeroize::Zeroizing::new(cert_and_key_pem.as_ref().to_vec()));
        self
    }

    /// Sends every request through this proxy (`http://host:port`, with
    /// `user:password@` when it needs credentials; HTTPS is tunnelled with
    /// `CONNECT`, so the proxy never sees the key or the body). Hosts in
    /// `NO_PROXY` still go direct. Without it, `HTTPS_PROXY`, `ALL_PROXY`
    /// and `NO_PROXY` (and their lowercase forms) decide, as for reqwest. A
    /// URL that cannot be a proxy is an [`Error::Config`] from
    /// [`build`](Self::build) that never repeats the credentials.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.network.proxy = Some(zeroize::Zeroizing::new(url.into()));
        self
    }

    /// Reads variables from this function instead of the process
    /// environment: for configuration layers and tests.
    pub fn environment(mut self, lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Box::new(lookup);
        self
    }

    fn first_var(&self, names: &[&str]) -> Option<(String, String)> {
        names.iter().find_map(|n| {
            (self.env)(n)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .map(|v| (n.to_string(), v))
        })
    }

    pub(crate) fn resolve_key(&self) -> Result<Option<ApiKey>, Error> {
        if let Some(key) = &self.api_key {
            return ApiKey::new(key.clone()).map(Some);
        }
        match self.first_var(&KEY_VARS) {
            Some((name, value)) => ApiKey::new(value)
                .map(Some)
                .map_err(|e| Error::config(format!("{name}: {e}"))),
            None if self.require_key => Err(Error::config(format!(
                "no API key: set {} (or {}), or pass one with Client::builder().api_key(..); local hosts that need none: .without_api_key()",
                KEY_VARS[0], KEY_VARS[1]
            ))),
            None => Ok(None),
        }
    }

    pub(crate) fn resolve_base_url(&self) -> Result<String, Error> {
        let (origin, raw) = match &self.base_url {
            Some(url) => ("the base URL".to_string(), url.trim().to_string()),
            None => match self.first_var(&BASE_URL_VARS) {
                Some((name, value)) => (name, value),
                None => ("the default base URL".to_string(), DEFAULT_BASE_URL.to_string()),
            },
        };
        normalize_base_url(&raw, self.allow_insecure_http)
            .map_err(|why| Error::config(format!("{origin} {raw:?} {why}")))
    }
}

/// Returns the URL root that operation paths (`/v1/chat/completions`) are
/// appended to: no trailing `/`, no trailing `/v1`.
pub(crate) fn normalize_base_url(raw: &str, allow_insecure_http: bool) -> Result<String, String> {
    let url = reqwest::Url::parse(raw).map_err(|e| format!("is not a URL ({e}); expected e.g. {DEFAULT_BASE_URL}"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err("has a query or fragment; give only scheme, host, port and path".into());
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                None => false,
            };
            if !loopback && !allow_insecure_http {
                return Err("uses http:// on a non-loopback host, which would send the key in clear text; use https:// or .allow_insecure_http(true)".into());
            }
        }
        other => return Err(format!("has scheme {other:?}; use https:// (or http:// for loopback)")),
    }
    if url.host().is_none() {
        return Err("has no host".into());
    }
    let mut text = url.as_str().trim_end_matches('/').to_string();
    if let Some(stripped) = text.strip_suffix("/v1") {
        text = stripped.to_string();
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_forms_agree() {
        for form in [
            "https://api.aimlapi.com",
            "https://api.aimlapi.com/",
            "https://api.aimlapi.com/v1",
            "https://api.aimlapi.com/v1/",
        ] {
            assert_eq!(
                normalize_base_url(form, false).unwrap(),
                "https://api.aimlapi.com",
                "{form}"
            );
        }
        assert_eq!(
            normalize_base_url("http://127.0.0.1:8080/v1", false).unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_base_url("http://[::1]:9/x/v1", false).unwrap(),
            "http://[::1]:9/x"
        );
        assert!(normalize_base_url("http://example.com", false)
            .unwrap_err()
            .contains("clear text"));
        assert!(normalize_base_url("http://example.com", true).is_ok());
        assert!(normalize_base_url("ftp://example.com", false).is_err());
        assert!(normalize_base_url("not a url", false).is_err());
    }
}
