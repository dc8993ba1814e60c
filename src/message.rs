//! Chat messages and content parts, built without touching generated names.

use std::path::Path;

use base64::Engine as _;

use serde_json::json;

use crate::construct::{from_json, set, Refused};
use crate::error::Error;
use crate::fields::Field;
use crate::generated::types as t;

/// Largest image accepted for inlining as a data URL (20 MiB).
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;

/// One message of a conversation.
///
/// Built from JSON into the generated type (see `construct.rs`), so a spec
/// release that adds a property to a message costs nothing here.
#[derive(Debug, Clone, PartialEq)]
pub struct Message(pub(crate) Result<t::ChatMessage, Refused>);

impl Message {
    fn build<M: serde::de::DeserializeOwned>(
        what: &'static str,
        json: serde_json::Value,
        wrap: fn(M) -> t::ChatMessage,
    ) -> Self {
        Message(from_json(what, json).map(wrap))
    }

    /// Instructions that frame the whole conversation.
    pub fn system(text: impl Into<String>) -> Self {
        let json = json!({"role": "system", "content": text.into()});
        Self::build("messages[].system", json, t::ChatMessage::SystemMessage)
    }

    /// Developer instructions (the newer name for system prompts).
    pub fn developer(text: impl Into<String>) -> Self {
        let json = json!({"role": "developer", "content": text.into()});
        Self::build("messages[].developer", json, t::ChatMessage::DeveloperMessage)
    }

    /// A user turn with plain text.
    pub fn user(text: impl Into<String>) -> Self {
        let json = json!({"role": "user", "content": text.into()});
        Self::build("messages[].user", json, t::ChatMessage::UserMessage)
    }

    /// A user turn mixing text and images.
    pub fn user_parts(parts: impl IntoIterator<Item = ContentPart>) -> Self {
        let parts: Vec<serde_json::Value> = parts.into_iter().map(|p| p.0).collect();
        let json = json!({"role": "user", "content": parts});
        Self::build("messages[].user", json, t::ChatMessage::UserMessage)
    }

    /// A previous assistant reply, to continue a conversation.
    pub fn assistant(text: impl Into<String>) -> Self {
        let json = json!({"role": "assistant", "content": text.into()});
        Self::build("messages[].assistant", json, t::ChatMessage::AssistantMessage)
    }

    /// An assistant turn that called tools, as the model sent it: the tool
    /// results that follow must answer these calls by id.
    pub fn assistant_tool_calls(content: Option<String>, calls: impl IntoIterator<Item = crate::ToolCallRef>) -> Self {
        let calls: Vec<serde_json::Value> = calls
            .into_iter()
            .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
            .collect();
        let mut json = json!({"role": "assistant", "tool_calls": calls});
        if let Some(content) = content {
            set(&mut json, "content", content);
        }
        Self::build("messages[].assistant", json, t::ChatMessage::AssistantMessage)
    }

    /// The result of a tool call, answering `tool_call_id`.
    pub fn tool(tool_call_id: impl Into<String>, content: impl Into<String>) -> Self {
        let json = json!({"role": "tool", "tool_call_id": tool_call_id.into(), "content": content.into()});
        Self::build("messages[].tool", json, t::ChatMessage::ToolMessage)
    }

    /// Sets the participant name (`name`), where the role has one.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        if let Ok(message) = &mut self.0 {
            match message {
                t::ChatMessage::SystemMessage(m) => m.name.put(name),
                t::ChatMessage::DeveloperMessage(m) => m.name.put(name),
                t::ChatMessage::UserMessage(m) => m.name.put(name),
                t::ChatMessage::AssistantMessage(m) => m.name.put(name),
                t::ChatMessage::ToolMessage(m) => m.name.put(name),
            }
        }
        self
    }

    /// The generated wire type, for fields this wrapper does not cover.
    /// Fails only when the generated types refused the message (a spec
    /// change the wrapper does not cover); the error says so.
    pub fn into_inner(self) -> Result<t::ChatMessage, Error> {
        self.0.map_err(Refused::into_error)
    }
}

impl From<t::ChatMessage> for Message {
    fn from(m: t::ChatMessage) -> Self {
        Message(Ok(m))
    }
}

/// How closely the model looks at an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageDetail {
    /// A fixed low-resolution view: fewer input tokens, faster, less detail.
    Low,
    /// The full-resolution view, for fine print and small objects; costs
    /// more input tokens.
    High,
    /// Let the server choose from the image's size (the API's default).
    Auto,
}

/// A part of a user message: text or an image. Held as JSON until the
/// message is built, where the generated type checks it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentPart(pub(crate) serde_json::Value);

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart(json!({"type": "text", "text": text.into()}))
    }

    /// An image the server fetches (or a `data:` URL you built yourself).
    pub fn image_url(url: impl Into<String>) -> Self {
        ContentPart(json!({"type": "image_url", "image_url": {"url": url.into()}}))
    }

    /// An image from memory, sent inline as a base64 data URL. The type is
    /// read from the bytes, not trusted from a file name.
    pub fn image_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(Error::invalid(
                "image",
                format!("{} bytes", bytes.len()),
                format!("at most {MAX_IMAGE_BYTES} bytes are accepted; downscale or recompress it"),
            ));
        }
        let mime = sniff_image(bytes).ok_or_else(|| {
            Error::invalid(
                "image",
                describe_magic(bytes),
                "the provider accepts JPEG, PNG, GIF and WEBP images only",
            )
        })?;
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        Ok(Self::image_url(format!("data:{mime};base64,{data}")))
    }

    /// An image read from a file, sent inline.
    pub fn image_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::invalid("image", path.display(), format!("a readable file ({e})")))?;
        if meta.len() > MAX_IMAGE_BYTES as u64 {
            return Err(Error::invalid(
                "image",
                format!("{} ({} bytes)", path.display(), meta.len()),
                format!("at most {MAX_IMAGE_BYTES} bytes are accepted; downscale or recompress it"),
            ));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| Error::invalid("image", path.display(), format!("a readable file ({e})")))?;
        Self::image_bytes(&bytes).map_err(|e| match e {
            Error::InvalidRequest { expected, value, .. } => {
                Error::invalid("image", format!("{} ({value})", path.display()), expected)
            }
            other => other,
        })
    }

    /// Sets how closely the model looks at an image part.
    pub fn detail(mut self, detail: ImageDetail) -> Self {
        if let Some(image_url) = self.0.get_mut("image_url").and_then(|v| v.as_object_mut()) {
            let detail = match detail {
                ImageDetail::Low => "low",
                ImageDetail::High => "high",
                ImageDetail::Auto => "auto",
            };
            image_url.insert("detail".into(), detail.into());
        }
        self
    }
}

/// MIME type of a JPEG, PNG, GIF or WEBP image, by its magic bytes.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

fn describe_magic(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "empty".into();
    }
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("not a supported image (starts with {})", head.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_supported_types_and_refuses_others() {
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff_image(b"GIF89a.."), Some("image/gif"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"%PDF-1.7"), None);
        let err = ContentPart::image_bytes(b"%PDF-1.7").unwrap_err().to_string();
        assert!(err.contains("JPEG, PNG, GIF and WEBP"), "{err}");
        let ok = ContentPart::image_bytes(b"\x89PNG\r\n\x1a\nabc")
            .unwrap()
            .detail(ImageDetail::Low);
        let json = ok.0.clone();
        let built = Message::user_parts([ok]).into_inner().unwrap();
        let sent = serde_json::to_value(built).unwrap();
        assert_eq!(sent["content"][0], json, "the generated type keeps every field");
        assert_eq!(json["image_url"]["url"], "data:image/png;base64,iVBORw0KGgphYmM=");
        assert_eq!(json["image_url"]["detail"], "low");
    }
}
