//! Refunds (additive: the engine's `POST /api/payments/{environment}/refunds`, which the
//! contract does not have): what an admin asks for, and the refund Stripe created.

use serde::{Deserialize, Serialize};

use crate::environment::Environment;
use crate::values::{RefundReason, RefundStatus};

/// A refund to create (`CreateRefundBody`, additive): the payment is named by its PaymentIntent,
/// which every refundable payment-history row carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRefund {
    /// `pi_…` of the payment.
    pub payment_intent_id: String,
    /// In the currency's minor units; `None` refunds what is left of the payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// Why; Stripe records it on the refund.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RefundReason>,
    /// Makes a retried or double-clicked refund refund once: sent to Stripe as its
    /// `Idempotency-Key` (scoped to the environment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// A refund Stripe created (the body's `refund`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    /// The environment it was made in.
    pub environment: Environment,
    /// `re_…`.
    pub stripe_refund_id: String,
    /// The refunded PaymentIntent.
    pub stripe_payment_intent_id: Option<String>,
    /// The refunded charge.
    pub stripe_charge_id: Option<String>,
    /// In minor units.
    pub amount: i64,
    /// Lower-case ISO currency.
    pub currency: String,
    /// Stripe's status: `pending`, `succeeded`, `failed`, `requires_action` or `canceled`.
    pub status: RefundStatus,
    /// Stripe's reason; one it sets itself (`expired_uncaptured_charge`) is kept verbatim.
    pub reason: Option<RefundReason>,
    /// When Stripe created it (ISO).
    pub created_at: Option<String>,
}
