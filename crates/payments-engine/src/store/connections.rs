//! `payments_stripe_connections`: one row per environment.
//!
//! Section numbers (§) in this file are those of `contract/BEHAVIOUR.md`.

use std::collections::BTreeMap;

use payments_model::ConnectionStatus;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::environment::Environment;
use crate::error::EngineResult;
use crate::store::flag;
use crate::time::now_ms;

/// A connection row as stored.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectionRow {
    pub status: String,
    pub stripe_account_id: Option<String>,
    pub stripe_account_email: Option<String>,
    pub account_livemode: Option<bool>,
    pub webhook_endpoint_id: Option<String>,
    pub webhook_endpoint_url: Option<String>,
    pub webhook_configured_at: Option<i64>,
    pub last_synced_at: Option<i64>,
    pub last_sync_status: Option<String>,
    pub last_sync_error: Option<String>,
    pub last_sync_counts: BTreeMap<String, i64>,
}

impl ConnectionRow {
    /// What a missing row is rendered as.
    pub(crate) fn unconfigured() -> Self {
        ConnectionRow { status: ConnectionStatus::Unconfigured.to_string(), ..Default::default() }
    }

    fn from_row(r: &AnyRow) -> EngineResult<Self> {
        let counts: String = r.try_get("last_sync_counts")?;
        Ok(ConnectionRow {
            status: r.try_get("status")?,
            stripe_account_id: r.try_get("stripe_account_id")?,
            stripe_account_email: r.try_get("stripe_account_email")?,
            account_livemode: r.try_get::<Option<i64>, _>("account_livemode")?.map(|v| v != 0),
            webhook_endpoint_id: r.try_get("webhook_endpoint_id")?,
            webhook_endpoint_url: r.try_get("webhook_endpoint_url")?,
            webhook_configured_at: r.try_get("webhook_configured_at")?,
            last_synced_at: r.try_get("last_synced_at")?,
            last_sync_status: r.try_get("last_sync_status")?,
            last_sync_error: r.try_get("last_sync_error")?,
            last_sync_counts: serde_json::from_str(&counts).unwrap_or_default(),
        })
    }
}

const COLUMNS: &str = "status, stripe_account_id, stripe_account_email, account_livemode, webhook_endpoint_id, \
    webhook_endpoint_url, webhook_configured_at, last_synced_at, last_sync_status, last_sync_error, last_sync_counts";

/// The row of `env`, if any.
pub(crate) async fn get(conn: &mut AnyConnection, env: Environment) -> EngineResult<Option<ConnectionRow>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM payments_stripe_connections WHERE environment = $1"))
        .bind(env.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(ConnectionRow::from_row).transpose()
}

/// Makes sure the row of `env` exists, so that later statements can be plain UPDATEs.
async fn ensure(conn: &mut AnyConnection, env: Environment, now: i64) -> EngineResult<()> {
    sqlx::query(
        "INSERT INTO payments_stripe_connections (environment, status, created_at, updated_at)
         VALUES ($1, 'unconfigured', $2, $2) ON CONFLICT (environment) DO NOTHING",
    )
    .bind(env.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The account a key belongs to (`GET /v1/account`).
#[derive(Debug, Clone)]
pub(crate) struct AccountIdentity {
    pub id: String,
    pub email: Option<String>,
    pub raw: String,
}

/// Same-account key rotation: refresh the account fields only (§5.2).
pub(crate) async fn update_account(
    conn: &mut AnyConnection,
    env: Environment,
    account: &AccountIdentity,
) -> EngineResult<()> {
    let now = now_ms();
    ensure(conn, env, now).await?;
    sqlx::query(
        "UPDATE payments_stripe_connections SET stripe_account_id = $1, stripe_account_email = $2,
             account_livemode = $3, status = 'connected', raw = $4, updated_at = $5
         WHERE environment = $6",
    )
    .bind(&account.id)
    .bind(account.email.as_deref())
    .bind(flag(env == Environment::Live))
    .bind(&account.raw)
    .bind(now)
    .bind(env.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The managed webhook endpoint created for an environment.
#[derive(Debug, Clone)]
pub(crate) struct WebhookInfo {
    pub id: String,
    pub url: String,
}

/// A new key for a new (or first) account, or after re-adding a removed key (§5.2).
/// `reset_sync` clears the sync state (the account changed, so its mirror was wiped).
pub(crate) async fn connect(
    conn: &mut AnyConnection,
    env: Environment,
    account: &AccountIdentity,
    webhook: Option<&WebhookInfo>,
    reset_sync: bool,
) -> EngineResult<()> {
    let now = now_ms();
    ensure(conn, env, now).await?;
    sqlx::query(
        "UPDATE payments_stripe_connections SET stripe_account_id = $1, stripe_account_email = $2,
             account_livemode = $3, status = 'connected', raw = $4, webhook_endpoint_id = $5,
             webhook_endpoint_url = $6, webhook_configured_at = $7, last_sync_error = NULL, updated_at = $8
         WHERE environment = $9",
    )
    .bind(&account.id)
    .bind(account.email.as_deref())
    .bind(flag(env == Environment::Live))
    .bind(&account.raw)
    .bind(webhook.map(|w| w.id.as_str()))
    .bind(webhook.map(|w| w.url.as_str()))
    .bind(webhook.map(|_| now))
    .bind(now)
    .bind(env.as_str())
    .execute(&mut *conn)
    .await?;
    if reset_sync {
        sqlx::query(
            "UPDATE payments_stripe_connections SET last_synced_at = NULL, last_sync_status = NULL,
                 last_sync_counts = '{}' WHERE environment = $1",
        )
        .bind(env.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Key removed (§5.4): unconfigured, webhook fields cleared, sync marked failed. Account kept.
pub(crate) async fn disconnect(conn: &mut AnyConnection, env: Environment) -> EngineResult<()> {
    let now = now_ms();
    ensure(conn, env, now).await?;
    sqlx::query(
        "UPDATE payments_stripe_connections SET status = 'unconfigured', webhook_endpoint_id = NULL,
             webhook_endpoint_url = NULL, webhook_configured_at = NULL, last_synced_at = NULL,
             last_sync_status = 'failed', last_sync_error = $1, last_sync_counts = '{}', updated_at = $2
         WHERE environment = $3",
    )
    .bind(format!("{} is not configured", env.secret_key_name()))
    .bind(now)
    .bind(env.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A failed sync (§6 `recordConnectionStatus`): `unconfigured` also drops the webhook columns.
pub(crate) async fn record_status(
    conn: &mut AnyConnection,
    env: Environment,
    status: ConnectionStatus,
    error: &str,
) -> EngineResult<()> {
    let now = now_ms();
    ensure(conn, env, now).await?;
    sqlx::query(
        "UPDATE payments_stripe_connections SET status = $1, last_sync_status = 'failed', last_sync_error = $2,
             updated_at = $3 WHERE environment = $4",
    )
    .bind(status.as_str())
    .bind(error)
    .bind(now)
    .bind(env.as_str())
    .execute(&mut *conn)
    .await?;
    if status == ConnectionStatus::Unconfigured {
        sqlx::query(
            "UPDATE payments_stripe_connections SET webhook_endpoint_id = NULL, webhook_endpoint_url = NULL,
                 webhook_configured_at = NULL WHERE environment = $1",
        )
        .bind(env.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A successful catalog snapshot (§6 step 4).
pub(crate) async fn record_sync_success(
    conn: &mut AnyConnection,
    env: Environment,
    account: &AccountIdentity,
    counts: &BTreeMap<String, i64>,
    synced_at: i64,
) -> EngineResult<()> {
    ensure(conn, env, synced_at).await?;
    let counts = serde_json::to_string(counts).unwrap_or_else(|_| "{}".to_owned());
    sqlx::query(
        "UPDATE payments_stripe_connections SET status = 'connected', stripe_account_id = $1,
             stripe_account_email = $2, account_livemode = $3, raw = $4, last_synced_at = $5,
             last_sync_status = 'succeeded', last_sync_error = NULL, last_sync_counts = $6, updated_at = $5
         WHERE environment = $7",
    )
    .bind(&account.id)
    .bind(account.email.as_deref())
    .bind(flag(env == Environment::Live))
    .bind(&account.raw)
    .bind(synced_at)
    .bind(counts)
    .bind(env.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Explicit webhook configuration (§7.1): account and webhook fields; when the account changed
/// the sync state is reset as well.
pub(crate) async fn set_webhook(
    conn: &mut AnyConnection,
    env: Environment,
    account: &AccountIdentity,
    webhook: &WebhookInfo,
    account_changed: bool,
) -> EngineResult<()> {
    let now = now_ms();
    ensure(conn, env, now).await?;
    sqlx::query(
        "UPDATE payments_stripe_connections SET stripe_account_id = $1, stripe_account_email = $2,
             account_livemode = $3, status = 'connected', raw = $4, webhook_endpoint_id = $5,
             webhook_endpoint_url = $6, webhook_configured_at = $7, updated_at = $7
         WHERE environment = $8",
    )
    .bind(&account.id)
    .bind(account.email.as_deref())
    .bind(flag(env == Environment::Live))
    .bind(&account.raw)
    .bind(&webhook.id)
    .bind(&webhook.url)
    .bind(now)
    .bind(env.as_str())
    .execute(&mut *conn)
    .await?;
    if account_changed {
        sqlx::query(
            "UPDATE payments_stripe_connections SET last_synced_at = NULL, last_sync_status = NULL,
                 last_sync_error = NULL, last_sync_counts = '{}' WHERE environment = $1",
        )
        .bind(env.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The account whose recent Stripe events were imported into the event log (`None`: never).
pub(crate) async fn events_imported_account(
    conn: &mut AnyConnection,
    env: Environment,
) -> EngineResult<Option<String>> {
    let account: Option<Option<String>> =
        sqlx::query_scalar("SELECT events_imported_account FROM payments_stripe_connections WHERE environment = $1")
            .bind(env.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(account.flatten())
}

/// Records that `account`'s recent events were imported (once per account: see the sync).
pub(crate) async fn mark_events_imported(
    conn: &mut AnyConnection,
    env: Environment,
    account: &str,
) -> EngineResult<()> {
    let now = now_ms();
    ensure(conn, env, now).await?;
    sqlx::query(
        "UPDATE payments_stripe_connections SET events_imported_account = $1, updated_at = $2 WHERE environment = $3",
    )
    .bind(account)
    .bind(now)
    .bind(env.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
