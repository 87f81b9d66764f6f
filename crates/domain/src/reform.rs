//! Reform tasks (改革任务): the plan's tasks under the five integrations, each with a lead unit,
//! supporting units and milestones with dates. The lead unit's head reports progress on a
//! milestone (with evidence where the milestone asks for it); the supervision office accepts the
//! report or returns it with a comment. A milestone not accepted by its date is overdue, by the
//! same working-day lights as cases, and electronic monitoring raises it.
//!
//! Also the spreadsheet layout offices keep tasks in (one row per milestone, the task's columns
//! repeated or left blank on its later rows), read into tasks with every wrong cell named.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::domain::Calendar;
use crate::monitoring::Level;

/// The five integrations of the reform (SPEC), the areas tasks belong to.
pub const AREAS: [(&str, &str, &str); 5] = [
    ("process", "办事流程集成", "Process integration"),
    ("coordination", "部门改革集成", "Department coordination"),
    ("policy", "涉企政策集成", "Enterprise-policy integration"),
    ("resources", "数字资源集成", "Digital-resource integration"),
    ("service", "服务方式集成", "Service-mode integration"),
];

/// An area by its code or its Chinese name.
pub fn area(s: &str) -> Option<&'static str> {
    let s = s.trim();
    AREAS.iter().find(|(code, zh, _)| *code == s || *zh == s).map(|(code, _, _)| *code)
}

pub fn area_label(code: &str) -> (&'static str, &'static str) {
    AREAS.iter().find(|(c, _, _)| *c == code).map(|(_, zh, en)| (*zh, *en)).unwrap_or(("—", "—"))
}

/// Where a milestone stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MilestoneStatus {
    /// Nothing reported yet.
    Pending,
    /// Reported; waiting for the supervision office's review.
    Reported,
    /// Accepted: done.
    Accepted,
    /// Returned with a comment: to be reported again.
    Returned,
}

impl MilestoneStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MilestoneStatus::Pending => "pending",
            MilestoneStatus::Reported => "reported",
            MilestoneStatus::Accepted => "accepted",
            MilestoneStatus::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<MilestoneStatus> {
        [
            MilestoneStatus::Pending,
            MilestoneStatus::Reported,
            MilestoneStatus::Accepted,
            MilestoneStatus::Returned,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            MilestoneStatus::Pending => ("待报送", "Not reported"),
            MilestoneStatus::Reported => ("待审核", "Waiting for review"),
            MilestoneStatus::Accepted => ("已完成", "Accepted"),
            MilestoneStatus::Returned => ("已退回", "Returned"),
        }
    }

    /// Whether the lead unit may report now.
    pub fn may_report(self) -> bool {
        matches!(self, MilestoneStatus::Pending | MilestoneStatus::Returned)
    }
}

/// A milestone's light today: none once accepted; red past its date; yellow within
/// `warn_days` working days of it.
pub fn light(
    status: MilestoneStatus,
    due: NaiveDate,
    cal: &Calendar,
    today: NaiveDate,
    warn_days: u32,
) -> Option<Level> {
    if status == MilestoneStatus::Accepted {
        return None;
    }
    if today > due {
        return Some(Level::Red);
    }
    (cal.working_days_between(today, due) <= i64::from(warn_days)).then_some(Level::Yellow)
}

/// One piece of evidence with a progress report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A record on the platform (a path such as `/cases/JN…`) or a public web address.
    Link { href: String, label: Option<String> },
    /// An uploaded file, by its SM3 digest.
    File { hash: String, file_name: String },
}

/// Why a step was refused, naming the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub field: String,
    pub code: &'static str,
    pub zh: String,
    pub en: String,
}

fn refusal(
    field: impl Into<String>,
    code: &'static str,
    zh: impl Into<String>,
    en: impl Into<String>,
) -> Refusal {
    Refusal { field: field.into(), code, zh: zh.into(), en: en.into() }
}

/// Checks a link given as evidence: a platform path or an http(s) address, of sensible length.
pub fn check_link(field: &str, href: &str) -> Result<(), Refusal> {
    let ok = (href.starts_with('/') && !href.starts_with("//"))
        || href.starts_with("https://")
        || href.starts_with("http://");
    if !ok || href.len() > 500 || href.chars().any(char::is_whitespace) {
        return Err(refusal(
            field,
            "invalid_link",
            format!("佐证链接应为平台内的记录地址（如 /cases/…）或 http(s) 网址：{href}"),
            format!(
                "an evidence link must be a platform path (such as /cases/…) or an http(s) address: {href}"
            ),
        ));
    }
    Ok(())
}

/// A progress report as given, before it is recorded.
pub fn check_report(
    text: &str,
    evidence: &[Evidence],
    needs_evidence: bool,
    milestone: &str,
) -> Result<(), Vec<Refusal>> {
    let mut errors = Vec::new();
    if text.trim().is_empty() {
        errors.push(refusal("report", "required", "请填写进展情况", "the progress report is required"));
    } else if text.chars().count() > 4000 {
        errors.push(refusal(
            "report",
            "too_long",
            "进展情况最多 4000 字",
            "the report is at most 4000 characters",
        ));
    }
    if needs_evidence && evidence.is_empty() {
        errors.push(refusal(
            "evidence",
            "evidence_required",
            format!("节点“{milestone}”须附佐证材料（文件或平台记录链接）"),
            format!("milestone “{milestone}” needs evidence (a file or a link to a platform record)"),
        ));
    }
    for (i, e) in evidence.iter().enumerate() {
        if let Evidence::Link { href, .. } = e
            && let Err(r) = check_link(&format!("evidence[{i}]"), href)
        {
            errors.push(r);
        }
    }
    if evidence.len() > 20 {
        errors.push(refusal("evidence", "too_many", "佐证材料最多 20 项", "at most 20 pieces of evidence"));
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// The supervision office's review of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    Accept,
    Return,
}

/// The status a review leads to; returning needs a comment saying what is missing.
pub fn review(status: MilestoneStatus, decision: Review, comment: &str) -> Result<MilestoneStatus, Refusal> {
    if status != MilestoneStatus::Reported {
        return Err(refusal(
            "status",
            "not_reported",
            "该节点没有待审核的进展报告",
            "the milestone has no report waiting for review",
        ));
    }
    match decision {
        Review::Accept => Ok(MilestoneStatus::Accepted),
        Review::Return if comment.trim().is_empty() => Err(refusal(
            "comment",
            "required",
            "退回时请写明需要补充或改正的内容",
            "say what is missing or wrong when returning a report",
        )),
        Review::Return => Ok(MilestoneStatus::Returned),
    }
}

/// A task to record (from a spreadsheet or the API).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewTask {
    pub code: String,
    pub title: String,
    /// One of the five areas (code or Chinese name).
    pub area: String,
    pub description: String,
    pub lead: String,
    pub supporting: Vec<String>,
    pub milestones: Vec<NewMilestone>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewMilestone {
    pub title: String,
    #[schema(value_type = String)]
    pub due_on: NaiveDate,
    pub needs_evidence: bool,
}

/// The spreadsheet's columns, in order (the header row must name them so).
pub const COLUMNS: [(&str, &str); 9] = [
    ("任务编号", "code"),
    ("改革任务", "task"),
    ("所属领域", "area"),
    ("任务内容", "description"),
    ("牵头单位", "lead"),
    ("配合单位", "supporting"),
    ("节点任务", "milestone"),
    ("完成时限", "due"),
    ("须附佐证材料", "evidence"),
];

/// Reads the sheet's rows (the header first) into tasks. Departments are given by code or by
/// name (`departments`: code → name). Every wrong cell is named (row numbers as the sheet shows
/// them); a file with any is refused whole.
pub fn read_sheet(
    rows: &[Vec<String>],
    departments: &BTreeMap<String, String>,
    existing: &HashSet<String>,
) -> Result<Vec<NewTask>, Vec<Refusal>> {
    let mut errors = Vec::new();
    let Some(header) = rows.first() else {
        return Err(vec![refusal("file", "empty", "文件没有内容", "the file is empty")]);
    };
    for (i, (zh, en)) in COLUMNS.iter().enumerate() {
        let got = header.get(i).map(|s| s.trim()).unwrap_or("");
        if got != *zh && !got.eq_ignore_ascii_case(en) {
            errors.push(refusal(
                format!("header.{en}"),
                "wrong_header",
                format!("第 1 行第 {} 列应为“{zh}”，实为“{got}”", i + 1),
                format!("row 1, column {} must be “{zh}” ({en}), not “{got}”", i + 1),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let department = |cell: &str| -> Option<String> {
        let cell = cell.trim();
        departments
            .get_key_value(cell)
            .map(|(k, _)| k.clone())
            .or_else(|| departments.iter().find(|(_, name)| name.as_str() == cell).map(|(k, _)| k.clone()))
    };
    let mut tasks: Vec<NewTask> = Vec::new();
    for (n, row) in rows.iter().enumerate().skip(1) {
        let line = n + 1;
        let cell = |i: usize| row.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let bad = |col: usize, code: &'static str, zh: String, en: String| {
            refusal(
                format!("row{line}.{}", COLUMNS[col].1),
                code,
                format!("第 {line} 行“{}”：{zh}", COLUMNS[col].0),
                format!("row {line}, {}: {en}", COLUMNS[col].1),
            )
        };
        let code = cell(0);
        // A row whose task code is blank continues the task above (merged cells).
        let continues = code.is_empty() || tasks.last().is_some_and(|t| t.code == code);
        if !continues {
            if existing.contains(&code) || tasks.iter().any(|t| t.code == code) {
                errors.push(bad(
                    0,
                    "duplicate",
                    format!("任务编号 {code} 已存在"),
                    format!("task {code} already exists"),
                ));
            }
            if code.chars().count() > 40 {
                errors.push(bad(0, "too_long", "最多 40 个字符".into(), "at most 40 characters".into()));
            }
            let title = cell(1);
            if title.is_empty() {
                errors.push(bad(1, "required", "不能为空".into(), "required".into()));
            }
            let area_code = match area(&cell(2)) {
                Some(a) => a.to_string(),
                None => {
                    errors.push(bad(
                        2,
                        "unknown_area",
                        format!("应为五个集成之一（{}）", AREAS.map(|a| a.1).join("、")),
                        "must be one of the five integrations".into(),
                    ));
                    String::new()
                }
            };
            let lead = match department(&cell(4)) {
                Some(d) => d,
                None => {
                    errors.push(bad(
                        4,
                        "unknown_department",
                        format!("没有名为“{}”的单位", cell(4)),
                        format!("no department “{}”", cell(4)),
                    ));
                    String::new()
                }
            };
            let mut supporting = Vec::new();
            for part in cell(5).split(['、', ',', '，', ';', '；']).map(str::trim).filter(|p| !p.is_empty())
            {
                match department(part) {
                    Some(d) if d != lead && !supporting.contains(&d) => supporting.push(d),
                    Some(_) => {}
                    None => errors.push(bad(
                        5,
                        "unknown_department",
                        format!("没有名为“{part}”的单位"),
                        format!("no department “{part}”"),
                    )),
                }
            }
            tasks.push(NewTask {
                code,
                title,
                area: area_code,
                description: cell(3),
                lead,
                supporting,
                milestones: Vec::new(),
            });
        }
        let Some(task) = tasks.last_mut() else {
            errors.push(bad(
                0,
                "required",
                "第一行任务须填写任务编号".into(),
                "the first task needs its code".into(),
            ));
            continue;
        };
        let title = cell(6);
        if title.is_empty() {
            errors.push(bad(6, "required", "不能为空".into(), "required".into()));
        }
        let due = match parse_date(&cell(7)) {
            Some(d) => d,
            None => {
                errors.push(bad(
                    7,
                    "invalid_date",
                    format!("应为日期（如 2026-12-31），实为“{}”", cell(7)),
                    format!("must be a date such as 2026-12-31, not “{}”", cell(7)),
                ));
                NaiveDate::MIN
            }
        };
        let needs_evidence = match cell(8).as_str() {
            "是" | "Y" | "y" | "yes" | "true" | "1" => true,
            "否" | "N" | "n" | "no" | "false" | "0" | "" => false,
            other => {
                errors.push(bad(
                    8,
                    "invalid_flag",
                    format!("应为“是”或“否”，实为“{other}”"),
                    format!("must be 是 or 否, not “{other}”"),
                ));
                false
            }
        };
        task.milestones.push(NewMilestone { title, due_on: due, needs_evidence });
    }
    if tasks.is_empty() && errors.is_empty() {
        errors.push(refusal("file", "empty", "文件中没有任务", "the file holds no tasks"));
    }
    if errors.is_empty() { Ok(tasks) } else { Err(errors) }
}

/// A date as offices type it: 2026-12-31, 2026/12/31, 2026.12.31 or 2026年12月31日.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let normal: String = s.replace(['/', '.', '年', '月'], "-").replace('日', "");
    NaiveDate::parse_from_str(&normal, "%Y-%m-%d")
        .ok()
        // A spreadsheet's date cell reads as `2026-12-31 00:00:00` or `2026-12-31T00:00:00`.
        .or_else(|| normal.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()))
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

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn depts() -> BTreeMap<String, String> {
        [("JN-SPJ", "济南市行政审批服务局"), ("JN-DSJ", "济南市大数据局"), ("JN-SCJ", "济南市市场监督管理局")]
            .map(|(c, n)| (c.to_string(), n.to_string()))
            .into()
    }

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    fn header() -> Vec<String> {
        COLUMNS.iter().map(|c| c.0.to_string()).collect()
    }

    #[test]
    fn lights_by_working_days() {
        // Friday 2026-12-11 is due; Thursday is within one working day, the Monday before is not.
        let due = day("2026-12-11");
        assert_eq!(light(MilestoneStatus::Pending, due, &cal(), day("2026-12-07"), 1), None);
        assert_eq!(light(MilestoneStatus::Reported, due, &cal(), day("2026-12-10"), 1), Some(Level::Yellow));
        assert_eq!(light(MilestoneStatus::Returned, due, &cal(), day("2026-12-12"), 1), Some(Level::Red));
        assert_eq!(light(MilestoneStatus::Accepted, due, &cal(), day("2026-12-30"), 1), None);
    }

    #[test]
    fn reports_need_text_and_evidence_where_asked() {
        let link = Evidence::Link { href: "/cases/JN20261201000001".into(), label: None };
        assert!(check_report("已印发配套方案", std::slice::from_ref(&link), true, "配套方案").is_ok());
        let e = check_report("已印发", &[], true, "配套方案").unwrap_err();
        assert_eq!((e[0].field.as_str(), e[0].code), ("evidence", "evidence_required"));
        assert!(check_report("已印发", &[], false, "配套方案").is_ok());
        let e = check_report(
            " ",
            &[Evidence::Link { href: "javascript:alert(1)".into(), label: None }],
            false,
            "x",
        )
        .unwrap_err();
        assert_eq!(e.iter().map(|r| r.field.as_str()).collect::<Vec<_>>(), ["report", "evidence[0]"]);
    }

    #[test]
    fn reviews_accept_or_return_with_a_comment() {
        assert_eq!(review(MilestoneStatus::Reported, Review::Accept, ""), Ok(MilestoneStatus::Accepted));
        assert_eq!(
            review(MilestoneStatus::Reported, Review::Return, "缺少印发文件").unwrap(),
            MilestoneStatus::Returned
        );
        assert_eq!(review(MilestoneStatus::Reported, Review::Return, " ").unwrap_err().field, "comment");
        assert_eq!(review(MilestoneStatus::Accepted, Review::Accept, "").unwrap_err().code, "not_reported");
        assert!(MilestoneStatus::Returned.may_report() && !MilestoneStatus::Reported.may_report());
    }

    #[test]
    fn the_sheet_reads_into_tasks_with_merged_rows() {
        let rows = vec![
            header(),
            row(&[
                "RT-01",
                "一件事一次办",
                "办事流程集成",
                "推出高频一件事",
                "济南市行政审批服务局",
                "JN-DSJ、济南市市场监督管理局",
                "制定配套方案",
                "2026/09/30",
                "是",
            ]),
            row(&["", "", "", "", "", "", "取得明显突破", "2026年12月31日", "否"]),
            row(&["RT-02", "数据按需共享", "resources", "", "JN-DSJ", "", "形成完整机制", "2027-06-30", ""]),
        ];
        let tasks = read_sheet(&rows, &depts(), &HashSet::new()).unwrap();
        assert_eq!(tasks.len(), 2);
        assert_eq!((tasks[0].area.as_str(), tasks[0].lead.as_str()), ("process", "JN-SPJ"));
        assert_eq!(tasks[0].supporting, ["JN-DSJ", "JN-SCJ"]);
        assert_eq!(tasks[0].milestones.len(), 2);
        assert_eq!(tasks[0].milestones[1].due_on, day("2026-12-31"));
        assert!(tasks[0].milestones[0].needs_evidence && !tasks[0].milestones[1].needs_evidence);
        assert_eq!(tasks[1].milestones[0].due_on, day("2027-06-30"));
    }

    #[test]
    fn every_wrong_cell_is_named() {
        let rows = vec![header(), row(&["RT-01", "", "改革", "", "某局", "无此局", "", "下月", "也许"])];
        let existing: HashSet<String> = HashSet::new();
        let errors = read_sheet(&rows, &depts(), &existing).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "row2.task",
                "row2.area",
                "row2.lead",
                "row2.supporting",
                "row2.milestone",
                "row2.due",
                "row2.evidence"
            ]
        );
        let existing: HashSet<String> = ["RT-01".to_string()].into();
        let ok_row = row(&["RT-01", "任务", "process", "", "JN-SPJ", "", "节点", "2026-12-31", "否"]);
        assert_eq!(read_sheet(&[header(), ok_row], &depts(), &existing).unwrap_err()[0].code, "duplicate");
        let mut wrong = header();
        wrong[7] = "时限".into();
        assert_eq!(read_sheet(&[wrong], &depts(), &existing).unwrap_err()[0].field, "header.due");
    }
}
