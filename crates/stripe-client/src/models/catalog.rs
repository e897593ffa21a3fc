use serde::{Deserialize, Serialize};

use super::{string_enum, Expandable, Extra, Metadata};

/// A product of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// `prod_…`.
    pub id: String,
    /// Whether it can be bought.
    pub active: bool,
    /// Display name.
    pub name: String,
    /// Description shown to customers.
    #[serde(default)]
    pub description: Option<String>,
    /// The default price, an id unless expanded.
    #[serde(default)]
    pub default_price: Option<Expandable<Price>>,
    /// Unix time of creation.
    pub created: i64,
    /// Unix time of the last update.
    #[serde(default)]
    pub updated: Option<i64>,
    /// Set of key-value pairs.
    #[serde(default)]
    pub metadata: Metadata,
    /// Image URLs.
    #[serde(default)]
    pub images: Vec<String>,
    /// Tax code id.
    #[serde(default)]
    pub tax_code: Option<Expandable<serde_json::Value>>,
    /// Label of a unit (`seat`).
    #[serde(default)]
    pub unit_label: Option<String>,
    /// Product page URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Live or test mode.
    #[serde(default)]
    pub livemode: bool,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

string_enum! {
    /// `price.type`.
    PriceType {
        /// Charged once.
        OneTime = "one_time",
        /// Charged every period.
        Recurring = "recurring",
    }
}

string_enum! {
    /// `price.tax_behavior`.
    TaxBehavior {
        /// Tax is added on top of the price.
        Exclusive = "exclusive",
        /// Tax is included in the price.
        Inclusive = "inclusive",
        /// Not decided yet.
        Unspecified = "unspecified",
    }
}

string_enum! {
    /// `recurring.interval`.
    RecurringInterval {
        /// Daily.
        Day = "day",
        /// Weekly.
        Week = "week",
        /// Monthly.
        Month = "month",
        /// Yearly.
        Year = "year",
    }
}

/// `price.recurring`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recurring {
    /// Billing frequency unit.
    pub interval: RecurringInterval,
    /// Number of intervals between bills.
    #[serde(default = "one")]
    pub interval_count: u32,
    /// `licensed` or `metered`.
    #[serde(default)]
    pub usage_type: Option<String>,
    /// Default trial length for subscriptions to this price.
    #[serde(default)]
    pub trial_period_days: Option<u32>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

fn one() -> u32 {
    1
}

/// A price of a product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    /// `price_…`.
    pub id: String,
    /// Whether new purchases may use it.
    pub active: bool,
    /// Three-letter ISO currency code, lowercase.
    pub currency: String,
    /// Amount in the currency's smallest unit (absent for tiered/custom prices).
    #[serde(default)]
    pub unit_amount: Option<i64>,
    /// The product, an id unless expanded.
    pub product: Expandable<Product>,
    /// One-time or recurring.
    #[serde(rename = "type")]
    pub price_type: PriceType,
    /// The billing period, for recurring prices.
    #[serde(default)]
    pub recurring: Option<Recurring>,
    /// Tax behaviour.
    #[serde(default)]
    pub tax_behavior: Option<TaxBehavior>,
    /// Stable key to look the price up by (`pro_monthly`).
    #[serde(default)]
    pub lookup_key: Option<String>,
    /// Internal name.
    #[serde(default)]
    pub nickname: Option<String>,
    /// `per_unit` or `tiered`.
    #[serde(default)]
    pub billing_scheme: Option<String>,
    /// Unix time of creation.
    pub created: i64,
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
