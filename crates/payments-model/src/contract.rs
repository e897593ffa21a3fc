//! The contract's response shapes (`contract/BEHAVIOUR.md` §2.2), serialised in camelCase with ISO
//! timestamps. The console's server functions return these as they are, and its remote backend
//! reads them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::environment::Environment;
use crate::values::{
    BillingScheme, ConnectionStatus, LastSyncStatus, PriceType, ProcessingStatus, RecurringInterval, TaxBehavior,
};

/// `metadata`: string keys and values (`{}` when empty, never null).
pub type Metadata = BTreeMap<String, String>;

/// Connection state of one environment (`StripeConnection`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StripeConnection {
    /// `test` / `live`.
    pub environment: Environment,
    /// `unconfigured` / `connected` / `error`.
    pub status: ConnectionStatus,
    /// `acct_…` of the connected account.
    pub stripe_account_id: Option<String>,
    /// The account's email.
    pub stripe_account_email: Option<String>,
    /// `environment == live` once configured (not read from Stripe, per the contract).
    pub account_livemode: Option<bool>,
    /// `we_…` of the managed webhook endpoint.
    pub webhook_endpoint_id: Option<String>,
    /// URL of the managed webhook endpoint.
    pub webhook_endpoint_url: Option<String>,
    /// When the managed webhook was created.
    pub webhook_configured_at: Option<String>,
    /// `sk_test_****abcd`, computed from the stored key.
    pub masked_key: Option<String>,
    /// Last successful sync.
    pub last_synced_at: Option<String>,
    /// `succeeded` / `failed`.
    pub last_sync_status: Option<LastSyncStatus>,
    /// Why the last sync failed.
    pub last_sync_error: Option<String>,
    /// Objects written by the last sync (`{"products": n, "prices": n}`).
    pub last_sync_counts: BTreeMap<String, i64>,
    /// The signing secret pasted from the Stripe CLI, masked (`whsec_…abcd`), while one is set
    /// (additive: absent from backends without forwarded webhooks, and when none is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarding_secret_hint: Option<String>,
    /// When that secret was set (ISO 8601; additive, like the hint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarding_secret_set_at: Option<String>,
}

/// `GetPaymentsStatusResponse`: both environments, test first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentsStatus {
    /// One entry per environment.
    pub connections: Vec<StripeConnection>,
}

/// Whether an environment has a key (`StripeKeyConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StripeKeyConfig {
    /// `test` / `live`.
    pub environment: Environment,
    /// An active key is stored.
    pub has_key: bool,
    /// The masked key, when there is one.
    pub masked_key: Option<String>,
}

/// `GetPaymentsConfigResponse`: both environments, test first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentsConfig {
    /// One entry per environment.
    pub keys: Vec<StripeKeyConfig>,
}

/// A mirrored product (`StripeProduct`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// `test` / `live`.
    pub environment: Environment,
    /// `prod_…`.
    pub stripe_product_id: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Whether it can be bought.
    pub active: bool,
    /// `price_…` of the default price.
    pub default_price_id: Option<String>,
    /// Key-value pairs.
    pub metadata: Metadata,
    /// When the mirror last got it from Stripe.
    pub synced_at: String,
}

/// A mirrored price (`StripePrice`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    /// `test` / `live`.
    pub environment: Environment,
    /// `price_…`.
    pub stripe_price_id: String,
    /// `prod_…` it belongs to.
    pub stripe_product_id: Option<String>,
    /// Whether new purchases may use it.
    pub active: bool,
    /// Lower-case ISO currency.
    pub currency: String,
    /// Minor units.
    pub unit_amount: Option<i64>,
    /// Decimal string of the amount.
    pub unit_amount_decimal: Option<String>,
    /// `one_time` / `recurring`.
    #[serde(rename = "type")]
    pub price_type: PriceType,
    /// Lookup key.
    pub lookup_key: Option<String>,
    /// `per_unit` / `tiered`.
    pub billing_scheme: Option<BillingScheme>,
    /// `exclusive` / `inclusive` / `unspecified`.
    pub tax_behavior: Option<TaxBehavior>,
    /// `day` / `week` / `month` / `year`.
    pub recurring_interval: Option<RecurringInterval>,
    /// Intervals between bills.
    pub recurring_interval_count: Option<i64>,
    /// Key-value pairs.
    pub metadata: Metadata,
    /// When the mirror last got it from Stripe.
    pub synced_at: String,
}

impl Price {
    /// The tax behaviour, `unspecified` when the price has none (as Stripe treats it).
    pub fn tax(&self) -> &TaxBehavior {
        self.tax_behavior.as_ref().unwrap_or(&TaxBehavior::Unspecified)
    }
}

/// `ListPaymentCatalogResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// Ordered by name, id.
    pub products: Vec<Product>,
    /// Ordered by product id, price id.
    pub prices: Vec<Price>,
}

/// `GetPaymentProductResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductWithPrices {
    /// The product.
    pub product: Product,
    /// Its prices.
    pub prices: Vec<Price>,
}

/// `DeletePaymentProductResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedProduct {
    /// The product asked for.
    pub stripe_product_id: String,
    /// Stripe's `deleted` flag.
    pub deleted: bool,
}

/// `ArchivePaymentPriceResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedPrice {
    /// The price after archiving.
    pub price: Price,
    /// `!price.active`.
    pub archived: bool,
}

/// Input of the engine's `create_product` (already validated).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateProduct {
    /// Name (trimmed, non-empty).
    pub name: String,
    /// Description; `None` is not sent to Stripe.
    pub description: Option<String>,
    /// Active flag.
    pub active: Option<bool>,
    /// Metadata.
    pub metadata: Option<Metadata>,
    /// Sent as `Idempotency-Key: insforge:<env>:product:<key>`.
    pub idempotency_key: Option<String>,
}

/// Input of the engine's `update_product`. `description: Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateProduct {
    /// New name.
    pub name: Option<String>,
    /// New description (`Some(None)` clears).
    pub description: Option<Option<String>>,
    /// New active flag.
    pub active: Option<bool>,
    /// Metadata to merge (Stripe semantics; an empty value deletes a key).
    pub metadata: Option<Metadata>,
}

/// Recurrence of a new price.
#[derive(Debug, Clone, PartialEq)]
pub struct Recurring {
    /// `day` / `week` / `month` / `year` (the validator refuses any other).
    pub interval: RecurringInterval,
    /// Intervals between bills.
    pub interval_count: Option<i64>,
}

/// Input of the engine's `create_price` (already validated).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreatePrice {
    /// `prod_…`.
    pub stripe_product_id: String,
    /// Lower-case 3-letter currency.
    pub currency: String,
    /// Minor units, ≥ 0.
    pub unit_amount: i64,
    /// Lookup key; `None` is not sent.
    pub lookup_key: Option<String>,
    /// Active flag.
    pub active: Option<bool>,
    /// `None`: a one-time price.
    pub recurring: Option<Recurring>,
    /// `exclusive` / `inclusive` / `unspecified`.
    pub tax_behavior: Option<TaxBehavior>,
    /// Metadata.
    pub metadata: Option<Metadata>,
    /// Sent as `Idempotency-Key: insforge:<env>:price:<key>`.
    pub idempotency_key: Option<String>,
}

/// Input of the engine's `update_price`. `lookup_key: Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdatePrice {
    /// New active flag.
    pub active: Option<bool>,
    /// New lookup key (`Some(None)` clears).
    pub lookup_key: Option<Option<String>>,
    /// New tax behaviour.
    pub tax_behavior: Option<TaxBehavior>,
    /// Metadata to merge.
    pub metadata: Option<Metadata>,
}

/// `subscriptions` of a sync result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionSyncSummary {
    /// `test` / `live`.
    pub environment: Environment,
    /// Subscriptions projected.
    pub synced: i64,
    /// Of which no billing subject could be resolved.
    pub unmapped: i64,
    /// Subscription rows removed because they vanished from Stripe.
    pub deleted: i64,
}

/// One environment's result in `SyncPaymentsResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncEnvironmentResult {
    /// `test` / `live`.
    pub environment: Environment,
    /// The connection after the attempt.
    pub connection: StripeConnection,
    /// `null` when not connected or failed.
    pub subscriptions: Option<SubscriptionSyncSummary>,
    /// What the sync backfilled of the payment history (additive: absent when it did not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistorySyncSummary>,
}

/// The payment history a sync backfilled from Stripe's own objects, and the events it imported
/// (additive to the contract's sync result).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistorySyncSummary {
    /// Payment rows (invoices, one-time and failed payments) the history holds after the sync.
    pub payments: i64,
    /// Refund rows the history holds after the sync.
    pub refunds: i64,
    /// Customer ↔ subject mappings recovered from completed Checkout Sessions.
    pub mappings: i64,
    /// Events imported into the event log (only on an account's first sync).
    pub events: i64,
    /// The start of the backfill window (ISO 8601); `null`: all of Stripe's history.
    pub since: Option<String>,
}

/// `SyncPaymentsResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// One entry per environment synced (test first).
    pub results: Vec<SyncEnvironmentResult>,
}

/// A received Stripe event as recorded (`StripeWebhookEvent`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    /// `test` / `live`.
    pub environment: Environment,
    /// `evt_…`.
    pub stripe_event_id: String,
    /// `invoice.paid` …
    pub event_type: String,
    /// The event's `livemode`.
    pub livemode: bool,
    /// `event.account` (Connect only).
    pub stripe_account_id: Option<String>,
    /// `data.object.object`.
    pub object_type: Option<String>,
    /// `data.object.id`.
    pub object_id: Option<String>,
    /// `pending` / `processed` / `failed` / `ignored`.
    pub processing_status: ProcessingStatus,
    /// Processing attempts.
    pub attempt_count: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// First received.
    pub received_at: String,
    /// Last processed.
    pub processed_at: Option<String>,
    /// Row creation.
    pub created_at: String,
    /// Row update.
    pub updated_at: String,
    /// Why an `ignored` event changed nothing (an addition to the contract's event: absent from
    /// backends that do not record it, and on events that were not ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignored_reason: Option<IgnoredReason>,
}

/// Why processing an event changed nothing. An ignored event is not a failure: most are handled
/// through another event of the same object, or carry nothing the mirror keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoredReason {
    /// A PaymentIntent outside a one-time checkout: the payment is recorded through its invoice
    /// (`invoice.paid`) or checkout session (`checkout.session.completed`), not this event.
    HandledElsewhere,
    /// The mirror already holds this state or a newer one, or does not hold the object (e.g. a
    /// checkout session created outside the console).
    NothingToChange,
    /// The event carries no object.
    NoObject,
    /// A type the console does not record.
    UnhandledType,
}

impl IgnoredReason {
    /// Every reason, for parsing and tests.
    pub const ALL: [IgnoredReason; 4] = [
        IgnoredReason::HandledElsewhere,
        IgnoredReason::NothingToChange,
        IgnoredReason::NoObject,
        IgnoredReason::UnhandledType,
    ];

    /// The stored and serialized code, e.g. `handled_elsewhere`.
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoredReason::HandledElsewhere => "handled_elsewhere",
            IgnoredReason::NothingToChange => "nothing_to_change",
            IgnoredReason::NoObject => "no_object",
            IgnoredReason::UnhandledType => "unhandled_type",
        }
    }

    /// The reason of a stored code; `None` for an unknown one (a newer engine's).
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == code)
    }
}

/// `StripeWebhookResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookResponse {
    /// Always `true`.
    pub received: bool,
    /// Whether the event changed anything (`false` for duplicates and ignored types).
    pub handled: bool,
    /// The event's row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<WebhookEvent>,
}

/// `ConfigurePaymentWebhookResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfiguredWebhook {
    /// The connection after the change.
    pub connection: StripeConnection,
}

#[cfg(test)]
mod tests {
    use super::IgnoredReason;

    #[test]
    fn ignored_reasons_serialize_as_their_stored_codes() {
        for reason in IgnoredReason::ALL {
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
            assert_eq!(IgnoredReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(IgnoredReason::parse("newer_reason"), None);
    }
}
