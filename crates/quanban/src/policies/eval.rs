//! The reference evaluator: one enterprise at a time, walking the typed tree. It gives each
//! clause's values for explanations, and the column-wise evaluator is checked against it.
//!
//! CEL's semantics hold: `&&` is false if either side is false even when the other side has no
//! value (an error), `||` likewise true; a null field equals only null (`==`, `!=`, `in`); any
//! other use of a null, a division by zero or an overflow is an error for this enterprise only.

use super::decimal::{Arith, Dec};
use super::rules::{ArithOp, CmpOp, Expr, Kind, Lit};

/// One field's value for one enterprise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Fen(i64),
    Str(&'a str),
    /// Days since 1970-01-01.
    Date(i32),
}

/// An enterprise's fields by their index in [`super::rules::enterprise_fields`].
pub trait Record {
    fn cell(&self, field: usize) -> Cell<'_>;
}

/// A value during evaluation.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Double(Dec),
    Str(String),
    Date(i32),
}

/// Why a rule has no value for an enterprise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The field (by index) is null and the rule uses its value.
    Null(usize),
    DivisionByZero,
    Overflow,
    /// The amount came out below zero.
    NegativeAmount,
}

impl Fault {
    /// The fault's code in column-wise results (see `columnar`): 1 null, 2 division by zero,
    /// 3 overflow, 4 negative amount.
    pub fn code(self) -> u8 {
        match self {
            Fault::Null(_) => 1,
            Fault::DivisionByZero => 2,
            Fault::Overflow => 3,
            Fault::NegativeAmount => 4,
        }
    }
}

impl From<Arith> for Fault {
    fn from(a: Arith) -> Fault {
        match a {
            Arith::Overflow => Fault::Overflow,
            Arith::DivisionByZero => Fault::DivisionByZero,
        }
    }
}

/// What a policy gives one enterprise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    NotEligible,
    Eligible { fen: i64 },
    Fault(Fault),
}

fn literal(l: &Lit) -> Value {
    match l {
        Lit::Bool(b) => Value::Bool(*b),
        Lit::Int(i) => Value::Int(*i),
        Lit::Double(d) => Value::Double(*d),
        Lit::Str(s) => Value::Str(s.clone()),
        Lit::Date(d) => Value::Date(*d),
        // The checker turns every null into a presence test.
        Lit::Null => Value::Bool(false),
    }
}

fn truth(v: Result<Value, Fault>) -> Result<bool, Fault> {
    match v? {
        Value::Bool(b) => Ok(b),
        _ => Ok(false),
    }
}

/// Evaluates `e` for `r`.
pub fn eval(e: &Expr, r: &dyn Record) -> Result<Value, Fault> {
    Ok(match &e.kind {
        Kind::Field(n) => match r.cell(*n) {
            Cell::Null => return Err(Fault::Null(*n)),
            Cell::Bool(b) => Value::Bool(b),
            Cell::Int(i) => Value::Int(i),
            Cell::Fen(f) => Value::Double(Dec::new(i128::from(f), 2)),
            Cell::Str(s) => Value::Str(s.to_string()),
            Cell::Date(d) => Value::Date(d),
        },
        Kind::Lit(l) => literal(l),
        Kind::List(_) => Value::Bool(false),
        Kind::Presence { field, present } => Value::Bool((r.cell(*field) != Cell::Null) == *present),
        Kind::Not(a) => Value::Bool(!truth(eval(a, r))?),
        Kind::And(a, b) => {
            let (a, b) = (truth(eval(a, r)), truth(eval(b, r)));
            match (a, b) {
                (Ok(false), _) | (_, Ok(false)) => Value::Bool(false),
                (Err(f), _) | (_, Err(f)) => return Err(f),
                _ => Value::Bool(true),
            }
        }
        Kind::Or(a, b) => {
            let (a, b) = (truth(eval(a, r)), truth(eval(b, r)));
            match (a, b) {
                (Ok(true), _) | (_, Ok(true)) => Value::Bool(true),
                (Err(f), _) | (_, Err(f)) => return Err(f),
                _ => Value::Bool(false),
            }
        }
        Kind::Cond(c, a, b) => {
            if truth(eval(c, r))? {
                eval(a, r)?
            } else {
                eval(b, r)?
            }
        }
        Kind::Cmp(op @ (CmpOp::Eq | CmpOp::Ne), a, b) => {
            // CEL's equality is defined for every pair of values: a null field equals only null.
            let (a, b) = (nullable(a, r)?, nullable(b, r)?);
            let equal = match (&a, &b) {
                (Some(a), Some(b)) => order(a, b)? == std::cmp::Ordering::Equal,
                (a, b) => a.is_none() && b.is_none(),
            };
            Value::Bool(equal == (*op == CmpOp::Eq))
        }
        Kind::Cmp(op, a, b) => {
            let (a, b) = (eval(a, r)?, eval(b, r)?);
            Value::Bool(op.holds(order(&a, &b)?))
        }
        Kind::Arith(op, a, b) => arith(*op, eval(a, r)?, eval(b, r)?)?,
        Kind::Neg(a) => match eval(a, r)? {
            Value::Int(i) => Value::Int(i.checked_neg().ok_or(Fault::Overflow)?),
            Value::Double(d) => Value::Double(d.checked_neg()?),
            other => other,
        },
        Kind::ToDouble(a) => match eval(a, r)? {
            Value::Int(i) => Value::Double(Dec::new(i128::from(i), 0)),
            other => other,
        },
        Kind::ToInt(a) => match eval(a, r)? {
            Value::Double(d) => Value::Int(d.truncate()?),
            other => other,
        },
        Kind::In(a, items) => match nullable(a, r)? {
            // Membership is equality: a null field is in no list of literals.
            None => Value::Bool(false),
            Some(v) => {
                Value::Bool(items.iter().any(|l| order(&v, &literal(l)) == Ok(std::cmp::Ordering::Equal)))
            }
        },
    })
}

/// A field's value, `None` when it is null (equality and `in` take null as a value); any other
/// expression as [`eval`].
fn nullable(e: &Expr, r: &dyn Record) -> Result<Option<Value>, Fault> {
    match e.kind {
        Kind::Field(n) if r.cell(n) == Cell::Null => Ok(None),
        _ => eval(e, r).map(Some),
    }
}

fn order(a: &Value, b: &Value) -> Result<std::cmp::Ordering, Fault> {
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Double(x), Value::Double(y)) => x.compare(*y)?,
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        // The checker only lets values of one type meet.
        _ => std::cmp::Ordering::Less,
    })
}

/// CEL's integer arithmetic: checked, division truncating toward zero.
pub fn int_arith(op: ArithOp, x: i64, y: i64) -> Result<i64, Fault> {
    match op {
        ArithOp::Add => x.checked_add(y).ok_or(Fault::Overflow),
        ArithOp::Sub => x.checked_sub(y).ok_or(Fault::Overflow),
        ArithOp::Mul => x.checked_mul(y).ok_or(Fault::Overflow),
        ArithOp::Div | ArithOp::Rem if y == 0 => Err(Fault::DivisionByZero),
        ArithOp::Div => x.checked_div(y).ok_or(Fault::Overflow),
        ArithOp::Rem => x.checked_rem(y).ok_or(Fault::Overflow),
    }
}

/// Exact double arithmetic.
pub fn dec_arith(op: ArithOp, x: Dec, y: Dec) -> Result<Dec, Fault> {
    Ok(match op {
        ArithOp::Add => x.checked_add(y)?,
        ArithOp::Sub => x.checked_sub(y)?,
        ArithOp::Mul => x.checked_mul(y)?,
        ArithOp::Div => x.checked_div(y)?,
        // The checker allows % on ints only.
        ArithOp::Rem => return Err(Fault::Overflow),
    })
}

fn arith(op: ArithOp, a: Value, b: Value) -> Result<Value, Fault> {
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => Value::Int(int_arith(op, x, y)?),
        (Value::Double(x), Value::Double(y)) => Value::Double(dec_arith(op, x, y)?),
        _ => return Err(Fault::Overflow),
    })
}

/// An amount in yuan, capped at `cap_fen` and rounded half-up to the fen.
pub fn amount_fen(amount: Value, cap_fen: Option<i64>) -> Result<i64, Fault> {
    let yuan = match amount {
        Value::Int(i) => Dec::new(i128::from(i), 0),
        Value::Double(d) => d,
        _ => return Err(Fault::Overflow),
    };
    let capped = match cap_fen.map(|c| Dec::new(i128::from(c), 2)) {
        Some(cap) if yuan.compare(cap)? == std::cmp::Ordering::Greater => cap,
        _ => yuan,
    };
    let fen = capped.to_fen()?;
    if fen < 0 { Err(Fault::NegativeAmount) } else { Ok(fen) }
}

/// A policy's outcome for one enterprise: the amount only when eligible.
pub fn outcome(eligibility: &Expr, amount: &Expr, cap_fen: Option<i64>, r: &dyn Record) -> Outcome {
    match truth(eval(eligibility, r)) {
        Ok(false) => Outcome::NotEligible,
        Err(f) => Outcome::Fault(f),
        Ok(true) => match eval(amount, r).and_then(|a| amount_fen(a, cap_fen)) {
            Ok(fen) => Outcome::Eligible { fen },
            Err(f) => Outcome::Fault(f),
        },
    }
}
