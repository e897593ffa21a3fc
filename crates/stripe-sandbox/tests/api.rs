//! Protocol-level behaviour: auth, headers, errors, pagination, idempotency,
//! metadata, expansion, and the catalog resources.

mod common;

use common::{start, KEY};
use serde_json::json;
use stripe_sandbox::STRIPE_VERSION;

#[tokio::test]
async fn missing_and_invalid_keys_get_stripe_shaped_401() {
    let s = start().await;
    let r = s.http.get(format!("{}/v1/customers", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["request-id"].to_str().unwrap().starts_with("req_"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(body["error"]["message"].as_str().unwrap().starts_with("You did not provide an API key"));

    let r =
        s.http.get(format!("{}/v1/customers", s.base)).bearer_auth("sk_live_abcdefghijklmnop").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.starts_with("Invalid API Key provided: sk_live_"), "{msg}");
    assert!(msg.ends_with("mnop") && msg.contains('*'), "key must be masked: {msg}");

    // Sandbox-only routes need no key.
    let r = s.http.get(format!("{}/_sandbox", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_live_mode_sandbox_takes_live_keys_only() {
    let s = common::start_with(stripe_sandbox::SandboxConfig {
        api_keys: stripe_sandbox::ApiKeys::AnyLiveKey,
        ..Default::default()
    })
    .await;
    assert_eq!(s.get("/v1/account", &[]).await.status, 401, "a test key"); // uses common::KEY
    for (key, status) in [("sk_live_anything", 200), ("rk_live_restricted", 200), ("sk_live_", 401)] {
        let r = s.http.get(format!("{}/v1/account", s.base)).bearer_auth(key).send().await.unwrap();
        assert_eq!(r.status(), status, "{key}");
    }
    assert_eq!(s.sandbox.config().example_key(), stripe_sandbox::DEFAULT_LIVE_API_KEY);
}

#[tokio::test]
async fn only_configured_keys_when_restricted() {
    let s = common::start_with(stripe_sandbox::SandboxConfig {
        api_keys: stripe_sandbox::ApiKeys::Only(vec!["sk_test_only_this".into()]),
        ..Default::default()
    })
    .await;
    let r = s.get("/v1/account", &[]).await; // uses common::KEY
    assert_eq!(r.status, 401);
    let r = s.http.get(format!("{}/v1/account", s.base)).bearer_auth("sk_test_only_this").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.sandbox.config().example_key(), "sk_test_only_this");
}

#[tokio::test]
async fn every_response_has_request_id_and_version() {
    let s = start().await;
    let ok = s.get("/v1/account", &[]).await;
    let missing = s.get("/v1/products/prod_nope", &[]).await;
    let unknown = s.get("/v1/nonsense", &[]).await;
    let mut ids = Vec::new();
    for r in [&ok, &missing, &unknown] {
        let id = r.header("request-id").unwrap().to_owned();
        assert!(id.starts_with("req_"));
        assert_eq!(r.header("stripe-version"), Some(STRIPE_VERSION));
        ids.push(id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 3, "request ids must be unique");
    assert_eq!(ok.body["object"], "account");
    assert_eq!(ok.body["charges_enabled"], true);
    assert_eq!(ok.body["id"], s.sandbox.config().account_id);
}

#[tokio::test]
async fn unknown_routes_answer_json_404() {
    let s = start().await;
    let r = s.get("/v1/nonsense", &[]).await;
    let err = r.assert_error(404, "invalid_request_error", None);
    assert!(err["message"].as_str().unwrap().contains("Unrecognized request URL (GET: /v1/nonsense)"));
    // Wrong method on a known path is also unrecognized.
    let r = s.send(reqwest::Method::PUT, "/v1/products", &[], &[]).await;
    r.assert_error(404, "invalid_request_error", None);
    let r = s.control_get("/nope").await;
    assert_eq!(r.status, 404);
    assert!(r.body["error"].is_object());
}

#[tokio::test]
async fn error_shapes_for_missing_unknown_and_not_found() {
    let s = start().await;
    let r = s.post("/v1/products", &[]).await;
    let err = r.assert_error(400, "invalid_request_error", Some("parameter_missing"));
    assert_eq!(err["param"], "name");
    assert_eq!(err["message"], "Missing required param: name.");

    let r = s.post("/v1/products", &[("name", "x"), ("colour", "red")]).await;
    let err = r.assert_error(400, "invalid_request_error", Some("parameter_unknown"));
    assert_eq!(err["param"], "colour");
    assert_eq!(err["message"], "Received unknown parameter: colour");

    let r = s.get("/v1/customers/cus_missing", &[]).await;
    let err = r.assert_error(404, "invalid_request_error", Some("resource_missing"));
    assert_eq!(err["message"], "No such customer: 'cus_missing'");
    assert_eq!(err["param"], "id");

    // A dangling reference in a parameter is a 400, not a 404.
    let r = s.post("/v1/prices", &[("product", "prod_missing"), ("currency", "usd"), ("unit_amount", "5")]).await;
    let err = r.assert_error(400, "invalid_request_error", Some("resource_missing"));
    assert_eq!(err["param"], "product");

    let r = s.post("/v1/prices", &[("product_data[name]", "x"), ("currency", "usd"), ("unit_amount", "abc")]).await;
    assert_eq!(r.assert_error(400, "invalid_request_error", None)["param"], "unit_amount");
    // JSON bodies are not how Stripe takes parameters.
    let r = s
        .http
        .post(format!("{}/v1/customers", s.base))
        .bearer_auth(KEY)
        .json(&json!({"email": "a@x.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn json_types_and_product_crud() {
    let s = start().await;
    let r = s.post("/v1/products", &[("name", "Gold"), ("metadata[tier]", "gold"), ("description", "Shiny")]).await;
    let p = r.ok().clone();
    assert!(p["id"].as_str().unwrap().starts_with("prod_"));
    assert_eq!(p["object"], "product");
    assert_eq!(p["active"], json!(true));
    assert_eq!(p["livemode"], json!(false));
    assert!(p["created"].is_i64());
    assert_eq!(p["metadata"], json!({"tier": "gold"}));
    let id = r.id();

    let r =
        s.post(&format!("/v1/products/{id}"), &[("active", "false"), ("name", "Gold 2"), ("description", "")]).await;
    assert_eq!(r.ok()["active"], json!(false));
    assert_eq!(r.body["name"], "Gold 2");
    assert!(r.body["description"].is_null());
    assert_eq!(s.get(&format!("/v1/products/{id}"), &[]).await.body["active"], json!(false));

    let active = s.get("/v1/products", &[("active", "true")]).await;
    assert!(active.ok()["data"].as_array().unwrap().is_empty());
    let inactive = s.get("/v1/products", &[("active", "false")]).await;
    assert_eq!(inactive.ok()["data"][0]["id"], id.as_str());

    let r = s.delete(&format!("/v1/products/{id}")).await;
    assert_eq!(r.ok(), &json!({"id": id, "object": "product", "deleted": true}));
    s.get(&format!("/v1/products/{id}"), &[]).await.assert_error(
        404,
        "invalid_request_error",
        Some("resource_missing"),
    );
}

#[tokio::test]
async fn product_delete_refused_while_prices_exist() {
    let s = start().await;
    let (product, price) = s.product_with_price("Pro", 2000, Some("month")).await;
    let r = s.delete(&format!("/v1/products/{product}")).await;
    let err = r.assert_error(400, "invalid_request_error", None);
    assert_eq!(err["message"], "This product cannot be deleted because it has one or more user-created prices.");
    // Archiving the price does not help: the price still exists.
    s.post(&format!("/v1/prices/{price}"), &[("active", "false")]).await.ok();
    assert_eq!(s.delete(&format!("/v1/products/{product}")).await.status, 400);
    s.get(&format!("/v1/products/{product}"), &[]).await.ok();
}

#[tokio::test]
async fn pagination_both_directions_and_unknown_cursor() {
    let s = start().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(s.post("/v1/customers", &[("email", &format!("c{i}@x.test"))]).await.id());
    }
    ids.reverse(); // newest first
    let page1 = s.get("/v1/customers", &[("limit", "3")]).await;
    let b = page1.ok();
    assert_eq!(b["object"], "list");
    assert_eq!(b["url"], "/v1/customers");
    assert_eq!(b["has_more"], json!(true));
    let got: Vec<&str> = b["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(got, ids[0..3]);

    let page2 = s.get("/v1/customers", &[("limit", "3"), ("starting_after", &ids[2])]).await;
    let got: Vec<&str> = page2.ok()["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(got, ids[3..6]);
    assert_eq!(page2.body["has_more"], json!(true));
    let page3 = s.get("/v1/customers", &[("limit", "3"), ("starting_after", &ids[5])]).await;
    assert_eq!(page3.ok()["data"].as_array().unwrap().len(), 1);
    assert_eq!(page3.body["has_more"], json!(false));

    // Backwards from the last element: the 3 newer ones, still newest first.
    let back = s.get("/v1/customers", &[("limit", "3"), ("ending_before", &ids[6])]).await;
    let got: Vec<&str> = back.ok()["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(got, ids[3..6]);
    assert_eq!(back.body["has_more"], json!(true));
    let back2 = s.get("/v1/customers", &[("limit", "3"), ("ending_before", &ids[2])]).await;
    assert_eq!(back2.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(back2.body["has_more"], json!(false));

    // Default limit is 10.
    assert_eq!(s.get("/v1/customers", &[]).await.body["data"].as_array().unwrap().len(), 7);

    let r = s.get("/v1/customers", &[("starting_after", "cus_doesnotexist")]).await;
    let err = r.assert_error(404, "invalid_request_error", Some("resource_missing"));
    assert_eq!(err["param"], "starting_after");
    for bad in ["0", "101"] {
        let r = s.get("/v1/customers", &[("limit", bad)]).await;
        assert_eq!(r.assert_error(400, "invalid_request_error", None)["param"], "limit");
    }
    let r = s.get("/v1/customers", &[("starting_after", &ids[0]), ("ending_before", &ids[1])]).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn idempotent_replay_and_mismatch() {
    let s = start().await;
    let key = [("Idempotency-Key", "key-123")];
    let first = s.send(reqwest::Method::POST, "/v1/customers", &[("email", "a@x.test")], &key).await;
    first.ok();
    assert!(first.header("idempotent-replayed").is_none());
    let replay = s.send(reqwest::Method::POST, "/v1/customers", &[("email", "a@x.test")], &key).await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body, first.body, "replay returns the stored response");
    assert_eq!(replay.header("original-request"), first.header("request-id"));
    assert_eq!(s.get("/v1/customers", &[]).await.body["data"].as_array().unwrap().len(), 1);

    let other = s.send(reqwest::Method::POST, "/v1/customers", &[("email", "b@x.test")], &key).await;
    let err = other.assert_error(400, "idempotency_error", None);
    assert!(err["message"].as_str().unwrap().contains("key-123"));

    // A validation failure is not stored: the key can be retried with fixed params.
    let k2 = [("Idempotency-Key", "key-456")];
    assert_eq!(s.send(reqwest::Method::POST, "/v1/products", &[], &k2).await.status, 400);
    s.send(reqwest::Method::POST, "/v1/products", &[("name", "ok")], &k2).await.ok();

    // Events carry the key.
    let events = s.get("/v1/events", &[("type", "customer.created")]).await;
    assert_eq!(events.ok()["data"].as_array().unwrap().len(), 1);
    assert_eq!(events.body["data"][0]["request"]["idempotency_key"], "key-123");
    assert_eq!(events.body["data"][0]["request"]["id"], first.header("request-id").unwrap());
}

#[tokio::test]
async fn metadata_update_semantics() {
    let s = start().await;
    let c = s.post("/v1/customers", &[("metadata[a]", "1"), ("metadata[b]", "2")]).await.id();
    let r = s.post(&format!("/v1/customers/{c}"), &[("metadata[a]", ""), ("metadata[c]", "3")]).await;
    assert_eq!(r.ok()["metadata"], json!({"b": "2", "c": "3"}));
    let r = s.post(&format!("/v1/customers/{c}"), &[("metadata", "")]).await;
    assert_eq!(r.ok()["metadata"], json!({}));

    let ev = s.get("/v1/events", &[("type", "customer.updated"), ("limit", "2")]).await;
    let latest = &ev.ok()["data"][0];
    assert_eq!(latest["data"]["previous_attributes"]["metadata"], json!({"b": "2", "c": "3"}));
    let earlier = &ev.body["data"][1];
    assert_eq!(earlier["data"]["previous_attributes"]["metadata"], json!({"a": "1", "c": null}));

    let long = "x".repeat(41);
    let r = s.post(&format!("/v1/customers/{c}"), &[(&format!("metadata[{long}]"), "v")]).await;
    r.assert_error(400, "invalid_request_error", None);
}

#[tokio::test]
async fn prices_immutable_fields_filters_and_lookup_keys() {
    let s = start().await;
    let product = s.post("/v1/products", &[("name", "Pro")]).await.id();
    let monthly = s
        .post(
            "/v1/prices",
            &[
                ("product", &product),
                ("currency", "USD"),
                ("unit_amount", "2000"),
                ("recurring[interval]", "month"),
                ("lookup_key", "pro_monthly"),
            ],
        )
        .await;
    let m = monthly.ok().clone();
    assert_eq!(m["type"], "recurring");
    assert_eq!(m["currency"], "usd");
    assert_eq!(m["unit_amount"], json!(2000));
    assert_eq!(m["recurring"]["interval_count"], json!(1));
    assert_eq!(m["recurring"]["usage_type"], "licensed");
    let one_time = s.post("/v1/prices", &[("product", &product), ("currency", "usd"), ("unit_amount", "500")]).await;
    assert_eq!(one_time.ok()["type"], "one_time");
    assert!(one_time.body["recurring"].is_null());

    for field in ["unit_amount", "currency", "recurring[interval]"] {
        let r = s.post(&format!("/v1/prices/{}", monthly.id()), &[(field, "1")]).await;
        let err = r.assert_error(400, "invalid_request_error", Some("parameter_unknown"));
        assert_eq!(err["param"], field.split('[').next().unwrap());
    }
    let r = s
        .post(
            &format!("/v1/prices/{}", monthly.id()),
            &[("metadata[k]", "v"), ("tax_behavior", "exclusive"), ("active", "false")],
        )
        .await;
    assert_eq!(r.ok()["tax_behavior"], "exclusive");
    assert_eq!(r.body["active"], json!(false));
    let r = s.post(&format!("/v1/prices/{}", monthly.id()), &[("tax_behavior", "inclusive")]).await;
    r.assert_error(400, "invalid_request_error", None);

    let r = s.get("/v1/prices", &[("type", "one_time")]).await;
    assert_eq!(r.ok()["data"].as_array().unwrap().len(), 1);
    let r = s.get("/v1/prices", &[("active", "false"), ("product", &product)]).await;
    assert_eq!(r.ok()["data"][0]["id"], monthly.id().as_str());
    let r = s.get("/v1/prices", &[("lookup_keys[]", "pro_monthly"), ("lookup_keys[]", "nope")]).await;
    assert_eq!(r.ok()["data"].as_array().unwrap().len(), 1);

    // A taken lookup key needs transfer_lookup_key.
    let taken = s
        .post(
            "/v1/prices",
            &[("product", &product), ("currency", "usd"), ("unit_amount", "2500"), ("lookup_key", "pro_monthly")],
        )
        .await;
    taken.assert_error(400, "invalid_request_error", None);
    let moved = s
        .post(
            "/v1/prices",
            &[
                ("product", &product),
                ("currency", "usd"),
                ("unit_amount", "2500"),
                ("lookup_key", "pro_monthly"),
                ("transfer_lookup_key", "true"),
            ],
        )
        .await;
    assert_eq!(moved.ok()["lookup_key"], "pro_monthly");
    assert!(s.get(&format!("/v1/prices/{}", monthly.id()), &[]).await.body["lookup_key"].is_null());
    let r = s.get("/v1/prices", &[("lookup_keys[]", "pro_monthly")]).await;
    assert_eq!(r.body["data"][0]["id"], moved.id().as_str());

    let r = s
        .post(
            "/v1/prices",
            &[("product", &product), ("currency", "usd"), ("unit_amount", "1"), ("recurring[interval]", "fortnight")],
        )
        .await;
    assert_eq!(r.assert_error(400, "invalid_request_error", None)["param"], "recurring[interval]");
}

#[tokio::test]
async fn expand_default_price_on_retrieve_and_list() {
    let s = start().await;
    let r = s
        .post(
            "/v1/products",
            &[
                ("name", "Bundle"),
                ("default_price_data[currency]", "usd"),
                ("default_price_data[unit_amount]", "1234"),
                ("default_price_data[recurring][interval]", "year"),
            ],
        )
        .await;
    let product = r.id();
    let price = r.ok()["default_price"].as_str().unwrap().to_owned();
    assert!(price.starts_with("price_"));
    let r = s.get(&format!("/v1/products/{product}"), &[("expand[]", "default_price")]).await;
    assert_eq!(r.ok()["default_price"]["id"], price.as_str());
    assert_eq!(r.body["default_price"]["unit_amount"], json!(1234));
    let r = s.get("/v1/products", &[("expand[]", "data.default_price")]).await;
    assert_eq!(r.ok()["data"][0]["default_price"]["recurring"]["interval"], "year");
    let r = s.get(&format!("/v1/prices/{price}"), &[("expand[]", "product")]).await;
    assert_eq!(r.ok()["product"]["name"], "Bundle");
    let r = s.get(&format!("/v1/products/{product}"), &[("expand[]", "name")]).await;
    r.assert_error(400, "invalid_request_error", None);
}

#[tokio::test]
async fn customers_crud_list_by_email_and_tombstone() {
    let s = start().await;
    let a = s.post("/v1/customers", &[("email", "a@x.test"), ("name", "A")]).await.id();
    s.post("/v1/customers", &[("email", "b@x.test")]).await.ok();
    let r = s.get("/v1/customers", &[("email", "a@x.test")]).await;
    assert_eq!(r.ok()["data"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["data"][0]["id"], a.as_str());
    let r = s.post(&format!("/v1/customers/{a}"), &[("name", "Alice"), ("phone", "+1555")]).await;
    assert_eq!(r.ok()["name"], "Alice");
    let r = s.delete(&format!("/v1/customers/{a}")).await;
    assert_eq!(r.ok(), &json!({"id": a, "object": "customer", "deleted": true}));
    // Stripe keeps deleted customers retrievable as tombstones, out of lists.
    assert_eq!(s.get(&format!("/v1/customers/{a}"), &[]).await.body["deleted"], json!(true));
    assert_eq!(s.get("/v1/customers", &[]).await.body["data"].as_array().unwrap().len(), 1);
    let types = s.event_types().await;
    assert_eq!(types.iter().filter(|t| *t == "customer.created").count(), 2);
    assert!(types.contains(&"customer.updated".to_owned()) && types.contains(&"customer.deleted".to_owned()));
}

#[tokio::test]
async fn events_filter_by_type_wildcard_and_created() {
    let s = start().await;
    s.post("/v1/products", &[("name", "a")]).await.ok();
    s.post("/v1/customers", &[("email", "e@x.test")]).await.ok();
    let r = s.get("/v1/events", &[("type", "product.*")]).await;
    assert_eq!(r.ok()["data"].as_array().unwrap().len(), 1);
    let ev = &r.body["data"][0];
    assert!(ev["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(ev["object"], "event");
    assert_eq!(ev["api_version"], STRIPE_VERSION);
    assert_eq!(ev["livemode"], json!(false));
    assert_eq!(ev["pending_webhooks"], json!(0));
    assert_eq!(ev["data"]["object"]["name"], "a");
    let created = ev["created"].as_i64().unwrap();
    let r = s.get("/v1/events", &[("created[gt]", &created.to_string())]).await;
    assert!(r.ok()["data"].as_array().unwrap().is_empty());
    let r = s.get("/v1/events", &[("created[gte]", &created.to_string())]).await;
    assert_eq!(r.ok()["data"].as_array().unwrap().len(), 2);
    let one = s.get(&format!("/v1/events/{}", ev["id"].as_str().unwrap()), &[]).await;
    assert_eq!(one.ok()["type"], "product.created");
}
