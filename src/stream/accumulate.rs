//! Folding stream chunks into the response a non-streaming call returns, so
//! that code written against [`ChatResponse`] works for both.

use serde_json::{json, Value};

use crate::construct::{from_json, set};
use crate::error::Error;
use crate::fields::{self, List};
use crate::generated::types as t;
use crate::response::ChatResponse;

/// Folds [`ChatChunk`](crate::ChatChunk)s into one [`ChatResponse`].
///
/// Choices are kept apart by their `index` (for `n > 1`); text and refusal
/// deltas are concatenated; tool calls are assembled from their fragments.
/// Tool-call fragments are matched by `index`, falling back to `id` for
/// servers that omit the index, and to the latest call for fragments that
/// carry neither; a repeated `id` continues its call instead of starting a
/// new one. Log probabilities are not kept.
#[derive(Debug, Clone, Default)]
pub struct StreamAccumulator {
    id: String,
    created: i64,
    model: String,
    seen_first: bool,
    /// Few (n is small), so a sorted vector beats a map.
    choices: Vec<ChoiceState>,
    usage: Option<t::ChunkUsage>,
    meta: Option<serde_json::Map<String, serde_json::Value>>,
    chunks: u64,
}

#[derive(Debug, Clone)]
struct ChoiceState {
    index: i64,
    role: Option<String>,
    content: Option<String>,
    refusal: Option<String>,
    finish_reason: Option<String>,
    tools: Vec<ToolState>,
}

#[derive(Debug, Clone)]
struct ToolState {
    index: Option<i64>,
    id: String,
    name: String,
    arguments: String,
}

impl StreamAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one chunk.
    pub fn push(&mut self, chunk: &t::ChatCompletionChunk) {
        self.chunks = self.chunks.saturating_add(1);
        // The usage-only chunk of some servers has an empty id; keep the first real one.
        let id = fields::text(&chunk.id).unwrap_or_default();
        if !self.seen_first || (self.id.is_empty() && !id.is_empty()) {
            self.seen_first = true;
            id.clone_into(&mut self.id);
            self.created = fields::int(&chunk.created).unwrap_or_default();
            fields::text(&chunk.model)
                .unwrap_or_default()
                .clone_into(&mut self.model);
        }
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.clone());
        }
        if let Some(meta) = &chunk.meta {
            self.meta = Some(meta.clone());
        }
        for choice in chunk.choices.items() {
            let Some(state) = self.choice_mut(fields::int(&choice.index).unwrap_or_default()) else {
                continue;
            };
            if let Some(reason) = &choice.finish_reason {
                state.finish_reason = Some(reason.clone());
            }
            let Some(delta) = &choice.delta else { continue };
            if let Some(role) = &delta.role {
                if state.role.is_none() {
                    state.role = Some(role.clone());
                }
            }
            append(&mut state.content, delta.content.as_deref());
            append(&mut state.refusal, delta.refusal.as_deref());
            for call in delta.tool_calls.items() {
                state.push_tool(call);
            }
        }
    }

    /// Token counts from the usage chunk, once it has arrived.
    pub fn usage(&self) -> Option<&t::ChunkUsage> {
        self.usage.as_ref()
    }

    /// The provider's `meta` object (billing figures such as credits and
    /// USD spent), from the last chunk that carried one.
    pub fn provider_meta(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.meta.as_ref()
    }

    /// How many chunks were pushed.
    pub fn chunk_count(&self) -> u64 {
        self.chunks
    }

    /// The text of choice 0 so far.
    pub fn text(&self) -> Option<&str> {
        self.choices.iter().find(|c| c.index == 0)?.content.as_deref()
    }

    /// The response as `chat()` would have returned it; `meta` is the
    /// default (the accumulator never saw the HTTP headers; a
    /// [`ChatStream`](crate::ChatStream) fills it in).
    ///
    /// Built as the JSON a non-streaming answer would carry, then decoded
    /// into the generated response type: the accumulator states only the
    /// fields it assembles, so a spec release that adds response fields
    /// changes nothing here. A chunk's usage becomes the response's usage
    /// the same way (they are separate generated types).
    pub fn finish(self) -> Result<ChatResponse, Error> {
        let choices: Vec<Value> = self
            .choices
            .into_iter()
            .map(|c| {
                let calls: Vec<Value> = c
                    .tools
                    .into_iter()
                    .map(|tool| json!({"id": tool.id, "type": "function", "function": {"name": tool.name, "arguments": tool.arguments}}))
                    .collect();
                let mut message = json!({"role": c.role.unwrap_or_else(|| "assistant".to_string())});
                if let Some(content) = c.content {
                    set(&mut message, "content", content);
                }
                if let Some(refusal) = c.refusal {
                    set(&mut message, "refusal", refusal);
                }
                if !calls.is_empty() {
                    set(&mut message, "tool_calls", calls);
                }
                let mut choice = json!({"index": c.index, "message": message});
                if let Some(reason) = c.finish_reason {
                    set(&mut choice, "finish_reason", reason);
                }
                choice
            })
            .collect();
        let mut body = json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        });
        if let Some(usage) = self.usage.as_ref().and_then(|u| serde_json::to_value(u).ok()) {
            set(&mut body, "usage", usage);
        }
        // The build guard checks that the response type takes what is
        // assembled here, so this fails only on a spec change the guard
        // does not know; the error says what was refused.
        let completion = from_json::<t::ChatCompletionResponse>("stream response", body).map_err(|refused| {
            let (_, value, why) = refused.into_parts();
            Error::Decode {
                what: "assembled stream response",
                status: 200,
                request_id: String::new(),
                message: why,
                snippet: value,
            }
        })?;
        Ok(ChatResponse::assembled(completion))
    }

    /// The state of choice `index`, created in order when new (always
    /// `Some`; an `Option` so no index can panic).
    fn choice_mut(&mut self, index: i64) -> Option<&mut ChoiceState> {
        let at = match self.choices.binary_search_by_key(&index, |c| c.index) {
            Ok(at) => at,
            Err(at) => {
                let fresh = ChoiceState {
                    index,
                    role: None,
                    content: None,
                    refusal: None,
                    finish_reason: None,
                    tools: Vec::new(),
                };
                self.choices.insert(at, fresh);
                at
            }
        };
        self.choices.get_mut(at)
    }
}

fn append(into: &mut Option<String>, piece: Option<&str>) {
    if let Some(piece) = piece {
        into.get_or_insert_with(String::new).push_str(piece);
    }
}

impl ChoiceState {
    fn push_tool(&mut self, delta: &t::ToolCallDelta) {
        let id = delta.id.as_deref().filter(|id| !id.is_empty());
        let by_index = delta
            .index
            .and_then(|i| self.tools.iter().rposition(|tool| tool.index == Some(i)));
        let target = match (by_index, id) {
            // Same index but a different id: a server numbering every
            // parallel call 0. It is a new call.
            (Some(at), Some(id)) if self.tools.get(at).is_some_and(|t| !t.id.is_empty() && t.id != id) => None,
            (Some(at), _) => Some(at),
            (None, Some(id)) => self.tools.iter().rposition(|tool| tool.id == id),
            // Neither index nor id: the continuation of the latest call.
            (None, None) if delta.index.is_none() => self.tools.len().checked_sub(1),
            (None, None) => None,
        };
        let at = target.unwrap_or_else(|| {
            self.tools.push(ToolState {
                index: delta.index,
                id: String::new(),
                name: String::new(),
                arguments: String::new(),
            });
            self.tools.len().saturating_sub(1)
        });
        let Some(tool) = self.tools.get_mut(at) else {
            return;
        };
        if let Some(id) = id {
            if tool.id.is_empty() {
                tool.id = id.to_string();
            }
        }
        if let Some(function) = &delta.function {
            if let Some(name) = function.name.as_deref().filter(|n| !n.is_empty()) {
                // Servers repeat the name on later fragments; never double it.
                if tool.name.is_empty() {
                    tool.name = name.to_string();
                }
            }
            if let Some(arguments) = &function.arguments {
                tool.arguments.push_str(arguments);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(v: serde_json::Value) -> t::ChatCompletionChunk {
        let mut base = serde_json::json!({"id": "c1", "created": 5, "model": "m", "object": "chat.completion.chunk"});
        base.as_object_mut().unwrap().extend(v.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn tool_chunks(calls: &[serde_json::Value]) -> StreamAccumulator {
        let mut acc = StreamAccumulator::new();
        for c in calls {
            acc.push(&chunk(
                serde_json::json!({"choices": [{"index": 0, "delta": {"tool_calls": [c]}}]}),
            ));
        }
        acc
    }

    fn tools(acc: StreamAccumulator) -> Vec<(String, String, String)> {
        acc.finish()
            .unwrap()
            .tool_calls()
            .into_iter()
            .map(|c| (c.id, c.name, c.arguments))
            .collect()
    }

    fn s(a: &str, b: &str, c: &str) -> (String, String, String) {
        (a.into(), b.into(), c.into())
    }

    #[test]
    fn interleaved_choices_text_refusal_finish_and_usage() {
        let mut acc = StreamAccumulator::new();
        acc.push(&chunk(serde_json::json!({"choices": [{"index": 1, "delta": {"role": "assistant", "content": null}}, {"index": 0, "delta": {}}]})));
        acc.push(&chunk(serde_json::json!({"choices": [{"index": 0, "delta": {"content": "He"}}, {"index": 1, "delta": {"refusal": "No"}}]})));
        acc.push(&chunk(serde_json::json!({"choices": [{"index": 1, "delta": {"refusal": "pe"}, "finish_reason": "stop"}, {"index": 0, "delta": {"content": "y"}, "finish_reason": "length"}]})));
        acc.push(&chunk(serde_json::json!({"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}, "meta": {"usage": {"credits_used": 7}}})));
        assert_eq!(acc.provider_meta().unwrap()["usage"]["credits_used"], 7);
        let r = acc.finish().unwrap();
        let c = &r.completion;
        assert_eq!(
            (c.id.as_str(), c.created, c.object.as_str()),
            ("c1", 5, "chat.completion")
        );
        assert_eq!(c.choices.iter().map(|c| c.index).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(c.choices[0].message.content.as_deref(), Some("Hey"));
        assert_eq!(c.choices[0].finish_reason.as_deref(), Some("length"));
        assert_eq!(c.choices[1].message.refusal.as_deref(), Some("Nope"));
        assert_eq!(c.choices[1].message.content, None);
        assert_eq!(c.usage.as_ref().unwrap().total_tokens, 3);
    }

    #[test]
    fn parallel_tool_calls_by_index() {
        let acc = tool_chunks(&[
            serde_json::json!({"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": ""}}),
            serde_json::json!({"index": 1, "id": "b", "type": "function", "function": {"name": "g", "arguments": "{"}}),
            serde_json::json!({"index": 0, "function": {"arguments": "{\"x\""}}),
            serde_json::json!({"index": 1, "function": {"arguments": "}"}}),
            serde_json::json!({"index": 0, "function": {"arguments": ":1}"}}),
        ]);
        assert_eq!(tools(acc), vec![s("a", "f", "{\"x\":1}"), s("b", "g", "{}")]);
    }

    #[test]
    fn missing_index_and_repeated_id() {
        let acc = tool_chunks(&[
            serde_json::json!({"id": "a", "function": {"name": "f", "arguments": "{"}}),
            serde_json::json!({"id": "a", "function": {"name": "f", "arguments": "}"}}),
            serde_json::json!({"id": "b", "function": {"name": "g"}}),
            serde_json::json!({"function": {"arguments": "[]"}}),
        ]);
        assert_eq!(tools(acc), vec![s("a", "f", "{}"), s("b", "g", "[]")]);
    }

    #[test]
    fn every_parallel_call_numbered_zero() {
        let acc = tool_chunks(&[
            serde_json::json!({"index": 0, "id": "a", "function": {"name": "f", "arguments": "1"}}),
            serde_json::json!({"index": 0, "function": {"arguments": "2"}}),
            serde_json::json!({"index": 0, "id": "b", "function": {"name": "g", "arguments": "3"}}),
            serde_json::json!({"index": 0, "function": {"arguments": "4"}}),
        ]);
        assert_eq!(tools(acc), vec![s("a", "f", "12"), s("b", "g", "34")]);
    }

    #[test]
    fn quirky_chunks_decode() {
        let raw = br#"{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","obfuscation":"zz","timings":{"a":1},"choices":[{"index":0,"finish_reason":null,"delta":{"content":null,"reasoning_content":"hmm"}},{"index":1,"delta":{}},{"index":2}]}"#;
        let c: t::ChatCompletionChunk = serde_json::from_slice(raw).unwrap();
        let mut acc = StreamAccumulator::new();
        acc.push(&c);
        let r = acc.finish().unwrap();
        assert_eq!(r.completion.choices.len(), 3);
        assert_eq!(r.completion.choices[0].message.role, "assistant");
        assert_eq!(r.text(), None);
    }
}
