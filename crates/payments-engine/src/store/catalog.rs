//! `payments_products` and `payments_prices`: the catalog mirror.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::environment::Environment;
use crate::error::EngineResult;
use crate::model::{Metadata, Price, Product};
use crate::store::{flag, new_id, rollups};
use crate::time::{iso_ms, now_ms};

/// A product as written to the mirror (built from a Stripe object).
#[derive(Debug, Clone)]
pub(crate) struct ProductRecord {
    pub stripe_product_id: String,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    pub default_price_id: Option<String>,
    pub metadata: Metadata,
    pub raw: String,
}

/// A price as written to the mirror (built from a Stripe object).
#[derive(Debug, Clone)]
pub(crate) struct PriceRecord {
    pub stripe_price_id: String,
    pub stripe_product_id: Option<String>,
    pub active: bool,
    pub currency: String,
    pub unit_amount: Option<i64>,
    pub unit_amount_decimal: Option<String>,
    pub price_type: String,
    pub lookup_key: Option<String>,
    pub billing_scheme: Option<String>,
    pub tax_behavior: Option<String>,
    pub recurring_interval: Option<String>,
    pub recurring_interval_count: Option<i64>,
    pub metadata: Metadata,
    pub raw: String,
}

impl ProductRecord {
    /// The API shape, as of `synced_at`.
    pub(crate) fn to_model(&self, env: Environment, synced_at: i64) -> Product {
        Product {
            environment: env,
            stripe_product_id: self.stripe_product_id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            active: self.active,
            default_price_id: self.default_price_id.clone(),
            metadata: self.metadata.clone(),
            synced_at: iso_ms(synced_at),
        }
    }
}

impl PriceRecord {
    /// The API shape, as of `synced_at`.
    pub(crate) fn to_model(&self, env: Environment, synced_at: i64) -> Price {
        Price {
            environment: env,
            stripe_price_id: self.stripe_price_id.clone(),
            stripe_product_id: self.stripe_product_id.clone(),
            active: self.active,
            currency: self.currency.clone(),
            unit_amount: self.unit_amount,
            unit_amount_decimal: self.unit_amount_decimal.clone(),
            price_type: self.price_type.as_str().into(),
            lookup_key: self.lookup_key.clone(),
            billing_scheme: self.billing_scheme.as_deref().map(Into::into),
            tax_behavior: self.tax_behavior.as_deref().map(Into::into),
            recurring_interval: self.recurring_interval.as_deref().map(Into::into),
            recurring_interval_count: self.recurring_interval_count,
            metadata: self.metadata.clone(),
            synced_at: iso_ms(synced_at),
        }
    }
}

fn metadata_json(m: &Metadata) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".to_owned())
}

fn metadata_from(text: &str) -> Metadata {
    serde_json::from_str(text).unwrap_or_default()
}

/// Inserts or overwrites a product (natural key: environment + Stripe id).
pub(crate) async fn upsert_product(
    conn: &mut AnyConnection,
    env: Environment,
    p: &ProductRecord,
    synced_at: i64,
) -> EngineResult<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO payments_products (id, environment, stripe_product_id, name, description, active,
             default_price_id, metadata, raw, synced_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
         ON CONFLICT (environment, stripe_product_id) DO UPDATE SET
             name = excluded.name, description = excluded.description, active = excluded.active,
             default_price_id = excluded.default_price_id, metadata = excluded.metadata, raw = excluded.raw,
             synced_at = excluded.synced_at, updated_at = excluded.updated_at",
    )
    .bind(new_id())
    .bind(env.as_str())
    .bind(&p.stripe_product_id)
    .bind(&p.name)
    .bind(p.description.as_deref())
    .bind(flag(p.active))
    .bind(p.default_price_id.as_deref())
    .bind(metadata_json(&p.metadata))
    .bind(&p.raw)
    .bind(synced_at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes prices by id: their billed items move to the MRR group of prices the mirror does
/// not have.
async fn delete_prices(conn: &mut AnyConnection, env: Environment, ids: &[String]) -> EngineResult<()> {
    let before = rollups::prices_share(conn, env, ids).await?;
    for id in ids {
        sqlx::query("DELETE FROM payments_prices WHERE environment = $1 AND stripe_price_id = $2")
            .bind(env.as_str())
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    let after = rollups::prices_share(conn, env, ids).await?;
    rollups::mrr_changed(conn, env, &before, &after).await
}

/// Inserts or overwrites a price (natural key: environment + Stripe id).
pub(crate) async fn upsert_price(
    conn: &mut AnyConnection,
    env: Environment,
    p: &PriceRecord,
    synced_at: i64,
) -> EngineResult<()> {
    let now = now_ms();
    // The figures MRR takes from a price never change at Stripe; when they do here (a price
    // the mirror did not have yet, or a console fix), its billed items move between groups.
    let stored = sqlx::query(
        "SELECT currency, unit_amount, recurring_interval, recurring_interval_count FROM payments_prices
         WHERE environment = $1 AND stripe_price_id = $2",
    )
    .bind(env.as_str())
    .bind(&p.stripe_price_id)
    .fetch_optional(&mut *conn)
    .await?;
    let figures = (Some(p.currency.clone()), p.unit_amount, p.recurring_interval.clone(), p.recurring_interval_count);
    let moved = match &stored {
        Some(r) => {
            let was: (Option<String>, Option<i64>, Option<String>, Option<i64>) = (
                r.try_get("currency")?,
                r.try_get("unit_amount")?,
                r.try_get("recurring_interval")?,
                r.try_get("recurring_interval_count")?,
            );
            was != figures
        }
        None => true,
    };
    let ids = [p.stripe_price_id.clone()];
    let before = if moved { rollups::prices_share(conn, env, &ids).await? } else { Default::default() };
    sqlx::query(
        "INSERT INTO payments_prices (id, environment, stripe_price_id, stripe_product_id, active, currency,
             unit_amount, unit_amount_decimal, type, lookup_key, billing_scheme, tax_behavior,
             recurring_interval, recurring_interval_count, metadata, raw, synced_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)
         ON CONFLICT (environment, stripe_price_id) DO UPDATE SET
             stripe_product_id = excluded.stripe_product_id, active = excluded.active,
             currency = excluded.currency, unit_amount = excluded.unit_amount,
             unit_amount_decimal = excluded.unit_amount_decimal, type = excluded.type,
             lookup_key = excluded.lookup_key, billing_scheme = excluded.billing_scheme,
             tax_behavior = excluded.tax_behavior, recurring_interval = excluded.recurring_interval,
             recurring_interval_count = excluded.recurring_interval_count, metadata = excluded.metadata,
             raw = excluded.raw, synced_at = excluded.synced_at, updated_at = excluded.updated_at",
    )
    .bind(new_id())
    .bind(env.as_str())
    .bind(&p.stripe_price_id)
    .bind(p.stripe_product_id.as_deref())
    .bind(flag(p.active))
    .bind(&p.currency)
    .bind(p.unit_amount)
    .bind(p.unit_amount_decimal.as_deref())
    .bind(&p.price_type)
    .bind(p.lookup_key.as_deref())
    .bind(p.billing_scheme.as_deref())
    .bind(p.tax_behavior.as_deref())
    .bind(p.recurring_interval.as_deref())
    .bind(p.recurring_interval_count)
    .bind(metadata_json(&p.metadata))
    .bind(&p.raw)
    .bind(synced_at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if moved {
        let after = rollups::prices_share(conn, env, &ids).await?;
        rollups::mrr_changed(conn, env, &before, &after).await?;
    }
    Ok(())
}

const PRODUCT_COLUMNS: &str = "stripe_product_id, name, description, active, default_price_id, metadata, synced_at";
const PRICE_COLUMNS: &str = "stripe_price_id, stripe_product_id, active, currency, unit_amount, unit_amount_decimal, \
    type, lookup_key, billing_scheme, tax_behavior, recurring_interval, recurring_interval_count, metadata, synced_at";

fn product_from(env: Environment, r: &AnyRow) -> EngineResult<Product> {
    Ok(Product {
        environment: env,
        stripe_product_id: r.try_get("stripe_product_id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        active: r.try_get::<i64, _>("active")? != 0,
        default_price_id: r.try_get("default_price_id")?,
        metadata: metadata_from(&r.try_get::<String, _>("metadata")?),
        synced_at: iso_ms(r.try_get("synced_at")?),
    })
}

fn price_from(env: Environment, r: &AnyRow) -> EngineResult<Price> {
    Ok(Price {
        environment: env,
        stripe_price_id: r.try_get("stripe_price_id")?,
        stripe_product_id: r.try_get("stripe_product_id")?,
        active: r.try_get::<i64, _>("active")? != 0,
        currency: r.try_get("currency")?,
        unit_amount: r.try_get("unit_amount")?,
        unit_amount_decimal: r.try_get("unit_amount_decimal")?,
        price_type: r.try_get::<String, _>("type")?.into(),
        lookup_key: r.try_get("lookup_key")?,
        billing_scheme: r.try_get::<Option<String>, _>("billing_scheme")?.map(Into::into),
        tax_behavior: r.try_get::<Option<String>, _>("tax_behavior")?.map(Into::into),
        recurring_interval: r.try_get::<Option<String>, _>("recurring_interval")?.map(Into::into),
        recurring_interval_count: r.try_get("recurring_interval_count")?,
        metadata: metadata_from(&r.try_get::<String, _>("metadata")?),
        synced_at: iso_ms(r.try_get("synced_at")?),
    })
}

/// All products of `env`, ordered by name then id.
pub(crate) async fn list_products(conn: &mut AnyConnection, env: Environment) -> EngineResult<Vec<Product>> {
    let rows = sqlx::query(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM payments_products WHERE environment = $1 ORDER BY name, stripe_product_id"
    ))
    .bind(env.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| product_from(env, r)).collect()
}

/// One product.
pub(crate) async fn get_product(conn: &mut AnyConnection, env: Environment, id: &str) -> EngineResult<Option<Product>> {
    let row = sqlx::query(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM payments_products WHERE environment = $1 AND stripe_product_id = $2"
    ))
    .bind(env.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(|r| product_from(env, r)).transpose()
}

/// Prices of `env` (optionally of one product), ordered by product id then price id.
pub(crate) async fn list_prices(
    conn: &mut AnyConnection,
    env: Environment,
    product: Option<&str>,
) -> EngineResult<Vec<Price>> {
    let rows = match product {
        Some(product) => {
            sqlx::query(&format!(
                "SELECT {PRICE_COLUMNS} FROM payments_prices WHERE environment = $1 AND stripe_product_id = $2
                 ORDER BY stripe_product_id, stripe_price_id"
            ))
            .bind(env.as_str())
            .bind(product)
            .fetch_all(&mut *conn)
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {PRICE_COLUMNS} FROM payments_prices WHERE environment = $1
                 ORDER BY stripe_product_id, stripe_price_id"
            ))
            .bind(env.as_str())
            .fetch_all(&mut *conn)
            .await?
        }
    };
    rows.iter().map(|r| price_from(env, r)).collect()
}

/// One price.
pub(crate) async fn get_price(conn: &mut AnyConnection, env: Environment, id: &str) -> EngineResult<Option<Price>> {
    let row = sqlx::query(&format!(
        "SELECT {PRICE_COLUMNS} FROM payments_prices WHERE environment = $1 AND stripe_price_id = $2"
    ))
    .bind(env.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(|r| price_from(env, r)).transpose()
}

/// Removes a product deleted in Stripe, with its prices.
pub(crate) async fn delete_product(conn: &mut AnyConnection, env: Environment, id: &str) -> EngineResult<()> {
    let prices: Vec<String> = sqlx::query_scalar(
        "SELECT stripe_price_id FROM payments_prices WHERE environment = $1 AND stripe_product_id = $2",
    )
    .bind(env.as_str())
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    delete_prices(conn, env, &prices).await?;
    sqlx::query("DELETE FROM payments_products WHERE environment = $1 AND stripe_product_id = $2")
        .bind(env.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Hard-deletes the catalog rows a full snapshot no longer contains (`contract/BEHAVIOUR.md` §6
/// step 4): every row of `env` written neither by the snapshot started at `synced_at` nor since
/// it started.
pub(crate) async fn delete_stale(conn: &mut AnyConnection, env: Environment, synced_at: i64) -> EngineResult<()> {
    // Rows the snapshot wrote carry exactly `synced_at`; comparing times avoids binding a
    // parameter list of every id (SQLite caps parameters per statement). The snapshot is
    // written page by page, so a row written meanwhile (console edit, later than `synced_at`)
    // is newer than the snapshot and stays.
    let prices: Vec<String> =
        sqlx::query_scalar("SELECT stripe_price_id FROM payments_prices WHERE environment = $1 AND synced_at < $2")
            .bind(env.as_str())
            .bind(synced_at)
            .fetch_all(&mut *conn)
            .await?;
    delete_prices(conn, env, &prices).await?;
    sqlx::query("DELETE FROM payments_products WHERE environment = $1 AND synced_at < $2")
        .bind(env.as_str())
        .bind(synced_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// How many prices `env` holds (a sync's count, once stale rows are gone: the active and
/// inactive lists may both hold a price that changed while they were read).
pub(crate) async fn count_prices(conn: &mut AnyConnection, env: Environment) -> EngineResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM payments_prices WHERE environment = $1")
        .bind(env.as_str())
        .fetch_one(&mut *conn)
        .await?)
}
