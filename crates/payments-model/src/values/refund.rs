//! A refund's status and reason, as Stripe spells them.

use super::string_enum;

string_enum! {
    /// The status of a refund Stripe created (Stripe's `refund.status`).
    pub enum RefundStatus {
        /// Stripe has not settled it yet.
        Pending = "pending",
        /// The customer has to act (some payment methods) before the money moves.
        RequiresAction = "requires_action",
        /// The money went back.
        Succeeded = "succeeded",
        /// The refund failed.
        Failed = "failed",
        /// The refund was canceled before it went through.
        Canceled = "canceled",
    }
}

string_enum! {
    /// Why a payment is refunded (Stripe's `refund.reason`), in the order the refund form offers
    /// them. The known values are the three Stripe accepts when a refund is created; a reason
    /// only Stripe sets (`expired_uncaptured_charge`, …) is read as `Unknown`, verbatim.
    pub enum RefundReason {
        /// The customer asked for their money back.
        RequestedByCustomer = "requested_by_customer",
        /// The customer was charged twice.
        Duplicate = "duplicate",
        /// The payment was fraudulent (Stripe also blocks the card).
        Fraudulent = "fraudulent",
    }
}

impl RefundReason {
    /// The reason for people; an unknown reason as spelt.
    pub fn label(&self) -> &str {
        match self {
            RefundReason::Duplicate => "Duplicate payment",
            RefundReason::Fraudulent => "Fraudulent",
            RefundReason::RequestedByCustomer => "Requested by the customer",
            RefundReason::Unknown(raw) => raw,
        }
    }

    /// A reason an admin may give (one of [`Self::ALL`]) from its spelling; `None` for any
    /// other, which a refund request must not carry.
    pub fn parse(raw: &str) -> Option<RefundReason> {
        Some(RefundReason::from(raw)).filter(|reason| !reason.is_unknown())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refund_values_round_trip() {
        crate::values::tests::round_trips(RefundStatus::ALL, RefundStatus::NAMES, RefundStatus::from("reversed"));
        crate::values::tests::round_trips(
            RefundReason::ALL,
            RefundReason::NAMES,
            RefundReason::from("expired_uncaptured_charge"),
        );
        assert_eq!(RefundStatus::from("requires_action"), RefundStatus::RequiresAction);
        // The form's order, which the engine's validation message also follows.
        assert_eq!(RefundReason::NAMES, ["requested_by_customer", "duplicate", "fraudulent"]);
        assert_eq!(RefundReason::parse("duplicate"), Some(RefundReason::Duplicate));
        assert_eq!(RefundReason::parse("expired_uncaptured_charge"), None);
        assert_eq!(RefundReason::Duplicate.label(), "Duplicate payment");
        assert_eq!(RefundReason::from("expired_uncaptured_charge").label(), "expired_uncaptured_charge");
    }
}
