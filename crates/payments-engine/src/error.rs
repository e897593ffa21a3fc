//! The engine's domain errors and their mapping to the contract's codes
//! (`contract/BEHAVIOUR.md` §1.5).

use stripe_client::StripeError;

use crate::environment::Environment;

/// Everything an engine operation can fail with. Each variant maps to one HTTP status and one
/// contract error code ([`EngineError::status`], [`EngineError::code`]); the message returned by
/// [`EngineError::public_message`] is safe to show (internal causes are logged, not exposed).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A request failed validation (400 `INVALID_INPUT`); the message is the zod-style issue list.
    #[error("{0}")]
    InvalidInput(String),
    /// The Stripe key is missing, malformed, rejected or lacks permission (`PAYMENT_CONFIG_INVALID`).
    #[error("{message}")]
    ConfigInvalid {
        /// 400 for local checks, Stripe's 401/403 for keys Stripe refused.
        status: u16,
        /// Shown to the caller.
        message: String,
    },
    /// No active key to remove (404 `PAYMENT_CONFIG_NOT_FOUND`).
    #[error("No Stripe key configured")]
    ConfigNotFound,
    /// The product is not in the mirror (404 `PAYMENT_PRODUCT_NOT_FOUND`).
    #[error("Stripe {env} product not found: {id}")]
    ProductNotFound {
        /// Environment searched.
        env: Environment,
        /// The id asked for.
        id: String,
    },
    /// The price is not in the mirror (404 `PAYMENT_PRICE_NOT_FOUND`).
    #[error("Stripe {env} price not found: {id}")]
    PriceNotFound {
        /// Environment searched.
        env: Environment,
        /// The id asked for.
        id: String,
    },
    /// Stripe's rate limiter refused the call, after the client's retries (429 `RATE_LIMITED`).
    #[error("{0}")]
    RateLimited(String),
    /// A card was declined (Stripe's status, `PAYMENT_METHOD_DECLINED`).
    #[error("{message}")]
    PaymentDeclined {
        /// Stripe's status (402).
        status: u16,
        /// Stripe's message.
        message: String,
    },
    /// Any other Stripe refusal or an unreachable Stripe (`UPSTREAM_FAILURE`).
    #[error("{message}")]
    Upstream {
        /// Stripe's status, 502 when there was no usable answer.
        status: u16,
        /// Stripe's message, or a generic one for transport failures.
        message: String,
    },
    /// A resource of the runtime API is missing (404 `PAYMENT_NOT_FOUND`), e.g. no Stripe
    /// customer is mapped to a billing subject, or an unknown webhook event.
    #[error("{0}")]
    PaymentNotFound(String),
    /// The idempotency key was used for a different checkout (409 `PAYMENT_CHECKOUT_ALREADY_EXISTS`).
    #[error("Idempotency key is already used for another checkout request")]
    CheckoutAlreadyExists,
    /// Another delivery of this Stripe event is being processed (409
    /// `PAYMENT_WEBHOOK_IN_PROGRESS`): answered non-2xx so that Stripe delivers it again.
    #[error("Stripe event {0} is being processed by another delivery; retry later")]
    WebhookInFlight(String),
    /// A caller-facing authorisation refusal (`AUTH_*` code with its status).
    #[error("{message}")]
    Auth {
        /// 401 / 403.
        status: u16,
        /// `AUTH_INVALID_CREDENTIALS`, `AUTH_UNAUTHORIZED`…
        code: &'static str,
        /// Shown to the caller.
        message: String,
    },
    /// A server-side failure whose message the contract shows (500 `INTERNAL_ERROR`), e.g.
    /// "STRIPE_TEST_WEBHOOK_SECRET is not configured".
    #[error("{0}")]
    ServerMessage(String),
    /// The database failed (500 `INTERNAL_ERROR`).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A bug or broken invariant (500 `INTERNAL_ERROR`); the text is logged only.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Shorthand for engine results.
pub type EngineResult<T> = Result<T, EngineError>;

impl EngineError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            EngineError::InvalidInput(_) => 400,
            EngineError::ConfigInvalid { status, .. } => *status,
            EngineError::ConfigNotFound | EngineError::ProductNotFound { .. } | EngineError::PriceNotFound { .. } => {
                404
            }
            EngineError::RateLimited(_) => 429,
            EngineError::PaymentDeclined { status, .. } | EngineError::Upstream { status, .. } => *status,
            EngineError::PaymentNotFound(_) => 404,
            EngineError::CheckoutAlreadyExists | EngineError::WebhookInFlight(_) => 409,
            EngineError::Auth { status, .. } => *status,
            EngineError::ServerMessage(_) => 500,
            EngineError::Database(_) | EngineError::Internal(_) => 500,
        }
    }

    /// The contract's error code.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::InvalidInput(_) => "INVALID_INPUT",
            EngineError::ConfigInvalid { .. } => "PAYMENT_CONFIG_INVALID",
            EngineError::ConfigNotFound => "PAYMENT_CONFIG_NOT_FOUND",
            EngineError::ProductNotFound { .. } => "PAYMENT_PRODUCT_NOT_FOUND",
            EngineError::PriceNotFound { .. } => "PAYMENT_PRICE_NOT_FOUND",
            EngineError::RateLimited(_) => "RATE_LIMITED",
            EngineError::PaymentDeclined { .. } => "PAYMENT_METHOD_DECLINED",
            EngineError::Upstream { .. } => "UPSTREAM_FAILURE",
            EngineError::PaymentNotFound(_) => "PAYMENT_NOT_FOUND",
            EngineError::CheckoutAlreadyExists => "PAYMENT_CHECKOUT_ALREADY_EXISTS",
            EngineError::WebhookInFlight(_) => "PAYMENT_WEBHOOK_IN_PROGRESS",
            EngineError::Auth { code, .. } => code,
            EngineError::ServerMessage(_) => "INTERNAL_ERROR",
            EngineError::Database(_) | EngineError::Internal(_) => "INTERNAL_ERROR",
        }
    }

    /// The message for the caller: the error's text, except for internal failures, whose cause
    /// may name tables, files or secrets and is therefore replaced by a generic sentence.
    pub fn public_message(&self) -> String {
        match self {
            EngineError::Database(_) | EngineError::Internal(_) => "Internal server error".to_owned(),
            other => other.to_string(),
        }
    }

    /// Whether this is a server-side failure worth logging at error level.
    pub fn is_internal(&self) -> bool {
        matches!(self, EngineError::Database(_) | EngineError::Internal(_))
    }

    /// The key is not configured for `env` (400 `PAYMENT_CONFIG_INVALID`).
    pub(crate) fn key_not_configured(env: Environment) -> Self {
        EngineError::ConfigInvalid { status: 400, message: format!("{} is not configured", env.secret_key_name()) }
    }

    /// The key does not start with the environment's prefix (400 `PAYMENT_CONFIG_INVALID`).
    pub(crate) fn bad_key_prefix(env: Environment) -> Self {
        EngineError::ConfigInvalid {
            status: 400,
            message: format!("{} must start with {}", env.secret_key_name(), env.key_prefix()),
        }
    }
}

impl From<StripeError> for EngineError {
    /// Stripe error normalisation (`contract/BEHAVIOUR.md` §1.5).
    fn from(err: StripeError) -> Self {
        match &err {
            StripeError::Api(api) => {
                let message = api.message.clone();
                if api.status == 429 || api.error_type == "rate_limit_error" {
                    EngineError::RateLimited(message)
                } else if err.is_auth_error() {
                    EngineError::ConfigInvalid { status: api.status, message }
                } else if err.is_card_error() {
                    EngineError::PaymentDeclined { status: api.status, message }
                } else {
                    let status = if (400..600).contains(&api.status) { api.status } else { 502 };
                    EngineError::Upstream { status, message }
                }
            }
            StripeError::UnexpectedResponse { status: 429, .. } => {
                EngineError::RateLimited("Too many requests to Stripe".to_owned())
            }
            StripeError::UnexpectedResponse { status, .. } => {
                tracing::warn!(error = %err, "unexpected response from Stripe");
                let status = if (400..600).contains(status) { *status } else { 502 };
                EngineError::Upstream { status, message: "Stripe returned an unexpected response".to_owned() }
            }
            StripeError::Transport(_) | StripeError::Decode { .. } => {
                tracing::warn!(error = %err, "Stripe request failed");
                EngineError::Upstream { status: 502, message: "Could not reach Stripe".to_owned() }
            }
            StripeError::Config(_) => EngineError::Internal(err.to_string()),
            // The client's error enum may grow; treat anything new as an upstream failure.
            #[allow(unreachable_patterns)]
            _ => EngineError::Upstream { status: 502, message: "Stripe request failed".to_owned() },
        }
    }
}
