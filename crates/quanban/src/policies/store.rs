//! Storage of 免申即享 runs, benefits and payments. The domain ([`super::benefits`]) decides every
//! change from what was read; these functions only write it, each batch in one transaction that
//! first claims what it changes (a benefit's version, a payment's budget) so a lost claim rolls
//! the whole batch back.

use std::collections::HashMap;

use super::benefits::{Benefit, Change, Notice, Payment, Reconciliation, Status};
use super::eval::Outcome;
use super::versions::{NewVersion, Version, VersionStatus};
use super::window::{Award, FollowUp};
use crate::audit::domain::NewEntry;
use crate::platform::notifications::{Message, Reach, SealedReach, notify};
use crate::platform::pii::Vault;
use crate::store::{Db, Row, StoreError, StoreResult, Tx, query};

/// The column bank accounts are sealed for.
pub const ACCOUNT_COLUMN: &str = "policy_benefits.account";

/// Benefit rows per INSERT statement (14 values each, well under both databases' limits).
const ROWS_PER_STATEMENT: usize = 400;

const BENEFIT_COLUMNS: &str =
    "policy, credit_code, status, amount_fen, paid_fen, fault, explanation, run_id, account, version";

fn benefit(row: &Row) -> StoreResult<Benefit> {
    let status: String = row.try_get("status")?;
    Ok(Benefit {
        policy: row.try_get("policy")?,
        credit_code: row.try_get("credit_code")?,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::Invalid(format!("benefit status {status}")))?,
        amount_fen: row.try_get("amount_fen")?,
        paid_fen: row.try_get("paid_fen")?,
        fault: row.try_get("fault")?,
        explanation: row.try_get("explanation")?,
        run_id: row.try_get("run_id")?,
        has_account: row.try_get::<Option<String>, _>("account")?.is_some(),
        version: row.try_get("version")?,
    })
}

/// What a run needs of a stored benefit to decide its change (the values it was decided on are
/// left in the store: the run replaces them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub status: Status,
    pub amount_fen: i64,
    pub paid_fen: i64,
    pub fault: Option<String>,
    pub has_account: bool,
    pub version: i64,
}

impl Stored {
    /// The benefit as [`super::benefits::decide`] reads it.
    pub fn benefit(&self, policy: &str, credit_code: &str) -> Benefit {
        Benefit {
            policy: policy.to_string(),
            credit_code: credit_code.to_string(),
            status: self.status,
            amount_fen: self.amount_fen,
            paid_fen: self.paid_fen,
            fault: self.fault.clone(),
            explanation: String::new(),
            run_id: String::new(),
            has_account: self.has_account,
            version: self.version,
        }
    }
}

/// Every benefit of `policy` as a run needs it, by credit code, read as a stream (a million
/// benefits hold about 100 MB here).
pub async fn stored_of_policy(db: &Db, policy: &str) -> StoreResult<HashMap<String, Stored>> {
    let mut out = HashMap::new();
    let mut bad = None;
    query(
        "SELECT credit_code, status, amount_fen, paid_fen, fault, CASE WHEN account IS NULL THEN 0 ELSE 1 END, version \
         FROM policy_benefits WHERE policy = $1",
    )
    .bind(policy)
    .read_each(db, |row| {
        let status = row.str(1)?.unwrap_or_default();
        let Some(status) = Status::parse(status) else {
            bad = Some(status.to_string());
            return Ok(());
        };
        out.insert(
            row.str(0)?.unwrap_or_default().to_string(),
            Stored {
                status,
                amount_fen: row.int(2)?.unwrap_or(0),
                paid_fen: row.int(3)?.unwrap_or(0),
                fault: row.str(4)?.map(str::to_string),
                has_account: row.int(5)? == Some(1),
                version: row.int(6)?.unwrap_or(0),
            },
        );
        Ok(())
    })
    .await?;
    match bad {
        Some(status) => Err(StoreError::Invalid(format!("benefit status {status}"))),
        None => Ok(out),
    }
}

/// The confirmed benefits of `policy` with something left to pay.
pub async fn payable(db: &Db, policy: &str) -> StoreResult<Vec<Benefit>> {
    let rows = query(format!(
        "SELECT {BENEFIT_COLUMNS} FROM policy_benefits WHERE policy = $1 AND status = 'confirmed' AND amount_fen > paid_fen"
    ))
    .bind(policy)
    .read_all(db)
    .await?;
    rows.iter().map(benefit).collect()
}

/// One enterprise's benefits under every policy, with the masked account (e.g. `**** 6789`).
pub async fn benefits_of_enterprise(
    db: &Db,
    credit_code: &str,
) -> StoreResult<Vec<(Benefit, Option<String>)>> {
    let rows = query(format!(
        "SELECT {BENEFIT_COLUMNS}, account_hint FROM policy_benefits WHERE credit_code = $1 ORDER BY policy"
    ))
    .bind(credit_code)
    .read_all(db)
    .await?;
    rows.iter().map(|r| Ok((benefit(r)?, r.try_get("account_hint")?))).collect()
}

pub async fn benefit_of(db: &Db, policy: &str, credit_code: &str) -> StoreResult<Option<Benefit>> {
    let row = query(format!(
        "SELECT {BENEFIT_COLUMNS} FROM policy_benefits WHERE policy = $1 AND credit_code = $2"
    ))
    .bind(policy)
    .bind(credit_code)
    .read_optional(db)
    .await?;
    row.as_ref().map(benefit).transpose()
}

/// A run as recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Run {
    pub id: String,
    pub policy: String,
    pub started_by: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// `running`, `finished`, `cancelled` or `interrupted` (its process died).
    pub status: String,
    pub evaluated: i64,
    pub eligible: i64,
    pub faults: i64,
    pub notified: i64,
    pub paid_count: i64,
    pub paid_fen: i64,
    pub budget_fen: Option<i64>,
}

/// Opens a run; runs of the policy left `running` by a process that died are marked
/// `interrupted` (the caller holds the policy's run lease, so no other run is alive).
pub async fn start_run(db: &Db, run: Run) -> StoreResult<()> {
    db.write(move |tx| {
        query("UPDATE policy_runs SET status = 'interrupted', version = version + 1 WHERE policy = $1 AND status = 'running'")
            .bind(&run.policy)
            .execute(&mut *tx)?;
        query(
            "INSERT INTO policy_runs (id, policy, started_by, started_at, status, evaluated, eligible, faults, \
             notified, paid_count, paid_fen, budget_fen, version) \
             VALUES ($1, $2, $3, $4, 'running', 0, 0, 0, 0, 0, 0, $5, 1)",
        )
        .bind(&run.id)
        .bind(&run.policy)
        .bind(&run.started_by)
        .bind(&run.started_at)
        .bind(run.budget_fen)
        .execute(&mut *tx)?;
        crate::audit::store::append(
            tx,
            &run.started_at,
            NewEntry::new(
                format!("policy_run:{}", run.id),
                &run.started_by,
                "policies.run.start",
                format!("policy:{}", run.policy),
                format!("免申即享 run of {} started", run.policy),
            ),
        )?;
        Ok(())
    })
    .await
}

/// Closes a run with its figures (`status`: finished or cancelled).
pub async fn finish_run(db: &Db, run: Run) -> StoreResult<()> {
    let now = run.finished_at.clone().unwrap_or_else(|| db.now_text());
    db.write(move |tx| {
        let done = query(
            "UPDATE policy_runs SET status = $1, finished_at = $2, evaluated = $3, eligible = $4, faults = $5, \
             notified = $6, paid_count = $7, paid_fen = $8, version = version + 1 WHERE id = $9 AND status = 'running'",
        )
        .bind(&run.status)
        .bind(&now)
        .bind(run.evaluated)
        .bind(run.eligible)
        .bind(run.faults)
        .bind(run.notified)
        .bind(run.paid_count)
        .bind(run.paid_fen)
        .bind(&run.id)
        .execute(&mut *tx)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        crate::audit::store::append(
            tx,
            &now,
            NewEntry::new(
                format!("policy_run:{}", run.id),
                &run.started_by,
                format!("policies.run.{}", run.status),
                format!("policy:{}", run.policy),
                format!(
                    "evaluated {}, eligible {}, faults {}, notified {}, paid {} ({} fen)",
                    run.evaluated, run.eligible, run.faults, run.notified, run.paid_count, run.paid_fen
                ),
            ),
        )?;
        Ok(())
    })
    .await
}

pub async fn runs_of(db: &Db, policy: &str) -> StoreResult<Vec<Run>> {
    let rows = query("SELECT * FROM policy_runs WHERE policy = $1 ORDER BY started_at DESC")
        .bind(policy)
        .read_all(db)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Run {
                id: r.try_get("id")?,
                policy: r.try_get("policy")?,
                started_by: r.try_get("started_by")?,
                started_at: r.try_get("started_at")?,
                finished_at: r.try_get("finished_at")?,
                status: r.try_get("status")?,
                evaluated: r.try_get("evaluated")?,
                eligible: r.try_get("eligible")?,
                faults: r.try_get("faults")?,
                notified: r.try_get("notified")?,
                paid_count: r.try_get("paid_count")?,
                paid_fen: r.try_get("paid_fen")?,
                budget_fen: r.try_get("budget_fen")?,
            })
        })
        .collect()
}

/// An audit entry on a run's stream about its policy.
fn run_entry(run_id: &str, actor: &str, action: &str, policy: &str, summary: String) -> NewEntry {
    NewEntry::new(format!("policy_run:{run_id}"), actor, action, format!("policy:{policy}"), summary)
}

/// The representatives of `codes` with their phones (opened), for notices.
fn representatives(
    tx: &mut dyn Tx,
    vault: &Vault,
    codes: &[&str],
) -> StoreResult<Vec<(String, String, String)>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=codes.len()).map(|i| format!("${i}")).collect();
    let mut q = query(format!(
        "SELECT m.credit_code, m.user_id, u.phone FROM enterprise_members m JOIN users u ON u.id = m.user_id \
         WHERE m.credit_code IN ({}) ORDER BY m.credit_code, m.user_id",
        placeholders.join(", ")
    ));
    for c in codes {
        q = q.bind(*c);
    }
    let mut out = Vec::new();
    for row in q.fetch_all(tx)? {
        let sealed: Option<String> = row.try_get("phone")?;
        let phone = sealed.and_then(|s| vault.open(&s, "users.phone").ok()).unwrap_or_default();
        out.push((row.try_get("credit_code")?, row.try_get("user_id")?, phone));
    }
    // In Rust's order whatever the database's collation ([`has_representative`] searches it).
    out.sort();
    Ok(out)
}

/// A multi-row INSERT of `rows` new benefits, eight parameters a row.
fn insert_benefits_sql(rows: usize) -> String {
    use std::fmt::Write;
    const PER_ROW: usize = 8;
    let mut sql = String::with_capacity(120 + rows * PER_ROW * 7);
    sql.push_str(
        "INSERT INTO policy_benefits (policy, credit_code, status, amount_fen, fault, explanation, run_id, \
         updated_at, paid_fen, version) VALUES ",
    );
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 1..=PER_ROW {
            let _ = write!(sql, "${}, ", r * PER_ROW + c);
        }
        sql.push_str("0, 1)");
    }
    sql
}

/// Whether `reps` (as [`representatives`] gives them, by credit code) name one for `credit_code`:
/// most enterprises of a large run have nobody signed up, and need no message composed.
fn has_representative(reps: &[(String, String, String)], credit_code: &str) -> bool {
    reps.binary_search_by(|(c, ..)| c.as_str().cmp(credit_code)).is_ok()
}

/// Puts `m` in the inbox of each representative of `credit_code` among `reps` and queues an SMS
/// to their phone; returns how many were told.
#[allow(clippy::too_many_arguments)]
fn tell(
    tx: &mut dyn Tx,
    vault: &Vault,
    now: &str,
    order: u32,
    reps: &[(String, String, String)],
    credit_code: &str,
    policy: &str,
    m: &Message,
) -> StoreResult<u64> {
    let mut told = 0;
    for (_, user, phone) in reps.iter().filter(|(c, ..)| c == credit_code) {
        let reach = SealedReach::new(&Reach { phone: phone.clone(), email: String::new() }, vault);
        notify(tx, now, order, user, Some(&format!("policy:{policy}")), m, Some(&reach))?;
        told += 1;
    }
    Ok(told)
}

/// What a policy says in its notices.
#[derive(Clone, Debug)]
pub struct PolicyNames {
    pub code: String,
    pub name_zh: String,
}

fn yuan_text(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

fn message(p: &PolicyNames, notice: Notice, fen: i64) -> Message {
    match notice {
        Notice::Eligible => Message {
            title_zh: format!("您的企业符合“{}”，可免申领取", p.name_zh),
            title_en: format!("Your enterprise qualifies for policy {} without applying", p.code),
            body_zh: format!(
                "按政务共享数据核算，可享受{}元。请登录全办“惠企政策”确认收款账户，或选择放弃。",
                yuan_text(fen)
            ),
            body_en: format!(
                "By the shared government data you are owed CNY {}. Sign in to Quanban, Policies, to confirm the receiving account or decline.",
                yuan_text(fen)
            ),
        },
        Notice::MoreOwed => Message {
            title_zh: format!("“{}”应享金额已更新", p.name_zh),
            title_en: format!("The amount owed under policy {} has changed", p.code),
            body_zh: format!("按最新数据，应享{}元，差额将拨付至已确认账户。", yuan_text(fen)),
            body_en: format!(
                "By the latest data you are owed CNY {}; the difference goes to the confirmed account.",
                yuan_text(fen)
            ),
        },
    }
}

/// Writes one batch of a run's changes with their notices (each with the outcome it was decided
/// from, which the caller keeps to decide again after a lost claim); returns how many people
/// were told.
pub async fn apply_changes(
    db: &Db,
    run_id: String,
    policy: PolicyNames,
    actor: String,
    changes: std::sync::Arc<Vec<(Outcome, Change, Option<Notice>)>>,
) -> StoreResult<u64> {
    let now = db.now_text();
    let vault = db.vault()?.clone();
    db.write(move |tx| {
        // Claim first: every updated benefit must still be at the version the run read.
        let (mut inserts, mut updated) = (Vec::new(), 0u64);
        for (_, change, _) in changes.iter() {
            match change {
                Change::Insert(b) => inserts.push(b),
                Change::Update { before_version, after } => {
                    let done = query(
                        "UPDATE policy_benefits SET status = $1, amount_fen = $2, fault = $3, explanation = $4, \
                         run_id = $5, updated_at = $6, version = $7 WHERE policy = $8 AND credit_code = $9 AND version = $10",
                    )
                    .bind(after.status.as_str())
                    .bind(after.amount_fen)
                    .bind(&after.fault)
                    .bind(&after.explanation)
                    .bind(&after.run_id)
                    .bind(&now)
                    .bind(after.version)
                    .bind(&after.policy)
                    .bind(&after.credit_code)
                    .bind(*before_version)
                    .execute(&mut *tx)?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::Conflict);
                    }
                    updated += 1;
                }
            }
        }
        // The statement's text is built once per size (most chunks are full), not per chunk.
        let mut full_chunk_sql = None;
        for chunk in inserts.chunks(ROWS_PER_STATEMENT) {
            let sql = if chunk.len() == ROWS_PER_STATEMENT {
                full_chunk_sql.get_or_insert_with(|| insert_benefits_sql(ROWS_PER_STATEMENT)).clone()
            } else {
                insert_benefits_sql(chunk.len())
            };
            let mut q = query(sql);
            for b in chunk {
                q = q
                    .bind(&b.policy)
                    .bind(&b.credit_code)
                    .bind(b.status.as_str())
                    .bind(b.amount_fen)
                    .bind(&b.fault)
                    .bind(&b.explanation)
                    .bind(&b.run_id)
                    .bind(&now);
            }
            // Another run recorded one of these enterprises first: decide again from its row.
            q.execute(&mut *tx).map_err(|e| match StoreError::unique_as(e, "benefit") {
                StoreError::Duplicate(_) => StoreError::Conflict,
                other => other,
            })?;
        }
        let told: Vec<(&Benefit, Notice)> =
            changes.iter().filter_map(|(_, c, n)| n.map(|n| (c.benefit(), n))).collect();
        let codes: Vec<&str> = told.iter().map(|(b, _)| b.credit_code.as_str()).collect();
        let mut notified = 0;
        let reps = representatives(tx, &vault, &codes)?;
        for (b, notice) in told.iter().filter(|(b, _)| has_representative(&reps, &b.credit_code)) {
            let m = message(&policy, *notice, b.amount_fen);
            notified += tell(tx, &vault, &now, 0, &reps, &b.credit_code, &policy.code, &m)?;
        }
        let summary = format!("{} benefits recorded, {updated} changed, {notified} representatives told", inserts.len());
        crate::audit::store::append(tx, &now, run_entry(&run_id, &actor, "policies.run.benefits", &policy.code, summary))?;
        Ok(notified)
    })
    .await
}

/// The representative confirms the receiving account (`account` is `Some`) or declines.
pub async fn answer(
    db: &Db,
    before: &Benefit,
    account: Option<(String, String)>,
    actor: String,
) -> StoreResult<Benefit> {
    answer_and_pay(db, before, account, actor, None).await
}

/// A payment made with the confirmation that enables it (an award made on application is paid
/// as soon as its account is confirmed, in the same transaction, so a crash between the two
/// cannot leave it confirmed and never paid).
#[derive(Clone, Debug)]
pub struct PayNow {
    pub run_id: String,
    pub policy: PolicyNames,
    pub budget_fen: Option<i64>,
}

/// [`answer`], and when `pay` is given and the answer confirms, the payment of what is owed
/// within the budget, all in one transaction (a budget overrun rolls all of it back).
pub async fn answer_and_pay(
    db: &Db,
    before: &Benefit,
    account: Option<(String, String)>,
    actor: String,
    pay: Option<PayNow>,
) -> StoreResult<Benefit> {
    let now = db.now_text();
    let vault = db.vault()?.clone();
    let mut after = before.clone();
    after.status = match &account {
        Some(_) if before.paid_fen >= before.amount_fen => Status::Paid,
        Some(_) => Status::Confirmed,
        None => Status::Declined,
    };
    after.has_account = account.is_some() || before.has_account;
    after.version = before.version + 1;
    let (out, before_version) = (after.clone(), before.version);
    let paying = pay.is_some();
    db.write(move |tx| {
        let (sealed, hint) = match &account {
            Some((number, hint)) => (Some(vault.seal(number, ACCOUNT_COLUMN)), Some(hint.clone())),
            None => (None, None),
        };
        let done = query(
            "UPDATE policy_benefits SET status = $1, account = COALESCE($2, account), account_hint = COALESCE($3, account_hint), \
             confirmed_by = $4, confirmed_at = $5, updated_at = $5, version = $6 \
             WHERE policy = $7 AND credit_code = $8 AND version = $9",
        )
        .bind(after.status.as_str())
        .bind(sealed)
        .bind(hint)
        .bind(&actor)
        .bind(&now)
        .bind(after.version)
        .bind(&after.policy)
        .bind(&after.credit_code)
        .bind(before_version)
        .execute(&mut *tx)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        let step = if account.is_some() { "confirm" } else { "decline" };
        crate::audit::store::append(
            tx,
            &now,
            NewEntry::new(
                format!("policy_benefit:{}:{}", after.policy, after.credit_code),
                &actor,
                format!("policies.benefit.{step}"),
                format!("policy_benefit:{}:{}", after.policy, after.credit_code),
                format!("{step} by the representative"),
            ),
        )?;
        if let Some(p) = &pay
            && after.status == Status::Confirmed
            && after.amount_fen > after.paid_fen
        {
            let payment =
                Payment { credit_code: after.credit_code.clone(), amount_fen: after.outstanding(), version: after.version };
            pay_in(tx, &vault, &now, &p.run_id, &p.policy, p.budget_fen, &actor, &[payment])?;
        }
        Ok(())
    })
    .await?;
    if paying && out.status == Status::Confirmed && out.amount_fen > out.paid_fen {
        return Ok(Benefit {
            status: Status::Paid,
            paid_fen: out.amount_fen,
            version: out.version + 1,
            ..out
        });
    }
    Ok(out)
}

/// Pays one batch: each payment claims its benefit at the version planned (still confirmed),
/// the batch must fit what is left of `budget_fen` by the payment records themselves, and each
/// payment record is written with the benefit it settles. Returns what was paid.
pub async fn pay(
    db: &Db,
    run_id: String,
    policy: PolicyNames,
    budget_fen: Option<i64>,
    actor: String,
    payments: Vec<Payment>,
) -> StoreResult<i64> {
    let now = db.now_text();
    let vault = db.vault()?.clone();
    db.write(move |tx| pay_in(tx, &vault, &now, &run_id, &policy, budget_fen, &actor, &payments)).await
}

#[allow(clippy::too_many_arguments)]
fn pay_in(
    tx: &mut dyn Tx,
    vault: &Vault,
    now: &str,
    run_id: &str,
    policy: &PolicyNames,
    budget_fen: Option<i64>,
    actor: &str,
    payments: &[Payment],
) -> StoreResult<i64> {
    if payments.is_empty() {
        return Ok(0);
    }
    // One statement claims the whole batch and one writes its payment records: a statement per
    // payment cost a round trip each, which on PostgreSQL made paying 21,000 benefits take 38 s.
    let claimed = payments
        .iter()
        .fold(query(claim_payments_sql(payments.len())).bind(now).bind(&policy.code), |q, p| {
            q.bind(&p.credit_code).bind(p.amount_fen).bind(p.version)
        })
        .execute(&mut *tx)?;
    // Each benefit is claimed at the version planned, still confirmed, owed exactly the amount
    // planned, with an account: one that is not fails the whole batch.
    if claimed.rows_affected() != payments.len() as u64 {
        return Err(StoreError::Conflict);
    }
    payments
        .iter()
        .fold(query(record_payments_sql(payments.len())).bind(run_id).bind(now).bind(&policy.code), |q, p| {
            q.bind(crate::platform::tokens::uuid_v4()).bind(&p.credit_code).bind(p.amount_fen)
        })
        .execute(&mut *tx)?;
    let total: i64 = payments.iter().map(|p| p.amount_fen).sum();
    if let Some(budget) = budget_fen {
        let row = query("SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS paid FROM policy_payments WHERE policy = $1")
            .bind(&policy.code)
            .fetch_one(tx)?;
        let paid: i64 = row.try_get("paid")?;
        if paid > budget {
            // Never beyond the budget: the whole batch goes back.
            return Err(StoreError::Conflict);
        }
    }
    let codes: Vec<&str> = payments.iter().map(|p| p.credit_code.as_str()).collect();
    let reps = representatives(tx, vault, &codes)?;
    for p in payments.iter().filter(|p| has_representative(&reps, &p.credit_code)) {
        let m = Message {
            title_zh: format!("“{}”资金已拨付", policy.name_zh),
            title_en: format!("Policy {} paid", policy.code),
            body_zh: format!("{}元已拨付至您确认的账户。", yuan_text(p.amount_fen)),
            body_en: format!("CNY {} has been paid to the account you confirmed.", yuan_text(p.amount_fen)),
        };
        tell(tx, vault, now, 1, &reps, &p.credit_code, &policy.code, &m)?;
    }
    let summary = format!("{} payments, {total} fen", payments.len());
    crate::audit::store::append(
        tx,
        now,
        run_entry(run_id, actor, "policies.run.pay", &policy.code, summary),
    )?;
    Ok(total)
}

/// `UPDATE … FROM (VALUES …)` paying `rows` benefits: `$1` the time, `$2` the policy, then per
/// row the credit code, the amount and the version planned. Both databases name the columns of
/// a bare VALUES list `column1`, `column2`, ….
fn claim_payments_sql(rows: usize) -> String {
    let mut sql = String::from(
        "UPDATE policy_benefits SET paid_fen = paid_fen + v.column2, status = 'paid', updated_at = $1, \
         version = version + 1 FROM (VALUES ",
    );
    push_value_rows(&mut sql, rows, 3, &["TEXT", "BIGINT", "BIGINT"]);
    sql.push_str(
        ") AS v WHERE policy_benefits.policy = $2 AND policy_benefits.credit_code = v.column1 \
         AND policy_benefits.version = v.column3 AND policy_benefits.status = 'confirmed' \
         AND policy_benefits.amount_fen - policy_benefits.paid_fen = v.column2 AND policy_benefits.account IS NOT NULL",
    );
    sql
}

/// The payment records of `rows` benefits just claimed: `$1` the run, `$2` the time, `$3` the
/// policy, then per row the record's id, the credit code and the amount; the account is the
/// benefit's.
fn record_payments_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO policy_payments (id, policy, credit_code, run_id, amount_fen, account, paid_at) \
         SELECT v.column1, b.policy, b.credit_code, $1, v.column3, b.account, $2 FROM (VALUES ",
    );
    push_value_rows(&mut sql, rows, 4, &["TEXT", "TEXT", "BIGINT"]);
    sql.push_str(") AS v JOIN policy_benefits b ON b.policy = $3 AND b.credit_code = v.column2");
    sql
}

/// `rows` rows of typed placeholders, numbered from `first` (PostgreSQL types the columns of a
/// VALUES list from its first row, so every placeholder carries its type).
fn push_value_rows(sql: &mut String, rows: usize, first: usize, types: &[&str]) {
    use std::fmt::Write;
    let per_row = types.len();
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for (c, ty) in types.iter().enumerate() {
            let sep = if c == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}CAST(${} AS {ty})", first + r * per_row + c);
        }
        sql.push(')');
    }
}

/// What the payment records of `policy` add up to.
pub async fn paid_in_all(db: &Db, policy: &str) -> StoreResult<i64> {
    Ok(query(
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS paid FROM policy_payments WHERE policy = $1",
    )
    .bind(policy)
    .read_one(db)
    .await?
    .try_get("paid")?)
}

/// The policy's books: every benefit's status, amount and paid, and the payment records' sum.
pub async fn reconcile(db: &Db, policy: &str, budget_fen: Option<i64>) -> StoreResult<Reconciliation> {
    let rows = query("SELECT status, amount_fen, paid_fen FROM policy_benefits WHERE policy = $1")
        .bind(policy)
        .read_all(db)
        .await?;
    let mut benefits = Vec::with_capacity(rows.len());
    for r in &rows {
        let status: String = r.try_get("status")?;
        let status =
            Status::parse(&status).ok_or_else(|| StoreError::Invalid(format!("benefit status {status}")))?;
        benefits.push((status, r.try_get::<i64, _>("amount_fen")?, r.try_get::<i64, _>("paid_fen")?));
    }
    Ok(Reconciliation::of(benefits, paid_in_all(db, policy).await?, budget_fen))
}

const VERSION_COLUMNS: &str = "code, version, eligibility, amount, cap_fen, budget_fen, effective_on, status, note, \
    proposed_by, proposed_at, decided_by, decided_at, decision_note, row_version";

fn version(row: &Row) -> StoreResult<Version> {
    let status: String = row.try_get("status")?;
    let effective: String = row.try_get("effective_on")?;
    Ok(Version {
        code: row.try_get("code")?,
        version: row.try_get("version")?,
        eligibility: row.try_get("eligibility")?,
        amount: row.try_get("amount")?,
        cap_fen: row.try_get("cap_fen")?,
        budget_fen: row.try_get("budget_fen")?,
        effective_on: chrono::NaiveDate::parse_from_str(&effective, "%Y-%m-%d")
            .map_err(|_| StoreError::Invalid(format!("policy version date {effective}")))?,
        status: VersionStatus::parse(&status)
            .ok_or_else(|| StoreError::Invalid(format!("version status {status}")))?,
        note: row.try_get("note")?,
        proposed_by: row.try_get("proposed_by")?,
        proposed_at: row.try_get("proposed_at")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get("decided_at")?,
        decision_note: row.try_get("decision_note")?,
        row_version: row.try_get("row_version")?,
    })
}

/// Every approved version of every policy (a few per policy a year).
pub async fn approved_versions(db: &Db) -> StoreResult<Vec<Version>> {
    let rows = query(format!("SELECT {VERSION_COLUMNS} FROM policy_versions WHERE status = 'approved'"))
        .read_all(db)
        .await?;
    rows.iter().map(version).collect()
}

/// A policy's versions, newest first.
pub async fn versions_of(db: &Db, code: &str) -> StoreResult<Vec<Version>> {
    let rows =
        query(format!("SELECT {VERSION_COLUMNS} FROM policy_versions WHERE code = $1 ORDER BY version DESC"))
            .bind(code)
            .read_all(db)
            .await?;
    rows.iter().map(version).collect()
}

/// Stores a proposal as the policy's next version (two proposals at once: one gets a conflict).
pub async fn propose(db: &Db, code: String, new: NewVersion, actor: String) -> StoreResult<Version> {
    let now = db.now_text();
    db.write(move |tx| {
        let next: i64 = query("SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) AS next FROM policy_versions WHERE code = $1")
            .bind(&code)
            .fetch_one(&mut *tx)?
            .try_get("next")?;
        let v = Version {
            code: code.clone(),
            version: next,
            eligibility: new.eligibility.clone(),
            amount: new.amount.clone(),
            cap_fen: new.cap_fen,
            budget_fen: new.budget_fen,
            effective_on: new.effective_on,
            status: VersionStatus::Proposed,
            note: new.note.clone(),
            proposed_by: actor.clone(),
            proposed_at: now.clone(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
            row_version: 1,
        };
        query(format!(
            "INSERT INTO policy_versions ({VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL, NULL, 1)"
        ))
        .bind(&v.code)
        .bind(v.version)
        .bind(&v.eligibility)
        .bind(&v.amount)
        .bind(v.cap_fen)
        .bind(v.budget_fen)
        .bind(v.effective_on.to_string())
        .bind(v.status.as_str())
        .bind(&v.note)
        .bind(&v.proposed_by)
        .bind(&v.proposed_at)
        .execute(&mut *tx)
        .map_err(|e| match StoreError::unique_as(e, "version") {
            StoreError::Duplicate(_) => StoreError::Conflict,
            other => other,
        })?;
        crate::audit::store::append(
            tx,
            &now,
            NewEntry::new(
                format!("policy:{code}"),
                &actor,
                "policies.version.propose",
                format!("policy_version:{code}:{next}"),
                format!("version {next} proposed, effective {}", v.effective_on),
            ),
        )?;
        Ok(v)
    })
    .await
}

/// Writes a decision on a version read at `before_row_version`.
pub async fn save_decision(db: &Db, before_row_version: i64, after: Version) -> StoreResult<()> {
    db.write(move |tx| {
        let done = query(
            "UPDATE policy_versions SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4, row_version = $5 \
             WHERE code = $6 AND version = $7 AND row_version = $8",
        )
        .bind(after.status.as_str())
        .bind(&after.decided_by)
        .bind(&after.decided_at)
        .bind(&after.decision_note)
        .bind(after.row_version)
        .bind(&after.code)
        .bind(after.version)
        .bind(before_row_version)
        .execute(&mut *tx)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        let at = after.decided_at.clone().unwrap_or_default();
        crate::audit::store::append(
            tx,
            &at,
            NewEntry::new(
                format!("policy:{}", after.code),
                after.decided_by.clone().unwrap_or_default(),
                format!("policies.version.{}", after.status.as_str()),
                format!("policy_version:{}:{}", after.code, after.version),
                format!("version {} {}", after.version, after.status.as_str()),
            ),
        )?;
        Ok(())
    })
    .await
}

/// Records the benefit an approved policy application awards, in the approval's transaction,
/// and tells the representatives to confirm the account. A benefit already held (a lapsed one
/// may be awarded again) makes the whole approval go back.
pub fn award_in(tx: &mut dyn Tx, vault: &Vault, now: &str, award: &Award) -> StoreResult<()> {
    let b = award.benefit();
    let replaced = query(
        "UPDATE policy_benefits SET status = $1, amount_fen = $2, fault = NULL, explanation = $3, run_id = $4, \
         updated_at = $5, version = version + 1 \
         WHERE policy = $6 AND credit_code = $7 AND status IN ('no_longer_eligible', 'fault')",
    )
    .bind(b.status.as_str())
    .bind(b.amount_fen)
    .bind(&b.explanation)
    .bind(&b.run_id)
    .bind(now)
    .bind(&b.policy)
    .bind(&b.credit_code)
    .execute(&mut *tx)?;
    if replaced.rows_affected() == 0 {
        query(
            "INSERT INTO policy_benefits (policy, credit_code, status, amount_fen, paid_fen, explanation, run_id, \
             updated_at, version) VALUES ($1, $2, $3, $4, 0, $5, $6, $7, 1)",
        )
        .bind(&b.policy)
        .bind(&b.credit_code)
        .bind(b.status.as_str())
        .bind(b.amount_fen)
        .bind(&b.explanation)
        .bind(&b.run_id)
        .bind(now)
        .execute(&mut *tx)
        .map_err(|e| match StoreError::unique_as(e, "benefit") {
            StoreError::Duplicate(_) => StoreError::Conflict,
            other => other,
        })?;
    }
    let subject = format!("policy_benefit:{}:{}", b.policy, b.credit_code);
    crate::audit::store::append(
        tx,
        now,
        NewEntry::new(
            subject.clone(),
            format!("case:{}", award.case_number),
            "policies.benefit.award",
            subject,
            format!("{} fen awarded on application, case {}", b.amount_fen, award.case_number),
        ),
    )?;
    let reps = representatives(tx, vault, &[b.credit_code.as_str()])?;
    let m = Message {
        title_zh: format!("“{}”申请已核准", award.policy_name),
        title_en: format!("Your application under policy {} is approved", b.policy),
        body_zh: format!(
            "核定金额{}元。请登录全办“惠企政策”确认收款账户，确认后即拨付。",
            yuan_text(b.amount_fen)
        ),
        body_en: format!(
            "CNY {} is awarded. Sign in to Quanban, Policies, and confirm the receiving account; it is paid at once.",
            yuan_text(b.amount_fen)
        ),
    };
    tell(tx, vault, now, 2, &reps, &b.credit_code, &b.policy, &m)?;
    Ok(())
}

/// Records the representative's follow-up on a paid benefit (once: a second is a duplicate).
pub async fn record_follow_up(db: &Db, benefit: &Benefit, f: FollowUp, actor: String) -> StoreResult<()> {
    let (policy, code) = (benefit.policy.clone(), benefit.credit_code.clone());
    db.write(move |tx| {
        query(
            "INSERT INTO policy_follow_ups (policy, credit_code, rating, effect, jobs, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&policy)
        .bind(&code)
        .bind(f.rating)
        .bind(&f.effect)
        .bind(f.jobs)
        .bind(&actor)
        .bind(&f.recorded_at)
        .execute(&mut *tx)
        .map_err(|e| StoreError::unique_as(e, "follow_up"))?;
        let subject = format!("policy_benefit:{policy}:{code}");
        crate::audit::store::append(
            tx,
            &f.recorded_at,
            NewEntry::new(
                subject.clone(),
                &actor,
                "policies.benefit.follow_up",
                subject,
                format!("rated {} of 5", f.rating),
            ),
        )?;
        Ok(())
    })
    .await
}

fn follow_up_of(r: &Row) -> StoreResult<(String, FollowUp)> {
    Ok((
        r.try_get("credit_code")?,
        FollowUp {
            rating: r.try_get("rating")?,
            effect: r.try_get("effect")?,
            jobs: r.try_get("jobs")?,
            recorded_at: r.try_get("recorded_at")?,
        },
    ))
}

/// One enterprise's follow-ups by policy.
pub async fn follow_ups_of_enterprise(db: &Db, credit_code: &str) -> StoreResult<Vec<(String, FollowUp)>> {
    let rows = query(
        "SELECT policy, credit_code, rating, effect, jobs, recorded_at FROM policy_follow_ups WHERE credit_code = $1",
    )
    .bind(credit_code)
    .read_all(db)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("policy")?, follow_up_of(r)?.1))).collect()
}

/// A policy's follow-ups by enterprise, newest first (for the issuing department).
pub async fn follow_ups_of_policy(db: &Db, policy: &str) -> StoreResult<Vec<(String, FollowUp)>> {
    let rows = query(
        "SELECT credit_code, rating, effect, jobs, recorded_at FROM policy_follow_ups WHERE policy = $1 \
         ORDER BY recorded_at DESC, credit_code",
    )
    .bind(policy)
    .read_all(db)
    .await?;
    rows.iter().map(follow_up_of).collect()
}
