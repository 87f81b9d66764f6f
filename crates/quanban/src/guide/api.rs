//! JSON endpoints of the guidance assistant and its hand-off queue.

use std::sync::Arc;

use crate::http::extract::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use super::store::{self, Handoff};
use super::{GuideAnswer, GuideIndex};
use crate::app::AppState;
use crate::http::{ApiError, ApiJson, ApiResult, Caller, FieldError};
use crate::identity::api::require;
use crate::identity::authz::{Action, Resource, decide};
use crate::identity::session::token_hash;

/// The index, built now if the background refresher has not finished its first build yet.
pub async fn index(state: &AppState) -> ApiResult<Arc<GuideIndex>> {
    if let Some((index, _)) = state.guide.read().await.as_ref() {
        return Ok(index.clone());
    }
    let (index, rev) = super::build_from_db(state).await.map_err(ApiError::Internal)?;
    *state.guide.write().await = Some((index.clone(), rev));
    Ok(index)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct GuideQuery {
    /// What the person typed, in their own words ("开个小饭馆要办什么").
    pub q: String,
    /// Most results (1–20, default 8).
    pub limit: Option<usize>,
}

/// The guide's answer: the items and bundles, and the policies that answer the question.
#[derive(Debug, Serialize)]
pub struct GuideReply {
    #[serde(flatten)]
    pub answer: GuideAnswer,
    /// Business support policies for the question (企业找政策), with a signed-in
    /// representative's standing under each.
    pub policies: Vec<crate::policies::service::PolicyHit>,
}

/// Ranked items and bundles for a colloquial question, each with a score and a reason; a
/// follow-up question when the query is ambiguous; a hand-off suggestion when unsure; and the
/// policies the question is about (for a representative, what each enterprise is owed).
#[utoipa::path(get, path = "/api/v1/guide", tag = "guide", params(GuideQuery),
    responses((status = 200, description = "GuideAnswer: results [{kind, code, name, score, reason_zh, reason_en}], follow_up, confident, hand_off_suggested, policies [{code, name, mode, summary, reason_zh, reason_en, url, standing}]")))]
pub async fn guide(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<GuideQuery>,
) -> ApiResult<Json<GuideReply>> {
    let index = index(&state).await?;
    let limit = q.limit.unwrap_or(8).clamp(1, 20);
    let policies = crate::policies::service::guide_policies(&state, &caller, &q.q, 5).await?;
    Ok(Json(GuideReply { answer: index.search(&q.q, limit), policies }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct HandoffRequest {
    /// The question as the person asked it.
    pub query: String,
    /// Anything they want to add (optional).
    pub note: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HandoffCreated {
    pub id: String,
    /// Lets the asker read the answer without an account: send as `X-Handoff-Token`.
    pub token: String,
    pub status: String,
}

/// Hands a question to a guidance officer (人工).
#[utoipa::path(post, path = "/api/v1/guide/handoffs", tag = "guide", request_body = HandoffRequest,
    responses((status = 201, body = HandoffCreated), (status = 422, body = crate::http::error::Problem)))]
pub async fn create_handoff(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<HandoffRequest>,
) -> ApiResult<(StatusCode, Json<HandoffCreated>)> {
    let (h, token) = open_handoff(&state, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(HandoffCreated { id: h.id, token, status: h.status })))
}

pub async fn open_handoff(
    state: &AppState,
    caller: &Caller,
    req: HandoffRequest,
) -> ApiResult<(Handoff, String)> {
    let query = req.query.trim().to_string();
    let note = req.note.trim().to_string();
    let mut errors = Vec::new();
    if query.is_empty() {
        errors.push(FieldError::required("query", "您的问题", "Your question"));
    }
    if query.chars().count() > 500 {
        errors.push(FieldError::new(
            "query",
            "too_long",
            "问题请控制在500字以内",
            "Keep the question under 500 characters",
        ));
    }
    if note.chars().count() > 2000 {
        errors.push(FieldError::new(
            "note",
            "too_long",
            "补充说明请控制在2000字以内",
            "Keep the note under 2000 characters",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(store::open(&state.db, caller.user_id.clone(), query, note).await?)
}

/// Whether `caller` (or the holder of `token`) may read hand-off `h`.
pub fn may_read(caller: &Caller, h: &Handoff, token: Option<&str>) -> bool {
    let own = caller.user_id.is_some() && caller.user_id == h.user_id;
    let by_token = token.is_some_and(|t| token_hash(t) == h.token_hash);
    let staff = decide(&caller.actor, Action::Read, &Resource::GuidanceQueue)
        == crate::identity::authz::Decision::Allow;
    own || by_token || staff
}

/// One hand-off: its asker (signed in, or with the token) and guidance staff may read it.
#[utoipa::path(get, path = "/api/v1/guide/handoffs/{id}", tag = "guide",
    params(("id" = String, Path, description = "hand-off id")),
    responses((status = 200, body = Handoff), (status = 404, body = crate::http::error::Problem)))]
pub async fn get_handoff(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Handoff>> {
    let h = store::get(&state.db, &id).await?.ok_or(ApiError::NotFound)?;
    let token = headers.get("x-handoff-token").and_then(|v| v.to_str().ok());
    if !may_read(&caller, &h, token) {
        return Err(ApiError::NotFound);
    }
    Ok(Json(h))
}

/// The staff queue: open questions first.
#[utoipa::path(get, path = "/api/v1/guide/inbox", tag = "guide", security(("bearer" = [])),
    responses((status = 200, body = Vec<Handoff>), (status = 404, body = crate::http::error::Problem)))]
pub async fn inbox(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Handoff>>> {
    require(decide(&caller.actor, Action::Read, &Resource::GuidanceQueue))?;
    Ok(Json(store::inbox(&state.db).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AnswerRequest {
    pub answer: String,
    /// The catalogue items or bundles that answer the question (at most 5 codes, optional):
    /// later questions worded like it find them first.
    pub items: Vec<String>,
    /// The hand-off's `version` as read; a stale one gets 409.
    pub version: i64,
}

/// A guidance officer answers a hand-off.
#[utoipa::path(post, path = "/api/v1/guide/handoffs/{id}/answer", tag = "guide", security(("bearer" = [])),
    params(("id" = String, Path, description = "hand-off id")), request_body = AnswerRequest,
    responses((status = 200, body = Handoff), (status = 409, body = crate::http::error::Problem)))]
pub async fn answer_handoff(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AnswerRequest>,
) -> ApiResult<Json<Handoff>> {
    require(decide(&caller.actor, Action::Update, &Resource::GuidanceQueue))?;
    let text = req.answer.trim().to_string();
    if text.is_empty() || text.chars().count() > 5000 {
        return Err(ApiError::Validation(vec![FieldError::new(
            "answer",
            "invalid_answer",
            "请填写答复（5000字以内）",
            "Write an answer (up to 5000 characters)",
        )]));
    }
    let items: Vec<String> =
        req.items.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
    let known = index(&state).await?;
    let mut errors: Vec<FieldError> = items
        .iter()
        .enumerate()
        .filter(|(_, c)| !known.has_code(c))
        .map(|(i, c)| {
            FieldError::new(
                &format!("items[{i}]"),
                "unknown_item",
                format!("没有编码为“{c}”的在办事项或一件事"),
                format!("No active item or bundle {c}"),
            )
        })
        .collect();
    if items.len() > 5 {
        errors.push(FieldError::new("items", "too_many", "最多关联5个事项", "At most 5 items"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let taught = !items.is_empty();
    let answered = store::answer(&state.db, caller.actor.audit_name(), &id, text, items, req.version).await?;
    if taught {
        // The guide learns it now in this process (others within their poll).
        state.catalog_changed();
    }
    Ok(Json(answered))
}
