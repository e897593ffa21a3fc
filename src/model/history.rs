//! The payment history's filters, read from the history page's URL by the page and by the CSV
//! export (`crate::server::export`), which streams the same filtered view.

use crate::backend::ListQuery;
use crate::error::AppError;
use payments_model::{HistoryListFilters, Paging, PaymentKind, PaymentStatus, TimeBound};
use serde::{Deserialize, Serialize};

/// The filters of the history view, by their URL names (`subjectType`, `subjectId`, `type`,
/// `status`, `customer`, `object`, `from`, `to`; dates as `YYYY-MM-DD`, `to` inclusive).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryFilters {
    pub subject_type: String,
    pub subject_id: String,
    pub kind: String,
    pub status: String,
    pub customer: String,
    /// A Stripe id of the rows (`pi_`, `in_`, `ch_`, `re_`, `cs_`): the search box's target.
    #[serde(default)]
    pub object: String,
    pub from: String,
    pub to: String,
}

impl HistoryFilters {
    /// Reads the filters from URL query pairs.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let v = |k: &str| get(k).map(|s| s.trim().to_owned()).unwrap_or_default();
        HistoryFilters {
            subject_type: v("subjectType"),
            subject_id: v("subjectId"),
            kind: v("type"),
            status: v("status"),
            customer: v("customer"),
            object: v("object"),
            from: v("from"),
            to: v("to"),
        }
    }

    /// The URL query pairs of these filters.
    pub fn pairs(&self) -> Vec<(String, String)> {
        [
            ("subjectType", &self.subject_type),
            ("subjectId", &self.subject_id),
            ("type", &self.kind),
            ("status", &self.status),
            ("customer", &self.customer),
            ("object", &self.object),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect()
    }

    /// The backend query for these filters. A date-only `to` includes that whole day. Values
    /// are passed on as written (an unknown status, a date that names no day): the backend
    /// answers for them.
    pub fn list_query(&self, limit: u32, cursor: Paging) -> Result<ListQuery<HistoryListFilters>, AppError> {
        let mut q = ListQuery { limit: Some(limit.clamp(1, 100)), cursor, ..Default::default() };
        match (self.subject_type.is_empty(), self.subject_id.is_empty()) {
            (false, false) => q.subject = Some((self.subject_type.clone(), self.subject_id.clone())),
            (true, true) => {}
            _ => return Err(AppError::Invalid("Give both the subject type and the subject id.".into())),
        }
        let is_date = |s: &str| s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
        let to = if is_date(&self.to) { format!("{}T23:59:59.999Z", self.to) } else { self.to.clone() };
        let given = |v: &str| Some(v.to_owned()).filter(|v| !v.is_empty());
        q.filters = HistoryListFilters {
            status: given(&self.status).map(PaymentStatus::from),
            kind: given(&self.kind).map(PaymentKind::from),
            customer: given(&self.customer),
            object: given(&self.object),
            from: given(&self.from).map(TimeBound::new),
            to: given(&to).map(TimeBound::new),
        };
        Ok(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_a_backend_query() {
        let f = HistoryFilters {
            subject_type: "team".into(),
            subject_id: "acme".into(),
            to: "2026-11-25".into(),
            ..Default::default()
        };
        let q = f.list_query(10, Paging::Unpaged).unwrap();
        assert_eq!(q.subject, Some(("team".into(), "acme".into())));
        assert_eq!(q.filters.to.as_ref().map(|t| t.as_str()), Some("2026-11-25T23:59:59.999Z"));
        let half = HistoryFilters { subject_type: "team".into(), ..Default::default() };
        assert!(half.list_query(10, Paging::Unpaged).is_err());
    }
}
