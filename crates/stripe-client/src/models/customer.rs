use serde::{Deserialize, Serialize};

use super::{Extra, Metadata};

/// A customer, or the tombstone Stripe keeps of a deleted one
/// (`{"id", "object": "customer", "deleted": true}`: check [`Customer::deleted`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// `cus_…`.
    pub id: String,
    /// `true` for a deleted customer; then only `id` is meaningful.
    #[serde(default)]
    pub deleted: bool,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Full name or business name.
    #[serde(default)]
    pub name: Option<String>,
    /// Free-form description.
    #[serde(default)]
    pub description: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Unix time of creation (absent on tombstones).
    #[serde(default)]
    pub created: Option<i64>,
    /// Currency of recurring charges.
    #[serde(default)]
    pub currency: Option<String>,
    /// Credit balance in the smallest currency unit (negative = credit).
    #[serde(default)]
    pub balance: Option<i64>,
    /// Whether the latest invoice payment failed.
    #[serde(default)]
    pub delinquent: Option<bool>,
    /// `default_payment_method`, `footer`…
    #[serde(default)]
    pub invoice_settings: Option<serde_json::Value>,
    /// Set of key-value pairs.
    #[serde(default)]
    pub metadata: Metadata,
    /// Live or test mode.
    #[serde(default)]
    pub livemode: Option<bool>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Customer {
    /// `invoice_settings.default_payment_method` as an id.
    pub fn default_payment_method(&self) -> Option<&str> {
        let pm = self.invoice_settings.as_ref()?.get("default_payment_method")?;
        pm.as_str().or_else(|| pm.get("id").and_then(|v| v.as_str()))
    }
}
