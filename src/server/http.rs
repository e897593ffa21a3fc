//! The HTTP surface: the Leptos pages and server functions, health probes, static files, and the
//! middleware that resolves sessions, guards pages and refuses cross-origin writes.

use super::payments::ConsoleAuthenticator;
use super::sessions::SESSION_COOKIE;
use super::state::AppState;
use crate::app::{shell, App};
use crate::ui::format::url_encode;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// Builds the whole application router for a state.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context_state = state.clone();
    let options = state.leptos_options.clone();
    let site_root = std::path::PathBuf::from(options.site_root.as_ref());
    let payments_auth = Arc::new(ConsoleAuthenticator::new(&state.db, &state.settings));
    let payments_api = state.engine.router(payments_auth);
    Router::new()
        .route("/", get(|| async { Redirect::to("/test") }))
        // Static files get their own routes: `/:env/*` would otherwise claim `/pkg/...`.
        .nest_service("/pkg", ServeDir::new(site_root.join(options.site_pkg_dir.as_ref())))
        .route_service("/favicon.svg", ServeFile::new(site_root.join("favicon.svg")))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/export/{env}/payment-history.csv", get(super::export::payment_history_csv))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state.clone())
        // The InsForge-compatible payments API of the embedded engine (`/api/payments/...`),
        // which authenticates its callers itself.
        .merge(payments_api)
        .layer(middleware::from_fn_with_state(state, resolve_session))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(refuse_cross_origin))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
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

/// Paths that never need a session lookup here: static files, probes, and the payments API
/// (whose authenticator reads the session itself).
fn skips_session(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path.starts_with("/api/payments")
        || path.starts_with("/api/webhooks/")
        || path == "/healthz"
        || path == "/readyz"
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
                let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
                if let Ok(value) = HeaderValue::from_str(&clear) {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            return response;
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
/// cross-origin POST and `Sec-Fetch-Site` on all modern requests; either is enough to tell.
/// Requests authenticated by an API key carry no ambient credentials and are not subject to it.
async fn refuse_cross_origin(req: Request, next: Next) -> Response {
    let safe_method = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let has_api_credentials =
        req.headers().contains_key(header::AUTHORIZATION) || req.headers().contains_key("x-api-key");
    if safe_method || has_api_credentials || req.uri().path().starts_with("/api/webhooks/") {
        return next.run(req).await;
    }
    if is_cross_origin(req.headers()) {
        tracing::warn!(path = %req.uri().path(), "refused a cross-origin request");
        return (StatusCode::FORBIDDEN, "Cross-origin requests are not allowed.").into_response();
    }
    next.run(req).await
}

fn is_cross_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        // `Origin: null` comes from sandboxed frames and file: pages: never ours.
        let origin_host = origin.split_once("://").map(|(_, rest)| rest.trim_end_matches('/'));
        return origin_host.is_none() || origin_host != host;
    }
    matches!(headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()), Some("cross-site"))
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
        assert!(!is_cross_origin(&headers(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")])));
        assert!(is_cross_origin(&headers(&[("host", "127.0.0.1:3000"), ("origin", "http://evil.example")])));
        assert!(is_cross_origin(&headers(&[("host", "127.0.0.1:3000"), ("origin", "null")])));
        assert!(is_cross_origin(&headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")])));
        assert!(!is_cross_origin(&headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "same-origin")])));
        // Non-browser clients (curl, the CLI) send neither header.
        assert!(!is_cross_origin(&headers(&[("host", "127.0.0.1:3000")])));
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
        assert!(!is_console_page("/api/console/me"));
        assert!(!is_console_page("/testing"));
    }
}
