//! The projects' pages: the builder's projects, registering one, a project with its four stages
//! and clocks, the supervision view by stage and light, and the member departments' opinions
//! on joint reviews.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::service::{self, ProjectView};
use crate::app::AppState;
use crate::cases::domain::Light;
use crate::cases::pages::{light_class, light_label};
use crate::http::error::{ApiError, FieldError};
use crate::identity::authz::Actor;
use crate::web::i18n::Tr;
use crate::web::page::{PageCtx, PageError, UserChip};

/// A stage as a page shows it.
pub struct StageLine {
    order: u8,
    bundle: String,
    name: String,
    limit_days: u32,
    status: &'static str,
    status_code: &'static str,
    may_apply: bool,
    case_number: Option<String>,
    used_days: Option<i64>,
    due: Option<String>,
    light_class: &'static str,
    light: &'static str,
}

/// A project as the pages show it.
pub struct ProjectLine {
    code: String,
    name: String,
    flow_name: String,
    enterprise_name: String,
    district: String,
    location: String,
    floor_area: String,
    investment: String,
    registered: String,
    stages: Vec<StageLine>,
    current: String,
    used_days: i64,
    total_limit_days: u32,
    light_class: &'static str,
    light: &'static str,
    complete: bool,
}

fn light_of(signal: Option<crate::calendar::deadline::Signal>) -> Light {
    signal.map_or(Light::None, Light::from)
}

fn line(t: &Tr, v: &ProjectView) -> ProjectLine {
    let stages: Vec<StageLine> = v
        .clock
        .stages
        .iter()
        .map(|s| {
            let light = light_of(s.light);
            StageLine {
                order: s.order,
                bundle: s.bundle.clone(),
                name: t.pick(&s.name, &s.name_en).to_string(),
                limit_days: s.limit_days,
                status: t.pick(s.status.label_zh(), s.status.label_en()),
                status_code: s.status.as_str(),
                may_apply: s.status.may_apply(),
                case_number: s.case_number.clone(),
                used_days: s.used_days,
                due: s.due.map(|d| d.format("%Y-%m-%d").to_string()),
                light_class: light_class(light),
                light: light_label(t, light),
            }
        })
        .collect();
    let current = match v.clock.current.and_then(|o| stages.iter().find(|s| s.order == o)) {
        Some(s) => format!("{}{}{} {}", t.pick("第", "Stage "), s.order, t.pick("阶段", ":"), s.name),
        None => t.pick("四个阶段均已完成", "Every stage completed").to_string(),
    };
    let light = light_of(v.clock.light);
    ProjectLine {
        code: v.project.code.clone(),
        name: v.project.name.clone(),
        flow_name: t.pick(&v.flow.name, &v.flow.name_en).to_string(),
        enterprise_name: v.project.enterprise_name.clone(),
        district: v.project.district.clone(),
        location: v.project.location.clone(),
        floor_area: format!("{:.0}", v.project.floor_area_m2),
        investment: format!("{:.0}", v.project.investment_wan),
        registered: crate::platform::clock::shown_time(&v.project.created_at),
        stages,
        current,
        used_days: v.clock.used_days,
        total_limit_days: v.clock.total_limit_days,
        light_class: light_class(light),
        light: light_label(t, light),
        complete: v.clock.complete,
    }
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    projects: Vec<ProjectLine>,
    /// The person represents an enterprise (and so may register a project).
    may_register: bool,
}

/// 我的项目: the projects of the enterprises the person represents.
pub async fn my_projects(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let Actor::Person { enterprises, .. } = &ctx.caller.actor else {
        return Ok(Redirect::to("/supervision/projects").into_response());
    };
    let views = service::mine(&state, &ctx.caller).await.map_err(|e| ctx.error(e))?;
    let page = ProjectsPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        projects: views.iter().map(|v| line(&ctx.t, v)).collect(),
        may_register: !enterprises.is_empty(),
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

/// The registration form as typed (kept on an error).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProjectForm {
    pub csrf: String,
    pub name: String,
    pub district: String,
    pub location: String,
    pub floor_area_m2: String,
    pub investment_wan: String,
    pub enterprise: String,
}

#[derive(Template)]
#[template(path = "project_new.html")]
struct NewProjectPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    form: ProjectForm,
    districts: Vec<String>,
    enterprises: Vec<(String, String)>,
    errors: Vec<FieldError>,
    invalid: BTreeMap<String, FieldError>,
}

async fn new_project_page(
    state: &AppState,
    ctx: &PageCtx,
    form: ProjectForm,
    errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    let user = ctx.caller.user_id.clone().ok_or(ctx.error(ApiError::Unauthenticated))?;
    let profile = crate::identity::store::profile(&state.db, &user).await.map_err(|e| ctx.error(e.into()))?;
    let mut invalid = BTreeMap::new();
    for e in &errors {
        invalid.entry(e.field.clone()).or_insert_with(|| e.clone());
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = NewProjectPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        form,
        districts: state.halls.city.districts.iter().map(|d| d.name.clone()).collect(),
        enterprises: profile.enterprises.iter().map(|e| (e.credit_code.clone(), e.name.clone())).collect(),
        errors,
        invalid,
    };
    Ok(ctx.render(status, &page))
}

/// 登记新项目.
pub async fn new_project(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    if !matches!(ctx.caller.actor, Actor::Person { .. }) {
        return Err(ctx.error(ApiError::Forbidden));
    }
    new_project_page(&state, &ctx, ProjectForm::default(), Vec::new()).await
}

/// A number as typed (thousands separators allowed): empty is missing; words are named as wrong.
fn number_field(raw: &str, field: &str, zh: &str, en: &str, errors: &mut Vec<FieldError>) -> Option<f64> {
    let raw = raw.replace([',', '，'], "");
    crate::web::page::number_input(
        field,
        &raw,
        &format!("{zh}须填写数字"),
        &format!("{en} must be a number"),
        errors,
    )
}

/// Registers the project and opens its page.
pub async fn create_project(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(form): Form<ProjectForm>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    ctx.check_csrf(&form.csrf)?;
    let mut errors = Vec::new();
    let floor = number_field(&form.floor_area_m2, "floor_area_m2", "建筑面积", "The floor area", &mut errors);
    let investment =
        number_field(&form.investment_wan, "investment_wan", "总投资", "The investment", &mut errors);
    let p = super::NewProject {
        flow: String::new(),
        name: form.name.clone(),
        district: form.district.clone(),
        location: form.location.clone(),
        floor_area_m2: floor,
        investment_wan: investment,
        enterprise: form.enterprise.clone(),
    };
    if errors.is_empty() {
        match service::create(&state, &ctx.caller, p).await {
            Ok(code) => return Ok(Redirect::to(&format!("/projects/{code}?registered=1")).into_response()),
            Err(ApiError::Validation(e)) => errors = e,
            Err(e) => return Err(ctx.error(e)),
        }
    } else {
        // A number typed as words is named as such; every other field is still checked, so that
        // the person sees all that is wrong at once.
        let districts: Vec<&str> = state.halls.city.districts.iter().map(|d| d.name.as_str()).collect();
        let mut p = p;
        for e in p.validate(&districts) {
            if !errors.iter().any(|x| x.field == e.field) {
                errors.push(e);
            }
        }
    }
    // The summary lists the errors in the form's order.
    const ORDER: [&str; 6] =
        ["enterprise", "name", "district", "location", "floor_area_m2", "investment_wan"];
    errors.sort_by_key(|e| ORDER.iter().position(|f| *f == e.field).unwrap_or(ORDER.len()));
    new_project_page(&state, &ctx, form, errors).await
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    p: ProjectLine,
    registered: bool,
    /// The builder's representative (who applies for the stages).
    is_builder: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProjectQuery {
    pub registered: Option<String>,
}

/// A project with its four stages: each stage's state and clock, the whole clock, and the stage
/// to apply for next.
pub async fn project(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Query(q): Query<ProjectQuery>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let v = service::view(&state, &ctx.caller, &code).await.map_err(|e| ctx.error(e))?;
    let page = ProjectPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        is_builder: matches!(&ctx.caller.actor, Actor::Person { enterprises, .. } if enterprises.contains(&v.project.enterprise)),
        p: line(&ctx.t, &v),
        registered: q.registered.is_some(),
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "supervision_projects.html")]
struct SupervisionProjectsPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    /// Each stage with its counts of projects there by light.
    matrix: Vec<StageRow>,
    projects: Vec<ProjectLine>,
    /// Only the completed projects are shown.
    completed_only: bool,
    light: String,
    total: usize,
}

/// A stage on the supervision page: how many projects are there, by the stage's light.
pub struct StageRow {
    order: u8,
    name: String,
    green: usize,
    yellow: usize,
    red: usize,
    /// The filter chosen is this stage.
    selected: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SupervisionQuery {
    /// Only projects at this stage (1–4; 5: complete).
    pub stage: Option<u8>,
    /// Only projects whose current stage has this light.
    pub light: String,
}

/// The supervision office's view of every project: how many are at each stage in each light,
/// and the list, filtered by stage and light.
pub async fn supervision(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<SupervisionQuery>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let t = ctx.t;
    let views = service::all(&state, &ctx.caller).await.map_err(|e| ctx.error(e))?;
    let current_light = |v: &ProjectView| {
        v.clock
            .current
            .and_then(|o| v.clock.stage(o))
            .and_then(|s| s.light)
            .map(|l| l.as_str())
            .unwrap_or("none")
    };
    let flow = super::flows().flow("JN-GCXM");
    let matrix = flow
        .map(|f| {
            f.stages
                .iter()
                .map(|s| {
                    let here: Vec<&str> = views
                        .iter()
                        .filter(|v| v.clock.current == Some(s.order))
                        .map(current_light)
                        .collect();
                    let count = |light: &str| here.iter().filter(|l| **l == light).count();
                    StageRow {
                        order: s.order,
                        name: t.pick(&s.name, &s.name_en).to_string(),
                        green: count("green"),
                        yellow: count("yellow"),
                        red: count("red"),
                        selected: q.stage == Some(s.order),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let total = views.len();
    let projects = views
        .iter()
        .filter(|v| match q.stage {
            Some(5) => v.clock.complete,
            Some(s) => v.clock.current == Some(s),
            None => true,
        })
        .filter(|v| q.light.is_empty() || current_light(v) == q.light)
        .map(|v| line(&t, v))
        .collect();
    let page = SupervisionProjectsPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        matrix,
        projects,
        completed_only: q.stage == Some(5),
        light: q.light,
        total,
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

/// A member department's opinion as the case page's form sends it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OpinionForm {
    pub csrf: String,
    pub opinion: String,
    pub comment: String,
    pub version: Option<i64>,
}

/// Gives the member department's opinion from the case page; back to the case.
pub async fn give_opinion(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(number): Path<String>,
    Form(form): Form<OpinionForm>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    ctx.check_csrf(&form.csrf)?;
    let req = service::OpinionRequest {
        opinion: form.opinion,
        comment: Some(form.comment).filter(|c| !c.trim().is_empty()),
        version: form.version,
    };
    match service::give_opinion(&state, &ctx.caller, &number, req).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{number}#joint-review")).into_response()),
        Err(ApiError::Validation(errors)) => {
            crate::cases::pages::render_case(&state, &ctx, &number, false, None, errors).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Template)]
#[template(path = "joint_reviews.html")]
struct JointReviewsPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    waiting: Vec<JointLine>,
}

pub struct JointLine {
    number: String,
    title: String,
    applicant: String,
    review: String,
    /// The caller's department's opinion so far (none, or 不同意).
    mine: &'static str,
}

/// 联合审查待办: the joint reviews waiting for the opinion of the caller's department.
pub async fn joint_reviews(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let t = ctx.t;
    let waiting = service::waiting_for(&state, &ctx.caller).await.map_err(|e| ctx.error(e))?;
    let page = JointReviewsPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        waiting: waiting
            .into_iter()
            .map(|w| JointLine {
                number: w.case.number,
                title: w.case.title,
                applicant: w.case.applicant_name,
                review: t.pick(&w.review.name, &w.review.name_en).to_string(),
                mine: if w.refused {
                    t.pick("本部门曾不同意，待复审", "Not agreed before: review again")
                } else {
                    t.pick("待提出意见", "Opinion to give")
                },
            })
            .collect(),
    };
    Ok(ctx.render(StatusCode::OK, &page))
}
