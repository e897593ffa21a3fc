//! The `error` code of the contract's error envelope (contract/BEHAVIOUR.md §1.3 and §1.5).

use super::string_enum;

string_enum! {
    /// The machine-readable code of an error answer (`ErrorBody::error`): the contract's payment
    /// codes, the general ones its routes use, and the engine's additions.
    pub enum ErrorCode {
        /// The request failed validation (400).
        InvalidInput = "INVALID_INPUT",
        /// A server-side failure; the message says nothing more (500).
        InternalError = "INTERNAL_ERROR",
        /// Stripe, or the engine's own budget for Stripe, said to slow down (429).
        RateLimited = "RATE_LIMITED",
        /// Stripe refused or failed the request for another reason.
        UpstreamFailure = "UPSTREAM_FAILURE",
        /// The server's answer for a path no route matches (404): not a payments answer.
        NotFound = "NOT_FOUND",
        /// Credentials that could not be verified (401).
        AuthInvalidCredentials = "AUTH_INVALID_CREDENTIALS",
        /// Valid credentials without the right (403).
        AuthUnauthorized = "AUTH_UNAUTHORIZED",
        /// An API key that is not valid (401).
        AuthInvalidApiKey = "AUTH_INVALID_API_KEY",
        /// An idempotency key reused with another request (409).
        PaymentCheckoutAlreadyExists = "PAYMENT_CHECKOUT_ALREADY_EXISTS",
        /// The Stripe key is malformed, or Stripe refused it.
        PaymentConfigInvalid = "PAYMENT_CONFIG_INVALID",
        /// No Stripe key is configured for the environment.
        PaymentConfigNotFound = "PAYMENT_CONFIG_NOT_FOUND",
        /// No such payment, or no Stripe customer mapped to the subject.
        PaymentNotFound = "PAYMENT_NOT_FOUND",
        /// Stripe declined the card.
        PaymentMethodDeclined = "PAYMENT_METHOD_DECLINED",
        /// No such price in the mirror.
        PaymentPriceNotFound = "PAYMENT_PRICE_NOT_FOUND",
        /// No such product in the mirror.
        PaymentProductNotFound = "PAYMENT_PRODUCT_NOT_FOUND",
        /// The Stripe event is being processed by another delivery (409; the engine's addition).
        PaymentWebhookInProgress = "PAYMENT_WEBHOOK_IN_PROGRESS",
    }
}

impl ErrorCode {
    /// Whether a payments route gave this answer about the request (a `PAYMENT_…` code), as
    /// opposed to the server's generic answers: a 404 with a payment code is a missing product
    /// or price, a 404 without one is a route the server does not have. A payment code this
    /// build does not know still counts, so a newer backend's codes are read the same way.
    pub fn is_payment(&self) -> bool {
        self.as_str().starts_with("PAYMENT_")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_round_trip_and_know_their_kind() {
        crate::values::tests::round_trips(ErrorCode::ALL, ErrorCode::NAMES, ErrorCode::from("PAYMENT_NEW_THING"));
        let payment: Vec<&str> = ErrorCode::ALL.iter().filter(|c| c.is_payment()).map(ErrorCode::as_str).collect();
        assert_eq!(payment.len(), 8, "{payment:?}");
        assert!(ErrorCode::from("PAYMENT_NEW_THING").is_payment());
        assert!(!ErrorCode::NotFound.is_payment() && !ErrorCode::AuthUnauthorized.is_payment());
    }
}
