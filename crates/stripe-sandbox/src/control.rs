//! Sandbox-only routes under `/_sandbox/` (JSON in, JSON out): act as a
//! paying customer, advance subscriptions, reset, seed, inject faults and
//! inspect webhook deliveries; plus the minimal hosted pages that checkout
//! and portal session URLs point to.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::resources::{CheckoutOutcome, Outcome};
use crate::store::{new_id, Ctx, Kind};
use crate::{Sandbox, STRIPE_VERSION};

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/_sandbox", get(info))
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/seed", post(seed))
        .route("/_sandbox/checkout/sessions/{id}/complete", post(complete_checkout))
        .route("/_sandbox/subscriptions/{id}/advance", post(advance_subscription))
        .route("/_sandbox/faults", post(add_fault).get(list_faults).delete(clear_faults))
        .route("/_sandbox/webhook_deliveries", get(list_deliveries))
        .route("/_sandbox/pages/checkout/{id}", get(checkout_page))
        .route("/_sandbox/pages/portal/{id}", get(portal_page))
}

type ControlReply = Result<Json<Value>, ApiError>;

/// Parses an optional JSON body (an empty body is `{}`).
fn body<T: for<'de> Deserialize<'de> + Default>(bytes: &Bytes) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))
}

async fn info(State(sb): State<Sandbox>) -> Json<Value> {
    let counts: serde_json::Map<String, Value> =
        sb.read(|st| Kind::ALL.into_iter().map(|k| (k.object_name().to_owned(), json!(st.table(k).len()))).collect());
    Json(json!({
        "object": "sandbox",
        "stripe_version": STRIPE_VERSION,
        "account": sb.config().account_id,
        "api_key": sb.config().example_key(),
        "counts": counts,
    }))
}

async fn reset(State(sb): State<Sandbox>) -> Json<Value> {
    sb.reset();
    Json(json!({ "object": "sandbox.reset", "reset": true }))
}

#[derive(Deserialize, Default)]
struct SeedBody {
    preset: Option<String>,
    size: Option<usize>,
    /// With `size`: also a payment history at the same scale ([`Sandbox::seed_history`]).
    #[serde(default)]
    history: bool,
}

async fn seed(State(sb): State<Sandbox>, bytes: Bytes) -> ControlReply {
    let req: SeedBody = body(&bytes)?;
    let started = std::time::Instant::now();
    match (req.preset.as_deref(), req.size) {
        (Some("demo"), None) => sb.seed_demo(),
        (None, Some(n)) if n <= 1_000_000 => {
            sb.seed_size(n);
            if req.history {
                sb.seed_history(n);
            }
        }
        _ => {
            return Err(ApiError::bad_request(
                "Pass either {\"preset\": \"demo\"} or {\"size\": N, \"history\": bool} (N ≤ 1000000).",
            ))
        }
    }
    Ok(Json(json!({ "object": "sandbox.seed", "elapsed_ms": started.elapsed().as_millis() as u64 })))
}

#[derive(Deserialize, Default)]
struct CompleteBody {
    /// `succeeded` (default), `declined`, `async_succeeded`, `async_failed`.
    outcome: Option<String>,
    /// `generic_decline` (default) or `insufficient_funds`, for `declined`.
    decline_code: Option<String>,
    email: Option<String>,
    name: Option<String>,
}

fn decline_code(code: Option<&str>) -> Result<&'static str, ApiError> {
    match code.unwrap_or("generic_decline") {
        "generic_decline" => Ok("generic_decline"),
        "insufficient_funds" => Ok("insufficient_funds"),
        other => Err(ApiError::invalid(
            "decline_code",
            format!("Unsupported decline_code `{other}`: use generic_decline or insufficient_funds."),
        )),
    }
}

async fn complete_checkout(State(sb): State<Sandbox>, Path(id): Path<String>, bytes: Bytes) -> ControlReply {
    let req: CompleteBody = body(&bytes)?;
    let outcome = match req.outcome.as_deref().unwrap_or("succeeded") {
        "succeeded" => CheckoutOutcome::Succeeded,
        "declined" => CheckoutOutcome::Declined(decline_code(req.decline_code.as_deref())?),
        "async_succeeded" => CheckoutOutcome::AsyncSucceeded,
        "async_failed" => CheckoutOutcome::AsyncFailed,
        other => {
            return Err(ApiError::invalid(
                "outcome",
                format!("Unknown outcome `{other}`: use succeeded, declined, async_succeeded or async_failed."),
            ))
        }
    };
    sb.write(|st| st.complete_checkout(&id, outcome, req.email.as_deref(), req.name.as_deref(), &Ctx::automatic()))
        .map(Json)
}

#[derive(Deserialize, Default)]
struct AdvanceBody {
    /// `succeeded` or `failed`; default: the customer's payment method decides.
    outcome: Option<String>,
    decline_code: Option<String>,
}

async fn advance_subscription(State(sb): State<Sandbox>, Path(id): Path<String>, bytes: Bytes) -> ControlReply {
    let req: AdvanceBody = body(&bytes)?;
    let outcome = match req.outcome.as_deref() {
        None => None,
        Some("succeeded") => Some(Outcome::Succeed),
        Some("failed") => Some(Outcome::Decline(decline_code(req.decline_code.as_deref())?)),
        Some(other) => {
            return Err(ApiError::invalid("outcome", format!("Unknown outcome `{other}`: use succeeded or failed.")))
        }
    };
    sb.write(|st| st.advance_subscription(&id, outcome, &Ctx::automatic())).map(Json)
}

/// An injected fault: the next `remaining` requests whose path starts with
/// `path_prefix` (and method matches, if given) get `status` and/or `delay_ms`.
///
/// With `every: n`, only every n-th matching request is hit (a deterministic failure rate:
/// `every: 5` fails 20% of the calls, the same ones in every run). With `after: true` the request
/// is processed first and only its answer is replaced: the reply lost on the way back, after which
/// a client that retries without its idempotency key would create the object twice.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub(crate) struct Fault {
    #[serde(default)]
    id: String,
    path_prefix: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default = "one", alias = "count")]
    remaining: u32,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    delay_ms: Option<u64>,
    #[serde(default = "one")]
    every: u32,
    #[serde(default)]
    after: bool,
    /// Matching requests seen so far (for `every`).
    #[serde(default)]
    seen: u32,
}

fn one() -> u32 {
    1
}

async fn add_fault(State(sb): State<Sandbox>, bytes: Bytes) -> ControlReply {
    let mut fault: Fault = body(&bytes)?;
    if !fault.path_prefix.starts_with('/') {
        return Err(ApiError::invalid("path_prefix", "path_prefix must start with '/'."));
    }
    if fault.path_prefix.starts_with("/_sandbox") {
        return Err(ApiError::invalid("path_prefix", "Faults cannot target /_sandbox routes."));
    }
    match fault.status {
        None if fault.delay_ms.unwrap_or(0) == 0 => {
            return Err(ApiError::bad_request(
                "A fault needs a `status` (429, 500, 502, 503, 504) and/or a `delay_ms`.",
            ))
        }
        Some(s) if ![429, 500, 502, 503, 504].contains(&s) => {
            return Err(ApiError::invalid("status", "status must be one of 429, 500, 502, 503, 504."))
        }
        _ => {}
    }
    if fault.remaining == 0 {
        return Err(ApiError::invalid("count", "count must be at least 1."));
    }
    if fault.every == 0 {
        return Err(ApiError::invalid("every", "every must be at least 1."));
    }
    fault.seen = 0;
    fault.id = new_id("fault");
    fault.method = fault.method.map(|m| m.to_uppercase());
    sb.inner.faults.lock().push(fault.clone());
    Ok(Json(serde_json::to_value(fault).unwrap_or_default()))
}

async fn list_faults(State(sb): State<Sandbox>) -> Json<Value> {
    let faults = sb.inner.faults.lock().clone();
    Json(json!({ "object": "list", "data": faults, "has_more": false, "url": "/_sandbox/faults" }))
}

async fn clear_faults(State(sb): State<Sandbox>) -> Json<Value> {
    sb.inner.faults.lock().clear();
    Json(json!({ "object": "list", "data": [], "has_more": false, "url": "/_sandbox/faults" }))
}

/// Applies injected faults to matching requests (never to `/_sandbox`).
pub(crate) async fn inject_faults(State(sb): State<Sandbox>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/_sandbox") {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_owned();
    let hit = {
        let mut faults = sb.inner.faults.lock();
        let found = faults.iter_mut().position(|f| {
            let matches =
                path.starts_with(&f.path_prefix) && f.method.as_deref().is_none_or(|m| m == method) && f.remaining > 0;
            if matches {
                f.seen += 1;
            }
            matches && f.seen % f.every == 0
        });
        found.map(|i| {
            faults[i].remaining -= 1;
            let fault = faults[i].clone();
            if faults[i].remaining == 0 {
                faults.remove(i);
            }
            fault
        })
    };
    let Some(fault) = hit else {
        return next.run(req).await;
    };
    sb.inner.faults_hit.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Some(ms) = fault.delay_ms.filter(|ms| *ms > 0) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let status = fault.status.and_then(|s| StatusCode::from_u16(s).ok());
    let refusal = |status: StatusCode| match status {
        StatusCode::TOO_MANY_REQUESTS => ApiError::rate_limited().into_response(),
        status => ApiError::server_error(status).into_response(),
    };
    if fault.after {
        // Processed (and committed) like any request; only the reply is lost.
        drop(next.run(req).await);
        return refusal(status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    }
    match status {
        Some(status) => refusal(status),
        None => next.run(req).await,
    }
}

#[derive(Deserialize)]
struct DeliveryQuery {
    event: Option<String>,
    webhook_endpoint: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
}

async fn list_deliveries(State(sb): State<Sandbox>, Query(q): Query<DeliveryQuery>) -> Json<Value> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let (data, total) = sb.read(|st| {
        let matching: Vec<&Value> = st
            .deliveries
            .values()
            .rev()
            .filter(|d| q.event.as_deref().is_none_or(|e| d["event"] == e))
            .filter(|d| q.webhook_endpoint.as_deref().is_none_or(|e| d["webhook_endpoint"] == e))
            .filter(|d| q.status.as_deref().is_none_or(|s| d["status"] == s))
            .collect();
        let total = matching.len();
        (matching.into_iter().take(limit).cloned().collect::<Vec<_>>(), total)
    });
    Json(json!({
        "object": "list",
        "data": data,
        "has_more": total > limit,
        "url": "/_sandbox/webhook_deliveries",
    }))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A bare-bones hosted checkout page: the buttons call the completion route
/// and then follow the session's `success_url`.
async fn checkout_page(State(sb): State<Sandbox>, Path(id): Path<String>) -> Response {
    let Some(session) = sb.get_object(&id).filter(|s| s["object"] == "checkout.session") else {
        return (StatusCode::NOT_FOUND, Html("<h1>Checkout session not found</h1>".to_owned())).into_response();
    };
    let lines = sb.read(|st| st.session_lines.get(&id).cloned().unwrap_or_default());
    let mut rows = String::new();
    for l in &lines {
        rows.push_str(&format!(
            "<li>{} × {} — {}</li>",
            l["quantity"],
            escape(l["description"].as_str().unwrap_or_default()),
            crate::resources::money(l["amount_total"].as_i64().unwrap_or(0), l["currency"].as_str().unwrap_or("usd"))
        ));
    }
    let success = session["success_url"].as_str().unwrap_or_default().replace("{CHECKOUT_SESSION_ID}", &id);
    let cancel = session["cancel_url"].as_str().unwrap_or_default().to_owned();
    let total = crate::resources::money(
        session["amount_total"].as_i64().unwrap_or(0),
        session["currency"].as_str().unwrap_or("usd"),
    );
    let html = format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Sandbox Checkout</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto}}button{{display:block;margin:.5rem 0;padding:.6rem 1rem;width:100%}}</style></head>
<body><h1>Sandbox Checkout</h1><p>Status: <b id="status">{status}</b> · mode {mode}</p><ul>{rows}</ul><p>Total: <b>{total}</b></p>
<button data-outcome="succeeded">Pay (card succeeds)</button>
<button data-outcome="declined">Pay (card declined)</button>
<button data-outcome="async_succeeded">Bank debit (succeeds later)</button>
<button data-outcome="async_failed">Bank debit (fails later)</button>
<p><a href="{cancel}">Cancel</a></p><pre id="out"></pre>
<script>
for (const b of document.querySelectorAll('button')) b.onclick = async () => {{
  const r = await fetch('/_sandbox/checkout/sessions/{id}/complete', {{method:'POST', headers:{{'content-type':'application/json'}}, body: JSON.stringify({{outcome: b.dataset.outcome}})}});
  const j = await r.json();
  if (r.ok && {has_success}) location.href = "{success}"; else document.getElementById('out').textContent = JSON.stringify(j, null, 2);
}};
</script></body></html>"#,
        status = escape(session["status"].as_str().unwrap_or_default()),
        mode = escape(session["mode"].as_str().unwrap_or_default()),
        cancel = escape(&cancel),
        success = escape(&success).replace('\\', "\\\\"),
        has_success = !success.is_empty(),
    );
    Html(html).into_response()
}

/// A bare-bones billing portal: lists the customer's subscriptions.
async fn portal_page(State(sb): State<Sandbox>, Path(id): Path<String>) -> Response {
    let Some(session) = sb.read(|st| st.get(Kind::PortalSession, &id).cloned()) else {
        return (StatusCode::NOT_FOUND, Html("<h1>Portal session not found</h1>".to_owned())).into_response();
    };
    let customer = session["customer"].as_str().unwrap_or_default().to_owned();
    let subs: Vec<Value> = sb.read(|st| {
        st.table(Kind::Subscription)
            .iter_newest()
            .filter(|s| s["customer"] == customer.as_str())
            .map(|s| st.render(Kind::Subscription, s))
            .collect()
    });
    let mut rows = String::new();
    for s in &subs {
        rows.push_str(&format!(
            "<li>{} — {}{}</li>",
            escape(s["id"].as_str().unwrap_or_default()),
            escape(s["status"].as_str().unwrap_or_default()),
            if s["cancel_at_period_end"] == true { " (cancels at period end)" } else { "" }
        ));
    }
    let back = escape(session["return_url"].as_str().unwrap_or_default());
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sandbox billing portal</title></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto\"><h1>Billing portal</h1>\
         <p>Customer {}</p><ul>{rows}</ul><p><a href=\"{back}\">Return</a></p></body></html>",
        escape(&customer)
    ))
    .into_response()
}
