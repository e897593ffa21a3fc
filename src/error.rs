//! The error every server function returns: what the browser may know, and nothing more.
//!
//! Internal causes are logged on the server (see `server::errors`) and reach the browser only as
//! [`AppError::Internal`], so no SQL, path or Stripe detail ever leaks into a page.
//!
//! An error carries its HTTP status ([`AppError::status_code`]); nothing that returns one sets a
//! status. The status is applied once per answer: by `server::errors::status_from_error` for a
//! server function called over HTTP, and by `ui::error` for an error a page shows.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// A server-function failure, as shown to the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No valid session: the caller must sign in (HTTP 401).
    #[error("Your session has ended. Please sign in again.")]
    Unauthenticated,
    /// Signed in, but the role does not allow this (HTTP 403).
    #[error("Your role does not allow this action.")]
    Forbidden,
    /// Sign-in with an unknown email or a wrong password (HTTP 401); never says which.
    #[error("The email or password is incorrect.")]
    BadCredentials,
    /// The input was rejected; the message says why and is safe to show (HTTP 400).
    #[error("{0}")]
    Invalid(String),
    /// Sign-in refused after repeated failures (HTTP 429).
    #[error("Too many failed sign-in attempts. Try again in {retry_after_secs} seconds.")]
    Throttled { retry_after_secs: u64 },
    /// The password was chosen by someone else (the generated first-admin password, a one-time
    /// password): only changing it works until it is changed (HTTP 403).
    #[error("Choose your own password first: your current one was set for you (Account page).")]
    PasswordChangeRequired,
    /// Sign-in with the right password to an account an admin deactivated (HTTP 403).
    #[error("This account has been deactivated. Ask an admin to reactivate it.")]
    Deactivated,
    /// The thing asked for does not exist (HTTP 404).
    #[error("Not found.")]
    NotFound,
    /// Something failed on the server; details are in the server log only (HTTP 500).
    #[error("Something went wrong on the server. The details have been logged.")]
    Internal,
    /// The payments backend refused the request; its message is written for users (e.g.
    /// Stripe's reason for refusing a product delete). Carries the backend's status and code.
    #[error("{message}")]
    Rejected { status: u16, code: payments_model::ErrorCode, message: String },
    /// The payments backend does not offer this (a remote InsForge backend without the
    /// embedded engine's extensions); the message says what is missing (HTTP 501).
    #[error("{0}")]
    Unsupported(String),
    /// The payments backend could not be reached (HTTP 502).
    #[error("The payments backend could not be reached. Try again in a moment.")]
    BackendUnavailable,
    /// The call never completed: network failure, bad encoding (from the server-function layer).
    #[error("The server could not be reached: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status the server answers with for this error: the only mapping from errors to
    /// statuses, read both for server-function answers and for pages that show the error.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Unauthenticated | AppError::BadCredentials => 401,
            AppError::Forbidden | AppError::PasswordChangeRequired | AppError::Deactivated => 403,
            AppError::Invalid(_) => 400,
            AppError::Throttled { .. } => 429,
            AppError::NotFound => 404,
            // 5xx from the backend stay 5xx; the rest are the caller's to fix.
            AppError::Rejected { status, .. } => *status,
            AppError::Unsupported(_) => 501,
            AppError::BackendUnavailable => 502,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The server could not read the call's arguments (a missing or mistyped field):
            // the caller's mistake, answered 400 with what was wrong, not a 500 that reads
            // like a server failure.
            ServerFnErrorErr::Args(message) => {
                let detail = message.trim_start_matches("error deserializing server function arguments: ");
                AppError::Invalid(format!("The request is malformed: {detail}."))
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}
