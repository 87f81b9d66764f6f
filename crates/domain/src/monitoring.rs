//! Electronic monitoring (电子监察): when something the platform watches turns yellow (预警) or
//! red (超期), it is raised once — a message to the officer responsible and, when red, a
//! supervision order (督办单) to the department's head with a date to put it right by, which the
//! supervision office sees. The sweep that finds them is idempotent: what was raised is never
//! raised again, whatever how many times or processes run it.
//!
//! Pure: the sweep reads what it watches and what was raised; [`to_raise`] says what is new.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::domain::Calendar;

/// How late something is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 预警: little time left.
    Yellow,
    /// 超期: past its due date.
    Red,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Yellow => "yellow",
            Level::Red => "red",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "yellow" => Some(Level::Yellow),
            "red" => Some(Level::Red),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Yellow => "预警",
            Level::Red => "超期",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Level::Yellow => "Due soon",
            Level::Red => "Overdue",
        }
    }
}

/// Working days a department has to put an overdue matter right once ordered to.
pub const RECTIFY_DAYS: u32 = 3;

/// Something watched, as the sweep found it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watched {
    /// What it is, e.g. `case:JN20261207000001`.
    pub subject: String,
    pub department: String,
    pub title: String,
    /// The officer answering for it (who accepted the case), if known.
    pub officer: Option<String>,
    pub due: Option<NaiveDate>,
    /// Its light now: none while green or not running.
    pub level: Option<Level>,
}

/// One thing to raise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Raise {
    pub subject: String,
    pub level: Level,
    pub department: String,
    pub title: String,
    pub officer: Option<String>,
    pub due: Option<NaiveDate>,
    /// Red: the supervision order's date to put it right by.
    pub rectify_by: Option<NaiveDate>,
}

/// What is new to raise: each watched thing at its level now, unless raised at that level
/// before (a thing that went straight to red is raised red only; yellow then red is raised
/// twice, once each).
pub fn to_raise(
    watched: &[Watched],
    raised: &HashSet<(String, Level)>,
    cal: &Calendar,
    today: NaiveDate,
) -> Vec<Raise> {
    watched
        .iter()
        .filter_map(|w| {
            let level = w.level?;
            if raised.contains(&(w.subject.clone(), level)) {
                return None;
            }
            Some(Raise {
                subject: w.subject.clone(),
                level,
                department: w.department.clone(),
                title: w.title.clone(),
                officer: w.officer.clone(),
                due: w.due,
                rectify_by: (level == Level::Red).then(|| cal.add_working_days(today, RECTIFY_DAYS)),
            })
        })
        .collect()
}

/// A supervision order's number as offices write it: 济政务督〔2026〕12号.
pub fn order_number(year: i32, sequence: i64) -> String {
    format!("济政务督〔{year}〕{sequence}号")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::calendar::domain::parse_holidays_file;

    fn cal() -> Calendar {
        Calendar::new(parse_holidays_file(include_str!("../../../reference/holidays_cn.json")).unwrap())
            .unwrap()
    }

    fn watched(subject: &str, level: Option<Level>) -> Watched {
        Watched {
            subject: subject.into(),
            department: "JN-SPJ".into(),
            title: "食品经营许可".into(),
            officer: Some("u1".into()),
            due: None,
            level,
        }
    }

    #[test]
    fn each_level_is_raised_once_and_red_carries_an_order() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let all = [
            watched("case:A", Some(Level::Yellow)),
            watched("case:B", Some(Level::Red)),
            watched("case:C", None),
        ];
        let first = to_raise(&all, &HashSet::new(), &cal(), today);
        assert_eq!(first.len(), 2, "green is not raised");
        assert_eq!((first[0].level, first[0].rectify_by), (Level::Yellow, None));
        // Red: put right within three working days (Mon 12-07 → Thu 12-10).
        assert_eq!(first[1].rectify_by, NaiveDate::from_ymd_opt(2026, 12, 10));
        let raised: HashSet<(String, Level)> = first.iter().map(|r| (r.subject.clone(), r.level)).collect();
        assert!(to_raise(&all, &raised, &cal(), today).is_empty(), "a second sweep raises nothing");
        // A turns red later: raised again, at the new level, once.
        let later = [watched("case:A", Some(Level::Red))];
        let again = to_raise(&later, &raised, &cal(), today);
        assert_eq!((again.len(), again[0].level), (1, Level::Red));
    }

    #[test]
    fn order_numbers_read_as_offices_write_them() {
        assert_eq!(order_number(2026, 12), "济政务督〔2026〕12号");
        assert_eq!(Level::parse("red"), Some(Level::Red));
        assert_eq!(Level::parse("amber"), None);
    }
}
