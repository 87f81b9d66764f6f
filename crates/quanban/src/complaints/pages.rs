//! Pages of 接诉即办: the citizen's complaint form and "my complaints"; the hotline operator's
//! intake and dispatch queue and the department's inbox (one desk); the supervisor's dashboard
//! with the three rates, the cluster map, proactive tasks and 每月一题.

use crate::http::extract::{Path, Query};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Multipart;
use serde::Deserialize;

use super::domain;
use super::service::{
    self, ActRequest, ComplaintView, IntakeRequest, PeriodQuery, RatesReport, Source, Topic,
};
use super::store::ProactiveTask;
use crate::app::AppState;
use crate::http::{ApiError, FieldError};
use crate::identity::authz::Actor;
use crate::web::i18n::Tr;
use crate::web::page::{PageCtx, PageError, UserChip};

/// A category for a select box.
pub struct Choice {
    pub code: String,
    pub label: String,
}

fn categories(state: &AppState, t: &Tr) -> Vec<Choice> {
    state
        .complaints
        .taxonomy()
        .categories
        .iter()
        .map(|c| Choice {
            code: c.code.clone(),
            label: format!("{} · {}", t.pick(&c.group, &c.group_en), t.pick(&c.name, &c.name_en)),
        })
        .collect()
}

async fn departments(state: &AppState) -> Result<Vec<Choice>, ApiError> {
    let mut d: Vec<Choice> = service::department_names(&state.db)
        .await?
        .into_iter()
        .map(|(code, name)| Choice { code, label: name })
        .collect();
    d.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(d)
}

/// A point on a page's city map (a complaint, a cluster's centre).
pub struct MapMark {
    pub x: String,
    pub y: String,
    pub r: String,
    pub label: String,
}

// ---------------------------------------------------------------------------------------------
// The citizen's page
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "complaints.html")]
struct CitizenPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    categories: Vec<Choice>,
    complaints: Vec<ComplaintView>,
    /// Closed complaints the citizen has already rated.
    rated: std::collections::HashSet<String>,
    map: crate::web::map::CityMap,
    /// The point given (tapped or found by name), drawn as a pin.
    pin: Option<(String, String)>,
    /// The place named could not be found (its error goes next to the field).
    place_error: Option<FieldError>,
    errors: Vec<FieldError>,
    form: IntakeForm,
    filed: Option<String>,
}

#[derive(Default, Deserialize)]
pub struct IntakeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub lat: String,
    #[serde(default)]
    pub lon: String,
    /// A place by name (趵突泉, 千佛山街道), found in the gazetteer when no point was tapped.
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    /// `yes` when the complainant (or the caller, on the hotline) agrees to publish.
    #[serde(default)]
    pub public: String,
    /// The desk: the kind of call (`enquiry` …), the district, whether the operator answered
    /// an enquiry on the call and what they said.
    #[serde(default)]
    pub call_type: String,
    #[serde(default)]
    pub district: String,
    #[serde(default)]
    pub answered: String,
    #[serde(default)]
    pub answer: String,
    /// The desk's idempotency key, made when the routing is proposed: the confirmation files
    /// once however often it is sent.
    #[serde(default)]
    pub key: String,
    /// The desk's 返回修改 button: back to the call's details, nothing filed.
    #[serde(default)]
    pub edit: String,
}

#[derive(Deserialize, Default)]
pub struct FiledQuery {
    #[serde(default)]
    filed: Option<String>,
}

async fn citizen_page(
    state: &AppState,
    ctx: &PageCtx,
    form: IntakeForm,
    errors: Vec<FieldError>,
    filed: Option<String>,
) -> Result<Response, PageError> {
    let complaints =
        service::list(state, &ctx.caller, &service::ListQuery::default()).await.map_err(|e| ctx.error(e))?;
    let rated = crate::feedback::service::mine(state, &ctx.caller)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .filter(|r| r.rating.object_kind == "complaint")
        .map(|r| r.rating.object_id)
        .collect();
    let map = state.halls.map(None);
    let pin = match (form.lat.trim().parse::<f64>(), form.lon.trim().parse::<f64>()) {
        (Ok(lat), Ok(lon)) => Some(map.point(lon, lat)),
        _ => None,
    };
    let page = CitizenPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        categories: categories(state, &ctx.t),
        complaints,
        rated,
        map,
        pin,
        place_error: errors.iter().find(|e| e.field == "place").cloned(),
        errors,
        form,
        filed,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.render(status, &page))
}

pub async fn citizen(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<FiledQuery>,
) -> Result<Response, PageError> {
    match &ctx.caller.actor {
        Actor::Anonymous => Ok(ctx.to_login().into_response()),
        Actor::Staff { .. } => Ok(Redirect::to("/complaints/desk").into_response()),
        Actor::Person { .. } => citizen_page(&state, &ctx, IntakeForm::default(), Vec::new(), q.filed).await,
    }
}

fn number(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> Option<f64> {
    crate::web::page::number_input(
        field,
        raw,
        "请填写数字，如 36.6512",
        "Enter a number, e.g. 36.6512",
        errors,
    )
}

/// A citizen files a complaint (multipart: the fields and up to 6 photos).
pub async fn file(
    State(state): State<AppState>,
    ctx: PageCtx,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let user = ctx.caller.user_id.clone().ok_or(ctx.error(ApiError::Unauthenticated))?;
    let mut form = IntakeForm::default();
    let mut photos = Vec::new();
    let mut errors = Vec::new();
    let mut checked = false;
    while let Some(field) =
        multipart.next_field().await.map_err(|e| ctx.error(crate::cases::api::multipart_error(e)))?
    {
        let name = field.name().unwrap_or("").to_string();
        if name == "photos" {
            if !checked {
                // Files are stored as they stream in, so the token is checked first.
                ctx.check_csrf(&form.csrf)?;
                checked = true;
            }
            let file_name = field.file_name().unwrap_or("photo").to_string();
            let bytes = field.bytes().await.map_err(|e| ctx.error(crate::cases::api::multipart_error(e)))?;
            if bytes.is_empty() {
                continue;
            }
            match crate::platform::uploads::check_file(&file_name, &bytes) {
                Ok(
                    kind @ (crate::platform::uploads::FileKind::Png
                    | crate::platform::uploads::FileKind::Jpeg),
                ) => {
                    let hash = crate::platform::uploads::put_upload(
                        &state.db,
                        bytes.to_vec(),
                        kind.content_type(),
                        &user,
                    )
                    .await
                    .map_err(|e| ctx.error(e.into()))?;
                    photos.push(hash);
                }
                _ => errors.push(FieldError::new(
                    "photos",
                    "not_a_photo",
                    format!("“{file_name}”不是JPEG或PNG照片（不超过10MB）"),
                    format!("{file_name} is not a JPEG or PNG photo (at most 10 MB)"),
                )),
            }
            continue;
        }
        let text = field.text().await.unwrap_or_default();
        match name.as_str() {
            "csrf" => form.csrf = text,
            "description" => form.description = text,
            "category" => form.category = text,
            "address" => form.address = text,
            "lat" => form.lat = text,
            "lon" => form.lon = text,
            "place" => form.place = text,
            "public" => form.public = text,
            _ => {}
        }
    }
    ctx.check_csrf(&form.csrf)?;
    // Nobody types coordinates: a tapped point comes as lat/lon, a named place is looked up.
    if form.lat.trim().is_empty() && form.lon.trim().is_empty() && !form.place.trim().is_empty() {
        match state.halls.city.gazetteer.search(form.place.trim(), 1).first() {
            Some(p) => (form.lat, form.lon) = (p.lat.to_string(), p.lon.to_string()),
            None => errors.push(crate::halls::pages::unknown_place(form.place.trim())),
        }
    }
    let lat = number("lat", &form.lat, &mut errors);
    let lon = number("lon", &form.lon, &mut errors);
    if !errors.is_empty() {
        return citizen_page(&state, &ctx, form, errors, None).await;
    }
    let req = IntakeRequest {
        description: form.description.clone(),
        category: Some(form.category.clone()),
        address: Some(form.address.clone()),
        lat,
        lon,
        photos,
        channel: Some("web".into()),
        public: form.public == "yes",
        ..IntakeRequest::default()
    };
    match service::intake(&state, Source::Caller(&ctx.caller), req).await {
        Ok(done) => {
            Ok(Redirect::to(&format!("/complaints?filed={}", done.complaint.complaint.id)).into_response())
        }
        Err(ApiError::Validation(errors)) => citizen_page(&state, &ctx, form, errors, None).await,
        Err(e) => Err(ctx.error(e)),
    }
}

// ---------------------------------------------------------------------------------------------
// Acting from a page (any role: the service decides)
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct ActForm {
    csrf: String,
    action: String,
    #[serde(default)]
    back: String,
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    department: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    days: Option<u32>,
    #[serde(default)]
    approve: Option<String>,
    #[serde(default)]
    resolved: Option<String>,
    #[serde(default)]
    satisfied: Option<String>,
    #[serde(default)]
    into: String,
}

fn yes(v: &Option<String>) -> Option<bool> {
    v.as_deref().map(|s| s == "yes")
}

pub async fn act(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<ActForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let some = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
    let req = ActRequest {
        version: f.version,
        department: some(&f.department),
        category: some(&f.category),
        reason: some(&f.reason),
        note: some(&f.note),
        answer: some(&f.answer),
        days: f.days,
        approve: yes(&f.approve),
        resolved: yes(&f.resolved),
        satisfied: yes(&f.satisfied),
        into: some(&f.into),
    };
    let back = match f.back.as_str() {
        "desk" => "/complaints/desk",
        _ => "/complaints",
    };
    match service::act(&state, &ctx.caller, &id, &f.action, req).await {
        Ok(_) => Ok(Redirect::to(&format!("{back}#c-{id}")).into_response()),
        Err(ApiError::Validation(errors)) if back == "/complaints/desk" => {
            desk_page(&state, &ctx, DeskExtras { errors, ..DeskExtras::default() }).await
        }
        Err(ApiError::Validation(errors)) => {
            citizen_page(&state, &ctx, IntakeForm::default(), errors, None).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

// ---------------------------------------------------------------------------------------------
// The staff desk: the operator's intake and queue, the department's inbox
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "complaint_desk.html")]
struct DeskPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    operator: bool,
    categories: Vec<Choice>,
    departments: Vec<Choice>,
    districts: &'static [&'static str],
    call_types: Vec<Choice>,
    /// Operators: waiting for dispatch (pending, returned), for a callback, extension requests.
    queue: Vec<ComplaintView>,
    /// Everything else on the desk (the department's open complaints, or all open ones).
    open: Vec<ComplaintView>,
    yellow: usize,
    red: usize,
    errors: Vec<FieldError>,
    form: IntakeForm,
    filed: Option<service::Intake>,
    proposal: Option<ProposalView>,
    history: Option<(String, Vec<ComplaintView>)>,
    /// The first error for each field, shown next to it.
    invalid: std::collections::BTreeMap<String, FieldError>,
    /// The call type chosen, as people read it.
    call_type_label: String,
}

/// What one desk page shows besides its lists.
#[derive(Default)]
struct DeskExtras {
    errors: Vec<FieldError>,
    form: IntakeForm,
    /// The complaint just filed (after the redirect), with its possible duplicates.
    filed: Option<service::Intake>,
    /// The routing proposed for the call in `form`, waiting for the operator's confirmation.
    proposal: Option<ProposalView>,
    /// A caller's earlier complaints: the number searched for (masked) and what was found.
    history: Option<(String, Vec<ComplaintView>)>,
}

/// A proposal as the desk shows it.
struct ProposalView {
    district: Option<String>,
    routes: Vec<RouteView>,
    /// The category and department preselected for confirmation.
    category: String,
    department: String,
}

struct RouteView {
    label: String,
    department: String,
    percent: String,
    confident: bool,
}

async fn desk_page(state: &AppState, ctx: &PageCtx, x: DeskExtras) -> Result<Response, PageError> {
    if !matches!(ctx.caller.actor, Actor::Staff { .. }) {
        return Err(ctx.error(if ctx.caller.user_id.is_some() {
            ApiError::NotFound
        } else {
            ApiError::Unauthenticated
        }));
    }
    let operator = service::is_operator(&ctx.caller.actor);
    let q = service::ListQuery {
        status: Some("pending,dispatched,responded,resolved,returned".into()),
        ..service::ListQuery::default()
    };
    let all = service::list(state, &ctx.caller, &q).await.map_err(|e| ctx.error(e))?;
    let (queue, open): (Vec<ComplaintView>, Vec<ComplaintView>) = all.into_iter().partition(|c| {
        operator
            && (matches!(c.complaint.status.as_str(), "pending" | "returned" | "resolved")
                || c.complaint.extension_request.is_some())
    });
    let t = ctx.t;
    let mut invalid = std::collections::BTreeMap::new();
    for e in &x.errors {
        invalid.entry(e.field.clone()).or_insert_with(|| e.clone());
    }
    let call_type_label = domain::CallType::parse(&x.form.call_type)
        .map(|c| t.pick(c.label_zh(), c.label_en()).to_string())
        .unwrap_or_default();
    let page = DeskPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        operator,
        categories: categories(state, &t),
        departments: departments(state).await.map_err(|e| ctx.error(e))?,
        districts: &domain::DISTRICTS,
        call_types: domain::CallType::ALL
            .iter()
            .map(|c| Choice { code: c.as_str().into(), label: t.pick(c.label_zh(), c.label_en()).into() })
            .collect(),
        yellow: open.iter().filter(|c| c.card == domain::Card::Yellow).count(),
        red: open.iter().filter(|c| c.card == domain::Card::Red).count(),
        queue,
        open,
        errors: x.errors,
        form: x.form,
        filed: x.filed,
        proposal: x.proposal,
        history: x.history,
        invalid,
        call_type_label,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.render(status, &page))
}

#[derive(Deserialize, Default)]
pub struct DeskQuery {
    /// The complaint just filed (post/redirect/get).
    #[serde(default)]
    filed: Option<String>,
}

pub async fn desk(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DeskQuery>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let filed = match q.filed.as_deref().filter(|f| !f.is_empty()) {
        Some(id) => Some(service::filed(&state, &ctx.caller, id).await.map_err(|e| ctx.error(e))?),
        None => None,
    };
    desk_page(&state, &ctx, DeskExtras { filed, ..DeskExtras::default() }).await
}

fn intake_request(f: &IntakeForm, errors: &mut Vec<FieldError>) -> IntakeRequest {
    let lat = number("lat", &f.lat, errors);
    let lon = number("lon", &f.lon, errors);
    let some = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
    IntakeRequest {
        description: f.description.clone(),
        category: some(&f.category),
        department: some(&f.department),
        address: some(&f.address),
        lat,
        lon,
        name: some(&f.name),
        phone: some(&f.phone),
        public: f.public == "yes",
        call_type: some(&f.call_type),
        district: some(&f.district),
        answered_directly: f.answered == "yes",
        answer: some(&f.answer),
        idempotency_key: some(&f.key),
        ..IntakeRequest::default()
    }
}

/// The operator takes a call: its details are checked and the routing proposed (category,
/// department, confidence); nothing is filed until the operator confirms.
pub async fn hotline_propose(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(mut f): Form<IntakeForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let mut errors = Vec::new();
    let mut req = intake_request(&f, &mut errors);
    // Choices made on the details form are the operator's; the proposal starts afresh.
    req.category = None;
    req.department = None;
    req.answered_directly = false;
    if !errors.is_empty() {
        return desk_page(&state, &ctx, DeskExtras { errors, form: f, ..DeskExtras::default() }).await;
    }
    match service::propose(&state, &ctx.caller, &req).await {
        Ok(p) => {
            let t = ctx.t;
            let taxonomy = state.complaints.taxonomy();
            let names = service::department_names(&state.db).await.map_err(|e| ctx.error(e))?;
            let first = p.routes.first();
            let proposal = ProposalView {
                category: first.map(|r| r.category.clone()).unwrap_or_default(),
                department: first.and_then(|r| r.department.clone()).unwrap_or_default(),
                district: p.district.clone(),
                routes: p
                    .routes
                    .iter()
                    .map(|r| RouteView {
                        label: taxonomy
                            .category(&r.category)
                            .map(|c| {
                                format!("{} · {}", t.pick(&c.group, &c.group_en), t.pick(&c.name, &c.name_en))
                            })
                            .unwrap_or_else(|| r.category.clone()),
                        department: r
                            .department
                            .as_ref()
                            .map(|d| names.get(d).cloned().unwrap_or_else(|| d.clone()))
                            .unwrap_or_default(),
                        // Naive Bayes is sure of itself: below one in a hundred reads "<1%", not "0%".
                        percent: if r.confidence < 0.005 {
                            "<1%".into()
                        } else {
                            format!("{:.0}%", r.confidence * 100.0)
                        },
                        confident: r.confident,
                    })
                    .collect(),
            };
            f.key = crate::platform::tokens::random_hex(16);
            f.district = p.district.unwrap_or_default();
            desk_page(&state, &ctx, DeskExtras { form: f, proposal: Some(proposal), ..DeskExtras::default() })
                .await
        }
        Err(ApiError::Validation(errors)) => {
            desk_page(&state, &ctx, DeskExtras { errors, form: f, ..DeskExtras::default() }).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

/// The operator confirms (or changes) the proposed routing and files the call, once: the page
/// then moves to the desk with the number (post/redirect/get), so a refresh files nothing.
pub async fn hotline_intake(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<IntakeForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    if f.edit == "yes" {
        return desk_page(&state, &ctx, DeskExtras { form: f, ..DeskExtras::default() }).await;
    }
    let mut errors = Vec::new();
    let req = intake_request(&f, &mut errors);
    if !errors.is_empty() {
        return desk_page(&state, &ctx, DeskExtras { errors, form: f, ..DeskExtras::default() }).await;
    }
    match service::intake(&state, Source::Caller(&ctx.caller), req).await {
        Ok(done) => {
            Ok(Redirect::to(&format!("/complaints/desk?filed={}", done.complaint.complaint.id))
                .into_response())
        }
        Err(ApiError::Validation(errors)) => {
            desk_page(&state, &ctx, DeskExtras { errors, form: f, ..DeskExtras::default() }).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

/// A caller's number as the desk shows it back: its first three and last four digits.
fn masked_number(raw: &str) -> String {
    let digits: Vec<char> = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 8 {
        return "****".into();
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

#[derive(Deserialize, Default)]
pub struct CallerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    caller_phone: String,
}

/// A caller's earlier complaints, by their number (sent in a form, so that it stays out of URLs).
pub async fn caller_history(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<CallerForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    match service::by_caller_phone(&state, &ctx.caller, &f.caller_phone).await {
        Ok(found) => {
            let masked = masked_number(&f.caller_phone);
            desk_page(&state, &ctx, DeskExtras { history: Some((masked, found)), ..DeskExtras::default() })
                .await
        }
        Err(ApiError::Validation(errors)) => {
            desk_page(&state, &ctx, DeskExtras { errors, ..DeskExtras::default() }).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

// ---------------------------------------------------------------------------------------------
// The dashboard
// ---------------------------------------------------------------------------------------------

pub struct TaskMark {
    pub task: ProactiveTask,
    pub category_name: String,
    pub x: String,
    pub y: String,
    pub r: String,
}

#[derive(Template)]
#[template(path = "complaint_dashboard.html")]
struct DashboardPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    operator: bool,
    report: RatesReport,
    topics: Vec<Topic>,
    tasks: Vec<TaskMark>,
    dots: Vec<MapMark>,
    map: crate::web::map::CityMap,
    from: String,
    to: String,
}

pub async fn dashboard(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    service::require_staff(&ctx.caller).map_err(|e| ctx.error(e))?;
    let report = service::rates(&state, &q).await.map_err(|e| ctx.error(e))?;
    let topics = service::monthly_topics(&state, None).await.map_err(|e| ctx.error(e))?;
    let map = state.halls.map(None);
    let taxonomy = state.complaints.taxonomy();
    let tasks = service::tasks(&state, &ctx.caller)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .map(|task| {
            let (x, y) = map.point(task.lon, task.lat);
            TaskMark {
                category_name: taxonomy
                    .category(&task.category)
                    .map(|c| ctx.t.pick(&c.name, &c.name_en).to_string())
                    .unwrap_or_default(),
                r: map.metres(task.radius_m.max(200.0)),
                task,
                x,
                y,
            }
        })
        .collect();
    let since = crate::store::time_text(state.clock().now() - chrono::Duration::days(30));
    let dots = super::store::located_open(&state.db, &since, true, super::store::Around::Everywhere)
        .await
        .map_err(|e| ctx.error(e.into()))?
        .into_iter()
        .filter_map(|c| {
            let (x, y) = map.point(c.lon?, c.lat?);
            Some(MapMark { x, y, r: "3".into(), label: c.id })
        })
        .collect();
    let page = DashboardPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        operator: service::is_operator(&ctx.caller.actor),
        from: report.from.clone(),
        to: report.to.clone(),
        report,
        topics,
        tasks,
        dots,
        map,
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
    #[serde(default)]
    note: String,
}

pub async fn scan(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    if !service::is_operator(&ctx.caller.actor) {
        return Err(ctx.error(ApiError::Forbidden));
    }
    service::scan_clusters(&state).await.map_err(|e| ctx.error(e))?;
    Ok(Redirect::to("/complaints/dashboard#tasks").into_response())
}

pub async fn finish_task(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    service::finish_task(&state, &ctx.caller, &id, Some(f.note), None).await.map_err(|e| ctx.error(e))?;
    Ok(Redirect::to("/complaints/dashboard#tasks").into_response())
}

#[derive(Deserialize)]
pub struct RateForm {
    csrf: String,
    #[serde(default)]
    score: String,
    #[serde(default)]
    comment: String,
}

/// The complainant rates how a closed complaint was handled.
pub async fn rate(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<RateForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let req = crate::feedback::service::RateRequest {
        complaint_id: Some(id.clone()),
        score: f.score.parse::<i64>().map(serde_json::Value::from).unwrap_or(serde_json::Value::Null),
        comment: Some(f.comment),
        channel: Some("web".into()),
        ..Default::default()
    };
    match crate::feedback::service::rate(&state, &ctx.caller, req).await {
        Ok(_) => Ok(Redirect::to(&format!("/complaints#c-{id}")).into_response()),
        Err(ApiError::Validation(errors)) => {
            citizen_page(&state, &ctx, IntakeForm::default(), errors, None).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}
