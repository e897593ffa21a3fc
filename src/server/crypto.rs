//! Encryption of secrets at rest (Stripe keys, webhook signing secrets) under the master key.
//!
//! AES-256-GCM with a fresh random 96-bit nonce per value. The stored form is
//! `v1:<base64(nonce || ciphertext+tag)>`, the version prefix leaving room for key rotation.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use std::path::Path;
use zeroize::Zeroizing;

const VERSION_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// The 256-bit key that encrypts every secret the console stores.
pub struct MasterKey {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

/// Why a stored secret could not be decrypted.
#[derive(Debug, thiserror::Error)]
pub enum DecryptError {
    #[error("the stored secret is not in a known format")]
    Format,
    #[error("the stored secret does not decrypt with this master key (wrong key or tampered data)")]
    Authentication,
}

impl MasterKey {
    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        MasterKey { cipher: Aes256Gcm::new(bytes.into()) }
    }

    /// A fresh random key, for `--demo` runs that keep nothing secret beyond the process.
    pub fn generate() -> (Self, Zeroizing<[u8; 32]>) {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        (Self::from_bytes(&bytes), bytes)
    }

    /// Reads a key file holding the key as 64 hex characters (surrounding whitespace ignored).
    /// A file that other users could read is refused: whoever reads it can decrypt every stored
    /// Stripe key.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        refuse_shared_key_file(path)?;
        let text = Zeroizing::new(
            std::fs::read_to_string(path).with_context(|| format!("reading master key file {}", path.display()))?,
        );
        let mut bytes = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), bytes.as_mut())
            .with_context(|| format!("master key file {} must hold 64 hex characters", path.display()))?;
        Ok(Self::from_bytes(&bytes))
    }

    /// Creates a new key file readable by its owner only (mode 0600), refusing to overwrite one.
    pub fn create_file(path: &Path) -> anyhow::Result<Self> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let (key, bytes) = Self::generate();
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating master key file {}", path.display()))?;
        file.write_all(Zeroizing::new(hex::encode(bytes.as_ref())).as_bytes())?;
        file.sync_all()?;
        Ok(key)
    }

    /// Encrypts `plaintext` for storage.
    pub fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        format!("{VERSION_PREFIX}{}", B64.encode(blob))
    }

    /// Decrypts a value produced by [`MasterKey::seal`].
    pub fn open(&self, stored: &str) -> Result<Zeroizing<String>, DecryptError> {
        let encoded = stored.strip_prefix(VERSION_PREFIX).ok_or(DecryptError::Format)?;
        let blob = B64.decode(encoded).map_err(|_| DecryptError::Format)?;
        if blob.len() < NONCE_LEN {
            return Err(DecryptError::Format);
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let plain =
            self.cipher.decrypt(Nonce::from_slice(nonce), ciphertext).map_err(|_| DecryptError::Authentication)?;
        String::from_utf8(plain).map(Zeroizing::new).map_err(|_| DecryptError::Format)
    }
}

/// A command that creates a key file on a stock Debian system (no `xxd` or `openssl` needed),
/// for error messages; `payments-console master-key generate FILE` does the same.
pub fn key_file_command(path: &Path) -> String {
    let path = shell_quoted(&path.display().to_string());
    format!("(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > {path})")
}

/// A path as one shell word: unchanged when plain, single-quoted otherwise.
fn shell_quoted(path: &str) -> String {
    if !path.is_empty() && path.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c)) {
        return path.to_string();
    }
    format!("'{}'", path.replace('\'', r"'\''"))
}

/// Fails when the key file's mode lets its group or others read (or write) it.
fn refuse_shared_key_file(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .with_context(|| format!("reading master key file {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        bail!(
            "master key file {0} is accessible to other users (mode {1:04o}); it must be readable by its owner \
             only: run `chmod 600 {2}`",
            path.display(),
            mode & 0o7777,
            shell_quoted(&path.display().to_string())
        );
    }
    Ok(())
}

/// Where the master key comes from, decided from the command line (see `serve --help`).
pub enum MasterKeySource<'a> {
    /// `--master-key-file`: the file must exist.
    File(&'a Path),
    /// The embedded default: a key file next to the SQLite database, created on first run.
    DefaultFile(&'a Path),
    /// `--demo` without a key file: a key that lives as long as the process.
    Ephemeral,
}

/// Loads (or, for the embedded default, creates) the master key.
pub fn load_master_key(source: MasterKeySource<'_>) -> anyhow::Result<MasterKey> {
    match source {
        MasterKeySource::File(path) => {
            if !path.exists() {
                bail!(
                    "master key file {} does not exist; create one with `payments-console master-key generate {0}` \
                     or `{1}`",
                    path.display(),
                    key_file_command(path)
                );
            }
            MasterKey::load(path)
        }
        MasterKeySource::DefaultFile(path) if path.exists() => MasterKey::load(path),
        MasterKeySource::DefaultFile(path) => {
            let key = MasterKey::create_file(path)?;
            tracing::warn!(
                path = %path.display(),
                "generated a new master key (mode 0600). It encrypts the stored Stripe keys: back it up, \
                 and pass --master-key-file in production"
            );
            Ok(key)
        }
        MasterKeySource::Ephemeral => Ok(MasterKey::generate().0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips_and_hides_the_plaintext() {
        let (key, _) = MasterKey::generate();
        let sealed = key.seal("sk_test_abc123");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("sk_test"));
        assert_eq!(key.open(&sealed).unwrap().as_str(), "sk_test_abc123");
        // A fresh nonce each time: equal plaintexts do not produce equal ciphertexts.
        assert_ne!(sealed, key.seal("sk_test_abc123"));
    }

    #[test]
    fn another_key_or_tampering_is_detected() {
        let (key, _) = MasterKey::generate();
        let (other, _) = MasterKey::generate();
        let sealed = key.seal("whsec_secret");
        assert!(matches!(other.open(&sealed), Err(DecryptError::Authentication)));
        let mut tampered = B64.decode(&sealed[3..]).unwrap();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        let tampered = format!("v1:{}", B64.encode(tampered));
        assert!(matches!(key.open(&tampered), Err(DecryptError::Authentication)));
        assert!(matches!(key.open("plain"), Err(DecryptError::Format)));
    }

    #[test]
    fn key_file_is_private_and_reloads_to_the_same_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/master.key");
        let created = load_master_key(MasterKeySource::DefaultFile(&path)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let reloaded = load_master_key(MasterKeySource::DefaultFile(&path)).unwrap();
        assert_eq!(reloaded.open(&created.seal("x")).unwrap().as_str(), "x");
        // Never overwritten.
        assert!(MasterKey::create_file(&path).is_err());
    }

    #[test]
    fn an_explicit_key_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_master_key(MasterKeySource::File(&dir.path().join("missing.key"))).unwrap_err();
        assert!(err.to_string().contains("does not exist"));
        assert!(err.to_string().contains("master-key generate"), "{err}");
    }

    #[test]
    fn the_suggested_shell_command_makes_a_private_key_file_that_loads() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // A space and a quote: the command must keep the path one word.
        let path = dir.path().join("made by the shell's hint.key");
        let cmd = key_file_command(&path);
        let status = std::process::Command::new("sh").arg("-c").arg(&cmd).status().unwrap();
        assert!(status.success(), "{cmd}");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        MasterKey::load(&path).unwrap();
    }

    #[test]
    fn a_key_file_others_can_read_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        MasterKey::create_file(&path).unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            for source in [MasterKeySource::File(&path), MasterKeySource::DefaultFile(&path)] {
                let err = load_master_key(source).unwrap_err().to_string();
                assert!(err.contains(&format!("chmod 600 {}", path.display())), "{mode:o}: {err}");
            }
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        load_master_key(MasterKeySource::File(&path)).unwrap();
    }
}
