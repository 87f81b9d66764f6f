//! The assessment's figures summed per department and Beijing day (`figure_days`), so that a
//! year's scorecards add up some ten thousand rows instead of reading a million cases.
//!
//! The day rows are derived data, kept exact this way:
//! - Triggers (migration `0029_figure_rollup`) mark the days an insert, a relevant update or a
//!   delete of a case, complaint, rating or rectification touches (`figure_dirty`), in the same
//!   transaction as the change, so no write path can forget to.
//! - [`refresh`] recomputes the marked days from the records with the same conditions the
//!   drill-downs use ([`super::store`]'s sources) before any sum is read, and periodically in the
//!   background, a few marks per transaction. Each transaction first takes the rollup's lock
//!   row, so two processes never interleave, then deletes the marks it will recompute: a change
//!   committed after that leaves a new mark.
//! - What else a day's figure depends on (the working-day calendar for days used, the items'
//!   promised visits for trips, the formulas themselves) is fingerprinted; when the fingerprint
//!   changes, every day is recomputed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::Indicator;
use super::store::{Binds, DAYS_USED_FILTER, Part, source, trips_of, visits_in};
use crate::calendar::domain::Calendar;
use crate::platform::clock::{start_of_beijing_day, time_text};
use crate::store::{Db, LockTable, StoreResult, Tx, lock_row, query};

/// Which stored value a rolled-up indicator's days are the days of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Basis {
    CaseSubmitted,
    CaseDecided,
    CaseDue,
    ComplaintCreated,
    RatingCreated,
}

impl Basis {
    pub const ALL: [Basis; 5] = [
        Basis::CaseSubmitted,
        Basis::CaseDecided,
        Basis::CaseDue,
        Basis::ComplaintCreated,
        Basis::RatingCreated,
    ];

    /// The name the triggers write in `figure_dirty.basis`.
    fn name(self) -> &'static str {
        match self {
            Basis::CaseSubmitted => "case_submitted",
            Basis::CaseDecided => "case_decided",
            Basis::CaseDue => "case_due",
            Basis::ComplaintCreated => "complaint_created",
            Basis::RatingCreated => "rating_created",
        }
    }

    fn parse(name: &str) -> Option<Basis> {
        Basis::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The table and column the days are read from (for the range a full rebuild covers).
    fn column(self) -> (&'static str, &'static str) {
        match self {
            Basis::CaseSubmitted => ("cases", "submitted_at"),
            Basis::CaseDecided => ("cases", "decided_at"),
            Basis::CaseDue => ("cases", "due_on"),
            Basis::ComplaintCreated => ("complaints", "created_at"),
            Basis::RatingCreated => ("ratings", "created_at"),
        }
    }

    /// An instant (whose UTC day touches two Beijing days), not a date.
    fn is_instant(self) -> bool {
        self != Basis::CaseDue
    }

    /// The indicators whose records are counted on this value's day.
    pub fn indicators(self) -> &'static [Indicator] {
        match self {
            Basis::CaseSubmitted => {
                &[Indicator::AcceptanceBacklog, Indicator::Online, Indicator::ZeroTrip, Indicator::AtMostOnce]
            }
            Basis::CaseDecided => &[Indicator::OnTime, Indicator::DaysUsed],
            Basis::CaseDue => &[Indicator::Overdue],
            Basis::ComplaintCreated => &[
                Indicator::ComplaintResponse,
                Indicator::ComplaintResolution,
                Indicator::ComplaintSatisfaction,
            ],
            Basis::RatingCreated => &[Indicator::GoodRate, Indicator::RectifiedOnTime],
        }
    }
}

/// Whether an indicator is summed from the day rows (the others are read from their records:
/// their tables are small, or their figure depends on today).
pub fn rolled_up(i: Indicator) -> bool {
    Basis::ALL.iter().any(|b| b.indicators().contains(&i))
}

/// What the day rows are computed with besides the records.
#[derive(Clone)]
pub struct Inputs {
    pub calendar: Arc<Calendar>,
    /// Item code → promised visits to a hall.
    pub visits: Arc<HashMap<String, u32>>,
}

impl Inputs {
    /// Changes whenever a day row computed with these inputs could change: the formulas (the
    /// SQL each day is summed with), the calendar, the items' visits.
    fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for b in Basis::ALL {
            for sql in day_queries(b) {
                h.update(sql.as_bytes());
            }
        }
        h.update(self.calendar.fingerprint().as_bytes());
        let visits: BTreeMap<_, _> = self.visits.iter().collect();
        h.update(format!("{visits:?}").as_bytes());
        hex::encode(h.finalize())
    }
}

const FINGERPRINT_KEY: &str = "figures.rollup_inputs";

/// What one refresh did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// Every day was recomputed (first run, or the inputs changed).
    pub full: bool,
    /// Days recomputed, over all bases.
    pub days: usize,
    /// Day rows written.
    pub rows: usize,
}

/// Marks recomputed per transaction: a rebuild of a city's year holds the (SQLite) writer for
/// a fraction of a second at a time, not for the whole rebuild.
const MARKS_PER_TRANSACTION: i64 = 32;

/// Recomputes every day a change has marked (every day, when the inputs changed), a few days
/// per transaction until none is left. Cheap when nothing changed: one lock, one read of the
/// settings row, one empty delete.
pub async fn refresh(db: &Db, inputs: &Inputs) -> StoreResult<Refreshed> {
    let fingerprint = inputs.fingerprint();
    let mut done = Refreshed::default();
    loop {
        let (inputs, fingerprint) = (inputs.clone(), fingerprint.clone());
        let (step, more) = db.write(move |tx| refresh_step(tx, &inputs, &fingerprint)).await?;
        done.full |= step.full;
        done.days += step.days;
        done.rows += step.rows;
        if !more {
            return Ok(done);
        }
    }
}

/// One transaction of a refresh; `true` when marks may be left.
fn refresh_step(tx: &mut dyn Tx, inputs: &Inputs, fingerprint: &str) -> StoreResult<(Refreshed, bool)> {
    lock_row(tx, LockTable::Lock, "figure_rollup")?;
    let stored: Option<String> = query("SELECT value FROM settings WHERE key = $1")
        .bind(FINGERPRINT_KEY)
        .fetch_optional(tx)?
        .map(|r| r.try_get("value"))
        .transpose()?;
    let full = stored.as_deref() != Some(fingerprint);
    if full {
        // Every day any record counts on is marked, and recomputed by this and the next steps.
        query("DELETE FROM figure_days").execute(tx)?;
        for b in Basis::ALL {
            let (table, column) = b.column();
            let r =
                query(format!("SELECT MIN({column}) AS a, MAX({column}) AS z FROM {table}")).fetch_one(tx)?;
            let (a, z): (Option<String>, Option<String>) = (r.try_get("a")?, r.try_get("z")?);
            let (Some(a), Some(z)) = (a.and_then(|a| day_of(&a)), z.and_then(|z| day_of(&z))) else {
                continue;
            };
            let days: Vec<NaiveDate> = a.iter_days().take_while(|d| *d <= z).collect();
            for chunk in days.chunks(200) {
                let values: Vec<String> =
                    (0..chunk.len()).map(|k| format!("('{}', ${})", b.name(), k + 1)).collect();
                let mut q = query(format!(
                    "INSERT INTO figure_dirty (basis, day) VALUES {} ON CONFLICT DO NOTHING",
                    values.join(", ")
                ));
                for d in chunk {
                    q = q.bind(d.to_string());
                }
                q.execute(tx)?;
            }
        }
        query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(FINGERPRINT_KEY)
        .bind(fingerprint)
        .execute(tx)?;
    }
    let marks = query(
        "DELETE FROM figure_dirty WHERE (basis, day) IN \
         (SELECT basis, day FROM figure_dirty ORDER BY basis, day LIMIT $1) RETURNING basis, day",
    )
    .bind(MARKS_PER_TRANSACTION)
    .fetch_all(tx)?;
    let more = marks.len() as i64 == MARKS_PER_TRANSACTION;
    let mut days: BTreeMap<Basis, BTreeSet<NaiveDate>> = BTreeMap::new();
    for r in marks {
        let (basis, day): (String, String) = (r.try_get("basis")?, r.try_get("day")?);
        let (Some(b), Some(d)) = (Basis::parse(&basis), day_of(&day)) else { continue };
        let set = days.entry(b).or_default();
        set.insert(d);
        // An instant's UTC day ends on the next Beijing day (from 16:00 UTC).
        if b.is_instant() {
            set.insert(d + chrono::Duration::days(1));
        }
    }
    let mut done = Refreshed { full, ..Refreshed::default() };
    for (b, set) in days {
        done.days += set.len();
        for (first, last) in runs(&set) {
            done.rows += recompute(tx, inputs, b, first, last)?;
        }
    }
    Ok((done, more))
}

fn day_of(text: &str) -> Option<NaiveDate> {
    text.get(..10)?.parse().ok()
}

/// Consecutive days as `(first, last)` ranges: a run is summed with one query per indicator.
fn runs(days: &BTreeSet<NaiveDate>) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for &d in days {
        match out.last_mut() {
            Some((_, last)) if *last + chrono::Duration::days(1) == d => *last = d,
            _ => out.push((d, d)),
        }
    }
    out
}

/// The SQL each basis's day rows are summed with. Share-like indicators reuse their source (the
/// drill-down's rows and condition), grouped by day; trips and days used have their own.
fn day_queries(b: Basis) -> Vec<String> {
    let mut out: Vec<String> = b
        .indicators()
        .iter()
        .filter_map(|i| {
            let s = source(*i)?;
            let (day, group) = day_columns(b, s.day);
            Some(format!(
                "SELECT {dept} AS department, {day}, COUNT(*) AS d, \
                 CAST(COALESCE(SUM(CASE WHEN {num} THEN 1 ELSE 0 END), 0) AS BIGINT) AS n \
                 FROM {from} WHERE {filter} AND {dept} IS NOT NULL GROUP BY {dept}, {group}",
                dept = s.department,
                num = s.numerator,
                from = s.from,
                filter = s.filter,
            ))
        })
        .collect();
    match b {
        Basis::CaseSubmitted => {
            let (day, group) = day_columns(b, "submitted_at");
            out.push(format!(
                "SELECT department, item_code, {day}, \
                 CASE WHEN accepted_at_window = 0 AND in_person = 0 THEN 1 ELSE 0 END AS online, COUNT(*) AS n \
                 FROM cases WHERE kind = 'item' AND submitted_at >= $1 AND submitted_at < $2 \
                 GROUP BY department, item_code, {group}, CASE WHEN accepted_at_window = 0 AND in_person = 0 THEN 1 ELSE 0 END"
            ));
        }
        Basis::CaseDecided => {
            let (day, group) = day_columns(b, "decided_at");
            out.push(format!(
                "SELECT department, accepted_on, {day}, COUNT(*) AS n, \
                 CAST(SUM(promised_days) AS BIGINT) AS promised, CAST(SUM(paused_days) AS BIGINT) AS paused \
                 FROM cases WHERE {DAYS_USED_FILTER} GROUP BY department, accepted_on, {group}"
            ));
        }
        _ => {}
    }
    out
}

/// The day columns (`utc_day`, `evening`) selected and grouped by: an instant's UTC day and
/// whether it is from 16:00 UTC on (the next Beijing day); a date is its own day.
fn day_columns(b: Basis, column: &str) -> (String, String) {
    if b.is_instant() {
        let evening = format!("CASE WHEN substr({column}, 12, 2) >= '16' THEN 1 ELSE 0 END");
        (
            format!("substr({column}, 1, 10) AS utc_day, {evening} AS evening"),
            format!("substr({column}, 1, 10), {evening}"),
        )
    } else {
        (format!("{column} AS utc_day, 0 AS evening"), column.to_string())
    }
}

fn beijing_day(r: &crate::store::Row) -> StoreResult<Option<NaiveDate>> {
    let (day, evening): (String, i64) = (r.try_get("utc_day")?, r.try_get("evening")?);
    Ok(day_of(&day).map(|d| if evening == 1 { d + chrono::Duration::days(1) } else { d }))
}

/// Recomputes `b`'s indicators for the Beijing days `first..=last`: their rows are replaced by
/// what the records sum to now. Returns the rows written.
fn recompute(
    tx: &mut dyn Tx,
    inputs: &Inputs,
    b: Basis,
    first: NaiveDate,
    last: NaiveDate,
) -> StoreResult<usize> {
    let bind = |q: crate::store::sql::Query, binds: Binds| match binds {
        Binds::PassedDays => q.bind(first.to_string()).bind(last.to_string()),
        _ => q
            .bind(time_text(start_of_beijing_day(first)))
            .bind(time_text(start_of_beijing_day(last + chrono::Duration::days(1)))),
    };
    let mut sums: BTreeMap<(Indicator, NaiveDate, String), (i64, i64)> = BTreeMap::new();
    let mut add = |((department, i), n, d): Part, day: NaiveDate| {
        let e = sums.entry((i, day, department)).or_default();
        e.0 += n;
        e.1 += d;
    };
    let queries = day_queries(b);
    let mut queries = queries.into_iter();
    for i in b.indicators() {
        let Some(s) = source(*i) else { continue };
        let sql = queries.next().unwrap_or_default();
        for r in bind(query(sql), s.binds).fetch_all(tx)? {
            let Some(day) = beijing_day(&r)? else { continue };
            add(((r.try_get("department")?, *i), r.try_get("n")?, r.try_get("d")?), day);
        }
    }
    if let Some(sql) = queries.next() {
        let rows = bind(query(sql), Binds::Instants).fetch_all(tx)?;
        for r in rows {
            let Some(day) = beijing_day(&r)? else { continue };
            let department: String = r.try_get("department")?;
            let n: i64 = r.try_get("n")?;
            match b {
                Basis::CaseSubmitted => {
                    let item: Option<String> = r.try_get("item_code")?;
                    let online = r.try_get::<i64, _>("online")? == 1;
                    for part in trips_of(department, visits_in(&inputs.visits, item.as_deref()), online, n) {
                        add(part, day);
                    }
                }
                Basis::CaseDecided => {
                    let accepted: String = r.try_get("accepted_on")?;
                    let Some(accepted) = day_of(&accepted) else { continue };
                    let (promised, paused): (i64, i64) = (r.try_get("promised")?, r.try_get("paused")?);
                    let used = n * inputs.calendar.working_days_between(accepted, day) - paused;
                    add(((department, Indicator::DaysUsed), used, promised), day);
                }
                _ => {}
            }
        }
    }
    let codes: Vec<String> = b.indicators().iter().map(|i| format!("'{}'", i.code())).collect();
    query(format!(
        "DELETE FROM figure_days WHERE indicator IN ({}) AND day >= $1 AND day <= $2",
        codes.join(", ")
    ))
    .bind(first.to_string())
    .bind(last.to_string())
    .execute(tx)?;
    let rows: Vec<_> = sums.into_iter().collect();
    for chunk in rows.chunks(200) {
        let values: Vec<String> = (0..chunk.len())
            .map(|k| {
                format!("(${}, ${}, ${}, ${}, ${})", 5 * k + 1, 5 * k + 2, 5 * k + 3, 5 * k + 4, 5 * k + 5)
            })
            .collect();
        let mut q = query(format!(
            "INSERT INTO figure_days (indicator, day, department, numerator, denominator) VALUES {}",
            values.join(", ")
        ));
        for ((i, day, department), (n, d)) in chunk {
            q = q.bind(i.code()).bind(day.to_string()).bind(department.clone()).bind(*n).bind(*d);
        }
        q.execute(tx)?;
    }
    Ok(rows.len())
}

/// Every department's sums of the rolled-up indicators over the days `from..=to`; the overdue
/// figure only over days up to `last_passed` (a deadline still to come is not missed yet).
pub async fn sums(db: &Db, from: NaiveDate, to: NaiveDate, last_passed: NaiveDate) -> StoreResult<Vec<Part>> {
    let rows = query(
        "SELECT department, indicator, CAST(SUM(numerator) AS BIGINT) AS n, CAST(SUM(denominator) AS BIGINT) AS d \
         FROM figure_days WHERE day >= $1 AND day <= $2 AND (indicator <> $3 OR day <= $4) \
         GROUP BY department, indicator",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(Indicator::Overdue.code())
    .bind(last_passed.to_string())
    .read_all(db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let code: String = r.try_get("indicator")?;
        let Some(i) = Indicator::parse(&code) else { continue };
        out.push(((r.try_get("department")?, i), r.try_get("n")?, r.try_get("d")?));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_days_make_one_run() {
        let d = |m: u32, day: u32| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let set: BTreeSet<_> = [d(11, 30), d(12, 1), d(12, 2), d(12, 5), d(6, 1)].into_iter().collect();
        assert_eq!(runs(&set), [(d(6, 1), d(6, 1)), (d(11, 30), d(12, 2)), (d(12, 5), d(12, 5))]);
        assert!(runs(&BTreeSet::new()).is_empty());
    }

    #[test]
    fn every_rolled_up_indicator_has_one_basis_and_a_query() {
        let mut seen = Vec::new();
        for b in Basis::ALL {
            assert_eq!(Basis::parse(b.name()), Some(b));
            let shares = b.indicators().iter().filter(|i| source(**i).is_some()).count();
            let own = usize::from(matches!(b, Basis::CaseSubmitted | Basis::CaseDecided));
            assert_eq!(day_queries(b).len(), shares + own, "{b:?}");
            seen.extend_from_slice(b.indicators());
        }
        let before = seen.len();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), before, "an indicator under two bases");
        for i in [Indicator::ProactiveClosed, Indicator::DataOnTime, Indicator::MilestonesOnTime] {
            assert!(!rolled_up(i));
        }
    }

    #[test]
    fn the_fingerprint_follows_the_calendar_and_the_visits() {
        let years = crate::calendar::domain::parse_holidays_file(include_str!(
            "../../../../reference/holidays_cn.json"
        ))
        .unwrap();
        let with = Inputs {
            calendar: Arc::new(Calendar::new(years).unwrap()),
            visits: Arc::new(HashMap::from([("A".to_string(), 1)])),
        };
        let plain = Inputs { calendar: Arc::new(Calendar::default()), ..with.clone() };
        let more_visits = Inputs { visits: Arc::new(HashMap::from([("A".to_string(), 2)])), ..with.clone() };
        assert_eq!(with.fingerprint(), with.clone().fingerprint());
        assert_ne!(with.fingerprint(), plain.fingerprint());
        assert_ne!(with.fingerprint(), more_visits.fingerprint());
    }
}
