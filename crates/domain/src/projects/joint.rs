//! Joint reviews (联合审图、联合验收): member departments give their opinions on one case; its
//! department approves only when every member has agreed.

use serde::{Deserialize, Serialize};

use super::flow::{JointMember, JointReview};
use crate::cases::domain::CaseState;

/// A member department's opinion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Opinion {
    /// 同意: its aspect is in order.
    Pass,
    /// 不同意: its aspect must be put right (the comment says what).
    Fail,
}

impl Opinion {
    pub fn parse(s: &str) -> Option<Opinion> {
        match s {
            "pass" => Some(Opinion::Pass),
            "fail" => Some(Opinion::Fail),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Opinion::Pass => "pass",
            Opinion::Fail => "fail",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Opinion::Pass => "同意",
            Opinion::Fail => "不同意（需整改）",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Opinion::Pass => "Agreed",
            Opinion::Fail => "Not agreed (to be put right)",
        }
    }
}

/// An opinion given, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JointOpinion {
    pub department: String,
    pub opinion: Opinion,
    pub comment: Option<String>,
    pub by_name: String,
    pub at: String,
    pub version: i64,
}

/// What giving an opinion writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpinionChange {
    /// The department's first opinion on the case.
    Insert,
    /// A new opinion replacing a 不同意 of this version (after the applicant put it right).
    Replace { version: i64 },
}

/// Why an opinion is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JointRefusal {
    /// The department is not a member of this joint review.
    NotMember,
    /// The case is not being reviewed (not yet accepted, waiting for a supplement, or decided).
    NotUnderReview(CaseState),
    /// The department agreed already; an agreement stands.
    AlreadyAgreed,
    /// 不同意 says what must be put right.
    CommentRequired,
}

impl JointRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            JointRefusal::NotMember => "not_a_member",
            JointRefusal::NotUnderReview(_) => "not_under_review",
            JointRefusal::AlreadyAgreed => "already_agreed",
            JointRefusal::CommentRequired => "comment_required",
        }
    }
}

/// Decides a member's opinion on a joint-review case from what was read: the case's state and
/// the opinions given so far.
pub fn decide_opinion(
    review: &JointReview,
    state: CaseState,
    department: &str,
    existing: &[JointOpinion],
    opinion: Opinion,
    comment: Option<&str>,
) -> Result<OpinionChange, JointRefusal> {
    if !review.members.iter().any(|m| m.department == department) {
        return Err(JointRefusal::NotMember);
    }
    if !state.clock_runs() {
        return Err(JointRefusal::NotUnderReview(state));
    }
    if opinion == Opinion::Fail && comment.is_none_or(|c| c.trim().is_empty()) {
        return Err(JointRefusal::CommentRequired);
    }
    match existing.iter().find(|o| o.department == department) {
        None => Ok(OpinionChange::Insert),
        Some(o) if o.opinion == Opinion::Pass => Err(JointRefusal::AlreadyAgreed),
        Some(o) => Ok(OpinionChange::Replace { version: o.version }),
    }
}

/// The members whose agreement is still missing (none given, or 不同意), in the review's order:
/// the case may be approved only when this is empty.
pub fn joint_blockers<'a>(
    review: &'a JointReview,
    opinions: &'a [JointOpinion],
) -> Vec<(&'a JointMember, Option<&'a JointOpinion>)> {
    review
        .members
        .iter()
        .map(|m| (m, opinions.iter().find(|o| o.department == m.department)))
        .filter(|(_, o)| o.is_none_or(|o| o.opinion != Opinion::Pass))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::projects::flows;

    fn given(department: &str, opinion: Opinion, version: i64) -> JointOpinion {
        JointOpinion {
            department: department.into(),
            opinion,
            comment: None,
            by_name: "审查员".into(),
            at: "2026-12-07T02:00:00Z".into(),
            version,
        }
    }

    #[test]
    fn members_give_one_opinion_each_and_a_refusal_can_be_revisited() {
        let review = flows().joint("JN-SPJ-0019").unwrap();
        let s = CaseState::UnderReview;
        assert_eq!(decide_opinion(review, s, "JN-ZRJ", &[], Opinion::Pass, None), Ok(OpinionChange::Insert));
        assert_eq!(
            decide_opinion(review, s, "JN-SCJ", &[], Opinion::Pass, None),
            Err(JointRefusal::NotMember)
        );
        assert_eq!(
            decide_opinion(review, CaseState::Submitted, "JN-ZRJ", &[], Opinion::Pass, None),
            Err(JointRefusal::NotUnderReview(CaseState::Submitted))
        );
        assert_eq!(
            decide_opinion(review, s, "JN-ZRJ", &[], Opinion::Fail, Some("  ")),
            Err(JointRefusal::CommentRequired)
        );
        let agreed = [given("JN-ZRJ", Opinion::Pass, 1)];
        assert_eq!(
            decide_opinion(review, s, "JN-ZRJ", &agreed, Opinion::Fail, Some("退线不足")),
            Err(JointRefusal::AlreadyAgreed)
        );
        let refused = [given("JN-ZJJ", Opinion::Fail, 3)];
        assert_eq!(
            decide_opinion(review, s, "JN-ZJJ", &refused, Opinion::Pass, None),
            Ok(OpinionChange::Replace { version: 3 })
        );
    }

    #[test]
    fn approval_waits_for_every_member_to_agree() {
        let review = flows().joint("JN-SPJ-0019").unwrap();
        let none: Vec<JointOpinion> = vec![];
        assert_eq!(joint_blockers(review, &none).len(), 2);
        let one = [given("JN-ZRJ", Opinion::Pass, 1), given("JN-ZJJ", Opinion::Fail, 1)];
        let left = joint_blockers(review, &one);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].0.department, "JN-ZJJ");
        assert_eq!(left[0].1.map(|o| o.opinion), Some(Opinion::Fail));
        let both = [given("JN-ZRJ", Opinion::Pass, 1), given("JN-ZJJ", Opinion::Pass, 2)];
        assert!(joint_blockers(review, &both).is_empty());
    }
}
