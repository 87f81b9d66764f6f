//! The monitoring sweep, and the supervision orders as their readers see them.

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use super::store::{self, Order};
use super::{Level, order_number, to_raise};
use crate::app::AppState;
use crate::cases::store::Queue;
use crate::http::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Caller;
use crate::identity::authz::{Action, Area, Decision, Resource, decide};

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SweepReport {
    /// Open things with a deadline looked at: cases, supplements, post-checks, complaints,
    /// bad-review rectifications, data requests and reform milestones.
    pub watched: usize,
    /// Raised yellow (预警) this time.
    pub yellow: usize,
    /// Raised red (超期) this time, each with a supervision order.
    pub red: usize,
    /// Booked hall appointments whose slot ended without the applicant arriving, marked no-show
    /// (爽约) this time.
    pub no_shows: usize,
}

/// One sweep: whatever turned yellow or red since it was last raised is raised now, once, and
/// appointments past their slot without an arrival become no-shows. Safe to run in several
/// processes at once (the alert's key and the appointment's status decide).
pub async fn sweep(state: &AppState) -> ApiResult<SweepReport> {
    let cal = state.calendar().await;
    let now = state.clock().now();
    let today = state.clock().today();
    let no_shows = crate::halls::store::mark_no_shows(
        &state.db,
        &crate::halls::domain::slot_text(crate::platform::clock::beijing_local(now)),
    )
    .await?;
    let watched = super::sources::watched(state, &cal, now).await?;
    let subjects: Vec<String> =
        watched.iter().filter(|w| w.level.is_some()).map(|w| w.subject.clone()).collect();
    let raised = store::raised(&state.db, &subjects).await?;
    let mut report = SweepReport { watched: watched.len(), no_shows, ..SweepReport::default() };
    for r in to_raise(&watched, &raised, &cal, today) {
        let number = match r.level {
            Level::Red => {
                let n = crate::cases::store::reserve_decision_number(
                    &state.db,
                    today.year(),
                    "supervision_order",
                )
                .await?;
                Some(order_number(today.year(), n))
            }
            Level::Yellow => None,
        };
        let level = r.level;
        if store::raise(&state.db, r, number).await? {
            match level {
                Level::Yellow => report.yellow += 1,
                Level::Red => report.red += 1,
            }
        }
    }
    Ok(report)
}

/// Runs a sweep now (the supervision office's button; the job runs it on its own).
pub async fn sweep_now(state: &AppState, caller: &Caller) -> ApiResult<SweepReport> {
    caller.require_user()?;
    if decide(&caller.actor, Action::Read, &Resource::CityWide(Area::Cases)) != Decision::Allow {
        return Err(ApiError::Forbidden);
    }
    sweep(state).await
}

/// The orders the caller may read: every one for the supervision office, their own
/// department's for a department's staff who answer for it.
pub async fn orders(state: &AppState, caller: &Caller) -> ApiResult<Vec<Order>> {
    caller.require_user()?;
    if decide(&caller.actor, Action::Read, &Resource::CityWide(Area::Cases)) == Decision::Allow {
        return Ok(store::orders(&state.db, None).await?);
    }
    let Some(dept) = crate::cases::service::staff_department(&caller.actor) else {
        return Err(ApiError::Forbidden);
    };
    if decide(&caller.actor, Action::Read, &Resource::SupervisionOrder { department: dept.clone() })
        != Decision::Allow
    {
        return Err(ApiError::Forbidden);
    }
    Ok(store::orders(&state.db, Some(&dept)).await?)
}

/// A supervision order typed by the supervision office.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct IssueRequest {
    /// The department to put it right (its code).
    #[serde(default)]
    pub department: String,
    /// What is to be put right.
    #[serde(default)]
    pub title: String,
    /// The platform record it is about, if any: `case:NUMBER`, `complaint:ID` ….
    #[serde(default)]
    pub subject: String,
    /// The date to put it right by, `YYYY-MM-DD` (after today).
    #[serde(default)]
    pub rectify_by: String,
}

/// Issues an order by hand: the supervision office only. The department's head is told and
/// closes it with the rectification like any other.
pub async fn issue(state: &AppState, caller: &Caller, req: IssueRequest) -> ApiResult<Order> {
    let user = caller.require_user()?.to_string();
    let resource = Resource::SupervisionOrder { department: req.department.trim().to_string() };
    match decide(&caller.actor, Action::Create, &resource) {
        Decision::Allow => {}
        Decision::Unauthenticated => return Err(ApiError::Unauthenticated),
        Decision::Forbidden | Decision::Hidden => return Err(ApiError::Forbidden),
    }
    let names = crate::platform::directory::department_names(&state.db).await?;
    let today = state.clock().today();
    let order = super::check_manual_order(
        &req.department,
        names.contains_key(req.department.trim()),
        &req.title,
        &req.subject,
        &req.rectify_by,
        today,
    )
    .map_err(ApiError::Validation)?;
    let n =
        crate::cases::store::reserve_decision_number(&state.db, today.year(), "supervision_order").await?;
    let id = store::issue(&state.db, order, order_number(today.year(), n), user).await?;
    store::order(&state.db, &id).await?.ok_or(ApiError::NotFound)
}

/// The department head's rectification closing an order.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CloseRequest {
    /// What was done to put it right (required).
    #[serde(default)]
    pub rectification: String,
    /// The order's version as read.
    pub version: Option<i64>,
}

/// Closes an order with its rectification: the department's head only; the supervision office
/// reads but does not close (it comments and orders, it does not do the work).
pub async fn close(state: &AppState, caller: &Caller, id: &str, req: CloseRequest) -> ApiResult<Order> {
    let user = caller.require_user()?.to_string();
    let order = store::order(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    let resource = Resource::SupervisionOrder { department: order.department.clone() };
    match decide(&caller.actor, Action::Update, &resource) {
        Decision::Allow => {}
        Decision::Forbidden => return Err(ApiError::Forbidden),
        Decision::Unauthenticated => return Err(ApiError::Unauthenticated),
        Decision::Hidden => return Err(ApiError::NotFound),
    }
    let rectification = req.rectification.trim().to_string();
    if rectification.is_empty() {
        return Err(ApiError::Validation(vec![FieldError::required(
            "rectification",
            "整改情况",
            "The rectification",
        )]));
    }
    if rectification.chars().count() > 2000 {
        return Err(ApiError::Validation(vec![FieldError::new(
            "rectification",
            "too_long",
            "整改情况不能超过2000个字",
            "The rectification is at most 2000 characters",
        )]));
    }
    let conflict = || ApiError::Conflict {
        code: "version_conflict",
        zh: "督办单已被他人处理，请刷新后重试".into(),
        en: "Someone else acted on the order first; reload and try again".into(),
    };
    if order.status != "open" || req.version.is_some_and(|v| v != order.version) {
        return Err(conflict());
    }
    let name = match &caller.name {
        Some(n) => n.clone(),
        None => crate::platform::directory::user_name(&state.db, &user).await?,
    };
    match store::close(&state.db, id.to_string(), order.version, rectification, user, name).await {
        Ok(()) => {}
        Err(crate::store::StoreError::Conflict) => return Err(conflict()),
        Err(e) => return Err(e.into()),
    }
    store::order(&state.db, id).await?.ok_or(ApiError::NotFound)
}

/// The supervision figures as OpenMetrics gauges, for a city's monitoring to alert on: open
/// cases by department and light, supervision orders by department and status, and what the
/// sweep has raised by level. Read from the database at each scrape, so every process answers
/// the same.
pub async fn gauges(state: &AppState) -> ApiResult<String> {
    use std::fmt::Write;
    let cases =
        crate::cases::store::queue_clocks(&state.db, &Queue::Running { department: None }, 1_000_000).await?;
    let cal = state.calendar().await;
    let names = crate::cases::api::department_names(state).await?;
    let s = crate::cases::api::supervision_of(
        &cases,
        &names,
        &cal,
        state.clock().now(),
        state.config.yellow_days,
    );
    let mut out = String::new();
    let _ = writeln!(out, "# HELP quanban_supervision_cases Open cases by department and deadline light.");
    let _ = writeln!(out, "# TYPE quanban_supervision_cases gauge");
    for row in &s.by_department {
        for (light, n) in [
            ("green", row.counts.green),
            ("yellow", row.counts.yellow),
            ("red", row.counts.red),
            ("none", row.counts.none),
        ] {
            let _ = writeln!(
                out,
                "quanban_supervision_cases{{department=\"{}\",light=\"{light}\"}} {n}",
                row.code
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP quanban_supervision_orders Supervision orders (督办单) by department and status."
    );
    let _ = writeln!(out, "# TYPE quanban_supervision_orders gauge");
    for (department, status, n) in store::order_counts(&state.db).await? {
        let _ = writeln!(
            out,
            "quanban_supervision_orders{{department=\"{department}\",status=\"{status}\"}} {n}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP quanban_monitoring_alerts Late cases raised by the electronic-monitoring sweep, by level."
    );
    let _ = writeln!(out, "# TYPE quanban_monitoring_alerts gauge");
    for (level, n) in store::alert_counts(&state.db).await? {
        let _ = writeln!(out, "quanban_monitoring_alerts{{level=\"{level}\"}} {n}");
    }
    // The department assessment of the configured period so far (the ranking page's figures).
    let scheme = state.config.assessment_scheme().map_err(ApiError::Internal)?;
    let period = crate::assessment::Period::current(scheme.period, state.clock().today());
    let a = crate::assessment::service::compute(state, period).await?;
    let _ = writeln!(
        out,
        "# HELP quanban_assessment_score Department assessment score (0-100) for the current period; departments without records are left out."
    );
    let _ = writeln!(out, "# TYPE quanban_assessment_score gauge");
    for c in &a.scorecards {
        if let Some(score) = c.score {
            let _ = writeln!(out, "quanban_assessment_score{{department=\"{}\"}} {score}", c.department);
        }
    }
    let _ = writeln!(
        out,
        "# HELP quanban_assessment_figure Department assessment figures (ratios, or working days for benefit_days) for the current period."
    );
    let _ = writeln!(out, "# TYPE quanban_assessment_figure gauge");
    for c in &a.scorecards {
        for f in &c.figures {
            if let Some(v) = f.value {
                let _ = writeln!(
                    out,
                    "quanban_assessment_figure{{department=\"{}\",indicator=\"{}\"}} {v}",
                    c.department,
                    f.indicator.code()
                );
            }
        }
    }
    Ok(out)
}
