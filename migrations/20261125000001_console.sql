-- Console users, sessions, sign-in throttling, API keys and the audit log.
-- Portable SQL: the same file runs on SQLite and PostgreSQL. Times are Unix seconds (BIGINT),
-- identifiers are prefixed random strings (TEXT).

CREATE TABLE console_users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'support')),
    created_at    BIGINT NOT NULL
);

-- Only a digest of the session token is stored: a copy of the database is not a set of sessions.
CREATE TABLE console_sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

-- Failed sign-ins, kept only as long as the throttling window needs them.
CREATE TABLE login_failures (
    email     TEXT NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, failed_at);

-- Keys for the InsForge-compatible API (`ik_...`); stored as a SHA-256 digest.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    key_prefix   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

-- Every admin write: who, what, when, and the Stripe request it caused.
CREATE TABLE audit_log (
    id                TEXT PRIMARY KEY,
    at                BIGINT NOT NULL,
    actor             TEXT NOT NULL,
    action            TEXT NOT NULL,
    environment       TEXT,
    target            TEXT,
    detail            TEXT,
    stripe_request_id TEXT,
    idempotency_key   TEXT
);
CREATE INDEX audit_log_at ON audit_log (at, id);
