//! Web pages of the identity area: login, registration, logout, profile, staff desk.

use crate::http::extract::Query;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::service::{self, RegisterInput};
use super::session::{self, SESSION_COOKIE, SessionKind};
use super::store::{self, Profile};
use crate::app::AppState;
use crate::http::{ApiError, FieldError};
use crate::web::i18n::Tr;
use crate::web::page::{
    PageCtx, PageError, UserChip, encode_query_value, private_cookie, safe_next, see_other_with_cookie,
};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    errors: Vec<FieldError>,
    username: String,
    registered: bool,
    /// Where to go after signing in (already checked by [`safe_next`]), or empty.
    next: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    registered: Option<String>,
    next: Option<String>,
}

pub async fn login_form(ctx: PageCtx, Query(q): Query<LoginQuery>) -> Response {
    let page = LoginPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        errors: Vec::new(),
        username: String::new(),
        registered: q.registered.is_some(),
        next: q.next.as_deref().and_then(safe_next).unwrap_or_default().to_string(),
    };
    ctx.render(StatusCode::OK, &page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
    next: String,
}

pub async fn login(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    match service::login(&state, &form.username, &form.password, SessionKind::Web).await {
        Ok(s) => {
            let cookie = private_cookie(SESSION_COOKIE, s.token, "/", state.config.secure_cookies);
            // Back to the page that asked for a login; else staff to their workbench, people home.
            let to = safe_next(&form.next).unwrap_or(if s.staff { "/workbench" } else { "/" });
            Ok(see_other_with_cookie(to, &cookie))
        }
        Err(e @ (ApiError::Validation(_) | ApiError::BadCredentials | ApiError::TooManyAttempts { .. })) => {
            let status = e.status();
            let errors = match e {
                ApiError::Validation(errors) => errors,
                other => {
                    let (code, zh, en) = other.describe();
                    vec![FieldError::new("username", code, zh, en)]
                }
            };
            let page = LoginPage {
                t: ctx.t,
                user: ctx.user(),
                csrf: ctx.csrf.clone(),
                errors,
                username: form.username.trim().to_string(),
                registered: false,
                next: safe_next(&form.next).unwrap_or_default().to_string(),
            };
            Ok(ctx.render(status, &page))
        }
        Err(other) => Err(ctx.error(other)),
    }
}

/// One input of the registration form.
pub struct FormField {
    name: &'static str,
    label: &'static str,
    hint: Option<&'static str>,
    kind: &'static str,
    autocomplete: &'static str,
    value: String,
    error: Option<FieldError>,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    errors: Vec<FieldError>,
    fields: Vec<FormField>,
    /// Where the login after registering returns to (checked), or empty.
    next: String,
}

fn register_page(ctx: &PageCtx, input: &RegisterInput, errors: Vec<FieldError>, next: &str) -> RegisterPage {
    let err = |name: &str| errors.iter().find(|e| e.field == name).cloned();
    let fields = vec![
        FormField {
            name: "name",
            label: "register.name",
            hint: None,
            kind: "text",
            autocomplete: "name",
            value: input.name.clone(),
            error: err("name"),
        },
        FormField {
            name: "id_number",
            label: "register.id_number",
            hint: Some("register.id_hint"),
            kind: "text",
            autocomplete: "off",
            value: input.id_number.clone(),
            error: err("id_number"),
        },
        FormField {
            name: "phone",
            label: "register.phone",
            hint: Some("register.phone_hint"),
            kind: "tel",
            autocomplete: "tel",
            value: input.phone.clone(),
            error: err("phone"),
        },
        // The password is never echoed back into the form.
        FormField {
            name: "password",
            label: "register.password",
            hint: Some("register.password_hint"),
            kind: "password",
            autocomplete: "new-password",
            value: String::new(),
            error: err("password"),
        },
    ];
    let next = safe_next(next).unwrap_or_default().to_string();
    RegisterPage { t: ctx.t, user: ctx.user(), csrf: ctx.csrf.clone(), errors, fields, next }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RegisterQuery {
    next: String,
}

pub async fn register_form(ctx: PageCtx, Query(q): Query<RegisterQuery>) -> Response {
    let page = register_page(&ctx, &RegisterInput::default(), Vec::new(), &q.next);
    ctx.render(StatusCode::OK, &page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RegisterForm {
    csrf: String,
    name: String,
    id_number: String,
    phone: String,
    password: String,
    next: String,
}

pub async fn register(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(form): Form<RegisterForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let input = RegisterInput {
        name: form.name,
        id_number: form.id_number,
        phone: form.phone,
        password: form.password,
    };
    match service::register(&state, input.clone()).await {
        Ok(_) => Ok(match safe_next(&form.next) {
            Some(next) => Redirect::to(&format!("/login?registered=1&next={}", encode_query_value(next))),
            None => Redirect::to("/login?registered=1"),
        }
        .into_response()),
        Err(ApiError::Validation(errors)) => {
            let page = register_page(&ctx, &input, errors, &form.next);
            Ok(ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(other) => Err(ctx.error(other)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: axum::http::HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    if let Some(c) = axum_extra::extract::CookieJar::from_headers(&headers).get(SESSION_COOKIE) {
        session::destroy(&state.db, c.value()).await.map_err(|e| ctx.error(e.into()))?;
    }
    // Same attributes as the cookie being removed, so every browser matches and drops it.
    let mut gone = private_cookie(SESSION_COOKIE, String::new(), "/", state.config.secure_cookies);
    gone.make_removal();
    Ok(see_other_with_cookie("/", &gone))
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    p: Profile,
}

async fn signed_in_profile(state: &AppState, ctx: &PageCtx) -> Result<Profile, Response> {
    match &ctx.caller.user_id {
        Some(id) => store::profile(&state.db, id).await.map_err(|e| ctx.error(e.into()).into_response()),
        None => Err(ctx.to_login().into_response()),
    }
}

pub async fn profile(State(state): State<AppState>, ctx: PageCtx) -> Response {
    match signed_in_profile(&state, &ctx).await {
        Ok(p) => {
            let page = ProfilePage { t: ctx.t, user: ctx.user(), csrf: ctx.csrf.clone(), p };
            ctx.render(StatusCode::OK, &page)
        }
        Err(resp) => resp,
    }
}

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    p: Profile,
}

pub async fn staff_home(State(state): State<AppState>, ctx: PageCtx) -> Response {
    match signed_in_profile(&state, &ctx).await {
        Ok(p) if p.kind == "staff" => {
            let page = StaffPage { t: ctx.t, user: ctx.user(), csrf: ctx.csrf.clone(), p };
            ctx.render(StatusCode::OK, &page)
        }
        Ok(_) => ctx.error(ApiError::NotFound).into_response(),
        Err(resp) => resp,
    }
}
