//! Retry behaviour the sandbox cannot script: `Retry-After`,
//! `Stripe-Should-Retry`, a write whose response is lost (idempotent
//! replay), connection failures and malformed answers.

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use stripe_client::{Form, RequestOptions, RetryPolicy, StripeClient, StripeError};
use support::{fast_config, start_sandbox, Rest};

/// One request as the scripted server saw it.
#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    method: Method,
    headers: HeaderMap,
}

/// A canned answer: status, extra headers, JSON body.
type Reply = (u16, Vec<(&'static str, &'static str)>, &'static str);

#[derive(Clone, Default)]
struct Script {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Script {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn scripted(State(script): State<Script>, req: Request) -> Response {
    script.seen.lock().unwrap().push(Seen {
        at: Instant::now(),
        method: req.method().clone(),
        headers: req.headers().clone(),
    });
    let (status, headers, body) = script.replies.lock().unwrap().pop_front().unwrap_or((
        500,
        vec![],
        r#"{"error":{"type":"api_error","message":"script exhausted"}}"#,
    ));
    let mut resp = Response::builder().status(status).header("content-type", "application/json");
    for (k, v) in headers {
        resp = resp.header(k, v);
    }
    resp.body(Body::from(body)).unwrap()
}

/// A server that answers with the given replies in order.
async fn script(replies: Vec<Reply>) -> (String, Script) {
    let script = Script { replies: Arc::new(Mutex::new(replies.into())), ..Script::default() };
    let app = Router::new().fallback(scripted).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, script)
}

const ACCOUNT: &str = r#"{"id":"acct_1","object":"account"}"#;
const RATE_LIMITED: &str = r#"{"error":{"type":"invalid_request_error","code":"rate_limit","message":"slow down"}}"#;

#[tokio::test]
async fn retry_after_is_honoured() {
    let (base, script) = script(vec![
        (429, vec![("retry-after", "1"), ("request-id", "req_first")], RATE_LIMITED),
        (200, vec![("request-id", "req_second")], ACCOUNT),
    ])
    .await;
    let retries = Arc::new(Mutex::new(Vec::new()));
    let seen_retries = retries.clone();
    // Back-off bounds far below the server's Retry-After.
    let c =
        StripeClient::new(fast_config(&base).on_retry(move |e| seen_retries.lock().unwrap().push(e.clone()))).unwrap();
    let account = c.fetch("/v1/account").await.unwrap();
    assert_eq!(account["id"], "acct_1");
    assert_eq!(account.request_id.as_deref(), Some("req_second"));
    assert_eq!(account.attempts, 2);
    let seen = script.seen();
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= Duration::from_millis(950), "waited only {gap:?} despite Retry-After: 1");
    let retries = retries.lock().unwrap();
    assert_eq!(retries[0].request_id.as_deref(), Some("req_first"));
    assert!(retries[0].delay >= Duration::from_secs(1));
    assert_eq!(c.stats().rate_limit_backoffs, 1);
}

#[tokio::test]
async fn stripe_should_retry_overrides_the_status() {
    let (base, script) = script(vec![
        (500, vec![("stripe-should-retry", "false")], r#"{"error":{"type":"api_error","message":"do not retry"}}"#),
        (
            400,
            vec![("stripe-should-retry", "true")],
            r#"{"error":{"type":"invalid_request_error","code":"lock_timeout","message":"retry me"}}"#,
        ),
        (200, vec![], ACCOUNT),
    ])
    .await;
    let c = StripeClient::new(fast_config(&base)).unwrap();
    let err = c.fetch("/v1/account").await.unwrap_err();
    assert_eq!(err.status(), Some(500), "Stripe-Should-Retry: false wins over 5xx");
    assert_eq!(script.seen().len(), 1);
    let ok = c.fetch("/v1/account").await.unwrap();
    assert_eq!(ok.attempts, 2, "Stripe-Should-Retry: true makes a 400 retryable");
}

#[tokio::test]
async fn writes_keep_their_idempotency_key_across_retries() {
    let (base, script) = script(vec![
        (503, vec![], r#"{"error":{"type":"api_error","message":"try again"}}"#),
        (429, vec![], RATE_LIMITED),
        (200, vec![], r#"{"id":"cus_1","object":"customer"}"#),
        (200, vec![], r#"{"id":"cus_2","object":"customer"}"#),
    ])
    .await;
    let c = StripeClient::new(fast_config(&base)).unwrap();
    let first =
        c.send("/v1/customers", &Form::new().set("email", "a@example.com"), &RequestOptions::NONE).await.unwrap();
    let second =
        c.send("/v1/customers", &Form::new().set("email", "a@example.com"), &RequestOptions::NONE).await.unwrap();
    let keys: Vec<String> =
        script.seen().iter().map(|s| s.headers["idempotency-key"].to_str().unwrap().to_owned()).collect();
    assert_eq!(keys.len(), 4);
    assert!(keys[0] == keys[1] && keys[1] == keys[2], "one logical request, one key: {keys:?}");
    assert_ne!(keys[2], keys[3], "a new logical request gets a new key");
    assert_eq!(first.idempotency_key.as_deref(), Some(keys[0].as_str()));
    assert_eq!(second.idempotency_key.as_deref(), Some(keys[3].as_str()));
    let seen = script.seen();
    assert!(seen.iter().all(|s| s.method == Method::POST));
    assert_eq!(seen[0].headers["stripe-version"], stripe_client::STRIPE_VERSION);
    assert_eq!(seen[0].headers["authorization"], format!("Bearer {}", support::KEY));
    assert_eq!(seen[0].headers["content-type"], "application/x-www-form-urlencoded");
}

/// A proxy in front of the sandbox that lets the first write through but
/// "loses" its response (answers 502), as a dropped connection would.
async fn lossy_proxy(upstream: String) -> (String, Arc<Mutex<Vec<String>>>) {
    #[derive(Clone)]
    struct P {
        upstream: String,
        http: reqwest::Client,
        keys: Arc<Mutex<Vec<String>>>,
    }
    async fn forward(State(p): State<P>, req: Request) -> Response {
        let method = req.method().clone();
        let uri = req.uri().clone();
        let headers = req.headers().clone();
        let body: Bytes = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap();
        let first = {
            let mut keys = p.keys.lock().unwrap();
            keys.push(headers.get("idempotency-key").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default());
            keys.len() == 1
        };
        let mut out = p.http.request(method, format!("{}{}", p.upstream, uri));
        for (k, v) in &headers {
            if k != "host" && k != "content-length" {
                out = out.header(k, v);
            }
        }
        let resp = out.body(body).send().await.unwrap();
        if first {
            return Response::builder().status(StatusCode::BAD_GATEWAY).body(Body::from("upstream reset")).unwrap();
        }
        let mut builder = Response::builder().status(resp.status().as_u16());
        for (k, v) in resp.headers() {
            builder = builder.header(k, v);
        }
        builder.body(Body::from(resp.bytes().await.unwrap())).unwrap()
    }
    let keys = Arc::new(Mutex::new(Vec::new()));
    let app =
        Router::new().fallback(forward).with_state(P { upstream, http: reqwest::Client::new(), keys: keys.clone() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, keys)
}

#[tokio::test]
async fn a_lost_write_response_is_replayed_not_repeated() {
    let s = start_sandbox().await;
    let (proxy, keys) = lossy_proxy(s.base.clone()).await;
    let c = StripeClient::new(fast_config(&proxy)).unwrap();
    let customer =
        c.send("/v1/customers", &Form::new().set("email", "lost@example.com"), &RequestOptions::NONE).await.unwrap();
    assert_eq!(customer.attempts, 2);
    assert!(customer.idempotent_replayed, "the sandbox answered the retry from its idempotency store");
    assert_eq!(s.sandbox.count("customer"), Some(1), "created exactly once");
    let keys = keys.lock().unwrap().clone();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
    assert_eq!(customer.idempotency_key.as_deref(), Some(keys[0].as_str()));
}

#[tokio::test]
async fn connection_failures_are_retried_then_reported() {
    // A port that was free a moment ago: connections are refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let c = StripeClient::new(fast_config(&base).retry_policy(RetryPolicy {
        max_retries: 2,
        initial_backoff: Duration::from_millis(5),
        ..RetryPolicy::default()
    }))
    .unwrap();
    let err = c.fetch("/v1/account").await.unwrap_err();
    assert!(matches!(err, StripeError::Transport(_)), "{err:?}");
    assert_eq!(c.stats().attempts, 3);
    assert_eq!(c.stats().transport_retries, 2);
    assert!(!err.to_string().contains(support::KEY));
}

#[tokio::test]
async fn malformed_answers_are_not_retried_or_guessed() {
    let (base, script) = script(vec![
        (404, vec![("content-type", "text/plain")], "404: Not Found"),
        (200, vec![("request-id", "req_bad")], r#"{"object":"account"}"#),
    ])
    .await;
    let c = StripeClient::new(fast_config(&base)).unwrap();
    let err = c.fetch("/v1/account").await.unwrap_err();
    assert!(
        matches!(&err, StripeError::UnexpectedResponse { status: 404, body, .. } if body == "404: Not Found"),
        "{err:?}"
    );
    assert!(!err.is_resource_missing());
    // A body that does not decode into the caller's type (here one that needs an `id`).
    #[derive(Debug, serde::Deserialize)]
    struct Account {
        #[allow(dead_code)]
        id: String,
    }
    let err = c.get::<Account>("/v1/account", &Form::new()).await.unwrap_err();
    assert!(matches!(&err, StripeError::Decode { request_id: Some(id), .. } if id == "req_bad"), "{err:?}");
    assert_eq!(script.seen().len(), 2, "neither was retried");
}

#[tokio::test]
async fn no_retries_when_disabled() {
    let (base, script) = script(vec![(503, vec![], r#"{"error":{"type":"api_error","message":"down"}}"#)]).await;
    let c = StripeClient::new(fast_config(&base).max_retries(0)).unwrap();
    assert_eq!(c.fetch("/v1/account").await.unwrap_err().status(), Some(503));
    assert_eq!(script.seen().len(), 1);
}
