//! The audit log's rows as the Audit page shows them; the server's audit log
//! (`crate::server::audit`) reads them from the database.

use serde::{Deserialize, Serialize};

/// One recorded admin write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    /// The user's email, or `cli:<os user>` for command-line writes.
    pub actor: String,
    /// What was done, e.g. `user.add`, `price.create`.
    pub action: String,
    pub environment: Option<String>,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub stripe_request_id: Option<String>,
    pub idempotency_key: Option<String>,
}

/// A page of the audit log, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass back as `cursor` for the next (older) page; `None` on the last page.
    pub next_cursor: Option<payments_model::Cursor>,
}
