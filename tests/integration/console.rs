//! Black-box tests of the console over real HTTP: pages, sessions, roles, probes.

use crate::support;

use payments_console::auth::Role;
use support::{sent_resources, TestApp, PASSWORD};

#[tokio::test]
async fn login_page_is_server_rendered() {
    let app = TestApp::spawn().await;
    let res = app.client().get(app.url("/login")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("<form"), "no form in {html}");
    assert!(html.contains(r#"name="email""#));
    assert!(html.contains(r#"type="password""#));
    assert!(html.contains("Sign in"));
    // The WASM bundle that hydrates the page is referenced.
    assert!(html.contains("/pkg/payments-console"), "no hydration script");
}

/// Every page hydrates only its islands, a page not found too (issue #13; `payments_console::app`):
/// the shell's loader hydrates them, and an island carries its props for the browser. No page
/// hydrates the whole app any more, so none is marked with a mode and none preloads a router.
#[tokio::test]
async fn every_page_hydrates_only_its_islands() {
    let app = TestApp::spawn().await;
    let login = app.page(&app.client(), "/login?next=%2Ftest%2Fhistory&error=credentials").await;
    assert!(login.contains(r#"<html lang="en">"#), "{login}");
    assert!(login.contains(ISLAND_LOADER), "no island loader in {login}");
    // Leptos's own islands script (which waits for an idle moment) is not written.
    assert!(!login.contains("hydrateIslands"), "{login}");
    // The form is an island, with what the browser needs as its props (the message, not the code).
    let form = login.find("<leptos-island").map(|at| &login[at..]).unwrap_or_default();
    assert!(form.contains(r#"name="email""#), "the sign-in form is no island: {login}");
    assert!(form.contains("&quot;next&quot;:&quot;/test/history&quot;"), "{form}");
    assert!(form.contains("The email or password is incorrect."), "{form}");

    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let not_found = admin.get(app.url("/test/no-such-section")).send().await.unwrap();
    assert_eq!(not_found.status(), 404);
    let not_found = not_found.text().await.unwrap();
    for (path, html) in [
        "/test",
        "/live",
        "/test/customers",
        "/test/history",
        // The editing pages: the server's HTML with forms (`crate::ui::enhance`), no island of
        // their own, but the toasts' region for what their forms say.
        "/test/keys",
        "/live/sync",
        "/live/catalog/copy",
        "/test/users",
        "/test/api-keys",
        "/test/account",
        "/live/webhooks",
        "/test/catalog",
        "/live/catalog",
    ]
    .map(|path| (path, None))
    .into_iter()
    .chain([("/test/no-such-section", Some(not_found))])
    {
        let html = match html {
            Some(html) => html,
            None => app.page(&admin, path).await,
        };
        assert!(!html.contains("data-hydration") && !html.contains("split_hydrate_app"), "{path}: {html}");
        // The loader, a classic script, which runs as soon as it is parsed, not Leptos's module
        // scripts, which wait for the end of parsing.
        assert_eq!(loader_tag(&html), Some("<script"), "{path}'s script");
        assert!(!html.contains("requestIdleCallback") && !html.contains("hydrateIslands"), "{path}: {html}");
        // The header's switches are on every page, as islands.
        assert!(html.contains(r#"data-testid="theme-toggle""#), "{path}");
        assert!(html.contains(r#"<leptos-island data-component="ThemeToggle"#), "{path}'s island elements");
        // No editing page is an island of its own any more: sync's was the last.
        assert!(!html.contains("StripePagesIsland"), "{path}: {html}");
        // One region where something may toast (the forms' on an editing page), none where
        // nothing would fill it.
        let forms = ["/webhooks", "/keys", "/sync", "/catalog", "/catalog/copy", "/users", "/api-keys", "/account"]
            .iter()
            .any(|page| path.ends_with(page));
        assert_eq!(html.matches(r#"data-testid="toasts""#).count(), usize::from(forms), "{path}'s toasts");
    }
}

/// The webhook log is the server's HTML for everyone: no editing island, so it downloads and
/// hydrates no more than a reading page (`EditingPage`, `src/pages/lazy.rs`). The main module's small
/// `PageForms` island serves its forms: admins' controls post to their server functions and ask
/// first (`crate::ui::enhance`); support staff see the same page without them, and both can copy
/// the Stripe CLI's command.
#[tokio::test]
async fn the_webhook_log_is_the_servers_html_with_forms_for_admins() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let command = format!("stripe listen --forward-to {}/api/webhooks/stripe/test --events ", app.base);
    let html = app.page(&support, "/test/webhooks").await;
    assert!(html.contains(r#"<html lang="en">"#), "{html}");
    assert!(!html.contains("StripePagesIsland"), "{html}");
    assert!(html.contains(r#"<leptos-island data-component="PageForms"#), "{html}");
    for shown in [
        r#"data-testid="endpoint-card""#,
        r#"data-testid="event-filters""#,
        &command,
        "Only admins can set",
        r#"data-testid="copy-forwarding-command""#,
    ] {
        assert!(html.contains(shown), "support sees {shown}: {html}");
    }
    for hidden in [r#"data-testid="configure-webhook""#, r#"data-testid="forwarding-form""#, "data-enhance"] {
        assert!(!html.contains(hidden), "support gets no {hidden}: {html}");
    }
    // Admins: the same page with their controls as forms, no island of their own, nothing preloaded.
    let html = app.page(&admin, "/test/webhooks").await;
    assert!(!html.contains("StripePagesIsland") && !html.contains("split_hydrate"), "{html}");
    assert!(html.contains(r#"<leptos-island data-component="PageForms"#), "{html}");
    for form in
        ["/api/console/webhook-configure", "/api/console/webhook-forwarding-set", "/api/console/webhook-reprocess"]
    {
        let at =
            html.find(&format!(r#"action="{form}""#)).unwrap_or_else(|| panic!("no form posting to {form}: {html}"));
        let tag = &html[html[..at].rfind("<form").unwrap()..at + html[at..].find('>').unwrap()];
        assert!(tag.contains("data-enhance") && tag.contains("data-confirm="), "{tag}");
    }
    // Their buttons work only with the island, which asks first.
    let button = &html[html.find(r#"data-testid="configure-webhook""#).unwrap()..];
    let button = &button[..button.find('>').unwrap()];
    assert!(button.contains("disabled") && button.contains("data-needs-js"), "{button}");
}

/// Users, API keys and one's account are the server's HTML with forms too (issue #13): what they
/// answer once, a one-time password or a new key, waits in a `<template>` the `PageForms` island
/// fills in place (`crate::ui::enhance::Reveal`), and the controls that answer so, or ask first,
/// or carry a password, work only with it.
#[tokio::test]
async fn users_api_keys_and_the_account_are_the_servers_html_with_forms() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    // A row with every control: someone else, active.
    app.add_user("agent@example.com", Role::Support).await;
    let cases: [(&str, &[(&str, &str)], &str); 3] = [
        (
            "/test/users",
            &[
                ("/api/console/users-add", "add-user-form"),
                ("/api/console/users-set-role", "user-role"),
                ("/api/console/users-reset-password", "user-reset"),
                ("/api/console/users-set-active", "user-deactivate"),
                ("/api/console/users-remove", "user-remove"),
            ],
            "one-time-password",
        ),
        ("/test/api-keys", &[("/api/console/api-keys-create", "create-key-form")], "new-api-key"),
        ("/test/account", &[("/api/console/account-password", "password-form")], "password-changed"),
    ];
    for (path, forms, reveal) in cases {
        let html = app.page(&admin, path).await;
        assert!(!html.contains("PagesIsland") && !html.contains("split_hydrate"), "{path}: {html}");
        assert!(sent_resources(&html).is_empty(), "{path} sends no resource: {html}");
        assert!(html.contains(r#"<leptos-island data-component="PageForms"#), "{path}: {html}");
        for (action, testid) in forms {
            let at =
                html.find(&format!(r#"action="{action}""#)).unwrap_or_else(|| panic!("{path}: no {action}: {html}"));
            let form = &html[html[..at].rfind("<form").unwrap()..];
            let form = &form[..form.find("</form>").unwrap()];
            assert!(form.contains("data-enhance") && form.contains(testid), "{path}: {form}");
        }
        // What is shown once is a template until the island fills it in.
        let template = format!(r#"<template id="{reveal}">"#);
        assert!(html.contains(&template), "{path}: {html}");
        assert!(html.contains(&format!(r#"data-reveal="{reveal}""#)), "{path}: {html}");
    }
    let users = app.page(&admin, "/test/users").await;
    for needs_js in ["user-reset", "user-deactivate", "user-remove"] {
        let button = &users[users.find(&format!(r#"data-testid="{needs_js}""#)).unwrap()..];
        let button = &button[..button.find('>').unwrap()];
        assert!(button.contains("disabled") && button.contains("data-needs-js"), "{button}");
    }
    // The role works as a plain form post too.
    let button = &users[users.find(r#"data-testid="user-role""#).unwrap()..];
    assert!(!button[..button.find('>').unwrap()].contains("disabled"), "{button}");
    // Support staff change their own password on the same page, and download nothing for it.
    let html = app.page(&support, "/test/account").await;
    assert!(!html.contains("PagesIsland") && html.contains(r#"action="/api/console/account-password""#));
}

/// The start of the shell's island loader (`src/ui/island_loader.js`).
const ISLAND_LOADER: &str = "(async (glue, wasm) => {";

/// The opening `<script` tag of the shell's loader, up to its nonce.
fn loader_tag(html: &str) -> Option<&str> {
    let before = &html[..html.find(ISLAND_LOADER)?];
    let tag = &before[before.rfind("<script")?..];
    Some(&tag[..tag.find(" nonce=")?])
}

/// No page sends its data for hydration (issue #13): every page of the console is the server's
/// HTML with islands that carry their own props, the catalog included since it stopped hydrating
/// the whole app, so what the server read for the HTML is never serialised a second time. (While
/// the catalog hydrated, this test checked that it sent each resource once: the layout's
/// `Suspense` used to build the frame and the page three times.)
#[tokio::test]
async fn no_page_sends_its_data_for_hydration() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    for path in [
        "/test/catalog",
        "/test/catalog?product=prod_starter&edit=product",
        "/test",
        "/test/customers",
        "/test/history",
        "/test/keys",
        "/test/sync",
        "/test/webhooks",
        "/test/catalog/copy",
        "/test/users",
        "/test/api-keys",
        "/test/account",
    ] {
        let html = app.page(&admin, path).await;
        assert!(sent_resources(&html).is_empty(), "{path}: {html}");
    }
}

#[tokio::test]
async fn static_files_are_served_without_a_session() {
    let app = TestApp::spawn().await;
    let css = app.client().get(app.url("/pkg/payments-console.css")).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css");
    assert_eq!(css.text().await.unwrap(), "body { color: red }");
    let icon = app.client().get(app.url("/favicon.svg")).send().await.unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(app.client().get(app.url("/pkg/missing.js")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn health_and_readiness_probes_answer() {
    let app = TestApp::spawn().await;
    let health = app.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<serde_json::Value>().await.unwrap()["status"], "ok");
    let ready = app.client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<serde_json::Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn anonymous_server_function_calls_get_401() {
    let app = TestApp::spawn().await;
    let res = app.client().post(app.url("/api/console/audit")).form(&[("", "")]).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let logout = app.client().post(app.url("/api/console/logout")).send().await.unwrap();
    assert_eq!(logout.status(), 401);
}

#[tokio::test]
async fn support_is_refused_admin_functions_with_403_and_admin_is_served() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    let res = support.post(app.url("/api/console/audit")).form(&[("", "")]).send().await.unwrap();
    assert_eq!(res.status(), 403);

    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let res = admin.post(app.url("/api/console/audit")).form(&[("", "")]).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page: serde_json::Value = res.json().await.unwrap();
    let actors: Vec<&str> = page["entries"].as_array().unwrap().iter().map(|e| e["actor"].as_str().unwrap()).collect();
    assert!(actors.contains(&"admin@example.com"), "sign-in is audited: {actors:?}");
}

#[tokio::test]
async fn a_wrong_password_fails_without_a_session() {
    let app = TestApp::spawn().await;
    app.add_user("ops@example.com", Role::Admin).await;
    let client = app.client();
    let res = app.sign_in(&client, "ops@example.com", "not the password").await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("set-cookie").is_none(), "no session cookie on failure");
    assert!(res.text().await.unwrap().contains("BadCredentials"));
    // An unknown email fails the same way (nothing says which part was wrong).
    let res = app.sign_in(&client, "nobody@example.com", PASSWORD).await;
    assert_eq!(res.status(), 401);
    // Still anonymous.
    let res = client.get(app.url("/test")).send().await.unwrap();
    assert!(res.status().is_redirection());
}

#[tokio::test]
async fn repeated_failures_throttle_even_the_right_password() {
    let app = TestApp::spawn().await;
    app.add_user("ops@example.com", Role::Admin).await;
    let client = app.client();
    for _ in 0..5 {
        assert_eq!(app.sign_in(&client, "ops@example.com", "guess").await.status(), 401);
    }
    let res = app.sign_in(&client, "ops@example.com", PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res.text().await.unwrap().contains("Throttled"));
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_strict() {
    let app = TestApp::spawn().await;
    app.add_user("ops@example.com", Role::Admin).await;
    let res = app.sign_in(&app.client(), "ops@example.com", PASSWORD).await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.starts_with("pc_session="));
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Strict"));
    assert!(!cookie.contains("Secure"), "plain-HTTP console must not set Secure");
}

#[tokio::test]
async fn console_pages_need_a_session() {
    let app = TestApp::spawn().await;
    let res = app.client().get(app.url("/live/catalog?active=true")).send().await.unwrap();
    assert!(res.status().is_redirection());
    assert_eq!(res.headers()["location"], "/login?next=%2Flive%2Fcatalog%3Factive%3Dtrue");
}

#[tokio::test]
async fn pages_render_for_the_role() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let html = admin.get(app.url("/test")).send().await.unwrap().text().await.unwrap();
    for label in [
        "Overview",
        "Keys",
        "Sync",
        "Catalog",
        "Customers",
        "Subscriptions",
        "Payment history",
        "Webhooks",
        "Audit log",
    ] {
        assert!(html.contains(&format!(">{label}<")), "admin nav lacks {label}");
    }
    assert!(!html.contains("live-banner"), "no live banner in test mode");
    let live = admin.get(app.url("/live/catalog")).send().await.unwrap().text().await.unwrap();
    assert!(live.contains("live-banner") && live.contains("LIVE MODE"));

    let support = app.signed_in("support@example.com", Role::Support).await;
    let html = support.get(app.url("/test")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(">Catalog<"));
    for hidden in [">Keys<", ">Sync<", ">Audit log<"] {
        assert!(!html.contains(hidden), "support sees {hidden}");
    }
    let keys = support.get(app.url("/test/keys")).send().await.unwrap().text().await.unwrap();
    assert!(keys.contains("Admins only"));
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let app = TestApp::spawn().await;
    let res = app.client().get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found"));
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    assert_eq!(admin.get(app.url("/test/no-such-section")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn cross_origin_posts_are_refused() {
    let app = TestApp::spawn().await;
    app.add_user("ops@example.com", Role::Admin).await;
    let res = app
        .client()
        .post(app.url("/api/console/login"))
        .header("origin", "https://evil.example")
        .form(&[("email", "ops@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("set-cookie").is_none());
}

/// A cookie naming a session that has ended is cleared with the attributes sign-in sets it
/// with: `Secure` when the console is served over HTTPS (the middleware's own copy lacked it).
#[tokio::test]
async fn an_ended_session_cookie_is_cleared_with_the_attributes_it_was_set_with() {
    for https in [false, true] {
        let app = TestApp::spawn_with(|args| {
            if https {
                args.public_url = Some("https://console.example".parse().unwrap());
            }
        })
        .await;
        let res = app.client().get(app.url("/test")).header("cookie", "pc_session=ended").send().await.unwrap();
        assert!(res.status().is_redirection(), "{}", res.status());
        let cleared = res.headers()["set-cookie"].to_str().unwrap();
        assert!(cleared.starts_with("pc_session=;") && cleared.contains("; Max-Age=0"), "{cleared}");
        assert_eq!(cleared.ends_with("; Secure"), https, "{cleared}");
    }
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    assert_eq!(admin.get(app.url("/test")).send().await.unwrap().status(), 200);
    let res = admin.post(app.url("/api/console/logout")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert!(admin.get(app.url("/test")).send().await.unwrap().status().is_redirection());
    assert_eq!(admin.post(app.url("/api/console/audit")).form(&[("", "")]).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn a_plain_form_login_redirects_to_next() {
    let app = TestApp::spawn().await;
    app.add_user("ops@example.com", Role::Admin).await;
    let client = app.client();
    let res = client
        .post(app.url("/api/console/login"))
        .header("accept", "text/html")
        .form(&[("email", "ops@example.com"), ("password", PASSWORD), ("next", "/live/history")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/live/history");
    let res = client
        .post(app.url("/api/console/login"))
        .header("accept", "text/html")
        .form(&[("email", "ops@example.com"), ("password", "wrong"), ("next", "/live")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/login?error=credentials&next=%2Flive");
}

#[tokio::test]
async fn demo_mode_runs_a_seeded_stripe_sandbox_in_process() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    let res = support.post(app.url("/api/console/instance")).form(&[("", "")]).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let facts: serde_json::Value = res.json().await.unwrap();
    let sandbox = facts["demo_sandbox_url"].as_str().expect("demo mode has a sandbox").to_string();
    assert!(sandbox.starts_with("http://127.0.0.1:"), "loopback only: {sandbox}");

    // It is a working Stripe stand-in with the demo catalog.
    let products = app.sandbox_get("/v1/products").await;
    assert_eq!(products["object"], "list");
    assert!(!products["data"].as_array().unwrap().is_empty(), "demo seed has products");
    assert_eq!(app.client().post(app.url("/api/console/instance")).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn the_suite_runs_on_the_engine_it_was_asked_for() {
    use payments_console::server::db::DbKind;
    let app = TestApp::spawn().await;
    let expected =
        if std::env::var("PAYMENTS_CONSOLE_TEST_POSTGRES").is_ok() { DbKind::Postgres } else { DbKind::Sqlite };
    assert_eq!(app.state.db.kind(), expected);
}

/// What a browser does with a `Location`: it drops tabs and newlines and reads `\` as `/`. The
/// redirect must stay a path of this console even then.
fn assert_local_location(res: &reqwest::Response, context: &str) {
    let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_string());
    let location = location.unwrap_or_else(|| panic!("{context}: no Location header"));
    let as_browser_reads_it: String = location
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    assert!(
        as_browser_reads_it.starts_with('/') && !as_browser_reads_it.starts_with("//"),
        "{context}: redirected off the console to {location:?}"
    );
}

#[tokio::test]
async fn a_signed_in_visit_of_login_never_redirects_off_the_console() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    for next in [
        "/%09/evil.example",
        "/%0d%0a/evil.example",
        "/%5Cevil.example",
        "/%252F/evil.example",
        "%2F%2Fevil.example",
        "https://evil.example",
    ] {
        let res = admin.get(app.url(&format!("/login?next={next}"))).send().await.unwrap();
        assert!(res.status().is_redirection(), "next={next}: {}", res.status());
        assert_local_location(&res, &format!("GET /login?next={next}"));
        assert_eq!(res.headers()["location"], "/test", "next={next}");
    }
    // An ordinary destination is kept.
    let res = admin.get(app.url("/login?next=%2Flive%2Fcatalog%3Factive%3Dtrue")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/live/catalog?active=true");
}

#[tokio::test]
async fn the_login_form_never_sends_the_browser_off_the_console() {
    let app = TestApp::spawn().await;
    app.add_user("ops@example.com", Role::Admin).await;
    for next in ["/\t/evil.example", "/\r\n/evil.example", "/%09/evil.example", "/%5Cevil.example", "/%2F/evil"] {
        // Without JavaScript: the redirect.
        let res = app
            .client()
            .post(app.url("/api/console/login"))
            .header("accept", "text/html")
            .form(&[("email", "ops@example.com"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302, "next={next:?}");
        assert_local_location(&res, &format!("form sign-in with next={next:?}"));
        assert_eq!(res.headers()["location"], "/test", "next={next:?}");
        // With JavaScript: the path the page navigates to.
        let res = app
            .client()
            .post(app.url("/api/console/login"))
            .form(&[("email", "ops@example.com"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "next={next:?}");
        assert_eq!(res.json::<String>().await.unwrap(), "/test", "next={next:?}");
    }
}

#[tokio::test]
async fn parallel_wrong_passwords_are_refused_before_any_hashing() {
    use payments_console::server::throttle::MAX_FAILURES_PER_EMAIL;
    let app = TestApp::spawn().await;
    app.add_user("ops@example.com", Role::Admin).await;
    let before = app.state.users.password_verifications();
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..50 {
        let (client, url) = (app.client(), app.url("/api/console/login"));
        attempts.spawn(async move {
            let guess = format!("guess {i}");
            let res = client
                .post(url)
                .form(&[("email", "ops@example.com"), ("password", guess.as_str())])
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string()))
        });
    }
    let results = attempts.join_all().await;
    let verified = app.state.users.password_verifications() - before;
    assert!(verified <= MAX_FAILURES_PER_EMAIL as u64, "argon2 ran {verified} times for 50 parallel guesses");
    let refused = results.iter().filter(|(status, _)| *status == 429).count();
    let wrong = results.iter().filter(|(status, _)| *status == 401).count();
    assert_eq!(refused + wrong, 50, "{results:?}");
    assert!(wrong as u64 <= verified, "{results:?}");
    for (_, retry_after) in results.iter().filter(|(status, _)| *status == 429) {
        let secs: u64 = retry_after.as_deref().expect("a 429 says when to retry").parse().unwrap();
        assert!(secs > 0);
    }
}

#[tokio::test]
async fn failures_from_one_address_throttle_sign_in_to_every_email() {
    use payments_console::server::throttle::MAX_FAILURES_PER_ADDRESS;
    let app = TestApp::spawn().await;
    app.add_user("ops@example.com", Role::Admin).await;
    let client = app.client();
    // Password spraying: one guess each for many emails, all from 127.0.0.1.
    for i in 0..MAX_FAILURES_PER_ADDRESS {
        assert_eq!(app.sign_in(&client, &format!("user{i}@example.com"), "Winter2026!").await.status(), 401);
    }
    let before = app.state.users.password_verifications();
    let res = app.sign_in(&app.client(), "ops@example.com", PASSWORD).await;
    assert_eq!(res.status(), 429, "a fresh email from the same address is throttled too");
    assert!(res.headers().contains_key("retry-after"));
    assert!(res.text().await.unwrap().contains("Throttled"));
    assert_eq!(app.state.users.password_verifications(), before, "refused before hashing");

    // Another address is not affected (Linux routes all of 127.0.0.0/8 to the loopback).
    #[cfg(target_os = "linux")]
    {
        let mut origin = reqwest::header::HeaderMap::new();
        origin.insert(reqwest::header::ORIGIN, app.base.parse().unwrap());
        let elsewhere = reqwest::Client::builder()
            .local_address(Some("127.0.0.2".parse().unwrap()))
            .default_headers(origin)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        assert_eq!(app.sign_in(&elsewhere, "ops@example.com", PASSWORD).await.status(), 200);
    }
}

#[tokio::test]
async fn a_right_password_within_the_limit_signs_in_and_clears_the_failures() {
    use payments_console::server::throttle::MAX_FAILURES_PER_EMAIL;
    let app = TestApp::spawn().await;
    app.add_user("ops@example.com", Role::Admin).await;
    let client = app.client();
    for _ in 0..MAX_FAILURES_PER_EMAIL - 1 {
        assert_eq!(app.sign_in(&client, "ops@example.com", "guess").await.status(), 401);
    }
    // The last attempt the limit allows is not blocked by its own reservation.
    assert_eq!(app.sign_in(&client, "ops@example.com", PASSWORD).await.status(), 200);
    // The success cleared the email's failures: a full allowance again.
    for _ in 0..MAX_FAILURES_PER_EMAIL - 1 {
        assert_eq!(app.sign_in(&app.client(), "ops@example.com", "guess").await.status(), 401);
    }
    assert_eq!(app.sign_in(&app.client(), "ops@example.com", PASSWORD).await.status(), 200);
}

async fn post(
    client: &reqwest::Client,
    app: &TestApp,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let res = client.post(app.url(&format!("/api/console/{endpoint}"))).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

/// Users (issue #14): an admin adds, promotes, resets and removes users in the browser; the
/// last admin stays; every change is audited; support may do none of it.
#[tokio::test]
async fn admins_manage_users_and_the_last_admin_stays() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("boss@example.com", Role::Admin).await;
    let support = app.signed_in("help@example.com", Role::Support).await;
    assert_eq!(post(&support, &app, "users-list", &[]).await.0, 403);
    assert_eq!(
        post(&support, &app, "users-add", &[("email", "x@example.com"), ("role", "admin"), ("password", "")]).await.0,
        403
    );

    // Listed with their last sign-in and active sessions.
    let (status, users) = post(&admin, &app, "users-list", &[]).await;
    assert_eq!(status, 200, "{users}");
    let help = users.as_array().unwrap().iter().find(|u| u["email"] == "help@example.com").unwrap().clone();
    assert_eq!(help["active_sessions"], 1);
    assert!(help["last_sign_in_at"].is_number(), "{help}");
    assert!(users.as_array().unwrap().iter().any(|u| u["email"] == "boss@example.com" && u["you"] == true));

    // Added with a one-time password, which signs in once shown.
    let (status, added) =
        post(&admin, &app, "users-add", &[("email", "New@Example.com"), ("role", "support"), ("password", "")]).await;
    assert_eq!(status, 200, "{added}");
    let once = added["password"].as_str().unwrap().to_owned();
    assert_eq!(added["email"], "new@example.com");
    let newcomer = app.client();
    assert_eq!(app.sign_in(&newcomer, "new@example.com", &once).await.status(), 200);
    // A password set for them: nothing but choosing their own works, here or on the API.
    let (status, err) =
        post(&newcomer, &app, "support-customers", &[("env", "test"), ("search", ""), ("cursor", ""), ("limit", "5")])
            .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err, "PasswordChangeRequired");
    let api = newcomer.get(app.url("/api/payments/status")).send().await.unwrap();
    assert_eq!(api.status(), 403);
    let overview = newcomer.get(app.url("/test")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(overview.headers().get("location").map(|l| l.to_str().unwrap()), Some("/test/account"));
    let (status, me) = post(&newcomer, &app, "me", &[]).await;
    assert_eq!((status, &me["must_change_password"]), (200, &serde_json::Value::Bool(true)));
    let (status, _) =
        post(&newcomer, &app, "account-password", &[("current", &once), ("new", "my very own passphrase")]).await;
    assert_eq!(status, 200);
    let (status, _) =
        post(&newcomer, &app, "support-customers", &[("env", "test"), ("search", ""), ("cursor", ""), ("limit", "5")])
            .await;
    assert_eq!(status, 200, "their own password opens the console");
    let once = "my very own passphrase".to_owned();
    // A duplicate and a weak password are refused with a reason.
    let (status, err) =
        post(&admin, &app, "users-add", &[("email", "new@example.com"), ("role", "admin"), ("password", "")]).await;
    assert_eq!(status, 400, "{err}");
    assert!(err.to_string().contains("already exists"), "{err}");
    let (status, _) =
        post(&admin, &app, "users-add", &[("email", "weak@example.com"), ("role", "admin"), ("password", "short")])
            .await;
    assert_eq!(status, 400);

    // Promoted: their session ends (it carried the old role).
    let (status, _) = post(&admin, &app, "users-set-role", &[("email", "new@example.com"), ("role", "admin")]).await;
    assert_eq!(status, 200);
    assert_eq!(post(&newcomer, &app, "me", &[]).await.1, serde_json::Value::Null, "signed out");
    // The first start's generated password must be replaced too.
    let flagged: i64 =
        sqlx::query_scalar("SELECT must_change_password FROM console_users WHERE email = 'admin@localhost'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(flagged, 1);
    // A reset password works and the old one does not.
    let (status, reset) = post(&admin, &app, "users-reset-password", &[("email", "new@example.com")]).await;
    assert_eq!(status, 200, "{reset}");
    assert_eq!(app.sign_in(&app.client(), "new@example.com", &once).await.status(), 401);
    assert_eq!(app.sign_in(&app.client(), "new@example.com", reset["password"].as_str().unwrap()).await.status(), 200);

    // The last admin cannot be demoted or removed; while there is another admin, they can (the
    // first start made `admin@localhost`).
    for other in ["new@example.com", "admin@localhost"] {
        let (status, err) = post(&admin, &app, "users-remove", &[("email", other)]).await;
        assert_eq!(status, 200, "{other}: {err}");
    }
    let (status, err) =
        post(&admin, &app, "users-set-role", &[("email", "boss@example.com"), ("role", "support")]).await;
    assert_eq!(status, 400, "{err}");
    assert!(err.to_string().contains("last admin"), "{err}");
    let (status, err) = post(&admin, &app, "users-remove", &[("email", "boss@example.com")]).await;
    assert_eq!(status, 400, "{err}");
    let (status, _) = post(&admin, &app, "users-remove", &[("email", "nobody@example.com")]).await;
    assert_eq!(status, 400);
    // Removing a user ends their sessions at once.
    let (status, _) = post(&admin, &app, "users-remove", &[("email", "help@example.com")]).await;
    assert_eq!(status, 200);
    assert_eq!(post(&support, &app, "me", &[]).await.1, serde_json::Value::Null);

    let audit = app.state.audit.page(None, 50).await.unwrap();
    let actions: Vec<&str> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    for action in ["user.add", "user.role", "user.password_reset", "user.remove"] {
        assert!(actions.contains(&action), "{action} not audited: {actions:?}");
    }
    assert!(audit.entries.iter().all(|e| !e.action.starts_with("user.") || e.actor == "user:boss@example.com"));
}

/// Deactivation (issue #14): the user is signed out at once and cannot sign in until an admin
/// reactivates them; a deactivated admin does not count as the admin who keeps the console
/// manageable; support may not do it; both changes are audited.
#[tokio::test]
async fn deactivated_users_are_signed_out_and_cannot_sign_in_until_reactivated() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("boss@example.com", Role::Admin).await;
    let support = app.signed_in("help@example.com", Role::Support).await;
    let form = |email: &'static str, active: &'static str| [("email", email), ("active", active)];
    assert_eq!(post(&support, &app, "users-set-active", &form("boss@example.com", "false")).await.0, 403);

    let (status, err) = post(&admin, &app, "users-set-active", &form("help@example.com", "false")).await;
    assert_eq!(status, 200, "{err}");
    assert_eq!(post(&support, &app, "me", &[]).await.1, serde_json::Value::Null, "signed out at once");
    let listed = post(&admin, &app, "users-list", &[]).await.1;
    let help = listed.as_array().unwrap().iter().find(|u| u["email"] == "help@example.com").unwrap().clone();
    assert!(help["deactivated_at"].is_number(), "{help}");
    assert_eq!(help["active_sessions"], 0);
    // The right password says why; a wrong one says no more than for anyone.
    let res = app.sign_in(&app.client(), "help@example.com", PASSWORD).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("Deactivated"));
    let res = app.sign_in(&app.client(), "help@example.com", "not the password at all").await;
    assert_eq!(res.status(), 401);
    // A session that somehow survived is dead too: the lookup refuses deactivated users.
    let token = app
        .state
        .sessions
        .create(&app.state.users.verify("help@example.com", PASSWORD.to_owned().into()).await.unwrap().unwrap().id)
        .await
        .unwrap();
    assert!(app.state.sessions.lookup(&token).await.unwrap().is_none());
    // Deactivating twice changes nothing (and is not audited twice).
    assert_eq!(post(&admin, &app, "users-set-active", &form("help@example.com", "false")).await.0, 200);

    // Reactivated: the same password signs in again.
    assert_eq!(post(&admin, &app, "users-set-active", &form("help@example.com", "true")).await.0, 200);
    assert_eq!(app.sign_in(&app.client(), "help@example.com", PASSWORD).await.status(), 200);

    // The first start made `admin@localhost`; once it is deactivated, boss is the last active
    // admin and can be neither deactivated nor demoted, and a deactivated admin cannot sign in
    // to do it either.
    assert_eq!(post(&admin, &app, "users-set-active", &form("admin@localhost", "false")).await.0, 200);
    let (status, err) = post(&admin, &app, "users-set-active", &form("boss@example.com", "false")).await;
    assert_eq!(status, 400, "{err}");
    assert!(err.to_string().contains("last admin"), "{err}");
    let (status, _) = post(&admin, &app, "users-set-role", &[("email", "boss@example.com"), ("role", "support")]).await;
    assert_eq!(status, 400);
    assert_eq!(post(&admin, &app, "users-set-active", &form("nobody@example.com", "false")).await.0, 400);
    // The deactivated admin may still be removed: they were not keeping the console manageable.
    assert_eq!(post(&admin, &app, "users-remove", &[("email", "admin@localhost")]).await.0, 200);

    // The Users page says who is deactivated.
    assert_eq!(post(&admin, &app, "users-set-active", &form("help@example.com", "false")).await.0, 200);
    let html = app.page(&admin, "/test/users").await;
    let row = html.split("data-email=\"help@example.com\"").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains("data-testid=\"user-deactivated\"") && row.contains("Reactivate"), "{row}");

    let audit = app.state.audit.page(None, 50).await.unwrap();
    let actions: Vec<&str> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "user.deactivate").count(), 3, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| **a == "user.reactivate").count(), 1, "{actions:?}");
}

/// Your own password: the current one is required; your other sessions end, this one stays.
#[tokio::test]
async fn users_change_their_own_password() {
    let app = TestApp::spawn().await;
    let me = app.signed_in("me@example.com", Role::Support).await;
    let elsewhere = app.client();
    assert_eq!(app.sign_in(&elsewhere, "me@example.com", PASSWORD).await.status(), 200);
    let (status, err) =
        post(&me, &app, "account-password", &[("current", "wrong password!"), ("new", "a brand new passphrase")]).await;
    assert_eq!(status, 400, "{err}");
    let (status, _) = post(&me, &app, "account-password", &[("current", PASSWORD), ("new", "short")]).await;
    assert_eq!(status, 400);
    let (status, _) =
        post(&me, &app, "account-password", &[("current", PASSWORD), ("new", "a brand new passphrase")]).await;
    assert_eq!(status, 200);
    assert_eq!(post(&me, &app, "me", &[]).await.1["email"], "me@example.com", "this session stays");
    assert_eq!(post(&elsewhere, &app, "me", &[]).await.1, serde_json::Value::Null, "the other one ended");
    assert_eq!(app.sign_in(&app.client(), "me@example.com", "a brand new passphrase").await.status(), 200);
    assert_eq!(post(&app.client(), &app, "account-password", &[("current", "x"), ("new", "y")]).await.0, 401);
}

/// API keys in the browser (issue #14): created and shown once, listed by prefix, revoked;
/// a revoked key no longer reaches the payments API. Audited like the CLI's.
#[tokio::test]
async fn admins_create_list_and_revoke_api_keys() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("boss@example.com", Role::Admin).await;
    let support = app.signed_in("help@example.com", Role::Support).await;
    assert_eq!(post(&support, &app, "api-keys-create", &[("name", "sneaky")]).await.0, 403);
    assert_eq!(post(&support, &app, "api-keys-list", &[]).await.0, 403);
    let (status, _) = post(&admin, &app, "api-keys-create", &[("name", "  ")]).await;
    assert_eq!(status, 400);
    let (status, created) = post(&admin, &app, "api-keys-create", &[("name", "deploy-bot")]).await;
    assert_eq!(status, 200, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("ik_") && key.starts_with(created["row"]["prefix"].as_str().unwrap()));
    let api = |key: &str| {
        reqwest::Client::new().get(app.url("/api/payments/status")).header("x-api-key", key.to_owned()).send()
    };
    assert_eq!(api(&key).await.unwrap().status(), 200);

    let (_, listed) = post(&admin, &app, "api-keys-list", &[]).await;
    assert!(!listed.to_string().contains(&key), "the list never carries a key");
    let row = listed.as_array().unwrap().iter().find(|k| k["name"] == "deploy-bot").unwrap().clone();
    assert!(row["last_used_at"].is_number(), "{row}");
    let (status, _) = post(&admin, &app, "api-keys-revoke", &[("id", row["id"].as_str().unwrap())]).await;
    assert_eq!(status, 200);
    assert_eq!(api(&key).await.unwrap().status(), 401);
    let (status, _) = post(&admin, &app, "api-keys-revoke", &[("id", row["id"].as_str().unwrap())]).await;
    assert_eq!(status, 400, "already revoked");
    let audit = app.state.audit.page(None, 50).await.unwrap();
    assert!(audit.entries.iter().any(|e| e.action == "api_key.create" && e.actor == "user:boss@example.com"));
    assert!(audit.entries.iter().any(|e| e.action == "api_key.revoke"));
    // The pages themselves, for admins only.
    for path in ["/test/users", "/test/api-keys"] {
        assert_eq!(admin.get(app.url(path)).send().await.unwrap().status(), 200, "{path}");
        assert_eq!(support.get(app.url(path)).send().await.unwrap().status(), 403, "{path}");
    }
    assert_eq!(support.get(app.url("/test/account")).send().await.unwrap().status(), 200);
}

// --- Streaming with a remote backend (issue #13) -----------------------------------------------

/// With a remote backend a page streams: the head, with the bundle's preloads and its loader,
/// reaches the browser while the backend has not answered yet, so the WebAssembly downloads in
/// the meantime, and the page's data follows in the same answer once it comes. Rendered whole
/// (`SsrMode::Async`) not a byte left before the backend answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_remote_backend_the_head_leaves_before_the_data_arrives() {
    use axum::routing::get;
    use axum::Json;
    // A stand-in InsForge backend whose subscription list waits for the test's word.
    let (release, held) = tokio::sync::watch::channel(false);
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let subscriptions = {
        let asked = asked.clone();
        move || async move {
            asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = held.clone().wait_for(|open| *open).await;
            Json(serde_json::json!({"subscriptions": []}))
        }
    };
    let backend =
        support::stub_backend(axum::Router::new().route("/api/payments/test/subscriptions", get(subscriptions))).await;

    let app = TestApp::spawn_not_demo(|args| {
        args.backend = payments_console::server::serve::BackendChoice::Remote(backend.parse().unwrap());
        args.backend_api_key = Some(payments_console::server::secrets::SecretString::new("ik_test".into()));
    })
    .await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    let wait = std::time::Duration::from_secs(20);
    let mut res = tokio::time::timeout(wait, support.get(app.url("/test/subscriptions")).send())
        .await
        .expect("the answer starts while the backend holds the data")
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut head = String::new();
    while !head.contains("</head>") {
        let chunk = tokio::time::timeout(wait, res.chunk())
            .await
            .expect("the head arrives while the backend holds the data")
            .unwrap()
            .expect("the answer goes on");
        head.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(head.contains("rel=\"modulepreload\""), "the head names the bundle's files: {head}");
    assert!(!head.contains("No subscriptions match."), "the data was held, yet is in the head's chunks");
    release.send(true).unwrap();
    let rest = res.text().await.unwrap();
    assert!(rest.contains("No subscriptions match."), "the data follows once it comes: {rest}");
    // Then the document's end, with what hydration reads after it, as a page rendered whole ends.
    assert!(rest.contains("</body></html>") && rest.contains("__RESOLVED_RESOURCES=[]"), "the page ends whole: {rest}");
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1, "the backend was asked once");
}
