//! Stripe customers and subscriptions as mirror rows (API shapes of 2025+: billing periods on
//! the items).

use serde_json::Value;

use crate::error::EngineResult;
use crate::store::mirror::{CustomerRecord, ItemRecord, SubscriptionRecord};
use crate::stripe::{id_field, metadata_of, str_field};

/// Stripe seconds → the tables' milliseconds.
pub(crate) fn secs_ms(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64).map(|s| s * 1000)
}

pub(crate) const SUBJECT_TYPE_KEY: &str = "insforge_subject_type";
pub(crate) const SUBJECT_ID_KEY: &str = "insforge_subject_id";

/// `insforge_subject_type` + `insforge_subject_id` of a metadata object, when both are set.
pub(crate) fn subject_in_metadata(metadata: Option<&Value>) -> Option<(String, String)> {
    let m = metadata?;
    let t = m.get(SUBJECT_TYPE_KEY).and_then(Value::as_str).filter(|s| !s.is_empty())?;
    let i = m.get(SUBJECT_ID_KEY).and_then(Value::as_str).filter(|s| !s.is_empty())?;
    Some((t.to_owned(), i.to_owned()))
}

pub(crate) fn customer_record(v: &Value) -> Option<CustomerRecord> {
    Some(CustomerRecord {
        stripe_customer_id: str_field(v, "id")?,
        email: str_field(v, "email"),
        name: str_field(v, "name"),
        phone: str_field(v, "phone"),
        metadata: metadata_of(v),
        raw: v.to_string(),
        stripe_created_at: secs_ms(v, "created"),
        deleted: v.get("deleted").and_then(Value::as_bool).unwrap_or(false),
    })
}

pub(crate) fn item_record(v: &Value) -> Option<ItemRecord> {
    let price = v.get("price");
    Some(ItemRecord {
        stripe_subscription_item_id: str_field(v, "id")?,
        stripe_price_id: price.and_then(|p| match p {
            Value::String(s) => Some(s.clone()),
            other => str_field(other, "id"),
        }),
        stripe_product_id: price.and_then(|p| id_field(p, "product")),
        quantity: v.get("quantity").and_then(Value::as_i64),
        metadata: metadata_of(v),
        raw: v.to_string(),
    })
}

/// The embedded items of a subscription, and whether Stripe cut the list short.
pub(crate) fn embedded_items(v: &Value) -> (Vec<Value>, bool) {
    let items = v.pointer("/items/data").and_then(Value::as_array).cloned().unwrap_or_default();
    let more = v.pointer("/items/has_more").and_then(Value::as_bool).unwrap_or(false);
    (items, more)
}

/// A subscription row; `None` without a customer (the reference skips those).
pub(crate) fn subscription_record(
    v: &Value,
    items: &[Value],
    subject: Option<(String, String)>,
) -> EngineResult<Option<SubscriptionRecord>> {
    let (Some(id), Some(customer)) = (str_field(v, "id"), id_field(v, "customer")) else {
        return Ok(None);
    };
    let starts: Vec<i64> = items.iter().filter_map(|i| secs_ms(i, "current_period_start")).collect();
    let ends: Vec<i64> = items.iter().filter_map(|i| secs_ms(i, "current_period_end")).collect();
    Ok(Some(SubscriptionRecord {
        stripe_subscription_id: id,
        stripe_customer_id: customer,
        subject,
        status: str_field(v, "status").unwrap_or_else(|| payments_model::SubscriptionStatus::Incomplete.to_string()),
        current_period_start: starts.iter().min().copied().or_else(|| secs_ms(v, "current_period_start")),
        current_period_end: ends.iter().max().copied().or_else(|| secs_ms(v, "current_period_end")),
        cancel_at_period_end: v.get("cancel_at_period_end").and_then(Value::as_bool).unwrap_or(false),
        cancel_at: secs_ms(v, "cancel_at"),
        canceled_at: secs_ms(v, "canceled_at"),
        trial_start: secs_ms(v, "trial_start"),
        trial_end: secs_ms(v, "trial_end"),
        latest_invoice_id: id_field(v, "latest_invoice"),
        metadata: metadata_of(v),
        raw: v.to_string(),
        items: items.iter().filter_map(item_record).collect(),
    }))
}
