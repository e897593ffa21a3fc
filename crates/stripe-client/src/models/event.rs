use serde::{Deserialize, Serialize};

use super::{Extra, Metadata};

/// A webhook endpoint. `secret` is only present in the create response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// `we_…`.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// Event types sent (`*` = all).
    #[serde(default)]
    pub enabled_events: Vec<String>,
    /// `enabled` or `disabled`.
    #[serde(default)]
    pub status: Option<String>,
    /// The signing secret (`whsec_…`): only when just created.
    #[serde(default)]
    pub secret: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// API version of the events sent (null = the account's).
    #[serde(default)]
    pub api_version: Option<String>,
    /// Unix time of creation.
    #[serde(default)]
    pub created: Option<i64>,
    /// Set of key-value pairs.
    #[serde(default)]
    pub metadata: Metadata,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The request that caused an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRequest {
    /// `req_…`, null for automatic events.
    #[serde(default)]
    pub id: Option<String>,
    /// The idempotency key of that request.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// `event.data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventData {
    /// The object after the change, as JSON (its type depends on the event type).
    pub object: serde_json::Value,
    /// The changed fields' previous values, on `*.updated` events.
    #[serde(default)]
    pub previous_attributes: Option<serde_json::Value>,
}

/// An event (as listed, retrieved or delivered to a webhook).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `evt_…`.
    pub id: String,
    /// `customer.subscription.updated`…
    #[serde(rename = "type")]
    pub event_type: String,
    /// Unix time of creation.
    pub created: i64,
    /// The object.
    pub data: EventData,
    /// API version the object is rendered in.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Deliveries still pending.
    #[serde(default)]
    pub pending_webhooks: Option<i64>,
    /// The request that caused it.
    #[serde(default)]
    pub request: Option<EventRequest>,
    /// Live or test mode.
    #[serde(default)]
    pub livemode: bool,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Event {
    /// Decodes `data.object` into a model, e.g. `event.object::<Subscription>()`.
    pub fn object<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.data.object)
    }
}
