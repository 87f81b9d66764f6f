//! Data Integrity proofs over JSON canonicalised with RFC 8785 (JCS), and the keys that make them.
//!
//! Two cryptosuites:
//! - `eddsa-jcs-2022`: exactly the W3C *Data Integrity EdDSA Cryptosuites v1.0* algorithm
//!   (§3.3): `hashData = SHA-256(JCS(proofConfig)) ‖ SHA-256(JCS(document))`, signed with pure
//!   Ed25519, `proofValue = "z" + base58btc(signature)`. The published test vector verifies
//!   (see the tests).
//! - `quanban-sm2-jcs-2026`: **ours, not a W3C suite**, for deployments that must use the national
//!   algorithms. It mirrors `eddsa-jcs-2022` step for step with SM3 (GB/T 32905) in place of SHA-256
//!   and an SM2 signature (GB/T 32918.2, user ID `1234567812345678` as in GM/T 0009) in place of
//!   Ed25519: `hashData = SM3(JCS(proofConfig)) ‖ SM3(JCS(document))`; the SM2 signature `r ‖ s`
//!   (64 bytes) over `hashData` is written `"z" + base58btc(r ‖ s)`.
//!
//! Public keys are Multikey strings: `z` + base58btc(multicodec prefix ‖ key), with `ed25519-pub`
//! (0xed 0x01) and `sm2-pub` (0x1206, varint 0x86 0x24) over the compressed SEC1 point.

use ed25519_dalek::Signer as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use sm2::dsa::signature::{Signer as _, Verifier as _};
use sm2::elliptic_curve::sec1::ToSec1Point as _;
use sm3::Sm3;

/// The SM2 distinguishing identifier every Quanban SM2 signature uses (GM/T 0009-2012 §10 default).
pub const SM2_USER_ID: &str = "1234567812345678";

const ED25519_PUB: [u8; 2] = [0xed, 0x01];
const SM2_PUB: [u8; 2] = [0x86, 0x24];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Suite {
    EddsaJcs2022,
    Sm2Jcs2026,
}

impl Suite {
    pub const ALL: [Suite; 2] = [Suite::EddsaJcs2022, Suite::Sm2Jcs2026];

    pub fn name(self) -> &'static str {
        match self {
            Suite::EddsaJcs2022 => "eddsa-jcs-2022",
            Suite::Sm2Jcs2026 => "quanban-sm2-jcs-2026",
        }
    }

    pub fn parse(s: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|x| x.name() == s)
    }

    /// The algorithm label used in key documents and on pages.
    pub fn algorithm(self) -> &'static str {
        match self {
            Suite::EddsaJcs2022 => "Ed25519",
            Suite::Sm2Jcs2026 => "SM2",
        }
    }
}

/// Why a proof does not verify. The caller decides what to tell the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the proof is not a JSON object with type DataIntegrityProof")]
    Malformed,
    #[error("unknown cryptosuite {0:?}")]
    UnknownCryptosuite(String),
    #[error("the proof's @context does not match the document's")]
    ContextMismatch,
    #[error("the proofValue is not a multibase base58btc signature")]
    BadProofValue,
    #[error("the public key is not a valid {0} Multikey")]
    BadKey(&'static str),
    #[error("the signature does not match the document")]
    Mismatch,
}

/// A private signing key of one suite.
#[derive(Clone)]
pub enum SigningKey {
    Ed25519(Box<ed25519_dalek::SigningKey>),
    Sm2(Box<sm2::dsa::SigningKey>),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        write!(f, "SigningKey({})", self.suite().algorithm())
    }
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate(suite: Suite) -> SigningKey {
        loop {
            let seed: [u8; 32] = rand::random();
            if let Ok(k) = SigningKey::from_secret(suite, &seed) {
                return k;
            }
            // SM2: the (astronomically rare) out-of-range scalar; draw again.
        }
    }

    /// From the 32 secret bytes (`secret_bytes` gives them back).
    pub fn from_secret(suite: Suite, bytes: &[u8]) -> Result<SigningKey, ProofError> {
        match suite {
            Suite::EddsaJcs2022 => {
                let seed: [u8; 32] = bytes.try_into().map_err(|_| ProofError::BadKey("Ed25519"))?;
                Ok(SigningKey::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(&seed))))
            }
            Suite::Sm2Jcs2026 => sm2::dsa::SigningKey::from_slice(SM2_USER_ID, bytes)
                .map(|k| SigningKey::Sm2(Box::new(k)))
                .map_err(|_| ProofError::BadKey("SM2")),
        }
    }

    pub fn secret_bytes(&self) -> Vec<u8> {
        match self {
            SigningKey::Ed25519(k) => k.to_bytes().to_vec(),
            SigningKey::Sm2(k) => k.to_bytes().to_vec(),
        }
    }

    pub fn suite(&self) -> Suite {
        match self {
            SigningKey::Ed25519(_) => Suite::EddsaJcs2022,
            SigningKey::Sm2(_) => Suite::Sm2Jcs2026,
        }
    }

    pub fn public_key(&self) -> PublicKey {
        match self {
            SigningKey::Ed25519(k) => PublicKey::Ed25519(Box::new(k.verifying_key())),
            SigningKey::Sm2(k) => PublicKey::Sm2(Box::new(k.verifying_key().clone())),
        }
    }

    /// The raw signature over `message` (64 bytes for both suites).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            SigningKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            SigningKey::Sm2(k) => {
                let sig: sm2::dsa::Signature = k.sign(message);
                sig.to_bytes().to_vec()
            }
        }
    }
}

/// A public verification key of one suite.
#[derive(Clone, Debug)]
pub enum PublicKey {
    Ed25519(Box<ed25519_dalek::VerifyingKey>),
    Sm2(Box<sm2::dsa::VerifyingKey>),
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.to_multibase() == other.to_multibase()
    }
}

impl PublicKey {
    pub fn suite(&self) -> Suite {
        match self {
            PublicKey::Ed25519(_) => Suite::EddsaJcs2022,
            PublicKey::Sm2(_) => Suite::Sm2Jcs2026,
        }
    }

    /// `publicKeyMultibase` for a Multikey verification method.
    pub fn to_multibase(&self) -> String {
        let mut bytes = Vec::with_capacity(35);
        match self {
            PublicKey::Ed25519(k) => {
                bytes.extend_from_slice(&ED25519_PUB);
                bytes.extend_from_slice(k.as_bytes());
            }
            PublicKey::Sm2(k) => {
                bytes.extend_from_slice(&SM2_PUB);
                bytes.extend_from_slice(k.as_affine().to_sec1_point(true).as_bytes());
            }
        }
        format!("z{}", bs58::encode(bytes).into_string())
    }

    pub fn from_multibase(s: &str) -> Result<PublicKey, ProofError> {
        let bytes = s
            .strip_prefix('z')
            .and_then(|b| bs58::decode(b).into_vec().ok())
            .ok_or(ProofError::BadKey("Multikey"))?;
        match bytes.get(..2) {
            Some(p) if p == ED25519_PUB => {
                let raw: [u8; 32] = bytes[2..].try_into().map_err(|_| ProofError::BadKey("Ed25519"))?;
                ed25519_dalek::VerifyingKey::from_bytes(&raw)
                    .map(|k| PublicKey::Ed25519(Box::new(k)))
                    .map_err(|_| ProofError::BadKey("Ed25519"))
            }
            Some(p) if p == SM2_PUB => sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_USER_ID, &bytes[2..])
                .map(|k| PublicKey::Sm2(Box::new(k)))
                .map_err(|_| ProofError::BadKey("SM2")),
            _ => Err(ProofError::BadKey("Multikey")),
        }
    }

    /// Checks a raw signature made by `SigningKey::sign`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), ProofError> {
        match self {
            PublicKey::Ed25519(k) => {
                let sig =
                    ed25519_dalek::Signature::from_slice(signature).map_err(|_| ProofError::BadProofValue)?;
                // verify_strict: rejects small-order keys and non-canonical signatures.
                k.verify_strict(message, &sig).map_err(|_| ProofError::Mismatch)
            }
            PublicKey::Sm2(k) => {
                let sig =
                    sm2::dsa::Signature::from_slice(signature).map_err(|_| ProofError::BadProofValue)?;
                k.verify(message, &sig).map_err(|_| ProofError::Mismatch)
            }
        }
    }
}

/// RFC 8785 canonical bytes of a JSON value.
pub fn canonical(value: &Value) -> Vec<u8> {
    // serde_jcs only fails on non-string map keys, which a serde_json::Value cannot have.
    serde_jcs::to_vec(value).unwrap_or_default()
}

fn digest(suite: Suite, bytes: &[u8]) -> Vec<u8> {
    match suite {
        Suite::EddsaJcs2022 => Sha256::digest(bytes).to_vec(),
        Suite::Sm2Jcs2026 => <Sm3 as sm3::Digest>::digest(bytes).to_vec(),
    }
}

/// `hashData` of the suite: hash(JCS(proof configuration)) ‖ hash(JCS(unsecured document)).
pub fn hash_data(suite: Suite, proof_config: &Value, document: &Value) -> Vec<u8> {
    let mut out = digest(suite, &canonical(proof_config));
    out.extend(digest(suite, &canonical(document)));
    out
}

fn multibase_signature(sig: &[u8]) -> String {
    format!("z{}", bs58::encode(sig).into_string())
}

/// Adds a proof to `document` (which must not carry a `proof` yet; a proof set is made by calling
/// this for each key on the unsecured document and collecting the proofs).
///
/// `options` holds `type`, `cryptosuite`, `created`, `verificationMethod`, `proofPurpose`; as the
/// specification's step 2 advises, the document's `@context` is copied into the proof.
pub fn create_proof(document: &Value, mut options: Value, key: &SigningKey) -> Value {
    if let (Some(ctx), Some(o)) = (document.get("@context"), options.as_object_mut()) {
        o.insert("@context".into(), ctx.clone());
    }
    let data = hash_data(key.suite(), &options, document);
    let sig = key.sign(&data);
    if let Some(o) = options.as_object_mut() {
        o.insert("proofValue".into(), Value::String(multibase_signature(&sig)));
    }
    options
}

/// What a proof claims, read before its key is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofClaims {
    pub suite: Suite,
    pub verification_method: String,
    pub created: Option<String>,
    pub proof_purpose: Option<String>,
}

/// Reads a proof's suite and key reference, checking only its shape.
pub fn claims(proof: &Value) -> Result<ProofClaims, ProofError> {
    let o = proof.as_object().ok_or(ProofError::Malformed)?;
    if o.get("type").and_then(Value::as_str) != Some("DataIntegrityProof") {
        return Err(ProofError::Malformed);
    }
    let cs = o.get("cryptosuite").and_then(Value::as_str).ok_or(ProofError::Malformed)?;
    let suite = Suite::parse(cs).ok_or_else(|| ProofError::UnknownCryptosuite(cs.to_string()))?;
    let vm = o.get("verificationMethod").and_then(Value::as_str).ok_or(ProofError::Malformed)?;
    if o.get("proofValue").and_then(Value::as_str).is_none() {
        return Err(ProofError::Malformed);
    }
    Ok(ProofClaims {
        suite,
        verification_method: vm.to_string(),
        created: o.get("created").and_then(Value::as_str).map(str::to_string),
        proof_purpose: o.get("proofPurpose").and_then(Value::as_str).map(str::to_string),
    })
}

/// Verifies one proof of `unsecured` (the document with its `proof` member removed) with `key`,
/// following the specification's verification algorithm.
pub fn verify_proof(unsecured: &Value, proof: &Value, key: &PublicKey) -> Result<(), ProofError> {
    let c = claims(proof)?;
    if c.suite != key.suite() {
        return Err(ProofError::BadKey(c.suite.algorithm()));
    }
    let mut options = proof.clone();
    let pv = options
        .as_object_mut()
        .and_then(|o| o.remove("proofValue"))
        .and_then(|v| v.as_str().map(str::to_string))
        .ok_or(ProofError::Malformed)?;
    let sig = pv
        .strip_prefix('z')
        .and_then(|b| bs58::decode(b).into_vec().ok())
        .ok_or(ProofError::BadProofValue)?;
    let mut document = unsecured.clone();
    if let Some(pctx) = options.get("@context") {
        // The document's @context must start with the proof's, in order; then the proof's is used.
        let (Some(p), Some(d)) = (pctx.as_array(), document.get("@context").and_then(Value::as_array)) else {
            return Err(ProofError::ContextMismatch);
        };
        if d.len() < p.len() || d[..p.len()] != p[..] {
            return Err(ProofError::ContextMismatch);
        }
        document["@context"] = pctx.clone();
    }
    key.verify(&hash_data(c.suite, &options, &document), &sig)
}

/// The document without its `proof` member, and its proofs (one, or a proof set).
pub fn split_proofs(secured: &Value) -> (Value, Vec<Value>) {
    let mut doc = secured.clone();
    let proofs = match doc.as_object_mut().and_then(|o| o.remove("proof")) {
        Some(Value::Array(a)) => a,
        Some(p) => vec![p],
        None => Vec::new(),
    };
    (doc, proofs)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    // W3C vc-di-eddsa TestVectors (commit abb673eb), see docs/design/licences-crypto.md.
    const VECTOR_PUBLIC: &str = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
    const VECTOR_SECRET: &str = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq";

    fn vector_signed() -> Value {
        json!({
          "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
          "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
          "type": ["VerifiableCredential", "AlumniCredential"],
          "name": "Alumni Credential",
          "description": "A minimum viable example of an Alumni Credential.",
          "issuer": "https://vc.example/issuers/5678",
          "validFrom": "2023-01-01T00:00:00Z",
          "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
          "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": "2023-02-24T23:36:38Z",
            "verificationMethod": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            "proofPurpose": "assertionMethod",
            "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
            "proofValue": "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
          }
        })
    }

    fn vector_secret() -> SigningKey {
        let bytes = bs58::decode(&VECTOR_SECRET[1..]).into_vec().expect("base58");
        assert_eq!(bytes[..2], [0x80, 0x26]);
        SigningKey::from_secret(Suite::EddsaJcs2022, &bytes[2..]).expect("seed")
    }

    #[test]
    fn w3c_eddsa_jcs_2022_vector_verifies() {
        let key = PublicKey::from_multibase(VECTOR_PUBLIC).expect("multikey");
        assert_eq!(vector_secret().public_key(), key);
        let (doc, proofs) = split_proofs(&vector_signed());
        assert_eq!(proofs.len(), 1);
        assert_eq!(verify_proof(&doc, &proofs[0], &key), Ok(()));
        assert_eq!(
            hex::encode(Sha256::digest(canonical(&doc))),
            "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"
        );
    }

    #[test]
    fn w3c_vector_is_reproduced_byte_for_byte() {
        let signed = vector_signed();
        let (doc, proofs) = split_proofs(&signed);
        let mut options = proofs[0].clone();
        let o = options.as_object_mut().expect("object");
        o.remove("proofValue");
        o.remove("@context");
        let proof = create_proof(&doc, options, &vector_secret());
        assert_eq!(proof, signed["proof"]);
    }

    #[test]
    fn altering_the_vector_breaks_it() {
        let key = PublicKey::from_multibase(VECTOR_PUBLIC).expect("multikey");
        let mut signed = vector_signed();
        signed["credentialSubject"]["alumniOf"] = json!("The School of Forgery");
        let (doc, proofs) = split_proofs(&signed);
        assert_eq!(verify_proof(&doc, &proofs[0], &key), Err(ProofError::Mismatch));
        // Dropping the proof's @context changes proofConfig's hash.
        let mut signed = vector_signed();
        signed["proof"].as_object_mut().expect("object").remove("@context");
        let (doc, proofs) = split_proofs(&signed);
        assert_eq!(verify_proof(&doc, &proofs[0], &key), Err(ProofError::Mismatch));
    }

    #[test]
    fn gbt_32918_example_signature_verifies() {
        // GB/T 32918.5-2017 Annex A (also GM/T 0003.5-2012): ID 1234567812345678, M "message digest".
        let pk = hex::decode(
            "0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020\
             CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13",
        )
        .expect("hex");
        let rs = hex::decode(
            "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3\
             B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA",
        )
        .expect("hex");
        let d = hex::decode("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8").expect("hex");
        let key = PublicKey::Sm2(Box::new(
            sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_USER_ID, &pk).expect("point"),
        ));
        assert_eq!(key.verify(b"message digest", &rs), Ok(()));
        assert_eq!(key.verify(b"message digesT", &rs), Err(ProofError::Mismatch));
        // The private key of the example derives the same public key.
        let sk = SigningKey::from_secret(Suite::Sm2Jcs2026, &d).expect("scalar");
        assert_eq!(sk.public_key(), key);
        // Round trip through the Multikey form.
        assert_eq!(PublicKey::from_multibase(&key.to_multibase()).expect("multikey"), key);
    }

    #[test]
    fn both_suites_sign_and_verify_a_chinese_document() {
        let doc =
            json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "名称": "济南泉城小馆", "n": 1});
        for suite in Suite::ALL {
            let key = SigningKey::generate(suite);
            let options = json!({
                "type": "DataIntegrityProof", "cryptosuite": suite.name(),
                "created": "2026-11-29T00:00:00Z", "verificationMethod": "https://x/issuers/A#k1",
                "proofPurpose": "assertionMethod",
            });
            let proof = create_proof(&doc, options, &key);
            assert_eq!(verify_proof(&doc, &proof, &key.public_key()), Ok(()), "{suite:?}");
            let mut changed = doc.clone();
            changed["名称"] = json!("济南泉城大馆");
            assert_eq!(verify_proof(&changed, &proof, &key.public_key()), Err(ProofError::Mismatch));
            let other = SigningKey::generate(suite).public_key();
            assert_eq!(verify_proof(&doc, &proof, &other), Err(ProofError::Mismatch));
            let restored = SigningKey::from_secret(suite, &key.secret_bytes()).expect("restore");
            assert_eq!(restored.public_key(), key.public_key());
        }
    }

    #[test]
    fn unknown_suites_and_garbage_are_refused_not_panicked_on() {
        let key = SigningKey::generate(Suite::EddsaJcs2022).public_key();
        let doc = json!({"a": 1});
        let odd = json!({"type": "DataIntegrityProof", "cryptosuite": "ecdsa-rdfc-2019",
            "verificationMethod": "x", "proofValue": "z1"});
        assert_eq!(
            verify_proof(&doc, &odd, &key),
            Err(ProofError::UnknownCryptosuite("ecdsa-rdfc-2019".into()))
        );
        for bad in [json!(null), json!([]), json!({"type": "Ed25519Signature2020"})] {
            assert_eq!(verify_proof(&doc, &bad, &key), Err(ProofError::Malformed));
        }
        let garbled = json!({"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
            "verificationMethod": "x", "proofValue": "not-base58!"});
        assert_eq!(verify_proof(&doc, &garbled, &key), Err(ProofError::BadProofValue));
        assert!(PublicKey::from_multibase("zzzz").is_err());
        assert!(PublicKey::from_multibase("").is_err());
    }
}
