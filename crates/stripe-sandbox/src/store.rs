//! In-memory storage: one [`Table`] per object type, plus the indexes and
//! bookkeeping the API needs.
//!
//! Objects are stored as the JSON documents Stripe returns (minus
//! embedded objects, which [`State::render`] resolves at read time so an
//! embedded price always shows its current state). That keeps the wire shape
//! the single source of truth and makes `expand[]`, list filters and
//! `previous_attributes` generic.

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::{json, Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::form::{Param, Params};
use crate::webhooks::DeliveryJob;
use crate::SandboxConfig;

/// Unix time in seconds.
pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A random alphanumeric string of `len` characters.
pub(crate) fn random_token(len: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

/// A new Stripe-looking id, e.g. `prod_Q2nF8xYk3LbV0a`.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_token(24))
}

/// The object types the sandbox stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Product,
    Price,
    Customer,
    PaymentMethod,
    Subscription,
    SubscriptionItem,
    Invoice,
    InvoicePayment,
    PaymentIntent,
    Charge,
    Refund,
    CheckoutSession,
    PortalSession,
    WebhookEndpoint,
    Event,
}

impl Kind {
    pub(crate) const ALL: [Kind; 15] = [
        Kind::Product,
        Kind::Price,
        Kind::Customer,
        Kind::PaymentMethod,
        Kind::Subscription,
        Kind::SubscriptionItem,
        Kind::Invoice,
        Kind::InvoicePayment,
        Kind::PaymentIntent,
        Kind::Charge,
        Kind::Refund,
        Kind::CheckoutSession,
        Kind::PortalSession,
        Kind::WebhookEndpoint,
        Kind::Event,
    ];

    /// Id prefix (without the underscore).
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Kind::Product => "prod",
            Kind::Price => "price",
            Kind::Customer => "cus",
            Kind::PaymentMethod => "pm",
            Kind::Subscription => "sub",
            Kind::SubscriptionItem => "si",
            Kind::Invoice => "in",
            Kind::InvoicePayment => "inpay",
            Kind::PaymentIntent => "pi",
            Kind::Charge => "ch",
            Kind::Refund => "re",
            Kind::CheckoutSession => "cs_test",
            Kind::PortalSession => "bps",
            Kind::WebhookEndpoint => "we",
            Kind::Event => "evt",
        }
    }

    /// The name Stripe uses in "No such …" messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::Product => "product",
            Kind::Price => "price",
            Kind::Customer => "customer",
            Kind::PaymentMethod => "PaymentMethod",
            Kind::Subscription => "subscription",
            Kind::SubscriptionItem => "subscription_item",
            Kind::Invoice => "invoice",
            Kind::InvoicePayment => "invoice_payment",
            Kind::PaymentIntent => "payment_intent",
            Kind::Charge => "charge",
            Kind::Refund => "refund",
            Kind::CheckoutSession => "checkout.session",
            Kind::PortalSession => "billing_portal.session",
            Kind::WebhookEndpoint => "webhook_endpoint",
            Kind::Event => "event",
        }
    }

    /// Stripe's `object` value for this kind.
    pub(crate) fn object_name(self) -> &'static str {
        match self {
            Kind::PaymentMethod => "payment_method",
            Kind::WebhookEndpoint => "webhook_endpoint",
            other => other.noun(),
        }
    }

    /// The kind an id belongs to, from its prefix.
    pub(crate) fn of_id(id: &str) -> Option<Kind> {
        if id.starts_with("cs_test_") {
            return Some(Kind::CheckoutSession);
        }
        let prefix = id.split_once('_')?.0;
        Kind::ALL.into_iter().find(|k| k.prefix() == prefix)
    }
}

/// One stored object type, ordered by insertion for newest-first listing.
#[derive(Default)]
pub(crate) struct Table {
    rows: HashMap<String, (u64, Value)>,
    /// Insertion sequence → id; iterated backwards for newest-first pages.
    order: BTreeMap<u64, String>,
}

/// Which way a page is read relative to its cursor.
pub(crate) enum Cursor {
    Start,
    /// Objects older than this sequence number.
    After(u64),
    /// Objects newer than this sequence number.
    Before(u64),
}

impl Table {
    pub(crate) fn insert(&mut self, seq: u64, value: Value) {
        let id = value["id"].as_str().expect("stored objects have an id").to_owned();
        if let Some((old_seq, _)) = self.rows.get(&id) {
            self.order.remove(old_seq);
        }
        self.order.insert(seq, id.clone());
        self.rows.insert(id, (seq, value));
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Value> {
        self.rows.get(id).map(|(_, v)| v)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.rows.get_mut(id).map(|(_, v)| v)
    }

    pub(crate) fn seq_of(&self, id: &str) -> Option<u64> {
        self.rows.get(id).map(|(s, _)| *s)
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<Value> {
        let (seq, v) = self.rows.remove(id)?;
        self.order.remove(&seq);
        Some(v)
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// All objects, newest first.
    pub(crate) fn iter_newest(&self) -> impl Iterator<Item = &Value> {
        self.order.values().rev().filter_map(|id| self.get(id))
    }

    /// One page of matching objects, newest first, and whether more exist in
    /// the direction of travel. Cost is proportional to the objects skipped
    /// by the filter plus `limit`, never to the cursor's position.
    pub(crate) fn page(&self, cursor: Cursor, limit: usize, filter: &dyn Fn(&Value) -> bool) -> (Vec<&Value>, bool) {
        let mut out = Vec::with_capacity(limit + 1);
        let mut take = |id: &String| {
            if let Some(v) = self.get(id) {
                if filter(v) {
                    out.push(v);
                }
            }
            out.len() > limit
        };
        match cursor {
            Cursor::Start => {
                for id in self.order.values().rev() {
                    if take(id) {
                        break;
                    }
                }
            }
            Cursor::After(seq) => {
                for id in self.order.range(..seq).map(|(_, id)| id).rev() {
                    if take(id) {
                        break;
                    }
                }
            }
            Cursor::Before(seq) => {
                for id in self.order.range(seq + 1..).map(|(_, id)| id) {
                    if take(id) {
                        break;
                    }
                }
            }
        }
        let has_more = out.len() > limit;
        out.truncate(limit);
        if let Cursor::Before(_) = cursor {
            out.reverse();
        }
        (out, has_more)
    }
}

/// Request context recorded on events (`request.id`, `request.idempotency_key`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Ctx {
    pub request_id: Option<String>,
    pub idempotency_key: Option<String>,
}

impl Ctx {
    /// Context of changes the sandbox makes on its own (no API request).
    pub(crate) fn automatic() -> Self {
        Self::default()
    }
}

/// The whole mutable state, guarded by one mutex in [`crate::Sandbox`].
pub(crate) struct State {
    pub config: SandboxConfig,
    tables: HashMap<Kind, Table>,
    seq: u64,
    /// lookup_key → price id.
    pub lookup_keys: HashMap<String, String>,
    /// subscription id → its item ids, in order.
    pub sub_items: HashMap<String, Vec<String>>,
    /// checkout session id → its line items (Stripe only shows them on request).
    pub session_lines: HashMap<String, Vec<Value>>,
    /// checkout session id → parameters Stripe keeps but does not show
    /// (`subscription_data`, `payment_intent_data`).
    pub session_private: HashMap<String, Value>,
    /// Webhook deliveries to hand to the dispatcher once the lock is released.
    pub outbox: Vec<DeliveryJob>,
    /// Webhook delivery records, by id, in creation order.
    pub deliveries: BTreeMap<u64, Value>,
    /// Invoice numbering per customer prefix.
    pub invoice_counters: HashMap<String, u64>,
}

impl State {
    pub(crate) fn new(config: SandboxConfig) -> Self {
        let mut tables = HashMap::new();
        for kind in Kind::ALL {
            tables.insert(kind, Table::default());
        }
        Self {
            config,
            tables,
            seq: 0,
            lookup_keys: HashMap::new(),
            sub_items: HashMap::new(),
            session_lines: HashMap::new(),
            session_private: HashMap::new(),
            outbox: Vec::new(),
            deliveries: BTreeMap::new(),
            invoice_counters: HashMap::new(),
        }
    }

    /// Drops every object (the configuration stays).
    pub(crate) fn clear(&mut self) {
        let config = self.config.clone();
        *self = State::new(config);
    }

    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub(crate) fn table(&self, kind: Kind) -> &Table {
        &self.tables[&kind]
    }

    pub(crate) fn table_mut(&mut self, kind: Kind) -> &mut Table {
        self.tables.get_mut(&kind).expect("every kind has a table")
    }

    pub(crate) fn insert(&mut self, kind: Kind, value: Value) {
        let seq = self.next_seq();
        self.table_mut(kind).insert(seq, value);
    }

    pub(crate) fn get(&self, kind: Kind, id: &str) -> Option<&Value> {
        self.table(kind).get(id)
    }

    /// The stored object, or 404 `resource_missing`.
    pub(crate) fn get_or_404(&self, kind: Kind, id: &str) -> ApiResult<&Value> {
        self.get(kind, id).ok_or_else(|| ApiError::not_found(kind.noun(), id))
    }

    /// The stored object referenced by parameter `param`, or 400 `resource_missing`.
    pub(crate) fn get_ref(&self, kind: Kind, id: &str, param: &str) -> ApiResult<&Value> {
        self.get(kind, id).ok_or_else(|| ApiError::missing_ref(kind.noun(), id, param))
    }

    pub(crate) fn get_mut(&mut self, kind: Kind, id: &str) -> Option<&mut Value> {
        self.table_mut(kind).get_mut(id)
    }

    /// Mutable access; 404 when missing.
    pub(crate) fn get_mut_or_404(&mut self, kind: Kind, id: &str) -> ApiResult<&mut Value> {
        self.table_mut(kind).get_mut(id).ok_or_else(|| ApiError::not_found(kind.noun(), id))
    }

    /// The object as the API shows it, with embedded objects resolved.
    pub(crate) fn render(&self, kind: Kind, value: &Value) -> Value {
        match kind {
            Kind::Subscription => {
                let mut v = value.clone();
                let id = value["id"].as_str().unwrap_or_default();
                let items: Vec<Value> = self
                    .sub_items
                    .get(id)
                    .map(|ids| {
                        ids.iter()
                            .filter_map(|si| self.get(Kind::SubscriptionItem, si))
                            .map(|si| self.render(Kind::SubscriptionItem, si))
                            .collect()
                    })
                    .unwrap_or_default();
                v["items"] = json!({
                    "object": "list",
                    "data": items,
                    "has_more": false,
                    "total_count": items.len(),
                    "url": format!("/v1/subscription_items?subscription={id}"),
                });
                v
            }
            Kind::SubscriptionItem => {
                let mut v = value.clone();
                if let Some(price) = value["price"].as_str().and_then(|p| self.get(Kind::Price, p)) {
                    v["price"] = price.clone();
                }
                v
            }
            Kind::WebhookEndpoint => {
                // The signing secret is only shown once, at creation.
                let mut v = value.clone();
                if let Some(obj) = v.as_object_mut() {
                    obj.remove("secret");
                }
                v
            }
            _ => value.clone(),
        }
    }

    /// Rendered object by id.
    pub(crate) fn rendered(&self, kind: Kind, id: &str) -> ApiResult {
        let v = self.get_or_404(kind, id)?;
        Ok(self.render(kind, v))
    }

    /// Applies the request's `expand[]` paths to a response object or list.
    pub(crate) fn expand(&self, mut value: Value, params: &Params) -> ApiResult {
        for path in params.strs("expand") {
            let segments: Vec<&str> = path.split('.').collect();
            // Stripe allows four levels of expansion; `data` only walks into a list.
            if segments.iter().filter(|s| **s != "data").count() > 4 {
                return Err(ApiError::invalid(
                    "expand",
                    format!("You cannot expand more than 4 levels of a property. Property: {path}"),
                ));
            }
            self.expand_path(&mut value, &segments, &path)?;
        }
        Ok(value)
    }

    fn expand_path(&self, value: &mut Value, segments: &[&str], full: &str) -> ApiResult<()> {
        let Some((field, rest)) = segments.split_first() else {
            return Ok(());
        };
        if let Value::Array(items) = value {
            for item in items {
                self.expand_path(item, segments, full)?;
            }
            return Ok(());
        }
        let cannot = || ApiError::invalid("expand", format!("This property cannot be expanded ({full})."));
        let Value::Object(obj) = value else {
            return Err(cannot());
        };
        // Properties Stripe only includes on request.
        if !obj.contains_key(*field) {
            let virtual_value = match (obj.get("object").and_then(Value::as_str), *field) {
                (Some("checkout.session"), "line_items") => {
                    let id = obj["id"].as_str().unwrap_or_default();
                    let data = self.session_lines.get(id).cloned().unwrap_or_default();
                    Some(json!({
                        "object": "list", "data": data, "has_more": false,
                        "url": format!("/v1/checkout/sessions/{id}/line_items"),
                    }))
                }
                (Some("invoice"), "payments") => {
                    let id = obj["id"].as_str().unwrap_or_default();
                    let data: Vec<Value> = self
                        .table(Kind::InvoicePayment)
                        .iter_newest()
                        .filter(|p| p["invoice"] == id)
                        .cloned()
                        .collect();
                    Some(json!({
                        "object": "list", "data": data, "has_more": false,
                        "url": format!("/v1/invoice_payments?invoice={id}"),
                    }))
                }
                (Some("charge"), "refunds") => {
                    let id = obj["id"].as_str().unwrap_or_default();
                    let data: Vec<Value> =
                        self.table(Kind::Refund).iter_newest().filter(|r| r["charge"] == id).cloned().collect();
                    Some(json!({
                        "object": "list", "data": data, "has_more": false,
                        "url": format!("/v1/charges/{id}/refunds"),
                    }))
                }
                _ => None,
            };
            match virtual_value {
                Some(v) => {
                    obj.insert((*field).to_owned(), v);
                }
                None => return Err(cannot()),
            }
        }
        let target = obj.get_mut(*field).ok_or_else(cannot)?;
        if let Value::String(id) = target {
            let kind = Kind::of_id(id).ok_or_else(cannot)?;
            // A dangling reference stays a string, as Stripe does for deleted objects.
            if let Some(found) = self.get(kind, id) {
                *target = self.render(kind, found);
            }
        } else if target.is_null() {
            return Ok(());
        } else if rest.is_empty() && !target.is_object() {
            return Err(cannot());
        }
        if !rest.is_empty() {
            self.expand_path(target, rest, full)?;
        }
        Ok(())
    }

    /// Builds a list response (`{object: "list", data, has_more, url}`) from
    /// `kind`'s table with Stripe's pagination parameters and the generic
    /// `created` filter; `filter` applies the endpoint's own filters.
    pub(crate) fn list(&self, kind: Kind, params: &Params, url: &str, filter: &dyn Fn(&Value) -> bool) -> ApiResult {
        let limit = match params.int("limit")? {
            None => 10,
            Some(n) if n < 1 => {
                return Err(ApiError::invalid("limit", "This value must be greater than or equal to 1."))
            }
            Some(n) if n > 100 => {
                return Err(ApiError::invalid("limit", "This value must be less than or equal to 100."))
            }
            Some(n) => n as usize,
        };
        let table = self.table(kind);
        let cursor = match (params.opt_str("starting_after"), params.opt_str("ending_before")) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request(
                    "You may only specify one of these parameters: ending_before, starting_after.",
                ))
            }
            (Some(id), None) => Cursor::After(
                table.seq_of(id).ok_or_else(|| ApiError::not_found(kind.noun(), id).param("starting_after"))?,
            ),
            (None, Some(id)) => Cursor::Before(
                table.seq_of(id).ok_or_else(|| ApiError::not_found(kind.noun(), id).param("ending_before"))?,
            ),
            (None, None) => Cursor::Start,
        };
        let created = RangeFilter::parse(params, "created")?;
        let full_filter = |v: &Value| created.matches(v["created"].as_i64()) && filter(v);
        let (rows, has_more) = table.page(cursor, limit, &full_filter);
        let data: Vec<Value> = rows.into_iter().map(|v| self.render(kind, v)).collect();
        self.expand(json!({ "object": "list", "data": data, "has_more": has_more, "url": url }), params)
    }

    /// Records a webhook delivery record.
    pub(crate) fn push_delivery(&mut self, record: Value) {
        let seq = self.next_seq();
        self.deliveries.insert(seq, record);
    }
}

/// `created[gte]=…`-style range filters (or an exact `created=…`).
#[derive(Default)]
pub(crate) struct RangeFilter {
    gt: Option<i64>,
    gte: Option<i64>,
    lt: Option<i64>,
    lte: Option<i64>,
}

impl RangeFilter {
    pub(crate) fn parse(params: &Params, key: &str) -> ApiResult<Self> {
        match params.get(key) {
            None => Ok(Self::default()),
            Some(Param::Str(_)) => {
                let exact = params.int(key)?;
                Ok(Self { gte: exact, lte: exact, ..Self::default() })
            }
            Some(Param::Map(m)) => {
                m.check_known(&["gt", "gte", "lt", "lte"], key)?;
                let name = |op: &str| format!("{key}[{op}]");
                Ok(Self {
                    gt: m.int_named("gt", &name("gt"))?,
                    gte: m.int_named("gte", &name("gte"))?,
                    lt: m.int_named("lt", &name("lt"))?,
                    lte: m.int_named("lte", &name("lte"))?,
                })
            }
        }
    }

    pub(crate) fn matches(&self, v: Option<i64>) -> bool {
        let Some(v) = v else {
            return self.gt.is_none() && self.gte.is_none() && self.lt.is_none() && self.lte.is_none();
        };
        self.gt.is_none_or(|b| v > b)
            && self.gte.is_none_or(|b| v >= b)
            && self.lt.is_none_or(|b| v < b)
            && self.lte.is_none_or(|b| v <= b)
    }
}

/// Stripe's metadata rules: `metadata[k]=` deletes `k`, `metadata=` clears
/// everything, at most 50 keys of ≤ 40 characters with values ≤ 500.
pub(crate) fn apply_metadata(target: &mut Value, param: Option<&Param>) -> ApiResult<()> {
    if !target.is_object() {
        *target = json!({});
    }
    let Some(param) = param else {
        return Ok(());
    };
    let map = target.as_object_mut().expect("metadata is an object");
    match param {
        Param::Str(s) if s.is_empty() => map.clear(),
        Param::Str(_) => {
            return Err(ApiError::invalid(
                "metadata",
                "Invalid object: metadata must be a hash of key-value pairs, or an empty string to unset all keys.",
            ))
        }
        Param::Map(m) => {
            for (k, v) in m.iter() {
                match v {
                    Param::Str(s) if s.is_empty() => {
                        map.remove(k);
                    }
                    Param::Str(s) => {
                        if k.chars().count() > 40 {
                            return Err(ApiError::invalid(
                                &format!("metadata[{k}]"),
                                "Metadata keys can have a maximum length of 40 characters.",
                            ));
                        }
                        if s.chars().count() > 500 {
                            return Err(ApiError::invalid(
                                &format!("metadata[{k}]"),
                                "Metadata values can have a maximum length of 500 characters.",
                            ));
                        }
                        map.insert(k.to_owned(), json!(s));
                    }
                    Param::Map(_) => {
                        return Err(ApiError::invalid(&format!("metadata[{k}]"), "Invalid string: a hash"));
                    }
                }
            }
            if map.len() > 50 {
                return Err(ApiError::invalid("metadata", "You can specify up to 50 keys in metadata."));
            }
        }
    }
    Ok(())
}

/// A fresh metadata object built from the request.
pub(crate) fn metadata_from(params: &Params) -> ApiResult {
    let mut m = json!({});
    apply_metadata(&mut m, params.get("metadata"))?;
    Ok(m)
}

/// Top-level fields whose value differs between `before` and `after`, with
/// their old values; nested hashes are diffed recursively (keys that did not
/// exist before show as `null`), like Stripe's `previous_attributes`.
pub(crate) fn previous_attributes(before: &Value, after: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else {
        return out;
    };
    for (k, old) in b {
        if k == "updated" {
            continue;
        }
        let new = a.get(k).unwrap_or(&Value::Null);
        if old == new {
            continue;
        }
        match (old, new) {
            (Value::Object(o), Value::Object(n)) if o.get("object").is_none() => {
                let mut nested = previous_attributes(old, new);
                for key in n.keys() {
                    if !o.contains_key(key) {
                        nested.insert(key.clone(), Value::Null);
                    }
                }
                out.insert(k.clone(), Value::Object(nested));
            }
            _ => {
                out.insert(k.clone(), old.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::parse;

    fn table_with(n: u64) -> Table {
        let mut t = Table::default();
        for i in 1..=n {
            t.insert(i, json!({ "id": format!("obj_{i}"), "n": i }));
        }
        t
    }

    fn ids(rows: &[&Value]) -> Vec<u64> {
        rows.iter().map(|v| v["n"].as_u64().unwrap()).collect()
    }

    #[test]
    fn pages_newest_first_in_both_directions() {
        let t = table_with(5);
        let all = |_: &Value| true;
        let (rows, more) = t.page(Cursor::Start, 2, &all);
        assert_eq!((ids(&rows), more), (vec![5, 4], true));
        let (rows, more) = t.page(Cursor::After(4), 2, &all);
        assert_eq!((ids(&rows), more), (vec![3, 2], true));
        let (rows, more) = t.page(Cursor::After(2), 2, &all);
        assert_eq!((ids(&rows), more), (vec![1], false));
        let (rows, more) = t.page(Cursor::Before(1), 2, &all);
        assert_eq!((ids(&rows), more), (vec![3, 2], true));
        let (rows, more) = t.page(Cursor::Before(3), 2, &all);
        assert_eq!((ids(&rows), more), (vec![5, 4], false));
    }

    #[test]
    fn pages_apply_filters() {
        let t = table_with(10);
        let even = |v: &Value| v["n"].as_u64().unwrap().is_multiple_of(2);
        let (rows, more) = t.page(Cursor::Start, 3, &even);
        assert_eq!((ids(&rows), more), (vec![10, 8, 6], true));
    }

    #[test]
    fn metadata_semantics() {
        let mut m = json!({});
        apply_metadata(&mut m, parse("metadata[a]=1&metadata[b]=2").get("metadata")).unwrap();
        assert_eq!(m, json!({"a": "1", "b": "2"}));
        apply_metadata(&mut m, parse("metadata[a]=&metadata[c]=3").get("metadata")).unwrap();
        assert_eq!(m, json!({"b": "2", "c": "3"}));
        apply_metadata(&mut m, parse("metadata=").get("metadata")).unwrap();
        assert_eq!(m, json!({}));
        let long = "k".repeat(41);
        assert!(apply_metadata(&mut m, parse(&format!("metadata[{long}]=v")).get("metadata")).is_err());
    }

    #[test]
    fn previous_attributes_diffs_nested_hashes() {
        let before = json!({"active": true, "name": "a", "metadata": {"x": "1", "y": "2"}, "updated": 1});
        let after = json!({"active": false, "name": "a", "metadata": {"y": "3", "z": "4"}, "updated": 2});
        let prev = previous_attributes(&before, &after);
        assert_eq!(Value::Object(prev), json!({"active": true, "metadata": {"x": "1", "y": "2", "z": null}}));
    }

    #[test]
    fn range_filter() {
        let p = parse("created[gte]=10&created[lt]=20");
        let f = RangeFilter::parse(&p, "created").unwrap();
        assert!(f.matches(Some(10)) && f.matches(Some(19)));
        assert!(!f.matches(Some(9)) && !f.matches(Some(20)));
        let exact = RangeFilter::parse(&parse("created=5"), "created").unwrap();
        assert!(exact.matches(Some(5)) && !exact.matches(Some(6)));
    }

    #[test]
    fn kinds_from_ids() {
        assert_eq!(Kind::of_id("prod_abc"), Some(Kind::Product));
        assert_eq!(Kind::of_id("cs_test_abc"), Some(Kind::CheckoutSession));
        assert_eq!(Kind::of_id("inpay_abc"), Some(Kind::InvoicePayment));
        assert_eq!(Kind::of_id("zzz_abc"), None);
    }
}
