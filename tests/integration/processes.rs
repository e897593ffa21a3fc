//! Console **processes** (the real binary), with the Stripe sandbox as a process of its own.
//!
//! Two of them on one PostgreSQL database, as a load balancer would run them: a key set through
//! one is used by the other, syncs of one environment never overlap across processes, and the
//! same webhook delivered to both is processed once. PostgreSQL-only (SQLite is the
//! single-instance deployment): on SQLite that test says it did not run; the test script's
//! PostgreSQL pass runs it.
//!
//! One killed with `kill -9` again and again, on either database: nothing acknowledged is lost.

use crate::support;

use payments_console::server::crypto::MasterKey;
use serde_json::{json, Value};
use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_payments-console");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs a CLI subcommand to completion and returns its standard output.
async fn cli(db: &str, args: &[&str], stdin: Option<&str>) -> String {
    use tokio::io::AsyncWriteExt;
    let mut child = Command::new(BIN)
        .args(args)
        .env("PAYMENTS_CONSOLE_DATABASE_URL", db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).await.unwrap();
    }
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Starts a child process and waits until `ready` answers. Its output goes to `log` (a pipe
/// nobody reads would block the server once full).
async fn start(cmd: &mut Command, ready: &str, log: std::path::PathBuf) -> Child {
    let file = std::fs::File::create(&log).unwrap();
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::from(file)).kill_on_drop(true).spawn().unwrap();
    for _ in 0..200 {
        if reqwest::get(ready).await.is_ok_and(|r| r.status().is_success()) {
            return child;
        }
        if child.try_wait().unwrap().is_some() {
            panic!("{ready}: the process exited early: {}", std::fs::read_to_string(&log).unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{ready} never became ready");
}

fn console(db: &str, key_file: &std::path::Path, port: u16, stripe: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--public-url", &format!("http://127.0.0.1:{port}")])
        .args(["--stripe-api-base", stripe])
        .arg("--master-key-file")
        .arg(key_file)
        .env("PAYMENTS_CONSOLE_DATABASE_URL", db)
        .env("PAYMENTS_CONSOLE_ADMIN_PASSWORD", "a long enough password")
        .env("LEPTOS_SITE_ROOT", key_file.parent().unwrap());
    cmd
}

async fn call(http: &reqwest::Client, method: reqwest::Method, url: String, key: &str, body: Option<Value>) -> Value {
    let mut req = http.request(method, &url).bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

/// Delivers a webhook body to `url`, signed with `secret` as Stripe signs it.
fn post_event(
    http: &reqwest::Client,
    url: String,
    secret: &str,
    body: String,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> {
    let signature = stripe_client::sign_webhook_payload(body.as_bytes(), secret, stripe_client::unix_now());
    http.post(url).header("content-type", "application/json").header("stripe-signature", signature).body(body).send()
}

#[tokio::test]
async fn two_processes_share_keys_serialise_syncs_and_process_a_webhook_once() {
    if std::env::var("PAYMENTS_CONSOLE_TEST_POSTGRES").is_err() {
        eprintln!("NOT RUN (PostgreSQL-only): set PAYMENTS_CONSOLE_TEST_POSTGRES to run the two-process test");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = support::fresh_database_url(dir.path()).await;
    let key_file = dir.path().join("master.key");
    MasterKey::create_file(&key_file).unwrap();

    let (sp, pa, pb) = (free_port(), free_port(), free_port());
    let stripe = format!("http://127.0.0.1:{sp}");
    let _sandbox = start(
        Command::new(BIN).args(["sandbox", "--addr", &format!("127.0.0.1:{sp}"), "--seed", "demo"]),
        &format!("{stripe}/_sandbox"),
        dir.path().join("sandbox.log"),
    )
    .await;
    // Both start at once on the fresh database: migrations and the first admin race, and
    // both instances must come up.
    let (a, b) = (format!("http://127.0.0.1:{pa}"), format!("http://127.0.0.1:{pb}"));
    let (mut ca, mut cb) = (console(&db, &key_file, pa, &stripe), console(&db, &key_file, pb, &stripe));
    let (ready_a, ready_b) = (format!("{a}/readyz"), format!("{b}/readyz"));
    let (_pa, _pb) = tokio::join!(
        start(&mut ca, &ready_a, dir.path().join("a.log")),
        start(&mut cb, &ready_b, dir.path().join("b.log"))
    );
    let users = cli(&db, &["users", "list"], None).await;
    assert_eq!(users.matches("admin@localhost").count(), 1, "one first admin: {users}");
    let api_key = cli(&db, &["api-keys", "create", "--name", "lb-test"], None).await.trim().to_owned();
    assert!(api_key.starts_with("ik_"), "{api_key}");
    let http = reqwest::Client::new();
    use reqwest::Method;

    // A key set through A is what B uses.
    call(
        &http,
        Method::PUT,
        format!("{a}/api/payments/test/config"),
        &api_key,
        Some(json!({"secretKey": "sk_test_sandbox"})),
    )
    .await;
    let status = call(&http, Method::GET, format!("{b}/api/payments/status"), &api_key, None).await;
    assert_eq!(status["connections"][0]["status"], "connected", "{status}");
    assert_eq!(status["connections"][0]["maskedKey"], "sk_test_****dbox");
    let catalog = call(&http, Method::GET, format!("{b}/api/payments/test/catalog"), &api_key, None).await;
    assert!(!catalog["products"].as_array().unwrap().is_empty(), "B reads what A's first sync wrote");

    // Two syncs at once, one per process, with Stripe slowed down so unserialised syncs would
    // overlap: the advisory lock makes one wait for the other.
    let fault = json!({"path_prefix": "/v1/products", "count": 2, "delay_ms": 400, "method": "GET"});
    http.post(format!("{stripe}/_sandbox/faults")).json(&fault).send().await.unwrap().error_for_status().unwrap();
    let sync =
        |base: String| call(&http, Method::POST, format!("{base}/api/payments/test/sync"), &api_key, Some(json!({})));
    let (ra, rb) = tokio::join!(sync(a.clone()), sync(b.clone()));
    for r in [&ra, &rb] {
        assert_eq!(r["results"][0]["connection"]["lastSyncStatus"], "succeeded", "{r}");
    }
    let window = |p: Value| (p["startedAt"].as_str().unwrap().to_owned(), p["finishedAt"].as_str().unwrap().to_owned());
    let wa = window(call(&http, Method::GET, format!("{a}/api/payments/test/sync/progress"), &api_key, None).await);
    let wb = window(call(&http, Method::GET, format!("{b}/api/payments/test/sync/progress"), &api_key, None).await);
    assert!(wa.1 <= wb.0 || wb.1 <= wa.0, "the two processes' syncs overlapped: {wa:?} and {wb:?}");

    // The same Stripe event delivered to both processes at once is processed once.
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&db).await.unwrap();
    let sealed: String = sqlx::query_scalar(
        "SELECT value_sealed FROM payments_secrets WHERE name = 'STRIPE_TEST_WEBHOOK_SECRET' AND is_active = 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let secret = MasterKey::load(&key_file).unwrap().open(&sealed).unwrap();
    let event = json!({"id": "evt_two_processes", "object": "event", "type": "customer.created",
        "created": stripe_client::unix_now(), "livemode": false,
        "data": {"object": {"id": "cus_two_processes", "object": "customer", "email": "lb@example.com", "metadata": {}}}});
    let body = event.to_string();
    let deliver = |base: String| {
        let send = post_event(&http, format!("{base}/api/webhooks/stripe/test"), &secret, body.clone());
        async move {
            let r = send.await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (da, db_) = tokio::join!(deliver(a.clone()), deliver(b.clone()));
    // The other delivery finds it done (200, not handled) or in flight (409: Stripe retries).
    for (status, body) in [&da, &db_] {
        assert!(
            *status == 200 || (*status == 409 && body["error"] == "PAYMENT_WEBHOOK_IN_PROGRESS"),
            "{status} {body}"
        );
    }
    let handled = [&da, &db_].iter().filter(|(_, r)| r["handled"] == json!(true)).count();
    assert_eq!(handled, 1, "exactly one process handles it: {da:?} / {db_:?}");
    let attempts: i64 = sqlx::query_scalar(
        "SELECT CAST(attempt_count AS BIGINT) FROM payments_webhook_events WHERE stripe_event_id = 'evt_two_processes'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(attempts, 1);
    let customers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM payments_customers WHERE stripe_customer_id = 'cus_two_processes'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(customers, 1);

    // Removing the key through B disconnects A too.
    call(&http, Method::DELETE, format!("{b}/api/payments/test/config"), &api_key, None).await;
    let status = call(&http, Method::GET, format!("{a}/api/payments/status"), &api_key, None).await;
    assert_eq!(status["connections"][0]["status"], "unconfigured", "{status}");
}

/// The webhook secret the console sealed for the test environment.
async fn webhook_secret(pool: &sqlx::AnyPool, key_file: &std::path::Path) -> String {
    let sealed: String = sqlx::query_scalar(
        "SELECT value_sealed FROM payments_secrets WHERE name = 'STRIPE_TEST_WEBHOOK_SECRET' AND is_active = 1",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    MasterKey::load(key_file).unwrap().open(&sealed).unwrap().to_string()
}

async fn scalar(pool: &sqlx::AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap()
}

/// What a crash must never leave behind: items of a subscription that is not there, a history
/// refund row whose original was half written, an event marked done with no outcome.
async fn assert_consistent(pool: &sqlx::AnyPool, when: &str) {
    let checks = [
        (
            "subscription items without their subscription",
            "SELECT COUNT(*) FROM payments_subscription_items i WHERE NOT EXISTS (SELECT 1 FROM payments_subscriptions s
                 WHERE s.environment = i.environment AND s.stripe_subscription_id = i.stripe_subscription_id)",
        ),
        (
            "events finished without a time",
            "SELECT COUNT(*) FROM payments_webhook_events
             WHERE processing_status IN ('processed', 'ignored') AND processed_at IS NULL",
        ),
        (
            "events processed whose customer is missing",
            "SELECT COUNT(*) FROM payments_webhook_events e WHERE e.event_type = 'customer.created'
                 AND e.processing_status = 'processed' AND NOT EXISTS (SELECT 1 FROM payments_customers c
                 WHERE c.environment = e.environment AND c.stripe_customer_id = e.object_id)",
        ),
    ];
    for (what, sql) in checks {
        assert_eq!(scalar(pool, sql).await, 0, "{when}: {what}");
    }
}

/// `kill -9` at random points of a large sync and of a webhook burst, ten times each: after each
/// restart the database is consistent, the next sync completes (no stuck lock or sync state),
/// every acknowledged event is there, processed, and the rest can be delivered again. Runs on
/// SQLite and, in the test script's PostgreSQL pass, on PostgreSQL.
#[tokio::test]
async fn kill_9_during_syncs_and_webhook_bursts_loses_nothing_acknowledged() {
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let db = support::fresh_database_url(dir.path()).await;
    let key_file = dir.path().join("master.key");
    MasterKey::create_file(&key_file).unwrap();
    let sp = free_port();
    let stripe = format!("http://127.0.0.1:{sp}");
    let _sandbox = start(
        Command::new(BIN).args(["sandbox", "--addr", &format!("127.0.0.1:{sp}")]),
        &format!("{stripe}/_sandbox"),
        dir.path().join("sandbox.log"),
    )
    .await;
    let http = reqwest::Client::new();
    let seed = json!({"size": 400, "history": true});
    http.post(format!("{stripe}/_sandbox/seed")).json(&seed).send().await.unwrap().error_for_status().unwrap();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let ready = format!("{base}/readyz");
    let mut generation = 0;
    let mut boot = || {
        generation += 1;
        let log = dir.path().join(format!("console-{generation}.log"));
        let mut cmd = console(&db, &key_file, port, &stripe);
        let ready = ready.clone();
        async move { start(&mut cmd, &ready, log).await }
    };
    let mut server = boot().await;
    let api_key = cli(&db, &["api-keys", "create", "--name", "crash-test"], None).await.trim().to_owned();
    use reqwest::Method;
    let config = json!({"secretKey": "sk_test_crashes"});
    call(&http, Method::PUT, format!("{base}/api/payments/test/config"), &api_key, Some(config)).await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(2).connect(&db).await.unwrap();
    let secret = webhook_secret(&pool, &key_file).await;
    let products = scalar(&pool, "SELECT COUNT(*) FROM payments_products").await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xc2a5_4e59);

    // Ten syncs killed part-way.
    let mut interrupted = 0;
    for round in 0..10 {
        let sync = http.post(format!("{base}/api/payments/test/sync")).bearer_auth(&api_key).json(&json!({})).send();
        let sync = tokio::spawn(sync);
        tokio::time::sleep(Duration::from_millis(rng.gen_range(20..1_500))).await;
        server.start_kill().unwrap();
        server.wait().await.unwrap();
        if sync.await.unwrap().is_err() {
            interrupted += 1;
        }
        server = boot().await;
        assert_consistent(&pool, &format!("sync round {round}")).await;
        let r = call(&http, Method::POST, format!("{base}/api/payments/test/sync"), &api_key, Some(json!({}))).await;
        assert_eq!(r["results"][0]["connection"]["lastSyncStatus"], "succeeded", "sync round {round}: {r}");
        assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM payments_products").await, products, "round {round}");
    }

    assert!(interrupted >= 5, "only {interrupted} of 10 syncs were killed before they answered");

    // Ten webhook bursts killed part-way: 8 senders, each event acknowledged (200) or not.
    let mut acknowledged = Vec::new();
    let mut unanswered = Vec::new();
    for round in 0..10 {
        let events: Vec<(String, String)> = (0..400)
            .map(|k| {
                let id = format!("evt_crash_{round}_{k}");
                let event = json!({"id": id, "object": "event", "type": "customer.created",
                    "created": stripe_client::unix_now(), "livemode": false,
                    "data": {"object": {"id": format!("cus_crash_{round}_{k}"), "object": "customer",
                        "email": format!("crash{round}.{k}@example.com"), "metadata": {}}}});
                (id, event.to_string())
            })
            .collect();
        let senders: Vec<_> = (0..8)
            .map(|n| {
                let mine: Vec<(String, String)> = events.iter().skip(n).step_by(8).cloned().collect();
                let (http, url, secret) = (http.clone(), format!("{base}/api/webhooks/stripe/test"), secret.clone());
                tokio::spawn(async move {
                    let mut answered = Vec::new();
                    for (id, body) in mine {
                        let sent = post_event(&http, url.clone(), &secret, body.clone()).await;
                        answered.push((id, body, sent.is_ok_and(|r| r.status() == 200)));
                    }
                    answered
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(rng.gen_range(20..800))).await;
        server.start_kill().unwrap();
        server.wait().await.unwrap();
        for sender in senders {
            for (id, body, ok) in sender.await.unwrap() {
                if ok {
                    acknowledged.push(id);
                } else {
                    unanswered.push((id, body));
                }
            }
        }
        server = boot().await;
        assert_consistent(&pool, &format!("webhook round {round}")).await;
    }
    assert!(!acknowledged.is_empty() && !unanswered.is_empty(), "the kills landed mid-burst");
    // Every acknowledged event was durably applied before its answer.
    for id in &acknowledged {
        let status: String = sqlx::query_scalar(
            "SELECT processing_status FROM payments_webhook_events WHERE environment = 'test' AND stripe_event_id = $1",
        )
        .bind(id)
        .fetch_optional(&pool)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("acknowledged event {id} is missing"));
        assert_eq!(status, "processed", "{id}");
    }
    // A claim a killed process left is taken over once its lease ends (60 s; the test ages the
    // claims instead of waiting), and Stripe's redelivery of the rest is processed.
    sqlx::query(
        "UPDATE payments_webhook_events SET updated_at = updated_at - 3600000 WHERE processing_status = 'pending'",
    )
    .execute(&pool)
    .await
    .unwrap();
    for (id, body) in &unanswered {
        let r = post_event(&http, format!("{base}/api/webhooks/stripe/test"), &secret, body.clone()).await.unwrap();
        assert_eq!(r.status(), 200, "{id}: {}", r.text().await.unwrap());
    }
    let total = (acknowledged.len() + unanswered.len()) as i64;
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM payments_webhook_events WHERE stripe_event_id LIKE 'evt_crash_%' AND processing_status = 'processed'").await,
        total
    );
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM payments_customers WHERE stripe_customer_id LIKE 'cus_crash_%'").await,
        total
    );
    assert_consistent(&pool, "the end").await;
    drop(server);
}
