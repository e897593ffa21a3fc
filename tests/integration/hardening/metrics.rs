//! `/metrics` for operators (issue #14), over real HTTP: who may scrape, and that the series move
//! with what the test itself does. Every test binary shares one recorder (the process's), and
//! other tests run alongside, so the assertions are on increases, never on absolute counts.

use crate::support::TestApp;
use payments_console::auth::Role;
use payments_console::server::secrets::SecretString;
use serde_json::{json, Value};

/// The sum of the samples of `name` whose labels include all of `labels` (0 when there is none).
fn sample(scrape: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, label_text) = match series.split_once('{') {
                Some((metric, rest)) => (metric, rest.strip_suffix('}')?),
                None => (series, ""),
            };
            let wanted = metric == name
                && labels.iter().all(|(k, v)| label_text.split(',').any(|pair| pair == format!("{k}=\"{v}\"")));
            wanted.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

/// Whether the scrape has a sample line of `name` with all of `labels`.
fn has_series(scrape: &str, name: &str, labels: &[(&str, &str)]) -> bool {
    scrape.lines().any(|line| {
        !line.starts_with('#')
            && line.starts_with(name)
            && line[name.len()..].starts_with(['{', ' '])
            && labels.iter().all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
    })
}

/// `GET /metrics` from loopback, without a token: must be let in.
async fn scrape(app: &TestApp) -> String {
    let res = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

async fn server_fn(client: &reqwest::Client, app: &TestApp, name: &str, form: &[(&str, &str)]) -> Value {
    let res = client.post(app.url(&format!("/api/console/{name}"))).form(form).send().await.unwrap();
    assert_eq!(res.status(), 200, "{name}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn loopback_scrapes_see_requests_syncs_stripe_calls_webhooks_and_the_pool() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;

    let res = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let before = res.text().await.unwrap();

    // HTTP: a plain route, a server function (its route is its own path) and a page that does
    // not exist (counted under the route template that caught it, never its path).
    let healthz = [("method", "GET"), ("route", "/healthz"), ("status", "2xx")];
    let me = [("method", "POST"), ("route", "/api/console/me"), ("status", "2xx")];
    let caught = [("method", "GET"), ("route", "/{env}/{*any}"), ("status", "4xx")];
    for _ in 0..3 {
        assert_eq!(reqwest::get(app.url("/healthz")).await.unwrap().status(), 200);
    }
    server_fn(&admin, &app, "me", &[]).await;
    let lost = reqwest::get(app.url("/no-such-page/cus_secret123")).await.unwrap();
    assert_eq!(lost.status(), 404);

    // A sync, whose first Stripe call is refused once with 429 (the client backs off and retries).
    let sandbox = app.state.settings.demo_sandbox_url.clone().expect("demo sandbox");
    let fault = json!({"path_prefix": "/v1/account", "method": "GET", "status": 429, "count": 1});
    let res = reqwest::Client::new().post(format!("{sandbox}/_sandbox/faults")).json(&fault).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let sync = server_fn(&admin, &app, "sync-run", &[("environment", "test"), ("both", "false")]).await;
    assert_eq!(sync["results"][0]["connection"]["lastSyncStatus"], "succeeded", "{sync}");

    // A webhook: something happens in Stripe, and the sandbox delivers its event.
    let res = reqwest::Client::new()
        .post(format!("{sandbox}/v1/customers"))
        .bearer_auth("sk_test_sandbox")
        .form(&[("email", "metrics-probe@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let customer = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let mut delivered = false;
    for _ in 0..100 {
        let page = server_fn(&admin, &app, "webhook-events", &[("environment", "test")]).await;
        if page["items"].as_array().is_some_and(|items| items.iter().any(|e| e["objectId"] == customer.as_str())) {
            delivered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(delivered, "the sandbox's event never reached the console");
    // And one whose signature is wrong.
    let res = reqwest::Client::new()
        .post(app.url("/api/webhooks/stripe/test"))
        .header("stripe-signature", "t=1,v1=00")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error());

    let after = scrape(&app).await;
    let grew = |name: &str, labels: &[(&str, &str)], by: f64| {
        let (was, is) = (sample(&before, name, labels), sample(&after, name, labels));
        assert!(is >= was + by, "{name} {labels:?}: {was} -> {is}\n{after}");
    };
    grew("payments_console_http_requests_total", &healthz, 3.0);
    grew("payments_console_http_request_duration_seconds_count", &healthz, 3.0);
    grew("payments_console_http_requests_total", &me, 1.0);
    grew("payments_console_http_requests_total", &caught, 1.0);
    // Histograms are Prometheus histograms (buckets), not summaries.
    assert!(has_series(&after, "payments_console_http_request_duration_seconds_bucket", &[("le", "+Inf")]));
    // No raw path or id ever becomes a label.
    assert!(!after.contains("cus_secret123") && !after.contains(&customer), "an id leaked into a label");

    let test_env = [("environment", "test"), ("outcome", "succeeded")];
    grew("payments_sync_runs_total", &test_env, 1.0);
    grew("payments_sync_duration_seconds_count", &test_env, 1.0);

    grew("payments_stripe_requests_total", &[("method", "GET"), ("resource", "account"), ("outcome", "429")], 1.0);
    grew("payments_stripe_requests_total", &[("method", "GET"), ("resource", "account"), ("outcome", "ok")], 1.0);
    grew("payments_stripe_retries_total", &[("resource", "account"), ("reason", "rate_limited")], 1.0);
    grew("payments_stripe_request_duration_seconds_count", &[("method", "GET"), ("resource", "customers")], 1.0);

    grew("payments_webhook_events_total", &[("environment", "test"), ("outcome", "processed")], 1.0);
    grew("payments_webhook_processing_duration_seconds_count", &[("environment", "test")], 1.0);
    grew("payments_webhook_events_total", &[("environment", "test"), ("outcome", "refused_signature")], 1.0);

    // The pool, as of the scrape.
    assert!(sample(&after, "payments_console_db_pool_max_connections", &[]) >= 1.0, "{after}");
    assert!(has_series(&after, "payments_console_db_pool_connections", &[("state", "in_use")]), "{after}");
    assert!(has_series(&after, "payments_console_db_pool_connections", &[("state", "idle")]), "{after}");
    // Each series says what it is.
    assert!(after.contains("# HELP payments_console_http_requests_total "), "{after}");
    assert!(after.contains("# TYPE payments_sync_duration_seconds histogram"), "{after}");
}

#[tokio::test]
async fn with_a_token_configured_only_the_token_opens_metrics() {
    const TOKEN: &str = "metrics-token-for-this-test-0123";
    let app = TestApp::spawn_with(|a| a.metrics_token = Some(SecretString::new(TOKEN.to_owned()))).await;
    let client = reqwest::Client::new();

    let res = client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 401, "loopback is not enough once a token is set");
    assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert!(res.text().await.unwrap().contains("bearer token"));

    let res = client.get(app.url("/metrics")).bearer_auth("metrics-token-for-this-test-0124").send().await.unwrap();
    assert_eq!(res.status(), 401, "a wrong token");
    assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));

    // A console session is no substitute.
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    assert_eq!(admin.get(app.url("/metrics")).send().await.unwrap().status(), 401);

    let res = client.get(app.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(res.text().await.unwrap().contains("payments_console_http_requests_total"));
}

#[tokio::test]
async fn a_short_metrics_token_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("metrics.token");
    std::fs::write(&file, "short\n").unwrap();
    let mut args = payments_console::server::serve::ServeArgs::from_env();
    args.db.database_url = crate::support::fresh_database_url(dir.path()).await;
    args.addr = "127.0.0.1:0".parse().unwrap();
    args.demo = true;
    args.metrics_token_file = Some(file);
    let err = payments_console::server::serve::Server::build(args).await.err().expect("refused");
    assert!(err.to_string().contains("at least 16 bytes"), "{err}");
}
