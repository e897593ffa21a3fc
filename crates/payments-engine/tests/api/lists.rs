//! The lists (21)–(23) and the webhook-events list: the contract's strict query validation,
//! and keyset pagination (additive) walking every row exactly once.

use std::collections::HashSet;

use serde_json::Value;

use crate::common::*;

const LISTS: [(&str, &str); 3] =
    [("payment-history", "paymentHistory"), ("subscriptions", "subscriptions"), ("customers", "customers")];

async fn list(h: &Harness, path: &str, q: &str) -> Resp {
    h.get(&format!("/api/payments/test/{path}{q}")).await
}

#[tokio::test]
async fn list_queries_are_validated_like_the_reference() {
    let h = Harness::start().await;
    for (path, _) in LISTS {
        for (q, message) in [
            ("?limit=500", "limit: Number must be less than or equal to 100"),
            ("?limit=0", "limit: Number must be greater than or equal to 1"),
            ("?limit=1.5", "limit: Expected integer, received float"),
            ("?limit=abc", "limit: Expected number, received nan"),
            ("?foo=1", ": Unrecognized key(s) in object: 'foo'"),
            (
                "?foo=1&bar=2&limit=101",
                "limit: Number must be less than or equal to 100, : Unrecognized key(s) in object: 'foo', 'bar'",
            ),
            ("?cursor=!!!", "cursor: Invalid cursor"),
            ("?cursor=&from=yesterday", "from: Invalid date"),
            ("?cursor=&to=2026-13-45", "to: Invalid date"),
        ] {
            list(&h, path, q).await.err(400, "INVALID_INPUT", message);
        }
        h.get(&format!("/api/payments/foo/{path}")).await.err(
            400,
            "INVALID_INPUT",
            "environment: Invalid enum value. Expected 'test' | 'live', received 'foo'",
        );
        h.request(reqwest::Method::GET, &format!("/api/payments/test/{path}"), None, Auth::None).await.err(
            401,
            "AUTH_INVALID_CREDENTIALS",
            "No admin token provided",
        );
        list(&h, path, "?limit=100").await.ok(200);
    }
    for path in ["payment-history", "subscriptions"] {
        list(&h, path, "?subjectType=team").await.err(
            400,
            "INVALID_INPUT",
            ": subjectType and subjectId must be provided together",
        );
        list(&h, path, "?subjectId=1").await.err(
            400,
            "INVALID_INPUT",
            ": subjectType and subjectId must be provided together",
        );
        list(&h, path, &format!("?subjectType=team&subjectId={}", "x".repeat(256))).await.err(
            400,
            "INVALID_INPUT",
            "subjectId: String must contain at most 255 character(s)",
        );
        list(&h, path, "?subjectType=&subjectId=1").await.err(
            400,
            "INVALID_INPUT",
            "subjectType: String must contain at least 1 character(s)",
        );
        let ok = list(&h, path, "?subjectType=team&subjectId=1").await;
        assert!(ok.ok(200).get("nextCursor").is_none(), "no cursor without `cursor`: {}", ok.body);
    }
    // Subject filters are not part of the customers schema.
    h.get("/api/payments/test/customers?subjectType=team&subjectId=1").await.err(
        400,
        "INVALID_INPUT",
        ": Unrecognized key(s) in object: 'subjectType', 'subjectId'",
    );
    h.get("/api/payments/test/webhook-events?limit=0").await.err(
        400,
        "INVALID_INPUT",
        "limit: Number must be greater than or equal to 1",
    );
    h.get("/api/payments/test/webhook-events?subjectType=a&subjectId=b").await.err(
        400,
        "INVALID_INPUT",
        ": Unrecognized key(s) in object: 'subjectType', 'subjectId'",
    );
}

/// Follows `nextCursor` from the first page to the last; returns every item's id.
async fn walk(h: &Harness, path: &str, key: &str, id: &str, query: &str, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    for _ in 0..1000 {
        let url = format!("/api/payments/test/{path}?limit={limit}&cursor={cursor}{query}");
        let body = h.get(&url).await.ok(200).clone();
        let items = body[key].as_array().unwrap();
        assert!(items.len() <= limit);
        ids.extend(items.iter().map(|i| i[id].as_str().unwrap().to_owned()));
        match &body["nextCursor"] {
            Value::String(c) => {
                assert!(!items.is_empty());
                cursor = c.clone();
            }
            Value::Null => return ids,
            other => panic!("nextCursor: {other}"),
        }
    }
    panic!("pagination does not end");
}

fn assert_unique(ids: &[String]) {
    let set: HashSet<&String> = ids.iter().collect();
    assert_eq!(set.len(), ids.len(), "a row was listed twice");
}

#[tokio::test]
async fn keyset_pagination_walks_every_row_once() {
    let h = Harness::start().await;
    h.sandbox.seed_size(130);
    h.configure(TEST_KEY).await;
    let n_subs = h.scalar_i64("SELECT COUNT(*) FROM payments_subscriptions WHERE environment = 'test'").await as usize;
    let n_customers = h.scalar_i64("SELECT COUNT(*) FROM payments_customers WHERE environment = 'test'").await as usize;
    assert!(n_subs >= 130 && n_customers >= 130, "{n_subs} subscriptions, {n_customers} customers");

    // Many rows share one `updated_at` (one sync): the tiebreaker keeps pages disjoint.
    let subs = walk(&h, "subscriptions", "subscriptions", "stripeSubscriptionId", "", 17).await;
    assert_eq!(subs.len(), n_subs);
    assert_unique(&subs);
    let customers = walk(&h, "customers", "customers", "stripeCustomerId", "", 100).await;
    // `ids` (additive): the given customers, in the list's order, paged.
    let picked = [&customers[40], &customers[3], &customers[77], &customers[12]];
    let ids = picked.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
    let given = walk(&h, "customers", "customers", "stripeCustomerId", &format!("&ids={ids},cus_unknown"), 3).await;
    let in_order: Vec<String> = customers.iter().filter(|c| picked.contains(c)).cloned().collect();
    assert_eq!(given, in_order);
    assert_eq!(customers.len(), n_customers);
    assert_unique(&customers);
    // The same walk with a filter.
    let active = h
        .scalar_i64("SELECT COUNT(*) FROM payments_subscriptions WHERE environment = 'test' AND status = 'active'")
        .await as usize;
    assert!(active > 0);
    let filtered = walk(&h, "subscriptions", "subscriptions", "stripeSubscriptionId", "&status=active", 9).await;
    assert_eq!(filtered.len(), active);
    assert_unique(&filtered);
    // One subscription by id (the contract has no single-subscription route).
    let one = list(&h, "subscriptions", &format!("?id={}", subs[5])).await.ok(200).clone();
    let one = one["subscriptions"].as_array().unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["stripeSubscriptionId"], subs[5].as_str());
    let none = list(&h, "subscriptions", "?id=sub_missing").await.ok(200).clone();
    assert_eq!(none["subscriptions"], serde_json::json!([]));
    let first = &customers[0];
    let found = walk(&h, "customers", "customers", "stripeCustomerId", &format!("&search={first}"), 5).await;
    assert_eq!(found, vec![first.clone()]);

    // History rows inserted directly (no events in a bulk seed), several per millisecond.
    let now = payments_engine::time::now_ms();
    for i in 0..120 {
        sqlx::query(
            "INSERT INTO payments_payment_history (id, environment, type, status, subject_type, subject_id,
                 stripe_payment_intent_id, amount, currency, stripe_created_at, raw, created_at, updated_at)
             VALUES ($1, 'test', $2, 'succeeded', 'team', $3, $4, 100, 'usd', $5, '{}', $5, $5)",
        )
        .bind(format!("00000000-0000-4000-8000-{i:012}"))
        .bind(if i % 3 == 0 { "subscription_invoice" } else { "one_time_payment" })
        .bind(if i % 2 == 0 { "even" } else { "odd" })
        .bind(format!("pi_{i:04}"))
        .bind(now - (i / 4) as i64)
        .execute(&h.pool)
        .await
        .unwrap();
    }
    let all = walk(&h, "payment-history", "paymentHistory", "stripePaymentIntentId", "", 11).await;
    assert_eq!(all.len(), 120);
    assert_unique(&all);
    let even =
        walk(&h, "payment-history", "paymentHistory", "stripePaymentIntentId", "&subjectType=team&subjectId=even", 7)
            .await;
    assert_eq!(even.len(), 60);
    assert_unique(&even);
    let invoices =
        walk(&h, "payment-history", "paymentHistory", "stripePaymentIntentId", "&type=subscription_invoice", 100).await;
    assert_eq!(invoices.len(), 40);
    // Without `cursor`: the contract's capped list, newest first.
    let capped = h.get("/api/payments/test/payment-history?limit=100").await.ok(200).clone();
    assert_eq!(capped["paymentHistory"].as_array().unwrap().len(), 100);
    assert_eq!(capped["paymentHistory"][0]["stripePaymentIntentId"], all[0].as_str());
}

#[tokio::test]
async fn the_webhook_events_list_pages_and_filters() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let secret = crate::webhooks::webhook_secret(&h).await;
    let now = stripe_client::unix_now();
    for i in 0..25 {
        let kind = if i % 5 == 0 { "product.created" } else { "customer.created" };
        let event = serde_json::json!({"id": format!("evt_{i:03}"), "type": kind, "created": now, "livemode": false,
            "data": {"object": {"id": format!("cus_{i:03}"), "object": "customer", "email": null, "metadata": {}}}});
        crate::webhooks::post_event(&h.base, &secret, &event).await.ok(200);
    }
    let all = walk(&h, "webhook-events", "webhookEvents", "stripeEventId", "", 4).await;
    assert_eq!(all.len(), 25);
    assert_unique(&all);
    let ignored = walk(&h, "webhook-events", "webhookEvents", "stripeEventId", "&status=ignored", 100).await;
    assert_eq!(ignored.len(), 5);
    let typed = walk(&h, "webhook-events", "webhookEvents", "stripeEventId", "&type=customer.created", 3).await;
    assert_eq!(typed.len(), 20);
    let one = walk(&h, "webhook-events", "webhookEvents", "stripeEventId", "&objectId=cus_007", 3).await;
    assert_eq!(one, vec!["evt_007".to_owned()]);
    // One event by its id (search by `evt_…`).
    let by_id = walk(&h, "webhook-events", "webhookEvents", "stripeEventId", "&id=evt_012", 3).await;
    assert_eq!(by_id, vec!["evt_012".to_owned()]);
    assert!(walk(&h, "webhook-events", "webhookEvents", "stripeEventId", "&id=evt_nope", 3).await.is_empty());
    // Several objects at once (the subject page's recent events), merged in the list's order and
    // paged across the ids; repeats and blanks in the list are ignored.
    let several = walk(
        &h,
        "webhook-events",
        "webhookEvents",
        "stripeEventId",
        "&objectId=cus_003,cus_011,+cus_003,,cus_020,cus_nope",
        2,
    )
    .await;
    let mut expected: Vec<String> =
        all.iter().filter(|e| ["evt_003", "evt_011", "evt_020"].contains(&e.as_str())).cloned().collect();
    assert_eq!(several, expected);
    expected.reverse();
    assert_ne!(several, expected, "the merge keeps the newest-first order");
    for (q, message) in [
        ("objectId=,%20,".to_owned(), "objectId: Expected at least one id".to_owned()),
        (
            format!("objectId={}", (0..101).map(|i| format!("cus_{i}")).collect::<Vec<_>>().join(",")),
            "objectId: At most 100 ids".into(),
        ),
    ] {
        h.get(&format!("/api/payments/test/webhook-events?{q}")).await.err(400, "INVALID_INPUT", &message);
    }
    let first = h.get("/api/payments/test/webhook-events?limit=2").await.ok(200).clone();
    assert_eq!(first["webhookEvents"].as_array().unwrap().len(), 2);
    assert!(first["nextCursor"].is_string());
}

/// `GET /{env}/payment-history/summary` (additive): the history page's chart and status counts,
/// over the filtered view's newest 2,000 rows, equal to counting those rows one by one.
#[tokio::test]
async fn the_history_summary_counts_the_filtered_view() {
    let h = Harness::start().await;
    // 2,100 rows an hour apart, newest first in `i`; subject `b` has 100 of them and `a` exactly
    // 2,000 (the boundary: counted whole, not truncated). Every 13th has no Stripe time.
    const BASE: i64 = 1_780_272_000_000; // 2026-06-01T00:00:00Z
    sqlx::query(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2100)
         INSERT INTO payments_payment_history (id, environment, type, status, subject_type, subject_id, amount,
             currency, stripe_created_at, raw, created_at, updated_at)
         SELECT 'sum' || i, 'test', CASE WHEN i % 10 = 0 THEN 'refund' ELSE 'one_time_payment' END,
             CASE WHEN i % 10 = 0 THEN 'refunded' WHEN i % 7 = 0 THEN 'failed' ELSE 'succeeded' END,
             'team', CASE WHEN i % 21 = 0 THEN 'b' ELSE 'a' END, 100, 'usd',
             CASE WHEN i % 13 = 0 THEN NULL ELSE {BASE} - CAST(i AS BIGINT) * 3600000 END, '{{}}',
             {BASE} - CAST(i AS BIGINT) * 3600000, 0 FROM n"
    ))
    .execute(&h.pool)
    .await
    .unwrap();
    struct Row {
        at: i64,
        refund: bool,
        status: &'static str,
        subject: &'static str,
    }
    let rows: Vec<Row> = (1..=2100_i64)
        .map(|i| Row {
            at: BASE - i * 3_600_000,
            refund: i % 10 == 0,
            status: if i % 10 == 0 {
                "refunded"
            } else if i % 7 == 0 {
                "failed"
            } else {
                "succeeded"
            },
            subject: if i % 21 == 0 { "b" } else { "a" },
        })
        .collect();
    let expect = |keep: &dyn Fn(&Row) -> bool| {
        let matching: Vec<&Row> = rows.iter().filter(|r| keep(r)).collect();
        let counted = &matching[..matching.len().min(2000)];
        let mut days = std::collections::BTreeMap::<String, (u32, u32)>::new();
        let mut statuses = std::collections::BTreeMap::<&str, u32>::new();
        for r in counted {
            let day = days.entry(payments_engine::time::iso_ms(r.at)[..10].to_owned()).or_default();
            if r.refund {
                day.1 += 1
            } else {
                day.0 += 1
            }
            *statuses.entry(r.status).or_default() += 1;
        }
        let mut statuses: Vec<(&str, u32)> = statuses.into_iter().collect();
        statuses.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        serde_json::json!({
            "days": days.into_iter().map(|(date, (p, r))| serde_json::json!({"date": date, "payments": p, "refunds": r}))
                .collect::<Vec<_>>(),
            "statuses": statuses.into_iter().map(|(s, n)| serde_json::json!({"status": s, "rows": n})).collect::<Vec<_>>(),
            "rows": counted.len(),
            "truncated": matching.len() > 2000,
        })
    };
    let summary = |q: &'static str| {
        let h = &h;
        async move { h.get(&format!("/api/payments/test/payment-history/summary{q}")).await.ok(200)["summary"].clone() }
    };
    let all = summary("").await;
    assert_eq!(all, expect(&|_| true));
    assert_eq!((all["rows"].as_u64(), all["truncated"].as_bool()), (Some(2000), Some(true)));
    let a = summary("?subjectType=team&subjectId=a").await;
    assert_eq!(a, expect(&|r| r.subject == "a"));
    assert_eq!((a["rows"].as_u64(), a["truncated"].as_bool()), (Some(2000), Some(false)));
    assert_eq!(summary("?type=refund").await, expect(&|r| r.refund));
    assert_eq!(
        summary("?subjectType=team&subjectId=b&status=failed").await,
        expect(&|r| r.subject == "b" && r.status == "failed")
    );
    // A range, and the list's paging parameters accepted and ignored.
    let (from, to) = (BASE - 500 * 3_600_000, BASE - 100 * 3_600_000);
    let ranged = h
        .get(&format!(
            "/api/payments/test/payment-history/summary?from={from}&to={to}&limit=5&cursor=&status=succeeded"
        ))
        .await
        .ok(200)["summary"]
        .clone();
    assert_eq!(ranged, expect(&|r| r.at >= from && r.at < to && r.status == "succeeded"));
    assert_eq!(summary("?customer=cus_none").await, expect(&|_| false));

    for (q, message) in [
        ("?from=yesterday", "from: Invalid date"),
        ("?subjectType=team", ": subjectType and subjectId must be provided together"),
        ("?search=x", ": Unrecognized key(s) in object: 'search'"),
        ("?limit=0", "limit: Number must be greater than or equal to 1"),
    ] {
        h.get(&format!("/api/payments/test/payment-history/summary{q}")).await.err(400, "INVALID_INPUT", message);
    }
}
