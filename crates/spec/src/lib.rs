//! Turns any published version of the provider's OpenAPI document for
//! Llama-4-Maverick chat completions into the one canonical document the
//! client is generated from.
//!
//! The published documents are written for a docs site, not a generator: two
//! identical paths, OAS 3.1 constructs in a 3.0 document, null branches that
//! typify serialises wrongly, integers typed `number`, a chunk schema stricter
//! than any real server. [`normalize`] rewrites all of that in one place so
//! that `build.rs`, the mock server and the diff tool all see the same
//! contract. Every rewrite is a row of the quirk table in `spec/README.md`.
#![warn(missing_docs)]

pub mod diff;
mod error;
mod hoist;
pub mod mutate;
mod operation;
mod refs;
mod relax;
pub mod requirements;
mod schema;
pub mod update;

use serde_json::{json, Map, Value};

pub use error::{SpecError, SpecErrorKind};
pub use relax::DEFAULT_MODEL;

/// The operationId the canonical document gives the one operation, so the
/// generated method name never follows the provider's renames.
pub const OPERATION_ID: &str = "create_chat_completion";

/// Component names the canonical document always uses for its roots.
pub mod names {
    /// The request body schema of the chat operation.
    pub const REQUEST: &str = "ChatCompletionRequest";
    /// The JSON body of a successful non-streaming response.
    pub const RESPONSE: &str = "ChatCompletionResponse";
    /// One `data:` event of a streamed response.
    pub const CHUNK: &str = "ChatCompletionChunk";
}

/// The canonical document and facts about where it came from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Normalized {
    /// An OpenAPI 3.0.3 document with one operation and named components.
    pub document: Value,
    /// The published path the operation was taken from.
    pub source_path: &'static str,
    /// The success status the published document declared (`200`, `201`...).
    pub source_status: Option<String>,
}

impl Normalized {
    /// A named component schema of the canonical document.
    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.document.pointer(&format!("/components/schemas/{name}"))
    }

    /// Whether the published document described a JSON response body.
    pub fn has_response_schema(&self) -> bool {
        self.schema(names::RESPONSE).is_some()
    }

    /// Whether the published document described stream chunks.
    pub fn has_chunk_schema(&self) -> bool {
        self.schema(names::CHUNK).is_some()
    }
}

/// Normalises a published document (already parsed as JSON).
pub fn normalize(doc: Value) -> Result<Normalized, SpecError> {
    match doc.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.") => {}
        other => {
            return Err(SpecError::new(
                "/openapi",
                SpecErrorKind::NotOpenApi3(other.unwrap_or("missing").to_string()),
            ))
        }
    }
    let found = operation::find(&doc)?;
    let op = found.op;
    let at = |suffix: &str| format!("{}{suffix}", found.pointer);

    let request_ptr = "/requestBody/content/application~1json/schema";
    let raw_request = op
        .pointer(request_ptr)
        .ok_or_else(|| SpecError::new(at("/requestBody"), SpecErrorKind::NoRequestSchema))?;
    let mut request = prepare(&doc, raw_request, &at(request_ptr), schema::Closed::Keep)?;
    relax::request(&mut request);

    let (status, response_item) = success_response(op, &at("/responses"))?;
    let mut response = None;
    let mut chunk = None;
    if let Some(item) = response_item {
        let base = format!("/responses/{status}/content");
        if let Some(raw) = item.pointer("/content/application~1json/schema") {
            let mut s = prepare(
                &doc,
                raw,
                &at(&format!("{base}/application~1json/schema")),
                schema::Closed::Open,
            )?;
            relax::response(&mut s);
            relax::open_for_reading(&mut s);
            response = Some(s);
        }
        if let Some(raw) = item.pointer("/content/text~1event-stream/schema") {
            let mut s = prepare(
                &doc,
                raw,
                &at(&format!("{base}/text~1event-stream/schema")),
                schema::Closed::Open,
            )?;
            relax::chunk(&mut s);
            relax::open_for_reading(&mut s);
            chunk = Some(s);
        }
    }

    let mut components = hoist::Components::new();
    hoist::request(&mut components, &mut request)?;
    components.schemas.insert(names::REQUEST.into(), request);
    if let Some(mut s) = response {
        hoist::response(&mut components, &mut s)?;
        components.schemas.insert(names::RESPONSE.into(), s);
    }
    if let Some(mut s) = chunk {
        hoist::chunk(&mut components, &mut s)?;
        components.schemas.insert(names::CHUNK.into(), s);
    }

    let mut success = json!({"description": "The completion (JSON), or a stream of chunks when `stream` is true."});
    if components.schemas.contains_key(names::RESPONSE) {
        success["content"] =
            json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{}", names::RESPONSE)}}});
    }
    let title = doc
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or("AI/ML API");
    let version = doc.pointer("/info/version").and_then(Value::as_str).unwrap_or("0");
    let document = json!({
        "openapi": "3.0.3",
        "info": {"title": title, "version": version},
        "paths": {
            found.path: {"post": {
                "operationId": OPERATION_ID,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{}", names::REQUEST)}}}},
                // Any 2xx is success: old versions said 201, later ones 200.
                "responses": {"2XX": success}
            }}
        },
        "components": {"schemas": Value::Object(sorted(components.schemas))}
    });
    Ok(Normalized {
        document,
        source_path: found.path,
        source_status: Some(status),
    })
}

fn prepare(doc: &Value, raw: &Value, pointer: &str, closed: schema::Closed) -> Result<Value, SpecError> {
    let inlined = refs::inline(doc, raw, pointer)?;
    let mut cleaned = schema::clean(&inlined, pointer, closed)?;
    relax::integers(&mut cleaned);
    Ok(cleaned)
}

/// The first 2xx response (by status code). No published version puts
/// responses behind `$ref`, so none is followed here.
fn success_response<'a>(op: &'a Value, pointer: &str) -> Result<(String, Option<&'a Value>), SpecError> {
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .ok_or_else(|| SpecError::invalid(pointer, "the operation declares no responses"))?;
    let mut codes: Vec<&String> = responses.keys().filter(|k| k.starts_with('2')).collect();
    codes.sort();
    let code = codes
        .first()
        .ok_or_else(|| SpecError::invalid(pointer, "the operation declares no 2xx response"))?;
    Ok(((*code).clone(), responses.get(*code)))
}

fn sorted(map: Map<String, Value>) -> Map<String, Value> {
    let mut entries: Vec<(String, Value)> = map.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.into_iter().collect()
}
