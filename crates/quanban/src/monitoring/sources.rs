//! What the sweep watches, read from each area as it stands now: every open thing with a
//! deadline becomes a [`Watched`] with its light by the platform's one deadline rule
//! (`calendar::deadline`). Subjects carry what makes a deadline unique, so that a complaint
//! reopened with a new date, or a second 补正 on the same case, is raised again.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Kind, Level, Watched};
use crate::app::AppState;
use crate::calendar::deadline::{Deadline, Signal};
use crate::calendar::domain::Calendar;
use crate::cases::domain::{CaseState, Light};
use crate::cases::store::Queue;
use crate::complaints::domain::Card;
use crate::feedback::domain::{running_step, step_signal};
use crate::http::error::ApiResult;
use crate::identity::authz::Role;
use crate::platform::clock::{beijing_date, parse_time};

fn level(signal: Signal) -> Option<Level> {
    match signal {
        Signal::Green => None,
        Signal::Yellow => Some(Level::Yellow),
        Signal::Red => Some(Level::Red),
    }
}

fn subject(kind: Kind, rest: &str) -> String {
    format!("{}:{rest}", kind.prefix())
}

/// Everything watched now, from every area.
pub async fn watched(state: &AppState, cal: &Calendar, now: DateTime<Utc>) -> ApiResult<Vec<Watched>> {
    let mut out = cases_and_supplements(state, cal, now).await?;
    out.extend(post_checks(state, cal, now).await?);
    out.extend(complaints(state, cal, now).await?);
    out.extend(rectifications(state, cal, now).await?);
    out.extend(data_requests(state, cal, now).await?);
    out.extend(crate::reform::service::watched(state).await?);
    Ok(out)
}

/// Open cases by their deadline (acceptance or decision), and those waiting for a 补正 by the
/// applicant's days to answer it (the case's own clock is stopped meanwhile).
async fn cases_and_supplements(
    state: &AppState,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Watched>> {
    let cases =
        crate::cases::store::queue_clocks(&state.db, &Queue::Running { department: None }, 1_000_000).await?;
    let today = beijing_date(now);
    let days = state.config.supplement_days;
    let mut out = Vec::with_capacity(cases.len());
    for c in cases.iter().filter(|c| !c.is_bundle()) {
        if c.state == CaseState::SupplementRequested {
            // Asked after acceptance the pause has its date; asked before, nothing else has
            // changed the case since.
            let Some(asked) = c.paused_since.or_else(|| parse_time(&c.updated_at).map(beijing_date)) else {
                continue;
            };
            let due = cal.add_working_days(asked, days);
            out.push(Watched {
                subject: subject(Kind::Supplement, &format!("{}@{asked}", c.number)),
                department: c.department.clone(),
                title: format!("{}（{}）", c.title, c.number),
                officer: None,
                fallback_role: Some(Role::WindowClerk),
                due: Some(due),
                level: level(Deadline::working_days(due, days).signal(cal, now, state.config.yellow_days)),
            });
            continue;
        }
        let level = match c.light(cal, now, state.config.yellow_days) {
            Light::Yellow => Some(Level::Yellow),
            Light::Red => Some(Level::Red),
            Light::Green | Light::None => None,
        };
        out.push(Watched {
            subject: subject(Kind::Case, &c.number),
            department: c.department.clone(),
            title: format!("{}（{}）", c.title, c.number),
            // The officer who accepted it is looked up when it is raised (few are).
            officer: None,
            fallback_role: None,
            due: c.due_now(cal, today).or_else(|| c.acceptance_due(cal)),
            level,
        });
    }
    Ok(out)
}

/// Open post-approval checks of 告知承诺 approvals, by their working days.
async fn post_checks(state: &AppState, cal: &Calendar, now: DateTime<Utc>) -> ApiResult<Vec<Watched>> {
    let days = state.config.post_check_days;
    let mut out = Vec::new();
    for p in super::store::open_post_checks(&state.db).await? {
        let Ok(due) = NaiveDate::parse_from_str(&p.due_on, "%Y-%m-%d") else { continue };
        out.push(Watched {
            subject: subject(Kind::PostCheck, &format!("{}/{}", p.case_number, p.id)),
            department: p.department,
            title: format!("事后核查：{}（{}）", p.case_title, p.case_number),
            officer: None,
            fallback_role: Some(Role::Reviewer),
            due: Some(due),
            level: level(Deadline::working_days(due, days).signal(cal, now, state.config.yellow_days)),
        });
    }
    Ok(out)
}

/// Complaints with a department: the answer while dispatched, the resolution once answered
/// (the hotline's cards: urgent categories run in clock hours).
async fn complaints(state: &AppState, cal: &Calendar, now: DateTime<Utc>) -> ApiResult<Vec<Watched>> {
    let filter = crate::complaints::store::Filter {
        statuses: vec!["dispatched".into(), "responded".into()],
        limit: 1_000_000,
        ..Default::default()
    };
    let taxonomy = state.complaints.taxonomy();
    let mut out = Vec::new();
    for c in crate::complaints::store::list(&state.db, &filter).await? {
        let Some(department) = c.department.clone() else { continue };
        let Some((step, due)) = crate::complaints::domain::running_deadline(&c) else { continue };
        let Some(due) = parse_time(due) else { continue };
        let category = c.category.as_deref().and_then(|code| taxonomy.category(code));
        let urgent = category.is_some_and(|x| x.resolve_hours.is_some());
        let due_day = beijing_date(due);
        let what = category.map_or("诉求", |x| x.name.as_str());
        let card = crate::complaints::domain::card_now(&c, urgent, cal, now);
        out.push(Watched {
            subject: subject(Kind::Complaint, &format!("{}/{step}/{}", c.id, due.format("%Y%m%dT%H%M"))),
            department,
            title: format!("{what}（{}，{}）", c.id, if step == "respond" { "响应" } else { "办结" }),
            officer: None,
            fallback_role: Some(Role::DepartmentHead),
            due: Some(due_day),
            // The hotline's own cards, as its desk shows them.
            level: match card {
                Card::None => None,
                Card::Yellow => Some(Level::Yellow),
                Card::Red => Some(Level::Red),
            },
        });
    }
    Ok(out)
}

/// Bad reviews in their loop: verification while assigned, rectification once verified.
async fn rectifications(state: &AppState, cal: &Calendar, now: DateTime<Utc>) -> ApiResult<Vec<Watched>> {
    let mut out = Vec::new();
    for r in super::store::open_rectifications(&state.db).await? {
        // The loop's own rule for which step runs and how it stands (the bad-review desk's too).
        let Some(running) = running_step(
            r.status,
            &r.reviewed_at,
            r.revisited_at.as_deref(),
            r.verified_at.as_deref(),
            &r.verify_due,
            &r.rectify_due,
        ) else {
            continue;
        };
        let (Some(signal), Ok(due)) =
            (step_signal(cal, &running, now), NaiveDate::parse_from_str(running.due, "%Y-%m-%d"))
        else {
            continue;
        };
        let step = running.step;
        out.push(Watched {
            subject: subject(Kind::Rectification, &format!("{}/{step}/{due}", r.rating_id)),
            department: r.department,
            title: format!("差评{}：{}", if step == "verify" { "核实" } else { "整改" }, r.object_id),
            officer: None,
            fallback_role: Some(Role::DepartmentHead),
            due: Some(due),
            level: level(signal),
        });
    }
    Ok(out)
}

/// Data requests waiting for the owning department's decision.
async fn data_requests(state: &AppState, cal: &Calendar, now: DateTime<Utc>) -> ApiResult<Vec<Watched>> {
    let mut out = Vec::new();
    for r in super::store::pending_data_requests(&state.db).await? {
        let Ok(due) = NaiveDate::parse_from_str(&r.due_on, "%Y-%m-%d") else { continue };
        out.push(Watched {
            subject: subject(Kind::DataRequest, &r.id),
            department: r.owner,
            title: format!("数据申请：{} 申请 {}", r.requester, r.dataset),
            officer: None,
            fallback_role: Some(Role::DataOfficer),
            due: Some(due),
            level: level(crate::data::sharing::decision_signal(cal, due, now)),
        });
    }
    Ok(out)
}
