//! One transaction per delivery, and on SQLite one commit for many deliveries (group commit).
//!
//! A delivery used to cost two commits of its own (the claim, then the projection with its
//! outcome). Now the claim, the projection and the outcome are one transaction. On SQLite,
//! whose commit is an fsync (≈4 ms here, so ≈250 commits/s whatever the work), concurrent
//! deliveries are queued to a single writer that applies a batch of them in one transaction
//! and answers each only after the shared commit succeeded. The first pass runs the batch
//! without savepoints (each statement is a round trip to SQLite's connection thread, and these
//! round trips bound the rate), and records a new event once, with its outcome, after applying
//! it (a claim is only needed for an event stored already); if an event fails to apply, or a
//! concurrent delivery stored it meanwhile (PostgreSQL), that pass is rolled back and the
//! batch runs again with each delivery in its own savepoint, where the failing event is rolled
//! back to it and recorded `failed`; the others are unaffected. If the batch as a whole cannot
//! commit, nothing of it was written, and its deliveries are retried one transaction each.
//! PostgreSQL commits concurrent transactions together by itself: there each delivery runs its
//! own transaction on its own connection, by the same first pass (a batch of one) and, only if
//! its event fails to apply, again in a savepoint.

use std::collections::HashSet;
use std::sync::Weak;

use serde_json::Value;
use sqlx::AnyConnection;
use tokio::sync::{mpsc, oneshot};

use crate::engine::{Engine, Inner};
use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};
use crate::model::WebhookResponse;
use crate::store::{events, rollups};

/// Deliveries committed together at most. Bounds a batch's transaction (and so how long it
/// holds SQLite's write lock) while leaving room for every sender of a burst.
pub(crate) const MAX_BATCH: usize = 64;

/// A verified delivery, ready to be claimed and applied.
pub(crate) struct Delivery {
    pub env: Environment,
    pub id: String,
    pub event: Value,
    /// The payload as stored (the parsed event, re-serialised).
    pub text: String,
    /// When it reached the log (Unix ms); `None`: now. The sync's event import gives Stripe's
    /// creation time, so that imported events sit in the log in the order they happened.
    pub received_at: Option<i64>,
}

impl Delivery {
    pub(super) fn row(&self) -> events::NewEvent<'_> {
        let object = self.event.pointer("/data/object");
        events::NewEvent {
            id: &self.id,
            event_type: self.event.get("type").and_then(Value::as_str).unwrap_or_default(),
            livemode: super::bool_at(&self.event, "livemode"),
            account: self.event.get("account").and_then(Value::as_str),
            object_type: object.and_then(|o| o.get("object")).and_then(Value::as_str),
            object_id: object.and_then(|o| o.get("id")).and_then(Value::as_str),
            payload: &self.text,
            received_at: self.received_at,
        }
    }
}

/// What a delivery is answered.
pub(crate) type Answer = EngineResult<Delivered>;

/// A delivery's answer, and whether an earlier delivery had already processed its event (the
/// contract's answer does not tell a duplicate from an ignored event; the metrics do).
#[derive(Debug)]
pub(crate) struct Delivered {
    pub response: WebhookResponse,
    pub duplicate: bool,
}

impl Delivered {
    /// Applied by this delivery.
    pub(crate) fn fresh(response: WebhookResponse) -> Self {
        Delivered { response, duplicate: false }
    }

    /// Already processed: answered with the event's row, changing nothing.
    pub(crate) fn duplicate(event: Option<crate::model::WebhookEvent>) -> Self {
        Delivered { response: WebhookResponse { received: true, handled: false, event }, duplicate: true }
    }
}

struct Job {
    delivery: Delivery,
    reply: oneshot::Sender<Answer>,
}

/// The queue to the single writer (SQLite).
pub(crate) struct Batcher {
    queue: mpsc::Sender<Job>,
}

impl Batcher {
    /// The queue, and its receiving end for [`spawn_writer`].
    pub(crate) fn new() -> (Batcher, BatchQueue) {
        let (queue, jobs) = mpsc::channel(4 * MAX_BATCH);
        (Batcher { queue }, BatchQueue(jobs))
    }
}

/// The writer's end of the queue.
pub(crate) struct BatchQueue(mpsc::Receiver<Job>);

/// Starts the single writer. It holds the engine weakly and ends when the engine is dropped
/// (the queue's sender lives in the engine). It runs on a thread of its own: its batch is a
/// chain of short statements, each a round trip to SQLite's connection thread, and on the
/// shared runtime every round trip would queue behind the request handlers, which is what
/// bounded the batches' rate.
pub(crate) fn spawn_writer(engine: &Engine, queue: BatchQueue) {
    let weak: Weak<Inner> = std::sync::Arc::downgrade(&engine.inner);
    let BatchQueue(mut jobs) = queue;
    let writer = async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let Some(inner) = weak.upgrade() else { break };
            Engine { inner }.commit_batch(std::mem::take(&mut batch)).await;
        }
    };
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => {
            let spawned = std::thread::Builder::new()
                .name("payments-webhook-writer".into())
                .spawn(move || runtime.block_on(writer));
            if let Err(e) = spawned {
                // Without the writer, deliveries are applied one transaction each (see `deliver`).
                tracing::warn!(error = %e, "could not start the webhook writer thread");
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not build the webhook writer's runtime; it shares the engine's");
            tokio::spawn(writer);
        }
    }
}

impl Engine {
    /// Claims and applies a verified delivery (durably: answered after the commit).
    pub(crate) async fn deliver(&self, delivery: Delivery) -> Answer {
        let Some(batcher) = &self.inner.webhook_batcher else {
            // PostgreSQL: a transaction per delivery, first without a savepoint (see `deliver_first_pass`).
            return self.deliver_first_pass(&delivery).await;
        };
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError(job)) = batcher.queue.send(Job { delivery, reply }).await {
            // The writer is gone (it cannot be while the engine lives): apply it here.
            return self.deliver_alone(&job.delivery).await;
        }
        answer
            .await
            .unwrap_or_else(|_| Err(EngineError::Internal("the webhook writer stopped before answering".into())))
    }

    async fn commit_batch(&self, jobs: Vec<Job>) {
        let (deliveries, replies): (Vec<Delivery>, Vec<oneshot::Sender<Answer>>) =
            jobs.into_iter().map(|j| (j.delivery, j.reply)).unzip();
        let optimistic = self.deliver_optimistically(&deliveries).await.transpose();
        let answers = match optimistic {
            Some(Ok(answers)) => answers,
            // An event of the batch failed to apply (nothing of the batch was kept), or the
            // first pass could not run: every delivery isolated in a savepoint, one commit.
            _ => match self.deliver_together(&deliveries).await {
                Ok(answers) => answers,
                Err(e) if deliveries.len() == 1 => vec![Err(e)],
                Err(e) => {
                    tracing::warn!(error = %e, deliveries = deliveries.len(),
                        "a batch of webhook deliveries could not commit; retrying them one by one");
                    let mut answers = Vec::with_capacity(deliveries.len());
                    for d in &deliveries {
                        answers.push(self.deliver_alone(d).await);
                    }
                    answers
                }
            },
        };
        for (reply, answer) in replies.into_iter().zip(answers) {
            // A sender that gave up waiting is answered by Stripe's redelivery (then a duplicate).
            let _ = reply.send(answer);
        }
    }

    /// The batch's first pass: every delivery applied in one transaction without a savepoint
    /// each (two statements fewer per event, and each statement is a round trip to SQLite's
    /// connection thread), a new event recorded by one insert with its outcome. `Ok(None)`: an
    /// event failed to apply, which only a savepoint can isolate, or another delivery stored a
    /// new event first; the transaction was rolled back and the caller runs
    /// [`Self::deliver_together`] (or, for one delivery, [`Self::deliver_alone`]).
    async fn deliver_optimistically(&self, deliveries: &[Delivery]) -> EngineResult<Option<Vec<Answer>>> {
        // The overview's deltas of the whole batch, netted and written once before the commit
        // (the pass has no savepoint to roll back to, which keeping them in memory needs).
        rollups::batched(self.deliver_optimistically_batched(deliveries)).await
    }

    async fn deliver_optimistically_batched(&self, deliveries: &[Delivery]) -> EngineResult<Option<Vec<Answer>>> {
        let mut tx = self.begin_write().await?;
        // The events stored already (done, failed, or in flight elsewhere) go through a claim;
        // a new one is applied first and then recorded with its outcome, one insert where the
        // claim and the outcome took two statements (and two writes of the row's indexes). On
        // SQLite the batch holds the only write lock, so this one look is exact. PostgreSQL
        // does not look (it would cost the statement saved): there a concurrent delivery of
        // the same event makes the insert find it stored, and the pass is undone.
        let mut claim_first =
            if rollups::concurrent_writers(&tx) { HashSet::new() } else { stored_already(&mut tx, deliveries).await? };
        let mut answers = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            // A second delivery of an event new to this batch is claimed too (and found done).
            let answer = if claim_first.insert((d.env, d.id.clone())) {
                let Ok(outcome) = self.project(&mut tx, d.env, &d.event, None).await else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                let Some(event) = events::record(&mut tx, d.env, &d.row(), outcome).await? else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                let handled = outcome == events::Outcome::Handled;
                Ok(Delivered::fresh(WebhookResponse { received: true, handled, event: Some(event) }))
            } else {
                match events::claim(&mut tx, d.env, &d.row()).await? {
                    events::Claim::Claimed => match self.apply_in(&mut tx, d.env, &d.id, &d.event, None).await {
                        Ok(super::Applied { handled, event }) => {
                            Ok(Delivered::fresh(WebhookResponse { received: true, handled, event }))
                        }
                        Err(_) => {
                            tx.rollback().await?;
                            return Ok(None);
                        }
                    },
                    other => self.unclaimed(&mut tx, d, other).await?,
                }
            };
            answers.push(answer);
        }
        rollups::flush(&mut tx).await?;
        tx.commit().await?;
        Ok(Some(answers))
    }

    /// The answer to a delivery of an event it did not claim (`Claimed` is never passed; it is
    /// answered as in flight only to keep the match total).
    async fn unclaimed(&self, conn: &mut AnyConnection, d: &Delivery, claim: events::Claim) -> EngineResult<Answer> {
        Ok(match claim {
            // Answering 2xx here would tell Stripe the event is handled while the delivery that
            // owns it may still fail: a non-2xx makes Stripe deliver it again later.
            events::Claim::InFlight | events::Claim::Claimed => Err(EngineError::WebhookInFlight(d.id.clone())),
            events::Claim::Done => Ok(Delivered::duplicate(events::get(conn, d.env, &d.id).await?)),
        })
    }

    /// One delivery in a transaction of its own, by the first pass when it can: the projection
    /// and the event's record without a savepoint, and the overview's deltas netted and
    /// written once. On PostgreSQL every statement is a round trip, and a savepoint costs two
    /// more (SAVEPOINT, RELEASE); they are needed only to record an event that fails to apply,
    /// so only then (or when a concurrent delivery stored the event first) does the delivery run
    /// again in [`Self::deliver_alone`], by a claim (nothing of the first pass was kept).
    async fn deliver_first_pass(&self, delivery: &Delivery) -> Answer {
        match self.deliver_optimistically(std::slice::from_ref(delivery)).await {
            Ok(Some(answers)) => only(answers),
            _ => self.deliver_alone(delivery).await,
        }
    }

    /// One delivery in a transaction of its own.
    async fn deliver_alone(&self, delivery: &Delivery) -> Answer {
        self.deliver_together(std::slice::from_ref(delivery)).await.and_then(only)
    }

    /// Claims and applies `deliveries` in one transaction, each in its own savepoint, and
    /// commits. `Err` if the transaction failed as a whole: then nothing of it was committed.
    pub(crate) async fn deliver_together(&self, deliveries: &[Delivery]) -> EngineResult<Vec<Answer>> {
        let mut tx = self.begin_write().await?;
        let mut answers = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            answers.push(self.deliver_in(&mut tx, d).await?);
        }
        tx.commit().await?;
        Ok(answers)
    }

    /// One delivery inside the caller's transaction: its answer, or `Err` if the transaction is
    /// no longer usable. Whatever fails in it is rolled back to its savepoint, so that it
    /// leaves nothing half-done (on PostgreSQL, an error would abort the whole transaction).
    async fn deliver_in(&self, conn: &mut AnyConnection, d: &Delivery) -> EngineResult<Answer> {
        execute(conn, "SAVEPOINT webhook_delivery").await?;
        match self.claim_and_apply(conn, d).await {
            Ok(answer) => {
                execute(conn, "RELEASE SAVEPOINT webhook_delivery").await?;
                Ok(answer)
            }
            Err(e) => {
                execute(conn, "ROLLBACK TO SAVEPOINT webhook_delivery").await?;
                execute(conn, "RELEASE SAVEPOINT webhook_delivery").await?;
                Ok(Err(e))
            }
        }
    }

    /// Claims the event; applies it when claimed. A failure of its projection is rolled back
    /// and recorded as the event's outcome (`failed`), and answered with the error, so that
    /// Stripe retries. `Err`: nothing of this delivery may be kept.
    ///
    /// The success path is the claim, the projection and the outcome (which returns the row
    /// answered): no savepoint of its own. A failure rolls back to [`Engine::deliver_in`]'s
    /// savepoint, which also undoes the claim, then claims again and records the failure.
    async fn claim_and_apply(&self, conn: &mut AnyConnection, d: &Delivery) -> EngineResult<Answer> {
        let env = d.env;
        match events::claim(conn, env, &d.row()).await? {
            other @ (events::Claim::InFlight | events::Claim::Done) => Ok(self.unclaimed(conn, d, other).await?),
            events::Claim::Claimed => match self.apply_in(conn, env, &d.id, &d.event, None).await {
                Ok(super::Applied { handled, event }) => {
                    Ok(Ok(Delivered::fresh(WebhookResponse { received: true, handled, event })))
                }
                Err(e) => {
                    tracing::warn!(environment = %env, event = d.id, error = %e, "Stripe webhook processing failed");
                    execute(conn, "ROLLBACK TO SAVEPOINT webhook_delivery").await?;
                    // The same claim as before the rollback (nothing else wrote in between on
                    // SQLite's single writer; on PostgreSQL a concurrent delivery's claim wins).
                    if events::claim(conn, env, &d.row()).await? == events::Claim::Claimed {
                        events::finish(conn, env, &d.id, Err(&e.to_string())).await?;
                    }
                    Ok(Err(super::handler_failure(e)))
                }
            },
        }
    }
}

/// The events of `deliveries` stored already, by environment and id (one statement per
/// environment in the batch).
async fn stored_already(
    conn: &mut AnyConnection,
    deliveries: &[Delivery],
) -> EngineResult<HashSet<(Environment, String)>> {
    let mut stored = HashSet::new();
    for env in Environment::ALL {
        let ids: Vec<&str> = deliveries.iter().filter(|d| d.env == env).map(|d| d.id.as_str()).collect();
        stored.extend(events::stored(conn, env, ids.into_iter()).await?.into_iter().map(|id| (env, id)));
    }
    Ok(stored)
}

/// The answer of a pass over a single delivery.
fn only(mut answers: Vec<Answer>) -> Answer {
    answers.pop().unwrap_or_else(|| Err(EngineError::Internal("no answer".into())))
}

async fn execute(conn: &mut AnyConnection, sql: &str) -> EngineResult<()> {
    sqlx::query(sql).execute(&mut *conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;
    use sqlx::AnyPool;
    use zeroize::Zeroizing;

    use super::*;
    use crate::{EngineConfig, SealError, Sealer};

    struct Plain;

    impl Sealer for Plain {
        fn seal(&self, plaintext: &str) -> String {
            plaintext.to_owned()
        }

        fn open(&self, sealed: &str) -> Result<Zeroizing<String>, SealError> {
            Ok(Zeroizing::new(sealed.to_owned()))
        }
    }

    async fn engine() -> (Engine, tempfile::TempDir) {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let pool = AnyPool::connect(&format!("sqlite://{}/t.db?mode=rwc", dir.path().display())).await.unwrap();
        sqlx::migrate!("../../migrations").run(&pool).await.unwrap();
        let config = EngineConfig::new(pool, Arc::new(Plain), "http://127.0.0.1:9".parse().unwrap());
        (Engine::new(config).await.unwrap(), dir)
    }

    fn customer_created(id: &str, customer: &str) -> Delivery {
        let event = json!({"id": id, "object": "event", "type": "customer.created", "created": 1_700_000_000,
            "data": {"object": {"id": customer, "object": "customer", "email": "b@example.com", "metadata": {}}}});
        Delivery { env: Environment::Test, id: id.to_owned(), text: event.to_string(), event, received_at: None }
    }

    async fn outcome(engine: &Engine, id: &str) -> (String, i64, Option<String>) {
        sqlx::query_as(
            "SELECT processing_status, CAST(attempt_count AS BIGINT), last_error FROM payments_webhook_events
             WHERE stripe_event_id = $1",
        )
        .bind(id)
        .fetch_one(engine.pool())
        .await
        .unwrap()
    }

    /// Makes the projection of `cus_bad` fail inside the database, after its event's claim.
    async fn refuse_bad_customer(engine: &Engine) {
        sqlx::query(
            "CREATE TRIGGER refuse_bad BEFORE INSERT ON payments_customers WHEN NEW.stripe_customer_id = 'cus_bad'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        )
        .execute(engine.pool())
        .await
        .unwrap();
    }

    async fn customers(engine: &Engine) -> Vec<String> {
        sqlx::query_scalar("SELECT stripe_customer_id FROM payments_customers ORDER BY stripe_customer_id")
            .fetch_all(engine.pool())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_first_pass_keeps_nothing_when_an_event_fails_and_the_batch_path_still_answers_each() {
        let (engine, _dir) = engine().await;
        refuse_bad_customer(&engine).await;
        let batch = [customer_created("evt_1", "cus_1"), customer_created("evt_bad", "cus_bad")];
        // The savepoint-free pass gives up on the failing event and rolls everything back.
        assert!(engine.deliver_optimistically(&batch).await.unwrap().is_none());
        let events: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM payments_webhook_events").fetch_one(engine.pool()).await.unwrap();
        assert_eq!(events, 0);
        assert!(customers(&engine).await.is_empty());

        // Through the writer's path: the isolated pass answers each delivery.
        let mut answers = Vec::new();
        let mut jobs = Vec::new();
        for delivery in [customer_created("evt_1", "cus_1"), customer_created("evt_bad", "cus_bad")] {
            let (reply, answer) = oneshot::channel();
            jobs.push(Job { delivery, reply });
            answers.push(answer);
        }
        engine.commit_batch(jobs).await;
        assert!(answers.remove(0).await.unwrap().unwrap().response.handled);
        assert!(answers.remove(0).await.unwrap().is_err());
        assert_eq!(outcome(&engine, "evt_1").await, ("processed".into(), 1, None));
        assert_eq!(outcome(&engine, "evt_bad").await.0, "failed");
        assert_eq!(customers(&engine).await, ["cus_1"]);

        // A clean batch commits in the first pass, duplicates answered as such.
        let clean = [customer_created("evt_4", "cus_4"), customer_created("evt_1", "cus_1")];
        let answers = engine.deliver_optimistically(&clean).await.unwrap().expect("no event failed");
        assert!(answers[0].as_ref().unwrap().response.handled);
        assert!(!answers[1].as_ref().unwrap().response.handled);
        assert!(answers[1].as_ref().unwrap().duplicate && !answers[0].as_ref().unwrap().duplicate);
        assert_eq!(outcome(&engine, "evt_4").await, ("processed".into(), 1, None));
        assert_eq!(customers(&engine).await, ["cus_1", "cus_4"]);
    }

    #[tokio::test]
    async fn a_failing_event_is_recorded_failed_and_the_rest_of_its_batch_commits() {
        let (engine, _dir) = engine().await;
        // The projection of one event fails inside the database, after its claim.
        refuse_bad_customer(&engine).await;
        let batch = [
            customer_created("evt_1", "cus_1"),
            customer_created("evt_bad", "cus_bad"),
            customer_created("evt_3", "cus_3"),
            // A second delivery of the first event, in the same batch: a duplicate, not re-applied.
            customer_created("evt_1", "cus_1"),
        ];
        let answers = engine.deliver_together(&batch).await.unwrap();
        assert_eq!(answers.len(), 4);
        assert!(answers[0].as_ref().unwrap().response.handled);
        let failure = answers[1].as_ref().unwrap_err();
        assert!(failure.to_string().contains("refused by the test"), "{failure}");
        assert!(answers[2].as_ref().unwrap().response.handled);
        let duplicate = answers[3].as_ref().unwrap();
        assert!(duplicate.duplicate && !duplicate.response.handled);
        assert_eq!(duplicate.response.event.as_ref().unwrap().processing_status.as_str(), "processed");

        // Committed: the others applied once, the failed one recorded (and nothing of it kept).
        assert_eq!(outcome(&engine, "evt_1").await, ("processed".into(), 1, None));
        assert_eq!(outcome(&engine, "evt_3").await, ("processed".into(), 1, None));
        let (status, attempts, error) = outcome(&engine, "evt_bad").await;
        assert_eq!((status.as_str(), attempts), ("failed", 1));
        assert!(error.unwrap_or_default().contains("refused by the test"));
        assert_eq!(customers(&engine).await, ["cus_1", "cus_3"]);

        // Stripe's redelivery of the failed event takes it over once the cause is gone.
        sqlx::query("DROP TRIGGER refuse_bad").execute(engine.pool()).await.unwrap();
        let retried = engine.deliver(customer_created("evt_bad", "cus_bad")).await.unwrap();
        assert!(retried.response.handled && !retried.duplicate);
        assert_eq!(outcome(&engine, "evt_bad").await, ("processed".into(), 2, None));
    }

    #[tokio::test]
    async fn concurrent_deliveries_are_each_applied_once_and_answered_after_the_commit() {
        let (engine, _dir) = engine().await;
        let mut sent = Vec::new();
        for i in 0..40 {
            // Every event twice, concurrently: one delivery applies it, the other finds it done.
            for _ in 0..2 {
                let engine = engine.clone();
                sent.push(tokio::spawn(async move {
                    engine.deliver(customer_created(&format!("evt_{i}"), &format!("cus_{i:02}"))).await
                }));
            }
        }
        let mut handled = 0;
        for task in sent {
            let answer = task.await.unwrap().unwrap();
            // Answered only after its commit: the row is durable and done by now.
            let id = answer.response.event.as_ref().unwrap().stripe_event_id.clone();
            assert_eq!(outcome(&engine, &id).await.0, "processed");
            handled += usize::from(answer.response.handled);
            assert_eq!(answer.duplicate, !answer.response.handled);
        }
        assert_eq!(handled, 40);
        assert_eq!(customers(&engine).await.len(), 40);
        let attempts: i64 =
            sqlx::query_scalar("SELECT CAST(SUM(attempt_count) AS BIGINT) FROM payments_webhook_events")
                .fetch_one(engine.pool())
                .await
                .unwrap();
        assert_eq!(attempts, 40);
    }
}
