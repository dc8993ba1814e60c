//! Errors through real (loopback) calls, request bound checks, configuration
//! from the builder and the environment, secret redaction, and retries.

mod support;

use std::time::{Duration, Instant};

use maverick::{ApiErrorKind, CallOptions, ChatRequest, Client, Error};
use serde_json::{json, Value};
use support::trace::trace_buffer;
use support::{client_for, Loopback, Reply};

const KEY: &str = "sk-test-SECRET-0123456789";

fn completion() -> Value {
    json!({
        "id": "c1", "object": "chat.completion", "created": 1, "model": "meta-llama/llama-4-maverick",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    })
}

fn ok() -> Reply {
    Reply::json(200, &completion())
}

fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
}

/// Display and Debug of an error, for redaction checks.
fn shown(e: &Error) -> String {
    format!("{e}\n{e:?}")
}

// ---------------------------------------------------------------- API errors

#[tokio::test]
async fn provider_error_body_with_list_message_and_string_status() {
    let body = json!({
        "message": ["temperature must not be greater than 2", "max_tokens must be a number"],
        "path": "/v1/chat/completions", "requestId": "prov-req-7", "statusCode": "400",
        "timestamp": "2026-01-16T00:00:00.000Z"
    });
    let server = Loopback::always(Reply::json(400, &body).header("x-inference-id", "inf-42")).await;
    let client = client_for(&server).build().unwrap();
    let err = client.chat(ChatRequest::user_prompt("hi")).await.unwrap_err();
    let Error::Api(api) = &err else {
        panic!("expected Error::Api, got {err:?}")
    };
    assert_eq!(api.status, 400);
    assert_eq!(api.kind, ApiErrorKind::BadRequest);
    assert_eq!(
        api.message,
        "temperature must not be greater than 2; max_tokens must be a number"
    );
    assert_eq!(api.provider_request_id.as_deref(), Some("prov-req-7"));
    assert_eq!(api.inference_id.as_deref(), Some("inf-42"));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1, "400 is not retried");
    assert_eq!(reqs[0].header("x-client-request-id"), Some(api.request_id.as_str()));
    assert!(api.body.contains("prov-req-7"), "raw body kept: {}", api.body);
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains("API error 400") && text.contains("inf-42") && text.contains(&api.request_id),
        "{text}"
    );
}

#[tokio::test]
async fn openai_error_shape() {
    let body = json!({"error": {"message": "The model `x` does not exist", "type": "invalid_request_error", "code": "model_not_found"}});
    let server = Loopback::always(Reply::json(404, &body)).await;
    let client = client_for(&server).build().unwrap();
    let err = client
        .chat(ChatRequest::user_prompt("hi").model("x"))
        .await
        .unwrap_err();
    let api = err.api().unwrap_or_else(|| panic!("expected Error::Api, got {err:?}"));
    assert_eq!((api.status, api.kind), (404, ApiErrorKind::NotFound));
    assert_eq!(api.message, "The model `x` does not exist");
    assert_eq!(api.error_type.as_deref(), Some("invalid_request_error"));
    assert_eq!(api.code.as_deref(), Some("model_not_found"));
    assert_eq!(api.provider_request_id, None);
    assert_eq!(err.status(), Some(404));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn html_with_200_is_a_decode_error_with_a_snippet() {
    let html = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let server = Loopback::always(Reply::bytes(200, "text/html", html)).await;
    let client = client_for(&server).build().unwrap();
    let err = client.chat(ChatRequest::user_prompt("hi")).await.unwrap_err();
    match &err {
        Error::Decode {
            status,
            snippet,
            request_id,
            ..
        } => {
            assert_eq!(*status, 200);
            assert!(snippet.starts_with("<html><head><title>502 Bad Gateway"), "{snippet}");
            assert_eq!(
                server.requests()[0].header("x-client-request-id"),
                Some(request_id.as_str())
            );
        }
        other => panic!("expected Error::Decode, got {other:?}"),
    }
    assert!(err.to_string().contains("502 Bad Gateway"), "{err}");
}

// ------------------------------------------------------------- bound checks

#[tokio::test]
async fn bound_checks_fail_before_sending_anything() {
    let server = Loopback::always(ok()).await;
    let client = client_for(&server).build().unwrap();
    let cases: Vec<(ChatRequest, &str)> = vec![
        (ChatRequest::user_prompt("x").temperature(2.5), "temperature"),
        (ChatRequest::user_prompt("x").temperature(-0.1), "temperature"),
        (ChatRequest::user_prompt("x").top_p(0.0), "top_p"),
        (ChatRequest::user_prompt("x").top_p(1.5), "top_p"),
        (ChatRequest::user_prompt("x").min_p(1.0), "min_p"),
        (
            ChatRequest::user_prompt("x").frequency_penalty(2.1),
            "frequency_penalty",
        ),
        (ChatRequest::user_prompt("x").presence_penalty(-2.1), "presence_penalty"),
        (ChatRequest::user_prompt("x").top_logprobs(21), "top_logprobs"),
        (ChatRequest::user_prompt("x").n(0), "n"),
        (ChatRequest::user_prompt("x").max_tokens(0), "max_tokens"),
        (
            ChatRequest::user_prompt("x").max_completion_tokens(0),
            "max_completion_tokens",
        ),
        (ChatRequest::user_prompt("x").temperature(f64::INFINITY), "temperature"),
        (
            ChatRequest::user_prompt("x").json_schema("a", json!([1]), true),
            "response_format.json_schema.schema",
        ),
        (ChatRequest::new(), "messages"),
    ];
    for (request, expected_field) in cases {
        let err = client.chat(request).await.unwrap_err();
        match &err {
            Error::InvalidRequest { field, .. } => assert_eq!(field, expected_field, "{err}"),
            other => panic!("{expected_field}: expected InvalidRequest, got {other:?}"),
        }
        assert!(err.to_string().contains(expected_field), "{err}");
    }
    let err = client
        .chat(ChatRequest::user_prompt("x").logit_bias(7, 150.0))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field, .. } if field == "logit_bias[7]"),
        "{err:?}"
    );
    let err = client
        .chat_with(
            ChatRequest::user_prompt("x"),
            CallOptions::default().request_id("bad id"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field, .. } if field == "request_id"),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 0, "nothing may be sent for an invalid request");
    // The same client still sends valid requests (the server is live).
    client
        .chat(ChatRequest::user_prompt("x").temperature(2.0).top_p(1.0))
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 1);
}

// ---------------------------------------------------------- configuration

async fn bearer_seen(builder: maverick::ClientBuilder, server: &Loopback) -> String {
    let before = server.requests().len();
    builder
        .build()
        .unwrap()
        .chat(ChatRequest::user_prompt("x"))
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), before + 1);
    reqs[before].header("authorization").unwrap().to_string()
}

#[tokio::test]
async fn key_precedence_builder_then_aiml_api_key_then_aimlapi_api_key() {
    let server = Loopback::always(ok()).await;
    let base = || Client::builder().base_url(server.base_url.clone());
    let both = env(&[("AIML_API_KEY", "key-primary"), ("AIMLAPI_API_KEY", "key-secondary")]);
    assert_eq!(
        bearer_seen(base().environment(both), &server).await,
        "Bearer key-primary"
    );
    let second = env(&[("AIMLAPI_API_KEY", "key-secondary")]);
    assert_eq!(
        bearer_seen(base().environment(second), &server).await,
        "Bearer key-secondary"
    );
    let blank_first = env(&[("AIML_API_KEY", "  "), ("AIMLAPI_API_KEY", "key-secondary")]);
    assert_eq!(
        bearer_seen(base().environment(blank_first), &server).await,
        "Bearer key-secondary"
    );
    let both = env(&[("AIML_API_KEY", "key-primary"), ("AIMLAPI_API_KEY", "key-secondary")]);
    assert_eq!(
        bearer_seen(base().environment(both).api_key("key-builder"), &server).await,
        "Bearer key-builder"
    );
}

#[test]
fn missing_key_is_a_config_error_naming_both_variables() {
    let err = Client::builder().environment(|_| None).build().unwrap_err();
    match &err {
        Error::Config(msg) => assert!(msg.contains("AIML_API_KEY") && msg.contains("AIMLAPI_API_KEY"), "{msg}"),
        other => panic!("expected Error::Config, got {other:?}"),
    }
}

#[tokio::test]
async fn base_url_precedence_builder_then_aiml_api_base_then_aimlapi_api_base() {
    let (a, b, c) = (
        Loopback::always(ok()).await,
        Loopback::always(ok()).await,
        Loopback::always(ok()).await,
    );
    let (ua, ub) = (a.base_url.clone(), b.base_url.clone());
    let lookup = move |with_first: bool| {
        let (ua, ub) = (ua.clone(), ub.clone());
        move |name: &str| match name {
            "AIML_API_KEY" => Some(KEY.to_string()),
            "AIML_API_BASE" if with_first => Some(ua.clone()),
            "AIMLAPI_API_BASE" => Some(ub.clone()),
            _ => None,
        }
    };
    let call = |builder: maverick::ClientBuilder| async move {
        builder
            .build()
            .unwrap()
            .chat(ChatRequest::user_prompt("x"))
            .await
            .unwrap()
    };
    call(Client::builder().environment(lookup(true))).await;
    assert_eq!(
        (a.requests().len(), b.requests().len(), c.requests().len()),
        (1, 0, 0),
        "AIML_API_BASE wins"
    );
    call(Client::builder().environment(lookup(false))).await;
    assert_eq!(
        (a.requests().len(), b.requests().len(), c.requests().len()),
        (1, 1, 0),
        "AIMLAPI_API_BASE next"
    );
    call(Client::builder().environment(lookup(true)).base_url(c.base_url.clone())).await;
    assert_eq!(
        (a.requests().len(), b.requests().len(), c.requests().len()),
        (1, 1, 1),
        "the builder beats both"
    );
    let default = Client::builder()
        .environment(|n| (n == "AIML_API_KEY").then(|| KEY.to_string()))
        .build()
        .unwrap();
    assert_eq!(default.base_url(), "https://api.aimlapi.com/v1");
}

#[tokio::test]
async fn every_base_url_form_reaches_v1_chat_completions() {
    let server = Loopback::always(ok()).await;
    let root = server.base_url.clone();
    let forms = [
        root.clone(),
        format!("{root}/"),
        format!("{root}/v1"),
        format!("{root}/v1/"),
    ];
    for form in &forms {
        let client = Client::builder().api_key(KEY).base_url(form.clone()).build().unwrap();
        assert_eq!(client.base_url(), format!("{root}/v1"), "{form}");
        client.chat(ChatRequest::user_prompt("x")).await.unwrap();
    }
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, vec!["/v1/chat/completions"; forms.len()]);
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let err = Client::builder()
        .api_key(KEY)
        .base_url("http://example.com/v1")
        .build()
        .unwrap_err();
    assert!(matches!(&err, Error::Config(m) if m.contains("clear text")), "{err:?}");
    assert!(!shown(&err).contains(KEY));
    assert!(Client::builder()
        .api_key(KEY)
        .base_url("http://example.com/v1")
        .allow_insecure_http(true)
        .build()
        .is_ok());
    assert!(Client::builder()
        .api_key(KEY)
        .base_url("http://localhost:9/v1")
        .build()
        .is_ok());
    assert!(Client::builder()
        .api_key(KEY)
        .base_url("http://[::1]:9")
        .build()
        .is_ok());
    assert!(Client::builder()
        .api_key(KEY)
        .base_url("https://example.com")
        .build()
        .is_ok());
}

// ---------------------------------------------------------------- redaction

#[tokio::test]
async fn the_key_never_appears_in_debug_or_errors() {
    let server = Loopback::always(Reply::json(
        401,
        &json!({"error": {"message": "Invalid API key", "type": "authentication_error"}}),
    ))
    .await;
    let client = client_for(&server).build().unwrap();
    let debug = format!("{client:?}");
    assert!(debug.contains("Client") && !debug.contains(KEY), "{debug}");
    let builder_debug = format!("{:?}", client_for(&server));
    assert!(!builder_debug.contains(KEY), "{builder_debug}");

    let err = client.chat(ChatRequest::user_prompt("x")).await.unwrap_err();
    assert_eq!(err.api().map(|a| a.kind), Some(ApiErrorKind::Authentication), "{err:?}");
    assert!(!shown(&err).contains(KEY), "{}", shown(&err));
    // The key did travel: the check above is not vacuous.
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );

    // A transport error: a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = Client::builder()
        .api_key(KEY)
        .base_url(format!("http://127.0.0.1:{port}"))
        .max_retries(0)
        .build()
        .unwrap();
    let err = dead.chat(ChatRequest::user_prompt("x")).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(!shown(&err).contains(KEY), "{}", shown(&err));

    // A key with a bad character is refused without echoing it.
    let err = Client::builder()
        .api_key(format!("{KEY}\r\nX-Evil: 1"))
        .base_url(server.base_url.clone())
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(_)) && !shown(&err).contains(KEY),
        "{}",
        shown(&err)
    );
}

#[tokio::test]
async fn the_key_never_appears_in_trace_output() {
    let buf = trace_buffer();
    let server = Loopback::start(|_, i| match i {
        0 => Reply::json(503, &json!({"message": "busy", "statusCode": 503})),
        1 => ok(),
        _ => Reply::json(401, &json!({"error": {"message": "Invalid API key"}})),
    })
    .await;
    let client = client_for(&server).build().unwrap();
    let reply = client.chat(ChatRequest::user_prompt("trace me")).await.unwrap();
    let err = client.chat(ChatRequest::user_prompt("trace me")).await.unwrap_err();
    tracing::trace!(?client, ?err, "test: debug forms logged at TRACE");
    let text = buf.text();
    if std::env::var_os("MAVERICK_SHOW_TRACE").is_some() {
        println!("{text}");
    }
    // Not vacuous: the call's own span and the retry were logged.
    assert!(
        text.contains(&reply.meta.request_id),
        "the call was not traced:\n{text}"
    );
    assert!(text.contains("retrying"), "the retry was not traced:\n{text}");
    assert!(text.contains("TRACE"), "TRACE level is captured:\n{text}");
    assert!(
        text.contains("hyper_util::") || text.contains("reqwest::"),
        "the HTTP stack's own logging is captured:\n{text}"
    );
    assert!(!text.contains(KEY), "the key leaked into trace output:\n{text}");
    assert!(
        !text.contains("SECRET"),
        "part of the key leaked into trace output:\n{text}"
    );
}

// ------------------------------------------------------------------ retries

#[tokio::test]
async fn a_503_is_retried_with_the_same_request_id() {
    let server = Loopback::start(|_, i| {
        if i == 0 {
            Reply::json(503, &json!({"message": "overloaded", "statusCode": 503}))
        } else {
            ok()
        }
    })
    .await;
    let client = client_for(&server).build().unwrap();
    let reply = client.chat(ChatRequest::user_prompt("x")).await.unwrap();
    assert_eq!(reply.meta.attempts, 2);
    assert_eq!(reply.text(), Some("ok"));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let ids: Vec<Option<&str>> = reqs.iter().map(|r| r.header("x-client-request-id")).collect();
    assert_eq!(ids, vec![Some(reply.meta.request_id.as_str()); 2]);
    assert_eq!(reqs[0].body, reqs[1].body, "the retry resends the same body");
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let server = Loopback::always(Reply::json(400, &json!({"message": "bad", "statusCode": 400}))).await;
    let client = client_for(&server).build().unwrap();
    let err = client.chat(ChatRequest::user_prompt("x")).await.unwrap_err();
    assert_eq!(err.api().map(|a| (a.status, a.attempts)), Some((400, 1)), "{err:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn max_retries_zero_disables_retries() {
    let server = Loopback::always(Reply::json(503, &json!({"message": "overloaded", "statusCode": 503}))).await;
    let client = client_for(&server).build().unwrap();
    let err = client
        .chat_with(ChatRequest::user_prompt("x"), CallOptions::default().max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(err.api().map(|a| a.status), Some(503), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(server.requests().len(), 1);
    // Control: with the default the same server is asked three times (1 + 2 retries).
    let err = client.chat(ChatRequest::user_prompt("x")).await.unwrap_err();
    assert_eq!(err.api().map(|a| a.attempts), Some(3), "{err:?}");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn a_429_with_retry_after_waits_at_least_that_long() {
    let server = Loopback::start(|_, i| {
        if i == 0 {
            Reply::json(429, &json!({"message": "slow down", "statusCode": 429})).header("retry-after", "1")
        } else {
            ok()
        }
    })
    .await;
    let client = client_for(&server).build().unwrap();
    let started = Instant::now();
    let reply = client.chat(ChatRequest::user_prompt("x")).await.unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(1), "retried after {elapsed:?}");
    assert_eq!(reply.meta.attempts, 2);
    assert_eq!(server.requests().len(), 2);
}
