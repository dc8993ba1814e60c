//! Context-free schema rewrites: whatever the location, these turn published
//! constructs that progenitor/typify cannot take (or take badly) into plain
//! OpenAPI 3.0 schemas. Location-specific decisions live in `relax.rs`.

use serde_json::{Map, Value};

use crate::error::{escape, SpecError};

/// How objects that say `additionalProperties: false` are treated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Keep it: request types reject fields the API does not know.
    Keep,
    /// Drop it: response types must survive fields servers add (`timings`, ...).
    Open,
}

/// Keywords that only document; dropped so nothing unreviewed reaches rustdoc
/// (a fenced block in a description would become a doctest).
const DOC_ONLY: &[&str] = &[
    "title",
    "example",
    "examples",
    "externalDocs",
    "deprecated",
    "$schema",
    "$id",
    "readOnly",
    "writeOnly",
];

pub fn clean(node: &Value, pointer: &str, closed: Closed) -> Result<Value, SpecError> {
    let Value::Object(src) = node else {
        return match node {
            // JSON Schema allows boolean schemas; `true` means "anything".
            Value::Bool(true) => Ok(Value::Object(Map::new())),
            _ => Err(SpecError::invalid(
                pointer,
                format!("expected a schema object, found {node}"),
            )),
        };
    };
    let mut map = Map::with_capacity(src.len());
    for (key, value) in src {
        if DOC_ONLY.contains(&key.as_str()) || key.starts_with("x-") {
            continue;
        }
        let child = |k: &str| format!("{pointer}/{}", escape(k));
        let cleaned = match key.as_str() {
            "description" => match value.as_str().map(short_description) {
                Some(d) if !d.is_empty() => Value::String(d),
                _ => continue,
            },
            "properties" => {
                let Value::Object(props) = value else {
                    return Err(SpecError::invalid(child(key), "`properties` must be an object"));
                };
                let mut out = Map::with_capacity(props.len());
                for (name, prop) in props {
                    let p = format!("{}/{}", child(key), escape(name));
                    out.insert(name.clone(), clean(prop, &p, closed)?);
                }
                Value::Object(out)
            }
            "items" | "not" => clean(value, &child(key), closed)?,
            "additionalProperties" => match value {
                Value::Bool(false) if closed == Closed::Open => continue,
                Value::Bool(_) => value.clone(),
                _ => clean(value, &child(key), closed)?,
            },
            "anyOf" | "oneOf" | "allOf" => {
                let Value::Array(branches) = value else {
                    return Err(SpecError::invalid(child(key), format!("`{key}` must be an array")));
                };
                let mut out = Vec::with_capacity(branches.len());
                for (i, b) in branches.iter().enumerate() {
                    // Judge null branches before cleaning turns `{nullable: true}` into `{}`.
                    out.push(if is_null_branch(b) {
                        serde_json::json!({"type": "null"})
                    } else {
                        clean(b, &format!("{}/{i}", child(key)), closed)?
                    });
                }
                Value::Array(out)
            }
            // OAS 3.1 / JSON Schema `const` is a one-value enum in 3.0.
            "const" => {
                map.insert("enum".into(), Value::Array(vec![value.clone()]));
                continue;
            }
            _ => value.clone(),
        };
        map.insert(key.clone(), cleaned);
    }
    rewrite_type_array(&mut map, pointer)?;
    rewrite_enum_null(&mut map);
    for key in ["anyOf", "oneOf"] {
        fold_null_branches(&mut map, key);
    }
    fold_all_of(&mut map);
    infer_type(&mut map);
    if is_bare_nullable(&map) {
        // `{nullable: true}` with no type says "any value, or null": that is `{}`.
        map.remove("nullable");
    }
    if map.get("nullable") == Some(&Value::Bool(false)) {
        map.remove("nullable");
    }
    Ok(Value::Object(map))
}

/// First sentence of a description, without markdown that rustdoc would
/// interpret (links, code spans, fences).
fn short_description(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let sentence = match line.find(". ") {
        Some(i) => &line[..=i],
        None => line,
    };
    sentence
        .chars()
        .filter(|c| !matches!(c, '`' | '[' | ']' | '<' | '>' | '*' | '_' | '#' | '|'))
        .collect::<String>()
        .trim()
        .to_string()
}

/// OAS 3.1 `type: [T, "null"]` → `type: T, nullable: true`.
fn rewrite_type_array(map: &mut Map<String, Value>, pointer: &str) -> Result<(), SpecError> {
    let Some(Value::Array(types)) = map.get("type") else {
        return Ok(());
    };
    let mut non_null: Vec<Value> = types.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
    let had_null = non_null.len() != types.len();
    match non_null.len() {
        0 => {
            map.remove("type");
        }
        1 => {
            map.insert("type".into(), non_null.remove(0));
        }
        _ => {
            let branches = non_null.into_iter().map(|t| serde_json::json!({ "type": t })).collect();
            map.remove("type");
            if map.contains_key("oneOf") || map.contains_key("anyOf") {
                return Err(SpecError::invalid(
                    pointer,
                    "a multi-type `type` array next to anyOf/oneOf cannot be rewritten",
                ));
            }
            map.insert("oneOf".into(), Value::Array(branches));
        }
    }
    if had_null {
        map.insert("nullable".into(), Value::Bool(true));
    }
    Ok(())
}

/// `enum: [..., null]` → nullable enum without the null value.
fn rewrite_enum_null(map: &mut Map<String, Value>) {
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        let before = values.len();
        values.retain(|v| !v.is_null());
        if values.len() != before {
            if values.is_empty() {
                map.remove("enum");
            }
            map.insert("nullable".into(), Value::Bool(true));
        }
    }
}

fn is_null_branch(branch: &Value) -> bool {
    let Value::Object(m) = branch else { return false };
    if m.get("type").and_then(Value::as_str) == Some("null") {
        return true;
    }
    if m.get("enum")
        .and_then(Value::as_array)
        .is_some_and(|e| e.iter().all(Value::is_null))
    {
        return true;
    }
    m.get("nullable") == Some(&Value::Bool(true)) && m.keys().all(|k| k == "nullable" || k == "description")
}

fn is_bare_nullable(map: &Map<String, Value>) -> bool {
    map.get("nullable") == Some(&Value::Bool(true))
        && map
            .keys()
            .all(|k| k == "nullable" || k == "description" || k == "default")
}

/// Null branches of anyOf/oneOf become `nullable`; a single remaining branch
/// is merged into its parent; anyOf over mutually exclusive branches becomes
/// oneOf so that typify emits an enum rather than a bag of optional fields.
fn fold_null_branches(map: &mut Map<String, Value>, key: &str) {
    let Some(Value::Array(branches)) = map.remove(key) else {
        return;
    };
    let before = branches.len();
    let mut kept: Vec<Value> = branches.into_iter().filter(|b| !is_null_branch(b)).collect();
    if kept.len() != before {
        map.insert("nullable".into(), Value::Bool(true));
    }
    match kept.len() {
        0 => {}
        1 => merge_into(map, kept.remove(0)),
        _ => {
            let key = if key == "anyOf" && mutually_exclusive(&kept) {
                "oneOf"
            } else {
                key
            };
            map.insert(key.into(), Value::Array(kept));
        }
    }
}

fn fold_all_of(map: &mut Map<String, Value>) {
    if let Some(Value::Array(branches)) = map.get("allOf") {
        if branches.len() == 1 {
            let Some(Value::Array(mut b)) = map.remove("allOf") else {
                unreachable!()
            };
            merge_into(map, b.remove(0));
        }
    }
}

/// Parent keys that are constraints survive; the branch supplies the shape.
fn merge_into(map: &mut Map<String, Value>, branch: Value) {
    if let Value::Object(b) = branch {
        for (k, v) in b {
            if k == "nullable" {
                if v == Value::Bool(true) {
                    map.insert(k, v);
                }
                continue;
            }
            if k == "description" && map.contains_key("description") {
                continue;
            }
            map.insert(k, v);
        }
    }
}

fn type_of(v: &Value) -> Option<&str> {
    v.get("type").and_then(Value::as_str)
}

/// True when no JSON value can match two branches: distinct `type`s, or
/// objects told apart by a required one-value string property (a tag).
pub fn mutually_exclusive(branches: &[Value]) -> bool {
    let types: Vec<Option<&str>> = branches.iter().map(type_of).collect();
    if types.iter().all(Option::is_some) {
        let mut distinct = types.clone();
        distinct.sort();
        distinct.dedup();
        if distinct.len() == types.len() {
            return true;
        }
    }
    if !types.iter().all(|t| *t == Some("object")) {
        return false;
    }
    tag_property(branches).is_some()
}

/// The property that discriminates object branches, if one does.
pub fn tag_property(branches: &[Value]) -> Option<String> {
    let first = branches.first()?.get("properties")?.as_object()?;
    'candidates: for name in first.keys() {
        let mut seen = Vec::new();
        for b in branches {
            let Some(values) = b
                .pointer(&format!("/properties/{}/enum", escape(name)))
                .and_then(Value::as_array)
            else {
                continue 'candidates;
            };
            let required = b
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|x| x == name.as_str()));
            if values.len() != 1 || !values[0].is_string() || !required || seen.contains(&values[0]) {
                continue 'candidates;
            }
            seen.push(values[0].clone());
        }
        return Some(name.clone());
    }
    None
}

fn infer_type(map: &mut Map<String, Value>) {
    if map.contains_key("type") || map.contains_key("oneOf") || map.contains_key("anyOf") || map.contains_key("allOf") {
        return;
    }
    let inferred = if map.contains_key("properties") {
        "object"
    } else if map.contains_key("items") {
        "array"
    } else if let Some(Value::Array(values)) = map.get("enum") {
        if !values.is_empty() && values.iter().all(Value::is_string) {
            "string"
        } else {
            return;
        }
    } else {
        return;
    };
    map.insert("type".into(), Value::String(inferred.into()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(v: Value) -> Value {
        clean(&v, "", Closed::Keep).unwrap()
    }

    #[test]
    fn null_branches_become_nullable() {
        let out = c(
            json!({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"nullable": true}]}),
        );
        assert_eq!(out["nullable"], json!(true));
        assert_eq!(out["oneOf"].as_array().unwrap().len(), 2, "{out}");
        let out = c(json!({"anyOf": [{"type": "string"}, {"type": "null"}], "description": "d"}));
        assert_eq!(out, json!({"type": "string", "nullable": true, "description": "d"}));
    }

    #[test]
    fn oas31_constructs_are_rewritten() {
        assert_eq!(
            c(json!({"type": ["string", "null"]})),
            json!({"type": "string", "nullable": true})
        );
        assert_eq!(
            c(json!({"type": "string", "const": "x"})),
            json!({"type": "string", "enum": ["x"]})
        );
        assert_eq!(
            c(json!({"enum": ["a", null]})),
            json!({"type": "string", "enum": ["a"], "nullable": true})
        );
        assert_eq!(c(json!({"nullable": true})), json!({}));
    }

    #[test]
    fn tagged_any_of_becomes_one_of() {
        let out = c(json!({"anyOf": [
            {"type": "object", "properties": {"type": {"const": "text"}, "text": {"type": "string"}}, "required": ["type", "text"]},
            {"type": "object", "properties": {"type": {"const": "refusal"}, "refusal": {"type": "string"}}, "required": ["type", "refusal"]}
        ]}));
        assert!(out.get("oneOf").is_some(), "{out}");
        let out =
            c(json!({"anyOf": [{"type": "object", "properties": {"a": {"type": "string"}}}, {"type": "object"}]}));
        assert!(out.get("anyOf").is_some(), "overlapping branches stay anyOf: {out}");
    }

    #[test]
    fn open_mode_drops_closed_objects_and_descriptions_are_tamed() {
        let out = clean(
            &json!({"type": "object", "additionalProperties": false, "description": "Use `x` [here](http://a). More."}),
            "",
            Closed::Open,
        )
        .unwrap();
        assert_eq!(out, json!({"type": "object", "description": "Use x here(http://a)."}));
    }
}
