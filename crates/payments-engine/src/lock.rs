//! One key change / sync / catalog write per environment at a time (§1.7 of
//! `contract/BEHAVIOUR.md`, whose section numbers (§) this file cites).
//!
//! * In-process: a `tokio::sync::RwLock` per environment, always taken first (exclusive for
//!   writes, shared for checkout creation), plus a mutex per checkout idempotency key. On SQLite this is
//!   the whole story, and it is enough: SQLite is the single-instance deployment (one console
//!   process owns the local file; several instances require PostgreSQL), so every writer of
//!   the environment goes through this one mutex.
//! * PostgreSQL: several console instances may share the database, so the process additionally
//!   takes a session advisory lock on a dedicated pooled connection, held until the guard is
//!   released. Taking the in-process lock first means one instance ties up at most one
//!   connection per environment while waiting.
//! * Checkout creation (§8.1) takes the environment lock **shared**
//!   (`pg_advisory_lock_shared`) and, with an idempotency key, an exclusive lock on that key,
//!   both on one connection.
//!
//! # Lock keys: no caller-chosen string can reach another lock
//!
//! The idempotency key is chosen by the caller. The locks used to be
//! `pg_advisory_lock(hashtext('payments_environment_<env>'))` and
//! `hashtext('payments_checkout_<env>_<key>')`: `hashtext` is a 32-bit hash, so a key could be
//! searched offline whose lock *was* the environment lock. Holding it exclusively, one checkout
//! then stalled every other checkout (and every write) of the environment on every instance.
//!
//! Now every advisory lock uses PostgreSQL's two-`int4` form `pg_advisory_lock(class, object)`:
//!
//! | lock | class (`int4`) | object (`int4`) |
//! |---|---|---|
//! | environment | [`ENVIRONMENT_CLASS`] | 1 = test, 2 = live (exact, no hash) |
//! | checkout idempotency key | [`CHECKOUT_CLASS`] | 32 bits of SHA-256 over a tag, the environment and the key |
//! | one subscription's writers (transaction-scoped) | [`SUBSCRIPTION_CLASS`] | `hashtext` of the environment and the subscription id |
//! | folding or wiping an environment's overview figures (transaction-scoped) | [`ROLLUP_CLASS`] | 1 = test, 2 = live |
//!
//! The class says what kind of lock it is, so whatever the key, a checkout lock is never the
//! environment lock (nor a lock of any other kind added later with its own class). Two keys
//! whose hashes collide only share a lock, which serialises them and is harmless. The two-key
//! form also lives apart from the one-`bigint` form in `pg_locks`, so it cannot meet the old
//! keys (or another application's single-key locks) either. In-process, the kinds are apart by
//! construction: the environment locks are fields, the key mutexes a map keyed by
//! `(environment, key)`.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool};
use tokio::sync::{Mutex, OwnedMutexGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

use sha2::{Digest, Sha256};

use crate::environment::Environment;
use crate::error::EngineResult;
use crate::store::DbKind;

/// Advisory-lock class of the per-environment locks (`"PAY\x01"`).
pub(crate) const ENVIRONMENT_CLASS: i32 = 0x5041_5901;
/// Advisory-lock class of the checkout idempotency-key locks (`"PAY\x02"`).
pub(crate) const CHECKOUT_CLASS: i32 = 0x5041_5902;
/// Advisory-lock class of one subscription's writers (`"PAY\x03"`, object `hashtext` of the
/// environment and id; `store::rollups::serialize_subscription`).
pub(crate) const SUBSCRIPTION_CLASS: i32 = 0x5041_5903;
/// Advisory-lock class of an environment's overview figures (`"PAY\x04"`): the fold and the wipe
/// of an account change take turns (`store::rollups::serialize_figures`).
pub(crate) const ROLLUP_CLASS: i32 = 0x5041_5904;

/// What a lock protects. Each kind maps to its own advisory-lock class.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum LockId {
    /// All writes of one environment.
    Environment(Environment),
    /// Checkout creation with one idempotency key in one environment.
    Checkout(Environment, String),
}

impl LockId {
    /// The `(class, object)` pair of `pg_advisory_lock(int4, int4)`.
    pub(crate) fn advisory_key(&self) -> (i32, i32) {
        match self {
            LockId::Environment(env) => (ENVIRONMENT_CLASS, env_object(*env)),
            LockId::Checkout(env, key) => {
                // Domain-separated, length-prefixed input: the tag and the environment can never be
                // forged by the key, and no two (environment, key) pairs hash the same input.
                let digest = Sha256::new()
                    .chain_update(b"payments-engine/checkout-lock/v1\0")
                    .chain_update(env.as_str().as_bytes())
                    .chain_update(b"\0")
                    .chain_update((key.len() as u64).to_be_bytes())
                    .chain_update(key.as_bytes())
                    .finalize();
                (CHECKOUT_CLASS, i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]))
            }
        }
    }
}

pub(crate) fn env_object(env: Environment) -> i32 {
    match env {
        Environment::Test => 1,
        Environment::Live => 2,
    }
}

/// The per-environment locks of one engine.
#[derive(Debug)]
pub(crate) struct EnvLocks {
    kind: DbKind,
    test: Arc<RwLock<()>>,
    live: Arc<RwLock<()>>,
    /// Checkout idempotency keys being worked on, per environment (entries die with their last
    /// guard). A map of its own: no key can name an environment lock.
    keys: std::sync::Mutex<HashMap<(Environment, String), Weak<Mutex<()>>>>,
}

/// The connection holding advisory locks, and the locks (id, shared) in the order taken.
type Advisory = Option<(PoolConnection<Any>, Vec<(LockId, bool)>)>;

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
    /// The connection holding the advisory locks, and the locks (id, shared) in the order taken.
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
        let advisory = self.advisory(pool, vec![(LockId::Environment(env), false)]).await?;
        Ok(EnvGuard { _local: local, advisory })
    }

    /// Checkout creation (§8.1): `env` shared, and `idempotency_key` (if any) exclusive.
    pub(crate) async fn lock_checkout(
        &self,
        pool: &AnyPool,
        env: Environment,
        idempotency_key: Option<&str>,
    ) -> EngineResult<EnvGuard> {
        let mut names = vec![(LockId::Environment(env), true)];
        let key_guard = match idempotency_key {
            Some(key) => {
                let slot = (env, key.to_owned());
                let mutex = {
                    let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
                    keys.retain(|_, w| w.strong_count() > 0);
                    match keys.get(&slot).and_then(Weak::upgrade) {
                        Some(m) => m,
                        None => {
                            let m = Arc::new(Mutex::new(()));
                            keys.insert(slot, Arc::downgrade(&m));
                            m
                        }
                    }
                };
                names.push((LockId::Checkout(env, key.to_owned()), false));
                Some(mutex.lock_owned().await)
            }
            None => None,
        };
        let local = Local::Shared(self.rw(env).read_owned().await, key_guard);
        let advisory = self.advisory(pool, names).await?;
        Ok(EnvGuard { _local: local, advisory })
    }

    /// Takes the advisory locks (PostgreSQL only) on one dedicated connection.
    async fn advisory(&self, pool: &AnyPool, names: Vec<(LockId, bool)>) -> EngineResult<Advisory> {
        if self.kind == DbKind::Sqlite {
            return Ok(None);
        }
        let mut conn = pool.acquire().await?;
        for (i, (id, shared)) in names.iter().enumerate() {
            // The functions return `void`, which the Any driver cannot decode: cast it to text.
            // The casts pick the `(int4, int4)` form whatever integer type the driver binds.
            let sql = if *shared {
                "SELECT CAST(pg_advisory_lock_shared(CAST($1 AS INTEGER), CAST($2 AS INTEGER)) AS TEXT) AS locked"
            } else {
                "SELECT CAST(pg_advisory_lock(CAST($1 AS INTEGER), CAST($2 AS INTEGER)) AS TEXT) AS locked"
            };
            let (class, object) = id.advisory_key();
            if let Err(e) = sqlx::query(sql).bind(class).bind(object).fetch_one(&mut *conn).await {
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
    /// The connection holding the advisory locks (PostgreSQL; `None` on SQLite), so that work
    /// under the lock needs no second pooled connection.
    pub(crate) fn connection(&mut self) -> Option<&mut AnyConnection> {
        self.advisory.as_mut().map(|(conn, _)| &mut **conn)
    }

    /// Releases the lock, returning the connection to the pool.
    pub(crate) async fn release(mut self) {
        if let Some((mut conn, names)) = self.advisory.take() {
            for (id, shared) in names.iter().rev() {
                let sql = if *shared {
                    "SELECT pg_advisory_unlock_shared(CAST($1 AS INTEGER), CAST($2 AS INTEGER)) AS unlocked"
                } else {
                    "SELECT pg_advisory_unlock(CAST($1 AS INTEGER), CAST($2 AS INTEGER)) AS unlocked"
                };
                let (class, object) = id.advisory_key();
                let unlocked = sqlx::query(sql).bind(class).bind(object).fetch_one(&mut *conn).await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Under the old names, `hashtext('payments_checkout_test_' || CRAFTED)` was
    /// `hashtext('payments_environment_test')` (see `tests/api/hostile.rs`).
    const CRAFTED: &str = "collide-00002d2e8282";

    /// `Some` if `f` is ready at its first poll: an uncontended in-process lock is.
    async fn now<F: std::future::Future>(f: F) -> Option<F::Output> {
        tokio::select! { biased; v = f => Some(v), _ = std::future::ready(()) => None }
    }

    async fn sqlite() -> AnyPool {
        sqlx::any::install_default_drivers();
        AnyPool::connect("sqlite::memory:").await.unwrap()
    }

    #[test]
    fn environment_locks_are_exact_and_apart() {
        let test = LockId::Environment(Environment::Test).advisory_key();
        let live = LockId::Environment(Environment::Live).advisory_key();
        assert_eq!((test, live), ((ENVIRONMENT_CLASS, 1), (ENVIRONMENT_CLASS, 2)));
        assert_ne!(ENVIRONMENT_CLASS, CHECKOUT_CLASS);
        let crafted = LockId::Checkout(Environment::Test, CRAFTED.into()).advisory_key();
        assert_eq!(crafted.0, CHECKOUT_CLASS);
        // The same key in the other environment is another lock.
        assert_ne!(crafted, LockId::Checkout(Environment::Live, CRAFTED.into()).advisory_key());
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x6c6f_636b),
            ..ProptestConfig::default()
        })]

        /// Whatever the caller's key, its lock is of the checkout class: never an environment lock.
        #[test]
        fn no_idempotency_key_reaches_an_environment_lock(key in any::<String>(), live in any::<bool>()) {
            let env = if live { Environment::Live } else { Environment::Test };
            let (class, _) = LockId::Checkout(env, key).advisory_key();
            prop_assert_eq!(class, CHECKOUT_CLASS);
            for env in [Environment::Test, Environment::Live] {
                prop_assert_ne!(LockId::Environment(env).advisory_key().0, class);
            }
        }
    }

    /// In-process (SQLite): a checkout holding the crafted key blocks only its own key and the
    /// writers of its environment (who wait for checkouts by design), nothing else.
    #[tokio::test]
    async fn in_process_key_locks_are_apart_from_the_environment_locks() {
        let pool = sqlite().await;
        let locks = EnvLocks::new(DbKind::Sqlite);
        let held = locks.lock_checkout(&pool, Environment::Test, Some(CRAFTED)).await.unwrap();

        let other = now(locks.lock_checkout(&pool, Environment::Test, Some("another-key"))).await;
        other.expect("another key proceeds").unwrap().release().await;
        let none = now(locks.lock_checkout(&pool, Environment::Test, None)).await;
        none.expect("no key proceeds").unwrap().release().await;
        let live = now(locks.lock_checkout(&pool, Environment::Live, Some(CRAFTED))).await;
        live.expect("the same key in live proceeds").unwrap().release().await;
        now(locks.lock(&pool, Environment::Live)).await.expect("live writers proceed").unwrap().release().await;

        assert!(now(locks.lock_checkout(&pool, Environment::Test, Some(CRAFTED))).await.is_none(), "same key waits");
        assert!(now(locks.lock(&pool, Environment::Test)).await.is_none(), "test writers wait for the checkout");
        held.release().await;
        now(locks.lock(&pool, Environment::Test)).await.expect("free again").unwrap().release().await;
    }
}
