//! The case workflow as pure rules.
//!
//! ```text
//! submitted ──accept──▶ accepted ──(review)──▶ under_review ──approve/reject──▶ decided ──close──▶ closed ──deliver──▶ delivered
//!     │                    │                       │  ▲
//!     └─not_accept──▶ not_accepted                 │  └──resubmit── supplement_requested ◀──request_supplement
//!  (withdraw allowed before a decision; transfer keeps the state and moves the department)
//! ```

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

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
        (A::StartReview | A::RequestSupplement, Performer::Staff(r)) => {
            matches!(r, Role::Reviewer | Role::Approver)
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
    let next = match (state, action) {
        (S::Submitted, A::Accept) if flags.immediate => S::Approved,
        (S::Submitted, A::Accept) => S::Accepted,
        (S::Submitted, A::NotAccept) => S::NotAccepted,
        (S::Accepted, A::StartReview) => S::UnderReview,
        (S::Accepted | S::UnderReview, A::RequestSupplement) => S::SupplementRequested,
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::calendar::domain::parse_holidays_file;
    use proptest::prelude::*;

    fn cal() -> Calendar {
        Calendar::new(parse_holidays_file(include_str!("../../reference/holidays_cn.json")).unwrap()).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const CLERK: Performer = Performer::Staff(Role::WindowClerk);
    const REVIEWER: Performer = Performer::Staff(Role::Reviewer);
    const APPROVER: Performer = Performer::Staff(Role::Approver);

    #[test]
    fn full_lifecycle() {
        let f = CaseFlags::default();
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
        }
        assert!(s.is_final());
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
            [CaseAction::Accept, CaseAction::NotAccept, CaseAction::Transfer]
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
