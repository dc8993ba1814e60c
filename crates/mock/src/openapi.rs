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
