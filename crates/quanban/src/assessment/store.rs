//! The assessment's sums, read from every area's tables, and the records behind each.
//!
//! Each share-like indicator is one [`Source`]: the rows it counts (`from` and `filter`), the
//! condition that puts a row in the numerator and the column whose day a row counts on. The
//! scorecards add up per-department day rows ([`super::rollup`]) that are summed from the same
//! sources grouped by day, or, for the small tables, sum the source per department directly;
//! the drill-down reads the same rows of one department with the same condition, so the two
//! cannot disagree. The figures that need the working-day calendar or the catalog (days used,
//! trips, payment time) are finished in Rust from groups (by item, by acceptance date).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;

use super::rollup;
use crate::assessment::{DrillRow, Indicator, Period, Tally};
use crate::calendar::domain::Calendar;
use crate::platform::clock::{beijing_date, parse_time, shown_time, start_of_beijing_day, time_text};
use crate::store::{Db, StoreResult, query};

/// What the sums need besides the records: the period, today, the items' visits and which
/// department issues each policy.
pub struct Context<'a> {
    pub period: Period,
    pub today: NaiveDate,
    pub calendar: &'a Arc<Calendar>,
    /// Item code → promised visits to a hall (到现场次数).
    pub visits: &'a Arc<HashMap<String, u32>>,
    /// Policy code → issuing department.
    pub policy_departments: &'a HashMap<String, String>,
}

impl Context<'_> {
    /// The period's bounds as stored instants (start of the first day, start of the day after).
    fn instants(&self) -> (String, String) {
        (
            time_text(start_of_beijing_day(self.period.from)),
            time_text(start_of_beijing_day(self.period.to + chrono::Duration::days(1))),
        )
    }

    /// The last day of the period whose deadlines have passed (yesterday at the latest).
    fn last_passed_day(&self) -> NaiveDate {
        self.period.to.min(self.today - chrono::Duration::days(1))
    }
}

/// A deadline on date column `due` has not been met by instant column `at`: the instant is
/// from the day after the due date on (Beijing midnight is 16:00 UTC the day before).
fn met(at: &str, due: &str) -> String {
    format!("{at} IS NOT NULL AND {at} < {due} || 'T16:00:00'")
}

/// The binds a source's filter uses, in order.
#[derive(Clone, Copy)]
pub(super) enum Binds {
    /// `$1`, `$2`: the period's instants.
    Instants,
    /// `$1`, `$2`: the first and the last passed day of the period (dates).
    PassedDays,
    /// `$1`, `$2`: the period's instants; `$3`: today (date).
    InstantsAndToday,
}

/// The rows one indicator counts.
pub(super) struct Source {
    pub(super) from: &'static str,
    pub(super) department: &'static str,
    pub(super) filter: String,
    pub(super) numerator: String,
    pub(super) binds: Binds,
    /// The column whose day a row counts on (what the period bounds).
    pub(super) day: &'static str,
    /// The record's key, a title and the columns the drill-down shows (label, SQL).
    record: &'static str,
    title: &'static str,
    columns: Vec<(&'static str, &'static str)>,
    href: Option<&'static str>,
}

const RUNNING: &str = "state IN ('accepted', 'under_review')";

pub(super) fn source(i: Indicator) -> Option<Source> {
    let case = |day, filter: String, numerator: String, binds, columns| Source {
        from: "cases",
        day,
        department: "department",
        filter: format!("kind = 'item' AND {filter}"),
        numerator,
        binds,
        record: "number",
        title: "title",
        columns,
        href: Some("/cases/"),
    };
    let submitted = "submitted_at >= $1 AND submitted_at < $2".to_string();
    let complaint = |extra: &str, numerator: &str, columns| Source {
        from: "complaints",
        day: "created_at",
        department: "department",
        filter: format!(
            "created_at >= $1 AND created_at < $2 AND department IS NOT NULL AND status <> 'merged'{extra}"
        ),
        numerator: numerator.into(),
        binds: Binds::Instants,
        record: "id",
        title: "description",
        columns,
        href: None,
    };
    Some(match i {
        Indicator::OnTime => case(
            "decided_at",
            "decided_at >= $1 AND decided_at < $2 AND due_on IS NOT NULL AND accepted_on IS NOT NULL".into(),
            met("decided_at", "due_on"),
            Binds::Instants,
            vec![("受理 accepted", "accepted_on"), ("期限 due", "due_on"), ("办结 decided", "decided_at")],
        ),
        Indicator::Overdue => case(
            "due_on",
            format!("due_on >= $1 AND due_on <= $2 AND (decided_at IS NOT NULL OR {RUNNING})"),
            format!("NOT ({})", met("decided_at", "due_on")),
            Binds::PassedDays,
            vec![("期限 due", "due_on"), ("办结 decided", "decided_at"), ("状态 state", "state")],
        ),
        Indicator::AcceptanceBacklog => case(
            "submitted_at",
            submitted.clone(),
            "state = 'submitted'".into(),
            Binds::Instants,
            vec![("收件 submitted", "submitted_at"), ("状态 state", "state")],
        ),
        Indicator::Online => case(
            "submitted_at",
            submitted,
            "accepted_at_window = 0 AND in_person = 0".into(),
            Binds::Instants,
            vec![
                ("收件 submitted", "submitted_at"),
                ("窗口收件 at a window", "accepted_at_window"),
                ("到厅 in person", "in_person"),
            ],
        ),
        Indicator::GoodRate => Source {
            from: "ratings",
            day: "created_at",
            department: "department",
            filter: "created_at >= $1 AND created_at < $2 AND excluded = 0".into(),
            numerator: "score >= 3".into(),
            binds: Binds::Instants,
            record: "id",
            title: "object_id",
            columns: vec![("评分 score", "score"), ("评价 rated", "created_at"), ("渠道 channel", "channel")],
            href: None,
        },
        Indicator::RectifiedOnTime => Source {
            from: "ratings r LEFT JOIN rectifications l ON l.rating_id = r.id",
            day: "r.created_at",
            department: "r.department",
            filter: "r.created_at >= $1 AND r.created_at < $2 AND r.excluded = 0 AND r.score <= 2".into(),
            numerator: "l.rectified_at IS NOT NULL AND l.on_time = 1".into(),
            binds: Binds::Instants,
            record: "r.id",
            title: "r.object_id",
            columns: vec![
                ("评分 score", "r.score"),
                ("整改 rectified", "l.rectified_at"),
                ("按时 on time", "l.on_time"),
            ],
            href: None,
        },
        Indicator::ComplaintResponse => complaint(
            "",
            "responded_on_time = 1",
            vec![
                ("派单 dispatched", "dispatched_at"),
                ("响应时限 respond by", "respond_due"),
                ("响应 responded", "responded_at"),
            ],
        ),
        Indicator::ComplaintResolution => complaint(
            " AND callback_at IS NOT NULL",
            "callback_resolved = 1",
            vec![("回访 called back", "callback_at"), ("已解决 resolved", "callback_resolved")],
        ),
        Indicator::ComplaintSatisfaction => complaint(
            " AND callback_at IS NOT NULL",
            "callback_satisfied = 1",
            vec![("回访 called back", "callback_at"), ("满意 satisfied", "callback_satisfied")],
        ),
        Indicator::ProactiveClosed => Source {
            from: "proactive_tasks",
            day: "created_at",
            department: "department",
            filter: "created_at >= $1 AND created_at < $2".into(),
            numerator: "status = 'done'".into(),
            binds: Binds::Instants,
            record: "id",
            title: "category",
            columns: vec![
                ("生成 raised", "created_at"),
                ("状态 status", "status"),
                ("诉求数 complaints", "size"),
            ],
            href: None,
        },
        Indicator::DataOnTime => Source {
            from: "data_requests",
            day: "requested_at",
            department: "owner",
            filter: "requested_at >= $1 AND requested_at < $2 AND status <> 'withdrawn' \
                     AND (decided_at IS NOT NULL OR due_on < $3)"
                .into(),
            numerator: met("decided_at", "due_on"),
            binds: Binds::InstantsAndToday,
            record: "id",
            title: "dataset",
            columns: vec![
                ("申请方 requester", "requester"),
                ("答复期限 due", "due_on"),
                ("决定 decided", "decided_at"),
            ],
            href: None,
        },
        Indicator::MilestonesOnTime => Source {
            from: "reform_milestones m JOIN reform_tasks t ON t.code = m.task_code",
            day: "m.due_on",
            department: "t.lead_department",
            filter: "m.due_on >= $1 AND m.due_on <= $2".into(),
            numerator: "m.accepted_on IS NOT NULL AND m.accepted_on <= m.due_on".into(),
            binds: Binds::PassedDays,
            record: "m.task_code || '#m' || CAST(m.seq AS TEXT)",
            title: "t.title",
            columns: vec![
                ("节点 milestone", "m.title"),
                ("时限 due", "m.due_on"),
                ("完成 accepted", "m.accepted_on"),
            ],
            href: Some("/reform-tasks/"),
        },
        Indicator::ZeroTrip
        | Indicator::AtMostOnce
        | Indicator::DaysUsed
        | Indicator::BenefitCoverage
        | Indicator::BenefitDays => {
            return None;
        }
    })
}

fn bind_period(q: crate::store::sql::Query, binds: Binds, ctx: &Context<'_>) -> crate::store::sql::Query {
    let (a, b) = ctx.instants();
    match binds {
        Binds::Instants => q.bind(a).bind(b),
        Binds::PassedDays => q.bind(ctx.period.from.to_string()).bind(ctx.last_passed_day().to_string()),
        Binds::InstantsAndToday => q.bind(a).bind(b).bind(ctx.today.to_string()),
    }
}

fn bind_count(binds: Binds) -> usize {
    match binds {
        Binds::Instants | Binds::PassedDays => 2,
        Binds::InstantsAndToday => 3,
    }
}

/// One addition to a department's figure: (department, indicator), numerator, denominator.
pub(super) type Part = ((String, Indicator), i64, i64);

/// Every department's sums for every indicator in the period: the rolled-up indicators from
/// their day rows (brought up to date first, see [`super::rollup`]), the others from their
/// records. The reads are independent and run at once on the read pool.
pub async fn tallies(db: &Db, ctx: &Context<'_>) -> StoreResult<BTreeMap<(String, Indicator), Tally>> {
    let inputs = rollup::Inputs { calendar: ctx.calendar.clone(), visits: ctx.visits.clone() };
    rollup::refresh(db, &inputs).await?;
    let shares = futures::future::try_join_all(
        Indicator::ALL
            .into_iter()
            .filter(|i| source(*i).is_some() && !rollup::rolled_up(*i))
            .map(|i| share(db, ctx, i)),
    );
    let (shares, days, benefits) = futures::try_join!(
        shares,
        rollup::sums(db, ctx.period.from, ctx.period.to, ctx.last_passed_day()),
        benefits(db, ctx)
    )?;
    let mut out: BTreeMap<(String, Indicator), Tally> = BTreeMap::new();
    for (key, n, d) in shares.into_iter().flatten().chain(days).chain(benefits) {
        out.entry(key).or_default().add(n, d);
    }
    Ok(out)
}

/// A share-like indicator summed per department from its records.
async fn share(db: &Db, ctx: &Context<'_>, i: Indicator) -> StoreResult<Vec<Part>> {
    let Some(s) = source(i) else { return Ok(Vec::new()) };
    let sql = format!(
        "SELECT {dept} AS department, COUNT(*) AS d, \
         CAST(COALESCE(SUM(CASE WHEN {num} THEN 1 ELSE 0 END), 0) AS BIGINT) AS n \
         FROM {from} WHERE {filter} AND {dept} IS NOT NULL GROUP BY {dept}",
        dept = s.department,
        num = s.numerator,
        from = s.from,
        filter = s.filter,
    );
    bind_period(query(sql), s.binds, ctx)
        .read_all(db)
        .await?
        .iter()
        .map(|r| Ok(((r.try_get("department")?, i), r.try_get("n")?, r.try_get("d")?)))
        .collect()
}

/// What `n` applications of one department, item and channel add to the trip figures.
pub(super) fn trips_of(department: String, visits: u32, online: bool, n: i64) -> [Part; 2] {
    let t = crate::assessment::trips(visits, online);
    [
        ((department.clone(), Indicator::ZeroTrip), if t == 0 { n } else { 0 }, n),
        ((department, Indicator::AtMostOnce), if t <= 1 { n } else { 0 }, n),
    ]
}

/// An item's promised visits; an item no longer in the catalog counts as one visit.
pub(super) fn visits_in(visits: &HashMap<String, u32>, item: Option<&str>) -> u32 {
    item.and_then(|i| visits.get(i)).copied().unwrap_or(1)
}

fn visits_of(ctx: &Context<'_>, item: Option<&str>) -> u32 {
    visits_in(ctx.visits, item)
}

pub(super) const DAYS_USED_FILTER: &str = "kind = 'item' AND decided_at >= $1 AND decided_at < $2 \
    AND accepted_on IS NOT NULL AND promised_days > 0";

/// 免申即享: coverage of the enterprises found eligible, and payment time for the period's
/// payments (from the eligibility notice), by the policy's issuing department.
async fn benefits(db: &Db, ctx: &Context<'_>) -> StoreResult<Vec<Part>> {
    Ok(benefit_rows(db, ctx, None)
        .await?
        .into_iter()
        .filter_map(|row| {
            let d = ctx.policy_departments.get(&row.policy)?;
            Some(((d.clone(), row.indicator), row.drill.numerator, row.drill.denominator))
        })
        .collect())
}

struct BenefitRow {
    policy: String,
    indicator: Indicator,
    drill: DrillRow,
}

async fn benefit_rows(db: &Db, ctx: &Context<'_>, only: Option<Indicator>) -> StoreResult<Vec<BenefitRow>> {
    let (_, b) = ctx.instants();
    let (a, _) = ctx.instants();
    let mut out = Vec::new();
    if only.is_none_or(|i| i == Indicator::BenefitCoverage) {
        let rows = query(
            "SELECT b.policy, b.credit_code, b.status, b.notified_at FROM policy_benefits b \
             JOIN policy_runs r ON r.id = b.run_id WHERE r.started_at < $1 \
             AND b.status IN ('awaiting_confirmation', 'confirmed', 'paid') ORDER BY b.policy, b.credit_code",
        )
        .bind(b.clone())
        .read_all(db)
        .await?;
        for r in rows {
            let (policy, code, status): (String, String, String) =
                (r.try_get("policy")?, r.try_get("credit_code")?, r.try_get("status")?);
            let paid = status == "paid";
            out.push(BenefitRow {
                indicator: Indicator::BenefitCoverage,
                drill: DrillRow {
                    record: code.clone(),
                    href: None,
                    title: policy.clone(),
                    detail: format!("状态 status: {status}"),
                    numerator: i64::from(paid),
                    denominator: 1,
                },
                policy,
            });
        }
    }
    if only.is_none_or(|i| i == Indicator::BenefitDays) {
        let rows = query(
            "SELECT p.id, p.policy, p.credit_code, p.paid_at, b.notified_at FROM policy_payments p \
             JOIN policy_benefits b ON b.policy = p.policy AND b.credit_code = p.credit_code \
             WHERE p.paid_at >= $1 AND p.paid_at < $2 AND b.notified_at IS NOT NULL ORDER BY p.id",
        )
        .bind(a)
        .bind(b)
        .read_all(db)
        .await?;
        for r in rows {
            let (id, policy, code, paid_at, notified_at): (String, String, String, String, String) = (
                r.try_get("id")?,
                r.try_get("policy")?,
                r.try_get("credit_code")?,
                r.try_get("paid_at")?,
                r.try_get("notified_at")?,
            );
            let (Some(paid), Some(told)) = (parse_time(&paid_at), parse_time(&notified_at)) else { continue };
            let days = ctx.calendar.working_days_between(beijing_date(told), beijing_date(paid)).max(0);
            out.push(BenefitRow {
                indicator: Indicator::BenefitDays,
                drill: DrillRow {
                    record: id,
                    href: None,
                    title: format!("{policy} · {code}"),
                    detail: format!(
                        "告知 notified: {}; 兑付 paid: {}; 工作日 working days: {days}",
                        shown_time(&notified_at),
                        shown_time(&paid_at)
                    ),
                    numerator: days,
                    denominator: 1,
                },
                policy,
            });
        }
    }
    Ok(out)
}

/// The records behind one department's figure, each with what it adds to either side.
pub async fn drill(db: &Db, ctx: &Context<'_>, department: &str, i: Indicator) -> StoreResult<Vec<DrillRow>> {
    if let Some(s) = source(i) {
        let k = bind_count(s.binds) + 1;
        let columns: Vec<String> =
            s.columns.iter().enumerate().map(|(n, (_, sql))| format!("{sql} AS c{n}")).collect();
        let sql = format!(
            "SELECT {record} AS record, {title} AS title, {cols}, CASE WHEN {num} THEN 1 ELSE 0 END AS n \
             FROM {from} WHERE {filter} AND {dept} = ${k} ORDER BY {record}",
            record = s.record,
            title = s.title,
            cols = columns.join(", "),
            num = s.numerator,
            from = s.from,
            filter = s.filter,
            dept = s.department,
        );
        let rows = bind_period(query(sql), s.binds, ctx).bind(department.to_string()).read_all(db).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let record: String = r.try_get("record")?;
            let mut detail = Vec::new();
            for (n, (label, _)) in s.columns.iter().enumerate() {
                detail.push(format!("{label}: {}", shown(&r, &format!("c{n}"))?));
            }
            let title: String = r.try_get::<Option<String>, _>("title")?.unwrap_or_default();
            out.push(DrillRow {
                href: s.href.map(|h| format!("{h}{record}")),
                record,
                title: title.chars().take(60).collect(),
                detail: detail.join("; "),
                numerator: r.try_get("n")?,
                denominator: 1,
            });
        }
        return Ok(out);
    }
    match i {
        Indicator::ZeroTrip | Indicator::AtMostOnce => {
            let (a, b) = ctx.instants();
            let rows = query(
                "SELECT number, title, item_code, accepted_at_window, in_person FROM cases \
                 WHERE kind = 'item' AND submitted_at >= $1 AND submitted_at < $2 AND department = $3 ORDER BY number",
            )
            .bind(a)
            .bind(b)
            .bind(department.to_string())
            .read_all(db)
            .await?;
            let mut out = Vec::new();
            for r in rows {
                let number: String = r.try_get("number")?;
                let item: Option<String> = r.try_get("item_code")?;
                let online =
                    r.try_get::<i64, _>("accepted_at_window")? == 0 && r.try_get::<i64, _>("in_person")? == 0;
                let visits = visits_of(ctx, item.as_deref());
                let t = crate::assessment::trips(visits, online);
                let counted = if i == Indicator::ZeroTrip { t == 0 } else { t <= 1 };
                out.push(DrillRow {
                    href: Some(format!("/cases/{number}")),
                    record: number,
                    title: r.try_get("title")?,
                    detail: format!(
                        "事项到现场次数 item visits: {visits}; {}; 跑动 trips: {t}",
                        if online { "网上提交 online" } else { "窗口或到厅 at a window or hall" }
                    ),
                    numerator: i64::from(counted),
                    denominator: 1,
                });
            }
            Ok(out)
        }
        Indicator::DaysUsed => {
            let (a, b) = ctx.instants();
            let rows = query(format!(
                "SELECT number, title, accepted_on, decided_at, promised_days, paused_days FROM cases \
                 WHERE {DAYS_USED_FILTER} AND department = $3 ORDER BY number"
            ))
            .bind(a)
            .bind(b)
            .bind(department.to_string())
            .read_all(db)
            .await?;
            let mut out = Vec::new();
            for r in rows {
                let number: String = r.try_get("number")?;
                let accepted: String = r.try_get("accepted_on")?;
                let decided_at: String = r.try_get("decided_at")?;
                let (Ok(accepted), Some(decided)) = (accepted.parse::<NaiveDate>(), parse_time(&decided_at))
                else {
                    continue;
                };
                let decided = beijing_date(decided);
                let paused: i64 = r.try_get("paused_days")?;
                let promised: i64 = r.try_get("promised_days")?;
                let used = ctx.calendar.working_days_between(accepted, decided) - paused;
                out.push(DrillRow {
                    href: Some(format!("/cases/{number}")),
                    record: number,
                    title: r.try_get("title")?,
                    detail: format!(
                        "受理 accepted: {accepted}; 办结 decided: {decided}; 暂停 paused: {paused}; \
                         用时 used: {used}; 承诺 promised: {promised}"
                    ),
                    numerator: used,
                    denominator: promised,
                });
            }
            Ok(out)
        }
        _ => Ok(benefit_rows(db, ctx, Some(i))
            .await?
            .into_iter()
            .filter(|r| ctx.policy_departments.get(&r.policy).is_some_and(|d| d == department))
            .map(|r| r.drill)
            .collect()),
    }
}

/// A drill-down column as text: instants in Beijing time, flags as 是/否.
fn shown(r: &crate::store::Row, column: &str) -> StoreResult<String> {
    if let Ok(v) = r.try_get::<Option<String>, _>(column) {
        return Ok(v
            .map(|v| if v.len() > 20 && parse_time(&v).is_some() { shown_time(&v) } else { v })
            .unwrap_or_else(|| "—".into()));
    }
    if let Ok(v) = r.try_get::<Option<i64>, _>(column) {
        return Ok(v.map(|v| v.to_string()).unwrap_or_else(|| "—".into()));
    }
    Ok(r.try_get::<Option<f64>, _>(column)?.map(|v| v.to_string()).unwrap_or_else(|| "—".into()))
}

/// Cases whose deadline fell in the period and was missed (decided late or still open), for
/// the report's overdue list: number, title, department, due date, decided (if it was).
pub async fn overdue_cases(db: &Db, ctx: &Context<'_>) -> StoreResult<Vec<OverdueCase>> {
    let Some(s) = source(Indicator::Overdue) else { return Ok(Vec::new()) };
    let sql = format!(
        "SELECT number, title, department, due_on, decided_at, state FROM cases WHERE {} AND {} ORDER BY due_on, number",
        s.filter, s.numerator
    );
    let rows = bind_period(query(sql), s.binds, ctx).read_all(db).await?;
    rows.iter()
        .map(|r| {
            Ok(OverdueCase {
                number: r.try_get("number")?,
                title: r.try_get("title")?,
                department: r.try_get("department")?,
                due_on: r.try_get("due_on")?,
                decided_at: r.try_get::<Option<String>, _>("decided_at")?.map(|t| shown_time(&t)),
                state: r.try_get("state")?,
            })
        })
        .collect()
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct OverdueCase {
    pub number: String,
    pub title: String,
    pub department: String,
    pub due_on: String,
    /// When it was decided (Beijing time), if it was.
    pub decided_at: Option<String>,
    pub state: String,
}

/// A supervisor's comment on a department's scorecard (督查意见).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Comment {
    pub id: String,
    pub department: String,
    /// The period the figures were read over (Beijing dates).
    pub period_from: String,
    pub period_to: String,
    /// The figure it is about (an indicator code); none: the scorecard as a whole.
    pub indicator: Option<String>,
    pub body: String,
    pub author_name: String,
    /// When it was written (Beijing time).
    pub created_at: String,
}

/// A comment to keep: what was checked, on whose scorecard, by whom, over which period.
pub struct NewComment {
    pub department: String,
    pub period: Period,
    pub comment: crate::assessment::CheckedComment,
    pub author_id: String,
    pub author_name: String,
}

/// Keeps a comment (an insert: nothing is claimed, nothing it could race with changes) with its
/// audit entry.
pub async fn add_comment(db: &Db, c: NewComment) -> StoreResult<Comment> {
    let now = db.now_text();
    let id = crate::identity::store::new_user_id();
    db.write(move |tx| {
        let indicator = c.comment.indicator.map(|i| i.code().to_string());
        query(
            "INSERT INTO assessment_comments (id, department, period_from, period_to, indicator, body, author_id, author_name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(&c.department)
        .bind(c.period.from.to_string())
        .bind(c.period.to.to_string())
        .bind(&indicator)
        .bind(&c.comment.body)
        .bind(&c.author_id)
        .bind(&c.author_name)
        .bind(&now)
        .execute(&mut *tx)?;
        crate::audit::store::append(
            tx,
            &now,
            crate::audit::NewEntry::new(
                format!("scorecard:{}", c.department),
                format!("user:{}", c.author_id),
                "assessment.commented",
                format!("assessment_comment:{id}"),
                format!(
                    "{} {}..{} {}: {}",
                    c.department,
                    c.period.from,
                    c.period.to,
                    indicator.as_deref().unwrap_or("*"),
                    c.comment.body.chars().take(200).collect::<String>()
                ),
            ),
        )?;
        Ok(Comment {
            id,
            department: c.department,
            period_from: c.period.from.to_string(),
            period_to: c.period.to.to_string(),
            indicator,
            body: c.comment.body,
            author_name: c.author_name,
            created_at: shown_time(&now),
        })
    })
    .await
}

/// A department's comments, newest first (at most `limit`).
pub async fn comments(db: &Db, department: &str, limit: i64) -> StoreResult<Vec<Comment>> {
    let rows = query(
        "SELECT id, department, period_from, period_to, indicator, body, author_name, created_at \
         FROM assessment_comments WHERE department = $1 ORDER BY created_at DESC, id LIMIT $2",
    )
    .bind(department)
    .bind(limit)
    .read_all(db)
    .await?;
    rows.iter().map(comment_of).collect()
}

/// Every department's comments written during `from..=to` (Beijing days), oldest first.
pub async fn comments_written(db: &Db, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Comment>> {
    let rows = query(
        "SELECT id, department, period_from, period_to, indicator, body, author_name, created_at \
         FROM assessment_comments WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, id",
    )
    .bind(time_text(start_of_beijing_day(from)))
    .bind(time_text(start_of_beijing_day(to + chrono::Duration::days(1))))
    .read_all(db)
    .await?;
    rows.iter().map(comment_of).collect()
}

fn comment_of(r: &crate::store::Row) -> StoreResult<Comment> {
    Ok(Comment {
        id: r.try_get("id")?,
        department: r.try_get("department")?,
        period_from: r.try_get("period_from")?,
        period_to: r.try_get("period_to")?,
        indicator: r.try_get("indicator")?,
        body: r.try_get("body")?,
        author_name: r.try_get("author_name")?,
        created_at: shown_time(&r.try_get::<String, _>("created_at")?),
    })
}
