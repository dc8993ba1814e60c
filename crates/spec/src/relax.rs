//! Location-specific rewrites: where the published contract and real servers
//! disagree, real traffic wins. Each function here is one row (or a few) of
//! the quirk table in `spec/README.md`; keep the two in step.

use serde_json::{json, Map, Value};

/// The model every request defaults to; other hosts serve Maverick under
/// other names, so the request schema accepts any string.
pub const DEFAULT_MODEL: &str = "meta-llama/llama-4-maverick";

/// Properties the spec types `number` although only whole numbers make sense.
const INTEGER_FIELDS: &[&str] = &[
    "created",
    "index",
    "n",
    "seed",
    "max_tokens",
    "max_completion_tokens",
    "top_logprobs",
    "top_k",
    "expires_at",
    "start_index",
    "end_index",
];

fn is_integer_field(name: &str) -> bool {
    INTEGER_FIELDS.contains(&name) || name.ends_with("_tokens")
}

/// Integer fields typed `number` become `integer`, anywhere in the tree, as
/// do the items of `bytes` arrays (UTF-8 byte values).
pub fn integers(node: &mut Value) {
    let Value::Object(map) = node else { return };
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for (name, prop) in props.iter_mut() {
            if is_integer_field(name) {
                number_to_integer(prop);
            }
            if name == "bytes" {
                if let Some(items) = prop.get_mut("items") {
                    number_to_integer(items);
                }
            }
        }
    }
    for (key, child) in map.iter_mut() {
        match (key.as_str(), child) {
            ("properties", Value::Object(props)) => props.values_mut().for_each(integers),
            ("items" | "additionalProperties" | "not", c) => integers(c),
            ("anyOf" | "oneOf" | "allOf", Value::Array(bs)) => bs.iter_mut().for_each(integers),
            _ => {}
        }
    }
}

fn number_to_integer(schema: &mut Value) {
    if schema.get("type").and_then(Value::as_str) == Some("number") {
        schema["type"] = json!("integer");
    }
}

fn obj<'a>(root: &'a mut Value, pointer: &str) -> Option<&'a mut Map<String, Value>> {
    root.pointer_mut(pointer).and_then(Value::as_object_mut)
}

fn unrequire(schema: &mut Map<String, Value>, names: &[&str]) {
    if let Some(Value::Array(req)) = schema.get_mut("required") {
        req.retain(|r| !r.as_str().is_some_and(|r| names.contains(&r)));
        if req.is_empty() {
            schema.remove("required");
        }
    }
}

fn set_prop(schema: &mut Map<String, Value>, name: &str, value: Value) {
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        if props.contains_key(name) {
            props.insert(name.into(), value);
        }
    }
}

fn make_nullable(schema: &mut Map<String, Value>, name: &str) {
    if let Some(Value::Object(p)) = schema.get_mut("properties").and_then(|p| p.get_mut(name)) {
        p.insert("nullable".into(), Value::Bool(true));
    }
}

/// An open string: servers send values no version lists (`finish_reason`
/// `abort`, `object` variations), and a closed enum would fail the whole body.
fn open_string(schema: &mut Map<String, Value>, name: &str, nullable: bool) {
    let mut s = json!({"type": "string"});
    if nullable {
        s["nullable"] = json!(true);
    }
    set_prop(schema, name, s);
}

pub fn request(schema: &mut Value) {
    let Some(root) = schema.as_object_mut() else { return };
    set_prop(
        root,
        "model",
        json!({"type": "string", "default": DEFAULT_MODEL, "description": "Model name; hosts other than the AI/ML API serve Maverick under their own names."}),
    );
}

pub fn response(schema: &mut Value) {
    if let Some(root) = schema.as_object_mut() {
        unrequire(root, &["usage"]);
        open_string(root, "object", false);
    }
    if let Some(choice) = obj(schema, "/properties/choices/items") {
        unrequire(choice, &["finish_reason"]);
        open_string(choice, "finish_reason", true);
    }
    if let Some(message) = obj(schema, "/properties/choices/items/properties/message") {
        unrequire(message, &["content"]);
        make_nullable(message, "content");
    }
}

pub fn chunk(schema: &mut Value) {
    if let Some(root) = schema.as_object_mut() {
        unrequire(root, &["choices", "usage"]);
        open_string(root, "object", false);
        if let Some(Value::Object(props)) = root.get_mut("properties") {
            // The AI/ML API appends its billing figures to the last chunk.
            props.entry("meta").or_insert_with(|| {
                json!({"type": "object", "nullable": true, "description": "Provider billing figures sent with the final chunk.", "additionalProperties": {}})
            });
        }
    }
    if let Some(choice) = obj(schema, "/properties/choices/items") {
        unrequire(choice, &["finish_reason", "delta"]);
        open_string(choice, "finish_reason", true);
    }
    if let Some(delta) = obj(schema, "/properties/choices/items/properties/delta") {
        delta.remove("required");
        make_nullable(delta, "content");
        open_string(delta, "role", true);
    }
    if let Some(call) = obj(
        schema,
        "/properties/choices/items/properties/delta/properties/tool_calls/items",
    ) {
        call.remove("required");
    }
    if let Some(function) = obj(
        schema,
        "/properties/choices/items/properties/delta/properties/tool_calls/items/properties/function",
    ) {
        function.remove("required");
    }
}

/// Response and chunk schemas describe what we read, and hosts send more
/// than any version lists, so the reading side is made open in three ways
/// (rows "open reading side" of the quirk table):
/// - every string `enum` becomes an open string (`service_tier: "on_demand"`,
///   a tool-call `type` no version knows); the wrapper maps known values;
/// - every `oneOf`/`anyOf` of object branches becomes one object with the
///   union of their properties, required only where every branch requires
///   it, so an unknown tag decodes and keeps its known fields;
/// - every optional property becomes nullable, so `null` reads as absent and
///   optional lists and maps are uniformly `Option<_>` (a later version making
///   one nullable changes nothing in the generated code).
pub fn open_for_reading(node: &mut Value) {
    let Value::Object(map) = node else { return };
    for key in ["oneOf", "anyOf"] {
        let all_objects = map
            .get(key)
            .and_then(Value::as_array)
            .is_some_and(|bs| !bs.is_empty() && bs.iter().all(|b| b.get("properties").is_some_and(Value::is_object)));
        if all_objects {
            if let Some(Value::Array(branches)) = map.remove(key) {
                merge_branches(map, branches);
            }
        }
    }
    if map.get("type").and_then(Value::as_str) == Some("string") {
        map.remove("enum");
    }
    let required: Vec<String> = map
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for (name, prop) in props.iter_mut() {
            if required.contains(name) {
                continue;
            }
            if let Value::Object(p) = prop {
                let typed = ["type", "oneOf", "anyOf", "allOf"].iter().any(|k| p.contains_key(*k));
                if typed {
                    p.insert("nullable".into(), Value::Bool(true));
                }
            }
        }
    }
    for (key, child) in map.iter_mut() {
        match (key.as_str(), child) {
            ("properties", Value::Object(props)) => props.values_mut().for_each(open_for_reading),
            ("items" | "additionalProperties", c) => open_for_reading(c),
            ("anyOf" | "oneOf" | "allOf", Value::Array(bs)) => bs.iter_mut().for_each(open_for_reading),
            _ => {}
        }
    }
}

fn merge_branches(map: &mut Map<String, Value>, branches: Vec<Value>) {
    let mut props = Map::new();
    let mut required: Option<Vec<Value>> = None;
    for branch in branches {
        let Value::Object(mut b) = branch else { continue };
        if let Some(Value::Object(ps)) = b.remove("properties") {
            for (name, schema) in ps {
                props.entry(name).or_insert(schema);
            }
        }
        let mine = match b.remove("required") {
            Some(Value::Array(r)) => r,
            _ => Vec::new(),
        };
        required = Some(match required {
            None => mine,
            Some(all) => all.into_iter().filter(|r| mine.contains(r)).collect(),
        });
    }
    map.insert("type".into(), json!("object"));
    map.insert("properties".into(), Value::Object(props));
    match required {
        Some(r) if !r.is_empty() => {
            map.insert("required".into(), Value::Array(r));
        }
        _ => {
            map.remove("required");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_fields_and_bytes() {
        let mut s = json!({"properties": {
            "created": {"type": "number"},
            "temperature": {"type": "number"},
            "usage": {"properties": {"prompt_tokens": {"type": "number"}}},
            "bytes": {"type": "array", "items": {"type": "number"}}
        }});
        integers(&mut s);
        assert_eq!(s["properties"]["created"]["type"], "integer");
        assert_eq!(s["properties"]["temperature"]["type"], "number");
        assert_eq!(
            s["properties"]["usage"]["properties"]["prompt_tokens"]["type"],
            "integer"
        );
        assert_eq!(s["properties"]["bytes"]["items"]["type"], "integer");
    }

    #[test]
    fn chunk_relaxations() {
        let mut s = json!({"type": "object", "required": ["id", "choices"], "properties": {
            "id": {"type": "string"},
            "choices": {"type": "array", "items": {"type": "object", "required": ["finish_reason", "index"], "properties": {
                "index": {"type": "integer"},
                "finish_reason": {"type": "string", "enum": ["stop"]},
                "delta": {"type": "object", "required": ["content", "role"], "properties": {
                    "content": {"type": "string"}, "role": {"type": "string", "enum": ["assistant"]}
                }}
            }}}
        }});
        chunk(&mut s);
        assert_eq!(s["required"], json!(["id"]));
        assert_eq!(s["properties"]["choices"]["items"]["required"], json!(["index"]));
        assert_eq!(
            s["properties"]["choices"]["items"]["properties"]["finish_reason"],
            json!({"type": "string", "nullable": true})
        );
        let delta = &s["properties"]["choices"]["items"]["properties"]["delta"];
        assert!(delta.get("required").is_none());
        assert_eq!(delta["properties"]["content"]["nullable"], true);
        assert!(s["properties"]["meta"].is_object());
    }

    #[test]
    fn reading_side_is_open() {
        let mut s = json!({"type": "object", "required": ["id"], "properties": {
            "id": {"type": "string"},
            "tier": {"type": "string", "enum": ["auto", "flex"]},
            "list": {"type": "array", "items": {"type": "object", "properties": {}}},
            "any": {},
            "call": {"oneOf": [
                {"type": "object", "required": ["type", "id", "function"], "properties": {
                    "type": {"type": "string", "enum": ["function"]}, "id": {"type": "string"}, "function": {"type": "object", "properties": {}}}},
                {"type": "object", "required": ["type", "id", "custom"], "properties": {
                    "type": {"type": "string", "enum": ["custom"]}, "id": {"type": "string"}, "custom": {"type": "object", "properties": {}}}}
            ]}
        }});
        open_for_reading(&mut s);
        let p = &s["properties"];
        assert_eq!(p["tier"], json!({"type": "string", "nullable": true}));
        assert_eq!(p["list"]["nullable"], true);
        assert!(p["id"].get("nullable").is_none(), "required stays non-null");
        assert!(p["any"].get("nullable").is_none(), "untyped stays as it is");
        let call = &p["call"];
        assert!(call.get("oneOf").is_none());
        assert_eq!(call["required"], json!(["type", "id"]));
        assert_eq!(call["properties"]["type"], json!({"type": "string"}));
        assert_eq!(call["properties"]["function"]["nullable"], true);
        assert_eq!(call["properties"]["custom"]["nullable"], true);
    }
}
