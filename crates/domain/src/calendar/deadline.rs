//! One rule for every deadline people are warned about: case lights (预警 / 超期), complaint cards
//! (督办黄牌 / 红牌), the bad-review loop and post-approval checks.
//!
//! A warning measures the time actually available, not the date on the calendar: how much
//! working time is left against how much was given. A deadline turns yellow when at most
//! `warn_days` working days of time are left, but never more than the last quarter of the time
//! given, and never at its start; it turns red only once its due instant has passed. So a
//! complaint filed on Saturday evening with one working day to answer is due at the end of
//! Monday, and is yellow only from Monday 18:00, not at the moment it was filed.
//!
//! Working time is the time that falls on working days of the calendar (Beijing time, whole
//! days: deadlines end at the end of a working day). Urgent deadlines given in hours run on the
//! clock instead, weekends and nights included.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::domain::Calendar;
use crate::platform::clock::end_of_beijing_day;

/// How time is counted towards a deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Only the time on working days counts (deadlines in working days).
    WorkingTime,
    /// Every hour counts (urgent deadlines in hours).
    ClockTime,
}

/// Where a running deadline stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    Green,
    /// Little time left: at most the warning window.
    Yellow,
    /// The due instant has passed.
    Red,
}

impl Signal {
    /// `green`, `yellow` or `red`, as the API and the pages' classes spell them.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Green => "green",
            Signal::Yellow => "yellow",
            Signal::Red => "red",
        }
    }
}

/// At most this share of the time given is the warning window (the last quarter).
const WARNING_SHARE: i32 = 4;

/// A deadline: when it is due and how much time it gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    pub due: DateTime<Utc>,
    pub given: Duration,
    pub measure: Measure,
}

impl Deadline {
    /// A deadline that started at `start` and is due at `due`.
    pub fn between(cal: &Calendar, start: DateTime<Utc>, due: DateTime<Utc>, measure: Measure) -> Deadline {
        Deadline { due, given: measure_time(cal, measure, start, due), measure }
    }

    /// A deadline at the end of `due_day` (Beijing time) that gave `days` working days.
    pub fn working_days(due_day: NaiveDate, days: u32) -> Deadline {
        Deadline {
            due: end_of_beijing_day(due_day),
            given: Duration::days(i64::from(days)),
            measure: Measure::WorkingTime,
        }
    }

    /// The time left at `now` (zero once due).
    pub fn left(&self, cal: &Calendar, now: DateTime<Utc>) -> Duration {
        measure_time(cal, self.measure, now, self.due)
    }

    /// Where the deadline stands at `now`, warning at most `warn_days` working days before.
    pub fn signal(&self, cal: &Calendar, now: DateTime<Utc>, warn_days: u32) -> Signal {
        if now > self.due {
            return Signal::Red;
        }
        let left = self.left(cal, now);
        let window = Duration::days(i64::from(warn_days)).min(self.given / WARNING_SHARE);
        // `left < given`: at its start a deadline has all its time, so it cannot be yellow then,
        // however short it is.
        if left < self.given && left <= window { Signal::Yellow } else { Signal::Green }
    }
}

fn measure_time(cal: &Calendar, measure: Measure, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    match measure {
        Measure::WorkingTime => cal.working_time_between(from, to),
        Measure::ClockTime => (to - from).max(Duration::zero()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::calendar::domain::parse_holidays_file;
    use crate::platform::clock::{beijing_date, from_beijing};
    use proptest::prelude::*;

    fn cal() -> Calendar {
        Calendar::new(parse_holidays_file(include_str!("../../../../reference/holidays_cn.json")).unwrap())
            .unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// A deadline of `days` working days from `start`, due at the end of the last one, the way
    /// complaints, cases and reviews set theirs.
    fn days_from(cal: &Calendar, start: DateTime<Utc>, days: u32) -> Deadline {
        let due = end_of_beijing_day(cal.add_working_days(beijing_date(start), days));
        Deadline::between(cal, start, due, Measure::WorkingTime)
    }

    #[test]
    fn filed_on_saturday_evening_is_green_until_monday_evening() {
        let cal = cal();
        let d = days_from(&cal, at("2026-12-05T20:30:00+08:00"), 1);
        assert_eq!(d.due, at("2026-12-07T23:59:59+08:00"));
        assert_eq!(d.given, Duration::hours(24) - Duration::seconds(1));
        assert_eq!(d.signal(&cal, at("2026-12-05T20:30:00+08:00"), 1), Signal::Green);
        assert_eq!(d.signal(&cal, at("2026-12-07T09:00:00+08:00"), 1), Signal::Green);
        assert_eq!(d.signal(&cal, at("2026-12-07T18:00:00+08:00"), 1), Signal::Yellow);
        assert_eq!(d.signal(&cal, at("2026-12-07T23:59:59+08:00"), 1), Signal::Yellow);
        assert_eq!(d.signal(&cal, at("2026-12-08T00:00:00+08:00"), 1), Signal::Red);
    }

    #[test]
    fn five_days_warn_on_the_last_working_day_across_a_weekend() {
        let cal = cal();
        // Monday 23 November 09:00, due at the end of Monday 30 November.
        let d = days_from(&cal, at("2026-11-23T09:00:00+08:00"), 5);
        assert_eq!(d.signal(&cal, at("2026-11-27T10:00:00+08:00"), 1), Signal::Green);
        // The weekend holds no working time: Saturday night still has all of Monday left.
        assert_eq!(d.signal(&cal, at("2026-11-28T23:00:00+08:00"), 1), Signal::Yellow);
        assert_eq!(d.signal(&cal, at("2026-11-30T10:00:00+08:00"), 1), Signal::Yellow);
        assert_eq!(d.signal(&cal, at("2026-12-01T00:00:00+08:00"), 1), Signal::Red);
    }

    #[test]
    fn hours_run_on_the_clock_and_warn_in_the_last_quarter() {
        let cal = cal();
        let start = at("2026-11-28T09:00:00+08:00"); // a Saturday: hours run anyway
        let d = Deadline::between(&cal, start, start + Duration::hours(24), Measure::ClockTime);
        assert_eq!(d.signal(&cal, start + Duration::hours(17), 1), Signal::Green);
        assert_eq!(d.signal(&cal, start + Duration::hours(19), 1), Signal::Yellow);
        assert_eq!(d.signal(&cal, start + Duration::hours(25), 1), Signal::Red);
    }

    #[test]
    fn no_working_time_at_all_is_green_until_due() {
        let cal = cal();
        // Due the same Sunday it started: nothing given, nothing to warn about, red after.
        let d = Deadline::between(
            &cal,
            at("2026-12-06T10:00:00+08:00"),
            at("2026-12-06T23:59:59+08:00"),
            Measure::WorkingTime,
        );
        assert_eq!(d.given, Duration::zero());
        assert_eq!(d.signal(&cal, at("2026-12-06T23:00:00+08:00"), 1), Signal::Green);
        assert_eq!(d.signal(&cal, at("2026-12-07T00:00:00+08:00"), 1), Signal::Red);
    }

    #[test]
    fn a_holiday_block_holds_no_working_time() {
        let cal = cal();
        // Filed on the last working day before National Day 2026, one working day to answer.
        let d = days_from(&cal, at("2026-09-30T17:30:00+08:00"), 1);
        assert!(d.due > at("2026-10-08T00:00:00+08:00"));
        assert_eq!(d.signal(&cal, at("2026-10-05T12:00:00+08:00"), 1), Signal::Green);
    }

    /// Instants from 2024 to 2026 at minute resolution: any minute, or a minute of a day next to
    /// a statutory day off or a 调休 working weekend (the awkward ones), or a late evening.
    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        let start = at("2024-01-01T00:00:00+08:00").timestamp() / 60;
        let end = at("2026-12-31T23:59:00+08:00").timestamp() / 60;
        let any = (start..end).prop_map(|m| DateTime::from_timestamp(m * 60, 0).unwrap());
        let years = parse_holidays_file(include_str!("../../../../reference/holidays_cn.json")).unwrap();
        let awkward: Vec<NaiveDate> = years
            .iter()
            .flat_map(|y| y.off.iter().chain(y.work.iter()).copied())
            .flat_map(|d| [d.pred_opt().unwrap(), d, d.succ_opt().unwrap()])
            .collect();
        let near_holidays = (proptest::sample::select(awkward), 0u32..24 * 60)
            .prop_map(|(day, minute)| from_beijing(day.and_hms_opt(minute / 60, minute % 60, 0).unwrap()));
        let evening = (start / (24 * 60)..end / (24 * 60), 20u32 * 60..24 * 60).prop_map(|(day, minute)| {
            DateTime::from_timestamp(day * 86_400 + i64::from(minute) * 60 - 8 * 3600, 0).unwrap()
        });
        prop_oneof![any, near_holidays, evening]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Filed at any instant (weekends, evenings, holiday blocks, 调休 days), with any number
        /// of working days: never yellow at filing, never red before the due instant, and only
        /// ever green → yellow → red as time passes.
        #[test]
        fn never_yellow_at_filing_never_red_early_and_monotonic(
            start in instant(),
            days in 0u32..12,
            warn in 0u32..4,
            steps in proptest::collection::vec(0i64..(3 * 24 * 60), 1..40),
        ) {
            let cal = cal();
            let d = days_from(&cal, start, days);
            prop_assert_eq!(d.signal(&cal, start, warn), Signal::Green);
            let mut now = start;
            let mut last = Signal::Green;
            for minutes in steps {
                now += Duration::minutes(minutes);
                let s = d.signal(&cal, now, warn);
                if now <= d.due {
                    prop_assert_ne!(s, Signal::Red, "red before due at {}", now);
                }
                prop_assert!(s >= last, "went back from {:?} to {:?} at {}", last, s, now);
                last = s;
            }
        }

        /// The same for hour deadlines.
        #[test]
        fn hour_deadlines_behave_alike(start in instant(), hours in 1i64..72, steps in proptest::collection::vec(0i64..600, 1..30)) {
            let cal = cal();
            let d = Deadline::between(&cal, start, start + Duration::hours(hours), Measure::ClockTime);
            prop_assert_eq!(d.signal(&cal, start, 1), Signal::Green);
            let mut now = start;
            let mut last = Signal::Green;
            for minutes in steps {
                now += Duration::minutes(minutes);
                let s = d.signal(&cal, now, 1);
                if now <= d.due {
                    prop_assert_ne!(s, Signal::Red);
                }
                prop_assert!(s >= last);
                last = s;
            }
        }

        /// Working time between two instants adds up across any split point.
        #[test]
        fn working_time_is_additive(a in instant(), b in instant(), c in instant()) {
            let cal = cal();
            let mut v = [a, b, c];
            v.sort();
            let [a, b, c] = v;
            prop_assert_eq!(
                cal.working_time_between(a, c),
                cal.working_time_between(a, b) + cal.working_time_between(b, c)
            );
            prop_assert!(cal.working_time_between(a, c) <= c - a);
        }
    }

    #[test]
    fn working_time_counts_only_working_days() {
        let cal = cal();
        // Friday 23:59 to Monday 00:01: one minute on Friday, one on Monday.
        let t = cal.working_time_between(at("2026-12-04T23:59:00+08:00"), at("2026-12-07T00:01:00+08:00"));
        assert_eq!(t, Duration::minutes(2));
        // 调休 Saturday 10 October 2026 is a working day.
        let t = cal.working_time_between(
            from_beijing(NaiveDate::from_ymd_opt(2026, 10, 10).unwrap().and_hms_opt(0, 0, 0).unwrap()),
            at("2026-10-10T12:00:00+08:00"),
        );
        assert_eq!(t, Duration::hours(12));
    }
}
