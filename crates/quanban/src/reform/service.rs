//! Reform tasks: importing and exporting the plan, reporting progress, reviewing, and what the
//! caller may see and do (through `decide`).

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::store::{self, Actor, Milestone, Task};
use super::{Evidence, MilestoneStatus, Review, check_report, light, read_sheet, review};
use crate::app::AppState;
use crate::http::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Caller;
use crate::identity::api::require;
use crate::identity::authz::{Action, Area, Decision, Resource, decide};
use crate::store::StoreError;

fn refused(errors: Vec<super::Refusal>) -> ApiError {
    ApiError::Validation(errors.into_iter().map(|r| FieldError::new(&r.field, r.code, r.zh, r.en)).collect())
}

fn resource(t: &Task) -> Resource {
    Resource::ReformTask { lead: t.lead.clone(), supporting: t.supporting.clone() }
}

/// A task as the caller sees it: each milestone with its light today and what the caller may do.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    #[serde(flatten)]
    pub task: Task,
    pub area_zh: String,
    pub area_en: String,
    /// `yellow` or `red` for each milestone not accepted in time (same order as `milestones`).
    pub lights: Vec<Option<String>>,
    pub done: bool,
    /// The caller (the lead unit's head) may report progress.
    pub may_report: bool,
    /// The caller (the supervision office) may review reports.
    pub may_review: bool,
}

async fn view(state: &AppState, caller: &Caller, task: Task) -> TaskView {
    let cal = state.calendar().await;
    let today = state.clock().today();
    let lights = task
        .milestones
        .iter()
        .map(|m| {
            m.due_on
                .parse()
                .ok()
                .and_then(|due| light(m.status, due, &cal, today, state.config.yellow_days))
                .map(|l| l.as_str().to_string())
        })
        .collect();
    let (area_zh, area_en) = super::area_label(&task.area);
    let r = resource(&task);
    TaskView {
        done: task.milestones.iter().all(|m| m.status == MilestoneStatus::Accepted),
        may_report: decide(&caller.actor, Action::Update, &r) == Decision::Allow,
        may_review: decide(&caller.actor, Action::Review, &r) == Decision::Allow,
        area_zh: area_zh.into(),
        area_en: area_en.into(),
        lights,
        task,
    }
}

/// The tasks the caller may read: all for the supervision office, their units' for staff.
pub async fn list(state: &AppState, caller: &Caller) -> ApiResult<Vec<TaskView>> {
    caller.require_user()?;
    let mut out = Vec::new();
    for t in store::list(&state.db).await? {
        if decide(&caller.actor, Action::Read, &resource(&t)) == Decision::Allow {
            out.push(view(state, caller, t).await);
        }
    }
    Ok(out)
}

/// One task (404 for anyone its units do not include).
pub async fn get(state: &AppState, caller: &Caller, code: &str) -> ApiResult<TaskView> {
    caller.require_user()?;
    let task = store::get(&state.db, code).await?.ok_or(ApiError::NotFound)?;
    require(decide(&caller.actor, Action::Read, &resource(&task)))?;
    Ok(view(state, caller, task).await)
}

/// Whether the caller may import (the supervision office).
pub fn may_import(caller: &Caller) -> bool {
    decide(&caller.actor, Action::Create, &Resource::CityWide(Area::ReformTasks)) == Decision::Allow
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Imported {
    pub tasks: usize,
    pub milestones: usize,
}

/// Imports tasks from the office's spreadsheet (.xlsx): all of them, or none with every wrong
/// cell named.
pub async fn import_xlsx(state: &AppState, caller: &Caller, bytes: &[u8]) -> ApiResult<Imported> {
    let user = caller.require_user()?.to_string();
    require(decide(&caller.actor, Action::Create, &Resource::CityWide(Area::ReformTasks)))?;
    let rows = crate::catalog::transfer::xlsx_text_rows(bytes)
        .map_err(|p| ApiError::invalid("file", p.code, p.reason_zh, p.reason_en))?;
    let names = crate::platform::directory::department_names(&state.db).await?;
    let existing = store::codes(&state.db).await?;
    let tasks = read_sheet(&rows, &names, &existing).map_err(refused)?;
    let milestones = tasks.iter().map(|t| t.milestones.len()).sum();
    let n = store::insert(&state.db, tasks, user).await.map_err(|e| match e {
        StoreError::Duplicate(_) => ApiError::invalid(
            "file",
            "duplicate",
            "文件中的任务编号已存在（可能刚被导入）",
            "a task code in the file exists already (just imported?)",
        ),
        other => other.into(),
    })?;
    Ok(Imported { tasks: n, milestones })
}

/// The tasks as the office's spreadsheet, with each milestone's status, light and report.
pub async fn export_xlsx(state: &AppState, caller: &Caller) -> ApiResult<Vec<u8>> {
    let tasks = list(state, caller).await?;
    let names = crate::platform::directory::department_names(&state.db).await?;
    super::export::xlsx(&tasks, &names).map_err(ApiError::Internal)
}

/// Evidence as sent: links, and files as base64 (stored as uploads).
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EvidenceIn {
    Link { href: String, label: Option<String> },
    File { file_name: String, content_base64: String },
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReportRequest {
    /// What was done (required).
    pub report: String,
    pub evidence: Vec<EvidenceIn>,
    /// The milestone's version as read (its claim).
    pub version: Option<i64>,
}

fn milestone(task: &Task, seq: i64) -> ApiResult<&Milestone> {
    task.milestones.iter().find(|m| m.seq == seq).ok_or(ApiError::NotFound)
}

fn conflict(e: StoreError, zh: &str, en: &str) -> ApiError {
    match e {
        StoreError::Conflict => {
            ApiError::Conflict { code: "milestone_changed", zh: zh.into(), en: en.into() }
        }
        other => other.into(),
    }
}

/// The lead unit's head reports progress on a milestone (pending or returned).
pub async fn report(
    state: &AppState,
    caller: &Caller,
    code: &str,
    seq: i64,
    req: ReportRequest,
) -> ApiResult<TaskView> {
    let user = caller.require_user()?.to_string();
    let task = store::get(&state.db, code).await?.ok_or(ApiError::NotFound)?;
    require(decide(&caller.actor, Action::Update, &resource(&task)))?;
    let m = milestone(&task, seq)?;
    if !m.status.may_report() {
        let (zh, en) = m.status.label();
        return Err(ApiError::StateConflict {
            code: "not_reportable",
            zh: format!("该节点当前为“{zh}”，不能再报送"),
            en: format!("the milestone is “{en}” and cannot be reported now"),
            state: m.status.as_str().into(),
        });
    }
    let mut evidence = Vec::new();
    let mut errors = Vec::new();
    for (i, e) in req.evidence.iter().enumerate() {
        match e {
            EvidenceIn::Link { href, label } => {
                evidence.push(Evidence::Link { href: href.trim().to_string(), label: label.clone() })
            }
            EvidenceIn::File { file_name, content_base64 } => {
                let field = format!("evidence[{i}]");
                let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(content_base64.trim())
                else {
                    errors.push(FieldError::new(
                        &field,
                        "invalid_base64",
                        "文件内容不是有效的 base64",
                        "the file content is not valid base64",
                    ));
                    continue;
                };
                match crate::platform::uploads::check_file(file_name, &bytes) {
                    Ok(kind) => {
                        let hash = crate::platform::uploads::put_upload(
                            &state.db,
                            bytes,
                            kind.content_type(),
                            &user,
                        )
                        .await?;
                        evidence.push(Evidence::File { hash, file_name: file_name.clone() });
                    }
                    Err(p) => errors.push(crate::platform::uploads::file_error(&field, file_name, p)),
                }
            }
        }
    }
    if let Err(refusals) = check_report(&req.report, &evidence, m.needs_evidence, &m.title) {
        errors.extend(refusals.into_iter().map(|r| FieldError::new(&r.field, r.code, r.zh, r.en)));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let actor =
        Actor { id: user.clone(), name: crate::platform::directory::user_name(&state.db, &user).await? };
    store::report(
        &state.db,
        code.into(),
        seq,
        req.version.unwrap_or(m.version),
        req.report.trim().into(),
        evidence,
        actor,
    )
    .await
    .map_err(|e| {
        conflict(
            e,
            "该节点已被他人更新，请刷新后重试",
            "someone changed the milestone first; reload and try again",
        )
    })?;
    get(state, caller, code).await
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReviewRequest {
    /// `accept` or `return` (required).
    pub decision: Option<Review>,
    /// Required when returning: what is missing or wrong.
    pub comment: String,
    pub version: Option<i64>,
}

/// The supervision office accepts a report or returns it with a comment (it never edits it).
pub async fn review_report(
    state: &AppState,
    caller: &Caller,
    code: &str,
    seq: i64,
    req: ReviewRequest,
) -> ApiResult<TaskView> {
    let user = caller.require_user()?.to_string();
    let task = store::get(&state.db, code).await?.ok_or(ApiError::NotFound)?;
    require(decide(&caller.actor, Action::Review, &resource(&task)))?;
    let m = milestone(&task, seq)?;
    let Some(decision) = req.decision else {
        return Err(ApiError::Validation(vec![FieldError::required(
            "decision",
            "审核结论（通过或退回）",
            "The decision (accept or return)",
        )]));
    };
    let next = review(m.status, decision, &req.comment).map_err(|r| {
        if r.code == "not_reported" {
            ApiError::StateConflict { code: r.code, zh: r.zh, en: r.en, state: m.status.as_str().into() }
        } else {
            refused(vec![r])
        }
    })?;
    let accepted_on =
        (next == MilestoneStatus::Accepted).then(|| state.clock().today().format("%Y-%m-%d").to_string());
    let actor =
        Actor { id: user.clone(), name: crate::platform::directory::user_name(&state.db, &user).await? };
    store::review(
        &state.db,
        code.into(),
        seq,
        req.version.unwrap_or(m.version),
        next,
        req.comment.trim().into(),
        accepted_on,
        actor,
    )
    .await
    .map_err(|e| {
        conflict(
            e,
            "该节点已被他人审核或更新，请刷新后重试",
            "someone reviewed or changed the milestone first; reload and try again",
        )
    })?;
    get(state, caller, code).await
}

/// The milestones not yet accepted, for electronic monitoring: each with its light today, the
/// lead unit as the department answering for it and its head as the officer told.
pub async fn watched(state: &AppState) -> ApiResult<Vec<crate::monitoring::Watched>> {
    let cal = state.calendar().await;
    let today = state.clock().today();
    let mut out = Vec::new();
    let mut heads: std::collections::HashMap<String, Option<String>> = std::collections::HashMap::new();
    for t in store::list(&state.db).await? {
        for m in &t.milestones {
            let Ok(due) = m.due_on.parse() else { continue };
            let Some(level) = light(m.status, due, &cal, today, state.config.yellow_days) else { continue };
            if !heads.contains_key(&t.lead) {
                heads.insert(t.lead.clone(), store::head_of(&state.db, &t.lead).await?);
            }
            out.push(crate::monitoring::Watched {
                subject: format!("milestone:{}#{}", t.code, m.seq),
                department: t.lead.clone(),
                title: format!("{} {}：{}", t.code, t.title, m.title),
                officer: heads.get(&t.lead).cloned().flatten(),
                fallback_role: None,
                due: Some(due),
                level: Some(level),
            });
        }
    }
    Ok(out)
}
