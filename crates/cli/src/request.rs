//! Turns flags and files into a `ChatRequest`; every bad input is a usage
//! error that names the flag or file to fix.

use std::io::Read;
use std::path::{Path, PathBuf};

use maverick::{ChatRequest, ContentPart, Message, Tool, ToolChoice};
use serde_json::Value;

use crate::exit::Failure;

/// The request-shaping flags of `maverick chat`.
#[derive(Debug, Default)]
pub struct RequestFlags {
    pub prompt: Vec<String>,
    pub system: Option<String>,
    pub images: Vec<String>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub seed: Option<u64>,
    pub stops: Vec<String>,
    pub tools: Vec<PathBuf>,
    pub tool_choice: Option<String>,
    pub schema: Option<PathBuf>,
}

pub fn build(flags: RequestFlags) -> Result<ChatRequest, Failure> {
    let prompt = prompt_text(&flags.prompt)?;
    let mut req = ChatRequest::new();
    if let Some(system) = flags.system {
        req = req.system(system);
    }
    let mut parts = vec![ContentPart::text(prompt)];
    for image in &flags.images {
        parts.push(image_part(image)?);
    }
    req = req.message(Message::user_parts(parts));
    if let Some(n) = flags.max_tokens {
        req = req.max_tokens(n);
    }
    if let Some(t) = flags.temperature {
        req = req.temperature(t);
    }
    if let Some(p) = flags.top_p {
        req = req.top_p(p);
    }
    if let Some(s) = flags.seed {
        req = req.seed(s);
    }
    for stop in flags.stops {
        req = req.stop(stop);
    }
    let mut names = Vec::new();
    for file in &flags.tools {
        let tool = read_tool(file)?;
        names.push(tool.name().to_string());
        req = req.tool(tool);
    }
    if let Some(choice) = flags.tool_choice {
        req = req.tool_choice(tool_choice(&choice, &names)?);
    }
    if let Some(file) = &flags.schema {
        let schema = read_json(file, "--schema")?;
        req = req.json_schema(schema_name(file), schema, false);
    }
    // Bounds the library knows (temperature range, stop count...) are
    // reported before anything is sent.
    req.validate().map_err(Failure::from)?;
    Ok(req)
}

fn prompt_text(words: &[String]) -> Result<String, Failure> {
    let text = if words.is_empty() {
        read_bounded(std::io::stdin().lock(), MAX_INPUT_BYTES)
            .map_err(|e| Failure::Usage(format!("cannot read the prompt from stdin: {e}")))?
    } else {
        words.join(" ")
    };
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(Failure::Usage(
            "the prompt is empty; pass it as arguments or on stdin".into(),
        ));
    }
    Ok(text)
}

fn image_part(spec: &str) -> Result<ContentPart, Failure> {
    let lower = spec.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("data:") {
        Ok(ContentPart::image_url(spec))
    } else {
        ContentPart::image_file(spec).map_err(|e| Failure::Usage(format!("--image {spec}: {e}")))
    }
}

/// Largest prompt (stdin) or JSON file read: past any request the API
/// takes, yet `/dev/zero` or an endless pipe cannot exhaust memory.
const MAX_INPUT_BYTES: u64 = 32 * 1024 * 1024;

/// Reads UTF-8 text, refusing more than `limit` bytes and invalid UTF-8
/// with a message instead of growing without bound.
fn read_bounded(reader: impl Read, limit: u64) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is larger than {limit} bytes"),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is not UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

fn read_json(path: &Path, flag: &str) -> Result<Value, Failure> {
    let text = std::fs::File::open(path)
        .and_then(|file| read_bounded(file, MAX_INPUT_BYTES))
        .map_err(|e| Failure::Usage(format!("{flag} {}: cannot read it: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| Failure::Usage(format!("{flag} {}: not valid JSON: {e}", path.display())))
}

/// A tool file holds `{name, description, parameters}`, or the same inside
/// OpenAI's `{"type": "function", "function": {...}}` wrapper.
fn read_tool(path: &Path) -> Result<Tool, Failure> {
    let value = read_json(path, "--tool")?;
    let def = value
        .get("function")
        .filter(|_| value.get("type").is_some())
        .unwrap_or(&value);
    let bad = |what: &str| {
        Failure::Usage(format!(
            "--tool {}: {what}; expected {{\"name\", \"description\", \"parameters\"}}",
            path.display()
        ))
    };
    let name = def
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad("missing a non-empty \"name\""))?;
    let description = match def.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) => Some(d.clone()),
        Some(_) => return Err(bad("\"description\" is not a string")),
    };
    let parameters = def
        .get("parameters")
        .cloned()
        .unwrap_or_else(|| serde_json::json!({"type": "object", "properties": {}}));
    Tool::from_schema(name, description, parameters)
        .map_err(|e| Failure::Usage(format!("--tool {}: {e}", path.display())))
}

fn tool_choice(choice: &str, names: &[String]) -> Result<ToolChoice, Failure> {
    match choice {
        "auto" => Ok(ToolChoice::Auto),
        "none" => Ok(ToolChoice::None),
        "required" => Ok(ToolChoice::Required),
        name if names.iter().any(|n| n == name) => Ok(ToolChoice::Function(name.to_string())),
        name => Err(Failure::Usage(format!(
            "--tool-choice {name}: use auto, none, required or the name of a --tool (given: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ))),
    }
}

/// The API wants `[A-Za-z0-9_-]{1,64}`; the file stem is the natural name.
fn schema_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        "response".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_sanitised() {
        assert_eq!(schema_name(Path::new("/tmp/my schema.v2.json")), "my_schema_v2");
        assert_eq!(schema_name(Path::new("")), "response");
    }

    #[test]
    fn unknown_tool_choice_lists_the_tools() {
        let err = tool_choice("nope", &["get_weather".into()]).unwrap_err();
        assert!(
            matches!(&err, Failure::Usage(m) if m.contains("get_weather") && m.contains("required")),
            "{err:?}"
        );
        assert!(
            matches!(tool_choice("get_weather", &["get_weather".into()]), Ok(ToolChoice::Function(n)) if n == "get_weather")
        );
    }
}
