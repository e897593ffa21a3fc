//! Verification of incoming webhooks' `Stripe-Signature` header (our
//! receiver's side of Stripe's signing scheme).
//!
//! The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=…]`; each `v1` is
//! `HMAC-SHA256(endpoint secret, "<t>.<raw body>")`. Several `v1` entries
//! appear while a secret is being rolled; any one matching is enough.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Stripe's libraries' default tolerance between `t` and now, in seconds.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Why a webhook signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header has no parsable `t=` entry.
    #[error("Stripe-Signature header has no valid timestamp")]
    MissingTimestamp,
    /// The header has no `v1=` entry.
    #[error("Stripe-Signature header has no v1 signature")]
    NoSignatures,
    /// No `v1` entry matches the payload and secret.
    #[error("no signature matches the payload")]
    Mismatch,
    /// `t` is further than the tolerance from now (a replay, or a skewed clock).
    #[error("signature timestamp {timestamp} is outside the tolerance of {tolerance_secs}s (now {now})")]
    OutsideTolerance {
        /// The header's `t`.
        timestamp: i64,
        /// The receiver's clock.
        now: i64,
        /// The allowed difference.
        tolerance_secs: i64,
    },
}

fn mac(secret: &str, timestamp: i64, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

/// Verifies a `Stripe-Signature` `header` for the raw request body
/// `payload` with the endpoint's signing `secret` (`whsec_…`).
///
/// Accepts the header when any `v1` signature matches (compared in constant
/// time) and `|now - t| <= tolerance_secs`. `now` is passed in (Unix
/// seconds) so that callers and tests control the clock.
pub fn verify_webhook_signature(
    payload: &[u8],
    header: &str,
    secret: &str,
    tolerance_secs: i64,
    now: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.trim().parse::<i64>().ok(),
            Some(("v1", sig)) => signatures.push(sig.trim()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::MissingTimestamp)?;
    if signatures.is_empty() {
        return Err(SignatureError::NoSignatures);
    }
    let expected = mac(secret, timestamp, payload);
    // `verify_slice` is constant-time; a malformed hex entry simply does not match.
    let matched = signatures
        .iter()
        .filter_map(|sig| hex::decode(sig).ok())
        .any(|bytes| expected.clone().verify_slice(&bytes).is_ok());
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    // Checked after the signature, like Stripe's libraries, so that a bad
    // signature is reported as such whatever its age.
    // `abs_diff`, not `(now - t).abs()`: `t` is whatever the header says (`t=-9223372036854775808`),
    // and the subtraction would overflow. A negative tolerance accepts nothing but `t == now`.
    if now.abs_diff(timestamp) > tolerance_secs.max(0).unsigned_abs() {
        return Err(SignatureError::OutsideTolerance { timestamp, now, tolerance_secs });
    }
    Ok(())
}

/// Builds a `Stripe-Signature` header for `payload`, as Stripe would send
/// it: for tests and for re-signing in development tools.
pub fn sign_webhook_payload(payload: &[u8], secret: &str, timestamp: i64) -> String {
    format!("t={timestamp},v1={}", hex::encode(mac(secret, timestamp, payload).finalize().into_bytes()))
}

/// The current Unix time in seconds, for [`verify_webhook_signature`]'s `now`.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","object":"event","type":"customer.created"}"#;
    const T: i64 = 1_764_000_000;

    #[test]
    fn accepts_a_valid_signature() {
        let header = sign_webhook_payload(BODY, SECRET, T);
        assert_eq!(verify_webhook_signature(BODY, &header, SECRET, 300, T + 10), Ok(()));
    }

    #[test]
    fn matches_a_known_vector() {
        // Computed independently with:
        // printf '%s' '1764000000.<BODY>' | openssl dgst -sha256 -hmac whsec_test_secret
        let header = sign_webhook_payload(BODY, SECRET, T);
        assert_eq!(header, "t=1764000000,v1=d5f52d58ad3be6e4d04e9c0a8247b339e107b4c65cc9122ca2bb83d520b31441");
        // And the sandbox (which signs real deliveries) agrees.
        assert_eq!(header, stripe_sandbox::sign_payload(SECRET, T, std::str::from_utf8(BODY).unwrap()));
    }

    #[test]
    fn any_of_several_v1_entries_may_match() {
        let good = sign_webhook_payload(BODY, SECRET, T);
        let good_sig = good.split_once("v1=").unwrap().1;
        let header = format!("t={T},v1={},v1={good_sig},v0=deadbeef", "ab".repeat(32));
        assert_eq!(verify_webhook_signature(BODY, &header, SECRET, 300, T), Ok(()));
    }

    #[test]
    fn rejects_wrong_secret_body_or_garbage() {
        let header = sign_webhook_payload(BODY, SECRET, T);
        assert_eq!(verify_webhook_signature(BODY, &header, "whsec_other", 300, T), Err(SignatureError::Mismatch));
        assert_eq!(verify_webhook_signature(b"{}", &header, SECRET, 300, T), Err(SignatureError::Mismatch));
        let garbage = format!("t={T},v1=not-hex");
        assert_eq!(verify_webhook_signature(BODY, &garbage, SECRET, 300, T), Err(SignatureError::Mismatch));
    }

    #[test]
    fn rejects_timestamps_outside_tolerance_both_ways() {
        let header = sign_webhook_payload(BODY, SECRET, T);
        assert_eq!(verify_webhook_signature(BODY, &header, SECRET, 300, T + 300), Ok(()));
        assert!(matches!(
            verify_webhook_signature(BODY, &header, SECRET, 300, T + 301),
            Err(SignatureError::OutsideTolerance { .. })
        ));
        assert!(matches!(
            verify_webhook_signature(BODY, &header, SECRET, 300, T - 301),
            Err(SignatureError::OutsideTolerance { .. })
        ));
    }

    #[test]
    fn rejects_malformed_headers() {
        assert_eq!(verify_webhook_signature(BODY, "v1=abc", SECRET, 300, T), Err(SignatureError::MissingTimestamp));
        assert_eq!(
            verify_webhook_signature(BODY, "t=abc,v1=abc", SECRET, 300, T),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            verify_webhook_signature(BODY, &format!("t={T}"), SECRET, 300, T),
            Err(SignatureError::NoSignatures)
        );
        assert_eq!(verify_webhook_signature(BODY, "", SECRET, 300, T), Err(SignatureError::MissingTimestamp));
    }

    #[test]
    fn extreme_timestamps_are_refused_without_overflow() {
        // `(now - t).abs()` overflowed (a panic in debug builds) for these signed headers.
        for (t, now) in [(i64::MIN, T), (i64::MAX, -1), (i64::MIN, i64::MAX), (i64::MAX, i64::MIN)] {
            let header = sign_webhook_payload(BODY, SECRET, t);
            assert!(
                matches!(
                    verify_webhook_signature(BODY, &header, SECRET, 300, now),
                    Err(SignatureError::OutsideTolerance { .. })
                ),
                "t={t} now={now}"
            );
        }
        let header = sign_webhook_payload(BODY, SECRET, i64::MIN);
        assert_eq!(verify_webhook_signature(BODY, &header, SECRET, i64::MAX, i64::MIN), Ok(()));
    }

    #[test]
    fn a_signature_for_another_timestamp_does_not_verify() {
        let header = sign_webhook_payload(BODY, SECRET, T);
        let replayed = header.replace(&format!("t={T}"), &format!("t={}", T + 1));
        assert_eq!(verify_webhook_signature(BODY, &replayed, SECRET, 300, T), Err(SignatureError::Mismatch));
    }
}
