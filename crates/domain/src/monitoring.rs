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
use crate::fields::FieldError;
use crate::identity::authz::Role;

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
    /// Without one officer, the department's staff in this role are told (a post-check's
    /// reviewers, a data request's data officers, a complaint's head).
    pub fallback_role: Option<Role>,
    pub due: Option<NaiveDate>,
    /// Its light now: none while green or not running.
    pub level: Option<Level>,
}

/// The kinds of things the sweep watches, read from a subject's prefix (`case:`, `milestone:` …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A case's deadline (acceptance or decision).
    Case,
    /// A 补正 the applicant has not answered: the officer may close the case once it is past.
    Supplement,
    /// A 告知承诺 approval's check on the spot.
    PostCheck,
    /// A complaint's answer or resolution.
    Complaint,
    /// A bad review's verification or rectification (差评整改).
    Rectification,
    /// Another department's request for a dataset.
    DataRequest,
    /// A reform task's milestone.
    Milestone,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Case,
        Kind::Supplement,
        Kind::PostCheck,
        Kind::Complaint,
        Kind::Rectification,
        Kind::DataRequest,
        Kind::Milestone,
    ];

    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Case => "case",
            Kind::Supplement => "supplement",
            Kind::PostCheck => "post_check",
            Kind::Complaint => "complaint",
            Kind::Rectification => "rectification",
            Kind::DataRequest => "data_request",
            Kind::Milestone => "milestone",
        }
    }

    pub fn of(subject: &str) -> Option<Kind> {
        let (prefix, _) = subject.split_once(':')?;
        Kind::ALL.into_iter().find(|k| k.prefix() == prefix)
    }

    /// What it is called in a message or on a page.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Kind::Case => ("办件", "case"),
            Kind::Supplement => ("补正", "supplement"),
            Kind::PostCheck => ("事后核查", "post-approval check"),
            Kind::Complaint => ("诉求", "complaint"),
            Kind::Rectification => ("差评整改", "bad-review rectification"),
            Kind::DataRequest => ("数据申请", "data request"),
            Kind::Milestone => ("改革任务节点", "milestone"),
        }
    }
}

/// The case a subject belongs to, if it is one's (a case's deadline, its supplement, its
/// post-check): messages about it link to the case.
pub fn case_of(subject: &str) -> Option<&str> {
    let (prefix, rest) = subject.split_once(':')?;
    match prefix {
        "case" => Some(rest),
        "supplement" | "post_check" => rest.split(['@', '/']).next(),
        _ => None,
    }
}

/// Where a subject's record is read: the page a message or an order links to.
pub fn href(subject: &str) -> Option<String> {
    let rest = subject.split_once(':')?.1;
    Some(match Kind::of(subject)? {
        Kind::Case | Kind::Supplement | Kind::PostCheck => format!("/cases/{}", case_of(subject)?),
        Kind::Complaint => format!("/complaints/desk#c-{}", rest.split('/').next()?),
        Kind::Rectification => format!("/ratings/desk#r-{}", rest.split('/').next()?),
        Kind::DataRequest => format!("/data/requests#req-{rest}"),
        Kind::Milestone => {
            let (task, seq) = rest.split_once('#')?;
            format!("/reform-tasks/{task}#m{seq}")
        }
    })
}

/// One thing to raise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Raise {
    pub subject: String,
    pub level: Level,
    pub department: String,
    pub title: String,
    pub officer: Option<String>,
    pub fallback_role: Option<Role>,
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
                fallback_role: w.fallback_role,
                due: w.due,
                rectify_by: (level == Level::Red).then(|| cal.add_working_days(today, RECTIFY_DAYS)),
            })
        })
        .collect()
}

/// A supervision order the supervision office issues by hand (for what no deadline watches:
/// a department's figure, a matter raised in a meeting), checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManualOrder {
    pub department: String,
    pub title: String,
    /// A platform record it is about (`case:…`, `complaint:…`), if any.
    pub subject: String,
    pub rectify_by: NaiveDate,
}

/// Checks a supervision order typed by the office: a known department, a title, a date to put
/// it right by from tomorrow on, a subject (if given) naming a kind the platform knows. Every
/// wrong field is named.
pub fn check_manual_order(
    department: &str,
    known_department: bool,
    title: &str,
    subject: &str,
    rectify_by: &str,
    today: NaiveDate,
) -> Result<ManualOrder, Vec<FieldError>> {
    let mut errors = Vec::new();
    let department = department.trim();
    if department.is_empty() {
        errors.push(FieldError::required("department", "责任部门", "The department"));
    } else if !known_department {
        errors.push(FieldError::new(
            "department",
            "unknown_department",
            format!("没有编码为 {department} 的部门"),
            format!("there is no department {department}"),
        ));
    }
    let title = title.trim();
    if title.is_empty() {
        errors.push(FieldError::required("title", "督办事项", "What is to be put right"));
    } else if title.chars().count() > 500 {
        errors.push(FieldError::new(
            "title",
            "too_long",
            "督办事项最多 500 字",
            "the title is at most 500 characters",
        ));
    }
    let subject = subject.trim();
    if !subject.is_empty() && (Kind::of(subject).is_none() || subject.len() > 200) {
        errors.push(FieldError::new(
            "subject",
            "unknown_subject",
            "关联记录应形如 case:办件编号 或 complaint:诉求编号",
            "the record should read like case:NUMBER or complaint:ID",
        ));
    }
    let rectify_by = match FieldError::parse_date("rectify_by", rectify_by) {
        Ok(d) if d <= today => {
            errors.push(FieldError::new(
                "rectify_by",
                "not_after_today",
                "整改期限应晚于今天",
                "the date to put it right by must be after today",
            ));
            None
        }
        Ok(d) => Some(d),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    match rectify_by {
        Some(rectify_by) if errors.is_empty() => Ok(ManualOrder {
            department: department.to_string(),
            title: title.to_string(),
            subject: subject.to_string(),
            rectify_by,
        }),
        _ => Err(errors),
    }
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
            fallback_role: None,
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
    fn subjects_name_their_kind_case_and_page() {
        assert_eq!(Kind::of("case:JN20261207000001"), Some(Kind::Case));
        assert_eq!(Kind::of("supplement:JN20261207000001@2026-12-01"), Some(Kind::Supplement));
        assert_eq!(Kind::of("parcel:1"), None);
        assert_eq!(case_of("supplement:JN20261207000001@2026-12-01"), Some("JN20261207000001"));
        assert_eq!(case_of("post_check:JN20261207000002/abc"), Some("JN20261207000002"));
        assert_eq!(case_of("complaint:C1/respond/2026-12-08"), None);
        assert_eq!(href("post_check:JN20261207000002/abc").as_deref(), Some("/cases/JN20261207000002"));
        assert_eq!(href("complaint:C1/resolve/2026-12-14").as_deref(), Some("/complaints/desk#c-C1"));
        assert_eq!(href("milestone:RT-01#2").as_deref(), Some("/reform-tasks/RT-01#m2"));
        assert_eq!(href("data_request:R9").as_deref(), Some("/data/requests#req-R9"));
        assert_eq!(href("nothing"), None);
    }

    #[test]
    fn a_typed_order_names_each_wrong_field() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let ok = check_manual_order(" JN-SPJ ", true, " 按时办结率连续两月下降 ", "", "2026-12-14", today)
            .unwrap();
        assert_eq!(
            (ok.department.as_str(), ok.title.as_str(), ok.subject.as_str()),
            ("JN-SPJ", "按时办结率连续两月下降", "")
        );
        let fields = |r: Result<ManualOrder, Vec<FieldError>>| {
            r.unwrap_err().into_iter().map(|e| e.field).collect::<Vec<_>>()
        };
        assert_eq!(
            fields(check_manual_order("", false, "", "parcel:1", "2026-12-07", today)),
            ["department", "title", "subject", "rectify_by"]
        );
        assert_eq!(
            fields(check_manual_order("NOPE", false, "x", "case:JN1", "12/14", today)),
            ["department", "rectify_by"]
        );
    }

    #[test]
    fn order_numbers_read_as_offices_write_them() {
        assert_eq!(order_number(2026, 12), "济政务督〔2026〕12号");
        assert_eq!(Level::parse("red"), Some(Level::Red));
        assert_eq!(Level::parse("amber"), None);
    }
}
