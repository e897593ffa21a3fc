//! The receiver's signing secrets, unsealed once per value instead of once per delivery.
//!
//! Every delivery used to read the webhook secret and the secret key with an `UPDATE … RETURNING`
//! (two commits: on SQLite, two fsyncs) and to unseal both. Now a delivery reads both sealed
//! values with one plain `SELECT` and unseals only when a sealed text differs from the cached
//! one. Since issue #14 the signing secret pasted from the Stripe CLI is read in the same
//! `SELECT` and cached the same way. Sealing draws a fresh nonce, so any write of any secret (a
//! key change, the endpoint's re-creation, sync's account change, another instance sharing the
//! database, a pasted secret set or removed) changes what is read and so invalidates the entry:
//! no write path has to remember to clear the cache.

use std::sync::Mutex;

use zeroize::Zeroizing;

use crate::engine::{validate_key_prefix, Engine};
use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};
use crate::store::secrets;
use crate::time::now_ms;

/// How often a delivery records that the secrets are in use (`last_used_at`), per process.
const STAMP_EVERY_MS: i64 = 60 * 1000;

/// The unsealed signing secrets of each environment, with the sealed texts they were opened from.
#[derive(Default)]
pub(crate) struct SigningSecrets {
    slots: [Mutex<Option<Unsealed>>; 2],
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
}

impl SigningSecrets {
    fn slot(&self, env: Environment) -> std::sync::MutexGuard<'_, Option<Unsealed>> {
        self.slots[usize::from(env == Environment::Live)].lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Engine {
    /// The webhook signing secrets of `env`, with the checks a delivery always made, in their
    /// order: a secret is configured (else 500; the managed one, or since issue #14 a pasted
    /// one), opens, and a key is configured (else 400), opens and has the environment's prefix.
    /// With no pasted secret this is exactly the managed secret's path as before.
    pub(crate) async fn webhook_signing_secrets(&self, env: Environment) -> EngineResult<Verifiers> {
        let names = [env.webhook_secret_name(), env.forwarding_secret_name(), env.secret_key_name()];
        let [sealed_secret, sealed_forwarded, sealed_key] = {
            let mut conn = self.pool().acquire().await?;
            secrets::read_active_many(&mut conn, names).await?
        };
        if sealed_secret.is_none() && sealed_forwarded.is_none() {
            return Err(EngineError::ServerMessage(format!("{} is not configured", names[0])));
        }
        let now = now_ms();
        let cached = match (&*self.inner.signing_secrets.slot(env), &sealed_key) {
            (Some(u), Some(key))
                if u.sealed_secret == sealed_secret
                    && u.sealed_forwarded == sealed_forwarded
                    && &u.sealed_key == key =>
            {
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
        *self.inner.signing_secrets.slot(env) = Some(Unsealed {
            sealed_secret,
            sealed_forwarded,
            sealed_key,
            secrets: secrets.clone(),
            stamped_at: i64::MIN,
        });
        self.stamp_signing_secrets(env, now).await;
        Ok(secrets)
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
