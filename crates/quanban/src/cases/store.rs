//! Cases in the database: submitting (with bundle fan-out), actions with optimistic concurrency,
//! the timeline, materials and uploads, drafts, the applicant's inbox with its outbox, and
//! post-approval checks with credit marks. Every change writes its timeline event, the
//! applicant's notification and the audit entry in the same transaction.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value, json};

use super::domain::{self, CaseChange, CaseFlags, CaseState, NewEvent, PartSummary, PartWithdrawal};
pub use super::domain::{CaseRecord, DecisionFacts, decision_document};
use super::intake::{ApplicationForm, PlannedMaterial, ProvidedAs};
use crate::audit::{self, NewEntry};
use crate::identity::store::new_user_id;
use crate::platform::notifications::{Message, SealedReach, notify};
use crate::platform::pii::Vault;
use crate::projects::{JointOpinion, Opinion, OpinionChange};
use crate::store::{Db, LockTable, Row, StoreError, StoreResult, Tx, lock_row, query};

const CASE_COLUMNS: &str = "number, parent_number, kind, item_code, bundle_code, title, department, \
    owner_department, applicant_id, applicant_name, enterprise, submitted_by, state, single_approver, immediate, \
    with_commitment, in_person, promised_days, form, answers, commitment_text, complete, accepted_on, \
    accepted_at_window, paused_since, paused_days, due_on, decision, decision_reason, decided_at, decision_document, submitted_at, \
    updated_at, window_since, version";

// Corrupt stored values are errors, never silently read as empty: a case whose due date cannot
// be read must not look as if it had none.
fn date_col(r: &Row, col: &str) -> StoreResult<Option<NaiveDate>> {
    let raw: Option<String> = r.try_get(col)?;
    raw.map(|s| {
        NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map_err(|e| StoreError::Invalid(format!("stored {col} {s:?}: {e}")))
    })
    .transpose()
}

fn json_col(r: &Row, col: &str) -> StoreResult<Option<Value>> {
    let raw: Option<String> = r.try_get(col)?;
    raw.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Invalid(format!("stored {col}: {e}"))))
        .transpose()
}

/// The form as stored: the contact phone and e-mail address sealed (personal data at rest);
/// also used by the generator that writes cases straight into the store.
pub fn seal_form(form: &ApplicationForm, vault: &Vault) -> StoreResult<String> {
    let mut stored = form.clone();
    for (value, column) in [(&mut stored.contact_phone, FORM_PHONE), (&mut stored.email, FORM_EMAIL)] {
        if !value.is_empty() {
            *value = vault.seal(value, column);
        }
    }
    serde_json::to_string(&stored).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// The stored form, opened. Forms stored before sealing (clear values) read as they are until the
/// start-up pass seals them.
fn open_form(raw: &str, vault: &Vault) -> StoreResult<ApplicationForm> {
    let mut form: ApplicationForm =
        serde_json::from_str(raw).map_err(|e| StoreError::Invalid(format!("stored form: {e}")))?;
    for (value, column) in [(&mut form.contact_phone, FORM_PHONE), (&mut form.email, FORM_EMAIL)] {
        *value = vault.open(value, column).map_err(|e| StoreError::Invalid(e.to_string()))?;
    }
    Ok(form)
}

const FORM_PHONE: &str = "cases.form.contact_phone";
const FORM_EMAIL: &str = "cases.form.email";

/// Seals the contact phones and e-mail addresses of case forms stored before sealing existed;
/// returns how many forms it sealed. Each form is claimed by its version, so two processes
/// starting together seal each one once.
pub async fn seal_clear_forms(db: &Db) -> StoreResult<u64> {
    let vault = db.vault()?.clone();
    let rows =
        query("SELECT number, form, version FROM cases WHERE form NOT LIKE '%sm4gcm:%'").read_all(db).await?;
    let mut clear = Vec::new();
    for r in &rows {
        let form = open_form(&r.try_get::<String, _>("form")?, &vault)?;
        if form.contact_phone.is_empty() && form.email.is_empty() {
            continue;
        }
        clear.push((
            r.try_get::<String, _>("number")?,
            seal_form(&form, &vault)?,
            r.try_get::<i64, _>("version")?,
        ));
    }
    if clear.is_empty() {
        return Ok(0);
    }
    let now = db.now_text();
    db.write(move |conn| {
        let mut sealed = 0;
        for (number, form, version) in &clear {
            // The version stays: sealing changes how the row is kept, not the case.
            let done = query(
                "UPDATE cases SET form = $1 WHERE number = $2 AND version = $3 AND form NOT LIKE '%sm4gcm:%'",
            )
            .bind(form)
            .bind(number)
            .bind(version)
            .execute(&mut *conn)?;
            sealed += done.rows_affected();
        }
        if sealed > 0 {
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    "system",
                    "system",
                    "cases.personal_data_sealed",
                    "cases",
                    format!("sealed the contact phone and e-mail of {sealed} case forms stored in clear"),
                ),
            )?;
        }
        Ok(sealed)
    })
    .await
}

fn case_from_row(r: &Row, vault: &Vault) -> StoreResult<CaseRecord> {
    let state: String = r.try_get("state")?;
    let form: String = r.try_get("form")?;
    Ok(CaseRecord {
        number: r.try_get("number")?,
        parent_number: r.try_get("parent_number")?,
        kind: r.try_get("kind")?,
        item_code: r.try_get("item_code")?,
        bundle_code: r.try_get("bundle_code")?,
        title: r.try_get("title")?,
        department: r.try_get("department")?,
        owner_department: r.try_get("owner_department")?,
        applicant_id: r.try_get("applicant_id")?,
        applicant_name: r.try_get("applicant_name")?,
        enterprise: r.try_get("enterprise")?,
        submitted_by: r.try_get("submitted_by")?,
        state: CaseState::parse(&state)
            .ok_or_else(|| StoreError::Invalid(format!("bad case state {state}")))?,
        single_approver: r.try_get::<i64, _>("single_approver")? != 0,
        immediate: r.try_get::<i64, _>("immediate")? != 0,
        with_commitment: r.try_get::<i64, _>("with_commitment")? != 0,
        in_person: r.try_get::<i64, _>("in_person")? != 0,
        promised_days: r.try_get("promised_days")?,
        form: open_form(&form, vault)?,
        answers: json_col(r, "answers")?,
        commitment_text: r.try_get("commitment_text")?,
        complete: r.try_get::<i64, _>("complete")? != 0,
        accepted_on: date_col(r, "accepted_on")?,
        accepted_at_window: r.try_get::<i64, _>("accepted_at_window")? != 0,
        paused_since: date_col(r, "paused_since")?,
        paused_days: r.try_get("paused_days")?,
        due_on: date_col(r, "due_on")?,
        decision: r.try_get("decision")?,
        decision_reason: r.try_get("decision_reason")?,
        decided_at: r.try_get("decided_at")?,
        decision_document: json_col(r, "decision_document")?,
        submitted_at: r.try_get("submitted_at")?,
        updated_at: r.try_get("updated_at")?,
        window_since: r.try_get("window_since")?,
        version: r.try_get("version")?,
    })
}

/// One entry of a case's timeline.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CaseEvent {
    pub seq: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_name: String,
    pub role: Option<String>,
    pub department: String,
    pub reason: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub detail: Option<Value>,
    pub at: String,
}

/// One material of a case.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CaseMaterial {
    pub index: i64,
    pub name: String,
    pub source: String,
    #[schema(value_type = String)]
    pub provided_as: ProvidedAs,
    /// SM3 hash of the uploaded file (hex), when uploaded.
    pub hash: Option<String>,
    pub file_name: Option<String>,
    pub size: Option<i64>,
    pub content_type: Option<String>,
    /// The wallet credential that proves this material (免提交), when the applicant offered one.
    pub credential_id: Option<String>,
    pub credential_identifier: Option<String>,
    /// What verification said when the applicant consented: `{valid, reason, checked_at}`.
    #[schema(value_type = Option<Object>)]
    pub credential_check: Option<Value>,
    /// For a material filled from shared data: the access log entry of the read.
    pub exchange_ref: Option<String>,
    /// … and what it held: `{dataset, owner, values: [[field, label, value]]}`.
    #[schema(value_type = Option<Object>)]
    pub exchange_data: Option<Value>,
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

pub async fn get(db: &Db, number: &str) -> StoreResult<Option<CaseRecord>> {
    let row = query(format!("SELECT {CASE_COLUMNS} FROM cases WHERE number = $1"))
        .bind(number)
        .read_optional(db)
        .await?;
    let vault = db.vault()?;
    row.as_ref().map(|r| case_from_row(r, vault)).transpose()
}

fn get_in(conn: &mut dyn Tx, vault: &Vault, number: &str) -> StoreResult<Option<CaseRecord>> {
    let row = query(format!("SELECT {CASE_COLUMNS} FROM cases WHERE number = $1"))
        .bind(number)
        .fetch_optional(&mut *conn)?;
    row.as_ref().map(|r| case_from_row(r, vault)).transpose()
}

/// An enterprise's registered name.
pub async fn enterprise_name(db: &Db, credit_code: &str) -> StoreResult<Option<String>> {
    let row = query("SELECT name FROM enterprises WHERE credit_code = $1")
        .bind(credit_code)
        .read_optional(db)
        .await?;
    Ok(row.map(|r| r.try_get("name")).transpose()?)
}

/// An enterprise's cases of one item, newest first (the policy window checks for an open
/// application of the same policy; the benefits page links to it).
pub async fn of_enterprise_item(db: &Db, credit_code: &str, item_code: &str) -> StoreResult<Vec<CaseRecord>> {
    let rows = query(format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE enterprise = $1 AND item_code = $2 ORDER BY submitted_at DESC, number DESC"
    ))
    .bind(credit_code)
    .bind(item_code)
    .read_all(db)
    .await?;
    let vault = db.vault()?;
    rows.iter().map(|r| case_from_row(r, vault)).collect()
}

/// The cases of `item_code` whose stored answers contain `answers_fragment` (e.g. the policy
/// window's `"policy":"JN-ZC-2026-008"`), newest first, at most `limit`.
pub async fn of_item_with_answer(
    db: &Db,
    item_code: &str,
    answers_fragment: &str,
    limit: i64,
) -> StoreResult<Vec<CaseRecord>> {
    let escaped = answers_fragment.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let rows = query(format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE item_code = $1 AND answers LIKE $2 ESCAPE '\\' \
         ORDER BY submitted_at DESC, number DESC LIMIT $3"
    ))
    .bind(item_code)
    .bind(format!("%{escaped}%"))
    .bind(limit)
    .read_all(db)
    .await?;
    let vault = db.vault()?;
    rows.iter().map(|r| case_from_row(r, vault)).collect()
}

/// A user's display name (for the timeline).
pub async fn events(db: &Db, number: &str) -> StoreResult<Vec<CaseEvent>> {
    let rows = query(
        "SELECT seq, action, from_state, to_state, actor_name, role, department, reason, detail, at \
         FROM case_events WHERE case_number = $1 ORDER BY seq",
    )
    .bind(number)
    .read_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CaseEvent {
                seq: r.try_get("seq")?,
                action: r.try_get("action")?,
                from_state: r.try_get("from_state")?,
                to_state: r.try_get("to_state")?,
                actor_name: r.try_get("actor_name")?,
                role: r.try_get("role")?,
                department: r.try_get("department")?,
                reason: r.try_get("reason")?,
                detail: json_col(r, "detail")?,
                at: r.try_get("at")?,
            })
        })
        .collect()
}

pub async fn materials(db: &Db, number: &str) -> StoreResult<Vec<CaseMaterial>> {
    let rows = query(
        "SELECT m.idx, m.name, m.source, m.provided_as, m.upload_hash, m.file_name, m.size, m.content_type, \
         m.credential_id, m.credential_check, m.exchange_ref, m.exchange_data, c.identifier FROM case_materials m \
         LEFT JOIN credentials c ON c.id = m.credential_id WHERE m.case_number = $1 ORDER BY m.idx",
    )
    .bind(number)
    .read_all(db)
    .await?;
    let vault = db.vault()?;
    rows.iter()
        .map(|r| {
            let p: String = r.try_get("provided_as")?;
            let exchange_data = match r.try_get::<Option<String>, _>("exchange_data")? {
                Some(sealed) => Some(
                    vault
                        .open(&sealed, "case_materials.exchange_data")
                        .map_err(|e| StoreError::Invalid(e.to_string()))?,
                ),
                None => None,
            };
            Ok(CaseMaterial {
                index: r.try_get("idx")?,
                name: r.try_get("name")?,
                source: r.try_get("source")?,
                provided_as: ProvidedAs::parse(&p).unwrap_or(ProvidedAs::Missing),
                hash: r.try_get("upload_hash")?,
                file_name: r.try_get("file_name")?,
                size: r.try_get("size")?,
                content_type: r.try_get("content_type")?,
                credential_id: r.try_get("credential_id")?,
                credential_identifier: r.try_get("identifier")?,
                credential_check: r
                    .try_get::<Option<String>, _>("credential_check")?
                    .and_then(|s| serde_json::from_str(&s).ok()),
                exchange_ref: r.try_get("exchange_ref")?,
                exchange_data: exchange_data.and_then(|s| serde_json::from_str(&s).ok()),
            })
        })
        .collect()
}

pub async fn children(db: &Db, parent: &str) -> StoreResult<Vec<CaseRecord>> {
    let rows = query(format!("SELECT {CASE_COLUMNS} FROM cases WHERE parent_number = $1 ORDER BY number"))
        .bind(parent)
        .read_all(db)
        .await?;
    let vault = db.vault()?;
    rows.iter().map(|r| case_from_row(r, vault)).collect()
}

/// The applicant's own cases and those of the enterprises they act for (top level only: a
/// bundle shows as one entry).
pub async fn for_applicant(db: &Db, user_id: &str, enterprises: &[String]) -> StoreResult<Vec<CaseRecord>> {
    let mut sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE parent_number IS NULL AND (applicant_id = $1 OR submitted_by = $1"
    );
    for i in 0..enterprises.len() {
        sql.push_str(&format!(" OR enterprise = ${}", i + 2));
    }
    sql.push_str(") ORDER BY submitted_at DESC LIMIT 200");
    let mut q = query(sql).bind(user_id);
    for e in enterprises {
        q = q.bind(e);
    }
    let rows = q.read_all(db).await?;
    let vault = db.vault()?;
    rows.iter().map(|r| case_from_row(r, vault)).collect()
}

/// Which cases a staff list shows.
#[derive(Clone, Debug)]
pub enum Queue {
    /// Item cases handled by this department, optionally in one state.
    Department { department: String, state: Option<CaseState> },
    /// Every case waiting for acceptance, city-wide (the general window's intake).
    Intake,
    /// Closed cases whose result goes back through the general window (统一窗口出件).
    WindowDelivery,
    /// All open item cases city-wide (supervision).
    AllOpen,
    /// Item cases whose deadline can still run or be waited on — waiting for acceptance, being
    /// handled, or waiting for a 补正 — of one department or the whole city: what the lights,
    /// the dashboards and electronic monitoring look at (a decided case has no light left).
    Running { department: Option<String> },
    /// Item cases submitted between two instants (stored text), city-wide (supervision).
    SubmittedBetween { from: String, to: String },
    /// Item cases decided between two instants, city-wide (supervision).
    DecidedBetween { from: String, to: String },
}

/// The states of [`Queue::Running`].
const RUNNING_STATES: &str = "('submitted','accepted','under_review','supplement_requested')";

/// The `WHERE` condition (after `kind = 'item'`) and its bind values for a queue.
fn queue_condition(q: &Queue) -> (String, Vec<String>) {
    let open =
        "('submitted','accepted','under_review','supplement_requested','approved','rejected','closed')";
    match q {
        Queue::Department { department, state: Some(s) } => {
            ("department = $1 AND state = $2".into(), vec![department.clone(), s.as_str().into()])
        }
        Queue::Department { department, state: None } => {
            (format!("department = $1 AND state IN {open}"), vec![department.clone()])
        }
        Queue::Intake => ("state = 'submitted'".into(), vec![]),
        Queue::WindowDelivery => ("state = 'closed' AND accepted_at_window = 1".into(), vec![]),
        Queue::AllOpen => (format!("state IN {open}"), vec![]),
        Queue::Running { department: None } => (format!("state IN {RUNNING_STATES}"), vec![]),
        Queue::Running { department: Some(d) } => {
            (format!("department = $1 AND state IN {RUNNING_STATES}"), vec![d.clone()])
        }
        Queue::SubmittedBetween { from, to } => {
            ("submitted_at >= $1 AND submitted_at < $2".into(), vec![from.clone(), to.clone()])
        }
        Queue::DecidedBetween { from, to } => {
            ("decided_at >= $1 AND decided_at < $2".into(), vec![from.clone(), to.clone()])
        }
    }
}

pub async fn queue(db: &Db, q: &Queue, limit: i64) -> StoreResult<Vec<CaseRecord>> {
    read_queue(db, q, limit, CASE_COLUMNS).await
}

async fn read_queue(db: &Db, q: &Queue, limit: i64, columns: &str) -> StoreResult<Vec<CaseRecord>> {
    let (cond, binds) = queue_condition(q);
    let sql = format!(
        "SELECT {columns} FROM cases WHERE kind = 'item' AND {cond} \
         ORDER BY CASE WHEN due_on IS NULL THEN 1 ELSE 0 END, due_on, submitted_at LIMIT {limit}"
    );
    let mut query = query(sql);
    for b in binds {
        query = query.bind(b);
    }
    let rows = query.read_all(db).await?;
    let vault = db.vault()?;
    rows.iter().map(|r| case_from_row(r, vault)).collect()
}

/// The columns of [`CASE_COLUMNS`] that lights, deadlines and lists need: the applicant's
/// form, answers, commitment and decision document are read as empty.
const CLOCK_COLUMNS: &str = "number, parent_number, kind, item_code, bundle_code, title, department, \
    owner_department, applicant_id, applicant_name, enterprise, submitted_by, state, single_approver, immediate, \
    with_commitment, in_person, promised_days, '{}' AS form, NULL AS answers, NULL AS commitment_text, complete, \
    accepted_on, accepted_at_window, paused_since, paused_days, due_on, decision, decision_reason, decided_at, \
    NULL AS decision_document, submitted_at, updated_at, window_since, version";

/// A queue's cases for their clocks over a whole city (monitoring, supervision, dashboards):
/// like [`queue`], without the applicants' forms and answers (left empty, so nothing sealed is
/// opened for a count). Never use these records to show or change a case.
pub async fn queue_clocks(db: &Db, q: &Queue, limit: i64) -> StoreResult<Vec<CaseRecord>> {
    read_queue(db, q, limit, CLOCK_COLUMNS).await
}

/// How many cases a queue holds (for the workbench's tabs).
pub async fn queue_count(db: &Db, q: &Queue) -> StoreResult<i64> {
    let (cond, binds) = queue_condition(q);
    let sql = format!("SELECT COUNT(*) AS n FROM cases WHERE kind = 'item' AND {cond}");
    let mut query = query(sql);
    for b in binds {
        query = query.bind(b);
    }
    Ok(query.read_one(db).await?.try_get("n")?)
}

/// Number of item cases per state in a department.
pub async fn counts(db: &Db, department: &str) -> StoreResult<Vec<(CaseState, i64)>> {
    let rows = query(
        "SELECT state, COUNT(*) AS n FROM cases WHERE department = $1 AND kind = 'item' GROUP BY state",
    )
    .bind(department)
    .read_all(db)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let s: String = r.try_get("state")?;
        if let Some(state) = CaseState::parse(&s) {
            out.push((state, r.try_get("n")?));
        }
    }
    out.sort_by_key(|(s, _)| CaseState::ALL.iter().position(|x| x == s));
    Ok(out)
}

/// Whether the applicant (or the enterprise) has a credit mark for a false commitment, which
/// bars them from the commitment route.
pub async fn has_credit_mark(db: &Db, applicant_id: &str, enterprise: Option<&str>) -> StoreResult<bool> {
    let row = query(
        "SELECT COUNT(*) AS n FROM credit_marks WHERE (subject_kind = 'person' AND subject = $1) \
         OR (subject_kind = 'enterprise' AND subject = $2)",
    )
    .bind(applicant_id)
    .bind(enterprise.unwrap_or(""))
    .read_one(db)
    .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

// ---------------------------------------------------------------------------------------------
// Submitting
// ---------------------------------------------------------------------------------------------

/// One item case to create.
#[derive(Clone, Debug)]
pub struct NewItemCase {
    /// Done in the applicant's own name although the submission is an enterprise's (a personal
    /// part of an enterprise's bundle): the case and any licence belong to the person.
    pub personal: bool,
    pub item_code: String,
    /// What the application chose within the item, as JSON (the policy window's policy).
    pub answers: Option<Value>,
    pub title: String,
    pub department: String,
    pub promised_days: u32,
    pub flags: CaseFlags,
    pub materials: Vec<PlannedMaterial>,
}

/// The parent of a bundle application.
#[derive(Clone, Debug)]
pub struct NewBundleCase {
    pub bundle_code: String,
    pub title: String,
    pub lead_department: String,
    pub promised_days: u32,
    pub answers: Value,
    /// A construction project's stage: the project row is claimed at the version the stage
    /// was decided on, and the bundle is linked to it.
    pub project: Option<ProjectStageClaim>,
}

/// The project a stage application belongs to, as read when the stage was allowed.
#[derive(Clone, Debug)]
pub struct ProjectStageClaim {
    pub code: String,
    pub stage: u8,
    pub version: i64,
}

#[derive(Clone, Debug)]
pub struct Submission {
    pub day: NaiveDate,
    pub applicant_id: String,
    /// The enterprise's name when it applies, the person's otherwise.
    pub applicant_name: String,
    /// The person applying (the enterprise's representative when it applies).
    pub person_name: String,
    pub enterprise: Option<String>,
    pub submitted_by: String,
    pub submitted_by_name: String,
    pub form: ApplicationForm,
    pub commitment_text: Option<String>,
    pub bundle: Option<NewBundleCase>,
    pub items: Vec<NewItemCase>,
}

/// Creates the case (or the bundle's parent and its sub-cases) and returns the top-level number.
///
/// On PostgreSQL the day's numbers are taken in their own short transaction: the counter row is
/// one per day, and holding its lock through the whole submission would queue every applicant
/// behind the slowest. A submission that then fails leaves a gap in the sequence, which is
/// allowed (numbers are unique, not contiguous). On SQLite the single writer serialises anyway,
/// so the numbers are taken in the submission's own transaction.
pub async fn submit(db: &Db, s: Submission) -> StoreResult<String> {
    let needed = (s.items.len() + usize::from(s.bundle.is_some())) as i64;
    let day = s.day.format("%Y-%m-%d").to_string();
    let reserved = if db.backend() == crate::store::Backend::Postgres {
        let d = day.clone();
        Some(db.write(move |conn| take_numbers(conn, &d, needed)).await?)
    } else {
        None
    };
    let now = db.now_text();
    let vault = db.vault()?.clone();
    db.write(move |conn| {
        let last = match reserved {
            Some(last) => last,
            None => take_numbers(conn, &day, needed)?,
        };
        submit_in(conn, &vault, &now, &s, last)
    })
    .await
}

/// Reserves the next decision document number of `kind` in `year`, in its own short
/// transaction: the document is sealed with it before the decision's write.
pub async fn reserve_decision_number(db: &Db, year: i32, kind: &'static str) -> StoreResult<i64> {
    db.write(move |conn| {
        Ok(query(
            "INSERT INTO decision_counters (year, kind, last) VALUES ($1, $2, 1) \
             ON CONFLICT (year, kind) DO UPDATE SET last = decision_counters.last + 1 RETURNING last",
        )
        .bind(i64::from(year))
        .bind(kind)
        .fetch_one(&mut *conn)?
        .try_get("last")?)
    })
    .await
}

/// Takes `needed` numbers from the day's counter; returns the last one.
fn take_numbers(conn: &mut dyn Tx, day: &str, needed: i64) -> StoreResult<i64> {
    Ok(query(
        "INSERT INTO case_counters (day, last) VALUES ($1, $2) \
         ON CONFLICT (day) DO UPDATE SET last = case_counters.last + $2 RETURNING last",
    )
    .bind(day)
    .bind(needed)
    .fetch_one(&mut *conn)?
    .try_get("last")?)
}

fn submit_in(conn: &mut dyn Tx, vault: &Vault, now: &str, s: &Submission, last: i64) -> StoreResult<String> {
    let needed = s.items.len() + usize::from(s.bundle.is_some());
    let first = last - needed as i64 + 1;
    let mut numbers =
        (first..=last).map(|n| domain::case_number(s.day, u32::try_from(n).unwrap_or(u32::MAX)));
    let now = now.to_string();
    let form = seal_form(&s.form, vault)?;
    let actor = format!("user:{}", s.submitted_by);
    let on_behalf = (s.submitted_by != s.applicant_id).then(|| json!({"submitted_by": s.submitted_by_name}));

    let parent = match &s.bundle {
        Some(b) => {
            let number = numbers.next().ok_or(StoreError::Invalid("no case number".into()))?;
            insert_case(
                conn,
                &CaseInsert {
                    number: &number,
                    parent: None,
                    kind: "bundle",
                    item_code: None,
                    bundle_code: Some(&b.bundle_code),
                    title: &b.title,
                    department: &b.lead_department,
                    promised_days: b.promised_days,
                    flags: CaseFlags::default(),
                    answers: Some(b.answers.to_string()),
                    complete: true,
                    now: &now,
                    form: &form,
                    personal: false,
                },
                s,
            )?;
            insert_event(
                conn,
                &now,
                &number,
                1,
                EventInsert::new(
                    "submit",
                    None,
                    CaseState::Submitted,
                    &s.submitted_by_name,
                    &b.lead_department,
                )
                .actor_id(&s.submitted_by)
                .detail(on_behalf.clone()),
            )?;
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    format!("case:{number}"),
                    &actor,
                    "case.submit",
                    format!("case:{number}"),
                    format!("bundle {} submitted with {} parts", b.bundle_code, s.items.len()),
                ),
            )?;
            if let Some(p) = &b.project {
                crate::projects::store::claim_for_stage(conn, &now, &p.code, p.version)?;
                query("UPDATE cases SET project_code = $1, project_stage = $2 WHERE number = $3")
                    .bind(&p.code)
                    .bind(i64::from(p.stage))
                    .bind(&number)
                    .execute(&mut *conn)?;
                audit::store::append(
                    conn,
                    &now,
                    NewEntry::new(
                        format!("project:{}", p.code),
                        &actor,
                        "project.stage_submit",
                        format!("project:{}", p.code),
                        format!("stage {} applied for as case {number}", p.stage),
                    ),
                )?;
            }
            Some(number)
        }
        None => None,
    };

    let mut top = parent.clone();
    for item in &s.items {
        let number = numbers.next().ok_or(StoreError::Invalid("no case number".into()))?;
        let complete = item.materials.iter().all(|m| m.provided_as != ProvidedAs::Missing);
        insert_case(
            conn,
            &CaseInsert {
                number: &number,
                parent: parent.as_deref(),
                kind: "item",
                item_code: Some(&item.item_code),
                bundle_code: s.bundle.as_ref().map(|b| b.bundle_code.as_str()),
                title: &item.title,
                department: &item.department,
                promised_days: item.promised_days,
                flags: item.flags,
                answers: item.answers.as_ref().map(Value::to_string),
                complete,
                now: &now,
                form: &form,
                personal: item.personal,
            },
            s,
        )?;
        insert_materials(conn, vault, &number, &item.materials)?;
        for m in &item.materials {
            if let Some(shared) = &m.shared {
                let access =
                    crate::data::store::Access { case_number: Some(number.clone()), ..shared.access.clone() };
                crate::data::store::log_access(conn, &access)?;
            }
        }
        for m in &item.materials {
            if let Some(c) = &m.credential {
                crate::licences::store::audit_consent(
                    conn,
                    &now,
                    &s.applicant_id,
                    &c.credential_id,
                    &number,
                    &m.name,
                )?;
            }
        }
        insert_event(
            conn,
            &now,
            &number,
            1,
            EventInsert::new("submit", None, CaseState::Submitted, &s.submitted_by_name, &item.department)
                .actor_id(&s.submitted_by)
                .detail(on_behalf.clone()),
        )?;
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("case:{number}"),
                &actor,
                "case.submit",
                format!("case:{number}"),
                format!("item {} submitted", item.item_code),
            ),
        )?;
        if top.is_none() {
            top = Some(number);
        }
    }
    let top = top.ok_or(StoreError::Invalid("nothing to submit".into()))?;
    let title = s.bundle.as_ref().map(|b| b.title.as_str()).unwrap_or_else(|| s.items[0].title.as_str());
    notify(
        conn,
        &now,
        0,
        &s.applicant_id,
        Some(&top),
        &Message {
            title_zh: format!("申请已提交：{title}"),
            title_en: format!("Application submitted: {title}"),
            body_zh: format!("您的办件编号为 {top}，部门受理后将通知您。{}", at_hall_zh(s)),
            body_en: format!(
                "Your case number is {top}. We will tell you when it is accepted.{}",
                at_hall_en(s)
            ),
        },
        Some(&SealedReach::new(&s.form.reach(), vault)),
    )?;
    Ok(top)
}

/// The submission message's line about a bundle's parts done at a hall (empty when none).
fn at_hall_zh(s: &Submission) -> String {
    let names: Vec<&str> = s.items.iter().filter(|i| i.flags.in_person).map(|i| i.title.as_str()).collect();
    if names.is_empty() {
        return String::new();
    }
    format!("其中“{}”需到政务服务大厅办理，请预约后携带材料原件到窗口。", names.join("”“"))
}

fn at_hall_en(s: &Submission) -> String {
    let names: Vec<&str> = s.items.iter().filter(|i| i.flags.in_person).map(|i| i.title.as_str()).collect();
    if names.is_empty() {
        return String::new();
    }
    format!(
        " These parts are done at a service hall: {}. Book a visit and bring the originals.",
        names.join("; ")
    )
}

/// All of a case's materials in one statement (one trip to the writer, not one per material).
fn insert_materials(
    conn: &mut dyn Tx,
    vault: &Vault,
    number: &str,
    materials: &[PlannedMaterial],
) -> StoreResult<()> {
    if materials.is_empty() {
        return Ok(());
    }
    const COLUMNS: usize = 13;
    let mut sql = String::from(
        "INSERT INTO case_materials (case_number, idx, name, source, provided_as, upload_hash, file_name, size, \
         content_type, credential_id, credential_check, exchange_ref, exchange_data) VALUES ",
    );
    for i in 0..materials.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        let params: Vec<String> = (1..=COLUMNS).map(|k| format!("${}", i * COLUMNS + k)).collect();
        sql.push_str(&format!("({})", params.join(", ")));
    }
    let mut q = query(sql);
    for m in materials {
        q = q
            .bind(number)
            .bind(m.index as i64)
            .bind(&m.name)
            .bind(&m.source)
            .bind(m.provided_as.as_str())
            .bind(m.file.as_ref().map(|f| f.hash.clone()))
            .bind(m.file.as_ref().map(|f| f.file_name.clone()))
            .bind(m.file.as_ref().map(|f| f.size))
            .bind(m.file.as_ref().map(|f| f.content_type.clone()))
            .bind(m.credential.as_ref().map(|c| c.credential_id.clone()))
            .bind(m.credential.as_ref().map(|c| c.check.clone()))
            .bind(m.shared.as_ref().map(|s| s.access.id.clone()))
            .bind(m.shared.as_ref().map(|s| {
                let data = serde_json::json!({"dataset": s.dataset, "owner": s.owner, "values": s.values});
                vault.seal(&data.to_string(), "case_materials.exchange_data")
            }));
    }
    q.execute(&mut *conn)?;
    Ok(())
}

struct CaseInsert<'a> {
    number: &'a str,
    parent: Option<&'a str>,
    kind: &'a str,
    item_code: Option<&'a str>,
    bundle_code: Option<&'a str>,
    title: &'a str,
    department: &'a str,
    promised_days: u32,
    flags: CaseFlags,
    answers: Option<String>,
    complete: bool,
    now: &'a str,
    form: &'a str,
    /// In the person's own name (see [`NewItemCase::personal`]).
    personal: bool,
}

fn insert_case(conn: &mut dyn Tx, c: &CaseInsert<'_>, s: &Submission) -> StoreResult<()> {
    query(
        "INSERT INTO cases (number, parent_number, kind, item_code, bundle_code, title, department, owner_department, \
         applicant_id, applicant_name, enterprise, submitted_by, state, single_approver, immediate, with_commitment, \
         promised_days, form, answers, commitment_text, complete, submitted_at, updated_at, window_since, version, \
         in_person) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, 'submitted', $12, $13, $14, $15, $16, $17, $18, \
         $19, $20, $20, $20, 1, $21)",
    )
    .bind(c.number)
    .bind(c.parent)
    .bind(c.kind)
    .bind(c.item_code)
    .bind(c.bundle_code)
    .bind(c.title)
    .bind(c.department)
    .bind(&s.applicant_id)
    .bind(if c.personal { &s.person_name } else { &s.applicant_name })
    .bind(if c.personal { &None } else { &s.enterprise })
    .bind(&s.submitted_by)
    .bind(i64::from(c.flags.single_approver))
    .bind(i64::from(c.flags.immediate))
    .bind(i64::from(c.flags.commitment))
    .bind(i64::from(c.promised_days))
    .bind(c.form)
    .bind(&c.answers)
    .bind(if c.flags.commitment || c.kind == "bundle" { s.commitment_text.clone() } else { None })
    .bind(i64::from(c.complete))
    .bind(c.now)
    .bind(i64::from(c.flags.in_person))
    .execute(&mut *conn)?;
    Ok(())
}

struct EventInsert<'a> {
    action: &'a str,
    from: Option<CaseState>,
    to: CaseState,
    actor_id: Option<&'a str>,
    actor_name: &'a str,
    role: Option<&'a str>,
    department: &'a str,
    reason: Option<&'a str>,
    detail: Option<Value>,
}

impl<'a> EventInsert<'a> {
    fn new(
        action: &'a str,
        from: Option<CaseState>,
        to: CaseState,
        actor_name: &'a str,
        department: &'a str,
    ) -> Self {
        EventInsert {
            action,
            from,
            to,
            actor_id: None,
            actor_name,
            role: None,
            department,
            reason: None,
            detail: None,
        }
    }
    fn actor_id(mut self, id: &'a str) -> Self {
        self.actor_id = Some(id);
        self
    }
    fn detail(mut self, d: Option<Value>) -> Self {
        self.detail = d;
        self
    }
}

fn insert_event(conn: &mut dyn Tx, now: &str, number: &str, seq: i64, e: EventInsert<'_>) -> StoreResult<()> {
    query(
        "INSERT INTO case_events (case_number, seq, action, from_state, to_state, actor_id, actor_name, role, \
         department, reason, detail, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(number)
    .bind(seq)
    .bind(e.action)
    .bind(e.from.map(|s| s.as_str()))
    .bind(e.to.as_str())
    .bind(e.actor_id)
    .bind(e.actor_name)
    .bind(e.role)
    .bind(e.department)
    .bind(e.reason)
    .bind(e.detail.map(|d| d.to_string()))
    .bind(now)
    .execute(&mut *conn)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Acting
// ---------------------------------------------------------------------------------------------

/// A file offered again with a resubmission (replacing material `index`).
pub use super::intake::OfferedFile;

impl<'a> From<&'a NewEvent> for EventInsert<'a> {
    fn from(e: &'a NewEvent) -> Self {
        EventInsert {
            action: &e.action,
            from: e.from,
            to: e.to,
            actor_id: e.actor_id.as_deref(),
            actor_name: &e.actor_name,
            role: e.role,
            department: &e.department,
            reason: e.reason.as_deref(),
            detail: e.detail.clone(),
        }
    }
}

/// Writes one action's change (decided by [`domain::decide_action`]) with the e-licence its
/// approval issues (signed before the write). The first statement claims the case at the
/// version the decision was made from; if someone else changed it first, the write fails with
/// [`StoreError::Conflict`] and nothing of it is kept. A part of a bundle locks its parent
/// before that, so that every writer takes the two rows in the same order (parent, then part)
/// and two parts finishing at once update the parent one after the other.
pub async fn act(
    db: &Db,
    change: CaseChange,
    licence: Option<crate::licences::store::NewCredential>,
    award: Option<crate::policies::window::Award>,
) -> StoreResult<CaseRecord> {
    let now = change.case.updated_at.clone();
    let vault = db.vault()?.clone();
    db.write(move |conn| {

            let c = &change.case;
            if let Some(parent) = &c.parent_number {
                lock_row(conn, LockTable::Case, parent)?;
            }
            claim_case(conn, &change)?;
            for f in &change.replaced_files {
                query(
                    "UPDATE case_materials SET provided_as = 'upload', upload_hash = $1, file_name = $2, size = $3, \
                     content_type = $4 WHERE case_number = $5 AND idx = $6",
                )
                .bind(&f.hash)
                .bind(&f.file_name)
                .bind(f.size)
                .bind(&f.content_type)
                .bind(&c.number)
                .bind(f.index as i64)
                .execute(&mut *conn)?;
            }
            insert_event(conn, &now, &c.number, change.event.seq, (&change.event).into())?;
            audit::store::append(conn, &now, change.audit.clone())?;
            if let Some(check) = &change.post_check {
                query(
                    "INSERT INTO post_checks (id, case_number, department, due_on, status, created_at, version) \
                     VALUES ($1, $2, $3, $4, 'open', $5, 1)",
                )
                .bind(new_user_id())
                .bind(&c.number)
                .bind(&check.department)
                .bind(check.due_on.format("%Y-%m-%d").to_string())
                .bind(&now)
                .execute(&mut *conn)?;
            }
            let reach = change.reach.as_ref().map(|r| SealedReach::new(r, &vault));
            notify(conn, &now, 0, &c.applicant_id, Some(&c.number), &change.message, reach.as_ref())?;
            if let Some(parent) = &c.parent_number {
                refresh_parent(conn, &vault, &now, parent)?;
            }
            // Last: storing the e-licence appends to the issuing department's audit stream, a row
            // every approval of that department locks; taken last, it is held only until the
            // commit that follows.
            if change.approves
                && let Some(l) = &licence
            {
                crate::licences::store::issue_in(conn, &now, l)?;
            }
            // An approved policy application records the enterprise's benefit with it.
            if change.approves
                && let Some(a) = &award
            {
                crate::policies::store::award_in(conn, &vault, &now, a)?;
            }
            Ok(change.case)

    })
    .await
}

/// The version-guarded update that claims the case for `change`.
fn claim_case(conn: &mut dyn Tx, change: &CaseChange) -> StoreResult<()> {
    let c = &change.case;
    let claimed = query(
        "UPDATE cases SET state = $1, department = $2, accepted_on = $3, accepted_by = COALESCE(accepted_by, $4), \
         accepted_at_window = $5, paused_since = $6, paused_days = $7, due_on = $8, decision = $9, \
         decision_reason = $10, decided_at = $11, decision_document = $12, complete = $13, updated_at = $14, \
         version = $15, window_since = $18 WHERE number = $16 AND version = $17",
    )
    .bind(c.state.as_str())
    .bind(&c.department)
    .bind(c.accepted_on.map(|d| d.format("%Y-%m-%d").to_string()))
    .bind(&change.accepted_by)
    .bind(i64::from(c.accepted_at_window))
    .bind(c.paused_since.map(|d| d.format("%Y-%m-%d").to_string()))
    .bind(c.paused_days)
    .bind(c.due_on.map(|d| d.format("%Y-%m-%d").to_string()))
    .bind(&c.decision)
    .bind(&c.decision_reason)
    .bind(&c.decided_at)
    .bind(c.decision_document.as_ref().map(|d| d.to_string()))
    .bind(i64::from(c.complete))
    .bind(&c.updated_at)
    .bind(c.version)
    .bind(&c.number)
    .bind(change.expected_version)
    .bind(&c.window_since)
    .execute(&mut *conn)?;
    if claimed.rows_affected() == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// The opinions given on a joint-review case, in the order given.
pub async fn joint_opinions(db: &Db, number: &str) -> StoreResult<Vec<JointOpinion>> {
    let rows = query(
        "SELECT department, opinion, comment, by_name, at, version FROM joint_opinions \
         WHERE case_number = $1 ORDER BY at, department",
    )
    .bind(number)
    .read_all(db)
    .await?;
    rows.iter().map(joint_opinion_from_row).collect()
}

fn joint_opinion_from_row(r: &Row) -> StoreResult<JointOpinion> {
    let opinion: String = r.try_get("opinion")?;
    Ok(JointOpinion {
        department: r.try_get("department")?,
        opinion: Opinion::parse(&opinion).ok_or_else(|| StoreError::Invalid(format!("opinion {opinion}")))?,
        comment: r.try_get("comment")?,
        by_name: r.try_get("by_name")?,
        at: r.try_get("at")?,
        version: r.try_get("version")?,
    })
}

/// A member department's opinion on a joint-review case, as decided.
#[derive(Clone, Debug)]
pub struct GivenOpinion {
    pub case_number: String,
    pub department: String,
    pub opinion: Opinion,
    pub comment: Option<String>,
    pub by_id: String,
    pub by_name: String,
    pub change: OpinionChange,
    pub event: NewEvent,
}

/// Records a joint-review opinion: claims the case (still under review), then inserts the
/// department's opinion (or replaces its 不同意 at the version read: a second opinion of the same
/// department decided on the same reading loses here), with the timeline event and the audit
/// entry.
pub async fn give_joint_opinion(db: &Db, g: GivenOpinion) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {
        // The case is claimed while it is still under review, not at the version read: member
        // departments review in parallel and one's opinion must not turn another's away. The
        // version still moves, so an approval decided before this opinion loses its own claim.
        let claimed = query(
            "UPDATE cases SET updated_at = $1, version = version + 1 \
             WHERE number = $2 AND state IN ('accepted', 'under_review')",
        )
        .bind(&now)
        .bind(&g.case_number)
        .execute(&mut *conn)?;
        if claimed.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        let written = match g.change {
            OpinionChange::Insert => query(
                "INSERT INTO joint_opinions (case_number, department, opinion, comment, by_id, by_name, at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 1) ON CONFLICT (case_number, department) DO NOTHING",
            )
            .bind(&g.case_number)
            .bind(&g.department)
            .bind(g.opinion.as_str())
            .bind(&g.comment)
            .bind(&g.by_id)
            .bind(&g.by_name)
            .bind(&now)
            .execute(&mut *conn)?,
            OpinionChange::Replace { version } => query(
                "UPDATE joint_opinions SET opinion = $1, comment = $2, by_id = $3, by_name = $4, at = $5, \
                 version = version + 1 WHERE case_number = $6 AND department = $7 AND version = $8",
            )
            .bind(g.opinion.as_str())
            .bind(&g.comment)
            .bind(&g.by_id)
            .bind(&g.by_name)
            .bind(&now)
            .bind(&g.case_number)
            .bind(&g.department)
            .bind(version)
            .execute(&mut *conn)?,
        };
        if written.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        // Numbered after whatever another member's opinion added since it was read (the case
        // row claimed above holds the others back until this commits).
        let seq: i64 = query("SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM case_events WHERE case_number = $1")
            .bind(&g.case_number)
            .fetch_one(&mut *conn)?
            .try_get("seq")?;
        insert_event(conn, &now, &g.case_number, seq, (&g.event).into())?;
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("case:{}", g.case_number),
                format!("user:{}", g.by_id),
                "case.joint_opinion",
                format!("case:{}", g.case_number),
                format!("{} {}", g.department, g.opinion.as_str()),
            ),
        )?;
        Ok(())
    })
    .await
}

/// The cases of these items still being reviewed (accepted or under review), oldest first.
pub async fn under_review_of_items(db: &Db, items: &[String]) -> StoreResult<Vec<CaseRecord>> {
    let vault = db.vault()?;
    let mut out = Vec::new();
    for item in items {
        let rows = query(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE item_code = $1 AND state IN ('accepted', 'under_review') \
             ORDER BY submitted_at"
        ))
        .bind(item)
        .read_all(db)
        .await?;
        for r in &rows {
            out.push(case_from_row(r, vault)?);
        }
    }
    Ok(out)
}

/// The project and stage a stage application belongs to.
pub async fn project_of(db: &Db, number: &str) -> StoreResult<Option<(String, i64)>> {
    let row =
        query("SELECT project_code, project_stage FROM cases WHERE number = $1 AND project_code IS NOT NULL")
            .bind(number)
            .read_optional(db)
            .await?;
    row.map(|r| Ok((r.try_get("project_code")?, r.try_get("project_stage")?))).transpose()
}

/// The department a case last came from by transfer (for "return it"), from its timeline.
pub async fn last_transfer_source(db: &Db, number: &str) -> StoreResult<Option<String>> {
    let row = query(
        "SELECT detail FROM case_events WHERE case_number = $1 AND action = 'transfer' ORDER BY seq DESC LIMIT 1",
    )
    .bind(number)
    .read_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let detail = json_col(&row, "detail")?;
    Ok(detail.and_then(|d| d.get("from").and_then(Value::as_str).map(str::to_string)))
}

/// Recomputes a bundle's state from its parts after one of them changed. The caller holds the
/// parent's row lock (taken before its own claim), so on PostgreSQL these reads see every
/// sibling's committed change and no two parts update the parent from the same old state.
fn refresh_parent(conn: &mut dyn Tx, vault: &Vault, now: &str, parent: &str) -> StoreResult<()> {
    let rows = query(
        "SELECT number, title, state, decision, decision_document FROM cases WHERE parent_number = $1 ORDER BY number",
    )
    .bind(parent)
    .fetch_all(&mut *conn)?;
    let parts = rows
        .iter()
        .map(|r| {
            let state: String = r.try_get("state")?;
            Ok(PartSummary {
                number: r.try_get("number")?,
                title: r.try_get("title")?,
                state: CaseState::parse(&state)
                    .ok_or_else(|| StoreError::Invalid(format!("bad case state {state}")))?,
                decision: r.try_get("decision")?,
                document_number: json_col(r, "decision_document")?
                    .and_then(|d| d.get("document_number").cloned()),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let Some(p) = get_in(conn, vault, parent)? else { return Ok(()) };
    let Some(change) = domain::decide_bundle_refresh(&p, &parts, now) else { return Ok(()) };
    let updated = query(
        "UPDATE cases SET state = $1, decision_document = $2, updated_at = $3, version = version + 1 \
         WHERE number = $4 AND version = $5",
    )
    .bind(change.state.as_str())
    .bind(change.decision_document.as_ref().map(|d| d.to_string()))
    .bind(now)
    .bind(parent)
    .bind(change.expected_version)
    .execute(&mut *conn)?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::Conflict);
    }
    insert_event(conn, now, parent, change.event.seq, (&change.event).into())?;
    if let Some((message, reach)) = &change.message {
        notify(conn, now, 1, &p.applicant_id, Some(parent), message, Some(&SealedReach::new(reach, vault)))?;
    }
    Ok(())
}

/// Withdraws a bundle's parts as [`domain::decide_bundle_withdrawal`] decided. Claims the parent
/// first (it must still be at the version the applicant saw), then each part at the version
/// read; any lost claim fails the whole withdrawal.
pub async fn withdraw_bundle(
    db: &Db,
    parent: CaseRecord,
    parts: Vec<PartWithdrawal>,
) -> StoreResult<CaseRecord> {
    let now = db.now_text();
    let vault = db.vault()?.clone();
    db.write(move |conn| {
        let claimed = query("UPDATE cases SET version = version WHERE number = $1 AND version = $2")
            .bind(&parent.number)
            .bind(parent.version)
            .execute(&mut *conn)?;
        if claimed.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        for part in &parts {
            let done = query(
                "UPDATE cases SET state = 'withdrawn', paused_since = NULL, updated_at = $1, \
                     version = version + 1 WHERE number = $2 AND version = $3",
            )
            .bind(&now)
            .bind(&part.number)
            .bind(part.expected_version)
            .execute(&mut *conn)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict);
            }
            insert_event(conn, &now, &part.number, part.event.seq, (&part.event).into())?;
            audit::store::append(conn, &now, part.audit.clone())?;
        }
        refresh_parent(conn, &vault, &now, &parent.number)?;
        get_in(conn, &vault, &parent.number)?.ok_or(StoreError::NotFound)
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Post-approval checks (事后核查) and credit marks
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PostCheck {
    pub id: String,
    pub case_number: String,
    pub case_title: String,
    pub applicant_name: String,
    pub department: String,
    pub due_on: String,
    /// `open`, `confirmed` or `false_commitment`.
    pub status: String,
    pub note: Option<String>,
    pub decided_at: Option<String>,
    pub created_at: String,
    pub version: i64,
}

const POST_CHECK_SQL: &str = "SELECT p.id, p.case_number, c.title, c.applicant_name, p.department, p.due_on, \
    p.status, p.note, p.decided_at, p.created_at, p.version FROM post_checks p JOIN cases c ON c.number = p.case_number";

fn post_check_from_row(r: &Row) -> StoreResult<PostCheck> {
    Ok(PostCheck {
        id: r.try_get("id")?,
        case_number: r.try_get("case_number")?,
        case_title: r.try_get("title")?,
        applicant_name: r.try_get("applicant_name")?,
        department: r.try_get("department")?,
        due_on: r.try_get("due_on")?,
        status: r.try_get("status")?,
        note: r.try_get("note")?,
        decided_at: r.try_get("decided_at")?,
        created_at: r.try_get("created_at")?,
        version: r.try_get("version")?,
    })
}

pub async fn post_checks_for(db: &Db, department: Option<&str>) -> StoreResult<Vec<PostCheck>> {
    let rows = match department {
        Some(d) => {
            query(format!("{POST_CHECK_SQL} WHERE p.department = $1 ORDER BY p.status, p.due_on LIMIT 200"))
                .bind(d)
                .read_all(db)
                .await?
        }
        None => query(format!("{POST_CHECK_SQL} ORDER BY p.status, p.due_on LIMIT 200")).read_all(db).await?,
    };
    rows.iter().map(post_check_from_row).collect()
}

pub async fn post_check(db: &Db, id: &str) -> StoreResult<Option<PostCheck>> {
    let row = query(format!("{POST_CHECK_SQL} WHERE p.id = $1")).bind(id).read_optional(db).await?;
    row.as_ref().map(post_check_from_row).transpose()
}

pub async fn post_checks_of_case(db: &Db, number: &str) -> StoreResult<Vec<PostCheck>> {
    let rows = query(format!("{POST_CHECK_SQL} WHERE p.case_number = $1")).bind(number).read_all(db).await?;
    rows.iter().map(post_check_from_row).collect()
}

/// Records a post-check's outcome. A false commitment revokes the approval and records a
/// credit mark against the applicant (the enterprise when it applied as one).
pub async fn conclude_post_check(
    db: &Db,
    id: &str,
    false_commitment: bool,
    note: String,
    actor_id: String,
    actor_name: String,
    expected_version: i64,
) -> StoreResult<PostCheck> {
    let pid = id.to_string();
    let now = db.now_text();
    let vault = db.vault()?.clone();
    db.write(move |conn| {

            let status = if false_commitment { "false_commitment" } else { "confirmed" };
            let number: String = query("SELECT case_number FROM post_checks WHERE id = $1")
                .bind(&pid)
                .fetch_optional(&mut *conn)?
                .ok_or(StoreError::NotFound)?
                .try_get("case_number")?;
            let case = get_in(conn, &vault, &number)?.ok_or(StoreError::NotFound)?;
            // Same lock order as every other write on a bundle's part: parent, then the part.
            if let Some(parent) = &case.parent_number {
                lock_row(conn, LockTable::Case, parent)?;
            }
            let done = query(
                "UPDATE post_checks SET status = $1, note = $2, decided_by = $3, decided_at = $4, version = version + 1 \
                 WHERE id = $5 AND version = $6 AND status = 'open'",
            )
            .bind(status)
            .bind(&note)
            .bind(&actor_id)
            .bind(&now)
            .bind(&pid)
            .bind(expected_version)
            .execute(&mut *conn)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict);
            }
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    format!("case:{number}"),
                    format!("user:{actor_id}"),
                    format!("case.post_check_{status}"),
                    format!("post_check:{pid}"),
                    note.clone(),
                ),
            )?;
            if false_commitment {
                let revoked = query(
                    "UPDATE cases SET state = 'revoked', decision = 'revoked', decision_reason = $1, updated_at = $2, \
                     version = version + 1 WHERE number = $3 AND version = $4",
                )
                .bind(&note)
                .bind(&now)
                .bind(&number)
                .bind(case.version)
                .execute(&mut *conn)?;
                if revoked.rows_affected() == 0 {
                    return Err(StoreError::Conflict);
                }
                // The licence the approval issued goes with it (status lists show it revoked).
                query(
                    "UPDATE credentials SET status = 'revoked', status_reason = $1, updated_at = $2, \
                     version = version + 1 WHERE case_number = $3 AND status <> 'revoked'",
                )
                .bind(format!("虚假承诺，审批决定已撤销 / false commitment, approval revoked: {note}"))
                .bind(&now)
                .bind(&number)
                .execute(&mut *conn)?;
                insert_event(
                    conn,
                    &now,
                    &number,
                    case.version + 1,
                    EventInsert {
                        action: "revoke",
                        from: Some(case.state),
                        to: CaseState::Revoked,
                        actor_id: Some(&actor_id),
                        actor_name: &actor_name,
                        role: None,
                        department: &case.department,
                        reason: Some(&note),
                        detail: Some(json!({"post_check": pid})),
                    },
                )?;
                let (kind, subject) = match &case.enterprise {
                    Some(e) => ("enterprise", e.clone()),
                    None => ("person", case.applicant_id.clone()),
                };
                query(
                    "INSERT INTO credit_marks (id, subject_kind, subject, case_number, reason, recorded_by, recorded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(new_user_id())
                .bind(kind)
                .bind(&subject)
                .bind(&number)
                .bind(format!("虚假承诺 false commitment: {note}"))
                .bind(&actor_id)
                .bind(&now)
                .execute(&mut *conn)?;
                audit::store::append(
                    conn,
                    &now,
                    NewEntry::new(
                        format!("case:{number}"),
                        format!("user:{actor_id}"),
                        "credit.mark_recorded",
                        format!("{kind}:{subject}"),
                        "false commitment: approval revoked, commitment route barred",
                    ),
                )?;
                notify(
                    conn,
                    &now,
                    0,
                    &case.applicant_id,
                    Some(&number),
                    &Message {
                        title_zh: format!("{} {}：审批决定已撤销", case.title, number),
                        title_en: format!("{} {}: the approval is revoked", case.title, number),
                        body_zh: format!(
                            "事后核查发现承诺不实：{note}。已记入信用记录，今后不再适用告知承诺。"
                        ),
                        body_en: format!(
                            "The post-approval check found the commitment false: {note}. A credit mark was recorded; the commitment route is no longer available to you."
                        ),
                    },
                    Some(&SealedReach::new(&case.form.reach(), &vault)),
                )?;
                if let Some(parent) = &case.parent_number {
                    refresh_parent(conn, &vault, &now, parent)?;
                }
            }
            Ok(())

    })
    .await?;
    post_check(db, id).await?.ok_or(StoreError::NotFound)
}

// ---------------------------------------------------------------------------------------------
// Uploads
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Drafts
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Draft {
    pub id: String,
    pub item_code: Option<String>,
    pub bundle_code: Option<String>,
    #[schema(value_type = Object)]
    pub data: Value,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    #[serde(skip)]
    pub owner_id: String,
}

fn draft_from_row(r: &Row) -> StoreResult<Draft> {
    let data: String = r.try_get("data")?;
    Ok(Draft {
        id: r.try_get("id")?,
        item_code: r.try_get("item_code")?,
        bundle_code: r.try_get("bundle_code")?,
        data: serde_json::from_str(&data).unwrap_or(Value::Null),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        version: r.try_get("version")?,
        owner_id: r.try_get("owner_id")?,
    })
}

pub async fn create_draft(
    db: &Db,
    owner: &str,
    item_code: Option<String>,
    bundle_code: Option<String>,
    data: Value,
) -> StoreResult<Draft> {
    let id = new_user_id();
    let (did, owner) = (id.clone(), owner.to_string());
    let now = db.now_text();
    db.write(move |conn| {

            query(
                "INSERT INTO case_drafts (id, owner_id, item_code, bundle_code, data, created_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6, 1)",
            )
            .bind(&did)
            .bind(&owner)
            .bind(&item_code)
            .bind(&bundle_code)
            .bind(data.to_string())
            .bind(&now)
            .execute(&mut *conn)?;
            Ok(())

    })
    .await?;
    get_draft(db, &id).await?.ok_or(StoreError::NotFound)
}

pub async fn get_draft(db: &Db, id: &str) -> StoreResult<Option<Draft>> {
    let row = query(
        "SELECT id, owner_id, item_code, bundle_code, data, created_at, updated_at, version FROM case_drafts WHERE id = $1",
    )
    .bind(id)
    .read_optional(db)
    .await?;
    row.as_ref().map(draft_from_row).transpose()
}

pub async fn drafts_of(db: &Db, owner: &str) -> StoreResult<Vec<Draft>> {
    let rows = query(
        "SELECT id, owner_id, item_code, bundle_code, data, created_at, updated_at, version FROM case_drafts \
         WHERE owner_id = $1 ORDER BY updated_at DESC LIMIT 50",
    )
    .bind(owner)
    .read_all(db)
    .await?;
    rows.iter().map(draft_from_row).collect()
}

/// Saves a draft's data (guarded by version: two tabs do not overwrite each other silently).
pub async fn save_draft(db: &Db, id: &str, data: Value, expected_version: i64) -> StoreResult<Draft> {
    let did = id.to_string();
    let now = db.now_text();
    db.write(move |conn| {

            let done = query(
                "UPDATE case_drafts SET data = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4",
            )
            .bind(data.to_string())
            .bind(&now)
            .bind(&did)
            .bind(expected_version)
            .execute(&mut *conn)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict);
            }
            Ok(())

    })
    .await?;
    get_draft(db, id).await?.ok_or(StoreError::NotFound)
}

pub async fn delete_draft(db: &Db, id: &str) -> StoreResult<()> {
    let did = id.to_string();
    db.write(move |conn| {
        query("DELETE FROM case_drafts WHERE id = $1").bind(&did).execute(&mut *conn)?;
        Ok(())
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Inbox and outbox
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: String,
    pub case_number: Option<String>,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub created_at: String,
    pub read_at: Option<String>,
}

pub async fn inbox(db: &Db, user_id: &str, limit: i64) -> StoreResult<Vec<Notification>> {
    let rows = query(format!(
        "SELECT id, case_number, title_zh, title_en, body_zh, body_en, created_at, read_at FROM notifications \
         WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT {limit}"
    ))
    .bind(user_id)
    .read_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Notification {
                id: r.try_get("id")?,
                case_number: r.try_get("case_number")?,
                title_zh: r.try_get("title_zh")?,
                title_en: r.try_get("title_en")?,
                body_zh: r.try_get("body_zh")?,
                body_en: r.try_get("body_en")?,
                created_at: r.try_get("created_at")?,
                read_at: r.try_get("read_at")?,
            })
        })
        .collect()
}

pub async fn unread_count(db: &Db, user_id: &str) -> StoreResult<i64> {
    let row = query("SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user_id)
        .read_one(db)
        .await?;
    Ok(row.try_get("n")?)
}

/// Marks all of a user's notifications read.
pub async fn mark_all_read(db: &Db, user_id: &str) -> StoreResult<()> {
    let uid = user_id.to_string();
    let now = db.now_text();
    db.write(move |conn| {
        query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(&now)
            .bind(&uid)
            .execute(&mut *conn)?;
        Ok(())
    })
    .await
}

#[derive(Clone, Debug, Serialize)]
pub struct OutboxMessage {
    pub id: String,
    pub channel: String,
    pub recipient: String,
    pub body: String,
    pub attempts: i64,
}

/// Claims up to `limit` pending messages for this dispatcher (skipping those another live
/// dispatcher holds) and returns them.
pub async fn claim_outbox(db: &Db, limit: i64) -> StoreResult<Vec<OutboxMessage>> {
    let token = new_user_id();
    let now = db.now();
    // The claimed rows come back from the claim itself: reading them again by `claimed_by`
    // (which no index covers) scanned the whole outbox every second.
    let rows = db
        .write(move |conn| {
            let stale = crate::store::time_text(now - chrono::Duration::minutes(5));
            // The condition is repeated outside the sub-select so that PostgreSQL re-checks it
            // on a row another dispatcher claimed meanwhile.
            Ok(query(format!(
                "UPDATE outbox SET claimed_by = $1, claimed_at = $2 \
                 WHERE status = 'pending' AND (claimed_at IS NULL OR claimed_at < $3) AND id IN \
                 (SELECT id FROM outbox WHERE status = 'pending' AND (claimed_at IS NULL OR claimed_at < $3) \
                 ORDER BY created_at LIMIT {limit}) \
                 RETURNING id, channel, recipient, body, attempts, created_at"
            ))
            .bind(&token)
            .bind(crate::store::time_text(now))
            .bind(&stale)
            .fetch_all(&mut *conn)?)
        })
        .await?;
    let vault = db.vault()?;
    let mut claimed = rows
        .iter()
        .map(|r| {
            let recipient: String = r.try_get("recipient")?;
            let message = OutboxMessage {
                id: r.try_get("id")?,
                channel: r.try_get("channel")?,
                recipient: vault
                    .open(&recipient, crate::platform::notifications::RECIPIENT_COLUMN)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?,
                body: r.try_get("body")?,
                attempts: r.try_get("attempts")?,
            };
            Ok((r.try_get::<String, _>("created_at")?, message))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    // Oldest first, as queued.
    claimed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(claimed.into_iter().map(|(_, message)| message).collect())
}

/// Records one delivery attempt: sent, or failed (retried until `max_attempts`, then `failed`).
pub async fn record_delivery(db: &Db, id: &str, error: Option<String>, max_attempts: i64) -> StoreResult<()> {
    let oid = id.to_string();
    let now = db.now_text();
    db.write(move |conn| {

            match error {
                None => {
                    query(
                        "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = $1, last_error = NULL \
                         WHERE id = $2 AND status = 'pending'",
                    )
                    .bind(&now)
                    .bind(&oid)
                    .execute(&mut *conn)?;
                }
                Some(e) => {
                    query(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = $1, claimed_by = NULL, \
                         claimed_at = NULL, status = CASE WHEN attempts + 1 >= $2 THEN 'failed' ELSE 'pending' END \
                         WHERE id = $3 AND status = 'pending'",
                    )
                    .bind(&e)
                    .bind(max_attempts)
                    .bind(&oid)
                    .execute(&mut *conn)?;
                }
            }
            Ok(())

    })
    .await
}

/// Delivery status of a case's messages, for the case page.
pub async fn outbox_of_case(db: &Db, number: &str) -> StoreResult<Vec<(String, String, String)>> {
    let rows = query(
        "SELECT o.channel, o.status, o.created_at FROM outbox o JOIN notifications n ON n.id = o.notification_id \
         WHERE n.case_number = $1 ORDER BY o.created_at",
    )
    .bind(number)
    .read_all(db)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("channel")?, r.try_get("status")?, r.try_get("created_at")?))).collect()
}

/// The Beijing day of a stored instant's UTC day and whether it was from 16:00 UTC on (the next
/// Beijing day): instants are stored as UTC text, so both databases group by the same text.
fn beijing_day_of(utc_day: &str, evening: i64) -> Option<NaiveDate> {
    let day = utc_day.parse::<NaiveDate>().ok()?;
    Some(if evening == 1 { day + chrono::Duration::days(1) } else { day })
}

/// What a supervision trend is counted from, for item cases between two instants (stored
/// text, so the comparison is the instants' order), summed by Beijing day in the database: the
/// cases submitted each day, and those decided each day with how many after their due date.
/// One department's, or every department's (the bound NULL matches all).
#[allow(clippy::type_complexity)]
pub async fn trend_rows(
    db: &Db,
    from: &str,
    to: &str,
    department: Option<&str>,
) -> StoreResult<(Vec<(NaiveDate, i64)>, Vec<(NaiveDate, i64, i64)>)> {
    const DAY: &str =
        "substr({c}, 1, 10) AS utc_day, CASE WHEN substr({c}, 12, 2) >= '16' THEN 1 ELSE 0 END AS evening";
    const GROUP: &str = "substr({c}, 1, 10), CASE WHEN substr({c}, 12, 2) >= '16' THEN 1 ELSE 0 END";
    let submitted_sql = format!(
        "SELECT {}, COUNT(*) AS n FROM cases WHERE kind = 'item' AND submitted_at >= $1 AND submitted_at < $2 \
         AND (CAST($3 AS TEXT) IS NULL OR department = $3) GROUP BY {}",
        DAY.replace("{c}", "submitted_at"),
        GROUP.replace("{c}", "submitted_at")
    );
    let mut submitted = Vec::new();
    for r in query(submitted_sql).bind(from).bind(to).bind(department).read_all(db).await? {
        let (day, evening, n): (String, i64, i64) =
            (r.try_get("utc_day")?, r.try_get("evening")?, r.try_get("n")?);
        if let Some(day) = beijing_day_of(&day, evening) {
            submitted.push((day, n));
        }
    }
    // Late: decided from the Beijing midnight after the due date on (16:00 UTC of the due date).
    let decided_sql = format!(
        "SELECT {}, COUNT(*) AS n, \
         CAST(COALESCE(SUM(CASE WHEN due_on IS NOT NULL AND decided_at >= due_on || 'T16:00:00' THEN 1 ELSE 0 END), 0) AS BIGINT) AS late \
         FROM cases WHERE kind = 'item' AND decided_at >= $1 AND decided_at < $2 \
         AND (CAST($3 AS TEXT) IS NULL OR department = $3) GROUP BY {}",
        DAY.replace("{c}", "decided_at"),
        GROUP.replace("{c}", "decided_at")
    );
    let mut decided = Vec::new();
    for r in query(decided_sql).bind(from).bind(to).bind(department).read_all(db).await? {
        let (day, evening, n, late): (String, i64, i64, i64) =
            (r.try_get("utc_day")?, r.try_get("evening")?, r.try_get("n")?, r.try_get("late")?);
        if let Some(day) = beijing_day_of(&day, evening) {
            decided.push((day, n, late));
        }
    }
    Ok((submitted, decided))
}
