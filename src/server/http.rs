//! The HTTP surface: the Leptos pages and server functions, health probes, static files, and the
//! middleware that resolves sessions, guards pages, refuses cross-origin writes, bounds request
//! bodies and sets the security headers.

use super::sessions::SESSION_COOKIE;
use super::settings::Settings;
use super::state::AppState;
use crate::app::{shell, App};
use crate::backend::ssr::BackendKind;
use crate::model::format::url_encode;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use leptos_router::SsrMode;
use std::sync::{Arc, OnceLock};
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};

/// The console's page routes, generated once per process.
///
/// Why once: `generate_route_list` renders the app with leptos_server's process-wide
/// `SuppressResourceLoad` flag set (leptos_server 0.8.8, `resource.rs`), and a resource that a
/// page being served elsewhere in the process first polls meanwhile never loads: its response
/// stops after the headers. One program may build several routers (every test does), so the
/// generation happens once, before the first router serves anything.
pub fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The page routes as `route_list` gives them, in `SsrMode::InOrder`: for a console whose data
/// comes from a remote backend (issue #13's streaming).
///
/// In order, the server sends the head (the bundle's preloads and its loader) and the frame at
/// once, then each part of the page as its data arrives, so the browser fetches and compiles the
/// WebAssembly while the remote backend answers. The HTML is still whole and in order, so the
/// forms work without WebAssembly. The embedded engine answers in milliseconds (server rendering
/// p95 ≤ 17 ms at 1M rows, README), where waiting costs nothing, and there `SsrMode::Async` keeps
/// what a stream cannot: the status of an error a page shows (a 404, a 502 when Stripe is down),
/// which has to be known before the first byte.
fn streamed_in_order(routes: Vec<AxumRouteListing>) -> Vec<AxumRouteListing> {
    routes
        .into_iter()
        .map(|route| AxumRouteListing::new(route.path().to_string(), SsrMode::InOrder, route.methods(), Vec::new()))
        .collect()
}

/// Builds the whole application router for a state.
pub fn router(state: AppState) -> Router {
    let routes = match state.backend.kind() {
        BackendKind::Embedded => route_list(),
        BackendKind::Remote => streamed_in_order(route_list()),
    };
    let context_state = state.clone();
    let fallback_state = state.clone();
    let options = state.leptos_options.clone();
    let site_root = std::path::PathBuf::from(options.site_root.as_ref());
    let payments_api = state.payments_api.clone();
    let policy = Arc::new(HttpPolicy::new(&state.settings, options.site_addr));
    Router::new()
        .route("/", get(|| async { Redirect::to("/test") }))
        // Static files get their own routes: `/:env/*` would otherwise claim `/pkg/...`.
        // Both send the `.br` or `.gz` sibling that `payments-console precompress` wrote when
        // the client accepts it (with `Content-Encoding`), so nothing is compressed per request.
        .nest_service(
            "/pkg",
            ServeDir::new(site_root.join(options.site_pkg_dir.as_ref())).precompressed_br().precompressed_gzip(),
        )
        .route_service(
            "/favicon.svg",
            ServeFile::new(site_root.join("favicon.svg")).precompressed_br().precompressed_gzip(),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        // For operators: guarded by its own token or the peer's address, not by sessions.
        .route("/metrics", get(super::metrics::serve_metrics))
        .route("/export/{env}/payment-history.csv", get(super::export::payment_history_csv))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            move || shell(options.clone()),
        )
        // Server functions only return their errors; an error answer gets its status here.
        // Only server-function errors carry the header it looks for, so the other routes above
        // pass through untouched.
        .layer(middleware::from_fn(super::errors::status_from_error))
        // The state as the routes' pages have it: the shell reads the stylesheet from it.
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            move || provide_context(fallback_state.clone()),
            shell,
        ))
        .with_state(state.clone())
        // The InsForge-compatible payments API of the embedded engine (`/api/payments/...`),
        // which authenticates its callers itself.
        .merge(payments_api)
        .layer(middleware::from_fn_with_state(state, resolve_session))
        // Compresses what is made per request (pages, server functions, the API). It leaves
        // answers that already carry `Content-Encoding` alone (tower-http 0.6,
        // `compression/future.rs`), so the precompressed static files pass through unchanged.
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn_with_state(policy.clone(), refuse_cross_origin))
        // Outside everything that reads the database or decrypts: an oversized body costs nothing.
        .layer(middleware::from_fn(limit_body))
        // Outermost, so that every answer (413s and 403s included) carries the headers.
        .layer(middleware::from_fn_with_state(policy, security_headers))
        .layer(middleware::from_fn(server_timing))
        // Outside everything else, so that every answer is counted with the time it took.
        .layer(middleware::from_fn(super::metrics::track_http))
}

/// `Server-Timing: app;dur=<ms>`: the time from the request reaching the router to the response
/// headers leaving it (for a page, the whole render: pages wait for their data before the first
/// byte). The benchmark suite (`crates/payments-bench`) reads it to report server time apart
/// from the client's, and browsers' developer tools show it. It carries a duration only, which a
/// client can measure itself anyway.
async fn server_timing(req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let mut res = next.run(req).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = HeaderValue::from_str(&format!("app;dur={ms:.3}")) {
        res.headers_mut().insert(SERVER_TIMING, value);
    }
    res
}

/// Not among `http`'s constants.
const SERVER_TIMING: header::HeaderName = header::HeaderName::from_static("server-timing");

/// What the request middleware needs from the settings, decided once per router.
#[derive(Debug)]
struct HttpPolicy {
    /// The exact origin (`scheme://host[:port]`) browsers reach the console at, when the operator
    /// gave `--public-url`; `None` to compare `Origin` with the `Host` header instead.
    public_origin: Option<String>,
    /// `Strict-Transport-Security`, sent only when the console is reached over HTTPS.
    hsts: bool,
}

impl HttpPolicy {
    fn new(settings: &Settings, site_addr: std::net::SocketAddr) -> Self {
        let public_url = settings.public_url.as_ref();
        // `--demo` without `--public-url` fills in `http://<listen address>` for the sandbox's
        // webhooks; that is not where browsers come from (it may be 0.0.0.0), so it is not used.
        let derived = settings.demo_sandbox_url.is_some()
            && public_url.is_some_and(|u| u.as_str().trim_end_matches('/') == format!("http://{site_addr}"));
        HttpPolicy {
            public_origin: public_url.filter(|_| !derived).map(|u| u.origin().ascii_serialization()),
            hsts: public_url.is_some_and(|u| u.scheme() == "https"),
        }
    }
}

/// The process is up.
async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// The process can serve: its database answers.
async fn readyz(State(state): State<AppState>) -> Response {
    if state.db.is_reachable().await {
        Json(serde_json::json!({ "status": "ready" })).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "database unreachable" }))).into_response()
    }
}

/// Whether a path is a console page that only signed-in users may see.
fn is_console_page(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    crate::environment::Environment::parse(first).is_some()
}

/// `/{env}/account`, the one page a user who must change their password may open.
fn is_account_page(path: &str) -> bool {
    let mut parts = path.trim_start_matches('/').split('/');
    let _env = parts.next();
    parts.next() == Some("account") && parts.next().is_none_or(str::is_empty)
}

/// Paths that never need a session lookup here: static files, probes, and the payments API
/// (whose authenticator reads the session itself).
fn skips_session(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path.starts_with("/api/payments")
        || path.starts_with("/api/webhooks/")
        || path == "/healthz"
        || path == "/readyz"
        || path == "/metrics"
        || path == "/favicon.svg"
}

/// Attaches the caller's session (if any) to the request, sends anonymous visitors of console
/// pages to the login page, and signed-in visitors of the login page to the console.
async fn resolve_session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if skips_session(&path) {
        return next.run(req).await;
    }
    let token = cookie(req.headers(), SESSION_COOKIE);
    let session = match &token {
        Some(token) => match state.sessions.lookup(token).await {
            Ok(session) => session,
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        },
        None => None,
    };
    let is_get = req.method() == Method::GET || req.method() == Method::HEAD;
    match &session {
        None if is_get && is_console_page(&path) => {
            let target = req.uri().path_and_query().map_or(path.clone(), |pq| pq.to_string());
            let mut response = Redirect::to(&format!("/login?next={}", url_encode(&target))).into_response();
            if token.is_some() {
                // The cookie named a session that has ended: drop it.
                let clear = crate::auth::ssr::session_cookie(&state.settings, None);
                if let Ok(value) = HeaderValue::from_str(&clear) {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            return response;
        }
        // A password set for them: the Account page, and no other page, until they choose their
        // own (their server functions answer 403 meanwhile; see `auth::ssr::require_reader`).
        Some(s) if s.user.must_change_password && is_get && is_console_page(&path) && !is_account_page(&path) => {
            let env = path.trim_start_matches('/').split('/').next().unwrap_or("test").to_owned();
            return Redirect::to(&format!("/{env}/account")).into_response();
        }
        Some(_) if is_get && path == "/login" => {
            let next = req.uri().query().and_then(|q| query_param(q, "next"));
            return Redirect::to(&crate::auth::safe_next(next.as_deref())).into_response();
        }
        _ => {}
    }
    if let Some(session) = session {
        req.extensions_mut().insert(session);
    }
    next.run(req).await
}

/// Refuses state-changing requests sent by another site (CSRF). Browsers send `Origin` on every
/// cross-origin POST and `Sec-Fetch-Site` on all modern requests; either is enough to tell. A
/// request that carries the session cookie but neither header is refused too: every browser that
/// can hold the cookie sends one of them, so its absence means the request cannot be vouched for.
/// Requests authenticated by an API key carry no ambient credentials and are not subject to it,
/// nor are Stripe's webhooks (signed, and never sent by a browser).
async fn refuse_cross_origin(State(policy): State<Arc<HttpPolicy>>, req: Request, next: Next) -> Response {
    let safe_method = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let has_api_credentials =
        req.headers().contains_key(header::AUTHORIZATION) || req.headers().contains_key("x-api-key");
    if safe_method || has_api_credentials || req.uri().path().starts_with("/api/webhooks/") {
        return next.run(req).await;
    }
    let verdict = origin_verdict(req.headers(), policy.public_origin.as_deref());
    let refused = match verdict {
        OriginVerdict::CrossOrigin => true,
        OriginVerdict::SameOrigin => false,
        OriginVerdict::Unknown => cookie(req.headers(), SESSION_COOKIE).is_some(),
    };
    if refused {
        tracing::warn!(path = %req.uri().path(), ?verdict, "refused a cross-origin request");
        return (StatusCode::FORBIDDEN, "Cross-origin requests are not allowed.").into_response();
    }
    next.run(req).await
}

/// Where a request says it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OriginVerdict {
    /// `Origin` (or `Sec-Fetch-Site: same-origin`) names this console.
    SameOrigin,
    /// Another site, a sibling subdomain, or an opaque (`null`) origin.
    CrossOrigin,
    /// Neither header: a non-browser client (curl, the CLI), or a request that hides its origin.
    Unknown,
}

/// Reads `Origin`, then `Sec-Fetch-Site`. With a public origin, `Origin` must equal it exactly
/// (scheme, host and port); without one it must name the `Host` the request was sent to.
fn origin_verdict(headers: &HeaderMap, public_origin: Option<&str>) -> OriginVerdict {
    if let Some(origin) = headers.get(header::ORIGIN) {
        // `Origin: null` comes from sandboxed frames and file: pages: never ours.
        let origin = origin.to_str().unwrap_or_default().trim_end_matches('/');
        let ours = match public_origin {
            Some(public) => origin.eq_ignore_ascii_case(public),
            None => {
                let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
                let origin_host = origin.split_once("://").map(|(_, rest)| rest);
                origin_host.is_some() && origin_host == host
            }
        };
        return if ours { OriginVerdict::SameOrigin } else { OriginVerdict::CrossOrigin };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // `none`: the user's own action (address bar, bookmark).
        Some("same-origin" | "none") => OriginVerdict::SameOrigin,
        // `same-site` is a sibling subdomain: not this console.
        Some(_) => OriginVerdict::CrossOrigin,
        None => OriginVerdict::Unknown,
    }
}

/// The largest Stripe webhook body accepted: Stripe's events are far smaller, but an event that
/// embeds a large object (an invoice with many lines) must never be lost to this limit.
pub const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;
/// The largest sign-in body accepted: an email, a password and a `next` path.
pub const LOGIN_BODY_LIMIT: usize = 16 * 1024;
/// The largest body of every other route. The biggest legitimate one, a catalog product or
/// price with 50 metadata entries of 500 characters, is about 30 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// The body limit of a path.
fn body_limit(path: &str) -> usize {
    if path.starts_with("/api/webhooks/stripe/") {
        WEBHOOK_BODY_LIMIT
    } else if path == "/api/console/login" {
        LOGIN_BODY_LIMIT
    } else {
        DEFAULT_BODY_LIMIT
    }
}

/// Answers 413 for a body over the path's limit before anything else looks at the request: a
/// declared `Content-Length` is checked up front, and a body of unknown length (chunked) is read
/// here, at most up to the limit, so no handler or authenticator ever sees an oversized one.
async fn limit_body(req: Request, next: Next) -> Response {
    use axum::body::HttpBody;
    use futures_util::StreamExt;
    let limit = body_limit(req.uri().path());
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if let Some(length) = declared {
        if length > limit as u64 {
            return body_too_large(req.uri().path(), limit);
        }
        // hyper never delivers more than the declared length.
        return next.run(req).await;
    }
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    let mut buffered = Vec::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return (StatusCode::BAD_REQUEST, "The request body could not be read.").into_response();
        };
        if buffered.len() + chunk.len() > limit {
            return body_too_large(parts.uri.path(), limit);
        }
        buffered.extend_from_slice(&chunk);
    }
    next.run(Request::from_parts(parts, Body::from(buffered))).await
}

/// The 413 answer: the payments API's error envelope on its routes, plain text elsewhere.
fn body_too_large(path: &str, limit: usize) -> Response {
    let message = format!("The request body is larger than the {} KiB this endpoint accepts.", limit / 1024);
    tracing::warn!(path, limit, "refused an oversized request body");
    if path.starts_with("/api/payments") {
        let body = serde_json::json!({ "error": "PAYLOAD_TOO_LARGE", "message": message, "statusCode": 413 });
        return (StatusCode::PAYLOAD_TOO_LARGE, Json(body)).into_response();
    }
    (StatusCode::PAYLOAD_TOO_LARGE, message).into_response()
}

/// The Content-Security-Policy of every answer. `nonce` is the one of the page being rendered
/// (Leptos puts it on its hydration and resource scripts); without one, no inline script runs.
/// `'wasm-unsafe-eval'` lets the page compile its WebAssembly; nothing else is evaluated. Styles
/// come from this origin or from the page's own `<style>` with the nonce (the site's stylesheet,
/// written into the page: `super::assets::read_inline_stylesheet`); no view uses inline `style`
/// attributes, and a nonce does not allow them.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let (script, style) = match nonce {
        Some(nonce) => (
            format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
            format!("style-src 'self' 'nonce-{nonce}'"),
        ),
        None => ("script-src 'self' 'wasm-unsafe-eval'".to_string(), "style-src 'self'".to_string()),
    };
    // `cargo leptos watch` reloads the page over a WebSocket on another port.
    let connect = if std::env::var_os("LEPTOS_WATCH").is_some() { "'self' ws: wss:" } else { "'self'" };
    format!(
        "default-src 'self'; {script}; {style}; img-src 'self' data:; font-src 'self'; \
         connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Called by the HTML shell while a page renders: sends the policy with the page's nonce.
pub fn send_page_policy() {
    let nonce = leptos::nonce::use_nonce();
    if let (Some(res), Ok(value)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(&content_security_policy(nonce.as_deref())),
    ) {
        res.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// `Strict-Transport-Security`, when the public URL is HTTPS: a year, this host only (other hosts
/// of the domain are not the console's to decide).
const HSTS: &str = "max-age=31536000";

/// Sets the security headers on every answer: the CSP (pages set their own, with their nonce),
/// framing and sniffing protection, the referrer policy, HSTS behind HTTPS, and `Cache-Control`.
///
/// Caching: static files found are kept by browsers by their name (see
/// [`super::assets::static_cache_control`]: a year and `immutable` for content-hashed bundle
/// files) and vary by `Accept-Encoding`, since the same URL answers brotli, gzip or identity.
/// Everything else, pages and server-function answers included, is `no-store`: the console is
/// signed in, its pages and API answers hold account data (customers, masked keys, audit
/// entries) that must not stay in a shared or on-disk cache after sign-out, and a page's CSP
/// nonce must never be replayed from a cache. Pages are rendered per request anyway, so
/// revalidation (`no-cache`) would save nothing.
async fn security_headers(State(policy): State<Arc<HttpPolicy>>, req: Request, next: Next) -> Response {
    let static_policy = super::assets::static_cache_control(req.uri().path());
    let mut res = next.run(req).await;
    // A missing file (404) or an error is not kept.
    let found = res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED;
    let cache_control = static_policy.filter(|_| found);
    let headers = res.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(value) = HeaderValue::from_str(&content_security_policy(None)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    headers.entry(header::X_FRAME_OPTIONS).or_insert(HeaderValue::from_static("DENY"));
    headers.entry(header::X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
    headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("same-origin"));
    match cache_control {
        Some(value) => {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
            let varies = headers.get_all(header::VARY).iter().any(|v| {
                v.to_str().is_ok_and(|v| v.split(',').any(|name| name.trim().eq_ignore_ascii_case("accept-encoding")))
            });
            if !varies {
                headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
            }
        }
        None => {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
    if policy.hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    res
}

/// The value of a cookie in the request.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_posts_pass_and_others_are_refused() {
        use OriginVerdict::*;
        let v = |pairs| origin_verdict(&headers(pairs), None);
        assert_eq!(v(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")]), SameOrigin);
        assert_eq!(v(&[("host", "127.0.0.1:3000"), ("origin", "http://evil.example")]), CrossOrigin);
        assert_eq!(v(&[("host", "127.0.0.1:3000"), ("origin", "null")]), CrossOrigin);
        assert_eq!(v(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")]), CrossOrigin);
        assert_eq!(v(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "same-site")]), CrossOrigin);
        assert_eq!(v(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "same-origin")]), SameOrigin);
        // Non-browser clients (curl, the CLI) send neither header.
        assert_eq!(v(&[("host", "127.0.0.1:3000")]), Unknown);
    }

    #[test]
    fn with_a_public_url_the_origin_must_match_it_exactly() {
        use OriginVerdict::*;
        let public = Some("https://console.example.com");
        let v = |pairs| origin_verdict(&headers(pairs), public);
        assert_eq!(v(&[("host", "internal:3000"), ("origin", "https://console.example.com")]), SameOrigin);
        // The Host header no longer decides: a request whose Host names the attacker's origin
        // (a DNS-rebinding page) is refused.
        assert_eq!(v(&[("host", "evil.example"), ("origin", "http://evil.example")]), CrossOrigin);
        assert_eq!(v(&[("host", "console.example.com"), ("origin", "http://console.example.com")]), CrossOrigin);
        assert_eq!(v(&[("origin", "https://console.example.com:8443")]), CrossOrigin);
        assert_eq!(v(&[("origin", "https://console.example.com.evil.example")]), CrossOrigin);
    }

    #[test]
    fn body_limits_by_path() {
        assert_eq!(body_limit("/api/webhooks/stripe/test"), WEBHOOK_BODY_LIMIT);
        assert_eq!(body_limit("/api/console/login"), LOGIN_BODY_LIMIT);
        assert_eq!(body_limit("/api/console/catalog-add-price"), DEFAULT_BODY_LIMIT);
        assert_eq!(body_limit("/api/payments/test/products"), DEFAULT_BODY_LIMIT);
    }

    #[test]
    fn cookies_are_found_by_name() {
        let h = headers(&[("cookie", "a=1; pc_session=tok; b=2")]);
        assert_eq!(cookie(&h, "pc_session").as_deref(), Some("tok"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn console_pages_are_the_environment_paths() {
        assert!(is_console_page("/test"));
        assert!(is_console_page("/live/catalog"));
        assert!(!is_console_page("/login"));
        assert!(is_account_page("/test/account") && is_account_page("/live/account/"));
        assert!(!is_account_page("/test/accounts") && !is_account_page("/test/account/x") && !is_account_page("/test"));
        assert!(!is_console_page("/api/console/me"));
        assert!(!is_console_page("/testing"));
    }
}
