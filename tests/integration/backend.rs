//! One behaviour suite for both payments backends: the embedded engine (in process) and the
//! remote InsForge backend over HTTP, pointed at a second console's own `/api/payments`. Each
//! case runs against a fresh console per backend, seeded by demo mode's Stripe sandbox.

use crate::support;

use payments_console::auth::{CurrentUser, Role};
use payments_console::backend::ssr::{BackendError, BackendKind, PaymentsBackend, RemoteBackend};
use payments_console::backend::{ListQuery, PriceChanges, PriceDraft, ProductChanges, ProductDraft, RecurringDraft};
use payments_console::environment::Environment;
use payments_console::server::secrets::SecretString;
use payments_model::Paging;
use std::future::Future;
use std::sync::Arc;
use support::TestApp;

fn admin() -> CurrentUser {
    CurrentUser { email: "admin@example.com".into(), role: Role::Admin, must_change_password: false }
}

fn support_user() -> CurrentUser {
    CurrentUser { email: "support@example.com".into(), role: Role::Support, must_change_password: false }
}

/// Runs `case` against the embedded backend of one console and a remote backend speaking HTTP
/// to another.
async fn on_both<F, Fut>(case: F)
where
    F: Fn(Arc<dyn PaymentsBackend>) -> Fut,
    Fut: Future<Output = ()>,
{
    let embedded = TestApp::spawn().await;
    // The apps live until the case ends (their temporary folders hold the databases).
    case(embedded.state.backend.clone()).await;

    let served = TestApp::spawn().await;
    let key = served.state.api_keys.create("remote-console").await.unwrap().1.expose().to_string();
    let remote = RemoteBackend::new(served.base.parse().unwrap(), SecretString::new(key)).unwrap();
    assert_eq!(remote.kind(), BackendKind::Remote);
    case(Arc::new(remote)).await;
    drop((embedded, served));
}

fn api_error(e: BackendError) -> (u16, String, String) {
    match e {
        BackendError::Api { status, code, message } => (status, code.to_string(), message),
        other => panic!("expected a contract error, got {other:?}"),
    }
}

#[tokio::test]
async fn status_and_config_list_both_environments_with_masked_keys() {
    on_both(|backend| async move {
        let connections = backend.status(&admin()).await.unwrap();
        assert_eq!(connections.len(), 2);
        assert_eq!(connections[0].environment, Environment::Test);
        assert_eq!(connections[0].status.as_str(), "connected");
        assert_eq!(connections[0].masked_key.as_deref(), Some("sk_test_****dbox"));
        assert_eq!(connections[1].status.as_str(), "unconfigured");
        let config = backend.config(&admin()).await.unwrap();
        let text = serde_json::to_string(&config).unwrap();
        assert!(!text.contains("sk_test_sandbox"), "never the key itself: {text}");
        // Support may read.
        assert_eq!(backend.status(&support_user()).await.unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn keys_are_validated_then_set_and_removed() {
    on_both(|backend| async move {
        let wrong = backend.set_secret_key(&admin(), Environment::Live, &SecretString::new("sk_test_x".into())).await;
        let (status, code, message) = api_error(wrong.unwrap_err());
        assert_eq!(
            (status, code.as_str(), message.as_str()),
            (400, "PAYMENT_CONFIG_INVALID", "STRIPE_LIVE_SECRET_KEY must start with sk_live_")
        );

        // Another key of the same account: a rotation, connected at once.
        let rotated = SecretString::new("sk_test_rotated_known".into());
        let config = backend.set_secret_key(&admin(), Environment::Test, &rotated).await.unwrap();
        assert_eq!(config.keys[0].masked_key.as_deref(), Some("sk_test_****nown"));
        assert_eq!(backend.status(&admin()).await.unwrap()[0].status.as_str(), "connected");

        let config = backend.remove_secret_key(&admin(), Environment::Test).await.unwrap();
        assert!(serde_json::to_value(&config).unwrap().to_string().contains("\"hasKey\":false"), "{config:?}");
        let connections = backend.status(&admin()).await.unwrap();
        assert_eq!(connections[0].status.as_str(), "unconfigured");
        let config =
            backend.set_secret_key(&admin(), Environment::Test, &SecretString::new("sk_test_sandbox".into())).await;
        config.unwrap();
        assert_eq!(backend.status(&admin()).await.unwrap()[0].status.as_str(), "connected");
    })
    .await;
}

#[tokio::test]
async fn the_catalog_is_edited_with_stripes_refusals_surfaced() {
    on_both(|backend| async move {
        let user = admin();
        let env = Environment::Test;
        let invalid =
            backend.create_product(&user, env, &ProductDraft { name: " ".into(), ..Default::default() }).await;
        let (status, code, message) = api_error(invalid.unwrap_err());
        assert_eq!((status, code.as_str(), message.as_str()), (400, "INVALID_INPUT", "name: Product name is required"));

        let draft =
            ProductDraft { name: "Team plan".into(), description: Some("For teams".into()), ..Default::default() };
        let product = backend.create_product(&user, env, &draft).await.unwrap();
        let changes =
            ProductChanges { name: Some("Team plan v2".into()), description: Some(None), ..Default::default() };
        let product = backend.update_product(&user, env, &product.stripe_product_id, &changes).await.unwrap();
        assert_eq!(product.name, "Team plan v2");
        assert_eq!(product.description, None);

        let one_time = PriceDraft {
            stripe_product_id: product.stripe_product_id.clone(),
            currency: "usd".into(),
            unit_amount: 4900,
            ..Default::default()
        };
        let one_time = backend.create_price(&user, env, &one_time).await.unwrap();
        let monthly = PriceDraft {
            stripe_product_id: product.stripe_product_id.clone(),
            currency: "eur".into(),
            unit_amount: 1200,
            lookup_key: Some("backend_suite_monthly".into()),
            recurring: Some(RecurringDraft { interval: "month".into(), interval_count: None }),
            ..Default::default()
        };
        let monthly = backend.create_price(&user, env, &monthly).await.unwrap();
        assert_eq!(monthly.recurring_interval.as_ref().map(|i| i.as_str()), Some("month"));
        let moved =
            PriceChanges { lookup_key: Some(None), tax_behavior: Some("exclusive".into()), ..Default::default() };
        let monthly = backend.update_price(&user, env, &monthly.stripe_price_id, &moved).await.unwrap();
        assert_eq!(monthly.lookup_key, None);
        assert_eq!(monthly.tax_behavior.as_ref().map(|t| t.as_str()), Some("exclusive"));

        let detail = backend.product(&user, env, &product.stripe_product_id).await.unwrap();
        assert_eq!(detail.prices.len(), 2);

        // Stripe refuses to delete a product with prices; the message says why.
        let refused = backend.delete_product(&user, env, &product.stripe_product_id).await;
        let (status, _, message) = api_error(refused.unwrap_err());
        assert_eq!(status, 400);
        assert!(message.to_lowercase().contains("price"), "{message}");

        let archived = backend.archive_price(&user, env, &one_time.stripe_price_id).await.unwrap();
        assert!(archived.archived && !archived.price.active);

        let scratch = ProductDraft { name: "Scratch".into(), ..Default::default() };
        let empty = backend.create_product(&user, env, &scratch).await.unwrap();
        let deleted = backend.delete_product(&user, env, &empty.stripe_product_id).await.unwrap();
        assert!(deleted.deleted);
        let missing = backend.product(&user, env, &empty.stripe_product_id).await;
        let (status, code, _) = api_error(missing.unwrap_err());
        assert_eq!((status, code.as_str()), (404, "PAYMENT_PRODUCT_NOT_FOUND"));

        let catalog = backend.catalog(&user, env).await.unwrap();
        assert!(catalog.products.iter().any(|p| p.name == "Team plan v2"));
    })
    .await;
}

#[tokio::test]
async fn support_users_cannot_write_through_the_embedded_backend() {
    let app = TestApp::spawn().await;
    let backend = app.state.backend.clone();
    assert_eq!(backend.kind(), BackendKind::Embedded);
    let draft = ProductDraft { name: "Nope".into(), ..Default::default() };
    let (status, _, _) =
        api_error(backend.create_product(&support_user(), Environment::Test, &draft).await.unwrap_err());
    assert_eq!(status, 403);
    // Reads are fine.
    backend.catalog(&support_user(), Environment::Test).await.unwrap();
}

#[tokio::test]
async fn lists_page_with_cursors_and_filters() {
    on_both(|backend| async move {
        let user = support_user();
        let env = Environment::Test;
        let all = backend.subscriptions(&user, env, &ListQuery::default()).await.unwrap();
        assert!(all.items.len() >= 3, "the demo seed has subscriptions: {}", all.items.len());
        assert_eq!(all.next_cursor, None, "no cursor unless asked for");

        let first = ListQuery { limit: Some(2), cursor: Paging::First, ..Default::default() };
        let page1 = backend.subscriptions(&user, env, &first).await.unwrap();
        assert_eq!(page1.items.len(), 2);
        let cursor = page1.next_cursor.clone().expect("a next page");
        let next = ListQuery { cursor: Paging::After(cursor), ..first.clone() };
        let page2 = backend.subscriptions(&user, env, &next).await.unwrap();
        assert!(page2
            .items
            .iter()
            .all(|s| page1.items.iter().all(|t| t.stripe_subscription_id != s.stripe_subscription_id)));

        let status = all.items[0].status.clone();
        let mut filtered = ListQuery::<payments_model::SubscriptionListFilters>::default();
        filtered.filters.status = Some(status.clone());
        let only = backend.subscriptions(&user, env, &filtered).await.unwrap();
        assert!(!only.items.is_empty() && only.items.iter().all(|s| s.status == status));

        let customers = backend.customers(&user, env, &ListQuery::default()).await.unwrap();
        assert!(!customers.items.is_empty());
        let email = customers.items.iter().find_map(|c| c.email.clone()).expect("a customer with an email");
        let mut search = ListQuery::<payments_model::CustomerListFilters>::default();
        search.filters.search = Some(email.clone());
        let found = backend.customers(&user, env, &search).await.unwrap();
        assert!(found.items.iter().any(|c| c.email.as_deref() == Some(email.as_str())));

        backend.payment_history(&user, env, &ListQuery::default()).await.unwrap();
        backend.webhook_events(&user, env, &ListQuery::default()).await.unwrap();
        let bad = ListQuery { limit: Some(500), ..Default::default() };
        let (status, code, message) = api_error(backend.customers(&user, env, &bad).await.unwrap_err());
        assert_eq!((status, code.as_str()), (400, "INVALID_INPUT"));
        assert!(message.contains("less than or equal to 100"), "{message}");
    })
    .await;
}

#[tokio::test]
async fn sync_reports_results_per_environment_and_progress() {
    on_both(|backend| async move {
        let user = admin();
        let both = backend.sync(&user, None).await.unwrap();
        assert_eq!(both.results.len(), 2);
        let test = &both.results[0];
        assert_eq!(test.connection.last_sync_status.as_ref().map(|s| s.as_str()), Some("succeeded"));
        assert!(test.connection.last_sync_counts["products"] > 0);
        assert_eq!(both.results[1].connection.last_sync_status.as_ref().map(|s| s.as_str()), Some("failed"));

        let progress = backend.sync_progress(&user, Environment::Test).await.unwrap();
        assert_eq!(progress.succeeded, Some(true));
        assert!(progress.objects["products"].fetched > 0);

        let configured = backend.configure_webhook(&user, Environment::Test).await.unwrap();
        assert!(configured.connection.webhook_endpoint_id.is_some());
        let missing = backend.reprocess_event(&user, Environment::Test, "evt_missing").await;
        let (status, _, _) = api_error(missing.unwrap_err());
        assert_eq!(status, 404);
    })
    .await;
}

/// A remote InsForge backend without the engine's additive routes: the typed operations say
/// "unsupported" instead of failing, and the contract's routes still work.
#[tokio::test]
async fn a_backend_without_the_extensions_is_reported_as_unsupported() {
    use axum::routing::get;
    use axum::Json;
    let subscriptions = || async { Json(serde_json::json!({"subscriptions": []})) };
    let base =
        support::stub_backend(axum::Router::new().route("/api/payments/test/subscriptions", get(subscriptions))).await;

    let backend: Arc<dyn PaymentsBackend> =
        Arc::new(RemoteBackend::new(base.parse().unwrap(), SecretString::new("ik_x".into())).unwrap());
    let user = admin();
    let page = backend.subscriptions(&user, Environment::Test, &ListQuery::default()).await.unwrap();
    assert!(page.items.is_empty() && page.next_cursor.is_none());
    let paged = ListQuery { cursor: Paging::First, ..Default::default() };
    // The stub ignores the query: what matters is the unknown routes below.
    backend.subscriptions(&user, Environment::Test, &paged).await.unwrap();
    assert!(matches!(
        backend.sync_progress(&user, Environment::Test).await,
        Err(BackendError::Unsupported("live sync progress"))
    ));
    assert!(matches!(
        backend.webhook_events(&user, Environment::Test, &ListQuery::default()).await,
        Err(BackendError::Unsupported(_))
    ));
    // Signing secrets pasted from the Stripe CLI (issue #14) are an extension too.
    let pasted = SecretString::new("whsec_0123456789abcdef0123".into());
    assert!(matches!(
        backend.set_forwarding_secret(&user, Environment::Test, &pasted).await,
        Err(BackendError::Unsupported("signing secrets pasted from the Stripe CLI"))
    ));
    assert!(matches!(
        backend.remove_forwarding_secret(&user, Environment::Test).await,
        Err(BackendError::Unsupported(_))
    ));
    // A contract route the backend lacks is a plain error, not "unsupported".
    assert!(matches!(backend.status(&user).await, Err(BackendError::Api { status: 404, .. })));
    let app_error: payments_console::error::AppError =
        backend.webhook_events(&user, Environment::Test, &ListQuery::default()).await.unwrap_err().into();
    assert_eq!(app_error.status_code(), 501);
    assert!(app_error.to_string().contains("webhook event log"), "{app_error}");
}

/// An unreachable remote backend is an outage, never a leaked socket error.
#[tokio::test]
async fn an_unreachable_backend_is_reported_without_details() {
    let backend: Arc<dyn PaymentsBackend> =
        Arc::new(RemoteBackend::new("http://127.0.0.1:9".parse().unwrap(), SecretString::new("ik_x".into())).unwrap());
    let err = backend.status(&admin()).await.unwrap_err();
    assert!(matches!(err, BackendError::Unavailable(_)));
    let shown: payments_console::error::AppError = err.into();
    assert_eq!(shown.status_code(), 502);
    assert!(!shown.to_string().contains("127.0.0.1"));
}
