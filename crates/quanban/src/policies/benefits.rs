//! What a 免申即享 run does to each enterprise's benefit under a policy, decided from what the
//! store holds and the run's outcome (the store only writes it), the order payments are made in
//! when the budget does not cover everyone, and the reconciliation that must add up.
//!
//! A benefit is never paid twice: `paid_fen` only grows, by a payment record of exactly the
//! difference between what the latest run says is owed (`amount_fen`) and what was paid. A
//! register change that lowers the amount after payment keeps what was paid (no claw-back here;
//! the department recovers overpayments through its own procedure).

use serde::Serialize;

use super::eval::{Fault, Outcome};

/// Where an enterprise's benefit stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Eligible and told; the representative has not confirmed the receiving account yet.
    AwaitingConfirmation,
    /// The account is confirmed; paid at the next run while the budget lasts.
    Confirmed,
    /// The representative declined the benefit.
    Declined,
    /// Paid in full.
    Paid,
    /// Was eligible at an earlier run, is not now (what was paid stays paid).
    NoLongerEligible,
    /// The rule has no value for this enterprise (a null field it uses, an overflow).
    Fault,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::AwaitingConfirmation => "awaiting_confirmation",
            Status::Confirmed => "confirmed",
            Status::Declined => "declined",
            Status::Paid => "paid",
            Status::NoLongerEligible => "no_longer_eligible",
            Status::Fault => "fault",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::AwaitingConfirmation,
            Status::Confirmed,
            Status::Declined,
            Status::Paid,
            Status::NoLongerEligible,
            Status::Fault,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Status::AwaitingConfirmation => ("待确认收款账户", "Waiting for you to confirm the account"),
            Status::Confirmed => ("已确认，待拨付", "Confirmed, to be paid"),
            Status::Declined => ("已放弃", "Declined"),
            Status::Paid => ("已拨付", "Paid"),
            Status::NoLongerEligible => ("已不符合条件", "No longer eligible"),
            Status::Fault => ("数据不全，无法判定", "Cannot be decided: data missing"),
        }
    }

    /// Whether the enterprise is eligible under the latest run.
    pub fn eligible(self) -> bool {
        matches!(self, Status::AwaitingConfirmation | Status::Confirmed | Status::Declined | Status::Paid)
    }
}

/// One enterprise's benefit under one policy, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Benefit {
    pub policy: String,
    pub credit_code: String,
    pub status: Status,
    /// What the latest run says the enterprise is owed in all (0 when not eligible).
    pub amount_fen: i64,
    pub paid_fen: i64,
    pub fault: Option<String>,
    /// The values of the fields the rule read, as JSON (the explanation is rebuilt from them).
    pub explanation: String,
    pub run_id: String,
    /// Whether a receiving account was confirmed (the account itself is sealed in the store).
    pub has_account: bool,
    pub version: i64,
}

impl Benefit {
    /// What is still to be paid.
    pub fn outstanding(&self) -> i64 {
        (self.amount_fen - self.paid_fen).max(0)
    }
}

/// What a run writes for one enterprise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Insert(Benefit),
    /// Update the row read at `before_version`.
    Update {
        before_version: i64,
        after: Benefit,
    },
}

impl Change {
    pub fn benefit(&self) -> &Benefit {
        match self {
            Change::Insert(b) | Change::Update { after: b, .. } => b,
        }
    }
}

/// What to tell the representatives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Newly eligible: confirm the account.
    Eligible,
    /// More is owed than was paid: it will be paid to the confirmed account.
    MoreOwed,
}

/// The change a run makes to `before` given this run's `outcome` (`None`: nothing to write),
/// and what to tell the representatives.
pub fn decide(
    policy: &str,
    credit_code: &str,
    before: Option<&Benefit>,
    outcome: Outcome,
    explanation: impl FnOnce() -> String,
    run_id: &str,
) -> Option<(Change, Option<Notice>)> {
    let (amount, fault) = match outcome {
        Outcome::Eligible { fen } => (Some(fen), None),
        Outcome::Fault(f) => (None, Some(fault_text(f))),
        Outcome::NotEligible => (None, None),
    };
    let Some(before) = before else {
        let status = match (amount, &fault) {
            (Some(_), _) => Status::AwaitingConfirmation,
            (None, Some(_)) => Status::Fault,
            (None, None) => return None,
        };
        let b = Benefit {
            policy: policy.to_string(),
            credit_code: credit_code.to_string(),
            status,
            amount_fen: amount.unwrap_or(0),
            paid_fen: 0,
            fault,
            explanation: explanation(),
            run_id: run_id.to_string(),
            has_account: false,
            version: 1,
        };
        let notice = amount.map(|_| Notice::Eligible);
        return Some((Change::Insert(b), notice));
    };
    let (status, notice) = match amount {
        None if fault.is_some() => (Status::Fault, None),
        None => (Status::NoLongerEligible, None),
        Some(fen) => match before.status {
            Status::Declined => (Status::Declined, None),
            Status::AwaitingConfirmation => (Status::AwaitingConfirmation, None),
            Status::Confirmed | Status::Paid if fen <= before.paid_fen => (Status::Paid, None),
            Status::Confirmed => (Status::Confirmed, None),
            Status::Paid => (Status::Confirmed, Some(Notice::MoreOwed)),
            Status::NoLongerEligible | Status::Fault if before.has_account => {
                if fen <= before.paid_fen {
                    (Status::Paid, None)
                } else {
                    (Status::Confirmed, Some(Notice::MoreOwed))
                }
            }
            Status::NoLongerEligible | Status::Fault => {
                (Status::AwaitingConfirmation, Some(Notice::Eligible))
            }
        },
    };
    let amount_fen = amount.unwrap_or(0);
    if status == before.status && amount_fen == before.amount_fen && fault == before.fault {
        return None;
    }
    let after = Benefit {
        status,
        amount_fen,
        fault,
        explanation: explanation(),
        run_id: run_id.to_string(),
        version: before.version + 1,
        ..before.clone()
    };
    Some((Change::Update { before_version: before.version, after }, notice))
}

fn fault_text(f: Fault) -> String {
    match f {
        Fault::Null(_) => "null_field",
        Fault::DivisionByZero => "division_by_zero",
        Fault::Overflow => "overflow",
        Fault::NegativeAmount => "negative_amount",
    }
    .to_string()
}

/// A payment to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub credit_code: String,
    pub amount_fen: i64,
    /// The benefit's version when it was read (the payment claims it).
    pub version: i64,
}

/// The payments for the confirmed benefits within what is left of the budget.
///
/// The order is documented to the enterprises: the smallest amounts first (so the budget
/// reaches as many enterprises as it can), equal amounts by credit code. Nobody is paid part of
/// an amount: when the next amount does not fit, payments stop, and every larger one waits for
/// more budget.
pub fn plan_payments(confirmed: &[Benefit], remaining_fen: Option<i64>) -> (Vec<Payment>, Vec<Payment>) {
    let mut owed: Vec<Payment> = confirmed
        .iter()
        .filter(|b| b.status == Status::Confirmed && b.outstanding() > 0)
        .map(|b| Payment {
            credit_code: b.credit_code.clone(),
            amount_fen: b.outstanding(),
            version: b.version,
        })
        .collect();
    owed.sort_by(|a, b| a.amount_fen.cmp(&b.amount_fen).then_with(|| a.credit_code.cmp(&b.credit_code)));
    let Some(mut left) = remaining_fen else { return (owed, Vec::new()) };
    let fits = owed
        .iter()
        .position(|p| {
            if p.amount_fen > left {
                return true;
            }
            left -= p.amount_fen;
            false
        })
        .unwrap_or(owed.len());
    let waiting = owed.split_off(fits);
    (owed, waiting)
}

/// A policy's money, from its benefits and its payment records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    pub budget_fen: Option<i64>,
    /// Paid in all, by the payment records.
    pub paid_fen: i64,
    /// Paid in all, by the benefits (equal to `paid_fen` when the books are right).
    pub paid_by_benefits_fen: i64,
    /// Budget not yet paid out.
    pub remaining_fen: Option<i64>,
    /// What the eligible enterprises are owed in all under the latest run.
    pub entitled_fen: i64,
    /// Of it: paid, waiting for confirmation, confirmed and waiting for budget, declined.
    pub settled_fen: i64,
    pub awaiting_confirmation_fen: i64,
    pub confirmed_unpaid_fen: i64,
    pub declined_fen: i64,
    /// Paid earlier beyond what the latest run says (a register change lowered it).
    pub paid_beyond_entitlement_fen: i64,
    pub eligible: i64,
    pub awaiting_confirmation: i64,
    pub confirmed_unpaid: i64,
    pub declined: i64,
    pub paid: i64,
    pub faults: i64,
}

impl Reconciliation {
    /// Sums the benefits (and the payment records' total).
    pub fn of(
        benefits: impl IntoIterator<Item = (Status, i64, i64)>,
        paid_by_records: i64,
        budget_fen: Option<i64>,
    ) -> Self {
        let mut r = Reconciliation { budget_fen, paid_fen: paid_by_records, ..Reconciliation::default() };
        for (status, amount, paid) in benefits {
            r.paid_by_benefits_fen = r.paid_by_benefits_fen.saturating_add(paid);
            if status == Status::Fault {
                r.faults += 1;
            }
            if !status.eligible() {
                r.paid_beyond_entitlement_fen += paid;
                continue;
            }
            r.eligible += 1;
            r.entitled_fen = r.entitled_fen.saturating_add(amount);
            let settled = paid.min(amount);
            r.settled_fen = r.settled_fen.saturating_add(settled);
            r.paid_beyond_entitlement_fen += paid - settled;
            let open = amount - settled;
            match status {
                Status::AwaitingConfirmation => {
                    r.awaiting_confirmation += 1;
                    r.awaiting_confirmation_fen = r.awaiting_confirmation_fen.saturating_add(open);
                }
                Status::Confirmed => {
                    r.confirmed_unpaid += 1;
                    r.confirmed_unpaid_fen = r.confirmed_unpaid_fen.saturating_add(open);
                }
                Status::Declined => {
                    r.declined += 1;
                    r.declined_fen = r.declined_fen.saturating_add(open);
                }
                _ => r.paid += 1,
            }
        }
        r.remaining_fen = budget_fen.map(|b| b.saturating_sub(r.paid_fen));
        r
    }

    /// Whether the books add up: the two sums of payments agree, nothing is paid beyond the
    /// budget, and the entitlement splits exactly into its parts.
    pub fn adds_up(&self) -> bool {
        self.paid_fen == self.paid_by_benefits_fen
            && self.remaining_fen.is_none_or(|r| r >= 0)
            && self.entitled_fen
                == self.settled_fen
                    + self.awaiting_confirmation_fen
                    + self.confirmed_unpaid_fen
                    + self.declined_fen
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn benefit(status: Status, amount: i64, paid: i64, has_account: bool) -> Benefit {
        Benefit {
            policy: "P".into(),
            credit_code: "C".into(),
            status,
            amount_fen: amount,
            paid_fen: paid,
            fault: None,
            explanation: "{}".into(),
            run_id: "r1".into(),
            has_account,
            version: 3,
        }
    }

    fn after(before: Option<&Benefit>, o: Outcome) -> Option<(Status, i64, Option<Notice>)> {
        decide("P", "C", before, o, || "{}".into(), "r2")
            .map(|(c, n)| (c.benefit().status, c.benefit().amount_fen, n))
    }

    #[test]
    fn a_newly_eligible_enterprise_is_told_and_waits_for_its_account() {
        assert_eq!(
            after(None, Outcome::Eligible { fen: 500 }),
            Some((Status::AwaitingConfirmation, 500, Some(Notice::Eligible)))
        );
        assert_eq!(after(None, Outcome::NotEligible), None);
        assert_eq!(after(None, Outcome::Fault(Fault::Overflow)), Some((Status::Fault, 0, None)));
    }

    #[test]
    fn a_second_run_on_the_same_register_changes_nothing() {
        for status in [Status::AwaitingConfirmation, Status::Confirmed, Status::Declined] {
            assert_eq!(after(Some(&benefit(status, 500, 0, true)), Outcome::Eligible { fen: 500 }), None);
        }
        assert_eq!(after(Some(&benefit(Status::Paid, 500, 500, true)), Outcome::Eligible { fen: 500 }), None);
    }

    #[test]
    fn a_higher_amount_after_payment_owes_only_the_difference() {
        let paid = benefit(Status::Paid, 500, 500, true);
        let (change, notice) =
            decide("P", "C", Some(&paid), Outcome::Eligible { fen: 800 }, || "{}".into(), "r2").unwrap();
        let Change::Update { before_version, after } = change else { panic!() };
        assert_eq!((before_version, after.version), (3, 4));
        assert_eq!(
            (after.status, after.outstanding(), notice),
            (Status::Confirmed, 300, Some(Notice::MoreOwed))
        );
        // Lower than paid: nothing is owed and nothing is taken back.
        let lower = after_status(&paid, 300);
        assert_eq!((lower.status, lower.paid_fen, lower.outstanding()), (Status::Paid, 500, 0));
    }

    fn after_status(b: &Benefit, fen: i64) -> Benefit {
        decide("P", "C", Some(b), Outcome::Eligible { fen }, || "{}".into(), "r2")
            .unwrap()
            .0
            .benefit()
            .clone()
    }

    #[test]
    fn an_enterprise_that_stops_qualifying_keeps_what_was_paid() {
        let b = after(Some(&benefit(Status::Paid, 500, 500, true)), Outcome::NotEligible).unwrap();
        assert_eq!(b, (Status::NoLongerEligible, 0, None));
        // Qualifying again with an account: owed what was not paid, without asking again.
        let back =
            after(Some(&benefit(Status::NoLongerEligible, 0, 500, true)), Outcome::Eligible { fen: 700 });
        assert_eq!(back, Some((Status::Confirmed, 700, Some(Notice::MoreOwed))));
        let back =
            after(Some(&benefit(Status::NoLongerEligible, 0, 0, false)), Outcome::Eligible { fen: 700 });
        assert_eq!(back, Some((Status::AwaitingConfirmation, 700, Some(Notice::Eligible))));
    }

    #[test]
    fn payments_go_smallest_first_and_stop_at_the_budget() {
        let mut confirmed = Vec::new();
        for (code, amount) in [("B", 300), ("A", 300), ("C", 100), ("D", 1_000)] {
            confirmed
                .push(Benefit { credit_code: code.into(), ..benefit(Status::Confirmed, amount, 0, true) });
        }
        confirmed
            .push(Benefit { credit_code: "E".into(), ..benefit(Status::AwaitingConfirmation, 50, 0, false) });
        let (pay, wait) = plan_payments(&confirmed, Some(750));
        let order: Vec<(&str, i64)> = pay.iter().map(|p| (p.credit_code.as_str(), p.amount_fen)).collect();
        assert_eq!(order, [("C", 100), ("A", 300), ("B", 300)]);
        assert_eq!(wait.iter().map(|p| p.credit_code.as_str()).collect::<Vec<_>>(), ["D"]);
        assert!(pay.iter().map(|p| p.amount_fen).sum::<i64>() <= 750);
        let (all, none) = plan_payments(&confirmed, None);
        assert_eq!((all.len(), none.len()), (4, 0));
    }

    #[test]
    fn the_books_add_up_and_say_so_when_they_do_not() {
        let rows = [
            (Status::Paid, 500, 500),
            (Status::Confirmed, 800, 500),
            (Status::AwaitingConfirmation, 200, 0),
            (Status::Declined, 100, 0),
            (Status::NoLongerEligible, 0, 300),
            (Status::Fault, 0, 0),
        ];
        let r = Reconciliation::of(rows, 1_300, Some(2_000));
        assert!(r.adds_up(), "{r:?}");
        assert_eq!((r.entitled_fen, r.settled_fen, r.confirmed_unpaid_fen), (1_600, 1_000, 300));
        assert_eq!(
            (r.remaining_fen, r.paid_beyond_entitlement_fen, r.eligible, r.faults),
            (Some(700), 300, 4, 1)
        );
        assert!(!Reconciliation::of(rows, 1_200, Some(2_000)).adds_up(), "a payment record missing");
        assert!(!Reconciliation::of(rows, 1_300, Some(1_000)).adds_up(), "beyond the budget");
    }
}
