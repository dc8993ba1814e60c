//! Building a chat request that reads well and cannot be sent malformed.
//!
//! Setters take the types a user expects (`max_tokens: u32`, not the spec's
//! `number`); bounds come from the spec itself (a table build.rs extracts),
//! so a spec update that tightens a bound tightens the check.

use std::num::NonZeroU64;

use crate::error::Error;
use crate::generated::{types as t, REQUEST_BOUNDS};
use crate::message::Message;

/// A chat completion request. Model defaults to the client's.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub(crate) wire: t::ChatCompletionRequest,
    /// First setter argument that could not be represented (e.g. `n(0)`);
    /// reported when the request is sent or validated, never dropped.
    problem: Option<(String, String, String)>,
}

impl Default for ChatRequest {
    fn default() -> Self {
        Self::new()
    }
}

/// Which tool the model must (or may) call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolChoice {
    /// The model decides (the default when tools are given).
    Auto,
    /// No tool calls.
    None,
    /// At least one tool call.
    Required,
    /// This function.
    Function(String),
}

impl ChatRequest {
    /// An empty request; add messages with [`message`](Self::message) or the
    /// shorthands [`system`](Self::system) and [`user`](Self::user).
    pub fn new() -> Self {
        ChatRequest {
            wire: t::ChatCompletionRequest {
                frequency_penalty: None,
                logit_bias: None,
                logprobs: None,
                max_completion_tokens: None,
                max_tokens: None,
                messages: Vec::new(),
                min_p: None,
                model: String::new(),
                n: None,
                parallel_tool_calls: None,
                prediction: None,
                presence_penalty: None,
                repetition_penalty: None,
                response_format: None,
                seed: None,
                stop: None,
                stream: false,
                stream_options: None,
                temperature: None,
                tool_choice: None,
                tools: Vec::new(),
                top_k: None,
                top_logprobs: None,
                top_p: None,
            },
            problem: None,
        }
    }

    /// A request with one user message: the common case.
    pub fn user_prompt(text: impl Into<String>) -> Self {
        Self::new().user(text)
    }

    fn note(&mut self, field: &str, value: impl ToString, expected: &str) {
        self.problem
            .get_or_insert_with(|| (field.into(), value.to_string(), expected.into()));
    }

    /// Overrides the client's model for this request.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.wire.model = model.into();
        self
    }

    /// Appends a message.
    pub fn message(mut self, message: Message) -> Self {
        self.wire.messages.push(message.0);
        self
    }

    /// Appends messages.
    pub fn messages(mut self, messages: impl IntoIterator<Item = Message>) -> Self {
        self.wire.messages.extend(messages.into_iter().map(|m| m.0));
        self
    }

    /// Appends a system message.
    pub fn system(self, text: impl Into<String>) -> Self {
        self.message(Message::system(text))
    }

    /// Appends a user message.
    pub fn user(self, text: impl Into<String>) -> Self {
        self.message(Message::user(text))
    }

    /// Appends an assistant message (a previous reply).
    pub fn assistant(self, text: impl Into<String>) -> Self {
        self.message(Message::assistant(text))
    }

    /// Upper bound on generated tokens.
    pub fn max_tokens(mut self, tokens: u32) -> Self {
        match NonZeroU64::new(tokens.into()) {
            Some(v) => self.wire.max_tokens = Some(v),
            None => self.note("max_tokens", tokens, "it must be at least 1"),
        }
        self
    }

    /// Upper bound on generated tokens, newer name; some hosts want this one.
    pub fn max_completion_tokens(mut self, tokens: u32) -> Self {
        match NonZeroU64::new(tokens.into()) {
            Some(v) => self.wire.max_completion_tokens = Some(v),
            None => self.note("max_completion_tokens", tokens, "it must be at least 1"),
        }
        self
    }

    /// Sampling temperature.
    pub fn temperature(mut self, value: f64) -> Self {
        self.wire.temperature = Some(value);
        self
    }

    /// Nucleus sampling mass.
    pub fn top_p(mut self, value: f64) -> Self {
        self.wire.top_p = Some(value);
        self
    }

    /// Top-k sampling.
    pub fn top_k(mut self, value: u32) -> Self {
        self.wire.top_k = Some(value.into());
        self
    }

    /// Min-p sampling.
    pub fn min_p(mut self, value: f64) -> Self {
        self.wire.min_p = Some(value);
        self
    }

    /// Number of choices to generate.
    pub fn n(mut self, n: u32) -> Self {
        match NonZeroU64::new(n.into()) {
            Some(v) => self.wire.n = Some(v),
            None => self.note("n", n, "it must be at least 1"),
        }
        self
    }

    /// Adds a stop sequence (repeatable).
    pub fn stop(mut self, sequence: impl Into<String>) -> Self {
        let s = sequence.into();
        self.wire.stop = Some(match self.wire.stop.take() {
            None => t::StopSequences::Array(vec![s]),
            Some(t::StopSequences::String(first)) => t::StopSequences::Array(vec![first, s]),
            Some(t::StopSequences::Array(mut all)) => {
                all.push(s);
                t::StopSequences::Array(all)
            }
        });
        self
    }

    /// Seed for reproducible sampling.
    pub fn seed(mut self, seed: u64) -> Self {
        match NonZeroU64::new(seed) {
            Some(v) => self.wire.seed = Some(v),
            None => self.note("seed", seed, "it must be at least 1"),
        }
        self
    }

    /// Penalises tokens by how often they appeared.
    pub fn frequency_penalty(mut self, value: f64) -> Self {
        self.wire.frequency_penalty = Some(value);
        self
    }

    /// Penalises tokens that appeared at all.
    pub fn presence_penalty(mut self, value: f64) -> Self {
        self.wire.presence_penalty = Some(value);
        self
    }

    /// Repetition penalty (llama.cpp / vLLM style).
    pub fn repetition_penalty(mut self, value: f64) -> Self {
        self.wire.repetition_penalty = Some(value);
        self
    }

    /// Biases a token id by `bias` (repeatable).
    pub fn logit_bias(mut self, token_id: u32, bias: f64) -> Self {
        self.wire
            .logit_bias
            .get_or_insert_with(Default::default)
            .insert(token_id.to_string(), bias);
        self
    }

    /// Returns log probabilities of the output tokens.
    pub fn logprobs(mut self, enabled: bool) -> Self {
        self.wire.logprobs = Some(enabled);
        self
    }

    /// How many alternatives per token to report with `logprobs`.
    pub fn top_logprobs(mut self, count: u32) -> Self {
        self.wire.top_logprobs = Some(count.into());
        self
    }

    /// Lets the model call several tools in one turn.
    pub fn parallel_tool_calls(mut self, enabled: bool) -> Self {
        self.wire.parallel_tool_calls = Some(enabled);
        self
    }

    /// Declares a function tool with a JSON Schema for its arguments.
    /// [`Tool::function`](crate::Tool::function) derives the schema from a Rust type.
    pub fn tool(mut self, tool: crate::Tool) -> Self {
        self.wire.tools.push(tool.0);
        self
    }

    /// Which tool the model must call, if any.
    pub fn tool_choice(mut self, choice: ToolChoice) -> Self {
        self.wire.tool_choice = Some(match choice {
            ToolChoice::Auto => t::ToolChoice::String(t::ToolChoiceString::Auto),
            ToolChoice::None => t::ToolChoice::String(t::ToolChoiceString::None),
            ToolChoice::Required => t::ToolChoice::String(t::ToolChoiceString::Required),
            ToolChoice::Function(name) => t::ToolChoice::Object {
                function: t::ToolChoiceObjectFunction { name },
                type_: t::ToolChoiceObjectType::Function,
            },
        });
        self
    }

    /// Asks for any valid JSON object as the answer.
    pub fn json_object(mut self) -> Self {
        self.wire.response_format = Some(t::ResponseFormat::JsonObject);
        self
    }

    /// Asks for JSON matching `schema`; see also
    /// [`Client::chat_structured`](crate::Client::chat_structured).
    pub fn json_schema(mut self, name: impl Into<String>, schema: serde_json::Value, strict: bool) -> Self {
        match schema {
            serde_json::Value::Object(schema) => {
                self.wire.response_format = Some(t::ResponseFormat::JsonSchema {
                    description: None,
                    name: name.into(),
                    schema,
                    strict: Some(strict),
                });
            }
            other => self.note(
                "response_format.json_schema.schema",
                other,
                "it must be a JSON object (a JSON Schema)",
            ),
        }
        self
    }

    /// Asks streams to end with a usage chunk.
    pub fn include_usage(mut self, enabled: bool) -> Self {
        self.wire.stream_options = Some(t::StreamOptions { include_usage: enabled });
        self
    }

    /// The generated wire type, for fields this wrapper does not cover.
    pub fn wire_mut(&mut self) -> &mut t::ChatCompletionRequest {
        &mut self.wire
    }

    /// The request as it will be serialised (model still empty if unset).
    pub fn wire(&self) -> &t::ChatCompletionRequest {
        &self.wire
    }

    /// Checks the request against the spec's bounds without sending it.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some((field, value, expected)) = &self.problem {
            return Err(Error::invalid(field.clone(), value, expected.clone()));
        }
        let w = &self.wire;
        if w.messages.is_empty() {
            return Err(Error::invalid("messages", "empty", "at least one message is required"));
        }
        let int = |v: Option<i64>| v.map(|v| v as f64);
        let nz = |v: Option<NonZeroU64>| v.map(|v| v.get() as f64);
        let fields = [
            ("temperature", w.temperature),
            ("top_p", w.top_p),
            ("min_p", w.min_p),
            ("frequency_penalty", w.frequency_penalty),
            ("presence_penalty", w.presence_penalty),
            ("repetition_penalty", w.repetition_penalty),
            ("top_k", int(w.top_k)),
            ("top_logprobs", int(w.top_logprobs)),
            ("n", nz(w.n)),
            ("max_tokens", nz(w.max_tokens)),
            ("max_completion_tokens", nz(w.max_completion_tokens)),
            ("seed", nz(w.seed)),
        ];
        for (field, value) in fields {
            if let Some(v) = value {
                check_bound(field, field, v)?;
            }
        }
        for (token, bias) in w.logit_bias.iter().flatten() {
            check_bound("logit_bias.*", &format!("logit_bias[{token}]"), *bias)?;
        }
        Ok(())
    }

    /// Fills the model and checks the request; `stream` is set by the caller.
    pub(crate) fn into_wire(self, default_model: &str, stream: bool) -> Result<t::ChatCompletionRequest, Error> {
        self.validate()?;
        let mut wire = self.wire;
        if wire.model.trim().is_empty() {
            wire.model = default_model.to_string();
        }
        wire.stream = stream;
        if !stream {
            wire.stream_options = None;
        }
        Ok(wire)
    }
}

impl From<t::ChatCompletionRequest> for ChatRequest {
    fn from(wire: t::ChatCompletionRequest) -> Self {
        ChatRequest { wire, problem: None }
    }
}

fn check_bound(spec_field: &str, shown: &str, value: f64) -> Result<(), Error> {
    if !value.is_finite() {
        return Err(Error::invalid(shown, value, "it must be a finite number"));
    }
    let Some(bound) = REQUEST_BOUNDS.iter().find(|b| b.field == spec_field) else {
        return Ok(());
    };
    let low = bound.minimum.is_some_and(|m| value < m);
    let high = bound.maximum.is_some_and(|m| value > m);
    if low || high {
        let expected = match (bound.minimum, bound.maximum) {
            (Some(lo), Some(hi)) => format!("it must be between {lo} and {hi} (inclusive)"),
            (Some(lo), None) => format!("it must be at least {lo}"),
            (None, Some(hi)) => format!("it must be at most {hi}"),
            (None, None) => unreachable!("a bound without limits is never flagged"),
        };
        return Err(Error::invalid(shown, value, expected));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: ChatRequest) -> String {
        r.validate().unwrap_err().to_string()
    }

    #[test]
    fn bounds_from_the_spec_name_field_value_and_bound() {
        let base = || ChatRequest::user_prompt("hi");
        assert!(base().temperature(2.0).top_p(1.0).validate().is_ok());
        assert_eq!(
            err(base().temperature(2.5)),
            "invalid request: `temperature` is 2.5, but it must be between 0 and 2 (inclusive)"
        );
        assert!(err(base().top_p(0.0)).contains("`top_p` is 0"));
        assert!(err(base().presence_penalty(-3.0)).contains("between -2 and 2"));
        assert!(err(base().top_logprobs(21)).contains("`top_logprobs` is 21"));
        assert!(err(base().logit_bias(42, 101.0)).contains("`logit_bias[42]` is 101"));
        assert!(err(base().temperature(f64::NAN)).contains("finite"));
        assert_eq!(err(base().n(0)), "invalid request: `n` is 0, but it must be at least 1");
        assert!(
            err(base().max_tokens(0).temperature(9.0)).contains("max_tokens"),
            "first problem wins"
        );
        assert!(err(ChatRequest::new()).contains("at least one message"));
    }

    #[test]
    fn stop_accumulates_and_model_defaults() {
        let w = ChatRequest::user_prompt("x")
            .stop("a")
            .stop("b")
            .into_wire("m", false)
            .unwrap();
        assert_eq!(serde_json::to_value(&w.stop).unwrap(), serde_json::json!(["a", "b"]));
        assert_eq!(w.model, "m");
        let w = ChatRequest::user_prompt("x")
            .model("other")
            .into_wire("m", true)
            .unwrap();
        assert_eq!((w.model.as_str(), w.stream), ("other", true));
    }
}
