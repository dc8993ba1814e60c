//! How the HTTP client reaches the server: the TLS backend's crypto
//! provider, extra trusted roots, the client certificate, and the proxy.
//! Everything here is checked when the client is built, so a bad PEM or
//! proxy URL is a configuration error there and never a failure per call.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::Error;

/// The TLS and proxy settings a [`ClientBuilder`](crate::ClientBuilder)
/// collects for the HTTP client it builds.
pub(crate) struct NetworkOptions {
    /// PEM texts, each one certificate or a bundle.
    pub root_certificates: Vec<Vec<u8>>,
    /// Whether the system's roots (and `SSL_CERT_FILE`/`SSL_CERT_DIR`) count.
    pub built_in_roots: bool,
    /// Certificate chain and private key, PEM.
    pub identity: Option<Zeroizing<Vec<u8>>>,
    /// The proxy URL, which may carry credentials.
    pub proxy: Option<Zeroizing<String>>,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            root_certificates: Vec::new(),
            built_in_roots: true,
            identity: None,
            proxy: None,
        }
    }
}

impl fmt::Debug for NetworkOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetworkOptions")
            .field("root_certificates", &self.root_certificates.len())
            .field("built_in_roots", &self.built_in_roots)
            .field("identity", &self.identity.as_ref().map(|_| "***"))
            .field("proxy", &self.proxy.as_deref().map(|p| redact_proxy(p)))
            .finish()
    }
}

impl NetworkOptions {
    /// Whether any setting differs from the default, i.e. whether an
    /// injected HTTP client would silently drop something.
    pub(crate) fn is_set(&self) -> bool {
        !self.root_certificates.is_empty() || !self.built_in_roots || self.identity.is_some() || self.proxy.is_some()
    }

    /// What to check when the TLS library refused these settings.
    pub(crate) fn build_hint(&self) -> &'static str {
        if self.root_certificates.is_empty() && self.identity.is_none() {
            ""
        } else {
            "; check the certificates given to add_root_certificate(..) and identity(..)"
        }
    }

    /// Puts these settings on the reqwest builder, checking each.
    pub(crate) fn apply(&self, mut http: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder, Error> {
        let mut roots = Vec::new();
        for (index, pem) in self.root_certificates.iter().enumerate() {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                Error::config(format!(
                    "add_root_certificate (#{}): not a PEM certificate ({}); pass the text of a .pem/.crt file starting with -----BEGIN CERTIFICATE-----",
                    index + 1,
                    crate::transport_cause::error_chain(&e)
                ))
            })?;
            if certs.is_empty() {
                return Err(Error::config(format!(
                    "add_root_certificate (#{}): no certificate found; pass the text of a .pem/.crt file starting with -----BEGIN CERTIFICATE-----",
                    index + 1
                )));
            }
            roots.extend(certs);
        }
        if self.built_in_roots {
            if !roots.is_empty() {
                http = http.tls_certs_merge(roots);
            }
        } else if roots.is_empty() {
            return Err(Error::config(
                "tls_built_in_root_certs(false) without add_root_certificate(..) would trust no server; add the CA to trust",
            ));
        } else {
            http = http.tls_certs_only(roots);
        }
        if let Some(pem) = &self.identity {
            http = http.identity(identity(pem)?);
        }
        if let Some(url) = &self.proxy {
            http = http.proxy(proxy(url)?);
        }
        Ok(http)
    }

    /// The proxy requests to `endpoint` go through, as reqwest decides it:
    /// the configured one unless `NO_PROXY` lists the host, else the
    /// environment's. Shown in error messages without credentials.
    pub(crate) fn proxy_for(&self, endpoint: &reqwest::Url) -> Option<String> {
        use hyper_util::client::proxy::matcher::Matcher;
        let uri: http::Uri = endpoint.as_str().parse().ok()?;
        let matcher = match &self.proxy {
            Some(url) => Matcher::builder()
                .all(url.to_string())
                .no(no_proxy_env().unwrap_or_default())
                .build(),
            None => Matcher::from_system(),
        };
        let hit = matcher.intercept(&uri)?;
        Some(redact_proxy(&hit.uri().to_string()))
    }
}

fn no_proxy_env() -> Option<String> {
    ["NO_PROXY", "no_proxy"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
}

/// `scheme://host:port` of a proxy URL, with any credentials replaced by
/// `***`: proxy URLs are the one place users put passwords in a URL.
pub(crate) fn redact_proxy(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(url) => {
            let creds = if !url.username().is_empty() || url.password().is_some() {
                "***@"
            } else {
                ""
            };
            let host = url.host_str().unwrap_or("");
            match url.port_or_known_default() {
                Some(port) => format!("{}://{creds}{host}:{port}", url.scheme()),
                None => format!("{}://{creds}{host}", url.scheme()),
            }
        }
        Err(_) => "(an unparsable URL)".to_string(),
    }
}

fn proxy(raw: &str) -> Result<reqwest::Proxy, Error> {
    let shown = redact_proxy(raw);
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        Error::config(format!(
            "proxy({shown}): not a URL ({e}); expected e.g. http://proxy.example:3128"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::config(format!(
            "proxy({shown}): scheme {:?} is not supported; use an http:// (or https://) proxy",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::config(format!("proxy({shown}): the URL has no host")));
    }
    reqwest::Proxy::all(url.as_str())
        // The error text may repeat the URL; say it without the credentials.
        .map_err(|_| Error::config(format!("proxy({shown}): reqwest refused this proxy URL")))
        .map(|p| p.no_proxy(reqwest::NoProxy::from_env()))
}

#[cfg(not(feature = "native-tls"))]
fn identity(pem: &[u8]) -> Result<reqwest::Identity, Error> {
    reqwest::Identity::from_pem(pem).map_err(|e| identity_error(&crate::transport_cause::error_chain(&e)))
}

/// native-tls wants the chain and the key apart; split the PEM sections.
#[cfg(feature = "native-tls")]
fn identity(pem: &[u8]) -> Result<reqwest::Identity, Error> {
    let text = std::str::from_utf8(pem).map_err(|_| identity_error("the PEM is not UTF-8 text"))?;
    let mut certs = String::new();
    let mut key = Zeroizing::new(String::new());
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let Some(after) = rest.get(start..) else { break };
        let Some(label_end) = after.get(11..).and_then(|t| t.find("-----")) else {
            break;
        };
        let label = after.get(11..11 + label_end).unwrap_or("");
        let end_marker = format!("-----END {label}-----");
        let Some(end) = after.find(&end_marker) else {
            return Err(identity_error(&format!("the {label} section has no END line")));
        };
        let section = after.get(..end + end_marker.len()).unwrap_or("");
        let into = if label.contains("PRIVATE KEY") {
            &mut *key
        } else {
            &mut certs
        };
        into.push_str(section);
        into.push('\n');
        rest = after.get(end + end_marker.len()..).unwrap_or("");
    }
    reqwest::Identity::from_pkcs8_pem(certs.as_bytes(), key.as_bytes())
        .map_err(|e| identity_error(&crate::transport_cause::error_chain(&e)))
}

fn identity_error(why: &str) -> Error {
    Error::config(format!(
        "identity: {why}; pass PEM text holding the client certificate (leaf first) and its private key"
    ))
}

/// Makes the enabled rustls crypto provider (ring with the default
/// `rustls-ring` feature, aws-lc-rs with `rustls-aws-lc`) the process's
/// default, unless the application already chose one; idempotent and cheap.
/// With only the `native-tls` feature it does nothing.
///
/// With `rustls-ring`, this crate builds reqwest with rustls and no default
/// provider (ring is far cheaper to compile than aws-lc). Cargo unifies
/// features, so an application's own `reqwest` then has no provider either,
/// and building a `reqwest::Client` yourself (to pass to
/// [`ClientBuilder::http_client`](crate::ClientBuilder::http_client))
/// panics inside reqwest with "No provider set". Call this one line first:
///
/// ```
/// maverick::install_tls_provider();
/// let http = reqwest::Client::builder().build().expect("a client");
/// let client = maverick::Client::builder().api_key("sk-...").http_client(http).build();
/// # let _ = client;
/// ```
///
/// [`ClientBuilder::build`](crate::ClientBuilder::build) calls it itself when
/// it builds its own HTTP client.
pub fn install_tls_provider() {
    #[cfg(feature = "rustls-aws-lc")]
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
    let _ = rustls::crypto::ring::default_provider().install_default();
}
