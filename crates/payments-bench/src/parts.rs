//! The run: set-up, then each part with its baseline.

use crate::data::{self, SPAN_MS};
use crate::procs::{self, ConsoleSetup, Running};
use crate::report::{machine, ms_pair, Goal, Latencies, Report, Row};
use crate::{Args, Part, Plan};
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{bail, ensure, Context};
use base64::Engine as _;
use serde_json::{json, Value};
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The key the console is given for the sandbox (any `sk_test_…` is accepted there).
const SANDBOX_KEY: &str = "sk_test_payments_bench";

/// Unix time in ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Everything the parts share.
struct Ctx {
    http: reqwest::Client,
    sandbox: Running,
    console: Running,
    setup: ConsoleSetup,
    api_key: String,
    pool: AnyPool,
    plan: Plan,
    starts: u32,
}

impl Ctx {
    fn api(&self, path: &str) -> String {
        format!("{}/api/payments/test{path}", self.console.url)
    }

    /// A GET through the console's stack; fails on a non-2xx answer. Returns the time (the
    /// `Server-Timing` total when the console sends one, else the client's) and the body.
    async fn timed_get(&self, url: &str, cookie: Option<&str>) -> anyhow::Result<(f64, Vec<u8>)> {
        let mut req = self.http.get(url);
        req = match cookie {
            Some(c) => req.header("cookie", c),
            None => req.header("x-api-key", &self.api_key),
        };
        let started = Instant::now();
        let resp = req.send().await.with_context(|| format!("GET {url}"))?;
        let status = resp.status();
        let server = resp.headers().get("server-timing").and_then(|v| v.to_str().ok()).and_then(server_timing_ms);
        let body = resp.bytes().await?;
        let client = started.elapsed().as_secs_f64() * 1000.0;
        if !status.is_success() {
            bail!("GET {url}: HTTP {status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)]));
        }
        Ok((server.unwrap_or(client), body.to_vec()))
    }

    /// Samples one URL; bounded by the sample count and by 30 s (at least 3 samples).
    async fn sample(&self, url: &str, cookie: Option<&str>) -> anyhow::Result<(Latencies, Vec<u8>)> {
        let mut lat = Latencies::default();
        let started = Instant::now();
        let mut last = Vec::new();
        // One warm-up request: the first reads cold pages and compiles statements.
        self.timed_get(url, cookie).await?;
        while lat.len() < self.plan.samples && (lat.len() < 3 || started.elapsed() < Duration::from_secs(30)) {
            let (ms, body) = self.timed_get(url, cookie).await?;
            lat.push_ms(ms);
            last = body;
        }
        Ok((lat, last))
    }

    async fn restart_console(&mut self) -> anyhow::Result<()> {
        self.starts += 1;
        let next = procs::start_console(&self.setup, &self.http, self.starts).await?;
        let old = std::mem::replace(&mut self.console, next);
        old.stop().await;
        Ok(())
    }
}

/// The total of a `Server-Timing` header (`name;dur=1.2, …`), in ms.
fn server_timing_ms(v: &str) -> Option<f64> {
    let durs: Vec<f64> = v
        .split(',')
        .filter_map(|m| m.split(';').find_map(|p| p.trim().strip_prefix("dur=")).and_then(|d| d.parse().ok()))
        .collect();
    (!durs.is_empty()).then(|| durs.iter().sum())
}

/// Reads the sealed webhook signing secret the console stored and opens it with the master key
/// (AES-256-GCM, `v1:<base64(nonce || ciphertext)>`, see the console's `server/crypto.rs`).
async fn webhook_secret(pool: &AnyPool, master_key: &Path) -> anyhow::Result<Option<String>> {
    let sealed: Option<String> = sqlx::query_scalar(
        "SELECT value_sealed FROM payments_secrets WHERE name = 'STRIPE_TEST_WEBHOOK_SECRET' AND is_active = 1",
    )
    .fetch_optional(pool)
    .await?;
    let Some(sealed) = sealed else { return Ok(None) };
    let mut key = [0u8; 32];
    hex::decode_to_slice(std::fs::read_to_string(master_key)?.trim(), &mut key).context("reading the master key")?;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(sealed.strip_prefix("v1:").context("an unknown sealed format")?)
        .context("decoding the sealed secret")?;
    ensure!(blob.len() > 12, "a sealed secret too short");
    let (nonce, ciphertext) = blob.split_at(12);
    let plain = Aes256Gcm::new(&key.into())
        .decrypt(Nonce::from_slice(nonce), ciphertext)
        .map_err(|_| anyhow::anyhow!("the webhook secret does not open with the master key"))?;
    Ok(Some(String::from_utf8(plain)?))
}

async fn connect(url: &str) -> anyhow::Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    AnyPoolOptions::new()
        .max_connections(2)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite {
                    sqlx::query("PRAGMA busy_timeout = 30000").execute(conn).await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
        .with_context(|| format!("connecting to {url}"))
}

async fn count(pool: &AnyPool, sql: &str) -> anyhow::Result<i64> {
    sqlx::query_scalar(sql).fetch_one(pool).await.with_context(|| sql.to_string())
}

/// Runs the parts the plan names and returns the Markdown table.
pub async fn run(args: &Args, plan: &Plan, work: &Path) -> anyhow::Result<String> {
    let bin = std::fs::canonicalize(&args.console_bin)
        .with_context(|| format!("{} (build it with scripts/bench.sh)", args.console_bin.display()))?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(64)
        .build()?;
    let db_url = args.db.clone().unwrap_or_else(|| format!("sqlite://{}", work.join("console.db").display()));
    let master_key = work.join("master.key");
    procs::cli(&bin, &db_url, &["master-key", "generate", &master_key.display().to_string()], None).await?;
    // Creating the key also migrates the schema (every CLI command does).
    let api_key =
        procs::cli(&bin, &db_url, &["api-keys", "create", "--name", "payments-bench"], None).await?.trim().to_string();
    ensure!(api_key.starts_with("ik_"), "`api-keys create` printed no key");

    eprintln!("starting the sandbox and the console");
    let sandbox = procs::start_sandbox(&bin, work, &http).await?;
    let setup = ConsoleSetup {
        bin: bin.clone(),
        db_url: db_url.clone(),
        master_key: master_key.clone(),
        sandbox_url: sandbox.url.clone(),
        admin_email: "admin@bench.test".into(),
        admin_password: format!("bench-{}-{}", std::process::id(), now_ms()),
        work: work.to_path_buf(),
    };
    let console = procs::start_console(&setup, &http, 0).await?;
    let pool = connect(&db_url).await?;
    let mut ctx = Ctx { http, sandbox, console, setup, api_key, pool, plan: plan.clone(), starts: 0 };

    let mut report = Report::default();
    let db_kind = if db_url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    report.header.push(machine());
    report.header.push(format!(
        "Database: {db_kind}. Sizes: {} payment-history rows, {} subscriptions, {} customers, {} webhook events; sync {} each of products, prices, customers, subscriptions.",
        plan.sizes.history_rows, plan.sizes.subscriptions, plan.sizes.customers, plan.sizes.events, plan.sync_objects
    ));
    report.header.push("All traffic is HTTP over loopback to separate sandbox and console processes.".into());

    let has = |p: Part| plan.parts.contains(&p);
    let timeout = plan.part_timeout;
    let bounded =
        |name: &'static str| move |e: tokio::time::error::Elapsed| anyhow::anyhow!("{name}: {e} ({timeout:?})");
    let mut webhook_rows = Vec::new();
    if has(Part::Webhooks) {
        eprintln!("webhooks, empty tables");
        let rows = tokio::time::timeout(timeout, webhooks(&ctx, "empty")).await.map_err(bounded("webhooks"))??;
        webhook_rows.extend(rows);
    }
    if has(Part::Lists) || has(Part::Ssr) || has(Part::Webhooks) || has(Part::Load) || has(Part::Export) {
        eprintln!("generating data");
        let started = Instant::now();
        data::generate(&ctx.pool, plan.sizes, now_ms()).await?;
        // Rows written straight into the tables: their overview figures are recounted, as
        // the engine's writers would have kept them.
        payments_engine::recount_overview_tables(&ctx.pool).await?;
        if db_kind == "PostgreSQL" {
            // What autovacuum does after such a load anyway (PostgreSQL 13+ vacuums after
            // inserts too): done now, so that the figures are of a table in its steady state
            // and not of autovacuum and first reads setting the new rows' hint bits (each a
            // page written to the WAL whole) while the benchmark runs.
            sqlx::query("VACUUM ANALYZE").execute(&ctx.pool).await?;
        }
        report.notes.push(format!("Data generated in {:.0} s.", started.elapsed().as_secs_f64()));
    }
    let baseline = if has(Part::Lists) || has(Part::Ssr) || has(Part::Load) {
        let (lat, body) = ctx.sample(&ctx.api("/catalog/products/prod_bench_1"), None).await?;
        let v: Value = serde_json::from_slice(&body)?;
        ensure!(v.to_string().contains("prod_bench_1"), "the baseline product was not found: {v}");
        Some(lat)
    } else {
        None
    };
    if let Some(base) = &baseline {
        if has(Part::Lists) {
            eprintln!("lists");
            let rows = tokio::time::timeout(timeout, lists(&ctx, base)).await.map_err(bounded("lists"))??;
            report.sections.push(("Lists (50-row pages)".into(), rows));
        }
        if has(Part::Ssr) {
            eprintln!("server-side rendering");
            let rows = tokio::time::timeout(timeout, ssr(&ctx, base)).await.map_err(bounded("ssr"))??;
            report.sections.push(("Server-side rendering".into(), rows));
        }
    }
    if has(Part::Export) {
        eprintln!("export");
        let rows = tokio::time::timeout(timeout, export(&ctx)).await.map_err(bounded("export"))??;
        report.sections.push(("CSV export (streamed)".into(), rows));
    }
    if has(Part::Webhooks) {
        eprintln!("webhooks, full tables");
        let rows = tokio::time::timeout(timeout, webhooks(&ctx, "full")).await.map_err(bounded("webhooks"))??;
        webhook_rows.extend(rows);
        report.sections.push((format!("Webhooks ({} concurrent senders)", plan.senders), webhook_rows));
    }
    if let (true, Some(base)) = (has(Part::Load), &baseline) {
        eprintln!("load");
        let rows = tokio::time::timeout(timeout, load(&ctx, base)).await.map_err(bounded("load"))??;
        report.sections.push(("Bounded load (loopback)".into(), rows));
    }
    if has(Part::Sync) {
        eprintln!("sync");
        let rows = tokio::time::timeout(timeout, sync(&mut ctx)).await.map_err(bounded("sync"))??;
        report.sections.push(("Sync".into(), rows));
    }
    report.notes.push(
        "List and page times are the console's own `Server-Timing` (router in to response headers out) where it sends one, else the client's time on loopback; the baseline is a primary-key lookup through the same stack (`GET /api/payments/test/catalog/products/{id}`).".into(),
    );
    ctx.console.stop().await;
    ctx.sandbox.stop().await;
    Ok(report.render())
}

fn list_row(figure: &str, lat: &Latencies, base: &Latencies, target_ms: f64) -> Row {
    Row {
        figure: figure.to_string(),
        measured: ms_pair(lat),
        baseline: ms_pair(base),
        ratio: lat.p95() / base.p95(),
        value: lat.p95(),
        goal: Goal::AtMost(target_ms),
        target: format!("≤ {target_ms} ms p95"),
    }
}

/// Follows `nextCursor` 19 times from the first page of `path`: the cursor of the 20th page.
async fn twentieth_cursor(ctx: &Ctx, path: &str) -> anyhow::Result<Option<String>> {
    let mut cursor = String::new();
    for _ in 0..19 {
        let sep = if path.contains('?') { '&' } else { '?' };
        let (_, body) = ctx.timed_get(&ctx.api(&format!("{path}{sep}cursor={cursor}")), None).await?;
        let v: Value = serde_json::from_slice(&body)?;
        match v["nextCursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => return Ok(None),
        }
    }
    Ok(Some(cursor))
}

/// Every list the API and the pages serve, 50-row pages, against the primary-key baseline.
async fn lists(ctx: &Ctx, base: &Latencies) -> anyhow::Result<Vec<Row>> {
    let month = 30 * 86_400_000;
    let from = now_ms() - SPAN_MS / 2;
    let range = format!("from={from}&to={}", from + month);
    let mut cases: Vec<(String, String, &str)> = vec![
        ("history: newest".into(), "/payment-history?limit=50".into(), "paymentHistory"),
        ("history: status=failed".into(), "/payment-history?limit=50&status=failed".into(), "paymentHistory"),
        ("history: type=refund".into(), "/payment-history?limit=50&type=refund".into(), "paymentHistory"),
        (
            "history: type=subscription_invoice & status=failed".into(),
            "/payment-history?limit=50&type=subscription_invoice&status=failed".into(),
            "paymentHistory",
        ),
        ("history: customer".into(), "/payment-history?limit=50&customer=cus_bench_42".into(), "paymentHistory"),
        ("history: subject".into(), "/payment-history?limit=50&subjectType=team&subjectId=t5".into(), "paymentHistory"),
        (
            "history: subject & status=succeeded".into(),
            "/payment-history?limit=50&subjectType=team&subjectId=t5&status=succeeded".into(),
            "paymentHistory",
        ),
        ("history: from/to (one month)".into(), format!("/payment-history?limit=50&{range}"), "paymentHistory"),
        ("subscriptions: newest".into(), "/subscriptions?limit=50".into(), "subscriptions"),
        ("subscriptions: status=past_due".into(), "/subscriptions?limit=50&status=past_due".into(), "subscriptions"),
        ("subscriptions: customer".into(), "/subscriptions?limit=50&customer=cus_bench_42".into(), "subscriptions"),
        (
            "subscriptions: subject".into(),
            "/subscriptions?limit=50&subjectType=team&subjectId=t5".into(),
            "subscriptions",
        ),
        ("customers: first page, with stats".into(), "/customers?limit=50".into(), "customers"),
        ("webhook events: newest".into(), "/webhook-events?limit=50".into(), "webhookEvents"),
        (
            "webhook events: type=invoice.paid".into(),
            "/webhook-events?limit=50&type=invoice.paid".into(),
            "webhookEvents",
        ),
        ("webhook events: status=failed".into(), "/webhook-events?limit=50&status=failed".into(), "webhookEvents"),
        ("webhook events: objectId".into(), "/webhook-events?limit=50&objectId=sub_bench_42".into(), "webhookEvents"),
    ];
    for (name, path, key) in [
        ("history: 20th cursor page", "/payment-history?limit=50", "paymentHistory"),
        ("customers: 20th page", "/customers?limit=50", "customers"),
    ] {
        match twentieth_cursor(ctx, path).await? {
            Some(c) => cases.push((name.into(), format!("{path}&cursor={c}"), key)),
            None => eprintln!("  {name}: fewer than 20 pages at this size, skipped"),
        }
    }
    let mut rows = Vec::new();
    for (name, path, key) in cases {
        let (lat, body) = ctx.sample(&ctx.api(&path), None).await?;
        let v: Value = serde_json::from_slice(&body).with_context(|| format!("{path}: not JSON"))?;
        let items = v[key].as_array().with_context(|| format!("{path}: no `{key}` array in {v}"))?;
        ensure!(items.len() <= 50, "{path}: {} rows on a 50-row page", items.len());
        // The unfiltered lists are larger than a page at every size: a short page is a wrong count.
        if !path.contains('&') && (key != "webhookEvents" || ctx.plan.sizes.events >= 50) {
            ensure!(items.len() == 50, "{path}: {} rows instead of 50", items.len());
        }
        eprintln!("  {name}: {}", ms_pair(&lat));
        rows.push(list_row(&name, &lat, base, 10.0));
    }
    // The overview's figures: grouped counts over the environment, not a page, held to the
    // same budget (issue #14).
    let (lat, body) = ctx.sample(&ctx.api("/overview"), None).await?;
    let v: Value = serde_json::from_slice(&body).context("/overview: not JSON")?;
    ensure!(v["overview"]["days"].as_array().is_some_and(|d| d.len() == 30), "/overview: no 30 days in {v}");
    eprintln!("  overview: figures: {}", ms_pair(&lat));
    rows.push(list_row("overview: figures (MRR, 30 days, status mix)", &lat, base, 10.0));
    Ok(rows)
}

/// Signs in through the login form (its server function, as a browser without JavaScript
/// posts it) and returns the session cookie.
async fn sign_in(ctx: &Ctx) -> anyhow::Result<String> {
    let url = format!("{}/api/console/login", ctx.console.url);
    let resp = ctx
        .http
        .post(&url)
        .header("origin", &ctx.console.url)
        .form(&[
            ("email", ctx.setup.admin_email.as_str()),
            ("password", ctx.setup.admin_password.as_str()),
            ("next", "/test"),
        ])
        .send()
        .await?;
    let status = resp.status();
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("pc_session=") && !c.starts_with("pc_session=;"))
        .map(|c| c.split(';').next().unwrap_or_default().to_string());
    cookie.with_context(|| format!("signing in answered HTTP {status} without a session cookie"))
}

/// The console pages the SSR part renders and the load part browses.
const PAGES: [&str; 11] = [
    "/test",
    "/test/keys",
    "/test/sync",
    "/test/catalog",
    "/test/customers",
    "/test/subscriptions",
    "/test/subscriptions/sub_bench_42",
    "/test/subjects/team/t5",
    "/test/history",
    "/test/webhooks",
    "/test/audit",
];

/// The webhook secret, configuring the managed endpoint first if the console has none.
async fn ensure_webhook_secret(ctx: &Ctx) -> anyhow::Result<String> {
    if let Some(secret) = webhook_secret(&ctx.pool, &ctx.setup.master_key).await? {
        return Ok(secret);
    }
    let resp = ctx.http.post(ctx.api("/webhook")).header("x-api-key", &ctx.api_key).send().await?;
    ensure!(resp.status().is_success(), "configuring the webhook: HTTP {}", resp.status());
    webhook_secret(&ctx.pool, &ctx.setup.master_key).await?.context("the console stored no webhook secret")
}

/// `--load-users` signed-in admins browsing the console's pages (one page, then half a second
/// to read it) while webhooks arrive at `--load-rate` per second from 16 senders, for
/// `--load-seconds`, at the data sizes of the run: the errors, the pages' p95 (server time)
/// and the acknowledged events that are not in the event log. Reported, not a target.
async fn load(ctx: &Ctx, base: &Latencies) -> anyhow::Result<Vec<Row>> {
    let plan = &ctx.plan;
    let secret = ensure_webhook_secret(ctx).await?;
    let mut cookies = Vec::new();
    for _ in 0..plan.load_users {
        cookies.push(sign_in(ctx).await?);
    }
    let deadline = Instant::now() + Duration::from_secs(plan.load_seconds);
    let mut users = Vec::new();
    for (u, cookie) in cookies.into_iter().enumerate() {
        let (http, base_url) = (ctx.http.clone(), ctx.console.url.clone());
        users.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Latencies::default(), Vec::<String>::new());
            let mut i = u;
            while Instant::now() < deadline {
                let url = format!("{base_url}{}", PAGES[i % PAGES.len()]);
                i += 1;
                let started = Instant::now();
                match http.get(&url).header("cookie", &cookie).send().await {
                    Ok(resp) if resp.status().is_success() => {
                        let server = resp
                            .headers()
                            .get("server-timing")
                            .and_then(|v| v.to_str().ok())
                            .and_then(server_timing_ms);
                        match resp.bytes().await {
                            Ok(_) => lat.push_ms(server.unwrap_or(started.elapsed().as_secs_f64() * 1000.0)),
                            Err(_) => errors.push("a cut-off body".into()),
                        }
                    }
                    Ok(resp) => errors.push(format!("HTTP {}", resp.status().as_u16())),
                    Err(e) if e.is_timeout() => errors.push("a timeout".into()),
                    Err(_) => errors.push("a connection error".into()),
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            (lat, errors)
        }));
    }
    // The webhooks: 16 senders, each sending its share of the rate on its own clock.
    let senders = 16u64;
    let interval = Duration::from_secs_f64(senders as f64 / plan.load_rate as f64);
    let url = format!("{}/api/webhooks/stripe/test", ctx.console.url);
    let customers = plan.sizes.customers;
    let mut hooks = Vec::new();
    for n in 0..senders {
        let (http, url, secret) = (ctx.http.clone(), url.clone(), secret.clone());
        hooks.push(tokio::spawn(async move {
            let (mut acked, mut errors) = (0u64, 0u64);
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut k = n;
            while Instant::now() < deadline {
                tick.tick().await;
                let body = webhook_event("load", k, customers).to_string();
                k += senders;
                match post_signed(&http, &url, &secret, body).await {
                    Ok(r) if r.status().is_success() => acked += 1,
                    _ => errors += 1,
                }
            }
            (acked, errors)
        }));
    }
    let (mut pages, mut kinds) = (Latencies::default(), std::collections::BTreeMap::<String, u64>::new());
    for u in users {
        let (lat, errors) = u.await?;
        for ms in lat.values() {
            pages.push_ms(*ms);
        }
        for e in errors {
            *kinds.entry(e).or_default() += 1;
        }
    }
    let page_errors: u64 = kinds.values().sum();
    // What the errors were, e.g. ": 27 × HTTP 503".
    let error_kinds = if kinds.is_empty() {
        String::new()
    } else {
        format!(": {}", kinds.iter().map(|(k, n)| format!("{n} × {k}")).collect::<Vec<_>>().join(", "))
    };
    let (mut acked, mut hook_errors) = (0, 0);
    for h in hooks {
        let (a, e) = h.await?;
        acked += a;
        hook_errors += e;
    }
    let stored = count(
        &ctx.pool,
        "SELECT COUNT(*) FROM payments_webhook_events WHERE stripe_event_id LIKE 'evt_bench_load_%'
             AND processing_status IN ('processed', 'ignored')",
    )
    .await?;
    let lost = acked as i64 - stored;
    ensure!(lost <= 0, "load: {lost} acknowledged events are missing from the event log");
    let seconds = plan.load_seconds as f64;
    eprintln!(
        "  {} users: {} pages, p95 {:.1} ms, {page_errors} errors{error_kinds}; webhooks {acked} acknowledged ({:.0}/s), {hook_errors} errors, 0 lost",
        plan.load_users,
        pages.len(),
        pages.p95(),
        acked as f64 / seconds
    );
    Ok(vec![
        Row {
            figure: format!(
                "{} signed-in users browsing for {} s with webhooks at {}/s: pages served, p95 (errors)",
                plan.load_users, plan.load_seconds, plan.load_rate
            ),
            measured: format!("{} pages, p95 {:.1} ms ({page_errors} errors{error_kinds})", pages.len(), pages.p95()),
            baseline: format!("lookup p95 {:.2} ms", base.p95()),
            ratio: pages.p95() / base.p95().max(0.001),
            value: pages.p95(),
            goal: Goal::AtMost(50.0),
            target: "reported (pages ≤ 50 ms p95)".into(),
        },
        Row {
            figure: format!("webhooks at {}/s during the browsing: acknowledged, errors, lost", plan.load_rate),
            measured: format!("{:.0}/s ({hook_errors} errors, 0 lost)", acked as f64 / seconds),
            baseline: format!("{}/s offered", plan.load_rate),
            ratio: acked as f64 / seconds / plan.load_rate as f64,
            value: acked as f64 / seconds,
            goal: Goal::AtLeast(plan.load_rate as f64 * 0.95),
            target: "reported (≥ 95% of the rate)".into(),
        },
    ])
}

/// Every console page's HTML, rendered on the server, signed in as the admin.
async fn ssr(ctx: &Ctx, base: &Latencies) -> anyhow::Result<Vec<Row>> {
    let cookie = sign_in(ctx).await?;
    let mut rows = Vec::new();
    for page in PAGES {
        let (lat, body) = ctx.sample(&format!("{}{page}", ctx.console.url), Some(&cookie)).await?;
        let html = String::from_utf8_lossy(&body);
        ensure!(html.contains("<html") || html.contains("<!DOCTYPE"), "{page}: not an HTML page");
        eprintln!("  {page}: {}", ms_pair(&lat));
        rows.push(list_row(&format!("page {page}"), &lat, base, 50.0));
    }
    Ok(rows)
}

/// The payment history's CSV export of every row (`/export/test/payment-history.csv`), read as
/// it streams: rows per second over the whole download, against the rate of its first tenth in
/// the same download. Linear in its rows: the two rates are alike. Checks that every row of the
/// environment arrived.
async fn export(ctx: &Ctx) -> anyhow::Result<Vec<Row>> {
    let cookie = sign_in(ctx).await?;
    let expected: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payments_payment_history WHERE environment = 'test'")
        .fetch_one(&ctx.pool)
        .await?;
    let tenth = (expected / 10).max(1);
    let started = Instant::now();
    let mut resp = ctx
        .http
        .get(format!("{}/export/test/payment-history.csv", ctx.console.url))
        .header("cookie", &cookie)
        .send()
        .await?;
    ensure!(resp.status().is_success(), "the export answered HTTP {}", resp.status());
    // Lines so far (the header is the first), and when the first tenth of the rows had arrived.
    let (mut lines, mut bytes, mut first_tenth) = (0i64, 0usize, None);
    while let Some(chunk) = resp.chunk().await? {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count() as i64;
        if first_tenth.is_none() && lines > tenth {
            first_tenth = Some((started.elapsed().as_secs_f64(), lines - 1));
        }
    }
    let total = started.elapsed().as_secs_f64();
    let rows = lines - 1;
    ensure!(rows == expected, "the export had {rows} rows of {expected}");
    let (tenth_s, tenth_rows) = first_tenth.unwrap_or((total, rows));
    let (rate, first_rate) = (rows as f64 / total, tenth_rows as f64 / tenth_s);
    eprintln!(
        "  {rows} rows, {:.1} MB in {total:.1} s ({rate:.0} rows/s; first tenth {first_rate:.0} rows/s)",
        bytes as f64 / 1e6
    );
    Ok(vec![Row {
        figure: format!(
            "CSV export of all {rows} history rows ({:.0} MB): rows/s over the whole download",
            bytes as f64 / 1e6
        ),
        measured: format!("{rate:.0} rows/s ({total:.1} s)"),
        baseline: format!("{first_rate:.0} rows/s over its first {tenth_rows} rows ({tenth_s:.1} s)"),
        ratio: rate / first_rate,
        value: rate / first_rate,
        goal: Goal::AtLeast(0.8),
        target: "linear: ≥ 0.8× the first tenth's rate".into(),
    }])
}

/// One event of the webhook mix, numbered `k` within phase `tag`.
fn webhook_event(tag: &str, k: u64, customers: i64) -> Value {
    let now = now_ms() / 1000;
    let c = (k as i64) % customers.max(1);
    let (kind, object) = match k % 4 {
        0 => (
            "invoice.paid",
            json!({
                "id": format!("in_wh_{tag}_{k}"), "object": "invoice", "customer": format!("cus_bench_{c}"),
                "customer_email": format!("customer{c}@example.test"), "currency": "usd", "amount_paid": 2900,
                "amount_due": 2900, "created": now, "status": "paid", "status_transitions": { "paid_at": now },
                "parent": { "subscription_details": { "subscription": format!("sub_bench_{c}"), "metadata": {} } },
                "lines": { "data": [{ "pricing": { "price_details": { "product": "prod_bench_1", "price": "price_bench_1" } } }] },
            }),
        ),
        1 => (
            "payment_intent.succeeded",
            json!({
                "id": format!("pi_wh_{tag}_{k}"), "object": "payment_intent", "amount": 4900, "amount_received": 4900,
                "currency": "eur", "customer": format!("cus_bench_{c}"), "created": now, "status": "succeeded",
                "latest_charge": format!("ch_wh_{tag}_{k}"),
                "metadata": { "insforge_checkout_mode": "payment", "insforge_subject_type": "team", "insforge_subject_id": format!("t{}", c % data::SUBJECTS) },
            }),
        ),
        // The refund bookkeeping of an existing payment (none on empty tables).
        2 => (
            "charge.refunded",
            json!({
                "id": format!("ch_bench_{}", k * 7), "object": "charge", "payment_intent": format!("pi_bench_{}", k * 7),
                "amount": 1000, "amount_refunded": 1000, "refunded": true, "currency": "usd", "created": now,
            }),
        ),
        _ => (
            "customer.subscription.updated",
            json!({
                "id": format!("sub_wh_{tag}_{k}"), "object": "subscription", "customer": format!("cus_bench_{c}"),
                "status": "active", "created": now, "cancel_at_period_end": false, "metadata": {},
                "items": { "object": "list", "has_more": false, "data": [{
                    "id": format!("si_wh_{tag}_{k}"), "object": "subscription_item", "quantity": 1,
                    "price": { "id": "price_bench_1", "product": "prod_bench_1" },
                    "current_period_start": now, "current_period_end": now + 2_592_000,
                }] },
            }),
        ),
    };
    json!({
        "id": format!("evt_bench_{tag}_{k}"), "object": "event", "api_version": "2025-08-27.basil", "created": now,
        "livemode": false, "pending_webhooks": 1, "type": kind, "data": { "object": object },
    })
}

/// Delivers one webhook body to `url`, signed with `secret` as Stripe signs it.
async fn post_signed(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    body: String,
) -> reqwest::Result<reqwest::Response> {
    let signature = stripe_client::sign_webhook_payload(body.as_bytes(), secret, stripe_client::unix_now());
    http.post(url)
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(body)
        .send()
        .await
}

/// Sends events from `senders` concurrent tasks until `max` were sent or `seconds` passed.
/// `event(k)` builds the k-th body, `ok` says whether its answer is the expected one. Returns
/// the numbers sent and the elapsed time.
async fn blast(
    ctx: &Ctx,
    secret: &str,
    max: u64,
    seconds: u64,
    event: Arc<dyn Fn(u64) -> Value + Send + Sync>,
    expect_ok: bool,
) -> anyhow::Result<(Vec<u64>, Duration)> {
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let url = format!("{}/api/webhooks/stripe/test", ctx.console.url);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..ctx.plan.senders {
        let (http, url, next, event, secret) =
            (ctx.http.clone(), url.clone(), next.clone(), event.clone(), secret.to_string());
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            while Instant::now() < deadline {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= max {
                    break;
                }
                let body = event(k).to_string();
                let resp = post_signed(&http, &url, &secret, body).await?;
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                if status.is_success() != expect_ok {
                    bail!("webhook {k}: HTTP {status}: {}", &text[..text.len().min(300)]);
                }
                sent.push(k);
            }
            Ok::<_, anyhow::Error>(sent)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((all, started.elapsed()))
}

/// Verified events/s with the phase's tables, against the same endpoint refusing a bad
/// signature; then checks that none was lost and none applied twice.
async fn webhooks(ctx: &Ctx, tag: &'static str) -> anyhow::Result<Vec<Row>> {
    let secret = ensure_webhook_secret(ctx).await?;
    let plan = &ctx.plan;
    let customers = plan.sizes.customers;

    let bad: Arc<dyn Fn(u64) -> Value + Send + Sync> = Arc::new(move |k| webhook_event("refused", k, customers));
    let (refused, refused_time) =
        blast(ctx, "whsec_not_the_secret", plan.webhook_events, plan.webhook_seconds, bad, false).await?;
    let good: Arc<dyn Fn(u64) -> Value + Send + Sync> = Arc::new(move |k| webhook_event(tag, k, customers));
    let (sent, time) = blast(ctx, &secret, plan.webhook_events, plan.webhook_seconds, good.clone(), true).await?;
    ensure!(!sent.is_empty(), "no webhook was accepted");
    // Stripe redelivers: send every 20th event again; each must be acknowledged and change nothing.
    let resend: Vec<u64> = sent.iter().copied().filter(|k| k % 20 == 7).collect();
    let replay: Arc<dyn Fn(u64) -> Value + Send + Sync> = {
        let resend = resend.clone();
        Arc::new(move |i| webhook_event(tag, resend[i as usize], customers))
    };
    blast(ctx, &secret, resend.len() as u64, 600, replay, true).await?;

    let n = sent.len() as i64;
    let of_kind = |r: u64| sent.iter().filter(|k| *k % 4 == r).count() as i64;
    let stored = count(
        &ctx.pool,
        &format!("SELECT COUNT(*) FROM payments_webhook_events WHERE stripe_event_id LIKE 'evt_bench_{tag}_%'"),
    )
    .await?;
    ensure!(stored == n, "{tag}: {n} events acknowledged but {stored} stored");
    let unfinished = count(
        &ctx.pool,
        &format!("SELECT COUNT(*) FROM payments_webhook_events WHERE stripe_event_id LIKE 'evt_bench_{tag}_%' AND processing_status NOT IN ('processed', 'ignored')"),
    )
    .await?;
    ensure!(unfinished == 0, "{tag}: {unfinished} acknowledged events are not processed");
    let twice = count(
        &ctx.pool,
        &format!("SELECT COUNT(*) FROM payments_webhook_events WHERE stripe_event_id LIKE 'evt_bench_{tag}_%' AND attempt_count > 1"),
    )
    .await?;
    ensure!(twice == 0, "{tag}: {twice} events were applied more than once");
    for (what, sql, expected) in [
        (
            "invoice",
            format!("SELECT COUNT(*) FROM payments_payment_history WHERE stripe_invoice_id LIKE 'in_wh_{tag}_%'"),
            of_kind(0),
        ),
        (
            "payment",
            format!(
                "SELECT COUNT(*) FROM payments_payment_history WHERE stripe_payment_intent_id LIKE 'pi_wh_{tag}_%'"
            ),
            of_kind(1),
        ),
        (
            "subscription",
            format!("SELECT COUNT(*) FROM payments_subscriptions WHERE stripe_subscription_id LIKE 'sub_wh_{tag}_%'"),
            of_kind(3),
        ),
    ] {
        let got = count(&ctx.pool, &sql).await?;
        ensure!(got == expected, "{tag}: {expected} {what} events acknowledged, {got} rows written");
    }
    eprintln!(
        "  {tag}: {n} events in {:.1} s, {} redelivered; refused {} in {:.1} s",
        time.as_secs_f64(),
        resend.len(),
        refused.len(),
        refused_time.as_secs_f64()
    );
    let rate = n as f64 / time.as_secs_f64();
    let refused_rate = refused.len() as f64 / refused_time.as_secs_f64();
    let history = count(&ctx.pool, "SELECT COUNT(*) FROM payments_payment_history").await?;
    Ok(vec![Row {
        figure: format!("verified events/s, {history} history rows after ({n} events; none lost, none applied twice)"),
        measured: format!("{rate:.0}/s"),
        baseline: format!("{refused_rate:.0}/s refused (bad signature)"),
        ratio: rate / refused_rate,
        value: rate,
        goal: Goal::AtLeast(1500.0),
        target: "≥ 1,500/s".into(),
    }])
}

/// The lists the engine's sync reads, as `(path, query)`: the mirror's
/// (`payments_engine::sync_lists`), then the history it backfills
/// (`payments_engine::history_lists`, without a window).
const SYNC_LISTS: [(&str, &str); 9] = [
    ("/v1/products", ""),
    ("/v1/prices", "active=true"),
    ("/v1/prices", "active=false"),
    ("/v1/subscriptions", "status=all"),
    ("/v1/customers", "expand[]=data.invoice_settings.default_payment_method&expand[]=data.default_source"),
    ("/v1/checkout/sessions", "status=complete&expand[]=data.customer&expand[]=data.payment_intent"),
    ("/v1/payment_intents", ""),
    ("/v1/invoices", "expand[]=data.payments"),
    ("/v1/refunds", "expand[]=data.payment_intent"),
];

/// Pages the sync's lists with a bare HTTP client: 100 per page, one shared budget of Stripe's
/// 25 req/s test-mode limit, the lists in parallel as the sync reads them. Returns the objects
/// read and the requests made.
async fn polite_paging(ctx: &Ctx) -> anyhow::Result<(u64, u64)> {
    let budget = Arc::new(stripe_client::RequestBudget::new(stripe_client::STRIPE_TEST_MODE_RATE));
    let mut tasks = Vec::new();
    for (path, query) in SYNC_LISTS {
        let (http, budget, base) = (ctx.http.clone(), budget.clone(), ctx.sandbox.url.clone());
        tasks.push(tokio::spawn(async move {
            let (mut objects, mut requests) = (0u64, 0u64);
            let mut after: Option<String> = None;
            loop {
                budget.acquire().await;
                let mut url = format!("{base}{path}?limit=100");
                if !query.is_empty() {
                    url = format!("{url}&{query}");
                }
                if let Some(a) = &after {
                    url = format!("{url}&starting_after={a}");
                }
                let resp = http.get(&url).bearer_auth(SANDBOX_KEY).send().await?;
                ensure!(resp.status().is_success(), "GET {url}: HTTP {}", resp.status());
                let page: Value = resp.json().await?;
                requests += 1;
                let data = page["data"].as_array().cloned().unwrap_or_default();
                objects += data.len() as u64;
                after = data.last().and_then(|o| o["id"].as_str()).map(str::to_string);
                if page["has_more"] != json!(true) || after.is_none() {
                    return Ok::<_, anyhow::Error>((objects, requests));
                }
            }
        }));
    }
    let (mut objects, mut requests) = (0, 0);
    for t in tasks {
        let (o, r) = t.await??;
        objects += o;
        requests += r;
    }
    Ok((objects, requests))
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// The sync of the seeded sandbox against polite paging of the same lists, and the console's
/// memory before, at its peak and after.
async fn sync(ctx: &mut Ctx) -> anyhow::Result<Vec<Row>> {
    let n = ctx.plan.sync_objects;
    let seeded = ctx
        .http
        .post(format!("{}/_sandbox/seed", ctx.sandbox.url))
        .json(&json!({ "size": n, "history": true }))
        .send()
        .await?;
    ensure!(seeded.status().is_success(), "seeding the sandbox: HTTP {}", seeded.status());

    let started = Instant::now();
    let (objects, requests) = polite_paging(ctx).await?;
    let paging = started.elapsed();
    ensure!(objects as i64 >= 5 * n, "paging read {objects} objects, fewer than the {} seeded", 5 * n);

    // The generated mirror rows are not at Stripe: a sync would spend its time removing them.
    // Measure the sync of a fresh mirror, as on a new installation (history and events stay).
    for table in [
        "payments_subscription_items",
        "payments_subscriptions",
        "payments_customer_mappings",
        "payments_customers",
        "payments_prices",
        "payments_products",
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE environment = 'test'")).execute(&ctx.pool).await?;
    }
    // A fresh console process, so that "before" is the memory of an idle console.
    ctx.restart_console().await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = ctx.console.pid();
    let (before, _) = procs::memory_kb(pid).context("reading the console's memory")?;
    let peak = Arc::new(AtomicU64::new(before));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                if let Some((rss, _)) = procs::memory_kb(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let started = Instant::now();
    let sync_start_ms = now_ms();
    let resp =
        ctx.http.post(ctx.api("/sync")).header("x-api-key", &ctx.api_key).timeout(ctx.plan.part_timeout).send().await;
    let took = started.elapsed();
    sampler.abort();
    let resp = resp?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    ensure!(status.is_success(), "sync: HTTP {status}: {body}");
    let (_, hwm) = procs::memory_kb(pid).context("reading the console's memory")?;
    // Rows the sync wrote (generated and webhook rows are older, whether or not it removed them).
    let since = sync_start_ms - 1000;
    for table in ["payments_products", "payments_prices", "payments_customers", "payments_subscriptions"] {
        let got = count(
            &ctx.pool,
            &format!("SELECT COUNT(*) FROM {table} WHERE environment = 'test' AND synced_at >= {since}"),
        )
        .await?;
        ensure!(got == n, "after the sync {table} holds {got} rows, the sandbox {n}: {body}");
    }
    // The history it backfilled: an invoice per subscription, a refund per 10th customer.
    let invoices = count(
        &ctx.pool,
        "SELECT COUNT(*) FROM payments_payment_history WHERE environment = 'test' AND description LIKE 'BULK-%'",
    )
    .await?;
    ensure!(invoices == n, "the sync backfilled {invoices} invoices, the sandbox holds {n}: {body}");
    let refunds = count(
        &ctx.pool,
        &format!("SELECT COUNT(*) FROM payments_payment_history WHERE environment = 'test' AND type = 'refund' AND updated_at >= {since}"),
    )
    .await?;
    ensure!(refunds == (n + 9) / 10, "the sync backfilled {refunds} refunds, the sandbox {}: {body}", (n + 9) / 10);
    tokio::time::sleep(ctx.plan.settle).await;
    let (after, _) = procs::memory_kb(pid).context("reading the console's memory")?;
    let sampled = peak.load(Ordering::Relaxed);
    eprintln!(
        "  sync {:.1} s, paging {:.1} s ({requests} requests); RSS {before} → {sampled} (HWM {hwm}) → {after} kB",
        took.as_secs_f64(),
        paging.as_secs_f64()
    );
    let settle = ctx.plan.settle.as_secs();
    Ok(vec![
        Row {
            figure: format!("`POST /api/payments/test/sync`, {objects} objects ({n} each of products, prices, customers, subscriptions and invoices; one-time payments, refunds)"),
            measured: format!("{:.1} s", took.as_secs_f64()),
            baseline: format!("{:.1} s polite paging ({requests} requests at 25 req/s)", paging.as_secs_f64()),
            ratio: took.as_secs_f64() / paging.as_secs_f64(),
            value: took.as_secs_f64() / paging.as_secs_f64(),
            goal: Goal::AtMost(1.2),
            target: "≤ 1.2× paging".into(),
        },
        Row {
            figure: "console RSS: peak (VmHWM; max of VmRSS sampled every 50 ms)".into(),
            measured: format!("{:.0} MB ({:.0} MB)", mb(hwm), mb(sampled)),
            baseline: format!("{:.0} MB before", mb(before)),
            ratio: hwm as f64 / before as f64,
            value: mb(hwm),
            goal: Goal::AtMost(200.0),
            target: "≤ 200 MB".into(),
        },
        Row {
            figure: format!("console RSS {settle} s after the sync"),
            measured: format!("{:.0} MB", mb(after)),
            baseline: format!("{:.0} MB before", mb(before)),
            ratio: after as f64 / before as f64,
            value: mb(after),
            goal: Goal::AtMost(80.0),
            target: "≤ 80 MB".into(),
        },
    ])
}
