//! The enterprise's policy page (`/my/benefits`, 一口办理): for each enterprise the person
//! represents, every policy with its state — paid, owed and waiting for the account, eligible
//! if it applies, not eligible and why — and the form to confirm the account or decline.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::service::{self, Answer, BenefitView};
use crate::app::AppState;
use crate::http::extract::Path;
use crate::http::{ApiError, FieldError};
use crate::identity::authz::Actor;
use crate::web::i18n::Tr;
use crate::web::page::{PageCtx, PageError, UserChip};

/// Money as people read it: ¥7,407.40 (from fen, or a reference to fen in templates).
pub fn yuan(fen: impl std::borrow::Borrow<i64>) -> String {
    let fen = *fen.borrow();
    if fen < 0 {
        return format!("-{}", yuan(-fen));
    }
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("¥{grouped}.{:02}", fen % 100)
}

/// One policy on the page.
pub struct Card {
    pub view: BenefitView,
    pub amount: Option<String>,
    pub paid: Option<String>,
    /// `ok`, `warn`, `bad` or empty: the status tag's colour.
    pub tone: &'static str,
    /// (clause in words, the values used, held: ✓ ✗ or ?, its label for screen readers)
    pub clauses: Vec<(String, String, &'static str, String)>,
    /// The account form's error and what was typed, after a refused confirmation.
    pub error: Option<FieldError>,
    pub typed_account: String,
    pub typed_bank: String,
    /// The follow-up form's errors and what was typed, after a refused follow-up.
    pub follow_up_errors: Vec<FieldError>,
    pub typed_rating: String,
    pub typed_effect: String,
    pub typed_jobs: String,
    /// The star choices (1–5) with the one chosen before a refusal; whether the rating was refused.
    pub ratings: Vec<RatingChoice>,
    pub rating_invalid: bool,
    /// How the window handles an application, in words.
    pub route: Option<&'static str>,
    /// The recorded follow-up's stars (★★★★☆).
    pub stars: String,
    /// The window item applications start from.
    pub window_item: &'static str,
}

/// One star choice of the follow-up form.
pub struct RatingChoice {
    pub stars: u8,
    pub chosen: bool,
}

/// What the representative typed into a form the page refused, to show it again.
#[derive(Default)]
struct TypedBenefit {
    policy: String,
    account: String,
    bank: String,
    rating: String,
    effect: String,
    jobs: String,
}

/// One enterprise's policies, grouped by what the representative does next (heading, cards).
pub struct EnterpriseBlock {
    pub code: String,
    pub name: String,
    pub groups: Vec<(String, Vec<Card>)>,
}

#[derive(Template)]
#[template(path = "my_benefits.html")]
struct BenefitsPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    blocks: Vec<EnterpriseBlock>,
    errors: Vec<FieldError>,
}

fn card(t: &Tr, view: BenefitView) -> Card {
    let tone = match view.status.as_str() {
        "paid" | "confirmed" => "ok",
        "awaiting_confirmation" | "eligible_next_run" | "apply" | "applied" => "warn",
        "not_eligible" | "no_value" | "no_record" | "no_longer_eligible" | "fault" => "bad",
        _ => "",
    };
    let clauses = view
        .explanation
        .iter()
        .map(|c| {
            let values: Vec<String> = c
                .values
                .iter()
                .map(|(k, v)| {
                    let label = crate::policies::rules::enterprise_fields()
                        .iter()
                        .find(|f| f.name == k)
                        .map_or(k.clone(), |f| t.pick(f.label_zh, f.label_en).to_string());
                    let shown = crate::policies::explain::shown_value(k, v, !t.is_en());
                    format!("{label}：{shown}")
                })
                .collect();
            let (held, said) = match c.held {
                Some(true) => ("✓", t.pick("满足", "met")),
                Some(false) => ("✗", t.pick("不满足", "not met")),
                None => ("?", t.pick("无法判定", "cannot tell")),
            };
            (t.pick(&c.clause_zh, &c.clause_en).to_string(), values.join("；"), held, said.to_string())
        })
        .collect();
    let route = view.route.map(|r| match r {
        "direct" => t.pick("窗口直办：综合窗口受理时当场核定", "Decided at the window when it is accepted"),
        _ => t.pick(
            "转办：综合窗口受理后转主管部门审核",
            "Accepted at the window, then decided by the issuing department",
        ),
    });
    let stars = view.follow_up.as_ref().map_or_else(String::new, |f| {
        let n = usize::try_from(f.rating.clamp(0, 5)).unwrap_or(0);
        format!("{}{}", "★".repeat(n), "☆".repeat(5 - n))
    });
    Card {
        follow_up_errors: Vec::new(),
        typed_rating: String::new(),
        typed_effect: String::new(),
        typed_jobs: String::new(),
        ratings: (1..=5).map(|stars| RatingChoice { stars, chosen: false }).collect(),
        rating_invalid: false,
        route,
        stars,
        window_item: crate::policies::window::WINDOW_ITEM,
        amount: view.amount_fen.map(yuan),
        paid: (view.paid_fen > 0).then(|| yuan(view.paid_fen)),
        tone,
        clauses,
        view,
        error: None,
        typed_account: String::new(),
        typed_bank: String::new(),
    }
}

async fn render(
    state: &AppState,
    ctx: &PageCtx,
    errors: Vec<FieldError>,
    failed: Option<TypedBenefit>,
) -> Result<Response, PageError> {
    let enterprises = match &ctx.caller.actor {
        Actor::Person { enterprises, .. } => enterprises.clone(),
        Actor::Anonymous => return Ok(ctx.to_login().into_response()),
        Actor::Staff { .. } => return Err(ctx.error(ApiError::NotFound)),
    };
    let t = ctx.t;
    let mut blocks = Vec::new();
    for code in enterprises {
        let name =
            crate::cases::store::enterprise_name(&state.db, &code).await.map_err(|e| ctx.error(e.into()))?;
        let views =
            service::enterprise_benefits(state, &ctx.caller, &code).await.map_err(|e| ctx.error(e))?;
        let mut groups: Vec<(String, Vec<Card>)> = [
            t.pick("待您确认", "Waiting for you"),
            t.pick("已拨付或待拨付", "Paid or being paid"),
            t.pick("符合条件", "You qualify"),
            t.pick("其他政策", "Other policies"),
        ]
        .into_iter()
        .map(|h| (h.to_string(), Vec::new()))
        .collect();
        for v in views {
            let mut c = card(&t, v);
            if let Some(typed) = &failed
                && typed.policy == c.view.policy
            {
                c.error = errors.iter().find(|e| e.field == "account").cloned();
                c.typed_account = typed.account.clone();
                c.typed_bank = typed.bank.clone();
                c.follow_up_errors = errors
                    .iter()
                    .filter(|e| ["rating", "effect", "jobs"].contains(&e.field.as_str()))
                    .cloned()
                    .collect();
                c.typed_rating = typed.rating.clone();
                c.typed_effect = typed.effect.clone();
                c.typed_jobs = typed.jobs.clone();
                c.rating_invalid = c.follow_up_errors.iter().any(|e| e.field == "rating");
                for r in &mut c.ratings {
                    r.chosen = typed.rating.trim() == r.stars.to_string();
                }
            }
            let group = match c.view.status.as_str() {
                "awaiting_confirmation" => 0,
                _ if c.view.can_follow_up => 0,
                "paid" | "confirmed" => 1,
                "eligible_next_run" | "apply" | "applied" => 2,
                _ => 3,
            };
            groups[group].1.push(c);
        }
        groups.retain(|(_, cards)| !cards.is_empty());
        blocks.push(EnterpriseBlock { code: code.clone(), name: name.unwrap_or_default(), groups });
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = BenefitsPage { t, user: ctx.user(), csrf: ctx.csrf.clone(), blocks, errors };
    Ok(ctx.render(status, &page))
}

/// `/my/benefits`: every policy for each enterprise the person represents.
pub async fn my_benefits(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    render(&state, &ctx, Vec::new(), None).await
}

/// Confirming the account (`confirm`) or declining (`decline`) from the page.
pub async fn answer(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((code, policy, action)): Path<(String, String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let typed = TypedBenefit {
        policy: policy.clone(),
        account: field("account"),
        bank: field("bank"),
        rating: field("rating"),
        effect: field("effect"),
        jobs: field("jobs"),
    };
    let done = if action == "follow_up" {
        let jobs = typed.jobs.trim();
        let input = crate::policies::window::FollowUpInput {
            rating: typed.rating.trim().parse().ok(),
            effect: typed.effect.clone(),
            // Unreadable numbers are out of range, so the error names the field.
            jobs: if jobs.is_empty() { None } else { Some(jobs.parse().unwrap_or(-1)) },
        };
        service::follow_up(&state, &ctx.caller, &code, &policy, input).await
    } else {
        let body = Answer { account: typed.account.clone(), bank: typed.bank.clone() };
        service::answer(&state, &ctx.caller, &code, &policy, &action, body).await
    };
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/my/benefits#policy-{policy}")).into_response()),
        Err(ApiError::Validation(errors)) => render(&state, &ctx, errors, Some(typed)).await,
        Err(e) => Err(ctx.error(e)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn money_is_grouped_by_thousands() {
        assert_eq!(super::yuan(740_740), "¥7,407.40");
        assert_eq!(super::yuan(5), "¥0.05");
        assert_eq!(super::yuan(12_345_678_900), "¥123,456,789.00");
    }
}

/// A policy as the public pages show it.
pub struct PolicyLine {
    pub code: String,
    pub name: String,
    pub department: String,
    pub automatic: bool,
    pub summary: String,
    pub window: String,
    pub budget: String,
    pub cap: Option<String>,
}

fn line(p: &super::library::Policy, names: &std::collections::BTreeMap<String, String>) -> PolicyLine {
    PolicyLine {
        code: p.code.clone(),
        name: p.name.clone(),
        department: names.get(&p.department).cloned().unwrap_or_else(|| p.department.clone()),
        automatic: p.mode == super::library::Mode::Automatic,
        summary: p.summary.clone(),
        window: format!("{} — {}", p.window.0, p.window.1),
        budget: yuan(p.budget_fen),
        cap: p.cap_fen.map(yuan),
    }
}

#[derive(Template)]
#[template(path = "policies.html")]
struct ListPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    q: String,
    policies: Vec<PolicyLine>,
}

#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub q: String,
}

/// `/policies`: the city's policies (企业找政策), searchable by words in the name or summary.
pub async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    crate::http::extract::Query(q): crate::http::extract::Query<ListQuery>,
) -> Result<Response, PageError> {
    let names =
        crate::platform::directory::department_names(&state.db).await.map_err(|e| ctx.error(e.into()))?;
    let words: Vec<String> = q.q.split_whitespace().map(str::to_lowercase).collect();
    let policies = service::in_force(&state)
        .await
        .map_err(|e| ctx.error(e))?
        .iter()
        .map(|p| line(p, &names))
        .filter(|l| {
            let hay = format!("{} {} {} {}", l.name, l.summary, l.department, l.code).to_lowercase();
            words.iter().all(|w| hay.contains(w))
        })
        .collect();
    let page = ListPage { t: ctx.t, user: ctx.user(), csrf: ctx.csrf.clone(), q: q.q, policies };
    Ok(ctx.render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    policy: PolicyLine,
    /// The eligibility rule's conditions in plain words.
    conditions: Vec<String>,
    /// For the issuing department's policy officers: the draft form, its result, the books.
    officer: bool,
    /// The draft's two rules: (name, label, text, error).
    rules: Vec<(&'static str, String, String, Option<FieldError>)>,
    errors: Vec<FieldError>,
    simulation: Option<service::Simulation>,
    /// The simulation by district, industry section and size: (heading, rows).
    breakdowns: Vec<(String, Vec<service::Breakdown>)>,
    books: Option<super::benefits::Reconciliation>,
    runs: Vec<super::store::Run>,
    /// The policy's versions with whether this officer may decide each (not their own).
    versions: Vec<(super::versions::Version, String, bool)>,
    /// The proposal's date and note: (name, label, input type, value, error).
    version_fields: Vec<(&'static str, String, &'static str, String, Option<FieldError>)>,
    /// A policy on application: how the window handles it, and whether it takes applications today.
    route: Option<&'static str>,
    open_for_applications: bool,
    window_item: &'static str,
    /// For the officers (全程督办, 跟踪问效): the latest applications with their lights, and
    /// the follow-ups with their average rating.
    applications: Vec<ApplicationLine>,
    follow_ups: Vec<FollowUpLine>,
    average_rating: Option<String>,
}

/// One application of the policy, for its department.
pub struct ApplicationLine {
    number: String,
    applicant: String,
    state: String,
    light_class: &'static str,
    light: &'static str,
    due: String,
}

/// One follow-up, for the department.
pub struct FollowUpLine {
    enterprise: String,
    stars: String,
    effect: String,
    jobs: String,
    at: String,
}

/// What the officer typed in the rules form (kept after an error).
#[derive(Clone, Debug, Default)]
struct Typed {
    draft: service::Draft,
    effective_on: String,
    note: String,
}

async fn render_policy(
    state: &AppState,
    ctx: &PageCtx,
    code: &str,
    typed: Option<Typed>,
    outcome: Result<Option<service::Simulation>, Vec<FieldError>>,
) -> Result<Response, PageError> {
    let p = service::in_force(state)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .find(|p| p.code == code)
        .ok_or_else(|| ctx.error(ApiError::NotFound))?;
    let names =
        crate::platform::directory::department_names(&state.db).await.map_err(|e| ctx.error(e.into()))?;
    let t = ctx.t;
    let officer = crate::identity::authz::decide(
        &ctx.caller.actor,
        crate::identity::authz::Action::Review,
        &crate::identity::authz::Resource::PolicyWork { department: p.department.clone() },
    ) == crate::identity::authz::Decision::Allow;
    let (books, runs, versions) = if officer {
        let me = ctx.caller.actor.audit_name();
        let books = super::store::reconcile(&state.db, &p.code, Some(p.budget_fen))
            .await
            .map_err(|e| ctx.error(e.into()))?;
        let runs = super::store::runs_of(&state.db, &p.code).await.map_err(|e| ctx.error(e.into()))?;
        let versions =
            super::store::versions_of(&state.db, &p.code).await.map_err(|e| ctx.error(e.into()))?;
        let versions = versions
            .into_iter()
            .map(|v| {
                let shown = crate::platform::clock::shown_time(&v.proposed_at);
                let theirs = v.proposed_by != me;
                (v, shown, theirs)
            })
            .collect();
        (Some(books), runs, versions)
    } else {
        (None, Vec::new(), Vec::new())
    };
    let on_application = p.mode == super::library::Mode::OnApplication;
    let (mut applications, mut follow_ups) = (Vec::new(), Vec::new());
    if officer && on_application {
        let fragment = format!("\"policy\":\"{}\"", p.code);
        let cases =
            crate::cases::store::of_item_with_answer(&state.db, super::window::WINDOW_ITEM, &fragment, 50)
                .await
                .map_err(|e| ctx.error(e.into()))?;
        let calendar = state.calendar().await;
        let now = state.clock().now();
        applications = cases
            .iter()
            .map(|c| {
                use crate::cases::domain::Light;
                let light = c.light(&calendar, now, state.config.yellow_days);
                let (light_class, label) = match light {
                    Light::Green => ("light green", t.pick("正常", "On time")),
                    Light::Yellow => ("light yellow", t.pick("临期", "Due soon")),
                    Light::Red => ("light red", t.pick("超期", "Overdue")),
                    Light::None => ("light none", t.pick("—", "—")),
                };
                ApplicationLine {
                    number: c.number.clone(),
                    applicant: c.applicant_name.clone(),
                    state: t.pick(c.state.label_zh(), c.state.label_en()).to_string(),
                    light_class,
                    light: label,
                    due: c
                        .due_now(&calendar, crate::platform::clock::beijing_date(now))
                        .map_or_else(String::new, |d| d.to_string()),
                }
            })
            .collect();
        follow_ups = super::store::follow_ups_of_policy(&state.db, &p.code)
            .await
            .map_err(|e| ctx.error(e.into()))?
            .into_iter()
            .map(|(enterprise, f)| {
                let n = usize::try_from(f.rating.clamp(0, 5)).unwrap_or(0);
                FollowUpLine {
                    enterprise,
                    stars: format!("{}{}", "★".repeat(n), "☆".repeat(5 - n)),
                    effect: f.effect,
                    jobs: f.jobs.map_or_else(String::new, |j| j.to_string()),
                    at: crate::platform::clock::shown_time(&f.recorded_at),
                }
            })
            .collect();
    }
    let average_rating = (!follow_ups.is_empty()).then(|| {
        let stars: usize = follow_ups.iter().map(|f| f.stars.chars().filter(|c| *c == '★').count()).sum();
        format!("{:.1}", stars as f64 / follow_ups.len() as f64)
    });
    let today = state.clock().today();
    let route = on_application.then(|| match super::window::route_of(&p) {
        super::window::Route::Direct => t.pick(
            "窗口直办：综合窗口受理时按共享数据当场核定",
            "Decided at the window on the shared data when accepted",
        ),
        super::window::Route::Transfer => t.pick(
            "转办：综合窗口受理后转主管部门审核材料后核定",
            "Accepted at the window, then decided by the issuing department after examining the documents",
        ),
    });
    let open_for_applications = on_application && (p.window.0..=p.window.1).contains(&today);
    let typed = typed.unwrap_or_default();
    let draft = typed.draft;
    let (simulation, errors) = match outcome {
        Ok(s) => (s, Vec::new()),
        Err(e) => (None, e),
    };
    let error = |field: &str| errors.iter().find(|e| e.field == field).cloned();
    let rules = vec![
        (
            "eligibility",
            t.pick("享受条件（eligibility）", "Eligibility").to_string(),
            draft.eligibility.unwrap_or_else(|| p.eligibility_source.clone()),
            error("eligibility"),
        ),
        (
            "amount",
            t.pick("金额（amount，元）", "Amount (yuan)").to_string(),
            draft.amount.unwrap_or_else(|| p.amount_source.clone()),
            error("amount"),
        ),
    ];
    let breakdowns = simulation
        .as_ref()
        .map(|s| {
            vec![
                (t.pick("按区县", "By district").to_string(), s.by_district.clone()),
                (t.pick("按行业门类", "By industry section").to_string(), s.by_industry.clone()),
                (t.pick("按企业规模", "By size").to_string(), s.by_size.clone()),
            ]
        })
        .unwrap_or_default();
    let effective_on =
        if typed.effective_on.is_empty() { state.clock().today().to_string() } else { typed.effective_on };
    let version_fields = vec![
        (
            "effective_on",
            t.pick("生效日期", "Takes effect on").to_string(),
            "date",
            effective_on,
            error("effective_on"),
        ),
        ("note", t.pick("调整理由", "Why the rules change").to_string(), "text", typed.note, error("note")),
    ];
    let page = PolicyPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        conditions: super::explain::describe(&p.eligibility)
            .into_iter()
            .map(|(zh, en)| t.pick(&zh, &en).to_string())
            .collect(),
        officer,
        rules,
        policy: line(&p, &names),
        errors,
        simulation,
        breakdowns,
        books,
        runs,
        versions,
        version_fields,
        route,
        open_for_applications,
        window_item: super::window::WINDOW_ITEM,
        applications,
        follow_ups,
        average_rating,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.render(status, &page))
}

/// `/policies/{code}`: the policy's page (政策解读, conditions, window, budget); the issuing
/// department's policy officers also get the what-if simulation and the books.
pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    render_policy(&state, &ctx, &code, None, Ok(None)).await
}

/// The simulation form: runs the draft over the whole register and shows the result.
pub async fn simulate(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let typed = typed(&form);
    match service::simulate(&state, &ctx.caller, &code, typed.draft.clone()).await {
        Ok(s) => render_policy(&state, &ctx, &code, Some(typed), Ok(Some(s))).await,
        Err(ApiError::Validation(errors)) => {
            render_policy(&state, &ctx, &code, Some(typed), Err(errors)).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

fn typed(form: &HashMap<String, String>) -> Typed {
    Typed {
        draft: service::Draft {
            eligibility: form.get("eligibility").cloned(),
            amount: form.get("amount").cloned(),
        },
        effective_on: form.get("effective_on").cloned().unwrap_or_default(),
        note: form.get("note").cloned().unwrap_or_default(),
    }
}

/// Proposing the draft as the policy's next version (from the same form).
pub async fn propose(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let typed = typed(&form);
    let proposal = super::versions::Proposal {
        eligibility: typed.draft.eligibility.clone(),
        amount: typed.draft.amount.clone(),
        effective_on: typed.effective_on.clone(),
        note: typed.note.clone(),
        ..super::versions::Proposal::default()
    };
    match service::propose(&state, &ctx.caller, &code, proposal).await {
        Ok(_) => Ok(Redirect::to(&format!("/policies/{code}#versions")).into_response()),
        Err(ApiError::Validation(errors)) => {
            render_policy(&state, &ctx, &code, Some(typed), Err(errors)).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

/// Approving or rejecting a proposed version from the page.
pub async fn decide_version(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((code, version, action)): Path<(String, i64, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let d = service::VersionDecision {
        note: form.get("note").cloned().unwrap_or_default(),
        row_version: form.get("row_version").and_then(|v| v.parse().ok()).unwrap_or(0),
    };
    match service::decide_version(&state, &ctx.caller, &code, version, &action, d).await {
        Ok(_) => Ok(Redirect::to(&format!("/policies/{code}#versions")).into_response()),
        Err(ApiError::Validation(errors)) => render_policy(&state, &ctx, &code, None, Err(errors)).await,
        Err(e) => Err(ctx.error(e)),
    }
}
