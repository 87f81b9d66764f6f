//! Raised alerts and supervision orders in the database. Raising one writes the alert (once: the
//! key is the subject and level), the officer's message, and for red the order with the head's
//! messages, in one transaction; closing an order claims it at the version read.

use std::collections::HashSet;

use serde::Serialize;

use crate::audit::{self, NewEntry};
use crate::identity::authz::Role;
use crate::monitoring::{Kind, Level, ManualOrder, Raise, case_of};
use crate::platform::notifications::Message;
use crate::platform::notifications::notify;
use crate::store::{Db, Row, StoreError, StoreResult, query};

/// What of `subjects` was raised before, at which level.
pub async fn raised(db: &Db, subjects: &[String]) -> StoreResult<HashSet<(String, Level)>> {
    let mut out = HashSet::new();
    // In slices, so that a city's open cases never make one statement with too many parameters.
    for chunk in subjects.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let mut q = query(format!(
            "SELECT subject, level FROM monitoring_alerts WHERE subject IN ({})",
            marks.join(", ")
        ));
        for s in chunk {
            q = q.bind(s);
        }
        for r in q.read_all(db).await? {
            let level: String = r.try_get("level")?;
            if let Some(level) = Level::parse(&level) {
                out.insert((r.try_get("subject")?, level));
            }
        }
    }
    Ok(out)
}

/// Raises one alert; false when it was raised already (by another run or process), in which
/// case nothing is written. `order_number`: the supervision order's number when red.
pub async fn raise(db: &Db, r: Raise, order_number: Option<String>) -> StoreResult<bool> {
    let now = db.now_text();
    db.write(move |conn| {
        let inserted = query(
            "INSERT INTO monitoring_alerts (subject, level, department, title, due_on, raised_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subject, level) DO NOTHING",
        )
        .bind(&r.subject)
        .bind(r.level.as_str())
        .bind(&r.department)
        .bind(&r.title)
        .bind(r.due.map(|d| d.format("%Y-%m-%d").to_string()))
        .bind(&now)
        .execute(&mut *conn)?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
        let kind = Kind::of(&r.subject);
        let case_number = case_of(&r.subject);
        // A case's responsible officer is the one who accepted it; without one, the staff of the
        // department in the role that does the work.
        let officer = match (&r.officer, kind, case_number) {
            (Some(o), _, _) => Some(o.clone()),
            (None, Some(Kind::Case | Kind::Supplement), Some(n)) => {
                query("SELECT accepted_by FROM cases WHERE number = $1")
                    .bind(n)
                    .fetch_optional(&mut *conn)?
                    .map(|row| row.try_get::<Option<String>, _>("accepted_by"))
                    .transpose()?
                    .flatten()
            }
            _ => None,
        };
        let recipients: Vec<String> = match (officer, r.fallback_role) {
            (Some(o), _) => vec![o],
            // A red one's order goes to the heads anyway: no second message to them.
            (None, Some(Role::DepartmentHead)) if r.level == Level::Red => Vec::new(),
            (None, Some(role)) => query(
                "SELECT user_id FROM user_roles WHERE role = $1 AND department = $2 ORDER BY user_id",
            )
            .bind(role.as_str())
            .bind(&r.department)
            .fetch_all(&mut *conn)?
            .iter()
            .map(|row| row.try_get::<String, _>("user_id"))
            .collect::<Result<_, _>>()?,
            (None, None) => Vec::new(),
        };
        let due = r.due.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
        let m = message(kind, r.level, &r.title, &due);
        for (i, officer) in recipients.iter().enumerate() {
            notify(conn, &now, u32::try_from(i).unwrap_or(999), officer, case_number, &m, None)?;
        }
        if let (Level::Red, Some(number), Some(rectify_by)) = (r.level, &order_number, r.rectify_by) {
            let rectify_by = rectify_by.format("%Y-%m-%d").to_string();
            query(
                "INSERT INTO supervision_orders (id, number, subject, department, title, issued_at, rectify_by, status, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', 1)",
            )
            .bind(crate::identity::store::new_user_id())
            .bind(number)
            .bind(&r.subject)
            .bind(&r.department)
            .bind(&r.title)
            .bind(&now)
            .bind(&rectify_by)
            .execute(&mut *conn)?;
            let heads = query("SELECT user_id FROM user_roles WHERE role = 'department_head' AND department = $1")
                .bind(&r.department)
                .fetch_all(&mut *conn)?;
            for (i, h) in heads.iter().enumerate() {
                let head: String = h.try_get("user_id")?;
                let m = Message {
                    title_zh: format!("督办单 {number}：{}", r.title),
                    title_en: format!("Supervision order {number}: {}", r.title),
                    body_zh: format!("该事项已超期，请于{rectify_by}前整改并反馈整改情况。"),
                    body_en: format!("This is overdue; put it right and report by {rectify_by}."),
                };
                notify(conn, &now, u32::try_from(recipients.len() + i).unwrap_or(999), &head, case_number, &m, None)?;
            }
        }
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("monitoring:{}", r.subject),
                "system:monitoring",
                "monitoring.raise",
                r.subject.clone(),
                match &order_number {
                    Some(n) if r.level == Level::Red => format!("red, order {n}"),
                    _ => r.level.as_str().to_string(),
                },
            ),
        )?;
        Ok(true)
    })
    .await
}

/// The message to whoever answers for a late thing, in words that fit what it is.
fn message(kind: Option<Kind>, level: Level, title: &str, due: &str) -> Message {
    let (zh, en) = kind.unwrap_or(Kind::Case).label();
    match (kind, level) {
        (Some(Kind::Supplement), Level::Yellow) => Message {
            title_zh: format!("补正期限将到：{title}"),
            title_en: format!("Supplement due soon: {title}"),
            body_zh: format!("申请人应于{due}前补正，至今未补正，请提醒申请人。"),
            body_en: format!(
                "The applicant has until {due} to supplement and has not yet; please remind them."
            ),
        },
        (Some(Kind::Supplement), Level::Red) => Message {
            title_zh: format!("补正已逾期：{title}"),
            title_en: format!("Supplement overdue: {title}"),
            body_zh: format!("申请人逾期（{due}）未补正，请依法作出处理并办结，已列入督办。"),
            body_en: format!(
                "The applicant did not supplement by {due}; close the case as the law provides. It is under supervision."
            ),
        },
        (_, Level::Yellow) => Message {
            title_zh: format!("{zh}即将到期：{title}"),
            title_en: format!("Due soon: {title}"),
            body_zh: format!("该{zh}应于{due}前完成，请抓紧办理。"),
            body_en: format!("The {en} is due by {due}; please finish it in time."),
        },
        (_, Level::Red) => Message {
            title_zh: format!("{zh}已超期：{title}"),
            title_en: format!("Overdue: {title}"),
            body_zh: format!("该{zh}已超过期限（{due}），已列入督办。"),
            body_en: format!("The {en} is past its due date ({due}) and is under supervision."),
        },
    }
}

/// A supervision order (督办单).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Order {
    pub id: String,
    /// e.g. 济政务督〔2026〕12号.
    pub number: String,
    /// What it is about, e.g. `case:JN20261207000001`.
    pub subject: String,
    pub department: String,
    pub title: String,
    pub issued_at: String,
    /// The date to put it right by.
    pub rectify_by: String,
    /// `open` or `closed`.
    pub status: String,
    pub rectification: Option<String>,
    pub closed_by_name: Option<String>,
    pub closed_at: Option<String>,
    /// Issued by hand by the supervision office (the user), rather than by the sweep.
    pub issued_by: Option<String>,
    /// The platform record a hand-issued order is about, e.g. `case:JN20261207000001`.
    pub about: Option<String>,
    pub version: i64,
}

const ORDER_COLUMNS: &str = "id, number, subject, department, title, issued_at, rectify_by, status, rectification, \
                             closed_by_name, closed_at, issued_by, about, version";

fn order_from_row(r: &Row) -> StoreResult<Order> {
    Ok(Order {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        subject: r.try_get("subject")?,
        department: r.try_get("department")?,
        title: r.try_get("title")?,
        issued_at: r.try_get("issued_at")?,
        rectify_by: r.try_get("rectify_by")?,
        status: r.try_get("status")?,
        rectification: r.try_get("rectification")?,
        closed_by_name: r.try_get("closed_by_name")?,
        closed_at: r.try_get("closed_at")?,
        issued_by: r.try_get("issued_by")?,
        about: r.try_get("about")?,
        version: r.try_get("version")?,
    })
}

/// Orders, open first then newest; of one department, or all.
pub async fn orders(db: &Db, department: Option<&str>) -> StoreResult<Vec<Order>> {
    let sql = match department {
        Some(_) => format!(
            "SELECT {ORDER_COLUMNS} FROM supervision_orders WHERE department = $1 \
             ORDER BY status DESC, issued_at DESC LIMIT 500"
        ),
        None => format!(
            "SELECT {ORDER_COLUMNS} FROM supervision_orders ORDER BY status DESC, issued_at DESC LIMIT 500"
        ),
    };
    let mut q = query(sql);
    if let Some(d) = department {
        q = q.bind(d);
    }
    q.read_all(db).await?.iter().map(order_from_row).collect()
}

pub async fn order(db: &Db, id: &str) -> StoreResult<Option<Order>> {
    let row = query(format!("SELECT {ORDER_COLUMNS} FROM supervision_orders WHERE id = $1"))
        .bind(id)
        .read_optional(db)
        .await?;
    row.as_ref().map(order_from_row).transpose()
}

/// Issues an order typed by the supervision office: the order, the head's messages and the
/// audit entry in one transaction. Returns its id.
pub async fn issue(db: &Db, order: ManualOrder, number: String, by: String) -> StoreResult<String> {
    let now = db.now_text();
    let id = crate::identity::store::new_user_id();
    db.write(move |conn| {
        let rectify_by = order.rectify_by.format("%Y-%m-%d").to_string();
        let about = (!order.subject.is_empty()).then(|| order.subject.clone());
        query(
            "INSERT INTO supervision_orders (id, number, subject, department, title, issued_at, rectify_by, status, version, issued_by, about) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', 1, $8, $9)",
        )
        .bind(&id)
        .bind(&number)
        .bind(format!("manual:{id}"))
        .bind(&order.department)
        .bind(&order.title)
        .bind(&now)
        .bind(&rectify_by)
        .bind(&by)
        .bind(&about)
        .execute(&mut *conn)?;
        let heads = query("SELECT user_id FROM user_roles WHERE role = 'department_head' AND department = $1 ORDER BY user_id")
            .bind(&order.department)
            .fetch_all(&mut *conn)?;
        let case_number = about.as_deref().and_then(case_of);
        for (i, h) in heads.iter().enumerate() {
            let head: String = h.try_get("user_id")?;
            let m = Message {
                title_zh: format!("督办单 {number}：{}", order.title),
                title_en: format!("Supervision order {number}: {}", order.title),
                body_zh: format!("市政务服务督查部门交办督办事项，请于{rectify_by}前整改并反馈整改情况。"),
                body_en: format!("The supervision office orders this put right; report by {rectify_by}."),
            };
            notify(conn, &now, u32::try_from(i).unwrap_or(999), &head, case_number, &m, None)?;
        }
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("order:{id}"),
                format!("user:{by}"),
                "monitoring.order_issued",
                format!("order:{id}"),
                format!("{number} {} {}", order.department, order.title),
            ),
        )?;
        Ok(id)
    })
    .await
}

/// Closes an order with the department's rectification, claimed at the version read.
pub async fn close(
    db: &Db,
    id: String,
    version: i64,
    rectification: String,
    by: String,
    by_name: String,
) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {
        let claimed = query(
            "UPDATE supervision_orders SET status = 'closed', rectification = $1, closed_by = $2, closed_by_name = $3, \
             closed_at = $4, version = version + 1 WHERE id = $5 AND version = $6 AND status = 'open'",
        )
        .bind(&rectification)
        .bind(&by)
        .bind(&by_name)
        .bind(&now)
        .bind(&id)
        .bind(version)
        .execute(&mut *conn)?;
        if claimed.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        audit::store::append(
            conn,
            &now,
            NewEntry::new(format!("order:{id}"), format!("user:{by}"), "monitoring.order_closed", format!("order:{id}"), rectification.clone()),
        )?;
        Ok(())
    })
    .await
}

/// Orders by department and status.
pub async fn order_counts(db: &Db) -> StoreResult<Vec<(String, String, i64)>> {
    let rows = query(
        "SELECT department, status, COUNT(*) AS n FROM supervision_orders GROUP BY department, status \
         ORDER BY department, status",
    )
    .read_all(db)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("department")?, r.try_get("status")?, r.try_get("n")?))).collect()
}

/// Alerts raised so far by level.
pub async fn alert_counts(db: &Db) -> StoreResult<Vec<(String, i64)>> {
    let rows = query("SELECT level, COUNT(*) AS n FROM monitoring_alerts GROUP BY level ORDER BY level")
        .read_all(db)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("level")?, r.try_get("n")?))).collect()
}

/// An open post-approval check, as the sweep reads it.
pub struct OpenPostCheck {
    pub id: String,
    pub case_number: String,
    pub case_title: String,
    pub department: String,
    pub due_on: String,
}

pub async fn open_post_checks(db: &Db) -> StoreResult<Vec<OpenPostCheck>> {
    let rows = query(
        "SELECT p.id, p.case_number, c.title, p.department, p.due_on FROM post_checks p \
         JOIN cases c ON c.number = p.case_number WHERE p.status = 'open'",
    )
    .read_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OpenPostCheck {
                id: r.try_get("id")?,
                case_number: r.try_get("case_number")?,
                case_title: r.try_get("title")?,
                department: r.try_get("department")?,
                due_on: r.try_get("due_on")?,
            })
        })
        .collect()
}

/// A bad review's loop at a step with a deadline, as the sweep reads it.
pub struct OpenRectification {
    pub rating_id: String,
    pub object_id: String,
    pub department: String,
    pub status: crate::feedback::domain::LoopStatus,
    /// When the review was given.
    pub reviewed_at: String,
    pub revisited_at: Option<String>,
    pub verified_at: Option<String>,
    pub verify_due: String,
    pub rectify_due: String,
}

pub async fn open_rectifications(db: &Db) -> StoreResult<Vec<OpenRectification>> {
    let rows = query(
        "SELECT l.rating_id, r.object_id, l.department, l.status, r.created_at AS reviewed_at, \
         l.revisited_at, l.verified_at, l.verify_due, l.rectify_due \
         FROM rectifications l JOIN ratings r ON r.id = l.rating_id \
         WHERE l.status IN ('assigned', 'verified')",
    )
    .read_all(db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let status: String = r.try_get("status")?;
        let Some(status) = crate::feedback::domain::LoopStatus::parse(&status) else { continue };
        out.push(OpenRectification {
            rating_id: r.try_get("rating_id")?,
            object_id: r.try_get("object_id")?,
            department: r.try_get("department")?,
            status,
            reviewed_at: r.try_get("reviewed_at")?,
            revisited_at: r.try_get("revisited_at")?,
            verified_at: r.try_get("verified_at")?,
            verify_due: r.try_get("verify_due")?,
            rectify_due: r.try_get("rectify_due")?,
        });
    }
    Ok(out)
}

/// A data request waiting for its owner's decision, as the sweep reads it.
pub struct PendingDataRequest {
    pub id: String,
    pub requester: String,
    pub owner: String,
    pub dataset: String,
    pub due_on: String,
}

pub async fn pending_data_requests(db: &Db) -> StoreResult<Vec<PendingDataRequest>> {
    let rows =
        query("SELECT id, requester, owner, dataset, due_on FROM data_requests WHERE status = 'pending'")
            .read_all(db)
            .await?;
    rows.iter()
        .map(|r| {
            Ok(PendingDataRequest {
                id: r.try_get("id")?,
                requester: r.try_get("requester")?,
                owner: r.try_get("owner")?,
                dataset: r.try_get("dataset")?,
                due_on: r.try_get("due_on")?,
            })
        })
        .collect()
}
