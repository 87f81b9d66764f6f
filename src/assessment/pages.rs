//! The assessment pages (部门考评): the ranking with every formula, a department's scorecard,
//! the records behind one figure, and the report's downloads.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::report::{self, shown_value};
use super::service::{self, Assessment, IndicatorInfo, PeriodQuery};
use super::{DrillRow, Indicator, Period};
use crate::app::AppState;
use crate::identity::authz::{Action, Decision, Resource, decide};
use crate::web::i18n::Tr;
use crate::web::page::{PageCtx, PageError, UserChip};

/// One department's line in the ranking.
pub struct RankLine {
    rank: String,
    department: String,
    name: String,
    score: String,
    /// The key figures, in the order of [`KEY_FIGURES`].
    values: Vec<String>,
    /// The caller may open the department's scorecard (its own, or the supervision office).
    may_open: bool,
    ranked: bool,
}

/// The ranking's columns besides the score.
const KEY_FIGURES: [Indicator; 5] = [
    Indicator::OnTime,
    Indicator::Online,
    Indicator::GoodRate,
    Indicator::ComplaintSatisfaction,
    Indicator::DataOnTime,
];

#[derive(Template)]
#[template(path = "assessment.html")]
struct RankingPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    period: Period,
    /// The period as a query string (for links and downloads).
    qs: String,
    month: String,
    columns: Vec<IndicatorInfo>,
    lines: Vec<RankLine>,
    /// Departments with no records in the period.
    unranked: Vec<RankLine>,
    indicators: Vec<IndicatorInfo>,
}

fn qs(p: &Period) -> String {
    format!("from={}&to={}", p.from, p.to)
}

fn may_open(ctx: &PageCtx, department: &str) -> bool {
    decide(&ctx.caller.actor, Action::Read, &Resource::Scorecard { department: department.to_string() })
        == Decision::Allow
}

/// 部门考评: the ranking for a period.
pub async fn ranking(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let a: Assessment = service::assessment(&state, &ctx.caller, &q).await.map_err(|e| ctx.error(e))?;
    let (lines, unranked): (Vec<RankLine>, Vec<RankLine>) = a
        .scorecards
        .iter()
        .map(|c| RankLine {
            rank: c.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
            department: c.department.clone(),
            name: c.department_name.clone(),
            score: c.score.map(|s| format!("{s:.2}")).unwrap_or_else(|| "—".into()),
            values: KEY_FIGURES
                .iter()
                .map(|i| c.figure(*i).map(|f| shown_value(i.unit(), f.value)).unwrap_or_default())
                .collect(),
            may_open: may_open(&ctx, &c.department),
            ranked: c.rank.is_some(),
        })
        .partition(|l| l.ranked);
    let columns =
        KEY_FIGURES.iter().filter_map(|i| a.indicators.iter().find(|x| x.code == *i).cloned()).collect();
    let page = RankingPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        qs: qs(&a.period),
        month: q.month.clone().unwrap_or_else(|| a.period.from.format("%Y-%m").to_string()),
        period: a.period,
        columns,
        lines,
        unranked,
        indicators: a.indicators,
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

/// One figure on a department's scorecard.
pub struct FigureLine {
    info: IndicatorInfo,
    value: String,
    numerator: i64,
    denominator: i64,
    score: String,
}

#[derive(Template)]
#[template(path = "assessment_department.html")]
struct DepartmentPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    period: Period,
    qs: String,
    department: String,
    name: String,
    rank: String,
    score: String,
    figures: Vec<FigureLine>,
}

/// A department's scorecard: every figure with its formula, each linked to its records.
pub async fn department(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(department): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    if !may_open(&ctx, &department) {
        return Err(ctx.error(crate::http::ApiError::NotFound));
    }
    let a = service::assessment(&state, &ctx.caller, &q).await.map_err(|e| ctx.error(e))?;
    let card = a
        .scorecards
        .iter()
        .find(|c| c.department == department)
        .ok_or_else(|| ctx.error(crate::http::ApiError::NotFound))?;
    let figures = card
        .figures
        .iter()
        .filter_map(|f| {
            let info = a.indicators.iter().find(|i| i.code == f.indicator)?.clone();
            Some(FigureLine {
                value: shown_value(f.indicator.unit(), f.value),
                numerator: f.numerator,
                denominator: f.denominator,
                score: f.score.map(|s| format!("{s:.2}")).unwrap_or_else(|| "—".into()),
                info,
            })
        })
        .collect();
    let page = DepartmentPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        qs: qs(&a.period),
        period: a.period,
        department: card.department.clone(),
        name: card.department_name.clone(),
        rank: card.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
        score: card.score.map(|s| format!("{s:.2}")).unwrap_or_else(|| "—".into()),
        figures,
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

/// How many records the drill-down page lists (the API lists all).
const SHOWN_ROWS: usize = 500;

#[derive(Template)]
#[template(path = "assessment_drill.html")]
struct DrillPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    period: Period,
    qs: String,
    department: String,
    name: String,
    indicator: IndicatorInfo,
    value: String,
    numerator: i64,
    denominator: i64,
    total: usize,
    rows: Vec<DrillRow>,
}

/// The records behind one figure, each with what it adds to the numerator and denominator.
pub async fn drill(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((department, indicator)): Path<(String, String)>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let d =
        service::drill(&state, &ctx.caller, &department, &indicator, &q).await.map_err(|e| ctx.error(e))?;
    let total = d.rows.len();
    let page = DrillPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        qs: qs(&d.period),
        period: d.period,
        value: shown_value(d.indicator.unit, d.figure.value),
        numerator: d.figure.numerator,
        denominator: d.figure.denominator,
        department: d.department,
        name: d.department_name,
        indicator: d.indicator,
        total,
        rows: d.rows.into_iter().take(SHOWN_ROWS).collect(),
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

/// The monthly report as a spreadsheet (the same as `quanban report monthly`).
pub async fn report_xlsx(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    download(&state, &ctx, &q, "xlsx").await
}

/// The monthly report as a PDF.
pub async fn report_pdf(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    download(&state, &ctx, &q, "pdf").await
}

async fn download(
    state: &AppState,
    ctx: &PageCtx,
    q: &PeriodQuery,
    kind: &str,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    // The same check and period as the ranking.
    let period = service::checked_period(state, &ctx.caller, q).map_err(|e| ctx.error(e))?;
    let r = report::read(state, period).await.map_err(|e| ctx.error(e.into()))?;
    let (body, mime) = if kind == "pdf" {
        (report::pdf(&r), "application/pdf")
    } else {
        (
            report::xlsx(&r).map_err(|e| ctx.error(e.into()))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, mime.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"assessment-{}-{}.{kind}\"", period.from, period.to),
            ),
        ],
        body,
    )
        .into_response())
}
