//! The column-wise evaluator: policies run over the whole register at once, a chunk of
//! [`CHUNK`] enterprises at a time, each node of a rule one tight loop over the chunk's slice of
//! the register's columns in memory ([`crate::data::store::Columns`]), not a tree walk per
//! enterprise. Buffers are reused from chunk to chunk, so the evaluation holds a few hundred
//! kilobytes beyond the columns themselves.
//!
//! - `&&`, `||` and `?:` narrow the selection: the right side of `a && b` runs only over the
//!   enterprises for which `a` held, so the clauses after a selective one cost little.
//! - Numbers are `i64` counts of 10^-scale units with the scale fixed per node (money is fen,
//!   scale 2; `0.6` is scale 1; a product adds the scales), exact as [`super::decimal`] is.
//! - Conditions that several policies begin with (every shipped policy opens with
//!   `status == 'active' && credit_status != 'dishonest'`) are evaluated once per chunk and
//!   their result reused by the others ([`SharedPrefixes`]).
//! - Coded strings (size, status, industry…) are compared through their dictionary: a comparison
//!   with a literal is decided once per dictionary entry and then looked up by code.
//! - Any enterprise whose evaluation meets something unusual (a null value used, an overflow of
//!   `i64`, a division) is set aside and evaluated by the reference evaluator ([`super::eval`]),
//!   which gives CEL's full semantics (errors, `false && error`, a null field equal only to
//!   null). So results agree with the reference record for record by construction, and a
//!   property test holds the two together.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use super::decimal::{DIVISION_SCALE, Dec};
use super::eval::{Cell, Outcome, Record, Value, amount_fen, outcome};
use super::rules::{ArithOp, CmpOp, Expr, Kind, Lit, Ty, enterprise_fields, visit_fields};
use crate::data::domain::{Field, FieldType};
use crate::data::store::{Column, Columns, Presence};

/// Enterprises per chunk: the chunk's buffers stay in the processor's caches.
pub const CHUNK: usize = 2048;

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

/// A policy as the evaluator runs it.
#[derive(Clone, Copy)]
pub struct Program<'e> {
    pub eligibility: &'e Expr,
    pub amount: &'e Expr,
    pub cap_fen: Option<i64>,
}

/// Runs every program over the whole register on all processors. Each thread starts from
/// `init()` and gets `visit(state, program, record, outcome)` for every outcome other than
/// [`Outcome::NotEligible`]; the threads' states come back in no particular order.
pub fn run<S: Send>(
    programs: &[Program<'_>],
    r: &Register<'_>,
    init: impl Fn() -> S + Sync,
    visit: impl Fn(&mut S, usize, usize, Outcome) + Sync,
) -> Vec<S> {
    let fast: Vec<bool> =
        programs.iter().map(|p| supported(p.eligibility, r) && supported(p.amount, r)).collect();
    let shared = SharedPrefixes::of(programs, &fast);
    let chunks = r.len.div_ceil(CHUNK);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, chunks.max(1));
    let next = AtomicUsize::new(0);
    let work = || {
        let mut state = init();
        let mut e = Evaluator::new(r, &shared);
        loop {
            let c = next.fetch_add(1, AtomicOrdering::Relaxed);
            if c >= chunks {
                break;
            }
            let (start, len) = (c * CHUNK, CHUNK.min(r.len - c * CHUNK));
            for (n, p) in programs.iter().enumerate() {
                let mut each = |i: usize, o: Outcome| visit(&mut state, n, i, o);
                if fast[n] {
                    e.chunk(p, start, len, &mut each);
                } else {
                    for i in start..start + len {
                        let o = outcome(p.eligibility, p.amount, p.cap_fen, &r.record(i));
                        if o != Outcome::NotEligible {
                            each(i, o);
                        }
                    }
                }
            }
        }
        state
    };
    if threads == 1 {
        return vec![work()];
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

/// Every record's outcome of one policy (tests, small registers; [`run`] visits instead).
pub fn evaluate(eligibility: &Expr, amount: &Expr, cap_fen: Option<i64>, r: &Register<'_>) -> Vec<Outcome> {
    let program = Program { eligibility, amount, cap_fen };
    let mut all = vec![Outcome::NotEligible; r.len];
    for found in run(&[program], r, Vec::new, |found, _, i, o| found.push((i, o))) {
        for (i, o) in found {
            all[i] = o;
        }
    }
    all
}

/// Whether the column-wise path handles every node of `e` (anything else, and rules over fields
/// not loaded, are evaluated record by record by the reference evaluator).
fn supported(e: &Expr, r: &Register<'_>) -> bool {
    let string_operand = |x: &Expr| matches!(x.kind, Kind::Field(_) | Kind::Lit(Lit::Str(_)));
    let here = match &e.kind {
        Kind::Field(k) => r.columns[*k].is_some(),
        Kind::Presence { field, .. } => r.columns[*field].is_some(),
        Kind::Lit(l) => !matches!(l, Lit::Null),
        Kind::List(_) => false,
        Kind::Cond(..) => matches!(e.ty, Ty::Bool | Ty::Int | Ty::Double | Ty::Date),
        Kind::Cmp(_, a, b) => match a.ty {
            Ty::Str => string_operand(a) && string_operand(b),
            Ty::Null | Ty::List => false,
            _ => b.ty == a.ty,
        },
        Kind::In(a, _) => a.ty != Ty::Str || matches!(a.kind, Kind::Field(_)),
        Kind::Arith(..) => matches!(e.ty, Ty::Int | Ty::Double),
        _ => true,
    };
    here && children(e).iter().all(|c| supported(c, r))
}

fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        Kind::Not(a) | Kind::Neg(a) | Kind::ToDouble(a) | Kind::ToInt(a) | Kind::In(a, _) => vec![a],
        Kind::And(a, b) | Kind::Or(a, b) | Kind::Cmp(_, a, b) | Kind::Arith(_, a, b) => vec![a, b],
        Kind::Cond(c, a, b) => vec![c, a, b],
        Kind::Field(_) | Kind::Lit(_) | Kind::Presence { .. } | Kind::List(_) => Vec::new(),
    }
}

/// The conditions that two or more programs' eligibility rules begin with: the nodes on the left
/// spine of `a && b && c` (`a`, `a && b`, the whole), by node address, each with the id of its
/// group of structurally equal nodes. Such a node is always evaluated first, over the whole
/// chunk, with nothing set aside yet, so its result (truths and records set aside) can be
/// reused by every other program of the group within the chunk.
struct SharedPrefixes {
    id_of: HashMap<usize, usize>,
    groups: usize,
}

impl SharedPrefixes {
    fn of(programs: &[Program<'_>], fast: &[bool]) -> SharedPrefixes {
        let mut representatives: Vec<&Expr> = Vec::new();
        let mut members: Vec<Vec<usize>> = Vec::new();
        for (n, p) in programs.iter().enumerate().filter(|(n, _)| fast[*n]) {
            let mut node = p.eligibility;
            loop {
                match representatives.iter().position(|r| same_shape(r, node)) {
                    Some(g) => members[g].push(n),
                    None => {
                        representatives.push(node);
                        members.push(vec![n]);
                    }
                }
                match &node.kind {
                    Kind::And(a, _) | Kind::Or(a, _) => node = a,
                    _ => break,
                }
            }
        }
        // Only groups that more than one program begins with are worth remembering.
        let mut id_of = HashMap::new();
        let mut groups = 0;
        for (g, programs_in) in members.iter().enumerate() {
            let mut distinct = programs_in.clone();
            distinct.dedup();
            if distinct.len() < 2 {
                continue;
            }
            for &n in &distinct {
                let mut node = programs[n].eligibility;
                loop {
                    if same_shape(representatives[g], node) {
                        id_of.insert(node as *const Expr as usize, groups);
                    }
                    match &node.kind {
                        Kind::And(a, _) | Kind::Or(a, _) => node = a,
                        _ => break,
                    }
                }
            }
            groups += 1;
        }
        SharedPrefixes { id_of, groups }
    }

    fn id(&self, e: &Expr) -> Option<usize> {
        if self.groups == 0 {
            return None;
        }
        self.id_of.get(&(e as *const Expr as usize)).copied()
    }
}

/// Whether `a` and `b` are the same expression, wherever they were written.
fn same_shape(a: &Expr, b: &Expr) -> bool {
    use Kind::*;
    a.ty == b.ty
        && match (&a.kind, &b.kind) {
            (Field(x), Field(y)) => x == y,
            (Lit(x), Lit(y)) => x == y,
            (Presence { field: f, present: p }, Presence { field: g, present: q }) => f == g && p == q,
            (Not(x), Not(y)) | (Neg(x), Neg(y)) | (ToDouble(x), ToDouble(y)) | (ToInt(x), ToInt(y)) => {
                same_shape(x, y)
            }
            (And(x1, y1), And(x2, y2)) | (Or(x1, y1), Or(x2, y2)) => same_shape(x1, x2) && same_shape(y1, y2),
            (Cond(c1, x1, y1), Cond(c2, x2, y2)) => {
                same_shape(c1, c2) && same_shape(x1, x2) && same_shape(y1, y2)
            }
            (Cmp(o1, x1, y1), Cmp(o2, x2, y2)) => o1 == o2 && same_shape(x1, x2) && same_shape(y1, y2),
            (Arith(o1, x1, y1), Arith(o2, x2, y2)) => o1 == o2 && same_shape(x1, x2) && same_shape(y1, y2),
            (In(x, l1), In(y, l2)) => l1 == l2 && same_shape(x, y),
            (List(l1), List(l2)) => l1 == l2,
            _ => false,
        }
}

/// A shared condition's result over the chunk starting at `start`.
struct Remembered {
    start: usize,
    truths: Vec<u8>,
    slow: Vec<u8>,
}

fn pow10(n: u8) -> Option<i64> {
    10i64.checked_pow(u32::from(n))
}

/// A numeric operand over a chunk: a constant, a column's slice (with its presence bits) or
/// computed values; `scale` as in [`Dec`].
enum Operand<'c> {
    Const(i64),
    Fen { v: &'c [i64], present: &'c Presence, base: usize },
    Small { v: &'c [i32], present: &'c Presence, base: usize },
    Values(Vec<i64>),
}

/// One value of an operand by chunk position, `None` for a null.
trait Source {
    fn at(&self, i: usize) -> Option<i64>;
}

struct ConstSource(i64);
struct FenSource<'c>(&'c [i64], &'c Presence, usize);
struct SmallSource<'c>(&'c [i32], &'c Presence, usize);
struct ValueSource<'c>(&'c [i64]);

impl Source for ConstSource {
    #[inline(always)]
    fn at(&self, _: usize) -> Option<i64> {
        Some(self.0)
    }
}
impl Source for FenSource<'_> {
    #[inline(always)]
    fn at(&self, i: usize) -> Option<i64> {
        self.1.get(self.2 + i).then(|| self.0[i])
    }
}
impl Source for SmallSource<'_> {
    #[inline(always)]
    fn at(&self, i: usize) -> Option<i64> {
        self.1.get(self.2 + i).then(|| i64::from(self.0[i]))
    }
}
impl Source for ValueSource<'_> {
    #[inline(always)]
    fn at(&self, i: usize) -> Option<i64> {
        Some(self.0[i])
    }
}

/// Binds `$s` to the operand as a [`Source`] and evaluates `$body` (one monomorphic loop per kind).
macro_rules! with_source {
    ($operand:expr, $s:ident => $body:expr) => {
        match $operand {
            Operand::Const(c) => {
                let $s = ConstSource(*c);
                $body
            }
            Operand::Fen { v, present, base } => {
                let $s = FenSource(v, present, *base);
                $body
            }
            Operand::Small { v, present, base } => {
                let $s = SmallSource(v, present, *base);
                $body
            }
            Operand::Values(v) => {
                let $s = ValueSource(v);
                $body
            }
        }
    };
}

/// Per thread: the register, the chunk in hand, the enterprises set aside for the reference
/// evaluator, and buffers reused from chunk to chunk.
struct Evaluator<'r, 'a> {
    r: &'r Register<'a>,
    shared: &'r SharedPrefixes,
    /// By shared-prefix id: its result over the chunk last evaluated.
    remembered: Vec<Option<Remembered>>,
    start: usize,
    len: usize,
    /// `slow[i]` is 1 when the chunk's record `i` goes to the reference evaluator.
    slow: Vec<u8>,
    all: Vec<u16>,
    truths: Vec<Vec<u8>>,
    numbers: Vec<Vec<i64>>,
    selections: Vec<Vec<u16>>,
    /// A coded column's comparison with literals, decided per dictionary entry, by node.
    tables: HashMap<usize, Vec<u8>>,
}

impl<'r, 'a> Evaluator<'r, 'a> {
    fn new(r: &'r Register<'a>, shared: &'r SharedPrefixes) -> Self {
        Evaluator {
            r,
            shared,
            remembered: (0..shared.groups).map(|_| None).collect(),
            start: 0,
            len: 0,
            slow: vec![0; CHUNK],
            all: (0..CHUNK as u16).collect(),
            truths: Vec::new(),
            numbers: Vec::new(),
            selections: Vec::new(),
            tables: HashMap::new(),
        }
    }

    fn truth_buffer(&mut self) -> Vec<u8> {
        self.truths.pop().unwrap_or_else(|| vec![0; CHUNK])
    }

    fn number_buffer(&mut self) -> Vec<i64> {
        self.numbers.pop().unwrap_or_else(|| vec![0; CHUNK])
    }

    fn selection_buffer(&mut self) -> Vec<u16> {
        let mut s = self.selections.pop().unwrap_or_else(|| Vec::with_capacity(CHUNK));
        s.clear();
        s
    }

    fn set_aside(&mut self, sel: &[u16]) {
        for &i in sel {
            self.slow[usize::from(i)] = 1;
        }
    }

    /// One program over records `start..start + len`.
    fn chunk(&mut self, p: &Program<'_>, start: usize, len: usize, visit: &mut impl FnMut(usize, Outcome)) {
        self.start = start;
        self.len = len;
        self.slow[..len].fill(0);
        let all = std::mem::take(&mut self.all);
        let mut held = self.truth_buffer();
        self.truth(p.eligibility, &all[..len], &mut held);
        let mut eligible = self.selection_buffer();
        eligible.extend(
            all[..len].iter().filter(|&&i| held[usize::from(i)] == 1 && self.slow[usize::from(i)] == 0),
        );
        self.all = all;
        if !eligible.is_empty() {
            let mut amounts = self.number_buffer();
            let scale = self.number(p.amount, &eligible, &mut amounts);
            for &i in &eligible {
                let i = usize::from(i);
                if self.slow[i] != 0 {
                    continue;
                }
                if let Some(fen) = fen_of(amounts[i], scale, p.cap_fen) {
                    visit(start + i, Outcome::Eligible { fen });
                    continue;
                }
                let value = match p.amount.ty {
                    Ty::Int => Value::Int(amounts[i]),
                    _ => Value::Double(Dec::new(i128::from(amounts[i]), scale)),
                };
                visit(
                    start + i,
                    amount_fen(value, p.cap_fen).map_or_else(Outcome::Fault, |fen| Outcome::Eligible { fen }),
                );
            }
            self.numbers.push(amounts);
        }
        self.selections.push(eligible);
        self.truths.push(held);
        for i in 0..len {
            if self.slow[i] != 0 {
                let o = outcome(p.eligibility, p.amount, p.cap_fen, &self.r.record(start + i));
                if o != Outcome::NotEligible {
                    visit(start + i, o);
                }
            }
        }
    }

    /// `out[i]` for each `i` of `sel`: 1 where `e` holds, 0 where it does not or the record was
    /// set aside.
    fn truth(&mut self, e: &Expr, sel: &[u16], out: &mut [u8]) {
        // A shared prefix is reached first, over the whole chunk (see [`SharedPrefixes`]).
        if let Some(id) = self.shared.id(e)
            && sel.len() == self.len
        {
            let len = self.len;
            if let Some(r) = &self.remembered[id]
                && r.start == self.start
            {
                out[..len].copy_from_slice(&r.truths[..len]);
                self.slow[..len].copy_from_slice(&r.slow[..len]);
                return;
            }
            self.compute_truth(e, sel, out);
            let r = self.remembered[id].get_or_insert_with(|| Remembered {
                start: 0,
                truths: vec![0; CHUNK],
                slow: vec![0; CHUNK],
            });
            r.start = self.start;
            r.truths[..len].copy_from_slice(&out[..len]);
            r.slow[..len].copy_from_slice(&self.slow[..len]);
            return;
        }
        self.compute_truth(e, sel, out);
    }

    fn compute_truth(&mut self, e: &Expr, sel: &[u16], out: &mut [u8]) {
        match &e.kind {
            Kind::Lit(l) => {
                let v = u8::from(matches!(l, Lit::Bool(true)));
                sel.iter().for_each(|&i| out[usize::from(i)] = v);
            }
            Kind::Field(k) => {
                let Some(Column::Int { values, present }) = self.r.columns[*k] else {
                    return self.set_aside(sel);
                };
                for &i in sel {
                    let (i, at) = (usize::from(i), self.start + usize::from(i));
                    if present.get(at) {
                        out[i] = u8::from(values[at] != 0);
                    } else {
                        out[i] = 0;
                        self.slow[i] = 1;
                    }
                }
            }
            Kind::Presence { field, present } => {
                let want = *present;
                match self.r.columns[*field] {
                    Some(Column::Money { present: p, .. } | Column::Int { present: p, .. }) => {
                        for &i in sel {
                            out[usize::from(i)] = u8::from(p.get(self.start + usize::from(i)) == want);
                        }
                    }
                    Some(Column::Code { codes, .. }) => {
                        for &i in sel {
                            let has = codes[self.start + usize::from(i)] != Column::NULL_CODE;
                            out[usize::from(i)] = u8::from(has == want);
                        }
                    }
                    Some(Column::Text(texts)) => {
                        for &i in sel {
                            out[usize::from(i)] =
                                u8::from(texts[self.start + usize::from(i)].is_some() == want);
                        }
                    }
                    None => self.set_aside(sel),
                }
            }
            Kind::Not(a) => {
                self.truth(a, sel, out);
                sel.iter().for_each(|&i| out[usize::from(i)] ^= 1);
            }
            Kind::And(a, b) | Kind::Or(a, b) => {
                // The right side runs only where the left did not decide: held for &&, not for ||.
                let undecided = u8::from(matches!(e.kind, Kind::And(..)));
                self.truth(a, sel, out);
                let mut rest = self.selection_buffer();
                rest.extend(
                    sel.iter()
                        .filter(|&&i| out[usize::from(i)] == undecided && self.slow[usize::from(i)] == 0),
                );
                if !rest.is_empty() {
                    self.truth(b, &rest, out);
                }
                self.selections.push(rest);
            }
            Kind::Cond(c, a, b) => {
                let (yes, no) = self.split(c, sel);
                self.truth(a, &yes, out);
                self.truth(b, &no, out);
                self.selections.push(yes);
                self.selections.push(no);
            }
            Kind::Cmp(op, a, b) => match a.ty {
                Ty::Str => self.compare_strings(e, *op, a, b, sel, out),
                Ty::Bool => {
                    let mut right = self.truth_buffer();
                    self.truth(a, sel, out);
                    self.truth(b, sel, &mut right);
                    for &i in sel {
                        let i = usize::from(i);
                        out[i] = u8::from(op.holds(out[i].cmp(&right[i])));
                    }
                    self.truths.push(right);
                }
                _ => self.compare_numbers(*op, a, b, sel, out),
            },
            Kind::In(a, items) => self.member(e, a, items, sel, out),
            Kind::List(_) | Kind::Neg(_) | Kind::ToDouble(_) | Kind::ToInt(_) | Kind::Arith(..) => {
                self.set_aside(sel)
            }
        }
    }

    /// The records of `sel` where `c` holds, and where it does not (records set aside in neither).
    fn split(&mut self, c: &Expr, sel: &[u16]) -> (Vec<u16>, Vec<u16>) {
        let mut held = self.truth_buffer();
        self.truth(c, sel, &mut held);
        let (mut yes, mut no) = (self.selection_buffer(), self.selection_buffer());
        for &i in sel {
            let at = usize::from(i);
            if self.slow[at] != 0 {
                continue;
            }
            if held[at] == 1 { yes.push(i) } else { no.push(i) }
        }
        self.truths.push(held);
        (yes, no)
    }

    /// An operand of a numeric node without copying what need not be: literals stay constants
    /// and fields stay their column's slice.
    fn operand(&mut self, e: &Expr, sel: &[u16]) -> (Operand<'a>, u8) {
        match &e.kind {
            Kind::Lit(Lit::Int(v)) => (Operand::Const(*v), 0),
            Kind::Lit(Lit::Date(d)) => (Operand::Const(i64::from(*d)), 0),
            Kind::Lit(Lit::Double(d)) => match i64::try_from(d.units) {
                Ok(v) => (Operand::Const(v), d.scale),
                Err(_) => {
                    self.set_aside(sel);
                    (Operand::Const(0), d.scale)
                }
            },
            Kind::Field(k) => match self.r.columns[*k] {
                Some(Column::Money { fen, present }) => {
                    (Operand::Fen { v: &fen[self.start..], present, base: self.start }, 2)
                }
                Some(Column::Int { values, present }) => {
                    (Operand::Small { v: &values[self.start..], present, base: self.start }, 0)
                }
                _ => {
                    self.set_aside(sel);
                    (Operand::Const(0), 0)
                }
            },
            Kind::ToDouble(a) => self.operand(a, sel),
            _ => {
                let mut v = self.number_buffer();
                let scale = self.number(e, sel, &mut v);
                (Operand::Values(v), scale)
            }
        }
    }

    fn give_back(&mut self, o: Operand<'_>) {
        if let Operand::Values(v) = o {
            self.numbers.push(v);
        }
    }

    /// The operand with `to` decimal places (more than it has).
    fn rescaled(&mut self, o: Operand<'a>, from: u8, to: u8, sel: &[u16]) -> Operand<'a> {
        if from == to {
            return o;
        }
        let Some(up) = to.checked_sub(from).and_then(pow10) else {
            self.set_aside(sel);
            return Operand::Const(0);
        };
        if let Operand::Const(c) = o {
            return match c.checked_mul(up) {
                Some(v) => Operand::Const(v),
                None => {
                    self.set_aside(sel);
                    Operand::Const(0)
                }
            };
        }
        let mut out = self.number_buffer();
        with_source!(&o, s => self.map(sel, &s, &mut out, |x| x.checked_mul(up)));
        self.give_back(o);
        Operand::Values(out)
    }

    /// Two operands of a node with the same number of decimal places.
    fn aligned(&mut self, a: &Expr, b: &Expr, sel: &[u16]) -> (Operand<'a>, Operand<'a>, u8) {
        let (x, sx) = self.operand(a, sel);
        let (y, sy) = self.operand(b, sel);
        let scale = sx.max(sy);
        let x = self.rescaled(x, sx, scale, sel);
        let y = self.rescaled(y, sy, scale, sel);
        (x, y, scale)
    }

    /// `out[i] = f(x[i])` over `sel`; a null or `None` sets the record aside.
    #[inline(always)]
    fn map(&mut self, sel: &[u16], x: &impl Source, out: &mut [i64], f: impl Fn(i64) -> Option<i64>) {
        for &i in sel {
            let i = usize::from(i);
            match x.at(i).and_then(&f) {
                Some(v) => out[i] = v,
                None => {
                    out[i] = 0;
                    self.slow[i] = 1;
                }
            }
        }
    }

    fn compare_numbers(&mut self, op: CmpOp, a: &Expr, b: &Expr, sel: &[u16], out: &mut [u8]) {
        let (x, y, _) = self.aligned(a, b, sel);
        with_source!(&x, xs => with_source!(&y, ys => {
            for &i in sel {
                let i = usize::from(i);
                match (xs.at(i), ys.at(i)) {
                    (Some(p), Some(q)) => out[i] = u8::from(op.holds(p.cmp(&q))),
                    _ => {
                        out[i] = 0;
                        self.slow[i] = 1;
                    }
                }
            }
        }));
        self.give_back(x);
        self.give_back(y);
    }

    /// `out[i]` for each `i` of `sel`: the value of numeric `e` in units of 10^-scale; returns
    /// the scale.
    fn number(&mut self, e: &Expr, sel: &[u16], out: &mut [i64]) -> u8 {
        match &e.kind {
            Kind::Arith(op, a, b) => self.arithmetic(*op, e.ty, a, b, sel, out),
            Kind::Neg(a) => {
                let (x, scale) = self.operand(a, sel);
                with_source!(&x, s => self.map(sel, &s, out, i64::checked_neg));
                self.give_back(x);
                scale
            }
            Kind::ToInt(a) => {
                let (x, scale) = self.operand(a, sel);
                match pow10(scale) {
                    // Rust's integer division truncates toward zero, as CEL's int(double) does.
                    Some(down) => with_source!(&x, s => self.map(sel, &s, out, |v| Some(v / down))),
                    None => self.set_aside(sel),
                }
                self.give_back(x);
                0
            }
            Kind::Cond(c, a, b) => {
                let (yes, no) = self.split(c, sel);
                let sa = self.number(a, &yes, out);
                let sb = self.number(b, &no, out);
                let scale = sa.max(sb);
                for (part, from) in [(&yes, sa), (&no, sb)] {
                    if from < scale {
                        match pow10(scale - from) {
                            Some(up) => {
                                for &i in part.iter() {
                                    let i = usize::from(i);
                                    match out[i].checked_mul(up) {
                                        Some(v) => out[i] = v,
                                        None => self.slow[i] = 1,
                                    }
                                }
                            }
                            None => self.set_aside(part),
                        }
                    }
                }
                self.selections.push(yes);
                self.selections.push(no);
                scale
            }
            Kind::Lit(_) | Kind::Field(_) | Kind::ToDouble(_) => {
                let (x, scale) = self.operand(e, sel);
                with_source!(&x, s => self.map(sel, &s, out, Some));
                self.give_back(x);
                scale
            }
            _ => {
                self.set_aside(sel);
                0
            }
        }
    }

    fn arithmetic(&mut self, op: ArithOp, ty: Ty, a: &Expr, b: &Expr, sel: &[u16], out: &mut [i64]) -> u8 {
        match (op, ty) {
            (ArithOp::Mul, Ty::Double) => {
                let (x, sx) = self.operand(a, sel);
                let (y, sy) = self.operand(b, sel);
                let scale = sx.saturating_add(sy);
                if scale > super::decimal::MAX_SCALE {
                    self.set_aside(sel);
                } else {
                    self.pairs(sel, &x, &y, out, i64::checked_mul);
                }
                self.give_back(x);
                self.give_back(y);
                scale
            }
            (ArithOp::Div | ArithOp::Rem, Ty::Double) => {
                // Exact division to twelve places needs more than 64 bits: the reference does it.
                self.set_aside(sel);
                DIVISION_SCALE
            }
            _ => {
                let (x, y, scale) = self.aligned(a, b, sel);
                let f: fn(i64, i64) -> Option<i64> = match op {
                    ArithOp::Add => i64::checked_add,
                    ArithOp::Sub => i64::checked_sub,
                    ArithOp::Mul => i64::checked_mul,
                    ArithOp::Div => |p, q| if q == 0 { None } else { p.checked_div(q) },
                    ArithOp::Rem => |p, q| if q == 0 { None } else { p.checked_rem(q) },
                };
                self.pairs(sel, &x, &y, out, f);
                self.give_back(x);
                self.give_back(y);
                scale
            }
        }
    }

    /// `out[i] = f(x[i], y[i])` over `sel`; a null or `None` sets the record aside.
    fn pairs(
        &mut self,
        sel: &[u16],
        x: &Operand<'_>,
        y: &Operand<'_>,
        out: &mut [i64],
        f: impl Fn(i64, i64) -> Option<i64> + Copy,
    ) {
        with_source!(x, xs => with_source!(y, ys => {
            for &i in sel {
                let i = usize::from(i);
                match (xs.at(i), ys.at(i)) {
                    (Some(p), Some(q)) => match f(p, q) {
                        Some(v) => out[i] = v,
                        None => {
                            out[i] = 0;
                            self.slow[i] = 1;
                        }
                    },
                    _ => {
                        out[i] = 0;
                        self.slow[i] = 1;
                    }
                }
            }
        }));
    }

    /// The dictionary of a coded field with each entry's answer (1 or 0), built once per node.
    fn table(&mut self, node: &Expr, dictionary: &[String], decide: impl Fn(&str) -> bool) -> Vec<u8> {
        let key = node as *const Expr as usize;
        if let Some(t) = self.tables.remove(&key) {
            return t;
        }
        dictionary.iter().map(|d| u8::from(decide(d))).collect()
    }

    fn by_code(
        &mut self,
        node: &Expr,
        k: usize,
        sel: &[u16],
        out: &mut [u8],
        decide: impl Fn(&str) -> bool,
    ) -> bool {
        let Some(Column::Code { codes, dictionary }) = self.r.columns[k] else { return false };
        let table = self.table(node, dictionary, decide);
        let codes = &codes[self.start..];
        for &i in sel {
            let i = usize::from(i);
            match table.get(usize::from(codes[i])) {
                Some(&v) => out[i] = v,
                None => {
                    out[i] = 0;
                    self.slow[i] = 1;
                }
            }
        }
        self.tables.insert(node as *const Expr as usize, table);
        true
    }

    fn compare_strings(&mut self, node: &Expr, op: CmpOp, a: &Expr, b: &Expr, sel: &[u16], out: &mut [u8]) {
        let by_dictionary = match (&a.kind, &b.kind) {
            (Kind::Field(k), Kind::Lit(Lit::Str(s))) => {
                self.by_code(node, *k, sel, out, |d| op.holds(d.cmp(s.as_str())))
            }
            (Kind::Lit(Lit::Str(s)), Kind::Field(k)) => {
                self.by_code(node, *k, sel, out, |d| op.holds(s.as_str().cmp(d)))
            }
            _ => false,
        };
        if by_dictionary {
            return;
        }
        for &i in sel {
            let at = usize::from(i);
            let x = literal(a).or_else(|| self.column_text(a, at));
            let y = literal(b).or_else(|| self.column_text(b, at));
            match (x, y) {
                (Some(x), Some(y)) => out[at] = u8::from(op.holds(x.cmp(y))),
                _ => {
                    out[at] = 0;
                    self.slow[at] = 1;
                }
            }
        }
    }

    fn column_text(&self, e: &Expr, i: usize) -> Option<&'a str> {
        match e.kind {
            Kind::Field(k) => self.r.columns[k]?.text(self.start + i),
            _ => None,
        }
    }

    fn member(&mut self, node: &Expr, a: &Expr, items: &[Lit], sel: &[u16], out: &mut [u8]) {
        let listed = |d: &str| items.iter().any(|l| matches!(l, Lit::Str(s) if s == d));
        match a.ty {
            Ty::Str => {
                let Kind::Field(k) = a.kind else { return self.set_aside(sel) };
                if self.by_code(node, k, sel, out, listed) {
                    return;
                }
                for &i in sel {
                    let at = usize::from(i);
                    match self.column_text(a, at) {
                        Some(t) => out[at] = u8::from(listed(t)),
                        None => {
                            out[at] = 0;
                            self.slow[at] = 1;
                        }
                    }
                }
            }
            Ty::Bool => {
                self.truth(a, sel, out);
                let (has_true, has_false) =
                    (items.contains(&Lit::Bool(true)), items.contains(&Lit::Bool(false)));
                for &i in sel {
                    let i = usize::from(i);
                    out[i] = u8::from(if out[i] == 1 { has_true } else { has_false });
                }
            }
            _ => {
                let (x, scale) = self.operand(a, sel);
                // Each item in the operand's units; an item finer than them never equals a value.
                let wanted: Vec<i64> = items
                    .iter()
                    .filter_map(|l| match l {
                        Lit::Int(v) => Some(Dec::new(i128::from(*v), 0)),
                        Lit::Date(d) => Some(Dec::new(i128::from(*d), 0)),
                        Lit::Double(d) => Some(*d),
                        _ => None,
                    })
                    .filter_map(|d| exact_units(d, scale))
                    .collect();
                with_source!(&x, s => {
                    for &i in sel {
                        let i = usize::from(i);
                        match s.at(i) {
                            Some(v) => out[i] = u8::from(wanted.contains(&v)),
                            None => {
                                out[i] = 0;
                                self.slow[i] = 1;
                            }
                        }
                    }
                });
                self.give_back(x);
            }
        }
    }
}

/// What [`amount_fen`] gives a non-negative amount of `units` × 10^-scale yuan, in 64-bit
/// arithmetic (`None`: negative, or too large for it; the exact path decides).
fn fen_of(units: i64, scale: u8, cap_fen: Option<i64>) -> Option<i64> {
    if units < 0 {
        return None;
    }
    let fen = if scale <= 2 {
        units.checked_mul(pow10(2 - scale)?)?
    } else {
        let down = pow10(scale - 2)?;
        if let Some(cap) = cap_fen.and_then(|c| c.checked_mul(down))
            && units > cap
        {
            return cap_fen;
        }
        // Half-up: a remainder of half the divisor or more rounds away from zero.
        units / down + i64::from((units % down) * 2 >= down)
    };
    Some(cap_fen.map_or(fen, |c| fen.min(c)))
}

fn literal(e: &Expr) -> Option<&str> {
    match &e.kind {
        Kind::Lit(Lit::Str(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// `d` as a count of 10^-scale units, when it is one exactly and fits.
fn exact_units(d: Dec, scale: u8) -> Option<i64> {
    let units = if d.scale <= scale {
        d.rescale(scale).ok()?.units
    } else {
        let down = 10i128.checked_pow(u32::from(d.scale - scale))?;
        if d.units % down != 0 {
            return None;
        }
        d.units / down
    };
    i64::try_from(units).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policies::rules::{Want, compile};

    fn rule(text: &str) -> Expr {
        compile(text, Want::Bool).unwrap_or_else(|e| panic!("{text}: {e:?}"))
    }

    #[test]
    fn conditions_that_several_rules_begin_with_are_found_wherever_written() {
        let a = rule("status == 'active' && credit_status != 'dishonest' && high_tech");
        let b = rule("status  ==  'active' && credit_status != 'dishonest' && above_scale");
        let c = rule("status == 'active' && size == 'small'");
        let d = rule("high_tech");
        let amount = compile("1.0", Want::Amount).expect("an amount");
        let programs: Vec<Program<'_>> = [&a, &b, &c, &d]
            .iter()
            .map(|e| Program { eligibility: e, amount: &amount, cap_fen: None })
            .collect();
        let shared = SharedPrefixes::of(&programs, &[true; 4]);
        // `status == 'active'` (a, b, c) and `… && credit_status != 'dishonest'` (a, b).
        assert_eq!(shared.groups, 2);
        let Kind::And(a_prefix, _) = &a.kind else { panic!("a is a conjunction") };
        let Kind::And(b_prefix, _) = &b.kind else { panic!("b is a conjunction") };
        assert_eq!(shared.id(a_prefix), shared.id(b_prefix));
        assert!(shared.id(a_prefix).is_some());
        // Whole rules differ; `high_tech` alone is one program's only.
        assert_eq!(shared.id(&a), None);
        assert_eq!(shared.id(&d), None);
        // A program evaluated record by record shares nothing.
        assert_eq!(SharedPrefixes::of(&programs, &[true, false, false, true]).groups, 0);
    }
}
