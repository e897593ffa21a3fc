-- Issue #10: payments_webhook_events_object (environment, object_type, object_id) serves no
-- query: the events list's `objectId` filter seeks payments_webhook_events_list_object, and
-- nothing filters by object type. Every received event paid for its upkeep inside the write
-- transaction.
DROP INDEX payments_webhook_events_object;
