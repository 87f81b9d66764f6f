//! A policy's rules: CEL over the enterprise fields, parsed by the `cel` crate's parser and
//! type-checked here against the fields' types, into a typed tree both evaluators run.
//!
//! The profile is the portable core the conventions name (`reference/policies.json`,
//! `cel_conventions`): `&& || !`, comparisons, `in` a list, `?:`, arithmetic, `double()` and
//! `int()`. Money fields are `double` (held exactly: [`super::decimal`]), counts are `int`, and
//! int and double never mix (wrap the int in `double()`), as cel-python requires. Dates are
//! `YYYY-MM-DD` strings compared with date literals. A field may be null: `x != null` tests it,
//! and any other use of a null value is an error for that enterprise only.

use super::decimal::Dec;
use crate::data::domain::{Field, FieldType, Register, datasets_of};

/// A value's static type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Bool,
    Int,
    Double,
    Str,
    /// A date field (`YYYY-MM-DD`); compared with date literals.
    Date,
    Null,
    List,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Bool => "bool",
            Ty::Int => "int",
            Ty::Double => "double",
            Ty::Str => "string",
            Ty::Date => "date string",
            Ty::Null => "null",
            Ty::List => "list",
        }
    }
}

/// The rules' type of a register field.
pub fn field_ty(f: &Field) -> Ty {
    match f.kind {
        FieldType::Bool => Ty::Bool,
        FieldType::Int => Ty::Int,
        FieldType::Yuan => Ty::Double,
        FieldType::Date => Ty::Date,
        FieldType::Text
        | FieldType::Enum(_)
        | FieldType::CreditCode
        | FieldType::IndustrySection
        | FieldType::IndustryDivision
        | FieldType::District => Ty::Str,
    }
}

/// The enterprise register's fields, the variables of every rule.
pub fn enterprise_fields() -> Vec<&'static Field> {
    let mut fields: Vec<&'static Field> = Vec::new();
    for d in datasets_of(Register::Enterprises) {
        for f in d.fields {
            if !fields.iter().any(|g| g.name == f.name) {
                fields.push(f);
            }
        }
    }
    fields
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn holds(self, o: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => o == Equal,
            CmpOp::Ne => o != Equal,
            CmpOp::Lt => o == Less,
            CmpOp::Le => o != Greater,
            CmpOp::Gt => o == Greater,
            CmpOp::Ge => o != Less,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// A literal.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Bool(bool),
    Int(i64),
    Double(Dec),
    Str(String),
    /// A date literal compared with a date field: days since 1970-01-01.
    Date(i32),
    Null,
}

/// A typed rule expression. `at` is the 1-based character position of its first token.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub ty: Ty,
    pub at: usize,
    pub kind: Kind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// The `n`-th of [`enterprise_fields`].
    Field(usize),
    Lit(Lit),
    /// `field == null` (`present` false) or `field != null` (`present` true).
    Presence {
        field: usize,
        present: bool,
    },
    Not(Box<Expr>),
    Neg(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    ToDouble(Box<Expr>),
    ToInt(Box<Expr>),
    /// `x in [literals]`.
    In(Box<Expr>, Vec<Lit>),
    /// A list literal (only as the right side of `in`).
    List(Vec<Lit>),
}

/// Calls `f` with the index of every field `e` reads.
pub fn visit_fields(e: &Expr, f: &mut impl FnMut(usize)) {
    match &e.kind {
        Kind::Field(n) | Kind::Presence { field: n, .. } => f(*n),
        Kind::Lit(_) | Kind::List(_) => {}
        Kind::Not(a) | Kind::Neg(a) | Kind::ToDouble(a) | Kind::ToInt(a) | Kind::In(a, _) => {
            visit_fields(a, f)
        }
        Kind::And(a, b) | Kind::Or(a, b) | Kind::Cmp(_, a, b) | Kind::Arith(_, a, b) => {
            visit_fields(a, f);
            visit_fields(b, f);
        }
        Kind::Cond(c, a, b) => {
            visit_fields(c, f);
            visit_fields(a, f);
            visit_fields(b, f);
        }
    }
}

/// A rule that cannot be used: where, and why (Chinese and English).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// 1-based character position in the rule.
    pub position: usize,
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

/// What a rule must give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Eligibility: a bool.
    Bool,
    /// An amount in yuan: a double (or an int).
    Amount,
}

/// Parses and type-checks `source` against the enterprise fields.
pub fn compile(source: &str, want: Want) -> Result<Expr, RuleError> {
    let ast = cel::parser::Parser::new().parse(source).map_err(|e| {
        let first = e.errors.first();
        let position = first.map_or(1, |p| usize::try_from(p.pos.1).unwrap_or(0) + 1);
        let msg = first.map_or_else(|| e.to_string(), |p| p.msg.clone());
        RuleError {
            position,
            code: "rule_syntax",
            message_zh: format!("规则第{position}个字符处有语法错误：{msg}"),
            message_en: format!("Syntax error at character {position}: {msg}"),
        }
    })?;
    let leaves = leaves(source);
    let fields = enterprise_fields();
    let mut checker = Checker { fields: &fields, leaves: &leaves, next_leaf: 0 };
    let expr = checker.check(&ast)?;
    match (want, expr.ty) {
        (Want::Bool, Ty::Bool) | (Want::Amount, Ty::Double | Ty::Int) => Ok(expr),
        (Want::Bool, other) => Err(error(
            expr.at,
            "rule_not_bool",
            format!("资格条件的结果须为布尔值（真/假），此处为{}", other.name()),
            format!("An eligibility rule must give a bool, this gives {}", other.name()),
        )),
        (Want::Amount, other) => Err(error(
            expr.at,
            "rule_not_amount",
            format!("金额规则的结果须为数值（元），此处为{}", other.name()),
            format!("An amount rule must give a number of yuan, this gives {}", other.name()),
        )),
    }
}

fn error(position: usize, code: &'static str, zh: String, en: String) -> RuleError {
    RuleError { position, code, message_zh: zh, message_en: en }
}

/// A leaf token of the source (an identifier that is not a function name, or a literal), with
/// its 1-based character position and text. The parser's tree lists its leaves in the same
/// order, so the n-th leaf of the tree is at the n-th position here.
#[derive(Debug)]
struct Leaf {
    at: usize,
    text: String,
}

fn leaves(source: &str) -> Vec<Leaf> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(Leaf { at: start + 1, text: chars[start..i.min(chars.len())].iter().collect() });
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric()
                    || chars[i] == '.'
                    || ((chars[i] == '-' || chars[i] == '+') && matches!(chars[i - 1], 'e' | 'E')))
            {
                i += 1;
            }
            out.push(Leaf { at: start + 1, text: chars[start..i].iter().collect() });
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut next = i;
            while next < chars.len() && chars[next].is_whitespace() {
                next += 1;
            }
            let called = chars.get(next) == Some(&'(');
            if word != "in" && !called {
                out.push(Leaf { at: start + 1, text: word });
            }
        } else {
            i += 1;
        }
    }
    out
}

struct Checker<'a> {
    fields: &'a [&'static Field],
    leaves: &'a [Leaf],
    next_leaf: usize,
}

use cel::common::ast::{Expr as Ast, LiteralValue};

impl Checker<'_> {
    /// The next leaf's position and text (in tree order).
    fn leaf(&mut self) -> (usize, Option<&str>) {
        let leaf = self.leaves.get(self.next_leaf);
        self.next_leaf += 1;
        (leaf.map_or(1, |l| l.at), leaf.map(|l| l.text.as_str()))
    }

    fn check(&mut self, e: &cel::IdedExpr) -> Result<Expr, RuleError> {
        match &e.expr {
            Ast::Ident(name) => {
                let (at, _) = self.leaf();
                let Some(n) = self.fields.iter().position(|f| f.name == name) else {
                    return Err(error(
                        at,
                        "rule_unknown_field",
                        format!("“{name}”不是企业库的字段"),
                        format!("{name} is not a field of the enterprise register"),
                    ));
                };
                Ok(Expr { ty: field_ty(self.fields[n]), at, kind: Kind::Field(n) })
            }
            Ast::Literal(lit) => {
                let (at, text) = self.leaf();
                let text = text.unwrap_or_default().to_string();
                let (ty, lit) = match lit {
                    LiteralValue::Boolean(b) => (Ty::Bool, Lit::Bool(bool::from(*b))),
                    LiteralValue::Int(i) => (Ty::Int, Lit::Int(i64::from(*i))),
                    LiteralValue::UInt(u) => {
                        let v = i64::try_from(u64::from(*u)).map_err(|_| unsupported(at, "uint"))?;
                        (Ty::Int, Lit::Int(v))
                    }
                    LiteralValue::Double(d) => {
                        let value = f64::from(*d);
                        let mut exact = Dec::parse(text.trim_end_matches(['f', 'F'])).ok_or_else(|| {
                            error(
                                at,
                                "rule_number",
                                format!("无法精确读取数值“{text}”"),
                                format!("The number {text} cannot be read exactly"),
                            )
                        })?;
                        if value < 0.0 {
                            exact = exact.checked_neg().map_err(|_| unsupported(at, "number"))?;
                        }
                        (Ty::Double, Lit::Double(exact))
                    }
                    LiteralValue::String(s) => (Ty::Str, Lit::Str(s.inner().to_string())),
                    LiteralValue::Null => (Ty::Null, Lit::Null),
                    LiteralValue::Bytes(_) => return Err(unsupported(at, "bytes")),
                };
                Ok(Expr { ty, at, kind: Kind::Lit(lit) })
            }
            Ast::List(list) => {
                let mut items = Vec::new();
                let mut at = 0;
                let mut ty = None;
                for item in &list.elements {
                    let checked = self.check(item)?;
                    if at == 0 {
                        at = checked.at;
                    }
                    let Kind::Lit(lit) = checked.kind else {
                        return Err(error(
                            checked.at,
                            "rule_list",
                            "列表中只能写常量".into(),
                            "A list may hold only literals".into(),
                        ));
                    };
                    if ty.is_some_and(|t| t != checked.ty) {
                        return Err(error(
                            checked.at,
                            "rule_list",
                            "列表中的值类型须一致".into(),
                            "A list's values must all have one type".into(),
                        ));
                    }
                    ty = Some(checked.ty);
                    items.push(lit);
                }
                Ok(Expr { ty: Ty::List, at: at.max(1), kind: Kind::List(items) })
            }
            Ast::Call(call) if call.target.is_none() => self.call(&call.func_name, &call.args),
            _ => {
                let (at, _) = self.leaf();
                Err(unsupported(at, "this expression"))
            }
        }
    }

    fn call(&mut self, name: &str, args: &[cel::IdedExpr]) -> Result<Expr, RuleError> {
        use cel::common::ast::operators as op;
        let mut checked = Vec::with_capacity(args.len());
        for a in args {
            checked.push(self.check(a)?);
        }
        let at = checked.first().map_or(1, |e| e.at);
        let mut it = checked.into_iter();
        let mut next = || it.next().ok_or_else(|| unsupported(at, name));
        let boxed = Box::new;
        match name {
            op::LOGICAL_AND | op::LOGICAL_OR => {
                let (a, b) = (next()?, next()?);
                expect(&a, Ty::Bool)?;
                expect(&b, Ty::Bool)?;
                let kind = if name == op::LOGICAL_AND {
                    Kind::And(boxed(a), boxed(b))
                } else {
                    Kind::Or(boxed(a), boxed(b))
                };
                Ok(Expr { ty: Ty::Bool, at, kind })
            }
            op::LOGICAL_NOT => {
                let a = next()?;
                expect(&a, Ty::Bool)?;
                Ok(Expr { ty: Ty::Bool, at, kind: Kind::Not(boxed(a)) })
            }
            op::NEGATE => {
                let a = next()?;
                numeric(&a)?;
                Ok(Expr { ty: a.ty, at, kind: Kind::Neg(boxed(a)) })
            }
            op::CONDITIONAL => {
                let (c, a, b) = (next()?, next()?, next()?);
                expect(&c, Ty::Bool)?;
                same(&a, &b)?;
                Ok(Expr { ty: a.ty, at, kind: Kind::Cond(boxed(c), boxed(a), boxed(b)) })
            }
            op::ADD | op::SUBSTRACT | op::MULTIPLY | op::DIVIDE | op::MODULO => {
                let (a, b) = (next()?, next()?);
                numeric(&a)?;
                same(&a, &b)?;
                let arith = match name {
                    op::ADD => ArithOp::Add,
                    op::SUBSTRACT => ArithOp::Sub,
                    op::MULTIPLY => ArithOp::Mul,
                    op::DIVIDE => ArithOp::Div,
                    _ => ArithOp::Rem,
                };
                if arith == ArithOp::Rem && a.ty != Ty::Int {
                    return Err(mismatch(&a, "%", "int"));
                }
                Ok(Expr { ty: a.ty, at, kind: Kind::Arith(arith, boxed(a), boxed(b)) })
            }
            op::EQUALS | op::NOT_EQUALS | op::LESS | op::LESS_EQUALS | op::GREATER | op::GREATER_EQUALS => {
                let cmp = match name {
                    op::EQUALS => CmpOp::Eq,
                    op::NOT_EQUALS => CmpOp::Ne,
                    op::LESS => CmpOp::Lt,
                    op::LESS_EQUALS => CmpOp::Le,
                    op::GREATER => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                let (a, b) = (next()?, next()?);
                compare(cmp, a, b)
            }
            op::IN => {
                let (a, list) = (next()?, next()?);
                let Kind::List(items) = list.kind else {
                    return Err(error(
                        list.at,
                        "rule_in",
                        "in 的右边须为常量列表".into(),
                        "The right side of in must be a list of literals".into(),
                    ));
                };
                let items =
                    items.into_iter().map(|l| literal_as(&a, l, list.at)).collect::<Result<_, _>>()?;
                Ok(Expr { ty: Ty::Bool, at, kind: Kind::In(boxed(a), items) })
            }
            "double" => {
                let a = next()?;
                numeric(&a)?;
                Ok(Expr { ty: Ty::Double, at, kind: Kind::ToDouble(boxed(a)) })
            }
            "int" => {
                let a = next()?;
                numeric(&a)?;
                Ok(Expr { ty: Ty::Int, at, kind: Kind::ToInt(boxed(a)) })
            }
            other => Err(error(
                at,
                "rule_function",
                format!("规则中不能使用函数“{other}”（可用 double()、int()）"),
                format!("The function {other} is not available in rules (double() and int() are)"),
            )),
        }
    }
}

fn unsupported(at: usize, what: &str) -> RuleError {
    error(
        at,
        "rule_unsupported",
        format!("规则中不能使用{what}（仅支持CEL可移植核心）"),
        format!("{what} is not supported in rules (the portable CEL core only)"),
    )
}

fn mismatch(e: &Expr, operator: &str, wanted: &str) -> RuleError {
    error(
        e.at,
        "rule_type",
        format!("{operator} 需要{wanted}，此处为{}", e.ty.name()),
        format!("{operator} needs {wanted}, this is {}", e.ty.name()),
    )
}

fn expect(e: &Expr, ty: Ty) -> Result<(), RuleError> {
    if e.ty == ty { Ok(()) } else { Err(mismatch(e, "this operator", ty.name())) }
}

fn numeric(e: &Expr) -> Result<(), RuleError> {
    if matches!(e.ty, Ty::Int | Ty::Double) { Ok(()) } else { Err(mismatch(e, "arithmetic", "a number")) }
}

fn same(a: &Expr, b: &Expr) -> Result<(), RuleError> {
    if a.ty == b.ty {
        return Ok(());
    }
    let hint_zh = if matches!((a.ty, b.ty), (Ty::Int, Ty::Double) | (Ty::Double, Ty::Int)) {
        "（int 与 double 不能混用，请用 double() 包裹整数）"
    } else {
        ""
    };
    let hint_en =
        if hint_zh.is_empty() { "" } else { " (int and double do not mix: wrap the int in double())" };
    Err(error(
        b.at,
        "rule_type",
        format!("两边类型不一致：{} 与 {}{hint_zh}", a.ty.name(), b.ty.name()),
        format!("The two sides differ in type: {} and {}{hint_en}", a.ty.name(), b.ty.name()),
    ))
}

/// A literal compared with (or listed for) `e`: date strings become days for a date field.
fn literal_as(e: &Expr, lit: Lit, at: usize) -> Result<Lit, RuleError> {
    match (e.ty, lit) {
        (Ty::Date, Lit::Str(s)) => chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .ok()
            .filter(|d| d.format("%Y-%m-%d").to_string() == s)
            .map(|d| Lit::Date(days(d)))
            .ok_or_else(|| {
                error(
                    at,
                    "rule_date",
                    format!("日期字段只能与 YYYY-MM-DD 日期比较，“{s}”不是日期"),
                    format!("A date field compares with YYYY-MM-DD dates; {s} is not one"),
                )
            }),
        (Ty::Int, lit @ Lit::Int(_))
        | (Ty::Double, lit @ Lit::Double(_))
        | (Ty::Str, lit @ Lit::Str(_))
        | (Ty::Bool, lit @ Lit::Bool(_)) => Ok(lit),
        (ty, lit) => Err(error(
            at,
            "rule_type",
            format!("{} 不能与 {:?} 比较", ty.name(), lit),
            format!("A {} cannot be compared with {:?}", ty.name(), lit),
        )),
    }
}

pub fn days(d: chrono::NaiveDate) -> i32 {
    (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

fn compare(cmp: CmpOp, a: Expr, b: Expr) -> Result<Expr, RuleError> {
    let at = a.at;
    // field == null / field != null: a presence test.
    if matches!(cmp, CmpOp::Eq | CmpOp::Ne) {
        for (x, y) in [(&a, &b), (&b, &a)] {
            if y.ty == Ty::Null {
                let Kind::Field(field) = x.kind else {
                    return Err(error(
                        x.at,
                        "rule_null",
                        "只有字段可以与 null 比较".into(),
                        "Only a field can be compared with null".into(),
                    ));
                };
                return Ok(Expr {
                    ty: Ty::Bool,
                    at,
                    kind: Kind::Presence { field, present: cmp == CmpOp::Ne },
                });
            }
        }
    }
    let (a, b) = match (&a.kind, &b.kind) {
        (_, Kind::Lit(l)) if a.ty == Ty::Date => {
            let lit = literal_as(&a, l.clone(), b.at)?;
            let b = Expr { ty: Ty::Date, at: b.at, kind: Kind::Lit(lit) };
            (a, b)
        }
        (Kind::Lit(l), _) if b.ty == Ty::Date => {
            let lit = literal_as(&b, l.clone(), a.at)?;
            let a = Expr { ty: Ty::Date, at: a.at, kind: Kind::Lit(lit) };
            (a, b)
        }
        _ => (a, b),
    };
    same(&a, &b)?;
    if matches!(a.ty, Ty::Null | Ty::List) || (a.ty == Ty::Bool && !matches!(cmp, CmpOp::Eq | CmpOp::Ne)) {
        return Err(mismatch(&a, cmp.symbol(), "numbers, strings or dates"));
    }
    Ok(Expr { ty: Ty::Bool, at, kind: Kind::Cmp(cmp, Box::new(a), Box::new(b)) })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_policy_compiles() {
        let policies: serde_json::Value =
            serde_json::from_str(include_str!("../../../../reference/policies.json")).unwrap();
        for p in policies["policies"].as_array().unwrap() {
            let code = p["code"].as_str().unwrap();
            compile(p["eligibility"].as_str().unwrap(), Want::Bool)
                .unwrap_or_else(|e| panic!("{code}: {e:?}"));
            compile(p["amount"].as_str().unwrap(), Want::Amount).unwrap_or_else(|e| panic!("{code}: {e:?}"));
        }
    }

    fn refused(source: &str, want: Want) -> (usize, &'static str) {
        let e = compile(source, want).unwrap_err();
        assert!(!e.message_zh.is_empty() && !e.message_en.is_empty());
        (e.position, e.code)
    }

    #[test]
    fn bad_rules_are_refused_at_their_position() {
        assert_eq!(refused("status == 'active' && colour == 'red'", Want::Bool), (23, "rule_unknown_field"));
        assert_eq!(refused("employees > 0.5", Want::Bool), (13, "rule_type"));
        assert_eq!(refused("double(revenue_last_year) > 100", Want::Bool), (29, "rule_type"));
        assert_eq!(refused("double(revenue_last_year) * 0.1", Want::Bool), (8, "rule_not_bool"));
        assert_eq!(refused("size == 'micro' ? 1.0 : 'x'", Want::Amount), (25, "rule_type"));
        assert_eq!(refused("founded >= '2026-13-01'", Want::Bool), (12, "rule_date"));
        assert_eq!(refused("size.startsWith('m')", Want::Bool).1, "rule_unsupported");
        assert_eq!(refused("status == ", Want::Bool).1, "rule_syntax");
        assert_eq!(refused("matches(name, 'x')", Want::Bool).1, "rule_function");
    }

    #[test]
    fn dates_and_nulls_type_as_the_conventions_say() {
        let e = compile("srdi_since != null && srdi_since >= '2025-01-01'", Want::Bool).unwrap();
        let Kind::And(presence, cmp) = e.kind else { panic!() };
        assert!(matches!(presence.kind, Kind::Presence { present: true, .. }));
        let Kind::Cmp(CmpOp::Ge, _, lit) = cmp.kind else { panic!() };
        assert_eq!(
            lit.kind,
            Kind::Lit(Lit::Date(days(chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap())))
        );
        let e = compile("double(x_not) > 1.0", Want::Bool);
        assert!(e.is_err());
        let e = compile("1.10 * 3.0", Want::Amount).unwrap();
        let Kind::Arith(ArithOp::Mul, a, _) = e.kind else { panic!() };
        assert_eq!(a.kind, Kind::Lit(Lit::Double(Dec::new(110, 2))));
    }
}
