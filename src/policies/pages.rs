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

/// Money as people read it: ¥7,407.40.
pub fn yuan(fen: i64) -> String {
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
