//! The SSE target's check, shared by `fuzz_targets/sse.rs` (cargo-fuzz) and
//! `tests/fuzz_replay.rs` (stable replay of the same inputs): arbitrary
//! bytes, cut at arbitrary points, must give the same events however they
//! are cut, never panic, and never pass the limit.

use maverick::__fuzz::{SseDecoder, SseError};

pub const LIMIT: usize = 4096;

/// Every event as (name, data), plus how the input ended.
type Decoded = (Vec<(String, Vec<u8>)>, Result<(), SseError>);

fn decode(pieces: &[&[u8]]) -> Decoded {
    let mut decoder = SseDecoder::new(LIMIT);
    let mut events = Vec::new();
    for piece in pieces {
        decoder.feed(piece);
        loop {
            match decoder.next_event() {
                Ok(Some(ev)) => {
                    assert!(ev.data.len() <= LIMIT);
                    events.push((ev.event.to_string(), ev.data.to_vec()));
                }
                Ok(None) => break,
                Err(e) => return (events, Err(e)),
            }
        }
    }
    let end = decoder.finish();
    (events, end)
}

/// The first byte chooses the cuts, the rest is the stream.
pub fn check(input: &[u8]) {
    let Some((&seed, body)) = input.split_first() else {
        return;
    };
    let whole = decode(&[body]);
    let mut pieces = Vec::new();
    let mut rest = body;
    let mut step = usize::from(seed % 7) + 1;
    while !rest.is_empty() {
        let n = step.min(rest.len());
        pieces.push(&rest[..n]);
        rest = &rest[n..];
        step = step * 5 % 11 + 1;
    }
    let split = decode(&pieces);
    // Refusals included: a line or event over the limit is refused at the
    // same place however the input was cut.
    assert_eq!(whole, split);
}
