//! The API key as a secret: zeroised on drop, redacted wherever it could be
//! printed, and checked so it cannot inject headers.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::Error;

/// An API key. `Debug` and `Display` print `ApiKey(***)`; the bytes are
/// wiped from memory when the last copy is dropped.
#[derive(Clone)]
pub struct ApiKey(Zeroizing<String>);

impl ApiKey {
    /// Checks the key: whitespace or control characters would corrupt the
    /// `Authorization` header (or smuggle another one), so they are refused.
    pub fn new(key: impl Into<String>) -> Result<Self, Error> {
        let key = Zeroizing::new(key.into());
        if key.is_empty() {
            return Err(Error::config(
                "the API key is empty; set AIML_API_KEY or pass a key to Client::builder().api_key(..)",
            ));
        }
        if let Some(pos) = key
            .chars()
            .position(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
        {
            return Err(Error::config(format!(
                "the API key contains whitespace, a control or a non-ASCII character at position {pos}; copy the key again without surrounding spaces or line breaks"
            )));
        }
        Ok(ApiKey(key))
    }

    /// The key itself, for building the header; never log it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The `Authorization` header value, marked sensitive so that hyper and
    /// reqwest leave it out of their own debug output.
    pub(crate) fn bearer_header(&self) -> reqwest::header::HeaderValue {
        // Built once per client (shared by every request). Cannot fire: ApiKey::new admits only visible ASCII, which is
        // always a valid header value.
        #[allow(clippy::expect_used)]
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", self.expose()))
            .expect("ApiKey::new admits only visible ASCII");
        value.set_sensitive(true);
        value
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_and_validated() {
        let key = ApiKey::new("sk-secret-123").unwrap();
        assert_eq!(format!("{key:?} {key}"), "ApiKey(***) ***");
        assert!(key.bearer_header().is_sensitive());
        for bad in ["", "sk 1", "sk\n1", "sk\r\nX-Evil: 1", "ключ"] {
            let err = ApiKey::new(bad).unwrap_err().to_string();
            assert!(!err.contains("sk\r"), "{err}");
        }
    }
}
