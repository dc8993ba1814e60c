//! Turns flags and files into a `ChatRequest`; every bad input is a usage
//! error that names the flag or file to fix.

use std::path::{Path, PathBuf};

use maverick::{ChatRequest, ContentPart, Message, Tool, ToolChoice};
use serde_json::Value;

use crate::conversation::{Role, Turn};
use crate::exit::Failure;

/// The request-shaping flags of `maverick chat`, the same for every turn.
#[derive(Debug, Default)]
pub struct RequestFlags {
    pub images: Vec<String>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub seed: Option<u64>,
    pub stops: Vec<String>,
    pub tools: Vec<PathBuf>,
    pub tool_choice: Option<String>,
    pub schema: Option<PathBuf>,
    /// Ask a stream to end with a usage chunk (`stream_options.include_usage`).
    pub include_usage: bool,
}

/// The flags, read and checked once: files parsed, images loaded.
#[derive(Debug, Clone)]
pub struct Shape {
    images: Vec<ContentPart>,
    max_tokens: Option<u32>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    seed: Option<u64>,
    stops: Vec<String>,
    tools: Vec<Tool>,
    tool_choice: Option<ToolChoice>,
    schema: Option<(String, Value)>,
    include_usage: bool,
}

impl Shape {
    pub fn new(flags: RequestFlags) -> Result<Shape, Failure> {
        let mut images = Vec::new();
        for image in &flags.images {
            images.push(image_part(image)?);
        }
        let mut names = Vec::new();
        let mut tools = Vec::new();
        for file in &flags.tools {
            let tool = read_tool(file)?;
            names.push(tool.name().to_string());
            tools.push(tool);
        }
        let tool_choice = match flags.tool_choice {
            Some(choice) => Some(tool_choice(&choice, &names)?),
            None => None,
        };
        let schema = match &flags.schema {
            Some(file) => Some((schema_name(file), read_json(file, "--schema")?)),
            None => None,
        };
        let shape = Shape {
            images,
            max_tokens: flags.max_tokens,
            temperature: flags.temperature,
            top_p: flags.top_p,
            seed: flags.seed,
            stops: flags.stops,
            tools,
            tool_choice,
            schema,
            include_usage: flags.include_usage,
        };
        // Bounds the library knows (temperature range, stop count...) are
        // reported before anything is read from stdin or sent.
        shape.request(None, &[], "x", true)?;
        Ok(shape)
    }

    /// One call: the system message, the earlier turns, then `prompt`
    /// (with the `--image`s when `images` is set).
    pub fn request(
        &self,
        system: Option<&str>,
        history: &[&Turn],
        prompt: &str,
        images: bool,
    ) -> Result<ChatRequest, Failure> {
        let mut req = ChatRequest::new();
        if let Some(system) = system {
            req = req.system(system);
        }
        for turn in history {
            req = match turn.role {
                Role::System => req.system(turn.content.clone()),
                Role::User => req.user(turn.content.clone()),
                Role::Assistant => req.assistant(turn.content.clone()),
            };
        }
        let mut parts = vec![ContentPart::text(prompt)];
        if images {
            parts.extend(self.images.iter().cloned());
        }
        req = req.message(Message::user_parts(parts));
        if let Some(n) = self.max_tokens {
            req = req.max_tokens(n);
        }
        if let Some(t) = self.temperature {
            req = req.temperature(t);
        }
        if let Some(p) = self.top_p {
            req = req.top_p(p);
        }
        if let Some(s) = self.seed {
            req = req.seed(s);
        }
        for stop in &self.stops {
            req = req.stop(stop.clone());
        }
        for tool in &self.tools {
            req = req.tool(tool.clone());
        }
        if let Some(choice) = &self.tool_choice {
            req = req.tool_choice(choice.clone());
        }
        if let Some((name, schema)) = &self.schema {
            req = req.json_schema(name.clone(), schema.clone(), false);
        }
        if self.include_usage {
            req = req.include_usage(true);
        }
        req.validate().map_err(Failure::from)?;
        Ok(req)
    }
}

fn image_part(spec: &str) -> Result<ContentPart, Failure> {
    let lower = spec.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("data:") {
        Ok(ContentPart::image_url(spec))
    } else {
        ContentPart::image_file(spec).map_err(|e| Failure::Usage(format!("--image {spec}: {e}")))
    }
}

fn read_json(path: &Path, flag: &str) -> Result<Value, Failure> {
    let text = std::fs::File::open(path)
        .and_then(|file| crate::input::read_bounded(file, crate::input::MAX_INPUT_BYTES))
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
