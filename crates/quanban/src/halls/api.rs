//! JSON API of halls, the map data, nearest halls, slots and appointments.

use crate::http::extract::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::service::{self, BookRequest, DaySlots, NearHall};
use super::store::{self, Appointment};
use crate::app::AppState;
use crate::http::{ApiError, ApiJson, ApiResult, Caller, FieldError};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct HallFilter {
    /// `city`, `district`, `street` or `community`.
    pub level: Option<String>,
    /// Only halls that handle this item.
    pub item: Option<String>,
    /// Only halls in this district (历下区 … 商河县).
    pub district: Option<String>,
}

pub async fn select<'a>(state: &'a AppState, f: &HallFilter) -> ApiResult<Vec<&'a super::domain::HallEntry>> {
    if let Some(level) = f.level.as_deref().filter(|l| !l.is_empty())
        && !super::domain::LEVELS.contains(&level)
    {
        return Err(ApiError::Validation(vec![FieldError::new(
            "level",
            "unknown_level",
            "层级应为 city、district、street 或 community",
            "level must be city, district, street or community",
        )]));
    }
    let district = f.district.as_deref().map(str::trim).filter(|d| !d.is_empty());
    if let Some(d) = district
        && !crate::reference::DISTRICTS.contains(&d)
    {
        return Err(ApiError::Validation(vec![unknown_district(d)]));
    }
    let item = match f.item.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => match crate::catalog::store::get(&state.db, code).await? {
            Some(s) => Some((store::overrides_for_item(&state.db, &s.item.code).await?, s.item)),
            None => {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "item",
                    "unknown_item",
                    format!("事项“{code}”不存在"),
                    format!("No item {code}"),
                )]));
            }
        },
        None => None,
    };
    Ok(state
        .halls
        .directory
        .halls
        .iter()
        .filter(|h| f.level.as_deref().filter(|l| !l.is_empty()).is_none_or(|l| h.hall.level == l))
        .filter(|h| district.is_none_or(|d| h.hall.district == d))
        .filter(|h| item.as_ref().is_none_or(|(o, it)| state.halls.handles(h, it, o)))
        .collect())
}

pub fn unknown_district(d: &str) -> FieldError {
    FieldError::new(
        "district",
        "unknown_district",
        format!("“{d}”不是济南市的区县，请从列表中选择"),
        format!("\"{d}\" is not a district of Jinan; choose one from the list"),
    )
}

/// The districts' boundaries as a GeoJSON FeatureCollection (RFC 7946: WGS 84 polygons as
/// `[lon, lat]`), with each district's GB/T 2260 code and a point inside it for its label.
#[utoipa::path(get, path = "/api/v1/districts.geojson", tag = "halls",
    responses((status = 200, content_type = "application/geo+json")))]
pub async fn districts_geojson() -> Response {
    ([(header::CONTENT_TYPE, "application/geo+json")], quanban_domain::geo::DISTRICTS_GEOJSON).into_response()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PlaceQuery {
    /// What a person typed: a landmark (趵突泉), a street (千佛山街道), a community, a district,
    /// or an address that names one of them. At most 100 characters.
    pub q: Option<String>,
    /// How many (1 to 20, default 8).
    pub limit: Option<usize>,
}

/// Places from the city's gazetteer (districts, streets and towns, communities, landmarks), best
/// match first, with approximate WGS 84 points: so that nobody has to type coordinates.
#[utoipa::path(get, path = "/api/v1/places", tag = "halls", params(PlaceQuery),
    responses((status = 200, body = [quanban_domain::geo::Place]), (status = 422, body = crate::http::error::Problem)))]
pub async fn places(
    State(state): State<AppState>,
    Query(q): Query<PlaceQuery>,
) -> ApiResult<Json<Vec<quanban_domain::geo::Place>>> {
    let text = q.q.unwrap_or_default();
    let mut errors = Vec::new();
    if text.chars().count() > 100 {
        errors.push(FieldError::new("q", "too_long", "地点最多100个字", "q is at most 100 characters"));
    }
    let limit = q.limit.unwrap_or(8);
    if !(1..=20).contains(&limit) {
        errors.push(FieldError::new(
            "limit",
            "out_of_range",
            "limit 应在 1 到 20 之间",
            "limit must be 1 to 20",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(Json(state.halls.city.gazetteer.search(&text, limit).into_iter().cloned().collect()))
}

fn hall_json(h: &super::domain::HallEntry) -> Value {
    json!({
        "code": h.hall.code, "name": h.hall.name, "level": h.hall.level, "parent": h.hall.parent,
        "district": h.hall.district, "address": h.hall.address, "lat": h.hall.lat, "lon": h.hall.lon,
        "hours": h.hall.hours, "windows": h.hall.windows, "phone": h.hall.phone,
    })
}

/// Halls on four levels (city, district, street, community), filtered by level and item.
#[utoipa::path(get, path = "/api/v1/halls", tag = "halls", params(HallFilter),
    responses((status = 200, description = "Halls"), (status = 422, body = crate::http::error::Problem)))]
pub async fn list_halls(
    State(state): State<AppState>,
    Query(f): Query<HallFilter>,
) -> ApiResult<Json<Vec<Value>>> {
    Ok(Json(select(&state, &f).await?.into_iter().map(hall_json).collect()))
}

/// The halls as a GeoJSON FeatureCollection (RFC 7946: points as `[lon, lat]`, WGS 84).
#[utoipa::path(get, path = "/api/v1/halls.geojson", tag = "halls", params(HallFilter),
    responses((status = 200, content_type = "application/geo+json"), (status = 422, body = crate::http::error::Problem)))]
pub async fn geojson(State(state): State<AppState>, Query(f): Query<HallFilter>) -> ApiResult<Response> {
    let features: Vec<Value> = select(&state, &f)
        .await?
        .into_iter()
        .map(|h| {
            let mut props = hall_json(h);
            if let Some(o) = props.as_object_mut() {
                o.remove("lat");
                o.remove("lon");
            }
            json!({
                "type": "Feature",
                "id": h.hall.code,
                "geometry": {"type": "Point", "coordinates": [h.hall.lon, h.hall.lat]},
                "properties": props,
            })
        })
        .collect();
    let body = json!({"type": "FeatureCollection", "features": features});
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], body.to_string()).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct NearestQuery {
    /// WGS 84 latitude, −90 to 90.
    pub lat: Option<String>,
    /// WGS 84 longitude, −180 to 180.
    pub lon: Option<String>,
    /// Only halls that handle this item.
    pub item: Option<String>,
    /// How many (1 to 50, default 5).
    pub limit: Option<usize>,
}

fn number(field: &str, raw: Option<&str>) -> Result<Option<f64>, FieldError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse::<f64>().map(Some).map_err(|_| {
            FieldError::new(
                field,
                "not_a_number",
                format!("{field} 应为数字"),
                format!("{field} must be a number"),
            )
        }),
    }
}

/// Halls that handle the item, nearest first (great-circle distance through a spatial index),
/// with whether each is open now.
#[utoipa::path(get, path = "/api/v1/halls/nearest", tag = "halls", params(NearestQuery),
    responses((status = 200, body = [NearHall]), (status = 422, body = crate::http::error::Problem)))]
pub async fn nearest(
    State(state): State<AppState>,
    Query(q): Query<NearestQuery>,
) -> ApiResult<Json<Vec<NearHall>>> {
    let lat = number("lat", q.lat.as_deref()).map_err(|e| ApiError::Validation(vec![e]))?;
    let lon = number("lon", q.lon.as_deref()).map_err(|e| ApiError::Validation(vec![e]))?;
    let (lat, lon) = service::coordinates(lat, lon)?;
    Ok(Json(service::nearest(&state, lat, lon, q.item.as_deref(), q.limit.unwrap_or(5)).await?))
}

/// One hall.
#[utoipa::path(get, path = "/api/v1/halls/{code}", tag = "halls", params(("code" = String, Path, description = "Hall code")),
    responses((status = 200, description = "The hall"), (status = 404, body = crate::http::error::Problem)))]
pub async fn get_hall(State(state): State<AppState>, Path(code): Path<String>) -> ApiResult<Json<Value>> {
    let h = state.halls.directory.get(&code).ok_or(ApiError::NotFound)?;
    let mut v = hall_json(h);
    v["opening"] = serde_json::to_value(&h.hours).unwrap_or(Value::Null);
    Ok(Json(v))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SlotsQuery {
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
    /// The item to be handled (the hall must handle it).
    pub item: Option<String>,
}

/// A day's appointment slots with capacity and places remaining (past slots and days beyond the
/// booking window have none).
#[utoipa::path(get, path = "/api/v1/halls/{code}/slots", tag = "halls", params(("code" = String, Path, description = "Hall code"), SlotsQuery),
    responses((status = 200, body = DaySlots), (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn slots(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<SlotsQuery>,
) -> ApiResult<Json<DaySlots>> {
    let date = q.date.unwrap_or_else(|| state.clock().today().format("%Y-%m-%d").to_string());
    Ok(Json(service::day_slots(&state, &code, &date, q.item.as_deref()).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CoverageRequest {
    pub handles: bool,
}

/// Sets whether a hall handles an item (system administrators).
#[utoipa::path(put, path = "/api/v1/halls/{code}/items/{item}", tag = "halls", request_body = CoverageRequest,
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Hall code"), ("item" = String, Path, description = "Item code")),
    responses((status = 200, description = "{hall_code, item_code, handles}"), (status = 403, body = crate::http::error::Problem)))]
pub async fn set_coverage(
    State(state): State<AppState>,
    crate::http::SignedIn(caller): crate::http::SignedIn,
    Path((code, item)): Path<(String, String)>,
    ApiJson(req): ApiJson<CoverageRequest>,
) -> ApiResult<Json<Value>> {
    let actor = caller.require_user()?.to_string();
    crate::identity::api::require(crate::identity::authz::decide(
        &caller.actor,
        crate::identity::authz::Action::Update,
        &crate::identity::authz::Resource::System,
    ))?;
    state.halls.directory.get(&code).ok_or(ApiError::NotFound)?;
    let stored = crate::catalog::store::get(&state.db, &item).await?.ok_or(ApiError::NotFound)?;
    store::set_coverage(&state.db, code.clone(), stored.item.code.clone(), req.handles, actor).await?;
    Ok(Json(json!({"hall_code": code, "item_code": stored.item.code, "handles": req.handles})))
}

/// Books a slot: 201 with the appointment; 409 when the slot is full or you already hold a place
/// in it; 422 for a past slot, a time outside opening hours, a holiday or an item the hall does
/// not handle.
#[utoipa::path(post, path = "/api/v1/appointments", tag = "halls", request_body = BookRequest, security(("bearer" = [])),
    responses((status = 201, body = Appointment), (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn book(
    State(state): State<AppState>,
    crate::http::SignedIn(caller): crate::http::SignedIn,
    ApiJson(req): ApiJson<BookRequest>,
) -> ApiResult<(StatusCode, Json<Appointment>)> {
    Ok((StatusCode::CREATED, Json(service::book(&state, &caller, req).await?)))
}

/// The signed-in person's appointments, latest first.
#[utoipa::path(get, path = "/api/v1/appointments", tag = "halls", security(("bearer" = [])),
    responses((status = 200, body = [Appointment]), (status = 401, body = crate::http::error::Problem)))]
pub async fn my_appointments(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Appointment>>> {
    let user = caller.require_user()?;
    Ok(Json(store::appointments_of(&state.db, user).await?))
}

/// Cancels your appointment (up to `cancel_minutes` before it); the place is freed.
#[utoipa::path(post, path = "/api/v1/appointments/{id}/cancel", tag = "halls", security(("bearer" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    responses((status = 200, body = Appointment), (status = 409, body = crate::http::error::Problem)))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Appointment>> {
    Ok(Json(service::cancel(&state, &caller, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VisitRequest {
    /// `arrived` or `no_show`.
    pub status: String,
}

/// A window clerk records that the person came or did not.
#[utoipa::path(post, path = "/api/v1/appointments/{id}/visit", tag = "halls", request_body = VisitRequest,
    security(("bearer" = [])), params(("id" = String, Path, description = "Appointment id")),
    responses((status = 200, body = Appointment), (status = 403, body = crate::http::error::Problem)))]
pub async fn visit(
    State(state): State<AppState>,
    crate::http::SignedIn(caller): crate::http::SignedIn,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<VisitRequest>,
) -> ApiResult<Json<Appointment>> {
    Ok(Json(service::record_visit(&state, &caller, &id, &req.status).await?))
}

/// The appointment as an iCalendar file.
#[utoipa::path(get, path = "/api/v1/appointments/{id}/ics", tag = "halls", security(("bearer" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    responses((status = 200, content_type = "text/calendar"), (status = 404, body = crate::http::error::Problem)))]
pub async fn ics(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let body = service::ics(&state, &caller, &id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"appointment-{id}.ics\"")),
        ],
        body,
    )
        .into_response())
}

/// Takes a queue number on arrival: with `appointment_id` (yours, here, today) in the
/// appointments group B; otherwise a walk-in number in group A (no login needed).
#[utoipa::path(post, path = "/api/v1/halls/{code}/queue", tag = "halls", request_body = service::TakeNumber,
    params(("code" = String, Path, description = "Hall code")),
    responses((status = 201, body = store::Ticket), (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn take_number(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    crate::http::extract::ApiJsonOrEmpty(req): crate::http::extract::ApiJsonOrEmpty<service::TakeNumber>,
) -> ApiResult<(StatusCode, Json<store::Ticket>)> {
    Ok((StatusCode::CREATED, Json(service::take_number(&state, &caller, &code, req).await?)))
}

/// The hall's queue: waiting per group, the latest calls, today's waiting times.
#[utoipa::path(get, path = "/api/v1/halls/{code}/queue", tag = "halls", params(("code" = String, Path, description = "Hall code")),
    responses((status = 200, body = service::QueueStatus), (status = 404, body = crate::http::error::Problem)))]
pub async fn queue(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<service::QueueStatus>> {
    Ok(Json(service::queue_status(&state, &code).await?))
}

/// A window clerk calls the next number (`{"ticket": null}` when nobody is waiting).
#[utoipa::path(post, path = "/api/v1/halls/{code}/queue/call", tag = "halls", request_body = service::CallRequest,
    security(("bearer" = [])), params(("code" = String, Path, description = "Hall code")),
    responses((status = 200, description = "{ticket}"), (status = 403, body = crate::http::error::Problem)))]
pub async fn call_next(
    State(state): State<AppState>,
    crate::http::SignedIn(caller): crate::http::SignedIn,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<service::CallRequest>,
) -> ApiResult<Json<Value>> {
    let t = service::call_next(&state, &caller, &code, req).await?;
    Ok(Json(json!({"ticket": t})))
}

/// The window's current number, for 重呼 (recall) and 过号 (skip).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct WindowRequest {
    /// The window, as it called the number (e.g. `5号窗口`).
    pub window: String,
}

/// The window calls its current number again (重呼): it comes back to the top of the display.
/// 409 `nothing_called` when the window has no number called.
#[utoipa::path(post, path = "/api/v1/halls/{code}/queue/recall", tag = "halls", request_body = WindowRequest,
    security(("bearer" = [])), params(("code" = String, Path, description = "Hall code")),
    responses((status = 200, body = store::Ticket), (status = 403, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn recall(
    State(state): State<AppState>,
    crate::http::SignedIn(caller): crate::http::SignedIn,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<WindowRequest>,
) -> ApiResult<Json<store::Ticket>> {
    Ok(Json(service::window_step(&state, &caller, &code, &req.window, store::WindowStep::Recall).await?))
}

/// The holder of the window's current number did not come (过号): it is passed over.
/// 409 `nothing_called` when the window has no number called.
#[utoipa::path(post, path = "/api/v1/halls/{code}/queue/skip", tag = "halls", request_body = WindowRequest,
    security(("bearer" = [])), params(("code" = String, Path, description = "Hall code")),
    responses((status = 200, body = store::Ticket), (status = 403, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn skip(
    State(state): State<AppState>,
    crate::http::SignedIn(caller): crate::http::SignedIn,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<WindowRequest>,
) -> ApiResult<Json<store::Ticket>> {
    Ok(Json(service::window_step(&state, &caller, &code, &req.window, store::WindowStep::Skip).await?))
}

/// Who cancels a number: the signed-in holder, or anyone with the slip's code.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CancelTicket {
    /// The code on the slip (given once, when the number was taken).
    #[serde(default)]
    pub secret: Option<String>,
}

/// The holder leaves the queue. 404 for anyone else; 409 `not_waiting` once it has been called.
#[utoipa::path(post, path = "/api/v1/queue/tickets/{id}/cancel", tag = "halls", request_body = CancelTicket,
    params(("id" = String, Path, description = "Ticket id")),
    responses((status = 200, body = store::Ticket), (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem)))]
pub async fn cancel_ticket(
    State(state): State<AppState>,
    caller: crate::http::Caller,
    Path(id): Path<String>,
    crate::http::extract::ApiJsonOrEmpty(req): crate::http::extract::ApiJsonOrEmpty<CancelTicket>,
) -> ApiResult<Json<store::Ticket>> {
    Ok(Json(service::cancel_ticket(&state, &caller, &id, req.secret.as_deref()).await?))
}

/// One ticket, with how many are waiting before it.
#[utoipa::path(get, path = "/api/v1/queue/tickets/{id}", tag = "halls", params(("id" = String, Path, description = "Ticket id")),
    responses((status = 200, body = store::Ticket), (status = 404, body = crate::http::error::Problem)))]
pub async fn ticket(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<store::Ticket>> {
    Ok(Json(store::ticket(&state.db, &id).await?.ok_or(ApiError::NotFound)?))
}

/// Registers a self-service kiosk (system administrators). The token is shown once: the device
/// opens `/kiosk/{id}?token=…` and sends heartbeats with it.
#[utoipa::path(post, path = "/api/v1/kiosks", tag = "halls", request_body = service::RegisterKiosk,
    security(("bearer" = [])),
    responses((status = 201, description = "{kiosk, token, url}"), (status = 403, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn register_kiosk(
    State(state): State<AppState>,
    crate::http::SignedIn(caller): crate::http::SignedIn,
    ApiJson(req): ApiJson<service::RegisterKiosk>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (k, token) = service::register_kiosk(&state, &caller, req).await?;
    let url = format!("{}/kiosk/{}?token={token}", state.config.public_url.trim_end_matches('/'), k.id);
    Ok((StatusCode::CREATED, Json(json!({"kiosk": k, "token": token, "url": url}))))
}

/// Kiosks with their last heartbeat; `silent` ones have not been heard from for 5 minutes.
#[utoipa::path(get, path = "/api/v1/kiosks", tag = "halls", security(("bearer" = [])),
    responses((status = 200, body = [service::KioskView]), (status = 403, body = crate::http::error::Problem)))]
pub async fn kiosks(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<service::KioskView>>> {
    Ok(Json(service::kiosks(&state, &caller).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Heartbeat {
    pub id: String,
    pub token: String,
}

/// A kiosk's heartbeat (204; 401 for a wrong id or token).
#[utoipa::path(post, path = "/api/v1/kiosks/heartbeat", tag = "halls", request_body = Heartbeat,
    responses((status = 204), (status = 401, body = crate::http::error::Problem)))]
pub async fn heartbeat(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<Heartbeat>,
) -> ApiResult<StatusCode> {
    match service::kiosk_heartbeat(&state, &req.id, &req.token).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::Unauthenticated),
    }
}
