//! Full sync (`contract/BEHAVIOUR.md` §6): the account check (and, when the key now points at
//! another account, the clearing of its data in a commit of its own), then products, prices (active
//! and inactive), customers (soft delete) and subscriptions with items, streamed: the lists are
//! paged concurrently, each page is written and committed while the next one is fetched, and what
//! vanished from Stripe is deleted only once every list was read to the end. Memory is bounded by
//! the pages in flight (a few per list), not by the account's size, and other writers wait at most
//! one page's commit. Observable while it runs through [`SyncProgress`].
//!
//! A streamed type is a [`PageSink`] (how one page is completed and written) plus a line in
//! [`Engine::stream_all`]. The payment history is backfilled the same way, from Stripe's own
//! objects (`sync/history.rs`), and an account's first sync imports the events Stripe still
//! holds into the event log, through the webhook pipeline ([`Engine::import_events`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;
use sqlx::AnyConnection;
use stripe_client::{Form, Method, RequestOptions, StripeClient, StripeError};

use crate::engine::Engine;
use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};
use crate::metrics::SyncOutcome;
use crate::model::{
    HistorySyncSummary, StripeConnection, SubscriptionSyncSummary, SyncEnvironmentResult, SyncResponse,
};
use crate::objects;
use crate::store::connections::{self, AccountIdentity, WebhookInfo};
use crate::store::{self, catalog, history as history_store, mirror, secrets, DbKind};
use crate::stripe;
use crate::time::{iso_opt, now_ms};
use crate::webhook::batch::Delivery;
use payments_model::{ConnectionStatus, ObjectProgress, SyncProgress, SyncState, SYNC_OBJECT_TYPES};

mod history;

pub use history::history_lists;
use history::{CheckoutSessionSink, InvoiceSink, PaymentIntentSink, RefundSink};

/// Pages fetched ahead of the one being written, per list: enough to overlap a commit with the
/// next request, few enough that memory stays a handful of pages.
const PAGES_AHEAD: usize = 1;

/// A boxed future of the sinks (boxed so the sync future stays `Send` without naming types).
pub(crate) type SinkFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where the pages of one streamed list go.
///
/// [`PageSink::complete`] runs on the fetching side, outside any transaction (follow-up Stripe
/// requests belong there, never inside a write); [`PageSink::write_page`] runs inside a write
/// transaction that the stream commits right after, one per page.
pub(crate) trait PageSink: Send {
    /// A page entry once completed (a Stripe object, or one with its follow-up lists).
    type Item: From<Value> + Send + Sync + 'static;

    /// Turns a fetched page into entries, with whatever extra requests that takes (none by
    /// default).
    fn complete(client: &StripeClient, page: Vec<Value>) -> SinkFuture<'_, Result<Vec<Self::Item>, StripeError>> {
        let _ = client;
        Box::pin(std::future::ready(Ok(page.into_iter().map(Self::Item::from).collect())))
    }

    /// Writes one page; returns how many rows were written (progress' `written`).
    fn write_page<'a>(
        &'a mut self,
        conn: &'a mut AnyConnection,
        page: &'a [Self::Item],
    ) -> SinkFuture<'a, EngineResult<u64>>;
}

/// What the sinks share: where and as of when they write.
#[derive(Clone, Copy)]
struct Snapshot {
    env: Environment,
    /// The sync's start (Unix ms): `synced_at` of every row it writes.
    synced_at: i64,
    /// The ordering guard's version (whole seconds, like an event's `created`).
    version: i64,
    /// The history window's start (Unix seconds); `None`: all of it.
    since: Option<i64>,
}

/// The catalog: products, or prices. Active and inactive prices are two lists into the same
/// table; a price that flipped between them is written twice (the later write wins) and
/// counted once (from the table, once stale rows are gone).
struct CatalogSink {
    at: Snapshot,
    prices: bool,
    count: i64,
}

impl PageSink for CatalogSink {
    type Item = Value;

    fn write_page<'a>(
        &'a mut self,
        conn: &'a mut AnyConnection,
        page: &'a [Value],
    ) -> SinkFuture<'a, EngineResult<u64>> {
        Box::pin(async move {
            let Snapshot { env, synced_at, .. } = self.at;
            for v in page {
                if self.prices {
                    catalog::upsert_price(conn, env, &stripe::price_record(v)?, synced_at).await?;
                } else {
                    catalog::upsert_product(conn, env, &stripe::product_record(v)?, synced_at).await?;
                }
            }
            self.count += page.len() as i64;
            Ok(page.len() as u64)
        })
    }
}

struct CustomerSink {
    at: Snapshot,
    count: i64,
}

impl PageSink for CustomerSink {
    type Item = Value;

    fn write_page<'a>(
        &'a mut self,
        conn: &'a mut AnyConnection,
        page: &'a [Value],
    ) -> SinkFuture<'a, EngineResult<u64>> {
        Box::pin(async move {
            let at = self.at;
            let mut written = 0;
            for c in page.iter().filter_map(objects::customer_record) {
                self.count += 1;
                let done = if c.deleted {
                    mirror::mark_customer_deleted(conn, at.env, &c, at.version).await?
                } else {
                    mirror::upsert_customer(conn, at.env, &c, at.version, at.synced_at).await?
                };
                written += u64::from(done);
            }
            Ok(written)
        })
    }
}

/// A subscription with all its items (the embedded list, or the full one when it had more).
struct SubscriptionWithItems {
    subscription: Value,
    items: Vec<Value>,
}

impl From<Value> for SubscriptionWithItems {
    /// With the embedded items only.
    fn from(subscription: Value) -> Self {
        let (items, _) = objects::embedded_items(&subscription);
        Self { subscription, items }
    }
}

struct SubscriptionSink {
    at: Snapshot,
    summary: SubscriptionSyncSummary,
}

impl PageSink for SubscriptionSink {
    type Item = SubscriptionWithItems;

    fn complete(
        client: &StripeClient,
        page: Vec<Value>,
    ) -> SinkFuture<'_, Result<Vec<SubscriptionWithItems>, StripeError>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(page.len());
            for subscription in page {
                let more = subscription.pointer("/items/has_more").and_then(Value::as_bool).unwrap_or(false);
                let mut entry = SubscriptionWithItems::from(subscription);
                if more {
                    let id = stripe::str_field(&entry.subscription, "id").unwrap_or_default();
                    entry.items =
                        client.list_all("/v1/subscription_items", Form::new().set("subscription", id), |_| {}).await?;
                }
                out.push(entry);
            }
            Ok(out)
        })
    }

    fn write_page<'a>(
        &'a mut self,
        conn: &'a mut AnyConnection,
        page: &'a [SubscriptionWithItems],
    ) -> SinkFuture<'a, EngineResult<u64>> {
        Box::pin(async move {
            let at = self.at;
            let mut written = 0;
            for SubscriptionWithItems { subscription: s, items } in page {
                // Mappings are never written by the sync (only cleared by an account change,
                // committed before streaming starts), so resolving page by page gives the same
                // subjects as resolving after every customer was written.
                let mut subject = objects::subject_in_metadata(s.get("metadata"));
                if subject.is_none() {
                    if let Some(customer) = stripe::id_field(s, "customer") {
                        subject = mirror::subject_of_customer(conn, at.env, &customer).await?;
                    }
                }
                let Some(record) = objects::subscription_record(s, items, subject)? else { continue };
                self.summary.synced += 1;
                if record.subject.is_none() {
                    self.summary.unmapped += 1;
                }
                written +=
                    u64::from(mirror::upsert_subscription(conn, at.env, &record, at.version, at.synced_at).await?);
            }
            Ok(written)
        })
    }
}

/// One list a sync pages: its progress type, path and filters.
pub type SyncList = (&'static str, &'static str, Form);

/// The lists a sync pages, concurrently, in this order: products, active prices, inactive
/// prices, customers (payment methods expanded), subscriptions (every status). Benchmarks page
/// the same lists with a bare client as the sync's baseline. Subscriptions with more than the
/// embedded items also cost a `/v1/subscription_items` walk each.
pub fn sync_lists() -> [SyncList; 5] {
    [
        ("products", "/v1/products", Form::new()),
        ("prices", "/v1/prices", Form::new().set("active", "true")),
        ("prices", "/v1/prices", Form::new().set("active", "false")),
        (
            "customers",
            "/v1/customers",
            Form::new().set("expand", vec!["data.invoice_settings.default_payment_method", "data.default_source"]),
        ),
        ("subscriptions", "/v1/subscriptions", Form::new().set("status", "all")),
    ]
}

/// How many times a page read is attempted in all, each attempt being the client's own request
/// with its retries (`stripe_client::RetryPolicy`).
const PAGE_ATTEMPTS: u32 = 3;

/// The next page of a list, read again after a pause when the client's retries were not enough
/// for a passing fault (a 429, a 5xx, a dropped connection): reads are safe to repeat and the
/// paginator's cursor only moves on success, so a long sync is not lost to one unlucky page.
/// Anything else (a revoked key, a bad request) stops at once.
async fn next_page_patiently(pages: &mut stripe_client::Paginator<Value>) -> Result<Option<Vec<Value>>, StripeError> {
    let mut attempt = 1;
    loop {
        match pages.next_page().await {
            Err(e) if attempt < PAGE_ATTEMPTS && is_passing_fault(&e) => {
                tracing::warn!(error = %e, attempt, "a Stripe page read failed; reading it again");
                tokio::time::sleep(std::time::Duration::from_millis(500 * u64::from(attempt))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Whether a Stripe failure may go away by itself.
fn is_passing_fault(e: &StripeError) -> bool {
    matches!(e.status(), Some(429 | 500..=599)) || matches!(e, StripeError::Transport(_))
}

/// Why a streamed list stopped: Stripe (fetching) or the database (writing).
enum StreamFailure {
    Fetch(StripeError),
    Write(EngineError),
}

impl From<StreamFailure> for EngineError {
    fn from(f: StreamFailure) -> Self {
        match f {
            StreamFailure::Fetch(e) => e.into(),
            StreamFailure::Write(e) => e,
        }
    }
}

/// The tables a sync's lists write, for [`Turns`].
#[derive(Clone, Copy)]
enum Table {
    Products,
    Prices,
    Customers,
    Subscriptions,
    History,
}

/// Whose turn it is to write a page. SQLite has one writer: the sync's lists write one at a
/// time, so that a webhook or sign-in waits for one sync transaction, never five. PostgreSQL
/// writes concurrently, and one list at a time there made the sync wait on its writes (1.38×
/// paging at 25k objects a type): lists of different tables write together, while lists of
/// one table (active and inactive prices; the four history lists, which may meet on a row)
/// still take turns, so that no two page transactions lock the same rows in opposite orders.
#[derive(Default)]
struct Turns {
    products: tokio::sync::Mutex<()>,
    prices: tokio::sync::Mutex<()>,
    customers: tokio::sync::Mutex<()>,
    subscriptions: tokio::sync::Mutex<()>,
    history: tokio::sync::Mutex<()>,
}

impl Turns {
    fn of(&self, table: Table, sqlite: bool) -> &tokio::sync::Mutex<()> {
        match (sqlite, table) {
            (true, _) | (false, Table::Products) => &self.products,
            (false, Table::Prices) => &self.prices,
            (false, Table::Customers) => &self.customers,
            (false, Table::Subscriptions) => &self.subscriptions,
            (false, Table::History) => &self.history,
        }
    }
}

/// What a sync reports: the contract's subscriptions summary, and the history it backfilled.
type SyncSummaries = (SubscriptionSyncSummary, HistorySyncSummary);

/// The sinks of one sync, read once every list is done.
struct Streamed {
    products: CatalogSink,
    customers: Option<CustomerSink>,
    subscriptions: SubscriptionSink,
    /// Customer mappings recovered from completed Checkout Sessions.
    mappings: i64,
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

    fn fetched(&self, env: Environment, ty: &str, n: usize, client: &StripeClient) {
        self.update_progress(env, |p| p.objects.entry(ty.to_owned()).or_default().fetched += n as u64);
        self.progress_stats(env, client);
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
        let (subscriptions, history) = result?.unzip();
        let connection: StripeConnection = self.connection(env).await?;
        Ok(SyncEnvironmentResult { environment: env, connection, subscriptions, history })
    }

    async fn sync_environment_locked(&self, env: Environment) -> EngineResult<Option<SyncSummaries>> {
        let key = match self.read_key(env).await {
            Ok(Some(key)) => key,
            Ok(None) => {
                let message = format!("{} is not configured", env.secret_key_name());
                crate::metrics::sync_run(env, SyncOutcome::Unconfigured, None);
                self.sync_refused(env, &message);
                let mut conn = self.pool().acquire().await?;
                connections::record_status(&mut conn, env, ConnectionStatus::Unconfigured, &message).await?;
                return Ok(None);
            }
            Err(e) if !e.is_internal() => {
                crate::metrics::sync_run(env, SyncOutcome::Refused, None);
                self.sync_refused(env, &e.public_message());
                let mut conn = self.pool().acquire().await?;
                connections::record_status(&mut conn, env, ConnectionStatus::Error, &e.public_message()).await?;
                return Ok(None);
            }
            Err(e) => {
                crate::metrics::sync_run(env, SyncOutcome::Failed, None);
                return Err(e);
            }
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
    /// recorded on the connection (`status='error'`, `lastSyncStatus='failed'`) and returned;
    /// the pages committed before it stay, and nothing is deleted.
    pub(crate) async fn sync(
        &self,
        env: Environment,
        client: &StripeClient,
        check_account: bool,
    ) -> EngineResult<SyncSummaries> {
        let started = now_ms();
        self.update_progress(env, |p| {
            *p = SyncProgress::idle(env);
            p.state = SyncState::Running;
            p.started_at = iso_opt(Some(started));
            for t in SYNC_OBJECT_TYPES {
                p.objects.insert(t.to_owned(), ObjectProgress::default());
            }
        });
        let clock = std::time::Instant::now();
        let result = self.sync_inner(env, client, check_account, started).await;
        // Its pages and rows are freed now; without this the allocator keeps them resident.
        crate::memory::release_freed().await;
        let outcome = if result.is_ok() { SyncOutcome::Succeeded } else { SyncOutcome::Failed };
        crate::metrics::sync_run(env, outcome, Some(clock.elapsed()));
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
            connections::record_status(&mut conn, env, ConnectionStatus::Error, &e.public_message()).await?;
        }
        result
    }

    /// Pages one list into `sink`: page N+1 is fetched while page N is written, and each page
    /// is committed on its own. When fetching fails, the pages already fetched are still
    /// written; when writing fails, fetching stops. `turn`: whose turn it is to write (see
    /// [`Turns`]).
    async fn stream<S: PageSink>(
        &self,
        (env, client, turn): (Environment, &StripeClient, &tokio::sync::Mutex<()>),
        (ty, path, form): SyncList,
        sink: &mut S,
    ) -> Result<(), StreamFailure> {
        let (pages_in, pages_out) = tokio::sync::mpsc::channel::<Vec<S::Item>>(PAGES_AHEAD);
        let fetch = async move {
            let mut pages = client.paginate::<Value>(path, form);
            while let Some(page) = next_page_patiently(&mut pages).await? {
                self.fetched(env, ty, page.len(), client);
                let page = S::complete(client, page).await?;
                if pages_in.send(page).await.is_err() {
                    break; // the writer stopped; its error is the one returned
                }
            }
            Ok::<_, StripeError>(())
        };
        let write = async move {
            let mut pages_out = pages_out;
            while let Some(page) = pages_out.recv().await {
                let written = {
                    let _turn = turn.lock().await;
                    let mut tx = self.begin_write().await?;
                    let written = sink.write_page(&mut tx, &page).await?;
                    tx.commit().await?;
                    written
                };
                self.written(env, ty, written);
            }
            Ok::<_, EngineError>(())
        };
        let (fetched, written) = tokio::join!(fetch, write);
        written.map_err(StreamFailure::Write)?;
        fetched.map_err(StreamFailure::Fetch)
    }

    /// Every streamed list of a sync, in three phases of concurrent lists: (1) the catalog,
    /// customers, completed Checkout Sessions (which recover customer mappings) and payment
    /// intents; (2) subscriptions and invoices, whose subjects fall back to those mappings;
    /// (3) refunds, once the payments they refund are written. A phase ends when its longest
    /// list does; under the shared request budget the lists of a phase keep it busy. A
    /// customers failure (Stripe's) does not fail the sync, as in the reference: it only skips
    /// the customers' soft delete and count.
    async fn stream_all(&self, env: Environment, client: &StripeClient, at: Snapshot) -> EngineResult<Streamed> {
        let mut products = CatalogSink { at, prices: false, count: 0 };
        let (mut active, mut inactive) =
            (CatalogSink { at, prices: true, count: 0 }, CatalogSink { at, prices: true, count: 0 });
        let mut customers = CustomerSink { at, count: 0 };
        let mut subscriptions = SubscriptionSink {
            at,
            summary: SubscriptionSyncSummary { environment: env, synced: 0, unmapped: 0, deleted: 0 },
        };
        let mut sessions = CheckoutSessionSink { at, mappings: 0 };
        let mut intents = PaymentIntentSink { at };
        let mut invoices = InvoiceSink { at };
        let mut refunds = RefundSink { at };
        let turns = Turns::default();
        let sqlite = self.inner.kind == DbKind::Sqlite;
        let on = |table| (env, client, turns.of(table, sqlite));
        let [products_list, active_list, inactive_list, customers_list, subscriptions_list] = sync_lists();
        let [sessions_list, intents_list, invoices_list, refunds_list] = history_lists(at.since);
        let customers_stream = async {
            match self.stream(on(Table::Customers), customers_list, &mut customers).await {
                Ok(()) => Ok(true),
                Err(StreamFailure::Fetch(e)) => {
                    tracing::warn!(environment = %env, error = %e, "could not sync Stripe customers");
                    Ok(false)
                }
                Err(StreamFailure::Write(e)) => Err(StreamFailure::Write(e)),
            }
        };
        let ((), (), (), customers_read, (), ()) = tokio::try_join!(
            self.stream(on(Table::Products), products_list, &mut products),
            self.stream(on(Table::Prices), active_list, &mut active),
            self.stream(on(Table::Prices), inactive_list, &mut inactive),
            customers_stream,
            self.stream(on(Table::History), sessions_list, &mut sessions),
            self.stream(on(Table::History), intents_list, &mut intents),
        )?;
        tokio::try_join!(
            self.stream(on(Table::Subscriptions), subscriptions_list, &mut subscriptions),
            self.stream(on(Table::History), invoices_list, &mut invoices),
        )?;
        self.stream(on(Table::History), refunds_list, &mut refunds).await?;
        Ok(Streamed {
            products,
            customers: customers_read.then_some(customers),
            subscriptions,
            mappings: sessions.mappings,
        })
    }

    /// Imports the events Stripe still holds (it keeps 30 days; the managed endpoint's types,
    /// within the history window) into the event log, each through the webhook pipeline
    /// ([`Engine::ingest`]): claimed once, projected under the ordering guard, and recorded
    /// `processed` or `ignored` with Stripe's creation time as its arrival. An event already
    /// delivered stays as it was. Events are applied oldest first, one at a time, as Stripe
    /// sent them: the guard lets an event of the sync's own second apply, so the order must
    /// be the real one (a `customer.subscription.deleted` after its `created`). Stripe lists
    /// newest first, so a first walk finds the oldest page (keeping one page), and the import
    /// then pages towards the newest with `ending_before`. Returns how many events were
    /// imported; a Stripe failure stops the import (the next sync tries again), not the sync.
    async fn import_events(&self, env: Environment, client: &StripeClient, since: Option<i64>) -> Option<i64> {
        let form = Form::new()
            .set("types", stripe::MANAGED_WEBHOOK_EVENTS.to_vec())
            .set_opt("created", since.map(|s| Form::new().set("gte", s)));
        let result = async {
            let mut oldest = Vec::new();
            let mut pages = client.paginate::<Value>("/v1/events", form.clone());
            while let Some(page) = next_page_patiently(&mut pages).await? {
                if !page.is_empty() {
                    oldest = page;
                }
            }
            let mut page = oldest;
            let mut imported = 0i64;
            while let Some(newest) = page.first().and_then(|e| stripe::str_field(e, "id")) {
                self.fetched(env, "events", page.len(), client);
                imported += page.len() as i64;
                let mut written = 0;
                for event in page.into_iter().rev() {
                    let Some(id) = stripe::str_field(&event, "id") else { continue };
                    let received_at = event.get("created").and_then(Value::as_i64).map(|s| s * 1000);
                    match self
                        .ingest(Delivery { env, id: id.clone(), text: event.to_string(), event, received_at })
                        .await
                    {
                        Ok(r) if r.response.handled => written += 1,
                        Ok(_) | Err(EngineError::WebhookInFlight(_)) => {}
                        // Recorded `failed` on its row, as a delivery's failure is: retried by a
                        // redelivery or an explicit re-processing, like any failed event.
                        Err(e) => tracing::warn!(environment = %env, event = %id, error = %e, "imported event failed"),
                    }
                }
                self.written(env, "events", written);
                let next = form.clone().set("limit", 100).set("ending_before", newest);
                let list = stripe::request(client, Method::GET, "/v1/events", &next, &RequestOptions::NONE).await?;
                page = list.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
            }
            Ok::<_, EngineError>(imported)
        };
        match result.await {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!(environment = %env, error = %e, "could not import Stripe's recent events");
                None
            }
        }
    }

    /// `contract/BEHAVIOUR.md` §6 step 3, when the key now points at another account: the managed
    /// webhook is recreated, and the old account's data cleared in a commit of its own, before any
    /// page of the new account is written (so the clear can never remove what this sync wrote).
    async fn switch_account(
        &self,
        env: Environment,
        client: &StripeClient,
        account: &AccountIdentity,
    ) -> EngineResult<()> {
        let webhook: Option<(WebhookInfo, zeroize::Zeroizing<String>)> =
            self.try_recreate_managed_webhook(client, env).await;
        let mut tx = self.begin_write().await?;
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
        connections::connect(&mut tx, env, account, webhook.as_ref().map(|(w, _)| w), true).await?;
        tx.commit().await?;
        self.forget_signing_secrets(env);
        Ok(())
    }

    async fn sync_inner(
        &self,
        env: Environment,
        client: &StripeClient,
        check_account: bool,
        synced_at: i64,
    ) -> EngineResult<SyncSummaries> {
        let since = self.inner.history_days.map(|d| synced_at / 1000 - i64::from(d) * 86_400);
        let at = Snapshot { env, synced_at, version: synced_at / 1000, since };
        let account = stripe::retrieve_account(client).await?;
        if check_account {
            let mut conn = self.pool().acquire().await?;
            let stored = connections::get(&mut conn, env).await?.and_then(|r| r.stripe_account_id);
            drop(conn);
            if stored.as_deref() != Some(account.id.as_str()) {
                self.switch_account(env, client, &account).await?;
            }
        }

        let Streamed { products, customers, subscriptions, mappings } = self.stream_all(env, client, at).await?;

        // An account's first sync imports its recent events (a key for another account, once
        // more: its log was cleared with the rest of its data).
        let imported = {
            let mut conn = self.pool().acquire().await?;
            connections::events_imported_account(&mut conn, env).await?
        };
        let mut events = 0;
        if imported.as_deref() != Some(account.id.as_str()) {
            if let Some(n) = self.import_events(env, client, since).await {
                let mut conn = self.pool().acquire().await?;
                connections::mark_events_imported(&mut conn, env, &account.id).await?;
                events = n;
            }
        }

        // The history as it now stands (a payment seen as a session, its PaymentIntent and an
        // invoice is one row): counted outside the final transaction, which other writers wait for.
        let (payments, refunds) = {
            let mut conn = self.pool().acquire().await?;
            history_store::count(&mut conn, env).await?
        };

        // Every list was read to the end: only now may what Stripe no longer has go.
        let mut summary = subscriptions.summary;
        let mut tx = self.begin_write().await?;
        catalog::delete_stale(&mut tx, env, synced_at).await?;
        let prices = catalog::count_prices(&mut tx, env).await?;
        let mut counts = BTreeMap::from([
            ("products".to_owned(), products.count),
            ("prices".to_owned(), prices),
            ("subscriptions".to_owned(), summary.synced),
            ("payments".to_owned(), payments),
            ("refunds".to_owned(), refunds),
        ]);
        if let Some(c) = &customers {
            mirror::soft_delete_unseen_customers(&mut tx, env, synced_at, at.version).await?;
            counts.insert("customers".to_owned(), c.count);
        }
        if events > 0 {
            counts.insert("events".to_owned(), events);
        }
        summary.deleted = mirror::delete_unseen_subscriptions(&mut tx, env, synced_at, at.version).await? as i64;
        connections::record_sync_success(&mut tx, env, &account, &counts, synced_at).await?;
        tx.commit().await?;
        tracing::info!(
            environment = %env,
            products = products.count,
            prices,
            customers = customers.as_ref().map_or(0, |c| c.count),
            subscriptions = summary.synced,
            payments,
            refunds,
            events,
            "Stripe sync finished"
        );
        let history = HistorySyncSummary {
            payments,
            refunds,
            mappings,
            events,
            since: since.and_then(|s| iso_opt(Some(s * 1000))),
        };
        Ok((summary, history))
    }
}
