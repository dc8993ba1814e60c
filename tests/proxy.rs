//! Proxies for real, set with `ClientBuilder::proxy` (the environment's
//! `HTTPS_PROXY`/`NO_PROXY` are process-wide, so they have their own test
//! binary, tests/network_env.rs): HTTPS is tunnelled with CONNECT and the key
//! never crosses the proxy in clear; every proxy failure is named, and the
//! proxy's credentials never appear in an error.

mod net;
mod support;

use maverick::{Error, TransportCause};
use net::{
    attempts, chat_and_stream, chat_fails, client, contains, request, ConnectProxy, ProxyMode, ServerOptions, TestCa,
    TlsServer, KEY,
};

async fn tls_server(ca: &TestCa) -> TlsServer {
    TlsServer::start(&ca.server(&["localhost", "127.0.0.1"]), ServerOptions::default()).await
}

#[tokio::test]
async fn https_goes_through_the_tunnel_and_the_proxy_never_sees_the_key() {
    let ca = TestCa::new("test CA");
    let server = tls_server(&ca).await;
    let proxy = ConnectProxy::start(ProxyMode::Open).await;
    let c = client(&server.url("localhost"), &ca)
        .proxy(proxy.url())
        .build()
        .unwrap();
    chat_and_stream(&c).await;

    assert_eq!(server.requests.lock().unwrap().len(), 2);
    let heads = proxy.heads();
    assert!(!heads.is_empty());
    for head in &heads {
        assert!(
            head.starts_with(&format!("CONNECT localhost:{} HTTP/1.1\r\n", server.port)),
            "{head}"
        );
        assert!(
            !head.contains(KEY) && !head.to_ascii_lowercase().contains("authorization: bearer"),
            "{head}"
        );
    }
    let relayed = proxy.relayed();
    assert!(relayed.len() > 500, "the tunnel carried the TLS session");
    // A TLS handshake record starts the tunnel: the proxy relays ciphertext.
    assert_eq!(relayed.first(), Some(&0x16));
    for clear in [KEY.as_bytes(), b"Bearer", b"chat/completions", b"\"messages\""] {
        assert!(
            !contains(&relayed, clear),
            "{:?} crossed the proxy in clear",
            String::from_utf8_lossy(clear)
        );
    }
}

#[tokio::test]
async fn proxy_credentials_are_sent_to_the_proxy_and_never_shown() {
    let ca = TestCa::new("test CA");
    let server = tls_server(&ca).await;
    // "user:s3cret-pw" in Basic form.
    let proxy = ConnectProxy::start(ProxyMode::Auth("Basic dXNlcjpzM2NyZXQtcHc=")).await;
    let with = |password: &str| {
        client(&server.url("localhost"), &ca)
            .proxy(format!("http://user:{password}@127.0.0.1:{}", proxy.port))
            .max_retries(2)
            .build()
            .unwrap()
    };
    assert_eq!(
        with("s3cret-pw").chat(request()).await.unwrap().text(),
        Some("over tls")
    );

    let err = with("wrong-pw-123").chat(request()).await.unwrap_err();
    let shown = err.to_string();
    assert!(
        matches!(err.transport_cause(), Some(TransportCause::ProxyAuthRequired { .. })),
        "{shown}"
    );
    assert!(shown.contains("requires authentication (HTTP 407)"), "{shown}");
    assert!(
        shown.contains(&format!("the proxy http://127.0.0.1:{} requires", proxy.port)),
        "{shown}"
    );
    assert_eq!(attempts(&err), 1, "credentials do not change by retrying");
    for text in [shown, format!("{err:?}"), format!("{:?}", with("wrong-pw-123"))] {
        assert!(!text.contains("wrong-pw-123") && !text.contains("s3cret"), "{text}");
    }
}

#[tokio::test]
async fn a_proxy_that_refuses_connect_is_named_and_tried_once() {
    let ca = TestCa::new("test CA");
    let server = tls_server(&ca).await;
    let proxy = ConnectProxy::start(ProxyMode::Forbid).await;
    let err = chat_fails(client(&server.url("localhost"), &ca).proxy(proxy.url())).await;
    assert!(
        matches!(err.transport_cause(), Some(TransportCause::ProxyRefused { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("refused to open a tunnel"), "{err}");
    assert_eq!(attempts(&err), 1);
    assert_eq!(proxy.heads().len(), 1);
    assert_eq!(server.connections.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_dead_proxy_is_named_retried_and_keeps_its_password() {
    // Everything logged at TRACE, reqwest's `log` records included.
    let logs = support::trace::trace_buffer();
    let ca = TestCa::new("test CA");
    let server = tls_server(&ca).await;
    let dead = net::refused_port().await;
    let err = chat_fails(
        client(&server.url("localhost"), &ca)
            .proxy(format!("http://alice:hunter2-pw@127.0.0.1:{dead}"))
            .max_retries(1),
    )
    .await;
    let shown = err.to_string();
    match err.transport_cause() {
        Some(TransportCause::ProxyUnreachable { proxy, detail }) => {
            assert_eq!(proxy.as_deref(), Some(&*format!("http://127.0.0.1:{dead}")));
            assert!(detail.contains("refused"), "{detail}");
        }
        other => panic!("{other:?}: {shown}"),
    }
    assert!(
        shown.contains("cannot reach the proxy") && shown.contains("NO_PROXY"),
        "{shown}"
    );
    assert_eq!(attempts(&err), 2, "a dead proxy may come back: retried");
    assert!(
        !shown.contains("hunter2") && !format!("{err:?}").contains("hunter2"),
        "{shown}"
    );
    let logged = logs.text();
    assert!(
        logged.contains("retrying") && logged.contains(&format!("127.0.0.1:{dead}")),
        "{logged}"
    );
    assert!(
        !logged.contains("hunter2") && !logged.contains("YWxpY2U6aHVudGVy"),
        "{logged}"
    );
    assert_eq!(server.connections.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_proxy_host_that_does_not_exist_is_a_configuration_mistake_tried_once() {
    let ca = TestCa::new("test CA");
    let server = tls_server(&ca).await;
    let err = chat_fails(
        client(&server.url("localhost"), &ca)
            .proxy("http://nobody:pa55word@proxy.nonexistent.invalid:3128")
            .max_retries(2),
    )
    .await;
    let shown = err.to_string();
    assert!(!shown.contains("pa55word"), "{shown}");
    match err.transport_cause() {
        Some(TransportCause::ProxyInvalid { detail }) => {
            assert!(
                detail.contains("proxy.nonexistent.invalid:3128") && detail.contains("no such host"),
                "{detail}"
            );
            assert_eq!(attempts(&err), 1);
        }
        // Without any resolver the name cannot be called nonexistent: the
        // proxy is unreachable, which may pass.
        Some(TransportCause::ProxyUnreachable { .. }) => println!("resolver unavailable here: {shown}"),
        other => panic!("{other:?}: {shown}"),
    }
    assert_eq!(server.connections.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn an_unusable_proxy_url_is_a_config_error_without_the_password() {
    for url in [
        "socks5://bob:pa55word@127.0.0.1:1080",
        "http://bob:pa55word@",
        "not a url pa55word",
    ] {
        match maverick::Client::builder().api_key(KEY).proxy(url).build() {
            Err(Error::Config(m)) => {
                assert!(m.starts_with("proxy("), "{m}");
                assert!(!m.contains("pa55word"), "{m}");
            }
            other => panic!("{url}: {other:?}"),
        }
    }
}
