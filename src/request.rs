//! Building a chat request that reads well and cannot be sent malformed.
//!
//! Setters take the types a user expects (`max_tokens: u32`, not the spec's
//! `number`); bounds come from the spec itself (a table build.rs extracts),
//! so a spec update that tightens a bound tightens the check.

use std::num::NonZeroU64;
use std::sync::Arc;

use crate::construct::{from_json, Refused};
use crate::error::Error;
use crate::fields::{self, Field, List};
use crate::generated::{types as t, REQUEST_BOUNDS, REQUEST_PROPERTIES};
use crate::message::Message;

/// A chat completion request. Model defaults to the client's.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// Built from JSON (see `construct.rs`); a refusal is reported when
    /// the request is validated. Shared, copied on write: a template
    /// request cloned for every call costs a reference count, not a deep
    /// copy of its messages (setters on a unique request never copy).
    pub(crate) wire: Result<Arc<t::ChatCompletionRequest>, Refused>,
    /// Whether the caller chose a model; otherwise the client's applies.
    model_set: bool,
    /// Body fields the spec does not have (`ChatRequest::extra`).
    extra: serde_json::Map<String, serde_json::Value>,
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
            wire: from_json(
                "request",
                serde_json::json!({"messages": [], "model": "", "stream": false}),
            )
            .map(Arc::new),
            model_set: false,
            extra: serde_json::Map::new(),
            problem: None,
        }
    }

    /// Applies `change` to the generated request, if it was built.
    fn with(mut self, change: impl FnOnce(&mut t::ChatCompletionRequest)) -> Self {
        if let Ok(wire) = &mut self.wire {
            change(Arc::make_mut(wire));
        }
        self
    }

    /// A request with one user message: the common case.
    pub fn user_prompt(text: impl Into<String>) -> Self {
        Self::new().user(text)
    }

    fn note(&mut self, field: &str, value: impl ToString, expected: &str) {
        self.problem
            .get_or_insert_with(|| (field.into(), value.to_string(), expected.into()));
    }

    fn refused(&mut self, refused: Refused) {
        self.problem.get_or_insert_with(|| refused.into_parts());
    }

    /// Overrides the client's model for this request.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model_set = true;
        let model = model.into();
        self.with(|w| w.model.put(model))
    }

    /// Appends a message.
    pub fn message(mut self, message: Message) -> Self {
        match message.0 {
            Ok(m) => self.with(|w| w.messages.items_mut().push(m)),
            Err(refused) => {
                self.refused(refused);
                self
            }
        }
    }

    /// Appends messages.
    pub fn messages(self, messages: impl IntoIterator<Item = Message>) -> Self {
        messages.into_iter().fold(self, Self::message)
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
            Some(v) => self = self.with(|w| w.max_tokens = Some(v)),
            None => self.note("max_tokens", tokens, "it must be at least 1"),
        }
        self
    }

    /// Upper bound on generated tokens, newer name; some hosts want this one.
    pub fn max_completion_tokens(mut self, tokens: u32) -> Self {
        match NonZeroU64::new(tokens.into()) {
            Some(v) => self = self.with(|w| w.max_completion_tokens = Some(v)),
            None => self.note("max_completion_tokens", tokens, "it must be at least 1"),
        }
        self
    }

    /// Sampling temperature.
    pub fn temperature(self, value: f64) -> Self {
        self.with(|w| w.temperature = Some(value))
    }

    /// Nucleus sampling mass.
    pub fn top_p(self, value: f64) -> Self {
        self.with(|w| w.top_p = Some(value))
    }

    /// Top-k sampling.
    pub fn top_k(self, value: u32) -> Self {
        self.with(|w| w.top_k = Some(value.into()))
    }

    /// Min-p sampling.
    pub fn min_p(self, value: f64) -> Self {
        self.with(|w| w.min_p = Some(value))
    }

    /// Number of choices to generate.
    pub fn n(mut self, n: u32) -> Self {
        match NonZeroU64::new(n.into()) {
            Some(v) => self = self.with(|w| w.n = Some(v)),
            None => self.note("n", n, "it must be at least 1"),
        }
        self
    }

    /// Adds a stop sequence (repeatable).
    pub fn stop(mut self, sequence: impl Into<String>) -> Self {
        let mut all: Vec<serde_json::Value> = match self.wire.as_ref().map(|w| serde_json::to_value(&w.stop)) {
            Ok(Ok(serde_json::Value::Array(all))) => all,
            Ok(Ok(serde_json::Value::String(first))) => vec![first.into()],
            _ => Vec::new(),
        };
        all.push(sequence.into().into());
        match from_json("stop", all.into()) {
            Ok(stop) => self.with(|w| w.stop = Some(stop)),
            Err(refused) => {
                self.refused(refused);
                self
            }
        }
    }

    /// Seed for reproducible sampling.
    pub fn seed(mut self, seed: u64) -> Self {
        match NonZeroU64::new(seed) {
            Some(v) => self = self.with(|w| w.seed = Some(v)),
            None => self.note("seed", seed, "it must be at least 1"),
        }
        self
    }

    /// Penalises tokens by how often they appeared.
    pub fn frequency_penalty(self, value: f64) -> Self {
        self.with(|w| w.frequency_penalty = Some(value))
    }

    /// Penalises tokens that appeared at all.
    pub fn presence_penalty(self, value: f64) -> Self {
        self.with(|w| w.presence_penalty = Some(value))
    }

    /// Repetition penalty (llama.cpp / vLLM style).
    pub fn repetition_penalty(self, value: f64) -> Self {
        self.with(|w| w.repetition_penalty = Some(value))
    }

    /// Biases a token id by `bias` (repeatable).
    pub fn logit_bias(self, token_id: u32, bias: f64) -> Self {
        self.with(|w| {
            w.logit_bias
                .get_or_insert_with(Default::default)
                .insert(token_id.to_string(), bias);
        })
    }

    /// Returns log probabilities of the output tokens.
    pub fn logprobs(self, enabled: bool) -> Self {
        self.with(|w| w.logprobs = Some(enabled))
    }

    /// How many alternatives per token to report with `logprobs`.
    pub fn top_logprobs(self, count: u32) -> Self {
        self.with(|w| w.top_logprobs = Some(count.into()))
    }

    /// Lets the model call several tools in one turn.
    pub fn parallel_tool_calls(self, enabled: bool) -> Self {
        self.with(|w| w.parallel_tool_calls = Some(enabled))
    }

    /// Declares a function tool with a JSON Schema for its arguments.
    /// [`Tool::function`](crate::Tool::function) derives the schema from a Rust type.
    pub fn tool(mut self, tool: crate::Tool) -> Self {
        match tool.wire {
            Ok(tool) => self.with(|w| w.tools.items_mut().push(tool)),
            Err(refused) => {
                self.refused(refused);
                self
            }
        }
    }

    /// Sets a generated option from the JSON the API documents for it.
    fn set_json<T: serde::de::DeserializeOwned>(
        mut self,
        what: &'static str,
        json: serde_json::Value,
        set: impl FnOnce(&mut t::ChatCompletionRequest, T),
    ) -> Self {
        match from_json(what, json) {
            Ok(value) => self.with(|w| set(w, value)),
            Err(refused) => {
                self.refused(refused);
                self
            }
        }
    }

    /// Which tool the model must call, if any.
    pub fn tool_choice(self, choice: ToolChoice) -> Self {
        let json = match choice {
            ToolChoice::Auto => "auto".into(),
            ToolChoice::None => "none".into(),
            ToolChoice::Required => "required".into(),
            ToolChoice::Function(name) => serde_json::json!({"type": "function", "function": {"name": name}}),
        };
        self.set_json("tool_choice", json, |w, v| w.tool_choice = Some(v))
    }

    /// Asks for any valid JSON object as the answer.
    pub fn json_object(self) -> Self {
        let json = serde_json::json!({"type": "json_object"});
        self.set_json("response_format", json, |w, v| w.response_format = Some(v))
    }

    /// Asks for JSON matching `schema`; see also
    /// [`Client::chat_structured`](crate::Client::chat_structured).
    pub fn json_schema(mut self, name: impl Into<String>, schema: serde_json::Value, strict: bool) -> Self {
        if !schema.is_object() {
            self.note(
                "response_format.json_schema.schema",
                schema,
                "it must be a JSON object (a JSON Schema)",
            );
            return self;
        }
        let json = serde_json::json!({"type": "json_schema", "json_schema": {"name": name.into(), "schema": schema, "strict": strict}});
        self.set_json("response_format", json, |w, v| w.response_format = Some(v))
    }

    /// Asks streams to end with a usage chunk.
    pub fn include_usage(self, enabled: bool) -> Self {
        let json = serde_json::json!({"include_usage": enabled});
        self.set_json("stream_options", json, |w, v| w.stream_options = Some(v))
    }

    /// Adds a body field the spec does not have, for hosts that take more
    /// than the published contract: vLLM's `guided_json` or
    /// `chat_template_kwargs`, OpenRouter's `top_a`, LiteLLM's `metadata`.
    /// Sent as given, after the typed fields. A key the typed request
    /// already has is refused (when the request is sent or validated)
    /// with an error naming it: set those through their setters or
    /// [`wire_mut`](Self::wire_mut), so they stay checked.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        let key = key.into();
        if REQUEST_PROPERTIES.contains(&key.as_str()) {
            self.note(
                &format!("extra({key:?})"),
                "a field of the typed request",
                "set it with its own setter (or wire_mut()); extra() is for fields the spec does not have",
            );
            return self;
        }
        self.extra.insert(key, value.into());
        self
    }

    /// A request from the JSON body a user already has: a line of an
    /// OpenAI Batch file, a saved request, a proxy's input. Every field the
    /// spec names is decoded into its typed form and checked as the setters
    /// would check it (types, enums, the spec's bounds, at least one
    /// message); every other key is kept as an [`extra`](Self::extra) field
    /// and sent as given. `model` may be absent or empty: the client's model
    /// then applies. `stream` is kept, and read back by
    /// [`wants_stream`](Self::wants_stream), but [`Client::chat`](crate::Client::chat)
    /// and [`Client::chat_stream`](crate::Client::chat_stream) decide it
    /// when sending.
    ///
    /// ```
    /// let request = maverick::ChatRequest::from_json(serde_json::json!({
    ///     "messages": [{"role": "user", "content": "Hi"}],
    ///     "max_tokens": 16,
    ///     "guided_json": {"type": "object"}
    /// }))?;
    /// assert!(!request.wants_stream());
    /// # Ok::<(), maverick::Error>(())
    /// ```
    ///
    /// A refusal is [`Error::InvalidRequest`] naming the field by its JSON
    /// path (`messages[0].role`), the value found there and what the spec
    /// expects.
    pub fn from_json(body: serde_json::Value) -> Result<ChatRequest, Error> {
        let serde_json::Value::Object(mut all) = body else {
            let shown = crate::error::snippet(&body.to_string(), 80);
            return Err(Error::invalid(
                "body",
                shown,
                "it must be a JSON object (a chat completion request)",
            ));
        };
        let extra: serde_json::Map<String, serde_json::Value> = {
            let unknown: Vec<String> = all
                .keys()
                .filter(|k| !REQUEST_PROPERTIES.contains(&k.as_str()))
                .cloned()
                .collect();
            unknown
                .into_iter()
                .filter_map(|k| all.remove(&k).map(|v| (k, v)))
                .collect()
        };
        let model_set = match all.get("model") {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::String(m)) => !m.trim().is_empty(),
            Some(_) => true,
        };
        if !model_set && !matches!(all.get("model"), Some(serde_json::Value::String(_))) {
            all.insert("model".into(), serde_json::Value::String(String::new()));
        }
        let typed = serde_json::Value::Object(all);
        let wire: t::ChatCompletionRequest = serde_path_to_error::deserialize(&typed).map_err(|e| {
            let path = e.path().to_string();
            let found = value_at(&typed, e.path());
            let shown = match found {
                Some(v) => crate::error::snippet(&v.to_string(), 80),
                None => "missing".to_string(),
            };
            let field = if path == "." { "body".to_string() } else { path };
            Error::invalid(field, shown, format!("the request schema refuses it: {}", e.inner()))
        })?;
        let request = ChatRequest {
            wire: Ok(Arc::new(wire)),
            model_set,
            extra,
            problem: None,
        };
        request.validate()?;
        Ok(request)
    }

    /// Whether the request asks for a streamed answer (`"stream": true` in
    /// a body given to [`from_json`](Self::from_json)). Bulk runners use it
    /// to call [`Client::chat_stream`](crate::Client::chat_stream) and
    /// collect the stream, so the answer is the same either way.
    pub fn wants_stream(&self) -> bool {
        self.wire
            .as_ref()
            .is_ok_and(|w| Field::<bool>::val(&w.stream).copied().unwrap_or(false))
    }

    /// The generated wire type, for fields this wrapper does not cover.
    /// Fails only when the generated types refused what the wrapper built
    /// (a spec change it does not cover).
    pub fn wire_mut(&mut self) -> Result<&mut t::ChatCompletionRequest, Error> {
        self.wire
            .as_mut()
            .map(Arc::make_mut)
            .map_err(|r| r.clone().into_error())
    }

    /// The request as it will be serialised (model empty until set; the
    /// client's model fills it when sent).
    pub fn wire(&self) -> Result<&t::ChatCompletionRequest, Error> {
        self.wire.as_deref().map_err(|r| r.clone().into_error())
    }

    /// The messages of the request, for a transcript.
    pub(crate) fn messages_sent(&self) -> Vec<Message> {
        match &self.wire {
            Ok(w) => w.messages.items().iter().cloned().map(Message::from).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Checks the request against the spec's bounds without sending it.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some((field, value, expected)) = &self.problem {
            return Err(Error::invalid(field.clone(), value, expected.clone()));
        }
        let w = self.wire()?;
        if w.messages.items().is_empty() {
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
    pub(crate) fn into_wire(self, default_model: &str, stream: bool) -> Result<WireBody, Error> {
        self.validate()?;
        let mut wire = self.wire.map_err(Refused::into_error)?;
        let unset = fields::text(&wire.model).is_none_or(|m| m.trim().is_empty());
        let fill_model = !self.model_set || unset;
        let fix_stream = wire.stream.val() != Some(&stream) || (!stream && wire.stream_options.is_some());
        // A request reused as a template is only copied when this call
        // changes it.
        if fill_model || fix_stream {
            let wire = Arc::make_mut(&mut wire);
            if fill_model {
                wire.model.put(default_model.to_string());
            }
            wire.stream.put(stream);
            if !stream {
                wire.stream_options = None;
            }
        }
        Ok(WireBody {
            wire,
            extra: self.extra,
        })
    }
}

/// The body as it goes out: the typed request, then the extra fields.
#[derive(Debug)]
pub(crate) struct WireBody {
    pub wire: Arc<t::ChatCompletionRequest>,
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl WireBody {
    /// Serialises the body; with no extra fields, exactly the typed request.
    pub(crate) fn to_vec(&self) -> serde_json::Result<Vec<u8>> {
        #[derive(serde::Serialize)]
        struct WithExtra<'a> {
            #[serde(flatten)]
            wire: &'a t::ChatCompletionRequest,
            #[serde(flatten)]
            extra: &'a serde_json::Map<String, serde_json::Value>,
        }
        match self.extra.is_empty() {
            true => serde_json::to_vec(&*self.wire),
            false => serde_json::to_vec(&WithExtra {
                wire: &self.wire,
                extra: &self.extra,
            }),
        }
    }
}

impl From<t::ChatCompletionRequest> for ChatRequest {
    fn from(wire: t::ChatCompletionRequest) -> Self {
        let model_set = fields::text(&wire.model).is_some_and(|m| !m.trim().is_empty());
        ChatRequest {
            wire: Ok(Arc::new(wire)),
            model_set,
            extra: serde_json::Map::new(),
            problem: None,
        }
    }
}

/// The value at a serde path (`messages[0].role`), for error messages.
fn value_at<'a>(root: &'a serde_json::Value, path: &serde_path_to_error::Path) -> Option<&'a serde_json::Value> {
    use serde_path_to_error::Segment;
    path.iter().try_fold(root, |at, segment| match segment {
        Segment::Seq { index } => at.get(*index),
        Segment::Map { key } => at.get(key.as_str()),
        Segment::Enum { .. } | Segment::Unknown => Some(at),
    })
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
            (None, None) => return Ok(()),
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
            .unwrap()
            .wire;
        assert_eq!(serde_json::to_value(&w.stop).unwrap(), serde_json::json!(["a", "b"]));
        assert_eq!(w.model, "m");
        let w = ChatRequest::user_prompt("x")
            .model("other")
            .into_wire("m", true)
            .unwrap()
            .wire;
        assert_eq!((w.model.as_str(), w.stream), ("other", true));
    }

    #[test]
    fn from_json_checks_typed_fields_and_keeps_unknown_keys() {
        use serde_json::json;
        let r = ChatRequest::from_json(json!({
            "messages": [{"role": "user", "content": "Hi"}],
            "max_tokens": 8,
            "stream": true,
            "guided_json": {"type": "object"}
        }))
        .unwrap();
        assert!(r.wants_stream());
        let body = r.into_wire("default-model", false).unwrap();
        assert_eq!(body.wire.model, "default-model", "no model: the client's applies");
        let sent: serde_json::Value = serde_json::from_slice(&body.to_vec().unwrap()).unwrap();
        assert_eq!(sent["guided_json"], json!({"type": "object"}));
        assert_eq!(sent["max_tokens"], 8);

        let named = ChatRequest::from_json(json!({"model": "m2", "messages": [{"role": "user", "content": "x"}]}))
            .unwrap()
            .into_wire("default-model", false)
            .unwrap();
        assert_eq!(named.wire.model, "m2");

        let e = ChatRequest::from_json(json!({"messages": [{"role": "wizard", "content": "x"}]}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("messages[0]") && e.contains("wizard"), "{e}");
        let e = ChatRequest::from_json(json!({"messages": [{"role": "user", "content": "x"}], "max_tokens": "ten"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`max_tokens` is \"ten\""), "{e}");
        let e = ChatRequest::from_json(json!({"messages": [{"role": "user", "content": "x"}], "temperature": 7}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`temperature` is 7") && e.contains("between 0 and 2"), "{e}");
        let e = ChatRequest::from_json(json!({"model": "m"})).unwrap_err().to_string();
        assert!(e.contains("messages"), "{e}");
        let e = ChatRequest::from_json(json!({"messages": []})).unwrap_err().to_string();
        assert!(e.contains("at least one message"), "{e}");
        let e = ChatRequest::from_json(json!([1])).unwrap_err().to_string();
        assert!(e.contains("`body`") && e.contains("JSON object"), "{e}");
    }
}
