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
        "awaiting_confirmation" | "eligible_next_run" | "apply" => "warn",
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
    Card {
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
    failed: Option<(String, String, String)>,
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
            if let Some((policy, account, bank)) = &failed
                && *policy == c.view.policy
            {
                c.error = errors.iter().find(|e| e.field == "account").cloned();
                c.typed_account = account.clone();
                c.typed_bank = bank.clone();
            }
            let group = match c.view.status.as_str() {
                "awaiting_confirmation" => 0,
                "paid" | "confirmed" => 1,
                "eligible_next_run" | "apply" => 2,
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
    let body = Answer {
        account: form.get("account").cloned().unwrap_or_default(),
        bank: form.get("bank").cloned().unwrap_or_default(),
    };
    let typed = (policy.clone(), body.account.clone(), body.bank.clone());
    match service::answer(&state, &ctx.caller, &code, &policy, &action, body).await {
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
