//! The engine's use of Stripe: building clients, and turning Stripe objects into mirror rows.
//!
//! Calls go through `StripeClient::request` with `serde_json::Value` bodies (the client has no
//! typed models): the full object is stored as `raw`, and the engine reads the fields it needs.

use std::sync::Arc;

use serde_json::Value;
use stripe_client::{
    ClientConfig, Form, Method, RequestBudget, RequestOptions, SecretKey, StripeClient, StripeError,
    STRIPE_TEST_MODE_RATE,
};
use zeroize::Zeroizing;

use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};
use crate::model::Metadata;
use crate::store::catalog::{PriceRecord, ProductRecord};
use crate::store::connections::{AccountIdentity, WebhookInfo};

/// The events the managed webhook endpoint subscribes to: the contract's 20
/// (`contract/BEHAVIOUR.md` §7.1) and `invoice_payment.paid`, which names the PaymentIntent that
/// paid an invoice (Stripe's invoice events stopped carrying it in API version 2025-03-31);
/// without it a refund of a subscription payment would find no original.
pub const MANAGED_WEBHOOK_EVENTS: [&str; 21] = [
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice_payment.paid",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
];

/// Builds a client for one key. Its budget is the key's, shared by every client of that key in
/// the process (`RequestBudget::for_key`), so that all calls to one account together stay
/// under Stripe's limit. `budget` carries the configured test-mode rate; a live key gets it
/// scaled by Stripe's live/test ratio (25 → 100 requests/s).
pub(crate) fn client(api_base: &str, key: &str, budget: &Arc<RequestBudget>) -> EngineResult<StripeClient> {
    let key = SecretKey::new(key);
    let rate = budget.rate() * RequestBudget::stripe_rate(&key) / STRIPE_TEST_MODE_RATE;
    StripeClient::new(ClientConfig::new(key).api_base(api_base).requests_per_second(rate))
        .map_err(|e| EngineError::Internal(format!("building the Stripe client: {e}")))
}

async fn call(
    client: &StripeClient,
    method: Method,
    path: &str,
    form: &Form,
    opts: &RequestOptions,
) -> Result<Value, StripeError> {
    let endpoint = format!("{method} {path}");
    match client.request::<Value>(method, path, form, opts).await {
        Ok(resp) => {
            crate::audit::note_stripe_call(endpoint, resp.request_id.clone(), resp.idempotency_key.clone());
            Ok(resp.into_inner())
        }
        Err(e) => {
            crate::audit::note_stripe_call(endpoint, e.request_id().map(str::to_owned), opts.idempotency_key.clone());
            Err(e)
        }
    }
}

/// [`call`] for the engine's other modules.
pub(crate) async fn request(
    client: &StripeClient,
    method: Method,
    path: &str,
    form: &Form,
    opts: &RequestOptions,
) -> Result<Value, StripeError> {
    call(client, method, path, form, opts).await
}

/// `/v1/<collection>/<id>` for the engine's other modules.
pub(crate) fn path_of(collection: &str, id: &str) -> String {
    object_path(collection, id)
}

/// `/v1/<collection>/<id>` with the id percent-encoded: an id from a URL cannot change the path.
fn object_path(collection: &str, id: &str) -> String {
    let mut out = format!("/v1/{collection}/");
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET /v1/account`.
pub(crate) async fn retrieve_account(client: &StripeClient) -> Result<AccountIdentity, StripeError> {
    let account = call(client, Method::GET, "/v1/account", &Form::new(), &RequestOptions::NONE).await?;
    Ok(AccountIdentity {
        id: str_field(&account, "id").unwrap_or_default(),
        email: str_field(&account, "email"),
        raw: account.to_string(),
    })
}

/// `POST /v1/products`.
pub(crate) async fn create_product(
    client: &StripeClient,
    form: &Form,
    opts: &RequestOptions,
) -> Result<Value, StripeError> {
    call(client, Method::POST, "/v1/products", form, opts).await
}

/// `POST /v1/products/{id}`.
pub(crate) async fn update_product(client: &StripeClient, id: &str, form: &Form) -> Result<Value, StripeError> {
    call(client, Method::POST, &object_path("products", id), form, &RequestOptions::NONE).await
}

/// `DELETE /v1/products/{id}`; returns Stripe's `deleted` flag.
pub(crate) async fn delete_product(client: &StripeClient, id: &str) -> Result<bool, StripeError> {
    let v = call(client, Method::DELETE, &object_path("products", id), &Form::new(), &RequestOptions::NONE).await?;
    Ok(v.get("deleted").and_then(Value::as_bool).unwrap_or(false))
}

/// `POST /v1/prices`.
pub(crate) async fn create_price(
    client: &StripeClient,
    form: &Form,
    opts: &RequestOptions,
) -> Result<Value, StripeError> {
    call(client, Method::POST, "/v1/prices", form, opts).await
}

/// `POST /v1/prices/{id}`.
pub(crate) async fn update_price(client: &StripeClient, id: &str, form: &Form) -> Result<Value, StripeError> {
    call(client, Method::POST, &object_path("prices", id), form, &RequestOptions::NONE).await
}

fn is_managed(endpoint: &Value, env: Environment) -> bool {
    let meta = |k: &str| endpoint.pointer(&format!("/metadata/{k}")).and_then(Value::as_str);
    meta("managed_by") == Some("insforge")
        && meta("insforge_webhook") == Some("stripe_payments")
        && meta("insforge_environment") == Some(env.as_str())
}

/// Deletes the engine-managed webhook endpoints of `env`. Per-endpoint failures are logged and
/// skipped; a failure to list them is returned.
pub(crate) async fn delete_managed_webhooks(client: &StripeClient, env: Environment) -> Result<(), StripeError> {
    let endpoints = client.list_all::<Value>("/v1/webhook_endpoints", Form::new(), |_| {}).await?;
    for endpoint in endpoints.iter().filter(|e| is_managed(e, env)) {
        let id = str_field(endpoint, "id").unwrap_or_default();
        let path = object_path("webhook_endpoints", &id);
        if let Err(e) = call(client, Method::DELETE, &path, &Form::new(), &RequestOptions::NONE).await {
            tracing::warn!(environment = %env, endpoint = %id, error = %e, "could not delete a managed Stripe webhook endpoint");
        }
    }
    Ok(())
}

/// Recreates the managed webhook endpoint (`contract/BEHAVIOUR.md` §7.1): deletes the old managed
/// ones, creates a new one for `url`, and returns it with its signing secret (only ever sent on
/// creation).
pub(crate) async fn recreate_managed_webhook(
    client: &StripeClient,
    env: Environment,
    url: &str,
) -> EngineResult<(WebhookInfo, Zeroizing<String>)> {
    delete_managed_webhooks(client, env).await?;
    let path = format!("/api/webhooks/stripe/{env}");
    let mut meta = Metadata::new();
    meta.insert("managed_by".into(), "insforge".into());
    meta.insert("insforge_webhook".into(), "stripe_payments".into());
    meta.insert("insforge_environment".into(), env.as_str().into());
    meta.insert("insforge_endpoint_path".into(), path);
    meta.insert("insforge_endpoint_url".into(), url.into());
    let form = Form::new()
        .set("url", url)
        .set("enabled_events", MANAGED_WEBHOOK_EVENTS.to_vec())
        // Events must have the shapes the engine's parsers were written for.
        .set("api_version", stripe_client::STRIPE_VERSION)
        .set("metadata", meta);
    let endpoint = call(client, Method::POST, "/v1/webhook_endpoints", &form, &RequestOptions::NONE).await?;
    let secret = str_field(&endpoint, "secret").map(Zeroizing::new).ok_or_else(|| {
        // `contract/BEHAVIOUR.md` §7.1 (d): a plain error in the reference, i.e. 500
        // `INTERNAL_ERROR` with this message.
        EngineError::ServerMessage("Stripe did not return a webhook signing secret for the managed endpoint".into())
    })?;
    let info = WebhookInfo {
        id: str_field(&endpoint, "id").unwrap_or_default(),
        url: str_field(&endpoint, "url").unwrap_or_else(|| url.to_owned()),
    };
    Ok((info, secret))
}

pub(crate) fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

pub(crate) fn metadata_of(v: &Value) -> Metadata {
    v.get("metadata")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned()))).collect())
        .unwrap_or_default()
}

/// The id of a field that holds an id or, when expanded, an object.
pub(crate) fn id_field(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

fn malformed(kind: &str) -> EngineError {
    EngineError::Internal(format!("Stripe returned a malformed {kind} object"))
}

/// A Stripe product as a mirror row.
pub(crate) fn product_record(v: &Value) -> EngineResult<ProductRecord> {
    Ok(ProductRecord {
        stripe_product_id: str_field(v, "id").ok_or_else(|| malformed("product"))?,
        name: str_field(v, "name").unwrap_or_default(),
        description: str_field(v, "description"),
        active: v.get("active").and_then(Value::as_bool).unwrap_or(false),
        default_price_id: id_field(v, "default_price"),
        metadata: metadata_of(v),
        raw: v.to_string(),
    })
}

/// A Stripe price as a mirror row.
pub(crate) fn price_record(v: &Value) -> EngineResult<PriceRecord> {
    let recurring = v.get("recurring").filter(|r| r.is_object());
    Ok(PriceRecord {
        stripe_price_id: str_field(v, "id").ok_or_else(|| malformed("price"))?,
        stripe_product_id: id_field(v, "product"),
        active: v.get("active").and_then(Value::as_bool).unwrap_or(false),
        currency: str_field(v, "currency").unwrap_or_default().to_ascii_lowercase(),
        unit_amount: v.get("unit_amount").and_then(Value::as_i64),
        unit_amount_decimal: match v.get("unit_amount_decimal") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        },
        price_type: str_field(v, "type").unwrap_or_else(|| payments_model::PriceType::OneTime.to_string()),
        lookup_key: str_field(v, "lookup_key"),
        billing_scheme: str_field(v, "billing_scheme"),
        tax_behavior: str_field(v, "tax_behavior"),
        recurring_interval: recurring.and_then(|r| str_field(r, "interval")),
        recurring_interval_count: recurring.and_then(|r| r.get("interval_count")).and_then(Value::as_i64),
        metadata: metadata_of(v),
        raw: v.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_stay_in_their_segment() {
        assert_eq!(object_path("products", "prod_1"), "/v1/products/prod_1");
        assert_eq!(object_path("products", "../account"), "/v1/products/..%2Faccount");
    }

    #[test]
    fn prices_map_to_rows() {
        let p = price_record(&json!({
            "id": "price_1", "product": {"id": "prod_1"}, "active": true, "currency": "USD",
            "unit_amount": 900, "unit_amount_decimal": "900", "type": "recurring",
            "recurring": {"interval": "month", "interval_count": 3}, "metadata": {"a": "b"}
        }))
        .unwrap();
        assert_eq!(p.stripe_product_id.as_deref(), Some("prod_1"));
        assert_eq!(p.currency, "usd");
        assert_eq!((p.recurring_interval.as_deref(), p.recurring_interval_count), (Some("month"), Some(3)));
        assert_eq!(p.metadata["a"], "b");
        assert!(price_record(&json!({"object": "price"})).is_err());
    }
}
