//! The payment history's row kind (`type`) and status.

use super::string_enum;

string_enum! {
    /// What a payment-history row records (the contract's `PaymentHistoryType`, JSON `type`).
    /// Listed in the history filter's order.
    pub enum PaymentKind {
        /// A payment of a one-time Checkout Session.
        OneTimePayment = "one_time_payment",
        /// A paid (or failed) invoice of a subscription.
        SubscriptionInvoice = "subscription_invoice",
        /// A payment attempt that failed.
        FailedPayment = "failed_payment",
        /// Money given back; its own row, beside the payment it refunds.
        Refund = "refund",
    }
}

impl PaymentKind {
    /// The kind for people, as the history filter and table show it; an unknown kind as spelt.
    pub fn label(&self) -> &str {
        match self {
            PaymentKind::OneTimePayment => "One-time payment",
            PaymentKind::SubscriptionInvoice => "Subscription invoice",
            PaymentKind::FailedPayment => "Failed payment",
            PaymentKind::Refund => "Refund",
            PaymentKind::Unknown(raw) => raw,
        }
    }
}

string_enum! {
    /// The outcome of a payment-history row (the contract's `PaymentHistoryStatus`), in the
    /// history filter's order.
    pub enum PaymentStatus {
        /// The money moved (for a refund row: the refund went through).
        Succeeded = "succeeded",
        /// Not settled yet.
        Pending = "pending",
        /// The payment (or refund) failed.
        Failed = "failed",
        /// The whole payment was refunded.
        Refunded = "refunded",
        /// Part of the payment was refunded.
        PartiallyRefunded = "partially_refunded",
        /// Not in the contract's enum, but the console's history filter has always offered it
        /// (Stripe's word for an abandoned payment); kept so the filter stays as it was.
        Canceled = "canceled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_round_trip() {
        crate::values::tests::round_trips(PaymentKind::ALL, PaymentKind::NAMES, PaymentKind::from("payout"));
        crate::values::tests::round_trips(PaymentStatus::ALL, PaymentStatus::NAMES, PaymentStatus::from("disputed"));
        assert_eq!(PaymentKind::ALL.len(), 4);
        assert_eq!(PaymentKind::from("refund"), PaymentKind::Refund);
        assert_eq!(PaymentKind::from("payout").label(), "payout");
        assert_eq!(PaymentKind::SubscriptionInvoice.label(), "Subscription invoice");
        assert_eq!(PaymentStatus::from("partially_refunded"), PaymentStatus::PartiallyRefunded);
        // Parsing is exact: another spelling is a value of its own, as it was for strings.
        assert!(PaymentStatus::from("Succeeded").is_unknown());
    }
}
