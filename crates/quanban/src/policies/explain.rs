//! Why a policy gives an enterprise what it gives: the eligibility rule cut into its clauses
//! (the operands of its top-level `&&`), each with the rule's own text, the same clause in plain
//! Chinese and English, the enterprise's values of the fields it reads, and whether it held.
//! The enterprise page shows the first clause that failed; the benefits API returns them all.

use serde::Serialize;

use super::decimal::Dec;
use super::eval::{Cell, Record, Value, eval};
use super::rules::{ArithOp, CmpOp, Expr, Kind, Lit, enterprise_fields, visit_fields};

/// One clause of an eligibility rule for one enterprise.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Clause {
    /// The clause as the rule writes it.
    pub clause: String,
    pub clause_zh: String,
    pub clause_en: String,
    /// The fields the clause reads with this enterprise's values (money in yuan as a decimal
    /// string, dates as `YYYY-MM-DD`, null when the register has no value).
    #[schema(value_type = Object)]
    pub values: serde_json::Map<String, serde_json::Value>,
    /// Whether the clause held; null when it has no value for this enterprise (a null field
    /// used, a division by zero).
    pub held: Option<bool>,
}

/// The operands of `e`'s top-level `&&` chain, left to right.
pub fn clauses(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        Kind::And(a, b) => {
            let mut out = clauses(a);
            out.extend(clauses(b));
            out
        }
        _ => vec![e],
    }
}

/// The eligibility rule `e` (compiled from `source`) explained for `r`.
pub fn explain(e: &Expr, source: &str, r: &dyn Record) -> Vec<Clause> {
    let parts = clauses(e);
    let mut texts = top_level_conjuncts(source);
    if texts.len() != parts.len() {
        // `(a && b)` or `a && b ? c : d`: the source does not split as the tree does.
        texts = if parts.len() == 1 { vec![source.trim().to_string()] } else { Vec::new() };
    }
    parts
        .iter()
        .enumerate()
        .map(|(n, c)| {
            let held = match eval(c, r) {
                Ok(Value::Bool(b)) => Some(b),
                _ => None,
            };
            Clause {
                clause: texts.get(n).cloned().unwrap_or_else(|| words(c, Lang::En)),
                clause_zh: words(c, Lang::Zh),
                clause_en: words(c, Lang::En),
                values: values_of(c, r),
                held,
            }
        })
        .collect()
}

/// The source split at each `&&` outside parentheses, brackets and string literals, each part
/// trimmed and without parentheses around the whole of it.
fn top_level_conjuncts(source: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0usize);
    let bytes: Vec<(usize, char)> = source.char_indices().collect();
    let mut k = 0;
    while k < bytes.len() {
        let (at, ch) = bytes[k];
        match (quote, ch) {
            (Some(_), '\\') => k += 1,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(ch),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth -= 1,
            (None, '&') if depth == 0 && bytes.get(k + 1).map(|b| b.1) == Some('&') => {
                parts.push(tidy(&source[start..at]));
                start = at + 2;
                k += 1;
            }
            _ => {}
        }
        k += 1;
    }
    parts.push(tidy(&source[start..]));
    parts
}

/// A clause's text without parentheses around the whole of it.
fn tidy(text: &str) -> String {
    let mut t = text.trim();
    while t.starts_with('(') && t.ends_with(')') && encloses(t) {
        t = t[1..t.len() - 1].trim();
    }
    t.to_string()
}

/// Whether the opening parenthesis of `t` closes at its very end.
fn encloses(t: &str) -> bool {
    let mut depth = 0;
    for (i, c) in t.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i == t.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

/// The fields `e` reads with `r`'s values (money in yuan as a decimal string).
pub fn values_of(e: &Expr, r: &dyn Record) -> serde_json::Map<String, serde_json::Value> {
    let fields = enterprise_fields();
    let mut out = serde_json::Map::new();
    visit_fields(e, &mut |k| {
        let value = match r.cell(k) {
            Cell::Null => serde_json::Value::Null,
            Cell::Bool(b) => b.into(),
            Cell::Int(i) => i.into(),
            Cell::Fen(f) => Dec::new(i128::from(f), 2).to_string().into(),
            Cell::Str(s) => s.into(),
            Cell::Date(d) => date_text(d).into(),
        };
        out.insert(fields[k].name.to_string(), value);
    });
    out
}

fn date_text(days: i32) -> String {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    epoch
        .checked_add_signed(chrono::Duration::days(i64::from(days)))
        .map_or_else(String::new, |d| d.format("%Y-%m-%d").to_string())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    Zh,
    En,
}

/// Coded values as people say them.
fn value_name(v: &str, lang: Lang) -> Option<&'static str> {
    const NAMES: &[(&str, &str, &str)] = &[
        ("active", "存续", "active"),
        ("deregistered", "注销", "deregistered"),
        ("revoked", "吊销", "revoked"),
        ("good", "良好", "good"),
        ("watch", "关注", "under watch"),
        ("dishonest", "失信", "dishonest"),
        ("micro", "微型", "micro"),
        ("small", "小型", "small"),
        ("medium", "中型", "medium"),
        ("large", "大型", "large"),
        ("none", "无", "none"),
        ("provincial", "省级", "provincial"),
        ("national", "国家级", "national"),
    ];
    NAMES.iter().find(|(k, ..)| *k == v).map(|(_, zh, en)| if lang == Lang::Zh { *zh } else { *en })
}

fn literal(l: &Lit, lang: Lang, money: bool) -> String {
    match l {
        Lit::Bool(b) => match (lang, b) {
            (Lang::Zh, true) => "是".into(),
            (Lang::Zh, false) => "否".into(),
            (Lang::En, b) => b.to_string(),
        },
        Lit::Int(i) => i.to_string(),
        Lit::Double(d) if money => yuan(*d, lang),
        Lit::Double(d) => d.to_string(),
        Lit::Str(s) => match value_name(s, lang) {
            Some(name) => format!("“{name}”"),
            None => format!("“{s}”"),
        },
        Lit::Date(d) => date_text(*d),
        Lit::Null => "null".into(),
    }
}

/// A sum of money in the way notices write it: 2000万元, 1.5亿元, 0元; CNY 20,000,000.
fn yuan(d: Dec, lang: Lang) -> String {
    let whole = d.truncate().unwrap_or(0);
    let exact = d.compare(Dec::new(i128::from(whole), 0)) == Ok(std::cmp::Ordering::Equal);
    let text = if exact { grouped(whole, lang == Lang::En) } else { d.to_string() };
    if lang == Lang::En {
        return format!("CNY {text}");
    }
    if exact && whole != 0 && whole % 10_000 == 0 {
        let wan = whole / 10_000;
        if wan % 10_000 == 0 {
            return format!("{}亿元", wan / 10_000);
        }
        return format!("{wan}万元");
    }
    format!("{text}元")
}

/// An integer with thousands separators (`with_commas`) or without.
fn grouped(n: i64, with_commas: bool) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::from(if n < 0 { "-" } else { "" });
    for (i, c) in digits.chars().enumerate() {
        if with_commas && i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A field's value as the enterprise page shows it: coded values by name, money in yuan.
pub fn shown_value(field: &str, value: &serde_json::Value, zh: bool) -> String {
    let lang = if zh { Lang::Zh } else { Lang::En };
    let kind = enterprise_fields().iter().find(|f| f.name == field).map(|f| f.kind);
    match value {
        serde_json::Value::Null => if zh { "无数据" } else { "no data" }.to_string(),
        serde_json::Value::Bool(b) => match (zh, b) {
            (true, true) => "是".into(),
            (true, false) => "否".into(),
            (false, b) => if *b { "yes" } else { "no" }.into(),
        },
        serde_json::Value::String(s) if kind == Some(crate::data::domain::FieldType::Yuan) => {
            match Dec::parse(s) {
                Some(d) if zh => format!("{d}元"),
                Some(d) => format!("CNY {d}"),
                None => s.clone(),
            }
        }
        serde_json::Value::String(s) => value_name(s, lang).map_or_else(|| s.clone(), str::to_string),
        other => other.to_string(),
    }
}

/// Whether `e` is money (a money field, or arithmetic over one), for how literals beside it read.
fn is_money(e: &Expr) -> bool {
    match &e.kind {
        Kind::Field(k) => enterprise_fields()[*k].kind == crate::data::domain::FieldType::Yuan,
        Kind::ToDouble(a) | Kind::Neg(a) => is_money(a),
        Kind::Arith(ArithOp::Add | ArithOp::Sub, a, b) => is_money(a) || is_money(b),
        Kind::Cond(_, a, b) => is_money(a) || is_money(b),
        _ => false,
    }
}

fn words(e: &Expr, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let side = |x: &Expr, other: &Expr| match &x.kind {
        Kind::Lit(l) => literal(l, lang, is_money(other)),
        _ => words(x, lang),
    };
    match &e.kind {
        Kind::Field(k) if e.ty == super::rules::Ty::Bool => {
            let f = enterprise_fields()[*k];
            if zh {
                format!("{}为“是”", f.label_zh)
            } else {
                format!("{}: yes", f.label_en.to_lowercase())
            }
        }
        Kind::Field(k) => {
            let f = enterprise_fields()[*k];
            if zh { f.label_zh.to_string() } else { f.label_en.to_lowercase() }
        }
        Kind::Lit(l) => literal(l, lang, false),
        Kind::List(items) => items.iter().map(|l| literal(l, lang, false)).collect::<Vec<_>>().join("、"),
        Kind::Presence { field, present } => {
            let f = enterprise_fields()[*field];
            match (zh, present) {
                (true, true) => format!("有{}", f.label_zh),
                (true, false) => format!("没有{}", f.label_zh),
                (false, true) => format!("{} is recorded", f.label_en.to_lowercase()),
                (false, false) => format!("{} is not recorded", f.label_en.to_lowercase()),
            }
        }
        Kind::Not(a) => match &a.kind {
            Kind::In(x, items) => member(x, items, lang, false),
            _ if zh => format!("并非“{}”", words(a, lang)),
            _ => format!("not ({})", words(a, lang)),
        },
        Kind::Neg(a) => format!("-{}", words(a, lang)),
        Kind::ToDouble(a) | Kind::ToInt(a) => words(a, lang),
        Kind::And(a, b) => {
            if zh {
                format!("{}，且{}", words(a, lang), words(b, lang))
            } else {
                format!("{} and {}", words(a, lang), words(b, lang))
            }
        }
        Kind::Or(a, b) => {
            if zh {
                format!("（{}，或{}）", words(a, lang), words(b, lang))
            } else {
                format!("({} or {})", words(a, lang), words(b, lang))
            }
        }
        Kind::Cond(c, a, b) => {
            if zh {
                format!("若{}则{}，否则{}", words(c, lang), words(a, lang), words(b, lang))
            } else {
                format!("if {} then {} else {}", words(c, lang), words(a, lang), words(b, lang))
            }
        }
        Kind::Cmp(op, a, b) => {
            let verb = match (op, zh) {
                (CmpOp::Eq, true) => "为",
                (CmpOp::Ne, true) => "不为",
                (CmpOp::Lt, true) => "低于",
                (CmpOp::Le, true) => "不超过",
                (CmpOp::Gt, true) => "高于",
                (CmpOp::Ge, true) => "不低于",
                (CmpOp::Eq, false) => "is",
                (CmpOp::Ne, false) => "is not",
                (CmpOp::Lt, false) => "is below",
                (CmpOp::Le, false) => "is at most",
                (CmpOp::Gt, false) => "is above",
                (CmpOp::Ge, false) => "is at least",
            };
            if zh {
                format!("{}{verb}{}", side(a, b), side(b, a))
            } else {
                format!("{} {verb} {}", side(a, b), side(b, a))
            }
        }
        Kind::Arith(op, a, b) => {
            let symbol = match op {
                ArithOp::Add => "+",
                ArithOp::Sub => "−",
                ArithOp::Mul => "×",
                ArithOp::Div => "÷",
                ArithOp::Rem => "mod",
            };
            format!("{} {symbol} {}", side(a, b), side(b, a))
        }
        Kind::In(x, items) => member(x, items, lang, true),
    }
}

fn member(x: &Expr, items: &[Lit], lang: Lang, is_in: bool) -> String {
    let listed: Vec<String> = items.iter().map(|l| literal(l, lang, is_money(x))).collect();
    match (lang, is_in) {
        (Lang::Zh, true) => format!("{}为{}之一", words(x, lang), listed.join("、")),
        (Lang::Zh, false) => format!("{}不为{}", words(x, lang), listed.join("、")),
        (Lang::En, true) => format!("{} is one of {}", words(x, lang), listed.join(", ")),
        (Lang::En, false) => format!("{} is none of {}", words(x, lang), listed.join(", ")),
    }
}

/// Each clause of a rule in plain words (Chinese, English), for the policy's public page.
pub fn describe(e: &Expr) -> Vec<(String, String)> {
    clauses(e).into_iter().map(|c| (words(c, Lang::Zh), words(c, Lang::En))).collect()
}

/// The first clause that did not hold (or had no value), for "not eligible because…".
pub fn failing(clauses: &[Clause]) -> Option<&Clause> {
    clauses.iter().find(|c| c.held != Some(true))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::policies::rules::{Want, compile};

    struct One(Vec<(&'static str, Cell<'static>)>);

    impl Record for One {
        fn cell(&self, field: usize) -> Cell<'_> {
            let name = enterprise_fields()[field].name;
            self.0.iter().find(|(n, _)| *n == name).map_or(Cell::Null, |(_, c)| *c)
        }
    }

    const RULE: &str = "status == 'active' && credit_status != 'dishonest' && above_scale && \
        industry_section in ['B', 'C', 'D'] && double(revenue_prev_year) < 20000000.0 && \
        (double(revenue_last_year) >= 20000000.0 || srdi_since != null)";

    #[test]
    fn each_clause_has_its_text_values_and_whether_it_held() {
        let e = compile(RULE, Want::Bool).unwrap();
        let r = One(vec![
            ("status", Cell::Str("active")),
            ("credit_status", Cell::Str("good")),
            ("above_scale", Cell::Bool(true)),
            ("industry_section", Cell::Str("F")),
            ("revenue_prev_year", Cell::Fen(1_500_000_000)),
            ("revenue_last_year", Cell::Fen(2_100_000_000)),
        ]);
        let c = explain(&e, RULE, &r);
        let texts: Vec<&str> = c.iter().map(|c| c.clause.as_str()).collect();
        assert_eq!(
            texts,
            [
                "status == 'active'",
                "credit_status != 'dishonest'",
                "above_scale",
                "industry_section in ['B', 'C', 'D']",
                "double(revenue_prev_year) < 20000000.0",
                "double(revenue_last_year) >= 20000000.0 || srdi_since != null",
            ]
        );
        let held: Vec<Option<bool>> = c.iter().map(|c| c.held).collect();
        assert_eq!(held, [Some(true), Some(true), Some(true), Some(false), Some(true), Some(true)]);
        assert_eq!(c[0].clause_zh, "登记状态为“存续”");
        let label = |name: &str| enterprise_fields().iter().find(|f| f.name == name).unwrap().label_zh;
        assert_eq!(c[4].clause_zh, format!("{}低于2000万元", label("revenue_prev_year")));
        assert_eq!(c[4].values["revenue_prev_year"], "15000000.00");
        assert_eq!(c[5].values["srdi_since"], serde_json::Value::Null);
        let first = failing(&c).unwrap();
        assert_eq!(first.clause_zh, format!("{}为“B”、“C”、“D”之一", label("industry_section")));
    }

    #[test]
    fn a_clause_without_a_value_says_so() {
        let rule = "status == 'active' && double(rd_expense_last_year) > 0.0";
        let e = compile(rule, Want::Bool).unwrap();
        let c = explain(&e, rule, &One(vec![("status", Cell::Str("active"))]));
        assert_eq!(c[1].held, None);
        assert_eq!(c[1].values["rd_expense_last_year"], serde_json::Value::Null);
        assert_eq!(failing(&c).unwrap().clause, "double(rd_expense_last_year) > 0.0");
    }

    #[test]
    fn the_source_splits_at_top_level_ands_only() {
        assert_eq!(
            top_level_conjuncts("a > 1 && (b || c && d) && x in ['&&', 'y'] && (e)"),
            ["a > 1", "b || c && d", "x in ['&&', 'y']", "e"]
        );
        assert_eq!(tidy("(a) || (b)"), "(a) || (b)");
        // A rule the tree does not cut where the source does keeps its whole text.
        let rule = "status == 'active' && above_scale ? true : false";
        let e = compile(rule, Want::Bool).unwrap();
        let c = explain(&e, rule, &One(vec![]));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].clause, rule);
    }

    #[test]
    fn money_reads_in_wan_and_yi() {
        assert_eq!(yuan(Dec::new(20_000_000, 0), Lang::Zh), "2000万元");
        assert_eq!(yuan(Dec::new(300_000_000, 0), Lang::Zh), "3亿元");
        assert_eq!(yuan(Dec::new(1505, 1), Lang::Zh), "150.5元");
        assert_eq!(yuan(Dec::new(0, 1), Lang::Zh), "0元");
        assert_eq!(yuan(Dec::new(20_000_000, 0), Lang::En), "CNY 20,000,000");
        assert_eq!(shown_value("size", &"micro".into(), true), "微型");
        assert_eq!(shown_value("revenue_last_year", &"12345.67".into(), true), "12345.67元");
        assert_eq!(shown_value("high_tech", &false.into(), false), "no");
    }
}
