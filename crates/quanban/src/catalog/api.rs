//! JSON endpoints of the catalog area.

use std::collections::{BTreeMap, HashMap};

use crate::http::extract::{Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::domain::{
    self, BoundaryFinding, BoundaryRow, ChangeOp, ItemProblem, Known, ResolveError, ResolvedBundle,
    op_allowed,
};
use super::store::{self, Change, ItemFilter, ItemPage, NewProposal, Proposal, StoredItem, VersionEntry};
use super::transfer::{self, Format};
use crate::app::AppState;
use crate::http::{ApiError, ApiJson, ApiResult, Caller, FieldError};
use crate::identity::api::require;
use crate::identity::authz::{Action, Actor, Resource, decide};
use crate::reference::data::{Bundle, CatalogItem};

fn field_errors(problems: Vec<ItemProblem>, prefix: &str) -> ApiError {
    ApiError::Validation(
        problems
            .into_iter()
            .map(|p| FieldError::new(&format!("{prefix}{}", p.field), p.code, p.message_zh, p.message_en))
            .collect(),
    )
}

/// Service items, filtered and paged; `as_of` shows the catalog as it stood on a past date.
#[utoipa::path(get, path = "/api/v1/items", tag = "catalog", params(ItemFilter),
    responses((status = 200, body = ItemPage), (status = 422, body = crate::http::error::Problem)))]
pub async fn list_items(
    State(state): State<AppState>,
    Query(f): Query<ItemFilter>,
) -> ApiResult<Json<ItemPage>> {
    let as_of = if f.as_of.trim().is_empty() {
        None
    } else {
        Some(FieldError::parse_date("as_of", &f.as_of).map_err(|e| ApiError::Validation(vec![e]))?)
    };
    Ok(Json(store::list(&state.db, &f, as_of).await?))
}

/// One service item: the service guide (办事指南) data.
#[utoipa::path(get, path = "/api/v1/items/{code}", tag = "catalog",
    params(("code" = String, Path, description = "item code")),
    responses((status = 200, body = StoredItem), (status = 404, body = crate::http::error::Problem)))]
pub async fn get_item(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<StoredItem>> {
    match store::get(&state.db, &code).await? {
        Some(item) if item.status != "removed" => Ok(Json(item)),
        _ => Err(ApiError::NotFound),
    }
}

/// Every version of an item, newest first, each with its field-level changes.
#[utoipa::path(get, path = "/api/v1/items/{code}/history", tag = "catalog",
    params(("code" = String, Path, description = "item code")),
    responses((status = 200, body = Vec<VersionEntry>), (status = 404, body = crate::http::error::Problem)))]
pub async fn get_item_history(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<VersionEntry>>> {
    let history = store::history(&state.db, &code).await?;
    if history.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(Json(history))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ProposalRequest {
    /// `add`, `change`, `suspend`, `resume` or `remove`.
    pub op: String,
    /// The item code (for `add`, the new item's code).
    pub code: String,
    /// The full item after the change (`add`, `change`).
    #[schema(value_type = Option<Object>)]
    pub item: Option<CatalogItem>,
    /// The supervising industry department (审管联动), for `add` and `change`.
    pub supervising_department: Option<String>,
    pub reason: String,
    /// When it takes effect (YYYY-MM-DD, today or later).
    pub effective_date: String,
}

fn parse_op(raw: &str) -> Option<ChangeOp> {
    serde_json::from_value(serde_json::Value::String(raw.to_string())).ok()
}

/// Checks reason and date, shared by single proposals and imports.
fn check_reason_and_date(
    reason: &str,
    date: &str,
    today: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Option<NaiveDate> {
    if reason.trim().chars().count() < 2 {
        errors.push(FieldError::required("reason", "调整理由", "A reason"));
    }
    match FieldError::parse_date("effective_date", date) {
        Ok(d) if d < today => {
            errors.push(FieldError::new(
                "effective_date",
                "date_in_past",
                "生效日期不能早于今天",
                "The effective date cannot be in the past",
            ));
            None
        }
        Ok(d) => Some(d),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// Proposes one change to the catalog (catalog officer or head of the owning department).
#[utoipa::path(post, path = "/api/v1/catalog/proposals", tag = "catalog", security(("bearer" = [])),
    request_body = ProposalRequest,
    responses((status = 201, body = Proposal), (status = 422, body = crate::http::error::Problem),
              (status = 403, body = crate::http::error::Problem)))]
pub async fn create_proposal(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ProposalRequest>,
) -> ApiResult<(StatusCode, Json<Proposal>)> {
    caller.require_user()?;
    let mut errors = Vec::new();
    let op = parse_op(&req.op);
    if op.is_none() {
        errors.push(FieldError::new(
            "op",
            "invalid_value",
            "op 应为 add、change、suspend、resume 或 remove",
            "op must be add, change, suspend, resume or remove",
        ));
    }
    let date = check_reason_and_date(&req.reason, &req.effective_date, state.clock().today(), &mut errors);
    let code = req.item.as_ref().map(|i| i.code.clone()).unwrap_or_else(|| req.code.trim().to_string());
    if code.is_empty() {
        errors.push(FieldError::required("code", "事项编码", "The item code"));
    }
    let (Some(op), Some(date)) = (op, date) else { return Err(ApiError::Validation(errors)) };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let current = store::get(&state.db, &code).await?;
    let department = match (&current, &req.item) {
        (Some(c), _) => c.item.department.clone(),
        (None, Some(i)) => i.department.clone(),
        (None, None) => return Err(ApiError::NotFound),
    };
    require(decide(
        &caller.actor,
        Action::Update,
        &Resource::DepartmentData { department: department.clone() },
    ))?;
    let status = current.as_ref().and_then(|c| domain::ItemStatus::parse(&c.status));
    op_allowed(op, status).map_err(|(zh, en)| {
        ApiError::Validation(vec![FieldError::new(
            "code",
            "op_not_allowed",
            format!("{code}：{zh}"),
            format!("{code}: {en}"),
        )])
    })?;
    let change = checked_change(&state, op, code, req.item, req.supervising_department).await?;
    let proposal = store::propose(
        &state.db,
        caller.actor.audit_name(),
        NewProposal {
            department,
            source: "api".into(),
            reason: req.reason.trim().into(),
            effective_date: date,
            changes: vec![change],
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(proposal)))
}

/// Validates the item data of one change against the platform's departments and e-licence types.
async fn checked_change(
    state: &AppState,
    op: ChangeOp,
    code: String,
    item: Option<CatalogItem>,
    supervising: Option<String>,
) -> ApiResult<Change> {
    let departments = store::department_codes(&state.db).await?;
    let elicence_types = store::elicence_codes(&state.db).await?;
    let known = Known { departments: &departments, elicence_types: &elicence_types };
    match op {
        ChangeOp::Add | ChangeOp::Change => {
            let Some(item) = item else {
                return Err(ApiError::Validation(vec![FieldError::required(
                    "item",
                    "事项内容",
                    "The item data",
                )]));
            };
            let mut problems = domain::validate_item(&item, &known);
            if let Some(s) = supervising.as_deref().filter(|s| !departments.contains(*s)) {
                problems.push(ItemProblem {
                    field: "supervising_department".into(),
                    code: "unknown_department",
                    message_zh: format!("部门“{s}”不存在"),
                    message_en: format!("Unknown department {s}"),
                });
            }
            if !problems.is_empty() {
                return Err(field_errors(problems, ""));
            }
            Ok(Change { op, code, item: Some(item), supervising_department: supervising })
        }
        _ => Ok(Change { op, code, item: None, supervising_department: None }),
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ProposalQuery {
    /// `pending`, `approved`, `rejected`, `applied`.
    pub status: String,
}

/// Proposals the caller may see: their department's, or all for the supervisor and administrators.
#[utoipa::path(get, path = "/api/v1/catalog/proposals", tag = "catalog", security(("bearer" = [])),
    params(ProposalQuery), responses((status = 200, body = Vec<Proposal>)))]
pub async fn list_proposals(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ProposalQuery>,
) -> ApiResult<Json<Vec<Proposal>>> {
    caller.require_user()?;
    let status = Some(q.status.as_str()).filter(|s| !s.is_empty());
    let every = Resource::CityWide(crate::identity::authz::Area::CatalogProposals);
    let proposals = match &caller.actor {
        a if decide(a, Action::Read, &every) == crate::identity::authz::Decision::Allow => {
            store::list_proposals(&state.db, None, status).await?
        }
        Actor::Staff { department, .. } => store::list_proposals(&state.db, Some(department), status).await?,
        _ => return Err(ApiError::NotFound),
    };
    Ok(Json(proposals))
}

async fn visible_proposal(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
) -> ApiResult<Proposal> {
    caller.require_user()?;
    let p = store::get_proposal(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    require(decide(&caller.actor, action, &Resource::DepartmentData { department: p.department.clone() }))?;
    Ok(p)
}

/// One proposal.
#[utoipa::path(get, path = "/api/v1/catalog/proposals/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "proposal id")),
    responses((status = 200, body = Proposal), (status = 404, body = crate::http::error::Problem)))]
pub async fn get_proposal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Proposal>> {
    Ok(Json(visible_proposal(&state, &caller, &id, Action::Read).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DecisionRequest {
    pub note: String,
    /// The proposal's `version` as read; a stale one gets 409.
    pub version: i64,
}

async fn decide_proposal(
    state: &AppState,
    caller: &Caller,
    id: &str,
    approve: bool,
    req: DecisionRequest,
) -> ApiResult<Json<Proposal>> {
    let p = visible_proposal(state, caller, id, Action::Approve).await?;
    if Some(p.proposed_by.as_str()) == Some(caller.actor.audit_name().as_str()) {
        return Err(ApiError::Conflict {
            code: "four_eyes",
            zh: "不能审批自己提出的调整".into(),
            en: "You cannot decide a proposal you made yourself".into(),
        });
    }
    if p.status != "pending" {
        return Err(ApiError::Conflict {
            code: "not_pending",
            zh: "该调整已处理".into(),
            en: "This proposal has already been decided".into(),
        });
    }
    if !approve && req.note.trim().is_empty() {
        return Err(ApiError::Validation(vec![FieldError::required(
            "note",
            "驳回理由",
            "A reason for rejecting",
        )]));
    }
    let decided = store::decide(
        &state.db,
        caller.actor.audit_name(),
        id,
        approve,
        req.note.trim().to_string(),
        req.version,
        state.clock().today(),
    )
    .await?;
    if decided.status == "applied" {
        state.catalog_changed();
    }
    Ok(Json(decided))
}

/// Approves a proposal (approver of the owning department; not the proposer). It applies at once
/// when its date has come, else on that date.
#[utoipa::path(post, path = "/api/v1/catalog/proposals/{id}/approve", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "proposal id")), request_body = DecisionRequest,
    responses((status = 200, body = Proposal), (status = 409, body = crate::http::error::Problem)))]
pub async fn approve_proposal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DecisionRequest>,
) -> ApiResult<Json<Proposal>> {
    decide_proposal(&state, &caller, &id, true, req).await
}

/// Rejects a proposal with a reason.
#[utoipa::path(post, path = "/api/v1/catalog/proposals/{id}/reject", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "proposal id")), request_body = DecisionRequest,
    responses((status = 200, body = Proposal), (status = 409, body = crate::http::error::Problem)))]
pub async fn reject_proposal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DecisionRequest>,
) -> ApiResult<Json<Proposal>> {
    decide_proposal(&state, &caller, &id, false, req).await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ExportQuery {
    /// `json`, `csv` or `xlsx`.
    pub format: String,
}

/// The current catalog as JSON, CSV or Excel.
#[utoipa::path(get, path = "/api/v1/catalog/export", tag = "catalog", params(ExportQuery),
    responses((status = 200, description = "the file")))]
pub async fn export_catalog(
    State(state): State<AppState>,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    let format = Format::from_filename(&format!("x.{}", q.format.trim())).ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(
            "format",
            "invalid_value",
            "format 应为 json、csv 或 xlsx",
            "format must be json, csv or xlsx",
        )])
    })?;
    let items: Vec<CatalogItem> = store::all_current(&state.db).await?.into_iter().map(|s| s.item).collect();
    let bytes = transfer::export(format, &items).map_err(|e| ApiError::Internal(e.into()))?;
    let disposition = format!("attachment; filename=\"catalog.{}\"", format.extension());
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ImportQuery {
    pub reason: String,
    pub effective_date: String,
    /// `json`, `csv` or `xlsx`; detected from the content when absent.
    pub format: String,
    /// File name, for the record.
    pub filename: String,
}

/// A rejected import, as an RFC 9457 problem whose `problems` member lists every problem as
/// (row, column, reason).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportRejected {
    /// `/problems/import_rejected`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub title_zh: &'static str,
    pub status: u16,
    pub code: &'static str,
    pub detail_zh: String,
    pub detail: String,
    pub problems: Vec<RowProblemView>,
}

/// Imports a catalog file as one proposal; a file with any bad row is rejected whole.
#[utoipa::path(post, path = "/api/v1/catalog/import", tag = "catalog", security(("bearer" = [])),
    params(ImportQuery), request_body(content = Vec<u8>, description = "the file (JSON, CSV or .xlsx)"),
    responses((status = 201, body = Proposal), (status = 422, body = ImportRejected, content_type = "application/problem+json")))]
pub async fn import_catalog(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    caller.require_user()?;
    let format = Format::from_filename(&format!("x.{}", q.format.trim()))
        .or_else(|| Format::from_filename(&q.filename))
        .or_else(|| Format::sniff(&body));
    let outcome =
        import(&state, Importer::User(&caller.actor), format, &body, &q, "api", &mut |_, _| {}).await?;
    Ok(match outcome {
        Ok(p) => (StatusCode::CREATED, Json(p)).into_response(),
        Err(rejected) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            [(axum::http::header::CONTENT_TYPE, "application/problem+json")],
            Json(rejected),
        )
            .into_response(),
    })
}

/// Who is importing: a signed-in user (checked by `authz`), or the operator at the command line.
pub enum Importer<'a> {
    User(&'a Actor),
    Operator,
}

impl Importer<'_> {
    fn audit_name(&self) -> String {
        match self {
            Importer::User(a) => a.audit_name(),
            Importer::Operator => "cli".into(),
        }
    }
}

/// Shared by the API, the admin page and the CLI: parse, validate everything, propose.
pub async fn import(
    state: &AppState,
    importer: Importer<'_>,
    format: Option<Format>,
    bytes: &[u8],
    q: &ImportQuery,
    source: &str,
    on_row: &mut (dyn FnMut(usize, usize) + Send),
) -> ApiResult<Result<Proposal, ImportRejected>> {
    let mut errors = Vec::new();
    let date = check_reason_and_date(&q.reason, &q.effective_date, state.clock().today(), &mut errors);
    let Some(date) = date.filter(|_| errors.is_empty()) else { return Err(ApiError::Validation(errors)) };
    let Some(format) = format else {
        return Ok(Err(rejected(vec![transfer::RowProblem::file(
            "unknown_format",
            "无法识别文件格式（支持 JSON、CSV、xlsx）",
            "Unknown file format (JSON, CSV or .xlsx)",
        )])));
    };
    let items = match transfer::parse_with_progress(format, bytes, on_row) {
        Ok(items) => items,
        Err(problems) => return Ok(Err(rejected(problems))),
    };
    let departments = store::department_codes(&state.db).await?;
    let elicence_types = store::elicence_codes(&state.db).await?;
    let mut problems = transfer::check_references(&items, &departments, &elicence_types, format.first_row());
    let owners: std::collections::BTreeSet<&str> = items.iter().map(|i| i.department.as_str()).collect();
    if owners.len() > 1 {
        problems.push(transfer::RowProblem::file(
            "several_departments",
            &format!(
                "一次导入只能包含一个部门的事项，本文件包含：{}",
                owners.iter().copied().collect::<Vec<_>>().join("、")
            ),
            &format!(
                "One import holds one department's items; this file has {}",
                owners.iter().copied().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    if !problems.is_empty() {
        return Ok(Err(rejected(problems)));
    }
    let Some(department) = items.first().map(|i| i.department.clone()) else {
        return Ok(Err(rejected(vec![transfer::RowProblem::file(
            "no_items",
            "文件中没有事项",
            "The file holds no items",
        )])));
    };
    if let Importer::User(actor) = importer {
        require(decide(actor, Action::Update, &Resource::DepartmentData { department: department.clone() }))?;
    }
    let mut changes = Vec::with_capacity(items.len());
    for item in items {
        let current = store::get(&state.db, &item.code).await?;
        let op = match &current {
            None => ChangeOp::Add,
            Some(c) if c.item == item => continue,
            Some(_) => ChangeOp::Change,
        };
        changes.push(Change { op, code: item.code.clone(), item: Some(item), supervising_department: None });
    }
    if changes.is_empty() {
        return Err(ApiError::Conflict {
            code: "nothing_to_change",
            zh: "文件与现行清单一致，无需调整".into(),
            en: "The file matches the current catalog; nothing to change".into(),
        });
    }
    // Recorded as `import:<file name>` (or `import:<channel>` when the file had no name).
    let source =
        if q.filename.is_empty() { format!("import:{source}") } else { format!("import:{}", q.filename) };
    let proposal = store::propose(
        &state.db,
        importer.audit_name(),
        NewProposal { department, source, reason: q.reason.trim().into(), effective_date: date, changes },
    )
    .await?;
    Ok(Ok(proposal))
}

fn rejected(problems: Vec<transfer::RowProblem>) -> ImportRejected {
    ImportRejected {
        kind: "/problems/import_rejected",
        title: "Unprocessable Entity",
        title_zh: "内容校验未通过",
        status: 422,
        code: "import_rejected",
        detail_zh: format!("文件有{}处问题，未导入任何内容", problems.len()),
        detail: format!("The file has {} problem(s); nothing was imported", problems.len()),
        problems: problems.into_iter().map(Into::into).collect(),
    }
}

/// Bundles (一件事) from the database.
pub async fn load_bundles(state: &AppState) -> ApiResult<Vec<Bundle>> {
    let rows = sqlx::query("SELECT data FROM reference_records WHERE kind = 'bundle' ORDER BY code")
        .fetch_all(state.db.reader())
        .await
        .map_err(crate::store::StoreError::from)?;
    rows.iter()
        .map(|r| {
            let data: String = r.try_get("data").map_err(|e| ApiError::Internal(e.into()))?;
            serde_json::from_str(&data).map_err(|e| ApiError::Internal(e.into()))
        })
        .collect()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BundleView {
    #[schema(value_type = Object)]
    #[serde(flatten)]
    pub bundle: Bundle,
    /// The items' names, in the bundle's order.
    pub item_names: Vec<String>,
}

/// The one-thing bundles.
#[utoipa::path(get, path = "/api/v1/bundles", tag = "catalog", responses((status = 200, body = Vec<BundleView>)))]
pub async fn list_bundles(State(state): State<AppState>) -> ApiResult<Json<Vec<BundleView>>> {
    let names = item_names(&state).await?;
    Ok(Json(load_bundles(&state).await?.into_iter().map(|b| view(b, &names)).collect()))
}

async fn item_names(state: &AppState) -> ApiResult<HashMap<String, String>> {
    Ok(store::all_active(&state.db).await?.into_iter().map(|s| (s.item.code, s.item.name)).collect())
}

fn view(bundle: Bundle, names: &HashMap<String, String>) -> BundleView {
    let item_names =
        bundle.items.iter().map(|c| names.get(c).cloned().unwrap_or_else(|| c.clone())).collect();
    BundleView { bundle, item_names }
}

/// One bundle with its situational questions.
#[utoipa::path(get, path = "/api/v1/bundles/{code}", tag = "catalog",
    params(("code" = String, Path, description = "bundle code")),
    responses((status = 200, body = BundleView), (status = 404, body = crate::http::error::Problem)))]
pub async fn get_bundle(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<BundleView>> {
    let names = item_names(&state).await?;
    let bundle =
        load_bundles(&state).await?.into_iter().find(|b| b.code == code).ok_or(ApiError::NotFound)?;
    Ok(Json(view(bundle, &names)))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ResolveRequest {
    /// Question id → yes/no, e.g. `{"q1": true}`. Unanswered questions count as no.
    pub answers: BTreeMap<String, bool>,
}

/// Resolves a bundle with the applicant's answers: items, materials asked once, departments, time.
#[utoipa::path(post, path = "/api/v1/bundles/{code}/resolve", tag = "catalog",
    params(("code" = String, Path, description = "bundle code")), request_body = ResolveRequest,
    responses((status = 200, body = ResolvedBundle), (status = 422, body = crate::http::error::Problem)))]
pub async fn resolve_bundle(
    State(state): State<AppState>,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<ResolveRequest>,
) -> ApiResult<Json<ResolvedBundle>> {
    Ok(Json(resolve(&state, &code, &req.answers).await?))
}

pub async fn resolve(
    state: &AppState,
    code: &str,
    answers: &BTreeMap<String, bool>,
) -> ApiResult<ResolvedBundle> {
    let bundle = load_bundles(state).await?.into_iter().find(|b| b.code == code).ok_or(ApiError::NotFound)?;
    let items: HashMap<String, CatalogItem> =
        store::all_active(&state.db).await?.into_iter().map(|s| (s.item.code.clone(), s.item)).collect();
    domain::resolve_bundle(&bundle, answers, &items).map_err(|e| match e {
        ResolveError::UnknownQuestion(q) => ApiError::Validation(vec![FieldError::new(
            &format!("answers.{q}"),
            "unknown_question",
            format!("该一件事没有问题“{q}”"),
            format!("This bundle has no question {q}"),
        )]),
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BoundaryReport {
    pub items_checked: usize,
    pub findings: Vec<BoundaryFinding>,
}

/// Items with no approving department, two claimants, or no supervising industry department.
#[utoipa::path(get, path = "/api/v1/boundaries/report", tag = "catalog",
    responses((status = 200, body = BoundaryReport)))]
pub async fn boundary_report(State(state): State<AppState>) -> ApiResult<Json<BoundaryReport>> {
    let items = store::all_current(&state.db).await?;
    let rows: Vec<BoundaryRow<'_>> = items
        .iter()
        .map(|s| BoundaryRow {
            code: &s.item.code,
            name: &s.item.name,
            level: &s.item.level,
            department: Some(s.item.department.as_str()).filter(|d| !d.is_empty()),
            supervising: s.supervising_department.as_deref(),
        })
        .collect();
    Ok(Json(BoundaryReport { items_checked: rows.len(), findings: domain::boundary_report(&rows) }))
}

/// One import problem as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowProblemView {
    /// 1-based row as a person sees it in the file (the header is row 1; 0 = the whole file).
    pub row: usize,
    pub column: String,
    pub code: String,
    pub reason_zh: String,
    pub reason_en: String,
}

impl From<transfer::RowProblem> for RowProblemView {
    fn from(p: transfer::RowProblem) -> RowProblemView {
        RowProblemView {
            row: p.row,
            column: p.column,
            code: p.code.to_string(),
            reason_zh: p.reason_zh,
            reason_en: p.reason_en,
        }
    }
}

impl transfer::RowProblem {
    /// A problem with the whole file rather than one row.
    pub fn file(code: &'static str, zh: &str, en: &str) -> transfer::RowProblem {
        transfer::RowProblem {
            row: 0,
            column: String::new(),
            code,
            reason_zh: zh.into(),
            reason_en: en.into(),
        }
    }
}
