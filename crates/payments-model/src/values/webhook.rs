//! How far a received webhook event got.

use super::string_enum;

string_enum! {
    /// The processing status of a recorded Stripe event (the contract's
    /// `StripeWebhookEventProcessingStatus`), in the events filter's order.
    pub enum ProcessingStatus {
        /// Received, not processed yet (or being processed).
        Pending = "pending",
        /// Processed; the mirror holds its change.
        Processed = "processed",
        /// Processing failed; it may be retried.
        Failed = "failed",
        /// Processed and changed nothing (see the event's `ignoredReason`).
        Ignored = "ignored",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        crate::values::tests::round_trips(
            ProcessingStatus::ALL,
            ProcessingStatus::NAMES,
            ProcessingStatus::from("quarantined"),
        );
        assert_eq!(ProcessingStatus::ALL.len(), 4);
        assert_eq!(ProcessingStatus::from("ignored"), ProcessingStatus::Ignored);
    }
}
