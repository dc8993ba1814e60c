//! Function tools whose parameter schemas come from Rust types.
//!
//! Providers reject several shapes schemars emits by default (`$ref` into
//! `$defs`, `title`, open objects in strict mode: openai-python #1733, #2740,
//! #2557), so the schema is cleaned for the API here, in one place that
//! structured outputs reuse.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::construct::{from_json, set, Refused};
use crate::error::Error;
use crate::generated::types as t;
use crate::response::ToolCallRef;

/// A function the model may call.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    name: String,
    parameters: Map<String, Value>,
    /// The generated definition, built from JSON (see `construct.rs`).
    pub(crate) wire: Result<t::ToolDefinition, Refused>,
}

impl Tool {
    /// A tool whose arguments are `Args`, with a strict schema: every field
    /// required (optional ones nullable), no extra properties.
    pub fn function<Args: JsonSchema>(name: impl Into<String>, description: impl Into<String>) -> Self {
        let schema = api_schema::<Args>(true);
        Self::build(name.into(), Some(description.into()), schema, Some(true))
    }

    /// A tool from a hand-written JSON Schema; it must be an object schema.
    pub fn from_schema(name: impl Into<String>, description: Option<String>, parameters: Value) -> Result<Self, Error> {
        let name = name.into();
        match parameters {
            Value::Object(map) => Ok(Self::build(name, description, map, None)),
            other => Err(Error::invalid(
                format!("tools[{name}].parameters"),
                other,
                "it must be a JSON Schema object such as {\"type\":\"object\",\"properties\":{...}}",
            )),
        }
    }

    fn build(name: String, description: Option<String>, parameters: Map<String, Value>, strict: Option<bool>) -> Self {
        let mut function = json!({"name": name.clone(), "parameters": parameters.clone()});
        if let Some(d) = description {
            set(&mut function, "description", d);
        }
        if let Some(strict) = strict {
            set(&mut function, "strict", strict);
        }
        let wire = from_json("tools[]", json!({"type": "function", "function": function}));
        Tool { name, parameters, wire }
    }

    /// The function name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parameter schema sent to the API.
    pub fn parameters(&self) -> &Map<String, Value> {
        &self.parameters
    }
}

impl ToolCallRef {
    /// Parses the model's arguments into `Args`. Models emit broken JSON;
    /// the error keeps the raw text and where parsing failed.
    pub fn parse_arguments<Args: DeserializeOwned>(&self) -> Result<Args, Error> {
        parse_json(
            &self.arguments,
            &format!("arguments of tool call {:?} ({})", self.id, self.name),
        )
    }
}

/// Deserialises model-written JSON with the serde path of any mismatch.
pub(crate) fn parse_json<T: DeserializeOwned>(raw: &str, what: &str) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_str(raw.trim());
    serde_path_to_error::deserialize(&mut de).map_err(|e| Error::ModelOutput {
        what: what.to_string(),
        path: e.path().to_string(),
        message: e.inner().to_string(),
        raw: raw.to_string(),
    })
}

/// The schema of `T`, cleaned for the API: subschemas inlined, no `$schema`,
/// no titles; in strict mode closed objects with every property required.
pub fn api_schema<T: JsonSchema>(strict: bool) -> Map<String, Value> {
    let settings = schemars::generate::SchemaSettings::draft07().with(|s| {
        s.inline_subschemas = true;
    });
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut value = schema.to_value();
    clean(&mut value, strict);
    match value {
        Value::Object(map) => map,
        // A non-object root (e.g. `bool`) is wrapped so the API gets an object.
        other => Map::from_iter([
            ("type".to_string(), Value::from("object")),
            ("x-value".to_string(), other),
        ]),
    }
}

fn clean(node: &mut Value, strict: bool) {
    match node {
        Value::Object(map) => {
            for key in ["$schema", "title", "definitions", "$defs", "format"] {
                if key != "format"
                    || map
                        .get("format")
                        .and_then(Value::as_str)
                        .is_some_and(|f| f.starts_with("int") || f.starts_with("uint") || f == "double" || f == "float")
                {
                    map.remove(key);
                }
            }
            let is_object = map.get("type").and_then(Value::as_str) == Some("object")
                || map
                    .get("type")
                    .and_then(Value::as_array)
                    .is_some_and(|t| t.iter().any(|x| x == "object"));
            if strict && is_object {
                if let Some(Value::Object(props)) = map.get("properties") {
                    let all: Vec<Value> = props.keys().map(|k| Value::String(k.clone())).collect();
                    map.insert("required".into(), Value::Array(all));
                }
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for child in map.values_mut() {
                clean(child, strict);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| clean(v, strict)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(dead_code)]
    #[derive(Debug, JsonSchema, serde::Deserialize)]
    struct Inner {
        city: String,
    }

    #[allow(dead_code)]
    #[derive(Debug, JsonSchema, serde::Deserialize)]
    /// Weather lookup.
    struct Args {
        place: Inner,
        days: Option<u8>,
    }

    #[test]
    fn schema_is_inlined_untitled_and_strict() {
        let s = Value::Object(api_schema::<Args>(true));
        let text = s.to_string();
        assert!(
            !text.contains("$ref") && !text.contains("$defs") && !text.contains("title"),
            "{text}"
        );
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(s["required"], serde_json::json!(["days", "place"]));
        assert_eq!(s["properties"]["place"]["additionalProperties"], false);
    }

    #[test]
    fn broken_arguments_keep_raw_text_and_path() {
        let call = ToolCallRef {
            id: "c1".into(),
            name: "w".into(),
            arguments: r#"{"place": {"city": 5}}"#.into(),
        };
        let err = call.parse_arguments::<Args>().unwrap_err().to_string();
        assert!(
            err.contains("place.city") && err.contains(r#"{\"place\": {\"city\": 5}}"#),
            "{err}"
        );
        let ok = ToolCallRef {
            arguments: "\n\n  {\"place\":{\"city\":\"Paris\"}}\t".into(),
            ..call
        };
        assert_eq!(ok.parse_arguments::<Args>().unwrap().place.city, "Paris");
    }
}
