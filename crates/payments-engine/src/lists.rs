//! Admin lists (21)–(23) and the webhook-events list, with additive keyset pagination and filters.
//!
//! Every statement a list sends is built by a pure function below and is reachable from
//! [`ListShape::statement`], which the plan tests (`tests/api/plans.rs`) explain on SQLite and
//! PostgreSQL: each shape must seek an index in its ORDER BY order and stop at the limit, never
//! scan the table or sort the whole result. A list query with no [`ListShape`] is a defect.
//! The indexes are in `migrations/20261202000001_list_indexes.sql`; sort expressions here are
//! spelled exactly as there, since both databases match expression indexes textually.

use std::collections::{BTreeMap, HashMap};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::engine::Engine;
use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};
use crate::model::{Metadata, WebhookEvent};
use crate::overview::{statement as overview, Figure};
use crate::store::events;
use crate::time::{iso_ms, iso_opt};
use payments_model::{
    Cursor, CustomerListFilters, CustomerListItem, DayCount, EventListFilters, FilterError, HistoryListFilters,
    HistoryObject, HistorySummary, Page, Paging, PaymentHistory, PaymentStatus, QueryFilters, Subscription,
    SubscriptionItem, SubscriptionListFilters, TimeBound, HISTORY_SUMMARY_ROWS,
};

/// Options of a list: page size, subject filter, cursor and the list's additive filters `F`
/// ([`HistoryListFilters`], [`SubscriptionListFilters`], [`CustomerListFilters`] or
/// [`EventListFilters`]).
#[derive(Debug, Clone, Default)]
pub struct ListOptions<F> {
    /// 1..=100.
    pub limit: i64,
    /// `subjectType` + `subjectId`.
    pub subject: Option<(String, String)>,
    /// Unpaged (the contract's list), the first page, or the page after a previous page's
    /// `nextCursor`.
    pub cursor: Paging,
    /// The list's filters. Their values are as the query spelt them; the list refuses a bad
    /// one when it meets it (see [`QueryFilters::check`]).
    pub filters: F,
}

/// One bound value of a [`Statement`].
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// A TEXT value.
    Text(String),
    /// A BIGINT value.
    Int(i64),
}

/// A statement exactly as a list sends it: SQL text with `$n` placeholders and their values.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Statement {
    /// The SQL text.
    pub sql: String,
    /// `$1..$n`, in order.
    pub binds: Vec<Bind>,
}

impl Statement {
    pub(crate) async fn fetch(&self, pool: &sqlx::AnyPool) -> EngineResult<Vec<AnyRow>> {
        let mut q = sqlx::query(&self.sql);
        for b in &self.binds {
            q = match b {
                Bind::Text(s) => q.bind(s.as_str()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        Ok(q.fetch_all(pool).await?)
    }
}

/// The payment history's sort key, as its indexes spell it.
pub(crate) const HISTORY_AT: &str = "COALESCE(stripe_created_at, created_at)";
/// The customers' sort key, as their index spells it.
const CUSTOMER_KEY: &str = "COALESCE(email, name, stripe_customer_id)";
/// History rows that count towards a customer's payments and spend.
pub(crate) const COUNTED: &str = "type <> 'refund' AND status IN ('succeeded', 'refunded', 'partially_refunded')";

struct Sql {
    wheres: Vec<String>,
    binds: Vec<Bind>,
}

impl Sql {
    fn new(env: Environment) -> Self {
        Sql { wheres: vec!["environment = $1".into()], binds: vec![Bind::Text(env.as_str().into())] }
    }
    fn next(&self) -> usize {
        self.binds.len() + 1
    }
    fn text(&mut self, clause: &str, v: &str) {
        let n = self.next();
        self.wheres.push(clause.replace("$?", &format!("${n}")));
        self.binds.push(Bind::Text(v.to_owned()));
    }
    fn int(&mut self, clause: &str, v: i64) {
        let n = self.next();
        self.wheres.push(clause.replace("$?", &format!("${n}")));
        self.binds.push(Bind::Int(v));
    }
    /// The subject filter, then `column = $n` for each `(column, value)` with a value.
    fn equalities(&mut self, subject: &Option<(String, String)>, filters: &[(&str, Option<&str>)]) {
        if let Some((t, i)) = subject {
            self.text("subject_type = $?", t);
            self.text("subject_id = $?", i);
        }
        for (column, value) in filters {
            if let Some(v) = value {
                self.text(&format!("{column} = $?"), v);
            }
        }
    }
    /// `column IN ($a, $b, …)` over `values` (not empty).
    fn any_of(&mut self, column: &str, values: &[String]) {
        let first = self.next();
        let marks: Vec<String> = (first..first + values.len()).map(|n| format!("${n}")).collect();
        self.wheres.push(format!("{column} IN ({})", marks.join(", ")));
        self.binds.extend(values.iter().cloned().map(Bind::Text));
    }
    /// Keyset condition of a newest-first list: rows strictly after `(at, id)` in
    /// `ORDER BY at DESC, id DESC`. The redundant `at <= $n` is what lets both planners seek the
    /// index to the cursor instead of walking every earlier page (the OR alone is not a range).
    fn before(&mut self, at: &str, id_column: &str, TimeKey(t, id): TimeKey) {
        let n = self.next();
        self.wheres.push(format!("{at} <= ${n} AND ({at} < ${n} OR ({at} = ${n} AND {id_column} < ${}))", n + 1));
        self.binds.push(Bind::Int(t));
        self.binds.push(Bind::Text(id));
    }
    fn statement(self, select: &str, order: &str, limit: usize) -> Statement {
        Statement {
            sql: format!("{select} WHERE {} ORDER BY {order} LIMIT {}", self.wheres.join(" AND "), limit + 1),
            binds: self.binds,
        }
    }
}

fn bad(message: &str) -> EngineError {
    EngineError::InvalidInput(message.to_owned())
}

impl From<FilterError> for EngineError {
    /// A refused filter value is invalid input, worded as the model words it (`from: Invalid date`).
    fn from(e: FilterError) -> Self {
        EngineError::InvalidInput(e.to_string())
    }
}

/// What a list's cursor holds: the sort key of the last row shown. It travels as a JSON array
/// (a tuple struct serialises as one) in URL-safe base64, so a cursor is opaque to callers and
/// survives a query string, and its fields keep their types.
fn encode_cursor<K: Serialize>(key: &K) -> EngineResult<Cursor> {
    let json = serde_json::to_vec(key).map_err(|e| EngineError::Internal(format!("cursor: {e}")))?;
    Cursor::new(URL_SAFE_NO_PAD.encode(json)).ok_or_else(|| EngineError::Internal("cursor: empty".to_owned()))
}

/// The longest cursor accepted. Ours encode a sort key and an id (a few hundred characters at
/// most); anything longer is not one of ours, and is refused before being decoded.
pub(crate) const MAX_CURSOR_LEN: usize = 4096;

/// A list's sort key, as its cursor holds it: a tuple struct of `LEN` fields.
trait Keyset: Serialize + DeserializeOwned {
    /// How many leading values of the cursor's array the key reads.
    const LEN: usize;
}

/// The sort key a cursor holds, or invalid input: a cursor that is too long, not base64, not a
/// JSON array, or whose leading values are not this list's key (too few, wrong types, a number
/// beyond `i64`) is not one of ours. Values after the key's are ignored, as they always were:
/// a newest-first list reads a customers cursor's first two values as its position.
fn decode_cursor<K: Keyset>(c: &Cursor) -> EngineResult<K> {
    let c = c.as_str();
    if c.len() > MAX_CURSOR_LEN {
        return Err(bad("cursor: Invalid cursor"));
    }
    let bytes = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad("cursor: Invalid cursor"))?;
    let mut values: Vec<Value> = serde_json::from_slice(&bytes).map_err(|_| bad("cursor: Invalid cursor"))?;
    values.truncate(K::LEN);
    serde_json::from_value(Value::Array(values)).map_err(|_| bad("cursor: Invalid cursor"))
}

/// Where a newest-first page starts: after the row with this sort time (Unix ms) and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TimeKey(i64, String);

impl Keyset for TimeKey {
    const LEN: usize = 2;
}

/// A newest-first list's cursor, decoded.
fn time_cursor<F>(o: &ListOptions<F>) -> EngineResult<Option<TimeKey>> {
    o.cursor.cursor().map(decode_cursor).transpose()
}

/// The customers list's cursor, decoded.
fn customer_cursor(o: &ListOptions<CustomerListFilters>) -> EngineResult<Option<CustomerCursor>> {
    o.cursor.cursor().map(decode_cursor).transpose()
}

/// The page size, checked: [`ListOptions`] is public and its `Default` has `limit: 0`, and a
/// limit outside 1..=100 would underflow the `limit - 1` below (a panic in debug builds) or ask
/// the database for absurd pages. The HTTP layer already refuses such values with zod's messages.
fn page_limit<F>(o: &ListOptions<F>) -> EngineResult<usize> {
    match o.limit {
        ..=0 => Err(bad("limit: Number must be greater than or equal to 1")),
        101.. => Err(bad("limit: Number must be less than or equal to 100")),
        n => Ok(n as usize),
    }
}

/// `column >= from` and `column < to`, for the bounds given.
fn time_filters(sql: &mut Sql, (from, to): (&Option<TimeBound>, &Option<TimeBound>), column: &str) -> EngineResult<()> {
    if let Some(f) = from {
        sql.int(&format!("{column} >= $?"), f.instant("from")?);
    }
    if let Some(t) = to {
        sql.int(&format!("{column} < $?"), t.instant("to")?);
    }
    Ok(())
}

fn meta(r: &AnyRow) -> EngineResult<Metadata> {
    let t: String = r.try_get("metadata")?;
    Ok(serde_json::from_str(&t).unwrap_or_default())
}

fn flag(r: &AnyRow, c: &str) -> EngineResult<bool> {
    Ok(r.try_get::<i64, _>(c)? != 0)
}

fn subscriptions_page(
    env: Environment,
    o: &ListOptions<SubscriptionListFilters>,
    limit: usize,
) -> EngineResult<Statement> {
    let mut sql = Sql::new(env);
    let f = &o.filters;
    sql.equalities(
        &o.subject,
        &[
            ("status", f.status.as_ref().map(|s| s.as_str())),
            ("stripe_customer_id", f.customer.as_deref()),
            ("stripe_subscription_id", f.id.as_deref()),
        ],
    );
    time_filters(&mut sql, (&f.from, &f.to), "updated_at")?;
    if let Some(c) = time_cursor(o)? {
        sql.before("updated_at", "stripe_subscription_id", c);
    }
    Ok(sql.statement("SELECT * FROM payments_subscriptions", "updated_at DESC, stripe_subscription_id DESC", limit))
}

/// The items of a page's subscriptions, in one query.
fn subscription_items(env: Environment, ids: &[String]) -> Statement {
    let mut sql = Sql::new(env);
    sql.any_of("stripe_subscription_id", ids);
    // The ORDER BY sorts only the page's items (the IN list), which
    // `payments_subscription_items_subscription` finds.
    Statement {
        sql: format!(
            "SELECT * FROM payments_subscription_items WHERE {} ORDER BY stripe_subscription_id, stripe_subscription_item_id",
            sql.wheres.join(" AND ")
        ),
        binds: sql.binds,
    }
}

fn history_page(env: Environment, o: &ListOptions<HistoryListFilters>, limit: usize) -> EngineResult<Statement> {
    history_rows(env, o, limit, "*")
}

/// The condition of the history's `object` filter on bind `$n`, written so that each branch
/// implies the predicate of one of the history's partial indexes (the dedup keys of the payments
/// migration, and the charge and refund-by-PaymentIntent indexes of the webhook migration): both
/// planners then find the few rows through those indexes instead of walking the table.
fn object_condition(object: HistoryObject, n: usize) -> String {
    match object {
        HistoryObject::PaymentIntent => format!(
            "((stripe_payment_intent_id = ${n} AND type <> 'refund') OR (stripe_payment_intent_id = ${n} AND type = 'refund'))"
        ),
        HistoryObject::CheckoutSession => format!("(stripe_checkout_session_id = ${n} AND type <> 'refund')"),
        HistoryObject::Invoice => format!("(stripe_invoice_id = ${n} AND type <> 'refund')"),
        HistoryObject::Charge => format!("stripe_charge_id = ${n}"),
        HistoryObject::Refund => format!("stripe_refund_id = ${n}"),
    }
}

/// [`history_page`]'s statement selecting `columns` (and the sort key, `sort_at`).
fn history_rows(
    env: Environment,
    o: &ListOptions<HistoryListFilters>,
    limit: usize,
    columns: &str,
) -> EngineResult<Statement> {
    let mut sql = Sql::new(env);
    let f = &o.filters;
    sql.equalities(
        &o.subject,
        &[
            ("status", f.status.as_ref().map(|s| s.as_str())),
            ("type", f.kind.as_ref().map(|k| k.as_str())),
            ("stripe_customer_id", f.customer.as_deref()),
        ],
    );
    if let Some((object, id)) = f.object()? {
        // The rows of one Stripe object (search by id): a handful, found through its index and
        // sorted among themselves.
        let id = id.trim();
        let n = sql.next();
        sql.wheres.push(object_condition(object, n));
        sql.binds.push(Bind::Text(id.to_owned()));
    }
    time_filters(&mut sql, (&f.from, &f.to), HISTORY_AT)?;
    if let Some(c) = time_cursor(o)? {
        sql.before(HISTORY_AT, "id", c);
    }
    Ok(sql.statement(
        &format!("SELECT {columns}, {HISTORY_AT} AS sort_at FROM payments_payment_history"),
        &format!("{HISTORY_AT} DESC, id DESC"),
        limit,
    ))
}

/// Milliseconds in a UTC day: the summary groups by `sort_at / DAY_MS` (integer division on
/// both databases), the day number [`day_date`] turns back into a date.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// The history summary's count: the newest [`HISTORY_SUMMARY_ROWS`] rows of the filtered view,
/// read through the same index seek as its first page, grouped by day, kind and status. The
/// subquery bounds the read; the grouping sorts only what it returned.
fn history_summary(env: Environment, o: &ListOptions<HistoryListFilters>) -> EngineResult<Statement> {
    let o = ListOptions { cursor: Paging::Unpaged, ..o.clone() };
    let inner = history_rows(env, &o, HISTORY_SUMMARY_ROWS - 1, "type, status")?;
    Ok(Statement {
        sql: format!(
            "SELECT sort_at / {DAY_MS} AS day, CAST(CASE WHEN type = 'refund' THEN 1 ELSE 0 END AS BIGINT) AS refund, status, \
             COUNT(*) AS n FROM ({}) AS newest GROUP BY sort_at / {DAY_MS}, CASE WHEN type = 'refund' THEN 1 ELSE 0 END, status",
            inner.sql
        ),
        binds: inner.binds,
    })
}

/// Whether the filtered view has more rows than the summary counts: one index step past them.
fn history_beyond_summary(env: Environment, o: &ListOptions<HistoryListFilters>) -> EngineResult<Statement> {
    let o = ListOptions { cursor: Paging::Unpaged, ..o.clone() };
    let mut s = history_rows(env, &o, 0, "id")?;
    s.sql = format!("{} OFFSET {HISTORY_SUMMARY_ROWS}", s.sql);
    Ok(s)
}

/// `YYYY-MM-DD` of a day number (days since the epoch, UTC).
fn day_date(day: i64) -> String {
    let mut iso = iso_ms(day.saturating_mul(DAY_MS));
    iso.truncate(10);
    iso
}

/// Where a customers page starts: after the row with this `deleted` (0 or 1), sort key and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CustomerCursor(i64, String, String);

impl Keyset for CustomerCursor {
    const LEN: usize = 3;
}

/// Which part of the customers order a statement reads.
#[derive(Debug, Clone)]
enum CustomerSeek {
    /// From the start.
    First,
    /// After the cursor, among rows with the cursor's `deleted`: an equality on `deleted` and a
    /// range on the key, which both planners turn into an index seek.
    Within(CustomerCursor),
    /// Rows with a greater `deleted`, from their start: read when [`CustomerSeek::Within`] ran
    /// out before filling the page. Two seeks instead of one OR, which neither planner can seek.
    Beyond(i64),
}

fn customers_page(
    env: Environment,
    o: &ListOptions<CustomerListFilters>,
    seek: &CustomerSeek,
    limit: usize,
) -> EngineResult<Statement> {
    let mut sql = Sql::new(env);
    let mut from = "payments_customers";
    let mut given = String::new();
    let f = &o.filters;
    if let Some(ids) = f.ids.as_ref().map(|ids| ids.checked("ids")).transpose()? {
        // Given customers (at most 100): found through the unique key first, and only those
        // rows filtered and sorted. As one statement, SQLite walks the list index instead for
        // its order, reading every customer of the environment (40 ms at 100k, the subject
        // page's details); a materialised CTE is the portable way to make the seek come first.
        sql.any_of("stripe_customer_id", ids);
        let clause = sql.wheres.pop().unwrap_or_default();
        given = format!(
            "WITH given AS MATERIALIZED (SELECT * FROM payments_customers WHERE environment = $1 AND {clause}) "
        );
        from = "given";
    }
    if let Some(s) = &f.search {
        // A substring match has no B-tree to seek: the query walks the ordered index and stops
        // at the limit, so its cost grows with the rows skipped before a page fills (all of them
        // when few match).
        let n = sql.next();
        sql.wheres.push(format!(
            "(LOWER(COALESCE(email, '')) LIKE ${n} OR LOWER(COALESCE(name, '')) LIKE ${n} OR LOWER(stripe_customer_id) LIKE ${n})"
        ));
        sql.binds.push(Bind::Text(format!("%{}%", s.to_lowercase())));
    }
    // Like `search`, a creation range filters the ordered walk (an index on `stripe_created_at`
    // would make the planner sort the whole range instead); a narrow range costs a long walk.
    time_filters(&mut sql, (&f.from, &f.to), "stripe_created_at")?;
    match seek {
        CustomerSeek::First => {}
        CustomerSeek::Within(CustomerCursor(deleted, key, id)) => {
            sql.int("deleted = $?", *deleted);
            let n = sql.next();
            sql.wheres
                .push(format!("{CUSTOMER_KEY} >= ${n} AND ({CUSTOMER_KEY} > ${n} OR stripe_customer_id > ${})", n + 1));
            sql.binds.push(Bind::Text(key.clone()));
            sql.binds.push(Bind::Text(id.clone()));
        }
        CustomerSeek::Beyond(d) => sql.int("deleted > $?", *d),
    }
    Ok(sql.statement(
        &format!("{given}SELECT *, {CUSTOMER_KEY} AS sort_key, LOWER(email) AS email_key FROM {from}"),
        &format!("deleted ASC, {CUSTOMER_KEY}, stripe_customer_id"),
        limit,
    ))
}

/// A grouped statement without ORDER BY or LIMIT: a lookup of a page's keys.
fn grouped(sql: Sql, select: &str, group: &str) -> Statement {
    Statement { sql: format!("{select} WHERE {} GROUP BY {group}", sql.wheres.join(" AND ")), binds: sql.binds }
}

const SPEND: &str = "COUNT(*) AS n, MAX(COALESCE(paid_at, stripe_created_at, created_at)) AS last_at,
     CAST(SUM(CASE WHEN COALESCE(amount, 0) > COALESCE(amount_refunded, 0)
         THEN COALESCE(amount, 0) - COALESCE(amount_refunded, 0) ELSE 0 END) AS BIGINT) AS total,
     MIN(currency) AS currency, COUNT(DISTINCT currency) AS currencies";

/// The counted payments of a page's customers, by customer id.
fn spend_by_customer(env: Environment, ids: &[String]) -> Statement {
    let mut sql = Sql::new(env);
    sql.any_of("stripe_customer_id", ids);
    sql.wheres.push(COUNTED.into());
    grouped(
        sql,
        &format!("SELECT stripe_customer_id AS k, {SPEND} FROM payments_payment_history"),
        "stripe_customer_id",
    )
}

/// How many customers have each of a page's lower-cased emails.
fn email_counts(env: Environment, keys: &[String]) -> Statement {
    let mut sql = Sql::new(env);
    sql.any_of("LOWER(email)", keys);
    grouped(sql, "SELECT LOWER(email) AS k, COUNT(*) AS n FROM payments_customers", "LOWER(email)")
}

/// The counted payments without a customer, by the lower-cased email they were made with.
fn spend_by_email(env: Environment, keys: &[String]) -> Statement {
    let mut sql = Sql::new(env);
    sql.wheres.push("stripe_customer_id IS NULL".into());
    sql.any_of("LOWER(customer_email_snapshot)", keys);
    sql.wheres.push(COUNTED.into());
    grouped(
        sql,
        &format!("SELECT LOWER(customer_email_snapshot) AS k, {SPEND} FROM payments_payment_history"),
        "LOWER(customer_email_snapshot)",
    )
}

/// A page of webhook events; with several `objectId`s, one statement per id (each a seek of
/// `payments_webhook_events_list_object`), which [`Engine::list_webhook_events`] merges.
fn events_pages(env: Environment, o: &ListOptions<EventListFilters>, limit: usize) -> EngineResult<Vec<Statement>> {
    match o.filters.object_ids.as_ref().map(|ids| ids.checked("objectId")).transpose()? {
        Some(ids) => ids.iter().map(|id| events_page(env, o, Some(id), limit)).collect(),
        None => Ok(vec![events_page(env, o, None, limit)?]),
    }
}

/// A page of webhook events about `object_id`, when given (one id of the `objectId` filter).
fn events_page(
    env: Environment,
    o: &ListOptions<EventListFilters>,
    object_id: Option<&str>,
    limit: usize,
) -> EngineResult<Statement> {
    let mut sql = Sql::new(env);
    let f = &o.filters;
    // `id`: one event (search by `evt_…`), through the unique key.
    sql.equalities(
        &o.subject,
        &[
            ("processing_status", f.status.as_ref().map(|s| s.as_str())),
            ("event_type", f.event_type.as_deref()),
            ("object_id", object_id),
            ("stripe_event_id", f.id.as_deref()),
        ],
    );
    time_filters(&mut sql, (&f.from, &f.to), "received_at")?;
    if let Some(c) = time_cursor(o)? {
        sql.before("received_at", "id", c);
    }
    Ok(sql.statement(
        &format!("SELECT {} FROM payments_webhook_events", events::COLUMNS),
        "received_at DESC, id DESC",
        limit,
    ))
}

/// Every statement shape the lists send, for the plan tests: each one's [`ListShape::statement`]
/// builds it through the same function the list uses, with sample values.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListShape {
    /// Payment history, no filter.
    History,
    /// Payment history, `status`.
    HistoryStatus,
    /// Payment history, `type`.
    HistoryType,
    /// Payment history, `type` and `status`.
    HistoryTypeStatus,
    /// Payment history, `customer`.
    HistoryCustomer,
    /// Payment history, a subject.
    HistorySubject,
    /// Payment history, a subject and `status` (the subject's index, filtered).
    HistorySubjectStatus,
    /// Payment history, `customer` and `type` (the customer's index, filtered).
    HistoryCustomerType,
    /// The history summary's grouped count, no filter.
    HistorySummary,
    /// The history summary, `type` and `status`.
    HistorySummaryTypeStatus,
    /// The history summary of a subject, `status`.
    HistorySummarySubject,
    /// Whether more history rows match than the summary counted.
    HistoryBeyondSummary,
    /// Subscriptions, no filter.
    Subscriptions,
    /// Subscriptions, `status`.
    SubscriptionsStatus,
    /// Subscriptions, `customer`.
    SubscriptionsCustomer,
    /// Subscriptions, a subject.
    SubscriptionsSubject,
    /// Subscriptions, `id`.
    SubscriptionsId,
    /// The items of a page's subscriptions.
    SubscriptionItems,
    /// Customers, from the start or after a cursor.
    Customers,
    /// Customers after the cursor's `deleted` value ran out.
    CustomersBeyond,
    /// Customers, `search` (a walk of the ordered index: see [`customers_page`]).
    CustomersSearch,
    /// Customers, `ids` (the unique key; sorts only the given customers).
    CustomersIds,
    /// A page's customers' payments.
    CustomerSpend,
    /// A page's customers' email counts.
    CustomerEmailCounts,
    /// Payments without a customer, by a page's emails.
    CustomerEmailSpend,
    /// Payment history, `object` (one Stripe object's rows, through its id's index).
    HistoryObject,
    /// Payment history, `object` of a PaymentIntent (its payment and its refunds).
    HistoryObjectPaymentIntent,
    /// Webhook events, no filter.
    Events,
    /// Webhook events, `status`.
    EventsStatus,
    /// Webhook events, `type`.
    EventsType,
    /// Webhook events, `objectId`.
    EventsObject,
    /// Webhook events, `status` and `type` (the type's index, filtered).
    EventsStatusType,
    /// One webhook event, `id` (the unique key).
    EventsId,
    /// The overview's subscriptions by status.
    OverviewSubscriptions,
    /// The overview's MRR: billed subscription items with their prices.
    OverviewMrr,
    /// The overview's last 30 days of payments.
    OverviewPayments,
    /// The overview's failed and pending webhook events.
    OverviewEvents,
}

impl ListShape {
    /// Every shape.
    pub const ALL: &'static [ListShape] = &[
        Self::History,
        Self::HistoryStatus,
        Self::HistoryType,
        Self::HistoryTypeStatus,
        Self::HistoryCustomer,
        Self::HistorySubject,
        Self::HistorySubjectStatus,
        Self::HistoryCustomerType,
        Self::HistorySummary,
        Self::HistorySummaryTypeStatus,
        Self::HistorySummarySubject,
        Self::HistoryBeyondSummary,
        Self::HistoryObject,
        Self::HistoryObjectPaymentIntent,
        Self::Subscriptions,
        Self::SubscriptionsStatus,
        Self::SubscriptionsCustomer,
        Self::SubscriptionsSubject,
        Self::SubscriptionsId,
        Self::SubscriptionItems,
        Self::Customers,
        Self::CustomersBeyond,
        Self::CustomersSearch,
        Self::CustomersIds,
        Self::CustomerSpend,
        Self::CustomerEmailCounts,
        Self::CustomerEmailSpend,
        Self::Events,
        Self::EventsStatus,
        Self::EventsType,
        Self::EventsObject,
        Self::EventsStatusType,
        Self::EventsId,
        Self::OverviewSubscriptions,
        Self::OverviewMrr,
        Self::OverviewPayments,
        Self::OverviewEvents,
    ];

    /// Whether the shape is a page (ordered, limited: it takes `from`/`to` and a cursor) rather
    /// than a lookup of a page's keys or a grouped count (which may sort what it found).
    pub fn is_page(self) -> bool {
        !matches!(
            self,
            Self::SubscriptionItems
                | Self::CustomerSpend
                | Self::CustomerEmailCounts
                | Self::CustomerEmailSpend
                | Self::HistorySummary
                | Self::HistorySummaryTypeStatus
                | Self::HistorySummarySubject
                // An OFFSET past the summary's rows: where few rows match, PostgreSQL rightly
                // sorts those few instead of walking the index to the offset.
                | Self::HistoryBeyondSummary
                | Self::OverviewSubscriptions
                | Self::OverviewMrr
                | Self::OverviewPayments
                | Self::OverviewEvents
        )
    }

    /// The statement of this shape for sample values, with a `from`/`to` range and a cursor
    /// when asked (pages only).
    pub fn statement(self, env: Environment, range: bool, cursor: bool) -> EngineResult<Statement> {
        use PageOf::*;
        enum PageOf {
            History,
            Summary,
            BeyondSummary,
            Subscriptions,
            Customers,
            CustomersBeyond,
            Events,
        }
        let two = |a: &str, b: &str| [a.to_owned(), b.to_owned()];
        let (list, filters, subject): (PageOf, &[(&str, &str)], bool) = match self {
            Self::History => (History, &[], false),
            Self::HistoryStatus => (History, &[("status", "failed")], false),
            Self::HistoryType => (History, &[("type", "refund")], false),
            Self::HistoryTypeStatus => (History, &[("type", "refund"), ("status", "refunded")], false),
            Self::HistoryCustomer => (History, &[("customer", "cus_1")], false),
            Self::HistorySubject => (History, &[], true),
            Self::HistorySubjectStatus => (History, &[("status", "failed")], true),
            Self::HistoryCustomerType => (History, &[("customer", "cus_1"), ("type", "refund")], false),
            Self::HistorySummary => (Summary, &[], false),
            Self::HistorySummaryTypeStatus => (Summary, &[("type", "refund"), ("status", "refunded")], false),
            Self::HistorySummarySubject => (Summary, &[("status", "failed")], true),
            Self::HistoryBeyondSummary => (BeyondSummary, &[("status", "failed")], false),
            Self::HistoryObject => (History, &[("object", "in_1")], false),
            Self::HistoryObjectPaymentIntent => (History, &[("object", "pi_1")], false),
            Self::Subscriptions => (Subscriptions, &[], false),
            Self::SubscriptionsStatus => (Subscriptions, &[("status", "past_due")], false),
            Self::SubscriptionsCustomer => (Subscriptions, &[("customer", "cus_1")], false),
            Self::SubscriptionsSubject => (Subscriptions, &[], true),
            Self::SubscriptionsId => (Subscriptions, &[("id", "sub_1")], false),
            Self::SubscriptionItems => return Ok(subscription_items(env, &two("sub_1", "sub_2"))),
            Self::Customers => (Customers, &[], false),
            Self::CustomersBeyond => (CustomersBeyond, &[], false),
            Self::CustomersSearch => (Customers, &[("search", "ann")], false),
            Self::CustomersIds => (Customers, &[("ids", "cus_1,cus_2,cus_3")], false),
            Self::CustomerSpend => return Ok(spend_by_customer(env, &two("cus_1", "cus_2"))),
            Self::CustomerEmailCounts => return Ok(email_counts(env, &two("a@example.com", "b@example.com"))),
            Self::CustomerEmailSpend => return Ok(spend_by_email(env, &two("a@example.com", "b@example.com"))),
            Self::Events => (Events, &[], false),
            Self::EventsStatus => (Events, &[("status", "failed")], false),
            Self::EventsType => (Events, &[("type", "invoice.paid")], false),
            Self::EventsObject => (Events, &[("objectId", "ch_1")], false),
            Self::EventsStatusType => (Events, &[("status", "failed"), ("type", "invoice.paid")], false),
            Self::EventsId => (Events, &[("id", "evt_1")], false),
            Self::OverviewSubscriptions => return Ok(overview(Figure::Subscriptions, env, 0)),
            Self::OverviewMrr => return Ok(overview(Figure::Mrr, env, 0)),
            // The plan tests' rows span 2025-12-25 to 2026-01-08: the last day of them, as the
            // last 30 days are of a long history.
            Self::OverviewPayments => return Ok(overview(Figure::Payments, env, 1_767_744_000_000)),
            Self::OverviewEvents => return Ok(overview(Figure::Events, env, 0)),
        };
        // The sample filters, read as the list route reads its query.
        fn sample<F: QueryFilters>(
            filters: &[(&str, &str)],
            subject: bool,
            range: bool,
            cursor: bool,
        ) -> EngineResult<ListOptions<F>> {
            let range: &[(&str, &str)] =
                if range { &[("from", "2026-01-01T00:00:00Z"), ("to", "2026-02-01T00:00:00Z")] } else { &[] };
            let get = |k: &str| filters.iter().chain(range).find(|(key, _)| *key == k).map(|(_, v)| (*v).to_owned());
            let cursor = match cursor {
                true => Paging::After(encode_cursor(&TimeKey(1_767_225_600_000, "id_1".to_owned()))?),
                false => Paging::Unpaged,
            };
            Ok(ListOptions {
                limit: 50,
                subject: subject.then(|| ("user".to_owned(), "u1".to_owned())),
                cursor,
                filters: F::read(get),
            })
        }
        match list {
            History => history_page(env, &sample(filters, subject, range, cursor)?, 50),
            Summary => history_summary(env, &sample(filters, subject, range, cursor)?),
            BeyondSummary => history_beyond_summary(env, &sample(filters, subject, range, cursor)?),
            Subscriptions => subscriptions_page(env, &sample(filters, subject, range, cursor)?, 50),
            Customers => {
                let seek = match cursor {
                    true => CustomerSeek::Within(CustomerCursor(0, "m".into(), "cus_1".into())),
                    false => CustomerSeek::First,
                };
                customers_page(env, &sample(filters, subject, range, cursor)?, &seek, 50)
            }
            CustomersBeyond => {
                customers_page(env, &sample(filters, subject, range, cursor)?, &CustomerSeek::Beyond(0), 50)
            }
            Events => {
                let o: ListOptions<EventListFilters> = sample(filters, subject, range, cursor)?;
                let object_id = o.filters.object_ids.as_ref().and_then(|ids| ids.ids().first().cloned());
                events_page(env, &o, object_id.as_deref(), 50)
            }
        }
    }
}

/// A customer's counted payments (one group of [`SPEND`]).
#[derive(Debug, Default, Clone)]
struct Spend {
    count: i64,
    last: Option<i64>,
    total: i64,
    /// The one currency, when there is exactly one.
    currency: Option<String>,
    mixed: bool,
}

impl Spend {
    fn from_row(r: &AnyRow) -> EngineResult<Spend> {
        let currencies: i64 = r.try_get("currencies")?;
        Ok(Spend {
            count: r.try_get("n")?,
            last: r.try_get("last_at")?,
            total: r.try_get::<Option<i64>, _>("total")?.unwrap_or(0),
            currency: r.try_get("currency")?,
            mixed: currencies > 1,
        })
    }

    /// Both groups together: mixed when either is, or when their currencies differ.
    fn add(&mut self, other: &Spend) {
        self.count += other.count;
        self.last = self.last.max(other.last);
        self.total += other.total;
        match (&self.currency, &other.currency) {
            (None, Some(_)) => self.currency = other.currency.clone(),
            (Some(a), Some(b)) if a != b => self.mixed = true,
            _ => {}
        }
        self.mixed |= other.mixed;
    }
}

/// Rows of a grouped lookup, by their `k` column.
fn by_key(rows: &[AnyRow]) -> EngineResult<HashMap<String, &AnyRow>> {
    rows.iter().map(|r| Ok((r.try_get::<String, _>("k")?, r))).collect()
}

fn subscription_item(env: Environment, i: &AnyRow) -> EngineResult<SubscriptionItem> {
    Ok(SubscriptionItem {
        environment: env,
        stripe_subscription_item_id: i.try_get("stripe_subscription_item_id")?,
        stripe_subscription_id: i.try_get("stripe_subscription_id")?,
        stripe_product_id: i.try_get("stripe_product_id")?,
        stripe_price_id: i.try_get("stripe_price_id")?,
        quantity: i.try_get("quantity")?,
        metadata: meta(i)?,
        created_at: iso_ms(i.try_get("created_at")?),
        updated_at: iso_ms(i.try_get("updated_at")?),
    })
}

/// The cursor of a newest-first page whose last row is `last`, when more rows follow.
fn next_time_cursor(more: bool, last: Option<&AnyRow>, at: &str, id: &str) -> EngineResult<Option<Cursor>> {
    match (more, last) {
        (true, Some(last)) => Ok(Some(encode_cursor(&TimeKey(last.try_get(at)?, last.try_get(id)?))?)),
        _ => Ok(None),
    }
}

impl Engine {
    /// `GET /{env}/subscriptions`: newest update first, with items.
    pub async fn list_subscriptions(
        &self,
        env: Environment,
        o: &ListOptions<SubscriptionListFilters>,
    ) -> EngineResult<Page<Subscription>> {
        let limit = page_limit(o)?;
        let rows = subscriptions_page(env, o, limit)?.fetch(self.pool()).await?;
        let page = &rows[..rows.len().min(limit)];
        let ids = page.iter().map(|r| r.try_get("stripe_subscription_id")).collect::<Result<Vec<String>, _>>()?;
        let mut items: HashMap<String, Vec<SubscriptionItem>> = HashMap::new();
        if !ids.is_empty() {
            for i in subscription_items(env, &ids).fetch(self.pool()).await? {
                let item = subscription_item(env, &i)?;
                items.entry(item.stripe_subscription_id.clone()).or_default().push(item);
            }
        }
        let mut subscriptions = Vec::new();
        for (r, id) in page.iter().zip(ids) {
            subscriptions.push(Subscription {
                environment: env,
                items: items.remove(&id).unwrap_or_default(),
                stripe_subscription_id: id,
                stripe_customer_id: r.try_get("stripe_customer_id")?,
                subject_type: r.try_get("subject_type")?,
                subject_id: r.try_get("subject_id")?,
                status: r.try_get::<String, _>("status")?.into(),
                current_period_start: iso_opt(r.try_get("current_period_start")?),
                current_period_end: iso_opt(r.try_get("current_period_end")?),
                cancel_at_period_end: flag(r, "cancel_at_period_end")?,
                cancel_at: iso_opt(r.try_get("cancel_at")?),
                canceled_at: iso_opt(r.try_get("canceled_at")?),
                trial_start: iso_opt(r.try_get("trial_start")?),
                trial_end: iso_opt(r.try_get("trial_end")?),
                latest_invoice_id: r.try_get("latest_invoice_id")?,
                metadata: meta(r)?,
                synced_at: iso_ms(r.try_get("synced_at")?),
                created_at: iso_ms(r.try_get("created_at")?),
                updated_at: iso_ms(r.try_get("updated_at")?),
            });
        }
        let next_cursor = next_time_cursor(rows.len() > limit, page.last(), "updated_at", "stripe_subscription_id")?;
        Ok(Page { items: subscriptions, next_cursor })
    }

    /// `GET /{env}/payment-history`: newest first (`COALESCE(stripe_created_at, created_at)`).
    pub async fn list_payment_history(
        &self,
        env: Environment,
        o: &ListOptions<HistoryListFilters>,
    ) -> EngineResult<Page<PaymentHistory>> {
        let limit = page_limit(o)?;
        let rows = history_page(env, o, limit)?.fetch(self.pool()).await?;
        let page = &rows[..rows.len().min(limit)];
        let items = page.iter().map(|r| history_row(env, r)).collect::<EngineResult<Vec<_>>>()?;
        let next_cursor = next_time_cursor(rows.len() > limit, page.last(), "sort_at", "id")?;
        Ok(Page { items, next_cursor })
    }

    /// `GET /{env}/payment-history/summary` (additive): the chart and status counts of the
    /// filtered view's newest [`HISTORY_SUMMARY_ROWS`] rows, in two bounded index reads.
    pub async fn payment_history_summary(
        &self,
        env: Environment,
        o: &ListOptions<HistoryListFilters>,
    ) -> EngineResult<HistorySummary> {
        let groups = history_summary(env, o)?.fetch(self.pool()).await?;
        let truncated = !history_beyond_summary(env, o)?.fetch(self.pool()).await?.is_empty();
        let mut days: BTreeMap<i64, DayCount> = BTreeMap::new();
        let mut statuses: BTreeMap<PaymentStatus, u32> = BTreeMap::new();
        for g in &groups {
            let (day, refund): (i64, i64) = (g.try_get("day")?, g.try_get("refund")?);
            let n = u32::try_from(g.try_get::<i64, _>("n")?).unwrap_or(u32::MAX);
            let entry = days.entry(day).or_insert_with(|| DayCount { date: day_date(day), payments: 0, refunds: 0 });
            match refund {
                0 => entry.payments += n,
                _ => entry.refunds += n,
            }
            *statuses.entry(g.try_get::<String, _>("status")?.into()).or_default() += n;
        }
        Ok(HistorySummary::from_counts(days.into_values().collect(), statuses, truncated))
    }

    /// `GET /{env}/customers`: not deleted first, then by email/name/id, with payment aggregates.
    pub async fn list_customers(
        &self,
        env: Environment,
        o: &ListOptions<CustomerListFilters>,
    ) -> EngineResult<Page<CustomerListItem>> {
        let limit = page_limit(o)?;
        let mut rows = match customer_cursor(o)? {
            None => customers_page(env, o, &CustomerSeek::First, limit)?.fetch(self.pool()).await?,
            Some(c) => {
                let deleted = c.0;
                let mut rows = customers_page(env, o, &CustomerSeek::Within(c), limit)?.fetch(self.pool()).await?;
                if rows.len() <= limit {
                    let rest = limit - rows.len();
                    let beyond = customers_page(env, o, &CustomerSeek::Beyond(deleted), rest)?;
                    rows.extend(beyond.fetch(self.pool()).await?);
                }
                rows
            }
        };
        let more = rows.len() > limit;
        rows.truncate(limit);
        let spend = self.customers_spend(env, &rows).await?;
        let mut items = Vec::new();
        for r in &rows {
            let id: String = r.try_get("stripe_customer_id")?;
            items.push(customer_item(env, r, spend.get(&id).cloned().unwrap_or_default())?);
        }
        let next_cursor = match (more, rows.last()) {
            (true, Some(last)) => Some(encode_cursor(&CustomerCursor(
                last.try_get("deleted")?,
                last.try_get("sort_key")?,
                last.try_get("stripe_customer_id")?,
            ))?),
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    /// The payments of a page's customers, by customer id, in at most three indexed queries: their
    /// own payments, and the payments without a customer made with the email of a customer who
    /// is the only one with that email.
    async fn customers_spend(&self, env: Environment, rows: &[AnyRow]) -> EngineResult<HashMap<String, Spend>> {
        let mut ids = Vec::new();
        let mut emails = Vec::new();
        for r in rows {
            let id: String = r.try_get("stripe_customer_id")?;
            if let Some(key) = r.try_get::<Option<String>, _>("email_key")? {
                emails.push((id.clone(), key));
            }
            ids.push(id);
        }
        let mut spend = HashMap::new();
        if ids.is_empty() {
            return Ok(spend);
        }
        let own = spend_by_customer(env, &ids).fetch(self.pool()).await?;
        for (id, r) in by_key(&own)? {
            spend.insert(id, Spend::from_row(r)?);
        }
        if emails.is_empty() {
            return Ok(spend);
        }
        let keys: Vec<String> = emails.iter().map(|(_, k)| k.clone()).collect();
        let counts = email_counts(env, &keys).fetch(self.pool()).await?;
        let counts = by_key(&counts)?;
        let unique: Vec<(String, String)> = emails
            .into_iter()
            .filter(|(_, k)| counts.get(k).and_then(|r| r.try_get::<i64, _>("n").ok()) == Some(1))
            .collect();
        if unique.is_empty() {
            return Ok(spend);
        }
        let keys: Vec<String> = unique.iter().map(|(_, k)| k.clone()).collect();
        let guest = spend_by_email(env, &keys).fetch(self.pool()).await?;
        let guest = by_key(&guest)?;
        for (id, key) in unique {
            if let Some(r) = guest.get(&key) {
                spend.entry(id).or_default().add(&Spend::from_row(r)?);
            }
        }
        Ok(spend)
    }

    /// The webhook-events list (additive): newest first, filters `status`, `type`, `objectId`, `from`, `to`.
    pub async fn list_webhook_events(
        &self,
        env: Environment,
        o: &ListOptions<EventListFilters>,
    ) -> EngineResult<Page<WebhookEvent>> {
        let limit = page_limit(o)?;
        let mut rows = Vec::new();
        let statements = events_pages(env, o, limit)?;
        let merged = statements.len() > 1;
        for s in statements {
            rows.extend(s.fetch(self.pool()).await?);
        }
        if merged {
            // Each id's rows are its first `limit + 1` after the cursor, so the first
            // `limit + 1` of their union in the list's order are the whole list's.
            let mut keyed = rows
                .into_iter()
                .map(|r| Ok(((r.try_get::<i64, _>("received_at")?, r.try_get::<String, _>("id")?), r)))
                .collect::<EngineResult<Vec<_>>>()?;
            keyed.sort_by(|a, b| b.0.cmp(&a.0));
            keyed.dedup_by(|a, b| a.0 == b.0);
            rows = keyed.into_iter().map(|(_, r)| r).take(limit + 1).collect();
        }
        let page = &rows[..rows.len().min(limit)];
        let items = page.iter().map(events::from_row).collect::<EngineResult<Vec<_>>>()?;
        let next_cursor = next_time_cursor(rows.len() > limit, page.last(), "received_at", "id")?;
        Ok(Page { items, next_cursor })
    }
}

fn customer_item(env: Environment, r: &AnyRow, spend: Spend) -> EngineResult<CustomerListItem> {
    let raw: Value = serde_json::from_str(&r.try_get::<String, _>("raw")?).unwrap_or(Value::Null);
    let card = raw
        .pointer("/invoice_settings/default_payment_method/card")
        .filter(|c| c.is_object())
        .or_else(|| raw.get("default_source").filter(|s| s.is_object()));
    let country = raw
        .pointer("/address/country")
        .and_then(Value::as_str)
        .or_else(|| raw.pointer("/shipping/address/country").and_then(Value::as_str))
        .map(str::to_uppercase)
        .filter(|c| c.len() == 2);
    Ok(CustomerListItem {
        environment: env,
        stripe_customer_id: r.try_get("stripe_customer_id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        phone: r.try_get("phone")?,
        deleted: flag(r, "deleted")?,
        metadata: meta(r)?,
        stripe_created_at: iso_opt(r.try_get("stripe_created_at")?),
        synced_at: iso_ms(r.try_get("synced_at")?),
        payments_count: spend.count,
        last_payment_at: iso_opt(spend.last),
        total_spend: if spend.count == 0 {
            Some(0)
        } else if spend.mixed {
            None
        } else {
            Some(spend.total)
        },
        total_spend_currency: if spend.mixed { None } else { spend.currency },
        payment_method_brand: card.and_then(|c| c.get("brand")).and_then(Value::as_str).map(str::to_lowercase),
        payment_method_last4: card.and_then(|c| c.get("last4")).and_then(Value::as_str).map(str::to_owned),
        // Only the brand, the last four digits and the expiry are kept: never a full number.
        payment_method_exp_month: card
            .and_then(|c| c.get("exp_month"))
            .and_then(Value::as_u64)
            .and_then(|m| u32::try_from(m).ok()),
        payment_method_exp_year: card
            .and_then(|c| c.get("exp_year"))
            .and_then(Value::as_u64)
            .and_then(|y| u32::try_from(y).ok()),
        country_code: country,
    })
}

fn history_row(env: Environment, r: &AnyRow) -> EngineResult<PaymentHistory> {
    Ok(PaymentHistory {
        environment: env,
        kind: r.try_get::<String, _>("type")?.into(),
        status: r.try_get::<String, _>("status")?.into(),
        subject_type: r.try_get("subject_type")?,
        subject_id: r.try_get("subject_id")?,
        stripe_customer_id: r.try_get("stripe_customer_id")?,
        customer_email_snapshot: r.try_get("customer_email_snapshot")?,
        stripe_checkout_session_id: r.try_get("stripe_checkout_session_id")?,
        stripe_payment_intent_id: r.try_get("stripe_payment_intent_id")?,
        stripe_invoice_id: r.try_get("stripe_invoice_id")?,
        stripe_charge_id: r.try_get("stripe_charge_id")?,
        stripe_refund_id: r.try_get("stripe_refund_id")?,
        stripe_subscription_id: r.try_get("stripe_subscription_id")?,
        stripe_product_id: r.try_get("stripe_product_id")?,
        stripe_price_id: r.try_get("stripe_price_id")?,
        amount: r.try_get("amount")?,
        amount_refunded: r.try_get("amount_refunded")?,
        currency: r.try_get("currency")?,
        description: r.try_get("description")?,
        paid_at: iso_opt(r.try_get("paid_at")?),
        failed_at: iso_opt(r.try_get("failed_at")?),
        refunded_at: iso_opt(r.try_get("refunded_at")?),
        stripe_created_at: iso_opt(r.try_get("stripe_created_at")?),
        created_at: iso_ms(r.try_get("created_at")?),
        updated_at: iso_ms(r.try_get("updated_at")?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn config() -> ProptestConfig {
        // A fixed seed: the same cases on every CI run; no failure files in the tree.
        ProptestConfig {
            cases: 512,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x6375_7273),
            ..ProptestConfig::default()
        }
    }

    /// A cursor as a query string carries it (an empty one is the first page, not a cursor).
    fn decode<K: Keyset>(c: &str) -> EngineResult<K> {
        match Cursor::new(c) {
            Some(c) => decode_cursor(&c),
            None => Err(bad("cursor: Invalid cursor")),
        }
    }

    /// The cursor's format is stable: a page's cursor from before this type still reads.
    #[test]
    fn cursors_are_base64_json_arrays() {
        let c = encode_cursor(&TimeKey(1_767_225_600_000, "id_1".to_owned())).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(c.as_str()).unwrap(), br#"[1767225600000,"id_1"]"#);
        let c = encode_cursor(&CustomerCursor(1, "m".to_owned(), "cus_1".to_owned())).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(c.as_str()).unwrap(), br#"[1,"m","cus_1"]"#);
    }

    #[test]
    fn hostile_cursors_are_invalid_input() {
        let huge = URL_SAFE_NO_PAD.encode("[18446744073709551616, \"x\"]");
        let deep = URL_SAFE_NO_PAD.encode(format!("{}1{}", "[".repeat(1000), "]".repeat(1000)));
        for c in [
            "!!!".to_owned(),
            "a".repeat(100_000),
            URL_SAFE_NO_PAD.encode("[1,\"x\"]").repeat(1000),
            URL_SAFE_NO_PAD.encode("not json"),
            URL_SAFE_NO_PAD.encode("{\"a\":1}"),
            URL_SAFE_NO_PAD.encode([0xff, 0xfe, 0x00]),
            deep,
            // Out of range even for a float.
            URL_SAFE_NO_PAD.encode(format!("[{}, \"x\"]", "9".repeat(400))),
        ] {
            let shown = &c[..c.len().min(40)];
            assert!(matches!(decode::<TimeKey>(&c), Err(EngineError::InvalidInput(_))), "{shown}");
            assert!(matches!(decode::<CustomerCursor>(&c), Err(EngineError::InvalidInput(_))), "{shown}");
        }
        // JSON, but not a key of either list: a number too big for i64, or too few values.
        for c in [huge, URL_SAFE_NO_PAD.encode("[1]"), URL_SAFE_NO_PAD.encode("[\"1\",\"a\",\"b\"]")] {
            assert!(matches!(decode::<TimeKey>(&c), Err(EngineError::InvalidInput(_))), "{c}");
            assert!(matches!(decode::<CustomerCursor>(&c), Err(EngineError::InvalidInput(_))), "{c}");
        }
        // Values after the key's are not read.
        let c = URL_SAFE_NO_PAD.encode("[7,\"a\",\"b\",\"c\"]");
        assert_eq!(decode::<TimeKey>(&c).unwrap(), TimeKey(7, "a".to_owned()));
        assert_eq!(decode::<CustomerCursor>(&c).unwrap(), CustomerCursor(7, "a".to_owned(), "b".to_owned()));
    }

    #[test]
    fn limits_outside_the_contract_are_invalid_input() {
        for limit in [i64::MIN, -1, 0, 101, i64::MAX] {
            let o: ListOptions<()> = ListOptions { limit, ..ListOptions::default() };
            assert!(matches!(page_limit(&o), Err(EngineError::InvalidInput(_))), "{limit}");
        }
        let o: ListOptions<()> = ListOptions { limit: 100, ..ListOptions::default() };
        assert_eq!(page_limit(&o).unwrap(), 100);
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn arbitrary_cursors_never_panic(s in any::<String>()) {
            let _ = decode::<TimeKey>(&s);
            let _ = decode::<CustomerCursor>(&s);
        }

        #[test]
        fn base64_of_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode::<TimeKey>(&URL_SAFE_NO_PAD.encode(bytes));
        }

        #[test]
        fn base64_alphabet_strings_never_panic(s in "[A-Za-z0-9_=+/-]{0,200}") {
            let _ = decode::<CustomerCursor>(&s);
        }

        #[test]
        fn cursors_round_trip(n in any::<i64>(), key in any::<String>(), id in "[a-z]{2,4}_[A-Za-z0-9]{1,30}") {
            let customer = CustomerCursor(n, key, id.clone());
            prop_assert_eq!(decode_cursor::<CustomerCursor>(&encode_cursor(&customer).unwrap()).unwrap(), customer);
            let time = TimeKey(n, id);
            prop_assert_eq!(decode_cursor::<TimeKey>(&encode_cursor(&time).unwrap()).unwrap(), time);
        }
    }
}
