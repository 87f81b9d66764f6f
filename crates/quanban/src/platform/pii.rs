//! Personal data at rest (ID numbers, mobile numbers): encrypted with SM4-GCM under a key derived
//! from the platform secret (`seal_key`, from configuration and required in production), with a
//! keyed SM3-HMAC digest beside each value for lookups and uniqueness. The database then holds
//! neither an ID number nor a phone number in clear, and the digests cannot be reversed by trying
//! every phone number without the key.
//!
//! A sealed value is `sm4gcm:` + base64(nonce ‖ ciphertext ‖ tag), bound to its column (the
//! associated data), so a value copied into another column does not open. A person's login name
//! is `p:` + the digest of their mobile number: they still sign in with the number itself.

use hmac::{KeyInit, Mac};

use crate::audit::{self, NewEntry};
use crate::licences::keys::KeyWrap;
use crate::store::{Db, StoreResult, query};

type HmacSm3 = hmac::Hmac<sm3::Sm3>;

/// What is kept in a column: sealed text.
const SEALED: &str = "sm4gcm:";

#[derive(Debug, thiserror::Error)]
#[error(
    "personal data in {column} does not open with this platform's key (wrong seal_key, or the row was tampered with)"
)]
pub struct OpenError {
    pub column: String,
}

/// Seals, opens and digests personal data.
#[derive(Clone)]
pub struct Vault {
    cipher: KeyWrap,
    mac_key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

impl Vault {
    pub fn from_secret(secret: &str) -> Vault {
        use sm3::Digest;
        Vault {
            cipher: KeyWrap::from_secret_labelled(secret, "quanban personal data v1"),
            mac_key: sm3::Sm3::new_with_prefix(b"quanban personal data digests v1\0")
                .chain_update(secret)
                .finalize()
                .into(),
        }
    }

    /// `value` sealed for `column` (e.g. `users.phone`).
    pub fn seal(&self, value: &str, column: &str) -> String {
        self.cipher.wrap(value.as_bytes(), column)
    }

    /// The clear value of a sealed one. A value stored before sealing existed (no `sm4gcm:`
    /// prefix) is returned as it is, so that rows are readable while the start-up pass seals them.
    pub fn open(&self, stored: &str, column: &str) -> Result<String, OpenError> {
        if !is_sealed(stored) {
            return Ok(stored.to_string());
        }
        self.cipher
            .unwrap(stored, column)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| OpenError { column: column.to_string() })
    }

    /// The keyed digest (hex) of `value` of `kind` (`phone`, `id_number`): equal values have equal
    /// digests, so it serves lookups and unique indexes.
    pub fn digest(&self, kind: &str, value: &str) -> String {
        let mut mac = <HmacSm3 as KeyInit>::new_from_slice(&self.mac_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key"));
        mac.update(kind.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A person's login name (`users.username`) for their mobile number.
    pub fn person_login(&self, phone: &str) -> String {
        format!("p:{}", self.digest("phone", phone))
    }
}

/// Columns that hold one sealed value each (besides `users`, which also keeps digests, and case
/// forms, whose JSON holds the values): `(table, key column, column)`. A closed list, so the
/// start-up pass builds no SQL from input.
const SEALED_COLUMNS: [(&str, &str, &str); 3] = [
    ("complaints", "id", "complainant_phone"),
    ("assistance_requests", "id", "contact_phone"),
    ("outbox", "id", "recipient"),
];

/// Seals the values of [`SEALED_COLUMNS`] stored in clear before sealing existed (run at
/// start-up; idempotent). Each row is claimed by its clear value, so two processes starting
/// together seal it once; returns how many values this run sealed, and audits them.
pub async fn seal_clear_columns(db: &Db) -> StoreResult<u64> {
    let vault = db.vault()?.clone();
    let mut changes = Vec::new();
    for (table, key, column) in SEALED_COLUMNS {
        let rows = query(format!(
            "SELECT {key} AS k, {column} AS v FROM {table} \
             WHERE {column} IS NOT NULL AND {column} <> '' AND {column} NOT LIKE 'sm4gcm:%'"
        ))
        .read_all(db)
        .await?;
        for r in rows {
            let (k, clear): (String, String) = (r.try_get("k")?, r.try_get("v")?);
            let sealed = vault.seal(&clear, &format!("{table}.{column}"));
            changes.push((table, key, column, k, clear, sealed));
        }
    }
    if changes.is_empty() {
        return Ok(0);
    }
    let now = db.now_text();
    db.write(move |conn| {
        let mut sealed = 0u64;
        for (table, key, column, k, clear, value) in &changes {
            sealed += query(format!("UPDATE {table} SET {column} = $1 WHERE {key} = $2 AND {column} = $3"))
                .bind(value)
                .bind(k)
                .bind(clear)
                .execute(&mut *conn)?
                .rows_affected();
        }
        if sealed > 0 {
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    "system",
                    "system",
                    "platform.personal_data_sealed",
                    "complaints, assistance_requests, outbox",
                    format!("sealed {sealed} phone numbers and addresses stored in clear"),
                ),
            )?;
        }
        Ok(sealed)
    })
    .await
}

/// Whether a stored value is sealed.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_column_and_with_their_key() {
        let vault = Vault::from_secret("a platform secret of at least 32 characters");
        let sealed = vault.seal("13800138001", "users.phone");
        assert!(is_sealed(&sealed) && !sealed.contains("13800138001"));
        assert_ne!(sealed, vault.seal("13800138001", "users.phone"), "a fresh nonce every time");
        assert_eq!(vault.open(&sealed, "users.phone").unwrap(), "13800138001");
        assert!(vault.open(&sealed, "users.id_number").is_err(), "bound to its column");
        let other = Vault::from_secret("another platform secret, also 32 characters");
        assert!(other.open(&sealed, "users.phone").is_err());
        // Rows from before sealing stay readable.
        assert_eq!(vault.open("13800138001", "users.phone").unwrap(), "13800138001");
    }

    #[test]
    fn digests_are_stable_keyed_and_separated_by_kind() {
        let vault = Vault::from_secret("a platform secret of at least 32 characters");
        let d = vault.digest("phone", "13800138001");
        assert_eq!(d, vault.digest("phone", "13800138001"));
        assert_ne!(d, vault.digest("id_number", "13800138001"));
        assert_ne!(
            d,
            Vault::from_secret("another platform secret, also 32 characters").digest("phone", "13800138001")
        );
        assert_eq!(vault.person_login("13800138001"), format!("p:{d}"));
        assert_eq!(d.len(), 64);
    }
}
