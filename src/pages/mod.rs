//! The console's pages, one module each, with the server functions they call beside them.

pub mod api_keys;
pub mod audit;
pub mod catalog;
pub mod catalog_copy;
pub mod customer;
pub mod customers;
pub mod forwarding;
pub mod history;
pub mod keys;
pub mod lazy;
pub mod login;
pub mod not_found;
pub mod overview;
pub mod refund;
pub mod search;
pub mod subject;
pub mod subscriptions;
pub mod sync;
pub mod users;
pub mod webhooks;
