//! `payments-console serve`: configuration, start-up and the listening server.

use super::crypto::{load_master_key, MasterKeySource};
use super::db::{sqlite_file, Db};
use super::http::router;
use super::ids::random_hex;
use super::payments::{sealer, ConsoleAudit};
use super::secrets::SecretString;
use super::settings::Settings;
use super::state::AppState;
use super::users::{EmailAddress, NewPassword};
use crate::auth::Role;
use anyhow::Context;
use clap::{Args, Parser};
use leptos::config::{Env, LeptosOptions};
use payments_engine::{mask_key, Engine, EngineConfig, Environment, SubjectAuthoriser, SubjectPolicy};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use url::Url;

/// `serve` flags; each also reads an environment variable.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on. Keep it on loopback unless a reverse proxy fronts the console.
    #[arg(long, env = "PAYMENTS_CONSOLE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    #[command(flatten)]
    pub db: super::cli::DatabaseArgs,
    /// The externally reachable base URL (e.g. https://console.example.com), used for the Stripe
    /// webhook endpoint and to mark cookies Secure when it is HTTPS.
    #[arg(long, env = "PAYMENTS_CONSOLE_PUBLIC_URL")]
    pub public_url: Option<Url>,
    /// Base URL of Stripe's REST API.
    #[arg(long, env = "PAYMENTS_CONSOLE_STRIPE_API_BASE", default_value = "https://api.stripe.com")]
    pub stripe_api_base: Url,
    /// The payments backend: `embedded` (in-process engine) or the base URL of a remote InsForge backend.
    #[arg(long, env = "PAYMENTS_CONSOLE_BACKEND", default_value = "embedded", value_parser = BackendChoice::parse)]
    pub backend: BackendChoice,
    /// API key (`ik_…`) for a remote InsForge backend. Prefer --backend-api-key-file: a command
    /// line is visible to every user of the machine (`ps`).
    #[arg(long, env = "PAYMENTS_CONSOLE_BACKEND_API_KEY", hide_env_values = true)]
    pub backend_api_key: Option<SecretString>,
    /// File holding the --backend-api-key (one trailing newline is ignored).
    #[arg(long, env = "PAYMENTS_CONSOLE_BACKEND_API_KEY_FILE")]
    pub backend_api_key_file: Option<PathBuf>,
    /// Run on the offline Stripe sandbox with demo data until a Stripe key is configured.
    #[arg(long, env = "PAYMENTS_CONSOLE_DEMO")]
    pub demo: bool,
    /// File holding the 256-bit key (64 hex characters) that encrypts secrets at rest. Required
    /// outside --demo, except with the default SQLite database, where `data/master.key` is
    /// created on first run.
    #[arg(long, env = "PAYMENTS_CONSOLE_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Secret of the HS256 JWTs (InsForge `JWT_SECRET`) accepted on the payments API, for the
    /// InsForge SDK's checkout and portal calls. At least 32 bytes. Prefer --jwt-secret-file: a
    /// command line is visible to every user of the machine (`ps`).
    #[arg(long, env = "PAYMENTS_CONSOLE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,
    /// File holding the --jwt-secret (one trailing newline is ignored).
    #[arg(long, env = "PAYMENTS_CONSOLE_JWT_SECRET_FILE")]
    pub jwt_secret_file: Option<PathBuf>,
    /// Billing subjects on checkout and portal calls: a JWT user may act for `user:<its sub>`
    /// and for the subjects its `billing_subjects` claim lists (e.g. ["team:acme"]); the anon
    /// key only for payment checkouts without a subject; project_admin tokens for any. Other
    /// subjects are refused (403), unless this URL is set: the engine then POSTs
    /// {user, email, subject: {type, id}, environment, action} to it, and a 2xx answer (within
    /// 2 s; cached 30 s) allows.
    #[arg(long, env = "PAYMENTS_CONSOLE_SUBJECT_AUTHORISER_URL")]
    pub subject_authoriser_url: Option<Url>,
    /// Let every app user act for every billing subject, as InsForge does without RLS policies.
    /// Unsafe on the internet: any signed-in user can open any customer's billing portal.
    #[arg(long, env = "PAYMENTS_CONSOLE_PERMISSIVE_SUBJECTS")]
    pub permissive_subjects: bool,
    /// How many days of payment history (and of Stripe's events, which Stripe keeps for 30) a
    /// sync backfills; unset: all of it. For accounts with years of history.
    #[arg(long, env = "PAYMENTS_CONSOLE_SYNC_HISTORY_DAYS", value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub sync_history_days: Option<u32>,
    /// Sign users out after this many minutes without a request.
    #[arg(long, env = "PAYMENTS_CONSOLE_SESSION_IDLE_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub session_idle_minutes: u32,
    /// Bearer token that `/metrics` requires from every scraper (`Authorization: Bearer …`).
    /// Without one, `/metrics` answers loopback peers only, which a reverse proxy on the same
    /// host defeats: set a token when one fronts the console. At least 16 bytes. Prefer
    /// --metrics-token-file: a command line is visible to every user of the machine (`ps`).
    #[arg(long, env = "PAYMENTS_CONSOLE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<SecretString>,
    /// File holding the --metrics-token (one trailing newline is ignored).
    #[arg(long, env = "PAYMENTS_CONSOLE_METRICS_TOKEN_FILE")]
    pub metrics_token_file: Option<PathBuf>,
    /// Folder of the built site (the WASM bundle, CSS and public assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
}

#[derive(Parser)]
struct ServeOnly {
    #[command(flatten)]
    args: ServeArgs,
}

impl ServeArgs {
    /// The defaults, overridden by environment variables (for running without a subcommand, as
    /// `cargo leptos serve` does).
    pub fn from_env() -> ServeArgs {
        ServeOnly::parse_from(["payments-console"]).args
    }
}

/// A server bound to its address, ready to run.
pub struct Server {
    listener: TcpListener,
    state: AppState,
}

impl Server {
    /// Connects the database, loads the master key, creates the first admin on a fresh database
    /// and binds the address (`127.0.0.1:0` picks a free port).
    pub async fn build(args: ServeArgs) -> anyhow::Result<Server> {
        // Secrets first: a misconfigured one must stop the start before anything is touched.
        let jwt_secret = jwt_secret(&args)?;
        let metrics_token = metrics_token(&args)?;
        // Before anything reports (the engine's start-up sync included).
        super::metrics::recorder();
        let backend_api_key = secret_option(
            args.backend_api_key.clone(),
            args.backend_api_key_file.as_deref(),
            "--backend-api-key",
            "PAYMENTS_CONSOLE_BACKEND_API_KEY",
        )?;
        let remote = remote_backend(&args, backend_api_key)?;
        let subjects = subject_policy(&args)?;
        let db = Db::connect(&args.db.database_url).await?;
        let master_key = Arc::new(load_master_key(master_key_source(&args)?)?);
        let listener = TcpListener::bind(args.addr).await.with_context(|| format!("binding {}", args.addr))?;
        let audit: Arc<dyn payments_engine::AuditSink> =
            Arc::new(ConsoleAudit { log: super::audit::AuditLog::new(db.clone()) });
        let build_engine = |stripe_api_base: Url, live_api_base: Option<Url>, public_url: Option<Url>| {
            let mut config = EngineConfig::new(db.pool().clone(), sealer(&master_key), stripe_api_base);
            config.stripe_live_api_base = live_api_base;
            config.public_url = public_url;
            config.audit = audit.clone();
            config.subjects = subjects.clone();
            config.history_days = args.sync_history_days;
            async move { Engine::new(config).await.map_err(|e| anyhow::anyhow!("starting the payments engine: {e}")) }
        };
        let mut engine = build_engine(args.stripe_api_base.clone(), None, args.public_url.clone()).await?;
        if remote.is_none() {
            // `contract/BEHAVIOUR.md` §5.5: STRIPE_TEST_SECRET_KEY / STRIPE_LIVE_SECRET_KEY
            // configure an environment on first start (never again once a key was stored or
            // removed); failures are logged.
            engine.seed_secret_keys(|name| std::env::var(name).ok()).await;
        }
        let mut public_url = args.public_url.clone();
        let mut stripe_api_base = args.stripe_api_base.clone();

        // Demo mode, until a real Stripe key is configured: an offline Stripe stand-in in this
        // process, whose webhooks come back to this very server, so the whole loop runs offline.
        let demo_sandbox = if args.demo && remote.is_none() && !has_real_test_key(&engine).await? {
            use super::sandbox::{start, Seed};
            use stripe_sandbox::ApiKeys;
            let sandbox = start("127.0.0.1:0".parse()?, Seed::Demo, None, ApiKeys::AnyTestKey).await?;
            stripe_api_base = Url::parse(&sandbox.url)?;
            public_url = Some(public_url.unwrap_or(Url::parse(&format!("http://{}", listener.local_addr()?))?));
            // Live mode gets its own, empty sandbox, accepting any `sk_live_` key: Stripe keeps
            // an account's live data apart from its test data, and the sandbox has one data set.
            let live = start("127.0.0.1:0".parse()?, Seed::None, None, ApiKeys::AnyLiveKey).await?;
            engine = build_engine(stripe_api_base.clone(), Some(Url::parse(&live.url)?), public_url.clone()).await?;
            Some((sandbox, live))
        } else {
            if args.demo {
                tracing::info!("a real Stripe test key is configured: demo mode does not start the sandbox");
            }
            None
        };
        let settings = Settings {
            secure_cookies: public_url.as_ref().is_some_and(|u| u.scheme() == "https"),
            public_url,
            session_idle_timeout_secs: i64::from(args.session_idle_minutes) * 60,
            demo_sandbox_url: demo_sandbox.as_ref().map(|(s, _)| s.url.clone()),
            demo_live_sandbox_url: demo_sandbox.as_ref().map(|(_, l)| l.url.clone()),
            remote_backend: match &args.backend {
                BackendChoice::Remote(url) => Some(url.to_string()),
                BackendChoice::Embedded => None,
            },
            stripe_api_base,
            jwt_secret,
            metrics_token,
        };
        let hash_file = super::assets::hash_file_name();
        let leptos_options = LeptosOptions::builder()
            .output_name("payments-console")
            .site_root(args.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(listener.local_addr()?)
            .hash_file(Arc::from(hash_file.as_str()))
            .hash_files(super::assets::hash_files_enabled(&hash_file))
            .env(if std::env::var("LEPTOS_ENV").is_ok_and(|e| e.eq_ignore_ascii_case("dev")) {
                Env::DEV
            } else {
                Env::PROD
            })
            .build();
        let state = AppState::new(leptos_options, db, settings, master_key, engine, remote);
        ensure_first_admin(&state).await?;
        if let Some((sandbox, live)) = &demo_sandbox {
            tracing::info!(url = %sandbox.url, "demo mode: Stripe sandbox seeded with demo data");
            configure_demo_key(&state.engine).await?;
            tracing::info!(url = %live.url, "demo mode: an empty Stripe sandbox for live mode");
            reconnect_demo_live_key(&state.engine).await;
        }
        Ok(Server { listener, state })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The shared state (for tests that seed data).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run(self) -> anyhow::Result<()> {
        tracing::info!("Payments Console listening on http://{}", self.local_addr());
        axum::serve(self.listener, router(self.state).into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        Ok(())
    }
}

fn master_key_source(args: &ServeArgs) -> anyhow::Result<MasterKeySource<'_>> {
    if let Some(path) = &args.master_key_file {
        return Ok(MasterKeySource::File(path));
    }
    if args.db.database_url == "sqlite://data/console.db" {
        return Ok(MasterKeySource::DefaultFile(std::path::Path::new("data/master.key")));
    }
    if args.demo {
        return Ok(MasterKeySource::Ephemeral);
    }
    let hint = sqlite_file(&args.db.database_url)
        .and_then(|f| f.parent().map(|d| d.join("master.key").display().to_string()))
        .unwrap_or_else(|| "/etc/payments-console/master.key".into());
    anyhow::bail!("--master-key-file is required with this database (for example {hint})")
}

/// On a database without users, creates an admin so the console can be entered at all. The
/// password comes from `PAYMENTS_CONSOLE_ADMIN_PASSWORD`, or is generated and printed once.
async fn ensure_first_admin(state: &AppState) -> anyhow::Result<()> {
    if state.users.count().await? > 0 {
        return Ok(());
    }
    let email_raw = std::env::var("PAYMENTS_CONSOLE_ADMIN_EMAIL").unwrap_or_else(|_| "admin@localhost".into());
    let email = EmailAddress::parse(&email_raw).map_err(anyhow::Error::msg)?;
    let (password, generated) = match std::env::var("PAYMENTS_CONSOLE_ADMIN_PASSWORD") {
        Ok(p) => (p, false),
        Err(_) => (random_hex(12), true),
    };
    let shown = generated.then(|| password.clone());
    let added = state
        .users
        .add(
            &email,
            Role::Admin,
            NewPassword::parse(password).map_err(|e| anyhow::anyhow!("PAYMENTS_CONSOLE_ADMIN_PASSWORD: {e}"))?,
        )
        .await;
    if let Err(e) = added {
        // Instances starting together on a fresh shared database race for this; the loser finds
        // the winner's admin and carries on.
        if state.users.count().await? > 0 {
            tracing::info!("another instance created the first admin");
            return Ok(());
        }
        anyhow::bail!("creating the first admin: {e}");
    }
    if generated {
        // A password the console chose: its first sign-in must replace it.
        state.users.require_password_change(&email).await?;
    }
    match shown {
        // Printed to the terminal, not logged: log files are kept, this must not be.
        Some(password) => println!(
            "\n  First start: created admin account {}\n  One-time password: {password}\n  (shown once; add users with `payments-console users add`)\n",
            email.as_str()
        ),
        None => println!("\n  First start: created admin account {} with PAYMENTS_CONSOLE_ADMIN_PASSWORD\n", email.as_str()),
    }
    Ok(())
}

/// Whether the test environment has a key other than the demo sandbox's.
async fn has_real_test_key(engine: &Engine) -> anyhow::Result<bool> {
    let config = engine.config().await.map_err(|e| anyhow::anyhow!("reading the payments configuration: {e}"))?;
    let sandbox_key = mask_key(stripe_sandbox::DEFAULT_API_KEY);
    Ok(config
        .keys
        .iter()
        .any(|k| k.environment == Environment::Test && k.masked_key.as_ref().is_some_and(|m| *m != sandbox_key)))
}

/// Demo mode, when an admin set a live key in an earlier run: that run's live sandbox is gone,
/// so the webhook endpoint is created in this one. Best-effort: the demo never sets a live key
/// itself.
async fn reconnect_demo_live_key(engine: &Engine) {
    let Ok(config) = engine.config().await else { return };
    if config.keys.iter().any(|k| k.environment == Environment::Live && k.masked_key.is_some()) {
        if let Err(e) = engine.configure_webhook(Environment::Live).await {
            tracing::warn!(error = %e, "demo mode: the live sandbox's webhook endpoint could not be created");
        }
    }
}

/// Demo mode: connects the test environment to this run's sandbox with its documented test key.
/// Done on every start: the sandbox lives in memory, so its webhook endpoint must be created
/// anew (same account, so the mirror is kept and re-synced, not wiped).
async fn configure_demo_key(engine: &Engine) -> anyhow::Result<()> {
    engine
        .set_secret_key(Environment::Test, stripe_sandbox::DEFAULT_API_KEY)
        .await
        .map_err(|e| anyhow::anyhow!("configuring the sandbox key: {e}"))?;
    // With the account unchanged the stored endpoint is kept, but it belonged to the previous
    // run's sandbox: create it in this one.
    engine
        .configure_webhook(Environment::Test)
        .await
        .map_err(|e| anyhow::anyhow!("creating the sandbox's webhook endpoint: {e}"))?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

/// `--subject-authoriser-url` / `--permissive-subjects` as the engine's policy.
fn subject_policy(args: &ServeArgs) -> anyhow::Result<SubjectPolicy> {
    match (&args.subject_authoriser_url, args.permissive_subjects) {
        (Some(_), true) => {
            anyhow::bail!("--subject-authoriser-url and --permissive-subjects contradict each other; choose one")
        }
        (Some(url), false) => {
            let authoriser =
                SubjectAuthoriser::new(url.clone()).map_err(|e| anyhow::anyhow!("--subject-authoriser-url: {e}"))?;
            Ok(SubjectPolicy::WithAuthoriser(Arc::new(authoriser)))
        }
        (None, true) => {
            tracing::warn!(
                "--permissive-subjects: every app user may create checkouts and billing portals for every billing \
                 subject (InsForge's behaviour without RLS policies); do not expose this instance to untrusted users"
            );
            Ok(SubjectPolicy::Permissive)
        }
        (None, false) => Ok(SubjectPolicy::Enforced),
    }
}

/// The shortest JWT secret `serve` accepts, in bytes: HS256 is only as strong as its key, and a
/// short (or empty) one lets anyone who guesses it mint `project_admin` tokens.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// `--jwt-secret` / `--jwt-secret-file`, checked for length.
fn jwt_secret(args: &ServeArgs) -> anyhow::Result<Option<SecretString>> {
    let secret = secret_option(
        args.jwt_secret.clone(),
        args.jwt_secret_file.as_deref(),
        "--jwt-secret",
        "PAYMENTS_CONSOLE_JWT_SECRET",
    )?;
    if let Some(secret) = &secret {
        let len = secret.expose().len();
        if len < MIN_JWT_SECRET_BYTES {
            let source = if args.jwt_secret_file.is_some() {
                "--jwt-secret-file (PAYMENTS_CONSOLE_JWT_SECRET_FILE)"
            } else {
                "--jwt-secret (PAYMENTS_CONSOLE_JWT_SECRET)"
            };
            anyhow::bail!(
                "the JWT secret from {source} is {len} bytes long; it must be at least {MIN_JWT_SECRET_BYTES} bytes \
                 (for example `head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'`), or leave it unset to refuse JWTs"
            );
        }
    }
    Ok(secret)
}

/// The shortest metrics token `serve` accepts, in bytes: `/metrics` may be reachable from
/// anywhere once a token is set, so the token must not be guessable.
pub const MIN_METRICS_TOKEN_BYTES: usize = 16;

/// `--metrics-token` / `--metrics-token-file`, checked for length.
fn metrics_token(args: &ServeArgs) -> anyhow::Result<Option<SecretString>> {
    let token = secret_option(
        args.metrics_token.clone(),
        args.metrics_token_file.as_deref(),
        "--metrics-token",
        "PAYMENTS_CONSOLE_METRICS_TOKEN",
    )?;
    if let Some(token) = &token {
        // It travels in a header: printable ASCII without spaces, so that what a scraper sends
        // can be exactly it.
        if !token.expose().bytes().all(|b| b.is_ascii_graphic()) {
            anyhow::bail!("the metrics token must be printable ASCII without spaces");
        }
        let len = token.expose().len();
        if len < MIN_METRICS_TOKEN_BYTES {
            anyhow::bail!(
                "the metrics token is {len} bytes long; it must be at least {MIN_METRICS_TOKEN_BYTES} bytes \
                 (for example `head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \\n'`), or leave it unset to \
                 serve /metrics to loopback only"
            );
        }
    }
    Ok(token)
}

/// A secret given directly (`flag`, or its environment variable `env`) or in a file
/// (`flag-file`); both at once is an error, since it is unclear which one is meant.
fn secret_option(
    value: Option<SecretString>,
    file: Option<&std::path::Path>,
    flag: &str,
    env: &str,
) -> anyhow::Result<Option<SecretString>> {
    match (value, file) {
        (Some(_), Some(_)) => {
            anyhow::bail!("{flag} ({env}) and {flag}-file ({env}_FILE) are both set; give the secret only one way")
        }
        (Some(value), None) => Ok(Some(value)),
        (None, Some(path)) => read_secret_file(path, flag).map(Some),
        (None, None) => Ok(None),
    }
}

/// Reads a secret file, without one trailing newline (as `echo` and editors leave it). The
/// contents never appear in an error.
fn read_secret_file(path: &std::path::Path, flag: &str) -> anyhow::Result<SecretString> {
    let bytes = zeroize::Zeroizing::new(
        std::fs::read(path).with_context(|| format!("{flag}-file: reading {}", path.display()))?,
    );
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| anyhow::anyhow!("{flag}-file: {} is not UTF-8 text", path.display()))?;
    let text = text.strip_suffix('\n').map_or(text, |t| t.strip_suffix('\r').unwrap_or(t));
    Ok(SecretString::new(text.to_string()))
}

/// Which payments backend the console drives (`--backend`): parsed once, so that no code
/// compares a string with `"embedded"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    /// The engine in this process (the default).
    Embedded,
    /// A remote InsForge backend at this http(s) base URL.
    Remote(Url),
}

impl BackendChoice {
    /// `embedded`, or an http(s) URL.
    fn parse(s: &str) -> Result<BackendChoice, String> {
        if s == "embedded" {
            return Ok(BackendChoice::Embedded);
        }
        let url = Url::parse(s).map_err(|e| format!("expected `embedded` or the URL of an InsForge backend ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("expected `embedded` or an http(s) URL".into());
        }
        Ok(BackendChoice::Remote(url))
    }
}

/// `--backend URL --backend-api-key ik_…`: the remote InsForge backend, or `None` for the
/// embedded engine.
fn remote_backend(
    args: &ServeArgs,
    api_key: Option<SecretString>,
) -> anyhow::Result<Option<Arc<dyn crate::backend::ssr::PaymentsBackend>>> {
    let BackendChoice::Remote(base) = &args.backend else {
        return Ok(None);
    };
    let base = base.clone();
    let key = api_key.context(
        "--backend-api-key or --backend-api-key-file (an ik_… key of the remote backend) is required with --backend URL",
    )?;
    if !key.expose().starts_with("ik_") {
        anyhow::bail!("--backend-api-key must be an InsForge API key (ik_…)");
    }
    let backend = crate::backend::ssr::RemoteBackend::new(base, key)?;
    Ok(Some(Arc::new(backend)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(flags: &[&str]) -> ServeArgs {
        ServeOnly::parse_from(std::iter::once("payments-console").chain(flags.iter().copied())).args
    }

    #[test]
    fn the_backend_is_embedded_or_an_http_url() {
        assert_eq!(parse(&[]).backend, BackendChoice::Embedded);
        assert_eq!(parse(&["--backend", "embedded"]).backend, BackendChoice::Embedded);
        let remote = parse(&["--backend", "https://insforge.example/"]).backend;
        assert_eq!(remote, BackendChoice::Remote("https://insforge.example/".parse().unwrap()));
        for bad in ["Embedded", "ftp://insforge.example/", "insforge.example", ""] {
            let args = ["payments-console", "--backend", bad];
            let Err(err) = ServeOnly::try_parse_from(args) else { panic!("{bad} was accepted") };
            let err = err.to_string();
            assert!(err.contains("--backend"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_metrics_token_must_be_long_printable_and_given_one_way() {
        assert!(metrics_token(&parse(&[])).unwrap().is_none());
        let good = metrics_token(&parse(&["--metrics-token", "0123456789abcdef"])).unwrap().unwrap();
        assert_eq!(good.expose(), "0123456789abcdef");
        let short = metrics_token(&parse(&["--metrics-token", "0123456789abcde"])).unwrap_err().to_string();
        assert!(short.contains("at least 16 bytes") && !short.contains("0123456789abcde"), "{short}");
        let spaced = metrics_token(&parse(&["--metrics-token", "0123456789 abcdef"])).unwrap_err();
        assert!(spaced.to_string().contains("without spaces"), "{spaced}");
        let dir = tempfile_dir();
        let file = dir.join("metrics.token");
        std::fs::write(&file, "fedcba9876543210\n").unwrap();
        let from_file = parse(&["--metrics-token-file", file.to_str().unwrap()]);
        assert_eq!(metrics_token(&from_file).unwrap().unwrap().expose(), "fedcba9876543210");
        let both = parse(&["--metrics-token", "0123456789abcdef", "--metrics-token-file", file.to_str().unwrap()]);
        assert!(metrics_token(&both).unwrap_err().to_string().contains("both set"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A fresh folder of this test's own (the library has no `tempfile`).
    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("payments-console-serve-{}", random_hex(8)));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_subject_policy_is_enforced_unless_an_operator_chooses_otherwise() {
        assert!(matches!(subject_policy(&parse(&[])).unwrap(), SubjectPolicy::Enforced));
        let with = parse(&["--subject-authoriser-url", "http://127.0.0.1:9/allow"]);
        assert!(matches!(subject_policy(&with).unwrap(), SubjectPolicy::WithAuthoriser(_)));
        assert!(subject_policy(&parse(&["--permissive-subjects"])).unwrap().is_permissive());
        let both = parse(&["--permissive-subjects", "--subject-authoriser-url", "http://127.0.0.1:9/allow"]);
        assert!(subject_policy(&both).unwrap_err().to_string().contains("contradict"));
        let ftp = parse(&["--subject-authoriser-url", "ftp://127.0.0.1/allow"]);
        assert!(subject_policy(&ftp).is_err());
    }
}
