//! `payments_payment_history`: one non-refund row per PaymentIntent / Checkout Session /
//! Invoice, one row per Refund (partial unique indexes), guarded by `source_version`.

use payments_model::{PaymentKind, PaymentStatus};
use sqlx::{AnyConnection, Row};

use crate::environment::Environment;
use crate::error::EngineResult;
use crate::store::new_id;
use crate::store::rollups::{self, HistoryShare};
use crate::time::now_ms;

/// A history row as projected from a Stripe object. `None` fields keep the stored value.
/// Kind and status are typed (issue #12); the SQL binds their spelling.
#[derive(Debug, Clone)]
pub(crate) struct HistoryRecord {
    pub kind: PaymentKind,
    pub status: PaymentStatus,
    pub subject: Option<(String, String)>,
    pub stripe_customer_id: Option<String>,
    pub customer_email_snapshot: Option<String>,
    pub stripe_checkout_session_id: Option<String>,
    pub stripe_payment_intent_id: Option<String>,
    pub stripe_invoice_id: Option<String>,
    pub stripe_charge_id: Option<String>,
    pub stripe_refund_id: Option<String>,
    pub stripe_subscription_id: Option<String>,
    pub stripe_product_id: Option<String>,
    pub stripe_price_id: Option<String>,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub description: Option<String>,
    pub paid_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub refunded_at: Option<i64>,
    pub stripe_created_at: Option<i64>,
    pub raw: String,
    /// The refunded amount a new row starts with: 0 where the caller refreshes the row's refund
    /// state right after writing it ([`refresh_written`]), so that a new payment without refunds
    /// (nearly all of them) needs no second write; else unknown (`NULL`). An update keeps the
    /// stored amount: the refund state is [`refresh_refund_state`]'s alone.
    pub amount_refunded: Option<i64>,
    /// Without a subject, the row takes its customer's mapped subject (if any) in the write's
    /// own statement: an invoice's subject, where its metadata names none. (Read beforehand,
    /// it was one statement more per invoice event.)
    pub subject_from_customer: bool,
}

impl HistoryRecord {
    /// A record of `kind` in `status` with nothing else known yet (the projections fill in the rest).
    pub fn new(kind: PaymentKind, status: PaymentStatus) -> Self {
        HistoryRecord {
            kind,
            status,
            subject: None,
            stripe_customer_id: None,
            customer_email_snapshot: None,
            stripe_checkout_session_id: None,
            stripe_payment_intent_id: None,
            stripe_invoice_id: None,
            stripe_charge_id: None,
            stripe_refund_id: None,
            stripe_subscription_id: None,
            stripe_product_id: None,
            stripe_price_id: None,
            amount: None,
            currency: None,
            description: None,
            paid_at: None,
            failed_at: None,
            refunded_at: None,
            stripe_created_at: None,
            raw: String::new(),
            amount_refunded: None,
            subject_from_customer: false,
        }
    }
}

// The write path's lookups. Each `OR` of the reference is split into one seek per key (`UNION
// ALL`, or `UNION` where a row matching two keys must count once), so that every branch uses
// an index: an `OR` across columns made both engines scan the whole table, inside the write
// transaction (5 webhooks/s at 1M rows). Public, for the plan tests (`tests/api/write_plans.rs`).

/// The stored refund row of a refund id (`$1` environment, `$2` refund id).
pub const FIND_REFUND_SQL: &str = "SELECT id, COALESCE(source_version, 0) AS v, type, status, currency, amount,
         stripe_created_at, created_at FROM payments_payment_history
     WHERE environment = $1 AND stripe_refund_id = $2";

/// The oldest non-refund row of a checkout session (`$2`), PaymentIntent (`$3`) or invoice (`$4`).
pub const FIND_PAYMENT_SQL: &str = "SELECT id, v, type, status, currency, amount, stripe_created_at, created_at FROM (
         SELECT id, COALESCE(source_version, 0) AS v, type, status, currency, amount, stripe_created_at, created_at
             FROM payments_payment_history
             WHERE environment = $1 AND type <> 'refund' AND stripe_checkout_session_id = $2
         UNION ALL SELECT id, COALESCE(source_version, 0) AS v, type, status, currency, amount, stripe_created_at,
             created_at FROM payments_payment_history
             WHERE environment = $1 AND type <> 'refund' AND stripe_payment_intent_id = $3
         UNION ALL SELECT id, COALESCE(source_version, 0) AS v, type, status, currency, amount, stripe_created_at,
             created_at FROM payments_payment_history
             WHERE environment = $1 AND type <> 'refund' AND stripe_invoice_id = $4
     ) AS m ORDER BY created_at, id LIMIT 1";

/// [`FIND_ORIGINAL_SQL`]'s text, as a macro so that statements can `concat!` it.
macro_rules! find_original_sql {
    () => {
        "SELECT id FROM (
         SELECT id, created_at FROM payments_payment_history
             WHERE environment = $1 AND type <> 'refund' AND stripe_payment_intent_id = $2
         UNION ALL SELECT id, created_at FROM payments_payment_history
             WHERE environment = $1 AND type <> 'refund' AND stripe_charge_id = $3
     ) AS m ORDER BY created_at, id LIMIT 1"
    };
}

/// The oldest non-refund row paid by a PaymentIntent (`$2`) or charge (`$3`).
pub const FIND_ORIGINAL_SQL: &str = find_original_sql!();

/// The columns of an [`Original`], as a macro so that statements can `concat!` them.
macro_rules! original_columns {
    () => {
        "id, stripe_payment_intent_id, stripe_charge_id, amount, amount_refunded, failed_at, status, type, currency, \
         stripe_created_at, created_at"
    };
}

/// The original payment's fields the refund state derives from (`$1` its id).
pub const ORIGINAL_SQL: &str = concat!("SELECT ", original_columns!(), " FROM payments_payment_history WHERE id = $1");

/// [`FIND_ORIGINAL_SQL`] and [`ORIGINAL_SQL`] in one statement: the original's row, sought by
/// the id its PaymentIntent or charge finds. PostgreSQL appends `FOR UPDATE`, which locks the
/// row found (a `UNION` of rows could not be locked; it took two statements there).
pub const FIND_ORIGINAL_ROW_SQL: &str =
    concat!("SELECT ", original_columns!(), " FROM payments_payment_history WHERE id = (", find_original_sql!(), ")");

/// The ids of the refund rows of a PaymentIntent or charge, each once, for `id IN (…)`; the
/// placeholders of environment, PaymentIntent and charge are the arguments.
macro_rules! refund_ids {
    ($env:literal, $pi:literal, $charge:literal) => {
        concat!(
            "SELECT id FROM payments_payment_history WHERE environment = ",
            $env,
            " AND type = 'refund' AND stripe_payment_intent_id = ",
            $pi,
            " UNION SELECT id FROM payments_payment_history WHERE environment = ",
            $env,
            " AND type = 'refund' AND stripe_charge_id = ",
            $charge
        )
    };
}

/// The refunded total and last refund time of a PaymentIntent (`$2`) or charge (`$3`), and how
/// many refund rows it has in any status (none: no back-fill to run).
pub const REFUNDED_TOTAL_SQL: &str = concat!(
    "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'refunded' THEN amount ELSE 0 END), 0) AS BIGINT) AS total,
         MAX(CASE WHEN status = 'refunded' THEN refunded_at END) AS last, COUNT(*) AS refund_rows
     FROM payments_payment_history WHERE id IN (",
    refund_ids!("$1", "$2", "$3"),
    ")"
);

/// Back-fills the refund rows of a PaymentIntent (`$3`) or charge (`$4`) from the original (`$1`).
pub const REFUND_BACKFILL_SQL: &str = concat!(
    "UPDATE payments_payment_history SET
         subject_type = COALESCE(subject_type, (SELECT o.subject_type FROM payments_payment_history o WHERE o.id = $1)),
         subject_id = COALESCE(subject_id, (SELECT o.subject_id FROM payments_payment_history o WHERE o.id = $1)),
         stripe_customer_id = COALESCE(stripe_customer_id, (SELECT o.stripe_customer_id FROM payments_payment_history o WHERE o.id = $1)),
         customer_email_snapshot = COALESCE(customer_email_snapshot, (SELECT o.customer_email_snapshot FROM payments_payment_history o WHERE o.id = $1)),
         stripe_invoice_id = COALESCE(stripe_invoice_id, (SELECT o.stripe_invoice_id FROM payments_payment_history o WHERE o.id = $1)),
         stripe_subscription_id = COALESCE(stripe_subscription_id, (SELECT o.stripe_subscription_id FROM payments_payment_history o WHERE o.id = $1)),
         stripe_product_id = COALESCE(stripe_product_id, (SELECT o.stripe_product_id FROM payments_payment_history o WHERE o.id = $1)),
         stripe_price_id = COALESCE(stripe_price_id, (SELECT o.stripe_price_id FROM payments_payment_history o WHERE o.id = $1))
     WHERE id IN (",
    refund_ids!("$2", "$3", "$4"),
    ")"
);

/// A new row (`$1`…`$28`, bound by [`write`]), unless another has its natural key; returns the
/// refund rows of its PaymentIntent (`$10`) or charge (`$12`). Public, for the plan tests.
pub const INSERT_SQL: &str = concat!(
    "INSERT INTO payments_payment_history (id, environment, type, status, subject_type, subject_id,
         stripe_customer_id, customer_email_snapshot, stripe_checkout_session_id, stripe_payment_intent_id,
         stripe_invoice_id, stripe_charge_id, stripe_refund_id, stripe_subscription_id, stripe_product_id,
         stripe_price_id, amount, amount_refunded, currency, description, paid_at, failed_at, refunded_at,
         stripe_created_at, raw, created_at, updated_at, source_version)
     VALUES ($1, $2, $3, $4,
         COALESCE($5, (SELECT m.subject_type FROM payments_customer_mappings m
             WHERE $28 = 1 AND m.environment = $2 AND m.stripe_customer_id = $7)),
         COALESCE($6, (SELECT m.subject_id FROM payments_customer_mappings m
             WHERE $28 = 1 AND m.environment = $2 AND m.stripe_customer_id = $7)),
         $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $27, $18, $19, $20,
         $21, $22, $23, $24, $25, $25, $26)
     ON CONFLICT DO NOTHING
     RETURNING (SELECT COUNT(*) FROM payments_payment_history WHERE id IN (",
    refund_ids!("$2", "$10", "$12"),
    ")) AS refund_rows"
);

/// A found row again, locked until the commit (PostgreSQL; `$1` its id).
const LOCK_ROW_SQL: &str = "SELECT id, COALESCE(source_version, 0) AS v, type, status, currency, amount,
         stripe_created_at, created_at FROM payments_payment_history WHERE id = $1 FOR UPDATE";

/// A stored row's id, version and the values its overview share derives from.
struct Stored {
    id: String,
    version: i64,
    currency: Option<String>,
    amount: Option<i64>,
    stripe_created_at: Option<i64>,
    created_at: i64,
    share: HistoryShare,
}

/// The row this record would update: by refund id for refunds, else the non-refund row of the
/// same checkout session, PaymentIntent or invoice.
async fn find(conn: &mut AnyConnection, env: Environment, r: &HistoryRecord) -> EngineResult<Option<Stored>> {
    let row = if r.kind == PaymentKind::Refund {
        sqlx::query(FIND_REFUND_SQL)
            .bind(env.as_str())
            .bind(r.stripe_refund_id.as_deref())
            .fetch_optional(&mut *conn)
            .await?
    } else {
        sqlx::query(FIND_PAYMENT_SQL)
            .bind(env.as_str())
            .bind(r.stripe_checkout_session_id.as_deref())
            .bind(r.stripe_payment_intent_id.as_deref())
            .bind(r.stripe_invoice_id.as_deref())
            .fetch_optional(&mut *conn)
            .await?
    };
    let Some(mut row) = row else { return Ok(None) };
    if rollups::concurrent_writers(conn) {
        // PostgreSQL: another delivery may be writing this row. Wait for it, and read the row
        // as it committed: its share and version are what this write changes.
        let id: String = row.try_get("id")?;
        row = sqlx::query(LOCK_ROW_SQL).bind(&id).fetch_one(&mut *conn).await?;
    }
    Ok(Some(Stored {
        id: row.try_get("id")?,
        version: row.try_get("v")?,
        currency: row.try_get("currency")?,
        amount: row.try_get("amount")?,
        stripe_created_at: row.try_get("stripe_created_at")?,
        created_at: row.try_get("created_at")?,
        share: HistoryShare::of_row(&row)?,
    }))
}

/// The fields of a payment row its refund state derives from ([`refresh_refund_state`]).
#[derive(Debug, Clone)]
pub(crate) struct Original {
    id: String,
    pi: Option<String>,
    charge: Option<String>,
    amount: Option<i64>,
    amount_refunded: Option<i64>,
    failed_at: Option<i64>,
    status: PaymentStatus,
    kind: PaymentKind,
    share: HistoryShare,
}

impl Original {
    /// An original read by [`ORIGINAL_SQL`] or [`FIND_ORIGINAL_ROW_SQL`].
    fn of_row(row: &sqlx::any::AnyRow) -> EngineResult<Original> {
        Ok(Original {
            id: row.try_get("id")?,
            pi: row.try_get("stripe_payment_intent_id")?,
            charge: row.try_get("stripe_charge_id")?,
            amount: row.try_get("amount")?,
            amount_refunded: row.try_get("amount_refunded")?,
            failed_at: row.try_get("failed_at")?,
            status: PaymentStatus::from(row.try_get::<String, _>("status")?),
            kind: PaymentKind::from(row.try_get::<String, _>("type")?),
            share: HistoryShare::of_row(row)?,
        })
    }
}

/// What [`write`] did.
#[derive(Debug, Clone)]
pub(crate) enum Written {
    /// Inserted a new row, whose values are known without reading it back, and counted the
    /// refund rows of its PaymentIntent or charge in the same statement.
    Inserted { original: Original, refund_rows: i64 },
    /// Updated the stored row with this id.
    Updated(String),
}

impl Written {
    /// The written row's id.
    pub(crate) fn id(&self) -> &str {
        match self {
            Written::Inserted { original, .. } => &original.id,
            Written::Updated(id) => id,
        }
    }
}

/// Writes the record unless the stored row reflects a newer event. Returns what it wrote.
pub(crate) async fn write(
    conn: &mut AnyConnection,
    env: Environment,
    r: &HistoryRecord,
    version: i64,
) -> EngineResult<Option<Written>> {
    for _ in 0..2 {
        if let Some(stored) = find(conn, env, r).await? {
            if stored.version > version {
                return Ok(None);
            }
            update(conn, &stored.id, r, version).await?;
            // The update keeps the stored value where the record has none.
            let after = HistoryShare::new(
                r.kind.as_str(),
                r.status.as_str(),
                r.currency.as_deref().or(stored.currency.as_deref()),
                r.amount.or(stored.amount),
                r.stripe_created_at.or(stored.stripe_created_at),
                stored.created_at,
            );
            rollups::history_changed(conn, env, Some(&stored.share), Some(&after)).await?;
            return Ok(Some(Written::Updated(stored.id)));
        }
        let id = new_id();
        let now = now_ms();
        // The insert returns how many refund rows its PaymentIntent or charge has (a refund can
        // come first): nearly always none, and then the refund state needs no statement of its
        // own ([`refresh_written`]). No row: another writer has this natural key.
        let inserted = sqlx::query_scalar::<_, i64>(INSERT_SQL)
            .bind(&id)
            .bind(env.as_str())
            .bind(r.kind.as_str())
            .bind(r.status.as_str())
            .bind(r.subject.as_ref().map(|s| s.0.as_str()))
            .bind(r.subject.as_ref().map(|s| s.1.as_str()))
            .bind(r.stripe_customer_id.as_deref())
            .bind(r.customer_email_snapshot.as_deref())
            .bind(r.stripe_checkout_session_id.as_deref())
            .bind(r.stripe_payment_intent_id.as_deref())
            .bind(r.stripe_invoice_id.as_deref())
            .bind(r.stripe_charge_id.as_deref())
            .bind(r.stripe_refund_id.as_deref())
            .bind(r.stripe_subscription_id.as_deref())
            .bind(r.stripe_product_id.as_deref())
            .bind(r.stripe_price_id.as_deref())
            .bind(r.amount)
            .bind(r.currency.as_deref())
            .bind(r.description.as_deref())
            .bind(r.paid_at)
            .bind(r.failed_at)
            .bind(r.refunded_at)
            .bind(r.stripe_created_at)
            .bind(&r.raw)
            .bind(now)
            .bind(version)
            .bind(r.amount_refunded)
            .bind(i64::from(r.subject_from_customer))
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(refund_rows) = inserted {
            let share = HistoryShare::new(
                r.kind.as_str(),
                r.status.as_str(),
                r.currency.as_deref(),
                r.amount,
                r.stripe_created_at,
                now,
            );
            rollups::history_changed(conn, env, None, Some(&share)).await?;
            let original = Original {
                id,
                pi: r.stripe_payment_intent_id.clone(),
                charge: r.stripe_charge_id.clone(),
                amount: r.amount,
                amount_refunded: r.amount_refunded,
                failed_at: r.failed_at,
                status: r.status.clone(),
                kind: r.kind.clone(),
                share,
            };
            return Ok(Some(Written::Inserted { original, refund_rows }));
        }
        // Lost a race with another writer of the same natural key: update its row instead.
    }
    Ok(None)
}

async fn update(conn: &mut AnyConnection, id: &str, r: &HistoryRecord, version: i64) -> EngineResult<()> {
    sqlx::query(
        "UPDATE payments_payment_history SET type = $1, status = $2,
             subject_type = COALESCE($3, (SELECT m.subject_type FROM payments_customer_mappings m
                 WHERE $25 = 1 AND m.environment = payments_payment_history.environment AND m.stripe_customer_id = $5),
                 subject_type),
             subject_id = COALESCE($4, (SELECT m.subject_id FROM payments_customer_mappings m
                 WHERE $25 = 1 AND m.environment = payments_payment_history.environment AND m.stripe_customer_id = $5),
                 subject_id),
             stripe_customer_id = COALESCE($5, stripe_customer_id),
             customer_email_snapshot = COALESCE($6, customer_email_snapshot),
             stripe_checkout_session_id = COALESCE($7, stripe_checkout_session_id),
             stripe_payment_intent_id = COALESCE($8, stripe_payment_intent_id),
             stripe_invoice_id = COALESCE($9, stripe_invoice_id), stripe_charge_id = COALESCE($10, stripe_charge_id),
             stripe_subscription_id = COALESCE($11, stripe_subscription_id),
             stripe_product_id = COALESCE($12, stripe_product_id), stripe_price_id = COALESCE($13, stripe_price_id),
             amount = COALESCE($14, amount), currency = COALESCE($15, currency),
             description = COALESCE($16, description), paid_at = COALESCE($17, paid_at),
             failed_at = COALESCE($18, failed_at), refunded_at = COALESCE($19, refunded_at),
             stripe_created_at = COALESCE($20, stripe_created_at), raw = $21, updated_at = $22, source_version = $23
         WHERE id = $24",
    )
    .bind(r.kind.as_str())
    .bind(r.status.as_str())
    .bind(r.subject.as_ref().map(|s| s.0.as_str()))
    .bind(r.subject.as_ref().map(|s| s.1.as_str()))
    .bind(r.stripe_customer_id.as_deref())
    .bind(r.customer_email_snapshot.as_deref())
    .bind(r.stripe_checkout_session_id.as_deref())
    .bind(r.stripe_payment_intent_id.as_deref())
    .bind(r.stripe_invoice_id.as_deref())
    .bind(r.stripe_charge_id.as_deref())
    .bind(r.stripe_subscription_id.as_deref())
    .bind(r.stripe_product_id.as_deref())
    .bind(r.stripe_price_id.as_deref())
    .bind(r.amount)
    .bind(r.currency.as_deref())
    .bind(r.description.as_deref())
    .bind(r.paid_at)
    .bind(r.failed_at)
    .bind(r.refunded_at)
    .bind(r.stripe_created_at)
    .bind(&r.raw)
    .bind(now_ms())
    .bind(version)
    .bind(id)
    .bind(i64::from(r.subject_from_customer))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The non-refund row paid by a PaymentIntent or charge.
pub(crate) async fn find_original(
    conn: &mut AnyConnection,
    env: Environment,
    pi: Option<&str>,
    charge: Option<&str>,
) -> EngineResult<Option<String>> {
    let id = sqlx::query_scalar::<_, String>(FIND_ORIGINAL_SQL)
        .bind(env.as_str())
        .bind(pi)
        .bind(charge)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(id)
}

/// `refreshOriginalPaymentRefundState`: the original row's refunded amount and status from its
/// refund rows, and the refund rows' missing context from the original.
pub(crate) async fn refresh_refund_state(
    conn: &mut AnyConnection,
    env: Environment,
    original: &str,
) -> EngineResult<()> {
    // PostgreSQL: locked, so that two refunds of one payment applied at once each read the
    // state the other committed (its status is what the overview's share moves).
    let lock = if rollups::concurrent_writers(conn) { " FOR UPDATE" } else { "" };
    let row = sqlx::query(&format!("{ORIGINAL_SQL}{lock}")).bind(original).fetch_one(&mut *conn).await?;
    refresh(conn, env, Original::of_row(&row)?, None).await
}

/// [`refresh_refund_state`] of the original payment of a PaymentIntent or charge, if it has one
/// ([`find_original`]): found, read (and on PostgreSQL locked) in one statement.
pub(crate) async fn refresh_original_of(
    conn: &mut AnyConnection,
    env: Environment,
    pi: Option<&str>,
    charge: Option<&str>,
) -> EngineResult<()> {
    // PostgreSQL: locked, as in `refresh_refund_state`.
    let lock = if rollups::concurrent_writers(conn) { " FOR UPDATE" } else { "" };
    let row = sqlx::query(&format!("{FIND_ORIGINAL_ROW_SQL}{lock}"))
        .bind(env.as_str())
        .bind(pi)
        .bind(charge)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => refresh(conn, env, Original::of_row(&row)?, None).await,
        None => Ok(()),
    }
}

/// [`refresh_refund_state`] of a row [`write`] wrote: a row it inserted is not read back (no
/// other writer can have changed it: it is not committed yet), nor are its refunds summed when
/// the insert counted none.
pub(crate) async fn refresh_written(conn: &mut AnyConnection, env: Environment, written: &Written) -> EngineResult<()> {
    match written {
        Written::Inserted { original, refund_rows: 0 } => {
            refresh(conn, env, original.clone(), Some(Refunds::NONE)).await
        }
        Written::Inserted { original, .. } => refresh(conn, env, original.clone(), None).await,
        Written::Updated(id) => refresh_refund_state(conn, env, id).await,
    }
}

/// The refunds of a payment, as [`REFUNDED_TOTAL_SQL`] sums them.
struct Refunds {
    /// The refunded amount.
    total: i64,
    /// When the last refund succeeded.
    last: Option<i64>,
    /// Refund rows in any status.
    rows: i64,
}

impl Refunds {
    /// A payment without refund rows.
    const NONE: Refunds = Refunds { total: 0, last: None, rows: 0 };
}

/// The refund state of `original` from its refund rows (`known`, else summed here), written
/// only where it changed.
async fn refresh(
    conn: &mut AnyConnection,
    env: Environment,
    original: Original,
    known: Option<Refunds>,
) -> EngineResult<()> {
    let Original { id: original, pi, charge, amount, amount_refunded: stored_refunded, failed_at, status, kind, share } =
        original;
    let Refunds { total, last, rows: refund_rows } = match known {
        Some(known) => known,
        None => {
            let row = sqlx::query(REFUNDED_TOTAL_SQL)
                .bind(env.as_str())
                .bind(pi.as_deref())
                .bind(charge.as_deref())
                .fetch_one(&mut *conn)
                .await?;
            Refunds { total: row.try_get("total")?, last: row.try_get("last")?, rows: row.try_get("refund_rows")? }
        }
    };
    let new_status = if total > 0 && amount.is_some_and(|a| total >= a) {
        PaymentStatus::Refunded
    } else if total > 0 {
        PaymentStatus::PartiallyRefunded
    } else if matches!(status, PaymentStatus::Refunded | PaymentStatus::PartiallyRefunded) {
        if failed_at.is_some() {
            PaymentStatus::Failed
        } else {
            PaymentStatus::Succeeded
        }
    } else {
        status.clone()
    };
    // Most payments have no refund: then, once their refunded amount reads 0, there is
    // nothing to write (each statement here runs inside the webhook writer's transaction).
    if refund_rows == 0 && stored_refunded == Some(0) && new_status == status {
        return Ok(());
    }
    sqlx::query(
        "UPDATE payments_payment_history SET amount_refunded = $1, status = $2, refunded_at = COALESCE($3, refunded_at),
             updated_at = $4 WHERE id = $5",
    )
    .bind(total)
    .bind(new_status.as_str())
    .bind(last)
    .bind(now_ms())
    .bind(&original)
    .execute(&mut *conn)
    .await?;
    rollups::history_changed(conn, env, Some(&share), Some(&share.with_status(kind.as_str(), new_status.as_str())))
        .await?;
    if refund_rows == 0 {
        return Ok(());
    }
    // Back-fill the refunds' context from the original.
    sqlx::query(REFUND_BACKFILL_SQL)
        .bind(&original)
        .bind(env.as_str())
        .bind(pi.as_deref())
        .bind(charge.as_deref())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The PaymentIntent an `invoice_payment.paid` recorded for `invoice`, if any. Writes the link
/// row (without a PaymentIntent when there is none yet), so that an `invoice_payment.paid` being
/// applied at the same moment waits for this transaction, or this one for it, on that row's lock;
/// each then sees the other's work (see the migration `20261204000002_invoice_payments.sql`).
pub(crate) async fn meet_invoice_payment(
    conn: &mut AnyConnection,
    env: Environment,
    invoice: &str,
) -> EngineResult<Option<String>> {
    let pi: Option<Option<String>> = sqlx::query_scalar(
        "INSERT INTO payments_invoice_payments (environment, stripe_invoice_id, stripe_payment_intent_id, created_at)
         VALUES ($1, $2, NULL, $3)
         ON CONFLICT (environment, stripe_invoice_id) DO UPDATE SET created_at = payments_invoice_payments.created_at
         RETURNING stripe_payment_intent_id",
    )
    .bind(env.as_str())
    .bind(invoice)
    .bind(now_ms())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(pi.flatten())
}

/// The paid history row of an invoice that has no PaymentIntent yet (a seek on the unique
/// invoice index).
pub const INVOICE_WITHOUT_PAYMENT_SQL: &str = "SELECT id FROM payments_payment_history
     WHERE environment = $1 AND stripe_invoice_id = $2 AND type <> 'refund' AND status <> 'failed'
         AND stripe_payment_intent_id IS NULL";

/// Records that `pi` paid `invoice`, and gives it to the invoice's paid history row when that
/// row exists without one; returns that row's id (whose refund state the caller refreshes).
pub(crate) async fn record_invoice_payment(
    conn: &mut AnyConnection,
    env: Environment,
    invoice: &str,
    pi: &str,
) -> EngineResult<Option<String>> {
    sqlx::query(
        "INSERT INTO payments_invoice_payments (environment, stripe_invoice_id, stripe_payment_intent_id, created_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (environment, stripe_invoice_id) DO UPDATE SET stripe_payment_intent_id = excluded.stripe_payment_intent_id",
    )
    .bind(env.as_str())
    .bind(invoice)
    .bind(pi)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    let row: Option<String> = sqlx::query_scalar(INVOICE_WITHOUT_PAYMENT_SQL)
        .bind(env.as_str())
        .bind(invoice)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(id) = &row {
        sqlx::query("UPDATE payments_payment_history SET stripe_payment_intent_id = $1, updated_at = $2 WHERE id = $3")
            .bind(pi)
            .bind(now_ms())
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(row)
}

/// How many payment rows (every kind but refunds) and refund rows `env`'s history holds.
pub(crate) async fn count(conn: &mut AnyConnection, env: Environment) -> EngineResult<(i64, i64)> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN type <> 'refund' THEN 1 ELSE 0 END), 0) AS BIGINT) AS payments,
             CAST(COALESCE(SUM(CASE WHEN type = 'refund' THEN 1 ELSE 0 END), 0) AS BIGINT) AS refunds
         FROM payments_payment_history WHERE environment = $1",
    )
    .bind(env.as_str())
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.try_get("payments")?, row.try_get("refunds")?))
}
