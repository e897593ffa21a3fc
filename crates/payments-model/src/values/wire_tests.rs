//! The contract structs serialise exactly as they did when these values were `String`s: the
//! official InsForge CLI and SDK read this JSON, so a typed field must not change a byte of it.
//! The expected strings were produced by the string-typed structs before the change.

use crate::*;

/// Parses `json` as `T` and serialises it back, which must give `json` unchanged.
fn same_json<T: serde::Serialize + serde::de::DeserializeOwned>(json: &str) -> T {
    let value: T = serde_json::from_str(json).unwrap();
    assert_eq!(serde_json::to_string(&value).unwrap(), json);
    value
}

#[test]
fn connection_json_is_unchanged() {
    let c: StripeConnection = same_json(CONNECTION);
    assert_eq!((c.status, c.last_sync_status), (ConnectionStatus::Error, Some(LastSyncStatus::Failed)));
}

#[test]
fn price_json_is_unchanged() {
    let p: Price = same_json(PRICE);
    assert_eq!(p.price_type, PriceType::Recurring);
    assert_eq!(p.billing_scheme, Some(BillingScheme::Tiered));
    assert_eq!(p.recurring_interval, Some(RecurringInterval::Month));
    assert_eq!((p.tax_behavior.as_ref(), p.tax()), (Some(&TaxBehavior::Exclusive), &TaxBehavior::Exclusive));
    // A price without a tax behaviour keeps `null`, and counts as `unspecified`.
    let untaxed: Price = same_json(&PRICE.replace(r#""taxBehavior":"exclusive""#, r#""taxBehavior":null"#));
    assert_eq!((untaxed.tax_behavior.as_ref(), untaxed.tax()), (None, &TaxBehavior::Unspecified));
    // A one-time price has neither interval nor (sometimes) scheme: `null` stays `null`.
    let one_time = PRICE
        .replace(r#""type":"recurring""#, r#""type":"one_time""#)
        .replace(r#""billingScheme":"tiered""#, r#""billingScheme":null"#);
    let one_time = one_time.replace(r#""recurringInterval":"month""#, r#""recurringInterval":null"#);
    let p: Price = same_json(&one_time);
    assert_eq!((p.price_type, p.billing_scheme, p.recurring_interval), (PriceType::OneTime, None, None));
}

#[test]
fn event_json_is_unchanged() {
    let e: WebhookEvent = same_json(EVENT);
    assert_eq!(e.processing_status, ProcessingStatus::Ignored);
}

#[test]
fn subscription_json_is_unchanged() {
    let s: Subscription = same_json(SUBSCRIPTION);
    assert_eq!(s.status, SubscriptionStatus::PastDue);
}

#[test]
fn history_json_is_unchanged() {
    let h: PaymentHistory = same_json(HISTORY);
    assert_eq!((h.kind, h.status), (PaymentKind::Refund, PaymentStatus::Succeeded));
}

#[test]
fn refund_json_is_unchanged() {
    let r: Refund = same_json(REFUND);
    assert_eq!((r.status, r.reason), (RefundStatus::Succeeded, Some(RefundReason::RequestedByCustomer)));
    let none = REFUND.replace(r#""reason":"requested_by_customer""#, r#""reason":null"#);
    assert_eq!(same_json::<Refund>(&none).reason, None);
    let asked: CreateRefund =
        same_json(r#"{"paymentIntentId":"pi_1","amount":1250,"reason":"duplicate","idempotencyKey":"k1"}"#);
    assert_eq!(asked.reason, Some(RefundReason::Duplicate));
}

#[test]
fn session_json_is_unchanged() {
    let session = same_json::<CheckoutSession>(CHECKOUT_SESSION);
    assert_eq!((session.status, session.mode), (CheckoutSessionStatus::Open, CheckoutMode::Subscription));
    assert_eq!(session.payment_status, Some(CheckoutPaymentStatus::Unpaid));
    let free = CHECKOUT_SESSION.replace(r#""paymentStatus":"unpaid""#, r#""paymentStatus":"no_payment_required""#);
    assert_eq!(same_json::<CheckoutSession>(&free).payment_status, Some(CheckoutPaymentStatus::NoPaymentRequired));
    let unset = CHECKOUT_SESSION.replace(r#""paymentStatus":"unpaid""#, r#""paymentStatus":null"#);
    assert_eq!(same_json::<CheckoutSession>(&unset).payment_status, None);
    assert_eq!(same_json::<CustomerPortalSession>(PORTAL_SESSION).status, PortalSessionStatus::Created);
}

/// Summaries order equal counts by the status's spelling, as they did when statuses were strings,
/// not by the enums' order.
#[test]
fn status_counts_tie_by_spelling() {
    let counts = [(PaymentStatus::Succeeded, 1), (PaymentStatus::Refunded, 1), (PaymentStatus::Failed, 2)];
    let summary = HistorySummary::from_counts(vec![], counts.into_iter().collect(), false);
    let order: Vec<&str> = summary.statuses.iter().map(|c| c.status.as_str()).collect();
    assert_eq!((order, summary.rows), (vec!["failed", "refunded", "succeeded"], 4));
    let mut mix: Vec<StatusCount<SubscriptionStatus>> = ["trialing", "canceled", "active"]
        .into_iter()
        .map(|status| StatusCount { status: status.into(), rows: 1 })
        .collect();
    StatusCount::sort(&mut mix);
    let order: Vec<&str> = mix.iter().map(|c| c.status.as_str()).collect();
    assert_eq!(order, ["active", "canceled", "trialing"]);
}

#[test]
fn unknown_values_pass_through_unchanged() {
    let newer = SUBSCRIPTION.replace(r#""status":"past_due""#, r#""status":"frozen""#);
    let s: Subscription = same_json(&newer);
    assert_eq!(s.status, SubscriptionStatus::Unknown("frozen".into()));
    let newer = HISTORY.replace(r#""type":"refund","status":"succeeded""#, r#""type":"payout","status":"disputed""#);
    let h: PaymentHistory = same_json(&newer);
    assert_eq!((h.kind.as_str(), h.status.as_str()), ("payout", "disputed"));
    let newer = EVENT.replace(r#""processingStatus":"ignored""#, r#""processingStatus":"quarantined""#);
    assert!(same_json::<WebhookEvent>(&newer).processing_status.is_unknown());
    let newer = CONNECTION.replace(r#""status":"error""#, r#""status":"suspended""#);
    assert!(same_json::<StripeConnection>(&newer).status.is_unknown());
    let newer = REFUND.replace(r#""status":"succeeded""#, r#""status":"reversed""#);
    let newer = newer.replace(r#""reason":"requested_by_customer""#, r#""reason":"expired_uncaptured_charge""#);
    let r: Refund = same_json(&newer);
    assert_eq!(
        (r.status.as_str(), r.reason.as_ref().map(RefundReason::as_str)),
        ("reversed", Some("expired_uncaptured_charge"))
    );
    let newer = PRICE.replace(r#""billingScheme":"tiered""#, r#""billingScheme":"volume""#);
    assert!(same_json::<Price>(&newer).billing_scheme.is_some_and(|b| b.is_unknown()));
    let newer = CHECKOUT_SESSION.replace(r#""status":"open""#, r#""status":"abandoned""#);
    assert_eq!(same_json::<CheckoutSession>(&newer).status.as_str(), "abandoned");
    let newer = PORTAL_SESSION.replace(r#""status":"created""#, r#""status":"revoked""#);
    assert_eq!(same_json::<CustomerPortalSession>(&newer).status.as_str(), "revoked");
    let newer = PRICE.replace(r#""taxBehavior":"exclusive""#, r#""taxBehavior":"automatic""#);
    assert_eq!(same_json::<Price>(&newer).tax().as_str(), "automatic");
}

pub(crate) const CONNECTION: &str = r#"{"environment":"live","status":"error","stripeAccountId":"acct_1","stripeAccountEmail":null,"accountLivemode":true,"webhookEndpointId":null,"webhookEndpointUrl":null,"webhookConfiguredAt":null,"maskedKey":"sk_live_****abcd","lastSyncedAt":null,"lastSyncStatus":"failed","lastSyncError":"Invalid API key","lastSyncCounts":{}}"#;
pub(crate) const PRICE: &str = r#"{"environment":"test","stripePriceId":"price_1","stripeProductId":"prod_1","active":true,"currency":"usd","unitAmount":null,"unitAmountDecimal":null,"type":"recurring","lookupKey":null,"billingScheme":"tiered","taxBehavior":"exclusive","recurringInterval":"month","recurringIntervalCount":1,"metadata":{},"syncedAt":"2026-11-25T10:00:00.000Z"}"#;
pub(crate) const EVENT: &str = r#"{"environment":"test","stripeEventId":"evt_1","eventType":"invoice.paid","livemode":false,"stripeAccountId":null,"objectType":"invoice","objectId":"in_1","processingStatus":"ignored","attemptCount":1,"lastError":null,"receivedAt":"2026-11-25T10:00:00.000Z","processedAt":"2026-11-25T10:00:01.000Z","createdAt":"2026-11-25T10:00:00.000Z","updatedAt":"2026-11-25T10:00:01.000Z","ignoredReason":"nothing_to_change"}"#;
pub(crate) const SUBSCRIPTION: &str = r#"{"environment":"test","stripeSubscriptionId":"sub_1","stripeCustomerId":"cus_1","subjectType":"team","subjectId":"acme","status":"past_due","currentPeriodStart":null,"currentPeriodEnd":null,"cancelAtPeriodEnd":false,"cancelAt":null,"canceledAt":null,"trialStart":null,"trialEnd":null,"latestInvoiceId":null,"metadata":{},"syncedAt":"2026-11-25T10:00:00.000Z","createdAt":"2026-11-25T10:00:00.000Z","updatedAt":"2026-11-25T10:00:00.000Z","items":[]}"#;
pub(crate) const HISTORY: &str = r#"{"environment":"test","type":"refund","status":"succeeded","subjectType":null,"subjectId":null,"stripeCustomerId":"cus_1","customerEmailSnapshot":null,"stripeCheckoutSessionId":null,"stripePaymentIntentId":"pi_1","stripeInvoiceId":null,"stripeChargeId":null,"stripeRefundId":"re_1","stripeSubscriptionId":null,"stripeProductId":null,"stripePriceId":null,"amount":500,"amountRefunded":null,"currency":"usd","description":null,"paidAt":null,"failedAt":null,"refundedAt":"2026-11-25T10:00:00.000Z","stripeCreatedAt":null,"createdAt":"2026-11-25T10:00:00.000Z","updatedAt":"2026-11-25T10:00:00.000Z"}"#;
pub(crate) const REFUND: &str = r#"{"environment":"live","stripeRefundId":"re_1","stripePaymentIntentId":"pi_1","stripeChargeId":null,"amount":500,"currency":"usd","status":"succeeded","reason":"requested_by_customer","createdAt":"2026-11-25T10:00:00.000Z"}"#;
pub(crate) const CHECKOUT_SESSION: &str = r#"{"id":"5f0c","environment":"test","mode":"subscription","status":"open","paymentStatus":"unpaid","subjectType":"team","subjectId":"acme","customerEmail":null,"stripeCheckoutSessionId":"cs_1","stripeCustomerId":"cus_1","stripePaymentIntentId":null,"stripeSubscriptionId":null,"url":"https://checkout.stripe.com/c/pay/cs_1","lastError":null,"createdAt":"2026-11-25T10:00:00.000Z","updatedAt":"2026-11-25T10:00:01.000Z"}"#;
pub(crate) const PORTAL_SESSION: &str = r#"{"id":"7a1d","environment":"live","status":"created","subjectType":"team","subjectId":"acme","stripeCustomerId":"cus_1","returnUrl":"https://app.example/billing","configuration":null,"url":"https://billing.stripe.com/p/session/1","lastError":null,"createdAt":"2026-11-25T10:00:00.000Z","updatedAt":"2026-11-25T10:00:01.000Z"}"#;
