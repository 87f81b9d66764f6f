//! Messages to people: the inbox (站内信) and the outbox that carries the same message by SMS
//! and e-mail. Every area that tells someone something writes it here, inside the transaction of
//! the change it reports, so that nothing is sent for a change that did not happen and nothing
//! acknowledged is lost (the dispatcher sends from the outbox after the commit).

use crate::identity::store::new_user_id;
use crate::platform::pii::Vault;
use crate::store::{StoreResult, Tx, query};

pub use quanban_domain::platform::messages::{Message, Reach};

/// The column the outbox keeps its recipients in; sealed for it, opened by the dispatcher.
pub const RECIPIENT_COLUMN: &str = "outbox.recipient";

/// A [`Reach`] as the outbox stores it: each non-empty address sealed for
/// [`RECIPIENT_COLUMN`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedReach {
    phone: String,
    email: String,
}

impl SealedReach {
    /// The addresses of `reach` sealed for the outbox (personal data is never stored in clear).
    pub fn new(reach: &Reach, vault: &Vault) -> SealedReach {
        let seal = |v: &str| if v.is_empty() { String::new() } else { vault.seal(v, RECIPIENT_COLUMN) };
        SealedReach { phone: seal(&reach.phone), email: seal(&reach.email) }
    }
}

/// Puts a message in the user's inbox (`subject`: the case or complaint number it links to) and,
/// when `reach` is given, queues an SMS and an e-mail in the outbox (addresses sealed).
///
/// `now` is the change's time; `order` puts messages written by one transaction in the order
/// they were made (a part's before its bundle's), in the stamp's microseconds.
pub fn notify(
    conn: &mut dyn Tx,
    now: &str,
    order: u32,
    user_id: &str,
    subject: Option<&str>,
    m: &Message,
    reach: Option<&SealedReach>,
) -> StoreResult<()> {
    let id = new_user_id();
    let stamp = format!("{}{:03}Z", now.trim_end_matches('Z'), order.min(999));
    query(
        "INSERT INTO notifications (id, user_id, case_number, title_zh, title_en, body_zh, body_en, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(subject)
    .bind(&m.title_zh)
    .bind(&m.title_en)
    .bind(&m.body_zh)
    .bind(&m.body_en)
    .bind(&stamp)
    .execute(&mut *conn)?;
    let Some(reach) = reach else { return Ok(()) };
    let sms = format!("【全办】{}。{}", m.title_zh, m.body_zh);
    let email = format!(
        "{}\n\n{}\n\n{}\n{}\n\n全办 · 济南市一体化政务服务平台",
        m.title_zh, m.body_zh, m.title_en, m.body_en
    );
    for (channel, to, body) in [("sms", &reach.phone, sms), ("email", &reach.email, email)] {
        if to.is_empty() {
            continue;
        }
        query(
            "INSERT INTO outbox (id, notification_id, channel, recipient, body, status, attempts, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6)",
        )
        .bind(new_user_id())
        .bind(&id)
        .bind(channel)
        .bind(to)
        .bind(body)
        .bind(now)
        .execute(&mut *conn)?;
    }
    Ok(())
}
