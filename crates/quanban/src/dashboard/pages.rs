//! The dashboard page (数据驾驶舱) and the public page of published figures (数据公开).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::service::{self, Dashboard};
use crate::app::AppState;
use crate::assessment::report::shown_value;
use crate::assessment::{Figure, Indicator, Period};
use crate::cases::trend::period as trend_period;
use crate::http::error::{ApiError, FieldError};
use crate::web::i18n::Tr;
use crate::web::page::{PageCtx, PageError, UserChip};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DashboardQuery {
    pub from: String,
    pub to: String,
    pub department: String,
}

/// A number on a tile, with where its records are.
pub struct Tile {
    id: &'static str,
    label: &'static str,
    value: String,
    /// What it is counted from (`12 / 15`), if a ratio.
    detail: Option<String>,
    href: String,
    /// `warn` for what needs attention.
    tone: &'static str,
}

/// One assessment figure's line.
pub struct FigureLine {
    code: &'static str,
    name: String,
    value: String,
    numerator: i64,
    denominator: i64,
    href: String,
}

pub struct DepartmentLine {
    code: String,
    name: String,
    green: i64,
    yellow: i64,
    red: i64,
    none: i64,
}

pub struct ItemLine {
    code: String,
    name: String,
    yellow: i64,
    red: i64,
}

pub struct OverdueLine {
    number: String,
    title: String,
    department: String,
    due: String,
    /// Working days past the due date.
    late_days: i64,
}

pub struct RaisedLine {
    kind: String,
    yellow: usize,
    red: usize,
}

pub struct Mark {
    x: String,
    y: String,
    label: String,
}

#[derive(Serialize)]
struct ChartData {
    days: Vec<String>,
    series: Vec<ChartSeries>,
}

#[derive(Serialize)]
struct ChartSeries {
    label: String,
    color: &'static str,
    values: Vec<i64>,
    dash: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    scope_name: String,
    /// When the figures were computed (Beijing time).
    as_of: String,
    /// The department in view (none: the city).
    department: String,
    /// The supervision office may switch between the city and any department.
    departments: Vec<(String, String)>,
    from: String,
    to: String,
    /// The period as a query string for links.
    qs: String,
    errors: Vec<FieldError>,
    tiles: Vec<Tile>,
    figures: Vec<FigureLine>,
    chart_json: String,
    chart_labels: String,
    days: Vec<(String, i64, i64, i64, i64)>,
    by_department: Vec<DepartmentLine>,
    top_items: Vec<ItemLine>,
    overdue: Vec<OverdueLine>,
    raised: Vec<RaisedLine>,
    by_district: Vec<(String, i64)>,
    map: crate::web::map::CityMap,
    dots: Vec<Mark>,
    halls: Vec<Mark>,
    /// More complaints than the map draws.
    dots_capped: bool,
}

fn figure(d: &Dashboard, i: Indicator) -> Option<&Figure> {
    d.figures.iter().find(|(info, _)| info.code == i).map(|(_, f)| f)
}

fn ratio(f: Option<&Figure>) -> (String, Option<String>) {
    match f {
        Some(f) => {
            (shown_value(f.indicator.unit(), f.value), Some(format!("{} / {}", f.numerator, f.denominator)))
        }
        None => ("—".into(), None),
    }
}

/// Where a figure's records are: the department's drill-down, or the city's ranking.
fn figure_href(department: Option<&str>, code: &str, qs: &str) -> String {
    match department {
        Some(d) => format!("/assessment/{d}/{code}?{qs}"),
        None => format!("/assessment?{qs}#formula-{code}"),
    }
}

fn tiles(t: &Tr, d: &Dashboard, qs: &str) -> Vec<Tile> {
    let dept = d.scope.department.as_deref();
    let here = |anchor: &str| match dept {
        Some(code) => format!("/dashboard?department={code}&{qs}#{anchor}"),
        None => format!("/dashboard?{qs}#{anchor}"),
    };
    let submitted: i64 = d.trend.iter().map(|x| x.submitted).sum();
    let decided: i64 = d.trend.iter().map(|x| x.decided).sum();
    let complaints: i64 = d.complaints_per_day.iter().sum();
    let (on_time, on_time_detail) = ratio(figure(d, Indicator::OnTime));
    let (online, online_detail) = ratio(figure(d, Indicator::Online));
    let (good, good_detail) = ratio(figure(d, Indicator::GoodRate));
    let (resolved, resolved_detail) = ratio(figure(d, Indicator::ComplaintResolution));
    let (satisfied, satisfied_detail) = ratio(figure(d, Indicator::ComplaintSatisfaction));
    let raised_red: usize = d.raised.iter().map(|r| r.red).sum();
    vec![
        Tile {
            id: "tile-submitted",
            label: t.pick("受理申请", "Applications"),
            value: submitted.to_string(),
            detail: None,
            href: here("trend"),
            tone: "",
        },
        Tile {
            id: "tile-decided",
            label: t.pick("办结", "Decided"),
            value: decided.to_string(),
            detail: None,
            href: here("trend"),
            tone: "",
        },
        Tile {
            id: "tile-on-time",
            label: t.pick("按时办结率", "Decided on time"),
            value: on_time,
            detail: on_time_detail,
            href: figure_href(dept, "on_time", qs),
            tone: "",
        },
        Tile {
            id: "tile-online",
            label: t.pick("网上办理率", "Applied online"),
            value: online,
            detail: online_detail,
            href: figure_href(dept, "online", qs),
            tone: "",
        },
        Tile {
            id: "tile-red",
            label: t.pick("在办超期", "Open and overdue"),
            value: d.lights.red.to_string(),
            detail: None,
            href: here("overdue"),
            tone: if d.lights.red > 0 { "warn" } else { "" },
        },
        Tile {
            id: "tile-yellow",
            label: t.pick("临近到期", "Due soon"),
            value: d.lights.yellow.to_string(),
            detail: None,
            href: here("items"),
            tone: "",
        },
        Tile {
            id: "tile-orders",
            label: t.pick("未办结督办单", "Open supervision orders"),
            value: d.open_orders.to_string(),
            detail: None,
            href: "/supervision/orders".into(),
            tone: if d.open_orders > 0 { "warn" } else { "" },
        },
        Tile {
            id: "tile-raised",
            label: t.pick("电子监察超期预警", "Raised overdue by monitoring"),
            value: raised_red.to_string(),
            detail: None,
            href: here("monitoring"),
            tone: "",
        },
        Tile {
            id: "tile-complaints",
            label: t.pick("受理诉求", "Complaints received"),
            value: complaints.to_string(),
            detail: None,
            href: here("map"),
            tone: "",
        },
        Tile {
            id: "tile-resolution",
            label: t.pick("诉求解决率", "Complaints resolved"),
            value: resolved,
            detail: resolved_detail,
            href: figure_href(dept, "complaint_resolution", qs),
            tone: "",
        },
        Tile {
            id: "tile-satisfaction",
            label: t.pick("诉求满意率", "Complainants satisfied"),
            value: satisfied,
            detail: satisfied_detail,
            href: figure_href(dept, "complaint_satisfaction", qs),
            tone: "",
        },
        Tile {
            id: "tile-good",
            label: t.pick("好评率", "Good reviews"),
            value: good,
            detail: good_detail,
            href: figure_href(dept, "good_rate", qs),
            tone: "",
        },
    ]
}

/// 数据驾驶舱: the city's for the supervision office (any department's on asking), a
/// department's for its head; anyone else 404.
pub async fn dashboard(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DashboardQuery>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    let t = ctx.t;
    let scope =
        service::scope(&state, &ctx.caller, Some(q.department.as_str())).await.map_err(|e| ctx.error(e))?;
    let today = state.clock().today();
    let ((from, to), errors) = match trend_period(&q.from, &q.to, today) {
        Ok(p) => (p, Vec::new()),
        Err(e) => (trend_period("", "", today).unwrap_or((today, today)), e),
    };
    let city_wide = scope.department.is_none()
        || crate::identity::authz::decide(
            &ctx.caller.actor,
            crate::identity::authz::Action::Read,
            &crate::identity::authz::Resource::CityWide(crate::identity::authz::Area::Cases),
        ) == crate::identity::authz::Decision::Allow;
    let (d, computed_at) = service::dashboard(&state, scope, from, to).await.map_err(|e| ctx.error(e))?;
    let d = &*d;
    let qs = format!("from={from}&to={to}");
    let names =
        crate::platform::directory::department_names(&state.db).await.map_err(|e| ctx.error(e.into()))?;
    let dept = d.scope.department.clone();
    let figures = d
        .figures
        .iter()
        .map(|(info, f)| FigureLine {
            code: info.code.code(),
            name: t.pick(&info.name_zh, &info.name_en).to_string(),
            value: shown_value(info.unit, f.value),
            numerator: f.numerator,
            denominator: f.denominator,
            href: figure_href(dept.as_deref(), info.code.code(), &qs),
        })
        .collect();
    let chart = ChartData {
        days: d.trend.iter().map(|x| x.day.clone()).collect(),
        series: vec![
            ChartSeries {
                label: t.pick("受理申请", "Applications").into(),
                color: "#0b5cad",
                values: d.trend.iter().map(|x| x.submitted).collect(),
                dash: false,
            },
            ChartSeries {
                label: t.pick("办结", "Decided").into(),
                color: "#2e7d32",
                values: d.trend.iter().map(|x| x.decided).collect(),
                dash: false,
            },
            ChartSeries {
                label: t.pick("超期办结", "Decided late").into(),
                color: "#b3261e",
                values: d.trend.iter().map(|x| x.late).collect(),
                dash: true,
            },
            ChartSeries {
                label: t.pick("受理诉求", "Complaints received").into(),
                color: "#6a1b9a",
                values: d.complaints_per_day.clone(),
                dash: false,
            },
        ],
    };
    let chart_json = serde_json::to_string(&chart).unwrap_or_else(|_| "{}".into()).replace("</", "<\\/");
    let days = d
        .trend
        .iter()
        .zip(d.complaints_per_day.iter())
        .map(|(x, c)| (x.day.clone(), x.submitted, x.decided, x.late, *c))
        .collect();
    let cal = state.calendar().await;
    let today = state.clock().today();
    let overdue = d
        .overdue
        .iter()
        .map(|c| {
            let due = c.due_now(&cal, today);
            OverdueLine {
                number: c.number.clone(),
                title: c.title.clone(),
                department: names.get(&c.department).cloned().unwrap_or_else(|| c.department.clone()),
                due: due.map(|x| x.to_string()).unwrap_or_default(),
                late_days: due.map(|x| cal.working_days_between(x, today)).unwrap_or(0),
            }
        })
        .collect();
    let map = state.halls.map(None);
    let dots = d
        .points
        .iter()
        .map(|p| {
            let (x, y) = map.point(p.lon, p.lat);
            Mark { x, y, label: p.id.clone() }
        })
        .collect();
    let halls = state
        .halls
        .directory
        .halls
        .iter()
        .map(|h| {
            let (x, y) = map.point(h.hall.lon, h.hall.lat);
            Mark { x, y, label: h.hall.name.clone() }
        })
        .collect();
    let page = DashboardPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        tiles: tiles(&t, d, &qs),
        as_of: crate::platform::clock::shown_time(&crate::platform::clock::time_text(computed_at)),
        scope_name: if d.scope.department.is_some() {
            d.scope.name.clone()
        } else {
            t.pick("全市", "Whole city").to_string()
        },
        department: dept.clone().unwrap_or_default(),
        departments: if city_wide { names.into_iter().collect() } else { Vec::new() },
        from: if errors.is_empty() { from.to_string() } else { q.from },
        to: if errors.is_empty() { to.to_string() } else { q.to },
        qs,
        errors,
        figures,
        chart_json,
        chart_labels: format!("{}|{}", t.pick("日期", "Date"), t.pick("件数", "Count")),
        days,
        by_department: d
            .by_department
            .iter()
            .map(|r| DepartmentLine {
                code: r.code.clone(),
                name: r.name.clone(),
                green: r.counts.green,
                yellow: r.counts.yellow,
                red: r.counts.red,
                none: r.counts.none,
            })
            .collect(),
        top_items: d
            .top_items
            .iter()
            .map(|r| ItemLine {
                code: r.code.clone(),
                name: r.name.clone(),
                yellow: r.counts.yellow,
                red: r.counts.red,
            })
            .collect(),
        overdue,
        raised: d
            .raised
            .iter()
            .map(|r| {
                let (zh, en) = r.kind.label();
                RaisedLine { kind: t.pick(zh, en).to_string(), yellow: r.yellow, red: r.red }
            })
            .collect(),
        by_district: d
            .by_district
            .iter()
            .map(|(district, n)| {
                (district.clone().unwrap_or_else(|| t.pick("未定位", "Not placed").into()), *n)
            })
            .collect(),
        dots_capped: i64::try_from(d.points.len()).unwrap_or(0) >= super::service::MAP_POINTS,
        dots,
        halls,
        map,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(ctx.render(status, &page))
}

// --- the published figures -------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MonthQuery {
    pub month: String,
}

/// A department's published line (or the city's).
pub struct PublishedLine {
    pub code: String,
    pub name: String,
    pub decided: i64,
    pub on_time: String,
    pub online: String,
    pub zero_trip: String,
    pub good: String,
    pub complaints: i64,
    pub resolution: String,
    pub satisfaction: String,
}

#[derive(Template)]
#[template(path = "open_data.html")]
struct OpenDataPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    month: String,
    label: String,
    city: PublishedLine,
    lines: Vec<PublishedLine>,
    errors: Vec<FieldError>,
}

/// The last whole month before `today`.
fn last_month(today: NaiveDate) -> String {
    let first = today.with_day(1).unwrap_or(today);
    let prev = first.pred_opt().unwrap_or(first);
    format!("{:04}-{:02}", prev.year(), prev.month())
}

fn published(
    code: &str,
    name: &str,
    figures: &[(crate::assessment::service::IndicatorInfo, Figure)],
) -> PublishedLine {
    let f = |i: Indicator| figures.iter().find(|(info, _)| info.code == i).map(|(_, f)| f);
    let shown = |i: Indicator| f(i).map(|x| shown_value(i.unit(), x.value)).unwrap_or_else(|| "—".into());
    PublishedLine {
        code: code.into(),
        name: name.into(),
        decided: f(Indicator::OnTime).map_or(0, |x| x.denominator),
        on_time: shown(Indicator::OnTime),
        online: shown(Indicator::Online),
        zero_trip: shown(Indicator::ZeroTrip),
        good: shown(Indicator::GoodRate),
        complaints: f(Indicator::ComplaintResponse).map_or(0, |x| x.denominator),
        resolution: shown(Indicator::ComplaintResolution),
        satisfaction: shown(Indicator::ComplaintSatisfaction),
    }
}

/// The month's published figures: the city's and each department's with records.
async fn published_month(
    state: &AppState,
    month: &str,
) -> Result<(Period, PublishedLine, Vec<PublishedLine>), ApiError> {
    let period = Period::month(month).map_err(|e| ApiError::invalid(e.field, e.code, e.zh, e.en))?;
    let scheme = state.config.assessment_scheme().map_err(ApiError::Internal)?;
    let a = crate::assessment::service::compute(state, period).await?;
    let city = published("", "全市 City", &service::figures_of(&a, &scheme, None));
    let mut lines: Vec<PublishedLine> = a
        .scorecards
        .iter()
        .filter(|c| c.score.is_some())
        .map(|c| {
            published(
                &c.department,
                &c.department_name,
                &service::figures_of(&a, &scheme, Some(&c.department)),
            )
        })
        .collect();
    lines.sort_by(|a, b| a.code.cmp(&b.code));
    Ok((period, city, lines))
}

/// 政务服务数据公开: the month's figures for everyone, no sign-in.
pub async fn open_data(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<MonthQuery>,
) -> Result<Response, PageError> {
    let default = last_month(state.clock().today());
    let asked = if q.month.trim().is_empty() { default.clone() } else { q.month.trim().to_string() };
    let (month, errors) = match Period::month(&asked) {
        Ok(_) => (asked, Vec::new()),
        Err(e) => (default, vec![FieldError::new(e.field, e.code, e.zh, e.en)]),
    };
    let (period, city, lines) = published_month(&state, &month).await.map_err(|e| ctx.error(e))?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = OpenDataPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        label: period.label(),
        month: if errors.is_empty() { month } else { q.month },
        city,
        lines,
        errors,
    };
    Ok(ctx.render(status, &page))
}

/// The same figures as a CSV file (UTF-8 with a byte-order mark, so that spreadsheet programs
/// read the Chinese right).
pub async fn open_data_csv(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<MonthQuery>,
) -> Result<Response, PageError> {
    let month = if q.month.trim().is_empty() {
        last_month(state.clock().today())
    } else {
        q.month.trim().to_string()
    };
    let (_, city, lines) = published_month(&state, &month).await.map_err(|e| ctx.error(e))?;
    let mut out = String::from(
        "\u{feff}部门编码 Department code,部门 Department,办结件数 Decided,按时办结率 On time,网上办理率 Online,零跑腿率 Zero trips,好评率 Good reviews,诉求件数 Complaints,诉求解决率 Resolved,诉求满意率 Satisfied\r\n",
    );
    for l in std::iter::once(&city).chain(lines.iter()) {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\r\n",
            l.code,
            l.name,
            l.decided,
            l.on_time,
            l.online,
            l.zero_trip,
            l.good,
            l.complaints,
            l.resolution,
            l.satisfaction
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"open-data-{month}.csv\"")),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_published_month_is_the_last_whole_one() {
        assert_eq!(last_month(NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()), "2026-11");
        assert_eq!(last_month(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()), "2026-12");
    }
}
