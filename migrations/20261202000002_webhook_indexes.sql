-- The webhook write path's lookups (issue #10): refund bookkeeping finds a payment's original
-- row and its refund rows by PaymentIntent or by charge. Without these, the charge branch and
-- the refund rows' PaymentIntent branch scanned the whole history inside the write transaction.
-- (The list queries' indexes are in 20261202000001_list_indexes.sql.)

-- Non-refund and refund rows by charge (`find_original`, the refunded total, the back-fill).
CREATE INDEX payments_history_charge ON payments_payment_history (environment, stripe_charge_id)
    WHERE stripe_charge_id IS NOT NULL;
-- Refund rows by PaymentIntent (the non-refund rows have their unique index already).
CREATE INDEX payments_history_refund_payment_intent ON payments_payment_history (environment, stripe_payment_intent_id)
    WHERE stripe_payment_intent_id IS NOT NULL AND type = 'refund';
