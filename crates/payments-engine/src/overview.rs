//! The overview's figures (issue #14, additive route `GET /{env}/overview`): four grouped
//! statements, each reading one environment through an index (see `tests/api/plans.rs`); three
//! of them read the figures the mirror's writers keep (`store::rollups`).

use std::collections::BTreeMap;

use payments_model::{
    monthly_amount, CurrencyAmount, DayPayments, Overview, ProcessingStatus, StatusCount, SubscriptionStatus,
    EVENT_COUNT_LIMIT,
};
use sqlx::Row;

use crate::engine::Engine;
use crate::environment::Environment;
use crate::error::EngineResult;
use crate::lists::{Bind, Statement, DAY_MS};
use crate::store::rollups;
use crate::time::{iso_ms, now_ms};

/// The payment chart's length.
const DAYS: i64 = 30;
/// The window of "failed payments and refunds lately".
const RECENT_DAYS: i64 = 7;
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

/// The statement of one figure; `since` (ms) bounds the payments read. The first three read
/// the figures kept as the mirror is written (`store::rollups`): a few rows per group and day.
pub(crate) fn statement(figure: Figure, env: Environment, since: i64) -> Statement {
    let env = Bind::Text(env.as_str().to_owned());
    match figure {
        Figure::Subscriptions => Statement { sql: rollups::STATUSES_SQL.into(), binds: vec![env] },
        Figure::Mrr => Statement { sql: rollups::MRR_SQL.into(), binds: vec![env] },
        Figure::Payments => {
            Statement { sql: rollups::DAYS_SQL.into(), binds: vec![env, Bind::Int(since.div_euclid(DAY_MS))] }
        }
        // Failed and pending events are the exceptions: counted through the status index, each
        // up to one past `EVENT_COUNT_LIMIT`. An exact count reads every matching index entry
        // (20k failed events of 1M took 17 ms on PostgreSQL, against the 10 ms list budget);
        // past the limit the figure only needs to say "more than".
        Figure::Events => {
            let limit = i64::from(EVENT_COUNT_LIMIT) + 1;
            let count = |status: ProcessingStatus| {
                format!(
                    "SELECT '{status}' AS status, (SELECT COUNT(*) FROM (SELECT 1 FROM payments_webhook_events \
                     WHERE environment = $1 AND processing_status = '{status}' LIMIT {limit}) AS e) AS n",
                    status = status.as_str()
                )
            };
            Statement {
                sql: format!("{} UNION ALL {}", count(ProcessingStatus::Failed), count(ProcessingStatus::Pending)),
                binds: vec![env],
            }
        }
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
    pub async fn subscription_statuses(&self, env: Environment) -> EngineResult<Vec<StatusCount<SubscriptionStatus>>> {
        let mut statuses: Vec<StatusCount<SubscriptionStatus>> = Vec::new();
        for r in statement(Figure::Subscriptions, env, 0).fetch(self.pool()).await? {
            let n: i64 = r.try_get("n")?;
            if n > 0 {
                statuses.push(StatusCount { status: r.try_get::<String, _>("status")?.into(), rows: count(n) });
            }
        }
        StatusCount::sort(&mut statuses);
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
            let interval: Option<String> = r.try_get("recurring_interval")?;
            // A group of tiered or metered prices only has no amount to count.
            let priced: i64 = r.try_get("priced")?;
            let amount = Some(r.try_get::<i64, _>("amount")?).filter(|_| priced > 0);
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
            match ProcessingStatus::from(r.try_get::<String, _>("status")?) {
                ProcessingStatus::Failed => o.events_failed = n,
                _ => o.events_pending = n,
            }
        }
        Ok(o)
    }
}
