//! The policies' use cases: an enterprise's benefits with their explanation, a what-if simulation
//! of a draft rule over the whole register, the representative's answer (confirm the account or
//! decline), and the recorded 免申即享 run. Every read of the registers goes through the data
//! exchange as the platform's policy service (发改委, [`READER_DEPARTMENT`]) with its grants,
//! and is logged with the policy it was for.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::benefits::{self, Benefit, Change, Notice, Reconciliation, Status};
use super::columnar::{self, Program, Register};
use super::eval::{Cell, Outcome, Record, outcome};
use super::explain::{self, Clause};
use super::library::{self, Mode, Policy};
use super::rules::{self, Want, enterprise_fields};
use super::store::{self, PolicyNames, Run};
use crate::app::AppState;
use crate::data::domain::{Dataset, Field, Register as RegisterKind, Value, datasets_of};
use crate::data::service::{Reader, read_batch, read_subject};
use crate::data::sharing::Purpose;
use crate::data::store::Columns;
use crate::http::{ApiError, ApiResult, Caller, FieldError};
use crate::identity::authz::{Action, Decision, Resource, decide};
use crate::identity::domain::CreditCode;
use crate::store::StoreError;

/// The department the platform's policy service reads the registers as (发改委 runs the
/// city's 惠企政策 platform); its grants cover the fields the policies read.
pub const READER_DEPARTMENT: &str = "JN-FGW";

/// Enterprises per write transaction of a run.
const RUN_BATCH: usize = 5_000;
/// Payments per write transaction.
const PAY_BATCH: usize = 500;

/// The policies as in force today: the shipped ones overlaid by their approved versions.
pub async fn in_force(state: &AppState) -> ApiResult<Vec<Policy>> {
    let versions = store::approved_versions(&state.db).await?;
    let today = state.clock().today();
    Ok(library::shipped()?.into_iter().map(|p| super::versions::in_force(p, &versions, today)).collect())
}

async fn policy_of(state: &AppState, code: &str) -> ApiResult<Policy> {
    in_force(state).await?.into_iter().find(|p| p.code == code.trim()).ok_or(ApiError::NotFound)
}

fn names(p: &Policy) -> PolicyNames {
    PolicyNames { code: p.code.clone(), name_zh: p.name.clone() }
}

/// Which fields of which datasets the rules read (and `extra` fields), in the register's order.
fn plan(rules: &[&rules::Expr], extra: &[&str]) -> Vec<(&'static Dataset, Vec<&'static Field>)> {
    let all = enterprise_fields();
    let mut used = vec![false; all.len()];
    for e in rules {
        rules::visit_fields(e, &mut |k| used[k] = true);
    }
    let names: Vec<&str> =
        all.iter().zip(&used).filter(|(f, u)| **u || extra.contains(&f.name)).map(|(f, _)| f.name).collect();
    let mut taken: Vec<&str> = Vec::new();
    datasets_of(RegisterKind::Enterprises)
        .filter_map(|d| {
            let fields: Vec<&'static Field> =
                d.fields.iter().filter(|f| names.contains(&f.name) && !taken.contains(&f.name)).collect();
            taken.extend(fields.iter().map(|f| f.name));
            (!fields.is_empty()).then_some((d, fields))
        })
        .collect()
}

/// One enterprise's record as read through the exchange.
struct Fetched(Vec<(&'static Field, Value)>);

impl Record for Fetched {
    fn cell(&self, field: usize) -> Cell<'_> {
        let name = enterprise_fields()[field].name;
        match self.0.iter().find(|(f, _)| f.name == name).map(|(_, v)| v) {
            None | Some(Value::Null) => Cell::Null,
            Some(Value::Text(s)) => Cell::Str(s),
            Some(Value::Bool(b)) => Cell::Bool(*b),
            Some(Value::Int(i)) => Cell::Int(*i),
            Some(Value::Fen(f)) => Cell::Fen(*f),
            Some(Value::Date(d)) => Cell::Date(rules::days(*d)),
        }
    }
}

/// One policy as an enterprise sees it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct BenefitView {
    pub policy: String,
    pub name: String,
    pub department: String,
    /// `automatic` (免申即享) or `on_application` (申请兑现).
    pub mode: &'static str,
    /// Whether the enterprise qualifies by the register's data now.
    pub eligible: bool,
    /// What it would be given now (capped, rounded to the fen); null when not eligible.
    pub amount_fen: Option<i64>,
    /// `awaiting_confirmation`, `confirmed`, `declined`, `paid`, `no_longer_eligible`, `fault`
    /// (from the latest run); else `eligible_next_run`, `apply` (eligible if it applies),
    /// `not_eligible`, `no_value` or `no_record` (the register has no record of it).
    pub status: String,
    pub status_zh: String,
    pub status_en: String,
    pub paid_fen: i64,
    /// The confirmed receiving account, masked.
    pub account: Option<String>,
    /// Each clause of the eligibility rule with the values used and whether it held.
    pub explanation: Vec<Clause>,
    /// The first clause that did not hold, in plain words.
    pub reason_zh: Option<String>,
    pub reason_en: Option<String>,
    /// Whether the representative may confirm the account or decline now.
    pub can_answer: bool,
    /// A policy paid on application: the enterprise's latest application (case number) for it.
    pub case_number: Option<String>,
    /// How the window handles an application: `direct` (直办) or `transfer` (转办).
    pub route: Option<&'static str>,
    /// The follow-up recorded after payment (跟踪问效).
    pub follow_up: Option<super::window::FollowUp>,
    /// Whether the representative may record the follow-up now (paid, none recorded).
    pub can_follow_up: bool,
}

/// What else the enterprise's page shows of a policy: its latest application and follow-up.
#[derive(Default)]
struct Extras<'a> {
    case: Option<&'a crate::cases::domain::CaseRecord>,
    follow_up: Option<&'a super::window::FollowUp>,
}

fn issuers(policies: &[Policy]) -> Vec<String> {
    let mut d: Vec<String> = policies.iter().map(|p| p.department.clone()).collect();
    d.sort();
    d.dedup();
    d
}

fn checked_code(raw: &str) -> ApiResult<String> {
    CreditCode::parse(raw.trim()).map(|c| c.as_str().to_string()).map_err(|e| {
        ApiError::Validation(vec![FieldError::new("credit_code", e.code(), e.message_zh(), e.message_en())])
    })
}

/// Every policy for one enterprise: what it is owed or was paid, or why not.
pub async fn enterprise_benefits(
    state: &AppState,
    caller: &Caller,
    raw_code: &str,
) -> ApiResult<Vec<BenefitView>> {
    let user = caller.require_user()?.to_string();
    let policies = in_force(state).await?;
    let code = raw_code.trim().to_uppercase();
    match decide(
        &caller.actor,
        Action::Read,
        &Resource::PolicyBenefits { credit_code: code.clone(), issuers: issuers(&policies) },
    ) {
        Decision::Allow => {}
        Decision::Unauthenticated => return Err(ApiError::Unauthenticated),
        _ => return Err(ApiError::NotFound),
    }
    let code = checked_code(&code)?;
    let rules: Vec<&rules::Expr> = policies.iter().flat_map(|p| [&p.eligibility, &p.amount]).collect();
    let reader = Reader {
        department: READER_DEPARTMENT.into(),
        actor: format!("user:{user}"),
        actor_name: caller.name.clone().unwrap_or_default(),
    };
    let record =
        read_subject(state, &reader, &plan(&rules, &[]), &code, Purpose::PolicyBenefit, Some("benefits"))
            .await?
            .map(Fetched);
    let stored = store::benefits_of_enterprise(&state.db, &code).await?;
    let cases = crate::cases::store::of_enterprise_item(&state.db, &code, super::window::WINDOW_ITEM).await?;
    let follow_ups = store::follow_ups_of_enterprise(&state.db, &code).await?;
    Ok(policies
        .iter()
        .map(|p| {
            let row = stored.iter().find(|(b, _)| b.policy == p.code);
            let extras = Extras {
                case: cases
                    .iter()
                    .find(|c| super::window::policy_of_answers(c.answers.as_ref()) == Some(p.code.as_str())),
                follow_up: follow_ups.iter().find(|(policy, _)| *policy == p.code).map(|(_, f)| f),
            };
            view(p, record.as_ref(), row.map(|(b, hint)| (b, hint.as_deref())), extras)
        })
        .collect())
}

fn view(
    p: &Policy,
    record: Option<&Fetched>,
    row: Option<(&Benefit, Option<&str>)>,
    extras: Extras<'_>,
) -> BenefitView {
    let (explanation, live) = match record {
        Some(r) => (
            explain::explain(&p.eligibility, &p.eligibility_source, r),
            Some(outcome(&p.eligibility, &p.amount, p.cap_fen, r)),
        ),
        None => (Vec::new(), None),
    };
    let (eligible, amount_fen) = match (live, row) {
        (Some(Outcome::Eligible { fen }), _) => (true, Some(fen)),
        (Some(_), _) => (false, None),
        // Not read now (an answer's reply): as the latest run recorded it.
        (None, Some((b, _))) if b.status.eligible() => (true, Some(b.amount_fen)),
        (None, _) => (false, None),
    };
    let (status, zh, en): (String, &str, &str) = match (row, live) {
        (Some((b, _)), _) => {
            let (zh, en) = b.status.label();
            (b.status.as_str().into(), zh, en)
        }
        (None, None) => {
            ("no_record".into(), "登记数据中没有本企业", "The register has no record of this enterprise")
        }
        (None, Some(Outcome::Eligible { .. })) if p.mode == Mode::Automatic => (
            "eligible_next_run".into(),
            "符合条件，下次兑现时通知",
            "Eligible: you will be told at the next payment run",
        ),
        (None, _) if extras.case.is_some_and(|c| in_progress(c.state)) => {
            ("applied".into(), "已申请，办理中", "Applied for, being handled")
        }
        (None, Some(Outcome::Eligible { .. })) => {
            ("apply".into(), "符合条件，可申请兑现", "Eligible if you apply")
        }
        (None, Some(Outcome::NotEligible)) => ("not_eligible".into(), "不符合条件", "Not eligible"),
        (None, Some(Outcome::Fault(_))) => {
            ("no_value".into(), "数据不全，无法判定", "Cannot be decided: data missing")
        }
    };
    let failing = if eligible { None } else { explain::failing(&explanation) };
    BenefitView {
        policy: p.code.clone(),
        name: p.name.clone(),
        department: p.department.clone(),
        mode: match p.mode {
            Mode::Automatic => "automatic",
            Mode::OnApplication => "on_application",
        },
        eligible,
        amount_fen,
        can_answer: row.is_some_and(|(b, _)| b.status == Status::AwaitingConfirmation),
        case_number: extras.case.map(|c| c.number.clone()),
        route: (p.mode == Mode::OnApplication).then(|| match super::window::route_of(p) {
            super::window::Route::Direct => "direct",
            super::window::Route::Transfer => "transfer",
        }),
        can_follow_up: extras.follow_up.is_none() && row.is_some_and(|(b, _)| b.status == Status::Paid),
        follow_up: extras.follow_up.cloned(),
        status,
        status_zh: zh.into(),
        status_en: en.into(),
        paid_fen: row.map_or(0, |(b, _)| b.paid_fen),
        account: row.and_then(|(_, hint)| hint).map(str::to_string),
        reason_zh: failing.map(|c| c.clause_zh.clone()),
        reason_en: failing.map(|c| c.clause_en.clone()),
        explanation,
    }
}

/// The representative's answer.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Answer {
    /// The receiving bank account number (10–30 digits); required to confirm.
    pub account: String,
    /// The bank's name, shown with the masked number.
    pub bank: String,
}

fn check_account(a: &Answer) -> ApiResult<(String, String)> {
    let number: String = a.account.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    let mut errors = Vec::new();
    if number.is_empty() {
        errors.push(FieldError::required("account", "收款账号", "receiving account"));
    } else if !(10..=30).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
        errors.push(FieldError::new(
            "account",
            "invalid_account",
            "收款账号应为10至30位数字",
            "The account number must be 10 to 30 digits",
        ));
    }
    let bank = a.bank.trim();
    if bank.chars().count() > 40 {
        errors.push(FieldError::new(
            "bank",
            "too_long",
            "开户行名称不超过40字",
            "The bank name is at most 40 characters",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let tail: String = number.chars().skip(number.len() - 4).collect();
    let hint = if bank.is_empty() { format!("**** {tail}") } else { format!("{bank} **** {tail}") };
    Ok((number, hint))
}

/// What the representative acts on: the caller (who must be allowed to change the enterprise's
/// benefits), the enterprise's code, the policy in force and its stored benefit.
async fn benefit_to_change(
    state: &AppState,
    caller: &Caller,
    raw_code: &str,
    policy: &str,
) -> ApiResult<(String, String, Policy, Benefit)> {
    let user = caller.require_user()?.to_string();
    let policies = in_force(state).await?;
    let code = raw_code.trim().to_uppercase();
    let resource = Resource::PolicyBenefits { credit_code: code.clone(), issuers: issuers(&policies) };
    match decide(&caller.actor, Action::Update, &resource) {
        Decision::Allow => {}
        Decision::Unauthenticated => return Err(ApiError::Unauthenticated),
        Decision::Forbidden => return Err(ApiError::Forbidden),
        Decision::Hidden => return Err(ApiError::NotFound),
    }
    let p = policies.into_iter().find(|p| p.code == policy).ok_or(ApiError::NotFound)?;
    let before = store::benefit_of(&state.db, &p.code, &code).await?.ok_or(ApiError::NotFound)?;
    Ok((user, code, p, before))
}

/// The representative confirms the receiving account (`confirm`) or declines (`decline`).
pub async fn answer(
    state: &AppState,
    caller: &Caller,
    raw_code: &str,
    policy: &str,
    step: &str,
    body: Answer,
) -> ApiResult<BenefitView> {
    let (user, code, p, before) = benefit_to_change(state, caller, raw_code, policy).await?;
    let p = &p;
    let account = match step {
        "confirm" => Some(check_account(&body)?),
        "decline" => None,
        _ => return Err(ApiError::NotFound),
    };
    if before.status != Status::AwaitingConfirmation {
        let (zh, en) = before.status.label();
        return Err(ApiError::StateConflict {
            code: "not_awaiting_confirmation",
            zh: format!("当前状态为“{zh}”，无需确认"),
            en: format!("The benefit is {en}; there is nothing to confirm"),
            state: before.status.as_str().into(),
        });
    }
    // An award made on application is paid with the confirmation, in the same transaction,
    // when what is left of the budget covers it; otherwise it waits, confirmed, for more budget.
    let pay = if p.mode == Mode::OnApplication && account.is_some() {
        let left = p.budget_fen - store::paid_in_all(&state.db, &p.code).await?;
        (before.outstanding() <= left).then(|| store::PayNow {
            run_id: before.run_id.clone(),
            policy: names(p),
            budget_fen: Some(p.budget_fen),
        })
    } else {
        None
    };
    store::answer_and_pay(&state.db, &before, account, format!("user:{user}"), pay).await?;
    let (now, hint) = store::benefits_of_enterprise(&state.db, &code)
        .await?
        .into_iter()
        .find(|(b, _)| b.policy == p.code)
        .ok_or(ApiError::NotFound)?;
    Ok(view(p, None, Some((&now, hint.as_deref())), Extras::default()))
}

/// A draft of a policy's rules (either may be left out: the current one is used).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Draft {
    pub eligibility: Option<String>,
    pub amount: Option<String>,
}

/// Eligible enterprises and money under one rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub eligible: u64,
    pub amount_fen: i64,
    /// Enterprises the rule has no value for.
    pub faults: u64,
}

/// Enterprises whose benefit changes, and by how much in all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Shift {
    pub enterprises: u64,
    pub fen: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Breakdown {
    /// The district, industry section or size.
    pub key: String,
    pub current: Figures,
    pub draft: Figures,
}

/// One enterprise whose amount changes most.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Changed {
    pub credit_code: String,
    pub current_fen: i64,
    pub draft_fen: i64,
}

/// What a draft rule would do against the current one; nothing is written.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Simulation {
    pub policy: String,
    pub evaluated: u64,
    pub current: Figures,
    pub draft: Figures,
    /// Eligible under the draft and not now.
    pub gained: Shift,
    /// Eligible now and not under the draft.
    pub lost: Shift,
    /// Eligible under both, given more / less.
    pub more: Shift,
    pub less: Shift,
    pub by_district: Vec<Breakdown>,
    pub by_industry: Vec<Breakdown>,
    pub by_size: Vec<Breakdown>,
    pub budget_fen: Option<i64>,
    /// How far the draft's money exceeds the budget (0 when within).
    pub over_budget_fen: i64,
    /// The 20 enterprises whose amount changes most.
    pub largest_changes: Vec<Changed>,
    pub seconds: f64,
}

/// Compiles draft rules, naming the field and the position of every error.
pub fn compile_draft(p: &Policy, d: &Draft) -> ApiResult<(rules::Expr, rules::Expr)> {
    let mut errors = Vec::new();
    let eligibility = match d.eligibility.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(p.eligibility.clone()),
        Some(src) => rules::compile(src, Want::Bool)
            .map_err(|e| errors.push(super::versions::rule_error("eligibility", &e)))
            .ok(),
    };
    let amount = match d.amount.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(p.amount.clone()),
        Some(src) => rules::compile(src, Want::Amount)
            .map_err(|e| errors.push(super::versions::rule_error("amount", &e)))
            .ok(),
    };
    match (eligibility, amount) {
        (Some(e), Some(a)) if errors.is_empty() => Ok((e, a)),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// Runs a draft of policy `code` over the whole register beside the current rule.
pub async fn simulate(state: &AppState, caller: &Caller, code: &str, draft: Draft) -> ApiResult<Simulation> {
    let user = caller.require_user()?.to_string();
    let p = policy_of(state, code).await?;
    match decide(&caller.actor, Action::Review, &Resource::PolicyWork { department: p.department.clone() }) {
        Decision::Allow => {}
        Decision::Unauthenticated => return Err(ApiError::Unauthenticated),
        Decision::Forbidden => return Err(ApiError::Forbidden),
        Decision::Hidden => return Err(ApiError::NotFound),
    }
    let (eligibility, amount) = compile_draft(&p, &draft)?;
    let reader = Reader {
        department: READER_DEPARTMENT.into(),
        actor: format!("user:{user}"),
        actor_name: caller.name.clone().unwrap_or_default(),
    };
    const BY: [&str; 3] = ["district", "industry_section", "size"];
    let wanted = plan(&[&p.eligibility, &p.amount, &eligibility, &amount], &BY);
    let purpose = format!("{} simulation", p.code);
    let columns = read_batch(state, &reader, &wanted, Purpose::PolicyBenefit, Some(&purpose)).await?;
    let started = Instant::now();
    let register = Register::from_columns(&columns);
    let programs = [
        Program { eligibility: &p.eligibility, amount: &p.amount, cap_fen: p.cap_fen },
        Program { eligibility: &eligibility, amount: &amount, cap_fen: p.cap_fen },
    ];
    let outcomes = outcomes_of(&programs, &register);
    let fields = enterprise_fields();
    let column_of = |name: &str| {
        let k = fields.iter().position(|f| f.name == name)?;
        Some(k)
    };
    let keys: Vec<Option<usize>> = BY.iter().map(|b| column_of(b)).collect();
    let mut sim = Simulation {
        policy: p.code.clone(),
        evaluated: register.len() as u64,
        current: Figures::default(),
        draft: Figures::default(),
        gained: Shift::default(),
        lost: Shift::default(),
        more: Shift::default(),
        less: Shift::default(),
        by_district: Vec::new(),
        by_industry: Vec::new(),
        by_size: Vec::new(),
        budget_fen: Some(p.budget_fen),
        over_budget_fen: 0,
        largest_changes: Vec::new(),
        seconds: 0.0,
    };
    let mut groups: [BTreeMap<String, Breakdown>; 3] = Default::default();
    let mut changes: Vec<Changed> = Vec::new();
    let (current, proposed) = (&outcomes[0], &outcomes[1]);
    let (mut a, mut b) = (0, 0);
    // Both lists are in record order: walk them together.
    while a < current.len() || b < proposed.len() {
        let (i, now, then) = match (current.get(a), proposed.get(b)) {
            (Some(&(i, x)), Some(&(j, y))) if i == j => {
                a += 1;
                b += 1;
                (i, x, y)
            }
            (Some(&(i, x)), Some(&(j, _))) if i < j => {
                a += 1;
                (i, x, Outcome::NotEligible)
            }
            (Some(&(i, x)), None) => {
                a += 1;
                (i, x, Outcome::NotEligible)
            }
            (_, Some(&(j, y))) => {
                b += 1;
                (j, Outcome::NotEligible, y)
            }
            (None, None) => break,
        };
        let record = register.record(i);
        for (g, k) in groups.iter_mut().zip(&keys) {
            let key = match k.map(|k| record.cell(k)) {
                Some(Cell::Str(s)) => s.to_string(),
                _ => "—".to_string(),
            };
            let entry = g.entry(key.clone()).or_insert_with(|| Breakdown { key, ..Breakdown::default() });
            add(&mut entry.current, now);
            add(&mut entry.draft, then);
        }
        add(&mut sim.current, now);
        add(&mut sim.draft, then);
        let (x, y) = (fen(now), fen(then));
        match (x, y) {
            (None, Some(y)) => shift(&mut sim.gained, y),
            (Some(x), None) => shift(&mut sim.lost, x),
            (Some(x), Some(y)) if y > x => shift(&mut sim.more, y - x),
            (Some(x), Some(y)) if y < x => shift(&mut sim.less, x - y),
            _ => {}
        }
        if x != y {
            changes.push(Changed {
                credit_code: columns.keys.get(i).to_string(),
                current_fen: x.unwrap_or(0),
                draft_fen: y.unwrap_or(0),
            });
        }
    }
    changes.sort_by_key(|c| std::cmp::Reverse((c.draft_fen - c.current_fen).abs()));
    changes.truncate(20);
    sim.largest_changes = changes;
    let [district, industry, size] = groups;
    sim.by_district = district.into_values().collect();
    sim.by_industry = industry.into_values().collect();
    sim.by_size = size.into_values().collect();
    sim.over_budget_fen = sim.draft.amount_fen.saturating_sub(p.budget_fen).max(0);
    sim.seconds = started.elapsed().as_secs_f64();
    Ok(sim)
}

fn add(f: &mut Figures, o: Outcome) {
    match o {
        Outcome::Eligible { fen } => {
            f.eligible += 1;
            // A draft may give absurd amounts; the sum saturates rather than overflow.
            f.amount_fen = f.amount_fen.saturating_add(fen);
        }
        Outcome::Fault(_) => f.faults += 1,
        Outcome::NotEligible => {}
    }
}

fn fen(o: Outcome) -> Option<i64> {
    match o {
        Outcome::Eligible { fen } => Some(fen),
        _ => None,
    }
}

fn shift(s: &mut Shift, fen: i64) {
    s.enterprises += 1;
    s.fen = s.fen.saturating_add(fen);
}

/// Each program's outcomes other than not eligible, in record order.
fn outcomes_of(programs: &[Program<'_>], register: &Register<'_>) -> Vec<Vec<(usize, Outcome)>> {
    let parts = columnar::run(
        programs,
        register,
        || vec![Vec::new(); programs.len()],
        |found: &mut Vec<Vec<(usize, Outcome)>>, n, i, o| found[n].push((i, o)),
    );
    let mut all: Vec<Vec<(usize, Outcome)>> = vec![Vec::new(); programs.len()];
    for part in parts {
        for (n, found) in part.into_iter().enumerate() {
            all[n].extend(found);
        }
    }
    for list in &mut all {
        list.sort_unstable_by_key(|(i, _)| *i);
    }
    all
}

/// What a run did.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub run: Run,
    pub reconciliation: Reconciliation,
    /// Confirmed benefits that wait for budget.
    pub waiting_for_budget: u64,
    /// Reading the register through the exchange, and the whole run.
    pub read_seconds: f64,
    pub seconds: f64,
}

/// Where a run is, for a progress bar.
pub trait Progress {
    fn phase(&mut self, name: &str, total: u64);
    fn advance(&mut self, done: u64);
}

/// The values of the fields a policy's rules read for one enterprise, as JSON (the explanation
/// is rebuilt from them with the rule of the run).
fn values_json(p: &Policy, r: &dyn Record) -> String {
    let mut all = explain::values_of(&p.eligibility, r);
    all.extend(explain::values_of(&p.amount, r));
    serde_json::Value::Object(all).to_string()
}

/// The recorded 免申即享 run of policy `code`: reads the register through the exchange,
/// evaluates every enterprise, records each eligible (or faulty) enterprise's benefit with the
/// values it was decided on, tells the newly eligible ones' representatives, and pays the
/// confirmed ones within the budget. `cancel` stops it between batches: every batch is whole.
pub async fn run(
    state: &AppState,
    code: &str,
    actor: &str,
    cancel: &AtomicBool,
    progress: &mut (dyn Progress + Send),
) -> ApiResult<RunSummary> {
    let started = Instant::now();
    let p = policy_of(state, code).await?;
    if p.mode != Mode::Automatic {
        return Err(ApiError::Conflict {
            code: "not_automatic",
            zh: "该政策需企业申请兑现，不做免申即享".into(),
            en: "This policy is paid on application, not without one".into(),
        });
    }
    let today = state.clock().today();
    if today < p.window.0 || today > p.window.1 {
        return Err(ApiError::Conflict {
            code: "outside_window",
            zh: format!("不在兑现期内（{} 至 {}）", p.window.0, p.window.1),
            en: format!("Outside the payment window ({} to {})", p.window.0, p.window.1),
        });
    }
    let lease = format!("policy_run:{}", p.code);
    let holder = crate::platform::jobs::this_process();
    if !crate::platform::jobs::take_named_lease(&state.db, &lease, holder, lease_time()).await? {
        return Err(ApiError::Conflict {
            code: "run_in_progress",
            zh: "该政策正在兑现中，请稍后再试".into(),
            en: "A run of this policy is in progress; try again later".into(),
        });
    }
    let result = run_leased(state, &p, actor, cancel, progress, started).await;
    crate::platform::jobs::release_named(&state.db, &lease, holder).await?;
    result
}

async fn run_leased(
    state: &AppState,
    p: &Policy,
    actor: &str,
    cancel: &AtomicBool,
    progress: &mut (dyn Progress + Send),
    started: Instant,
) -> ApiResult<RunSummary> {
    let mut run = Run {
        id: crate::platform::tokens::uuid_v4(),
        policy: p.code.clone(),
        started_by: actor.to_string(),
        started_at: state.db.now_text(),
        status: "running".into(),
        budget_fen: Some(p.budget_fen),
        ..Run::default()
    };
    store::start_run(&state.db, run.clone()).await?;
    let reader =
        Reader {
            department: READER_DEPARTMENT.into(), actor: actor.into(), actor_name: "免申即享".into()
        };
    progress.phase("读取登记数据 reading the register", 0);
    let columns = read_batch(
        state,
        &reader,
        &plan(&[&p.eligibility, &p.amount], &[]),
        Purpose::PolicyBenefit,
        Some(&p.code),
    )
    .await?;
    let read_seconds = started.elapsed().as_secs_f64();
    let register = Register::from_columns(&columns);
    let program = Program { eligibility: &p.eligibility, amount: &p.amount, cap_fen: p.cap_fen };
    let found = outcomes_of(&[program], &register).pop().unwrap_or_default();
    run.evaluated = register.len() as i64;
    let mut existing = store::stored_of_policy(&state.db, &p.code).await?;
    progress.phase("记录结果并通知 recording and notifying", found.len() as u64);
    // Decide each batch's changes from what was read and write them, deciding the next batch
    // while the store writes this one: only two batches of changes are held at a time.
    let mut done = 0u64;
    let mut chunks = found.chunks(RUN_BATCH);
    let mut next = chunks.next().map(|c| decide_batch(p, &columns, &register, &mut existing, c, &run.id));
    while let Some(decided) = next.take() {
        if cancel.load(Ordering::Relaxed) {
            return cancelled(state, run).await;
        }
        run.eligible += decided.eligible;
        run.faults += decided.faults;
        let upcoming = chunks.next();
        // The write goes to the writer when first polled, before the next batch is decided.
        let (written, decided_next) =
            tokio::join!(write_batch(state, &run, p, actor, decided.batch), async {
                upcoming.map(|c| decide_batch(p, &columns, &register, &mut existing, c, &run.id))
            });
        run.notified += written? as i64;
        next = decided_next;
        done += decided.records;
        progress.advance(done);
        keep_lease(state, p).await?;
    }
    // Those eligible before and not now.
    let mut gone: Vec<(String, store::Stored)> = existing.into_iter().collect();
    gone.sort_by(|a, b| a.0.cmp(&b.0));
    for chunk in gone.chunks(RUN_BATCH) {
        if cancel.load(Ordering::Relaxed) {
            return cancelled(state, run).await;
        }
        let batch: Vec<Decided> = chunk
            .iter()
            .filter_map(|(code, stored)| {
                let before = stored.benefit(&p.code, code);
                benefits::decide(&p.code, code, Some(&before), Outcome::NotEligible, || "{}".into(), &run.id)
                    .map(|(c, n)| (Outcome::NotEligible, c, n))
            })
            .collect();
        run.notified += write_batch(state, &run, p, actor, batch).await? as i64;
        keep_lease(state, p).await?;
    }
    // Pay what is confirmed, within the budget.
    let paid_before = store::paid_in_all(&state.db, &p.code).await?;
    let confirmed = store::payable(&state.db, &p.code).await?;
    let (payments, waiting) = benefits::plan_payments(&confirmed, Some(p.budget_fen - paid_before));
    progress.phase("拨付 paying", payments.len() as u64);
    let mut paid = 0u64;
    for batch in payments.chunks(PAY_BATCH) {
        if cancel.load(Ordering::Relaxed) {
            return cancelled(state, run).await;
        }
        let (count, fen) = pay_batch(state, &run, p, actor, batch.to_vec()).await?;
        run.paid_count += count;
        run.paid_fen += fen;
        paid += batch.len() as u64;
        progress.advance(paid);
        keep_lease(state, p).await?;
    }
    run.status = "finished".into();
    run.finished_at = Some(state.db.now_text());
    store::finish_run(&state.db, run.clone()).await?;
    let reconciliation = store::reconcile(&state.db, &p.code, Some(p.budget_fen)).await?;
    Ok(RunSummary {
        run,
        reconciliation,
        waiting_for_budget: waiting.len() as u64,
        read_seconds,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// How long a run's lease lasts without renewal: a run killed with SIGKILL blocks the next one
/// this long. Renewed after every batch. `QUANBAN_POLICY_RUN_LEASE_SECONDS` shortens it (tests).
fn lease_time() -> Duration {
    let seconds =
        std::env::var("QUANBAN_POLICY_RUN_LEASE_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    Duration::from_secs(seconds)
}

/// Renews the run's lease; a run that lost it (it stalled past the lease time and another run
/// took over) stops here.
async fn keep_lease(state: &AppState, p: &Policy) -> ApiResult<()> {
    let lease = format!("policy_run:{}", p.code);
    if crate::platform::jobs::take_named_lease(
        &state.db,
        &lease,
        crate::platform::jobs::this_process(),
        lease_time(),
    )
    .await?
    {
        Ok(())
    } else {
        Err(ApiError::Conflict {
            code: "run_in_progress",
            zh: "该政策已由另一进程接手兑现".into(),
            en: "Another process took this run over".into(),
        })
    }
}

async fn cancelled(state: &AppState, mut run: Run) -> ApiResult<RunSummary> {
    run.status = "cancelled".into();
    run.finished_at = Some(state.db.now_text());
    store::finish_run(&state.db, run.clone()).await?;
    let reconciliation = store::reconcile(&state.db, &run.policy, run.budget_fen).await?;
    Ok(RunSummary { run, reconciliation, waiting_for_budget: 0, read_seconds: 0.0, seconds: 0.0 })
}

/// Pays one planned batch; when a benefit changed since it was planned (another run paid it, a
/// register change) or the budget moved, the batch is planned again from fresh rows and what is
/// left of the budget. Returns the payments made and their sum.
async fn pay_batch(
    state: &AppState,
    run: &Run,
    p: &Policy,
    actor: &str,
    mut batch: Vec<benefits::Payment>,
) -> ApiResult<(i64, i64)> {
    for _ in 0..5 {
        if batch.is_empty() {
            return Ok((0, 0));
        }
        let n = batch.len() as i64;
        match store::pay(&state.db, run.id.clone(), names(p), Some(p.budget_fen), actor.into(), batch.clone())
            .await
        {
            Ok(fen) => return Ok((n, fen)),
            Err(StoreError::Conflict) => {
                let mut fresh = Vec::with_capacity(batch.len());
                for planned in &batch {
                    fresh.extend(store::benefit_of(&state.db, &p.code, &planned.credit_code).await?);
                }
                let left = p.budget_fen - store::paid_in_all(&state.db, &p.code).await?;
                batch = benefits::plan_payments(&fresh, Some(left)).0;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict_stale())
}

/// An enterprise's outcome in a run and the change it makes.
type Decided = (Outcome, Change, Option<Notice>);

/// One batch of a run's outcomes, decided against the benefits stored before the run.
struct DecidedBatch {
    batch: Vec<Decided>,
    records: u64,
    eligible: i64,
    faults: i64,
}

fn decide_batch(
    p: &Policy,
    columns: &Columns,
    register: &Register<'_>,
    existing: &mut HashMap<String, store::Stored>,
    chunk: &[(usize, Outcome)],
    run_id: &str,
) -> DecidedBatch {
    let mut d = DecidedBatch {
        batch: Vec::with_capacity(chunk.len()),
        records: chunk.len() as u64,
        eligible: 0,
        faults: 0,
    };
    for &(i, o) in chunk {
        match o {
            Outcome::Eligible { .. } => d.eligible += 1,
            Outcome::Fault(_) => d.faults += 1,
            Outcome::NotEligible => {}
        }
        let key = columns.keys.get(i);
        let before = existing.remove(key).map(|s| s.benefit(&p.code, key));
        // The values are written out only for a benefit that changes (most do not on a re-run).
        let values = || values_json(p, &register.record(i));
        if let Some((c, n)) = benefits::decide(&p.code, key, before.as_ref(), o, values, run_id) {
            d.batch.push((o, c, n));
        }
    }
    d
}

/// Writes one batch; when a benefit changed since it was read (a representative answered in
/// the meantime), the batch is decided again from fresh rows.
async fn write_batch(
    state: &AppState,
    run: &Run,
    p: &Policy,
    actor: &str,
    batch: Vec<Decided>,
) -> ApiResult<u64> {
    // Shared with the writer, so that a lost claim can be decided again without a copy up front.
    let mut batch: std::sync::Arc<Vec<Decided>> = batch.into();
    for _ in 0..3 {
        match store::apply_changes(&state.db, run.id.clone(), names(p), actor.into(), batch.clone()).await {
            Ok(n) => return Ok(n),
            Err(StoreError::Conflict) => {
                let mut again = Vec::with_capacity(batch.len());
                for (o, change, _) in batch.iter() {
                    let b = change.benefit();
                    let before = store::benefit_of(&state.db, &p.code, &b.credit_code).await?;
                    let decided = benefits::decide(
                        &p.code,
                        &b.credit_code,
                        before.as_ref(),
                        *o,
                        || b.explanation.clone(),
                        &run.id,
                    );
                    again.extend(decided.map(|(c, n)| (*o, c, n)));
                }
                batch = again.into();
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict_stale())
}

async fn work_on(state: &AppState, caller: &Caller, code: &str, action: Action) -> ApiResult<Policy> {
    caller.require_user()?;
    let p = policy_of(state, code).await?;
    match decide(&caller.actor, action, &Resource::PolicyWork { department: p.department.clone() }) {
        Decision::Allow => Ok(p),
        Decision::Unauthenticated => Err(ApiError::Unauthenticated),
        Decision::Forbidden => Err(ApiError::Forbidden),
        Decision::Hidden => Err(ApiError::NotFound),
    }
}

/// A policy officer proposes new rules (or cap, budget) for policy `code`.
pub async fn propose(
    state: &AppState,
    caller: &Caller,
    code: &str,
    proposal: super::versions::Proposal,
) -> ApiResult<super::versions::Version> {
    let p = work_on(state, caller, code, Action::Create).await?;
    let new = super::versions::check(&p, &proposal, state.clock().today()).map_err(ApiError::Validation)?;
    Ok(store::propose(&state.db, p.code.clone(), new, caller.actor.audit_name()).await?)
}

/// A policy's versions (its department's officers and heads).
pub async fn versions(
    state: &AppState,
    caller: &Caller,
    code: &str,
) -> ApiResult<Vec<super::versions::Version>> {
    let p = work_on(state, caller, code, Action::Read).await?;
    Ok(store::versions_of(&state.db, &p.code).await?)
}

/// A decision on a proposed version.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct VersionDecision {
    /// Why (required to reject).
    pub note: String,
    /// The version's `row_version` as read; a stale one gets 409.
    pub row_version: i64,
}

/// Another officer (or the head) of the issuing department approves or rejects a proposed version.
pub async fn decide_version(
    state: &AppState,
    caller: &Caller,
    code: &str,
    number: i64,
    action: &str,
    d: VersionDecision,
) -> ApiResult<super::versions::Version> {
    let approve = match action {
        "approve" => true,
        "reject" => false,
        _ => return Err(ApiError::NotFound),
    };
    let p = work_on(state, caller, code, Action::Approve).await?;
    let before = store::versions_of(&state.db, &p.code)
        .await?
        .into_iter()
        .find(|v| v.version == number)
        .ok_or(ApiError::NotFound)?;
    if d.row_version != 0 && d.row_version != before.row_version {
        return Err(ApiError::conflict_stale());
    }
    use super::versions::Refusal;
    let after =
        super::versions::decide(&before, &caller.actor.audit_name(), approve, &d.note, &state.db.now_text())
            .map_err(|r| match r {
                Refusal::FourEyes => ApiError::Conflict {
                    code: "four_eyes",
                    zh: "不能审批自己提出的调整".into(),
                    en: "You cannot decide a proposal you made yourself".into(),
                },
                Refusal::NotProposed => ApiError::Conflict {
                    code: "not_pending",
                    zh: "该调整已处理".into(),
                    en: "This proposal has already been decided".into(),
                },
                Refusal::NoReason => ApiError::Validation(vec![FieldError::required(
                    "note",
                    "驳回理由",
                    "a reason for rejecting",
                )]),
            })?;
    store::save_decision(&state.db, before.row_version, after.clone()).await?;
    Ok(after)
}

// --- One-window applications (申请兑现) ----------------------------------------------------------

/// What a checked policy application puts in its case.
#[derive(Clone, Debug)]
pub struct Application {
    pub title: String,
    pub answers: serde_json::Value,
    /// 直办: the window decides at acceptance.
    pub direct: bool,
}

/// Whether a case in this state is an application still being handled.
fn in_progress(s: crate::cases::domain::CaseState) -> bool {
    use crate::cases::domain::CaseState as S;
    matches!(s, S::Submitted | S::Accepted | S::UnderReview | S::SupplementRequested)
}

/// The rule's outcome on one enterprise's register record read now through the exchange (as
/// the policy service, for `actor`), with the explanation and the values read.
async fn judge(
    state: &AppState,
    actor: &str,
    actor_name: &str,
    p: &Policy,
    credit_code: &str,
) -> ApiResult<Option<(Outcome, Vec<Clause>, String)>> {
    let reader = Reader {
        department: READER_DEPARTMENT.into(),
        actor: actor.to_string(),
        actor_name: actor_name.to_string(),
    };
    let wanted = plan(&[&p.eligibility, &p.amount], &[]);
    let record = read_subject(state, &reader, &wanted, credit_code, Purpose::PolicyBenefit, Some(&p.code))
        .await?
        .map(Fetched);
    Ok(record.map(|r| {
        let outcome = outcome(&p.eligibility, &p.amount, p.cap_fen, &r);
        (outcome, explain::explain(&p.eligibility, &p.eligibility_source, &r), values_json(p, &r))
    }))
}

/// Checks an enterprise's application for policy `code` at the window: a policy paid on
/// application, in its window, not already applied for or awarded, and the register's data
/// bearing it out. `Ok(Err(_))` is the refusal, naming the `policy` field.
pub async fn application_for(
    state: &AppState,
    actor: &str,
    actor_name: &str,
    credit_code: &str,
    code: &str,
) -> ApiResult<Result<Application, FieldError>> {
    use super::window::{self, Facts};
    let policies = in_force(state).await?;
    let p = policies.iter().find(|p| p.code == code.trim());
    let today = state.clock().today();
    // The policy and the date first: nothing is read for an application they rule out.
    let unread = Facts {
        policy: p,
        today,
        outcome: Some(Outcome::Eligible { fen: 0 }),
        failing: None,
        open_case: None,
        benefit: None,
    };
    if let Err(e) = window::check_application(&unread) {
        return Ok(Err(e));
    }
    let Some(p) = p else { return Err(ApiError::NotFound) };
    let open = crate::cases::store::of_enterprise_item(&state.db, credit_code, window::WINDOW_ITEM)
        .await?
        .into_iter()
        .find(|c| {
            in_progress(c.state) && window::policy_of_answers(c.answers.as_ref()) == Some(p.code.as_str())
        });
    let benefit = store::benefit_of(&state.db, &p.code, credit_code).await?;
    let judged = judge(state, actor, actor_name, p, credit_code).await?;
    let failing = judged.as_ref().and_then(|(_, clauses, _)| explain::failing(clauses));
    let facts = Facts {
        policy: Some(p),
        today,
        outcome: judged.as_ref().map(|(o, ..)| *o),
        failing,
        open_case: open.as_ref().map(|c| c.number.as_str()),
        benefit: benefit.as_ref(),
    };
    Ok(window::check_application(&facts).map(|()| Application {
        title: window::title_of(p),
        answers: window::answers_of(p),
        direct: window::route_of(p) == window::Route::Direct,
    }))
}

/// The award an approval of policy application `case` makes, at the amount the rule gives on
/// the register's data now; `None` for a case that is not a policy application. An approval the
/// data does not bear out is refused (409 naming why), so nothing is awarded against the rules.
pub async fn award_for_case(
    state: &AppState,
    actor: &str,
    actor_name: &str,
    case: &crate::cases::domain::CaseRecord,
) -> ApiResult<Option<super::window::Award>> {
    use super::window::{self, Facts};
    if case.item_code.as_deref() != Some(window::WINDOW_ITEM) {
        return Ok(None);
    }
    let (Some(code), Some(enterprise)) = (window::policy_of_answers(case.answers.as_ref()), &case.enterprise)
    else {
        return Ok(None);
    };
    let policies = in_force(state).await?;
    let Some(p) = policies.iter().find(|p| p.code == code) else { return Ok(None) };
    let benefit = store::benefit_of(&state.db, &p.code, enterprise).await?;
    let judged = judge(state, actor, actor_name, p, enterprise).await?;
    let facts = Facts {
        policy: Some(p),
        today: state.clock().today(),
        outcome: judged.as_ref().map(|(o, ..)| *o),
        failing: judged.as_ref().and_then(|(_, clauses, _)| explain::failing(clauses)),
        open_case: None,
        benefit: benefit.as_ref(),
    };
    match window::check_award(&facts) {
        Ok(fen) => Ok(Some(window::Award {
            policy: p.code.clone(),
            policy_name: p.name.clone(),
            credit_code: enterprise.clone(),
            amount_fen: fen,
            explanation: judged.map(|(.., values)| values).unwrap_or_default(),
            case_number: case.number.clone(),
        })),
        Err(e) => Err(ApiError::Conflict {
            code: "policy_not_borne_out",
            zh: format!("不能准予：{}", e.message_zh),
            en: format!("Cannot approve: {}", e.message_en),
        }),
    }
}

/// 跟踪问效: the representative records how the paid benefit is rated and what it achieved.
pub async fn follow_up(
    state: &AppState,
    caller: &Caller,
    raw_code: &str,
    policy: &str,
    input: super::window::FollowUpInput,
) -> ApiResult<BenefitView> {
    let (user, code, p, before) = benefit_to_change(state, caller, raw_code, policy).await?;
    let p = &p;
    let (rating, effect, jobs) = super::window::check_follow_up(&input).map_err(ApiError::Validation)?;
    if before.status != Status::Paid {
        let (zh, en) = before.status.label();
        return Err(ApiError::StateConflict {
            code: "not_paid",
            zh: format!("资金拨付后才能评价，当前状态为“{zh}”"),
            en: format!("A follow-up is recorded after payment; the benefit is {en}"),
            state: before.status.as_str().into(),
        });
    }
    let recorded = super::window::FollowUp { rating, effect, jobs, recorded_at: state.db.now_text() };
    store::record_follow_up(&state.db, &before, recorded, format!("user:{user}")).await.map_err(
        |e| match e {
            StoreError::Duplicate(_) => ApiError::Conflict {
                code: "already_followed_up",
                zh: "已提交过评价".into(),
                en: "The follow-up was already recorded".into(),
            },
            other => other.into(),
        },
    )?;
    let mut views = enterprise_benefits(state, caller, &code).await?;
    let at = views.iter().position(|v| v.policy == p.code).ok_or(ApiError::NotFound)?;
    Ok(views.swap_remove(at))
}

// --- The guide (企业找政策) --------------------------------------------------------------------------

/// How one enterprise the asker represents stands under a policy the guide found.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Standing {
    pub credit_code: String,
    pub status: String,
    pub status_zh: String,
    pub status_en: String,
    pub amount_fen: Option<i64>,
}

/// A policy the guide found for a question.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PolicyHit {
    pub code: String,
    pub name: String,
    pub department: String,
    /// `automatic` (免申即享) or `on_application` (申请兑现).
    pub mode: &'static str,
    pub summary: String,
    pub reason_zh: String,
    pub reason_en: String,
    /// The policy's public page.
    pub url: String,
    /// For a signed-in representative: each of their enterprises' standing under it.
    pub standing: Vec<Standing>,
}

/// The policies that answer a guide question (at most `limit`); for a representative, with
/// where each of their enterprises stands (what they are owed, whether they may apply).
pub async fn guide_policies(
    state: &AppState,
    caller: &Caller,
    query: &str,
    limit: usize,
) -> ApiResult<Vec<PolicyHit>> {
    let policies = in_force(state).await?;
    let found = super::finder::find(&policies, query, limit);
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let mut views: Vec<(String, Vec<BenefitView>)> = Vec::new();
    if let crate::identity::authz::Actor::Person { enterprises, .. } = &caller.actor {
        for code in enterprises {
            views.push((code.clone(), enterprise_benefits(state, caller, code).await?));
        }
    }
    Ok(found
        .into_iter()
        .map(|f| {
            let p = f.policy;
            let (reason_zh, reason_en) = if f.matched.is_empty() {
                ("惠企政策".to_string(), "A business support policy".to_string())
            } else {
                (format!("匹配：{}", f.matched.join("、")), format!("Matched: {}", f.matched.join(", ")))
            };
            PolicyHit {
                code: p.code.clone(),
                name: p.name.clone(),
                department: p.department.clone(),
                mode: match p.mode {
                    Mode::Automatic => "automatic",
                    Mode::OnApplication => "on_application",
                },
                summary: p.summary.clone(),
                reason_zh,
                reason_en,
                url: format!("/policies/{}", p.code),
                standing: views
                    .iter()
                    .filter_map(|(code, all)| {
                        all.iter().find(|v| v.policy == p.code).map(|v| Standing {
                            credit_code: code.clone(),
                            status: v.status.clone(),
                            status_zh: v.status_zh.clone(),
                            status_en: v.status_en.clone(),
                            amount_fen: v.amount_fen,
                        })
                    })
                    .collect(),
            }
        })
        .collect())
}
