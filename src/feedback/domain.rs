//! The rules of 好差评, free of I/O: levels, channels, indicators, the one-tap link's token, the
//! bad-review loop's steps and the published figures.

use std::collections::BTreeMap;

use hmac::{KeyInit, Mac};
use serde::Serialize;
use serde_json::Value;

use crate::figures::share;
use crate::http::FieldError;

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
    let until = chrono::NaiveDate::parse_from_str(until, "%Y%m%d").map_err(|_| TokenError::Malformed)?;
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
pub fn next_status(
    status: &str,
    action: &str,
    real_name: bool,
    satisfied: Option<bool>,
    reopened: bool,
    uphold: Option<bool>,
    appeal_from: Option<&str>,
) -> Option<&'static str> {
    match (status, action) {
        ("assigned", "verify") => Some("verified"),
        ("verified", "rectify") => Some(if real_name { "rectified" } else { "closed" }),
        ("rectified", "revisit") => match satisfied {
            Some(true) => Some("closed"),
            Some(false) if !reopened => Some("assigned"),
            Some(false) => Some("closed"),
            None => None,
        },
        ("assigned" | "verified", "appeal") => Some("appealed"),
        ("appealed", "decide_appeal") => match (uphold, appeal_from) {
            (Some(true), _) => Some("excluded"),
            (Some(false), Some("verified")) => Some("verified"),
            (Some(false), _) => Some("assigned"),
            (None, _) => None,
        },
        _ => None,
    }
}

pub fn loop_label(status: &str) -> (&'static str, &'static str) {
    match status {
        "assigned" => ("待核实", "to verify"),
        "verified" => ("待整改", "to rectify"),
        "rectified" => ("待回访", "to revisit"),
        "closed" => ("已办结", "closed"),
        "appealed" => ("申诉中", "under appeal"),
        "excluded" => ("申诉成立（不计入统计）", "appeal upheld (excluded)"),
        _ => ("未知", "unknown"),
    }
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

    #[test]
    fn the_loop() {
        assert_eq!(next_status("assigned", "verify", true, None, false, None, None), Some("verified"));
        assert_eq!(next_status("assigned", "rectify", true, None, false, None, None), None);
        assert_eq!(next_status("verified", "rectify", true, None, false, None, None), Some("rectified"));
        // Anonymous: nobody to revisit.
        assert_eq!(next_status("verified", "rectify", false, None, false, None, None), Some("closed"));
        assert_eq!(next_status("rectified", "revisit", true, Some(true), false, None, None), Some("closed"));
        // Reopened once, then closed however the rater feels.
        assert_eq!(
            next_status("rectified", "revisit", true, Some(false), false, None, None),
            Some("assigned")
        );
        assert_eq!(next_status("rectified", "revisit", true, Some(false), true, None, None), Some("closed"));
        assert_eq!(next_status("verified", "appeal", true, None, false, None, None), Some("appealed"));
        assert_eq!(
            next_status("appealed", "decide_appeal", true, None, false, Some(true), Some("verified")),
            Some("excluded")
        );
        assert_eq!(
            next_status("appealed", "decide_appeal", true, None, false, Some(false), Some("verified")),
            Some("verified")
        );
        assert_eq!(next_status("closed", "appeal", true, None, false, None, None), None);
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
