//! The payments backend as the console's pages see it: plain data types shared by server and
//! browser. On the server ([`ssr`]) one trait has two implementations, the embedded engine and a
//! remote InsForge backend; both speak the InsForge Payments v2 shapes, so these types mirror
//! that contract's JSON.

use crate::environment::Environment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "ssr")]
pub mod ssr;

/// A Stripe connection of one environment (the contract's `StripeConnection`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub environment: Environment,
    /// `unconfigured`, `connected` or `error`.
    pub status: String,
    pub stripe_account_id: Option<String>,
    pub stripe_account_email: Option<String>,
    pub webhook_endpoint_id: Option<String>,
    pub webhook_endpoint_url: Option<String>,
    pub webhook_configured_at: Option<String>,
    /// e.g. `sk_test_****AbCd`; never the key itself.
    pub masked_key: Option<String>,
    pub last_synced_at: Option<String>,
    /// `succeeded` or `failed`.
    pub last_sync_status: Option<String>,
    pub last_sync_error: Option<String>,
    #[serde(default)]
    pub last_sync_counts: BTreeMap<String, i64>,
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

impl Connection {
    /// What needs attention, most serious first.
    pub fn attention(&self) -> Vec<Attention> {
        if self.masked_key.is_none() {
            return vec![Attention::NoKey];
        }
        let mut items = Vec::new();
        if self.last_sync_status.as_deref() == Some("failed") {
            items.push(Attention::SyncFailed);
        } else if self.last_synced_at.is_none() {
            items.push(Attention::NeverSynced);
        }
        if self.webhook_endpoint_id.is_none() {
            items.push(Attention::WebhookMissing);
        }
        items
    }
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
        assert!(c.attention().is_empty());
    }

    #[test]
    fn problems_are_listed() {
        let mut c = connection();
        c.webhook_endpoint_id = None;
        c.last_sync_status = Some("failed".into());
        assert_eq!(c.attention(), vec![Attention::SyncFailed, Attention::WebhookMissing]);
        c.masked_key = None;
        assert_eq!(c.attention(), vec![Attention::NoKey]);
    }
}
