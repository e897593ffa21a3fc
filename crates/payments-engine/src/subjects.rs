//! Who may act for which billing subject on the runtime routes: the subject policy.
//!
//! InsForge leaves this to Postgres row-level security policies that the application writes
//! (`contract/BEHAVIOUR.md` §8.1 step 2, §8.2 step 1, §11.15; section numbers (§) in this file
//! are those of that document). The embedded engine has no RLS, so without a policy any
//! signed-in app user could open any subject's billing portal. The engine decides instead,
//! before anything is written or sent to Stripe:
//!
//! * a JWT with role `project_admin` may act for any subject (API keys never reach this point:
//!   the runtime routes refuse them with 401, as the contract says);
//! * a JWT with role `authenticated` may act for `user:<its sub>`, for the subjects its
//!   [`SUBJECTS_CLAIM`] claim lists, or for those an operator-configured [`SubjectAuthoriser`]
//!   allows;
//! * a JWT with role `anon` (the anon key) may only start a checkout without a subject, which
//!   means payment mode;
//! * [`SubjectPolicy::Permissive`] restores InsForge's behaviour (every subject allowed).
//!
//! A refusal is 403 `AUTH_UNAUTHORIZED` with the message the reference gives when RLS denies
//! the insert ([`RuntimeRoute::refusal`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use url::Url;

use crate::checkout::{BillingSubject, RuntimeUser};
use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};

/// The JWT claim that lists the subjects a token may act for, as `"type:id"` strings or
/// `{"type": …, "id": …}` objects, e.g. `"billing_subjects": ["team:acme"]`.
pub const SUBJECTS_CLAIM: &str = "billing_subjects";

/// How long an authoriser's answer is reused: short, so that a revoked membership stops working
/// quickly, yet long enough that a burst of checkouts asks once.
pub const AUTHORISER_CACHE_TTL: Duration = Duration::from_secs(30);

/// How long the engine waits for the authoriser before denying.
pub const AUTHORISER_TIMEOUT: Duration = Duration::from_secs(2);

/// At most this many cached answers; beyond it the cache is emptied (a flood of distinct
/// subjects must not grow memory without bound).
const AUTHORISER_CACHE_MAX: usize = 10_000;

/// The runtime route a subject is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuntimeRoute {
    /// `POST /{env}/checkout-sessions`.
    Checkout,
    /// `POST /{env}/customer-portal-sessions`.
    Portal,
}

impl RuntimeRoute {
    /// The refusal: the reference's RLS message for the route (§2.3 (4); the portal's by analogy,
    /// since the reference words it the same way for its own table).
    pub fn refusal(self) -> EngineError {
        let message = match self {
            RuntimeRoute::Checkout => {
                "Checkout session creation is not allowed by payments.checkout_sessions RLS policies"
            }
            RuntimeRoute::Portal => {
                "Customer portal session creation is not allowed by payments.customer_portal_sessions RLS policies"
            }
        };
        EngineError::Auth { status: 403, code: "AUTH_UNAUTHORIZED", message: message.into() }
    }

    fn as_str(self) -> &'static str {
        match self {
            RuntimeRoute::Checkout => "checkout_session",
            RuntimeRoute::Portal => "customer_portal_session",
        }
    }
}

/// The engine's subject policy (see the module documentation).
#[derive(Debug, Clone, Default)]
pub enum SubjectPolicy {
    /// Callers act only for their own subjects (the default).
    #[default]
    Enforced,
    /// Like [`SubjectPolicy::Enforced`], and subjects the token does not grant are put to an
    /// operator's authoriser.
    WithAuthoriser(Arc<SubjectAuthoriser>),
    /// InsForge's behaviour: any user may act for any subject. Opt-in only.
    Permissive,
}

impl SubjectPolicy {
    /// Whether this is the permissive opt-out.
    pub fn is_permissive(&self) -> bool {
        matches!(self, SubjectPolicy::Permissive)
    }

    /// Decides whether `user` may create a `route` session for `subject` (`None`: a checkout
    /// without a subject). `Err` is the route's 403.
    pub(crate) async fn authorise(
        &self,
        env: Environment,
        route: RuntimeRoute,
        user: &RuntimeUser,
        subject: Option<&BillingSubject>,
    ) -> EngineResult<()> {
        if self.is_permissive() || user.role == "project_admin" {
            return Ok(());
        }
        let Some(subject) = subject else {
            // Nothing of anyone else's can be reached without a subject: no customer is
            // reused and no mapping is written.
            return Ok(());
        };
        if user.role != "authenticated" {
            return Err(route.refusal());
        }
        if !user.id.is_empty() && subject.subject_type == "user" && subject.id == user.id {
            return Ok(());
        }
        if user.subjects.contains(subject) {
            return Ok(());
        }
        match self {
            SubjectPolicy::WithAuthoriser(a) if a.allows(env, route, user, subject).await => Ok(()),
            _ => Err(route.refusal()),
        }
    }
}

/// The subjects a token's [`SUBJECTS_CLAIM`] grants. Entries of any other shape are skipped,
/// so a malformed claim grants nothing rather than failing the whole token.
pub fn granted_subjects(claim: Option<&Value>) -> Vec<BillingSubject> {
    let Some(Value::Array(entries)) = claim else { return Vec::new() };
    entries
        .iter()
        .filter_map(|entry| match entry {
            Value::String(s) => s.split_once(':').map(|(t, i)| (t.to_owned(), i.to_owned())),
            Value::Object(o) => match (o.get("type"), o.get("id")) {
                (Some(Value::String(t)), Some(Value::String(i))) => Some((t.clone(), i.clone())),
                _ => None,
            },
            _ => None,
        })
        .filter(|(t, i)| !t.is_empty() && !i.is_empty())
        .map(|(subject_type, id)| BillingSubject { subject_type, id })
        .collect()
}

type CacheKey = (Environment, RuntimeRoute, String, Option<String>, String, String);

/// An operator's HTTP endpoint that decides subjects the token does not grant.
///
/// The engine sends `POST <url>` with the JSON body
/// `{"user": "<sub>", "email": "<email>|null", "subject": {"type": "team", "id": "acme"},
/// "environment": "test", "action": "checkout_session"|"customer_portal_session"}`.
/// A 2xx answer allows; any other status, a transport error or no answer within
/// [`AUTHORISER_TIMEOUT`] denies. Answers are cached for [`AUTHORISER_CACHE_TTL`].
pub struct SubjectAuthoriser {
    url: Url,
    http: reqwest::Client,
    cache: Mutex<HashMap<CacheKey, (bool, Instant)>>,
}

impl std::fmt::Debug for SubjectAuthoriser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectAuthoriser").field("url", &self.url.as_str()).finish_non_exhaustive()
    }
}

impl SubjectAuthoriser {
    /// An authoriser at `url` (http or https).
    pub fn new(url: Url) -> EngineResult<Self> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(EngineError::Internal("the subject authoriser must be an http(s) URL".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(AUTHORISER_TIMEOUT)
            // The authoriser's answer is its status; a redirect is not an answer.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| EngineError::Internal(format!("building the authoriser client: {e}")))?;
        Ok(Self { url, http, cache: Mutex::new(HashMap::new()) })
    }

    async fn allows(
        &self,
        env: Environment,
        route: RuntimeRoute,
        user: &RuntimeUser,
        subject: &BillingSubject,
    ) -> bool {
        let key: CacheKey =
            (env, route, user.id.clone(), user.email.clone(), subject.subject_type.clone(), subject.id.clone());
        let now = Instant::now();
        if let Some((allowed, at)) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            if now.duration_since(*at) < AUTHORISER_CACHE_TTL {
                return *allowed;
            }
        }
        let body = json!({
            "user": user.id,
            "email": user.email,
            "subject": subject,
            "environment": env,
            "action": route.as_str(),
        });
        let allowed = match self.http.post(self.url.clone()).json(&body).send().await {
            Ok(r) => r.status().is_success(),
            Err(e) => {
                // The URL may carry a token in its query: log only the error's kind.
                tracing::warn!(
                    timeout = e.is_timeout(),
                    connect = e.is_connect(),
                    "billing subject authoriser failed; denying"
                );
                false
            }
        };
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= AUTHORISER_CACHE_MAX {
            cache.retain(|_, (_, at)| now.duration_since(*at) < AUTHORISER_CACHE_TTL);
            if cache.len() >= AUTHORISER_CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(key, (allowed, now));
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: &str, id: &str, subjects: Vec<BillingSubject>) -> RuntimeUser {
        RuntimeUser { id: id.into(), email: None, role: role.into(), subjects }
    }

    fn subject(t: &str, i: &str) -> BillingSubject {
        BillingSubject { subject_type: t.into(), id: i.into() }
    }

    async fn decide(policy: &SubjectPolicy, u: &RuntimeUser, s: Option<&BillingSubject>) -> bool {
        policy.authorise(Environment::Test, RuntimeRoute::Portal, u, s).await.is_ok()
    }

    #[tokio::test]
    async fn users_act_for_themselves_and_for_what_the_token_grants() {
        let p = SubjectPolicy::Enforced;
        let a = user("authenticated", "u1", vec![subject("team", "acme")]);
        assert!(decide(&p, &a, Some(&subject("user", "u1"))).await);
        assert!(decide(&p, &a, Some(&subject("team", "acme"))).await);
        assert!(!decide(&p, &a, Some(&subject("team", "other"))).await);
        assert!(!decide(&p, &a, Some(&subject("user", "u2"))).await);
        assert!(!decide(&p, &a, Some(&subject("organization", "acme"))).await, "the type is part of the subject");
        let nobody = user("authenticated", "", vec![]);
        assert!(!decide(&p, &nobody, Some(&subject("user", ""))).await, "a token without sub owns nothing");
        let anon = user("anon", "u1", vec![subject("team", "acme")]);
        assert!(!decide(&p, &anon, Some(&subject("team", "acme"))).await, "the anon key never names a subject");
        assert!(decide(&p, &anon, None).await);
        let admin = user("project_admin", "x", vec![]);
        assert!(decide(&p, &admin, Some(&subject("team", "any"))).await);
        assert!(decide(&SubjectPolicy::Permissive, &anon, Some(&subject("team", "any"))).await);
    }

    #[test]
    fn the_claim_accepts_strings_and_objects_and_skips_the_rest() {
        let claim = json!(["team:acme", {"type": "organization", "id": "o:1"}, "nocolon", ":x", 7, {"type": "t"}]);
        assert_eq!(granted_subjects(Some(&claim)), vec![subject("team", "acme"), subject("organization", "o:1")]);
        assert!(granted_subjects(Some(&json!("team:acme"))).is_empty());
        assert!(granted_subjects(None).is_empty());
    }

    #[test]
    fn refusals_are_the_rls_messages() {
        let e = RuntimeRoute::Checkout.refusal();
        assert_eq!((e.status(), e.code()), (403, "AUTH_UNAUTHORIZED"));
        assert_eq!(
            e.to_string(),
            "Checkout session creation is not allowed by payments.checkout_sessions RLS policies"
        );
    }
}
