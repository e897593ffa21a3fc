//! Stripe's form encoding: `application/x-www-form-urlencoded` with nested
//! values flattened into bracket notation (`metadata[k]=v`,
//! `recurring[interval]=month`, `items[0][price]=…`, `expand[]=…`).

use std::collections::{BTreeMap, HashMap};

/// One parameter value: a scalar, a list or a map, nested arbitrarily.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormValue {
    /// A plain value. An empty string is how Stripe is told to unset a field
    /// (`metadata[k]=` deletes a key, `metadata=` clears them all).
    Scalar(String),
    /// A list. Scalars encode as `key[]=a&key[]=b`; lists holding maps or
    /// lists encode with indices (`items[0][price]=…`), which is what Stripe
    /// needs to keep each element's fields together.
    List(Vec<FormValue>),
    /// A map, encoded as `key[sub]=…`. An empty map encodes as `key=`, which
    /// clears the whole field.
    Map(Vec<(String, FormValue)>),
}

impl FormValue {
    fn is_scalar(&self) -> bool {
        matches!(self, FormValue::Scalar(_))
    }
}

macro_rules! scalar_from {
    ($($t:ty),*) => {$(
        impl From<$t> for FormValue {
            fn from(v: $t) -> Self {
                FormValue::Scalar(v.to_string())
            }
        }
    )*};
}
scalar_from!(&str, String, &String, i32, i64, u32, u64, usize, bool);

impl<T: Into<FormValue>> From<Vec<T>> for FormValue {
    fn from(v: Vec<T>) -> Self {
        FormValue::List(v.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<FormValue> + Clone> From<&[T]> for FormValue {
    fn from(v: &[T]) -> Self {
        FormValue::List(v.iter().cloned().map(Into::into).collect())
    }
}

impl<K: Into<String>, V: Into<FormValue>> From<BTreeMap<K, V>> for FormValue {
    fn from(m: BTreeMap<K, V>) -> Self {
        FormValue::Map(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl<K: Into<String> + Ord, V: Into<FormValue>> From<HashMap<K, V>> for FormValue {
    fn from(m: HashMap<K, V>) -> Self {
        // Sorted, so that the same parameters always encode to the same body:
        // Stripe compares bodies when an idempotency key is reused.
        let sorted: BTreeMap<K, V> = m.into_iter().collect();
        sorted.into()
    }
}

impl From<Form> for FormValue {
    fn from(f: Form) -> Self {
        FormValue::Map(f.entries)
    }
}

/// An ordered set of request parameters.
///
/// ```
/// use stripe_client::Form;
/// let form = Form::new()
///     .set("currency", "usd")
///     .set("recurring", Form::new().set("interval", "month"))
///     .set("items", vec![Form::new().set("price", "price_1")])
///     .set("expand", vec!["data.items"]);
/// assert_eq!(
///     form.encode(),
///     "currency=usd&recurring[interval]=month&items[0][price]=price_1&expand[]=data.items"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    entries: Vec<(String, FormValue)>,
}

impl Form {
    /// No parameters.
    pub const EMPTY: Form = Form { entries: Vec::new() };

    /// An empty parameter set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) `key`.
    pub fn set(mut self, key: impl Into<String>, value: impl Into<FormValue>) -> Self {
        self.insert(key, value);
        self
    }

    /// Adds `key` only when `value` is `Some`.
    pub fn set_opt<V: Into<FormValue>>(self, key: impl Into<String>, value: Option<V>) -> Self {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    /// Adds (or replaces) `key` in place.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<FormValue>) {
        let key = key.into();
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Whether `key` is set at the top level.
    pub fn contains(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k == key)
    }

    /// Whether no parameter is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The flattened `(bracket key, value)` pairs, unencoded, in order.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (key, value) in &self.entries {
            flatten(key.clone(), value, &mut out);
        }
        out
    }

    /// The percent-encoded body / query string. Brackets are left readable
    /// (as Stripe's own libraries do); everything else outside the unreserved
    /// set is percent-encoded.
    pub fn encode(&self) -> String {
        self.pairs()
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k, true), percent_encode(v, false)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn flatten(key: String, value: &FormValue, out: &mut Vec<(String, String)>) {
    match value {
        FormValue::Scalar(s) => out.push((key, s.clone())),
        FormValue::Map(entries) if entries.is_empty() => out.push((key, String::new())),
        FormValue::Map(entries) => {
            for (k, v) in entries {
                flatten(format!("{key}[{k}]"), v, out);
            }
        }
        FormValue::List(items) if items.iter().all(FormValue::is_scalar) => {
            for item in items {
                flatten(format!("{key}[]"), item, out);
            }
        }
        FormValue::List(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(format!("{key}[{i}]"), item, out);
            }
        }
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters (and,
/// in keys, the brackets of the notation).
fn percent_encode(s: &str, keep_brackets: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b'[' | b']' if keep_brackets => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_values_use_bracket_notation() {
        let metadata: BTreeMap<&str, &str> = [("plan", "pro"), ("team", "acme")].into();
        let form = Form::new()
            .set("product", "prod_1")
            .set("unit_amount", 1500_i64)
            .set("recurring", Form::new().set("interval", "month").set("interval_count", 1_u32))
            .set("metadata", metadata)
            .set("lookup_keys", vec!["pro_monthly", "pro_yearly"])
            .set(
                "items",
                vec![Form::new().set("price", "price_a").set("quantity", 2_u32), Form::new().set("id", "si_b")],
            )
            .set("active", false);
        assert_eq!(
            form.pairs(),
            [
                ("product", "prod_1"),
                ("unit_amount", "1500"),
                ("recurring[interval]", "month"),
                ("recurring[interval_count]", "1"),
                ("metadata[plan]", "pro"),
                ("metadata[team]", "acme"),
                ("lookup_keys[]", "pro_monthly"),
                ("lookup_keys[]", "pro_yearly"),
                ("items[0][price]", "price_a"),
                ("items[0][quantity]", "2"),
                ("items[1][id]", "si_b"),
                ("active", "false"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn values_are_percent_encoded_and_brackets_kept_in_keys() {
        let form = Form::new().set("metadata", Form::new().set("note", "a&b=c d/é")).set("expand", vec!["data.items"]);
        assert_eq!(form.encode(), "metadata[note]=a%26b%3Dc%20d%2F%C3%A9&expand[]=data.items");
    }

    #[test]
    fn empty_map_and_empty_string_unset() {
        let form = Form::new().set("metadata", Form::new()).set("description", "");
        assert_eq!(form.encode(), "metadata=&description=");
    }

    #[test]
    fn set_replaces_and_set_opt_skips_none() {
        let form = Form::new().set("limit", 10_u32).set("limit", 100_u32).set_opt::<&str>("starting_after", None);
        assert_eq!(form.encode(), "limit=100");
        assert!(form.contains("limit"));
        assert!(!form.contains("starting_after"));
    }

    #[test]
    fn hash_maps_encode_sorted() {
        let m: HashMap<String, String> = (0..20).map(|i| (format!("k{i:02}"), i.to_string())).collect();
        let keys: Vec<String> = Form::new().set("metadata", m).pairs().into_iter().map(|(k, _)| k).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn agrees_with_the_sandbox_parser() {
        // The sandbox's parser is an independent implementation of the same
        // notation; it represents lists as index-keyed maps.
        let form = Form::new()
            .set("items", vec![Form::new().set("price", "price_a").set("metadata", Form::new().set("k", "v w"))])
            .set("expand", vec!["a", "b"]);
        let params = stripe_sandbox::form::parse(&form.encode());
        assert_eq!(
            params.to_json(),
            serde_json::json!({
                "items": { "0": { "price": "price_a", "metadata": { "k": "v w" } } },
                "expand": { "0": "a", "1": "b" },
            })
        );
    }
}
