//! The case workflow as pure rules.
//!
//! ```text
//! submitted ──accept──▶ accepted ──(review)──▶ under_review ──approve/reject──▶ decided ──close──▶ closed ──deliver──▶ delivered
//!     │                    │                       │  ▲
//!     └─not_accept──▶ not_accepted                 │  └──resubmit── supplement_requested ◀──request_supplement
//!  (withdraw allowed before a decision; transfer keeps the state and moves the department)
//! ```

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::intake::{ApplicationForm, OfferedFile};
use crate::audit::NewEntry;
use crate::platform::messages::{Message, Reach};

use crate::calendar::deadline::{Deadline, Signal};
use crate::calendar::domain::Calendar;
use crate::identity::authz::Role;

/// Where a case stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    Submitted,
    Accepted,
    NotAccepted,
    UnderReview,
    SupplementRequested,
    Approved,
    Rejected,
    Closed,
    Delivered,
    Withdrawn,
    /// 撤销: the approval was revoked after a post-check found the commitment false.
    Revoked,
}

impl CaseState {
    pub const ALL: [CaseState; 11] = [
        CaseState::Submitted,
        CaseState::Accepted,
        CaseState::NotAccepted,
        CaseState::UnderReview,
        CaseState::SupplementRequested,
        CaseState::Approved,
        CaseState::Rejected,
        CaseState::Closed,
        CaseState::Delivered,
        CaseState::Withdrawn,
        CaseState::Revoked,
    ];

    pub fn parse(s: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            CaseState::Submitted => "已提交，待受理",
            CaseState::Accepted => "已受理",
            CaseState::NotAccepted => "不予受理",
            CaseState::UnderReview => "审查中",
            CaseState::SupplementRequested => "待补正材料",
            CaseState::Approved => "已准予许可",
            CaseState::Rejected => "不予许可",
            CaseState::Closed => "已办结，待出件",
            CaseState::Delivered => "已送达",
            CaseState::Withdrawn => "已撤回",
            CaseState::Revoked => "已撤销",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            CaseState::Submitted => "Submitted, awaiting acceptance",
            CaseState::Accepted => "Accepted",
            CaseState::NotAccepted => "Not accepted",
            CaseState::UnderReview => "Under review",
            CaseState::SupplementRequested => "Supplement requested",
            CaseState::Approved => "Approved",
            CaseState::Rejected => "Rejected",
            CaseState::Closed => "Closed, result ready",
            CaseState::Delivered => "Result delivered",
            CaseState::Withdrawn => "Withdrawn",
            CaseState::Revoked => "Revoked",
        }
    }

    /// Whether the case is still being worked on (counts on the workbench and in supervision).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            CaseState::Submitted
                | CaseState::Accepted
                | CaseState::UnderReview
                | CaseState::SupplementRequested
                | CaseState::Approved
                | CaseState::Rejected
                | CaseState::Closed
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Submitted => "submitted",
            CaseState::Accepted => "accepted",
            CaseState::NotAccepted => "not_accepted",
            CaseState::UnderReview => "under_review",
            CaseState::SupplementRequested => "supplement_requested",
            CaseState::Approved => "approved",
            CaseState::Rejected => "rejected",
            CaseState::Closed => "closed",
            CaseState::Delivered => "delivered",
            CaseState::Withdrawn => "withdrawn",
            CaseState::Revoked => "revoked",
        }
    }

    /// Whether the case is finished (no further action but delivery or nothing).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CaseState::NotAccepted | CaseState::Delivered | CaseState::Withdrawn | CaseState::Revoked
        )
    }

    /// Whether the deadline clock runs in this state (it runs from acceptance to decision, and
    /// pauses while the applicant supplies missing materials).
    pub fn clock_runs(self) -> bool {
        matches!(self, CaseState::Accepted | CaseState::UnderReview)
    }
}

/// What someone does to a case. The snake_case names are the API's `{action}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseAction {
    Accept,
    NotAccept,
    StartReview,
    RequestSupplement,
    Resubmit,
    Approve,
    Reject,
    Close,
    Deliver,
    Withdraw,
    Transfer,
}

impl CaseAction {
    pub const ALL: [CaseAction; 11] = [
        CaseAction::Accept,
        CaseAction::NotAccept,
        CaseAction::StartReview,
        CaseAction::RequestSupplement,
        CaseAction::Resubmit,
        CaseAction::Approve,
        CaseAction::Reject,
        CaseAction::Close,
        CaseAction::Deliver,
        CaseAction::Withdraw,
        CaseAction::Transfer,
    ];

    pub fn parse(s: &str) -> Option<CaseAction> {
        CaseAction::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CaseAction::Accept => "accept",
            CaseAction::NotAccept => "not_accept",
            CaseAction::StartReview => "start_review",
            CaseAction::RequestSupplement => "request_supplement",
            CaseAction::Resubmit => "resubmit",
            CaseAction::Approve => "approve",
            CaseAction::Reject => "reject",
            CaseAction::Close => "close",
            CaseAction::Deliver => "deliver",
            CaseAction::Withdraw => "withdraw",
            CaseAction::Transfer => "transfer",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            CaseAction::Accept => "受理",
            CaseAction::NotAccept => "不予受理",
            CaseAction::StartReview => "开始审查",
            CaseAction::RequestSupplement => "要求补正",
            CaseAction::Resubmit => "提交补正材料",
            CaseAction::Approve => "准予许可",
            CaseAction::Reject => "不予许可",
            CaseAction::Close => "办结",
            CaseAction::Deliver => "出件送达",
            CaseAction::Withdraw => "撤回申请",
            CaseAction::Transfer => "转办",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            CaseAction::Accept => "Accept",
            CaseAction::NotAccept => "Do not accept",
            CaseAction::StartReview => "Start review",
            CaseAction::RequestSupplement => "Request supplement",
            CaseAction::Resubmit => "Resubmit materials",
            CaseAction::Approve => "Approve",
            CaseAction::Reject => "Reject",
            CaseAction::Close => "Close",
            CaseAction::Deliver => "Deliver result",
            CaseAction::Withdraw => "Withdraw",
            CaseAction::Transfer => "Transfer",
        }
    }

    /// Whether the action must carry a reason (refusals, requests and transfers explain themselves).
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            CaseAction::NotAccept | CaseAction::RequestSupplement | CaseAction::Reject | CaseAction::Transfer
        )
    }
}

/// Facts about the case that change what is allowed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaseFlags {
    /// 独任审批: one approver reviews and decides in one step.
    pub single_approver: bool,
    /// 即办件: decided on the spot at acceptance.
    pub immediate: bool,
    /// 告知承诺: the applicant signed a commitment instead of some proofs, so the case may be
    /// approved straight from acceptance (a post-approval check follows).
    pub commitment: bool,
    /// 到厅办理: a bundle's part that cannot be applied for online; it waits for the applicant's
    /// visit to a hall, where the window takes its materials and accepts it.
    pub in_person: bool,
    /// Accepted (受理): the time limit runs. Before acceptance a window may ask for materials
    /// (受理前一次性告知补正), and the resubmission comes back to it for acceptance.
    pub accepted: bool,
}

/// Who performs an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Performer {
    /// The applicant (or their authorised agent).
    Applicant,
    /// Staff acting with this role in the case's department (or a general window anywhere).
    Staff(Role),
}

/// Why an action is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not possible in the current state (the API answers 409 with the state).
    WrongState(CaseState),
    /// The performer may not do this (403 or 404, decided by the caller).
    NotAllowed,
}

/// The state after `action`, or why it is refused. Transfers keep the state (the department
/// changes, the clock and history follow the case).
pub fn next_state(
    state: CaseState,
    action: CaseAction,
    flags: CaseFlags,
    by: Performer,
) -> Result<CaseState, Refusal> {
    use CaseAction as A;
    use CaseState as S;
    let allowed_role = match (action, by) {
        (A::Withdraw | A::Resubmit, Performer::Applicant) => true,
        (_, Performer::Applicant) => false,
        (A::Accept | A::NotAccept | A::Deliver, Performer::Staff(r)) => {
            matches!(r, Role::WindowClerk | Role::GeneralWindowClerk)
        }
        (A::StartReview, Performer::Staff(r)) => matches!(r, Role::Reviewer | Role::Approver),
        (A::RequestSupplement, Performer::Staff(r)) => {
            matches!(r, Role::Reviewer | Role::Approver | Role::WindowClerk | Role::GeneralWindowClerk)
        }
        (A::Approve | A::Reject, Performer::Staff(r)) => r == Role::Approver,
        (A::Close, Performer::Staff(r)) => {
            matches!(r, Role::Approver | Role::WindowClerk | Role::GeneralWindowClerk)
        }
        (A::Transfer, Performer::Staff(r)) => {
            matches!(r, Role::WindowClerk | Role::GeneralWindowClerk | Role::DepartmentHead | Role::Reviewer)
        }
        (A::Withdraw | A::Resubmit, Performer::Staff(_)) => false,
    };
    if !allowed_role {
        return Err(Refusal::NotAllowed);
    }
    // The window asks for materials before acceptance; reviewers and approvers after it.
    let at_window = matches!(by, Performer::Staff(Role::WindowClerk | Role::GeneralWindowClerk));
    let next = match (state, action) {
        (S::Submitted, A::Accept) if flags.immediate => S::Approved,
        (S::Submitted, A::Accept) => S::Accepted,
        (S::Submitted, A::NotAccept) => S::NotAccepted,
        (S::Accepted, A::StartReview) => S::UnderReview,
        (S::Submitted, A::RequestSupplement) if at_window => S::SupplementRequested,
        (S::Accepted | S::UnderReview, A::RequestSupplement) if !at_window => S::SupplementRequested,
        // Materials asked for before acceptance go back to the window to be accepted.
        (S::SupplementRequested, A::Resubmit) if !flags.accepted => S::Submitted,
        (S::SupplementRequested, A::Resubmit) => S::UnderReview,
        // A single approver decides straight from acceptance; otherwise a review comes first.
        (S::Accepted, A::Approve) if flags.single_approver || flags.commitment => S::Approved,
        (S::Accepted, A::Reject) if flags.single_approver => S::Rejected,
        (S::UnderReview, A::Approve) => S::Approved,
        (S::UnderReview, A::Reject) => S::Rejected,
        (S::Approved | S::Rejected, A::Close) => S::Closed,
        (S::Closed, A::Deliver) => S::Delivered,
        (S::Submitted | S::Accepted | S::UnderReview | S::SupplementRequested, A::Withdraw) => S::Withdrawn,
        (S::Submitted | S::Accepted | S::UnderReview, A::Transfer) => state,
        _ => return Err(Refusal::WrongState(state)),
    };
    Ok(next)
}

/// The actions `by` can take now, for the case page's buttons.
pub fn available_actions(state: CaseState, flags: CaseFlags, by: Performer) -> Vec<CaseAction> {
    CaseAction::ALL.into_iter().filter(|a| next_state(state, *a, flags, by).is_ok()).collect()
}

/// The state of a bundle (一件事) from the states of its parts: it is finished when every part
/// is, delivered when every part is delivered (or ended without a result), and in progress
/// otherwise.
pub fn bundle_state(parts: &[CaseState]) -> CaseState {
    use CaseState as S;
    let all = |f: &dyn Fn(S) -> bool| !parts.is_empty() && parts.iter().all(|s| f(*s));
    if all(&|s| s == S::Withdrawn) {
        S::Withdrawn
    } else if all(&|s| matches!(s, S::NotAccepted | S::Withdrawn)) {
        S::NotAccepted
    } else if all(&|s| s == S::Submitted) {
        S::Submitted
    } else if all(&|s| s.is_final()) {
        S::Delivered
    } else if all(&|s| s.is_final() || s == S::Closed) {
        S::Closed
    } else {
        S::UnderReview
    }
}

/// One period during which the clock was stopped (a supplement request until the resubmission;
/// `until` None while still waiting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pause {
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

/// The due date: acceptance plus the promised working days, pushed back by the working days the
/// clock was paused. A pause counts the working days after its start up to and including its end
/// (the day a supplement is requested still counts; the day it comes back does not run again).
pub fn due_date(
    cal: &Calendar,
    accepted: NaiveDate,
    promised_days: u32,
    pauses: &[Pause],
    today: NaiveDate,
) -> NaiveDate {
    let paused: i64 =
        pauses.iter().map(|p| cal.working_days_between(p.from, p.until.unwrap_or(today).max(p.from))).sum();
    let total = i64::from(promised_days) + paused;
    cal.add_working_days(accepted, u32::try_from(total).unwrap_or(u32::MAX))
}

/// Traffic light for the supervision office.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    Green,
    /// 预警: little time left (the platform's one deadline rule, `calendar::deadline`).
    Yellow,
    /// 超期: past the due date.
    Red,
    /// The clock is not running (not yet accepted, paused, or decided).
    None,
}

impl From<Signal> for Light {
    fn from(s: Signal) -> Light {
        match s {
            Signal::Green => Light::Green,
            Signal::Yellow => Light::Yellow,
            Signal::Red => Light::Red,
        }
    }
}

/// The light of a case whose clock runs: due at the end of `due`, after `promised_days` working
/// days; yellow with at most `yellow_days` working days of time left (never more than the last
/// quarter of the promised time, never on the day it was accepted), red after the due date.
pub fn light(
    cal: &Calendar,
    state: CaseState,
    due: NaiveDate,
    promised_days: u32,
    now: DateTime<Utc>,
    yellow_days: u32,
) -> Light {
    if !state.clock_runs() {
        return Light::None;
    }
    Deadline::working_days(due, promised_days).signal(cal, now, yellow_days).into()
}

/// Case numbers: `JN` + date (YYYYMMDD, Asia/Shanghai) + a six-digit daily sequence.
pub fn case_number(day: NaiveDate, sequence: u32) -> String {
    format!("JN{}{:06}", day.format("%Y%m%d"), sequence)
}

/// Reads a case number back into its date and sequence.
pub fn parse_case_number(s: &str) -> Option<(NaiveDate, u32)> {
    let rest = s.strip_prefix("JN")?;
    if rest.len() != 14 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day = NaiveDate::parse_from_str(&rest[..8], "%Y%m%d").ok()?;
    Some((day, rest[8..].parse().ok()?))
}

// ---------------------------------------------------------------------------------------------
// The record, and what an action changes
// ---------------------------------------------------------------------------------------------

/// A case as stored.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CaseRecord {
    pub number: String,
    pub parent_number: Option<String>,
    /// `item` or `bundle`.
    pub kind: String,
    pub item_code: Option<String>,
    pub bundle_code: Option<String>,
    pub title: String,
    pub department: String,
    pub owner_department: String,
    #[serde(skip)]
    pub applicant_id: String,
    pub applicant_name: String,
    pub enterprise: Option<String>,
    #[serde(skip)]
    pub submitted_by: String,
    #[schema(value_type = String)]
    pub state: CaseState,
    pub single_approver: bool,
    pub immediate: bool,
    pub with_commitment: bool,
    /// A bundle's part done at a hall (到厅办理), waiting for the applicant's visit until accepted.
    pub in_person: bool,
    pub promised_days: i64,
    pub form: ApplicationForm,
    #[schema(value_type = Option<Object>)]
    pub answers: Option<Value>,
    pub commitment_text: Option<String>,
    /// Whether every material was provided at submission (otherwise accepted with deficiencies).
    pub complete: bool,
    #[schema(value_type = Option<String>)]
    pub accepted_on: Option<NaiveDate>,
    pub accepted_at_window: bool,
    #[schema(value_type = Option<String>)]
    pub paused_since: Option<NaiveDate>,
    pub paused_days: i64,
    #[schema(value_type = Option<String>)]
    pub due_on: Option<NaiveDate>,
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub decision_document: Option<Value>,
    pub submitted_at: String,
    pub updated_at: String,
    /// When the case last reached a window while waiting for acceptance: its submission, a
    /// resubmission after a 补正 asked before acceptance, or a transfer. The window's days to
    /// accept count from it (none on rows from before it was kept: `updated_at` stands in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_since: Option<String>,
    pub version: i64,
}

impl CaseRecord {
    pub fn flags(&self) -> CaseFlags {
        CaseFlags {
            single_approver: self.single_approver,
            immediate: self.immediate,
            commitment: self.with_commitment,
            in_person: self.in_person,
            accepted: self.accepted_on.is_some(),
        }
    }

    pub fn is_bundle(&self) -> bool {
        self.kind == "bundle"
    }

    /// The due date now: while a supplement is awaited the clock is stopped, so the date moves
    /// on with today.
    pub fn due_now(&self, cal: &Calendar, today: NaiveDate) -> Option<NaiveDate> {
        let accepted = self.accepted_on?;
        let promised = u32::try_from(self.promised_days + self.paused_days).unwrap_or(u32::MAX);
        let pauses: Vec<Pause> =
            self.paused_since.map(|from| Pause { from, until: None }).into_iter().collect();
        Some(due_date(cal, accepted, promised, &pauses, today))
    }

    /// The last day for the window to accept the case, while it waits for acceptance (online
    /// applications; a part waiting for the applicant's visit to a hall has none). The days count
    /// from when the case last reached a window: its submission, a resubmission after a 补正
    /// asked before acceptance, or a transfer (nothing else changes a waiting case).
    pub fn acceptance_due(&self, cal: &Calendar) -> Option<NaiveDate> {
        if self.state != CaseState::Submitted
            || self.is_bundle()
            || self.in_person
            || self.accepted_on.is_some()
        {
            return None;
        }
        let reached =
            crate::platform::clock::parse_time(self.window_since.as_deref().unwrap_or(&self.updated_at))?;
        Some(cal.add_working_days(crate::platform::clock::beijing_date(reached), ACCEPTANCE_DAYS))
    }

    pub fn light(&self, cal: &Calendar, now: chrono::DateTime<chrono::Utc>, yellow_days: u32) -> Light {
        // Waiting for acceptance has its own clock: the window's days to accept or ask.
        if let Some(due) = self.acceptance_due(cal) {
            return Deadline::working_days(due, ACCEPTANCE_DAYS).signal(cal, now, yellow_days).into();
        }
        let today = crate::platform::clock::beijing_date(now);
        match self.due_now(cal, today) {
            Some(due) => {
                let promised = u32::try_from(self.promised_days).unwrap_or(0);
                light(cal, self.state, due, promised, now, yellow_days)
            }
            None => Light::None,
        }
    }
}

/// Working days a window has to accept an application, refuse it, or ask at once for everything
/// missing (行政许可法 第三十二条：五日内一次告知).
pub const ACCEPTANCE_DAYS: u32 = 5;

/// What a decision document says (who decides, when, on what reason).
pub struct DecisionFacts<'a> {
    pub decision: &'a str,
    pub reason: Option<&'a str>,
    pub actor_name: &'a str,
    pub department_name: &'a str,
    pub today: NaiveDate,
    pub now: &'a str,
    pub licence_identifier: Option<&'a str>,
    /// The number reserved for the document (its place in the year's sequence of its kind).
    pub sequence: Option<i64>,
    /// The approver's opinion (审批意见), kept with the document.
    pub opinion: Option<&'a str>,
}

/// The kind of a decision document's number: grants and refusals are numbered apart.
pub fn decision_kind(decision: &str) -> &'static str {
    if decision == "approved" { "grant" } else { "refusal" }
}

/// A decision document's number in the usual form: 济政务许〔2026〕123号 for a grant,
/// 济政务不许〔2026〕7号 for a refusal.
pub fn decision_number(decision: &str, year: i32, sequence: i64) -> String {
    let word = if decision == "approved" { "许" } else { "不许" };
    format!("济政务{word}〔{year}〕{sequence}号")
}

/// The decision document (决定书) of a decision on `c`, unsealed (`seal: null`). Pure: the
/// service builds and seals it before the write, so that no signing happens in the writer.
pub fn decision_document(c: &CaseRecord, f: &DecisionFacts<'_>) -> Value {
    let approved = f.decision == "approved";
    let (title_zh, title_en) = if approved {
        ("准予行政许可决定书", "Decision to grant")
    } else {
        ("不予行政许可决定书", "Decision to refuse")
    };
    let year = f.today.format("%Y");
    let submitted = c.submitted_at.get(..10).unwrap_or(&c.submitted_at);
    let text_zh = if approved {
        format!(
            "{}：你（单位）于{}提出的“{}”申请，经审查，符合法定条件、标准，根据有关法律法规规定，决定准予许可。",
            c.applicant_name, submitted, c.title
        )
    } else {
        format!(
            "{}：你（单位）于{}提出的“{}”申请，经审查，{}。根据有关法律法规规定，决定不予许可。如不服本决定，可自收到本决定书之日起六十日内依法申请行政复议，或者六个月内依法提起行政诉讼。",
            c.applicant_name,
            submitted,
            c.title,
            f.reason.unwrap_or("不符合法定条件")
        )
    };
    let text_en = if approved {
        format!(
            "{}: your application for \"{}\" of {} has been reviewed and meets the statutory conditions; it is granted.",
            c.applicant_name, c.title, submitted
        )
    } else {
        format!(
            "{}: your application for \"{}\" of {} has been reviewed and is refused: {}. You may apply for administrative reconsideration within 60 days or bring a lawsuit within six months.",
            c.applicant_name,
            c.title,
            submitted,
            f.reason.unwrap_or("the statutory conditions are not met")
        )
    };
    let document_number = match f.sequence {
        Some(n) => decision_number(f.decision, f.today.year(), n),
        // Without a reserved number (a preview): the place the number will take.
        None => format!("济政务{}〔{year}〕　号", if approved { "许" } else { "不许" }),
    };
    json!({
        "document_number": document_number,
        "opinion": f.opinion,
        "title_zh": title_zh,
        "title_en": title_en,
        "case_number": c.number,
        "item_code": c.item_code,
        "item_name": c.title,
        "applicant_name": c.applicant_name,
        "enterprise": c.enterprise,
        "decision": f.decision,
        "reason": f.reason,
        "department": c.department,
        "department_name": f.department_name,
        "decided_by": f.actor_name,
        "decided_at": f.now,
        "date": f.today.format("%Y-%m-%d").to_string(),
        "text_zh": text_zh,
        "text_en": text_en,
        "licence_identifier": f.licence_identifier,
        "seal": Value::Null,
    })
}

/// A window's verdict on one material when it checks an application (受理审查).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialVerdict {
    /// Present and acceptable (齐全、符合法定形式).
    Acceptable,
    /// Missing or not acceptable: to be supplied or corrected (需补正).
    Supplement,
}

/// One line of the window's acceptance checklist: it becomes the 一次性告知 list when any
/// material needs supplying, and is kept with the acceptance otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialCheck {
    pub material: String,
    /// Whether the application carried it (a file, a credential, shared data, a commitment).
    pub present: bool,
    pub verdict: MaterialVerdict,
    /// What is wrong and what to bring instead (shown to the applicant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What an actor asks for, with everything the decision needs that was read before the write.
/// The store's version claim proves that what was read is still current.
pub struct ActionInput<'a> {
    pub case: &'a CaseRecord,
    pub action: CaseAction,
    /// The ways the actor may act on this case (applicant, or staff roles that apply to its
    /// department); the first that the state machine accepts is used.
    pub performers: &'a [(Performer, Option<&'static str>)],
    pub actor_id: &'a str,
    pub actor_name: &'a str,
    pub reason: Option<&'a str>,
    /// For `transfer`: the department to send the case to; `None` returns it to where it came from.
    pub to_department: Option<&'a str>,
    /// For a return transfer: the department the case last came from (from its timeline).
    pub returns_to: Option<&'a str>,
    /// Whether the actor is at a general window (an accepted case's result comes back there).
    pub at_general_window: bool,
    /// Files supplied with a resubmission.
    pub new_files: &'a [OfferedFile],
    /// The indexes of the materials missing before this resubmission.
    pub missing_materials: &'a [usize],
    /// For `request_supplement`: the names of the materials wanted (一次性告知), all at once.
    pub wanted: &'a [String],
    /// For `accept` and `request_supplement`: the window's verdict on each material.
    pub checklist: &'a [MaterialCheck],
    /// For `approve` and `reject`: the approver's opinion (审批意见).
    pub opinion: Option<&'a str>,
    /// Who checks a commitment after approval.
    pub supervising_department: &'a str,
    /// The handling department's name, for a decision document.
    pub department_name: &'a str,
    /// The decision document built and sealed before the write, used when the decision matches.
    pub prepared_decision: Option<&'a Value>,
    /// The one-tap rating link (好差评) sent when the case finishes.
    pub rating_link: Option<&'a str>,
    pub now: &'a str,
    pub today: NaiveDate,
    pub calendar: &'a Calendar,
    pub post_check_days: u32,
}

/// Why an action cannot be taken (nothing is written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActRefusal {
    /// Not possible in this state.
    WrongState(CaseState),
    /// The actor has no role that may do this.
    NotAllowed,
    /// Bundles are acted on through their parts (except withdrawal).
    BundleParent(CaseState),
    /// A return transfer for a case that was never transferred.
    NoReturnTarget,
    /// A transfer to the department that already has the case.
    SameDepartment,
    /// Acceptance while the checklist marks this line (its index) as needing a supplement.
    MarkedForSupplement(usize),
}

/// One timeline entry to write.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub seq: i64,
    pub action: String,
    pub from: Option<CaseState>,
    pub to: CaseState,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub role: Option<&'static str>,
    pub department: String,
    pub reason: Option<String>,
    pub detail: Option<Value>,
}

/// A post-approval check (事后核查) to open for a commitment case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPostCheck {
    pub department: String,
    pub due_on: NaiveDate,
}

/// The whole change one action makes to one case, decided from what was read. The store writes
/// it as it is, after claiming the case at `expected_version`.
#[derive(Clone, Debug)]
pub struct CaseChange {
    pub expected_version: i64,
    /// The case as it becomes (its version already the next one).
    pub case: CaseRecord,
    /// Who accepted it, when this action is the acceptance.
    pub accepted_by: Option<String>,
    pub event: NewEvent,
    pub audit: NewEntry,
    /// Materials replaced by a resubmission.
    pub replaced_files: Vec<OfferedFile>,
    /// Whether this action is the approval that issues the item's e-licence.
    pub approves: bool,
    pub post_check: Option<NewPostCheck>,
    /// The applicant's message, and whether it also goes out by SMS and e-mail.
    pub message: Message,
    pub reach: Option<Reach>,
}

/// Decides what `input.action` does to the case: the new state and everything written with it.
pub fn decide_action(input: &ActionInput<'_>) -> Result<CaseChange, ActRefusal> {
    let case = input.case;
    if case.is_bundle() {
        return Err(ActRefusal::BundleParent(case.state));
    }
    let mut refused = ActRefusal::NotAllowed;
    let mut chosen = None;
    for (performer, role) in input.performers {
        match next_state(case.state, input.action, case.flags(), *performer) {
            Ok(next) => {
                chosen = Some((next, *role));
                break;
            }
            Err(Refusal::WrongState(s)) => refused = ActRefusal::WrongState(s),
            Err(Refusal::NotAllowed) => {}
        }
    }
    let Some((next, role)) = chosen else { return Err(refused) };
    let (cal, today, now) = (input.calendar, input.today, input.now);
    let mut c = case.clone();
    c.state = next;
    let mut detail: Option<Value> = None;
    let mut approves = false;
    let mut replaced_files = Vec::new();
    match input.action {
        CaseAction::Accept => {
            if let Some(i) = input.checklist.iter().position(|m| m.verdict == MaterialVerdict::Supplement) {
                return Err(ActRefusal::MarkedForSupplement(i));
            }
            if !input.checklist.is_empty() {
                detail = Some(json!({"checklist": input.checklist}));
            }
            c.accepted_on = Some(today);
            c.accepted_at_window = input.at_general_window;
            c.due_on = c.due_now(cal, today);
            if next == CaseState::Approved {
                approves = true;
                record_decision(&mut c, "approved", input);
            }
        }
        CaseAction::RequestSupplement => {
            // The clock stops only once it runs: before acceptance it has not started.
            if c.accepted_on.is_some() {
                c.paused_since = Some(today);
            }
            let mut d = serde_json::Map::new();
            if !input.wanted.is_empty() {
                d.insert("wanted".into(), json!(input.wanted));
            }
            if !input.checklist.is_empty() {
                d.insert("checklist".into(), json!(input.checklist));
            }
            if !d.is_empty() {
                detail = Some(Value::Object(d));
            }
        }
        CaseAction::Resubmit => {
            // Resubmitted before acceptance, it reaches the window again.
            if c.accepted_on.is_none() {
                c.window_since = Some(now.to_string());
            }
            if let Some(from) = c.paused_since.take() {
                c.paused_days += cal.working_days_between(from, today.max(from));
            }
            c.due_on = c.due_now(cal, today);
            if !input.new_files.is_empty() {
                replaced_files = input.new_files.to_vec();
                detail =
                    Some(json!({"files": input.new_files.iter().map(|f| &f.file_name).collect::<Vec<_>>()}));
                c.complete =
                    input.missing_materials.iter().all(|i| input.new_files.iter().any(|f| f.index == *i));
            }
        }
        CaseAction::Approve => {
            approves = true;
            record_decision(&mut c, "approved", input);
        }
        CaseAction::Reject => record_decision(&mut c, "rejected", input),
        CaseAction::Withdraw => c.paused_since = None,
        CaseAction::Transfer => {
            let target = match (input.to_department, input.returns_to) {
                (Some(d), _) => d.to_string(),
                (None, Some(d)) => d.to_string(),
                (None, None) => return Err(ActRefusal::NoReturnTarget),
            };
            if target == c.department {
                return Err(ActRefusal::SameDepartment);
            }
            detail = Some(json!({
                "from": c.department,
                "to": target,
                "returned": input.to_department.is_none(),
            }));
            c.department = target;
            c.window_since = Some(now.to_string());
        }
        CaseAction::NotAccept | CaseAction::StartReview | CaseAction::Close | CaseAction::Deliver => {}
    }
    if let Some(opinion) =
        input.opinion.filter(|_| matches!(input.action, CaseAction::Approve | CaseAction::Reject))
    {
        detail = Some(json!({"opinion": opinion}));
    }
    c.version = case.version + 1;
    c.updated_at = now.to_string();
    // A transfer is recorded by the department that sent it on.
    let event_department =
        if input.action == CaseAction::Transfer { case.department.clone() } else { c.department.clone() };
    let event = NewEvent {
        seq: c.version,
        action: input.action.as_str().to_string(),
        from: Some(case.state),
        to: c.state,
        actor_id: Some(input.actor_id.to_string()),
        actor_name: input.actor_name.to_string(),
        role,
        department: event_department,
        reason: input.reason.map(str::to_string),
        detail,
    };
    let audit = NewEntry::new(
        format!("case:{}", c.number),
        format!("user:{}", input.actor_id),
        format!("case.{}", input.action.as_str()),
        format!("case:{}", c.number),
        format!(
            "{} -> {}{}",
            case.state.as_str(),
            c.state.as_str(),
            input.reason.map(|r| format!(" ({r})")).unwrap_or_default()
        ),
    );
    let post_check = (approves && c.with_commitment).then(|| NewPostCheck {
        department: input.supervising_department.to_string(),
        due_on: cal.add_working_days(today, input.post_check_days),
    });
    let sms = matches!(
        input.action,
        CaseAction::Accept
            | CaseAction::NotAccept
            | CaseAction::RequestSupplement
            | CaseAction::Approve
            | CaseAction::Reject
            | CaseAction::Close
    );
    let message = applicant_message(&c, input.reason, input.wanted, input.checklist, input.rating_link);
    Ok(CaseChange {
        expected_version: case.version,
        accepted_by: (input.action == CaseAction::Accept).then(|| input.actor_id.to_string()),
        event,
        audit,
        replaced_files,
        approves,
        post_check,
        reach: sms.then(|| c.form.reach()),
        message,
        case: c,
    })
}

/// What the applicant is told about the case `c` as it now stands.
fn applicant_message(
    c: &CaseRecord,
    reason: Option<&str>,
    wanted: &[String],
    checklist: &[MaterialCheck],
    rating_link: Option<&str>,
) -> Message {
    let mut reason_zh = reason.map(|r| format!("原因：{r}。")).unwrap_or_default();
    let mut reason_en = reason.map(|r| format!("Reason: {r}. ")).unwrap_or_default();
    if c.state == CaseState::SupplementRequested && !wanted.is_empty() {
        let noted: Vec<String> = wanted
            .iter()
            .map(|w| match checklist.iter().find(|m| &m.material == w).and_then(|m| m.note.as_deref()) {
                Some(note) => format!("{w}（{note}）"),
                None => w.clone(),
            })
            .collect();
        let (clock_zh, clock_en) = if c.accepted_on.is_some() {
            ("补正期间办理时限暂停。", "The time limit is paused until you resubmit. ")
        } else {
            (
                "材料补齐后窗口受理，办理时限自受理之日起计算。",
                "The window accepts the application once they are in; the time limit runs from acceptance. ",
            )
        };
        reason_zh.push_str(&format!("需补正的材料：{}。{clock_zh}", noted.join("、")));
        reason_en.push_str(&format!("Materials wanted: {}. {clock_en}", noted.join("; ")));
    }
    let next_zh = match c.state {
        CaseState::SupplementRequested => "请在“我的办件”中补正材料后重新提交。",
        CaseState::Closed if c.accepted_at_window => "请到受理窗口领取办理结果。",
        CaseState::Closed => "办理结果可在“我的办件”中查看。",
        CaseState::Accepted => "承诺办结日期见办件详情。",
        _ => "",
    };
    let next_en = match c.state {
        CaseState::SupplementRequested => "Please supply the missing materials under My cases and resubmit.",
        CaseState::Closed if c.accepted_at_window => {
            "Please collect the result at the window where you applied."
        }
        CaseState::Closed => "The result is on the case page under My cases.",
        CaseState::Accepted => "The promised completion date is on the case page.",
        _ => "",
    };
    // 一事一评: a finished case asks its applicant for a rating, with a link that needs no login.
    let (rate_zh, rate_en) = match (rating_link, c.state) {
        (Some(link), CaseState::Closed | CaseState::NotAccepted) => (
            format!("请为本次服务评价（5个工作日内有效）：{link}"),
            format!(" Please rate this service (valid for 5 working days): {link}"),
        ),
        _ => (String::new(), String::new()),
    };
    Message {
        title_zh: format!("{} {}：{}", c.title, c.number, c.state.label_zh()),
        title_en: format!("{} {}: {}", c.title, c.number, c.state.label_en()),
        body_zh: format!("{reason_zh}{next_zh}{rate_zh}"),
        body_en: format!("{reason_en}{next_en}{rate_en}"),
    }
}

/// Records the decision in the case with its document: the one prepared (and sealed) before
/// the write for this decision, or an unsealed one when there is none.
fn record_decision(c: &mut CaseRecord, decision: &str, input: &ActionInput<'_>) {
    c.decision = Some(decision.to_string());
    c.decision_reason = input.reason.map(str::to_string);
    match input.prepared_decision.filter(|d| d["decision"] == decision) {
        Some(doc) => {
            c.decided_at = Some(doc["decided_at"].as_str().unwrap_or(input.now).to_string());
            c.decision_document = Some(doc.clone());
        }
        None => {
            c.decided_at = Some(input.now.to_string());
            let facts = DecisionFacts {
                decision,
                reason: input.reason,
                actor_name: input.actor_name,
                department_name: input.department_name,
                today: input.today,
                now: input.now,
                licence_identifier: None,
                sequence: None,
                opinion: input.opinion,
            };
            c.decision_document = Some(decision_document(c, &facts));
        }
    }
}

/// One part of a bundle withdrawn with it.
#[derive(Clone, Debug)]
pub struct PartWithdrawal {
    pub number: String,
    pub expected_version: i64,
    pub event: NewEvent,
    pub audit: NewEntry,
}

/// The applicant withdraws a whole bundle: every part that may still be withdrawn is.
pub fn decide_bundle_withdrawal(
    parent: &CaseRecord,
    parts: &[CaseRecord],
    actor_id: &str,
    actor_name: &str,
    reason: Option<&str>,
) -> Result<Vec<PartWithdrawal>, ActRefusal> {
    let withdrawals: Vec<PartWithdrawal> = parts
        .iter()
        .filter(|c| next_state(c.state, CaseAction::Withdraw, c.flags(), Performer::Applicant).is_ok())
        .map(|c| PartWithdrawal {
            number: c.number.clone(),
            expected_version: c.version,
            event: NewEvent {
                seq: c.version + 1,
                action: "withdraw".into(),
                from: Some(c.state),
                to: CaseState::Withdrawn,
                actor_id: Some(actor_id.to_string()),
                actor_name: actor_name.to_string(),
                role: None,
                department: c.department.clone(),
                reason: reason.map(str::to_string),
                detail: None,
            },
            audit: NewEntry::new(
                format!("case:{}", c.number),
                format!("user:{actor_id}"),
                "case.withdraw",
                format!("case:{}", c.number),
                format!("{} -> withdrawn (with bundle {})", c.state.as_str(), parent.number),
            ),
        })
        .collect();
    if withdrawals.is_empty() {
        return Err(ActRefusal::WrongState(parent.state));
    }
    Ok(withdrawals)
}

/// A bundle's part as its parent's refresh reads it.
#[derive(Clone, Debug)]
pub struct PartSummary {
    pub number: String,
    pub title: String,
    pub state: CaseState,
    pub decision: Option<String>,
    pub document_number: Option<Value>,
}

/// What a bundle becomes after one of its parts changed (`None`: nothing changes).
#[derive(Clone, Debug)]
pub struct ParentChange {
    pub expected_version: i64,
    pub state: CaseState,
    pub decision_document: Option<Value>,
    pub event: NewEvent,
    /// Told to the applicant once every part is finished, with the combined result.
    pub message: Option<(Message, Reach)>,
}

/// Recomputes a bundle from its parts as they now stand.
pub fn decide_bundle_refresh(parent: &CaseRecord, parts: &[PartSummary], now: &str) -> Option<ParentChange> {
    let states: Vec<CaseState> = parts.iter().map(|p| p.state).collect();
    let next = bundle_state(&states);
    if next == parent.state {
        return None;
    }
    let finished = matches!(next, CaseState::Closed | CaseState::Delivered);
    // Once every part is finished the bundle gets one combined result listing each decision.
    let decision_document = if finished {
        let year = parent.number.get(2..6).unwrap_or("");
        Some(json!({
            "kind": "bundle_result",
            "document_number": format!("济政务一件事〔{year}〕{}号", parent.number.get(2..).unwrap_or("")),
            "title_zh": "“一件事”办理结果通知书",
            "title_en": "Combined result of a bundle application",
            "case_number": parent.number,
            "item_name": parent.title,
            "applicant_name": parent.applicant_name,
            "decision": "combined",
            "parts": parts.iter().map(|p| json!({
                "case_number": p.number,
                "title": p.title,
                "state": p.state.as_str(),
                "decision": p.decision,
                "document_number": p.document_number,
            })).collect::<Vec<_>>(),
            "date": now.get(..10).unwrap_or(now),
            "decided_at": now,
        }))
    } else {
        parent.decision_document.clone()
    };
    let message = finished.then(|| {
        (
            Message {
                title_zh: format!("{} {}：{}", parent.title, parent.number, next.label_zh()),
                title_en: format!("{} {}: {}", parent.title, parent.number, next.label_en()),
                body_zh: "“一件事”的全部事项均已办结，合并结果见办件详情。".into(),
                body_en: "Every part of this bundle is finished; the combined result is on the case page."
                    .into(),
            },
            parent.form.reach(),
        )
    });
    Some(ParentChange {
        expected_version: parent.version,
        state: next,
        decision_document,
        event: NewEvent {
            seq: parent.version + 1,
            action: "parts_changed".into(),
            from: Some(parent.state),
            to: next,
            actor_id: None,
            actor_name: "系统 System".into(),
            role: None,
            department: parent.department.clone(),
            reason: None,
            detail: None,
        },
        message,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::calendar::domain::parse_holidays_file;
    use proptest::prelude::*;

    fn cal() -> Calendar {
        Calendar::new(parse_holidays_file(include_str!("../../../../reference/holidays_cn.json")).unwrap())
            .unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const CLERK: Performer = Performer::Staff(Role::WindowClerk);
    const REVIEWER: Performer = Performer::Staff(Role::Reviewer);
    const APPROVER: Performer = Performer::Staff(Role::Approver);

    #[test]
    fn full_lifecycle() {
        let mut f = CaseFlags::default();
        let mut s = CaseState::Submitted;
        for (action, by, expected) in [
            (CaseAction::Accept, CLERK, CaseState::Accepted),
            (CaseAction::StartReview, REVIEWER, CaseState::UnderReview),
            (CaseAction::RequestSupplement, REVIEWER, CaseState::SupplementRequested),
            (CaseAction::Resubmit, Performer::Applicant, CaseState::UnderReview),
            (CaseAction::Approve, APPROVER, CaseState::Approved),
            (CaseAction::Close, APPROVER, CaseState::Closed),
            (CaseAction::Deliver, CLERK, CaseState::Delivered),
        ] {
            s = next_state(s, action, f, by).unwrap();
            assert_eq!(s, expected, "{action:?}");
            f.accepted |= action == CaseAction::Accept;
        }
        assert!(s.is_final());
    }

    #[test]
    fn the_window_asks_for_materials_before_acceptance_and_gets_them_back() {
        let f = CaseFlags::default();
        let s = next_state(CaseState::Submitted, CaseAction::RequestSupplement, f, CLERK).unwrap();
        assert_eq!(s, CaseState::SupplementRequested);
        // A reviewer's request comes after acceptance, a window's before it.
        assert_eq!(
            next_state(CaseState::Submitted, CaseAction::RequestSupplement, f, REVIEWER),
            Err(Refusal::WrongState(CaseState::Submitted))
        );
        assert_eq!(
            next_state(CaseState::Accepted, CaseAction::RequestSupplement, f, CLERK),
            Err(Refusal::WrongState(CaseState::Accepted))
        );
        // The resubmission goes back to the window when the case was never accepted.
        assert_eq!(next_state(s, CaseAction::Resubmit, f, Performer::Applicant), Ok(CaseState::Submitted));
        let accepted = CaseFlags { accepted: true, ..f };
        assert_eq!(
            next_state(s, CaseAction::Resubmit, accepted, Performer::Applicant),
            Ok(CaseState::UnderReview)
        );
    }

    #[test]
    fn decision_numbers_take_the_usual_form() {
        assert_eq!(decision_number("approved", 2026, 123), "济政务许〔2026〕123号");
        assert_eq!(decision_number("rejected", 2027, 7), "济政务不许〔2027〕7号");
        assert_ne!(decision_kind("approved"), decision_kind("rejected"), "numbered apart");
    }

    #[test]
    fn refusals_name_the_state_or_the_role() {
        let f = CaseFlags::default();
        assert_eq!(
            next_state(CaseState::Submitted, CaseAction::Approve, f, APPROVER),
            Err(Refusal::WrongState(CaseState::Submitted))
        );
        assert_eq!(
            next_state(CaseState::UnderReview, CaseAction::Approve, f, REVIEWER),
            Err(Refusal::NotAllowed)
        );
        assert_eq!(
            next_state(CaseState::Submitted, CaseAction::Accept, f, Performer::Applicant),
            Err(Refusal::NotAllowed)
        );
        assert_eq!(
            next_state(CaseState::Approved, CaseAction::Withdraw, f, Performer::Applicant),
            Err(Refusal::WrongState(CaseState::Approved)),
            "no withdrawal after a decision"
        );
        assert_eq!(
            next_state(CaseState::Accepted, CaseAction::Approve, f, APPROVER),
            Err(Refusal::WrongState(CaseState::Accepted))
        );
    }

    #[test]
    fn single_approver_and_immediate_items() {
        let single = CaseFlags { single_approver: true, ..CaseFlags::default() };
        assert_eq!(
            next_state(CaseState::Accepted, CaseAction::Approve, single, APPROVER),
            Ok(CaseState::Approved)
        );
        let immediate = CaseFlags { immediate: true, ..CaseFlags::default() };
        assert_eq!(
            next_state(CaseState::Submitted, CaseAction::Accept, immediate, CLERK),
            Ok(CaseState::Approved)
        );
        assert_eq!(
            next_state(
                CaseState::Submitted,
                CaseAction::Accept,
                CaseFlags::default(),
                Performer::Staff(Role::GeneralWindowClerk)
            ),
            Ok(CaseState::Accepted),
            "a general window accepts"
        );
    }

    #[test]
    fn buttons_follow_state_and_role() {
        let f = CaseFlags::default();
        assert_eq!(
            available_actions(CaseState::Submitted, f, CLERK),
            [CaseAction::Accept, CaseAction::NotAccept, CaseAction::RequestSupplement, CaseAction::Transfer]
        );
        assert_eq!(
            available_actions(CaseState::SupplementRequested, f, Performer::Applicant),
            [CaseAction::Resubmit, CaseAction::Withdraw]
        );
        assert_eq!(
            available_actions(CaseState::UnderReview, f, APPROVER),
            [CaseAction::RequestSupplement, CaseAction::Approve, CaseAction::Reject]
        );
        assert!(available_actions(CaseState::Delivered, f, APPROVER).is_empty());
        for a in CaseAction::ALL {
            assert_eq!(CaseAction::parse(a.as_str()), Some(a));
        }
    }

    #[test]
    fn due_date_counts_working_days_and_pauses() {
        let c = cal();
        // Accepted Wednesday 2026-09-30 with 5 promised days: the National Day holiday is skipped.
        assert_eq!(due_date(&c, d("2026-09-30"), 5, &[], d("2026-09-30")), d("2026-10-13"));
        // A supplement requested on 10-09 and returned on 10-12 (2 working days: 10-10 is a 调休
        // Saturday, 10-12 a Monday) pushes the due date back by those 2 working days.
        let pause = Pause { from: d("2026-10-09"), until: Some(d("2026-10-12")) };
        assert_eq!(due_date(&c, d("2026-09-30"), 5, &[pause], d("2026-10-20")), d("2026-10-15"));
        // While still waiting, the pause grows with today.
        let open = Pause { from: d("2026-10-09"), until: None };
        assert_eq!(due_date(&c, d("2026-09-30"), 5, &[open], d("2026-10-12")), d("2026-10-15"));
    }

    #[test]
    fn lights() {
        let c = cal();
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let due = d("2026-10-13");
        let at = |s| light(&c, CaseState::UnderReview, due, 5, t(s), 1);
        assert_eq!(at("2026-10-09T10:00:00+08:00"), Light::Green);
        // Monday has the rest of its day and all of Tuesday: more than a working day left.
        assert_eq!(at("2026-10-12T10:00:00+08:00"), Light::Green);
        assert_eq!(at("2026-10-13T00:00:00+08:00"), Light::Yellow);
        assert_eq!(at("2026-10-13T23:59:59+08:00"), Light::Yellow);
        assert_eq!(at("2026-10-14T00:00:00+08:00"), Light::Red);
        // A one-day case warns only in the last quarter of its day.
        assert_eq!(
            light(&c, CaseState::UnderReview, due, 1, t("2026-10-13T17:00:00+08:00"), 1),
            Light::Green
        );
        assert_eq!(
            light(&c, CaseState::UnderReview, due, 1, t("2026-10-13T19:00:00+08:00"), 1),
            Light::Yellow
        );
        assert_eq!(
            light(&c, CaseState::SupplementRequested, due, 5, t("2026-10-14T10:00:00+08:00"), 1),
            Light::None
        );
    }

    #[test]
    fn bundles_finish_when_every_part_does() {
        use CaseState as S;
        assert_eq!(bundle_state(&[S::Submitted, S::Submitted]), S::Submitted);
        assert_eq!(bundle_state(&[S::Accepted, S::Submitted]), S::UnderReview);
        assert_eq!(bundle_state(&[S::Closed, S::UnderReview]), S::UnderReview);
        assert_eq!(bundle_state(&[S::Closed, S::Delivered]), S::Closed);
        assert_eq!(bundle_state(&[S::Delivered, S::Delivered, S::Withdrawn]), S::Delivered);
        assert_eq!(bundle_state(&[S::Withdrawn, S::Withdrawn]), S::Withdrawn);
        assert_eq!(bundle_state(&[S::NotAccepted, S::Withdrawn]), S::NotAccepted);
    }

    #[test]
    fn commitment_cases_are_approved_from_acceptance() {
        let f = CaseFlags { commitment: true, ..CaseFlags::default() };
        assert_eq!(
            next_state(CaseState::Accepted, CaseAction::Approve, f, APPROVER),
            Ok(CaseState::Approved)
        );
        assert_eq!(
            next_state(CaseState::Accepted, CaseAction::Reject, f, APPROVER),
            Err(Refusal::WrongState(CaseState::Accepted)),
            "a refusal still needs a review"
        );
        assert!(CaseState::Revoked.is_final());
        for s in CaseState::ALL {
            assert_eq!(CaseState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn case_numbers() {
        assert_eq!(case_number(d("2026-11-29"), 42), "JN20261129000042");
        assert_eq!(parse_case_number("JN20261129000042"), Some((d("2026-11-29"), 42)));
        assert_eq!(parse_case_number("JN20261329000042"), None);
        assert_eq!(parse_case_number("XX20261129000042"), None);
        assert_eq!(parse_case_number("JN2026112900004"), None);
    }

    proptest! {
        /// Whatever sequence of actions is tried, a final state stays final (except delivery from
        /// closed), and a refused action never changes anything.
        #[test]
        fn random_walks_respect_the_machine(steps in proptest::collection::vec((0usize..11, 0usize..4), 0..40)) {
            let performers = [CLERK, REVIEWER, APPROVER, Performer::Applicant];
            let mut s = CaseState::Submitted;
            for (a, p) in steps {
                let action = CaseAction::ALL[a];
                match next_state(s, action, CaseFlags::default(), performers[p]) {
                    Ok(n) => {
                        prop_assert!(!s.is_final(), "{s:?} is final but {action:?} moved it");
                        s = n;
                    }
                    Err(Refusal::WrongState(w)) => prop_assert_eq!(w, s),
                    Err(Refusal::NotAllowed) => {}
                }
            }
        }

        /// Pauses never make a case due earlier.
        #[test]
        fn pauses_only_push_back(start in 0i64..700, days in 0u32..60, from_off in 0i64..60, len in 0i64..30) {
            let c = cal();
            let accepted = d("2024-01-01") + chrono::Duration::days(start);
            let from = accepted + chrono::Duration::days(from_off);
            let pause = Pause { from, until: Some(from + chrono::Duration::days(len)) };
            let plain = due_date(&c, accepted, days, &[], accepted);
            let paused = due_date(&c, accepted, days, &[pause], accepted);
            prop_assert!(paused >= plain);
        }
    }
}
