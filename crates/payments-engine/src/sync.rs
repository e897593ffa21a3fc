//! Full sync (§6): account check, products and prices (active and inactive), customers (soft
//! delete), subscriptions with items, hard deletes of what vanished — fetched in parallel,
//! written in one transaction, observable while it runs through [`SyncProgress`].

use std::collections::BTreeMap;

use serde_json::Value;
use stripe_client::{Form, PageProgress, StripeClient};

use crate::engine::Engine;
use crate::environment::Environment;
use crate::error::EngineResult;
use crate::model::{StripeConnection, SubscriptionSyncSummary, SyncEnvironmentResult, SyncResponse};
use crate::objects;
use crate::store::connections::{self, WebhookInfo};
use crate::store::{self, catalog, mirror, secrets};
use crate::stripe;
use crate::time::{iso_opt, now_ms};
use payments_model::{ObjectProgress, SyncProgress, SyncState};

const TYPES: [&str; 4] = ["products", "prices", "customers", "subscriptions"];

struct Fetched {
    account: connections::AccountIdentity,
    products: Vec<Value>,
    prices: Vec<Value>,
    subscriptions: Vec<(Value, Vec<Value>)>,
}

impl Engine {
    /// The progress of the running or last sync of `env` in this process.
    pub fn sync_progress(&self, env: Environment) -> SyncProgress {
        self.inner.progress[usize::from(env == Environment::Live)]
            .lock()
            .map(|p| p.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    fn update_progress(&self, env: Environment, f: impl FnOnce(&mut SyncProgress)) {
        let mut p =
            self.inner.progress[usize::from(env == Environment::Live)].lock().unwrap_or_else(|e| e.into_inner());
        f(&mut p);
    }

    fn progress_stats(&self, env: Environment, client: &StripeClient) {
        let stats = client.stats();
        self.update_progress(env, |p| {
            p.stripe_requests = stats.requests;
            p.rate_limit_backoffs = stats.rate_limit_backoffs;
            p.retries = stats.retries;
        });
    }

    fn on_page(&self, env: Environment, ty: &'static str, client: &StripeClient) -> impl FnMut(&PageProgress) {
        let engine = self.clone();
        let client = client.clone();
        move |page: &PageProgress| {
            engine
                .update_progress(env, |p| p.objects.entry(ty.to_owned()).or_default().fetched += page.page_len as u64);
            engine.progress_stats(env, &client);
        }
    }

    fn written(&self, env: Environment, ty: &str, n: u64) {
        self.update_progress(env, |p| p.objects.entry(ty.to_owned()).or_default().written += n);
    }

    /// `POST /api/payments/sync`: both environments in parallel, each under its lock. Per-env
    /// failures are recorded on the connection and in the result, never returned as errors.
    pub async fn sync_all(&self) -> EngineResult<SyncResponse> {
        let (test, live) =
            tokio::join!(self.sync_environment(Environment::Test), self.sync_environment(Environment::Live));
        Ok(SyncResponse { results: vec![test?, live?] })
    }

    /// `POST /api/payments/{env}/sync`: one environment, under its lock (one sync per
    /// environment at a time, across processes on PostgreSQL).
    pub async fn sync_environment(&self, env: Environment) -> EngineResult<SyncEnvironmentResult> {
        let guard = self.lock(env).await?;
        let result = self.sync_environment_locked(env).await;
        guard.release().await;
        let subscriptions = result?;
        let connection: StripeConnection = self.connection(env).await?;
        Ok(SyncEnvironmentResult { environment: env, connection, subscriptions })
    }

    async fn sync_environment_locked(&self, env: Environment) -> EngineResult<Option<SubscriptionSyncSummary>> {
        let key = match self.read_key(env).await {
            Ok(Some(key)) => key,
            Ok(None) => {
                let message = format!("{} is not configured", env.secret_key_name());
                self.sync_refused(env, &message);
                let mut conn = self.pool().acquire().await?;
                connections::record_status(&mut conn, env, "unconfigured", &message).await?;
                return Ok(None);
            }
            Err(e) if !e.is_internal() => {
                self.sync_refused(env, &e.public_message());
                let mut conn = self.pool().acquire().await?;
                connections::record_status(&mut conn, env, "error", &e.public_message()).await?;
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let client = self.stripe_client(env, &key)?;
        Ok(self.sync(env, &client, true).await.ok())
    }

    fn sync_refused(&self, env: Environment, message: &str) {
        let now = iso_opt(Some(now_ms()));
        self.update_progress(env, |p| {
            *p = SyncProgress::idle(env);
            p.state = SyncState::Finished;
            p.started_at = now.clone();
            p.finished_at = now;
            p.succeeded = Some(false);
            p.error = Some(message.to_owned());
        });
    }

    /// The sync itself, run under the environment lock. `check_account`: compare the account
    /// with the stored one (skipped right after a key change, which already did). A failure is
    /// recorded on the connection (`status='error'`, `lastSyncStatus='failed'`) and returned.
    pub(crate) async fn sync(
        &self,
        env: Environment,
        client: &StripeClient,
        check_account: bool,
    ) -> EngineResult<SubscriptionSyncSummary> {
        let started = now_ms();
        self.update_progress(env, |p| {
            *p = SyncProgress::idle(env);
            p.state = SyncState::Running;
            p.started_at = iso_opt(Some(started));
            for t in TYPES {
                p.objects.insert(t.to_owned(), ObjectProgress::default());
            }
        });
        let result = self.sync_inner(env, client, check_account, started).await;
        self.progress_stats(env, client);
        let finished = iso_opt(Some(now_ms()));
        self.update_progress(env, |p| {
            p.state = SyncState::Finished;
            p.finished_at = finished;
            p.succeeded = Some(result.is_ok());
            p.error = result.as_ref().err().map(|e| e.public_message());
        });
        if let Err(e) = &result {
            tracing::warn!(environment = %env, error = %e, "Stripe sync failed");
            let mut conn = self.pool().acquire().await?;
            connections::record_status(&mut conn, env, "error", &e.public_message()).await?;
        }
        result
    }

    async fn fetch(&self, env: Environment, client: &StripeClient) -> EngineResult<Fetched> {
        let subscriptions = async {
            let subs: Vec<Value> = client
                .list_all(
                    "/v1/subscriptions",
                    Form::new().set("status", "all"),
                    self.on_page(env, "subscriptions", client),
                )
                .await?;
            let mut out = Vec::with_capacity(subs.len());
            for s in subs {
                let (mut items, more) = objects::embedded_items(&s);
                if more {
                    let id = stripe::str_field(&s, "id").unwrap_or_default();
                    items =
                        client.list_all("/v1/subscription_items", Form::new().set("subscription", id), |_| {}).await?;
                }
                out.push((s, items));
            }
            Ok::<_, stripe_client::StripeError>(out)
        };
        let prices = async {
            let (active, inactive) = tokio::try_join!(
                client.list_all::<Value>(
                    "/v1/prices",
                    Form::new().set("active", "true"),
                    self.on_page(env, "prices", client)
                ),
                client.list_all::<Value>(
                    "/v1/prices",
                    Form::new().set("active", "false"),
                    self.on_page(env, "prices", client)
                ),
            )?;
            let mut seen = std::collections::HashSet::new();
            Ok(active
                .into_iter()
                .chain(inactive)
                .filter(|p| seen.insert(stripe::str_field(p, "id").unwrap_or_default()))
                .collect::<Vec<_>>())
        };
        let (account, products, prices, subscriptions) = tokio::try_join!(
            stripe::retrieve_account(client),
            client.list_all::<Value>("/v1/products", Form::new(), self.on_page(env, "products", client)),
            prices,
            subscriptions,
        )?;
        Ok(Fetched { account, products, prices, subscriptions })
    }

    async fn fetch_customers(&self, env: Environment, client: &StripeClient) -> Option<Vec<Value>> {
        let form =
            Form::new().set("expand", vec!["data.invoice_settings.default_payment_method", "data.default_source"]);
        match client.list_all::<Value>("/v1/customers", form, self.on_page(env, "customers", client)).await {
            Ok(c) => Some(c),
            Err(e) => {
                // As in the reference, a customers failure does not fail the sync.
                tracing::warn!(environment = %env, error = %e, "could not sync Stripe customers");
                None
            }
        }
    }

    async fn sync_inner(
        &self,
        env: Environment,
        client: &StripeClient,
        check_account: bool,
        synced_at: i64,
    ) -> EngineResult<SubscriptionSyncSummary> {
        let version = synced_at / 1000;
        let (fetched, customers) = tokio::join!(self.fetch(env, client), self.fetch_customers(env, client));
        let fetched = fetched?;
        let products = fetched.products.iter().map(stripe::product_record).collect::<EngineResult<Vec<_>>>()?;
        let prices = fetched.prices.iter().map(stripe::price_record).collect::<EngineResult<Vec<_>>>()?;
        let customers: Option<Vec<_>> = customers.map(|c| c.iter().filter_map(objects::customer_record).collect());

        // §6 step 3: a key now pointing at another account.
        let mut webhook: Option<(WebhookInfo, zeroize::Zeroizing<String>)> = None;
        let account_changed = if check_account {
            let mut conn = self.pool().acquire().await?;
            let stored = connections::get(&mut conn, env).await?.and_then(|r| r.stripe_account_id);
            stored.as_deref() != Some(fetched.account.id.as_str())
        } else {
            false
        };
        if account_changed {
            webhook = self.try_recreate_managed_webhook(client, env).await;
        }

        let mut counts = BTreeMap::from([
            ("products".to_owned(), products.len() as i64),
            ("prices".to_owned(), prices.len() as i64),
        ]);
        if let Some(c) = &customers {
            counts.insert("customers".to_owned(), c.len() as i64);
        }

        let mut tx = self.begin_write().await?;
        if account_changed {
            store::clear_payment_data(&mut tx, env).await?;
            match &webhook {
                Some((_, secret)) => {
                    let sealed = self.inner.sealer.seal(secret);
                    secrets::upsert(&mut tx, env.webhook_secret_name(), env, &sealed).await?;
                }
                None => {
                    secrets::deactivate(&mut tx, env.webhook_secret_name()).await?;
                }
            }
            connections::connect(&mut tx, env, &fetched.account, webhook.as_ref().map(|(w, _)| w), true).await?;
        }
        connections::record_sync_success(&mut tx, env, &fetched.account, &counts, synced_at).await?;
        for p in &products {
            catalog::upsert_product(&mut tx, env, p, synced_at).await?;
        }
        self.written(env, "products", products.len() as u64);
        for p in &prices {
            catalog::upsert_price(&mut tx, env, p, synced_at).await?;
        }
        self.written(env, "prices", prices.len() as u64);
        catalog::delete_stale(&mut tx, env, synced_at).await?;

        if let Some(customers) = &customers {
            for c in customers {
                let written = if c.deleted {
                    mirror::mark_customer_deleted(&mut tx, env, c, version).await?
                } else {
                    mirror::upsert_customer(&mut tx, env, c, version, synced_at).await?
                };
                if written {
                    self.written(env, "customers", 1);
                }
            }
            mirror::soft_delete_unseen_customers(&mut tx, env, synced_at, version).await?;
        }

        let mut summary = SubscriptionSyncSummary { environment: env, synced: 0, unmapped: 0, deleted: 0 };
        for (s, items) in &fetched.subscriptions {
            let mut subject = objects::subject_in_metadata(s.get("metadata"));
            if subject.is_none() {
                if let Some(customer) = stripe::id_field(s, "customer") {
                    subject = mirror::subject_of_customer(&mut tx, env, &customer).await?;
                }
            }
            let Some(record) = objects::subscription_record(s, items, subject)? else { continue };
            summary.synced += 1;
            if record.subject.is_none() {
                summary.unmapped += 1;
            }
            if mirror::upsert_subscription(&mut tx, env, &record, version, synced_at).await? {
                self.written(env, "subscriptions", 1);
            }
        }
        summary.deleted = mirror::delete_unseen_subscriptions(&mut tx, env, synced_at, version).await? as i64;
        tx.commit().await?;
        tracing::info!(
            environment = %env,
            products = products.len(),
            prices = prices.len(),
            customers = customers.as_ref().map_or(0, Vec::len),
            subscriptions = summary.synced,
            "Stripe sync finished"
        );
        Ok(summary)
    }
}
