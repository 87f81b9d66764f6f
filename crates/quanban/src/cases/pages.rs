//! Case pages: applying one topic per screen with drafts and a check-your-answers page, my cases
//! and the inbox, the case page with its timeline and the actions the reader may take, the staff
//! workbench (department queue, general-window intake and delivery, post-checks), supervision
//! lights, and the printable decision document.

use std::collections::BTreeMap;

use crate::http::extract::{Path, Query};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Multipart;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{self as case_api, LightCounts, ListQuery, Supervision, multipart_error};
use super::domain::{CaseAction, CaseState, Light};
use super::intake::{self, ApplicationForm};
use super::service::{self, ActionRequest, ApplyRequest, CommitmentInput, MaterialInput};
use super::store::{self, CaseRecord, Draft, Queue};
use crate::app::AppState;
use crate::catalog;
use crate::catalog::pages::Names;
use crate::http::{ApiError, FieldError};
use crate::identity::authz::Actor;
use crate::licences::store::CredentialRecord;
use crate::web::i18n::Tr;
use crate::web::page::{PageCtx, PageError, UserChip};

pub(crate) fn light_class(l: Light) -> &'static str {
    match l {
        Light::Green => "light green",
        Light::Yellow => "light yellow",
        Light::Red => "light red",
        Light::None => "light none",
    }
}

pub(crate) fn light_label(t: &Tr, l: Light) -> &'static str {
    match l {
        Light::Green => t.s("case.light_green"),
        Light::Yellow => t.s("case.light_yellow"),
        Light::Red => t.s("case.light_red"),
        Light::None => t.s("case.light_none"),
    }
}

fn state_label(t: &Tr, s: CaseState) -> &'static str {
    t.pick(s.label_zh(), s.label_en())
}

/// One line of a case list.
pub struct CaseLine {
    number: String,
    title: String,
    department: String,
    applicant: String,
    state: String,
    due: String,
    light_class: &'static str,
    light: &'static str,
    /// A part done at a hall still waiting for the applicant's visit.
    awaiting_visit: bool,
}

fn lines(
    t: &Tr,
    names: &Names,
    cases: &[CaseRecord],
    state: &AppState,
    cal: &crate::calendar::domain::Calendar,
) -> Vec<CaseLine> {
    let now = state.clock().now();
    let today = crate::platform::clock::beijing_date(now);
    cases
        .iter()
        .map(|c| {
            let l = c.light(cal, now, state.config.yellow_days);
            CaseLine {
                number: c.number.clone(),
                title: c.title.clone(),
                department: names.department(t, &c.department),
                applicant: c.applicant_name.clone(),
                state: state_label(t, c.state).into(),
                due: c
                    .due_now(cal, today)
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_else(|| "—".into()),
                light_class: light_class(l),
                light: light_label(t, l),
                awaiting_visit: c.in_person && c.state == CaseState::Submitted,
            }
        })
        .collect()
}

fn require_login(ctx: &PageCtx) -> Result<String, Redirect> {
    ctx.caller.user_id.clone().ok_or_else(|| ctx.to_login())
}

// ---------------------------------------------------------------------------------------------
// Applying
// ---------------------------------------------------------------------------------------------

/// What is being applied for, as the steps show it.
struct Target {
    code: String,
    name: String,
    is_bundle: bool,
    commitment_allowed: bool,
    needs_enterprise: bool,
    /// Whether an enterprise may apply (not for personal items and bundles).
    accepts_enterprise: bool,
    materials: Vec<TargetMaterial>,
    /// A bundle's questions: id → text.
    questions: BTreeMap<String, String>,
    /// A bundle's parts that cannot be applied for online (到厅办理): (code, name).
    in_person_items: Vec<(String, String)>,
}

/// One material the steps ask for.
struct TargetMaterial {
    name: String,
    /// Where it comes from, as people read it.
    source_label: String,
    /// Whether a commitment can replace it.
    commitment_ok: bool,
    /// The raw source, such as `elicence:id_card`.
    source: String,
    /// Only parts done at a hall need it: it is handed in there, not uploaded.
    in_person: bool,
    /// A bundle's materials are grouped by the first part that asks for one; the other parts
    /// that need the same paper are named beside it (asked once, used by all).
    first_part: String,
    also_for: Vec<String>,
}

async fn target_of(state: &AppState, t: &Tr, draft: &Draft) -> Result<Target, ApiError> {
    let names = Names::load(state).await?;
    if let Some(code) = &draft.item_code {
        let s = catalog::store::get(&state.db, code).await?.ok_or(ApiError::NotFound)?;
        return Ok(Target {
            code: code.clone(),
            name: s.item.name.clone(),
            is_bundle: false,
            commitment_allowed: s.item.commitment,
            needs_enterprise: s.item.audience == "enterprise",
            accepts_enterprise: s.item.audience != "person",
            materials: s
                .item
                .materials
                .iter()
                .map(|m| TargetMaterial {
                    name: m.name.clone(),
                    source_label: names.source(t, &m.source),
                    commitment_ok: m.commitment_ok && s.item.commitment,
                    source: m.source.clone(),
                    in_person: false,
                    first_part: String::new(),
                    also_for: Vec::new(),
                })
                .collect(),
            questions: BTreeMap::new(),
            in_person_items: Vec::new(),
        });
    }
    let code = draft.bundle_code.clone().ok_or(ApiError::NotFound)?;
    let answers: BTreeMap<String, bool> =
        serde_json::from_value(draft.data.get("answers").cloned().unwrap_or(json!({}))).unwrap_or_default();
    let r = catalog::api::resolve(state, &code, &answers).await?;
    let bundle = catalog::api::load_bundles(state).await?.into_iter().find(|b| b.code == code);
    let accepts_enterprise = bundle.as_ref().is_some_and(|b| b.audience != "person");
    let questions =
        bundle.map(|b| b.questions.into_iter().map(|q| (q.id, q.text)).collect()).unwrap_or_default();
    // A clerk registering a walk-in at a window takes every part's papers there and then.
    let at_window = draft.data.get("applicant_phone").is_some();
    let mut commitment_allowed = false;
    let mut needs_enterprise = false;
    for part in &r.items {
        if let Some(s) = catalog::store::get(&state.db, &part.code).await? {
            commitment_allowed |= s.item.commitment;
            needs_enterprise |= s.item.audience == "enterprise";
        }
    }
    Ok(Target {
        code,
        name: r.name.clone(),
        is_bundle: true,
        commitment_allowed,
        needs_enterprise,
        accepts_enterprise,
        materials: r
            .materials
            .iter()
            .map(|m| {
                let in_person = m.in_person && !at_window;
                let part_name =
                    |code: &String| r.items.iter().find(|i| &i.code == code).map(|i| i.name.clone());
                TargetMaterial {
                    name: m.name.clone(),
                    source_label: names.source(t, &m.source),
                    commitment_ok: m.commitment_ok && commitment_allowed && !in_person,
                    source: m.source.clone(),
                    in_person,
                    first_part: m.needed_by.first().and_then(part_name).unwrap_or_default(),
                    also_for: m.needed_by.iter().skip(1).filter_map(part_name).collect(),
                }
            })
            .collect(),
        questions,
        in_person_items: r
            .items
            .iter()
            .filter(|i| !i.online && !at_window)
            .map(|i| (i.code.clone(), i.name.clone()))
            .collect(),
    })
}

/// Starts an application: a draft is created and the first step shown.
pub async fn start_item(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Form(f): Form<StartForm>,
) -> Result<Response, PageError> {
    let user = match require_login(&ctx) {
        Ok(u) => u,
        Err(r) => return Ok(r.into_response()),
    };
    ctx.check_csrf(&f.csrf)?;
    catalog::store::get(&state.db, &code)
        .await
        .map_err(|e| ctx.error(e.into()))?
        .ok_or(ctx.error(ApiError::NotFound))?;
    // From the benefits page: the policy and the enterprise are chosen already.
    let mut data = json!({});
    if !f.policy.trim().is_empty() {
        data["policy"] = json!(f.policy.trim());
    }
    if !f.enterprise.trim().is_empty() {
        data["enterprise"] = json!(f.enterprise.trim());
    }
    let d = store::create_draft(&state.db, &user, Some(code), None, data)
        .await
        .map_err(|e| ctx.error(e.into()))?;
    Ok(Redirect::to(&format!("/drafts/{}/contact", d.id)).into_response())
}

/// Starts a bundle application with the questionnaire's answers (`q1=yes` …).
pub async fn start_bundle(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Form(f): Form<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let user = match require_login(&ctx) {
        Ok(u) => u,
        Err(r) => return Ok(r.into_response()),
    };
    ctx.check_csrf(f.get("csrf").map(String::as_str).unwrap_or(""))?;
    let answers: BTreeMap<String, bool> =
        f.iter().filter(|(k, _)| k.starts_with('q')).map(|(k, v)| (k.clone(), v == "yes")).collect();
    catalog::api::resolve(&state, &code, &answers).await.map_err(|e| ctx.error(e))?;
    let mut data = json!({"answers": answers});
    // The holder chosen on the bundle page: the person (empty) or one of their enterprises.
    let enterprise = f.get("enterprise").map(|e| e.trim()).unwrap_or("");
    if !enterprise.is_empty() {
        let profile =
            crate::identity::store::profile(&state.db, &user).await.map_err(|e| ctx.error(e.into()))?;
        if !profile.enterprises.iter().any(|e| e.credit_code == enterprise) {
            return Err(ctx.error(ApiError::Validation(vec![FieldError::new(
                "enterprise",
                "not_your_enterprise",
                "所选企业不在您可代表的企业之列，请重新选择办理主体",
                "You do not represent the enterprise chosen; choose the applicant again",
            )])));
        }
        data["enterprise"] = json!(enterprise);
    }
    // A project's stage: checked now, so that a stage not open yet is said here, not at the end.
    let project = f.get("project").map(|p| p.trim()).unwrap_or("");
    if !project.is_empty() {
        let enterprise = Some(enterprise).filter(|e| !e.is_empty());
        if let Err(e) = crate::projects::service::stage_claim(&state, &ctx.caller, project, &code, enterprise)
            .await
            .map_err(|e| ctx.error(e))?
        {
            return Err(ctx.error(ApiError::Validation(vec![e])));
        }
        data["project"] = json!(project);
    }
    let d = store::create_draft(&state.db, &user, None, Some(code), data)
        .await
        .map_err(|e| ctx.error(e.into()))?;
    Ok(Redirect::to(&format!("/drafts/{}/contact", d.id)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfOnly {
    pub csrf: String,
}

/// Starting an item's application, optionally with the policy (the policy window) and the
/// enterprise already chosen.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartForm {
    pub csrf: String,
    pub policy: String,
    pub enterprise: String,
}

/// A policy the policy window's applicant may choose.
pub struct PolicyChoice {
    code: String,
    name: String,
    selected: bool,
}

async fn own_draft(state: &AppState, ctx: &PageCtx, id: &str) -> Result<Draft, PageError> {
    let user = ctx.caller.user_id.clone().ok_or(ctx.error(ApiError::Unauthenticated))?;
    match store::get_draft(&state.db, id).await.map_err(|e| ctx.error(e.into()))? {
        Some(d) if d.owner_id == user => Ok(d),
        _ => Err(ctx.error(ApiError::NotFound)),
    }
}

pub struct EnterpriseChoice {
    code: String,
    name: String,
    selected: bool,
}

pub struct MaterialStep {
    index: usize,
    name: String,
    source: String,
    commitment_ok: bool,
    /// Handed in at a hall with the parts done there (no upload box).
    in_person: bool,
    file_name: Option<String>,
    /// A wallet card that can prove this material, if the applicant holds one.
    wallet: Option<WalletOffer>,
    wallet_chosen: bool,
    /// The applicant provides it (an upload, or the commitment where allowed); other materials
    /// are fetched by the department from e-licences or shared data.
    from_applicant: bool,
    /// A bundle's part that first asks for it, and the other parts that use it too.
    part: String,
    also_for: Vec<String>,
    /// The first line of its part in the upload list: the part's name is shown above it.
    starts_part: bool,
}

/// One consent for a wallet card, covering every material it stands in for.
pub struct WalletConsent {
    id: String,
    label: String,
    used_for: Vec<String>,
    chosen: bool,
}

/// What the materials step asks of the applicant, counted before the check page.
#[derive(Default)]
pub struct MaterialTally {
    /// To upload (the applicant's own papers not replaced by the commitment or a wallet card).
    to_upload: usize,
    /// Of those, already uploaded.
    uploaded: usize,
    /// Fetched by the department or proven by a wallet card: nothing to hand in.
    fetched: usize,
    /// Shown at a hall for the parts done there.
    at_hall: usize,
}

impl MaterialTally {
    fn of(materials: &[MaterialStep], commitment: bool) -> MaterialTally {
        let mut tally = MaterialTally::default();
        for m in materials {
            if m.in_person {
                tally.at_hall += 1;
            } else if m.wallet_chosen || !m.from_applicant {
                tally.fetched += 1;
            } else if !(commitment && m.commitment_ok) {
                tally.to_upload += 1;
                tally.uploaded += usize::from(m.file_name.is_some());
            }
        }
        tally
    }

    /// Papers the applicant still has to upload.
    fn missing(&self) -> usize {
        self.to_upload - self.uploaded
    }
}

/// One question of a bundle's questionnaire, as answered in the draft.
pub struct AnswerRow {
    id: String,
    text: String,
    checked: bool,
}

pub struct WalletOffer {
    id: String,
    label: String,
    /// The applicant ticked it (consent to use it for this application).
    chosen: bool,
}

#[derive(Template)]
#[template(path = "apply.html")]
struct ApplyPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    draft_id: String,
    version: i64,
    step: &'static str,
    step_no: u8,
    target_name: String,
    target_code: String,
    is_bundle: bool,
    needs_enterprise: bool,
    accepts_enterprise: bool,
    commitment_allowed: bool,
    enterprises: Vec<EnterpriseChoice>,
    form: ApplicationForm,
    enterprise_name: String,
    commitment: bool,
    commitment_text: String,
    materials: Vec<MaterialStep>,
    /// One consent per wallet card (the materials step).
    consents: Vec<WalletConsent>,
    tally: MaterialTally,
    /// Who applies, as the check page says it: the enterprise, or the person by name.
    applicant_name: String,
    answers: Vec<(String, bool)>,
    /// Set when a window clerk registers this application for a walk-in applicant.
    walk_in: Option<String>,
    /// The policy window: the policies open for application today, and the one chosen.
    policies: Vec<PolicyChoice>,
    policy_name: String,
    /// A bundle's parts done at a hall: (code, name).
    in_person_items: Vec<(String, String)>,
    /// A bundle's questionnaire with the draft's answers (the answers step).
    questions: Vec<AnswerRow>,
    errors: Vec<FieldError>,
}

async fn render_step(
    state: &AppState,
    ctx: &PageCtx,
    draft: &Draft,
    step: &'static str,
    errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    let t = ctx.t;
    let target = target_of(state, &t, draft).await.map_err(|e| ctx.error(e))?;
    let walk_in_phone = draft.data.get("applicant_phone").and_then(Value::as_str).map(str::to_string);
    let user = applicant_of(state, ctx, draft).await?;
    let profile = crate::identity::store::profile(&state.db, &user).await.map_err(|e| ctx.error(e.into()))?;
    let data = &draft.data;
    let mut form: ApplicationForm =
        serde_json::from_value(data.get("form").cloned().unwrap_or(json!({}))).unwrap_or_default();
    if form.contact_name.is_empty() && data.get("form").is_none() {
        form.contact_name = profile.name.clone();
    }
    let chosen = data.get("enterprise").and_then(Value::as_str).unwrap_or("").to_string();
    let enterprises: Vec<EnterpriseChoice> = profile
        .enterprises
        .iter()
        .map(|e| EnterpriseChoice {
            code: e.credit_code.clone(),
            name: e.name.clone(),
            selected: e.credit_code == chosen,
        })
        .collect();
    let enterprise_name = enterprises.iter().find(|e| e.selected).map(|e| e.name.clone()).unwrap_or_default();
    let commitment = data.get("commitment").and_then(Value::as_bool).unwrap_or(false);
    let files = data.get("files").cloned().unwrap_or(json!({}));
    // Cards from the applicant's wallet that can stand in for a material (免提交).
    let wallet = crate::licences::service::wallet(&state.db, &user).await.map_err(|e| ctx.error(e.into()))?;
    let offers = wallet_offers(&target, &wallet, &user, &chosen, state.clock().now());
    let chosen_credentials = data.get("credentials").cloned().unwrap_or(json!({}));
    let consented =
        |i: usize, id: &str| chosen_credentials.get(i.to_string()).and_then(Value::as_str) == Some(id);
    let materials: Vec<MaterialStep> = target
        .materials
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let wallet = offers[i].map(|c| WalletOffer {
                id: c.id.clone(),
                label: crate::licences::pages::plain_name(t, c, state.clock().now()),
                chosen: consented(i, &c.id),
            });
            MaterialStep {
                index: i,
                name: m.name.clone(),
                source: m.source_label.clone(),
                commitment_ok: m.commitment_ok,
                in_person: m.in_person,
                wallet_chosen: wallet.as_ref().is_some_and(|w| w.chosen),
                wallet,
                from_applicant: m.source == "applicant",
                part: m.first_part.clone(),
                also_for: m.also_for.clone(),
                starts_part: false,
                file_name: files
                    .get(i.to_string())
                    .and_then(|f| f.get("file_name"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
            }
        })
        .collect();
    let mut materials = materials;
    let mut previous_part = String::new();
    for m in materials.iter_mut().filter(|m| !m.in_person) {
        m.starts_part = !m.part.is_empty() && m.part != previous_part;
        previous_part.clone_from(&m.part);
    }
    // One consent per card, whatever number of materials it stands in for.
    let mut consents: Vec<WalletConsent> = Vec::new();
    for m in &materials {
        let Some(w) = &m.wallet else { continue };
        match consents.iter_mut().find(|c| c.id == w.id) {
            Some(c) => {
                c.used_for.push(m.name.clone());
                c.chosen &= w.chosen;
            }
            None => consents.push(WalletConsent {
                id: w.id.clone(),
                label: w.label.clone(),
                used_for: vec![m.name.clone()],
                chosen: w.chosen,
            }),
        }
    }
    let tally = MaterialTally::of(&materials, commitment);
    let answers = data
        .get("answers")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (target.questions.get(k).cloned().unwrap_or(k.clone()), v.as_bool().unwrap_or(false))
                })
                .collect()
        })
        .unwrap_or_default();
    let replaced: Vec<&str> =
        target.materials.iter().filter(|m| m.commitment_ok).map(|m| m.name.as_str()).collect();
    let chosen_policy = data.get("policy").and_then(Value::as_str).unwrap_or("");
    let policies: Vec<PolicyChoice> = if target.code == crate::policies::window::WINDOW_ITEM {
        let today = state.clock().today();
        crate::policies::service::in_force(state)
            .await
            .map_err(|e| ctx.error(e))?
            .into_iter()
            .filter(|p| {
                p.mode == crate::policies::library::Mode::OnApplication
                    && (p.window.0..=p.window.1).contains(&today)
            })
            .map(|p| PolicyChoice { selected: p.code == chosen_policy, code: p.code, name: p.name })
            .collect()
    } else {
        Vec::new()
    };
    let policy_name = policies.iter().find(|p| p.selected).map(|p| p.name.clone()).unwrap_or_default();
    let page = ApplyPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        draft_id: draft.id.clone(),
        version: draft.version,
        step,
        step_no: match step {
            "contact" => 1,
            "materials" => 2,
            _ => 3,
        },
        // The policy window's application is named by its policy, as its case will be.
        target_name: if policy_name.is_empty() {
            target.name.clone()
        } else {
            format!("惠企政策兑现申请：{policy_name}")
        },
        target_code: target.code.clone(),
        is_bundle: target.is_bundle,
        needs_enterprise: target.needs_enterprise,
        accepts_enterprise: target.accepts_enterprise,
        commitment_allowed: target.commitment_allowed,
        enterprises,
        form,
        enterprise_name,
        commitment,
        commitment_text: intake::commitment_text(&target.name, &replaced),
        materials,
        consents,
        tally,
        applicant_name: profile.name.clone(),
        answers,
        walk_in: walk_in_phone.map(|p| format!("{}（{}）", profile.name, p)),
        policies,
        policy_name,
        in_person_items: target.in_person_items.clone(),
        questions: target
            .questions
            .iter()
            .map(|(id, text)| AnswerRow {
                id: id.clone(),
                text: text.clone(),
                checked: data
                    .get("answers")
                    .and_then(|a| a.get(id))
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            })
            .collect(),
        errors,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.render(status, &page))
}

/// Whose application a draft is: the signed-in person's, or, when a window clerk registers a
/// walk-in, the applicant's (their wallet and enterprises are the ones that count).
async fn applicant_of(state: &AppState, ctx: &PageCtx, draft: &Draft) -> Result<String, PageError> {
    match draft.data.get("applicant_phone").and_then(Value::as_str) {
        Some(phone) => crate::identity::store::person_by_phone(&state.db, &state.vault, phone)
            .await
            .map_err(|e| ctx.error(e.into()))?
            .ok_or(ctx.error(ApiError::NotFound)),
        None => Ok(ctx.caller.user_id.clone().unwrap_or_default()),
    }
}

/// The wallet card that can stand in for each material (免提交), by material index: an active
/// card of the material's e-licence type held by the applicant, or by the enterprise applying.
/// What is handed in at a hall is never offered.
fn wallet_offers<'w>(
    target: &Target,
    wallet: &'w [CredentialRecord],
    user: &str,
    enterprise: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<Option<&'w CredentialRecord>> {
    target
        .materials
        .iter()
        .map(|m| {
            let ty = m.source.strip_prefix("elicence:").filter(|_| !m.in_person)?;
            wallet.iter().find(|c| {
                c.type_code == ty
                    && crate::licences::service::shown_status(c, now) == "active"
                    && (c.holder_user_id.as_deref() == Some(user)
                        || (!enterprise.is_empty() && c.holder_credit_code.as_deref() == Some(enterprise)))
            })
        })
        .collect()
}

async fn step_page(
    state: &AppState,
    ctx: &PageCtx,
    id: &str,
    step: &'static str,
) -> Result<Response, PageError> {
    if let Err(r) = require_login(ctx) {
        return Ok(r.into_response());
    }
    let draft = own_draft(state, ctx, id).await?;
    render_step(state, ctx, &draft, step, Vec::new()).await
}

/// Step 1: applicant and contact details.
pub async fn contact_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    step_page(&state, &ctx, &id, "contact").await
}

/// Step 2: materials and the commitment.
pub async fn materials_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    step_page(&state, &ctx, &id, "materials").await
}

/// Step 3: check your answers.
pub async fn check_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    step_page(&state, &ctx, &id, "check").await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContactForm {
    pub csrf: String,
    pub version: i64,
    pub enterprise: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub address: String,
    pub description: String,
    pub email: String,
    /// The policy window only: the policy applied for.
    pub policy: Option<String>,
}

/// Step 1 saved: the form is checked now so that mistakes are fixed where they were made.
pub async fn save_contact(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<ContactForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let draft = own_draft(&state, &ctx, &id).await?;
    let mut form = ApplicationForm {
        contact_name: f.contact_name,
        contact_phone: f.contact_phone,
        address: f.address,
        description: f.description,
        email: f.email,
    };
    let errors = form.validate();
    let mut data = draft.data.clone();
    data["form"] = serde_json::to_value(&form).unwrap_or(json!({}));
    data["enterprise"] = json!(f.enterprise.trim());
    if let Some(policy) = &f.policy {
        data["policy"] = json!(policy.trim());
    }
    let saved = store::save_draft(&state.db, &id, data, f.version).await.map_err(|e| ctx.error(e.into()))?;
    if !errors.is_empty() {
        return render_step(&state, &ctx, &saved, "contact", errors).await;
    }
    Ok(Redirect::to(&format!("/drafts/{id}/materials")).into_response())
}

/// Step 2 saved: uploaded files are checked and stored; the commitment choice is kept.
pub async fn save_materials(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let user = ctx.caller.user_id.clone().ok_or(ctx.error(ApiError::Unauthenticated))?;
    let draft = own_draft(&state, &ctx, &id).await?;
    let target = target_of(&state, &ctx.t, &draft).await.map_err(|e| ctx.error(e))?;
    let mut csrf = String::new();
    let mut version = draft.version;
    let mut commitment = false;
    let mut data = draft.data.clone();
    if !data.get("files").is_some_and(Value::is_object) {
        data["files"] = json!({});
    }
    let mut errors = Vec::new();
    let mut checked_csrf = false;
    // Unticked boxes are not sent: the cards consented to are exactly the ones in this form.
    let mut consented: Vec<String> = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|e| ctx.error(multipart_error(e)))? {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "version" => version = field.text().await.unwrap_or_default().parse().unwrap_or(version),
            "commitment" => commitment = field.text().await.unwrap_or_default() == "yes",
            "use_credential" => consented.push(field.text().await.unwrap_or_default()),
            n if n.starts_with("file_") => {
                if !checked_csrf {
                    // Files are stored as they stream in, so the token is checked first.
                    ctx.check_csrf(&csrf)?;
                    checked_csrf = true;
                }
                let Ok(index) = n["file_".len()..].parse::<usize>() else { continue };
                // Nothing is uploaded for what is handed in at a hall.
                let Some(material) = target.materials.get(index).filter(|m| !m.in_person).map(|m| &m.name)
                else {
                    continue;
                };
                let file_name = field.file_name().unwrap_or("").to_string();
                let bytes = field.bytes().await.map_err(|e| ctx.error(multipart_error(e)))?;
                if file_name.is_empty() && bytes.is_empty() {
                    continue;
                }
                let size = bytes.len();
                match service::store_file(&state, &user, &file_name, bytes.to_vec())
                    .await
                    .map_err(|e| ctx.error(e))?
                {
                    Ok((hash, kind)) => {
                        data["files"][index.to_string()] = json!({
                            "hash": hash, "file_name": file_name, "size": size, "content_type": kind.content_type(),
                        });
                    }
                    Err(p) => errors.push(crate::platform::uploads::file_error(
                        &format!("file_{index}"),
                        material,
                        p,
                    )),
                }
            }
            _ => {}
        }
    }
    if !checked_csrf {
        ctx.check_csrf(&csrf)?;
    }
    data["commitment"] = json!(commitment && target.commitment_allowed);
    // One consent covers every material the card stands in for; a card that is not on offer
    // (someone else's, expired, or for a paper handed in at a hall) is ignored.
    let applicant = applicant_of(&state, &ctx, &draft).await?;
    let wallet =
        crate::licences::service::wallet(&state.db, &applicant).await.map_err(|e| ctx.error(e.into()))?;
    let enterprise = data.get("enterprise").and_then(Value::as_str).unwrap_or("").to_string();
    let credentials: serde_json::Map<String, Value> =
        wallet_offers(&target, &wallet, &applicant, &enterprise, state.clock().now())
            .into_iter()
            .enumerate()
            .filter_map(|(i, offer)| {
                offer.filter(|c| consented.contains(&c.id)).map(|c| (i.to_string(), json!(c.id)))
            })
            .collect();
    data["credentials"] = Value::Object(credentials);
    let saved = store::save_draft(&state.db, &id, data, version).await.map_err(|e| ctx.error(e.into()))?;
    if !errors.is_empty() {
        return render_step(&state, &ctx, &saved, "materials", errors).await;
    }
    Ok(Redirect::to(&format!("/drafts/{id}/check")).into_response())
}

/// The bundle's questionnaire again, from the check page's 修改 links.
pub async fn answers_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    step_page(&state, &ctx, &id, "answers").await
}

/// Saves changed answers. The answers decide a bundle's parts and so its merged materials: files
/// and wallet cards chosen earlier are carried over by material name (a material no longer asked
/// for is dropped), and the applicant sees the materials step again.
pub async fn save_answers(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    ctx.check_csrf(field("csrf"))?;
    let draft = own_draft(&state, &ctx, &id).await?;
    if draft.bundle_code.is_none() {
        return Err(ctx.error(ApiError::NotFound));
    }
    let version = field("version").parse().unwrap_or(draft.version);
    let before = target_of(&state, &ctx.t, &draft).await.map_err(|e| ctx.error(e))?;
    let answers: BTreeMap<String, bool> =
        before.questions.keys().map(|q| (q.clone(), f.iter().any(|(k, v)| k == "q" && v == q))).collect();
    let mut changed = draft.clone();
    changed.data["answers"] = json!(answers);
    let after = target_of(&state, &ctx.t, &changed).await.map_err(|e| ctx.error(e))?;
    for key in ["files", "credentials"] {
        let Some(old) = draft.data.get(key).and_then(Value::as_object) else { continue };
        let moved: serde_json::Map<String, Value> = old
            .iter()
            .filter_map(|(k, v)| {
                let name = &before.materials.get(k.parse::<usize>().ok()?)?.name;
                let index = after.materials.iter().position(|m| &m.name == name && !m.in_person)?;
                Some((index.to_string(), v.clone()))
            })
            .collect();
        changed.data[key] = Value::Object(moved);
    }
    store::save_draft(&state.db, &id, changed.data, version).await.map_err(|e| ctx.error(e.into()))?;
    Ok(Redirect::to(&format!("/drafts/{id}/materials")).into_response())
}

/// Submits the draft: the same rules as the API; problems send the applicant back to the step
/// where the field is.
pub async fn submit_draft(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let draft = own_draft(&state, &ctx, &id).await?;
    let data = &draft.data;
    let files: Vec<MaterialInput> = data
        .get("files")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| MaterialInput {
                    index: k.parse().ok(),
                    upload: v.get("hash").and_then(Value::as_str).map(str::to_string),
                    file_name: v.get("file_name").and_then(Value::as_str).map(str::to_string),
                    ..Default::default()
                })
                .collect()
        })
        .unwrap_or_default();
    let mut files = files;
    if let Some(chosen) = data.get("credentials").and_then(Value::as_object) {
        for (k, v) in chosen {
            let Ok(index) = k.parse::<usize>() else { continue };
            // An uploaded file wins over a wallet card for the same material.
            if files.iter().any(|f| f.index == Some(index)) {
                continue;
            }
            files.push(MaterialInput {
                index: Some(index),
                credential: v.as_str().map(str::to_string),
                ..Default::default()
            });
        }
    }
    let req = ApplyRequest {
        item_code: draft.item_code.clone(),
        bundle_code: draft.bundle_code.clone(),
        answers: serde_json::from_value(data.get("answers").cloned().unwrap_or(json!({})))
            .unwrap_or_default(),
        enterprise: data
            .get("enterprise")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        form: serde_json::from_value(data.get("form").cloned().unwrap_or(json!({}))).unwrap_or_default(),
        materials: files,
        commitment: data.get("commitment").and_then(Value::as_bool).map(CommitmentInput::Flag),
        applicant_phone: data.get("applicant_phone").and_then(Value::as_str).map(str::to_string),
        assistance_id: None,
        policy: data.get("policy").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string),
        project: data.get("project").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string),
    };
    match service::apply(&state, &ctx.caller, req).await {
        Ok((number, _)) => {
            store::delete_draft(&state.db, &id).await.map_err(|e| ctx.error(e.into()))?;
            Ok(Redirect::to(&format!("/cases/{number}?submitted=1")).into_response())
        }
        Err(ApiError::Validation(errors)) => {
            let step = if errors
                .iter()
                .any(|e| e.field.starts_with("form.") || e.field == "enterprise" || e.field == "policy")
            {
                "contact"
            } else if errors.iter().any(|e| e.field.starts_with("materials") || e.field == "commitment") {
                "materials"
            } else {
                "check"
            };
            render_step(&state, &ctx, &draft, step, errors).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

pub async fn discard_draft(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    own_draft(&state, &ctx, &id).await?;
    store::delete_draft(&state.db, &id).await.map_err(|e| ctx.error(e.into()))?;
    Ok(Redirect::to("/my/cases").into_response())
}

// ---------------------------------------------------------------------------------------------
// My cases and the inbox
// ---------------------------------------------------------------------------------------------

pub struct DraftLine {
    id: String,
    title: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "my_cases.html")]
struct MyCasesPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    cases: Vec<CaseLine>,
    drafts: Vec<DraftLine>,
    unread: i64,
}

pub async fn my_cases(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let user = match require_login(&ctx) {
        Ok(u) => u,
        Err(r) => return Ok(r.into_response()),
    };
    if matches!(ctx.caller.actor, Actor::Staff { .. }) {
        return Ok(Redirect::to("/workbench").into_response());
    }
    let t = ctx.t;
    let cases =
        case_api::list_for(&state, &ctx.caller, &ListQuery::default()).await.map_err(|e| ctx.error(e))?;
    let names = Names::load(&state).await.map_err(|e| ctx.error(e))?;
    let cal = state.calendar().await;
    let mut drafts = Vec::new();
    for d in store::drafts_of(&state.db, &user).await.map_err(|e| ctx.error(e.into()))? {
        let title = match (&d.item_code, &d.bundle_code) {
            (Some(c), _) => catalog::store::get(&state.db, c)
                .await
                .ok()
                .flatten()
                .map(|s| s.item.name)
                .unwrap_or(c.clone()),
            (None, Some(b)) => b.clone(),
            _ => String::new(),
        };
        drafts.push(DraftLine {
            id: d.id,
            title,
            updated: crate::platform::clock::shown_time(&d.updated_at),
        });
    }
    let page = MyCasesPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        cases: lines(&t, &names, &cases, &state, &cal),
        drafts,
        unread: store::unread_count(&state.db, &user).await.map_err(|e| ctx.error(e.into()))?,
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

pub struct NoteLine {
    title: String,
    body: String,
    at: String,
    unread: bool,
    /// What the message is about: a case, or a complaint.
    link: Option<String>,
    /// The one-tap rating link a finished case's message carries.
    rate_link: Option<String>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    notes: Vec<NoteLine>,
}

pub async fn inbox(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let user = match require_login(&ctx) {
        Ok(u) => u,
        Err(r) => return Ok(r.into_response()),
    };
    let t = ctx.t;
    let notes = store::inbox(&state.db, &user, 100)
        .await
        .map_err(|e| ctx.error(e.into()))?
        .into_iter()
        .map(|n| NoteLine {
            title: t.pick(&n.title_zh, &n.title_en).to_string(),
            body: t.pick(&n.body_zh, &n.body_en).to_string(),
            at: crate::platform::clock::shown_time(&n.created_at),
            unread: n.read_at.is_none(),
            rate_link: n.body_zh.find("/rate/").map(|at| {
                n.body_zh[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "/-_.".contains(*c))
                    .collect()
            }),
            link: n.case_number.map(|c| {
                if crate::complaints::domain::is_complaint_number(&c) {
                    format!("/complaints#c-{c}")
                } else if let Some(policy) = c.strip_prefix("policy:") {
                    format!("/my/benefits#policy-{policy}")
                } else {
                    format!("/cases/{c}")
                }
            }),
        })
        .collect();
    let page = InboxPage { t, user: ctx.user(), csrf: ctx.csrf.clone(), notes };
    Ok(ctx.render(StatusCode::OK, &page))
}

pub async fn inbox_read(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let user = ctx.caller.user_id.clone().ok_or(ctx.error(ApiError::Unauthenticated))?;
    store::mark_all_read(&state.db, &user).await.map_err(|e| ctx.error(e.into()))?;
    Ok(Redirect::to("/inbox").into_response())
}

// ---------------------------------------------------------------------------------------------
// The case page
// ---------------------------------------------------------------------------------------------

pub struct EventLine {
    at: String,
    what: String,
    who: String,
    department: String,
    reason: Option<String>,
    state: String,
}

pub struct MaterialLine {
    index: i64,
    name: String,
    how: String,
    file_name: Option<String>,
    hash: Option<String>,
    /// Filled from shared data: from whom, and what was taken.
    shared: Option<String>,
    /// Asked for in the supplement request now open (its upload box is offered to resubmit).
    wanted: bool,
}

pub struct ActionButton {
    action: &'static str,
    label: &'static str,
    needs_reason: bool,
    is_transfer: bool,
    is_resubmit: bool,
    is_supplement: bool,
    /// A decision (准予许可, 不予许可): the form leads to a preview of the document first.
    is_decision: bool,
    /// Cannot be undone (不予受理, 撤回): the form asks to confirm it first.
    danger: bool,
}

/// The window's acceptance check (受理审查): one line per material, and 受理 or 一次性告知补正.
pub struct ReviewLine {
    index: i64,
    name: String,
    how: String,
    /// The application carried it (a file, a credential, shared data, a commitment).
    present: bool,
    file_name: Option<String>,
}

/// What a case waiting for a supplement tells its applicant at the top of the page.
pub struct SupplementNotice {
    reason: Option<String>,
    /// The materials wanted, each with the window's note (empty when the request named none:
    /// then every missing one).
    wanted: Vec<(String, Option<String>)>,
    /// Whether the case was accepted (the clock stopped) or is waiting to be (it has not started).
    accepted: bool,
    /// The day the clock stopped.
    since: String,
}

/// How the applicant gets the result of a finished case.
pub struct ResultCollection {
    approved: bool,
    /// The e-licence the approval issued: (wallet link, type name, licence number).
    licence: Option<(String, String, String)>,
    /// Paper originals come from the window that accepted the case.
    at_window: bool,
    delivered: bool,
}

pub struct CheckLine {
    id: String,
    status: String,
    due: String,
    note: Option<String>,
    version: i64,
    can_conclude: bool,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    submitted: bool,
    notice: Option<String>,
    c: CaseRecord,
    state: String,
    department: String,
    due: Option<String>,
    /// While waiting for acceptance: the last day to accept.
    acceptance_due: Option<String>,
    light_class: &'static str,
    light: &'static str,
    events: Vec<EventLine>,
    materials: Vec<MaterialLine>,
    parts: Vec<CaseLine>,
    actions: Vec<ActionButton>,
    departments: Vec<(String, String)>,
    checks: Vec<CheckLine>,
    is_applicant: bool,
    supplement: Option<SupplementNotice>,
    /// The acceptance check, when the caller may both accept and ask for materials.
    review: Vec<ReviewLine>,
    result: Option<ResultCollection>,
    errors: Vec<FieldError>,
    /// A joint review's members and their opinions (联合审图、联合验收).
    joint: Option<JointPanel>,
    /// The construction project a stage application belongs to: its code and stage.
    project: Option<(String, i64)>,
}

/// A joint review on its case's page.
struct JointPanel {
    view: crate::projects::service::JointView,
    /// The member department the caller may give the opinion of now.
    give_as: Option<String>,
    /// What was wrong with the comment just sent.
    comment_error: Option<FieldError>,
}

/// Actions that cannot be taken back: the page asks to confirm them (a decision is confirmed on
/// its preview).
fn is_irreversible(a: CaseAction) -> bool {
    matches!(a, CaseAction::NotAccept | CaseAction::Reject | CaseAction::Withdraw | CaseAction::Approve)
}

/// Decisions that issue a document: the case page leads to a preview first.
fn is_decision(a: CaseAction) -> bool {
    matches!(a, CaseAction::Approve | CaseAction::Reject)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CaseQuery {
    pub submitted: Option<String>,
    pub done: Option<String>,
}

pub async fn case_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(number): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Result<Response, PageError> {
    if let Err(r) = require_login(&ctx) {
        return Ok(r.into_response());
    }
    let notice = q.done.as_deref().and_then(CaseAction::parse).map(|a| {
        if ctx.t.is_en() { format!("Done: {}", a.label_en()) } else { format!("已{}", a.label_zh()) }
    });
    render_case(&state, &ctx, &number, q.submitted.is_some(), notice, Vec::new()).await
}

pub(crate) async fn render_case(
    state: &AppState,
    ctx: &PageCtx,
    number: &str,
    submitted: bool,
    notice: Option<String>,
    errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    let t = ctx.t;
    let view = case_api::case_view(state, &ctx.caller, number).await.map_err(|e| ctx.error(e))?;
    let names = Names::load(state).await.map_err(|e| ctx.error(e))?;
    let cal = state.calendar().await;
    let c = view.case;
    let events = view
        .timeline
        .iter()
        .map(|e| {
            let what = match CaseAction::parse(&e.action) {
                Some(a) => t.pick(a.label_zh(), a.label_en()).to_string(),
                None => match e.action.as_str() {
                    "submit" => t.s("case.ev_submit").into(),
                    "revoke" => t.s("case.ev_revoke").into(),
                    "parts_changed" => t.s("case.ev_parts").into(),
                    "joint_opinion" => t.pick("联合审查意见", "Joint-review opinion").into(),
                    other => other.to_string(),
                },
            };
            let mut reason = e.reason.clone();
            if let Some(d) = &e.detail
                && let (Some(from), Some(to)) =
                    (d.get("from").and_then(Value::as_str), d.get("to").and_then(Value::as_str))
            {
                let moved = format!("{} → {}", names.department(&t, from), names.department(&t, to));
                reason = Some(match reason {
                    Some(r) => format!("{moved}：{r}"),
                    None => moved,
                });
            }
            if let Some(wanted) = e.detail.as_ref().and_then(|d| d.get("wanted")).and_then(Value::as_array) {
                let checklist = checklist_of(e.detail.as_ref());
                let names: Vec<String> = wanted
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|w| {
                        match checklist.iter().find(|m| m.material == w).and_then(|m| m.note.as_deref()) {
                            Some(note) => format!("{w}（{note}）"),
                            None => w.to_string(),
                        }
                    })
                    .collect();
                let asked = format!("{}：{}", t.pick("需补正", "Wanted"), names.join("、"));
                reason = Some(match reason {
                    Some(r) => format!("{asked}。{r}"),
                    None => asked,
                });
            }
            if let Some(opinion) = e.detail.as_ref().and_then(|d| d.get("opinion")).and_then(Value::as_str) {
                let said = format!("{}：{opinion}", t.pick("审批意见", "Opinion"));
                reason = Some(match reason {
                    Some(r) => format!("{said}。{r}"),
                    None => said,
                });
            }
            if let Some(verdict) = e
                .detail
                .as_ref()
                .and_then(|d| d.get("verdict"))
                .and_then(Value::as_str)
                .and_then(crate::projects::Opinion::parse)
            {
                let said = t.pick(verdict.label_zh(), verdict.label_en()).to_string();
                reason = Some(match reason {
                    Some(r) => format!("{said}：{r}"),
                    None => said,
                });
            }
            if let Some(by) = e.detail.as_ref().and_then(|d| d.get("submitted_by")).and_then(Value::as_str) {
                reason = Some(format!("{} {by}", t.s("case.submitted_by")));
            }
            EventLine {
                at: crate::platform::clock::shown_time(&e.at),
                what,
                who: e.actor_name.clone(),
                department: names.department(&t, &e.department),
                reason,
                state: CaseState::parse(&e.to_state)
                    .map(|s| state_label(&t, s).to_string())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let mut materials: Vec<MaterialLine> = view
        .materials
        .iter()
        .map(|m| MaterialLine {
            wanted: false,
            index: m.index,
            name: m.name.clone(),
            how: t.pick(m.provided_as.label_zh(), m.provided_as.label_en()).to_string(),
            file_name: m.file_name.clone(),
            hash: m.hash.as_ref().map(|h| h.chars().take(12).collect()),
            shared: m.exchange_data.as_ref().map(|d| {
                let owner = d.get("owner").and_then(Value::as_str).unwrap_or_default();
                let dataset = d.get("dataset").and_then(Value::as_str).unwrap_or_default();
                let dataset = crate::data::domain::dataset(dataset)
                    .map(|x| t.pick(x.name_zh, x.name_en).to_string())
                    .unwrap_or_else(|| dataset.to_string());
                let values: Vec<String> = d
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|vs| {
                        vs.iter()
                            .filter_map(|v| Some(format!("{}：{}", v.get(1)?.as_str()?, v.get(2)?.as_str()?)))
                            .collect()
                    })
                    .unwrap_or_default();
                format!(
                    "{} {}（{}）— {}",
                    t.pick("来源", "From"),
                    names.department(&t, owner),
                    dataset,
                    values.join("；")
                )
            }),
        })
        .collect();
    let parts = if c.is_bundle() {
        let kids = store::children(&state.db, number).await.map_err(|e| ctx.error(e.into()))?;
        lines(&t, &names, &kids, state, &cal)
    } else {
        Vec::new()
    };
    let available: Vec<CaseAction> =
        view.available_actions.iter().filter_map(|a| CaseAction::parse(a)).collect();
    // The window that may accept and ask for materials does both from one checklist.
    let reviews =
        available.contains(&CaseAction::Accept) && available.contains(&CaseAction::RequestSupplement);
    let review: Vec<ReviewLine> = if reviews {
        view.materials
            .iter()
            .map(|m| ReviewLine {
                index: m.index,
                name: m.name.clone(),
                how: t.pick(m.provided_as.label_zh(), m.provided_as.label_en()).to_string(),
                present: !matches!(m.provided_as, crate::cases::intake::ProvidedAs::Missing),
                file_name: m.file_name.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let actions = available
        .iter()
        .copied()
        .filter(|a| *a != CaseAction::Transfer || !c.is_bundle())
        .filter(|a| !(reviews && matches!(a, CaseAction::Accept | CaseAction::RequestSupplement)))
        .map(|a| ActionButton {
            action: a.as_str(),
            label: t.pick(a.label_zh(), a.label_en()),
            needs_reason: a.needs_reason() && a != CaseAction::Transfer,
            is_transfer: a == CaseAction::Transfer,
            is_resubmit: a == CaseAction::Resubmit,
            is_supplement: a == CaseAction::RequestSupplement,
            is_decision: is_decision(a),
            danger: is_irreversible(a) && !is_decision(a),
        })
        .collect();
    let mut departments: Vec<(String, String)> = case_api::department_names(state)
        .await
        .map_err(|e| ctx.error(e))?
        .into_keys()
        .filter(|code| *code != c.department)
        .map(|code| (names.department(&t, &code), code))
        .collect();
    departments.sort();
    let checks = view
        .post_checks
        .iter()
        .map(|p| CheckLine {
            id: p.id.clone(),
            status: match p.status.as_str() {
                "open" => t.s("case.check_open"),
                "confirmed" => t.s("case.check_confirmed"),
                _ => t.s("case.check_false"),
            }
            .into(),
            due: p.due_on.clone(),
            note: p.note.clone(),
            version: p.version,
            can_conclude: p.status == "open"
                && service::concludes_post_checks(&ctx.caller.actor, &p.department),
        })
        .collect();
    let is_applicant = matches!(ctx.caller.actor, Actor::Person { .. });
    // The last supplement request says what is wanted and why.
    let supplement = (c.state == CaseState::SupplementRequested).then(|| {
        let asked = view.timeline.iter().rev().find(|e| e.action == CaseAction::RequestSupplement.as_str());
        let detail = asked.and_then(|e| e.detail.as_ref());
        let checklist = checklist_of(detail);
        SupplementNotice {
            reason: asked.and_then(|e| e.reason.clone()),
            wanted: detail
                .and_then(|d| d.get("wanted"))
                .and_then(Value::as_array)
                .map(|w| {
                    w.iter()
                        .filter_map(Value::as_str)
                        .map(|name| {
                            let note =
                                checklist.iter().find(|m| m.material == name).and_then(|m| m.note.clone());
                            (name.to_string(), note)
                        })
                        .collect()
                })
                .unwrap_or_default(),
            accepted: c.accepted_on.is_some(),
            since: c.paused_since.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        }
    });
    if let Some(n) = &supplement {
        for m in &mut materials {
            m.wanted = n.wanted.is_empty() || n.wanted.iter().any(|(w, _)| *w == m.name);
        }
    }
    let result = result_collection(state, &c).await.map_err(|e| ctx.error(e))?;
    let joint = match c.item_code.as_deref().and_then(|i| crate::projects::flows().joint(i)) {
        Some(review) => {
            let view = crate::projects::service::joint_view(state, &ctx.caller, number)
                .await
                .map_err(|e| ctx.error(e))?;
            let give_as = crate::projects::service::member_for(&ctx.caller.actor, review).filter(|d| {
                c.state.clock_runs()
                    && !view
                        .members
                        .iter()
                        .any(|m| &m.department == d && m.opinion.as_deref() == Some("pass"))
            });
            let comment_error = errors.iter().find(|e| e.field == "comment").cloned();
            Some(JointPanel { view, give_as, comment_error })
        }
        None => None,
    };
    let project = if c.is_bundle() {
        store::project_of(&state.db, number).await.map_err(|e| ctx.error(e.into()))?
    } else {
        None
    };
    let page = CasePage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        submitted,
        notice,
        state: state_label(&t, c.state).into(),
        department: names.department(&t, &c.department),
        due: view.due_date.clone(),
        acceptance_due: c.acceptance_due(&cal).map(|d| d.format("%Y-%m-%d").to_string()),
        light_class: light_class(view.light),
        light: light_label(&t, view.light),
        events,
        materials,
        parts,
        actions,
        departments,
        checks,
        is_applicant,
        supplement,
        review,
        result,
        c,
        errors,
        joint,
        project,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.render(status, &page))
}

/// The window's checklist kept with a timeline entry (empty when it has none).
fn checklist_of(detail: Option<&Value>) -> Vec<crate::cases::domain::MaterialCheck> {
    detail
        .and_then(|d| d.get("checklist"))
        .and_then(|c| serde_json::from_value(c.clone()).ok())
        .unwrap_or_default()
}

/// How the applicant collects the result of a decided case: the decision document, the e-licence
/// in the wallet, and where paper originals come from.
async fn result_collection(
    state: &AppState,
    c: &CaseRecord,
) -> crate::http::ApiResult<Option<ResultCollection>> {
    let decided = matches!(
        c.state,
        CaseState::Approved | CaseState::Rejected | CaseState::Closed | CaseState::Delivered
    );
    if !decided || c.is_bundle() || c.decision.is_none() {
        return Ok(None);
    }
    let approved = c.decision.as_deref() == Some("approved");
    let licence = if approved {
        crate::licences::store::for_case(&state.db, &c.number).await?.into_iter().next().map(|l| {
            let number = crate::licences::service::licence_number(&l).unwrap_or_else(|| l.identifier.clone());
            let name = crate::licences::domain::find_type(&l.type_code)
                .map(|ty| ty.name.clone())
                .unwrap_or_else(|| l.type_code.clone());
            (format!("/wallet/{}", l.id), name, number)
        })
    } else {
        None
    };
    Ok(Some(ResultCollection {
        approved,
        licence,
        at_window: c.accepted_at_window,
        delivered: c.state == CaseState::Delivered,
    }))
}

/// A case action from the page: the same rules as the API. Resubmissions carry files.
pub async fn act(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(number): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let user = ctx.caller.user_id.clone().ok_or(ctx.error(ApiError::Unauthenticated))?;
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut materials = Vec::new();
    let mut wanted = Vec::new();
    let mut checklist = Vec::new();
    let mut notes: BTreeMap<usize, String> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut checked = false;
    while let Some(field) = multipart.next_field().await.map_err(|e| ctx.error(multipart_error(e)))? {
        let name = field.name().unwrap_or("").to_string();
        if let Some(ix) = name.strip_prefix("file_") {
            if !checked {
                ctx.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or(""))?;
                checked = true;
            }
            let Ok(index) = ix.parse::<usize>() else { continue };
            let file_name = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|e| ctx.error(multipart_error(e)))?;
            if file_name.is_empty() && bytes.is_empty() {
                continue;
            }
            match service::store_file(&state, &user, &file_name, bytes.to_vec())
                .await
                .map_err(|e| ctx.error(e))?
            {
                Ok((hash, _)) => {
                    materials.push(MaterialInput {
                        index: Some(index),
                        upload: Some(hash),
                        file_name: Some(file_name),
                        ..Default::default()
                    });
                }
                Err(p) => errors.push(crate::platform::uploads::file_error(&name, &file_name, p)),
            }
        } else if name == "wanted" {
            // One box per material wanted in a supplement request (the field repeats).
            if let Ok(index) = field.text().await.unwrap_or_default().parse::<usize>() {
                wanted.push(index);
            }
        } else if let Some(index) = name.strip_prefix("verdict_").and_then(|i| i.parse::<usize>().ok()) {
            // The acceptance checklist: a verdict per material, and a note beside it.
            let verdict = field.text().await.unwrap_or_default();
            checklist.push(service::MaterialCheckInput { index, verdict, note: None });
        } else if let Some(index) = name.strip_prefix("note_").and_then(|i| i.parse::<usize>().ok()) {
            notes.insert(index, field.text().await.unwrap_or_default());
        } else {
            fields.insert(name, field.text().await.unwrap_or_default());
        }
    }
    if !checked {
        ctx.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or(""))?;
    }
    let action =
        fields.get("action").and_then(|a| CaseAction::parse(a)).ok_or(ctx.error(ApiError::NotFound))?;
    if is_irreversible(action) && fields.get("confirm").map(String::as_str) != Some("yes") {
        errors.push(FieldError::new(
            &format!("confirm-{}", action.as_str()),
            "not_confirmed",
            format!("“{}”提交后不能撤销，请勾选确认后再提交", action.label_zh()),
            format!("“{}” cannot be undone: tick the box to confirm it", action.label_en()),
        ));
    }
    if !errors.is_empty() {
        return render_case(&state, &ctx, &number, false, None, errors).await;
    }
    for line in &mut checklist {
        line.note = notes.remove(&line.index).filter(|n| !n.trim().is_empty());
    }
    // Only the decision's own preview carries these: a decision is read before it is signed.
    if is_decision(action) && fields.get("opinion").is_none_or(|o| o.trim().is_empty()) {
        errors.push(FieldError::required("opinion", "审批意见", "The opinion"));
        return render_case(&state, &ctx, &number, false, None, errors).await;
    }
    let to_department = match fields.get("to_department").map(|d| d.trim()).filter(|d| !d.is_empty()) {
        // The transfer box takes a department's name from its list (or its code).
        Some(d) => {
            let names = Names::load(&state).await.map_err(|e| ctx.error(e))?;
            Some(names.department_code(d).unwrap_or_else(|| d.to_string()))
        }
        None => None,
    };
    let req = ActionRequest {
        reason: fields.get("reason").cloned(),
        to_department,
        version: fields.get("version").and_then(|v| v.parse().ok()),
        materials,
        wanted,
        checklist,
        opinion: fields.get("opinion").cloned(),
    };
    match service::act(&state, &ctx.caller, &number, action, req).await {
        Ok(c) => {
            // After a transfer the sender may no longer see the case: back to the workbench.
            let readable = service::readable(&state, &ctx.caller, &c.number).await.is_ok();
            let to = if readable {
                format!("/cases/{}?done={}", c.number, action.as_str())
            } else {
                "/workbench".to_string()
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(ApiError::Validation(errors)) => render_case(&state, &ctx, &number, false, None, errors).await,
        Err(e @ ApiError::StateConflict { .. }) => {
            let (_, zh, en) = e.describe();
            let msg = if ctx.t.is_en() { en } else { zh };
            render_case(
                &state,
                &ctx,
                &number,
                false,
                None,
                vec![FieldError::new("action", "conflict", msg.clone(), msg)],
            )
            .await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

/// The decision preview (决定书预览) an approver reads before confirming.
#[derive(Template)]
#[template(path = "decision_preview.html")]
struct PreviewPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    number: String,
    version: i64,
    action: &'static str,
    action_label: &'static str,
    approve: bool,
    opinion: String,
    reason: String,
    doc: DecisionView,
    licence: Option<LicenceLine>,
}

pub struct LicenceLine {
    type_name: String,
    holder: String,
    valid: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PreviewForm {
    pub csrf: String,
    pub action: String,
    pub version: Option<i64>,
    pub opinion: String,
    pub reason: String,
}

/// Shows the decision an approver is about to make (the document, the licence), to confirm.
pub async fn preview_decision(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(number): Path<String>,
    Form(f): Form<PreviewForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let action = CaseAction::parse(&f.action).ok_or(ctx.error(ApiError::NotFound))?;
    let opinion = Some(f.opinion.as_str()).filter(|o| !o.trim().is_empty());
    let reason = Some(f.reason.as_str()).filter(|r| !r.trim().is_empty());
    let preview = match service::preview_decision(&state, &ctx.caller, &number, action, opinion, reason).await
    {
        Ok(p) => p,
        Err(ApiError::Validation(errors)) => {
            return render_case(&state, &ctx, &number, false, None, errors).await;
        }
        Err(e) => return Err(ctx.error(e)),
    };
    let t = ctx.t;
    let doc = &preview.document;
    let text = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let view = DecisionView {
        document_number: text("document_number"),
        title: if t.is_en() { text("title_en") } else { text("title_zh") },
        text: if t.is_en() { text("text_en") } else { text("text_zh") },
        department_name: text("department_name"),
        date: text("date"),
        decided_by: text("decided_by"),
        parts: Vec::new(),
        seal_image: None,
        seal_check: None,
        licence: None,
    };
    let licence = preview.licence.map(|l| LicenceLine {
        type_name: l.type_name,
        holder: l.holder_name,
        valid: format!(
            "{} — {}",
            l.valid_from.format("%Y-%m-%d"),
            l.valid_until
                .map(|u| u.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| t.pick("长期", "no expiry").into())
        ),
    });
    let page = PreviewPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        number: preview.case.number.clone(),
        version: f.version.unwrap_or(preview.case.version),
        action: preview.action.as_str(),
        action_label: t.pick(preview.action.label_zh(), preview.action.label_en()),
        approve: preview.action == CaseAction::Approve,
        opinion: f.opinion.trim().to_string(),
        reason: f.reason.trim().to_string(),
        doc: view,
        licence,
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CheckForm {
    pub csrf: String,
    pub outcome: String,
    pub note: String,
    pub version: Option<i64>,
    pub case_number: String,
}

pub async fn conclude_check(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<CheckForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let false_commitment = f.outcome == "false_commitment";
    match service::conclude_post_check(&state, &ctx.caller, &id, false_commitment, f.note, f.version).await {
        Ok(p) => Ok(Redirect::to(&format!("/cases/{}", p.case_number)).into_response()),
        Err(ApiError::Validation(errors)) => {
            render_case(&state, &ctx, &f.case_number, false, None, errors).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

/// The printable decision document (决定书).
#[derive(Template)]
#[template(path = "decision.html")]
struct DecisionPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    number: String,
    doc: DecisionView,
}

pub struct DecisionView {
    document_number: String,
    title: String,
    text: String,
    department_name: String,
    date: String,
    decided_by: String,
    /// A bundle's combined result: (title, case number, result).
    parts: Vec<(String, String, String)>,
    seal_image: Option<String>,
    /// The seal checked now: (valid, message).
    seal_check: Option<(bool, String)>,
    /// The e-licence the approval issued: (wallet link, identifier).
    licence: Option<(String, String)>,
}

pub async fn decision(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    if let Err(r) = require_login(&ctx) {
        return Ok(r.into_response());
    }
    let c = service::readable(&state, &ctx.caller, &number).await.map_err(|e| ctx.error(e))?;
    let doc = c.decision_document.ok_or(ctx.error(ApiError::NotFound))?;
    let t = ctx.t;
    // The page checks its own seal, so a printed copy's reader knows what the platform says.
    let seal_check = if doc.get("seal").is_some_and(Value::is_object) {
        Some(
            crate::licences::service::verify_sealed(&state.db, &doc)
                .await
                .map_err(|e| ctx.error(e.into()))?,
        )
    } else {
        None
    };
    let licence = match doc.get("licence_identifier").and_then(Value::as_str) {
        Some(identifier) => crate::licences::store::id_by_identifier(&state.db, identifier)
            .await
            .map_err(|e| ctx.error(e.into()))?
            .map(|id| (id, identifier.to_string())),
        None => None,
    };
    let s = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let parts: Vec<(String, String, String)> = doc
        .get("parts")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let g = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    let result = match p.get("decision").and_then(Value::as_str) {
                        Some("approved") => t.s("decision.approved").to_string(),
                        Some("rejected") => t.s("decision.rejected").to_string(),
                        _ => CaseState::parse(&g("state"))
                            .map(|st| state_label(&t, st).to_string())
                            .unwrap_or_default(),
                    };
                    (g("title"), g("case_number"), result)
                })
                .collect()
        })
        .unwrap_or_default();
    let is_bundle = !parts.is_empty();
    let view = DecisionView {
        document_number: s("document_number"),
        title: if t.is_en() { s("title_en") } else { s("title_zh") },
        text: if is_bundle {
            format!("{}{}{}", s("applicant_name"), t.s("decision.bundle_text"), s("item_name"))
        } else if t.is_en() {
            s("text_en")
        } else {
            s("text_zh")
        },
        department_name: if is_bundle { t.s("site.full").to_string() } else { s("department_name") },
        date: s("date"),
        decided_by: s("decided_by"),
        parts,
        seal_image: doc.get("seal").and_then(|b| b.get("image")).and_then(Value::as_str).map(str::to_string),
        seal_check: seal_check.map(|v| (v.valid, t.pick(&v.message_zh, &v.message_en).to_string())),
        licence: licence.map(|(id, identifier)| (format!("/wallet/{id}"), identifier)),
    };
    let page = DecisionPage { t, user: ctx.user(), csrf: ctx.csrf.clone(), number, doc: view };
    Ok(ctx.render(StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------
// Staff workbench and supervision
// ---------------------------------------------------------------------------------------------

pub struct Tab {
    href: String,
    label: String,
    count: i64,
    current: bool,
}

pub struct CheckRow {
    case_number: String,
    title: String,
    applicant: String,
    due: String,
    status: String,
    light_class: &'static str,
    light: &'static str,
}

#[derive(Template)]
#[template(path = "workbench.html")]
struct WorkbenchPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    department: String,
    tabs: Vec<Tab>,
    heading: String,
    cases: Vec<CaseLine>,
    lights: LightCounts,
    checks: Vec<CheckRow>,
    is_supervisor: bool,
    is_window: bool,
    /// The walk-in form: the items a window can pick by name, and what was typed with its errors.
    items: Vec<(String, String)>,
    walk_in: WalkInForm,
    phone_invalid: bool,
    item_invalid: bool,
    errors: Vec<FieldError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WorkbenchQuery {
    pub view: String,
    pub state: String,
}

pub async fn workbench(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<WorkbenchQuery>,
) -> Result<Response, PageError> {
    if let Err(r) = require_login(&ctx) {
        return Ok(r.into_response());
    }
    render_workbench(&state, &ctx, q, WalkInForm::default(), Vec::new()).await
}

async fn render_workbench(
    state: &AppState,
    ctx: &PageCtx,
    q: WorkbenchQuery,
    walk_in: WalkInForm,
    errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    let state = state.clone();
    let Some(dept) = service::staff_department(&ctx.caller.actor) else {
        return Ok(Redirect::to("/my/cases").into_response());
    };
    let t = ctx.t;
    let names = Names::load(&state).await.map_err(|e| ctx.error(e))?;
    let cal = state.calendar().await;
    let wb = case_api::workbench_of(&state, &dept).await.map_err(|e| ctx.error(e))?;
    let general = service::is_general_window(&ctx.caller.actor);
    let now = state.clock().now();
    let (heading, cases) = match q.view.as_str() {
        "intake" if general => (
            t.s("wb.intake").to_string(),
            store::queue(&state.db, &Queue::Intake, 200).await.map_err(|e| ctx.error(e.into()))?,
        ),
        "delivery" if general => (
            t.s("wb.delivery").to_string(),
            store::queue(&state.db, &Queue::WindowDelivery, 200).await.map_err(|e| ctx.error(e.into()))?,
        ),
        "nearing" => {
            let open =
                store::queue(&state.db, &Queue::Department { department: dept.clone(), state: None }, 2000)
                    .await
                    .map_err(|e| ctx.error(e.into()))?;
            let near = open
                .into_iter()
                .filter(|c| {
                    matches!(c.light(&cal, now, state.config.yellow_days), Light::Yellow | Light::Red)
                })
                .collect();
            (t.s("wb.nearing").to_string(), near)
        }
        _ => {
            let st = CaseState::parse(&q.state);
            let heading = match st {
                Some(s) => state_label(&t, s).to_string(),
                None => t.s("wb.open").to_string(),
            };
            (
                heading,
                store::queue(&state.db, &Queue::Department { department: dept.clone(), state: st }, 200)
                    .await
                    .map_err(|e| ctx.error(e.into()))?,
            )
        }
    };
    let mut tabs = vec![Tab {
        href: "/workbench".into(),
        label: t.s("wb.open").into(),
        count: wb
            .counts
            .iter()
            .filter(|(s, _)| CaseState::parse(s).is_some_and(CaseState::is_open))
            .map(|(_, n)| n)
            .sum(),
        current: q.view.is_empty() && q.state.is_empty(),
    }];
    tabs.push(Tab {
        href: "/workbench?view=nearing".into(),
        label: t.s("wb.nearing").into(),
        count: wb.nearing_deadline.len() as i64,
        current: q.view == "nearing",
    });
    for s in CaseState::ALL {
        let n = wb.counts.get(s.as_str()).copied().unwrap_or(0);
        tabs.push(Tab {
            href: format!("/workbench?state={}", s.as_str()),
            label: state_label(&t, s).into(),
            count: n,
            current: q.state == s.as_str(),
        });
    }
    if general {
        let intake = store::queue_count(&state.db, &Queue::Intake).await.map_err(|e| ctx.error(e.into()))?;
        let delivery =
            store::queue_count(&state.db, &Queue::WindowDelivery).await.map_err(|e| ctx.error(e.into()))?;
        tabs.insert(
            0,
            Tab {
                href: "/workbench?view=intake".into(),
                label: t.s("wb.intake").into(),
                count: intake,
                current: q.view == "intake",
            },
        );
        tabs.insert(
            1,
            Tab {
                href: "/workbench?view=delivery".into(),
                label: t.s("wb.delivery").into(),
                count: delivery,
                current: q.view == "delivery",
            },
        );
    }
    let checks = store::post_checks_for(&state.db, Some(&dept))
        .await
        .map_err(|e| ctx.error(e.into()))?
        .into_iter()
        .filter(|p| p.status == "open")
        .map(|p| {
            // A post-check's deadline gets the same rule as a case's.
            let l = chrono::NaiveDate::parse_from_str(&p.due_on, "%Y-%m-%d")
                .map(|due| {
                    crate::calendar::deadline::Deadline::working_days(due, state.config.post_check_days)
                        .signal(&cal, now, state.config.yellow_days)
                        .into()
                })
                .unwrap_or(Light::None);
            CheckRow {
                case_number: p.case_number,
                title: p.case_title,
                applicant: p.applicant_name,
                due: p.due_on,
                status: t.s("case.check_open").into(),
                light_class: light_class(l),
                light: light_label(&t, l),
            }
        })
        .collect();
    let page = WorkbenchPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        department: names.department(&t, &dept),
        tabs,
        heading,
        cases: lines(&t, &names, &cases, &state, &cal),
        lights: wb.lights,
        checks,
        is_supervisor: service::is_supervisor(&ctx.caller.actor),
        is_window: service::is_window_clerk(&ctx.caller.actor),
        items: if service::is_window_clerk(&ctx.caller.actor) {
            catalog::store::all_active(&state.db)
                .await
                .map_err(|e| ctx.error(e.into()))?
                .into_iter()
                .map(|s| (s.item.code, s.item.name))
                .collect()
        } else {
            Vec::new()
        },
        walk_in,
        phone_invalid: errors.iter().any(|e| e.field == "walk-in-phone"),
        item_invalid: errors.iter().any(|e| e.field == "walk-in-item"),
        errors,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.render(status, &page))
}

#[derive(Template)]
#[template(path = "supervision.html")]
struct SupervisionPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    s: Supervision,
    overdue: Vec<CaseLine>,
    departments: Vec<(String, LightCounts)>,
    /// The period's trend, day by day, its totals, and the same as JSON for the chart.
    trend: Vec<super::trend::DayTrend>,
    totals: super::trend::DayTrend,
    /// Share of the period's decisions made by their due date.
    on_time: Option<f64>,
    trend_json: String,
    from: String,
    to: String,
    errors: Vec<FieldError>,
}

/// The supervision period (`YYYY-MM-DD`, Beijing; blank: the last 30 days).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PeriodQuery {
    pub from: String,
    pub to: String,
}

/// The trend of a period, from the store.
pub(crate) async fn trend_of(
    state: &AppState,
    from: NaiveDate,
    to: NaiveDate,
    department: Option<&str>,
) -> Result<Vec<super::trend::DayTrend>, ApiError> {
    use crate::platform::clock::{end_of_beijing_day, start_of_beijing_day, time_text};
    let (submitted, decided) = store::trend_rows(
        &state.db,
        &time_text(start_of_beijing_day(from)),
        &time_text(end_of_beijing_day(to)),
        department,
    )
    .await?;
    Ok(super::trend::daily_counts(from, to, &submitted, &decided))
}

/// Sends someone signed out to the login page; anyone but a supervisor gets 404.
fn supervisors_only(ctx: &PageCtx) -> Result<Option<Response>, PageError> {
    if let Err(r) = require_login(ctx) {
        return Ok(Some(r.into_response()));
    }
    if !service::is_supervisor(&ctx.caller.actor) {
        return Err(ctx.error(ApiError::NotFound));
    }
    Ok(None)
}

/// One figure of the trend, opened: the day and which count (`submitted`, `decided`, `late`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DayQuery {
    pub day: String,
    pub kind: String,
}

#[derive(Template)]
#[template(path = "supervision_day.html")]
struct SupervisionDayPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    day: String,
    kind: &'static str,
    cases: Vec<CaseLine>,
}

/// The cases behind one number of the trend (click-through); supervisors only.
pub async fn supervision_day(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DayQuery>,
) -> Result<Response, PageError> {
    use crate::platform::clock::{
        beijing_date, end_of_beijing_day, parse_time, start_of_beijing_day, time_text,
    };
    if let Some(away) = supervisors_only(&ctx)? {
        return Ok(away);
    }
    let t = ctx.t;
    let day = FieldError::parse_date("day", &q.day).map_err(|e| ctx.error(ApiError::Validation(vec![e])))?;
    let (from, to) = (time_text(start_of_beijing_day(day)), time_text(end_of_beijing_day(day)));
    let (queue, kind) = match q.kind.as_str() {
        "submitted" => (Queue::SubmittedBetween { from, to }, t.pick("受理申请", "Submitted")),
        "decided" => (Queue::DecidedBetween { from, to }, t.pick("办结", "Decided")),
        "late" => (Queue::DecidedBetween { from, to }, t.pick("超期办结", "Decided late")),
        _ => {
            return Err(ctx.error(ApiError::invalid(
                "kind",
                "unknown_kind",
                "kind 应为 submitted、decided 或 late",
                "kind must be submitted, decided or late",
            )));
        }
    };
    let mut cases = store::queue(&state.db, &queue, 1000).await.map_err(|e| ctx.error(e.into()))?;
    if q.kind == "late" {
        cases.retain(|c| {
            let decided = c.decided_at.as_deref().and_then(parse_time).map(beijing_date);
            let due = c.due_on;
            matches!((decided, due), (Some(d), Some(due)) if d > due)
        });
    }
    let names = Names::load(&state).await.map_err(|e| ctx.error(e))?;
    let cal = state.calendar().await;
    let cases = lines(&t, &names, &cases, &state, &cal);
    let page =
        SupervisionDayPage { t, user: ctx.user(), csrf: ctx.csrf.clone(), day: day.to_string(), kind, cases };
    Ok(ctx.render(StatusCode::OK, &page))
}

/// The trend as a spreadsheet (CSV), for the period asked; supervisors only.
pub async fn supervision_csv(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    if let Some(away) = supervisors_only(&ctx)? {
        return Ok(away);
    }
    let (from, to) = super::trend::period(&q.from, &q.to, state.clock().today())
        .map_err(|e| ctx.error(ApiError::Validation(e)))?;
    let days = trend_of(&state, from, to, None).await.map_err(|e| ctx.error(e))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"supervision-{from}-{to}.csv\""),
            ),
        ],
        super::trend::csv(&days),
    )
        .into_response())
}

pub async fn supervision(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    if let Err(r) = require_login(&ctx) {
        return Ok(r.into_response());
    }
    let t = ctx.t;
    let (mut s, open) = case_api::supervision(&state, &ctx.caller).await.map_err(|e| ctx.error(e))?;
    let today = state.clock().today();
    let (period, errors) = match super::trend::period(&q.from, &q.to, today) {
        Ok(p) => (p, Vec::new()),
        Err(e) => (super::trend::period("", "", today).unwrap_or((today, today)), e),
    };
    let trend = trend_of(&state, period.0, period.1, None).await.map_err(|e| ctx.error(e))?;
    let totals = trend.iter().fold(
        super::trend::DayTrend { day: String::new(), submitted: 0, decided: 0, late: 0 },
        |mut sum, d| {
            sum.submitted += d.submitted;
            sum.decided += d.decided;
            sum.late += d.late;
            sum
        },
    );
    let trend_json = serde_json::to_string(&trend).unwrap_or_else(|_| "[]".into()).replace("</", "<\\/");
    let names = Names::load(&state).await.map_err(|e| ctx.error(e))?;
    let departments = std::mem::take(&mut s.by_department)
        .into_iter()
        .map(|r| (names.department(&t, &r.code), r.counts))
        .collect();
    let cal = state.calendar().await;
    // The overdue list, from the cases the figures were computed from (most overdue first).
    let now = state.clock().now();
    let today = crate::platform::clock::beijing_date(now);
    let mut overdue_cases: Vec<CaseRecord> =
        open.into_iter().filter(|c| c.light(&cal, now, state.config.yellow_days) == Light::Red).collect();
    overdue_cases.sort_by_key(|c| c.due_now(&cal, today));
    overdue_cases.truncate(200);
    let overdue = lines(&t, &names, &overdue_cases, &state, &cal);
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = SupervisionPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        s,
        overdue,
        departments,
        trend,
        on_time: crate::figures::share(
            (totals.decided - totals.late).max(0) as usize,
            totals.decided.max(0) as usize,
        ),
        totals,
        trend_json,
        // What was typed stays in the form when it was wrong.
        from: if errors.is_empty() { period.0.to_string() } else { q.from },
        to: if errors.is_empty() { period.1.to_string() } else { q.to },
        errors,
    };
    Ok(ctx.render(status, &page))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FindQuery {
    pub number: String,
}

/// Jumps to a case by its number (the workbench's search box); a malformed number is not found.
pub async fn find_case(ctx: PageCtx, Query(q): Query<FindQuery>) -> Result<Response, PageError> {
    let number = q.number.trim().to_uppercase();
    if super::domain::parse_case_number(&number).is_none() {
        return Err(ctx.error(ApiError::NotFound));
    }
    Ok(Redirect::to(&format!("/cases/{number}")).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WalkInForm {
    pub csrf: String,
    pub item_code: String,
    pub applicant_phone: String,
}

/// 一窗受理 at the counter: a window clerk starts an application for a registered walk-in
/// applicant; the same three screens follow, and the case is the applicant's.
pub async fn register_walk_in(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<WalkInForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let user = ctx.caller.user_id.clone().ok_or(ctx.error(ApiError::Unauthenticated))?;
    if !service::is_window_clerk(&ctx.caller.actor) {
        return Err(ctx.error(ApiError::Forbidden));
    }
    let mut errors = Vec::new();
    // The item is picked by name or code (the list offers "code name"; either part will do).
    let typed = f.item_code.trim();
    let items = catalog::store::all_active(&state.db).await.map_err(|e| ctx.error(e.into()))?;
    let first = typed.split_whitespace().next().unwrap_or("").to_uppercase();
    let found = items
        .iter()
        .find(|s| s.item.code == first)
        .or_else(|| items.iter().find(|s| s.item.name == typed))
        .or_else(|| {
            // A part of a name that only one item has.
            let mut matching = items.iter().filter(|s| !typed.is_empty() && s.item.name.contains(typed));
            match (matching.next(), matching.next()) {
                (Some(one), None) => Some(one),
                _ => None,
            }
        });
    let code = found.map(|s| s.item.code.clone()).unwrap_or_default();
    if found.is_none() {
        errors.push(FieldError::new(
            "walk-in-item",
            "unknown_item",
            format!("没有找到事项“{typed}”，请从列表中选择事项名称或填写事项编码"),
            format!("No item \"{typed}\": pick an item name from the list or give its code"),
        ));
    }
    let phone = crate::identity::domain::Phone::parse(&f.applicant_phone).map(|p| p.as_str().to_string());
    let person = match &phone {
        Ok(p) => crate::identity::store::person_by_phone(&state.db, &state.vault, p)
            .await
            .map_err(|e| ctx.error(e.into()))?,
        Err(_) => None,
    };
    if person.is_none() {
        errors.push(FieldError::new(
            "walk-in-phone",
            "unknown_applicant",
            "请填写已实名注册的申请人手机号码",
            "Give the mobile number of a registered applicant",
        ));
    }
    if !errors.is_empty() {
        // Back on the workbench with the form open, what was typed kept and each error by its field.
        return render_workbench(&state, &ctx, WorkbenchQuery::default(), f, errors).await;
    }
    let phone = phone.unwrap_or_default();
    let d = store::create_draft(&state.db, &user, Some(code), None, json!({"applicant_phone": phone}))
        .await
        .map_err(|e| ctx.error(e.into()))?;
    Ok(Redirect::to(&format!("/drafts/{}/contact", d.id)).into_response())
}
