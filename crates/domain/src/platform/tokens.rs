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

/// A random RFC 4122 version-4 UUID (record ids, credential ids).
pub fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// What is stored of a secret token: the SM3 digest (hex) of it, surrounding blanks ignored.
pub fn secret_digest(token: &str) -> String {
    hex::encode(sm3::Sm3::digest(token.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let (a, b) = (uuid_v4(), uuid_v4());
        assert_ne!(a, b);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), vec![8, 4, 4, 4, 12]);
        assert!(parts[2].starts_with('4'), "{a}");
        assert!(matches!(parts[3].chars().next(), Some('8' | '9' | 'a' | 'b')), "{a}");
    }

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
