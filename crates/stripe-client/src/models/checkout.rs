use serde::{Deserialize, Serialize};

use super::{Customer, Expandable, Extra, List, Metadata, PaymentIntent, Subscription};

/// A Checkout session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckoutSession {
    /// `cs_…`.
    pub id: String,
    /// `payment`, `subscription` or `setup`.
    pub mode: String,
    /// `open`, `complete` or `expired`.
    #[serde(default)]
    pub status: Option<String>,
    /// `paid`, `unpaid`, `no_payment_required`.
    #[serde(default)]
    pub payment_status: Option<String>,
    /// The hosted page to redirect the customer to (null once completed or expired).
    #[serde(default)]
    pub url: Option<String>,
    /// The customer, an id unless expanded.
    #[serde(default)]
    pub customer: Option<Expandable<Customer>>,
    /// Email given at creation.
    #[serde(default)]
    pub customer_email: Option<String>,
    /// Details collected during checkout.
    #[serde(default)]
    pub customer_details: Option<serde_json::Value>,
    /// Our reference for the buyer.
    #[serde(default)]
    pub client_reference_id: Option<String>,
    /// The subscription created (subscription mode).
    #[serde(default)]
    pub subscription: Option<Expandable<Subscription>>,
    /// The payment intent (payment mode).
    #[serde(default)]
    pub payment_intent: Option<Expandable<PaymentIntent>>,
    /// Where the customer goes on success.
    #[serde(default)]
    pub success_url: Option<String>,
    /// Where the customer goes on cancel.
    #[serde(default)]
    pub cancel_url: Option<String>,
    /// Total.
    #[serde(default)]
    pub amount_total: Option<i64>,
    /// Subtotal.
    #[serde(default)]
    pub amount_subtotal: Option<i64>,
    /// Currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// Unix time after which the session expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Unix time of creation.
    #[serde(default)]
    pub created: Option<i64>,
    /// Line items (only with `expand[]=line_items`).
    #[serde(default)]
    pub line_items: Option<List<serde_json::Value>>,
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

/// A customer-portal session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillingPortalSession {
    /// `bps_…`.
    pub id: String,
    /// The portal URL (short-lived).
    pub url: String,
    /// The customer id.
    pub customer: String,
    /// Where the portal's back link goes.
    #[serde(default)]
    pub return_url: Option<String>,
    /// Unix time of creation.
    #[serde(default)]
    pub created: Option<i64>,
    /// Live or test mode.
    #[serde(default)]
    pub livemode: bool,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}
