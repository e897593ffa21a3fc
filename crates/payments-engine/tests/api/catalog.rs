//! Catalog routes: mutations through Stripe, reads from the mirror, validation.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;

const PRODUCTS: &str = "/api/payments/test/catalog/products";
const PRICES: &str = "/api/payments/test/catalog/prices";

#[tokio::test]
async fn product_and_price_lifecycle() {
    let h = Harness::start().await;
    // Without a key, mutations are refused before any Stripe call.
    h.send(Method::POST, PRODUCTS, json!({"name": "Pro"})).await.err(
        400,
        "PAYMENT_CONFIG_INVALID",
        "STRIPE_TEST_SECRET_KEY is not configured",
    );
    h.configure(TEST_KEY).await;

    let body =
        json!({"name": "  Pro  ", "description": "Pro plan", "metadata": {"tier": "pro"}, "idempotencyKey": "pro-1"});
    let created = h.send(Method::POST, PRODUCTS, body.clone()).await.ok(201).clone();
    let product = &created["product"];
    let id = product["stripeProductId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("prod_"));
    assert_eq!(product["environment"], "test");
    assert_eq!(product["name"], "Pro");
    assert_eq!(product["description"], "Pro plan");
    assert_eq!(product["active"], true);
    assert_eq!(product["defaultPriceId"], Value::Null);
    assert_eq!(product["metadata"], json!({"tier": "pro"}));
    assert_eq!(product["syncedAt"].as_str().unwrap().len(), 24);
    // Same idempotency key: Stripe replays, no second product.
    let again = h.send(Method::POST, PRODUCTS, body).await.ok(201).clone();
    assert_eq!(again["product"]["stripeProductId"], id.as_str());
    assert_eq!(h.sandbox.count("product"), Some(1));

    let listed = h.get(PRODUCTS).await.ok(200).clone();
    assert_eq!(listed["products"].as_array().unwrap().len(), 1);
    assert_eq!(listed["products"][0]["stripeProductId"], id.as_str());
    assert_eq!(h.get(&format!("{PRODUCTS}/{id}")).await.ok(200)["prices"], json!([]));

    let updated =
        h.send(Method::PATCH, &format!("{PRODUCTS}/{id}"), json!({"description": null, "active": false})).await;
    let updated = &updated.ok(200)["product"];
    assert_eq!(updated["description"], Value::Null);
    assert_eq!(updated["active"], false);
    assert_eq!(h.get(&format!("{PRODUCTS}/{id}")).await.ok(200)["product"]["active"], false, "mirror updated");

    let price = h
        .send(
            Method::POST,
            PRICES,
            json!({"stripeProductId": id, "currency": "USD", "unitAmount": 900,
                   "recurring": {"interval": "month"}, "lookupKey": "pro_monthly", "taxBehavior": "exclusive"}),
        )
        .await
        .ok(201)["price"]
        .clone();
    let price_id = price["stripePriceId"].as_str().unwrap().to_owned();
    assert_eq!(price["stripeProductId"], id.as_str());
    assert_eq!(price["currency"], "usd");
    assert_eq!(price["unitAmount"], 900);
    assert_eq!(price["unitAmountDecimal"], "900");
    assert_eq!(price["type"], "recurring");
    assert_eq!(price["recurringInterval"], "month");
    assert_eq!(price["recurringIntervalCount"], 1);
    assert_eq!(price["lookupKey"], "pro_monthly");
    assert_eq!(price["taxBehavior"], "exclusive");
    assert_eq!(price["billingScheme"], "per_unit");
    assert_eq!(price["active"], true);

    let one_time =
        h.send(Method::POST, PRICES, json!({"stripeProductId": id, "currency": "eur", "unitAmount": 0})).await.ok(201)
            ["price"]
            .clone();
    assert_eq!(one_time["type"], "one_time");
    assert_eq!(one_time["recurringInterval"], Value::Null);

    let of_product = h.get(&format!("{PRICES}?stripeProductId={id}")).await.ok(200)["prices"].as_array().unwrap().len();
    assert_eq!(of_product, 2);
    assert_eq!(h.get(&format!("{PRICES}?stripeProductId=prod_none")).await.ok(200), &json!({"prices": []}));
    assert_eq!(h.get(&format!("{PRODUCTS}/{id}")).await.ok(200)["prices"].as_array().unwrap().len(), 2);
    assert_eq!(h.get(&format!("{PRICES}/{price_id}")).await.ok(200)["price"]["lookupKey"], "pro_monthly");

    let patched = h
        .send(Method::PATCH, &format!("{PRICES}/{price_id}"), json!({"lookupKey": null, "metadata": {"a": "b"}}))
        .await
        .ok(200)["price"]
        .clone();
    assert_eq!(patched["lookupKey"], Value::Null);
    assert_eq!(patched["metadata"], json!({"a": "b"}));

    let archived = h.delete(&format!("{PRICES}/{price_id}")).await.ok(200).clone();
    assert_eq!(archived["archived"], true);
    assert_eq!(archived["price"]["active"], false);
    assert_eq!(
        h.get(&format!("{PRICES}/{price_id}")).await.ok(200)["price"]["active"],
        false,
        "archived rows are kept"
    );

    // Stripe refuses to delete a product with prices; the refusal is surfaced, the mirror kept.
    h.delete(&format!("{PRODUCTS}/{id}")).await.err(
        400,
        "UPSTREAM_FAILURE",
        "This product cannot be deleted because it has one or more user-created prices.",
    );
    h.get(&format!("{PRODUCTS}/{id}")).await.ok(200);

    let bare =
        h.send(Method::POST, PRODUCTS, json!({"name": "Bare"})).await.ok(201)["product"]["stripeProductId"].clone();
    let bare = bare.as_str().unwrap();
    assert_eq!(
        h.delete(&format!("{PRODUCTS}/{bare}")).await.ok(200),
        &json!({"stripeProductId": bare, "deleted": true})
    );
    h.get(&format!("{PRODUCTS}/{bare}")).await.err(
        404,
        "PAYMENT_PRODUCT_NOT_FOUND",
        &format!("Stripe test product not found: {bare}"),
    );
}

#[tokio::test]
async fn misses_use_payment_codes_and_unknown_endpoints_not_found() {
    let h = Harness::start().await;
    h.get(&format!("{PRODUCTS}/prod_x")).await.err(
        404,
        "PAYMENT_PRODUCT_NOT_FOUND",
        "Stripe test product not found: prod_x",
    );
    h.get("/api/payments/live/catalog/prices/price_x").await.err(
        404,
        "PAYMENT_PRICE_NOT_FOUND",
        "Stripe live price not found: price_x",
    );
    h.configure(TEST_KEY).await;
    // Mutations go to Stripe first: its 404 is an upstream failure, never a bare NOT_FOUND.
    let r = h.send(Method::PATCH, &format!("{PRODUCTS}/prod_missing"), json!({"name": "x"})).await;
    assert_eq!((r.status.as_u16(), r.body["error"].as_str()), (404, Some("UPSTREAM_FAILURE")), "{}", r.body);

    let r = h.get("/api/payments/test/nope").await;
    r.err(404, "NOT_FOUND", "Endpoint /api/payments/test/nope not found");
    assert_eq!(r.body["nextActions"], "Please check the API documentation for available endpoints");
    h.send(Method::POST, "/api/payments/status", json!({})).await.err(
        404,
        "NOT_FOUND",
        "Endpoint /api/payments/status not found",
    );
    h.request(Method::GET, "/api/payments/test/nope", None, Auth::None).await.err(
        401,
        "AUTH_INVALID_CREDENTIALS",
        "No admin token provided",
    );
}

#[tokio::test]
async fn catalog_validation_errors() {
    let h = Harness::start().await;
    let post = |path: &'static str, body: Value| h.send(Method::POST, path, body);
    let cases: Vec<(&str, Value, &str)> = vec![
        (PRODUCTS, json!({}), "name: Required"),
        (PRODUCTS, json!({"name": " "}), "name: Product name is required"),
        (PRODUCTS, json!({"name": "x", "description": "d".repeat(5001)}), "description: String must contain at most 5000 character(s)"),
        (PRODUCTS, json!({"name": "x", "active": "yes"}), "active: Expected boolean, received string"),
        (PRODUCTS, json!({"name": "x", "metadata": {"k": 1}}), "metadata.k: Expected string, received number"),
        (PRODUCTS, json!({"name": "x", "metadata": []}), "metadata: Expected object, received array"),
        (PRODUCTS, json!({"name": "x", "idempotencyKey": ""}), "idempotencyKey: String must contain at least 1 character(s)"),
        (PRODUCTS, json!({"name": "x", "idempotencyKey": "k".repeat(201)}), "idempotencyKey: String must contain at most 200 character(s)"),
        (PRODUCTS, json!({"name": null, "foo": 1}), "name: Expected string, received null, : Unrecognized key(s) in object: 'foo'"),
        (PRICES, json!({}), "stripeProductId: Required, currency: Required, unitAmount: Required"),
        (PRICES, json!({"stripeProductId": " ", "currency": "usdx", "unitAmount": "9"}),
            "stripeProductId: Stripe product id is required, currency: String must contain exactly 3 character(s), unitAmount: Expected number, received string"),
        (PRICES, json!({"stripeProductId": "p", "currency": "usd", "unitAmount": -1}), "unitAmount: Number must be greater than or equal to 0"),
        (PRICES, json!({"stripeProductId": "p", "currency": "usd", "unitAmount": 1.5}), "unitAmount: Expected integer, received float"),
        (PRICES, json!({"stripeProductId": "p", "currency": "usd", "unitAmount": 1, "recurring": {}}), "recurring.interval: Required"),
        (PRICES, json!({"stripeProductId": "p", "currency": "usd", "unitAmount": 1, "recurring": {"interval": "month", "intervalCount": 0}}),
            "recurring.intervalCount: Number must be greater than 0"),
        (PRICES, json!({"stripeProductId": "p", "currency": "usd", "unitAmount": 1, "recurring": "month"}), "recurring: Expected object, received string"),
        (PRICES, json!({"stripeProductId": "p", "currency": "usd", "unitAmount": 1, "taxBehavior": "none"}),
            "taxBehavior: Invalid enum value. Expected 'exclusive' | 'inclusive' | 'unspecified', received 'none'"),
        (PRICES, json!({"stripeProductId": "p", "currency": "usd", "unitAmount": 1, "lookupKey": ""}), "lookupKey: String must contain at least 1 character(s)"),
    ];
    for (path, body, message) in cases {
        post(path, body.clone()).await.err(400, "INVALID_INPUT", message);
    }
    h.send(Method::PATCH, &format!("{PRODUCTS}/prod_1"), json!({})).await.err(
        400,
        "INVALID_INPUT",
        ": At least one product field is required",
    );
    h.send(Method::PATCH, &format!("{PRODUCTS}/prod_1"), json!({"unitAmount": 1})).await.err(
        400,
        "INVALID_INPUT",
        ": Unrecognized key(s) in object: 'unitAmount', : At least one product field is required",
    );
    h.send(Method::PATCH, &format!("{PRODUCTS}/prod_1"), json!({"name": ""})).await.err(
        400,
        "INVALID_INPUT",
        "name: Product name is required",
    );
    h.send(Method::PATCH, &format!("{PRICES}/price_1"), json!({})).await.err(
        400,
        "INVALID_INPUT",
        ": At least one price field is required",
    );
    h.send(Method::PATCH, &format!("{PRICES}/price_1"), json!({"unitAmount": 5, "active": 1})).await.err(
        400,
        "INVALID_INPUT",
        "active: Expected boolean, received number, : Unrecognized key(s) in object: 'unitAmount'",
    );

    // Path parameters (validated together, before the body).
    h.get(&format!("{PRODUCTS}/%20")).await.err(400, "INVALID_INPUT", "productId: Stripe product id is required");
    h.get("/api/payments/prod/catalog/prices/%20%20").await.err(
        400,
        "INVALID_INPUT",
        "environment: Invalid enum value. Expected 'test' | 'live', received 'prod', priceId: Stripe price id is required",
    );
    h.send(Method::POST, "/api/payments/x/catalog/products", json!({})).await.err(
        400,
        "INVALID_INPUT",
        "environment: Invalid enum value. Expected 'test' | 'live', received 'x'",
    );
    h.get("/api/payments/x/catalog").await.err(
        400,
        "INVALID_INPUT",
        "environment: Invalid enum value. Expected 'test' | 'live', received 'x'",
    );

    // The prices query is strict; the products/catalog queries are not validated.
    h.get(&format!("{PRICES}?foo=1")).await.err(400, "INVALID_INPUT", ": Unrecognized key(s) in object: 'foo'");
    h.get(&format!("{PRICES}?stripeProductId=")).await.err(
        400,
        "INVALID_INPUT",
        "stripeProductId: String must contain at least 1 character(s)",
    );
    h.get(&format!("{PRICES}?stripeProductId=a&stripeProductId=b")).await.err(
        400,
        "INVALID_INPUT",
        "stripeProductId: Expected string, received array",
    );
    h.get(&format!("{PRODUCTS}?foo=1")).await.ok(200);
    h.get("/api/payments/test/catalog?foo=1").await.ok(200);

    let r = h.request(Method::POST, PRODUCTS, None, Auth::Admin).await;
    r.err(400, "INVALID_INPUT", "name: Required");
}
