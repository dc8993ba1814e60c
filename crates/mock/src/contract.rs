//! The contract the mock enforces and answers by: the same published
//! document the client is generated from, normalised by the same code, so
//! the mock can never drift from the client.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use maverick_spec::names;
use serde_json::Value;

use crate::openapi;

const PUBLISHED: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/llama-4-maverick.json"));

/// One way a JSON document breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Violation {
    /// JSON pointer to the offending value (`""` for the whole document).
    pub pointer: String,
    /// What is wrong with it, as the validator words it.
    pub message: String,
    /// The schema keyword that failed (`required`, `type`, `enum`, …), so
    /// reports can group the same rule broken at the same place.
    pub rule: String,
    /// The offending value as compact JSON, cut to [`SEEN_LIMIT`] characters.
    pub seen: String,
}

/// Longest excerpt of an offending value a [`Violation`] keeps.
pub const SEEN_LIMIT: usize = 120;

impl Violation {
    /// A violation found by the mock's own checks rather than a schema.
    pub(crate) fn custom(pointer: impl Into<String>, rule: &str, message: impl Into<String>) -> Self {
        Violation {
            pointer: pointer.into(),
            message: message.into(),
            rule: rule.to_string(),
            seen: String::new(),
        }
    }
}

/// Longest validator message kept: they quote the offending value whole.
const MESSAGE_LIMIT: usize = 400;

fn clip(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(limit).collect();
    cut.push('…');
    cut
}

/// `value` as compact JSON, cut at a character boundary with `…` when long.
pub fn excerpt(value: &Value) -> String {
    clip(&value.to_string(), SEEN_LIMIT)
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.pointer.is_empty() { "/" } else { &self.pointer };
        write!(f, "{at}: {}", self.message)
    }
}

/// Compiled validators for the request, the response and the stream chunks.
pub struct Contract {
    request: Validator,
    response: Validator,
    chunk: Validator,
    request_schema: Value,
}

impl std::fmt::Debug for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contract").finish_non_exhaustive()
    }
}

impl Contract {
    /// The contract compiled from the bundled spec. Compiled once per
    /// process: the spec is fixed at build time, so a failure here is a
    /// build defect, not an input error.
    // The only panics in the mock: the bundled spec is a build-time constant
    // that the client's build already parsed and checked, and the contract
    // tests compile it; no request can reach a different input.
    #[allow(clippy::expect_used)]
    pub fn bundled() -> &'static Contract {
        static CONTRACT: OnceLock<Contract> = OnceLock::new();
        CONTRACT.get_or_init(|| {
            let raw: Value = serde_json::from_str(PUBLISHED).expect("spec/llama-4-maverick.json is valid JSON");
            let normalized =
                maverick_spec::normalize(raw).expect("the bundled spec normalises (the client build checks it too)");
            Contract::from_document(&normalized.document)
                .expect("the bundled spec has request, response and chunk schemas")
        })
    }

    /// The contract of the bundled document as published, before any
    /// normaliser rewrite: what a host is promised to send, as opposed to
    /// what the client accepts ([`Contract::bundled`]).
    #[allow(clippy::expect_used)]
    pub fn published() -> &'static Contract {
        static CONTRACT: OnceLock<Contract> = OnceLock::new();
        CONTRACT.get_or_init(|| {
            let raw: Value = serde_json::from_str(PUBLISHED).expect("spec/llama-4-maverick.json is valid JSON");
            Contract::from_published(&raw).expect("the bundled spec has a chat completions operation")
        })
    }

    /// Compiles the request, response and chunk schemas of a published
    /// (not normalised) document, exactly as written. A missing response
    /// or chunk schema accepts anything: the document promises nothing.
    pub fn from_published(document: &Value) -> Result<Contract, String> {
        let schemas = openapi::published_schemas(document)?;
        let compile = |name: &str, schema: &Value| -> Result<Validator, String> {
            jsonschema::draft202012::options()
                .build(schema)
                .map_err(|e| format!("the published {name} schema is not a usable JSON Schema: {e}"))
        };
        Ok(Contract {
            request: compile("request", &schemas.request)?,
            response: compile("response", &schemas.response)?,
            chunk: compile("chunk", &schemas.chunk)?,
            request_schema: schemas.request,
        })
    }

    /// Compiles the three root schemas of a canonical (normalised) document.
    pub fn from_document(document: &Value) -> Result<Contract, String> {
        let compile = |name: &str| -> Result<(Validator, Value), String> {
            let schema = openapi::component_schema(document, name)
                .ok_or_else(|| format!("the document has no `{name}` component"))?;
            let validator = jsonschema::draft202012::options()
                .build(&schema)
                .map_err(|e| format!("`{name}` is not a usable JSON Schema: {e}"))?;
            Ok((validator, schema))
        };
        let (request, request_schema) = compile(names::REQUEST)?;
        let (response, _) = compile(names::RESPONSE)?;
        let (chunk, _) = compile(names::CHUNK)?;
        Ok(Contract {
            request,
            response,
            chunk,
            request_schema,
        })
    }

    /// Every violation of the request schema, in document order.
    pub fn check_request(&self, body: &Value) -> Vec<Violation> {
        violations(&self.request, body)
    }

    /// Every violation of the (relaxed) response schema.
    pub fn check_response(&self, body: &Value) -> Vec<Violation> {
        violations(&self.response, body)
    }

    /// Every violation of the relaxed chunk schema (real traffic, not the
    /// stricter published one).
    pub fn check_chunk(&self, chunk: &Value) -> Vec<Violation> {
        violations(&self.chunk, chunk)
    }

    /// The request schema as JSON Schema, for tools that want to look.
    pub fn request_schema(&self) -> &Value {
        &self.request_schema
    }
}

fn violations(validator: &Validator, instance: &Value) -> Vec<Violation> {
    let mut found: Vec<Violation> = validator.iter_errors(instance).flat_map(expand).collect();
    found.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    found.dedup();
    found
}

/// "Not valid under any of the schemas" says nothing about what to fix, and
/// every translated `nullable` is an `anyOf`. Report the errors of the branch
/// that came closest instead, ignoring the null branch.
fn expand(error: ValidationError<'_>) -> Vec<Violation> {
    let rule = error
        .schema_path
        .to_string()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let here = Violation {
        pointer: error.instance_path.to_string(),
        message: clip(&error.to_string(), MESSAGE_LIMIT),
        rule,
        seen: excerpt(&error.instance),
    };
    let context = match error.kind {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => context,
        _ => return vec![here],
    };
    let null_mismatch = |v: &Violation| v.pointer == here.pointer && v.message.ends_with("is not of type \"null\"");
    context
        .into_iter()
        .map(|branch| branch.into_iter().flat_map(expand).collect::<Vec<_>>())
        .filter(|branch| !branch.is_empty() && !branch.iter().all(null_mismatch))
        .min_by_key(Vec::len)
        .unwrap_or_else(|| vec![here])
}

/// Violations of an arbitrary JSON Schema (a tool's parameters, a
/// `json_schema` response format), or the reason it cannot be compiled.
pub fn check_against(schema: &Value, instance: &Value) -> Result<Vec<Violation>, String> {
    let validator = jsonschema::options().build(schema).map_err(|e| e.to_string())?;
    Ok(violations(&validator, instance))
}
