//! Forward-compatible decoding: every real transcript in
//! `../shared/fixtures/transcripts/`, mutated the way hosts and later spec
//! versions differ (unknown fields in every object, unknown values at every
//! enum position, `null` for every optional field), still decodes, and what
//! the client knows of it stays as it was. End to end, a hostile-but-valid
//! host's extra fields stay reachable through `raw()`.

mod support;

use std::path::Path;

use futures_util::StreamExt;
use maverick::types::{ChatCompletionChunk, ChatCompletionResponse};
use maverick::{ChatRequest, FinishReason};
use proptest::prelude::*;
use serde_json::{json, Value};
use support::{client_for, shared_dir, Loopback, Reply};

/// Keys whose values the published documents list as enums (or that hosts
/// vary: `object`, `role`).
const ENUM_KEYS: &[&str] = &["finish_reason", "role", "object", "service_tier", "type"];

struct Docs {
    responses: Vec<Value>,
    chunks: Vec<Value>,
}

fn transcripts() -> Option<Docs> {
    let dir = shared_dir("forward-compatible decoding of transcripts")?.join("fixtures/transcripts");
    let mut docs = Docs {
        responses: Vec::new(),
        chunks: Vec::new(),
    };
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !(name.ends_with(".http") || name.ends_with(".body")) {
            continue;
        }
        let body = body_of(&path);
        if name.contains("-stream-") {
            for line in String::from_utf8_lossy(&body).lines() {
                if let Some(data) = line.strip_prefix("data:").map(str::trim) {
                    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(data) {
                        docs.chunks.push(v);
                    }
                }
            }
        } else {
            docs.responses.push(serde_json::from_slice(&body).unwrap());
        }
    }
    assert!(!docs.responses.is_empty() && !docs.chunks.is_empty());
    Some(docs)
}

fn body_of(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "body") {
        return raw;
    }
    let at = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
        .unwrap();
    raw[at..].to_vec()
}

/// The normalised schemas, to tell which fields are required.
fn normalized() -> Value {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/llama-4-maverick.json")).unwrap();
    maverick_spec::normalize(serde_json::from_str(&text).unwrap())
        .unwrap()
        .document
}

/// The object schema that describes the value at `path` (keys and array
/// indices) under the component `root`, following `$ref`s and `allOf`.
fn schema_at<'a>(doc: &'a Value, root: &str, path: &[String]) -> Option<&'a Value> {
    let resolve = |mut s: &'a Value| -> Option<&'a Value> {
        loop {
            if let Some(r) = s.get("$ref").and_then(Value::as_str) {
                s = doc.pointer(r.strip_prefix('#')?)?;
            } else if let Some(first) = s.get("allOf").and_then(|a| a.get(0)) {
                s = first;
            } else {
                return Some(s);
            }
        }
    };
    let mut s = resolve(doc.pointer(&format!("/components/schemas/{root}"))?)?;
    for step in path {
        s = match step.parse::<usize>() {
            Ok(_) => resolve(s.get("items")?)?,
            Err(_) => resolve(s.get("properties")?.get(step)?)?,
        };
    }
    Some(s)
}

fn is_required(doc: &Value, root: &str, path: &[String]) -> bool {
    let Some((key, parent)) = path.split_last() else {
        return true;
    };
    schema_at(doc, root, parent)
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().any(|k| k == key))
}

/// Every object key path in `v`.
fn paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                at.push(k.clone());
                out.push(at.clone());
                paths(child, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                at.push(i.to_string());
                paths(child, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// Adds an unknown field of a varied kind to every object.
fn add_unknown_fields(v: &mut Value, seed: &mut u64) {
    match v {
        Value::Object(m) => {
            for child in m.values_mut() {
                add_unknown_fields(child, seed);
            }
            *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let extra = match *seed >> 61 {
                0 => json!("x"),
                1 => json!(1e300),
                2 => json!((-12345678901234567890i128).to_string()),
                3 => json!({"nested": {"deeper": [1, {"a": null}]}}),
                4 => json!([null, true, "s"]),
                5 => Value::Null,
                6 => json!(false),
                _ => json!(18446744073709551615u64),
            };
            m.insert(format!("x_future_{}", *seed % 1000), extra);
        }
        Value::Array(a) => a.iter_mut().for_each(|c| add_unknown_fields(c, seed)),
        _ => {}
    }
}

/// The typed decode, written back as JSON: what the client knows.
fn known<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    Ok(serde_json::to_value(typed).unwrap())
}

enum Mutation {
    Null,
    UnknownValue,
}

/// Applies `m` at `path`, decodes, and checks that everything else the
/// client knew is unchanged. Returns whether the case applied.
fn check_one<T: serde::de::DeserializeOwned + serde::Serialize>(
    doc: &Value,
    root: &str,
    original: &Value,
    path: &[String],
    m: Mutation,
) -> bool {
    let ptr = pointer(path);
    let mut mutated = original.clone();
    let Some(slot) = mutated.pointer_mut(&ptr) else {
        return false;
    };
    match m {
        Mutation::Null => {
            if is_required(doc, root, path) {
                return false;
            }
            *slot = Value::Null;
        }
        Mutation::UnknownValue => {
            if !slot.is_string() || !path.last().is_some_and(|k| ENUM_KEYS.contains(&k.as_str())) {
                return false;
            }
            *slot = json!("x-value-no-version-lists");
        }
    }
    let before = known::<T>(original).unwrap();
    let after =
        known::<T>(&mutated).unwrap_or_else(|e| panic!("{root} with {ptr} mutated does not decode: {e}\n{mutated}"));
    // What the client knew, with the same change applied.
    let mut expected = before.clone();
    if let Some((key, parent)) = path.split_last() {
        if let Some(Value::Object(p)) = expected.pointer_mut(&pointer(parent)) {
            match after.pointer(&ptr) {
                None => {
                    p.remove(key);
                }
                Some(v) => {
                    p.insert(key.clone(), v.clone());
                }
            }
        }
    }
    assert_eq!(after, expected, "{root}: mutating {ptr} changed other known content");
    true
}

#[test]
fn every_optional_field_null_and_every_enum_unknown_decodes_with_the_rest_intact() {
    let Some(docs) = transcripts() else { return };
    let doc = normalized();
    let mut applied = 0;
    for (root, values, is_chunk) in [
        ("ChatCompletionResponse", &docs.responses, false),
        ("ChatCompletionChunk", &docs.chunks, true),
    ] {
        for original in values.iter() {
            let mut all = Vec::new();
            paths(original, &mut Vec::new(), &mut all);
            for path in all {
                for m in [Mutation::Null, Mutation::UnknownValue] {
                    let ok = match is_chunk {
                        true => check_one::<ChatCompletionChunk>(&doc, root, original, &path, m),
                        false => check_one::<ChatCompletionResponse>(&doc, root, original, &path, m),
                    };
                    applied += usize::from(ok);
                }
            }
        }
    }
    println!("forward compatibility: {applied} single-field mutations decoded with the rest intact");
    assert!(applied > 100, "too few mutations applied: {applied}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Unknown fields everywhere, plus unknown enum values, never break a
    /// decode nor change what is known.
    #[test]
    fn unknown_fields_everywhere_change_nothing_known(seed in any::<u64>(), pick in any::<prop::sample::Index>()) {
        let Some(docs) = transcripts() else { return Ok(()) };
        let all: Vec<(bool, &Value)> = docs.responses.iter().map(|v| (false, v)).chain(docs.chunks.iter().map(|v| (true, v))).collect();
        let (is_chunk, original) = all[pick.index(all.len())];
        let mut mutated = original.clone();
        let mut s = seed;
        add_unknown_fields(&mut mutated, &mut s);
        let (before, after) = match is_chunk {
            true => (known::<ChatCompletionChunk>(original), known::<ChatCompletionChunk>(&mutated)),
            false => (known::<ChatCompletionResponse>(original), known::<ChatCompletionResponse>(&mutated)),
        };
        prop_assert_eq!(before.unwrap(), after.unwrap());
    }
}

/// A host that sends what no spec version lists, end to end: the stream and
/// the call succeed, typed accessors map unknown values to `Other`, and the
/// extra fields are reachable through `raw()`.
#[tokio::test]
async fn unknown_values_and_fields_end_to_end() {
    let chunk = |body: Value| format!("data: {body}\n\n").into_bytes();
    let server = Loopback::always(Reply::sse_pieces(vec![
        chunk(json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "service_tier": "on_demand", "x_groq": {"id": "req_1"},
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi", "reasoning_content": "thinking"}, "finish_reason": null}]})),
        chunk(json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": "eos", "logprobs": null}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2, "prompt_tokens_details": null}, "timings": {"predicted_ms": 1.5}})),
        b"data: [DONE]\n\n".to_vec(),
    ]))
    .await;
    let client = client_for(&server).build().unwrap();
    let mut stream = client.chat_stream(ChatRequest::user_prompt("hi")).await.unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(
        first.service_tier(),
        Some(maverick::ServiceTier::Other("on_demand".into()))
    );
    assert_eq!(first.raw_json().unwrap()["x_groq"]["id"], "req_1");
    assert_eq!(
        first.raw_json().unwrap()["choices"][0]["delta"]["reasoning_content"],
        "thinking"
    );
    let second = stream.next().await.unwrap().unwrap();
    assert!(second.raw().contains("\"timings\""));
    assert!(stream.next().await.is_none());

    let mut stream = client.chat_stream(ChatRequest::user_prompt("hi")).await.unwrap();
    let all = stream.by_ref().map(|c| c.unwrap()).collect::<Vec<_>>().await;
    assert_eq!(all.len(), 2);
    let server = Loopback::always(Reply::json(
        200,
        &json!({"id": "r", "object": "chat.completion", "created": 1, "model": "m", "service_tier": "on_demand", "timings": {"predicted_ms": 2},
            "choices": [{"index": 0, "finish_reason": "eos", "message": {"role": "assistant", "content": "ok", "reasoning_content": "why",
                "tool_calls": [{"id": "t1", "type": "mcp_call", "mcp": {"server": "s"}}, {"id": "t2", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}]}),
    ))
    .await;
    let client = client_for(&server).build().unwrap();
    let reply = client.chat(ChatRequest::user_prompt("hi")).await.unwrap();
    assert_eq!(reply.text(), Some("ok"));
    assert_eq!(reply.finish_reason(), Some(FinishReason::Other("eos".into())));
    let calls = reply.tool_calls();
    assert_eq!(calls.len(), 1, "the function call is kept, the unknown kind skipped");
    assert_eq!(calls[0].name, "f");
    let raw = reply.raw_json().unwrap();
    assert_eq!(raw["timings"]["predicted_ms"], 2);
    assert_eq!(raw["choices"][0]["message"]["tool_calls"][0]["mcp"]["server"], "s");
    assert!(reply.raw().unwrap().contains("reasoning_content"));
}
