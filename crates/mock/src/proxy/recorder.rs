//! Names and writes cassettes for the proxy, leaving out every header that
//! may carry a secret.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;

use axum::http::HeaderMap;
use serde_json::Value;

use crate::cassette::{self, Cassette, DEFAULT_VOLATILE, NEVER_RECORDED};
use crate::server::lock;

/// Where cassettes go and which headers stay out of them.
#[derive(Debug)]
pub(crate) struct Recorder {
    dir: PathBuf,
    redact: Vec<String>,
    /// Requests seen per body hash, for the `-N` in the name.
    seen: Mutex<HashMap<String, u64>>,
}

impl Recorder {
    pub(crate) fn new(dir: PathBuf, redact: Vec<String>) -> Self {
        Recorder {
            dir,
            redact: redact.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
            seen: Mutex::default(),
        }
    }

    /// The file name for the next exchange with this request body:
    /// `<hash>-<n>.json`, stable across runs that send the same requests.
    pub(crate) fn name_for(&self, body: Option<&Value>, raw: &[u8]) -> String {
        let volatile: Vec<String> = DEFAULT_VOLATILE.iter().map(|s| s.to_string()).collect();
        let key = match body {
            Some(v) => cassette::match_key(v, &volatile),
            None => Value::String(String::from_utf8_lossy(raw).into_owned()),
        };
        let hash = cassette::key_hash(&key);
        let mut seen = lock(&self.seen);
        let n = seen.entry(hash.clone()).or_insert(0);
        *n = n.saturating_add(1);
        format!("{hash}-{n}.json")
    }

    /// Headers worth keeping, as text, without credentials, connection
    /// headers or anything the user asked to redact.
    pub(crate) fn headers(&self, headers: &HeaderMap) -> BTreeMap<String, String> {
        headers
            .iter()
            .filter(|(name, _)| {
                let name = name.as_str();
                !NEVER_RECORDED.contains(&name) && !self.redact.iter().any(|r| r == name)
            })
            .filter_map(|(name, value)| Some((name.as_str().to_string(), value.to_str().ok()?.to_string())))
            .collect()
    }

    pub(crate) fn write(&self, name: &str, cassette: &Cassette) -> Result<PathBuf, String> {
        cassette::write(&self.dir, name, cassette)
    }
}
