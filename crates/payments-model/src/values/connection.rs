//! An environment's connection to Stripe, and how its last sync went.

use super::string_enum;

string_enum! {
    /// Whether an environment is connected to Stripe (the contract's `StripeConnectionStatus`).
    pub enum ConnectionStatus {
        /// No key is stored.
        Unconfigured = "unconfigured",
        /// A key is stored and Stripe accepted it.
        Connected = "connected",
        /// A key is stored but the last attempt to use it failed.
        Error = "error",
    }
}

string_enum! {
    /// How the last sync of an environment ended (the contract's `StripeLatestSyncStatus`).
    pub enum LastSyncStatus {
        /// It finished and the mirror is current as of `lastSyncedAt`.
        Succeeded = "succeeded",
        /// It stopped with an error (`lastSyncError` says why).
        Failed = "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        crate::values::tests::round_trips(
            ConnectionStatus::ALL,
            ConnectionStatus::NAMES,
            ConnectionStatus::from("suspended"),
        );
        crate::values::tests::round_trips(LastSyncStatus::ALL, LastSyncStatus::NAMES, LastSyncStatus::from("partial"));
        assert_eq!(ConnectionStatus::from("unconfigured"), ConnectionStatus::Unconfigured);
        assert_eq!(LastSyncStatus::from("failed"), LastSyncStatus::Failed);
    }
}
