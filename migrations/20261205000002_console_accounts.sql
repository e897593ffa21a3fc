-- When each user last signed in, for the Users page (issue #14). Portable SQL.
ALTER TABLE console_users ADD COLUMN last_sign_in_at BIGINT;
-- Set for a password someone else chose (the generated first-admin password, a one-time
-- password from the Users page): nothing but changing it works until it is changed.
ALTER TABLE console_users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
