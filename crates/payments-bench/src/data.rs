//! Data straight into the tables: portable `INSERT … SELECT` over a recursive CTE (the same SQL
//! on SQLite and PostgreSQL), in chunks so that no statement holds the write lock for long.
//!
//! The distributions are fixed functions of the row number (no randomness: two runs hold the
//! same data). Every id carries `bench` so it cannot collide with what webhooks and syncs write.

use anyhow::Context;
use sqlx::AnyPool;
use std::time::Instant;

/// Rows per statement.
const CHUNK: i64 = 50_000;

/// Two years, in ms: the span the timestamps cover.
pub const SPAN_MS: i64 = 730 * 86_400_000;

/// How many of each to generate.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub history_rows: i64,
    pub subscriptions: i64,
    pub customers: i64,
    pub events: i64,
}

/// The billing subjects: ~10k, `team:t123` (70%) or `user:u123`.
pub const SUBJECTS: i64 = 10_000;

/// The subject columns of customer number `c` (an SQL expression).
fn subject_of(c: &str) -> String {
    format!(
        "CASE WHEN ({c} % {SUBJECTS}) % 10 < 7 THEN 'team' ELSE 'user' END,
         CASE WHEN ({c} % {SUBJECTS}) % 10 < 7 THEN 't' ELSE 'u' END || ({c} % {SUBJECTS})"
    )
}

/// `INSERT INTO table (columns) WITH RECURSIVE n(i) … SELECT select FROM g`, where `g` adds
/// `fields` to each row number `i` and `$3` is the start of the two years.
fn insert_sql(table: &str, columns: &str, fields: &str, select: &str) -> String {
    format!(
        "INSERT INTO {table} ({columns})
         WITH RECURSIVE n(i) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < $2),
         g AS (SELECT i, $3 + (i * 2654435761) % {SPAN_MS} AS ts{fields} FROM n)
         SELECT {select} FROM g"
    )
}

/// Runs `sql` for row numbers `0..rows` in chunks; `extra` binds `$4…`.
async fn chunked(pool: &AnyPool, what: &str, sql: &str, rows: i64, t0: i64, extra: &[i64]) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut lo = 0;
    while lo < rows {
        let hi = (lo + CHUNK).min(rows) - 1;
        let mut q = sqlx::query(sql).bind(lo).bind(hi).bind(t0);
        for v in extra {
            q = q.bind(*v);
        }
        q.execute(pool).await.with_context(|| format!("generating {what} rows {lo}..={hi}"))?;
        lo = hi + 1;
    }
    eprintln!("  {rows} {what} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Fills the tables of the test environment.
pub async fn generate(pool: &AnyPool, sizes: Sizes, now_ms: i64) -> anyhow::Result<()> {
    let t0 = now_ms - SPAN_MS;
    let customers = sizes.customers.max(1);
    let subscriptions = sizes.subscriptions.max(1);

    // A small catalog: the single-object baseline reads one of these products.
    let products = insert_sql(
        "payments_products",
        "id, environment, stripe_product_id, name, description, active, default_price_id, metadata, raw, synced_at, created_at, updated_at",
        "",
        "'prodrow_bench_' || i, 'test', 'prod_bench_' || i, 'Bench product ' || i, NULL, 1, 'price_bench_' || i, '{}', '{}', ts, ts, ts",
    );
    chunked(pool, "products", &products, 20, t0, &[]).await?;
    let prices = insert_sql(
        "payments_prices",
        "id, environment, stripe_price_id, stripe_product_id, active, currency, unit_amount, unit_amount_decimal, type, recurring_interval, recurring_interval_count, metadata, raw, synced_at, created_at, updated_at",
        "",
        "'pricerow_bench_' || i, 'test', 'price_bench_' || i, 'prod_bench_' || (i % 20), 1, 'usd', 500 + i * 100, CAST(500 + i * 100 AS TEXT), 'recurring', 'month', 1, '{}', '{}', ts, ts, ts",
    );
    chunked(pool, "prices", &prices, 40, t0, &[]).await?;

    let customer_rows = insert_sql(
        "payments_customers",
        "id, environment, stripe_customer_id, email, name, deleted, metadata, raw, stripe_created_at, synced_at, created_at, updated_at",
        "",
        "'cusrow_bench_' || i, 'test', 'cus_bench_' || i, 'customer' || i || '@example.test', 'Customer ' || i,
         CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END, '{}', '{}', ts, ts, ts, ts",
    );
    chunked(pool, "customers", &customer_rows, sizes.customers, t0, &[]).await?;
    // Subject ↔ customer is 1:1: the first 10k customers are the subjects' customers.
    let mappings = insert_sql(
        "payments_customer_mappings",
        "id, environment, subject_type, subject_id, stripe_customer_id, created_at, updated_at",
        "",
        &format!("'map_bench_' || i, 'test', {}, 'cus_bench_' || i, ts, ts", subject_of("i")),
    );
    chunked(pool, "customer mappings", &mappings, sizes.customers.min(SUBJECTS), t0, &[]).await?;

    let subs = insert_sql(
        "payments_subscriptions",
        "id, environment, stripe_subscription_id, stripe_customer_id, subject_type, subject_id, status,
         current_period_start, current_period_end, cancel_at_period_end, latest_invoice_id, metadata, raw,
         synced_at, created_at, updated_at",
        ", (i * 7) % 100 AS r, i % $4 AS c",
        &format!(
            "'subrow_bench_' || i, 'test', 'sub_bench_' || i, 'cus_bench_' || c, {},
             CASE WHEN r < 70 THEN 'active' WHEN r < 80 THEN 'past_due' WHEN r < 88 THEN 'canceled'
                  WHEN r < 93 THEN 'trialing' WHEN r < 97 THEN 'unpaid' ELSE 'incomplete' END,
             ts, ts + 2592000000, CASE WHEN r % 9 = 0 THEN 1 ELSE 0 END, 'in_bench_' || i, '{{}}', '{{}}', ts, ts, ts",
            subject_of("c")
        ),
    );
    chunked(pool, "subscriptions", &subs, sizes.subscriptions, t0, &[customers]).await?;
    let items = insert_sql(
        "payments_subscription_items",
        "id, environment, stripe_subscription_item_id, stripe_subscription_id, stripe_product_id, stripe_price_id,
         quantity, metadata, raw, created_at, updated_at",
        "",
        "'sirow_bench_' || i, 'test', 'si_bench_' || i, 'sub_bench_' || i, 'prod_bench_' || (i % 20),
         'price_bench_' || (i % 40), 1 + i % 3, '{}', '{}', ts, ts",
    );
    chunked(pool, "subscription items", &items, sizes.subscriptions, t0, &[]).await?;

    // Types: 70% subscription invoices, 18% one-time payments, 7% failed payments, 5% refunds
    // (of the payment just before); a few invoices failed or (partially) refunded.
    let history = insert_sql(
        "payments_payment_history",
        "id, environment, type, status, subject_type, subject_id, stripe_customer_id, customer_email_snapshot,
         stripe_payment_intent_id, stripe_invoice_id, stripe_charge_id, stripe_refund_id, stripe_subscription_id,
         stripe_product_id, stripe_price_id, amount, amount_refunded, currency, description, paid_at, failed_at,
         refunded_at, stripe_created_at, raw, created_at, updated_at",
        ", (i * 7) % 100 AS r, (i * 13) % 100 AS s, (i * 7919) % $4 AS c",
        &format!(
            "'ph_bench_' || i, 'test',
             CASE WHEN r < 70 THEN 'subscription_invoice' WHEN r < 88 THEN 'one_time_payment'
                  WHEN r < 95 THEN 'failed_payment' ELSE 'refund' END,
             CASE WHEN r >= 95 THEN 'refunded' WHEN r >= 88 THEN 'failed' WHEN s < 4 THEN 'failed'
                  WHEN s < 6 THEN 'refunded' WHEN s < 8 THEN 'partially_refunded' ELSE 'succeeded' END,
             {}, 'cus_bench_' || c, 'customer' || c || '@example.test',
             CASE WHEN r < 95 THEN 'pi_bench_' || i ELSE 'pi_bench_' || (i - 1) END,
             CASE WHEN r < 70 THEN 'in_bench_' || i END,
             CASE WHEN r < 95 THEN 'ch_bench_' || i ELSE 'ch_bench_' || (i - 1) END,
             CASE WHEN r >= 95 THEN 're_bench_' || i END,
             CASE WHEN r < 70 THEN 'sub_bench_' || (i % $5) END,
             'prod_bench_' || (i % 20), 'price_bench_' || (i % 40),
             500 + (i * 37) % 20000,
             CASE WHEN r < 88 AND s >= 4 AND s < 6 THEN 500 + (i * 37) % 20000 WHEN r < 88 AND s >= 6 AND s < 8 THEN 200 ELSE 0 END,
             CASE WHEN c % 10 < 7 THEN 'usd' WHEN c % 10 < 9 THEN 'eur' ELSE 'gbp' END,
             'Bench payment ' || i,
             CASE WHEN r < 88 AND s >= 4 THEN ts END,
             CASE WHEN r >= 88 AND r < 95 THEN ts WHEN r < 88 AND s < 4 THEN ts END,
             CASE WHEN r >= 95 THEN ts END,
             ts, '{{}}', ts, ts",
            subject_of("c")
        ),
    );
    chunked(pool, "payment-history", &history, sizes.history_rows, t0, &[customers, subscriptions]).await?;

    // 95% processed, 3% ignored, 2% failed (never `pending`: the sweeper would take those over).
    let events = insert_sql(
        "payments_webhook_events",
        "id, environment, stripe_event_id, event_type, livemode, object_type, object_id, processing_status,
         attempt_count, last_error, payload, received_at, processed_at, created_at, updated_at",
        ", (i * 7) % 100 AS r, (i * 13) % 100 AS s",
        "'whe_bench_' || i, 'test', 'evt_seed_' || i,
         CASE WHEN r < 30 THEN 'invoice.paid' WHEN r < 50 THEN 'payment_intent.succeeded' WHEN r < 60 THEN 'charge.refunded'
              WHEN r < 80 THEN 'customer.subscription.updated' WHEN r < 90 THEN 'customer.updated'
              ELSE 'checkout.session.completed' END, 0,
         CASE WHEN r < 30 THEN 'invoice' WHEN r < 50 THEN 'payment_intent' WHEN r < 60 THEN 'charge'
              WHEN r < 80 THEN 'subscription' WHEN r < 90 THEN 'customer' ELSE 'checkout.session' END,
         CASE WHEN r < 30 THEN 'in_bench_' || i WHEN r < 50 THEN 'pi_bench_' || i WHEN r < 60 THEN 'ch_bench_' || i
              WHEN r < 80 THEN 'sub_bench_' || (i % 100000) WHEN r < 90 THEN 'cus_bench_' || (i % 100000)
              ELSE 'cs_bench_' || i END,
         CASE WHEN s < 95 THEN 'processed' WHEN s < 98 THEN 'ignored' ELSE 'failed' END, 1,
         CASE WHEN s >= 98 THEN 'bench: a simulated failure' END, '{}', ts, ts, ts, ts",
    );
    chunked(pool, "webhook events", &events, sizes.events, t0, &[]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database with the console's migrations: SQLite in memory, or PostgreSQL when
    /// `PAYMENTS_CONSOLE_TEST_POSTGRES` names one (a fresh schema each time).
    async fn migrated() -> AnyPool {
        sqlx::any::install_default_drivers();
        let pg = std::env::var("PAYMENTS_CONSOLE_TEST_POSTGRES").ok();
        let url = pg.clone().unwrap_or_else(|| "sqlite::memory:".into());
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(move |conn, _| {
                let schema = pg.as_ref().map(|_| format!("bench_{}", std::process::id()));
                Box::pin(async move {
                    if let Some(s) = schema {
                        for sql in [
                            format!("DROP SCHEMA IF EXISTS {s} CASCADE"),
                            format!("CREATE SCHEMA {s}"),
                            format!("SET search_path TO {s}"),
                        ] {
                            sqlx::query(&sql).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .unwrap();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations");
        let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "sql")) {
            sqlx::raw_sql(&std::fs::read_to_string(f).unwrap()).execute(&pool).await.unwrap();
        }
        pool
    }

    async fn count(pool: &AnyPool, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
    }

    #[tokio::test]
    async fn generates_the_sizes_asked_for_with_every_type_and_status() {
        let pool = migrated().await;
        let sizes = Sizes { history_rows: 2_000, subscriptions: 300, customers: 120, events: 1_000 };
        generate(&pool, sizes, 1_764_000_000_000).await.unwrap();
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM payments_payment_history").await, 2_000);
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM payments_subscriptions").await, 300);
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM payments_subscription_items").await, 300);
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM payments_customers").await, 120);
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM payments_customer_mappings").await, 120);
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM payments_webhook_events").await, 1_000);
        assert_eq!(count(&pool, "SELECT COUNT(DISTINCT type) FROM payments_payment_history").await, 4);
        assert_eq!(count(&pool, "SELECT COUNT(DISTINCT status) FROM payments_payment_history").await, 4);
        assert_eq!(count(&pool, "SELECT COUNT(DISTINCT currency) FROM payments_payment_history").await, 3);
        assert_eq!(count(&pool, "SELECT COUNT(DISTINCT status) FROM payments_subscriptions").await, 6);
        let t5 = "SELECT COUNT(*) FROM payments_payment_history WHERE subject_type = 'team' AND subject_id = 't5'";
        assert!(count(&pool, t5).await > 0);
        // Timestamps cover the two years before "now".
        let oldest = count(&pool, "SELECT MIN(stripe_created_at) FROM payments_payment_history").await;
        let newest = count(&pool, "SELECT MAX(stripe_created_at) FROM payments_payment_history").await;
        assert!(oldest >= 1_764_000_000_000 - SPAN_MS && newest < 1_764_000_000_000);
        assert!(newest - oldest > SPAN_MS / 2, "{oldest}..{newest}");
    }
}
