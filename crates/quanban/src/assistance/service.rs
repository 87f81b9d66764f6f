//! Who may do what with an assistance request, and the power of attorney.

use serde::Deserialize;

use super::domain::{RequestStatus, Step, next_status};
use super::store::{self, Change, NewRequest, Request};
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Caller, FieldError};
use crate::identity::authz::{Action, Actor, Area, Decision, Resource, decide};

/// Coordinators see every request and assign officers (the one access decision says who).
fn coordinates(actor: &Actor) -> bool {
    decide(actor, Action::Dispatch, &Resource::CityWide(Area::Assistance)) == Decision::Allow
}

fn resource(r: &Request) -> Resource {
    Resource::AssistanceRequest { requester: r.requester_id.clone(), officer: r.officer_id.clone() }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AskRequest {
    /// The item to get help with (optional: a project may need several).
    pub item_code: Option<String>,
    /// For an enterprise you represent.
    pub enterprise: Option<String>,
    /// A project's name (重点项目帮办).
    pub project_name: Option<String>,
    pub description: String,
    pub contact_phone: String,
}

pub async fn ask(state: &AppState, caller: &Caller, req: AskRequest) -> ApiResult<Request> {
    let user = caller.require_user()?.to_string();
    let Actor::Person { enterprises, .. } = &caller.actor else { return Err(ApiError::Forbidden) };
    let mut errors = Vec::new();
    let description = req.description.trim().to_string();
    if description.is_empty() || description.chars().count() > 1000 {
        errors.push(FieldError::new(
            "description",
            "required",
            "请说明需要帮办的事项（不超过1000字）",
            "Describe what you need help with (at most 1000 characters)",
        ));
    }
    if crate::identity::domain::Phone::parse(req.contact_phone.trim()).is_err() {
        errors.push(FieldError::new(
            "contact_phone",
            "invalid_phone",
            "请填写11位手机号码",
            "Give an 11-digit mobile number",
        ));
    }
    let item = req.item_code.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    if let Some(code) = &item
        && crate::catalog::store::get(&state.db, code).await?.is_none()
    {
        errors.push(FieldError::new(
            "item_code",
            "unknown_item",
            format!("事项“{code}”不存在"),
            format!("No item {code}"),
        ));
    }
    let enterprise =
        req.enterprise.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_uppercase);
    if let Some(e) = &enterprise
        && !enterprises.contains(e)
    {
        errors.push(FieldError::new(
            "enterprise",
            "not_your_enterprise",
            "您不是该企业的法定代表人或授权代理人",
            "You do not represent this enterprise",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let id = crate::platform::tokens::uuid_v4();
    store::create(
        &state.db,
        NewRequest {
            id: id.clone(),
            requester_id: user,
            enterprise,
            item_code: item,
            project_name: req
                .project_name
                .map(|p| p.trim().chars().take(200).collect())
                .filter(|p: &String| !p.is_empty()),
            description,
            contact_phone: req.contact_phone.trim().to_string(),
        },
    )
    .await?;
    store::get(&state.db, &id).await?.ok_or(ApiError::NotFound)
}

/// The request if the caller may see it: its requester, its officer, or a coordinator.
pub async fn readable(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Request> {
    caller.require_user()?;
    let r = store::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    match decide(&caller.actor, Action::Read, &resource(&r)) {
        Decision::Allow => Ok(r),
        _ => Err(ApiError::NotFound),
    }
}

pub async fn list(state: &AppState, caller: &Caller) -> ApiResult<Vec<Request>> {
    let user = caller.require_user()?;
    Ok(match &caller.actor {
        Actor::Person { .. } => store::list(&state.db, Some(user), None).await?,
        a if coordinates(a) => store::list(&state.db, None, None).await?,
        _ => store::list(&state.db, None, Some(user)).await?,
    })
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct StepRequest {
    /// `assign`: the officer's login name.
    pub officer: Option<String>,
    /// `authorize`: must be true (the applicant signs the power of attorney).
    pub accepted: Option<bool>,
    /// `note`: a progress note; optional on the other steps.
    pub note: Option<String>,
    /// `rate`: 1–5.
    pub score: Option<i64>,
    pub comment: Option<String>,
    pub version: Option<i64>,
}

/// The power of attorney's text (委托书), signed by the applicant.
pub fn power_of_attorney(r: &Request, officer: &str, department: &str) -> String {
    format!(
        "本人{}{}委托{}（{}）为帮办代办人员，代为办理{}的申请、材料提交、补正和结果领取等事项。\
         帮办代办全程免费，代办人员不得收取任何费用。本委托自签署之日起至该事项办结时止。",
        r.requester_name,
        r.enterprise.as_deref().map(|e| format!("（代表统一社会信用代码为{e}的企业）")).unwrap_or_default(),
        officer,
        department,
        r.item_code
            .as_deref()
            .or(r.project_name.as_deref())
            .map(|x| format!("“{x}”"))
            .unwrap_or_else(|| "所述事项".into())
    )
}

/// One step of the loop: `assign`, `authorize`, `note`, `complete`, `cancel`, `rate`.
pub async fn step(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: &str,
    req: StepRequest,
) -> ApiResult<Request> {
    let actor = caller.require_user()?.to_string();
    let r = readable(state, caller, id).await?;
    let actor_name = match &caller.name {
        Some(n) => n.clone(),
        None => crate::platform::directory::user_name(&state.db, &actor).await?,
    };
    let is_requester = r.requester_id == actor;
    let is_officer = r.officer_id.as_deref() == Some(actor.as_str());
    let note =
        req.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(|n| n.chars().take(1000).collect());
    let conflict = |state: &str| ApiError::StateConflict {
        code: "action_not_allowed_in_state",
        zh: format!("帮办申请当前状态为“{state}”，不能执行此操作"),
        en: format!("The request is {state}; this is not possible now"),
        state: state.to_string(),
    };
    let Some(step) = Step::parse(action) else { return Err(ApiError::NotFound) };
    let status = RequestStatus::parse(&r.status).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("assistance request {id} has status {:?}", r.status))
    })?;
    // The state the step leads to, by the one table (`domain::next_status`).
    let next = || {
        next_status(status, step, r.rating.is_some())
            .map(|s| Some(s.as_str()))
            .map_err(|s| conflict(s.as_str()))
    };
    let mut c = Change {
        id: r.id.clone(),
        version: req.version.unwrap_or(r.version),
        action: "note",
        actor_id: actor.clone(),
        actor_name,
        status: None,
        officer_id: None,
        assigned_by: None,
        poa_text: None,
        rating: None,
        note,
    };
    match step {
        Step::Assign => {
            if !coordinates(&caller.actor) {
                return Err(ApiError::Forbidden);
            }
            let to = next()?;
            let username = req.officer.as_deref().map(str::trim).unwrap_or("");
            let officer =
                crate::identity::store::staff_by_username(&state.db, username).await?.ok_or_else(|| {
                    ApiError::invalid(
                        "officer",
                        "unknown_officer",
                        "未找到该工作人员",
                        "No such staff member",
                    )
                })?;
            c.action = "assign";
            c.status = to;
            c.officer_id = Some(officer);
            c.assigned_by = Some(actor.clone());
        }
        Step::Authorize => {
            if !is_requester {
                return Err(ApiError::Forbidden);
            }
            let to = next()?;
            if req.accepted != Some(true) {
                return Err(ApiError::invalid(
                    "accepted",
                    "required",
                    "请确认签署委托书",
                    "Confirm the power of attorney",
                ));
            }
            let officer = r.officer_id.clone().unwrap_or_default();
            let (name, department) =
                crate::identity::store::staff_name_and_department(&state.db, &officer).await?;
            c.action = "authorize";
            c.status = to;
            c.poa_text = Some(power_of_attorney(&r, &name, &department));
        }
        Step::Note => {
            if !is_requester && !is_officer {
                return Err(ApiError::Forbidden);
            }
            if c.note.is_none() {
                return Err(ApiError::invalid("note", "required", "请填写进展说明", "Write the note"));
            }
        }
        Step::Complete => {
            if !is_officer {
                return Err(ApiError::Forbidden);
            }
            c.status = next()?;
            c.action = "complete";
        }
        Step::Cancel => {
            if !is_requester {
                return Err(ApiError::Forbidden);
            }
            c.status = next()?;
            c.action = "cancel";
        }
        Step::Rate => {
            if !is_requester {
                return Err(ApiError::Forbidden);
            }
            next()?;
            let score = req.score.filter(|s| (1..=5).contains(s)).ok_or_else(|| {
                ApiError::invalid("score", "out_of_range", "评分应为1到5", "score must be 1 to 5")
            })?;
            c.action = "rate";
            c.rating = Some((score, req.comment.map(|x| x.trim().chars().take(500).collect())));
        }
    }
    match store::change(&state.db, c).await {
        Ok(()) => {}
        Err(crate::store::StoreError::Conflict) => {
            let now = store::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
            return Err(ApiError::StateConflict {
                code: "version_conflict",
                zh: "帮办申请已被他人更新，请刷新后重试".into(),
                en: "Someone else changed the request first; reload and try again".into(),
                state: now.status,
            });
        }
        Err(e) => return Err(e.into()),
    }
    store::get(&state.db, id).await?.ok_or(ApiError::NotFound)
}

/// For the cases area: the applicant (and enterprise) an officer may submit for under `id`,
/// for `code` (the item or bundle applied for): a power of attorney signed for one item covers
/// that item only.
pub async fn principal_for(
    state: &AppState,
    officer: &str,
    id: &str,
    code: Option<&str>,
) -> ApiResult<Request> {
    let r = store::get(&state.db, id).await?.ok_or_else(|| {
        ApiError::invalid(
            "assistance_id",
            "unknown_assistance",
            "帮办申请不存在",
            "No such assistance request",
        )
    })?;
    if r.officer_id.as_deref() != Some(officer) || r.status != "authorized" {
        return Err(ApiError::invalid(
            "assistance_id",
            "not_authorized",
            "您不是该申请人授权的帮办代办人员（须先签署委托书）",
            "You hold no power of attorney from this applicant",
        ));
    }
    if let Some(signed_for) = r.item_code.as_deref()
        && code != Some(signed_for)
    {
        return Err(ApiError::invalid(
            "assistance_id",
            "not_covered",
            format!("委托书只涵盖事项“{signed_for}”，不能代办其他事项"),
            format!("The power of attorney covers {signed_for} only, not another item"),
        ));
    }
    Ok(r)
}
