//! Hoisting inline schemas into components under fixed names.
//!
//! typify names inline types after their position and silently merges two
//! different inline types that end up with the same name (that is how the
//! assistant's refusal parts got lost and system messages grew an `image_url`).
//! Giving every type the wrapper relies on a fixed component name makes the
//! generated surface stable across spec versions and removes the collisions.

use serde_json::{json, Map, Value};

use crate::error::SpecError;

pub struct Components {
    pub schemas: Map<String, Value>,
}

impl Components {
    pub fn new() -> Self {
        Components { schemas: Map::new() }
    }

    /// Moves the schema at `pointer` (inside `root`) to `components/schemas/name`
    /// and leaves a reference behind. Missing pointers are skipped: older
    /// versions lack some parts, and the build guard reports what matters.
    ///
    /// A name belongs to one location. Two locations never share a
    /// component, even when their schemas are equal today: once one of them
    /// gains a field, sharing would rename or retype the other.
    pub fn hoist(&mut self, root: &mut Value, pointer: &str, name: &str) -> Result<Option<String>, SpecError> {
        let Some(slot) = root.pointer_mut(pointer) else {
            return Ok(None);
        };
        if !slot.is_object() {
            return Ok(None);
        }
        if self.schemas.contains_key(name) {
            return Err(SpecError::invalid(
                pointer,
                format!("the component name {name:?} already belongs to another location"),
            ));
        }
        let mut schema = slot.take();
        let nullable = schema.as_object_mut().and_then(|m| m.remove("nullable")) == Some(Value::Bool(true));
        let description = schema.get("description").cloned();
        self.schemas.insert(name.to_string(), schema);
        let reference = json!({ "$ref": format!("#/components/schemas/{name}") });
        *slot = if nullable {
            let mut wrapped = json!({ "allOf": [reference], "nullable": true });
            if let Some(d) = description {
                wrapped["description"] = d;
            }
            wrapped
        } else {
            reference
        };
        Ok(Some(name.to_string()))
    }
}

fn pascal(word: &str) -> String {
    word.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Names for the request's parts: one type per message role, per role's
/// content parts, and for the option objects.
pub fn request(c: &mut Components, root: &mut Value) -> Result<(), SpecError> {
    let variants = root
        .pointer("/properties/messages/items/oneOf")
        .and_then(Value::as_array)
        .map(|v| v.len())
        .unwrap_or(0);
    for i in 0..variants {
        let base = format!("/properties/messages/items/oneOf/{i}");
        let Some(role) = root
            .pointer(&format!("{base}/properties/role/enum/0"))
            .and_then(Value::as_str)
            .map(pascal)
        else {
            continue;
        };
        let branches = root
            .pointer(&format!("{base}/properties/content/oneOf"))
            .and_then(Value::as_array)
            .map(|v| v.len())
            .unwrap_or(0);
        for j in 0..branches {
            let items = format!("{base}/properties/content/oneOf/{j}/items");
            // One array branch per role; a later one would be numbered.
            let name = match c.schemas.contains_key(&format!("{role}ContentPart")) {
                false => format!("{role}ContentPart"),
                true => format!("{role}ContentPart{j}"),
            };
            c.hoist(root, &items, &name)?;
        }
        // The assistant's calls keep the historical name; any other role
        // that ever gains tool calls gets its own.
        let calls = match role.as_str() {
            "Assistant" => "MessageToolCall".to_string(),
            _ => format!("{role}ToolCall"),
        };
        c.hoist(root, &format!("{base}/properties/tool_calls/items"), &calls)?;
        if branches > 0 {
            c.hoist(
                root,
                &format!("{base}/properties/content"),
                &format!("{role}MessageContent"),
            )?;
        }
        c.hoist(root, &base, &format!("{role}Message"))?;
    }
    for (pointer, name) in [
        ("/properties/messages/items", "ChatMessage"),
        ("/properties/tools/items/properties/function", "FunctionDefinition"),
        ("/properties/tools/items", "ToolDefinition"),
        ("/properties/tool_choice", "ToolChoice"),
        ("/properties/response_format", "ResponseFormat"),
        ("/properties/stop", "StopSequences"),
        ("/properties/stream_options", "StreamOptions"),
        ("/properties/prediction", "Prediction"),
    ] {
        c.hoist(root, pointer, name)?;
    }
    Ok(())
}

pub fn response(c: &mut Components, root: &mut Value) -> Result<(), SpecError> {
    for (pointer, name) in [
        (
            "/properties/choices/items/properties/message/properties/tool_calls/items",
            "ToolCall",
        ),
        ("/properties/choices/items/properties/message", "ResponseMessage"),
        ("/properties/choices/items/properties/logprobs", "ChoiceLogprobs"),
        ("/properties/choices/items", "ChatChoice"),
        ("/properties/usage", "Usage"),
    ] {
        c.hoist(root, pointer, name)?;
    }
    Ok(())
}

/// Chunk parts are named for the chunk, never after the response parts
/// they resemble today (`ChunkUsage`, not a shared `Usage`).
pub fn chunk(c: &mut Components, root: &mut Value) -> Result<(), SpecError> {
    for (pointer, name) in [
        (
            "/properties/choices/items/properties/delta/properties/tool_calls/items",
            "ToolCallDelta",
        ),
        ("/properties/choices/items/properties/delta", "ChunkDelta"),
        ("/properties/choices/items/properties/logprobs", "ChunkLogprobs"),
        ("/properties/choices/items", "ChunkChoice"),
        ("/properties/usage", "ChunkUsage"),
    ] {
        c.hoist(root, pointer, name)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_belong_to_locations_and_nullability_stays_outside() {
        let mut c = Components::new();
        let mut a = json!({"properties": {"u": {"type": "object", "nullable": true, "properties": {"x": {"type": "integer"}}}}});
        let mut b = json!({"properties": {"u": {"type": "object", "nullable": true, "properties": {"x": {"type": "integer"}}}}});
        assert_eq!(
            c.hoist(&mut a, "/properties/u", "Usage").unwrap().as_deref(),
            Some("Usage")
        );
        let err = c.hoist(&mut b, "/properties/u", "Usage").unwrap_err();
        assert!(err.to_string().contains("already belongs"), "{err}");
        assert_eq!(
            a["properties"]["u"],
            json!({"allOf": [{"$ref": "#/components/schemas/Usage"}], "nullable": true})
        );
        assert!(c.schemas["Usage"].get("nullable").is_none());
        assert_eq!(c.hoist(&mut b, "/properties/missing", "X").unwrap(), None);
    }

    #[test]
    fn equal_response_and_chunk_usage_stay_apart() {
        let usage = json!({"type": "object", "properties": {"total_tokens": {"type": "integer"}}});
        let mut c = Components::new();
        let mut r = json!({"properties": {"usage": usage.clone()}});
        let mut k = json!({"properties": {"usage": usage}});
        response(&mut c, &mut r).unwrap();
        chunk(&mut c, &mut k).unwrap();
        assert_eq!(c.schemas["Usage"], c.schemas["ChunkUsage"]);
        assert_eq!(k["properties"]["usage"]["$ref"], "#/components/schemas/ChunkUsage");
    }

    #[test]
    fn message_variants_are_named_by_role() {
        let mut c = Components::new();
        let mut root = json!({"properties": {"messages": {"type": "array", "items": {"oneOf": [
            {"type": "object", "properties": {"role": {"type": "string", "enum": ["system"]}, "content": {"oneOf": [
                {"type": "string"}, {"type": "array", "items": {"type": "object"}}
            ]}}},
            {"type": "object", "properties": {"role": {"type": "string", "enum": ["tool"]}, "content": {"type": "string"}}}
        ]}}}});
        request(&mut c, &mut root).unwrap();
        let names: Vec<&String> = c.schemas.keys().collect();
        for n in [
            "SystemContentPart",
            "SystemMessageContent",
            "SystemMessage",
            "ToolMessage",
            "ChatMessage",
        ] {
            assert!(c.schemas.contains_key(n), "{n} missing from {names:?}");
        }
    }
}
