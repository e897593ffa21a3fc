//! The envelopes go on the wire byte for byte as the engine's bodies did when it built them with
//! `serde_json::json!` (the official InsForge CLI and SDK read them). Each expected string was
//! produced by that construction, and each test also checks it against the construction itself.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::values::wire_tests::{CHECKOUT_SESSION, EVENT, HISTORY, PORTAL_SESSION, PRICE, REFUND, SUBSCRIPTION};
use crate::*;

/// The body as the engine sends it: through `Value`, whose maps sort their keys.
fn wire<T: Serialize>(body: &T) -> String {
    serde_json::to_value(body).unwrap().to_string()
}

/// `body` goes on the wire as `expected`, which is what the engine's former `json!` body
/// `before` gave, and `expected` reads back as `body` and serialises back unchanged.
fn pinned<T: Serialize + DeserializeOwned + PartialEq + Debug>(body: T, before: Value, expected: &str) {
    assert_eq!(before.to_string(), expected, "the former body");
    assert_eq!(wire(&body), expected);
    let read: T = serde_json::from_str(expected).unwrap();
    assert_eq!(read, body);
    assert_eq!(wire(&read), expected);
}

fn row<T: DeserializeOwned>(json: &str) -> T {
    serde_json::from_str(json).unwrap()
}

/// The engine's former list body: the rows under `key`, plus `nextCursor` when the caller paged.
fn reply(key: &str, items: Value, next: Option<Cursor>, paged: bool) -> Value {
    let mut body = json!({ key: items });
    if paged {
        body["nextCursor"] = json!(next);
    }
    body
}

#[test]
fn product_envelopes() {
    let product: Product = row(PRODUCT);
    pinned(ProductEnvelope { product: product.clone() }, json!({ "product": product }), PRODUCT_BODY);
    let products = vec![product];
    pinned(ProductsEnvelope { products: products.clone() }, json!({ "products": products }), PRODUCTS_BODY);
}

#[test]
fn price_envelopes() {
    let price: Price = row(PRICE);
    pinned(PriceEnvelope { price: price.clone() }, json!({ "price": price }), PRICE_BODY);
    let prices = vec![price];
    pinned(PricesEnvelope { prices: prices.clone() }, json!({ "prices": prices }), PRICES_BODY);
}

#[test]
fn refund_envelope() {
    let refund: Refund = row(REFUND);
    pinned(RefundEnvelope { refund: refund.clone() }, json!({ "refund": refund }), REFUND_BODY);
}

#[test]
fn session_envelopes() {
    let session: CheckoutSession = row(CHECKOUT_SESSION);
    let body = CheckoutSessionEnvelope { checkout_session: session.clone() };
    pinned(body, json!({ "checkoutSession": session }), CHECKOUT_SESSION_BODY);
    let session: CustomerPortalSession = row(PORTAL_SESSION);
    let body = CustomerPortalSessionEnvelope { customer_portal_session: session.clone() };
    pinned(body, json!({ "customerPortalSession": session }), PORTAL_SESSION_BODY);
}

#[test]
fn summary_and_overview_envelopes() {
    let counts = [(PaymentStatus::Succeeded, 2), (PaymentStatus::Refunded, 1)].into_iter().collect();
    let day = DayCount { date: "2026-11-25".into(), payments: 2, refunds: 1 };
    let summary = HistorySummary::from_counts(vec![day], counts, false);
    pinned(HistorySummaryEnvelope { summary: summary.clone() }, json!({ "summary": summary }), HISTORY_SUMMARY_BODY);

    let statuses = vec![StatusCount { status: "active".into(), rows: 3 }];
    pinned(StatusSummaryEnvelope { summary: statuses.clone() }, json!({ "summary": statuses }), STATUS_SUMMARY_BODY);

    let overview = Overview {
        computed_at: "2026-11-25T10:00:00.000Z".into(),
        subscriptions: statuses,
        mrr: vec![CurrencyAmount { currency: "usd".into(), amount: 1000 }],
        mrr_uncounted_items: 1,
        payments_30d: 4,
        volume_30d: vec![CurrencyAmount { currency: "eur".into(), amount: 250 }],
        days: vec![DayPayments { date: "2026-11-25".into(), succeeded: 4, failed: 1 }],
        failed_7d: 1,
        refunds_7d: 2,
        events_failed: 0,
        events_pending: 5,
    };
    pinned(OverviewEnvelope { overview: overview.clone() }, json!({ "overview": overview }), OVERVIEW_BODY);
}

/// A list body has `nextCursor` only when the caller paged: the next page's cursor, or `null` on
/// the last page; unpaged, the key is absent even if the engine's page has a cursor. Its place
/// among the keys is alphabetical: after `customers`, before `subscriptions`.
#[test]
fn list_pages_with_and_without_next_cursor() {
    let subscriptions: Vec<Subscription> = vec![row(SUBSCRIPTION)];
    let cursor = Cursor::new("c_2");
    for (next, paged, expected) in [
        (cursor.clone(), false, SUBSCRIPTIONS_UNPAGED),
        (None, true, SUBSCRIPTIONS_LAST),
        (cursor.clone(), true, SUBSCRIPTIONS_NEXT),
    ] {
        let page = Page { items: subscriptions.clone(), next_cursor: next.clone() };
        let before = reply("subscriptions", json!(subscriptions), next, paged);
        pinned(SubscriptionsPage::new(page, paged), before, expected);
    }

    let customers: Vec<CustomerListItem> = vec![row(CUSTOMER)];
    let page = Page { items: customers.clone(), next_cursor: cursor.clone() };
    let before = reply("customers", json!(customers), cursor.clone(), true);
    pinned(CustomersPage::new(page, true), before, CUSTOMERS_NEXT);

    let history: Vec<PaymentHistory> = vec![row(HISTORY)];
    let page = Page { items: history.clone(), next_cursor: None };
    let before = reply("paymentHistory", json!(history), None, false);
    pinned(PaymentHistoryPage::new(page, false), before, HISTORY_UNPAGED);

    let events: Vec<WebhookEvent> = vec![row(EVENT)];
    let page = Page { items: events.clone(), next_cursor: None };
    let before = reply("webhookEvents", json!(events), None, true);
    pinned(WebhookEventsPage::new(page, true), before, EVENTS_LAST);
}

/// A client reads a list body into the page it shows: rows and the next cursor, if any.
#[test]
fn list_pages_read_back_as_pages() {
    let page: Page<Subscription> = row::<SubscriptionsPage>(SUBSCRIPTIONS_NEXT).into();
    assert_eq!((page.items.len(), page.next_cursor.as_ref().map(Cursor::as_str)), (1, Some("c_2")));
    for unpaged_or_last in [SUBSCRIPTIONS_UNPAGED, SUBSCRIPTIONS_LAST] {
        let page: Page<Subscription> = row::<SubscriptionsPage>(unpaged_or_last).into();
        assert_eq!((page.items.len(), page.next_cursor), (1, None));
    }
    // A cursor that is not a string, or is empty, ends the list, as the console always read it.
    for odd in [r#"{"customers":[],"nextCursor":7}"#, r#"{"customers":[],"nextCursor":""}"#] {
        let page: Page<CustomerListItem> = row::<CustomersPage>(odd).into();
        assert_eq!(page, Page { items: vec![], next_cursor: None }, "{odd}");
    }
    // A body without its key is not a page.
    assert!(serde_json::from_str::<CustomersPage>(r#"{"nextCursor":null}"#).is_err());
}

const PRODUCT: &str = r#"{"environment":"test","stripeProductId":"prod_1","name":"Pro","description":null,"active":true,"defaultPriceId":"price_1","metadata":{"tier":"pro"},"syncedAt":"2026-11-25T10:00:00.000Z"}"#;
const CUSTOMER: &str = r#"{"environment":"test","stripeCustomerId":"cus_1","email":"a@example.com","name":null,"phone":null,"deleted":false,"metadata":{},"stripeCreatedAt":null,"syncedAt":"2026-11-25T10:00:00.000Z","paymentsCount":2,"lastPaymentAt":null,"totalSpend":1500,"totalSpendCurrency":"usd","paymentMethodBrand":"visa","paymentMethodLast4":"4242","paymentMethodExpMonth":12,"paymentMethodExpYear":2030,"countryCode":"FR"}"#;

const PRODUCT_BODY: &str = r#"{"product":{"active":true,"defaultPriceId":"price_1","description":null,"environment":"test","metadata":{"tier":"pro"},"name":"Pro","stripeProductId":"prod_1","syncedAt":"2026-11-25T10:00:00.000Z"}}"#;
const PRODUCTS_BODY: &str = r#"{"products":[{"active":true,"defaultPriceId":"price_1","description":null,"environment":"test","metadata":{"tier":"pro"},"name":"Pro","stripeProductId":"prod_1","syncedAt":"2026-11-25T10:00:00.000Z"}]}"#;
const PRICE_BODY: &str = r#"{"price":{"active":true,"billingScheme":"tiered","currency":"usd","environment":"test","lookupKey":null,"metadata":{},"recurringInterval":"month","recurringIntervalCount":1,"stripePriceId":"price_1","stripeProductId":"prod_1","syncedAt":"2026-11-25T10:00:00.000Z","taxBehavior":"exclusive","type":"recurring","unitAmount":null,"unitAmountDecimal":null}}"#;
const PRICES_BODY: &str = r#"{"prices":[{"active":true,"billingScheme":"tiered","currency":"usd","environment":"test","lookupKey":null,"metadata":{},"recurringInterval":"month","recurringIntervalCount":1,"stripePriceId":"price_1","stripeProductId":"prod_1","syncedAt":"2026-11-25T10:00:00.000Z","taxBehavior":"exclusive","type":"recurring","unitAmount":null,"unitAmountDecimal":null}]}"#;
const REFUND_BODY: &str = r#"{"refund":{"amount":500,"createdAt":"2026-11-25T10:00:00.000Z","currency":"usd","environment":"live","reason":"requested_by_customer","status":"succeeded","stripeChargeId":null,"stripePaymentIntentId":"pi_1","stripeRefundId":"re_1"}}"#;
const CHECKOUT_SESSION_BODY: &str = r#"{"checkoutSession":{"createdAt":"2026-11-25T10:00:00.000Z","customerEmail":null,"environment":"test","id":"5f0c","lastError":null,"mode":"subscription","paymentStatus":"unpaid","status":"open","stripeCheckoutSessionId":"cs_1","stripeCustomerId":"cus_1","stripePaymentIntentId":null,"stripeSubscriptionId":null,"subjectId":"acme","subjectType":"team","updatedAt":"2026-11-25T10:00:01.000Z","url":"https://checkout.stripe.com/c/pay/cs_1"}}"#;
const PORTAL_SESSION_BODY: &str = r#"{"customerPortalSession":{"configuration":null,"createdAt":"2026-11-25T10:00:00.000Z","environment":"live","id":"7a1d","lastError":null,"returnUrl":"https://app.example/billing","status":"created","stripeCustomerId":"cus_1","subjectId":"acme","subjectType":"team","updatedAt":"2026-11-25T10:00:01.000Z","url":"https://billing.stripe.com/p/session/1"}}"#;
const HISTORY_SUMMARY_BODY: &str = r#"{"summary":{"days":[{"date":"2026-11-25","payments":2,"refunds":1}],"rows":3,"statuses":[{"rows":2,"status":"succeeded"},{"rows":1,"status":"refunded"}],"truncated":false}}"#;
const STATUS_SUMMARY_BODY: &str = r#"{"summary":[{"rows":3,"status":"active"}]}"#;
const OVERVIEW_BODY: &str = r#"{"overview":{"computedAt":"2026-11-25T10:00:00.000Z","days":[{"date":"2026-11-25","failed":1,"succeeded":4}],"eventsFailed":0,"eventsPending":5,"failed7d":1,"mrr":[{"amount":1000,"currency":"usd"}],"mrrUncountedItems":1,"payments30d":4,"refunds7d":2,"subscriptions":[{"rows":3,"status":"active"}],"volume30d":[{"amount":250,"currency":"eur"}]}}"#;
const SUBSCRIPTIONS_UNPAGED: &str = r#"{"subscriptions":[{"cancelAt":null,"cancelAtPeriodEnd":false,"canceledAt":null,"createdAt":"2026-11-25T10:00:00.000Z","currentPeriodEnd":null,"currentPeriodStart":null,"environment":"test","items":[],"latestInvoiceId":null,"metadata":{},"status":"past_due","stripeCustomerId":"cus_1","stripeSubscriptionId":"sub_1","subjectId":"acme","subjectType":"team","syncedAt":"2026-11-25T10:00:00.000Z","trialEnd":null,"trialStart":null,"updatedAt":"2026-11-25T10:00:00.000Z"}]}"#;
const SUBSCRIPTIONS_LAST: &str = r#"{"nextCursor":null,"subscriptions":[{"cancelAt":null,"cancelAtPeriodEnd":false,"canceledAt":null,"createdAt":"2026-11-25T10:00:00.000Z","currentPeriodEnd":null,"currentPeriodStart":null,"environment":"test","items":[],"latestInvoiceId":null,"metadata":{},"status":"past_due","stripeCustomerId":"cus_1","stripeSubscriptionId":"sub_1","subjectId":"acme","subjectType":"team","syncedAt":"2026-11-25T10:00:00.000Z","trialEnd":null,"trialStart":null,"updatedAt":"2026-11-25T10:00:00.000Z"}]}"#;
const SUBSCRIPTIONS_NEXT: &str = r#"{"nextCursor":"c_2","subscriptions":[{"cancelAt":null,"cancelAtPeriodEnd":false,"canceledAt":null,"createdAt":"2026-11-25T10:00:00.000Z","currentPeriodEnd":null,"currentPeriodStart":null,"environment":"test","items":[],"latestInvoiceId":null,"metadata":{},"status":"past_due","stripeCustomerId":"cus_1","stripeSubscriptionId":"sub_1","subjectId":"acme","subjectType":"team","syncedAt":"2026-11-25T10:00:00.000Z","trialEnd":null,"trialStart":null,"updatedAt":"2026-11-25T10:00:00.000Z"}]}"#;
const CUSTOMERS_NEXT: &str = r#"{"customers":[{"countryCode":"FR","deleted":false,"email":"a@example.com","environment":"test","lastPaymentAt":null,"metadata":{},"name":null,"paymentMethodBrand":"visa","paymentMethodExpMonth":12,"paymentMethodExpYear":2030,"paymentMethodLast4":"4242","paymentsCount":2,"phone":null,"stripeCreatedAt":null,"stripeCustomerId":"cus_1","syncedAt":"2026-11-25T10:00:00.000Z","totalSpend":1500,"totalSpendCurrency":"usd"}],"nextCursor":"c_2"}"#;
const HISTORY_UNPAGED: &str = r#"{"paymentHistory":[{"amount":500,"amountRefunded":null,"createdAt":"2026-11-25T10:00:00.000Z","currency":"usd","customerEmailSnapshot":null,"description":null,"environment":"test","failedAt":null,"paidAt":null,"refundedAt":"2026-11-25T10:00:00.000Z","status":"succeeded","stripeChargeId":null,"stripeCheckoutSessionId":null,"stripeCreatedAt":null,"stripeCustomerId":"cus_1","stripeInvoiceId":null,"stripePaymentIntentId":"pi_1","stripePriceId":null,"stripeProductId":null,"stripeRefundId":"re_1","stripeSubscriptionId":null,"subjectId":null,"subjectType":null,"type":"refund","updatedAt":"2026-11-25T10:00:00.000Z"}]}"#;
const EVENTS_LAST: &str = r#"{"nextCursor":null,"webhookEvents":[{"attemptCount":1,"createdAt":"2026-11-25T10:00:00.000Z","environment":"test","eventType":"invoice.paid","ignoredReason":"nothing_to_change","lastError":null,"livemode":false,"objectId":"in_1","objectType":"invoice","processedAt":"2026-11-25T10:00:01.000Z","processingStatus":"ignored","receivedAt":"2026-11-25T10:00:00.000Z","stripeAccountId":null,"stripeEventId":"evt_1","updatedAt":"2026-11-25T10:00:01.000Z"}]}"#;

/// The error envelope keeps the field order the engine's own struct serialised (error, message,
/// statusCode, nextActions), and `nextActions` only when given.
#[test]
fn error_bodies_are_unchanged() {
    let advice = "Please check the API documentation for available endpoints";
    for (body, expected) in [
        (
            ErrorBody {
                error: ErrorCode::InvalidInput,
                message: "limit: Expected integer".to_owned(),
                status_code: 400,
                next_actions: None,
            },
            r#"{"error":"INVALID_INPUT","message":"limit: Expected integer","statusCode":400}"#.to_owned(),
        ),
        (
            ErrorBody {
                error: ErrorCode::NotFound,
                message: "Endpoint /x not found".to_owned(),
                status_code: 404,
                next_actions: Some(advice.to_owned()),
            },
            format!(
                r#"{{"error":"NOT_FOUND","message":"Endpoint /x not found","statusCode":404,"nextActions":"{advice}"}}"#
            ),
        ),
    ] {
        // As axum's `Json` writes it: straight from the struct, in field order.
        assert_eq!(serde_json::to_string(&body).unwrap(), expected);
        assert_eq!(row::<ErrorBody>(&expected), body);
    }
}
