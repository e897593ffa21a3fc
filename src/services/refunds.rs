//! Refunds from the console: the form an admin fills in, checked and turned into the engine's
//! [`CreateRefund`].

use crate::environment::Environment;
use crate::model::format::parse_amount;
use payments_model::{CreateRefund, PaymentHistory, PaymentKind, PaymentStatus, RefundReason};
use serde::{Deserialize, Serialize};

/// The refund form as submitted (text fields, as a browser sends them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundForm {
    /// `pi_…` of the payment.
    pub payment_intent_id: String,
    /// The payment's currency, for reading `amount`.
    pub currency: String,
    /// In the currency's units (`12.50`); empty refunds what is left.
    #[serde(default)]
    pub amount: String,
    /// Stripe's spelling of a [`RefundReason`].
    pub reason: String,
    /// Made when the form opens in the browser, so a double submit refunds once.
    #[serde(default)]
    pub idempotency_key: String,
    /// `live`, typed, in live mode.
    #[serde(default)]
    pub confirm: String,
}

impl RefundForm {
    /// The refund to ask for, or what is wrong with the form, in words for the form.
    pub fn parse(&self, env: Environment) -> Result<CreateRefund, String> {
        self.parse_at(env, minute())
    }

    /// [`RefundForm::parse`] at a given minute since the epoch (the fallback key's).
    fn parse_at(&self, env: Environment, minute: u64) -> Result<CreateRefund, String> {
        let payment_intent_id = self.payment_intent_id.trim();
        if !payment_intent_id.starts_with("pi_") {
            return Err("Only payments with a PaymentIntent (pi_…) can be refunded here.".into());
        }
        let amount = match self.amount.trim() {
            "" => None,
            typed => match parse_amount(typed, &self.currency)? {
                0 => {
                    return Err(
                        "Enter an amount greater than zero, or leave it empty to refund all that is left.".into()
                    )
                }
                minor => Some(minor),
            },
        };
        let reason = RefundReason::parse(self.reason.trim()).ok_or("Choose a reason.")?;
        if env == Environment::Live && self.confirm.trim() != "live" {
            return Err("This refunds real money: type live to confirm.".into());
        }
        // Without a key from the browser (no JavaScript), one per payment, amount and minute:
        // a resubmitted form within the minute still refunds once.
        let idempotency_key = match self.idempotency_key.trim() {
            "" => format!("console:{payment_intent_id}:{}:{minute}", amount.map_or("rest".into(), |a| a.to_string())),
            key => key.chars().take(200).collect(),
        };
        Ok(CreateRefund {
            payment_intent_id: payment_intent_id.to_owned(),
            amount,
            reason: Some(reason),
            idempotency_key: Some(idempotency_key),
        })
    }
}

/// The current minute since the epoch (server only; the browser always sends a key).
#[cfg(feature = "ssr")]
fn minute() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() / 60)
}

#[cfg(not(feature = "ssr"))]
fn minute() -> u64 {
    0
}

/// What is left to refund of a history row, when an admin may refund it here: a payment (not a
/// refund) that succeeded, with a PaymentIntent and an amount not yet refunded in full.
pub fn refundable(row: &PaymentHistory) -> Option<i64> {
    let paid = matches!(row.status, PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded);
    let left = row.amount? - row.amount_refunded.unwrap_or(0);
    (row.kind != PaymentKind::Refund && paid && row.stripe_payment_intent_id.is_some() && left > 0).then_some(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(amount: &str, reason: &str) -> RefundForm {
        RefundForm {
            payment_intent_id: "pi_1".into(),
            currency: "usd".into(),
            amount: amount.into(),
            reason: reason.into(),
            idempotency_key: "k1".into(),
            confirm: String::new(),
        }
    }

    #[test]
    fn a_form_becomes_a_refund_in_minor_units() {
        let r = form("12.50", "duplicate").parse(Environment::Test).unwrap();
        assert_eq!(
            (r.amount, r.reason, r.idempotency_key.as_deref()),
            (Some(1250), Some(RefundReason::Duplicate), Some("k1"))
        );
        assert_eq!(form("", "requested_by_customer").parse(Environment::Test).unwrap().amount, None);
        let jpy = RefundForm { currency: "jpy".into(), ..form("1200", "fraudulent") };
        assert_eq!(jpy.parse(Environment::Test).unwrap().amount, Some(1200));
    }

    #[test]
    fn bad_forms_say_why() {
        assert!(form("0", "duplicate").parse(Environment::Test).unwrap_err().contains("greater than zero"));
        assert!(form("-3", "duplicate").parse(Environment::Test).is_err());
        assert!(form("1.234", "duplicate").parse(Environment::Test).unwrap_err().contains("decimal"));
        assert_eq!(form("1", "whim").parse(Environment::Test).unwrap_err(), "Choose a reason.");
        let ch = RefundForm { payment_intent_id: "ch_1".into(), ..form("1", "duplicate") };
        assert!(ch.parse(Environment::Test).is_err());
    }

    #[test]
    fn live_refunds_need_the_typed_confirmation() {
        assert!(form("1", "duplicate").parse(Environment::Live).unwrap_err().contains("type live"));
        let typed = RefundForm { confirm: " live ".into(), ..form("1", "duplicate") };
        assert!(typed.parse(Environment::Live).is_ok());
    }

    #[test]
    fn without_a_browser_key_the_key_is_stable_for_the_same_refund() {
        let a = RefundForm { idempotency_key: String::new(), ..form("5", "duplicate") };
        let (x, y) = (a.parse_at(Environment::Test, 7).unwrap(), a.parse_at(Environment::Test, 7).unwrap());
        assert_eq!(x.idempotency_key.as_deref(), Some("console:pi_1:500:7"));
        assert_eq!(x.idempotency_key, y.idempotency_key);
        assert_ne!(a.parse_at(Environment::Test, 8).unwrap().idempotency_key, x.idempotency_key);
    }

    #[test]
    fn only_paid_payments_with_something_left_are_refundable() {
        let row = |kind: &str, status: &str, amount: i64, refunded: i64, pi: bool| -> PaymentHistory {
            serde_json::from_value(serde_json::json!({
                "environment": "test", "type": kind, "status": status, "subjectType": null, "subjectId": null,
                "stripeCustomerId": null, "customerEmailSnapshot": null, "stripeCheckoutSessionId": null,
                "stripePaymentIntentId": if pi { Some("pi_1") } else { None }, "stripeInvoiceId": null,
                "stripeChargeId": null, "stripeRefundId": null, "stripeSubscriptionId": null, "stripeProductId": null,
                "stripePriceId": null, "amount": amount, "amountRefunded": refunded, "currency": "usd",
                "description": null, "paidAt": null, "failedAt": null, "refundedAt": null,
                "stripeCreatedAt": null, "createdAt": "2026-12-01T00:00:00.000Z", "updatedAt": "2026-12-01T00:00:00.000Z"
            }))
            .unwrap()
        };
        assert_eq!(refundable(&row("one_time_payment", "succeeded", 500, 0, true)), Some(500));
        assert_eq!(refundable(&row("subscription_invoice", "partially_refunded", 500, 200, true)), Some(300));
        assert_eq!(refundable(&row("one_time_payment", "refunded", 500, 500, true)), None);
        assert_eq!(refundable(&row("refund", "succeeded", 500, 0, true)), None);
        assert_eq!(refundable(&row("failed_payment", "failed", 500, 0, true)), None);
        assert_eq!(refundable(&row("one_time_payment", "succeeded", 500, 0, false)), None);
    }
}
