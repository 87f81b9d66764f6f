//! Pages of assisted service: ask for help and follow it (people); the list with its steps
//! (coordinators and officers).

use crate::http::extract::Path;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::service::{self, AskRequest, StepRequest};
use super::store::Request;
use crate::app::AppState;
use crate::http::{ApiError, FieldError};
use crate::identity::authz::Actor;
use crate::web::i18n::Tr;
use crate::web::page::{PageCtx, PageError, UserChip};

#[derive(Template)]
#[template(path = "assistance.html")]
struct AssistancePage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    is_person: bool,
    requests: Vec<Request>,
    errors: Vec<FieldError>,
}

async fn render(state: &AppState, ctx: &PageCtx, errors: Vec<FieldError>) -> Result<Response, PageError> {
    let requests = service::list(state, &ctx.caller).await.map_err(|e| ctx.error(e))?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = AssistancePage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        is_person: matches!(ctx.caller.actor, Actor::Person { .. }),
        requests,
        errors,
    };
    Ok(ctx.render(status, &page))
}

pub async fn page(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    render(&state, &ctx, Vec::new()).await
}

#[derive(Deserialize)]
pub struct AskForm {
    csrf: String,
    #[serde(default)]
    item_code: String,
    #[serde(default)]
    project_name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    contact_phone: String,
}

pub async fn ask(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<AskForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let req = AskRequest {
        item_code: Some(f.item_code),
        enterprise: None,
        project_name: Some(f.project_name),
        description: f.description,
        contact_phone: f.contact_phone,
    };
    match service::ask(&state, &ctx.caller, req).await {
        Ok(_) => Ok(Redirect::to("/assistance").into_response()),
        Err(ApiError::Validation(errors)) => render(&state, &ctx, errors).await,
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Deserialize)]
pub struct StepForm {
    csrf: String,
    #[serde(default)]
    officer: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    score: Option<i64>,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    accepted: Option<String>,
}

pub async fn step(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<StepForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let req = StepRequest {
        officer: Some(f.officer),
        accepted: Some(f.accepted.as_deref() == Some("yes")),
        note: Some(f.note),
        score: f.score,
        comment: Some(f.comment),
        version: None,
    };
    match service::step(&state, &ctx.caller, &id, &action, req).await {
        Ok(_) => Ok(Redirect::to("/assistance").into_response()),
        Err(ApiError::Validation(errors)) => render(&state, &ctx, errors).await,
        Err(e) => Err(ctx.error(e)),
    }
}
