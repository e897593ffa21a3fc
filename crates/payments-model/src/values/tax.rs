//! A price's tax behaviour.

use super::string_enum;

string_enum! {
    /// Whether a price includes tax (Stripe's `tax_behavior`, the contract's `taxBehavior`), in
    /// the contract's order, which the engine's validation message lists.
    pub enum TaxBehavior {
        /// Tax is added on top of the amount.
        Exclusive = "exclusive",
        /// The amount includes tax.
        Inclusive = "inclusive",
        /// Not said yet: Stripe lets it be set once, to `exclusive` or `inclusive`.
        Unspecified = "unspecified",
    }
}

impl TaxBehavior {
    /// The behaviour for people, as the price forms offer it; an unknown one as spelt.
    pub fn label(&self) -> &str {
        match self {
            TaxBehavior::Exclusive => "Exclusive (tax added on top)",
            TaxBehavior::Inclusive => "Inclusive (tax included)",
            TaxBehavior::Unspecified => "Unspecified",
            TaxBehavior::Unknown(raw) => raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_behaviors_round_trip() {
        crate::values::tests::round_trips(TaxBehavior::ALL, TaxBehavior::NAMES, TaxBehavior::from("none"));
        // The engine's "Expected 'exclusive' | 'inclusive' | 'unspecified'" follows this order.
        assert_eq!(TaxBehavior::NAMES, ["exclusive", "inclusive", "unspecified"]);
        assert_eq!(TaxBehavior::Inclusive.label(), "Inclusive (tax included)");
        assert_eq!(TaxBehavior::from("none").label(), "none");
    }
}
