//! Supervision over a period (督查): per Beijing day, the cases submitted and decided, and the
//! decisions that came after their due date. Pure: the store hands over the instants.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::fields::FieldError;
use crate::platform::clock::beijing_date;

/// The longest period a trend covers (a year and a day, so that a leap year fits).
pub const MAX_DAYS: i64 = 366;

/// One day of a trend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DayTrend {
    /// `YYYY-MM-DD`, Beijing.
    pub day: String,
    pub submitted: i64,
    pub decided: i64,
    /// Decided after the due date.
    pub late: i64,
}

/// A decision: when it was made, and the date it was due (none for cases without a limit).
#[derive(Clone, Copy, Debug)]
pub struct Decided {
    pub at: DateTime<Utc>,
    pub due_on: Option<NaiveDate>,
}

/// Every day from `from` to `to` (inclusive), Beijing dates, with its counts; instants outside
/// the period are ignored.
pub fn daily(
    from: NaiveDate,
    to: NaiveDate,
    submitted: &[DateTime<Utc>],
    decided: &[Decided],
) -> Vec<DayTrend> {
    let submitted: Vec<(NaiveDate, i64)> = submitted.iter().map(|&at| (beijing_date(at), 1)).collect();
    let decided: Vec<(NaiveDate, i64, i64)> = decided
        .iter()
        .map(|d| {
            let day = beijing_date(d.at);
            (day, 1, i64::from(d.due_on.is_some_and(|due| day > due)))
        })
        .collect();
    daily_counts(from, to, &submitted, &decided)
}

/// The same from counts already summed by Beijing day (the store sums a city's cases in the
/// database): `submitted` (day, count), `decided` (day, count, of them late). Days outside the
/// period are ignored; a day may come more than once.
pub fn daily_counts(
    from: NaiveDate,
    to: NaiveDate,
    submitted: &[(NaiveDate, i64)],
    decided: &[(NaiveDate, i64, i64)],
) -> Vec<DayTrend> {
    let days = (to - from).num_days().clamp(-1, MAX_DAYS) + 1;
    let mut out: Vec<DayTrend> = (0..days.max(0))
        .map(|i| DayTrend { day: (from + Duration::days(i)).to_string(), submitted: 0, decided: 0, late: 0 })
        .collect();
    let slot = |d: NaiveDate| (from..=to).contains(&d).then(|| (d - from).num_days() as usize);
    for &(d, n) in submitted {
        if let Some(day) = slot(d).and_then(|i| out.get_mut(i)) {
            day.submitted += n;
        }
    }
    for &(d, n, late) in decided {
        if let Some(day) = slot(d).and_then(|i| out.get_mut(i)) {
            day.decided += n;
            day.late += late;
        }
    }
    out
}

/// The period asked for: `from` and `to` as `YYYY-MM-DD` (blank: the 30 days to `today`), from
/// no later than to, at most [`MAX_DAYS`] days. Errors name the field.
pub fn period(from: &str, to: &str, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut date = |field: &str, raw: &str, default: NaiveDate| {
        if raw.trim().is_empty() {
            return Some(default);
        }
        FieldError::parse_date(field, raw).map_err(|e| errors.push(e)).ok()
    };
    let to = date("to", to, today);
    let from = date("from", from, to.unwrap_or(today) - Duration::days(29));
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            errors.push(FieldError::new(
                "from",
                "after_to",
                "开始日期不能晚于结束日期",
                "from must not be after to",
            ));
        } else if (to - from).num_days() + 1 > MAX_DAYS {
            errors.push(FieldError::new(
                "from",
                "too_long",
                format!("统计期最长{MAX_DAYS}天"),
                format!("A period is at most {MAX_DAYS} days"),
            ));
        }
        if errors.is_empty() {
            return Ok((from, to));
        }
    }
    Err(errors)
}

/// The trend as CSV for a spreadsheet (a BOM so that Excel reads the Chinese headers as UTF-8).
pub fn csv(days: &[DayTrend]) -> String {
    let mut out = String::from("\u{feff}日期 Date,受理申请 Submitted,办结 Decided,超期办结 Late\r\n");
    for d in days {
        out.push_str(&format!("{},{},{},{}\r\n", d.day, d.submitted, d.decided, d.late));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::platform::clock::from_beijing;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        from_beijing(chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
    }

    #[test]
    fn days_are_beijing_days_and_late_means_after_the_due_date() {
        // 00:30 Beijing on the 2nd is 16:30 UTC on the 1st: it counts on the 2nd.
        let submitted = [at("2026-12-02 00:30"), at("2026-12-01 23:59"), at("2026-11-30 12:00")];
        let decided = [
            Decided { at: at("2026-12-03 10:00"), due_on: Some(day("2026-12-03")) },
            Decided { at: at("2026-12-03 10:00"), due_on: Some(day("2026-12-02")) },
            Decided { at: at("2026-12-03 10:00"), due_on: None },
        ];
        let t = daily(day("2026-12-01"), day("2026-12-03"), &submitted, &decided);
        let rows: Vec<(&str, i64, i64, i64)> =
            t.iter().map(|d| (d.day.as_str(), d.submitted, d.decided, d.late)).collect();
        assert_eq!(rows, [("2026-12-01", 1, 0, 0), ("2026-12-02", 1, 0, 0), ("2026-12-03", 0, 3, 1)]);
        assert!(csv(&t).starts_with("\u{feff}日期 Date,"));
        assert!(csv(&t).contains("2026-12-03,0,3,1\r\n"));
        // Summed by day first, the same.
        let summed = daily_counts(
            day("2026-12-01"),
            day("2026-12-03"),
            &[(day("2026-12-01"), 1), (day("2026-12-02"), 1), (day("2026-11-30"), 1)],
            &[(day("2026-12-03"), 2, 1), (day("2026-12-03"), 1, 0)],
        );
        assert_eq!(summed, t);
    }

    #[test]
    fn the_period_defaults_to_thirty_days_and_refuses_nonsense_naming_the_field() {
        let today = day("2026-12-07");
        assert_eq!(period("", "", today).unwrap(), (day("2026-11-08"), today));
        let field = |r: Result<(NaiveDate, NaiveDate), Vec<FieldError>>| r.unwrap_err()[0].field.clone();
        assert_eq!(field(period("2026-12-08", "2026-12-07", today)), "from");
        assert_eq!(field(period("2024-01-01", "2026-12-07", today)), "from");
        assert_eq!(field(period("", "2026-13-01", today)), "to");
        assert_eq!(field(period("yesterday", "", today)), "from");
        assert_eq!(period("2026-01-01", "2026-12-31", today).unwrap().0, day("2026-01-01"), "a whole year");
    }
}
