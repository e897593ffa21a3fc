use serde::{Deserialize, Serialize};

use super::{Customer, Expandable, Extra, List, Metadata};

/// A payment intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentIntent {
    /// `pi_…`.
    pub id: String,
    /// Amount intended to be collected.
    pub amount: i64,
    /// Amount received.
    #[serde(default)]
    pub amount_received: Option<i64>,
    /// Three-letter ISO currency code.
    pub currency: String,
    /// `requires_payment_method`, `processing`, `succeeded`, `canceled`…
    pub status: String,
    /// The customer, an id unless expanded.
    #[serde(default)]
    pub customer: Option<Expandable<Customer>>,
    /// The latest charge, an id unless expanded.
    #[serde(default)]
    pub latest_charge: Option<Expandable<Charge>>,
    /// The payment method, an id unless expanded.
    #[serde(default)]
    pub payment_method: Option<Expandable<serde_json::Value>>,
    /// The last payment error, if the latest attempt failed.
    #[serde(default)]
    pub last_payment_error: Option<serde_json::Value>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Unix time of creation.
    #[serde(default)]
    pub created: Option<i64>,
    /// Set of key-value pairs.
    #[serde(default)]
    pub metadata: Metadata,
    /// Live or test mode.
    #[serde(default)]
    pub livemode: bool,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Charge {
    /// `ch_…`.
    pub id: String,
    /// Amount.
    pub amount: i64,
    /// Amount captured.
    #[serde(default)]
    pub amount_captured: Option<i64>,
    /// Amount refunded so far.
    #[serde(default)]
    pub amount_refunded: i64,
    /// Three-letter ISO currency code.
    pub currency: String,
    /// `succeeded`, `pending` or `failed`.
    pub status: String,
    /// Whether the charge succeeded.
    #[serde(default)]
    pub paid: bool,
    /// Whether it was captured.
    #[serde(default)]
    pub captured: bool,
    /// Whether it was fully refunded.
    #[serde(default)]
    pub refunded: bool,
    /// The customer, an id unless expanded.
    #[serde(default)]
    pub customer: Option<Expandable<Customer>>,
    /// The payment intent, an id unless expanded.
    #[serde(default)]
    pub payment_intent: Option<Expandable<PaymentIntent>>,
    /// Failure code, if failed.
    #[serde(default)]
    pub failure_code: Option<String>,
    /// Failure message, if failed.
    #[serde(default)]
    pub failure_message: Option<String>,
    /// Receipt URL.
    #[serde(default)]
    pub receipt_url: Option<String>,
    /// Refunds (only when `expand[]=refunds`).
    #[serde(default)]
    pub refunds: Option<List<Refund>>,
    /// Unix time of creation.
    #[serde(default)]
    pub created: Option<i64>,
    /// Set of key-value pairs.
    #[serde(default)]
    pub metadata: Metadata,
    /// Live or test mode.
    #[serde(default)]
    pub livemode: bool,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A refund.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    /// `re_…`.
    pub id: String,
    /// Amount refunded.
    pub amount: i64,
    /// Three-letter ISO currency code.
    pub currency: String,
    /// The refunded charge, an id unless expanded.
    #[serde(default)]
    pub charge: Option<Expandable<Charge>>,
    /// The refunded payment intent, an id unless expanded.
    #[serde(default)]
    pub payment_intent: Option<Expandable<PaymentIntent>>,
    /// `pending`, `succeeded`, `failed`, `canceled`…
    #[serde(default)]
    pub status: Option<String>,
    /// `duplicate`, `fraudulent`, `requested_by_customer`.
    #[serde(default)]
    pub reason: Option<String>,
    /// Unix time of creation.
    #[serde(default)]
    pub created: Option<i64>,
    /// Set of key-value pairs.
    #[serde(default)]
    pub metadata: Metadata,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}
