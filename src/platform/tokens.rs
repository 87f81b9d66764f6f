//! Random tokens handed to people or systems (API keys, a queue ticket's rating code, a public
//! complaint id) and what is stored of a secret one: its SM3 digest, so that the database holds
//! nothing that works as the token itself.

use rand::RngCore;
use sm3::Digest;

/// `bytes` random bytes from the operating system's generator, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// What is stored of a secret token: the SM3 digest (hex) of it, surrounding blanks ignored.
pub fn secret_digest(token: &str) -> String {
    hex::encode(sm3::Sm3::digest(token.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_digests_ignore_blanks() {
        let (a, b) = (random_hex(8), random_hex(8));
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(secret_digest(&a), secret_digest(&format!(" {a} ")));
        assert_ne!(secret_digest(&a), secret_digest(&b));
        assert_eq!(secret_digest(&a).len(), 64);
    }
}
