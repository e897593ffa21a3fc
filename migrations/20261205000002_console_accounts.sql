-- When each user last signed in, for the Users page (issue #14). Portable SQL.
ALTER TABLE console_users ADD COLUMN last_sign_in_at BIGINT;
