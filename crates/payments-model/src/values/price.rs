//! The shape of a price: one-time or recurring, its billing interval and its billing scheme.

use super::string_enum;

string_enum! {
    /// Whether a price is paid once or billed repeatedly (Stripe's `price.type`).
    pub enum PriceType {
        /// Paid once.
        OneTime = "one_time",
        /// Billed every `recurringInterval`.
        Recurring = "recurring",
    }
}

impl PriceType {
    /// The type for people, as the catalog shows it; an unknown type as spelt.
    pub fn label(&self) -> &str {
        match self {
            PriceType::OneTime => "One-time",
            PriceType::Recurring => "Recurring",
            PriceType::Unknown(raw) => raw,
        }
    }
}

string_enum! {
    /// How often a recurring price bills (the contract's `StripePriceRecurringInterval`),
    /// shortest first, as the new-price form offers them.
    pub enum RecurringInterval {
        /// Daily.
        Day = "day",
        /// Weekly.
        Week = "week",
        /// Monthly.
        Month = "month",
        /// Yearly.
        Year = "year",
    }
}

impl RecurringInterval {
    /// The share of a month one interval stands for, as `(numerator, denominator)`: a month is
    /// a twelfth of a year, 52/12 weeks or 365/12 days. `None` for an interval this build does
    /// not know, which the overview leaves out of MRR rather than guess.
    pub fn months(&self) -> Option<(i64, i64)> {
        match self {
            RecurringInterval::Day => Some((12, 365)),
            RecurringInterval::Week => Some((12, 52)),
            RecurringInterval::Month => Some((1, 1)),
            RecurringInterval::Year => Some((12, 1)),
            RecurringInterval::Unknown(_) => None,
        }
    }
}

string_enum! {
    /// How a price computes its amount (Stripe's `billing_scheme`).
    pub enum BillingScheme {
        /// A fixed `unitAmount` per unit.
        PerUnit = "per_unit",
        /// Tiers: the amount depends on the quantity, so there is no single unit amount.
        Tiered = "tiered",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_values_round_trip() {
        crate::values::tests::round_trips(PriceType::ALL, PriceType::NAMES, PriceType::from("metered"));
        crate::values::tests::round_trips(
            RecurringInterval::ALL,
            RecurringInterval::NAMES,
            RecurringInterval::from("fortnight"),
        );
        crate::values::tests::round_trips(BillingScheme::ALL, BillingScheme::NAMES, BillingScheme::from("volume"));
        assert_eq!(PriceType::Recurring.label(), "Recurring");
        assert_eq!(PriceType::OneTime.label(), "One-time");
        assert_eq!(RecurringInterval::Year.months(), Some((12, 1)));
        assert_eq!(RecurringInterval::from("fortnight").months(), None);
        assert_eq!(BillingScheme::from("tiered"), BillingScheme::Tiered);
    }
}
