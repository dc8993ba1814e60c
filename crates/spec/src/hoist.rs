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
    pub fn hoist(
        &mut self,
        root: &mut Value,
        pointer: &str,
        name: &str,
        fallback: &str,
    ) -> Result<Option<String>, SpecError> {
        let Some(slot) = root.pointer_mut(pointer) else {
            return Ok(None);
        };
        if !slot.is_object() {
            return Ok(None);
        }
        let mut schema = slot.take();
        let nullable = schema.as_object_mut().and_then(|m| m.remove("nullable")) == Some(Value::Bool(true));
        let description = schema.get("description").cloned();
        let chosen = match self.schemas.get(name) {
            None => name,
            Some(existing) if *existing == schema => name,
            Some(_) => match self.schemas.get(fallback) {
                None => fallback,
                Some(existing) if *existing == schema => fallback,
                Some(_) => {
                    return Err(SpecError::invalid(
                        pointer,
                        format!("two different schemas want the component name {name:?}"),
                    ));
                }
            },
        };
        self.schemas.insert(chosen.to_string(), schema);
        let reference = json!({ "$ref": format!("#/components/schemas/{chosen}") });
        *slot = if nullable {
            let mut wrapped = json!({ "allOf": [reference], "nullable": true });
            if let Some(d) = description {
                wrapped["description"] = d;
            }
            wrapped
        } else {
            reference
        };
        Ok(Some(chosen.to_string()))
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
            c.hoist(
                root,
                &items,
                &format!("{role}ContentPart"),
                &format!("{role}MessageContentPart"),
            )?;
        }
        c.hoist(
            root,
            &format!("{base}/properties/tool_calls/items"),
            "MessageToolCall",
            &format!("{role}ToolCall"),
        )?;
        if branches > 0 {
            c.hoist(
                root,
                &format!("{base}/properties/content"),
                &format!("{role}MessageContent"),
                &format!("{role}Content"),
            )?;
        }
        c.hoist(root, &base, &format!("{role}Message"), &format!("{role}ChatMessage"))?;
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
        c.hoist(root, pointer, name, &format!("Request{name}"))?;
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
        c.hoist(root, pointer, name, &format!("Response{name}"))?;
    }
    Ok(())
}

pub fn chunk(c: &mut Components, root: &mut Value) -> Result<(), SpecError> {
    for (pointer, name, fallback) in [
        (
            "/properties/choices/items/properties/delta/properties/tool_calls/items",
            "ToolCallDelta",
            "ChunkToolCallDelta",
        ),
        (
            "/properties/choices/items/properties/delta",
            "ChunkDelta",
            "ChatChunkDelta",
        ),
        (
            "/properties/choices/items/properties/logprobs",
            "ChoiceLogprobs",
            "ChunkLogprobs",
        ),
        ("/properties/choices/items", "ChunkChoice", "ChatChunkChoice"),
        ("/properties/usage", "Usage", "ChunkUsage"),
    ] {
        c.hoist(root, pointer, name, fallback)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hoists_with_fallback_and_keeps_nullability_outside() {
        let mut c = Components::new();
        let mut a = json!({"properties": {"u": {"type": "object", "nullable": true, "properties": {"x": {"type": "integer"}}}}});
        let mut b = json!({"properties": {"u": {"type": "object", "properties": {"y": {"type": "integer"}}}}});
        assert_eq!(
            c.hoist(&mut a, "/properties/u", "Usage", "U2").unwrap().as_deref(),
            Some("Usage")
        );
        assert_eq!(
            c.hoist(&mut b, "/properties/u", "Usage", "U2").unwrap().as_deref(),
            Some("U2")
        );
        assert_eq!(
            a["properties"]["u"],
            json!({"allOf": [{"$ref": "#/components/schemas/Usage"}], "nullable": true})
        );
        assert!(c.schemas["Usage"].get("nullable").is_none());
        assert_eq!(c.hoist(&mut b, "/properties/missing", "X", "Y").unwrap(), None);
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
