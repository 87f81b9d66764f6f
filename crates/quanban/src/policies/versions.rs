//! Versions of a policy's rules: a policy officer proposes new eligibility and amount rules (and
//! cap, budget) with the date they take effect; another officer or the head of the issuing
//! department approves or rejects it (two different people, as catalog changes). The rules in
//! force on a day are the shipped ones overlaid by the latest approved version effective by then.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::library::Policy;
use super::rules::{self, Want};
use crate::http::FieldError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    Proposed,
    Approved,
    Rejected,
}

impl VersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Proposed => "proposed",
            VersionStatus::Approved => "approved",
            VersionStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<VersionStatus> {
        [VersionStatus::Proposed, VersionStatus::Approved, VersionStatus::Rejected]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One version of a policy's rules, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Version {
    pub code: String,
    /// 1, 2, … per policy (the shipped rules are version 0).
    pub version: i64,
    pub eligibility: String,
    pub amount: String,
    pub cap_fen: Option<i64>,
    pub budget_fen: i64,
    #[schema(value_type = String, format = Date)]
    pub effective_on: NaiveDate,
    pub status: VersionStatus,
    /// Why the change is made.
    pub note: String,
    pub proposed_by: String,
    pub proposed_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
    /// Guards every change (claim first); send it back with a decision.
    pub row_version: i64,
}

/// What a policy officer proposes.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Proposal {
    /// The eligibility rule in CEL (the one in force when left out).
    pub eligibility: Option<String>,
    /// The amount rule in CEL, in yuan (the one in force when left out).
    pub amount: Option<String>,
    /// The most per enterprise in fen (left out: unchanged).
    pub cap_fen: Option<i64>,
    /// Remove the cap.
    pub no_cap: bool,
    /// The budget in fen (left out: unchanged).
    pub budget_fen: Option<i64>,
    /// `YYYY-MM-DD`, today or later.
    pub effective_on: String,
    /// Why (shown to the approver and kept with the version).
    pub note: String,
}

/// A rule's compile error as a field error naming the position.
pub fn rule_error(field: &str, e: &rules::RuleError) -> FieldError {
    // Syntax errors name the position themselves.
    let zh = if e.message_zh.contains("个字符") {
        e.message_zh.clone()
    } else {
        format!("第{}个字符处：{}", e.position, e.message_zh)
    };
    let en = if e.message_en.to_lowercase().contains("character") {
        e.message_en.clone()
    } else {
        format!("At character {}: {}", e.position, e.message_en)
    };
    FieldError::new(field, e.code, zh, en)
}

/// The version a proposal makes of policy `p` (in force now), checked: the rules parse and
/// type-check (an error names the field and the character), the date is real and not past,
/// money is not negative, and a note says why.
pub fn check(p: &Policy, proposal: &Proposal, today: NaiveDate) -> Result<NewVersion, Vec<FieldError>> {
    let mut errors = Vec::new();
    let eligibility = proposal.eligibility.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let amount = proposal.amount.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(src) = eligibility
        && let Err(e) = rules::compile(src, Want::Bool)
    {
        errors.push(rule_error("eligibility", &e));
    }
    if let Some(src) = amount
        && let Err(e) = rules::compile(src, Want::Amount)
    {
        errors.push(rule_error("amount", &e));
    }
    let effective_on = if proposal.effective_on.trim().is_empty() {
        errors.push(FieldError::required("effective_on", "生效日期", "the date it takes effect"));
        None
    } else {
        match FieldError::parse_date("effective_on", &proposal.effective_on) {
            Ok(d) if d < today => {
                errors.push(FieldError::new(
                    "effective_on",
                    "in_the_past",
                    "生效日期不能早于今天",
                    "The date it takes effect cannot be in the past",
                ));
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(e);
                None
            }
        }
    };
    let cap_fen = if proposal.no_cap { None } else { proposal.cap_fen.or(p.cap_fen) };
    if cap_fen.is_some_and(|c| c < 0) {
        errors.push(FieldError::new("cap_fen", "negative", "单户上限不能为负", "The cap cannot be negative"));
    }
    let budget_fen = proposal.budget_fen.unwrap_or(p.budget_fen);
    if budget_fen < 0 {
        errors.push(FieldError::new(
            "budget_fen",
            "negative",
            "资金总额不能为负",
            "The budget cannot be negative",
        ));
    }
    let note = proposal.note.trim();
    if note.is_empty() {
        errors.push(FieldError::required("note", "调整理由", "why the rules change"));
    } else if note.chars().count() > 500 {
        errors.push(FieldError::new("note", "too_long", "调整理由不超过500字", "At most 500 characters"));
    }
    if eligibility.is_none()
        && amount.is_none()
        && proposal.cap_fen.is_none()
        && !proposal.no_cap
        && proposal.budget_fen.is_none()
    {
        errors.push(FieldError::new(
            "eligibility",
            "no_change",
            "请至少修改规则、上限或资金总额中的一项",
            "Change at least the rules, the cap or the budget",
        ));
    }
    match effective_on {
        Some(effective_on) if errors.is_empty() => Ok(NewVersion {
            eligibility: eligibility.map_or_else(|| p.eligibility_source.clone(), str::to_string),
            amount: amount.map_or_else(|| p.amount_source.clone(), str::to_string),
            cap_fen,
            budget_fen,
            effective_on,
            note: note.to_string(),
        }),
        _ => Err(errors),
    }
}

/// A checked proposal, to be stored as the policy's next version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewVersion {
    pub eligibility: String,
    pub amount: String,
    pub cap_fen: Option<i64>,
    pub budget_fen: i64,
    pub effective_on: NaiveDate,
    pub note: String,
}

/// Why a decision is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The proposer cannot decide their own proposal.
    FourEyes,
    /// Already approved or rejected.
    NotProposed,
    /// Rejecting needs a reason.
    NoReason,
}

/// The version after `decider` approves (or rejects, with `reason`) it.
pub fn decide(
    v: &Version,
    decider: &str,
    approve: bool,
    reason: &str,
    now: &str,
) -> Result<Version, Refusal> {
    if v.proposed_by == decider {
        return Err(Refusal::FourEyes);
    }
    if v.status != VersionStatus::Proposed {
        return Err(Refusal::NotProposed);
    }
    if !approve && reason.trim().is_empty() {
        return Err(Refusal::NoReason);
    }
    Ok(Version {
        status: if approve { VersionStatus::Approved } else { VersionStatus::Rejected },
        decided_by: Some(decider.to_string()),
        decided_at: Some(now.to_string()),
        decision_note: Some(reason.trim().to_string()).filter(|r| !r.is_empty()),
        row_version: v.row_version + 1,
        ..v.clone()
    })
}

/// Policy `p` as in force on `day`: overlaid by the latest approved version effective by then.
/// A stored rule that no longer compiles (it compiled when proposed) leaves the policy as it was.
pub fn in_force(mut p: Policy, versions: &[Version], day: NaiveDate) -> Policy {
    let latest = versions
        .iter()
        .filter(|v| v.code == p.code && v.status == VersionStatus::Approved && v.effective_on <= day)
        .max_by_key(|v| (v.effective_on, v.version));
    if let Some(v) = latest
        && let (Ok(e), Ok(a)) =
            (rules::compile(&v.eligibility, Want::Bool), rules::compile(&v.amount, Want::Amount))
    {
        p.eligibility = e;
        p.amount = a;
        p.eligibility_source = v.eligibility.clone();
        p.amount_source = v.amount.clone();
        p.cap_fen = v.cap_fen;
        p.budget_fen = v.budget_fen;
        p.version = v.version;
    }
    p
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        super::super::library::shipped().unwrap().into_iter().next().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn proposal(eligibility: &str) -> Proposal {
        Proposal {
            eligibility: Some(eligibility.into()),
            effective_on: "2026-12-10".into(),
            note: "提高门槛".into(),
            ..Proposal::default()
        }
    }

    #[test]
    fn a_type_error_names_the_field_and_the_character() {
        let errors =
            check(&policy(), &proposal("status == 'active' && employees_last_year > 1.5"), day("2026-12-09"))
                .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "eligibility");
        assert!(
            errors[0].message_zh.starts_with("第") && errors[0].message_en.contains("character"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_past_date_a_missing_note_and_no_change_are_refused() {
        let p = Proposal { effective_on: "2026-12-01".into(), ..Proposal::default() };
        let errors = check(&policy(), &p, day("2026-12-09")).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["effective_on", "note", "eligibility"]);
    }

    fn version(status: VersionStatus, effective: &str, n: i64) -> Version {
        Version {
            code: policy().code,
            version: n,
            eligibility: "status == 'active'".into(),
            amount: "100.0".into(),
            cap_fen: None,
            budget_fen: 5,
            effective_on: day(effective),
            status,
            note: "n".into(),
            proposed_by: "user:a".into(),
            proposed_at: "t".into(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
            row_version: 1,
        }
    }

    #[test]
    fn another_person_decides() {
        let v = version(VersionStatus::Proposed, "2026-12-10", 1);
        assert_eq!(decide(&v, "user:a", true, "", "t"), Err(Refusal::FourEyes));
        assert_eq!(decide(&v, "user:b", false, " ", "t"), Err(Refusal::NoReason));
        let approved = decide(&v, "user:b", true, "", "t").unwrap();
        assert_eq!((approved.status, approved.row_version), (VersionStatus::Approved, 2));
        assert_eq!(decide(&approved, "user:c", true, "", "t"), Err(Refusal::NotProposed));
    }

    #[test]
    fn the_latest_approved_version_in_effect_is_in_force() {
        let versions = [
            version(VersionStatus::Approved, "2026-12-10", 1),
            version(VersionStatus::Proposed, "2026-12-09", 2),
            Version { amount: "200.0".into(), ..version(VersionStatus::Approved, "2026-12-20", 3) },
        ];
        assert_eq!(in_force(policy(), &versions, day("2026-12-09")).version, 0);
        let p = in_force(policy(), &versions, day("2026-12-15"));
        assert_eq!((p.version, p.amount_source.as_str(), p.budget_fen), (1, "100.0", 5));
        assert_eq!(in_force(policy(), &versions, day("2026-12-20")).amount_source, "200.0");
    }
}
