//! Turns a plan into the generated wire types. Building the client's own
//! structs (rather than `json!`) means a spec change that renames or adds a
//! required field breaks this crate's build instead of its users' tests.

use maverick::types as t;
use serde_json::Value;

use crate::plan::{Plan, PlannedChoice};

/// The non-streaming body.
pub fn completion(plan: &Plan, created: i64) -> t::ChatCompletionResponse {
    t::ChatCompletionResponse {
        choices: plan.choices.iter().enumerate().map(|(i, c)| choice(i, c)).collect(),
        created,
        id: plan.id.clone(),
        model: plan.model.clone(),
        object: "chat.completion".into(),
        usage: Some(usage(plan)),
    }
}

fn choice(index: usize, planned: &PlannedChoice) -> t::ChatChoice {
    let tool_calls = if planned.tool_calls.is_empty() {
        None
    } else {
        Some(
            planned
                .tool_calls
                .iter()
                .map(|c| t::ToolCall::Function {
                    function: t::ToolCallFunction {
                        arguments: c.arguments.clone(),
                        name: c.name.clone(),
                    },
                    id: c.id.clone(),
                })
                .collect(),
        )
    };
    t::ChatChoice {
        finish_reason: Some(planned.finish_reason.into()),
        index: index as i64,
        logprobs: None,
        message: t::ResponseMessage {
            annotations: None,
            audio: None,
            // The published response schema requires a string `content`; an empty
            // one keeps tool-call replies valid against it (real servers send null,
            // which the client accepts too).
            content: Some(planned.content().unwrap_or_default()),
            refusal: None,
            role: "assistant".into(),
            tool_calls,
        },
    }
}

fn usage(plan: &Plan) -> t::Usage {
    let completion = plan.completion_tokens() as i64;
    let prompt = plan.prompt_tokens as i64;
    t::Usage {
        completion_tokens: completion,
        completion_tokens_details: None,
        prompt_tokens: prompt,
        prompt_tokens_details: None,
        total_tokens: prompt + completion,
    }
}

/// The stream's events, in the order real servers send them: per choice a
/// role chunk, content (or tool-call) deltas and a finish chunk; then the
/// usage chunk when asked for. `[DONE]` is the transport's business.
pub fn chunks(plan: &Plan, created: i64) -> Vec<Value> {
    let frame = |choices: Vec<t::ChunkChoice>, usage: Option<t::Usage>| t::ChatCompletionChunk {
        choices,
        created,
        id: plan.id.clone(),
        meta: None,
        model: plan.model.clone(),
        object: "chat.completion.chunk".into(),
        service_tier: None,
        usage,
    };
    let delta = |index: usize, delta: t::ChunkDelta, finish: Option<&str>| t::ChunkChoice {
        delta: Some(delta),
        finish_reason: finish.map(str::to_string),
        index: index as i64,
        logprobs: None,
    };
    let empty = || t::ChunkDelta {
        content: None,
        refusal: None,
        role: None,
        tool_calls: None,
    };

    let mut out = Vec::new();
    for (i, c) in plan.choices.iter().enumerate() {
        let role = t::ChunkDelta {
            role: Some("assistant".into()),
            content: Some(String::new()),
            ..empty()
        };
        out.push(frame(vec![delta(i, role, None)], None));
        for piece in &c.pieces {
            out.push(frame(
                vec![delta(
                    i,
                    t::ChunkDelta {
                        content: Some(piece.clone()),
                        ..empty()
                    },
                    None,
                )],
                None,
            ));
        }
        for (k, call) in c.tool_calls.iter().enumerate() {
            // First delta names the call; the arguments follow in fragments,
            // as llama.cpp and OpenAI stream them.
            let head = t::ToolCallDelta {
                function: Some(t::ToolCallDeltaFunction {
                    arguments: Some(String::new()),
                    name: Some(call.name.clone()),
                }),
                id: Some(call.id.clone()),
                index: Some(k as i64),
                type_: Some(t::ToolCallDeltaType::Function),
            };
            out.push(frame(
                vec![delta(
                    i,
                    t::ChunkDelta {
                        tool_calls: Some(vec![head]),
                        ..empty()
                    },
                    None,
                )],
                None,
            ));
            let chars: Vec<char> = call.arguments.chars().collect();
            for fragment in chars.chunks(8) {
                let part = t::ToolCallDelta {
                    function: Some(t::ToolCallDeltaFunction {
                        arguments: Some(fragment.iter().collect()),
                        name: None,
                    }),
                    id: None,
                    index: Some(k as i64),
                    type_: None,
                };
                out.push(frame(
                    vec![delta(
                        i,
                        t::ChunkDelta {
                            tool_calls: Some(vec![part]),
                            ..empty()
                        },
                        None,
                    )],
                    None,
                ));
            }
        }
        out.push(frame(vec![delta(i, empty(), Some(c.finish_reason))], None));
    }
    let mut values: Vec<Value> = out.iter().map(to_value).collect();
    if plan.include_usage {
        let mut last = to_value(&frame(Vec::new(), Some(usage(plan))));
        // The generated type skips an empty list; real servers send `[]`.
        last["choices"] = Value::Array(Vec::new());
        values.push(last);
    }
    values
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("generated wire types always serialise")
}
