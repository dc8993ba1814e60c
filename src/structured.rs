//! Structured outputs: the answer as a Rust value, with the JSON Schema sent
//! to the model derived from the same type that parses the answer.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::Error;
use crate::request::ChatRequest;
use crate::response::ChatResponse;
use crate::tools::{api_schema, parse_json};

/// A parsed answer and the response it came from.
#[derive(Debug, Clone)]
pub struct Structured<T> {
    /// The answer, parsed.
    pub value: T,
    /// The whole response (usage, ids, raw text).
    pub response: ChatResponse,
}

/// A schema name the API accepts: `[A-Za-z0-9_-]{1,64}`.
fn schema_name<T: JsonSchema>() -> String {
    let raw = T::schema_name();
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if cleaned.is_empty() {
        "answer".into()
    } else {
        cleaned
    }
}

impl Client {
    /// Asks for an answer matching `T`'s JSON Schema (`response_format`
    /// `json_schema`, strict) and parses it. A mismatch is an
    /// [`Error::ModelOutput`] carrying the raw text and the serde path.
    pub async fn chat_structured<T: JsonSchema + DeserializeOwned>(
        &self,
        request: ChatRequest,
    ) -> Result<Structured<T>, Error> {
        let schema = serde_json::Value::Object(api_schema::<T>(true));
        let response = self.chat(request.json_schema(schema_name::<T>(), schema, true)).await?;
        Self::parse_answer(response)
    }

    /// Asks for any JSON object (`response_format` `json_object`) and parses
    /// it as `T`. The prompt must still ask for JSON; providers require it.
    pub async fn chat_json<T: DeserializeOwned>(&self, request: ChatRequest) -> Result<Structured<T>, Error> {
        let response = self.chat(request.json_object()).await?;
        Self::parse_answer(response)
    }

    fn parse_answer<T: DeserializeOwned>(response: ChatResponse) -> Result<Structured<T>, Error> {
        let Some(text) = response.text() else {
            return Err(Error::ModelOutput {
                what: "structured answer".into(),
                path: ".".into(),
                message: match response.refusal() {
                    Some(r) => format!("the model refused: {r}"),
                    None => "the reply has no text content".into(),
                },
                raw: String::new(),
            });
        };
        let value = parse_json(text, "structured answer")?;
        Ok(Structured { value, response })
    }
}
