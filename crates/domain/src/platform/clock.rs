//! The one clock. Nothing else in Quanban reads the wall clock (clippy's `disallowed-methods`
//! enforces it): the application state holds a [`Clock`] and hands `now` to the domain.
//!
//! - [`Clock::system`] follows the operating system's clock (production).
//! - [`Clock::fixed`] stands still at a chosen instant until it is [`set`](Clock::set) or
//!   [`advanced`](Clock::advance). It moves one microsecond on every reading, so that things
//!   recorded one after another still sort in the order they happened. Tests, `quanban bench`
//!   and `serve --clock` (never with `--production`) use it.
//!
//! Times people see are Beijing time (Asia/Shanghai, UTC+8 all year: China has had no daylight
//! saving time since 1991), so the clock also answers "what day is it in China".

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};

/// China Standard Time (UTC+8).
pub const BEIJING: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// The clock every test gets unless it sets another: Wednesday 9 December 2026, 09:00 Beijing
/// time, an ordinary working morning. `scripts/test` runs the story tests again at harder
/// instants (see `QUANBAN_TEST_CLOCK` in `tests/it/common`).
pub const TEST_INSTANT: &str = "2026-12-09T09:00:00+08:00";

/// [`TEST_INSTANT`] as an instant.
pub fn test_instant() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(TEST_INSTANT).map(|t| t.with_timezone(&Utc)).unwrap_or(DateTime::UNIX_EPOCH)
}

#[derive(Clone, Debug)]
pub struct Clock(Arc<Source>);

#[derive(Debug)]
enum Source {
    System,
    /// Microseconds since the Unix epoch.
    Fixed(AtomicI64),
}

/// Setting the time of the system clock.
#[derive(Debug, thiserror::Error)]
#[error("the system clock cannot be set; only a fixed clock can")]
pub struct NotSettable;

impl Clock {
    pub fn system() -> Clock {
        Clock(Arc::new(Source::System))
    }

    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock(Arc::new(Source::Fixed(AtomicI64::new(at.timestamp_micros()))))
    }

    /// A fixed clock at an RFC 3339 instant (`2026-12-05T20:30:00+08:00`).
    pub fn fixed_at(rfc3339: &str) -> Result<Clock, chrono::ParseError> {
        Ok(Clock::fixed(DateTime::parse_from_rfc3339(rfc3339)?.with_timezone(&Utc)))
    }

    pub fn is_fixed(&self) -> bool {
        matches!(*self.0, Source::Fixed(_))
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match &*self.0 {
            Source::System => system_now(),
            Source::Fixed(micros) => from_micros(micros.fetch_add(1, Ordering::Relaxed)),
        }
    }

    /// Today's date in China.
    pub fn today(&self) -> NaiveDate {
        beijing_date(self.now())
    }

    /// The wall-clock time in China now.
    pub fn beijing_now(&self) -> NaiveDateTime {
        beijing_local(self.now())
    }

    /// Moves a fixed clock to `at` (backwards too).
    pub fn set(&self, at: DateTime<Utc>) -> Result<(), NotSettable> {
        match &*self.0 {
            Source::System => Err(NotSettable),
            Source::Fixed(micros) => {
                micros.store(at.timestamp_micros(), Ordering::Relaxed);
                Ok(())
            }
        }
    }

    /// Moves a fixed clock forward by `by`.
    pub fn advance(&self, by: chrono::Duration) -> Result<(), NotSettable> {
        match &*self.0 {
            Source::System => Err(NotSettable),
            Source::Fixed(micros) => {
                micros.fetch_add(by.num_microseconds().unwrap_or(i64::MAX), Ordering::Relaxed);
                Ok(())
            }
        }
    }
}

#[expect(clippy::disallowed_methods, reason = "the one place that reads the wall clock")]
fn system_now() -> DateTime<Utc> {
    Utc::now()
}

fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The calendar date in China at an instant.
pub fn beijing_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&BEIJING).date_naive()
}

/// The wall-clock time in China at an instant.
pub fn beijing_local(at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&BEIJING).naive_local()
}

/// The instant of a wall-clock time in China (always exactly one: no daylight saving time).
pub fn from_beijing(local: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(local - chrono::Duration::hours(8), Utc)
}

/// An instant as the fixed-width UTC text we store (sorts lexicographically). Microseconds:
/// writes made one after another sort in that order (the fixed clock of tests moves one
/// microsecond per reading; milliseconds would tie).
pub fn time_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A stored instant (RFC 3339), or `None` when the text is not one.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// A stored instant as people see it: Beijing time, `YYYY-MM-DD HH:MM` (the one place times
/// shown to people are formatted). Text that is not an instant is shown as it is.
pub fn shown_time(stored: &str) -> String {
    match parse_time(stored) {
        Some(t) => beijing_local(t).format("%Y-%m-%d %H:%M").to_string(),
        None => stored.to_string(),
    }
}

/// The first instant of a day in China (periods of days start there).
pub fn start_of_beijing_day(day: NaiveDate) -> DateTime<Utc> {
    from_beijing(day.and_hms_opt(0, 0, 0).unwrap_or(NaiveDateTime::MIN))
}

/// The last second of a day in China (deadlines end there).
pub fn end_of_beijing_day(day: NaiveDate) -> DateTime<Utc> {
    from_beijing(day.and_hms_opt(23, 59, 59).unwrap_or(NaiveDateTime::MIN))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stands_still_but_keeps_order() {
        let clock = Clock::fixed_at("2026-12-04T23:59:00+08:00").unwrap();
        let a = clock.now();
        let b = clock.now();
        assert!(b > a);
        assert!(b - a < chrono::Duration::milliseconds(1));
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2026, 12, 4).unwrap());
        // 15:59 UTC: the UTC date is the same here, but one hour on it is not.
        clock.advance(chrono::Duration::hours(1)).unwrap();
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2026, 12, 5).unwrap());
        assert_eq!(clock.now().date_naive(), NaiveDate::from_ymd_opt(2026, 12, 4).unwrap());
    }

    #[test]
    fn the_system_clock_cannot_be_set() {
        let clock = Clock::system();
        assert!(!clock.is_fixed());
        assert!(clock.set(DateTime::UNIX_EPOCH).is_err());
    }

    #[test]
    fn beijing_round_trip() {
        let at = DateTime::parse_from_rfc3339("2026-12-31T23:30:00+08:00").unwrap().with_timezone(&Utc);
        assert_eq!(beijing_local(at).to_string(), "2026-12-31 23:30:00");
        assert_eq!(from_beijing(beijing_local(at)), at);
        assert_eq!(shown_time(&time_text(at)), "2026-12-31 23:30");
        assert_eq!(beijing_date(at).to_string(), "2026-12-31");
    }
}
