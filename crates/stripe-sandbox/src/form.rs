//! Stripe's `application/x-www-form-urlencoded` dialect with bracket notation.
//!
//! Stripe clients encode nested parameters the Rack way:
//! `metadata[plan]=pro`, `recurring[interval]=month`, `items[0][price]=price_1`,
//! `expand[]=customer`. [`parse`] turns such a body (or query string) into a
//! tree of [`Param`]s. Arrays are kept as maps keyed by their index, because
//! whether `x[0]` is the first element of a list or a hash key named `"0"` (as
//! in `metadata[0]=…`) depends on the parameter; [`Params::list`] decides at
//! the point of use.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::ApiError;

/// One parameter value: a leaf string or a nested hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// A leaf value, percent-decoded.
    Str(String),
    /// A nested hash (`a[b]=…`) or array (`a[0]=…`, `a[]=…`).
    Map(Params),
}

/// A hash of parameters, as parsed from a form body or a query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    entries: BTreeMap<String, Param>,
}

/// Parses a form-encoded body or query string into a parameter tree.
///
/// Malformed keys (an unclosed bracket) are kept verbatim as flat keys, and a
/// later assignment to the same key wins, like Rack.
pub fn parse(input: &str) -> Params {
    let mut root = Params::default();
    for pair in input.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(raw_key);
        let value = decode(raw_value);
        if key.is_empty() {
            continue;
        }
        root.insert_path(&split_key(&key), value);
    }
    root
}

/// Percent-decodes one component, treating `+` as a space.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Percent-encodes one component for use in a form body or query string.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The deepest bracket nesting kept as a path (`a[b][c]` is 2). Deeper keys are kept as flat
/// names, like malformed ones, so Stripe-style validation reports them as unknown parameters.
/// Without a limit, a body of `a[b][b][b]…` recursed once per level while parsing (and again
/// when dropping, fingerprinting or echoing the tree) and overflowed the stack, which aborts
/// the whole process. Stripe's own parameters nest five levels at most; Rack allows 100.
pub const MAX_DEPTH: usize = 32;

/// Splits `a[b][0][]` into `["a", "b", "0", ""]`.
fn split_key(key: &str) -> Vec<String> {
    let Some(open) = key.find('[') else {
        return vec![key.to_owned()];
    };
    if open == 0 {
        return vec![key.to_owned()];
    }
    let mut segments = vec![key[..open].to_owned()];
    let mut rest = &key[open..];
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            // Unclosed bracket: treat the whole key as a flat name.
            return vec![key.to_owned()];
        };
        if segments.len() > MAX_DEPTH {
            return vec![key.to_owned()];
        }
        segments.push(stripped[..close].to_owned());
        rest = &stripped[close + 1..];
    }
    if !rest.is_empty() {
        return vec![key.to_owned()];
    }
    segments
}

impl Params {
    /// Builds parameters from already-decoded `(key, value)` pairs, keys in
    /// bracket notation. Handy for seeding and for tests.
    pub fn from_pairs<K: AsRef<str>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut root = Params::default();
        for (k, v) in pairs {
            root.insert_path(&split_key(k.as_ref()), v.into());
        }
        root
    }

    fn next_index(&self) -> String {
        self.entries.len().to_string()
    }

    fn insert_path(&mut self, segments: &[String], value: String) {
        let Some((first, rest)) = segments.split_first() else {
            return;
        };
        if rest.is_empty() {
            let key = if first.is_empty() { self.next_index() } else { first.clone() };
            self.entries.insert(key, Param::Str(value));
            return;
        }
        let key = if first.is_empty() {
            // `items[][price]=a&items[][quantity]=2` (Rack): keep filling the
            // last element until a key repeats, then start a new one.
            let next = &rest[0];
            let last_key = self.entries.len().checked_sub(1).map(|n| n.to_string());
            match last_key.as_ref().and_then(|k| self.entries.get(k)) {
                Some(Param::Map(m)) if !next.is_empty() && !m.entries.contains_key(next) => last_key.unwrap(),
                _ => self.next_index(),
            }
        } else {
            first.clone()
        };
        let slot = self.entries.entry(key).or_insert_with(|| Param::Map(Params::default()));
        if let Param::Str(_) = slot {
            *slot = Param::Map(Params::default());
        }
        if let Param::Map(child) = slot {
            child.insert_path(rest, value);
        }
    }

    /// Merges `other` into `self`; `other` wins on conflicts.
    pub fn merge(&mut self, other: Params) {
        for (k, v) in other.entries {
            self.entries.insert(k, v);
        }
    }

    /// True when no parameter was given.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Top-level keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Entries, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Param)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The raw parameter under `key`.
    pub fn get(&self, key: &str) -> Option<&Param> {
        self.entries.get(key)
    }

    /// True when `key` was given (even as an empty string).
    pub fn has(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// The leaf string under `key`, if it is a leaf.
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.entries.get(key) {
            Some(Param::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The nested hash under `key`, if it is one.
    pub fn map(&self, key: &str) -> Option<&Params> {
        match self.entries.get(key) {
            Some(Param::Map(m)) => Some(m),
            _ => None,
        }
    }

    /// The elements of an array parameter, in index order. A single leaf
    /// (`expand=customer`) counts as a one-element list.
    pub fn list(&self, key: &str) -> Vec<&Param> {
        match self.entries.get(key) {
            None => Vec::new(),
            Some(p @ Param::Str(s)) => {
                if s.is_empty() {
                    Vec::new()
                } else {
                    vec![p]
                }
            }
            Some(Param::Map(m)) => {
                let mut items: Vec<(u64, &Param)> =
                    m.entries.iter().map(|(k, v)| (k.parse::<u64>().unwrap_or(u64::MAX), v)).collect();
                items.sort_by_key(|(i, _)| *i);
                items.into_iter().map(|(_, v)| v).collect()
            }
        }
    }

    /// The leaf strings of an array parameter (`expand[]`, `lookup_keys[]`).
    pub fn strs(&self, key: &str) -> Vec<String> {
        self.list(key)
            .into_iter()
            .filter_map(|p| match p {
                Param::Str(s) => Some(s.clone()),
                Param::Map(_) => None,
            })
            .collect()
    }

    /// A required leaf string; `parameter_missing` when absent or empty.
    pub fn req_str(&self, key: &str) -> Result<&str, ApiError> {
        self.req_str_named(key, key)
    }

    /// Like [`Params::req_str`], reporting `param_name` (e.g. `items[0][price]`).
    pub fn req_str_named(&self, key: &str, param_name: &str) -> Result<&str, ApiError> {
        match self.str(key) {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ApiError::missing_param(param_name)),
        }
    }

    /// A non-empty leaf string, or `None`; empty strings count as absent.
    pub fn opt_str(&self, key: &str) -> Option<&str> {
        self.str(key).filter(|s| !s.is_empty())
    }

    /// An optional integer, `invalid_request_error` on garbage.
    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.int_named(key, key)
    }

    /// Like [`Params::int`], reporting `param_name`.
    pub fn int_named(&self, key: &str, param_name: &str) -> Result<Option<i64>, ApiError> {
        match self.entries.get(key) {
            None => Ok(None),
            Some(Param::Str(s)) if s.is_empty() => Ok(None),
            Some(Param::Str(s)) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::invalid(param_name, format!("Invalid integer: {s}"))),
            Some(Param::Map(_)) => Err(ApiError::invalid(param_name, "Invalid integer: (hash)")),
        }
    }

    /// An optional boolean (`true`/`false`), `invalid_request_error` on garbage.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.entries.get(key) {
            None => Ok(None),
            Some(Param::Str(s)) => match s.as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                "" => Ok(None),
                other => Err(ApiError::invalid(key, format!("Invalid boolean: {other}"))),
            },
            Some(Param::Map(_)) => Err(ApiError::invalid(key, "Invalid boolean: (hash)")),
        }
    }

    /// An optional string that must be one of `allowed`.
    pub fn one_of(&self, key: &str, allowed: &[&str]) -> Result<Option<&str>, ApiError> {
        match self.opt_str(key) {
            None => Ok(None),
            Some(v) if allowed.contains(&v) => Ok(Some(v)),
            Some(_) => Err(ApiError::invalid(key, format!("Invalid {key}: must be one of {}", allowed.join(", ")))),
        }
    }

    /// Rejects any top-level key outside `allowed` (plus `expand`, accepted
    /// everywhere) with Stripe's `parameter_unknown` error. `prefix` names the
    /// enclosing parameter for nested hashes (`recurring` → `recurring[foo]`).
    pub fn check_known(&self, allowed: &[&str], prefix: &str) -> Result<(), ApiError> {
        for key in self.entries.keys() {
            if key == "expand" && prefix.is_empty() {
                continue;
            }
            if !allowed.contains(&key.as_str()) {
                let name = if prefix.is_empty() { key.clone() } else { format!("{prefix}[{key}]") };
                return Err(ApiError::unknown_param(&name));
            }
        }
        Ok(())
    }

    /// A stable textual fingerprint, used to compare idempotent requests.
    pub fn fingerprint(&self) -> String {
        fn walk(p: &Params, prefix: &str, out: &mut String) {
            for (k, v) in &p.entries {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}[{k}]") };
                match v {
                    Param::Str(s) => {
                        out.push_str(&key);
                        out.push('=');
                        out.push_str(s);
                        out.push('&');
                    }
                    Param::Map(m) => walk(m, &key, out),
                }
            }
        }
        let mut out = String::new();
        walk(self, "", &mut out);
        out
    }

    /// Converts the tree to JSON (leaves as strings), e.g. to echo hashes back.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.entries
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Param::Str(s) => Value::String(s.clone()),
                        Param::Map(m) => m.to_json(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_pairs_and_decoding() {
        let p = parse("name=Gold+Plan&description=a%20b%26c&empty=");
        assert_eq!(p.str("name"), Some("Gold Plan"));
        assert_eq!(p.str("description"), Some("a b&c"));
        assert_eq!(p.str("empty"), Some(""));
        assert_eq!(p.opt_str("empty"), None);
    }

    #[test]
    fn nested_hashes() {
        let p = parse("metadata[plan]=pro&metadata[team]=acme&recurring[interval]=month");
        let m = p.map("metadata").unwrap();
        assert_eq!(m.str("plan"), Some("pro"));
        assert_eq!(m.str("team"), Some("acme"));
        assert_eq!(p.map("recurring").unwrap().str("interval"), Some("month"));
    }

    #[test]
    fn encoded_brackets_are_understood() {
        let p = parse("metadata%5Bk%5D=v");
        assert_eq!(p.map("metadata").unwrap().str("k"), Some("v"));
    }

    #[test]
    fn indexed_arrays_sort_numerically() {
        let mut body = String::new();
        for i in (0..12).rev() {
            body.push_str(&format!("items[{i}][price]=p{i}&items[{i}][quantity]={i}&"));
        }
        let p = parse(&body);
        let items = p.list("items");
        assert_eq!(items.len(), 12);
        for (i, item) in items.iter().enumerate() {
            let Param::Map(m) = item else { panic!("not a map") };
            assert_eq!(m.str("price"), Some(format!("p{i}").as_str()));
            assert_eq!(m.int("quantity").unwrap(), Some(i as i64));
        }
    }

    #[test]
    fn push_arrays_keep_order() {
        let p = parse("expand[]=data.customer&expand[]=data.default_price&lookup_keys[]=a");
        assert_eq!(p.strs("expand"), vec!["data.customer", "data.default_price"]);
        assert_eq!(p.strs("lookup_keys"), vec!["a"]);
        // A single flat value counts as a one-element list.
        assert_eq!(parse("expand=customer").strs("expand"), vec!["customer"]);
    }

    #[test]
    fn rack_style_arrays_of_hashes() {
        let p = parse("items[][price]=a&items[][quantity]=2&items[][price]=b");
        let items = p.list("items");
        assert_eq!(items.len(), 2);
        let Param::Map(first) = items[0] else { panic!() };
        assert_eq!(first.str("price"), Some("a"));
        assert_eq!(first.str("quantity"), Some("2"));
        let Param::Map(second) = items[1] else { panic!() };
        assert_eq!(second.str("price"), Some("b"));
    }

    #[test]
    fn numeric_metadata_keys_stay_hash_keys() {
        let p = parse("metadata[0]=zero&metadata[10]=ten");
        let m = p.map("metadata").unwrap();
        assert_eq!(m.str("0"), Some("zero"));
        assert_eq!(m.str("10"), Some("ten"));
    }

    #[test]
    fn malformed_keys_are_flat() {
        let p = parse("a[b=1&[x]=2&c[d]e=3");
        assert_eq!(p.str("a[b"), Some("1"));
        assert_eq!(p.str("[x]"), Some("2"));
        assert_eq!(p.str("c[d]e"), Some("3"));
    }

    #[test]
    fn nesting_is_capped_instead_of_overflowing_the_stack() {
        // 100 000 levels (300 KB of key) recursed once per level and aborted the process.
        for open in ["[b]", "[]", "[0]"] {
            let key = format!("a{}", open.repeat(100_000));
            let p = parse(&format!("{key}=1&ok[x]=2"));
            assert_eq!(p.str(&key), Some("1"), "too deep: kept as a flat key");
            assert_eq!(p.map("ok").unwrap().str("x"), Some("2"));
            assert!(p.check_known(&["ok"], "").is_err());
            let _ = (p.fingerprint(), p.to_json());
        }
        // The limit itself is still a path.
        let deepest = format!("a{}", "[b]".repeat(MAX_DEPTH));
        let root = parse(&format!("{deepest}=1"));
        let mut m = root.map("a").unwrap();
        for _ in 1..MAX_DEPTH {
            m = m.map("b").unwrap();
        }
        assert_eq!(m.str("b"), Some("1"));
        let too_deep = format!("a{}", "[b]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(&format!("{too_deep}=1")).str(&too_deep), Some("1"));
    }

    #[test]
    fn metadata_cleared_with_empty_string() {
        let p = parse("metadata=");
        assert_eq!(p.get("metadata"), Some(&Param::Str(String::new())));
    }

    #[test]
    fn typed_accessors_validate() {
        let p = parse("n=12&bad=x&t=true&f=false&b=maybe");
        assert_eq!(p.int("n").unwrap(), Some(12));
        assert_eq!(p.int("bad").unwrap_err().param.as_deref(), Some("bad"));
        assert_eq!(p.bool("t").unwrap(), Some(true));
        assert_eq!(p.bool("f").unwrap(), Some(false));
        assert!(p.bool("b").is_err());
        assert_eq!(p.int("missing").unwrap(), None);
    }

    #[test]
    fn check_known_reports_nested_name() {
        let p = parse("recurring[interval]=month&recurring[bogus]=1");
        let err = p.map("recurring").unwrap().check_known(&["interval"], "recurring").unwrap_err();
        assert_eq!(err.code.as_deref(), Some("parameter_unknown"));
        assert_eq!(err.param.as_deref(), Some("recurring[bogus]"));
        assert!(parse("expand[]=x&name=y").check_known(&["name"], "").is_ok());
    }

    #[test]
    fn fingerprint_ignores_pair_order() {
        assert_eq!(parse("a=1&b[c]=2").fingerprint(), parse("b[c]=2&a=1").fingerprint());
        assert_ne!(parse("a=1").fingerprint(), parse("a=2").fingerprint());
    }

    #[test]
    fn encode_roundtrips() {
        let s = "a b&c=d/é[x]";
        assert_eq!(decode(&encode(s)), s);
    }
}
