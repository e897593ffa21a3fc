//! Error helpers for server functions: each sets the HTTP status that matches the error, and
//! internal causes are logged here and replaced by a bland message before they reach a browser.

use crate::error::AppError;
use http::StatusCode;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use std::fmt::Display;

/// Marks the response with the status of `error` and hands the error back, for `Err(fail(..))`.
pub fn fail(error: AppError) -> AppError {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    }
    error
}

/// Logs an unexpected failure with its cause and answers a 500 that says nothing about it.
pub fn internal(cause: impl Display) -> AppError {
    tracing::error!(error = %cause, "server function failed");
    fail(AppError::Internal)
}
