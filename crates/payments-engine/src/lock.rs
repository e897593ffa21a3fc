//! One key change / sync / catalog write per environment at a time (contract §1.7).
//!
//! * In-process: a `tokio::sync::Mutex` per environment, always taken first. On SQLite this is
//!   the whole story, and it is enough: SQLite is the single-instance deployment (one console
//!   process owns the local file; several instances require PostgreSQL), so every writer of
//!   the environment goes through this one mutex.
//! * PostgreSQL: several console instances may share the database, so the process additionally
//!   takes `pg_advisory_lock(hashtext('payments_environment_<env>'))` on a dedicated pooled
//!   connection, held until the guard is released. Taking the in-process mutex first means one
//!   instance ties up at most one connection per environment while waiting.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::environment::Environment;
use crate::error::EngineResult;
use crate::store::DbKind;

/// The per-environment locks of one engine.
#[derive(Debug)]
pub(crate) struct EnvLocks {
    kind: DbKind,
    test: Arc<Mutex<()>>,
    live: Arc<Mutex<()>>,
}

/// Proof that the environment is locked. Call [`EnvGuard::release`] when done; if the guard is
/// dropped instead (e.g. the task was cancelled), the advisory-lock connection is closed rather
/// than returned to the pool, which ends its session and so frees the lock.
pub(crate) struct EnvGuard {
    _local: OwnedMutexGuard<()>,
    advisory: Option<(PoolConnection<Any>, String)>,
}

impl EnvLocks {
    pub(crate) fn new(kind: DbKind) -> Self {
        Self { kind, test: Arc::default(), live: Arc::default() }
    }

    /// Waits for exclusive use of `env`.
    pub(crate) async fn lock(&self, pool: &AnyPool, env: Environment) -> EngineResult<EnvGuard> {
        let mutex = match env {
            Environment::Test => self.test.clone(),
            Environment::Live => self.live.clone(),
        };
        let local = mutex.lock_owned().await;
        let advisory = match self.kind {
            DbKind::Sqlite => None,
            DbKind::Postgres => {
                let name = format!("payments_environment_{env}");
                let mut conn = pool.acquire().await?;
                // The function returns `void`, which the Any driver cannot decode: cast it to text.
                sqlx::query("SELECT CAST(pg_advisory_lock(hashtext($1)) AS TEXT) AS locked")
                    .bind(&name)
                    .fetch_one(&mut *conn)
                    .await?;
                Some((conn, name))
            }
        };
        Ok(EnvGuard { _local: local, advisory })
    }
}

impl EnvGuard {
    /// Releases the lock, returning the connection to the pool.
    pub(crate) async fn release(mut self) {
        if let Some((mut conn, name)) = self.advisory.take() {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock(hashtext($1)) AS unlocked")
                .bind(&name)
                .fetch_one(&mut *conn)
                .await;
            if let Err(e) = unlocked {
                tracing::warn!(error = %e, "could not release a payments advisory lock; closing its connection");
                drop(conn.detach());
            }
        }
    }
}

impl Drop for EnvGuard {
    fn drop(&mut self) {
        if let Some((conn, _)) = self.advisory.take() {
            // Not released explicitly: closing the session is the only sure way to free the lock.
            drop(conn.detach());
        }
    }
}
