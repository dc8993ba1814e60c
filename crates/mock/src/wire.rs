//! Turns a plan into the JSON bodies the mock sends.
//!
//! Written as JSON rather than as the client's generated structs: a struct
//! literal would stop compiling the day the spec adds an optional property,
//! and the mock must regenerate with no handwritten change like the rest.
//! What keeps these bodies honest is the contract itself: every reply is
//! checked against the published response and chunk schemas
//! (`tests/contract.rs`, and schemathesis in CI).

use serde_json::{json, Value};

use crate::plan::{Plan, PlannedChoice};

/// The non-streaming body.
pub fn completion(plan: &Plan, created: i64) -> Value {
    let choices: Vec<Value> = plan.choices.iter().enumerate().map(|(i, c)| choice(i, c)).collect();
    json!({
        "id": plan.id,
        "object": "chat.completion",
        "created": created,
        "model": plan.model,
        "choices": choices,
        "usage": usage(plan),
    })
}

fn choice(index: usize, planned: &PlannedChoice) -> Value {
    // The published response schema requires a string `content`; an empty
    // one keeps tool-call replies valid against it (real servers send null,
    // which the client accepts too).
    let mut message = json!({"role": "assistant", "content": planned.content().unwrap_or_default()});
    if !planned.tool_calls.is_empty() {
        let calls: Vec<Value> = planned
            .tool_calls
            .iter()
            .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
            .collect();
        set(&mut message, "tool_calls", Value::Array(calls));
    }
    json!({"index": index, "message": message, "finish_reason": planned.finish_reason})
}

/// Sets a field of an object built here (never a panic, unlike indexing).
fn set(object: &mut Value, key: &str, field: Value) {
    if let Some(map) = object.as_object_mut() {
        map.insert(key.to_string(), field);
    }
}

fn usage(plan: &Plan) -> Value {
    let completion = plan.completion_tokens();
    let prompt = plan.prompt_tokens;
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt.saturating_add(completion),
    })
}

/// The stream's events, in the order real servers send them: per choice a
/// role chunk, content (or tool-call) deltas and a finish chunk; then the
/// usage chunk when asked for. `[DONE]` is the transport's business.
pub fn chunks(plan: &Plan, created: i64) -> Vec<Value> {
    let frame = |choices: Vec<Value>| {
        json!({
            "id": plan.id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": plan.model,
            "choices": choices,
        })
    };
    let delta = |index: usize, delta: Value| json!({"index": index, "delta": delta});

    let mut out = Vec::new();
    for (i, c) in plan.choices.iter().enumerate() {
        out.push(frame(vec![delta(i, json!({"role": "assistant", "content": ""}))]));
        for piece in &c.pieces {
            out.push(frame(vec![delta(i, json!({"content": piece}))]));
        }
        for (k, call) in c.tool_calls.iter().enumerate() {
            // First delta names the call; the arguments follow in fragments,
            // as llama.cpp and OpenAI stream them.
            let head = json!({"index": k, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}});
            out.push(frame(vec![delta(i, json!({"tool_calls": [head]}))]));
            let chars: Vec<char> = call.arguments.chars().collect();
            for fragment in chars.chunks(8) {
                let part = json!({"index": k, "function": {"arguments": fragment.iter().collect::<String>()}});
                out.push(frame(vec![delta(i, json!({"tool_calls": [part]}))]));
            }
        }
        let mut last = delta(i, json!({}));
        set(&mut last, "finish_reason", json!(c.finish_reason));
        out.push(frame(vec![last]));
    }
    if plan.include_usage {
        let mut last = frame(Vec::new());
        set(&mut last, "usage", usage(plan));
        out.push(last);
    }
    out
}
