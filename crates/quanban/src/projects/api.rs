//! The projects' JSON API: registering and reading projects, and joint-review opinions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;

use super::service::{self, JointView, OpinionRequest, ProjectView};
use super::store::ProjectRecord;
use crate::app::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, Caller};

/// A project registration as sent.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ProjectRequest {
    /// The kind of project (default `JN-GCXM`, a privately financed general project).
    pub flow: Option<String>,
    /// 项目名称.
    pub name: Option<String>,
    /// 所在区县, one of the city's districts (e.g. 历城区).
    pub district: Option<String>,
    /// 建设地点.
    pub location: Option<String>,
    /// 建筑面积 in square metres.
    pub floor_area_m2: Option<f64>,
    /// 总投资 in 万元.
    pub investment_wan: Option<f64>,
    /// The builder's credit code (an enterprise the caller represents).
    pub enterprise: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectCreated {
    pub code: String,
}

/// One stage of a project now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StageOut {
    pub order: u8,
    /// The bundle the stage is applied for as.
    pub bundle_code: String,
    pub name: String,
    pub name_en: String,
    pub limit_days: u32,
    /// `locked`, `open`, `in_progress`, `passed` or `failed`.
    pub status: String,
    pub case_number: Option<String>,
    pub used_days: Option<i64>,
    pub due_date: Option<String>,
    /// `green`, `yellow`, `red`, or none before the stage starts.
    pub light: Option<String>,
}

/// A project with its stages and the whole clock.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectOut {
    #[serde(flatten)]
    pub project: ProjectRecord,
    pub flow_name: String,
    pub stages: Vec<StageOut>,
    pub used_days: i64,
    pub total_limit_days: u32,
    pub light: Option<String>,
    /// The stage being handled or to apply for next; none once complete.
    pub current_stage: Option<u8>,
    pub complete: bool,
}

impl From<ProjectView> for ProjectOut {
    fn from(v: ProjectView) -> ProjectOut {
        ProjectOut {
            flow_name: v.flow.name.clone(),
            stages: v
                .clock
                .stages
                .iter()
                .map(|s| StageOut {
                    order: s.order,
                    bundle_code: s.bundle.clone(),
                    name: s.name.clone(),
                    name_en: s.name_en.clone(),
                    limit_days: s.limit_days,
                    status: s.status.as_str().into(),
                    case_number: s.case_number.clone(),
                    used_days: s.used_days,
                    due_date: s.due.map(|d| d.format("%Y-%m-%d").to_string()),
                    light: s.light.map(|l| l.as_str().into()),
                })
                .collect(),
            used_days: v.clock.used_days,
            total_limit_days: v.clock.total_limit_days,
            light: v.clock.light.map(|l| l.as_str().into()),
            current_stage: v.clock.current,
            complete: v.clock.complete,
            project: v.project,
        }
    }
}

/// Registers a construction project for one of the caller's enterprises (项目登记); its stages
/// are then applied for as bundles with `project` set to the returned code.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = ProjectRequest,
    security(("bearer" = [])),
    responses((status = 201, body = ProjectCreated), (status = 401, body = crate::http::error::Problem),
        (status = 403, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ProjectRequest>,
) -> ApiResult<(StatusCode, Json<ProjectCreated>)> {
    let p = super::NewProject {
        flow: req.flow.unwrap_or_default(),
        name: req.name.unwrap_or_default(),
        district: req.district.unwrap_or_default(),
        location: req.location.unwrap_or_default(),
        floor_area_m2: req.floor_area_m2,
        investment_wan: req.investment_wan,
        enterprise: req.enterprise.unwrap_or_default(),
    };
    let code = service::create(&state, &caller, p).await?;
    Ok((StatusCode::CREATED, Json(ProjectCreated { code })))
}

/// The caller's projects (those of the enterprises they represent), or every project for the
/// supervision office.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", security(("bearer" = [])),
    responses((status = 200, body = Vec<ProjectOut>), (status = 401, body = crate::http::error::Problem)))]
pub async fn list_projects(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<ProjectOut>>> {
    let views = match caller.actor {
        crate::identity::authz::Actor::Person { .. } => service::mine(&state, &caller).await?,
        _ => service::all(&state, &caller).await?,
    };
    Ok(Json(views.into_iter().map(ProjectOut::from).collect()))
}

/// A project with its stages, each stage's clock and the whole project's.
#[utoipa::path(get, path = "/api/v1/projects/{code}", tag = "projects", security(("bearer" = [])),
    params(("code" = String, Path, description = "The project code (项目代码)")),
    responses((status = 200, body = ProjectOut), (status = 401, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem)))]
pub async fn get_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<ProjectOut>> {
    Ok(Json(service::view(&state, &caller, &code).await?.into()))
}

/// A joint review's members and their opinions.
#[utoipa::path(get, path = "/api/v1/cases/{case_number}/joint-review", tag = "projects", security(("bearer" = [])),
    params(("case_number" = String, Path, description = "The case number")),
    responses((status = 200, body = JointView), (status = 401, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem)))]
pub async fn joint_review(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> ApiResult<Json<JointView>> {
    Ok(Json(service::joint_view(&state, &caller, &number).await?))
}

/// A member department's opinion on a joint review (联合审图、联合验收): `pass`, or `fail` with
/// what must be put right. The case is approved only when every member agreed.
#[utoipa::path(post, path = "/api/v1/cases/{case_number}/joint-review", tag = "projects",
    request_body = OpinionRequest, security(("bearer" = [])),
    params(("case_number" = String, Path, description = "The case number")),
    responses((status = 200, body = JointView), (status = 401, body = crate::http::error::Problem),
        (status = 403, body = crate::http::error::Problem), (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn give_opinion(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(req): ApiJson<OpinionRequest>,
) -> ApiResult<Json<JointView>> {
    Ok(Json(service::give_opinion(&state, &caller, &number, req).await?))
}
