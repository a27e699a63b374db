//! Keys and authenticated encryption for casewire.
//!
//! Two kinds of secret are protected here:
//! - **data keys**, one per data subject (one client of one tenant), that seal personal
//!   fields in the event log; they are stored wrapped by the master key so that destroying
//!   one erases that subject's data everywhere in the log without editing it;
//! - **tenant secrets** (Twilio auth tokens, webhook secrets), encrypted at rest under the
//!   master key.
//!
//! Everything uses XChaCha20-Poly1305: its 192-bit nonces are safe to draw at random, so no
//! nonce counter has to be kept consistent across replicas.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the master key must be 32 bytes, base64-encoded ({0})")]
    BadMasterKey(String),
    #[error("decryption failed: wrong key or altered ciphertext")]
    Decrypt,
    #[error("malformed ciphertext: {0}")]
    Malformed(&'static str),
}

/// A 256-bit symmetric key. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct Key([u8; KEY_LEN]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    pub fn generate() -> Self {
        let mut k = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut k);
        Key(k)
    }

    /// Parses the base64 form used by `CASEWIRE_MASTER_KEY`.
    pub fn from_base64(s: &str) -> Result<Self, CryptoError> {
        let bytes = B64
            .decode(s.trim())
            .map_err(|e| CryptoError::BadMasterKey(e.to_string()))?;
        let arr: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| CryptoError::BadMasterKey(format!("got {} bytes", b.len())))?;
        Ok(Key(arr))
    }

    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| CryptoError::Malformed("key length"))?;
        Ok(Key(arr))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }

    /// Encrypts `plain`, binding it to `aad` (the context it belongs to, e.g. tenant and
    /// subject), so a ciphertext copied into another tenant's row does not open.
    /// Output: nonce ‖ ciphertext+tag.
    pub fn seal(&self, plain: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Malformed("too short"));
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        self.cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| CryptoError::Decrypt)
    }

    /// Wraps a data key under this (master) key.
    pub fn wrap(&self, data_key: &Key, aad: &[u8]) -> Vec<u8> {
        self.seal(&data_key.0, aad)
    }

    pub fn unwrap_key(&self, wrapped: &[u8], aad: &[u8]) -> Result<Key, CryptoError> {
        Key::from_slice(&self.open(wrapped, aad)?)
    }

    /// A key of its own for one `purpose`, derived from this one (HKDF-SHA256): what is
    /// sealed under it does not open under this key or under another purpose's.
    pub fn derive(&self, purpose: &str) -> Key {
        let mut k = [0u8; KEY_LEN];
        hkdf::Hkdf::<Sha256>::new(None, &self.0)
            .expand(purpose.as_bytes(), &mut k)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Key(k)
    }

    /// A short, non-reversible fingerprint, to tell in logs which master key is loaded.
    pub fn fingerprint(&self) -> String {
        hex::encode(&Sha256::digest(Sha256::digest(self.0))[..4])
    }
}

/// SHA-256 of a secret, hex-encoded: how API keys are stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// `n` random bytes, base64url without padding: for API keys and webhook secrets.
pub fn random_token(n: usize) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut b = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// `plain` sealed under `key` for one `purpose`, as a URL-safe token: opaque to whoever
/// holds it, and it cannot be forged or altered without the key.
pub fn seal_token(key: &Key, purpose: &str, plain: &[u8]) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    URL_SAFE_NO_PAD.encode(key.seal(plain, purpose.as_bytes()))
}

/// What [`seal_token`] sealed, or `None` for a token it did not make.
pub fn open_token(key: &Key, purpose: &str, token: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let sealed = URL_SAFE_NO_PAD.decode(token).ok()?;
    key.open(&sealed, purpose.as_bytes()).ok()
}

pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

pub fn unb64(s: &str) -> Result<Vec<u8>, CryptoError> {
    B64.decode(s).map_err(|_| CryptoError::Malformed("base64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_key_opens_only_what_it_sealed() {
        let master = Key::generate();
        let commands = master.derive("casewire nats commands");
        assert_eq!(
            commands.0,
            master.derive("casewire nats commands").0,
            "the same purpose derives the same key in every process"
        );
        let sealed = commands.seal(b"Ana", b"subject");
        assert_eq!(commands.open(&sealed, b"subject").unwrap(), b"Ana");
        assert!(master.open(&sealed, b"subject").is_err());
        assert!(master
            .derive("another purpose")
            .open(&sealed, b"subject")
            .is_err());
    }

    #[test]
    fn sealed_text_opens_only_with_its_key_and_context() {
        let k = Key::generate();
        let sealed = k.seal(b"court is at 9am", b"t1/client-1");
        assert!(!sealed.windows(5).any(|w| w == b"court"));
        assert_eq!(k.open(&sealed, b"t1/client-1").unwrap(), b"court is at 9am");
        assert!(k.open(&sealed, b"t2/client-1").is_err());
        assert!(Key::generate().open(&sealed, b"t1/client-1").is_err());
    }

    #[test]
    fn wrapped_data_key_round_trips() {
        let master = Key::generate();
        let dk = Key::generate();
        let w = master.wrap(&dk, b"aad");
        assert_eq!(master.unwrap_key(&w, b"aad").unwrap().0, dk.0);
    }

    #[test]
    fn master_key_parsing_says_what_is_wrong() {
        let err = Key::from_base64("c2hvcnQ=").unwrap_err().to_string();
        assert!(err.contains("32 bytes"), "{err}");
        let k = Key::generate();
        assert_eq!(Key::from_base64(&k.to_base64()).unwrap().0, k.0);
        assert_eq!(format!("{k:?}"), "Key(..)");
    }
}
