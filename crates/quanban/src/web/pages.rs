//! Pages that belong to no single area: home, language switch, not found.

use crate::http::extract::Path;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use sqlx::Row;

use super::i18n::{LANG_COOKIE, Lang, Tr};
use super::page::{PageCtx, PageError, UserChip};
use crate::app::AppState;
use crate::http::ApiError;
use crate::identity::store;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    display_name: Option<String>,
    departments: i64,
    items: i64,
    halls: i64,
}

pub async fn home(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let counts = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM departments) AS d, \
                (SELECT COUNT(*) FROM catalog_items WHERE status = 'active') AS i, \
                (SELECT COUNT(*) FROM halls) AS h",
    )
    .fetch_one(state.db.reader())
    .await
    .map_err(|e| ctx.error(ApiError::Internal(e.into())))?;
    let get = |c: &str| counts.try_get::<i64, _>(c).unwrap_or(0);
    let display_name = match &ctx.caller.user_id {
        Some(id) => Some(store::profile(&state.db, id).await.map_err(|e| ctx.error(e.into()))?.name),
        None => None,
    };
    let page = HomePage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        display_name,
        departments: get("d"),
        items: get("i"),
        halls: get("h"),
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

/// Sets the language cookie and goes back to the page the user came from (same site only).
pub async fn set_language(
    State(state): State<AppState>,
    Path(lang): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::parse(&lang).unwrap_or(Lang::Zh);
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/lang/"))
        .unwrap_or_else(|| "/".into());
    let cookie = Cookie::build((LANG_COOKIE, lang.short()))
        .path("/")
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .permanent()
        .build();
    let mut resp = Redirect::to(&back).into_response();
    if let Ok(v) = cookie.to_string().parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub async fn not_found(headers: HeaderMap) -> PageError {
    PageError { lang: Lang::from_headers(&headers), error: ApiError::NotFound }
}

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    code: String,
    status: Option<u16>,
    meaning: String,
}

/// `/problems/<code>`: where an error answer's `type` URI leads (RFC 9457 §3.1.1).
pub async fn problem_type(
    ctx: PageCtx,
    crate::http::extract::Path(code): crate::http::extract::Path<String>,
) -> Result<Response, PageError> {
    if code.is_empty()
        || code.len() > 64
        || !code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(ctx.error(ApiError::NotFound));
    }
    let known = crate::http::error::PROBLEM_TYPES.iter().find(|(c, ..)| *c == code);
    let meaning = match known {
        Some((_, _, zh, en)) => ctx.t.pick(zh, en).to_string(),
        None => ctx
            .t
            .pick(
                "这是某一业务领域的具体问题代码，含义见答复中的 detail（英文）和 detail_zh（中文）；若答复带有 state，它是记录当前的状态。",
                "An area-specific problem code: the answer's `detail` (English) and `detail_zh` (Chinese) say what happened; a `state` member, when present, is the record's current state.",
            )
            .to_string(),
    };
    let page = ProblemPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        code,
        status: known.map(|k| k.1),
        meaning,
    };
    Ok(ctx.render(StatusCode::OK, &page))
}
