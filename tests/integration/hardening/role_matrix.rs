//! The role matrix (issue #9): every payments API route (from the engine's own route table, which
//! the router is built from), every server function (from Leptos's registry) and every page (from
//! the app's route list), called as each kind of caller. What each caller may do is decided once,
//! in [`expect`] (and who each endpoint is for, in `api_access`, `server_fn_access`,
//! `page_access` and `PLAIN_ROUTES`); an endpoint with no decision fails the test, so a new route or
//! server function cannot ship without one.

use crate::support::{TestApp, PASSWORD};
use payments_console::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The JWT secret of the console under test.
const JWT_SECRET: &str = "a-jwt-secret-of-at-least-32-bytes-for-the-role-matrix";
/// Its metrics token, which no caller of the matrix carries.
const METRICS_TOKEN: &str = "a-metrics-token-for-the-role-matrix";

/// Everyone who may knock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Support,
    Admin,
    ApiKey,
    AnonJwt,
    /// `authenticated`, `sub = u1`: the subject `user:u1` is theirs.
    UserJwt,
    /// `authenticated`, `sub = u2`, asking for `user:u1`.
    OtherUserJwt,
    ExpiredJwt,
}

const CALLERS: [Caller; 8] = [
    Caller::Anonymous,
    Caller::Support,
    Caller::Admin,
    Caller::ApiKey,
    Caller::AnonJwt,
    Caller::UserJwt,
    Caller::OtherUserJwt,
    Caller::ExpiredJwt,
];

/// Who an endpoint is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone (probes, the sign-in page and function, `me`).
    Public,
    /// Anyone with a console session (ending it).
    Session,
    /// Signed-in console users: admins and support staff.
    ConsoleReader,
    /// Console admins only.
    ConsoleAdmin,
    /// Console pages for signed-in users (anonymous visitors are sent to sign in).
    ReaderPage,
    /// Console pages for admins (support staff get 403).
    AdminPage,
    /// Payments API reads: admins (API key, session, `project_admin` JWT) and support sessions.
    ApiRead,
    /// Payments API writes: admins only.
    ApiWrite,
    /// `checkout-sessions` for `user:u1`: a user token whose subject that is.
    Checkout,
    /// `customer-portal-sessions` for `user:u1`: a signed-in user's token whose subject that is.
    Portal,
    /// Stripe's deliveries: no credential opens it, only a signature.
    StripeSignature,
    /// `/metrics` with a metrics token configured: only that token opens it, never a session,
    /// an API key or a JWT (see `tests/hardening/metrics.rs` for the token itself).
    MetricsToken,
}

/// What a call must come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Past every guard (any status but 401/403 and a redirect to sign in; never a 5xx).
    Allowed,
    /// 401.
    Unauthenticated,
    /// 403.
    Forbidden,
    /// A redirect to the sign-in page.
    SignIn,
}

/// The one table of decisions.
fn expect(access: Access, caller: Caller) -> Outcome {
    use Caller::*;
    use Outcome::*;
    let session = matches!(caller, Support | Admin);
    match access {
        Access::Public => Allowed,
        Access::Session | Access::ConsoleReader => {
            if session {
                Allowed
            } else {
                Unauthenticated
            }
        }
        Access::ConsoleAdmin => match caller {
            Admin => Allowed,
            Support => Forbidden,
            _ => Unauthenticated,
        },
        Access::ReaderPage => {
            if session {
                Allowed
            } else {
                SignIn
            }
        }
        Access::AdminPage => match caller {
            Admin => Allowed,
            Support => Forbidden,
            _ => SignIn,
        },
        Access::ApiRead | Access::ApiWrite => match caller {
            Admin | ApiKey => Allowed,
            Support if access == Access::ApiRead => Allowed,
            Support => Forbidden,
            AnonJwt | UserJwt | OtherUserJwt => Forbidden,
            Anonymous | ExpiredJwt => Unauthenticated,
        },
        // Console sessions and API keys carry no user: "requires a user token" (401). The
        // anon key may check out, but not for `user:u1`, which is not its own.
        Access::Checkout => match caller {
            UserJwt => Allowed,
            AnonJwt | OtherUserJwt => Forbidden,
            _ => Unauthenticated,
        },
        // The contract answers the anon key 401: the portal requires an authenticated user.
        Access::Portal => match caller {
            UserJwt => Allowed,
            OtherUserJwt => Forbidden,
            _ => Unauthenticated,
        },
        Access::StripeSignature | Access::MetricsToken => Unauthenticated,
    }
}

/// Who each payments API route is for (method in lower case, path as the engine declares it).
fn api_access(method: &str, path: &str) -> Option<Access> {
    let rel = path.strip_prefix("/api/payments")?;
    Some(match (method, rel) {
        ("post", "/{environment}/checkout-sessions") => Access::Checkout,
        ("post", "/{environment}/customer-portal-sessions") => Access::Portal,
        ("get", "/status" | "/config" | "/{environment}/sync/progress" | "/{environment}/subscriptions") => {
            Access::ApiRead
        }
        (
            "get",
            "/{environment}/payment-history"
            | "/{environment}/payment-history/summary"
            | "/{environment}/overview"
            | "/{environment}/subscriptions/summary"
            | "/{environment}/customers"
            | "/{environment}/webhook-events"
            | "/{environment}/catalog"
            | "/{environment}/catalog/products"
            | "/{environment}/catalog/products/{productId}"
            | "/{environment}/catalog/prices"
            | "/{environment}/catalog/prices/{priceId}",
        ) => Access::ApiRead,
        (
            "post" | "put" | "patch" | "delete",
            "/sync"
            | "/{environment}/config"
            | "/{environment}/sync"
            | "/{environment}/webhook"
            | "/{environment}/webhook/forwarding-secret"
            | "/{environment}/webhook-events/{eventId}/reprocess"
            | "/{environment}/refunds"
            | "/{environment}/catalog/products"
            | "/{environment}/catalog/products/{productId}"
            | "/{environment}/catalog/prices"
            | "/{environment}/catalog/prices/{priceId}",
        ) => Access::ApiWrite,
        _ => return None,
    })
}

/// Who each server function is for, and arguments that decode (arguments are decoded before the
/// function body runs, so a call that did not decode would never reach its guard).
fn server_fn_access(path: &str) -> Option<(Access, Body)> {
    let name = path.strip_prefix("/api/console/")?;
    let form = |pairs: &[(&str, &str)]| Body::Form(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
    let history_filters: &[(&str, &str)] = &[
        ("filters[subject_type]", ""),
        ("filters[subject_id]", ""),
        ("filters[kind]", ""),
        ("filters[status]", ""),
        ("filters[customer]", ""),
        ("filters[object]", ""),
        ("filters[from]", ""),
        ("filters[to]", ""),
    ];
    Some(match name {
        "me" => (Access::Public, form(&[])),
        // Signs in as a support user: run last but one (it replaces a session) by `order`.
        "login" => (Access::Public, form(&[("email", "matrix@example.com"), ("password", PASSWORD)])),
        "logout" => (Access::Session, form(&[])),
        "instance" | "payments-status" => (Access::ConsoleReader, form(&[])),
        "catalog" => (Access::ConsoleReader, form(&[("env", "test")])),
        "webhook-endpoint" | "overview-figures" | "subscription-mix" => {
            (Access::ConsoleReader, form(&[("environment", "test")]))
        }
        "webhook-events" => (Access::ConsoleReader, form(&[("environment", "test")])),
        "webhook-forwarding" => (Access::ConsoleReader, form(&[("environment", "test")])),
        "support-customers" => {
            (Access::ConsoleReader, form(&[("env", "test"), ("search", ""), ("cursor", ""), ("limit", "5")]))
        }
        "support-subscriptions" => (
            Access::ConsoleReader,
            form(&[
                ("env", "test"),
                ("filters[subject_type]", ""),
                ("filters[subject_id]", ""),
                ("filters[status]", ""),
                ("filters[customer]", ""),
                ("cursor", ""),
                ("limit", "5"),
            ]),
        ),
        "support-subscription" => (Access::ConsoleReader, form(&[("env", "test"), ("id", "sub_matrix")])),
        "support-history" => {
            let mut pairs = vec![("env", "test"), ("cursor", ""), ("limit", "5")];
            pairs.extend_from_slice(history_filters);
            (Access::ConsoleReader, form(&pairs))
        }
        "support-history-summary" => {
            let mut pairs = vec![("env", "test")];
            pairs.extend_from_slice(history_filters);
            (Access::ConsoleReader, form(&pairs))
        }
        "support-subject" => {
            (Access::ConsoleReader, form(&[("env", "test"), ("subject_type", "team"), ("subject_id", "matrix")]))
        }
        "support-customer" => (Access::ConsoleReader, form(&[("env", "test"), ("id", "cus_matrix")])),
        "support-search" => (Access::ConsoleReader, form(&[("env", "test"), ("q", "matrix")])),
        "audit" => (Access::ConsoleAdmin, form(&[])),
        // Users and keys: changes aimed at nobody (refused with 400 after the role check), and
        // one harmless addition each.
        "users-list" | "api-keys-list" => (Access::ConsoleAdmin, form(&[])),
        "users-add" => (
            Access::ConsoleAdmin,
            form(&[("email", "matrix-added@example.com"), ("role", "support"), ("password", "")]),
        ),
        "users-set-role" => (Access::ConsoleAdmin, form(&[("email", "nobody@example.com"), ("role", "admin")])),
        "users-set-active" => (Access::ConsoleAdmin, form(&[("email", "nobody@example.com"), ("active", "false")])),
        "users-remove" | "users-reset-password" => (Access::ConsoleAdmin, form(&[("email", "nobody@example.com")])),
        "api-keys-create" => (Access::ConsoleAdmin, form(&[("name", "matrix")])),
        "api-keys-revoke" => (Access::ConsoleAdmin, form(&[("id", "key_nope")])),
        // A wrong current password: refused after the session check, changing nothing.
        "account-password" => {
            (Access::ConsoleReader, form(&[("current", "not the password"), ("new", "a new long passphrase")]))
        }
        // A PaymentIntent Stripe does not have: the admin's call reaches Stripe and is refused.
        "admin-refund" => (
            Access::ConsoleAdmin,
            form(&[
                ("env", "test"),
                ("form[payment_intent_id]", "pi_matrix"),
                ("form[currency]", "usd"),
                ("form[amount]", "1"),
                ("form[reason]", "duplicate"),
            ]),
        ),
        "sync-run" => (Access::ConsoleAdmin, form(&[("environment", "test"), ("both", "false")])),
        "sync-run-form" => (Access::ConsoleAdmin, form(&[("environment", "test"), ("both", "false")])),
        "sync-progress" => (Access::ConsoleAdmin, form(&[("environment", "test"), ("both", "false")])),
        "webhook-configure" => (Access::ConsoleAdmin, form(&[("environment", "test")])),
        // A well-formed secret pasted from the Stripe CLI, then its removal (404 once gone).
        "webhook-forwarding-set" => {
            (Access::ConsoleAdmin, form(&[("environment", "test"), ("signing_secret", "whsec_matrix0123456789abcdef")]))
        }
        "webhook-forwarding-remove" => (Access::ConsoleAdmin, form(&[("environment", "test")])),
        "webhook-reprocess" => (Access::ConsoleAdmin, form(&[("environment", "test"), ("event_id", "evt_matrix")])),
        // Replaces the test key with another key the demo sandbox accepts; removes the live one.
        "keys-set" => (Access::ConsoleAdmin, form(&[("environment", "test"), ("key", "sk_test_matrix0000000000")])),
        "keys-remove" => (Access::ConsoleAdmin, form(&[("environment", "live")])),
        "catalog-add-product" => {
            (Access::ConsoleAdmin, Body::Json(json!({"env": "test", "draft": {"name": "Matrix"}, "form_key": null})))
        }
        "catalog-edit-product" => (
            Access::ConsoleAdmin,
            Body::Json(json!({"env": "test", "id": "prod_matrix", "changes": {"name": "Renamed"}})),
        ),
        "catalog-delete-product" => (Access::ConsoleAdmin, Body::Json(json!({"env": "test", "id": "prod_matrix"}))),
        "catalog-add-price" => (
            Access::ConsoleAdmin,
            Body::Json(json!({"env": "test", "draft": {"stripeProductId": "prod_matrix", "currency": "usd",
                "unitAmount": 100}, "form_key": null})),
        ),
        "catalog-edit-price" => (
            Access::ConsoleAdmin,
            Body::Json(json!({"env": "test", "id": "price_matrix", "changes": {"active": false}})),
        ),
        "catalog-archive-price" => (Access::ConsoleAdmin, Body::Json(json!({"env": "test", "id": "price_matrix"}))),
        // The catalog page's row forms, URL-encoded.
        "catalog-archive-price-form" => (Access::ConsoleAdmin, form(&[("env", "test"), ("id", "price_matrix")])),
        "catalog-restore-price-form" => (Access::ConsoleAdmin, form(&[("env", "test"), ("id", "price_matrix")])),
        "catalog-product-active-form" => {
            (Access::ConsoleAdmin, form(&[("env", "test"), ("id", "prod_matrix"), ("active", "false")]))
        }
        "catalog-delete-product-form" => (Access::ConsoleAdmin, form(&[("env", "test"), ("id", "prod_matrix")])),
        "catalog-change-amount" => (
            Access::ConsoleAdmin,
            Body::Json(json!({"env": "test", "product_id": "prod_matrix", "price_id": "price_matrix",
                "unit_amount": 500, "move_lookup_key": false, "archive_old": false, "form_key": null})),
        ),
        // Copying to live: the live environment has no key here, so an admin's preview and copy
        // are refused (400) after the role check, writing nothing.
        "catalog-copy-source" => (Access::ConsoleAdmin, form(&[])),
        "catalog-copy-preview" => (Access::ConsoleAdmin, Body::Json(json!({"products": ["prod_matrix"]}))),
        "catalog-copy-run" => (
            Access::ConsoleAdmin,
            Body::Json(json!({"products": ["prod_matrix"], "confirm": "live", "fingerprint": "matrix"})),
        ),
        // The same, as the page's form posts it (`crate::pages::catalog_copy`).
        "catalog-copy-run-form" => (
            Access::ConsoleAdmin,
            form(&[("products[0]", "prod_matrix"), ("confirm", "live"), ("fingerprint", "matrix")]),
        ),
        _ => return None,
    })
}

/// Who each page is for (path as the app's route list spells it, in axum's syntax).
fn page_access(path: &str) -> Option<Access> {
    Some(match path {
        "/login" => Access::Public,
        "/{env}/keys" | "/{env}/sync" | "/{env}/audit" | "/{env}/users" | "/{env}/api-keys" | "/{env}/catalog/copy" => {
            Access::AdminPage
        }
        "/{env}"
        | "/{env}/"
        | "/{env}/catalog"
        | "/{env}/customers"
        | "/{env}/customers/{id}"
        | "/{env}/search"
        | "/{env}/account"
        | "/{env}/subscriptions"
        | "/{env}/subscriptions/{id}"
        | "/{env}/subjects/{subject_type}/{subject_id}"
        | "/{env}/history"
        | "/{env}/webhooks"
        | "/{env}/{*any}" => Access::ReaderPage,
        _ => return None,
    })
}

/// The console's own routes besides pages and server functions (`src/server/http.rs`).
const PLAIN_ROUTES: [(&str, Access); 6] = [
    ("/", Access::Public),
    ("/healthz", Access::Public),
    ("/readyz", Access::Public),
    ("/favicon.svg", Access::Public),
    ("/export/test/payment-history.csv", Access::Session),
    ("/metrics", Access::MetricsToken),
];

#[derive(Debug, Clone)]
enum Body {
    None,
    Form(Vec<(String, String)>),
    Json(Value),
}

/// One call of the matrix.
#[derive(Debug, Clone)]
struct Endpoint {
    method: Method,
    /// The path as declared (for the report).
    declared: String,
    /// The path called.
    path: String,
    access: Access,
    body: Body,
}

/// Fills the path parameters of a declared path with values the demo data does not have, so
/// that an allowed call reads nothing and changes nothing it should not.
fn concrete(path: &str) -> String {
    path.replace("{environment}", "test")
        .replace("{env}", "test")
        .replace("{eventId}", "evt_matrix")
        .replace("{productId}", "prod_matrix")
        .replace("{priceId}", "price_matrix")
        .replace("{id}", "sub_matrix")
        .replace("{subject_type}", "team")
        .replace("{subject_id}", "matrix")
        .replace("{*any}", "no-such-page")
}

/// Every endpoint the console serves, and the ones nobody has decided about.
fn endpoints() -> (Vec<Endpoint>, Vec<String>) {
    let mut all = Vec::new();
    let mut undecided = Vec::new();
    let subject = json!({"type": "user", "id": "u1"});
    for route in payments_engine::api::ROUTES {
        let method = Method::from_bytes(route.method.to_ascii_uppercase().as_bytes()).unwrap();
        let access = if route.path == payments_engine::api::WEBHOOK_PATH {
            Some(Access::StripeSignature)
        } else {
            api_access(route.method, route.path)
        };
        let Some(access) = access else {
            undecided.push(format!("{} {}", route.method, route.path));
            continue;
        };
        let body = match access {
            // Valid bodies, so that only the caller decides the outcome.
            Access::Checkout => Body::Json(json!({"mode": "payment", "lineItems": [{"stripePriceId": "price_matrix"}],
                "successUrl": "https://app.example.com/s", "cancelUrl": "https://app.example.com/c",
                "subject": subject})),
            Access::Portal => Body::Json(json!({"subject": subject, "returnUrl": "https://app.example.com/account"})),
            _ if method == Method::GET || method == Method::DELETE => Body::None,
            _ => Body::Json(json!({})),
        };
        all.push(Endpoint { method, declared: route.path.to_owned(), path: concrete(route.path), access, body });
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        match server_fn_access(path) {
            Some((access, body)) => all.push(Endpoint {
                method: Method::from_bytes(method.as_str().as_bytes()).unwrap(),
                declared: path.to_owned(),
                path: path.to_owned(),
                access,
                body,
            }),
            None => undecided.push(format!("server function {path}")),
        }
    }
    for listing in payments_console::server::http::route_list() {
        let path = listing.path().to_owned();
        match page_access(&path) {
            Some(access) => all.push(Endpoint {
                method: Method::GET,
                path: concrete(&path),
                declared: path,
                access,
                body: Body::None,
            }),
            None => undecided.push(format!("page {path}")),
        }
    }
    for (path, access) in PLAIN_ROUTES {
        all.push(Endpoint { method: Method::GET, declared: path.into(), path: path.into(), access, body: Body::None });
    }
    // Sign-in replaces a session and sign-out ends it: they run last, in that order.
    all.sort_by_key(|e| match e.declared.as_str() {
        "/api/console/login" => 1,
        "/api/console/logout" => 2,
        _ => 0,
    });
    (all, undecided)
}

/// A client for `caller`, sending `Origin` like a browser on the console's pages.
async fn client_for(app: &TestApp, caller: Caller, api_key: &str) -> (reqwest::Client, Option<String>) {
    let jwt = |claims: Value| Some(payments_engine::sign_hs256(&claims, JWT_SECRET.as_bytes()));
    let far = 4_000_000_000_i64;
    let bare = || {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, app.base.parse().unwrap());
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .timeout(std::time::Duration::from_secs(90))
            .build()
            .unwrap()
    };
    match caller {
        Caller::Support => (app.signed_in("support@example.com", Role::Support).await, None),
        Caller::Admin => (app.signed_in("admin@example.com", Role::Admin).await, None),
        Caller::Anonymous => (bare(), None),
        Caller::ApiKey => (bare(), Some(api_key.to_owned())),
        Caller::AnonJwt => (bare(), jwt(json!({"sub": "anon", "role": "anon"}))),
        Caller::UserJwt => (bare(), jwt(json!({"sub": "u1", "role": "authenticated", "exp": far}))),
        Caller::OtherUserJwt => (bare(), jwt(json!({"sub": "u2", "role": "authenticated", "exp": far}))),
        Caller::ExpiredJwt => (bare(), jwt(json!({"sub": "u1", "role": "authenticated", "exp": 1}))),
    }
}

fn outcome_of(status: StatusCode, location: Option<&str>) -> Outcome {
    match status.as_u16() {
        401 => Outcome::Unauthenticated,
        403 => Outcome::Forbidden,
        300..=399 if location.is_some_and(|l| l.starts_with("/login")) => Outcome::SignIn,
        _ => Outcome::Allowed,
    }
}

#[tokio::test]
async fn every_endpoint_answers_each_caller_as_the_role_table_decides() {
    let app = TestApp::spawn_with(|a| {
        a.jwt_secret = Some(payments_console::server::secrets::SecretString::new(JWT_SECRET.to_owned()));
        a.metrics_token = Some(payments_console::server::secrets::SecretString::new(METRICS_TOKEN.to_owned()));
    })
    .await;
    app.add_user("matrix@example.com", Role::Support).await;
    let api_key = app.state.api_keys.create("matrix").await.unwrap().1.expose().to_string();

    let (endpoints, undecided) = endpoints();
    assert!(undecided.is_empty(), "no decision in the role table for: {undecided:#?}");
    // The enumeration found what the console serves (not an empty registry).
    let count = |f: fn(&Endpoint) -> bool| endpoints.iter().filter(|e| f(e)).count();
    assert!(count(|e| e.path.starts_with("/api/payments/")) >= 24, "payments API routes");
    assert!(count(|e| e.path.starts_with("/api/console/")) >= 28, "server functions");
    assert!(count(|e| e.path.starts_with("/test")) >= 11, "pages");

    let mut wrong = Vec::new();
    let mut calls = 0;
    for caller in CALLERS {
        let (client, bearer) = client_for(&app, caller, &api_key).await;
        for e in &endpoints {
            let mut req = client.request(e.method.clone(), app.url(&e.path));
            if let Some(token) = &bearer {
                req = req.bearer_auth(token);
            }
            req = match &e.body {
                Body::None => req,
                Body::Form(pairs) => req.form(pairs),
                Body::Json(v) => req.json(v),
            };
            let res = req.send().await.unwrap_or_else(|err| panic!("{caller:?} {} {}: {err}", e.method, e.path));
            calls += 1;
            let status = res.status();
            let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let got = outcome_of(status, location.as_deref());
            let want = expect(e.access, caller);
            if got != want || status.is_server_error() {
                let body = res.text().await.unwrap_or_default();
                wrong.push(format!(
                    "{caller:?} {} {} ({:?}): want {want:?}, got {status} {}",
                    e.method,
                    e.declared,
                    e.access,
                    body.chars().take(160).collect::<String>()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{} of {calls} calls broke the role table:\n{}", wrong.len(), wrong.join("\n"));
}
