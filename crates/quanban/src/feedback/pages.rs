//! Pages of 好差评: the one-tap rating page (no login), the published figures, and the
//! departments' and supervisors' desk for bad reviews.

use crate::http::extract::{Path, Query};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::domain::{self, HALL_INDICATORS, ONLINE_INDICATORS, TokenError};
use super::service::{self, LoopRequest, LoopView, RateRequest, Stats, StatsQuery};
use crate::app::AppState;
use crate::http::{ApiError, FieldError};
use crate::web::i18n::Tr;
use crate::web::page::{PageCtx, PageError, UserChip};

#[derive(Template)]
#[template(path = "rate.html")]
struct RatePage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    token: String,
    case_number: String,
    title: String,
    /// Why the link cannot be used (expired, forged), if so.
    problem: Option<(&'static str, &'static str)>,
    done: bool,
    indicators: Vec<IndicatorRow>,
    levels: Vec<(i64, &'static str, &'static str)>,
    /// What the rater chose before an error, shown again (0: nothing chosen).
    score: i64,
    comment: String,
    anonymous: bool,
    errors: Vec<FieldError>,
}

/// A sub-indicator on the form with the level chosen (0: none).
struct IndicatorRow {
    code: &'static str,
    zh: &'static str,
    en: &'static str,
    chosen: i64,
}

fn levels() -> Vec<(i64, &'static str, &'static str)> {
    (1..=5)
        .rev()
        .map(|s| {
            let (zh, en) = domain::level_label(s);
            (s, zh, en)
        })
        .collect()
}

async fn rate_page(
    state: &AppState,
    ctx: &PageCtx,
    token: &str,
    done: bool,
    errors: Vec<FieldError>,
    typed: &std::collections::HashMap<String, String>,
) -> Result<Response, PageError> {
    let typed_number = |k: &str| typed.get(k).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    let (case_number, problem) = match service::case_of_token(state, token) {
        Ok(n) => (n, None),
        Err(TokenError::Expired) => (
            String::new(),
            Some((
                "评价链接已过期：办结后5个工作日内可以评价。",
                "This rating link has expired: ratings are possible for 5 working days after the service.",
            )),
        ),
        Err(_) => (
            String::new(),
            Some((
                "评价链接无效，请使用短信或消息中的完整链接。",
                "This rating link is not valid; use the whole link from the message.",
            )),
        ),
    };
    let title =
        match crate::cases::store::get(&state.db, &case_number).await.map_err(|e| ctx.error(e.into()))? {
            Some(c) => c.title,
            None => String::new(),
        };
    let already = !case_number.is_empty()
        && super::store::rating_of(&state.db, "case", &case_number)
            .await
            .map_err(|e| ctx.error(e.into()))?
            .is_some();
    let page = RatePage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        token: token.to_string(),
        case_number,
        title,
        problem,
        done: done || already,
        indicators: ONLINE_INDICATORS
            .iter()
            .map(|(code, zh, en)| IndicatorRow { code, zh, en, chosen: typed_number(&format!("ind_{code}")) })
            .collect(),
        levels: levels(),
        score: typed_number("score"),
        comment: typed.get("comment").cloned().unwrap_or_default(),
        anonymous: typed.get("anonymous").is_some_and(|v| v == "yes"),
        errors,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.render(status, &page))
}

/// `/rate/{token}`: the link from the closing message; rates that case without logging in.
pub async fn rate_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    rate_page(&state, &ctx, &token, false, Vec::new(), &Default::default()).await
}

fn indicators_from(rest: &std::collections::HashMap<String, String>) -> Value {
    let mut m = Map::new();
    for (code, _, _) in ONLINE_INDICATORS.iter().chain(HALL_INDICATORS.iter()) {
        if let Some(v) = rest.get(&format!("ind_{code}")).and_then(|v| v.parse::<i64>().ok()) {
            m.insert((*code).to_string(), json!(v));
        }
    }
    Value::Object(m)
}

pub async fn rate_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
    Form(f): Form<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    ctx.check_csrf(&field("csrf"))?;
    let Ok(case_number) = service::case_of_token(&state, &token) else {
        return rate_page(&state, &ctx, &token, false, Vec::new(), &f).await;
    };
    let req = RateRequest {
        case_number: Some(case_number),
        score: field("score").parse::<i64>().map(Value::from).unwrap_or(Value::Null),
        indicators: indicators_from(&f),
        comment: Some(field("comment")),
        channel: Some("sms".into()),
        anonymous: Some(field("anonymous") == "yes"),
        token: Some(token.clone()),
        ..RateRequest::default()
    };
    match service::rate(&state, &ctx.caller, req).await {
        Ok(_) => rate_page(&state, &ctx, &token, true, Vec::new(), &Default::default()).await,
        // What was chosen stays chosen next to the error.
        Err(ApiError::Validation(errors)) => rate_page(&state, &ctx, &token, false, errors, &f).await,
        Err(e) => Err(ctx.error(e)),
    }
}

// ---------------------------------------------------------------------------------------------
// Published figures
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "ratings_public.html")]
struct PublicPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    stats: Stats,
    by: String,
    csv: String,
}

/// A channel's name (used by the templates).
pub fn channel_text(t: &Tr, code: &str) -> String {
    domain::CHANNELS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, zh, en)| t.pick(zh, en).to_string())
        .unwrap_or_else(|| code.to_string())
}

pub async fn public(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(mut q): Query<StatsQuery>,
) -> Result<Response, PageError> {
    if !matches!(q.by.as_deref(), Some("hall" | "item" | "department")) {
        q.by = Some("department".into());
    }
    q.format = None;
    let stats = service::stats(&state, &ctx.caller, &q).await.map_err(|e| ctx.error(e))?;
    let page = PublicPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        csv: format!("/api/v1/ratings/stats?by={}&from={}&to={}&format=csv", stats.by, stats.from, stats.to),
        by: stats.by.clone(),
        stats,
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------
// The bad-review desk
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "bad_reviews.html")]
struct DeskPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    loops: Vec<LoopView>,
    supervisor: bool,
    errors: Vec<FieldError>,
}

async fn desk_page(state: &AppState, ctx: &PageCtx, errors: Vec<FieldError>) -> Result<Response, PageError> {
    let loops = service::loops(state, &ctx.caller).await.map_err(|e| ctx.error(e))?;
    let supervisor = service::decides_appeals(&ctx.caller);
    let page = DeskPage { t: ctx.t, user: ctx.user(), csrf: ctx.csrf.clone(), loops, supervisor, errors };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.render(status, &page))
}

pub async fn desk(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    desk_page(&state, &ctx, Vec::new()).await
}

#[derive(Deserialize)]
pub struct StepForm {
    csrf: String,
    action: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    satisfied: Option<String>,
    #[serde(default)]
    uphold: Option<String>,
}

pub async fn step(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<StepForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let some = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
    let req = LoopRequest {
        note: some(&f.note),
        answer: some(&f.answer),
        reason: some(&f.reason),
        satisfied: f.satisfied.as_deref().map(|s| s == "yes"),
        uphold: f.uphold.as_deref().map(|s| s == "yes"),
        version: None,
    };
    match service::step(&state, &ctx.caller, &id, &f.action, req).await {
        Ok(_) => Ok(Redirect::to(&format!("/ratings/desk#r-{id}")).into_response()),
        Err(ApiError::Validation(errors)) => desk_page(&state, &ctx, errors).await,
        Err(e) => Err(ctx.error(e)),
    }
}
