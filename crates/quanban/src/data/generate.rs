//! A deterministic synthetic enterprise register for Jinan, for development and benchmarks: the
//! same `(count, seed)` always gives the same file, byte for byte (ChaCha8, which `rand_chacha`
//! keeps reproducible across platforms and versions).
//!
//! The shares are shaped on public figures where there are any (size classes per the 4th
//! economic census, the industry mix of the 5th, the 规上 thresholds) and estimated elsewhere
//! (districts, revenue spread); see `docs/DATA.md`. The file has the columns of
//! `enterprise_fields`, in the datasets' order.

use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::domain::{DISTRICTS, Register, datasets_of, fen_text};

/// Share of enterprises per district (estimated; sums to 1000).
const DISTRICT_PERMILLE: [u32; 12] = [180, 110, 90, 90, 170, 60, 90, 50, 70, 25, 30, 35];
/// GB/T 4754-2017 region codes of the districts, in `DISTRICTS` order.
const DISTRICT_CODES: [&str; 12] = [
    "370102", "370103", "370104", "370105", "370112", "370113", "370114", "370115", "370116", "370117",
    "370124", "370126",
];

/// (section, first division, last division, per mille of enterprises).
const SECTIONS: [(char, u8, u8, u32); 17] = [
    ('A', 1, 5, 30),
    ('B', 6, 12, 5),
    ('C', 13, 43, 122),
    ('D', 44, 46, 5),
    ('E', 47, 50, 60),
    ('F', 51, 52, 306),
    ('G', 53, 60, 40),
    ('H', 61, 62, 30),
    ('I', 63, 65, 50),
    ('J', 66, 69, 8),
    ('K', 70, 70, 40),
    ('L', 71, 72, 138),
    ('M', 73, 75, 80),
    ('N', 76, 79, 12),
    ('O', 80, 82, 40),
    ('Q', 84, 85, 14),
    ('R', 86, 90, 20),
];

/// A size class: its name, share per ten thousand, median revenue (万元) and spread, employees.
struct SizeClass {
    name: &'static str,
    per_10k: u32,
    median_wan: f64,
    sigma: f64,
    employees: (u32, u32),
}

const SIZES: [SizeClass; 4] = [
    SizeClass { name: "micro", per_10k: 8530, median_wan: 60.0, sigma: 1.3, employees: (1, 19) },
    SizeClass { name: "small", per_10k: 1320, median_wan: 1_200.0, sigma: 0.9, employees: (20, 299) },
    SizeClass { name: "medium", per_10k: 130, median_wan: 9_000.0, sigma: 0.9, employees: (300, 999) },
    SizeClass { name: "large", per_10k: 20, median_wan: 150_000.0, sigma: 1.1, employees: (1000, 8000) },
];

const WORDS: [&str; 16] = [
    "泉城", "齐鲁", "华阳", "明湖", "千佛", "泺源", "舜耕", "鲁信", "恒升", "博远", "同泰", "瑞丰", "金桥",
    "海岱", "历城", "章锦",
];
const TRADES: [(char, &str); 8] = [
    ('C', "机械制造"),
    ('F', "商贸"),
    ('I', "信息技术"),
    ('M', "科技"),
    ('E', "建设工程"),
    ('H', "餐饮管理"),
    ('L', "企业管理咨询"),
    ('G', "物流"),
];

/// The GB 32100 code alphabet (no I, O, Z, S, V).
const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

fn pick<const N: usize>(rng: &mut ChaCha8Rng, weights: [u32; N]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = rng.random_range(0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    N - 1
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Yuan as integer fen from a lognormal in 万元.
fn lognormal_fen(rng: &mut ChaCha8Rng, median_wan: f64, sigma: f64) -> i64 {
    let wan = (median_wan.ln() + sigma * normal(rng)).exp();
    (wan * 1_000_000.0).round().min(1e15) as i64
}

/// The GB 11714 organisation code for enterprise number `n`: eight characters and its check.
fn organisation_code(n: u64) -> String {
    // Spread the numbers over the code space (an odd multiplier is a bijection mod 31^8).
    const SPACE: u64 = 31u64.pow(8);
    // Offset so that no enterprise gets the all-zero code.
    let mut x = (n + 1_000_003).wrapping_mul(2_654_435_761) % SPACE;
    let mut body = [0u8; 8];
    for slot in body.iter_mut().rev() {
        *slot = CHARSET[(x % 31) as usize];
        x /= 31;
    }
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let value = |c: u8| if c.is_ascii_digit() { u32::from(c - b'0') } else { u32::from(c - b'A') + 10 };
    let sum: u32 = body.iter().zip(WEIGHTS).map(|(c, w)| value(*c) * w).sum();
    let check = match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from(b'0' + d as u8),
    };
    format!("{}{check}", String::from_utf8_lossy(&body))
}

fn credit_code(district: usize, n: u64) -> String {
    let first17 = format!("91{}{}", DISTRICT_CODES[district], organisation_code(n));
    let check = crate::identity::domain::credit_code_check_char(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

fn date_between(rng: &mut ChaCha8Rng, from: chrono::NaiveDate, to: chrono::NaiveDate) -> chrono::NaiveDate {
    let days = (to - from).num_days().max(1);
    from + chrono::Duration::days(rng.random_range(0..days))
}

/// The header row of an enterprise register file.
pub fn enterprise_header() -> Vec<&'static str> {
    let mut names = Vec::new();
    for d in datasets_of(Register::Enterprises) {
        for f in d.fields {
            if !names.contains(&f.name) {
                names.push(f.name);
            }
        }
    }
    names
}

/// Writes `count` synthetic enterprises for `seed` as CSV to `out`, calling `progress` every
/// 10,000 rows.
pub fn enterprises(
    count: u64,
    seed: u64,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let header = enterprise_header();
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&header)?;
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    for n in 0..count {
        let district = pick(&mut rng, DISTRICT_PERMILLE);
        let s = pick(&mut rng, SECTIONS.map(|s| s.3));
        let (section, first, last, _) = SECTIONS[s];
        let division = rng.random_range(first..=last);
        let size = pick(&mut rng, [SIZES[0].per_10k, SIZES[1].per_10k, SIZES[2].per_10k, SIZES[3].per_10k]);
        let SizeClass { name: size_name, median_wan: median, sigma, employees: (lo, hi), .. } = SIZES[size];
        let founded = date_between(&mut rng, day(1992, 1, 1), day(2025, 12, 31));
        let status = ["active", "deregistered", "revoked"][pick(&mut rng, [920, 60, 20])];
        let credit = ["good", "watch", "dishonest"][pick(&mut rng, [970, 25, 5])];
        // Dormant shells and new firms report nothing.
        let dormant = size == 0 && rng.random_bool(0.25);
        let revenue = if dormant { 0 } else { lognormal_fen(&mut rng, median, sigma) };
        let growth = 0.75 + rng.random::<f64>() * 0.5;
        let revenue_prev = (revenue as f64 / growth).round() as i64;
        let tax = (revenue as f64 * (0.01 + rng.random::<f64>() * 0.05)).round() as i64;
        let high_tech =
            matches!(section, 'C' | 'I' | 'M') && rng.random_bool(if size == 0 { 0.02 } else { 0.12 });
        let rd = if high_tech || rng.random_bool(0.05) {
            (revenue as f64 * (0.02 + rng.random::<f64>() * 0.08)).round() as i64
        } else {
            0
        };
        let exporter = matches!(section, 'C' | 'F') && rng.random_bool(0.08);
        let export = if exporter { (revenue as f64 * rng.random::<f64>() * 0.6).round() as i64 } else { 0 };
        let export_prev = if exporter { (export as f64 / growth).round() as i64 } else { 0 };
        let employees = if dormant { 0 } else { rng.random_range(lo..=hi) };
        let employees_last = (f64::from(employees) * (0.85 + rng.random::<f64>() * 0.3)).round() as u32;
        let layoffs = if rng.random_bool(0.1) { rng.random_range(0..=employees_last / 10 + 1) } else { 0 };
        let insurance = i64::from(employees_last) * rng.random_range(40_000..90_000);
        let graduates =
            if size > 0 && rng.random_bool(0.3) { rng.random_range(1..=employees / 20 + 1) } else { 0 };
        // 规上: industry and wholesale from 2000万, retail 500万, catering 200万, services 1000万.
        let threshold_wan = match (section, division) {
            ('B' | 'C' | 'D' | 'G' | 'I' | 'N', _) | ('F', 51) => 2000,
            ('F', _) => 500,
            ('H', _) => 200,
            _ => 1000,
        };
        let above_scale = revenue >= threshold_wan * 1_000_000 || section == 'E' && size >= 2;
        let srdi = match size {
            0 => 0,
            _ => pick(&mut rng, [960, 35, 5]),
        };
        let srdi_since =
            (srdi > 0).then(|| date_between(&mut rng, day(2019, 1, 1), day(2025, 12, 31)).to_string());
        let tech_investment = if section == 'C' && rng.random_bool(0.2) {
            (revenue as f64 * rng.random::<f64>() * 0.1).round() as i64
        } else {
            0
        };
        let first_loan = if rng.random_bool(0.04) { rng.random_range(10..500) * 1_000_000 } else { 0 };
        let trade = TRADES.iter().find(|(s, _)| *s == section).map(|(_, t)| *t).unwrap_or("实业");
        let name =
            format!("济南{}{}{}有限公司", WORDS[(n % 16) as usize], WORDS[rng.random_range(0..16)], trade);
        let money = fen_text;
        w.write_record([
            credit_code(district, n),
            name,
            DISTRICTS[district].to_string(),
            section.to_string(),
            format!("{division:02}"),
            founded.to_string(),
            size_name.to_string(),
            status.to_string(),
            credit.to_string(),
            money(revenue),
            money(revenue_prev),
            money(tax),
            money(rd),
            money(export),
            money(export_prev),
            employees.to_string(),
            employees_last.to_string(),
            layoffs.to_string(),
            money(insurance),
            graduates.to_string(),
            above_scale.to_string(),
            ["none", "provincial", "national"][srdi].to_string(),
            srdi_since.unwrap_or_default(),
            money(tech_investment),
            high_tech.to_string(),
            money(first_loan),
        ])?;
        if (n + 1).is_multiple_of(10_000) {
            progress(n + 1);
        }
    }
    w.flush()?;
    progress(count);
    Ok(())
}

/// The header row of a population register file.
pub fn people_header() -> Vec<&'static str> {
    datasets_of(Register::People).flat_map(|d| d.fields.iter().map(|f| f.name)).collect()
}

const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭", "何",
    "高", "林", "罗",
];
const GIVEN: [&str; 24] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "秀英", "霞", "平", "刚", "桂英", "浩然", "欣怡",
];

/// Writes `count` synthetic residents for `seed` as CSV (the population register's columns):
/// ID numbers valid by GB 11643 (the district's region code, the birth date, a sequence whose
/// parity is the sex, the check character) and unique; birth dates from 1940 to 2024.
pub fn people(
    count: u64,
    seed: u64,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5045_4f50_4c45);
    let mut w = csv::Writer::from_writer(out);
    w.write_record(people_header())?;
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let mut seen = std::collections::HashSet::with_capacity(count as usize);
    for n in 0..count {
        let district = pick(&mut rng, DISTRICT_PERMILLE);
        let (id, birth) = loop {
            let birth = date_between(&mut rng, day(1940, 1, 1), day(2024, 12, 31));
            let body = format!(
                "{}{}{:03}",
                DISTRICT_CODES[district],
                birth.format("%Y%m%d"),
                rng.random_range(0..1000)
            );
            let Some(check) = crate::identity::domain::id_number_check_char(&body) else { continue };
            let id = format!("{body}{check}");
            if seen.insert(id.clone()) {
                break (id, birth);
            }
        };
        let age = 2026 - chrono::Datelike::year(&birth);
        let marital = if age < 22 {
            "unmarried"
        } else {
            ["unmarried", "married", "divorced", "widowed"]
                [pick(&mut rng, [150, 720, 80, if age > 60 { 120 } else { 20 }])]
        };
        let children = if marital == "unmarried" { 0 } else { pick(&mut rng, [150, 500, 300, 50]) };
        let name = format!(
            "{}{}",
            SURNAMES[rng.random_range(0..SURNAMES.len())],
            GIVEN[rng.random_range(0..GIVEN.len())]
        );
        w.write_record([
            id,
            name,
            DISTRICTS[district].to_string(),
            birth.to_string(),
            marital.to_string(),
            children.to_string(),
            rng.random_bool(0.06).to_string(),
            rng.random_bool(0.015).to_string(),
        ])?;
        if (n + 1).is_multiple_of(10_000) {
            progress(n + 1);
        }
    }
    w.flush()?;
    progress(count);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::data::domain::{check_row, layout};

    fn generate(count: u64, seed: u64) -> Vec<u8> {
        let mut out = Vec::new();
        enterprises(count, seed, &mut out, &mut |_| {}).unwrap();
        out
    }

    #[test]
    fn the_same_seed_gives_the_same_file() {
        assert_eq!(generate(300, 7), generate(300, 7));
        assert_ne!(generate(300, 7), generate(300, 8));
    }

    #[test]
    fn every_generated_row_passes_the_import_checks_and_codes_are_unique() {
        let bytes = generate(2_000, 42);
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 9).unwrap();
        let l = layout(Register::Enterprises, &header, today).unwrap();
        let mut keys = std::collections::HashSet::new();
        let mut sizes = std::collections::HashMap::new();
        for (i, record) in reader.records().enumerate() {
            let record = record.unwrap();
            let cells: Vec<&str> = record.iter().collect();
            let row = check_row(&l, i as u64 + 1, &cells).unwrap_or_else(|p| panic!("row {}: {p:?}", i + 1));
            assert!(keys.insert(row.key.clone()), "duplicate {}", row.key);
            *sizes.entry(cells[6].to_string()).or_insert(0) += 1;
        }
        assert_eq!(keys.len(), 2_000);
        // Mostly micro, as in the census.
        assert!(sizes["micro"] > 1_500 && sizes["micro"] < 1_900, "{sizes:?}");
    }

    #[test]
    fn generated_people_pass_the_import_checks() {
        let mut bytes = Vec::new();
        people(1_000, 3, &mut bytes, &mut |_| {}).unwrap();
        let mut again = Vec::new();
        people(1_000, 3, &mut again, &mut |_| {}).unwrap();
        assert_eq!(bytes, again);
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 9).unwrap();
        let l = layout(Register::People, &header, today).unwrap();
        let mut keys = std::collections::HashSet::new();
        for (i, record) in reader.records().enumerate() {
            let record = record.unwrap();
            let cells: Vec<&str> = record.iter().collect();
            let row = check_row(&l, i as u64 + 1, &cells).unwrap_or_else(|p| panic!("row {}: {p:?}", i + 1));
            assert!(keys.insert(row.key));
        }
        assert_eq!(keys.len(), 1_000);
    }

    #[test]
    fn organisation_codes_differ_for_different_numbers() {
        let codes: std::collections::HashSet<String> = (0..50_000).map(organisation_code).collect();
        assert_eq!(codes.len(), 50_000);
    }
}
