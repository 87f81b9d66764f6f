//! The hash chain, as pure functions.

use sm3::{Digest, Sm3};

/// The hash that the first entry of every stream links to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a caller records about a change. `summary` must not contain raw personal data (ID
/// numbers, phone numbers): callers pass masked values.
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub stream: String,
    pub actor: String,
    pub action: String,
    pub resource: String,
    pub summary: String,
}

impl NewEntry {
    pub fn new(
        stream: impl Into<String>,
        actor: impl Into<String>,
        action: impl Into<String>,
        resource: impl Into<String>,
        summary: impl Into<String>,
    ) -> NewEntry {
        NewEntry {
            stream: stream.into(),
            actor: actor.into(),
            action: action.into(),
            resource: resource.into(),
            summary: summary.into(),
        }
    }
}

/// A stored entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub stream: String,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub resource: String,
    pub summary: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// SM3 over an unambiguous encoding of every field but the hash itself (a JSON array: no
    /// field boundary can be forged by putting a separator inside a value).
    pub fn computed_hash(&self) -> String {
        let canonical = serde_json::json!([
            self.prev_hash,
            self.stream,
            self.seq,
            self.at,
            self.actor,
            self.action,
            self.resource,
            self.summary
        ]);
        hex::encode(Sm3::digest(canonical.to_string().as_bytes()))
    }
}

/// A checkpoint's hash covers the previous checkpoint and the stream heads it seals, sorted.
pub fn checkpoint_hash(prev_hash: &str, id: i64, at: &str, heads: &[(String, i64, String)]) -> String {
    let canonical = serde_json::json!([prev_hash, id, at, heads]);
    hex::encode(Sm3::digest(canonical.to_string().as_bytes()))
}

/// What a checkpoint's signature covers: its hash under a fixed label (so that the signature
/// cannot be taken for one over anything else the same key might sign).
pub fn signed_message(checkpoint_hash: &str) -> Vec<u8> {
    let mut m = b"quanban audit checkpoint\0".to_vec();
    m.extend_from_slice(checkpoint_hash.as_bytes());
    m
}

/// The platform's audit key: an SM2 key derived from the platform secret (`seal_key`, which in
/// production comes from configuration and is never in the database). Whoever can rewrite the
/// database can recompute hashes, but cannot sign a recomputed checkpoint.
pub fn signing_key(platform_secret: &str) -> crate::licences::proof::SigningKey {
    use crate::licences::proof::{SigningKey, Suite};
    let mut seed: [u8; 32] = Sm3::new_with_prefix(b"quanban audit checkpoint key\0")
        .chain_update(platform_secret)
        .finalize()
        .into();
    loop {
        // An SM2 scalar out of range is astronomically rare; hash again if it happens.
        if let Ok(k) = SigningKey::from_secret(Suite::Sm2Jcs2026, &seed) {
            return k;
        }
        seed = Sm3::digest(seed).into();
    }
}

/// Where verification found the first problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The entry's stored hash does not match its content.
    Altered { stream: String, seq: i64 },
    /// The entry does not link to the one before it (an entry was inserted or deleted).
    Unlinked { stream: String, seq: i64 },
    /// A sequence number is missing or repeated.
    Gap { stream: String, expected: i64, found: i64 },
    /// The stream head disagrees with the last entry (tail cut off or added behind our back).
    Head { stream: String },
    /// A checkpoint was altered or a sealed entry no longer matches.
    Checkpoint { id: i64 },
    /// A checkpoint carries no signature by any of the keys given, or a wrong one: the log was
    /// rewritten (and its hashes recomputed) by someone without the platform's audit key.
    Signature { id: i64 },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Altered { stream, seq } => {
                write!(f, "entry {stream}#{seq} was altered (hash does not match its content)")
            }
            Break::Unlinked { stream, seq } => {
                write!(f, "entry {stream}#{seq} does not link to the entry before it")
            }
            Break::Gap { stream, expected, found } => {
                write!(f, "stream {stream}: expected entry #{expected}, found #{found}")
            }
            Break::Head { stream } => {
                write!(f, "stream {stream}: last entry does not match the recorded head")
            }
            Break::Checkpoint { id } => write!(f, "checkpoint {id} does not match the log"),
            Break::Signature { id } => {
                write!(f, "checkpoint {id} is not signed by the platform's audit key (the log was rewritten)")
            }
        }
    }
}

/// Checks one stream's entries (sorted by seq) and returns the first break.
pub fn verify_stream(entries: &[Entry]) -> Result<(), Break> {
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        let expected = i as i64 + 1;
        if e.seq != expected {
            return Err(Break::Gap { stream: e.stream.clone(), expected, found: e.seq });
        }
        if e.prev_hash != prev {
            return Err(Break::Unlinked { stream: e.stream.clone(), seq: e.seq });
        }
        if e.computed_hash() != e.hash {
            return Err(Break::Altered { stream: e.stream.clone(), seq: e.seq });
        }
        prev = e.hash.clone();
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map(|e| e.hash.clone()).unwrap_or_else(|| GENESIS.to_string());
            let mut e = Entry {
                stream: "user:1".into(),
                seq,
                at: format!("2026-01-01T00:00:0{seq}.000Z"),
                actor: "user:1".into(),
                action: "test".into(),
                resource: "user:1".into(),
                summary: format!("step {seq}"),
                prev_hash: prev,
                hash: String::new(),
            };
            e.hash = e.computed_hash();
            out.push(e);
        }
        out
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify_stream(&chain(5)), Ok(()));
    }

    #[test]
    fn altered_summary_is_found() {
        let mut c = chain(5);
        c[2].summary = "forged".into();
        assert_eq!(verify_stream(&c), Err(Break::Altered { stream: "user:1".into(), seq: 3 }));
    }

    #[test]
    fn deleted_entry_is_found() {
        let mut c = chain(5);
        c.remove(1);
        assert!(matches!(verify_stream(&c), Err(Break::Gap { expected: 2, found: 3, .. })));
    }

    #[test]
    fn recomputed_forgery_breaks_the_link() {
        let mut c = chain(5);
        c[2].summary = "forged".into();
        c[2].hash = c[2].computed_hash();
        assert_eq!(verify_stream(&c), Err(Break::Unlinked { stream: "user:1".into(), seq: 4 }));
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        let mut a = chain(1).remove(0);
        let mut b = a.clone();
        a.actor = "ab".into();
        a.action = "c".into();
        b.actor = "a".into();
        b.action = "bc".into();
        assert_ne!(a.computed_hash(), b.computed_hash());
    }
}
