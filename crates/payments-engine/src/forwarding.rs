//! Webhooks forwarded by the Stripe CLI (issue #14, additive): where Stripe cannot reach the
//! console's public URL, an admin runs `stripe listen --forward-to …/api/webhooks/stripe/<env>`
//! and pastes the `whsec_…` secret it prints. The receiver accepts events signed by that secret
//! as well as by the managed endpoint's (`webhook/signing.rs`); the status shows it masked only.
//!
//! The secret lives in `payments_secrets` under [`Environment::forwarding_secret_name`], sealed
//! like every other secret. It is tied to the Stripe account the CLI is logged in to, so it goes
//! when the key is removed or the key's account changes (`store::clear_payment_data`).

use zeroize::Zeroizing;

use crate::engine::Engine;
use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};
use crate::model::ConfiguredWebhook;
use crate::store::secrets;
use crate::time::iso_ms;

/// The masked form of the environment's pasted secret and when it was set.
pub(crate) struct ForwardingSecretInfo {
    /// `whsec_…abcd`.
    pub hint: String,
    /// ISO 8601.
    pub set_at: String,
}

impl Engine {
    /// Stores the signing secret pasted from the Stripe CLI for `env` (replacing one set before).
    /// The environment needs a key (400 `PAYMENT_CONFIG_INVALID` otherwise): the receiver
    /// refuses every event without one, so a secret alone would only mislead. Answers the
    /// connection, which shows the secret masked.
    pub async fn set_forwarding_secret(
        &self,
        env: Environment,
        signing_secret: &str,
    ) -> EngineResult<ConfiguredWebhook> {
        let secret = payments_model::check_signing_secret(signing_secret)
            .map_err(|e| EngineError::InvalidInput(format!("signingSecret: {}", e.message())))?;
        let secret = Zeroizing::new(secret.to_owned());
        // Under the environment lock, so that a key removal running at the same time cannot
        // leave a pasted secret behind it.
        let guard = self.lock(env).await?;
        let result = async {
            self.read_key(env).await?.ok_or_else(|| EngineError::key_not_configured(env))?;
            let sealed = self.inner.sealer.seal(&secret);
            let mut conn = self.pool().acquire().await?;
            secrets::upsert(&mut conn, env.forwarding_secret_name(), env, &sealed).await
        }
        .await;
        self.forget_signing_secrets(env);
        guard.release().await;
        result?;
        tracing::info!(environment = %env, "forwarded webhook signing secret set");
        Ok(ConfiguredWebhook { connection: self.connection(env).await? })
    }

    /// Removes the pasted signing secret of `env`: events signed by it are refused from the next
    /// delivery on. 404 `PAYMENT_NOT_FOUND` when none is set.
    pub async fn remove_forwarding_secret(&self, env: Environment) -> EngineResult<ConfiguredWebhook> {
        let removed = {
            let mut conn = self.pool().acquire().await?;
            secrets::deactivate(&mut conn, env.forwarding_secret_name()).await?
        };
        self.forget_signing_secrets(env);
        if !removed {
            return Err(EngineError::PaymentNotFound(format!(
                "No forwarded webhook signing secret is set for the {env} environment"
            )));
        }
        tracing::info!(environment = %env, "forwarded webhook signing secret removed");
        Ok(ConfiguredWebhook { connection: self.connection(env).await? })
    }

    /// The masked pasted secret of `env`, when one is set.
    pub(crate) async fn forwarding_secret_info(&self, env: Environment) -> EngineResult<Option<ForwardingSecretInfo>> {
        let stored = {
            let mut conn = self.pool().acquire().await?;
            secrets::read_active_with_set_at(&mut conn, env.forwarding_secret_name()).await?
        };
        let Some((sealed, set_at)) = stored else { return Ok(None) };
        let secret = self
            .inner
            .sealer
            .open(&sealed)
            .map_err(|e| EngineError::Internal(format!("opening {}: {e}", env.forwarding_secret_name())))?;
        Ok(Some(ForwardingSecretInfo { hint: payments_model::signing_secret_hint(&secret), set_at: iso_ms(set_at) }))
    }
}
