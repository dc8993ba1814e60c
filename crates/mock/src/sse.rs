//! Splits an event stream into whole events as bytes arrive, keeping each
//! event's exact bytes so a proxy can pass it on unchanged the moment it is
//! complete (never later: time to first token is what streaming is for).
//!
//! Framing follows the WHATWG event-stream rules: lines end in CRLF, LF or
//! CR; a blank line ends an event; `data` fields join with `\n`; lines
//! starting with `:` are comments; one space after the colon is dropped.

use bytes::{Bytes, BytesMut};

/// An event larger than this is not split any further: what is held is
/// passed on as it is and the rest of the stream flows through unchecked,
/// so a hostile upstream cannot make the proxy hold unbounded memory.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// One complete event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    /// The event's bytes as received, blank line included.
    pub raw: Bytes,
    /// Its `data` fields joined with `\n`; `None` for an event with none
    /// (a comment or keep-alive).
    pub data: Option<String>,
}

/// Incremental splitter; feed it reads with [`Splitter::push`].
#[derive(Debug, Default)]
pub struct Splitter {
    buf: BytesMut,
    /// Where the next unscanned line starts in `buf`.
    line_start: usize,
    overflowed: bool,
}

/// What one read produced.
#[derive(Debug, Default)]
pub struct Pushed {
    /// Events completed by this read, in order.
    pub events: Vec<RawEvent>,
    /// Bytes to pass on unsplit: set once an event outgrew
    /// [`MAX_EVENT_BYTES`] (and for every read after that).
    pub passthrough: Option<Bytes>,
}

impl Splitter {
    /// Adds a read and returns the events it completed.
    pub fn push(&mut self, bytes: &[u8]) -> Pushed {
        if self.overflowed {
            return Pushed {
                events: Vec::new(),
                passthrough: Some(Bytes::copy_from_slice(bytes)),
            };
        }
        self.buf.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some((line_end, next)) = self.next_line() {
            let blank = line_end == self.line_start;
            self.line_start = next;
            if blank {
                let raw = self.buf.split_to(next).freeze();
                self.line_start = 0;
                events.push(RawEvent {
                    data: data_of(&raw),
                    raw,
                });
            }
        }
        let mut pushed = Pushed {
            events,
            passthrough: None,
        };
        if self.buf.len() > MAX_EVENT_BYTES {
            self.overflowed = true;
            pushed.passthrough = Some(self.buf.split().freeze());
            self.line_start = 0;
        }
        pushed
    }

    /// Whether an event outgrew [`MAX_EVENT_BYTES`] and splitting stopped.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Bytes of an event the stream ended in the middle of, if any.
    pub fn finish(self) -> Option<Bytes> {
        (!self.buf.is_empty()).then(|| self.buf.freeze())
    }

    /// The end of the line starting at `line_start` and where the next one
    /// starts, or `None` if the line is not complete yet. A CR at the very
    /// end of the buffer waits: it may be the first half of a CRLF.
    fn next_line(&self) -> Option<(usize, usize)> {
        let rest = self.buf.get(self.line_start..)?;
        let at = rest.iter().position(|b| *b == b'\n' || *b == b'\r')?;
        let end = self.line_start + at;
        match (rest.get(at), rest.get(at + 1)) {
            (Some(b'\r'), Some(b'\n')) => Some((end, end + 2)),
            (Some(b'\r'), None) => None,
            _ => Some((end, end + 1)),
        }
    }
}

/// The `data` fields of one event's bytes, joined with `\n`.
fn data_of(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let mut data: Option<String> = None;
    for line in text.split("\r\n").flat_map(|l| l.split(['\n', '\r'])) {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        if field == "data" {
            match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_string()),
            }
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(input: &[u8], piece: usize) -> (Vec<RawEvent>, Option<Bytes>) {
        let mut s = Splitter::default();
        let mut out = Vec::new();
        for p in input.chunks(piece) {
            out.extend(s.push(p).events);
        }
        (out, s.finish())
    }

    #[test]
    fn events_split_the_same_whatever_the_read_sizes() {
        let input = b"data: {\"a\":1}\n\n: keep-alive\r\n\r\ndata: x\r\ndata: y\r\rdata: [DONE]\n\ndata: tail";
        for piece in 1..input.len() {
            let (events, rest) = split_all(input, piece);
            let data: Vec<_> = events.iter().map(|e| e.data.clone()).collect();
            assert_eq!(
                data,
                vec![
                    Some("{\"a\":1}".to_string()),
                    None,
                    Some("x\ny".to_string()),
                    Some("[DONE]".to_string())
                ],
                "piece {piece}"
            );
            let raw: Vec<u8> = events.iter().flat_map(|e| e.raw.to_vec()).collect();
            assert_eq!(&raw[..], &input[..input.len() - 10], "piece {piece}");
            assert_eq!(rest.as_deref(), Some(&b"data: tail"[..]));
        }
    }

    #[test]
    fn an_endless_event_stops_splitting_instead_of_growing() {
        let mut s = Splitter::default();
        let big = vec![b'a'; MAX_EVENT_BYTES / 4];
        let mut passed = 0;
        for _ in 0..8 {
            passed += s.push(&big).passthrough.map_or(0, |b| b.len());
        }
        assert!(s.overflowed());
        assert_eq!(passed + s.finish().map_or(0, |b| b.len()), big.len() * 8);
    }
}
