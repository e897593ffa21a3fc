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
    /// What a Checkout Session sells (the contract's `CheckoutSession.mode`, the
    /// `payments_checkout_sessions.mode` CHECK; Stripe's `setup` mode is not offered).
    pub enum CheckoutMode {
        /// One-time prices, paid once.
        Payment = "payment",
        /// Recurring prices: the session starts a subscription for a billing subject.
        Subscription = "subscription",
    }
}

string_enum! {
    /// Whether a Checkout Session has been paid (Stripe's `payment_status`, as the contract's
    /// `CheckoutSession.paymentStatus` carries it).
    pub enum CheckoutPaymentStatus {
        /// The payment went through.
        Paid = "paid",
        /// Not paid yet, or the payment failed.
        Unpaid = "unpaid",
        /// Nothing to pay now (a free trial, a 100% discount).
        NoPaymentRequired = "no_payment_required",
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
        crate::values::tests::round_trips(CheckoutMode::ALL, CheckoutMode::NAMES, CheckoutMode::from("setup"));
        crate::values::tests::round_trips(
            CheckoutPaymentStatus::ALL,
            CheckoutPaymentStatus::NAMES,
            CheckoutPaymentStatus::from("partially_paid"),
        );
        assert_eq!(CheckoutSessionStatus::from("completed"), CheckoutSessionStatus::Completed);
        assert_eq!(CheckoutPaymentStatus::from("no_payment_required"), CheckoutPaymentStatus::NoPaymentRequired);
        assert_eq!(PortalSessionStatus::from("created"), PortalSessionStatus::Created);
    }
}
