//! Hostile input to the sandbox's parsers (table 3 of `crates/payments-engine/ERROR_PATHS.md`):
//! the form/bracket parser and the `Stripe-Signature` check never panic, whatever the input.
//! Property tests run a few hundred cases from a fixed seed.

use proptest::prelude::*;
use stripe_sandbox::form::{self, Param, Params};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x666f_726d),
        ..ProptestConfig::default()
    }
}

/// Every accessor the sandbox's routes use, on every key of the tree, recursively.
fn exercise(p: &Params) {
    let _ = (p.fingerprint(), p.to_json(), p.check_known(&["a"], "x"));
    for (k, v) in p.iter() {
        let _ = (p.int(k), p.bool(k), p.strs(k), p.list(k), p.opt_str(k), p.req_str(k), p.one_of(k, &["a"]));
        if let Param::Map(m) = v {
            exercise(m);
        }
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn arbitrary_bodies_never_panic(body in any::<String>()) {
        exercise(&form::parse(&body));
    }

    /// Strings made of the notation's own characters hit the bracket and percent logic.
    #[test]
    fn bracket_soup_never_panics(body in "[a-c0-9\\[\\]=&%+.-]{0,200}") {
        exercise(&form::parse(&body));
        let _ = form::decode(&body);
    }

    #[test]
    fn percent_encoding_round_trips(s in any::<String>()) {
        prop_assert_eq!(form::decode(&form::encode(&s)), s);
    }

    /// Flat `key=value` pairs, values percent-encoded, read back as they were sent.
    #[test]
    fn flat_values_read_back(pairs in proptest::collection::btree_map("[a-z]{1,6}", "[^&=%+\\[\\]]{0,10}", 0..6)) {
        let body = pairs.iter().map(|(k, v)| format!("{k}={}", form::encode(v))).collect::<Vec<_>>().join("&");
        let p = form::parse(&body);
        for (k, v) in &pairs {
            prop_assert_eq!(p.str(k), Some(v.as_str()));
        }
    }

    #[test]
    fn arbitrary_signature_headers_never_panic(header in any::<String>(), t in any::<i64>(), tolerance in any::<i64>()) {
        let _ = stripe_sandbox::verify_signature(&header, "{}", "whsec_x", tolerance);
        let _ = stripe_sandbox::verify_signature(&format!("t={t},v1=00"), "{}", "whsec_x", tolerance);
    }
}

/// `(now - t).abs()` overflowed for these timestamps, before the signature was even checked.
#[test]
fn extreme_signature_timestamps_are_refused_without_overflow() {
    for t in [i64::MIN, i64::MAX, i64::MIN + 1] {
        let header = format!("t={t},v1=00");
        assert!(!stripe_sandbox::verify_signature(&header, "{}", "whsec_x", 300), "{t}");
        assert!(!stripe_sandbox::verify_signature(&header, "{}", "whsec_x", i64::MAX), "{t}");
    }
    let header = stripe_sandbox::sign_payload("whsec_x", i64::MIN, "{}");
    assert!(!stripe_sandbox::verify_signature(&header, "{}", "whsec_x", 300));
}

/// A deeply nested key (here 100 000 levels, 300 KB) recursed once per level and overflowed the
/// stack, which aborts the process: now it is kept as a flat (unknown) key.
#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let key = format!("metadata{}", "[a]".repeat(100_000));
    let p = form::parse(&format!("{key}=1"));
    assert_eq!(p.str(&key), Some("1"));
    exercise(&p);
}
