//! `Client::batch` against the contract mock: every request answered once,
//! streaming ones collected, the pace shared by the whole batch (a 429 on
//! one call holds back the others), `rpm` and `tpm` held, and `stop`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use maverick::{ChatRequest, Client};
use maverick_mock::{Fault, MockServer};

fn client(mock: &MockServer) -> Client {
    Client::builder()
        .api_key("test")
        .base_url(mock.base_url())
        .build()
        .unwrap()
}

fn requests(n: usize) -> impl futures_util::Stream<Item = (String, ChatRequest)> + Send + 'static {
    futures_util::stream::iter((0..n).map(|i| {
        let request = ChatRequest::from_json(serde_json::json!({
            "messages": [{"role": "user", "content": format!("Question {i}")}],
            "max_tokens": 4,
            "stream": i % 2 == 0,
        }))
        .unwrap();
        (format!("q{i}"), request)
    }))
}

/// Runs the batch, recording when each answer arrived.
async fn collect(
    stream: maverick::BatchStream,
) -> Vec<(String, Duration, Result<maverick::ChatResponse, maverick::Error>)> {
    let started = Instant::now();
    stream
        .map(|(id, result)| (id, started.elapsed(), result))
        .collect()
        .await
}

#[tokio::test]
async fn every_request_is_answered_once_streams_collected() {
    let mock = MockServer::start().await.unwrap();
    let answers = collect(client(&mock).batch(requests(20)).concurrency(5).run()).await;
    let ids: HashSet<&str> = answers.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!((answers.len(), ids.len()), (20, 20));
    for (id, _, result) in &answers {
        let reply = result.as_ref().unwrap();
        let i = id.trim_start_matches('q');
        assert!(
            reply.text().unwrap().starts_with(&format!("You said: Question {i}")),
            "{id}"
        );
        assert!(reply.usage().is_some(), "{id}: usage is asked for, streamed or not");
    }
    let streamed = mock
        .requests()
        .iter()
        .filter(|r| r.json().unwrap()["stream"] == true)
        .count();
    assert_eq!(streamed, 10);
}

#[tokio::test]
async fn a_429_on_one_call_holds_back_the_whole_batch() {
    let mock = MockServer::start().await.unwrap();
    // The first request is told to wait a second; the seven sent with it
    // answer after 500 ms, long after the 429 came back.
    mock.script(Fault::rate_limited(1));
    for _ in 0..7 {
        mock.script(Fault::delayed(Duration::from_millis(500)));
    }
    let stream = client(&mock).batch(requests(16)).concurrency(8).run();
    let control = stream.control();
    let answers = collect(stream).await;
    assert!(answers.iter().all(|(_, _, r)| r.is_ok()));
    // Only the calls already in flight may finish before the pause ends;
    // a per-worker pause would let the other workers' 8 through as well.
    let early = answers
        .iter()
        .filter(|(_, at, _)| *at < Duration::from_millis(950))
        .count();
    assert!(early <= 7, "{early} answers came during the pause");
    let stats = control.stats();
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(stats.retries, 1);
    assert_eq!(stats.attempts, 17);
    let retried = answers.iter().find(|(_, _, r)| r.as_ref().unwrap().meta.attempts == 2);
    assert!(retried.is_some(), "the attempt count covers the batch's retries");
}

#[tokio::test]
async fn rpm_holds_in_every_window_from_the_start() {
    let mock = MockServer::start().await.unwrap();
    // 600 a minute: one start every 100 ms, whatever the concurrency.
    let answers = collect(client(&mock).batch(requests(12)).concurrency(12).rpm(600).run()).await;
    let mut times: Vec<Duration> = answers.iter().map(|(_, at, _)| *at).collect();
    times.sort();
    for (k, at) in times.iter().enumerate() {
        // The k-th answer needs the k-th start, at k × 100 ms at the earliest.
        let earliest = Duration::from_millis(100 * k as u64);
        assert!(*at + Duration::from_millis(5) >= earliest, "answer {k} at {at:?}");
    }
}

#[tokio::test]
async fn tpm_books_estimates_and_holds_the_token_rate() {
    let mock = MockServer::start().await.unwrap();
    // Each request is booked at about 10 prompt + 4 completion tokens; 960
    // a minute is 16 a second, so the fourth may start only after the
    // first three's 40-odd tokens: over 2.5 s.
    let answers = collect(client(&mock).batch(requests(4)).concurrency(4).tpm(960).run()).await;
    let last = answers.iter().map(|(_, at, _)| *at).max().unwrap();
    assert!(last >= Duration::from_millis(1500), "{last:?}");
    assert!(answers.iter().all(|(_, _, r)| r.is_ok()));
}

#[tokio::test]
async fn stop_lets_calls_in_flight_finish_and_starts_no_more() {
    let mock = MockServer::start().await.unwrap();
    for _ in 0..4 {
        mock.script(Fault::delayed(Duration::from_millis(300)));
    }
    let mut stream = client(&mock).batch(requests(100)).concurrency(4).run();
    let control = stream.control();
    let first = stream.next().await.unwrap();
    assert!(first.1.is_ok());
    control.stop();
    let rest: Vec<_> = stream.collect().await;
    // The other three in flight finish; nothing new was sent.
    assert_eq!(rest.len(), 3);
    assert!(rest.iter().all(|(_, r)| r.is_ok()));
    assert_eq!(mock.requests().len(), 1 + rest.len());
}

#[tokio::test]
async fn the_hosts_x_should_retry_verdict_counts_in_a_batch() {
    use http::{HeaderName, HeaderValue, StatusCode};
    let verdict = |v: &'static str| (HeaderName::from_static("x-should-retry"), HeaderValue::from_static(v));
    let mock = MockServer::start().await.unwrap();
    // A 400 the host says to retry: retried, then answered.
    let (name, value) = verdict("true");
    mock.script(Fault::status(StatusCode::BAD_REQUEST).header(name, value));
    let answers = collect(client(&mock).batch(requests(1)).run()).await;
    let reply = answers[0].2.as_ref().expect("retried on the host's word");
    assert_eq!(reply.meta.attempts, 2);

    // A 503 the host says not to retry: one attempt, and the error says so.
    let (name, value) = verdict("false");
    mock.script(Fault::status(StatusCode::SERVICE_UNAVAILABLE).header(name, value));
    let before = mock.requests().len();
    let answers = collect(client(&mock).batch(requests(1)).run()).await;
    let err = answers[0].2.as_ref().unwrap_err();
    assert_eq!(err.api().and_then(|a| a.should_retry), Some(false));
    assert!(!err.is_retryable());
    assert_eq!(mock.requests().len() - before, 1);
}
