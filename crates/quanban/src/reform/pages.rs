//! The reform tasks' pages: the list with each milestone's light (and, for the supervision
//! office, the spreadsheet import), one task with its milestones, the lead head's report form and
//! the supervision office's review.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Multipart;
use base64::Engine;
use serde::Deserialize;

use super::service::{self, EvidenceIn, ReportRequest, ReviewRequest, TaskView};
use super::{Evidence, Review};
use crate::app::AppState;
use crate::http::error::{ApiError, FieldError};
use crate::web::i18n::Tr;
use crate::web::page::{PageCtx, PageError, UserChip};

#[derive(Template)]
#[template(path = "reform_tasks.html")]
struct ListPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    tasks: Vec<TaskView>,
    names: std::collections::BTreeMap<String, String>,
    may_import: bool,
    notice: Option<String>,
    errors: Vec<FieldError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub imported: Option<usize>,
}

async fn render_list(
    state: &AppState,
    ctx: &PageCtx,
    notice: Option<String>,
    errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    let tasks = service::list(state, &ctx.caller).await.map_err(|e| ctx.error(e))?;
    let names =
        crate::platform::directory::department_names(&state.db).await.map_err(|e| ctx.error(e.into()))?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ListPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        tasks,
        names,
        may_import: service::may_import(&ctx.caller),
        notice,
        errors,
    };
    Ok(ctx.render(status, &page))
}

/// 改革任务: the tasks the caller may read.
pub async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let notice = q.imported.map(|n| {
        format!("{}{n}{}", ctx.t.pick("已导入改革任务 ", "Imported "), ctx.t.pick(" 项", " task(s)"))
    });
    render_list(&state, &ctx, notice, Vec::new()).await
}

/// The spreadsheet upload (multipart: csrf, file).
pub async fn import(
    State(state): State<AppState>,
    ctx: PageCtx,
    mut form: Multipart,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let bad = || ApiError::BadRequest {
        code: "bad_upload",
        zh: "上传的文件无法读取".into(),
        en: "The uploaded file could not be read".into(),
    };
    let mut csrf = String::new();
    let mut file = Vec::new();
    while let Some(field) = form.next_field().await.map_err(|_| ctx.error(bad()))? {
        match field.name().unwrap_or("") {
            "file" => file = field.bytes().await.map_err(|_| ctx.error(bad()))?.to_vec(),
            "csrf" => csrf = field.text().await.map_err(|_| ctx.error(bad()))?,
            _ => {}
        }
    }
    ctx.check_csrf(&csrf)?;
    if file.is_empty() {
        return render_list(
            &state,
            &ctx,
            None,
            vec![FieldError::required("file", "任务清单文件（.xlsx）", "The task sheet (.xlsx)")],
        )
        .await;
    }
    match service::import_xlsx(&state, &ctx.caller, &file).await {
        Ok(done) => Ok(Redirect::to(&format!("/reform-tasks?imported={}", done.tasks)).into_response()),
        Err(ApiError::Validation(errors)) => render_list(&state, &ctx, None, errors).await,
        Err(e) => Err(ctx.error(e)),
    }
}

/// The tasks as the office's spreadsheet.
pub async fn export(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let body = service::export_xlsx(&state, &ctx.caller).await.map_err(|e| ctx.error(e))?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"reform-tasks-{}.xlsx\"", state.clock().today()),
            ),
        ],
        body,
    )
        .into_response())
}

/// A milestone as the page shows it.
pub struct MilestoneLine {
    seq: i64,
    title: String,
    due_on: String,
    needs_evidence: bool,
    status: String,
    status_zh: &'static str,
    status_en: &'static str,
    light: String,
    report: Option<String>,
    reported: Option<String>,
    review_comment: Option<String>,
    /// (label, href) of each piece of evidence.
    evidence: Vec<(String, String)>,
    events: Vec<(String, String, String, String)>,
    version: i64,
    may_report: bool,
    may_review: bool,
}

#[derive(Template)]
#[template(path = "reform_task.html")]
struct TaskPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    view: TaskView,
    lead: String,
    supporting: String,
    milestones: Vec<MilestoneLine>,
    notice: Option<String>,
    errors: Vec<FieldError>,
    /// The form's text when a report was refused, by milestone.
    typed: HashMap<i64, (String, String)>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TaskQuery {
    pub done: Option<String>,
}

async fn render_task(
    state: &AppState,
    ctx: &PageCtx,
    code: &str,
    notice: Option<String>,
    errors: Vec<FieldError>,
    typed: HashMap<i64, (String, String)>,
) -> Result<Response, PageError> {
    let view = service::get(state, &ctx.caller, code).await.map_err(|e| ctx.error(e))?;
    let names =
        crate::platform::directory::department_names(&state.db).await.map_err(|e| ctx.error(e.into()))?;
    let name = |d: &String| names.get(d).cloned().unwrap_or_else(|| d.clone());
    let milestones = view
        .task
        .milestones
        .iter()
        .zip(&view.lights)
        .map(|(m, light)| {
            let (status_zh, status_en) = m.status.label();
            MilestoneLine {
                seq: m.seq,
                title: m.title.clone(),
                due_on: m.due_on.clone(),
                needs_evidence: m.needs_evidence,
                status: m.status.as_str().into(),
                status_zh,
                status_en,
                light: light.clone().unwrap_or_default(),
                report: m.report.clone(),
                reported: m.reported_at.as_deref().map(crate::platform::clock::shown_time),
                review_comment: m.review_comment.clone(),
                evidence: m
                    .evidence
                    .iter()
                    .map(|e| match e {
                        Evidence::Link { href, label } => {
                            (label.clone().unwrap_or_else(|| href.clone()), href.clone())
                        }
                        Evidence::File { hash, file_name } => {
                            (file_name.clone(), format!("/reform-tasks/{}/evidence/{hash}", view.task.code))
                        }
                    })
                    .collect(),
                events: m
                    .events
                    .iter()
                    .map(|e| {
                        let kind = match e.kind.as_str() {
                            "report" => ctx.t.pick("报送进展", "Reported"),
                            "accept" => ctx.t.pick("审核通过", "Accepted"),
                            _ => ctx.t.pick("退回", "Returned"),
                        };
                        (
                            crate::platform::clock::shown_time(&e.at),
                            e.actor_name.clone(),
                            kind.to_string(),
                            e.text.clone(),
                        )
                    })
                    .collect(),
                version: m.version,
                may_report: view.may_report && m.status.may_report(),
                may_review: view.may_review && m.status == super::MilestoneStatus::Reported,
            }
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = TaskPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        lead: name(&view.task.lead),
        supporting: view.task.supporting.iter().map(name).collect::<Vec<_>>().join("、"),
        milestones,
        view,
        notice,
        errors,
        typed,
    };
    Ok(ctx.render(status, &page))
}

/// One task.
pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Query(q): Query<TaskQuery>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let notice = q.done.map(|d| match d.as_str() {
        "report" => ctx
            .t
            .pick("进展已报送，等待督查审核", "Report sent; the supervision office reviews it")
            .to_string(),
        "accept" => ctx.t.pick("已审核通过", "Accepted").to_string(),
        _ => ctx.t.pick("已退回并告知牵头单位", "Returned to the lead unit").to_string(),
    });
    render_task(&state, &ctx, &code, notice, Vec::new(), HashMap::new()).await
}

/// The report form (multipart: csrf, version, report, links one per line, an optional file).
pub async fn report(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((code, seq)): Path<(String, i64)>,
    mut form: Multipart,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let bad = || ApiError::BadRequest {
        code: "bad_upload",
        zh: "表单无法读取".into(),
        en: "The form could not be read".into(),
    };
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = form.next_field().await.map_err(|_| ctx.error(bad()))? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|_| ctx.error(bad()))?;
            if !bytes.is_empty() {
                file = Some((file_name, bytes.to_vec()));
            }
        } else {
            fields.insert(name, field.text().await.map_err(|_| ctx.error(bad()))?);
        }
    }
    ctx.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or(""))?;
    let text = fields.remove("report").unwrap_or_default();
    let links = fields.remove("links").unwrap_or_default();
    let mut evidence: Vec<EvidenceIn> = links
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| EvidenceIn::Link { href: l.to_string(), label: None })
        .collect();
    if let Some((file_name, bytes)) = file {
        evidence.push(EvidenceIn::File {
            file_name,
            content_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        });
    }
    let req = ReportRequest {
        report: text.clone(),
        evidence,
        version: fields.get("version").and_then(|v| v.parse().ok()),
    };
    match service::report(&state, &ctx.caller, &code, seq, req).await {
        Ok(_) => Ok(Redirect::to(&format!("/reform-tasks/{code}?done=report")).into_response()),
        Err(ApiError::Validation(errors)) => {
            render_task(&state, &ctx, &code, None, errors, HashMap::from([(seq, (text, links))])).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReviewForm {
    pub csrf: String,
    pub decision: String,
    pub comment: String,
    pub version: Option<i64>,
}

/// The supervision office's review form.
pub async fn review(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((code, seq)): Path<(String, i64)>,
    Form(f): Form<ReviewForm>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    ctx.check_csrf(&f.csrf)?;
    let decision = if f.decision == "accept" { Review::Accept } else { Review::Return };
    let req = ReviewRequest { decision: Some(decision), comment: f.comment, version: f.version };
    match service::review_report(&state, &ctx.caller, &code, seq, req).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/reform-tasks/{code}?done={}",
            if decision == Review::Accept { "accept" } else { "return" }
        ))
        .into_response()),
        Err(ApiError::Validation(errors)) => {
            render_task(&state, &ctx, &code, None, errors, HashMap::new()).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

/// A file given as evidence, to those who may read the task.
pub async fn evidence(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((code, hash)): Path<(String, String)>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let view = service::get(&state, &ctx.caller, &code).await.map_err(|e| ctx.error(e))?;
    let name = view
        .task
        .milestones
        .iter()
        .flat_map(|m| &m.evidence)
        .find_map(|e| match e {
            Evidence::File { hash: h, file_name } if *h == hash => Some(file_name.clone()),
            _ => None,
        })
        .ok_or_else(|| ctx.error(ApiError::NotFound))?;
    let (content_type, bytes) = crate::platform::uploads::upload_content(&state.db, &hash)
        .await
        .map_err(|e| ctx.error(e.into()))?
        .ok_or_else(|| ctx.error(ApiError::NotFound))?;
    let ascii: String =
        name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (axum::http::header::CONTENT_DISPOSITION, format!("inline; filename=\"{ascii}\"")),
        ],
        bytes,
    )
        .into_response())
}
