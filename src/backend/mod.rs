//! The payments backend as the console's pages see it: plain data types shared by server and
//! browser. On the server ([`ssr`]) one trait has two implementations, the embedded engine and a
//! remote InsForge backend; both speak the InsForge Payments v2 shapes, so these types mirror
//! that contract's JSON.

#[cfg(feature = "ssr")]
pub mod ssr;

use payments_model::{Paging, QueryFilters, TaxBehavior};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A Stripe connection of one environment (the contract's `StripeConnection`).
pub use payments_model::StripeConnection as Connection;

/// String metadata, as Stripe stores it.
pub type Metadata = BTreeMap<String, String>;

/// A new product: the contract's `CreatePaymentProductBody`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductDraft {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Makes a retried submit create one product, not two.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// Changes to a product (`UpdatePaymentProductBody`): only the fields set are sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Some(None)` clears the description.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub description: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Merged by Stripe; an empty value deletes a key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// How often a recurring price bills.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecurringDraft {
    /// `day`, `week`, `month` or `year`.
    pub interval: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_count: Option<i64>,
}

/// A new price (`CreatePaymentPriceBody`); `recurring: None` is a one-time price.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceDraft {
    pub stripe_product_id: String,
    /// Lower-case ISO currency.
    pub currency: String,
    /// In the currency's minor units.
    pub unit_amount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookup_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurring: Option<RecurringDraft>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_behavior: Option<TaxBehavior>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// Changes to a price (`UpdatePaymentPriceBody`): amount, currency and recurrence are immutable
/// in Stripe, so only these can change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// `Some(None)` removes the lookup key.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub lookup_key: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_behavior: Option<TaxBehavior>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// Reads a field that is present as `Some`, so a JSON `null` arrives as `Some(None)` ("clear it")
/// rather than `None` ("leave it"), which plain `Option<Option<_>>` cannot tell apart.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// What a list page asks for: the contract's `limit` and billing subject, plus the engine's
/// additive cursor and the list's filters `F` (`payments_model::HistoryListFilters`,
/// `SubscriptionListFilters`, `CustomerListFilters` or `EventListFilters`), which name their
/// query parameters themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery<F> {
    /// 1..=100; `None` is the backend's default (50).
    pub limit: Option<u32>,
    /// `(subjectType, subjectId)`.
    pub subject: Option<(String, String)>,
    /// Unpaged (the contract's request), the first page with a cursor back, or the page after
    /// a previous page's `nextCursor`.
    pub cursor: Paging,
    /// The list's additive filters.
    pub filters: F,
}

impl<F: QueryFilters> ListQuery<F> {
    /// The query string pairs: `limit`, the subject, `cursor`, then the filters by name; empty
    /// filter values left out, the others trimmed.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        if let Some(limit) = self.limit {
            pairs.push(("limit".to_owned(), limit.to_string()));
        }
        if let Some((kind, id)) = &self.subject {
            pairs.push(("subjectType".to_owned(), kind.clone()));
            pairs.push(("subjectId".to_owned(), id.clone()));
        }
        if let Some(cursor) = self.cursor.param() {
            pairs.push(("cursor".to_owned(), cursor.to_owned()));
        }
        pairs.extend(self.filter_pairs());
        pairs
    }

    /// The filters' pairs, empty values left out and the others trimmed.
    fn filter_pairs(&self) -> impl Iterator<Item = (String, String)> {
        self.filters.pairs().into_iter().filter_map(|(k, v)| {
            let v = v.trim();
            (!v.is_empty()).then(|| (k.to_owned(), v.to_owned()))
        })
    }

    /// Whether this needs the engine's additive query parameters.
    pub fn uses_extensions(&self) -> bool {
        self.cursor.is_paged() || self.filter_pairs().next().is_some()
    }
}

impl<F> ListQuery<F> {
    /// The same page (limit, subject, cursor) of another list, with that list's `filters`.
    pub fn with_filters<G>(&self, filters: G) -> ListQuery<G> {
        ListQuery { limit: self.limit, subject: self.subject.clone(), cursor: self.cursor.clone(), filters }
    }
}

/// Something about a connection that needs an admin's attention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attention {
    /// No Stripe key: nothing works in this environment.
    NoKey,
    /// Connected, but Stripe has no endpoint to send events to: the mirror goes stale.
    WebhookMissing,
    /// The last sync failed.
    SyncFailed,
    /// Connected but never synced.
    NeverSynced,
}

impl Attention {
    /// What to tell the user.
    pub fn message(self) -> &'static str {
        match self {
            Attention::NoKey => "No Stripe secret key is configured.",
            Attention::WebhookMissing => {
                "No Stripe webhook endpoint is configured: changes made in Stripe will not arrive."
            }
            Attention::SyncFailed => "The last sync from Stripe failed.",
            Attention::NeverSynced => "The catalog and customers have never been synced from Stripe.",
        }
    }

    /// The console section that fixes it.
    pub fn section(self) -> &'static str {
        match self {
            Attention::NoKey => "keys",
            Attention::WebhookMissing => "webhooks",
            Attention::SyncFailed | Attention::NeverSynced => "sync",
        }
    }
}

/// What needs attention in a connection, most serious first.
pub fn attention(c: &Connection) -> Vec<Attention> {
    if c.masked_key.is_none() {
        return vec![Attention::NoKey];
    }
    let mut items = Vec::new();
    if c.last_sync_status == Some(payments_model::LastSyncStatus::Failed) {
        items.push(Attention::SyncFailed);
    } else if c.last_synced_at.is_none() {
        items.push(Attention::NeverSynced);
    }
    // A signing secret pasted from the Stripe CLI stands for the endpoint Stripe cannot reach.
    if c.webhook_endpoint_id.is_none() && c.forwarding_secret_hint.is_none() {
        items.push(Attention::WebhookMissing);
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Connection {
        serde_json::from_value(serde_json::json!({
            "environment": "test", "status": "connected", "stripeAccountId": "acct_1", "stripeAccountEmail": null,
            "accountLivemode": false, "webhookEndpointId": "we_1", "webhookEndpointUrl": "https://x/api/webhooks/stripe/test",
            "webhookConfiguredAt": "2026-11-25T10:00:00.000Z", "maskedKey": "sk_test_****AbCd",
            "lastSyncedAt": "2026-11-25T10:00:01.000Z", "lastSyncStatus": "succeeded", "lastSyncError": null,
            "lastSyncCounts": {"products": 3, "prices": 5}
        }))
        .expect("the contract's shape parses")
    }

    #[test]
    fn a_healthy_connection_needs_nothing() {
        let c = connection();
        assert_eq!(c.last_sync_counts["prices"], 5);
        assert!(attention(&c).is_empty());
    }

    #[test]
    fn a_null_in_changes_clears_and_an_absent_field_is_left_alone() {
        let clear: PriceChanges = serde_json::from_str(r#"{"lookupKey": null}"#).unwrap();
        assert_eq!(clear.lookup_key, Some(None));
        let keep: PriceChanges = serde_json::from_str(r#"{"active": false}"#).unwrap();
        assert_eq!(keep.lookup_key, None);
        let set: PriceChanges = serde_json::from_str(r#"{"lookupKey": "k"}"#).unwrap();
        assert_eq!(set.lookup_key, Some(Some("k".into())));
        let product: ProductChanges = serde_json::from_str(r#"{"description": null}"#).unwrap();
        assert_eq!(product.description, Some(None));
        // What the browser sends round-trips.
        let sent = PriceChanges { lookup_key: Some(None), ..Default::default() };
        assert_eq!(serde_json::from_str::<PriceChanges>(&serde_json::to_string(&sent).unwrap()).unwrap(), sent);
    }

    #[test]
    fn problems_are_listed() {
        let mut c = connection();
        c.webhook_endpoint_id = None;
        c.last_sync_status = Some("failed".into());
        assert_eq!(attention(&c), vec![Attention::SyncFailed, Attention::WebhookMissing]);
        // Events forwarded by the Stripe CLI arrive without a managed endpoint.
        c.forwarding_secret_hint = Some("whsec_…abcd".into());
        assert_eq!(attention(&c), vec![Attention::SyncFailed]);
        c.forwarding_secret_hint = None;
        c.masked_key = None;
        assert_eq!(attention(&c), vec![Attention::NoKey]);
    }
}
