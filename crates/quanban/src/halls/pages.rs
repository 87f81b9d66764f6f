//! Pages: the service map (an SVG drawn from the halls' coordinates, no tile server) with the
//! same content as a list, nearest halls, a hall with its slots and booking, and my appointments.

use crate::http::extract::{Path, Query};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::api::{HallFilter, select};
use super::domain::{self, HallEntry};
use super::service::{self, BookRequest};
use super::store;
use crate::app::AppState;
use crate::http::{ApiError, FieldError};
use crate::web::i18n::Tr;
use crate::web::page::{PageCtx, PageError, UserChip};

pub fn level_label(t: Tr, level: &str) -> &'static str {
    match level {
        "city" => t.pick("市级", "City"),
        "district" => t.pick("区县级", "District"),
        "street" => t.pick("街道（镇）级", "Street/town"),
        _ => t.pick("社区（村）级", "Community"),
    }
}

/// A hall drawn on the map and listed.
pub struct MapHall {
    pub code: String,
    pub name: String,
    pub level: String,
    pub level_label: String,
    pub district: String,
    pub address: String,
    pub hours: String,
    pub phone: String,
    pub x: String,
    pub y: String,
    pub r: u32,
    pub label: bool,
    pub distance: Option<String>,
    pub open_now: bool,
}

impl MapHall {
    /// The hall as listed, not yet placed on a map.
    fn of(t: Tr, h: &HallEntry, open_now: bool) -> MapHall {
        MapHall {
            code: h.hall.code.clone(),
            name: h.hall.name.clone(),
            level: h.hall.level.clone(),
            level_label: level_label(t, &h.hall.level).to_string(),
            district: h.hall.district.clone(),
            address: h.hall.address.clone(),
            hours: h.hall.hours.clone(),
            phone: h.hall.phone.clone().unwrap_or_default(),
            x: String::new(),
            y: String::new(),
            r: 0,
            label: false,
            distance: None,
            open_now,
        }
    }
}

#[derive(Template)]
#[template(path = "halls.html")]
struct HallsPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    halls: Vec<MapHall>,
    level: String,
    item: String,
    district: String,
    /// The place searched for, as typed, and the place it was found as.
    place: String,
    found: Option<quanban_domain::geo::Place>,
    lat: String,
    lon: String,
    nearest: bool,
    levels: Vec<(String, String)>,
    districts: &'static [&'static str],
    district_invalid: bool,
    map: crate::web::map::CityMap,
    /// The point searched from, drawn as a pin.
    pin: Option<(String, String)>,
    /// The place named could not be found (its error goes next to the field).
    place_error: Option<FieldError>,
    errors: Vec<FieldError>,
}

#[derive(Deserialize, Default)]
pub struct MapQuery {
    #[serde(default)]
    level: String,
    #[serde(default)]
    item: String,
    #[serde(default)]
    district: String,
    /// A place by name (趵突泉, 千佛山街道): the halls nearest to it are listed first.
    #[serde(default)]
    place: String,
    /// Filled in by the page script (a tap on the map, or the device's position).
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
}

/// Where the person is, from the map tap or device (lat/lon) or else the place they named.
fn position(
    state: &AppState,
    q: &MapQuery,
    errors: &mut Vec<FieldError>,
) -> (Option<(f64, f64)>, Option<quanban_domain::geo::Place>) {
    if !q.lat.trim().is_empty() || !q.lon.trim().is_empty() {
        let lat = q.lat.trim().parse::<f64>().ok();
        let lon = q.lon.trim().parse::<f64>().ok();
        return match service::coordinates(lat, lon) {
            Ok(p) => (Some(p), None),
            Err(ApiError::Validation(e)) => {
                errors.extend(e);
                (None, None)
            }
            Err(_) => (None, None),
        };
    }
    let place = q.place.trim();
    if place.is_empty() {
        return (None, None);
    }
    match state.halls.city.gazetteer.search(place, 1).first() {
        Some(p) => (Some((p.lat, p.lon)), Some((*p).clone())),
        None => {
            errors.push(unknown_place(place));
            (None, None)
        }
    }
}

/// A place the gazetteer does not know, named in the field `place`.
pub fn unknown_place(place: &str) -> FieldError {
    FieldError::new(
        "place",
        "unknown_place",
        format!("没有找到“{place}”。请输入街道、社区或地标的名称，如“趵突泉”“千佛山街道”，或在地图上点选"),
        format!(
            "No place called \"{place}\". Type a street, community or landmark (趵突泉, 千佛山街道), or tap the map"
        ),
    )
}

pub async fn map(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<MapQuery>,
) -> Result<Response, PageError> {
    let t = ctx.t;
    let filter = HallFilter {
        level: Some(q.level.clone()).filter(|s| !s.is_empty()),
        item: Some(q.item.trim().to_string()).filter(|s| !s.is_empty()),
        district: Some(q.district.trim().to_string()).filter(|s| !s.is_empty()),
    };
    let mut errors = Vec::new();
    let selected = match select(&state, &filter).await {
        Ok(h) => h,
        Err(ApiError::Validation(e)) => {
            errors = e;
            state.halls.directory.halls.iter().collect()
        }
        Err(e) => return Err(ctx.error(e)),
    };
    let cal = state.calendar().await;
    let now = state.clock().beijing_now();
    // Nearest first when a position is given.
    let (at, found) = position(&state, &q, &mut errors);
    let distances: std::collections::HashMap<String, f64> = at
        .map(|(lat, lon)| {
            selected
                .iter()
                .map(|h| (h.hall.code.clone(), domain::distance_m(lat, lon, h.hall.lat, h.hall.lon)))
                .collect()
        })
        .unwrap_or_default();
    let district = Some(q.district.trim()).filter(|d| crate::reference::DISTRICTS.contains(d));
    let mut map = state.halls.map(district);
    if let Some((lat, lon)) = at {
        map.focus(lon, lat);
    }
    let mut halls: Vec<MapHall> = selected
        .iter()
        .map(|h| {
            let (x, y) = map.point(h.hall.lon, h.hall.lat);
            MapHall {
                x,
                y,
                r: match h.hall.level.as_str() {
                    "city" => 9,
                    "district" => 6,
                    "street" => 4,
                    _ => 3,
                },
                distance: distances
                    .get(&h.hall.code)
                    .map(|d| if *d < 1000.0 { format!("{d:.0} m") } else { format!("{:.1} km", d / 1000.0) }),
                ..MapHall::of(t, h, domain::is_open(&h.hours, &cal, now))
            }
        })
        .collect();
    // Names are written for the city and district halls where they cover nothing (the city
    // hall first); zoomed in on a district or a place, for the street halls too.
    let mut order: Vec<usize> = (0..halls.len())
        .filter(|&i| match halls[i].level.as_str() {
            "city" | "district" => true,
            "street" => district.is_some() || at.is_some(),
            _ => false,
        })
        .collect();
    order.sort_by_key(|&i| match halls[i].level.as_str() {
        "city" => 0,
        "district" => 1,
        _ => 2,
    });
    let boxes: Vec<(f64, f64, usize)> = order
        .iter()
        .map(|&i| {
            let h = &halls[i];
            (h.x.parse().unwrap_or(0.0), h.y.parse().unwrap_or(0.0), h.name.chars().count())
        })
        .collect();
    for (&i, free) in order.iter().zip(map.place_labels(&boxes)) {
        halls[i].label = free;
    }
    if !distances.is_empty() {
        halls.sort_by(|a, b| distances[&a.code].total_cmp(&distances[&b.code]));
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = HallsPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        nearest: !distances.is_empty(),
        levels: domain::LEVELS.iter().map(|l| (l.to_string(), level_label(t, l).to_string())).collect(),
        districts: &crate::reference::DISTRICTS,
        district_invalid: !q.district.trim().is_empty() && district.is_none(),
        pin: at.map(|(lat, lon)| map.point(lon, lat)),
        map,
        halls,
        level: q.level,
        item: q.item,
        district: q.district,
        place: q.place,
        found,
        lat: q.lat,
        lon: q.lon,
        place_error: errors.iter().find(|e| e.field == "place").cloned(),
        errors,
    };
    Ok(ctx.render(status, &page))
}

pub struct SlotLine {
    pub start: String,
    pub time: String,
    pub remaining: i64,
    pub capacity: i64,
}

#[derive(Template)]
#[template(path = "hall.html")]
struct HallPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    hall: MapHall,
    windows: u32,
    date: String,
    item: String,
    open: bool,
    bookable_until: String,
    slots: Vec<SlotLine>,
    items: Vec<(String, String)>,
    errors: Vec<FieldError>,
}

#[derive(Deserialize, Default)]
pub struct HallQuery {
    #[serde(default)]
    date: String,
    #[serde(default)]
    item: String,
}

/// The items handled at the hall (code, name), for the item pickers.
async fn hall_items(state: &AppState, h: &HallEntry) -> Result<Vec<(String, String)>, ApiError> {
    let code = h.hall.code.as_str();
    let overrides = store::overrides_for_hall(&state.db, code).await?;
    Ok(crate::catalog::store::all_active(&state.db)
        .await?
        .into_iter()
        .map(|s| s.item)
        .filter(|it| {
            let o: std::collections::HashMap<String, bool> =
                overrides.get(&it.code).map(|v| [(code.to_string(), *v)].into()).unwrap_or_default();
            state.halls.handles(h, it, &o)
        })
        .map(|it| (it.code, it.name))
        .collect())
}

async fn render_hall(
    state: &AppState,
    ctx: &PageCtx,
    code: &str,
    q: HallQuery,
    mut errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    let t = ctx.t;
    let h = state.halls.directory.get(code).ok_or(ctx.error(ApiError::NotFound))?;
    let date = Some(q.date.trim().to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| {
        (state.clock().today() + chrono::Duration::days(1)).format("%Y-%m-%d").to_string()
    });
    let item = q.item.trim().to_string();
    let (open, until, slots) = match service::day_slots(
        state,
        code,
        &date,
        Some(&item).filter(|s| !s.is_empty()).map(String::as_str),
    )
    .await
    {
        Ok(d) => (
            d.open,
            d.bookable_until,
            d.slots
                .into_iter()
                .map(|s| SlotLine {
                    time: format!("{}–{}", &s.start[11..], &s.end[11..]),
                    start: s.start,
                    remaining: s.remaining,
                    capacity: s.capacity,
                })
                .collect(),
        ),
        Err(ApiError::Validation(e)) => {
            errors.extend(e);
            (false, String::new(), Vec::new())
        }
        Err(e) => return Err(ctx.error(e)),
    };
    let items = hall_items(state, h).await.map_err(|e| ctx.error(e))?;
    let cal = state.calendar().await;
    let hall = MapHall::of(t, h, domain::is_open(&h.hours, &cal, state.clock().beijing_now()));
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = HallPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        windows: h.hall.windows,
        hall,
        date,
        item,
        open,
        bookable_until: until,
        slots,
        items,
        errors,
    };
    Ok(ctx.render(status, &page))
}

pub async fn hall(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Query(q): Query<HallQuery>,
) -> Result<Response, PageError> {
    render_hall(&state, &ctx, &code, q, Vec::new()).await
}

#[derive(Deserialize)]
pub struct BookForm {
    csrf: String,
    item: String,
    slot_start: String,
    #[serde(default)]
    date: String,
}

pub async fn book(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Form(f): Form<BookForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let req = BookRequest { hall_code: code.clone(), item_code: f.item.clone(), slot_start: f.slot_start };
    match service::book(&state, &ctx.caller, req).await {
        Ok(a) => Ok(Redirect::to(&format!("/my/appointments?booked={}", a.id)).into_response()),
        Err(ApiError::Validation(errors)) => {
            render_hall(&state, &ctx, &code, HallQuery { date: f.date, item: f.item }, errors).await
        }
        Err(ApiError::Conflict { code: c, zh, en }) => {
            let errors = vec![FieldError::new("slot_start", c, zh, en)];
            render_hall(&state, &ctx, &code, HallQuery { date: f.date, item: f.item }, errors).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Template)]
#[template(path = "my_appointments.html")]
struct AppointmentsPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    appointments: Vec<store::Appointment>,
    booked: Option<String>,
    today: String,
}

#[derive(Deserialize, Default)]
pub struct BookedQuery {
    booked: Option<String>,
}

pub async fn my_appointments(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<BookedQuery>,
) -> Result<Response, PageError> {
    let Some(user) = ctx.caller.user_id.clone() else { return Ok(ctx.to_login().into_response()) };
    let appointments = store::appointments_of(&state.db, &user).await.map_err(|e| ctx.error(e.into()))?;
    let page = AppointmentsPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        appointments,
        booked: q.booked,
        today: state.clock().today().format("%Y-%m-%d").to_string(),
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct CancelForm {
    csrf: String,
}

pub async fn cancel(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<CancelForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    service::cancel(&state, &ctx.caller, &id).await.map_err(|e| ctx.error(e))?;
    Ok(Redirect::to("/my/appointments").into_response())
}

// ---------------------------------------------------------------------------------------------
// Queue numbers
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct TakeForm {
    csrf: String,
    #[serde(default)]
    appointment_id: String,
    /// The service chosen (printed on the slip); empty for none.
    #[serde(default)]
    item_code: String,
}

/// Taking a number: the service to come for, and the button, while the hall is open (a kiosk's
/// 现场取号 tile leads here; the hall page has the same form).
#[derive(Template)]
#[template(path = "take_number.html")]
struct TakePage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    code: String,
    hall_name: String,
    hours: String,
    open: bool,
    /// When closed: when it next opens (Beijing time).
    next_opening: Option<String>,
    items: Vec<(String, String)>,
    item: String,
    errors: Vec<FieldError>,
}

async fn render_take(
    state: &AppState,
    ctx: &PageCtx,
    code: &str,
    item: String,
    errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    let h = state.halls.directory.get(code).ok_or(ctx.error(ApiError::NotFound))?;
    let cal = state.calendar().await;
    let now = state.clock().beijing_now();
    let open = domain::is_open(&h.hours, &cal, now);
    let page = TakePage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        code: code.to_string(),
        hall_name: h.hall.name.clone(),
        hours: h.hall.hours.clone(),
        open,
        next_opening: (!open)
            .then(|| domain::next_opening(&h.hours, &cal, now))
            .flatten()
            .map(|n| n.format("%Y-%m-%d %H:%M").to_string()),
        items: hall_items(state, h).await.map_err(|e| ctx.error(e))?,
        item,
        errors,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::CONFLICT };
    Ok(ctx.render(status, &page))
}

pub async fn take_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    render_take(&state, &ctx, &code, String::new(), Vec::new()).await
}

/// Takes a number (walk-in, or with today's appointment) and shows the ticket.
pub async fn take_number(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Form(f): Form<TakeForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let item = f.item_code.trim().to_string();
    let req = service::TakeNumber {
        appointment_id: Some(f.appointment_id).filter(|s| !s.is_empty()),
        item_code: Some(item.clone()).filter(|s| !s.is_empty()),
    };
    let t = match service::take_number(&state, &ctx.caller, &code, req).await {
        Ok(t) => t,
        // Closed, or a bad choice: the taking page says why, with the form again.
        Err(ApiError::Validation(errors)) => return render_take(&state, &ctx, &code, item, errors).await,
        Err(e @ ApiError::StateConflict { .. }) => {
            let (c, zh, en) = e.describe();
            return render_take(&state, &ctx, &code, item, vec![FieldError::new("take-number", c, zh, en)])
                .await;
        }
        Err(e) => return Err(ctx.error(e)),
    };
    // The slip page shows the rating code once, from its address.
    let code = t.holder_secret.unwrap_or_default();
    Ok(Redirect::to(&format!("/queue/{}?code={code}", t.id)).into_response())
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    ticket: store::Ticket,
    hall_name: String,
    group_name: String,
    /// The service chosen when the number was taken.
    item_name: Option<String>,
    /// The rating code, when the page was reached right after taking the number.
    rating_code: String,
    /// The holder (signed in, or with the slip's code) may leave the queue while waiting.
    can_cancel: bool,
    errors: Vec<FieldError>,
}

#[derive(Deserialize, Default)]
pub struct TicketQuery {
    #[serde(default)]
    code: String,
}

#[derive(Deserialize, Default)]
pub struct CancelTicketForm {
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    confirm: String,
}

/// The holder leaves the queue (取消排队), after ticking the confirmation.
pub async fn cancel_ticket(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<CancelTicketForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let code = f.code.trim().to_string();
    if f.confirm != "yes" {
        let e = FieldError::new(
            "confirm-cancel",
            "not_confirmed",
            "取消后号码作废，需重新取号；请勾选确认",
            "A cancelled number is void and you would take a new one: tick the box to confirm",
        );
        return render_ticket(&state, &ctx, &id, code, vec![e], StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    match service::cancel_ticket(&state, &ctx.caller, &id, Some(&code)).await {
        Ok(_) => Ok(Redirect::to(&format!("/queue/{id}?code={code}")).into_response()),
        Err(e @ ApiError::StateConflict { .. }) => {
            let (c, zh, en) = e.describe();
            let errors = vec![FieldError::new("cancel", c, zh, en)];
            render_ticket(&state, &ctx, &id, code, errors, StatusCode::CONFLICT).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

pub async fn ticket(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Query(q): Query<TicketQuery>,
) -> Result<Response, PageError> {
    render_ticket(&state, &ctx, &id, q.code, Vec::new(), StatusCode::OK).await
}

async fn render_ticket(
    state: &AppState,
    ctx: &PageCtx,
    id: &str,
    code: String,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let ticket = store::ticket(&state.db, id)
        .await
        .map_err(|e| ctx.error(e.into()))?
        .ok_or(ctx.error(ApiError::NotFound))?;
    let hall_name =
        state.halls.directory.get(&ticket.hall_code).map(|h| h.hall.name.clone()).unwrap_or_default();
    let group_name = service::GROUPS
        .iter()
        .find(|(g, _, _)| *g == ticket.group_code)
        .map(|(_, zh, en)| ctx.t.pick(zh, en).to_string())
        .unwrap_or_default();
    let rating_code: String = code.chars().filter(|c| c.is_ascii_hexdigit()).take(16).collect();
    let item_name = match &ticket.item_code {
        Some(code) => crate::catalog::store::get(&state.db, code)
            .await
            .map_err(|e| ctx.error(e.into()))?
            .map(|s| s.item.name),
        None => None,
    };
    let holder = store::ticket_holder(&state.db, id).await.map_err(|e| ctx.error(e.into()))?;
    let signed_in_holder =
        ctx.caller.user_id.is_some() && holder.as_ref().is_some_and(|h| h.user_id == ctx.caller.user_id);
    let can_cancel = ticket.status == "waiting" && (signed_in_holder || !rating_code.is_empty());
    let page = TicketPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        ticket,
        hall_name,
        group_name,
        item_name,
        rating_code,
        can_cancel,
        errors,
    };
    Ok(ctx.render(status, &page))
}

#[derive(Template)]
#[template(path = "queue_display.html")]
struct DisplayPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    hall_name: String,
    code: String,
    status: service::QueueStatus,
    is_clerk: bool,
}

/// The hall's display (refreshes itself); window clerks get the call form on it too.
pub async fn display(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let status = service::queue_status(&state, &code).await.map_err(|e| ctx.error(e))?;
    let hall_name = state.halls.directory.get(&code).map(|h| h.hall.name.clone()).unwrap_or_default();
    use crate::identity::authz::{Action, Area, Decision, Resource, decide};
    let is_clerk =
        decide(&ctx.caller.actor, Action::Create, &Resource::CityWide(Area::Windows)) == Decision::Allow;
    let page =
        DisplayPage { t: ctx.t, user: ctx.user(), csrf: ctx.csrf.clone(), hall_name, code, status, is_clerk };
    Ok(ctx.render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct CallForm {
    csrf: String,
    window: String,
}

pub async fn call_next(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Form(f): Form<CallForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    service::call_next(
        &state,
        &ctx.caller,
        &code,
        service::CallRequest { window: f.window, groups: Vec::new() },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!("/halls/{code}/counter")).into_response())
}

// ---------------------------------------------------------------------------------------------
// The window's calling console (叫号台), apart from the public display
// ---------------------------------------------------------------------------------------------

/// This browser's window at a hall (the clerk's desk computer), remembered in a cookie.
const COUNTER_COOKIE: &str = "qb_counter";

#[derive(Debug, Default, Deserialize, serde::Serialize)]
struct CounterSetting {
    hall: String,
    window: String,
    /// The groups served, in order (`BA`: appointments first, then walk-ins).
    groups: String,
}

fn counter_setting(headers: &axum::http::HeaderMap, hall: &str) -> Option<CounterSetting> {
    let jar = axum_extra::extract::CookieJar::from_headers(headers);
    let c = jar.get(COUNTER_COOKIE)?;
    serde_urlencoded::from_str::<CounterSetting>(c.value()).ok().filter(|s| s.hall == hall)
}

#[derive(Template)]
#[template(path = "counter.html")]
struct CounterPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    code: String,
    hall_name: String,
    window: String,
    /// (group, name, served by this window, waiting now).
    groups: Vec<(String, String, bool, i64)>,
    current: Option<store::Ticket>,
    current_item: Option<String>,
    notice: Option<String>,
    errors: Vec<FieldError>,
}

#[derive(Deserialize, Default)]
pub struct CounterQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    label: String,
}

#[allow(clippy::too_many_arguments)]
async fn render_counter(
    state: &AppState,
    ctx: &PageCtx,
    code: &str,
    window: String,
    served: &str,
    notice: Option<String>,
    errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    use crate::identity::authz::{Action, Decision, Resource, decide};
    let h = state.halls.directory.get(code).ok_or(ctx.error(ApiError::NotFound))?;
    if decide(&ctx.caller.actor, Action::Update, &Resource::HallQueue { hall: code.to_string() })
        != Decision::Allow
    {
        return Err(ctx.error(ApiError::NotFound));
    }
    let status = service::queue_status(state, code).await.map_err(|e| ctx.error(e))?;
    let day = state.clock().beijing_now().date().format("%Y-%m-%d").to_string();
    let current = match window.as_str() {
        "" => None,
        w => store::called_at_window(&state.db, code, &day, w).await.map_err(|e| ctx.error(e.into()))?,
    };
    let current_item = match current.as_ref().and_then(|c| c.item_code.as_deref()) {
        Some(item) => crate::catalog::store::get(&state.db, item)
            .await
            .map_err(|e| ctx.error(e.into()))?
            .map(|s| s.item.name),
        None => None,
    };
    let groups = service::GROUPS
        .iter()
        .map(|(g, zh, en)| {
            let waiting = status.waiting.iter().find(|w| w.0 == *g).map(|w| w.2).unwrap_or(0);
            (g.to_string(), ctx.t.pick(zh, en).to_string(), served.contains(g), waiting)
        })
        .collect();
    let page = CounterPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        code: code.to_string(),
        hall_name: h.hall.name.clone(),
        window,
        groups,
        current,
        current_item,
        notice,
        errors,
    };
    let code = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.render(code, &page))
}

/// The clerk's console: the window (remembered on this computer), the groups it serves, the
/// number it called, and 叫号 / 重呼 / 过号.
pub async fn counter(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: axum::http::HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<CounterQuery>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let setting = counter_setting(&headers, &code)
        .unwrap_or_else(|| CounterSetting { groups: "BA".into(), ..Default::default() });
    let t = ctx.t;
    let label: String = q.label.chars().filter(char::is_ascii_alphanumeric).take(8).collect();
    let notice = match q.done.as_str() {
        "call" if label.is_empty() => Some(t.pick("没有等候的号", "Nobody is waiting").to_string()),
        "call" => Some(format!("{} {label}", t.pick("已叫号", "Called"))),
        "recall" => Some(format!("{} {label}", t.pick("已重呼", "Called again"))),
        "skip" => Some(format!("{} {label}", t.pick("已过号", "Passed over"))),
        _ => None,
    };
    render_counter(&state, &ctx, &code, setting.window, &setting.groups, notice, Vec::new()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CounterForm {
    csrf: String,
    op: String,
    window: String,
    group_b: String,
    group_a: String,
}

pub async fn counter_act(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Form(f): Form<CounterForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let groups: String = [("B", &f.group_b), ("A", &f.group_a)]
        .iter()
        .filter(|(_, v)| v.as_str() == "on")
        .map(|(g, _)| *g)
        .collect();
    let window = f.window.trim().to_string();
    let done = match f.op.as_str() {
        "call" => {
            let req = service::CallRequest {
                window: window.clone(),
                groups: groups.chars().map(|g| g.to_string()).collect(),
            };
            if groups.is_empty() {
                Err(ApiError::invalid(
                    "groups",
                    "required",
                    "请至少选择一个分组",
                    "Choose at least one group",
                ))
            } else {
                service::call_next(&state, &ctx.caller, &code, req).await.map(|t| t.map(|t| t.label))
            }
        }
        "recall" => service::window_step(&state, &ctx.caller, &code, &window, store::WindowStep::Recall)
            .await
            .map(|t| Some(t.label)),
        "skip" => service::window_step(&state, &ctx.caller, &code, &window, store::WindowStep::Skip)
            .await
            .map(|t| Some(t.label)),
        _ => return Err(ctx.error(ApiError::NotFound)),
    };
    let label = match done {
        Ok(label) => label.unwrap_or_default(),
        Err(ApiError::Validation(errors)) => {
            return render_counter(&state, &ctx, &code, window, &groups, None, errors).await;
        }
        Err(e @ ApiError::StateConflict { .. }) => {
            let (c, zh, en) = e.describe();
            return render_counter(
                &state,
                &ctx,
                &code,
                window,
                &groups,
                None,
                vec![FieldError::new("op", c, zh, en)],
            )
            .await;
        }
        Err(e) => return Err(ctx.error(e)),
    };
    // Remember this computer's window and groups at this hall.
    let setting = CounterSetting { hall: code.clone(), window, groups };
    // A year: the window belongs to the desk's computer, not to a sign-in.
    let value = serde_urlencoded::to_string(&setting).unwrap_or_default();
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    let cookie = axum_extra::extract::cookie::Cookie::parse(format!(
        "{COUNTER_COOKIE}={value}; Max-Age=31536000; Path=/; HttpOnly; SameSite=Strict{secure}"
    ))
    .map_err(|_| ctx.error(ApiError::Internal(anyhow::anyhow!("counter cookie"))))?;
    let jar = axum_extra::extract::CookieJar::new().add(cookie);
    Ok((jar, Redirect::to(&format!("/halls/{code}/counter?done={}&label={label}", f.op))).into_response())
}

// ---------------------------------------------------------------------------------------------
// Self-service kiosks
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "kiosk.html")]
struct KioskPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    hall_code: String,
    hall_name: String,
}

#[derive(Deserialize, Default)]
pub struct KioskQuery {
    #[serde(default)]
    token: String,
}

/// The device id and token the kiosk cookie carries.
pub fn kiosk_device(jar: &axum_extra::extract::CookieJar) -> Option<(String, String)> {
    let c = jar.get(crate::web::page::KIOSK_COOKIE)?;
    c.value().split_once('.').map(|(id, token)| (id.to_string(), token.to_string()))
}

fn kiosk_cookie(value: String, secure: bool) -> axum_extra::extract::cookie::Cookie<'static> {
    axum_extra::extract::cookie::Cookie::build((crate::web::page::KIOSK_COOKIE, value))
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Strict)
        .secure(secure)
        .path("/")
        .build()
}

/// The kiosk's home: `/kiosk/{id}?token=…` (as registered) switches this browser into kiosk mode.
pub async fn kiosk(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<KioskQuery>,
) -> Result<Response, PageError> {
    let jar = axum_extra::extract::CookieJar::from_headers(&headers);
    let token = match q.token.trim() {
        "" => kiosk_device(&jar).filter(|(i, _)| *i == id).map(|(_, t)| t).unwrap_or_default(),
        t => t.to_string(),
    };
    let hall = service::kiosk_heartbeat(&state, &id, &token)
        .await
        .map_err(|e| ctx.error(e))?
        .ok_or(ctx.error(ApiError::NotFound))?;
    let hall_name = state.halls.directory.get(&hall).map(|h| h.hall.name.clone()).unwrap_or_default();
    let t = Tr { kiosk: true, ..ctx.t };
    let page = KioskPage { t, user: ctx.user(), csrf: ctx.csrf.clone(), hall_code: hall, hall_name };
    let mut resp = ctx.render(StatusCode::OK, &page);
    if let Ok(v) = kiosk_cookie(format!("{id}.{token}"), state.config.secure_cookies).to_string().parse() {
        resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// 返回首页 on a kiosk: this device's home (from its cookie), or the site's for a browser that
/// is not a kiosk.
pub async fn kiosk_home(headers: axum::http::HeaderMap) -> Response {
    let jar = axum_extra::extract::CookieJar::from_headers(&headers);
    let home = kiosk_device(&jar).map(|(id, _)| format!("/kiosk/{id}")).unwrap_or_else(|| "/".into());
    axum::response::Redirect::to(&home).into_response()
}

/// The idle timeout's target: ends the session and returns to the kiosk's home.
/// A POST with the `X-Kiosk` header (which a form or link on another site cannot send), so that
/// nobody is logged out by following a link.
pub async fn kiosk_leave(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    use crate::identity::session::{self, SESSION_COOKIE};
    if headers.get("x-kiosk").is_none() {
        return ApiError::Forbidden.into_response();
    }
    let jar = axum_extra::extract::CookieJar::from_headers(&headers);
    if let Some(c) = jar.get(SESSION_COOKIE) {
        let _ = session::destroy(&state.db, c.value()).await;
    }
    let home = kiosk_device(&jar).map(|(id, _)| format!("/kiosk/{id}")).unwrap_or_else(|| "/".into());
    let mut gone =
        crate::web::page::private_cookie(SESSION_COOKIE, String::new(), "/", state.config.secure_cookies);
    gone.make_removal();
    crate::web::page::see_other_with_cookie(&home, &gone)
}

/// The kiosk page's heartbeat (its cookie names the device; the header keeps other sites out).
pub async fn kiosk_heartbeat(State(state): State<AppState>, headers: axum::http::HeaderMap) -> StatusCode {
    let jar = axum_extra::extract::CookieJar::from_headers(&headers);
    let Some((id, token)) = kiosk_device(&jar) else {
        return StatusCode::UNAUTHORIZED;
    };
    if headers.get("x-kiosk").is_none() {
        return StatusCode::FORBIDDEN;
    }
    match service::kiosk_heartbeat(&state, &id, &token).await {
        Ok(Some(_)) => StatusCode::NO_CONTENT,
        Ok(None) => StatusCode::UNAUTHORIZED,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}
