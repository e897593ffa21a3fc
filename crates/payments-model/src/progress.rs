//! Progress of a sync from Stripe, as the engine reports it while the sync runs (additive to the
//! contract: `GET /api/payments/{environment}/sync/progress`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::environment::Environment;

/// The object types a sync reports progress for, in the order it reads them: the mirror
/// (catalog, customers, subscriptions), then the payment history it backfills, then the
/// events it imports on an account's first sync.
pub const SYNC_OBJECT_TYPES: [&str; 9] = [
    "products",
    "prices",
    "customers",
    "subscriptions",
    "checkout_sessions",
    "payment_intents",
    "invoices",
    "refunds",
    "events",
];

/// Whether a sync of the environment is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncState {
    /// No sync ran since this engine started.
    Idle,
    /// A sync is running (it holds the environment lock).
    Running,
    /// The last sync finished (see `succeeded`).
    Finished,
}

/// Objects of one type handled by the running (or last) sync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectProgress {
    /// Fetched from Stripe so far.
    pub fetched: u64,
    /// Written to the mirror so far (rows skipped by the ordering guard are not counted).
    pub written: u64,
}

/// Progress of the running or last sync of one environment, in this engine process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncProgress {
    /// `test` / `live`.
    pub environment: Environment,
    /// `idle` / `running` / `finished`.
    pub state: SyncState,
    /// When the sync started (after it obtained the environment lock).
    pub started_at: Option<String>,
    /// When it finished.
    pub finished_at: Option<String>,
    /// `Some(true)` when it succeeded, `Some(false)` when it failed.
    pub succeeded: Option<bool>,
    /// Why it failed.
    pub error: Option<String>,
    /// Per object type ([`SYNC_OBJECT_TYPES`]).
    pub objects: BTreeMap<String, ObjectProgress>,
    /// Stripe requests made by the sync.
    pub stripe_requests: u64,
    /// Retries after a 429 from Stripe (rate-limit back-offs).
    pub rate_limit_backoffs: u64,
    /// Retries of any kind.
    pub retries: u64,
}

impl SyncProgress {
    /// Before any sync.
    pub fn idle(environment: Environment) -> Self {
        SyncProgress {
            environment,
            state: SyncState::Idle,
            started_at: None,
            finished_at: None,
            succeeded: None,
            error: None,
            objects: BTreeMap::new(),
            stripe_requests: 0,
            rate_limit_backoffs: 0,
            retries: 0,
        }
    }
}
