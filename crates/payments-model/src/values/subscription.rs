//! A subscription's status.

use super::string_enum;

string_enum! {
    /// Stripe's subscription status (the contract's `StripeSubscriptionStatus`), in the
    /// subscriptions filter's order.
    pub enum SubscriptionStatus {
        /// In good standing.
        Active = "active",
        /// In its trial period.
        Trialing = "trialing",
        /// The latest invoice failed; Stripe is retrying.
        PastDue = "past_due",
        /// Retries are exhausted and the invoices stay open.
        Unpaid = "unpaid",
        /// Ended.
        Canceled = "canceled",
        /// The first payment has not succeeded yet.
        Incomplete = "incomplete",
        /// The first payment never succeeded; Stripe gave up.
        IncompleteExpired = "incomplete_expired",
        /// A trial ended without a payment method; billing is paused.
        Paused = "paused",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        crate::values::tests::round_trips(
            SubscriptionStatus::ALL,
            SubscriptionStatus::NAMES,
            SubscriptionStatus::from("frozen"),
        );
        assert_eq!(SubscriptionStatus::ALL.len(), 8);
        assert_eq!(SubscriptionStatus::from("incomplete_expired"), SubscriptionStatus::IncompleteExpired);
    }
}
