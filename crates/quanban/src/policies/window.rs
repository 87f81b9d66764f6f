//! One-window policy handling (申请兑现): an enterprise applies for a policy that is paid on
//! application through the city's single policy window (惠企政策兑现申请, item
//! [`WINDOW_ITEM`], run by 发改委), online or at the counter, as an ordinary case.
//!
//! 分类办理: a policy whose eligibility and amount the shared register settles completely is
//! decided by the window itself at acceptance (直办, a 即办件); every other one is accepted by
//! the window and transferred to the issuing department, which examines the documents and
//! decides within the item's working-day deadline (转办). The case's lights and the
//! supervision view follow it the whole way (全程督办). An approval records the enterprise's
//! benefit in the same transaction, at the amount the rule gives on the register's data that
//! day; the representative confirms the receiving account, it is paid within the budget, and a
//! follow-up (跟踪问效) records how the enterprise rates it and what it achieved.
//!
//! Everything here is pure: the service reads, these functions decide.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::benefits::{Benefit, Status};
use super::eval::Outcome;
use super::explain::Clause;
use super::library::{Mode, Policy};
use crate::http::FieldError;

/// The catalog item every policy application is a case of (惠企政策兑现申请).
pub const WINDOW_ITEM: &str = "JN-FGW-0003";

/// Policies the window decides itself at acceptance (直办): their eligibility and amount come
/// wholly from the shared register, so there is nothing for the issuing department to examine.
/// Every other policy on application is transferred to its issuing department (转办).
const DIRECT: &[&str] = &["JN-ZC-2026-008"];

/// How the window handles a policy's applications.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// 直办: decided by the window at acceptance.
    Direct,
    /// 转办: accepted by the window, decided by the issuing department.
    Transfer,
}

impl Route {
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Route::Direct => ("窗口直办", "Decided at the window"),
            Route::Transfer => ("转办主管部门", "Transferred to the issuing department"),
        }
    }
}

pub fn route_of(p: &Policy) -> Route {
    if DIRECT.contains(&p.code.as_str()) { Route::Direct } else { Route::Transfer }
}

/// The policy a case applies for, from the case's stored answers (`{"policy": CODE}`).
pub fn policy_of_answers(answers: Option<&Value>) -> Option<&str> {
    answers?.get("policy")?.as_str()
}

/// What a policy application stores in its case.
pub fn answers_of(p: &Policy) -> Value {
    json!({"policy": p.code, "route": route_of(p)})
}

/// The case's title: the window item and the policy.
pub fn title_of(p: &Policy) -> String {
    format!("惠企政策兑现申请：{}", p.name)
}

/// What is known when an enterprise applies (or a decision is made) for a policy.
pub struct Facts<'a> {
    pub policy: Option<&'a Policy>,
    pub today: NaiveDate,
    /// The rule's outcome on the enterprise's register record (None: no record).
    pub outcome: Option<Outcome>,
    /// The first clause that did not hold, when not eligible.
    pub failing: Option<&'a Clause>,
    /// An open application of the same enterprise for the same policy (its case number).
    pub open_case: Option<&'a str>,
    /// The enterprise's benefit under the policy, if one is recorded.
    pub benefit: Option<&'a Benefit>,
}

fn refused(code: &'static str, zh: String, en: String) -> FieldError {
    FieldError::new("policy", code, zh, en)
}

/// Whether the enterprise may apply now; the error names the `policy` field and says why.
pub fn check_application(f: &Facts<'_>) -> Result<(), FieldError> {
    let Some(p) = f.policy else {
        return Err(refused("unknown_policy", "政策不存在".into(), "No such policy".into()));
    };
    if p.mode == Mode::Automatic {
        return Err(refused(
            "no_application_needed",
            format!("“{}”实行免申即享，无需申请，符合条件的企业将收到通知", p.name),
            format!("Policy {} is paid without an application; eligible enterprises are told", p.code),
        ));
    }
    let (from, to) = p.window;
    if f.today < from || f.today > to {
        return Err(refused(
            "outside_window",
            format!("“{}”的申报期为{}至{}，当前不在申报期内", p.name, from, to),
            format!("Applications for policy {} are taken from {from} to {to}", p.code),
        ));
    }
    if let Some(number) = f.open_case {
        return Err(refused(
            "already_applied",
            format!("已就该政策提交申请（办件号{number}），正在办理中"),
            format!("An application for this policy is already being handled (case {number})"),
        ));
    }
    if let Some(b) = held(f) {
        let (zh, en) = b.status.label();
        return Err(refused(
            "already_awarded",
            format!("该政策已核定给本企业（{zh}），不能重复申请"),
            format!(
                "This policy was already awarded to the enterprise ({en}); it cannot be applied for again"
            ),
        ));
    }
    eligible(f)
}

/// The enterprise's benefit under the policy if it still holds one (a lapsed or undecidable
/// one may be awarded again).
fn held<'a>(f: &Facts<'a>) -> Option<&'a Benefit> {
    f.benefit.filter(|b| b.status != Status::NoLongerEligible && b.status != Status::Fault)
}

/// Whether the register's data bears the award out at the decision (the rules are the
/// preliminary screening: the department may still refuse, never award against them).
pub fn check_award(f: &Facts<'_>) -> Result<i64, FieldError> {
    if let Some(b) = held(f) {
        let (zh, en) = b.status.label();
        return Err(refused(
            "already_awarded",
            format!("该政策已核定给本企业（{zh}），不能重复核定"),
            format!("This policy was already awarded to the enterprise ({en})"),
        ));
    }
    eligible(f)?;
    match f.outcome {
        Some(Outcome::Eligible { fen }) => Ok(fen),
        _ => Err(refused("not_eligible", "不符合条件".into(), "Not eligible".into())),
    }
}

fn eligible(f: &Facts<'_>) -> Result<(), FieldError> {
    match (&f.outcome, f.failing) {
        (Some(Outcome::Eligible { .. }), _) => Ok(()),
        (None, _) => Err(refused(
            "no_record",
            "政务共享数据中没有本企业的登记信息，请到窗口咨询".into(),
            "The shared register has no record of this enterprise; ask at the window".into(),
        )),
        (Some(Outcome::Fault(_)), _) => Err(refused(
            "no_value",
            "本企业的共享数据不全，无法判定是否符合条件，请到窗口咨询".into(),
            "The shared data on this enterprise is incomplete, so eligibility cannot be decided; ask at the window"
                .into(),
        )),
        (Some(Outcome::NotEligible), Some(c)) => Err(refused(
            "not_eligible",
            format!("按政务共享数据不符合条件：{}", c.clause_zh),
            format!("Not eligible by the shared data: {}", c.clause_en),
        )),
        (Some(Outcome::NotEligible), None) => {
            Err(refused("not_eligible", "不符合条件".into(), "Not eligible".into()))
        }
    }
}

/// An award made by approving an application: the benefit to record with the case's approval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Award {
    pub policy: String,
    pub policy_name: String,
    pub credit_code: String,
    pub amount_fen: i64,
    /// The values the rule read, as for a run's benefit.
    pub explanation: String,
    pub case_number: String,
}

impl Award {
    /// The benefit the award records: awaiting the representative's account.
    pub fn benefit(&self) -> Benefit {
        Benefit {
            policy: self.policy.clone(),
            credit_code: self.credit_code.clone(),
            status: Status::AwaitingConfirmation,
            amount_fen: self.amount_fen,
            paid_fen: 0,
            fault: None,
            explanation: self.explanation.clone(),
            run_id: format!("case:{}", self.case_number),
            has_account: false,
            version: 1,
        }
    }
}

/// 跟踪问效: the enterprise's follow-up after payment.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct FollowUpInput {
    /// 1 (very dissatisfied) to 5 (very satisfied).
    pub rating: Option<i64>,
    /// What the money achieved, in the enterprise's words (up to 500 characters).
    pub effect: String,
    /// Jobs created or kept thanks to it, if the enterprise counts them.
    pub jobs: Option<i64>,
}

/// A follow-up as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FollowUp {
    pub rating: i64,
    pub effect: String,
    pub jobs: Option<i64>,
    pub recorded_at: String,
}

/// The follow-up checked: every problem names its field.
pub fn check_follow_up(input: &FollowUpInput) -> Result<(i64, String, Option<i64>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let rating = match input.rating {
        Some(r) if (1..=5).contains(&r) => r,
        Some(_) => {
            errors.push(FieldError::new(
                "rating",
                "out_of_range",
                "评价应为1至5星",
                "The rating is 1 to 5 stars",
            ));
            0
        }
        None => {
            errors.push(FieldError::required("rating", "评价", "rating"));
            0
        }
    };
    let effect = input.effect.trim().to_string();
    if effect.is_empty() {
        errors.push(FieldError::required("effect", "政策效果", "what it achieved"));
    } else if effect.chars().count() > 500 {
        errors.push(FieldError::new("effect", "too_long", "政策效果不超过500字", "At most 500 characters"));
    }
    if input.jobs.is_some_and(|j| !(0..=1_000_000).contains(&j)) {
        errors.push(FieldError::new(
            "jobs",
            "out_of_range",
            "带动就业人数应为0至1000000",
            "Jobs are between 0 and 1,000,000",
        ));
    }
    if errors.is_empty() { Ok((rating, effect, input.jobs)) } else { Err(errors) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::policies::library::shipped;

    fn policy(code: &str) -> Policy {
        shipped().unwrap().into_iter().find(|p| p.code == code).unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn facts<'a>(p: &'a Policy, today: &str, outcome: Option<Outcome>) -> Facts<'a> {
        Facts { policy: Some(p), today: day(today), outcome, failing: None, open_case: None, benefit: None }
    }

    #[test]
    fn the_window_decides_only_what_the_register_settles() {
        assert_eq!(route_of(&policy("JN-ZC-2026-008")), Route::Direct);
        for code in ["JN-ZC-2026-005", "JN-ZC-2026-007", "JN-ZC-2026-009", "JN-ZC-2026-010"] {
            assert_eq!(route_of(&policy(code)), Route::Transfer, "{code}");
        }
        assert_eq!(policy_of_answers(Some(&answers_of(&policy("JN-ZC-2026-005")))), Some("JN-ZC-2026-005"));
        assert_eq!(policy_of_answers(None), None);
    }

    #[test]
    fn an_application_is_refused_naming_why() {
        let p = policy("JN-ZC-2026-008");
        let eligible = Some(Outcome::Eligible { fen: 150_000 });
        assert!(check_application(&facts(&p, "2026-06-03", eligible)).is_ok());
        let code = |f: &Facts<'_>| check_application(f).unwrap_err().code;
        assert_eq!(code(&facts(&p, "2026-12-16", eligible)), "outside_window");
        assert_eq!(code(&facts(&p, "2026-01-31", eligible)), "outside_window");
        assert_eq!(code(&facts(&p, "2026-06-03", Some(Outcome::NotEligible))), "not_eligible");
        assert_eq!(code(&facts(&p, "2026-06-03", None)), "no_record");
        let automatic = policy("JN-ZC-2026-001");
        assert_eq!(code(&facts(&automatic, "2026-06-03", eligible)), "no_application_needed");
        let open = Facts { open_case: Some("20260603000001"), ..facts(&p, "2026-06-03", eligible) };
        assert_eq!(code(&open), "already_applied");
        let award = Award {
            policy: p.code.clone(),
            policy_name: p.name.clone(),
            credit_code: "91370100MA3C00001H".into(),
            amount_fen: 150_000,
            explanation: "{}".into(),
            case_number: "20260603000001".into(),
        };
        let mut b = award.benefit();
        let paid = Facts { benefit: Some(&b), ..facts(&p, "2026-06-03", eligible) };
        assert_eq!(code(&paid), "already_awarded");
        assert_eq!(check_award(&paid).unwrap_err().code, "already_awarded");
        // A benefit no longer held does not bar a new application.
        b.status = Status::NoLongerEligible;
        let lapsed = Facts { benefit: Some(&b), ..facts(&p, "2026-06-03", eligible) };
        assert!(check_application(&lapsed).is_ok());
        assert_eq!(check_award(&lapsed), Ok(150_000));
        let e = check_application(&facts(&p, "2026-06-03", None)).unwrap_err();
        assert_eq!(e.field, "policy");
    }

    #[test]
    fn a_follow_up_names_each_bad_field() {
        let ok = FollowUpInput { rating: Some(5), effect: " 新招3名毕业生 ".into(), jobs: Some(3) };
        assert_eq!(check_follow_up(&ok).unwrap(), (5, "新招3名毕业生".into(), Some(3)));
        let bad = FollowUpInput { rating: Some(6), effect: "字".repeat(501), jobs: Some(-1) };
        let fields: Vec<String> = check_follow_up(&bad).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["rating", "effect", "jobs"]);
        let empty = FollowUpInput::default();
        let fields: Vec<String> = check_follow_up(&empty).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["rating", "effect"]);
    }
}
