//! The monitoring JSON API: supervision orders and running the sweep now.

use axum::Json;
use axum::extract::{Path, State};

use super::service::{self, CloseRequest, IssueRequest, SweepReport};
use super::store::Order;
use crate::app::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, Caller};

/// Supervision orders (督办单): every one for the supervision office, the department's own for
/// its head and approvers.
#[utoipa::path(get, path = "/api/v1/supervision/orders", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = Vec<Order>), (status = 401, body = crate::http::error::Problem),
        (status = 403, body = crate::http::error::Problem)))]
pub async fn list_orders(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Order>>> {
    Ok(Json(service::orders(&state, &caller).await?))
}

/// The supervision office issues an order by hand (for what no deadline watches); the
/// department's head is told.
#[utoipa::path(post, path = "/api/v1/supervision/orders", tag = "cases", request_body = IssueRequest,
    security(("bearer" = [])),
    responses((status = 201, body = Order), (status = 401, body = crate::http::error::Problem),
        (status = 403, body = crate::http::error::Problem), (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn issue_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<IssueRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<Order>)> {
    Ok((axum::http::StatusCode::CREATED, Json(service::issue(&state, &caller, req).await?)))
}

/// The department head closes an order with what was done to put it right.
#[utoipa::path(post, path = "/api/v1/supervision/orders/{id}/close", tag = "cases", request_body = CloseRequest,
    security(("bearer" = [])), params(("id" = String, Path, description = "The order's id")),
    responses((status = 200, body = Order), (status = 401, body = crate::http::error::Problem),
        (status = 403, body = crate::http::error::Problem), (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn close_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CloseRequest>,
) -> ApiResult<Json<Order>> {
    Ok(Json(service::close(&state, &caller, &id, req).await?))
}

/// Runs the electronic-monitoring sweep now (it also runs on its own as a leased job): each case
/// that turned yellow or red is raised once.
#[utoipa::path(post, path = "/api/v1/supervision/sweep", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = SweepReport), (status = 401, body = crate::http::error::Problem),
        (status = 403, body = crate::http::error::Problem)))]
pub async fn sweep(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<SweepReport>> {
    Ok(Json(service::sweep_now(&state, &caller).await?))
}
