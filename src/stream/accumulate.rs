//! Folding stream chunks into the response a non-streaming call returns, so
//! that code written against [`ChatResponse`] works for both.

use crate::generated::types as t;
use crate::response::{ChatResponse, ResponseMeta};

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
    usage: Option<t::Usage>,
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
        self.chunks += 1;
        // The usage-only chunk of some servers has an empty id; keep the first real one.
        if !self.seen_first || (self.id.is_empty() && !chunk.id.is_empty()) {
            self.seen_first = true;
            self.id.clone_from(&chunk.id);
            self.created = chunk.created;
            self.model.clone_from(&chunk.model);
        }
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.clone());
        }
        if let Some(meta) = &chunk.meta {
            self.meta = Some(meta.clone());
        }
        for choice in &chunk.choices {
            let state = self.choice_mut(choice.index);
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
            for call in delta.tool_calls.iter().flatten() {
                state.push_tool(call);
            }
        }
    }

    /// Token counts from the usage chunk, once it has arrived.
    pub fn usage(&self) -> Option<&t::Usage> {
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
    pub fn finish(self) -> ChatResponse {
        let choices = self
            .choices
            .into_iter()
            .map(|c| {
                let tool_calls: Vec<t::ToolCall> = c
                    .tools
                    .into_iter()
                    .map(|tool| t::ToolCall::Function {
                        function: t::ToolCallFunction {
                            arguments: tool.arguments,
                            name: tool.name,
                        },
                        id: tool.id,
                    })
                    .collect();
                t::ChatChoice {
                    finish_reason: c.finish_reason,
                    index: c.index,
                    logprobs: None,
                    message: t::ResponseMessage {
                        annotations: None,
                        audio: None,
                        content: c.content,
                        refusal: c.refusal,
                        role: c.role.unwrap_or_else(|| "assistant".to_string()),
                        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                    },
                }
            })
            .collect();
        ChatResponse {
            completion: t::ChatCompletionResponse {
                choices,
                created: self.created,
                id: self.id,
                model: self.model,
                object: "chat.completion".to_string(),
                usage: self.usage,
            },
            meta: ResponseMeta::default(),
        }
    }

    fn choice_mut(&mut self, index: i64) -> &mut ChoiceState {
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
        &mut self.choices[at]
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
            (Some(at), Some(id)) if !self.tools[at].id.is_empty() && self.tools[at].id != id => None,
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
            self.tools.len() - 1
        });
        let tool = &mut self.tools[at];
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
        let r = acc.finish();
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
        let r = acc.finish();
        assert_eq!(r.completion.choices.len(), 3);
        assert_eq!(r.completion.choices[0].message.role, "assistant");
        assert_eq!(r.text(), None);
    }
}
