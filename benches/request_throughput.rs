//! Request throughput of `Client::chat` against a bare reqwest + serde typed
//! call, on loopback, at concurrency 1 and 32. Target: ≥ 0.95× the bare call.
//! Run with `cargo bench --bench request_throughput`; it prints both rates
//! and the ratio (best of several interleaved rounds, to damp noise).

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use maverick::{types::ChatCompletionResponse, ChatRequest, Client};
use support::{Loopback, Reply};

const REQUESTS: usize = 4000;
const ROUNDS: usize = 5;

fn completion() -> serde_json::Value {
    serde_json::json!({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1_700_000_000, "model": "meta-llama/llama-4-maverick",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "The quick brown fox jumps over the lazy dog. ".repeat(8)}}],
        "usage": {"prompt_tokens": 24, "completion_tokens": 80, "total_tokens": 104}
    })
}

async fn run<F, Fut>(concurrency: usize, call: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let started = Instant::now();
    let per_worker = REQUESTS / concurrency;
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let call = call.clone();
        workers.push(tokio::spawn(async move {
            for _ in 0..per_worker {
                call().await;
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    (per_worker * concurrency) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = Loopback::always(Reply::json(200, &completion())).await;
        let client = Client::builder().api_key("sk-bench").base_url(server.base_url.clone()).build().unwrap();
        let bare = reqwest::Client::builder().build().unwrap();
        let url = format!("{}/v1/chat/completions", server.base_url);
        let body = ChatRequest::user_prompt("Say something.").max_tokens(80).model("meta-llama/llama-4-maverick");
        // The baseline is a typed call too: it serialises the same typed request each time.
        let wire = Arc::new(body.wire().expect("the request builds").clone());

        for concurrency in [1usize, 32] {
            let (mut best_bare, mut best_ours) = (0f64, 0f64);
            for _ in 0..ROUNDS {
                let (b, u, w) = (bare.clone(), url.clone(), wire.clone());
                let rate = run(concurrency, move || {
                    let (b, u, w) = (b.clone(), u.clone(), w.clone());
                    async move {
                        let resp = b
                            .post(u)
                            .header("authorization", "Bearer sk-bench")
                            .json(&(*w).clone())
                            .send()
                            .await
                            .unwrap();
                        let bytes = resp.bytes().await.unwrap();
                        let parsed: ChatCompletionResponse = serde_json::from_slice(&bytes).unwrap();
                        std::hint::black_box(parsed);
                    }
                })
                .await;
                best_bare = best_bare.max(rate);
                let (c, r) = (client.clone(), body.clone());
                let rate = run(concurrency, move || {
                    let (c, r) = (c.clone(), r.clone());
                    async move {
                        std::hint::black_box(c.chat(r).await.unwrap());
                    }
                })
                .await;
                best_ours = best_ours.max(rate);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            println!(
                "concurrency {concurrency:>2}: bare reqwest+serde {best_bare:>8.0} req/s, maverick {best_ours:>8.0} req/s, ratio {:.3}",
                best_ours / best_bare
            );
        }
    });
}
