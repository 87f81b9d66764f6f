//! JSON API of enterprise policies: an enterprise's benefits (一口办理), the representative's
//! answer, what-if simulation of a draft rule, and a policy's runs with its books.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::benefits::Reconciliation;
use super::service::{self, Answer, BenefitView, Draft, Simulation, VersionDecision};
use super::store::Run;
use super::versions::{Proposal, Version};
use crate::app::AppState;
use crate::http::extract::{ApiJsonOrEmpty, Path};
use crate::http::{ApiJson, ApiResult, Caller};
use crate::identity::authz::{Action, Decision, Resource, decide};

/// Every policy for one enterprise: received, owed and waiting for confirmation, eligible if it
/// applies, or not eligible and why (for its representatives and the policy departments).
#[utoipa::path(get, path = "/api/v1/enterprises/{code}/benefits", tag = "policies", security(("bearer" = [])),
    params(("code" = String, Path, description = "Unified social credit code")),
    responses((status = 200, body = [BenefitView]), (status = 404, body = crate::http::error::Problem)))]
pub async fn benefits(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<BenefitView>>> {
    Ok(Json(service::enterprise_benefits(&state, &caller, &code).await?))
}

/// What the representative sends about a benefit: the account to `confirm` (`account`, `bank`),
/// nothing to `decline`, or the follow-up after payment (`follow_up`: `rating`, `effect`, `jobs`).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct BenefitStep {
    /// `confirm`: the receiving bank account number (10–30 digits).
    pub account: String,
    /// `confirm`: the bank's name (optional).
    pub bank: String,
    /// `follow_up`: 1 to 5 stars.
    pub rating: Option<i64>,
    /// `follow_up`: what the money achieved (up to 500 characters).
    pub effect: String,
    /// `follow_up`: jobs created or kept (optional).
    pub jobs: Option<i64>,
}

/// The representative confirms the receiving account (`confirm`, with `account`) or declines
/// (`decline`) a benefit waiting for confirmation; after payment, records the follow-up
/// (`follow_up`, 跟踪问效). A benefit awarded on application is paid when the account is confirmed.
#[utoipa::path(post, path = "/api/v1/enterprises/{code}/benefits/{policy}/{action}", tag = "policies",
    request_body = BenefitStep, security(("bearer" = [])),
    params(("code" = String, Path, description = "Unified social credit code"),
        ("policy" = String, Path, description = "Policy code"),
        ("action" = String, Path, description = "confirm | decline | follow_up")),
    responses((status = 200, body = BenefitView), (status = 409, body = crate::http::error::Problem)))]
pub async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, policy, action)): Path<(String, String, String)>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<BenefitStep>,
) -> ApiResult<Json<BenefitView>> {
    if action == "follow_up" {
        let input =
            super::window::FollowUpInput { rating: body.rating, effect: body.effect, jobs: body.jobs };
        return Ok(Json(service::follow_up(&state, &caller, &code, &policy, input).await?));
    }
    let answer = Answer { account: body.account, bank: body.bank };
    Ok(Json(service::answer(&state, &caller, &code, &policy, &action, answer).await?))
}

/// Runs a draft of the policy's eligibility and amount rules over the whole register beside the
/// current ones: counts, money, by district, industry and size, who gains and who loses.
/// Nothing is written (the register read is logged).
#[utoipa::path(post, path = "/api/v1/policies/{code}/simulate", tag = "policies", request_body = Draft,
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Policy code")),
    responses((status = 200, body = Simulation), (status = 422, body = crate::http::error::Problem)))]
pub async fn simulate(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    ApiJson(draft): ApiJson<Draft>,
) -> ApiResult<Json<Simulation>> {
    Ok(Json(service::simulate(&state, &caller, &code, draft).await?))
}

/// A policy's runs, newest first, and its books.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RunsView {
    pub policy: String,
    pub runs: Vec<Run>,
    pub reconciliation: Reconciliation,
    /// Whether the books add up (payments agree with the benefits, nothing beyond the budget).
    pub adds_up: bool,
}

/// A policy's 免申即享 runs and its reconciliation (the issuing department's policy officers).
#[utoipa::path(get, path = "/api/v1/policies/{code}/runs", tag = "policies", security(("bearer" = [])),
    params(("code" = String, Path, description = "Policy code")),
    responses((status = 200, body = RunsView), (status = 404, body = crate::http::error::Problem)))]
pub async fn runs(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<RunsView>> {
    caller.require_user()?;
    let p = service::in_force(&state)
        .await?
        .into_iter()
        .find(|p| p.code == code)
        .ok_or(crate::http::ApiError::NotFound)?;
    match decide(&caller.actor, Action::Read, &Resource::PolicyWork { department: p.department.clone() }) {
        Decision::Allow => {}
        Decision::Unauthenticated => return Err(crate::http::ApiError::Unauthenticated),
        _ => return Err(crate::http::ApiError::NotFound),
    }
    let reconciliation = super::store::reconcile(&state.db, &p.code, Some(p.budget_fen)).await?;
    Ok(Json(RunsView {
        policy: p.code.clone(),
        runs: super::store::runs_of(&state.db, &p.code).await?,
        adds_up: reconciliation.adds_up(),
        reconciliation,
    }))
}

/// Proposes new rules (or cap, budget) for a policy, taking effect on a date once another officer
/// of the issuing department approves them. A rule that does not parse or type-check is refused
/// (422) naming the field and the character.
#[utoipa::path(post, path = "/api/v1/policies/{code}/versions", tag = "policies", request_body = Proposal,
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Policy code")),
    responses((status = 201, body = Version), (status = 422, body = crate::http::error::Problem)))]
pub async fn propose(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    ApiJson(proposal): ApiJson<Proposal>,
) -> ApiResult<(axum::http::StatusCode, Json<Version>)> {
    Ok((axum::http::StatusCode::CREATED, Json(service::propose(&state, &caller, &code, proposal).await?)))
}

/// A policy's versions, newest first (the issuing department's officers and heads).
#[utoipa::path(get, path = "/api/v1/policies/{code}/versions", tag = "policies", security(("bearer" = [])),
    params(("code" = String, Path, description = "Policy code")),
    responses((status = 200, body = [Version]), (status = 404, body = crate::http::error::Problem)))]
pub async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<Version>>> {
    Ok(Json(service::versions(&state, &caller, &code).await?))
}

/// Approves or rejects a proposed version (`approve` | `reject`; another person than the
/// proposer; a rejection needs a note).
#[utoipa::path(post, path = "/api/v1/policies/{code}/versions/{version}/{action}", tag = "policies",
    request_body = VersionDecision, security(("bearer" = [])),
    params(("code" = String, Path, description = "Policy code"), ("version" = i64, Path, description = "Version number"),
        ("action" = String, Path, description = "approve | reject")),
    responses((status = 200, body = Version), (status = 409, body = crate::http::error::Problem)))]
pub async fn decide_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, version, action)): Path<(String, i64, String)>,
    ApiJsonOrEmpty(d): ApiJsonOrEmpty<VersionDecision>,
) -> ApiResult<Json<Version>> {
    Ok(Json(service::decide_version(&state, &caller, &code, version, &action, d).await?))
}
