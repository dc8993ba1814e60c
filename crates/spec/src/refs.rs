//! `$ref` inlining.
//!
//! Published versions mix three kinds of reference: `#/components/schemas/X`
//! (older versions), and JSON-Schema-style `#/properties/...` pointers that are
//! relative to the schema they sit in (2025-11-13). Everything is inlined so
//! that later passes see one self-contained tree; the hoisting pass then
//! re-introduces components under names we choose.

use serde_json::{Map, Value};

use crate::error::{escape, SpecError, SpecErrorKind};

/// Deepest chain of references followed before giving up; the published
/// documents never nest more than a handful.
const MAX_DEPTH: usize = 64;

/// Returns `schema` with every `$ref` replaced by its target.
///
/// `doc` resolves `#/components/...`; `schema` itself resolves pointers that
/// only make sense relative to the schema root.
pub fn inline(doc: &Value, schema: &Value, pointer: &str) -> Result<Value, SpecError> {
    let mut stack = Vec::new();
    walk(doc, schema, schema, pointer, &mut stack)
}

fn walk(doc: &Value, root: &Value, node: &Value, pointer: &str, stack: &mut Vec<String>) -> Result<Value, SpecError> {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                if stack.len() >= MAX_DEPTH || stack.contains(target) {
                    return Err(SpecError::new(
                        pointer,
                        SpecErrorKind::BadRef(format!(
                            "recursive `$ref` {target:?}: the client needs finite request and response types"
                        )),
                    ));
                }
                let resolved = resolve(doc, root, target).ok_or_else(|| {
                    SpecError::new(
                        pointer,
                        SpecErrorKind::BadRef(format!("`$ref` {target:?} does not resolve")),
                    )
                })?;
                stack.push(target.clone());
                let mut out = walk(doc, root, resolved, pointer, stack)?;
                stack.pop();
                // OpenAPI 3.1 allows siblings next to `$ref`; keep the ones that
                // change meaning (nullable, default...) on top of the target.
                if let Value::Object(out_map) = &mut out {
                    for (k, v) in map {
                        if k != "$ref" {
                            out_map.insert(k.clone(), walk(doc, root, v, pointer, stack)?);
                        }
                    }
                }
                return Ok(out);
            }
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let child = format!("{pointer}/{}", escape(k));
                out.insert(k.clone(), walk(doc, root, v, &child, stack)?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| walk(doc, root, v, &format!("{pointer}/{i}"), stack))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

fn resolve<'a>(doc: &'a Value, root: &'a Value, target: &str) -> Option<&'a Value> {
    let fragment = target.strip_prefix('#')?;
    doc.pointer(fragment).or_else(|| root.pointer(fragment))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_component_and_schema_relative_refs() {
        let doc = json!({"components": {"schemas": {"A": {"type": "string"}}}});
        let schema = json!({
            "properties": {
                "a": {"$ref": "#/components/schemas/A"},
                "b": {"type": "integer"},
                "c": {"$ref": "#/properties/b", "nullable": true}
            }
        });
        let out = inline(&doc, &schema, "/s").unwrap();
        assert_eq!(out["properties"]["a"], json!({"type": "string"}));
        assert_eq!(out["properties"]["c"], json!({"type": "integer", "nullable": true}));
    }

    #[test]
    fn unresolvable_and_recursive_refs_are_errors_with_pointers() {
        let doc =
            json!({"components": {"schemas": {"L": {"properties": {"next": {"$ref": "#/components/schemas/L"}}}}}});
        let err = inline(&doc, &json!({"$ref": "#/components/schemas/L"}), "/x").unwrap_err();
        assert!(err.to_string().contains("recursive"), "{err}");
        let err = inline(&doc, &json!({"properties": {"q": {"$ref": "#/nope"}}}), "/x").unwrap_err();
        assert_eq!(err.pointer, "/x/properties/q");
        assert!(err.to_string().contains("does not resolve"));
    }
}
