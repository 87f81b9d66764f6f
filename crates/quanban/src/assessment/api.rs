//! The assessment JSON API: the ranking with every department's figures, and the records
//! behind one figure.

use axum::Json;
use axum::extract::{Path, Query, State};

use super::service::{self, Assessment, Drill, PeriodQuery};
use crate::app::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::Caller;

/// Every department's scorecard for a period (a month, a range, or the configured period so far),
/// ranked; each indicator with its formula and weight. The supervision office and the
/// departments' heads.
#[utoipa::path(get, path = "/api/v1/assessment/scorecards", tag = "supervision", params(PeriodQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Assessment), (status = 401, body = crate::http::error::Problem),
        (status = 403, body = crate::http::error::Problem), (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn scorecards(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Json<Assessment>> {
    Ok(Json(service::assessment(&state, &caller, &q).await?))
}

/// The records behind one department's figure, each with what it adds to the numerator and the
/// denominator (their sums are the figure). The department's head and the supervision office;
/// anyone else: 404.
#[utoipa::path(get, path = "/api/v1/assessment/scorecards/{department}/{indicator}", tag = "supervision",
    params(("department" = String, Path, description = "Department code"),
        ("indicator" = String, Path, description = "Indicator code, e.g. on_time"), PeriodQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Drill), (status = 401, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn drill(
    State(state): State<AppState>,
    caller: Caller,
    Path((department, indicator)): Path<(String, String)>,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Json<Drill>> {
    Ok(Json(service::drill(&state, &caller, &department, &indicator, &q).await?))
}

/// The supervision office's comments on a department's scorecard (督查意见), newest first. The
/// department's head and the supervision office; anyone else: 404.
#[utoipa::path(get, path = "/api/v1/assessment/scorecards/{department}/comments", tag = "supervision",
    params(("department" = String, Path, description = "Department code")),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<super::store::Comment>), (status = 401, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem)))]
pub async fn comments(
    State(state): State<AppState>,
    caller: Caller,
    Path(department): Path<String>,
) -> ApiResult<Json<Vec<super::store::Comment>>> {
    Ok(Json(service::comments(&state, &caller, &department).await?))
}

/// Comments on a department's scorecard, or on one of its figures, for a period: what the
/// supervision office writes there instead of a figure (figures are computed from the records).
/// The department's head may not (403); anyone else: 404. A blank comment, an unknown indicator
/// or a wrong period is named (422) and nothing is kept.
#[utoipa::path(post, path = "/api/v1/assessment/scorecards/{department}/comments", tag = "supervision",
    params(("department" = String, Path, description = "Department code")),
    request_body = service::CommentRequest,
    security(("bearer" = [])),
    responses((status = 201, body = super::store::Comment), (status = 401, body = crate::http::error::Problem),
        (status = 403, body = crate::http::error::Problem), (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn comment(
    State(state): State<AppState>,
    caller: Caller,
    Path(department): Path<String>,
    crate::http::ApiJson(req): crate::http::ApiJson<service::CommentRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<super::store::Comment>)> {
    Ok((axum::http::StatusCode::CREATED, Json(service::comment(&state, &caller, &department, req).await?)))
}
