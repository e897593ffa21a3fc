//! Events: retrieve and list (by `type`, `types[]`, `created`).

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use super::respond;
use crate::error::ApiError;
use crate::http::{ApiRequest, Reply};
use crate::store::Kind;
use crate::Sandbox;

pub(super) fn routes() -> Router<Sandbox> {
    Router::new().route("/v1/events", get(list)).route("/v1/events/{id}", get(retrieve))
}

async fn retrieve(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&[], "")?;
        st.rendered(Kind::Event, &id)
    })
}

/// `customer.*` matches every event type starting with `customer.`.
fn type_matches(pattern: &str, event_type: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => event_type.starts_with(prefix),
        None => pattern == event_type,
    }
}

async fn list(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(
            &["created", "delivery_success", "ending_before", "limit", "starting_after", "type", "types"],
            "",
        )?;
        let single = p.opt_str("type").map(str::to_owned);
        let types = p.strs("types");
        if single.is_some() && !types.is_empty() {
            return Err(ApiError::bad_request("You may only specify one of these parameters: type, types."));
        }
        let delivery_success = p.bool("delivery_success")?;
        st.list(Kind::Event, p, "/v1/events", &|v: &Value| {
            let t = v["type"].as_str().unwrap_or_default();
            single.as_deref().is_none_or(|s| type_matches(s, t))
                && (types.is_empty() || types.iter().any(|s| type_matches(s, t)))
                && delivery_success.is_none_or(|ok| (v["pending_webhooks"] == 0) == ok)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::type_matches;

    #[test]
    fn wildcard_types() {
        assert!(type_matches("customer.*", "customer.subscription.created"));
        assert!(type_matches("invoice.paid", "invoice.paid"));
        assert!(!type_matches("invoice.paid", "invoice.payment_failed"));
    }
}
