//! The engine handle: configuration, shared state and the helpers every service uses.

use std::sync::Arc;

use sqlx::AnyPool;
use stripe_client::{RequestBudget, StripeClient, STRIPE_TEST_MODE_RATE};
use url::Url;
use zeroize::Zeroizing;

use crate::audit::{AuditSink, NoAudit};
use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};
use crate::lock::{EnvGuard, EnvLocks};
use crate::sealer::Sealer;
use crate::store::{self, secrets, DbKind};
use crate::subjects::SubjectPolicy;
use payments_model::SyncProgress;

/// How to build an [`Engine`].
#[derive(Clone)]
pub struct EngineConfig {
    /// The console's database (migrations already applied).
    pub pool: AnyPool,
    /// Encrypts secrets before they are stored.
    pub sealer: Arc<dyn Sealer>,
    /// Stripe's API base (`https://api.stripe.com`, or a sandbox).
    pub stripe_api_base: Url,
    /// Where live mode's calls go when not to `stripe_api_base`: the console's demo mode runs a
    /// second, separate sandbox for live mode (Stripe keeps test and live data apart; the
    /// sandbox keeps one data set). `None`: the same base for both modes.
    pub stripe_live_api_base: Option<Url>,
    /// The console's public base URL; the managed webhook endpoint is
    /// `<public_url>/api/webhooks/stripe/<env>`. `None`: no managed webhook is created.
    pub public_url: Option<Url>,
    /// Stripe requests per second allowed per environment (Stripe allows 25 in test mode).
    pub stripe_budget_per_sec: f64,
    /// Where audit records go ([`crate::NoAudit`] by default).
    pub audit: Arc<dyn AuditSink>,
    /// Who may act for which billing subject on the runtime routes (enforced by default).
    pub subjects: SubjectPolicy,
    /// Checkout and portal sessions created at once ([`DEFAULT_RUNTIME_CONCURRENCY`]); more
    /// wait up to [`RUNTIME_QUEUE_WAIT`], then get 429. Keep it under the pool size: on
    /// PostgreSQL each one holds its advisory-lock connection while Stripe answers.
    pub runtime_concurrency: usize,
    /// How long a runtime request waits for a slot ([`RUNTIME_QUEUE_WAIT`]).
    pub runtime_queue_wait: std::time::Duration,
    /// How far back a sync backfills payment history and imports events, in days (`None`: all
    /// Stripe has; Stripe itself keeps 30 days of events).
    pub history_days: Option<u32>,
}

/// See [`EngineConfig::runtime_concurrency`].
pub const DEFAULT_RUNTIME_CONCURRENCY: usize = 4;

/// How long a checkout or portal request waits for a free slot before 429 `RATE_LIMITED`, by
/// default: long enough to ride out a burst, short of a client's patience.
pub const RUNTIME_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl EngineConfig {
    /// A configuration with no public URL and Stripe's test-mode rate as the budget.
    pub fn new(pool: AnyPool, sealer: Arc<dyn Sealer>, stripe_api_base: Url) -> Self {
        Self {
            pool,
            sealer,
            stripe_api_base,
            stripe_live_api_base: None,
            public_url: None,
            stripe_budget_per_sec: STRIPE_TEST_MODE_RATE,
            audit: Arc::new(NoAudit),
            subjects: SubjectPolicy::default(),
            runtime_concurrency: DEFAULT_RUNTIME_CONCURRENCY,
            runtime_queue_wait: RUNTIME_QUEUE_WAIT,
            history_days: None,
        }
    }
}

impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("stripe_api_base", &self.stripe_api_base.as_str())
            .field("stripe_live_api_base", &self.stripe_live_api_base.as_ref().map(Url::as_str))
            .field("public_url", &self.public_url.as_ref().map(Url::as_str))
            .field("stripe_budget_per_sec", &self.stripe_budget_per_sec)
            .finish_non_exhaustive()
    }
}

/// How often the sweeper looks for webhook events abandoned mid-way (see
/// `store/events.rs`'s claim lease): a crash's events are finished within lease + this.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// How often the overview's figures are compacted: deltas written meanwhile (at most this
/// long's writes) are what a read of the figures sums beyond one row per group.
pub const FOLD_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The embedded payments engine. Cheap to clone (shared state behind an `Arc`).
///
/// Its methods are the services behind the HTTP API ([`crate::api::router`]); the console's
/// server functions may call them directly.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub pool: AnyPool,
    pub kind: DbKind,
    pub sealer: Arc<dyn Sealer>,
    /// Stripe's API base per environment (test, live).
    pub api_bases: [String; 2],
    pub public_url: Option<Url>,
    /// One budget per environment: Stripe rate-limits test and live mode separately.
    pub budgets: [Arc<RequestBudget>; 2],
    pub locks: EnvLocks,
    pub audit: Arc<dyn AuditSink>,
    pub subjects: SubjectPolicy,
    /// Slots for runtime sessions in progress ([`EngineConfig::runtime_concurrency`]).
    pub runtime_slots: Arc<tokio::sync::Semaphore>,
    pub runtime_queue_wait: std::time::Duration,
    /// See [`EngineConfig::history_days`].
    pub history_days: Option<u32>,
    /// The progress of the last (or running) sync, per environment.
    pub progress: [std::sync::Mutex<SyncProgress>; 2],
    /// The webhook receiver's unsealed signing secrets (see `webhook/signing.rs`).
    pub signing_secrets: crate::webhook::SigningSecrets,
    /// SQLite: the queue to the writer that commits concurrent deliveries together (see
    /// `webhook/batch.rs`). `None` on PostgreSQL.
    pub webhook_batcher: Option<crate::webhook::Batcher>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("db", &self.inner.kind).field("stripe", &self.inner.api_bases).finish()
    }
}

impl Engine {
    /// Builds the engine: detects the database engine (for the locking strategy).
    pub async fn new(config: EngineConfig) -> EngineResult<Engine> {
        let rate = config.stripe_budget_per_sec;
        if !(rate > 0.0 && rate.is_finite()) {
            return Err(EngineError::Internal("stripe_budget_per_sec must be positive".into()));
        }
        let kind = store::detect_kind(&config.pool).await?;
        let (webhook_batcher, batch_queue) = match kind {
            DbKind::Sqlite => {
                let (batcher, queue) = crate::webhook::Batcher::new();
                (Some(batcher), Some(queue))
            }
            DbKind::Postgres => (None, None),
        };
        let engine = Engine {
            inner: Arc::new(Inner {
                pool: config.pool,
                kind,
                sealer: config.sealer,
                api_bases: [
                    config.stripe_api_base.as_str().to_owned(),
                    config.stripe_live_api_base.as_ref().unwrap_or(&config.stripe_api_base).as_str().to_owned(),
                ],
                public_url: config.public_url,
                budgets: [Arc::new(RequestBudget::new(rate)), Arc::new(RequestBudget::new(rate))],
                locks: EnvLocks::new(kind),
                audit: config.audit,
                subjects: config.subjects,
                runtime_slots: Arc::new(tokio::sync::Semaphore::new(config.runtime_concurrency.max(1))),
                runtime_queue_wait: config.runtime_queue_wait,
                history_days: config.history_days,
                progress: [
                    std::sync::Mutex::new(SyncProgress::idle(Environment::Test)),
                    std::sync::Mutex::new(SyncProgress::idle(Environment::Live)),
                ],
                signing_secrets: Default::default(),
                webhook_batcher,
            }),
        };
        engine.spawn_event_sweeper();
        engine.spawn_rollup_folder();
        if let Some(queue) = batch_queue {
            crate::webhook::spawn_writer(&engine, queue);
        }
        Ok(engine)
    }

    /// Runs `job` every `every` while the engine lives: the task holds the engine weakly and
    /// ends with it.
    fn spawn_periodic<F, Fut>(&self, every: std::time::Duration, job: F)
    where
        F: Fn(Engine) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                job(Engine { inner }).await;
            }
        });
    }

    /// Every [`SWEEP_EVERY`], finishes webhook events whose delivery died mid-way
    /// ([`Engine::sweep_abandoned_events`]).
    fn spawn_event_sweeper(&self) {
        self.spawn_periodic(SWEEP_EVERY, |engine| async move {
            match engine.sweep_abandoned_events().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "finished abandoned webhook events"),
                Err(e) => tracing::warn!(error = %e, "sweeping abandoned webhook events failed"),
            }
        });
    }

    /// Every [`FOLD_EVERY`], compacts the overview's figures ([`Engine::fold_overview`]).
    fn spawn_rollup_folder(&self) {
        self.spawn_periodic(FOLD_EVERY, |engine| async move {
            if let Err(e) = engine.fold_overview().await {
                // A busy database, or folds that kept colliding (`fold_overview` retries a
                // refused snapshot a few times): the deltas stay for the next tick.
                tracing::debug!(error = %e, "folding the overview's figures failed");
            }
        });
    }

    /// Compacts the overview's figures of both environments into one row per group; returns
    /// how many rows it folded. The figures read the same before and after.
    pub async fn fold_overview(&self) -> EngineResult<u64> {
        let mut folded = 0;
        for env in [Environment::Test, Environment::Live] {
            folded += retry_refused_snapshot(|| async {
                let mut tx = self.begin_snapshot().await?;
                let folded = crate::store::rollups::fold(&mut tx, env).await?;
                tx.commit().await?;
                Ok(folded)
            })
            .await?;
        }
        Ok(folded)
    }

    /// Rebuilds the overview's figures from the mirror: for rows written straight into the
    /// tables (benchmarks, fixtures) and as a repair.
    pub async fn recount_overview(&self) -> EngineResult<()> {
        retry_refused_snapshot(|| async {
            let mut tx = self.begin_snapshot().await?;
            crate::store::rollups::recount(&mut tx).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// A write transaction whose reads all see one snapshot: SQLite's write transaction does;
    /// PostgreSQL's default (`READ COMMITTED`) takes a new one per statement.
    async fn begin_snapshot(&self) -> EngineResult<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.begin_write().await?;
        if self.inner.kind == DbKind::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await?;
        }
        Ok(tx)
    }

    /// The database engine in use.
    pub fn db_kind(&self) -> DbKind {
        self.inner.kind
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and then writes gets
    /// SQLITE_BUSY at once, without waiting, when another connection is writing (for example
    /// several webhook deliveries landing together), whereas taking the lock at BEGIN waits for
    /// it under the busy timeout.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.inner.kind {
            DbKind::Sqlite => self.inner.pool.begin_with("BEGIN IMMEDIATE").await,
            DbKind::Postgres => self.inner.pool.begin().await,
        }
    }

    /// A slot for one runtime session (checkout or portal): bounds how many wait on Stripe at
    /// once, so that a slow Stripe cannot tie up every pooled connection.
    pub(crate) async fn runtime_slot(&self) -> EngineResult<tokio::sync::OwnedSemaphorePermit> {
        match tokio::time::timeout(self.inner.runtime_queue_wait, self.inner.runtime_slots.clone().acquire_owned())
            .await
        {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(EngineError::RateLimited(
                "Too many checkout or portal sessions are being created at once; retry shortly".into(),
            )),
        }
    }

    pub(crate) async fn lock(&self, env: Environment) -> EngineResult<EnvGuard> {
        self.inner.locks.lock(&self.inner.pool, env).await
    }

    pub(crate) async fn lock_checkout(&self, env: Environment, key: Option<&str>) -> EngineResult<EnvGuard> {
        self.inner.locks.lock_checkout(&self.inner.pool, env, key).await
    }

    /// The stored secret key of `env`, decrypted, without the prefix check.
    pub(crate) async fn read_key_unchecked(&self, env: Environment) -> EngineResult<Option<Zeroizing<String>>> {
        let mut conn = self.pool().acquire().await?;
        let Some(sealed) = secrets::read_active(&mut conn, env.secret_key_name()).await? else {
            return Ok(None);
        };
        self.inner
            .sealer
            .open(&sealed)
            .map(Some)
            .map_err(|e| EngineError::Internal(format!("opening {}: {e}", env.secret_key_name())))
    }

    /// The stored secret key of `env`, decrypted and prefix-checked.
    pub(crate) async fn read_key(&self, env: Environment) -> EngineResult<Option<Zeroizing<String>>> {
        let key = self.read_key_unchecked(env).await?;
        if let Some(k) = &key {
            validate_key_prefix(env, k)?;
        }
        Ok(key)
    }

    /// A Stripe client for `key`, sharing the environment's request budget.
    pub(crate) fn stripe_client(&self, env: Environment, key: &str) -> EngineResult<StripeClient> {
        let mode = usize::from(env == Environment::Live);
        crate::stripe::client(&self.inner.api_bases[mode], key, &self.inner.budgets[mode])
    }

    /// A client with the stored key; 400 `PAYMENT_CONFIG_INVALID` when there is none.
    pub(crate) async fn configured_client(&self, env: Environment) -> EngineResult<StripeClient> {
        let key = self.read_key(env).await?.ok_or_else(|| EngineError::key_not_configured(env))?;
        self.stripe_client(env, &key)
    }
}

/// The prefix rule of `contract/BEHAVIOUR.md` §5.1: `sk_test_` for test, `sk_live_` for live
/// (restricted keys refused).
pub(crate) fn validate_key_prefix(env: Environment, key: &str) -> EngineResult<()> {
    if key.starts_with(env.key_prefix()) {
        Ok(())
    } else {
        Err(EngineError::bad_key_prefix(env))
    }
}

/// `maskStripeKey` (`contract/BEHAVIOUR.md` §2.3 (2)): keys of at most 8 characters → `****`;
/// otherwise the prefix (`sk_test_` / `sk_live_`, else the first 4 characters) + `****` + the
/// last 4 characters.
pub fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "****".to_owned();
    }
    let prefix: String = if key.starts_with("sk_test_") {
        "sk_test_".to_owned()
    } else if key.starts_with("sk_live_") {
        "sk_live_".to_owned()
    } else {
        chars[..4].iter().collect()
    };
    let last4: String = chars[chars.len() - 4..].iter().collect();
    format!("{prefix}****{last4}")
}

/// Runs a [`Engine::begin_snapshot`] transaction again, from a new snapshot, when
/// PostgreSQL refuses it as a serialisation failure: a concurrent fold (this instance's
/// background one, another instance's, or a wipe) changed the rows it read first. The
/// figures' advisory lock (`store::rollups::serialize_figures`) makes them take turns, but
/// a waiting transaction's snapshot predates the turn before it. A caller asking to fold
/// wants the rows folded, not that error; the attempts are bounded.
async fn retry_refused_snapshot<T, F, Fut>(run: F) -> EngineResult<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = EngineResult<T>>,
{
    const ATTEMPTS: usize = 5;
    let mut attempt = 1;
    loop {
        match run().await {
            Err(e) if attempt < ATTEMPTS && is_serialization_failure(&e) => attempt += 1,
            done => return done,
        }
    }
}

/// PostgreSQL's `serialization_failure` (SQLSTATE 40001): a `REPEATABLE READ` transaction
/// touched rows a transaction that committed after its snapshot changed. It is worth retrying.
fn is_serialization_failure(e: &EngineError) -> bool {
    matches!(e, EngineError::Database(sqlx::Error::Database(db)) if db.code().as_deref() == Some("40001"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_the_reference() {
        assert_eq!(mask_key("sk_test_abcdefAbCd"), "sk_test_****AbCd");
        assert_eq!(mask_key("sk_live_0123456789"), "sk_live_****6789");
        assert_eq!(mask_key("rk_test_0123456789"), "rk_t****6789");
        assert_eq!(mask_key("sk_test_"), "****");
        assert_eq!(mask_key("sk_test_1"), "sk_test_****st_1");
    }

    #[test]
    fn prefixes_are_per_environment() {
        assert!(validate_key_prefix(Environment::Test, "sk_test_x").is_ok());
        let err = validate_key_prefix(Environment::Live, "sk_test_x").unwrap_err();
        assert_eq!(err.to_string(), "STRIPE_LIVE_SECRET_KEY must start with sk_live_");
        assert_eq!((err.status(), err.code()), (400, "PAYMENT_CONFIG_INVALID"));
        assert!(validate_key_prefix(Environment::Test, "rk_test_x").is_err());
    }
}
