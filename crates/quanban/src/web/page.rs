//! What every page handler gets ([`PageCtx`]) and how pages answer, including errors.

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

use super::i18n::{Lang, Tr};
use crate::app::AppState;
use crate::http::{ApiError, Caller};
use crate::identity::authz::Actor;
use crate::identity::session::random_token;

pub const CSRF_COOKIE: &str = "qb_csrf";
/// Set on a self-service kiosk (`<device id>.<device token>`): pages use kiosk mode.
pub const KIOSK_COOKIE: &str = "qb_kiosk";

/// The signed-in user as the layout shows them.
#[derive(Clone, Debug)]
pub struct UserChip {
    pub is_staff: bool,
    /// People: unread messages (the tab bar's badge).
    pub unread: i64,
    /// Staff: the desks they work at (link, label), as `identity::authz::desks` decides.
    pub desks: Vec<(&'static str, &'static str)>,
}

/// Language, caller and CSRF token of the request being rendered.
pub struct PageCtx {
    pub t: Tr,
    pub caller: Caller,
    /// The token forms must carry: the session's when signed in, else the anonymous cookie's.
    pub csrf: String,
    /// Set when a fresh anonymous CSRF cookie must be sent.
    new_cookie: Option<String>,
    pub secure_cookies: bool,
    pub path: String,
    /// The page asked for (path and query) when it was a GET: where signing in returns to.
    pub here: Option<String>,
    /// A person's unread messages, read for pages (GET) only.
    unread: i64,
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = Lang::from_headers(&parts.headers);
        let caller =
            Caller::from_request_parts(parts, state).await.map_err(|e| PageError { lang, error: e })?;
        let jar = CookieJar::from_headers(&parts.headers);
        let (csrf, new_cookie) = match (&caller.csrf, jar.get(CSRF_COOKIE)) {
            (Some(session_token), _) => (session_token.clone(), None),
            (None, Some(c)) if c.value().len() == 64 => (c.value().to_string(), None),
            (None, _) => {
                let fresh = random_token();
                (fresh.clone(), Some(fresh))
            }
        };
        let unread = match (&caller.actor, &caller.user_id) {
            (Actor::Person { .. }, Some(user)) if parts.method == axum::http::Method::GET => {
                // A badge is not worth failing a page for.
                crate::cases::store::unread_count(&state.db, user).await.unwrap_or(0)
            }
            _ => 0,
        };
        Ok(PageCtx {
            unread,
            t: Tr { lang, kiosk: jar.get(KIOSK_COOKIE).is_some() },
            caller,
            csrf,
            new_cookie,
            secure_cookies: state.config.secure_cookies,
            path: parts.uri.path().to_string(),
            here: (parts.method == axum::http::Method::GET)
                .then(|| parts.uri.path_and_query().map(|p| p.as_str().to_string()))
                .flatten(),
        })
    }
}

impl PageCtx {
    pub fn user(&self) -> Option<UserChip> {
        match &self.caller.actor {
            Actor::Anonymous => None,
            Actor::Person { .. } => {
                Some(UserChip { is_staff: false, unread: self.unread, desks: Vec::new() })
            }
            Actor::Staff { .. } => Some(UserChip {
                is_staff: true,
                unread: 0,
                desks: crate::identity::authz::desks(&self.caller.actor)
                    .into_iter()
                    .map(|d| (d.href(), self.t.pick(d.label_zh(), d.label_en())))
                    .collect(),
            }),
        }
    }

    /// The login page, asked to come back here afterwards (a GET page; after a form post the
    /// user starts again from the login page's default).
    pub fn to_login(&self) -> axum::response::Redirect {
        axum::response::Redirect::to(&self.login_href())
    }

    /// The login page's address, with this page to come back to when it is a GET page.
    pub fn login_href(&self) -> String {
        match self.here.as_deref().and_then(safe_next) {
            Some(here) => format!("/login?next={}", encode_query_value(here)),
            None => "/login".to_string(),
        }
    }

    /// Constant-time comparison of a submitted form token with the expected one.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), PageError> {
        let a = self.csrf.as_bytes();
        let b = submitted.as_bytes();
        let same = a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
        if same { Ok(()) } else { Err(self.error(ApiError::Csrf)) }
    }

    pub fn error(&self, error: ApiError) -> PageError {
        PageError { lang: self.t.lang, error }
    }

    /// Renders a template, adding the CSRF cookie if one was minted for this request.
    pub fn render(&self, status: StatusCode, page: &impl Template) -> Response {
        match page.render() {
            Ok(html) => {
                let mut resp = (status, Html(html)).into_response();
                if let Some(token) = &self.new_cookie {
                    let cookie = Cookie::build((CSRF_COOKIE, token.clone()))
                        .http_only(true)
                        .same_site(SameSite::Strict)
                        .secure(self.secure_cookies)
                        .path("/")
                        .build();
                    if let Ok(v) = cookie.to_string().parse() {
                        resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
                    }
                }
                resp
            }
            Err(e) => self.error(ApiError::Internal(e.into())).into_response(),
        }
    }
}

/// An HttpOnly, SameSite=Lax cookie for `path` (Secure unless configured off).
pub fn private_cookie(
    name: &'static str,
    value: String,
    path: &'static str,
    secure: bool,
) -> Cookie<'static> {
    Cookie::build((name, value)).http_only(true).same_site(SameSite::Lax).secure(secure).path(path).build()
}

/// A 303 redirect (the browser follows with a GET) that sets `cookie`.
pub fn see_other_with_cookie(to: &str, cookie: &Cookie<'_>) -> Response {
    let mut resp = axum::response::Redirect::to(to).into_response();
    *resp.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = cookie.to_string().parse() {
        resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    resp
}

/// `next` if it is a page of this site to return to after signing in: a path starting with one
/// `/` (never `//host` or `/\host`, which browsers read as another site), without control
/// characters or backslashes, not the login page itself. Anything else is ignored, so the login
/// page cannot be used to send people to another site.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 2000
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && !(next == "/login" || next.starts_with("/login?") || next.starts_with("/logout"));
    ok.then_some(next)
}

/// Percent-encodes a query-string value (unreserved characters kept).
pub fn encode_query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An error shown as an HTML page in the page's language.
#[derive(Debug)]
pub struct PageError {
    pub lang: Lang,
    pub error: ApiError,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    status: u16,
    message: String,
    code: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(err) = &self.error {
            tracing::error!(error = ?err, "internal error on a page");
        }
        let status = self.error.status();
        let (code, zh, en) = self.error.describe();
        let t = Tr { lang: self.lang, kiosk: false };
        let page = ErrorPage {
            t,
            user: None,
            csrf: String::new(),
            status: status.as_u16(),
            message: match self.lang {
                Lang::Zh => zh,
                Lang::En => en,
            },
            code: code.into(),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, "error").into_response(),
        }
    }
}

/// A number typed into a form: `None` when left empty; anything that is not a number is named
/// as such on `field` (with the messages given) and also gives `None`.
pub fn number_input(
    field: &str,
    raw: &str,
    zh: &str,
    en: &str,
    errors: &mut Vec<crate::http::error::FieldError>,
) -> Option<f64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<f64>() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.push(crate::http::error::FieldError::new(field, "not_a_number", zh, en));
            None
        }
    }
}
