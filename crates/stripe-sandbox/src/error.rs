//! Stripe-shaped API errors: `{"error": {"type", "code", "param", "message", "doc_url", …}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

/// An error answered in Stripe's JSON shape with the matching HTTP status.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {kind}: {message}")]
pub struct ApiError {
    /// HTTP status (400, 401, 402, 404, 409, 429, 500…).
    pub status: StatusCode,
    /// Stripe's `error.type` (`invalid_request_error`, `card_error`, `api_error`, `idempotency_error`).
    pub kind: &'static str,
    /// Stripe's `error.code` (`resource_missing`, `parameter_missing`…).
    pub code: Option<String>,
    /// The offending parameter, in bracket notation.
    pub param: Option<String>,
    /// Human readable message.
    pub message: String,
    /// Extra fields of the error object (`decline_code`, `payment_intent` on card errors).
    pub extra: Map<String, Value>,
}

/// `Result` alias used by the resource handlers.
pub type ApiResult<T = Value> = Result<T, ApiError>;

impl ApiError {
    /// A bare error of the given status and type.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self { status, kind, code: None, param: None, message: message.into(), extra: Map::new() }
    }

    /// Sets `error.code`.
    pub fn code(mut self, code: &str) -> Self {
        self.code = Some(code.to_owned());
        self
    }

    /// Sets `error.param`.
    pub fn param(mut self, param: &str) -> Self {
        self.param = Some(param.to_owned());
        self
    }

    /// 400 `invalid_request_error` about `param`, without a code.
    pub fn invalid(param: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message).param(param)
    }

    /// 400 `invalid_request_error` not tied to a parameter.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    /// 400 `parameter_missing`.
    pub fn missing_param(param: &str) -> Self {
        Self::invalid(param, format!("Missing required param: {param}.")).code("parameter_missing")
    }

    /// 400 `parameter_unknown`, what Stripe answers for immutable or unsupported fields.
    pub fn unknown_param(param: &str) -> Self {
        Self::invalid(param, format!("Received unknown parameter: {param}")).code("parameter_unknown")
    }

    /// 404 `resource_missing` for an object addressed by URL.
    pub fn not_found(object: &str, id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "invalid_request_error", format!("No such {object}: '{id}'"))
            .code("resource_missing")
            .param("id")
    }

    /// 400 `resource_missing` for an object referenced by a parameter.
    pub fn missing_ref(object: &str, id: &str, param: &str) -> Self {
        Self::invalid(param, format!("No such {object}: '{id}'")).code("resource_missing")
    }

    /// 402 `card_error` with a `decline_code`.
    pub fn card_declined(decline_code: &str, message: &str) -> Self {
        let mut e = Self::new(StatusCode::PAYMENT_REQUIRED, "card_error", message).code("card_declined");
        e.extra.insert("decline_code".into(), json!(decline_code));
        e
    }

    /// 429 `rate_limit`.
    pub fn rate_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_request_error",
            "Request rate limit exceeded. You can learn more about rate limits here https://docs.stripe.com/rate-limits.",
        )
        .code("rate_limit")
    }

    /// 5xx `api_error`.
    pub fn server_error(status: StatusCode) -> Self {
        Self::new(status, "api_error", "An unknown error occurred while processing your request. Please try again.")
    }

    /// 400 `idempotency_error`.
    pub fn idempotency(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "idempotency_error", message)
    }

    /// 401 for a missing or wrong API key.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_request_error", message)
    }

    /// Stripe's answer for a URL it does not serve.
    pub fn unrecognized_url(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!(
                "Unrecognized request URL ({method}: {path}). Please see https://docs.stripe.com or we can help at https://support.stripe.com/."
            ),
        )
    }

    /// The JSON body, `{"error": {...}}`.
    pub fn body(&self) -> Value {
        let mut err = Map::new();
        if let Some(code) = &self.code {
            err.insert("code".into(), json!(code));
            err.insert(
                "doc_url".into(),
                json!(format!("https://docs.stripe.com/error-codes/{}", code.replace('_', "-"))),
            );
        }
        err.insert("message".into(), json!(self.message));
        if let Some(param) = &self.param {
            err.insert("param".into(), json!(param));
        }
        err.insert("type".into(), json!(self.kind));
        for (k, v) in &self.extra {
            err.insert(k.clone(), v.clone());
        }
        json!({ "error": err })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}
