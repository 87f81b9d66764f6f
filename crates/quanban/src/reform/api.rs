//! The reform tasks' JSON API.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::service::{self, Imported, ReportRequest, ReviewRequest, TaskView};
use crate::app::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, Caller};

/// The reform tasks the caller may read (every one for the supervision office; their units'
/// for staff), each milestone with its light.
#[utoipa::path(get, path = "/api/v1/reform-tasks", tag = "supervision", security(("bearer" = [])),
    responses((status = 200, body = Vec<TaskView>), (status = 401, body = crate::http::error::Problem)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<TaskView>>> {
    Ok(Json(service::list(&state, &caller).await?))
}

/// One reform task with its milestones' reports, reviews and history.
#[utoipa::path(get, path = "/api/v1/reform-tasks/{code}", tag = "supervision", security(("bearer" = [])),
    params(("code" = String, Path, description = "The task's code")),
    responses((status = 200, body = TaskView), (status = 401, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<TaskView>> {
    Ok(Json(service::get(&state, &caller, &code).await?))
}

/// Imports tasks from the office's spreadsheet (.xlsx, one row per milestone; columns 任务编号,
/// 改革任务, 所属领域, 任务内容, 牵头单位, 配合单位, 节点任务, 完成时限, 须附佐证材料): all of them,
/// or none with every wrong cell named. The supervision office.
#[utoipa::path(post, path = "/api/v1/reform-tasks/import", tag = "supervision", security(("bearer" = [])),
    request_body(content = Vec<u8>, description = "the .xlsx file"),
    responses((status = 201, body = Imported), (status = 401, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Imported>)> {
    Ok((StatusCode::CREATED, Json(service::import_xlsx(&state, &caller, &body).await?)))
}

/// The lead unit's head reports progress on a milestone, with evidence (links to platform
/// records or files) where the milestone needs it.
#[utoipa::path(post, path = "/api/v1/reform-tasks/{code}/milestones/{seq}/report", tag = "supervision",
    security(("bearer" = [])), request_body = ReportRequest,
    params(("code" = String, Path, description = "The task's code"), ("seq" = i64, Path, description = "The milestone's number (1, 2 …)")),
    responses((status = 200, body = TaskView), (status = 401, body = crate::http::error::Problem),
        (status = 403, body = crate::http::error::Problem), (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, seq)): Path<(String, i64)>,
    ApiJson(req): ApiJson<ReportRequest>,
) -> ApiResult<Json<TaskView>> {
    Ok(Json(service::report(&state, &caller, &code, seq, req).await?))
}

/// The supervision office accepts a milestone's report or returns it with a comment.
#[utoipa::path(post, path = "/api/v1/reform-tasks/{code}/milestones/{seq}/review", tag = "supervision",
    security(("bearer" = [])), request_body = ReviewRequest,
    params(("code" = String, Path, description = "The task's code"), ("seq" = i64, Path, description = "The milestone's number (1, 2 …)")),
    responses((status = 200, body = TaskView), (status = 401, body = crate::http::error::Problem),
        (status = 403, body = crate::http::error::Problem), (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, seq)): Path<(String, i64)>,
    ApiJson(req): ApiJson<ReviewRequest>,
) -> ApiResult<Json<TaskView>> {
    Ok(Json(service::review_report(&state, &caller, &code, seq, req).await?))
}
