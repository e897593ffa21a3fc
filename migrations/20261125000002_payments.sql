-- The embedded payments engine: a mirror of the Stripe objects of each environment plus the
-- engine's own records (checkout/portal sessions, payment history, webhook events) and its
-- sealed secrets.
--
-- Portable SQL: the same file runs on SQLite and PostgreSQL. Unlike the console tables, times
-- here are Unix *milliseconds* (BIGINT) so that the API's ISO timestamps keep ms precision.
-- Booleans are BIGINT 0/1, JSON (metadata, raw Stripe objects) is TEXT, ids are TEXT.
-- The UNIQUE constraints are the natural keys used by upserts (ON CONFLICT): they are what
-- keeps several engine processes sharing one PostgreSQL database from writing duplicates.

-- One row per environment ('test', 'live'): the connected Stripe account and sync state.
CREATE TABLE payments_stripe_connections (
    environment           TEXT PRIMARY KEY CHECK (environment IN ('test', 'live')),
    status                TEXT NOT NULL DEFAULT 'unconfigured'
                          CHECK (status IN ('unconfigured', 'connected', 'error')),
    stripe_account_id     TEXT,
    stripe_account_email  TEXT,
    account_livemode      BIGINT CHECK (account_livemode IN (0, 1)),
    webhook_endpoint_id   TEXT,
    webhook_endpoint_url  TEXT,
    webhook_configured_at BIGINT,
    last_synced_at        BIGINT,
    last_sync_status      TEXT CHECK (last_sync_status IN ('succeeded', 'failed')),
    last_sync_error       TEXT,
    last_sync_counts      TEXT NOT NULL DEFAULT '{}',
    raw                   TEXT NOT NULL DEFAULT '{}',
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);

-- Sealed secrets (Stripe secret keys, webhook signing secrets), encrypted by the console's
-- master key before they reach this table: a copy of the database holds no usable key.
-- "Removing" a key deactivates it (is_active = 0); the row keeps its history.
CREATE TABLE payments_secrets (
    name         TEXT PRIMARY KEY,
    environment  TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    value_sealed TEXT NOT NULL,
    is_active    BIGINT NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    rotated_at   BIGINT
);

CREATE TABLE payments_products (
    id                TEXT PRIMARY KEY,
    environment       TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    stripe_product_id TEXT NOT NULL,
    name              TEXT NOT NULL,
    description       TEXT,
    active            BIGINT NOT NULL CHECK (active IN (0, 1)),
    default_price_id  TEXT,
    metadata          TEXT NOT NULL DEFAULT '{}',
    raw               TEXT NOT NULL DEFAULT '{}',
    synced_at         BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (environment, stripe_product_id)
);
CREATE INDEX payments_products_active ON payments_products (environment, active);
CREATE INDEX payments_products_name ON payments_products (environment, name, stripe_product_id);

-- No foreign key to products: Stripe objects arrive in any order (sync pages, webhooks).
CREATE TABLE payments_prices (
    id                       TEXT PRIMARY KEY,
    environment              TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    stripe_price_id          TEXT NOT NULL,
    stripe_product_id        TEXT,
    active                   BIGINT NOT NULL CHECK (active IN (0, 1)),
    currency                 TEXT NOT NULL,
    unit_amount              BIGINT,
    unit_amount_decimal      TEXT,
    type                     TEXT NOT NULL,
    lookup_key               TEXT,
    billing_scheme           TEXT,
    tax_behavior             TEXT,
    recurring_interval       TEXT,
    recurring_interval_count BIGINT,
    metadata                 TEXT NOT NULL DEFAULT '{}',
    raw                      TEXT NOT NULL DEFAULT '{}',
    synced_at                BIGINT NOT NULL,
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL,
    UNIQUE (environment, stripe_price_id)
);
CREATE INDEX payments_prices_product ON payments_prices (environment, stripe_product_id, stripe_price_id);
CREATE INDEX payments_prices_lookup_key ON payments_prices (environment, lookup_key) WHERE lookup_key IS NOT NULL;

CREATE TABLE payments_customers (
    id                 TEXT PRIMARY KEY,
    environment        TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    stripe_customer_id TEXT NOT NULL,
    email              TEXT,
    name               TEXT,
    phone              TEXT,
    deleted            BIGINT NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    metadata           TEXT NOT NULL DEFAULT '{}',
    raw                TEXT NOT NULL DEFAULT '{}',
    stripe_created_at  BIGINT,
    synced_at          BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (environment, stripe_customer_id)
);
CREATE INDEX payments_customers_deleted ON payments_customers (environment, deleted);
CREATE INDEX payments_customers_email ON payments_customers (environment, email) WHERE email IS NOT NULL;
CREATE INDEX payments_customers_created ON payments_customers (environment, stripe_created_at DESC, id);

-- Billing subject <-> Stripe customer, 1:1 per environment (both sides unique).
CREATE TABLE payments_customer_mappings (
    id                 TEXT PRIMARY KEY,
    environment        TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    subject_type       TEXT NOT NULL,
    subject_id         TEXT NOT NULL,
    stripe_customer_id TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (environment, subject_type, subject_id),
    UNIQUE (environment, stripe_customer_id)
);

CREATE TABLE payments_checkout_sessions (
    id                         TEXT PRIMARY KEY,
    environment                TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    mode                       TEXT NOT NULL CHECK (mode IN ('payment', 'subscription')),
    status                     TEXT NOT NULL DEFAULT 'initialized'
                               CHECK (status IN ('initialized', 'open', 'completed', 'expired', 'failed')),
    payment_status             TEXT CHECK (payment_status IN ('paid', 'unpaid', 'no_payment_required')),
    subject_type               TEXT,
    subject_id                 TEXT,
    customer_email             TEXT,
    line_items                 TEXT NOT NULL DEFAULT '[]',
    success_url                TEXT NOT NULL,
    cancel_url                 TEXT NOT NULL,
    idempotency_key            TEXT,
    metadata                   TEXT NOT NULL DEFAULT '{}',
    stripe_checkout_session_id TEXT,
    stripe_customer_id         TEXT,
    stripe_payment_intent_id   TEXT,
    stripe_subscription_id     TEXT,
    url                        TEXT,
    last_error                 TEXT,
    raw                        TEXT NOT NULL DEFAULT '{}',
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL,
    UNIQUE (environment, stripe_checkout_session_id)
);
CREATE UNIQUE INDEX payments_checkout_sessions_idempotency
    ON payments_checkout_sessions (environment, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX payments_checkout_sessions_status ON payments_checkout_sessions (environment, status);
CREATE INDEX payments_checkout_sessions_subject
    ON payments_checkout_sessions (environment, subject_type, subject_id) WHERE subject_type IS NOT NULL;
CREATE INDEX payments_checkout_sessions_customer
    ON payments_checkout_sessions (environment, stripe_customer_id) WHERE stripe_customer_id IS NOT NULL;
CREATE INDEX payments_checkout_sessions_created ON payments_checkout_sessions (environment, created_at DESC, id);

CREATE TABLE payments_customer_portal_sessions (
    id                 TEXT PRIMARY KEY,
    environment        TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    status             TEXT NOT NULL DEFAULT 'initialized' CHECK (status IN ('initialized', 'created', 'failed')),
    subject_type       TEXT NOT NULL,
    subject_id         TEXT NOT NULL,
    stripe_customer_id TEXT,
    return_url         TEXT,
    configuration_id   TEXT,
    url                TEXT,
    last_error         TEXT,
    raw                TEXT NOT NULL DEFAULT '{}',
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX payments_portal_sessions_status ON payments_customer_portal_sessions (environment, status);
CREATE INDEX payments_portal_sessions_subject
    ON payments_customer_portal_sessions (environment, subject_type, subject_id);
CREATE INDEX payments_portal_sessions_customer
    ON payments_customer_portal_sessions (environment, stripe_customer_id) WHERE stripe_customer_id IS NOT NULL;

CREATE TABLE payments_payment_history (
    id                         TEXT PRIMARY KEY,
    environment                TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    type                       TEXT NOT NULL,
    status                     TEXT NOT NULL,
    subject_type               TEXT,
    subject_id                 TEXT,
    stripe_customer_id         TEXT,
    customer_email_snapshot    TEXT,
    stripe_checkout_session_id TEXT,
    stripe_payment_intent_id   TEXT,
    stripe_invoice_id          TEXT,
    stripe_charge_id           TEXT,
    stripe_refund_id           TEXT,
    stripe_subscription_id     TEXT,
    stripe_product_id          TEXT,
    stripe_price_id            TEXT,
    amount                     BIGINT,
    amount_refunded            BIGINT,
    currency                   TEXT,
    description                TEXT,
    paid_at                    BIGINT,
    failed_at                  BIGINT,
    refunded_at                BIGINT,
    stripe_created_at          BIGINT,
    raw                        TEXT NOT NULL DEFAULT '{}',
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);
CREATE INDEX payments_history_subject ON payments_payment_history (environment, subject_type, subject_id);
CREATE INDEX payments_history_customer
    ON payments_payment_history (environment, stripe_customer_id) WHERE stripe_customer_id IS NOT NULL;
CREATE INDEX payments_history_created ON payments_payment_history (environment, stripe_created_at DESC, id);
-- Dedup keys: one non-refund row per PaymentIntent / Checkout Session / Invoice, one row per Refund.
CREATE UNIQUE INDEX payments_history_payment_intent ON payments_payment_history (environment, stripe_payment_intent_id)
    WHERE stripe_payment_intent_id IS NOT NULL AND type <> 'refund';
CREATE UNIQUE INDEX payments_history_checkout_session ON payments_payment_history (environment, stripe_checkout_session_id)
    WHERE stripe_checkout_session_id IS NOT NULL AND type <> 'refund';
CREATE UNIQUE INDEX payments_history_invoice ON payments_payment_history (environment, stripe_invoice_id)
    WHERE stripe_invoice_id IS NOT NULL AND type <> 'refund';
CREATE UNIQUE INDEX payments_history_refund ON payments_payment_history (environment, stripe_refund_id)
    WHERE stripe_refund_id IS NOT NULL;

CREATE TABLE payments_subscriptions (
    id                     TEXT PRIMARY KEY,
    environment            TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    stripe_subscription_id TEXT NOT NULL,
    stripe_customer_id     TEXT NOT NULL,
    subject_type           TEXT,
    subject_id             TEXT,
    status                 TEXT NOT NULL,
    current_period_start   BIGINT,
    current_period_end     BIGINT,
    cancel_at_period_end   BIGINT NOT NULL DEFAULT 0 CHECK (cancel_at_period_end IN (0, 1)),
    cancel_at              BIGINT,
    canceled_at            BIGINT,
    trial_start            BIGINT,
    trial_end              BIGINT,
    latest_invoice_id      TEXT,
    metadata               TEXT NOT NULL DEFAULT '{}',
    raw                    TEXT NOT NULL DEFAULT '{}',
    synced_at              BIGINT NOT NULL,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    UNIQUE (environment, stripe_subscription_id)
);
CREATE INDEX payments_subscriptions_subject ON payments_subscriptions (environment, subject_type, subject_id);
CREATE INDEX payments_subscriptions_customer ON payments_subscriptions (environment, stripe_customer_id);
CREATE INDEX payments_subscriptions_status ON payments_subscriptions (environment, status);
CREATE INDEX payments_subscriptions_updated ON payments_subscriptions (environment, updated_at DESC, id);

CREATE TABLE payments_subscription_items (
    id                          TEXT PRIMARY KEY,
    environment                 TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    stripe_subscription_item_id TEXT NOT NULL,
    stripe_subscription_id      TEXT NOT NULL,
    stripe_product_id           TEXT,
    stripe_price_id             TEXT,
    quantity                    BIGINT,
    metadata                    TEXT NOT NULL DEFAULT '{}',
    raw                         TEXT NOT NULL DEFAULT '{}',
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL,
    UNIQUE (environment, stripe_subscription_item_id)
);
CREATE INDEX payments_subscription_items_subscription
    ON payments_subscription_items (environment, stripe_subscription_id, stripe_subscription_item_id);
CREATE INDEX payments_subscription_items_price
    ON payments_subscription_items (environment, stripe_price_id) WHERE stripe_price_id IS NOT NULL;

CREATE TABLE payments_webhook_events (
    id                TEXT PRIMARY KEY,
    environment       TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    stripe_event_id   TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    livemode          BIGINT NOT NULL CHECK (livemode IN (0, 1)),
    stripe_account_id TEXT,
    object_type       TEXT,
    object_id         TEXT,
    processing_status TEXT NOT NULL DEFAULT 'pending'
                      CHECK (processing_status IN ('pending', 'processed', 'failed', 'ignored')),
    attempt_count     BIGINT NOT NULL DEFAULT 0,
    last_error        TEXT,
    payload           TEXT NOT NULL,
    received_at       BIGINT NOT NULL,
    processed_at      BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (environment, stripe_event_id)
);
CREATE INDEX payments_webhook_events_status ON payments_webhook_events (environment, processing_status);
CREATE INDEX payments_webhook_events_object
    ON payments_webhook_events (environment, object_type, object_id) WHERE object_id IS NOT NULL;
CREATE INDEX payments_webhook_events_received ON payments_webhook_events (environment, received_at DESC, id);
