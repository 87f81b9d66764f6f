//! Registering projects, reading them with their clocks, allowing a stage application, and the
//! member departments' opinions in joint reviews. Shared by the JSON API and the pages;
//! authorization happens here, through `identity::authz::decide`.

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::store::{self, ProjectRecord};
use crate::app::AppState;
use crate::cases::domain::{CaseRecord, NewEvent};
use crate::cases::store::{GivenOpinion, ProjectStageClaim};
use crate::http::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Caller;
use crate::identity::authz::{Action, Actor, Decision, Resource, decide};
use crate::projects::{
    Flow, JointOpinion, JointRefusal, JointReview, NewProject, Opinion, ProjectClock, decide_opinion, flows,
    joint_blockers, next_stage, progress,
};

/// A project with its stages and clocks now.
pub struct ProjectView {
    pub project: ProjectRecord,
    pub flow: &'static Flow,
    pub clock: ProjectClock,
    pub departments: Vec<String>,
}

fn resource(p: &ProjectRecord, departments: &[String]) -> Resource {
    Resource::Project { enterprise: p.enterprise.clone(), departments: departments.to_vec() }
}

/// Registers a project for one of the caller's enterprises; returns its code.
pub async fn create(state: &AppState, caller: &Caller, mut p: NewProject) -> ApiResult<String> {
    let user = caller.require_user()?.to_string();
    let Actor::Person { enterprises, .. } = &caller.actor else { return Err(ApiError::Forbidden) };
    let districts: Vec<&str> = state.halls.city.districts.iter().map(|d| d.name.as_str()).collect();
    let mut errors = p.validate(&districts);
    let enterprise = p.enterprise.to_uppercase();
    p.enterprise = enterprise.clone();
    let mut name = String::new();
    if !enterprise.is_empty() {
        let allowed = decide(
            &caller.actor,
            Action::Create,
            &Resource::Project { enterprise: enterprise.clone(), departments: vec![] },
        ) == Decision::Allow;
        match crate::cases::store::enterprise_name(&state.db, &enterprise).await? {
            Some(n) if allowed && enterprises.contains(&enterprise) => name = n,
            _ => errors.push(FieldError::new(
                "enterprise",
                "not_your_enterprise",
                "所选建设单位不在您可代表的企业之列",
                "You do not represent the enterprise chosen as the builder",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let year = state.clock().today().year();
    Ok(store::create(&state.db, p, name, year, user).await?)
}

/// The project with its clocks, if the caller may read it; 404 otherwise.
pub async fn view(state: &AppState, caller: &Caller, code: &str) -> ApiResult<ProjectView> {
    caller.require_user()?;
    let project = store::get(&state.db, code).await?.ok_or(ApiError::NotFound)?;
    let rows = store::stage_cases(&state.db, code).await?;
    match decide(&caller.actor, Action::Read, &resource(&project, &rows.departments)) {
        Decision::Allow => {}
        Decision::Unauthenticated => return Err(ApiError::Unauthenticated),
        _ => return Err(ApiError::NotFound),
    }
    let flow = flows().flow(&project.flow).ok_or(ApiError::NotFound)?;
    let cal = state.calendar().await;
    let clock = progress(flow, &rows.cases, &cal, state.clock().now(), state.config.yellow_days);
    Ok(ProjectView { project, flow, clock, departments: rows.departments })
}

/// The caller's projects (those of the enterprises they represent), with their clocks.
pub async fn mine(state: &AppState, caller: &Caller) -> ApiResult<Vec<ProjectView>> {
    caller.require_user()?;
    let Actor::Person { enterprises, .. } = &caller.actor else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for p in store::of_enterprises(&state.db, enterprises).await? {
        out.push(view(state, caller, &p.code).await?);
    }
    Ok(out)
}

/// Every project, for those who read every case (the supervision office).
pub async fn all(state: &AppState, caller: &Caller) -> ApiResult<Vec<ProjectView>> {
    caller.require_user()?;
    if decide(&caller.actor, Action::Read, &Resource::CityWide(crate::identity::authz::Area::Cases))
        != Decision::Allow
    {
        return Err(ApiError::Forbidden);
    }
    let mut out = Vec::new();
    for p in store::all(&state.db, 2000).await? {
        out.push(view(state, caller, &p.code).await?);
    }
    Ok(out)
}

/// Whether the caller may apply now for stage bundle `bundle` of project `code`, as `enterprise`:
/// the claim the application's write makes on the project, or the errors naming the field.
pub async fn stage_claim(
    state: &AppState,
    caller: &Caller,
    code: &str,
    bundle: &str,
    enterprise: Option<&str>,
) -> ApiResult<Result<ProjectStageClaim, FieldError>> {
    let unknown = || {
        FieldError::new(
            "project",
            "unknown_project",
            format!("工程建设项目“{code}”不存在"),
            format!("There is no construction project {code}"),
        )
    };
    let Some((flow, stage)) = flows().stage_of_bundle(bundle) else {
        return Ok(Err(FieldError::new(
            "project",
            "not_a_stage",
            "该“一件事”不是工程建设项目的审批阶段",
            "This bundle is not a stage of a construction project",
        )));
    };
    let v = match view(state, caller, code).await {
        Ok(v) => v,
        Err(ApiError::NotFound) => return Ok(Err(unknown())),
        Err(e) => return Err(e),
    };
    if decide(&caller.actor, Action::Update, &resource(&v.project, &v.departments)) != Decision::Allow {
        return Ok(Err(unknown()));
    }
    if v.project.flow != flow.code {
        return Ok(Err(unknown()));
    }
    if enterprise != Some(v.project.enterprise.as_str()) {
        return Ok(Err(FieldError::new(
            "enterprise",
            "not_the_builder",
            format!("本项目须以建设单位“{}”的名义申报", v.project.enterprise_name),
            format!(
                "Stages of this project are applied for in the name of its builder, {}",
                v.project.enterprise_name
            ),
        )));
    }
    if let Err(refusal) = next_stage(&v.clock, stage.order) {
        return Ok(Err(FieldError::new(
            "project",
            refusal.code(),
            refusal.message_zh(),
            refusal.message_en(),
        )));
    }
    Ok(Ok(ProjectStageClaim { code: v.project.code.clone(), stage: stage.order, version: v.project.version }))
}

/// A member department's opinion as sent.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct OpinionRequest {
    /// `pass` (同意) or `fail` (不同意, with what must be put right in `comment`).
    #[serde(default)]
    pub opinion: String,
    pub comment: Option<String>,
    /// The case's version the opinion was given on (optional; a stale one is refused).
    pub version: Option<i64>,
}

/// A joint review's members and where each stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JointView {
    pub case_number: String,
    pub name: String,
    pub name_en: String,
    pub members: Vec<MemberView>,
    /// Whether every member agreed (the case may then be approved).
    pub all_agreed: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub department: String,
    pub department_name: String,
    pub aspect: String,
    pub aspect_en: String,
    /// `pass`, `fail`, or none yet.
    pub opinion: Option<String>,
    pub comment: Option<String>,
    pub by_name: Option<String>,
    /// When it was given, Beijing time.
    pub at: Option<String>,
}

/// The member department the caller speaks for in `review`, if any.
pub fn member_for(actor: &Actor, review: &JointReview) -> Option<String> {
    review
        .members
        .iter()
        .find(|m| {
            decide(actor, Action::Review, &Resource::JointReview { department: m.department.clone() })
                == Decision::Allow
        })
        .map(|m| m.department.clone())
}

/// Whether the caller reads the case as a member department of its joint review.
pub fn reads_as_member(actor: &Actor, case: &CaseRecord) -> bool {
    let Some(review) = case.item_code.as_deref().and_then(|i| flows().joint(i)) else { return false };
    review.members.iter().any(|m| {
        decide(actor, Action::Read, &Resource::JointReview { department: m.department.clone() })
            == Decision::Allow
    })
}

/// The joint review of a case the caller may read (404 when it has none).
pub async fn joint_view(state: &AppState, caller: &Caller, number: &str) -> ApiResult<JointView> {
    let case = crate::cases::service::readable(state, caller, number).await?;
    let review = case.item_code.as_deref().and_then(|i| flows().joint(i)).ok_or(ApiError::NotFound)?;
    let opinions = crate::cases::store::joint_opinions(&state.db, number).await?;
    joint_view_of(state, &case, review, &opinions).await
}

async fn joint_view_of(
    state: &AppState,
    case: &CaseRecord,
    review: &JointReview,
    opinions: &[JointOpinion],
) -> ApiResult<JointView> {
    let mut members = Vec::new();
    for m in &review.members {
        let o = opinions.iter().find(|o| o.department == m.department);
        members.push(MemberView {
            department: m.department.clone(),
            department_name: crate::platform::directory::department_name(&state.db, &m.department).await?,
            aspect: m.aspect.clone(),
            aspect_en: m.aspect_en.clone(),
            opinion: o.map(|o| o.opinion.as_str().to_string()),
            comment: o.and_then(|o| o.comment.clone()),
            by_name: o.map(|o| o.by_name.clone()),
            at: o.map(|o| crate::platform::clock::shown_time(&o.at)),
        });
    }
    Ok(JointView {
        case_number: case.number.clone(),
        name: review.name.clone(),
        name_en: review.name_en.clone(),
        all_agreed: joint_blockers(review, opinions).is_empty(),
        members,
    })
}

/// A member department gives its opinion on a joint-review case.
pub async fn give_opinion(
    state: &AppState,
    caller: &Caller,
    number: &str,
    req: OpinionRequest,
) -> ApiResult<JointView> {
    let user = caller.require_user()?.to_string();
    let case = crate::cases::service::readable(state, caller, number).await?;
    let review = case.item_code.as_deref().and_then(|i| flows().joint(i)).ok_or(ApiError::NotFound)?;
    let Some(department) = member_for(&caller.actor, review) else { return Err(ApiError::Forbidden) };
    let Some(opinion) = Opinion::parse(req.opinion.trim()) else {
        return Err(ApiError::Validation(vec![FieldError::new(
            "opinion",
            "unknown_opinion",
            "审查意见须为“同意”（pass）或“不同意”（fail）",
            "The opinion is pass or fail",
        )]));
    };
    let comment = req.comment.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
    if comment.as_ref().is_some_and(|c| c.chars().count() > 1000) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "comment",
            "too_long",
            "审查意见说明不能超过1000个字",
            "The comment is at most 1000 characters",
        )]));
    }
    if req.version.is_some_and(|v| v != case.version) {
        return Err(stale(&case));
    }
    let opinions = crate::cases::store::joint_opinions(&state.db, number).await?;
    let change = match decide_opinion(review, case.state, &department, &opinions, opinion, comment.as_deref())
    {
        Ok(c) => c,
        Err(r @ JointRefusal::CommentRequired) => {
            return Err(ApiError::Validation(vec![FieldError::new(
                "comment",
                r.code(),
                "不同意时须写明需要整改的内容",
                "Say what must be put right when not agreeing",
            )]));
        }
        Err(JointRefusal::NotMember) => return Err(ApiError::Forbidden),
        Err(r @ JointRefusal::NotUnderReview(s)) => {
            return Err(ApiError::StateConflict {
                code: r.code(),
                zh: format!("办件当前为“{}”，不在审查中，不能提出联合审查意见", s.label_zh()),
                en: format!(
                    "The case is {}, not under review; no opinion can be given now",
                    s.label_en().to_lowercase()
                ),
                state: s.as_str().into(),
            });
        }
        Err(r @ JointRefusal::AlreadyAgreed) => {
            return Err(ApiError::Conflict {
                code: r.code(),
                zh: "本部门已同意，意见不能再更改".into(),
                en: "Your department agreed already; an agreement stands".into(),
            });
        }
    };
    let events = crate::cases::store::events(&state.db, number).await?;
    let by_name = match &caller.name {
        Some(n) => n.clone(),
        None => crate::platform::directory::user_name(&state.db, &user).await?,
    };
    let event = NewEvent {
        seq: i64::try_from(events.len()).unwrap_or(i64::MAX) + 1,
        action: "joint_opinion".into(),
        from: Some(case.state),
        to: case.state,
        actor_id: Some(user.clone()),
        actor_name: by_name.clone(),
        role: Some("reviewer"),
        department: department.clone(),
        reason: comment.clone(),
        detail: Some(
            json!({"joint_review": review.name, "department": department, "verdict": opinion.as_str()}),
        ),
    };
    let given = GivenOpinion {
        case_number: case.number.clone(),
        department,
        opinion,
        comment,
        by_id: user,
        by_name,
        change,
        event,
    };
    match crate::cases::store::give_joint_opinion(&state.db, given).await {
        Ok(()) => {}
        Err(crate::store::StoreError::Conflict) => return Err(stale(&case)),
        Err(e) => return Err(e.into()),
    }
    let case = crate::cases::store::get(&state.db, number).await?.ok_or(ApiError::NotFound)?;
    let opinions = crate::cases::store::joint_opinions(&state.db, number).await?;
    joint_view_of(state, &case, review, &opinions).await
}

fn stale(case: &CaseRecord) -> ApiError {
    ApiError::StateConflict {
        code: "version_conflict",
        zh: "办件已被他人处理，请刷新后重试".into(),
        en: "Someone else acted on the case first. Reload and try again".into(),
        state: case.state.as_str().into(),
    }
}

/// A joint review waiting for the opinion of one of the caller's departments.
pub struct Waiting {
    pub case: CaseRecord,
    pub review: &'static JointReview,
    /// The department said 不同意 before and reviews it again.
    pub refused: bool,
}

/// The joint reviews under review that wait for an opinion of a department the caller speaks
/// for (403 for someone who speaks for none).
pub async fn waiting_for(state: &AppState, caller: &Caller) -> ApiResult<Vec<Waiting>> {
    caller.require_user()?;
    let reviews: Vec<&'static JointReview> =
        flows().joint_reviews.iter().filter(|r| member_for(&caller.actor, r).is_some()).collect();
    if reviews.is_empty() {
        return Err(ApiError::Forbidden);
    }
    let items: Vec<String> = reviews.iter().map(|r| r.item.clone()).collect();
    let mut out = Vec::new();
    for case in crate::cases::store::under_review_of_items(&state.db, &items).await? {
        let Some(review) = reviews.iter().find(|r| Some(r.item.as_str()) == case.item_code.as_deref()) else {
            continue;
        };
        let Some(department) = member_for(&caller.actor, review) else { continue };
        let opinions = crate::cases::store::joint_opinions(&state.db, &case.number).await?;
        let mine = opinions.iter().find(|o| o.department == department).map(|o| o.opinion);
        if mine != Some(Opinion::Pass) {
            out.push(Waiting { case, review, refused: mine == Some(Opinion::Fail) });
        }
    }
    Ok(out)
}

/// Why an approval must wait: the members that have not agreed yet (none: it may go ahead).
pub async fn approval_blockers(state: &AppState, case: &CaseRecord) -> ApiResult<Option<ApiError>> {
    let Some(review) = case.item_code.as_deref().and_then(|i| flows().joint(i)) else { return Ok(None) };
    let opinions = crate::cases::store::joint_opinions(&state.db, &case.number).await?;
    let waiting = joint_blockers(review, &opinions);
    if waiting.is_empty() {
        return Ok(None);
    }
    let mut names = Vec::new();
    for (m, _) in &waiting {
        names.push(crate::platform::directory::department_name(&state.db, &m.department).await?);
    }
    Ok(Some(ApiError::Conflict {
        code: "joint_review_pending",
        zh: format!("{}尚未全部同意（待：{}），暂不能作出许可决定", review.name, names.join("、")),
        en: format!(
            "Not every member of the {} has agreed yet (waiting for: {}); the case cannot be approved",
            review.name_en.to_lowercase(),
            names.join(", ")
        ),
    }))
}
