//! The status of the runtime sessions (`contract/BEHAVIOUR.md` §8): Checkout Sessions and Billing
//! Portal Sessions.

use super::string_enum;

string_enum! {
    /// A local Checkout Session's status (the contract's `CheckoutSession.status`, the
    /// `payments_checkout_sessions.status` CHECK), in the order a session goes through them.
    pub enum CheckoutSessionStatus {
        /// Recorded; Stripe has not been asked yet.
        Initialized = "initialized",
        /// Stripe created it; the customer can pay at its `url`.
        Open = "open",
        /// The customer finished checkout (Stripe's `complete`).
        Completed = "completed",
        /// Stripe expired it unpaid.
        Expired = "expired",
        /// Creating it at Stripe failed (`lastError` says why).
        Failed = "failed",
    }
}

string_enum! {
    /// A local Billing Portal Session's status (the contract's `CustomerPortalSession.status`,
    /// the `payments_customer_portal_sessions.status` CHECK).
    pub enum PortalSessionStatus {
        /// Recorded; Stripe has not been asked yet.
        Initialized = "initialized",
        /// Stripe created it; its `url` opens the portal.
        Created = "created",
        /// Creating it at Stripe failed (`lastError` says why).
        Failed = "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_statuses_round_trip() {
        crate::values::tests::round_trips(
            CheckoutSessionStatus::ALL,
            CheckoutSessionStatus::NAMES,
            CheckoutSessionStatus::from("complete"),
        );
        crate::values::tests::round_trips(
            PortalSessionStatus::ALL,
            PortalSessionStatus::NAMES,
            PortalSessionStatus::from("expired"),
        );
        assert_eq!(CheckoutSessionStatus::from("completed"), CheckoutSessionStatus::Completed);
        assert_eq!(PortalSessionStatus::from("created"), PortalSessionStatus::Created);
    }
}
