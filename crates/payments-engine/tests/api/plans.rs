//! Query plans of every list statement (issue #10): each [`ListShape`], built by the engine's own
//! builders, is explained on the test database (SQLite, or PostgreSQL with
//! `PAYMENTS_CONSOLE_TEST_POSTGRES`) and must seek an index that serves its order, with no full
//! scan and no sort of the whole result. Plans are deterministic; timings are not asserted.

use std::collections::BTreeSet;

use payments_engine::{Bind, Environment, ListShape, Statement};
use sqlx::{AnyPool, Row};

use crate::common::*;

const LIST_INDEXES: &str = include_str!("../../../../migrations/20261202000001_list_indexes.sql");

/// Indexes a list statement may walk: those of the list migration, the subscription items'
/// (a page's items by subscription id) and the subscriptions' natural key (`id=`).
fn allowed_indexes() -> BTreeSet<String> {
    let mut names: BTreeSet<String> = LIST_INDEXES
        .lines()
        .filter_map(|l| l.trim().strip_prefix("CREATE INDEX "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 10, "the list migration's indexes were not found: {names:?}");
    names.insert("payments_subscription_items_subscription".into());
    // SQLite's and PostgreSQL's names for UNIQUE (environment, stripe_subscription_id).
    names.insert("sqlite_autoindex_payments_subscriptions_2".into());
    names.insert("payments_subscriptions_environment_stripe_subscription_id_key".into());
    // … and for UNIQUE (environment, stripe_customer_id) (`ids=`).
    names.insert("sqlite_autoindex_payments_customers_2".into());
    names.insert("payments_customers_environment_stripe_customer_id_key".into());
    // The overview's figures, kept as the mirror is written (`store/rollups.rs`).
    const ROLLUPS: &str = include_str!("../../../../migrations/20261205400001_overview_rollups.sql");
    names.extend(
        ROLLUPS
            .lines()
            .filter_map(|l| l.trim().strip_prefix("CREATE INDEX "))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_owned),
    );
    // … and for UNIQUE (environment, stripe_event_id) (one event, `id=`).
    names.insert("sqlite_autoindex_payments_webhook_events_2".into());
    names.insert("payments_webhook_events_environment_stripe_event_id_key".into());
    // One Stripe object's history rows (`object=`): the dedup keys and the refund lookups.
    for name in [
        "payments_history_payment_intent",
        "payments_history_refund_payment_intent",
        "payments_history_checkout_session",
        "payments_history_invoice",
        "payments_history_charge",
        "payments_history_refund",
    ] {
        names.insert(name.into());
    }
    names
}

fn bind<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s.as_str()),
            Bind::Int(i) => q.bind(*i),
        };
    }
    q
}

/// The plan's lines: SQLite's `detail` column, or PostgreSQL's plan as YAML (one text value,
/// whose `Node Type` and `Index Name` lines are what is checked).
async fn explain(pool: &AnyPool, pg: bool, s: &Statement) -> Vec<String> {
    let sql = format!("{} {}", if pg { "EXPLAIN (FORMAT YAML)" } else { "EXPLAIN QUERY PLAN" }, s.sql);
    let rows = bind(sqlx::query(&sql), &s.binds).fetch_all(pool).await.unwrap_or_else(|e| panic!("{e}: {sql}"));
    let text = rows.iter().map(|r| r.try_get::<String, _>(if pg { 0 } else { 3 }).unwrap());
    text.flat_map(|t| t.lines().map(str::to_owned).collect::<Vec<_>>()).collect()
}

/// What is wrong with a plan, if anything. A page must not sort at all; a lookup of a page's keys
/// may sort or group what it found (the page's rows only), but must find it through an index.
fn defects(plan: &[String], pg: bool, page: bool, allowed: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    let mut used = false;
    for line in plan {
        let l = line.trim();
        let index = if pg {
            let node = l.strip_prefix("- Node Type: ").or_else(|| l.strip_prefix("Node Type: "));
            match node.map(|n| n.trim_matches('"')) {
                Some("Seq Scan") => found.push(format!("full scan: {l}")),
                Some("Sort" | "Incremental Sort") if page => found.push(format!("sort: {l}")),
                _ => {}
            }
            l.strip_prefix("Index Name: ").map(|n| n.trim_matches('"'))
        } else {
            if page && l.contains("TEMP B-TREE") {
                found.push(format!("sort: {l}"));
            }
            let on_table = l.starts_with("SCAN payments_") || l.starts_with("SEARCH payments_");
            let index = l.split_once(" INDEX ").map(|(_, rest)| rest.split_whitespace().next().unwrap_or(""));
            if on_table && index.is_none() {
                found.push(format!("full scan: {l}"));
            }
            index.filter(|_| on_table)
        };
        if let Some(name) = index {
            used = true;
            if !allowed.contains(name) {
                found.push(format!("not a list index: {name} in {l}"));
            }
        }
    }
    if !used {
        found.push("no index used".into());
    }
    found
}

/// Whether a plan finds customers through their ids (SQLite: a search on
/// `stripe_customer_id=?`; PostgreSQL: an index condition on it), not by a walk it filters.
fn seeks_customer_ids(plan: &[String], pg: bool) -> bool {
    plan.iter().any(|l| {
        if pg {
            l.contains("Index Cond") && l.contains("stripe_customer_id")
        } else {
            l.contains("stripe_customer_id=?")
        }
    })
}

/// Enough rows that PostgreSQL's planner, after ANALYZE, chooses on real statistics (on a
/// near-empty table any plan is cheap and it prefers a sequential scan). Times straddle the
/// sample cursor (2026-01-01) so that pages before it are not estimated empty.
const FILL: &[&str] = &[
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
     INSERT INTO payments_payment_history (id, environment, type, status, subject_type, subject_id,
         stripe_customer_id, customer_email_snapshot, amount, amount_refunded, currency, stripe_created_at, raw,
         created_at, updated_at)
     SELECT 'h' || i, 'test',
         CASE WHEN i % 50 = 0 THEN 'refund' WHEN i % 40 = 0 THEN 'failed_payment' ELSE 'one_time_payment' END,
         CASE WHEN i % 50 = 0 THEN 'refunded' WHEN i % 40 = 0 THEN 'failed' ELSE 'succeeded' END,
         'user', 'u' || (i % 1000), CASE WHEN i % 10 = 0 THEN NULL ELSE 'cus_' || (i % 2000) END,
         'user' || (i % 2000) || '@example.com', 1000, 0, 'usd',
         CASE WHEN i % 13 = 0 THEN NULL ELSE 1767225600000 + (i - 10000) * 60000 END, '{}',
         1767225600000 + (i - 10000) * 60000, 1767225600000 FROM n",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
     INSERT INTO payments_subscriptions (id, environment, stripe_subscription_id, stripe_customer_id, subject_type,
         subject_id, status, synced_at, created_at, updated_at)
     SELECT 's' || i, 'test', 'sub_' || i, 'cus_' || (i % 2000), 'user', 'u' || (i % 1000),
         CASE WHEN i % 4 = 0 THEN 'past_due' ELSE 'active' END, 0, 0, 1767225600000 + (i - 10000) * 60000 FROM n",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
     INSERT INTO payments_subscription_items (id, environment, stripe_subscription_item_id, stripe_subscription_id,
         quantity, created_at, updated_at)
     SELECT 'si' || i, 'test', 'si_' || i, 'sub_' || i, 1, 0, 0 FROM n",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
     INSERT INTO payments_customers (id, environment, stripe_customer_id, email, name, deleted, stripe_created_at,
         synced_at, created_at, updated_at)
     SELECT 'c' || i, 'test', 'cus_' || i, CASE WHEN i % 17 = 0 THEN NULL ELSE 'user' || i || '@example.com' END,
         CASE WHEN i % 2 = 0 THEN 'Anna ' || i ELSE 'Bo ' || i END, CASE WHEN i % 31 = 0 THEN 1 ELSE 0 END,
         1767225600000 + (i - 2500) * 60000, 0, 0, 0 FROM n",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
     INSERT INTO payments_webhook_events (id, environment, stripe_event_id, event_type, livemode, object_type,
         object_id, processing_status, payload, received_at, created_at, updated_at)
     SELECT 'e' || i, 'test', 'evt_' || i,
         CASE i % 4 WHEN 0 THEN 'charge.refunded' WHEN 1 THEN 'invoice.paid' WHEN 2 THEN 'customer.updated'
             ELSE 'payment_intent.succeeded' END,
         0, 'charge', 'ch_' || (i % 5000), CASE WHEN i % 100 = 0 THEN 'failed' ELSE 'processed' END, '{}',
         1767225600000 + (i - 10000) * 60000, 0, 0 FROM n",
    // Five years of the overview's kept day figures (folded: six groups a day) up to day 20461;
    // the statement reads from day 20460 on.
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10950)
     INSERT INTO payments_rollup_days (environment, day, counted, refund, failed, currency, payments, amount, folded)
     SELECT 'test', 20461 - i / 6, i % 2, (i / 2) % 3 / 2, (i / 2) % 3 % 2, 'usd', 3, 900, 1 FROM n",
];

#[tokio::test]
async fn every_list_statement_seeks_an_index_in_its_order() {
    let h = Harness::start().await;
    let pg = h.pool.acquire().await.unwrap().backend_name().to_ascii_lowercase().contains("postgres");
    for sql in FILL {
        sqlx::query(sql).execute(&h.pool).await.unwrap();
    }
    if pg {
        sqlx::query("ANALYZE").execute(&h.pool).await.unwrap();
    }
    let allowed = allowed_indexes();

    // The checker itself: a table scan and a sort of the whole result are caught.
    let unindexed = Statement {
        sql: "SELECT * FROM payments_payment_history WHERE environment = $1 ORDER BY description LIMIT 51".into(),
        binds: vec![Bind::Text("test".into())],
    };
    let caught = defects(&explain(&h.pool, pg, &unindexed).await, pg, true, &allowed);
    assert!(caught.iter().any(|d| d.starts_with("sort")), "{caught:?}");
    let full = Statement {
        sql: "SELECT COUNT(*) FROM payments_payment_history WHERE description = $1".into(),
        binds: vec![Bind::Text("x".into())],
    };
    let caught = defects(&explain(&h.pool, pg, &full).await, pg, false, &allowed);
    assert!(caught.iter().any(|d| d.starts_with("full scan")), "{caught:?}");

    let mut failures = Vec::new();
    for &shape in ListShape::ALL {
        let variants: &[(bool, bool)] = if shape.is_page() {
            &[(false, false), (true, false), (false, true), (true, true)]
        } else {
            // A grouped count takes `from`/`to` too (a lookup ignores them).
            &[(false, false), (true, false)]
        };
        for &(range, cursor) in variants {
            let s = shape.statement(Environment::Test, range, cursor).unwrap();
            let plan = explain(&h.pool, pg, &s).await;
            // `id=` seeks the unique key: PostgreSQL may "sort" its one row; `ids=` sorts the
            // given customers (at most 100) only; `object=` the few rows of one Stripe object.
            let may_sort = !shape.is_page()
                || matches!(
                    shape,
                    ListShape::SubscriptionsId
                        | ListShape::CustomersIds
                        | ListShape::HistoryObject
                        | ListShape::HistoryObjectPaymentIntent
                        | ListShape::EventsId
                );
            let mut found = defects(&plan, pg, !may_sort, &allowed);
            // Given customers are looked up by their unique key. Walking the environment's
            // ordered list index instead (which avoids sorting the few rows) reads every
            // customer: 40 ms at 100k, which SQLite chose for the subject page's details.
            if shape == ListShape::CustomersIds && !seeks_customer_ids(&plan, pg) {
                found.push("customers by id not sought by their unique key".into());
            }
            // The overview's kept figures hold a row per group (a handful) plus the deltas of
            // the last seconds: PostgreSQL rightly reads so small a table straight through.
            if pg && matches!(shape, ListShape::OverviewSubscriptions | ListShape::OverviewMrr) {
                found.retain(|d| !d.starts_with("full scan") && d != "no index used");
            }
            if !found.is_empty() {
                failures.push(format!(
                    "{shape:?} (range {range}, cursor {cursor}): {found:?}\n  {}\n  {}",
                    s.sql,
                    plan.join("\n  ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
