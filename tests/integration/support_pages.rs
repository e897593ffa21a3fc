//! The support pages' server functions and the payment-history CSV export, over real HTTP
//! against the demo sandbox (`TestApp` runs with `--demo`).

use crate::support;

use payments_console::auth::Role;
use payments_console::environment::Environment;
use payments_engine::{ListOptions, PaymentHistory};
use payments_model::{Paging, QueryFilters};
use serde_json::{json, Value};
use support::TestApp;

async fn call(client: &reqwest::Client, app: &TestApp, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let res = client.post(app.url(&format!("/api/console/{endpoint}"))).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A page of 100 of the list `F`, with `filters` read as the list route reads its query.
fn options<F: QueryFilters>(filters: &[(&str, &str)]) -> ListOptions<F> {
    let get = |k: &str| filters.iter().find(|(key, _)| *key == k).map(|(_, v)| (*v).to_owned());
    ListOptions { limit: 100, filters: F::read(get), ..Default::default() }
}

/// Renews every active demo subscription once in the sandbox, so payment history has rows, and
/// waits for the webhooks to land.
async fn seed_history(app: &TestApp) -> Vec<PaymentHistory> {
    let sandbox = app.state.settings.demo_sandbox_url.clone().expect("demo sandbox");
    let subs = app.state.engine.list_subscriptions(Environment::Test, &options(&[])).await.unwrap();
    assert!(!subs.items.is_empty(), "the demo has subscriptions");
    for s in subs.items.iter().filter(|s| s.status.as_str() == "active") {
        let res = reqwest::Client::new()
            .post(format!("{sandbox}/_sandbox/subscriptions/{}/advance", s.stripe_subscription_id))
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "advance: {}", res.text().await.unwrap());
    }
    for _ in 0..100 {
        let page = app.state.engine.list_payment_history(Environment::Test, &options(&[])).await.unwrap();
        if !page.items.is_empty() {
            // Let the rest of the deliveries arrive.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            return app.state.engine.list_payment_history(Environment::Test, &options(&[])).await.unwrap().items;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no payment history after renewing the demo subscriptions");
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    // The export quotes cells with commas; the demo data has none in the columns checked here.
    text.lines().skip(1).map(|l| l.split(',').map(str::to_owned).collect()).collect()
}

#[tokio::test]
async fn the_csv_export_needs_a_session_and_matches_the_filtered_view() {
    let app = TestApp::spawn().await;
    let url = |q: &str| app.url(&format!("/export/test/payment-history.csv{q}"));
    assert_eq!(app.client().get(url("")).send().await.unwrap().status(), 401);

    let history = seed_history(&app).await;
    let support = app.signed_in("support@example.com", Role::Support).await;

    let res = support.get(url("")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("payment-history-test.csv"));
    let text = res.text().await.unwrap();
    assert!(text.starts_with("date,type,status,amount,"), "{text}");
    assert_eq!(csv_rows(&text).len(), history.len(), "{text}");

    // A subject filter: the same rows as the backend's, and only that subject's.
    let acme = app
        .state
        .engine
        .list_payment_history(
            Environment::Test,
            &ListOptions { limit: 100, subject: Some(("team".into(), "acme".into())), ..Default::default() },
        )
        .await
        .unwrap()
        .items;
    assert!(!acme.is_empty(), "the renewed team:acme subscription paid an invoice: {history:?}");
    let text = support.get(url("?subjectType=team&subjectId=acme")).send().await.unwrap().text().await.unwrap();
    let rows = csv_rows(&text);
    assert_eq!(rows.len(), acme.len(), "{text}");
    assert!(rows.iter().all(|r| r[8] == "team" && r[9] == "acme"), "{text}");

    // A status filter that matches nothing gives the header only.
    let text = support.get(url("?status=canceled&type=refund")).send().await.unwrap().text().await.unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    // Half a subject and a bad date are refused before any row.
    assert_eq!(support.get(url("?subjectType=team")).send().await.unwrap().status(), 400);
    assert_eq!(support.get(url("?from=yesterday")).send().await.unwrap().status(), 400);
    assert_eq!(support.get(app.url("/export/prod/payment-history.csv")).send().await.unwrap().status(), 404);
}

/// The export runs to the view's last row: it stopped at 100,000 rows (1,000 pages) and the
/// file, cut short, passed for the whole history.
#[tokio::test]
async fn the_csv_export_has_every_row_of_a_large_history() {
    let app = TestApp::spawn().await;
    let rows = 100_050;
    sqlx::query(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {rows})
         INSERT INTO payments_payment_history (id, environment, type, status, stripe_payment_intent_id, amount,
             amount_refunded, currency, stripe_created_at, raw, created_at, updated_at)
         SELECT 'big_' || i, 'live', 'one_time_payment', 'succeeded', 'pi_big_' || i, 100, 0, 'usd', 1000 + i, '{{}}',
             1000 + i, 1000 + i FROM n"
    ))
    .execute(app.state.db.pool())
    .await
    .unwrap();
    let support = app.signed_in("support@example.com", Role::Support).await;
    let res = support.get(app.url("/export/live/payment-history.csv")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), rows + 1, "a header and every row");
    // Newest first, each row once: the last line is the oldest row.
    assert!(lines[1].contains("pi_big_100049,"), "{}", lines[1]);
    assert!(lines[rows].contains("pi_big_0,"), "{}", lines[rows]);
}

#[tokio::test]
async fn support_lists_page_with_a_cursor_and_filter() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    // Customers: two a page, then the rest with the cursor, without repeats.
    let form = [("env", "test"), ("search", ""), ("cursor", ""), ("limit", "2")];
    assert_eq!(call(&app.client(), &app, "support-customers", &form).await.0, 401);
    let (status, first) = call(&support, &app, "support-customers", &form).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["page"]["items"].as_array().unwrap().len(), 2, "{first}");
    let next = first["page"]["nextCursor"].as_str().expect("more customers").to_owned();
    let form = [("env", "test"), ("search", ""), ("cursor", next.as_str()), ("limit", "2")];
    let (_, second) = call(&support, &app, "support-customers", &form).await;
    let a = first["page"]["items"][0]["stripeCustomerId"].as_str().unwrap();
    assert!(second["page"]["items"].as_array().unwrap().iter().all(|c| c["stripeCustomerId"] != a), "{second}");
    // Search by email.
    let form = [("env", "test"), ("search", "acme"), ("cursor", ""), ("limit", "25")];
    let (_, found) = call(&support, &app, "support-customers", &form).await;
    let items = found["page"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!(items[0]["email"], "billing@acme.test");

    // Subscriptions of one subject, with item labels from the catalog.
    let form = [
        ("env", "test"),
        ("filters[subject_type]", "team"),
        ("filters[subject_id]", "acme"),
        ("filters[status]", ""),
        ("filters[customer]", ""),
        ("cursor", ""),
        ("limit", "25"),
    ];
    let (status, subs) = call(&support, &app, "support-subscriptions", &form).await;
    assert_eq!(status, 200, "{subs}");
    // Half a subject is the caller's mistake: a 400 that says what is missing.
    let mut half = form;
    half[2] = ("filters[subject_id]", "");
    let (status, refused) = call(&support, &app, "support-subscriptions", &half).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("Give both the subject type and the subject id"), "{refused}");
    let items = subs["listing"]["page"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{subs}");
    assert_eq!(items[0]["subjectId"], "acme");
    let price = items[0]["items"][0]["stripePriceId"].as_str().unwrap();
    assert!(subs["labels"][price].as_str().is_some_and(|l| l.contains("Pro")), "{subs}");

    // The detail of that subscription, and the subject page's data.
    let id = items[0]["stripeSubscriptionId"].as_str().unwrap();
    let (status, detail) = call(&support, &app, "support-subscription", &[("env", "test"), ("id", id)]).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["subscription"]["stripeSubscriptionId"], id);
    let (status, _) = call(&support, &app, "support-subscription", &[("env", "test"), ("id", "sub_missing")]).await;
    assert_eq!(status, 404);
    let form = [("env", "test"), ("subject_type", "team"), ("subject_id", "acme")];
    let (status, subject) = call(&support, &app, "support-subject", &form).await;
    assert_eq!(status, 200, "{subject}");
    assert_eq!(subject["subscriptions"].as_array().unwrap().len(), 1, "{subject}");
    assert_eq!(subject["customers"][0]["details"]["email"], "billing@acme.test", "{subject}");
    assert!(subject["events"].is_array(), "the embedded engine has an event log: {subject}");
}

/// A remote backend without the engine's filters and cursor: the pages fall back to the first
/// unfiltered page and say so, instead of failing.
#[tokio::test]
async fn lists_fall_back_to_the_first_page_when_filters_are_unsupported() {
    use payments_console::backend::ssr::BackendError;
    use payments_console::backend::ListQuery;
    use payments_console::services::listing::list_with_fallback;
    use payments_engine::Page;
    use payments_model::SubscriptionListFilters;
    let remote = |q: ListQuery<SubscriptionListFilters>| async move {
        if q.uses_extensions() {
            Err(BackendError::Unsupported("filters and pagination"))
        } else {
            Ok(Page { items: vec![q.limit.unwrap_or_default()], next_cursor: None })
        }
    };
    let mut q = ListQuery::<SubscriptionListFilters> { limit: Some(7), cursor: Paging::First, ..Default::default() };
    q.filters.status = Some("active".into());
    let listing = list_with_fallback(q, remote).await.unwrap();
    assert_eq!(listing.page.items, vec![7]);
    let notice = listing.notice.expect("a notice");
    assert!(notice.starts_with("Unsupported") && notice.contains("without filters"), "{notice}");
    // Without extensions nothing is dropped and nothing is said.
    let plain = list_with_fallback(ListQuery::default(), remote).await.unwrap();
    assert!(plain.notice.is_none());
    // Other errors still fail.
    let failing = |_q: ListQuery<SubscriptionListFilters>| async {
        Err::<Page<u32>, _>(BackendError::Unavailable("down".into()))
    };
    let err = list_with_fallback(ListQuery::default(), failing).await.unwrap_err();
    assert_eq!(err.status_code(), 502);
}

/// The demo customer of `team:acme` and its id.
async fn acme(app: &TestApp) -> String {
    let found =
        app.state.engine.list_customers(Environment::Test, &options(&[("search", "billing@acme.test")])).await.unwrap();
    found.items[0].stripe_customer_id.clone()
}

#[tokio::test]
async fn the_customer_page_shows_everything_about_one_customer() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    let history = seed_history(&app).await;
    let id = acme(&app).await;
    assert!(history.iter().any(|p| p.stripe_customer_id.as_deref() == Some(id.as_str())), "acme paid something");

    let (status, data) = call(&support, &app, "support-customer", &[("env", "test"), ("id", &id)]).await;
    assert_eq!(status, 200, "{data}");
    assert_eq!(data["customer"]["email"], "billing@acme.test");
    assert_eq!(data["subjects"], serde_json::json!([{"subject_type": "team", "subject_id": "acme"}]));
    let subs = data["subscriptions"].as_array().unwrap();
    assert!(!subs.is_empty() && subs.iter().all(|s| s["stripeCustomerId"] == id.as_str()), "{data}");
    let payments = data["payments"].as_array().unwrap();
    assert!(!payments.is_empty() && payments.iter().all(|p| p["stripeCustomerId"] == id.as_str()), "{data}");
    assert!(data["events"].as_array().is_some_and(|e| !e.is_empty()), "events about it: {data}");
    // The card on file: brand, last four and expiry, never more.
    assert!(data["customer"]["paymentMethodLast4"].is_string(), "{data}");
    assert!(data["customer"]["paymentMethodExpYear"].is_number(), "{data}");

    // The page itself, rendered on the server.
    let html = app.page(&support, &format!("/test/customers/{id}")).await;
    for needle in [
        "billing@acme.test",
        "data-testid=\"customer-identity\"",
        "href=\"/test/subjects/team/acme\"",
        &format!("https://dashboard.stripe.com/test/customers/{id}"),
        "data-testid=\"customer-payments\"",
        "expires",
    ] {
        assert!(html.contains(needle), "{needle} missing from the customer page");
    }
    // A customer the mirror does not have, and an id that is not a customer's.
    let html = app.page(&support, "/test/customers/cus_missing").await;
    assert!(html.contains("data-testid=\"customer-missing\""));
    let (status, _) = call(&support, &app, "support-customer", &[("env", "test"), ("id", "sub_1")]).await;
    assert_eq!(status, 400);
    assert_eq!(call(&app.client(), &app, "support-customer", &[("env", "test"), ("id", &id)]).await.0, 401);

    // Every list that names the customer links to its page.
    let link = format!("href=\"/test/customers/{id}\"");
    for path in [
        "/test/customers",
        "/test/subscriptions",
        "/test/history",
        "/test/subjects/team/acme",
        "/test/webhooks?type=customer.created",
    ] {
        let html = app.page(&support, path).await;
        assert!(html.contains(&link), "{path} does not link to the customer page");
    }
}

#[tokio::test]
async fn search_jumps_to_the_page_of_any_id_email_or_subject() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    let history = seed_history(&app).await;
    let id = acme(&app).await;
    let go = |q: String| {
        let support = support.clone();
        let app = &app;
        async move {
            let (status, body) = call(&support, app, "support-search", &[("env", "test"), ("q", &q)]).await;
            assert_eq!(status, 200, "{q}: {body}");
            body
        }
    };
    let paid = history.iter().find(|p| p.kind.as_str() != "refund" && p.stripe_payment_intent_id.is_some()).unwrap();
    let pi = paid.stripe_payment_intent_id.clone().unwrap();
    let catalog = app.state.engine.list_catalog(Environment::Test).await.unwrap();
    let price = &catalog.prices[0];
    let cases = [
        (id.clone(), format!("/test/customers/{id}")),
        (" billing@acme.test ".into(), format!("/test/customers/{id}")),
        ("team:acme".into(), "/test/subjects/team/acme".into()),
        (pi.clone(), format!("/test/history?object={pi}")),
        (price.stripe_price_id.clone(), format!("/test/catalog?product={}", price.stripe_product_id.clone().unwrap())),
        (
            catalog.products[0].stripe_product_id.clone(),
            format!("/test/catalog?product={}", catalog.products[0].stripe_product_id),
        ),
        ("evt_1".into(), "/test/webhooks?id=evt_1".into()),
        ("nobody@nowhere.test".into(), "/test/customers?search=nobody%40nowhere.test".into()),
    ];
    for (q, path) in cases {
        assert_eq!(go(q.clone()).await, serde_json::json!({ "Go": path }), "{q}");
    }
    // Text lists the matching customers and products.
    let found = go("acme".into()).await;
    let customers = found["Matches"]["customers"].as_array().unwrap();
    assert_eq!(customers[0]["stripeCustomerId"], id.as_str(), "{found}");
    let name = catalog.products[0].name.to_lowercase();
    let found = go(name.clone()).await;
    assert!(!found["Matches"]["products"].as_array().unwrap().is_empty(), "{name}: {found}");
    // The page answers a browser with a redirect, so the header's GET form lands on the object's page.
    let res = support.get(app.url(&format!("/test/search?q={id}"))).header("accept", "text/html").send().await.unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()["location"], format!("/test/customers/{id}").as_str());
    // The target pages show the object: the payment's rows, and the event by its id.
    let form = [
        ("env", "test"),
        ("filters[subject_type]", ""),
        ("filters[subject_id]", ""),
        ("filters[kind]", ""),
        ("filters[status]", ""),
        ("filters[customer]", ""),
        ("filters[object]", pi.as_str()),
        ("filters[from]", ""),
        ("filters[to]", ""),
        ("cursor", ""),
        ("limit", "25"),
    ];
    let (status, rows) = call(&support, &app, "support-history", &form).await;
    assert_eq!(status, 200, "{rows}");
    let rows = rows["page"]["items"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| r["stripePaymentIntentId"] == pi.as_str()), "{rows:?}");
    let event = app.state.engine.list_webhook_events(Environment::Test, &options(&[])).await.unwrap().items[3].clone();
    let html = app.page(&support, &format!("/test/webhooks?id={}", event.stripe_event_id)).await;
    assert!(html.contains("data-testid=\"event-id-filter\"") && html.contains(&event.stripe_event_id));
    assert_eq!(call(&app.client(), &app, "support-search", &[("env", "test"), ("q", "acme")]).await.0, 401);
}

#[tokio::test]
async fn admins_refund_once_per_click_and_support_cannot() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    let history = seed_history(&app).await;
    let paid = history
        .iter()
        .find(|p| {
            p.kind.as_str() != "refund" && p.status.as_str() == "succeeded" && p.stripe_payment_intent_id.is_some()
        })
        .expect("a refundable payment");
    let pi = paid.stripe_payment_intent_id.clone().unwrap();
    let currency = paid.currency.clone().unwrap();
    let form = |amount: &'static str, key: &'static str, confirm: &'static str, env: &'static str| {
        vec![
            ("env", env.to_owned()),
            ("form[payment_intent_id]", pi.clone()),
            ("form[currency]", currency.clone()),
            ("form[amount]", amount.to_owned()),
            ("form[reason]", "requested_by_customer".to_owned()),
            ("form[idempotency_key]", key.to_owned()),
            ("form[confirm]", confirm.to_owned()),
        ]
    };
    let post = |client: &reqwest::Client, f: Vec<(&'static str, String)>| {
        let req = client.post(app.url("/api/console/admin-refund")).form(&f);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            (status, serde_json::from_str::<Value>(&res.text().await.unwrap()).unwrap_or(Value::Null))
        }
    };
    // Support sees no control and the server refuses them; so do anonymous callers.
    assert_eq!(post(&support, form("1.00", "k-support", "", "test")).await.0, 403);
    assert_eq!(post(&app.client(), form("1.00", "k-anon", "", "test")).await.0, 401);
    let html = app.page(&support, "/test/history").await;
    assert!(!html.contains("data-testid=\"refund-open\""), "support sees no refund control");
    assert!(!html.contains("RefundForms_") && !html.contains("data-refund-forms"), "nor its island");
    let html = app.page(&admin, "/test/history?status=succeeded").await;
    assert!(html.contains("data-testid=\"refund-open\""), "admins do");
    // Each refundable row has a link to the page with its form open, keeping the filters, and
    // carrying what the island fills the table's one form (a template) with; one island for the
    // whole table opens and submits them in place (`src/pages/refund.rs`), not one per row.
    let links = html.matches(r#"data-testid="refund-open""#).count();
    assert!(links > 1, "the demo has several refundable payments: {html}");
    let form_tag = r#"<form action="/api/console/admin-refund" method="post""#;
    assert_eq!(html.matches(form_tag).count(), 1, "no row's form is open: {html}");
    assert_eq!(html.matches(&format!(r#"<template data-refund-template="">{form_tag}"#)).count(), 1, "{html}");
    assert_eq!(html.matches(r#"<leptos-island data-component="RefundForms_"#).count(), 1, "{html}");
    assert_eq!(html.matches("data-refund-forms").count(), 1, "{html}");
    let link = format!(r#"href="/test/history?status=succeeded&amp;refund={pi}""#);
    let at = html.find(&link).unwrap_or_else(|| panic!("no link opening {pi}'s form: {html}"));
    let tag = &html[html[..at].rfind("<a").unwrap()..at + html[at..].find('>').unwrap()];
    assert!(tag.contains(r#"aria-expanded="false""#) && tag.contains(&format!(r#"data-pi="{pi}""#)), "{tag}");
    assert!(tag.contains(&format!(r#"data-currency="{currency}""#)) && tag.contains("data-up-to=\"$"), "{tag}");
    // Opened by the address, as without JavaScript: that row's form is part of the page, for
    // its payment, with what is left as the amount and a way back to the same rows.
    let html = app.page(&admin, &format!("/test/history?status=succeeded&refund={pi}")).await;
    assert_eq!(html.matches(form_tag).count(), 2, "the template and the row's form: {html}");
    let open = html.find(r#"aria-expanded="true""#).expect("the opened row's link");
    let row_form = &html[open..open + html[open..].find("</form>").unwrap()];
    assert!(row_form.contains(&format!(r#"name="form[payment_intent_id]" value="{pi}""#)), "{row_form}");
    assert!(row_form.contains(&format!(r#"name="form[currency]" value="{currency}""#)), "{row_form}");
    let left = paid.amount.unwrap() - paid.amount_refunded.unwrap_or(0);
    let amount = format!(r#"name="form[amount]" value="{}.{:02}""#, left / 100, left % 100);
    assert!(row_form.contains(&amount), "{amount} in {row_form}");
    assert!(row_form.contains(r#"href="/test/history?status=succeeded" data-testid="refund-cancel""#), "{row_form}");

    // A double click: one refund.
    let (status, first) = post(&admin, form("1.00", "click-1", "", "test")).await;
    assert_eq!(status, 200, "{first}");
    let (_, again) = post(&admin, form("1.00", "click-1", "", "test")).await;
    assert_eq!(first["stripeRefundId"], again["stripeRefundId"], "{again}");
    assert_eq!(first["amount"], 100);
    let refunds = app.sandbox_get(&format!("/v1/refunds?payment_intent={pi}")).await;
    assert_eq!(refunds["data"].as_array().unwrap().len(), 1, "{refunds}");
    // Bad input and Stripe's refusal, each with a message for the form.
    let (status, err) = post(&admin, form("0", "k0", "", "test")).await;
    assert_eq!(status, 400, "{err}");
    let (status, err) = post(&admin, form("99999999", "k-big", "", "test")).await;
    assert_eq!(status, 400, "{err}");
    assert!(err.to_string().contains("greater than"), "Stripe's message: {err}");
    // Live mode asks for the typed confirmation before anything reaches Stripe: the form has
    // the field, and only with `live` typed does the request reach the backend (which has no
    // live key in the demo).
    let (status, err) = post(&admin, form("1.00", "k-live", "", "live")).await;
    assert_eq!(status, 400, "{err}");
    assert!(err.to_string().contains("type live"), "{err}");
    let (status, err) = post(&admin, form("1.00", "k-live", "live", "live")).await;
    assert_eq!(status, 400, "{err}");
    assert!(err.to_string().contains("STRIPE_LIVE_SECRET_KEY is not configured"), "{err}");
    sqlx::query(
        "INSERT INTO payments_payment_history (id, environment, type, status, stripe_payment_intent_id, amount,
             amount_refunded, currency, stripe_created_at, raw, created_at, updated_at)
         VALUES ('live-row', 'live', 'one_time_payment', 'succeeded', 'pi_live_1', 5000, 0, 'eur', 1, '{}', 1, 1)",
    )
    .execute(app.state.db.pool())
    .await
    .unwrap();
    let live = app.page(&admin, "/live/history").await;
    assert!(live.contains("data-testid=\"refund-confirm\""), "the live form asks for the typed confirmation");
    assert!(!app.page(&admin, "/test/history").await.contains("data-testid=\"refund-confirm\""));
    // The history row follows Stripe's event.
    for _ in 0..100 {
        let rows =
            app.state.engine.list_payment_history(Environment::Test, &options(&[("object", &pi)])).await.unwrap();
        if rows.items.iter().any(|r| r.kind.as_str() == "refund" && r.amount == Some(100)) {
            // The refund is audited, by whom, with Stripe's request id.
            let audit = app.state.audit.page(None, 50).await.unwrap();
            let refunds: Vec<_> = audit.entries.iter().filter(|e| e.action == "payments.refund.create").collect();
            // Refused attempts are audited as failures; the refund itself with Stripe's request id.
            assert!(
                refunds.iter().any(|e| e.detail.as_deref().is_some_and(|d| d.starts_with("failed:"))),
                "{refunds:?}"
            );
            let succeeded = |e: &&&payments_console::model::audit::AuditEntry| {
                e.environment.as_deref() == Some("test") && !e.detail.as_deref().unwrap_or("").starts_with("failed:")
            };
            let entry = refunds.iter().find(succeeded).expect("the refund is audited");
            assert_eq!(entry.actor, "user:admin@example.com");
            assert_eq!(entry.target.as_deref(), Some(pi.as_str()));
            assert!(entry.stripe_request_id.as_deref().is_some_and(|r| r.starts_with("req_")), "{entry:?}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no refund row arrived for {pi}");
}

/// What a page shows as text: its markup without scripts (the hydration data) and tags.
fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        text.push_str(&rest[..start]);
        rest = rest[start..].split_once("</script>").map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Where `text` holds an ISO 8601 timestamp (`2026-11-25T10:00`), the timestamp.
fn raw_iso(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd";
    (0..b.len().saturating_sub(shape.len() - 1)).find_map(|i| {
        let fits = shape.iter().zip(&b[i..]).all(|(s, c)| if *s == b'd' { c.is_ascii_digit() } else { s == c });
        fits.then(|| &text[i..i + shape.len()])
    })
}

/// How many times `text` shows as `HH:MM UTC`.
fn times_shown(text: &str) -> usize {
    text.match_indices(" UTC")
        .filter(|(i, _)| {
            let before = &text.as_bytes()[..*i];
            before.len() >= 3
                && before[before.len() - 3] == b':'
                && before[before.len() - 2..].iter().all(u8::is_ascii_digit)
        })
        .count()
}

/// Every page shows times one way: `YYYY-MM-DD HH:MM UTC` inside `<time datetime="…">`, which
/// the browser may switch to the viewer's time zone after hydration; never a raw ISO string
/// (issue #15, defect 8).
#[tokio::test]
async fn every_page_shows_times_in_one_format_inside_time_elements() {
    let app = TestApp::spawn().await;
    seed_history(&app).await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let subs = app.state.engine.list_subscriptions(Environment::Test, &options(&[])).await.unwrap().items;
    let sub = subs.iter().find(|s| s.subject_type.is_some()).expect("a subscription with a subject");
    let paths = [
        "/test".to_string(),
        "/test/subscriptions".into(),
        format!("/test/subscriptions/{}", sub.stripe_subscription_id),
        format!("/test/subjects/{}/{}", sub.subject_type.as_deref().unwrap(), sub.subject_id.as_deref().unwrap()),
        "/test/history".into(),
        "/test/customers".into(),
        "/test/webhooks".into(),
    ];
    let mut pages: Vec<(String, String)> = Vec::new();
    for path in paths {
        pages.push((path.clone(), app.page(&support, &path).await));
    }
    for path in ["/test/sync", "/test/audit"] {
        pages.push((path.to_string(), app.page(&admin, path).await));
    }
    for (path, html) in &pages {
        let text = visible_text(html);
        assert_eq!(raw_iso(&text), None, "{path} shows a raw ISO timestamp");
        let shown = times_shown(&text);
        let in_time = html.matches(" UTC</time>").count();
        assert_eq!(shown, in_time, "{path}: times outside <time> elements");
    }
    let overview = &pages[0].1;
    let last_sync = overview.split("Last sync</dt><dd>").nth(1).expect("the last sync");
    assert!(last_sync.starts_with("<time datetime=\"20"), "{last_sync}");
    let shown = visible_text(last_sync.split("</time>").next().unwrap());
    assert!(shown.len() == "2026-12-04 10:00 UTC".len() && shown.ends_with(" UTC"), "{shown}");
    assert!(pages.iter().map(|(_, h)| h.matches("<time datetime=").count()).sum::<usize>() > 10);
}

/// Every filter form applies with the same words, from one shared button (issue #15, defect 9).
#[tokio::test]
async fn filter_forms_share_one_apply_button() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    for path in ["/test/subscriptions", "/test/history", "/test/webhooks", "/test/customers"] {
        let html = app.page(&support, path).await;
        let form = html.split("class=\"filters").nth(1).and_then(|f| f.split("</form>").next()).expect(path);
        let buttons: Vec<&str> = form
            .split("<button")
            .skip(1)
            .filter(|b| b.contains("type=\"submit\""))
            .map(|b| b.split('>').nth(1).and_then(|t| t.split('<').next()).unwrap_or_default())
            .collect();
        assert_eq!(buttons, ["Apply filters"], "{path}");
        // Its "clear" link, where there is one, says the same everywhere too.
        assert!(!form.contains(">Clear</a>"), "{path}: {form}");
    }
}

/// The overview's figures (issue #14): the page shows what the engine computed (MRR per
/// currency, 30 days of payments, failures, the status mix), links each figure to its rows, and
/// lists a failed webhook event as something to look at; the Subscriptions page gets the mix.
#[tokio::test]
async fn the_overview_shows_the_environments_figures_with_links_to_their_rows() {
    let app = TestApp::spawn().await;
    seed_history(&app).await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    sqlx::query(
        "INSERT INTO payments_webhook_events (id, environment, stripe_event_id, event_type, livemode,
             processing_status, payload, received_at, created_at, updated_at)
         VALUES ('e_failed', 'test', 'evt_failed_overview', 'invoice.paid', 0, 'failed', '{}', 0, 0, 0)",
    )
    .execute(app.state.db.pool())
    .await
    .unwrap();

    let (status, figures) = call(&support, &app, "overview-figures", &[("environment", "test")]).await;
    assert_eq!(status, 200, "{figures}");
    assert!(figures["payments30d"].as_u64().unwrap() > 0, "{figures}");
    assert!(!figures["mrr"].as_array().unwrap().is_empty(), "the demo has priced subscriptions: {figures}");
    assert!(figures["eventsFailed"].as_u64().unwrap() >= 1);

    let html = app.page(&support, "/test").await;
    let card = |id: &str| {
        html.split(&format!("data-testid=\"{id}\"")).nth(1).unwrap().split("</article>").next().unwrap().to_owned()
    };
    let mrr = &figures["mrr"][0];
    let shown =
        payments_console::model::format::money(mrr["amount"].as_i64().unwrap(), mrr["currency"].as_str().unwrap());
    assert!(card("kpi-mrr").contains(&shown), "{shown} not in {}", card("kpi-mrr"));
    assert!(card("kpi-payments").contains(&format!(">{}</p>", figures["payments30d"])), "{}", card("kpi-payments"));
    // Each window's link lists the rows its figure counted: from the window's first day on.
    let first_day = |window: usize| figures["days"][30 - window]["date"].as_str().unwrap().to_owned();
    let (since_30, since_7) = (first_day(30), first_day(7));
    assert!(
        card("kpi-payments").contains(&format!("href=\"/test/history?from={since_30}\"")),
        "{}",
        card("kpi-payments")
    );
    assert!(card("kpi-failed").contains(&format!("href=\"/test/history?status=failed&amp;from={since_7}\"")));
    assert!(card("kpi-refunds").contains(&format!("href=\"/test/history?type=refund&amp;from={since_7}\"")));
    let attention = html.split("data-testid=\"figures-attention\"").nth(1).expect("a failed event needs a look");
    assert!(attention.contains("href=\"/test/webhooks?status=failed\""), "{attention}");
    assert!(html.contains("data-testid=\"overview-chart\""));
    // Every status of the mix links to its subscriptions.
    for page in ["/test", "/test/subscriptions"] {
        let html = app.page(&support, page).await;
        let mix = html.split("data-testid=\"subscription-mix\"").nth(1).unwrap_or_else(|| panic!("{page}: no mix"));
        for s in figures["subscriptions"].as_array().unwrap() {
            let status = s["status"].as_str().unwrap();
            assert!(mix.contains(&format!("href=\"/test/subscriptions?status={status}\"")), "{page}: {status}");
        }
    }
    // Nobody signed in sees nothing.
    assert_eq!(call(&app.client(), &app, "overview-figures", &[("environment", "test")]).await.0, 401);
}

/// The subscriptions services behind their server functions: a one-row page hands back a
/// cursor whose next page is another subscription; a status filter keeps only that status; the
/// detail finds one subscription by id with the payments of its subject (or customer).
#[tokio::test]
async fn the_subscriptions_services_page_filter_and_find_one() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    seed_history(&app).await;
    let all = app.state.engine.list_subscriptions(Environment::Test, &options(&[])).await.unwrap().items;
    assert!(all.len() >= 2, "the demo has subscriptions");
    let filters = |status: &str| {
        let mut form = vec![("env".to_owned(), "test".to_owned()), ("limit".to_owned(), "1".to_owned())];
        for field in ["subject_type", "subject_id", "customer"] {
            form.push((format!("filters[{field}]"), String::new()));
        }
        form.push(("filters[status]".to_owned(), status.to_owned()));
        form
    };
    let page = |body: &serde_json::Value| -> Vec<String> {
        let items = body["listing"]["page"]["items"].as_array().unwrap_or_else(|| panic!("{body}"));
        items.iter().map(|s| s["stripeSubscriptionId"].as_str().unwrap().to_owned()).collect()
    };
    let form = filters("");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, first) = call(&support, &app, "support-subscriptions", &pairs).await;
    assert_eq!(status, 200, "{first}");
    let cursor = first["listing"]["page"]["nextCursor"].as_str().expect("a next page").to_owned();
    let mut next_form = pairs.clone();
    next_form.push(("cursor", &cursor));
    let (status, second) = call(&support, &app, "support-subscriptions", &next_form).await;
    assert_eq!(status, 200, "{second}");
    let (one, two) = (page(&first), page(&second));
    assert_eq!((one.len(), two.len()), (1, 1));
    assert_ne!(one, two, "the page after the cursor is another subscription");

    let active = all.iter().find(|s| s.status.as_str() == "active").expect("an active subscription");
    let form = filters("active");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (_, only) = call(&support, &app, "support-subscriptions", &pairs).await;
    let found = &only["listing"]["page"]["items"][0];
    assert_eq!(found["status"], "active", "{only}");

    let id = active.stripe_subscription_id.as_str();
    let (status, detail) = call(&support, &app, "support-subscription", &[("env", "test"), ("id", id)]).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["subscription"]["stripeSubscriptionId"], id);
    let payments = detail["payments"].as_array().unwrap();
    assert!(!payments.is_empty(), "the seeded history has this subscription's payments: {detail}");
    for p in payments {
        match (&active.subject_type, &active.subject_id) {
            (Some(t), Some(i)) => assert_eq!((&p["subjectType"], &p["subjectId"]), (&json!(t), &json!(i)), "{p}"),
            _ => assert_eq!(p["stripeCustomerId"], active.stripe_customer_id.as_str(), "{p}"),
        }
    }
}

/// The history summary service counts what the history holds: as many rows as the view
/// returns (under the summary's bound), by status.
#[tokio::test]
async fn the_history_summary_service_counts_the_view() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    seed_history(&app).await;
    // Deliveries may still be landing: count once the history stopped changing.
    let mut history = Vec::new();
    for _ in 0..50 {
        let now = app.state.engine.list_payment_history(Environment::Test, &options(&[])).await.unwrap().items;
        if !now.is_empty() && now.len() == history.len() {
            break;
        }
        history = now;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    assert!(!history.is_empty() && history.len() < 100, "{} rows: more than one page", history.len());
    let mut form = vec![("env", "test")];
    let fields = ["subject_type", "subject_id", "kind", "status", "customer", "object", "from", "to"];
    let keys: Vec<String> = fields.iter().map(|f| format!("filters[{f}]")).collect();
    form.extend(keys.iter().map(|k| (k.as_str(), "")));
    let (status, summary) = call(&support, &app, "support-history-summary", &form).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["rows"], json!(history.len()), "{summary}");
    let succeeded = history.iter().filter(|p| p.status.as_str() == "succeeded").count();
    let counted = summary["statuses"].as_array().unwrap().iter().find(|s| s["status"] == "succeeded");
    assert_eq!(counted.map(|s| s["rows"].clone()), (succeeded > 0).then(|| json!(succeeded)), "{summary}");
}
