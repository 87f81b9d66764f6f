//! Scorecards for a period and the records behind a figure, with who may read which.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::store::{self, Context};
use super::{DrillRow, Figure, Indicator, Period, Scheme, Scorecard, Unit, assess, tally_of};
use crate::app::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Caller;
use crate::identity::api::require;
use crate::identity::authz::{Action, Area, Resource, decide};

/// The assessment period: a month, or a range of dates; neither: the configured period so far.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct PeriodQuery {
    /// A calendar month, `YYYY-MM`.
    pub month: Option<String>,
    /// First day, `YYYY-MM-DD` (Beijing).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (Beijing), included.
    pub to: Option<String>,
}

/// What an indicator is and how it is scored.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorInfo {
    pub code: Indicator,
    pub name_zh: String,
    pub name_en: String,
    /// The area whose records are counted.
    pub area_zh: String,
    pub area_en: String,
    pub formula_zh: String,
    pub formula_en: String,
    pub unit: Unit,
    pub higher_is_better: bool,
    pub weight: f64,
}

impl IndicatorInfo {
    pub fn of(i: Indicator, scheme: &Scheme) -> IndicatorInfo {
        let w = i.wording();
        let (area_zh, area_en) = i.area();
        IndicatorInfo {
            code: i,
            name_zh: w.name_zh.into(),
            name_en: w.name_en.into(),
            area_zh: area_zh.into(),
            area_en: area_en.into(),
            formula_zh: i.formula_zh(scheme),
            formula_en: i.formula_en(scheme),
            unit: i.unit(),
            higher_is_better: i.better() == super::Better::Higher,
            weight: scheme.weight(i),
        }
    }
}

/// Every department's scorecard for a period, best first.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Assessment {
    pub period: Period,
    pub indicators: Vec<IndicatorInfo>,
    pub scorecards: Vec<Scorecard>,
}

/// One department's figure and the records it is computed from.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Drill {
    pub period: Period,
    pub department: String,
    pub department_name: String,
    pub indicator: IndicatorInfo,
    /// The figure as summed from `rows` (the scorecard shows the same).
    pub figure: Figure,
    pub rows: Vec<DrillRow>,
}

fn date(field: &'static str, v: &str) -> ApiResult<chrono::NaiveDate> {
    v.trim().parse().map_err(|_| {
        ApiError::invalid(
            field,
            "invalid_date",
            format!("{field} 应为 YYYY-MM-DD 格式的日期"),
            format!("{field} must be a date, YYYY-MM-DD"),
        )
    })
}

/// The period asked for (a field error names what is wrong), or the configured one so far.
pub fn period(q: &PeriodQuery, scheme: &Scheme, today: chrono::NaiveDate) -> ApiResult<Period> {
    let refused = |e: super::PeriodError| ApiError::invalid(e.field, e.code, e.zh, e.en);
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
    if !blank(&q.month) {
        return Period::month(q.month.as_deref().unwrap_or_default()).map_err(refused);
    }
    match (blank(&q.from), blank(&q.to)) {
        (true, true) => Ok(Period::current(scheme.period, today)),
        (false, true) => {
            Period::range(date("from", q.from.as_deref().unwrap_or_default())?, today).map_err(refused)
        }
        (true, false) => {
            Err(ApiError::invalid("from", "required", "请填写起始日期", "from is required with to"))
        }
        (false, false) => Period::range(
            date("from", q.from.as_deref().unwrap_or_default())?,
            date("to", q.to.as_deref().unwrap_or_default())?,
        )
        .map_err(refused),
    }
}

/// What the sums need besides the records.
struct Inputs {
    scheme: Scheme,
    visits: std::sync::Arc<HashMap<String, u32>>,
    policy_departments: HashMap<String, String>,
    calendar: std::sync::Arc<crate::calendar::domain::Calendar>,
}

async fn inputs(state: &AppState) -> ApiResult<Inputs> {
    let scheme = state.config.assessment_scheme().map_err(ApiError::Internal)?;
    let visits = std::sync::Arc::new(
        crate::catalog::store::all_current(&state.db)
            .await?
            .into_iter()
            .map(|s| (s.item.code, s.item.visits))
            .collect(),
    );
    let policy_departments = crate::policies::library::shipped()
        .map_err(ApiError::Internal)?
        .into_iter()
        .map(|p| (p.code, p.department))
        .collect();
    Ok(Inputs { scheme, visits, policy_departments, calendar: state.calendar().await })
}

impl Inputs {
    fn context(&self, period: Period, today: chrono::NaiveDate) -> Context<'_> {
        Context {
            period,
            today,
            calendar: &self.calendar,
            visits: &self.visits,
            policy_departments: &self.policy_departments,
        }
    }
}

/// Every department's scorecard for `period`, unchecked (the report command and the checked
/// readers below), reused for `figures_cache_seconds` once computed.
pub async fn compute(state: &AppState, period: Period) -> ApiResult<Assessment> {
    let key = format!("assessment:{}:{}", period.from, period.to);
    let (a, _) = state
        .figures
        .get_or_compute(
            key,
            state.clock().now(),
            state.config.figures_cache_seconds,
            compute_now(state, period),
        )
        .await?;
    Ok(Assessment::clone(&a))
}

/// Every department's scorecard for `period`, summed from the records now (what the benchmark
/// measures).
pub async fn compute_now(state: &AppState, period: Period) -> ApiResult<Assessment> {
    let inputs = inputs(state).await?;
    let tallies = store::tallies(&state.db, &inputs.context(period, state.clock().today())).await?;
    let names = crate::platform::directory::department_names(&state.db).await?;
    Ok(Assessment {
        period,
        indicators: Indicator::ALL.into_iter().map(|i| IndicatorInfo::of(i, &inputs.scheme)).collect(),
        scorecards: assess(&inputs.scheme, &names, &tallies),
    })
}

/// Brings the assessment's day sums up to date with what changed since the last time (the
/// background job; readers do it too before summing).
pub async fn refresh_figures(state: &AppState) -> ApiResult<super::rollup::Refreshed> {
    let inputs = inputs(state).await?;
    let rollup = super::rollup::Inputs { calendar: inputs.calendar.clone(), visits: inputs.visits.clone() };
    Ok(super::rollup::refresh(&state.db, &rollup).await?)
}

/// The ranking, for the supervision office and the departments' heads.
pub async fn assessment(state: &AppState, caller: &Caller, q: &PeriodQuery) -> ApiResult<Assessment> {
    compute(state, checked_period(state, caller, q)?).await
}

/// The period asked for, once the caller may read the ranking.
pub fn checked_period(state: &AppState, caller: &Caller, q: &PeriodQuery) -> ApiResult<Period> {
    require(decide(&caller.actor, Action::Read, &Resource::CityWide(Area::Assessment)))?;
    let scheme = state.config.assessment_scheme().map_err(ApiError::Internal)?;
    period(q, &scheme, state.clock().today())
}

/// The records behind one department's figure: the department's head and the supervision office
/// only (anyone else: 404).
pub async fn drill(
    state: &AppState,
    caller: &Caller,
    department: &str,
    indicator: &str,
    q: &PeriodQuery,
) -> ApiResult<Drill> {
    caller.require_user()?;
    let names = crate::platform::directory::department_names(&state.db).await?;
    let name = names.get(department).cloned().ok_or(ApiError::NotFound)?;
    require(decide(
        &caller.actor,
        Action::Read,
        &Resource::Scorecard { department: department.to_string() },
    ))?;
    let indicator = Indicator::parse(indicator).ok_or(ApiError::NotFound)?;
    let inputs = inputs(state).await?;
    let period = period(q, &inputs.scheme, state.clock().today())?;
    let rows = store::drill(&state.db, &inputs.context(period, state.clock().today()), department, indicator)
        .await?;
    let t = tally_of(&rows);
    Ok(Drill {
        period,
        department: department.to_string(),
        department_name: name,
        indicator: IndicatorInfo::of(indicator, &inputs.scheme),
        figure: Figure {
            indicator,
            numerator: t.numerator,
            denominator: t.denominator,
            value: t.value(),
            score: inputs.scheme.score(indicator, &t),
            weight: inputs.scheme.weight(indicator),
        },
        rows,
    })
}

/// The cases that missed their deadline in the period (for the report).
pub async fn overdue(state: &AppState, period: Period) -> ApiResult<Vec<store::OverdueCase>> {
    let inputs = inputs(state).await?;
    Ok(store::overdue_cases(&state.db, &inputs.context(period, state.clock().today())).await?)
}

/// A comment on a department's scorecard: what it says, the figure it is about (blank: the whole
/// scorecard), and the period the figures were read over (as for the scorecards; none given: the
/// configured period so far).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CommentRequest {
    pub body: String,
    /// An indicator code, e.g. `on_time`.
    pub indicator: String,
    /// A calendar month, `YYYY-MM`.
    pub month: Option<String>,
    /// First day, `YYYY-MM-DD` (Beijing).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (Beijing), included.
    pub to: Option<String>,
}

/// The department's name, once the caller may `action` its scorecard (unknown department: 404).
async fn scorecard_of(
    state: &AppState,
    caller: &Caller,
    department: &str,
    action: Action,
) -> ApiResult<String> {
    caller.require_user()?;
    let names = crate::platform::directory::department_names(&state.db).await?;
    let name = names.get(department).cloned().ok_or(ApiError::NotFound)?;
    require(decide(&caller.actor, action, &Resource::Scorecard { department: department.to_string() }))?;
    Ok(name)
}

/// The supervision office comments on a department's scorecard (the head reads it there). A
/// department's head may not (403); anyone else: 404. Every wrong field is named; nothing is kept.
pub async fn comment(
    state: &AppState,
    caller: &Caller,
    department: &str,
    req: CommentRequest,
) -> ApiResult<store::Comment> {
    scorecard_of(state, caller, department, Action::Review).await?;
    let scheme = state.config.assessment_scheme().map_err(ApiError::Internal)?;
    let q = PeriodQuery { month: req.month.clone(), from: req.from.clone(), to: req.to.clone() };
    let period = period(&q, &scheme, state.clock().today());
    let checked = super::check_comment(&req.body, &req.indicator);
    let (period, comment) = match (period, checked) {
        (Ok(p), Ok(c)) => (p, c),
        (Err(ApiError::Validation(mut a)), Err(b)) => {
            a.extend(b);
            return Err(ApiError::Validation(a));
        }
        (Err(e), _) => return Err(e),
        (_, Err(b)) => return Err(ApiError::Validation(b)),
    };
    let author_id = caller.require_user()?.to_string();
    let new = store::NewComment {
        department: department.to_string(),
        period,
        comment,
        author_name: caller.name.clone().unwrap_or_else(|| author_id.clone()),
        author_id,
    };
    Ok(store::add_comment(&state.db, new).await?)
}

/// The comments on a department's scorecard, newest first: its head and the supervision office.
pub async fn comments(state: &AppState, caller: &Caller, department: &str) -> ApiResult<Vec<store::Comment>> {
    scorecard_of(state, caller, department, Action::Read).await?;
    Ok(store::comments(&state.db, department, 200).await?)
}
