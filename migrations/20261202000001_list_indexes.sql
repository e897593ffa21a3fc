-- Indexes for the lists (issue #10): every list page walks one index in its ORDER BY order from
-- an equality prefix and stops at its LIMIT, instead of scanning the table and sorting it.
-- `tests/api/plans.rs` explains every list statement on SQLite and PostgreSQL against these.
--
-- Sort expressions are spelled exactly as `crates/payments-engine/src/lists.rs` spells them: both
-- databases match an expression index only when the query repeats its expression. Index columns
-- are ascending; both databases walk an index backwards for a DESC, DESC order. The earlier
-- `(…, updated_at DESC, id)`-style indexes could not serve the lists at all: their tie-breaker
-- was the wrong column or ran the wrong way, so every page sorted.

-- Payment history: `ORDER BY COALESCE(stripe_created_at, created_at) DESC, id DESC`.
DROP INDEX payments_history_created;
DROP INDEX payments_history_subject;
DROP INDEX payments_history_customer;
-- No filter (and `from`/`to`, which are ranges of the sort key).
CREATE INDEX payments_history_list
    ON payments_payment_history (environment, (COALESCE(stripe_created_at, created_at)), id);
-- `status=`.
CREATE INDEX payments_history_list_status
    ON payments_payment_history (environment, status, (COALESCE(stripe_created_at, created_at)), id);
-- `type=`.
CREATE INDEX payments_history_list_type
    ON payments_payment_history (environment, type, (COALESCE(stripe_created_at, created_at)), id);
-- `type=` and `status=` (a rare pair such as failed refunds would walk most of either index alone).
CREATE INDEX payments_history_list_type_status
    ON payments_payment_history (environment, type, status, (COALESCE(stripe_created_at, created_at)), id);
-- `customer=`; also the customers list's spend per customer (replaces payments_history_customer).
CREATE INDEX payments_history_list_customer
    ON payments_payment_history (environment, stripe_customer_id, (COALESCE(stripe_created_at, created_at)), id);
-- A subject (the subject page); replaces payments_history_subject.
CREATE INDEX payments_history_list_subject
    ON payments_payment_history (environment, subject_type, subject_id, (COALESCE(stripe_created_at, created_at)), id);
-- The customers list's spend of payments without a customer, by the email they were made with
-- (`stripe_customer_id IS NULL AND LOWER(customer_email_snapshot) IN (…)`).
CREATE INDEX payments_history_guest_email
    ON payments_payment_history (environment, (LOWER(customer_email_snapshot))) WHERE stripe_customer_id IS NULL;

-- Subscriptions: `ORDER BY updated_at DESC, stripe_subscription_id DESC`.
DROP INDEX payments_subscriptions_updated;
DROP INDEX payments_subscriptions_status;
DROP INDEX payments_subscriptions_customer;
DROP INDEX payments_subscriptions_subject;
-- No filter, `from`/`to`.
CREATE INDEX payments_subscriptions_list
    ON payments_subscriptions (environment, updated_at, stripe_subscription_id);
-- `status=`.
CREATE INDEX payments_subscriptions_list_status
    ON payments_subscriptions (environment, status, updated_at, stripe_subscription_id);
-- `customer=`; replaces payments_subscriptions_customer.
CREATE INDEX payments_subscriptions_list_customer
    ON payments_subscriptions (environment, stripe_customer_id, updated_at, stripe_subscription_id);
-- A subject; replaces payments_subscriptions_subject.
CREATE INDEX payments_subscriptions_list_subject
    ON payments_subscriptions (environment, subject_type, subject_id, updated_at, stripe_subscription_id);
-- (`id=` is the UNIQUE (environment, stripe_subscription_id); a page's items are found through
-- payments_subscription_items_subscription.)

-- Customers: `ORDER BY deleted, COALESCE(email, name, stripe_customer_id), stripe_customer_id`.
DROP INDEX payments_customers_deleted;
-- Only a `from`/`to` filter could seek it, and it made the planner sort the whole range instead
-- of walking the list's order; the range now filters the ordered walk (see lists.rs).
DROP INDEX payments_customers_created;
-- Every customers page (`search` and `from`/`to` filter this walk; see lists.rs).
CREATE INDEX payments_customers_list
    ON payments_customers (environment, deleted, (COALESCE(email, name, stripe_customer_id)), stripe_customer_id);
-- How many customers share each of a page's emails (`LOWER(email) IN (…)`).
CREATE INDEX payments_customers_email_lower ON payments_customers (environment, (LOWER(email)));

-- Webhook events: `ORDER BY received_at DESC, id DESC`.
DROP INDEX payments_webhook_events_received;
DROP INDEX payments_webhook_events_status;
DROP INDEX payments_webhook_events_type;
-- No filter, `from`/`to`.
CREATE INDEX payments_webhook_events_list ON payments_webhook_events (environment, received_at, id);
-- `status=`; its (environment, processing_status) prefix still serves the sweeper's pending scan.
CREATE INDEX payments_webhook_events_list_status
    ON payments_webhook_events (environment, processing_status, received_at, id);
-- `type=`.
CREATE INDEX payments_webhook_events_list_type
    ON payments_webhook_events (environment, event_type, received_at, id);
-- `objectId=` (payments_webhook_events_object starts with object_type, which the list does not filter).
CREATE INDEX payments_webhook_events_list_object
    ON payments_webhook_events (environment, object_id, received_at, id);
