//! JSON API of data sharing: the catalog, requests for conditional data, the exchange and
//! "who looked at my data".

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::domain::{DATASETS, Dataset};
use super::service::{self, AccessView, ExchangeQuery, ExchangeRecord, RequestView, StepBody};
use super::sharing::NewRequest;
use crate::app::AppState;
use crate::http::extract::{ApiJsonOrEmpty, Path, Query};
use crate::http::{ApiJson, ApiResult, Caller};

/// The data catalog (政务数据资源目录): every dataset, its owner, fields and sharing classes.
#[utoipa::path(get, path = "/api/v1/data/catalog", tag = "data",
    responses((status = 200, description = "The datasets", body = [Object])))]
pub async fn catalog() -> Json<&'static [Dataset]> {
    Json(DATASETS)
}

/// The data catalog as DCAT-AP 3 JSON-LD.
#[utoipa::path(get, path = "/api/v1/data/catalog.jsonld", tag = "data",
    responses((status = 200, description = "DCAT-AP 3 catalog", content_type = "application/ld+json", body = Object)))]
pub async fn catalog_jsonld(State(state): State<AppState>) -> ApiResult<impl axum::response::IntoResponse> {
    let names = crate::platform::directory::department_names(&state.db).await?;
    let body = super::dcat::catalog(&state.config.public_url, &names);
    Ok(([(axum::http::header::CONTENT_TYPE, "application/ld+json")], body.to_string()))
}

/// Asks another department for conditional fields of its dataset (data officers and heads).
#[utoipa::path(post, path = "/api/v1/data/requests", tag = "data", request_body = NewRequest, security(("bearer" = [])),
    responses((status = 201, body = RequestView), (status = 403, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn create_request(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewRequest>,
) -> ApiResult<(StatusCode, Json<RequestView>)> {
    Ok((StatusCode::CREATED, Json(service::create_request(&state, &caller, req).await?)))
}

/// Requests made by and to your department (every department's for the supervisor), with
/// their deadline lights.
#[utoipa::path(get, path = "/api/v1/data/requests", tag = "data", security(("bearer" = [])),
    responses((status = 200, body = [RequestView]), (status = 403, body = crate::http::error::Problem)))]
pub async fn list_requests(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<RequestView>>> {
    Ok(Json(service::list_requests(&state, &caller).await?))
}

/// One request.
#[utoipa::path(get, path = "/api/v1/data/requests/{id}", tag = "data", security(("bearer" = [])),
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, body = RequestView), (status = 404, body = crate::http::error::Problem)))]
pub async fn get_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RequestView>> {
    Ok(Json(service::get_request(&state, &caller, &id).await?))
}

/// A step: `decide` (the owner: a verdict per field), `revoke` (the owner, with a reason),
/// `withdraw` (the requester, while pending).
#[utoipa::path(post, path = "/api/v1/data/requests/{id}/{action}", tag = "data", request_body = StepBody,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Request id"), ("action" = String, Path, description = "decide | revoke | withdraw")),
    responses((status = 200, body = RequestView), (status = 403, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn step(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<StepBody>,
) -> ApiResult<Json<RequestView>> {
    Ok(Json(service::step(&state, &caller, &id, &action, body).await?))
}

/// Reads fields of one record through the exchange (department staff only). Refused with 403
/// naming each field the reader's grants do not cover; every read is logged.
#[utoipa::path(get, path = "/api/v1/data/exchange/{dataset}/{key}", tag = "data", security(("bearer" = [])),
    params(("dataset" = String, Path, description = "Dataset id"),
        ("key" = String, Path, description = "The record's key: a credit code or an ID number"), ExchangeQuery),
    responses((status = 200, body = ExchangeRecord), (status = 403, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn exchange(
    State(state): State<AppState>,
    caller: Caller,
    Path((dataset, key)): Path<(String, String)>,
    Query(q): Query<ExchangeQuery>,
) -> ApiResult<Json<ExchangeRecord>> {
    Ok(Json(service::read_one(&state, &caller, &dataset, &key, q).await?))
}

/// The reads your department made through the exchange (every department's for the supervisor).
#[utoipa::path(get, path = "/api/v1/data/access", tag = "data", security(("bearer" = [])),
    responses((status = 200, body = [AccessView]), (status = 403, body = crate::http::error::Problem)))]
pub async fn department_access(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<AccessView>>> {
    Ok(Json(service::department_accesses(&state, &caller).await?))
}

/// Who looked at my data: every read of your records by a department, batch reads included.
#[utoipa::path(get, path = "/api/v1/me/data-access", tag = "data", security(("bearer" = [])),
    responses((status = 200, body = [AccessView]), (status = 404, description = "Not a person's account", body = crate::http::error::Problem)))]
pub async fn my_access(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<AccessView>>> {
    Ok(Json(service::my_accesses(&state, &caller).await?))
}

/// Who looked at the enterprise's data (its representatives and agents).
#[utoipa::path(get, path = "/api/v1/enterprises/{code}/data-access", tag = "data", security(("bearer" = [])),
    params(("code" = String, Path, description = "Unified social credit code")),
    responses((status = 200, body = [AccessView]), (status = 404, body = crate::http::error::Problem)))]
pub async fn enterprise_access(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<AccessView>>> {
    Ok(Json(service::enterprise_accesses(&state, &caller, &code).await?))
}
