//! The payment-history view's chart and status breakdown: the backend's summary route, or, from a
//! backend without it (InsForge), the same counts over the newest rows read page by page.

use payments_model::{DayCount, HistorySummary, PaymentHistory, PaymentKind, PaymentStatus};

/// Counts rows per day and per status, as the engine's summary does (pure: the fallback for a
/// backend without the summary route, and tests).
pub fn summarize(rows: &[PaymentHistory], truncated: bool) -> HistorySummary {
    use std::collections::BTreeMap;
    let mut days: BTreeMap<String, DayCount> = BTreeMap::new();
    let mut statuses: BTreeMap<PaymentStatus, u32> = BTreeMap::new();
    for r in rows {
        let at = r.stripe_created_at.as_deref().unwrap_or(&r.created_at);
        let date = at.get(..10).unwrap_or(at).to_owned();
        let day = days.entry(date.clone()).or_insert(DayCount { date, payments: 0, refunds: 0 });
        if r.kind == PaymentKind::Refund {
            day.refunds += 1;
        } else {
            day.payments += 1;
        }
        *statuses.entry(r.status.clone()).or_default() += 1;
    }
    HistorySummary::from_counts(days.into_values().collect(), statuses, truncated)
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::auth::CurrentUser;
    use crate::backend::ssr::{BackendError, PaymentsBackend};
    use crate::environment::Environment;
    use crate::error::AppError;
    use crate::model::history::HistoryFilters;
    use crate::services::listing::list_with_fallback;
    use std::sync::Arc;

    /// The chart and status counts of the view `filters` select, over its newest
    /// [`payments_model::HISTORY_SUMMARY_ROWS`] rows.
    pub async fn summary(
        backend: &Arc<dyn PaymentsBackend>,
        user: &CurrentUser,
        env: Environment,
        filters: &HistoryFilters,
    ) -> Result<HistorySummary, AppError> {
        let q = filters.list_query(100, payments_model::Paging::Unpaged)?;
        match backend.payment_history_summary(user, env, &q).await {
            Err(BackendError::Unsupported(_)) => {}
            other => return Ok(other?),
        }
        // A backend without the summary route (InsForge): count the newest rows page by page.
        let mut rows = Vec::new();
        let mut cursor = payments_model::Paging::First;
        let mut truncated = false;
        loop {
            let q = filters.list_query(100, cursor.clone())?;
            let listing = list_with_fallback(q, |q| {
                let (backend, user) = (backend.clone(), user.clone());
                async move { backend.payment_history(&user, env, &q).await }
            })
            .await?;
            rows.extend(listing.page.items);
            match listing.page.next_cursor {
                Some(next) if listing.notice.is_none() => {
                    if rows.len() >= payments_model::HISTORY_SUMMARY_ROWS {
                        truncated = true;
                        break;
                    }
                    cursor = payments_model::Paging::After(next);
                }
                _ => break,
            }
        }
        Ok(summarize(&rows, truncated))
    }
}

#[cfg(feature = "ssr")]
pub use ssr::summary;

#[cfg(test)]
mod tests {
    use super::*;
    use payments_model::StatusCount;

    fn row(kind: &str, status: &str, at: &str) -> PaymentHistory {
        serde_json::from_value(serde_json::json!({
            "environment": "test", "type": kind, "status": status, "subjectType": null, "subjectId": null,
            "stripeCustomerId": null, "customerEmailSnapshot": null, "stripeCheckoutSessionId": null,
            "stripePaymentIntentId": null, "stripeInvoiceId": null, "stripeChargeId": null, "stripeRefundId": null,
            "stripeSubscriptionId": null, "stripeProductId": null, "stripePriceId": null, "amount": 100,
            "amountRefunded": 0, "currency": "usd", "description": null, "paidAt": null, "failedAt": null,
            "refundedAt": null, "stripeCreatedAt": at, "createdAt": at, "updatedAt": at
        }))
        .unwrap()
    }

    #[test]
    fn summarizes_per_day_and_status() {
        let rows = [
            row("subscription_invoice", "succeeded", "2026-11-24T10:00:00.000Z"),
            row("refund", "succeeded", "2026-11-24T11:00:00.000Z"),
            row("one_time_payment", "failed", "2026-11-25T09:00:00.000Z"),
        ];
        let s = summarize(&rows, false);
        assert_eq!(s.days.len(), 2);
        assert_eq!((s.days[0].date.as_str(), s.days[0].payments, s.days[0].refunds), ("2026-11-24", 1, 1));
        assert_eq!(
            s.statuses,
            vec![
                StatusCount { status: PaymentStatus::Succeeded, rows: 2 },
                StatusCount { status: PaymentStatus::Failed, rows: 1 }
            ]
        );
    }
}
