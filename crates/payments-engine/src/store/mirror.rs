//! Customers, subscriptions and their items: written by sync and by webhooks, both through
//! the ordering guard (`source_version`, see `migrations/20261125000003_payments_part_b.sql`).

use sqlx::{AnyConnection, Row};

use crate::environment::Environment;
use crate::error::EngineResult;
use crate::model::Metadata;
use crate::store::{flag, new_id, rollups};
use crate::time::now_ms;

/// A Stripe customer as a mirror row.
#[derive(Debug, Clone)]
pub(crate) struct CustomerRecord {
    pub stripe_customer_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub metadata: Metadata,
    pub raw: String,
    pub stripe_created_at: Option<i64>,
    /// A tombstone (`deleted: true`).
    pub deleted: bool,
}

/// A Stripe subscription item as a mirror row.
#[derive(Debug, Clone)]
pub(crate) struct ItemRecord {
    pub stripe_subscription_item_id: String,
    pub stripe_product_id: Option<String>,
    pub stripe_price_id: Option<String>,
    pub quantity: Option<i64>,
    pub metadata: Metadata,
    pub raw: String,
}

/// A Stripe subscription as a mirror row (subject already resolved).
#[derive(Debug, Clone)]
pub(crate) struct SubscriptionRecord {
    pub stripe_subscription_id: String,
    pub stripe_customer_id: String,
    pub subject: Option<(String, String)>,
    pub status: String,
    pub current_period_start: Option<i64>,
    pub current_period_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub cancel_at: Option<i64>,
    pub canceled_at: Option<i64>,
    pub trial_start: Option<i64>,
    pub trial_end: Option<i64>,
    pub latest_invoice_id: Option<String>,
    pub metadata: Metadata,
    pub raw: String,
    pub items: Vec<ItemRecord>,
}

pub(crate) fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".to_owned())
}

/// A customer event names its default payment method by id only, where the sync expands it
/// (brand, last four, expiry: what the console shows of a card). Keeps the card already
/// mirrored when the event names the same payment method, so a `customer.updated` does not
/// blank the card out until the next sync. One read by the customers' unique key.
pub(crate) async fn keep_expanded_card(
    conn: &mut AnyConnection,
    env: Environment,
    mut c: CustomerRecord,
) -> EngineResult<CustomerRecord> {
    const CARD: &str = "/invoice_settings/default_payment_method";
    let Ok(mut raw) = serde_json::from_str::<serde_json::Value>(&c.raw) else { return Ok(c) };
    let Some(named) = raw.pointer(CARD).and_then(serde_json::Value::as_str).map(str::to_owned) else { return Ok(c) };
    let old: Option<String> =
        sqlx::query_scalar("SELECT raw FROM payments_customers WHERE environment = $1 AND stripe_customer_id = $2")
            .bind(env.as_str())
            .bind(&c.stripe_customer_id)
            .fetch_optional(&mut *conn)
            .await?;
    let old = old.and_then(|o| serde_json::from_str::<serde_json::Value>(&o).ok());
    let expanded =
        old.as_ref().and_then(|o| o.pointer(CARD)).filter(|pm| pm.get("id").and_then(|i| i.as_str()) == Some(&named));
    if let (Some(expanded), Some(slot)) = (expanded, raw.pointer_mut(CARD)) {
        *slot = expanded.clone();
        c.raw = raw.to_string();
    }
    Ok(c)
}

/// Inserts or overwrites a customer (`deleted = false`) unless the row holds newer state.
/// Returns whether it was written.
pub(crate) async fn upsert_customer(
    conn: &mut AnyConnection,
    env: Environment,
    c: &CustomerRecord,
    version: i64,
    synced_at: i64,
) -> EngineResult<bool> {
    let done = sqlx::query(
        "INSERT INTO payments_customers (id, environment, stripe_customer_id, email, name, phone, deleted, metadata,
             raw, stripe_created_at, synced_at, created_at, updated_at, source_version)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, $11, $11, $12)
         ON CONFLICT (environment, stripe_customer_id) DO UPDATE SET
             email = excluded.email, name = excluded.name, phone = excluded.phone, deleted = 0,
             metadata = excluded.metadata, raw = excluded.raw, stripe_created_at = excluded.stripe_created_at,
             synced_at = excluded.synced_at, updated_at = excluded.updated_at, source_version = excluded.source_version
         WHERE COALESCE(payments_customers.source_version, 0) <= excluded.source_version",
    )
    .bind(new_id())
    .bind(env.as_str())
    .bind(&c.stripe_customer_id)
    .bind(c.email.as_deref())
    .bind(c.name.as_deref())
    .bind(c.phone.as_deref())
    .bind(json_text(&c.metadata))
    .bind(&c.raw)
    .bind(c.stripe_created_at)
    .bind(synced_at)
    .bind(now_ms())
    .bind(version)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// `customer.deleted`: marks the customer deleted, keeping its details (inserting a tombstone
/// when it was never mirrored).
pub(crate) async fn mark_customer_deleted(
    conn: &mut AnyConnection,
    env: Environment,
    c: &CustomerRecord,
    version: i64,
) -> EngineResult<bool> {
    let now = now_ms().max(version * 1000);
    let done = sqlx::query(
        "INSERT INTO payments_customers (id, environment, stripe_customer_id, email, name, phone, deleted, metadata,
             raw, stripe_created_at, synced_at, created_at, updated_at, source_version)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9, $10, $10, $10, $11)
         ON CONFLICT (environment, stripe_customer_id) DO UPDATE SET
             deleted = 1, stripe_created_at = COALESCE(payments_customers.stripe_created_at, excluded.stripe_created_at),
             synced_at = excluded.synced_at, updated_at = excluded.updated_at, source_version = excluded.source_version
         WHERE COALESCE(payments_customers.source_version, 0) <= excluded.source_version",
    )
    .bind(new_id())
    .bind(env.as_str())
    .bind(&c.stripe_customer_id)
    .bind(c.email.as_deref())
    .bind(c.name.as_deref())
    .bind(c.phone.as_deref())
    .bind(json_text(&c.metadata))
    .bind(&c.raw)
    .bind(c.stripe_created_at)
    .bind(now)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Sync: soft-deletes the customers this sync did not see (`synced_at` older than the sync),
/// except those a newer event wrote meanwhile. The tombstone takes the sync's version, so an
/// older event delivered late cannot bring the customer back. Returns how many.
///
/// Versions are whole seconds, so a row written by an earlier sync or event in the same second
/// ties with this sync's version; `synced_at < $1` already proves this sync did not see it, so
/// a tie is deleted (only a strictly newer event wins).
pub(crate) async fn soft_delete_unseen_customers(
    conn: &mut AnyConnection,
    env: Environment,
    synced_at: i64,
    version: i64,
) -> EngineResult<u64> {
    let done = sqlx::query(
        "UPDATE payments_customers SET deleted = 1, synced_at = $1, updated_at = $1, source_version = $3
         WHERE environment = $2 AND deleted = 0 AND synced_at < $1 AND COALESCE(source_version, 0) <= $3",
    )
    .bind(synced_at)
    .bind(env.as_str())
    .bind(version)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// The subject mapped to a Stripe customer, if any.
pub(crate) async fn subject_of_customer(
    conn: &mut AnyConnection,
    env: Environment,
    customer: &str,
) -> EngineResult<Option<(String, String)>> {
    let row = sqlx::query(
        "SELECT subject_type, subject_id FROM payments_customer_mappings WHERE environment = $1 AND stripe_customer_id = $2",
    )
    .bind(env.as_str())
    .bind(customer)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => Some((r.try_get("subject_type")?, r.try_get("subject_id")?)),
        None => None,
    })
}

/// The Stripe customer mapped to a subject, if any (checkout and portal routes).
pub(crate) async fn customer_of_subject(
    conn: &mut AnyConnection,
    env: Environment,
    subject_type: &str,
    subject_id: &str,
) -> EngineResult<Option<String>> {
    let row = sqlx::query(
        "SELECT stripe_customer_id FROM payments_customer_mappings
         WHERE environment = $1 AND subject_type = $2 AND subject_id = $3",
    )
    .bind(env.as_str())
    .bind(subject_type)
    .bind(subject_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => Some(r.try_get("stripe_customer_id")?),
        None => None,
    })
}

/// Maps `subject` to `customer`. A customer already mapped to another subject is re-pointed
/// to this one (the latest checkout wins) instead of failing on the unique constraint, which
/// would make the webhook fail forever (InsForge's shortcoming, `contract/BEHAVIOUR.md` §4).
/// Returns whether a row changed.
pub(crate) async fn upsert_mapping(
    conn: &mut AnyConnection,
    env: Environment,
    subject_type: &str,
    subject_id: &str,
    customer: &str,
) -> EngineResult<bool> {
    let now = now_ms();
    sqlx::query(
        "DELETE FROM payments_customer_mappings WHERE environment = $1 AND stripe_customer_id = $2
             AND NOT (subject_type = $3 AND subject_id = $4)",
    )
    .bind(env.as_str())
    .bind(customer)
    .bind(subject_type)
    .bind(subject_id)
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query(
        "INSERT INTO payments_customer_mappings (id, environment, subject_type, subject_id, stripe_customer_id,
             created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (environment, subject_type, subject_id) DO UPDATE SET
             stripe_customer_id = excluded.stripe_customer_id, updated_at = excluded.updated_at",
    )
    .bind(new_id())
    .bind(env.as_str())
    .bind(subject_type)
    .bind(subject_id)
    .bind(customer)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Maps `subject` to `customer` only when neither is mapped yet (the backfill's rule: a mapping
/// recovered from Stripe's history never re-points one the engine holds). Whether it wrote one.
pub(crate) async fn insert_mapping_if_absent(
    conn: &mut AnyConnection,
    env: Environment,
    subject_type: &str,
    subject_id: &str,
    customer: &str,
) -> EngineResult<bool> {
    let now = now_ms();
    // Without a conflict target, a conflict on either unique key (subject, or customer) skips.
    let done = sqlx::query(
        "INSERT INTO payments_customer_mappings (id, environment, subject_type, subject_id, stripe_customer_id,
             created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT DO NOTHING",
    )
    .bind(new_id())
    .bind(env.as_str())
    .bind(subject_type)
    .bind(subject_id)
    .bind(customer)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// `customer.deleted`: drops the customer's mappings.
pub(crate) async fn delete_mappings_of(
    conn: &mut AnyConnection,
    env: Environment,
    customer: &str,
) -> EngineResult<bool> {
    let done = sqlx::query("DELETE FROM payments_customer_mappings WHERE environment = $1 AND stripe_customer_id = $2")
        .bind(env.as_str())
        .bind(customer)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Writes a subscription unless the row holds newer state. Stripe's `created` has whole seconds,
/// and a burst of events about one subscription (its creation and first invoice, a renewal, a
/// cancellation) often shares one. Among those, delivered in any order, the state that can only
/// come later wins: a subscription never leaves an ended status nor goes back to `incomplete`
/// (the `CASE` ranks), and its period never moves back.
const UPSERT_SUBSCRIPTION_SQL: &str = "INSERT INTO payments_subscriptions (id, environment, stripe_subscription_id,
             stripe_customer_id, subject_type, subject_id, status, current_period_start, current_period_end,
             cancel_at_period_end, cancel_at, canceled_at, trial_start, trial_end, latest_invoice_id, metadata, raw, synced_at, created_at,
             updated_at, source_version)
         VALUES ($1, $2, $3, $4,
             COALESCE($5, (SELECT m.subject_type FROM payments_customer_mappings m
                 WHERE m.environment = $2 AND m.stripe_customer_id = $4)),
             COALESCE($6, (SELECT m.subject_id FROM payments_customer_mappings m
                 WHERE m.environment = $2 AND m.stripe_customer_id = $4)),
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $20)
         ON CONFLICT (environment, stripe_subscription_id) DO UPDATE SET
             stripe_customer_id = excluded.stripe_customer_id,
             subject_type = COALESCE(excluded.subject_type, payments_subscriptions.subject_type),
             subject_id = COALESCE(excluded.subject_id, payments_subscriptions.subject_id),
             status = excluded.status, current_period_start = excluded.current_period_start,
             current_period_end = excluded.current_period_end, cancel_at_period_end = excluded.cancel_at_period_end,
             cancel_at = excluded.cancel_at, canceled_at = excluded.canceled_at, trial_start = excluded.trial_start,
             trial_end = excluded.trial_end, latest_invoice_id = excluded.latest_invoice_id,
             metadata = excluded.metadata, raw = excluded.raw, synced_at = excluded.synced_at,
             updated_at = excluded.updated_at, source_version = excluded.source_version
         WHERE COALESCE(payments_subscriptions.source_version, 0) < excluded.source_version
            OR (COALESCE(payments_subscriptions.source_version, 0) = excluded.source_version
                AND (CASE WHEN excluded.status IN ('canceled', 'incomplete_expired') THEN 2
                          WHEN excluded.status = 'incomplete' THEN 0 ELSE 1 END)
                    >= (CASE WHEN payments_subscriptions.status IN ('canceled', 'incomplete_expired') THEN 2
                             WHEN payments_subscriptions.status = 'incomplete' THEN 0 ELSE 1 END)
                AND COALESCE(excluded.current_period_end, 0) >= COALESCE(payments_subscriptions.current_period_end, 0))";

/// Writes a subscription and its items (items not listed are removed) unless the row holds
/// newer state. Returns whether it was written. A record without a subject takes its
/// customer's mapped subject, if any, in the same statement (a webhook used to read the
/// mapping first: one statement more per event of a subscription made outside the console).
pub(crate) async fn upsert_subscription(
    conn: &mut AnyConnection,
    env: Environment,
    s: &SubscriptionRecord,
    version: i64,
    synced_at: i64,
) -> EngineResult<bool> {
    let now = now_ms();
    rollups::serialize_subscription(conn, env, &s.stripe_subscription_id).await?;
    let mut price_ids: Vec<&str> = s.items.iter().filter_map(|i| i.stripe_price_id.as_deref()).collect();
    price_ids.sort_unstable();
    price_ids.dedup();
    let (stored, prices) = rollups::subscription_and_prices(conn, env, &s.stripe_subscription_id, &price_ids).await?;
    let done = sqlx::query(UPSERT_SUBSCRIPTION_SQL)
        .bind(new_id())
        .bind(env.as_str())
        .bind(&s.stripe_subscription_id)
        .bind(&s.stripe_customer_id)
        .bind(s.subject.as_ref().map(|x| x.0.as_str()))
        .bind(s.subject.as_ref().map(|x| x.1.as_str()))
        .bind(&s.status)
        .bind(s.current_period_start)
        .bind(s.current_period_end)
        .bind(flag(s.cancel_at_period_end))
        .bind(s.cancel_at)
        .bind(s.canceled_at)
        .bind(s.trial_start)
        .bind(s.trial_end)
        .bind(s.latest_invoice_id.as_deref())
        .bind(json_text(&s.metadata))
        .bind(&s.raw)
        .bind(synced_at)
        .bind(now)
        .bind(version)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    for item in &s.items {
        sqlx::query(
            "INSERT INTO payments_subscription_items (id, environment, stripe_subscription_item_id,
                 stripe_subscription_id, stripe_product_id, stripe_price_id, quantity, metadata, raw, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
             ON CONFLICT (environment, stripe_subscription_item_id) DO UPDATE SET
                 stripe_subscription_id = excluded.stripe_subscription_id, stripe_product_id = excluded.stripe_product_id,
                 stripe_price_id = excluded.stripe_price_id, quantity = excluded.quantity,
                 metadata = excluded.metadata, raw = excluded.raw, updated_at = excluded.updated_at",
        )
        .bind(new_id())
        .bind(env.as_str())
        .bind(&item.stripe_subscription_item_id)
        .bind(&s.stripe_subscription_id)
        .bind(item.stripe_product_id.as_deref())
        .bind(item.stripe_price_id.as_deref())
        .bind(item.quantity)
        .bind(json_text(&item.metadata))
        .bind(&item.raw)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    // Items no longer on the subscription. What is left is exactly the items just written.
    let gone: Vec<String> = stored
        .item_ids()
        .filter(|id| !s.items.iter().any(|i| i.stripe_subscription_item_id == *id))
        .map(str::to_owned)
        .collect();
    for gone in &gone {
        sqlx::query(
            "DELETE FROM payments_subscription_items WHERE environment = $1 AND stripe_subscription_item_id = $2",
        )
        .bind(env.as_str())
        .bind(gone)
        .execute(&mut *conn)
        .await?;
    }
    let items =
        s.items.iter().map(|i| (i.stripe_subscription_item_id.as_str(), i.stripe_price_id.as_deref(), i.quantity));
    let after = rollups::SubscriptionRows::written(&s.status, items, &prices)?.share();
    rollups::subscription_changed(conn, env, &stored.share(), &after).await?;
    Ok(true)
}

/// Sync: hard-deletes subscriptions (and their items) this sync did not see, except those a
/// newer event wrote meanwhile (ties in the same second are deleted, as for customers).
/// Returns how many subscriptions.
pub(crate) async fn delete_unseen_subscriptions(
    conn: &mut AnyConnection,
    env: Environment,
    synced_at: i64,
    version: i64,
) -> EngineResult<u64> {
    rollups::subscriptions_leaving(conn, env, synced_at, version).await?;
    let done = sqlx::query(
        "DELETE FROM payments_subscriptions
         WHERE environment = $1 AND synced_at < $2 AND COALESCE(source_version, 0) <= $3",
    )
    .bind(env.as_str())
    .bind(synced_at)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM payments_subscription_items WHERE environment = $1 AND stripe_subscription_id NOT IN
             (SELECT stripe_subscription_id FROM payments_subscriptions WHERE environment = $1)",
    )
    .bind(env.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}
