//! Streaming chat completions: a pull-based state machine over the response
//! body. Nothing is spawned, so dropping the stream drops the connection and
//! leaves nothing running; the caller's polling is the only driver.

mod accumulate;
mod chunk;
mod sse;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;

pub use accumulate::StreamAccumulator;
pub use chunk::ChatChunk;

use crate::client::{CallOptions, Client};
use crate::error::{ApiError, Error, TimeoutKind};
use crate::generated::types as t;
use crate::request::ChatRequest;
use crate::response::{ChatResponse, ResponseMeta};
use crate::transport::CallContext;
use crate::wire_error::Origin;
use sse::{SseDecoder, SseError};

/// The decoder, for the fuzz target only; not part of the API.
#[doc(hidden)]
pub mod __fuzz {
    pub use super::sse::{SseDecoder, SseError, SseEvent};
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

impl Client {
    /// Sends a request with `stream: true` and returns the chunks as they
    /// arrive. Resolves once the server has answered with a success status;
    /// an error status becomes the same [`Error::Api`] that
    /// [`chat`](Self::chat) returns.
    ///
    /// Retries (connection errors, retryable statuses) happen only here,
    /// before any chunk exists: a stream that breaks later is never resent,
    /// since the caller may already have acted on its first chunks.
    pub fn chat_stream(&self, request: ChatRequest) -> impl Future<Output = Result<ChatStream, Error>> + Send + '_ {
        self.chat_stream_with(request, CallOptions::default())
    }

    /// [`chat_stream`](Self::chat_stream) with per-call options. A
    /// `timeout` in `options` is ignored: a stream is bounded by its own
    /// limits instead, the idle timeout
    /// ([`ClientBuilder::stream_idle_timeout`](crate::ClientBuilder::stream_idle_timeout)),
    /// the total budget ([`stream_timeout`](crate::ClientBuilder::stream_timeout)),
    /// an optional rate floor ([`stream_min_rate`](crate::ClientBuilder::stream_min_rate))
    /// and a byte cap ([`max_stream_bytes`](crate::ClientBuilder::max_stream_bytes)).
    ///
    /// Like [`chat_with`](Self::chat_with), a function returning a future so
    /// that the future holds the encoded bytes, not the request.
    pub fn chat_stream_with(
        &self,
        request: ChatRequest,
        options: CallOptions,
    ) -> impl Future<Output = Result<ChatStream, Error>> + Send + '_ {
        let prepared = self.prepare(request, &options, true);
        async move {
            let (_, call, bytes) = prepared?;
            let build = || self.http_request(&bytes, true, &call, None);

            let span = tracing::debug_span!("maverick.chat_stream", method = "POST", url = %self.endpoint(), request_id = %call.request_id());
            let idle = self.stream_idle_timeout();
            let shared = self.shared();
            let sent = crate::retry::execute_stream(
                self.sender(),
                build,
                &shared.retry,
                call.max_retries,
                &call.attempts,
                idle,
            );
            let resp = match tracing::Instrument::instrument(sent, span.clone()).await {
                Ok(resp) => resp,
                Err(crate::retry::SendError::Failed(e)) => {
                    return Err(crate::wire_error::send_failure(e, self.origin(), &call, idle))
                }
                Err(crate::retry::SendError::NoHeaders) => {
                    return Err(Error::Timeout {
                        kind: TimeoutKind::StreamIdle,
                        after: idle,
                        request_id: call.request_id().to_string(),
                    })
                }
            };
            let status = resp.status().as_u16();
            if !resp.status().is_success() {
                // Boxed: the rare path, kept out of every stream call's future.
                return Err(Box::pin(crate::wire_error::api_error(resp, &call, shared.max_body_bytes)).await);
            }
            let meta =
                ResponseMeta::from_headers(status, resp.headers(), call.request_id().to_string(), call.attempts());
            tracing::debug!(parent: &span, status, attempts = meta.attempts, inference_id = ?meta.inference_id, "stream started");
            Ok(ChatStream::new(
                Box::pin(resp.bytes_stream()),
                meta,
                idle,
                self.max_event_bytes(),
                self.origin().clone(),
                Arc::new(call),
            ))
        }
    }
}

/// A streamed completion: a [`Stream`] of chunks, ending after `[DONE]` or a
/// clean end of the body. The first `Err` item is also the last.
///
/// The final usage chunk (`choices: []`) is yielded like any other, and its
/// `usage` and the provider's `meta` stay available from
/// [`usage`](Self::usage) and [`provider_meta`](Self::provider_meta).
pub struct ChatStream {
    body: Body,
    decoder: SseDecoder,
    /// The idle timeout, for errors: the body below enforces it
    /// (`body::guard`, which every stream's body passes through).
    idle_after: Duration,
    meta: ResponseMeta,
    usage: Option<t::ChunkUsage>,
    provider_meta: Option<serde_json::Map<String, serde_json::Value>>,
    done: bool,
    /// For error messages: the endpoint and the call's attempts.
    origin: Arc<Origin>,
    call: Arc<CallContext>,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("meta", &self.meta)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// What one event turned out to be.
// Not boxed: a step lives for one `poll_next` and is handed straight out;
// a box would cost an allocation and a copy on every event.
#[allow(clippy::large_enum_variant)]
enum Step {
    Chunk(ChatChunk),
    Done,
    Fail(Error),
}

impl ChatStream {
    fn new(
        body: Body,
        meta: ResponseMeta,
        idle_after: Duration,
        max_event_bytes: usize,
        origin: Arc<Origin>,
        call: Arc<CallContext>,
    ) -> Self {
        ChatStream {
            body,
            decoder: SseDecoder::new(max_event_bytes),
            idle_after,
            meta,
            usage: None,
            provider_meta: None,
            done: false,
            origin,
            call,
        }
    }

    /// Status, request id and provider headers of the response.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// Token counts, once the usage chunk has arrived (ask for it with
    /// [`ChatRequest::include_usage`]).
    pub fn usage(&self) -> Option<&t::ChunkUsage> {
        self.usage.as_ref()
    }

    /// The provider's free-form `meta` object (billing: credits, USD), from
    /// the last chunk that carried one.
    pub fn provider_meta(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.provider_meta.as_ref()
    }

    /// Reads the rest of the stream into the response [`chat`](Client::chat)
    /// would have returned. (Named so as not to shadow `StreamExt::collect`,
    /// which still gathers the chunks themselves.)
    ///
    /// A stream that breaks after chunks arrived fails with
    /// [`Error::Interrupted`], which keeps the response received so far.
    pub async fn into_response(mut self) -> Result<ChatResponse, Error> {
        let mut acc = StreamAccumulator::new();
        let outcome = self.collect_into(&mut acc).await;
        let got_something = acc.chunk_count() > 0;
        let assembled = acc.finish().map(|mut response| {
            response.meta = self.meta;
            response
        });
        match (outcome, assembled) {
            (Ok(()), assembled) => assembled,
            (Err(e), Ok(partial)) if got_something => Err(Error::Interrupted {
                partial: Box::new(partial),
                source: Box::new(e),
            }),
            (Err(e), _) => Err(e),
        }
    }

    /// Pushes the rest of the stream into `acc`. Unlike
    /// [`into_response`](Self::into_response) this keeps the stream, so its
    /// [`meta`](Self::meta), [`usage`](Self::usage) and
    /// [`provider_meta`](Self::provider_meta) stay readable, and an error
    /// leaves what arrived before it in `acc`.
    pub async fn collect_into(&mut self, acc: &mut StreamAccumulator) -> Result<(), Error> {
        use futures_util::StreamExt;
        while let Some(chunk) = self.next().await {
            let chunk = chunk?;
            acc.push(&chunk);
        }
        Ok(())
    }

    /// Only the text deltas of choice 0, skipping empty ones.
    pub fn text_stream(self) -> TextStream {
        TextStream { inner: self }
    }

    fn fail(&mut self, err: Error) -> Poll<Option<Result<ChatChunk, Error>>> {
        self.finish_body(None);
        Poll::Ready(Some(Err(err)))
    }

    /// Ends the stream and lets go of the connection now rather than when
    /// the caller drops the stream. After `[DONE]` one more read usually
    /// finds the body's end already buffered, which returns the connection
    /// to the pool; anything else closes it.
    fn finish_body(&mut self, cx: Option<&mut Context<'_>>) {
        self.done = true;
        if let Some(cx) = cx {
            let _ = self.body.as_mut().poll_next(cx);
        }
        self.body = Box::pin(futures_util::stream::empty());
    }

    fn stream_error(&self, message: impl Into<String>) -> Error {
        Error::Stream {
            request_id: self.meta.request_id.clone(),
            message: message.into(),
        }
    }

    fn sse_error(&self, e: SseError) -> Error {
        self.stream_error(e.to_string())
    }
}

/// Turns one event into a chunk, the end, or an error. Decodes straight from
/// the bytes into the typed chunk; only a payload that is not a chunk is
/// looked at again, to tell an error object from garbage.
fn interpret(
    event: &str,
    data: &[u8],
    meta: &ResponseMeta,
    usage: &mut Option<t::ChunkUsage>,
    provider_meta: &mut Option<serde_json::Map<String, serde_json::Value>>,
) -> Step {
    if data == b"[DONE]" {
        return Step::Done;
    }
    let in_stream_error = |data: &[u8]| ApiError::from_success_body(meta.status, data, meta.request_id.clone());
    if event == "error" {
        return Step::Fail(match in_stream_error(data) {
            Some(api) => Error::Api(Box::new(api)),
            None => Error::Stream {
                request_id: meta.request_id.clone(),
                message: format!(
                    "the server sent an error event: {}",
                    crate::error::snippet(&String::from_utf8_lossy(data), 500)
                ),
            },
        });
    }
    match ChatChunk::decode(data) {
        Ok(chunk) => {
            if let Some(u) = &chunk.usage {
                *usage = Some(u.clone());
            }
            if let Some(m) = &chunk.meta {
                *provider_meta = Some(m.clone());
            }
            Step::Chunk(chunk)
        }
        Err(e) => Step::Fail(match in_stream_error(data) {
            Some(api) => Error::Api(Box::new(api)),
            None => crate::wire_error::decode("stream chunk", meta.status, &meta.request_id, data, &e.to_string()),
        }),
    }
}

impl Stream for ChatStream {
    type Item = Result<ChatChunk, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let step = match this.decoder.next_event() {
                Ok(Some(ev)) => Some(interpret(
                    ev.event,
                    ev.data,
                    &this.meta,
                    &mut this.usage,
                    &mut this.provider_meta,
                )),
                Ok(None) => None,
                Err(e) => {
                    let err = this.sse_error(e);
                    return this.fail(err);
                }
            };
            match step {
                Some(Step::Chunk(chunk)) => return Poll::Ready(Some(Ok(chunk))),
                Some(Step::Done) => {
                    this.finish_body(Some(cx));
                    return Poll::Ready(None);
                }
                Some(Step::Fail(err)) => return this.fail(err),
                None => {}
            }
            match this.body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    this.decoder.feed(&bytes);
                }
                Poll::Ready(Some(Err(e))) => {
                    let err = if e.is_timeout() {
                        Error::Timeout {
                            kind: TimeoutKind::StreamIdle,
                            after: this.idle_after,
                            request_id: this.meta.request_id.clone(),
                        }
                    } else {
                        crate::wire_error::transport(e, &this.origin, &this.call, this.idle_after)
                    };
                    return this.fail(err);
                }
                Poll::Ready(None) => {
                    this.finish_body(None);
                    return match this.decoder.finish() {
                        Ok(()) => Poll::Ready(None),
                        // `data: [DONE]` with no blank line after it is still the end.
                        Err(SseError::Truncated) if this.decoder.pending_data() == b"[DONE]" => Poll::Ready(None),
                        Err(e) => {
                            let err =
                                this.stream_error(format!("{e} (the connection closed before the event finished)"));
                            this.fail(err)
                        }
                    };
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// The text deltas of a [`ChatStream`]'s first choice; see
/// [`ChatStream::text_stream`].
#[derive(Debug)]
pub struct TextStream {
    inner: ChatStream,
}

impl TextStream {
    /// The underlying stream, for usage and `meta` after the end.
    pub fn inner(&self) -> &ChatStream {
        &self.inner
    }

    /// Gives the underlying stream back.
    pub fn into_inner(self) -> ChatStream {
        self.inner
    }
}

impl Stream for TextStream {
    type Item = Result<String, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    if let Some(text) = chunk.text().filter(|t| !t.is_empty()) {
                        return Poll::Ready(Some(Ok(text.to_string())));
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
