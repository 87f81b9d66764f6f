//! The rules of 好差评, free of I/O: levels, channels, indicators, the one-tap link's token, the
//! bad-review loop's steps and the published figures.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use hmac::{KeyInit, Mac};
use serde::Serialize;
use serde_json::Value;

use crate::fields::FieldError;
use crate::figures::share;

/// 5 非常满意 … 1 非常不满意; 1 and 2 are bad reviews (差评).
pub fn level_label(score: i64) -> (&'static str, &'static str) {
    match score {
        5 => ("非常满意", "Very satisfied"),
        4 => ("满意", "Satisfied"),
        3 => ("基本满意", "Fairly satisfied"),
        2 => ("不满意", "Dissatisfied"),
        _ => ("非常不满意", "Very dissatisfied"),
    }
}

pub fn is_bad(score: i64) -> bool {
    score <= 2
}

/// Where a rating was given.
pub const CHANNELS: [(&str, &str, &str); 6] = [
    ("web", "政务服务网", "Website"),
    ("app", "手机App", "Mobile app"),
    ("pad", "窗口评价器", "Window rating pad"),
    ("kiosk", "自助终端", "Self-service kiosk"),
    ("sms", "短信链接", "SMS link"),
    ("hotline", "12345热线", "12345 hotline"),
];

pub fn parse_channel(raw: Option<&str>, default: &'static str) -> Result<&'static str, FieldError> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty()).unwrap_or(default);
    let alias = match raw {
        "window" | "window_pad" | "评价器" => "pad",
        "phone" | "12345" => "hotline",
        other => other,
    };
    CHANNELS.iter().find(|(c, zh, _)| *c == alias || *zh == raw).map(|(c, _, _)| *c).ok_or_else(|| {
        FieldError::new(
            "channel",
            "unknown_channel",
            format!("评价渠道“{raw}”无效，应为 web、app、pad、kiosk、sms 或 hotline"),
            format!("Unknown channel {raw}: use web, app, pad, kiosk, sms or hotline"),
        )
    })
}

/// The sub-indicators of online services (网上办事).
pub const ONLINE_INDICATORS: [(&str, &str, &str); 4] = [
    ("efficiency", "办事效率", "Efficiency"),
    ("guide_accuracy", "办事指南精确度", "Accuracy of the guide"),
    ("convenience", "办事便捷度", "Convenience"),
    ("usability", "平台操作性", "Ease of use of the platform"),
];

/// The sub-indicators of hall and window services (现场服务).
pub const HALL_INDICATORS: [(&str, &str, &str); 3] = [
    ("service_efficiency", "服务效率", "Service efficiency"),
    ("service_level", "服务水平", "Service quality"),
    ("service_attitude", "服务态度", "Staff attitude"),
];

/// Reads the sub-indicators: an object `{code or Chinese name: 1..5}`, or a list of codes or
/// names (the ones ticked; they take the overall score). Either set is accepted (a case done at
/// a window may be rated online); unknown names are refused.
pub fn parse_indicators(raw: &Value, overall: i64) -> Result<BTreeMap<String, i64>, FieldError> {
    let known = ONLINE_INDICATORS.iter().chain(HALL_INDICATORS.iter());
    let lookup = |name: &str| {
        known.clone().find(|(c, zh, _)| *c == name || *zh == name).map(|(c, _, _)| c.to_string())
    };
    let bad_name = |name: &str| {
        FieldError::new(
            "indicators",
            "unknown_indicator",
            format!(
                "评价指标“{name}”无效；网上办事：办事效率、办事指南精确度、办事便捷度、平台操作性；现场：服务效率、服务水平、服务态度"
            ),
            format!(
                "Unknown indicator {name}: online efficiency, guide_accuracy, convenience, usability; in the hall service_efficiency, service_level, service_attitude"
            ),
        )
    };
    let mut out = BTreeMap::new();
    match raw {
        Value::Null => {}
        Value::Object(map) => {
            for (k, v) in map {
                let code = lookup(k).ok_or_else(|| bad_name(k))?;
                let score = v.as_i64().filter(|s| (1..=5).contains(s)).ok_or_else(|| {
                    FieldError::new(
                        "indicators",
                        "invalid_score",
                        format!("指标“{k}”的评分应为1至5的整数"),
                        format!("Indicator {k} must be scored 1 to 5"),
                    )
                })?;
                out.insert(code, score);
            }
        }
        Value::Array(items) => {
            for i in items {
                let name = i.as_str().ok_or_else(|| bad_name(&i.to_string()))?;
                out.insert(lookup(name).ok_or_else(|| bad_name(name))?, overall);
            }
        }
        other => return Err(bad_name(&other.to_string())),
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The one-tap link
// ---------------------------------------------------------------------------------------------

type HmacSm3 = hmac::Hmac<sm3::Sm3>;

fn mac(secret: &[u8], payload: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m =
        <HmacSm3 as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    m.update(b"quanban-rating-link\0");
    m.update(payload.as_bytes());
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, m.finalize().into_bytes())
}

/// A token that lets whoever holds it rate this one case (HMAC-SM3 over the case number and
/// the last day it is valid).
pub fn rating_token(secret: &[u8], case_number: &str, valid_until: chrono::NaiveDate) -> String {
    let payload = format!("{case_number}.{}", valid_until.format("%Y%m%d"));
    format!("{payload}.{}", mac(secret, &payload))
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    Forged,
    Expired,
}

/// The case number the token is for, if it is genuine and not expired.
pub fn check_token(secret: &[u8], token: &str, today: chrono::NaiveDate) -> Result<String, TokenError> {
    let (payload, given) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let (case, until) = payload.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let until = NaiveDate::parse_from_str(until, "%Y%m%d").map_err(|_| TokenError::Malformed)?;
    let expected = mac(secret, payload);
    // Compare in constant time.
    let same = expected.len() == given.len()
        && expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if !same {
        return Err(TokenError::Forged);
    }
    if today > until {
        return Err(TokenError::Expired);
    }
    Ok(case.to_string())
}

// ---------------------------------------------------------------------------------------------
// The bad-review loop
// ---------------------------------------------------------------------------------------------

/// Where a bad review is in its loop.
///
/// assigned (谁办理谁负责) → verified (核实, 1 working day) → rectified (整改答复, 5 working days)
/// → closed after the revisit (回访), or back to assigned once if the rater is not satisfied.
/// From assigned or verified the department may appeal (申诉); a supervisor upholds it
/// (excluded from statistics) or rejects it (back where it was).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoopStatus {
    Assigned,
    Verified,
    Rectified,
    Closed,
    Appealed,
    Excluded,
}

impl LoopStatus {
    pub const ALL: [LoopStatus; 6] = [
        LoopStatus::Assigned,
        LoopStatus::Verified,
        LoopStatus::Rectified,
        LoopStatus::Closed,
        LoopStatus::Appealed,
        LoopStatus::Excluded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LoopStatus::Assigned => "assigned",
            LoopStatus::Verified => "verified",
            LoopStatus::Rectified => "rectified",
            LoopStatus::Closed => "closed",
            LoopStatus::Appealed => "appealed",
            LoopStatus::Excluded => "excluded",
        }
    }

    pub fn parse(s: &str) -> Option<LoopStatus> {
        LoopStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// (Chinese, English) for screens.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            LoopStatus::Assigned => ("待核实", "to verify"),
            LoopStatus::Verified => ("待整改", "to rectify"),
            LoopStatus::Rectified => ("待回访", "to revisit"),
            LoopStatus::Closed => ("已办结", "closed"),
            LoopStatus::Appealed => ("申诉中", "under appeal"),
            LoopStatus::Excluded => ("申诉成立（不计入统计）", "appeal upheld (excluded)"),
        }
    }

    /// The loop is over: nothing more is due from anyone.
    pub fn is_final(self) -> bool {
        matches!(self, LoopStatus::Closed | LoopStatus::Excluded)
    }
}

/// The step of a bad review's loop whose time is running: verification while assigned (from
/// the review, or from the revisit that reopened it), rectification once verified (from the
/// verification); none in any other state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunningStep<'a> {
    /// `verify` or `rectify` (what monitoring's subject names).
    pub step: &'static str,
    /// The stored instant the step began.
    pub began: &'a str,
    /// Its due day (`YYYY-MM-DD`), the end of which it is due by.
    pub due: &'a str,
}

/// What a loop's stored times make its running step (see [`RunningStep`]).
pub fn running_step<'a>(
    status: LoopStatus,
    reviewed_at: &'a str,
    revisited_at: Option<&'a str>,
    verified_at: Option<&'a str>,
    verify_due: &'a str,
    rectify_due: &'a str,
) -> Option<RunningStep<'a>> {
    match status {
        LoopStatus::Assigned => {
            Some(RunningStep { step: "verify", began: revisited_at.unwrap_or(reviewed_at), due: verify_due })
        }
        LoopStatus::Verified => {
            verified_at.map(|began| RunningStep { step: "rectify", began, due: rectify_due })
        }
        _ => None,
    }
}

/// How a running step stands now: its time is working time from when it began to the end of its
/// due day, yellow in the last working day.
pub fn step_signal(
    cal: &crate::calendar::domain::Calendar,
    step: &RunningStep<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<crate::calendar::deadline::Signal> {
    use crate::calendar::deadline::{Deadline, Measure};
    let began = crate::platform::clock::parse_time(step.began)?;
    let due = NaiveDate::parse_from_str(step.due, "%Y-%m-%d").ok()?;
    let end = crate::platform::clock::end_of_beijing_day(due);
    Some(Deadline::between(cal, began, end, Measure::WorkingTime).signal(cal, now, 1))
}

/// A step of the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopAction {
    /// 核实: the department records what checking found.
    Verify,
    /// 整改答复: the department answers the rater.
    Rectify,
    /// 回访: satisfied or not (the department records it, or the rater answers).
    Revisit,
    /// 申诉: the department says the review is malicious or mistaken.
    Appeal,
    /// A supervisor upholds or rejects the appeal.
    DecideAppeal,
}

impl LoopAction {
    pub const ALL: [LoopAction; 5] = [
        LoopAction::Verify,
        LoopAction::Rectify,
        LoopAction::Revisit,
        LoopAction::Appeal,
        LoopAction::DecideAppeal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LoopAction::Verify => "verify",
            LoopAction::Rectify => "rectify",
            LoopAction::Revisit => "revisit",
            LoopAction::Appeal => "appeal",
            LoopAction::DecideAppeal => "decide_appeal",
        }
    }

    pub fn parse(s: &str) -> Option<LoopAction> {
        LoopAction::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A bad review's loop as stored.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Rectification {
    pub rating_id: String,
    pub department: String,
    pub status: LoopStatus,
    /// Where an appeal was made from, so that a rejected appeal returns there.
    pub appeal_from: Option<LoopStatus>,
    pub verify_due: String,
    pub rectify_due: String,
    pub verified_at: Option<String>,
    pub verify_note: Option<String>,
    pub answer: Option<String>,
    pub rectified_at: Option<String>,
    pub on_time: Option<bool>,
    pub revisited_at: Option<String>,
    pub satisfied: Option<bool>,
    pub reopened: bool,
    pub appeal_reason: Option<String>,
    pub appeal_decision: Option<String>,
    pub closed_at: Option<String>,
    pub version: i64,
    pub events: Vec<LoopEvent>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LoopEvent {
    pub at: String,
    pub actor_name: String,
    pub action: String,
    pub note: Option<String>,
}

/// What the person doing a step wrote or chose (already trimmed; empty is `None`).
#[derive(Clone, Debug, Default)]
pub struct LoopInput {
    pub note: Option<String>,
    pub answer: Option<String>,
    pub satisfied: Option<bool>,
    pub reason: Option<String>,
    pub uphold: Option<bool>,
}

/// What a step needs to know besides the loop and the input.
pub struct LoopFacts {
    /// The rating was given in the rater's name (anonymous raters cannot be revisited).
    pub real_name: bool,
    /// Stored time text of this moment.
    pub now: String,
    /// Today in Beijing.
    pub today: NaiveDate,
    /// The deadlines of a fresh round, if the revisit reopens the loop.
    pub reopen_verify_due: NaiveDate,
    pub reopen_rectify_due: NaiveDate,
}

/// Why a step is refused.
#[derive(Clone, Debug)]
pub enum LoopRefusal {
    /// Not possible in the loop's state.
    WrongState(LoopStatus),
    /// A field the step needs is missing.
    Missing(FieldError),
}

/// The whole change a step makes: the loop as it becomes, the history note, and whether the
/// rater is told (a real-name rater hears the department's answer).
#[derive(Clone, Debug)]
pub struct LoopStep {
    pub rectification: Rectification,
    pub note: String,
    pub tell_rater: bool,
}

fn missing(field: &'static str, zh: &'static str, en: &'static str) -> LoopRefusal {
    LoopRefusal::Missing(FieldError::new(field, "required", zh, en))
}

/// The state a step leads to, by the one table.
fn next_status(
    r: &Rectification,
    action: LoopAction,
    real_name: bool,
    input: &LoopInput,
) -> Option<LoopStatus> {
    use LoopAction as A;
    use LoopStatus as S;
    match (r.status, action) {
        (S::Assigned, A::Verify) => Some(S::Verified),
        (S::Verified, A::Rectify) => Some(if real_name { S::Rectified } else { S::Closed }),
        (S::Rectified, A::Revisit) => match input.satisfied? {
            true => Some(S::Closed),
            false if !r.reopened => Some(S::Assigned),
            false => Some(S::Closed),
        },
        (S::Assigned | S::Verified, A::Appeal) => Some(S::Appealed),
        (S::Appealed, A::DecideAppeal) => match (input.uphold?, r.appeal_from) {
            (true, _) => Some(S::Excluded),
            (false, Some(S::Verified)) => Some(S::Verified),
            (false, _) => Some(S::Assigned),
        },
        _ => None,
    }
}

/// Decides a step of the loop from what was read: the whole change, or why not. Pure.
pub fn decide(
    r: &Rectification,
    action: LoopAction,
    input: &LoopInput,
    facts: &LoopFacts,
) -> Result<LoopStep, LoopRefusal> {
    let Some(next) = next_status(r, action, facts.real_name, input) else {
        return Err(match (r.status, action) {
            (LoopStatus::Rectified, LoopAction::Revisit) => {
                missing("satisfied", "请回答是否满意", "Say whether the rater is satisfied")
            }
            (LoopStatus::Appealed, LoopAction::DecideAppeal) => {
                missing("uphold", "请选择申诉成立或不成立", "Say whether the appeal is upheld")
            }
            (status, _) => LoopRefusal::WrongState(status),
        });
    };
    let mut r = r.clone();
    let now = facts.now.clone();
    let note = match action {
        LoopAction::Verify => {
            let n = input
                .note
                .clone()
                .ok_or_else(|| missing("note", "请填写核实情况", "Write what the verification found"))?;
            r.verified_at = Some(now.clone());
            r.verify_note = Some(n.clone());
            n
        }
        LoopAction::Rectify => {
            let a = input.answer.clone().ok_or_else(|| {
                missing(
                    "answer",
                    "请填写整改情况和给评价人的答复",
                    "Write the rectification and the answer to the rater",
                )
            })?;
            r.answer = Some(a.clone());
            r.rectified_at = Some(now.clone());
            r.on_time =
                Some(NaiveDate::parse_from_str(&r.rectify_due, "%Y-%m-%d").is_ok_and(|d| facts.today <= d));
            a
        }
        LoopAction::Revisit => {
            let satisfied = input.satisfied.unwrap_or(false);
            r.revisited_at = Some(now.clone());
            r.satisfied = Some(satisfied);
            if next == LoopStatus::Assigned {
                // Reopened once: a fresh round with fresh deadlines.
                r.reopened = true;
                r.verify_due = facts.reopen_verify_due.to_string();
                r.rectify_due = facts.reopen_rectify_due.to_string();
            }
            format!(
                "{}{}",
                if satisfied { "回访：满意 / satisfied" } else { "回访：不满意 / not satisfied" },
                input.note.as_deref().map(|n| format!("；{n}")).unwrap_or_default()
            )
        }
        LoopAction::Appeal => {
            let reason = input.reason.clone().ok_or_else(|| {
                missing(
                    "reason",
                    "请写明申诉理由（恶意或误评的依据）",
                    "Say why the review is malicious or mistaken",
                )
            })?;
            r.appeal_from = Some(r.status);
            r.appeal_reason = Some(reason.clone());
            reason
        }
        LoopAction::DecideAppeal => {
            let uphold = input.uphold.unwrap_or(false);
            r.appeal_decision = Some(if uphold { "upheld" } else { "rejected" }.into());
            format!(
                "{}{}",
                if uphold {
                    "申诉成立，不计入统计 / appeal upheld"
                } else {
                    "申诉不成立 / appeal rejected"
                },
                input.note.as_deref().map(|n| format!("：{n}")).unwrap_or_default()
            )
        }
    };
    r.status = next;
    if next.is_final() {
        r.closed_at = Some(now);
    }
    let tell_rater = action == LoopAction::Rectify && facts.real_name;
    Ok(LoopStep { rectification: r, note, tell_rater })
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

/// What the figures need of one rating.
#[derive(Clone, Debug, Default)]
pub struct RatingFacts {
    pub score: i64,
    pub real_name: bool,
    pub excluded: bool,
    /// Bad reviews: rectified (answered) at all, and on time.
    pub rectified: bool,
    pub on_time: bool,
    pub revisited: bool,
}

/// Published figures for a group of ratings (rates as fractions, `None` with nothing to count).
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// Ratings counted (appeals upheld are left out).
    pub ratings: usize,
    pub good: usize,
    pub bad: usize,
    pub average: Option<f64>,
    /// 好评率: levels 3–5 of all counted.
    pub good_rate: Option<f64>,
    /// 差评率: levels 1–2 of all counted.
    pub bad_rate: Option<f64>,
    /// 整改率: bad reviews rectified.
    pub rectification_rate: Option<f64>,
    /// 回访率: real-name bad reviews revisited.
    pub revisit_rate: Option<f64>,
    /// Rectified within the deadline, of those rectified.
    pub on_time_rate: Option<f64>,
}

pub fn figures(items: &[RatingFacts]) -> Figures {
    let counted: Vec<&RatingFacts> = items.iter().filter(|r| !r.excluded).collect();
    let bad: Vec<&&RatingFacts> = counted.iter().filter(|r| is_bad(r.score)).collect();
    let real_bad: Vec<&&&RatingFacts> = bad.iter().filter(|r| r.real_name).collect();
    let rectified = bad.iter().filter(|r| r.rectified).count();
    let total: i64 = counted.iter().map(|r| r.score).sum();
    Figures {
        ratings: counted.len(),
        good: counted.len() - bad.len(),
        bad: bad.len(),
        average: (!counted.is_empty())
            .then(|| ((total as f64 / counted.len() as f64) * 100.0).round() / 100.0),
        good_rate: share(counted.len() - bad.len(), counted.len()),
        bad_rate: share(bad.len(), counted.len()),
        rectification_rate: share(rectified, bad.len()),
        revisit_rate: share(real_bad.iter().filter(|r| r.revisited).count(), real_bad.len()),
        on_time_rate: share(bad.iter().filter(|r| r.rectified && r.on_time).count(), rectified),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::json;

    #[test]
    fn indicators_by_code_name_or_list() {
        let m = parse_indicators(&json!({"办事效率": 5, "usability": 4}), 5).expect("ok");
        assert_eq!(m.get("efficiency"), Some(&5));
        assert_eq!(m.get("usability"), Some(&4));
        let m = parse_indicators(&json!(["服务态度"]), 2).expect("ok");
        assert_eq!(m.get("service_attitude"), Some(&2));
        assert_eq!(parse_indicators(&json!({"颜值": 5}), 5).expect_err("unknown").code, "unknown_indicator");
        assert_eq!(parse_indicators(&json!({"办事效率": 6}), 5).expect_err("range").code, "invalid_score");
        assert!(parse_indicators(&Value::Null, 5).expect("none").is_empty());
    }

    #[test]
    fn the_running_step_starts_at_the_review_the_revisit_or_the_verification() {
        let (reviewed, revisited, verified) =
            ("2026-12-01T02:00:00.000000Z", "2026-12-03T02:00:00.000000Z", "2026-12-04T02:00:00.000000Z");
        let step = |status, revisit, verify| {
            running_step(status, reviewed, revisit, verify, "2026-12-02", "2026-12-09")
        };
        let s = step(LoopStatus::Assigned, None, None).expect("verifying");
        assert_eq!((s.step, s.began, s.due), ("verify", reviewed, "2026-12-02"));
        let s = step(LoopStatus::Assigned, Some(revisited), None).expect("reopened");
        assert_eq!((s.step, s.began), ("verify", revisited));
        let s = step(LoopStatus::Verified, None, Some(verified)).expect("rectifying");
        assert_eq!((s.step, s.began, s.due), ("rectify", verified, "2026-12-09"));
        for done in [LoopStatus::Rectified, LoopStatus::Closed, LoopStatus::Appealed, LoopStatus::Excluded] {
            assert_eq!(step(done, None, Some(verified)), None, "{done:?}");
        }
        // Its light: green on the day it began, red after the end of its due day.
        let cal = crate::calendar::domain::Calendar::default();
        let s = step(LoopStatus::Verified, None, Some(verified)).expect("rectifying");
        let at = |t: &str| crate::platform::clock::parse_time(t).expect("time");
        use crate::calendar::deadline::Signal;
        assert_eq!(step_signal(&cal, &s, at(verified)), Some(Signal::Green));
        assert_eq!(step_signal(&cal, &s, at("2026-12-09T17:00:00.000000Z")), Some(Signal::Red));
    }

    #[test]
    fn channels() {
        assert_eq!(parse_channel(None, "web"), Ok("web"));
        assert_eq!(parse_channel(Some("window"), "web"), Ok("pad"));
        assert_eq!(parse_channel(Some("短信链接"), "web"), Ok("sms"));
        assert_eq!(parse_channel(Some("fax"), "web").expect_err("fax").field, "channel");
    }

    #[test]
    fn tokens_rate_one_case_until_they_expire() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let until = NaiveDate::from_ymd_opt(2026, 12, 4).expect("date");
        let t = rating_token(secret, "JN2026112900001", until);
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
        assert_eq!(check_token(secret, &t, today), Ok("JN2026112900001".into()));
        assert_eq!(
            check_token(secret, &t, NaiveDate::from_ymd_opt(2026, 12, 5).expect("date")),
            Err(TokenError::Expired)
        );
        assert_eq!(check_token(b"another secret", &t, today), Err(TokenError::Forged));
        let other = t.replace("00001", "00002");
        assert_eq!(check_token(secret, &other, today), Err(TokenError::Forged));
        let later = t.replace("20261204", "20271204");
        assert_eq!(check_token(secret, &later, today), Err(TokenError::Forged));
        assert_eq!(check_token(secret, "garbage", today), Err(TokenError::Malformed));
    }

    fn fresh(status: LoopStatus) -> Rectification {
        Rectification {
            rating_id: "r1".into(),
            department: "d".into(),
            status,
            appeal_from: None,
            verify_due: "2026-12-01".into(),
            rectify_due: "2026-12-07".into(),
            verified_at: None,
            verify_note: None,
            answer: None,
            rectified_at: None,
            on_time: None,
            revisited_at: None,
            satisfied: None,
            reopened: false,
            appeal_reason: None,
            appeal_decision: None,
            closed_at: None,
            version: 3,
            events: Vec::new(),
        }
    }

    fn facts(real_name: bool, today: (i32, u32, u32)) -> LoopFacts {
        let d = |(y, m, dd): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, dd).expect("date");
        LoopFacts {
            real_name,
            now: "2026-12-05T02:00:00Z".into(),
            today: d(today),
            reopen_verify_due: d((2026, 12, 8)),
            reopen_rectify_due: d((2026, 12, 14)),
        }
    }

    fn input() -> LoopInput {
        LoopInput {
            note: Some("查实".into()),
            answer: Some("已整改".into()),
            reason: Some("误评".into()),
            ..LoopInput::default()
        }
    }

    fn status_after(
        status: LoopStatus,
        action: LoopAction,
        real_name: bool,
        i: &LoopInput,
    ) -> Option<LoopStatus> {
        decide(&fresh(status), action, i, &facts(real_name, (2026, 12, 5)))
            .ok()
            .map(|s| s.rectification.status)
    }

    #[test]
    fn the_loop() {
        use LoopAction as A;
        use LoopStatus as S;
        let i = input();
        assert_eq!(status_after(S::Assigned, A::Verify, true, &i), Some(S::Verified));
        assert_eq!(status_after(S::Assigned, A::Rectify, true, &i), None);
        assert_eq!(status_after(S::Verified, A::Rectify, true, &i), Some(S::Rectified));
        // Anonymous: nobody to revisit.
        assert_eq!(status_after(S::Verified, A::Rectify, false, &i), Some(S::Closed));
        let yes = LoopInput { satisfied: Some(true), ..input() };
        let no = LoopInput { satisfied: Some(false), ..input() };
        assert_eq!(status_after(S::Rectified, A::Revisit, true, &yes), Some(S::Closed));
        assert_eq!(status_after(S::Verified, A::Appeal, true, &i), Some(S::Appealed));
        assert_eq!(status_after(S::Closed, A::Appeal, true, &i), None);
        assert_eq!(status_after(S::Excluded, A::Verify, true, &i), None);
        // Reopened once with fresh deadlines, then closed however the rater feels.
        let f = facts(true, (2026, 12, 5));
        let once = decide(&fresh(S::Rectified), A::Revisit, &no, &f).expect("reopens");
        assert_eq!(once.rectification.status, S::Assigned);
        assert!(once.rectification.reopened);
        assert_eq!(once.rectification.verify_due, "2026-12-08");
        assert_eq!(once.rectification.rectify_due, "2026-12-14");
        let again = Rectification { status: S::Rectified, ..once.rectification };
        let twice = decide(&again, A::Revisit, &no, &f).expect("closes");
        assert_eq!(twice.rectification.status, S::Closed);
        assert_eq!(twice.rectification.closed_at.as_deref(), Some("2026-12-05T02:00:00Z"));
    }

    #[test]
    fn appeals_return_where_they_came_from() {
        use LoopAction as A;
        use LoopStatus as S;
        let f = facts(true, (2026, 12, 5));
        let appealed = decide(&fresh(S::Verified), A::Appeal, &input(), &f).expect("appeal").rectification;
        assert_eq!(appealed.appeal_from, Some(S::Verified));
        let reject = LoopInput { uphold: Some(false), ..input() };
        let back = decide(&appealed, A::DecideAppeal, &reject, &f).expect("decided").rectification;
        assert_eq!(back.status, S::Verified);
        assert_eq!(back.closed_at, None);
        let uphold = LoopInput { uphold: Some(true), ..input() };
        let out = decide(&appealed, A::DecideAppeal, &uphold, &f).expect("decided").rectification;
        assert_eq!(out.status, S::Excluded);
        assert!(out.closed_at.is_some());
    }

    #[test]
    fn refusals_name_the_field_or_the_state() {
        use LoopAction as A;
        use LoopStatus as S;
        let f = facts(true, (2026, 12, 5));
        let empty = LoopInput::default();
        let field = |r: Result<LoopStep, LoopRefusal>| match r {
            Err(LoopRefusal::Missing(e)) => e.field,
            other => panic!("expected a missing field, got {other:?}"),
        };
        assert_eq!(field(decide(&fresh(S::Assigned), A::Verify, &empty, &f)), "note");
        assert_eq!(field(decide(&fresh(S::Verified), A::Rectify, &empty, &f)), "answer");
        assert_eq!(field(decide(&fresh(S::Rectified), A::Revisit, &empty, &f)), "satisfied");
        assert_eq!(field(decide(&fresh(S::Assigned), A::Appeal, &empty, &f)), "reason");
        assert_eq!(field(decide(&fresh(S::Appealed), A::DecideAppeal, &empty, &f)), "uphold");
        assert!(matches!(
            decide(&fresh(S::Closed), A::Rectify, &input(), &f),
            Err(LoopRefusal::WrongState(S::Closed))
        ));
    }

    #[test]
    fn rectifying_late_is_recorded_and_only_real_names_are_told() {
        use LoopAction as A;
        use LoopStatus as S;
        let on_time =
            decide(&fresh(S::Verified), A::Rectify, &input(), &facts(true, (2026, 12, 7))).expect("ok");
        assert_eq!(on_time.rectification.on_time, Some(true));
        assert!(on_time.tell_rater);
        let late =
            decide(&fresh(S::Verified), A::Rectify, &input(), &facts(false, (2026, 12, 8))).expect("ok");
        assert_eq!(late.rectification.on_time, Some(false));
        assert!(!late.tell_rater);
    }

    #[test]
    fn statuses_round_trip_through_their_text() {
        for s in LoopStatus::ALL {
            assert_eq!(LoopStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).expect("json"), serde_json::json!(s.as_str()));
        }
        for a in LoopAction::ALL {
            assert_eq!(LoopAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(LoopStatus::parse("open"), None);
    }

    #[test]
    fn figures_leave_out_upheld_appeals() {
        let f = figures(&[
            RatingFacts { score: 5, real_name: true, ..Default::default() },
            RatingFacts { score: 3, real_name: false, ..Default::default() },
            RatingFacts {
                score: 1,
                real_name: true,
                rectified: true,
                on_time: true,
                revisited: true,
                ..Default::default()
            },
            RatingFacts { score: 2, real_name: true, rectified: true, on_time: false, ..Default::default() },
            RatingFacts { score: 1, real_name: true, excluded: true, ..Default::default() },
        ]);
        assert_eq!((f.ratings, f.good, f.bad), (4, 2, 2));
        assert_eq!(f.good_rate, Some(0.5));
        assert_eq!(f.rectification_rate, Some(1.0));
        assert_eq!(f.revisit_rate, Some(0.5));
        assert_eq!(f.on_time_rate, Some(0.5));
        assert_eq!(f.average, Some(2.75));
        assert_eq!(figures(&[]).good_rate, None);
    }
}
