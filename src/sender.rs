//! What puts one attempt on the wire: a plain `reqwest::Client`, or (with
//! the `middleware` feature) a user's `reqwest_middleware` stack. Everything
//! above it (headers, request id, retries, timeouts, decoding) is the same
//! pipeline either way, so a middleware sees every attempt and the retry
//! policy stays the library's.

use std::future::Future;

use futures_util::future::{BoxFuture, Either};
use futures_util::TryFutureExt;

/// The HTTP client one [`Client`](crate::Client) sends through.
#[derive(Clone)]
pub(crate) enum Sender {
    /// reqwest, as built by the client or given with `http_client`.
    Reqwest(reqwest::Client),
    /// A middleware stack given with `middleware_client`.
    #[cfg(feature = "middleware")]
    Middleware(reqwest_middleware::ClientWithMiddleware),
}

/// Why one attempt got no response.
#[derive(Debug)]
pub(crate) enum SendFailure {
    /// reqwest failed (connect, TLS, reset, timeout); retried by policy.
    Http(reqwest::Error),
    /// A middleware refused or failed the request. Never retried: the
    /// middleware decided, and another attempt would meet it again.
    #[cfg_attr(not(feature = "middleware"), allow(dead_code))]
    Middleware(Box<dyn std::error::Error + Send + Sync>),
}

impl Sender {
    /// Sends one attempt. A plain function handing back reqwest's own
    /// pending request (a pointer wide; reqwest boxes its state) rather than
    /// an `async fn`, whose state would hold the whole `reqwest::Request`
    /// for the length of the exchange: every byte of a call's future is
    /// copied when the future moves and touched when it runs, and with many
    /// calls in flight those bytes fall out of the CPU's first-level cache.
    pub(crate) fn send(
        &self,
        request: reqwest::Request,
    ) -> impl Future<Output = Result<reqwest::Response, SendFailure>> + Send + 'static {
        match self {
            // The right-hand side is named even where nothing builds it
            // (without the `middleware` feature).
            Sender::Reqwest(client) => {
                Either::<_, BoxFuture<'static, _>>::Left(client.execute(request).map_err(SendFailure::Http))
            }
            #[cfg(feature = "middleware")]
            Sender::Middleware(client) => {
                let client = client.clone();
                Either::Right(Box::pin(async move {
                    client.execute(request).await.map_err(|e| match e {
                        reqwest_middleware::Error::Reqwest(e) => SendFailure::Http(e),
                        reqwest_middleware::Error::Middleware(e) => SendFailure::Middleware(e.into()),
                    })
                }) as BoxFuture<'static, _>)
            }
        }
    }
}
