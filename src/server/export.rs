//! `GET /export/{env}/payment-history.csv`: the payment history view as CSV, with the same
//! filters as the page (`subjectType`, `subjectId`, `type`, `status`, `customer`, `from`, `to`).
//!
//! Any signed-in user may download it (support staff read payments too); the session is the one
//! the session middleware attached to the request. The backend is read page by page with its
//! keyset cursor (100 rows a page) and streamed as it is read, to the view's last row: each page
//! is a seek from the previous page's cursor, so the time is linear in the rows and the memory
//! one page (issue #10; `scripts/bench.sh --only export` measures it at 1M rows). Cells are
//! neutralised against spreadsheet formula injection.

use super::sessions::Session;
use super::state::AppState;
use crate::environment::Environment;
use crate::error::AppError;
use crate::model::format::currency_exponent;
use crate::model::history::HistoryFilters;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::StreamExt;
use http::{header, StatusCode};
use payments_model::{Paging, PaymentHistory};

/// Rows per backend page.
const PAGE: u32 = 100;

/// The columns, in order.
pub const HEADER: [&str; 20] = [
    "date",
    "type",
    "status",
    "amount",
    "amount_refunded",
    "currency",
    "customer_id",
    "customer_email",
    "subject_type",
    "subject_id",
    "description",
    "subscription_id",
    "invoice_id",
    "payment_intent_id",
    "charge_id",
    "refund_id",
    "checkout_session_id",
    "paid_at",
    "failed_at",
    "refunded_at",
];

/// A cell as CSV: a value a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
/// `@`, tab or carriage return) gets a leading `'`; then quoted when it needs to be.
pub fn cell(value: &str) -> String {
    let neutral =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// An amount in minor units as a decimal number of the currency (`2900`, `usd` → `29.00`).
fn decimal(amount: Option<i64>, currency: Option<&str>) -> String {
    let Some(amount) = amount else { return String::new() };
    let exp = currency.map_or(2, currency_exponent);
    if exp == 0 {
        return amount.to_string();
    }
    let unit = 10i64.pow(exp);
    let sign = if amount < 0 { "-" } else { "" };
    format!("{sign}{}.{:0width$}", amount.abs() / unit, amount.abs() % unit, width = exp as usize)
}

/// One CSV line (with its `\r\n`).
pub fn line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut out = cells.iter().map(|c| cell(c.as_ref())).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

/// One history row as a CSV line.
pub fn row_line(p: &PaymentHistory) -> String {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let date = p.stripe_created_at.clone().unwrap_or_else(|| p.created_at.clone());
    line(&[
        date,
        p.kind.to_string(),
        p.status.to_string(),
        decimal(p.amount, p.currency.as_deref()),
        decimal(p.amount_refunded, p.currency.as_deref()),
        o(&p.currency),
        o(&p.stripe_customer_id),
        o(&p.customer_email_snapshot),
        o(&p.subject_type),
        o(&p.subject_id),
        o(&p.description),
        o(&p.stripe_subscription_id),
        o(&p.stripe_invoice_id),
        o(&p.stripe_payment_intent_id),
        o(&p.stripe_charge_id),
        o(&p.stripe_refund_id),
        o(&p.stripe_checkout_session_id),
        o(&p.paid_at),
        o(&p.failed_at),
        o(&p.refunded_at),
    ])
}

fn refuse(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CACHE_CONTROL, "no-store")], error.to_string()).into_response()
}

/// The download. 401 without a session, 404 for an unknown environment, the backend's refusal
/// (e.g. 400 for a bad date, 501 when a remote backend cannot filter) before any row is sent.
pub async fn payment_history_csv(
    State(state): State<AppState>,
    Path(env): Path<String>,
    session: Option<Extension<Session>>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(Extension(session)) = session else { return refuse(AppError::Unauthenticated) };
    let Some(env) = Environment::parse(&env) else { return refuse(AppError::NotFound) };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let filters = HistoryFilters::from_lookup(|k| pairs.iter().rev().find(|(key, _)| key == k).map(|(_, v)| v.clone()));
    let user = session.user;
    let backend = state.backend.clone();

    // The first page is read before answering, so a refusal gets its status code; the rest is
    // streamed page by page, so a large export never sits in memory.
    let first = match filters.list_query(PAGE, Paging::First) {
        Ok(q) => q,
        Err(e) => return refuse(e),
    };
    let page = match backend.payment_history(&user, env, &first).await {
        Ok(page) => page,
        Err(e) => return refuse(e.into()),
    };
    let mut head = line(&HEADER);
    for p in &page.items {
        head.push_str(&row_line(p));
    }
    let next = page.next_cursor;
    // No cap on the pages: an export that stopped at a row limit would pass for the whole view.
    let rest = futures_util::stream::unfold(next, move |cursor| {
        let (backend, user, filters) = (backend.clone(), user.clone(), filters.clone());
        async move {
            let cursor = cursor?;
            let page = match filters.list_query(PAGE, Paging::After(cursor)) {
                Ok(q) => backend.payment_history(&user, env, &q).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match page {
                Ok(page) => {
                    let chunk: String = page.items.iter().map(row_line).collect();
                    let next = page.next_cursor;
                    Some((Ok::<_, std::io::Error>(chunk), next))
                }
                Err(e) => {
                    // Aborting the transfer: a partial file must not pass for a whole one.
                    tracing::error!(error = %e, "payment history export failed part-way");
                    Some((Err(std::io::Error::other("export failed part-way")), None))
                }
            }
        }
    });
    // Fused: the body may be polled again after its end, which a bare unfold forbids.
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(rest).fuse();
    let filename = format!("attachment; filename=\"payment-history-{env}.csv\"");
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, filename),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn amounts_are_decimal() {
        assert_eq!(decimal(Some(2900), Some("usd")), "29.00");
        assert_eq!(decimal(Some(1200), Some("jpy")), "1200");
        assert_eq!(decimal(Some(5), Some("kwd")), "0.005");
        assert_eq!(decimal(None, Some("usd")), "");
    }
}
