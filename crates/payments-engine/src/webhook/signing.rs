//! The receiver's signing secret, unsealed once per value instead of once per delivery.
//!
//! Every delivery used to read the webhook secret and the secret key with an `UPDATE … RETURNING`
//! (two commits: on SQLite, two fsyncs) and to unseal both. Now a delivery reads both sealed
//! values with one plain `SELECT` and unseals only when a sealed text differs from the cached
//! one. Sealing draws a fresh nonce, so any write of either secret (a key change, the endpoint's
//! re-creation, sync's account change, another instance sharing the database, a removal) changes
//! what is read and so invalidates the entry: no write path has to remember to clear the cache.

use std::sync::Mutex;

use zeroize::Zeroizing;

use crate::engine::{validate_key_prefix, Engine};
use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};
use crate::store::secrets;
use crate::time::now_ms;

/// How often a delivery records that the secrets are in use (`last_used_at`), per process.
const STAMP_EVERY_MS: i64 = 60 * 1000;

/// The unsealed signing secret of each environment, with the sealed texts it was opened from.
#[derive(Default)]
pub(crate) struct SigningSecrets {
    slots: [Mutex<Option<Unsealed>>; 2],
}

struct Unsealed {
    sealed_secret: String,
    sealed_key: String,
    secret: Zeroizing<String>,
    stamped_at: i64,
}

impl SigningSecrets {
    fn slot(&self, env: Environment) -> std::sync::MutexGuard<'_, Option<Unsealed>> {
        self.slots[usize::from(env == Environment::Live)].lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Engine {
    /// The webhook signing secret of `env`, with the checks a delivery always made, in their
    /// order: the secret is configured (else 500), opens, and a key is configured (else 400),
    /// opens and has the environment's prefix.
    pub(crate) async fn webhook_signing_secret(&self, env: Environment) -> EngineResult<Zeroizing<String>> {
        let (secret_name, key_name) = (env.webhook_secret_name(), env.secret_key_name());
        let (sealed_secret, sealed_key) = {
            let mut conn = self.pool().acquire().await?;
            secrets::read_active_pair(&mut conn, secret_name, key_name).await?
        };
        let Some(sealed_secret) = sealed_secret else {
            return Err(EngineError::ServerMessage(format!("{secret_name} is not configured")));
        };
        let now = now_ms();
        let cached = match (&*self.inner.signing_secrets.slot(env), &sealed_key) {
            (Some(u), Some(key)) if u.sealed_secret == sealed_secret && &u.sealed_key == key => {
                Some((u.secret.clone(), now - u.stamped_at >= STAMP_EVERY_MS))
            }
            _ => None,
        };
        if let Some((secret, stale)) = cached {
            if stale {
                self.stamp_signing_secrets(env, now).await;
            }
            return Ok(secret);
        }
        let sealer = &self.inner.sealer;
        let secret = sealer
            .open(&sealed_secret)
            .map_err(|e| EngineError::Internal(format!("opening the webhook secret: {e}")))?;
        let sealed_key = sealed_key.ok_or_else(|| EngineError::key_not_configured(env))?;
        let key = sealer.open(&sealed_key).map_err(|e| EngineError::Internal(format!("opening {key_name}: {e}")))?;
        validate_key_prefix(env, &key)?;
        *self.inner.signing_secrets.slot(env) =
            Some(Unsealed { sealed_secret, sealed_key, secret: secret.clone(), stamped_at: i64::MIN });
        self.stamp_signing_secrets(env, now).await;
        Ok(secret)
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
