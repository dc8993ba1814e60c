//! One chunk of a stream, typed and as sent.

use std::ops::Deref;

use crate::fields::{self, Field, List};
use crate::generated::types as t;
use crate::response::{FinishReason, ServiceTier};

/// One chunk of a streamed completion: the generated chunk type, which
/// tolerates what real servers send (unknown fields and values,
/// `finish_reason: null`, missing role, `content: null`, empty deltas), plus
/// the JSON text of the event.
///
/// Derefs to the generated [`ChatCompletionChunk`](t::ChatCompletionChunk),
/// so `chunk.choices` reads as before; [`raw`](Self::raw) reaches what the
/// spec does not name (`reasoning_content`, `timings`, `x_groq`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct ChatChunk {
    chunk: t::ChatCompletionChunk,
    raw: Box<str>,
}

impl ChatChunk {
    /// Decodes one event's data. The text is kept as it came (a copy of the
    /// event, not a second parse).
    pub(crate) fn decode(data: &[u8]) -> Result<Self, serde_json::Error> {
        let chunk = serde_json::from_slice(data)?;
        let raw = match std::str::from_utf8(data) {
            Ok(text) => text.into(),
            Err(_) => String::from_utf8_lossy(data).into(),
        };
        Ok(ChatChunk { chunk, raw })
    }

    /// The event's JSON text exactly as the server sent it.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The event as a JSON value, for fields the generated types do not
    /// have: `chunk.raw_json()?["choices"][0]["delta"]["reasoning_content"]`.
    /// Parses [`raw`](Self::raw) on each call.
    pub fn raw_json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.raw).ok()
    }

    /// The text delta of choice 0, if this chunk has one.
    pub fn text(&self) -> Option<&str> {
        self.chunk
            .choices
            .items()
            .iter()
            .find(|c| fields::int(&c.index) == Some(0))?
            .delta
            .val()?
            .content
            .as_deref()
    }

    /// Why choice 0 ended, on the chunk that says so; unknown reasons
    /// (`eos`, ...) are kept as [`FinishReason::Other`].
    pub fn finish_reason(&self) -> Option<FinishReason> {
        let choice = self
            .chunk
            .choices
            .items()
            .iter()
            .find(|c| fields::int(&c.index) == Some(0))?;
        choice.finish_reason.as_deref().map(FinishReason::parse)
    }

    /// The tier that served the request, when the host says; unknown
    /// tiers (`on_demand`) are kept as [`ServiceTier::Other`].
    pub fn service_tier(&self) -> Option<ServiceTier> {
        self.chunk.service_tier.as_deref().map(ServiceTier::parse)
    }

    /// The generated chunk.
    pub fn into_inner(self) -> t::ChatCompletionChunk {
        self.chunk
    }
}

impl Deref for ChatChunk {
    type Target = t::ChatCompletionChunk;

    fn deref(&self) -> &t::ChatCompletionChunk {
        &self.chunk
    }
}

impl AsRef<t::ChatCompletionChunk> for ChatChunk {
    fn as_ref(&self) -> &t::ChatCompletionChunk {
        &self.chunk
    }
}
