//! One customer, everything support looks for: identity, billing subjects, subscriptions,
//! payments and refunds, the card on file and recent events.

use payments_model::{CustomerListItem, PaymentHistory, Subscription, WebhookEvent};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A billing subject (`team:acme`) a customer pays for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SubjectRef {
    pub subject_type: String,
    pub subject_id: String,
}

/// Everything the customer page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerData {
    /// `None` when the mirror has no such customer (or the backend cannot look one up).
    pub customer: Option<CustomerListItem>,
    /// The subjects its subscriptions and payments carry, sorted.
    pub subjects: Vec<SubjectRef>,
    /// Newest first; `None` when the backend cannot filter by customer.
    pub subscriptions: Option<Vec<Subscription>>,
    pub subscriptions_more: bool,
    /// Payments and invoices (no refunds), newest first; `None` as above.
    pub payments: Option<Vec<PaymentHistory>>,
    pub refunds: Vec<PaymentHistory>,
    pub history_more: bool,
    /// The newest events about the customer and its objects; `None` without an event log.
    pub events: Option<Vec<WebhookEvent>>,
    /// Price and product ids to readable labels.
    pub labels: BTreeMap<String, String>,
}

/// The subjects of a customer's subscriptions and history rows, without repeats, sorted.
pub fn subjects_of(subscriptions: &[Subscription], history: &[PaymentHistory]) -> Vec<SubjectRef> {
    let mut found: Vec<SubjectRef> = subscriptions
        .iter()
        .map(|s| (s.subject_type.as_ref(), s.subject_id.as_ref()))
        .chain(history.iter().map(|p| (p.subject_type.as_ref(), p.subject_id.as_ref())))
        .filter_map(|(t, i)| Some(SubjectRef { subject_type: t?.clone(), subject_id: i?.clone() }))
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The Stripe objects whose events the page lists: the customer, then its subscriptions, then
/// the invoices, payments and refunds of its history, at most `max`.
pub fn event_objects(
    customer: &str,
    subscriptions: &[Subscription],
    history: &[PaymentHistory],
    max: usize,
) -> Vec<String> {
    let mut ids = vec![customer.to_owned()];
    let history_ids = history.iter().flat_map(|p| {
        [&p.stripe_invoice_id, &p.stripe_payment_intent_id, &p.stripe_checkout_session_id, &p.stripe_refund_id]
            .into_iter()
            .flatten()
            .cloned()
    });
    for id in subscriptions.iter().map(|s| s.stripe_subscription_id.clone()).chain(history_ids) {
        if ids.len() >= max {
            break;
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::auth::CurrentUser;
    use crate::backend::ssr::{BackendError, PaymentsBackend};
    use crate::backend::ListQuery;
    use crate::environment::Environment;
    use crate::error::AppError;
    use payments_model::{CustomerListFilters, EventListFilters, HistoryListFilters, SubscriptionListFilters};
    use std::sync::Arc;

    /// The most objects one events query names (the engine's `objectId` limit).
    const EVENT_OBJECTS: usize = 100;

    /// `Ok(None)` when the backend lacks the additive filter the call needs.
    fn supported<T>(r: Result<T, BackendError>) -> Result<Option<T>, AppError> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(BackendError::Unsupported(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The first page of the customer's subscriptions (`customer=id`).
    fn by_customer(id: &str) -> ListQuery<SubscriptionListFilters> {
        let filters = SubscriptionListFilters { customer: Some(id.to_owned()), ..Default::default() };
        ListQuery { limit: Some(100), cursor: payments_model::Paging::First, subject: None, filters }
    }

    /// Loads the customer page's data: the customer, its subscriptions, its history and the
    /// catalog's labels at once (independent reads), then the events about what they name.
    pub async fn load(
        backend: &Arc<dyn PaymentsBackend>,
        user: &CurrentUser,
        env: Environment,
        id: &str,
    ) -> Result<CustomerData, AppError> {
        let mut one = ListQuery::<CustomerListFilters> { limit: Some(1), ..Default::default() };
        one.filters.ids = Some([id].into_iter().collect());
        let mine = by_customer(id);
        let mine_paid = mine.with_filters(HistoryListFilters { customer: Some(id.to_owned()), ..Default::default() });
        let (customer, subscriptions, history, labels) = tokio::join!(
            backend.customers(user, env, &one),
            backend.subscriptions(user, env, &mine),
            backend.payment_history(user, env, &mine_paid),
            crate::services::catalog::labels(backend, user, env),
        );
        let customer =
            supported(customer)?.and_then(|page| page.items.into_iter().find(|c| c.stripe_customer_id == id));
        let subscriptions = supported(subscriptions)?;
        let history = supported(history)?;
        let subs = subscriptions.as_ref().map_or(&[][..], |p| &p.items[..]);
        let rows = history.as_ref().map_or(&[][..], |p| &p.items[..]);
        let subjects = subjects_of(subs, rows);
        let mut eq = ListQuery::<EventListFilters> { limit: Some(25), ..Default::default() };
        eq.filters.object_ids = Some(event_objects(id, subs, rows, EVENT_OBJECTS).into_iter().collect());
        let events = supported(backend.webhook_events(user, env, &eq).await)?.map(|p| p.items);
        let subscriptions_more = subscriptions.as_ref().is_some_and(|p| p.next_cursor.is_some());
        let history_more = history.as_ref().is_some_and(|p| p.next_cursor.is_some());
        let (payments, refunds) = match history {
            Some(page) => {
                let (refunds, payments): (Vec<_>, Vec<_>) =
                    page.items.into_iter().partition(|p| p.kind == payments_model::PaymentKind::Refund);
                (Some(payments), refunds)
            }
            None => (None, Vec::new()),
        };
        Ok(CustomerData {
            customer,
            subjects,
            subscriptions: subscriptions.map(|p| p.items),
            subscriptions_more,
            payments,
            refunds,
            history_more,
            events,
            labels,
        })
    }
}

#[cfg(feature = "ssr")]
pub use ssr::load;
