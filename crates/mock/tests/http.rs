//! The HTTP surface: auth, request validation, determinism, headers,
//! faults and request recording.

mod common;

use std::time::{Duration, Instant};

use common::{events, hello, http, post, post_with, url, KEY};
use maverick_mock::http::{header, HeaderValue, StatusCode};
use maverick_mock::{Cut, Fault, MockServer};
use serde_json::{json, Value};

fn provider_shape(text: &str, status: u16) -> Value {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("error body is not JSON ({e}): {text}"));
    for key in ["message", "path", "requestId", "statusCode", "timestamp"] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["statusCode"], status);
    assert_eq!(v["path"], "/v1/chat/completions");
    assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
    v
}

#[tokio::test]
async fn invalid_bodies_get_400_listing_every_violation_by_pointer() {
    let mock = MockServer::start().await.unwrap();
    let body = json!({"model": "m", "temperature": "hot", "messages": [{"role": "wizard", "content": "hi"}]});
    let (status, _, text) = post(&mock, &body).await;
    assert_eq!(status, 400);
    let v = provider_shape(&text, 400);
    let messages: Vec<&str> = v["message"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(messages.iter().any(|m| m.starts_with("/temperature: ")), "{messages:?}");
    assert!(messages.iter().any(|m| m.starts_with("/messages/0")), "{messages:?}");

    let (status, _, text) = post(&mock, &json!({"model": "m"})).await;
    assert_eq!(status, 400);
    assert!(text.contains("messages"), "{text}");

    let res = http()
        .post(url(&mock))
        .bearer_auth(KEY)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("not JSON"));
}

#[tokio::test]
async fn semantic_tool_errors_are_400_too() {
    let mock = MockServer::start().await.unwrap();
    let mut body = hello();
    body["tool_choice"] = json!({"type": "function", "function": {"name": "missing"}});
    let (status, _, text) = post(&mock, &body).await;
    assert_eq!(status, 400);
    assert!(text.contains("/tool_choice/function/name"), "{text}");
}

#[tokio::test]
async fn missing_or_wrong_keys_get_401_in_the_provider_shape() {
    let mock = MockServer::builder().api_key("right").start().await.unwrap();
    let (status, _, text) = post_with(&mock, &hello(), &[]).await;
    assert_eq!(status, 401);
    assert!(provider_shape(&text, 401)["message"]
        .as_str()
        .unwrap()
        .contains("Authorization"));
    let (status, _, text) = post_with(&mock, &hello(), &[("authorization", "Bearer wrong")]).await;
    assert_eq!(status, 401);
    assert!(!text.contains("right"), "the expected key never leaks: {text}");
    let (status, _, _) = post_with(&mock, &hello(), &[("authorization", "Bearer right")]).await;
    assert_eq!(status, 200);

    // Without a configured key any non-empty bearer key passes, and an empty one does not.
    let open = MockServer::start().await.unwrap();
    assert_eq!(
        post_with(&open, &hello(), &[("authorization", "Bearer anything")])
            .await
            .0,
        200
    );
    assert_eq!(post_with(&open, &hello(), &[("authorization", "Bearer ")]).await.0, 401);
    assert_eq!(
        post_with(&open, &hello(), &[("authorization", "Basic abc")]).await.0,
        401
    );

    assert!(matches!(
        MockServer::builder().api_key(" ").start().await,
        Err(maverick_mock::MockError::EmptyKey)
    ));
}

#[tokio::test]
async fn answers_are_deterministic_per_request_and_seed() {
    let a = MockServer::start().await.unwrap();
    let b = MockServer::start().await.unwrap();
    let strip = |t: &str| {
        let mut v: Value = serde_json::from_str(t).unwrap();
        v.as_object_mut().unwrap().remove("created");
        v
    };
    let first = strip(&post(&a, &hello()).await.2);
    assert_eq!(first, strip(&post(&a, &hello()).await.2));
    assert_eq!(
        first,
        strip(&post(&b, &hello()).await.2),
        "a fresh mock gives the same answer"
    );

    let seeded = MockServer::builder().seed(99).start().await.unwrap();
    assert_ne!(first["choices"], strip(&post(&seeded, &hello()).await.2)["choices"]);

    let mut other = hello();
    other["messages"][0]["content"] = json!("Something else");
    assert_ne!(first["choices"], strip(&post(&a, &other).await.2)["choices"]);
}

#[tokio::test]
async fn provider_headers_are_sent_and_the_request_id_echoed() {
    let mock = MockServer::start().await.unwrap();
    let (_, headers, text) = post_with(
        &mock,
        &hello(),
        &[("authorization", "Bearer k"), ("x-client-request-id", "abc-123")],
    )
    .await;
    assert_eq!(headers["x-client-request-id"], "abc-123");
    assert!(headers["x-inference-id"].to_str().unwrap().starts_with("inf-"));
    let v: Value = serde_json::from_str(&text).unwrap();
    let credits: f64 = headers["x-aimlapi-credits-used"].to_str().unwrap().parse().unwrap();
    assert_eq!(credits, v["usage"]["total_tokens"].as_f64().unwrap() * 2.0);
    let usd: f64 = headers["x-aimlapi-usd-spent"].to_str().unwrap().parse().unwrap();
    assert!(usd > 0.0);
}

#[tokio::test]
async fn streams_do_not_need_an_event_stream_accept_header() {
    let mock = MockServer::start().await.unwrap();
    let mut body = hello();
    body["stream"] = json!(true);
    let (status, headers, text) = post_with(
        &mock,
        &body,
        &[("authorization", "Bearer k"), ("accept", "application/json")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/event-stream");
    assert!(events(&text).1);
}

#[tokio::test]
async fn the_fault_header_injects_statuses_and_stream_trouble() {
    let mock = MockServer::start().await.unwrap();
    let (status, headers, text) = post_with(&mock, &hello(), &[("x-mock-fault", "429")]).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "1");
    provider_shape(&text, 429);
    assert_eq!(post_with(&mock, &hello(), &[("x-mock-fault", "500")]).await.0, 500);
    let (status, headers, _) = post_with(&mock, &hello(), &[("x-mock-fault", "503:3")]).await;
    assert_eq!((status, headers["retry-after"].to_str().unwrap()), (503, "3"));
    let (status, _, text) = post_with(&mock, &hello(), &[("x-mock-fault", "teapot")]).await;
    assert_eq!(status, 400);
    assert!(text.contains("cut-stream"), "{text}");

    let mut body = hello();
    body["stream"] = json!(true);
    let started = Instant::now();
    let (status, _, text) = post_with(
        &mock,
        &body,
        &[("authorization", "Bearer k"), ("x-mock-fault", "slow-stream:20")],
    )
    .await;
    assert_eq!(status, 200);
    let frames = events(&text).0.len() + 1;
    assert!(
        started.elapsed() >= Duration::from_millis(20 * frames as u64),
        "{:?} for {frames} frames",
        started.elapsed()
    );

    let res = http()
        .post(url(&mock))
        .bearer_auth("k")
        .header("x-mock-fault", "cut-stream")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the cut comes after the headers");
    assert!(res.text().await.is_err(), "the body must end in a broken connection");
}

#[tokio::test]
async fn a_once_fault_lets_the_retry_through() {
    let mock = MockServer::start().await.unwrap();
    let auth = ("authorization", "Bearer k");
    let fault = [auth, ("x-mock-fault", "429;once=tok-1")];
    assert_eq!(post_with(&mock, &hello(), &fault).await.0, 429);
    assert_eq!(
        post_with(&mock, &hello(), &fault).await.0,
        200,
        "the same token passes the second time"
    );
    let other = [auth, ("x-mock-fault", "503;once=tok-2")];
    assert_eq!(
        post_with(&mock, &hello(), &other).await.0,
        503,
        "tokens are independent"
    );
}

#[tokio::test]
async fn scripted_faults_are_used_once_each_in_order() {
    let mock = MockServer::start().await.unwrap();
    mock.script(Fault::rate_limited(2));
    mock.script(
        Fault::status(StatusCode::BAD_GATEWAY)
            .header(
                header::HeaderName::from_static("x-extra"),
                HeaderValue::from_static("yes"),
            )
            .body("upstream down"),
    );
    mock.script(Fault::delayed(Duration::from_millis(150)));
    assert_eq!(mock.pending_faults(), 3);

    // Scripted faults win over auth: they model the gateway in front.
    let (status, headers, _) = post_with(&mock, &hello(), &[]).await;
    assert_eq!((status, headers["retry-after"].to_str().unwrap()), (429, "2"));
    let (status, headers, text) = post(&mock, &hello()).await;
    assert_eq!(
        (status, headers["x-extra"].to_str().unwrap(), text.as_str()),
        (502, "yes", "upstream down")
    );
    let started = Instant::now();
    assert_eq!(post(&mock, &hello()).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(mock.pending_faults(), 0);
    assert_eq!(post(&mock, &hello()).await.0, 200);
}

#[tokio::test]
async fn scripted_cuts_drop_the_connection_where_asked() {
    let mock = MockServer::start().await.unwrap();
    let mut body = hello();
    body["stream"] = json!(true);

    mock.script(Fault::cut(Cut::AfterChunks(3)));
    let mut res = http()
        .post(url(&mock))
        .bearer_auth("k")
        .json(&body)
        .send()
        .await
        .unwrap();
    let mut received = Vec::new();
    let outcome = loop {
        match res.chunk().await {
            Ok(Some(bytes)) => received.extend_from_slice(&bytes),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    assert!(outcome.is_err(), "the stream must break, not end");
    let text = String::from_utf8(received).unwrap();
    assert_eq!(text.matches("data: ").count(), 3, "{text}");

    mock.script(Fault::cut(Cut::AfterBytes(10)));
    let res = http()
        .post(url(&mock))
        .bearer_auth("k")
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert!(res.text().await.is_err());
}

#[tokio::test]
async fn received_requests_are_recorded() {
    let mock = MockServer::start().await.unwrap();
    post_with(
        &mock,
        &hello(),
        &[("authorization", "Bearer k"), ("x-client-request-id", "r1")],
    )
    .await;
    http()
        .post(format!("http://{}/chat/completions", mock.addr()))
        .bearer_auth("k")
        .json(&hello())
        .send()
        .await
        .unwrap();
    let seen = mock.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].path, "/v1/chat/completions");
    assert_eq!(seen[1].path, "/chat/completions", "the unversioned path is served too");
    assert_eq!(seen[0].header("x-client-request-id"), Some("r1"));
    assert_eq!(seen[0].json().unwrap(), hello());
}

#[tokio::test]
async fn unknown_paths_get_404_in_the_provider_shape() {
    let mock = MockServer::start().await.unwrap();
    let res = http()
        .post(format!("{}/completions", mock.base_url()))
        .bearer_auth("k")
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let text = res.text().await.unwrap();
    assert!(text.contains("POST /v1/chat/completions"), "{text}");
}

#[tokio::test]
async fn absurd_sizes_are_bounded() {
    let mock = MockServer::start().await.unwrap();
    let auth = [("authorization", "Bearer k")];
    let mut body = hello();
    body["n"] = json!(1_000_000_000_000u64);
    let (status, _, text) = post_with(&mock, &body, &auth).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("/n") && text.contains("at most 128"), "{text}");

    let mut body = hello();
    body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "big", "schema":
        {"type": "object", "required": ["xs", "s"], "properties": {
            "xs": {"type": "array", "minItems": 1_000_000_000_000u64, "items": {"type": "integer"}},
            "s": {"type": "string", "minLength": 1_000_000_000_000u64}}}}});
    let started = Instant::now();
    let (status, _, text) = post_with(&mock, &body, &auth).await;
    assert_eq!(status, 200);
    assert!(text.len() < 1_000_000, "{} bytes", text.len());
    assert!(started.elapsed() < Duration::from_secs(5));
}
