//! Encryption of stored secrets, supplied by the host application.

use zeroize::Zeroizing;

/// A sealed secret could not be opened (wrong master key, corrupted value).
#[derive(Debug, thiserror::Error)]
#[error("could not open a sealed secret: {0}")]
pub struct SealError(pub String);

/// Seals and opens secrets (Stripe keys, webhook signing secrets) before they are stored.
///
/// The console implements it with its AES-GCM master key; the engine never sees that key and
/// stores only what [`Sealer::seal`] returns. Implementations must be randomised (a fresh nonce
/// per call) so that equal secrets do not produce equal ciphertexts.
pub trait Sealer: Send + Sync {
    /// Encrypts `plaintext` into a printable string.
    fn seal(&self, plaintext: &str) -> String;
    /// Decrypts a value produced by [`Sealer::seal`]. The plaintext is wiped when dropped.
    fn open(&self, sealed: &str) -> Result<Zeroizing<String>, SealError>;
}
