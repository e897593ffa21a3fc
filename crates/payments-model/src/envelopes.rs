//! The bodies that wrap a route's answer under one key (`{"product": …}`,
//! `{"subscriptions": […], "nextCursor": …}`): one struct per key, so the engine that writes
//! them and the clients that read them name the key in one place.
//!
//! The engine sends these bodies through `serde_json::Value`, as it always has: its maps sort
//! their keys, so on the wire every object's keys are in alphabetical order, not in the order
//! the structs declare them. The wire tests pin those bytes.

use serde::{Deserialize, Deserializer, Serialize};

use crate::contract::{Price, Product, WebhookEvent};
use crate::lists::{CustomerListItem, HistorySummary, Page, PaymentHistory, StatusCount, Subscription};
use crate::overview::Overview;
use crate::paging::Cursor;
use crate::refunds::Refund;
use crate::sessions::{CheckoutSession, CustomerPortalSession};
use crate::values::{ErrorCode, SubscriptionStatus};

#[cfg(test)]
mod wire_tests;

/// The error envelope every payments route answers a failure with (contract/BEHAVIOUR.md §1.3):
/// `{"error", "message", "statusCode", "nextActions"?}`. A client reads it leniently: another
/// backend's body that lacks a field still reads, with the field's default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The code (`INVALID_INPUT`, `PAYMENT_CONFIG_INVALID`, `AUTH_UNAUTHORIZED`…).
    #[serde(default = "unknown_code")]
    pub error: ErrorCode,
    /// For people: what went wrong, and often what to do.
    #[serde(default)]
    pub message: String,
    /// The HTTP status, repeated in the body.
    #[serde(default)]
    pub status_code: u16,
    /// Advice for the caller (the unknown-route answer has it); absent when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_actions: Option<String>,
}

fn unknown_code() -> ErrorCode {
    ErrorCode::Unknown("UNKNOWN".to_owned())
}

/// `MutatePaymentProductResponse`, `{"product": …}`: a product created or updated (routes (13)
/// and (14)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductEnvelope {
    /// The product after the change.
    pub product: Product,
}

/// `ListPaymentProductsResponse`, `{"products": […]}` (route (11)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductsEnvelope {
    /// Ordered by name, id.
    pub products: Vec<Product>,
}

/// `GetPaymentPriceResponse` and `MutatePaymentPriceResponse`, `{"price": …}`: one price, read,
/// created or updated (routes (17)–(19)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceEnvelope {
    /// The price.
    pub price: Price,
}

/// `ListPaymentPricesResponse`, `{"prices": […]}`: of one product or all (route (16)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricesEnvelope {
    /// Ordered by product id, price id.
    pub prices: Vec<Price>,
}

/// `{"refund": …}`: the refund Stripe created (additive route `POST /{env}/refunds`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundEnvelope {
    /// The refund.
    pub refund: Refund,
}

/// `CreateCheckoutSessionResponse`, `{"checkoutSession": …}`: a Checkout Session created for an
/// application user (route (4)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutSessionEnvelope {
    /// The session.
    pub checkout_session: CheckoutSession,
}

/// `CreateCustomerPortalSessionResponse`, `{"customerPortalSession": …}` (route (5)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerPortalSessionEnvelope {
    /// The session.
    pub customer_portal_session: CustomerPortalSession,
}

/// `{"summary": …}`: a payment-history view's chart and status counts (additive route
/// `GET /{env}/payment-history/summary`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistorySummaryEnvelope {
    /// The summary.
    pub summary: HistorySummary,
}

/// `{"summary": […]}`: subscriptions by status (additive route `GET /{env}/subscriptions/summary`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusSummaryEnvelope {
    /// Most frequent first.
    pub summary: Vec<StatusCount<SubscriptionStatus>>,
}

/// `{"overview": …}`: an environment at a glance (additive route `GET /{env}/overview`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewEnvelope {
    /// The figures.
    pub overview: Overview,
}

/// A `nextCursor` as read: a non-empty string is the next page's cursor; anything else (`null`,
/// `""`, or a value another backend might send) ends the list, as the console has always read it.
#[derive(Deserialize)]
#[serde(untagged)]
enum NextCursor {
    Next(Cursor),
    End(serde::de::IgnoredAny),
}

/// Reads a `nextCursor` that is in the body as `Some`; a body without one gets the field's
/// default, `None`. Plain `Option` would read `null` as absent, and the body would not
/// serialise back as it came.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Cursor>>, D::Error> {
    Ok(Some(match NextCursor::deserialize(d)? {
        NextCursor::Next(cursor) => Some(cursor),
        NextCursor::End(_) => None,
    }))
}

/// Declares the body of a list route: its rows under the route's key, and `nextCursor` (additive)
/// only when the caller asked for pages, so a contract client sees the contract's body.
macro_rules! list_page {
    ($(#[$doc:meta])* $name:ident { $key:ident: $row:ty }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// The rows.
            pub $key: Vec<$row>,
            /// `None`: no `nextCursor` key (the caller did not ask for pages); `Some(None)`:
            /// `null`, the last page; `Some(Some(c))`: the next page's cursor.
            #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
            pub next_cursor: Option<Option<Cursor>>,
        }

        impl $name {
            /// The body of `page`: with its cursor (`null` on the last page) when `paged`, else
            /// without `nextCursor` whatever the page holds.
            pub fn new(page: Page<$row>, paged: bool) -> Self {
                $name { $key: page.items, next_cursor: paged.then_some(page.next_cursor) }
            }
        }

        impl From<$name> for Page<$row> {
            /// The rows, and the next page's cursor if there is one.
            fn from(body: $name) -> Self {
                Page { items: body.$key, next_cursor: body.next_cursor.flatten() }
            }
        }
    };
}

list_page! {
    /// `ListSubscriptionsResponse`, `{"subscriptions": […]}`, plus `nextCursor` (route (22)).
    SubscriptionsPage { subscriptions: Subscription }
}

list_page! {
    /// `ListPaymentHistoryResponse`, `{"paymentHistory": […]}`, plus `nextCursor` (route (21)).
    PaymentHistoryPage { payment_history: PaymentHistory }
}

list_page! {
    /// `ListPaymentCustomersResponse`, `{"customers": […]}`, plus `nextCursor` (route (23)).
    CustomersPage { customers: CustomerListItem }
}

list_page! {
    /// `{"webhookEvents": […], "nextCursor": …}` (additive route `GET /{env}/webhook-events`,
    /// which always pages).
    WebhookEventsPage { webhook_events: WebhookEvent }
}
