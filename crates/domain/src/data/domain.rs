//! The city's registers as datasets (政务数据资源目录), free of I/O: which department owns which
//! fields, how each field is typed and shared, and how a register row is read and checked.
//!
//! The enterprise fields are exactly `enterprise_fields` of `reference/policies.json` (the
//! policies' rules are written over them), split by the department that keeps them; a test holds
//! the two lists together.

use chrono::NaiveDate;
use serde::Serialize;

use crate::identity::domain::CreditCode;

/// How a field is typed in a register file and in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    /// One of the listed values.
    Enum(&'static [&'static str]),
    Bool,
    /// A count (people).
    Int,
    /// Money in yuan with at most two decimals, held exactly as integer fen.
    Yuan,
    /// `YYYY-MM-DD`.
    Date,
    /// A unified social credit code (GB 32100 check character).
    CreditCode,
    /// A GB/T 4754-2017 section letter (A–T).
    IndustrySection,
    /// A GB/T 4754-2017 division (two digits, 01–97).
    IndustryDivision,
    /// A Jinan district or county (历下区 …).
    District,
}

/// 政务数据共享分类 (sharing class) of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sharing {
    /// 无条件共享: any department may read it for its duties.
    Unconditional,
    /// 有条件共享: read only under a grant by the owner, for the purpose granted.
    Conditional,
    /// 不予共享: not shared.
    NotShared,
}

impl Sharing {
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Sharing::Unconditional => ("无条件共享", "shared without conditions"),
            Sharing::Conditional => ("有条件共享", "shared on conditions"),
            Sharing::NotShared => ("不予共享", "not shared"),
        }
    }
}

/// One field of a dataset.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Field {
    /// Column name in register files and the store (as in `enterprise_fields`).
    pub name: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub kind: FieldType,
    /// Personal data (about an identifiable person).
    pub personal: bool,
    /// Required in every row (the key and the identity fields).
    pub required: bool,
    pub sharing: Sharing,
}

/// A dataset in the catalog: one department's part of a register.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Dataset {
    /// Stable identifier, e.g. `market_entities`.
    pub id: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    /// The owning department's code.
    pub owner: &'static str,
    /// The key field (first of `fields`).
    pub key: &'static str,
    /// How often the owner refreshes it (EU frequency vocabulary name).
    pub frequency: &'static str,
    /// The legal basis for sharing it.
    pub legal_basis: &'static str,
    /// Which register the dataset belongs to.
    pub register: Register,
    pub fields: &'static [Field],
}

/// The two registers a file can be imported into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Register {
    Enterprises,
    People,
}

const SIZES: &[&str] = &["micro", "small", "medium", "large"];
const SRDI_LEVELS: &[&str] = &["none", "provincial", "national"];
const CREDIT_STATUSES: &[&str] = &["good", "watch", "dishonest"];
const REGISTRATION_STATUSES: &[&str] = &["active", "deregistered", "revoked"];
const MARITAL: &[&str] = &["unmarried", "married", "divorced", "widowed"];

pub use crate::reference::DISTRICTS;

const fn field(
    name: &'static str,
    label_zh: &'static str,
    label_en: &'static str,
    kind: FieldType,
    sharing: Sharing,
) -> Field {
    Field { name, label_zh, label_en, kind, personal: false, required: false, sharing }
}

const fn key(name: &'static str, label_zh: &'static str, label_en: &'static str, kind: FieldType) -> Field {
    Field { name, label_zh, label_en, kind, personal: false, required: true, sharing: Sharing::Unconditional }
}

const fn personal(f: Field) -> Field {
    Field { personal: true, ..f }
}

const fn required(f: Field) -> Field {
    Field { required: true, ..f }
}

use FieldType as T;
use Sharing::{Conditional as C, NotShared as N, Unconditional as U};

const USCC: Field = key("uscc", "统一社会信用代码", "Unified social credit code", T::CreditCode);

/// Every dataset the platform knows, enterprise datasets first.
pub const DATASETS: &[Dataset] = &[
    Dataset {
        id: "market_entities",
        name_zh: "市场主体登记信息",
        name_en: "Market entity register",
        owner: "JN-SCJ",
        key: "uscc",
        frequency: "DAILY",
        legal_basis: "《市场主体登记管理条例》第三十五条；《政务信息资源共享管理暂行办法》",
        register: Register::Enterprises,
        fields: &[
            USCC,
            required(field("name", "企业名称", "Name", T::Text, U)),
            required(field("district", "所属区县", "District", T::District, U)),
            required(field(
                "industry_section",
                "国民经济行业门类",
                "Industry section (GB/T 4754)",
                T::IndustrySection,
                U,
            )),
            required(field(
                "industry_division",
                "国民经济行业大类",
                "Industry division (GB/T 4754)",
                T::IndustryDivision,
                U,
            )),
            required(field("founded", "成立日期", "Founded", T::Date, U)),
            required(field("size", "企业规模", "Size", T::Enum(SIZES), U)),
            required(field("status", "登记状态", "Registration status", T::Enum(REGISTRATION_STATUSES), U)),
            required(field(
                "credit_status",
                "公共信用状态",
                "Public credit status",
                T::Enum(CREDIT_STATUSES),
                C,
            )),
        ],
    },
    Dataset {
        id: "tax",
        name_zh: "企业纳税信息",
        name_en: "Enterprise tax figures",
        owner: "JN-SWJ",
        key: "uscc",
        frequency: "ANNUAL",
        legal_basis: "《税收征收管理法》第八条、第八十六条；有条件共享，须经税务部门授权",
        register: Register::Enterprises,
        fields: &[
            USCC,
            field("revenue_last_year", "上年营业收入", "Revenue last year", T::Yuan, C),
            field("revenue_prev_year", "前年营业收入", "Revenue the year before", T::Yuan, C),
            field("tax_paid_last_year", "上年实缴税收", "Tax paid last year", T::Yuan, C),
            field("rd_expense_last_year", "上年研发费用", "R&D expense last year", T::Yuan, C),
            field("export_revenue_last_year", "上年出口额", "Export revenue last year", T::Yuan, C),
            field("export_revenue_prev_year", "前年出口额", "Export revenue the year before", T::Yuan, C),
        ],
    },
    Dataset {
        id: "social_insurance",
        name_zh: "企业社会保险参保信息",
        name_en: "Enterprise social insurance",
        owner: "JN-RSJ",
        key: "uscc",
        frequency: "MONTHLY",
        legal_basis: "《社会保险法》第七十四条；有条件共享",
        register: Register::Enterprises,
        fields: &[
            USCC,
            field("employees", "当前参保职工人数", "Insured employees", T::Int, C),
            field(
                "employees_last_year",
                "上年末参保职工人数",
                "Insured employees at last year end",
                T::Int,
                C,
            ),
            field("layoffs_last_year", "上年裁员人数", "Layoffs last year", T::Int, C),
            field(
                "unemployment_insurance_paid_last_year",
                "上年实缴失业保险费（单位部分）",
                "Unemployment insurance paid last year (employer)",
                T::Yuan,
                C,
            ),
            field(
                "new_graduate_hires_last_year",
                "上年新招用高校毕业生人数",
                "Graduates hired last year",
                T::Int,
                C,
            ),
        ],
    },
    Dataset {
        id: "industry",
        name_zh: "工业和信息化企业认定信息",
        name_en: "Industry designations",
        owner: "JN-GXJ",
        key: "uscc",
        frequency: "QUARTERLY",
        legal_basis: "《优质中小企业梯度培育管理暂行办法》；规模以上企业名录依《统计法》",
        register: Register::Enterprises,
        fields: &[
            USCC,
            field("above_scale", "是否规模以上企业", "Above designated size", T::Bool, U),
            field("srdi_level", "专精特新等级", "专精特新 level", T::Enum(SRDI_LEVELS), U),
            field("srdi_since", "专精特新认定日期", "专精特新 since", T::Date, U),
            field(
                "tech_investment_last_year",
                "上年技术改造设备投资额",
                "Technical investment last year",
                T::Yuan,
                C,
            ),
        ],
    },
    Dataset {
        id: "science",
        name_zh: "高新技术企业认定信息",
        name_en: "High-tech enterprise designations",
        owner: "JN-KJJ",
        key: "uscc",
        frequency: "ANNUAL",
        legal_basis: "《高新技术企业认定管理办法》第十四条（认定结果公示）",
        register: Register::Enterprises,
        fields: &[USCC, field("high_tech", "是否有效期内高新技术企业", "High-tech enterprise", T::Bool, U)],
    },
    Dataset {
        id: "finance",
        name_zh: "企业融资信息",
        name_en: "Enterprise financing",
        owner: "JN-CZJ",
        key: "uscc",
        frequency: "ANNUAL",
        legal_basis: "《政府性融资担保、贴息资金管理办法》；有条件共享",
        register: Register::Enterprises,
        fields: &[
            USCC,
            field(
                "first_loan_last_year_yuan",
                "上年首次获得银行贷款金额",
                "First bank loan last year",
                T::Yuan,
                C,
            ),
        ],
    },
    Dataset {
        id: "population",
        name_zh: "人口基础信息",
        name_en: "Population register",
        owner: "JN-GAJ",
        key: "id_number",
        frequency: "DAILY",
        legal_basis: "《居民身份证法》第十三条；《个人信息保护法》第三十四条（为履行法定职责所必需）",
        register: Register::People,
        fields: &[
            personal(key("id_number", "公民身份号码", "ID number", T::Text)),
            personal(required(field("name", "姓名", "Name", T::Text, C))),
            required(field("household_district", "户籍所在区县", "Household district", T::District, C)),
            personal(required(field("birth_date", "出生日期", "Birth date", T::Date, C))),
            personal(field("marital_status", "婚姻状况", "Marital status", T::Enum(MARITAL), C)),
            personal(field("children", "子女数", "Children", T::Int, C)),
            personal(field("disability", "是否持证残疾人", "Registered disability", T::Bool, C)),
            personal(field("minimum_living", "是否享受最低生活保障", "Minimum living allowance", T::Bool, N)),
        ],
    },
];

/// The datasets a register file is split into.
pub fn datasets_of(register: Register) -> impl Iterator<Item = &'static Dataset> {
    DATASETS.iter().filter(move |d| d.register == register)
}

pub fn dataset(id: &str) -> Option<&'static Dataset> {
    DATASETS.iter().find(|d| d.id == id)
}

/// A checked value of a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Text(String),
    Bool(bool),
    Int(i64),
    /// Integer fen (0.01 yuan).
    Fen(i64),
    Date(NaiveDate),
}

/// One problem in a register file: the row (1 = the first data row) and the column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub row: u64,
    pub column: String,
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

/// Reads `raw` as a value of `field`; empty is null (refused for required fields).
pub fn parse_value(field: &Field, raw: &str) -> Result<Value, (&'static str, String, String)> {
    let s = raw.trim();
    if s.is_empty() {
        return if field.required {
            Err((
                "required",
                format!("{}不能为空", field.label_zh),
                format!("{} is required", field.label_en),
            ))
        } else {
            Ok(Value::Null)
        };
    }
    let bad = |code: &'static str, zh: String, en: String| Err((code, zh, en));
    match field.kind {
        T::Text => {
            if s.chars().count() > 200 {
                return bad(
                    "too_long",
                    format!("{}超过200字", field.label_zh),
                    format!("{} is over 200 characters", field.label_en),
                );
            }
            Ok(Value::Text(s.to_string()))
        }
        T::Enum(values) => match values.iter().find(|v| **v == s) {
            Some(v) => Ok(Value::Text((*v).to_string())),
            None => bad(
                "not_in_list",
                format!("{}应为以下之一：{}", field.label_zh, values.join("、")),
                format!("{} must be one of {}", field.label_en, values.join(", ")),
            ),
        },
        T::Bool => match s {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => bad(
                "not_bool",
                format!("{}应为true或false", field.label_zh),
                format!("{} must be true or false", field.label_en),
            ),
        },
        // Counts of people and children: below 2³¹ (batch reads hold them in 32 bits).
        T::Int => match s.parse::<i64>() {
            Ok(n) if (0..=i64::from(i32::MAX)).contains(&n) => Ok(Value::Int(n)),
            _ => bad(
                "not_count",
                format!("{}应为0至2147483647之间的整数", field.label_zh),
                format!("{} must be a whole number from 0 to 2147483647", field.label_en),
            ),
        },
        T::Yuan => parse_fen(s).map(Value::Fen).ok_or(()).or_else(|()| {
            bad(
                "not_amount",
                format!("{}应为金额（元，最多两位小数）", field.label_zh),
                format!("{} must be an amount in yuan with at most two decimals", field.label_en),
            )
        }),
        T::Date => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) if s.len() == 10 => Ok(Value::Date(d)),
            _ => bad(
                "not_date",
                format!("{}应为日期（YYYY-MM-DD）", field.label_zh),
                format!("{} must be a date (YYYY-MM-DD)", field.label_en),
            ),
        },
        T::CreditCode => match CreditCode::parse(s) {
            Ok(c) => Ok(Value::Text(c.as_str().to_string())),
            Err(e) => Err((e.code(), e.message_zh(), e.message_en())),
        },
        T::IndustrySection => match s.as_bytes() {
            [c] if (b'A'..=b'T').contains(c) => Ok(Value::Text(s.to_string())),
            _ => bad(
                "not_industry_section",
                format!("{}应为GB/T 4754-2017门类字母A–T", field.label_zh),
                format!("{} must be a GB/T 4754-2017 section letter A–T", field.label_en),
            ),
        },
        T::IndustryDivision => match s.parse::<u8>() {
            Ok(n) if s.len() == 2 && (1..=97).contains(&n) => Ok(Value::Text(s.to_string())),
            _ => bad(
                "not_industry_division",
                format!("{}应为GB/T 4754-2017两位大类代码01–97", field.label_zh),
                format!("{} must be a two-digit GB/T 4754-2017 division 01–97", field.label_en),
            ),
        },
        T::District => match DISTRICTS.iter().find(|d| **d == s) {
            Some(d) => Ok(Value::Text((*d).to_string())),
            None => bad(
                "not_district",
                format!("{}应为济南市的区县名称（如“历下区”）", field.label_zh),
                format!("{} must be a district or county of Jinan (e.g. 历下区)", field.label_en),
            ),
        },
    }
}

/// Yuan text with at most two decimals as exact integer fen: `12.3` → 1230. No floating point.
pub fn parse_fen(s: &str) -> Option<i64> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || whole.len() > 15 || frac.len() > 2 || (frac.is_empty() && digits.contains('.')) {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut fen: i64 = whole.parse::<i64>().ok()?.checked_mul(100)?;
    let frac_fen = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse::<i64>().ok()?,
    };
    fen = fen.checked_add(frac_fen)?;
    Some(if negative { -fen } else { fen })
}

/// Fen as yuan text with two decimals: 1230 → `12.30`.
pub fn fen_text(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// How a register file's header maps to the register's fields.
#[derive(Clone, Debug)]
pub struct Layout {
    pub register: Register,
    /// Today in China: a birth date after it is refused.
    pub today: NaiveDate,
    /// For each field of each dataset (in `datasets_of` order), the file's column index.
    pub columns: Vec<(&'static Dataset, Vec<(&'static Field, usize)>)>,
}

/// Reads the header row: every column must be a field of the register, each at most once, and
/// every field must be present. Problems are reported on row 0 (the header).
pub fn layout(register: Register, header: &[&str], today: NaiveDate) -> Result<Layout, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for name in header {
        let name = name.trim();
        let known = datasets_of(register).any(|d| d.fields.iter().any(|f| f.name == name));
        if !known {
            problems.push(header_problem(
                name,
                "unknown_column",
                format!("未知的列“{name}”"),
                format!("Unknown column {name}"),
            ));
        } else if !seen.insert(name) {
            problems.push(header_problem(
                name,
                "duplicate_column",
                format!("列“{name}”重复"),
                format!("Column {name} appears twice"),
            ));
        }
    }
    let mut columns = Vec::new();
    for d in datasets_of(register) {
        let mut cols = Vec::new();
        for f in d.fields {
            match header.iter().position(|h| h.trim() == f.name) {
                Some(i) => cols.push((f, i)),
                None if f.name == d.key => {}
                None => problems.push(header_problem(
                    f.name,
                    "missing_column",
                    format!("缺少列“{}”（{}）", f.name, f.label_zh),
                    format!("Column {} ({}) is missing", f.name, f.label_en),
                )),
            }
        }
        columns.push((d, cols));
    }
    let key = datasets_of(register).next().map(|d| d.key).unwrap_or_default();
    if !header.iter().any(|h| h.trim() == key) {
        problems.push(header_problem(
            key,
            "missing_column",
            format!("缺少键列“{key}”"),
            format!("The key column {key} is missing"),
        ));
    }
    if problems.is_empty() { Ok(Layout { register, today, columns }) } else { Err(problems) }
}

fn header_problem(column: &str, code: &'static str, zh: String, en: String) -> Problem {
    Problem { row: 0, column: column.to_string(), code, message_zh: zh, message_en: en }
}

/// One checked row: the key and each dataset's values in its fields' order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedRow {
    pub key: String,
    pub datasets: Vec<Vec<Value>>,
}

/// Checks one data row (`row` counts from 1) against the layout.
pub fn check_row(layout: &Layout, row: u64, cells: &[&str]) -> Result<CheckedRow, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut datasets = Vec::with_capacity(layout.columns.len());
    let mut key = String::new();
    for (d, cols) in &layout.columns {
        let mut values = Vec::with_capacity(cols.len());
        for (f, i) in cols {
            let raw = cells.get(*i).copied().unwrap_or("");
            match parse_value(f, raw) {
                Ok(v) => {
                    if f.name == d.key
                        && let Value::Text(k) = &v
                    {
                        // An ID number's check character X is stored upper-case, as accounts
                        // store it, so that digests of the same number agree.
                        key = if layout.register == Register::People { k.to_uppercase() } else { k.clone() };
                    }
                    values.push(v);
                }
                Err((code, zh, en)) => {
                    // The key is in every dataset: report it once.
                    if !(f.name == d.key && problems.iter().any(|p: &Problem| p.column == f.name)) {
                        problems.push(Problem {
                            row,
                            column: f.name.to_string(),
                            code,
                            message_zh: zh,
                            message_en: en,
                        });
                    }
                    values.push(Value::Null);
                }
            }
        }
        datasets.push(values);
    }
    if layout.register == Register::People
        && problems.is_empty()
        && let Err(e) = crate::identity::domain::IdNumber::parse_as_of(&key, layout.today)
    {
        problems.push(Problem {
            row,
            column: "id_number".into(),
            code: e.code(),
            message_zh: e.message_zh(),
            message_en: e.message_en(),
        });
    }
    if problems.is_empty() { Ok(CheckedRow { key, datasets }) } else { Err(problems) }
}

/// One read through the exchange, as logged.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Access {
    pub id: String,
    pub at: String,
    /// The reading department's code.
    pub department: String,
    /// `user:<id>` for staff, `job:<name>` for the platform's jobs.
    pub actor: String,
    pub actor_name: String,
    pub dataset: String,
    /// The record read (None for a batch read).
    #[serde(skip)]
    pub subject: Option<String>,
    pub fields: Vec<String>,
    pub purpose: String,
    pub case_number: Option<String>,
    pub policy: Option<String>,
    /// The grants the read used (empty for unconditional fields or the owner's own data).
    pub grants: Vec<String>,
    /// For a batch read: which records it covered.
    pub criteria: Option<String>,
    /// How many records the read returned.
    pub records: i64,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 9).unwrap()
    }

    #[test]
    fn enterprise_fields_are_exactly_the_policies_fields() {
        let policies: serde_json::Value =
            serde_json::from_str(include_str!("../../../../reference/policies.json")).unwrap();
        let mut expected: Vec<String> =
            policies["enterprise_fields"].as_object().unwrap().keys().cloned().collect();
        expected.sort();
        let mut ours: Vec<String> = datasets_of(Register::Enterprises)
            .flat_map(|d| d.fields.iter())
            .map(|f| f.name.to_string())
            .collect();
        ours.sort();
        ours.dedup();
        assert_eq!(ours, expected);
        // Enumerations agree too.
        for d in datasets_of(Register::Enterprises) {
            for f in d.fields {
                if let FieldType::Enum(values) = f.kind {
                    let theirs: Vec<&str> = policies["enterprise_fields"][f.name]["enum"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap())
                        .collect();
                    assert_eq!(values, theirs.as_slice(), "{}", f.name);
                }
            }
        }
    }

    #[test]
    fn each_dataset_starts_with_its_key_and_belongs_to_a_known_department() {
        let departments: serde_json::Value =
            serde_json::from_str(include_str!("../../../../reference/departments.json")).unwrap();
        let codes: Vec<&str> =
            departments.as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
        for d in DATASETS {
            assert_eq!(d.fields[0].name, d.key, "{}", d.id);
            assert!(codes.contains(&d.owner), "{} owner {}", d.id, d.owner);
        }
    }

    #[test]
    fn money_is_exact_fen() {
        assert_eq!(parse_fen("12.3"), Some(1230));
        assert_eq!(parse_fen("0.07"), Some(7));
        assert_eq!(parse_fen("1000000"), Some(100_000_000));
        assert_eq!(parse_fen("0.1"), Some(10));
        assert_eq!(parse_fen("-5.5"), Some(-550));
        for bad in ["", "1.234", "1e6", "1,000", ".5", "12.", "abc", "1.2.3", "9999999999999999"] {
            assert_eq!(parse_fen(bad), None, "{bad}");
        }
        assert_eq!(fen_text(1230), "12.30");
        assert_eq!(fen_text(-7), "-0.07");
    }

    #[test]
    fn rows_are_checked_by_column() {
        let header = [
            "uscc",
            "name",
            "district",
            "industry_section",
            "industry_division",
            "founded",
            "size",
            "status",
            "credit_status",
            "revenue_last_year",
            "revenue_prev_year",
            "tax_paid_last_year",
            "rd_expense_last_year",
            "export_revenue_last_year",
            "export_revenue_prev_year",
            "employees",
            "employees_last_year",
            "layoffs_last_year",
            "unemployment_insurance_paid_last_year",
            "new_graduate_hires_last_year",
            "above_scale",
            "srdi_level",
            "srdi_since",
            "tech_investment_last_year",
            "high_tech",
            "first_loan_last_year_yuan",
        ];
        let l = layout(Register::Enterprises, &header, day()).unwrap();
        let good = [
            "91370102MA3C5U8L2J",
            "济南示例科技有限公司",
            "历下区",
            "I",
            "65",
            "2015-06-01",
            "small",
            "active",
            "good",
            "12000000.50",
            "9000000",
            "300000",
            "800000",
            "0",
            "",
            "45",
            "40",
            "2",
            "12000.00",
            "3",
            "false",
            "none",
            "",
            "0",
            "true",
            "0",
        ];
        // The credit code above is made valid by computing its check character.
        let first17 = &good[0][..17];
        let code = format!("{first17}{}", crate::identity::domain::credit_code_check_char(first17).unwrap());
        let mut cells: Vec<&str> = good.to_vec();
        cells[0] = &code;
        let row = check_row(&l, 1, &cells).unwrap();
        assert_eq!(row.key, code);
        // Each dataset's values start with the key.
        assert_eq!(row.datasets[1][0], Value::Text(code.clone()));
        assert_eq!(row.datasets[1][1], Value::Fen(1_200_000_050));
        assert_eq!(row.datasets[1][5], Value::Fen(0));
        assert_eq!(row.datasets[1][6], Value::Null);
        let mut bad = cells.clone();
        bad[0] = "91370102MA3C5U8L20";
        bad[2] = "北京市";
        bad[6] = "huge";
        bad[15] = "-1";
        bad[9] = "1.234";
        let problems = check_row(&l, 7, &bad).unwrap_err();
        let columns: Vec<&str> = problems.iter().map(|p| p.column.as_str()).collect();
        assert_eq!(columns, ["uscc", "district", "size", "revenue_last_year", "employees"]);
        assert!(problems.iter().all(|p| p.row == 7));
        assert_eq!(problems[0].code, "credit_code_check_digit");
    }

    #[test]
    fn a_lower_case_check_character_is_keyed_upper_case() {
        let header = [
            "id_number",
            "name",
            "household_district",
            "birth_date",
            "marital_status",
            "children",
            "disability",
            "minimum_living",
        ];
        let l = layout(Register::People, &header, day()).unwrap();
        // A body whose check character is X.
        let body = (0..1000)
            .map(|n| format!("37010219900307{n:03}"))
            .find(|b| crate::identity::domain::id_number_check_char(b) == Some('X'))
            .unwrap();
        let lower = format!("{body}x");
        let row =
            check_row(&l, 1, &[&lower, "张伟", "历下区", "1990-03-07", "married", "1", "false", "false"]);
        assert_eq!(row.unwrap().key, format!("{body}X"));
    }

    #[test]
    fn headers_name_unknown_missing_and_repeated_columns() {
        let problems = layout(Register::Enterprises, &["uscc", "name", "name", "colour"], day()).unwrap_err();
        let codes: Vec<(&str, &str)> = problems.iter().map(|p| (p.column.as_str(), p.code)).collect();
        assert!(codes.contains(&("name", "duplicate_column")));
        assert!(codes.contains(&("colour", "unknown_column")));
        assert!(codes.contains(&("district", "missing_column")));
        assert!(problems.iter().all(|p| p.row == 0));
    }
}
