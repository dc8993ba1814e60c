//! A conversation as `/save` writes it and `--continue` reads it:
//!
//! ```json
//! {"format": "maverick-conversation/1", "model": "…",
//!  "messages": [{"role": "system", "content": "…"}, {"role": "user", "content": "…"}, …]}
//! ```
//!
//! A bare OpenAI `messages` array is accepted too.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::exit::Failure;

pub const FORMAT: &str = "maverick-conversation/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub role: Role,
    pub content: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub messages: Vec<Turn>,
}

impl Conversation {
    /// The system message, if the conversation has one (the first).
    pub fn system(&self) -> Option<&str> {
        self.messages
            .iter()
            .find(|t| t.role == Role::System)
            .map(|t| t.content.as_str())
    }

    /// Sets (or with `None`, removes) the system message.
    pub fn set_system(&mut self, text: Option<String>) {
        self.messages.retain(|t| t.role != Role::System);
        if let Some(content) = text {
            self.messages.insert(
                0,
                Turn {
                    role: Role::System,
                    content,
                },
            );
        }
    }

    /// The turns that are not the system message.
    pub fn turns(&self) -> impl Iterator<Item = &Turn> {
        self.messages.iter().filter(|t| t.role != Role::System)
    }

    pub fn push(&mut self, role: Role, content: impl Into<String>) {
        self.messages.push(Turn {
            role,
            content: content.into(),
        });
    }

    pub fn load(path: &Path, flag: &str) -> Result<Conversation, Failure> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("{flag} {}: cannot read it: {e}", path.display())))?;
        let bad = |e: serde_json::Error| {
            Failure::Usage(format!(
                "{flag} {}: not a saved conversation ({e}); expected {{\"messages\": [{{\"role\": \"user\", \"content\": \"…\"}}, …]}}",
                path.display()
            ))
        };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(bad)?;
        if value.is_array() {
            let messages: Vec<Turn> = serde_json::from_value(value).map_err(bad)?;
            return Ok(Conversation {
                format: Some(FORMAT.into()),
                model: None,
                messages,
            });
        }
        serde_json::from_value(value).map_err(bad)
    }

    /// Writes the conversation next to `path` and renames it into place,
    /// so a crash never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let mut copy = self.clone();
        copy.format = Some(FORMAT.into());
        let text = serde_json::to_string_pretty(&copy).map_err(|e| e.to_string())?;
        let name = path.file_name().ok_or("the path names no file")?;
        let tmp = path.with_file_name(format!(".{}.tmp{}", name.to_string_lossy(), std::process::id()));
        std::fs::write(&tmp, text + "\n").map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            e.to_string()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_bare_arrays() {
        let dir = std::env::temp_dir().join(format!("maverick-conv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut c = Conversation::default();
        c.push(Role::User, "hi");
        c.set_system(Some("be brief".into()));
        assert_eq!(c.system(), Some("be brief"));
        assert_eq!(c.turns().count(), 1);
        let path = dir.join("c.json");
        c.save(&path).unwrap();
        let back = Conversation::load(&path, "--continue").unwrap();
        assert_eq!(back.messages, c.messages);
        assert_eq!(back.format.as_deref(), Some(FORMAT));

        std::fs::write(&path, r#"[{"role":"user","content":"x"}]"#).unwrap();
        assert_eq!(Conversation::load(&path, "--continue").unwrap().messages.len(), 1);
        std::fs::write(&path, r#"{"messages":[{"role":"robot","content":"x"}]}"#).unwrap();
        assert!(Conversation::load(&path, "--continue").is_err());
    }
}
