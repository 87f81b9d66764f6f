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
    /// The supervision office's comments (督查意见), newest first.
    comments: Vec<CommentLine>,
    /// The caller may comment (the supervision office).
    may_comment: bool,
    /// The comment form as sent, and what was wrong with it.
    form: CommentForm,
    errors: Vec<crate::http::error::FieldError>,
}

/// A comment as the page shows it.
pub struct CommentLine {
    c: super::store::Comment,
    /// The indicator it is about, named; none: the whole scorecard.
    about: Option<IndicatorInfo>,
}

/// The supervision office's comment form on a department's scorecard.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CommentForm {
    pub csrf: String,
    pub body: String,
    pub indicator: String,
    pub from: String,
    pub to: String,
}

/// A department's scorecard: every figure with its formula, each linked to its records, and the
/// supervision office's comments (with its form to write one).
pub async fn department(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(department): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    render_department(&state, &ctx, &department, &q, CommentForm::default(), Vec::new()).await
}

/// The supervision office comments on the scorecard: back to it (post/redirect/get), or the
/// page again with each wrong field named and the text kept.
pub async fn comment(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(department): Path<String>,
    axum::Form(f): axum::Form<CommentForm>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    ctx.check_csrf(&f.csrf)?;
    let req = service::CommentRequest {
        body: f.body.clone(),
        indicator: f.indicator.clone(),
        month: None,
        from: Some(f.from.clone()),
        to: Some(f.to.clone()),
    };
    let q = PeriodQuery { month: None, from: Some(f.from.clone()), to: Some(f.to.clone()) };
    match service::comment(&state, &ctx.caller, &department, req).await {
        Ok(_) => Ok(axum::response::Redirect::to(&format!(
            "/assessment/{department}?from={}&to={}#comments",
            f.from.trim(),
            f.to.trim()
        ))
        .into_response()),
        Err(crate::http::ApiError::Validation(errors)) => {
            render_department(&state, &ctx, &department, &q, f, errors).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

async fn render_department(
    state: &AppState,
    ctx: &PageCtx,
    department: &str,
    q: &PeriodQuery,
    form: CommentForm,
    errors: Vec<crate::http::error::FieldError>,
) -> Result<Response, PageError> {
    if !may_open(ctx, department) {
        return Err(ctx.error(crate::http::ApiError::NotFound));
    }
    // A wrong period in the form: the configured period so far (the error names the field).
    let a = match service::assessment(state, &ctx.caller, q).await {
        Err(crate::http::ApiError::Validation(_)) if !errors.is_empty() => {
            service::assessment(state, &ctx.caller, &PeriodQuery::default()).await
        }
        other => other,
    }
    .map_err(|e| ctx.error(e))?;
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
    let comments = service::comments(state, &ctx.caller, department)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .map(|c| CommentLine {
            about: c
                .indicator
                .as_deref()
                .and_then(|code| a.indicators.iter().find(|i| i.code.code() == code).cloned()),
            c,
        })
        .collect();
    let may_comment = matches!(
        decide(
            &ctx.caller.actor,
            Action::Review,
            &Resource::Scorecard { department: department.to_string() }
        ),
        Decision::Allow
    );
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
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
        comments,
        may_comment,
        form,
        errors,
    };
    Ok(ctx.render(status, &page))
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
