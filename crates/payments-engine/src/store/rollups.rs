//! The overview's figures as deltas, written beside the mirror rows they summarise (issue #14;
//! the tables and why they hold deltas: `migrations/20261205400001_overview_rollups.sql`).
//!
//! Every function that changes a subscription, its items, a price or a history row reads the
//! row's *share* of the figures before and after the change (mostly from values it reads or
//! writes anyway) and appends the difference, in the same transaction: the figures commit or
//! roll back with the rows. Bulk deletions take their rows' share out before deleting.
//! [`fold`] compacts the deltas; [`recount`] rebuilds everything from the mirror.

use std::collections::BTreeMap;

use payments_model::{PaymentKind, PaymentStatus, SubscriptionStatus};
use sqlx::{AnyConnection, Row};

use crate::environment::Environment;
use crate::error::EngineResult;
use crate::lists::DAY_MS;

/// The migration that holds the tables and, below its recount marker, the recount.
const MIGRATION: &str = include_str!("../../../../migrations/20261205400001_overview_rollups.sql");
/// Where the migration's recount statements begin.
const RECOUNT_FROM: &str = "DELETE FROM payments_rollup_statuses;";

/// Subscriptions whose items are billed, and so count towards MRR.
pub(crate) const BILLED: &[SubscriptionStatus] = &[SubscriptionStatus::Active, SubscriptionStatus::PastDue];

/// The overview's tables, for clearing an environment.
pub(crate) const TABLES: &[&str] = &["payments_rollup_statuses", "payments_rollup_mrr", "payments_rollup_days"];

tokio::task_local! {
    /// The deltas of the transaction being written, when its writer batches them ([`batched`]).
    static PENDING: std::cell::RefCell<Pending>;
}

/// Deltas kept in memory until [`flush`], netted per group.
#[derive(Default)]
struct Pending {
    days: BTreeMap<(Environment, i64, bool, bool, bool, Option<String>), (i64, i64)>,
    statuses: BTreeMap<(Environment, String), i64>,
    mrr: BTreeMap<(Environment, MrrKey), MrrSums>,
}

/// Runs `work` with the deltas its writers record kept in memory, netted per group, until
/// [`flush`] writes them: a batch of 64 deliveries then writes a few rows, not one per change.
/// For a transaction that is committed or rolled back
/// as a whole (the webhook writer's first pass over a batch): a savepoint rolled back in
/// between would leave its deltas in memory. Each delta is otherwise a statement of its own,
/// and on SQLite every statement is a round trip to the connection's thread.
pub(crate) async fn batched<F: std::future::Future>(work: F) -> F::Output {
    PENDING.scope(std::cell::RefCell::new(Pending::default()), work).await
}

/// Writes the deltas [`batched`] kept (inside `batched`, before the commit).
pub(crate) async fn flush(conn: &mut AnyConnection) -> EngineResult<()> {
    let Ok(pending) = PENDING.try_with(|p| std::mem::take(&mut *p.borrow_mut())) else { return Ok(()) };
    for ((env, day, counted, refund, failed, currency), (payments, amount)) in pending.days {
        if payments != 0 || amount != 0 {
            insert_day(conn, env, day, [counted, refund, failed], currency.as_deref(), payments, amount).await?;
        }
    }
    for ((env, status), n) in pending.statuses {
        if n != 0 {
            insert_status(conn, env, &status, n).await?;
        }
    }
    for ((env, key), sums) in pending.mrr {
        if !sums.is_zero() {
            insert_mrr(conn, env, &key, &sums, false).await?;
        }
    }
    Ok(())
}

/// One history row's part in the figures: its group and amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HistoryShare {
    day: i64,
    counted: bool,
    refund: bool,
    failed: bool,
    currency: Option<String>,
    amount: i64,
}

impl HistoryShare {
    /// The share of a row with these values (`stripe_created_at`, else `created_at`, dates it;
    /// the same rules as `lists::HISTORY_AT` and `lists::COUNTED`).
    pub(crate) fn new(
        kind: &str,
        status: &str,
        currency: Option<&str>,
        amount: Option<i64>,
        stripe_created_at: Option<i64>,
        created_at: i64,
    ) -> Self {
        // The row's SQL text, read as typed values to decide (an unknown value counts nowhere).
        let refund = PaymentKind::from(kind) == PaymentKind::Refund;
        let status = PaymentStatus::from(status);
        HistoryShare {
            day: stripe_created_at.unwrap_or(created_at).div_euclid(DAY_MS),
            counted: !refund
                && matches!(
                    status,
                    PaymentStatus::Succeeded | PaymentStatus::Refunded | PaymentStatus::PartiallyRefunded
                ),
            refund,
            failed: status == PaymentStatus::Failed,
            currency: currency.map(str::to_owned),
            amount: amount.unwrap_or(0),
        }
    }

    /// The share of a history row read with the columns `type`, `status`, `currency`, `amount`,
    /// `stripe_created_at` and `created_at`.
    pub(crate) fn of_row(row: &sqlx::any::AnyRow) -> EngineResult<Self> {
        Ok(Self::new(
            row.try_get::<String, _>("type")?.as_str(),
            row.try_get::<String, _>("status")?.as_str(),
            row.try_get::<Option<String>, _>("currency")?.as_deref(),
            row.try_get("amount")?,
            row.try_get("stripe_created_at")?,
            row.try_get("created_at")?,
        ))
    }

    /// The same row with another status.
    pub(crate) fn with_status(&self, kind: &str, status: &str) -> Self {
        let moved = Self::new(kind, status, None, None, None, 0);
        HistoryShare { counted: moved.counted, failed: moved.failed, ..self.clone() }
    }
}

/// Records that a history row went from `before` to `after` (`None`: absent).
pub(crate) async fn history_changed(
    conn: &mut AnyConnection,
    env: Environment,
    before: Option<&HistoryShare>,
    after: Option<&HistoryShare>,
) -> EngineResult<()> {
    if before == after {
        return Ok(());
    }
    for (share, sign) in [(before, -1), (after, 1)] {
        let Some(s) = share else { continue };
        let key = (env, s.day, s.counted, s.refund, s.failed, s.currency.clone());
        let kept = PENDING.try_with(|p| {
            let mut p = p.borrow_mut();
            let sums = p.days.entry(key).or_default();
            sums.0 += sign;
            sums.1 += sign * s.amount;
        });
        if kept.is_err() {
            insert_day(conn, env, s.day, [s.counted, s.refund, s.failed], s.currency.as_deref(), sign, sign * s.amount)
                .await?;
        }
    }
    Ok(())
}

async fn insert_day(
    conn: &mut AnyConnection,
    env: Environment,
    day: i64,
    [counted, refund, failed]: [bool; 3],
    currency: Option<&str>,
    payments: i64,
    amount: i64,
) -> EngineResult<()> {
    sqlx::query(
        "INSERT INTO payments_rollup_days (environment, day, counted, refund, failed, currency, payments, amount)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(env.as_str())
    .bind(day)
    .bind(i64::from(counted))
    .bind(i64::from(refund))
    .bind(i64::from(failed))
    .bind(currency)
    .bind(payments)
    .bind(amount)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An MRR group: a price's currency and interval (all `None`: a price the mirror lacks).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct MrrKey {
    pub currency: Option<String>,
    pub interval: Option<String>,
    pub interval_count: Option<i64>,
}

/// An MRR group's sums over billed items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MrrSums {
    /// Items.
    pub items: i64,
    /// Items whose price has a unit amount.
    pub priced: i64,
    /// Unit amount × quantity, per interval.
    pub amount: i64,
    /// Items MRR leaves out (no unit amount or no interval).
    pub uncounted: i64,
}

impl MrrSums {
    fn add(&mut self, o: MrrSums, sign: i64) {
        self.items += sign * o.items;
        self.priced += sign * o.priced;
        self.amount += sign * o.amount;
        self.uncounted += sign * o.uncounted;
    }

    fn is_zero(&self) -> bool {
        *self == MrrSums::default()
    }
}

/// MRR groups and their sums.
pub(crate) type MrrGroups = BTreeMap<MrrKey, MrrSums>;

/// One billed item's group and sums, from its price's columns (`None`: no such price).
fn item_share(
    currency: Option<String>,
    interval: Option<String>,
    interval_count: Option<i64>,
    unit_amount: Option<i64>,
    quantity: Option<i64>,
) -> (MrrKey, MrrSums) {
    let sums = MrrSums {
        items: 1,
        priced: i64::from(unit_amount.is_some()),
        amount: unit_amount.map_or(0, |a| a.saturating_mul(quantity.unwrap_or(1))),
        uncounted: i64::from(unit_amount.is_none() || interval.is_none()),
    };
    (MrrKey { currency, interval, interval_count }, sums)
}

fn item_from_row(row: &sqlx::any::AnyRow) -> EngineResult<(MrrKey, MrrSums)> {
    item_priced(row, row.try_get("quantity")?)
}

/// An item's group and sums from a row with its price's columns, at `quantity`.
fn item_priced(row: &sqlx::any::AnyRow, quantity: Option<i64>) -> EngineResult<(MrrKey, MrrSums)> {
    Ok(item_share(
        row.try_get("currency")?,
        row.try_get("recurring_interval")?,
        row.try_get("recurring_interval_count")?,
        row.try_get("unit_amount")?,
        quantity,
    ))
}

/// A subscription's part in the figures: its status and, when billed, its items' MRR groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SubscriptionShare {
    status: Option<String>,
    mrr: MrrGroups,
}

/// The subscription with its items and their prices: one row per item (one without an item
/// when it has none); seeks on the three tables' unique keys.
const SUBSCRIPTION_SQL: &str = "SELECT 'stored' AS part, s.status, i.stripe_subscription_item_id AS item, i.quantity,
         p.currency, p.recurring_interval, p.recurring_interval_count, p.unit_amount, CAST(NULL AS TEXT) AS price
     FROM payments_subscriptions s
     LEFT JOIN payments_subscription_items i
         ON i.environment = s.environment AND i.stripe_subscription_id = s.stripe_subscription_id
     LEFT JOIN payments_prices p ON p.environment = i.environment AND p.stripe_price_id = i.stripe_price_id
     WHERE s.environment = $1 AND s.stripe_subscription_id = $2";

/// The prices of the items a subscription is about to be written with, appended to
/// [`SUBSCRIPTION_SQL`]'s rows (`part` tells them apart); `{}`: their placeholders from `$3`.
const ITEM_PRICES_SQL: &str = " UNION ALL SELECT 'price' AS part, CAST(NULL AS TEXT), CAST(NULL AS TEXT), NULL,
         currency, recurring_interval, recurring_interval_count, unit_amount, stripe_price_id
     FROM payments_prices WHERE environment = $1 AND stripe_price_id IN ({})";

/// A subscription as stored: its status and its items (id, MRR group and sums).
#[derive(Debug, Default)]
pub(crate) struct SubscriptionRows {
    status: Option<String>,
    items: Vec<(String, MrrKey, MrrSums)>,
}

/// The price rows of [`subscription_and_prices`], by price id.
pub(crate) type ItemPrices = BTreeMap<String, sqlx::any::AnyRow>;

impl SubscriptionRows {
    /// The ids of its items.
    pub(crate) fn item_ids(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|(id, _, _)| id.as_str())
    }

    /// The subscription as it is once written with `status` and exactly `items` (id, price,
    /// quantity), its prices read beforehand: what reading it back would give (a price not
    /// stored reads as unpriced, as the read's outer join does).
    pub(crate) fn written<'a>(
        status: &str,
        items: impl Iterator<Item = (&'a str, Option<&'a str>, Option<i64>)>,
        prices: &ItemPrices,
    ) -> EngineResult<Self> {
        let mut written = SubscriptionRows { status: Some(status.to_owned()), items: Vec::new() };
        for (id, price, quantity) in items {
            let (key, sums) = match price.and_then(|p| prices.get(p)) {
                Some(row) => item_priced(row, quantity)?,
                None => item_share(None, None, None, None, quantity),
            };
            written.items.push((id.to_owned(), key, sums));
        }
        Ok(written)
    }

    /// Its share of the figures: its status and, when billed, its items' MRR groups.
    pub(crate) fn share(&self) -> SubscriptionShare {
        let mut share = SubscriptionShare { status: self.status.clone(), mrr: MrrGroups::new() };
        if self.status.as_deref().is_some_and(|s| BILLED.contains(&SubscriptionStatus::from(s))) {
            for (_, key, sums) in &self.items {
                share.mrr.entry(key.clone()).or_default().add(*sums, 1);
            }
        }
        share
    }
}

/// Whether the connection is PostgreSQL's: there, concurrent transactions write the same row
/// (one per delivery), where SQLite has one writer at a time.
pub(crate) fn concurrent_writers(conn: &AnyConnection) -> bool {
    conn.backend_name().to_ascii_lowercase().contains("postgres")
}

/// On PostgreSQL, makes the writers of one subscription take turns until their commits. Its
/// share is read before it is written: two deliveries about one subscription (its creation
/// and an update, say) would otherwise both read it absent, and both count it. A transaction
/// lock on the subscription (`lock.rs`'s classes) makes the second read what the first wrote.
pub(crate) async fn serialize_subscription(conn: &mut AnyConnection, env: Environment, id: &str) -> EngineResult<()> {
    if concurrent_writers(conn) {
        sqlx::query("SELECT CAST(1 AS BIGINT) FROM (SELECT pg_advisory_xact_lock($1, hashtext($2))) AS l")
            .bind(crate::lock::SUBSCRIPTION_CLASS)
            .bind(format!("{}:{id}", env.as_str()))
            .fetch_all(&mut *conn)
            .await?;
    }
    Ok(())
}

/// On PostgreSQL, makes the fold of `env`'s figures and their wipe (an account change,
/// `store::clear_payment_data`) take turns until their commits. Without it a fold that commits
/// while the wipe's `DELETE` runs leaves its folded rows behind: the statement's snapshot
/// predates them, so the old account's figures outlived its rows (a clean-clone CI run counted
/// both accounts' subscriptions). A fold that waited here reads from its earlier snapshot, and
/// deleting rows the wipe (or another fold) deleted fails it as a serialisation error:
/// `Engine::fold_overview` runs it again from a new snapshot.
pub(crate) async fn serialize_figures(conn: &mut AnyConnection, env: Environment) -> EngineResult<()> {
    if concurrent_writers(conn) {
        sqlx::query("SELECT CAST(1 AS BIGINT) FROM (SELECT pg_advisory_xact_lock($1, $2)) AS l")
            .bind(crate::lock::ROLLUP_CLASS)
            .bind(crate::lock::env_object(env))
            .fetch_all(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A subscription as stored now (default: no such subscription) and the stored prices of
/// `price_ids`, in one statement: the subscription's share before a write and, with
/// [`SubscriptionRows::written`], after it. (It used to be read again after the write: one
/// statement more for every subscription event.)
pub(crate) async fn subscription_and_prices(
    conn: &mut AnyConnection,
    env: Environment,
    id: &str,
    price_ids: &[&str],
) -> EngineResult<(SubscriptionRows, ItemPrices)> {
    let sql = if price_ids.is_empty() {
        SUBSCRIPTION_SQL.to_owned()
    } else {
        let placeholders: Vec<String> = (3..3 + price_ids.len()).map(|i| format!("${i}")).collect();
        format!("{SUBSCRIPTION_SQL}{}", ITEM_PRICES_SQL.replace("{}", &placeholders.join(", ")))
    };
    let mut query = sqlx::query(&sql).bind(env.as_str()).bind(id);
    for price in price_ids {
        query = query.bind(*price);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let (mut stored, mut prices) = (SubscriptionRows::default(), ItemPrices::new());
    for row in rows {
        if row.try_get::<String, _>("part")? == "price" {
            prices.insert(row.try_get("price")?, row);
            continue;
        }
        stored.status = Some(row.try_get("status")?);
        if let Some(item) = row.try_get::<Option<String>, _>("item")? {
            let (key, sums) = item_from_row(&row)?;
            stored.items.push((item, key, sums));
        }
    }
    Ok((stored, prices))
}

/// Records that a subscription went from `before` to `after`.
pub(crate) async fn subscription_changed(
    conn: &mut AnyConnection,
    env: Environment,
    before: &SubscriptionShare,
    after: &SubscriptionShare,
) -> EngineResult<()> {
    if before.status != after.status {
        let moves = [(before.status.as_deref(), -1), (after.status.as_deref(), 1)];
        let moves = moves.iter().filter_map(|(s, n)| s.map(|s| (s.to_owned(), *n))).collect::<Vec<_>>();
        statuses_changed(conn, env, &moves).await?;
    }
    mrr_changed(conn, env, &before.mrr, &after.mrr).await
}

async fn statuses_changed(conn: &mut AnyConnection, env: Environment, moves: &[(String, i64)]) -> EngineResult<()> {
    for (status, n) in moves.iter().filter(|(_, n)| *n != 0) {
        let kept = PENDING.try_with(|p| *p.borrow_mut().statuses.entry((env, status.clone())).or_default() += n);
        if kept.is_err() {
            insert_status(conn, env, status, *n).await?;
        }
    }
    Ok(())
}

async fn insert_status(conn: &mut AnyConnection, env: Environment, status: &str, n: i64) -> EngineResult<()> {
    sqlx::query("INSERT INTO payments_rollup_statuses (environment, status, subscriptions) VALUES ($1, $2, $3)")
        .bind(env.as_str())
        .bind(status)
        .bind(n)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records that the billed items' MRR groups went from `before` to `after`.
pub(crate) async fn mrr_changed(
    conn: &mut AnyConnection,
    env: Environment,
    before: &MrrGroups,
    after: &MrrGroups,
) -> EngineResult<()> {
    let mut delta: MrrGroups = after.clone();
    for (key, sums) in before {
        delta.entry(key.clone()).or_default().add(*sums, -1);
    }
    for (key, d) in delta.into_iter().filter(|(_, d)| !d.is_zero()) {
        let kept = PENDING.try_with(|p| p.borrow_mut().mrr.entry((env, key.clone())).or_default().add(d, 1));
        if kept.is_err() {
            insert_mrr(conn, env, &key, &d, false).await?;
        }
    }
    Ok(())
}

async fn insert_mrr(
    conn: &mut AnyConnection,
    env: Environment,
    k: &MrrKey,
    s: &MrrSums,
    folded: bool,
) -> EngineResult<()> {
    sqlx::query(
        "INSERT INTO payments_rollup_mrr (environment, currency, recurring_interval, interval_count, items, priced,
             amount, uncounted, folded) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(env.as_str())
    .bind(k.currency.as_deref())
    .bind(k.interval.as_deref())
    .bind(k.interval_count)
    .bind(s.items)
    .bind(s.priced)
    .bind(s.amount)
    .bind(s.uncounted)
    .bind(i64::from(folded))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The billed items of some prices, summed in one group per price (a seek on the items' price
/// index per price). Run when a price's figures change, appear or go: prices' amounts and
/// intervals never change at Stripe, so this is rare.
pub(crate) async fn prices_share(
    conn: &mut AnyConnection,
    env: Environment,
    prices: &[String],
) -> EngineResult<MrrGroups> {
    let mut groups = MrrGroups::new();
    for price in prices {
        let row = sqlx::query(&format!(
            "SELECT MAX(p.currency) AS currency, MAX(p.recurring_interval) AS recurring_interval,
                 MAX(p.recurring_interval_count) AS recurring_interval_count, COUNT(*) AS items,
                 CAST(SUM(CASE WHEN p.unit_amount IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS priced,
                 CAST(COALESCE(SUM(p.unit_amount * COALESCE(i.quantity, 1)), 0) AS BIGINT) AS amount,
                 CAST(SUM(CASE WHEN p.unit_amount IS NULL OR p.recurring_interval IS NULL THEN 1 ELSE 0 END) AS BIGINT)
                     AS uncounted
             FROM payments_subscription_items i
             JOIN payments_subscriptions s
                 ON s.environment = i.environment AND s.stripe_subscription_id = i.stripe_subscription_id
             LEFT JOIN payments_prices p ON p.environment = i.environment AND p.stripe_price_id = i.stripe_price_id
             WHERE i.environment = $1 AND i.stripe_price_id = $2 AND s.status IN ({})",
            billed_list()
        ))
        .bind(env.as_str())
        .bind(price)
        .fetch_one(&mut *conn)
        .await?;
        let items: i64 = row.try_get("items")?;
        if items == 0 {
            continue;
        }
        let key = MrrKey {
            currency: row.try_get("currency")?,
            interval: row.try_get("recurring_interval")?,
            interval_count: row.try_get("recurring_interval_count")?,
        };
        let sums = MrrSums {
            items,
            priced: row.try_get("priced")?,
            amount: row.try_get("amount")?,
            uncounted: row.try_get("uncounted")?,
        };
        groups.entry(key).or_default().add(sums, 1);
    }
    Ok(groups)
}

fn billed_list() -> String {
    BILLED.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ")
}

/// Takes out the share of the subscriptions the sync is about to delete (the same condition
/// as `mirror::delete_unseen_subscriptions`).
pub(crate) async fn subscriptions_leaving(
    conn: &mut AnyConnection,
    env: Environment,
    synced_at: i64,
    version: i64,
) -> EngineResult<()> {
    const LEAVING: &str = "s.environment = $1 AND s.synced_at < $2 AND COALESCE(s.source_version, 0) <= $3";
    let rows = sqlx::query(&format!(
        "SELECT s.status, COUNT(*) AS n FROM payments_subscriptions s WHERE {LEAVING} GROUP BY s.status"
    ))
    .bind(env.as_str())
    .bind(synced_at)
    .bind(version)
    .fetch_all(&mut *conn)
    .await?;
    let mut moves = Vec::new();
    for r in &rows {
        moves.push((r.try_get::<String, _>("status")?, -r.try_get::<i64, _>("n")?));
    }
    statuses_changed(conn, env, &moves).await?;
    let rows = sqlx::query(&format!(
        "SELECT i.quantity, p.currency, p.recurring_interval, p.recurring_interval_count, p.unit_amount
         FROM payments_subscriptions s
         JOIN payments_subscription_items i
             ON i.environment = s.environment AND i.stripe_subscription_id = s.stripe_subscription_id
         LEFT JOIN payments_prices p ON p.environment = i.environment AND p.stripe_price_id = i.stripe_price_id
         WHERE {LEAVING} AND s.status IN ({})",
        billed_list()
    ))
    .bind(env.as_str())
    .bind(synced_at)
    .bind(version)
    .fetch_all(&mut *conn)
    .await?;
    let mut leaving = MrrGroups::new();
    for row in &rows {
        let (key, sums) = item_from_row(row)?;
        leaving.entry(key).or_default().add(sums, 1);
    }
    mrr_changed(conn, env, &leaving, &MrrGroups::new()).await
}

/// Compacts `env`'s deltas into one row per group. Run inside a transaction that sees one
/// snapshot (SQLite's write transaction; PostgreSQL's `REPEATABLE READ`): the rows it sums are
/// exactly the rows it deletes, and deltas committed meanwhile stay for the next fold.
/// Returns how many rows it folded.
pub(crate) async fn fold(conn: &mut AnyConnection, env: Environment) -> EngineResult<u64> {
    serialize_figures(conn, env).await?;
    let e = env.as_str();
    let mut folded = 0;
    let unfolded = |table: &str| format!("SELECT COUNT(*) FROM {table} WHERE environment = $1 AND folded = 0");

    if sqlx::query_scalar::<_, i64>(&unfolded("payments_rollup_statuses")).bind(e).fetch_one(&mut *conn).await? > 0 {
        let rows = sqlx::query(
            "SELECT status, CAST(SUM(subscriptions) AS BIGINT) AS n FROM payments_rollup_statuses
             WHERE environment = $1 GROUP BY status",
        )
        .bind(e)
        .fetch_all(&mut *conn)
        .await?;
        let done = sqlx::query("DELETE FROM payments_rollup_statuses WHERE environment = $1")
            .bind(e)
            .execute(&mut *conn)
            .await?;
        folded += done.rows_affected();
        for r in &rows {
            let n: i64 = r.try_get("n")?;
            if n != 0 {
                sqlx::query(
                    "INSERT INTO payments_rollup_statuses (environment, status, subscriptions, folded) VALUES ($1, $2, $3, 1)",
                )
                .bind(e)
                .bind(r.try_get::<String, _>("status")?)
                .bind(n)
                .execute(&mut *conn)
                .await?;
            }
        }
    }

    if sqlx::query_scalar::<_, i64>(&unfolded("payments_rollup_mrr")).bind(e).fetch_one(&mut *conn).await? > 0 {
        let groups = read_mrr(conn, env).await?;
        let done =
            sqlx::query("DELETE FROM payments_rollup_mrr WHERE environment = $1").bind(e).execute(&mut *conn).await?;
        folded += done.rows_affected();
        for (key, sums) in groups.iter().filter(|(_, s)| !s.is_zero()) {
            insert_mrr(conn, env, key, sums, true).await?;
        }
    }

    // Days: only the days that have deltas (today, mostly), in three set statements. Folding
    // every day between the oldest and the newest delta rewrote the whole history's figures
    // (one statement per group, thousands) whenever a refund touched an old payment: at 1M
    // history rows, a fifth of PostgreSQL's statements under a webhook burst. The new rows are
    // marked 2 until the old ones are gone; readers sum every row, and see none of this
    // before the commit.
    sqlx::query(FOLD_DAYS_SQL).bind(e).execute(&mut *conn).await?;
    let done = sqlx::query(FOLD_DAYS_DELETE_SQL).bind(e).execute(&mut *conn).await?;
    folded += done.rows_affected();
    sqlx::query(FOLD_DAYS_MARK_SQL).bind(e).execute(&mut *conn).await?;
    Ok(folded)
}

/// The folded rows of the days that have deltas (`$1` environment), marked 2 until [`fold`]
/// deleted the rows they sum. Public for the plan tests (`tests/api/write_plans.rs`).
pub const FOLD_DAYS_SQL: &str =
    "INSERT INTO payments_rollup_days (environment, day, counted, refund, failed, currency, payments, amount, folded)
     SELECT environment, day, counted, refund, failed, currency, CAST(SUM(payments) AS BIGINT),
         CAST(SUM(amount) AS BIGINT), 2
     FROM payments_rollup_days
     WHERE environment = $1
         AND day IN (SELECT day FROM payments_rollup_days WHERE environment = $1 AND folded = 0)
     GROUP BY environment, day, counted, refund, failed, currency
     HAVING SUM(payments) <> 0 OR SUM(amount) <> 0";

/// The rows [`FOLD_DAYS_SQL`] summed: every row but its own of the days that have deltas.
pub const FOLD_DAYS_DELETE_SQL: &str = "DELETE FROM payments_rollup_days WHERE environment = $1 AND folded <> 2
     AND day IN (SELECT day FROM payments_rollup_days WHERE environment = $1 AND folded = 0)";

/// [`FOLD_DAYS_SQL`]'s rows, marked folded once the rows they sum are gone.
pub const FOLD_DAYS_MARK_SQL: &str = "UPDATE payments_rollup_days SET folded = 1 WHERE environment = $1 AND folded = 2";

/// `env`'s MRR groups, summed over their rows.
pub(crate) async fn read_mrr(conn: &mut AnyConnection, env: Environment) -> EngineResult<MrrGroups> {
    let rows = sqlx::query(MRR_SQL).bind(env.as_str()).fetch_all(&mut *conn).await?;
    let mut groups = MrrGroups::new();
    for r in &rows {
        let key = MrrKey {
            currency: r.try_get("currency")?,
            interval: r.try_get("recurring_interval")?,
            interval_count: r.try_get("interval_count")?,
        };
        let sums = MrrSums {
            items: r.try_get("items")?,
            priced: r.try_get("priced")?,
            amount: r.try_get("amount")?,
            uncounted: r.try_get("uncounted")?,
        };
        groups.entry(key).or_default().add(sums, 1);
    }
    Ok(groups)
}

/// The MRR groups' sums (`$1` environment). Public for the plan tests, through `ListShape`.
pub(crate) const MRR_SQL: &str = "SELECT currency, recurring_interval, interval_count,
         CAST(SUM(items) AS BIGINT) AS items, CAST(SUM(priced) AS BIGINT) AS priced,
         CAST(SUM(amount) AS BIGINT) AS amount, CAST(SUM(uncounted) AS BIGINT) AS uncounted
     FROM payments_rollup_mrr WHERE environment = $1
     GROUP BY currency, recurring_interval, interval_count";

/// Subscriptions by status (`$1` environment).
pub(crate) const STATUSES_SQL: &str = "SELECT status, CAST(SUM(subscriptions) AS BIGINT) AS n
     FROM payments_rollup_statuses WHERE environment = $1 GROUP BY status";

/// History by day and bucket from a day on (`$1` environment, `$2` the first day).
pub(crate) const DAYS_SQL: &str = "SELECT day, counted, refund, failed, currency,
         CAST(SUM(payments) AS BIGINT) AS n, CAST(SUM(amount) AS BIGINT) AS amount
     FROM payments_rollup_days WHERE environment = $1 AND day >= $2
     GROUP BY day, counted, refund, failed, currency";

/// The recount's statements: the migration's, from its marker on.
fn recount_statements() -> impl Iterator<Item = &'static str> {
    let from = MIGRATION.find(RECOUNT_FROM).expect("the rollup migration holds its recount");
    MIGRATION[from..].split(';').map(str::trim).filter(|s| !s.is_empty())
}

/// Rebuilds every environment's figures from the mirror, inside the caller's snapshot
/// transaction (see [`fold`]). For rows written straight into the tables (the benchmark's
/// data, the tests' fixtures) and as a repair.
pub(crate) async fn recount(conn: &mut AnyConnection) -> EngineResult<()> {
    for sql in recount_statements() {
        sqlx::query(sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Rebuilds the overview's figures from the mirror tables in one transaction, for rows written
/// straight into them while no engine writes (the benchmark's generated data). A running
/// engine has `Engine::recount_overview`.
pub async fn recount_tables(pool: &sqlx::AnyPool) -> EngineResult<()> {
    let mut tx = pool.begin().await?;
    recount(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recount_is_the_migrations_last_six_statements() {
        let all: Vec<&str> = recount_statements().collect();
        assert_eq!(all.len(), 6, "{all:#?}");
        assert!(all[0].starts_with("DELETE FROM payments_rollup_statuses"));
        assert!(all[5].starts_with("INSERT INTO payments_rollup_days"));
    }

    #[test]
    fn a_history_rows_share_follows_the_overviews_buckets() {
        let paid = HistoryShare::new("one_time_payment", "succeeded", Some("usd"), Some(500), None, 3 * DAY_MS + 5);
        assert_eq!((paid.day, paid.counted, paid.refund, paid.failed, paid.amount), (3, true, false, false, 500));
        let refunded = paid.with_status("one_time_payment", "partially_refunded");
        assert!(refunded.counted && refunded.amount == 500 && refunded.currency.as_deref() == Some("usd"));
        let failed = paid.with_status("one_time_payment", "failed");
        assert!(!failed.counted && failed.failed);
        let refund = HistoryShare::new("refund", "succeeded", Some("usd"), None, Some(DAY_MS), 9 * DAY_MS);
        assert_eq!((refund.day, refund.counted, refund.refund, refund.amount), (1, false, true, 0));
    }

    #[test]
    fn an_items_share_leaves_out_what_has_no_amount_or_interval() {
        let (_, monthly) = item_share(Some("usd".into()), Some("month".into()), Some(1), Some(1000), Some(3));
        assert_eq!(monthly, MrrSums { items: 1, priced: 1, amount: 3000, uncounted: 0 });
        let (_, tiered) = item_share(Some("usd".into()), Some("month".into()), Some(1), None, None);
        assert_eq!(tiered, MrrSums { items: 1, priced: 0, amount: 0, uncounted: 1 });
        let (key, unknown) = item_share(None, None, None, None, Some(2));
        assert_eq!((key, unknown.uncounted), (MrrKey::default(), 1));
        let (_, setup_fee) = item_share(Some("usd".into()), None, None, Some(500), None);
        assert_eq!(setup_fee, MrrSums { items: 1, priced: 1, amount: 500, uncounted: 1 });
    }
}
