//! Identifiers and random tokens.

use rand::RngCore;

/// A random identifier with a readable prefix, e.g. `usr_3f9c…`. 16 random bytes: collisions are
/// not a concern, and the prefix tells a reader in a log or table what kind of thing it names.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_hex(16))
}

/// `n` random bytes from the operating system's generator, hex-encoded.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// SHA-256 of a token, hex-encoded: how session tokens and API keys are stored, so a copy of the
/// database cannot be replayed as credentials.
pub fn token_digest(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_and_unique() {
        let a = new_id("usr");
        let b = new_id("usr");
        assert!(a.starts_with("usr_"));
        assert_eq!(a.len(), 4 + 32);
        assert_ne!(a, b);
    }

    #[test]
    fn digest_is_stable_and_not_the_token() {
        assert_eq!(token_digest("abc"), token_digest("abc"));
        assert_ne!(token_digest("abc"), token_digest("abd"));
        assert_eq!(token_digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
