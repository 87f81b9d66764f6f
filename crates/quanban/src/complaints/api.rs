//! JSON API of 接诉即办: intake, reading, the actions, the figures and 未诉先办 tasks.

use crate::http::extract::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::domain::Taxonomy;
use super::service::{
    self, ActRequest, ComplaintView, Intake, IntakeRequest, ListQuery, PeriodQuery, RatesReport, Source,
    Topic,
};
use super::store::{self, ProactiveTask};
use crate::app::AppState;
use crate::http::extract::ApiJsonOrEmpty;
use crate::http::{ApiError, ApiJson, ApiResult, Caller};

/// Files a complaint: citizens (web or app) and hotline operators. The answer carries the
/// routing, the classifier's suggestions and possible duplicates.
///
/// An `Idempotency-Key` header (or `idempotency_key` in the body) files once: sent again, the
/// answer is the complaint it filed, with 200 and `replayed: true`.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints", request_body = IntakeRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Files once however often it is sent")),
    responses((status = 201, body = Intake), (status = 200, description = "Already filed with this key", body = Intake),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    ApiJson(mut req): ApiJson<IntakeRequest>,
) -> ApiResult<(StatusCode, Json<Intake>)> {
    if req.idempotency_key.is_none()
        && let Some(key) = headers.get("idempotency-key")
    {
        // A header that is not text is refused by the key's own rules.
        req.idempotency_key = Some(key.to_str().unwrap_or("\u{fffd}").trim_matches('"').to_string());
    }
    let filed = service::intake(&state, Source::Caller(&caller), req).await?;
    let status = if filed.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(filed)))
}

/// The routing the desk proposes for a call (categories, departments at the district,
/// confidence), checked like a complaint but not filed: hotline operators confirm or change it
/// before dispatching.
#[utoipa::path(post, path = "/api/v1/complaints/proposals", tag = "complaints", request_body = IntakeRequest, security(("bearer" = [])),
    responses((status = 200, body = service::Proposal), (status = 422, body = crate::http::error::Problem)))]
pub async fn propose(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<IntakeRequest>,
) -> ApiResult<Json<service::Proposal>> {
    Ok(Json(service::propose(&state, &caller, &req).await?))
}

/// A caller's number, to look up (sent in the body so that it stays out of URLs and logs).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CallerQuery {
    pub phone: String,
}

/// A caller's complaints, newest first (at most 50): hotline operators and supervisors.
#[utoipa::path(post, path = "/api/v1/complaints/by-caller", tag = "complaints", request_body = CallerQuery, security(("bearer" = [])),
    responses((status = 200, body = [ComplaintView]), (status = 422, body = crate::http::error::Problem)))]
pub async fn by_caller(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(q): ApiJson<CallerQuery>,
) -> ApiResult<Json<Vec<ComplaintView>>> {
    Ok(Json(service::by_caller_phone(&state, &caller, &q.phone).await?))
}

/// Your complaints (people), your department's (staff), or all (operators, supervisors).
#[utoipa::path(get, path = "/api/v1/complaints", tag = "complaints", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = [ComplaintView])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<ComplaintView>>> {
    Ok(Json(service::list(&state, &caller, &q).await?))
}

/// One complaint with its history.
#[utoipa::path(get, path = "/api/v1/complaints/{id}", tag = "complaints", security(("bearer" = [])),
    params(("id" = String, Path, description = "Complaint number")),
    responses((status = 200, body = ComplaintView), (status = 404, body = crate::http::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ComplaintView>> {
    Ok(Json(service::readable(&state, &caller, &id).await?))
}

/// An action: `respond`, `resolve` (`answer`), `return` (`reason`, within 2 working days),
/// `extend` (`days`, `reason`) by the department; `dispatch` (`department`, `category`),
/// `decide_extension` (`approve`), `merge` (`into`) by operators; `callback` (`resolved`,
/// `satisfied`) by operators or the complainant.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/{action}", tag = "complaints", request_body = ActRequest,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Complaint number"), ("action" = String, Path, description = "respond | resolve | return | extend | dispatch | decide_extension | merge | callback")),
    responses((status = 200, body = ComplaintView), (status = 403, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn act(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
    ApiJsonOrEmpty(req): ApiJsonOrEmpty<ActRequest>,
) -> ApiResult<Json<ComplaintView>> {
    Ok(Json(service::act(&state, &caller, &id, &action, req).await?))
}

/// A complaint's photo (`n` from 0), for those who may read the complaint.
#[utoipa::path(get, path = "/api/v1/complaints/{id}/photos/{n}", tag = "complaints", security(("bearer" = [])),
    params(("id" = String, Path, description = "Complaint number"), ("n" = usize, Path, description = "Photo index from 0")),
    responses((status = 200, description = "the photo (image/jpeg or image/png)"),
        (status = 404, body = crate::http::error::Problem, content_type = "application/problem+json")))]
pub async fn photo(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, n)): Path<(String, usize)>,
) -> ApiResult<Response> {
    let c = service::readable(&state, &caller, &id).await?;
    let hash =
        c.complaint.photos.iter().filter(|p| !p.starts_with("http")).nth(n).ok_or(ApiError::NotFound)?;
    let (content_type, bytes) =
        crate::platform::uploads::upload_content(&state.db, hash).await?.ok_or(ApiError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

/// The complaint taxonomy: categories, their departments and location rules.
#[utoipa::path(get, path = "/api/v1/complaints/categories", tag = "complaints", responses((status = 200, body = Taxonomy)))]
pub async fn categories(State(state): State<AppState>) -> Json<Taxonomy> {
    Json((*state.complaints.taxonomy()).clone())
}

/// Replaces the taxonomy (system administrators); the classifier is retrained at once.
#[utoipa::path(put, path = "/api/v1/complaints/categories", tag = "complaints", request_body = Taxonomy, security(("bearer" = [])),
    responses((status = 200, body = Taxonomy), (status = 422, body = crate::http::error::Problem)))]
pub async fn put_categories(
    State(state): State<AppState>,
    crate::http::SignedIn(caller): crate::http::SignedIn,
    ApiJson(t): ApiJson<Taxonomy>,
) -> ApiResult<Json<Taxonomy>> {
    Ok(Json(service::put_taxonomy(&state, &caller, t).await?))
}

/// The three rates (响应率, 解决率, 满意率) per department for complaints received in a period.
#[utoipa::path(get, path = "/api/v1/complaints/rates", tag = "complaints", params(PeriodQuery), security(("bearer" = [])),
    responses((status = 200, body = RatesReport)))]
pub async fn rates(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Json<RatesReport>> {
    service::require_staff(&caller)?;
    Ok(Json(service::rates(&state, &q).await?))
}

/// 每月一题: the month's most recurring problems.
#[utoipa::path(get, path = "/api/v1/complaints/monthly-topics", tag = "complaints", params(PeriodQuery), security(("bearer" = [])),
    responses((status = 200, body = [Topic])))]
pub async fn monthly_topics(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Json<Vec<Topic>>> {
    service::require_staff(&caller)?;
    Ok(Json(service::monthly_topics(&state, q.month.as_deref()).await?))
}

/// 未诉先办 tasks: the department's, or all (operators, supervisors).
#[utoipa::path(get, path = "/api/v1/proactive-tasks", tag = "complaints", security(("bearer" = [])),
    responses((status = 200, body = [ProactiveTask])))]
pub async fn tasks(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<ProactiveTask>>> {
    Ok(Json(service::tasks(&state, &caller).await?))
}

/// Looks for clusters now (it also runs every minute) and returns the tasks raised or grown.
#[utoipa::path(post, path = "/api/v1/proactive-tasks/scan", tag = "complaints", security(("bearer" = [])),
    responses((status = 200, body = [ProactiveTask])))]
pub async fn scan(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<ProactiveTask>>> {
    if !service::is_operator(&caller.actor) {
        return Err(if caller.user_id.is_some() { ApiError::Forbidden } else { ApiError::Unauthenticated });
    }
    Ok(Json(service::scan_clusters(&state).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct FinishTask {
    /// What was done (required).
    pub note: Option<String>,
    pub version: Option<i64>,
}

/// Marks a proactive task done, saying what was done.
#[utoipa::path(post, path = "/api/v1/proactive-tasks/{id}/done", tag = "complaints", request_body = FinishTask,
    security(("bearer" = [])), params(("id" = String, Path, description = "Task id")),
    responses((status = 200, body = ProactiveTask), (status = 422, body = crate::http::error::Problem)))]
pub async fn finish_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJsonOrEmpty(req): ApiJsonOrEmpty<FinishTask>,
) -> ApiResult<Json<ProactiveTask>> {
    Ok(Json(service::finish_task(&state, &caller, &id, req.note, req.version).await?))
}

pub async fn task_members(state: &AppState, t: &ProactiveTask) -> ApiResult<Vec<store::Complaint>> {
    Ok(store::list(&state.db, &store::Filter { ids: t.members.clone(), limit: 500, ..Default::default() })
        .await?)
}
