//! Halls (政务服务大厅) without storage: opening hours read from the published text, opening state
//! at a moment, appointment slots of a day, great-circle distance, and which items a hall handles
//! by default. Pure and tested.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use rstar::RTree;
use rstar::primitives::GeomWithData;
use serde::Serialize;

use crate::calendar::domain::Calendar;
use crate::reference::data::Hall;

/// Earth's mean radius (IUGG), for great-circle distances.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Opening periods of one weekday, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DayHours {
    pub periods: Vec<(NaiveTime, NaiveTime)>,
}

/// A hall's weekly opening hours (Monday first). Statutory holidays close every hall; 调休
/// working weekends open on the Monday-to-Friday hours.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WeeklyHours {
    pub days: [DayHours; 7],
}

fn weekday_index(c: char) -> Option<usize> {
    "一二三四五六日".chars().position(|x| x == c).or_else(|| (c == '天').then_some(6))
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    let (h, m) = s.trim().split_once([':', '：'])?;
    NaiveTime::from_hms_opt(h.trim().parse().ok()?, m.trim().get(..2)?.parse().ok()?, 0)
}

/// The weekdays a clause names: `周一至周五`, `周六、周日`, `周六`.
fn parse_days(s: &str) -> Vec<usize> {
    let s = s.trim();
    if let Some((a, b)) = s.split_once(['至', '-', '—', '~']) {
        let first = a.chars().filter_map(weekday_index).next();
        let last = b.chars().filter_map(weekday_index).next();
        if let (Some(f), Some(l)) = (first, last)
            && f <= l
        {
            return (f..=l).collect();
        }
    }
    s.split(['、', '，', ','])
        .filter_map(|part| part.trim().strip_prefix('周').or_else(|| part.trim().strip_prefix("星期")))
        .filter_map(|rest| rest.chars().next().and_then(weekday_index))
        .collect()
}

/// Reads hours as halls publish them, e.g.
/// `周一至周五 9:00-12:00、13:00-17:00；周六 9:00-12:00 部分高频事项延时/预约服务；法定节假日休息`.
/// Clauses it cannot read (remarks, holidays) are ignored.
pub fn parse_hours(text: &str) -> WeeklyHours {
    let mut week = WeeklyHours::default();
    for clause in text.split(['；', ';']) {
        let clause = clause.trim();
        let Some(first_digit) = clause.find(|c: char| c.is_ascii_digit()) else { continue };
        let days = parse_days(&clause[..first_digit]);
        if days.is_empty() {
            continue;
        }
        // Periods: `9:00-12:00、13:00-17:00` up to the first character that is not part of one.
        let times: String = clause[first_digit..]
            .chars()
            .take_while(|c| {
                c.is_ascii_digit() || matches!(c, ':' | '：' | '-' | '—' | '、' | ',' | '，' | ' ')
            })
            .collect();
        let periods: Vec<(NaiveTime, NaiveTime)> = times
            .split(['、', ',', '，'])
            .filter_map(|p| {
                let (a, b) = p.split_once(['-', '—'])?;
                let (a, b) = (parse_time(a)?, parse_time(b)?);
                (a < b).then_some((a, b))
            })
            .collect();
        for d in days {
            week.days[d].periods.extend(periods.iter().copied());
            week.days[d].periods.sort();
        }
    }
    week
}

/// The opening periods on `date` by the calendar: none on holidays; a 调休 working weekend uses
/// Friday's hours.
pub fn periods_on(hours: &WeeklyHours, cal: &Calendar, date: NaiveDate) -> Vec<(NaiveTime, NaiveTime)> {
    let weekday = date.weekday().num_days_from_monday() as usize;
    let working = cal.is_working_day(date);
    match (working, weekday) {
        (true, 5 | 6) => hours.days[4].periods.clone(),
        (true, _) => hours.days[weekday].periods.clone(),
        // A statutory holiday on a weekday closes the hall; weekends keep their own hours
        // unless the day is a holiday (a weekday would be working otherwise).
        (false, 5 | 6) if !cal.is_statutory_day_off(date) => hours.days[weekday].periods.clone(),
        (false, _) => Vec::new(),
    }
}

/// Whether the hall is open at `at` (Beijing time).
pub fn is_open(hours: &WeeklyHours, cal: &Calendar, at: NaiveDateTime) -> bool {
    periods_on(hours, cal, at.date()).iter().any(|(a, b)| *a <= at.time() && at.time() < *b)
}

/// When the hall next opens at or after `at` (Beijing time): the start of a period, or `at`
/// itself while open. `None` when nothing opens within the next 30 days (a hall with no hours).
pub fn next_opening(hours: &WeeklyHours, cal: &Calendar, at: NaiveDateTime) -> Option<NaiveDateTime> {
    if is_open(hours, cal, at) {
        return Some(at);
    }
    (0..30).filter_map(|d| at.date().checked_add_days(chrono::Days::new(d))).find_map(|date| {
        periods_on(hours, cal, date).iter().map(|(start, _)| date.and_time(*start)).find(|start| *start > at)
    })
}

/// One appointment slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Slot {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

/// The day's slots of `minutes` inside the opening periods (a slot never runs past a period's
/// end).
pub fn slots_on(hours: &WeeklyHours, cal: &Calendar, date: NaiveDate, minutes: u32) -> Vec<Slot> {
    let step = chrono::Duration::minutes(i64::from(minutes.max(5)));
    let mut out = Vec::new();
    for (a, b) in periods_on(hours, cal, date) {
        let mut start = date.and_time(a);
        let end = date.and_time(b);
        while start + step <= end {
            out.push(Slot { start, end: start + step });
            start += step;
        }
    }
    out
}

/// Great-circle distance in metres (haversine).
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Whether coordinates are on Earth.
pub fn valid_coordinates(lat: f64, lon: f64) -> bool {
    lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)
}

pub const LEVELS: [&str; 4] = ["city", "district", "street", "community"];

/// Whether a hall handles an item by default: the item is handled at the hall's level (city
/// items at the city centre, district items at district centres, street and community items at
/// their service centres), and a district department's items only in its own district.
pub fn handles_by_default(
    hall_level: &str,
    hall_district: &str,
    item_level: &str,
    department_district: Option<&str>,
) -> bool {
    hall_level == item_level && department_district.is_none_or(|d| d == hall_district)
}

/// A hall with its hours read.
#[derive(Clone, Debug)]
pub struct HallEntry {
    pub hall: Hall,
    pub hours: WeeklyHours,
}

/// Every hall, with a spatial index for nearest-hall queries.
///
/// Points are stored as 3-D unit vectors: the straight-line (chord) distance between two of them
/// grows with the great-circle distance, so the R*-tree's nearest-neighbour order is the
/// great-circle order.
pub struct Directory {
    pub halls: Vec<HallEntry>,
    tree: RTree<GeomWithData<[f64; 3], usize>>,
}

fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (p, l) = (lat.to_radians(), lon.to_radians());
    [p.cos() * l.cos(), p.cos() * l.sin(), p.sin()]
}

impl Directory {
    pub fn new(halls: Vec<Hall>) -> Directory {
        let halls: Vec<HallEntry> =
            halls.into_iter().map(|h| HallEntry { hours: parse_hours(&h.hours), hall: h }).collect();
        let points = halls
            .iter()
            .enumerate()
            .map(|(i, h)| GeomWithData::new(unit_vector(h.hall.lat, h.hall.lon), i))
            .collect();
        Directory { halls, tree: RTree::bulk_load(points) }
    }

    pub fn get(&self, code: &str) -> Option<&HallEntry> {
        self.halls.iter().find(|h| h.hall.code == code)
    }

    /// Up to `limit` halls that pass `keep`, nearest first, with their distance in metres.
    pub fn nearest(
        &self,
        lat: f64,
        lon: f64,
        limit: usize,
        keep: impl Fn(&HallEntry) -> bool,
    ) -> Vec<(&HallEntry, f64)> {
        self.tree
            .nearest_neighbor_iter(&unit_vector(lat, lon))
            .map(|p| &self.halls[p.data])
            .filter(|h| keep(h))
            .take(limit)
            .map(|h| (h, distance_m(lat, lon, h.hall.lat, h.hall.lon)))
            .collect()
    }
}

/// Reads a slot start as people and clients write it: `2026-12-01T09:00`, with seconds, with a
/// space, or RFC 3339 with an offset (converted to Beijing time).
pub fn parse_slot_start(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        let beijing = chrono::FixedOffset::east_opt(8 * 3600)?;
        return Some(t.with_timezone(&beijing).naive_local());
    }
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

/// How a slot start is stored and shown: `2026-12-01T09:00`.
pub fn slot_text(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

/// The appointment as an iCalendar (RFC 5545) file, times in Asia/Shanghai.
pub fn ics(
    uid: &str,
    hall: &Hall,
    item_name: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
    stamp: NaiveDateTime,
) -> String {
    fn esc(s: &str) -> String {
        s.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,").replace('\n', "\\n")
    }
    let f = |t: NaiveDateTime| t.format("%Y%m%dT%H%M%S").to_string();
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//Quanban//Appointments//ZH".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        "BEGIN:VTIMEZONE".into(),
        "TZID:Asia/Shanghai".into(),
        "BEGIN:STANDARD".into(),
        "DTSTART:19700101T000000".into(),
        "TZOFFSETFROM:+0800".into(),
        "TZOFFSETTO:+0800".into(),
        "TZNAME:CST".into(),
        "END:STANDARD".into(),
        "END:VTIMEZONE".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{uid}@quanban"),
        format!("DTSTAMP:{}Z", f(stamp - chrono::Duration::hours(8))),
        format!("DTSTART;TZID=Asia/Shanghai:{}", f(start)),
        format!("DTEND;TZID=Asia/Shanghai:{}", f(end)),
        format!("SUMMARY:{}", esc(&format!("预约办理：{item_name}"))),
        format!("LOCATION:{}", esc(&format!("{}，{}", hall.name, hall.address))),
        format!("GEO:{};{}", hall.lat, hall.lon),
        format!(
            "DESCRIPTION:{}",
            esc(
                "请携带身份证件按时到达，到厅后取号。Please bring your ID and take a queue number on arrival."
            )
        ),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ];
    // RFC 5545: CRLF line ends, lines folded at 75 octets.
    let mut out = String::new();
    for line in lines {
        let mut width = 0;
        for ch in line.chars() {
            if width + ch.len_utf8() > 75 {
                out.push_str("\r\n ");
                width = 1;
            }
            out.push(ch);
            width += ch.len_utf8();
        }
        out.push_str("\r\n");
    }
    out
}

pub fn weekday_label(d: Weekday) -> &'static str {
    ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][d.num_days_from_monday() as usize]
}

/// The code printed on a queue slip with which its holder rates the visit (一次一评): 64 random
/// bits as 16 hex digits, short enough to show on a slip, too many to guess.
pub fn new_rating_code() -> String {
    crate::platform::tokens::random_hex(8)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn the_next_opening_skips_nights_weekends_and_holidays() {
        let hours = parse_hours("周一至周五 9:00-12:00、13:00-17:00；周六 9:00-12:00");
        let cal = Calendar::new(
            crate::calendar::domain::parse_holidays_file(include_str!(
                "../../../../reference/holidays_cn.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        // Open now: now.
        assert_eq!(next_opening(&hours, &cal, at("2026-12-09 09:00")), Some(at("2026-12-09 09:00")));
        // Lunch: the afternoon period.
        assert_eq!(next_opening(&hours, &cal, at("2026-12-09 12:30")), Some(at("2026-12-09 13:00")));
        // Friday night: Saturday morning; Saturday evening: Monday.
        assert_eq!(next_opening(&hours, &cal, at("2026-12-04 23:59")), Some(at("2026-12-05 09:00")));
        assert_eq!(next_opening(&hours, &cal, at("2026-12-05 20:30")), Some(at("2026-12-07 09:00")));
        // The National Day block: closed until the first working day after it.
        assert_eq!(next_opening(&hours, &cal, at("2026-09-30 17:30")), Some(at("2026-10-08 09:00")));
        // No hours at all: never.
        assert_eq!(next_opening(&WeeklyHours::default(), &cal, at("2026-12-09 09:00")), None);
    }

    #[test]
    fn reads_every_published_form_of_hours() {
        let w = parse_hours(
            "周一至周五 9:00-12:00、13:00-17:00；周六 9:00-12:00 部分高频事项延时/预约服务；法定节假日休息",
        );
        assert_eq!(w.days[0].periods, [(t(9, 0), t(12, 0)), (t(13, 0), t(17, 0))]);
        assert_eq!(w.days[4], w.days[0]);
        assert_eq!(w.days[5].periods, [(t(9, 0), t(12, 0))]);
        assert!(w.days[6].periods.is_empty());
        let w = parse_hours(
            "周一至周五 9:00-17:00（中午不间断服务）；周六、周日 9:00-12:00 部分高频事项“周末不打烊”；法定节假日休息（以大厅公告为准）",
        );
        assert_eq!(w.days[2].periods, [(t(9, 0), t(17, 0))]);
        assert_eq!(w.days[6].periods, [(t(9, 0), t(12, 0))]);
        let w = parse_hours("周一至周五 8:30-11:30、14:00-17:00；法定节假日休息");
        assert_eq!(w.days[3].periods, [(t(8, 30), t(11, 30)), (t(14, 0), t(17, 0))]);
        assert_eq!(parse_hours("以大厅公告为准"), WeeklyHours::default());
    }

    #[test]
    fn great_circle_distance() {
        // 泉城广场 → 济南西站, about 11.7 km.
        let d = distance_m(36.6611, 117.0216, 36.6686, 116.8906);
        assert!((11_500.0..12_000.0).contains(&d), "{d}");
        assert_eq!(distance_m(36.0, 117.0, 36.0, 117.0), 0.0);
        assert!(valid_coordinates(36.6, 117.0));
        assert!(
            !valid_coordinates(91.0, 0.0)
                && !valid_coordinates(0.0, 181.0)
                && !valid_coordinates(f64::NAN, 0.0)
        );
    }

    #[test]
    fn default_item_coverage() {
        assert!(handles_by_default("city", "历下区", "city", None));
        assert!(handles_by_default("district", "历下区", "district", Some("历下区")));
        assert!(!handles_by_default("district", "天桥区", "district", Some("历下区")));
        assert!(!handles_by_default("district", "历下区", "city", None));
    }

    fn hall(code: &str, lat: f64, lon: f64) -> Hall {
        Hall {
            code: code.into(),
            name: format!("大厅{code}"),
            level: "street".into(),
            parent: None,
            district: "历下区".into(),
            address: "济南市".into(),
            lat,
            lon,
            hours: "周一至周五 9:00-12:00、13:00-17:00；法定节假日休息".into(),
            windows: 4,
            phone: None,
        }
    }

    #[test]
    fn nearest_halls_come_in_great_circle_order() {
        let d = Directory::new(vec![
            hall("A", 36.70, 117.00),
            hall("B", 36.66, 117.02),
            hall("C", 36.60, 117.30),
        ]);
        let got: Vec<&str> =
            d.nearest(36.661, 117.021, 3, |_| true).iter().map(|(h, _)| h.hall.code.as_str()).collect();
        assert_eq!(got, ["B", "A", "C"]);
        let only_c: Vec<&str> = d
            .nearest(36.661, 117.021, 3, |h| h.hall.code == "C")
            .iter()
            .map(|(h, _)| h.hall.code.as_str())
            .collect();
        assert_eq!(only_c, ["C"]);
        // Brute force agrees on random points.
        for i in 0..50 {
            let (lat, lon) = (36.4 + f64::from(i) * 0.01, 116.8 + f64::from(i % 7) * 0.07);
            let first = d.nearest(lat, lon, 1, |_| true)[0].0.hall.code.clone();
            let brute = d
                .halls
                .iter()
                .min_by(|a, b| {
                    distance_m(lat, lon, a.hall.lat, a.hall.lon)
                        .total_cmp(&distance_m(lat, lon, b.hall.lat, b.hall.lon))
                })
                .unwrap();
            assert_eq!(first, brute.hall.code);
        }
    }

    #[test]
    fn slots_follow_hours_and_the_calendar() {
        let cal = Calendar::default();
        let w = parse_hours("周一至周五 9:00-12:00、13:00-17:00；法定节假日休息");
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let slots = slots_on(&w, &cal, monday, 30);
        assert_eq!(slots.len(), 6 + 8);
        assert_eq!(slot_text(slots[0].start), "2026-11-30T09:00");
        assert_eq!(slot_text(slots[6].start), "2026-11-30T13:00");
        assert!(
            slots_on(
                &w,
                &cal,
                monday
                    .succ_opt()
                    .unwrap()
                    .succ_opt()
                    .unwrap()
                    .succ_opt()
                    .unwrap()
                    .succ_opt()
                    .unwrap()
                    .succ_opt()
                    .unwrap(),
                30
            )
            .is_empty(),
            "Saturday"
        );
        assert!(is_open(&w, &cal, monday.and_hms_opt(9, 30, 0).unwrap()));
        assert!(!is_open(&w, &cal, monday.and_hms_opt(12, 30, 0).unwrap()));
        assert_eq!(parse_slot_start("2026-11-30T09:00"), Some(monday.and_hms_opt(9, 0, 0).unwrap()));
        assert_eq!(parse_slot_start("2026-11-30T01:00:00Z"), Some(monday.and_hms_opt(9, 0, 0).unwrap()));
        assert_eq!(parse_slot_start("tomorrow"), None);
    }

    #[test]
    fn ics_is_rfc5545_shaped() {
        let t = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap().and_hms_opt(9, 0, 0).unwrap();
        let text = ics(
            "abc",
            &hall("A", 36.7, 117.0),
            "食品经营许可（新办）",
            t,
            t + chrono::Duration::minutes(30),
            t,
        );
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with("END:VCALENDAR\r\n"));
        assert!(text.contains("DTSTART;TZID=Asia/Shanghai:20261130T090000\r\n"));
        assert!(text.lines().all(|l| l.len() <= 76), "folded at 75 octets");
        assert!(text.contains("UID:abc@quanban"));
    }
}
