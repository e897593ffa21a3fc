//! The receiver's signing secrets, unsealed once per value and read once a second.
//!
//! Every delivery used to read the webhook secret and the secret key with an `UPDATE … RETURNING`
//! (two commits: on SQLite, two fsyncs) and to unseal both. Then a delivery read both sealed
//! values with one plain `SELECT` and unsealed only when a sealed text differed from the cached
//! one. Since issue #14 the signing secret pasted from the Stripe CLI is read in the same
//! `SELECT` and cached the same way. Sealing draws a fresh nonce, so any write of any secret (a
//! key change, the endpoint's re-creation, sync's account change, another instance sharing the
//! database, a pasted secret set or removed) changes what is read and so invalidates the entry.
//!
//! That `SELECT` was still a round trip per delivery, about a tenth of a delivery's statements
//! on PostgreSQL (issue #10's benchmark). Now a cached entry is trusted for [`RECHECK_AFTER`]
//! after the table last confirmed it. This process's own writes of a secret forget the entry
//! when they commit ([`Engine::forget_signing_secrets`]), so here a removed or replaced secret is
//! refused from the next delivery on, as before; another instance's write (a shared
//! PostgreSQL) reaches this one within [`RECHECK_AFTER`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::engine::{validate_key_prefix, Engine};
use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};
use crate::store::secrets;
use crate::time::now_ms;

/// How often a delivery records that the secrets are in use (`last_used_at`), per process.
const STAMP_EVERY_MS: i64 = 60 * 1000;

/// How long a cached entry is used without reading the table again. Bounds how long another
/// instance's change of a secret takes to reach this process.
const RECHECK_AFTER: Duration = Duration::from_secs(1);

/// The unsealed signing secrets of each environment, with the sealed texts they were opened from.
#[derive(Default)]
pub(crate) struct SigningSecrets {
    slots: [Mutex<Option<Unsealed>>; 2],
    /// Bumped by every forget: a read that began before a write committed must not put what
    /// it read back into the cache after the write forgot it.
    generations: [AtomicU64; 2],
}

/// What a delivery's signature may match: the managed endpoint's secret and the one an admin
/// pasted from the Stripe CLI (`stripe listen`), each while it is set. At least one is.
#[derive(Clone)]
pub(crate) struct Verifiers {
    pub managed: Option<Zeroizing<String>>,
    pub forwarded: Option<Zeroizing<String>>,
}

struct Unsealed {
    sealed_secret: Option<String>,
    sealed_forwarded: Option<String>,
    sealed_key: String,
    secrets: Verifiers,
    stamped_at: i64,
    /// When the table last showed these sealed texts.
    checked_at: Instant,
}

impl SigningSecrets {
    fn slot(&self, env: Environment) -> std::sync::MutexGuard<'_, Option<Unsealed>> {
        self.slots[usize::from(env == Environment::Live)].lock().unwrap_or_else(|e| e.into_inner())
    }

    fn generation(&self, env: Environment) -> u64 {
        self.generations[usize::from(env == Environment::Live)].load(Ordering::Acquire)
    }

    /// The slot of `env`, if no forget happened since `generation` was read.
    fn slot_since(&self, env: Environment, generation: u64) -> Option<std::sync::MutexGuard<'_, Option<Unsealed>>> {
        let slot = self.slot(env);
        // Read under the slot's lock, which `forget` takes after bumping: no forget slips between.
        (self.generation(env) == generation).then_some(slot)
    }

    fn forget(&self, env: Environment) {
        self.generations[usize::from(env == Environment::Live)].fetch_add(1, Ordering::AcqRel);
        *self.slot(env) = None;
    }
}

impl Engine {
    /// The webhook signing secrets of `env`, with the checks a delivery always made, in their
    /// order: a secret is configured (else 500; the managed one, or since issue #14 a pasted
    /// one), opens, and a key is configured (else 400), opens and has the environment's prefix.
    /// With no pasted secret this is exactly the managed secret's path as before.
    pub(crate) async fn webhook_signing_secrets(&self, env: Environment) -> EngineResult<Verifiers> {
        let cache = &self.inner.signing_secrets;
        let recent = match &*cache.slot(env) {
            Some(u) if u.checked_at.elapsed() < RECHECK_AFTER => Some((u.secrets.clone(), u.stamped_at)),
            _ => None,
        };
        let now = now_ms();
        if let Some((secrets, stamped_at)) = recent {
            if now - stamped_at >= STAMP_EVERY_MS {
                self.stamp_signing_secrets(env, now).await;
            }
            return Ok(secrets);
        }
        let generation = cache.generation(env);
        let names = [env.webhook_secret_name(), env.forwarding_secret_name(), env.secret_key_name()];
        let [sealed_secret, sealed_forwarded, sealed_key] = {
            let mut conn = self.pool().acquire().await?;
            secrets::read_active_many(&mut conn, names).await?
        };
        if sealed_secret.is_none() && sealed_forwarded.is_none() {
            return Err(EngineError::ServerMessage(format!("{} is not configured", names[0])));
        }
        let checked_at = Instant::now();
        let cached = match (cache.slot_since(env, generation).as_deref_mut(), &sealed_key) {
            (Some(Some(u)), Some(key))
                if u.sealed_secret == sealed_secret
                    && u.sealed_forwarded == sealed_forwarded
                    && &u.sealed_key == key =>
            {
                u.checked_at = checked_at;
                Some((u.secrets.clone(), now - u.stamped_at >= STAMP_EVERY_MS))
            }
            _ => None,
        };
        if let Some((secrets, stale)) = cached {
            if stale {
                self.stamp_signing_secrets(env, now).await;
            }
            return Ok(secrets);
        }
        let sealer = &self.inner.sealer;
        let open = |sealed: &Option<String>, what: &str| -> EngineResult<Option<Zeroizing<String>>> {
            sealed
                .as_deref()
                .map(|s| sealer.open(s).map_err(|e| EngineError::Internal(format!("opening {what}: {e}"))))
                .transpose()
        };
        let secrets = Verifiers {
            managed: open(&sealed_secret, "the webhook secret")?,
            forwarded: open(&sealed_forwarded, "the forwarded webhook secret")?,
        };
        let sealed_key = sealed_key.ok_or_else(|| EngineError::key_not_configured(env))?;
        let key = sealer.open(&sealed_key).map_err(|e| EngineError::Internal(format!("opening {}: {e}", names[2])))?;
        validate_key_prefix(env, &key)?;
        if let Some(mut slot) = cache.slot_since(env, generation) {
            *slot = Some(Unsealed {
                sealed_secret,
                sealed_forwarded,
                sealed_key,
                secrets: secrets.clone(),
                stamped_at: i64::MIN,
                checked_at,
            });
        }
        self.stamp_signing_secrets(env, now).await;
        Ok(secrets)
    }

    /// Forgets the cached secrets of `env`: called by every write of a secret of `env`, after
    /// its commit, so that this process's next delivery reads what was written.
    pub(crate) fn forget_signing_secrets(&self, env: Environment) {
        self.inner.signing_secrets.forget(env);
    }

    /// Records that the secrets of `env` are in use. Best effort: a delivery must not fail
    /// because a usage stamp could not be written.
    async fn stamp_signing_secrets(&self, env: Environment, now: i64) {
        if let Some(u) = self.inner.signing_secrets.slot(env).as_mut() {
            u.stamped_at = now;
        }
        let stamped = async {
            let mut conn = self.pool().acquire().await?;
            secrets::stamp_used(&mut conn, env.webhook_secret_name(), env.secret_key_name()).await
        };
        if let Err(e) = stamped.await {
            tracing::warn!(environment = %env, error = %e, "could not record the use of the webhook secrets");
        }
    }
}
