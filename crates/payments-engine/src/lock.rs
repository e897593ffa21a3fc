//! One key change / sync / catalog write per environment at a time (contract §1.7).
//!
//! * In-process: a `tokio::sync::RwLock` per environment, always taken first (exclusive for
//!   writes, shared for checkout creation), plus a mutex per checkout idempotency key. On SQLite this is
//!   the whole story, and it is enough: SQLite is the single-instance deployment (one console
//!   process owns the local file; several instances require PostgreSQL), so every writer of
//!   the environment goes through this one mutex.
//! * PostgreSQL: several console instances may share the database, so the process additionally
//!   takes `pg_advisory_lock(hashtext('payments_environment_<env>'))` on a dedicated pooled
//!   connection, held until the guard is released. Taking the in-process mutex first means one
//!   instance ties up at most one connection per environment while waiting.
//! * Checkout creation (§8.1) takes the environment lock **shared**
//!   (`pg_advisory_lock_shared`) and, with an idempotency key, the exclusive
//!   `payments_checkout_<env>_<key>` lock, both on one connection.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool};
use tokio::sync::{Mutex, OwnedMutexGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

use crate::environment::Environment;
use crate::error::EngineResult;
use crate::store::DbKind;

/// The per-environment locks of one engine.
#[derive(Debug)]
pub(crate) struct EnvLocks {
    kind: DbKind,
    test: Arc<RwLock<()>>,
    live: Arc<RwLock<()>>,
    /// Checkout idempotency keys being worked on (entries die with their last guard).
    keys: std::sync::Mutex<HashMap<String, Weak<Mutex<()>>>>,
}

/// The connection holding advisory locks, and the locks (name, shared) in the order taken.
type Advisory = Option<(PoolConnection<Any>, Vec<(String, bool)>)>;

/// The in-process part of a lock.
enum Local {
    Exclusive(#[allow(dead_code)] OwnedRwLockWriteGuard<()>),
    Shared(#[allow(dead_code)] OwnedRwLockReadGuard<()>, #[allow(dead_code)] Option<OwnedMutexGuard<()>>),
}

/// Proof that the environment is locked. Call [`EnvGuard::release`] when done; if the guard is
/// dropped instead (e.g. the task was cancelled), the advisory-lock connection is closed rather
/// than returned to the pool, which ends its session and so frees the lock.
pub(crate) struct EnvGuard {
    _local: Local,
    /// The connection holding the advisory locks, and the locks (name, shared) in the order taken.
    advisory: Advisory,
}

impl EnvLocks {
    pub(crate) fn new(kind: DbKind) -> Self {
        Self { kind, test: Arc::default(), live: Arc::default(), keys: Default::default() }
    }

    fn rw(&self, env: Environment) -> Arc<RwLock<()>> {
        match env {
            Environment::Test => self.test.clone(),
            Environment::Live => self.live.clone(),
        }
    }

    /// Waits for exclusive use of `env`.
    pub(crate) async fn lock(&self, pool: &AnyPool, env: Environment) -> EngineResult<EnvGuard> {
        let local = Local::Exclusive(self.rw(env).write_owned().await);
        let advisory = self.advisory(pool, vec![(format!("payments_environment_{env}"), false)]).await?;
        Ok(EnvGuard { _local: local, advisory })
    }

    /// Checkout creation (§8.1): `env` shared, and `idempotency_key` (if any) exclusive.
    pub(crate) async fn lock_checkout(
        &self,
        pool: &AnyPool,
        env: Environment,
        idempotency_key: Option<&str>,
    ) -> EngineResult<EnvGuard> {
        let mut names = vec![(format!("payments_environment_{env}"), true)];
        let key_guard = match idempotency_key {
            Some(key) => {
                let name = format!("payments_checkout_{env}_{key}");
                let mutex = {
                    let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
                    keys.retain(|_, w| w.strong_count() > 0);
                    match keys.get(&name).and_then(Weak::upgrade) {
                        Some(m) => m,
                        None => {
                            let m = Arc::new(Mutex::new(()));
                            keys.insert(name.clone(), Arc::downgrade(&m));
                            m
                        }
                    }
                };
                names.push((name, false));
                Some(mutex.lock_owned().await)
            }
            None => None,
        };
        let local = Local::Shared(self.rw(env).read_owned().await, key_guard);
        let advisory = self.advisory(pool, names).await?;
        Ok(EnvGuard { _local: local, advisory })
    }

    /// Takes the advisory locks (PostgreSQL only) on one dedicated connection.
    async fn advisory(&self, pool: &AnyPool, names: Vec<(String, bool)>) -> EngineResult<Advisory> {
        if self.kind == DbKind::Sqlite {
            return Ok(None);
        }
        let mut conn = pool.acquire().await?;
        for (i, (name, shared)) in names.iter().enumerate() {
            // The functions return `void`, which the Any driver cannot decode: cast it to text.
            let sql = if *shared {
                "SELECT CAST(pg_advisory_lock_shared(hashtext($1)) AS TEXT) AS locked"
            } else {
                "SELECT CAST(pg_advisory_lock(hashtext($1)) AS TEXT) AS locked"
            };
            if let Err(e) = sqlx::query(sql).bind(name).fetch_one(&mut *conn).await {
                if i > 0 {
                    // Some locks are held: closing the session frees them.
                    drop(conn.detach());
                }
                return Err(e.into());
            }
        }
        Ok(Some((conn, names)))
    }
}

impl EnvGuard {
    /// Releases the lock, returning the connection to the pool.
    pub(crate) async fn release(mut self) {
        if let Some((mut conn, names)) = self.advisory.take() {
            for (name, shared) in names.iter().rev() {
                let sql = if *shared {
                    "SELECT pg_advisory_unlock_shared(hashtext($1)) AS unlocked"
                } else {
                    "SELECT pg_advisory_unlock(hashtext($1)) AS unlocked"
                };
                let unlocked = sqlx::query(sql).bind(name).fetch_one(&mut *conn).await;
                if let Err(e) = unlocked {
                    tracing::warn!(error = %e, "could not release a payments advisory lock; closing its connection");
                    drop(conn.detach());
                    return;
                }
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
