//! Naming why a request never got an answer. reqwest's own message stops at
//! "error sending request"; the step that failed (DNS, connect, TLS, proxy,
//! HTTP/2) and the reason sit deeper in the error's source chain, in the
//! types of hyper, hyper-util, h2, rustls and `std::io`. This module walks
//! that chain once, when an error is built, and says what to do about it.

use std::error::Error as StdError;
use std::fmt;

/// Which step of reaching the server failed, and why; from
/// [`Error::transport_cause`](crate::Error::transport_cause). It decides
/// whether the call is retried: a certificate the client does not trust or
/// a host name that does not exist stays so on the next attempt, a refused
/// or reset connection may not.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportCause {
    /// The host name does not exist (the resolver said "no such host").
    /// Not retried.
    NoSuchHost {
        /// The name that did not resolve.
        host: String,
    },
    /// Name resolution failed for another reason (no resolver reachable, a
    /// temporary failure). Retried.
    DnsFailed {
        /// The name being resolved.
        host: String,
        /// The resolver's complaint.
        detail: String,
    },
    /// Nothing accepted the TCP connection: no server listens on that port,
    /// or a firewall rejects it. Retried.
    ConnectionRefused {
        /// The host connected to.
        host: String,
        /// The port connected to.
        port: u16,
    },
    /// No route to the host or its network. Retried.
    Unreachable {
        /// The host connected to.
        host: String,
        /// The port connected to.
        port: u16,
    },
    /// The connection was reset or closed before the answer arrived.
    /// Retried.
    ConnectionClosed {
        /// What the connection reported.
        detail: String,
    },
    /// The server's TLS certificate failed verification. Not retried.
    Certificate {
        /// What is wrong with it.
        problem: CertificateProblem,
        /// The host name it was checked against.
        host: String,
    },
    /// The TLS handshake failed for a reason other than the server's
    /// certificate: an alert from the server (which may want a client
    /// certificate), no common protocol version, or a peer that does not
    /// speak TLS at all. Not retried.
    TlsHandshake {
        /// The alert or failure, as the TLS library names it.
        detail: String,
        /// The server signalled that it wants a (different) client
        /// certificate: see [`ClientBuilder::identity`](crate::ClientBuilder::identity).
        client_certificate: bool,
    },
    /// The proxy in the way could not be reached. Retried, as a refused
    /// connection is.
    ProxyUnreachable {
        /// The proxy, as `scheme://host:port` (never with credentials), when
        /// known.
        proxy: Option<String>,
        /// Why: refused, unreachable, unknown host, reset.
        detail: String,
    },
    /// The proxy answered the `CONNECT` request with a refusal (its policy
    /// forbids the destination, or the destination failed from its side).
    /// Not retried.
    ProxyRefused {
        /// The proxy, when known (never with credentials).
        proxy: Option<String>,
    },
    /// The proxy asked for credentials (HTTP 407), or refused the ones
    /// given. Not retried.
    ProxyAuthRequired {
        /// The proxy, when known (never with credentials).
        proxy: Option<String>,
    },
    /// The proxy configuration cannot work (an unsupported scheme, a
    /// malformed answer to `CONNECT`). Not retried.
    ProxyInvalid {
        /// What is wrong.
        detail: String,
    },
    /// The HTTP/2 connection failed at the protocol level (a `GOAWAY`, a
    /// stream reset, a frame the client could not accept). Retried.
    Http2 {
        /// The HTTP/2 error code or failure.
        detail: String,
    },
    /// Anything else, with the whole source chain as text. Retried.
    Other {
        /// Every message in the source chain, outermost first.
        detail: String,
    },
}

/// What is wrong with a server certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// Signed by a CA the client does not trust: a private CA, a
    /// self-signed certificate, or a TLS-inspecting proxy.
    UnknownIssuer,
    /// Valid, but not for the host name in the base URL.
    NameMismatch,
    /// Expired.
    Expired,
    /// Not valid yet (or the local clock is wrong).
    NotYetValid,
    /// Revoked by its issuer.
    Revoked,
    /// Any other verification failure, as the TLS library names it.
    Other(String),
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateProblem::UnknownIssuer => f.write_str("is signed by an unknown issuer"),
            CertificateProblem::NameMismatch => f.write_str("is not valid for this host name"),
            CertificateProblem::Expired => f.write_str("has expired"),
            CertificateProblem::NotYetValid => f.write_str("is not valid yet"),
            CertificateProblem::Revoked => f.write_str("has been revoked"),
            CertificateProblem::Other(why) => write!(f, "failed verification ({why})"),
        }
    }
}

impl TransportCause {
    /// Whether another attempt may succeed without anything being changed.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            TransportCause::NoSuchHost { .. }
                | TransportCause::Certificate { .. }
                | TransportCause::TlsHandshake { .. }
                | TransportCause::ProxyRefused { .. }
                | TransportCause::ProxyAuthRequired { .. }
                | TransportCause::ProxyInvalid { .. }
        )
    }
}

fn proxy_name(proxy: &Option<String>) -> String {
    match proxy {
        Some(p) => format!("the proxy {p}"),
        None => "the proxy".to_string(),
    }
}

impl fmt::Display for TransportCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportCause::NoSuchHost { host } => write!(
                f,
                "DNS lookup failed: no such host {host:?}; check the host name in the base URL"
            ),
            TransportCause::DnsFailed { host, detail } => write!(
                f,
                "DNS lookup of {host:?} failed ({detail}); check the network and its DNS resolver"
            ),
            TransportCause::ConnectionRefused { host, port } => write!(
                f,
                "connection to {host}:{port} refused (no proxy in the way): nothing listens there; check the host and port in the base URL and that the server is running"
            ),
            TransportCause::Unreachable { host, port } => write!(
                f,
                "{host}:{port} is unreachable (no route to it); check the network, a VPN, or whether a proxy (HTTPS_PROXY) is needed"
            ),
            TransportCause::ConnectionClosed { detail } => write!(
                f,
                "the connection broke before the answer arrived ({detail}); a gateway or the server dropped it"
            ),
            TransportCause::Certificate { problem, host } => {
                write!(f, "TLS: the certificate of {host} {problem}")?;
                match problem {
                    CertificateProblem::UnknownIssuer => f.write_str(
                        "; if the server (or a TLS-inspecting proxy) uses a private CA, trust it with SSL_CERT_FILE=/path/to/ca.pem or Client::builder().add_root_certificate(pem)",
                    ),
                    CertificateProblem::NameMismatch => f.write_str(
                        "; use the host name the certificate was issued for in the base URL, or reissue the certificate with this name",
                    ),
                    CertificateProblem::Expired | CertificateProblem::NotYetValid => {
                        f.write_str("; renew the server's certificate, or check this machine's clock")
                    }
                    CertificateProblem::Revoked => f.write_str("; the server needs a new certificate"),
                    CertificateProblem::Other(_) => f.write_str(
                        "; check the server's certificate chain (a private CA goes in SSL_CERT_FILE or Client::builder().add_root_certificate(pem))",
                    ),
                }
            }
            TransportCause::TlsHandshake {
                detail,
                client_certificate: true,
            } => write!(
                f,
                "TLS handshake failed: the server refused the client certificate ({detail}); it requires mutual TLS: give one it trusts with Client::builder().identity(pem)"
            ),
            TransportCause::TlsHandshake { detail, .. } => write!(
                f,
                "TLS handshake failed ({detail}); check that the base URL's port speaks HTTPS (http:// for a plain server on loopback) and supports TLS 1.2 or 1.3"
            ),
            TransportCause::ProxyUnreachable { proxy, detail } => write!(
                f,
                "cannot reach {} ({detail}); check HTTPS_PROXY/ALL_PROXY (or Client::builder().proxy(..)), or list the API host in NO_PROXY to go direct",
                proxy_name(proxy)
            ),
            TransportCause::ProxyRefused { proxy } => write!(
                f,
                "{} refused to open a tunnel (CONNECT) to the server: its policy blocks the host or it cannot reach it; ask its administrators, or list the host in NO_PROXY to go direct",
                proxy_name(proxy)
            ),
            TransportCause::ProxyAuthRequired { proxy } => write!(
                f,
                "{} requires authentication (HTTP 407); put the credentials in the proxy URL (http://user:password@proxy:port)",
                proxy_name(proxy)
            ),
            TransportCause::ProxyInvalid { detail } => write!(
                f,
                "the proxy configuration does not work ({detail}); check HTTPS_PROXY/ALL_PROXY or Client::builder().proxy(..)"
            ),
            TransportCause::Http2 { detail } => write!(
                f,
                "HTTP/2 protocol error ({detail}); a gateway in between may mishandle HTTP/2"
            ),
            TransportCause::Other { detail } => write!(f, "network failure: {detail}; check the base URL and your connection"),
        }
    }
}

/// Where the failed request was going, to fill in host names and say
/// whether a proxy was in the way.
pub(crate) struct Target<'a> {
    pub host: &'a str,
    pub port: u16,
    pub https: bool,
    /// The proxy the client sends this host's requests through, if known.
    pub proxy: Option<&'a str>,
}

impl<'a> Target<'a> {
    pub(crate) fn of(url: &'a reqwest::Url, proxy: Option<&'a str>) -> Self {
        Target {
            host: url.host_str().unwrap_or(""),
            port: url.port_or_known_default().unwrap_or(0),
            https: url.scheme() == "https",
            proxy,
        }
    }
}

/// The step that failed, read off `err`'s source chain.
pub(crate) fn classify(err: &reqwest::Error, target: &Target<'_>) -> TransportCause {
    let proxy = target.proxy.map(str::to_string);
    let mut found: Option<TransportCause> = None;
    let mut in_tunnel = false;
    let mut cause: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cause {
        // hyper-util's tunnel error type is private; its messages are not.
        if let Some(what) = e.to_string().strip_prefix("tunnel error: ") {
            match what {
                "proxy authorization required" => return TransportCause::ProxyAuthRequired { proxy },
                "unsuccessful" => return TransportCause::ProxyRefused { proxy },
                "failed to create underlying connection"
                | "io error establishing tunnel"
                | "unexpected end of file" => in_tunnel = true,
                other => {
                    return TransportCause::ProxyInvalid {
                        detail: other.to_string(),
                    }
                }
            }
        }
        if found.is_none() {
            found = cause_of(e, target);
        }
        cause = e.source();
    }
    // A failure below the proxy's CONNECT: the proxy itself is the problem,
    // unless TLS (which runs inside the tunnel) failed.
    let tls = matches!(
        found,
        Some(TransportCause::Certificate { .. } | TransportCause::TlsHandshake { .. })
    );
    // Plain http:// through a proxy is forwarded, not tunnelled: there, any
    // connect failure is the proxy's.
    let proxy_side = in_tunnel || (target.proxy.is_some() && !target.https && err.is_connect());
    match found {
        // A proxy whose name does not exist is a configuration mistake.
        Some(TransportCause::NoSuchHost { .. }) if proxy_side => TransportCause::ProxyInvalid {
            detail: format!("{}'s host name does not exist (no such host)", proxy_name(&proxy)),
        },
        Some(found) if proxy_side && !tls => TransportCause::ProxyUnreachable {
            proxy,
            detail: short(&found),
        },
        Some(found) => found,
        None if in_tunnel => TransportCause::ProxyUnreachable {
            proxy,
            detail: error_chain(err),
        },
        None if err.is_dns() => TransportCause::DnsFailed {
            host: target.host.to_string(),
            detail: error_chain(err),
        },
        None => TransportCause::Other {
            detail: error_chain(err),
        },
    }
}

/// A cause in few words, for the proxy variants.
fn short(cause: &TransportCause) -> String {
    match cause {
        TransportCause::DnsFailed { detail, .. } => format!("DNS lookup failed: {detail}"),
        TransportCause::ConnectionRefused { .. } => "connection refused".to_string(),
        TransportCause::Unreachable { .. } => "unreachable".to_string(),
        TransportCause::ConnectionClosed { detail } | TransportCause::Other { detail } => detail.clone(),
        other => other.to_string(),
    }
}

/// One link of the chain, if it names a cause.
fn cause_of(e: &(dyn StdError + 'static), target: &Target<'_>) -> Option<TransportCause> {
    #[cfg(any(feature = "rustls-ring", feature = "rustls-aws-lc"))]
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(from_rustls(tls, target));
    }
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        // io::Error's `source` skips the error it wraps: look inside here.
        if let Some(inner) = io.get_ref() {
            if let Some(found) = cause_of(inner, target) {
                return Some(found);
            }
        }
        return from_io(io, target);
    }
    if let Some(h2) = e.downcast_ref::<h2::Error>() {
        if let Some(io) = h2.get_io() {
            return cause_of(io, target);
        }
        return Some(TransportCause::Http2 {
            detail: match h2.reason() {
                Some(reason) => format!("{reason:?}: {h2}"),
                None => h2.to_string(),
            },
        });
    }
    if let Some(hyper) = e.downcast_ref::<hyper::Error>() {
        if hyper.is_incomplete_message() || hyper.is_closed() {
            return Some(TransportCause::ConnectionClosed {
                detail: hyper.to_string(),
            });
        }
    }
    from_text(&e.to_string(), target)
}

fn from_io(io: &std::io::Error, target: &Target<'_>) -> Option<TransportCause> {
    use std::io::ErrorKind as K;
    let host = target.host.to_string();
    let port = target.port;
    Some(match io.kind() {
        K::ConnectionRefused => TransportCause::ConnectionRefused { host, port },
        K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable | K::NetworkDown => {
            TransportCause::Unreachable { host, port }
        }
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof | K::NotConnected => {
            TransportCause::ConnectionClosed { detail: io.to_string() }
        }
        _ => return from_text(&io.to_string(), target),
    })
}

/// TLS alerts (as rustls names them) by which a server refuses the client's
/// certificate, or its absence.
const CLIENT_CERTIFICATE_ALERTS: [&str; 8] = [
    "CertificateRequired",
    "BadCertificate",
    "UnknownCA",
    "CertificateUnknown",
    "CertificateExpired",
    "CertificateRevoked",
    "UnsupportedCertificate",
    "AccessDenied",
];

/// Causes only the message tells: the system resolver's answers, and the
/// platform TLS library's (native-tls) verification failures.
fn from_text(text: &str, target: &Target<'_>) -> Option<TransportCause> {
    let lower = text.to_ascii_lowercase();
    let host = target.host.to_string();
    // getaddrinfo's EAI_NONAME (glibc, musl, macOS) and EAI_NODATA.
    const NO_SUCH_HOST: [&str; 5] = [
        "name or service not known",
        "no address associated with hostname",
        "nodename nor servname provided",
        "no such host is known",
        "name does not resolve",
    ];
    if NO_SUCH_HOST.iter().any(|m| lower.contains(m)) {
        return Some(TransportCause::NoSuchHost { host });
    }
    if lower.contains("failed to lookup address") || lower.contains("temporary failure in name resolution") {
        return Some(TransportCause::DnsFailed {
            host,
            detail: text.to_string(),
        });
    }
    // rustls alerts that reached us as text only: h2 keeps an I/O error's
    // kind and message, not its inner error.
    if let Some(at) = text.find("received fatal alert: ") {
        let alert = text
            .get(at + "received fatal alert: ".len()..)
            .unwrap_or("")
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or("");
        return Some(TransportCause::TlsHandshake {
            detail: format!("the server sent the alert {alert}"),
            client_certificate: CLIENT_CERTIFICATE_ALERTS.contains(&alert),
        });
    }
    if lower.contains("certificate verify failed") || lower.contains("certificate verification failed") {
        let problem = if lower.contains("hostname mismatch") || lower.contains("ip address mismatch") {
            CertificateProblem::NameMismatch
        } else if lower.contains("expired") {
            CertificateProblem::Expired
        } else if lower.contains("not yet valid") {
            CertificateProblem::NotYetValid
        } else if lower.contains("revoked") {
            CertificateProblem::Revoked
        } else if lower.contains("issuer") || lower.contains("self-signed") || lower.contains("self signed") {
            CertificateProblem::UnknownIssuer
        } else {
            CertificateProblem::Other(text.to_string())
        };
        return Some(TransportCause::Certificate { problem, host });
    }
    // OpenSSL (native-tls) handshake failures: "error:…:SSL routines:…:reason".
    if lower.contains("ssl routines") {
        let not_tls = [
            "wrong version number",
            "packet length too long",
            "http request",
            "record layer failure",
        ];
        let detail = if not_tls.iter().any(|m| lower.contains(m)) {
            format!("the server's answer is not TLS ({text})")
        } else {
            text.to_string()
        };
        let client_certificate = lower.contains(" alert ")
            && ["certificate", "unknown ca", "access denied"]
                .iter()
                .any(|m| lower.contains(m));
        return Some(TransportCause::TlsHandshake {
            detail,
            client_certificate,
        });
    }
    None
}

#[cfg(any(feature = "rustls-ring", feature = "rustls-aws-lc"))]
fn from_rustls(e: &rustls::Error, target: &Target<'_>) -> TransportCause {
    use rustls::CertificateError as C;
    let host = target.host.to_string();
    match e {
        rustls::Error::InvalidCertificate(c) => {
            let problem = match c {
                C::UnknownIssuer => CertificateProblem::UnknownIssuer,
                C::NotValidForName | C::NotValidForNameContext { .. } => CertificateProblem::NameMismatch,
                C::Expired | C::ExpiredContext { .. } => CertificateProblem::Expired,
                C::NotValidYet | C::NotValidYetContext { .. } => CertificateProblem::NotYetValid,
                C::Revoked => CertificateProblem::Revoked,
                other => CertificateProblem::Other(format!("{other:?}")),
            };
            TransportCause::Certificate { problem, host }
        }
        rustls::Error::AlertReceived(alert) => {
            let alert = format!("{alert:?}");
            TransportCause::TlsHandshake {
                client_certificate: CLIENT_CERTIFICATE_ALERTS.contains(&alert.as_str()),
                detail: format!("the server sent the alert {alert}"),
            }
        }
        rustls::Error::InvalidMessage(_) => TransportCause::TlsHandshake {
            detail: format!("the server's answer is not TLS ({e})"),
            client_certificate: false,
        },
        other => TransportCause::TlsHandshake {
            detail: other.to_string(),
            client_certificate: false,
        },
    }
}

/// An error and its causes on one line, outermost first, a message that an
/// outer one already contains dropped: reqwest's own `Display` stops at
/// "error sending request", while the cause (DNS, a refused connection, a
/// certificate) is what a user can act on.
pub fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause = Some(err);
    while let Some(e) = cause {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(message: &str) -> Option<TransportCause> {
        from_text(
            message,
            &Target {
                host: "h.example",
                port: 443,
                https: true,
                proxy: None,
            },
        )
    }

    #[test]
    fn resolver_messages_of_each_platform() {
        for m in [
            "failed to lookup address information: Name or service not known",
            "failed to lookup address information: nodename nor servname provided, or not known",
            "No such host is known. (os error 11001)",
            "failed to lookup address information: Name does not resolve",
        ] {
            assert_eq!(
                text(m),
                Some(TransportCause::NoSuchHost {
                    host: "h.example".into()
                }),
                "{m}"
            );
        }
        let again = text("failed to lookup address information: Temporary failure in name resolution");
        assert!(matches!(&again, Some(TransportCause::DnsFailed { .. })), "{again:?}");
        assert!(again.is_some_and(|c| c.is_retryable()));
    }

    #[test]
    fn openssl_messages_name_the_problem() {
        let cert = |m: &str| match text(m) {
            Some(TransportCause::Certificate { problem, .. }) => problem,
            other => panic!("{m}: {other:?}"),
        };
        let verify = "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed";
        assert_eq!(
            cert(&format!("{verify}: (unable to get local issuer certificate)")),
            CertificateProblem::UnknownIssuer
        );
        assert_eq!(
            cert(&format!("{verify}: (self-signed certificate in certificate chain)")),
            CertificateProblem::UnknownIssuer
        );
        assert_eq!(
            cert(&format!("{verify}: (Hostname mismatch)")),
            CertificateProblem::NameMismatch
        );
        assert_eq!(
            cert(&format!("{verify}: (certificate has expired)")),
            CertificateProblem::Expired
        );
        let refused = text("error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required");
        assert!(
            matches!(
                refused,
                Some(TransportCause::TlsHandshake {
                    client_certificate: true,
                    ..
                })
            ),
            "{refused:?}"
        );
        let plain = text("error:0A00010B:SSL routines:ssl3_get_record:wrong version number");
        assert!(
            matches!(&plain, Some(TransportCause::TlsHandshake { detail, client_certificate: false }) if detail.contains("not TLS")),
            "{plain:?}"
        );
    }

    #[test]
    fn rustls_alerts_seen_only_as_text() {
        let c = text("connection error: received fatal alert: CertificateRequired");
        assert!(
            matches!(
                c,
                Some(TransportCause::TlsHandshake {
                    client_certificate: true,
                    ..
                })
            ),
            "{c:?}"
        );
        let c = text("received fatal alert: ProtocolVersion");
        assert!(
            matches!(
                c,
                Some(TransportCause::TlsHandshake {
                    client_certificate: false,
                    ..
                })
            ),
            "{c:?}"
        );
        assert_eq!(text("error sending request"), None);
    }

    #[test]
    fn what_is_retried() {
        let no = [
            TransportCause::NoSuchHost { host: "h".into() },
            TransportCause::Certificate {
                problem: CertificateProblem::UnknownIssuer,
                host: "h".into(),
            },
            TransportCause::ProxyAuthRequired { proxy: None },
            TransportCause::ProxyRefused { proxy: None },
        ];
        assert!(no.iter().all(|c| !c.is_retryable()));
        let yes = [
            TransportCause::ConnectionRefused {
                host: "h".into(),
                port: 1,
            },
            TransportCause::ConnectionClosed { detail: "reset".into() },
            TransportCause::ProxyUnreachable {
                proxy: None,
                detail: "refused".into(),
            },
        ];
        assert!(yes.iter().all(TransportCause::is_retryable));
    }
}
