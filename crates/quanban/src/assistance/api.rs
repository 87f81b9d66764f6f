//! JSON API of assisted service (帮办代办).

use crate::http::extract::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::service::{self, AskRequest, StepRequest};
use super::store::Request;
use crate::app::AppState;
use crate::http::extract::ApiJsonOrEmpty;
use crate::http::{ApiJson, ApiResult, Caller};

/// Asks for assisted service (free of charge).
#[utoipa::path(post, path = "/api/v1/assistance", tag = "assistance", request_body = AskRequest, security(("bearer" = [])),
    responses((status = 201, body = Request), (status = 422, body = crate::http::error::Problem)))]
pub async fn ask(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<AskRequest>,
) -> ApiResult<(StatusCode, Json<Request>)> {
    Ok((StatusCode::CREATED, Json(service::ask(&state, &caller, req).await?)))
}

/// Your requests (people), the ones assigned to you (officers), or all of them (coordinators).
#[utoipa::path(get, path = "/api/v1/assistance", tag = "assistance", security(("bearer" = [])),
    responses((status = 200, body = [Request])))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Request>>> {
    Ok(Json(service::list(&state, &caller).await?))
}

/// One request with its notes.
#[utoipa::path(get, path = "/api/v1/assistance/{id}", tag = "assistance", security(("bearer" = [])),
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, body = Request), (status = 404, body = crate::http::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Request>> {
    Ok(Json(service::readable(&state, &caller, &id).await?))
}

/// A step: `assign` (coordinators: `officer`), `authorize` (the applicant signs the power of
/// attorney: `accepted: true`), `note`, `complete` (the officer), `cancel`, `rate` (`score` 1–5).
#[utoipa::path(post, path = "/api/v1/assistance/{id}/{action}", tag = "assistance", request_body = StepRequest,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Request id"), ("action" = String, Path, description = "assign | authorize | note | complete | cancel | rate")),
    responses((status = 200, body = Request), (status = 403, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn step(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
    ApiJsonOrEmpty(req): ApiJsonOrEmpty<StepRequest>,
) -> ApiResult<Json<Request>> {
    Ok(Json(service::step(&state, &caller, &id, &action, req).await?))
}
