//! Webhook endpoints: the signing secret is returned once, on creation.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use super::{deleted, respond};
use crate::error::{ApiError, ApiResult};
use crate::form::Params;
use crate::http::{ApiRequest, Reply};
use crate::store::{apply_metadata, metadata_from, new_id, now, random_token, Kind, State as Db};
use crate::Sandbox;

pub(super) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/v1/webhook_endpoints", post(create).get(list))
        .route("/v1/webhook_endpoints/{id}", get(retrieve).post(update).delete(remove))
}

/// `url` must be an absolute http(s) URL.
fn check_url(url: &str) -> ApiResult<()> {
    let ok = (url.starts_with("https://") || url.starts_with("http://")) && url.len() > "http://".len() + 1;
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid("url", "Invalid URL: URL must be publicly accessible and use http or https."))
    }
}

/// `enabled_events[]`: `*` or dotted event names.
fn enabled_events(p: &Params) -> ApiResult<Vec<String>> {
    let events = p.strs("enabled_events");
    for (i, e) in events.iter().enumerate() {
        let valid = e == "*"
            || (e.contains('.') && e.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_' || c == '*'));
        if !valid {
            return Err(ApiError::invalid(
                &format!("enabled_events[{i}]"),
                format!("Invalid enabled_events[{i}]: {e} is not a valid event type."),
            ));
        }
    }
    Ok(events)
}

async fn create(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st: &mut Db, p, _| {
        p.check_known(&["api_version", "connect", "description", "enabled_events", "metadata", "url"], "")?;
        let url = p.req_str("url")?;
        check_url(url)?;
        let events = enabled_events(p)?;
        if events.is_empty() {
            return Err(ApiError::missing_param("enabled_events"));
        }
        let id = new_id("we");
        let endpoint = json!({
            "id": id,
            "object": "webhook_endpoint",
            "api_version": p.opt_str("api_version"),
            "application": null,
            "created": now(),
            "description": p.opt_str("description"),
            "enabled_events": events,
            "livemode": false,
            "metadata": metadata_from(p)?,
            "secret": format!("whsec_{}", random_token(32)),
            "status": "enabled",
            "url": url,
        });
        st.insert(Kind::WebhookEndpoint, endpoint.clone());
        Ok(endpoint)
    })
}

async fn retrieve(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&[], "")?;
        st.rendered(Kind::WebhookEndpoint, &id)
    })
}

async fn update(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&["description", "disabled", "enabled_events", "metadata", "url"], "")?;
        if let Some(url) = p.str("url") {
            check_url(url)?;
        }
        let events = enabled_events(p)?;
        if p.has("enabled_events") && events.is_empty() {
            return Err(ApiError::invalid("enabled_events", "enabled_events must contain at least one event type."));
        }
        let disabled = p.bool("disabled")?;
        let endpoint = st.get_mut_or_404(Kind::WebhookEndpoint, &id)?;
        if let Some(url) = p.opt_str("url") {
            endpoint["url"] = json!(url);
        }
        if !events.is_empty() {
            endpoint["enabled_events"] = json!(events);
        }
        if let Some(d) = disabled {
            endpoint["status"] = json!(if d { "disabled" } else { "enabled" });
        }
        if let Some(d) = p.str("description") {
            endpoint["description"] = if d.is_empty() { Value::Null } else { json!(d) };
        }
        apply_metadata(&mut endpoint["metadata"], p.get("metadata"))?;
        st.rendered(Kind::WebhookEndpoint, &id)
    })
}

async fn remove(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&[], "")?;
        st.table_mut(Kind::WebhookEndpoint).remove(&id).ok_or_else(|| ApiError::not_found("webhook_endpoint", &id))?;
        Ok(deleted(&id, "webhook_endpoint"))
    })
}

async fn list(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&["ending_before", "limit", "starting_after"], "")?;
        st.list(Kind::WebhookEndpoint, p, "/v1/webhook_endpoints", &|_| true)
    })
}
