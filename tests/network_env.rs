//! `HTTPS_PROXY`, `NO_PROXY` and `SSL_CERT_FILE` from the environment, as
//! users set them. The environment is process-wide, so this binary holds one
//! test that sets the variables in turn; nothing else runs beside it.

mod net;

use maverick::{CertificateProblem, TransportCause};
use net::{
    attempts, certificate_problem, chat_fails, client, request, ConnectProxy, ProxyMode, ServerOptions, TestCa,
    TlsServer,
};

fn set(name: &str, value: Option<&str>) {
    for name in [name.to_string(), name.to_ascii_lowercase()] {
        match value {
            Some(v) => std::env::set_var(&name, v),
            None => std::env::remove_var(&name),
        }
    }
}

#[tokio::test]
async fn proxy_and_certificate_variables() {
    https_proxy_is_used_no_proxy_bypasses_it_and_a_dead_one_is_named().await;
    ssl_cert_file_adds_a_trusted_ca().await;
}

async fn ssl_cert_file_adds_a_trusted_ca() {
    let ca = TestCa::new("CA from SSL_CERT_FILE");
    let server = TlsServer::start(&ca.server(&["localhost"]), ServerOptions::default()).await;
    let plain = || {
        maverick::Client::builder()
            .api_key(net::KEY)
            .base_url(server.url("localhost"))
    };
    // Not trusted by default...
    let err = chat_fails(plain()).await;
    assert_eq!(
        certificate_problem(&err),
        Some(CertificateProblem::UnknownIssuer),
        "{err}"
    );
    // ...trusted once SSL_CERT_FILE names it, as the error message advises.
    let path = std::env::temp_dir().join(format!("maverick-test-ca-{}.pem", std::process::id()));
    std::fs::write(&path, &ca.pem).unwrap();
    std::env::set_var("SSL_CERT_FILE", &path);
    let reply = plain().build().unwrap().chat(request()).await;
    std::env::remove_var("SSL_CERT_FILE");
    let _ = std::fs::remove_file(&path);
    assert_eq!(reply.unwrap().text(), Some("over tls"));
}

async fn https_proxy_is_used_no_proxy_bypasses_it_and_a_dead_one_is_named() {
    for name in ["ALL_PROXY", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"] {
        set(name, None);
    }
    let ca = TestCa::new("test CA");
    let server = TlsServer::start(&ca.server(&["localhost", "127.0.0.1"]), ServerOptions::default()).await;
    let proxy = ConnectProxy::start(ProxyMode::Open).await;

    set("HTTPS_PROXY", Some(&proxy.url()));
    let c = client(&server.url("localhost"), &ca).build().unwrap();
    assert_eq!(c.chat(request()).await.unwrap().text(), Some("over tls"));
    assert_eq!(proxy.heads().len(), 1, "HTTPS_PROXY is used");
    assert!(proxy.heads()[0].starts_with(&format!("CONNECT localhost:{} ", server.port)));

    // NO_PROXY lists the host: direct, the proxy sees nothing more.
    set("NO_PROXY", Some("localhost,example.internal"));
    let c = client(&server.url("localhost"), &ca).build().unwrap();
    assert_eq!(c.chat(request()).await.unwrap().text(), Some("over tls"));
    assert_eq!(proxy.heads().len(), 1, "NO_PROXY bypasses the proxy");
    assert_eq!(server.requests.lock().unwrap().len(), 2);
    // ...but only that host.
    let c = client(&server.url("127.0.0.1"), &ca).build().unwrap();
    assert_eq!(c.chat(request()).await.unwrap().text(), Some("over tls"));
    assert_eq!(proxy.heads().len(), 2);
    set("NO_PROXY", None);

    // A dead proxy in the environment, with credentials: named (without
    // them) as the proxy, not as the server.
    let dead = net::refused_port().await;
    set("HTTPS_PROXY", Some(&format!("http://carol:t0ps3cret@127.0.0.1:{dead}")));
    let err = chat_fails(client(&server.url("localhost"), &ca).max_retries(0)).await;
    set("HTTPS_PROXY", None);
    let shown = err.to_string();
    match err.transport_cause() {
        Some(TransportCause::ProxyUnreachable { proxy, .. }) => {
            assert_eq!(proxy.as_deref(), Some(&*format!("http://127.0.0.1:{dead}")), "{shown}");
        }
        other => panic!("{other:?}: {shown}"),
    }
    assert_eq!(attempts(&err), 1);
    assert!(
        !shown.contains("t0ps3cret") && !format!("{err:?}").contains("t0ps3cret"),
        "{shown}"
    );
}
