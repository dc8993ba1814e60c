//! Makes a small JSON value that satisfies a JSON Schema, so tool-call
//! arguments and structured answers validate against what the caller asked
//! for. Covers the keywords function schemas use in practice; values come
//! from a seeded generator so the same request gets the same instance.
//! `pattern` and `not` are not solved: give such a property a `default`,
//! `examples` or `enum` and that value is used.

use serde_json::{json, Map, Number, Value};

use crate::rng::Rng;

/// Refs deeper than this stop expanding (recursive schemas).
const MAX_DEPTH: usize = 12;
/// Below this depth only required properties are filled in.
const OPTIONAL_DEPTH: usize = 4;
/// Caps on what a schema can make the mock build: a fuzzer's `minItems`
/// or `minLength` of 10^15 must not exhaust the mock's memory.
const MAX_ITEMS: u64 = 256;
const MAX_LENGTH: usize = 64 * 1024;

/// A value valid against `schema`, with `$ref`s resolved inside `schema`.
pub fn generate(schema: &Value, rng: &mut Rng) -> Value {
    Generator { root: schema, rng }.value(schema, 0)
}

struct Generator<'a, 'r> {
    root: &'a Value,
    rng: &'r mut Rng,
}

impl<'a> Generator<'a, '_> {
    fn value(&mut self, schema: &Value, depth: usize) -> Value {
        let Some(map) = schema.as_object() else {
            // `true` allows anything; `false` allows nothing, so any value is as wrong as another.
            return Value::Null;
        };
        if let Some(v) = map.get("const") {
            return v.clone();
        }
        if let Some(Value::Array(options)) = map.get("enum") {
            if let Some(first) = options.first() {
                return first.clone();
            }
        }
        for key in ["default", "examples"] {
            match (key, map.get(key)) {
                ("default", Some(v)) => return v.clone(),
                ("examples", Some(Value::Array(list))) if !list.is_empty() => {
                    if let Some(first) = list.first() {
                        return first.clone();
                    }
                }
                _ => {}
            }
        }
        if let Some(target) = map.get("$ref").and_then(Value::as_str) {
            if depth < MAX_DEPTH {
                if let Some(resolved) = self.resolve(target) {
                    return self.value(resolved, depth + 1);
                }
            }
            return Value::Null;
        }
        if let Some(Value::Array(parts)) = map.get("allOf") {
            let merged = merge_all_of(map, parts, self);
            return self.value(&merged, depth + 1);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = map.get(key) {
                // Prefer a branch that is not null: a null answer is valid but useless.
                let pick = branches
                    .iter()
                    .find(|b| b.get("type").and_then(Value::as_str) != Some("null"))
                    .or(branches.first());
                if let Some(branch) = pick {
                    return self.value(branch, depth + 1);
                }
            }
        }
        let ty = match map.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("null"),
            _ if map.contains_key("properties") => "object",
            _ if map.contains_key("items") => "array",
            _ => "string",
        };
        match ty {
            "object" => self.object(map, depth),
            "array" => self.array(map, depth),
            "string" => self.string(map),
            "integer" => Value::Number(Number::from(integer_in(map))),
            "number" => number_in(map),
            "boolean" => Value::Bool(self.rng.below(2) == 1),
            _ => Value::Null,
        }
    }

    fn resolve(&self, target: &str) -> Option<&'a Value> {
        let pointer = target.strip_prefix('#')?;
        if pointer.is_empty() {
            return Some(self.root);
        }
        self.root.pointer(pointer)
    }

    fn object(&mut self, map: &Map<String, Value>, depth: usize) -> Value {
        let mut out = Map::new();
        let required: Vec<&str> = match map.get("required") {
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if let Some(Value::Object(props)) = map.get("properties") {
            for (name, prop) in props {
                // Optional properties show the shape near the top and stop
                // deeper down, which also ends recursive schemas.
                if depth < OPTIONAL_DEPTH || required.contains(&name.as_str()) {
                    out.insert(name.clone(), self.value(prop, depth + 1));
                }
            }
        }
        if let Some(Value::Array(required)) = map.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !out.contains_key(name) {
                    let extra = match map.get("additionalProperties") {
                        Some(s @ Value::Object(_)) => self.value(s, depth + 1),
                        _ => Value::String(self.rng.word().to_string()),
                    };
                    out.insert(name.to_string(), extra);
                }
            }
        }
        Value::Object(out)
    }

    fn array(&mut self, map: &Map<String, Value>, depth: usize) -> Value {
        let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let max = map.get("maxItems").and_then(Value::as_u64).unwrap_or(u64::MAX);
        // One item shows the shape; more only when the schema demands them.
        let count = min.max(1).min(max).min(MAX_ITEMS);
        let items = match map.get("items") {
            Some(s) => (0..count).map(|_| self.value(s, depth + 1)).collect(),
            None => (0..count).map(|i| json!(i)).collect(),
        };
        Value::Array(items)
    }

    fn string(&mut self, map: &Map<String, Value>) -> Value {
        let format = map.get("format").and_then(Value::as_str).unwrap_or("");
        let text = match format {
            "date-time" => "2025-01-01T00:00:00Z".to_string(),
            "date" => "2025-01-01".to_string(),
            "time" => "00:00:00Z".to_string(),
            "email" => format!("{}@example.com", self.rng.word()),
            "uri" | "url" => format!("https://example.com/{}", self.rng.word()),
            "uuid" => "00000000-0000-4000-8000-000000000000".to_string(),
            _ => self.rng.word().to_string(),
        };
        let min = (map.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize).min(MAX_LENGTH);
        let max = map.get("maxLength").and_then(Value::as_u64).map(|m| m as usize);
        let mut text = text;
        let have = text.chars().count();
        if have < min {
            text.extend(std::iter::repeat_n('x', min - have));
        }
        if let Some(max) = max {
            text = text.chars().take(max).collect();
        }
        Value::String(text)
    }
}

fn merge_all_of(map: &Map<String, Value>, parts: &[Value], g: &Generator<'_, '_>) -> Value {
    let mut merged = map.clone();
    merged.remove("allOf");
    for part in parts {
        let part = match part.get("$ref").and_then(Value::as_str).and_then(|t| g.resolve(t)) {
            Some(resolved) => resolved,
            None => part,
        };
        let Some(part) = part.as_object() else {
            continue;
        };
        for (key, value) in part {
            match (key.as_str(), merged.get_mut(key)) {
                ("properties", Some(Value::Object(existing))) => {
                    if let Value::Object(more) = value {
                        existing.extend(more.clone());
                    }
                }
                ("required", Some(Value::Array(existing))) => {
                    if let Value::Array(more) = value {
                        existing.extend(more.iter().cloned());
                    }
                }
                (_, None) => {
                    merged.insert(key.clone(), value.clone());
                }
                _ => {}
            }
        }
    }
    Value::Object(merged)
}

fn integer_in(map: &Map<String, Value>) -> i64 {
    let mut low = map
        .get("minimum")
        .and_then(Value::as_f64)
        .map(|m| m.ceil() as i64)
        .unwrap_or(i64::MIN);
    if let Some(x) = map.get("exclusiveMinimum").and_then(Value::as_f64) {
        low = low.max(x.floor() as i64 + 1);
    }
    let mut high = map
        .get("maximum")
        .and_then(Value::as_f64)
        .map(|m| m.floor() as i64)
        .unwrap_or(i64::MAX);
    if let Some(x) = map.get("exclusiveMaximum").and_then(Value::as_f64) {
        high = high.min(x.ceil() as i64 - 1);
    }
    let step = map
        .get("multipleOf")
        .and_then(Value::as_i64)
        .filter(|s| *s > 0)
        .unwrap_or(1);
    let start = 1.clamp(low, high.max(low));
    // Round up to the next multiple so the value stays in range.
    let rem = start.rem_euclid(step);
    if rem == 0 {
        start
    } else {
        start + (step - rem)
    }
}

fn number_in(map: &Map<String, Value>) -> Value {
    let low = map
        .get("minimum")
        .or(map.get("exclusiveMinimum"))
        .and_then(Value::as_f64);
    let high = map
        .get("maximum")
        .or(map.get("exclusiveMaximum"))
        .and_then(Value::as_f64);
    let v = match (low, high) {
        (Some(l), Some(h)) => (l + h) / 2.0,
        (Some(l), None) => l + 1.0,
        (None, Some(h)) => h - 1.0,
        (None, None) => 1.5,
    };
    let v = match map.get("multipleOf").and_then(Value::as_f64).filter(|s| *s > 0.0) {
        Some(step) => (v / step).ceil() * step,
        None => v,
    };
    Number::from_f64(v).map(Value::Number).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(schema: Value) -> Value {
        let instance = generate(&schema, &mut Rng::new(3));
        assert!(
            jsonschema::is_valid(&schema, &instance),
            "{instance} does not satisfy {schema}"
        );
        instance
    }

    #[test]
    fn bounds_lengths_and_multiples_are_met() {
        valid(json!({"type": "integer", "minimum": 5, "maximum": 9, "multipleOf": 4}));
        valid(json!({"type": "integer", "exclusiveMinimum": 100}));
        valid(json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}));
        valid(json!({"type": "string", "minLength": 40, "maxLength": 41}));
        valid(json!({"type": "array", "items": {"type": "boolean"}, "minItems": 3, "maxItems": 3}));
        valid(json!({"type": ["null", "string"], "format": "email"}));
    }

    #[test]
    fn refs_all_of_and_unions_resolve() {
        let v = valid(json!({
            "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}, "v": {"const": 1}}, "required": ["v"]}},
            "allOf": [{"$ref": "#/$defs/node"}, {"properties": {"extra": {"enum": ["a", "b"]}}, "required": ["extra"]}],
            "type": "object"
        }));
        assert_eq!(v["extra"], "a");
        valid(
            json!({"anyOf": [{"type": "null"}, {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}]}),
        );
    }

    #[test]
    fn required_names_without_properties_follow_additional_properties() {
        let v = valid(
            json!({"type": "object", "required": ["k"], "additionalProperties": {"type": "integer", "minimum": 7}}),
        );
        assert_eq!(v["k"], 7);
    }

    #[test]
    fn the_same_seed_gives_the_same_instance() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "boolean"}}});
        assert_eq!(generate(&schema, &mut Rng::new(9)), generate(&schema, &mut Rng::new(9)));
    }
}
