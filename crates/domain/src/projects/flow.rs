//! The four stages, their clocks and which stage may be applied for next.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::deadline::{Deadline, Signal};
use crate::calendar::domain::Calendar;
use crate::cases::domain::CaseState;
use crate::fields::FieldError;

/// The shipped flows and joint reviews (`reference/projects.json`).
pub const PROJECTS_JSON: &str = include_str!("../../../../reference/projects.json");

#[derive(Clone, Debug, Deserialize)]
pub struct ProjectFlows {
    pub flows: Vec<Flow>,
    pub joint_reviews: Vec<JointReview>,
}

/// A kind of project and its stages, in order.
#[derive(Clone, Debug, Deserialize)]
pub struct Flow {
    pub code: String,
    pub name: String,
    pub name_en: String,
    /// The whole approval's limit in working days (≤ 120 nationally).
    pub total_limit_days: u32,
    pub stages: Vec<Stage>,
}

/// One stage: applied for as the bundle `bundle`, within `limit_days` working days.
#[derive(Clone, Debug, Deserialize)]
pub struct Stage {
    pub order: u8,
    pub bundle: String,
    pub name: String,
    pub name_en: String,
    pub limit_days: u32,
}

/// A joint review: the case of `item` is decided by its department only after each member
/// department has given its opinion on its own aspect.
#[derive(Clone, Debug, Deserialize)]
pub struct JointReview {
    pub item: String,
    pub name: String,
    pub name_en: String,
    pub members: Vec<JointMember>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct JointMember {
    pub department: String,
    pub aspect: String,
    pub aspect_en: String,
}

impl ProjectFlows {
    /// Parses and checks a flows file: stages numbered 1, 2, … in order, each with a limit, and
    /// the stages' limits together within the whole project's.
    pub fn parse(text: &str) -> Result<ProjectFlows, String> {
        let flows: ProjectFlows = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for f in &flows.flows {
            if f.stages.is_empty() {
                return Err(format!("flow {} has no stages", f.code));
            }
            for (i, s) in f.stages.iter().enumerate() {
                if usize::from(s.order) != i + 1 || s.limit_days == 0 {
                    return Err(format!(
                        "flow {}: stage {} is out of order or has no limit",
                        f.code, s.bundle
                    ));
                }
            }
            let sum: u32 = f.stages.iter().map(|s| s.limit_days).sum();
            if sum > f.total_limit_days {
                return Err(format!(
                    "flow {}: the stages' limits ({sum}) exceed the project's ({})",
                    f.code, f.total_limit_days
                ));
            }
        }
        for j in &flows.joint_reviews {
            if j.members.is_empty() {
                return Err(format!("joint review of {} has no members", j.item));
            }
        }
        Ok(flows)
    }

    pub fn flow(&self, code: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.code == code)
    }

    /// The flow and stage that bundle `code` is, if it is a project stage.
    pub fn stage_of_bundle(&self, code: &str) -> Option<(&Flow, &Stage)> {
        self.flows.iter().find_map(|f| f.stages.iter().find(|s| s.bundle == code).map(|s| (f, s)))
    }

    /// Whether bundle `code` is a project's stage (applied for from the project, not on its own).
    pub fn is_stage(&self, code: &str) -> bool {
        self.stage_of_bundle(code).is_some()
    }

    /// The joint review of item `code`, if its cases are joint reviews.
    pub fn joint(&self, item: &str) -> Option<&JointReview> {
        self.joint_reviews.iter().find(|j| j.item == item)
    }
}

/// The shipped flows. The file is compiled in and a test parses it, so a broken file fails the
/// build's tests; should it still fail here, no flow is offered rather than the server panicking.
pub fn flows() -> &'static ProjectFlows {
    static FLOWS: LazyLock<ProjectFlows> = LazyLock::new(|| {
        ProjectFlows::parse(PROJECTS_JSON)
            .unwrap_or(ProjectFlows { flows: Vec::new(), joint_reviews: Vec::new() })
    });
    &FLOWS
}

/// The national project code's form (项目代码): year, the city's area code, the industry (48:
/// building construction), the kind (03: filed, 备案类) and a sequence.
pub fn project_code(year: i32, sequence: u32) -> String {
    format!("{year}-370100-48-03-{sequence:06}")
}

/// A project as its owner registers it.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct NewProject {
    #[serde(default)]
    pub flow: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub district: String,
    #[serde(default)]
    pub location: String,
    /// 建筑面积, square metres.
    pub floor_area_m2: Option<f64>,
    /// 总投资, in 万元 (ten thousand yuan).
    pub investment_wan: Option<f64>,
    #[serde(default)]
    pub enterprise: String,
}

impl NewProject {
    /// The fields as given, trimmed; each wrong field named (`districts`: the city's districts).
    pub fn validate(&mut self, districts: &[&str]) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for s in
            [&mut self.flow, &mut self.name, &mut self.district, &mut self.location, &mut self.enterprise]
        {
            *s = s.trim().to_string();
        }
        if self.flow.is_empty() {
            self.flow = "JN-GCXM".into();
        }
        if flows().flow(&self.flow).is_none() {
            errors.push(FieldError::new(
                "flow",
                "unknown_flow",
                format!("项目类型“{}”不存在", self.flow),
                format!("Unknown project type {}", self.flow),
            ));
        }
        let text =
            |errors: &mut Vec<FieldError>, field: &str, value: &str, zh: &str, en: &str, max: usize| {
                if value.is_empty() {
                    errors.push(FieldError::required(field, zh, en));
                } else if value.chars().count() > max {
                    errors.push(FieldError::new(
                        field,
                        "too_long",
                        format!("{zh}不能超过{max}个字"),
                        format!("{en} is at most {max} characters"),
                    ));
                }
            };
        text(&mut errors, "name", &self.name, "项目名称", "The project name", 100);
        text(&mut errors, "location", &self.location, "建设地点", "The site address", 200);
        if self.district.is_empty() {
            errors.push(FieldError::required("district", "所在区县", "The district"));
        } else if !districts.contains(&self.district.as_str()) {
            errors.push(FieldError::new(
                "district",
                "unknown_district",
                format!("“{}”不是本市的区县", self.district),
                format!("{} is not a district of the city", self.district),
            ));
        }
        let positive =
            |errors: &mut Vec<FieldError>, field: &str, v: Option<f64>, zh: &str, en: &str, max: f64| match v
            {
                None => errors.push(FieldError::required(field, zh, en)),
                Some(v) if !v.is_finite() || v <= 0.0 || v > max => errors.push(FieldError::new(
                    field,
                    "out_of_range",
                    format!("{zh}须大于0且不超过{max}"),
                    format!("{en} must be above 0 and at most {max}"),
                )),
                Some(_) => {}
            };
        positive(
            &mut errors,
            "floor_area_m2",
            self.floor_area_m2,
            "建筑面积（平方米）",
            "The floor area (m²)",
            10_000_000.0,
        );
        positive(
            &mut errors,
            "investment_wan",
            self.investment_wan,
            "总投资（万元）",
            "The investment (10k yuan)",
            100_000_000.0,
        );
        if self.enterprise.is_empty() {
            errors.push(FieldError::required("enterprise", "建设单位", "The enterprise building it"));
        }
        errors
    }
}

/// One stage application of a project as the project's page reads it.
#[derive(Clone, Debug)]
pub struct StageCase {
    pub stage: u8,
    pub number: String,
    /// The stage bundle's state.
    pub state: CaseState,
    /// The day it was submitted (Beijing).
    pub submitted: NaiveDate,
    /// The day it finished (Beijing), once it has.
    pub finished: Option<NaiveDate>,
    /// Whether every part was approved (meaningful once finished).
    pub all_approved: bool,
}

impl StageCase {
    fn is_finished(&self) -> bool {
        self.finished.is_some()
            && (self.state.is_final() || matches!(self.state, CaseState::Closed | CaseState::Rejected))
    }

    fn passed(&self) -> bool {
        self.is_finished()
            && matches!(self.state, CaseState::Closed | CaseState::Delivered)
            && self.all_approved
    }
}

/// Where a stage stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    /// The stage before it is not passed yet.
    Locked,
    /// It may be applied for now.
    Open,
    /// Its application is being handled.
    InProgress,
    /// Every part approved: the next stage opens.
    Passed,
    /// Finished with a part refused or withdrawn: it may be applied for again.
    Failed,
}

impl StageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StageStatus::Locked => "locked",
            StageStatus::Open => "open",
            StageStatus::InProgress => "in_progress",
            StageStatus::Passed => "passed",
            StageStatus::Failed => "failed",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            StageStatus::Locked => "未开始（待上一阶段完成）",
            StageStatus::Open => "可申报",
            StageStatus::InProgress => "办理中",
            StageStatus::Passed => "已完成",
            StageStatus::Failed => "未通过，可重新申报",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            StageStatus::Locked => "Not started (waits for the stage before)",
            StageStatus::Open => "Open for application",
            StageStatus::InProgress => "In progress",
            StageStatus::Passed => "Completed",
            StageStatus::Failed => "Not passed; may be applied for again",
        }
    }

    /// Whether the stage may be applied for now.
    pub fn may_apply(self) -> bool {
        matches!(self, StageStatus::Open | StageStatus::Failed)
    }
}

/// One stage of a project now.
#[derive(Clone, Debug)]
pub struct StageProgress {
    pub order: u8,
    pub bundle: String,
    pub name: String,
    pub name_en: String,
    pub limit_days: u32,
    pub status: StageStatus,
    /// The stage's latest application.
    pub case_number: Option<String>,
    /// Working days used: from submission to the end (or to today while it runs).
    pub used_days: Option<i64>,
    /// The day the stage is due while it runs.
    pub due: Option<NaiveDate>,
    /// None before it starts.
    pub light: Option<Signal>,
}

/// A whole project now: each stage and the whole clock.
#[derive(Clone, Debug)]
pub struct ProjectClock {
    pub stages: Vec<StageProgress>,
    /// Working days used by the stages' applications together (the time between stages is the
    /// builder's own and does not count).
    pub used_days: i64,
    pub total_limit_days: u32,
    pub light: Option<Signal>,
    /// The stage being handled, or the one to apply for next; None once every stage passed.
    pub current: Option<u8>,
    pub complete: bool,
}

impl ProjectClock {
    pub fn stage(&self, order: u8) -> Option<&StageProgress> {
        self.stages.iter().find(|s| s.order == order)
    }
}

/// The warning window of a limit of `given` working days: at most `warn_days`, at most its last
/// quarter (the platform's one deadline rule, in whole days).
fn signal_of_days(used: i64, given: u32, running: bool, warn_days: u32) -> Signal {
    let given = i64::from(given);
    let left = given - used;
    if left < 0 {
        return Signal::Red;
    }
    let window = i64::from(warn_days).min(given / 4);
    if running && left < given && left <= window { Signal::Yellow } else { Signal::Green }
}

/// The project's stages and clocks from its stage applications (`cases`, any order; a stage
/// applied for again keeps its latest application).
pub fn progress(
    flow: &Flow,
    cases: &[StageCase],
    cal: &Calendar,
    now: DateTime<Utc>,
    warn_days: u32,
) -> ProjectClock {
    let today = crate::platform::clock::beijing_date(now);
    let mut stages = Vec::with_capacity(flow.stages.len());
    let mut before_passed = true;
    let mut used_total = 0;
    let mut running = false;
    let mut current = None;
    for stage in &flow.stages {
        let latest = cases
            .iter()
            .filter(|c| c.stage == stage.order)
            .max_by(|a, b| (a.submitted, &a.number).cmp(&(b.submitted, &b.number)));
        let status = match latest {
            _ if !before_passed => StageStatus::Locked,
            None => StageStatus::Open,
            Some(c) if !c.is_finished() => StageStatus::InProgress,
            Some(c) if c.passed() => StageStatus::Passed,
            Some(_) => StageStatus::Failed,
        };
        let (used, due, light) = match latest {
            Some(c) if status != StageStatus::Locked => {
                let end = c.finished.unwrap_or(today);
                let used = cal.working_days_between(c.submitted, end).max(0);
                if status == StageStatus::InProgress {
                    let due = cal.add_working_days(c.submitted, stage.limit_days);
                    let light = Deadline::working_days(due, stage.limit_days).signal(cal, now, warn_days);
                    (Some(used), Some(due), Some(light))
                } else {
                    (Some(used), None, Some(signal_of_days(used, stage.limit_days, false, warn_days)))
                }
            }
            _ => (None, None, None),
        };
        used_total += used.unwrap_or(0);
        running |= status == StageStatus::InProgress;
        if current.is_none() && status != StageStatus::Passed {
            current = Some(stage.order);
        }
        before_passed = status == StageStatus::Passed;
        stages.push(StageProgress {
            order: stage.order,
            bundle: stage.bundle.clone(),
            name: stage.name.clone(),
            name_en: stage.name_en.clone(),
            limit_days: stage.limit_days,
            status,
            case_number: latest.map(|c| c.number.clone()),
            used_days: used,
            due,
            light,
        });
    }
    let started = stages.iter().any(|s| s.used_days.is_some());
    let complete = stages.iter().all(|s| s.status == StageStatus::Passed);
    ProjectClock {
        light: started.then(|| signal_of_days(used_total, flow.total_limit_days, running, warn_days)),
        stages,
        used_days: used_total,
        total_limit_days: flow.total_limit_days,
        current,
        complete,
    }
}

/// Why a stage may not be applied for now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StageRefusal {
    /// The stage before (named) is not completed.
    Locked { before: String },
    /// The stage's application is still being handled.
    InProgress,
    /// The stage is completed already.
    Passed,
}

impl StageRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            StageRefusal::Locked { .. } => "stage_locked",
            StageRefusal::InProgress => "stage_in_progress",
            StageRefusal::Passed => "stage_passed",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            StageRefusal::Locked { before } => format!("请先完成“{before}”阶段，再申报本阶段"),
            StageRefusal::InProgress => "本阶段已在办理中，不能重复申报".into(),
            StageRefusal::Passed => "本阶段已完成，无需再次申报".into(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            StageRefusal::Locked { before } => {
                format!("Complete the stage \"{before}\" before applying for this one")
            }
            StageRefusal::InProgress => "This stage is already being handled".into(),
            StageRefusal::Passed => "This stage is completed already".into(),
        }
    }
}

/// Whether stage `order` may be applied for now, from the project's clock.
pub fn next_stage(clock: &ProjectClock, order: u8) -> Result<(), StageRefusal> {
    let Some(stage) = clock.stage(order) else { return Err(StageRefusal::Passed) };
    match stage.status {
        StageStatus::Open | StageStatus::Failed => Ok(()),
        StageStatus::InProgress => Err(StageRefusal::InProgress),
        StageStatus::Passed => Err(StageRefusal::Passed),
        StageStatus::Locked => {
            let before = clock
                .stages
                .iter()
                .rev()
                .find(|s| s.order < order && s.status != StageStatus::Passed)
                .map_or_else(String::new, |s| s.name.clone());
            Err(StageRefusal::Locked { before })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::calendar::domain::parse_holidays_file;
    use crate::platform::clock::from_beijing;

    fn cal() -> Calendar {
        Calendar::new(parse_holidays_file(include_str!("../../../../reference/holidays_cn.json")).unwrap())
            .unwrap()
    }

    fn flow() -> Flow {
        flows().flow("JN-GCXM").unwrap().clone()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn case(
        stage: u8,
        number: &str,
        state: CaseState,
        submitted: &str,
        finished: Option<&str>,
        ok: bool,
    ) -> StageCase {
        StageCase {
            stage,
            number: number.into(),
            state,
            submitted: day(submitted),
            finished: finished.map(day),
            all_approved: ok,
        }
    }

    #[test]
    fn the_shipped_flow_has_four_stages_within_120_working_days() {
        let f = flow();
        assert_eq!(f.stages.len(), 4);
        assert_eq!(f.total_limit_days, 120);
        assert!(f.stages.iter().map(|s| s.limit_days).sum::<u32>() <= 120);
        assert!(flows().is_stage("JN-GCXM-3"));
        assert!(!flows().is_stage("JN-YJS-008"));
        assert_eq!(flows().joint("JN-SPJ-0019").unwrap().members.len(), 2);
    }

    #[test]
    fn a_flow_whose_stages_exceed_the_whole_is_refused() {
        let bad = PROJECTS_JSON.replace("\"limit_days\": 40", "\"limit_days\": 41");
        assert!(ProjectFlows::parse(&bad).unwrap_err().contains("exceed"));
        let unordered = PROJECTS_JSON.replace("\"order\": 2", "\"order\": 3");
        assert!(ProjectFlows::parse(&unordered).is_err());
    }

    #[test]
    fn a_new_project_opens_its_first_stage_only() {
        let now = from_beijing(day("2026-12-07").and_hms_opt(10, 0, 0).unwrap());
        let p = progress(&flow(), &[], &cal(), now, 1);
        let status: Vec<_> = p.stages.iter().map(|s| s.status).collect();
        assert_eq!(
            status,
            [StageStatus::Open, StageStatus::Locked, StageStatus::Locked, StageStatus::Locked]
        );
        assert_eq!((p.current, p.light, p.used_days), (Some(1), None, 0));
        assert_eq!(next_stage(&p, 1), Ok(()));
        assert_eq!(next_stage(&p, 2), Err(StageRefusal::Locked { before: "立项用地规划许可".into() }));
    }

    #[test]
    fn stages_open_in_turn_and_the_clocks_add_up() {
        // Stage 1 from Mon 2026-11-02 to Fri 11-13: 9 working days; stage 2 running since
        // Mon 11-16. On Mon 12-07 (15 working days later) stage 2 has used 15 of its 40.
        let cases = [
            case(1, "JN20261102000001", CaseState::Delivered, "2026-11-02", Some("2026-11-13"), true),
            case(2, "JN20261116000001", CaseState::UnderReview, "2026-11-16", None, false),
        ];
        let now = from_beijing(day("2026-12-07").and_hms_opt(10, 0, 0).unwrap());
        let p = progress(&flow(), &cases, &cal(), now, 1);
        assert_eq!(p.stages[0].status, StageStatus::Passed);
        assert_eq!(p.stages[0].used_days, Some(9));
        assert_eq!(p.stages[1].status, StageStatus::InProgress);
        assert_eq!(p.stages[1].used_days, Some(15));
        assert_eq!(p.stages[1].light, Some(Signal::Green));
        assert_eq!(p.stages[2].status, StageStatus::Locked);
        assert_eq!((p.used_days, p.current, p.complete), (24, Some(2), false));
        assert_eq!(p.light, Some(Signal::Green));
        assert_eq!(next_stage(&p, 2), Err(StageRefusal::InProgress));
        assert_eq!(next_stage(&p, 1), Err(StageRefusal::Passed));
    }

    #[test]
    fn a_stage_past_its_limit_is_red_and_a_refused_stage_may_be_applied_for_again() {
        // Stage 1 submitted 2026-09-01 and still running on 2026-12-07: far past 30 days.
        let late = [case(1, "JN20260901000001", CaseState::UnderReview, "2026-09-01", None, false)];
        let now = from_beijing(day("2026-12-07").and_hms_opt(10, 0, 0).unwrap());
        let p = progress(&flow(), &late, &cal(), now, 1);
        assert_eq!(p.stages[0].light, Some(Signal::Red));
        // 2026-09-01 → 12-07 is 65 working days: within the project's 120, so the whole is green.
        assert_eq!(p.used_days, 65);
        assert_eq!(p.light, Some(Signal::Green));
        // A part refused: the stage failed, and it may be applied for again; the next stays locked.
        let refused =
            [case(1, "JN20261102000001", CaseState::Delivered, "2026-11-02", Some("2026-11-13"), false)];
        let p = progress(&flow(), &refused, &cal(), now, 1);
        assert_eq!(p.stages[0].status, StageStatus::Failed);
        assert_eq!(p.stages[1].status, StageStatus::Locked);
        assert_eq!(next_stage(&p, 1), Ok(()));
        // The latest application counts: a second, passed one opens stage 2.
        let again = [
            refused[0].clone(),
            case(1, "JN20261116000002", CaseState::Closed, "2026-11-16", Some("2026-11-20"), true),
        ];
        let p = progress(&flow(), &again, &cal(), now, 1);
        assert_eq!((p.stages[0].status, p.stages[1].status), (StageStatus::Passed, StageStatus::Open));
        assert_eq!(p.stages[0].case_number.as_deref(), Some("JN20261116000002"));
    }

    #[test]
    fn the_whole_clock_turns_yellow_near_and_red_past_its_limit() {
        assert_eq!(signal_of_days(119, 120, true, 1), Signal::Yellow);
        assert_eq!(signal_of_days(119, 120, false, 1), Signal::Green);
        assert_eq!(signal_of_days(121, 120, false, 1), Signal::Red);
        assert_eq!(signal_of_days(0, 120, true, 1), Signal::Green);
    }

    #[test]
    fn a_project_is_registered_with_every_field_checked() {
        let mut p = NewProject {
            name: "  ".into(),
            district: "朝阳区".into(),
            floor_area_m2: Some(-3.0),
            investment_wan: None,
            ..NewProject::default()
        };
        let errors = p.validate(&["历下区", "市中区"]);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "location", "district", "floor_area_m2", "investment_wan", "enterprise"]);
        assert_eq!(p.flow, "JN-GCXM");
        assert_eq!(project_code(2026, 17), "2026-370100-48-03-000017");
    }
}
