//! Cassettes: one recorded exchange per readable JSON file, named so that
//! recording the same traffic twice writes the same names (they diff well
//! in review), and never holding a secret.
//!
//! Format `maverick-cassette/1`:
//!
//! ```json
//! {
//!   "format": "maverick-cassette/1",
//!   "request": {
//!     "method": "POST", "path": "/v1/chat/completions",
//!     "headers": {"content-type": "application/json"},
//!     "body": {"model": "…", "messages": […]}          // or "body_text" when not JSON
//!   },
//!   "response": {
//!     "status": 200,
//!     "headers": {"content-type": "text/event-stream"},
//!     "body": {…},                                      // JSON answers ("body_text" otherwise)
//!     "events": [{"at_ms": 12, "data": {…}}, {"at_ms": 40, "text": "[DONE]"}],  // streams
//!     "complete": true,                                 // false: the stream broke off
//!     "truncated": true                                 // only when the stream outgrew 64 MiB
//!   }
//! }
//! ```
//!
//! The file name is `<16 hex digits>-<n>.json`: an FNV-1a hash of the
//! request body with the volatile fields removed ([`DEFAULT_VOLATILE`]),
//! then the request's occurrence number for that body in the recording.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The cassette format tag.
pub const FORMAT: &str = "maverick-cassette/1";

/// Top-level request fields ignored when matching a request to a cassette
/// (and when naming one): they identify a caller or a run, not the
/// question, so a test that puts a run id in `user` still replays.
/// `seed` is not among them: it changes what a host answers.
pub const DEFAULT_VOLATILE: &[&str] = &["user", "metadata"];

/// Headers never written to a cassette, whatever `redact` adds: they carry
/// credentials or describe one connection, not the exchange.
pub const NEVER_RECORDED: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "host",
    // Changes on every run and says nothing about the exchange: noise in review.
    "date",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
];

/// One recorded exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Cassette {
    pub format: String,
    pub request: RecordedCall,
    pub response: RecordedAnswer,
}

/// The request side of a cassette.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordedCall {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
}

/// The response side of a cassette.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordedAnswer {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<RecordedEvent>>,
    #[serde(default = "yes")]
    pub complete: bool,
    /// The stream was longer than the recorder keeps; `events` holds its
    /// beginning only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

fn yes() -> bool {
    true
}

/// One event of a recorded stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordedEvent {
    /// Milliseconds from the response head to this event.
    pub at_ms: u64,
    /// The event's data when it is JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// The event's data when it is not (`[DONE]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl RecordedEvent {
    /// An event from its data text: parsed when it is JSON.
    pub fn new(at_ms: u64, data: &str) -> Self {
        match serde_json::from_str::<Value>(data) {
            Ok(v) if v.is_object() || v.is_array() => RecordedEvent {
                at_ms,
                data: Some(v),
                text: None,
            },
            _ => RecordedEvent {
                at_ms,
                data: None,
                text: Some(data.to_string()),
            },
        }
    }

    /// The data as it goes on the wire.
    pub fn wire_data(&self) -> String {
        match (&self.data, &self.text) {
            (Some(v), _) => v.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => String::new(),
        }
    }
}

/// A body as a cassette holds it: JSON when it parses, text otherwise.
pub fn body_fields(bytes: &[u8]) -> (Option<Value>, Option<String>) {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => (Some(v), None),
        Err(_) if bytes.is_empty() => (None, None),
        Err(_) => (None, Some(String::from_utf8_lossy(bytes).into_owned())),
    }
}

impl Cassette {
    /// A cassette around a request and a response.
    pub fn new(request: RecordedCall, response: RecordedAnswer) -> Self {
        Cassette {
            format: FORMAT.to_string(),
            request,
            response,
        }
    }

    /// Reads one cassette file.
    pub fn read(path: &Path) -> Result<Cassette, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let cassette: Cassette = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a cassette: {e} (expected format {FORMAT})", path.display()))?;
        if cassette.format != FORMAT {
            return Err(format!(
                "{} has format {:?}; this version reads {FORMAT}",
                path.display(),
                cassette.format
            ));
        }
        Ok(cassette)
    }

    /// Every `*.json` cassette in `dir`, sorted by file name.
    pub fn read_dir(dir: &Path) -> Result<Vec<(String, Cassette)>, String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read the cassette directory {}: {e}", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Cassette::read(&p).map(|c| (name, c))
            })
            .collect()
    }

    /// The request body as matching sees it (volatile fields removed).
    pub fn match_key(&self, volatile: &[String]) -> Value {
        match (&self.request.body, &self.request.body_text) {
            (Some(v), _) => match_key(v, volatile),
            (None, Some(t)) => Value::String(t.clone()),
            (None, None) => Value::Null,
        }
    }
}

/// `body` without its volatile top-level fields.
pub fn match_key(body: &Value, volatile: &[String]) -> Value {
    match body {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !volatile.iter().any(|v| v == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// 16 hex digits naming a match key; FNV-1a, so the same body gets the same
/// name on every machine and Rust version.
pub fn key_hash(key: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.to_string().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Writes `cassette` to `dir/name` through a temporary file, so a reader
/// never sees half a cassette.
pub fn write(dir: &Path, name: &str, cassette: &Cassette) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut text = serde_json::to_string_pretty(cassette).map_err(|e| format!("cannot encode the cassette: {e}"))?;
    text.push('\n');
    let path = dir.join(name);
    let temp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&temp, text).map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
    std::fs::rename(&temp, &path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn volatile_fields_do_not_change_the_name() {
        let volatile: Vec<String> = DEFAULT_VOLATILE.iter().map(|s| s.to_string()).collect();
        let a = json!({"messages": [{"role": "user", "content": "Hi"}], "user": "run-1"});
        let b = json!({"user": "run-2", "messages": [{"role": "user", "content": "Hi"}]});
        let c = json!({"messages": [{"role": "user", "content": "Hi"}], "seed": 3});
        let name = |v: &Value| key_hash(&match_key(v, &volatile));
        assert_eq!(name(&a), name(&b));
        assert_ne!(name(&a), name(&c));
        assert_eq!(name(&a).len(), 16);
    }

    #[test]
    fn events_keep_json_as_json_and_the_rest_as_text() {
        let e = RecordedEvent::new(3, "{\"a\":1}");
        assert_eq!(e.data, Some(json!({"a": 1})));
        assert_eq!(e.wire_data(), "{\"a\":1}");
        let done = RecordedEvent::new(4, "[DONE]");
        assert_eq!(done.text.as_deref(), Some("[DONE]"));
        assert_eq!(done.wire_data(), "[DONE]");
    }
}
