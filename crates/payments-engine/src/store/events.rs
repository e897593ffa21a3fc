//! `payments_webhook_events`: received events, deduplicated by the unique
//! `(environment, stripe_event_id)` constraint (so dedup holds across processes).

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::environment::Environment;
use crate::error::EngineResult;
use crate::model::{IgnoredReason, WebhookEvent};
use crate::store::new_id;
use crate::time::{iso_ms, iso_opt, now_ms};
use payments_model::ProcessingStatus;

/// How long a delivery's claim on an event lasts. A `pending` row younger than this belongs to
/// a delivery still at work: another delivery of the same event is answered non-2xx (so Stripe
/// retries it) instead of "already handled". An older one was abandoned (a crash, a lost
/// connection while recording the outcome) and is taken over, by the next delivery or by
/// [`crate::Engine`]'s sweeper. Longer than any one event's processing: a transaction under
/// the busy timeout plus, for refunds, one Stripe read with its retries.
pub(crate) const CLAIM_LEASE_MS: i64 = 60 * 1000;

/// The columns of a [`WebhookEvent`], as a macro so that statements can `concat!` them.
macro_rules! event_columns {
    () => {
        "id, environment, stripe_event_id, event_type, livemode, stripe_account_id, object_type, \
         object_id, processing_status, attempt_count, last_error, received_at, processed_at, created_at, updated_at, \
         ignored_reason"
    };
}

pub(crate) const COLUMNS: &str = event_columns!();

pub(crate) fn from_row(r: &AnyRow) -> EngineResult<WebhookEvent> {
    let env: String = r.try_get("environment")?;
    Ok(WebhookEvent {
        environment: Environment::parse(&env).unwrap_or(Environment::Test),
        stripe_event_id: r.try_get("stripe_event_id")?,
        event_type: r.try_get("event_type")?,
        livemode: r.try_get::<i64, _>("livemode")? != 0,
        stripe_account_id: r.try_get("stripe_account_id")?,
        object_type: r.try_get("object_type")?,
        object_id: r.try_get("object_id")?,
        processing_status: r.try_get::<String, _>("processing_status")?.into(),
        attempt_count: r.try_get("attempt_count")?,
        last_error: r.try_get("last_error")?,
        received_at: iso_ms(r.try_get("received_at")?),
        processed_at: iso_opt(r.try_get("processed_at")?),
        created_at: iso_ms(r.try_get("created_at")?),
        updated_at: iso_ms(r.try_get("updated_at")?),
        ignored_reason: r.try_get::<Option<String>, _>("ignored_reason")?.as_deref().and_then(IgnoredReason::parse),
    })
}

// The delivery path's statements, each a seek on the `(environment, stripe_event_id)` unique
// key. Public, for the plan tests (`tests/api/write_plans.rs`).

/// Inserts a new event as claimed (`pending`), or nothing if it is stored already. `$10`: when
/// it was received, `$11`: now (the claim's start, which its lease counts from).
pub const CLAIM_SQL: &str =
    "INSERT INTO payments_webhook_events (id, environment, stripe_event_id, event_type, livemode,
         stripe_account_id, object_type, object_id, processing_status, attempt_count, payload, received_at, created_at,
         updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 1, $9, $10, $10, $11)
     ON CONFLICT (environment, stripe_event_id) DO NOTHING";

/// Takes over a failed event or an expired claim (`$5`: claims older than this are expired).
pub const TAKE_OVER_SQL: &str = "UPDATE payments_webhook_events SET processing_status = 'pending',
         attempt_count = attempt_count + 1, last_error = NULL, processed_at = NULL, payload = $1, updated_at = $2
     WHERE environment = $3 AND stripe_event_id = $4
         AND (processing_status = 'failed' OR (processing_status = 'pending' AND updated_at < $5))";

/// The processing status of a stored event.
pub const EVENT_STATUS_SQL: &str =
    "SELECT processing_status FROM payments_webhook_events WHERE environment = $1 AND stripe_event_id = $2";

/// Records an event's outcome, and returns the row as recorded (the webhook's answer: no
/// second read of it).
pub const FINISH_SQL: &str = concat!(
    "UPDATE payments_webhook_events SET processing_status = $1, last_error = $2, ignored_reason = $3, processed_at = $4,
         updated_at = $5
     WHERE environment = $6 AND stripe_event_id = $7 RETURNING ",
    event_columns!()
);

/// Inserts a new event with its outcome already known (`$9` status, `$10` ignored reason, `$13`
/// processed at), and returns the row as recorded, or nothing if it is stored already: the
/// webhook writer's first pass, which applies a new event and records it in one statement
/// where a claim and its outcome took two (see `webhook/batch.rs`).
pub const RECORD_SQL: &str = concat!(
    "INSERT INTO payments_webhook_events (id, environment, stripe_event_id, event_type, livemode,
         stripe_account_id, object_type, object_id, processing_status, ignored_reason, attempt_count, payload,
         received_at, processed_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $13, $12, $13)
     ON CONFLICT (environment, stripe_event_id) DO NOTHING RETURNING ",
    event_columns!()
);

/// The parts of an event the table indexes.
pub(crate) struct NewEvent<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
    pub livemode: bool,
    pub account: Option<&'a str>,
    pub object_type: Option<&'a str>,
    pub object_id: Option<&'a str>,
    pub payload: &'a str,
    /// When it was received (Unix ms); `None`: now.
    pub received_at: Option<i64>,
}

/// What a delivery found when it tried to claim an event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// This delivery owns the event now (new, failed before, or abandoned): process it.
    Claimed,
    /// Another delivery claimed it less than [`CLAIM_LEASE_MS`] ago and has not finished.
    InFlight,
    /// It was processed or ignored already.
    Done,
}

type EventInsert<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds `$1`…`$8` of [`CLAIM_SQL`] and [`RECORD_SQL`]: a new row's id and the event's indexed parts.
fn bind_event<'q>(query: EventInsert<'q>, env: Environment, e: &NewEvent<'q>) -> EventInsert<'q> {
    query
        .bind(new_id())
        .bind(env.as_str())
        .bind(e.id)
        .bind(e.event_type)
        .bind(i64::from(e.livemode))
        .bind(e.account)
        .bind(e.object_type)
        .bind(e.object_id)
}

/// Claims an event for processing: inserts it, or takes over a failed one or a pending one whose
/// claim is older than [`CLAIM_LEASE_MS`].
pub(crate) async fn claim(conn: &mut AnyConnection, env: Environment, e: &NewEvent<'_>) -> EngineResult<Claim> {
    let now = now_ms();
    let inserted = bind_event(sqlx::query(CLAIM_SQL), env, e)
        .bind(e.payload)
        .bind(e.received_at.unwrap_or(now))
        .bind(now)
        .execute(&mut *conn)
        .await?;
    if inserted.rows_affected() > 0 {
        return Ok(Claim::Claimed);
    }
    if take_over(conn, env, e.id, e.payload, now).await? {
        return Ok(Claim::Claimed);
    }
    let status: Option<String> =
        sqlx::query_scalar(EVENT_STATUS_SQL).bind(env.as_str()).bind(e.id).fetch_optional(&mut *conn).await?;
    Ok(match status.map(ProcessingStatus::from) {
        Some(ProcessingStatus::Processed | ProcessingStatus::Ignored) => Claim::Done,
        // Pending within its lease, or failed and re-claimed by someone else meanwhile.
        _ => Claim::InFlight,
    })
}

/// Takes over a failed event, or a pending one whose claim expired, as of `now` (`payload`, the
/// redelivered event, replaces the stored one). Atomic, so of several deliveries and sweepers
/// exactly one wins.
async fn take_over(
    conn: &mut AnyConnection,
    env: Environment,
    id: &str,
    payload: &str,
    now: i64,
) -> EngineResult<bool> {
    let taken = sqlx::query(TAKE_OVER_SQL)
        .bind(payload)
        .bind(now)
        .bind(env.as_str())
        .bind(id)
        .bind(now - CLAIM_LEASE_MS)
        .execute(&mut *conn)
        .await?;
    Ok(taken.rows_affected() > 0)
}

/// Pending events whose claim expired (oldest first, at most `limit`), for the sweeper.
pub(crate) async fn abandoned(conn: &mut AnyConnection, env: Environment, limit: i64) -> EngineResult<Vec<String>> {
    let ids = sqlx::query_scalar(
        "SELECT stripe_event_id FROM payments_webhook_events
         WHERE environment = $1 AND processing_status = 'pending' AND updated_at < $2
         ORDER BY updated_at LIMIT $3",
    )
    .bind(env.as_str())
    .bind(now_ms() - CLAIM_LEASE_MS)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids)
}

/// The sweeper's claim on an abandoned event: its stored payload when this caller took it over.
pub(crate) async fn take_over_abandoned(
    conn: &mut AnyConnection,
    env: Environment,
    id: &str,
) -> EngineResult<Option<String>> {
    // Only pending rows: a failed event waits for Stripe's redelivery or an explicit reprocess,
    // as it always did.
    let now = now_ms();
    let payload: Option<String> = sqlx::query_scalar(
        "UPDATE payments_webhook_events SET attempt_count = attempt_count + 1, updated_at = $1
         WHERE environment = $2 AND stripe_event_id = $3 AND processing_status = 'pending' AND updated_at < $4
         RETURNING payload",
    )
    .bind(now)
    .bind(env.as_str())
    .bind(id)
    .bind(now - CLAIM_LEASE_MS)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(payload)
}

/// Marks a stored event pending again for an explicit re-processing.
pub(crate) async fn restart(conn: &mut AnyConnection, env: Environment, id: &str) -> EngineResult<Option<String>> {
    let row = sqlx::query(
        "UPDATE payments_webhook_events SET processing_status = 'pending', attempt_count = attempt_count + 1,
             last_error = NULL, ignored_reason = NULL, processed_at = NULL, updated_at = $1
         WHERE environment = $2 AND stripe_event_id = $3 RETURNING payload",
    )
    .bind(now_ms())
    .bind(env.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => Some(r.try_get("payload")?),
        None => None,
    })
}

/// What processing an event did, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It changed the mirror.
    Handled,
    /// It changed nothing, for this reason (recorded, so the event log can say why).
    Ignored(IgnoredReason),
}

/// The status, ignored reason and processing time an outcome is recorded with, as of `now`.
fn recorded(
    outcome: Result<Outcome, &str>,
    now: i64,
) -> (ProcessingStatus, Option<&str>, Option<&'static str>, Option<i64>) {
    match outcome {
        Ok(Outcome::Handled) => (ProcessingStatus::Processed, None, None, Some(now)),
        Ok(Outcome::Ignored(reason)) => (ProcessingStatus::Ignored, None, Some(reason.as_str()), Some(now)),
        Err(e) => (ProcessingStatus::Failed, Some(e), None, None),
    }
}

/// Which of `ids` (`$2`…, `ids` of them) are stored already in environment `$1`: seeks on the
/// unique key, one per id.
pub fn stored_sql(ids: usize) -> String {
    let placeholders: Vec<String> = (0..ids).map(|i| format!("${}", i + 2)).collect();
    format!(
        "SELECT stripe_event_id FROM payments_webhook_events WHERE environment = $1 AND stripe_event_id IN ({})",
        placeholders.join(", ")
    )
}

/// Which of `ids` are stored already in `env`: the events of a batch that must be claimed
/// (they may be done, failed or in flight) rather than [`record`]ed as new.
pub(crate) async fn stored<'a>(
    conn: &mut AnyConnection,
    env: Environment,
    ids: impl ExactSizeIterator<Item = &'a str>,
) -> EngineResult<std::collections::HashSet<String>> {
    if ids.len() == 0 {
        return Ok(Default::default());
    }
    let sql = stored_sql(ids.len());
    let mut query = sqlx::query_scalar(&sql).bind(env.as_str());
    for id in ids {
        query = query.bind(id);
    }
    Ok(query.fetch_all(&mut *conn).await?.into_iter().collect())
}

/// Records a new event that was applied (or ignored) in the caller's transaction, with its
/// outcome; the row as recorded, or `None` if the event is stored already (another delivery got
/// there first: the caller must roll back what it applied).
pub(crate) async fn record(
    conn: &mut AnyConnection,
    env: Environment,
    e: &NewEvent<'_>,
    outcome: Outcome,
) -> EngineResult<Option<WebhookEvent>> {
    let now = now_ms();
    let (status, _, reason, processed) = recorded(Ok(outcome), now);
    let row = bind_event(sqlx::query(RECORD_SQL), env, e)
        .bind(status.as_str())
        .bind(reason)
        .bind(e.payload)
        .bind(e.received_at.unwrap_or(now))
        .bind(processed.unwrap_or(now))
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Records the outcome of processing; the event's row as recorded (`None`: no such event).
pub(crate) async fn finish(
    conn: &mut AnyConnection,
    env: Environment,
    id: &str,
    outcome: Result<Outcome, &str>,
) -> EngineResult<Option<WebhookEvent>> {
    let now = now_ms();
    let (status, error, reason, processed) = recorded(outcome, now);
    let row = sqlx::query(FINISH_SQL)
        .bind(status.as_str())
        .bind(error)
        .bind(reason)
        .bind(processed)
        .bind(now)
        .bind(env.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The stored row of an event.
pub(crate) async fn get(conn: &mut AnyConnection, env: Environment, id: &str) -> EngineResult<Option<WebhookEvent>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payments_webhook_events WHERE environment = $1 AND stripe_event_id = $2"
    ))
    .bind(env.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}
