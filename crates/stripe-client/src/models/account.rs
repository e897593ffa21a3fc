use serde::{Deserialize, Serialize};

use super::{Extra, Metadata};

/// The Stripe account the API key belongs to (`GET /v1/account`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// `acct_…`.
    pub id: String,
    /// Business profile: `name`, `url`, `support_email`…
    #[serde(default)]
    pub business_profile: Option<serde_json::Value>,
    /// Whether the account can create live charges.
    #[serde(default)]
    pub charges_enabled: Option<bool>,
    /// Whether payouts are enabled.
    #[serde(default)]
    pub payouts_enabled: Option<bool>,
    /// Whether onboarding details were submitted.
    #[serde(default)]
    pub details_submitted: Option<bool>,
    /// Two-letter country code.
    #[serde(default)]
    pub country: Option<String>,
    /// Three-letter ISO currency code, lowercase.
    #[serde(default)]
    pub default_currency: Option<String>,
    /// The account's email.
    #[serde(default)]
    pub email: Option<String>,
    /// `standard`, `express`, `custom`, `none`.
    #[serde(default, rename = "type")]
    pub account_type: Option<String>,
    /// Set of key-value pairs.
    #[serde(default)]
    pub metadata: Metadata,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Account {
    /// The display name: `settings.dashboard.display_name`, else `business_profile.name`.
    pub fn display_name(&self) -> Option<&str> {
        let dashboard = self.extra.get("settings").and_then(|s| s.pointer("/dashboard/display_name"));
        dashboard.or_else(|| self.business_profile.as_ref().and_then(|b| b.get("name"))).and_then(|v| v.as_str())
    }
}
