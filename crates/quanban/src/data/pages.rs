//! Pages of data sharing: the public data catalog, the departments' requests and grants (data
//! officers ask, owners decide field by field, with deadline lights), and "who looked at my
//! data" for people and the enterprises they represent.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::domain::{DATASETS, Dataset, FieldType};
use super::service::{self, AccessView, RequestView, StepBody};
use super::sharing::{FieldVerdict, NewRequest, Purpose};
use crate::app::AppState;
use crate::http::extract::Path;
use crate::http::{ApiError, FieldError};
use crate::identity::authz::{Action, Actor, Decision, Resource, decide};
use crate::web::i18n::Tr;
use crate::web::page::{PageCtx, PageError, UserChip};

/// A field as the catalog page lists it.
pub struct FieldLine {
    name: &'static str,
    label: String,
    kind: String,
    personal: bool,
    sharing: String,
    sharing_class: &'static str,
}

pub struct DatasetBlock {
    id: &'static str,
    name: String,
    owner: String,
    key: &'static str,
    frequency: &'static str,
    legal_basis: &'static str,
    fields: Vec<FieldLine>,
}

fn kind_label(t: &Tr, k: FieldType) -> String {
    match k {
        FieldType::Text => t.pick("文本", "Text"),
        FieldType::Enum(_) => t.pick("代码", "Code"),
        FieldType::Bool => t.pick("是/否", "Yes/no"),
        FieldType::Int => t.pick("整数", "Count"),
        FieldType::Yuan => t.pick("金额（元）", "Amount (yuan)"),
        FieldType::Date => t.pick("日期", "Date"),
        FieldType::CreditCode => t.pick("统一社会信用代码", "Credit code"),
        FieldType::IndustrySection => t.pick("行业门类", "Industry section"),
        FieldType::IndustryDivision => t.pick("行业大类", "Industry division"),
        FieldType::District => t.pick("区县", "District"),
    }
    .to_string()
}

fn blocks(t: &Tr, names: &std::collections::BTreeMap<String, String>) -> Vec<DatasetBlock> {
    DATASETS
        .iter()
        .map(|d: &Dataset| DatasetBlock {
            id: d.id,
            name: t.pick(d.name_zh, d.name_en).to_string(),
            owner: names.get(d.owner).cloned().unwrap_or_else(|| d.owner.to_string()),
            key: d.key,
            frequency: d.frequency,
            legal_basis: d.legal_basis,
            fields: d
                .fields
                .iter()
                .map(|f| {
                    let (zh, en) = f.sharing.label();
                    FieldLine {
                        name: f.name,
                        label: t.pick(f.label_zh, f.label_en).to_string(),
                        kind: kind_label(t, f.kind),
                        personal: f.personal,
                        sharing: t.pick(zh, en).to_string(),
                        sharing_class: match f.sharing {
                            super::domain::Sharing::Unconditional => "ok",
                            super::domain::Sharing::Conditional => "warn",
                            super::domain::Sharing::NotShared => "bad",
                        },
                    }
                })
                .collect(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "data_catalog.html")]
struct CatalogPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    datasets: Vec<DatasetBlock>,
}

/// `/data`: the data catalog (public).
pub async fn catalog(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let names =
        crate::platform::directory::department_names(&state.db).await.map_err(|e| ctx.error(e.into()))?;
    let page =
        CatalogPage { t: ctx.t, user: ctx.user(), csrf: ctx.csrf.clone(), datasets: blocks(&ctx.t, &names) };
    Ok(ctx.render(StatusCode::OK, &page))
}

/// A request as the workbench shows it.
pub struct RequestLine {
    view: RequestView,
    requester: String,
    owner: String,
    dataset: String,
    purpose: String,
    status: String,
    /// (field, label, decision label, reason)
    fields: Vec<(String, String, String, Option<String>)>,
    requested_at: String,
    can_decide: bool,
    can_withdraw: bool,
    can_revoke: bool,
}

/// A dataset one may ask for: id, name, and its conditional fields (name, label).
pub struct Askable {
    id: String,
    name: String,
    fields: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "data_requests.html")]
struct RequestsPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    can_ask: bool,
    datasets: Vec<Askable>,
    purposes: Vec<(&'static str, String)>,
    requests: Vec<RequestLine>,
    reads: Vec<AccessView>,
    errors: Vec<FieldError>,
}

async fn render_requests(
    state: &AppState,
    ctx: &PageCtx,
    errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    let t = ctx.t;
    let names =
        crate::platform::directory::department_names(&state.db).await.map_err(|e| ctx.error(e.into()))?;
    let views = service::list_requests(state, &ctx.caller).await.map_err(|e| ctx.error(e))?;
    let reads = service::department_accesses(state, &ctx.caller).await.map_err(|e| ctx.error(e))?;
    let own = match &ctx.caller.actor {
        Actor::Staff { department, .. } => department.clone(),
        _ => String::new(),
    };
    let allowed = |action: Action, v: &RequestView| {
        decide(
            &ctx.caller.actor,
            action,
            &Resource::DataRequest { requester: v.request.requester.clone(), owner: v.request.owner.clone() },
        ) == Decision::Allow
    };
    let requests = views
        .into_iter()
        .map(|v| {
            let d = super::domain::dataset(&v.request.dataset);
            let status = v.request.status;
            RequestLine {
                requester: names
                    .get(&v.request.requester)
                    .cloned()
                    .unwrap_or_else(|| v.request.requester.clone()),
                owner: names.get(&v.request.owner).cloned().unwrap_or_else(|| v.request.owner.clone()),
                dataset: d.map(|d| t.pick(d.name_zh, d.name_en).to_string()).unwrap_or_default(),
                purpose: t.pick(v.request.purpose.label().0, v.request.purpose.label().1).to_string(),
                status: t.pick(status.label().0, status.label().1).to_string(),
                fields: v
                    .request
                    .fields
                    .iter()
                    .map(|f| {
                        let label = d
                            .and_then(|d| d.fields.iter().find(|x| x.name == f.field))
                            .map(|x| t.pick(x.label_zh, x.label_en).to_string())
                            .unwrap_or_else(|| f.field.clone());
                        let decision = match f.decision {
                            super::sharing::FieldDecision::Pending => t.pick("待决定", "Undecided"),
                            super::sharing::FieldDecision::Approved => t.pick("同意", "Approved"),
                            super::sharing::FieldDecision::Refused => t.pick("不同意", "Refused"),
                        };
                        (f.field.clone(), label, decision.to_string(), f.reason.clone())
                    })
                    .collect(),
                requested_at: crate::platform::clock::shown_time(&v.request.requested_at),
                can_decide: status == super::sharing::RequestStatus::Pending && allowed(Action::Approve, &v),
                can_withdraw: status == super::sharing::RequestStatus::Pending && allowed(Action::Delete, &v),
                can_revoke: status == super::sharing::RequestStatus::Granted && allowed(Action::Approve, &v),
                view: v,
            }
        })
        .collect();
    let can_ask = !own.is_empty()
        && decide(
            &ctx.caller.actor,
            Action::Create,
            &Resource::DataRequest { requester: own.clone(), owner: String::new() },
        ) == Decision::Allow;
    let datasets = DATASETS
        .iter()
        .filter(|d| d.owner != own)
        .map(|d| {
            let conditional = d
                .fields
                .iter()
                .filter(|f| f.sharing == super::domain::Sharing::Conditional)
                .map(|f| (f.name.to_string(), t.pick(f.label_zh, f.label_en).to_string()))
                .collect();
            Askable {
                id: d.id.to_string(),
                name: t.pick(d.name_zh, d.name_en).to_string(),
                fields: conditional,
            }
        })
        .filter(|a| !a.fields.is_empty())
        .collect();
    let purposes =
        Purpose::ALL.iter().map(|p| (p.as_str(), t.pick(p.label().0, p.label().1).to_string())).collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = RequestsPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        can_ask,
        datasets,
        purposes,
        requests,
        reads,
        errors,
    };
    Ok(ctx.render(status, &page))
}

/// `/data/requests`: the department's data requests, grants and reads (staff).
pub async fn requests(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    render_requests(&state, &ctx, Vec::new()).await
}

/// The new-request form: `fields` repeats (one checkbox per field).
pub async fn ask(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    ctx.check_csrf(&get("csrf"))?;
    let req = NewRequest {
        dataset: get("dataset"),
        fields: form.iter().filter(|(n, _)| n == "fields").map(|(_, v)| v.clone()).collect(),
        purpose: get("purpose"),
        purpose_detail: get("purpose_detail"),
        legal_basis: get("legal_basis"),
        items: get("items")
            .split([',', '，', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        months: get("months").trim().parse().ok(),
    };
    match service::create_request(&state, &ctx.caller, req).await {
        Ok(_) => Ok(Redirect::to("/data/requests").into_response()),
        Err(ApiError::Validation(errors)) => render_requests(&state, &ctx, errors).await,
        Err(e) => Err(ctx.error(e)),
    }
}

/// `decide`, `revoke`, `withdraw` from the page: `approve_<field>` = yes|no, `reason_<field>`.
pub async fn step(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let verdicts = form
        .iter()
        .filter_map(|(k, v)| {
            let field = k.strip_prefix("approve_")?;
            Some(FieldVerdict {
                field: field.to_string(),
                approve: v == "yes",
                reason: form.get(&format!("reason_{field}")).cloned(),
            })
        })
        .collect();
    let body = StepBody {
        verdicts,
        expires_on: form.get("expires_on").cloned(),
        reason: form.get("reason").cloned(),
        version: form.get("version").and_then(|v| v.parse().ok()),
    };
    match service::step(&state, &ctx.caller, &id, &action, body).await {
        Ok(_) => Ok(Redirect::to("/data/requests").into_response()),
        Err(ApiError::Validation(errors)) => render_requests(&state, &ctx, errors).await,
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Template)]
#[template(path = "my_data_access.html")]
struct MyAccessPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    /// (whose: "本人" or the enterprise's code and name, the reads)
    groups: Vec<(String, Vec<AccessView>)>,
}

/// `/my/data-access`: who looked at my data, and at the data of the enterprises I represent.
pub async fn my_access(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let enterprises = match &ctx.caller.actor {
        Actor::Person { enterprises, .. } => enterprises,
        Actor::Anonymous => return Ok(ctx.to_login().into_response()),
        Actor::Staff { .. } => return Err(ctx.error(ApiError::NotFound)),
    };
    let t = ctx.t;
    let mut groups = vec![(
        t.pick("本人", "You").to_string(),
        service::my_accesses(&state, &ctx.caller).await.map_err(|e| ctx.error(e))?,
    )];
    for code in enterprises {
        let name =
            crate::cases::store::enterprise_name(&state.db, code).await.map_err(|e| ctx.error(e.into()))?;
        let reads =
            service::enterprise_accesses(&state, &ctx.caller, code).await.map_err(|e| ctx.error(e))?;
        groups.push((format!("{}（{code}）", name.unwrap_or_default()), reads));
    }
    let page = MyAccessPage { t, user: ctx.user(), csrf: ctx.csrf.clone(), groups };
    Ok(ctx.render(StatusCode::OK, &page))
}
