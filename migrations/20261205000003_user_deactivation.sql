-- A deactivated user keeps their account (and their name in the audit log) but cannot sign in;
-- their sessions end when it happens (issue #14). Portable SQL.
ALTER TABLE console_users ADD COLUMN deactivated_at BIGINT;
