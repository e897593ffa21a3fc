//! Event recording: every state change stores the `event` Stripe would emit
//! and queues its webhook deliveries.

use serde_json::{json, Map, Value};

use crate::store::{new_id, now, previous_attributes, Ctx, Kind, State};
use crate::webhooks::DeliveryJob;
use crate::STRIPE_VERSION;

impl State {
    /// Records `event_type` with a snapshot of `object` (already rendered).
    pub(crate) fn emit(&mut self, event_type: &str, object: Value, previous: Option<Map<String, Value>>, ctx: &Ctx) {
        let endpoints: Vec<(String, String, String)> = self
            .table(Kind::WebhookEndpoint)
            .iter_newest()
            .filter(|ep| ep["status"] == "enabled" && endpoint_wants(ep, event_type))
            .map(|ep| {
                (
                    ep["id"].as_str().unwrap_or_default().to_owned(),
                    ep["url"].as_str().unwrap_or_default().to_owned(),
                    ep["secret"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let mut data = json!({ "object": object });
        if let Some(prev) = previous {
            data["previous_attributes"] = Value::Object(prev);
        }
        let id = new_id("evt");
        let created = now();
        let event = json!({
            "id": id,
            "object": "event",
            "api_version": STRIPE_VERSION,
            "created": created,
            "data": data,
            "livemode": false,
            "pending_webhooks": endpoints.len(),
            "request": { "id": ctx.request_id, "idempotency_key": ctx.idempotency_key },
            "type": event_type,
        });
        let payload = serde_json::to_string_pretty(&event).unwrap_or_default();
        self.insert(Kind::Event, event);
        for (endpoint_id, url, secret) in endpoints {
            let delivery_id = new_id("whdel");
            self.push_delivery(json!({
                "id": delivery_id,
                "object": "sandbox.webhook_delivery",
                "created": created,
                "event": id,
                "event_type": event_type,
                "webhook_endpoint": endpoint_id,
                "url": url,
                "status": "pending",
                "attempts": [],
            }));
            self.outbox.push(DeliveryJob { delivery_id, event_id: id.clone(), url, secret, payload: payload.clone() });
        }
    }

    /// Emits `<noun>.created` with the rendered object.
    pub(crate) fn emit_created(&mut self, kind: Kind, id: &str, event_type: &str, ctx: &Ctx) {
        if let Some(obj) = self.get(kind, id).map(|v| self.render(kind, v)) {
            self.emit(event_type, obj, None, ctx);
        }
    }

    /// Emits an update event when the rendered object changed since `before`.
    pub(crate) fn emit_updated(&mut self, kind: Kind, id: &str, before: &Value, event_type: &str, ctx: &Ctx) {
        let Some(after) = self.get(kind, id).map(|v| self.render(kind, v)) else {
            return;
        };
        let prev = previous_attributes(before, &after);
        if !prev.is_empty() {
            self.emit(event_type, after, Some(prev), ctx);
        }
    }

    /// Rendered snapshot used as `before` for [`State::emit_updated`].
    pub(crate) fn snapshot(&self, kind: Kind, id: &str) -> Value {
        self.get(kind, id).map(|v| self.render(kind, v)).unwrap_or(Value::Null)
    }
}

/// Whether an endpoint subscribed to `event_type` (`*` means everything).
pub(crate) fn endpoint_wants(endpoint: &Value, event_type: &str) -> bool {
    endpoint["enabled_events"].as_array().is_some_and(|evs| evs.iter().any(|e| e == "*" || e == event_type))
}
