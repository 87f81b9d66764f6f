//! Chinese statutory working-day calendar (mainland China, Asia/Shanghai).
//!
//! Statutory deadlines in government services (e.g. "reply within 5 working
//! days") are counted in *working days* as published each year by the General
//! Office of the State Council (国务院办公厅《关于××年部分节假日安排的通知》).
//! That notice does two things a plain weekday rule cannot express:
//!
//! * it lists public-holiday dates that are days off (`off`), including the
//!   Saturdays/Sundays folded into a holiday block, and
//! * it turns some Saturdays/Sundays into working days (调休上班, `work`) to
//!   make up for bridged weekdays.
//!
//! Rules applied by [`Calendar`]:
//!
//! 1. a date listed in `work` is a working day;
//! 2. otherwise a date listed in `off` is a day off;
//! 3. otherwise Monday–Friday are working days and Saturday/Sunday are not.
//!
//! **Fallback for uncovered years:** the notice for a year is only published
//! late in the preceding year, so a [`Calendar`] only knows the years it was
//! given. For any date in a year it does not cover, rule 3 (the plain weekend
//! rule) applies. Callers that need certainty can check [`Calendar::covers`].
//!
//! Data format (see `reference/holidays_cn.json`): each year's `off` and `work`
//! lists contain only dates of that calendar year. A holiday block that spills
//! over a year boundary is split by date, not by the holiday it belongs to
//! (e.g. New Year 2024 bridged to 2023-12-30/31, which would belong to 2023).
//! Extra keys (notice numbers, sources, per-holiday breakdowns) are ignored.
//!
//! All functions here are pure and time-zone-free: "today" is always an
//! argument (see `platform::clock`).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// Earliest year accepted in holiday data.
pub const MIN_YEAR: i32 = 1900;
/// Latest year accepted in holiday data.
pub const MAX_YEAR: i32 = 2200;

pub use crate::platform::clock::{BEIJING as CHINA_STANDARD_TIME, beijing_date as shanghai_date};

/// Errors raised while loading or validating holiday data.
///
/// The [`Display`](std::fmt::Display) text is English; use
/// [`CalendarError::message_zh`] for user-facing Chinese text and
/// [`CalendarError::code`] for a stable machine-readable identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The input is not JSON of the expected shape (including a year key that
    /// is not an integer, or missing `off`/`work` lists).
    #[error("invalid holiday data JSON: {detail}")]
    InvalidJson {
        /// Parser diagnostic, for logs and administrators.
        detail: String,
    },
    /// A date string is not a valid `YYYY-MM-DD` calendar date.
    #[error("invalid date {value:?} in year {year}: expected a real date written as YYYY-MM-DD")]
    InvalidDate {
        /// Year whose data contained the value.
        year: i32,
        /// The offending string, verbatim.
        value: String,
    },
    /// A date is listed under a year other than its own calendar year.
    #[error("date {date} is listed under year {year} but belongs to year {}", .date.year())]
    DateOutsideYear {
        /// Year under which the date was listed.
        year: i32,
        /// The misplaced date.
        date: NaiveDate,
    },
    /// A make-up working day (调休上班) is not a Saturday or Sunday.
    #[error("make-up working day {date} is a {}, not a Saturday or Sunday", .date.weekday())]
    WorkDayNotWeekend {
        /// The offending date.
        date: NaiveDate,
    },
    /// A date is listed both as a day off and as a make-up working day.
    #[error("date {date} is listed both as a day off and as a make-up working day")]
    OffAndWork {
        /// The contradictory date.
        date: NaiveDate,
    },
    /// The year is outside [`MIN_YEAR`]..=[`MAX_YEAR`].
    #[error("year {year} is outside the supported range {MIN_YEAR}..={MAX_YEAR}")]
    YearOutOfRange {
        /// The rejected year; `i64` so that absurd year keys are still reported
        /// faithfully rather than as a JSON error.
        year: i64,
    },
}

impl CalendarError {
    /// Stable snake_case identifier, suitable for APIs, metrics and i18n keys.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson { .. } => "invalid_json",
            Self::InvalidDate { .. } => "invalid_date",
            Self::DateOutsideYear { .. } => "date_outside_year",
            Self::WorkDayNotWeekend { .. } => "work_day_not_weekend",
            Self::OffAndWork { .. } => "date_both_off_and_work",
            Self::YearOutOfRange { .. } => "year_out_of_range",
        }
    }

    /// Human-readable message in Simplified Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            Self::InvalidJson { detail } => format!("节假日数据不是格式正确的 JSON：{detail}"),
            Self::InvalidDate { year, value } => {
                format!("{year} 年数据中的日期“{value}”无效，应为 YYYY-MM-DD 格式的真实日期")
            }
            Self::DateOutsideYear { year, date } => {
                format!("日期 {date} 列在 {year} 年的数据中，但它属于 {} 年", date.year())
            }
            Self::WorkDayNotWeekend { date } => {
                format!("调休上班日 {date} 是{}，不是周六或周日", weekday_zh(date.weekday()))
            }
            Self::OffAndWork { date } => {
                format!("日期 {date} 同时被列为放假日和调休上班日")
            }
            Self::YearOutOfRange { year } => {
                format!("年份 {year} 超出支持范围（{MIN_YEAR}–{MAX_YEAR}）")
            }
        }
    }

    /// Human-readable message in English (same text as `Display`).
    pub fn message_en(&self) -> String {
        self.to_string()
    }
}

fn weekday_zh(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "周一",
        Weekday::Tue => "周二",
        Weekday::Wed => "周三",
        Weekday::Thu => "周四",
        Weekday::Fri => "周五",
        Weekday::Sat => "周六",
        Weekday::Sun => "周日",
    }
}

/// One year's holiday arrangement as published by the State Council.
///
/// Deserializing this type directly does not validate it; [`parse_year`],
/// [`parse_holidays_file`] and [`Calendar`] all call
/// [`HolidayYear::validate`] before the data is used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayYear {
    /// Calendar year the arrangement applies to.
    pub year: i32,
    /// Days off, including weekend days inside a holiday block.
    pub off: Vec<NaiveDate>,
    /// Saturdays/Sundays that are working days (调休上班).
    pub work: Vec<NaiveDate>,
}

impl HolidayYear {
    /// Checks internal consistency.
    ///
    /// Fails if the year is outside [`MIN_YEAR`]..=[`MAX_YEAR`], if any date is
    /// not in `self.year`, if a `work` date is not a Saturday or Sunday, or if
    /// a date is in both lists. The first problem found is reported.
    pub fn validate(&self) -> Result<(), CalendarError> {
        check_year_range(i64::from(self.year))?;
        for &date in self.off.iter().chain(&self.work) {
            if date.year() != self.year {
                return Err(CalendarError::DateOutsideYear { year: self.year, date });
            }
        }
        for &date in &self.work {
            if !is_weekend(date) {
                return Err(CalendarError::WorkDayNotWeekend { date });
            }
        }
        // Lists are a few dozen entries, so a quadratic scan is cheaper than
        // building a set and keeps the first-reported conflict deterministic.
        if let Some(&date) = self.work.iter().find(|d| self.off.contains(d)) {
            return Err(CalendarError::OffAndWork { date });
        }
        Ok(())
    }

    /// Sorted, de-duplicated copy, so equal data compares equal regardless of
    /// how the administrator ordered it.
    fn normalized(mut self) -> Self {
        self.off.sort_unstable();
        self.off.dedup();
        self.work.sort_unstable();
        self.work.dedup();
        self
    }
}

/// Wire shape of one year's object. Unknown keys (notice, sources, notes,
/// per-holiday breakdown) are deliberately ignored; `off` and `work` are both
/// required so a misspelt key cannot silently mean "no holidays".
#[derive(Deserialize)]
struct RawYear {
    off: Vec<String>,
    work: Vec<String>,
}

#[derive(Deserialize)]
struct RawFile {
    years: BTreeMap<String, RawYear>,
}

/// Parses the whole holiday file (`{"years": {"2024": {...}, ...}}`).
///
/// Every year is validated; the result is sorted by year.
pub fn parse_holidays_file(json: &str) -> Result<Vec<HolidayYear>, CalendarError> {
    let raw: RawFile = serde_json::from_str(json).map_err(json_error)?;
    let mut years = Vec::with_capacity(raw.years.len());
    for (key, raw_year) in raw.years {
        let year = parse_year_key(&key)?;
        years.push(convert_year(year, raw_year)?);
    }
    // Map keys are ordered as strings, which differs from numeric order for
    // years of different digit counts.
    years.sort_by_key(|y| y.year);
    Ok(years)
}

/// Parses and validates one year's object (`{"off": [...], "work": [...]}`),
/// e.g. as uploaded by an administrator when a new notice is published.
pub fn parse_year(year: i32, json: &str) -> Result<HolidayYear, CalendarError> {
    check_year_range(i64::from(year))?;
    let raw: RawYear = serde_json::from_str(json).map_err(json_error)?;
    convert_year(year, raw)
}

fn json_error(err: serde_json::Error) -> CalendarError {
    CalendarError::InvalidJson { detail: err.to_string() }
}

fn parse_year_key(key: &str) -> Result<i32, CalendarError> {
    let year: i64 = key
        .parse()
        .map_err(|_| CalendarError::InvalidJson { detail: format!("year key {key:?} is not an integer") })?;
    check_year_range(year)?;
    i32::try_from(year).map_err(|_| CalendarError::YearOutOfRange { year })
}

fn check_year_range(year: i64) -> Result<(), CalendarError> {
    if (i64::from(MIN_YEAR)..=i64::from(MAX_YEAR)).contains(&year) {
        Ok(())
    } else {
        Err(CalendarError::YearOutOfRange { year })
    }
}

fn convert_year(year: i32, raw: RawYear) -> Result<HolidayYear, CalendarError> {
    let parse_all = |values: Vec<String>| -> Result<Vec<NaiveDate>, CalendarError> {
        values.into_iter().map(|value| parse_date(year, value)).collect()
    };
    let holiday_year =
        HolidayYear { year, off: parse_all(raw.off)?, work: parse_all(raw.work)? }.normalized();
    holiday_year.validate()?;
    Ok(holiday_year)
}

/// Strict `YYYY-MM-DD`: chrono's parser alone also accepts forms such as
/// `2026-1-1`, and admin-entered data should have one canonical spelling.
fn parse_date(year: i32, value: String) -> Result<NaiveDate, CalendarError> {
    let bytes = value.as_bytes();
    let well_formed = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    match well_formed.then(|| NaiveDate::parse_from_str(&value, "%Y-%m-%d")) {
        Some(Ok(date)) => Ok(date),
        _ => Err(CalendarError::InvalidDate { year, value }),
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Day number used for arithmetic (0001-01-01 = 1, a Monday).
fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce())
}

/// Number of Monday–Friday days with day number in `1..=k`, extended to
/// non-positive `k` so that differences count weekdays in any interval.
///
/// Day 1 is a Monday, so within each 7-day block starting at day 7q+1 the
/// first five days are weekdays.
fn plain_weekdays_through(k: i64) -> i64 {
    5 * k.div_euclid(7) + k.rem_euclid(7).min(5)
}

/// The working-day calendar: published holiday years plus the weekend rule.
///
/// Years not loaded fall back to the plain weekend rule (Monday–Friday work,
/// Saturday/Sunday off); see the module docs. `Default` is a calendar with no
/// years, i.e. the weekend rule everywhere.
///
/// Day counts are computed in closed form from a prefix count of weekdays
/// adjusted by the (few) exceptional dates, so every query is logarithmic in
/// the amount of holiday data and independent of the distance between dates.
#[derive(Clone, Debug, Default)]
pub struct Calendar {
    years: BTreeMap<i32, HolidayYear>,
    /// Day numbers of `off` dates that fall on Monday–Friday, sorted. Weekend
    /// `off` dates are omitted: they are already off under the weekend rule.
    weekday_off: Vec<i64>,
    /// Day numbers of make-up working weekend days, sorted.
    weekend_work: Vec<i64>,
}

impl Calendar {
    /// Builds a calendar from validated-on-entry holiday years.
    ///
    /// If the same year appears more than once, the last one wins, exactly as
    /// with repeated [`Calendar::with_year`] calls.
    pub fn new(years: impl IntoIterator<Item = HolidayYear>) -> Result<Self, CalendarError> {
        let mut map = BTreeMap::new();
        for year in years {
            year.validate()?;
            map.insert(year.year, year.normalized());
        }
        let mut calendar = Self { years: map, ..Self::default() };
        calendar.rebuild_index();
        Ok(calendar)
    }

    /// Adds a year, replacing any existing data for that year.
    ///
    /// On error the calendar is left unchanged.
    pub fn with_year(&mut self, year: HolidayYear) -> Result<(), CalendarError> {
        year.validate()?;
        self.years.insert(year.year, year.normalized());
        self.rebuild_index();
        Ok(())
    }

    /// The stored data for `year`, if loaded (lists sorted and de-duplicated).
    pub fn year(&self, year: i32) -> Option<&HolidayYear> {
        self.years.get(&year)
    }

    /// A text that changes whenever any day's working status changes (what figures summed
    /// with this calendar must be recomputed after): the weekday holidays and the make-up
    /// working weekend days, as day numbers.
    pub fn fingerprint(&self) -> String {
        format!("off{:?}work{:?}", self.weekday_off, self.weekend_work)
    }

    /// Loaded years in ascending order.
    pub fn known_years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// Whether holiday data is loaded for `date`'s year. When `false`, answers
    /// for that date use the plain weekend rule.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.years.contains_key(&date.year())
    }

    /// Whether `date` is listed as a statutory day off, weekends folded into a holiday block
    /// included (a hall's weekend hours do not apply on those).
    pub fn is_statutory_day_off(&self, date: NaiveDate) -> bool {
        self.years.get(&date.year()).is_some_and(|y| y.off.contains(&date))
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        let k = day_number(date);
        if self.weekend_work.binary_search(&k).is_ok() {
            return true;
        }
        !is_weekend(date) && self.weekday_off.binary_search(&k).is_err()
    }

    /// The `n`-th working day strictly after `from`; `n == 0` returns `from`
    /// unchanged (even if it is not a working day).
    ///
    /// Saturates at [`NaiveDate::MAX`] if the result would lie beyond chrono's
    /// date range (only possible for absurd `n`); use
    /// [`Calendar::checked_add_working_days`] to detect that.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        self.checked_add_working_days(from, n).unwrap_or(NaiveDate::MAX)
    }

    /// Like [`Calendar::add_working_days`], but `None` instead of saturating.
    pub fn checked_add_working_days(&self, from: NaiveDate, n: u32) -> Option<NaiveDate> {
        if n == 0 {
            return Some(from);
        }
        let target = i64::from(n);
        let base = self.working_days_through(day_number(from));
        let count_to = |k: i64| self.working_days_through(k) - base;
        // Binary search for the first day whose running count reaches n: the
        // count rises by exactly one on each working day, so that day is the
        // n-th working day. Invariant: count_to(lo) < n <= count_to(hi).
        let mut lo = day_number(from);
        let mut hi = day_number(NaiveDate::MAX);
        if count_to(hi) < target {
            return None;
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if count_to(mid) >= target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        date_from_day_number(hi)
    }

    /// The time between two instants that falls on working days (Beijing time, whole days);
    /// zero when `to` is not after `from`. Deadline warnings measure time left with it.
    pub fn working_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> chrono::Duration {
        use crate::platform::clock::beijing_local;
        if to <= from {
            return chrono::Duration::zero();
        }
        let (a, b) = (beijing_local(from), beijing_local(to));
        let (first, last) = (a.date(), b.date());
        let on = |day: NaiveDate, span: chrono::Duration| {
            if self.is_working_day(day) { span } else { chrono::Duration::zero() }
        };
        if first == last {
            return on(first, b - a);
        }
        let midnight = |day: NaiveDate| day.and_time(chrono::NaiveTime::MIN);
        let head = on(first, midnight(first) + chrono::Duration::days(1) - a);
        let tail = on(last, b - midnight(last));
        // Whole days strictly between: the working days in (first, last] less `last` itself.
        let middle = self.working_days_between(first, last) - i64::from(self.is_working_day(last));
        head + tail + chrono::Duration::days(middle)
    }

    /// Number of working days `d` with `from < d <= to`; if `to < from`, the
    /// negation of `working_days_between(to, from)`.
    ///
    /// Inverse of [`Calendar::add_working_days`]:
    /// `working_days_between(d, add_working_days(d, n)) == n` (barring
    /// saturation at the end of chrono's date range).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        self.working_days_through(day_number(to)) - self.working_days_through(day_number(from))
    }

    /// `date` itself if it is a working day, otherwise the next working day.
    /// Saturates at [`NaiveDate::MAX`] like [`Calendar::add_working_days`].
    pub fn next_working_day_on_or_after(&self, date: NaiveDate) -> NaiveDate {
        if self.is_working_day(date) { date } else { self.add_working_days(date, 1) }
    }

    /// Prefix count of working days up to and including day number `k`
    /// (relative to an arbitrary origin; only differences are meaningful).
    fn working_days_through(&self, k: i64) -> i64 {
        let upto = |days: &[i64]| days.partition_point(|&d| d <= k) as i64;
        // Valid because validation guarantees `weekend_work` dates are
        // weekends (worth 0 under the weekend rule) and never also off.
        plain_weekdays_through(k) + upto(&self.weekend_work) - upto(&self.weekday_off)
    }

    fn rebuild_index(&mut self) {
        self.weekday_off = self
            .years
            .values()
            .flat_map(|y| y.off.iter().copied())
            .filter(|&d| !is_weekend(d))
            .map(day_number)
            .collect();
        self.weekend_work =
            self.years.values().flat_map(|y| y.work.iter().copied()).map(day_number).collect();
        // Years occupy disjoint date ranges and are iterated in order, but
        // sorting keeps the binary-search invariant independent of that.
        self.weekday_off.sort_unstable();
        self.weekday_off.dedup();
        self.weekend_work.sort_unstable();
        self.weekend_work.dedup();
    }
}

fn date_from_day_number(k: i64) -> Option<NaiveDate> {
    i32::try_from(k).ok().and_then(NaiveDate::from_num_days_from_ce_opt)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOLIDAYS_JSON: &str = include_str!("../../../../reference/holidays_cn.json");

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn shipped() -> Calendar {
        Calendar::new(parse_holidays_file(HOLIDAYS_JSON).unwrap()).unwrap()
    }

    /// Day-by-day reference implementation used to cross-check the
    /// closed-form arithmetic.
    fn naive_add(cal: &Calendar, from: NaiveDate, n: u32) -> NaiveDate {
        let mut date = from;
        let mut left = n;
        while left > 0 {
            date = date.succ_opt().unwrap();
            if cal.is_working_day(date) {
                left -= 1;
            }
        }
        date
    }

    fn naive_between(cal: &Calendar, from: NaiveDate, to: NaiveDate) -> i64 {
        if to < from {
            return -naive_between(cal, to, from);
        }
        from.iter_days().skip(1).take_while(|x| *x <= to).filter(|x| cal.is_working_day(*x)).count() as i64
    }

    #[test]
    fn shipped_file_parses_and_validates() {
        let years = parse_holidays_file(HOLIDAYS_JSON).unwrap();
        assert_eq!(years.iter().map(|y| y.year).collect::<Vec<_>>(), [2024, 2025, 2026]);
        let y2026 = years.iter().find(|y| y.year == 2026).unwrap();
        assert_eq!(y2026.off.len(), 33);
        assert_eq!(y2026.work.len(), 6);
        assert_eq!(shipped().known_years(), [2024, 2025, 2026]);
    }

    #[test]
    fn is_working_day_table() {
        let cal = shipped();
        let cases = [
            // 2026 National Day: Oct 1 (Thu) – Oct 7 (Wed) off.
            ("2026-10-01", false),
            ("2026-10-05", false),
            ("2026-10-07", false),
            ("2026-10-08", true),
            // 调休: Sat 2026-10-10 and Sun 2026-09-20 are working days.
            ("2026-10-10", true),
            ("2026-09-20", true),
            ("2026-10-11", false),
            // Mid-Autumn 2026: Fri 09-25 off (weekend 26/27 also listed).
            ("2026-09-25", false),
            ("2026-09-26", false),
            // 2026 Spring Festival: Feb 15 (Sun) – Feb 23 (Mon) off,
            // Sat Feb 14 and Sat Feb 28 worked.
            ("2026-02-14", true),
            ("2026-02-15", false),
            ("2026-02-16", false),
            ("2026-02-23", false),
            ("2026-02-24", true),
            ("2026-02-28", true),
            // New Year 2026: Jan 1–3 off, Sun Jan 4 worked.
            ("2026-01-01", false),
            ("2026-01-02", false),
            ("2026-01-04", true),
            // Labour Day / Dragon Boat 2026.
            ("2026-05-05", false),
            ("2026-05-09", true),
            ("2026-06-19", false),
            // Ordinary days.
            ("2026-03-02", true),
            ("2026-03-07", false),
            ("2026-03-08", false),
            // 2025 combined National Day + Mid-Autumn: Oct 8 off.
            ("2025-10-08", false),
            ("2025-10-11", true),
            // 2024 New Year: Mon Jan 1 off.
            ("2024-01-01", false),
            ("2024-01-02", true),
        ];
        for (date, expected) in cases {
            assert_eq!(cal.is_working_day(d(date)), expected, "{date}");
        }
    }

    #[test]
    fn add_working_days_table() {
        let cal = shipped();
        let cases = [
            // 2026-09-30 is a Wednesday. Oct 1–7 are off; then Thu 10-08 (1),
            // Fri 10-09 (2), Sat 10-10 调休 (3), Sun 10-11 off, Mon 10-12 (4),
            // Tue 10-13 (5).
            ("2026-09-30", 5, "2026-10-13"),
            ("2026-09-30", 1, "2026-10-08"),
            ("2026-09-30", 3, "2026-10-10"),
            // Across the 2025/2026 boundary: Wed 2025-12-31, then Jan 1–3 off,
            // Sun 2026-01-04 is a 调休 working day, then Mon 01-05.
            ("2025-12-31", 1, "2026-01-04"),
            ("2025-12-31", 2, "2026-01-05"),
            // Across 2024/2025: Tue 2024-12-31, 2025-01-01 off, Thu 01-02.
            ("2024-12-31", 1, "2025-01-02"),
            // Into uncovered 2027: weekend-rule fallback makes Fri 2027-01-01 a
            // working day (no notice for 2027 is loaded).
            ("2026-12-31", 1, "2027-01-01"),
            // Spring Festival 2026 from Fri 02-13: Sat 02-14 worked (1), then
            // off until Tue 02-24 (2).
            ("2026-02-13", 2, "2026-02-24"),
            // n = 0 returns the start, even on a holiday.
            ("2026-10-01", 0, "2026-10-01"),
            ("2026-03-02", 0, "2026-03-02"),
        ];
        for (from, n, expected) in cases {
            let got = cal.add_working_days(d(from), n);
            assert_eq!(got, d(expected), "{from} + {n}");
            assert_eq!(cal.working_days_between(d(from), got), i64::from(n), "{from} + {n}");
        }
    }

    #[test]
    fn working_days_between_and_next() {
        let cal = shipped();
        assert_eq!(cal.working_days_between(d("2026-09-30"), d("2026-10-13")), 5);
        assert_eq!(cal.working_days_between(d("2026-10-13"), d("2026-09-30")), -5);
        assert_eq!(cal.working_days_between(d("2026-10-01"), d("2026-10-01")), 0);
        // The whole 2026 Oct 1–7 block contributes nothing.
        assert_eq!(cal.working_days_between(d("2026-09-30"), d("2026-10-07")), 0);

        assert_eq!(cal.next_working_day_on_or_after(d("2026-10-01")), d("2026-10-08"));
        assert_eq!(cal.next_working_day_on_or_after(d("2026-02-14")), d("2026-02-14"));
        assert_eq!(cal.next_working_day_on_or_after(d("2026-03-07")), d("2026-03-09"));
    }

    #[test]
    fn covers_and_fallback() {
        let cal = shipped();
        assert!(cal.covers(d("2026-06-01")));
        assert!(!cal.covers(d("2027-01-01")));
        assert!(!cal.covers(d("2023-12-30")));
        // Uncovered: 2023-12-30 was in reality a bridged day off, but no 2023
        // data is loaded, so the weekend rule applies (Saturday: off anyway).
        assert!(!cal.is_working_day(d("2023-12-30")));
        assert!(cal.is_working_day(d("2027-10-01")));
        let empty = Calendar::default();
        assert!(empty.known_years().is_empty());
        assert!(empty.is_working_day(d("2026-10-01")));
    }

    #[test]
    fn with_year_adds_and_replaces() {
        let mut cal = shipped();
        let y2027 = parse_year(2027, r#"{"off": ["2027-01-01"], "work": []}"#).unwrap();
        cal.with_year(y2027).unwrap();
        assert_eq!(cal.known_years(), [2024, 2025, 2026, 2027]);
        assert!(!cal.is_working_day(d("2027-01-01")));
        assert_eq!(cal.add_working_days(d("2026-12-31"), 1), d("2027-01-04"));

        // Replacing 2026 with an empty arrangement reverts it to the weekend
        // rule, and removes the old exceptions from the index.
        cal.with_year(HolidayYear { year: 2026, off: vec![], work: vec![] }).unwrap();
        assert!(cal.is_working_day(d("2026-10-01")));
        assert!(!cal.is_working_day(d("2026-10-10")));
        assert!(cal.covers(d("2026-10-01")));
        assert_eq!(cal.add_working_days(d("2026-09-30"), 5), d("2026-10-07"));
    }

    #[test]
    fn failed_with_year_leaves_calendar_unchanged() {
        let mut cal = shipped();
        let bad = HolidayYear { year: 2026, off: vec![d("2026-10-03")], work: vec![d("2026-10-03")] };
        let err = cal.with_year(bad).unwrap_err();
        assert_eq!(err.code(), "date_both_off_and_work");
        assert!(!cal.is_working_day(d("2026-10-01")));
        assert!(cal.is_working_day(d("2026-10-10")));
    }

    #[test]
    fn new_rejects_invalid_year_and_last_duplicate_wins() {
        let bad = HolidayYear { year: 2026, off: vec![], work: vec![d("2026-10-12")] };
        assert_eq!(Calendar::new([bad]).unwrap_err().code(), "work_day_not_weekend");
        let first = HolidayYear { year: 2026, off: vec![d("2026-10-01")], work: vec![] };
        let second = HolidayYear { year: 2026, off: vec![], work: vec![] };
        let cal = Calendar::new([first, second]).unwrap();
        assert!(cal.is_working_day(d("2026-10-01")));
    }

    #[test]
    fn validation_errors_table() {
        let cases: [(i32, &str, &str); 11] = [
            (2026, "not json", "invalid_json"),
            (2026, r#"{"off": []}"#, "invalid_json"),
            (2026, r#"{"off": [1], "work": []}"#, "invalid_json"),
            (2026, r#"{"off": ["2026-02-30"], "work": []}"#, "invalid_date"),
            (2026, r#"{"off": ["2026-1-1"], "work": []}"#, "invalid_date"),
            (2026, r#"{"off": [" 2026-01-01"], "work": []}"#, "invalid_date"),
            (2026, r#"{"off": ["2025-12-31"], "work": []}"#, "date_outside_year"),
            (2026, r#"{"off": [], "work": ["2026-10-12"]}"#, "work_day_not_weekend"),
            (2026, r#"{"off": ["2026-10-10"], "work": ["2026-10-10"]}"#, "date_both_off_and_work"),
            (1899, r#"{"off": [], "work": []}"#, "year_out_of_range"),
            (2201, r#"{"off": [], "work": []}"#, "year_out_of_range"),
        ];
        for (year, json, code) in cases {
            let err = parse_year(year, json).unwrap_err();
            assert_eq!(err.code(), code, "{json}");
            assert!(!err.message_en().is_empty());
            assert!(!err.message_zh().is_empty());
        }
        assert!(parse_year(1900, r#"{"off": [], "work": []}"#).is_ok());
        assert!(parse_year(2200, r#"{"off": [], "work": []}"#).is_ok());
    }

    #[test]
    fn file_level_errors() {
        let code = |json: &str| parse_holidays_file(json).unwrap_err().code();
        assert_eq!(code("[]"), "invalid_json");
        assert_eq!(code(r#"{"years": {"abc": {"off": [], "work": []}}}"#), "invalid_json");
        assert_eq!(code(r#"{"years": {"99999999999": {"off": [], "work": []}}}"#), "year_out_of_range");
        assert_eq!(code(r#"{"years": {"2026": {"off": ["2027-01-01"], "work": []}}}"#), "date_outside_year");
        // Extra keys are ignored; numeric (not string) year order is returned.
        let years = parse_holidays_file(
            r#"{"note": 1, "years": {"2200": {"off": [], "work": [], "x": 2},
                "1999": {"off": ["1999-10-01", "1999-10-01"], "work": []}}}"#,
        )
        .unwrap();
        assert_eq!(years.iter().map(|y| y.year).collect::<Vec<_>>(), [1999, 2200]);
        // Duplicates are collapsed.
        assert_eq!(years[0].off, [d("1999-10-01")]);
    }

    #[test]
    fn error_codes_and_messages() {
        let errors = [
            CalendarError::InvalidJson { detail: "x".into() },
            CalendarError::InvalidDate { year: 2026, value: "x".into() },
            CalendarError::DateOutsideYear { year: 2026, date: d("2025-12-31") },
            CalendarError::WorkDayNotWeekend { date: d("2026-10-12") },
            CalendarError::OffAndWork { date: d("2026-10-10") },
            CalendarError::YearOutOfRange { year: 3000 },
        ];
        let mut codes: Vec<_> = errors.iter().map(CalendarError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
        assert_eq!(
            errors[2].message_en(),
            "date 2025-12-31 is listed under year 2026 but belongs to year 2025"
        );
        assert_eq!(errors[3].message_zh(), "调休上班日 2026-10-12 是周一，不是周六或周日");
    }

    #[test]
    fn holiday_year_serde_round_trip() {
        let year =
            parse_year(2026, r#"{"off": ["2026-10-02", "2026-10-01"], "work": ["2026-10-10"]}"#).unwrap();
        assert_eq!(year.off, [d("2026-10-01"), d("2026-10-02")]);
        let json = serde_json::to_string(&year).unwrap();
        assert_eq!(json, r#"{"year":2026,"off":["2026-10-01","2026-10-02"],"work":["2026-10-10"]}"#);
        let back: HolidayYear = serde_json::from_str(&json).unwrap();
        assert_eq!(back, year);
    }

    #[test]
    fn shanghai_date_uses_utc_plus_8() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(shanghai_date(at("2025-12-31T15:59:59Z")), d("2025-12-31"));
        assert_eq!(shanghai_date(at("2025-12-31T16:00:00Z")), d("2026-01-01"));
        // Summer: no DST shift, still +8.
        assert_eq!(shanghai_date(at("2026-07-01T15:59:59Z")), d("2026-07-01"));
        assert_eq!(shanghai_date(at("2026-07-01T16:00:00Z")), d("2026-07-02"));
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let cal = shipped();
        assert_eq!(cal.checked_add_working_days(d("2026-01-01"), u32::MAX), None);
        assert_eq!(cal.add_working_days(d("2026-01-01"), u32::MAX), NaiveDate::MAX);
        assert_eq!(cal.checked_add_working_days(NaiveDate::MAX, 1), None);
        assert_eq!(cal.add_working_days(NaiveDate::MAX, 0), NaiveDate::MAX);
        let span = cal.working_days_between(NaiveDate::MIN, NaiveDate::MAX);
        assert!(span > 0);
        assert_eq!(cal.working_days_between(NaiveDate::MAX, NaiveDate::MIN), -span);
        let far = cal.add_working_days(d("2026-01-01"), 1_000_000);
        assert_eq!(cal.working_days_between(d("2026-01-01"), far), 1_000_000);
        assert!(cal.is_working_day(far));
    }

    /// Dates from 2023 through 2028: covered years plus uncovered neighbours.
    fn near_date() -> impl Strategy<Value = NaiveDate> {
        let start = d("2023-01-01");
        (0i64..6 * 366).prop_map(move |off| start + chrono::TimeDelta::days(off))
    }

    fn uncovered_date() -> impl Strategy<Value = NaiveDate> {
        let start = d("1900-01-01");
        (0i64..300 * 366)
            .prop_map(move |off| start + chrono::TimeDelta::days(off))
            .prop_filter("outside shipped years", |x| !(2024..=2026).contains(&x.year()))
    }

    proptest! {
        #[test]
        fn add_then_count_round_trips(from in near_date(), n in 0u32..400) {
            let cal = shipped();
            let to = cal.add_working_days(from, n);
            prop_assert_eq!(cal.working_days_between(from, to), i64::from(n));
        }

        #[test]
        fn add_matches_day_loop(from in near_date(), n in 0u32..400) {
            let cal = shipped();
            prop_assert_eq!(cal.add_working_days(from, n), naive_add(&cal, from, n));
        }

        #[test]
        fn between_matches_day_loop(a in near_date(), b in near_date()) {
            let cal = shipped();
            prop_assert_eq!(cal.working_days_between(a, b), naive_between(&cal, a, b));
        }

        #[test]
        fn add_lands_on_working_day_after_start(from in near_date(), n in 1u32..400) {
            let cal = shipped();
            let to = cal.add_working_days(from, n);
            prop_assert!(to > from);
            prop_assert!(cal.is_working_day(to));
        }

        #[test]
        fn add_is_strictly_monotonic_in_n(from in near_date(), n in 0u32..400) {
            let cal = shipped();
            prop_assert!(cal.add_working_days(from, n) < cal.add_working_days(from, n + 1));
        }

        #[test]
        fn between_is_antisymmetric(a in near_date(), b in near_date()) {
            let cal = shipped();
            prop_assert_eq!(cal.working_days_between(a, b), -cal.working_days_between(b, a));
        }

        #[test]
        fn between_is_additive(a in near_date(), b in near_date(), c in near_date()) {
            let cal = shipped();
            prop_assert_eq!(
                cal.working_days_between(a, b) + cal.working_days_between(b, c),
                cal.working_days_between(a, c)
            );
        }

        #[test]
        fn next_working_day_is_first_working_day(date in near_date()) {
            let cal = shipped();
            let next = cal.next_working_day_on_or_after(date);
            prop_assert!(next >= date);
            prop_assert!(cal.is_working_day(next));
            // No working day in [date, next).
            prop_assert_eq!(
                cal.working_days_between(date.pred_opt().unwrap(), next.pred_opt().unwrap()),
                0
            );
        }

        #[test]
        fn uncovered_years_follow_weekend_rule(date in uncovered_date()) {
            let cal = shipped();
            prop_assert!(!cal.covers(date));
            prop_assert_eq!(cal.is_working_day(date), !is_weekend(date));
        }

        #[test]
        fn empty_calendar_counts_weekdays(a in uncovered_date(), n in 0u32..400) {
            let cal = Calendar::default();
            let to = cal.add_working_days(a, n);
            prop_assert_eq!(to, naive_add(&cal, a, n));
            prop_assert_eq!(cal.working_days_between(a, to), i64::from(n));
        }
    }
}
