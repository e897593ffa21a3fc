//! The payments backend behind the server functions: one trait, the embedded engine in this
//! process or (later) a remote InsForge backend over HTTP.

use super::Connection;
use payments_engine::Engine;
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so the trait can be used as `dyn PaymentsBackend`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why the backend could not answer.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The backend answered with an error of the contract (`error` code, message, status).
    #[error("{code}: {message}")]
    Api { status: u16, code: String, message: String },
    /// Anything else; logged, never shown.
    #[error("{0}")]
    Internal(String),
}

/// What the console needs from a payments backend.
pub trait PaymentsBackend: Send + Sync {
    /// Both environments' Stripe connections, test first.
    fn status(&self) -> BoxFuture<'_, Result<Vec<Connection>, BackendError>>;
}

/// The engine in this process.
pub struct EmbeddedBackend {
    pub engine: Engine,
}

impl PaymentsBackend for EmbeddedBackend {
    fn status(&self) -> BoxFuture<'_, Result<Vec<Connection>, BackendError>> {
        Box::pin(async move {
            let status = self.engine.status().await.map_err(|e| BackendError::Api {
                status: e.status(),
                code: e.code().to_string(),
                message: e.public_message(),
            })?;
            // The engine's types serialise to the contract's JSON, which is what these types read.
            let json = serde_json::to_value(status.connections).map_err(|e| BackendError::Internal(e.to_string()))?;
            serde_json::from_value(json).map_err(|e| BackendError::Internal(e.to_string()))
        })
    }
}
