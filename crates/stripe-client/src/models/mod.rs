//! Typed Stripe objects, as of API version [`crate::STRIPE_VERSION`].
//!
//! Deserialization is tolerant in the ways Stripe's API evolves: unknown
//! fields are kept in each model's `extra` map rather than rejected, fields
//! Stripe may omit or null are `Option`, and enums have an `Unknown`
//! variant for values added later. Ids that `expand[]` can replace with an
//! object are [`Expandable`].

mod account;
mod billing;
mod catalog;
mod checkout;
mod customer;
mod event;
mod payment;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use account::Account;
pub use billing::{Invoice, InvoiceStatus, Subscription, SubscriptionItem, SubscriptionStatus};
pub use catalog::{Price, PriceType, Product, Recurring, RecurringInterval, TaxBehavior};
pub use checkout::{BillingPortalSession, CheckoutSession};
pub use customer::Customer;
pub use event::{Event, EventData, EventRequest, WebhookEndpoint};
pub use payment::{Charge, PaymentIntent, Refund};

/// `metadata`: string keys and values.
pub type Metadata = BTreeMap<String, String>;

/// Unknown fields of an object, kept verbatim.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// Objects with an `id`.
pub trait HasId {
    /// The object's id.
    fn id(&self) -> &str;
}

/// A field holding either an id or, when requested with `expand[]`, the object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Expandable<T> {
    /// Not expanded: the id.
    Id(String),
    /// Expanded: the object.
    Object(Box<T>),
}

impl<T: HasId> Expandable<T> {
    /// The id, expanded or not.
    pub fn id(&self) -> &str {
        match self {
            Expandable::Id(id) => id,
            Expandable::Object(o) => o.id(),
        }
    }

    /// The object, when expanded.
    pub fn as_object(&self) -> Option<&T> {
        match self {
            Expandable::Id(_) => None,
            Expandable::Object(o) => Some(o),
        }
    }
}

impl HasId for serde_json::Value {
    /// The `id` field of a JSON object (empty when absent).
    fn id(&self) -> &str {
        self.get("id").and_then(serde_json::Value::as_str).unwrap_or_default()
    }
}

/// One page of a list: `{"object": "list", "data": [...], "has_more", "url"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct List<T> {
    /// The page's objects.
    pub data: Vec<T>,
    /// Whether more objects follow this page.
    pub has_more: bool,
    /// The list's URL path.
    #[serde(default)]
    pub url: Option<String>,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        Self { data: Vec::new(), has_more: false, url: None }
    }
}

/// The answer to a `DELETE`: `{"id", "object", "deleted": true}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deleted {
    /// The deleted object's id.
    pub id: String,
    /// The deleted object's type.
    #[serde(default)]
    pub object: Option<String>,
    /// Always `true` on success.
    pub deleted: bool,
}

macro_rules! impl_has_id {
    ($($t:ty),*) => {$(
        impl HasId for $t {
            fn id(&self) -> &str {
                &self.id
            }
        }
    )*};
}
impl_has_id!(
    Account,
    Product,
    Price,
    Customer,
    Subscription,
    SubscriptionItem,
    Invoice,
    PaymentIntent,
    Charge,
    Refund,
    CheckoutSession,
    BillingPortalSession,
    WebhookEndpoint,
    Event,
    Deleted
);

/// Declares a string enum with an `Unknown` catch-all, so that values
/// Stripe adds later do not break decoding.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $value)] $variant,)*
            /// A value this client does not know yet.
            #[serde(other)]
            Unknown,
        }

        impl $name {
            /// The wire value (`"unknown"` for [`Self::Unknown`]).
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)*
                    Self::Unknown => "unknown",
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expandable_takes_ids_and_objects() {
        let id: Expandable<Customer> = serde_json::from_value(json!("cus_1")).unwrap();
        assert_eq!(id.id(), "cus_1");
        assert!(id.as_object().is_none());
        let obj: Expandable<Customer> = serde_json::from_value(json!({"id": "cus_2", "object": "customer"})).unwrap();
        assert_eq!(obj.id(), "cus_2");
        assert!(obj.as_object().is_some());
    }

    #[test]
    fn unknown_enum_values_and_fields_are_tolerated() {
        let sub: Subscription = serde_json::from_value(json!({
            "id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "some_future_status",
            "cancel_at_period_end": false, "items": {"object": "list", "data": [], "has_more": false},
            "brand_new_field": {"x": 1}
        }))
        .unwrap();
        assert_eq!(sub.status, SubscriptionStatus::Unknown);
        assert_eq!(sub.extra["brand_new_field"], json!({"x": 1}));
    }
}
