//! Decides what the mock answers, before any bytes are written: the same
//! plan feeds the JSON body and the event stream, so the two can never
//! disagree about content, tool calls or usage.

use serde_json::{json, Value};

use crate::contract::Violation;
use crate::instance;
use crate::rng::{fingerprint, Rng};

/// Most choices one request may ask for, as the OpenAI API allows; the
/// spec sets no maximum, but a mock must not build 10^18 of them.
pub const MAX_CHOICES: u64 = 128;
/// Words in a reply when `max_tokens` does not cut it short.
const DEFAULT_WORDS: usize = 24;
/// Prompt words echoed back, so callers can recognise their request.
const ECHO_WORDS: usize = 12;
/// What one image costs in prompt tokens (a flat, documented guess).
const IMAGE_TOKENS: u64 = 64;

/// The answer to one request.
#[derive(Debug, Clone)]
pub struct Plan {
    pub id: String,
    pub inference_id: String,
    pub model: String,
    pub stream: bool,
    pub include_usage: bool,
    pub prompt_tokens: u64,
    pub choices: Vec<PlannedChoice>,
}

/// One generated alternative.
#[derive(Debug, Clone)]
pub struct PlannedChoice {
    /// Text split as it is streamed (one piece ≈ one token).
    pub pieces: Vec<String>,
    pub tool_calls: Vec<PlannedCall>,
    pub finish_reason: &'static str,
}

impl PlannedChoice {
    pub fn content(&self) -> Option<String> {
        if self.tool_calls.is_empty() {
            Some(self.pieces.concat())
        } else {
            None
        }
    }

    pub fn completion_tokens(&self) -> u64 {
        let call_tokens: usize = self.tool_calls.iter().map(|c| c.arguments.len().div_ceil(4)).sum();
        (self.pieces.len() + call_tokens) as u64
    }
}

#[derive(Debug, Clone)]
pub struct PlannedCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

impl Plan {
    pub fn completion_tokens(&self) -> u64 {
        self.choices.iter().map(PlannedChoice::completion_tokens).sum()
    }

    /// Billing figures for the headers: a fixed, documented rate so tests
    /// can check the client parses them.
    pub fn credits(&self) -> u64 {
        (self.prompt_tokens + self.completion_tokens()) * 2
    }
}

/// Plans the answer to a request body that already passed the schema.
/// Errors are the semantic checks a schema cannot express.
pub fn plan(raw: &[u8], body: &Value, seed: u64) -> Result<Plan, Vec<Violation>> {
    let print = fingerprint(raw, seed);
    let mut rng = Rng::new(print);
    let tool_targets = tool_targets(body)?;
    let format = body.get("response_format");
    let n = body.get("n").and_then(Value::as_u64).unwrap_or(1).max(1);
    if n > MAX_CHOICES {
        return Err(vec![Violation::custom(
            "/n",
            "mock",
            format!("{n} choices asked for; the mock generates at most {MAX_CHOICES}, as the OpenAI API does"),
        )]);
    }
    let limit = ["max_completion_tokens", "max_tokens"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_u64))
        .map(|l| l as usize);
    let stops = stop_sequences(body);
    let prompt = Prompt::read(body);

    let choices = (0..n)
        .map(|index| {
            let mut rng = Rng::new(print ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            if !tool_targets.is_empty() {
                let tool_calls = tool_targets
                    .iter()
                    .map(|tool| {
                        let arguments = instance::generate(&tool.parameters, &mut rng).to_string();
                        PlannedCall {
                            id: format!("call_{}", rng.hex()),
                            name: tool.name.clone(),
                            arguments,
                        }
                    })
                    .collect();
                return PlannedChoice {
                    pieces: Vec::new(),
                    tool_calls,
                    finish_reason: "tool_calls",
                };
            }
            match format.and_then(|f| f.get("type")).and_then(Value::as_str) {
                Some("json_object") => structured(json!({"answer": prompt.reply(&mut rng, DEFAULT_WORDS)}).to_string()),
                Some("json_schema") => {
                    let schema = format
                        .and_then(|f| f.pointer("/json_schema/schema"))
                        .cloned()
                        .unwrap_or(json!({}));
                    structured(instance::generate(&schema, &mut rng).to_string())
                }
                _ => text(prompt.reply(&mut rng, DEFAULT_WORDS), limit, &stops),
            }
        })
        .collect();

    Ok(Plan {
        id: format!("chatcmpl-{}", rng.hex()),
        inference_id: format!("inf-{}", rng.hex()),
        model: body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(maverick_spec::DEFAULT_MODEL)
            .to_string(),
        stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
        include_usage: body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        prompt_tokens: prompt.tokens,
        choices,
    })
}

/// Structured answers are never cut by `max_tokens` or `stop`: a truncated
/// JSON document would break the schema the caller asked for.
fn structured(json_text: String) -> PlannedChoice {
    let chars: Vec<char> = json_text.chars().collect();
    let pieces = chars.chunks(8).map(|c| c.iter().collect()).collect();
    PlannedChoice {
        pieces,
        tool_calls: Vec::new(),
        finish_reason: "stop",
    }
}

fn text(words: Vec<String>, limit: Option<usize>, stops: &[String]) -> PlannedChoice {
    let mut finish = "stop";
    let mut pieces: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| if i == 0 { w.clone() } else { format!(" {w}") })
        .collect();
    if let Some(limit) = limit {
        if pieces.len() > limit {
            pieces.truncate(limit);
            finish = "length";
        }
    }
    let joined = pieces.concat();
    let cut = stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| joined.find(s.as_str()))
        .min();
    if let Some(cut) = cut {
        finish = "stop";
        let mut kept = Vec::new();
        let mut at = 0;
        for piece in pieces {
            if at >= cut {
                break;
            }
            let end = at + piece.len();
            kept.push(if end > cut {
                // `cut` comes from `find` on the joined text: a char boundary.
                piece.get(..cut - at).unwrap_or(&piece).to_string()
            } else {
                piece
            });
            at = end;
        }
        pieces = kept;
    }
    PlannedChoice {
        pieces,
        tool_calls: Vec::new(),
        finish_reason: finish,
    }
}

fn stop_sequences(body: &Value) -> Vec<String> {
    match body.get("stop") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

struct ToolTarget {
    name: String,
    parameters: Value,
}

/// Which tools the reply calls. `required` and a named function force a
/// call every time, as the API does. Under `auto` (or no `tool_choice`) the
/// mock behaves like a model that uses tools when asked: it calls the tools
/// whose names the last message (a user turn) mentions, all of them unless
/// `parallel_tool_calls` is false, and answers in text once the last message
/// is a tool result, so tool loops can run to a final answer. `none` and
/// prompts that name no tool get text, keeping replies predictable.
fn tool_targets(body: &Value) -> Result<Vec<ToolTarget>, Vec<Violation>> {
    let tools: Vec<&Value> = body
        .get("tools")
        .and_then(Value::as_array)
        .map(|t| t.iter().collect())
        .unwrap_or_default();
    let find = |name: &str| {
        tools
            .iter()
            .find(|t| t.pointer("/function/name").and_then(Value::as_str) == Some(name))
            .map(|t| ToolTarget {
                name: name.to_string(),
                parameters: t
                    .pointer("/function/parameters")
                    .cloned()
                    .unwrap_or(json!({"type": "object"})),
            })
    };
    match body.get("tool_choice") {
        Some(Value::String(s)) if s == "required" => {
            let first = tools
                .first()
                .and_then(|t| t.pointer("/function/name"))
                .and_then(Value::as_str);
            match first {
                Some(name) => Ok(find(name).into_iter().collect()),
                None => Err(vec![Violation::custom(
                    "/tool_choice",
                    "mock",
                    "\"required\" needs at least one entry in `tools`",
                )]),
            }
        }
        Some(Value::Object(o)) => {
            let name = o
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            match find(name) {
                Some(t) => Ok(vec![t]),
                None => Err(vec![Violation::custom(
                    "/tool_choice/function/name",
                    "mock",
                    format!("{name:?} names no function in `tools`"),
                )]),
            }
        }
        None => Ok(asked_for(body, &tools, find)),
        Some(Value::String(s)) if s == "auto" => Ok(asked_for(body, &tools, find)),
        _ => Ok(Vec::new()),
    }
}

/// The tools a user turn at the end of the conversation names, in `tools`
/// order; only the first when `parallel_tool_calls` is false.
fn asked_for(body: &Value, tools: &[&Value], find: impl Fn(&str) -> Option<ToolTarget>) -> Vec<ToolTarget> {
    let last = body.get("messages").and_then(Value::as_array).and_then(|m| m.last());
    let Some(last) = last.filter(|m| m.get("role").and_then(Value::as_str) == Some("user")) else {
        return Vec::new();
    };
    let text = match last.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    };
    let mut targets: Vec<ToolTarget> = tools
        .iter()
        .filter_map(|t| t.pointer("/function/name").and_then(Value::as_str))
        .filter(|name| !name.is_empty() && text.contains(name))
        .filter_map(&find)
        .collect();
    if body.get("parallel_tool_calls") == Some(&Value::Bool(false)) {
        targets.truncate(1);
    }
    targets
}

/// What the mock reads from the conversation.
struct Prompt {
    last_user_text: String,
    images: usize,
    tokens: u64,
}

impl Prompt {
    fn read(body: &Value) -> Prompt {
        let mut prompt = Prompt {
            last_user_text: String::new(),
            images: 0,
            tokens: 0,
        };
        let messages = body
            .get("messages")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for message in messages {
            let mut text = String::new();
            let mut images = 0;
            match message.get("content") {
                Some(Value::String(s)) => text.push_str(s),
                Some(Value::Array(parts)) => {
                    for part in parts {
                        match part.get("type").and_then(Value::as_str) {
                            Some("image_url") => images += 1,
                            _ => {
                                if let Some(t) = part.get("text").and_then(Value::as_str) {
                                    text.push_str(t);
                                    text.push(' ');
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
            prompt.tokens += text.split_whitespace().count() as u64 + 4 + images as u64 * IMAGE_TOKENS;
            if message.get("role").and_then(Value::as_str) == Some("user") {
                prompt.last_user_text = text;
                prompt.images = images;
            }
        }
        prompt
    }

    /// The reply's words: an echo of the prompt, an acknowledgement of any
    /// images, then filler from the seeded vocabulary.
    fn reply(&self, rng: &mut Rng, total: usize) -> Vec<String> {
        let mut words: Vec<String> = vec!["You".into(), "said:".into()];
        let echo: Vec<&str> = self.last_user_text.split_whitespace().take(ECHO_WORDS).collect();
        if echo.is_empty() {
            words.push("nothing.".into());
        } else {
            words.extend(echo.iter().map(|w| w.to_string()));
            if let Some(last) = words.last_mut().filter(|w| !w.ends_with(['.', '?', '!'])) {
                last.push('.');
            }
        }
        if self.images > 0 {
            let noun = if self.images == 1 { "image." } else { "images." };
            words.extend(["I".to_string(), "see".into(), self.images.to_string(), noun.into()]);
        }
        while words.len() < total {
            words.push(rng.word().to_string());
        }
        if let Some(last) = words.last_mut().filter(|w| !w.ends_with(['.', '?', '!'])) {
            last.push('.');
        }
        words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str) -> Value {
        json!({"type": "function", "function": {"name": name, "parameters": {"type": "object"}}})
    }

    fn calls(body: Value) -> Vec<String> {
        let raw = body.to_string();
        let plan = plan(raw.as_bytes(), &body, 0).unwrap();
        plan.choices[0].tool_calls.iter().map(|c| c.name.clone()).collect()
    }

    #[test]
    fn auto_calls_the_tools_a_user_asks_for_and_answers_tool_results_in_text() {
        let tools = json!([tool("get_weather"), tool("get_time")]);
        let user = |text: &str| json!([{"role": "user", "content": text}]);
        let body = |messages: Value, extra: Value| {
            let mut b = json!({"messages": messages, "tools": tools});
            b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            b
        };
        assert_eq!(
            calls(body(user("get_time then get_weather"), json!({}))),
            ["get_weather", "get_time"],
            "tools order, all of them"
        );
        assert_eq!(
            calls(body(
                user("get_time and get_weather"),
                json!({"parallel_tool_calls": false})
            )),
            ["get_weather"]
        );
        assert!(calls(body(user("Hello"), json!({"tool_choice": "auto"}))).is_empty());
        assert!(calls(body(user("get_time"), json!({"tool_choice": "none"}))).is_empty());
        let after_result = json!([
            {"role": "user", "content": "get_time please"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                "function": {"name": "get_time", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "noon"}
        ]);
        assert!(calls(body(after_result, json!({}))).is_empty());
        assert_eq!(
            calls(body(user("Hello"), json!({"tool_choice": "required"}))),
            ["get_weather"],
            "required always calls"
        );
    }
}
