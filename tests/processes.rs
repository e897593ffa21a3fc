//! Two console **processes** (the real binary, as a load balancer would run them) on one
//! PostgreSQL database, with the Stripe sandbox as a third process: a key set through one is
//! used by the other, syncs of one environment never overlap across processes, and the same
//! webhook delivered to both is processed once.
//!
//! PostgreSQL-only (SQLite is the single-instance deployment): on SQLite the test says it did
//! not run; the test script's PostgreSQL pass runs it.

mod support;

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
        let signature = stripe_client::sign_webhook_payload(body.as_bytes(), &secret, stripe_client::unix_now());
        let req = http
            .post(format!("{base}/api/webhooks/stripe/test"))
            .header("content-type", "application/json")
            .header("stripe-signature", signature)
            .body(body.clone());
        async move {
            let r = req.send().await.unwrap();
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
