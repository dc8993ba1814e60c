//! Client cost, measured from outside: `Client::chat` and `Client::chat_stream`
//! against a bare reqwest call posting the same generated types, on loopback.
//!
//! Method (see `../shared/perf-notes.md`): the server runs in its own process
//! pinned to CPU 0 (`taskset -c 0`, spawned by this bench), the client on the
//! CPU this bench runs on with a single tokio worker, so the server's cost
//! cannot hide the client's. Rows are interleaved in rounds; each round's
//! ratio is taken within the round, and the median of those ratios reported.
//!
//! ```sh
//! cargo bench --bench request_throughput --no-run
//! taskset -c 1 cargo bench --bench request_throughput
//! ```
//! Without `taskset` on the machine the server is not pinned (a note says
//! so) and the figures mean less.
//!
//! Instructions per call, repeatably (callgrind counts instructions, not
//! time, so load on the machine does not matter): `MAVERICK_BENCH_COUNT=
//! ROW,CALLS,CONCURRENCY` runs only that row (`bare` or `maverick`) on a
//! current-thread runtime, and exits; valgrind does not follow the server
//! process, so only the client is counted. The
//! difference between a 1,500-call and a 500-call run, divided by 1,000, is
//! the cost of one call with start-up cancelled out:
//! ```sh
//! B=$(ls target/release/deps/request_throughput-* | grep -v '\.d$')
//! MAVERICK_BENCH_COUNT=maverick,1500,32 valgrind --tool=callgrind --callgrind-out-file=/dev/null $B
//! ```
//! The same runs under `valgrind --tool=cachegrind --cache-sim=yes` count
//! first-level cache misses, which is where the wall-clock gap at c=32 hid
//! while instruction counts were equal (README, Benchmarks).

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::BufRead;
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use maverick::types::{ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse};
use maverick::{ChatRequest, Client};
use support::{Loopback, Reply};

const CALLS: usize = 20_000;
const STREAMS: usize = 1_000;
/// Rounds per scenario; `MAVERICK_BENCH_ROUNDS` for more where the
/// machine is noisy (a median needs more rounds to settle).
fn rounds() -> usize {
    std::env::var("MAVERICK_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5)
}

fn completion() -> serde_json::Value {
    serde_json::json!({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1_700_000_000, "model": "meta-llama/llama-4-maverick",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "The quick brown fox jumps over the lazy dog. ".repeat(8)}}],
        "usage": {"prompt_tokens": 24, "completion_tokens": 80, "total_tokens": 104}
    })
}

/// 200 content chunks, a usage chunk and `[DONE]`.
fn stream_body() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..200 {
        let chunk = serde_json::json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "meta-llama/llama-4-maverick",
            "choices": [{"index": 0, "delta": {"content": format!("token {i} of the answer, padded to a realistic size ....")}, "finish_reason": null}]});
        out.extend_from_slice(format!("data: {chunk}\n\n").as_bytes());
    }
    let usage = serde_json::json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "meta-llama/llama-4-maverick",
        "choices": [], "usage": {"prompt_tokens": 24, "completion_tokens": 200, "total_tokens": 224}});
    out.extend_from_slice(format!("data: {usage}\n\ndata: [DONE]\n\n").as_bytes());
    out
}

/// The server process: one thread, answers until killed.
fn serve() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let json = Reply::json(200, &completion());
        let sse = Reply::bytes(200, "text/event-stream", stream_body());
        let server = Loopback::start_unrecorded(move |req, _| {
            if req.body.windows(13).any(|w| w == b"\"stream\":true") {
                sse.clone()
            } else {
                json.clone()
            }
        })
        .await;
        println!("{}", server.base_url);
        std::future::pending::<()>().await;
    });
}

/// Starts the server process on CPU 0 and returns it with its base URL.
fn spawn_server() -> (std::process::Child, String) {
    let me = std::env::current_exe().unwrap();
    let pinned = std::process::Command::new("taskset").arg("-V").output().is_ok();
    let mut cmd = if pinned {
        let mut c = std::process::Command::new("taskset");
        c.arg("-c").arg("0").arg(&me);
        c
    } else {
        eprintln!("note: taskset is not installed; the server is not pinned to its own core");
        std::process::Command::new(&me)
    };
    let mut child = cmd
        .env("MAVERICK_BENCH_SERVER", "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_string())
}

async fn rate<F, Fut>(calls: usize, concurrency: usize, call: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let started = Instant::now();
    let per_worker = calls / concurrency;
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

/// Runs two rows one after the other, the bare row first in even rounds
/// and second in odd ones, so that drift within a round (a server warming
/// up or slowing down) favours neither.
async fn in_turn(
    round: usize,
    bare: impl std::future::Future<Output = f64>,
    ours: impl std::future::Future<Output = f64>,
) -> (f64, f64) {
    if round.is_multiple_of(2) {
        let b = bare.await;
        (b, ours.await)
    } else {
        let o = ours.await;
        (bare.await, o)
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The baseline: reqwest posting the generated request and decoding the
/// generated response, nothing else.
async fn bare_call(client: reqwest::Client, url: String, wire: Arc<ChatCompletionRequest>) {
    let resp = client
        .post(url)
        .bearer_auth("sk-bench")
        .json(&*wire)
        .send()
        .await
        .unwrap();
    let bytes = resp.bytes().await.unwrap();
    let parsed: ChatCompletionResponse = serde_json::from_slice(&bytes).unwrap();
    std::hint::black_box(parsed);
}

/// One row, `calls` calls at `concurrency`, for callgrind. The server is
/// the usual child process, which valgrind does not follow: only the
/// client's instructions are counted.
fn count(spec: &str) {
    let mut parts = spec.split(',');
    let row = parts.next().unwrap_or("maverick").to_string();
    let calls: usize = parts.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let concurrency: usize = parts.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    // The pinned bench's runtime (one worker) with MAVERICK_BENCH_RT=multi.
    let rt = match std::env::var("MAVERICK_BENCH_RT").as_deref() {
        Ok("multi") => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_current_thread().enable_all().build(),
    }
    .unwrap();
    let (mut server, base) = spawn_server();
    rt.block_on(async {
        let body = ChatRequest::user_prompt("Say something.")
            .system("Be brief.")
            .max_tokens(80)
            .model("meta-llama/llama-4-maverick");
        if row == "bare" {
            maverick::install_tls_provider();
            let bare = reqwest::Client::builder().build().unwrap();
            let url = format!("{base}/v1/chat/completions");
            let wire = Arc::new(body.wire().expect("the request builds").clone());
            rate(calls, concurrency, move || {
                let (b, u, w) = (bare.clone(), url.clone(), wire.clone());
                bare_call(b, u, w)
            })
            .await;
        } else {
            let client = Client::builder().api_key("sk-bench").base_url(base).build().unwrap();
            rate(calls, concurrency, move || {
                let (c, r) = (client.clone(), body.clone());
                async move {
                    std::hint::black_box(c.chat(r).await.unwrap());
                }
            })
            .await;
        }
    });
    let _ = server.kill();
}

fn main() {
    if std::env::var_os("MAVERICK_BENCH_SERVER").is_some() {
        return serve();
    }
    if let Ok(spec) = std::env::var("MAVERICK_BENCH_COUNT") {
        return count(&spec);
    }
    let (mut server, base) = spawn_server();
    // One worker: the client's whole cost lands on the bench's own CPU.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = Client::builder().api_key("sk-bench").base_url(base.clone()).build().unwrap();
        let bare = reqwest::Client::builder().build().unwrap();
        let url = format!("{base}/v1/chat/completions");
        let body = ChatRequest::user_prompt("Say something.")
            .system("Be brief.")
            .max_tokens(80)
            .model("meta-llama/llama-4-maverick");
        // The baseline is a typed call too: it serialises the same typed request each time.
        let wire = Arc::new(body.wire().expect("the request builds").clone());
        let mut stream_wire = (*wire).clone();
        stream_wire.stream = true;
        let stream_wire = Arc::new(stream_wire);

        // MAVERICK_BENCH_SAME=1 runs the bare row against itself instead of
        // maverick: the ratios then show how far this machine's noise alone
        // moves a median.
        let same_twice = std::env::var_os("MAVERICK_BENCH_SAME").is_some();
        for concurrency in [1usize, 32] {
            let mut ratios = Vec::new();
            let (mut bares, mut ours) = (Vec::new(), Vec::new());
            for round in 0..rounds() {
                let (b, u, w) = (bare.clone(), url.clone(), wire.clone());
                let bare_row = rate(CALLS, concurrency, move || {
                    let (b, u, w) = (b.clone(), u.clone(), w.clone());
                    bare_call(b, u, w)
                });
                let (c, r) = (client.clone(), body.clone());
                let our_row = rate(CALLS, concurrency, move || {
                    let (c, r) = (c.clone(), r.clone());
                    async move {
                        std::hint::black_box(c.chat(r).await.unwrap());
                    }
                });
                let (bare_rate, our_rate) = if same_twice {
                    // The noise floor: the bare row against itself.
                    let (b, u, w) = (bare.clone(), url.clone(), wire.clone());
                    let again = rate(CALLS, concurrency, move || {
                        let (b, u, w) = (b.clone(), u.clone(), w.clone());
                        bare_call(b, u, w)
                    });
                    in_turn(round, bare_row, again).await
                } else {
                    in_turn(round, bare_row, our_row).await
                };
                ratios.push(our_rate / bare_rate);
                bares.push(bare_rate);
                ours.push(our_rate);
            }
            println!(
                "chat, concurrency {concurrency:>2}: bare {:>7.0} req/s, maverick {:>7.0} req/s, median ratio {:.3} (rounds: {})",
                median(bares),
                median(ours),
                median(ratios.clone()),
                ratios.iter().map(|r| format!("{r:.3}")).collect::<Vec<_>>().join(" ")
            );
        }

        let mut ratios = Vec::new();
        for round in 0..rounds() {
            let (b, u, w) = (bare.clone(), url.clone(), stream_wire.clone());
            let bare_row = rate(STREAMS, 1, move || {
                let (b, u, w) = (b.clone(), u.clone(), w.clone());
                async move {
                    let resp = b.post(u).bearer_auth("sk-bench").json(&*w).send().await.unwrap();
                    let bytes = resp.bytes().await.unwrap();
                    let mut n = 0;
                    for event in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                        let data = event.strip_prefix(b"data: ").unwrap_or(event);
                        if data == b"[DONE]" {
                            break;
                        }
                        let chunk: ChatCompletionChunk = serde_json::from_slice(data).unwrap();
                        n += std::hint::black_box(chunk).choices.map_or(0, |c| c.len());
                    }
                    std::hint::black_box(n);
                }
            });
            let (c, r) = (client.clone(), body.clone());
            let our_row = rate(STREAMS, 1, move || {
                let (c, r) = (c.clone(), r.clone());
                async move {
                    let mut stream = c.chat_stream(r).await.unwrap();
                    let mut n = 0;
                    while let Some(chunk) = stream.next().await {
                        n += std::hint::black_box(chunk.unwrap()).choices.as_ref().map_or(0, |c| c.len());
                    }
                    std::hint::black_box(n);
                }
            });
            let (bare_rate, our_rate) = in_turn(round, bare_row, our_row).await;
            ratios.push(our_rate / bare_rate);
        }
        println!(
            "streams end to end (202 events each): median ratio {:.3} (rounds: {})",
            median(ratios.clone()),
            ratios.iter().map(|r| format!("{r:.3}")).collect::<Vec<_>>().join(" ")
        );
    });
    let _ = server.kill();
}
