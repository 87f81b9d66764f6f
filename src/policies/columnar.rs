//! The column-wise evaluator: a rule runs over the whole register at once, one pass of a tight
//! loop per node over the register's columns in memory ([`crate::data::store::Columns`]), not a
//! tree walk per enterprise. Coded strings (size, status, industry…) are compared through their
//! dictionary: a comparison with a literal is decided once per dictionary entry and then looked
//! up by code. Results agree with the reference evaluator ([`super::eval`]) record for record
//! (a property test holds them together).

use std::cmp::Ordering;

use super::decimal::Dec;
use super::eval::{Cell, Fault, Outcome, Record, Value, amount_fen, dec_arith, int_arith};
use super::rules::{ArithOp, CmpOp, Expr, Kind, Lit, enterprise_fields, visit_fields};
use crate::data::domain::{Field, FieldType};
use crate::data::store::{Column, Columns};

/// The register in memory as the rules see it: each enterprise field's column, if loaded.
pub struct Register<'a> {
    len: usize,
    fields: Vec<&'static Field>,
    columns: Vec<Option<&'a Column>>,
}

impl<'a> Register<'a> {
    /// `columns` by field name; every column holds `len` records.
    pub fn new(len: usize, columns: impl IntoIterator<Item = (&'a str, &'a Column)>) -> Register<'a> {
        let fields = enterprise_fields();
        let mut by_field = vec![None; fields.len()];
        for (name, c) in columns {
            if let Some(n) = fields.iter().position(|f| f.name == name) {
                by_field[n] = Some(c);
            }
        }
        Register { len, fields, columns: by_field }
    }

    pub fn from_columns(c: &'a Columns) -> Register<'a> {
        Register::new(c.keys.len(), c.columns.iter().map(|(_, f, col)| (*f, col)))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Enterprise `i` as a [`Record`] (for the reference evaluator and explanations).
    pub fn record(&self, i: usize) -> At<'_, 'a> {
        At { register: self, i }
    }

    /// The fields a rule uses that are not loaded.
    pub fn missing(&self, e: &Expr) -> Vec<&'static str> {
        let mut out = Vec::new();
        visit_fields(e, &mut |n| {
            if self.columns[n].is_none() && !out.contains(&self.fields[n].name) {
                out.push(self.fields[n].name);
            }
        });
        out
    }
}

/// One enterprise of a [`Register`].
pub struct At<'r, 'a> {
    register: &'r Register<'a>,
    i: usize,
}

impl Record for At<'_, '_> {
    fn cell(&self, field: usize) -> Cell<'_> {
        let Some(column) = self.register.columns[field] else { return Cell::Null };
        let kind = self.register.fields[field].kind;
        match column {
            Column::Money { .. } => column.number(self.i).map_or(Cell::Null, Cell::Fen),
            Column::Int { .. } => match column.number(self.i) {
                None => Cell::Null,
                Some(v) if kind == FieldType::Bool => Cell::Bool(v != 0),
                Some(v) if kind == FieldType::Date => Cell::Date(v as i32),
                Some(v) => Cell::Int(v),
            },
            Column::Code { .. } | Column::Text(_) => column.text(self.i).map_or(Cell::Null, Cell::Str),
        }
    }
}

const FALSE: u8 = 0;
const TRUE: u8 = 1;

/// A truth value carrying a fault: 2 + the fault's code.
fn faulty(code: u8) -> u8 {
    2 + code
}

/// A node's values for every record. `f[i]` is 0 or the code of record i's fault.
enum Vector<'a> {
    /// 0 false, 1 true, 2 + code for a fault.
    Truth(Vec<u8>),
    Int {
        v: Vec<i64>,
        f: Vec<u8>,
    },
    Dec {
        v: Vec<i128>,
        scale: u8,
        f: Vec<u8>,
    },
    Date {
        v: Vec<i32>,
        f: Vec<u8>,
    },
    /// A coded column as loaded (null is [`Column::NULL_CODE`]).
    Code {
        codes: &'a [u16],
        dictionary: &'a [String],
    },
    Str {
        v: Vec<&'a str>,
        f: Vec<u8>,
    },
    /// A literal string, kept whole so that comparisons with a coded column go by dictionary.
    ConstStr(&'a str),
}

/// Evaluates a policy over the whole register: each record's outcome.
pub fn evaluate(eligibility: &Expr, amount: &Expr, cap_fen: Option<i64>, r: &Register<'_>) -> Vec<Outcome> {
    let Vector::Truth(eligible) = eval(eligibility, r) else {
        return vec![Outcome::Fault(Fault::Overflow); r.len];
    };
    let amounts = eval(amount, r);
    let value_at = |i: usize| -> Result<Value, Fault> {
        match &amounts {
            Vector::Dec { v, scale, f } => fault(f[i]).map(|()| Value::Double(Dec::new(v[i], *scale))),
            Vector::Int { v, f } => fault(f[i]).map(|()| Value::Int(v[i])),
            _ => Err(Fault::Overflow),
        }
    };
    eligible
        .iter()
        .enumerate()
        .map(|(i, &e)| match e {
            FALSE => Outcome::NotEligible,
            TRUE => match value_at(i).and_then(|a| amount_fen(a, cap_fen)) {
                Ok(fen) => Outcome::Eligible { fen },
                Err(f) => Outcome::Fault(f),
            },
            code => Outcome::Fault(fault_of(code - 2)),
        })
        .collect()
}

fn fault(code: u8) -> Result<(), Fault> {
    if code == 0 { Ok(()) } else { Err(fault_of(code)) }
}

fn fault_of(code: u8) -> Fault {
    match code {
        1 => Fault::Null(usize::MAX),
        2 => Fault::DivisionByZero,
        4 => Fault::NegativeAmount,
        _ => Fault::Overflow,
    }
}

fn eval<'a>(e: &'a Expr, r: &Register<'a>) -> Vector<'a> {
    let n = r.len;
    match &e.kind {
        Kind::Field(k) => field(*k, r),
        Kind::Lit(l) => constant(l, n),
        Kind::List(_) => Vector::Truth(vec![FALSE; n]),
        Kind::Presence { field, present } => {
            Vector::Truth(presence(*field, r).into_iter().map(|has| u8::from(has == *present)).collect())
        }
        Kind::Not(a) => {
            let mut t = truth(eval(a, r));
            for x in &mut t {
                if *x <= TRUE {
                    *x ^= 1;
                }
            }
            Vector::Truth(t)
        }
        Kind::And(a, b) | Kind::Or(a, b) => {
            let and = matches!(e.kind, Kind::And(..));
            let (mut x, y) = (truth(eval(a, r)), truth(eval(b, r)));
            // CEL: a false side decides && (a true side ||) even when the other has a fault.
            let decisive = if and { FALSE } else { TRUE };
            for (a, &b) in x.iter_mut().zip(&y) {
                *a = if *a == decisive || b == decisive {
                    decisive
                } else if *a > TRUE {
                    *a
                } else if b > TRUE {
                    b
                } else {
                    1 - decisive
                };
            }
            Vector::Truth(x)
        }
        Kind::Cond(c, a, b) => {
            let c = truth(eval(c, r));
            select(&c, eval(a, r), eval(b, r), n)
        }
        Kind::Cmp(op @ (CmpOp::Eq | CmpOp::Ne), a, b) => {
            let (x, y) = (eval(a, r), eval(b, r));
            let (fx, fy) = (faults(&x, n), faults(&y, n));
            let t = truth(compare(*op, x, y, n));
            Vector::Truth(null_equality(*op, t, [(null_fields(a, r), fx), (null_fields(b, r), fy)]))
        }
        Kind::Cmp(op, a, b) => compare(*op, eval(a, r), eval(b, r), n),
        Kind::Arith(op, a, b) => arith(*op, eval(a, r), eval(b, r), n),
        Kind::Neg(a) => match eval(a, r) {
            Vector::Int { v, mut f } => {
                let v = v.iter().zip(&mut f).map(|(x, f)| checked(x.checked_neg(), f)).collect();
                Vector::Int { v, f }
            }
            Vector::Dec { v, scale, mut f } => {
                let v = v.iter().zip(&mut f).map(|(x, f)| checked(x.checked_neg(), f)).collect();
                Vector::Dec { v, scale, f }
            }
            other => other,
        },
        Kind::ToDouble(a) => match eval(a, r) {
            Vector::Int { v, f } => Vector::Dec { v: v.into_iter().map(i128::from).collect(), scale: 0, f },
            other => other,
        },
        Kind::ToInt(a) => match eval(a, r) {
            Vector::Dec { v, scale, mut f } => {
                let v = v
                    .iter()
                    .zip(&mut f)
                    .map(|(x, f)| {
                        if *f != 0 {
                            return 0;
                        }
                        Dec::new(*x, scale).truncate().unwrap_or_else(|_| {
                            *f = Fault::Overflow.code();
                            0
                        })
                    })
                    .collect();
                Vector::Int { v, f }
            }
            other => other,
        },
        Kind::In(a, items) => {
            let t = truth(member(eval(a, r), items, n));
            let nulls = null_fields(a, r);
            // Membership is equality: a null field is in no list.
            Vector::Truth(
                t.into_iter()
                    .enumerate()
                    .map(|(i, x)| if nulls.get(i) == Some(&true) { FALSE } else { x })
                    .collect(),
            )
        }
    }
}

/// Which records have field `k`, read from its column's presence bits or codes.
fn presence(k: usize, r: &Register<'_>) -> Vec<bool> {
    match r.columns[k] {
        None => vec![false; r.len],
        Some(Column::Money { present, .. } | Column::Int { present, .. }) => {
            (0..r.len).map(|i| present.get(i)).collect()
        }
        Some(Column::Code { codes, .. }) => codes.iter().map(|&c| c != Column::NULL_CODE).collect(),
        Some(Column::Text(texts)) => texts.iter().map(Option::is_some).collect(),
    }
}

/// For an operand that is a field, which records have it null (empty for other operands: their
/// null faults are errors, as `double(null)` is).
fn null_fields(e: &Expr, r: &Register<'_>) -> Vec<bool> {
    match e.kind {
        Kind::Field(k) => presence(k, r).into_iter().map(|has| !has).collect(),
        _ => Vec::new(),
    }
}

/// Each record's fault code in `v` (0 for none).
fn faults(v: &Vector<'_>, n: usize) -> Vec<u8> {
    match v {
        Vector::Truth(t) => t.iter().map(|&x| x.saturating_sub(2)).collect(),
        Vector::Int { f, .. } | Vector::Dec { f, .. } | Vector::Date { f, .. } | Vector::Str { f, .. } => {
            f.clone()
        }
        Vector::Code { codes, .. } => codes.iter().map(|&c| u8::from(c == Column::NULL_CODE)).collect(),
        Vector::ConstStr(_) => vec![0; n],
    }
}

/// CEL's equality with nulls: a null field equals only null. Where either side is a null field
/// the answer is that, unless a side failed of its own (left first), as `double(x) / 0.0` does.
fn null_equality(op: CmpOp, mut t: Vec<u8>, sides: [(Vec<bool>, Vec<u8>); 2]) -> Vec<u8> {
    let [(a_null, fa), (b_null, fb)] = sides;
    if a_null.is_empty() && b_null.is_empty() {
        return t;
    }
    for (i, x) in t.iter_mut().enumerate() {
        let (an, bn) = (a_null.get(i) == Some(&true), b_null.get(i) == Some(&true));
        if !(an || bn) {
            continue;
        }
        let (own_a, own_b) = (if an { 0 } else { fa[i] }, if bn { 0 } else { fb[i] });
        *x = if own_a != 0 {
            faulty(own_a)
        } else if own_b != 0 {
            faulty(own_b)
        } else {
            u8::from((an && bn) == (op == CmpOp::Eq))
        };
    }
    t
}

fn checked<T: Default>(v: Option<T>, f: &mut u8) -> T {
    if *f != 0 {
        return T::default();
    }
    v.unwrap_or_else(|| {
        *f = Fault::Overflow.code();
        T::default()
    })
}

fn field<'a>(k: usize, r: &Register<'a>) -> Vector<'a> {
    let n = r.len;
    let missing = || vec![Fault::Null(k).code(); n];
    let Some(column) = r.columns[k] else {
        return match r.fields[k].kind {
            FieldType::Bool => Vector::Truth(vec![faulty(1); n]),
            _ => Vector::Int { v: vec![0; n], f: missing() },
        };
    };
    let kind = r.fields[k].kind;
    let flags = |present: &crate::data::store::Presence| -> Vec<u8> {
        (0..n).map(|i| if present.get(i) { 0 } else { 1 }).collect()
    };
    match column {
        Column::Money { fen, present } => {
            Vector::Dec { v: fen.iter().map(|&x| i128::from(x)).collect(), scale: 2, f: flags(present) }
        }
        Column::Int { values, present } => match kind {
            FieldType::Bool => Vector::Truth(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| if present.get(i) { u8::from(x != 0) } else { faulty(1) })
                    .collect(),
            ),
            FieldType::Date => Vector::Date { v: values.clone(), f: flags(present) },
            _ => Vector::Int { v: values.iter().map(|&x| i64::from(x)).collect(), f: flags(present) },
        },
        Column::Code { codes, dictionary } => Vector::Code { codes, dictionary },
        Column::Text(texts) => Vector::Str {
            v: texts.iter().map(|t| t.as_deref().unwrap_or("")).collect(),
            f: texts.iter().map(|t| u8::from(t.is_none())).collect(),
        },
    }
}

fn constant(l: &Lit, n: usize) -> Vector<'_> {
    match l {
        Lit::Bool(b) => Vector::Truth(vec![u8::from(*b); n]),
        Lit::Int(i) => Vector::Int { v: vec![*i; n], f: vec![0; n] },
        Lit::Double(d) => Vector::Dec { v: vec![d.units; n], scale: d.scale, f: vec![0; n] },
        Lit::Str(s) => Vector::ConstStr(s),
        Lit::Date(d) => Vector::Date { v: vec![*d; n], f: vec![0; n] },
        Lit::Null => Vector::Truth(vec![FALSE; n]),
    }
}

fn truth(v: Vector<'_>) -> Vec<u8> {
    match v {
        Vector::Truth(t) => t,
        // The checker gives truth values only where they are wanted.
        _ => Vec::new(),
    }
}

/// A string vector for the general (non-dictionary) paths.
fn strings<'a>(v: Vector<'a>, n: usize) -> (Vec<&'a str>, Vec<u8>) {
    match v {
        Vector::Str { v, f } => (v, f),
        Vector::ConstStr(s) => (vec![s; n], vec![0; n]),
        Vector::Code { codes, dictionary } => codes
            .iter()
            .map(|&c| match dictionary.get(usize::from(c)) {
                Some(s) => (s.as_str(), 0),
                None => ("", 1),
            })
            .unzip(),
        _ => (vec![""; n], vec![Fault::Overflow.code(); n]),
    }
}

/// Decimal values rescaled to `scale` (faults marked on overflow).
fn rescaled(v: Vec<i128>, from: u8, to: u8, f: &mut [u8]) -> Vec<i128> {
    if from == to {
        return v;
    }
    v.iter()
        .zip(f.iter_mut())
        .map(|(&x, f)| checked(Dec::new(x, from).rescale(to).ok().map(|d| d.units), f))
        .collect()
}

fn select<'a>(c: &[u8], a: Vector<'a>, b: Vector<'a>, n: usize) -> Vector<'a> {
    let pick = |i: usize, fa: u8, fb: u8| -> u8 {
        match c[i] {
            TRUE => fa,
            FALSE => fb,
            code => code - 2,
        }
    };
    match (a, b) {
        (Vector::Truth(x), Vector::Truth(y)) => Vector::Truth(
            (0..n)
                .map(|i| match c[i] {
                    TRUE => x[i],
                    FALSE => y[i],
                    code => code,
                })
                .collect(),
        ),
        (Vector::Int { v: x, f: fx }, Vector::Int { v: y, f: fy }) => Vector::Int {
            v: (0..n).map(|i| if c[i] == TRUE { x[i] } else { y[i] }).collect(),
            f: (0..n).map(|i| pick(i, fx[i], fy[i])).collect(),
        },
        (Vector::Dec { v: x, scale: sx, f: mut fx }, Vector::Dec { v: y, scale: sy, f: mut fy }) => {
            let scale = sx.max(sy);
            let (x, y) = (rescaled(x, sx, scale, &mut fx), rescaled(y, sy, scale, &mut fy));
            Vector::Dec {
                v: (0..n).map(|i| if c[i] == TRUE { x[i] } else { y[i] }).collect(),
                scale,
                f: (0..n).map(|i| pick(i, fx[i], fy[i])).collect(),
            }
        }
        (Vector::Date { v: x, f: fx }, Vector::Date { v: y, f: fy }) => Vector::Date {
            v: (0..n).map(|i| if c[i] == TRUE { x[i] } else { y[i] }).collect(),
            f: (0..n).map(|i| pick(i, fx[i], fy[i])).collect(),
        },
        (a, b) => {
            let ((x, fx), (y, fy)) = (strings(a, n), strings(b, n));
            Vector::Str {
                v: (0..n).map(|i| if c[i] == TRUE { x[i] } else { y[i] }).collect(),
                f: (0..n).map(|i| pick(i, fx[i], fy[i])).collect(),
            }
        }
    }
}

/// Truth values from a comparison of each record's pair (faults of the left side first, as the
/// reference evaluator reports them).
fn compared<T>(
    x: &[T],
    fx: &[u8],
    y: &[T],
    fy: &[u8],
    holds: impl Fn(&T, &T) -> Result<bool, Fault>,
) -> Vec<u8> {
    (0..x.len())
        .map(|i| {
            if fx[i] != 0 {
                faulty(fx[i])
            } else if fy[i] != 0 {
                faulty(fy[i])
            } else {
                match holds(&x[i], &y[i]) {
                    Ok(b) => u8::from(b),
                    Err(f) => faulty(f.code()),
                }
            }
        })
        .collect()
}

fn by_dictionary(codes: &[u16], dictionary: &[String], decide: impl Fn(&str) -> bool) -> Vec<u8> {
    let table: Vec<u8> = dictionary.iter().map(|d| u8::from(decide(d))).collect();
    codes.iter().map(|&c| table.get(usize::from(c)).copied().unwrap_or(faulty(1))).collect()
}

fn compare<'a>(op: CmpOp, a: Vector<'a>, b: Vector<'a>, n: usize) -> Vector<'a> {
    let t = match (a, b) {
        (Vector::Code { codes, dictionary }, Vector::ConstStr(s)) => {
            by_dictionary(codes, dictionary, |d| op.holds(d.cmp(s)))
        }
        (Vector::ConstStr(s), Vector::Code { codes, dictionary }) => {
            by_dictionary(codes, dictionary, |d| op.holds(s.cmp(d)))
        }
        (Vector::Int { v: x, f: fx }, Vector::Int { v: y, f: fy }) => {
            compared(&x, &fx, &y, &fy, |a, b| Ok(op.holds(a.cmp(b))))
        }
        (Vector::Date { v: x, f: fx }, Vector::Date { v: y, f: fy }) => {
            compared(&x, &fx, &y, &fy, |a, b| Ok(op.holds(a.cmp(b))))
        }
        (Vector::Dec { v: x, scale: sx, f: mut fx }, Vector::Dec { v: y, scale: sy, f: mut fy }) => {
            let scale = sx.max(sy);
            let (x, y) = (rescaled(x, sx, scale, &mut fx), rescaled(y, sy, scale, &mut fy));
            compared(&x, &fx, &y, &fy, |a, b| Ok(op.holds(a.cmp(b))))
        }
        (Vector::Truth(x), Vector::Truth(y)) => (0..n)
            .map(|i| {
                if x[i] > TRUE {
                    x[i]
                } else if y[i] > TRUE {
                    y[i]
                } else {
                    u8::from(op.holds(x[i].cmp(&y[i])))
                }
            })
            .collect(),
        (a, b) => {
            let ((x, fx), (y, fy)) = (strings(a, n), strings(b, n));
            compared(&x, &fx, &y, &fy, |a, b| Ok(op.holds(a.cmp(b))))
        }
    };
    Vector::Truth(t)
}

/// Applies `f` to each record's pair of values; a record with a fault on either side (the left
/// first) or from `f` keeps the fault, in `fx`, and a placeholder value.
fn pairwise<T: Copy, U: Default>(
    x: &[T],
    fx: &mut [u8],
    y: &[T],
    fy: &[u8],
    f: impl Fn(T, T) -> Result<U, Fault>,
) -> Vec<U> {
    (0..x.len())
        .map(|i| {
            if fx[i] == 0 && fy[i] != 0 {
                fx[i] = fy[i];
            }
            if fx[i] != 0 {
                return U::default();
            }
            f(x[i], y[i]).unwrap_or_else(|fault| {
                fx[i] = fault.code();
                U::default()
            })
        })
        .collect()
}

fn arith<'a>(op: ArithOp, a: Vector<'a>, b: Vector<'a>, n: usize) -> Vector<'a> {
    match (a, b) {
        (Vector::Int { v: x, f: mut fx }, Vector::Int { v: y, f: fy }) => {
            let v = pairwise(&x, &mut fx, &y, &fy, |a, b| int_arith(op, a, b));
            Vector::Int { v, f: fx }
        }
        (Vector::Dec { v: x, scale: sx, f: mut fx }, Vector::Dec { v: y, scale: sy, f: fy }) => {
            let scale = match op {
                ArithOp::Add | ArithOp::Sub => sx.max(sy),
                ArithOp::Mul => sx.saturating_add(sy),
                ArithOp::Div | ArithOp::Rem => super::decimal::DIVISION_SCALE,
            };
            let v = pairwise(&x, &mut fx, &y, &fy, |a, b| {
                Ok(dec_arith(op, Dec::new(a, sx), Dec::new(b, sy))?.rescale(scale)?.units)
            });
            Vector::Dec { v, scale, f: fx }
        }
        _ => Vector::Int { v: vec![0; n], f: vec![Fault::Overflow.code(); n] },
    }
}

fn member<'a>(a: Vector<'a>, items: &[Lit], n: usize) -> Vector<'a> {
    let t = match a {
        Vector::Code { codes, dictionary } => {
            by_dictionary(codes, dictionary, |d| items.iter().any(|l| matches!(l, Lit::Str(s) if s == d)))
        }
        Vector::Int { v, f } => (0..n)
            .map(|i| if f[i] != 0 { faulty(f[i]) } else { u8::from(items.contains(&Lit::Int(v[i]))) })
            .collect(),
        Vector::Date { v, f } => (0..n)
            .map(|i| if f[i] != 0 { faulty(f[i]) } else { u8::from(items.contains(&Lit::Date(v[i]))) })
            .collect(),
        Vector::Dec { v, scale, f } => (0..n)
            .map(|i| {
                if f[i] != 0 {
                    return faulty(f[i]);
                }
                let x = Dec::new(v[i], scale);
                u8::from(
                    items.iter().any(|l| matches!(l, Lit::Double(d) if x.compare(*d) == Ok(Ordering::Equal))),
                )
            })
            .collect(),
        Vector::Truth(t) => t
            .iter()
            .map(|&x| if x > TRUE { x } else { u8::from(items.contains(&Lit::Bool(x == TRUE))) })
            .collect(),
        other => {
            let (v, f) = strings(other, n);
            (0..n)
                .map(|i| {
                    if f[i] != 0 {
                        faulty(f[i])
                    } else {
                        u8::from(items.iter().any(|l| matches!(l, Lit::Str(s) if s == v[i])))
                    }
                })
                .collect()
        }
    };
    Vector::Truth(t)
}
