//! What the handwritten wrapper relies on, listed in one place.
//!
//! build.rs checks a normalised document against this list before handing it
//! to progenitor, so that a published version lacking something fails with
//! one readable line per gap instead of a rustc error deep in handwritten code.

use serde_json::Value;

use crate::{names, Normalized};

/// One thing the wrapper needs from the document.
pub struct Need {
    /// JSON pointer into the normalised document.
    pub pointer: &'static str,
    /// What it is, in a reader's words.
    pub what: &'static str,
}

const fn need(pointer: &'static str, what: &'static str) -> Need {
    Need { pointer, what }
}

/// Everything `src/` touches in the generated code.
pub const NEEDS: &[Need] = &[
    need(
        "/components/schemas/ChatCompletionResponse",
        "a JSON body for the 2xx response (the completion object)",
    ),
    need(
        "/components/schemas/ChatCompletionChunk",
        "a `text/event-stream` schema for stream chunks",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/model",
        "a `model` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/messages",
        "a `messages` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/stream",
        "a `stream` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/stream_options",
        "a `stream_options` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/max_tokens",
        "a `max_tokens` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/max_completion_tokens",
        "a `max_completion_tokens` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/temperature",
        "a `temperature` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/top_p",
        "a `top_p` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/n",
        "an `n` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/stop",
        "a `stop` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/seed",
        "a `seed` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/frequency_penalty",
        "a `frequency_penalty` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/presence_penalty",
        "a `presence_penalty` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/tools",
        "a `tools` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/tool_choice",
        "a `tool_choice` request field",
    ),
    need(
        "/components/schemas/ChatCompletionRequest/properties/response_format",
        "a `response_format` request field",
    ),
    need("/components/schemas/SystemMessage", "messages[] has no system role"),
    need(
        "/components/schemas/DeveloperMessage",
        "messages[] has no developer role",
    ),
    need("/components/schemas/UserMessage", "messages[] has no user role"),
    need(
        "/components/schemas/AssistantMessage",
        "messages[] has no assistant role",
    ),
    need("/components/schemas/ToolMessage", "messages[] has no tool role"),
    need(
        "/components/schemas/UserContentPart",
        "user messages cannot carry content parts (text, image_url)",
    ),
    need("/components/schemas/ToolCall", "response messages have no tool_calls"),
    need("/components/schemas/ToolCallDelta", "stream deltas have no tool_calls"),
    need("/components/schemas/Usage", "responses have no usage"),
];

/// Lists every need the document does not meet; empty means it builds.
pub fn check(normalized: &Normalized) -> Result<(), Vec<String>> {
    let missing: Vec<String> = NEEDS
        .iter()
        .filter(|n| normalized.document.pointer(n.pointer).is_none())
        .map(|n| format!("{} (looked for {})", n.what, n.pointer))
        .collect();
    let _ = names::REQUEST;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing)
    }
}

/// True when `pointer` exists in the normalised document.
pub fn has(normalized: &Normalized, pointer: &str) -> bool {
    normalized.document.pointer(pointer).is_some_and(|v| !v.is_null())
}

#[allow(dead_code)]
fn _assert_value(_: &Value) {}
