//! `GET /v1/account`.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use super::respond;
use crate::http::{ApiRequest, Reply};
use crate::Sandbox;

pub(super) fn routes() -> Router<Sandbox> {
    Router::new().route("/v1/account", get(retrieve))
}

async fn retrieve(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&[], "")?;
        let cfg = &st.config;
        Ok(json!({
            "id": cfg.account_id,
            "object": "account",
            "business_profile": {
                "mcc": null, "name": cfg.account_name, "support_email": null,
                "support_phone": null, "support_url": null, "url": null,
            },
            "business_type": "company",
            "capabilities": { "card_payments": "active", "transfers": "active" },
            "charges_enabled": true,
            "country": "US",
            "created": 1_700_000_000,
            "default_currency": "usd",
            "details_submitted": true,
            "email": "sandbox@example.com",
            "metadata": {},
            "payouts_enabled": true,
            "settings": {
                "dashboard": { "display_name": cfg.account_name, "timezone": "Etc/UTC" },
                "payments": { "statement_descriptor": "SANDBOX" },
            },
            "type": "standard",
        }))
    })
}
