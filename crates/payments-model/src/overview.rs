//! The overview's figures (additive route `GET /{env}/overview`): what an admin or support
//! agent wants to know first about an environment.

use serde::{Deserialize, Serialize};

use crate::lists::StatusCount;
use crate::values::SubscriptionStatus;

/// An amount in one currency, in its minor unit (cents; yen for zero-decimal currencies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyAmount {
    /// ISO 4217, lowercase as Stripe writes it.
    pub currency: String,
    /// Minor units.
    pub amount: i64,
}

/// One day of the last 30 days' payments (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DayPayments {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Payments that went through (counting those refunded since).
    pub succeeded: u32,
    /// Payments that failed.
    pub failed: u32,
}

/// An environment at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// When the figures were computed (ISO 8601).
    pub computed_at: String,
    /// Subscriptions by status, most frequent first.
    pub subscriptions: Vec<StatusCount<SubscriptionStatus>>,
    /// Monthly recurring revenue per currency, largest first: the items of active and past-due
    /// subscriptions at their price's unit amount times quantity, with yearly, weekly and daily
    /// prices normalised to a month (a month is a twelfth of a year, 52/12 weeks or 365/12
    /// days). Discounts and taxes are not applied.
    pub mrr: Vec<CurrencyAmount>,
    /// Items left out of [`Overview::mrr`]: their price has no unit amount (tiered or metered)
    /// or is not in the mirror.
    pub mrr_uncounted_items: u32,
    /// Payments that went through in the last 30 days.
    pub payments_30d: u32,
    /// Their volume per currency, largest first (refunds not deducted).
    pub volume_30d: Vec<CurrencyAmount>,
    /// The last 30 days, oldest first, each day present.
    pub days: Vec<DayPayments>,
    /// Payments that failed in the last 7 days.
    pub failed_7d: u32,
    /// Refunds in the last 7 days.
    pub refunds_7d: u32,
    /// Webhook events whose processing failed, counted up to [`EVENT_COUNT_LIMIT`]: a figure
    /// above it means "more than [`EVENT_COUNT_LIMIT`]".
    pub events_failed: u32,
    /// Webhook events received and not processed yet, counted like [`Overview::events_failed`].
    pub events_pending: u32,
}

/// How far the overview counts failed and pending webhook events. Past it the figure is
/// `EVENT_COUNT_LIMIT + 1`, read "more than": the count stays a bounded index read at any
/// size of the event log, and a thousand failures call for the same look as ten thousand.
pub const EVENT_COUNT_LIMIT: u32 = 1_000;

/// The share of a month one billing interval stands for, as `(numerator, denominator)`:
/// `None` for an interval Stripe does not have.
pub fn months_per_interval(interval: &str) -> Option<(i64, i64)> {
    crate::values::RecurringInterval::from(interval).months()
}

/// The monthly amount of `amount` billed every `count` `interval`s, rounded to the nearest
/// minor unit; `None` for an unknown interval or a count below one.
pub fn monthly_amount(amount: i64, interval: &str, count: i64) -> Option<i64> {
    let (months_num, months_den) = months_per_interval(interval)?;
    if count < 1 {
        return None;
    }
    // amount / (count × months) with months = months_num / months_den, rounded half up.
    let num = i128::from(amount) * i128::from(months_den);
    let den = i128::from(count) * i128::from(months_num);
    i64::try_from((2 * num + den) / (2 * den)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_normalised_to_a_month() {
        assert_eq!(monthly_amount(1000, "month", 1), Some(1000));
        assert_eq!(monthly_amount(12000, "year", 1), Some(1000));
        assert_eq!(monthly_amount(3000, "month", 3), Some(1000));
        // 52 weeks make 12 months: 100 a week is 433.33 a month.
        assert_eq!(monthly_amount(100, "week", 1), Some(433));
        assert_eq!(monthly_amount(100, "week", 2), Some(217));
        // 365 days make 12 months: 10 a day is 304.17 a month.
        assert_eq!(monthly_amount(10, "day", 1), Some(304));
        assert_eq!(monthly_amount(10, "fortnight", 1), None);
        assert_eq!(monthly_amount(10, "month", 0), None);
        assert_eq!(monthly_amount(i64::MAX, "day", 1), None, "overflow is refused, not wrapped");
    }
}
