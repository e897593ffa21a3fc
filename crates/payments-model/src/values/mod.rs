//! Typed domain values: the statuses and kinds the contract spells as strings (issue #12).
//!
//! Each is an enum of the values known today plus `Unknown(String)`: Stripe adds statuses, and a
//! newer engine or InsForge backend may send one this build does not know. An unknown value is
//! carried verbatim, so parsing never fails and re-serialising gives back the same string; the
//! JSON on the wire is the plain string, byte for byte what it was when these were `String`s.

mod connection;
mod error_code;
mod history;
mod price;
mod refund;
mod session;
mod subscription;
mod tax;
mod webhook;
#[cfg(test)]
pub(crate) mod wire_tests;

pub use connection::{ConnectionStatus, LastSyncStatus};
pub use error_code::ErrorCode;
pub use history::{PaymentKind, PaymentStatus};
pub use price::{BillingScheme, PriceType, RecurringInterval};
pub use refund::{RefundReason, RefundStatus};
pub use session::{CheckoutMode, CheckoutPaymentStatus, CheckoutSessionStatus, PortalSessionStatus};
pub use subscription::SubscriptionStatus;
pub use tax::TaxBehavior;
pub use webhook::ProcessingStatus;

/// Declares a string-valued domain enum: its known variants with their wire spelling, an
/// `Unknown(String)` variant, `ALL` (the known ones in the given order), `as_str`, parsing that
/// never fails (`From<&str>`, `From<String>`, `FromStr`), `AsRef<str>`, `Display`, and serde as
/// the plain string.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this build does not know (added by Stripe or a newer server), kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The known values, in the order the console lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spellings of [`Self::ALL`], in the same order: for validators and SQL that
            /// take the values as text.
            pub const NAMES: &'static [&'static str] = &[$($wire),+];

            /// The value as the API and the database spell it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Unknown(raw) => raw.as_str(),
                }
            }

            /// Whether this is a value this build does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, $name::Unknown(_))
            }
        }

        impl From<&str> for $name {
            fn from(raw: &str) -> Self {
                match raw {
                    $( $wire => $name::$variant, )+
                    other => $name::Unknown(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(raw: String) -> Self {
                match $name::from(raw.as_str()) {
                    // Keep the allocation already made rather than copying it.
                    $name::Unknown(_) => $name::Unknown(raw),
                    known => known,
                }
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                match value {
                    $name::Unknown(raw) => raw,
                    known => known.as_str().to_owned(),
                }
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Ok($name::from(raw))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map($name::from)
            }
        }
    };
}
pub(crate) use string_enum;

#[cfg(test)]
pub(crate) mod tests {
    /// Every known value survives text and JSON round trips, an unknown one is kept verbatim,
    /// and the known values are distinct.
    pub(crate) fn round_trips<T>(all: &[T], names: &[&str], unknown: T)
    where
        T: Clone
            + std::fmt::Debug
            + PartialEq
            + std::fmt::Display
            + std::str::FromStr<Err = std::convert::Infallible>
            + for<'a> From<&'a str>
            + From<String>
            + Into<String>
            + serde::Serialize
            + serde::de::DeserializeOwned,
    {
        let mut seen = std::collections::BTreeSet::new();
        for value in all.iter().cloned().chain([unknown.clone()]) {
            let text = value.to_string();
            assert!(seen.insert(text.clone()), "{text} is listed twice");
            assert_eq!(names.contains(&text.as_str()), all.contains(&value), "{text} in NAMES");
            assert_eq!(T::from(text.as_str()), value, "{text}");
            assert_eq!(T::from(text.clone()), value, "{text}");
            assert_eq!(text.parse::<T>(), Ok(value.clone()), "{text}");
            assert_eq!(Into::<String>::into(value.clone()), text);
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(json, serde_json::to_string(&text).unwrap(), "serialised as the plain string");
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), value, "{json}");
        }
        assert!(!all.contains(&unknown), "{unknown:?} is known");
        assert_eq!(all.iter().map(|v| v.to_string()).collect::<Vec<_>>(), names, "NAMES follow ALL");
    }
}
