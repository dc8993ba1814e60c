//! Building generated values from JSON, so handwritten code never names a
//! generated type's complete field set.
//!
//! A struct literal of a generated type stops compiling the day the spec
//! adds an optional property; a variant literal, the day a content part
//! gains one. Going through serde, the wrapper states only the fields it
//! means and every other one takes its default, so an additive release
//! regenerates with no handwritten change. It runs when a message or tool
//! is built, not per call. A release that makes the wrapper's JSON
//! unrepresentable (a new required property, a retyped field) is caught by
//! the build guard; should one slip through, the refusal is reported when
//! the request is sent, never as a panic.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;

/// Why a generated type refused the wrapper's JSON; kept until the request
/// is validated, so nothing the user gave is lost and the error is typed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refused {
    what: &'static str,
    value: String,
    why: String,
}

impl Refused {
    /// Field, value and what was expected, as `Error::InvalidRequest` has them.
    pub(crate) fn into_parts(self) -> (String, String, String) {
        let expected = format!(
            "the types generated from this spec refuse it ({}); the spec changed in a way the wrapper does not cover: run `maverick spec diff` against the previous document",
            self.why
        );
        (self.what.to_string(), self.value, expected)
    }

    pub(crate) fn into_error(self) -> Error {
        let (field, value, expected) = self.into_parts();
        Error::invalid(field, value, expected)
    }
}

/// Deserialises `value` into a generated type.
pub(crate) fn from_json<T: DeserializeOwned>(what: &'static str, value: Value) -> Result<T, Refused> {
    let shown = crate::error::snippet(&value.to_string(), 200);
    serde_json::from_value(value).map_err(|e| Refused {
        what,
        value: shown,
        why: e.to_string(),
    })
}

/// Sets `key` on a JSON object the wrapper built (never a panic, unlike
/// `value[key] = ..`, which panics on a non-object).
pub(crate) fn set(object: &mut Value, key: &str, field: impl Into<Value>) {
    if let Some(map) = object.as_object_mut() {
        map.insert(key.to_string(), field.into());
    }
}
