//! Finding halls, their slots, and booking: shared by the JSON API and the pages.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::domain::{self, Directory, HallEntry};
use super::store::{self, Appointment, Booking, NewAppointment};
use crate::app::AppState;
use crate::catalog;
use crate::config::Config;
use crate::http::{ApiError, ApiResult, Caller, FieldError};
use crate::identity::api::require;
use crate::identity::authz::{Action, Actor, Resource, decide};
use crate::reference::data::CatalogItem;
use crate::store::{Db, StoreError};

/// The halls and what is needed to decide which items they handle (loaded once: halls come
/// from the reference data and do not change while running).
pub struct HallsIndex {
    pub directory: Directory,
    department_districts: HashMap<String, Option<String>>,
    /// The districts' boundaries and the gazetteer (streets and communities are the halls').
    pub city: quanban_domain::geo::City,
    /// The districts drawn for the pages' maps, once.
    pub shapes: Arc<crate::web::map::CityShapes>,
}

impl HallsIndex {
    pub async fn load(db: &Db) -> anyhow::Result<HallsIndex> {
        let directory = Directory::new(store::halls(db).await?);
        let halls: Vec<crate::reference::data::Hall> =
            directory.halls.iter().map(|h| h.hall.clone()).collect();
        let city = quanban_domain::geo::City::shipped(&halls)?;
        Ok(HallsIndex {
            shapes: Arc::new(crate::web::map::CityShapes::draw(&city)),
            city,
            directory,
            department_districts: store::department_districts(db).await?,
        })
    }

    /// A map for a page, opening on `district` when one is chosen.
    pub fn map(&self, district: Option<&str>) -> crate::web::map::CityMap {
        crate::web::map::CityMap::new(self.shapes.clone(), &self.city, district)
    }

    /// Whether `hall` handles `item`: the administrator's word if given, else the default.
    pub fn handles(&self, hall: &HallEntry, item: &CatalogItem, overrides: &HashMap<String, bool>) -> bool {
        overrides.get(&hall.hall.code).copied().unwrap_or_else(|| {
            domain::handles_by_default(
                &hall.hall.level,
                &hall.hall.district,
                &item.level,
                self.department_districts.get(&item.department).and_then(|d| d.as_deref()),
            )
        })
    }
}

impl std::fmt::Debug for HallsIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HallsIndex({} halls)", self.directory.halls.len())
    }
}

/// People per slot in a hall.
pub fn capacity(config: &Config, hall: &HallEntry) -> i64 {
    if config.slot_capacity > 0 {
        i64::from(config.slot_capacity)
    } else {
        i64::from((hall.hall.windows / 4).clamp(1, 20))
    }
}

async fn active_item(state: &AppState, field: &str, code: &str) -> ApiResult<CatalogItem> {
    match catalog::store::get(&state.db, code.trim()).await? {
        Some(s) if s.status == "active" => Ok(s.item),
        _ => Err(ApiError::Validation(vec![FieldError::new(
            field,
            "unknown_item",
            format!("事项“{code}”不存在或已暂停办理"),
            format!("Item {code} does not exist or is suspended"),
        )])),
    }
}

/// A hall near a point.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NearHall {
    pub code: String,
    pub name: String,
    pub level: String,
    pub district: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    /// Great-circle distance in metres.
    pub distance_m: f64,
    pub open_now: bool,
    pub hours: String,
    pub phone: Option<String>,
}

pub fn coordinates(lat: Option<f64>, lon: Option<f64>) -> ApiResult<(f64, f64)> {
    let mut errors = Vec::new();
    for (field, v, max, zh) in [("lat", lat, 90.0, "纬度"), ("lon", lon, 180.0, "经度")] {
        match v {
            Some(x) if x.is_finite() && x.abs() <= max => {}
            Some(_) => errors.push(FieldError::new(
                field,
                "out_of_range",
                format!("{zh}应在 -{max} 到 {max} 之间"),
                format!("{field} must be between -{max} and {max}"),
            )),
            None => errors.push(FieldError::required(field, zh, field)),
        }
    }
    match (lat, lon) {
        (Some(a), Some(b)) if errors.is_empty() => Ok((a, b)),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// Halls that handle `item` (all halls without one), nearest first, with their opening state.
pub async fn nearest(
    state: &AppState,
    lat: f64,
    lon: f64,
    item: Option<&str>,
    limit: usize,
) -> ApiResult<Vec<NearHall>> {
    let filter = match item.map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => {
            let item = active_item(state, "item", code).await?;
            Some((store::overrides_for_item(&state.db, &item.code).await?, item))
        }
        None => None,
    };
    let cal = state.calendar().await;
    let now = state.clock().beijing_now();
    let idx = &state.halls;
    Ok(idx
        .directory
        .nearest(lat, lon, limit.clamp(1, 50), |h| {
            filter.as_ref().is_none_or(|(o, item)| idx.handles(h, item, o))
        })
        .into_iter()
        .map(|(h, d)| NearHall {
            code: h.hall.code.clone(),
            name: h.hall.name.clone(),
            level: h.hall.level.clone(),
            district: h.hall.district.clone(),
            address: h.hall.address.clone(),
            lat: h.hall.lat,
            lon: h.hall.lon,
            distance_m: d.round(),
            open_now: domain::is_open(&h.hours, &cal, now),
            hours: h.hall.hours.clone(),
            phone: h.hall.phone.clone(),
        })
        .collect())
}

/// A slot with its places.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SlotView {
    /// `2026-12-01T09:00` (Beijing time).
    pub start: String,
    pub end: String,
    pub capacity: i64,
    pub remaining: i64,
}

/// The slots of a day, or why there are none.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DaySlots {
    pub hall_code: String,
    pub date: String,
    /// False on holidays and days the hall is closed.
    pub open: bool,
    /// The last day one can book now.
    pub bookable_until: String,
    pub slots: Vec<SlotView>,
}

fn hall_or_404<'a>(state: &'a AppState, code: &str) -> ApiResult<&'a HallEntry> {
    state.halls.directory.get(code).ok_or(ApiError::NotFound)
}

/// The last day bookable from `today`.
pub fn bookable_until(
    config: &Config,
    cal: &crate::calendar::domain::Calendar,
    today: NaiveDate,
) -> NaiveDate {
    cal.add_working_days(today, config.booking_days)
}

async fn check_item_at(
    state: &AppState,
    hall: &HallEntry,
    field: &str,
    code: &str,
) -> ApiResult<CatalogItem> {
    let item = active_item(state, field, code).await?;
    let overrides = store::overrides_for_item(&state.db, &item.code).await?;
    if !state.halls.handles(hall, &item, &overrides) {
        return Err(ApiError::Validation(vec![FieldError::new(
            field,
            "not_handled_here",
            format!("{}不办理“{}”，请选择其他大厅", hall.hall.name, item.name),
            format!("{} does not handle \"{}\"; choose another hall", hall.hall.name, item.name),
        )]));
    }
    Ok(item)
}

pub async fn day_slots(
    state: &AppState,
    hall_code: &str,
    date: &str,
    item: Option<&str>,
) -> ApiResult<DaySlots> {
    let hall = hall_or_404(state, hall_code)?;
    let day = FieldError::parse_date("date", date).map_err(|e| ApiError::Validation(vec![e]))?;
    if let Some(code) = item.map(str::trim).filter(|s| !s.is_empty()) {
        check_item_at(state, hall, "item", code).await?;
    }
    let cal = state.calendar().await;
    let now = state.clock().beijing_now();
    let until = bookable_until(&state.config, &cal, now.date());
    let capacity = capacity(&state.config, hall);
    let day_text = day.format("%Y-%m-%d").to_string();
    let booked = store::booked_on(&state.db, hall_code, &day_text).await?;
    let slots: Vec<SlotView> = domain::slots_on(&hall.hours, &cal, day, state.config.slot_minutes)
        .into_iter()
        .filter(|s| s.start > now && day <= until)
        .map(|s| {
            let start = domain::slot_text(s.start);
            let taken = booked.get(&start).copied().unwrap_or(0);
            SlotView { end: domain::slot_text(s.end), capacity, remaining: (capacity - taken).max(0), start }
        })
        .collect();
    Ok(DaySlots {
        hall_code: hall_code.to_string(),
        open: !domain::periods_on(&hall.hours, &cal, day).is_empty(),
        date: day_text,
        bookable_until: until.format("%Y-%m-%d").to_string(),
        slots,
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BookRequest {
    pub hall_code: String,
    pub item_code: String,
    /// `2026-12-01T09:00` (Beijing time), or RFC 3339 with an offset.
    pub slot_start: String,
}

/// Books a slot for the signed-in person.
pub async fn book(state: &AppState, caller: &Caller, req: BookRequest) -> ApiResult<Appointment> {
    let user = caller.require_user()?.to_string();
    if !matches!(caller.actor, Actor::Person { .. }) {
        return Err(ApiError::Forbidden);
    }
    let hall = match state.halls.directory.get(req.hall_code.trim()) {
        Some(h) => h,
        None => {
            return Err(ApiError::invalid(
                "hall_code",
                "unknown_hall",
                format!("大厅“{}”不存在", req.hall_code),
                format!("No hall {}", req.hall_code),
            ));
        }
    };
    let item = check_item_at(state, hall, "item_code", &req.item_code).await?;
    let Some(start) = domain::parse_slot_start(&req.slot_start) else {
        return Err(ApiError::invalid(
            "slot_start",
            "invalid_time",
            "预约时间格式应为 YYYY-MM-DDTHH:MM",
            "slot_start must look like 2026-12-01T09:00",
        ));
    };
    let cal = state.calendar().await;
    let now = state.clock().beijing_now();
    if start <= now {
        return Err(ApiError::invalid(
            "slot_start",
            "in_the_past",
            "不能预约已过去的时段",
            "That time is in the past",
        ));
    }
    if start.date() > bookable_until(&state.config, &cal, now.date()) {
        return Err(ApiError::invalid(
            "slot_start",
            "too_far_ahead",
            format!("最多可预约{}个工作日内的时段", state.config.booking_days),
            format!("Slots can be booked up to {} working days ahead", state.config.booking_days),
        ));
    }
    let slots = domain::slots_on(&hall.hours, &cal, start.date(), state.config.slot_minutes);
    let Some(slot) = slots.iter().find(|s| s.start == start) else {
        let closed = slots.is_empty();
        return Err(ApiError::invalid(
            "slot_start",
            if closed { "hall_closed" } else { "not_a_slot" },
            if closed {
                "大厅当天不办公（节假日或休息日）"
            } else {
                "该时间不是大厅的预约时段（不在办公时间内）"
            },
            if closed {
                "The hall is closed that day (holiday or rest day)"
            } else {
                "That time is not one of the hall's slots (outside opening hours)"
            },
        ));
    };
    if let Some(paused_until) = booking_paused_until(state, &user, now).await? {
        return Err(ApiError::Conflict {
            code: "booking_paused",
            zh: format!("因多次预约未到，预约功能暂停至{}", domain::slot_text(paused_until)),
            en: format!(
                "Booking is paused until {} after repeated no-shows",
                domain::slot_text(paused_until)
            ),
        });
    }
    let id = crate::platform::tokens::uuid_v4();
    let outcome = store::book(
        &state.db,
        NewAppointment {
            id: id.clone(),
            hall_code: hall.hall.code.clone(),
            item_code: item.code.clone(),
            user_id: user,
            slot_start: domain::slot_text(slot.start),
            slot_end: domain::slot_text(slot.end),
            capacity: capacity(&state.config, hall),
        },
    )
    .await;
    match outcome {
        Ok(Booking::Booked) => store::appointment(&state.db, &id).await?.ok_or(ApiError::NotFound),
        Ok(Booking::Full) => Err(ApiError::Conflict {
            code: "slot_full",
            zh: "该时段已约满，请选择其他时段".into(),
            en: "This slot is fully booked; choose another".into(),
        }),
        Ok(Booking::Twice) | Err(StoreError::Duplicate(_)) => Err(ApiError::Conflict {
            code: "already_booked",
            zh: "您已预约该时段".into(),
            en: "You already hold a place in this slot".into(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Until when repeated no-shows pause this person's booking, if they do now.
async fn booking_paused_until(
    state: &AppState,
    user: &str,
    now: NaiveDateTime,
) -> ApiResult<Option<NaiveDateTime>> {
    if state.config.no_show_limit == 0 {
        return Ok(None);
    }
    let since = domain::slot_text(now - Duration::days(90));
    if store::no_shows_since(&state.db, user, &since).await? < i64::from(state.config.no_show_limit) {
        return Ok(None);
    }
    let Some(last) = store::last_no_show(&state.db, user).await?.and_then(|s| domain::parse_slot_start(&s))
    else {
        return Ok(None);
    };
    let until = last + Duration::days(i64::from(state.config.no_show_pause_days));
    Ok((until > now).then_some(until))
}

/// Cancels the caller's own appointment, up to `cancel_minutes` before it.
pub async fn cancel(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Appointment> {
    let user = caller.require_user()?.to_string();
    let a = store::appointment(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    require(decide(
        &caller.actor,
        Action::Delete,
        &Resource::Appointment { hall: a.hall_code.clone(), booker: a.user_id.clone() },
    ))?;
    let start = domain::parse_slot_start(&a.slot_start).ok_or(ApiError::NotFound)?;
    if a.status != "booked" {
        return Err(ApiError::StateConflict {
            code: "not_booked",
            zh: "该预约已取消或已结束".into(),
            en: "This appointment is no longer booked".into(),
            state: a.status,
        });
    }
    if start - Duration::minutes(i64::from(state.config.cancel_minutes)) < state.clock().beijing_now() {
        return Err(ApiError::Conflict {
            code: "too_late_to_cancel",
            zh: format!("预约时段开始前{}分钟内不能取消", state.config.cancel_minutes),
            en: format!(
                "Appointments cannot be cancelled within {} minutes of the slot",
                state.config.cancel_minutes
            ),
        });
    }
    match store::finish(&state.db, a.id.clone(), "cancelled", a.version, user).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(lost_race(state, id).await),
        Err(e) => return Err(e.into()),
    }
    store::appointment(&state.db, id).await?.ok_or(ApiError::NotFound)
}

/// A window clerk records that the person came (`arrived`) or did not (`no_show`).
pub async fn record_visit(
    state: &AppState,
    caller: &Caller,
    id: &str,
    status: &str,
) -> ApiResult<Appointment> {
    let actor = caller.require_user()?.to_string();
    let a = store::appointment(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    require(decide(
        &caller.actor,
        Action::Update,
        &Resource::Appointment { hall: a.hall_code.clone(), booker: a.user_id.clone() },
    ))?;
    let status: &'static str = match status {
        "arrived" => "arrived",
        "no_show" => "no_show",
        _ => return Err(ApiError::NotFound),
    };
    // Nobody is absent from a slot that has not begun.
    let start = domain::parse_slot_start(&a.slot_start).ok_or(ApiError::NotFound)?;
    if status == "no_show" && state.clock().beijing_now() < start {
        return Err(ApiError::Conflict {
            code: "slot_not_started",
            zh: "预约时段尚未开始，不能登记爽约".into(),
            en: "The slot has not started yet: a no-show cannot be recorded".into(),
        });
    }
    match store::finish(&state.db, a.id.clone(), status, a.version, actor).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(lost_race(state, id).await),
        Err(e) => return Err(e.into()),
    }
    store::appointment(&state.db, id).await?.ok_or(ApiError::NotFound)
}

/// The answer when someone else changed the appointment first (a cancellation and a visit at
/// once): 409 with the state the winner left.
async fn lost_race(state: &AppState, id: &str) -> ApiError {
    match store::appointment(&state.db, id).await {
        Ok(Some(now)) => ApiError::StateConflict {
            code: "not_booked",
            zh: "该预约已被他人处理（已取消或已结束），请刷新".into(),
            en: "Someone else changed this appointment first (cancelled or finished); reload".into(),
            state: now.status,
        },
        Ok(None) => ApiError::NotFound,
        Err(e) => e.into(),
    }
}

/// The appointment as an `.ics` file (the owner only).
pub async fn ics(state: &AppState, caller: &Caller, id: &str) -> ApiResult<String> {
    let user = caller.require_user()?;
    let a =
        store::appointment(&state.db, id).await?.filter(|a| a.user_id == user).ok_or(ApiError::NotFound)?;
    let hall = hall_or_404(state, &a.hall_code)?;
    let (Some(start), Some(end)) =
        (domain::parse_slot_start(&a.slot_start), domain::parse_slot_start(&a.slot_end))
    else {
        return Err(ApiError::NotFound);
    };
    Ok(domain::ics(&a.id, &hall.hall, &a.item_name, start, end, state.clock().beijing_now()))
}

// ---------------------------------------------------------------------------------------------
// Queue numbers (取号)
// ---------------------------------------------------------------------------------------------

/// Window groups: walk-ins (A) and appointment holders (B), each with its own numbers.
pub const GROUPS: [(&str, &str, &str); 2] = [("A", "综合业务", "General"), ("B", "预约办理", "Appointments")];

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct TakeNumber {
    /// Your appointment at this hall today: a number in the appointments group (B), and the
    /// appointment is marked arrived. Without it, a walk-in number (A).
    #[serde(default)]
    pub appointment_id: Option<String>,
    /// The service the visitor came for (an item code), printed on the slip so the window
    /// knows it; optional.
    #[serde(default)]
    pub item_code: Option<String>,
}

/// When the hall is closed at `at`: the refusal, naming when it next opens.
fn closed_refusal(hall: &HallEntry, cal: &crate::calendar::domain::Calendar, at: NaiveDateTime) -> ApiError {
    let (zh, en) = match domain::next_opening(&hall.hours, cal, at) {
        Some(next) => (
            format!(
                "{}现在不在办公时间，请在办公时间取号。下次开放：{}（{}）",
                hall.hall.name,
                next.format("%Y-%m-%d %H:%M"),
                hall.hall.hours
            ),
            format!(
                "{} is closed now; numbers are given while it is open. It next opens at {} (Beijing time)",
                hall.hall.name,
                next.format("%Y-%m-%d %H:%M")
            ),
        ),
        None => (
            format!("{}暂停对外办公", hall.hall.name),
            format!("{} is not open to the public", hall.hall.name),
        ),
    };
    ApiError::StateConflict { code: "hall_closed", zh, en, state: "closed".into() }
}

/// Issues a queue number on arrival (a walk-in needs no login: kiosks issue them too), only
/// while the hall is open.
pub async fn take_number(
    state: &AppState,
    caller: &Caller,
    hall_code: &str,
    req: TakeNumber,
) -> ApiResult<store::Ticket> {
    let hall = hall_or_404(state, hall_code)?;
    let now = state.clock().beijing_now();
    let today = now.date();
    let item_code = req.item_code.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
    if let Some(code) = &item_code
        && catalog::store::get(&state.db, code).await?.is_none()
    {
        return Err(ApiError::invalid(
            "item_code",
            "unknown_item",
            format!("事项“{code}”不存在"),
            format!("No item {code}"),
        ));
    }
    let cal = state.calendar().await;
    if !domain::is_open(&hall.hours, &cal, now) {
        return Err(closed_refusal(hall, &cal, now));
    }
    let (group, appointment) = match req.appointment_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => {
            let user = caller.require_user()?;
            let a =
                store::appointment(&state.db, id).await?.filter(|a| a.user_id == user).ok_or_else(|| {
                    ApiError::invalid(
                        "appointment_id",
                        "unknown_appointment",
                        "未找到您的这项预约",
                        "No such appointment of yours",
                    )
                })?;
            if a.hall_code != hall.hall.code
                || !a.slot_start.starts_with(&today.format("%Y-%m-%d").to_string())
            {
                return Err(ApiError::invalid(
                    "appointment_id",
                    "not_here_today",
                    "该预约不是本大厅今天的预约",
                    "That appointment is not at this hall today",
                ));
            }
            if a.status != "booked" {
                return Err(ApiError::StateConflict {
                    code: "not_booked",
                    zh: "该预约已取号、取消或结束".into(),
                    en: "That appointment already has a number, or was cancelled".into(),
                    state: a.status,
                });
            }
            ("B", Some(a.id))
        }
        None => ("A", None),
    };
    let secret = domain::new_rating_code();
    let ticket = store::issue_ticket(
        &state.db,
        store::NewTicket {
            holder_secret_digest: crate::platform::tokens::secret_digest(&secret),
            id: crate::platform::tokens::uuid_v4(),
            hall_code: hall.hall.code.clone(),
            day: today.format("%Y-%m-%d").to_string(),
            group_code: group.into(),
            appointment_id: appointment,
            item_code,
            user_id: caller.user_id.clone(),
        },
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict => ApiError::Conflict {
            code: "not_booked",
            zh: "该预约已取号".into(),
            en: "That appointment already has a number".into(),
        },
        other => other.into(),
    })?;
    let mut issued = store::ticket(&state.db, &ticket.id).await?.ok_or(ApiError::NotFound)?;
    issued.holder_secret = Some(secret);
    Ok(issued)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CallRequest {
    /// The window calling, e.g. `5号窗口`.
    pub window: String,
    /// Groups this window serves, in order (default: appointments first, then walk-ins).
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A window clerk calls the next number.
pub async fn call_next(
    state: &AppState,
    caller: &Caller,
    hall_code: &str,
    req: CallRequest,
) -> ApiResult<Option<store::Ticket>> {
    let actor = caller.require_user()?.to_string();
    hall_or_404(state, hall_code)?;
    require(decide(&caller.actor, Action::Update, &Resource::HallQueue { hall: hall_code.to_string() }))?;
    let window = valid_window(&req.window)?;
    let mut groups: Vec<String> = req.groups.iter().map(|g| g.trim().to_uppercase()).collect();
    if groups.is_empty() {
        groups = vec!["B".into(), "A".into()];
    }
    if let Some(bad) = groups.iter().find(|g| !GROUPS.iter().any(|(c, _, _)| c == *g)) {
        return Err(ApiError::invalid(
            "groups",
            "unknown_group",
            format!("窗口分组“{bad}”不存在（A 综合业务，B 预约办理）"),
            format!("Unknown group {bad} (A general, B appointments)"),
        ));
    }
    let day = state.clock().beijing_now().date().format("%Y-%m-%d").to_string();
    // A lost race with another process's clerk: try again (the ticket it took is gone).
    for _ in 0..5 {
        match store::call_next(
            &state.db,
            hall_code.into(),
            day.clone(),
            groups.clone(),
            window.clone(),
            actor.clone(),
        )
        .await
        {
            Err(StoreError::Conflict) => continue,
            other => return Ok(other?),
        }
    }
    Err(ApiError::Unavailable)
}

/// The holder leaves the queue: the signed-in holder, or whoever has the slip's code (`secret`).
/// Anyone else is told there is no such ticket.
pub async fn cancel_ticket(
    state: &AppState,
    caller: &Caller,
    id: &str,
    secret: Option<&str>,
) -> ApiResult<store::Ticket> {
    use subtle::ConstantTimeEq;
    let holder = store::ticket_holder(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    let signed_in = caller.user_id.is_some() && caller.user_id == holder.user_id;
    let has_code = match (secret.map(str::trim).filter(|s| !s.is_empty()), &holder.secret_digest) {
        (Some(given), Some(digest)) => {
            crate::platform::tokens::secret_digest(given).as_bytes().ct_eq(digest.as_bytes()).into()
        }
        _ => false,
    };
    if !signed_in && !has_code {
        return Err(ApiError::NotFound);
    }
    let actor =
        caller.user_id.as_deref().map(|u| format!("user:{u}")).unwrap_or_else(|| "ticket-holder".into());
    store::cancel_ticket(&state.db, id.to_string(), actor).await.map_err(|e| match e {
        StoreError::Conflict => ApiError::StateConflict {
            code: "not_waiting",
            zh: "该号码已叫号、办结或已取消，不能再取消".into(),
            en: "This number has been called, served or cancelled already".into(),
            state: "not_waiting".into(),
        },
        other => other.into(),
    })
}

/// A window recalls (重呼) or passes over (过号) the number it called.
pub async fn window_step(
    state: &AppState,
    caller: &Caller,
    hall_code: &str,
    window: &str,
    step: store::WindowStep,
) -> ApiResult<store::Ticket> {
    let actor = caller.require_user()?.to_string();
    hall_or_404(state, hall_code)?;
    require(decide(&caller.actor, Action::Update, &Resource::HallQueue { hall: hall_code.to_string() }))?;
    let window = valid_window(window)?;
    let day = state.clock().beijing_now().date().format("%Y-%m-%d").to_string();
    let nothing = || ApiError::StateConflict {
        code: "nothing_called",
        zh: format!("{window}当前没有已叫的号"),
        en: format!("{window} has no number called now"),
        state: "idle".into(),
    };
    match store::window_step(&state.db, hall_code.into(), day, window.clone(), step, actor).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) | Err(StoreError::Conflict) => Err(nothing()),
        Err(e) => Err(e.into()),
    }
}

/// A window's label, trimmed: required, at most 20 characters.
fn valid_window(window: &str) -> ApiResult<String> {
    let window = window.trim().to_string();
    if window.is_empty() || window.chars().count() > 20 {
        return Err(ApiError::invalid(
            "window",
            "required",
            "请填写窗口号（不超过20字）",
            "Give the window (at most 20 characters)",
        ));
    }
    Ok(window)
}

/// A hall's queue now: waiting per group, the latest calls, and today's waiting times.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueStatus {
    pub hall_code: String,
    pub day: String,
    /// (group, name, waiting).
    pub waiting: Vec<(String, String, i64)>,
    /// The most recent calls, newest first.
    pub called: Vec<store::Ticket>,
    pub issued_today: i64,
    pub served_today: i64,
    /// Mean and median minutes from taking a number to being called, today.
    pub mean_wait_minutes: Option<f64>,
    pub median_wait_minutes: Option<f64>,
}

pub async fn queue_status(state: &AppState, hall_code: &str) -> ApiResult<QueueStatus> {
    hall_or_404(state, hall_code)?;
    let day = state.clock().beijing_now().date().format("%Y-%m-%d").to_string();
    let tickets = store::tickets_of_day(&state.db, hall_code, &day).await?;
    let waiting = GROUPS
        .iter()
        .map(|(g, zh, _)| {
            let n = tickets.iter().filter(|t| t.group_code == *g && t.status == "waiting").count() as i64;
            (g.to_string(), zh.to_string(), n)
        })
        .collect();
    let mut called: Vec<store::Ticket> = tickets.iter().filter(|t| t.called_at.is_some()).cloned().collect();
    // A recalled number comes back to the top of the display.
    called.sort_by(|a, b| {
        let last = |t: &store::Ticket| t.recalled_at.clone().max(t.called_at.clone());
        last(b).cmp(&last(a))
    });
    let mut waits: Vec<f64> = called
        .iter()
        .filter_map(|t| {
            let issued = chrono::DateTime::parse_from_rfc3339(&t.issued_at).ok()?;
            let at = chrono::DateTime::parse_from_rfc3339(t.called_at.as_deref()?).ok()?;
            Some((at - issued).num_milliseconds() as f64 / 60_000.0)
        })
        .collect();
    waits.sort_by(f64::total_cmp);
    let mean = (!waits.is_empty()).then(|| waits.iter().sum::<f64>() / waits.len() as f64);
    let median = (!waits.is_empty()).then(|| waits[waits.len() / 2]);
    Ok(QueueStatus {
        hall_code: hall_code.into(),
        day,
        waiting,
        served_today: called.len() as i64,
        called: called.into_iter().take(8).collect(),
        issued_today: tickets.len() as i64,
        mean_wait_minutes: mean.map(|m| (m * 10.0).round() / 10.0),
        median_wait_minutes: median.map(|m| (m * 10.0).round() / 10.0),
    })
}

// ---------------------------------------------------------------------------------------------
// Kiosks (自助终端)
// ---------------------------------------------------------------------------------------------

/// A kiosk that has not been heard from for this long is flagged silent.
pub const KIOSK_SILENT_MINUTES: i64 = 5;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterKiosk {
    pub hall_code: String,
    /// e.g. `一楼大厅 2 号机`.
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KioskView {
    #[serde(flatten)]
    pub kiosk: store::Kiosk,
    /// No heartbeat within [`KIOSK_SILENT_MINUTES`] (or never).
    pub silent: bool,
}

/// Registers a device (system administrators); answers it with its secret token, shown once.
pub async fn register_kiosk(
    state: &AppState,
    caller: &Caller,
    req: RegisterKiosk,
) -> ApiResult<(store::Kiosk, String)> {
    let actor = caller.require_user()?.to_string();
    require(decide(&caller.actor, Action::Update, &Resource::System))?;
    let mut errors = Vec::new();
    if state.halls.directory.get(req.hall_code.trim()).is_none() {
        errors.push(FieldError::new("hall_code", "unknown_hall", "大厅不存在", "No such hall"));
    }
    let name = req.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 50 {
        errors.push(FieldError::new(
            "name",
            "required",
            "请填写终端名称（不超过50字）",
            "Give the device a name (at most 50 characters)",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let token = crate::identity::session::random_token();
    let kiosk = store::Kiosk {
        id: format!("K-{}", &crate::identity::session::random_token()[..10]),
        hall_code: req.hall_code.trim().to_string(),
        name,
        registered_at: state.db.now_text(),
        last_seen_at: None,
    };
    store::register_kiosk(&state.db, kiosk.clone(), crate::identity::session::token_hash(&token), actor)
        .await?;
    Ok((kiosk, token))
}

pub async fn kiosks(state: &AppState, caller: &Caller) -> ApiResult<Vec<KioskView>> {
    caller.require_user()?;
    if !matches!(caller.actor, Actor::Staff { .. }) {
        return Err(ApiError::Forbidden);
    }
    let cutoff = state.clock().now() - Duration::minutes(KIOSK_SILENT_MINUTES);
    Ok(store::kiosks(&state.db)
        .await?
        .into_iter()
        .map(|k| {
            let seen = k
                .last_seen_at
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc));
            KioskView { silent: seen.is_none_or(|t| t < cutoff), kiosk: k }
        })
        .collect())
}

/// A device's heartbeat; answers its hall, or `None` for a wrong id or token.
pub async fn kiosk_heartbeat(state: &AppState, id: &str, token: &str) -> ApiResult<Option<String>> {
    Ok(store::heartbeat(&state.db, id.to_string(), crate::identity::session::token_hash(token)).await?)
}
