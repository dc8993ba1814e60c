//! OpenAPI 3.0 schemas are not JSON Schema: `nullable` means "or null" and
//! refs point into `components`. The validator only speaks JSON Schema, so
//! the canonical document is translated once, here, before anything is
//! compiled.

use serde_json::{json, Map, Value};

/// Keywords whose values are data, not schemas: never rewritten.
const DATA_KEYWORDS: &[&str] = &["enum", "const", "default", "example", "examples"];

/// A self-contained JSON Schema (draft 2020-12) for the component `root`,
/// with every component of `document` under `$defs`.
pub fn component_schema(document: &Value, root: &str) -> Option<Value> {
    let schemas = document.pointer("/components/schemas")?.as_object()?;
    schemas.get(root)?;
    let defs: Map<String, Value> = schemas.iter().map(|(name, s)| (name.clone(), translate(s))).collect();
    Some(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/$defs/{root}"),
        "$defs": defs,
    }))
}

/// The three root schemas of a published document, as JSON Schema.
pub struct PublishedSchemas {
    pub request: Value,
    pub response: Value,
    pub chunk: Value,
}

/// Paths the chat operation is published under, preferred first (the same
/// order the normaliser uses).
const CHAT_PATHS: [&str; 2] = ["/v1/chat/completions", "/chat/completions"];

/// Takes the request, JSON response and event-stream schemas from the
/// published chat operation as written, translated to JSON Schema with the
/// document's components under `$defs`. Nothing is relaxed: this is the
/// contract the provider states, not the one the client reads by.
pub fn published_schemas(document: &Value) -> Result<PublishedSchemas, String> {
    let (path, op) = CHAT_PATHS
        .iter()
        .find_map(|p| {
            document
                .pointer(&format!("/paths/{}/post", p.replace('/', "~1")))
                .map(|op| (*p, op))
        })
        .ok_or("the document has no POST /v1/chat/completions or /chat/completions operation")?;
    let request = op
        .pointer("/requestBody/content/application~1json/schema")
        .ok_or_else(|| format!("POST {path} has no application/json request body schema"))?;
    // The lowest declared 2xx, as the normaliser picks it.
    let success = op
        .get("responses")
        .and_then(Value::as_object)
        .and_then(|r| {
            r.iter()
                .filter(|(code, _)| code.starts_with('2'))
                .min_by_key(|(code, _)| code.as_str())
        })
        .map(|(_, response)| response);
    let content = |media: &str| {
        success
            .and_then(|r| r.pointer(&format!("/content/{}/schema", media.replace('/', "~1"))))
            .cloned()
            .unwrap_or(Value::Bool(true))
    };
    let defs: Map<String, Value> = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(name, s)| (name.clone(), translate(s))).collect())
        .unwrap_or_default();
    let root = |schema: &Value| match translate(schema) {
        Value::Object(mut map) => {
            map.insert("$defs".into(), Value::Object(defs.clone()));
            Value::Object(map)
        }
        other => other,
    };
    Ok(PublishedSchemas {
        request: root(request),
        response: root(&content("application/json")),
        chunk: root(&content("text/event-stream")),
    })
}

/// Translates one OpenAPI 3.0 schema node (and everything under it).
pub fn translate(node: &Value) -> Value {
    match node {
        Value::Object(map) => translate_object(map),
        Value::Array(items) => Value::Array(items.iter().map(translate).collect()),
        other => other.clone(),
    }
}

fn translate_object(map: &Map<String, Value>) -> Value {
    let nullable = map.get("nullable") == Some(&Value::Bool(true));
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "nullable" => {}
            "$ref" => {
                let target = value.as_str().unwrap_or_default();
                let rewritten = target
                    .strip_prefix("#/components/schemas/")
                    .map(|name| format!("#/$defs/{name}"));
                out.insert(
                    key.clone(),
                    Value::String(rewritten.unwrap_or_else(|| target.to_string())),
                );
            }
            "properties" | "patternProperties" | "$defs" | "definitions" => {
                let children = value
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), translate(v))).collect());
                out.insert(
                    key.clone(),
                    children.map(Value::Object).unwrap_or_else(|| value.clone()),
                );
            }
            k if DATA_KEYWORDS.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            _ => {
                out.insert(key.clone(), translate(value));
            }
        }
    }
    if !nullable {
        return Value::Object(out);
    }
    // An enum without null would reject null even inside the anyOf branch
    // that allows it, which is fine: the null branch carries it.
    json!({"anyOf": [Value::Object(out), {"type": "null"}]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_becomes_a_null_branch() {
        let s = translate(&json!({"type": "string", "nullable": true, "maxLength": 3}));
        assert_eq!(
            s,
            json!({"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]})
        );
    }

    #[test]
    fn all_of_ref_with_nullable_keeps_the_ref_and_allows_null() {
        let s = translate(&json!({"allOf": [{"$ref": "#/components/schemas/Usage"}], "nullable": true}));
        assert_eq!(
            s,
            json!({"anyOf": [{"allOf": [{"$ref": "#/$defs/Usage"}]}, {"type": "null"}]})
        );
    }

    #[test]
    fn property_names_and_enum_values_are_not_keywords() {
        let s = translate(&json!({"properties": {"nullable": {"type": "boolean"}}, "enum": [{"nullable": true}]}));
        assert_eq!(
            s,
            json!({"properties": {"nullable": {"type": "boolean"}}, "enum": [{"nullable": true}]})
        );
    }
}
