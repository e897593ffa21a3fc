//! One billing subject (`team:acme`), everything support looks for: the customers who pay for
//! it, its subscriptions, payments and refunds, and recent events about them.

use payments_model::{CustomerListItem, PaymentHistory, Subscription, WebhookEvent};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A customer whose subscriptions or payments carry the subject.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MappedCustomer {
    pub id: String,
    /// From the customers list, when the backend can search it.
    pub details: Option<CustomerListItem>,
    pub via_subscriptions: bool,
    pub via_payments: bool,
}

/// Everything the subject page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubjectData {
    pub customers: Vec<MappedCustomer>,
    pub subscriptions: Vec<Subscription>,
    pub subscriptions_more: bool,
    /// Payments and invoices (no refunds), newest first.
    pub payments: Vec<PaymentHistory>,
    pub refunds: Vec<PaymentHistory>,
    pub history_more: bool,
    /// `None` when the backend has no event log.
    pub events: Option<Vec<WebhookEvent>>,
    pub notice: Option<String>,
    pub labels: BTreeMap<String, String>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::auth::CurrentUser;
    use crate::backend::ssr::{BackendError, PaymentsBackend};
    use crate::backend::ListQuery;
    use crate::environment::Environment;
    use crate::error::AppError;
    use std::sync::Arc;

    /// Rows of the subscriptions and of the payment history the page shows: a list page.
    const SECTION_ROWS: u32 = 50;

    /// Loads the subject page's data: its subscriptions, its history and the catalog's labels
    /// at once (independent reads), then the details of the customers they name and the events
    /// about them.
    pub async fn subject(
        backend: &Arc<dyn PaymentsBackend>,
        user: &CurrentUser,
        env: Environment,
        subject_type: &str,
        subject_id: &str,
    ) -> Result<SubjectData, AppError> {
        let subject = Some((subject_type.trim().to_owned(), subject_id.trim().to_owned()));
        // The contract's own parameters (subject + limit): every backend answers these. One
        // list page of each, newest first, as every list of the console shows; the sections
        // link to the full lists. (100 rows of each took the page to ~47 ms p95 at 1M history
        // rows, against the 50 ms page budget of issue #10.)
        let q = ListQuery {
            limit: Some(SECTION_ROWS),
            subject: subject.clone(),
            cursor: payments_model::Paging::First,
            ..Default::default()
        };
        // The subject's subscriptions, its history and the catalog's labels do not depend on each
        // other: read together, the page waits for the slowest read, not for their sum.
        let (listing, history, labels) = tokio::join!(
            crate::services::listing::list_with_fallback(q.clone(), |q| {
                let (backend, user) = (backend.clone(), user.clone());
                async move { backend.subscriptions(&user, env, &q).await }
            }),
            crate::services::listing::list_with_fallback(q.with_filters(Default::default()), |q| {
                let (backend, user) = (backend.clone(), user.clone());
                async move { backend.payment_history(&user, env, &q).await }
            }),
            crate::services::catalog::labels(backend, user, env),
        );
        let (listing, history) = (listing?, history?);
        let mut notice = listing.notice;
        let subscriptions_more = listing.page.next_cursor.is_some();
        let subscriptions = listing.page.items;
        notice = notice.or(history.notice);
        let history_more = history.page.next_cursor.is_some();
        let (refunds, payments): (Vec<_>, Vec<_>) =
            history.page.items.into_iter().partition(|p| p.kind == payments_model::PaymentKind::Refund);

        // Customer mapping: who pays for this subject.
        let mut customers: BTreeMap<String, MappedCustomer> = BTreeMap::new();
        let mut add = |id: &str, subs: bool| {
            let c = customers.entry(id.to_owned()).or_insert(MappedCustomer {
                id: id.to_owned(),
                details: None,
                via_subscriptions: false,
                via_payments: false,
            });
            if subs {
                c.via_subscriptions = true;
            } else {
                c.via_payments = true;
            }
        };
        for s in &subscriptions {
            add(&s.stripe_customer_id, true);
        }
        for p in payments.iter().chain(&refunds) {
            if let Some(c) = &p.stripe_customer_id {
                add(c, false);
            }
        }
        // Recent events about its subscriptions and customers, then about the invoices, payments
        // and refunds of its newest history rows.
        let mut object_ids: Vec<String> = subscriptions.iter().map(|s| s.stripe_subscription_id.clone()).collect();
        object_ids.extend(customers.keys().cloned());
        for p in payments.iter().chain(&refunds) {
            for id in
                [&p.stripe_invoice_id, &p.stripe_payment_intent_id, &p.stripe_checkout_session_id, &p.stripe_refund_id]
                    .into_iter()
                    .flatten()
            {
                if !object_ids.contains(id) {
                    object_ids.push(id.clone());
                }
            }
        }
        object_ids.truncate(30);

        // The customers' details and those events, read together. Details come from one indexed
        // lookup (`ids`, additive); a backend without it is asked for the first few by search
        // instead. Details are a nicety: a failure leaves them out.
        let details = async {
            let mut customers = customers;
            if customers.is_empty() {
                return customers;
            }
            let mut cq = ListQuery::<payments_model::CustomerListFilters> { limit: Some(100), ..Default::default() };
            cq.filters.ids = Some(customers.keys().take(100).cloned().collect());
            match backend.customers(user, env, &cq).await {
                Ok(page) => {
                    for item in page.items {
                        if let Some(c) = customers.get_mut(&item.stripe_customer_id) {
                            c.details = Some(item);
                        }
                    }
                }
                Err(_) => {
                    for c in customers.values_mut().take(20) {
                        let mut cq =
                            ListQuery::<payments_model::CustomerListFilters> { limit: Some(10), ..Default::default() };
                        cq.filters.search = Some(c.id.clone());
                        if let Ok(page) = backend.customers(user, env, &cq).await {
                            c.details = page.items.into_iter().find(|i| i.stripe_customer_id == c.id);
                        }
                    }
                }
            }
            customers
        };
        // The newest 25 events about any of them, in one request (the list merges per-object seeks).
        let events = async {
            if object_ids.is_empty() {
                return Ok(Some(Vec::new()));
            }
            let mut eq = ListQuery::<payments_model::EventListFilters> { limit: Some(25), ..Default::default() };
            eq.filters.object_ids = Some(object_ids.iter().cloned().collect());
            match backend.webhook_events(user, env, &eq).await {
                Ok(page) => Ok(Some(page.items)),
                Err(BackendError::Unsupported(_)) => Ok(None),
                Err(e) => Err(AppError::from(e)),
            }
        };
        let (customers, events) = tokio::join!(details, events);
        let events = events?;
        Ok(SubjectData {
            customers: customers.into_values().collect(),
            subscriptions,
            subscriptions_more,
            payments,
            refunds,
            history_more,
            events,
            notice,
            labels,
        })
    }
}

#[cfg(feature = "ssr")]
pub use ssr::subject;
