//! JSON endpoints of the calendar: date arithmetic for anyone, years for administrators.

use crate::http::extract::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::domain::{HolidayYear, parse_year};
use super::store::{self, PutYearError};
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Caller, FieldError};
use crate::identity::api::require;
use crate::identity::authz::{Action, Resource, decide};

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AddQuery {
    /// Start date, YYYY-MM-DD.
    pub from: String,
    /// Working days to add (0–3650).
    pub n: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AddAnswer {
    pub from: String,
    pub n: u32,
    pub date: String,
    /// False when the result lies in a year whose holidays are not loaded (weekends only).
    pub covered: bool,
}

/// The date `n` working days after `from`.
#[utoipa::path(get, path = "/api/v1/calendar/add", tag = "calendar", params(AddQuery),
    responses((status = 200, body = AddAnswer), (status = 422, body = crate::http::error::Problem)))]
pub async fn add_days(
    State(state): State<AppState>,
    Query(q): Query<AddQuery>,
) -> ApiResult<Json<AddAnswer>> {
    let mut errors = Vec::new();
    let from = FieldError::parse_date("from", &q.from).map_err(|e| errors.push(e)).ok();
    let n = q.n.trim().parse::<u32>().ok().filter(|n| *n <= 3650);
    if n.is_none() {
        errors.push(FieldError::new(
            "n",
            "invalid_count",
            "n 应为0至3650之间的整数",
            "n must be a whole number from 0 to 3650",
        ));
    }
    let (Some(from), Some(n)) = (from, n) else { return Err(ApiError::Validation(errors)) };
    let cal = state.calendar.read().await;
    let date = cal.add_working_days(from, n);
    Ok(Json(AddAnswer {
        from: from.to_string(),
        n,
        date: date.to_string(),
        covered: cal.covers(date) && cal.covers(from),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CountQuery {
    pub from: String,
    pub to: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CountAnswer {
    pub from: String,
    pub to: String,
    /// Working days d with from < d <= to (negative when to is before from).
    pub working_days: i64,
}

/// Working days between two dates.
#[utoipa::path(get, path = "/api/v1/calendar/count", tag = "calendar", params(CountQuery),
    responses((status = 200, body = CountAnswer), (status = 422, body = crate::http::error::Problem)))]
pub async fn count_days(
    State(state): State<AppState>,
    Query(q): Query<CountQuery>,
) -> ApiResult<Json<CountAnswer>> {
    let mut errors = Vec::new();
    let from = FieldError::parse_date("from", &q.from).map_err(|e| errors.push(e)).ok();
    let to = FieldError::parse_date("to", &q.to).map_err(|e| errors.push(e)).ok();
    let (Some(from), Some(to)) = (from, to) else { return Err(ApiError::Validation(errors)) };
    let n = state.calendar.read().await.working_days_between(from, to);
    Ok(Json(CountAnswer { from: from.to_string(), to: to.to_string(), working_days: n }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DayAnswer {
    pub date: String,
    pub working_day: bool,
    pub covered: bool,
}

/// Whether a date is a working day.
#[utoipa::path(get, path = "/api/v1/calendar/days/{date}", tag = "calendar",
    params(("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = DayAnswer), (status = 422, body = crate::http::error::Problem)))]
pub async fn get_day(State(state): State<AppState>, Path(date): Path<String>) -> ApiResult<Json<DayAnswer>> {
    let d = FieldError::parse_date("date", &date).map_err(|e| ApiError::Validation(vec![e]))?;
    let cal = state.calendar.read().await;
    Ok(Json(DayAnswer { date: d.to_string(), working_day: cal.is_working_day(d), covered: cal.covers(d) }))
}

/// Adds or replaces a year's holiday arrangement (system administrators). Body: `{"off": [...], "work": [...]}`.
#[utoipa::path(put, path = "/api/v1/calendar/years/{year}", tag = "calendar", security(("bearer" = [])),
    params(("year" = i32, Path, description = "e.g. 2027")),
    responses((status = 204), (status = 403, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn put_year(
    State(state): State<AppState>,
    caller: Caller,
    Path(year): Path<i32>,
    body: String,
) -> ApiResult<StatusCode> {
    caller.require_user()?;
    require(decide(&caller.actor, Action::Update, &Resource::System))?;
    let parsed: HolidayYear = parse_year(year, &body).map_err(year_error)?;
    store::put_year(&state.db, caller.actor.audit_name(), parsed).await.map_err(|e| match e {
        PutYearError::Invalid(e) => year_error(e),
        PutYearError::Store(e) => e.into(),
    })?;
    state.reload_calendar().await?;
    Ok(StatusCode::NO_CONTENT)
}

fn year_error(e: super::domain::CalendarError) -> ApiError {
    ApiError::Validation(vec![FieldError::new("body", e.code(), e.message_zh(), e.message_en())])
}
