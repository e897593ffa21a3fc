//! The error envelope every payments route answers with (`contract/BEHAVIOUR.md` §1.3): the
//! shared model's [`ErrorBody`], with its HTTP status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use payments_model::{ErrorBody, ErrorCode};

use crate::error::EngineError;

/// An error answer: `{ error, message, statusCode, nextActions? }` with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError(pub ErrorBody);

impl ApiError {
    /// An error with no `nextActions`.
    pub fn new(status: u16, code: impl Into<ErrorCode>, message: impl Into<String>) -> Self {
        ApiError(ErrorBody { error: code.into(), message: message.into(), status_code: status, next_actions: None })
    }

    /// Adds `nextActions`.
    pub fn with_next_actions(mut self, text: impl Into<String>) -> Self {
        self.0.next_actions = Some(text.into());
        self
    }

    /// The reference's answer for an unknown endpoint. Only for paths that match no route:
    /// resource misses use the `PAYMENT_*_NOT_FOUND` codes (`contract/BEHAVIOUR.md` §11.2).
    pub fn endpoint_not_found(url: &str) -> Self {
        Self::new(404, ErrorCode::NotFound, format!("Endpoint {url} not found"))
            .with_next_actions("Please check the API documentation for available endpoints")
    }
}

impl From<EngineError> for ApiError {
    fn from(err: EngineError) -> Self {
        if err.is_internal() {
            // The cause stays in the log; the caller gets a generic message.
            tracing::error!(error = %err, "payments request failed");
        } else {
            tracing::debug!(code = err.code(), error = %err, "payments request refused");
        }
        ApiError::new(err.status(), err.code(), err.public_message())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status_code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.0)).into_response()
    }
}
