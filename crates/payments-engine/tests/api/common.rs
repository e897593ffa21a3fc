//! Harness: the stripe-sandbox and the engine's API on 127.0.0.1:0 over a fresh database
//! (SQLite file, or a new PostgreSQL database when `PAYMENTS_CONSOLE_TEST_POSTGRES` is set).

use std::sync::Arc;
use std::time::Duration;

use payments_engine::{
    AuditSink, Engine, EngineConfig, NoAudit, SealError, Sealer, SimpleAuthenticator, SubjectPolicy,
};
use rand::RngCore;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::{AnyPool, Connection};
use stripe_sandbox::{Sandbox, SandboxConfig};
use zeroize::Zeroizing;

pub const ADMIN_KEY: &str = "ik_admin_0123456789abcdef";
pub const SUPPORT_KEY: &str = "ik_support_0123456789abcdef";
pub const JWT_SECRET: &[u8] = b"test-jwt-secret-0123456789";
pub const TEST_KEY: &str = "sk_test_51AbCdEfGhIjKlMnOp1234";

/// A toy sealer (SHA-256 keystream with a random nonce): enough to prove that the engine stores
/// only what the sealer returns. Not for production.
pub struct TestSealer;

fn keystream(nonce: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut counter = 0u32;
    while out.len() < len {
        let block = Sha256::new()
            .chain_update(b"test-master-key")
            .chain_update(nonce)
            .chain_update(counter.to_be_bytes())
            .finalize();
        out.extend_from_slice(&block);
        counter += 1;
    }
    out.truncate(len);
    out
}

impl Sealer for TestSealer {
    fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct: Vec<u8> = plaintext.bytes().zip(keystream(&nonce, plaintext.len())).map(|(a, b)| a ^ b).collect();
        format!("v1:{}:{}", hex::encode(nonce), hex::encode(ct))
    }

    fn open(&self, sealed: &str) -> Result<Zeroizing<String>, SealError> {
        let mut parts = sealed.split(':');
        let (Some("v1"), Some(nonce), Some(ct)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SealError("bad format".into()));
        };
        let nonce = hex::decode(nonce).map_err(|e| SealError(e.to_string()))?;
        let ct = hex::decode(ct).map_err(|e| SealError(e.to_string()))?;
        let pt: Vec<u8> = ct.iter().zip(keystream(&nonce, ct.len())).map(|(a, b)| a ^ b).collect();
        String::from_utf8(pt).map(Zeroizing::new).map_err(|e| SealError(e.to_string()))
    }
}

/// Which credentials a request carries.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Admin,
    Support,
    Bearer(String),
    ApiKeyHeader(String),
}

pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
}

impl Resp {
    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        &self.body
    }

    /// Asserts the contract's error envelope.
    #[track_caller]
    pub fn err(&self, status: u16, code: &str, message: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["error"], code, "body: {}", self.body);
        assert_eq!(self.body["message"], message, "body: {}", self.body);
        assert_eq!(self.body["statusCode"], status, "body: {}", self.body);
    }
}

pub struct Harness {
    pub base: String,
    pub sandbox: Sandbox,
    pub sandbox_base: String,
    pub pool: AnyPool,
    /// The database's URL, for a second pool (another "instance").
    pub db_url: String,
    pub engine: Engine,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

pub async fn start_sandbox(config: SandboxConfig) -> (Sandbox, String) {
    let sandbox = Sandbox::new(SandboxConfig {
        webhook_max_attempts: 1,
        webhook_retry_base: Duration::from_millis(10),
        ..config
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let s = sandbox.clone();
    tokio::spawn(async move { s.serve(listener).await });
    (sandbox, base)
}

pub async fn fresh_pool(dir: &tempfile::TempDir) -> (AnyPool, String) {
    install_default_drivers();
    let url = match std::env::var("PAYMENTS_CONSOLE_TEST_POSTGRES") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("t_{}", hex::encode(rand::random::<[u8; 8]>()));
            let mut admin = sqlx::AnyConnection::connect(&admin_url).await.expect("connecting to PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
            admin.close().await.unwrap();
            let (prefix, _) = admin_url.rsplit_once('/').expect("a postgres URL with a database");
            format!("{prefix}/{name}")
        }
        _ => format!("sqlite://{}/payments.db?mode=rwc", dir.path().display()),
    };
    let pool = AnyPoolOptions::new().max_connections(5).connect(&url).await.unwrap();
    sqlx::migrate!("../../migrations").run(&pool).await.unwrap();
    (pool, url)
}

impl Harness {
    pub async fn start() -> Harness {
        Self::start_with(SandboxConfig::default()).await
    }

    pub async fn start_with(config: SandboxConfig) -> Harness {
        Self::start_full(config, Arc::new(NoAudit)).await
    }

    /// A harness whose engine reports to `audit`.
    pub async fn start_audited(audit: Arc<dyn AuditSink>) -> Harness {
        Self::start_full(SandboxConfig::default(), audit).await
    }

    /// A harness whose engine applies `subjects` on the runtime routes.
    pub async fn start_with_subjects(subjects: SubjectPolicy) -> Harness {
        Self::start_engine_with(move |c| c.subjects = subjects).await
    }

    /// A harness whose engine configuration `tweak` adjusts.
    pub async fn start_engine_with(tweak: impl FnOnce(&mut EngineConfig)) -> Harness {
        Self::start_configured(SandboxConfig::default(), Arc::new(NoAudit), tweak).await
    }

    async fn start_full(config: SandboxConfig, audit: Arc<dyn AuditSink>) -> Harness {
        Self::start_configured(config, audit, |_| {}).await
    }

    async fn start_configured(
        config: SandboxConfig,
        audit: Arc<dyn AuditSink>,
        tweak: impl FnOnce(&mut EngineConfig),
    ) -> Harness {
        let (sandbox, sandbox_base) = start_sandbox(config).await;
        let dir = tempfile::tempdir().unwrap();
        let (pool, db_url) = fresh_pool(&dir).await;
        let (base, engine) = serve_engine_configured(&pool, &sandbox_base, audit, tweak).await;
        Harness { base, sandbox, sandbox_base, pool, db_url, engine, http: reqwest::Client::new(), _dir: dir }
    }

    pub async fn request(&self, method: Method, path: &str, body: Option<Value>, auth: Auth) -> Resp {
        request(&self.http, &self.base, method, path, body, auth).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.request(Method::GET, path, None, Auth::Admin).await
    }

    pub async fn send(&self, method: Method, path: &str, body: Value) -> Resp {
        self.request(method, path, Some(body), Auth::Admin).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.request(Method::DELETE, path, None, Auth::Admin).await
    }

    /// Configures the test key and asserts success.
    pub async fn configure(&self, key: &str) -> Value {
        self.send(Method::PUT, "/api/payments/test/config", serde_json::json!({ "secretKey": key }))
            .await
            .ok(200)
            .clone()
    }

    /// A signed JWT with these claims (`exp` far in the future).
    pub fn jwt(&self, role: &str, sub: &str) -> String {
        self.jwt_granting(role, sub, &[])
    }

    /// [`Harness::jwt`] whose `billing_subjects` claim grants `subjects` (`"team:t1"`…).
    pub fn jwt_granting(&self, role: &str, sub: &str, subjects: &[&str]) -> String {
        let mut claims = serde_json::json!({"sub": sub, "email": format!("{sub}@example.com"), "role": role, "exp": 4_102_444_800_i64});
        if !subjects.is_empty() {
            claims["billing_subjects"] = serde_json::json!(subjects);
        }
        payments_engine::sign_hs256(&claims, JWT_SECRET)
    }

    /// What a sync reports of the history and the event log, read from the tables:
    /// `(payments, refunds, events)`.
    pub async fn backfilled(&self) -> (i64, i64, i64) {
        (
            self.scalar_i64("SELECT COUNT(*) FROM payments_payment_history WHERE type <> 'refund'").await,
            self.scalar_i64("SELECT COUNT(*) FROM payments_payment_history WHERE type = 'refund'").await,
            self.scalar_i64("SELECT COUNT(*) FROM payments_webhook_events").await,
        )
    }

    /// Adds a sandbox fault (`POST /_sandbox/faults`, see `crates/stripe-sandbox/src/control.rs`).
    pub async fn add_fault(&self, fault: Value) {
        let r = self.http.post(format!("{}/_sandbox/faults", self.sandbox_base)).json(&fault).send().await.unwrap();
        assert!(r.status().is_success(), "adding a fault: {}", r.text().await.unwrap());
    }

    /// Removes every sandbox fault.
    pub async fn clear_faults(&self) {
        self.http.delete(format!("{}/_sandbox/faults", self.sandbox_base)).send().await.unwrap();
    }

    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql).fetch_one(&self.pool).await.unwrap()
    }
}

/// Starts (another) engine API on `pool`, talking to the Stripe at `stripe_base`.
pub async fn serve_engine(pool: &AnyPool, stripe_base: &str) -> (String, Engine) {
    serve_engine_with(pool, stripe_base, Arc::new(NoAudit)).await
}

/// [`serve_engine`] with an audit sink.
pub async fn serve_engine_with(pool: &AnyPool, stripe_base: &str, audit: Arc<dyn AuditSink>) -> (String, Engine) {
    serve_engine_configured(pool, stripe_base, audit, |_| {}).await
}

/// [`serve_engine_with`], its configuration adjusted by `tweak`.
pub async fn serve_engine_configured(
    pool: &AnyPool,
    stripe_base: &str,
    audit: Arc<dyn AuditSink>,
    tweak: impl FnOnce(&mut EngineConfig),
) -> (String, Engine) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = EngineConfig::new(pool.clone(), Arc::new(TestSealer), stripe_base.parse().unwrap());
    config.public_url = Some(base.parse().unwrap());
    config.stripe_budget_per_sec = 1000.0;
    config.audit = audit;
    tweak(&mut config);
    let engine = Engine::new(config).await.unwrap();
    let auth = Arc::new(SimpleAuthenticator::new(&[ADMIN_KEY], &[SUPPORT_KEY], JWT_SECRET));
    let app = engine.router(auth);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, engine)
}

pub async fn request(
    http: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    auth: Auth,
) -> Resp {
    let mut req = http.request(method, format!("{base}{path}"));
    req = match auth {
        Auth::None => req,
        Auth::Admin => req.bearer_auth(ADMIN_KEY),
        Auth::Support => req.bearer_auth(SUPPORT_KEY),
        Auth::Bearer(t) => req.bearer_auth(t),
        Auth::ApiKeyHeader(k) => req.header("x-api-key", k),
    };
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Resp { status, body }
}

/// The test environment's overview figures, without the time they were computed at.
pub async fn figures(base: &str) -> Value {
    let mut body =
        request(&reqwest::Client::new(), base, Method::GET, "/api/payments/test/overview", None, Auth::Admin)
            .await
            .ok(200)["overview"]
            .clone();
    body.as_object_mut().unwrap().remove("computedAt");
    body
}

/// Asserts that the figures the mirror's writers kept are the figures a recount of the mirror
/// gives, and that compacting them changes nothing; returns them.
pub async fn assert_figures_kept(base: &str, engine: &Engine) -> Value {
    let kept = figures(base).await;
    engine.fold_overview().await.unwrap();
    same_figures(&figures(base).await, &kept, "folding changed the figures");
    engine.recount_overview().await.unwrap();
    same_figures(&figures(base).await, &kept, "the figures kept as rows were written differ from a recount");
    kept
}

fn same_figures(got: &Value, kept: &Value, what: &str) {
    let differ: Vec<String> = kept
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| got.get(k.as_str()) != Some(v))
        .map(|(k, v)| format!("{k}: kept {v}, now {}", got[k.as_str()]))
        .collect();
    assert!(
        differ.is_empty() && got.as_object().unwrap().len() == kept.as_object().unwrap().len(),
        "{what}: {differ:#?}"
    );
}
