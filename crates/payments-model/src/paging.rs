//! Keyset paging (additive to the contract): the opaque [`Cursor`] a page hands back as
//! `nextCursor`, and the [`Paging`] a list request asks for with its `cursor` parameter.
//!
//! A list request without `cursor` is the contract's request and its answer has no
//! `nextCursor`; `cursor=` (empty) asks for the first page with a cursor back; `cursor=<c>` for
//! the page after `c`. Only the backend that issued a cursor reads what is inside it (the
//! embedded engine decodes its sort keys from it); everyone else carries it as it came.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize};

/// The cursor of a next page, as the backend issued it. Never empty: an empty `cursor`
/// parameter means the first page ([`Paging::First`]), so it is not a cursor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    /// The cursor a page hands back, or `None` for an empty token (which names no page).
    pub fn new(token: impl Into<String>) -> Option<Self> {
        let token = token.into();
        (!token.is_empty()).then_some(Cursor(token))
    }

    /// The token, as it goes in a query string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Cursor {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Refuses the empty string, so that a deserialised `Cursor` keeps [`Cursor::new`]'s promise.
impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let token = String::deserialize(d)?;
        Cursor::new(token).ok_or_else(|| de::Error::invalid_value(de::Unexpected::Str(""), &"a non-empty cursor"))
    }
}

/// Which page a list request asks for: its `cursor` parameter, typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Paging {
    /// No `cursor`: the contract's request, answered without `nextCursor`.
    #[default]
    Unpaged,
    /// `cursor=` (empty): the first page, answered with the next page's cursor.
    First,
    /// `cursor=<c>`: the page after the one that handed back `c`.
    After(Cursor),
}

impl Paging {
    /// The paging a `cursor` parameter asks for: absent, empty or a cursor. Surrounding spaces
    /// are not part of a cursor (ours are URL-safe base64).
    pub fn from_param(cursor: Option<&str>) -> Self {
        match cursor.map(str::trim) {
            None => Paging::Unpaged,
            Some(c) => Paging::from_cursor(Cursor::new(c)),
        }
    }

    /// A paged request: the page after `cursor`, or the first page without one.
    pub fn from_cursor(cursor: Option<Cursor>) -> Self {
        cursor.map_or(Paging::First, Paging::After)
    }

    /// The `cursor` parameter that asks for this paging: none, empty, or the cursor.
    pub fn param(&self) -> Option<&str> {
        match self {
            Paging::Unpaged => None,
            Paging::First => Some(""),
            Paging::After(c) => Some(c.as_str()),
        }
    }

    /// Whether the answer carries `nextCursor`: the caller sent a `cursor` (empty or not).
    pub fn is_paged(&self) -> bool {
        !matches!(self, Paging::Unpaged)
    }

    /// The cursor to continue after, if any.
    pub fn cursor(&self) -> Option<&Cursor> {
        match self {
            Paging::After(c) => Some(c),
            Paging::Unpaged | Paging::First => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_never_empty() {
        assert_eq!(Cursor::new(""), None);
        assert_eq!(Cursor::new("WzEsImEiXQ").map(|c| c.to_string()), Some("WzEsImEiXQ".to_owned()));
        assert!(serde_json::from_str::<Cursor>("\"\"").is_err());
        let c: Cursor = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!((c.as_str(), serde_json::to_string(&c).unwrap().as_str()), ("abc", "\"abc\""));
    }

    /// The parameter round-trips: absent → unpaged, empty (or blank) → first page, else after it.
    #[test]
    fn the_cursor_parameter_names_the_paging() {
        for (param, paging, back) in [
            (None, Paging::Unpaged, None),
            (Some(""), Paging::First, Some("")),
            (Some("  "), Paging::First, Some("")),
            (Some(" c_2 "), Paging::After(Cursor::new("c_2").unwrap()), Some("c_2")),
        ] {
            let read = Paging::from_param(param);
            assert_eq!(read, paging, "{param:?}");
            assert_eq!(read.param(), back);
            assert_eq!(read.is_paged(), param.is_some());
            assert_eq!(read.cursor().map(Cursor::as_str), back.filter(|c| !c.is_empty()));
        }
        assert_eq!(Paging::from_cursor(None), Paging::First);
    }
}
