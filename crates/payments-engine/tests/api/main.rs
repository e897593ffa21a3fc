//! Black-box tests of the payments API over HTTP, against the stripe-sandbox, on a fresh
//! database per test (SQLite, or PostgreSQL with `PAYMENTS_CONSOLE_TEST_POSTGRES`).

mod audit;
mod auth;
mod backfill;
mod catalog;
mod claims;
mod common;
mod config;
mod errors;
mod faults;
mod forged;
mod hostile;
mod instances;
mod lists;
mod locking;
mod overview;
mod plans;
mod refunds;
mod runtime;
mod schema;
mod sdk;
mod streams;
mod subjects;
mod sync;
mod webhook_secrets;
mod webhooks;
mod write_plans;
