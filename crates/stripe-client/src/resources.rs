//! Typed methods per Stripe resource. Each is a thin wrapper over
//! [`StripeClient::request`]: it fixes the path and the response type.
//!
//! List methods return one page (pass `limit`, `starting_after` and filters
//! in the [`Form`]); `all_*` methods walk every page with a progress callback.

use crate::client::{RequestOptions, StripeClient, StripeResponse};
use crate::encode::Form;
use crate::error::StripeError;
use crate::models::{
    Account, BillingPortalSession, Charge, CheckoutSession, Customer, Deleted, Event, Invoice, List, PaymentIntent,
    Price, Product, Refund, Subscription, WebhookEndpoint,
};
use crate::pagination::PageProgress;

type Result<T> = std::result::Result<StripeResponse<T>, StripeError>;

/// `/v1/<collection>/<id><suffix>`, with the id percent-encoded so that an
/// id from user input cannot change the path.
fn path(collection: &str, id: &str, suffix: &str) -> String {
    let mut out = format!("/v1/{collection}/");
    for b in id.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out.push_str(suffix);
    out
}

const NO_PARAMS: &Form = &Form::EMPTY;

impl StripeClient {
    // --- account ---------------------------------------------------------

    /// `GET /v1/account`: the account the key belongs to.
    pub async fn retrieve_account(&self) -> Result<Account> {
        self.get("/v1/account", NO_PARAMS).await
    }

    // --- products --------------------------------------------------------

    /// `GET /v1/products` (one page; filters: `active`, `ids[]`…).
    pub async fn list_products(&self, params: &Form) -> Result<List<Product>> {
        self.get("/v1/products", params).await
    }

    /// `POST /v1/products`.
    pub async fn create_product(&self, params: &Form, opts: &RequestOptions) -> Result<Product> {
        self.post("/v1/products", params, opts).await
    }

    /// `GET /v1/products/{id}`.
    pub async fn retrieve_product(&self, id: &str) -> Result<Product> {
        self.get(&path("products", id, ""), NO_PARAMS).await
    }

    /// `POST /v1/products/{id}`.
    pub async fn update_product(&self, id: &str, params: &Form, opts: &RequestOptions) -> Result<Product> {
        self.post(&path("products", id, ""), params, opts).await
    }

    /// `DELETE /v1/products/{id}` (refused by Stripe while it has prices).
    pub async fn delete_product(&self, id: &str, opts: &RequestOptions) -> Result<Deleted> {
        self.delete(&path("products", id, ""), NO_PARAMS, opts).await
    }

    // --- prices ----------------------------------------------------------

    /// `GET /v1/prices` (one page; filters: `product`, `active`, `type`,
    /// `currency`, `lookup_keys[]`, `recurring[interval]`).
    pub async fn list_prices(&self, params: &Form) -> Result<List<Price>> {
        self.get("/v1/prices", params).await
    }

    /// `POST /v1/prices`.
    pub async fn create_price(&self, params: &Form, opts: &RequestOptions) -> Result<Price> {
        self.post("/v1/prices", params, opts).await
    }

    /// `GET /v1/prices/{id}`.
    pub async fn retrieve_price(&self, id: &str) -> Result<Price> {
        self.get(&path("prices", id, ""), NO_PARAMS).await
    }

    /// `POST /v1/prices/{id}` (`active`, `lookup_key`, `metadata`, `nickname`, `tax_behavior`).
    pub async fn update_price(&self, id: &str, params: &Form, opts: &RequestOptions) -> Result<Price> {
        self.post(&path("prices", id, ""), params, opts).await
    }

    // --- customers -------------------------------------------------------

    /// `GET /v1/customers` (one page; filter: `email`).
    pub async fn list_customers(&self, params: &Form) -> Result<List<Customer>> {
        self.get("/v1/customers", params).await
    }

    /// `GET /v1/customers/{id}`; a deleted customer comes back with `deleted: true`.
    pub async fn retrieve_customer(&self, id: &str) -> Result<Customer> {
        self.get(&path("customers", id, ""), NO_PARAMS).await
    }

    /// `POST /v1/customers`.
    pub async fn create_customer(&self, params: &Form, opts: &RequestOptions) -> Result<Customer> {
        self.post("/v1/customers", params, opts).await
    }

    /// `POST /v1/customers/{id}`.
    pub async fn update_customer(&self, id: &str, params: &Form, opts: &RequestOptions) -> Result<Customer> {
        self.post(&path("customers", id, ""), params, opts).await
    }

    /// `DELETE /v1/customers/{id}` (also cancels its subscriptions).
    pub async fn delete_customer(&self, id: &str, opts: &RequestOptions) -> Result<Deleted> {
        self.delete(&path("customers", id, ""), NO_PARAMS, opts).await
    }

    // --- subscriptions ---------------------------------------------------

    /// `GET /v1/subscriptions` (one page). Unless the caller says otherwise,
    /// asks for `status=all` (Stripe hides canceled ones by default, which
    /// a sync must see) and expands the items' prices.
    pub async fn list_subscriptions(&self, params: &Form) -> Result<List<Subscription>> {
        self.get("/v1/subscriptions", &subscription_list_defaults(params)).await
    }

    /// `POST /v1/subscriptions`.
    pub async fn create_subscription(&self, params: &Form, opts: &RequestOptions) -> Result<Subscription> {
        self.post("/v1/subscriptions", params, opts).await
    }

    /// `GET /v1/subscriptions/{id}`.
    pub async fn retrieve_subscription(&self, id: &str) -> Result<Subscription> {
        self.get(&path("subscriptions", id, ""), NO_PARAMS).await
    }

    /// `POST /v1/subscriptions/{id}` (`items`, `cancel_at_period_end`, `metadata`…).
    pub async fn update_subscription(&self, id: &str, params: &Form, opts: &RequestOptions) -> Result<Subscription> {
        self.post(&path("subscriptions", id, ""), params, opts).await
    }

    /// `DELETE /v1/subscriptions/{id}`: cancels now (`invoice_now`, `prorate`
    /// in `params`). To cancel at period end, update `cancel_at_period_end`.
    pub async fn cancel_subscription(&self, id: &str, params: &Form, opts: &RequestOptions) -> Result<Subscription> {
        self.delete(&path("subscriptions", id, ""), params, opts).await
    }

    // --- invoices --------------------------------------------------------

    /// `GET /v1/invoices` (one page; filters: `customer`, `subscription`, `status`).
    pub async fn list_invoices(&self, params: &Form) -> Result<List<Invoice>> {
        self.get("/v1/invoices", params).await
    }

    /// `GET /v1/invoices/{id}`.
    pub async fn retrieve_invoice(&self, id: &str) -> Result<Invoice> {
        self.get(&path("invoices", id, ""), NO_PARAMS).await
    }

    /// `POST /v1/invoices/{id}/pay`: attempts payment now (402 on a decline).
    pub async fn pay_invoice(&self, id: &str, params: &Form, opts: &RequestOptions) -> Result<Invoice> {
        self.post(&path("invoices", id, "/pay"), params, opts).await
    }

    // --- payments --------------------------------------------------------

    /// `GET /v1/payment_intents/{id}`.
    pub async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent> {
        self.get(&path("payment_intents", id, ""), NO_PARAMS).await
    }

    /// `GET /v1/charges` (one page; filters: `customer`, `payment_intent`).
    pub async fn list_charges(&self, params: &Form) -> Result<List<Charge>> {
        self.get("/v1/charges", params).await
    }

    /// `GET /v1/charges/{id}`.
    pub async fn retrieve_charge(&self, id: &str) -> Result<Charge> {
        self.get(&path("charges", id, ""), NO_PARAMS).await
    }

    /// `POST /v1/refunds` (`charge` or `payment_intent`, `amount`, `reason`).
    pub async fn create_refund(&self, params: &Form, opts: &RequestOptions) -> Result<Refund> {
        self.post("/v1/refunds", params, opts).await
    }

    /// `GET /v1/refunds` (one page; filters: `charge`, `payment_intent`).
    pub async fn list_refunds(&self, params: &Form) -> Result<List<Refund>> {
        self.get("/v1/refunds", params).await
    }

    // --- checkout and portal ---------------------------------------------

    /// `POST /v1/checkout/sessions`.
    pub async fn create_checkout_session(&self, params: &Form, opts: &RequestOptions) -> Result<CheckoutSession> {
        self.post("/v1/checkout/sessions", params, opts).await
    }

    /// `GET /v1/checkout/sessions/{id}`.
    pub async fn retrieve_checkout_session(&self, id: &str) -> Result<CheckoutSession> {
        self.get(&path("checkout/sessions", id, ""), NO_PARAMS).await
    }

    /// `POST /v1/checkout/sessions/{id}/expire`.
    pub async fn expire_checkout_session(&self, id: &str, opts: &RequestOptions) -> Result<CheckoutSession> {
        self.post(&path("checkout/sessions", id, "/expire"), NO_PARAMS, opts).await
    }

    /// `POST /v1/billing_portal/sessions` (`customer`, `return_url`).
    pub async fn create_billing_portal_session(
        &self,
        params: &Form,
        opts: &RequestOptions,
    ) -> Result<BillingPortalSession> {
        self.post("/v1/billing_portal/sessions", params, opts).await
    }

    // --- webhook endpoints and events -----------------------------------

    /// `GET /v1/webhook_endpoints` (one page).
    pub async fn list_webhook_endpoints(&self, params: &Form) -> Result<List<WebhookEndpoint>> {
        self.get("/v1/webhook_endpoints", params).await
    }

    /// `POST /v1/webhook_endpoints`: the response is the only one with `secret`.
    pub async fn create_webhook_endpoint(&self, params: &Form, opts: &RequestOptions) -> Result<WebhookEndpoint> {
        self.post("/v1/webhook_endpoints", params, opts).await
    }

    /// `POST /v1/webhook_endpoints/{id}`.
    pub async fn update_webhook_endpoint(
        &self,
        id: &str,
        params: &Form,
        opts: &RequestOptions,
    ) -> Result<WebhookEndpoint> {
        self.post(&path("webhook_endpoints", id, ""), params, opts).await
    }

    /// `DELETE /v1/webhook_endpoints/{id}`.
    pub async fn delete_webhook_endpoint(&self, id: &str, opts: &RequestOptions) -> Result<Deleted> {
        self.delete(&path("webhook_endpoints", id, ""), NO_PARAMS, opts).await
    }

    /// `GET /v1/events` (one page; filters: `type`, `types[]`, `created[gte]`…).
    pub async fn list_events(&self, params: &Form) -> Result<List<Event>> {
        self.get("/v1/events", params).await
    }

    /// `GET /v1/events/{id}`.
    pub async fn retrieve_event(&self, id: &str) -> Result<Event> {
        self.get(&path("events", id, ""), NO_PARAMS).await
    }
}

fn subscription_list_defaults(params: &Form) -> Form {
    let mut params = params.clone();
    if !params.contains("status") {
        params.insert("status", "all");
    }
    if !params.contains("expand") {
        params.insert("expand", vec!["data.items.data.price"]);
    }
    params
}

/// Every-page variants, for syncs (100 objects per request).
macro_rules! all_pages {
    ($($(#[$doc:meta])* $name:ident => $path:literal, $ty:ty, $defaults:expr;)*) => {
        impl StripeClient {
            $(
                $(#[$doc])*
                pub async fn $name(
                    &self,
                    filters: &Form,
                    on_page: impl FnMut(&PageProgress),
                ) -> std::result::Result<Vec<$ty>, StripeError> {
                    let defaults: fn(&Form) -> Form = $defaults;
                    self.list_all($path, defaults(filters), on_page).await
                }
            )*
        }
    };
}

all_pages! {
    /// Every product matching `filters`.
    all_products => "/v1/products", Product, Form::clone;
    /// Every price matching `filters`.
    all_prices => "/v1/prices", Price, Form::clone;
    /// Every customer matching `filters`.
    all_customers => "/v1/customers", Customer, Form::clone;
    /// Every subscription matching `filters` (canceled ones included unless `status` is given).
    all_subscriptions => "/v1/subscriptions", Subscription, subscription_list_defaults;
    /// Every invoice matching `filters`.
    all_invoices => "/v1/invoices", Invoice, Form::clone;
    /// Every charge matching `filters`.
    all_charges => "/v1/charges", Charge, Form::clone;
    /// Every refund matching `filters`.
    all_refunds => "/v1/refunds", Refund, Form::clone;
    /// Every webhook endpoint.
    all_webhook_endpoints => "/v1/webhook_endpoints", WebhookEndpoint, Form::clone;
    /// Every event matching `filters` (Stripe keeps 30 days).
    all_events => "/v1/events", Event, Form::clone;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_escape_their_path_segment() {
        assert_eq!(path("products", "prod_1", ""), "/v1/products/prod_1");
        assert_eq!(path("products", "../account", ""), "/v1/products/..%2Faccount");
        assert_eq!(path("invoices", "in_1?x=1", "/pay"), "/v1/invoices/in_1%3Fx%3D1/pay");
    }

    #[test]
    fn subscription_lists_default_to_all_statuses() {
        let p = subscription_list_defaults(&Form::new());
        assert_eq!(p.encode(), "status=all&expand[]=data.items.data.price");
        let p = subscription_list_defaults(&Form::new().set("status", "active"));
        assert!(p.encode().starts_with("status=active"));
    }
}
