//! 帮办代办 as pure rules: where a request stands and what each step does to it.
//!
//! ```text
//! requested ──assign──▶ assigned ──authorize──▶ authorized ──complete──▶ done ──rate (once)
//!     (assign again while assigned; cancel any time before done; notes at any time)
//! ```

/// Where an assistance request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    /// Asked for; no officer yet.
    Requested,
    /// An officer is assigned; the requester has not signed the power of attorney.
    Assigned,
    /// The power of attorney is signed: the officer may apply for the requester.
    Authorized,
    Done,
    Cancelled,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 5] = [
        RequestStatus::Requested,
        RequestStatus::Assigned,
        RequestStatus::Authorized,
        RequestStatus::Done,
        RequestStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Requested => "requested",
            RequestStatus::Assigned => "assigned",
            RequestStatus::Authorized => "authorized",
            RequestStatus::Done => "done",
            RequestStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<RequestStatus> {
        RequestStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What someone does to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The coordinator assigns (or reassigns) an officer.
    Assign,
    /// The requester signs the power of attorney.
    Authorize,
    /// The requester or the officer adds a progress note.
    Note,
    /// The officer finishes.
    Complete,
    /// The requester withdraws the request.
    Cancel,
    /// The requester rates the help, once.
    Rate,
}

impl Step {
    pub const ALL: [Step; 6] =
        [Step::Assign, Step::Authorize, Step::Note, Step::Complete, Step::Cancel, Step::Rate];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Assign => "assign",
            Step::Authorize => "authorize",
            Step::Note => "note",
            Step::Complete => "complete",
            Step::Cancel => "cancel",
            Step::Rate => "rate",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The state `step` leads to from `status` (`rated`: the help was already rated), or
/// `Err(status)` when it is not possible now.
pub fn next_status(status: RequestStatus, step: Step, rated: bool) -> Result<RequestStatus, RequestStatus> {
    use RequestStatus as S;
    match (status, step) {
        (S::Requested | S::Assigned, Step::Assign) => Ok(S::Assigned),
        (S::Assigned, Step::Authorize) => Ok(S::Authorized),
        (_, Step::Note) => Ok(status),
        (S::Authorized, Step::Complete) => Ok(S::Done),
        (S::Requested | S::Assigned | S::Authorized, Step::Cancel) => Ok(S::Cancelled),
        (S::Done, Step::Rate) if !rated => Ok(S::Done),
        _ => Err(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_follow_the_table() {
        use RequestStatus as S;
        assert_eq!(next_status(S::Requested, Step::Assign, false), Ok(S::Assigned));
        assert_eq!(next_status(S::Assigned, Step::Assign, false), Ok(S::Assigned));
        assert_eq!(next_status(S::Authorized, Step::Assign, false), Err(S::Authorized));
        assert_eq!(next_status(S::Requested, Step::Authorize, false), Err(S::Requested));
        assert_eq!(next_status(S::Assigned, Step::Authorize, false), Ok(S::Authorized));
        assert_eq!(next_status(S::Assigned, Step::Complete, false), Err(S::Assigned));
        assert_eq!(next_status(S::Authorized, Step::Complete, false), Ok(S::Done));
        assert_eq!(next_status(S::Authorized, Step::Cancel, false), Ok(S::Cancelled));
        assert_eq!(next_status(S::Done, Step::Cancel, false), Err(S::Done));
        assert_eq!(next_status(S::Done, Step::Rate, false), Ok(S::Done));
        assert_eq!(next_status(S::Done, Step::Rate, true), Err(S::Done), "rated once");
        assert_eq!(next_status(S::Authorized, Step::Rate, false), Err(S::Authorized));
        for s in RequestStatus::ALL {
            assert_eq!(next_status(s, Step::Note, false), Ok(s), "notes never move the state");
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
        }
        // Nothing but notes after the end.
        for step in Step::ALL.into_iter().filter(|s| *s != Step::Note) {
            assert!(next_status(S::Cancelled, step, false).is_err(), "{step:?}");
            assert_eq!(Step::parse(step.as_str()), Some(step));
        }
    }
}
