//! JSON API of 好差评.

use crate::http::extract::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::service::{self, LoopRequest, LoopView, RateRequest, RatingView, Stats, StatsQuery};
use crate::app::AppState;
use crate::http::extract::ApiJsonOrEmpty;
use crate::http::{ApiJson, ApiResult, Caller};

/// Rates a finished case (`case_number`, by its applicant or with the one-tap link's `token`),
/// a hall visit (`ticket_id`) or a closed complaint (`complaint_id`): once each, within 5
/// working days. A bad review (1–2) needs a `comment` and opens the rectification loop.
#[utoipa::path(post, path = "/api/v1/ratings", tag = "ratings", request_body = RateRequest,
    responses((status = 201, body = RatingView), (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn rate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RateRequest>,
) -> ApiResult<(StatusCode, Json<RatingView>)> {
    Ok((StatusCode::CREATED, Json(service::rate(&state, &caller, req).await?)))
}

/// Your own ratings, with the loop of each bad one.
#[utoipa::path(get, path = "/api/v1/ratings/mine", tag = "ratings", security(("bearer" = [])),
    responses((status = 200, body = [RatingView])))]
pub async fn mine(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<RatingView>>> {
    Ok(Json(service::mine(&state, &caller).await?))
}

/// Published figures per department, item, hall or officer (staff) for a period; `format=csv`.
#[utoipa::path(get, path = "/api/v1/ratings/stats", tag = "ratings", params(StatsQuery),
    responses((status = 200, body = Stats)))]
pub async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<StatsQuery>,
) -> ApiResult<Response> {
    let s = service::stats(&state, &caller, &q).await?;
    if q.format.as_deref() == Some("csv") {
        let body = service::stats_csv(&s)?;
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"ratings-{}-{}-{}.csv\"", s.by, s.from, s.to),
                ),
            ],
            body,
        )
            .into_response());
    }
    Ok(Json(s).into_response())
}

/// Bad reviews to handle: the department's (supervisors: all), open ones first, with lights.
#[utoipa::path(get, path = "/api/v1/bad-reviews", tag = "ratings", security(("bearer" = [])),
    responses((status = 200, body = [LoopView])))]
pub async fn loops(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<LoopView>>> {
    Ok(Json(service::loops(&state, &caller).await?))
}

/// One bad review and its loop.
#[utoipa::path(get, path = "/api/v1/bad-reviews/{id}", tag = "ratings", security(("bearer" = [])),
    params(("id" = String, Path, description = "Rating id")), responses((status = 200, body = LoopView)))]
pub async fn get_loop(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<LoopView>> {
    Ok(Json(service::get_loop(&state, &caller, &id).await?))
}

/// A step: `verify` (`note`), `rectify` (`answer`), `revisit` (`satisfied`), `appeal`
/// (`reason`), `decide_appeal` (`uphold`, supervisors).
#[utoipa::path(post, path = "/api/v1/bad-reviews/{id}/{action}", tag = "ratings", request_body = LoopRequest,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Rating id"), ("action" = String, Path, description = "verify | rectify | revisit | appeal | decide_appeal")),
    responses((status = 200, body = LoopView), (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn step(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
    ApiJsonOrEmpty(req): ApiJsonOrEmpty<LoopRequest>,
) -> ApiResult<Json<LoopView>> {
    Ok(Json(service::step(&state, &caller, &id, &action, req).await?))
}
