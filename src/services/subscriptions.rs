//! Subscriptions as support sees them: the list (filtered by billing subject, status and
//! customer, keyset-paginated, with labels for its prices and products), and one subscription
//! with its payments.

use crate::services::listing::Listing;
use payments_model::{PaymentHistory, Subscription};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The filters of the subscriptions list, as they appear in the URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionFilters {
    pub subject_type: String,
    pub subject_id: String,
    pub status: String,
    pub customer: String,
}

impl SubscriptionFilters {
    /// The URL's query pairs (empty values are dropped when the link is built).
    pub fn pairs(&self) -> Vec<(String, String)> {
        vec![
            ("subjectType".into(), self.subject_type.clone()),
            ("subjectId".into(), self.subject_id.clone()),
            ("status".into(), self.status.clone()),
            ("customer".into(), self.customer.clone()),
        ]
    }
}

/// A page of subscriptions, with labels for the prices and products of their items.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionList {
    pub listing: Listing<Subscription>,
    /// Price and product ids to a readable label (best-effort, from the catalog).
    pub labels: BTreeMap<String, String>,
}

/// Everything about one subscription, and its payments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionInfo {
    pub subscription: Subscription,
    pub labels: BTreeMap<String, String>,
    /// Payment history of its subject (or customer), newest first; this subscription's rows
    /// carry its id.
    pub payments: Vec<PaymentHistory>,
    pub notice: Option<String>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::auth::CurrentUser;
    use crate::backend::ssr::PaymentsBackend;
    use crate::backend::ListQuery;
    use crate::environment::Environment;
    use crate::error::AppError;
    use crate::services::catalog::labels;
    use crate::services::listing::list_with_fallback;
    use payments_model::Cursor;
    use std::sync::Arc;

    /// A page of subscriptions matching `filters`, after `cursor` (the first page without one),
    /// `limit` rows (1–100), with the labels of their prices and products.
    pub async fn list(
        backend: &Arc<dyn PaymentsBackend>,
        user: &CurrentUser,
        env: Environment,
        filters: &SubscriptionFilters,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<SubscriptionList, AppError> {
        let mut q = ListQuery::<payments_model::SubscriptionListFilters> {
            limit: Some(limit.clamp(1, 100)),
            cursor: payments_model::Paging::from_cursor(cursor),
            ..Default::default()
        };
        let (st, si) = (filters.subject_type.trim(), filters.subject_id.trim());
        if !st.is_empty() || !si.is_empty() {
            if st.is_empty() || si.is_empty() {
                return Err(AppError::Invalid("Give both the subject type and the subject id.".into()));
            }
            q.subject = Some((st.to_owned(), si.to_owned()));
        }
        let given = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        q.filters.status = given(&filters.status).map(payments_model::SubscriptionStatus::from);
        q.filters.customer = given(&filters.customer);
        let listing = list_with_fallback(q, |q| {
            let (backend, user) = (backend.clone(), user.clone());
            async move { backend.subscriptions(&user, env, &q).await }
        })
        .await?;
        let labels = labels(backend, user, env).await;
        Ok(SubscriptionList { listing, labels })
    }

    /// One subscription (through the list filtered by id: the contract has no single-item
    /// route) with the payments of its subject, or of its customer when it has none.
    pub async fn detail(
        backend: &Arc<dyn PaymentsBackend>,
        user: &CurrentUser,
        env: Environment,
        id: &str,
    ) -> Result<SubscriptionInfo, AppError> {
        // The engine filters by id (one row); a remote backend without filters falls back to its
        // first page, searched here, with a notice.
        let mut q = ListQuery::<payments_model::SubscriptionListFilters> { limit: Some(100), ..Default::default() };
        q.filters.id = Some(id.to_owned());
        let listing = list_with_fallback(q, |q| {
            let (backend, user) = (backend.clone(), user.clone());
            async move { backend.subscriptions(&user, env, &q).await }
        })
        .await?;
        let notice = listing.notice;
        let found = listing.page.items.into_iter().find(|s| s.stripe_subscription_id == id);
        let Some(subscription) = found else { return Err(AppError::NotFound) };
        let mut q = ListQuery::<payments_model::HistoryListFilters> { limit: Some(100), ..Default::default() };
        match (&subscription.subject_type, &subscription.subject_id) {
            (Some(t), Some(i)) => q.subject = Some((t.clone(), i.clone())),
            _ => q.filters.customer = Some(subscription.stripe_customer_id.clone()),
        }
        let history = list_with_fallback(q, |q| {
            let (backend, user) = (backend.clone(), user.clone());
            async move { backend.payment_history(&user, env, &q).await }
        })
        .await?;
        let payments = if history.notice.is_some() {
            // Unfiltered: keep only the rows that belong here.
            history
                .page
                .items
                .into_iter()
                .filter(|p| p.stripe_customer_id.as_deref() == Some(subscription.stripe_customer_id.as_str()))
                .collect()
        } else {
            history.page.items
        };
        let labels = labels(backend, user, env).await;
        Ok(SubscriptionInfo { subscription, labels, payments, notice: notice.or(history.notice) })
    }
}

#[cfg(feature = "ssr")]
pub use ssr::{detail, list};
