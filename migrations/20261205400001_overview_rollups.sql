-- The overview's figures, kept up to date as the mirror is written (issue #14). Counting them
-- from the mirror on every request read every subscription with its items and prices and a
-- month of history: 0.5 s at 100k subscriptions and 1M history rows.
--
-- Each write to the mirror appends what it changed as rows of these tables (a "delta": +1 in
-- one group, -1 in another). Appending never waits: with one counter row per group, every
-- concurrent PostgreSQL transaction touching that group would queue behind the previous one's
-- commit. A background task folds each environment's deltas into one row per group
-- (`folded = 1`) every few seconds, so that a read sums a handful of rows. A figure is the sum
-- of its group's rows, folded or not. See `crates/payments-engine/src/store/rollups.rs`.
-- Portable SQL.

-- Subscriptions by status.
CREATE TABLE payments_rollup_statuses (
    environment   TEXT NOT NULL,
    status        TEXT NOT NULL,
    subscriptions BIGINT NOT NULL,
    folded        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX payments_rollup_statuses_folded ON payments_rollup_statuses (environment, folded);

-- The items of billed (active, past-due) subscriptions by their price's currency and interval.
-- A NULL currency: the mirror does not have the price. `uncounted`: items without a unit
-- amount or an interval (tiered, metered, one-time, unknown prices), which MRR leaves out.
CREATE TABLE payments_rollup_mrr (
    environment        TEXT NOT NULL,
    currency           TEXT,
    recurring_interval TEXT,
    interval_count     BIGINT,
    items              BIGINT NOT NULL,
    priced             BIGINT NOT NULL,
    amount             BIGINT NOT NULL,
    uncounted          BIGINT NOT NULL,
    folded             BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX payments_rollup_mrr_folded ON payments_rollup_mrr (environment, folded);

-- Payment history by day (of Stripe's creation time, else ours) and the overview's buckets.
CREATE TABLE payments_rollup_days (
    environment TEXT NOT NULL,
    day         BIGINT NOT NULL,
    counted     BIGINT NOT NULL,
    refund      BIGINT NOT NULL,
    failed      BIGINT NOT NULL,
    currency    TEXT,
    payments    BIGINT NOT NULL,
    amount      BIGINT NOT NULL,
    folded      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX payments_rollup_days_day ON payments_rollup_days (environment, day);
CREATE INDEX payments_rollup_days_folded ON payments_rollup_days (environment, folded, day);

-- The recount: the figures of the rows already mirrored. The engine runs the statements below
-- this line again to rebuild the figures from the mirror (`rollups::recount`).
DELETE FROM payments_rollup_statuses;
DELETE FROM payments_rollup_mrr;
DELETE FROM payments_rollup_days;
INSERT INTO payments_rollup_statuses (environment, status, subscriptions, folded)
    SELECT environment, status, COUNT(*), 1 FROM payments_subscriptions GROUP BY environment, status;
INSERT INTO payments_rollup_mrr (environment, currency, recurring_interval, interval_count, items, priced, amount,
        uncounted, folded)
    SELECT s.environment, p.currency, p.recurring_interval, p.recurring_interval_count, COUNT(*),
        SUM(CASE WHEN p.unit_amount IS NULL THEN 0 ELSE 1 END),
        CAST(COALESCE(SUM(p.unit_amount * COALESCE(i.quantity, 1)), 0) AS BIGINT),
        SUM(CASE WHEN p.unit_amount IS NULL OR p.recurring_interval IS NULL THEN 1 ELSE 0 END), 1
    FROM payments_subscriptions s
    JOIN payments_subscription_items i
        ON i.environment = s.environment AND i.stripe_subscription_id = s.stripe_subscription_id
    LEFT JOIN payments_prices p ON p.environment = i.environment AND p.stripe_price_id = i.stripe_price_id
    WHERE s.status IN ('active', 'past_due')
    GROUP BY s.environment, p.currency, p.recurring_interval, p.recurring_interval_count;
INSERT INTO payments_rollup_days (environment, day, counted, refund, failed, currency, payments, amount, folded)
    SELECT environment, COALESCE(stripe_created_at, created_at) / 86400000,
        CASE WHEN type <> 'refund' AND status IN ('succeeded', 'refunded', 'partially_refunded') THEN 1 ELSE 0 END,
        CASE WHEN type = 'refund' THEN 1 ELSE 0 END,
        CASE WHEN status = 'failed' THEN 1 ELSE 0 END,
        currency, COUNT(*), CAST(SUM(COALESCE(amount, 0)) AS BIGINT), 1
    FROM payments_payment_history
    GROUP BY environment, COALESCE(stripe_created_at, created_at) / 86400000,
        CASE WHEN type <> 'refund' AND status IN ('succeeded', 'refunded', 'partially_refunded') THEN 1 ELSE 0 END,
        CASE WHEN type = 'refund' THEN 1 ELSE 0 END,
        CASE WHEN status = 'failed' THEN 1 ELSE 0 END,
        currency;
