-- Issue #11: the account whose recent events (the 30 days Stripe keeps) were imported into the
-- event log by a sync. A key for another account imports that account's events once, too.
ALTER TABLE payments_stripe_connections ADD COLUMN events_imported_account TEXT;
