//! The guide page (search box, results with reasons, follow-up question, hand-off), the asker's
//! view of a hand-off, and the guidance officers' inbox.

use crate::http::extract::{Path, Query};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::api::{self, AnswerRequest, GuideQuery, HandoffRequest};
use super::store::{self, Handoff};
use super::{GuideAnswer, HitKind};
use crate::app::AppState;
use crate::http::{ApiError, FieldError};
use crate::identity::authz::{Action, Decision, Resource, decide};
use crate::web::i18n::Tr;
use crate::web::page::{
    PageCtx, PageError, UserChip, encode_query_value, private_cookie, see_other_with_cookie,
};

const HANDOFF_COOKIE: &str = "qb_handoff";

pub struct HitRow {
    href: String,
    name: String,
    is_bundle: bool,
    reason: String,
    score_pct: u32,
}

pub struct OptionRow {
    label: String,
    href: String,
}

#[derive(Template)]
#[template(path = "guide.html")]
struct GuidePage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    q: String,
    searched: bool,
    hits: Vec<HitRow>,
    follow_up: Option<FollowUpView>,
    note: Option<String>,
    /// The question belongs with 12345 (`Some(true)`) or 帮办代办 (`Some(false)`).
    to_12345: Option<bool>,
    hand_off: bool,
    mine: Vec<Handoff>,
    /// Policies for the question (企业找政策), with the reader's standing in words.
    policies: Vec<PolicyRow>,
    errors: Vec<FieldError>,
}

/// A policy the guide found, ready for the page.
pub struct PolicyRow {
    code: String,
    name: String,
    mode: &'static str,
    reason: String,
    /// "企业名：状态 金额" per enterprise the reader represents.
    standing: Vec<String>,
}

/// A follow-up question and its options, ready for the page.
type FollowUpView = (String, Vec<OptionRow>);

fn rows(t: &Tr, answer: &GuideAnswer) -> (Vec<HitRow>, Option<FollowUpView>, Option<String>) {
    let hits = answer
        .results
        .iter()
        .map(|h| HitRow {
            href: match h.kind {
                HitKind::Bundle => format!("/bundles/{}", h.code),
                HitKind::Item => format!("/items/{}", h.code),
            },
            name: h.name.clone(),
            is_bundle: h.kind == HitKind::Bundle,
            reason: t.pick(&h.reason_zh, &h.reason_en).to_string(),
            score_pct: (h.score.clamp(0.0, 1.0) * 100.0).round() as u32,
        })
        .collect();
    let follow_up = answer.follow_up.as_ref().map(|f| {
        (
            t.pick(&f.question_zh, &f.question_en).to_string(),
            f.options
                .iter()
                .map(|o| OptionRow {
                    label: t.pick(&o.label_zh, &o.label_en).to_string(),
                    href: format!("/guide?q={}", encode_query_value(&o.refined_query)),
                })
                .collect(),
        )
    });
    let note = match (&answer.note_zh, &answer.note_en) {
        (Some(zh), Some(en)) => Some(t.pick(zh, en).to_string()),
        (Some(zh), None) => Some(zh.clone()),
        _ => None,
    };
    (hits, follow_up, note)
}

async fn my_handoffs(state: &AppState, ctx: &PageCtx, headers: &HeaderMap) -> Vec<Handoff> {
    if let Some(uid) = &ctx.caller.user_id {
        return store::mine(&state.db, uid).await.unwrap_or_default();
    }
    match CookieJar::from_headers(headers)
        .get(HANDOFF_COOKIE)
        .and_then(|c| c.value().split_once('.').map(|(a, b)| (a.to_string(), b.to_string())))
    {
        Some((id, token)) => match store::get(&state.db, &id).await {
            Ok(Some(h)) if api::may_read(&ctx.caller, &h, Some(&token)) => vec![h],
            _ => Vec::new(),
        },
        None => Vec::new(),
    }
}

pub async fn guide(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Query(q): Query<GuideQuery>,
) -> Result<Response, PageError> {
    let searched = !q.q.trim().is_empty();
    let index = api::index(&state).await.map_err(|e| ctx.error(e))?;
    let answer = index.search(&q.q, 8);
    let (hits, follow_up, note) = rows(&ctx.t, &answer);
    let t = ctx.t;
    let found = crate::policies::service::guide_policies(&state, &ctx.caller, &q.q, 5)
        .await
        .map_err(|e| ctx.error(e))?;
    // The reader's enterprises by name, as they know them.
    let mut names = std::collections::HashMap::new();
    for s in found.iter().flat_map(|p| &p.standing) {
        if !names.contains_key(&s.credit_code) {
            let name = crate::cases::store::enterprise_name(&state.db, &s.credit_code)
                .await
                .map_err(|e| ctx.error(e.into()))?;
            names.insert(s.credit_code.clone(), name.unwrap_or_else(|| s.credit_code.clone()));
        }
    }
    let policies = found
        .into_iter()
        .map(|p| PolicyRow {
            mode: if p.mode == "automatic" {
                t.pick("免申即享", "Paid without applying")
            } else {
                t.pick("申请兑现", "Paid on application")
            },
            reason: t.pick(&p.reason_zh, &p.reason_en).to_string(),
            standing: p
                .standing
                .iter()
                .map(|s| {
                    let amount = s
                        .amount_fen
                        .map(|f| format!(" {}", crate::policies::pages::yuan(f)))
                        .unwrap_or_default();
                    let name = names.get(&s.credit_code).unwrap_or(&s.credit_code);
                    format!("{name}：{}{amount}", t.pick(&s.status_zh, &s.status_en))
                })
                .collect(),
            code: p.code,
            name: p.name,
        })
        .collect();
    let page = GuidePage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        q: q.q.clone(),
        to_12345: answer.route.map(|r| r == crate::guide::intent::Route::Complaint),
        searched,
        hits,
        follow_up,
        note,
        hand_off: answer.hand_off_suggested,
        mine: my_handoffs(&state, &ctx, &headers).await,
        policies,
        errors: Vec::new(),
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct HandoffForm {
    csrf: String,
    query: String,
    note: String,
}

pub async fn handoff(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(form): Form<HandoffForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    match api::open_handoff(
        &state,
        &ctx.caller,
        HandoffRequest { query: form.query.clone(), note: form.note },
    )
    .await
    {
        Ok((h, token)) => {
            let cookie = private_cookie(
                HANDOFF_COOKIE,
                format!("{}.{token}", h.id),
                "/guide",
                state.config.secure_cookies,
            );
            Ok(see_other_with_cookie(&format!("/guide/handoffs/{}", h.id), &cookie))
        }
        Err(ApiError::Validation(errors)) => {
            let page = GuidePage {
                to_12345: None,
                t: ctx.t,
                user: ctx.user(),
                csrf: ctx.csrf.clone(),
                q: form.query,
                searched: false,
                hits: Vec::new(),
                follow_up: None,
                note: None,
                hand_off: true,
                mine: Vec::new(),
                policies: Vec::new(),
                errors,
            };
            Ok(ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Template)]
#[template(path = "guide_handoff.html")]
struct HandoffPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    h: Handoff,
}

pub async fn handoff_status(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let h = store::get(&state.db, &id)
        .await
        .map_err(|e| ctx.error(e.into()))?
        .ok_or_else(|| ctx.error(ApiError::NotFound))?;
    let token = CookieJar::from_headers(&headers)
        .get(HANDOFF_COOKIE)
        .and_then(|c| c.value().split_once('.').filter(|(i, _)| *i == id).map(|(_, t)| t.to_string()));
    if !api::may_read(&ctx.caller, &h, token.as_deref()) {
        return Err(ctx.error(ApiError::NotFound));
    }
    let page = HandoffPage { t: ctx.t, user: ctx.user(), csrf: ctx.csrf.clone(), h };
    Ok(ctx.render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "guide_inbox.html")]
struct InboxPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    items: Vec<Handoff>,
    can_answer: bool,
    notice: Option<String>,
    /// Items and bundles to name as the answer: "code name", for the answer form's list.
    catalogue: Vec<String>,
    /// Names of the codes officers gave, for the answered questions.
    names: std::collections::HashMap<String, String>,
}

async fn inbox_page(
    state: &AppState,
    ctx: &PageCtx,
    notice: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    match decide(&ctx.caller.actor, Action::Read, &Resource::GuidanceQueue) {
        Decision::Allow => {}
        Decision::Unauthenticated => return Ok(ctx.to_login().into_response()),
        _ => return Err(ctx.error(ApiError::NotFound)),
    }
    let items = store::inbox(&state.db).await.map_err(|e| ctx.error(e.into()))?;
    let can_answer = decide(&ctx.caller.actor, Action::Update, &Resource::GuidanceQueue) == Decision::Allow;
    let mut names = std::collections::HashMap::new();
    for s in crate::catalog::store::all_active(&state.db).await.map_err(|e| ctx.error(e.into()))? {
        names.insert(s.item.code, s.item.name);
    }
    for b in crate::catalog::api::load_bundles(state).await.map_err(|e| ctx.error(e))? {
        names.insert(b.code, b.name);
    }
    let mut catalogue: Vec<String> = names.iter().map(|(c, n)| format!("{c} {n}")).collect();
    catalogue.sort();
    let page = InboxPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        items,
        can_answer,
        notice,
        catalogue,
        names,
    };
    Ok(ctx.render(status, &page))
}

pub async fn inbox(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    inbox_page(&state, &ctx, None, StatusCode::OK).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AnswerForm {
    csrf: String,
    answer: String,
    /// The items that answer it, as picked from the list ("JN-SPJ-0003 食品经营许可（新办）")
    /// or typed as codes, separated by commas.
    items: String,
    version: i64,
}

/// The codes in what an officer typed or picked: every word that starts like a code.
fn codes_in(text: &str) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；')) {
        if word.starts_with("JN-") && !codes.iter().any(|c| c == word) {
            codes.push(word.to_string());
        }
    }
    codes
}

pub async fn answer(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let req = AnswerRequest { answer: form.answer, items: codes_in(&form.items), version: form.version };
    match api::answer_handoff(State(state.clone()), ctx.caller.clone(), Path(id), crate::http::ApiJson(req))
        .await
    {
        Ok(_) => {
            inbox_page(&state, &ctx, Some(ctx.t.s("guide.answered_notice").into()), StatusCode::OK).await
        }
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict { .. })) => {
            let (_, zh, en) = e.describe();
            inbox_page(&state, &ctx, Some(ctx.t.pick(&zh, &en).to_string()), e.status()).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}
