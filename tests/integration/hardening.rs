//! The HTTP layer's defences, over real HTTP: cross-origin writes, body limits, security headers.

use crate::support;

#[path = "hardening/role_matrix.rs"]
mod role_matrix;

#[path = "hardening/metrics.rs"]
mod metrics;

use payments_console::auth::Role;
use payments_console::server::http::{DEFAULT_BODY_LIMIT, LOGIN_BODY_LIMIT, WEBHOOK_BODY_LIMIT};
use support::{TestApp, PASSWORD};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A client like [`TestApp::client`] that sends no `Origin` of its own (curl, a script, or a
/// request whose origin is hidden).
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Boots a console that is not in demo mode (so nothing fills in a public URL) with
/// `--public-url URL`.
async fn spawn_behind(public_url: &str) -> TestApp {
    let public_url = public_url.parse().unwrap();
    TestApp::spawn_not_demo(move |args| args.public_url = Some(public_url)).await
}

// --- Cross-origin writes -----------------------------------------------------------------------

#[tokio::test]
async fn a_cookie_write_that_names_no_origin_is_refused() {
    let app = TestApp::spawn().await;
    app.add_user("ops@example.com", Role::Admin).await;
    let client = bare_client();
    // Signing in carries no session cookie yet: a non-browser client may do it.
    assert_eq!(app.sign_in(&client, "ops@example.com", PASSWORD).await.status(), 200);

    let res = client.post(app.url("/api/console/me")).send().await.unwrap();
    assert_eq!(res.status(), 403, "session cookie, neither Origin nor Sec-Fetch-Site");
    // Either header, naming this console, lets the same request through.
    let res = client.post(app.url("/api/console/me")).header("sec-fetch-site", "same-origin").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = client.post(app.url("/api/console/me")).header("origin", &app.base).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // A sibling site is not this console.
    let res = client.post(app.url("/api/console/me")).header("sec-fetch-site", "same-site").send().await.unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn api_key_and_webhook_requests_need_no_origin_even_with_a_session_cookie() {
    let app = TestApp::spawn().await;
    app.add_user("ops@example.com", Role::Admin).await;
    let client = bare_client();
    assert_eq!(app.sign_in(&client, "ops@example.com", PASSWORD).await.status(), 200);
    let key = app.state.api_keys.create("tests").await.unwrap().1.expose().to_string();

    for (name, value) in [("x-api-key", key.clone()), ("authorization", format!("Bearer {key}"))] {
        let res = client
            .post(app.url("/api/payments/test/catalog/products"))
            .header(name, value)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{name}: reaches the API, which refuses the empty product");
    }
    let res = client.post(app.url("/api/webhooks/stripe/test")).body("{}").send().await.unwrap();
    assert_eq!(res.status(), 401, "the webhook receiver answers itself (no signature)");
}

#[tokio::test]
async fn with_a_public_url_the_origin_must_be_exactly_it() {
    let app = spawn_behind("https://console.example.com").await;
    app.add_user("ops@example.com", Role::Admin).await;
    let login = |origin: &str| {
        bare_client()
            .post(app.url("/api/console/login"))
            .header("origin", origin)
            .form(&[("email", "ops@example.com"), ("password", PASSWORD)])
            .send()
    };
    // The public origin is accepted although the Host header (127.0.0.1:port) differs.
    assert_eq!(login("https://console.example.com").await.unwrap().status(), 200);
    // The Host header no longer vouches: an Origin equal to it is still another origin.
    assert_eq!(login(&app.base).await.unwrap().status(), 403);
    for other in ["http://console.example.com", "https://console.example.com:8443", "https://evil.example"] {
        assert_eq!(login(other).await.unwrap().status(), 403, "{other}");
    }
}

// --- Body limits -------------------------------------------------------------------------------

/// How a raw request's chunked body ends.
#[derive(Clone, Copy, PartialEq)]
enum End {
    /// With the final empty chunk: a complete body.
    Complete,
    /// Cut after the last data byte, without even the chunk's CRLF: a body too large must be
    /// refused on what has arrived, and the server has then read every byte sent, so closing
    /// the connection cannot reset it before the answer is read.
    Cut,
}

/// Sends a raw HTTP/1.1 request and answers the status code and response head. With `chunks`,
/// the body goes out chunked (no Content-Length), one chunk per entry.
async fn raw_request(
    app: &TestApp,
    path: &str,
    headers: &[(&str, String)],
    chunks: &[Vec<u8>],
    end: End,
) -> (u16, String) {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !chunks.is_empty() {
        head.push_str("Transfer-Encoding: chunked\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    for (i, chunk) in chunks.iter().enumerate() {
        stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.unwrap();
        stream.write_all(chunk).await.unwrap();
        if end == End::Complete || i + 1 < chunks.len() {
            stream.write_all(b"\r\n").await.unwrap();
        }
    }
    if end == End::Complete && !chunks.is_empty() {
        stream.write_all(b"0\r\n\r\n").await.unwrap();
    }
    let mut response = Vec::new();
    let mut buf = [0u8; 8192];
    // Read until the status line and headers are in (a body that never ends is not waited for).
    // A server that waits for the rest of a cut body never answers: the bound turns that hang
    // into a failure (it is not a speed requirement).
    let read_head = async {
        while !response.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed before a response: {}", String::from_utf8_lossy(&response));
            response.extend_from_slice(&buf[..n]);
        }
    };
    if tokio::time::timeout(std::time::Duration::from_secs(30), read_head).await.is_err() {
        panic!("{path}: no answer; the server is waiting for the rest of the body");
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    (status, text)
}

/// `total` bytes of JSON-ish filler in 16 KiB chunks.
fn chunks_of(total: usize) -> Vec<Vec<u8>> {
    let mut left = total;
    let mut out = Vec::new();
    while left > 0 {
        let n = left.min(16 * 1024);
        out.push(vec![b'a'; n]);
        left -= n;
    }
    out
}

#[tokio::test]
async fn a_declared_oversized_body_is_refused_before_it_is_sent() {
    let app = TestApp::spawn().await;
    let origin = ("Origin", app.base.clone());
    // Only the headers go out: the 413 must come without the body, and before the API key is
    // looked up (a bogus key would otherwise get 401).
    let cases = [
        ("/api/console/login", LOGIN_BODY_LIMIT),
        ("/api/console/me", DEFAULT_BODY_LIMIT),
        ("/api/payments/test/catalog/products", DEFAULT_BODY_LIMIT),
        ("/api/webhooks/stripe/test", WEBHOOK_BODY_LIMIT),
    ];
    for (path, limit) in cases {
        let headers = [
            origin.clone(),
            ("x-api-key", "ik_bogus".to_string()),
            ("Content-Type", "application/json".to_string()),
            ("Content-Length", (limit + 1).to_string()),
        ];
        let (status, response) = raw_request(&app, path, &headers, &[], End::Cut).await;
        assert_eq!(status, 413, "{path}: {response}");
    }
    let headers = [("Content-Length", "300000".to_string())];
    let (_, response) = raw_request(&app, "/api/payments/test/catalog/products", &headers, &[], End::Cut).await;
    assert!(response.contains("application/json"), "the payments API answers its error envelope: {response}");
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_refused() {
    let app = TestApp::spawn().await;
    let cases = [
        ("/api/console/login", LOGIN_BODY_LIMIT),
        ("/api/console/me", DEFAULT_BODY_LIMIT),
        ("/api/payments/test/catalog/products", DEFAULT_BODY_LIMIT),
    ];
    for (path, limit) in cases {
        let headers = [
            ("Origin", app.base.clone()),
            ("x-api-key", "ik_bogus".to_string()),
            ("Content-Type", "application/x-www-form-urlencoded".to_string()),
        ];
        let (status, response) = raw_request(&app, path, &headers, &chunks_of(limit + 1), End::Cut).await;
        assert_eq!(status, 413, "{path}: {response}");
    }
}

#[tokio::test]
async fn an_oversized_body_is_refused_before_the_session_is_looked_up() {
    let app = TestApp::spawn().await;
    let client = app.signed_in("ops@example.com", Role::Admin).await;
    // With the database gone, anything that reads it fails (the session lookup answers 503).
    app.state.db.pool().close().await;
    let res = client.post(app.url("/api/console/me")).body(vec![b'a'; DEFAULT_BODY_LIMIT + 1]).send().await.unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn bodies_within_the_limits_reach_their_handlers() {
    let app = TestApp::spawn().await;
    app.add_user("ops@example.com", Role::Admin).await;
    // A webhook just under its limit gets to the receiver, which refuses its signature (400 for
    // a stale one, 401 for none).
    let res = app
        .client()
        .post(app.url("/api/webhooks/stripe/test"))
        .header("stripe-signature", "t=1,v1=00")
        .body(vec![b' '; WEBHOOK_BODY_LIMIT - 1])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "the receiver refuses the stale signature");
    let chunks = chunks_of(WEBHOOK_BODY_LIMIT - 1);
    let (status, response) = raw_request(&app, "/api/webhooks/stripe/test", &[], &chunks, End::Complete).await;
    assert_eq!(status, 401, "{response}");

    // A chunked sign-in is read whole and passed on intact: it signs in.
    let form = format!("email=ops%40example.com&password={}", PASSWORD.replace(' ', "+")).into_bytes();
    let chunks = vec![form[..10].to_vec(), form[10..].to_vec()];
    let headers = [
        ("Origin", app.base.clone()),
        ("Content-Type", "application/x-www-form-urlencoded".to_string()),
        ("Accept", "application/json".to_string()),
    ];
    let (status, response) = raw_request(&app, "/api/console/login", &headers, &chunks, End::Complete).await;
    assert_eq!(status, 200, "{response}");
    assert!(response.to_ascii_lowercase().contains("set-cookie: pc_session="), "{response}");
}

// --- Security headers --------------------------------------------------------------------------

/// The nonce of a page's policy, after checking the policy's fixed parts.
fn policy_nonce(res: &reqwest::Response) -> String {
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
    for directive in [
        "default-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "'wasm-unsafe-eval'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"), "{csp}");
    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a script nonce");
    assert!(nonce.len() >= 16, "{nonce}");
    // The same nonce lets the page's own `<style>` (the site's stylesheet, inline) apply.
    assert!(csp.contains(&format!("style-src 'self' 'nonce-{nonce}';")), "{csp}");
    nonce.to_string()
}

/// Every `<script` and `<style` tag of a page.
fn script_tags(html: &str) -> Vec<&str> {
    let tags = html.match_indices("<script").chain(html.match_indices("<style"));
    tags.map(|(i, _)| &html[i..i + html[i..].find('>').unwrap()]).collect()
}

/// The `on…=` attributes (inline event handlers) of a page's tags.
fn inline_handlers(html: &str) -> Vec<String> {
    html.split('<')
        .filter_map(|rest| rest.split_once('>').map(|(tag, _)| tag))
        .flat_map(|tag| tag.split_whitespace().skip(1))
        .filter(|attr| attr.starts_with("on") && attr.contains('='))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn pages_send_a_csp_whose_nonce_is_on_every_script() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("ops@example.com", Role::Admin).await;
    let mut nonces = Vec::new();
    for path in ["/login", "/test", "/test/history", "/test/catalog", "/test/no-such-page", "/no-such-page"] {
        let client = if path == "/login" { app.client() } else { admin.clone() };
        let res = client.get(app.url(path)).send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(matches!(res.status().as_u16(), 200 | 404), "{path}: {}", res.status());
        let nonce = policy_nonce(&res);
        let html = res.text().await.unwrap();
        let scripts = script_tags(&html);
        assert!(scripts.iter().any(|tag| tag.starts_with("<script")), "{path}: no scripts");
        assert!(scripts.iter().any(|tag| tag.starts_with("<style")), "{path}: no stylesheet");
        for tag in scripts {
            assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "{path}: {tag} lacks the policy's nonce");
        }
        assert!(!html.contains(" style=\""), "{path}: an inline style attribute the policy blocks");
        assert_eq!(inline_handlers(&html), Vec::<String>::new(), "{path}: inline handlers the policy blocks");
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 6, "a fresh nonce per response");
}

#[tokio::test]
async fn every_answer_has_the_policy_and_framing_headers() {
    let app = TestApp::spawn().await;
    for path in ["/login", "/healthz", "/pkg/payments-console.css", "/api/payments/status"] {
        let res = app.client().get(app.url(path)).send().await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"), "{path}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        let timing = h["server-timing"].to_str().unwrap();
        let ms: f64 = timing.strip_prefix("app;dur=").and_then(|d| d.parse().ok()).unwrap_or(-1.0);
        assert!(ms >= 0.0, "{path}: Server-Timing {timing}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert!(h.get("strict-transport-security").is_none(), "{path}: HSTS over plain HTTP");
    }
    // Refusals carry them too.
    let res =
        app.client().post(app.url("/api/console/me")).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().contains_key("content-security-policy"));
}

#[tokio::test]
async fn pages_and_api_answers_are_not_stored_but_static_files_may_be() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("ops@example.com", Role::Admin).await;
    let key = app.state.api_keys.create("tests").await.unwrap().1.expose().to_string();
    let answers = [
        ("page", admin.get(app.url("/test")).send().await.unwrap()),
        ("login page", app.client().get(app.url("/login")).send().await.unwrap()),
        ("server function", admin.post(app.url("/api/console/me")).send().await.unwrap()),
        (
            "payments API",
            app.client().get(app.url("/api/payments/status")).header("x-api-key", &key).send().await.unwrap(),
        ),
        ("CSV export", admin.get(app.url("/export/test/payment-history.csv")).send().await.unwrap()),
    ];
    for (what, res) in answers {
        assert!(res.status().is_success(), "{what}: {}", res.status());
        assert_eq!(res.headers()["cache-control"], "no-store", "{what}");
    }
    for path in ["/pkg/payments-console.css", "/favicon.svg"] {
        let res = app.client().get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("cache-control").is_none_or(|v| v != "no-store"), "{path} stays cacheable");
    }
}

#[tokio::test]
async fn hsts_is_sent_behind_an_https_public_url() {
    let app = spawn_behind("https://console.example.com").await;
    for path in ["/login", "/pkg/payments-console.css"] {
        let res = bare_client().get(app.url(path)).send().await.unwrap();
        assert_eq!(res.headers()["strict-transport-security"], "max-age=31536000", "{path}");
    }
    let app = spawn_behind("http://console.internal:8080").await;
    let res = bare_client().get(app.url("/login")).send().await.unwrap();
    assert!(res.headers().get("strict-transport-security").is_none());
}

// --- Files ---------------------------------------------------------------------------------------

/// Runs the real binary to completion.
fn console(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_payments-console"));
    cmd.args(args).env("RUST_LOG", "warn").stdin(std::process::Stdio::null());
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.output().expect("binary runs")
}

#[test]
fn serve_refuses_a_master_key_file_other_users_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master.key");
    let out = console(&["master-key", "generate", key_file.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    // Generating again never overwrites the key.
    let before = std::fs::read(&key_file).unwrap();
    assert!(!console(&["master-key", "generate", key_file.to_str().unwrap()], &[]).status.success());
    assert_eq!(std::fs::read(&key_file).unwrap(), before);

    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let db = format!("sqlite://{}/c.db", dir.path().display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_payments-console"))
        .args(["serve", "--addr", "127.0.0.1:0", "--master-key-file", key_file.to_str().unwrap()])
        .env("PAYMENTS_CONSOLE_DATABASE_URL", &db)
        .env("PAYMENTS_CONSOLE_ADMIN_PASSWORD", "a long enough password")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A refused start exits; one that was not refused serves until stopped.
    let mut exited = false;
    for _ in 0..600 {
        if child.try_wait().unwrap().is_some() {
            exited = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if !exited {
        child.kill().ok();
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(exited && !out.status.success(), "started with a 0644 key file: {stderr}");
    assert!(stderr.contains(&format!("chmod 600 {}", key_file.display())), "{stderr}");
    assert!(stderr.contains("0644"), "{stderr}");
}

#[test]
fn the_missing_key_file_hint_needs_only_stock_tools() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master.key");
    let db = format!("sqlite://{}/c.db", dir.path().display());
    let out = console(
        &["serve", "--addr", "127.0.0.1:0", "--master-key-file", key_file.to_str().unwrap()],
        &[("PAYMENTS_CONSOLE_DATABASE_URL", &db)],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&format!("payments-console master-key generate {}", key_file.display())), "{stderr}");
    // Debian has neither by default.
    assert!(!stderr.contains("xxd") && !stderr.contains("openssl"), "{stderr}");
}

// --- Rendering -----------------------------------------------------------------------------------

/// Building a router while another serves pages never stalls a page.
///
/// Every test of a binary builds its own router in one process, and so do two consoles embedded
/// in one program. Generating Leptos's route list sets a process-wide "suppress resource loads"
/// flag; a page's resource first polled meanwhile waited forever, and its response stopped after
/// the headers (two CI runs on 2026-12-04 lost a test to a 90-second timeout this way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn building_routers_never_stalls_a_page_being_rendered() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let builder = {
        let (state, stop) = (app.state.clone(), stop.clone());
        tokio::task::spawn_blocking(move || {
            let mut built = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                drop(payments_console::server::http::router(state.clone()));
                built += 1;
            }
            built
        })
    };
    for round in 0..60 {
        let path = ["/test/webhooks", "/test/history", "/test/customers"][round % 3];
        let page = tokio::time::timeout(std::time::Duration::from_secs(20), app.page(&support, path)).await;
        if page.is_err() {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            panic!("{path} (round {round}) did not finish in 20 s while routers were being built");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(builder.await.unwrap() > 0, "no router was built while the pages rendered");
}

/// Every page serves loads that arrive together, more of them than the database pool has
/// connections (4 on SQLite, 24 on PostgreSQL).
///
/// A page's data must be read by resources, which the render runs as tasks of their own. A plain
/// future in a `Suspend` is polled once in the render's first pass, which starts its wait for a
/// connection, and then not again until the page's other resources are in: under concurrent
/// loads each request held or queued for a connection another needed (084658a's webhook rows:
/// 50 loads at once, 167 of 200 timed out on the pool). Loads one at a time never see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_serves_forty_loads_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let pages = [
        "/test",
        "/test/keys",
        "/test/sync",
        "/test/catalog",
        "/test/catalog/copy",
        "/test/customers",
        "/test/search?q=team",
        "/test/subscriptions",
        "/test/history",
        "/test/webhooks",
        "/test/audit",
        "/test/users",
        "/test/api-keys",
        "/test/account",
    ];
    for path in pages {
        let mut loads = tokio::task::JoinSet::new();
        for _ in 0..40 {
            let (client, url) = (admin.clone(), app.url(path));
            loads.spawn(async move {
                let res = client.get(url).send().await.map_err(|e| e.to_string())?;
                let status = res.status().as_u16();
                // The body too: a page can stall after its headers.
                res.text().await.map_err(|e| e.to_string())?;
                Ok::<u16, String>(status)
            });
        }
        let all = tokio::time::timeout(std::time::Duration::from_secs(20), loads.join_all()).await;
        let Ok(all) = all else { panic!("{path}: 40 loads at once did not all finish in 20 s") };
        let failed: Vec<_> = all.iter().filter(|r| !matches!(r, Ok(200))).collect();
        assert!(failed.is_empty(), "{path}: {} of 40 loads at once failed: {failed:?}", failed.len());
    }
}
