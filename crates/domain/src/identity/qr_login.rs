//! Signing in at a kiosk by scanning a QR code with the phone (扫码登录), without storage: what
//! each step may do to a request, decided from its state and the time. The person confirms on
//! the phone, where they are signed in already; the kiosk then takes the session. A request
//! lives two minutes and signs in once.

use chrono::{DateTime, Duration, Utc};

/// How long a QR code can be confirmed and used.
pub const LIFETIME: Duration = Duration::seconds(120);

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QrStatus {
    /// Shown on the kiosk, waiting for the phone.
    Pending,
    /// Confirmed on the phone: the kiosk may sign in.
    Approved,
    /// Refused on the phone.
    Cancelled,
    /// The kiosk signed in with it.
    Used,
}

impl QrStatus {
    pub fn parse(s: &str) -> Option<QrStatus> {
        Some(match s {
            "pending" => QrStatus::Pending,
            "approved" => QrStatus::Approved,
            "cancelled" => QrStatus::Cancelled,
            "used" => QrStatus::Used,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QrStatus::Pending => "pending",
            QrStatus::Approved => "approved",
            QrStatus::Cancelled => "cancelled",
            QrStatus::Used => "used",
        }
    }
}

/// A step taken on a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QrStep {
    /// The person confirms on the phone.
    Approve,
    /// The person refuses on the phone.
    Cancel,
    /// The kiosk signs in.
    SignIn,
}

/// Why a step is refused (nothing changes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QrRefusal {
    /// Older than [`LIFETIME`].
    Expired,
    /// Not possible from this status (confirmed, refused or used already; or not confirmed yet).
    NotNow(QrStatus),
}

/// The status after `step`, or why not.
pub fn next(
    status: QrStatus,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
    step: QrStep,
) -> Result<QrStatus, QrRefusal> {
    if now >= created_at + LIFETIME {
        return Err(QrRefusal::Expired);
    }
    match (status, step) {
        (QrStatus::Pending, QrStep::Approve) => Ok(QrStatus::Approved),
        (QrStatus::Pending | QrStatus::Approved, QrStep::Cancel) => Ok(QrStatus::Cancelled),
        (QrStatus::Approved, QrStep::SignIn) => Ok(QrStatus::Used),
        (other, _) => Err(QrRefusal::NotNow(other)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_request_is_confirmed_once_and_signs_in_once() {
        let made = at("2026-12-09T09:00:00+08:00");
        let soon = at("2026-12-09T09:01:00+08:00");
        let s = next(QrStatus::Pending, made, soon, QrStep::Approve).unwrap();
        assert_eq!(s, QrStatus::Approved);
        assert_eq!(next(s, made, soon, QrStep::Approve), Err(QrRefusal::NotNow(QrStatus::Approved)));
        let s = next(s, made, soon, QrStep::SignIn).unwrap();
        assert_eq!(s, QrStatus::Used);
        assert_eq!(next(s, made, soon, QrStep::SignIn), Err(QrRefusal::NotNow(QrStatus::Used)));
        // Not before the phone confirms; never after a refusal.
        assert_eq!(
            next(QrStatus::Pending, made, soon, QrStep::SignIn),
            Err(QrRefusal::NotNow(QrStatus::Pending))
        );
        assert_eq!(
            next(QrStatus::Cancelled, made, soon, QrStep::Approve),
            Err(QrRefusal::NotNow(QrStatus::Cancelled))
        );
    }

    #[test]
    fn two_minutes_and_it_is_gone() {
        let made = at("2026-12-09T09:00:00+08:00");
        assert!(next(QrStatus::Pending, made, at("2026-12-09T09:01:59+08:00"), QrStep::Approve).is_ok());
        assert_eq!(
            next(QrStatus::Pending, made, at("2026-12-09T09:02:00+08:00"), QrStep::Approve),
            Err(QrRefusal::Expired)
        );
        assert_eq!(
            next(QrStatus::Approved, made, at("2026-12-09T09:05:00+08:00"), QrStep::SignIn),
            Err(QrRefusal::Expired)
        );
        for s in ["pending", "approved", "cancelled", "used"] {
            assert_eq!(QrStatus::parse(s).unwrap().as_str(), s);
        }
    }
}
