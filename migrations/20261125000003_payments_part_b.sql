-- Payments engine, part B: ordering guard for webhook projections.
--
-- `source_version` is the Unix time (seconds) of the Stripe state a row reflects: the `created`
-- time of the event that last wrote it, or the start of the sync that last wrote it. A write
-- carrying an older version is skipped, so an event delivered late (Stripe does not guarantee
-- ordering) never overwrites newer state, and a sync never overwrites what a newer event wrote
-- while the sync was fetching.
ALTER TABLE payments_subscriptions ADD COLUMN source_version BIGINT;
ALTER TABLE payments_customers ADD COLUMN source_version BIGINT;
ALTER TABLE payments_payment_history ADD COLUMN source_version BIGINT;
ALTER TABLE payments_checkout_sessions ADD COLUMN source_version BIGINT;

-- Keyset pagination of the webhook-events list and filters on it.
CREATE INDEX payments_webhook_events_type ON payments_webhook_events (environment, event_type, received_at DESC, id);
