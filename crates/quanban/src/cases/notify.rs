//! The outbox dispatcher: messages are queued in the same transaction as the change they report
//! (so nothing is sent for a change that did not happen, and nothing acknowledged is lost), and a
//! background task hands them to a [`Sender`]. The real SMS gateway and mail server live outside
//! the platform; the default sender appends each message to a local file, one JSON object per
//! line, so that an operator (and the tests) can see exactly what would have gone out.

use std::io::Write;
use std::path::PathBuf;

use super::store::{self, OutboxMessage};
use crate::platform::clock::Clock;
use crate::store::Db;

/// Attempts before a message is marked failed.
pub const MAX_ATTEMPTS: i64 = 5;

/// Delivers one message (SMS or e-mail) or says why it could not.
pub trait Sender: Send + Sync {
    fn send(&self, message: &OutboxMessage) -> Result<(), String>;
}

/// Appends messages to a file (JSON lines): the working local implementation of the gateway.
pub struct FileSender {
    path: PathBuf,
    clock: Clock,
    lock: std::sync::Mutex<()>,
}

impl FileSender {
    pub fn new(path: PathBuf, clock: Clock) -> FileSender {
        FileSender { path, clock, lock: std::sync::Mutex::new(()) }
    }
}

impl Sender for FileSender {
    fn send(&self, m: &OutboxMessage) -> Result<(), String> {
        let _guard = self.lock.lock().map_err(|_| "sender lock poisoned".to_string())?;
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        let line = serde_json::json!({
            "id": m.id,
            "channel": m.channel,
            "to": m.recipient,
            "body": m.body,
            "sent_at": crate::store::time_text(self.clock.now()),
        });
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        writeln!(f, "{line}").map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// Sends what is pending once; returns (sent, failed attempts).
pub async fn dispatch_once(db: &Db, sender: &dyn Sender) -> anyhow::Result<(usize, usize)> {
    let pending = store::claim_outbox(db, 200).await?;
    let (mut sent, mut failed) = (0, 0);
    for m in pending {
        let result = sender.send(&m);
        match &result {
            Ok(()) => sent += 1,
            Err(e) => {
                failed += 1;
                tracing::warn!(outbox.id = %m.id, error = %e, "sending a message failed");
            }
        }
        store::record_delivery(db, &m.id, result.err(), MAX_ATTEMPTS).await?;
    }
    Ok((sent, failed))
}
