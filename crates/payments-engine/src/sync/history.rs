//! The payment history a sync backfills from Stripe's own objects (issue #11). The import of an
//! account's recent events into the event log is `Engine::import_events`, in `sync.rs`.
//!
//! Every row goes through the webhook projections themselves (`crate::webhook`'s
//! `checkout_history`, `payment_intent_history`, `invoice_history`, `refund_history`), so a
//! backfilled row and the row a webhook writes for the same object are one row under the
//! history's unique keys, resolved by the same rules. Rows carry the sync's version (its start,
//! in seconds), so an event replayed afterwards that is older than the snapshot changes nothing,
//! and a newer one applies as it would have anyway.
//!
//! What is read, in the sync's phases (see `Engine::stream_all`):
//! 1. completed Checkout Sessions (customer and PaymentIntent expanded): the customer ↔ subject
//!    mapping of their metadata ([`MappingTrust::Backfill`]) and, in payment mode, the one-time
//!    payment; PaymentIntents of InsForge payment-mode checkouts, succeeded or failed;
//! 2. invoices (their payments expanded, so a refund finds its original by PaymentIntent),
//!    paid or with a failed attempt, whose subject falls back to the mappings of phase 1;
//! 3. refunds (PaymentIntent expanded: the context a webhook would fetch when the original is
//!    not in the history), once every original above is written.

use payments_model::{CheckoutSessionStatus, PaymentStatus};
use serde_json::Value;
use sqlx::AnyConnection;
use stripe_client::Form;

use super::{PageSink, SinkFuture, Snapshot, SyncList};
use crate::error::EngineResult;
use crate::objects::secs_ms;
use crate::store::history;
use crate::stripe::id_field;
use crate::webhook::{self, MappingTrust};

/// The history lists a sync reads, in the order of its phases: checkout sessions and payment
/// intents, invoices, refunds. `since`: the window's start (Unix seconds), `None` for all.
/// Benchmarks page the same lists as the sync's baseline.
pub fn history_lists(since: Option<i64>) -> [SyncList; 4] {
    let window = |form: Form| form.set_opt("created", since.map(|s| Form::new().set("gte", s)));
    [
        (
            "checkout_sessions",
            "/v1/checkout/sessions",
            window(Form::new().set("status", "complete").set("expand", vec!["data.customer", "data.payment_intent"])),
        ),
        ("payment_intents", "/v1/payment_intents", window(Form::new())),
        ("invoices", "/v1/invoices", window(Form::new().set("expand", vec!["data.payments"]))),
        ("refunds", "/v1/refunds", window(Form::new().set("expand", vec!["data.payment_intent"]))),
    ]
}

/// Replaces an expanded field by its id (as Stripe sends it unexpanded, in webhooks) and
/// returns the expanded object, if it was one.
fn collapse(v: &mut Value, key: &str) -> Option<Value> {
    let field = v.get_mut(key)?;
    if !field.is_object() {
        return None;
    }
    let id = field.get("id").cloned().unwrap_or(Value::Null);
    Some(std::mem::replace(field, id))
}

/// Completed Checkout Sessions: mappings and one-time payments.
pub(super) struct CheckoutSessionSink {
    pub at: Snapshot,
    /// Customer mappings recovered.
    pub mappings: i64,
}

impl PageSink for CheckoutSessionSink {
    type Item = Value;

    fn write_page<'a>(
        &'a mut self,
        conn: &'a mut AnyConnection,
        page: &'a [Value],
    ) -> SinkFuture<'a, EngineResult<u64>> {
        Box::pin(async move {
            let Snapshot { env, version, .. } = self.at;
            let mut written = 0;
            for session in page {
                let mut session = session.clone();
                // Stripe still has the customer unless the expansion came back deleted (or, in
                // the sandbox, as a dangling id).
                let customer_exists = match collapse(&mut session, "customer") {
                    Some(c) => !c.get("deleted").and_then(Value::as_bool).unwrap_or(false),
                    None => false,
                };
                let intent = collapse(&mut session, "payment_intent");
                webhook::update_checkout_row(conn, env, &session, CheckoutSessionStatus::Completed, version).await?;
                let trust = MappingTrust::Backfill { customer_exists };
                if webhook::map_checkout_subject(conn, env, &session, trust).await? {
                    self.mappings += 1;
                }
                // Paid when its PaymentIntent was created (a webhook uses the event's time,
                // which the backfill does not have); the session's own time without one.
                let paid =
                    intent.as_ref().and_then(|pi| secs_ms(pi, "created")).or_else(|| secs_ms(&session, "created"));
                let at = paid.unwrap_or(version * 1000);
                if webhook::checkout_history(conn, env, &session, None, version, at).await? {
                    written += 1;
                }
            }
            Ok(written)
        })
    }
}

/// PaymentIntents of InsForge payment-mode checkouts (`metadata.insforge_checkout_mode`), as
/// `payment_intent.succeeded` / `payment_intent.payment_failed` project them.
pub(super) struct PaymentIntentSink {
    pub at: Snapshot,
}

/// The outcome a webhook would have recorded for a PaymentIntent: `Some(true)` succeeded,
/// `Some(false)` an attempt failed (Stripe returns it to `requires_payment_method`, or it was
/// canceled after one), `None` nothing to record (not InsForge's, or still in progress).
fn intent_outcome(pi: &Value) -> Option<bool> {
    if pi.pointer("/metadata/insforge_checkout_mode").and_then(Value::as_str) != Some("payment") {
        return None;
    }
    let failed_attempt = pi.get("last_payment_error").is_some_and(|e| !e.is_null());
    match pi.get("status").and_then(Value::as_str) {
        Some("succeeded") => Some(true),
        Some("requires_payment_method" | "canceled") if failed_attempt => Some(false),
        _ => None,
    }
}

impl PageSink for PaymentIntentSink {
    type Item = Value;

    fn write_page<'a>(
        &'a mut self,
        conn: &'a mut AnyConnection,
        page: &'a [Value],
    ) -> SinkFuture<'a, EngineResult<u64>> {
        Box::pin(async move {
            let Snapshot { env, version, .. } = self.at;
            let mut written = 0;
            for pi in page {
                let Some(ok) = intent_outcome(pi) else { continue };
                if webhook::payment_intent_history(conn, env, pi, ok, version).await?.is_some() {
                    written += 1;
                }
            }
            Ok(written)
        })
    }
}

/// Invoices, as `invoice.paid` / `invoice.payment_failed` project them.
pub(super) struct InvoiceSink {
    pub at: Snapshot,
}

/// The history status a webhook would have left for an invoice: `succeeded` once paid,
/// `failed` after a failed attempt it never recovered from, `None` before any attempt
/// (drafts, open invoices not yet charged, invoices voided unattempted).
fn invoice_outcome(invoice: &Value) -> Option<PaymentStatus> {
    let attempted = invoice.get("attempted").and_then(Value::as_bool).unwrap_or(false);
    match invoice.get("status").and_then(Value::as_str) {
        Some("paid") => Some(PaymentStatus::Succeeded),
        Some("open" | "uncollectible" | "void") if attempted => Some(PaymentStatus::Failed),
        _ => None,
    }
}

impl PageSink for InvoiceSink {
    type Item = Value;

    fn write_page<'a>(
        &'a mut self,
        conn: &'a mut AnyConnection,
        page: &'a [Value],
    ) -> SinkFuture<'a, EngineResult<u64>> {
        Box::pin(async move {
            let Snapshot { env, version, .. } = self.at;
            let mut written = 0;
            for invoice in page {
                let Some(status) = invoice_outcome(invoice) else { continue };
                webhook::invoice_history(conn, env, invoice, status, version).await?;
                written += 1;
            }
            Ok(written)
        })
    }
}

/// Refunds, as `refund.created` / `refund.updated` / `refund.failed` project them.
pub(super) struct RefundSink {
    pub at: Snapshot,
}

impl PageSink for RefundSink {
    type Item = Value;

    fn write_page<'a>(
        &'a mut self,
        conn: &'a mut AnyConnection,
        page: &'a [Value],
    ) -> SinkFuture<'a, EngineResult<u64>> {
        Box::pin(async move {
            let Snapshot { env, version, .. } = self.at;
            for refund in page {
                let mut refund = refund.clone();
                let intent = collapse(&mut refund, "payment_intent");
                // A webhook fetches the PaymentIntent only when the original payment is not in
                // the history; the expansion is that same context, without the extra request.
                let pi = id_field(&refund, "payment_intent");
                let charge = id_field(&refund, "charge");
                let original = history::find_original(conn, env, pi.as_deref(), charge.as_deref()).await?;
                let context = if original.is_none() { intent } else { None };
                webhook::refund_history(conn, env, &refund, context.as_ref(), version).await?;
            }
            Ok(page.len() as u64)
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn collapse_keeps_ids_and_returns_expansions() {
        let mut v = json!({"customer": {"id": "cus_1", "deleted": true}, "payment_intent": "pi_1"});
        assert_eq!(collapse(&mut v, "customer"), Some(json!({"id": "cus_1", "deleted": true})));
        assert_eq!(v["customer"], "cus_1");
        assert_eq!(collapse(&mut v, "payment_intent"), None);
        assert_eq!(v["payment_intent"], "pi_1");
        assert_eq!(collapse(&mut v, "missing"), None);
    }

    #[test]
    fn invoices_record_what_their_webhooks_would() {
        assert_eq!(invoice_outcome(&json!({"status": "paid", "attempted": true})), Some(PaymentStatus::Succeeded));
        assert_eq!(invoice_outcome(&json!({"status": "open", "attempted": true})), Some(PaymentStatus::Failed));
        assert_eq!(
            invoice_outcome(&json!({"status": "uncollectible", "attempted": true})),
            Some(PaymentStatus::Failed)
        );
        assert_eq!(invoice_outcome(&json!({"status": "open", "attempted": false})), None);
        assert_eq!(invoice_outcome(&json!({"status": "draft"})), None);
        assert_eq!(invoice_outcome(&json!({"status": "void", "attempted": false})), None);
    }

    #[test]
    fn only_insforge_payment_intents_with_an_outcome_count() {
        let mode = json!({"insforge_checkout_mode": "payment"});
        assert_eq!(intent_outcome(&json!({"status": "succeeded", "metadata": mode})), Some(true));
        assert_eq!(
            intent_outcome(
                &json!({"status": "requires_payment_method", "metadata": mode, "last_payment_error": {"code": "card_declined"}})
            ),
            Some(false)
        );
        assert_eq!(
            intent_outcome(&json!({"status": "requires_payment_method", "metadata": mode, "last_payment_error": null})),
            None
        );
        assert_eq!(intent_outcome(&json!({"status": "processing", "metadata": mode})), None);
        assert_eq!(intent_outcome(&json!({"status": "succeeded", "metadata": {}})), None);
    }
}
