//! Real networks for tests: a certificate authority made at test time
//! (rcgen), an HTTPS server speaking HTTP/1.1 and HTTP/2 (ALPN) with an
//! optional client-certificate requirement, and an HTTP CONNECT proxy that
//! records everything it relays. All on loopback, all bounded by the test.
#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;

/// The key every test client sends; no proxy may ever see it.
pub const KEY: &str = "sk-test-0123456789-secret-key";

/// A certificate authority that exists only for this test.
pub struct TestCa {
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate and its key, both PEM.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Leaf {
    /// Certificate then key, as `ClientBuilder::identity` takes them.
    pub fn identity_pem(&self) -> String {
        format!("{}{}", self.cert_pem, self.key_pem)
    }
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for `names` (DNS names or IP addresses).
    pub fn server(&self, names: &[&str]) -> Leaf {
        self.leaf(names, rcgen::ExtendedKeyUsagePurpose::ServerAuth, false)
    }

    /// A server certificate that expired in 2020.
    pub fn expired_server(&self, names: &[&str]) -> Leaf {
        self.leaf(names, rcgen::ExtendedKeyUsagePurpose::ServerAuth, true)
    }

    /// A client certificate, for mutual TLS.
    pub fn client(&self, name: &str) -> Leaf {
        self.leaf(&[name], rcgen::ExtendedKeyUsagePurpose::ClientAuth, false)
    }

    fn leaf(&self, names: &[&str], usage: rcgen::ExtendedKeyUsagePurpose, expired: bool) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.extended_key_usages = vec![usage];
        if expired {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        }
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

fn certs(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .map(|c| c.unwrap())
        .collect()
}

fn private_key(pem: &str) -> rustls::pki_types::PrivateKeyDer<'static> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::PrivateKeyDer::from_pem_slice(pem.as_bytes()).unwrap()
}

/// How the test server behaves.
pub struct ServerOptions {
    /// ALPN protocols offered, in preference order.
    pub alpn: Vec<&'static [u8]>,
    /// Require a client certificate signed by this CA.
    pub client_ca: Option<String>,
    /// After the handshake, write these bytes instead of speaking HTTP.
    pub garbage_after_handshake: Option<&'static [u8]>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            alpn: vec![b"h2", b"http/1.1"],
            client_ca: None,
            garbage_after_handshake: None,
        }
    }
}

/// One request the server answered.
#[derive(Debug, Clone)]
pub struct Seen {
    pub version: http::Version,
    pub path: String,
    pub authorization: Option<String>,
    pub body: serde_json::Value,
}

/// An HTTPS server on loopback answering chat completions, streamed or not.
pub struct TlsServer {
    pub port: u16,
    /// TCP connections accepted (a refused handshake counts too).
    pub connections: Arc<AtomicUsize>,
    /// The ALPN protocol each completed handshake chose.
    pub alpn: Arc<Mutex<Vec<Option<String>>>>,
    pub requests: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsServer {
    pub async fn start(leaf: &Leaf, options: ServerOptions) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match &options.client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in certs(ca) {
                    roots.add(c).unwrap();
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .unwrap();
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(certs(&leaf.cert_pem), private_key(&leaf.key_pem))
            .unwrap();
        config.alpn_protocols = options.alpn.iter().map(|p| p.to_vec()).collect();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let alpn = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let garbage = options.garbage_after_handshake;
        let (conns, alpns, reqs) = (connections.clone(), alpn.clone(), requests.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                conns.fetch_add(1, Ordering::SeqCst);
                let (acceptor, alpns, reqs) = (acceptor.clone(), alpns.clone(), reqs.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    let protocol = tls
                        .get_ref()
                        .1
                        .alpn_protocol()
                        .map(|p| String::from_utf8_lossy(p).into_owned());
                    alpns.lock().unwrap().push(protocol);
                    if let Some(bytes) = garbage {
                        let _ = tls.write_all(bytes).await;
                        let _ = tls.flush().await;
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        return;
                    }
                    let service = hyper::service::service_fn(move |req| answer(req, reqs.clone()));
                    let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        TlsServer {
            port,
            connections,
            alpn,
            requests,
            task,
        }
    }

    pub fn url(&self, host: &str) -> String {
        format!("https://{host}:{}/v1", self.port)
    }
}

async fn answer(
    req: hyper::Request<hyper::body::Incoming>,
    seen: Arc<Mutex<Vec<Seen>>>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    use http_body_util::BodyExt;
    let version = req.version();
    let path = req.uri().path().to_string();
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let stream = body["stream"] == serde_json::Value::Bool(true);
    seen.lock().unwrap().push(Seen {
        version,
        path,
        authorization,
        body,
    });
    let response = if stream {
        let chunk = |delta: serde_json::Value, finish: serde_json::Value| {
            format!(
                "data: {}\n\n",
                serde_json::json!({"id": "s", "object": "chat.completion.chunk", "created": 1, "model": "m",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
            )
        };
        let text = format!(
            "{}{}{}data: [DONE]\n\n",
            chunk(
                serde_json::json!({"role": "assistant", "content": "stre"}),
                serde_json::Value::Null
            ),
            chunk(serde_json::json!({"content": "amed"}), serde_json::Value::Null),
            chunk(serde_json::json!({}), serde_json::json!("stop")),
        );
        hyper::Response::builder()
            .header("content-type", "text/event-stream")
            .body(Full::new(Bytes::from(text)))
    } else {
        let json = serde_json::json!({"id": "r", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "over tls"}}]});
        hyper::Response::builder()
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(json.to_string())))
    };
    Ok(response.unwrap())
}

/// What the proxy does with a `CONNECT`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    /// Opens every tunnel.
    Open,
    /// Opens tunnels only with this `Proxy-Authorization` value; else 407.
    Auth(&'static str),
    /// Answers 403 to every `CONNECT`.
    Forbid,
}

/// An HTTP CONNECT proxy that records each request head and every byte it
/// relays from the client, so tests can prove what it could read.
pub struct ConnectProxy {
    pub port: u16,
    /// Each request head received, as text.
    pub heads: Arc<Mutex<Vec<String>>>,
    /// Every byte relayed from the client to the server, after the head.
    pub relayed: Arc<Mutex<Vec<u8>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ConnectProxy {
    pub async fn start(mode: ProxyMode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let relayed = Arc::new(Mutex::new(Vec::new()));
        let (h, r) = (heads.clone(), relayed.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(tunnel(socket, mode, h.clone(), r.clone()));
            }
        });
        ConnectProxy {
            port,
            heads,
            relayed,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    pub fn relayed(&self) -> Vec<u8> {
        self.relayed.lock().unwrap().clone()
    }
}

async fn tunnel(mut client: TcpStream, mode: ProxyMode, heads: Arc<Mutex<Vec<String>>>, relayed: Arc<Mutex<Vec<u8>>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || client.read(&mut byte).await.unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    heads.lock().unwrap().push(text.clone());
    let mut lines = text.lines();
    let request_line = lines.next().unwrap_or_default().to_string();
    let auth = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, v)| v.trim().to_string());
    let refuse = |status: &str| {
        format!("HTTP/1.1 {status}\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
    };
    match mode {
        ProxyMode::Forbid => {
            let _ = client.write_all(refuse("403 Forbidden").as_bytes()).await;
            return;
        }
        ProxyMode::Auth(expected) if auth.as_deref() != Some(expected) => {
            let _ = client
                .write_all(refuse("407 Proxy Authentication Required").as_bytes())
                .await;
            return;
        }
        _ => {}
    }
    let mut parts = request_line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        let _ = client.write_all(refuse("405 Method Not Allowed").as_bytes()).await;
        return;
    };
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        let _ = client.write_all(refuse("502 Bad Gateway").as_bytes()).await;
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    let (mut client_read, mut client_write) = client.split();
    let (mut up_read, mut up_write) = upstream.split();
    let outbound = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            relayed.lock().unwrap().extend_from_slice(&buf[..n]);
            if up_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = up_write.shutdown().await;
    };
    let inbound = async {
        let _ = tokio::io::copy(&mut up_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(outbound, inbound);
}

/// A port on loopback that refuses connections: bound, then closed.
pub async fn refused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

/// Whether `haystack` contains `needle` anywhere.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A client builder for `base_url` trusting `ca`.
pub fn client(base_url: &str, ca: &TestCa) -> maverick::ClientBuilder {
    maverick::Client::builder()
        .api_key(KEY)
        .base_url(base_url)
        .add_root_certificate(&ca.pem)
}

/// A one-message request.
pub fn request() -> maverick::ChatRequest {
    maverick::ChatRequest::user_prompt("hi")
}

/// Builds the client and makes one `chat` call that must fail.
pub async fn chat_fails(builder: maverick::ClientBuilder) -> maverick::Error {
    builder.build().unwrap().chat(request()).await.unwrap_err()
}

/// One `chat` and one streamed call that must both succeed with the test
/// server's answers.
pub async fn chat_and_stream(client: &maverick::Client) {
    use futures_util::StreamExt;
    let reply = client.chat(request()).await.unwrap();
    assert_eq!(reply.text(), Some("over tls"));
    let mut stream = client.chat_stream(request()).await.unwrap();
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        text.push_str(chunk.unwrap().text().unwrap_or_default());
    }
    assert_eq!(text, "streamed");
}

/// The certificate problem a transport error names, if any.
pub fn certificate_problem(err: &maverick::Error) -> Option<maverick::CertificateProblem> {
    match err.transport_cause() {
        Some(maverick::TransportCause::Certificate { problem, .. }) => Some(problem.clone()),
        _ => None,
    }
}

/// Whether the error says the server refused the client certificate.
pub fn client_certificate_refused(err: &maverick::Error) -> bool {
    matches!(
        err.transport_cause(),
        Some(maverick::TransportCause::TlsHandshake {
            client_certificate: true,
            ..
        })
    )
}

/// The attempt count a transport error reports.
pub fn attempts(err: &maverick::Error) -> u32 {
    match err {
        maverick::Error::Transport { attempts, .. } => *attempts,
        other => panic!("not a transport error: {other:?}"),
    }
}
