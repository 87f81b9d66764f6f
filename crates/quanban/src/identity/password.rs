//! Password hashing with argon2id, run on the blocking pool: a hash takes tens of milliseconds
//! of CPU and would otherwise stall every request sharing the async worker.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        hasher()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
    })
    .await?
}

/// argon2id with its recommended cost (19 MiB, two passes); the parameters are stored in each
/// hash, so verification always uses the ones a password was hashed with.
#[cfg(not(feature = "cheap-passwords"))]
fn hasher() -> Argon2<'static> {
    Argon2::default()
}

/// Tests only (see the `cheap-passwords` feature): the minimum cost argon2 allows.
#[cfg(feature = "cheap-passwords")]
fn hasher() -> Argon2<'static> {
    use argon2::{Algorithm, Params, Version};
    let params =
        Params::new(Params::MIN_M_COST, Params::MIN_T_COST, 1, None).expect("argon2's minimum parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Whether this binary hashes new passwords at the test-only minimum cost.
pub const CHEAP_FOR_TESTS: bool = cfg!(feature = "cheap-passwords");

/// Whether `password` matches `stored`. A malformed stored hash counts as no match.
pub async fn verify(password: String, stored: String) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else { return Ok(false) };
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await?
}

/// A valid hash of a random password, verified against when the account does not exist so that
/// the answer takes as long as for a real account (no timing oracle for account existence).
pub fn decoy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$3nHLe6xfQ8Ai2wF1u6hMqnzv2m+0oH8m7mUqNpO7Ndc"
}
