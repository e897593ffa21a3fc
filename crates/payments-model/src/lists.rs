//! Rows of the list routes (subscriptions, payment history, customers) and the page that
//! carries them with the additive keyset cursor.

use serde::{Deserialize, Serialize};

use crate::contract::Metadata;
use crate::environment::Environment;
use crate::paging::Cursor;
use crate::values::{PaymentKind, PaymentStatus, SubscriptionStatus};

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// The cursor of the next page, `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

/// A subscription item (`StripeSubscriptionItem`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionItem {
    /// `test` / `live`.
    pub environment: Environment,
    /// `si_…`.
    pub stripe_subscription_item_id: String,
    /// `sub_…`.
    pub stripe_subscription_id: String,
    /// `prod_…`.
    pub stripe_product_id: Option<String>,
    /// `price_…`.
    pub stripe_price_id: Option<String>,
    /// Quantity.
    pub quantity: Option<i64>,
    /// Metadata.
    pub metadata: Metadata,
    /// Row creation.
    pub created_at: String,
    /// Row update.
    pub updated_at: String,
}

/// A subscription (`StripeSubscription`, with `items`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Subscription {
    pub environment: Environment,
    pub stripe_subscription_id: String,
    pub stripe_customer_id: String,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub status: SubscriptionStatus,
    pub current_period_start: Option<String>,
    pub current_period_end: Option<String>,
    pub cancel_at_period_end: bool,
    pub cancel_at: Option<String>,
    pub canceled_at: Option<String>,
    pub trial_start: Option<String>,
    pub trial_end: Option<String>,
    pub latest_invoice_id: Option<String>,
    pub metadata: Metadata,
    pub synced_at: String,
    pub created_at: String,
    pub updated_at: String,
    pub items: Vec<SubscriptionItem>,
}

/// A payment history row (`PaymentHistory`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct PaymentHistory {
    pub environment: Environment,
    #[serde(rename = "type")]
    pub kind: PaymentKind,
    pub status: PaymentStatus,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub stripe_customer_id: Option<String>,
    pub customer_email_snapshot: Option<String>,
    pub stripe_checkout_session_id: Option<String>,
    pub stripe_payment_intent_id: Option<String>,
    pub stripe_invoice_id: Option<String>,
    pub stripe_charge_id: Option<String>,
    pub stripe_refund_id: Option<String>,
    pub stripe_subscription_id: Option<String>,
    pub stripe_product_id: Option<String>,
    pub stripe_price_id: Option<String>,
    pub amount: Option<i64>,
    pub amount_refunded: Option<i64>,
    pub currency: Option<String>,
    pub description: Option<String>,
    pub paid_at: Option<String>,
    pub failed_at: Option<String>,
    pub refunded_at: Option<String>,
    pub stripe_created_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A customer with its payment aggregates (`PaymentCustomerListItem`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct CustomerListItem {
    pub environment: Environment,
    pub stripe_customer_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub deleted: bool,
    pub metadata: Metadata,
    pub stripe_created_at: Option<String>,
    pub synced_at: String,
    pub payments_count: i64,
    pub last_payment_at: Option<String>,
    pub total_spend: Option<i64>,
    pub total_spend_currency: Option<String>,
    pub payment_method_brand: Option<String>,
    pub payment_method_last4: Option<String>,
    /// Expiry month (1–12) of the default card; absent from backends that do not report it.
    #[serde(default)]
    pub payment_method_exp_month: Option<u32>,
    /// Expiry year of the default card.
    #[serde(default)]
    pub payment_method_exp_year: Option<u32>,
    pub country_code: Option<String>,
}

/// Payments and refunds of one day, for the history chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DayCount {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Rows that are not refunds.
    pub payments: u32,
    /// Refund rows.
    pub refunds: u32,
}

/// How many rows of a summary have one status: `S` is the status type, [`PaymentStatus`] in a
/// payment-history summary and [`SubscriptionStatus`] in the subscriptions' mix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCount<S> {
    /// The status (`succeeded`, `failed`, `refunded`…; `active`, `past_due`…).
    pub status: S,
    /// Rows with it.
    pub rows: u32,
}

impl<S: AsRef<str>> StatusCount<S> {
    /// Sorts `counts` most frequent first, then by the status's spelling: by the string, not the
    /// enum's order, so the order is the one the summaries had when statuses were strings.
    pub fn sort(counts: &mut [StatusCount<S>]) {
        counts.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.status.as_ref().cmp(b.status.as_ref())));
    }
}

/// The chart and status breakdown of a filtered payment-history view, over its newest
/// [`HISTORY_SUMMARY_ROWS`] rows (additive route `GET /{env}/payment-history/summary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistorySummary {
    /// Oldest first.
    pub days: Vec<DayCount>,
    /// Most frequent first, then by name.
    pub statuses: Vec<StatusCount<PaymentStatus>>,
    /// Rows counted.
    pub rows: u32,
    /// More rows matched than were counted.
    pub truncated: bool,
}

impl HistorySummary {
    /// The summary of counts per day (oldest first) and per status: statuses most frequent
    /// first, then by name; `rows` is their total.
    pub fn from_counts(
        days: Vec<DayCount>,
        statuses: std::collections::BTreeMap<PaymentStatus, u32>,
        truncated: bool,
    ) -> Self {
        let rows = statuses.values().sum();
        let mut statuses: Vec<StatusCount<PaymentStatus>> =
            statuses.into_iter().map(|(status, rows)| StatusCount { status, rows }).collect();
        StatusCount::sort(&mut statuses);
        HistorySummary { days, statuses, rows, truncated }
    }
}

/// How many of a view's newest rows a [`HistorySummary`] counts: enough for a chart of recent
/// activity, and a bounded read however large the history is.
pub const HISTORY_SUMMARY_ROWS: usize = 2000;
