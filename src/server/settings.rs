//! Runtime settings derived from the command line, shared by the request handlers.

use url::Url;

/// Settings the handlers need, decided once at start-up.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Set the `Secure` cookie attribute: the console is reached over HTTPS.
    pub secure_cookies: bool,
    /// The externally reachable base URL (for the Stripe webhook endpoint), if given.
    pub public_url: Option<Url>,
    /// Sessions end after this many seconds without a request.
    pub session_idle_timeout_secs: i64,
    /// In `--demo` mode: the base URL of the in-process Stripe sandbox.
    pub demo_sandbox_url: Option<String>,
    /// In `--demo` mode: the base URL of the second in-process sandbox, which answers live
    /// mode's calls (any `sk_live_` key) with its own, initially empty, data.
    pub demo_live_sandbox_url: Option<String>,
    /// The remote InsForge backend's base URL (`--backend URL`), when not embedded.
    pub remote_backend: Option<String>,
    /// Where Stripe's REST API is (the in-process sandbox in demo mode).
    pub stripe_api_base: Url,
    /// Secret of the HS256 JWTs accepted on the payments API (InsForge SDK callers); `serve`
    /// refuses to start with one shorter than `serve::MIN_JWT_SECRET_BYTES`.
    pub jwt_secret: Option<super::secrets::SecretString>,
    /// The bearer token `/metrics` requires (`--metrics-token-file`); `None`: loopback peers only
    /// (see `metrics::metrics_access`).
    pub metrics_token: Option<super::secrets::SecretString>,
}
