//! Audit storage: append inside the caller's transaction, checkpoint, verify.

use std::collections::HashMap;

use super::domain::{Break, Entry, GENESIS, NewEntry, checkpoint_hash, verify_stream};
use crate::store::{Db, Row, StoreResult, Tx, query};

/// Appends `entry` to its stream at `at` (stored time text, the change's own time). Call it with
/// the connection of the transaction that makes the change, so both commit or neither does.
pub fn append(conn: &mut dyn Tx, at: &str, entry: NewEntry) -> StoreResult<Entry> {
    // Create or bump the stream head in one statement. The row lock this takes on PostgreSQL makes
    // writers of one stream queue here while other streams go ahead in parallel. RETURNING gives
    // the new seq and the hash it still holds: the previous entry's (or GENESIS for a new stream).
    let head = query(
        "INSERT INTO audit_heads (stream, seq, hash, checkpointed_seq) VALUES ($1, 1, $2, 0) \
         ON CONFLICT (stream) DO UPDATE SET seq = audit_heads.seq + 1 RETURNING seq, hash",
    )
    .bind(&entry.stream)
    .bind(GENESIS)
    .fetch_one(&mut *conn)?;
    let seq: i64 = head.try_get("seq")?;
    let prev_hash: String = head.try_get("hash")?;
    let mut stored = Entry {
        stream: entry.stream,
        seq,
        at: at.to_string(),
        actor: entry.actor,
        action: entry.action,
        resource: entry.resource,
        summary: entry.summary,
        prev_hash,
        hash: String::new(),
    };
    stored.hash = stored.computed_hash();
    query(
        "INSERT INTO audit_log (stream, seq, at, actor, action, resource, summary, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&stored.stream)
    .bind(stored.seq)
    .bind(&stored.at)
    .bind(&stored.actor)
    .bind(&stored.action)
    .bind(&stored.resource)
    .bind(&stored.summary)
    .bind(&stored.prev_hash)
    .bind(&stored.hash)
    .execute(&mut *conn)?;
    // The `audit_head_follows` trigger (see the migrations) now sets the head's hash.
    Ok(stored)
}

/// Seals the heads of every stream that moved since the last checkpoint, signed with the
/// platform's audit key (see [`super::domain::signing_key`]). Returns the new checkpoint id, or
/// `None` when nothing moved.
pub async fn checkpoint(db: &Db, key: &crate::licences::proof::SigningKey) -> StoreResult<Option<i64>> {
    let at = db.now_text();
    let key = key.clone();
    db.write(move |conn| {

            let moved = query(
                "SELECT stream, seq, hash FROM audit_heads WHERE seq > checkpointed_seq ORDER BY stream",
            )
            .fetch_all(&mut *conn)?;
            if moved.is_empty() {
                return Ok(None);
            }
            let heads: Vec<(String, i64, String)> = moved
                .iter()
                .map(|r| Ok((r.try_get("stream")?, r.try_get("seq")?, r.try_get("hash")?)))
                .collect::<Result<_, sqlx::Error>>()?;
            let last = query("SELECT id, hash FROM audit_checkpoints ORDER BY id DESC LIMIT 1")
                .fetch_optional(&mut *conn)?;
            let (id, prev) = match last {
                Some(r) => (r.try_get::<i64, _>("id")? + 1, r.try_get::<String, _>("hash")?),
                None => (1, GENESIS.to_string()),
            };
            let hash = checkpoint_hash(&prev, id, &at, &heads);
            let signature = hex::encode(key.sign(&super::domain::signed_message(&hash)));
            query(
                "INSERT INTO audit_checkpoints (id, at, prev_hash, hash, streams, signature, key_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(&at)
            .bind(&prev)
            .bind(&hash)
            .bind(heads.len() as i64)
            .bind(&signature)
            .bind(key.public_key().to_multibase())
            .execute(&mut *conn)?;
            for (stream, seq, hash) in &heads {
                query(
                    "INSERT INTO audit_checkpoint_heads (checkpoint_id, stream, seq, hash) VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(stream)
                .bind(seq)
                .bind(hash)
                .execute(&mut *conn)?;
                query("UPDATE audit_heads SET checkpointed_seq = $1 WHERE stream = $2")
                    .bind(seq)
                    .bind(stream)
                    .execute(&mut *conn)?;
            }
            Ok(Some(id))

    })
    .await
}

/// A sealed checkpoint as published (`GET /api/v1/audit/checkpoints`): anyone may keep copies
/// and later check that the platform's log still leads to them.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PublishedCheckpoint {
    pub id: i64,
    pub at: String,
    pub hash: String,
    pub prev_hash: String,
    /// Stream heads sealed.
    pub streams: i64,
    /// SM2 signature (hex, r‖s) over `quanban audit checkpoint\0` followed by `hash`.
    pub signature: Option<String>,
    /// The signing key, as a Multikey (`publicKeyMultibase`).
    pub key_id: Option<String>,
}

/// The most recent checkpoints, newest first.
pub async fn recent_checkpoints(db: &Db, limit: i64) -> StoreResult<Vec<PublishedCheckpoint>> {
    let rows = query(
        "SELECT id, at, prev_hash, hash, streams, signature, key_id FROM audit_checkpoints ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .read_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PublishedCheckpoint {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                hash: r.try_get("hash")?,
                prev_hash: r.try_get("prev_hash")?,
                streams: r.try_get("streams")?,
                signature: r.try_get("signature")?,
                key_id: r.try_get("key_id")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Checks that every checkpoint is signed by one of `keys` (the operator's copy of the platform's
/// audit public key, kept outside the database). Run after [`verify`]: together they detect a
/// log rewritten and re-hashed by someone who could write the database but not sign.
pub async fn verify_signatures(
    db: &Db,
    keys: &[crate::licences::proof::PublicKey],
) -> anyhow::Result<Result<u64, Break>> {
    let rows = query("SELECT id, hash, signature FROM audit_checkpoints ORDER BY id").read_all(db).await?;
    let mut checked = 0;
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let hash: String = r.try_get("hash")?;
        let signature: Option<String> = r.try_get("signature")?;
        let message = super::domain::signed_message(&hash);
        let good = signature
            .and_then(|s| hex::decode(s).ok())
            .is_some_and(|sig| keys.iter().any(|k| k.verify(&message, &sig).is_ok()));
        if !good {
            return Ok(Err(Break::Signature { id }));
        }
        checked += 1;
    }
    Ok(Ok(checked))
}

/// What [`verify`] looked at.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub entries: u64,
    pub streams: u64,
    pub checkpoints: u64,
}

/// Recomputes every stream, its head, and every checkpoint. Returns the first break found.
pub async fn verify(db: &Db) -> anyhow::Result<Result<VerifyReport, Break>> {
    let mut report = VerifyReport::default();
    let rows = query(
        "SELECT stream, seq, at, actor, action, resource, summary, prev_hash, hash FROM audit_log \
         ORDER BY stream, seq",
    )
    .read_all(db)
    .await?;
    let mut last_hash: HashMap<String, (i64, String)> = HashMap::new();
    let mut current: Vec<Entry> = Vec::new();
    let mut entry_hashes: HashMap<(String, i64), String> = HashMap::new();
    for row in rows {
        let e = entry_from_row(&row)?;
        report.entries += 1;
        if current.first().is_some_and(|f| f.stream != e.stream)
            && let Err(b) = finish_stream(&mut current, &mut last_hash)
        {
            return Ok(Err(b));
        }
        entry_hashes.insert((e.stream.clone(), e.seq), e.hash.clone());
        current.push(e);
    }
    if let Err(b) = finish_stream(&mut current, &mut last_hash) {
        return Ok(Err(b));
    }
    report.streams = last_hash.len() as u64;

    // Every head must match the stream's last entry, and every stream must have a head.
    let heads = query("SELECT stream, seq, hash FROM audit_heads").read_all(db).await?;
    let mut seen = 0usize;
    for h in heads {
        let stream: String = h.try_get("stream")?;
        let seq: i64 = h.try_get("seq")?;
        let hash: String = h.try_get("hash")?;
        match last_hash.get(&stream) {
            Some((s, hh)) if *s == seq && *hh == hash => seen += 1,
            None if seq == 0 => {}
            _ => return Ok(Err(Break::Head { stream })),
        }
    }
    if seen != last_hash.len() {
        let stream = last_hash.keys().next().cloned().unwrap_or_default();
        return Ok(Err(Break::Head { stream }));
    }

    // Checkpoints chain to each other, and every head they sealed is still in the log unchanged.
    let checkpoints =
        query("SELECT id, at, prev_hash, hash FROM audit_checkpoints ORDER BY id").read_all(db).await?;
    let mut prev = GENESIS.to_string();
    for (i, c) in checkpoints.iter().enumerate() {
        let id: i64 = c.try_get("id")?;
        let at: String = c.try_get("at")?;
        let prev_hash: String = c.try_get("prev_hash")?;
        let hash: String = c.try_get("hash")?;
        if id != i as i64 + 1 || prev_hash != prev {
            return Ok(Err(Break::Checkpoint { id }));
        }
        let sealed = query(
            "SELECT stream, seq, hash FROM audit_checkpoint_heads WHERE checkpoint_id = $1 ORDER BY stream",
        )
        .bind(id)
        .read_all(db)
        .await?;
        let mut heads = Vec::with_capacity(sealed.len());
        for s in sealed {
            let stream: String = s.try_get("stream")?;
            let seq: i64 = s.try_get("seq")?;
            let h: String = s.try_get("hash")?;
            if entry_hashes.get(&(stream.clone(), seq)) != Some(&h) {
                return Ok(Err(Break::Checkpoint { id }));
            }
            heads.push((stream, seq, h));
        }
        if checkpoint_hash(&prev_hash, id, &at, &heads) != hash {
            return Ok(Err(Break::Checkpoint { id }));
        }
        prev = hash;
        report.checkpoints += 1;
    }
    Ok(Ok(report))
}

fn finish_stream(
    current: &mut Vec<Entry>,
    last_hash: &mut HashMap<String, (i64, String)>,
) -> Result<(), Break> {
    if let Some(last) = current.last() {
        verify_stream(current)?;
        last_hash.insert(last.stream.clone(), (last.seq, last.hash.clone()));
    }
    current.clear();
    Ok(())
}

/// The most recent entries of one stream, newest first (for the pages that show history).
pub async fn recent(db: &Db, stream: &str, limit: i64) -> StoreResult<Vec<Entry>> {
    let rows = query(
        "SELECT stream, seq, at, actor, action, resource, summary, prev_hash, hash FROM audit_log \
         WHERE stream = $1 ORDER BY seq DESC LIMIT $2",
    )
    .bind(stream)
    .bind(limit)
    .read_all(db)
    .await?;
    rows.iter().map(entry_from_row).collect::<Result<_, sqlx::Error>>().map_err(Into::into)
}

fn entry_from_row(row: &Row) -> Result<Entry, sqlx::Error> {
    Ok(Entry {
        stream: row.try_get("stream")?,
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        resource: row.try_get("resource")?,
        summary: row.try_get("summary")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}
