//! The additive filters of the lists (payment history, subscriptions, customers, webhook
//! events), typed, with the one spelling they have in a list route's query string.
//!
//! The console writes them ([`QueryFilters::pairs`]) and the engine reads them
//! ([`QueryFilters::read`]), so both sides name every parameter the same way. Values keep the
//! spelling they were given (an unknown status is `Unknown`, a date that names no day stays as
//! written): the console passes on what its URL says and the engine answers for it when its
//! list meets the value, with the messages of [`FilterError`], through the accessors
//! [`TimeBound::instant`], [`IdList::checked`] and [`HistoryListFilters::object`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::calendar::parse_time;
use crate::{PaymentKind, PaymentStatus, ProcessingStatus, SubscriptionStatus};

/// A filter value a list refuses, worded as the engine's API answers it (`from: Invalid date`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    /// The query parameter.
    pub key: &'static str,
    /// What is wrong with its value.
    pub message: String,
}

impl FilterError {
    fn new(key: &'static str, message: impl Into<String>) -> Self {
        FilterError { key, message: message.into() }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl std::error::Error for FilterError {}

/// A `from` (inclusive) or `to` (exclusive) bound, as written: `YYYY-MM-DD`,
/// `YYYY-MM-DDTHH:MM[:SS[.f…]]Z` or Unix milliseconds (see [`parse_time`]). The spelling is kept
/// so the query string says what the user wrote, and a bound that names no instant reaches the
/// engine, which refuses it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimeBound(String);

impl TimeBound {
    /// A bound as written.
    pub fn new(text: impl Into<String>) -> Self {
        TimeBound(text.into())
    }

    /// The bound as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The instant it names, in Unix milliseconds; `None` when it names none.
    pub fn millis(&self) -> Option<i64> {
        parse_time(&self.0)
    }

    /// [`TimeBound::millis`], or the engine's refusal of the `key` filter.
    pub fn instant(&self, key: &'static str) -> Result<i64, FilterError> {
        self.millis().ok_or_else(|| FilterError::new(key, "Invalid date"))
    }
}

/// The most ids a comma-separated id filter (`objectId` of the events, `ids` of the customers)
/// takes: a page's worth, each one an index seek.
pub const MAX_LISTED_IDS: usize = 100;

/// The ids of a comma-separated id filter (`ids=cus_1,cus_2`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdList(Vec<String>);

impl IdList {
    /// Reads the query's value: the ids trimmed, without empty ones or repeats, in the order given.
    pub fn parse(raw: &str) -> Self {
        let mut ids: Vec<String> = Vec::new();
        for id in raw.split(',').map(str::trim).filter(|id| !id.is_empty()) {
            if !ids.iter().any(|seen| seen == id) {
                ids.push(id.to_owned());
            }
        }
        IdList(ids)
    }

    /// The ids.
    pub fn ids(&self) -> &[String] {
        &self.0
    }

    /// The query's value: the ids joined by commas.
    pub fn to_query(&self) -> String {
        self.0.join(",")
    }

    /// The ids, or the engine's refusal of the `key` filter: none, or more than
    /// [`MAX_LISTED_IDS`].
    pub fn checked(&self, key: &'static str) -> Result<&[String], FilterError> {
        match self.0.len() {
            0 => Err(FilterError::new(key, "Expected at least one id")),
            n if n > MAX_LISTED_IDS => Err(FilterError::new(key, format!("At most {MAX_LISTED_IDS} ids"))),
            _ => Ok(&self.0),
        }
    }
}

impl<S: Into<String>> FromIterator<S> for IdList {
    /// The ids as given (the query's value is their comma-separated list).
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        IdList(iter.into_iter().map(Into::into).collect())
    }
}

/// The Stripe object the payment history's `object` filter names, by its id's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryObject {
    /// `pi_`: the payment's row and its refunds.
    PaymentIntent,
    /// `cs_`: the Checkout Session's payment row.
    CheckoutSession,
    /// `in_`: the invoice's row.
    Invoice,
    /// `ch_` (or `py_`): the rows of the charge.
    Charge,
    /// `re_` (or `pyr_`): the refund's row.
    Refund,
}

impl HistoryObject {
    /// The object `id` names; `None` for a prefix the history does not index.
    pub fn of(id: &str) -> Option<HistoryObject> {
        Some(match id.split_once('_').map(|(prefix, _)| prefix)? {
            "pi" => HistoryObject::PaymentIntent,
            "cs" => HistoryObject::CheckoutSession,
            "in" => HistoryObject::Invoice,
            "ch" | "py" => HistoryObject::Charge,
            "re" | "pyr" => HistoryObject::Refund,
            _ => return None,
        })
    }
}

/// A list's filters: their query names, and how they are written and read.
pub trait QueryFilters: Clone + fmt::Debug + Default + PartialEq {
    /// The query names, in the order the engine's schema declares them (its issues and its
    /// unknown-key check follow this order).
    const KEYS: &'static [&'static str];

    /// The query pairs of the filters that are set, by name in alphabetical order (the order
    /// the console has always sent them in), each value as given.
    fn pairs(&self) -> Vec<(&'static str, String)>;

    /// Reads the filters from the query's values by name (`None`: absent), every value kept as
    /// spelt: the list refuses a bad one when it meets it.
    fn read(get: impl Fn(&str) -> Option<String>) -> Self;
}

/// `(key, value)` for each set value, in the order given.
fn set<const N: usize>(values: [(&'static str, Option<&str>); N]) -> Vec<(&'static str, String)> {
    values.into_iter().filter_map(|(k, v)| Some((k, v?.to_owned()))).collect()
}

/// The payment history's filters (also those of its summary).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryListFilters {
    /// `status`.
    pub status: Option<PaymentStatus>,
    /// `type`.
    pub kind: Option<PaymentKind>,
    /// `customer`: a Stripe customer id.
    pub customer: Option<String>,
    /// `object`: the rows of one Stripe object (`pi_`, `cs_`, `in_`, `ch_`, `re_`).
    pub object: Option<String>,
    /// `from`, inclusive.
    pub from: Option<TimeBound>,
    /// `to`, exclusive.
    pub to: Option<TimeBound>,
}

impl HistoryListFilters {
    /// The `object` filter and the object it names, or the engine's refusal of its prefix.
    pub fn object(&self) -> Result<Option<(HistoryObject, &str)>, FilterError> {
        let Some(id) = &self.object else { return Ok(None) };
        match HistoryObject::of(id) {
            Some(object) => Ok(Some((object, id))),
            None => Err(FilterError::new("object", "Expected a pi_, cs_, in_, ch_ or re_ id")),
        }
    }
}

impl QueryFilters for HistoryListFilters {
    const KEYS: &'static [&'static str] = &["status", "type", "customer", "object", "from", "to"];

    fn pairs(&self) -> Vec<(&'static str, String)> {
        set([
            ("customer", self.customer.as_deref()),
            ("from", self.from.as_ref().map(TimeBound::as_str)),
            ("object", self.object.as_deref()),
            ("status", self.status.as_ref().map(PaymentStatus::as_str)),
            ("to", self.to.as_ref().map(TimeBound::as_str)),
            ("type", self.kind.as_ref().map(PaymentKind::as_str)),
        ])
    }

    fn read(get: impl Fn(&str) -> Option<String>) -> Self {
        HistoryListFilters {
            status: get("status").map(PaymentStatus::from),
            kind: get("type").map(PaymentKind::from),
            customer: get("customer"),
            object: get("object"),
            from: get("from").map(TimeBound),
            to: get("to").map(TimeBound),
        }
    }
}

/// The subscriptions list's filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionListFilters {
    /// `status`.
    pub status: Option<SubscriptionStatus>,
    /// `customer`: a Stripe customer id.
    pub customer: Option<String>,
    /// `id`: one subscription, as the contract has no single-subscription route.
    pub id: Option<String>,
    /// `from`, inclusive (of the last update).
    pub from: Option<TimeBound>,
    /// `to`, exclusive.
    pub to: Option<TimeBound>,
}

impl QueryFilters for SubscriptionListFilters {
    const KEYS: &'static [&'static str] = &["status", "customer", "id", "from", "to"];

    fn pairs(&self) -> Vec<(&'static str, String)> {
        set([
            ("customer", self.customer.as_deref()),
            ("from", self.from.as_ref().map(TimeBound::as_str)),
            ("id", self.id.as_deref()),
            ("status", self.status.as_ref().map(SubscriptionStatus::as_str)),
            ("to", self.to.as_ref().map(TimeBound::as_str)),
        ])
    }

    fn read(get: impl Fn(&str) -> Option<String>) -> Self {
        SubscriptionListFilters {
            status: get("status").map(SubscriptionStatus::from),
            customer: get("customer"),
            id: get("id"),
            from: get("from").map(TimeBound),
            to: get("to").map(TimeBound),
        }
    }
}

/// The customers list's filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerListFilters {
    /// `search`: a substring of the email, name or id.
    pub search: Option<String>,
    /// `ids`: only these customers.
    pub ids: Option<IdList>,
    /// `from`, inclusive (of the creation in Stripe).
    pub from: Option<TimeBound>,
    /// `to`, exclusive.
    pub to: Option<TimeBound>,
}

impl QueryFilters for CustomerListFilters {
    const KEYS: &'static [&'static str] = &["search", "ids", "from", "to"];

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let ids = self.ids.as_ref().map(IdList::to_query);
        set([
            ("from", self.from.as_ref().map(TimeBound::as_str)),
            ("ids", ids.as_deref()),
            ("search", self.search.as_deref()),
            ("to", self.to.as_ref().map(TimeBound::as_str)),
        ])
    }

    fn read(get: impl Fn(&str) -> Option<String>) -> Self {
        CustomerListFilters {
            search: get("search"),
            ids: get("ids").map(|raw| IdList::parse(&raw)),
            from: get("from").map(TimeBound),
            to: get("to").map(TimeBound),
        }
    }
}

/// The webhook-events list's filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventListFilters {
    /// `status`: the event's processing status.
    pub status: Option<ProcessingStatus>,
    /// `type`: the Stripe event type (`invoice.paid`).
    pub event_type: Option<String>,
    /// `objectId`: events about these Stripe objects.
    pub object_ids: Option<IdList>,
    /// `id`: one event, by its `evt_…` id.
    pub id: Option<String>,
    /// `from`, inclusive (of the reception).
    pub from: Option<TimeBound>,
    /// `to`, exclusive.
    pub to: Option<TimeBound>,
}

impl QueryFilters for EventListFilters {
    const KEYS: &'static [&'static str] = &["status", "type", "objectId", "id", "from", "to"];

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let object_ids = self.object_ids.as_ref().map(IdList::to_query);
        set([
            ("from", self.from.as_ref().map(TimeBound::as_str)),
            ("id", self.id.as_deref()),
            ("objectId", object_ids.as_deref()),
            ("status", self.status.as_ref().map(ProcessingStatus::as_str)),
            ("to", self.to.as_ref().map(TimeBound::as_str)),
            ("type", self.event_type.as_deref()),
        ])
    }

    fn read(get: impl Fn(&str) -> Option<String>) -> Self {
        EventListFilters {
            status: get("status").map(ProcessingStatus::from),
            event_type: get("type"),
            object_ids: get("objectId").map(|raw| IdList::parse(&raw)),
            id: get("id"),
            from: get("from").map(TimeBound),
            to: get("to").map(TimeBound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Reads `pairs` as the engine reads a query: by name.
    fn read<F: QueryFilters>(pairs: &[(&'static str, String)]) -> F {
        let query: BTreeMap<&str, String> = pairs.iter().map(|(k, v)| (*k, v.clone())).collect();
        F::read(|k| query.get(k).cloned())
    }

    fn round_trips<F: QueryFilters>(filters: F) {
        let pairs = filters.pairs();
        let names: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "written in alphabetical order");
        assert!(names.iter().all(|k| F::KEYS.contains(k)), "{names:?}");
        assert_eq!(read::<F>(&pairs), filters);
    }

    #[test]
    fn every_list_round_trips() {
        let range = |f: &str, t: &str| (Some(TimeBound::new(f)), Some(TimeBound::new(t)));
        let (from, to) = range("2026-01-01", "2026-01-31T23:59:59.999Z");
        round_trips(HistoryListFilters {
            status: Some(PaymentStatus::Failed),
            kind: Some(PaymentKind::from("payout")),
            customer: Some("cus_1".into()),
            object: Some("pi_1".into()),
            from: from.clone(),
            to: to.clone(),
        });
        round_trips(HistoryListFilters::default());
        round_trips(SubscriptionListFilters {
            status: Some(SubscriptionStatus::from("past_due")),
            customer: Some("cus_1".into()),
            id: Some("sub_1".into()),
            from: from.clone(),
            to: to.clone(),
        });
        round_trips(CustomerListFilters {
            search: Some("ann".into()),
            ids: Some(["cus_1", "cus_2"].into_iter().collect()),
            from: from.clone(),
            to: None,
        });
        round_trips(EventListFilters {
            status: Some(ProcessingStatus::from("failed")),
            event_type: Some("invoice.paid".into()),
            object_ids: Some(["ch_1"].into_iter().collect()),
            id: Some("evt_1".into()),
            from: Some(TimeBound::new("0")),
            to: Some(TimeBound::new("1778625667123")),
        });
    }

    #[test]
    fn the_query_names_are_the_engines() {
        let f = HistoryListFilters { kind: Some(PaymentKind::Refund), ..Default::default() };
        assert_eq!(f.pairs(), [("type", "refund".to_owned())]);
        let f = EventListFilters { object_ids: Some(["ch_1", "cus_2"].into_iter().collect()), ..Default::default() };
        assert_eq!(f.pairs(), [("objectId", "ch_1,cus_2".to_owned())]);
        assert!(CustomerListFilters::default().pairs().is_empty());
    }

    #[test]
    fn id_lists_are_trimmed_without_repeats() {
        assert_eq!(IdList::parse("cus_3, cus_1,,+cus_3 , cus_3").ids(), ["cus_3", "cus_1", "+cus_3"]);
        assert_eq!(IdList::parse(", ,").checked("ids"), Err(FilterError::new("ids", "Expected at least one id")));
        let many = (0..101).map(|i| format!("cus_{i}")).collect::<Vec<_>>().join(",");
        assert_eq!(IdList::parse(&many).checked("objectId").unwrap_err().to_string(), "objectId: At most 100 ids");
    }

    #[test]
    fn bad_values_are_refused_with_the_engines_messages() {
        let history = |key: &'static str, value: &str| read::<HistoryListFilters>(&[(key, value.to_owned())]);
        let date = |key: &'static str, value: &str| TimeBound::new(value).instant(key).unwrap_err().to_string();
        assert_eq!(date("from", "yesterday"), "from: Invalid date");
        assert_eq!(date("to", "2026-13-45"), "to: Invalid date");
        let object = history("object", "cus_1").object().unwrap_err().to_string();
        assert_eq!(object, "object: Expected a pi_, cs_, in_, ch_ or re_ id");
        let events = read::<EventListFilters>(&[("objectId", ",".into())]);
        let ids = events.object_ids.unwrap().checked("objectId").unwrap_err().to_string();
        assert_eq!(ids, "objectId: Expected at least one id");
        // An unknown status is no error: it matches no row.
        assert!(history("status", "disputed").status.unwrap().is_unknown());
    }

    #[test]
    fn history_objects_by_prefix() {
        assert_eq!(HistoryObject::of("pi_1"), Some(HistoryObject::PaymentIntent));
        assert_eq!(HistoryObject::of("pyr_1"), Some(HistoryObject::Refund));
        assert_eq!(HistoryObject::of("cus_1"), None);
        assert_eq!(HistoryObject::of("pi"), None);
    }
}
