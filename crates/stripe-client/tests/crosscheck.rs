//! Cross-check tier: the same scenarios against (a) the in-process sandbox
//! and (b) localstripe 1.15.10, an independent fake of Stripe, launched here
//! as a separate process from `.tools/venv-localstripe` (see `scripts/setup.sh --test`).
//!
//! Where localstripe departs from Stripe, the scenario asks the backend's
//! [`Deviations`] and checks localstripe's documented behaviour instead
//! (see the table in the crate README). The client itself is never loosened
//! for localstripe. Objects are read as JSON, as the engine reads them.

mod support;

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use stripe_client::{
    unix_now, verify_webhook_signature, ClientConfig, Form, HasId, Method, RequestOptions, SignatureError,
    StripeClient, StripeError, StripeResponse,
};
use support::{data, ids, text, Rest};
use tokio::io::{AsyncBufReadExt, BufReader};

const NONE: &RequestOptions = &RequestOptions::NONE;

/// How a backend departs from Stripe. All `false` for the sandbox.
#[derive(Debug, Clone, Copy, Default)]
struct Deviations {
    /// Lists are oldest first (Stripe: newest first).
    oldest_first_lists: bool,
    /// Booleans set through a form update are stored and returned as the strings `"true"`/`"false"`.
    string_booleans: bool,
    /// Error objects carry only `type` and `message`: no `code`, no `param`.
    no_error_codes: bool,
    /// Unknown URLs answer `text/plain` "404: Not Found" (Stripe: a JSON error).
    text_404_for_unknown_urls: bool,
    /// No `Request-Id` response header.
    no_request_id: bool,
    /// Plans instead of prices: no `/v1/prices`; items reference `plan`.
    plans_not_prices: bool,
    /// A deleted customer is gone (404); Stripe keeps a `deleted: true` tombstone.
    deleted_customers_404: bool,
    /// An unknown `starting_after` restarts the list from the beginning (Stripe: 404 `resource_missing`).
    unknown_cursor_restarts: bool,
    /// `POST /v1/subscriptions/{id}` accepts `metadata` but does not apply it.
    subscription_metadata_ignored: bool,
    /// `pm_card_visa`-style test payment methods are not accepted; a card must be created and attached.
    no_test_payment_methods: bool,
}

struct Backend {
    name: &'static str,
    base: String,
    client: StripeClient,
    dev: Deviations,
    _process: Option<tokio::process::Child>,
    _sandbox: Option<support::SandboxServer>,
}

impl Backend {
    async fn sandbox() -> Self {
        let s = support::start_sandbox().await;
        Backend {
            name: "sandbox",
            base: s.base.clone(),
            client: support::client(&s.base),
            dev: Deviations::default(),
            _process: None,
            _sandbox: Some(s),
        }
    }

    async fn localstripe() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let python = root.join(".tools/venv-localstripe/bin/python");
        let launcher = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run_localstripe.py");
        assert!(
            python.exists() && root.join(".tools/venv-localstripe/bin/localstripe").exists(),
            "localstripe is not installed at {}: run `scripts/setup.sh --test` (the cross-check tier needs it)",
            root.join(".tools/venv-localstripe").display()
        );
        // Throwaway working directory; the launcher also disables localstripe's
        // pickle persistence (it would write /tmp/localstripe.pickle on every write).
        let mut child = tokio::process::Command::new(&python)
            .arg(&launcher)
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}; run `scripts/setup.sh --test`", python.display()));
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("localstripe did not report its port within 30 s")
            .unwrap()
            .unwrap_or_else(|| {
                panic!("localstripe exited before listening; is the venv complete? run `scripts/setup.sh --test`")
            });
        let port: u16 = first
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected launcher output {first:?}"));
        // Keep draining stdout so the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let base = format!("http://127.0.0.1:{port}");
        Backend {
            name: "localstripe",
            client: support::client(&base),
            base,
            dev: Deviations {
                oldest_first_lists: true,
                string_booleans: true,
                no_error_codes: true,
                text_404_for_unknown_urls: true,
                no_request_id: true,
                plans_not_prices: true,
                deleted_customers_404: true,
                unknown_cursor_restarts: true,
                no_test_payment_methods: true,
                subscription_metadata_ignored: true,
            },
            _process: Some(child),
            _sandbox: None,
        }
    }

    /// Every Stripe response has a `Request-Id`.
    #[track_caller]
    fn check_request_id<T>(&self, resp: &StripeResponse<T>) {
        if self.dev.no_request_id {
            assert_eq!(resp.request_id, None, "{}: a Request-Id appeared; update the deviation table", self.name);
        } else {
            assert!(
                resp.request_id.as_deref().is_some_and(|id| id.starts_with("req_")),
                "{}: no Request-Id",
                self.name
            );
        }
    }

    /// A 404 for a missing object: `resource_missing` on Stripe.
    #[track_caller]
    fn check_not_found(&self, err: &StripeError) {
        assert_eq!(err.status(), Some(404), "{}: {err}", self.name);
        if self.dev.no_error_codes {
            assert_eq!(err.api().map(|e| e.error_type.as_str()), Some("invalid_request_error"), "{}: {err}", self.name);
            assert_eq!(err.code(), None, "{}: error codes appeared; update the deviation table", self.name);
        } else {
            assert!(err.is_resource_missing(), "{}: {err}", self.name);
        }
    }

    /// A recurring monthly price (a plan on localstripe); returns the
    /// subscription-item parameter name and the id.
    async fn monthly_price(&self, product: &str, amount: i64) -> (&'static str, String) {
        if self.dev.plans_not_prices {
            let plan: StripeResponse<Value> = self
                .client
                .request(
                    Method::POST,
                    "/v1/plans",
                    &Form::new()
                        .set("product", product)
                        .set("amount", amount)
                        .set("currency", "usd")
                        .set("interval", "month"),
                    NONE,
                )
                .await
                .unwrap();
            ("plan", plan.body["id"].as_str().unwrap().to_owned())
        } else {
            let price = self
                .client
                .send(
                    "/v1/prices",
                    &Form::new()
                        .set("product", product)
                        .set("unit_amount", amount)
                        .set("currency", "usd")
                        .set("recurring", Form::new().set("interval", "month")),
                    NONE,
                )
                .await
                .unwrap();
            ("price", price.id().to_owned())
        }
    }

    /// Gives `customer` a working card; returns extra subscription parameters.
    async fn payer(&self, customer: &str) -> Form {
        if !self.dev.no_test_payment_methods {
            return Form::new().set("default_payment_method", "pm_card_visa");
        }
        let card = Form::new()
            .set("number", "4242424242424242")
            .set("exp_month", 12_u32)
            .set("exp_year", 2034_u32)
            .set("cvc", "123");
        let pm: StripeResponse<Value> = self
            .client
            .request(Method::POST, "/v1/payment_methods", &Form::new().set("type", "card").set("card", card), NONE)
            .await
            .unwrap();
        let pm = pm.body["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/payment_methods/{pm}/attach");
        let _: StripeResponse<Value> =
            self.client.request(Method::POST, &path, &Form::new().set("customer", customer), NONE).await.unwrap();
        self.client
            .send(
                &format!("/v1/customers/{customer}"),
                &Form::new().set("invoice_settings", Form::new().set("default_payment_method", pm.as_str())),
                NONE,
            )
            .await
            .unwrap();
        Form::new()
    }

    /// A subscription list's params as the engine's sync sends them: every status, and the
    /// items' prices expanded (plans where items hold plans).
    fn subscription_list(&self, params: Form) -> Form {
        let params = params.set("status", "all");
        if self.dev.plans_not_prices {
            params.set("expand", vec!["data.items.data.plan"])
        } else {
            params.set("expand", vec!["data.items.data.price"])
        }
    }
}

// --- scenarios ------------------------------------------------------------------------------

async fn products(b: Backend) {
    let c = &b.client;
    let created = c
        .send(
            "/v1/products",
            &Form::new().set("name", "Cross Pro").set("metadata", Form::new().set("tier", "pro")),
            NONE,
        )
        .await
        .unwrap();
    b.check_request_id(&created);
    assert_eq!(created["name"], "Cross Pro");
    assert_eq!(created["metadata"]["tier"], "pro");
    assert_eq!(created["active"], true);
    let path = format!("/v1/products/{}", created.id());
    let fetched = c.fetch(&path).await.unwrap();
    assert_eq!(fetched.id(), created.id());
    assert_eq!(fetched["metadata"], created["metadata"]);

    let update = Form::new().set("active", false).set("metadata", Form::new().set("seats", "10"));
    let updated = c.send(&path, &update, NONE).await.unwrap();
    if b.dev.string_booleans {
        assert_eq!(updated["active"], "false", "{}: a boolean again; update the deviation table", b.name);
    } else {
        assert_eq!(updated["active"], false);
    }
    assert_eq!(updated["metadata"]["seats"], "10");
    assert_eq!(updated["metadata"]["tier"], "pro", "metadata updates merge");

    let deleted = c.remove(&path, &Form::new(), NONE).await.unwrap();
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted.id(), created.id());
    b.check_not_found(&c.fetch(&path).await.unwrap_err());
}

async fn customers(b: Backend) {
    let c = &b.client;
    let created = c
        .send("/v1/customers", &Form::new().set("email", "cross@example.com").set("name", "Cross"), NONE)
        .await
        .unwrap();
    b.check_request_id(&created);
    let path = format!("/v1/customers/{}", created.id());
    let updated = c
        .send(
            &path,
            &Form::new().set("name", "Cross Checked").set("metadata", Form::new().set("insforge_subject_id", "42")),
            NONE,
        )
        .await
        .unwrap();
    assert_eq!(updated["name"], "Cross Checked");
    assert_eq!(updated["email"], "cross@example.com");
    let fetched = c.fetch(&path).await.unwrap();
    assert_eq!(fetched["metadata"]["insforge_subject_id"], "42");
    let listed = c.list("/v1/customers", &Form::new().set("email", "cross@example.com")).await.unwrap();
    assert_eq!(ids(&listed), [created.id()]);

    assert_eq!(c.remove(&path, &Form::new(), NONE).await.unwrap()["deleted"], true);
    match c.fetch(&path).await {
        Ok(tombstone) => {
            assert!(!b.dev.deleted_customers_404, "{}: tombstones appeared; update the deviation table", b.name);
            assert_eq!(tombstone["deleted"], true);
        }
        Err(err) => {
            assert!(b.dev.deleted_customers_404, "{}: {err}", b.name);
            b.check_not_found(&err);
        }
    }
}

/// A customer subscribed to a 15.00/month price or plan.
async fn subscribe(b: &Backend) -> (String, Value) {
    let c = &b.client;
    let product = c.send("/v1/products", &Form::new().set("name", "Cross Sub"), NONE).await.unwrap();
    let (item_param, price) = b.monthly_price(product.id(), 1500).await;
    let customer = c.send("/v1/customers", &Form::new().set("email", "sub@example.com"), NONE).await.unwrap();
    let mut params = b.payer(customer.id()).await;
    params.insert("customer", customer.id());
    params.insert("items", vec![Form::new().set(item_param, price.as_str())]);
    params.insert("metadata", Form::new().set("insforge_subject_type", "team"));
    let sub = c.send("/v1/subscriptions", &params, NONE).await.unwrap();
    b.check_request_id(&sub);
    (customer.id().to_owned(), sub.into_inner())
}

async fn subscriptions(b: Backend) {
    let c = &b.client;
    let (customer, sub) = subscribe(&b).await;
    assert_eq!(sub["status"], "active", "{}", b.name);
    assert_eq!(sub["customer"], customer.as_str());
    let items = data(&sub["items"]);
    assert_eq!(items.len(), 1);
    assert_eq!(sub["metadata"]["insforge_subject_type"], "team");
    if b.dev.plans_not_prices {
        assert_eq!(items[0]["price"], Value::Null);
        assert_eq!(items[0]["plan"]["amount"], 1500);
    } else {
        assert_eq!(items[0]["price"]["unit_amount"], 1500);
    }
    let listed = c
        .list("/v1/subscriptions", &b.subscription_list(Form::new().set("customer", customer.as_str())))
        .await
        .unwrap();
    assert_eq!(ids(&listed), [sub.id()]);

    let path = format!("/v1/subscriptions/{}", sub.id());
    let updated = c.send(&path, &Form::new().set("metadata", Form::new().set("seats", "3")), NONE).await.unwrap();
    if b.dev.subscription_metadata_ignored {
        assert_eq!(
            updated["metadata"].get("seats"),
            None,
            "{}: metadata now applied; update the deviation table",
            b.name
        );
    } else {
        assert_eq!(updated["metadata"]["seats"], "3");
    }
    assert_eq!(updated["metadata"]["insforge_subject_type"], "team");

    let canceled = c.remove(&path, &Form::new(), NONE).await.unwrap();
    assert_eq!(canceled["status"], "canceled");
    let all = c
        .list("/v1/subscriptions", &b.subscription_list(Form::new().set("customer", customer.as_str())))
        .await
        .unwrap();
    assert_eq!(data(&all).iter().map(|s| text(s, "status")).collect::<Vec<_>>(), ["canceled"], "status=all");
}

async fn invoices_and_refunds(b: Backend) {
    let c = &b.client;
    let (customer, sub) = subscribe(&b).await;
    let invoices =
        c.list_all::<Value>("/v1/invoices", Form::new().set("customer", customer.as_str()), |_| {}).await.unwrap();
    let paid: Vec<_> = invoices.iter().filter(|i| i["status"] == "paid").collect();
    let shown = invoices.iter().map(|i| (text(i, "id"), text(i, "status"))).collect::<Vec<_>>();
    assert_eq!(paid.len(), 1, "{}: {shown:?}", b.name);
    let invoice = c.fetch(&format!("/v1/invoices/{}", paid[0].id())).await.unwrap();
    b.check_request_id(&invoice);
    assert_eq!(invoice["amount_paid"], 1500);
    assert_eq!(invoice["currency"], "usd");
    // The current API names the subscription under `parent`; older ones (localstripe) at the top.
    let subscription = invoice.pointer("/parent/subscription_details/subscription").unwrap_or(&invoice["subscription"]);
    assert_eq!(subscription, &sub["id"]);

    let charges = c.list("/v1/charges", &Form::new().set("customer", customer.as_str())).await.unwrap();
    assert_eq!(data(&charges).len(), 1, "{}", b.name);
    let charge = &data(&charges)[0];
    assert_eq!((&charge["amount"], &charge["paid"], text(charge, "status")), (&1500.into(), &true.into(), "succeeded"));

    let refund = c.send("/v1/refunds", &Form::new().set("charge", charge.id()).set("amount", 500), NONE).await.unwrap();
    b.check_request_id(&refund);
    assert_eq!(refund["amount"], 500);
    // An id, or the charge itself on localstripe (which embeds it).
    assert_eq!(refund["charge"].as_str().unwrap_or(refund["charge"].id()), charge.id());
    let refunds = c.list("/v1/refunds", &Form::new().set("charge", charge.id())).await.unwrap();
    assert_eq!(ids(&refunds), [refund.id()]);
    assert_eq!(c.fetch(&format!("/v1/charges/{}", charge.id())).await.unwrap()["amount_refunded"], 500);
}

async fn pagination(b: Backend) {
    let c = &b.client;
    let mut created = Vec::new();
    for i in 0..25 {
        created.push(
            c.send("/v1/customers", &Form::new().set("email", format!("page{i}@example.com")), NONE)
                .await
                .unwrap()
                .id()
                .to_owned(),
        );
    }
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    let mut pages = c.paginate::<Value>("/v1/customers", Form::new()).page_size(10);
    while let Some(page) = pages.next_page().await.unwrap() {
        sizes.push(page.len());
        seen.extend(page.iter().map(|c| c.id().to_owned()));
    }
    assert_eq!(sizes, [10, 10, 5], "{}", b.name);
    let mut expected = created.clone();
    if !b.dev.oldest_first_lists {
        expected.reverse();
    }
    assert_eq!(seen, expected, "{}: each object exactly once, in the backend's order", b.name);

    let err = c.list("/v1/customers", &Form::new().set("limit", 2_u32).set("starting_after", "cus_unknown")).await;
    if b.dev.unknown_cursor_restarts {
        let page = err.unwrap();
        assert_eq!(ids(&page), created[..2], "{}: restarted", b.name);
    } else {
        let err = err.unwrap_err();
        b.check_not_found(&err);
        assert_eq!(err.api().unwrap().param.as_deref(), Some("starting_after"));
    }
}

async fn errors(b: Backend) {
    let c = &b.client;
    // A required parameter missing.
    let err = c.send("/v1/products", &Form::new(), NONE).await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{}: {err}", b.name);
    if b.dev.no_error_codes {
        assert_eq!(err.code(), None);
    } else {
        assert_eq!(err.code(), Some("parameter_missing"));
        assert_eq!(err.api().unwrap().param.as_deref(), Some("name"));
    }
    // Not a secret key.
    let publishable =
        StripeClient::new(ClientConfig { secret_key: "pk_test_publishable".into(), ..support::fast_config(&b.base) })
            .unwrap();
    let err = publishable.fetch("/v1/customers/cus_x").await.unwrap_err();
    assert!(err.is_auth_error(), "{}: {err}", b.name);
    // An unknown URL.
    let err = c.request::<Value>(Method::GET, "/v1/not_a_resource", &Form::new(), NONE).await.unwrap_err();
    if b.dev.text_404_for_unknown_urls {
        assert!(matches!(&err, StripeError::UnexpectedResponse { status: 404, .. }), "{}: {err:?}", b.name);
    } else {
        assert_eq!(err.status(), Some(404));
        assert!(err.api().unwrap().message.contains("Unrecognized request URL"), "{err}");
    }
    // None of these was retried.
    assert_eq!(c.stats().retries, 0);
}

type Deliveries = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

async fn receive(State(deliveries): State<Deliveries>, headers: HeaderMap, body: Bytes) -> &'static str {
    deliveries.lock().unwrap().push((headers, body));
    "ok"
}

async fn webhooks(b: Backend) {
    let deliveries: Deliveries = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/stripe/webhook", listener.local_addr().unwrap());
    let app = Router::new().route("/stripe/webhook", post(receive)).with_state(deliveries.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let secret = if b.name == "localstripe" {
        // localstripe has no webhook-endpoint API; it is configured through its own route.
        let secret = "whsec_crosscheck_localstripe";
        let resp = reqwest::Client::new()
            .post(format!("{}/_config/webhooks/crosscheck", b.base))
            .form(&[("url", url.as_str()), ("secret", secret), ("events[]", "customer.created")])
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        secret.to_owned()
    } else {
        let endpoint = b
            .client
            .send(
                "/v1/webhook_endpoints",
                &Form::new().set("url", url.as_str()).set("enabled_events", vec!["customer.created"]),
                NONE,
            )
            .await
            .unwrap();
        endpoint["secret"].as_str().expect("the create response carries the secret").to_owned()
    };

    let customer = b.client.send("/v1/customers", &Form::new().set("email", "hook@example.com"), NONE).await.unwrap();
    let (headers, body) = support::poll("a webhook delivery", Duration::from_secs(15), || {
        let d = deliveries.clone();
        async move { d.lock().unwrap().first().cloned() }
    })
    .await;
    let signature = headers["stripe-signature"].to_str().unwrap();
    assert_eq!(verify_webhook_signature(&body, signature, &secret, 300, unix_now()), Ok(()), "{}", b.name);
    assert_eq!(
        verify_webhook_signature(&body, signature, "whsec_wrong", 300, unix_now()),
        Err(SignatureError::Mismatch)
    );
    let mut tampered = body.to_vec();
    tampered.push(b' ');
    assert_eq!(verify_webhook_signature(&tampered, signature, &secret, 300, unix_now()), Err(SignatureError::Mismatch));

    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["type"], "customer.created");
    assert_eq!(event["data"]["object"]["id"], customer.id());
}

/// Runs a scenario against both backends as two tests.
macro_rules! crosscheck {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn sandbox() {
                super::$scenario(super::Backend::sandbox().await).await;
            }

            #[tokio::test]
            async fn localstripe() {
                super::$scenario(super::Backend::localstripe().await).await;
            }
        }
    )*};
}

crosscheck!(products, customers, subscriptions, invoices_and_refunds, pagination, errors, webhooks);
