//! The OpenAI Batch file formats `maverick batch` reads and writes, read a
//! line at a time so that a file of any length runs in bounded memory.
//!
//! Input, one JSON object a line:
//! `{"custom_id": "q1", "method": "POST", "url": "/v1/chat/completions", "body": {...}}`
//! (`method` and `url` may be left out; when given they must be these).
//!
//! Output, one a line, appended as answers arrive:
//! `{"id": "batch_req_…", "custom_id": "q1", "response": {"status_code": 200,
//! "request_id": "…", "body": {...}}, "error": null}`. A line is a success
//! exactly when `error` is null. An answer with an error status keeps its
//! `response` (status and the host's error body) and carries `error`
//! (`code`, `message`); a failure with no answer (network, timeout, a stream
//! that kept breaking) has `response: null`.
//!
//! Ids are compared by hash, never kept whole: [`id_hash`] is FNV-1a 128,
//! so a million ids take 16 MB and a collision is out of reach (about
//! 10^-27). Shards use [`shard_hash`], FNV-1a 64, which is stable across
//! versions and machines: shard `K/N` holds the lines whose
//! `fnv1a64(custom_id as UTF-8) % N == K - 1`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::exit::Failure;

use maverick::{ChatRequest, ChatResponse, Error};
use serde_json::{json, Value};

/// Longest input or output line read; a longer one is refused, not loaded.
pub const MAX_LINE_BYTES: usize = 32 * 1024 * 1024;

/// FNV-1a 64 of `bytes`: the shard function, fixed forever.
pub fn shard_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// FNV-1a 128 of a custom id: how ids are remembered.
pub fn id_hash(id: &str) -> u128 {
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in id.as_bytes() {
        hash ^= u128::from(*b);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    hash
}

/// `--shard K/N`: this run takes shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard, String> {
        let parsed = text
            .split_once('/')
            .and_then(|(k, n)| Some((k.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?)));
        match parsed {
            Some((index, count)) if count >= 1 && (1..=count).contains(&index) => Ok(Shard { index, count }),
            _ => Err(format!(
                "--shard {text:?}: expected K/N with 1 <= K <= N, e.g. 1/3 (shard K of N; in a Kubernetes indexed Job, $((JOB_COMPLETION_INDEX+1))/N)"
            )),
        }
    }

    pub fn holds(&self, custom_id: &str) -> bool {
        shard_hash(custom_id.as_bytes()) % self.count == self.index - 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// One line as read: its bytes without the line end, whether it ended in
/// a newline, or its length when it was too long to keep.
#[derive(Debug)]
pub enum Line {
    Text { bytes: Vec<u8>, terminated: bool },
    TooLong { bytes: u64 },
}

/// Reads the next line into `buf` (reused), never holding more than
/// [`MAX_LINE_BYTES`]; `None` at the end of the input.
pub fn next_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<Option<Line>> {
    buf.clear();
    let mut seen: u64 = 0;
    let mut too_long = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(match (seen, too_long) {
                (0, _) => None,
                (n, true) => Some(Line::TooLong { bytes: n }),
                (_, false) => Some(Line::Text {
                    bytes: std::mem::take(buf),
                    terminated: false,
                }),
            });
        }
        let (part, end) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        seen += part.len() as u64;
        if !too_long && buf.len() + part.len() <= MAX_LINE_BYTES {
            buf.extend_from_slice(part);
        } else {
            too_long = true;
            buf.clear();
        }
        let used = end.unwrap_or(chunk.len());
        reader.consume(used);
        if end.is_some() {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(if too_long {
                Line::TooLong { bytes: seen }
            } else {
                Line::Text {
                    bytes: std::mem::take(buf),
                    terminated: true,
                }
            }));
        }
    }
}

/// Calls `each` with the number and bytes of every line of `path` short
/// enough to read, in file order, until it returns `false`. `flag` names
/// the file in messages (`--input`, or nothing for the main input).
pub fn each_line(path: &Path, flag: &str, mut each: impl FnMut(u64, &[u8]) -> bool) -> Result<(), Failure> {
    let shown = format!("{flag}{}{}", if flag.is_empty() { "" } else { " " }, path.display());
    let file = File::open(path).map_err(|e| Failure::Usage(format!("{shown}: cannot read it: {e}")))?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut buf = Vec::new();
    let mut number = 0u64;
    while let Some(line) = next_line(&mut reader, &mut buf).map_err(|e| Failure::Usage(format!("{shown}: {e}")))? {
        number += 1;
        if let Line::Text { bytes, .. } = line {
            if !each(number, &bytes) {
                break;
            }
        }
    }
    Ok(())
}

/// A valid input line: its id and the request it asks for.
#[derive(Debug)]
pub struct Entry {
    pub custom_id: String,
    pub request: ChatRequest,
}

/// What is wrong with an input line, said so that the user can fix it;
/// with the id when one could be read.
#[derive(Debug, PartialEq)]
pub struct Invalid {
    pub custom_id: Option<String>,
    pub problem: String,
}

impl Invalid {
    fn new(custom_id: Option<&str>, problem: impl Into<String>) -> Self {
        Invalid {
            custom_id: custom_id.map(str::to_string),
            problem: problem.into(),
        }
    }
}

const URLS: [&str; 2] = ["/v1/chat/completions", "/chat/completions"];

/// Parses and checks one input line: JSON, `custom_id`, `method`, `url`,
/// and a `body` the request schema accepts.
pub fn parse_entry(bytes: &[u8]) -> Result<Entry, Invalid> {
    let text = std::str::from_utf8(bytes).map_err(|e| Invalid::new(None, format!("not UTF-8 ({e})")))?;
    if text.trim().is_empty() {
        return Err(Invalid::new(
            None,
            "an empty line; every line must be one request object",
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| Invalid::new(None, format!("not JSON ({e})")))?;
    let Value::Object(mut line) = value else {
        return Err(Invalid::new(
            None,
            "not a JSON object; expected {\"custom_id\", \"method\", \"url\", \"body\"}",
        ));
    };
    let custom_id = match line.remove("custom_id") {
        Some(Value::String(id)) if !id.is_empty() => id,
        Some(Value::String(_)) => return Err(Invalid::new(None, "`custom_id` is empty")),
        Some(other) => {
            return Err(Invalid::new(
                None,
                format!("`custom_id` must be a string, not {}", kind(&other)),
            ))
        }
        None => return Err(Invalid::new(None, "no `custom_id`: each line needs a unique one")),
    };
    let id = Some(custom_id.as_str());
    match line.get("method") {
        None => {}
        Some(Value::String(m)) if m.eq_ignore_ascii_case("POST") => {}
        Some(other) => {
            return Err(Invalid::new(
                id,
                format!("`method` is {other}; only \"POST\" is served"),
            ))
        }
    }
    match line.get("url") {
        None => {}
        Some(Value::String(u)) if URLS.contains(&u.as_str()) => {}
        Some(other) => {
            return Err(Invalid::new(
                id,
                format!("`url` is {other}; only \"/v1/chat/completions\" is served"),
            ))
        }
    }
    let body = match line.remove("body") {
        Some(body @ Value::Object(_)) => body,
        Some(other) => {
            return Err(Invalid::new(
                id,
                format!("`body` must be an object, not {}", kind(&other)),
            ))
        }
        None => return Err(Invalid::new(id, "no `body`: the chat completion request")),
    };
    let request = ChatRequest::from_json(body).map_err(|e| Invalid::new(id, format!("body: {e}")))?;
    Ok(Entry { custom_id, request })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The `custom_id` of a line, reading nothing else of it into memory (the
/// rest is skipped, not built).
pub fn custom_id_of(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        custom_id: Option<String>,
    }
    serde_json::from_slice::<IdOnly>(bytes).ok()?.custom_id
}

/// The output line for one answer, newline included.
pub fn output_line(custom_id: &str, result: &Result<ChatResponse, Error>) -> Vec<u8> {
    let value = match result {
        Ok(response) => {
            let body = response
                .raw_json()
                .or_else(|| serde_json::to_value(&response.completion).ok())
                .unwrap_or(Value::Null);
            json!({
                "id": format!("batch_req_{}", response.meta.request_id),
                "custom_id": custom_id,
                "response": {
                    "status_code": response.meta.status,
                    "request_id": response.meta.request_id,
                    "body": body,
                },
                "error": null,
            })
        }
        Err(error) => {
            let request_id = request_id_of(error);
            let response = match error.api() {
                Some(api) => json!({
                    "status_code": api.status,
                    "request_id": api.request_id,
                    "body": serde_json::from_str::<Value>(&api.body).unwrap_or_else(|_| json!({"raw": api.body})),
                }),
                None => Value::Null,
            };
            json!({
                "id": format!("batch_req_{request_id}"),
                "custom_id": custom_id,
                "response": response,
                "error": {"code": error_code(error), "message": error.to_string()},
            })
        }
    };
    let mut line = serde_json::to_vec(&value).unwrap_or_default();
    line.push(b'\n');
    line
}

/// The `X-Client-Request-Id` an error carries, to find the call in logs.
fn request_id_of(error: &Error) -> String {
    match error {
        Error::Api(api) => api.request_id.clone(),
        Error::Transport { request_id, .. }
        | Error::Timeout { request_id, .. }
        | Error::Decode { request_id, .. }
        | Error::Stream { request_id, .. } => request_id.clone(),
        Error::Interrupted { partial, .. } => partial.meta.request_id.clone(),
        _ => String::new(),
    }
}

/// A short machine-readable name for what went wrong.
pub fn error_code(error: &Error) -> &'static str {
    use maverick::ApiErrorKind as K;
    match error {
        Error::Api(api) => match api.kind {
            K::BadRequest => "bad_request",
            K::Authentication => "authentication_error",
            K::PermissionDenied => "permission_denied",
            K::NotFound => "not_found",
            K::Conflict => "conflict",
            K::RateLimited => "rate_limited",
            K::Server => "server_error",
            _ => "api_error",
        },
        Error::Transport { .. } => "network_error",
        Error::Timeout { .. } => "timeout",
        Error::Decode { .. } => "decode_error",
        Error::Interrupted { .. } | Error::Stream { .. } => "stream_error",
        Error::InvalidRequest { .. } => "invalid_request",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_the_published_fnv1a_values() {
        // Test vectors of FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/).
        assert_eq!(shard_hash(b""), 0xcbf29ce484222325);
        assert_eq!(shard_hash(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(shard_hash(b"foobar"), 0x85944171f73967e8);
        assert_eq!(id_hash(""), 0x6c62272e07bb014262b821756295c58d);
        assert_eq!(id_hash("a"), 0xd228cb696f1a8caf78912b704e4a8964);
    }

    #[test]
    fn shards_split_every_id_exactly_once() {
        let shards: Vec<Shard> = (1..=3).map(|k| Shard::parse(&format!("{k}/3")).unwrap()).collect();
        for i in 0..1000 {
            let id = format!("request-{i}");
            assert_eq!(shards.iter().filter(|s| s.holds(&id)).count(), 1);
        }
        for bad in ["0/3", "4/3", "1/0", "x", "1/"] {
            assert!(Shard::parse(bad).unwrap_err().contains("K/N"), "{bad}");
        }
    }

    #[test]
    fn lines_are_read_whole_bounded_and_with_their_ending() {
        let mut r = std::io::Cursor::new(b"one\r\ntwo\nlast".to_vec());
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some(line) = next_line(&mut r, &mut buf).unwrap() {
            match line {
                Line::Text { bytes, terminated } => got.push((String::from_utf8(bytes).unwrap(), terminated)),
                Line::TooLong { .. } => panic!(),
            }
        }
        assert_eq!(
            got,
            [("one".into(), true), ("two".into(), true), ("last".into(), false)]
        );
        let huge = vec![b'x'; MAX_LINE_BYTES + 10];
        let mut r = std::io::BufReader::new(std::io::Cursor::new([huge.as_slice(), b"\nok\n"].concat()));
        assert!(
            matches!(next_line(&mut r, &mut buf).unwrap(), Some(Line::TooLong { bytes }) if bytes == MAX_LINE_BYTES as u64 + 10)
        );
        assert!(matches!(next_line(&mut r, &mut buf).unwrap(), Some(Line::Text { bytes, .. }) if bytes == b"ok"));
    }

    #[test]
    fn entries_are_checked_field_by_field() {
        let ok = br#"{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"messages": [{"role": "user", "content": "hi"}]}}"#;
        assert_eq!(parse_entry(ok).unwrap().custom_id, "a");
        let problem = |line: &str| parse_entry(line.as_bytes()).unwrap_err().problem;
        assert!(problem("{nope").contains("not JSON"));
        assert!(problem("[]").contains("not a JSON object"));
        assert!(problem(r#"{"body": {}}"#).contains("no `custom_id`"));
        assert!(problem(r#"{"custom_id": 5, "body": {}}"#).contains("must be a string, not a number"));
        assert!(problem(r#"{"custom_id": "a", "method": "GET", "body": {}}"#).contains("POST"));
        assert!(problem(r#"{"custom_id": "a", "url": "/v1/embeddings", "body": {}}"#).contains("/v1/chat/completions"));
        assert!(problem(r#"{"custom_id": "a"}"#).contains("no `body`"));
        let e = parse_entry(
            br#"{"custom_id": "a", "body": {"messages": [{"role": "user", "content": "x"}], "temperature": 9}}"#,
        )
        .unwrap_err();
        assert_eq!(e.custom_id.as_deref(), Some("a"));
        assert!(e.problem.contains("temperature"), "{}", e.problem);
        assert_eq!(custom_id_of(ok).as_deref(), Some("a"));
    }
}
