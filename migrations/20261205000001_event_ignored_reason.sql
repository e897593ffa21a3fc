-- Why an `ignored` webhook event changed nothing (issue #15, defect 7): e.g. a PaymentIntent
-- handled through its invoice or checkout session. NULL for every other status, and for events
-- recorded before this column existed.
ALTER TABLE payments_webhook_events ADD COLUMN ignored_reason TEXT;
