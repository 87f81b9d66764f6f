//! JSON endpoints of cases: apply, read, act, uploads, drafts, the inbox, post-checks, the staff
//! workbench and supervision.

use std::collections::BTreeMap;

use crate::http::extract::{Path, Query};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Multipart;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::domain::{CaseAction, CaseState, Light};
use super::service::{self, ActionRequest, ApplyRequest};
use super::store::{self, CaseEvent, CaseMaterial, CaseRecord, Draft, Notification, PostCheck, Queue};
use crate::app::AppState;
use crate::calendar::domain::Calendar;
use crate::http::extract::ApiJsonOrEmpty;
use crate::http::{ApiError, ApiJson, ApiResult, Caller, FieldError};
use crate::identity::authz::{Action, Actor, Decision, decide};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseCreated {
    pub case_number: String,
    pub state: String,
}

/// Applies for an item (`item_code`) or a bundle (`bundle_code` + `answers`). Materials are
/// uploads (by hash) or inline Base64 files; a commitment replaces the proofs that allow it.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = ApplyRequest, security(("bearer" = [])),
    responses((status = 201, body = CaseCreated), (status = 401, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn create_case(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ApplyRequest>,
) -> ApiResult<(StatusCode, Json<CaseCreated>)> {
    let (case_number, s) = service::apply(&state, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(CaseCreated { case_number, state: s.as_str().into() })))
}

/// A case with everything its page shows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: CaseRecord,
    /// Due date now (acceptance + promised working days + paused days), once accepted.
    pub due_date: Option<String>,
    /// `green`, `yellow`, `red`, or `none` when the clock is not running.
    #[schema(value_type = String)]
    pub light: Light,
    pub state_zh: String,
    pub state_en: String,
    pub timeline: Vec<CaseEvent>,
    pub materials: Vec<CaseMaterial>,
    /// A bundle's sub-cases.
    pub parts: Vec<PartView>,
    /// What the caller can do now.
    pub available_actions: Vec<String>,
    pub post_checks: Vec<PostCheck>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartView {
    pub case_number: String,
    pub title: String,
    pub department: String,
    pub state: String,
    /// Done at a hall (到厅办理): waits for the applicant's visit until the window accepts it.
    pub in_person: bool,
    pub due_date: Option<String>,
    #[schema(value_type = String)]
    pub light: Light,
}

fn fmt_date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

pub async fn case_view(state: &AppState, caller: &Caller, number: &str) -> ApiResult<CaseView> {
    let case = service::readable(state, caller, number).await?;
    let cal = state.calendar().await;
    let now = state.clock().now();
    let today = crate::platform::clock::beijing_date(now);
    let yellow = state.config.yellow_days;
    let parts = if case.is_bundle() {
        store::children(&state.db, number)
            .await?
            .into_iter()
            .map(|c| PartView {
                due_date: fmt_date(c.due_now(&cal, today)),
                light: c.light(&cal, now, yellow),
                case_number: c.number,
                title: c.title,
                department: c.department,
                state: c.state.as_str().into(),
                in_person: c.in_person,
            })
            .collect()
    } else {
        Vec::new()
    };
    let available =
        service::available(&caller.actor, &case).into_iter().map(|a| a.as_str().to_string()).collect();
    if matches!(caller.actor, Actor::Staff { .. }) {
        // Staff reading an applicant's case read personal data: that read is audited.
        crate::identity::store::record_read(
            &state.db,
            caller.actor.audit_name(),
            format!("case:{number}"),
            "case.read",
        )
        .await?;
    }
    Ok(CaseView {
        due_date: fmt_date(case.due_now(&cal, today)),
        light: case.light(&cal, now, yellow),
        state_zh: case.state.label_zh().into(),
        state_en: case.state.label_en().into(),
        timeline: store::events(&state.db, number).await?,
        materials: store::materials(&state.db, number).await?,
        post_checks: store::post_checks_of_case(&state.db, number).await?,
        parts,
        available_actions: available,
        case,
    })
}

/// One case: state, due date, light, timeline, materials, a bundle's parts, and the actions the
/// caller may take. An applicant asking for someone else's case gets 404.
#[utoipa::path(get, path = "/api/v1/cases/{case_number}", tag = "cases", security(("bearer" = [])),
    params(("case_number" = String, Path, description = "e.g. JN20261129000001")),
    responses((status = 200, body = CaseView), (status = 404, body = crate::http::error::Problem)))]
pub async fn get_case(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> ApiResult<Json<CaseView>> {
    caller.require_user()?;
    Ok(Json(case_view(&state, &caller, &number).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActionDone {
    pub case_number: String,
    pub state: String,
    pub version: i64,
    pub department: String,
    pub due_date: Option<String>,
    /// The decision document's number (济政务许〔2026〕123号), when this action decided the case.
    pub document_number: Option<String>,
}

/// Takes an action: `accept`, `not_accept`, `start_review`, `request_supplement`, `resubmit`,
/// `approve`, `reject`, `close`, `deliver`, `withdraw`, `transfer`. Answers the new state, or 409
/// with the current `state` when the action is not possible now or someone acted first.
#[utoipa::path(post, path = "/api/v1/cases/{case_number}/actions/{action}", tag = "cases",
    security(("bearer" = [])), request_body = ActionRequest,
    params(("case_number" = String, Path, description = "case number"), ("action" = String, Path, description = "action name")),
    responses((status = 200, body = ActionDone), (status = 403, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem), (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn act(
    State(state): State<AppState>,
    caller: Caller,
    Path((number, action)): Path<(String, String)>,
    ApiJsonOrEmpty(req): ApiJsonOrEmpty<ActionRequest>,
) -> ApiResult<Json<ActionDone>> {
    let Some(action) = CaseAction::parse(&action) else {
        return Err(ApiError::NotFound);
    };
    let case = service::act(&state, &caller, &number, action, req).await?;
    let cal = state.calendar().await;
    Ok(Json(ActionDone {
        due_date: fmt_date(case.due_now(&cal, state.clock().today())),
        document_number: match action {
            CaseAction::Approve | CaseAction::Reject | CaseAction::Accept => case
                .decision_document
                .as_ref()
                .and_then(|d| d.get("document_number"))
                .and_then(|n| n.as_str())
                .map(str::to_string),
            _ => None,
        },
        case_number: case.number,
        state: case.state.as_str().into(),
        version: case.version,
        department: case.department,
    }))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ListQuery {
    /// Staff: `department` (default), `intake` (general window: all cases awaiting acceptance),
    /// `delivery` (general window: results to hand out), `all` (supervisor). Ignored for applicants.
    pub queue: Option<String>,
    /// Only this state (department queue).
    pub state: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseRow {
    pub case_number: String,
    pub kind: String,
    pub title: String,
    pub department: String,
    pub applicant_name: String,
    pub state: String,
    pub due_date: Option<String>,
    #[schema(value_type = String)]
    pub light: Light,
    pub submitted_at: String,
}

pub fn row(c: &CaseRecord, cal: &Calendar, now: DateTime<Utc>, yellow: u32) -> CaseRow {
    let today = crate::platform::clock::beijing_date(now);
    CaseRow {
        case_number: c.number.clone(),
        kind: c.kind.clone(),
        title: c.title.clone(),
        department: c.department.clone(),
        applicant_name: c.applicant_name.clone(),
        state: c.state.as_str().into(),
        due_date: fmt_date(c.due_now(cal, today)),
        light: c.light(cal, now, yellow),
        submitted_at: c.submitted_at.clone(),
    }
}

/// The caller's list: an applicant's own cases; a staff member's queue.
pub async fn list_for(state: &AppState, caller: &Caller, q: &ListQuery) -> ApiResult<Vec<CaseRecord>> {
    let user = caller.require_user()?;
    match &caller.actor {
        Actor::Person { enterprises, .. } => Ok(store::for_applicant(&state.db, user, enterprises).await?),
        Actor::Staff { department, .. } => {
            let queue = match q.queue.as_deref().unwrap_or("department") {
                "intake" if service::is_general_window(&caller.actor) => Queue::Intake,
                "delivery" if service::is_general_window(&caller.actor) => Queue::WindowDelivery,
                "all" if service::is_supervisor(&caller.actor) => Queue::AllOpen,
                "department" => {
                    let state_filter = match q.state.as_deref().filter(|s| !s.is_empty()) {
                        Some(s) => Some(CaseState::parse(s).ok_or_else(|| {
                            ApiError::Validation(vec![FieldError::new(
                                "state",
                                "unknown_state",
                                format!("未知的办件状态“{s}”"),
                                format!("Unknown case state {s}"),
                            )])
                        })?),
                        None => None,
                    };
                    Queue::Department { department: department.clone(), state: state_filter }
                }
                _ => return Err(ApiError::Forbidden),
            };
            Ok(store::queue(&state.db, &queue, 500).await?)
        }
        Actor::Anonymous => Err(ApiError::Unauthenticated),
    }
}

/// Cases: the applicant's own, or a staff queue (most urgent first).
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = [CaseRow]), (status = 401, body = crate::http::error::Problem)))]
pub async fn list_cases(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<CaseRow>>> {
    let cases = list_for(&state, &caller, &q).await?;
    let cal = state.calendar().await;
    let now = state.clock().now();
    Ok(Json(cases.iter().map(|c| row(c, &cal, now, state.config.yellow_days)).collect()))
}

/// Downloads one material's file (for whoever may read the case).
#[utoipa::path(get, path = "/api/v1/cases/{case_number}/materials/{index}", tag = "cases", security(("bearer" = [])),
    params(("case_number" = String, Path, description = "case number"), ("index" = i64, Path, description = "material index")),
    responses((status = 200, description = "the file"), (status = 404, body = crate::http::error::Problem)))]
pub async fn material_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((number, index)): Path<(String, i64)>,
) -> ApiResult<Response> {
    service::readable(&state, &caller, &number).await?;
    let m = store::materials(&state.db, &number)
        .await?
        .into_iter()
        .find(|m| m.index == index)
        .ok_or(ApiError::NotFound)?;
    let hash = m.hash.ok_or(ApiError::NotFound)?;
    let (content_type, bytes) =
        crate::platform::uploads::upload_content(&state.db, &hash).await?.ok_or(ApiError::NotFound)?;
    let file_name = m.file_name.unwrap_or_else(|| "material".into());
    let disposition =
        format!("attachment; filename*=UTF-8''{}", crate::web::page::encode_query_value(&file_name));
    Ok((
        [(header::CONTENT_TYPE, content_type), (header::CONTENT_DISPOSITION, disposition)],
        Body::from(bytes),
    )
        .into_response())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Uploaded {
    /// SM3 hash of the content (hex): reference it as a material's `upload`.
    pub hash: String,
    pub size: i64,
    pub content_type: String,
    pub file_name: String,
}

/// Reads a multipart upload's `file` field into (name, bytes), enforcing the size limit.
pub async fn read_file_field(mut multipart: Multipart) -> ApiResult<(String, Vec<u8>)> {
    let mut file = None;
    // The whole body is read before answering: answering while the client is still sending the
    // closing boundary would reset its connection instead of showing it the error.
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() == Some("file") && file.is_none() {
            let name = field.file_name().unwrap_or("file").to_string();
            let bytes = field.bytes().await.map_err(multipart_error)?;
            file = Some((name, bytes.to_vec()));
        } else {
            field.bytes().await.map_err(multipart_error)?;
        }
    }
    file.ok_or_else(|| ApiError::Validation(vec![FieldError::required("file", "文件", "A file")]))
}

pub fn multipart_error(e: axum_extra::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::Validation(vec![crate::platform::uploads::file_error(
            "file",
            "上传文件 upload",
            crate::platform::uploads::FileProblem::TooLarge,
        )])
    } else {
        ApiError::BadRequest {
            code: "bad_multipart", zh: "无法读取上传的文件".into(), en: e.body_text()
        }
    }
}

/// Uploads a material file (multipart field `file`): PDF, OFD, JPEG or PNG up to 10 MB, stored
/// once per content under its SM3 hash.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "cases", security(("bearer" = [])),
    responses((status = 201, body = Uploaded), (status = 422, body = crate::http::error::Problem)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    multipart: Multipart,
) -> ApiResult<(StatusCode, Json<Uploaded>)> {
    let user = caller.require_user()?.to_string();
    let (file_name, bytes) = read_file_field(multipart).await?;
    let size = bytes.len() as i64;
    let (hash, kind) = service::store_file(&state, &user, &file_name, bytes).await?.map_err(|p| {
        ApiError::Validation(vec![crate::platform::uploads::file_error("file", &file_name, p)])
    })?;
    Ok((
        StatusCode::CREATED,
        Json(Uploaded { hash, size, content_type: kind.content_type().into(), file_name }),
    ))
}

// --- drafts ---------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DraftRequest {
    pub item_code: Option<String>,
    pub bundle_code: Option<String>,
    /// Whatever the form holds so far (saved as is; checked on submission).
    #[schema(value_type = Object)]
    pub data: Value,
    /// For updates: the version last read.
    pub version: Option<i64>,
}

async fn own_draft(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Draft> {
    let user = caller.require_user()?;
    let d = store::get_draft(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    if d.owner_id != user {
        return Err(ApiError::NotFound);
    }
    Ok(d)
}

/// A draft's data is an object (field → value), at most 64 KB of JSON.
fn check_draft_size(data: &Value) -> ApiResult<()> {
    if !data.is_object() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "data",
            "invalid_type",
            "草稿内容 data 应为对象（字段名: 值）",
            "data must be an object (field name: value)",
        )]));
    }
    if data.to_string().len() > 64 * 1024 {
        return Err(ApiError::Validation(vec![FieldError::new(
            "data",
            "too_large",
            "草稿内容过大",
            "The draft is too large",
        )]));
    }
    Ok(())
}

/// Saves a new draft application (save and return later).
#[utoipa::path(post, path = "/api/v1/drafts", tag = "cases", security(("bearer" = [])), request_body = DraftRequest,
    responses((status = 201, body = Draft), (status = 422, body = crate::http::error::Problem)))]
pub async fn create_draft(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<DraftRequest>,
) -> ApiResult<(StatusCode, Json<Draft>)> {
    let user = caller.require_user()?.to_string();
    check_draft_size(&req.data)?;
    if req.item_code.is_none() && req.bundle_code.is_none() {
        return Err(ApiError::Validation(vec![FieldError::required("item_code", "事项编码", "item_code")]));
    }
    let d = store::create_draft(&state.db, &user, req.item_code, req.bundle_code, req.data).await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// The caller's drafts.
#[utoipa::path(get, path = "/api/v1/drafts", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = [Draft])))]
pub async fn list_drafts(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Draft>>> {
    let user = caller.require_user()?;
    Ok(Json(store::drafts_of(&state.db, user).await?))
}

#[utoipa::path(get, path = "/api/v1/drafts/{id}", tag = "cases", security(("bearer" = [])),
    params(("id" = String, Path, description = "draft id")),
    responses((status = 200, body = Draft), (status = 404, body = crate::http::error::Problem)))]
pub async fn get_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Draft>> {
    Ok(Json(own_draft(&state, &caller, &id).await?))
}

/// Replaces a draft's data (409 when it changed since `version`).
#[utoipa::path(put, path = "/api/v1/drafts/{id}", tag = "cases", security(("bearer" = [])), request_body = DraftRequest,
    params(("id" = String, Path, description = "draft id")),
    responses((status = 200, body = Draft), (status = 409, body = crate::http::error::Problem)))]
pub async fn put_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DraftRequest>,
) -> ApiResult<Json<Draft>> {
    let d = own_draft(&state, &caller, &id).await?;
    check_draft_size(&req.data)?;
    Ok(Json(store::save_draft(&state.db, &id, req.data, req.version.unwrap_or(d.version)).await?))
}

#[utoipa::path(delete, path = "/api/v1/drafts/{id}", tag = "cases", security(("bearer" = [])),
    params(("id" = String, Path, description = "draft id")),
    responses((status = 204, description = "deleted"), (status = 404, body = crate::http::error::Problem)))]
pub async fn delete_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    own_draft(&state, &caller, &id).await?;
    store::delete_draft(&state.db, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- inbox ----------------------------------------------------------------------------------

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InboxView {
    pub unread: i64,
    pub notifications: Vec<Notification>,
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = InboxView)))]
pub async fn notifications(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<InboxView>> {
    let user = caller.require_user()?;
    Ok(Json(InboxView {
        unread: store::unread_count(&state.db, user).await?,
        notifications: store::inbox(&state.db, user, 100).await?,
    }))
}

/// Marks every notification read.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "cases", security(("bearer" = [])),
    responses((status = 204, description = "marked")))]
pub async fn mark_read(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    let user = caller.require_user()?;
    store::mark_all_read(&state.db, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- post-checks ----------------------------------------------------------------------------

/// Post-approval checks of commitments (事后核查) for the caller's department (all for a supervisor).
#[utoipa::path(get, path = "/api/v1/post-checks", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = [PostCheck]), (status = 403, body = crate::http::error::Problem)))]
pub async fn list_post_checks(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<PostCheck>>> {
    caller.require_user()?;
    let every = crate::identity::authz::Resource::CityWide(crate::identity::authz::Area::PostChecks);
    let dept = match &caller.actor {
        a if decide(a, Action::Read, &every) == Decision::Allow => None,
        Actor::Staff { department, .. } => Some(department.clone()),
        _ => return Err(ApiError::Forbidden),
    };
    Ok(Json(store::post_checks_for(&state.db, dept.as_deref()).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PostCheckOutcome {
    /// `confirmed` or `false_commitment`.
    pub outcome: String,
    /// What the check found.
    pub note: String,
    pub version: Option<i64>,
}

/// Concludes a post-check: `confirmed`, or `false_commitment` (revokes the approval and records
/// a credit mark that bars the applicant from the commitment route).
#[utoipa::path(post, path = "/api/v1/post-checks/{id}/outcome", tag = "cases", security(("bearer" = [])),
    request_body = PostCheckOutcome, params(("id" = String, Path, description = "post-check id")),
    responses((status = 200, body = PostCheck), (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn post_check_outcome(
    State(state): State<AppState>,
    crate::http::SignedIn(caller): crate::http::SignedIn,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PostCheckOutcome>,
) -> ApiResult<Json<PostCheck>> {
    let false_commitment = match req.outcome.as_str() {
        "confirmed" => false,
        "false_commitment" => true,
        _ => {
            return Err(ApiError::Validation(vec![FieldError::new(
                "outcome",
                "invalid_value",
                "核查结论应为 confirmed（属实）或 false_commitment（虚假承诺）",
                "outcome must be confirmed or false_commitment",
            )]));
        }
    };
    Ok(Json(
        service::conclude_post_check(&state, &caller, &id, false_commitment, req.note, req.version).await?,
    ))
}

// --- workbench and supervision ----------------------------------------------------------------

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct LightCounts {
    pub green: i64,
    pub yellow: i64,
    pub red: i64,
    /// Running but the clock is stopped: waiting for the applicant (a 补正, a visit to a hall).
    pub none: i64,
}

impl LightCounts {
    fn add(&mut self, l: Light) {
        match l {
            Light::Green => self.green += 1,
            Light::Yellow => self.yellow += 1,
            Light::Red => self.red += 1,
            Light::None => self.none += 1,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LightsRow {
    pub code: String,
    pub name: String,
    #[serde(flatten)]
    pub counts: LightCounts,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Supervision {
    pub today: String,
    pub total: LightCounts,
    pub by_department: Vec<LightsRow>,
    pub by_item: Vec<LightsRow>,
    /// Red cases, most overdue first.
    pub overdue: Vec<CaseRow>,
}

/// Builds the lights by department and item from the open cases (pure).
pub fn supervision_of(
    cases: &[CaseRecord],
    departments: &BTreeMap<String, String>,
    cal: &Calendar,
    now: DateTime<Utc>,
    yellow: u32,
) -> Supervision {
    let mut total = LightCounts::default();
    let mut by_dept: BTreeMap<String, LightCounts> = BTreeMap::new();
    let mut by_item: BTreeMap<(String, String), LightCounts> = BTreeMap::new();
    let mut overdue = Vec::new();
    for c in cases {
        let l = c.light(cal, now, yellow);
        total.add(l);
        by_dept.entry(c.department.clone()).or_default().add(l);
        by_item.entry((c.item_code.clone().unwrap_or_default(), c.title.clone())).or_default().add(l);
        if l == Light::Red {
            overdue.push(row(c, cal, now, yellow));
        }
    }
    // Late cases by their due date; those late to be accepted (no due date yet) after them.
    overdue.sort_by(|a, b| (a.due_date.is_none(), &a.due_date).cmp(&(b.due_date.is_none(), &b.due_date)));
    let mut by_item: Vec<LightsRow> =
        by_item.into_iter().map(|((code, name), counts)| LightsRow { code, name, counts }).collect();
    by_item.sort_by_key(|r| std::cmp::Reverse((r.counts.red, r.counts.yellow)));
    let mut by_department: Vec<LightsRow> = by_dept
        .into_iter()
        .map(|(code, counts)| LightsRow {
            name: departments.get(&code).cloned().unwrap_or_else(|| code.clone()),
            code,
            counts,
        })
        .collect();
    by_department.sort_by_key(|r| std::cmp::Reverse((r.counts.red, r.counts.yellow)));
    let today = crate::platform::clock::beijing_date(now);
    Supervision { today: today.format("%Y-%m-%d").to_string(), total, by_department, by_item, overdue }
}

pub async fn department_names(state: &AppState) -> ApiResult<BTreeMap<String, String>> {
    Ok(crate::platform::directory::department_names(&state.db).await?)
}

/// The supervision figures and the open cases they were computed from.
pub async fn supervision(state: &AppState, caller: &Caller) -> ApiResult<(Supervision, Vec<CaseRecord>)> {
    caller.require_user()?;
    if !service::is_supervisor(&caller.actor) {
        return Err(ApiError::NotFound);
    }
    let cases = store::queue_clocks(&state.db, &Queue::Running { department: None }, 1_000_000).await?;
    let cal = state.calendar().await;
    let names = department_names(state).await?;
    let figures = supervision_of(&cases, &names, &cal, state.clock().now(), state.config.yellow_days);
    Ok((figures, cases))
}

/// Supervision (督查): lights by department and by item, and the overdue list, city-wide.
#[utoipa::path(get, path = "/api/v1/supervision/lights", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = Supervision), (status = 404, body = crate::http::error::Problem)))]
pub async fn lights(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Supervision>> {
    Ok(Json(supervision(&state, &caller).await?.0))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Workbench {
    pub department: String,
    /// Item cases per state.
    pub counts: BTreeMap<String, i64>,
    pub lights: LightCounts,
    /// Open cases with at most `yellow_days` working days left, or overdue.
    pub nearing_deadline: Vec<CaseRow>,
}

/// A staff member's department at a glance: counts by state, lights, and what is nearing its deadline.
#[utoipa::path(get, path = "/api/v1/workbench", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = Workbench), (status = 403, body = crate::http::error::Problem)))]
pub async fn workbench(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Workbench>> {
    caller.require_user()?;
    let Some(dept) = service::staff_department(&caller.actor) else { return Err(ApiError::Forbidden) };
    Ok(Json(workbench_of(&state, &dept).await?))
}

pub async fn workbench_of(state: &AppState, dept: &str) -> ApiResult<Workbench> {
    let counts =
        store::counts(&state.db, dept).await?.into_iter().map(|(s, n)| (s.as_str().to_string(), n)).collect();
    let open =
        store::queue(&state.db, &Queue::Department { department: dept.into(), state: None }, 5000).await?;
    let cal = state.calendar().await;
    let now = state.clock().now();
    let yellow = state.config.yellow_days;
    let mut lights = LightCounts::default();
    let mut nearing = Vec::new();
    for c in &open {
        let l = c.light(&cal, now, yellow);
        lights.add(l);
        if matches!(l, Light::Yellow | Light::Red) {
            nearing.push(row(c, &cal, now, yellow));
        }
    }
    Ok(Workbench { department: dept.into(), counts, lights, nearing_deadline: nearing })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::calendar::domain::parse_holidays_file;

    fn cal() -> Calendar {
        Calendar::new(parse_holidays_file(include_str!("../../../../reference/holidays_cn.json")).unwrap())
            .unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn case(
        number: &str,
        dept: &str,
        item: &str,
        state: CaseState,
        accepted: Option<&str>,
        days: i64,
    ) -> CaseRecord {
        CaseRecord {
            number: number.into(),
            parent_number: None,
            kind: "item".into(),
            item_code: Some(item.into()),
            bundle_code: None,
            title: format!("事项{item}"),
            department: dept.into(),
            owner_department: dept.into(),
            applicant_id: "u".into(),
            applicant_name: "张三".into(),
            enterprise: None,
            submitted_by: "u".into(),
            state,
            single_approver: false,
            immediate: false,
            with_commitment: false,
            in_person: false,
            promised_days: days,
            form: Default::default(),
            answers: None,
            commitment_text: None,
            complete: true,
            accepted_on: accepted.map(d),
            accepted_at_window: false,
            paused_since: None,
            paused_days: 0,
            due_on: None,
            decision: None,
            decision_reason: None,
            decided_at: None,
            decision_document: None,
            submitted_at: "2026-10-01T00:00:00.000Z".into(),
            updated_at: "2026-10-01T00:00:00.000Z".into(),
            window_since: None,
            version: 1,
        }
    }

    #[test]
    fn supervision_counts_lights_by_department_and_item_and_lists_overdue() {
        let now = DateTime::parse_from_rfc3339("2026-10-14T10:00:00+08:00").unwrap().with_timezone(&Utc);
        let cases = vec![
            // Accepted 09-30 with 5 days: due 10-13 (National Day skipped), so overdue today.
            case("JN1", "A", "I1", CaseState::UnderReview, Some("2026-09-30"), 5),
            // Due at the end of today (10-10 is a make-up working Saturday): yellow.
            case("JN2", "A", "I1", CaseState::Accepted, Some("2026-10-08"), 5),
            // Plenty of time: green.
            case("JN3", "B", "I2", CaseState::UnderReview, Some("2026-10-13"), 20),
            // Waiting for acceptance since yesterday: the window's five days run, green.
            CaseRecord {
                submitted_at: "2026-10-13T01:00:00.000Z".into(),
                updated_at: "2026-10-13T01:00:00.000Z".into(),
                window_since: None,
                ..case("JN4", "B", "I2", CaseState::Submitted, None, 5)
            },
            // Waiting for acceptance since before the holiday: the window's days ran out, red,
            // though the case itself has no due date yet (not in the overdue list).
            case("JN5", "B", "I2", CaseState::Submitted, None, 5),
        ];
        let names = BTreeMap::from([("A".to_string(), "甲局".to_string())]);
        let s = supervision_of(&cases, &names, &cal(), now, 1);
        assert_eq!((s.total.green, s.total.yellow, s.total.red, s.total.none), (2, 1, 2, 0));
        assert_eq!(s.by_department[0].code, "A", "the department with red lights first");
        assert_eq!(s.by_department[0].name, "甲局");
        assert_eq!(s.by_department[1].name, "B", "unknown names fall back to the code");
        assert_eq!(s.by_item[0].code, "I1");
        assert_eq!(s.overdue.len(), 2);
        assert_eq!(s.overdue[0].case_number, "JN1");
        assert_eq!(s.overdue[0].due_date.as_deref(), Some("2026-10-13"));
        assert_eq!((s.overdue[1].case_number.as_str(), s.overdue[1].due_date.as_deref()), ("JN5", None));
    }

    #[test]
    fn the_window_days_count_from_when_the_case_reached_the_window() {
        let now = DateTime::parse_from_rfc3339("2026-10-14T10:00:00+08:00").unwrap().with_timezone(&Utc);
        // Reached the window before the holiday and touched yesterday by something else: the
        // window's days still ran out.
        let touched = CaseRecord {
            window_since: Some("2026-09-20T01:00:00.000Z".into()),
            updated_at: "2026-10-13T01:00:00.000Z".into(),
            ..case("JN6", "B", "I2", CaseState::Submitted, None, 5)
        };
        assert_eq!(touched.light(&cal(), now, 1), Light::Red);
        // Transferred yesterday: the days start again at the new window.
        let moved = CaseRecord {
            window_since: Some("2026-10-13T01:00:00.000Z".into()),
            updated_at: "2026-10-13T01:00:00.000Z".into(),
            ..case("JN7", "B", "I2", CaseState::Submitted, None, 5)
        };
        assert_eq!(moved.light(&cal(), now, 1), Light::Green);
        assert_eq!(moved.acceptance_due(&cal()), Some(d("2026-10-20")));
    }
}
