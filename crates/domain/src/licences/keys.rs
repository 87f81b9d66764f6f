//! Private seal keys at rest: wrapped with SM4-GCM (GB/T 32907 block cipher in Galois/counter
//! mode) under a key-encryption key derived from the configured `seal_key`.
//!
//! The wrapped form is `sm4gcm:` + base64(12-byte nonce ‖ ciphertext ‖ tag). The associated data
//! names the seal and the algorithm, so a wrapped key copied onto another seal's row does not
//! unwrap.

use aes_gcm::aead::{Aead, Payload, consts::U12};
use aes_gcm::{AesGcm, KeyInit};
use base64::Engine as _;

type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

const PREFIX: &str = "sm4gcm:";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WrapError {
    #[error("the wrapped key is not in the sm4gcm format")]
    Format,
    #[error(
        "the wrapped key does not open with this seal key (wrong `seal_key`, or the row was tampered with)"
    )]
    Open,
}

/// The key-encryption key.
#[derive(Clone)]
pub struct KeyWrap {
    cipher: Sm4Gcm,
}

impl std::fmt::Debug for KeyWrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyWrap(..)")
    }
}

impl KeyWrap {
    /// Derives the 128-bit SM4 key from the configured secret (any length; at least 32 random
    /// characters are expected) with SM3 and a fixed label.
    pub fn from_secret(secret: &str) -> KeyWrap {
        KeyWrap::from_secret_labelled(secret, "quanban seal key v1")
    }

    /// The same under another label: a key for another purpose from the same secret (personal
    /// data at rest uses its own), so that one key's ciphertexts never open with the other.
    pub fn from_secret_labelled(secret: &str, label: &str) -> KeyWrap {
        let digest = <sm3::Sm3 as sm3::Digest>::digest(format!("{label}\0{secret}").as_bytes());
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        KeyWrap { cipher: Sm4Gcm::new(&key.into()) }
    }

    pub fn wrap(&self, secret: &[u8], context: &str) -> String {
        let nonce: [u8; 12] = rand::random();
        // Encryption with a valid key and nonce cannot fail for inputs this small.
        let ct = self
            .cipher
            .encrypt((&nonce).into(), Payload { msg: secret, aad: context.as_bytes() })
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(ct);
        format!("{PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(out))
    }

    pub fn unwrap(&self, wrapped: &str, context: &str) -> Result<Vec<u8>, WrapError> {
        let raw = wrapped
            .strip_prefix(PREFIX)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|r| r.len() > 12 + 16)
            .ok_or(WrapError::Format)?;
        let (nonce, ct) = raw.split_at(12);
        self.cipher
            .decrypt(nonce.into(), Payload { msg: ct, aad: context.as_bytes() })
            .map_err(|_| WrapError::Open)
    }
}

/// A random secret for `seal_key` (what `quanban` suggests when none is configured).
pub fn random_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_unwraps_only_with_the_same_key_and_context() {
        let k = KeyWrap::from_secret("correct horse battery staple 0123456789");
        let w = k.wrap(b"0123456789abcdef0123456789abcdef", "seal-1/ed25519");
        assert!(w.starts_with("sm4gcm:"));
        assert!(!w.contains("0123456789abcdef"));
        assert_eq!(k.unwrap(&w, "seal-1/ed25519").unwrap(), b"0123456789abcdef0123456789abcdef");
        // Another seal's context, another key, or a flipped byte: refused.
        assert_eq!(k.unwrap(&w, "seal-2/ed25519"), Err(WrapError::Open));
        assert_eq!(KeyWrap::from_secret("other").unwrap(&w, "seal-1/ed25519"), Err(WrapError::Open));
        let mut raw = base64::engine::general_purpose::STANDARD.decode(&w[7..]).unwrap();
        raw[20] ^= 1;
        let flipped = format!("sm4gcm:{}", base64::engine::general_purpose::STANDARD.encode(raw));
        assert_eq!(k.unwrap(&flipped, "seal-1/ed25519"), Err(WrapError::Open));
        assert_eq!(k.unwrap("plain", "x"), Err(WrapError::Format));
        // Two wraps of one secret differ (fresh nonce).
        assert_ne!(k.wrap(b"same", "c"), k.wrap(b"same", "c"));
    }
}
