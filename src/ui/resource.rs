//! `Resource::new` with its JSON decoded the way server functions decode their responses.
//!
//! A resource's value crosses from the server in the page as JSON, which `Resource::new` reads
//! with `serde_json::from_str`; a server function's response is read with `serde_json::from_slice`.
//! Every type that arrives both ways (the pages' data, `Result<_, AppError>`) had its JSON reader
//! compiled twice into the browser bundle, one per input type (issue #13). [`resource`] reads the
//! same text with `from_slice`, so one copy serves both; what is sent and how it parses are the same.

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;

/// The JSON codec of [`resource`]: `serde_json::to_string` out, `serde_json::from_slice` in.
pub struct JsonCodec;

impl<T: Serialize> Encoder<T> for JsonCodec {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(val)
    }
}

impl<T: DeserializeOwned> Decoder<T> for JsonCodec {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(val.as_bytes())
    }
}

/// `Resource::new(source, fetcher)`, with the [`JsonCodec`] codec.
#[track_caller]
pub fn resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, JsonCodec>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::JsonCodec;
    use leptos::server::codee::{Decoder, Encoder};

    /// What `Resource::new`'s codec (`from_str`) reads, this one reads alike, errors included.
    #[test]
    fn decodes_as_from_str_does() {
        type Value = Result<Vec<(String, Option<u32>)>, String>;
        let value: Value = Ok(vec![("é \"q\" \u{1F600}".into(), Some(7)), ("".into(), None)]);
        let text = <JsonCodec as Encoder<Value>>::encode(&value).unwrap();
        assert_eq!(text, serde_json::to_string(&value).unwrap());
        assert_eq!(<JsonCodec as Decoder<Value>>::decode(&text).unwrap(), value);
        for bad in ["", "{", r#"{"Ok":[["a",1,2]]}"#, r#"{"Err":"\ud800"}"#, "[1] x"] {
            let ours = <JsonCodec as Decoder<Value>>::decode(bad).map_err(|e| e.to_string());
            let theirs = serde_json::from_str::<Value>(bad).map_err(|e| e.to_string());
            assert_eq!(ours, theirs, "{bad:?}");
        }
    }
}
