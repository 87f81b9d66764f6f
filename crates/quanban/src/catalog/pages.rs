//! Public service-guide pages (browse, item guide, bundles) and the catalog officers' desk.

use std::collections::{BTreeMap, HashMap};

use crate::http::extract::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Multipart;
use serde::Deserialize;
use sqlx::Row;

use super::api::{self, ImportQuery, ImportRejected};
use super::domain::ResolvedBundle;
use super::store::{self, ItemFilter, Proposal, StoredItem, VersionEntry};
use super::transfer::Format;
use crate::app::AppState;
use crate::http::{ApiError, FieldError};
use crate::identity::authz::{self, Action, Actor, Area, Decision, Resource};
use crate::reference::data::Bundle;
use crate::web::i18n::{Lang, Tr};
use crate::web::page::{PageCtx, PageError, UserChip, encode_query_value};

/// Display names of departments and e-licence types, in both languages.
pub struct Names {
    departments: HashMap<String, (String, String)>,
    licences: HashMap<String, String>,
}

impl Names {
    pub async fn load(state: &AppState) -> Result<Names, ApiError> {
        let rows = sqlx::query("SELECT code, name, name_en FROM departments")
            .fetch_all(state.db.reader())
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        let mut departments = HashMap::new();
        for r in rows {
            let get = |c: &str| r.try_get::<String, _>(c).unwrap_or_default();
            departments.insert(get("code"), (get("name"), get("name_en")));
        }
        let rows = sqlx::query("SELECT code, name FROM reference_records WHERE kind = 'elicence_type'")
            .fetch_all(state.db.reader())
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        let licences = rows
            .iter()
            .map(|r| {
                (
                    r.try_get::<String, _>("code").unwrap_or_default(),
                    r.try_get::<String, _>("name").unwrap_or_default(),
                )
            })
            .collect();
        Ok(Names { departments, licences })
    }

    /// The code of the department typed as its code or its name (Chinese or English).
    pub fn department_code(&self, typed: &str) -> Option<String> {
        let typed = typed.trim();
        if self.departments.contains_key(typed) {
            return Some(typed.to_string());
        }
        self.departments
            .iter()
            .find(|(_, (zh, en))| zh == typed || en.eq_ignore_ascii_case(typed))
            .map(|(code, _)| code.clone())
    }

    pub fn department(&self, t: &Tr, code: &str) -> String {
        match self.departments.get(code) {
            Some((zh, en)) => t.pick(zh, en).to_string(),
            None => code.to_string(),
        }
    }

    /// Where a material comes from, as a citizen should read it.
    pub fn source(&self, t: &Tr, source: &str) -> String {
        if let Some(kind) = source.strip_prefix("elicence:") {
            let name = self.licences.get(kind).cloned().unwrap_or_else(|| kind.to_string());
            return if t.is_en() {
                format!("Filled from your e-licence ({name})")
            } else {
                format!("免提交：自动调取电子证照（{name}）")
            };
        }
        if let Some(set) = source.strip_prefix("data:") {
            return if t.is_en() {
                format!("Filled from shared data ({set})")
            } else {
                format!("免提交：通过数据共享获取（{set}）")
            };
        }
        t.s("catalog.source_applicant").to_string()
    }
}

pub fn level_label(t: &Tr, code: &str) -> &'static str {
    match code {
        "city" => t.s("catalog.level_city"),
        "district" => t.s("catalog.level_district"),
        "street" => t.s("catalog.level_street"),
        "community" => t.s("catalog.level_community"),
        _ => "?",
    }
}

pub fn audience_label(t: &Tr, code: &str) -> &'static str {
    match code {
        "person" => t.s("catalog.audience_person"),
        "enterprise" => t.s("catalog.audience_enterprise"),
        _ => t.s("catalog.audience_both"),
    }
}

/// One row of the browse list.
pub struct ItemRow {
    code: String,
    name: String,
    department: String,
    handling: String,
    promised: u32,
    visits: u32,
    online: bool,
}

pub struct Opt {
    value: String,
    label: String,
    selected: bool,
}

fn options(pairs: Vec<(String, String)>, current: &str, all_label: &str) -> Vec<Opt> {
    let mut out =
        vec![Opt { value: String::new(), label: all_label.to_string(), selected: current.is_empty() }];
    out.extend(pairs.into_iter().map(|(v, l)| Opt { selected: v == current, value: v, label: l }));
    out
}

#[derive(Template)]
#[template(path = "items.html")]
struct ItemsPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    q: String,
    audiences: Vec<Opt>,
    events: Vec<Opt>,
    departments: Vec<Opt>,
    levels: Vec<Opt>,
    online: bool,
    as_of: String,
    rows: Vec<ItemRow>,
    total: i64,
    page: u32,
    pages: u32,
    query_base: String,
}

pub async fn items(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(f): Query<ItemFilter>,
) -> Result<Response, PageError> {
    let t = ctx.t;
    // `as_of` shows the catalog as it stood on a past date; an unreadable date shows today's.
    let as_of = chrono::NaiveDate::parse_from_str(f.as_of.trim(), "%Y-%m-%d").ok();
    let page = store::list(&state.db, &ItemFilter { per_page: Some(20), ..f.clone() }, as_of)
        .await
        .map_err(|e| ctx.error(e.into()))?;
    let names = Names::load(&state).await.map_err(|e| ctx.error(e))?;
    let all = store::all_active(&state.db).await.map_err(|e| ctx.error(e.into()))?;
    let mut events: Vec<String> = all.iter().map(|s| s.item.life_event.clone()).collect();
    events.sort();
    events.dedup();
    let mut owners: Vec<String> = all.iter().map(|s| s.item.department.clone()).collect();
    owners.sort();
    owners.dedup();
    let rows = page
        .items
        .iter()
        .map(|s| ItemRow {
            code: s.item.code.clone(),
            name: s.item.name.clone(),
            department: names.department(&t, &s.item.department),
            handling: s.item.handling.clone(),
            promised: s.item.promised_limit_days,
            visits: s.item.visits,
            online: s.item.online,
        })
        .collect();
    let query_base = format!(
        "q={}&audience={}&life_event={}&department={}&level={}&online={}&as_of={}",
        encode_query_value(&f.q),
        encode_query_value(&f.audience),
        encode_query_value(&f.life_event),
        encode_query_value(&f.department),
        encode_query_value(&f.level),
        encode_query_value(&f.online),
        encode_query_value(&f.as_of)
    );
    let view = ItemsPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        q: f.q.clone(),
        audiences: options(
            vec![
                ("person".into(), t.s("catalog.audience_person").into()),
                ("enterprise".into(), t.s("catalog.audience_enterprise").into()),
            ],
            &f.audience,
            t.s("catalog.all"),
        ),
        events: options(
            events.into_iter().map(|e| (e.clone(), e)).collect(),
            &f.life_event,
            t.s("catalog.all"),
        ),
        departments: options(
            owners.into_iter().map(|d| (d.clone(), names.department(&t, &d))).collect(),
            &f.department,
            t.s("catalog.all"),
        ),
        levels: options(
            ["city", "district", "street", "community"]
                .iter()
                .map(|l| (l.to_string(), level_label(&t, l).to_string()))
                .collect(),
            &f.level,
            t.s("catalog.all"),
        ),
        online: f.online == "true",
        as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
        rows,
        total: page.total,
        page: page.page,
        pages: ((page.total.max(0) as u32).div_ceil(page.per_page)).max(1),
        query_base,
    };
    Ok(ctx.render(StatusCode::OK, &view))
}

pub struct MaterialRow {
    name: String,
    source: String,
    filled: bool,
    commitment_ok: bool,
    /// 原件/复印件 and copies, or nothing to hand in.
    form: &'static str,
}

/// A hall where the item is handled (办理地点), with its hours (办理时间).
pub struct GuideHall {
    code: String,
    name: String,
    address: String,
    hours: String,
    phone: String,
    open_now: bool,
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    s: StoredItem,
    department: String,
    supervisor: String,
    level: &'static str,
    audience: &'static str,
    materials: Vec<MaterialRow>,
    history: Vec<VersionEntry>,
    /// The login page, returning here (the apply button for someone not signed in).
    login_href: String,
    /// 办理流程, in order.
    steps: Vec<&'static str>,
    /// 办理地点: the first halls that handle it (city level first), and how many do.
    halls: Vec<GuideHall>,
    hall_count: usize,
    /// 结果名称: the e-licence an approval issues, or the decision's name.
    result_name: String,
    /// Whether the result is an e-licence (it goes to the wallet).
    licence_result: bool,
}

pub async fn item(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let t = ctx.t;
    let s = match store::get(&state.db, &code).await.map_err(|e| ctx.error(e.into()))? {
        Some(s) if s.status != "removed" => s,
        _ => return Err(ctx.error(ApiError::NotFound)),
    };
    let names = Names::load(&state).await.map_err(|e| ctx.error(e))?;
    let history = store::history(&state.db, &code).await.map_err(|e| ctx.error(e.into()))?;
    let materials = s
        .item
        .materials
        .iter()
        .map(|m| {
            let (zh, en) = super::domain::material_form(m);
            MaterialRow {
                name: m.name.clone(),
                source: names.source(&t, &m.source),
                filled: m.source != "applicant",
                commitment_ok: m.commitment_ok,
                form: t.pick(zh, en),
            }
        })
        .collect();
    let steps = super::domain::process_steps(&s.item).iter().map(|st| t.pick(st.zh, st.en)).collect();
    // Where: the halls that handle it, city level first.
    let overrides =
        crate::halls::store::overrides_for_item(&state.db, &code).await.map_err(|e| ctx.error(e.into()))?;
    let cal = state.calendar().await;
    let now = state.clock().beijing_now();
    let mut handling: Vec<&crate::halls::domain::HallEntry> =
        state.halls.directory.halls.iter().filter(|h| state.halls.handles(h, &s.item, &overrides)).collect();
    let rank = |level: &str| {
        ["city", "district", "street", "community"].iter().position(|l| *l == level).unwrap_or(4)
    };
    handling.sort_by_key(|h| (rank(&h.hall.level), h.hall.code.clone()));
    let hall_count = handling.len();
    let halls = handling
        .iter()
        .take(6)
        .map(|h| GuideHall {
            code: h.hall.code.clone(),
            name: h.hall.name.clone(),
            address: h.hall.address.clone(),
            hours: h.hall.hours.clone(),
            phone: h.hall.phone.clone().unwrap_or_else(|| "12345".into()),
            open_now: crate::halls::domain::is_open(&h.hours, &cal, now),
        })
        .collect();
    let licence =
        crate::licences::domain::output_for_item(&code).and_then(crate::licences::domain::find_type);
    let result_name = match licence {
        Some(ty) => t.pick(&ty.name, &crate::licences::domain::type_name_en(&ty.code)).to_string(),
        None if s.item.kind == "行政许可" => {
            t.pick("准予行政许可决定书", "Decision to grant").to_string()
        }
        None => t.pick("办理结果通知", "A notice of the result").to_string(),
    };
    let view = ItemPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        login_href: ctx.login_href(),
        department: names.department(&t, &s.item.department),
        supervisor: s.supervising_department.as_deref().map(|d| names.department(&t, d)).unwrap_or_default(),
        level: level_label(&t, &s.item.level),
        audience: audience_label(&t, &s.item.audience),
        materials,
        history,
        steps,
        halls,
        hall_count,
        licence_result: licence.is_some(),
        result_name,
        s,
    };
    Ok(ctx.render(StatusCode::OK, &view))
}

/// The item's blank application form (表格下载), to fill in by hand and bring to a window.
pub async fn application_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let s = match store::get(&state.db, &code).await.map_err(|e| ctx.error(e.into()))? {
        Some(s) if s.status != "removed" => s,
        _ => return Err(ctx.error(ApiError::NotFound)),
    };
    let names = Names::load(&state).await.map_err(|e| ctx.error(e))?;
    let zh = Tr { lang: Lang::Zh, kiosk: false };
    let fields: &[&str] = match s.item.audience.as_str() {
        "person" => &["申请人姓名", "证件类型及号码", "联系电话", "通讯地址"],
        "enterprise" => {
            &["单位名称", "统一社会信用代码", "法定代表人", "经办人及联系电话", "住所（经营场所）"]
        }
        _ => &["申请人（个人姓名或单位名称）", "证件号码或统一社会信用代码", "联系人及电话", "地址"],
    };
    let materials: Vec<(String, String)> = s
        .item
        .materials
        .iter()
        .map(|m| (m.name.clone(), super::domain::material_form(m).0.to_string()))
        .collect();
    let bytes = crate::licences::pdf::application_form_pdf(&crate::licences::pdf::BlankForm {
        item_name: &s.item.name,
        item_code: &s.item.code,
        department: &names.department(&zh, &s.item.department),
        fields,
        materials: &materials,
    });
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}-application-form.pdf\"", s.item.code),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "bundles.html")]
struct BundlesPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    bundles: Vec<Bundle>,
}

pub async fn bundles(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    // A construction project's stages are applied for from the project (one card for them).
    let mut bundles = api::load_bundles(&state).await.map_err(|e| ctx.error(e))?;
    bundles.retain(|b| !crate::projects::flows().is_stage(&b.code));
    let view = BundlesPage { t: ctx.t, user: ctx.user(), csrf: ctx.csrf.clone(), bundles };
    Ok(ctx.render(StatusCode::OK, &view))
}

/// One stage of a life on the 双全双百 page: its one-thing bundles and its items.
pub struct StageView {
    code: &'static str,
    name: &'static str,
    bundles: Vec<(String, String)>,
    items: Vec<(String, String)>,
}

/// A life: a person's or an enterprise's.
pub struct LifeTrack {
    id: &'static str,
    title: &'static str,
    stages: Vec<StageView>,
}

#[derive(Template)]
#[template(path = "life_events.html")]
struct LifeEventsPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    tracks: Vec<LifeTrack>,
}

/// 双全双百: every service along the life of a person (出生 … 身后) and of an enterprise (开办 …
/// 注销), each stage with its one-thing bundles first.
pub async fn life_events(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    use super::domain::{ENTERPRISE_STAGES, LifeStage, PERSON_STAGES, bundle_stage, in_track};
    let t = ctx.t;
    let all: Vec<crate::reference::data::CatalogItem> = store::all_active(&state.db)
        .await
        .map_err(|e| ctx.error(e.into()))?
        .into_iter()
        .map(|s| s.item)
        .collect();
    let by_code: HashMap<&str, &crate::reference::data::CatalogItem> =
        all.iter().map(|i| (i.code.as_str(), i)).collect();
    let bundles = api::load_bundles(&state).await.map_err(|e| ctx.error(e))?;
    let track = |stages: &'static [LifeStage], name: &str| -> Vec<StageView> {
        stages
            .iter()
            .map(|stage| StageView {
                code: stage.code,
                name: t.pick(stage.zh, stage.en),
                bundles: bundles
                    .iter()
                    .filter(|b| bundle_stage(b, &by_code) == Some(stage))
                    .map(|b| (b.code.clone(), b.name.clone()))
                    .collect(),
                items: all
                    .iter()
                    .filter(|i| in_track(&i.audience, name) && stage.events.contains(&i.life_event.as_str()))
                    .map(|i| (i.code.clone(), i.name.clone()))
                    .collect(),
            })
            .collect()
    };
    let page = LifeEventsPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        tracks: vec![
            LifeTrack {
                id: "person",
                title: t.pick("个人", "People"),
                stages: track(&PERSON_STAGES, "person"),
            },
            LifeTrack {
                id: "enterprise",
                title: t.pick("企业", "Enterprises"),
                stages: track(&ENTERPRISE_STAGES, "enterprise"),
            },
        ],
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

pub struct QuestionRow {
    id: String,
    text: String,
    checked: bool,
}

pub struct ResolvedMaterial {
    name: String,
    source: String,
    filled: bool,
    commitment_ok: bool,
    shared: usize,
    /// Handed in at a hall with the parts done there.
    in_person: bool,
}

#[derive(Template)]
#[template(path = "bundle.html")]
struct BundlePage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    bundle: Bundle,
    questions: Vec<QuestionRow>,
    resolved: Option<ResolvedBundle>,
    materials: Vec<ResolvedMaterial>,
    departments: Vec<String>,
    /// The login page, returning here with the answers given (for someone not signed in).
    login_href: String,
    /// Who may apply, chosen before anything else: the person (`""`) and their enterprises, as
    /// the bundle allows. Empty when signed out or when only a person can apply.
    holders: Vec<HolderChoice>,
    /// The bundle is applied for by an enterprise and the signed-in person represents none.
    no_enterprise: bool,
    /// The bundle is a construction project's stage: the project it is applied for in (from
    /// `?project=`), or none when it was opened on its own.
    stage: Option<StageContext>,
}

/// A construction project's stage as its bundle page shows it.
pub struct StageContext {
    order: u8,
    name: String,
    /// The project, when the page was opened from it.
    project: Option<StageProject>,
}

pub struct StageProject {
    code: String,
    name: String,
    /// Why the stage cannot be applied for now, if it cannot.
    refusal: Option<String>,
}

/// One possible applicant of a bundle: the person themself (`code` empty) or an enterprise.
pub struct HolderChoice {
    code: String,
    name: String,
    selected: bool,
}

pub async fn bundle(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let t = ctx.t;
    let bundle = api::load_bundles(&state)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .find(|b| b.code == code)
        .ok_or_else(|| ctx.error(ApiError::NotFound))?;
    // The questionnaire is a plain GET form (works without JavaScript): `answered=1` marks a
    // submission, each ticked question arrives as `q=<id>`.
    let submitted = params.iter().any(|(k, _)| k == "answered");
    let answers: BTreeMap<String, bool> = params
        .iter()
        .filter(|(k, _)| k == "q")
        .filter(|(_, v)| bundle.questions.iter().any(|q| &q.id == v))
        .map(|(_, v)| (v.clone(), true))
        .collect();
    let questions = bundle
        .questions
        .iter()
        .map(|q| QuestionRow { id: q.id.clone(), text: q.text.clone(), checked: answers.contains_key(&q.id) })
        .collect();
    // Who applies comes first: the licences of the parts go to that holder.
    let chosen_holder = params.iter().find(|(k, _)| k == "as").map(|(_, v)| v.as_str()).unwrap_or("");
    let mut holders = Vec::new();
    let mut no_enterprise = false;
    let citizen = ctx.user().is_some_and(|u| !u.is_staff);
    if let Some(user) = ctx.caller.user_id.as_deref().filter(|_| citizen && bundle.audience != "person") {
        let profile =
            crate::identity::store::profile(&state.db, user).await.map_err(|e| ctx.error(e.into()))?;
        if bundle.audience != "enterprise" {
            holders.push(HolderChoice {
                code: String::new(),
                name: format!("{}（{}）", t.pick("本人", "Myself"), profile.name),
                selected: false,
            });
        }
        holders.extend(profile.enterprises.iter().map(|e| HolderChoice {
            code: e.credit_code.clone(),
            name: e.name.clone(),
            selected: e.credit_code == chosen_holder,
        }));
        if !holders.iter().any(|h| h.selected)
            && let Some(first) = holders.first_mut()
        {
            first.selected = true;
        }
        no_enterprise = bundle.audience == "enterprise" && holders.is_empty();
    }
    // A project's stage: applied for in the project's builder's name, from the project.
    let stage = match crate::projects::flows().stage_of_bundle(&bundle.code) {
        None => None,
        Some((_, stage)) => {
            let wanted = params.iter().find(|(k, _)| k == "project").map(|(_, v)| v.trim()).unwrap_or("");
            let project = match crate::projects::service::view(&state, &ctx.caller, wanted).await {
                Ok(v) if !wanted.is_empty() => {
                    holders.retain(|h| h.code == v.project.enterprise);
                    holders.iter_mut().for_each(|h| h.selected = true);
                    let refusal = crate::projects::next_stage(&v.clock, stage.order)
                        .err()
                        .map(|r| t.pick(&r.message_zh(), &r.message_en()).to_string());
                    Some(StageProject { code: v.project.code, name: v.project.name, refusal })
                }
                _ => None,
            };
            Some(StageContext {
                order: stage.order,
                name: t.pick(&stage.name, &stage.name_en).to_string(),
                project,
            })
        }
    };
    let names = Names::load(&state).await.map_err(|e| ctx.error(e))?;
    let (resolved, materials, departments) = if submitted {
        let r = api::resolve(&state, &code, &answers).await.map_err(|e| ctx.error(e))?;
        let materials = r
            .materials
            .iter()
            .map(|m| ResolvedMaterial {
                name: m.name.clone(),
                source: names.source(&t, &m.source),
                filled: m.source != "applicant",
                commitment_ok: m.commitment_ok,
                shared: m.needed_by.len(),
                in_person: m.in_person,
            })
            .collect();
        let departments = r.departments.iter().map(|d| names.department(&t, d)).collect();
        (Some(r), materials, departments)
    } else {
        (None, Vec::new(), Vec::new())
    };
    let view = BundlePage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        login_href: ctx.login_href(),
        bundle,
        questions,
        resolved,
        materials,
        departments,
        holders,
        no_enterprise,
        stage,
    };
    Ok(ctx.render(StatusCode::OK, &view))
}

#[derive(Template)]
#[template(path = "catalog_admin.html")]
struct AdminPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    proposals: Vec<Proposal>,
    can_propose: bool,
    can_approve: bool,
    my_name: String,
    today: String,
    x: Extras,
}

/// What a catalog-desk page shows besides the proposals: the outcome of the last action, and the
/// import form's values so a rejected upload need not be retyped.
#[derive(Default)]
struct Extras {
    notice: Option<String>,
    problems: Option<ImportRejected>,
    errors: Vec<FieldError>,
    reason: String,
    effective_date: String,
}

impl Extras {
    fn notice(text: String) -> Extras {
        Extras { notice: Some(text), ..Extras::default() }
    }

    fn errors(errors: Vec<FieldError>) -> Extras {
        Extras { errors, ..Extras::default() }
    }
}

async fn admin_page(
    state: &AppState,
    ctx: &PageCtx,
    x: Extras,
    status: StatusCode,
) -> Result<Response, PageError> {
    let Actor::Staff { department, .. } = &ctx.caller.actor else {
        return Ok(ctx.to_login().into_response());
    };
    let actor = &ctx.caller.actor;
    let city_wide =
        authz::decide(actor, Action::Read, &Resource::CityWide(Area::CatalogProposals)) == Decision::Allow;
    let own = Resource::DepartmentData { department: department.clone() };
    let proposals = store::list_proposals(&state.db, (!city_wide).then_some(department.as_str()), None)
        .await
        .map_err(|e| ctx.error(e.into()))?;
    let view = AdminPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        proposals,
        can_propose: authz::decide(actor, Action::Update, &own) == Decision::Allow,
        can_approve: authz::decide(actor, Action::Approve, &own) == Decision::Allow,
        my_name: ctx.caller.actor.audit_name(),
        today: state.clock().today().to_string(),
        x,
    };
    Ok(ctx.render(status, &view))
}

pub async fn admin(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    admin_page(&state, &ctx, Extras::default(), StatusCode::OK).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DecisionForm {
    csrf: String,
    decision: String,
    note: String,
    version: i64,
}

pub async fn decide(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<DecisionForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let req = api::DecisionRequest { note: form.note, version: form.version };
    let approve = form.decision == "approve";
    let result = if approve {
        api::approve_proposal(State(state.clone()), ctx.caller.clone(), Path(id), crate::http::ApiJson(req))
            .await
    } else {
        api::reject_proposal(State(state.clone()), ctx.caller.clone(), Path(id), crate::http::ApiJson(req))
            .await
    };
    match result {
        Ok(axum::Json(p)) => {
            let notice = match (approve, p.status.as_str()) {
                (false, _) => ctx.t.s("catalog.rejected_notice").to_string(),
                (true, "applied") => ctx.t.s("catalog.applied_notice").to_string(),
                (true, _) => format!("{}{}", ctx.t.s("catalog.approved_notice"), p.effective_date),
            };
            admin_page(&state, &ctx, Extras::notice(notice), StatusCode::OK).await
        }
        Err(ApiError::Validation(errors)) => {
            admin_page(&state, &ctx, Extras::errors(errors), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e @ ApiError::Conflict { .. }) => {
            let (_, zh, en) = e.describe();
            let msg = if ctx.t.lang == Lang::En { en } else { zh };
            admin_page(&state, &ctx, Extras::notice(msg), StatusCode::CONFLICT).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

/// The import upload (multipart: csrf, reason, effective_date, file).
pub async fn upload(
    State(state): State<AppState>,
    ctx: PageCtx,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = form.next_field().await.map_err(|_| ctx.error(bad_upload()))? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let filename = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|_| ctx.error(bad_upload()))?;
            file = Some((filename, bytes.to_vec()));
        } else {
            let text = field.text().await.map_err(|_| ctx.error(bad_upload()))?;
            fields.insert(name, text);
        }
    }
    ctx.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or(""))?;
    let Some((filename, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let x = Extras {
            errors: vec![FieldError::required("file", "清单文件", "A catalog file")],
            reason: fields.remove("reason").unwrap_or_default(),
            effective_date: fields.remove("effective_date").unwrap_or_default(),
            ..Extras::default()
        };
        return admin_page(&state, &ctx, x, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let q = ImportQuery {
        reason: fields.remove("reason").unwrap_or_default(),
        effective_date: fields.remove("effective_date").unwrap_or_default(),
        format: String::new(),
        filename: filename.clone(),
    };
    // Kept for the form when the upload is refused.
    let typed =
        |x: Extras| Extras { reason: q.reason.clone(), effective_date: q.effective_date.clone(), ..x };
    let format = Format::from_filename(&filename).or_else(|| Format::sniff(&bytes));
    match api::import(
        &state,
        api::Importer::User(&ctx.caller.actor),
        format,
        &bytes,
        &q,
        "web",
        &mut |_, _| {},
    )
    .await
    {
        Ok(Ok(p)) => {
            let notice = if ctx.t.is_en() {
                format!(
                    "Import recorded as proposal {} with {} change(s); an approver decides it.",
                    &p.id[..8],
                    p.change_count
                )
            } else {
                format!("已生成调整申请 {}（{}项变更），待审批人审核。", &p.id[..8], p.change_count)
            };
            admin_page(&state, &ctx, Extras::notice(notice), StatusCode::CREATED).await
        }
        Ok(Err(rejected)) => {
            let x = typed(Extras { problems: Some(rejected), ..Extras::default() });
            admin_page(&state, &ctx, x, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(ApiError::Validation(errors)) => {
            admin_page(&state, &ctx, typed(Extras::errors(errors)), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

fn bad_upload() -> ApiError {
    ApiError::BadRequest {
        code: "bad_upload",
        zh: "上传的文件无法读取".into(),
        en: "The uploaded file could not be read".into(),
    }
}
