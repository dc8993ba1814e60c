//! TLS for real: an in-process rustls server with a CA made at test time,
//! speaking HTTP/1.1 and HTTP/2 (ALPN), reached through the library with the
//! CA added by `add_root_certificate`. Certificate failures name their cause
//! and cost one attempt; mutual TLS works with `identity` and is refused
//! without it.

mod net;

use maverick::{CertificateProblem, Error, TransportCause};
use net::{
    attempts, certificate_problem, chat_and_stream, chat_fails, client, client_certificate_refused, request,
    ServerOptions, TestCa, TlsServer,
};

#[tokio::test]
async fn chat_and_streams_over_http2_and_http1_with_an_added_root() {
    let ca = TestCa::new("maverick test CA");
    let leaf = ca.server(&["localhost", "127.0.0.1"]);
    for (alpn, expected, version) in [
        (vec![&b"h2"[..], b"http/1.1"], "h2", http::Version::HTTP_2),
        (vec![&b"http/1.1"[..]], "http/1.1", http::Version::HTTP_11),
    ] {
        let server = TlsServer::start(
            &leaf,
            ServerOptions {
                alpn,
                ..Default::default()
            },
        )
        .await;
        for host in ["localhost", "127.0.0.1"] {
            let c = client(&server.url(host), &ca).build().unwrap();
            chat_and_stream(&c).await;
        }
        let seen = server.requests.lock().unwrap().clone();
        assert_eq!(seen.len(), 4);
        for s in &seen {
            assert_eq!(s.version, version, "{expected}");
            assert_eq!(s.path, "/v1/chat/completions");
            assert_eq!(s.authorization.as_deref(), Some(&*format!("Bearer {}", net::KEY)));
        }
        assert_eq!(seen[1].body["stream"], true);
        let alpn = server.alpn.lock().unwrap().clone();
        assert!(alpn.iter().all(|p| p.as_deref() == Some(expected)), "{alpn:?}");
    }
}

#[tokio::test]
async fn only_the_given_roots_when_built_in_roots_are_off() {
    let ca = TestCa::new("pinned CA");
    let server = TlsServer::start(&ca.server(&["localhost"]), ServerOptions::default()).await;
    let c = client(&server.url("localhost"), &ca)
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    chat_and_stream(&c).await;
    // Trusting only another CA: the server's certificate is now unknown.
    let other = TestCa::new("another CA");
    let err = chat_fails(client(&server.url("localhost"), &other).tls_built_in_root_certs(false)).await;
    assert_eq!(
        certificate_problem(&err),
        Some(CertificateProblem::UnknownIssuer),
        "{err}"
    );
}

/// A certificate failure: named, not retried, the chain still reachable.
fn assert_certificate(err: &Error, problem: CertificateProblem, words: &str, server: &TlsServer) {
    let shown = err.to_string();
    match err.transport_cause() {
        Some(TransportCause::Certificate { problem: p, host }) => {
            assert_eq!(*p, problem, "{shown}");
            assert_eq!(host, "localhost");
        }
        other => panic!("{other:?}: {shown}"),
    }
    assert!(shown.contains(words), "{shown}");
    assert!(shown.contains("1 attempt)"), "{shown}");
    assert_eq!(attempts(err), 1);
    assert!(!err.is_retryable());
    assert_eq!(server.connections.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(std::error::Error::source(err).is_some());
}

#[tokio::test]
async fn an_untrusted_ca_is_named_and_tried_once() {
    let ca = TestCa::new("private CA");
    let server = TlsServer::start(&ca.server(&["localhost"]), ServerOptions::default()).await;
    let c = maverick::Client::builder()
        .api_key(net::KEY)
        .base_url(server.url("localhost"))
        .max_retries(3)
        .build()
        .unwrap();
    let err = c.chat(request()).await.unwrap_err();
    assert_certificate(&err, CertificateProblem::UnknownIssuer, "unknown issuer", &server);
    let shown = err.to_string();
    assert!(
        shown.contains("SSL_CERT_FILE") && shown.contains("add_root_certificate"),
        "{shown}"
    );
    // The same for a stream.
    let err = c.chat_stream(request()).await.map(|_| ()).unwrap_err();
    assert_eq!(
        certificate_problem(&err),
        Some(CertificateProblem::UnknownIssuer),
        "{err}"
    );
    assert_eq!(attempts(&err), 1);
}

#[tokio::test]
async fn a_wrong_host_name_is_named_and_tried_once() {
    let ca = TestCa::new("test CA");
    let server = TlsServer::start(&ca.server(&["api.example.test"]), ServerOptions::default()).await;
    let err = chat_fails(client(&server.url("localhost"), &ca).max_retries(3)).await;
    assert_certificate(
        &err,
        CertificateProblem::NameMismatch,
        "not valid for this host name",
        &server,
    );
}

#[tokio::test]
async fn an_expired_certificate_is_named_and_tried_once() {
    let ca = TestCa::new("test CA");
    let server = TlsServer::start(&ca.expired_server(&["localhost"]), ServerOptions::default()).await;
    let err = chat_fails(client(&server.url("localhost"), &ca).max_retries(3)).await;
    assert_certificate(&err, CertificateProblem::Expired, "has expired", &server);
}

#[tokio::test]
async fn mutual_tls_works_with_an_identity_and_is_refused_without() {
    let ca = TestCa::new("gateway CA");
    for alpn in [vec![&b"h2"[..], b"http/1.1"], vec![&b"http/1.1"[..]]] {
        let server = TlsServer::start(
            &ca.server(&["localhost"]),
            ServerOptions {
                alpn,
                client_ca: Some(ca.pem.clone()),
                ..Default::default()
            },
        )
        .await;
        let me = ca.client("maverick-client");
        let c = client(&server.url("localhost"), &ca)
            .identity(me.identity_pem())
            .build()
            .unwrap();
        chat_and_stream(&c).await;

        let err = chat_fails(client(&server.url("localhost"), &ca).max_retries(3)).await;
        let shown = err.to_string();
        assert!(client_certificate_refused(&err), "{shown}");
        assert!(shown.contains("identity(pem)"), "{shown}");
        assert_eq!(attempts(&err), 1, "{shown}");
        // A certificate from a CA the gateway does not trust: refused too.
        let stranger = TestCa::new("stranger").client("intruder");
        let err = chat_fails(client(&server.url("localhost"), &ca).identity(stranger.identity_pem())).await;
        assert!(client_certificate_refused(&err), "{err}");
    }
}

#[tokio::test]
async fn an_http2_protocol_error_is_named() {
    let ca = TestCa::new("test CA");
    let server = TlsServer::start(
        &ca.server(&["localhost"]),
        ServerOptions {
            alpn: vec![b"h2"],
            garbage_after_handshake: Some(b"this is not an HTTP/2 SETTINGS frame at all, just text\r\n"),
            ..Default::default()
        },
    )
    .await;
    let err = chat_fails(client(&server.url("localhost"), &ca).max_retries(0)).await;
    let shown = err.to_string();
    assert!(
        matches!(err.transport_cause(), Some(TransportCause::Http2 { .. })),
        "{shown}"
    );
    assert!(shown.contains("HTTP/2 protocol error"), "{shown}");
}

#[tokio::test]
async fn plain_http_on_a_tls_url_says_the_peer_does_not_speak_tls() {
    // A plain-HTTP server behind an https:// base URL.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            use tokio::io::AsyncWriteExt;
            let _ = s
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let err = chat_fails(
        maverick::Client::builder()
            .api_key(net::KEY)
            .base_url(format!("https://127.0.0.1:{port}/v1")),
    )
    .await;
    task.abort();
    assert!(
        matches!(err.transport_cause(), Some(TransportCause::TlsHandshake { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("speaks HTTPS"), "{err}");
    assert_eq!(attempts(&err), 1);
}

#[test]
fn bad_tls_settings_are_config_errors_from_build() {
    let base = || maverick::Client::builder().api_key(net::KEY);
    let config = |r: Result<maverick::Client, Error>| match r {
        Err(Error::Config(message)) => message,
        other => panic!("{other:?}"),
    };
    let m = config(base().add_root_certificate("not a certificate").build());
    assert!(
        m.contains("add_root_certificate") && m.contains("BEGIN CERTIFICATE"),
        "{m}"
    );
    let m = config(
        base()
            .add_root_certificate("-----BEGIN CERTIFICATE-----\nbm90IGRlcg==\n-----END CERTIFICATE-----\n")
            .tls_built_in_root_certs(false)
            .build(),
    );
    assert!(m.contains("add_root_certificate"), "{m}");
    let m = config(base().tls_built_in_root_certs(false).build());
    assert!(m.contains("trust no server"), "{m}");
    let m = config(
        base()
            .identity("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
            .build(),
    );
    assert!(m.contains("identity"), "{m}");
    let ca = TestCa::new("x");
    let m = config(base().identity(ca.server(&["localhost"]).cert_pem).build());
    assert!(m.contains("identity"), "{m}");
    maverick::install_tls_provider();
    let m = config(
        base()
            .http_client(reqwest::Client::new())
            .add_root_certificate(&ca.pem)
            .build(),
    );
    assert!(m.contains("http_client"), "{m}");
}
