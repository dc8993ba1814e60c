//! Running tool calls for the model until it answers: the loop every tool
//! user writes, with the details right (matching `tool_call_id`s, parallel
//! calls run concurrently, broken arguments reported back to the model).

use std::collections::HashMap;
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::client::Client;
use crate::error::Error;
use crate::message::Message;
use crate::request::ChatRequest;
use crate::response::{ChatResponse, ToolCallRef};

type BoxFuture = Pin<Box<dyn Future<Output = String> + Send>>;
type Handler = Arc<dyn Fn(ToolCallRef) -> BoxFuture + Send + Sync>;

/// Default bound on model round trips, so a model that keeps calling tools
/// cannot loop forever.
pub const DEFAULT_MAX_ROUNDS: usize = 8;

/// Runs a conversation with tools; build it with [`Client::tool_loop`].
pub struct ToolLoop {
    client: Client,
    handlers: HashMap<String, Handler>,
    max_rounds: usize,
}

/// What a tool loop produced.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ToolLoopOutcome {
    /// The last response: the final answer when `completed`.
    pub response: ChatResponse,
    /// The whole conversation: the request's messages, every assistant turn
    /// (the final answer, or the unanswered calls at the round limit,
    /// included) and every tool result, in order.
    pub messages: Vec<Message>,
    /// Model calls made.
    pub rounds: usize,
    /// False when the round limit stopped the loop while tools were still called.
    pub completed: bool,
}

impl Client {
    /// A tool loop on this client; add handlers, then [`ToolLoop::run`].
    pub fn tool_loop(&self) -> ToolLoop {
        ToolLoop {
            client: self.clone(),
            handlers: HashMap::new(),
            max_rounds: DEFAULT_MAX_ROUNDS,
        }
    }
}

impl ToolLoop {
    /// Handles calls to `name`: arguments are parsed into `Args`; the
    /// handler's output is sent back as JSON, its error as text. Arguments
    /// that do not parse are reported to the model, which usually retries.
    pub fn handler<Args, Out, Err, F, Fut>(mut self, name: impl Into<String>, handler: F) -> Self
    where
        Args: DeserializeOwned + Send + 'static,
        Out: Serialize,
        Err: Display,
        F: Fn(Args) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Out, Err>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let erased: Handler = Arc::new(move |call: ToolCallRef| {
            let handler = handler.clone();
            Box::pin(async move {
                match call.parse_arguments::<Args>() {
                    Ok(args) => match handler(args).await {
                        Ok(out) => serde_json::to_string(&out)
                            .unwrap_or_else(|e| format!("error: the tool's output could not be serialised: {e}")),
                        Err(e) => format!("error: {e}"),
                    },
                    Err(e) => format!("error: {e}"),
                }
            })
        });
        self.handlers.insert(name.into(), erased);
        self
    }

    /// Most model calls to make (default [`DEFAULT_MAX_ROUNDS`]).
    pub fn max_rounds(mut self, rounds: usize) -> Self {
        self.max_rounds = rounds.max(1);
        self
    }

    /// Asks, runs the requested tools, appends their results, and asks
    /// again until the model answers without tool calls.
    pub async fn run(&self, request: ChatRequest) -> Result<ToolLoopOutcome, Error> {
        self.drive(request, |client, req| Box::pin(async move { client.chat(req).await }))
            .await
    }

    /// [`run`](Self::run) with every model call streamed and folded into a
    /// response: same transcript, for hosts and proxies that stream best.
    pub async fn run_streaming(&self, request: ChatRequest) -> Result<ToolLoopOutcome, Error> {
        self.drive(request, |client, req| {
            Box::pin(async move { client.chat_stream(req).await?.into_response().await })
        })
        .await
    }

    async fn drive<F>(&self, mut request: ChatRequest, mut ask: F) -> Result<ToolLoopOutcome, Error>
    where
        F: FnMut(Client, ChatRequest) -> Pin<Box<dyn Future<Output = Result<ChatResponse, Error>> + Send>>,
    {
        let mut rounds = 0;
        loop {
            rounds += 1;
            let response = ask(self.client.clone(), request.clone()).await?;
            let calls = response.tool_calls();
            let limit_hit = rounds >= self.max_rounds;
            if calls.is_empty() || limit_hit {
                let mut messages = request.messages_sent();
                let text = response.text().map(str::to_string);
                messages.push(if calls.is_empty() {
                    Message::assistant(text.unwrap_or_default())
                } else {
                    // Stopped by the round limit: the unanswered calls end the transcript.
                    Message::assistant_tool_calls(text, calls.iter().cloned())
                });
                return Ok(ToolLoopOutcome {
                    response,
                    messages,
                    rounds,
                    completed: calls.is_empty(),
                });
            }
            let results = futures_util::future::join_all(calls.iter().cloned().map(|call| self.call(call))).await;
            request = request.message(Message::assistant_tool_calls(
                response.text().map(str::to_string),
                calls.iter().cloned(),
            ));
            for (call, output) in calls.iter().zip(results) {
                request = request.message(Message::tool(call.id.clone(), output));
            }
        }
    }

    fn call(&self, call: ToolCallRef) -> BoxFuture {
        match self.handlers.get(&call.name) {
            Some(handler) => handler(call),
            None => {
                let known: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
                let msg = format!("error: no tool named {:?}; available: {}", call.name, known.join(", "));
                Box::pin(async move { msg })
            }
        }
    }
}
