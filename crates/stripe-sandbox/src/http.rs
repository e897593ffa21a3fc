//! HTTP plumbing shared by every route: the router assembly, `Request-Id` and
//! `Stripe-Version` headers, authentication, fault injection, idempotency and
//! the form-parameter extractor.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::Value;

use crate::error::ApiError;
use crate::form::{self, Params};
use crate::store::{random_token, Ctx};
use crate::{control, resources, Sandbox, STRIPE_VERSION};

/// Request bodies larger than this are refused (Stripe's own limit is far lower for forms).
const BODY_LIMIT: usize = 4 << 20;
/// How long Stripe keeps idempotency keys.
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);

/// The JSON reply of a Stripe route.
pub(crate) type Reply = Result<Json<Value>, ApiError>;

/// Builds the whole application router.
pub(crate) fn app(sandbox: Sandbox) -> Router {
    Router::new()
        .merge(resources::routes())
        .merge(control::routes())
        .fallback(unrecognized)
        .method_not_allowed_fallback(unrecognized)
        // Layers run outside-in from the last one added.
        .layer(from_fn_with_state(sandbox.clone(), idempotency))
        .layer(from_fn_with_state(sandbox.clone(), authenticate))
        .layer(from_fn_with_state(sandbox.clone(), control::inject_faults))
        .layer(from_fn(stamp))
        .with_state(sandbox)
}

async fn unrecognized(method: Method, uri: Uri) -> ApiError {
    ApiError::unrecognized_url(method.as_str(), uri.path())
}

/// Per-request data the middleware hands to handlers.
#[derive(Debug, Clone)]
pub(crate) struct RequestInfo {
    pub request_id: String,
    pub idempotency_key: Option<String>,
}

/// Gives every response a `Request-Id` and the pinned `Stripe-Version`.
async fn stamp(mut req: Request, next: Next) -> Response {
    let request_id = format!("req_{}", random_token(14));
    let idempotency_key =
        req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned).filter(|k| !k.is_empty());
    req.extensions_mut().insert(RequestInfo { request_id: request_id.clone(), idempotency_key });
    let mut resp = next.run(req).await;
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("request-id", v);
    }
    headers.insert("stripe-version", HeaderValue::from_static(STRIPE_VERSION));
    resp
}

fn is_api_path(path: &str) -> bool {
    path == "/v1" || path.starts_with("/v1/")
}

/// The API key of a request, from `Authorization: Bearer …`.
fn bearer_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, key) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| key.trim().to_owned())
}

fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 12 {
        return key.to_owned();
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 12))
}

/// Stripe answers 401 for a missing or unknown key on every `/v1` path.
async fn authenticate(State(sb): State<Sandbox>, req: Request, next: Next) -> Response {
    if !is_api_path(req.uri().path()) {
        return next.run(req).await;
    }
    match bearer_key(req.headers()) {
        None => ApiError::unauthorized(
            "You did not provide an API key. You need to provide your API key in the Authorization header, \
             using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://docs.stripe.com/api#authentication \
             for details, or we can help at https://support.stripe.com/.",
        )
        .into_response(),
        Some(key) if !sb.config().accepts_key(&key) => {
            ApiError::unauthorized(format!("Invalid API Key provided: {}", mask_key(&key))).into_response()
        }
        Some(_) => next.run(req).await,
    }
}

/// Stored outcomes of idempotent requests.
#[derive(Default)]
pub(crate) struct IdempotencyStore {
    entries: HashMap<String, IdemEntry>,
}

enum IdemEntry {
    InFlight { fingerprint: String, at: Instant },
    Done(Box<StoredResponse>),
}

struct StoredResponse {
    fingerprint: String,
    at: Instant,
    status: StatusCode,
    body: Bytes,
    request_id: String,
}

/// Replays responses of repeated `Idempotency-Key`s and refuses reuse of a
/// key with different parameters, like Stripe.
async fn idempotency(State(sb): State<Sandbox>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let info = req.extensions().get::<RequestInfo>().cloned();
    let (Some(info), true) = (info, is_api_path(&path) && (method == Method::POST || method == Method::DELETE)) else {
        return next.run(req).await;
    };
    let Some(key) = info.idempotency_key.clone() else {
        return next.run(req).await;
    };
    let scope = format!("{}|{key}", bearer_key(req.headers()).unwrap_or_default());
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => return ApiError::bad_request("The request body could not be read.").into_response(),
    };
    let mut params = form::parse(parts.uri.query().unwrap_or(""));
    params.merge(form::parse(&String::from_utf8_lossy(&bytes)));
    let fingerprint = format!("{method} {path}?{}", params.fingerprint());

    {
        let mut store = sb.inner.idempotency.lock();
        let fresh = |at: &Instant| at.elapsed() < IDEMPOTENCY_TTL;
        match store.entries.get(&scope) {
            Some(IdemEntry::InFlight { at, .. }) if fresh(at) => {
                return ApiError::new(
                    StatusCode::CONFLICT,
                    "idempotency_error",
                    format!(
                        "There is currently another in-progress request using this Idempotent Key (that probably means \
                         you submitted twice, and the other request is still going through): {key}. Please try again later."
                    ),
                )
                .into_response();
            }
            Some(IdemEntry::Done(stored)) if fresh(&stored.at) => {
                if stored.fingerprint != fingerprint {
                    return ApiError::idempotency(format!(
                        "Keys for idempotent requests can only be used with the same parameters they were first used with. \
                         Try using a key other than '{key}' if you meant to execute a different request."
                    ))
                    .into_response();
                }
                let mut resp = Response::new(Body::from(stored.body.clone()));
                *resp.status_mut() = stored.status;
                let h = resp.headers_mut();
                h.insert("content-type", HeaderValue::from_static("application/json"));
                h.insert("idempotent-replayed", HeaderValue::from_static("true"));
                if let Ok(v) = HeaderValue::from_str(&stored.request_id) {
                    h.insert("original-request", v);
                }
                if let Ok(v) = HeaderValue::from_str(&key) {
                    h.insert("idempotency-key", v);
                }
                return resp;
            }
            _ => {}
        }
        store
            .entries
            .insert(scope.clone(), IdemEntry::InFlight { fingerprint: fingerprint.clone(), at: Instant::now() });
    }

    let resp = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let status = resp.status();
    let (mut resp_parts, resp_body) = resp.into_parts();
    let resp_bytes = to_bytes(resp_body, usize::MAX).await.unwrap_or_default();
    {
        let mut store = sb.inner.idempotency.lock();
        // Stripe saves the result once the endpoint began executing: successes
        // and card declines. Validation failures can be retried with the key.
        if status.is_success() || status == StatusCode::PAYMENT_REQUIRED {
            store.entries.insert(
                scope,
                IdemEntry::Done(Box::new(StoredResponse {
                    fingerprint,
                    at: Instant::now(),
                    status,
                    body: resp_bytes.clone(),
                    request_id: info.request_id.clone(),
                })),
            );
        } else if matches!(store.entries.get(&scope), Some(IdemEntry::InFlight { fingerprint: f, .. }) if *f == fingerprint)
        {
            store.entries.remove(&scope);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&key) {
        resp_parts.headers.insert("idempotency-key", v);
    }
    Response::from_parts(resp_parts, Body::from(resp_bytes))
}

/// A Stripe request's parameters (query string and form body merged) plus
/// its event context.
pub(crate) struct ApiRequest {
    pub params: Params,
    pub ctx: Ctx,
}

impl<S: Send + Sync> FromRequest<S> for ApiRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let ctx = req
            .extensions()
            .get::<RequestInfo>()
            .map(|i| Ctx { request_id: Some(i.request_id.clone()), idempotency_key: i.idempotency_key.clone() })
            .unwrap_or_default();
        let mut params = form::parse(req.uri().query().unwrap_or(""));
        let is_json = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        let bytes = to_bytes(req.into_body(), BODY_LIMIT)
            .await
            .map_err(|_| ApiError::bad_request("The request body could not be read."))?;
        if is_json && !bytes.is_empty() {
            return Err(ApiError::bad_request(
                "Invalid request: the Stripe API expects form-encoded parameters (application/x-www-form-urlencoded).",
            ));
        }
        params.merge(form::parse(&String::from_utf8_lossy(&bytes)));
        Ok(Self { params, ctx })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keys_like_stripe() {
        assert_eq!(mask_key("sk_test_abcdefgh1234"), "sk_test_********1234");
        assert_eq!(mask_key("short"), "short");
    }

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer sk_test_x"));
        assert_eq!(bearer_key(&h).as_deref(), Some("sk_test_x"));
        h.insert("authorization", HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_key(&h), None);
    }
}
