//! The one error type of the normaliser.
//!
//! Every error names a JSON pointer into the *input* document, because the
//! person reading it is a maintainer holding the published file in an editor.

use std::fmt;

/// Why a published document could not be turned into the canonical one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct SpecError {
    /// JSON pointer into the input document (`""` for the whole document).
    pub pointer: String,
    /// What is wrong there, and what the normaliser would have needed.
    pub kind: SpecErrorKind,
}

/// The kinds of failure, so tools can react without parsing text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpecErrorKind {
    /// The document is not OpenAPI 3.x.
    NotOpenApi3(String),
    /// Neither `/v1/chat/completions` nor `/chat/completions` has a POST.
    NoChatOperation {
        /// The paths the document does list, to spot a moved or renamed one.
        paths: Vec<String>,
    },
    /// `/chat/completions` and `/v1/chat/completions` describe different contracts.
    DivergentDuplicatePaths(String),
    /// The operation lacks a JSON request body schema.
    NoRequestSchema,
    /// A `$ref` that does not resolve, or resolves to itself.
    BadRef(String),
    /// Something else has a shape the normaliser cannot rewrite.
    Invalid(String),
}

impl SpecError {
    pub(crate) fn new(pointer: impl Into<String>, kind: SpecErrorKind) -> Self {
        SpecError {
            pointer: pointer.into(),
            kind,
        }
    }
    pub(crate) fn invalid(pointer: impl Into<String>, msg: impl Into<String>) -> Self {
        Self::new(pointer, SpecErrorKind::Invalid(msg.into()))
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "document root".to_string()
        } else {
            format!("`{}`", self.pointer)
        };
        match &self.kind {
            SpecErrorKind::NotOpenApi3(v) => {
                write!(f, "at {at}: `openapi` is {v:?}; only OpenAPI 3.x documents are supported")
            }
            SpecErrorKind::NoChatOperation { paths } => write!(
                f,
                "at {at}: no chat completions operation: paths are {}; expected POST /v1/chat/completions or /chat/completions",
                if paths.is_empty() { "(none)".to_string() } else { paths.join(", ") }
            ),
            SpecErrorKind::DivergentDuplicatePaths(what) => write!(
                f,
                "at {at}: /chat/completions and /v1/chat/completions differ ({what}); they must describe one contract"
            ),
            SpecErrorKind::NoRequestSchema => write!(
                f,
                "at {at}: the operation has no `application/json` request body schema"
            ),
            SpecErrorKind::BadRef(msg) => write!(f, "at {at}: {msg}"),
            SpecErrorKind::Invalid(msg) => write!(f, "at {at}: {msg}"),
        }
    }
}

/// JSON pointer escaping (RFC 6901), for building pointers from keys.
pub(crate) fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
