//! The two evaluators agree, and agree with an independent implementation of CEL: on random
//! enterprises (with nulls and values on every threshold of the sample policies) and on every
//! sample policy, the column-wise outcome equals the reference evaluator's record by record,
//! and the `cel` crate's interpreter (binary floating point) gives the same eligibility and the
//! same amount to within one fen.

use proptest::prelude::*;

use super::columnar::{self, Register};
use super::eval::{self, Cell, Outcome, Record};
use super::rules::enterprise_fields;
use crate::data::domain::{Field, FieldType};
use crate::data::store::{Column, Presence};

/// One generated value.
#[derive(Clone, Debug)]
enum Owned {
    Null,
    Int(i64),
    Str(String),
}

/// Money on and around the sample policies' thresholds, and anywhere.
fn fen() -> impl Strategy<Value = i64> {
    let thresholds = [0i64, 1, 100_000_000, 200_000_000, 500_000_000, 2_000_000_000, 10_000_000_000];
    prop_oneof![
        prop::sample::select(thresholds.to_vec()).prop_flat_map(|t| (t - 2)..=(t + 2)).prop_map(|v| v.max(0)),
        0i64..50_000_000_000,
        Just(i64::MAX / 4),
    ]
}

fn cell(f: &'static Field) -> BoxedStrategy<Owned> {
    let value: BoxedStrategy<Owned> = match f.kind {
        FieldType::Yuan => fen().prop_map(Owned::Int).boxed(),
        FieldType::Int => prop_oneof![0i64..40, 0i64..5_000, Just(0)].prop_map(Owned::Int).boxed(),
        FieldType::Bool => (0i64..2).prop_map(Owned::Int).boxed(),
        FieldType::Date => {
            let day =
                |y, m, d| super::rules::days(chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default());
            let edges = vec![
                day(2024, 12, 31),
                day(2025, 1, 1),
                day(2025, 12, 31),
                day(2026, 1, 1),
                day(2026, 12, 31),
                day(2027, 1, 1),
            ];
            prop_oneof![prop::sample::select(edges), day(2020, 1, 1)..day(2027, 6, 1)]
                .prop_map(|d| Owned::Int(i64::from(d)))
                .boxed()
        }
        FieldType::Enum(values) => {
            prop::sample::select(values.to_vec()).prop_map(|s| Owned::Str(s.into())).boxed()
        }
        FieldType::IndustrySection => prop::sample::select(vec!["B", "C", "D", "F", "H", "K", "L", "R"])
            .prop_map(|s| Owned::Str(s.into()))
            .boxed(),
        FieldType::IndustryDivision => prop::sample::select(vec!["16", "34", "51", "52", "61", "62", "90"])
            .prop_map(|s| Owned::Str(s.into()))
            .boxed(),
        FieldType::District => prop::sample::select(vec!["历下区", "市中区", "章丘区"])
            .prop_map(|s| Owned::Str(s.into()))
            .boxed(),
        FieldType::Text | FieldType::CreditCode => "[a-z]{1,4}".prop_map(Owned::Str).boxed(),
    };
    if f.required { value } else { prop_oneof![1 => Just(Owned::Null), 6 => value].boxed() }
}

fn enterprises(max: usize) -> impl Strategy<Value = Vec<Vec<Owned>>> {
    let fields = enterprise_fields();
    let one: Vec<BoxedStrategy<Owned>> = fields.iter().map(|f| cell(f)).collect();
    prop::collection::vec(one, 1..max)
}

/// The generated enterprises as loaded columns.
fn columns(rows: &[Vec<Owned>]) -> Vec<(&'static str, Column)> {
    let fields = enterprise_fields();
    fields
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let cells = rows.iter().map(|r| &r[k]);
            let column = match f.kind {
                FieldType::Yuan | FieldType::Int | FieldType::Bool | FieldType::Date => {
                    let mut present = Presence::with_capacity(rows.len());
                    let mut values = Vec::new();
                    for c in cells {
                        let v = match c {
                            Owned::Int(v) => Some(*v),
                            _ => None,
                        };
                        present.push(v.is_some());
                        values.push(v.unwrap_or(0));
                    }
                    if f.kind == FieldType::Yuan {
                        Column::Money { fen: values, present }
                    } else {
                        Column::Int { values: values.into_iter().map(|v| v as i32).collect(), present }
                    }
                }
                FieldType::Text | FieldType::CreditCode => Column::Text(
                    cells.map(|c| if let Owned::Str(s) = c { Some(s.clone()) } else { None }).collect(),
                ),
                _ => {
                    let mut dictionary: Vec<String> = Vec::new();
                    let codes = cells
                        .map(|c| match c {
                            Owned::Str(s) => {
                                let at = dictionary.iter().position(|d| d == s).unwrap_or_else(|| {
                                    dictionary.push(s.clone());
                                    dictionary.len() - 1
                                });
                                at as u16
                            }
                            _ => Column::NULL_CODE,
                        })
                        .collect();
                    Column::Code { codes, dictionary }
                }
            };
            (f.name, column)
        })
        .collect()
}

/// The `cel` crate's view of one enterprise: money as yuan in binary floating point, dates as
/// `YYYY-MM-DD` strings, as the conventions pass them.
fn cel_context(r: &dyn Record) -> cel::Context<'static> {
    let mut context = cel::Context::default();
    for (k, f) in enterprise_fields().iter().enumerate() {
        let value = match r.cell(k) {
            Cell::Null => cel::Value::Null,
            Cell::Bool(b) => cel::Value::Bool(b),
            Cell::Int(i) => cel::Value::Int(i),
            Cell::Fen(fen) => cel::Value::Float(fen as f64 / 100.0),
            Cell::Str(s) => cel::Value::String(std::sync::Arc::new(s.to_string())),
            Cell::Date(d) => {
                let day = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
                    + chrono::Days::new(d as u64);
                cel::Value::String(std::sync::Arc::new(day.format("%Y-%m-%d").to_string()))
            }
        };
        context.add_variable_from_value(f.name, value);
    }
    context
}

fn fault_code(o: Outcome) -> Option<u8> {
    match o {
        Outcome::Fault(f) => Some(f.code()),
        _ => None,
    }
}

/// A shipped policy with its rules also compiled by the `cel` crate.
struct Policy {
    shipped: super::library::Policy,
    cel_eligibility: cel::Program,
    cel_amount: cel::Program,
}

impl std::ops::Deref for Policy {
    type Target = super::library::Policy;
    fn deref(&self) -> &Self::Target {
        &self.shipped
    }
}

fn policies() -> Vec<Policy> {
    super::library::shipped()
        .expect("the shipped policies compile")
        .into_iter()
        .map(|p| Policy {
            cel_eligibility: cel::Program::compile(&p.eligibility_source).expect("cel parses"),
            cel_amount: cel::Program::compile(&p.amount_source).expect("cel parses"),
            shipped: p,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn column_wise_equals_record_by_record_and_cel_on_every_policy(rows in enterprises(120)) {
        let loaded = columns(&rows);
        let register = Register::new(rows.len(), loaded.iter().map(|(n, c)| (*n, c)));
        for p in policies() {
            let all = columnar::evaluate(&p.eligibility, &p.amount, p.cap_fen, &register);
            for (i, &got) in all.iter().enumerate() {
                let record = register.record(i);
                let reference = eval::outcome(&p.eligibility, &p.amount, p.cap_fen, &record);
                // Null faults name their field only in the reference.
                prop_assert_eq!(fault_code(got), fault_code(reference), "{} record {}", &p.code, i);
                if fault_code(got).is_none() {
                    prop_assert_eq!(got, reference, "{} record {}", &p.code, i);
                }
                let context = cel_context(&record);
                match (p.cel_eligibility.execute(&context), reference) {
                    (Ok(cel::Value::Bool(false)), Outcome::NotEligible) => {}
                    (Ok(cel::Value::Bool(true)), Outcome::Eligible { fen }) => {
                        let cel::Value::Float(yuan) = p.cel_amount.execute(&context).expect("cel amount") else {
                            panic!("{}: the amount is not a double", p.code)
                        };
                        let capped = p.cap_fen.map_or(yuan, |c| yuan.min(c as f64 / 100.0));
                        let cel_fen = (capped * 100.0).round() as i64;
                        // Beyond 2^50 fen a double has no fen left to agree on.
                        let tolerance = 1 + (fen.abs() >> 50);
                        prop_assert!((cel_fen - fen).abs() <= tolerance, "{} record {}: cel {} fen, exact {} fen", &p.code, i, cel_fen, fen);
                    }
                    (Ok(cel::Value::Bool(true)), Outcome::Fault(eval::Fault::NegativeAmount)) => {}
                    (Err(_), Outcome::Fault(_)) => {}
                    (cel, ours) => prop_assert!(false, "{} record {}: cel {:?}, exact {:?}", &p.code, i, cel, ours),
                }
            }
        }
    }
}

/// The conventions' own example of why amounts are exact: 1,234.55 yuan of insurance paid by a
/// large enterprise (30 % back) is 370.365 yuan, paid as 370.37; binary floating point pays 370.36.
#[test]
fn half_a_fen_rounds_up_where_floating_point_would_not() {
    let p = policies().into_iter().find(|p| p.code == "JN-ZC-2026-001").expect("policy 001");
    let fields = enterprise_fields();
    let mut row: Vec<Owned> = fields
        .iter()
        .map(|f| match f.name {
            "status" => Owned::Str("active".into()),
            "credit_status" => Owned::Str("good".into()),
            "size" => Owned::Str("large".into()),
            "unemployment_insurance_paid_last_year" => Owned::Int(123_455),
            "employees_last_year" => Owned::Int(100),
            "layoffs_last_year" => Owned::Int(1),
            _ => Owned::Null,
        })
        .collect();
    let loaded = columns(std::slice::from_mut(&mut row));
    let register = Register::new(1, loaded.iter().map(|(n, c)| (*n, c)));
    assert_eq!(
        columnar::evaluate(&p.eligibility, &p.amount, p.cap_fen, &register),
        [Outcome::Eligible { fen: 37_037 }]
    );
    let cel::Value::Float(yuan) = p.cel_amount.execute(&cel_context(&register.record(0))).unwrap() else {
        panic!()
    };
    assert_eq!((yuan * 100.0).round() as i64, 37_036, "binary floating point loses the half fen");
}

/// Rules that use what the shipped policies do not (division, `%`, `int()`, negation, `?:` over
/// numbers with different places, free-text fields, `in` over numbers and booleans, comparisons
/// of two fields, overflow), as (eligibility, amount).
const MORE_RULES: &[(&str, &str)] = &[
    (
        "size == 'large' || double(revenue_last_year) / double(employees_last_year) > 100000.0",
        "double(revenue_last_year) / 3.0",
    ),
    ("srdi_since == null || srdi_since > '2025-06-30'", "employees_last_year * 100"),
    // Two rules that begin alike over fields that may be null: the shared prefix's result,
    // records set aside included, is reused by the second within each chunk.
    ("high_tech && layoffs_last_year < 5 && size == 'small'", "1.0"),
    ("high_tech && layoffs_last_year < 5 || founded >= '2026-01-01'", "2.0"),
    ("name > 'b' && !(name in ['ab', 'c'])", "0.125"),
    ("employees_last_year in [0, 1, 2, 35] || high_tech in [true]", "double(employees_last_year) * 0.005"),
    ("high_tech == above_scale && -employees_last_year < -3", "double(-layoffs_last_year) + 10.0"),
    ("int(double(revenue_last_year) * 0.5) > 1000000", "double(int(double(tax_paid_last_year) * 0.01))"),
    ("employees_last_year / (layoffs_last_year - 1) > 2 || employees_last_year % 7 == 3", "1.5"),
    (
        "(high_tech ? double(rd_expense_last_year) : 0.5) >= 1.25",
        "high_tech ? 100.5 : double(tax_paid_last_year) * 0.001",
    ),
    (
        "double(revenue_last_year) * 100000000000000.0 > double(tax_paid_last_year)",
        "double(revenue_last_year) * 100000.0",
    ),
    (
        "industry_section == industry_division || size != credit_status",
        "double(export_revenue_last_year) - double(export_revenue_prev_year)",
    ),
    ("double(revenue_last_year) in [1.0, 2000000.0, 0.001] || founded >= '2026-01-01'", "400.0"),
];

fn more_policies() -> Vec<(super::rules::Expr, super::rules::Expr)> {
    use super::rules::{Want, compile};
    MORE_RULES
        .iter()
        .map(|(e, a)| {
            let e = compile(e, Want::Bool).unwrap_or_else(|err| panic!("{e}: {err:?}"));
            let a = compile(a, Want::Amount).unwrap_or_else(|err| panic!("{a}: {err:?}"));
            (e, a)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Over several chunks (the generated enterprises repeated past three chunks, evaluated on
    /// every processor), for the shipped policies and the rules above.
    #[test]
    fn column_wise_equals_record_by_record_over_many_chunks(rows in enterprises(60), extra in 0usize..50) {
        let total = 3 * columnar::CHUNK + extra;
        let repeated: Vec<Vec<Owned>> = rows.iter().cycle().take(total).cloned().collect();
        let loaded = columns(&repeated);
        let register = Register::new(total, loaded.iter().map(|(n, c)| (*n, c)));
        let shipped = policies();
        let mut rules: Vec<(&super::rules::Expr, &super::rules::Expr, Option<i64>)> =
            shipped.iter().map(|p| (&p.eligibility, &p.amount, p.cap_fen)).collect();
        let more = more_policies();
        rules.extend(more.iter().map(|(e, a)| (e, a, Some(1_000_000))));
        // All the programs in one run, as the evaluator runs them: the conditions several of
        // them begin with are evaluated once per chunk and reused (see columnar::SharedPrefixes).
        let programs: Vec<columnar::Program<'_>> = rules
            .iter()
            .map(|&(eligibility, amount, cap_fen)| columnar::Program { eligibility, amount, cap_fen })
            .collect();
        let mut together = vec![vec![Outcome::NotEligible; total]; programs.len()];
        let parts = columnar::run(&programs, &register, Vec::new, |found, n, i, o| found.push((n, i, o)));
        for (n, i, o) in parts.into_iter().flatten() {
            together[n][i] = o;
        }
        for (n, (e, a, cap)) in rules.into_iter().enumerate() {
            let all = columnar::evaluate(e, a, cap, &register);
            for (i, &got) in all.iter().enumerate() {
                let reference = eval::outcome(e, a, cap, &register.record(i));
                prop_assert_eq!(got, reference, "rule {} record {}", n, i);
                prop_assert_eq!(together[n][i], reference, "rule {} record {} (all programs at once)", n, i);
            }
        }
    }
}
