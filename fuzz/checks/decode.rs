//! The decode target's check, shared by `fuzz_targets/decode.rs`
//! (cargo-fuzz) and `tests/fuzz_replay.rs` (stable replay): arbitrary bytes
//! as a completion body, as one chunk, and as an event stream whose events
//! are decoded and folded the way `ChatStream::collect` folds them. Nothing
//! may panic, and what was folded must be readable.

use maverick::__fuzz::SseDecoder;
use maverick::types::ChatCompletionChunk;
use maverick::StreamAccumulator;

fn read(response: &maverick::ChatResponse) {
    let _ = (
        response.text(),
        response.tool_calls(),
        response.finish_reason(),
        response.usage(),
        response.refusal(),
    );
}

pub fn check(input: &[u8]) {
    if let Ok(completion) = serde_json::from_slice::<maverick::types::ChatCompletionResponse>(input) {
        let _ = format!("{completion:?}");
    }
    let mut acc = StreamAccumulator::new();
    if let Ok(chunk) = serde_json::from_slice::<ChatCompletionChunk>(input) {
        // Twice: the second push continues what the first started.
        acc.push(&chunk);
        acc.push(&chunk);
    }
    let mut decoder = SseDecoder::new(1 << 16);
    decoder.feed(input);
    while let Ok(Some(event)) = decoder.next_event() {
        if let Ok(chunk) = serde_json::from_slice::<ChatCompletionChunk>(event.data) {
            acc.push(&chunk);
        }
    }
    let _ = (acc.text(), acc.usage(), acc.provider_meta(), acc.chunk_count());
    // Folding may be refused (a typed error), never a panic.
    if let Ok(response) = acc.finish() {
        read(&response);
    }
}
