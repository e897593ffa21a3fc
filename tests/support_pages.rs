//! The support pages' server functions and the payment-history CSV export, over real HTTP
//! against the demo sandbox (`TestApp` runs with `--demo`).

mod support;

use payments_console::auth::Role;
use payments_console::environment::Environment;
use payments_engine::{ListOptions, PaymentHistory};
use serde_json::Value;
use support::TestApp;

async fn call(client: &reqwest::Client, app: &TestApp, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let res = client.post(app.url(&format!("/api/console/{endpoint}"))).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn options(filters: &[(&str, &str)]) -> ListOptions {
    ListOptions {
        limit: 100,
        filters: filters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Default::default()
    }
}

/// Renews every active demo subscription once in the sandbox, so payment history has rows, and
/// waits for the webhooks to land.
async fn seed_history(app: &TestApp) -> Vec<PaymentHistory> {
    let sandbox = app.state.settings.demo_sandbox_url.clone().expect("demo sandbox");
    let subs = app.state.engine.list_subscriptions(Environment::Test, &options(&[])).await.unwrap();
    assert!(!subs.items.is_empty(), "the demo has subscriptions");
    for s in subs.items.iter().filter(|s| s.status == "active") {
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
    use payments_console::pages::customers::list_with_fallback;
    use payments_engine::Page;
    let remote = |q: ListQuery| async move {
        if q.uses_extensions() {
            Err(BackendError::Unsupported("filters and pagination"))
        } else {
            Ok(Page { items: vec![q.limit.unwrap_or_default()], next_cursor: None })
        }
    };
    let mut q = ListQuery { limit: Some(7), cursor: Some(String::new()), ..Default::default() };
    q.filters.insert("status".into(), "active".into());
    let listing = list_with_fallback(q, remote).await.unwrap();
    assert_eq!(listing.page.items, vec![7]);
    let notice = listing.notice.expect("a notice");
    assert!(notice.starts_with("Unsupported") && notice.contains("without filters"), "{notice}");
    // Without extensions nothing is dropped and nothing is said.
    let plain = list_with_fallback(ListQuery::default(), remote).await.unwrap();
    assert!(plain.notice.is_none());
    // Other errors still fail.
    let failing = |_q: ListQuery| async { Err::<Page<u32>, _>(BackendError::Unavailable("down".into())) };
    let err = list_with_fallback(ListQuery::default(), failing).await.unwrap_err();
    assert_eq!(err.status_code(), 502);
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
