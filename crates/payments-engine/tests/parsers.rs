//! Property tests of the engine's parsers of caller input (table 3 of
//! `crates/payments-engine/ERROR_PATHS.md`): HS256 JWTs and the list routes' date filters. Cursor
//! decoding is private and tested in `src/lists.rs`. A few hundred cases each, from a fixed seed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use payments_engine::time::{iso_ms, parse_time, MAX_ABS_MS};
use payments_engine::{sign_hs256, verify_hs256};
use proptest::prelude::*;
use serde_json::json;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6a77_7473),
        ..ProptestConfig::default()
    }
}

const SECRET: &[u8] = b"parsers-secret";
/// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
const FIRST_MS: i64 = -62_167_219_200_000;
const LAST_MS: i64 = 253_402_300_799_999;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn arbitrary_tokens_never_panic(token in any::<String>(), secret in proptest::collection::vec(any::<u8>(), 0..40)) {
        let _ = verify_hs256(&token, &secret);
    }

    /// Three base64url parts of arbitrary bytes or JSON, the shape a verifier must decode.
    #[test]
    fn token_shaped_strings_never_panic(
        header in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40),
            Just(br#"{"alg":"HS256"}"#.to_vec()),
            Just(br#"{"alg":"none"}"#.to_vec()),
        ],
        payload in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..80),
            any::<i64>().prop_map(|n| format!(r#"{{"exp":{n},"nbf":{n}}}"#).into_bytes()),
            Just(br#"{"exp":1e400}"#.to_vec()),
            Just(br#"{"exp":18446744073709551616}"#.to_vec()),
        ],
        signature in proptest::collection::vec(any::<u8>(), 0..40),
        extra in "(\\.[A-Za-z0-9_-]{0,8}){0,2}",
    ) {
        let token = format!("{}.{}.{}{extra}", b64(&header), b64(&payload), b64(&signature));
        let _ = verify_hs256(&token, SECRET);
        // Correctly signed, so the claims (extreme `exp`/`nbf`) are parsed too.
        let signed = format!("{}.{}", b64(&header), b64(&payload));
        let _ = verify_hs256(&resign(&signed), SECRET);
    }

    /// What `sign_hs256` signs verifies, and gives back its claims.
    #[test]
    fn signed_tokens_verify(
        sub in any::<String>(),
        role in "[a-z_]{1,20}",
        exp in 4_000_000_000_i64..i64::MAX,
        secret in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let token = sign_hs256(&json!({"sub": sub, "role": role, "exp": exp}), &secret);
        let claims = verify_hs256(&token, &secret).unwrap();
        prop_assert_eq!(claims.sub.as_deref(), Some(sub.as_str()));
        prop_assert_eq!(claims.role.as_deref(), Some(role.as_str()));
        prop_assert_eq!(claims.exp, Some(exp));
    }

    /// Any change to one character of the token (header, payload or signature), another secret,
    /// or a payload swapped for another signed one: refused.
    #[test]
    fn altered_tokens_are_refused(
        sub in "[a-z0-9]{1,12}",
        index in any::<prop::sample::Index>(),
        replacement in proptest::char::range('-', 'z'),
        other_secret in proptest::collection::vec(any::<u8>(), 0..32),
    ) {
        let token = sign_hs256(&json!({"sub": sub, "role": "project_admin", "exp": 4_102_444_800_i64}), SECRET);
        let at = index.index(token.len());
        let original = token.as_bytes()[at] as char;
        prop_assume!(original != replacement && original != '.');
        let mut altered = token.clone();
        altered.replace_range(at..=at, &replacement.to_string());
        // Base64url's last character may carry unused bits: a change there can decode the same.
        if verify_hs256(&altered, SECRET).is_ok() {
            let parts = |t: &str| t.split('.').map(|p| URL_SAFE_NO_PAD.decode(p).ok()).collect::<Vec<_>>();
            prop_assert_eq!(parts(&altered), parts(&token));
        }
        prop_assume!(other_secret != SECRET);
        prop_assert!(verify_hs256(&token, &other_secret).is_err());
        // The payload of another token with this signature.
        let (head, rest) = token.split_once('.').unwrap();
        let signature = rest.split_once('.').unwrap().1;
        let forged_payload = b64(json!({"sub": "admin", "role": "project_admin"}).to_string().as_bytes());
        let forged = format!("{head}.{forged_payload}.{signature}");
        prop_assert!(verify_hs256(&forged, SECRET).is_err());
    }
}

/// Signs `header.payload` with [`SECRET`] (whatever the header says).
fn resign(signing_input: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", b64(&mac.finalize().into_bytes()))
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn arbitrary_date_strings_never_panic(s in any::<String>()) {
        if let Some(ms) = parse_time(&s) {
            prop_assert!(ms.unsigned_abs() <= MAX_ABS_MS as u64);
        }
    }

    /// Digit soup shaped like dates, with absurd field widths: refused or in range, never a panic.
    #[test]
    fn date_shaped_strings_never_panic(
        s in "[+-]?[0-9]{0,20}(-[0-9]{0,20}){0,3}(T[0-9]{0,20}(:[0-9]{0,20}){0,3}(\\.[0-9]{0,12})?Z?)?",
    ) {
        if let Some(ms) = parse_time(&s) {
            prop_assert!(ms.unsigned_abs() <= MAX_ABS_MS as u64);
        }
    }

    /// `iso_ms` → `parse_time` is the identity over years 0000–9999, to the millisecond.
    #[test]
    fn iso_timestamps_round_trip(ms in FIRST_MS..=LAST_MS) {
        prop_assert_eq!(parse_time(&iso_ms(ms)), Some(ms));
    }

    /// A date alone is its midnight, and prints back as the same date.
    #[test]
    fn dates_round_trip(day in (FIRST_MS / 86_400_000)..=(LAST_MS / 86_400_000)) {
        let iso = iso_ms(day * 86_400_000);
        let date = &iso[..10];
        prop_assert_eq!(parse_time(date), Some(day * 86_400_000));
        prop_assert_eq!(&iso_ms(parse_time(date).unwrap())[..10], date);
    }

    /// Unix milliseconds are taken as they are, within JavaScript's `Date` range.
    #[test]
    fn unix_milliseconds_round_trip(ms in any::<i64>()) {
        prop_assert_eq!(parse_time(&ms.to_string()), (ms.unsigned_abs() <= MAX_ABS_MS as u64).then_some(ms));
    }
}
