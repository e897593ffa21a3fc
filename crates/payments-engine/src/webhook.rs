//! Webhooks (§7): the managed endpoint (re)creation, the receiver (signature, dedup, reclaim)
//! and the projections of every managed event type, behind an ordering guard.
//!
//! Section numbers (§) in this file are those of `contract/BEHAVIOUR.md`.

use serde_json::Value;
use sqlx::AnyConnection;
use stripe_client::{verify_webhook_signature, Form, Method, RequestOptions, SignatureError, DEFAULT_TOLERANCE_SECS};

pub(crate) mod batch;
mod signing;

pub(crate) use batch::{spawn_writer, Batcher};
pub(crate) use signing::SigningSecrets;

use crate::engine::Engine;
use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};
use crate::metrics::WebhookOutcome;
use crate::model::{ConfiguredWebhook, IgnoredReason, WebhookEvent, WebhookResponse};
use crate::objects::{self, secs_ms, subject_in_metadata};
use crate::store::events::Outcome;
use crate::store::history::{self, HistoryRecord};
use crate::store::{self, connections, events, mirror, secrets};
use crate::stripe::{self, id_field, str_field};
use crate::time::now_ms;
use payments_model::{CheckoutSessionStatus, PaymentKind, PaymentStatus, RefundStatus};

/// What applying an event did: whether it changed anything, and the event's row as its outcome
/// recorded it (what the delivery is answered, without reading the row again).
pub(crate) struct Applied {
    pub handled: bool,
    pub event: Option<WebhookEvent>,
}

/// A projection's "did it write anything", as an outcome: nothing written means the mirror
/// already had this (or a newer) state, or does not hold the object.
fn changed(wrote: bool) -> Outcome {
    if wrote {
        Outcome::Handled
    } else {
        Outcome::Ignored(IgnoredReason::NothingToChange)
    }
}

fn bool_at(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

impl Engine {
    /// `POST /api/payments/{env}/webhook` (§7.1): recreates the managed endpoint (Stripe errors
    /// propagate), stores its secret; wipes the mirror if the key now belongs to another account.
    pub async fn configure_webhook(&self, env: Environment) -> EngineResult<ConfiguredWebhook> {
        let guard = self.lock(env).await?;
        let result = self.configure_webhook_locked(env).await;
        guard.release().await;
        result?;
        Ok(ConfiguredWebhook { connection: self.connection(env).await? })
    }

    async fn configure_webhook_locked(&self, env: Environment) -> EngineResult<()> {
        let client = self.configured_client(env).await?;
        let account = stripe::retrieve_account(&client).await?;
        let base = self.inner.public_url.as_ref().ok_or_else(|| EngineError::ConfigInvalid {
            status: 400,
            message: "A public URL must be configured before creating the Stripe webhook".into(),
        })?;
        let url = format!("{}/api/webhooks/stripe/{env}", base.as_str().trim_end_matches('/'));
        let (info, secret) = stripe::recreate_managed_webhook(&client, env, &url).await?;
        let mut tx = self.begin_write().await?;
        let stored = connections::get(&mut tx, env).await?.and_then(|r| r.stripe_account_id);
        let changed = stored.as_deref() != Some(account.id.as_str());
        if changed {
            store::clear_payment_data(&mut tx, env).await?;
        }
        secrets::upsert(&mut tx, env.webhook_secret_name(), env, &self.inner.sealer.seal(&secret)).await?;
        connections::set_webhook(&mut tx, env, &account, &info, changed).await?;
        tx.commit().await?;
        self.forget_signing_secrets(env);
        Ok(())
    }

    /// `POST /api/webhooks/stripe/{env}` (§7.2): verifies the signature of the raw body,
    /// deduplicates by event id (a unique constraint, so across processes), processes, and
    /// records the outcome. A processing failure is returned (so Stripe retries) after being
    /// recorded as `failed`.
    pub async fn receive_webhook(
        &self,
        env: Environment,
        payload: &[u8],
        signature: &str,
    ) -> EngineResult<WebhookResponse> {
        let started = std::time::Instant::now();
        let (outcome, result) = self.receive_verified(env, payload, signature).await;
        crate::metrics::webhook_event(env, outcome, started.elapsed());
        result
    }

    /// [`Engine::receive_webhook`] and what became of the delivery, for the metrics.
    async fn receive_verified(
        &self,
        env: Environment,
        payload: &[u8],
        signature: &str,
    ) -> (WebhookOutcome, EngineResult<WebhookResponse>) {
        let secrets = match self.webhook_signing_secrets(env).await {
            Ok(secrets) => secrets,
            Err(e @ EngineError::ServerMessage(_)) => return (WebhookOutcome::Unconfigured, Err(e)),
            Err(e) => return (WebhookOutcome::Failed, Err(e)),
        };
        if let Err(e) = verify_signature(&secrets, payload, signature) {
            return (WebhookOutcome::RefusedSignature, Err(EngineError::InvalidInput(signature_message(&e))));
        }
        let Ok(event) = serde_json::from_slice::<Value>(payload) else {
            return (
                WebhookOutcome::Invalid,
                Err(EngineError::InvalidInput("Webhook payload is not valid JSON".into())),
            );
        };
        let Some(id) = str_field(&event, "id") else {
            return (WebhookOutcome::Invalid, Err(EngineError::InvalidInput("Webhook event has no id".into())));
        };
        match self.ingest(batch::Delivery { env, id, text: event.to_string(), event, received_at: None }).await {
            Ok(d) => {
                let outcome = match (d.duplicate, d.response.handled) {
                    (true, _) => WebhookOutcome::Duplicate,
                    (false, true) => WebhookOutcome::Processed,
                    (false, false) => WebhookOutcome::Ignored,
                };
                (outcome, Ok(d.response))
            }
            Err(e @ EngineError::WebhookInFlight(_)) => (WebhookOutcome::InFlight, Err(e)),
            Err(e) => (WebhookOutcome::Failed, Err(e)),
        }
    }

    /// A verified event, claimed, applied and recorded: what a webhook delivery does after its
    /// signature check, and what the sync's event import does with each event Stripe still
    /// holds (so both share the claim, the projections and the exactly-once outcome).
    pub(crate) async fn ingest(&self, delivery: batch::Delivery) -> batch::Answer {
        let env = delivery.env;
        let kind = delivery.event.get("type").and_then(Value::as_str).unwrap_or_default();
        if !kind.starts_with("refund.") {
            // Claimed, applied and finished in one transaction (batched on SQLite).
            return self.deliver(delivery).await;
        }
        // A refund may need a Stripe read before its transaction: claimed first, on its own,
        // so that other deliveries of it are refused while Stripe answers.
        let claim = {
            let mut conn = self.pool().acquire().await?;
            events::claim(&mut conn, env, &delivery.row()).await?
        };
        let batch::Delivery { id, event, .. } = delivery;
        match claim {
            events::Claim::Claimed => {
                self.process_claimed(env, &id, &event).await.map(batch::Delivered::fresh).map_err(handler_failure)
            }
            // Answering 2xx here would tell Stripe the event is handled while the delivery that
            // owns it may still fail: a non-2xx makes Stripe deliver it again later.
            events::Claim::InFlight => Err(EngineError::WebhookInFlight(id)),
            events::Claim::Done => {
                let mut conn = self.pool().acquire().await?;
                Ok(batch::Delivered::duplicate(events::get(&mut conn, env, &id).await?))
            }
        }
    }

    /// Applies a claimed event and records the outcome. Success is recorded in the transaction
    /// that applies the event, so an event is never applied without being marked done (nor
    /// marked done without being applied); a failure is recorded afterwards, best effort, and
    /// returned, so that Stripe retries.
    async fn process_claimed(&self, env: Environment, id: &str, event: &Value) -> EngineResult<WebhookResponse> {
        match self.apply_event(env, id, event).await {
            Ok(Applied { handled, event }) => Ok(WebhookResponse { received: true, handled, event }),
            Err(e) => {
                tracing::warn!(environment = %env, event = id, error = %e, "Stripe webhook processing failed");
                let message = e.to_string();
                let recorded = async {
                    let mut conn = self.pool().acquire().await?;
                    events::finish(&mut conn, env, id, Err(&message)).await
                };
                if let Err(db) = recorded.await {
                    // The row stays `pending`: redeliveries are refused until its claim expires,
                    // then it is taken over (by a redelivery or the sweeper).
                    tracing::warn!(environment = %env, event = id, error = %db, "could not record a webhook failure");
                }
                Err(e)
            }
        }
    }

    /// Finishes events whose claim expired without an outcome (the process died, or could not
    /// record it): each is taken over atomically and processed from its stored payload. Returns
    /// how many were processed. Run periodically by [`Engine::new`]'s sweeper; public so that
    /// an operator tool or a test can run it at once.
    pub async fn sweep_abandoned_events(&self) -> EngineResult<usize> {
        let mut done = 0;
        for env in Environment::ALL {
            let ids = {
                let mut conn = self.pool().acquire().await?;
                events::abandoned(&mut conn, env, 100).await?
            };
            for id in ids {
                let payload = {
                    let mut conn = self.pool().acquire().await?;
                    events::take_over_abandoned(&mut conn, env, &id).await?
                };
                let Some(payload) = payload else { continue };
                let event: Value = match serde_json::from_str(&payload) {
                    Ok(v) => v,
                    Err(e) => {
                        let mut conn = self.pool().acquire().await?;
                        events::finish(&mut conn, env, &id, Err(&format!("stored payload is not JSON: {e}"))).await?;
                        continue;
                    }
                };
                if self.process_claimed(env, &id, &event).await.is_ok() {
                    done += 1;
                }
            }
        }
        Ok(done)
    }

    /// Re-processes a stored event now (whatever its status), e.g. after fixing the cause of a
    /// failure. The ordering guard still applies. 404 `PAYMENT_NOT_FOUND` for an unknown event.
    pub async fn reprocess_webhook_event(&self, env: Environment, event_id: &str) -> EngineResult<WebhookResponse> {
        let payload = {
            let mut conn = self.pool().acquire().await?;
            events::restart(&mut conn, env, event_id).await?
        };
        let Some(payload) = payload else {
            return Err(EngineError::PaymentNotFound(format!("Stripe {env} webhook event not found: {event_id}")));
        };
        let event: Value = serde_json::from_str(&payload).map_err(|e| EngineError::Internal(e.to_string()))?;
        self.process_claimed(env, event_id, &event).await
    }

    /// §7.3: applies one event in one transaction, which also marks the stored event `id` done;
    /// returns what it did ([`Applied`]).
    async fn apply_event(&self, env: Environment, id: &str, event: &Value) -> EngineResult<Applied> {
        let kind = event.get("type").and_then(Value::as_str).unwrap_or_default();
        // Refunds may need context from Stripe: fetch it before the transaction.
        let refund_context = match event.pointer("/data/object") {
            Some(object) if kind.starts_with("refund.") => self.refund_context(env, object).await?,
            _ => None,
        };
        let mut tx = self.begin_write().await?;
        let applied = self.apply_in(&mut tx, env, id, event, refund_context.as_ref()).await?;
        tx.commit().await?;
        Ok(applied)
    }

    /// §7.3 inside the caller's transaction: projects the event, marks the stored event `id`
    /// done, and returns what it did ([`Applied`]). `refund_context`: see
    /// [`Engine::refund_context`] (fetched before the transaction).
    async fn apply_in(
        &self,
        tx: &mut AnyConnection,
        env: Environment,
        id: &str,
        event: &Value,
        refund_context: Option<&Value>,
    ) -> EngineResult<Applied> {
        let outcome = self.project(tx, env, event, refund_context).await?;
        let event = events::finish(tx, env, id, Ok(outcome)).await?;
        Ok(Applied { handled: outcome == Outcome::Handled, event })
    }

    /// Projects the event into the mirror inside the caller's transaction, and says what it did;
    /// the caller records that as the event's outcome.
    pub(crate) async fn project(
        &self,
        tx: &mut AnyConnection,
        env: Environment,
        event: &Value,
        refund_context: Option<&Value>,
    ) -> EngineResult<Outcome> {
        let kind = event.get("type").and_then(Value::as_str).unwrap_or_default();
        let version = event.get("created").and_then(Value::as_i64).unwrap_or_else(|| now_ms() / 1000);
        let Some(object) = event.pointer("/data/object") else {
            return Ok(Outcome::Ignored(IgnoredReason::NoObject));
        };
        let trust_metadata = self.inner.subjects.is_permissive();
        let outcome = match kind {
            "customer.created" | "customer.updated" => match objects::customer_record(object) {
                Some(c) => {
                    let c = mirror::keep_expanded_card(tx, env, c).await?;
                    mirror::upsert_customer(tx, env, &c, version, now_ms()).await?;
                    Outcome::Handled
                }
                None => Outcome::Ignored(IgnoredReason::NoObject),
            },
            "customer.deleted" => match objects::customer_record(object) {
                Some(c) => {
                    let a = mirror::mark_customer_deleted(tx, env, &c, version).await?;
                    let b = mirror::delete_mappings_of(tx, env, &c.stripe_customer_id).await?;
                    changed(a || b)
                }
                None => Outcome::Ignored(IgnoredReason::NoObject),
            },
            "checkout.session.completed" => {
                changed(checkout_completed(tx, env, object, version, None, trust_metadata).await?)
            }
            "checkout.session.async_payment_succeeded" => changed(
                checkout_completed(tx, env, object, version, Some(PaymentStatus::Succeeded), trust_metadata).await?,
            ),
            "checkout.session.async_payment_failed" => changed(
                checkout_completed(tx, env, object, version, Some(PaymentStatus::Failed), trust_metadata).await?,
            ),
            "checkout.session.expired" => {
                changed(update_checkout_row(tx, env, object, CheckoutSessionStatus::Expired, version).await?)
            }
            "invoice.paid" | "invoice.payment_succeeded" => {
                invoice_history(tx, env, object, PaymentStatus::Succeeded, version).await?;
                Outcome::Handled
            }
            "invoice.payment_failed" => {
                invoice_history(tx, env, object, PaymentStatus::Failed, version).await?;
                Outcome::Handled
            }
            "invoice_payment.paid" => changed(invoice_payment_paid(tx, env, object).await?),
            "payment_intent.succeeded" | "payment_intent.payment_failed" => {
                let mode = object.pointer("/metadata/insforge_checkout_mode").and_then(Value::as_str);
                if mode == Some("payment") {
                    let ok = kind == "payment_intent.succeeded";
                    payment_intent_history(tx, env, object, ok, version).await?;
                    Outcome::Handled
                } else {
                    // A subscription's payment (or one outside the console's checkout): its
                    // invoice's or checkout session's own event records it.
                    Outcome::Ignored(IgnoredReason::HandledElsewhere)
                }
            }
            "charge.refunded" => {
                let pi = id_field(object, "payment_intent");
                let charge = str_field(object, "id");
                history::refresh_original_of(tx, env, pi.as_deref(), charge.as_deref()).await?;
                Outcome::Handled
            }
            "refund.created" | "refund.updated" | "refund.failed" => {
                refund_history(tx, env, object, refund_context, version).await?;
                Outcome::Handled
            }
            "customer.subscription.created"
            | "customer.subscription.updated"
            | "customer.subscription.deleted"
            | "customer.subscription.paused"
            | "customer.subscription.resumed" => {
                let (items, _) = objects::embedded_items(object);
                // Without a subject in its metadata, the upsert takes the customer's mapping.
                let subject = subject_in_metadata(object.get("metadata"));
                match objects::subscription_record(object, &items, subject)? {
                    Some(record) => {
                        mirror::upsert_subscription(tx, env, &record, version, now_ms()).await?;
                        Outcome::Handled
                    }
                    None => Outcome::Ignored(IgnoredReason::NothingToChange),
                }
            }
            _ => Outcome::Ignored(IgnoredReason::UnhandledType),
        };
        Ok(outcome)
    }

    /// The PaymentIntent of a refund whose original payment is not in the history yet.
    async fn refund_context(&self, env: Environment, refund: &Value) -> EngineResult<Option<Value>> {
        let pi = id_field(refund, "payment_intent");
        let charge = id_field(refund, "charge");
        {
            let mut conn = self.pool().acquire().await?;
            if history::find_original(&mut conn, env, pi.as_deref(), charge.as_deref()).await?.is_some() {
                return Ok(None);
            }
        }
        let Some(pi) = pi else { return Ok(None) };
        let client = self.configured_client(env).await?;
        let path = stripe::path_of("payment_intents", &pi);
        Ok(Some(stripe::request(&client, Method::GET, &path, &Form::new(), &RequestOptions::NONE).await?))
    }
}

/// The receiver does not normalise Stripe errors (§1.5: "not to the webhook route"): a Stripe
/// failure while an event is applied is a plain exception in the reference, answered with 500
/// `INTERNAL_ERROR` and its message, so that Stripe retries the delivery. The contract's own
/// errors (e.g. 400 `PAYMENT_CONFIG_INVALID` for a missing key) pass through unchanged.
fn handler_failure(e: EngineError) -> EngineError {
    match e {
        EngineError::RateLimited(message)
        | EngineError::Upstream { message, .. }
        | EngineError::PaymentDeclined { message, .. } => EngineError::ServerMessage(message),
        EngineError::ConfigInvalid { status, message } if status != 400 => EngineError::ServerMessage(message),
        other => other,
    }
}

/// Checks a delivery against the managed endpoint's secret and then, only if that one does not
/// match, against the secret pasted from the Stripe CLI. Header and timestamp failures do not
/// depend on the secret, so they are answered from the first check; a signature neither secret
/// made is a mismatch, as before.
fn verify_signature(secrets: &signing::Verifiers, payload: &[u8], signature: &str) -> Result<(), SignatureError> {
    let now = stripe_client::unix_now();
    let check = |secret: &str| verify_webhook_signature(payload, signature, secret, DEFAULT_TOLERANCE_SECS, now);
    match (&secrets.managed, &secrets.forwarded) {
        (Some(managed), None) => check(managed),
        (None, Some(forwarded)) => check(forwarded),
        (Some(managed), Some(forwarded)) => match check(managed) {
            Err(SignatureError::Mismatch) => check(forwarded),
            other => other,
        },
        // `webhook_signing_secrets` answers 500 before this when neither is set.
        (None, None) => Err(SignatureError::Mismatch),
    }
}

/// Stripe libraries' messages for signature failures.
fn signature_message(e: &SignatureError) -> String {
    match e {
        SignatureError::MissingTimestamp | SignatureError::NoSignatures => {
            "Unable to extract timestamp and signatures from header".to_owned()
        }
        SignatureError::Mismatch => "No signatures found matching the expected signature for payload".to_owned(),
        SignatureError::OutsideTolerance { .. } => "Timestamp outside the tolerance zone".to_owned(),
    }
}

pub(crate) async fn update_checkout_row(
    conn: &mut AnyConnection,
    env: Environment,
    session: &Value,
    status: CheckoutSessionStatus,
    version: i64,
) -> EngineResult<bool> {
    let done = sqlx::query(
        "UPDATE payments_checkout_sessions SET status = $1, payment_status = COALESCE($2, payment_status),
             stripe_customer_id = COALESCE($3, stripe_customer_id),
             stripe_payment_intent_id = COALESCE($4, stripe_payment_intent_id),
             stripe_subscription_id = COALESCE($5, stripe_subscription_id), url = COALESCE($6, url), raw = $7,
             last_error = NULL, updated_at = $8, source_version = $9
         WHERE environment = $10 AND stripe_checkout_session_id = $11 AND COALESCE(source_version, 0) <= $9",
    )
    .bind(status.as_str())
    .bind(str_field(session, "payment_status"))
    .bind(id_field(session, "customer"))
    .bind(id_field(session, "payment_intent"))
    .bind(id_field(session, "subscription"))
    .bind(str_field(session, "url"))
    .bind(session.to_string())
    .bind(now_ms())
    .bind(version)
    .bind(env.as_str())
    .bind(str_field(session, "id"))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether the local checkout row of `session` was created for the subject `(t, i)`.
async fn created_here_for(
    conn: &mut AnyConnection,
    env: Environment,
    session: &Value,
    t: &str,
    i: &str,
) -> EngineResult<bool> {
    let Some(id) = str_field(session, "id") else { return Ok(false) };
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM payments_checkout_sessions
         WHERE environment = $1 AND stripe_checkout_session_id = $2 AND subject_type = $3 AND subject_id = $4",
    )
    .bind(env.as_str())
    .bind(&id)
    .bind(t)
    .bind(i)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// How a completed session's metadata subject may map its customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MappingTrust {
    /// A webhook (or an imported event): map only a session this engine created for that very
    /// subject; `true` in the permissive policy, where the metadata is trusted as in InsForge.
    /// The latest completion wins, re-pointing an older mapping.
    Event { trust_metadata: bool },
    /// The sync's backfill of completed sessions (Stripe lists them newest first): map only a
    /// subject and a customer that are both unmapped yet, so the newest session wins and no
    /// mapping the engine holds is ever re-pointed by history (as InsForge v3's metadata
    /// back-fill does), and only to a customer Stripe still has.
    Backfill { customer_exists: bool },
}

/// The customer mapping of a completed session (§4), under `trust`. Whether it wrote one.
pub(crate) async fn map_checkout_subject(
    conn: &mut AnyConnection,
    env: Environment,
    session: &Value,
    trust: MappingTrust,
) -> EngineResult<bool> {
    let (Some((t, i)), Some(c)) = (subject_in_metadata(session.get("metadata")), id_field(session, "customer")) else {
        return Ok(false);
    };
    match trust {
        MappingTrust::Backfill { customer_exists: true } => {
            mirror::insert_mapping_if_absent(conn, env, &t, &i, &c).await
        }
        MappingTrust::Backfill { customer_exists: false } => Ok(false),
        // The subject in Stripe's metadata is only trusted when this engine created the
        // session for that very subject, after its subject policy allowed the creator: a
        // session made elsewhere (the Stripe dashboard, another integration) must not re-point
        // a subject's customer, and with it whose portal a user may open.
        MappingTrust::Event { trust_metadata } => {
            if trust_metadata || created_here_for(conn, env, session, &t, &i).await? {
                return mirror::upsert_mapping(conn, env, &t, &i, &c).await;
            }
            tracing::warn!(environment = %env, session = ?str_field(session, "id"),
                "checkout completed for a subject this engine did not create it for; no customer mapping written");
            Ok(false)
        }
    }
}

/// `checkout.session.*` (§7.3): the local row, the mapping (unless the payment failed) and,
/// in payment mode, the history row.
async fn checkout_completed(
    conn: &mut AnyConnection,
    env: Environment,
    session: &Value,
    version: i64,
    forced: Option<PaymentStatus>,
    trust_metadata: bool,
) -> EngineResult<bool> {
    let mut handled = update_checkout_row(conn, env, session, CheckoutSessionStatus::Completed, version).await?;
    if forced != Some(PaymentStatus::Failed) {
        handled |= map_checkout_subject(conn, env, session, MappingTrust::Event { trust_metadata }).await?;
    }
    handled |= checkout_history(conn, env, session, forced, version, version * 1000).await?;
    Ok(handled)
}

/// The history row of a payment-mode session (§7.4a); `at`: when it was paid or failed (Unix
/// ms: the event's time for a webhook, the payment's for the backfill). Whether it was one.
pub(crate) async fn checkout_history(
    conn: &mut AnyConnection,
    env: Environment,
    session: &Value,
    forced: Option<PaymentStatus>,
    version: i64,
    at: i64,
) -> EngineResult<bool> {
    let subject = subject_in_metadata(session.get("metadata"));
    let customer = id_field(session, "customer");
    if str_field(session, "mode").as_deref() == Some("payment") {
        let status = match forced {
            Some(s) => s,
            None if str_field(session, "payment_status").as_deref() == Some("paid") => PaymentStatus::Succeeded,
            None => PaymentStatus::Pending,
        };
        let record = HistoryRecord {
            paid_at: (status == PaymentStatus::Succeeded).then_some(at),
            failed_at: (status == PaymentStatus::Failed).then_some(at),
            subject,
            stripe_customer_id: customer,
            customer_email_snapshot: session
                .pointer("/customer_details/email")
                .and_then(Value::as_str)
                .map(str::to_owned),
            stripe_checkout_session_id: str_field(session, "id"),
            stripe_payment_intent_id: id_field(session, "payment_intent"),
            amount: session.get("amount_total").and_then(Value::as_i64),
            currency: str_field(session, "currency"),
            stripe_created_at: secs_ms(session, "created"),
            raw: session.to_string(),
            amount_refunded: Some(0),
            ..HistoryRecord::new(PaymentKind::OneTimePayment, status)
        };
        if let Some(written) = history::write(conn, env, &record, version).await? {
            history::refresh_written(conn, env, &written).await?;
        }
        return Ok(true);
    }
    Ok(false)
}

fn invoice_subscription(invoice: &Value) -> Option<String> {
    if let Some(s) = invoice.pointer("/parent/subscription_details/subscription").and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        other => str_field(other, "id"),
    }) {
        return Some(s);
    }
    let line = invoice.pointer("/lines/data/0")?;
    line.get("subscription")
        .and_then(Value::as_str)
        .or_else(|| line.pointer("/parent/subscription_item_details/subscription").and_then(Value::as_str))
        .or_else(|| line.pointer("/parent/invoice_item_details/subscription").and_then(Value::as_str))
        .map(str::to_owned)
}

pub(crate) async fn invoice_history(
    conn: &mut AnyConnection,
    env: Environment,
    invoice: &Value,
    status: PaymentStatus,
    version: i64,
) -> EngineResult<()> {
    let subscription = invoice_subscription(invoice);
    let customer = id_field(invoice, "customer");
    // Without one in the metadata, the write takes the customer's mapped subject.
    let subject = subject_in_metadata(invoice.pointer("/parent/subscription_details/metadata"))
        .or_else(|| subject_in_metadata(invoice.get("metadata")));
    let succeeded = status == PaymentStatus::Succeeded;
    // The PaymentIntent that paid the invoice: from its payments when Stripe included them (the
    // sync expands them), else from an `invoice_payment.paid` that came first. A failed
    // invoice has none (its attempts paid nothing), whichever way it arrives.
    let pi = match invoice.pointer("/payments/data").and_then(Value::as_array) {
        Some(payments) => payments.iter().filter(|p| p["status"] == "paid").find_map(invoice_payment_intent),
        None if succeeded => match str_field(invoice, "id") {
            Some(id) => history::meet_invoice_payment(conn, env, &id).await?,
            None => None,
        },
        None => None,
    };
    let line = invoice.pointer("/lines/data/0");
    let kind = if subscription.is_some() { PaymentKind::SubscriptionInvoice } else { PaymentKind::OneTimePayment };
    let record = HistoryRecord {
        subject,
        stripe_customer_id: customer,
        customer_email_snapshot: str_field(invoice, "customer_email"),
        stripe_payment_intent_id: pi,
        stripe_invoice_id: str_field(invoice, "id"),
        stripe_subscription_id: subscription,
        stripe_product_id: line
            .and_then(|l| l.pointer("/pricing/price_details/product"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        stripe_price_id: line
            .and_then(|l| l.pointer("/pricing/price_details/price"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        amount: invoice.get(if succeeded { "amount_paid" } else { "amount_due" }).and_then(Value::as_i64),
        currency: str_field(invoice, "currency"),
        description: str_field(invoice, "description").or_else(|| str_field(invoice, "number")),
        paid_at: if succeeded {
            invoice
                .pointer("/status_transitions/paid_at")
                .and_then(Value::as_i64)
                .map(|s| s * 1000)
                .or_else(|| secs_ms(invoice, "created"))
        } else {
            None
        },
        failed_at: if succeeded { None } else { secs_ms(invoice, "created") },
        stripe_created_at: secs_ms(invoice, "created"),
        raw: invoice.to_string(),
        amount_refunded: succeeded.then_some(0),
        subject_from_customer: true,
        ..HistoryRecord::new(kind, status)
    };
    if let Some(written) = history::write(conn, env, &record, version).await? {
        if succeeded {
            history::refresh_written(conn, env, &written).await?;
        }
    }
    Ok(())
}

/// The PaymentIntent of an InvoicePayment (`payment.payment_intent`, an id or expanded).
fn invoice_payment_intent(payment: &Value) -> Option<String> {
    if payment.pointer("/payment/type").and_then(Value::as_str).is_some_and(|t| t != "payment_intent") {
        return None;
    }
    payment.pointer("/payment/payment_intent").and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        other => str_field(other, "id"),
    })
}

/// `invoice_payment.paid`: records which PaymentIntent paid the invoice, and gives it to the
/// invoice's history row if that exists already (the events come in either order), whose
/// refunds can then be found by it. Not handled unless it is a paid PaymentIntent payment.
async fn invoice_payment_paid(conn: &mut AnyConnection, env: Environment, payment: &Value) -> EngineResult<bool> {
    let (Some(invoice), Some(pi)) = (id_field(payment, "invoice"), invoice_payment_intent(payment)) else {
        return Ok(false);
    };
    if payment["status"] != "paid" {
        return Ok(false);
    }
    if let Some(row) = history::record_invoice_payment(conn, env, &invoice, &pi).await? {
        history::refresh_refund_state(conn, env, &row).await?;
    }
    Ok(true)
}

pub(crate) async fn payment_intent_history(
    conn: &mut AnyConnection,
    env: Environment,
    pi: &Value,
    ok: bool,
    version: i64,
) -> EngineResult<Option<String>> {
    let created = secs_ms(pi, "created");
    let (kind, status) = if ok {
        (PaymentKind::OneTimePayment, PaymentStatus::Succeeded)
    } else {
        (PaymentKind::FailedPayment, PaymentStatus::Failed)
    };
    let record = HistoryRecord {
        subject: subject_in_metadata(pi.get("metadata")),
        stripe_customer_id: id_field(pi, "customer"),
        customer_email_snapshot: str_field(pi, "receipt_email"),
        stripe_payment_intent_id: str_field(pi, "id"),
        stripe_charge_id: id_field(pi, "latest_charge"),
        amount: pi.get(if ok { "amount_received" } else { "amount" }).and_then(Value::as_i64),
        currency: str_field(pi, "currency"),
        paid_at: if ok { created } else { None },
        failed_at: if ok { None } else { created },
        stripe_created_at: created,
        raw: pi.to_string(),
        amount_refunded: ok.then_some(0),
        ..HistoryRecord::new(kind, status)
    };
    let written = history::write(conn, env, &record, version).await?;
    if let (Some(written), true) = (&written, ok) {
        history::refresh_written(conn, env, written).await?;
    }
    Ok(written.map(|w| w.id().to_owned()))
}

pub(crate) async fn refund_history(
    conn: &mut AnyConnection,
    env: Environment,
    refund: &Value,
    context: Option<&Value>,
    version: i64,
) -> EngineResult<()> {
    if let Some(pi) = context {
        if str_field(pi, "status").as_deref() == Some("succeeded") {
            // Create the original first (as an older state than any event about it).
            payment_intent_history(conn, env, pi, true, 0).await?;
        }
    }
    let pi = id_field(refund, "payment_intent");
    let charge = id_field(refund, "charge");
    // Stripe's refund status, as the refund row's history status.
    let status = match str_field(refund, "status").map(RefundStatus::from) {
        Some(RefundStatus::Succeeded) => PaymentStatus::Refunded,
        Some(RefundStatus::Failed | RefundStatus::Canceled) => PaymentStatus::Failed,
        _ => PaymentStatus::Pending,
    };
    let original = history::find_original(conn, env, pi.as_deref(), charge.as_deref()).await?;
    let original_description: Option<String> = match &original {
        Some(id) => {
            sqlx::query_scalar("SELECT description FROM payments_payment_history WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *conn)
                .await?
        }
        None => None,
    };
    let record = HistoryRecord {
        stripe_payment_intent_id: pi,
        stripe_charge_id: charge,
        stripe_refund_id: str_field(refund, "id"),
        amount: refund.get("amount").and_then(Value::as_i64),
        currency: str_field(refund, "currency"),
        description: str_field(refund, "description").or_else(|| str_field(refund, "reason")).or(original_description),
        refunded_at: (status == PaymentStatus::Refunded).then(|| secs_ms(refund, "created")).flatten(),
        stripe_created_at: secs_ms(refund, "created"),
        raw: refund.to_string(),
        ..HistoryRecord::new(PaymentKind::Refund, status)
    };
    history::write(conn, env, &record, version).await?;
    if let Some(original) = original {
        history::refresh_refund_state(conn, env, &original).await?;
    }
    Ok(())
}
