//! The console's services: what a page needs, composed from calls to the payments backend.
//!
//! Layers, top to bottom: pages (`crate::pages`) → their server functions (authorise, call one
//! service, return) → services (here) → the backend trait (`crate::backend::ssr`) → the engine.
//! The data types are shared with the browser (the server functions return them); the functions
//! that build them run on the server only.

#[cfg(feature = "ssr")]
pub mod accounts;
pub mod catalog;
pub mod catalog_copy;
pub mod customer;
#[cfg(feature = "ssr")]
pub mod forwarding;
pub mod history;
pub mod listing;
pub mod refunds;
pub mod search;
#[cfg(feature = "ssr")]
pub mod sign_in;
pub mod subject;
pub mod subscriptions;
