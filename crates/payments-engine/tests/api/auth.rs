//! The admin guard (`contract/BEHAVIOUR.md` §1.2) and the read-only role.

use reqwest::Method;
use serde_json::json;

use crate::common::*;
use payments_engine::sign_hs256;

fn jwt(role: &str) -> String {
    sign_hs256(&json!({"sub": "user-1", "email": "a@example.com", "role": role, "exp": 4_102_444_800_i64}), JWT_SECRET)
}

#[tokio::test]
async fn admin_guard_messages() {
    let h = Harness::start().await;
    let get = |auth: Auth| h.request(Method::GET, "/api/payments/status", None, auth);
    get(Auth::None).await.err(401, "AUTH_INVALID_CREDENTIALS", "No admin token provided");
    get(Auth::Bearer("ik_wrong".into())).await.err(401, "AUTH_INVALID_API_KEY", "Invalid API key");
    get(Auth::ApiKeyHeader("wrong".into())).await.err(401, "AUTH_INVALID_API_KEY", "Invalid API key");
    get(Auth::Bearer("not.a.jwt".into())).await.err(401, "AUTH_INVALID_CREDENTIALS", "Invalid admin token");
    let forged = sign_hs256(&json!({"role": "project_admin"}), b"another-secret");
    get(Auth::Bearer(forged)).await.err(401, "AUTH_INVALID_CREDENTIALS", "Invalid admin token");
    let expired = sign_hs256(&json!({"role": "project_admin", "exp": 1_000_000_000}), JWT_SECRET);
    get(Auth::Bearer(expired)).await.err(401, "AUTH_INVALID_CREDENTIALS", "Invalid admin token");
    for role in ["anon", "authenticated", ""] {
        get(Auth::Bearer(jwt(role))).await.err(403, "AUTH_UNAUTHORIZED", "Admin access required");
    }
    get(Auth::Bearer(jwt("project_admin"))).await.ok(200);
    get(Auth::ApiKeyHeader(ADMIN_KEY.into())).await.ok(200);
    get(Auth::Admin).await.ok(200);
}

#[tokio::test]
async fn the_guard_runs_before_validation() {
    let h = Harness::start().await;
    h.request(Method::GET, "/api/payments/foo/catalog", None, Auth::None).await.err(
        401,
        "AUTH_INVALID_CREDENTIALS",
        "No admin token provided",
    );
    h.request(Method::PUT, "/api/payments/foo/config", Some(json!({})), Auth::Bearer(jwt("authenticated"))).await.err(
        403,
        "AUTH_UNAUTHORIZED",
        "Admin access required",
    );
}

#[tokio::test]
async fn read_only_callers_may_only_read() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    for path in [
        "/api/payments/status",
        "/api/payments/config",
        "/api/payments/test/catalog",
        "/api/payments/test/catalog/prices",
    ] {
        h.request(Method::GET, path, None, Auth::Support).await.ok(200);
    }
    let writes = [
        (Method::PUT, "/api/payments/test/config", Some(json!({"secretKey": TEST_KEY}))),
        (Method::DELETE, "/api/payments/test/config", None),
        (Method::POST, "/api/payments/test/catalog/products", Some(json!({"name": "x"}))),
        (Method::PATCH, "/api/payments/test/catalog/prices/price_1", Some(json!({"active": false}))),
        (Method::DELETE, "/api/payments/test/catalog/products/prod_1", None),
    ];
    for (method, path, body) in writes {
        h.request(method, path, body, Auth::Support).await.err(403, "AUTH_UNAUTHORIZED", "Admin access required");
    }
    // Nothing was written.
    assert_eq!(h.get("/api/payments/config").await.ok(200)["keys"][0]["hasKey"], true);
    assert_eq!(h.sandbox.count("product"), Some(0));
}
