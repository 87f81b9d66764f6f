//! Electronic seals (电子印章) on documents: an unlocked seal signs the RFC 8785 canonical form of a
//! document with both of its keys (SM2/SM3 and Ed25519); verification detects any change.
//!
//! The signed bytes are `JCS(document)` where the document's `seal` member is the seal block
//! *without* its `signatures`; so the seal id, the seal time and every other member are covered.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::domain::{Urls, rfc3339};
use super::proof::{self, PublicKey, SigningKey, Suite};

/// A department's active seal with its private keys unwrapped (kept in memory only).
#[derive(Debug)]
pub struct ActiveSeal {
    pub id: String,
    pub department: String,
    pub department_name: String,
    pub name: String,
    pub serial: String,
    pub ed25519: SigningKey,
    pub sm2: SigningKey,
}

impl ActiveSeal {
    /// `(verification method, key)` pairs for credential proofs, Ed25519 first.
    pub fn proof_keys(&self, urls: &Urls) -> Vec<(String, &SigningKey)> {
        vec![
            (urls.verification_method(&self.department, &self.id, Suite::EddsaJcs2022), &self.ed25519),
            (urls.verification_method(&self.department, &self.id, Suite::Sm2Jcs2026), &self.sm2),
        ]
    }

    /// The seal block for `document` (whose own `seal` member, if any, is replaced).
    pub fn seal(&self, document: &Value, at: DateTime<Utc>) -> Value {
        let mut block = json!({
            "seal_id": self.id,
            "department": self.department,
            "department_name": self.department_name,
            "name": self.name,
            "serial": self.serial,
            "image": format!("/seals/{}.svg", self.id),
            "sealed_at": rfc3339(at),
            "canonicalization": "RFC 8785 (JCS)",
        });
        let message = signed_bytes(document, &block);
        block["signatures"] = json!([
            {"algorithm": "SM2-with-SM3", "user_id": proof::SM2_USER_ID,
             "value": multibase(&self.sm2.sign(&message))},
            {"algorithm": "Ed25519", "value": multibase(&self.ed25519.sign(&message))},
        ]);
        block
    }
}

fn multibase(sig: &[u8]) -> String {
    format!("z{}", bs58::encode(sig).into_string())
}

fn signed_bytes(document: &Value, block_without_signatures: &Value) -> Vec<u8> {
    let mut doc = document.clone();
    if let Some(o) = doc.as_object_mut() {
        o.insert("seal".into(), block_without_signatures.clone());
    }
    proof::canonical(&doc)
}

/// A seal's public side, as a verifier knows it.
#[derive(Clone, Debug)]
pub struct SealKeys {
    pub id: String,
    pub department: String,
    pub ed25519: PublicKey,
    pub sm2: PublicKey,
    pub revoked: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SealFailure {
    /// No seal block, or it is not well formed.
    Unsealed,
    /// The seal id is not one of ours.
    UnknownSeal,
    /// The seal's keys were revoked.
    SealRevoked,
    /// A signature does not match: the document or the seal block was changed.
    Altered,
}

impl SealFailure {
    pub fn messages(self) -> (&'static str, &'static str) {
        match self {
            SealFailure::Unsealed => {
                ("文书未加盖电子印章，或印章信息不完整", "The document carries no complete seal")
            }
            SealFailure::UnknownSeal => ("印章未在本平台登记", "The seal is not registered on this platform"),
            SealFailure::SealRevoked => ("印章已被吊销", "The seal has been revoked"),
            SealFailure::Altered => (
                "印章签名与文书内容不符：文书在盖章后被改动",
                "The seal's signatures do not match: the document was changed after sealing",
            ),
        }
    }
}

/// The seal id a document claims, for looking up its keys.
pub fn claimed_seal(document: &Value) -> Option<&str> {
    document.get("seal")?.get("seal_id")?.as_str()
}

/// Verifies a sealed document with the claimed seal's public keys. Both signatures must match.
pub fn verify(document: &Value, keys: Option<&SealKeys>) -> Result<(), SealFailure> {
    let block = document.get("seal").filter(|b| b.is_object()).ok_or(SealFailure::Unsealed)?;
    let claimed = block.get("seal_id").and_then(Value::as_str).ok_or(SealFailure::Unsealed)?;
    let sigs = block.get("signatures").and_then(Value::as_array).ok_or(SealFailure::Unsealed)?;
    let keys = keys.filter(|k| k.id == claimed).ok_or(SealFailure::UnknownSeal)?;
    if keys.revoked {
        return Err(SealFailure::SealRevoked);
    }
    let mut without = block.clone();
    if let Some(o) = without.as_object_mut() {
        o.remove("signatures");
    }
    let message = signed_bytes(document, &without);
    let mut checked = 0;
    for s in sigs {
        let alg = s.get("algorithm").and_then(Value::as_str);
        let key = match alg {
            Some("SM2-with-SM3") => &keys.sm2,
            Some("Ed25519") => &keys.ed25519,
            _ => return Err(SealFailure::Unsealed),
        };
        let sig = s
            .get("value")
            .and_then(Value::as_str)
            .and_then(|v| v.strip_prefix('z'))
            .and_then(|v| bs58::decode(v).into_vec().ok())
            .ok_or(SealFailure::Unsealed)?;
        key.verify(&message, &sig).map_err(|_| SealFailure::Altered)?;
        checked += 1;
    }
    if checked < 2 { Err(SealFailure::Unsealed) } else { Ok(()) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn seal() -> ActiveSeal {
        ActiveSeal {
            id: "JN-SPJ-2026-01".into(),
            department: "JN-SPJ".into(),
            department_name: "济南市行政审批服务局".into(),
            name: "行政审批专用章".into(),
            serial: "3701000001".into(),
            ed25519: SigningKey::generate(Suite::EddsaJcs2022),
            sm2: SigningKey::generate(Suite::Sm2Jcs2026),
        }
    }

    fn keys(s: &ActiveSeal) -> SealKeys {
        SealKeys {
            id: s.id.clone(),
            department: s.department.clone(),
            ed25519: s.ed25519.public_key(),
            sm2: s.sm2.public_key(),
            revoked: false,
        }
    }

    #[test]
    fn a_sealed_decision_verifies_and_any_change_is_detected() {
        let s = seal();
        let mut doc =
            json!({"title_zh": "准予行政许可决定书", "case_number": "JN20261129000001", "seal": null});
        doc["seal"] = s.seal(&doc, crate::platform::clock::test_instant());
        assert_eq!(verify(&doc, Some(&keys(&s))), Ok(()));
        let mut changed = doc.clone();
        changed["case_number"] = json!("JN20261129000002");
        assert_eq!(verify(&changed, Some(&keys(&s))), Err(SealFailure::Altered));
        let mut moved = doc.clone();
        moved["seal"]["sealed_at"] = json!("2020-01-01T00:00:00Z");
        assert_eq!(verify(&moved, Some(&keys(&s))), Err(SealFailure::Altered));
        // Another seal's keys under this seal's name.
        let other = seal();
        assert_eq!(verify(&doc, Some(&keys(&other))), Err(SealFailure::Altered));
        let mut revoked = keys(&s);
        revoked.revoked = true;
        assert_eq!(verify(&doc, Some(&revoked)), Err(SealFailure::SealRevoked));
        assert_eq!(verify(&doc, None), Err(SealFailure::UnknownSeal));
        // Dropping one signature is not enough to pass.
        let mut one = doc.clone();
        one["seal"]["signatures"].as_array_mut().unwrap().pop();
        assert_eq!(verify(&one, Some(&keys(&s))), Err(SealFailure::Unsealed));
        assert_eq!(verify(&json!({"seal": null}), Some(&keys(&s))), Err(SealFailure::Unsealed));
        assert_eq!(claimed_seal(&doc), Some("JN-SPJ-2026-01"));
    }
}
