//! Errors of the client, with Stripe's `{"error": {...}}` parsed into [`ApiError`].

use serde::Deserialize;

/// An error answered by Stripe in its JSON shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status (400, 401, 402, 404, 409, 429, 5xx).
    pub status: u16,
    /// `error.type`: `invalid_request_error`, `card_error`, `api_error`,
    /// `idempotency_error`, `authentication_error`, `rate_limit_error`…
    pub error_type: String,
    /// `error.code`, e.g. `resource_missing`, `parameter_missing`, `card_declined`.
    pub code: Option<String>,
    /// `error.param`: the offending parameter in bracket notation.
    pub param: Option<String>,
    /// `error.message`, meant for developers.
    pub message: String,
    /// `error.decline_code` on card errors (`insufficient_funds`, `generic_decline`…).
    pub decline_code: Option<String>,
    /// `error.doc_url`.
    pub doc_url: Option<String>,
    /// The `Request-Id` response header, for support and the audit log.
    pub request_id: Option<String>,
}

/// Everything that can go wrong with a request.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered with an error object (after retries, where retryable).
    #[error("Stripe API error {}: {} ({}){}", .0.status, .0.message, .0.code.as_deref().unwrap_or(&.0.error_type), request_suffix(&.0.request_id))]
    Api(Box<ApiError>),
    /// An error status whose body is not Stripe's error shape (a proxy's
    /// page, a truncated body). Real Stripe never does this; it is kept
    /// apart from [`StripeError::Api`] so that nothing guesses a code.
    #[error("unexpected HTTP {status} response{}: {body}", request_suffix(request_id))]
    UnexpectedResponse {
        /// HTTP status.
        status: u16,
        /// The start of the body, for diagnostics.
        body: String,
        /// The `Request-Id` header, if any.
        request_id: Option<String>,
    },
    /// The request could not be sent or its response not received
    /// (connection refused or reset, timeout), after retries.
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// A success response whose body does not match the expected type.
    #[error("could not decode response{}: {source}", request_suffix(request_id))]
    Decode {
        /// The serde error.
        #[source]
        source: serde_json::Error,
        /// The `Request-Id` header, if any.
        request_id: Option<String>,
    },
    /// The client was misconfigured (bad base URL, invalid header value).
    #[error("invalid client configuration: {0}")]
    Config(String),
}

fn request_suffix(request_id: &Option<String>) -> String {
    request_id.as_ref().map(|id| format!(" [request {id}]")).unwrap_or_default()
}

impl StripeError {
    /// The API error, if Stripe answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            StripeError::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status, if a response was received.
    pub fn status(&self) -> Option<u16> {
        match self {
            StripeError::Api(e) => Some(e.status),
            StripeError::UnexpectedResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// `error.code`, if any.
    pub fn code(&self) -> Option<&str> {
        self.api().and_then(|e| e.code.as_deref())
    }

    /// The `Request-Id` of the failing response, if any.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            StripeError::Api(e) => e.request_id.as_deref(),
            StripeError::UnexpectedResponse { request_id, .. } | StripeError::Decode { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// The object does not exist (`resource_missing`: 404 for the URL's
    /// object, 400 for one referenced in a parameter).
    pub fn is_resource_missing(&self) -> bool {
        self.code() == Some("resource_missing")
    }

    /// The API key is missing, wrong or lacks permission (401/403).
    pub fn is_auth_error(&self) -> bool {
        self.api().is_some_and(|e| {
            matches!(e.status, 401 | 403)
                || matches!(e.error_type.as_str(), "authentication_error" | "permission_error")
        })
    }

    /// Stripe's rate limiter refused the request (429), after our retries.
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(429)
    }

    /// The card was declined or otherwise failed (402 `card_error`).
    pub fn is_card_error(&self) -> bool {
        self.api().is_some_and(|e| e.error_type == "card_error")
    }

    /// `error.decline_code` of a card error.
    pub fn decline_code(&self) -> Option<&str> {
        self.api().and_then(|e| e.decline_code.as_deref())
    }

    /// An idempotency key was reused with other parameters, or is in flight.
    pub fn is_idempotency_error(&self) -> bool {
        self.api().is_some_and(|e| e.error_type == "idempotency_error")
    }
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "type")]
    error_type: Option<String>,
    code: Option<String>,
    param: Option<String>,
    message: Option<String>,
    decline_code: Option<String>,
    doc_url: Option<String>,
}

/// Builds the error for a non-success response.
pub(crate) fn from_response(status: u16, body: &[u8], request_id: Option<String>) -> StripeError {
    match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(ErrorEnvelope { error }) => StripeError::Api(Box::new(ApiError {
            status,
            error_type: error.error_type.unwrap_or_else(|| "api_error".to_owned()),
            code: error.code,
            param: error.param,
            message: error.message.unwrap_or_default(),
            decline_code: error.decline_code,
            doc_url: error.doc_url,
            request_id,
        })),
        Err(_) => StripeError::UnexpectedResponse {
            status,
            body: String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
            request_id,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_card_errors() {
        let body = br#"{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds",
            "message":"Your card has insufficient funds.","doc_url":"https://docs.stripe.com/error-codes/card-declined"}}"#;
        let err = from_response(402, body, Some("req_1".into()));
        assert!(err.is_card_error());
        assert_eq!(err.decline_code(), Some("insufficient_funds"));
        assert_eq!(err.request_id(), Some("req_1"));
        assert!(!err.is_resource_missing());
        assert!(err.to_string().contains("card_declined"), "{err}");
        assert!(err.to_string().contains("req_1"), "{err}");
    }

    #[test]
    fn non_json_error_bodies_are_not_guessed() {
        let err = from_response(404, b"404: Not Found", None);
        assert!(matches!(err, StripeError::UnexpectedResponse { status: 404, .. }));
        assert!(!err.is_resource_missing());
        assert_eq!(err.status(), Some(404));
    }

    #[test]
    fn auth_errors() {
        let err =
            from_response(401, br#"{"error":{"type":"invalid_request_error","message":"Invalid API Key"}}"#, None);
        assert!(err.is_auth_error());
        assert_eq!(err.code(), None);
    }
}
