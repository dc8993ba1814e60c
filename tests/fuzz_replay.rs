//! Stable replay of the fuzz targets: the same checks (`fuzz/checks/`) on
//! the same inputs cargo-fuzz starts from (seeds built from the transcripts
//! in `../shared/fixtures/transcripts/` plus spec-shaped ones), on
//! deterministic mutations of them, and on whatever `fuzz/corpus/` and
//! `fuzz/artifacts/` hold (so a crash cargo-fuzz saved fails here too).
//!
//! `FUZZ_SEED_DIR=fuzz/corpus cargo test --test fuzz_replay write_seeds`
//! writes the seeds for `.ci/fuzz`.

mod support;

use std::path::{Path, PathBuf};

#[path = "../fuzz/checks/sse.rs"]
mod sse_check;

#[path = "../fuzz/checks/decode.rs"]
mod decode_check;

const COMPLETION: &[u8] = br#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":"hi","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#;
const CHUNKS: &[&[u8]] = &[
    br#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}"#,
    br#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]},"finish_reason":null}]}"#,
    br#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":9223372036854775807,"delta":{"tool_calls":[{"index":-9223372036854775808,"function":{"arguments":"1}"}}]},"finish_reason":"tool_calls"}]}"#,
    br#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#,
];
const ODD_STREAMS: &[&[u8]] = &[
    b"\xEF\xBB\xBF: hi\r\nevent: e\r\ndata: x\r\n\r\ndata: [DONE]",
    b"data: a\r\rdata: b\r\n\n\r",
    b"data: [DONE]\n\ndata: {}\n\n",
    b"data:\0\n\n\0\0data: \xff\n\n",
    b"event: error\ndata: {\"error\":{\"message\":\"x\"}}\n\n",
    b"retry: 99999999999999999999999\nid: \0\n\n",
];

/// Seeds per target, named for the corpus directory.
fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut json: Vec<(String, Vec<u8>)> = vec![("spec-completion".into(), COMPLETION.to_vec())];
    let mut streams: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, c) in CHUNKS.iter().enumerate() {
        json.push((format!("spec-chunk-{i}"), c.to_vec()));
    }
    let mut spec_stream = Vec::new();
    for c in CHUNKS {
        spec_stream.extend_from_slice(b"data: ");
        spec_stream.extend_from_slice(c);
        spec_stream.extend_from_slice(b"\n\n");
    }
    spec_stream.extend_from_slice(b"data: [DONE]\n\n");
    streams.push(("spec-stream".into(), spec_stream));
    for (i, s) in ODD_STREAMS.iter().enumerate() {
        streams.push((format!("odd-stream-{i}"), s.to_vec()));
    }
    if let Some(dir) = support::shared_dir("transcript seeds for the fuzz replay (spec-shaped seeds only)") {
        let dir = dir.join("fixtures/transcripts");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let raw = std::fs::read(dir.join(&name)).unwrap();
            let body = if name.ends_with(".http") {
                let end = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
                let end = end.or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2));
                raw[end.unwrap()..].to_vec()
            } else if name.ends_with(".body") {
                raw
            } else {
                continue;
            };
            if body.starts_with(b"data:") {
                for (i, line) in body.split(|b| *b == b'\n').enumerate() {
                    if let Some(chunk) = line.strip_prefix(b"data: ").filter(|c| c.starts_with(b"{")) {
                        json.push((format!("{name}-chunk-{i}"), chunk.to_vec()));
                    }
                }
                streams.push((name, body));
            } else {
                json.push((name, body));
            }
        }
    }
    let mut out = Vec::new();
    for (name, body) in &streams {
        // The SSE target's first byte picks the cuts.
        for cut in [0u8, 3, 6] {
            let mut input = vec![cut];
            input.extend_from_slice(body);
            out.push(("sse", format!("{name}-cut{cut}"), input));
        }
        out.push(("decode", name.clone(), body.clone()));
    }
    for (name, body) in json {
        out.push(("decode", name, body));
    }
    out
}

/// Deterministic mutations (xorshift), so a failure reproduces.
fn mutations(input: &[u8], count: usize, mut state: u64) -> Vec<Vec<u8>> {
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let mut m = input.to_vec();
        for _ in 0..(next() % 4 + 1) {
            let len = m.len();
            let at = if len == 0 { 0 } else { (next() as usize) % len };
            match next() % 6 {
                0 => m.truncate(at),
                1 if len > 0 => m[at] ^= (next() % 255 + 1) as u8,
                2 => {
                    let pick: &[u8] = match next() % 8 {
                        0 => b"\n\n",
                        1 => b"\r",
                        2 => b"\0",
                        3 => b"data: [DONE]\n\n",
                        4 => b"18446744073709551616",
                        5 => b"\xff\xfe",
                        6 => b"[[[[[[[[",
                        _ => b"\"",
                    };
                    m.splice(at..at, pick.iter().copied());
                }
                3 if len > 0 => {
                    m.remove(at);
                }
                4 => {
                    let end = (at + (next() as usize % 64)).min(len);
                    let piece = m[at..end].to_vec();
                    m.splice(end..end, piece);
                }
                _ => {}
            }
        }
        out.push(m);
    }
    out
}

fn check(target: &str, input: &[u8]) {
    match target {
        "sse" => sse_check::check(input),
        "decode" => decode_check::check(input),
        other => panic!("no target {other}"),
    }
}

/// Files saved by cargo-fuzz for `target` (corpus and crashes), if any.
fn saved(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "artifacts"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) {
            files.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    files.sort();
    files
}

#[test]
fn seeds_and_their_mutations_pass_both_checks() {
    let seeds = seeds();
    let mut runs = 0;
    for (i, (target, name, input)) in seeds.iter().enumerate() {
        check(target, input);
        for m in mutations(input, 200, 0x9E37_79B9_7F4A_7C15 ^ i as u64) {
            let outcome = std::panic::catch_unwind(|| check(target, &m));
            assert!(outcome.is_ok(), "target {target}, seed {name}: the input {m:?} fails");
            runs += 1;
        }
    }
    println!("fuzz replay: {} seeds, {runs} mutations", seeds.len());
}

#[test]
fn saved_corpus_and_crashes_pass_both_checks() {
    for target in ["sse", "decode"] {
        let files = saved(target);
        if files.is_empty() {
            println!("no saved corpus for {target} (run .ci/fuzz to make one)");
        }
        for path in files {
            let input = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(target, &input));
            assert!(outcome.is_ok(), "{} fails", path.display());
        }
    }
}

#[test]
fn write_seeds() {
    let Some(dir) = std::env::var_os("FUZZ_SEED_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let seeds = seeds();
    for (target, name, input) in &seeds {
        let target_dir = dir.join(target);
        std::fs::create_dir_all(&target_dir).unwrap();
        std::fs::write(target_dir.join(format!("seed-{name}")), input).unwrap();
    }
    println!("wrote {} seeds under {}", seeds.len(), dir.display());
}
