//! Persistence: portable SQL over one `sqlx::AnyPool` (SQLite or PostgreSQL).
//!
//! Conventions: `$1..$n` placeholders numbered in order of first appearance (SQLite binds them
//! by number), times in Unix milliseconds, booleans as BIGINT 0/1, JSON as TEXT. Functions take
//! `&mut AnyConnection` so that they run alike on a pooled connection or inside a transaction.

pub(crate) mod catalog;
pub(crate) mod connections;
pub(crate) mod events;
pub(crate) mod history;
pub(crate) mod mirror;
pub(crate) mod rollups;
pub(crate) mod secrets;

use rand::RngCore;
use sqlx::{AnyConnection, AnyPool};

use crate::environment::Environment;
use crate::error::EngineResult;

/// Which engine the pool talks to; decides the locking strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// Single instance: in-process locks suffice.
    Sqlite,
    /// Possibly several instances: advisory locks.
    Postgres,
}

/// Detects the engine behind a pool.
pub(crate) async fn detect_kind(pool: &AnyPool) -> EngineResult<DbKind> {
    let conn = pool.acquire().await?;
    let name = conn.backend_name().to_ascii_lowercase();
    Ok(if name.contains("postgres") { DbKind::Postgres } else { DbKind::Sqlite })
}

/// A random identifier in UUID v4 form (rows' `id` columns).
pub(crate) fn new_id() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// `true`/`false` as the BIGINT the Any driver stores portably.
pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}

/// Deletes every mirror/projection row of `env` (`contract/BEHAVIOUR.md` §5.3: the account
/// behind the key changed).
/// The connection row is updated by the caller, not deleted. The signing secret pasted from the
/// Stripe CLI (issue #14) is removed too: it signs the old account's events, which must not
/// reach the new account's mirror.
pub(crate) async fn clear_payment_data(conn: &mut AnyConnection, env: Environment) -> EngineResult<()> {
    // First, before any row lock: a fold of these figures in flight commits before the wipe's
    // deletes see the table (see `rollups::serialize_figures`).
    rollups::serialize_figures(conn, env).await?;
    // Children before parents, in the reference's order.
    for table in [
        "payments_subscription_items",
        "payments_subscriptions",
        "payments_payment_history",
        "payments_checkout_sessions",
        "payments_customer_portal_sessions",
        "payments_customers",
        "payments_customer_mappings",
        "payments_webhook_events",
        "payments_prices",
        "payments_products",
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE environment = $1"))
            .bind(env.as_str())
            .execute(&mut *conn)
            .await?;
    }
    // The overview's figures of those rows go with them.
    for table in rollups::TABLES {
        sqlx::query(&format!("DELETE FROM {table} WHERE environment = $1"))
            .bind(env.as_str())
            .execute(&mut *conn)
            .await?;
    }
    secrets::deactivate(conn, env.forwarding_secret_name()).await?;
    Ok(())
}
