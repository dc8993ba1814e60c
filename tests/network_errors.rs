//! Failures before any TLS: a host name that does not exist is named and
//! tried once; a refused connection is named, with host and port, and
//! retried, and the attempt count in the message is the true one.

mod net;

use maverick::TransportCause;
use net::{attempts, chat_fails, request, KEY};

#[tokio::test]
async fn a_host_that_does_not_exist_is_named_and_tried_once() {
    // `.invalid` never resolves (RFC 2606).
    let err = chat_fails(
        maverick::Client::builder()
            .api_key(KEY)
            .base_url("https://nonexistent.invalid/v1")
            .max_retries(3),
    )
    .await;
    let shown = err.to_string();
    match err.transport_cause() {
        Some(TransportCause::NoSuchHost { host }) => assert_eq!(host, "nonexistent.invalid"),
        // A machine with no resolver at all cannot say "no such host"; it
        // is still named as DNS, and retried since it may come back.
        Some(TransportCause::DnsFailed { host, .. }) => {
            println!("resolver unavailable here: {shown}");
            assert_eq!(host, "nonexistent.invalid");
            return;
        }
        other => panic!("{other:?}: {shown}"),
    }
    assert!(
        shown.starts_with("DNS lookup failed: no such host \"nonexistent.invalid\""),
        "{shown}"
    );
    assert!(shown.contains("1 attempt)"), "{shown}");
    assert_eq!(attempts(&err), 1);
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_refused_connection_is_named_and_retried() {
    let port = net::refused_port().await;
    for stream in [false, true] {
        let client = maverick::Client::builder()
            .api_key(KEY)
            .base_url(format!("http://127.0.0.1:{port}/v1"))
            .max_retries(1)
            .build()
            .unwrap();
        let err = if stream {
            client.chat_stream(request()).await.map(|_| ()).unwrap_err()
        } else {
            client.chat(request()).await.unwrap_err()
        };
        let shown = err.to_string();
        assert_eq!(
            err.transport_cause(),
            Some(&TransportCause::ConnectionRefused {
                host: "127.0.0.1".into(),
                port
            }),
            "{shown}"
        );
        assert!(
            shown.contains(&format!("connection to 127.0.0.1:{port} refused")),
            "{shown}"
        );
        assert!(shown.contains("2 attempts)"), "{shown}");
        assert_eq!(attempts(&err), 2);
        assert!(err.is_retryable());
    }
}
