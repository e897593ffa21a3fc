//! Status badges. Each status enum says how it looks (its [`Tone`]), by an exhaustive match: a
//! status added to the model is a compile error here rather than a grey badge nobody chose.

use leptos::prelude::*;
use payments_model::{PaymentStatus, ProcessingStatus, SubscriptionStatus};

/// How a status looks: its colour in the badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Done and well (green).
    Good,
    /// Not finished, or partly undone: worth a look (amber).
    Attention,
    /// Failed or ended (red).
    Bad,
    /// Nothing to say (grey): ignored events, values this build does not know.
    Neutral,
}

impl Tone {
    /// The badge's CSS classes.
    pub fn class(self) -> &'static str {
        match self {
            Tone::Good => "badge badge-ok",
            Tone::Attention => "badge badge-warn",
            Tone::Bad => "badge badge-danger",
            Tone::Neutral => "badge",
        }
    }
}

/// A status as a badge shows it: its wire spelling and its tone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Badge {
    label: String,
    tone: Tone,
}

/// A status the console shows as a badge: its text is the status as the API spells it
/// (`AsRef<str>`, which every `string_enum!` has).
pub trait Status: AsRef<str> {
    /// How it looks.
    fn tone(&self) -> Tone;
}

impl<T: Status> From<&T> for Badge {
    fn from(status: &T) -> Self {
        Badge { label: status.as_ref().to_owned(), tone: status.tone() }
    }
}

impl Status for SubscriptionStatus {
    fn tone(&self) -> Tone {
        use SubscriptionStatus::*;
        match self {
            Active => Tone::Good,
            Trialing | Incomplete | Paused => Tone::Attention,
            PastDue | Unpaid | Canceled | IncompleteExpired => Tone::Bad,
            Unknown(_) => Tone::Neutral,
        }
    }
}

impl Status for PaymentStatus {
    fn tone(&self) -> Tone {
        use PaymentStatus::*;
        match self {
            Succeeded => Tone::Good,
            Pending | Refunded | PartiallyRefunded => Tone::Attention,
            Failed | Canceled => Tone::Bad,
            Unknown(_) => Tone::Neutral,
        }
    }
}

impl Status for ProcessingStatus {
    fn tone(&self) -> Tone {
        use ProcessingStatus::*;
        match self {
            Processed => Tone::Good,
            Pending => Tone::Attention,
            Failed => Tone::Bad,
            Ignored | Unknown(_) => Tone::Neutral,
        }
    }
}

/// A status, coloured by its tone.
#[component]
pub fn StatusBadge(#[prop(into)] status: Badge) -> impl IntoView {
    view! { <span class=status.tone.class() data-testid="status">{status.label}</span> }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tones are the colours the badges had when they matched on the spelling.
    #[test]
    fn tones_keep_the_colours_of_each_spelling() {
        let before = |s: &str| match s {
            "active" | "succeeded" | "processed" | "paid" => "badge badge-ok",
            "past_due" | "unpaid" | "failed" | "canceled" | "incomplete_expired" => "badge badge-danger",
            "trialing" | "paused" | "incomplete" | "pending" | "refunded" | "partially_refunded" => "badge badge-warn",
            _ => "badge",
        };
        let mut all: Vec<Badge> = SubscriptionStatus::ALL.iter().map(Badge::from).collect();
        all.extend(PaymentStatus::ALL.iter().map(Badge::from));
        all.extend(ProcessingStatus::ALL.iter().map(Badge::from));
        all.push(Badge::from(&PaymentStatus::from("disputed")));
        for badge in all {
            assert_eq!(badge.tone.class(), before(&badge.label), "{}", badge.label);
        }
    }
}
