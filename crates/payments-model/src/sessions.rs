//! The runtime sessions (§8) an application user creates: a Checkout Session (route 4) and a
//! Billing Portal Session (route 5), as the engine records them and the routes answer them.
//!
//! Section numbers (§) in this file are those of `contract/BEHAVIOUR.md`.

use serde::{Deserialize, Serialize};

use crate::environment::Environment;
use crate::values::{CheckoutMode, CheckoutPaymentStatus, CheckoutSessionStatus, PortalSessionStatus};

/// `CheckoutSession` (§2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutSession {
    /// Local UUID (also Stripe's `client_reference_id`).
    pub id: String,
    /// `test` / `live`.
    pub environment: Environment,
    /// `payment` / `subscription`.
    pub mode: CheckoutMode,
    /// `initialized`, `open`, `completed`, `expired`, `failed`.
    pub status: CheckoutSessionStatus,
    /// `paid`, `unpaid`, `no_payment_required`; `None` until Stripe says.
    pub payment_status: Option<CheckoutPaymentStatus>,
    /// Billing subject type.
    pub subject_type: Option<String>,
    /// Billing subject id.
    pub subject_id: Option<String>,
    /// The email given at creation.
    pub customer_email: Option<String>,
    /// `cs_…`.
    pub stripe_checkout_session_id: Option<String>,
    /// `cus_…`.
    pub stripe_customer_id: Option<String>,
    /// `pi_…`.
    pub stripe_payment_intent_id: Option<String>,
    /// `sub_…`.
    pub stripe_subscription_id: Option<String>,
    /// The Stripe-hosted page to redirect to.
    pub url: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// ISO time.
    pub created_at: String,
    /// ISO time.
    pub updated_at: String,
}

/// `CustomerPortalSession` (§2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerPortalSession {
    /// Local UUID.
    pub id: String,
    /// `test` / `live`.
    pub environment: Environment,
    /// `initialized`, `created`, `failed`.
    pub status: PortalSessionStatus,
    /// Billing subject type.
    pub subject_type: String,
    /// Billing subject id.
    pub subject_id: String,
    /// The mapped customer.
    pub stripe_customer_id: Option<String>,
    /// As requested.
    pub return_url: Option<String>,
    /// As requested (`bpc_…`).
    pub configuration: Option<String>,
    /// The portal URL.
    pub url: Option<String>,
    /// Why the attempt failed.
    pub last_error: Option<String>,
    /// ISO time.
    pub created_at: String,
    /// ISO time.
    pub updated_at: String,
}
