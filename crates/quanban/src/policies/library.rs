//! The policies as the platform ships them (`reference/policies.json`, the city's 12 sample
//! policies), with their rules compiled. Until the policy library keeps versions in the store,
//! these are the active policies.

use chrono::NaiveDate;

use super::eval::Outcome;
use super::rules::{self, Expr, Want};

/// How a policy reaches enterprises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// 免申即享: paid without an application.
    Automatic,
    /// 依申请 (申请兑现): the enterprise applies.
    OnApplication,
}

/// A policy with its rules compiled.
#[derive(Clone, Debug)]
pub struct Policy {
    pub code: String,
    pub name: String,
    pub department: String,
    /// What the policy gives and to whom, in plain Chinese (政策解读).
    pub summary: String,
    pub mode: Mode,
    pub eligibility: Expr,
    pub amount: Expr,
    /// The rules as written (CEL).
    pub eligibility_source: String,
    pub amount_source: String,
    pub cap_fen: Option<i64>,
    pub budget_fen: i64,
    pub window: (NaiveDate, NaiveDate),
    /// The version of the rules in force (0: as shipped; see [`super::versions`]).
    pub version: i64,
}

/// The shipped policies, compiled once per process (every benefits page and guide question uses
/// them); an error names the policy and the rule's position.
pub fn shipped() -> anyhow::Result<Vec<Policy>> {
    static COMPILED: std::sync::LazyLock<Result<Vec<Policy>, String>> =
        std::sync::LazyLock::new(|| compile_shipped().map_err(|e| format!("{e:#}")));
    COMPILED.clone().map_err(|e| anyhow::anyhow!(e))
}

fn compile_shipped() -> anyhow::Result<Vec<Policy>> {
    let all: serde_json::Value = serde_json::from_str(include_str!("../../../../reference/policies.json"))?;
    let mut out = Vec::new();
    for p in all["policies"].as_array().into_iter().flatten() {
        let text = |k: &str| p[k].as_str().unwrap_or_default().to_string();
        let code = text("code");
        let rule = |k: &str, want: Want| {
            rules::compile(&text(k), want)
                .map_err(|e| anyhow::anyhow!("{code} {k}: character {}: {}", e.position, e.message_en))
        };
        let day = |k: &str| -> anyhow::Result<NaiveDate> {
            Ok(NaiveDate::parse_from_str(p["window"][k].as_str().unwrap_or_default(), "%Y-%m-%d")?)
        };
        out.push(Policy {
            name: text("name"),
            department: text("department"),
            summary: text("summary"),
            mode: if text("mode") == "免申即享" { Mode::Automatic } else { Mode::OnApplication },
            eligibility: rule("eligibility", Want::Bool)?,
            amount: rule("amount", Want::Amount)?,
            eligibility_source: text("eligibility"),
            amount_source: text("amount"),
            cap_fen: p["cap_yuan"].as_i64().map(|y| y * 100),
            budget_fen: p["budget_yuan"].as_i64().unwrap_or(0) * 100,
            window: (day("from")?, day("to")?),
            version: 0,
            code,
        });
    }
    Ok(out)
}

/// The enterprise fields the policies' rules read, in the register's order.
pub fn fields_used(policies: &[Policy]) -> Vec<&'static str> {
    let fields = rules::enterprise_fields();
    let mut used = vec![false; fields.len()];
    for p in policies {
        for e in [&p.eligibility, &p.amount] {
            rules::visit_fields(e, &mut |n| used[n] = true);
        }
    }
    fields.iter().zip(used).filter(|(_, u)| *u).map(|(f, _)| f.name).collect()
}

/// What a policy gives the register, in total.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub evaluated: u64,
    pub eligible: u64,
    /// The eligible enterprises' amounts, capped and rounded (before the budget).
    pub amount_fen: i128,
    /// Enterprises whose rule has no value (a null field used, a division by zero, an overflow).
    pub faults: u64,
}

impl Totals {
    /// Counts one enterprise's outcome (not in `evaluated`, which the caller sets).
    pub fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Eligible { fen } => {
                self.eligible += 1;
                self.amount_fen += i128::from(fen);
            }
            Outcome::Fault(_) => self.faults += 1,
            Outcome::NotEligible => {}
        }
    }
}

pub fn totals(outcomes: &[Outcome]) -> Totals {
    let mut t = Totals { evaluated: outcomes.len() as u64, ..Totals::default() };
    for o in outcomes {
        t.add(*o);
    }
    t
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_twelve_policies_compile_and_read_twenty_two_fields() {
        let policies = shipped().unwrap();
        assert_eq!(policies.len(), 12);
        assert_eq!(policies.iter().filter(|p| p.mode == Mode::Automatic).count(), 7);
        let fields = fields_used(&policies);
        assert_eq!(fields.len(), 22, "{fields:?}");
        assert!(fields.contains(&"status") && fields.contains(&"credit_status") && !fields.contains(&"name"));
    }
}
