//! Hostile input to the client's parsers (table 3 of `crates/payments-engine/ERROR_PATHS.md`): a
//! `Retry-After` from the network, the `Stripe-Signature` header of incoming webhooks, and the
//! form encoding the sandbox (an independent implementation of Stripe's notation) must read back.
//!
//! Property tests run a few hundred cases from a fixed seed, so CI sees the same cases each run.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::Router;
use proptest::prelude::*;
use serde_json::{Map, Value};
use stripe_client::{
    sign_webhook_payload, verify_webhook_signature, ClientConfig, Form, FormValue, RetryPolicy, SignatureError,
    StripeClient,
};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5374_7269_7065),
        ..ProptestConfig::default()
    }
}

type Replies = Arc<Mutex<VecDeque<(u16, Option<&'static str>)>>>;

async fn scripted(State(replies): State<Replies>) -> Response {
    let (status, retry_after) = replies.lock().unwrap().pop_front().unwrap_or((500, None));
    let mut resp = Response::builder().status(status).header("content-type", "application/json");
    if let Some(v) = retry_after {
        resp = resp.header("retry-after", v);
    }
    let body = if status == 200 {
        r#"{"id":"acct_1","object":"account"}"#
    } else {
        r#"{"error":{"type":"invalid_request_error","code":"rate_limit","message":"slow down"}}"#
    };
    resp.body(Body::from(body)).unwrap()
}

/// A `Retry-After` too large for a `Duration` (or for `u64` seconds) panicked inside the client
/// (`Duration::from_secs_f64`). Now it is capped at `max_retry_after`, like any long wait.
#[tokio::test]
async fn an_absurd_retry_after_from_stripe_waits_the_capped_time() {
    let values = ["99999999999999999999", "1e30", "18446744073709551616", "inf", "1e309"];
    let replies: Replies = Arc::default();
    for v in values {
        replies.lock().unwrap().extend([(429, Some(v)), (200, None)]);
    }
    let app = Router::new().fallback(scripted).with_state(replies.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let cap = Duration::from_millis(30);
    let delays = Arc::new(Mutex::new(Vec::new()));
    let seen = delays.clone();
    let client = StripeClient::new(
        ClientConfig::new("sk_test_parsers")
            .api_base(&base)
            .retry_policy(RetryPolicy {
                max_retries: 1,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(1),
                max_retry_after: cap,
            })
            .on_retry(move |e| seen.lock().unwrap().push(e.delay)),
    )
    .unwrap();
    for v in values {
        let account =
            client.get::<Value>("/v1/account", &Form::new()).await.unwrap_or_else(|e| panic!("Retry-After: {v}: {e}"));
        assert_eq!(account.attempts, 2, "Retry-After: {v}");
    }
    assert_eq!(*delays.lock().unwrap(), vec![cap; values.len()]);
}

const SECRET: &str = "whsec_parsers";

proptest! {
    #![proptest_config(config(512))]

    /// Any header, any clock, any tolerance: an answer, never a panic.
    #[test]
    fn arbitrary_signature_headers_never_panic(
        header in any::<String>(),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        now in any::<i64>(),
        tolerance in any::<i64>(),
    ) {
        let _ = verify_webhook_signature(&body, &header, SECRET, tolerance, now);
    }

    /// Headers shaped like the real thing, with extreme numbers and broken hex.
    #[test]
    fn header_shaped_strings_never_panic(
        t in prop_oneof![any::<i64>().prop_map(|t| t.to_string()), "[-+0-9a-z ]{0,25}"],
        sigs in proptest::collection::vec("[0-9a-fA-F]{0,70}|[^,]{0,20}", 0..4),
        junk in "[=, a-z0-9]{0,20}",
        now in any::<i64>(),
        tolerance in any::<i64>(),
    ) {
        let mut header = format!("t={t}");
        for s in &sigs {
            header.push_str(&format!(",v1={s}"));
        }
        header.push_str(&junk);
        let _ = verify_webhook_signature(b"{}", &header, SECRET, tolerance, now);
    }

    /// What `sign_webhook_payload` signs always verifies within the tolerance, whatever the
    /// body, secret or timestamp.
    #[test]
    fn a_correctly_signed_payload_verifies(
        body in proptest::collection::vec(any::<u8>(), 0..256),
        secret in any::<String>(),
        t in any::<i64>(),
        tolerance in 0..=86_400_i64,
        skew in any::<i64>(),
    ) {
        let skew = if tolerance == 0 { 0 } else { skew % (tolerance + 1) };
        let now = t.saturating_add(skew);
        prop_assume!(now.abs_diff(t) <= tolerance as u64);
        let header = sign_webhook_payload(&body, &secret, t);
        prop_assert_eq!(verify_webhook_signature(&body, &header, &secret, tolerance, now), Ok(()));
    }

    /// Any single-byte change to the body breaks the signature.
    #[test]
    fn a_changed_body_never_verifies(
        body in proptest::collection::vec(any::<u8>(), 1..256),
        index in any::<prop::sample::Index>(),
        flip in 1..=255_u8,
        t in any::<i64>(),
    ) {
        let header = sign_webhook_payload(&body, SECRET, t);
        let mut changed = body.clone();
        changed[index.index(body.len())] ^= flip;
        prop_assert_eq!(
            verify_webhook_signature(&changed, &header, SECRET, i64::MAX, t),
            Err(SignatureError::Mismatch)
        );
    }

    /// Another secret never verifies.
    #[test]
    fn a_wrong_secret_never_verifies(
        body in proptest::collection::vec(any::<u8>(), 0..128),
        secret in any::<String>(),
        other in any::<String>(),
        t in any::<i64>(),
    ) {
        prop_assume!(secret != other);
        let header = sign_webhook_payload(&body, &secret, t);
        prop_assert_eq!(verify_webhook_signature(&body, &header, &other, i64::MAX, t), Err(SignatureError::Mismatch));
    }

    /// A correct signature whose timestamp is further than the tolerance from now is refused,
    /// in both directions, including at the ends of `i64`.
    #[test]
    fn timestamps_outside_the_tolerance_are_refused(
        t in any::<i64>(),
        tolerance in 0..=86_400_i64,
        beyond in 1..=i64::MAX,
        later in any::<bool>(),
    ) {
        let now = if later { t.checked_add(tolerance).and_then(|n| n.checked_add(beyond)) }
                  else { t.checked_sub(tolerance).and_then(|n| n.checked_sub(beyond)) };
        prop_assume!(now.is_some());
        let header = sign_webhook_payload(b"{}", SECRET, t);
        let refused = matches!(
            verify_webhook_signature(b"{}", &header, SECRET, tolerance, now.unwrap()),
            Err(SignatureError::OutsideTolerance { .. })
        );
        prop_assert!(refused);
    }
}

/// A tree of form values the encoder can express unambiguously: map keys are non-empty and
/// bracket-free (a key holding `[` would be read as nesting: that is the notation).
fn form_value() -> impl Strategy<Value = FormValue> {
    let key = "[^\\[\\]]{1,8}";
    any::<String>().prop_map(FormValue::Scalar).prop_recursive(4, 24, 4, move |inner| {
        prop_oneof![
            proptest::collection::vec(any::<String>().prop_map(FormValue::Scalar), 0..4).prop_map(FormValue::List),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(FormValue::List),
            proptest::collection::btree_map(key, inner, 0..4).prop_map(|m| FormValue::Map(m.into_iter().collect())),
        ]
    })
}

/// What the sandbox's parser (which keeps arrays as index-keyed maps) should read back for a
/// value; `None` when the encoder emits nothing for it (an empty list).
fn expected(v: &FormValue) -> Option<Value> {
    match v {
        FormValue::Scalar(s) => Some(Value::String(s.clone())),
        FormValue::Map(entries) if entries.is_empty() => Some(Value::String(String::new())),
        FormValue::Map(entries) => {
            let m: Map<String, Value> = entries.iter().filter_map(|(k, v)| Some((k.clone(), expected(v)?))).collect();
            (!m.is_empty()).then_some(Value::Object(m))
        }
        FormValue::List(items) => {
            let m: Map<String, Value> =
                items.iter().enumerate().filter_map(|(i, v)| Some((i.to_string(), expected(v)?))).collect();
            (!m.is_empty()).then_some(Value::Object(m))
        }
    }
}

proptest! {
    #![proptest_config(config(300))]

    /// `Form::encode` → the sandbox's `form::parse` gives back the tree (arrays as index maps).
    #[test]
    fn encoded_forms_parse_back(fields in proptest::collection::btree_map("[a-z_]{1,8}", form_value(), 0..5)) {
        let mut form = Form::new();
        let mut want = Map::new();
        for (k, v) in &fields {
            form.insert(k.clone(), v.clone());
            if let Some(e) = expected(v) {
                want.insert(k.clone(), e);
            }
        }
        let parsed = stripe_sandbox::form::parse(&form.encode());
        prop_assert_eq!(parsed.to_json(), Value::Object(want));
    }

    /// Flat pairs with arbitrary keys and values round-trip through the percent-encoding.
    #[test]
    fn scalars_round_trip(values in proptest::collection::btree_map("[a-z]{1,6}", any::<String>(), 0..6)) {
        let form = values.iter().fold(Form::new(), |f, (k, v)| f.set(k.clone(), v.clone()));
        let parsed = stripe_sandbox::form::parse(&form.encode());
        let back: BTreeMap<String, String> =
            parsed.iter().map(|(k, _)| (k.to_owned(), parsed.str(k).unwrap_or("<not a string>").to_owned())).collect();
        prop_assert_eq!(back, values);
    }
}
