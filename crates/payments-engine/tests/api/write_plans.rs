//! Query plans of the webhook write path (issue #10): every lookup the delivery and refund
//! bookkeeping send is an index seek, never a scan of the history or the events table (which
//! ran inside the write transaction: 5 webhooks/s at 1M history rows). The SQL is the engine's
//! own text ([`payments_engine::write_sql`]), so the test follows any change to it.

use payments_engine::write_sql::*;
use payments_engine::DbKind;
use sqlx::AnyPool;

use crate::common::*;

/// A bound value of the right type (PostgreSQL plans need the parameter types).
#[derive(Clone, Copy)]
enum Arg {
    Text(&'static str),
    Int(i64),
}

use Arg::{Int, Text};

/// Each write-path statement, the arguments it is sent with, and the table it must seek.
fn statements() -> Vec<(&'static str, &'static str, Vec<Arg>, &'static str)> {
    let env = Text("test");
    let history = "payments_payment_history";
    let events = "payments_webhook_events";
    let days = "payments_rollup_days";
    vec![
        ("find a refund row", FIND_REFUND_SQL, vec![env, Text("re_fill_9")], history),
        (
            "find a payment row",
            FIND_PAYMENT_SQL,
            vec![env, Text("cs_none"), Text("pi_fill_8"), Text("in_fill_7")],
            history,
        ),
        ("find the original payment", FIND_ORIGINAL_SQL, vec![env, Text("pi_fill_8"), Text("ch_fill_8")], history),
        ("read the original payment", ORIGINAL_SQL, vec![Text("fill_8")], history),
        (
            "find and read the original payment",
            FIND_ORIGINAL_ROW_SQL,
            vec![env, Text("pi_fill_8"), Text("ch_fill_8")],
            history,
        ),
        ("an invoice without its payment", INVOICE_WITHOUT_PAYMENT_SQL, vec![env, Text("in_fill_7")], history),
        ("refunded total", REFUNDED_TOTAL_SQL, vec![env, Text("pi_fill_8"), Text("ch_fill_8")], history),
        (
            "back-fill the refund rows",
            REFUND_BACKFILL_SQL,
            vec![Text("fill_8"), env, Text("pi_fill_8"), Text("ch_fill_8")],
            history,
        ),
        ("event status", EVENT_STATUS_SQL, vec![env, Text("evt_fill_5")], events),
        ("take over an event", TAKE_OVER_SQL, vec![Text("{}"), Int(1), env, Text("evt_fill_5"), Int(0)], events),
        (
            "finish an event",
            FINISH_SQL,
            vec![Text("ignored"), Text("x"), Text("nothing_to_change"), Int(1), Int(1), env, Text("evt_fill_5")],
            events,
        ),
        ("insert a payment, counting its refunds", INSERT_SQL, insert_args(), history),
        ("fold the days that have deltas", FOLD_DAYS_SQL, vec![env], days),
        ("delete what the fold summed", FOLD_DAYS_DELETE_SQL, vec![env], days),
        ("mark the fold's rows", FOLD_DAYS_MARK_SQL, vec![env], days),
    ]
}

/// [`INSERT_SQL`]'s 28 arguments: a payment of `pi_fill_8` and `ch_fill_8`, whose refund rows
/// the insert counts.
fn insert_args() -> Vec<Arg> {
    let mut args = vec![Text("new_row"), Text("test"), Text("one_time_payment"), Text("succeeded"), Text("team")];
    args.extend([Text("t1"), Text("cus_1"), Text("a@example.com"), Text("cs_new"), Text("pi_fill_8")]);
    args.extend([Text("in_new"), Text("ch_fill_8"), Text("re_none"), Text("sub_1"), Text("prod_1"), Text("price_1")]);
    args.extend([Int(100), Text("usd"), Text("x"), Int(1), Int(1), Int(1), Int(1), Text("{}"), Int(1), Int(1)]);
    args.extend([Int(0), Int(0)]);
    args
}

/// Enough rows that PostgreSQL's planner prefers an index to a sequential scan: payments,
/// their refunds (every tenth row refunds the one before), processed events, and the
/// overview's day figures.
async fn fill(pool: &AnyPool, rows: i64) {
    sqlx::query(&format!(
        "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < {rows})
         INSERT INTO payments_payment_history (id, environment, type, status, stripe_payment_intent_id,
             stripe_invoice_id, stripe_charge_id, stripe_refund_id, amount, raw, created_at, updated_at)
         SELECT 'fill_' || i, 'test', CASE WHEN i % 10 = 9 THEN 'refund' ELSE 'one_time_payment' END,
             CASE WHEN i % 10 = 9 THEN 'refunded' ELSE 'succeeded' END,
             'pi_fill_' || (i - CASE WHEN i % 10 = 9 THEN 1 ELSE 0 END),
             CASE WHEN i % 10 = 7 THEN 'in_fill_' || i END,
             'ch_fill_' || (i - CASE WHEN i % 10 = 9 THEN 1 ELSE 0 END),
             CASE WHEN i % 10 = 9 THEN 're_fill_' || i END, 100, '{{}}', i, i
         FROM c"
    ))
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(&format!(
        "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < {rows})
         INSERT INTO payments_webhook_events (id, environment, stripe_event_id, event_type, livemode,
             processing_status, attempt_count, payload, received_at, created_at, updated_at)
         SELECT 'ev_' || i, 'test', 'evt_fill_' || i, 'invoice.paid', 0, 'processed', 1, '{{}}', i, i, i FROM c"
    ))
    .execute(pool)
    .await
    .unwrap();
    // The overview's day figures: one folded row per day, and deltas of a few days.
    sqlx::query(&format!(
        "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < {rows})
         INSERT INTO payments_rollup_days (environment, day, counted, refund, failed, currency, payments, amount, folded)
         SELECT 'test', i, 1, 0, 0, 'usd', 3, 900, CASE WHEN i % 5000 = 0 THEN 0 ELSE 1 END FROM c"
    ))
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}

/// The plan's lines: SQLite's `EXPLAIN QUERY PLAN` details, or PostgreSQL's `EXPLAIN` text.
async fn plan(pool: &AnyPool, kind: DbKind, sql: &str, args: &[Arg]) -> Vec<String> {
    let explain = match kind {
        DbKind::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
        DbKind::Postgres => format!("EXPLAIN {sql}"),
    };
    let mut q = sqlx::query_scalar::<_, String>(&explain);
    if kind == DbKind::Sqlite {
        // The detail is the fourth column of SQLite's plan rows.
        let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
        for a in args {
            q = match *a {
                Text(t) => q.bind(t),
                Int(i) => q.bind(i),
            };
        }
        return q.fetch_all(pool).await.unwrap().into_iter().map(|r| r.3).collect();
    }
    for a in args {
        q = match *a {
            Text(t) => q.bind(t),
            Int(i) => q.bind(i),
        };
    }
    q.fetch_all(pool).await.unwrap()
}

/// Why the plan is not an index seek on `table`, if it is not.
fn full_scan(kind: DbKind, lines: &[String], table: &str) -> Option<String> {
    let text = lines.join("\n");
    let scans = match kind {
        DbKind::Sqlite => lines.iter().any(|l| l.starts_with(&format!("SCAN {table}"))),
        DbKind::Postgres => text.contains(&format!("Seq Scan on {table}")),
    };
    let seeks = match kind {
        DbKind::Sqlite => lines.iter().any(|l| l.starts_with(&format!("SEARCH {table} USING"))),
        DbKind::Postgres => text.contains("Index Scan") || text.contains("Index Only Scan") || text.contains("Bitmap"),
    };
    (scans || !seeks).then_some(text)
}

#[tokio::test]
async fn the_write_path_seeks_indexes_and_never_scans_the_history() {
    let h = Harness::start().await;
    let kind = h.engine.db_kind();
    fill(&h.pool, 20_000).await;
    for (what, sql, args, table) in statements() {
        let lines = plan(&h.pool, kind, sql, &args).await;
        if let Some(text) = full_scan(kind, &lines, table) {
            panic!("{what} does not seek an index of {table}:\n{text}\n-- for --\n{sql}");
        }
    }
    // The batch's look for events stored already seeks the unique key once per id.
    let stored = stored_sql(3);
    let args = [Text("test"), Text("evt_fill_5"), Text("evt_fill_6"), Text("evt_none")];
    let lines = plan(&h.pool, kind, &stored, &args).await;
    if let Some(text) = full_scan(kind, &lines, "payments_webhook_events") {
        panic!("the look for stored events does not seek an index:\n{text}");
    }
    // The claim and the record are inserts whose conflict check is the unique key: no scan either.
    let event = [Text("row"), Text("test"), Text("evt_fill_5"), Text("invoice.paid"), Int(0), Text("acct")];
    let object = [Text("invoice"), Text("in_1")];
    let claim = [&event[..], &object[..], &[Text("{}"), Int(1), Int(1)]].concat();
    let record = [&event[..], &object[..], &[Text("processed"), Text("x"), Text("{}"), Int(1), Int(1)]].concat();
    for (sql, args) in [(CLAIM_SQL, claim), (RECORD_SQL, record)] {
        let text = plan(&h.pool, kind, sql, &args).await.join("\n");
        assert!(!text.contains("SCAN payments_webhook_events") && !text.contains("Seq Scan"), "{text}");
    }

    // The check can fail: an `OR` with a branch no index serves scans the table.
    let or = "SELECT id FROM payments_payment_history WHERE stripe_payment_intent_id = $1 OR amount = $2";
    let lines = plan(&h.pool, kind, or, &[Text("pi_fill_8"), Int(100)]).await;
    assert!(full_scan(kind, &lines, "payments_payment_history").is_some(), "{lines:?}");
}
