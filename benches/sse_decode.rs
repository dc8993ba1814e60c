//! SSE decode throughput: this crate's decoder plus typed decode, against a
//! bare baseline (split on "\n\n", strip "data: ", `serde_json::from_slice`
//! into the same chunk type). The target is a ratio of at least 0.90.
//!
//! Run with `cargo bench --bench sse_decode`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use maverick::__fuzz::SseDecoder;
use maverick::types::ChatCompletionChunk;

const CHUNKS: usize = 100_000;
/// Network reads arrive in pieces; 16 KiB is a typical socket read.
const PIECE: usize = 16 * 1024;
const ROUNDS: usize = 15;

fn synthetic_stream() -> Vec<u8> {
    let mut out = Vec::with_capacity(CHUNKS * 300);
    for i in 0..CHUNKS {
        let line = format!(
            r#"data: {{"id":"chatcmpl-nM4VQeIG3hdoB0VM1NbJjRexfioQbv17","object":"chat.completion.chunk","created":1795693450,"model":"meta-llama/llama-4-maverick","system_fingerprint":"b1-0c1e570","choices":[{{"index":0,"delta":{{"content":"tok{i} "}},"finish_reason":null}}]}}"#
        );
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\n\n");
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

fn decoder(input: &[u8]) -> usize {
    let mut d = SseDecoder::default();
    let mut n = 0;
    for piece in input.chunks(PIECE) {
        d.feed(piece);
        while let Some(ev) = d.next_event().expect("valid stream") {
            if ev.data == b"[DONE]" {
                break;
            }
            let chunk: ChatCompletionChunk = serde_json::from_slice(ev.data).expect("valid chunk");
            n += black_box(chunk).choices.map_or(0, |c| c.len());
        }
    }
    d.finish().expect("complete stream");
    n
}

fn baseline(input: &[u8]) -> usize {
    let mut n = 0;
    let mut start = 0;
    for end in memchr::memmem::find_iter(input, b"\n\n") {
        let event = &input[start..end];
        start = end + 2;
        let data = event.strip_prefix(b"data: ").expect("data line");
        if data == b"[DONE]" {
            break;
        }
        let chunk: ChatCompletionChunk = serde_json::from_slice(data).expect("valid chunk");
        n += black_box(chunk).choices.map_or(0, |c| c.len());
    }
    n
}

/// Best time of each path over `ROUNDS` rounds, the two paths alternating
/// within each round so that load from other processes hits both alike.
fn best_of_both(input: &[u8]) -> (Duration, Duration) {
    let time = |f: fn(&[u8]) -> usize| {
        let t = Instant::now();
        assert_eq!(f(black_box(input)), CHUNKS);
        t.elapsed()
    };
    let (mut base, mut ours) = (Duration::MAX, Duration::MAX);
    for _ in 0..ROUNDS {
        base = base.min(time(baseline));
        ours = ours.min(time(decoder));
    }
    (base, ours)
}

fn main() {
    let input = synthetic_stream();
    let mb = input.len() as f64 / 1e6;
    // Warm up both paths, then alternate so neither gets a cache advantage.
    decoder(&input);
    baseline(&input);
    let (base, ours) = best_of_both(&input);
    let (base_mbs, ours_mbs) = (mb / base.as_secs_f64(), mb / ours.as_secs_f64());
    println!("input: {CHUNKS} chunks, {mb:.1} MB, best of {ROUNDS}");
    println!("baseline (split + from_slice):   {base_mbs:8.1} MB/s");
    println!("maverick SseDecoder + from_slice: {ours_mbs:8.1} MB/s");
    println!("ratio: {:.3} (target >= 0.90)", ours_mbs / base_mbs);
}
