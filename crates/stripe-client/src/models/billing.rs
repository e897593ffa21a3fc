use serde::{Deserialize, Serialize};

use super::{string_enum, Customer, Expandable, Extra, List, Metadata, Price};

string_enum! {
    /// `subscription.status`.
    SubscriptionStatus {
        /// First payment pending.
        Incomplete = "incomplete",
        /// First payment never succeeded within 23 hours.
        IncompleteExpired = "incomplete_expired",
        /// In a trial.
        Trialing = "trialing",
        /// Paid up.
        Active = "active",
        /// Latest payment failed; retrying.
        PastDue = "past_due",
        /// Ended.
        Canceled = "canceled",
        /// Retries exhausted, left open.
        Unpaid = "unpaid",
        /// Trial ended without a payment method.
        Paused = "paused",
    }
}

impl SubscriptionStatus {
    /// Whether the subscription currently grants access (active or trialing).
    pub fn is_entitled(&self) -> bool {
        matches!(self, Self::Active | Self::Trialing)
    }
}

/// One item (price × quantity) of a subscription. Since API version
/// 2025-03-31 the billing period lives on items, not on the subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionItem {
    /// `si_…`.
    pub id: String,
    /// The price (always embedded in items). Absent only with legacy plans.
    #[serde(default)]
    pub price: Option<Price>,
    /// Quantity.
    #[serde(default)]
    pub quantity: Option<u64>,
    /// Start of the current period (Unix time).
    #[serde(default)]
    pub current_period_start: Option<i64>,
    /// End of the current period (Unix time).
    #[serde(default)]
    pub current_period_end: Option<i64>,
    /// The subscription it belongs to.
    #[serde(default)]
    pub subscription: Option<String>,
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

/// A subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    /// `sub_…`.
    pub id: String,
    /// The customer, an id unless expanded.
    pub customer: Expandable<Customer>,
    /// Status.
    pub status: SubscriptionStatus,
    /// The items (the first page; Stripe embeds up to 10, then `has_more`).
    pub items: List<SubscriptionItem>,
    /// Whether it ends at the end of the current period.
    pub cancel_at_period_end: bool,
    /// When it is scheduled to end.
    #[serde(default)]
    pub cancel_at: Option<i64>,
    /// When it was canceled.
    #[serde(default)]
    pub canceled_at: Option<i64>,
    /// When it ended.
    #[serde(default)]
    pub ended_at: Option<i64>,
    /// Unix time of creation.
    #[serde(default)]
    pub created: Option<i64>,
    /// Start date.
    #[serde(default)]
    pub start_date: Option<i64>,
    /// Trial start.
    #[serde(default)]
    pub trial_start: Option<i64>,
    /// Trial end.
    #[serde(default)]
    pub trial_end: Option<i64>,
    /// Currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// `charge_automatically` or `send_invoice`.
    #[serde(default)]
    pub collection_method: Option<String>,
    /// Latest invoice, an id unless expanded.
    #[serde(default)]
    pub latest_invoice: Option<Expandable<Invoice>>,
    /// Payment collection pause (`{"behavior": …}`), if paused.
    #[serde(default)]
    pub pause_collection: Option<serde_json::Value>,
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

impl Subscription {
    /// The current period of the first item (where the current API puts it).
    pub fn current_period(&self) -> Option<(i64, i64)> {
        let item = self.items.data.first()?;
        Some((item.current_period_start?, item.current_period_end?))
    }
}

string_enum! {
    /// `invoice.status`.
    InvoiceStatus {
        /// Being prepared.
        Draft = "draft",
        /// Finalized, awaiting payment.
        Open = "open",
        /// Paid.
        Paid = "paid",
        /// Written off.
        Uncollectible = "uncollectible",
        /// Voided.
        Void = "void",
    }
}

/// An invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    /// `in_…`.
    pub id: String,
    /// The customer, an id unless expanded.
    #[serde(default)]
    pub customer: Option<Expandable<Customer>>,
    /// Status (absent only on previews).
    #[serde(default)]
    pub status: Option<InvoiceStatus>,
    /// Three-letter ISO currency code.
    pub currency: String,
    /// Amount due.
    #[serde(default)]
    pub amount_due: i64,
    /// Amount paid.
    #[serde(default)]
    pub amount_paid: i64,
    /// Amount remaining.
    #[serde(default)]
    pub amount_remaining: i64,
    /// Total after discounts and taxes.
    #[serde(default)]
    pub total: i64,
    /// Total before discounts and taxes.
    #[serde(default)]
    pub subtotal: Option<i64>,
    /// Human-readable number.
    #[serde(default)]
    pub number: Option<String>,
    /// `subscription_create`, `subscription_cycle`, `manual`…
    #[serde(default)]
    pub billing_reason: Option<String>,
    /// `charge_automatically` or `send_invoice`.
    #[serde(default)]
    pub collection_method: Option<String>,
    /// Hosted payment page.
    #[serde(default)]
    pub hosted_invoice_url: Option<String>,
    /// PDF.
    #[serde(default)]
    pub invoice_pdf: Option<String>,
    /// What the invoice is for: `parent.subscription_details.subscription`.
    #[serde(default)]
    pub parent: Option<serde_json::Value>,
    /// Period start.
    #[serde(default)]
    pub period_start: Option<i64>,
    /// Period end.
    #[serde(default)]
    pub period_end: Option<i64>,
    /// Unix time of creation.
    #[serde(default)]
    pub created: Option<i64>,
    /// Lines (first page).
    #[serde(default)]
    pub lines: Option<List<serde_json::Value>>,
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

impl Invoice {
    /// The subscription the invoice bills: `parent.subscription_details.subscription`
    /// (current API), or the top-level `subscription` of older versions.
    pub fn subscription_id(&self) -> Option<&str> {
        let from_parent = self.parent.as_ref().and_then(|p| p.pointer("/subscription_details/subscription"));
        from_parent
            .or_else(|| self.extra.get("subscription"))
            .and_then(|v| v.as_str().or_else(|| v.get("id").and_then(|id| id.as_str())))
    }
}
