//! E-licence rules that need no storage: licence types and what items produce them, the
//! national-style identifier, the Bitstring Status List encoding, the credential's JSON shape and
//! the verification procedure (given the keys and statuses it refers to). Pure and tested.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::sync::OnceLock;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::proof::{self, ProofError, PublicKey, Suite};
use crate::reference::data::ElicenceType;

/// The W3C Verifiable Credentials 2.0 base context. It defines the data model's terms only (no
/// `@vocab`): our own terms are declared by [`context_document`], listed after it.
pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// Contexts a credential may list besides the issuer platform's own ([`Urls::context`]); anything
/// else is an unknown context.
pub const KNOWN_CONTEXTS: &[&str] = &[
    VC_V2_CONTEXT,
    "https://www.w3.org/ns/credentials/examples/v2",
    "https://www.w3.org/ns/credentials/undefined-terms/v2",
];
/// The W3C Controlled Identifiers 1.0 context, first in an issuer's key document.
pub const CID_V1_CONTEXT: &str = "https://www.w3.org/ns/cid/v1";
/// Where, below the public URL, the platform publishes its JSON-LD context. Versioned: a
/// published version never changes meaning, because signed credentials refer to it.
pub const CONTEXT_PATH: &str = "/credentials/context/v1";
/// Status lists have at least 131,072 entries (16 KiB) so that one index says little about the
/// holder (the specification's herd-privacy minimum).
pub const STATUS_LIST_BITS: usize = 131_072;
/// Prefix of every national e-licence identifier (证照标识).
pub const IDENTIFIER_ROOT: &str = "1.2.156.3005.2";

// ---------------------------------------------------------------------------------------------
// Types and outputs
// ---------------------------------------------------------------------------------------------

fn shipped_types() -> &'static [ElicenceType] {
    static TYPES: OnceLock<Vec<ElicenceType>> = OnceLock::new();
    TYPES.get_or_init(|| {
        serde_json::from_str(include_str!("../../../../reference/elicence_types.json")).unwrap_or_default()
    })
}

/// Every e-licence type the platform knows (the reference data).
pub fn types() -> &'static [ElicenceType] {
    shipped_types()
}

pub fn find_type(code: &str) -> Option<&'static ElicenceType> {
    types().iter().find(|t| t.code == code)
}

/// The platform's JSON-LD context (served at [`CONTEXT_PATH`]): every term our credentials and
/// issuer documents use that the W3C contexts listed before it do not define, so that a JSON-LD
/// processor in safe mode (as Data Integrity verifiers run it) drops nothing and rejects nothing.
/// Terms are IRIs under the context's own URL; `name` and `cryptosuite` repeat the W3C
/// definitions exactly (redefining a protected term identically is allowed), so that issuer
/// documents, which start from the CID context, have them too.
pub fn context_document(base: &str) -> Value {
    let vocab = format!("{base}{CONTEXT_PATH}#");
    // Not `@protected`: the W3C contexts' type-scoped definitions (a proof's `cryptosuite`, say)
    // must stay free to apply inside their nodes.
    let mut terms = serde_json::Map::new();
    let term = |name: &str| Value::String(format!("{vocab}{name}"));
    // Credential level.
    // A person's ID number digest: `idNumberDigest {algorithm, salt, digestHex}`.
    for t in ["licenceType", "identifier", "holderName", "holderType", "idNumberDigest", "salt", "digestHex"]
    {
        terms.insert(t.into(), term(t));
    }
    terms.insert("name".into(), Value::String("https://schema.org/name".into()));
    // Issuer documents: the issuing department and, on each key, its algorithm, suite and seal.
    terms.insert("department".into(), term("department"));
    terms.insert("algorithm".into(), term("algorithm"));
    terms.insert(
        "cryptosuite".into(),
        json!({"@id": "https://w3id.org/security#cryptosuite", "@type": "https://w3id.org/security#cryptosuiteString"}),
    );
    terms.insert("seal".into(), term("seal"));
    terms.insert("sealStatus".into(), term("sealStatus"));
    // Every licence type and every subject field of the reference data.
    for t in types() {
        let ty = vc_type(&t.code);
        terms.insert(ty.clone(), term(&ty));
        for f in &t.fields {
            terms.entry(f.name.clone()).or_insert_with(|| term(&f.name));
        }
    }
    json!({ "@context": Value::Object(terms) })
}

/// Whether a credential may list `context`: a W3C context we know, or the context a Quanban
/// platform publishes (any host, at [`CONTEXT_PATH`]: a partner city's credentials list their
/// own). Which issuers are trusted is decided by the issuer check, not here; and our verifier
/// signs and checks the JSON itself (JCS), so a context cannot change what it verifies.
pub fn context_allowed(context: &str) -> bool {
    KNOWN_CONTEXTS.contains(&context)
        || ["https://", "http://"].iter().any(|scheme| {
            context.strip_prefix(scheme).and_then(|rest| rest.split_once('/')).is_some_and(|(host, path)| {
                !host.is_empty() && !host.contains(['@', '?', '#']) && format!("/{path}") == CONTEXT_PATH
            })
        })
}

/// The English name of a type (the reference data carries Chinese only).
pub fn type_name_en(code: &str) -> String {
    let words: Vec<String> = code
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
        })
        .collect();
    words.join(" ")
}

/// The VC `type` term for a licence type: `business_licence` → `BusinessLicenceCredential`.
pub fn vc_type(code: &str) -> String {
    format!("{}Credential", type_name_en(code).replace(' ', ""))
}

#[derive(Deserialize)]
struct OutputsFile {
    outputs: HashMap<String, String>,
}

/// The e-licence type that an approved case for `item_code` produces, if any.
pub fn output_for_item(item_code: &str) -> Option<&'static str> {
    static OUTPUTS: OnceLock<HashMap<String, String>> = OnceLock::new();
    OUTPUTS
        .get_or_init(|| {
            serde_json::from_str::<OutputsFile>(include_str!("../../../../reference/licence_outputs.json"))
                .map(|f| f.outputs)
                .unwrap_or_default()
        })
        .get(item_code)
        .map(String::as_str)
}

// ---------------------------------------------------------------------------------------------
// Identifier (证照标识)
// ---------------------------------------------------------------------------------------------

/// A synthetic but valid (GB 32100 check character) unified social credit code for a
/// government department: `11` (机关) + `370100` (Jinan) + nine characters derived from the
/// department code. The reference data has no real codes.
pub fn department_credit_code(department: &str) -> String {
    let digest = <sm3::Sm3 as sm3::Digest>::digest(department.as_bytes());
    let body: String = digest.iter().take(9).map(|b| char::from(b'0' + b % 10)).collect();
    let first17 = format!("11370100{body}");
    let check = crate::identity::domain::credit_code_check_char(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// The numeric code of a licence type inside the identifier: three digits after the city
/// prefix, by the type's position in the reference list.
pub fn type_number(code: &str) -> Option<String> {
    types().iter().position(|t| t.code == code).map(|i| format!("11370100{:03}", i + 1))
}

fn mod37_36_value(c: char) -> Option<u32> {
    c.to_digit(36)
}

/// ISO/IEC 7064 MOD 37,36 check character over the identifier's letters and digits (the dots are
/// separators and do not count).
pub fn identifier_check(body: &str) -> Option<char> {
    let mut p = 36u32;
    for c in body.chars().filter(|c| *c != '.') {
        let v = mod37_36_value(c.to_ascii_uppercase())?;
        let mut s = (p + v) % 36;
        if s == 0 {
            s = 36;
        }
        p = (2 * s) % 37;
    }
    let check = (37 - p) % 36;
    char::from_digit(check, 36).map(|c| c.to_ascii_uppercase())
}

/// `1.2.156.3005.2.<type>.<issuer credit code>.<serial>.<version>.<check>`.
pub fn identifier(type_code: &str, issuer_department: &str, serial: u64, version: u32) -> Option<String> {
    let body = format!(
        "{IDENTIFIER_ROOT}.{}.{}.{serial:08}.{version:03}",
        type_number(type_code)?,
        department_credit_code(issuer_department)
    );
    let check = identifier_check(&body)?;
    Some(format!("{body}.{check}"))
}

/// Whether an identifier has the national shape and a correct check character.
pub fn identifier_is_valid(id: &str) -> bool {
    let Some((body, check)) = id.rsplit_once('.') else { return false };
    body.starts_with(IDENTIFIER_ROOT)
        && body.split('.').count() == 9
        && check.len() == 1
        && identifier_check(body).map(|c| c.to_string()) == Some(check.to_string())
}

// ---------------------------------------------------------------------------------------------
// Bitstring Status List (W3C)
// ---------------------------------------------------------------------------------------------

/// Where a credential sits in its issuer's status lists: its issue sequence number put through a
/// keyed permutation of each block of [`STATUS_LIST_BITS`] positions, so that positions are
/// spread over the list in an order only the platform knows (the Bitstring Status List's herd
/// privacy: a position says nothing about when, or after whom, a credential was issued) and two
/// credentials never share one. `key` is secret (derived from the platform secret).
pub fn status_position(key: &[u8; 32], issuer: &str, sequence: u64) -> u64 {
    use sm3::Digest;
    const HALF: u32 = 9; // a balanced Feistel network on 18 bits, walked until inside 17 bits
    const MASK: u64 = (1 << HALF) - 1;
    let block = STATUS_LIST_BITS as u64;
    let round_keys: [u64; 4] = {
        let d = sm3::Sm3::new().chain_update(key).chain_update(issuer.as_bytes()).finalize();
        std::array::from_fn(|r| u64::from_le_bytes(d[r * 8..r * 8 + 8].try_into().unwrap_or_default()))
    };
    let round = |k: u64, x: u64| -> u64 {
        let mut h = (x ^ k).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h ^= h >> 29;
        h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        (h ^ (h >> 32)) & MASK
    };
    let permute = |x: u64| -> u64 {
        let (mut left, mut right) = (x >> HALF, x & MASK);
        for k in round_keys {
            (left, right) = (right, left ^ round(k, right));
        }
        (left << HALF) | right
    };
    let mut x = sequence % block;
    loop {
        x = permute(x);
        if x < block {
            return sequence / block * block + x;
        }
    }
}

/// `encodedList`: multibase base64url (no padding) of the GZIP-compressed bitstring, where index
/// 0 is the most significant bit of the first byte.
pub fn encode_status_list(set: impl IntoIterator<Item = usize>, bits: usize) -> String {
    let mut bytes = vec![0u8; bits.div_ceil(8)];
    for i in set {
        if let Some(b) = bytes.get_mut(i / 8) {
            *b |= 0x80 >> (i % 8);
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = gz.write_all(&bytes);
    let compressed = gz.finish().unwrap_or_default();
    format!("u{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(compressed))
}

/// The bitstring of an `encodedList`, or `None` if it is not one.
pub fn decode_status_list(encoded: &str) -> Option<Vec<u8>> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded.strip_prefix('u')?).ok()?;
    let mut out = Vec::new();
    // A 16 KiB list compresses to a few hundred bytes; cap what a hostile list may expand to.
    flate2::read::GzDecoder::new(&raw[..]).take(16 * 1024 * 1024).read_to_end(&mut out).ok()?;
    Some(out)
}

pub fn status_bit(bitstring: &[u8], index: usize) -> Option<bool> {
    bitstring.get(index / 8).map(|b| b & (0x80 >> (index % 8)) != 0)
}

// ---------------------------------------------------------------------------------------------
// Credential shape
// ---------------------------------------------------------------------------------------------

/// Where an issuer publishes things, below the platform's public URL.
#[derive(Clone, Debug)]
pub struct Urls {
    pub base: String,
}

impl Urls {
    /// The platform's JSON-LD context, listed in every credential after the VC 2.0 context.
    pub fn context(&self) -> String {
        format!("{}{CONTEXT_PATH}", self.base)
    }
    pub fn issuer(&self, department: &str) -> String {
        format!("{}/credentials/issuers/{department}", self.base)
    }
    pub fn status_list(&self, department: &str, purpose: &str) -> String {
        format!("{}/credentials/status/{department}/{purpose}", self.base)
    }
    pub fn verification_method(&self, department: &str, seal_id: &str, suite: Suite) -> String {
        let alg = match suite {
            Suite::EddsaJcs2022 => "ed25519",
            Suite::Sm2Jcs2026 => "sm2",
        };
        format!("{}#{seal_id}-{alg}", self.issuer(department))
    }
    pub fn verify_page(&self, credential_id: &str) -> String {
        format!("{}/verify?credential={credential_id}", self.base)
    }
}

/// The department code in an issuer URL of ours (`…/credentials/issuers/<code>`), whatever host
/// it was issued under.
pub fn issuer_department(issuer_id: &str) -> Option<&str> {
    let (_, code) = issuer_id.rsplit_once("/credentials/issuers/")?;
    (!code.is_empty() && !code.contains(['/', '#', '?'])).then_some(code)
}

/// Everything needed to write an unsigned credential.
#[derive(Clone, Debug)]
pub struct CredentialDraft {
    pub id: String,
    pub identifier: String,
    pub type_code: String,
    pub issuer_department: String,
    pub issuer_name: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    /// `credentialSubject` without its `id`.
    pub subject: Value,
    pub holder_id: String,
    pub status_index: u64,
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The unsigned Verifiable Credential 2.0 document.
pub fn unsigned_credential(d: &CredentialDraft, urls: &Urls) -> Value {
    let t = find_type(&d.type_code);
    let mut subject = d.subject.clone();
    if let Some(o) = subject.as_object_mut() {
        o.insert("id".into(), Value::String(d.holder_id.clone()));
    }
    let status = |purpose: &str| {
        let list = urls.status_list(&d.issuer_department, purpose);
        json!({
            "id": format!("{list}#{}", d.status_index),
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": d.status_index.to_string(),
            "statusListCredential": list,
        })
    };
    let mut vc = json!({
        "@context": [VC_V2_CONTEXT, urls.context()],
        "id": d.id,
        "type": ["VerifiableCredential", vc_type(&d.type_code)],
        "name": t.map(|t| t.name.clone()).unwrap_or_else(|| d.type_code.clone()),
        "description": format!("{} / {}", t.map(|t| t.name.as_str()).unwrap_or(""), type_name_en(&d.type_code)),
        "identifier": d.identifier,
        "licenceType": d.type_code,
        "issuer": {"id": urls.issuer(&d.issuer_department), "name": d.issuer_name},
        "validFrom": rfc3339(d.valid_from),
        "credentialSubject": subject,
        "credentialStatus": [status("revocation"), status("suspension")],
    });
    if let Some(until) = d.valid_until {
        vc["validUntil"] = Value::String(rfc3339(until));
    }
    vc
}

/// Proof options for one suite (the `proof` without `proofValue`).
pub fn proof_options(vm: &str, suite: Suite, created: DateTime<Utc>) -> Value {
    json!({
        "type": "DataIntegrityProof",
        "cryptosuite": suite.name(),
        "created": rfc3339(created),
        "verificationMethod": vm,
        "proofPurpose": "assertionMethod",
    })
}

/// Signs `unsigned` with each key; one key gives one proof, several a proof set.
pub fn secure(unsigned: &Value, keys: &[(String, &proof::SigningKey)], created: DateTime<Utc>) -> Value {
    let proofs: Vec<Value> = keys
        .iter()
        .map(|(vm, k)| proof::create_proof(unsigned, proof_options(vm, k.suite(), created), k))
        .collect();
    let mut out = unsigned.clone();
    out["proof"] = match proofs.len() {
        1 => proofs.into_iter().next().unwrap_or(Value::Null),
        _ => Value::Array(proofs),
    };
    out
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// The reason a credential is not valid (the first failing check).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    Malformed,
    UnknownContext,
    UnknownCryptosuite,
    UnknownIssuer,
    Signature,
    Altered,
    Revoked,
    Suspended,
    Expired,
    NotYetValid,
}

impl Failure {
    pub fn code(self) -> &'static str {
        match self {
            Failure::Malformed => "malformed",
            Failure::UnknownContext => "unknown_context",
            Failure::UnknownCryptosuite => "unknown_cryptosuite",
            Failure::UnknownIssuer => "unknown_issuer",
            Failure::Signature => "signature",
            Failure::Altered => "altered",
            Failure::Revoked => "revoked",
            Failure::Suspended => "suspended",
            Failure::Expired => "expired",
            Failure::NotYetValid => "not_yet_valid",
        }
    }

    /// The check that failed (several reasons belong to one check).
    pub fn check(self) -> CheckName {
        match self {
            Failure::Malformed | Failure::UnknownContext => CheckName::Format,
            Failure::UnknownCryptosuite | Failure::Signature | Failure::Altered => CheckName::Signature,
            Failure::UnknownIssuer => CheckName::Issuer,
            Failure::Revoked | Failure::Suspended => CheckName::Status,
            Failure::Expired | Failure::NotYetValid => CheckName::Validity,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    Format,
    Issuer,
    Signature,
    Status,
    Validity,
}

impl CheckName {
    pub const ALL: [CheckName; 5] =
        [CheckName::Format, CheckName::Issuer, CheckName::Signature, CheckName::Status, CheckName::Validity];

    pub fn label_zh(self) -> &'static str {
        match self {
            CheckName::Format => "格式",
            CheckName::Issuer => "签发机关",
            CheckName::Signature => "签名",
            CheckName::Status => "状态",
            CheckName::Validity => "有效期",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            CheckName::Format => "Format",
            CheckName::Issuer => "Issuer",
            CheckName::Signature => "Signature",
            CheckName::Status => "Status",
            CheckName::Validity => "Validity",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    /// Not reached because an earlier check failed, or nothing to check (no status entry).
    Skipped,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub check: CheckName,
    pub outcome: Outcome,
    pub message_zh: String,
    pub message_en: String,
}

/// A verification result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub valid: bool,
    /// The first failing check's reason code, `None` when valid.
    pub reason: Option<Failure>,
    pub message_zh: String,
    pub message_en: String,
    pub checks: Vec<Check>,
    pub credential_id: Option<String>,
    pub identifier: Option<String>,
    pub issuer: Option<String>,
    pub licence_type: Option<String>,
    pub suites: Vec<String>,
}

/// A key an issuer publishes.
#[derive(Clone, Debug)]
pub struct KnownKey {
    pub key: PublicKey,
    /// The issuer URL the key belongs to, e.g. `…/credentials/issuers/JN-SPJ`.
    pub issuer_department: String,
    /// Revoked seals no longer vouch for anything.
    pub revoked: bool,
}

/// What verification needs from outside the document: the issuers' keys, the status bits and,
/// where the verifier keeps the issued copy, that copy.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// By verification method id.
    pub keys: HashMap<String, KnownKey>,
    /// Departments the verifier knows as issuers.
    pub issuers: Vec<String>,
    /// `(statusListCredential, index)` → bit set, per purpose, when known.
    pub statuses: HashMap<(String, String, u64), bool>,
    /// The issued document with this `id`, if the verifier has it.
    pub original: Option<Value>,
    pub now: DateTime<Utc>,
}

/// References a verifier must resolve before calling [`verify`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct References {
    pub id: Option<String>,
    pub verification_methods: Vec<String>,
    /// `(purpose, list url, index)`.
    pub statuses: Vec<(String, String, u64)>,
}

pub fn references(doc: &Value) -> References {
    let (_, proofs) = proof::split_proofs(doc);
    let statuses = match doc.get("credentialStatus") {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    };
    References {
        id: doc.get("id").and_then(Value::as_str).map(str::to_string),
        verification_methods: proofs
            .iter()
            .filter_map(|p| p.get("verificationMethod").and_then(Value::as_str).map(str::to_string))
            .collect(),
        statuses: statuses.iter().filter_map(status_entry).collect(),
    }
}

fn status_entry(v: &Value) -> Option<(String, String, u64)> {
    let purpose = v.get("statusPurpose")?.as_str()?.to_string();
    let list = v.get("statusListCredential")?.as_str()?.to_string();
    let index = match v.get("statusListIndex")? {
        Value::String(s) => s.parse().ok()?,
        Value::Number(n) => n.as_u64()?,
        _ => return None,
    };
    Some((purpose, list, index))
}

fn parse_time(v: Option<&Value>) -> Result<Option<DateTime<Utc>>, ()> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) => {
            DateTime::parse_from_rfc3339(s).map(|t| Some(t.with_timezone(&Utc))).map_err(|_| ())
        }
        Some(_) => Err(()),
    }
}

fn failure_message(f: Failure) -> (&'static str, &'static str) {
    match f {
        Failure::Malformed => (
            "不是有效的可验证凭证（缺少必要字段或格式错误）",
            "Not a well-formed verifiable credential (a required member is missing or malformed)",
        ),
        Failure::UnknownContext => {
            ("凭证使用了无法识别的 @context", "The credential uses an unknown @context")
        }
        Failure::UnknownCryptosuite => {
            ("凭证使用了不支持的签名套件", "The credential uses an unsupported cryptosuite")
        }
        Failure::UnknownIssuer => (
            "签发机关未知，或签名密钥不属于该签发机关",
            "Unknown issuer, or the signing key does not belong to the issuer",
        ),
        Failure::Signature => {
            ("签名无效：不是由签发机关的密钥签署", "Invalid signature: not signed by the issuer's key")
        }
        Failure::Altered => ("凭证内容在签发后被篡改", "The credential was altered after it was issued"),
        Failure::Revoked => ("凭证已被签发机关撤销", "The issuer has revoked this credential"),
        Failure::Suspended => ("凭证已被签发机关暂停使用", "The issuer has suspended this credential"),
        Failure::Expired => ("凭证已过有效期", "The credential has expired"),
        Failure::NotYetValid => ("凭证尚未生效", "The credential is not valid yet"),
    }
}

fn passed_message(c: CheckName) -> (&'static str, &'static str) {
    match c {
        CheckName::Format => ("符合 W3C 可验证凭证 2.0 数据模型", "A W3C Verifiable Credential 2.0"),
        CheckName::Issuer => ("签发机关及其公钥已登记", "The issuer and its key are registered"),
        CheckName::Signature => ("全部签名有效，内容未被改动", "Every proof verifies; nothing was changed"),
        CheckName::Status => ("未被撤销或暂停", "Neither revoked nor suspended"),
        CheckName::Validity => ("在有效期内", "Within its validity period"),
    }
}

/// Verifies a secured credential against the evidence. Never panics on hostile input.
pub fn verify(doc: &Value, ev: &Evidence) -> Verdict {
    let result = run_checks(doc, ev);
    let failed = result.err();
    let mut checks = Vec::new();
    let mut reached = true;
    for c in CheckName::ALL {
        let (outcome, zh, en) = match failed {
            Some(f) if f.check() == c => {
                reached = false;
                let (zh, en) = failure_message(f);
                (Outcome::Failed, zh, en)
            }
            _ if !reached => (Outcome::Skipped, "未检查", "Not checked"),
            _ => {
                let (zh, en) = passed_message(c);
                (Outcome::Passed, zh, en)
            }
        };
        checks.push(Check { check: c, outcome, message_zh: zh.into(), message_en: en.into() });
    }
    let (message_zh, message_en) = match failed {
        Some(f) => failure_message(f),
        None => ("凭证真实有效", "The credential is genuine and valid"),
    };
    let (_, proofs) = proof::split_proofs(doc);
    Verdict {
        valid: failed.is_none(),
        reason: failed,
        message_zh: message_zh.into(),
        message_en: message_en.into(),
        checks,
        credential_id: doc.get("id").and_then(Value::as_str).map(str::to_string),
        identifier: doc.get("identifier").and_then(Value::as_str).map(str::to_string),
        issuer: issuer_id(doc).map(str::to_string),
        licence_type: doc.get("licenceType").and_then(Value::as_str).map(str::to_string),
        suites: proofs
            .iter()
            .filter_map(|p| p.get("cryptosuite").and_then(Value::as_str).map(str::to_string))
            .collect(),
    }
}

fn issuer_id(doc: &Value) -> Option<&str> {
    match doc.get("issuer")? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id")?.as_str(),
        _ => None,
    }
}

fn run_checks(doc: &Value, ev: &Evidence) -> Result<(), Failure> {
    // Format.
    let o = doc.as_object().ok_or(Failure::Malformed)?;
    let contexts = o.get("@context").and_then(Value::as_array).ok_or(Failure::Malformed)?;
    if contexts.first().and_then(Value::as_str) != Some(VC_V2_CONTEXT) {
        return Err(Failure::UnknownContext);
    }
    if contexts.iter().any(|c| !c.as_str().is_some_and(context_allowed)) {
        return Err(Failure::UnknownContext);
    }
    let types = o.get("type").and_then(Value::as_array).ok_or(Failure::Malformed)?;
    if !types.iter().any(|t| t == "VerifiableCredential") {
        return Err(Failure::Malformed);
    }
    if !o.get("credentialSubject").is_some_and(Value::is_object) {
        return Err(Failure::Malformed);
    }
    let valid_from = parse_time(o.get("validFrom")).map_err(|_| Failure::Malformed)?;
    let valid_until = parse_time(o.get("validUntil")).map_err(|_| Failure::Malformed)?;
    let (unsecured, proofs) = proof::split_proofs(doc);
    if proofs.is_empty() {
        return Err(Failure::Malformed);
    }
    let mut claims = Vec::new();
    for p in &proofs {
        match proof::claims(p) {
            Ok(c) => claims.push(c),
            Err(ProofError::UnknownCryptosuite(_)) => return Err(Failure::UnknownCryptosuite),
            Err(_) => return Err(Failure::Malformed),
        }
    }
    // Issuer: ours, and every proof made with one of its keys.
    let issuer = issuer_id(doc).ok_or(Failure::Malformed)?;
    let department = issuer_department(issuer).ok_or(Failure::UnknownIssuer)?;
    if !ev.issuers.iter().any(|d| d == department) {
        return Err(Failure::UnknownIssuer);
    }
    let mut keys = Vec::new();
    for c in &claims {
        let Some(k) = ev.keys.get(&c.verification_method) else { return Err(Failure::UnknownIssuer) };
        if k.issuer_department != department || !c.verification_method.starts_with(issuer) {
            return Err(Failure::UnknownIssuer);
        }
        keys.push(k);
    }
    // Signatures: every proof must verify.
    for (p, k) in proofs.iter().zip(&keys) {
        let ok = !k.revoked && proof::verify_proof(&unsecured, p, &k.key).is_ok();
        if !ok {
            let altered = ev.original.as_ref().is_some_and(|orig| {
                let (orig_unsecured, _) = proof::split_proofs(orig);
                proof::canonical(&orig_unsecured) != proof::canonical(&unsecured)
            });
            return Err(if altered { Failure::Altered } else { Failure::Signature });
        }
    }
    // Status.
    for (purpose, list, index) in references(doc).statuses {
        if ev.statuses.get(&(purpose.clone(), list, index)) == Some(&true) {
            return Err(if purpose == "suspension" { Failure::Suspended } else { Failure::Revoked });
        }
    }
    // Validity.
    if valid_from.is_some_and(|f| ev.now < f) {
        return Err(Failure::NotYetValid);
    }
    if valid_until.is_some_and(|u| ev.now > u) {
        return Err(Failure::Expired);
    }
    Ok(())
}

/// Evidence for verifying offline from what issuers publish: their key documents
/// (`/credentials/issuers/<dept>`) and, optionally, status list credentials
/// (`/credentials/status/<dept>/<purpose>`). A status list is used only if it verifies itself.
/// Returns the evidence and the status list URLs that were usable.
pub fn published_evidence(
    issuer_docs: &[Value],
    status_lists: &[Value],
    now: DateTime<Utc>,
) -> (Evidence, Vec<String>) {
    let mut ev = Evidence { now, ..Default::default() };
    for doc in issuer_docs {
        let Some(department) = doc.get("id").and_then(Value::as_str).and_then(issuer_department) else {
            continue;
        };
        ev.issuers.push(department.to_string());
        for m in doc.get("verificationMethod").and_then(Value::as_array).into_iter().flatten() {
            let (Some(id), Some(key)) = (
                m.get("id").and_then(Value::as_str),
                m.get("publicKeyMultibase")
                    .and_then(Value::as_str)
                    .and_then(|k| PublicKey::from_multibase(k).ok()),
            ) else {
                continue;
            };
            ev.keys.insert(
                id.to_string(),
                KnownKey {
                    key,
                    issuer_department: department.to_string(),
                    revoked: m.get("revoked").is_some(),
                },
            );
        }
    }
    let mut usable = Vec::new();
    let mut statuses = HashMap::new();
    for list in status_lists {
        if !verify(list, &ev).valid {
            continue;
        }
        let subject = &list["credentialSubject"];
        let (Some(url), Some(purpose), Some(bits)) = (
            list.get("id").and_then(Value::as_str),
            subject.get("statusPurpose").and_then(Value::as_str),
            subject.get("encodedList").and_then(Value::as_str).and_then(decode_status_list),
        ) else {
            continue;
        };
        for i in 0..bits.len() * 8 {
            if status_bit(&bits, i) == Some(true) {
                statuses.insert((purpose.to_string(), url.to_string(), i as u64), true);
            }
        }
        usable.push(url.to_string());
    }
    ev.statuses = statuses;
    (ev, usable)
}

/// Masks all but the first four and the last four characters (`3701**********1234`).
pub fn mask_middle(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

/// A salted SM3 digest of an ID number, so that a window clerk holding the physical card can
/// confirm the match without the credential carrying the number.
pub fn id_number_digest(salt: &str, id_number: &str) -> String {
    let digest = <sm3::Sm3 as sm3::Digest>::digest(format!("{salt}{id_number}").as_bytes());
    hex::encode(digest)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn status_positions_are_a_secret_permutation_of_the_sequence() {
        let key = [7u8; 32];
        let block = STATUS_LIST_BITS as u64;
        let mut seen = vec![false; STATUS_LIST_BITS];
        for n in 0..block {
            let p = status_position(&key, "JN-SCJ", n);
            assert!(p < block);
            assert!(!std::mem::replace(&mut seen[p as usize], true), "position {p} given twice");
        }
        // Not the issue order, and different for another issuer or another key.
        let first: Vec<u64> = (0..8).map(|n| status_position(&key, "JN-SCJ", n)).collect();
        assert_ne!(first, (0..8).collect::<Vec<_>>());
        assert_ne!(first, (0..8).map(|n| status_position(&key, "JN-SPJ", n)).collect::<Vec<_>>());
        assert_ne!(first, (0..8).map(|n| status_position(&[8u8; 32], "JN-SCJ", n)).collect::<Vec<_>>());
        // Beyond the first block, the next block.
        assert!((block..2 * block).contains(&status_position(&key, "JN-SCJ", block + 5)));
    }
    use crate::licences::proof::SigningKey;

    fn urls() -> Urls {
        Urls { base: "http://127.0.0.1:8080".into() }
    }

    fn draft() -> CredentialDraft {
        CredentialDraft {
            id: "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427".into(),
            identifier: identifier("food_business_licence", "JN-SPJ", 7, 1).unwrap(),
            type_code: "food_business_licence".into(),
            issuer_department: "JN-SPJ".into(),
            issuer_name: "济南市行政审批服务局".into(),
            valid_from: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            valid_until: Some(Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 0).unwrap()),
            subject: json!({"entity_name": "济南泉城小馆餐饮有限公司"}),
            holder_id: "urn:qb:enterprise:91370100MA3C5XXXXX".into(),
            status_index: 7,
        }
    }

    struct Issued {
        doc: Value,
        ev: Evidence,
    }

    fn issue() -> Issued {
        let ed = SigningKey::generate(Suite::EddsaJcs2022);
        let sm = SigningKey::generate(Suite::Sm2Jcs2026);
        let u = urls();
        let vm_ed = u.verification_method("JN-SPJ", "S1", Suite::EddsaJcs2022);
        let vm_sm = u.verification_method("JN-SPJ", "S1", Suite::Sm2Jcs2026);
        let unsigned = unsigned_credential(&draft(), &u);
        let doc = secure(
            &unsigned,
            &[(vm_ed.clone(), &ed), (vm_sm.clone(), &sm)],
            crate::platform::clock::test_instant(),
        );
        let mut keys = HashMap::new();
        for (vm, k) in [(vm_ed, &ed), (vm_sm, &sm)] {
            keys.insert(
                vm,
                KnownKey { key: k.public_key(), issuer_department: "JN-SPJ".into(), revoked: false },
            );
        }
        let ev = Evidence {
            keys,
            issuers: vec!["JN-SPJ".into(), "JN-GAJ".into()],
            statuses: HashMap::new(),
            original: Some(doc.clone()),
            now: Utc.with_ymd_and_hms(2027, 6, 1, 0, 0, 0).unwrap(),
        };
        Issued { doc, ev }
    }

    #[test]
    fn a_fresh_credential_verifies_with_both_proofs() {
        let Issued { doc, ev } = issue();
        let v = verify(&doc, &ev);
        assert!(v.valid, "{v:?}");
        assert_eq!(v.suites, ["eddsa-jcs-2022", "quanban-sm2-jcs-2026"]);
        assert!(v.checks.iter().all(|c| c.outcome == Outcome::Passed));
        assert_eq!(doc["type"][1], "FoodBusinessLicenceCredential");
        assert_eq!(doc["credentialStatus"][0]["statusListIndex"], "7");
        assert!(identifier_is_valid(doc["identifier"].as_str().unwrap()));
    }

    #[test]
    fn each_failure_is_named() {
        let Issued { doc, ev } = issue();
        let reason = |d: &Value, e: &Evidence| verify(d, e).reason;
        // Altered: we hold the original.
        let mut changed = doc.clone();
        changed["credentialSubject"]["entity_name"] = json!("别家公司");
        assert_eq!(reason(&changed, &ev), Some(Failure::Altered));
        // Same change, verifier without the original: a signature failure.
        let no_original = Evidence { original: None, ..ev.clone() };
        assert_eq!(reason(&changed, &no_original), Some(Failure::Signature));
        // The wrong key under the right name.
        let mut wrong = ev.clone();
        for k in wrong.keys.values_mut() {
            k.key = SigningKey::generate(k.key.suite()).public_key();
        }
        assert_eq!(reason(&doc, &wrong), Some(Failure::Signature));
        // Revoked seal.
        let mut revoked_seal = ev.clone();
        revoked_seal.keys.values_mut().for_each(|k| k.revoked = true);
        assert_eq!(reason(&doc, &revoked_seal), Some(Failure::Signature));
        // Revoked and suspended credential.
        let list = urls().status_list("JN-SPJ", "revocation");
        let mut rev = ev.clone();
        rev.statuses.insert(("revocation".into(), list, 7), true);
        assert_eq!(reason(&doc, &rev), Some(Failure::Revoked));
        let list = urls().status_list("JN-SPJ", "suspension");
        let mut sus = ev.clone();
        sus.statuses.insert(("suspension".into(), list, 7), true);
        assert_eq!(reason(&doc, &sus), Some(Failure::Suspended));
        // Expired and not yet valid.
        let late = Evidence { now: Utc.with_ymd_and_hms(2031, 1, 2, 0, 0, 0).unwrap(), ..ev.clone() };
        assert_eq!(reason(&doc, &late), Some(Failure::Expired));
        let early = Evidence { now: Utc.with_ymd_and_hms(2025, 1, 2, 0, 0, 0).unwrap(), ..ev.clone() };
        assert_eq!(reason(&doc, &early), Some(Failure::NotYetValid));
        // Unknown issuer: another department name in the document.
        let unknown = Evidence { issuers: vec!["JN-GAJ".into()], ..ev.clone() };
        assert_eq!(reason(&doc, &unknown), Some(Failure::UnknownIssuer));
        // Unknown context and cryptosuite.
        let mut ctx = doc.clone();
        ctx["@context"] = json!([VC_V2_CONTEXT, "https://evil.example/ctx"]);
        assert_eq!(reason(&ctx, &ev), Some(Failure::UnknownContext));
        let mut suite = doc.clone();
        suite["proof"][0]["cryptosuite"] = json!("bbs-2023");
        assert_eq!(reason(&suite, &ev), Some(Failure::UnknownCryptosuite));
        // Garbage.
        for bad in [json!(null), json!("x"), json!([]), json!({"@context": [VC_V2_CONTEXT]})] {
            assert_eq!(reason(&bad, &ev), Some(Failure::Malformed), "{bad}");
        }
        let mut no_proof = doc.clone();
        no_proof.as_object_mut().unwrap().remove("proof");
        assert_eq!(reason(&no_proof, &ev), Some(Failure::Malformed));
        // The failing check is marked; later ones are skipped.
        let v = verify(&changed, &ev);
        let outcomes: Vec<Outcome> = v.checks.iter().map(|c| c.outcome).collect();
        assert_eq!(
            outcomes,
            [Outcome::Passed, Outcome::Passed, Outcome::Failed, Outcome::Skipped, Outcome::Skipped]
        );
    }

    #[test]
    fn stripping_one_proof_of_a_set_still_needs_the_other_to_verify() {
        let Issued { mut doc, ev } = issue();
        let sm2_only = doc["proof"][1].clone();
        doc["proof"] = sm2_only;
        assert!(verify(&doc, &ev).valid, "an SM2-only verifier accepts the SM2 proof alone");
    }

    #[test]
    fn identifiers_have_the_national_shape_and_a_check_character() {
        let id = identifier("business_licence", "JN-SPJ", 42, 1).unwrap();
        assert!(id.starts_with("1.2.156.3005.2.11370100001."), "{id}");
        assert_eq!(id.split('.').count(), 10);
        assert!(identifier_is_valid(&id));
        // Any single-character change is caught.
        let mut chars: Vec<char> = id.chars().collect();
        let i = id.len() - 8;
        chars[i] = if chars[i] == '1' { '2' } else { '1' };
        assert!(!identifier_is_valid(&chars.into_iter().collect::<String>()));
        assert!(!identifier_is_valid("1.2.156"));
        assert!(identifier("no_such_type", "JN-SPJ", 1, 1).is_none());
        let code = department_credit_code("JN-SPJ");
        assert!(crate::identity::domain::CreditCode::parse(&code).is_ok(), "{code}");
    }

    #[test]
    fn status_lists_round_trip_at_the_minimum_size() {
        let encoded = encode_status_list([0, 7, 94_567, STATUS_LIST_BITS - 1], STATUS_LIST_BITS);
        assert!(encoded.starts_with('u'));
        assert!(encoded.len() < 1000, "a sparse 16 KiB list compresses well: {}", encoded.len());
        let bits = decode_status_list(&encoded).unwrap();
        assert_eq!(bits.len(), STATUS_LIST_BITS / 8);
        for i in [0, 7, 94_567, STATUS_LIST_BITS - 1] {
            assert_eq!(status_bit(&bits, i), Some(true), "{i}");
        }
        assert_eq!(status_bit(&bits, 1), Some(false));
        assert_eq!(bits[0], 0b1000_0001);
        assert_eq!(status_bit(&bits, STATUS_LIST_BITS), None);
        assert!(decode_status_list("not a list").is_none());
    }

    #[test]
    fn every_output_type_exists_and_names_read_well() {
        assert_eq!(output_for_item("JN-SPJ-0003"), Some("food_business_licence"));
        assert_eq!(output_for_item("JN-RSJ-0001"), None);
        assert_eq!(types().len(), 23);
        assert_eq!(vc_type("id_card"), "IdCardCredential");
        assert_eq!(mask_middle("370102199001011234"), "3701**********1234");
        assert_eq!(issuer_department("https://a.b/credentials/issuers/JN-SPJ"), Some("JN-SPJ"));
        assert_eq!(issuer_department("https://a.b/credentials/issuers/JN-SPJ#k"), None);
        assert_ne!(id_number_digest("a", "1"), id_number_digest("b", "1"));
    }
}
