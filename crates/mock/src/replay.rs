//! Serves recorded exchanges: a request gets the cassette whose request
//! body matches it (volatile fields ignored), with the recorded status,
//! headers and body, or the recorded events at their recorded pace. A
//! request nothing matches gets a 404 in the provider's error shape that
//! names the nearest cassette and how the request differs from it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::cassette::{self, Cassette, RecordedEvent, DEFAULT_VOLATILE};
use crate::problem;
use crate::server::lock;

/// Longest wait replayed between two events, whatever was recorded.
const MAX_GAP: Duration = Duration::from_secs(600);
/// Pause before a recorded cut, so the bytes before it reach the client.
const FLUSH_BEFORE_CUT: Duration = Duration::from_millis(50);
/// Differences named in a no-match answer.
const DIFFERENCES_SHOWN: usize = 5;

/// Where cassettes come from and how they are matched and paced.
#[derive(Debug, Clone)]
pub struct ReplaySource {
    pub(crate) dir: PathBuf,
    pub(crate) volatile: Vec<String>,
    /// Replay speed in thousandths (1000 = as recorded, 0 = no waiting):
    /// integer arithmetic, so no float ever becomes a `Duration`.
    pub(crate) speed_permille: u64,
}

impl ReplaySource {
    pub(crate) fn new(dir: PathBuf) -> Self {
        ReplaySource {
            dir,
            volatile: DEFAULT_VOLATILE.iter().map(|s| s.to_string()).collect(),
            speed_permille: 1000,
        }
    }
}

/// Turns a replay speed factor into thousandths, refusing what cannot be a pace.
pub fn speed_permille(speed: f64) -> Result<u64, String> {
    if !speed.is_finite() || !(0.0..=1_000_000.0).contains(&speed) {
        return Err(format!(
            "replay speed {speed} is not usable: give a factor from 0 (no waiting) to 1000000, 1 being the recorded pace"
        ));
    }
    let permille = (speed * 1000.0).round() as u64;
    // A positive speed too small to show still waits (as slowly as it can).
    Ok(if speed > 0.0 { permille.max(1) } else { 0 })
}

struct Entry {
    name: String,
    order: (String, u64),
    key: Value,
    cassette: Cassette,
}

/// Loaded cassettes and how often each request has been served.
pub(crate) struct Replay {
    dir: PathBuf,
    entries: Vec<Entry>,
    volatile: Vec<String>,
    speed_permille: u64,
    served: Mutex<HashMap<String, usize>>,
}

impl Replay {
    pub(crate) fn load(source: &ReplaySource) -> Result<Replay, String> {
        let mut entries: Vec<Entry> = Cassette::read_dir(&source.dir)?
            .into_iter()
            .map(|(name, cassette)| Entry {
                order: order_of(&name),
                key: cassette.match_key(&source.volatile),
                name,
                cassette,
            })
            .collect();
        entries.sort_by(|a, b| a.order.cmp(&b.order));
        Ok(Replay {
            dir: source.dir.clone(),
            entries,
            volatile: source.volatile.clone(),
            speed_permille: source.speed_permille,
            served: Mutex::default(),
        })
    }

    /// The answer to one request.
    pub(crate) fn answer(&self, body: &[u8], path: &str, request_id: &str) -> Response {
        let key = match serde_json::from_slice::<Value>(body) {
            Ok(v) => cassette::match_key(&v, &self.volatile),
            Err(_) => Value::String(String::from_utf8_lossy(body).into_owned()),
        };
        let candidates: Vec<&Entry> = self.entries.iter().filter(|e| e.key == key).collect();
        if candidates.is_empty() {
            return self.no_match(&key, path, request_id);
        }
        // The same request again gets the next recording of it, then the last one.
        let index = {
            let mut served = lock(&self.served);
            let count = served.entry(key.to_string()).or_insert(0);
            let index = (*count).min(candidates.len().saturating_sub(1));
            *count = count.saturating_add(1);
            index
        };
        match candidates.get(index) {
            Some(entry) => self.serve(&entry.cassette),
            None => self.no_match(&key, path, request_id),
        }
    }

    fn serve(&self, cassette: &Cassette) -> Response {
        let answer = &cassette.response;
        let body = match &answer.events {
            Some(events) => self.paced(events, answer.complete),
            None => match (&answer.body, &answer.body_text) {
                (Some(v), _) => Body::from(v.to_string()),
                (None, Some(t)) => Body::from(t.clone()),
                (None, None) => Body::empty(),
            },
        };
        let mut res = Response::new(body);
        *res.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (name, value) in &answer.headers {
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
                res.headers_mut().insert(n, v);
            }
        }
        if !res.headers().contains_key(header::CONTENT_TYPE) {
            let kind = if answer.events.is_some() {
                "text/event-stream"
            } else {
                "application/json"
            };
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
        }
        res
    }

    /// Events as frames, each after its recorded gap scaled by the speed;
    /// an incomplete recording ends with the connection cut, as it did.
    fn paced(&self, events: &[RecordedEvent], complete: bool) -> Body {
        let permille = self.speed_permille;
        let mut previous = 0u64;
        let mut frames: Vec<(Duration, Result<Bytes, std::io::Error>)> = events
            .iter()
            .map(|e| {
                let gap_ms = e.at_ms.saturating_sub(previous);
                previous = e.at_ms;
                let wait = match permille {
                    0 => Duration::ZERO,
                    p => Duration::from_micros(gap_ms.saturating_mul(1_000_000) / p).min(MAX_GAP),
                };
                (wait, Ok(Bytes::from(format!("data: {}\n\n", e.wire_data()))))
            })
            .collect();
        if !complete {
            let cut = std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "maverick-mock: the recorded stream broke off here",
            );
            // Like the mock's own cuts: give hyper time to flush what came
            // before, or the head and events are dropped along with the connection.
            frames.push((FLUSH_BEFORE_CUT, Err(cut)));
        }
        let stream = futures_util::stream::iter(frames).then(|(wait, frame)| async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            frame
        });
        Body::from_stream(stream)
    }

    fn no_match(&self, key: &Value, path: &str, request_id: &str) -> Response {
        let dir = self.dir.display();
        let message = match self
            .entries
            .iter()
            .map(|e| (e, differences(&e.key, key, "")))
            .min_by_key(|(_, d)| d.len())
        {
            None => format!(
                "no cassette matches this request: {dir} holds none; record some with `maverick proxy --record {dir}`"
            ),
            Some((nearest, diffs)) => {
                let shown: Vec<String> = diffs.iter().take(DIFFERENCES_SHOWN).cloned().collect();
                let more = diffs.len().saturating_sub(DIFFERENCES_SHOWN);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!(
                    "no cassette in {dir} matches this request; the nearest is {}, which differs at {}{more}. Record this request, or ignore a field that varies between runs (ignored now: {})",
                    nearest.name,
                    shown.join("; "),
                    self.volatile.join(", ")
                )
            }
        };
        problem::response(StatusCode::NOT_FOUND, json!(message), path, request_id)
    }
}

/// Where two request bodies differ, as `POINTER (recorded X, got Y)`.
fn differences(recorded: &Value, got: &Value, at: &str) -> Vec<String> {
    match (recorded, got) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                    match (a.get(k), b.get(k)) {
                        (Some(x), Some(y)) => differences(x, y, &here),
                        (Some(x), None) => vec![format!("{here} (recorded {}, absent now)", short(x))],
                        (None, Some(y)) => vec![format!("{here} (absent in the recording, got {})", short(y))],
                        (None, None) => Vec::new(),
                    }
                })
                .collect()
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .flat_map(|(i, (x, y))| differences(x, y, &format!("{at}/{i}")))
            .collect(),
        (x, y) if x == y => Vec::new(),
        (x, y) => {
            let at = if at.is_empty() { "/" } else { at };
            vec![format!("{at} (recorded {}, got {})", short(x), short(y))]
        }
    }
}

fn short(v: &Value) -> String {
    let text = crate::contract::excerpt(v);
    let mut chars = text.chars();
    let cut: String = chars.by_ref().take(60).collect();
    if chars.next().is_some() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// `<hash>-<n>.json` sorts by hash, then numerically by n.
fn order_of(name: &str) -> (String, u64) {
    let stem = Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.rsplit_once('-') {
        Some((hash, n)) => match n.parse() {
            Ok(n) => (hash.to_string(), n),
            Err(_) => (stem.clone(), 0),
        },
        None => (stem, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_the_pointer_and_both_values() {
        let a = json!({"messages": [{"content": "Hello"}], "max_tokens": 8});
        let b = json!({"messages": [{"content": "Hi"}], "stream": true});
        assert_eq!(
            differences(&a, &b, ""),
            vec![
                "/max_tokens (recorded 8, absent now)".to_string(),
                "/messages/0/content (recorded \"Hello\", got \"Hi\")".to_string(),
                "/stream (absent in the recording, got true)".to_string(),
            ]
        );
    }

    #[test]
    fn cassettes_order_numerically() {
        let mut names = ["ab-10.json", "ab-2.json", "aa-1.json"];
        names.sort_by_key(|n| order_of(n));
        assert_eq!(names, ["aa-1.json", "ab-2.json", "ab-10.json"]);
    }

    #[test]
    fn speeds_are_checked() {
        assert_eq!(speed_permille(1.0), Ok(1000));
        assert_eq!(speed_permille(0.0), Ok(0));
        assert_eq!(speed_permille(2.5), Ok(2500));
        assert!(speed_permille(-1.0).is_err());
        assert!(speed_permille(f64::NAN).is_err());
    }
}
