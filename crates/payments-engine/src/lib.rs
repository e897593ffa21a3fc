//! The embedded payments engine of the Payments Console: Stripe key configuration, connection
//! status, the catalog mirror, sync, webhooks and the runtime sessions, behind the InsForge
//! Payments v2 HTTP API.
//!
//! The contract is vendored at the repository root: `contract/BEHAVIOUR.md` (behaviour) and
//! `contract/insforge-payments-v2.openapi.yaml` (shapes). Section numbers (§) in this crate's
//! documentation are those of `contract/BEHAVIOUR.md`; each file that cites them says so.
//!
//! * [`Engine`] — built from an [`EngineConfig`] (database pool, [`Sealer`], Stripe base URL,
//!   public URL, request budget); its async methods are the services (`status`, `config`,
//!   `set_secret_key`, catalog reads and writes).
//! * [`api::router`] — the `/api/payments/...` routes, guarded by an [`api::auth::Authenticator`].
//! * [`EngineError`] — the domain errors, each mapped to the contract's status and code.
//!
//! Schema: `migrations/20261125000002_payments.sql` at the workspace root (portable SQL for
//! SQLite and PostgreSQL, times in Unix milliseconds).

#![warn(missing_docs)]

pub mod api;
/// The contract's shapes, from the shared model crate (the browser compiles them too).
pub use payments_model::contract as model;
pub(crate) use payments_model::environment;
mod audit;
mod catalog;
mod checkout;
mod config;
mod engine;
mod error;
mod forwarding;
mod lists;
mod lock;
mod memory;
pub mod metrics;
mod objects;
mod overview;
mod reachability;
mod refunds;
mod sealer;
mod store;
mod stripe;
mod subjects;
mod sync;
pub mod time;
mod webhook;
#[doc(hidden)]
pub mod write_sql;

pub use api::auth::{
    admin_decision, caller_from_claims, sign_hs256, user_decision, verify_hs256, AuthError, Authenticator, Caller,
    Credential, InProcessCaller, JwtClaims, JwtError, SimpleAuthenticator,
};
pub use api::errors::ApiError;
pub use api::router;
pub use audit::{AuditRecord, AuditSink, NoAudit, StripeCall};
pub use checkout::{
    BillingSubject, CheckoutLineItem, CheckoutRequest, CheckoutSession, CustomerPortalSession, PortalRequest,
    RuntimeUser,
};
pub use engine::{mask_key, Engine, EngineConfig, DEFAULT_RUNTIME_CONCURRENCY, RUNTIME_QUEUE_WAIT, SWEEP_EVERY};
pub use environment::Environment;
pub use error::{EngineError, EngineResult};
pub use lists::ListOptions;
/// The lists' statements, for the plan tests (`tests/api/plans.rs`).
#[doc(hidden)]
pub use lists::{Bind, ListShape, Statement};
pub use payments_model::{CustomerListItem, Page, PaymentHistory, Subscription, SubscriptionItem};
pub use payments_model::{ObjectProgress, SyncProgress, SyncState};
pub use reachability::stripe_cannot_reach;
pub use sealer::{SealError, Sealer};
pub use store::rollups::recount_tables as recount_overview_tables;
pub use store::DbKind;
pub use stripe::MANAGED_WEBHOOK_EVENTS;
pub use subjects::{
    granted_subjects, RuntimeRoute, SubjectAuthoriser, SubjectPolicy, AUTHORISER_CACHE_TTL, AUTHORISER_TIMEOUT,
    SUBJECTS_CLAIM,
};
pub use sync::{history_lists, sync_lists, SyncList};
