//! A year of a city's activity, generated straight into the store for the benchmarks that need a
//! loaded platform: cases with their timelines, 12345 complaints with theirs, and 好差评 ratings
//! of closed cases. Deterministic (one seed), spread over the 365 days before the benchmark clock's
//! day so that nothing collides with what a benchmark then submits today, and shaped like the
//! real thing where a reader of the store would notice: the catalog's items and departments, the
//! complaint taxonomy's categories and departments, sealed contact phones, due dates, outcomes.
//!
//! Rows go in as multi-row INSERTs of bound values, a few thousand per write.

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use quanban::platform::clock::time_text;
use quanban::store::sql::Value;
use quanban::store::{Db, query};

/// How much activity to generate.
#[derive(Clone, Copy, Debug)]
pub struct Volume {
    pub cases: u64,
    pub complaints: u64,
    pub ratings: u64,
}

/// A year of a city (the figure): 1 M cases, 300 k complaints, 200 k ratings.
pub const CITY_YEAR: Volume = Volume { cases: 1_000_000, complaints: 300_000, ratings: 200_000 };

const DISTRICTS: [&str; 10] =
    ["历下区", "市中区", "槐荫区", "天桥区", "历城区", "长清区", "章丘区", "济阳区", "莱芜区", "钢城区"];

/// Rows per INSERT statement (SQLite binds at most 32,766 values a statement) and per write.
const ROWS_PER_STATEMENT: usize = 400;
const ROWS_PER_WRITE: usize = 4_000;

/// Generates what `db` lacks of `volume` (nothing when it already holds as many cases as asked);
/// returns the time taken when it generated.
pub async fn ensure(db: &Db, volume: Volume) -> anyhow::Result<Option<Duration>> {
    let cases: i64 = query("SELECT COUNT(*) AS n FROM cases").read_one(db).await?.try_get("n")?;
    if cases as u64 >= volume.cases {
        return Ok(None);
    }
    let started = Instant::now();
    let world = World::read(db).await?;
    let today = quanban::platform::clock::beijing_date(db.now());
    let mut rng = ChaCha8Rng::seed_from_u64(20_261_206);
    let closed = generate_cases(db, &world, today, volume.cases, &mut rng).await?;
    generate_ratings(db, &closed, volume.ratings, &mut rng).await?;
    generate_complaints(db, &world, today, volume.complaints, &mut rng).await?;
    Ok(Some(started.elapsed()))
}

/// What the generated rows refer to.
struct World {
    /// (code, name, department) of every active item.
    items: Vec<(String, String, String)>,
    /// (id, name) of every person.
    people: Vec<(String, String)>,
    /// (code, department, a word of the category) of every complaint category.
    categories: Vec<(String, String, String)>,
}

impl World {
    async fn read(db: &Db) -> anyhow::Result<World> {
        let mut items = Vec::new();
        for r in
            query("SELECT code, name, department FROM catalog_items WHERE status = 'active' ORDER BY code")
                .read_all(db)
                .await?
        {
            items.push((r.try_get("code")?, r.try_get("name")?, r.try_get("department")?));
        }
        let mut people = Vec::new();
        for r in query("SELECT id, name FROM users WHERE kind = 'person' ORDER BY id").read_all(db).await? {
            people.push((r.try_get("id")?, r.try_get("name")?));
        }
        let mut categories = Vec::new();
        for c in quanban::complaints::store::taxonomy(db).await?.categories {
            let word = c.keywords.first().cloned().unwrap_or_else(|| c.name.clone());
            categories.push((c.code, c.department, word));
        }
        anyhow::ensure!(
            !items.is_empty() && !people.is_empty() && !categories.is_empty(),
            "the store has no catalog, people or complaint categories to generate activity for"
        );
        Ok(World { items, people, categories })
    }
}

/// A stored instant `day_offset` days before `today` (Beijing) at a working hour.
fn instant(today: NaiveDate, days_before: u64, minute_of_day: u32) -> chrono::DateTime<Utc> {
    let day = today.checked_sub_days(Days::new(days_before)).unwrap_or(today);
    let local = day.and_hms_opt(8 + minute_of_day / 60 % 10, minute_of_day % 60, 0).unwrap_or_default();
    quanban::platform::clock::BEIJING
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// Inserts `rows` into `table` in batches; every row has one value per column.
async fn insert(
    db: &Db,
    table: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<Value>>,
) -> anyhow::Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<Vec<Value>> = rows.by_ref().take(ROWS_PER_WRITE).collect();
        db.write(move |conn| {
            for chunk in batch.chunks(ROWS_PER_STATEMENT) {
                let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
                let mut n = 0;
                for (r, row) in chunk.iter().enumerate() {
                    sql.push_str(if r == 0 { "(" } else { ", (" });
                    for c in 0..row.len() {
                        n += 1;
                        sql.push_str(&format!("{}${n}", if c == 0 { "" } else { ", " }));
                    }
                    sql.push(')');
                }
                let mut statement = query(sql);
                for value in chunk.iter().flatten() {
                    statement = statement.bind_value(value.clone());
                }
                statement.execute(&mut *conn)?;
            }
            Ok(())
        })
        .await?;
    }
    Ok(())
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn maybe(s: Option<String>) -> Value {
    s.map_or(Value::Null(quanban::store::sql::Kind::Text), Value::Text)
}

const CASE_COLUMNS: &[&str] = &[
    "number",
    "kind",
    "item_code",
    "title",
    "department",
    "owner_department",
    "applicant_id",
    "applicant_name",
    "submitted_by",
    "state",
    "single_approver",
    "immediate",
    "with_commitment",
    "promised_days",
    "form",
    "complete",
    "accepted_on",
    "accepted_by",
    "due_on",
    "decision",
    "decision_reason",
    "decided_at",
    "submitted_at",
    "updated_at",
    "version",
];
const EVENT_COLUMNS: &[&str] =
    &["case_number", "seq", "action", "from_state", "to_state", "actor_name", "role", "department", "at"];

/// Cases, a year of them, and their timelines; returns (number, item, department, applicant, day
/// served) of the closed ones, for the ratings.
async fn generate_cases(
    db: &Db,
    world: &World,
    today: NaiveDate,
    count: u64,
    rng: &mut ChaCha8Rng,
) -> anyhow::Result<Vec<(String, String, String, String, NaiveDate)>> {
    let vault = db.vault()?.clone();
    let per_day = count.div_ceil(365).max(1);
    let mut closed = Vec::new();
    let mut cases = Vec::with_capacity(ROWS_PER_WRITE);
    let mut events = Vec::with_capacity(ROWS_PER_WRITE * 4);
    let mut counters = Vec::new();
    for i in 0..count {
        let days_before = 365 - i / per_day;
        let sequence = i % per_day + 1;
        let day = today.checked_sub_days(Days::new(days_before)).unwrap_or(today);
        if sequence == 1 {
            counters.push(vec![text(day.format("%Y-%m-%d").to_string()), Value::Int(per_day as i64)]);
        }
        let number = quanban::cases::domain::case_number(day, sequence as u32);
        let (item, name, department) = &world.items[rng.random_range(0..world.items.len())];
        let (applicant, applicant_name) = &world.people[rng.random_range(0..world.people.len())];
        let promised = rng.random_range(3..=20u64);
        let submitted = instant(today, days_before, rng.random_range(0..600));
        let form = quanban::cases::store::seal_form(
            &quanban::cases::intake::ApplicationForm {
                contact_name: applicant_name.clone(),
                contact_phone: format!("139{:08}", rng.random_range(0..100_000_000u32)),
                address: format!("济南市{}", DISTRICTS[rng.random_range(0..DISTRICTS.len())]),
                description: String::new(),
                email: String::new(),
            },
            &vault,
        )?;
        // Outcomes as a year of a city shows them; the newest cases are still open.
        let roll = rng.random_range(0..100);
        let open = days_before <= promised + 2;
        let (state, decision) = match roll {
            _ if open && roll < 40 => ("under_review", None),
            _ if open && roll < 60 => ("submitted", None),
            0..=2 => ("not_accepted", None),
            3..=4 => ("withdrawn", None),
            5..=9 => ("rejected", Some("rejected")),
            _ => ("closed", Some("approved")),
        };
        let accepted = !matches!(state, "submitted" | "not_accepted" | "withdrawn");
        let accepted_on = day.checked_add_days(Days::new(rng.random_range(0..2)));
        let due_on = accepted_on.and_then(|d| d.checked_add_days(Days::new(promised + promised / 2)));
        let used = rng.random_range(1..=promised + 3);
        let decided = decision.map(|_| {
            instant(today, days_before.saturating_sub(used), rng.random_range(0..600)).max(submitted)
        });
        let updated = decided.unwrap_or(submitted);
        cases.push(vec![
            text(&number),
            text("item"),
            text(item),
            text(name),
            text(department),
            text(department),
            text(applicant),
            text(applicant_name),
            text(applicant),
            text(state),
            Value::Int(1),
            Value::Int(0),
            Value::Int(0),
            Value::Int(promised as i64),
            text(form),
            Value::Int(1),
            maybe(accepted_on.filter(|_| accepted).map(|d| d.format("%Y-%m-%d").to_string())),
            maybe(accepted.then(|| "窗口人员".to_string())),
            maybe(due_on.filter(|_| accepted).map(|d| d.format("%Y-%m-%d").to_string())),
            maybe(decision.map(str::to_string)),
            maybe((decision == Some("rejected")).then(|| "申请材料不符合法定条件".to_string())),
            maybe(decided.map(time_text)),
            text(time_text(submitted)),
            text(time_text(updated)),
            Value::Int(1 + i64::from(accepted) + i64::from(decided.is_some()) * 2),
        ]);
        let mut timeline = vec![("submit", None, "submitted", "申请人", None, submitted)];
        match state {
            "not_accepted" => timeline.push((
                "not_accept",
                Some("submitted"),
                state,
                "窗口人员",
                Some("window_clerk"),
                submitted,
            )),
            "withdrawn" => timeline.push(("withdraw", Some("submitted"), state, "申请人", None, submitted)),
            "submitted" => {}
            _ => {
                timeline.push((
                    "accept",
                    Some("submitted"),
                    "under_review",
                    "窗口人员",
                    Some("window_clerk"),
                    submitted,
                ));
                if let Some(at) = decided {
                    let to = if state == "rejected" { "rejected" } else { "approved" };
                    timeline.push((
                        if to == "rejected" { "reject" } else { "approve" },
                        Some("under_review"),
                        to,
                        "审批人员",
                        Some("approver"),
                        at,
                    ));
                    if state == "closed" {
                        timeline.push((
                            "close",
                            Some("approved"),
                            "closed",
                            "窗口人员",
                            Some("window_clerk"),
                            at,
                        ));
                        closed.push((
                            number.clone(),
                            item.clone(),
                            department.clone(),
                            applicant.clone(),
                            day,
                        ));
                    }
                }
            }
        }
        for (seq, (action, from, to, actor, role, at)) in timeline.into_iter().enumerate() {
            events.push(vec![
                text(&number),
                Value::Int(seq as i64 + 1),
                text(action),
                maybe(from.map(str::to_string)),
                text(to),
                text(actor),
                maybe(role.map(str::to_string)),
                text(department),
                text(time_text(at)),
            ]);
        }
        if cases.len() == ROWS_PER_WRITE {
            insert(db, "cases", CASE_COLUMNS, std::mem::take(&mut cases)).await?;
            insert(db, "case_events", EVENT_COLUMNS, std::mem::take(&mut events)).await?;
        }
    }
    insert(db, "cases", CASE_COLUMNS, cases).await?;
    insert(db, "case_events", EVENT_COLUMNS, events).await?;
    insert(db, "case_counters", &["day", "last"], counters).await?;
    Ok(closed)
}

/// Ratings of closed cases: mostly good, some bad (those would have rectifications in life; the
/// benchmark's readers count them either way).
async fn generate_ratings(
    db: &Db,
    closed: &[(String, String, String, String, NaiveDate)],
    count: u64,
    rng: &mut ChaCha8Rng,
) -> anyhow::Result<()> {
    const COLUMNS: &[&str] = &[
        "id",
        "object_kind",
        "object_id",
        "department",
        "item_code",
        "rater_id",
        "real_name",
        "score",
        "indicators",
        "comment",
        "channel",
        "served_on",
        "created_at",
    ];
    let mut rows = Vec::with_capacity(ROWS_PER_WRITE);
    let step = (closed.len() as u64 / count.max(1)).max(1) as usize;
    for (n, (number, item, department, rater, served)) in
        closed.iter().step_by(step).take(count as usize).enumerate()
    {
        let score: i64 = match rng.random_range(0..100) {
            0..=2 => 1,
            3..=5 => 2,
            6..=12 => 3,
            13..=30 => 4,
            _ => 5,
        };
        let indicators: serde_json::Map<String, serde_json::Value> =
            quanban::feedback::domain::ONLINE_INDICATORS
                .iter()
                .map(|(code, ..)| ((*code).to_string(), serde_json::json!(score)))
                .collect();
        let at = quanban::platform::clock::BEIJING
            .from_local_datetime(&served.and_hms_opt(20, 0, 0).unwrap_or_default())
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        rows.push(vec![
            text(format!("R{:08}", n + 1)),
            text("case"),
            text(number),
            text(department),
            text(item),
            text(rater),
            Value::Int(1),
            Value::Int(score),
            text(serde_json::Value::Object(indicators).to_string()),
            maybe((score <= 2).then(|| "办理时间太长，材料要求反复变化".to_string())),
            text(["web", "app", "pad", "sms"][n % 4]),
            text(served.format("%Y-%m-%d").to_string()),
            text(time_text(at)),
        ]);
        if rows.len() == ROWS_PER_WRITE {
            insert(db, "ratings", COLUMNS, std::mem::take(&mut rows)).await?;
        }
    }
    insert(db, "ratings", COLUMNS, rows).await
}

/// 12345 complaints, a year of them, with their timelines: most answered and closed on time.
async fn generate_complaints(
    db: &Db,
    world: &World,
    today: NaiveDate,
    count: u64,
    rng: &mut ChaCha8Rng,
) -> anyhow::Result<()> {
    const COLUMNS: &[&str] = &[
        "id",
        "source",
        "category",
        "department",
        "district",
        "description",
        "address",
        "lat",
        "lon",
        "photos",
        "complainant_name",
        "status",
        "routed_by",
        "confidence",
        "dispatched_at",
        "respond_due",
        "resolve_due",
        "responded_at",
        "responded_on_time",
        "resolved_at",
        "answer",
        "callback_at",
        "callback_resolved",
        "callback_satisfied",
        "created_at",
        "updated_at",
        "version",
        "public_id",
    ];
    const EVENTS: &[&str] = &["complaint_id", "seq", "at", "actor_name", "action", "department"];
    let per_day = count.div_ceil(365).max(1);
    let mut rows = Vec::with_capacity(ROWS_PER_WRITE);
    let mut events = Vec::with_capacity(ROWS_PER_WRITE * 3);
    let mut counters = Vec::new();
    for i in 0..count {
        let days_before = 365 - i / per_day;
        let n = i % per_day + 1;
        let day = today.checked_sub_days(Days::new(days_before)).unwrap_or(today);
        if n == 1 {
            counters.push(vec![text(day.format("%Y-%m-%d").to_string()), Value::Int(per_day as i64)]);
        }
        let id = format!("12345-{}-{n:05}", day.format("%Y%m%d"));
        let (category, department, word) = &world.categories[rng.random_range(0..world.categories.len())];
        let district = DISTRICTS[rng.random_range(0..DISTRICTS.len())];
        let road = ["经十路", "泉城路", "历山路", "二环东路", "工业南路", "北园大街"][rng.random_range(0..6)];
        let created = instant(today, days_before, rng.random_range(0..600));
        let respond_due = created + chrono::Duration::hours(24);
        let resolve_due = created + chrono::Duration::days(7);
        let open = days_before < 3 && rng.random_range(0..2) == 0;
        let responded = (!open).then(|| created + chrono::Duration::hours(rng.random_range(1..30)));
        let resolved = responded.map(|t| t + chrono::Duration::hours(rng.random_range(2..200)));
        let status = if open { "dispatched" } else { "closed" };
        let satisfied = rng.random_range(0..100) < 88;
        rows.push(vec![
            text(&id),
            text(["hotline", "web", "app"][(i % 3) as usize]),
            text(category),
            text(department),
            text(district),
            text(format!(
                "{district}{road}附近{word}的问题已经持续{}天了，希望尽快处理。",
                rng.random_range(1..15)
            )),
            text(format!("济南市{district}{road}{}号", rng.random_range(1..400))),
            Value::Real(36.60 + rng.random_range(0.0..0.15)),
            Value::Real(116.90 + rng.random_range(0.0..0.25)),
            text("[]"),
            text("市民"),
            text(status),
            text("classifier"),
            Value::Real(rng.random_range(0.5..0.99)),
            text(time_text(created)),
            text(time_text(respond_due)),
            text(time_text(resolve_due)),
            maybe(responded.map(time_text)),
            responded.map_or(Value::Null(quanban::store::sql::Kind::Int), |t| {
                Value::Int(i64::from(t <= respond_due))
            }),
            maybe(resolved.map(time_text)),
            maybe(resolved.map(|_| "已安排人员现场处理，问题已解决。".to_string())),
            maybe(resolved.map(|t| time_text(t + chrono::Duration::hours(24)))),
            resolved.map_or(Value::Null(quanban::store::sql::Kind::Int), |_| Value::Int(1)),
            resolved
                .map_or(Value::Null(quanban::store::sql::Kind::Int), |_| Value::Int(i64::from(satisfied))),
            text(time_text(created)),
            text(time_text(resolved.unwrap_or(created))),
            Value::Int(if open { 1 } else { 4 }),
            // The identifier on the open feed: 64 bits, hex, as intake makes it (from the seed here).
            text(format!("{:016x}", rng.random::<u64>())),
        ]);
        let mut timeline =
            vec![(created, "市民", "created", None), (created, "12345", "dispatched", Some(department))];
        if let (Some(r), Some(s)) = (responded, resolved) {
            timeline.push((r, "承办单位", "responded", Some(department)));
            timeline.push((s, "承办单位", "resolved", Some(department)));
        }
        for (seq, (at, actor, action, dept)) in timeline.into_iter().enumerate() {
            events.push(vec![
                text(&id),
                Value::Int(seq as i64 + 1),
                text(time_text(at)),
                text(actor),
                text(action),
                maybe(dept.cloned()),
            ]);
        }
        if rows.len() == ROWS_PER_WRITE {
            insert(db, "complaints", COLUMNS, std::mem::take(&mut rows)).await?;
            insert(db, "complaint_events", EVENTS, std::mem::take(&mut events)).await?;
        }
    }
    insert(db, "complaints", COLUMNS, rows).await?;
    insert(db, "complaint_events", EVENTS, events).await?;
    insert(db, "complaint_counters", &["day", "n"], counters).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the generator writes reads back through the areas' own stores (sealed forms opened,
    /// timelines ending in each case's state, complaints), all before the clock's day; a second
    /// call adds nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn generated_activity_reads_back_through_the_stores() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = quanban::config::Config {
            data_dir: dir.path().to_path_buf(),
            clock: Some(quanban::platform::clock::TEST_INSTANT.to_string()),
            ..quanban::config::Config::default()
        };
        let state = quanban::app::AppState::open(config).await.expect("the app opens");
        let db = &state.db;
        let volume = Volume { cases: 730, complaints: 365, ratings: 100 };
        assert!(ensure(db, volume).await.expect("generated").is_some());
        let count = async |sql: &'static str| -> i64 {
            query(sql).read_one(db).await.expect("counted").try_get("n").expect("a count")
        };
        assert_eq!(count("SELECT COUNT(*) AS n FROM cases").await, 730);
        assert_eq!(count("SELECT COUNT(*) AS n FROM complaints").await, 365);
        assert_eq!(count("SELECT COUNT(*) AS n FROM ratings").await, 100);
        let today = quanban::platform::clock::beijing_date(db.now()).format("%Y-%m-%d").to_string();
        assert!(count("SELECT COUNT(*) AS n FROM cases WHERE state = 'closed'").await > 300);

        let rows = query("SELECT number, state, submitted_at FROM cases ORDER BY number")
            .read_all(db)
            .await
            .expect("read");
        for r in rows.iter().step_by(37) {
            let number: String = r.try_get("number").expect("number");
            let case = quanban::cases::store::get(db, &number).await.expect("read").expect("the case");
            assert!(
                case.form.contact_phone.starts_with("139") && case.form.contact_phone.len() == 11,
                "{number}"
            );
            let events = quanban::cases::store::events(db, &number).await.expect("timeline");
            assert_eq!(events.first().map(|e| e.action.as_str()), Some("submit"), "{number}");
            assert_eq!(events.last().map(|e| e.to_state.as_str()), Some(case.state.as_str()), "{number}");
            let submitted: String = r.try_get("submitted_at").expect("submitted");
            assert!(submitted[..10] < *today.as_str(), "{number} submitted {submitted}, before {today}");
        }
        let id: String = query("SELECT id FROM complaints ORDER BY id LIMIT 1")
            .read_one(db)
            .await
            .expect("a complaint")
            .try_get("id")
            .expect("id");
        assert!(quanban::complaints::store::get(db, &id).await.expect("read").is_some());
        assert!(ensure(db, volume).await.expect("checked").is_none(), "nothing twice");
        db.close().await;
    }
}
