//! Issuing, verifying and sealing, shared by the JSON API, the pages, the cases area and the CLI.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use serde_json::{Map, Value, json};

use super::domain::{self, CredentialDraft, Evidence, KnownKey, Urls, Verdict};
use super::keys::KeyWrap;
use super::proof::{PublicKey, SigningKey, Suite};
use super::sealing::{self, ActiveSeal, SealFailure, SealKeys};
use super::store::{self, CredentialRecord, NewCredential, NewSeal, SealRow};
use crate::config::Config;
use crate::identity::authz::{Action, Actor, Decision, Resource, decide};
use crate::identity::store::new_user_id;
use crate::store::{Db, StoreError, StoreResult, query};

/// How long an unlocked seal is reused before it is read again (so that a rotation in another
/// process is picked up).
const SEAL_CACHE: Duration = Duration::from_secs(60);

/// The seal key and the unlocked seals of this process.
pub struct Licensing {
    pub urls: Urls,
    wrap: KeyWrap,
    unlocked: Mutex<HashMap<String, (Instant, Arc<ActiveSeal>)>>,
    /// Per issuer: the next reserved status list position and the last one reserved.
    index_blocks: Mutex<HashMap<String, (i64, i64)>>,
    /// Keys the permutation of issue numbers into status list positions.
    status_key: [u8; 32],
    /// Per issuer: positions held by credentials issued before positions were permuted (they sit
    /// at their sequence numbers). A new credential whose permuted position is one of these
    /// skips to the next sequence number, so two credentials never share a bit.
    legacy_positions: HashMap<String, std::collections::HashSet<i64>>,
}

impl std::fmt::Debug for Licensing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Licensing").field("urls", &self.urls).finish_non_exhaustive()
    }
}

/// The secret that wraps seal keys: `seal_key` from the configuration; without one (demo and
/// development only) a random secret kept in the database, so that every process on one database
/// agrees. Production refuses to start without `seal_key`.
pub async fn seal_secret(db: &Db, config: &Config) -> anyhow::Result<String> {
    if let Some(k) = config.seal_key.as_ref().map(|k| k.as_str()).filter(|k| !k.is_empty()) {
        anyhow::ensure!(k.len() >= 32, "seal_key (QUANBAN_SEAL_KEY) must be at least 32 characters");
        return Ok(k.to_string());
    }
    anyhow::ensure!(
        !config.production,
        "production mode needs a seal key: set QUANBAN_SEAL_KEY (or seal_key in quanban.toml) to a long random \
         secret, e.g. {}",
        super::keys::random_secret()
    );
    let candidate = super::keys::random_secret();
    db.write(move |conn| {
        query("INSERT INTO settings (key, value) VALUES ('demo_seal_key', $1) ON CONFLICT (key) DO NOTHING")
            .bind(candidate)
            .execute(&mut *conn)?;
        Ok(())
    })
    .await?;
    let row = query("SELECT value FROM settings WHERE key = 'demo_seal_key'").read_one(db).await?;
    tracing::warn!("no seal_key configured: seal keys are wrapped with a demo secret kept in the database");
    Ok(row.try_get("value")?)
}

impl Licensing {
    pub fn new(secret: &str, public_url: &str) -> Licensing {
        Licensing {
            urls: Urls { base: public_url.trim_end_matches('/').to_string() },
            wrap: KeyWrap::from_secret(secret),
            unlocked: Mutex::new(HashMap::new()),
            index_blocks: Mutex::new(HashMap::new()),
            legacy_positions: HashMap::new(),
            status_key: {
                use sm3::Digest;
                sm3::Sm3::new_with_prefix(b"quanban status list positions\0")
                    .chain_update(secret)
                    .finalize()
                    .into()
            },
        }
    }

    /// The status list position of the issuer's `sequence`-th credential (see
    /// [`domain::status_position`]).
    pub fn status_position(&self, issuer: &str, sequence: i64) -> i64 {
        let position =
            domain::status_position(&self.status_key, issuer, u64::try_from(sequence).unwrap_or(0));
        i64::try_from(position).unwrap_or(i64::MAX)
    }

    /// Finds the positions of credentials issued before positions were permuted (see
    /// `legacy_positions`). Such credentials are never issued again, so the set only shrinks to
    /// nothing; once a scan finds none, later starts skip it.
    pub async fn load_legacy_positions(&mut self, db: &Db) -> StoreResult<usize> {
        const DONE: &str = "status_positions_permuted";
        if store::setting(db, DONE).await?.is_some() {
            return Ok(0);
        }
        let mut legacy: HashMap<String, std::collections::HashSet<i64>> = HashMap::new();
        for (issuer, identifier, position) in store::status_positions(db).await? {
            let sequence = identifier.split('.').nth(7).and_then(|s| s.parse::<i64>().ok());
            if sequence.is_none_or(|n| self.status_position(&issuer, n) != position) {
                legacy.entry(issuer).or_default().insert(position);
            }
        }
        let found = legacy.values().map(|s| s.len()).sum();
        if found == 0 {
            store::set_setting_once(db, DONE, &db.now_text()).await?;
        }
        self.legacy_positions = legacy;
        Ok(found)
    }

    /// Whether `position` of `issuer` is held by a credential from before positions were permuted.
    fn legacy_position(&self, issuer: &str, position: i64) -> bool {
        self.legacy_positions.get(issuer).is_some_and(|s| s.contains(&position))
    }

    /// Generates a seal for a department (keys wrapped, not yet stored).
    pub fn new_seal(&self, department: &str, department_kind: &str, created_by: Option<String>) -> NewSeal {
        let id = format!("{department}-{}", &new_user_id()[..8]);
        let ed = SigningKey::generate(Suite::EddsaJcs2022);
        let sm2 = SigningKey::generate(Suite::Sm2Jcs2026);
        let credit = domain::department_credit_code(department);
        NewSeal {
            ed25519_public: ed.public_key().to_multibase(),
            sm2_public: sm2.public_key().to_multibase(),
            ed25519_secret: self.wrap.wrap(&ed.secret_bytes(), &format!("{id}/ed25519")),
            sm2_secret: self.wrap.wrap(&sm2.secret_bytes(), &format!("{id}/sm2")),
            name: if department_kind == "approval" {
                "行政审批专用章"
            } else {
                "电子证照专用章"
            }
            .into(),
            serial: format!("3701{}", &credit[8..17]),
            department: department.to_string(),
            created_by,
            id,
        }
    }

    fn unlock(&self, row: &SealRow) -> anyhow::Result<ActiveSeal> {
        let ed = self.wrap.unwrap(&row.ed25519_secret, &format!("{}/ed25519", row.id))?;
        let sm2 = self.wrap.unwrap(&row.sm2_secret, &format!("{}/sm2", row.id))?;
        Ok(ActiveSeal {
            id: row.id.clone(),
            department: row.department.clone(),
            department_name: row.department_name.clone(),
            name: row.name.clone(),
            serial: row.serial.clone(),
            ed25519: SigningKey::from_secret(Suite::EddsaJcs2022, &ed)?,
            sm2: SigningKey::from_secret(Suite::Sm2Jcs2026, &sm2)?,
        })
    }

    /// The department's active seal, unlocked.
    pub async fn active(&self, db: &Db, department: &str) -> anyhow::Result<Option<Arc<ActiveSeal>>> {
        if let Ok(cache) = self.unlocked.lock()
            && let Some((at, seal)) = cache.get(department)
            && at.elapsed() < SEAL_CACHE
        {
            return Ok(Some(seal.clone()));
        }
        let Some(row) = store::active_seal(db, department).await? else { return Ok(None) };
        let seal = Arc::new(self.unlock(&row)?);
        if let Ok(mut cache) = self.unlocked.lock() {
            cache.insert(department.to_string(), (Instant::now(), seal.clone()));
        }
        Ok(Some(seal))
    }

    fn forget(&self, department: &str) {
        if let Ok(mut cache) = self.unlocked.lock() {
            cache.remove(department);
        }
    }
}

/// Gives every department without one its first seal.
pub async fn ensure_seals(db: &Db, lic: &Licensing) -> anyhow::Result<u64> {
    let missing = store::departments_without_seal(db).await?;
    if missing.is_empty() {
        return Ok(0);
    }
    let mut seals = Vec::new();
    for (code, _) in &missing {
        let kind: Option<String> = query("SELECT kind FROM departments WHERE code = $1")
            .bind(code)
            .read_optional(db)
            .await?
            .map(|r| r.try_get("kind"))
            .transpose()?;
        seals.push(lic.new_seal(code, kind.as_deref().unwrap_or(""), None));
    }
    Ok(store::add_first_seals(db, seals).await?)
}

/// Rotates a department's seal: a new key pair signs from now on; the old one stays verifiable.
pub async fn rotate_seal(db: &Db, lic: &Licensing, department: &str, actor: &str) -> anyhow::Result<String> {
    let kind: String = query("SELECT kind FROM departments WHERE code = $1")
        .bind(department)
        .read_optional(db)
        .await?
        .map(|r| r.try_get("kind"))
        .transpose()?
        .ok_or(StoreError::NotFound)?;
    let seal = lic.new_seal(department, &kind, Some(actor.to_string()));
    let id = seal.id.clone();
    store::rotate(db, seal, actor.to_string()).await?;
    lic.forget(department);
    Ok(id)
}

pub async fn revoke_seal(db: &Db, lic: &Licensing, id: &str, reason: &str, actor: &str) -> StoreResult<()> {
    let seal = store::seal(db, id).await?.ok_or(StoreError::NotFound)?;
    store::revoke_seal(db, id.to_string(), reason.to_string(), actor.to_string()).await?;
    lic.forget(&seal.department);
    Ok(())
}

/// May this staff member issue and change the department's licences?
pub fn manages_licences(actor: &Actor, department: &str) -> bool {
    decide(actor, Action::Update, &Resource::Licences { department: department.to_string() })
        == Decision::Allow
}

/// May this staff member rotate or revoke the department's seals?
pub fn keeps_seals(actor: &Actor, department: &str) -> bool {
    decide(actor, Action::Update, &Resource::Seals { department: department.to_string() }) == Decision::Allow
}

// ---------------------------------------------------------------------------------------------
// Published keys and status lists
// ---------------------------------------------------------------------------------------------

fn parse_key(s: &str) -> Option<PublicKey> {
    PublicKey::from_multibase(s).ok()
}

/// The issuer's controller document: every seal's keys as Multikey verification methods. Revoked
/// ones carry `revoked` and are left out of `assertionMethod`.
pub async fn issuer_document(db: &Db, lic: &Licensing, department: &str) -> StoreResult<Option<Value>> {
    let seals = store::seals(db, Some(department)).await?;
    let Some(first) = seals.first() else { return Ok(None) };
    let issuer = lic.urls.issuer(department);
    let mut methods = Vec::new();
    let mut assertion = Vec::new();
    for s in &seals {
        for (suite, key) in [(Suite::EddsaJcs2022, &s.ed25519_public), (Suite::Sm2Jcs2026, &s.sm2_public)] {
            let id = lic.urls.verification_method(department, &s.id, suite);
            let mut m = json!({
                "id": id, "type": "Multikey", "controller": issuer, "publicKeyMultibase": key,
                "algorithm": suite.algorithm(), "cryptosuite": suite.name(), "seal": s.id,
                "sealStatus": s.status,
            });
            if s.status == "revoked" {
                m["revoked"] = json!(s.updated_at);
            } else {
                assertion.push(Value::String(id));
            }
            methods.push(m);
        }
    }
    Ok(Some(json!({
        "@context": [domain::CID_V1_CONTEXT, lic.urls.context()],
        "id": issuer,
        "name": first.department_name,
        "department": department,
        "verificationMethod": methods,
        "assertionMethod": assertion,
    })))
}

/// The issuer's Bitstring Status List credential for `purpose`, signed by its active seal.
pub async fn status_list(
    db: &Db,
    lic: &Licensing,
    department: &str,
    purpose: &str,
) -> anyhow::Result<Option<Value>> {
    if !matches!(purpose, "revocation" | "suspension") {
        return Ok(None);
    }
    let Some(seal) = lic.active(db, department).await? else { return Ok(None) };
    let set = store::flagged_indexes(db, department, purpose).await?;
    let url = lic.urls.status_list(department, purpose);
    let now = db.now();
    let unsigned = json!({
        "@context": [domain::VC_V2_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": lic.urls.issuer(department), "name": seal.department_name},
        "validFrom": domain::rfc3339(now),
        "validUntil": domain::rfc3339(now + chrono::Duration::minutes(10)),
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": domain::encode_status_list(set, domain::STATUS_LIST_BITS),
        },
    });
    Ok(Some(domain::secure(&unsigned, &seal.proof_keys(&lic.urls), now)))
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

async fn seal_keys(db: &Db, id: &str) -> StoreResult<Option<SealKeys>> {
    let Some(s) = store::seal(db, id).await? else { return Ok(None) };
    let (Some(ed25519), Some(sm2)) = (parse_key(&s.ed25519_public), parse_key(&s.sm2_public)) else {
        return Ok(None);
    };
    Ok(Some(SealKeys { id: s.id, department: s.department, ed25519, sm2, revoked: s.status == "revoked" }))
}

/// Gathers what [`domain::verify`] needs from this platform's records.
pub async fn evidence(db: &Db, lic: &Licensing, doc: &Value) -> StoreResult<Evidence> {
    let refs = domain::references(doc);
    let mut ev = Evidence { now: db.now(), ..Default::default() };
    ev.issuers = query("SELECT code FROM departments")
        .read_all(db)
        .await?
        .iter()
        .map(|r| r.try_get("code"))
        .collect::<Result<_, _>>()?;
    for vm in refs.verification_methods.iter().take(4) {
        // `…/credentials/issuers/<dept>#<seal id>-<ed25519|sm2>`
        let Some((_, fragment)) = vm.rsplit_once('#') else { continue };
        let Some((seal_id, alg)) = fragment.rsplit_once('-') else { continue };
        let Some(keys) = seal_keys(db, seal_id).await? else { continue };
        let key = match alg {
            "ed25519" => keys.ed25519,
            "sm2" => keys.sm2,
            _ => continue,
        };
        if lic.urls.verification_method(&keys.department, seal_id, key.suite()).rsplit_once('#').map(|x| x.1)
            != Some(fragment)
        {
            continue;
        }
        ev.keys.insert(
            vm.clone(),
            KnownKey { key, issuer_department: keys.department.clone(), revoked: keys.revoked },
        );
    }
    for (purpose, list, index) in refs.statuses.iter().take(4) {
        // Our lists: `…/credentials/status/<dept>/<purpose>`.
        let Some((_, tail)) = list.rsplit_once("/credentials/status/") else { continue };
        let Some((dept, list_purpose)) = tail.split_once('/') else { continue };
        if list_purpose != purpose || i64::try_from(*index).is_err() {
            continue;
        }
        let status = store::status_at(db, dept, *index as i64).await?;
        let flagged = match purpose.as_str() {
            "revocation" => status.as_deref() == Some("revoked"),
            "suspension" => status.as_deref() == Some("suspended"),
            _ => false,
        };
        ev.statuses.insert((purpose.clone(), list.clone(), *index), flagged);
    }
    if let Some(id) = &refs.id
        && let Some(c) = store::credential(db, id).await?
    {
        ev.original = Some(c.document);
    }
    Ok(ev)
}

pub async fn verify(db: &Db, lic: &Licensing, doc: &Value) -> StoreResult<Verdict> {
    let ev = evidence(db, lic, doc).await?;
    Ok(domain::verify(doc, &ev))
}

/// The result of checking a sealed document.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SealVerdict {
    pub valid: bool,
    pub reason: Option<SealFailure>,
    pub message_zh: String,
    pub message_en: String,
    pub seal_id: Option<String>,
    pub department: Option<String>,
}

pub async fn verify_sealed(db: &Db, doc: &Value) -> StoreResult<SealVerdict> {
    let claimed = sealing::claimed_seal(doc).map(str::to_string);
    let keys = match &claimed {
        Some(id) => seal_keys(db, id).await?,
        None => None,
    };
    let result = sealing::verify(doc, keys.as_ref());
    let (zh, en) = match result {
        Ok(()) => (
            "印章有效，文书自盖章后未被改动",
            "The seal is genuine and the document is unchanged since sealing",
        ),
        Err(f) => f.messages(),
    };
    Ok(SealVerdict {
        valid: result.is_ok(),
        reason: result.err(),
        message_zh: zh.into(),
        message_en: en.into(),
        seal_id: claimed,
        department: keys.map(|k| k.department),
    })
}

// ---------------------------------------------------------------------------------------------
// Issuing
// ---------------------------------------------------------------------------------------------

/// Who a credential is for.
#[derive(Clone, Debug)]
pub enum Holder {
    Person { user_id: String, name: String, id_number: Option<String> },
    Enterprise { credit_code: String, name: String, legal_representative: String },
}

impl Holder {
    pub fn name(&self) -> &str {
        match self {
            Holder::Person { name, .. } | Holder::Enterprise { name, .. } => name,
        }
    }

    /// The subject id: an enterprise by its public credit code; a person by an opaque id that
    /// does not reveal the ID number.
    fn subject_id(&self) -> String {
        match self {
            Holder::Person { user_id, .. } => format!("urn:quanban:person:{user_id}"),
            Holder::Enterprise { credit_code, .. } => format!("urn:quanban:enterprise:{credit_code}"),
        }
    }
}

pub async fn person_holder(
    db: &Db,
    vault: &crate::platform::pii::Vault,
    user_id: &str,
) -> StoreResult<Holder> {
    let r = query("SELECT name FROM users WHERE id = $1")
        .bind(user_id)
        .read_optional(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(Holder::Person {
        user_id: user_id.to_string(),
        name: r.try_get("name")?,
        id_number: crate::identity::store::id_number_of(db, vault, user_id).await?,
    })
}

pub async fn enterprise_holder(db: &Db, credit_code: &str) -> StoreResult<Holder> {
    let r = query("SELECT name, legal_representative FROM enterprises WHERE credit_code = $1")
        .bind(credit_code)
        .read_optional(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(Holder::Enterprise {
        credit_code: credit_code.to_string(),
        name: r.try_get("name")?,
        legal_representative: r.try_get("legal_representative")?,
    })
}

/// Fills the type's fields from what the platform knows; officers' values win.
fn subject_fields(
    type_code: &str,
    holder: &Holder,
    given: &Map<String, Value>,
    issuer_name: &str,
    from: NaiveDate,
    until: Option<NaiveDate>,
) -> Value {
    let mut known: HashMap<&str, String> = HashMap::new();
    match holder {
        Holder::Person { name, id_number, .. } => {
            for k in ["name", "member_name", "holder_name", "owner"] {
                known.insert(k, name.clone());
            }
            if let Some(id) = id_number {
                known.insert("id_number", domain::mask_middle(id));
                if let Some(birth) = id.get(6..14)
                    && let Ok(d) = NaiveDate::parse_from_str(birth, "%Y%m%d")
                {
                    known.insert("birth_date", d.format("%Y-%m-%d").to_string());
                }
            }
        }
        Holder::Enterprise { credit_code, name, legal_representative } => {
            known.insert("unified_social_credit_code", credit_code.clone());
            for k in [
                "entity_name",
                "operator_name",
                "holder_name",
                "unit_name",
                "enterprise_name",
                "developer",
                "land_user",
                "owner",
                "name",
            ] {
                known.insert(k, name.clone());
            }
            known.insert("legal_representative", legal_representative.clone());
        }
    }
    for k in ["issuing_authority", "registration_authority", "issuer"] {
        known.insert(k, issuer_name.to_string());
    }
    for k in ["issue_date", "valid_from", "establishment_date"] {
        known.insert(k, from.format("%Y-%m-%d").to_string());
    }
    let until_text = until.map(|u| u.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "长期".into());
    for k in ["valid_to", "valid_until", "business_term"] {
        known.insert(k, until_text.clone());
    }
    let mut out = Map::new();
    if let Some(t) = domain::find_type(type_code) {
        for f in &t.fields {
            let v = given
                .get(&f.name)
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| known.get(f.name.as_str()).cloned());
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                out.insert(f.name.clone(), Value::String(v));
            }
        }
    }
    out.insert("holderName".into(), Value::String(holder.name().to_string()));
    out.insert(
        "holderType".into(),
        Value::String(if matches!(holder, Holder::Person { .. }) { "person" } else { "enterprise" }.into()),
    );
    if let Holder::Person { id_number: Some(id), .. } = holder {
        // Lets a clerk with the physical card confirm the holder without the credential carrying
        // the full number.
        let salt = hex::encode(rand::random::<[u8; 8]>());
        out.insert(
            "idNumberDigest".into(),
            json!({"algorithm": "SM3", "salt": salt, "digestHex": domain::id_number_digest(&salt, id)}),
        );
    }
    Value::Object(out)
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    // Licences run from the start of the Beijing day; stored in UTC.
    let local = d.and_hms_opt(0, 0, 0).unwrap_or_default() - chrono::Duration::hours(8);
    Utc.from_utc_datetime(&local)
}

/// The subject fields that carry a licence's own number (许可证编号, 证书编号…), in the order
/// they are looked for.
pub const NUMBER_FIELDS: [&str; 4] = ["licence_number", "permit_number", "certificate_number", "card_number"];

/// The number printed on a licence (许可证编号), when its type has one.
pub fn licence_number(c: &CredentialRecord) -> Option<String> {
    let subject = c.document.get("credentialSubject")?;
    NUMBER_FIELDS.iter().find_map(|k| subject.get(*k).and_then(Value::as_str)).map(str::to_string)
}

/// Status list positions are reserved this many at a time, so that issuing rarely needs a
/// write of its own.
const INDEX_BLOCK: i64 = 32;

impl Licensing {
    /// The next status list position of `issuer` (from this process's reserved block).
    pub async fn next_index(&self, db: &Db, issuer: &str) -> StoreResult<i64> {
        if let Ok(mut blocks) = self.index_blocks.lock()
            && let Some((next, end)) = blocks.get_mut(issuer)
            && *next <= *end
        {
            *next += 1;
            return Ok(*next - 1);
        }
        let first = store::reserve_indexes(db, issuer.to_string(), INDEX_BLOCK).await?;
        if let Ok(mut blocks) = self.index_blocks.lock() {
            blocks.insert(issuer.to_string(), (first + 1, first + INDEX_BLOCK - 1));
        }
        Ok(first)
    }
}

/// Builds and signs a credential for `holder` with the department's unlocked seal, before any
/// write transaction (signing never runs in the writer). `None` for an unknown type.
#[allow(clippy::too_many_arguments)]
pub async fn prepare_issue(
    db: &Db,
    lic: &Licensing,
    seal: &ActiveSeal,
    type_code: &str,
    holder: &Holder,
    fields: &Map<String, Value>,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    case_number: Option<String>,
    actor_id: Option<String>,
) -> StoreResult<Option<NewCredential>> {
    let Some(t) = domain::find_type(type_code) else { return Ok(None) };
    let until = valid_until.or_else(|| {
        t.validity_years.and_then(|y| {
            valid_from.checked_add_months(Months::new(12 * y)).map(|d| d.pred_opt().unwrap_or(d))
        })
    });
    let mut index = lic.next_index(db, &seal.department).await?;
    while lic.legacy_position(&seal.department, lic.status_position(&seal.department, index)) {
        index = lic.next_index(db, &seal.department).await?;
    }
    let Some(identifier) = domain::identifier(type_code, &seal.department, index as u64, 1) else {
        return Ok(None);
    };
    let mut subject = subject_fields(type_code, holder, fields, &seal.department_name, valid_from, until);
    if let Some(o) = subject.as_object_mut() {
        for key in NUMBER_FIELDS {
            if t.fields.iter().any(|f| f.name == key) && !o.contains_key(key) {
                o.insert(key.into(), Value::String(format!("{}{:08}", &seal.serial[..4], index)));
            }
        }
    }
    let id = format!("urn:uuid:{}", crate::platform::tokens::uuid_v4());
    let draft = CredentialDraft {
        id: id.clone(),
        identifier: identifier.clone(),
        type_code: type_code.to_string(),
        issuer_department: seal.department.clone(),
        issuer_name: seal.department_name.clone(),
        valid_from: midnight(valid_from),
        valid_until: until.map(|u| midnight(u + chrono::Duration::days(1))),
        subject,
        holder_id: holder.subject_id(),
        status_index: lic.status_position(&seal.department, index) as u64,
    };
    let unsigned = domain::unsigned_credential(&draft, &lic.urls);
    let document = domain::secure(&unsigned, &seal.proof_keys(&lic.urls), db.now());
    let (holder_user_id, holder_credit_code, holder_kind) = match holder {
        Holder::Person { user_id, .. } => (Some(user_id.clone()), None, "person"),
        Holder::Enterprise { credit_code, .. } => (None, Some(credit_code.clone()), "enterprise"),
    };
    Ok(Some(NewCredential {
        id,
        type_code: type_code.to_string(),
        issuer: seal.department.clone(),
        seal_id: seal.id.clone(),
        holder_kind: holder_kind.into(),
        holder_user_id,
        holder_credit_code,
        holder_name: holder.name().to_string(),
        valid_from: domain::rfc3339(draft.valid_from),
        valid_until: draft.valid_until.map(domain::rfc3339),
        case_number,
        issued_by: actor_id.clone(),
        actor: actor_id.map(|a| format!("user:{a}")).unwrap_or_else(|| "system".into()),
        status_index: lic.status_position(&seal.department, index),
        identifier,
        document,
    }))
}

/// Stores a prepared credential right away (officers, demo cards).
pub async fn issue(db: &Db, new: NewCredential) -> StoreResult<Option<CredentialRecord>> {
    let id = new.id.clone();
    store::issue(db, new).await?;
    store::credential(db, &id).await
}

/// Demo holders get demo cards once (never in production: there are no demo holders there).
pub async fn ensure_demo_cards(
    db: &Db,
    lic: &Licensing,
    vault: &crate::platform::pii::Vault,
) -> anyhow::Result<()> {
    // The claim is taken in the transaction that stores the cards (below); this read only saves
    // preparing them again on every start.
    if query("SELECT key FROM settings WHERE key = 'demo_cards'").read_optional(db).await?.is_some() {
        return Ok(());
    }
    // Demo people log in with their numbers; their accounts are found by the numbers' digests.
    let mut people = Vec::new();
    for login in query("SELECT username FROM demo_accounts WHERE department IS NULL ORDER BY username")
        .read_all(db)
        .await?
    {
        let phone: String = login.try_get("username")?;
        if let Some(row) = query("SELECT id FROM users WHERE kind = 'person' AND phone_digest = $1")
            .bind(vault.digest("phone", &phone))
            .read_optional(db)
            .await?
        {
            people.push(row);
        }
    }
    let today = db.clock().today();
    let start = today.with_day(1).unwrap_or(today) - chrono::Duration::days(400);
    let mut prepared = Vec::new();
    for r in &people {
        let user_id: String = r.try_get("id")?;
        let holder = person_holder(db, vault, &user_id).await?;
        let mut cards: Vec<(&str, HashMap<&str, &str>)> = vec![
            (
                "id_card",
                HashMap::from([
                    ("gender", "男"),
                    ("ethnicity", "汉"),
                    ("address", "山东省济南市历下区泉城路1号"),
                ]),
            ),
            ("social_security_card", HashMap::from([("bank", "中国工商银行济南分行")])),
            ("medical_insurance_code", HashMap::new()),
            ("driving_licence", HashMap::from([("vehicle_class", "C1")])),
            ("residence_permit", HashMap::from([("residence_address", "山东省济南市历下区泉城路1号")])),
        ];
        let enterprises = query("SELECT credit_code FROM enterprise_members WHERE user_id = $1")
            .bind(&user_id)
            .read_all(db)
            .await?;
        if !enterprises.is_empty() {
            cards.truncate(3);
        }
        for (code, extra) in cards {
            prepared.extend(prepare_demo(db, lic, code, &holder, &extra, start).await?);
        }
        for e in &enterprises {
            let code: String = e.try_get("credit_code")?;
            let holder = enterprise_holder(db, &code).await?;
            let extra = HashMap::from([
                ("entity_type", "有限责任公司（自然人投资或控股）"),
                ("registered_capital", "50万元人民币"),
                ("address", "山东省济南市历下区泉城路88号"),
                ("business_scope", "餐饮服务；食品销售"),
            ]);
            prepared.extend(prepare_demo(db, lic, "business_licence", &holder, &extra, start).await?);
        }
    }
    let now = db.now_text();
    db.write(move |conn| {
        if !crate::store::claim_once(conn, "demo_cards", &now)? {
            return Ok(());
        }
        for card in &prepared {
            store::issue_in(conn, &now, card)?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

async fn prepare_demo(
    db: &Db,
    lic: &Licensing,
    type_code: &str,
    holder: &Holder,
    extra: &HashMap<&str, &str>,
    start: NaiveDate,
) -> anyhow::Result<Option<NewCredential>> {
    let Some(t) = domain::find_type(type_code) else { return Ok(None) };
    let Some(seal) = lic.active(db, &t.issuer).await? else { return Ok(None) };
    let fields: Map<String, Value> = extra.iter().map(|(k, v)| ((*k).to_string(), json!(v))).collect();
    // A card with a short validity (a one-year residence permit) issued at `start` would already
    // have expired: it is issued late enough to stay valid for at least half a year from today.
    let from = match t.validity_years {
        Some(years) => {
            let latest = db.clock().today() + chrono::Duration::days(183);
            match latest.checked_sub_months(Months::new(12 * years)) {
                Some(earliest) if earliest > start => earliest,
                _ => start,
            }
        }
        None => start,
    };
    Ok(prepare_issue(db, lic, &seal, type_code, holder, &fields, from, None, None, None).await?)
}

/// Whether a stored credential has expired by `now`.
pub fn expired(c: &CredentialRecord, now: DateTime<Utc>) -> bool {
    c.valid_until
        .as_deref()
        .and_then(|u| DateTime::parse_from_rfc3339(u).ok())
        .is_some_and(|u| u.with_timezone(&Utc) < now)
}

/// The status shown to people at `now`: `active`, `suspended`, `revoked` or `expired`.
pub fn shown_status(c: &CredentialRecord, now: DateTime<Utc>) -> &str {
    if c.status == "active" && expired(c, now) { "expired" } else { &c.status }
}

// ---------------------------------------------------------------------------------------------
// Officers
// ---------------------------------------------------------------------------------------------

/// Finds the holder an officer names: a person by mobile number, or an enterprise by credit code.
pub async fn find_holder(
    db: &Db,
    vault: &crate::platform::pii::Vault,
    phone: Option<&str>,
    credit_code: Option<&str>,
) -> StoreResult<Option<Holder>> {
    if let Some(code) = credit_code {
        return match enterprise_holder(db, code).await {
            Ok(h) => Ok(Some(h)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        };
    }
    let Some(phone) = phone else { return Ok(None) };
    let row = query("SELECT id FROM users WHERE phone_digest = $1 AND kind = 'person'")
        .bind(vault.digest("phone", phone))
        .read_optional(db)
        .await?;
    match row {
        Some(r) => Ok(Some(person_holder(db, vault, &r.try_get::<String, _>("id")?).await?)),
        None => Ok(None),
    }
}

/// Credentials a signed-in person holds: their own and their enterprises'.
pub async fn wallet(db: &Db, user_id: &str) -> StoreResult<Vec<CredentialRecord>> {
    store::for_holder(db, user_id).await
}

/// May `actor` read this credential? Its holder (or the enterprise's people), the issuing
/// department's licence staff, and supervisors.
pub fn may_read(actor: &Actor, c: &CredentialRecord) -> bool {
    let credential = Resource::Credential {
        issuer: c.issuer.clone(),
        holder: c.holder_user_id.clone(),
        enterprise: c.holder_credit_code.clone(),
    };
    decide(actor, Action::Read, &credential) == Decision::Allow
}

/// Validates and issues an officer's credential.
pub async fn issue_by_officer(
    state: &crate::app::AppState,
    caller: &crate::http::Caller,
    req: super::api::IssueRequest,
) -> crate::http::ApiResult<CredentialRecord> {
    use crate::http::{ApiError, FieldError};
    let actor = caller.require_user()?.to_string();
    let department = super::api::staff_department(caller, req.department.as_deref())?;
    if !manages_licences(&caller.actor, &department) {
        return Err(ApiError::Forbidden);
    }
    let mut errors = Vec::new();
    let type_code = req.type_code.trim();
    if domain::find_type(type_code).is_none() {
        errors.push(FieldError::new(
            "type",
            "unknown_type",
            format!("证照类型“{type_code}”不存在"),
            format!("Unknown e-licence type {type_code:?}"),
        ));
    }
    let phone = req.holder_phone.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let credit = req.holder_credit_code.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if phone.is_none() && credit.is_none() {
        errors.push(FieldError::new(
            "holder_phone",
            "required",
            "请填写持证人手机号或统一社会信用代码",
            "Give the holder's mobile number or unified social credit code",
        ));
    }
    if let Some(c) = credit
        && let Err(e) = crate::identity::domain::CreditCode::parse(c)
    {
        errors.push(FieldError::new(
            "holder_credit_code",
            e.code(),
            format!("统一社会信用代码无效：{e}"),
            format!("Invalid unified social credit code: {e}"),
        ));
    }
    let today = state.clock().today();
    let mut date =
        |field: &str, raw: &Option<String>| match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(r) => FieldError::parse_date(field, r).map(Some).unwrap_or_else(|e| {
                errors.push(e);
                None
            }),
            None => None,
        };
    let from = date("valid_from", &req.valid_from).unwrap_or(today);
    let until = date("valid_until", &req.valid_until);
    if until.is_some_and(|u| u < from) {
        errors.push(FieldError::new(
            "valid_until",
            "before_start",
            "有效期止不能早于有效期起",
            "valid_until is before valid_from",
        ));
    }
    for (k, v) in &req.fields {
        if !v.is_string() || v.as_str().is_some_and(|s| s.chars().count() > 500) {
            errors.push(FieldError::new(
                &format!("fields.{k}"),
                "invalid_field",
                format!("字段 {k} 应为不超过500字的文本"),
                format!("fields.{k} must be text of at most 500 characters"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let holder = find_holder(&state.db, &state.vault, phone, credit).await?.ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(
            if credit.is_some() { "holder_credit_code" } else { "holder_phone" },
            "unknown_holder",
            "未找到该持证人（须为已注册的个人或企业）",
            "No such holder (a registered person or enterprise)",
        )])
    })?;
    let seal = state.licensing.active(&state.db, &department).await?.ok_or(ApiError::Conflict {
        code: "no_active_seal",
        zh: "本部门没有有效的电子印章".into(),
        en: "The department has no active seal".into(),
    })?;
    let new = prepare_issue(
        &state.db,
        &state.licensing,
        &seal,
        type_code,
        &holder,
        &req.fields,
        from,
        until,
        None,
        Some(actor),
    )
    .await?
    .ok_or(ApiError::NotFound)?;
    issue(&state.db, new).await?.ok_or(ApiError::NotFound)
}

/// Suspends, reinstates or revokes a credential on an officer's word.
pub async fn change_status(
    state: &crate::app::AppState,
    caller: &crate::http::Caller,
    id: &str,
    action: &str,
    req: super::api::StatusRequest,
) -> crate::http::ApiResult<CredentialRecord> {
    use crate::http::{ApiError, FieldError};
    let actor = caller.require_user()?.to_string();
    let c = store::credential(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    if !manages_licences(&caller.actor, &c.issuer) {
        return Err(if may_read(&caller.actor, &c) { ApiError::Forbidden } else { ApiError::NotFound });
    }
    let (status, allowed_from): (&'static str, &[&str]) = match action {
        "suspend" => ("suspended", &["active"]),
        "reinstate" => ("active", &["suspended"]),
        "revoke" => ("revoked", &["active", "suspended"]),
        _ => return Err(ApiError::NotFound),
    };
    let reason = req.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
    if reason.is_none() && action != "reinstate" {
        return Err(ApiError::Validation(vec![FieldError::required("reason", "原因", "A reason")]));
    }
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "reason",
            "too_long",
            "原因不能超过500个字",
            "The reason is at most 500 characters",
        )]));
    }
    if !allowed_from.contains(&c.status.as_str()) {
        return Err(ApiError::StateConflict {
            code: "credential_status",
            zh: format!("证照当前状态为“{}”，不能执行此操作", status_label_zh(&c.status)),
            en: format!("The credential is {}; this is not possible now", c.status),
            state: c.status.clone(),
        });
    }
    let version = req.version.unwrap_or(c.version);
    match store::set_status(&state.db, c.id.clone(), status, reason, version, actor).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            let now = store::credential(&state.db, id).await?.map(|c| c.status).unwrap_or_default();
            return Err(ApiError::StateConflict {
                code: "version_conflict",
                zh: "证照已被他人处理，请刷新后重试".into(),
                en: "Someone else changed the credential first; reload and try again".into(),
                state: now,
            });
        }
        Err(e) => return Err(e.into()),
    }
    store::credential(&state.db, id).await?.ok_or(ApiError::NotFound)
}

pub fn status_label_zh(status: &str) -> &'static str {
    match status {
        "active" => "有效",
        "suspended" => "已暂停",
        "revoked" => "已撤销",
        "expired" => "已过期",
        _ => "未知",
    }
}

pub fn status_label_en(status: &str) -> &'static str {
    match status {
        "active" => "Valid",
        "suspended" => "Suspended",
        "revoked" => "Revoked",
        "expired" => "Expired",
        _ => "Unknown",
    }
}
