//! The supervision orders page (督办单): the supervision office sees every order and can run the
//! sweep now; a department's head sees theirs and closes each with the rectification.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::service;
use super::store::Order;
use crate::app::AppState;
use crate::http::error::{ApiError, FieldError};
use crate::identity::authz::{Action, Area, Decision, Resource, decide};
use crate::web::i18n::Tr;
use crate::web::page::{PageCtx, PageError, UserChip};

pub struct OrderLine {
    order: Order,
    department: String,
    issued: String,
    closed: Option<String>,
    /// The subject's page (a case), if it has one.
    href: Option<String>,
    /// The caller may close it now.
    may_close: bool,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "supervision_orders.html")]
struct OrdersPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    orders: Vec<OrderLine>,
    /// The supervision office (runs the sweep; reads every order).
    is_supervisor: bool,
    notice: Option<String>,
    errors: Vec<FieldError>,
    /// For the office's form: the departments (code, name) and what was typed.
    departments: Vec<(String, String)>,
    form: IssueForm,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrdersQuery {
    pub yellow: Option<usize>,
    pub red: Option<usize>,
    pub closed: Option<String>,
    pub issued: Option<String>,
}

async fn render(
    state: &AppState,
    ctx: &PageCtx,
    notice: Option<String>,
    errors: Vec<FieldError>,
    form: IssueForm,
) -> Result<Response, PageError> {
    let t = ctx.t;
    let orders = service::orders(state, &ctx.caller).await.map_err(|e| ctx.error(e))?;
    let today = state.clock().today().format("%Y-%m-%d").to_string();
    let mut lines = Vec::new();
    for o in orders {
        let may_close = o.status == "open"
            && decide(
                &ctx.caller.actor,
                Action::Update,
                &Resource::SupervisionOrder { department: o.department.clone() },
            ) == Decision::Allow;
        lines.push(OrderLine {
            department: crate::platform::directory::department_name(&state.db, &o.department)
                .await
                .map_err(|e| ctx.error(e.into()))?,
            issued: crate::platform::clock::shown_time(&o.issued_at),
            closed: o.closed_at.as_deref().map(crate::platform::clock::shown_time),
            href: o.about.as_deref().and_then(super::href).or_else(|| super::href(&o.subject)),
            overdue: o.status == "open" && o.rectify_by < today,
            may_close,
            order: o,
        });
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let is_supervisor =
        decide(&ctx.caller.actor, Action::Read, &Resource::CityWide(Area::Cases)) == Decision::Allow;
    let departments = if is_supervisor {
        crate::platform::directory::department_names(&state.db)
            .await
            .map_err(|e| ctx.error(e.into()))?
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    let page = OrdersPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        orders: lines,
        is_supervisor,
        notice,
        errors,
        departments,
        form,
    };
    Ok(ctx.render(status, &page))
}

/// 督办单: the orders the caller may read.
pub async fn orders(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<OrdersQuery>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let t = ctx.t;
    let notice = match (q.yellow, q.red, q.closed.is_some() || q.issued.is_some()) {
        (Some(y), Some(r), _) => Some(format!(
            "{}{y}{}{r}{}",
            t.pick("监察完成：新预警 ", "Sweep done: "),
            t.pick(" 件，新超期 ", " newly due soon, "),
            t.pick(" 件（已发督办单）", " newly overdue (orders issued)")
        )),
        (_, _, true) if q.issued.is_some() => Some(
            t.pick("督办单已交办，已通知部门负责人", "The order is issued; the department's head is told")
                .to_string(),
        ),
        (_, _, true) => Some(t.pick("督办单已办结", "The order is closed").to_string()),
        _ => None,
    };
    render(&state, &ctx, notice, Vec::new(), IssueForm::default()).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IssueForm {
    pub csrf: String,
    pub department: String,
    pub title: String,
    pub subject: String,
    pub rectify_by: String,
}

/// The supervision office issues an order by hand.
pub async fn issue(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<IssueForm>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    ctx.check_csrf(&f.csrf)?;
    let req = service::IssueRequest {
        department: f.department.clone(),
        title: f.title.clone(),
        subject: f.subject.clone(),
        rectify_by: f.rectify_by.clone(),
    };
    match service::issue(&state, &ctx.caller, req).await {
        Ok(_) => Ok(Redirect::to("/supervision/orders?issued=1").into_response()),
        Err(ApiError::Validation(errors)) => render(&state, &ctx, None, errors, f).await,
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfForm {
    pub csrf: String,
}

/// The supervision office runs the sweep now.
pub async fn sweep(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    ctx.check_csrf(&f.csrf)?;
    let r = service::sweep_now(&state, &ctx.caller).await.map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!("/supervision/orders?yellow={}&red={}", r.yellow, r.red)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CloseForm {
    pub csrf: String,
    pub rectification: String,
    pub version: Option<i64>,
}

/// The head closes an order with the rectification.
pub async fn close(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<CloseForm>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    ctx.check_csrf(&f.csrf)?;
    let req = service::CloseRequest { rectification: f.rectification, version: f.version };
    match service::close(&state, &ctx.caller, &id, req).await {
        Ok(_) => Ok(Redirect::to("/supervision/orders?closed=1").into_response()),
        Err(ApiError::Validation(errors)) => render(&state, &ctx, None, errors, IssueForm::default()).await,
        Err(e) => Err(ctx.error(e)),
    }
}
