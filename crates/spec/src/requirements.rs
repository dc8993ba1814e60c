//! What the handwritten wrapper relies on, listed in one place.
//!
//! build.rs checks a normalised document against this list before handing it
//! to progenitor, so that a published version lacking something fails with
//! one readable line per gap instead of a rustc error deep in handwritten code.

use serde_json::Value;

use crate::Normalized;

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

/// A field handwritten code reads or writes, and the JSON type it expects.
/// A property removed or retyped upstream then stops the build here, with
/// a line saying what changed, instead of a rustc error in `src/`.
pub struct Field {
    /// Component schema holding the property.
    pub component: &'static str,
    /// Property path inside it (`function.name` for nested inline objects).
    pub property: &'static str,
    /// JSON Schema type the wrapper relies on.
    pub expected: &'static str,
}

const fn field(component: &'static str, property: &'static str, expected: &'static str) -> Field {
    Field {
        component,
        property,
        expected,
    }
}

/// Every generated field `src/` touches, with its type.
pub const FIELDS: &[Field] = &[
    field("ChatCompletionRequest", "model", "string"),
    field("ChatCompletionRequest", "messages", "array"),
    field("ChatCompletionRequest", "stream", "boolean"),
    field("ChatCompletionRequest", "stream_options", "object"),
    field("ChatCompletionRequest", "max_tokens", "integer"),
    field("ChatCompletionRequest", "max_completion_tokens", "integer"),
    field("ChatCompletionRequest", "n", "integer"),
    field("ChatCompletionRequest", "seed", "integer"),
    field("ChatCompletionRequest", "top_k", "integer"),
    field("ChatCompletionRequest", "top_logprobs", "integer"),
    field("ChatCompletionRequest", "temperature", "number"),
    field("ChatCompletionRequest", "top_p", "number"),
    field("ChatCompletionRequest", "min_p", "number"),
    field("ChatCompletionRequest", "frequency_penalty", "number"),
    field("ChatCompletionRequest", "presence_penalty", "number"),
    field("ChatCompletionRequest", "repetition_penalty", "number"),
    field("ChatCompletionRequest", "logit_bias", "object"),
    field("ChatCompletionRequest", "logprobs", "boolean"),
    field("ChatCompletionRequest", "parallel_tool_calls", "boolean"),
    field("ChatCompletionRequest", "tools", "array"),
    field("SystemMessage", "name", "string"),
    field("DeveloperMessage", "name", "string"),
    field("UserMessage", "name", "string"),
    field("AssistantMessage", "name", "string"),
    field("ToolMessage", "name", "string"),
    field("ChatCompletionResponse", "choices", "array"),
    field("ChatCompletionResponse", "usage", "object"),
    field("ChatChoice", "index", "integer"),
    field("ChatChoice", "finish_reason", "string"),
    field("ChatChoice", "message", "object"),
    field("ResponseMessage", "content", "string"),
    field("ResponseMessage", "refusal", "string"),
    field("ResponseMessage", "tool_calls", "array"),
    field("ToolCall", "type", "string"),
    field("ToolCall", "id", "string"),
    field("ToolCall", "function", "object"),
    field("ToolCall", "function.name", "string"),
    field("ToolCall", "function.arguments", "string"),
    field("ChatCompletionChunk", "id", "string"),
    field("ChatCompletionChunk", "created", "integer"),
    field("ChatCompletionChunk", "model", "string"),
    field("ChatCompletionChunk", "choices", "array"),
    field("ChatCompletionChunk", "usage", "object"),
    field("ChatCompletionChunk", "meta", "object"),
    field("ChatCompletionChunk", "service_tier", "string"),
    field("ChunkChoice", "index", "integer"),
    field("ChunkChoice", "finish_reason", "string"),
    field("ChunkChoice", "delta", "object"),
    field("ChunkDelta", "role", "string"),
    field("ChunkDelta", "content", "string"),
    field("ChunkDelta", "refusal", "string"),
    field("ChunkDelta", "tool_calls", "array"),
    field("ToolCallDelta", "index", "integer"),
    field("ToolCallDelta", "id", "string"),
    field("ToolCallDelta", "function.name", "string"),
    field("ToolCallDelta", "function.arguments", "string"),
];

/// Objects the wrapper builds from JSON, and the properties it writes:
/// a property the document requires beyond these would make every built
/// value a refusal, so it stops the build instead.
pub const BUILT: &[(&str, &[&str])] = &[
    ("ChatCompletionRequest", &["model", "messages", "stream"]),
    ("SystemMessage", &["role", "content", "name"]),
    ("DeveloperMessage", &["role", "content", "name"]),
    ("UserMessage", &["role", "content", "name"]),
    ("AssistantMessage", &["role", "content", "name", "tool_calls"]),
    ("ToolMessage", &["role", "content", "name", "tool_call_id"]),
    ("MessageToolCall", &["id", "type", "function"]),
    ("ToolDefinition", &["type", "function"]),
    ("FunctionDefinition", &["name", "parameters", "description", "strict"]),
    ("StreamOptions", &["include_usage"]),
    (
        "ChatCompletionResponse",
        &["id", "object", "created", "model", "choices", "usage"],
    ),
    ("ChatChoice", &["index", "message", "finish_reason"]),
    ("ResponseMessage", &["role", "content", "refusal", "tool_calls"]),
    ("ToolCall", &["id", "type", "function"]),
];

/// Follows `$ref` and single-branch `allOf` (how a nullable hoisted schema
/// is written) to the schema itself.
fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> Option<&'a Value> {
    for _ in 0..32 {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            schema = doc.pointer(r.strip_prefix('#')?)?;
        } else if let Some(first) = schema.get("allOf").and_then(|a| a.get(0)) {
            schema = first;
        } else {
            return Some(schema);
        }
    }
    None
}

fn property<'a>(doc: &'a Value, component: &str, path: &str) -> Option<&'a Value> {
    let mut schema = resolve(doc, doc.pointer(&format!("/components/schemas/{component}"))?)?;
    for step in path.split('.') {
        schema = resolve(doc, schema.get("properties")?.get(step)?)?;
    }
    Some(schema)
}

/// What the schema says its type is: `type`, else `object` for a `oneOf`
/// of objects (tagged unions), else `any`.
fn type_of(doc: &Value, schema: &Value) -> String {
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        return t.to_string();
    }
    let branches = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array);
    match branches {
        Some(bs) if !bs.is_empty() => {
            let types: Vec<String> = bs
                .iter()
                .filter_map(|b| resolve(doc, b))
                .map(|b| type_of(doc, b))
                .collect();
            match types.first() {
                Some(first) if types.iter().all(|t| t == first) => first.clone(),
                _ => "oneOf".to_string(),
            }
        }
        _ => "any".to_string(),
    }
}

/// Lists every need the document does not meet; empty means it builds.
pub fn check(normalized: &Normalized) -> Result<(), Vec<String>> {
    let doc = &normalized.document;
    let mut missing: Vec<String> = NEEDS
        .iter()
        .filter(|n| doc.pointer(n.pointer).is_none())
        .map(|n| format!("{} (looked for {})", n.what, n.pointer))
        .collect();
    for f in FIELDS {
        // A whole component that is missing is reported once, above.
        if doc.pointer(&format!("/components/schemas/{}", f.component)).is_none() {
            continue;
        }
        match property(doc, f.component, f.property) {
            None => missing.push(format!(
                "{}.{} is gone; the wrapper {} it as {} {}",
                f.component,
                f.property,
                if f.component.starts_with("Chat") && f.component.ends_with("Request") {
                    "sets"
                } else {
                    "reads"
                },
                article(f.expected),
                f.expected
            )),
            Some(schema) => {
                let found = type_of(doc, schema);
                let fits = found == f.expected || found == "any" || (f.expected == "number" && found == "integer");
                if !fits {
                    missing.push(format!(
                        "{}.{} is now {} {}; the wrapper relies on {} {}",
                        f.component,
                        f.property,
                        article(&found),
                        found,
                        article(f.expected),
                        f.expected
                    ));
                }
            }
        }
    }
    for (component, written) in BUILT {
        let Some(schema) = doc
            .pointer(&format!("/components/schemas/{component}"))
            .and_then(|s| resolve(doc, s))
        else {
            continue;
        };
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let Some(name) = required.as_str() else { continue };
            if !written.contains(&name) {
                missing.push(format!(
                    "{component} now requires `{name}`, which the wrapper does not write (it writes {})",
                    written.join(", ")
                ));
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing)
    }
}

fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// True when `pointer` exists in the normalised document.
pub fn has(normalized: &Normalized, pointer: &str) -> bool {
    normalized.document.pointer(pointer).is_some_and(|v| !v.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> Value {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/llama-4-maverick.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn guard(doc: Value) -> Result<(), Vec<String>> {
        check(&crate::normalize(doc).unwrap())
    }

    fn request_props(doc: &mut Value) -> Vec<&mut serde_json::Map<String, Value>> {
        let mut out = Vec::new();
        for (_, item) in doc["paths"].as_object_mut().unwrap().iter_mut() {
            let s = &mut item["post"]["requestBody"]["content"]["application/json"]["schema"];
            out.push(s.as_object_mut().unwrap());
        }
        out
    }

    #[test]
    fn our_spec_meets_every_need() {
        assert_eq!(guard(ours()), Ok(()));
    }

    #[test]
    fn removed_retyped_and_newly_required_fields_are_named() {
        let mut doc = ours();
        for req in request_props(&mut doc) {
            let props = req["properties"].as_object_mut().unwrap();
            props.remove("top_k");
            props.insert("temperature".into(), serde_json::json!({"type": "string"}));
            props.insert("tenant".into(), serde_json::json!({"type": "string"}));
            req["required"].as_array_mut().unwrap().push("tenant".into());
        }
        let problems = guard(doc).unwrap_err().join("\n");
        assert!(
            problems.contains("ChatCompletionRequest.top_k is gone; the wrapper sets it as an integer"),
            "{problems}"
        );
        assert!(
            problems.contains("ChatCompletionRequest.temperature is now a string; the wrapper relies on a number"),
            "{problems}"
        );
        assert!(
            problems.contains("ChatCompletionRequest now requires `tenant`"),
            "{problems}"
        );
    }
}
