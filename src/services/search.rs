//! The console's search box: any Stripe id, an email or a billing subject jumps straight to its
//! page; other text lists the customers and products that match.
//!
//! Every lookup is an indexed one (issue #10's scale): ids go to their own page, which reads
//! them by key; an email asks the customer search for up to two matches to tell one from many;
//! free text asks the customer search for one page and filters the (small) catalog.

use payments_model::{CustomerListItem, Product};
use serde::{Deserialize, Serialize};

/// What a query is, by its shape (pure, so the browser and the tests classify alike).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchQuery {
    /// Nothing typed.
    Empty,
    /// `cus_…`.
    Customer(String),
    /// `sub_…`.
    Subscription(String),
    /// `pi_`, `in_`, `ch_`, `re_` or `cs_…`: rows of the payment history.
    HistoryObject(String),
    /// `prod_…`.
    Product(String),
    /// `price_…`.
    Price(String),
    /// `evt_…`.
    Event(String),
    /// Something with an `@`.
    Email(String),
    /// `type:id`, e.g. `team:acme`.
    Subject { subject_type: String, subject_id: String },
    /// Anything else: names and partial emails.
    Text(String),
}

impl SearchQuery {
    /// Classifies a query by its shape. Ids have no spaces; a subject has one colon and no
    /// `//` (so a pasted URL is text, not a subject).
    pub fn classify(raw: &str) -> SearchQuery {
        let q = raw.trim();
        if q.is_empty() {
            return SearchQuery::Empty;
        }
        let id = q.to_owned();
        if !q.contains(char::is_whitespace) {
            match q.split_once('_').map(|(prefix, _)| prefix) {
                Some("cus") => return SearchQuery::Customer(id),
                Some("sub") => return SearchQuery::Subscription(id),
                Some("pi" | "in" | "ch" | "re" | "cs") => return SearchQuery::HistoryObject(id),
                Some("prod") => return SearchQuery::Product(id),
                Some("price") => return SearchQuery::Price(id),
                Some("evt") => return SearchQuery::Event(id),
                _ => {}
            }
            if q.contains('@') {
                return SearchQuery::Email(id);
            }
            if let Some((t, i)) = q.split_once(':') {
                if !t.is_empty() && !i.is_empty() && !i.contains(':') && !q.contains("//") {
                    return SearchQuery::Subject { subject_type: t.to_owned(), subject_id: i.to_owned() };
                }
            }
        }
        SearchQuery::Text(id)
    }
}

/// Where a search leads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SearchOutcome {
    /// Straight to this console path (`/test/customers/cus_…`).
    Go(String),
    /// A list of matches by kind.
    Matches(SearchMatches),
}

/// The matches of a text query.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchMatches {
    /// Customers whose email, name or id contain the text (the first page).
    pub customers: Vec<CustomerListItem>,
    /// Whether more customers match than are listed.
    pub more_customers: bool,
    /// Products whose name or id contain it.
    pub products: Vec<Product>,
    /// Set when the backend could not search customers.
    pub notice: Option<String>,
}

/// The path of the page that shows a query's object, when its shape alone says so.
pub fn direct_path(env: crate::environment::Environment, query: &SearchQuery) -> Option<String> {
    use crate::model::format::{query_string, url_encode};
    Some(match query {
        SearchQuery::Customer(id) => format!("/{env}/customers/{}", url_encode(id)),
        SearchQuery::Subscription(id) => format!("/{env}/subscriptions/{}", url_encode(id)),
        SearchQuery::HistoryObject(id) => format!("/{env}/history{}", query_string(&[("object", id)])),
        SearchQuery::Product(id) => format!("/{env}/catalog{}", query_string(&[("product", id)])),
        SearchQuery::Event(id) => format!("/{env}/webhooks{}", query_string(&[("id", id)])),
        SearchQuery::Subject { subject_type, subject_id } => {
            format!("/{env}/subjects/{}/{}", url_encode(subject_type), url_encode(subject_id))
        }
        SearchQuery::Empty | SearchQuery::Price(_) | SearchQuery::Email(_) | SearchQuery::Text(_) => return None,
    })
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::auth::CurrentUser;
    use crate::backend::ssr::{BackendError, PaymentsBackend};
    use crate::backend::ListQuery;
    use crate::environment::Environment;
    use crate::error::AppError;
    use crate::model::format::query_string;
    use std::sync::Arc;

    /// Customers a text search lists.
    const LISTED: u32 = 20;

    /// Resolves a query to a page, or to the matches worth choosing from.
    pub async fn search(
        backend: &Arc<dyn PaymentsBackend>,
        user: &CurrentUser,
        env: Environment,
        raw: &str,
    ) -> Result<SearchOutcome, AppError> {
        let query = SearchQuery::classify(raw);
        if let Some(path) = direct_path(env, &query) {
            return Ok(SearchOutcome::Go(path));
        }
        match query {
            SearchQuery::Price(id) => {
                // A price lives on its product's row of the catalog.
                let catalog = backend.catalog(user, env).await?;
                let product =
                    catalog.prices.iter().find(|p| p.stripe_price_id == id).and_then(|p| p.stripe_product_id.clone());
                Ok(match product.and_then(|p| direct_path(env, &SearchQuery::Product(p))) {
                    Some(path) => SearchOutcome::Go(path),
                    None => SearchOutcome::Matches(SearchMatches {
                        notice: Some(format!("No price {id} in the {env} catalog.")),
                        ..Default::default()
                    }),
                })
            }
            SearchQuery::Email(email) => {
                // One customer with that email: its page. Several (Stripe allows it) or none:
                // the customers list searched for it.
                let found = customers(backend, user, env, &email, 2).await?;
                let exact: Vec<_> = found
                    .customers
                    .iter()
                    .filter(|c| c.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&email)))
                    .collect();
                let one = match exact.as_slice() {
                    [one] if !found.more_customers => {
                        direct_path(env, &SearchQuery::Customer(one.stripe_customer_id.clone()))
                    }
                    _ => None,
                };
                Ok(match one {
                    Some(path) => SearchOutcome::Go(path),
                    None => SearchOutcome::Go(format!("/{env}/customers{}", query_string(&[("search", &email)]))),
                })
            }
            SearchQuery::Text(text) => {
                let (matches, catalog) =
                    tokio::join!(customers(backend, user, env, &text, LISTED), backend.catalog(user, env));
                let mut matches = matches?;
                let needle = text.to_lowercase();
                if let Ok(catalog) = catalog {
                    matches.products = catalog
                        .products
                        .into_iter()
                        .filter(|p| {
                            p.name.to_lowercase().contains(&needle)
                                || p.stripe_product_id.to_lowercase().contains(&needle)
                        })
                        .take(20)
                        .collect();
                }
                Ok(SearchOutcome::Matches(matches))
            }
            _ => Ok(SearchOutcome::Matches(SearchMatches::default())),
        }
    }

    /// Up to `limit` customers matching `text`, and whether there are more.
    async fn customers(
        backend: &Arc<dyn PaymentsBackend>,
        user: &CurrentUser,
        env: Environment,
        text: &str,
        limit: u32,
    ) -> Result<SearchMatches, AppError> {
        let mut q = ListQuery::<payments_model::CustomerListFilters> {
            limit: Some(limit),
            cursor: payments_model::Paging::First,
            ..Default::default()
        };
        q.filters.search = Some(text.to_owned());
        match backend.customers(user, env, &q).await {
            Ok(page) => Ok(SearchMatches {
                more_customers: page.next_cursor.is_some(),
                customers: page.items,
                ..Default::default()
            }),
            Err(BackendError::Unsupported(_)) => Ok(SearchMatches {
                notice: Some("Unsupported: the remote payments backend cannot search customers.".into()),
                ..Default::default()
            }),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(feature = "ssr")]
pub use ssr::search;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;

    #[test]
    fn every_id_kind_goes_to_its_page() {
        let go = |q: &str| direct_path(Environment::Test, &SearchQuery::classify(q));
        assert_eq!(go(" cus_123 ").as_deref(), Some("/test/customers/cus_123"));
        assert_eq!(go("sub_9").as_deref(), Some("/test/subscriptions/sub_9"));
        for id in ["pi_1", "in_1", "ch_1", "re_1", "cs_test_1"] {
            assert_eq!(go(id), Some(format!("/test/history?object={id}")), "{id}");
        }
        assert_eq!(go("prod_A").as_deref(), Some("/test/catalog?product=prod_A"));
        assert_eq!(go("evt_1").as_deref(), Some("/test/webhooks?id=evt_1"));
        assert_eq!(go("team:acme").as_deref(), Some("/test/subjects/team/acme"));
        assert_eq!(go("team:a b").as_deref(), None, "a space makes it text");
        // The server looks these up first.
        assert_eq!(go("price_1"), None);
        assert_eq!(go("ann@example.com"), None);
        assert_eq!(go("Ann Lee"), None);
        assert_eq!(go("https://example.com"), None);
        assert_eq!(go("   "), None);
    }

    #[test]
    fn queries_are_classified_by_shape() {
        assert_eq!(SearchQuery::classify("ann@example.com"), SearchQuery::Email("ann@example.com".into()));
        assert_eq!(SearchQuery::classify("acme"), SearchQuery::Text("acme".into()));
        assert_eq!(SearchQuery::classify("user:u:1"), SearchQuery::Text("user:u:1".into()));
        assert_eq!(SearchQuery::classify(""), SearchQuery::Empty);
        assert_eq!(SearchQuery::classify("price_9"), SearchQuery::Price("price_9".into()));
        assert_eq!(SearchQuery::classify("unknown_9"), SearchQuery::Text("unknown_9".into()));
    }
}
