//! A typed client for Llama-4-Maverick chat completions, on the AI/ML API or
//! any OpenAI-compatible host (vLLM, llama.cpp server, LiteLLM).
//!
//! # Crate organisation
//! - [`types`]: the request and response types, generated at build time from
//!   the OpenAPI document in `spec/` (normalised by `maverick-spec`).
//! - [`Client`], [`ClientBuilder`]: configuration, auth, retries, timeouts.
//! - [`ChatRequest`], [`Message`], [`ContentPart`]: building requests.
//! - [`ChatResponse`]: the typed completion plus provider headers.
//! - [`Tool`]: function tools with schemas from Rust types.
//! - [`Error`]: the one error type.
//! - [`batch`]: bulk inference ([`Client::batch`]): paced, retried, resumable by id.
//!
//! ```no_run
//! # async fn run() -> Result<(), maverick::Error> {
//! use maverick::{ChatRequest, Client};
//!
//! let client = Client::from_env()?; // AIML_API_KEY
//! let reply = client
//!     .chat(ChatRequest::new().system("Be brief.").user("Name a prime.").max_tokens(16))
//!     .await?;
//! println!("{}", reply.text().unwrap_or_default());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(not(any(feature = "rustls-ring", feature = "rustls-aws-lc", feature = "native-tls")))]
compile_error!("maverick needs one TLS feature: rustls-ring (the default), rustls-aws-lc or native-tls");

pub mod batch;
mod body;
mod client;
mod config;
mod construct;
mod error;
mod fields;
mod generated;
mod message;
mod network;
mod request;
mod response;
mod retry;
mod secret;
mod sender;
mod stream;
mod structured;
mod tool_loop;
mod tools;
mod transport;
mod transport_cause;
mod wire_error;

/// The generated request and response types, for fields the wrapper does
/// not cover. Names follow the normalised spec's fixed component names.
pub mod types {
    pub use crate::generated::types::*;
}

pub use batch::{Batch, BatchControl, BatchItem, BatchStats, BatchStream};
pub use client::{CallOptions, Client};
pub use config::DEFAULT_MAX_EVENT_BYTES;
pub use config::{ClientBuilder, BASE_URL_VARS, DEFAULT_BASE_URL, DEFAULT_MODEL, KEY_VARS};
pub use error::{ApiError, ApiErrorKind, Error, TimeoutKind};
pub use message::{sniff_image, ContentPart, ImageDetail, Message, MAX_IMAGE_BYTES};
pub use network::install_tls_provider;
pub use request::{ChatRequest, ToolChoice};
pub use response::{ChatResponse, FinishReason, ResponseMeta, ServiceTier, ToolCallRef};
pub use secret::ApiKey;
#[doc(hidden)]
pub use stream::__fuzz;
pub use stream::{ChatChunk, ChatStream, StreamAccumulator, TextStream};
pub use structured::Structured;
pub use tool_loop::{ToolLoop, ToolLoopOutcome, DEFAULT_MAX_ROUNDS};
pub use tools::{api_schema, Tool};
pub use transport_cause::{error_chain, CertificateProblem, TransportCause};

/// Compiles the README's Rust examples as doctests, so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
