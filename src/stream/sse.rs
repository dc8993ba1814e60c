//! A byte-level Server-Sent Events decoder (WHATWG "event stream
//! interpretation"), independent of any transport so that it can be tested
//! and fuzzed on arbitrary splits of the input.
//!
//! Bytes are buffered until a line is complete, so chunk boundaries may fall
//! anywhere: inside a line, between CR and LF, inside a UTF-8 code point.
//! The scan for a line end resumes where the previous one stopped, so a long
//! line arriving in many small pieces costs linear, not quadratic, time; and
//! both the line and the event data are capped, so memory stays bounded
//! whatever the server sends.

use std::fmt;

pub use crate::config::DEFAULT_MAX_EVENT_BYTES;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Buffers grown past this by one large event are given back afterwards.
const SHRINK_ABOVE: usize = 1024 * 1024;

/// Why the decoder gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// A line or an event's data grew past the limit.
    TooLong {
        /// The configured maximum, in bytes, that was exceeded.
        limit: usize,
    },
    /// The input ended inside an event (data seen, no blank line yet).
    Truncated,
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SseError::TooLong { limit } => {
                write!(f, "an event-stream line or event is longer than the {limit} byte limit")
            }
            SseError::Truncated => f.write_str("the event stream ended in the middle of an event"),
        }
    }
}

impl std::error::Error for SseError {}

/// One dispatched event, borrowed from the decoder until the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseEvent<'a> {
    /// The `event:` name, empty when none was sent (the spec's "message").
    pub event: &'a str,
    /// The `data:` lines joined with `\n`.
    pub data: &'a [u8],
}

/// The incremental decoder: [`feed`](Self::feed) bytes, then call
/// [`next_event`](Self::next_event) until it returns `None`.
#[derive(Debug)]
pub struct SseDecoder {
    buf: Vec<u8>,
    /// Start of the bytes not yet consumed as lines.
    pos: usize,
    /// Where the search for the next line end resumes (≥ `pos`).
    scan: usize,
    /// A line just ended in CR: an LF starting the next input belongs to it.
    skip_lf: bool,
    bom_done: bool,
    data: Vec<u8>,
    /// The pending event's only data line, still in `buf`: the common
    /// one-line event is handed out without being copied.
    span: Option<(usize, usize)>,
    has_data: bool,
    /// The last call handed out an event: clear its buffers first.
    dispatched: bool,
    event: String,
    max: usize,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_EVENT_BYTES)
    }
}

// Panic lints (`.ci/lint-panics`): the decoder indexes `buf` with positions
// it keeps itself, never with a value read from the input. The invariants,
// kept by every method: `pos <= scan <= buf.len()`; `span`, when set, lies
// within `buf[..pos]` until `feed` moves it out; a line end found by memchr
// lies in `buf[scan..]`. Sums of these positions are bounded by
// `buf.len()`, so none overflows. The `sse` fuzz target (and its stable
// replay, tests/fuzz_replay.rs) checks exactly this code on arbitrary input.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
impl SseDecoder {
    /// A decoder refusing lines and events longer than `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        SseDecoder {
            buf: Vec::with_capacity(8 * 1024),
            pos: 0,
            scan: 0,
            skip_lf: false,
            bom_done: false,
            data: Vec::with_capacity(1024),
            span: None,
            has_data: false,
            dispatched: false,
            event: String::new(),
            max: max_bytes,
        }
    }

    /// Appends input. Consumed lines are dropped here, not in `next_event`,
    /// so the buffer only ever holds one partial line between calls.
    pub fn feed(&mut self, bytes: &[u8]) {
        // The consumed prefix is about to go: a pending data line in it moves
        // to `data` (at most once per feed, and only for an event cut by it).
        if let Some((start, end)) = self.span.take() {
            if self.has_data {
                self.data.clear();
                self.data.extend_from_slice(&self.buf[start..end]);
            }
        }
        if self.pos > 0 {
            if self.pos == self.buf.len() {
                self.buf.clear();
            } else {
                self.buf.drain(..self.pos);
            }
            self.scan -= self.pos;
            self.pos = 0;
        }
        if self.buf.capacity() > SHRINK_ABOVE && self.buf.len() + bytes.len() <= SHRINK_ABOVE / 2 {
            self.buf.shrink_to(8 * 1024);
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete event, or `None` when more input is needed.
    pub fn next_event(&mut self) -> Result<Option<SseEvent<'_>>, SseError> {
        loop {
            let Some((start, end)) = self.next_line()? else {
                return Ok(None);
            };
            if start == end {
                if self.dispatch_ready() {
                    break;
                }
                continue;
            }
            self.field(start, end)?;
        }
        let data = match self.span {
            Some((start, end)) => &self.buf[start..end],
            None => &self.data[..],
        };
        Ok(Some(SseEvent {
            event: &self.event,
            data,
        }))
    }

    /// Ends the input. An unterminated last line is taken as a line; data
    /// still waiting for its blank line is then an error, since the spec
    /// discards such an event and a truncated stream must not pass silently.
    /// [`pending_data`](Self::pending_data) shows what was cut.
    pub fn finish(&mut self) -> Result<(), SseError> {
        if self.pos < self.buf.len() {
            let (start, end) = (self.pos, self.buf.len());
            self.pos = end;
            self.scan = end;
            if start < end {
                self.field(start, end)?;
            }
        }
        if self.has_data {
            Err(SseError::Truncated)
        } else {
            Ok(())
        }
    }

    /// Data of the event under construction (for a truncated stream).
    pub fn pending_data(&self) -> &[u8] {
        match (self.has_data, self.span) {
            (false, _) => &[],
            (true, Some((start, end))) => &self.buf[start..end],
            (true, None) => &self.data,
        }
    }

    /// On a blank line: whether an event is ready; resets the buffers when
    /// not (an event with no data is never dispatched).
    fn dispatch_ready(&mut self) -> bool {
        if self.has_data {
            // The spec appends LF after every data line and strips the last;
            // joining with LF instead gives the same bytes.
            self.has_data = false;
            self.dispatched = true;
            true
        } else {
            self.event.clear();
            false
        }
    }

    /// Bounds of the next complete line in `buf`, without its line end.
    fn next_line(&mut self) -> Result<Option<(usize, usize)>, SseError> {
        // Resets left over from the event handed out by the previous call.
        if self.dispatched {
            self.dispatched = false;
            self.span = None;
            self.data.clear();
            self.event.clear();
            // One huge event must not pin its memory for the rest of the stream.
            if self.data.capacity() > SHRINK_ABOVE {
                self.data.shrink_to(1024);
            }
        }
        if self.skip_lf && self.pos < self.buf.len() {
            self.skip_lf = false;
            if self.buf[self.pos] == b'\n' {
                self.pos += 1;
                self.scan = self.scan.max(self.pos);
            }
        }
        if !self.bom_done {
            let avail = &self.buf[self.pos..];
            let n = avail.len().min(BOM.len());
            if avail[..n] != BOM[..n] {
                self.bom_done = true;
            } else if n == BOM.len() {
                self.pos += n;
                self.scan = self.scan.max(self.pos);
                self.bom_done = true;
            } else {
                return Ok(None);
            }
        }
        let rest = &self.buf[self.scan..];
        // The blank line ending an event is the commonest line: skip the
        // vector search's setup for it.
        let found = match rest.first() {
            Some(b'\n' | b'\r') => Some(0),
            _ => memchr::memchr2(b'\n', b'\r', rest),
        };
        match found {
            Some(off) => {
                let (start, end) = (self.pos, self.scan + off);
                if end - start > self.max {
                    return Err(SseError::TooLong { limit: self.max });
                }
                let next = end + 1;
                if self.buf[end] == b'\r' {
                    if next < self.buf.len() {
                        if self.buf[next] == b'\n' {
                            self.pos = next + 1;
                        } else {
                            self.pos = next;
                        }
                    } else {
                        self.pos = next;
                        self.skip_lf = true;
                    }
                } else {
                    self.pos = next;
                }
                self.scan = self.pos;
                Ok(Some((start, end)))
            }
            None => {
                self.scan = self.buf.len();
                if self.scan - self.pos > self.max {
                    return Err(SseError::TooLong { limit: self.max });
                }
                Ok(None)
            }
        }
    }

    /// Applies one non-blank line.
    fn field(&mut self, start: usize, end: usize) -> Result<(), SseError> {
        let line = &self.buf[start..end];
        let colon = if line.starts_with(b"data:") {
            Some(4)
        } else {
            memchr::memchr(b':', line)
        };
        let (name_end, value_start) = match colon {
            Some(0) => return Ok(()), // comment / keep-alive
            Some(i) => {
                let colon = start + i;
                let skip_space = usize::from(colon + 1 < end && self.buf[colon + 1] == b' ');
                (colon, colon + 1 + skip_space)
            }
            None => (end, end),
        };
        match &self.buf[start..name_end] {
            b"data" => {
                if !self.has_data {
                    self.has_data = true;
                    self.span = Some((value_start, end));
                    return Ok(());
                }
                if let Some((s, e)) = self.span.take() {
                    self.data.clear();
                    self.data.extend_from_slice(&self.buf[s..e]);
                }
                if self.data.len() + 1 + (end - value_start) > self.max {
                    return Err(SseError::TooLong { limit: self.max });
                }
                self.data.push(b'\n');
                self.data.extend_from_slice(&self.buf[value_start..end]);
            }
            b"event" => {
                self.event.clear();
                self.event
                    .push_str(&String::from_utf8_lossy(&self.buf[value_start..end]));
            }
            // `id` and `retry` only matter for reconnecting EventSource
            // clients; a chat completion cannot be resumed, so both are ignored.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(pieces: &[&[u8]]) -> (Vec<(String, String)>, Result<(), SseError>) {
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        for p in pieces {
            d.feed(p);
            while let Some(ev) = d.next_event().unwrap() {
                out.push((ev.event.to_string(), String::from_utf8(ev.data.to_vec()).unwrap()));
            }
        }
        let end = d.finish();
        (out, end)
    }

    fn ev(event: &str, data: &str) -> (String, String) {
        (event.to_string(), data.to_string())
    }

    #[test]
    fn multi_line_data_is_joined_with_lf() {
        let (out, end) = decode_all(&[b"data: a\ndata:b\ndata\n\n"]);
        assert_eq!(out, vec![ev("", "a\nb\n")]);
        assert_eq!(end, Ok(()));
    }

    #[test]
    fn comments_event_names_and_unknown_fields() {
        let (out, _) =
            decode_all(&[b": keep-alive\n\nevent: error\nid: 7\nretry: 10\nfoo: bar\ndata: x\n\ndata: y\n\n"]);
        assert_eq!(out, vec![ev("error", "x"), ev("", "y")]);
    }

    #[test]
    fn event_without_data_is_not_dispatched_and_name_resets() {
        let (out, _) = decode_all(&[b"event: ping\n\ndata: z\n\n"]);
        assert_eq!(out, vec![ev("", "z")]);
    }

    #[test]
    fn empty_data_line_dispatches_empty_event() {
        let (out, _) = decode_all(&[b"data:\n\n"]);
        assert_eq!(out, vec![ev("", "")]);
    }

    #[test]
    fn crlf_cr_and_lf_line_ends() {
        for input in [
            &b"data: a\r\n\r\ndata: b\r\n\r\n"[..],
            b"data: a\r\rdata: b\r\r",
            b"data: a\n\ndata: b\r\n\n",
        ] {
            let (out, end) = decode_all(&[input]);
            assert_eq!(out, vec![ev("", "a"), ev("", "b")], "{input:?}");
            assert_eq!(end, Ok(()));
        }
    }

    #[test]
    fn cr_then_lf_in_the_next_piece_is_one_line_end() {
        // Taking the LF as a second line end would dispatch "a" on its own.
        let (out, _) = decode_all(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        assert_eq!(out, vec![ev("", "a\nb")]);
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let input =
            "\u{FEFF}: hi\r\nevent: e\r\ndata: {\"t\":\"héllo 😀\"}\r\n\r\ndata: 2\ndata: 3\n\ndata: x\r\r".as_bytes();
        let (whole, _) = decode_all(&[input]);
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[0], ev("e", "{\"t\":\"héllo 😀\"}"));
        for i in 0..=input.len() {
            for j in i..=input.len() {
                let (split, end) = decode_all(&[&input[..i], &input[i..j], &input[j..]]);
                assert_eq!(split, whole, "split at {i},{j}");
                assert_eq!(end, Ok(()));
            }
        }
    }

    #[test]
    fn byte_order_mark_is_stripped_once() {
        let (out, _) = decode_all(&[b"\xEF", b"\xBB", b"\xBFdata: a\n\n"]);
        assert_eq!(out, vec![ev("", "a")]);
    }

    #[test]
    fn truncated_event_is_an_error_but_a_complete_tail_is_not() {
        let (out, end) = decode_all(&[b"data: a\n\ndata: {\"cho"]);
        assert_eq!(out, vec![ev("", "a")]);
        assert_eq!(end, Err(SseError::Truncated));
        let (_, end) = decode_all(&[b"data: a\n\n: bye"]);
        assert_eq!(end, Ok(()));
        let mut d = SseDecoder::default();
        d.feed(b"data: [DONE]\n");
        assert_eq!(d.next_event(), Ok(None));
        assert_eq!(d.finish(), Err(SseError::Truncated));
        assert_eq!(d.pending_data(), b"[DONE]");
    }

    #[test]
    fn overlong_line_and_event_are_refused() {
        let mut d = SseDecoder::new(16);
        d.feed(b"data: 0123456789");
        assert_eq!(d.next_event(), Ok(None));
        d.feed(b"abcdef");
        assert_eq!(d.next_event(), Err(SseError::TooLong { limit: 16 }));
        let mut d = SseDecoder::new(16);
        d.feed(b"data: 0123456789\ndata: 0123456789\n\n");
        assert_eq!(d.next_event(), Err(SseError::TooLong { limit: 16 }));
    }

    #[test]
    fn long_line_in_tiny_pieces_is_scanned_once() {
        // Linear time: resuming the scan keeps this fast even in debug builds.
        let mut d = SseDecoder::default();
        d.feed(b"data: ");
        for _ in 0..200_000 {
            d.feed(b"xxxxx");
            assert_eq!(d.next_event(), Ok(None));
        }
        assert_eq!(d.scan, d.buf.len());
        d.feed(b"\n\n");
        assert_eq!(d.next_event().unwrap().unwrap().data.len(), 1_000_000);
    }

    #[test]
    fn one_huge_event_does_not_pin_its_memory() {
        let mut d = SseDecoder::default();
        d.feed(b"data: ");
        d.feed(&vec![b'x'; 2 << 20]);
        d.feed(b"\n\n");
        assert_eq!(d.next_event().unwrap().unwrap().data.len(), 2 << 20);
        d.feed(b"data: a\n\n");
        assert_eq!(d.next_event().unwrap().unwrap().data, b"a");
        assert!(
            d.buf.capacity() <= SHRINK_ABOVE && d.data.capacity() <= SHRINK_ABOVE,
            "{} {}",
            d.buf.capacity(),
            d.data.capacity()
        );
    }

    #[test]
    fn buffer_stays_small_over_many_events() {
        let mut d = SseDecoder::default();
        let piece = b"data: {\"a\":1}\n\n";
        for _ in 0..100_000 {
            d.feed(piece);
            while d.next_event().unwrap().is_some() {}
        }
        assert!(
            d.buf.capacity() <= 8 * 1024 && d.data.capacity() <= 1024,
            "{} {}",
            d.buf.capacity(),
            d.data.capacity()
        );
    }
}
