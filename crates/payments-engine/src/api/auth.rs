//! Authentication of payments API callers (§1.2), pluggable through [`Authenticator`].
//!
//! The console implements [`Authenticator`] with its API keys and console sessions. This module
//! provides the pieces that follow the contract: credential detection ([`Credential`]), HS256
//! JWT verification ([`verify_hs256`]) with the `role` rules, the admin guard's messages, and
//! [`SimpleAuthenticator`] (static API keys + a JWT secret) for tests and small deployments.
//!
//! Section numbers (§) in this file are those of `contract/BEHAVIOUR.md`.

use std::future::Future;
use std::pin::Pin;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::api::errors::ApiError;
use crate::api::ApiState;
use crate::checkout::BillingSubject;
use crate::subjects::granted_subjects;

/// A boxed, sendable future (keeps [`Authenticator`] object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Full admin: an API key (`ik_…`) or a console admin session.
    Admin {
        /// For logs and the audit trail (e.g. `api_key:<name>`, `user:<email>`).
        actor: String,
    },
    /// Support staff: may use GET routes only.
    ReadOnly {
        /// For logs and the audit trail.
        actor: String,
    },
    /// A JWT bearer (`sub`, `email`, `role` claims). Only `role = project_admin` passes the
    /// admin guard; runtime routes accept `anon`, `authenticated` and `project_admin`.
    User {
        /// `sub`.
        id: String,
        /// `email`.
        email: Option<String>,
        /// `role` (empty when the claim is missing).
        role: String,
        /// The billing subjects the token grants ([`crate::SUBJECTS_CLAIM`]).
        subjects: Vec<BillingSubject>,
    },
}

impl Caller {
    /// A short description for logs.
    pub fn actor(&self) -> String {
        match self {
            Caller::Admin { actor } | Caller::ReadOnly { actor } => actor.clone(),
            Caller::User { id, role, .. } => format!("jwt:{role}:{id}"),
        }
    }
}

/// Why a caller was not authenticated. The guard turns these into the contract's messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credentials at all (401 `AUTH_INVALID_CREDENTIALS`).
    #[error("no credentials")]
    MissingCredentials,
    /// A bearer token that is not a valid JWT (401 `AUTH_INVALID_CREDENTIALS`).
    #[error("invalid token")]
    InvalidToken,
    /// An API key that is not valid (401 `AUTH_INVALID_API_KEY`).
    #[error("invalid API key")]
    InvalidApiKey,
    /// Authenticated but not allowed (403 `AUTH_UNAUTHORIZED`, with this message).
    #[error("{0}")]
    Forbidden(String),
}

/// Identifies callers from request headers.
pub trait Authenticator: Send + Sync {
    /// Authenticates the request. Use [`Credential::from_headers`] for the contract's rules on
    /// where API keys and tokens are found.
    fn authenticate<'a>(&'a self, headers: &'a HeaderMap) -> BoxFuture<'a, Result<Caller, AuthError>>;
}

/// The credential a request carries, per §1.2: an API key is `x-api-key: <key>` or
/// `Authorization: Bearer ik_…`; any other bearer token is a JWT.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// An API key.
    ApiKey(Zeroizing<String>),
    /// A bearer JWT.
    Jwt(Zeroizing<String>),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::ApiKey(_) => "ApiKey(<redacted>)",
            Credential::Jwt(_) => "Jwt(<redacted>)",
        })
    }
}

impl Credential {
    /// Finds the credential of a request, API keys first (as the reference does).
    pub fn from_headers(headers: &HeaderMap) -> Option<Credential> {
        let bearer = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()).filter(|k| !k.is_empty()) {
            return Some(Credential::ApiKey(Zeroizing::new(key.to_owned())));
        }
        match bearer {
            Some(t) if t.starts_with("ik_") => Some(Credential::ApiKey(Zeroizing::new(t.to_owned()))),
            Some(t) => Some(Credential::Jwt(Zeroizing::new(t.to_owned()))),
            None => None,
        }
    }
}

/// The claims the payments API reads from a JWT.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwtClaims {
    /// User id.
    #[serde(default)]
    pub sub: Option<String>,
    /// User email.
    #[serde(default)]
    pub email: Option<String>,
    /// `anon`, `authenticated` or `project_admin`.
    #[serde(default)]
    pub role: Option<String>,
    /// Expiry (Unix seconds); absent for the non-expiring anon key.
    #[serde(default)]
    pub exp: Option<i64>,
    /// Not valid before (Unix seconds).
    #[serde(default)]
    pub nbf: Option<i64>,
    /// Billing subjects the token may act for besides `user:<sub>` (read by
    /// [`crate::granted_subjects`]; any JSON, so that a malformed claim grants nothing instead
    /// of failing the token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_subjects: Option<serde_json::Value>,
}

/// A JWT that failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts of JSON.
    #[error("malformed token")]
    Malformed,
    /// `alg` is not `HS256` (in particular `none` is refused).
    #[error("unsupported algorithm")]
    Algorithm,
    /// The signature does not match.
    #[error("bad signature")]
    Signature,
    /// Expired or not yet valid.
    #[error("token expired or not yet valid")]
    Expired,
}

/// Verifies an HS256 JWT with `secret` and returns its claims (`exp`/`nbf` checked when present).
///
/// The `jsonwebtoken` crate splits and decodes the token and checks the signature (in constant
/// time) with the algorithm pinned to HS256. Two checks stay here, on purpose:
/// - `alg` is read first, so that `none` or another algorithm is reported as
///   [`JwtError::Algorithm`] (the crate cannot even parse `none`);
/// - `exp` and `nbf` are compared here, as signed seconds: the crate reads them as unsigned and
///   would let a negative `exp` pass, and it treats `exp` equal to now as still valid, where a
///   token is expired from its `exp` on.
pub fn verify_hs256(token: &str, secret: &[u8]) -> Result<JwtClaims, JwtError> {
    use jsonwebtoken::errors::ErrorKind;
    if token.split('.').count() != 3 {
        return Err(JwtError::Malformed);
    }
    let header = token.split('.').next().unwrap_or_default();
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).map_err(|_| JwtError::Malformed)?)
            .map_err(|_| JwtError::Malformed)?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(JwtError::Algorithm);
    }
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    // The contract checks no claim but the times (the anon key has no `exp`); those are below.
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let key = jsonwebtoken::DecodingKey::from_secret(secret);
    let claims = match jsonwebtoken::decode::<JwtClaims>(token, &key, &validation) {
        Ok(data) => data.claims,
        Err(e) if *e.kind() == ErrorKind::InvalidSignature => return Err(JwtError::Signature),
        Err(e) if matches!(e.kind(), ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName) => {
            return Err(JwtError::Algorithm)
        }
        Err(_) => return Err(JwtError::Malformed),
    };
    let now = crate::time::now_ms() / 1000;
    if claims.exp.is_some_and(|exp| now >= exp) || claims.nbf.is_some_and(|nbf| now < nbf) {
        return Err(JwtError::Expired);
    }
    Ok(claims)
}

/// Signs claims as an HS256 JWT (for tests and tools that mint tokens).
pub fn sign_hs256(claims: &serde_json::Value, secret: &[u8]) -> String {
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    jsonwebtoken::encode(&header, claims, &jsonwebtoken::EncodingKey::from_secret(secret))
        .expect("JSON claims serialise and HMAC accepts keys of any length")
}

/// The caller a verified JWT stands for.
pub fn caller_from_claims(claims: JwtClaims) -> Caller {
    Caller::User {
        subjects: granted_subjects(claims.billing_subjects.as_ref()),
        id: claims.sub.unwrap_or_default(),
        email: claims.email,
        role: claims.role.unwrap_or_default(),
    }
}

/// Static API keys (full and read-only) plus HS256 JWTs: for tests and single-user setups.
pub struct SimpleAuthenticator {
    admin_key_digests: Vec<[u8; 32]>,
    read_only_key_digests: Vec<[u8; 32]>,
    jwt_secret: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for SimpleAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimpleAuthenticator").finish_non_exhaustive()
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Compares digests without an early exit, so timing does not reveal a matching prefix.
fn digest_in(list: &[[u8; 32]], d: &[u8; 32]) -> bool {
    list.iter().fold(false, |found, k| found | (k.iter().zip(d).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0))
}

impl SimpleAuthenticator {
    /// Accepts `admin_keys` as admins, `read_only_keys` as read-only callers, and JWTs signed
    /// with `jwt_secret`. Only digests of the keys are kept.
    pub fn new(admin_keys: &[&str], read_only_keys: &[&str], jwt_secret: &[u8]) -> Self {
        Self {
            admin_key_digests: admin_keys.iter().map(|k| digest(k)).collect(),
            read_only_key_digests: read_only_keys.iter().map(|k| digest(k)).collect(),
            jwt_secret: Zeroizing::new(jwt_secret.to_vec()),
        }
    }
}

impl Authenticator for SimpleAuthenticator {
    fn authenticate<'a>(&'a self, headers: &'a HeaderMap) -> BoxFuture<'a, Result<Caller, AuthError>> {
        Box::pin(async move {
            match Credential::from_headers(headers) {
                None => Err(AuthError::MissingCredentials),
                Some(Credential::ApiKey(key)) => {
                    let d = digest(&key);
                    if digest_in(&self.admin_key_digests, &d) {
                        Ok(Caller::Admin { actor: "api_key".to_owned() })
                    } else if digest_in(&self.read_only_key_digests, &d) {
                        Ok(Caller::ReadOnly { actor: "read_only_api_key".to_owned() })
                    } else {
                        Err(AuthError::InvalidApiKey)
                    }
                }
                Some(Credential::Jwt(token)) => {
                    verify_hs256(&token, &self.jwt_secret).map(caller_from_claims).map_err(|_| AuthError::InvalidToken)
                }
            }
        })
    }
}

/// The admin guard's decision (§1.2 `verifyAdmin`); read-only callers may only read.
pub fn admin_decision(result: Result<Caller, AuthError>, method: &Method) -> Result<Caller, ApiError> {
    const ADMIN_REQUIRED: &str = "Admin access required";
    match result {
        Err(AuthError::MissingCredentials) => {
            Err(ApiError::new(401, "AUTH_INVALID_CREDENTIALS", "No admin token provided"))
        }
        Err(AuthError::InvalidToken) => Err(ApiError::new(401, "AUTH_INVALID_CREDENTIALS", "Invalid admin token")),
        Err(AuthError::InvalidApiKey) => Err(ApiError::new(401, "AUTH_INVALID_API_KEY", "Invalid API key")),
        Err(AuthError::Forbidden(message)) => Err(ApiError::new(403, "AUTH_UNAUTHORIZED", message)),
        Ok(caller @ Caller::Admin { .. }) => Ok(caller),
        Ok(caller @ Caller::User { .. }) if matches!(&caller, Caller::User { role, .. } if role == "project_admin") => {
            Ok(caller)
        }
        Ok(Caller::User { .. }) => Err(ApiError::new(403, "AUTH_UNAUTHORIZED", ADMIN_REQUIRED)),
        Ok(caller @ Caller::ReadOnly { .. }) if *method == Method::GET || *method == Method::HEAD => Ok(caller),
        Ok(Caller::ReadOnly { .. }) => Err(ApiError::new(403, "AUTH_UNAUTHORIZED", ADMIN_REQUIRED)),
    }
}

/// The user guard's decision (§1.2 `verifyUser`, runtime routes): any valid API key or JWT
/// passes here; the routes then require a user token and check its role.
pub fn user_decision(result: Result<Caller, AuthError>) -> Result<Caller, ApiError> {
    match result {
        Err(AuthError::MissingCredentials) => Err(ApiError::new(401, "AUTH_INVALID_CREDENTIALS", "No token provided")),
        Err(AuthError::InvalidToken) => Err(ApiError::new(401, "AUTH_INVALID_CREDENTIALS", "Invalid token")),
        Err(AuthError::InvalidApiKey) => Err(ApiError::new(401, "AUTH_INVALID_API_KEY", "Invalid API key")),
        Err(AuthError::Forbidden(message)) => Err(ApiError::new(403, "AUTH_UNAUTHORIZED", message)),
        Ok(caller) => Ok(caller),
    }
}

/// Whether a request (path relative to `/api/payments` or absolute) is one of the two runtime
/// routes, which the reference registers before its admin guard (§2.1).
fn is_runtime_route(method: &Method, path: &str) -> bool {
    let path = path.strip_prefix("/api/payments").unwrap_or(path);
    let mut parts = path.trim_start_matches('/').split('/');
    *method == Method::POST
        && matches!(
            (parts.next(), parts.next(), parts.next()),
            (Some(env), Some("checkout-sessions" | "customer-portal-sessions"), None) if !env.is_empty()
        )
}

/// A caller already authenticated by the host application, for requests it sends to the router
/// in process (`tower::ServiceExt::oneshot`). Request extensions never come from the wire, so
/// only code in this process can set one; the guard's role rules still apply to it.
#[derive(Debug, Clone)]
pub struct InProcessCaller(pub Caller);

/// Middleware running the admin guard before anything else on the admin routes — before
/// path/body validation and before the unknown-endpoint 404, as in the reference (§2.1). The
/// two runtime routes get the user guard instead.
pub(crate) async fn require_admin(State(state): State<ApiState>, mut req: Request, next: Next) -> Response {
    let result = match req.extensions_mut().remove::<InProcessCaller>() {
        Some(InProcessCaller(caller)) => Ok(caller),
        None => state.auth.authenticate(req.headers()).await,
    };
    let decision = if is_runtime_route(req.method(), req.uri().path()) {
        user_decision(result)
    } else {
        admin_decision(result, req.method())
    };
    match decision {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jwts_round_trip_and_are_checked() {
        let token = sign_hs256(&json!({"sub": "u1", "role": "project_admin", "exp": 4_000_000_000_i64}), b"s3cret");
        let claims = verify_hs256(&token, b"s3cret").unwrap();
        assert_eq!(claims.role.as_deref(), Some("project_admin"));
        assert_eq!(verify_hs256(&token, b"other"), Err(JwtError::Signature));
        let expired = sign_hs256(&json!({"role": "anon", "exp": 1}), b"s3cret");
        assert_eq!(verify_hs256(&expired, b"s3cret"), Err(JwtError::Expired));
        let none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode(b"{}"));
        assert_eq!(verify_hs256(&none, b"s3cret"), Err(JwtError::Algorithm));
        assert_eq!(verify_hs256("a.b", b"s3cret"), Err(JwtError::Malformed));
    }

    /// A token with any header, signed with `secret` (HS256 whatever the header claims), so that
    /// the verifier's refusals can be tried one by one.
    fn signed(header: &str, claims: &serde_json::Value, secret: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// What the verifier accepts and refuses, pinned so that its implementation can change.
    #[test]
    fn jwt_refusals_are_pinned() {
        const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;
        let secret = b"a-secret-of-the-payments-api-32b";
        let now = crate::time::now_ms() / 1000;
        let ok = json!({"sub": "u1", "role": "authenticated", "exp": now + 3600});
        assert!(verify_hs256(&signed(HS256, &ok, secret), secret).is_ok());
        // The anon key has no `exp`; an `aud` is not checked; a `typ` is not required.
        assert!(verify_hs256(&signed(HS256, &json!({"role": "anon"}), secret), secret).is_ok());
        let aud = json!({"role": "authenticated", "aud": "authenticated", "exp": now + 60});
        assert!(verify_hs256(&signed(HS256, &aud, secret), secret).is_ok());
        assert!(verify_hs256(&signed(r#"{"alg":"HS256"}"#, &ok, secret), secret).is_ok());
        // Algorithms other than HS256, `none` included, whatever the signature.
        for alg in ["none", "HS384", "HS512", "RS256", "hs256"] {
            let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
            assert_eq!(verify_hs256(&signed(&header, &ok, secret), secret), Err(JwtError::Algorithm), "{alg}");
        }
        let unsigned =
            format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode(ok.to_string()));
        assert_eq!(verify_hs256(&unsigned, secret), Err(JwtError::Algorithm));
        // Another key, an empty signature, a tampered payload under the original signature.
        assert_eq!(verify_hs256(&signed(HS256, &ok, b"another-secret"), secret), Err(JwtError::Signature));
        let token = signed(HS256, &ok, secret);
        let (head, rest) = token.split_once('.').unwrap();
        let signature = rest.split_once('.').unwrap().1;
        assert_eq!(
            verify_hs256(&format!("{head}.{}.", rest.split_once('.').unwrap().0), secret),
            Err(JwtError::Signature)
        );
        let admin =
            URL_SAFE_NO_PAD.encode(json!({"sub": "u1", "role": "project_admin", "exp": now + 3600}).to_string());
        assert_eq!(verify_hs256(&format!("{head}.{admin}.{signature}"), secret), Err(JwtError::Signature));
        // Expired (`exp` now or earlier, zero, negative) or not yet valid (`nbf` later than now).
        for exp in [now, now - 1, 1, 0, -1] {
            let claims = json!({"role": "authenticated", "exp": exp});
            assert_eq!(verify_hs256(&signed(HS256, &claims, secret), secret), Err(JwtError::Expired), "exp {exp}");
        }
        let early = json!({"role": "authenticated", "exp": now + 3600, "nbf": now + 600});
        assert_eq!(verify_hs256(&signed(HS256, &early, secret), secret), Err(JwtError::Expired));
        let started = json!({"role": "authenticated", "exp": now + 3600, "nbf": now - 600});
        assert!(verify_hs256(&signed(HS256, &started, secret), secret).is_ok());
        // Not three parts, not base64url, not JSON, or claims of the wrong type.
        for bad in [String::new(), "a.b".into(), format!("{token}.x"), "!!.!!.!!".into()] {
            assert_eq!(verify_hs256(&bad, secret), Err(JwtError::Malformed), "{bad:?}");
        }
        let not_json = format!("{}.{}", URL_SAFE_NO_PAD.encode(HS256), URL_SAFE_NO_PAD.encode("not json"));
        assert!(verify_hs256(&format!("{not_json}.{signature}"), secret).is_err());
        let wrong_type = json!({"role": 7, "exp": now + 3600});
        assert_eq!(verify_hs256(&signed(HS256, &wrong_type, secret), secret), Err(JwtError::Malformed));
        let float_exp = json!({"role": "anon", "exp": 1.5e12});
        assert_eq!(verify_hs256(&signed(HS256, &float_exp, secret), secret), Err(JwtError::Malformed));
    }

    #[test]
    fn runtime_routes_are_recognised() {
        assert!(is_runtime_route(&Method::POST, "/test/checkout-sessions"));
        assert!(is_runtime_route(&Method::POST, "/api/payments/foo/customer-portal-sessions"));
        assert!(!is_runtime_route(&Method::GET, "/test/checkout-sessions"));
        assert!(!is_runtime_route(&Method::POST, "/test/checkout-sessions/x"));
        assert!(!is_runtime_route(&Method::POST, "/test/catalog"));
    }

    #[test]
    fn credentials_are_found_where_the_contract_says() {
        let mut h = HeaderMap::new();
        assert_eq!(Credential::from_headers(&h), None);
        h.insert("authorization", "Bearer ik_abc".parse().unwrap());
        assert!(matches!(Credential::from_headers(&h), Some(Credential::ApiKey(k)) if k.as_str() == "ik_abc"));
        h.insert("authorization", "Bearer eyJ.x.y".parse().unwrap());
        assert!(matches!(Credential::from_headers(&h), Some(Credential::Jwt(_))));
        h.insert("x-api-key", "anything".parse().unwrap());
        assert!(matches!(Credential::from_headers(&h), Some(Credential::ApiKey(k)) if k.as_str() == "anything"));
    }
}
