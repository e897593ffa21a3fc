//! `/metrics` for operators, in Prometheus's text format: the process-wide recorder, the HTTP
//! series (a middleware), the database pool gauges (set at scrape time), and the guard that
//! decides who may scrape.
//!
//! The engine and the Stripe client report through the same [`metrics`] facade
//! (`crates/payments-engine/src/metrics.rs`, `crates/stripe-client/src/metrics.rs`); the README's
//! "Operators" section lists every series. Labels are bounded: a matched route template, never a
//! raw path, id or email.

use super::db::Db;
use super::secrets::SecretString;
use super::state::AppState;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Counter: HTTP requests answered, by `method`, `route` (the matched route template, or
/// [`UNMATCHED_ROUTE`]) and `status` class (`2xx`…).
pub const HTTP_REQUESTS_TOTAL: &str = "payments_console_http_requests_total";
/// Histogram: time from a request reaching the router to its response headers, in seconds, by
/// the same labels as [`HTTP_REQUESTS_TOTAL`].
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "payments_console_http_request_duration_seconds";
/// Gauge: the database pool's open connections, by `state` (`in_use`, `idle`), as of the scrape.
pub const DB_POOL_CONNECTIONS: &str = "payments_console_db_pool_connections";
/// Gauge: the most connections the database pool opens.
pub const DB_POOL_MAX_CONNECTIONS: &str = "payments_console_db_pool_max_connections";
/// The `route` of a request that matched no route (the page fallback, unknown paths).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The `Content-Type` of Prometheus's text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Request-scale latencies, in seconds: 1 ms to 30 s.
const REQUEST_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Sync durations, in seconds: 100 ms to an hour.
const SYNC_BUCKETS: [f64; 13] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0];
/// How often the recorder's histogram buffers are drained when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's recorder, installed on first use and rendered by every router.
///
/// Once per process: the recorder is global (the facade's macros have no other way to find it),
/// and one process may build many servers (every test does), so each renders from this one
/// handle. `None` if another recorder was installed first (by a program embedding the console):
/// `/metrics` then answers 503.
pub fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(install).as_ref()
}

fn install() -> Option<PrometheusHandle> {
    let buckets = |builder: PrometheusBuilder, name: &str, values: &[f64]| {
        builder.set_buckets_for_metric(Matcher::Full(name.to_owned()), values)
    };
    let builder = Ok(PrometheusBuilder::new())
        .and_then(|b| buckets(b, HTTP_REQUEST_DURATION_SECONDS, &REQUEST_BUCKETS))
        .and_then(|b| buckets(b, payments_engine::metrics::WEBHOOK_PROCESSING_SECONDS, &REQUEST_BUCKETS))
        .and_then(|b| buckets(b, payments_engine::metrics::stripe::REQUEST_DURATION_SECONDS, &REQUEST_BUCKETS))
        .and_then(|b| buckets(b, payments_engine::metrics::SYNC_DURATION_SECONDS, &SYNC_BUCKETS));
    let handle = match builder.and_then(PrometheusBuilder::install_recorder) {
        Ok(handle) => handle,
        Err(e) => {
            tracing::warn!(error = %e, "no metrics recorder: /metrics will answer 503");
            return None;
        }
    };
    describe();
    // Without the exporter's own listener nothing drains the histograms' buffers between
    // scrapes; a thread rather than a task, since no runtime lives as long as the process must.
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || loop {
        std::thread::sleep(UPKEEP_EVERY);
        upkeep.run_upkeep();
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not start the metrics upkeep thread; scrapes still drain the buffers");
    }
    Some(handle)
}

/// Registers every series' help text.
fn describe() {
    payments_engine::metrics::describe();
    ::metrics::describe_counter!(
        HTTP_REQUESTS_TOTAL,
        "HTTP requests answered, by method, route template and status class"
    );
    ::metrics::describe_histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        ::metrics::Unit::Seconds,
        "Time from a request reaching the router to its response headers, by method, route template and status class"
    );
    ::metrics::describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Open database pool connections at scrape time, by state (in_use, idle)"
    );
    ::metrics::describe_gauge!(DB_POOL_MAX_CONNECTIONS, "The most connections the database pool opens");
}

/// The method label: the standard methods, or `OTHER` (a client may send any token).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// `2xx`, `4xx`…
fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Middleware: counts and times every request by method, matched route template and status
/// class. Added with `Router::layer`, it runs after routing, so the template is known.
pub async fn track_http(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req.extensions().get::<MatchedPath>().map_or(UNMATCHED_ROUTE, MatchedPath::as_str).to_owned();
    let res = next.run(req).await;
    let labels = vec![
        ::metrics::Label::new("method", method),
        ::metrics::Label::new("route", route),
        ::metrics::Label::new("status", status_class(res.status())),
    ];
    ::metrics::counter!(HTTP_REQUESTS_TOTAL, labels.clone()).increment(1);
    ::metrics::histogram!(HTTP_REQUEST_DURATION_SECONDS, labels).record(started.elapsed());
    res
}

/// Sets the pool gauges from the pool as it is now.
fn record_pool(db: &Db) {
    let pool = db.pool();
    let open = pool.size();
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX).min(open);
    ::metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(f64::from(open - idle));
    ::metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    ::metrics::gauge!(DB_POOL_MAX_CONNECTIONS).set(f64::from(pool.options().get_max_connections()));
}

/// Why a scrape was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsRefusal {
    /// A token is configured and the request carries no bearer token (401).
    MissingToken,
    /// A token is configured and the request's is another (401).
    WrongToken,
    /// No token is configured and the peer is not on loopback (403).
    NotLoopback,
}

impl IntoResponse for MetricsRefusal {
    fn into_response(self) -> Response {
        let (status, challenge, reason) = match self {
            MetricsRefusal::MissingToken => {
                (StatusCode::UNAUTHORIZED, Some("Bearer"), "A bearer token is required for /metrics.")
            }
            MetricsRefusal::WrongToken => (
                StatusCode::UNAUTHORIZED,
                Some("Bearer error=\"invalid_token\""),
                "The bearer token is not the metrics token.",
            ),
            MetricsRefusal::NotLoopback => (
                StatusCode::FORBIDDEN,
                None,
                "/metrics answers loopback only; configure --metrics-token-file to scrape from elsewhere.",
            ),
        };
        let mut res = (status, reason).into_response();
        if let Some(challenge) = challenge {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        res
    }
}

/// Who may scrape. With a token configured, only a request carrying it (`Authorization: Bearer
/// <token>`), whatever its address: behind a reverse proxy on the same host every request comes
/// from loopback. Without one, only loopback peers (`::ffff:127.0.0.1` included); a request
/// whose peer is unknown is refused.
pub fn metrics_access(
    token: Option<&SecretString>,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<(), MetricsRefusal> {
    match token {
        Some(expected) => {
            let given = bearer_token(headers).ok_or(MetricsRefusal::MissingToken)?;
            if tokens_match(given, expected.expose()) {
                Ok(())
            } else {
                Err(MetricsRefusal::WrongToken)
            }
        }
        None if peer.is_some_and(|p| p.ip().to_canonical().is_loopback()) => Ok(()),
        None => Err(MetricsRefusal::NotLoopback),
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Compares digests in constant time, so that neither the token's bytes nor its length can be
/// learnt from how long a refusal takes.
fn tokens_match(given: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    Sha256::digest(given.as_bytes()).ct_eq(&Sha256::digest(expected.as_bytes())).into()
}

/// `GET /metrics`: every series of the process, in Prometheus's text format, to the callers
/// [`metrics_access`] lets in. Never stored by a cache.
pub async fn serve_metrics(State(state): State<AppState>, req: Request) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    if let Err(refusal) = metrics_access(state.settings.metrics_token.as_ref(), req.headers(), peer) {
        tracing::warn!(?refusal, "refused a /metrics request");
        return refusal.into_response();
    }
    let Some(handle) = recorder() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "No metrics recorder is installed in this process.").into_response();
    };
    record_pool(&state.db);
    let body = handle.render();
    ([(header::CONTENT_TYPE, CONTENT_TYPE), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: Option<&'static str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(value) = authorization {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
        }
        h
    }

    fn peer(addr: &str) -> Option<SocketAddr> {
        Some(addr.parse().unwrap())
    }

    #[test]
    fn without_a_token_only_loopback_peers_may_scrape() {
        let none = headers(None);
        for addr in ["127.0.0.1:9000", "127.10.0.3:1", "[::1]:9000", "[::ffff:127.0.0.1]:9000"] {
            assert_eq!(metrics_access(None, &none, peer(addr)), Ok(()), "{addr}");
        }
        for addr in ["10.0.0.1:9000", "203.0.113.5:443", "[2001:db8::1]:9000", "[::ffff:10.0.0.1]:9000", "0.0.0.0:1"] {
            assert_eq!(metrics_access(None, &none, peer(addr)), Err(MetricsRefusal::NotLoopback), "{addr}");
        }
        // An unknown peer is not assumed to be local.
        assert_eq!(metrics_access(None, &none, None), Err(MetricsRefusal::NotLoopback));
        // A bearer token opens nothing when none is configured.
        assert_eq!(
            metrics_access(None, &headers(Some("Bearer anything")), peer("203.0.113.5:1")),
            Err(MetricsRefusal::NotLoopback)
        );
    }

    #[test]
    fn with_a_token_it_is_required_from_every_peer() {
        let token = SecretString::new("s3cret-metrics-token".into());
        let token = Some(&token);
        for addr in ["127.0.0.1:9000", "10.0.0.1:9000", "203.0.113.5:443"] {
            assert_eq!(metrics_access(token, &headers(None), peer(addr)), Err(MetricsRefusal::MissingToken), "{addr}");
            assert_eq!(
                metrics_access(token, &headers(Some("Bearer wrong")), peer(addr)),
                Err(MetricsRefusal::WrongToken),
                "{addr}"
            );
            assert_eq!(metrics_access(token, &headers(Some("Bearer s3cret-metrics-token")), peer(addr)), Ok(()));
        }
        assert_eq!(metrics_access(token, &headers(Some("bearer  s3cret-metrics-token ")), None), Ok(()));
        assert_eq!(
            metrics_access(token, &headers(Some("Basic s3cret-metrics-token")), None),
            Err(MetricsRefusal::MissingToken)
        );
        assert_eq!(
            metrics_access(token, &headers(Some("Bearer s3cret-metrics-token-and-more")), None),
            Err(MetricsRefusal::WrongToken)
        );
    }

    #[tokio::test]
    async fn requests_are_labelled_by_route_template_or_as_unmatched() {
        use axum::routing::get;
        use tower::ServiceExt;
        let handle = recorder().expect("the first recorder of this test process");
        let router = axum::Router::new()
            .route("/unit-metrics/{id}", get(|| async { "ok" }))
            .fallback(|| async { StatusCode::NOT_FOUND })
            .layer(axum::middleware::from_fn(track_http));
        for uri in ["/unit-metrics/cus_123", "/unit-metrics/cus_456", "/nowhere/cus_789"] {
            let req = axum::http::Request::builder().uri(uri).body(axum::body::Body::empty()).unwrap();
            router.clone().oneshot(req).await.unwrap();
        }
        let scrape = handle.render();
        let line = |route: &str, status: &str| {
            format!("{HTTP_REQUESTS_TOTAL}{{method=\"GET\",route=\"{route}\",status=\"{status}\"}}")
        };
        assert!(scrape.contains(&format!("{} 2", line("/unit-metrics/{id}", "2xx"))), "{scrape}");
        assert!(scrape.contains(&line(UNMATCHED_ROUTE, "4xx")), "{scrape}");
        assert!(!scrape.contains("cus_"), "{scrape}");
    }

    #[test]
    fn labels_are_bounded() {
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
        assert_eq!(status_class(StatusCode::IM_A_TEAPOT), "4xx");
        assert_eq!(status_class(StatusCode::SWITCHING_PROTOCOLS), "1xx");
    }
}
