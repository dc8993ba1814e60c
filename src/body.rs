//! Reading bodies without trusting their size.

use bytes::{Bytes, BytesMut};

pub(crate) enum BodyError {
    /// More than the limit arrived; how many bytes were seen.
    TooLarge(usize),
    Transport(reqwest::Error),
}

impl BodyError {
    /// Best effort for error paths: what was read is lost, say why instead.
    pub fn into_bytes(self) -> Bytes {
        match self {
            BodyError::TooLarge(n) => Bytes::from(format!("(error body larger than the limit: {n} bytes)")),
            BodyError::Transport(e) => Bytes::from(format!("(error body could not be read: {e})")),
        }
    }
}

/// Reads the whole body, failing as soon as it passes `limit` bytes.
pub(crate) async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<Bytes, BodyError> {
    if let Some(len) = response.content_length() {
        if len as usize > limit {
            return Err(BodyError::TooLarge(len as usize));
        }
    }
    let mut buf = BytesMut::with_capacity(response.content_length().map(|l| l as usize).unwrap_or(8 * 1024));
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if buf.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge(buf.len() + chunk.len()));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}
