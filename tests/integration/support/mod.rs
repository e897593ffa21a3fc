//! A console server on a random loopback port with a fresh database, for black-box tests.

use payments_console::auth::Role;
use payments_console::server::cli::DatabaseArgs;
use payments_console::server::serve::{BackendChoice, ServeArgs, Server};
use payments_console::server::state::AppState;
use payments_console::server::users::{EmailAddress, NewPassword};

/// A new, empty database for one test: a SQLite file in the test's folder or, when
/// `PAYMENTS_CONSOLE_TEST_POSTGRES` names a PostgreSQL server (scripts/test.sh starts one), a new
/// database on it, so the same tests prove both engines.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    let Ok(server) = std::env::var("PAYMENTS_CONSOLE_TEST_POSTGRES") else {
        return format!("sqlite://{}/console.db", dir.display());
    };
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("t_{}", payments_console::server::ids::random_hex(8));
    let mut conn = sqlx::AnyConnection::connect(&server).await.expect("PostgreSQL test server reachable");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
    let (base, _) = server.rsplit_once('/').expect("server URL ends with a database name");
    format!("{base}/{name}")
}

/// Password of every user the harness creates.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running console and what a test needs to talk to it.
pub struct TestApp {
    pub base: String,
    pub state: AppState,
    /// The test's folder, when the app owns it (see [`TestApp::spawn_in_own_dir`]).
    _dir: Option<tempfile::TempDir>,
}

impl TestApp {
    /// Boots the real server (router, middleware, database) on `127.0.0.1:0`.
    pub async fn spawn() -> TestApp {
        Self::spawn_in_own_dir(false, |_| {}).await
    }

    /// Boots a server on an existing database (to restart one), optionally with a master key file.
    pub async fn spawn_on(
        dir: &std::path::Path,
        database_url: String,
        master_key_file: Option<std::path::PathBuf>,
    ) -> TestApp {
        Self::spawn_configured(dir, database_url, master_key_file, |_| {}).await
    }

    /// [`TestApp::spawn`] with some `serve` flags changed (e.g. `--public-url`).
    pub async fn spawn_with(configure: impl FnOnce(&mut ServeArgs)) -> TestApp {
        Self::spawn_in_own_dir(false, configure).await
    }

    /// [`TestApp::spawn_with`] outside demo mode, which needs a master key (the console refuses
    /// to store Stripe keys without one): it is made in the test's folder.
    pub async fn spawn_not_demo(configure: impl FnOnce(&mut ServeArgs)) -> TestApp {
        Self::spawn_in_own_dir(true, |args| {
            args.demo = false;
            configure(args);
        })
        .await
    }

    /// Boots a server on a fresh database in a folder of its own, which the app keeps until it
    /// is dropped, with a master key file made there when `master_key` is set.
    async fn spawn_in_own_dir(master_key: bool, configure: impl FnOnce(&mut ServeArgs)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = fresh_database_url(dir.path()).await;
        let key_file = master_key.then(|| {
            let key_file = dir.path().join("master.key");
            payments_console::server::crypto::MasterKey::create_file(&key_file).expect("master key written");
            key_file
        });
        let mut app = Self::spawn_configured(dir.path(), database_url, key_file, configure).await;
        app._dir = Some(dir);
        app
    }

    async fn spawn_configured(
        dir: &std::path::Path,
        database_url: String,
        master_key_file: Option<std::path::PathBuf>,
        configure: impl FnOnce(&mut ServeArgs),
    ) -> TestApp {
        // A stand-in for the built site, so static serving can be checked without a WASM build.
        std::fs::create_dir_all(dir.join("site/pkg")).unwrap();
        std::fs::write(dir.join("site/pkg/payments-console.css"), "body { color: red }").unwrap();
        std::fs::write(dir.join("site/favicon.svg"), "<svg/>").unwrap();
        let mut args = ServeArgs {
            addr: "127.0.0.1:0".parse().unwrap(),
            db: DatabaseArgs { database_url },
            public_url: None,
            stripe_api_base: "http://127.0.0.1:9".parse().unwrap(),
            backend: BackendChoice::Embedded,
            backend_api_key: None,
            backend_api_key_file: None,
            demo: true,
            master_key_file,
            session_idle_minutes: 30,
            site_root: dir.join("site").display().to_string(),
            jwt_secret: None,
            jwt_secret_file: None,
            subject_authoriser_url: None,
            permissive_subjects: false,
            sync_history_days: None,
            metrics_token: None,
            metrics_token_file: None,
        };
        configure(&mut args);
        let server = Server::build(args).await.expect("server builds");
        let base = format!("http://{}", server.local_addr());
        let state = server.state().clone();
        tokio::spawn(server.run());
        TestApp { base, state, _dir: None }
    }

    /// Adds a user with [`PASSWORD`].
    pub async fn add_user(&self, email: &str, role: Role) {
        self.state
            .users
            .add(&EmailAddress::parse(email).unwrap(), role, NewPassword::parse(PASSWORD.into()).unwrap())
            .await
            .expect("user added");
    }

    /// A client that keeps cookies and does not follow redirects (tests look at them). Like a
    /// browser on the console's pages, it sends `Origin` with every request (a request may set
    /// its own); the console refuses cookie-authenticated writes that say nothing of their origin.
    pub fn client(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, self.base.parse().unwrap());
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            // A request the server never answers fails its test, naming the URL, instead of
            // hanging the suite (seen once on 2026-12-04: a page GET in hardening.rs).
            .timeout(std::time::Duration::from_secs(90))
            .build()
            .unwrap()
    }

    /// `GET` of the demo sandbox's Stripe API (`/v1/…`) with its key: what Stripe holds.
    pub async fn sandbox_get(&self, path: &str) -> serde_json::Value {
        let sandbox = self.state.settings.demo_sandbox_url.as_deref().expect("demo mode runs a sandbox");
        stripe_get(sandbox, "sk_test_sandbox", path).await
    }

    /// `GET` of demo mode's live-mode sandbox (`/v1/…`) with a live key: what Stripe holds in
    /// live mode.
    pub async fn live_sandbox_get(&self, path: &str) -> serde_json::Value {
        let sandbox = self.state.settings.demo_live_sandbox_url.as_deref().expect("demo mode runs a live sandbox");
        stripe_get(sandbox, stripe_sandbox::DEFAULT_LIVE_API_KEY, path).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A console page as the server renders it for `client` (which must be let in: 200).
    pub async fn page(&self, client: &reqwest::Client, path: &str) -> String {
        let res = client.get(self.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        res.text().await.unwrap()
    }

    /// Signs in through the login server function, as the hydrated page does.
    pub async fn sign_in(&self, client: &reqwest::Client, email: &str, password: &str) -> reqwest::Response {
        client
            .post(self.url("/api/console/login"))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .expect("login request")
    }

    /// A client signed in as a new user with this role.
    pub async fn signed_in(&self, email: &str, role: Role) -> reqwest::Client {
        self.add_user(email, role).await;
        let client = self.client();
        let res = self.sign_in(&client, email, PASSWORD).await;
        assert_eq!(res.status(), 200, "sign-in of {email} failed: {}", res.text().await.unwrap_or_default());
        client
    }
}

/// `GET {base}{path}` with a Stripe key, as JSON.
async fn stripe_get(base: &str, key: &str, path: &str) -> serde_json::Value {
    reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(key).send().await.unwrap().json().await.unwrap()
}

/// The values a page sends for the browser to hydrate from (`__RESOLVED_RESOURCES[id] = "…";`),
/// as (id, JSON) pairs in the page's order.
pub fn sent_resources(html: &str) -> Vec<(usize, String)> {
    html.split("__RESOLVED_RESOURCES[")
        .skip(1)
        .filter_map(|rest| {
            let (id, rest) = rest.split_once("] = ")?;
            // The value is a JSON string literal holding the resource's JSON.
            let value = serde_json::Deserializer::from_str(rest).into_iter::<String>().next()?.ok()?;
            Some((id.parse().ok()?, value))
        })
        .collect()
}

/// A stand-in InsForge backend on a random loopback port serving `routes`, and the contract's
/// 404 answer for every other route; returns its base URL.
pub async fn stub_backend(routes: axum::Router) -> String {
    let not_found = || async {
        let body = serde_json::json!({"error": "NOT_FOUND", "message": "Endpoint not found", "statusCode": 404});
        (axum::http::StatusCode::NOT_FOUND, axum::Json(body))
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("bound address"));
    let app = routes.fallback(not_found);
    tokio::spawn(async move { axum::serve(listener, app).await.expect("stub backend serves") });
    base
}
