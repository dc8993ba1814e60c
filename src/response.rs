//! What a call returns: the typed completion plus what the headers said.

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName};

use crate::fields::{self, Field, List};
use crate::generated::types as t;

/// Facts about the HTTP exchange that the body does not carry.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// HTTP status of the answer.
    pub status: u16,
    /// The `X-Client-Request-Id` this client sent (and the provider echoes).
    pub request_id: String,
    /// `x-inference-id`: the provider's id for this generation.
    pub inference_id: Option<String>,
    /// `x-aimlapi-credits-used`.
    pub credits_used: Option<f64>,
    /// `x-aimlapi-usd-spent`.
    pub usd_spent: Option<f64>,
    /// Attempts made, retries included.
    pub attempts: u32,
}

/// Header names parsed once, not on every call.
const INFERENCE_ID: HeaderName = HeaderName::from_static("x-inference-id");
const CREDITS_USED: HeaderName = HeaderName::from_static("x-aimlapi-credits-used");
const USD_SPENT: HeaderName = HeaderName::from_static("x-aimlapi-usd-spent");

fn header_text(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
}

/// `x-inference-id`, for success and error answers alike.
pub(crate) fn inference_id(headers: &HeaderMap) -> Option<String> {
    header_text(headers, &INFERENCE_ID)
}

impl ResponseMeta {
    pub(crate) fn from_headers(status: u16, headers: &HeaderMap, request_id: String, attempts: u32) -> Self {
        // A hostile or broken host may send NaN or infinities: not figures.
        let number = |value: &reqwest::header::HeaderValue| {
            value
                .to_str()
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite())
        };
        let mut meta = ResponseMeta {
            status,
            request_id,
            inference_id: None,
            credits_used: None,
            usd_spent: None,
            attempts,
        };
        // One pass over the few headers an answer has, rather than three
        // hashed lookups: cheaper, and it leaves the map's index untouched.
        // Of a repeated header, the first usable value counts.
        for (name, value) in headers {
            if *name == INFERENCE_ID && meta.inference_id.is_none() {
                meta.inference_id = value.to_str().ok().map(|s| s.trim().to_string());
            } else if *name == CREDITS_USED && meta.credits_used.is_none() {
                meta.credits_used = number(value);
            } else if *name == USD_SPENT && meta.usd_spent.is_none() {
                meta.usd_spent = number(value);
            }
        }
        meta
    }
}

/// Why the model stopped. Servers send values no spec lists, so unknown
/// ones are kept rather than failing the response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FinishReason {
    /// The model finished its answer or hit a stop sequence.
    Stop,
    /// The model hit `max_tokens` (or the context length); the answer is cut
    /// short.
    Length,
    /// The model stopped to call one or more tools; run them and send the
    /// results back.
    ToolCalls,
    /// The provider's content filter withheld or cut the answer.
    ContentFilter,
    /// The model called a function through the deprecated `function_call`
    /// interface rather than `tools`.
    FunctionCall,
    /// A reason the spec does not list (`eos`, `abort`, ...), as sent.
    Other(String),
}

impl FinishReason {
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "stop" => FinishReason::Stop,
            "length" => FinishReason::Length,
            "tool_calls" => FinishReason::ToolCalls,
            "content_filter" => FinishReason::ContentFilter,
            "function_call" => FinishReason::FunctionCall,
            other => FinishReason::Other(other.to_string()),
        }
    }
}

/// The processing tier that served a request. The spec lists `auto`,
/// `default`, `flex`, `scale` and `priority`; Groq sends `on_demand`, and
/// the generated field is an open string, so unknown tiers are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServiceTier {
    /// The provider picked the tier from the account's settings.
    Auto,
    /// The standard tier, with standard pricing and latency.
    Default,
    /// A cheaper tier that trades latency and availability for price.
    Flex,
    /// Capacity reserved for the account (scale tier).
    Scale,
    /// A faster, more expensive tier with priority processing.
    Priority,
    /// A tier the spec does not list, as sent.
    Other(String),
}

impl ServiceTier {
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "auto" => ServiceTier::Auto,
            "default" => ServiceTier::Default,
            "flex" => ServiceTier::Flex,
            "scale" => ServiceTier::Scale,
            "priority" => ServiceTier::Priority,
            other => ServiceTier::Other(other.to_string()),
        }
    }
}

/// A function call the model asked for, flattened from the generated types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCallRef {
    /// Id to answer with [`Message::tool`](crate::Message::tool).
    pub id: String,
    /// Function name.
    pub name: String,
    /// Arguments as the model wrote them: JSON text, possibly malformed.
    pub arguments: String,
}

/// A completed chat call.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatResponse {
    /// The body, as generated from the spec.
    pub completion: t::ChatCompletionResponse,
    /// Status and provider headers.
    pub meta: ResponseMeta,
    /// The body exactly as the server sent it; none when assembled from a
    /// stream.
    raw: Option<Bytes>,
}

impl ChatResponse {
    pub(crate) fn received(completion: t::ChatCompletionResponse, meta: ResponseMeta, raw: Bytes) -> Self {
        ChatResponse {
            completion,
            meta,
            raw: Some(raw),
        }
    }

    pub(crate) fn assembled(completion: t::ChatCompletionResponse) -> Self {
        ChatResponse {
            completion,
            meta: ResponseMeta::default(),
            raw: None,
        }
    }

    /// The JSON text the server sent, with every field the spec does not
    /// name (`reasoning_content`, `timings`, `x_groq`, ...). Kept, not
    /// parsed twice: the typed decode reads the same bytes. `None` for a
    /// response assembled from a stream (each [`ChatChunk`](crate::ChatChunk)
    /// has its own `raw`).
    pub fn raw(&self) -> Option<&str> {
        std::str::from_utf8(self.raw.as_deref()?).ok()
    }

    /// The body as a JSON value, for fields the generated types do not
    /// have: `reply.raw_json()?["timings"]`. Parses [`raw`](Self::raw) on
    /// each call; nothing is parsed unless you ask.
    pub fn raw_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(self.raw.as_deref()?).ok()
    }

    /// Text of the first choice, if it has any.
    pub fn text(&self) -> Option<&str> {
        self.first_message()?.content.as_deref()
    }

    fn first_message(&self) -> Option<&t::ResponseMessage> {
        self.completion.choices.items().first()?.message.val()
    }

    /// Function calls of the first choice, in order.
    pub fn tool_calls(&self) -> Vec<ToolCallRef> {
        self.first_message().map(tool_calls_of).unwrap_or_default()
    }

    /// Token counts, when the server sent them.
    pub fn usage(&self) -> Option<&t::Usage> {
        self.completion.usage.as_ref()
    }

    /// Why the first choice ended.
    pub fn finish_reason(&self) -> Option<FinishReason> {
        self.completion
            .choices
            .items()
            .first()?
            .finish_reason
            .as_deref()
            .map(FinishReason::parse)
    }

    /// The refusal text of the first choice, if the model refused.
    pub fn refusal(&self) -> Option<&str> {
        self.first_message()?.refusal.as_deref()
    }
}

/// Function calls of a message. Calls of other types (`custom`, or one no
/// version names yet) are skipped here; they stay in the completion.
pub(crate) fn tool_calls_of(message: &t::ResponseMessage) -> Vec<ToolCallRef> {
    message
        .tool_calls
        .items()
        .iter()
        .filter(|call| fields::text(&call.type_) == Some("function"))
        .filter_map(|call| {
            let function = call.function.val()?;
            Some(ToolCallRef {
                id: fields::text(&call.id).unwrap_or_default().to_string(),
                name: fields::text(&function.name).unwrap_or_default().to_string(),
                arguments: fields::text(&function.arguments).unwrap_or_default().to_string(),
            })
        })
        .collect()
}
