//! Request validation with the reference's zod v3 semantics and messages (§1.4).
//!
//! Section numbers (§) in this file are those of `contract/BEHAVIOUR.md`.
//!
//! Issues are collected like zod does — each field in schema order, then the object's
//! unrecognised keys, then object-level refinements (only when every field parsed) — and
//! rendered as `path.join('.') + ': ' + message`, joined with `", "`, in a 400 `INVALID_INPUT`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::checkout::{BillingSubject, CheckoutLineItem, CheckoutRequest, PortalRequest};
use crate::environment::Environment;
use crate::error::EngineError;
use crate::lists::ListOptions;
use crate::model::{CreatePrice, CreateProduct, Metadata, Recurring, UpdatePrice, UpdateProduct};
use payments_model::{CheckoutMode, CreateRefund, Paging, QueryFilters, RefundReason, TaxBehavior};

/// Collected validation issues.
#[derive(Debug, Default)]
pub(crate) struct Issues(Vec<(String, String)>);

impl Issues {
    fn push(&mut self, path: &str, message: impl Into<String>) {
        self.0.push((path.to_owned(), message.into()));
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// `Ok(value)` when no issue was found, else the 400 error.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, EngineError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            let message = self.0.iter().map(|(p, m)| format!("{p}: {m}")).collect::<Vec<_>>().join(", ");
            Err(EngineError::InvalidInput(message))
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// zod's name for a JSON value's type.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Presence rules of a field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Presence {
    Required,
    Optional,
    /// Optional and may be `null`.
    Nullable,
}

/// A field's value: absent, explicitly null, or present.
enum Field<'a> {
    Absent,
    Null,
    Present(&'a Value),
}

fn field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
    presence: Presence,
    issues: &mut Issues,
) -> Option<Field<'a>> {
    match obj.get(key) {
        None => {
            if presence == Presence::Required {
                issues.push(&join(path, key), "Required");
                return None;
            }
            Some(Field::Absent)
        }
        Some(Value::Null) if presence == Presence::Nullable => Some(Field::Null),
        Some(v) => Some(Field::Present(v)),
    }
}

/// String rules (zod `z.string().trim().min().max().length()`), checked in that order.
#[derive(Clone, Copy, Default)]
struct Str {
    trim: bool,
    min: Option<(usize, Option<&'static str>)>,
    max: Option<usize>,
    exact: Option<usize>,
}

impl Str {
    fn trimmed() -> Self {
        Str { trim: true, ..Default::default() }
    }
    fn min(mut self, n: usize, message: Option<&'static str>) -> Self {
        self.min = Some((n, message));
        self
    }
    fn max(mut self, n: usize) -> Self {
        self.max = Some(n);
        self
    }
    fn exact(mut self, n: usize) -> Self {
        self.exact = Some(n);
        self
    }
}

fn check_str(v: &Value, path: &str, rules: Str, issues: &mut Issues) -> Option<String> {
    let Value::String(s) = v else {
        issues.push(path, format!("Expected string, received {}", type_name(v)));
        return None;
    };
    let s = if rules.trim { s.trim().to_owned() } else { s.clone() };
    // JavaScript's `length` counts UTF-16 code units.
    let len = s.encode_utf16().count();
    let before = issues.len();
    if let Some((min, message)) = rules.min {
        if len < min {
            issues.push(
                path,
                message.map_or_else(|| format!("String must contain at least {min} character(s)"), str::to_owned),
            );
        }
    }
    if let Some(max) = rules.max {
        if len > max {
            issues.push(path, format!("String must contain at most {max} character(s)"));
        }
    }
    if let Some(n) = rules.exact {
        if len != n {
            issues.push(path, format!("String must contain exactly {n} character(s)"));
        }
    }
    (issues.len() == before).then_some(s)
}

/// A string field: `Some(None)` for null, `None` when absent or invalid.
fn string_field(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    presence: Presence,
    rules: Str,
    issues: &mut Issues,
) -> Option<Option<String>> {
    match field(obj, key, path, presence, issues)? {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Present(v) => check_str(v, &join(path, key), rules, issues).map(Some),
    }
}

fn bool_field(obj: &Map<String, Value>, key: &str, path: &str, issues: &mut Issues) -> Option<bool> {
    match field(obj, key, path, Presence::Optional, issues)? {
        Field::Present(Value::Bool(b)) => Some(*b),
        Field::Present(v) => {
            issues.push(&join(path, key), format!("Expected boolean, received {}", type_name(v)));
            None
        }
        _ => None,
    }
}

/// Integer rules (zod `z.number().int().min()` / `.positive()`).
fn int_field(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    presence: Presence,
    min: Option<(i64, &'static str)>,
    issues: &mut Issues,
) -> Option<i64> {
    let Field::Present(v) = field(obj, key, path, presence, issues)? else { return None };
    let path = join(path, key);
    let Value::Number(n) = v else {
        issues.push(&path, format!("Expected number, received {}", type_name(v)));
        return None;
    };
    let f = n.as_f64().unwrap_or(f64::NAN);
    let before = issues.len();
    let int = n.as_i64().or_else(|| (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64));
    if int.is_none() {
        issues.push(&path, "Expected integer, received float");
    }
    if let Some((min, message)) = min {
        if f < min as f64 {
            issues.push(&path, message);
        }
    }
    if issues.len() == before {
        int
    } else {
        None
    }
}

fn enum_field(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    presence: Presence,
    options: &[&str],
    issues: &mut Issues,
) -> Option<String> {
    let Field::Present(v) = field(obj, key, path, presence, issues)? else { return None };
    enum_value(v, &join(path, key), options, issues)
}

fn enum_value(v: &Value, path: &str, options: &[&str], issues: &mut Issues) -> Option<String> {
    let expected = options.iter().map(|o| format!("'{o}'")).collect::<Vec<_>>().join(" | ");
    match v {
        Value::String(s) if options.contains(&s.as_str()) => Some(s.clone()),
        Value::String(s) => {
            issues.push(path, format!("Invalid enum value. Expected {expected}, received '{s}'"));
            None
        }
        other => {
            issues.push(path, format!("Expected {expected}, received {}", type_name(other)));
            None
        }
    }
}

/// `z.record(z.string())`.
fn metadata_field(obj: &Map<String, Value>, key: &str, path: &str, issues: &mut Issues) -> Option<Metadata> {
    let Field::Present(v) = field(obj, key, path, Presence::Optional, issues)? else { return None };
    let path = join(path, key);
    let Value::Object(m) = v else {
        issues.push(&path, format!("Expected object, received {}", type_name(v)));
        return None;
    };
    let before = issues.len();
    let mut out = Metadata::new();
    for (k, v) in m {
        match v {
            Value::String(s) => {
                out.insert(k.clone(), s.clone());
            }
            other => issues.push(&join(&path, k), format!("Expected string, received {}", type_name(other))),
        }
    }
    (issues.len() == before).then_some(out)
}

/// The object itself (`Expected object, received …` at `path`).
fn object<'a>(v: &'a Value, path: &str, issues: &mut Issues) -> Option<&'a Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        other => {
            issues.push(path, format!("Expected object, received {}", type_name(other)));
            None
        }
    }
}

/// `.strict()`: keys outside the schema, reported after the fields' issues, in input order
/// when it is known.
fn strict_ordered(obj: &Map<String, Value>, order: Option<&[String]>, known: &[&str], path: &str, issues: &mut Issues) {
    let keys: Vec<&String> = match order {
        Some(order) => order.iter().filter(|k| obj.contains_key(k.as_str())).collect(),
        None => obj.keys().collect(),
    };
    let extra: Vec<String> =
        keys.into_iter().filter(|k| !known.contains(&k.as_str())).map(|k| format!("'{k}'")).collect();
    if !extra.is_empty() {
        issues.push(path, format!("Unrecognized key(s) in object: {}", extra.join(", ")));
    }
}

fn strict(obj: &Map<String, Value>, known: &[&str], path: &str, issues: &mut Issues) {
    strict_ordered(obj, None, known, path, issues);
}

/// A parsed request body or query, with its top-level keys in the order they were sent
/// (`serde_json::Map` sorts keys; zod lists unrecognised keys in input order).
#[derive(Debug, Clone)]
pub(crate) struct Input {
    value: Value,
    order: Vec<String>,
}

/// Collects the keys of a top-level JSON object in document order.
struct KeyOrder(Vec<String>);

impl<'de> serde::Deserialize<'de> for KeyOrder {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = KeyOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<KeyOrder, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                Ok(KeyOrder(keys))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<KeyOrder, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(KeyOrder(Vec::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<KeyOrder, E> {
                Ok(KeyOrder(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<KeyOrder, E> {
                Ok(KeyOrder(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<KeyOrder, E> {
                Ok(KeyOrder(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<KeyOrder, E> {
                Ok(KeyOrder(Vec::new()))
            }
            fn visit_str<E>(self, _: &str) -> Result<KeyOrder, E> {
                Ok(KeyOrder(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<KeyOrder, E> {
                Ok(KeyOrder(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses a request body as JSON. An empty body is `{}` (as Express's JSON parser leaves it).
pub(crate) fn json_body(bytes: &[u8]) -> Result<Input, EngineError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Input { value: Value::Object(Map::new()), order: Vec::new() });
    }
    let invalid = || EngineError::InvalidInput("Request body must be valid JSON".to_owned());
    let value = serde_json::from_slice(bytes).map_err(|_| invalid())?;
    let KeyOrder(order) = serde_json::from_slice(bytes).map_err(|_| invalid())?;
    Ok(Input { value, order })
}

fn environment_issue(raw: &str, issues: &mut Issues) -> Option<Environment> {
    let env = Environment::parse(raw);
    if env.is_none() {
        issues.push("environment", format!("Invalid enum value. Expected 'test' | 'live', received '{raw}'"));
    }
    env
}

/// The `{environment}` path parameter.
pub(crate) fn environment(raw: &str) -> Result<Environment, EngineError> {
    let mut issues = Issues::default();
    let env = environment_issue(raw, &mut issues);
    issues.finish(())?;
    env.ok_or_else(|| EngineError::Internal("environment validated but missing".into()))
}

/// `{environment}` plus an object id parameter (`productId` / `priceId`), validated together.
pub(crate) fn environment_and_id(
    raw_env: &str,
    raw_id: &str,
    id_name: &str,
    required_message: &'static str,
) -> Result<(Environment, String), EngineError> {
    let mut issues = Issues::default();
    let env = environment_issue(raw_env, &mut issues);
    let id = check_str(
        &Value::String(raw_id.to_owned()),
        id_name,
        Str::trimmed().min(1, Some(required_message)),
        &mut issues,
    );
    issues.finish(())?;
    match (env, id) {
        (Some(env), Some(id)) => Ok((env, id)),
        _ => Err(EngineError::Internal("parameters validated but missing".into())),
    }
}

/// `UpsertPaymentsConfigBody`: `{secretKey}` (strict).
pub(crate) fn secret_key_body(body: &Input) -> Result<String, EngineError> {
    let mut issues = Issues::default();
    let mut key = None;
    if let Some(obj) = object(&body.value, "", &mut issues) {
        key = string_field(
            obj,
            "secretKey",
            "",
            Presence::Required,
            Str::trimmed().min(1, Some("Stripe secret key is required")),
            &mut issues,
        );
        strict_ordered(obj, Some(&body.order), &["secretKey"], "", &mut issues);
    }
    issues.finish(key.flatten().unwrap_or_default())
}

/// `{signingSecret}` (strict; additive route `PUT /{env}/webhook/forwarding-secret`): the
/// `whsec_…` secret the Stripe CLI printed, checked by [`payments_model::check_signing_secret`].
/// No message quotes the value.
pub(crate) fn forwarding_secret_body(body: &Input) -> Result<String, EngineError> {
    let mut issues = Issues::default();
    let mut secret = None;
    if let Some(obj) = object(&body.value, "", &mut issues) {
        if let Some(Field::Present(v)) = field(obj, "signingSecret", "", Presence::Required, &mut issues) {
            match v {
                Value::String(raw) => match payments_model::check_signing_secret(raw) {
                    Ok(s) => secret = Some(s.to_owned()),
                    Err(e) => issues.push("signingSecret", e.message()),
                },
                other => issues.push("signingSecret", format!("Expected string, received {}", type_name(other))),
            }
        }
        strict_ordered(obj, Some(&body.order), &["signingSecret"], "", &mut issues);
    }
    issues.finish(secret.unwrap_or_default())
}

const PRODUCT_ID_REQUIRED: &str = "Stripe product id is required";

/// `CreatePaymentProductBody` (strict).
pub(crate) fn create_product_body(body: &Input) -> Result<CreateProduct, EngineError> {
    let mut issues = Issues::default();
    let mut out = CreateProduct::default();
    if let Some(obj) = object(&body.value, "", &mut issues) {
        out.name = string_field(
            obj,
            "name",
            "",
            Presence::Required,
            Str::trimmed().min(1, Some("Product name is required")),
            &mut issues,
        )
        .flatten()
        .unwrap_or_default();
        out.description =
            string_field(obj, "description", "", Presence::Nullable, Str::trimmed().max(5000), &mut issues).flatten();
        out.active = bool_field(obj, "active", "", &mut issues);
        out.metadata = metadata_field(obj, "metadata", "", &mut issues);
        out.idempotency_key = string_field(
            obj,
            "idempotencyKey",
            "",
            Presence::Optional,
            Str::trimmed().min(1, None).max(200),
            &mut issues,
        )
        .flatten();
        strict_ordered(
            obj,
            Some(&body.order),
            &["name", "description", "active", "metadata", "idempotencyKey"],
            "",
            &mut issues,
        );
    }
    issues.finish(out)
}

/// `UpdatePaymentProductBody` (strict, at least one field).
pub(crate) fn update_product_body(body: &Input) -> Result<UpdateProduct, EngineError> {
    const KEYS: [&str; 4] = ["name", "description", "active", "metadata"];
    let mut issues = Issues::default();
    let mut out = UpdateProduct::default();
    if let Some(obj) = object(&body.value, "", &mut issues) {
        out.name = string_field(
            obj,
            "name",
            "",
            Presence::Optional,
            Str::trimmed().min(1, Some("Product name is required")),
            &mut issues,
        )
        .flatten();
        out.description =
            string_field(obj, "description", "", Presence::Nullable, Str::trimmed().max(5000), &mut issues);
        out.active = bool_field(obj, "active", "", &mut issues);
        out.metadata = metadata_field(obj, "metadata", "", &mut issues);
        let fields_ok = issues.len() == 0;
        strict_ordered(obj, Some(&body.order), &KEYS, "", &mut issues);
        if fields_ok && !KEYS.iter().any(|k| obj.contains_key(*k)) {
            issues.push("", "At least one product field is required");
        }
    }
    issues.finish(out)
}

/// The optional `taxBehavior` of a price body: one of [`TaxBehavior::NAMES`], whose order the
/// message of a refused value lists ('exclusive' | 'inclusive' | 'unspecified').
fn tax_behavior_field(obj: &Map<String, Value>, issues: &mut Issues) -> Option<TaxBehavior> {
    enum_field(obj, "taxBehavior", "", Presence::Optional, TaxBehavior::NAMES, issues).map(TaxBehavior::from)
}

/// `CreatePaymentPriceBody` (strict).
pub(crate) fn create_price_body(body: &Input) -> Result<CreatePrice, EngineError> {
    let mut issues = Issues::default();
    let mut out = CreatePrice::default();
    if let Some(obj) = object(&body.value, "", &mut issues) {
        out.stripe_product_id = string_field(
            obj,
            "stripeProductId",
            "",
            Presence::Required,
            Str::trimmed().min(1, Some(PRODUCT_ID_REQUIRED)),
            &mut issues,
        )
        .flatten()
        .unwrap_or_default();
        out.currency = string_field(obj, "currency", "", Presence::Required, Str::trimmed().exact(3), &mut issues)
            .flatten()
            .unwrap_or_default()
            .to_lowercase();
        out.unit_amount = int_field(
            obj,
            "unitAmount",
            "",
            Presence::Required,
            Some((0, "Number must be greater than or equal to 0")),
            &mut issues,
        )
        .unwrap_or_default();
        out.lookup_key =
            string_field(obj, "lookupKey", "", Presence::Nullable, Str::trimmed().min(1, None).max(200), &mut issues)
                .flatten();
        out.active = bool_field(obj, "active", "", &mut issues);
        if let Some(Field::Present(v)) = field(obj, "recurring", "", Presence::Optional, &mut issues) {
            if let Some(r) = object(v, "recurring", &mut issues) {
                let interval = enum_field(
                    r,
                    "interval",
                    "recurring",
                    Presence::Required,
                    payments_model::RecurringInterval::NAMES,
                    &mut issues,
                );
                let interval_count = int_field(
                    r,
                    "intervalCount",
                    "recurring",
                    Presence::Optional,
                    Some((1, "Number must be greater than 0")),
                    &mut issues,
                );
                strict(r, &["interval", "intervalCount"], "recurring", &mut issues);
                out.recurring = interval.map(|interval| Recurring { interval: interval.into(), interval_count });
            }
        }
        out.tax_behavior = tax_behavior_field(obj, &mut issues);
        out.metadata = metadata_field(obj, "metadata", "", &mut issues);
        out.idempotency_key = string_field(
            obj,
            "idempotencyKey",
            "",
            Presence::Optional,
            Str::trimmed().min(1, None).max(200),
            &mut issues,
        )
        .flatten();
        strict_ordered(
            obj,
            Some(&body.order),
            &[
                "stripeProductId",
                "currency",
                "unitAmount",
                "lookupKey",
                "active",
                "recurring",
                "taxBehavior",
                "metadata",
                "idempotencyKey",
            ],
            "",
            &mut issues,
        );
    }
    issues.finish(out)
}

/// `CreateRefundBody` (additive, strict): `paymentIntentId`, optional `amount` (minor units,
/// at least 1), `reason` (Stripe's three) and `idempotencyKey`.
pub(crate) fn refund_body(body: &Input) -> Result<CreateRefund, EngineError> {
    let mut issues = Issues::default();
    let mut out = CreateRefund { payment_intent_id: String::new(), amount: None, reason: None, idempotency_key: None };
    if let Some(obj) = object(&body.value, "", &mut issues) {
        out.payment_intent_id = string_field(
            obj,
            "paymentIntentId",
            "",
            Presence::Required,
            Str::trimmed().min(1, Some("PaymentIntent id is required")).max(255),
            &mut issues,
        )
        .flatten()
        .unwrap_or_default();
        out.amount =
            int_field(obj, "amount", "", Presence::Optional, Some((1, "Number must be greater than 0")), &mut issues);
        out.reason = enum_field(obj, "reason", "", Presence::Optional, RefundReason::NAMES, &mut issues)
            .and_then(|r| RefundReason::parse(&r));
        out.idempotency_key = string_field(
            obj,
            "idempotencyKey",
            "",
            Presence::Optional,
            Str::trimmed().min(1, None).max(200),
            &mut issues,
        )
        .flatten();
        strict_ordered(
            obj,
            Some(&body.order),
            &["paymentIntentId", "amount", "reason", "idempotencyKey"],
            "",
            &mut issues,
        );
    }
    issues.finish(out)
}

/// `UpdatePaymentPriceBody` (strict, at least one field).
pub(crate) fn update_price_body(body: &Input) -> Result<UpdatePrice, EngineError> {
    const KEYS: [&str; 4] = ["active", "lookupKey", "taxBehavior", "metadata"];
    let mut issues = Issues::default();
    let mut out = UpdatePrice::default();
    if let Some(obj) = object(&body.value, "", &mut issues) {
        out.active = bool_field(obj, "active", "", &mut issues);
        out.lookup_key =
            string_field(obj, "lookupKey", "", Presence::Nullable, Str::trimmed().min(1, None).max(200), &mut issues);
        out.tax_behavior = tax_behavior_field(obj, &mut issues);
        out.metadata = metadata_field(obj, "metadata", "", &mut issues);
        let fields_ok = issues.len() == 0;
        strict_ordered(obj, Some(&body.order), &KEYS, "", &mut issues);
        if fields_ok && !KEYS.iter().any(|k| obj.contains_key(*k)) {
            issues.push("", "At least one price field is required");
        }
    }
    issues.finish(out)
}

/// The query string as Express's `qs` parser sees it: repeated keys become arrays and
/// bracketed keys (`a[b]=1`) objects, so that wrong shapes are reported, not ignored.
pub(crate) fn query_object(raw: Option<&str>) -> Input {
    let mut out = Map::new();
    let mut order: Vec<String> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let name = k.split_once('[').map_or(k.as_ref(), |(base, _)| base).to_owned();
        if !order.contains(&name) {
            order.push(name);
        }
        if let Some((base, _)) = k.split_once('[') {
            out.insert(base.to_owned(), Value::Object(Map::new()));
            continue;
        }
        match out.get_mut(k.as_ref()) {
            Some(Value::Array(items)) => items.push(Value::String(v.into_owned())),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, Value::String(v.into_owned())]);
            }
            None => {
                out.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }
    Input { value: Value::Object(out), order }
}

/// The strict query of `GET /{env}/catalog/prices`: `stripeProductId?`.
pub(crate) fn list_prices_query(body: &Input) -> Result<Option<String>, EngineError> {
    let mut issues = Issues::default();
    let mut product = None;
    if let Some(obj) = object(&body.value, "", &mut issues) {
        product =
            string_field(obj, "stripeProductId", "", Presence::Optional, Str::trimmed().min(1, None), &mut issues)
                .flatten();
        strict_ordered(obj, Some(&body.order), &["stripeProductId"], "", &mut issues);
    }
    issues.finish(product)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg<T: std::fmt::Debug>(r: Result<T, EngineError>) -> String {
        r.unwrap_err().to_string()
    }

    macro_rules! input {
        ($($t:tt)*) => {
            json_body(json!($($t)*).to_string().as_bytes()).unwrap()
        };
    }

    #[test]
    fn zod_messages() {
        assert_eq!(
            msg(environment("foo")),
            "environment: Invalid enum value. Expected 'test' | 'live', received 'foo'"
        );
        assert_eq!(msg(secret_key_body(&input!({"secretKey": "  "}))), "secretKey: Stripe secret key is required");
        assert_eq!(msg(secret_key_body(&input!({}))), "secretKey: Required");
        assert_eq!(msg(secret_key_body(&input!([]))), ": Expected object, received array");
        assert_eq!(
            msg(create_product_body(&json_body(br#"{"name": 1, "foo": 1, "bar": 2}"#).unwrap())),
            "name: Expected string, received number, : Unrecognized key(s) in object: 'foo', 'bar'"
        );
        assert_eq!(
            msg(update_product_body(&input!({"foo": 1}))),
            ": Unrecognized key(s) in object: 'foo', : At least one product field is required"
        );
        assert_eq!(
            msg(create_price_body(&input!({"stripeProductId": "p", "currency": "us", "unitAmount": -1.5}))),
            "currency: String must contain exactly 3 character(s), unitAmount: Expected integer, received float, \
             unitAmount: Number must be greater than or equal to 0"
        );
        assert_eq!(
            msg(create_price_body(&input!({"stripeProductId": "p", "currency": "usd", "unitAmount": 1,
                "recurring": {"interval": "fortnight", "x": 1}, "taxBehavior": 3}))),
            "recurring.interval: Invalid enum value. Expected 'day' | 'week' | 'month' | 'year', received 'fortnight', \
             recurring: Unrecognized key(s) in object: 'x', \
             taxBehavior: Expected 'exclusive' | 'inclusive' | 'unspecified', received number"
        );
        assert_eq!(
            msg(update_price_body(&input!({"metadata": {"a": 1}}))),
            "metadata.a: Expected string, received number"
        );
    }

    #[test]
    fn valid_bodies_parse() {
        let p = create_price_body(&input!({"stripeProductId": " prod_1 ", "currency": "USD", "unitAmount": 900,
            "recurring": {"interval": "month", "intervalCount": 3}, "lookupKey": null}))
        .unwrap();
        assert_eq!((p.stripe_product_id.as_str(), p.currency.as_str(), p.unit_amount), ("prod_1", "usd", 900));
        assert_eq!(p.recurring, Some(Recurring { interval: "month".into(), interval_count: Some(3) }));
        let u = update_product_body(&input!({"description": null})).unwrap();
        assert_eq!(u.description, Some(None));
        let q = query_object(Some("z=1&a=1&a=2&b[c]=3"));
        assert_eq!(q.value, json!({"z": "1", "a": ["1", "2"], "b": {}}));
        assert_eq!(q.order, ["z", "a", "b"]);
    }
}

/// JavaScript's `Number(s)` for decimal strings: Rust's float parser also takes `inf`,
/// `infinity` and `nan` in any case, which are `NaN` to JavaScript (only `Infinity` is spelled
/// out). Anything too large is `±Infinity`, as in JavaScript, and is then refused by the range
/// checks: no value reaches an integer conversion unchecked.
fn js_number(s: &str) -> f64 {
    let t = s.trim();
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if unsigned != "Infinity" && unsigned.bytes().any(|b| b.is_ascii_alphabetic() && !b.eq_ignore_ascii_case(&b'e')) {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// zod `z.coerce.number().int().min(1).max(100).default(50)`.
fn limit_param(obj: &Map<String, Value>, issues: &mut Issues) -> (i64, bool) {
    let Some(v) = obj.get("limit") else { return (50, true) };
    let n = match v {
        Value::String(s) if s.trim().is_empty() => 0.0,
        Value::String(s) => js_number(s),
        _ => f64::NAN,
    };
    if n.is_nan() {
        issues.push("limit", "Expected number, received nan");
        return (50, false);
    }
    let before = issues.len();
    if n.fract() != 0.0 {
        issues.push("limit", "Expected integer, received float");
    }
    if n < 1.0 {
        issues.push("limit", "Number must be greater than or equal to 1");
    }
    if n > 100.0 {
        issues.push("limit", "Number must be less than or equal to 100");
    }
    (if issues.len() == before { n as i64 } else { 50 }, true)
}

/// The longest comma-separated id list a list filter takes: [`payments_model::MAX_LISTED_IDS`]
/// ids of Stripe's length (255 characters at most; ours are under 40).
const MAX_ID_LIST_CHARS: usize = 8000;

/// Parses the query of the list routes (21)–(23) and the webhook-events list into the engine's
/// list options: the contract's strict keys (`subjectType`, `subjectId` where allowed, `limit`)
/// plus the list's additive filters `F` (their [`QueryFilters::KEYS`]: strings, trimmed,
/// non-empty). `subject`: whether `subjectType`/`subjectId` are part of the schema. `cursor` is
/// `Some` when the caller sent one (an empty value asks for the first page).
///
/// The filters are read as spelt: a value the list refuses (a date that names no day, an empty
/// id list) is refused by the list when it meets it, so that of several bad values the one
/// reported is the one it always was (the customers' cursor before their filters).
pub(crate) fn list_query<F: QueryFilters>(input: &Input, subject: bool) -> Result<ListOptions<F>, EngineError> {
    let mut issues = Issues::default();
    let mut out = ListOptions::default();
    let mut known: Vec<&str> = Vec::new();
    let Some(obj) = object(&input.value, "", &mut issues) else { return issues.finish(out) };
    let mut aborted = false;
    let mut st = None;
    let mut si = None;
    if subject {
        known.extend(["subjectType", "subjectId"]);
        for (key, max) in [("subjectType", 100), ("subjectId", 255)] {
            let before = issues.len();
            let v = string_field(obj, key, "", Presence::Optional, Str::trimmed().min(1, None).max(max), &mut issues);
            if issues.len() > before && !matches!(obj.get(key), Some(Value::String(_))) {
                aborted = true;
            }
            let present = obj.get(key).is_some();
            if key == "subjectType" {
                st = Some((present, v.flatten()));
            } else {
                si = Some((present, v.flatten()));
            }
        }
    }
    known.push("limit");
    let (limit, ok) = limit_param(obj, &mut issues);
    aborted |= !ok;
    out.limit = limit;
    known.push("cursor");
    if let Some(c) = obj.get("cursor") {
        match c {
            Value::String(s) => out.cursor = Paging::from_param(Some(s)),
            other => {
                issues.push("cursor", format!("Expected string, received {}", type_name(other)));
                aborted = true;
            }
        }
    }
    let mut filters = BTreeMap::new();
    for key in F::KEYS {
        known.push(key);
        // `objectId` and the customers' `ids` take a comma-separated list of ids (`IdList`).
        let max = if *key == "objectId" || *key == "ids" { MAX_ID_LIST_CHARS } else { 500 };
        if let Some(v) =
            string_field(obj, key, "", Presence::Optional, Str::trimmed().min(1, None).max(max), &mut issues).flatten()
        {
            filters.insert(*key, v);
        }
    }
    out.filters = F::read(|key| filters.get(key).cloned());
    strict_ordered(obj, Some(&input.order), &known, "", &mut issues);
    if subject && !aborted {
        let (tp, t) = st.unwrap_or((false, None));
        let (ip, i) = si.unwrap_or((false, None));
        if tp != ip {
            issues.push("", "subjectType and subjectId must be provided together");
        }
        if let (Some(t), Some(i)) = (t, i) {
            out.subject = Some((t, i));
        }
    }
    issues.finish(out)
}

/// zod v3's `z.string().email()` pattern:
/// `^(?!\.)(?!.*\.\.)([A-Z0-9_'+\-\.]*)[A-Z0-9_+-]@([A-Z0-9][A-Z0-9\-]*\.)+[A-Z]{2,}$/i`.
pub(crate) fn is_zod_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    if local.is_empty() || local.starts_with('.') || s.contains("..") || domain.contains('@') {
        return false;
    }
    let local_ok = local.chars().all(|c| c.is_ascii_alphanumeric() || "_'+-.".contains(c))
        && local.chars().last().is_some_and(|c| c.is_ascii_alphanumeric() || "_+-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let Some((tld, rest)) = labels.split_last() else { return false };
    local_ok
        && !rest.is_empty()
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && rest.iter().all(|l| {
            l.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Tracks whether a zod parse was aborted (a type error), which skips object refinements.
fn tracked<T>(issues: &mut Issues, aborted: &mut bool, f: impl FnOnce(&mut Issues) -> (T, bool)) -> T {
    let before = issues.len();
    let (v, fatal) = f(issues);
    if fatal && issues.len() > before {
        *aborted = true;
    }
    v
}

/// `z.string().url(message)`: type errors abort, a bad URL does not.
fn url_field(
    obj: &Map<String, Value>,
    key: &str,
    presence: Presence,
    message: &str,
    issues: &mut Issues,
    aborted: &mut bool,
) -> Option<String> {
    match obj.get(key) {
        None if presence == Presence::Required => {
            issues.push(key, "Required");
            *aborted = true;
            None
        }
        None => None,
        Some(Value::String(s)) => {
            if url::Url::parse(s).is_ok() {
                Some(s.clone())
            } else {
                issues.push(key, message);
                None
            }
        }
        Some(other) => {
            issues.push(key, format!("Expected string, received {}", type_name(other)));
            *aborted = true;
            None
        }
    }
}

/// `billingSubjectSchema` (strict `{type, id}`, trimmed).
fn subject_value(v: &Value, path: &str, issues: &mut Issues, aborted: &mut bool) -> Option<BillingSubject> {
    let obj = tracked(issues, aborted, |i| (object(v, path, i), true))?;
    let mut part = |key: &str, max: usize, issues: &mut Issues| {
        let fatal = !matches!(obj.get(key), Some(Value::String(_)));
        tracked(issues, aborted, |i| {
            (string_field(obj, key, path, Presence::Required, Str::trimmed().min(1, None).max(max), i).flatten(), fatal)
        })
    };
    let subject_type = part("type", 100, issues);
    let id = part("id", 255, issues);
    strict(obj, &["type", "id"], path, issues);
    Some(BillingSubject { subject_type: subject_type?, id: id? })
}

/// `CreateCheckoutSessionBody` (strict), §2.3 (4).
pub(crate) fn checkout_body(body: &Input) -> Result<CheckoutRequest, EngineError> {
    let mut issues = Issues::default();
    let mut aborted = false;
    // Filled in as the body is read; a body with any issue is refused whole, so the `mode`
    // placeholder never leaves this function unless the body's own mode replaced it.
    let mut out = CheckoutRequest {
        mode: CheckoutMode::Payment,
        line_items: Vec::new(),
        success_url: String::new(),
        cancel_url: String::new(),
        subject: None,
        customer_email: None,
        metadata: Metadata::default(),
        idempotency_key: None,
    };
    let Some(obj) = object(&body.value, "", &mut issues) else { return issues.finish(out) };
    let mode = tracked(&mut issues, &mut aborted, |i| {
        (enum_field(obj, "mode", "", Presence::Required, CheckoutMode::NAMES, i), true)
    });
    if let Some(mode) = &mode {
        out.mode = CheckoutMode::from(mode.as_str());
    }
    match obj.get("lineItems") {
        None => {
            issues.push("lineItems", "Required");
            aborted = true;
        }
        Some(Value::Array(items)) => {
            if items.is_empty() {
                issues.push("lineItems", "Array must contain at least 1 element(s)");
            }
            if items.len() > 100 {
                issues.push("lineItems", "Array must contain at most 100 element(s)");
            }
            for (n, item) in items.iter().enumerate() {
                let path = format!("lineItems.{n}");
                let Some(m) = tracked(&mut issues, &mut aborted, |i| (object(item, &path, i), true)) else {
                    continue;
                };
                let fatal = !matches!(m.get("stripePriceId"), Some(Value::String(_)));
                let price = tracked(&mut issues, &mut aborted, |i| {
                    (string_field(m, "stripePriceId", &path, Presence::Required, Str::default().min(1, None), i), fatal)
                })
                .flatten();
                let qpath = join(&path, "quantity");
                let quantity = match m.get("quantity") {
                    None => Some(1),
                    Some(Value::Number(n)) => {
                        let f = n.as_f64().unwrap_or(f64::NAN);
                        let before = issues.len();
                        if f.fract() != 0.0 {
                            issues.push(&qpath, "Expected integer, received float");
                        }
                        if f < 1.0 {
                            issues.push(&qpath, "Number must be greater than or equal to 1");
                        }
                        if f > 999.0 {
                            issues.push(&qpath, "Number must be less than or equal to 999");
                        }
                        (issues.len() == before).then_some(f as i64)
                    }
                    Some(other) => {
                        issues.push(&qpath, format!("Expected number, received {}", type_name(other)));
                        aborted = true;
                        None
                    }
                };
                strict(m, &["stripePriceId", "quantity"], &path, &mut issues);
                if let (Some(stripe_price_id), Some(quantity)) = (price, quantity) {
                    out.line_items.push(CheckoutLineItem { stripe_price_id, quantity });
                }
            }
        }
        Some(other) => {
            issues.push("lineItems", format!("Expected array, received {}", type_name(other)));
            aborted = true;
        }
    }
    out.success_url =
        url_field(obj, "successUrl", Presence::Required, "Success URL must be a valid URL", &mut issues, &mut aborted)
            .unwrap_or_default();
    out.cancel_url =
        url_field(obj, "cancelUrl", Presence::Required, "Cancel URL must be a valid URL", &mut issues, &mut aborted)
            .unwrap_or_default();
    if let Some(v) = obj.get("subject") {
        out.subject = subject_value(v, "subject", &mut issues, &mut aborted);
    }
    match obj.get("customerEmail") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            if is_zod_email(s) {
                out.customer_email = Some(s.clone());
            } else {
                issues.push("customerEmail", "Invalid email");
            }
        }
        Some(other) => {
            issues.push("customerEmail", format!("Expected string, received {}", type_name(other)));
            aborted = true;
        }
    }
    let before = issues.len();
    let metadata = metadata_field(obj, "metadata", "", &mut issues);
    if issues.len() > before {
        aborted = true;
    }
    if let Some(m) = metadata {
        if m.keys().any(|k| k.starts_with(crate::checkout::RESERVED_METADATA_PREFIX)) {
            issues.push("metadata", "Metadata keys starting with insforge_ are reserved");
        }
        out.metadata = m;
    }
    let fatal = !matches!(obj.get("idempotencyKey"), None | Some(Value::String(_)));
    out.idempotency_key = tracked(&mut issues, &mut aborted, |i| {
        (string_field(obj, "idempotencyKey", "", Presence::Optional, Str::default().min(1, None).max(200), i), fatal)
    })
    .flatten();
    strict_ordered(
        obj,
        Some(&body.order),
        &["mode", "lineItems", "successUrl", "cancelUrl", "subject", "customerEmail", "metadata", "idempotencyKey"],
        "",
        &mut issues,
    );
    if !aborted && out.mode == CheckoutMode::Subscription && !obj.contains_key("subject") {
        issues.push("subject", "Subscription checkout requires a billing subject");
    }
    issues.finish(out)
}

/// `CreateCustomerPortalSessionBody` (strict), §2.3 (5).
pub(crate) fn portal_body(body: &Input) -> Result<PortalRequest, EngineError> {
    let mut issues = Issues::default();
    let mut aborted = false;
    let Some(obj) = object(&body.value, "", &mut issues) else {
        return Err(issues.finish(()).unwrap_err());
    };
    let subject = match obj.get("subject") {
        None => {
            issues.push("subject", "Required");
            None
        }
        Some(v) => subject_value(v, "subject", &mut issues, &mut aborted),
    };
    let return_url =
        url_field(obj, "returnUrl", Presence::Optional, "Return URL must be a valid URL", &mut issues, &mut aborted);
    let configuration =
        string_field(obj, "configuration", "", Presence::Optional, Str::default().min(1, None).max(255), &mut issues)
            .flatten();
    strict_ordered(obj, Some(&body.order), &["subject", "returnUrl", "configuration"], "", &mut issues);
    match subject {
        Some(subject) if issues.len() == 0 => Ok(PortalRequest { subject, return_url, configuration }),
        _ => Err(issues.finish(()).err().unwrap_or_else(|| EngineError::Internal("portal body invalid".into()))),
    }
}

#[cfg(test)]
mod runtime_tests {
    use super::*;
    use serde_json::json;

    fn msg<T: std::fmt::Debug>(r: Result<T, EngineError>) -> String {
        r.unwrap_err().to_string()
    }

    fn body(v: Value) -> Input {
        json_body(v.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn emails_like_zod() {
        for ok in ["a@b.co", "a.b+c@x-y.example.org", "O'Neil@example.com"] {
            assert!(is_zod_email(ok), "{ok}");
        }
        for bad in ["a@b", ".a@b.co", "a..b@c.co", "a.@b.co", "a@-b.co", "a@b.c", "a@@b.co", "a b@c.co", "@b.co"] {
            assert!(!is_zod_email(bad), "{bad}");
        }
    }

    #[test]
    fn checkout_bodies() {
        let ok = json!({"mode": "payment", "lineItems": [{"stripePriceId": "price_1"}],
            "successUrl": "https://a.example/s", "cancelUrl": "https://a.example/c"});
        let r = checkout_body(&body(ok.clone())).unwrap();
        assert_eq!(r.line_items[0].quantity, 1);
        let mut sub = ok.clone();
        sub["mode"] = json!("subscription");
        assert_eq!(msg(checkout_body(&body(sub.clone()))), "subject: Subscription checkout requires a billing subject");
        sub["foo"] = json!(1);
        assert_eq!(
            msg(checkout_body(&body(sub))),
            ": Unrecognized key(s) in object: 'foo', subject: Subscription checkout requires a billing subject"
        );
        let mut meta = ok.clone();
        meta["metadata"] = json!({"insforge_x": "1"});
        assert_eq!(msg(checkout_body(&body(meta))), "metadata: Metadata keys starting with insforge_ are reserved");
        assert_eq!(
            msg(checkout_body(&body(json!({"mode": "x", "lineItems": [], "successUrl": "nope", "cancelUrl": 1})))),
            "mode: Invalid enum value. Expected 'payment' | 'subscription', received 'x', \
             lineItems: Array must contain at least 1 element(s), successUrl: Success URL must be a valid URL, \
             cancelUrl: Expected string, received number"
        );
        assert_eq!(
            msg(portal_body(&body(json!({"subject": {"type": " ", "id": "1", "x": 1}, "returnUrl": "x"})))),
            "subject.type: String must contain at least 1 character(s), subject: Unrecognized key(s) in object: 'x', \
             returnUrl: Return URL must be a valid URL"
        );
    }
}
