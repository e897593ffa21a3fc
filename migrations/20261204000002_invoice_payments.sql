-- Which PaymentIntent paid an invoice (`invoice_payment.paid`). Since Stripe API version
-- 2025-03-31 an invoice event no longer names it, and the event that does may arrive before or
-- after the invoice's own: it is kept here until the invoice's history row exists, and read
-- when that row is written (crates/payments-engine/src/webhook.rs, `invoice_payment_paid`).
-- The invoice's own event writes the row too (with no PaymentIntent yet), so that the two
-- events, applied at once by two transactions, meet on this row's lock instead of missing
-- each other's uncommitted writes.
CREATE TABLE payments_invoice_payments (
    environment              TEXT NOT NULL,
    stripe_invoice_id        TEXT NOT NULL,
    stripe_payment_intent_id TEXT,
    created_at               BIGINT NOT NULL,
    PRIMARY KEY (environment, stripe_invoice_id)
);
