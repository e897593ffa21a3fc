//! The overview's figures (issue #14, additive route `GET /{env}/overview`): four grouped
//! statements, each reading one environment through an index (see `tests/api/plans.rs`).

use std::collections::BTreeMap;

use payments_model::{monthly_amount, CurrencyAmount, DayPayments, Overview, StatusCount};
use sqlx::Row;

use crate::engine::Engine;
use crate::environment::Environment;
use crate::error::EngineResult;
use crate::lists::{Bind, Statement, COUNTED, DAY_MS, HISTORY_AT};
use crate::time::{iso_ms, now_ms};

/// The payment chart's length.
const DAYS: i64 = 30;
/// The window of "failed payments and refunds lately".
const RECENT_DAYS: i64 = 7;
/// Subscriptions whose items are billed, and so count towards MRR.
const BILLED: &str = "('active', 'past_due')";

/// Which of the overview's statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Figure {
    /// Subscriptions by status.
    Subscriptions,
    /// Billed subscription items by their price's currency and interval.
    Mrr,
    /// Payments since a time, by day, kind, status and currency.
    Payments,
    /// Failed and pending webhook events.
    Events,
}

/// The statement of one figure; `since` (ms) bounds the payments read.
pub(crate) fn statement(figure: Figure, env: Environment, since: i64) -> Statement {
    let env = Bind::Text(env.as_str().to_owned());
    match figure {
        Figure::Subscriptions => Statement {
            sql: "SELECT status, COUNT(*) AS n FROM payments_subscriptions WHERE environment = $1 GROUP BY status".into(),
            binds: vec![env],
        },
        // Items whose price is unknown or has no unit amount (tiered, metered) land in groups
        // with a NULL amount and are counted apart.
        Figure::Mrr => Statement {
            // Tables by their full names (no aliases): the plan tests read them off the plan.
            sql: format!(
                "SELECT payments_prices.currency AS currency, payments_prices.recurring_interval AS interval, \
                 payments_prices.recurring_interval_count AS interval_count, \
                 CAST(SUM(payments_prices.unit_amount * COALESCE(payments_subscription_items.quantity, 1)) AS BIGINT) \
                 AS amount, \
                 CAST(SUM(CASE WHEN payments_prices.unit_amount IS NULL OR payments_prices.recurring_interval IS NULL \
                 THEN 1 ELSE 0 END) AS BIGINT) AS uncounted \
                 FROM payments_subscriptions \
                 JOIN payments_subscription_items \
                   ON payments_subscription_items.environment = payments_subscriptions.environment \
                  AND payments_subscription_items.stripe_subscription_id = payments_subscriptions.stripe_subscription_id \
                 LEFT JOIN payments_prices \
                   ON payments_prices.environment = payments_subscription_items.environment \
                  AND payments_prices.stripe_price_id = payments_subscription_items.stripe_price_id \
                 WHERE payments_subscriptions.environment = $1 AND payments_subscriptions.status IN {BILLED} \
                 GROUP BY payments_prices.currency, payments_prices.recurring_interval, \
                 payments_prices.recurring_interval_count"
            ),
            binds: vec![env],
        },
        Figure::Payments => Statement {
            sql: format!(
                "SELECT {HISTORY_AT} / {DAY_MS} AS day, \
                 CAST(CASE WHEN {COUNTED} THEN 1 ELSE 0 END AS BIGINT) AS counted, \
                 CAST(CASE WHEN type = 'refund' THEN 1 ELSE 0 END AS BIGINT) AS refund, \
                 CAST(CASE WHEN status = 'failed' THEN 1 ELSE 0 END AS BIGINT) AS failed, \
                 currency, COUNT(*) AS n, CAST(SUM(COALESCE(amount, 0)) AS BIGINT) AS amount \
                 FROM payments_payment_history WHERE environment = $1 AND {HISTORY_AT} >= $2 \
                 GROUP BY {HISTORY_AT} / {DAY_MS}, \
                 CASE WHEN {COUNTED} THEN 1 ELSE 0 END, CASE WHEN type = 'refund' THEN 1 ELSE 0 END, \
                 CASE WHEN status = 'failed' THEN 1 ELSE 0 END, currency"
            ),
            binds: vec![env, Bind::Int(since)],
        },
        Figure::Events => Statement {
            sql: "SELECT processing_status AS status, COUNT(*) AS n FROM payments_webhook_events \
                  WHERE environment = $1 AND processing_status IN ('failed', 'pending') GROUP BY processing_status"
                .into(),
            binds: vec![env],
        },
    }
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Amounts per currency, largest first (then by currency, for a stable order).
fn by_amount(totals: BTreeMap<String, i64>) -> Vec<CurrencyAmount> {
    let mut all: Vec<CurrencyAmount> =
        totals.into_iter().map(|(currency, amount)| CurrencyAmount { currency, amount }).collect();
    all.sort_by(|a, b| b.amount.cmp(&a.amount).then_with(|| a.currency.cmp(&b.currency)));
    all
}

impl Engine {
    /// `GET /{env}/subscriptions/summary` (additive): subscriptions by status, most frequent
    /// first (the Subscriptions page's mix, without the rest of the overview).
    pub async fn subscription_statuses(&self, env: Environment) -> EngineResult<Vec<StatusCount>> {
        let mut statuses: Vec<StatusCount> = Vec::new();
        for r in statement(Figure::Subscriptions, env, 0).fetch(self.pool()).await? {
            statuses.push(StatusCount { status: r.try_get("status")?, rows: count(r.try_get("n")?) });
        }
        statuses.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.status.cmp(&b.status)));
        Ok(statuses)
    }

    /// `GET /{env}/overview` (additive): the environment at a glance, as of now.
    pub async fn overview(&self, env: Environment) -> EngineResult<Overview> {
        let now = now_ms();
        let today = now.div_euclid(DAY_MS);
        let first_day = today - (DAYS - 1);
        let recent_from = today - (RECENT_DAYS - 1);
        let pool = self.pool();
        let mut o = Overview { computed_at: iso_ms(now), ..Overview::default() };

        o.subscriptions = self.subscription_statuses(env).await?;

        let mut mrr: BTreeMap<String, i64> = BTreeMap::new();
        for r in statement(Figure::Mrr, env, 0).fetch(pool).await? {
            o.mrr_uncounted_items += count(r.try_get("uncounted")?);
            let currency: Option<String> = r.try_get("currency")?;
            let interval: Option<String> = r.try_get("interval")?;
            let amount: Option<i64> = r.try_get("amount")?;
            let every: Option<i64> = r.try_get("interval_count")?;
            if let (Some(currency), Some(interval), Some(amount)) = (currency, interval, amount) {
                // One-time prices on a subscription (setup fees) are not recurring revenue.
                if let Some(monthly) = monthly_amount(amount, &interval, every.unwrap_or(1)) {
                    *mrr.entry(currency).or_default() += monthly;
                }
            }
        }
        o.mrr = by_amount(mrr);

        let mut days: BTreeMap<i64, DayPayments> = (first_day..=today)
            .map(|d| (d, DayPayments { date: iso_ms(d * DAY_MS)[..10].to_owned(), succeeded: 0, failed: 0 }))
            .collect();
        let mut volume: BTreeMap<String, i64> = BTreeMap::new();
        for r in statement(Figure::Payments, env, first_day * DAY_MS).fetch(pool).await? {
            let day: i64 = r.try_get("day")?;
            let n = count(r.try_get("n")?);
            let (counted, refund, failed): (i64, i64, i64) =
                (r.try_get("counted")?, r.try_get("refund")?, r.try_get("failed")?);
            let entry = days.get_mut(&day);
            if counted == 1 {
                o.payments_30d += n;
                if let Some(currency) = r.try_get::<Option<String>, _>("currency")? {
                    *volume.entry(currency).or_default() += r.try_get::<Option<i64>, _>("amount")?.unwrap_or(0);
                }
                if let Some(entry) = entry {
                    entry.succeeded += n;
                }
            } else if failed == 1 && refund == 0 {
                if let Some(entry) = entry {
                    entry.failed += n;
                }
                if day >= recent_from {
                    o.failed_7d += n;
                }
            }
            if refund == 1 && day >= recent_from {
                o.refunds_7d += n;
            }
        }
        o.volume_30d = by_amount(volume);
        o.days = days.into_values().collect();

        for r in statement(Figure::Events, env, 0).fetch(pool).await? {
            let n = count(r.try_get("n")?);
            match r.try_get::<String, _>("status")?.as_str() {
                "failed" => o.events_failed = n,
                _ => o.events_pending = n,
            }
        }
        Ok(o)
    }
}
