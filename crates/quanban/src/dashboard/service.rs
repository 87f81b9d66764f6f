//! The dashboard's figures for a scope (the city, or one department) and a period, and who may
//! read which; and the published figures anyone may read.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::store;
use crate::app::AppState;
use crate::assessment::service::{Assessment, IndicatorInfo};
use crate::assessment::{Figure, Indicator, Period, Tally};
use crate::cases::api::{LightCounts, LightsRow, supervision_of};
use crate::cases::domain::{CaseRecord, Light};
use crate::cases::store::Queue;
use crate::cases::trend::DayTrend;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Caller;
use crate::identity::api::require;
use crate::identity::authz::{Action, Area, Decision, Resource, decide};
use crate::monitoring::{Kind, Level};
use crate::platform::clock::{beijing_date, end_of_beijing_day, start_of_beijing_day, time_text};

/// Whose figures: the whole city, or one department's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub department: Option<String>,
    /// The department's name (empty for the city).
    pub name: String,
}

/// The scope the caller asked for, once they may read it: the supervision office reads the city
/// or any department; a department's head reads their own (asking for another's: 404, as for
/// anyone else).
pub async fn scope(state: &AppState, caller: &Caller, department: Option<&str>) -> ApiResult<Scope> {
    caller.require_user()?;
    let city_wide = decide(&caller.actor, Action::Read, &Resource::CityWide(Area::Cases)) == Decision::Allow;
    let department = match department.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Some(d.to_string()),
        None if city_wide => None,
        None => Some(crate::cases::service::staff_department(&caller.actor).ok_or(ApiError::NotFound)?),
    };
    let Some(code) = department else {
        return Ok(Scope { department: None, name: String::new() });
    };
    let names = crate::platform::directory::department_names(&state.db).await?;
    let name = names.get(&code).cloned().ok_or(ApiError::NotFound)?;
    require(decide(&caller.actor, Action::Read, &Resource::Scorecard { department: code.clone() }))?;
    Ok(Scope { department: Some(code), name })
}

/// One kind of monitored thing and how much of it was raised in the period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Raised {
    pub kind: Kind,
    pub yellow: usize,
    pub red: usize,
}

/// Everything the dashboard shows.
pub struct Dashboard {
    pub scope: Scope,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Cases submitted, decided and decided late each day.
    pub trend: Vec<DayTrend>,
    /// Complaints received each day (the same days as `trend`).
    pub complaints_per_day: Vec<i64>,
    /// The assessment's figures for the scope and period (the city's: every department's sums).
    pub figures: Vec<(IndicatorInfo, Figure)>,
    /// Open cases' lights now.
    pub lights: LightCounts,
    /// By department (the city's dashboard only).
    pub by_department: Vec<LightsRow>,
    /// Items with the most overdue open cases (then due soon), at most ten.
    pub top_items: Vec<LightsRow>,
    /// The most overdue open cases, at most ten.
    pub overdue: Vec<CaseRecord>,
    /// What monitoring raised in the period, by kind.
    pub raised: Vec<Raised>,
    pub open_orders: i64,
    /// Complaints of the period by district, most first.
    pub by_district: Vec<(Option<String>, i64)>,
    pub points: Vec<store::Point>,
}

/// The most complaints drawn on the map.
pub const MAP_POINTS: i64 = 3000;

/// A figure summed over departments: what the city's tile shows.
fn summed(scheme: &crate::assessment::Scheme, indicator: Indicator, figures: &[&Figure]) -> Figure {
    let mut t = Tally::default();
    for f in figures {
        t.add(f.numerator, f.denominator);
    }
    Figure {
        indicator,
        numerator: t.numerator,
        denominator: t.denominator,
        value: t.value(),
        score: scheme.score(indicator, &t),
        weight: scheme.weight(indicator),
    }
}

/// The scope's figures from the period's assessment.
pub fn figures_of(
    a: &Assessment,
    scheme: &crate::assessment::Scheme,
    department: Option<&str>,
) -> Vec<(IndicatorInfo, Figure)> {
    a.indicators
        .iter()
        .map(|info| {
            let of_scope: Vec<&Figure> = a
                .scorecards
                .iter()
                .filter(|c| department.is_none_or(|d| c.department == d))
                .filter_map(|c| c.figure(info.code))
                .collect();
            (info.clone(), summed(scheme, info.code, &of_scope))
        })
        .collect()
}

/// Counts what was raised by kind, in the kinds' order (kinds with nothing left out).
pub fn raised_by_kind(alerts: &[(String, String)]) -> Vec<Raised> {
    let mut counts: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    for (subject, level) in alerts {
        let (Some(kind), Some(level)) = (Kind::of(subject), Level::parse(level)) else { continue };
        let at = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        let c = counts.entry(at).or_default();
        match level {
            Level::Yellow => c.0 += 1,
            Level::Red => c.1 += 1,
        }
    }
    counts.into_iter().map(|(at, (yellow, red))| Raised { kind: Kind::ALL[at], yellow, red }).collect()
}

/// Day counts laid over `from..=to` (a day may come more than once; days outside are left out).
pub fn per_day(from: NaiveDate, to: NaiveDate, counts: &[(NaiveDate, i64)]) -> Vec<i64> {
    let days = usize::try_from((to - from).num_days() + 1).unwrap_or(0);
    let mut out = vec![0; days];
    for &(d, n) in counts {
        if let Some(slot) = usize::try_from((d - from).num_days()).ok().and_then(|i| out.get_mut(i)) {
            *slot += n;
        }
    }
    out
}

/// The dashboard of `scope` over `from..=to` (checked by [`scope`] before), reused for
/// `figures_cache_seconds` once computed; with the instant it was computed at.
pub async fn dashboard(
    state: &AppState,
    scope: Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<(std::sync::Arc<Dashboard>, chrono::DateTime<chrono::Utc>)> {
    let key = format!("dashboard:{}:{from}:{to}", scope.department.as_deref().unwrap_or("*"));
    state
        .figures
        .get_or_compute(
            key,
            state.clock().now(),
            state.config.figures_cache_seconds,
            compute(state, scope, from, to),
        )
        .await
}

async fn compute(state: &AppState, scope: Scope, from: NaiveDate, to: NaiveDate) -> ApiResult<Dashboard> {
    let department = scope.department.as_deref();
    let (since, until) = (time_text(start_of_beijing_day(from)), time_text(end_of_beijing_day(to)));
    let scheme = state.config.assessment_scheme().map_err(ApiError::Internal)?;
    let period = Period::range(from, to).map_err(|e| ApiError::invalid(e.field, e.code, e.zh, e.en))?;
    let (trend, assessment, complaint_days, alerts, open_orders, by_district, points, open) = tokio::try_join!(
        crate::cases::pages::trend_of(state, from, to, department),
        crate::assessment::service::compute(state, period),
        async { Ok::<_, ApiError>(store::complaints_per_day(&state.db, &since, &until, department).await?) },
        async { Ok::<_, ApiError>(store::alerts(&state.db, &since, &until, department).await?) },
        async { Ok::<_, ApiError>(store::open_orders(&state.db, department).await?) },
        async {
            Ok::<_, ApiError>(store::complaints_by_district(&state.db, &since, &until, department).await?)
        },
        async {
            Ok::<_, ApiError>(
                store::complaint_points(&state.db, &since, &until, department, MAP_POINTS).await?,
            )
        },
        async {
            let queue = Queue::Running { department: department.map(String::from) };
            Ok::<_, ApiError>(crate::cases::store::queue_clocks(&state.db, &queue, 1_000_000).await?)
        },
    )?;
    let cal = state.calendar().await;
    let now = state.clock().now();
    let names = crate::cases::api::department_names(state).await?;
    let s = supervision_of(&open, &names, &cal, now, state.config.yellow_days);
    let mut top_items: Vec<LightsRow> =
        s.by_item.into_iter().filter(|r| r.counts.red + r.counts.yellow > 0).collect();
    top_items.sort_by(|a, b| {
        (b.counts.red, b.counts.yellow, &a.code).cmp(&(a.counts.red, a.counts.yellow, &b.code))
    });
    top_items.truncate(10);
    let today = beijing_date(now);
    let mut overdue: Vec<CaseRecord> =
        open.into_iter().filter(|c| c.light(&cal, now, state.config.yellow_days) == Light::Red).collect();
    overdue.sort_by_key(|c| c.due_now(&cal, today));
    overdue.truncate(10);
    Ok(Dashboard {
        figures: figures_of(&assessment, &scheme, department),
        complaints_per_day: per_day(from, to, &complaint_days),
        by_department: if department.is_none() { s.by_department } else { Vec::new() },
        lights: s.total,
        raised: raised_by_kind(&alerts),
        scope,
        from,
        to,
        trend,
        top_items,
        overdue,
        open_orders,
        by_district,
        points,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn day_counts_fall_in_their_slots() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        let counts = [
            (day(1), 2),
            (day(1), 1),
            (day(3), 4),
            (day(4), 9),
            (NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(), 5),
        ];
        assert_eq!(per_day(day(1), day(3), &counts), [3, 0, 4]);
    }

    #[test]
    fn raised_counts_go_by_kind_in_order() {
        let alerts = [
            ("milestone:RT-01#1", "red"),
            ("case:JN1", "yellow"),
            ("case:JN1", "red"),
            ("complaint:C1/respond/x", "red"),
            ("parcel:9", "red"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()));
        let r = raised_by_kind(&alerts);
        assert_eq!(
            r,
            [
                Raised { kind: Kind::Case, yellow: 1, red: 1 },
                Raised { kind: Kind::Complaint, yellow: 0, red: 1 },
                Raised { kind: Kind::Milestone, yellow: 0, red: 1 },
            ]
        );
    }
}
