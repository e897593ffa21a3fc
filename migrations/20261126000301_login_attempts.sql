-- Sign-in attempts for throttling, per email and per client address. An attempt is written
-- before its password is checked (so parallel guesses count at once) and deleted again when it
-- succeeds or is refused; what remains are failures, kept only as long as the window needs them.
-- Replaces `login_failures`, which is left in place (unused) for instances still running the
-- previous version against a shared database.
-- Portable SQL: the same file runs on SQLite and PostgreSQL.

CREATE TABLE login_attempts (
    id           TEXT PRIMARY KEY,
    -- 'email' or 'address'.
    scope        TEXT NOT NULL,
    -- The normalised email, or the client address (IPv6 by its /64 network).
    subject      TEXT NOT NULL,
    attempted_at BIGINT NOT NULL
);
CREATE INDEX login_attempts_subject ON login_attempts (scope, subject, attempted_at);
CREATE INDEX login_attempts_at ON login_attempts (attempted_at);
