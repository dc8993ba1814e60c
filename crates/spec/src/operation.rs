//! Finding the one chat completions operation in a published document.

use serde_json::Value;

use crate::error::{escape, SpecError, SpecErrorKind};

/// The paths that may carry the operation, preferred first.
pub const PATHS: [&str; 2] = ["/v1/chat/completions", "/chat/completions"];

/// The parts of the operation the normaliser uses, with pointers for errors.
pub struct Operation<'a> {
    pub path: &'static str,
    pub op: &'a Value,
    pub pointer: String,
}

pub fn find(doc: &Value) -> Result<Operation<'_>, SpecError> {
    let paths = doc.get("paths").and_then(Value::as_object);
    let post = |p: &str| paths.and_then(|ps| ps.get(p)).and_then(|item| item.get("post"));
    let found: Vec<(&'static str, &Value)> = PATHS.iter().filter_map(|p| post(p).map(|op| (*p, op))).collect();
    let Some(&(path, op)) = found.first() else {
        let listed = paths.map(|ps| ps.keys().cloned().collect()).unwrap_or_default();
        return Err(SpecError::new(
            "/paths",
            SpecErrorKind::NoChatOperation { paths: listed },
        ));
    };
    if let Some(&(other_path, other)) = found.get(1) {
        if let Some(what) = contract_difference(op, other) {
            return Err(SpecError::new(
                format!("/paths/{}/post", escape(other_path)),
                SpecErrorKind::DivergentDuplicatePaths(what),
            ));
        }
    }
    Ok(Operation {
        path,
        op,
        pointer: format!("/paths/{}/post", escape(path)),
    })
}

/// Compares what matters to a client (bodies, responses, parameters),
/// ignoring operationIds, summaries and code samples.
fn contract_difference(a: &Value, b: &Value) -> Option<String> {
    for key in ["requestBody", "responses", "parameters"] {
        if strip_docs(a.get(key)) != strip_docs(b.get(key)) {
            return Some(format!("their `{key}` differ"));
        }
    }
    None
}

fn strip_docs(v: Option<&Value>) -> Value {
    fn go(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| {
                        !matches!(k.as_str(), "description" | "summary" | "example" | "examples")
                            && !k.starts_with("x-")
                    })
                    .map(|(k, v)| (k.clone(), go(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(go).collect()),
            other => other.clone(),
        }
    }
    v.map(go).unwrap_or(Value::Null)
}
