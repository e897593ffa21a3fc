//! Stripe key configuration (§5): status, config, set and remove a key, and the initial sync.
//!
//! Section numbers (§) in this file are those of `contract/BEHAVIOUR.md`.

use stripe_client::StripeClient;
use zeroize::Zeroizing;

use crate::engine::{mask_key, validate_key_prefix, Engine};
use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};
use crate::model::{PaymentsConfig, PaymentsStatus, StripeConnection, StripeKeyConfig};
use crate::store::connections::{self, ConnectionRow, WebhookInfo};
use crate::store::{self, secrets};
use crate::stripe;
use crate::time::iso_opt;

impl Engine {
    /// `GET /api/payments/status`: both environments, test first. A missing connection row is
    /// rendered as `unconfigured`; `maskedKey` is always computed from the stored key.
    pub async fn status(&self) -> EngineResult<PaymentsStatus> {
        let mut connections = Vec::with_capacity(2);
        for env in Environment::ALL {
            connections.push(self.connection(env).await?);
        }
        Ok(PaymentsStatus { connections })
    }

    /// The connection state of one environment.
    pub async fn connection(&self, env: Environment) -> EngineResult<StripeConnection> {
        let row = {
            let mut conn = self.pool().acquire().await?;
            connections::get(&mut conn, env).await?.unwrap_or_else(ConnectionRow::unconfigured)
        };
        let masked_key = self.read_key_unchecked(env).await?.map(|k| mask_key(&k));
        let forwarding = self.forwarding_secret_info(env).await?;
        Ok(StripeConnection {
            environment: env,
            status: row.status.into(),
            stripe_account_id: row.stripe_account_id,
            stripe_account_email: row.stripe_account_email,
            account_livemode: row.account_livemode,
            webhook_endpoint_id: row.webhook_endpoint_id,
            webhook_endpoint_url: row.webhook_endpoint_url,
            webhook_configured_at: iso_opt(row.webhook_configured_at),
            masked_key,
            last_synced_at: iso_opt(row.last_synced_at),
            last_sync_status: row.last_sync_status.map(Into::into),
            last_sync_error: row.last_sync_error,
            last_sync_counts: row.last_sync_counts,
            forwarding_secret_set_at: forwarding.as_ref().map(|f| f.set_at.clone()),
            forwarding_secret_hint: forwarding.map(|f| f.hint),
        })
    }

    /// `GET /api/payments/config`: which environments have a key, masked. Both, test first.
    pub async fn config(&self) -> EngineResult<PaymentsConfig> {
        let mut keys = Vec::with_capacity(2);
        for env in Environment::ALL {
            let key = self.read_key(env).await?;
            keys.push(StripeKeyConfig {
                environment: env,
                has_key: key.is_some(),
                masked_key: key.map(|k| mask_key(&k)),
            });
        }
        Ok(PaymentsConfig { keys })
    }

    /// Startup seeding (§5.5): for each environment whose `STRIPE_<ENV>_SECRET_KEY` (as
    /// `lookup` finds it, normally the process environment) is non-empty and for which no key
    /// was ever stored, runs the whole [`Engine::set_secret_key`] flow (account check, webhook,
    /// first sync). A key an admin removed stays removed. Failures are logged, never returned,
    /// so a bad variable cannot stop the console from starting. Returns the environments seeded.
    pub async fn seed_secret_keys(&self, lookup: impl Fn(&str) -> Option<String>) -> Vec<Environment> {
        let mut seeded = Vec::new();
        for env in Environment::ALL {
            let Some(key) = lookup(env.secret_key_name()).map(Zeroizing::new).filter(|k| !k.trim().is_empty()) else {
                continue;
            };
            let stored = async {
                let mut conn = self.pool().acquire().await?;
                secrets::exists(&mut conn, env.secret_key_name()).await
            };
            match stored.await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(environment = %env, error = %e, "could not check for a stored Stripe key");
                    continue;
                }
            }
            let op = self.set_secret_key(env, &key);
            match self.audited("system:env", "payments.config.seed", Some(env), None, op).await {
                Ok(_) => {
                    tracing::info!(environment = %env, "Stripe key seeded from {}", env.secret_key_name());
                    seeded.push(env);
                }
                Err(e) => tracing::error!(
                    environment = %env,
                    error = %e.public_message(),
                    "could not seed the Stripe key from {}",
                    env.secret_key_name()
                ),
            }
        }
        seeded
    }

    /// `PUT /api/payments/{env}/config` (§5.2): validates the key's prefix, checks it with
    /// `GET /v1/account`, stores it sealed, and — unless this is a rotation within the same
    /// account — wipes the mirror if the account changed, recreates the managed webhook
    /// (best-effort) and runs the initial sync (whose failure is recorded, not returned).
    pub async fn set_secret_key(&self, env: Environment, secret_key: &str) -> EngineResult<PaymentsConfig> {
        let key = Zeroizing::new(secret_key.trim().to_owned());
        validate_key_prefix(env, &key)?;
        let guard = self.lock(env).await?;
        let result = self.set_secret_key_locked(env, &key).await;
        guard.release().await;
        result?;
        self.config().await
    }

    async fn set_secret_key_locked(&self, env: Environment, key: &str) -> EngineResult<()> {
        let existing = self.read_key(env).await?;
        let current_account = {
            let mut conn = self.pool().acquire().await?;
            connections::get(&mut conn, env).await?.and_then(|r| r.stripe_account_id)
        };
        if existing.as_deref().map(String::as_str) == Some(key) && current_account.is_some() {
            return Ok(()); // Same key, already connected: nothing to do, no Stripe call.
        }
        let client = self.stripe_client(env, key)?;
        let account = stripe::retrieve_account(&client).await?;
        let sealed = self.inner.sealer.seal(key);

        if existing.is_some() && current_account.as_deref() == Some(account.id.as_str()) {
            // Rotation within the same account: swap the secret, keep webhook and mirror.
            let mut tx = self.begin_write().await?;
            secrets::upsert(&mut tx, env.secret_key_name(), env, &sealed).await?;
            connections::update_account(&mut tx, env, &account).await?;
            tx.commit().await?;
            self.forget_signing_secrets(env);
            tracing::info!(environment = %env, account = %account.id, "Stripe key rotated");
            return Ok(());
        }

        let account_changed = current_account.as_deref() != Some(account.id.as_str());
        let webhook = self.try_recreate_managed_webhook(&client, env).await;
        let mut tx = self.begin_write().await?;
        if account_changed {
            store::clear_payment_data(&mut tx, env).await?;
        }
        secrets::upsert(&mut tx, env.secret_key_name(), env, &sealed).await?;
        match &webhook {
            Some((_, secret)) => {
                let sealed_secret = self.inner.sealer.seal(secret);
                secrets::upsert(&mut tx, env.webhook_secret_name(), env, &sealed_secret).await?;
            }
            None => {
                secrets::deactivate(&mut tx, env.webhook_secret_name()).await?;
            }
        }
        connections::connect(&mut tx, env, &account, webhook.as_ref().map(|(w, _)| w), account_changed).await?;
        tx.commit().await?;
        self.forget_signing_secrets(env);
        tracing::info!(environment = %env, account = %account.id, account_changed, "Stripe key configured");

        // The sync records its own failure on the connection row; the request still succeeds.
        let _ = self.sync(env, &client, false).await;
        Ok(())
    }

    /// Best-effort (§5.2 `tryRecreateManagedStripeWebhook`): any failure is logged and `None`.
    pub(crate) async fn try_recreate_managed_webhook(
        &self,
        client: &StripeClient,
        env: Environment,
    ) -> Option<(WebhookInfo, Zeroizing<String>)> {
        let Some(base) = &self.inner.public_url else {
            tracing::info!(environment = %env, "no public URL configured: managed Stripe webhook not created");
            return None;
        };
        let url = format!("{}/api/webhooks/stripe/{env}", base.as_str().trim_end_matches('/'));
        match stripe::recreate_managed_webhook(client, env, &url).await {
            Ok(created) => Some(created),
            Err(e) => {
                tracing::warn!(environment = %env, error = %e, "could not create the managed Stripe webhook endpoint");
                None
            }
        }
    }

    /// `DELETE /api/payments/{env}/config` (§5.4): best-effort removal of the managed webhook
    /// endpoints, then the key is deactivated. Mirror data and the account id are kept.
    /// 404 `PAYMENT_CONFIG_NOT_FOUND` when no key is active.
    pub async fn remove_secret_key(&self, env: Environment) -> EngineResult<PaymentsConfig> {
        let guard = self.lock(env).await?;
        let result = self.remove_secret_key_locked(env).await;
        guard.release().await;
        result?;
        self.config().await
    }

    async fn remove_secret_key_locked(&self, env: Environment) -> EngineResult<()> {
        match self.read_key_unchecked(env).await {
            Ok(Some(key)) => {
                let cleanup = match self.stripe_client(env, &key) {
                    Ok(client) => stripe::delete_managed_webhooks(&client, env).await.map_err(EngineError::from),
                    Err(e) => Err(e),
                };
                if let Err(e) = cleanup {
                    tracing::warn!(environment = %env, error = %e, "could not remove the managed Stripe webhook endpoints");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(environment = %env, error = %e, "could not read the stored Stripe key"),
        }
        let mut tx = self.begin_write().await?;
        if !secrets::deactivate(&mut tx, env.secret_key_name()).await? {
            tx.rollback().await?;
            return Err(EngineError::ConfigNotFound);
        }
        secrets::deactivate(&mut tx, env.webhook_secret_name()).await?;
        // The secret pasted from the Stripe CLI goes with the key: the CLI is logged in to the
        // key's account, and a key set later may be another account's.
        secrets::deactivate(&mut tx, env.forwarding_secret_name()).await?;
        connections::disconnect(&mut tx, env).await?;
        tx.commit().await?;
        self.forget_signing_secrets(env);
        tracing::info!(environment = %env, "Stripe key removed");
        Ok(())
    }
}
